/* test-engine-watch.c: the run loop and the long-poll namespace watch (spec §7.3-§7.5,
 * tests §9.3-§9.4) against a small SoupServer fake that holds every watch request until
 * the test answers it, and can hold the item map. Time is a manual clock: no test waits
 * for a delay of the engine; the only real-time waits are bounded "nothing happens"
 * windows and hang guards.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <bbsync/bbsync.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>

#include "bb-sync-engine-private.h"
#include "bb-test-utils.h"
#include "engine-fake-server.h"

/* The engine's wall clock for tokens: 2027-01-15T08:00:00Z. */
#define NOW_S G_GINT64_CONSTANT (1800000000)
#define HOUR_US (G_GINT64_CONSTANT (3600) * G_USEC_PER_SEC)
#define POLL_MS 200
#define MAX_MS 1000
#define WATCH_PATH "/v1/namespaces/watch"
#define LIST_PATH "/v1/namespaces/mine"

typedef struct
{
  FakeServer *server;
  char *map_path;
  BbStore *store; /* the engine's */
  BbSyncEngine *engine;
  BbTimeSource *time;
  char *ns_id;
  gint64 now;
  GPtrArray *held_watch; /* SoupServerMessage, paused, oldest first */
  GPtrArray *held_map;   /* SoupServerMessage, paused */
  gboolean hold_map;
  guint64 remote_head;
  guint started;
  guint finished;
  guint failed;
  guint watch_failed;
} F;

static char *
namespaces_json (F *f, guint64 head)
{
  return g_strdup_printf (
      "[{\"namespaceId\":\"%s\",\"kind\":\"default\",\"namespaceHead\":%" G_GUINT64_FORMAT "}]",
      f->ns_id, head);
}

static void
answer_map (F *f, SoupServerMessage *msg)
{
  g_autofree char *body = g_strdup_printf (
      "{\"namespaceId\":\"%s\",\"namespaceHead\":%" G_GUINT64_FORMAT ",\"items\":{}}", f->ns_id,
      f->remote_head);

  fake_respond (msg, 200, body);
}

/* A held message whose connection went away is no longer ours to answer. */
static void
held_gone (SoupServerMessage *msg, gpointer user_data)
{
  F *f = user_data;

  g_signal_handlers_disconnect_by_data (msg, f);
  if (!g_ptr_array_remove (f->held_watch, msg))
    g_ptr_array_remove (f->held_map, msg);
}

static void
hold (F *f, GPtrArray *held, SoupServerMessage *msg)
{
  g_ptr_array_add (held, g_object_ref (msg));
  g_signal_connect (msg, "disconnected", G_CALLBACK (held_gone), f);
  g_signal_connect (msg, "finished", G_CALLBACK (held_gone), f);
  soup_server_message_pause (msg);
}

static SoupServerMessage *
take_held (F *f, GPtrArray *held)
{
  SoupServerMessage *msg;

  g_assert_cmpuint (held->len, >, 0);
  msg = g_ptr_array_steal_index (held, 0);
  g_signal_handlers_disconnect_by_data (msg, f);
  return msg;
}

static void
fake_handler (SoupServerMessage *msg, FakeRequest *req, gpointer user_data)
{
  F *f = user_data;
  const char *path = req->path;

  if (strcmp (req->method, "GET") == 0 && strcmp (path, LIST_PATH) == 0)
    {
      g_autofree char *list = namespaces_json (f, f->remote_head);
      g_autofree char *answer = g_strdup_printf ("{\"namespaces\":%s}", list);

      fake_respond (msg, 200, answer);
    }
  else if (strcmp (req->method, "GET") == 0 && strcmp (path, f->map_path) == 0)
    {
      if (f->hold_map)
        hold (f, f->held_map, msg);
      else
        answer_map (f, msg);
    }
  else if (strcmp (req->method, "POST") == 0 && strcmp (path, WATCH_PATH) == 0)
    hold (f, f->held_watch, msg); /* a long poll: the test answers it */
  else
    fake_respond_error (msg, 404);
}

