/* bb-sync-run.c: background sync: the run loop and the namespace watch (spec §7)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-i18n-private.h"

#include "bb-client-private.h"
#include "bb-error.h"
#include "bb-sync-engine-private.h"

/* The reference runs a loop that waits on several channels at once. Here everything is
 * a callback on the engine's main context: a pass's completion, the poll timer, a
 * wake-up (schedule_sync), a login, and the watch's request for a pass. The run loop's
 * own state lives in BbSyncRun; its clock and timers come from a BbTimeSource, which
 * tests replace so they drive time instead of waiting for it. */

struct _BbWatchRequest
{
  GPtrArray *namespaces; /* BbNamespaceListing */
  gboolean served;       /* the running pass answers it */
};

static void run_pass (BbSyncEngine *self, gboolean reset_on_success);
static void watch_once (BbSyncEngine *self);
static void watch_request_done (BbSyncEngine *self, GError *error);
static void watch_begin (BbSyncEngine *self);
static void watch_end (BbSyncEngine *self);
static void monitors_connect (BbSyncEngine *self);
static void monitors_disconnect (BbSyncEngine *self);

static void
watch_request_free (BbWatchRequest *request)
{
  g_ptr_array_unref (request->namespaces);
  g_free (request);
}

void
bb_sync_run_clear (BbSyncRun *run)
{
  g_clear_object (&run->cancellable);
  g_clear_object (&run->watch_cancellable);
  g_clear_pointer (&run->watch_request, watch_request_free);
  if (run->time != NULL)
    {
      bb_time_source_remove_timer (run->time, run->timer);
      bb_time_source_remove_timer (run->time, run->watch_timer);
      run->timer = run->watch_timer = 0;
    }
  g_clear_pointer (&run->time, bb_time_source_unref);
}

void
bb_sync_engine_set_time_source (BbSyncEngine *self, BbTimeSource *source)
{
  BbSyncRun *run = bb_sync_engine_get_run (self);

  g_return_if_fail (!run->running);
  g_clear_pointer (&run->time, bb_time_source_unref);
  run->time = bb_time_source_ref (source);
}

/* --- the poll timer --- */

static void
timer_fired (gpointer user_data)
{
  BbSyncEngine *self = user_data;
  BbSyncRun *run = bb_sync_engine_get_run (self);

  run->timer = 0;
  bb_sync_engine_set_next_sync (self, 0);
  /* Offline, the timer is not re-armed: the network's return starts the next pass. */
  if (run->running && !run->in_pass && !run->offline)
    run_pass (self, FALSE);
}

/* Re-arms the poll timer to Jitter(interval), or later when the server asked for it. */
static void
arm_timer (BbSyncEngine *self)
{
  BbSyncRun *run = bb_sync_engine_get_run (self);
  guint64 now = bb_time_source_now (run->time);
  guint64 delay = bb_sched_jitter (run->time, run->interval);

  bb_time_source_remove_timer (run->time, run->timer);
  if (run->not_before > now + delay)
    delay = run->not_before - now;
  run->timer = bb_time_source_add_timer (run->time, delay, timer_fired, self);
  bb_sync_engine_set_next_sync (self, bb_time_source_wall_now (run->time) + (gint64)delay * 1000);
}

/* Back to the base interval: no failures, no idle polls, no Retry-After delay. Coming
 * back online (network_changed) keeps the idle polls, so it does not use this. */
static void
reset_schedule (BbSyncEngine *self)
{
  BbSyncRun *run = bb_sync_engine_get_run (self);

  run->failures = 0;
  run->idle_polls = 0;
  run->not_before = 0;
  run->interval = bb_sync_engine_get_poll_interval (self);
}

