/* test-engine-run.c: background sync (spec §7, tests §9.3-§9.4): the run loop's timing
 * with a manual time source (no test waits for wall-clock time), failure re-arm,
 * Retry-After, status notifications, and the long-poll watch against BbServer.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <bbsync/bbsync.h>
#include <string.h>

#include "bb-protocol-types-private.h"
#include "bb-server.h"
#include "bb-sync-engine-private.h"
#include "bb-test-utils.h"

#define POLL_MS 20
#define MAX_MS 1000

typedef struct
{
  BbServer *server;
  BbClient *client;
  BbStore *store;
  BbSyncEngine *engine;
  BbValueBackend *backend;
  BbCollection *collection;
  BbTimeSource *time;
  guint started;
  guint finished;
  guint failed;
  guint uploaded;
  GPtrArray *notes; /* "property=value" in notify order */
} Fixture;

static void
on_started (BbSyncEngine *engine, gpointer user_data)
{
  ((Fixture *)user_data)->started++;
}

static void
on_finished (BbSyncEngine *engine, gpointer user_data)
{
  ((Fixture *)user_data)->finished++;
}

static void
on_failed (BbSyncEngine *engine, GError *error, gpointer user_data)
{
  ((Fixture *)user_data)->failed++;
}

static void
on_uploaded (BbSyncEngine *engine, const char *ns, const char *collection, const char *key,
             const char *item_id, gpointer user_data)
{
  ((Fixture *)user_data)->uploaded++;
}

/* Iterates the main context until @counter reaches @value; a hang guard of 20 s, not a
 * timing assertion. */
static void
wait_for_count (guint *counter, guint value)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  while (*counter < value)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
}

/* Waits until @n passes have ended, either way. */
static void
wait_for_passes (Fixture *f, guint n)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  while (f->finished + f->failed < n)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
}