static void
on_started (BbSyncEngine *engine, gpointer user_data)
{
  ((F *)user_data)->started++;
}

static void
on_finished (BbSyncEngine *engine, gpointer user_data)
{
  ((F *)user_data)->finished++;
}

static void
on_failed (BbSyncEngine *engine, GError *error, gpointer user_data)
{
  g_test_message ("sync-failed: %s", error->message);
  ((F *)user_data)->failed++;
}

static void
on_watch_failed (BbSyncEngine *engine, GError *error, gpointer user_data)
{
  g_assert_nonnull (error);
  g_test_message ("namespace-watch-failed: %s", error->message);
  ((F *)user_data)->watch_failed++;
}

/* newTestEngine (spec §9.0) with background sync's settings: a manual clock (random draws
 * 0), Poll 200 ms, Max 1 s, the watch on, a valid token and the seeded namespace as the
 * identity's default namespace (so a login succeeds from the cache). */
static F *
f_new (void)
{
  F *f = g_new0 (F, 1);
  g_autoptr (GBytes) ns_raw = fake_random_bytes (16);
  g_autoptr (GBytes) dek = fake_random_bytes (32);
  g_autoptr (BbNamespace) handle G_GNUC_UNUSED = NULL;

  f->held_watch = g_ptr_array_new_with_free_func (g_object_unref);
  f->held_map = g_ptr_array_new_with_free_func (g_object_unref);
  f->now = NOW_S * G_USEC_PER_SEC;
  f->ns_id = bb_protocol_hex_encode (ns_raw);
  f->map_path = g_strdup_printf ("/v1/namespaces/%s/items", f->ns_id);

  f->server = fake_server_new (fake_handler, f);
  f->engine = fake_engine_new (f->server, &f->now);
  f->store = bb_sync_engine_get_store (f->engine);
  bb_sync_engine_set_poll_interval (f->engine, POLL_MS);
  bb_sync_engine_set_max_poll_interval (f->engine, MAX_MS);
  bb_sync_engine_set_namespace_watch (f->engine, TRUE);
  f->time = bb_time_source_new_manual ();
  bb_time_source_set_random (f->time, 0);
  bb_sync_engine_set_time_source (f->engine, f->time);

  handle = fake_engine_seed_namespace (f->engine, f->ns_id, "default", dek, 100 * G_USEC_PER_SEC);
  fake_engine_save_token (f->engine, "test-token", f->now + 48 * HOUR_US, f->ns_id);

  g_signal_connect (f->engine, "sync-started", G_CALLBACK (on_started), f);
  g_signal_connect (f->engine, "sync-finished", G_CALLBACK (on_finished), f);
  g_signal_connect (f->engine, "sync-failed", G_CALLBACK (on_failed), f);
  g_signal_connect (f->engine, "namespace-watch-failed", G_CALLBACK (on_watch_failed), f);
  return f;
}

static void
answer_all_held (F *f, GPtrArray *held)
{
  while (held->len > 0)
    {
      g_autoptr (SoupServerMessage) msg = take_held (f, held);

      fake_respond_error (msg, 503);
      soup_server_message_unpause (msg);
    }
}

static void
f_free (F *f)
{
  bb_sync_engine_close (f->engine);
  answer_all_held (f, f->held_watch);
  answer_all_held (f, f->held_map);
  g_clear_object (&f->engine);
  fake_server_free (f->server);
  g_clear_pointer (&f->time, bb_time_source_unref);
  g_ptr_array_unref (f->held_watch);
  g_ptr_array_unref (f->held_map);
  g_free (f->map_path);
  g_free (f->ns_id);
  g_free (f);
}

static BbSyncRun *
run_of (F *f)
{
  return bb_sync_engine_get_run (f->engine);
}

static guint
n_watch (F *f)
{
  return fake_server_count (f->server, "POST", WATCH_PATH);
}

static guint
n_list (F *f)
{
  return fake_server_count (f->server, "GET", LIST_PATH);
}

