/* bb-sync-engine-private.h: what the engine's parts share (not installed)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "bb-sync-engine.h"
#include "bb-conflict.h"
#include "bb-identity-state.h"
#include "bb-item-state.h"
#include "bb-namespace-state.h"
#include "bb-sync-scheduler-private.h"

G_BEGIN_DECLS

/* How many item requests a pass keeps in flight, and how many finished ones it applies,
 * saves and announces in one step before it returns to the main loop (defaults). */
#define BB_SYNC_WINDOW 16
#define BB_SYNC_CHUNK 64

/* --- engine (bb-sync-engine.c and bb-sync-engine-*.c) --- */

typedef enum
{
  BB_SYNC_EVENT_AUTH_LOGIN_REQUIRED,
  BB_SYNC_EVENT_AUTH_REFRESH_RECOMMENDED,
  BB_SYNC_EVENT_AUTH_SESSION_READY,
  BB_SYNC_EVENT_SYNC_STARTED,
  BB_SYNC_EVENT_SYNC_FINISHED,
  BB_SYNC_EVENT_SYNC_FAILED,
  BB_SYNC_EVENT_NAMESPACE_WATCH_FAILED,
  BB_SYNC_EVENT_NAMESPACE_CHANGED,
  BB_SYNC_EVENT_ITEM_CHANGED,
  BB_SYNC_EVENT_ITEM_DOWNLOADED,
  BB_SYNC_EVENT_ITEM_UPLOADED,
  BB_SYNC_EVENT_ITEM_QUEUED,
  BB_SYNC_EVENT_CONFLICT_DETECTED,
  BB_SYNC_EVENT_UNKNOWN_REMOTE_ITEM,
  BB_SYNC_N_EVENTS
} BbSyncEvent;

/* An item event waiting for the batch save that precedes it. */
typedef struct
{
  BbSyncEvent event;
  char *namespace_id;
  char *collection;
  char *key;
  char *item_id;
} BbPendingEvent;

void bb_pending_event_free (BbPendingEvent *ev);
void bb_pending_events_add (GPtrArray *events, BbSyncEvent event, BbItemState *item);

void bb_sync_engine_emit_item (BbSyncEngine *self, BbSyncEvent event, const char *namespace_id,
                               const char *collection, const char *key, const char *item_id);
void bb_sync_engine_emit_pending (BbSyncEngine *self, GPtrArray *events);
void bb_sync_engine_emit_namespace (BbSyncEngine *self, BbSyncEvent event,
                                    const char *namespace_id);
void bb_sync_engine_emit_error (BbSyncEngine *self, BbSyncEvent event, const GError *error);
void bb_sync_engine_emit_auth (BbSyncEngine *self, BbSyncEvent event, gint64 expires_at);
void bb_sync_engine_emit_simple (BbSyncEngine *self, BbSyncEvent event);

gint64 bb_sync_engine_now (BbSyncEngine *self);
BbIdentityState *bb_sync_engine_peek_identity_state (BbSyncEngine *self);
gboolean bb_sync_engine_save_identity_state (BbSyncEngine *self, BbIdentityState *state,
                                             GError **error);

/* The collection registry, in registry-key order (namespace ID, name length, name). */
GPtrArray *bb_sync_engine_dup_collections (BbSyncEngine *self, const char *namespace_id);
BbCollection *bb_sync_engine_lookup_collection (BbSyncEngine *self, const char *namespace_id,
                                                const char *name);
gboolean bb_sync_engine_register_collection (BbSyncEngine *self, BbCollection *collection,
                                             GError **error);

BbNamespace *bb_sync_engine_ensure_namespace_handle (BbSyncEngine *self, const char *namespace_id,
                                                     const char *kind);
void bb_sync_engine_refresh_conflicts (BbSyncEngine *self);