/* recordResult (spec §7.1). */
static void
record_result (BbSyncEngine *self, gboolean activity, const GError *error, gboolean reset)
{
  BbSyncRun *run = bb_sync_engine_get_run (self);
  guint64 poll = bb_sync_engine_get_poll_interval (self);
  guint64 max = bb_sync_engine_get_max_poll_interval (self);

  if (error != NULL)
    {
      run->failures++;
      run->idle_polls = 0;
      run->interval = bb_sched_backoff (poll, max, run->failures);
      return;
    }
  run->failures = 0;
  if (activity || reset || !bb_sync_run_idle_effective (self))
    {
      run->idle_polls = 0;
      run->interval = poll;
      return;
    }
  run->idle_polls++;
  run->interval = bb_sched_idle (poll, max, run->idle_polls);
}

/* --- passes --- */

typedef struct
{
  BbSyncEngine *engine;
  gboolean reset_on_success;
  guint64 activity;
  guint generation; /* of the run that started the pass */
} PassRun;

static void
consume_wake (BbSyncEngine *self)
{
  BbSyncRun *run = bb_sync_engine_get_run (self);

  /* Offline, the wake-up waits for the network. */
  if (run->offline)
    return;
  run->wake = FALSE;
  run_pass (self, TRUE);
}

static void
pass_ran (GObject *source, GAsyncResult *result, gpointer user_data)
{
  PassRun *data = user_data;
  BbSyncEngine *self = data->engine;
  BbSyncRun *run = bb_sync_engine_get_run (self);
  g_autoptr (GError) error = NULL;
  gboolean activity;
  guint retry_after;

  bb_sync_engine_sync_finish (self, result, &error);
  activity = bb_sync_engine_get_activity (self) != data->activity;

  /* A pass of an earlier run (stopped, maybe started again since) changes nothing. */
  if (data->generation == run->generation)
    run->in_pass = FALSE;
  if (run->running && data->generation == run->generation)
    {
      record_result (self, activity, error, data->reset_on_success);
      /* A server that said when to come back is not asked earlier (429, 503). */
      retry_after = error != NULL ? bb_sync_error_get_retry_after (error) : 0;
      if (retry_after > 0)
        run->not_before = bb_time_source_now (run->time) + (guint64)retry_after * 1000;
      if (!run->offline)
        arm_timer (self);
      bb_sync_engine_update_state (self);

      if (run->watch_request != NULL && run->watch_request->served)
        watch_request_done (self, error != NULL ? g_error_copy (error) : NULL);
      else if (run->watch_request != NULL)
        {
          /* A request that arrived during this pass: check it against the new heads. */
          GError *check_error = NULL;

          if (!bb_sync_run_namespaces_need_sync (self, run->watch_request->namespaces,
                                                 &check_error))
            watch_request_done (self, check_error);
          else
            {
              run->watch_request->served = TRUE;
              run_pass (self, TRUE);
            }
        }
      if (run->running && !run->in_pass && run->wake)
        consume_wake (self);
    }
  g_object_unref (self);
  g_free (data);
}

static void
run_pass (BbSyncEngine *self, gboolean reset_on_success)
{
  BbSyncRun *run = bb_sync_engine_get_run (self);
  PassRun *data = g_new0 (PassRun, 1);

  data->engine = g_object_ref (self);
  data->reset_on_success = reset_on_success;
  data->activity = bb_sync_engine_get_activity (self);
  data->generation = run->generation;
  run->in_pass = TRUE;
  bb_time_source_remove_timer (run->time, run->timer);
  run->timer = 0;
  bb_sync_engine_set_next_sync (self, 0);
  bb_sync_engine_sync_async (self, run->cancellable, pass_ran, data);
}

/**
 * bb_sync_engine_start:
 * @self: a [class@BbSync.SyncEngine]
 *
 * Starts background sync on the engine's main context: a pass at once, then a pass
 * every [property@BbSync.SyncEngine:poll-interval] (with ±10 % jitter), sooner after
 * [method@BbSync.SyncEngine.schedule_sync], and, with
 * [property@BbSync.SyncEngine:namespace-watch], as soon as the server's long poll reports a
 * change. Failed passes back off, doubling the interval up to
 * [property@BbSync.SyncEngine:max-poll-interval], and are retried without any app call; a
 * server's `Retry-After` is honoured as a lower bound.
 *
 * Does nothing if background sync already runs or the engine is closed.
 *
 * Since: 0.1
 */