static guint
n_map (F *f)
{
  return fake_server_count (f->server, "GET", f->map_path);
}

/* The knownHeads[ns] of the @n-th (1-based) watch request. */
static gint64
watch_known_head (F *f, guint n)
{
  guint seen = 0;

  for (guint i = 0; i < f->server->requests->len; i++)
    {
      FakeRequest *req = g_ptr_array_index (f->server->requests, i);
      g_autoptr (JsonParser) parser = NULL;
      g_autoptr (GError) error = NULL;
      JsonObject *heads;

      if (strcmp (req->path, WATCH_PATH) != 0 || ++seen != n)
        continue;
      parser = json_parser_new ();
      json_parser_load_from_data (parser, req->body, -1, &error);
      g_assert_no_error (error);
      heads = json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)),
                                             "knownHeads");
      g_assert_nonnull (heads);
      g_assert_cmpuint (json_object_get_size (heads), ==, 1);
      return json_object_get_int_member (heads, f->ns_id);
    }
  g_assert_not_reached ();
}

static gboolean
tick (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/* Iterates the main context until @cond holds; a 20 s hang guard, not a timing assertion
 * (a periodic wake-up keeps the guard checked). */
#define WAIT_FOR(cond)                                                                             \
  G_STMT_START                                                                                     \
  {                                                                                                \
    gint64 _deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;                              \
    guint _tick = g_timeout_add (50, tick, NULL);                                                  \
                                                                                                   \
    while (!(cond))                                                                                \
      {                                                                                            \
        g_assert_cmpint (g_get_monotonic_time (), <, _deadline);                                   \
        g_main_context_iteration (NULL, TRUE);                                                     \
      }                                                                                            \
    g_source_remove (_tick);                                                                       \
  }                                                                                                \
  G_STMT_END

static gboolean
set_flag (gpointer user_data)
{
  *(gboolean *)user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Lets the main context run for a bounded @ms of real time, so that requests that are
 * going to be sent have every chance to arrive. Nothing is asserted about its length. */
static void
settle (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, set_flag, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

/* @n passes have ended and the run loop has taken their results. */
static gboolean
passes_done (F *f, guint n)
{
  return f->finished + f->failed >= n && !bb_sync_engine_get_run (f->engine)->in_pass;
}

static void
answer_watch (F *f, guint status, const char *body)
{
  g_autoptr (SoupServerMessage) msg = take_held (f, f->held_watch);

  if (body != NULL)
    fake_respond (msg, status, body);
  else
    fake_respond_error (msg, status);
  soup_server_message_unpause (msg);
}

/* The watch reports @head for the seeded namespace, not timed out. */
static void
answer_watch_head (F *f, guint64 head)
{
  g_autofree char *list = namespaces_json (f, head);
  g_autofree char *body = g_strdup_printf ("{\"namespaces\":%s,\"timedOut\":false}", list);

  answer_watch (f, 200, body);
}

static void
answer_watch_timed_out (F *f)
{
  answer_watch (f, 200, "{\"namespaces\":[],\"timedOut\":true}");
}

static void
release_map (F *f)
{
  g_autoptr (SoupServerMessage) msg = take_held (f, f->held_map);

  answer_map (f, msg);
  soup_server_message_unpause (msg);
}

/* setTestNamespaceHead */
static void
set_ns_head (F *f, guint64 head)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BbNamespaceState) ns
      = bb_store_get_namespace (f->store, bb_sync_engine_get_key_id (f->engine), f->ns_id, &error);

  g_assert_no_error (error);
  bb_namespace_state_set_namespace_head (ns, head);
  g_assert_true (bb_store_save_namespace (f->store, ns, &error));
  g_assert_no_error (error);
}

static guint64
ns_head (F *f)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BbNamespaceState) ns
      = bb_store_get_namespace (f->store, bb_sync_engine_get_key_id (f->engine), f->ns_id, &error);

  g_assert_no_error (error);
  return bb_namespace_state_get_namespace_head (ns);
}