/* Item IDs: HMAC under the namespace's map key, cached per DEK. */
char *bb_sync_engine_item_id (BbSyncEngine *self, BbNamespaceState *ns, const char *collection,
                              const char *key, GError **error);
GBytes *bb_sync_engine_blob_key (BbSyncEngine *self, BbNamespaceState *ns, GError **error);
void bb_sync_engine_warm_item_ids_async (BbSyncEngine *self, BbNamespaceState *ns,
                                         GCancellable *cancellable, GAsyncReadyCallback callback,
                                         gpointer user_data);
gboolean bb_sync_engine_warm_item_ids_finish (BbSyncEngine *self, GAsyncResult *result,
                                              GError **error);

/* Operations: a GTask for the caller plus a cancellable that Close cancels. */
GCancellable *bb_sync_engine_op_cancellable (BbSyncEngine *self, GCancellable *caller);
void bb_sync_engine_op_done (BbSyncEngine *self, GCancellable *op_cancellable);
gboolean bb_sync_engine_check_open (BbSyncEngine *self, GError **error);

/* --- authentication (bb-sync-auth.c) --- */

void bb_sync_auth_ensure_async (BbSyncEngine *self, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data);
gboolean bb_sync_auth_ensure_finish (BbSyncEngine *self, GAsyncResult *result, GError **error);

/* Runs @body under the authenticated-operation wrapper (spec §4.5): authenticate, run,
 * and on an HTTP 401 log in again once and run @body once more. @body completes its
 * GTask with g_task_return_pointer (or _boolean); the wrapper's result is the last
 * run's. */
typedef void (*BbAuthBodyFunc) (BbSyncEngine *self, gpointer body_data, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data);
void bb_sync_auth_run_async (BbSyncEngine *self, BbAuthBodyFunc body, gpointer body_data,
                             GDestroyNotify body_data_free, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data);
gpointer bb_sync_auth_run_finish (BbSyncEngine *self, GAsyncResult *result, GError **error);

/* --- namespaces (bb-sync-namespaces.c) --- */

void bb_sync_namespace_ready_async (BbSyncEngine *self, const char *namespace_id,
                                    const char *expected_kind, GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data);
BbNamespaceState *bb_sync_namespace_ready_finish (BbSyncEngine *self, GAsyncResult *result,
                                                  GError **error);
void bb_sync_namespace_join_async (BbSyncEngine *self, const char *namespace_id,
                                   const char *kind_hint, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data);
BbNamespaceState *bb_sync_namespace_join_finish (BbSyncEngine *self, GAsyncResult *result,
                                                 GError **error);
void bb_sync_default_namespace_async (BbSyncEngine *self, GCancellable *cancellable,
                                      GAsyncReadyCallback callback, gpointer user_data);
BbNamespaceState *bb_sync_default_namespace_finish (BbSyncEngine *self, GAsyncResult *result,
                                                    GError **error);

/* --- the pass (bb-sync-pass.c) --- */

void bb_sync_pass_run_async (BbSyncEngine *self, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data);
gboolean bb_sync_pass_run_finish (BbSyncEngine *self, GAsyncResult *result, GError **error);

/* --- the active scope of one namespace (bb-sync-scope.c, spec §6.4) --- */

typedef struct
{
  const char *collection; /* owned by the registered collection */
  char *key;
} BbScopeKey;

typedef struct
{
  gatomicrefcount ref;
  GHashTable *collections;   /* name set */
  GHashTable *items;         /* item ID → BbScopeKey */
  GHashTable *by_collection; /* name → (key → item ID) */
  char *hash;                /* "" when no collection is registered */
} BbActiveScope;

typedef struct _BbScopeCache BbScopeCache;