void
bb_sync_engine_start (BbSyncEngine *self)
{
  BbSyncRun *run;

  g_return_if_fail (BB_IS_SYNC_ENGINE (self));

  run = bb_sync_engine_get_run (self);
  if (run->running || bb_sync_engine_is_closed (self))
    return;
  run->running = TRUE;
  run->generation++;
  run->in_pass = FALSE;
  reset_schedule (self);
  g_clear_object (&run->cancellable);
  run->cancellable = g_cancellable_new ();
  monitors_connect (self);
  /* The initial pass records its result like a timed one (spec §7.3 step 1); offline,
   * it waits for the network. */
  if (run->offline)
    run->wake = TRUE;
  else
    run_pass (self, FALSE);
  watch_begin (self);
  bb_sync_engine_update_state (self);
}

/**
 * bb_sync_engine_stop:
 * @self: a [class@BbSync.SyncEngine]
 *
 * Stops background sync: no more timed passes, the watch closes, and a pass the loop
 * started ends with %G_IO_ERROR_CANCELLED (what it saved stays saved). Passes the app
 * starts with [method@BbSync.SyncEngine.sync_async] still run.
 *
 * Since: 0.1
 */
void
bb_sync_engine_stop (BbSyncEngine *self)
{
  BbSyncRun *run;

  g_return_if_fail (BB_IS_SYNC_ENGINE (self));

  run = bb_sync_engine_get_run (self);
  if (!run->running)
    return;
  run->running = FALSE;
  run->wake = FALSE;
  g_cancellable_cancel (run->cancellable);
  bb_time_source_remove_timer (run->time, run->timer);
  run->timer = 0;
  watch_end (self);
  monitors_disconnect (self);
  bb_sync_engine_set_next_sync (self, 0);
  bb_sync_engine_update_state (self);
}

/**
 * bb_sync_engine_schedule_sync:
 * @self: a [class@BbSync.SyncEngine]
 *
 * Asks background sync for a pass soon, for example after the app changed a value. It
 * does no I/O and returns at once; several calls before the pass starts give one pass,
 * and a call during a pass gives exactly one more pass after it. Before
 * [method@BbSync.SyncEngine.start] the request waits for the loop to start.
 *
 * Since: 0.1
 */
void
bb_sync_engine_schedule_sync (BbSyncEngine *self)
{
  BbSyncRun *run;

  g_return_if_fail (BB_IS_SYNC_ENGINE (self));

  run = bb_sync_engine_get_run (self);
  run->wake = TRUE;
  if (run->running && !run->in_pass)
    consume_wake (self);
}

/* --- network and power (GNetworkMonitor, GPowerProfileMonitor) --- */

static gboolean
power_saving (BbSyncEngine *self)
{
  BbSyncRun *run = bb_sync_engine_get_run (self);

  return run->power != NULL && bb_sync_engine_get_follow_power_saver (self)
         && g_power_profile_monitor_get_power_saver_enabled (run->power);
}

gboolean
bb_sync_run_idle_effective (BbSyncEngine *self)
{
  BbSyncRun *run = bb_sync_engine_get_run (self);

  if (bb_sync_engine_get_idle_polling (self) || power_saving (self))
    return TRUE;
  return run->network != NULL && bb_sync_engine_get_follow_metered (self)
         && g_network_monitor_get_network_metered (run->network);
}

static void
watch_begin (BbSyncEngine *self)
{
  BbSyncRun *run = bb_sync_engine_get_run (self);

  /* No long poll while saving power or offline (GLib's guidance for sync apps). */
  if (run->watching || !bb_sync_engine_get_namespace_watch (self) || run->offline
      || power_saving (self))
    return;
  run->watching = TRUE;
  run->watch_failures = 0;
  g_clear_object (&run->watch_cancellable);
  run->watch_cancellable = g_cancellable_new ();
  watch_once (self);
}