/* Starts background sync and waits for the initial pass and the first long poll. */
static void
start (F *f)
{
  bb_sync_engine_start (f->engine);
  WAIT_FOR (passes_done (f, 1) && f->held_watch->len == 1);
  g_assert_cmpuint (f->finished, ==, 1);
  g_assert_cmpuint (n_list (f), ==, 1);
  g_assert_cmpuint (n_watch (f), ==, 1);
}

static void
login (F *f)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;

  BB_TEST_AWAIT (res, bb_sync_engine_login_async (f->engine, NULL, bb_test_got_result, &res));
  g_assert_true (bb_sync_engine_login_finish (f->engine, res, &error));
  g_assert_no_error (error);
}

/* Fires the run loop's timers (the poll timer and the watch's sleep) up to @ms from now. */
static void
advance (F *f, guint64 ms)
{
  bb_time_source_advance (f->time, ms);
}

/* §9.3 TestRunSyncsAfterNamespaceWatchChange: the first watch (known head 0) reports head
 * 1; Run's triggered pass fetches the item map; the next watch carries head 1. */
static void
test_syncs_after_watch_change (void)
{
  F *f = f_new ();

  start (f);
  g_assert_cmpint (watch_known_head (f, 1), ==, 0);
  g_assert_cmpuint (n_map (f), ==, 0); /* heads equal at start: no item map */

  f->remote_head = 1;
  answer_watch_head (f, 1);
  WAIT_FOR (passes_done (f, 2) && f->held_watch->len == 1);
  g_assert_cmpuint (f->finished, ==, 2);
  g_assert_cmpuint (n_map (f), ==, 1);
  g_assert_cmpuint (n_list (f), ==, 2);
  g_assert_cmpuint (ns_head (f), ==, 1);
  g_assert_cmpuint (n_watch (f), ==, 2);
  g_assert_cmpint (watch_known_head (f, 2), ==, 1);
  g_assert_cmpuint (f->watch_failed, ==, 0);
  f_free (f);
}

/* §9.3 TestRunNamespaceWatchWaitsForTriggeredSyncBeforeRewatch: while the triggered pass's
 * item-map request blocks, no second watch request is sent; once released, the list has
 * been called exactly twice, the pass re-armed the poll timer, and the next watch
 * follows with the new head. */
static void
test_waits_for_triggered_sync_before_rewatch (void)
{
  F *f = f_new ();

  start (f);
  f->remote_head = 1;
  f->hold_map = TRUE;
  answer_watch_head (f, 1);
  WAIT_FOR (f->held_map->len == 1);
  g_assert_true (run_of (f)->in_pass);
  g_assert_nonnull (run_of (f)->watch_request);

  settle (150);
  g_assert_cmpuint (n_watch (f), ==, 1);
  g_assert_cmpuint (f->held_watch->len, ==, 0);
  g_assert_true (run_of (f)->in_pass);

  release_map (f);
  WAIT_FOR (passes_done (f, 2));
  g_assert_cmpuint (f->finished, ==, 2);
  g_assert_cmpuint (n_list (f), ==, 2);
  g_assert_null (run_of (f)->watch_request);
  /* The triggered pass re-armed the poll timer: Jitter(Poll) with a zero draw. */
  g_assert_cmpuint (bb_time_source_next_due (f->time) - bb_time_source_now (f->time), ==,
                    POLL_MS - POLL_MS / 10);
  WAIT_FOR (f->held_watch->len == 1);
  g_assert_cmpuint (n_watch (f), ==, 2);
  g_assert_cmpint (watch_known_head (f, 2), ==, 1);
  g_assert_cmpuint (n_list (f), ==, 2);
  f_free (f);
}

/* §9.4 TestWatchNamespacesOnceSkipsAlreadyObservedSelfNotification: local head 1, the watch
 * reports head 1 without timing out: no pass, and a new watch request at once. */