BbActiveScope *bb_active_scope_compute (BbSyncEngine *self, BbNamespaceState *ns, GError **error);
BbActiveScope *bb_active_scope_ref (BbActiveScope *scope);
void bb_active_scope_unref (BbActiveScope *scope);
gboolean bb_active_scope_contains (BbActiveScope *scope, BbItemState *item);
const char *bb_active_scope_lookup (BbActiveScope *scope, const char *collection, const char *key);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BbActiveScope, bb_active_scope_unref)
void bb_scope_cache_free (BbScopeCache *cache);
BbActiveScope *bb_sync_engine_peek_cached_scope (BbSyncEngine *self, BbNamespaceState *ns);
/* namespace ID → BbScopeCache */
GHashTable *bb_sync_engine_get_scope_caches (BbSyncEngine *self);

/* --- collections (bb-collection.c) --- */

BbCollection *bb_collection_new (BbNamespace *ns, const char *name, BbCodec *codec,
                                 BbValueBackend *backend);
/* Byte-level adapters (spec §2.5): all engine comparisons are on encoded bytes. */
gboolean bb_collection_get_current (BbCollection *self, const char *key, GVariant **out_value,
                                    GBytes **out_bytes, GError **error);
GBytes *bb_collection_get_encoded (BbCollection *self, const char *key, GError **error);
gboolean bb_collection_set_encoded_if_current (BbCollection *self, const char *key,
                                               GVariant *current, GBytes *value,
                                               gboolean *out_replaced, GError **error);
/* Returns TRUE when no error; *out_merged is NULL when unresolved. */
gboolean bb_collection_merge_bytes (BbCollection *self, const char *key, GBytes *base,
                                    GBytes *local, GBytes *remote, GBytes **out_merged,
                                    GError **error);

/* --- namespaces and conflicts --- */

BbNamespace *bb_namespace_new (BbSyncEngine *engine, const char *namespace_id, const char *kind);
BbSyncEngine *bb_namespace_get_engine (BbNamespace *self);
void bb_namespace_set_kind (BbNamespace *self, const char *kind);
/* The join-request model (item type BbPendingJoinRequest), see bb-namespace-invites.c. */
GListStore *bb_namespace_get_join_request_store (BbNamespace *self);
/* The open-invite model (item type BbOpenInvite), see bb-namespace-invites.c. */
GListStore *bb_namespace_get_invite_store (BbNamespace *self);

BbConflict *bb_conflict_new (BbItemState *item, GVariant *local_value, GVariant *remote_value);

/* Byte equality where NULL equals empty (spec §0.2). */
gboolean bb_bytes_equal0 (GBytes *a, GBytes *b);

G_END_DECLS

G_BEGIN_DECLS

/* Authentication state of one engine (spec §4.2: the auth mutex). */
typedef struct
{
  gboolean running; /* a login or refresh decision is in progress */
  GQueue waiters;   /* GTasks of ensure calls waiting for it */
} BbSyncAuth;

BbSyncAuth *bb_sync_engine_get_auth (BbSyncEngine *self);

/* Background sync (bb-sync-run.c, spec §7): the run loop and the namespace watch. */
typedef struct _BbWatchRequest BbWatchRequest;

typedef struct
{
  BbTimeSource *time;
  gboolean running;
  guint64 interval; /* ms */
  guint failures;
  guint idle_polls;
  guint timer;
  gboolean wake;             /* schedule_sync, capacity 1 */
  gboolean in_pass;          /* the loop's own pass runs */
  guint generation;          /* counts start(): passes of an earlier run are ignored */
  guint64 not_before;        /* monotonic ms: a server's Retry-After */
  GCancellable *cancellable; /* stop() */

  gboolean watching;
  guint watch_failures;
  guint watch_timer;
  gboolean watch_sleeping;
  gboolean login_for_watch; /* capacity 1: a login succeeded */
  GCancellable *watch_cancellable;
  BbWatchRequest *watch_request; /* the watch's request for a pass */

  /* The network and power state background sync follows (signal handlers while running). */
  GNetworkMonitor *network;
  GPowerProfileMonitor *power;
  gulong network_handler;
  gulong metered_handler;
  gulong power_handler;
  gboolean offline;
} BbSyncRun;