static void
drain_main_context (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static Fixture *
fixture_new (BbServer *server, const char *label, gboolean manual_time)
{
  Fixture *f = g_new0 (Fixture, 1);
  g_autoptr (BbTestIdentity) identity = bb_test_identity_new (label);
  g_autoptr (GBytes) key = bb_test_repeat (0x33, 32);
  g_autoptr (GError) error = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (BbNamespace) ns = NULL;
  g_autoptr (BbCodec) codec = bb_codec_new_string ();

  f->server = g_object_ref (server);
  f->client = bb_client_new (bb_server_get_base_url (server), &error);
  g_assert_no_error (error);
  f->store = BB_STORE (bb_sqlite_store_new_sync (BB_SQLITE_STORE_IN_MEMORY, key, NULL, &error));
  g_assert_no_error (error);
  f->engine = bb_sync_engine_new (f->client, BB_IDENTITY (identity), f->store, &error);
  g_assert_no_error (error);
  bb_sync_engine_set_poll_interval (f->engine, POLL_MS);
  bb_sync_engine_set_max_poll_interval (f->engine, MAX_MS);
  bb_sync_engine_set_namespace_watch (f->engine, FALSE);
  if (manual_time)
    {
      f->time = bb_time_source_new_manual ();
      bb_sync_engine_set_time_source (f->engine, f->time);
    }
  f->notes = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (f->engine, "sync-started", G_CALLBACK (on_started), f);
  g_signal_connect (f->engine, "sync-finished", G_CALLBACK (on_finished), f);
  g_signal_connect (f->engine, "sync-failed", G_CALLBACK (on_failed), f);
  g_signal_connect (f->engine, "item-uploaded", G_CALLBACK (on_uploaded), f);

  BB_TEST_AWAIT (
      res, bb_sync_engine_default_namespace_async (f->engine, NULL, bb_test_got_result, &res));
  ns = bb_sync_engine_default_namespace_finish (f->engine, res, &error);
  g_assert_no_error (error);
  f->backend = bb_memory_value_backend_new ();
  bb_memory_value_backend_set_scope (BB_MEMORY_VALUE_BACKEND (f->backend),
                                     (const char *const[]){ "k", NULL });
  f->collection = bb_namespace_open_collection (ns, "labels", codec, f->backend, &error);
  g_assert_no_error (error);
  return f;
}

static void
fixture_free (Fixture *f)
{
  bb_sync_engine_close (f->engine);
  drain_main_context ();
  g_clear_object (&f->collection);
  g_clear_object (&f->engine);
  g_clear_object (&f->backend);
  g_clear_object (&f->store);
  g_clear_object (&f->client);
  g_clear_object (&f->server);
  g_clear_pointer (&f->time, bb_time_source_unref);
  g_ptr_array_unref (f->notes);
  g_free (f);
}

static BbServer *
server_new (void)
{
  g_autoptr (GError) error = NULL;
  BbServer *server = bb_server_new (":memory:", &error);

  g_assert_no_error (error);
  bb_server_set_watch_timeout (server, 500);
  g_assert_true (bb_server_listen (server, "127.0.0.1", 0, &error));
  return server;
}

static void
server_free (BbServer *server)
{
  bb_server_shutdown (server);
  g_object_unref (server);
  drain_main_context ();
}

/* The poll timer's delay from now, on the manual clock. */
static guint64
timer_delay (Fixture *f)
{
  guint64 due = bb_time_source_next_due (f->time);

  g_assert_cmpuint (due, !=, G_MAXUINT64);
  return due - bb_time_source_now (f->time);
}

/* Fires the poll timer and waits for the pass it starts. */
static void
fire_timer_and_wait (Fixture *f)
{
  guint before = f->finished + f->failed;

  bb_time_source_advance (f->time, timer_delay (f));
  wait_for_passes (f, before + 1);
}

/* §9.3 TestScheduleSyncCoalescesWakeups, and the start-up double pass (§7.3). */
static void
test_schedule_sync_coalesces (void)
{
  BbServer *server = server_new ();
  Fixture *f = fixture_new (server, "run-coalesce", TRUE);

  bb_time_source_set_random (f->time, 0);
  bb_sync_engine_schedule_sync (f->engine);
  bb_sync_engine_schedule_sync (f->engine);
  g_assert_true (bb_sync_engine_get_run (f->engine)->wake);
  g_assert_cmpint (bb_sync_engine_get_state (f->engine), ==, BB_SYNC_STATE_STOPPED);

  bb_sync_engine_start (f->engine);
  wait_for_count (&f->finished, 2);
  drain_main_context ();
  /* The initial pass, then one pass for both wake-ups, then the timer. */
  g_assert_cmpuint (f->started, ==, 2);
  g_assert_false (bb_sync_engine_get_run (f->engine)->wake);
  g_assert_cmpuint (timer_delay (f), ==, POLL_MS - POLL_MS / 10);
  g_assert_nonnull (bb_sync_engine_get_next_sync (f->engine));
  g_assert_cmpint (bb_sync_engine_get_state (f->engine), ==, BB_SYNC_STATE_IDLE);

  /* A wake-up during a pass gives exactly one more pass after it. */
  bb_time_source_advance (f->time, timer_delay (f));
  g_assert_true (bb_sync_engine_get_syncing (f->engine));
  bb_sync_engine_schedule_sync (f->engine);
  bb_sync_engine_schedule_sync (f->engine);
  wait_for_count (&f->finished, 4);
  drain_main_context ();
  g_assert_cmpuint (f->started, ==, 4);

  bb_sync_engine_stop (f->engine);
  g_assert_cmpint (bb_sync_engine_get_state (f->engine), ==, BB_SYNC_STATE_STOPPED);
  g_assert_null (bb_sync_engine_get_next_sync (f->engine));
  g_assert_cmpuint (bb_time_source_get_n_timers (f->time), ==, 0);
  fixture_free (f);
  server_free (server);
}

static void
login (Fixture *f)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;

  BB_TEST_AWAIT (res, bb_sync_engine_login_async (f->engine, NULL, bb_test_got_result, &res));
  g_assert_true (bb_sync_engine_login_finish (f->engine, res, &error));
  g_assert_no_error (error);
}