static void
test_skips_already_observed_self_notification (void)
{
  F *f = f_new ();

  set_ns_head (f, 1);
  f->remote_head = 1;
  start (f);
  g_assert_cmpint (watch_known_head (f, 1), ==, 1);

  answer_watch_head (f, 1);
  WAIT_FOR (f->held_watch->len == 1);
  g_assert_cmpuint (n_watch (f), ==, 2);
  g_assert_cmpint (watch_known_head (f, 2), ==, 1);
  settle (50);
  g_assert_cmpuint (f->started, ==, 1);
  g_assert_cmpuint (n_list (f), ==, 1);
  g_assert_cmpuint (n_map (f), ==, 0);
  g_assert_null (run_of (f)->watch_request);
  g_assert_cmpuint (f->watch_failed, ==, 0);
  f_free (f);
}

/* §9.4 TestNamespaceWatchLoginReconnectsAfterBackoff: the first watch fails with 500 and
 * the watch sleeps Jitter(Backoff(200, 1000, 1)) = 360 ms; a successful login ends the
 * sleep: the watch reconnects without the clock moving, its failures forgotten. */
static void
test_login_reconnects_after_backoff (void)
{
  F *f = f_new ();
  guint64 before;

  start (f);
  answer_watch (f, 500, NULL);
  WAIT_FOR (f->watch_failed == 1);
  g_assert_true (run_of (f)->watch_sleeping);
  g_assert_cmpuint (run_of (f)->watch_failures, ==, 1);
  /* The poll timer (180 ms) and the watch's sleep. */
  g_assert_cmpuint (bb_time_source_get_n_timers (f->time), ==, 2);

  before = bb_time_source_now (f->time);
  login (f);
  g_assert_false (run_of (f)->watch_sleeping);
  g_assert_cmpuint (run_of (f)->watch_failures, ==, 0);
  g_assert_false (run_of (f)->login_for_watch);
  WAIT_FOR (f->held_watch->len == 1);
  g_assert_cmpuint (n_watch (f), ==, 2);
  g_assert_cmpuint (bb_time_source_now (f->time), ==, before);
  g_assert_cmpuint (bb_time_source_get_n_timers (f->time), ==, 1);
  /* No pass for the login. */
  g_assert_cmpuint (f->started, ==, 1);
  f_free (f);
}

/* §9.4 TestRunSkipsQueuedWatchSyncForAlreadyObservedHeads, adapted: a watch report that
 * arrives while a pass runs is rechecked against the heads that pass left; they are
 * already observed, so no extra pass runs and the watch reconnects. */
static void
test_skips_queued_watch_sync_for_observed_heads (void)
{
  F *f = f_new ();

  f->remote_head = 1;
  f->hold_map = TRUE;
  bb_sync_engine_start (f->engine);
  WAIT_FOR (f->held_map->len == 1 && f->held_watch->len == 1);
  g_assert_cmpint (watch_known_head (f, 1), ==, 0);

  /* The watch reports head 1 while the initial pass is still at head 0. */
  answer_watch_head (f, 1);
  WAIT_FOR (run_of (f)->watch_request != NULL);
  g_assert_true (run_of (f)->in_pass);

  release_map (f);
  WAIT_FOR (passes_done (f, 1) && f->held_watch->len == 1);
  g_assert_cmpuint (f->finished, ==, 1);
  g_assert_cmpuint (ns_head (f), ==, 1);
  g_assert_cmpint (watch_known_head (f, 2), ==, 1);
  settle (50);
  g_assert_cmpuint (f->started, ==, 1);
  g_assert_cmpuint (n_list (f), ==, 1);
  g_assert_null (run_of (f)->watch_request);
  g_assert_false (run_of (f)->in_pass);
  g_assert_cmpuint (f->watch_failed, ==, 0);

  /* The contrary case: a report ahead of what the running pass reaches gets a pass. */
  f->remote_head = 2;
  f->hold_map = TRUE;
  bb_sync_engine_schedule_sync (f->engine);
  WAIT_FOR (f->held_map->len == 1);
  answer_watch_head (f, 3);
  WAIT_FOR (run_of (f)->watch_request != NULL);
  f->hold_map = FALSE;
  release_map (f); /* the scheduled pass reaches head 2 only */
  f->remote_head = 3;
  WAIT_FOR (passes_done (f, 3) && f->held_watch->len == 1);
  g_assert_cmpuint (f->finished, ==, 3);
  g_assert_cmpuint (ns_head (f), ==, 3);
  g_assert_cmpint (watch_known_head (f, 3), ==, 3);
  g_assert_cmpuint (f->watch_failed, ==, 0);
  f_free (f);
}