BbSyncRun *bb_sync_engine_get_run (BbSyncEngine *self);
void bb_sync_run_clear (BbSyncRun *run);
/* A login succeeded: drop the failure and idle backoff, wake a sleeping watch (§7.5). */
void bb_sync_run_login_succeeded (BbSyncEngine *self);
/* Whether background sync slows down now: idle polling asked for, or a metered network
 * or power saving (unless the app opted out). */
gboolean bb_sync_run_idle_effective (BbSyncEngine *self);
/* Test hook: the run loop's clock and timers. */
void bb_sync_engine_set_time_source (BbSyncEngine *self, BbTimeSource *source);
/* The watch's check of reported heads against the local ones (spec §7.4). */
gboolean bb_sync_run_namespaces_need_sync (BbSyncEngine *self, GPtrArray *namespaces,
                                           GError **error);

/* Status properties (bb-sync-engine-status.c): setters notify only on change. */
void bb_sync_engine_update_state (BbSyncEngine *self);
void bb_sync_engine_set_syncing (BbSyncEngine *self, gboolean syncing);
void bb_sync_engine_set_progress (BbSyncEngine *self, guint done, guint total);
void bb_sync_engine_add_progress (BbSyncEngine *self, guint done, guint total);
void bb_sync_engine_set_counts (BbSyncEngine *self, guint pending_uploads, guint conflict_count);
void bb_sync_engine_set_pass_result (BbSyncEngine *self, const GError *error);
void bb_sync_engine_set_next_sync (BbSyncEngine *self, gint64 wall_usec);
void bb_sync_auth_clear (BbSyncAuth *auth);

/* Test hook: replaces the wall clock (Unix microseconds) of token checks and records. */
typedef gint64 (*BbSyncNowFunc) (gpointer user_data);
void bb_sync_engine_set_now_func (BbSyncEngine *self, BbSyncNowFunc func, gpointer user_data);

/* --- the item cache (bb-sync-item-cache.c) --- */

typedef struct _BbItemCache BbItemCache;

char *bb_logical_text (const char *collection, const char *key);

BbItemCache *bb_item_cache_new (BbStore *store, const char *key_id);
void bb_item_cache_free (BbItemCache *cache);
void bb_item_cache_clear (BbItemCache *cache);
BbItemState *bb_item_cache_peek_by_id (BbItemCache *cache, const char *namespace_id,
                                       const char *item_id, GError **error);
BbItemState *bb_item_cache_peek_by_logical_key (BbItemCache *cache, const char *namespace_id,
                                                const char *collection, const char *key,
                                                GError **error);
GPtrArray *bb_item_cache_list (BbItemCache *cache, const char *namespace_id, GError **error);
gboolean bb_item_cache_save (BbItemCache *cache, GPtrArray *records, GPtrArray *namespaces,
                             gboolean batch, GError **error);
void bb_item_cache_save_async (BbItemCache *cache, GPtrArray *records, GPtrArray *namespaces,
                               gboolean batch, gpointer source_object, GAsyncReadyCallback callback,
                               gpointer user_data);
gboolean bb_item_cache_save_finish (BbItemCache *cache, GAsyncResult *result, GError **error);
void bb_item_cache_drain (BbItemCache *cache);
BbItemCache *bb_sync_engine_get_item_cache (BbSyncEngine *self);

/* Benchmark and test hook: requests in flight and records per step. (1, 1) is the
 * reference client's pattern: one request at a time, one store transaction per record. */
void bb_sync_engine_set_pipeline (BbSyncEngine *self, guint window, guint chunk);
void bb_sync_engine_get_pipeline (BbSyncEngine *self, guint *window, guint *chunk);

/* Counts activity events (spec §2.9), for the run loop's idle detection. */
guint64 bb_sync_engine_get_activity (BbSyncEngine *self);

G_END_DECLS