/* §9.3 TestRunLoginResetsFailureBackoff: failures double the delay (Poll 20 ms, Max 1 s:
 * 40, 80, 160 ms before jitter); a successful login brings it back to the poll interval
 * without a pass. */
static void
test_login_resets_backoff (void)
{
  BbServer *server = server_new ();
  Fixture *f = fixture_new (server, "run-backoff", TRUE);
  guint expected[] = { 40, 80, 160 };

  bb_time_source_set_random (f->time, 0);
  bb_server_set_error_rate (server, 1.0, 500);
  bb_sync_engine_start (f->engine);
  wait_for_passes (f, 1);
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      g_assert_cmpuint (f->failed, ==, i + 1);
      g_assert_cmpint (bb_sync_engine_get_state (f->engine), ==, BB_SYNC_STATE_BACKING_OFF);
      g_assert_nonnull (bb_sync_engine_get_last_error (f->engine));
      /* Jitter with a zero draw: d - d/10. */
      g_assert_cmpuint (timer_delay (f), ==, expected[i] - expected[i] / 10);
      if (i + 1 < G_N_ELEMENTS (expected))
        fire_timer_and_wait (f);
    }

  bb_server_set_error_rate (server, 0.0, 500);
  login (f);
  drain_main_context ();
  g_assert_cmpuint (f->started, ==, 3);
  g_assert_cmpuint (timer_delay (f), ==, POLL_MS - POLL_MS / 10);
  g_assert_cmpint (bb_sync_engine_get_state (f->engine), ==, BB_SYNC_STATE_IDLE);

  /* The next timed pass succeeds and clears the error. */
  fire_timer_and_wait (f);
  g_assert_cmpuint (f->finished, ==, 1);
  g_assert_null (bb_sync_engine_get_last_error (f->engine));
  g_assert_nonnull (bb_sync_engine_get_last_synced (f->engine));
  fixture_free (f);
  server_free (server);
}

/* Idle polling (spec §7.1): quiet timed passes slow down, Idle(Poll, Max, n / 3). */
static void
test_idle_polling (void)
{
  BbServer *server = server_new ();
  Fixture *f = fixture_new (server, "run-idle", TRUE);
  /* After quiet timed passes 1..7: n/3 = 0, 0, 1, 1, 1, 2, 2. */
  guint expected[] = { 20, 20, 40, 40, 40, 80, 80 };

  bb_time_source_set_random (f->time, 0);
  bb_sync_engine_start (f->engine);
  wait_for_passes (f, 1);
  g_object_set (f->engine, "idle-polling", TRUE, NULL); /* also schedules a pass */
  wait_for_passes (f, 2);
  drain_main_context ();
  g_assert_cmpuint (timer_delay (f), ==, POLL_MS - POLL_MS / 10);
  for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
    {
      fire_timer_and_wait (f);
      drain_main_context ();
      g_assert_cmpuint (timer_delay (f), ==, expected[i] - expected[i] / 10);
    }

  /* A wake-up resets the interval. */
  bb_sync_engine_schedule_sync (f->engine);
  wait_for_passes (f, 2 + G_N_ELEMENTS (expected) + 1);
  drain_main_context ();
  g_assert_cmpuint (timer_delay (f), ==, POLL_MS - POLL_MS / 10);
  g_assert_cmpuint (f->failed, ==, 0);
  fixture_free (f);
  server_free (server);
}