/* Spec §7.4: 404, 405 and 501 mean no watch support: the watch stops silently for this
 * run (no namespace-watch-failed, no sleep, no new request) and polling goes on. */
static void
test_stops_silently_without_watch_support (void)
{
  const guint statuses[] = { 404, 405, 501 };

  for (guint i = 0; i < G_N_ELEMENTS (statuses); i++)
    {
      F *f = f_new ();

      g_test_message ("watch status %u", statuses[i]);
      start (f);
      answer_watch (f, statuses[i], NULL);
      WAIT_FOR (!run_of (f)->watching);
      settle (50);
      g_assert_cmpuint (f->watch_failed, ==, 0);
      g_assert_cmpuint (n_watch (f), ==, 1);
      g_assert_false (run_of (f)->watch_sleeping);
      g_assert_cmpuint (run_of (f)->watch_timer, ==, 0);
      g_assert_cmpuint (bb_time_source_get_n_timers (f->time), ==, 1); /* the poll timer */

      /* Polling goes on, and a login does not bring the watch back. */
      advance (f, POLL_MS - POLL_MS / 10);
      WAIT_FOR (passes_done (f, 2));
      g_assert_cmpuint (f->finished, ==, 2);
      g_assert_cmpuint (n_list (f), ==, 2);
      login (f);
      settle (50);
      g_assert_cmpuint (n_watch (f), ==, 1);
      g_assert_cmpuint (f->watch_failed, ==, 0);
      g_assert_cmpint (bb_sync_engine_get_state (f->engine), ==, BB_SYNC_STATE_IDLE);
      f_free (f);
    }
}

/* Waits until the watch sleeps after a failure, then checks that it sleeps exactly
 * @delay ms of the manual clock and then reconnects. The poll timer may fire meanwhile. */
static void
assert_watch_sleeps (F *f, guint64 delay)
{
  guint watches = n_watch (f);

  g_assert_true (run_of (f)->watch_sleeping);
  g_assert_cmpuint (run_of (f)->watch_timer, !=, 0);
  advance (f, delay - 1);
  g_assert_true (run_of (f)->watch_sleeping);
  advance (f, 1);
  g_assert_false (run_of (f)->watch_sleeping);
  WAIT_FOR (f->held_watch->len == 1);
  g_assert_cmpuint (n_watch (f), ==, watches + 1);
}

/* Spec §7.4: each watch failure emits namespace-watch-failed and sleeps
 * Jitter(Backoff(Poll, Max, failures)): 400, 800, 1000, 1000 ms before jitter; with a
 * zero draw d - d/10, with the largest draw d + d/10. A good answer resets the count. */
