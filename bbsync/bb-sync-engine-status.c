/* bb-sync-engine-status.c: the status properties an app shows (state, progress, counts, last
 * and next sync) and the settings background sync follows (idle polling, network and power
 * monitors). Apart from the object because the pass and the run loop update them.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-sync-engine-object-private.h"

/* --- status --- */

BbSyncRun *
bb_sync_engine_get_run (BbSyncEngine *self)
{
  return &self->run;
}

void
bb_sync_engine_update_state (BbSyncEngine *self)
{
  BbSyncState state;

  if (self->syncing)
    state = BB_SYNC_STATE_SYNCING;
  else if (!self->run.running)
    state = BB_SYNC_STATE_STOPPED;
  else if (self->run.offline)
    state = BB_SYNC_STATE_OFFLINE;
  else if (self->login_required)
    state = BB_SYNC_STATE_LOGIN_REQUIRED;
  else if (self->run.failures > 0)
    state = BB_SYNC_STATE_BACKING_OFF;
  else
    state = BB_SYNC_STATE_IDLE;
  if (state == self->state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), bb_sync_engine_properties[PROP_STATE]);
}

void
bb_sync_engine_set_syncing (BbSyncEngine *self, gboolean syncing)
{
  if (self->syncing != syncing)
    {
      self->syncing = syncing;
      g_object_notify_by_pspec (G_OBJECT (self), bb_sync_engine_properties[PROP_SYNCING]);
    }
  bb_sync_engine_update_state (self);
}

void
bb_sync_engine_set_progress (BbSyncEngine *self, guint done, guint total)
{
  if (self->progress_total != total)
    {
      self->progress_total = total;
      g_object_notify_by_pspec (G_OBJECT (self), bb_sync_engine_properties[PROP_PROGRESS_TOTAL]);
    }
  if (self->progress_done != done)
    {
      self->progress_done = done;
      g_object_notify_by_pspec (G_OBJECT (self), bb_sync_engine_properties[PROP_PROGRESS_DONE]);
    }
}

void
bb_sync_engine_add_progress (BbSyncEngine *self, guint done, guint total)
{
  bb_sync_engine_set_progress (self, self->progress_done + done, self->progress_total + total);
}

void
bb_sync_engine_set_counts (BbSyncEngine *self, guint pending_uploads, guint conflict_count)
{
  if (self->pending_uploads != pending_uploads)
    {
      self->pending_uploads = pending_uploads;
      g_object_notify_by_pspec (G_OBJECT (self), bb_sync_engine_properties[PROP_PENDING_UPLOADS]);
    }
  if (self->conflict_count != conflict_count)
    {
      self->conflict_count = conflict_count;
      g_object_notify_by_pspec (G_OBJECT (self), bb_sync_engine_properties[PROP_CONFLICT_COUNT]);
    }
}

static GDateTime *
date_time_from_usec (gint64 usec)
{
  g_autoptr (GDateTime) second = g_date_time_new_from_unix_utc (usec / G_USEC_PER_SEC);

  return g_date_time_add (second, usec % G_USEC_PER_SEC);
}

/* Records a pass's outcome: last-synced on success, last-error either way. */
void
bb_sync_engine_set_pass_result (BbSyncEngine *self, const GError *error)
{
  if (error == NULL)
    {
      g_clear_pointer (&self->last_synced, g_date_time_unref);
      self->last_synced = date_time_from_usec (bb_time_source_wall_now (self->run.time));
      g_object_notify_by_pspec (G_OBJECT (self), bb_sync_engine_properties[PROP_LAST_SYNCED]);
      if (self->last_error != NULL)
        {
          g_clear_error (&self->last_error);
          g_object_notify_by_pspec (G_OBJECT (self), bb_sync_engine_properties[PROP_LAST_ERROR]);
        }
      return;
    }
  g_clear_error (&self->last_error);
  self->last_error = g_error_copy (error);
  g_object_notify_by_pspec (G_OBJECT (self), bb_sync_engine_properties[PROP_LAST_ERROR]);
}