/* A failed upload is retried by the loop without a new local write or an app call. */
static void
test_failure_rearm (void)
{
  BbServer *server = server_new ();
  Fixture *f = fixture_new (server, "run-rearm", TRUE);

  bb_time_source_set_random (f->time, 0);
  g_assert_true (bb_value_backend_set_value (f->backend, "k", g_variant_new_string ("v"), NULL));
  bb_server_fail_next_requests (server, "PUT", "/v1/kv/", 3, 503);
  bb_sync_engine_start (f->engine);
  wait_for_passes (f, 1);
  for (guint i = 1; i < 3; i++)
    fire_timer_and_wait (f);
  g_assert_cmpuint (f->failed, ==, 3);
  g_assert_cmpuint (f->uploaded, ==, 0);
  g_assert_cmpuint (bb_sync_engine_get_pending_uploads (f->engine), ==, 1);

  fire_timer_and_wait (f);
  g_assert_cmpuint (f->uploaded, ==, 1);
  g_assert_cmpuint (f->finished, ==, 1);
  g_assert_cmpuint (bb_sync_engine_get_pending_uploads (f->engine), ==, 0);
  g_assert_cmpint (bb_sync_engine_get_state (f->engine), ==, BB_SYNC_STATE_IDLE);
  fixture_free (f);
  server_free (server);
}

/* A 503 with Retry-After: the next attempt waits at least that long. */
static void
test_retry_after (void)
{
  BbServer *server = server_new ();
  Fixture *f = fixture_new (server, "run-retry-after", TRUE);

  bb_time_source_set_random (f->time, 0);
  bb_server_set_retry_after (server, 30);
  bb_server_fail_next_requests (server, "GET", "/v1/namespaces/mine", 1, 503);
  bb_sync_engine_start (f->engine);
  wait_for_passes (f, 1);
  g_assert_cmpuint (f->failed, ==, 1);
  g_assert_cmpuint (timer_delay (f), >=, 30000);

  /* A login clears the server's wait as well as the backoff. */
  login (f);
  drain_main_context ();
  g_assert_cmpuint (timer_delay (f), ==, POLL_MS - POLL_MS / 10);
  fixture_free (f);
  server_free (server);
}

static void
on_notify (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  Fixture *f = user_data;
  g_auto (GValue) value = G_VALUE_INIT;
  g_autofree char *text = NULL;

  g_value_init (&value, pspec->value_type);
  g_object_get_property (object, pspec->name, &value);
  if (G_VALUE_HOLDS_BOXED (&value))
    text = g_strdup (g_value_get_boxed (&value) != NULL ? "set" : "null");
  else
    text = g_strdup_value_contents (&value);
  g_ptr_array_add (f->notes, g_strdup_printf ("%s=%s", pspec->name, text));
}

/* Status properties notify only on change, in a sensible order through a pass with an
 * upload, a download, and a failure. */
