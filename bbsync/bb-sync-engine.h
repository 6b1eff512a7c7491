/* bb-sync-engine.h: end-to-end encrypted sync of an app's collections for one identity
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(BBSYNC_INSIDE) && !defined(BBSYNC_COMPILATION)
#error "Only <bbsync/bbsync.h> can be included directly."
#endif

#include <gio/gio.h>

#include "bb-version-macros.h"
#include "bb-client.h"
#include "bb-identity.h"
#include "bb-store.h"
#include "bb-namespace.h"

G_BEGIN_DECLS

/**
 * BB_SYNC_ENGINE_DEFAULT_POLL_INTERVAL:
 *
 * The default of [property@BbSync.SyncEngine:poll-interval], in milliseconds (5 minutes).
 *
 * Since: 0.1
 */
#define BB_SYNC_ENGINE_DEFAULT_POLL_INTERVAL (5 * 60 * 1000)

/**
 * BB_SYNC_ENGINE_DEFAULT_MAX_POLL_INTERVAL:
 *
 * The default of [property@BbSync.SyncEngine:max-poll-interval], in milliseconds (60 minutes).
 *
 * Since: 0.1
 */
#define BB_SYNC_ENGINE_DEFAULT_MAX_POLL_INTERVAL (60 * 60 * 1000)

/**
 * BB_SYNC_ENGINE_DEFAULT_REFRESH_SKEW:
 *
 * The default of [property@BbSync.SyncEngine:refresh-skew], in seconds (24 hours).
 *
 * Since: 0.1
 */
#define BB_SYNC_ENGINE_DEFAULT_REFRESH_SKEW (24 * 60 * 60)

/**
 * BB_SYNC_ENGINE_DEFAULT_INVITE_TTL:
 *
 * The default of [property@BbSync.SyncEngine:invite-ttl], in seconds (10 minutes).
 *
 * Since: 0.1
 */
#define BB_SYNC_ENGINE_DEFAULT_INVITE_TTL (10 * 60)

/**
 * BB_SYNC_ENGINE_MAX_VALUE_SIZE:
 *
 * The largest encoded value an item can hold, in bytes: the 65 536-byte ciphertext
 * limit less the 16-byte authentication tag.
 *
 * Since: 0.1
 */
#define BB_SYNC_ENGINE_MAX_VALUE_SIZE (65536 - 16)

/**
 * BbSyncState:
 * @BB_SYNC_STATE_STOPPED: background sync is not running ([method@BbSync.SyncEngine.start])
 * @BB_SYNC_STATE_IDLE: background sync waits for the next pass
 * @BB_SYNC_STATE_SYNCING: a pass runs
 * @BB_SYNC_STATE_BACKING_OFF: the last pass failed; the next one waits longer
 * @BB_SYNC_STATE_OFFLINE: the network is down (see [property@BbSync.SyncEngine:network-monitor]);
 *   sync resumes when it comes back
 * @BB_SYNC_STATE_LOGIN_REQUIRED: an automatic login failed; sync resumes after a
 *   successful [method@BbSync.SyncEngine.login_async]
 *
 * What an engine's background sync is doing, for a status line in a UI: see
 * [property@BbSync.SyncEngine:state].
 *
 * Since: 0.1
 */
typedef enum
{
  BB_SYNC_STATE_STOPPED,
  BB_SYNC_STATE_IDLE,
  BB_SYNC_STATE_SYNCING,
  BB_SYNC_STATE_BACKING_OFF,
  BB_SYNC_STATE_OFFLINE,
  BB_SYNC_STATE_LOGIN_REQUIRED,
} BbSyncState;

#define BB_TYPE_SYNC_ENGINE (bb_sync_engine_get_type ())

BB_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (BbSyncEngine, bb_sync_engine, BB, SYNC_ENGINE, GObject)

BB_AVAILABLE_IN_ALL
BbSyncEngine *bb_sync_engine_new (BbClient   *client,
                                  BbIdentity *identity,
                                  BbStore    *store,
                                  GError    **error);
BB_AVAILABLE_IN_ALL
void bb_sync_engine_new_async (BbClient           *client,
                               BbIdentity         *identity,
                               BbStore            *store,
                               GCancellable       *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer            user_data);
BB_AVAILABLE_IN_ALL
BbSyncEngine *bb_sync_engine_new_finish (GAsyncResult *result,
                                         GError      **error);