/* The wall time of the next timed pass (0 for none). */
void
bb_sync_engine_set_next_sync (BbSyncEngine *self, gint64 wall_usec)
{
  if (wall_usec == 0 && self->next_sync == NULL)
    return;
  if (wall_usec != 0 && self->next_sync != NULL
      && g_date_time_to_unix (self->next_sync) * G_USEC_PER_SEC
                 + g_date_time_get_microsecond (self->next_sync)
             == wall_usec)
    return;
  g_clear_pointer (&self->next_sync, g_date_time_unref);
  if (wall_usec != 0)
    self->next_sync = date_time_from_usec (wall_usec);
  g_object_notify_by_pspec (G_OBJECT (self), bb_sync_engine_properties[PROP_NEXT_SYNC]);
}

/**
 * bb_sync_engine_get_state:
 * @self: a [class@BbSync.SyncEngine]
 *
 * Gets what sync is doing now. [property@BbSync.SyncEngine:state] notifies each change,
 * for a status line.
 *
 * Returns: what sync is doing, see [property@BbSync.SyncEngine:state]
 *
 * Since: 0.1
 */
BbSyncState
bb_sync_engine_get_state (BbSyncEngine *self)
{
  g_return_val_if_fail (BB_IS_SYNC_ENGINE (self), BB_SYNC_STATE_STOPPED);
  return self->state;
}

/**
 * bb_sync_engine_get_syncing:
 * @self: a [class@BbSync.SyncEngine]
 *
 * Gets whether a pass runs, started by [method@BbSync.SyncEngine.sync_async] or by
 * background sync.
 *
 * Returns: whether a pass runs, see [property@BbSync.SyncEngine:syncing]
 *
 * Since: 0.1
 */
gboolean
bb_sync_engine_get_syncing (BbSyncEngine *self)
{
  g_return_val_if_fail (BB_IS_SYNC_ENGINE (self), FALSE);
  return self->syncing;
}

/**
 * bb_sync_engine_get_last_synced:
 * @self: a [class@BbSync.SyncEngine]
 *
 * Gets when the last pass succeeded. The value is owned by the engine and replaced at
 * the end of the next successful pass; take a reference to keep it.
 *
 * Returns: (transfer none) (nullable): when the last pass succeeded
 *
 * Since: 0.1
 */
GDateTime *
bb_sync_engine_get_last_synced (BbSyncEngine *self)
{
  g_return_val_if_fail (BB_IS_SYNC_ENGINE (self), NULL);
  return self->last_synced;
}

/**
 * bb_sync_engine_get_last_error:
 * @self: a [class@BbSync.SyncEngine]
 *
 * Gets why the last pass failed. The error is owned by the engine and replaced or
 * cleared at the end of the next pass; copy it to keep it.
 *
 * Returns: (transfer none) (nullable): why the last pass failed, or %NULL
 *
 * Since: 0.1
 */
const GError *
bb_sync_engine_get_last_error (BbSyncEngine *self)
{
  g_return_val_if_fail (BB_IS_SYNC_ENGINE (self), NULL);
  return self->last_error;
}

/**
 * bb_sync_engine_get_pending_uploads:
 * @self: a [class@BbSync.SyncEngine]
 *
 * Gets how many local changes wait for upload, conflicts not counted.
 *
 * Returns: local changes waiting for upload, see [property@BbSync.SyncEngine:pending-uploads]
 *
 * Since: 0.1
 */
guint
bb_sync_engine_get_pending_uploads (BbSyncEngine *self)
{
  g_return_val_if_fail (BB_IS_SYNC_ENGINE (self), 0);
  return self->pending_uploads;
}

/**
 * bb_sync_engine_get_conflict_count:
 * @self: a [class@BbSync.SyncEngine]
 *
 * Gets how many unresolved conflicts [method@BbSync.SyncEngine.get_conflicts] lists.
 *
 * Returns: the number of open conflicts
 *
 * Since: 0.1
 */
guint
bb_sync_engine_get_conflict_count (BbSyncEngine *self)
{
  g_return_val_if_fail (BB_IS_SYNC_ENGINE (self), 0);
  return self->conflict_count;
}