static void
test_status_notifications (void)
{
  BbServer *server = server_new ();
  Fixture *f = fixture_new (server, "run-status", TRUE);
  Fixture *other = fixture_new (server, "run-status", TRUE);
  const char *watched[]
      = { "state",           "syncing",        "last-synced",   "last-error",
          "pending-uploads", "conflict-count", "progress-done", "progress-total" };
  GHashTable *last = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  bb_time_source_set_random (f->time, 0);
  for (guint i = 0; i < G_N_ELEMENTS (watched); i++)
    {
      g_autofree char *detail = g_strdup_printf ("notify::%s", watched[i]);

      g_signal_connect (f->engine, detail, G_CALLBACK (on_notify), f);
    }
  /* A download (written by the other device) and an upload in the first pass. */
  bb_memory_value_backend_set_scope (BB_MEMORY_VALUE_BACKEND (f->backend),
                                     (const char *const[]){ "k", "remote", NULL });
  bb_memory_value_backend_set_scope (BB_MEMORY_VALUE_BACKEND (other->backend),
                                     (const char *const[]){ "k", "remote", NULL });
  g_assert_true (
      bb_value_backend_set_value (other->backend, "remote", g_variant_new_string ("r"), NULL));
  {
    g_autoptr (GAsyncResult) res = NULL;

    BB_TEST_AWAIT (res, bb_sync_engine_sync_async (other->engine, NULL, bb_test_got_result, &res));
    g_assert_true (bb_sync_engine_sync_finish (other->engine, res, NULL));
  }
  g_assert_true (bb_value_backend_set_value (f->backend, "k", g_variant_new_string ("v"), NULL));

  bb_sync_engine_start (f->engine);
  wait_for_passes (f, 1);
  drain_main_context ();
  g_assert_cmpuint (f->finished, ==, 1);

  /* Then a failing pass. */
  bb_server_set_error_rate (server, 1.0, 500);
  fire_timer_and_wait (f);
  drain_main_context ();
  g_assert_cmpuint (f->failed, ==, 1);

  for (guint i = 0; i < f->notes->len; i++)
    {
      const char *note = g_ptr_array_index (f->notes, i);
      g_autofree char *name = g_strndup (note, strchr (note, '=') - note);
      const char *previous = g_hash_table_lookup (last, name);

      g_test_message ("notify %u: %s", i, note);
      /* No notification without a change (boxed values aside: a new last-synced time). */
      if (previous != NULL && strcmp (name, "last-synced") != 0 && strcmp (name, "last-error") != 0)
        g_assert_cmpstr (previous, !=, note);
      g_hash_table_replace (last, g_steal_pointer (&name), g_strdup (note));
    }
  /* The expected highlights, in order. */
  {
    const char *sequence[] = { "syncing=TRUE",
                               "state=((BbSyncState) BB_SYNC_STATE_SYNCING)",
                               "progress-total=1",
                               "progress-done=1",
                               "progress-total=2",
                               "progress-done=2",
                               "last-synced=set",
                               "syncing=FALSE",
                               "state=((BbSyncState) BB_SYNC_STATE_IDLE)",
                               "syncing=TRUE",
                               "last-error=set",
                               "syncing=FALSE",
                               "state=((BbSyncState) BB_SYNC_STATE_BACKING_OFF)" };
    guint at = 0;

    for (guint i = 0; i < f->notes->len && at < G_N_ELEMENTS (sequence); i++)
      if (strcmp (g_ptr_array_index (f->notes, i), sequence[at]) == 0)
        at++;
    g_assert_cmpuint (at, ==, G_N_ELEMENTS (sequence));
  }
  g_assert_cmpuint (bb_sync_engine_get_pending_uploads (f->engine), ==, 0);
  g_hash_table_unref (last);
  bb_server_set_error_rate (server, 0.0, 500);
  fixture_free (other);
  fixture_free (f);
  server_free (server);
}

static void
record_count (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  GPtrArray *notes = user_data;
  guint value;

  g_object_get (object, pspec->name, &value, NULL);
  g_ptr_array_add (notes, g_strdup_printf ("%s=%u", pspec->name, value));
}

static void
sync_once (Fixture *f)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;

  BB_TEST_AWAIT (res, bb_sync_engine_sync_async (f->engine, NULL, bb_test_got_result, &res));
  g_assert_true (bb_sync_engine_sync_finish (f->engine, res, &error));
  g_assert_no_error (error);
}

/* conflict-count and pending-uploads through a conflict and its resolution: one notify
 * per change, none without. */