BB_AVAILABLE_IN_ALL
BbClient *bb_sync_engine_get_client (BbSyncEngine *self);
BB_AVAILABLE_IN_ALL
BbIdentity *bb_sync_engine_get_identity (BbSyncEngine *self);
BB_AVAILABLE_IN_ALL
BbStore *bb_sync_engine_get_store (BbSyncEngine *self);
BB_AVAILABLE_IN_ALL
const char *bb_sync_engine_get_key_id (BbSyncEngine *self);
BB_AVAILABLE_IN_ALL
gboolean bb_sync_engine_is_closed (BbSyncEngine *self);

BB_AVAILABLE_IN_ALL
guint bb_sync_engine_get_poll_interval (BbSyncEngine *self);
BB_AVAILABLE_IN_ALL
void bb_sync_engine_set_poll_interval (BbSyncEngine *self,
                                       guint         interval_ms);
BB_AVAILABLE_IN_ALL
guint bb_sync_engine_get_max_poll_interval (BbSyncEngine *self);
BB_AVAILABLE_IN_ALL
void bb_sync_engine_set_max_poll_interval (BbSyncEngine *self,
                                           guint         interval_ms);
BB_AVAILABLE_IN_ALL
gboolean bb_sync_engine_get_namespace_watch (BbSyncEngine *self);
BB_AVAILABLE_IN_ALL
void bb_sync_engine_set_namespace_watch (BbSyncEngine *self,
                                         gboolean      enabled);
BB_AVAILABLE_IN_ALL
guint bb_sync_engine_get_refresh_skew (BbSyncEngine *self);
BB_AVAILABLE_IN_ALL
void bb_sync_engine_set_refresh_skew (BbSyncEngine *self,
                                      guint         skew_seconds);
BB_AVAILABLE_IN_ALL
guint bb_sync_engine_get_invite_ttl (BbSyncEngine *self);
BB_AVAILABLE_IN_ALL
void bb_sync_engine_set_invite_ttl (BbSyncEngine *self,
                                    guint         ttl_seconds);

BB_AVAILABLE_IN_ALL
void bb_sync_engine_close (BbSyncEngine *self);

BB_AVAILABLE_IN_ALL
void bb_sync_engine_login_async (BbSyncEngine       *self,
                                 GCancellable       *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer            user_data);
BB_AVAILABLE_IN_ALL
gboolean bb_sync_engine_login_finish (BbSyncEngine *self,
                                      GAsyncResult *result,
                                      GError      **error);
BB_AVAILABLE_IN_ALL
void bb_sync_engine_revoke_all_tokens_async (BbSyncEngine       *self,
                                             GCancellable       *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer            user_data);
BB_AVAILABLE_IN_ALL
gboolean bb_sync_engine_revoke_all_tokens_finish (BbSyncEngine *self,
                                                  GAsyncResult *result,
                                                  GError      **error);

BB_AVAILABLE_IN_ALL
void bb_sync_engine_default_namespace_async (BbSyncEngine       *self,
                                             GCancellable       *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer            user_data);
BB_AVAILABLE_IN_ALL
BbNamespace *bb_sync_engine_default_namespace_finish (BbSyncEngine *self,
                                                      GAsyncResult *result,
                                                      GError      **error);
BB_AVAILABLE_IN_ALL
void bb_sync_engine_create_shared_namespace_async (BbSyncEngine       *self,
                                                   GCancellable       *cancellable,
                                                   GAsyncReadyCallback callback,
                                                   gpointer            user_data);
BB_AVAILABLE_IN_ALL
BbNamespace *bb_sync_engine_create_shared_namespace_finish (BbSyncEngine *self,
                                                            GAsyncResult *result,
                                                            GError      **error);
BB_AVAILABLE_IN_ALL
void bb_sync_engine_join_namespace_async (BbSyncEngine       *self,
                                          const char         *namespace_id,
                                          GCancellable       *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer            user_data);
BB_AVAILABLE_IN_ALL
BbNamespace *bb_sync_engine_join_namespace_finish (BbSyncEngine *self,
                                                   GAsyncResult *result,
                                                   GError      **error);
BB_AVAILABLE_IN_ALL
void bb_sync_engine_lookup_namespace_async (BbSyncEngine       *self,
                                            const char         *namespace_id,
                                            GCancellable       *cancellable,
                                            GAsyncReadyCallback callback,
                                            gpointer            user_data);