/**
 * bb_sync_engine_get_next_sync:
 * @self: a [class@BbSync.SyncEngine]
 *
 * Gets when background sync runs its next timed pass. The value is owned by the engine
 * and replaced when the pass is rescheduled.
 *
 * Returns: (transfer none) (nullable): when the next timed pass runs
 *
 * Since: 0.1
 */
GDateTime *
bb_sync_engine_get_next_sync (BbSyncEngine *self)
{
  g_return_val_if_fail (BB_IS_SYNC_ENGINE (self), NULL);
  return self->next_sync;
}

/**
 * bb_sync_engine_get_progress_done:
 * @self: a [class@BbSync.SyncEngine]
 *
 * Gets how many items the current pass has downloaded or uploaded so far; with
 * [method@BbSync.SyncEngine.get_progress_total] it makes a progress bar.
 *
 * Returns: items handled so far in the current pass
 *
 * Since: 0.1
 */
guint
bb_sync_engine_get_progress_done (BbSyncEngine *self)
{
  g_return_val_if_fail (BB_IS_SYNC_ENGINE (self), 0);
  return self->progress_done;
}

/**
 * bb_sync_engine_get_progress_total:
 * @self: a [class@BbSync.SyncEngine]
 *
 * Gets how many items the current pass is to download or upload, as far as known yet: it
 * may grow while the pass runs.
 *
 * Returns: items to handle in the current pass, as far as known
 *
 * Since: 0.1
 */
guint
bb_sync_engine_get_progress_total (BbSyncEngine *self)
{
  g_return_val_if_fail (BB_IS_SYNC_ENGINE (self), 0);
  return self->progress_total;
}

/**
 * bb_sync_engine_get_idle_polling:
 * @self: a [class@BbSync.SyncEngine]
 *
 * Gets whether background polling slows down after quiet passes, for an app that is
 * idle.
 *
 * Returns: whether idle polling is on, see [property@BbSync.SyncEngine:idle-polling]
 *
 * Since: 0.1
 */
gboolean
bb_sync_engine_get_idle_polling (BbSyncEngine *self)
{
  g_return_val_if_fail (BB_IS_SYNC_ENGINE (self), FALSE);
  return self->idle_polling;
}

/**
 * bb_sync_engine_set_idle_polling:
 * @self: a [class@BbSync.SyncEngine]
 * @idle_polling: whether to slow polling down after quiet passes
 *
 * Sets [property@BbSync.SyncEngine:idle-polling], and schedules a sync (spec §2.3).
 *
 * Since: 0.1
 */
void
bb_sync_engine_set_idle_polling (BbSyncEngine *self, gboolean idle_polling)
{
  g_return_if_fail (BB_IS_SYNC_ENGINE (self));

  idle_polling = !!idle_polling;
  if (self->idle_polling != idle_polling)
    {
      self->idle_polling = idle_polling;
      g_object_notify_by_pspec (G_OBJECT (self), bb_sync_engine_properties[PROP_IDLE_POLLING]);
    }
  bb_sync_engine_schedule_sync (self);
}

/**
 * bb_sync_engine_get_network_monitor:
 * @self: a [class@BbSync.SyncEngine]
 *
 * Gets the network monitor background sync follows, if the app set one.
 *
 * Returns: (transfer none) (nullable): the network monitor set with
 *   [method@BbSync.SyncEngine.set_network_monitor], or %NULL for the default
 *
 * Since: 0.1
 */
GNetworkMonitor *
bb_sync_engine_get_network_monitor (BbSyncEngine *self)
{
  g_return_val_if_fail (BB_IS_SYNC_ENGINE (self), NULL);
  return self->network_monitor;
}

/**
 * bb_sync_engine_set_network_monitor:
 * @self: a [class@BbSync.SyncEngine]
 * @monitor: (nullable): a network monitor, or %NULL for the default
 *
 * Sets [property@BbSync.SyncEngine:network-monitor].
 *
 * Since: 0.1
 */
void
bb_sync_engine_set_network_monitor (BbSyncEngine *self, GNetworkMonitor *monitor)
{
  g_return_if_fail (BB_IS_SYNC_ENGINE (self));
  g_return_if_fail (monitor == NULL || G_IS_NETWORK_MONITOR (monitor));

  if (g_set_object (&self->network_monitor, monitor))
    g_object_notify_by_pspec (G_OBJECT (self), bb_sync_engine_properties[PROP_NETWORK_MONITOR]);
}