static void
test_failure_backoff (void)
{
  F *f = f_new ();
  const guint64 backoff[] = { 400, 800, 1000, 1000 };

  start (f);
  for (guint i = 0; i < G_N_ELEMENTS (backoff); i++)
    {
      answer_watch (f, i % 2 == 0 ? 500 : 503, NULL);
      WAIT_FOR (f->watch_failed == i + 1);
      g_assert_cmpuint (run_of (f)->watch_failures, ==, i + 1);
      assert_watch_sleeps (f, backoff[i] - backoff[i] / 10);
    }

  /* An answer the engine rejects counts as a failure too. */
  bb_time_source_set_random (f->time, G_MAXUINT64);
  answer_watch (f, 200, "{\"namespaces\":[],\"timedOut\":false}");
  WAIT_FOR (f->watch_failed == G_N_ELEMENTS (backoff) + 1);
  g_assert_cmpuint (run_of (f)->watch_failures, ==, G_N_ELEMENTS (backoff) + 1);
  assert_watch_sleeps (f, MAX_MS + MAX_MS / 10);

  /* A good answer forgets the failures: the next failure sleeps Backoff(…, 1) again. */
  bb_time_source_set_random (f->time, 0);
  set_ns_head (f, 0);
  answer_watch_head (f, 0);
  WAIT_FOR (n_watch (f) == G_N_ELEMENTS (backoff) + 3);
  g_assert_cmpuint (run_of (f)->watch_failures, ==, 0);
  WAIT_FOR (f->held_watch->len == 1);
  answer_watch (f, 500, NULL);
  WAIT_FOR (f->watch_failed == G_N_ELEMENTS (backoff) + 2);
  g_assert_cmpuint (run_of (f)->watch_failures, ==, 1);
  assert_watch_sleeps (f, 360);

  /* Passes were never disturbed by the watch's failures. */
  g_assert_cmpuint (f->failed, ==, 0);
  f_free (f);
}

/* Spec §7.4: a quiet (timed-out) long poll reconnects after a uniform random delay in
 * [0, 5000] ms; a login during the long poll cuts that delay short. */
static void
test_quiet_watch_reconnects_after_random_delay (void)
{
  F *f = f_new ();

  start (f);

  bb_time_source_set_random (f->time, 1234);
  answer_watch_timed_out (f);
  WAIT_FOR (run_of (f)->watch_sleeping);
  assert_watch_sleeps (f, 1234);

  /* The upper bound is inclusive. */
  bb_time_source_set_random (f->time, G_MAXUINT64);
  answer_watch_timed_out (f);
  WAIT_FOR (run_of (f)->watch_sleeping);
  assert_watch_sleeps (f, 5000);

  /* A zero draw: the timer is due at once. */
  bb_time_source_set_random (f->time, 0);
  answer_watch_timed_out (f);
  WAIT_FOR (run_of (f)->watch_sleeping);
  advance (f, 0);
  g_assert_false (run_of (f)->watch_sleeping);
  WAIT_FOR (f->held_watch->len == 1);

  /* A login while the long poll is open leaves its flag; the next sleep is skipped. */
  bb_time_source_set_random (f->time, 5000);
  login (f);
  g_assert_true (run_of (f)->login_for_watch);
  answer_watch_timed_out (f);
  WAIT_FOR (f->held_watch->len == 1);
  g_assert_false (run_of (f)->watch_sleeping);
  g_assert_false (run_of (f)->login_for_watch);

  g_assert_cmpuint (n_watch (f), ==, 5);
  g_assert_cmpuint (f->watch_failed, ==, 0);
  g_assert_cmpuint (f->failed, ==, 0);
  g_assert_cmpuint (n_map (f), ==, 0);
  f_free (f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  /* §9.3 */
  g_test_add_func ("/engine-watch/run/syncs-after-watch-change", test_syncs_after_watch_change);
  g_test_add_func ("/engine-watch/run/waits-for-triggered-sync-before-rewatch",
                   test_waits_for_triggered_sync_before_rewatch);
  /* §9.4 */
  g_test_add_func ("/engine-watch/watch/skips-already-observed-self-notification",
                   test_skips_already_observed_self_notification);
  g_test_add_func ("/engine-watch/watch/login-reconnects-after-backoff",
                   test_login_reconnects_after_backoff);
  g_test_add_func ("/engine-watch/watch/skips-queued-watch-sync-for-observed-heads",
                   test_skips_queued_watch_sync_for_observed_heads);
  /* §7.4 */
  g_test_add_func ("/engine-watch/watch/stops-silently-without-watch-support",
                   test_stops_silently_without_watch_support);
  g_test_add_func ("/engine-watch/watch/failure-backoff", test_failure_backoff);
  g_test_add_func ("/engine-watch/watch/quiet-reconnects-after-random-delay",
                   test_quiet_watch_reconnects_after_random_delay);

  return g_test_run ();
}