BB_AVAILABLE_IN_ALL
BbNamespace *bb_sync_engine_lookup_namespace_finish (BbSyncEngine *self,
                                                     GAsyncResult *result,
                                                     GError      **error);
BB_AVAILABLE_IN_ALL
void bb_sync_engine_submit_join_request_async (BbSyncEngine       *self,
                                               BbInvite           *scanned,
                                               GCancellable       *cancellable,
                                               GAsyncReadyCallback callback,
                                               gpointer            user_data);
BB_AVAILABLE_IN_ALL
BbJoinRequestListing *bb_sync_engine_submit_join_request_finish (BbSyncEngine *self,
                                                                 GAsyncResult *result,
                                                                 GError      **error);

BB_AVAILABLE_IN_ALL
void bb_sync_engine_sync_async (BbSyncEngine       *self,
                                GCancellable       *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer            user_data);
BB_AVAILABLE_IN_ALL
gboolean bb_sync_engine_sync_finish (BbSyncEngine *self,
                                     GAsyncResult *result,
                                     GError      **error);

BB_AVAILABLE_IN_ALL
gboolean bb_sync_engine_reset_sync_state (BbSyncEngine *self,
                                          GError      **error);

BB_AVAILABLE_IN_ALL
void bb_sync_engine_start (BbSyncEngine *self);
BB_AVAILABLE_IN_ALL
void bb_sync_engine_stop (BbSyncEngine *self);
BB_AVAILABLE_IN_ALL
void bb_sync_engine_schedule_sync (BbSyncEngine *self);
BB_AVAILABLE_IN_ALL
gboolean bb_sync_engine_get_idle_polling (BbSyncEngine *self);
BB_AVAILABLE_IN_ALL
void bb_sync_engine_set_idle_polling (BbSyncEngine *self,
                                      gboolean      idle_polling);

BB_AVAILABLE_IN_ALL
GNetworkMonitor *bb_sync_engine_get_network_monitor (BbSyncEngine *self);
BB_AVAILABLE_IN_ALL
void bb_sync_engine_set_network_monitor (BbSyncEngine    *self,
                                         GNetworkMonitor *monitor);
BB_AVAILABLE_IN_ALL
GPowerProfileMonitor *bb_sync_engine_get_power_profile_monitor (BbSyncEngine *self);
BB_AVAILABLE_IN_ALL
void bb_sync_engine_set_power_profile_monitor (BbSyncEngine         *self,
                                               GPowerProfileMonitor *monitor);
BB_AVAILABLE_IN_ALL
gboolean bb_sync_engine_get_follow_metered (BbSyncEngine *self);
BB_AVAILABLE_IN_ALL
void bb_sync_engine_set_follow_metered (BbSyncEngine *self,
                                        gboolean      follow);
BB_AVAILABLE_IN_ALL
gboolean bb_sync_engine_get_follow_power_saver (BbSyncEngine *self);
BB_AVAILABLE_IN_ALL
void bb_sync_engine_set_follow_power_saver (BbSyncEngine *self,
                                            gboolean      follow);

BB_AVAILABLE_IN_ALL
BbSyncState bb_sync_engine_get_state (BbSyncEngine *self);
BB_AVAILABLE_IN_ALL
gboolean bb_sync_engine_get_syncing (BbSyncEngine *self);
BB_AVAILABLE_IN_ALL
GDateTime *bb_sync_engine_get_last_synced (BbSyncEngine *self);
BB_AVAILABLE_IN_ALL
const GError *bb_sync_engine_get_last_error (BbSyncEngine *self);
BB_AVAILABLE_IN_ALL
guint bb_sync_engine_get_pending_uploads (BbSyncEngine *self);
BB_AVAILABLE_IN_ALL
guint bb_sync_engine_get_conflict_count (BbSyncEngine *self);
BB_AVAILABLE_IN_ALL
GDateTime *bb_sync_engine_get_next_sync (BbSyncEngine *self);
BB_AVAILABLE_IN_ALL
guint bb_sync_engine_get_progress_done (BbSyncEngine *self);
BB_AVAILABLE_IN_ALL
guint bb_sync_engine_get_progress_total (BbSyncEngine *self);

BB_AVAILABLE_IN_ALL
GListModel *bb_sync_engine_get_namespaces (BbSyncEngine *self);
BB_AVAILABLE_IN_ALL
GListModel *bb_sync_engine_get_conflicts (BbSyncEngine *self);

G_END_DECLS