static void
test_conflict_status (void)
{
  BbServer *server = server_new ();
  Fixture *a = fixture_new (server, "run-conflict", TRUE);
  Fixture *b = fixture_new (server, "run-conflict", TRUE);
  g_autoptr (GPtrArray) notes = g_ptr_array_new_with_free_func (g_free);
  /* b queues its create (1), which meets a's upload and becomes a conflict (0, 1); the
   * resolution queues it again (1, 0); the next pass uploads it (0). */
  const char *expected[] = { "pending-uploads=1", "pending-uploads=0", "conflict-count=1",
                             "pending-uploads=1", "conflict-count=0",  "pending-uploads=0" };
  g_autoptr (GError) error = NULL;

  g_assert_true (bb_value_backend_set_value (a->backend, "k", g_variant_new_string ("a"), NULL));
  g_assert_true (bb_value_backend_set_value (b->backend, "k", g_variant_new_string ("b"), NULL));
  sync_once (a);
  g_signal_connect (b->engine, "notify::conflict-count", G_CALLBACK (record_count), notes);
  g_signal_connect (b->engine, "notify::pending-uploads", G_CALLBACK (record_count), notes);
  sync_once (b); /* the concurrent create becomes a conflict (default policy) */
  g_assert_cmpuint (bb_sync_engine_get_conflict_count (b->engine), ==, 1);
  g_assert_cmpuint (bb_sync_engine_get_pending_uploads (b->engine), ==, 0);
  g_assert_true (bb_collection_resolve_conflict (
      b->collection, "k", BB_CONFLICT_RESOLUTION_PREFER_LOCAL, NULL, &error));
  g_assert_no_error (error);
  sync_once (b);
  sync_once (b); /* nothing changes: no notify */
  g_assert_cmpuint (notes->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < notes->len; i++)
    g_assert_cmpstr (g_ptr_array_index (notes, i), ==, expected[i]);
  fixture_free (b);
  fixture_free (a);
  server_free (server);
}

/* stop() then start() while the first run's pass is in flight: the old pass, cancelled,
 * neither counts as a failure of the new run nor ends its pass early. */
static void
note_backing_off (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  if (bb_sync_engine_get_state (BB_SYNC_ENGINE (object)) == BB_SYNC_STATE_BACKING_OFF)
    *(gboolean *)user_data = TRUE;
}

static void
test_restart_during_pass (void)
{
  BbServer *server = server_new ();
  Fixture *f = fixture_new (server, "run-restart", TRUE);
  gboolean backed_off = FALSE;

  bb_time_source_set_random (f->time, 0);
  g_signal_connect (f->engine, "notify::state", G_CALLBACK (note_backing_off), &backed_off);
  bb_sync_engine_start (f->engine);
  g_assert_true (bb_sync_engine_get_syncing (f->engine));
  bb_sync_engine_stop (f->engine);
  bb_sync_engine_start (f->engine);
  /* The old pass ends first (cancelled); the new one is still running then, so no
   * timer may be armed yet. */
  bb_server_set_latency (server, 300); /* keeps the new pass running meanwhile */
  wait_for_count (&f->failed, 1);
  drain_main_context ();
  g_assert_true (bb_sync_engine_get_syncing (f->engine));
  g_assert_true (bb_sync_engine_get_run (f->engine)->in_pass);
  g_assert_cmpuint (bb_time_source_next_due (f->time), ==, G_MAXUINT64);
  wait_for_passes (f, 2);
  bb_server_set_latency (server, 0);
  drain_main_context ();
  g_assert_cmpuint (f->failed, ==, 1); /* the cancelled pass of the first run */
  g_assert_false (backed_off);
  g_assert_cmpuint (f->finished, ==, 1); /* the new run's pass */
  g_assert_cmpuint (bb_sync_engine_get_run (f->engine)->failures, ==, 0);
  g_assert_false (bb_sync_engine_get_run (f->engine)->in_pass);
  g_assert_cmpint (bb_sync_engine_get_state (f->engine), ==, BB_SYNC_STATE_IDLE);
  g_assert_cmpuint (timer_delay (f), ==, POLL_MS - POLL_MS / 10);
  fixture_free (f);
  server_free (server);
}