static void
watch_end (BbSyncEngine *self)
{
  BbSyncRun *run = bb_sync_engine_get_run (self);

  run->watching = FALSE;
  g_cancellable_cancel (run->watch_cancellable);
  bb_time_source_remove_timer (run->time, run->watch_timer);
  run->watch_timer = 0;
  run->watch_sleeping = FALSE;
  g_clear_pointer (&run->watch_request, watch_request_free);
}

static gboolean
network_available (BbSyncEngine *self)
{
  BbSyncRun *run = bb_sync_engine_get_run (self);

  if (run->network == NULL)
    return TRUE;
  /* A server on this machine is reachable whatever the system's network does; a monitor
   * the app set is followed as it is. */
  if (bb_sync_engine_get_network_monitor (self) == NULL
      && bb_client_is_loopback (bb_sync_engine_get_client (self)))
    return TRUE;
  return g_network_monitor_get_network_available (run->network);
}

static void
network_changed (GNetworkMonitor *monitor, gboolean available, gpointer user_data)
{
  BbSyncEngine *self = user_data;
  BbSyncRun *run = bb_sync_engine_get_run (self);
  gboolean offline = !network_available (self);

  if (offline == run->offline)
    return;
  run->offline = offline;
  if (offline)
    {
      /* Nothing burns backoff while the network is down. */
      bb_time_source_remove_timer (run->time, run->timer);
      run->timer = 0;
      bb_sync_engine_set_next_sync (self, 0);
      watch_end (self);
    }
  else
    {
      /* Back online: a pass at once, and the watch again. */
      run->failures = 0;
      run->not_before = 0;
      run->interval = bb_sync_engine_get_poll_interval (self);
      run->wake = TRUE;
      if (!run->in_pass)
        consume_wake (self);
      watch_begin (self);
    }
  bb_sync_engine_update_state (self);
}

static void
metered_changed (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  /* Only the next interval changes: record_result reads the effective idle flag. */
  g_debug ("Network metered: %d",
           g_network_monitor_get_network_metered (G_NETWORK_MONITOR (object)));
}

static void
power_changed (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  BbSyncEngine *self = user_data;
  BbSyncRun *run = bb_sync_engine_get_run (self);

  if (power_saving (self))
    watch_end (self);
  else if (run->running)
    watch_begin (self);
}

static void
monitors_connect (BbSyncEngine *self)
{
  BbSyncRun *run = bb_sync_engine_get_run (self);
  GNetworkMonitor *network = bb_sync_engine_get_network_monitor (self);
  GPowerProfileMonitor *power = bb_sync_engine_get_power_profile_monitor (self);

  run->network
      = network != NULL ? g_object_ref (network) : g_object_ref (g_network_monitor_get_default ());
  run->power = power != NULL ? g_object_ref (power) : g_power_profile_monitor_dup_default ();
  run->network_handler
      = g_signal_connect (run->network, "network-changed", G_CALLBACK (network_changed), self);
  run->metered_handler = g_signal_connect (run->network, "notify::network-metered",
                                           G_CALLBACK (metered_changed), self);
  if (run->power != NULL)
    run->power_handler = g_signal_connect (run->power, "notify::power-saver-enabled",
                                           G_CALLBACK (power_changed), self);
  run->offline = !network_available (self);
}

static void
monitors_disconnect (BbSyncEngine *self)
{
  BbSyncRun *run = bb_sync_engine_get_run (self);

  if (run->network != NULL)
    {
      g_clear_signal_handler (&run->network_handler, run->network);
      g_clear_signal_handler (&run->metered_handler, run->network);
      g_clear_object (&run->network);
    }
  if (run->power != NULL)
    {
      g_clear_signal_handler (&run->power_handler, run->power);
      g_clear_object (&run->power);
    }
  run->offline = FALSE;
}

void
bb_sync_run_login_succeeded (BbSyncEngine *self)
{
  BbSyncRun *run = bb_sync_engine_get_run (self);

  if (!run->running)
    return;
  /* The run loop: back to the base interval, re-armed, no pass (spec §7.5). */
  reset_schedule (self);
  if (!run->in_pass)
    arm_timer (self);
  bb_sync_engine_update_state (self);

  /* The watch: a failure sleep ends now, with its failures forgotten. */
  run->login_for_watch = TRUE;
  if (run->watching && run->watch_sleeping)
    {
      bb_time_source_remove_timer (run->time, run->watch_timer);
      run->watch_timer = 0;
      run->watch_sleeping = FALSE;
      run->login_for_watch = FALSE;
      run->watch_failures = 0;
      watch_once (self);
    }
}