/**
 * bb_sync_engine_get_power_profile_monitor:
 * @self: a [class@BbSync.SyncEngine]
 *
 * Gets the power profile monitor background sync follows, if the app set one.
 *
 * Returns: (transfer none) (nullable): the power profile monitor set with
 *   [method@BbSync.SyncEngine.set_power_profile_monitor], or %NULL for the default
 *
 * Since: 0.1
 */
GPowerProfileMonitor *
bb_sync_engine_get_power_profile_monitor (BbSyncEngine *self)
{
  g_return_val_if_fail (BB_IS_SYNC_ENGINE (self), NULL);
  return self->power_monitor;
}

/**
 * bb_sync_engine_set_power_profile_monitor:
 * @self: a [class@BbSync.SyncEngine]
 * @monitor: (nullable): a power profile monitor, or %NULL for the default
 *
 * Sets [property@BbSync.SyncEngine:power-profile-monitor].
 *
 * Since: 0.1
 */
void
bb_sync_engine_set_power_profile_monitor (BbSyncEngine *self, GPowerProfileMonitor *monitor)
{
  g_return_if_fail (BB_IS_SYNC_ENGINE (self));
  g_return_if_fail (monitor == NULL || G_IS_POWER_PROFILE_MONITOR (monitor));

  if (g_set_object (&self->power_monitor, monitor))
    g_object_notify_by_pspec (G_OBJECT (self),
                              bb_sync_engine_properties[PROP_POWER_PROFILE_MONITOR]);
}

/**
 * bb_sync_engine_get_follow_metered:
 * @self: a [class@BbSync.SyncEngine]
 *
 * Gets whether background sync slows down to idle polling while the network is metered.
 *
 * Returns: see [property@BbSync.SyncEngine:follow-metered]
 *
 * Since: 0.1
 */
gboolean
bb_sync_engine_get_follow_metered (BbSyncEngine *self)
{
  g_return_val_if_fail (BB_IS_SYNC_ENGINE (self), FALSE);
  return self->follow_metered;
}

/**
 * bb_sync_engine_set_follow_metered:
 * @self: a [class@BbSync.SyncEngine]
 * @follow: whether a metered network slows polling down
 *
 * Sets [property@BbSync.SyncEngine:follow-metered].
 *
 * Since: 0.1
 */
void
bb_sync_engine_set_follow_metered (BbSyncEngine *self, gboolean follow)
{
  g_return_if_fail (BB_IS_SYNC_ENGINE (self));

  follow = !!follow;
  if (self->follow_metered == follow)
    return;
  self->follow_metered = follow;
  g_object_notify_by_pspec (G_OBJECT (self), bb_sync_engine_properties[PROP_FOLLOW_METERED]);
}

/**
 * bb_sync_engine_get_follow_power_saver:
 * @self: a [class@BbSync.SyncEngine]
 *
 * Gets whether background sync, while power saving is on, slows down to idle polling and
 * keeps no long poll open.
 *
 * Returns: see [property@BbSync.SyncEngine:follow-power-saver]
 *
 * Since: 0.1
 */
gboolean
bb_sync_engine_get_follow_power_saver (BbSyncEngine *self)
{
  g_return_val_if_fail (BB_IS_SYNC_ENGINE (self), FALSE);
  return self->follow_power_saver;
}

/**
 * bb_sync_engine_set_follow_power_saver:
 * @self: a [class@BbSync.SyncEngine]
 * @follow: whether power saving slows polling down and closes the long poll
 *
 * Sets [property@BbSync.SyncEngine:follow-power-saver].
 *
 * Since: 0.1
 */
void
bb_sync_engine_set_follow_power_saver (BbSyncEngine *self, gboolean follow)
{
  g_return_if_fail (BB_IS_SYNC_ENGINE (self));

  follow = !!follow;
  if (self->follow_power_saver == follow)
    return;
  self->follow_power_saver = follow;
  g_object_notify_by_pspec (G_OBJECT (self), bb_sync_engine_properties[PROP_FOLLOW_POWER_SAVER]);
}
