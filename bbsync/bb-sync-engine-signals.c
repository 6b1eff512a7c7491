/* bb-sync-engine-signals.c: how the engine emits its signals: nothing after close, activity
 * counted for idle detection, item events held until their batch is saved. Apart from the
 * object because the pass, the run loop and authentication all announce through it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-sync-engine-object-private.h"

/* --- signals --- */

static gboolean
is_activity (BbSyncEvent event)
{
  switch (event)
    {
      case BB_SYNC_EVENT_NAMESPACE_CHANGED:
      case BB_SYNC_EVENT_ITEM_CHANGED:
      case BB_SYNC_EVENT_ITEM_DOWNLOADED:
      case BB_SYNC_EVENT_ITEM_UPLOADED:
      case BB_SYNC_EVENT_CONFLICT_DETECTED:
      case BB_SYNC_EVENT_UNKNOWN_REMOTE_ITEM:
        return TRUE;
      default:
        return FALSE;
    }
}

/* Nothing is emitted after close (spec §2.9); activity counts only what was emitted. */
static gboolean
may_emit (BbSyncEngine *self, BbSyncEvent event)
{
  if (self->closed)
    return FALSE;
  if (is_activity (event))
    self->activity++;
  return TRUE;
}

void
bb_sync_engine_emit_item (BbSyncEngine *self, BbSyncEvent event, const char *namespace_id,
                          const char *collection, const char *key, const char *item_id)
{
  if (!may_emit (self, event))
    return;
  /* pending-uploads follows the pass as it goes; the end of the pass recounts exactly. */
  if (event == BB_SYNC_EVENT_ITEM_QUEUED)
    bb_sync_engine_set_counts (self, self->pending_uploads + 1, self->conflict_count);
  else if (event == BB_SYNC_EVENT_ITEM_UPLOADED && self->pending_uploads > 0)
    bb_sync_engine_set_counts (self, self->pending_uploads - 1, self->conflict_count);
  g_signal_emit (self, bb_sync_engine_signals[event], g_quark_from_string (collection),
                 namespace_id, collection, key, item_id);
}

void
bb_pending_event_free (BbPendingEvent *ev)
{
  g_free (ev->namespace_id);
  g_free (ev->collection);
  g_free (ev->key);
  g_free (ev->item_id);
  g_free (ev);
}

void
bb_pending_events_add (GPtrArray *events, BbSyncEvent event, BbItemState *item)
{
  BbPendingEvent *ev = g_new0 (BbPendingEvent, 1);

  ev->event = event;
  ev->namespace_id = g_strdup (bb_item_state_get_namespace_id (item));
  ev->collection = g_strdup (bb_item_state_get_collection (item));
  ev->key = g_strdup (bb_item_state_get_key (item));
  ev->item_id = g_strdup (bb_item_state_get_item_id (item));
  g_ptr_array_add (events, ev);
}

/* Emits and clears @events in order (item events held back until their batch was saved). */
void
bb_sync_engine_emit_pending (BbSyncEngine *self, GPtrArray *events)
{
  /* A handler may drop the app's last reference. */
  BbSyncEngine *hold = g_object_ref (self);

  for (guint i = 0; i < events->len; i++)
    {
      BbPendingEvent *ev = g_ptr_array_index (events, i);

      if (ev->event == BB_SYNC_EVENT_UNKNOWN_REMOTE_ITEM)
        {
          if (may_emit (self, ev->event))
            g_signal_emit (self, bb_sync_engine_signals[ev->event], 0, ev->namespace_id,
                           ev->item_id);
        }
      else
        bb_sync_engine_emit_item (self, ev->event, ev->namespace_id, ev->collection, ev->key,
                                  ev->item_id);
    }
  g_ptr_array_set_size (events, 0);
  g_object_unref (hold);
}

void
bb_sync_engine_emit_namespace (BbSyncEngine *self, BbSyncEvent event, const char *namespace_id)
{
  if (may_emit (self, event))
    g_signal_emit (self, bb_sync_engine_signals[event], 0, namespace_id);
}

void
bb_sync_engine_emit_error (BbSyncEngine *self, BbSyncEvent event, const GError *error)
{
  if (may_emit (self, event))
    g_signal_emit (self, bb_sync_engine_signals[event], 0, error);
}

void
bb_sync_engine_emit_auth (BbSyncEngine *self, BbSyncEvent event, gint64 expires_at)
{
  g_autoptr (GDateTime) when = NULL;

  if (event == BB_SYNC_EVENT_AUTH_LOGIN_REQUIRED || event == BB_SYNC_EVENT_AUTH_SESSION_READY)
    {
      self->login_required = event == BB_SYNC_EVENT_AUTH_LOGIN_REQUIRED;
      bb_sync_engine_update_state (self);
    }

  if (!may_emit (self, event))
    return;
  if (expires_at != 0)
    {
      /* @expires_at is in microseconds, as the records keep it. */
      g_autoptr (GDateTime) second = g_date_time_new_from_unix_utc (expires_at / G_USEC_PER_SEC);

      when = g_date_time_add (second, expires_at % G_USEC_PER_SEC);
    }
  g_signal_emit (self, bb_sync_engine_signals[event], 0, when);
}

void
bb_sync_engine_emit_simple (BbSyncEngine *self, BbSyncEvent event)
{
  if (may_emit (self, event))
    g_signal_emit (self, bb_sync_engine_signals[event], 0);
}