/* --- the namespace watch (spec §7.4) --- */

gboolean
bb_sync_run_namespaces_need_sync (BbSyncEngine *self, GPtrArray *namespaces, GError **error)
{
  BbStore *store = bb_sync_engine_get_store (self);

  bb_item_cache_drain (bb_sync_engine_get_item_cache (self));
  for (guint i = 0; i < namespaces->len; i++)
    {
      BbNamespaceListing *info = g_ptr_array_index (namespaces, i);
      g_autoptr (BbNamespaceState) ns = NULL;
      GError *local_error = NULL;
      guint64 reported = bb_namespace_listing_get_head (info);

      ns = bb_store_get_namespace (store, bb_sync_engine_get_key_id (self),
                                   bb_namespace_listing_get_namespace_id (info), &local_error);
      if (ns == NULL)
        {
          if (g_error_matches (local_error, BB_SYNC_ERROR, BB_SYNC_ERROR_NOT_FOUND))
            {
              g_error_free (local_error);
              return TRUE;
            }
          g_propagate_error (error, local_error);
          return FALSE;
        }
      if (bb_namespace_state_get_namespace_head (ns) < reported)
        return TRUE;
      if (bb_namespace_state_get_namespace_head (ns) > reported)
        {
          g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_ROLLBACK,
                       _ ("Rollback detected: the watch reports head %llu for namespace %s, below "
                          "the known %llu"),
                       (unsigned long long)reported, bb_namespace_listing_get_namespace_id (info),
                       (unsigned long long)bb_namespace_state_get_namespace_head (ns));
          return FALSE;
        }
    }
  return FALSE;
}

static void
watch_wake (gpointer user_data)
{
  BbSyncEngine *self = user_data;
  BbSyncRun *run = bb_sync_engine_get_run (self);

  run->watch_timer = 0;
  run->watch_sleeping = FALSE;
  if (run->watching)
    watch_once (self);
}

/* SleepOrDone (spec §7.4): a login that succeeded meanwhile cuts the sleep short. */
static void
watch_sleep (BbSyncEngine *self, guint64 delay_ms)
{
  BbSyncRun *run = bb_sync_engine_get_run (self);

  if (run->login_for_watch)
    {
      run->login_for_watch = FALSE;
      run->watch_failures = 0;
      watch_once (self);
      return;
    }
  run->watch_sleeping = TRUE;
  run->watch_timer = bb_time_source_add_timer (run->time, delay_ms, watch_wake, self);
}

static void
watch_failed (BbSyncEngine *self, GError *error)
{
  BbSyncRun *run = bb_sync_engine_get_run (self);
  guint64 poll = bb_sync_engine_get_poll_interval (self);
  guint64 max = bb_sync_engine_get_max_poll_interval (self);

  run->watch_failures++;
  g_debug ("Namespace watch failed (%u): %s", run->watch_failures, error->message);
  bb_sync_engine_emit_error (self, BB_SYNC_EVENT_NAMESPACE_WATCH_FAILED, error);
  g_error_free (error);
  if (run->watching)
    watch_sleep (self,
                 bb_sched_jitter (run->time, bb_sched_backoff (poll, max, run->watch_failures)));
}

/* The run loop answered the watch's request for a pass. */
static void
watch_request_done (BbSyncEngine *self, GError *error)
{
  BbSyncRun *run = bb_sync_engine_get_run (self);

  g_clear_pointer (&run->watch_request, watch_request_free);
  if (!run->watching)
    {
      g_clear_error (&error);
      return;
    }
  if (error != NULL)
    {
      watch_failed (self, error);
      return;
    }
  run->watch_failures = 0;
  watch_once (self);
}