/* §9.4 TestNamespaceWatchNeedsSyncRejectsRollbackHead and the self-notification case. */
static void
test_watch_needs_sync (void)
{
  BbServer *server = server_new ();
  Fixture *f = fixture_new (server, "run-needs-sync", TRUE);
  g_autoptr (GPtrArray) list
      = g_ptr_array_new_with_free_func ((GDestroyNotify)bb_namespace_listing_unref);
  g_autoptr (BbNamespaceState) ns = NULL;
  g_autoptr (GError) error = NULL;
  BbNamespaceListing *info = bb_namespace_listing_new ();
  GListModel *namespaces = bb_sync_engine_get_namespaces (f->engine);
  g_autoptr (BbNamespace) handle = g_list_model_get_item (namespaces, 0);

  ns = bb_store_get_namespace (f->store, bb_sync_engine_get_key_id (f->engine),
                               bb_namespace_get_id (handle), &error);
  g_assert_no_error (error);
  bb_namespace_state_set_namespace_head (ns, 2);
  g_assert_true (bb_store_save_namespace (f->store, ns, NULL));
  info->namespace_id = g_strdup (bb_namespace_get_id (handle));
  info->kind = g_strdup ("default");
  g_ptr_array_add (list, info);

  info->head = 2; /* already seen */
  g_assert_false (bb_sync_run_namespaces_need_sync (f->engine, list, &error));
  g_assert_no_error (error);
  info->head = 3;
  g_assert_true (bb_sync_run_namespaces_need_sync (f->engine, list, &error));
  g_assert_no_error (error);
  info->head = 1;
  g_assert_false (bb_sync_run_namespaces_need_sync (f->engine, list, &error));
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_ROLLBACK);
  fixture_free (f);
  server_free (server);
}

/* The long-poll watch: a write by another device reaches this device's backend long
 * before the 5-minute poll (real time; only "before the poll" is asserted). */
static void
test_watch_delivers (void)
{
  BbServer *server = server_new ();
  Fixture *a = fixture_new (server, "run-watch", FALSE);
  Fixture *b = fixture_new (server, "run-watch", FALSE);
  g_autoptr (GAsyncResult) res = NULL;
  gint64 written;
  gint64 deadline;
  g_autoptr (GVariant) value = NULL;

  bb_sync_engine_set_poll_interval (a->engine, 5 * 60 * 1000);
  bb_sync_engine_set_namespace_watch (a->engine, TRUE);
  bb_sync_engine_start (a->engine);
  wait_for_passes (a, 1);

  g_assert_true (bb_value_backend_set_value (b->backend, "k", g_variant_new_string ("hi"), NULL));
  BB_TEST_AWAIT (res, bb_sync_engine_sync_async (b->engine, NULL, bb_test_got_result, &res));
  g_assert_true (bb_sync_engine_sync_finish (b->engine, res, NULL));
  written = g_get_monotonic_time ();

  deadline = written + 5 * 60 * G_USEC_PER_SEC;
  while ((value = bb_value_backend_get_value (a->backend, "k", NULL)) == NULL)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
  g_assert_cmpstr (g_variant_get_string (value, NULL), ==, "hi");
  g_test_message ("watch latency: %.1f ms", (g_get_monotonic_time () - written) / 1000.0);
  g_assert_cmpuint (a->started, ==, 2);

  fixture_free (b);
  fixture_free (a);
  server_free (server);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/run/schedule-sync-coalesces", test_schedule_sync_coalesces);
  g_test_add_func ("/run/login-resets-backoff", test_login_resets_backoff);
  g_test_add_func ("/run/idle-polling", test_idle_polling);
  g_test_add_func ("/run/failure-rearm", test_failure_rearm);
  g_test_add_func ("/run/retry-after", test_retry_after);
  g_test_add_func ("/run/status-notifications", test_status_notifications);
  g_test_add_func ("/run/conflict-status", test_conflict_status);
  g_test_add_func ("/run/restart-during-pass", test_restart_during_pass);
  g_test_add_func ("/run/watch-needs-sync", test_watch_needs_sync);
  g_test_add_func ("/run/watch-delivers", test_watch_delivers);

  return g_test_run ();
}
