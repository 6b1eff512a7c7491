/* bb-sync-engine-object-private.h: the engine object's fields, shared by the files that
 * make up the object (bb-sync-engine.c and bb-sync-engine-*.c); the engine's other parts
 * (the pass, the run loop, authentication, namespaces) go through the functions of
 * bb-sync-engine-private.h instead (not installed)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "bb-sync-engine-private.h"

G_BEGIN_DECLS

/* The keys derived from one namespace DEK, so HKDF runs once per namespace, not once
 * per item. */
typedef struct
{
  GBytes *dek;
  GBytes *map_key;
  GBytes *blob_key;
  GHashTable *item_ids; /* "len:collection key" → item ID: one HMAC per key and DEK */
} MapKey;

struct _BbSyncEngine
{
  GObject parent_instance;

  BbClient *client;
  BbIdentity *identity;
  BbStore *store;
  GMainContext *context;

  char *key_id;
  char *kind;
  BbIdentityState *identity_state;

  guint poll_interval;
  guint max_poll_interval;
  guint refresh_skew;
  guint invite_ttl;
  gboolean namespace_watch;

  gboolean closed;
  GHashTable *ops; /* GCancellable set, cancelled by close */

  GPtrArray *collections; /* BbCollection, in registry-key order */
  GListStore *namespaces; /* BbNamespace, by (kind, id) */
  GListStore *conflicts;  /* BbConflict */
  GHashTable *map_keys;   /* namespace ID → MapKey */
  BbItemCache *items;
  GHashTable *scope_caches; /* namespace ID → BbScopeCache */

  GQueue pass_queue; /* GTasks of sync calls waiting for the running pass */
  gboolean pass_running;

  BbSyncAuth auth;
  BbSyncRun run;
  guint64 activity;

  /* status (notified only on change) */
  BbSyncState state;
  gboolean syncing;
  gboolean login_required;
  gboolean idle_polling;
  gboolean follow_metered;
  gboolean follow_power_saver;
  GNetworkMonitor *network_monitor;
  GPowerProfileMonitor *power_monitor;
  GDateTime *last_synced;
  GError *last_error;
  guint pending_uploads;
  guint conflict_count;
  GDateTime *next_sync;
  guint progress_done;
  guint progress_total;
  guint window;
  guint chunk;

  BbSyncNowFunc now_func;
  gpointer now_data;
};

enum
{
  PROP_0,
  PROP_CLIENT,
  PROP_IDENTITY,
  PROP_STORE,
  PROP_KEY_ID,
  PROP_POLL_INTERVAL,
  PROP_MAX_POLL_INTERVAL,
  PROP_NAMESPACE_WATCH,
  PROP_REFRESH_SKEW,
  PROP_INVITE_TTL,
  PROP_CLOSED,
  PROP_IDLE_POLLING,
  PROP_STATE,
  PROP_SYNCING,
  PROP_LAST_SYNCED,
  PROP_LAST_ERROR,
  PROP_PENDING_UPLOADS,
  PROP_CONFLICT_COUNT,
  PROP_NEXT_SYNC,
  PROP_PROGRESS_DONE,
  PROP_PROGRESS_TOTAL,
  PROP_NETWORK_MONITOR,
  PROP_POWER_PROFILE_MONITOR,
  PROP_FOLLOW_METERED,
  PROP_FOLLOW_POWER_SAVER,
  N_PROPS
};

extern GParamSpec *bb_sync_engine_properties[N_PROPS];
extern guint bb_sync_engine_signals[BB_SYNC_N_EVENTS];

G_END_DECLS