/* requestRunSync: the watch opens its next long poll only after the pass it asked for. */
static void
request_pass (BbSyncEngine *self, GPtrArray *namespaces)
{
  BbSyncRun *run = bb_sync_engine_get_run (self);
  BbWatchRequest *request = g_new0 (BbWatchRequest, 1);

  request->namespaces = g_ptr_array_ref (namespaces);
  run->watch_request = request;
  if (run->in_pass)
    return; /* answered when the running pass ends */
  request->served = TRUE;
  run_pass (self, TRUE);
}

static void
watched (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (BbSyncEngine) self = user_data;
  BbSyncRun *run = bb_sync_engine_get_run (self);
  g_autoptr (BbWatchResult) watch = NULL;
  GError *error = NULL;
  GPtrArray *namespaces;
  guint status;

  watch = bb_sync_auth_run_finish (self, result, &error);
  if (!run->watching || bb_sync_engine_is_closed (self))
    {
      g_clear_error (&error);
      return;
    }
  if (watch == NULL)
    {
      status = bb_sync_error_get_http_status (error);
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || status == 404
          || status == 405 || status == 501)
        {
          /* No watch support: polling goes on alone (spec §7.4). */
          if (status != 0)
            g_debug ("The server has no namespace watch (HTTP %u)", status);
          run->watching = run->watching && status == 0;
          g_error_free (error);
          return;
        }
      watch_failed (self, error);
      return;
    }

  namespaces = bb_watch_result_get_namespaces (watch);
  if (namespaces->len == 0)
    {
      if (!bb_watch_result_get_timed_out (watch))
        {
          watch_failed (self, g_error_new (BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL,
                                           _ ("The namespace watch returned no changes "
                                              "without timing out")));
          return;
        }
      /* A quiet long poll: reconnect after a short random delay (spec §7.4). */
      run->watch_failures = 0;
      watch_sleep (self, bb_time_source_random (run->time, 5000));
      return;
    }
  if (!bb_sync_run_namespaces_need_sync (self, namespaces, &error))
    {
      if (error != NULL)
        {
          watch_failed (self, error);
          return;
        }
      /* Already seen, for example this client's own upload: watch again at once. */
      run->watch_failures = 0;
      watch_once (self);
      return;
    }
  request_pass (self, namespaces);
}

static void
watch_result_unref (gpointer result)
{
  bb_watch_result_unref (result);
}

static void
watch_polled (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  BbWatchResult *watch = bb_client_watch_finish (BB_CLIENT (source), result, &error);

  if (watch == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, watch, watch_result_unref);
}

static void
watch_body (BbSyncEngine *self, gpointer body_data, GCancellable *cancellable,
            GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  bb_client_watch_async (bb_sync_engine_get_client (self), body_data, cancellable, watch_polled,
                         task);
}

/* WatchOnce: a long poll over every cached namespace, with its known head. */
static void
watch_once (BbSyncEngine *self)
{
  BbSyncRun *run = bb_sync_engine_get_run (self);
  g_autoptr (GPtrArray) namespaces = NULL;
  g_autoptr (GError) error = NULL;
  GVariantBuilder heads = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{st}"));

  bb_item_cache_drain (bb_sync_engine_get_item_cache (self));
  namespaces = bb_store_list_namespaces (bb_sync_engine_get_store (self),
                                         bb_sync_engine_get_key_id (self), &error);
  if (namespaces == NULL)
    {
      watch_failed (self, g_steal_pointer (&error));
      return;
    }
  for (guint i = 0; i < namespaces->len; i++)
    {
      BbNamespaceState *ns = g_ptr_array_index (namespaces, i);

      g_variant_builder_add (&heads, "{st}", bb_namespace_state_get_namespace_id (ns),
                             bb_namespace_state_get_namespace_head (ns));
    }
  bb_sync_auth_run_async (self, watch_body, g_variant_ref_sink (g_variant_builder_end (&heads)),
                          (GDestroyNotify)g_variant_unref, run->watch_cancellable, watched,
                          g_object_ref (self));
}
