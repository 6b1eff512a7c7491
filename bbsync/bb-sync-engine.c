/* bb-sync-engine.c: end-to-end encrypted sync of an app's collections for one identity
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "bb-i18n-private.h"

#include "bb-enum-types.h"
#include "bb-error.h"
#include "bb-protocol.h"
#include "bb-protocol-private.h"
#include "bb-sync-engine-private.h"

/**
 * BbSyncEngine:
 *
 * Syncs an app's collections for one identity through a BitBoxSync server.
 *
 * The app keeps its values in its own storage and exposes each collection through a
 * [iface@BbSync.ValueBackend]. The engine keeps the sync metadata (item versions, the last
 * clean value of each key, dirty and conflict state, namespace keys) in a [iface@BbSync.Store],
 * signs in with a [iface@BbSync.Identity], and talks to the server through a [class@BbSync.Client].
 *
 * A sync pass ([method@BbSync.SyncEngine.sync_async]) compares the backends with the last
 * clean values and queues what changed, fetches what changed on the server, decrypts
 * it and applies it to the backends (merging where both sides changed), then encrypts
 * and uploads the queued values. Every step is checked against what the engine saw
 * before, so a server that rolls back its state is refused with
 * %BB_SYNC_ERROR_ROLLBACK.
 *
 * The engine lives on the thread-default [struct@GLib.MainContext] of the thread that
 * created it. Every signal, every property notification and every call into app code
 * (value backends, [signal@BbSync.Collection::merge] handlers, the identity) happens there.
 * Network I/O is asynchronous on that context; decryption, encryption and bulk store
 * writes are batched, and decryption runs on a worker thread.
 *
 * Since: 0.1
 */
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

static void bb_sync_engine_initable_iface_init (GInitableIface *iface);
static void bb_sync_engine_async_initable_iface_init (GAsyncInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (BbSyncEngine, bb_sync_engine, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                      bb_sync_engine_initable_iface_init)
                                   G_IMPLEMENT_INTERFACE (G_TYPE_ASYNC_INITABLE,
                                                          bb_sync_engine_async_initable_iface_init))

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

static GParamSpec *properties[N_PROPS];
static guint signals[BB_SYNC_N_EVENTS];

/* The keys derived from one namespace DEK, so HKDF runs once per namespace, not once
 * per item. */
typedef struct
{
  GBytes *dek;
  GBytes *map_key;
  GBytes *blob_key;
  GHashTable *item_ids; /* "len:collection key" → item ID: one HMAC per key and DEK */
} MapKey;

static void
map_key_free (MapKey *mk)
{
  g_bytes_unref (mk->dek);
  g_bytes_unref (mk->map_key);
  g_bytes_unref (mk->blob_key);
  g_hash_table_unref (mk->item_ids);
  g_free (mk);
}

/* --- construction --- */

static gboolean
bb_sync_engine_initable_init (GInitable *initable, GCancellable *cancellable, GError **error)
{
  BbSyncEngine *self = BB_SYNC_ENGINE (initable);
  g_autoptr (GPtrArray) namespaces = NULL;
  GError *local_error = NULL;

  if (self->client == NULL || self->identity == NULL || self->store == NULL)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   self->client == NULL     ? _ ("The sync engine needs a client")
                   : self->identity == NULL ? _ ("The sync engine needs an identity")
                                            : _ ("The sync engine needs a store"));
      return FALSE;
    }
  if (self->key_id != NULL)
    return TRUE;

  self->key_id = bb_identity_get_key_id (self->identity);
  self->kind = bb_identity_get_kind (self->identity);
  if (self->key_id == NULL || self->kind == NULL)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("The identity has no key ID or kind"));
      return FALSE;
    }

  self->identity_state = bb_store_load_identity (self->store, self->key_id, &local_error);
  if (self->identity_state == NULL)
    {
      if (!g_error_matches (local_error, BB_SYNC_ERROR, BB_SYNC_ERROR_NOT_FOUND))
        {
          g_propagate_error (error, local_error);
          return FALSE;
        }
      g_clear_error (&local_error);
      /* Not saved until something changes (spec §4.1). */
      self->identity_state = bb_identity_state_new (self->key_id);
      bb_identity_state_set_kind (self->identity_state, self->kind);
    }

  self->items = bb_item_cache_new (self->store, self->key_id);
  namespaces = bb_store_list_namespaces (self->store, self->key_id, error);
  if (namespaces == NULL)
    return FALSE;
  for (guint i = 0; i < namespaces->len; i++)
    {
      BbNamespaceState *ns = g_ptr_array_index (namespaces, i);
      g_object_unref (bb_sync_engine_ensure_namespace_handle (
          self, bb_namespace_state_get_namespace_id (ns), bb_namespace_state_get_kind (ns)));
    }
  return TRUE;
}

static void
bb_sync_engine_initable_iface_init (GInitableIface *iface)
{
  iface->init = bb_sync_engine_initable_init;
}

static void
bb_sync_engine_async_initable_iface_init (GAsyncInitableIface *iface)
{
  /* The default runs GInitable.init in a worker thread: store reads only, no app code. */
}

static void
bb_sync_engine_dispose (GObject *object)
{
  BbSyncEngine *self = BB_SYNC_ENGINE (object);

  bb_sync_engine_close (self);
  g_clear_pointer (&self->scope_caches, g_hash_table_unref);
  g_clear_pointer (&self->collections, g_ptr_array_unref);
  if (self->namespaces != NULL)
    g_list_store_remove_all (self->namespaces);
  if (self->conflicts != NULL)
    g_list_store_remove_all (self->conflicts);
  g_clear_object (&self->client);
  g_clear_object (&self->identity);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (bb_sync_engine_parent_class)->dispose (object);
}

static void
bb_sync_engine_finalize (GObject *object)
{
  BbSyncEngine *self = BB_SYNC_ENGINE (object);

  g_clear_object (&self->namespaces);
  g_clear_object (&self->conflicts);
  g_clear_pointer (&self->map_keys, g_hash_table_unref);
  g_clear_pointer (&self->items, bb_item_cache_free);
  g_clear_pointer (&self->ops, g_hash_table_unref);
  g_clear_object (&self->identity_state);
  g_clear_pointer (&self->last_synced, g_date_time_unref);
  g_clear_pointer (&self->next_sync, g_date_time_unref);
  g_clear_object (&self->network_monitor);
  g_clear_object (&self->power_monitor);
  g_clear_error (&self->last_error);
  bb_sync_run_clear (&self->run);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_free (self->key_id);
  g_free (self->kind);

  G_OBJECT_CLASS (bb_sync_engine_parent_class)->finalize (object);
}

static void
bb_sync_engine_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BbSyncEngine *self = BB_SYNC_ENGINE (object);

  switch (prop_id)
    {
      case PROP_CLIENT:
        g_value_set_object (value, self->client);
        break;
      case PROP_IDENTITY:
        g_value_set_object (value, self->identity);
        break;
      case PROP_STORE:
        g_value_set_object (value, self->store);
        break;
      case PROP_KEY_ID:
        g_value_set_string (value, self->key_id);
        break;
      case PROP_POLL_INTERVAL:
        g_value_set_uint (value, self->poll_interval);
        break;
      case PROP_MAX_POLL_INTERVAL:
        g_value_set_uint (value, self->max_poll_interval);
        break;
      case PROP_NAMESPACE_WATCH:
        g_value_set_boolean (value, self->namespace_watch);
        break;
      case PROP_REFRESH_SKEW:
        g_value_set_uint (value, self->refresh_skew);
        break;
      case PROP_INVITE_TTL:
        g_value_set_uint (value, self->invite_ttl);
        break;
      case PROP_CLOSED:
        g_value_set_boolean (value, self->closed);
        break;
      case PROP_IDLE_POLLING:
        g_value_set_boolean (value, self->idle_polling);
        break;
      case PROP_STATE:
        g_value_set_enum (value, self->state);
        break;
      case PROP_SYNCING:
        g_value_set_boolean (value, self->syncing);
        break;
      case PROP_LAST_SYNCED:
        g_value_set_boxed (value, self->last_synced);
        break;
      case PROP_LAST_ERROR:
        g_value_set_boxed (value, self->last_error);
        break;
      case PROP_PENDING_UPLOADS:
        g_value_set_uint (value, self->pending_uploads);
        break;
      case PROP_CONFLICT_COUNT:
        g_value_set_uint (value, self->conflict_count);
        break;
      case PROP_NEXT_SYNC:
        g_value_set_boxed (value, self->next_sync);
        break;
      case PROP_PROGRESS_DONE:
        g_value_set_uint (value, self->progress_done);
        break;
      case PROP_PROGRESS_TOTAL:
        g_value_set_uint (value, self->progress_total);
        break;
      case PROP_NETWORK_MONITOR:
        g_value_set_object (value, self->network_monitor);
        break;
      case PROP_POWER_PROFILE_MONITOR:
        g_value_set_object (value, self->power_monitor);
        break;
      case PROP_FOLLOW_METERED:
        g_value_set_boolean (value, self->follow_metered);
        break;
      case PROP_FOLLOW_POWER_SAVER:
        g_value_set_boolean (value, self->follow_power_saver);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bb_sync_engine_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  BbSyncEngine *self = BB_SYNC_ENGINE (object);

  switch (prop_id)
    {
      case PROP_CLIENT:
        self->client = g_value_dup_object (value);
        break;
      case PROP_IDENTITY:
        self->identity = g_value_dup_object (value);
        break;
      case PROP_STORE:
        self->store = g_value_dup_object (value);
        break;
      case PROP_POLL_INTERVAL:
        bb_sync_engine_set_poll_interval (self, g_value_get_uint (value));
        break;
      case PROP_MAX_POLL_INTERVAL:
        bb_sync_engine_set_max_poll_interval (self, g_value_get_uint (value));
        break;
      case PROP_NAMESPACE_WATCH:
        bb_sync_engine_set_namespace_watch (self, g_value_get_boolean (value));
        break;
      case PROP_REFRESH_SKEW:
        bb_sync_engine_set_refresh_skew (self, g_value_get_uint (value));
        break;
      case PROP_INVITE_TTL:
        bb_sync_engine_set_invite_ttl (self, g_value_get_uint (value));
        break;
      case PROP_IDLE_POLLING:
        bb_sync_engine_set_idle_polling (self, g_value_get_boolean (value));
        break;
      case PROP_NETWORK_MONITOR:
        bb_sync_engine_set_network_monitor (self, g_value_get_object (value));
        break;
      case PROP_POWER_PROFILE_MONITOR:
        bb_sync_engine_set_power_profile_monitor (self, g_value_get_object (value));
        break;
      case PROP_FOLLOW_METERED:
        bb_sync_engine_set_follow_metered (self, g_value_get_boolean (value));
        break;
      case PROP_FOLLOW_POWER_SAVER:
        bb_sync_engine_set_follow_power_saver (self, g_value_get_boolean (value));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static guint
new_item_signal (BbSyncEngineClass *klass, const char *name)
{
  return g_signal_new (name, G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED, 0,
                       NULL, NULL, NULL, G_TYPE_NONE, 4, G_TYPE_STRING, G_TYPE_STRING,
                       G_TYPE_STRING, G_TYPE_STRING);
}

static guint
new_auth_signal (BbSyncEngineClass *klass, const char *name)
{
  return g_signal_new (name, G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                       G_TYPE_NONE, 1, G_TYPE_DATE_TIME);
}

static void
bb_sync_engine_class_init (BbSyncEngineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags construct = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;
  GParamFlags ro_notify = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->dispose = bb_sync_engine_dispose;
  object_class->finalize = bb_sync_engine_finalize;
  object_class->get_property = bb_sync_engine_get_property;
  object_class->set_property = bb_sync_engine_set_property;

  /**
   * BbSyncEngine:client:
   *
   * The client the engine talks to the server with.
   *
   * Since: 0.1
   */
  properties[PROP_CLIENT] = g_param_spec_object ("client", NULL, NULL, BB_TYPE_CLIENT, construct);

  /**
   * BbSyncEngine:identity:
   *
   * The identity the engine signs in with and unwraps namespace keys with.
   *
   * Since: 0.1
   */
  properties[PROP_IDENTITY]
      = g_param_spec_object ("identity", NULL, NULL, BB_TYPE_IDENTITY, construct);

  /**
   * BbSyncEngine:store:
   *
   * The store of the sync metadata. Several engines with different identities may share
   * one store; the engine does not close it.
   *
   * Since: 0.1
   */
  properties[PROP_STORE] = g_param_spec_object ("store", NULL, NULL, BB_TYPE_STORE, construct);

  /**
   * BbSyncEngine:key-id:
   *
   * The key ID of the identity: lower-case hex SHA-256 of its auth public key.
   *
   * Since: 0.1
   */
  properties[PROP_KEY_ID]
      = g_param_spec_string ("key-id", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * BbSyncEngine:poll-interval:
   *
   * The base period of background polling, in milliseconds. 0 restores the default,
   * %BB_SYNC_ENGINE_DEFAULT_POLL_INTERVAL.
   *
   * Since: 0.1
   */
  properties[PROP_POLL_INTERVAL] = g_param_spec_uint ("poll-interval", NULL, NULL, 0, G_MAXUINT,
                                                      BB_SYNC_ENGINE_DEFAULT_POLL_INTERVAL, rw);

  /**
   * BbSyncEngine:max-poll-interval:
   *
   * The upper bound of failure and idle backoff, in milliseconds. A value below
   * [property@BbSync.SyncEngine:poll-interval] becomes the larger of 60 minutes and the poll
   * interval; a value equal to it disables backoff.
   *
   * Since: 0.1
   */
  properties[PROP_MAX_POLL_INTERVAL] = g_param_spec_uint (
      "max-poll-interval", NULL, NULL, 0, G_MAXUINT, BB_SYNC_ENGINE_DEFAULT_MAX_POLL_INTERVAL, rw);

  /**
   * BbSyncEngine:namespace-watch:
   *
   * Whether background sync also keeps a long-poll watch open, so that remote changes
   * arrive within seconds instead of at the next poll.
   *
   * Since: 0.1
   */
  properties[PROP_NAMESPACE_WATCH] = g_param_spec_boolean ("namespace-watch", NULL, NULL, TRUE, rw);

  /**
   * BbSyncEngine:refresh-skew:
   *
   * How long before its expiry the engine refreshes the bearer token, in seconds. 0
   * restores the default, %BB_SYNC_ENGINE_DEFAULT_REFRESH_SKEW.
   *
   * Since: 0.1
   */
  properties[PROP_REFRESH_SKEW] = g_param_spec_uint ("refresh-skew", NULL, NULL, 0, G_MAXUINT,
                                                     BB_SYNC_ENGINE_DEFAULT_REFRESH_SKEW, rw);

  /**
   * BbSyncEngine:invite-ttl:
   *
   * The default lifetime of invites, in seconds. 0 restores the default,
   * %BB_SYNC_ENGINE_DEFAULT_INVITE_TTL.
   *
   * Since: 0.1
   */
  properties[PROP_INVITE_TTL] = g_param_spec_uint ("invite-ttl", NULL, NULL, 0, G_MAXUINT,
                                                   BB_SYNC_ENGINE_DEFAULT_INVITE_TTL, rw);

  /**
   * BbSyncEngine:closed:
   *
   * Whether [method@BbSync.SyncEngine.close] was called.
   *
   * Since: 0.1
   */
  properties[PROP_CLOSED]
      = g_param_spec_boolean ("closed", NULL, NULL, FALSE,
                              G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * BbSyncEngine:idle-polling:
   *
   * Whether background polling slows down after quiet passes (up to
   * [property@BbSync.SyncEngine:max-poll-interval]), for an app that is idle. Setting it also
   * schedules a sync. Wake-ups and remote changes always bring the interval back to
   * [property@BbSync.SyncEngine:poll-interval].
   *
   * Since: 0.1
   */
  properties[PROP_IDLE_POLLING] = g_param_spec_boolean ("idle-polling", NULL, NULL, FALSE, rw);

  /**
   * BbSyncEngine:state:
   *
   * What sync is doing now; bind a status line to it.
   *
   * Since: 0.1
   */
  properties[PROP_STATE] = g_param_spec_enum ("state", NULL, NULL, BB_TYPE_SYNC_STATE,
                                              BB_SYNC_STATE_STOPPED, ro_notify);

  /**
   * BbSyncEngine:syncing:
   *
   * Whether a pass runs (started by [method@BbSync.SyncEngine.sync_async] or by background
   * sync).
   *
   * Since: 0.1
   */
  properties[PROP_SYNCING] = g_param_spec_boolean ("syncing", NULL, NULL, FALSE, ro_notify);

  /**
   * BbSyncEngine:last-synced:
   *
   * When the last pass succeeded, or %NULL before the first.
   *
   * Since: 0.1
   */
  properties[PROP_LAST_SYNCED]
      = g_param_spec_boxed ("last-synced", NULL, NULL, G_TYPE_DATE_TIME, ro_notify);

  /**
   * BbSyncEngine:last-error:
   *
   * Why the last pass failed, or %NULL when it succeeded.
   *
   * Since: 0.1
   */
  properties[PROP_LAST_ERROR]
      = g_param_spec_boxed ("last-error", NULL, NULL, G_TYPE_ERROR, ro_notify);

  /**
   * BbSyncEngine:pending-uploads:
   *
   * How many local changes wait for upload (conflicts not counted). It follows a pass as
   * it queues and uploads, and is recounted at the end of every pass and resolution.
   *
   * Since: 0.1
   */
  properties[PROP_PENDING_UPLOADS]
      = g_param_spec_uint ("pending-uploads", NULL, NULL, 0, G_MAXUINT, 0, ro_notify);

  /**
   * BbSyncEngine:conflict-count:
   *
   * The number of items in [method@BbSync.SyncEngine.get_conflicts].
   *
   * Since: 0.1
   */
  properties[PROP_CONFLICT_COUNT]
      = g_param_spec_uint ("conflict-count", NULL, NULL, 0, G_MAXUINT, 0, ro_notify);

  /**
   * BbSyncEngine:next-sync:
   *
   * When background sync runs its next timed pass, or %NULL when none is planned.
   *
   * Since: 0.1
   */
  properties[PROP_NEXT_SYNC]
      = g_param_spec_boxed ("next-sync", NULL, NULL, G_TYPE_DATE_TIME, ro_notify);

  /**
   * BbSyncEngine:progress-done:
   *
   * Items downloaded or uploaded so far in the current pass (with
   * [property@BbSync.SyncEngine:progress-total]: "downloading 4 200 of 10 000").
   *
   * Since: 0.1
   */
  properties[PROP_PROGRESS_DONE]
      = g_param_spec_uint ("progress-done", NULL, NULL, 0, G_MAXUINT, 0, ro_notify);

  /**
   * BbSyncEngine:progress-total:
   *
   * Items to download or upload in the current pass, as far as known yet.
   *
   * Since: 0.1
   */
  properties[PROP_PROGRESS_TOTAL]
      = g_param_spec_uint ("progress-total", NULL, NULL, 0, G_MAXUINT, 0, ro_notify);

  /**
   * BbSyncEngine:network-monitor:
   *
   * The network monitor background sync follows, or %NULL for
   * g_network_monitor_get_default(). While the network is down the state is
   * %BB_SYNC_STATE_OFFLINE, no backoff accumulates, and a pass runs as soon as it comes
   * back. With the default monitor, a server on a loopback address counts as always
   * reachable. Takes effect when background sync (re)starts.
   *
   * Since: 0.1
   */
  properties[PROP_NETWORK_MONITOR]
      = g_param_spec_object ("network-monitor", NULL, NULL, G_TYPE_NETWORK_MONITOR, rw);

  /**
   * BbSyncEngine:power-profile-monitor:
   *
   * The power profile monitor background sync follows, or %NULL for
   * g_power_profile_monitor_dup_default(). Takes effect when background sync (re)starts.
   *
   * Since: 0.1
   */
  properties[PROP_POWER_PROFILE_MONITOR]
      = g_param_spec_object ("power-profile-monitor", NULL, NULL, G_TYPE_POWER_PROFILE_MONITOR, rw);

  /**
   * BbSyncEngine:follow-metered:
   *
   * Whether background sync polls as if [property@BbSync.SyncEngine:idle-polling] were on
   * while the network is metered.
   *
   * Since: 0.1
   */
  properties[PROP_FOLLOW_METERED] = g_param_spec_boolean ("follow-metered", NULL, NULL, TRUE, rw);

  /**
   * BbSyncEngine:follow-power-saver:
   *
   * Whether background sync, while power saving is on, polls as if
   * [property@BbSync.SyncEngine:idle-polling] were on and keeps no long poll open.
   *
   * Since: 0.1
   */
  properties[PROP_FOLLOW_POWER_SAVER]
      = g_param_spec_boolean ("follow-power-saver", NULL, NULL, TRUE, rw);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * BbSyncEngine::auth-login-required:
   * @engine: the engine
   * @token_expires_at: (nullable): the expiry of the token the engine held, or %NULL
   *
   * An automatic login failed, or [method@BbSync.SyncEngine.revoke_all_tokens_async] succeeded.
   * Sync stays off until a login succeeds; an app may ask the user (a hardware identity
   * needs the device).
   *
   * Since: 0.1
   */
  signals[BB_SYNC_EVENT_AUTH_LOGIN_REQUIRED] = new_auth_signal (klass, "auth-login-required");

  /**
   * BbSyncEngine::auth-refresh-recommended:
   * @engine: the engine
   * @token_expires_at: (nullable): the expiry of the current token
   *
   * The token expires within [property@BbSync.SyncEngine:refresh-skew]; the engine tries a
   * refresh right after this signal and keeps using the token if that fails.
   *
   * Since: 0.1
   */
  signals[BB_SYNC_EVENT_AUTH_REFRESH_RECOMMENDED]
      = new_auth_signal (klass, "auth-refresh-recommended");

  /**
   * BbSyncEngine::auth-session-ready:
   * @engine: the engine
   * @token_expires_at: (nullable): the expiry of the new token
   *
   * A login or refresh succeeded and its token was saved.
   *
   * Since: 0.1
   */
  signals[BB_SYNC_EVENT_AUTH_SESSION_READY] = new_auth_signal (klass, "auth-session-ready");

  /**
   * BbSyncEngine::sync-started:
   * @engine: the engine
   *
   * A sync pass starts.
   *
   * Since: 0.1
   */
  signals[BB_SYNC_EVENT_SYNC_STARTED]
      = g_signal_new ("sync-started", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 0);

  /**
   * BbSyncEngine::sync-finished:
   * @engine: the engine
   *
   * A sync pass succeeded.
   *
   * Since: 0.1
   */
  signals[BB_SYNC_EVENT_SYNC_FINISHED]
      = g_signal_new ("sync-finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 0);

  /**
   * BbSyncEngine::sync-failed:
   * @engine: the engine
   * @error: why the pass failed
   *
   * A sync pass failed. What it saved before the failure stays saved.
   *
   * Since: 0.1
   */
  signals[BB_SYNC_EVENT_SYNC_FAILED]
      = g_signal_new ("sync-failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                      NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);

  /**
   * BbSyncEngine::namespace-watch-failed:
   * @engine: the engine
   * @error: why the watch failed
   *
   * The long-poll watch of background sync failed and backs off.
   *
   * Since: 0.1
   */
  signals[BB_SYNC_EVENT_NAMESPACE_WATCH_FAILED]
      = g_signal_new ("namespace-watch-failed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                      NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);

  /**
   * BbSyncEngine::namespace-changed:
   * @engine: the engine
   * @namespace_id: the namespace
   *
   * The engine reconciled the item map of a namespace and saved its new head.
   *
   * Since: 0.1
   */
  signals[BB_SYNC_EVENT_NAMESPACE_CHANGED]
      = g_signal_new ("namespace-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                      NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  /**
   * BbSyncEngine::item-changed:
   * @engine: the engine
   * @namespace_id: the namespace
   * @collection: the collection
   * @key: the key
   * @item_id: the opaque item ID
   *
   * A remote value was applied to the backend, or a merge was resolved. The detail is
   * the collection name: connect to `item-changed::tx-notes` for one collection.
   *
   * Since: 0.1
   */
  signals[BB_SYNC_EVENT_ITEM_CHANGED] = new_item_signal (klass, "item-changed");

  /**
   * BbSyncEngine::item-downloaded:
   * @engine: the engine
   * @namespace_id: the namespace
   * @collection: the collection
   * @key: the key
   * @item_id: the opaque item ID
   *
   * A remote value replaced the backend's value; always right after
   * [signal@BbSync.SyncEngine::item-changed]. Detailed by collection name.
   *
   * Since: 0.1
   */
  signals[BB_SYNC_EVENT_ITEM_DOWNLOADED] = new_item_signal (klass, "item-downloaded");

  /**
   * BbSyncEngine::item-uploaded:
   * @engine: the engine
   * @namespace_id: the namespace
   * @collection: the collection
   * @key: the key
   * @item_id: the opaque item ID
   *
   * A local value was uploaded and saved as the new clean value. Detailed by
   * collection name.
   *
   * Since: 0.1
   */
  signals[BB_SYNC_EVENT_ITEM_UPLOADED] = new_item_signal (klass, "item-uploaded");

  /**
   * BbSyncEngine::item-queued:
   * @engine: the engine
   * @namespace_id: the namespace
   * @collection: the collection
   * @key: the key
   * @item_id: the opaque item ID
   *
   * A local value was queued for upload. Detailed by collection name.
   *
   * Since: 0.1
   */
  signals[BB_SYNC_EVENT_ITEM_QUEUED] = new_item_signal (klass, "item-queued");

  /**
   * BbSyncEngine::conflict-detected:
   * @engine: the engine
   * @namespace_id: the namespace
   * @collection: the collection
   * @key: the key
   * @item_id: the opaque item ID
   *
   * A merge was left unresolved, or a remote update arrived for a key that already has
   * a conflict. See [method@BbSync.SyncEngine.get_conflicts]. Detailed by collection name.
   *
   * Since: 0.1
   */
  signals[BB_SYNC_EVENT_CONFLICT_DETECTED] = new_item_signal (klass, "conflict-detected");

  /**
   * BbSyncEngine::unknown-remote-item:
   * @engine: the engine
   * @namespace_id: the namespace
   * @item_id: the opaque item ID
   *
   * The server lists an item that no open collection and no known key maps to (another
   * device's collection or key this app does not have in scope).
   *
   * Since: 0.1
   */
  signals[BB_SYNC_EVENT_UNKNOWN_REMOTE_ITEM]
      = g_signal_new ("unknown-remote-item", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                      NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
}

static void
bb_sync_engine_init (BbSyncEngine *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->poll_interval = BB_SYNC_ENGINE_DEFAULT_POLL_INTERVAL;
  self->max_poll_interval = BB_SYNC_ENGINE_DEFAULT_MAX_POLL_INTERVAL;
  self->namespace_watch = TRUE;
  self->refresh_skew = BB_SYNC_ENGINE_DEFAULT_REFRESH_SKEW;
  self->invite_ttl = BB_SYNC_ENGINE_DEFAULT_INVITE_TTL;
  self->run.time = bb_time_source_new_default ();
  self->follow_metered = TRUE;
  self->follow_power_saver = TRUE;
  self->window = BB_SYNC_WINDOW;
  self->chunk = BB_SYNC_CHUNK;
  self->ops = g_hash_table_new_full (NULL, NULL, g_object_unref, NULL);
  self->collections = g_ptr_array_new_with_free_func (g_object_unref);
  self->namespaces = g_list_store_new (BB_TYPE_NAMESPACE);
  self->conflicts = g_list_store_new (BB_TYPE_CONFLICT);
  self->scope_caches = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                              (GDestroyNotify)bb_scope_cache_free);
  self->map_keys
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)map_key_free);
  g_queue_init (&self->pass_queue);
  g_queue_init (&self->auth.waiters);
}

/**
 * bb_sync_engine_new:
 * @client: the client to talk to the server with
 * @identity: the identity to sign in with
 * @store: the store of the sync metadata
 * @error: return location for a [struct@GLib.Error]
 *
 * Creates an engine for @identity on the thread-default main context. It loads the
 * identity's record from @store and does no network I/O. Open the app's collections
 * with [method@BbSync.Namespace.open_collection] on the namespaces, then call
 * [method@BbSync.SyncEngine.sync_async].
 *
 * The engine keeps the identity's sync records in memory and writes them through to
 * the store: while it is open, change them only through the engine (one engine per identity
 * and store).
 *
 * Returns: (transfer full): the engine, or %NULL if the store cannot be read
 *
 * Since: 0.1
 */
BbSyncEngine *
bb_sync_engine_new (BbClient *client, BbIdentity *identity, BbStore *store, GError **error)
{
  g_return_val_if_fail (BB_IS_CLIENT (client), NULL);
  g_return_val_if_fail (BB_IS_IDENTITY (identity), NULL);
  g_return_val_if_fail (BB_IS_STORE (store), NULL);

  return g_initable_new (BB_TYPE_SYNC_ENGINE, NULL, error, "client", client, "identity", identity,
                         "store", store, NULL);
}

/**
 * bb_sync_engine_new_async:
 * @client: the client to talk to the server with
 * @identity: the identity to sign in with
 * @store: the store of the sync metadata
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the engine is ready
 * @user_data: data for @callback
 *
 * Like [ctor@BbSync.SyncEngine.new], but reads the store on a worker thread.
 *
 * Since: 0.1
 */
void
bb_sync_engine_new_async (BbClient *client, BbIdentity *identity, BbStore *store,
                          GCancellable *cancellable, GAsyncReadyCallback callback,
                          gpointer user_data)
{
  g_return_if_fail (BB_IS_CLIENT (client));
  g_return_if_fail (BB_IS_IDENTITY (identity));
  g_return_if_fail (BB_IS_STORE (store));

  g_async_initable_new_async (BB_TYPE_SYNC_ENGINE, G_PRIORITY_DEFAULT, cancellable, callback,
                              user_data, "client", client, "identity", identity, "store", store,
                              NULL);
}

/**
 * bb_sync_engine_new_finish:
 * @result: the result passed to the callback
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [func@BbSync.SyncEngine.new_async].
 *
 * Returns: (transfer full): the engine, or %NULL on error
 *
 * Since: 0.1
 */
BbSyncEngine *
bb_sync_engine_new_finish (GAsyncResult *result, GError **error)
{
  g_autoptr (GObject) source = g_async_result_get_source_object (result);
  GObject *object = g_async_initable_new_finish (G_ASYNC_INITABLE (source), result, error);

  return object != NULL ? BB_SYNC_ENGINE (object) : NULL;
}

/* --- accessors --- */

/**
 * bb_sync_engine_get_client:
 * @self: a [class@BbSync.SyncEngine]
 *
 * Gets the client the engine talks to the server with.
 *
 * Returns: (transfer none): the client
 *
 * Since: 0.1
 */
BbClient *
bb_sync_engine_get_client (BbSyncEngine *self)
{
  g_return_val_if_fail (BB_IS_SYNC_ENGINE (self), NULL);
  return self->client;
}

/**
 * bb_sync_engine_get_identity:
 * @self: a [class@BbSync.SyncEngine]
 *
 * Gets the identity the engine signs in with and unwraps namespace keys with.
 *
 * Returns: (transfer none): the identity
 *
 * Since: 0.1
 */
BbIdentity *
bb_sync_engine_get_identity (BbSyncEngine *self)
{
  g_return_val_if_fail (BB_IS_SYNC_ENGINE (self), NULL);
  return self->identity;
}

/**
 * bb_sync_engine_get_store:
 * @self: a [class@BbSync.SyncEngine]
 *
 * Gets the store of the engine's sync metadata. It may be shared with other engines;
 * closing the engine does not close it.
 *
 * Returns: (transfer none): the store
 *
 * Since: 0.1
 */
BbStore *
bb_sync_engine_get_store (BbSyncEngine *self)
{
  g_return_val_if_fail (BB_IS_SYNC_ENGINE (self), NULL);
  return self->store;
}

/**
 * bb_sync_engine_get_key_id:
 * @self: a [class@BbSync.SyncEngine]
 *
 * Gets the key ID of the engine's identity, in lower-case hex. Its records in the store
 * are kept under it.
 *
 * Returns: the key ID of the identity, see [property@BbSync.SyncEngine:key-id]
 *
 * Since: 0.1
 */
const char *
bb_sync_engine_get_key_id (BbSyncEngine *self)
{
  g_return_val_if_fail (BB_IS_SYNC_ENGINE (self), NULL);
  return self->key_id;
}

/**
 * bb_sync_engine_is_closed:
 * @self: a [class@BbSync.SyncEngine]
 *
 * Gets whether [method@BbSync.SyncEngine.close] was called. A closed engine starts no
 * pass and its asynchronous calls fail.
 *
 * Returns: whether [method@BbSync.SyncEngine.close] was called
 *
 * Since: 0.1
 */
gboolean
bb_sync_engine_is_closed (BbSyncEngine *self)
{
  g_return_val_if_fail (BB_IS_SYNC_ENGINE (self), TRUE);
  return self->closed;
}

/**
 * bb_sync_engine_get_poll_interval:
 * @self: a [class@BbSync.SyncEngine]
 *
 * Gets the base period of background polling, in milliseconds.
 *
 * Returns: the poll interval in milliseconds, see [property@BbSync.SyncEngine:poll-interval]
 *
 * Since: 0.1
 */
guint
bb_sync_engine_get_poll_interval (BbSyncEngine *self)
{
  g_return_val_if_fail (BB_IS_SYNC_ENGINE (self), 0);
  return self->poll_interval;
}

/* MaxPollInterval is checked after PollInterval is defaulted (spec §2.1). */
static void
apply_interval_rules (BbSyncEngine *self)
{
  guint max = self->max_poll_interval;

  if (max < self->poll_interval)
    max = MAX ((guint)BB_SYNC_ENGINE_DEFAULT_MAX_POLL_INTERVAL, self->poll_interval);
  if (max != self->max_poll_interval)
    {
      self->max_poll_interval = max;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_POLL_INTERVAL]);
    }
}

/**
 * bb_sync_engine_set_poll_interval:
 * @self: a [class@BbSync.SyncEngine]
 * @interval_ms: the poll interval in milliseconds, or 0 for the default
 *
 * Sets [property@BbSync.SyncEngine:poll-interval].
 *
 * Since: 0.1
 */
void
bb_sync_engine_set_poll_interval (BbSyncEngine *self, guint interval_ms)
{
  g_return_if_fail (BB_IS_SYNC_ENGINE (self));

  if (interval_ms == 0)
    interval_ms = BB_SYNC_ENGINE_DEFAULT_POLL_INTERVAL;
  if (self->poll_interval != interval_ms)
    {
      self->poll_interval = interval_ms;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_POLL_INTERVAL]);
    }
  apply_interval_rules (self);
}

/**
 * bb_sync_engine_get_max_poll_interval:
 * @self: a [class@BbSync.SyncEngine]
 *
 * Gets the upper bound of failure and idle backoff, in milliseconds.
 *
 * Returns: the maximum poll interval in milliseconds, see
 *   [property@BbSync.SyncEngine:max-poll-interval]
 *
 * Since: 0.1
 */
guint
bb_sync_engine_get_max_poll_interval (BbSyncEngine *self)
{
  g_return_val_if_fail (BB_IS_SYNC_ENGINE (self), 0);
  return self->max_poll_interval;
}

/**
 * bb_sync_engine_set_max_poll_interval:
 * @self: a [class@BbSync.SyncEngine]
 * @interval_ms: the maximum poll interval in milliseconds
 *
 * Sets [property@BbSync.SyncEngine:max-poll-interval].
 *
 * Since: 0.1
 */
void
bb_sync_engine_set_max_poll_interval (BbSyncEngine *self, guint interval_ms)
{
  g_return_if_fail (BB_IS_SYNC_ENGINE (self));

  if (self->max_poll_interval != interval_ms)
    {
      self->max_poll_interval = interval_ms;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_POLL_INTERVAL]);
    }
  apply_interval_rules (self);
}

/**
 * bb_sync_engine_get_namespace_watch:
 * @self: a [class@BbSync.SyncEngine]
 *
 * Gets whether background sync also keeps a long poll open, so remote changes arrive
 * within seconds instead of at the next poll.
 *
 * Returns: whether background sync keeps a long-poll watch open
 *
 * Since: 0.1
 */
gboolean
bb_sync_engine_get_namespace_watch (BbSyncEngine *self)
{
  g_return_val_if_fail (BB_IS_SYNC_ENGINE (self), FALSE);
  return self->namespace_watch;
}

/**
 * bb_sync_engine_set_namespace_watch:
 * @self: a [class@BbSync.SyncEngine]
 * @enabled: whether to keep a long-poll watch open
 *
 * Sets [property@BbSync.SyncEngine:namespace-watch].
 *
 * Since: 0.1
 */
void
bb_sync_engine_set_namespace_watch (BbSyncEngine *self, gboolean enabled)
{
  g_return_if_fail (BB_IS_SYNC_ENGINE (self));

  enabled = !!enabled;
  if (self->namespace_watch == enabled)
    return;
  self->namespace_watch = enabled;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NAMESPACE_WATCH]);
}

/**
 * bb_sync_engine_get_refresh_skew:
 * @self: a [class@BbSync.SyncEngine]
 *
 * Gets how long before its expiry the engine refreshes the bearer token, in seconds.
 *
 * Returns: the refresh skew in seconds, see [property@BbSync.SyncEngine:refresh-skew]
 *
 * Since: 0.1
 */
guint
bb_sync_engine_get_refresh_skew (BbSyncEngine *self)
{
  g_return_val_if_fail (BB_IS_SYNC_ENGINE (self), 0);
  return self->refresh_skew;
}

/**
 * bb_sync_engine_set_refresh_skew:
 * @self: a [class@BbSync.SyncEngine]
 * @skew_seconds: the refresh skew in seconds, or 0 for the default
 *
 * Sets [property@BbSync.SyncEngine:refresh-skew].
 *
 * Since: 0.1
 */
void
bb_sync_engine_set_refresh_skew (BbSyncEngine *self, guint skew_seconds)
{
  g_return_if_fail (BB_IS_SYNC_ENGINE (self));

  if (skew_seconds == 0)
    skew_seconds = BB_SYNC_ENGINE_DEFAULT_REFRESH_SKEW;
  if (self->refresh_skew == skew_seconds)
    return;
  self->refresh_skew = skew_seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REFRESH_SKEW]);
}

/**
 * bb_sync_engine_get_invite_ttl:
 * @self: a [class@BbSync.SyncEngine]
 *
 * Gets the lifetime of the invites the engine creates when the app asks for no other, in
 * seconds.
 *
 * Returns: the default invite lifetime in seconds, see [property@BbSync.SyncEngine:invite-ttl]
 *
 * Since: 0.1
 */
guint
bb_sync_engine_get_invite_ttl (BbSyncEngine *self)
{
  g_return_val_if_fail (BB_IS_SYNC_ENGINE (self), 0);
  return self->invite_ttl;
}

/**
 * bb_sync_engine_set_invite_ttl:
 * @self: a [class@BbSync.SyncEngine]
 * @ttl_seconds: the default invite lifetime in seconds, or 0 for the default
 *
 * Sets [property@BbSync.SyncEngine:invite-ttl].
 *
 * Since: 0.1
 */
void
bb_sync_engine_set_invite_ttl (BbSyncEngine *self, guint ttl_seconds)
{
  g_return_if_fail (BB_IS_SYNC_ENGINE (self));

  if (ttl_seconds == 0)
    ttl_seconds = BB_SYNC_ENGINE_DEFAULT_INVITE_TTL;
  if (self->invite_ttl == ttl_seconds)
    return;
  self->invite_ttl = ttl_seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_INVITE_TTL]);
}

/* --- internal state --- */

GHashTable *
bb_sync_engine_get_scope_caches (BbSyncEngine *self)
{
  return self->scope_caches;
}

BbItemCache *
bb_sync_engine_get_item_cache (BbSyncEngine *self)
{
  return self->items;
}

BbSyncAuth *
bb_sync_engine_get_auth (BbSyncEngine *self)
{
  return &self->auth;
}

void
bb_sync_engine_set_now_func (BbSyncEngine *self, BbSyncNowFunc func, gpointer user_data)
{
  self->now_func = func;
  self->now_data = user_data;
}

gint64
bb_sync_engine_now (BbSyncEngine *self)
{
  return self->now_func != NULL ? self->now_func (self->now_data) : g_get_real_time ();
}

void
bb_sync_engine_set_pipeline (BbSyncEngine *self, guint window, guint chunk)
{
  self->window = MAX (window, 1);
  self->chunk = MAX (chunk, 1);
}

void
bb_sync_engine_get_pipeline (BbSyncEngine *self, guint *window, guint *chunk)
{
  *window = self->window;
  *chunk = self->chunk;
}

guint64
bb_sync_engine_get_activity (BbSyncEngine *self)
{
  return self->activity;
}

BbIdentityState *
bb_sync_engine_peek_identity_state (BbSyncEngine *self)
{
  return self->identity_state;
}

/* Saves @state to the store and makes it the in-memory copy (spec §4: every identity
 * change is saved); the client's bearer token follows it. */
gboolean
bb_sync_engine_save_identity_state (BbSyncEngine *self, BbIdentityState *state, GError **error)
{
  if (!bb_store_save_identity (self->store, state, error))
    return FALSE;
  if (state != self->identity_state)
    {
      g_object_unref (self->identity_state);
      self->identity_state = bb_identity_state_copy (state);
    }
  bb_client_set_access_token (self->client,
                              bb_identity_state_get_access_token (self->identity_state));
  return TRUE;
}

gboolean
bb_sync_engine_check_open (BbSyncEngine *self, GError **error)
{
  if (!self->closed)
    return TRUE;
  g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_CLOSED, _ ("The sync engine is closed"));
  return FALSE;
}

static void
forward_cancel (GCancellable *caller, gpointer op)
{
  g_cancellable_cancel (op);
}

/* A cancellable for one operation: cancelled by @caller's and by close. (transfer none):
 * owned by the engine until bb_sync_engine_op_done(). */
GCancellable *
bb_sync_engine_op_cancellable (BbSyncEngine *self, GCancellable *caller)
{
  GCancellable *op = g_cancellable_new ();
  gulong handler = 0;

  if (caller != NULL)
    handler = g_cancellable_connect (caller, G_CALLBACK (forward_cancel), op, NULL);
  if (handler != 0)
    g_object_set_data_full (G_OBJECT (op), "bb-caller", g_object_ref (caller), g_object_unref);
  g_object_set_data (G_OBJECT (op), "bb-handler", GSIZE_TO_POINTER (handler));
  g_hash_table_add (self->ops, op);
  if (self->closed)
    g_cancellable_cancel (op);
  return op;
}

void
bb_sync_engine_op_done (BbSyncEngine *self, GCancellable *op)
{
  GCancellable *caller = g_object_get_data (G_OBJECT (op), "bb-caller");
  gulong handler = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (op), "bb-handler"));

  if (caller != NULL && handler != 0)
    g_cancellable_disconnect (caller, handler);
  g_hash_table_remove (self->ops, op);
}

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
  g_signal_emit (self, signals[event], g_quark_from_string (collection), namespace_id, collection,
                 key, item_id);
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
            g_signal_emit (self, signals[ev->event], 0, ev->namespace_id, ev->item_id);
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
    g_signal_emit (self, signals[event], 0, namespace_id);
}

void
bb_sync_engine_emit_error (BbSyncEngine *self, BbSyncEvent event, const GError *error)
{
  if (may_emit (self, event))
    g_signal_emit (self, signals[event], 0, error);
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
  g_signal_emit (self, signals[event], 0, when);
}

void
bb_sync_engine_emit_simple (BbSyncEngine *self, BbSyncEvent event)
{
  if (may_emit (self, event))
    g_signal_emit (self, signals[event], 0);
}

/* --- the collection registry --- */

/* Registry order (spec §6.2): namespace ID, then name length, then name bytes. */
static int
compare_registry (gconstpointer a, gconstpointer b)
{
  BbCollection *ca = *(BbCollection **)a;
  BbCollection *cb = *(BbCollection **)b;
  const char *na = bb_collection_get_name (ca);
  const char *nb = bb_collection_get_name (cb);
  int c = strcmp (bb_namespace_get_id (bb_collection_get_namespace (ca)),
                  bb_namespace_get_id (bb_collection_get_namespace (cb)));
  gsize la, lb;

  if (c != 0)
    return c;
  la = strlen (na);
  lb = strlen (nb);
  if (la != lb)
    return la < lb ? -1 : 1;
  return strcmp (na, nb);
}

BbCollection *
bb_sync_engine_lookup_collection (BbSyncEngine *self, const char *namespace_id, const char *name)
{
  if (self->collections == NULL)
    return NULL;
  for (guint i = 0; i < self->collections->len; i++)
    {
      BbCollection *c = g_ptr_array_index (self->collections, i);

      if (strcmp (bb_collection_get_name (c), name) == 0
          && strcmp (bb_namespace_get_id (bb_collection_get_namespace (c)), namespace_id) == 0)
        return c;
    }
  return NULL;
}

gboolean
bb_sync_engine_register_collection (BbSyncEngine *self, BbCollection *collection, GError **error)
{
  const char *ns = bb_namespace_get_id (bb_collection_get_namespace (collection));
  const char *name = bb_collection_get_name (collection);

  if (!bb_sync_engine_check_open (self, error))
    return FALSE;
  if (bb_sync_engine_lookup_collection (self, ns, name) != NULL)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_COLLECTION_REGISTERED,
                   _ ("Collection “%s” is already open in namespace %s"), name, ns);
      return FALSE;
    }
  g_ptr_array_add (self->collections, g_object_ref (collection));
  g_ptr_array_sort (self->collections, compare_registry);
  bb_sync_engine_refresh_conflicts (self);
  return TRUE;
}

/* (transfer container): the collections of @namespace_id, or of every namespace when
 * NULL, in registry order. */
GPtrArray *
bb_sync_engine_dup_collections (BbSyncEngine *self, const char *namespace_id)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; self->collections != NULL && i < self->collections->len; i++)
    {
      BbCollection *c = g_ptr_array_index (self->collections, i);

      if (namespace_id == NULL
          || strcmp (bb_namespace_get_id (bb_collection_get_namespace (c)), namespace_id) == 0)
        g_ptr_array_add (out, g_object_ref (c));
    }
  return out;
}

static MapKey *
derived_keys (BbSyncEngine *self, BbNamespaceState *ns, GError **error)
{
  const char *id = bb_namespace_state_get_namespace_id (ns);
  GBytes *dek = bb_namespace_state_get_dek (ns);
  MapKey *mk = g_hash_table_lookup (self->map_keys, id);
  g_autoptr (GBytes) map_key = NULL;
  g_autoptr (GBytes) blob_key = NULL;

  if (mk != NULL && g_bytes_equal (mk->dek, dek))
    return mk;
  map_key = bb_protocol_derive_map_key (dek, error);
  if (map_key == NULL)
    return NULL;
  blob_key = bb_protocol_derive_blob_key (dek, error);
  if (blob_key == NULL)
    return NULL;
  mk = g_new0 (MapKey, 1);
  mk->dek = g_bytes_ref (dek);
  mk->map_key = g_steal_pointer (&map_key);
  mk->blob_key = g_steal_pointer (&blob_key);
  mk->item_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_replace (self->map_keys, g_strdup (id), mk);
  return mk;
}

char *
bb_sync_engine_item_id (BbSyncEngine *self, BbNamespaceState *ns, const char *collection,
                        const char *key, GError **error)
{
  MapKey *mk = derived_keys (self, ns, error);
  g_autofree char *logical = NULL;
  const char *id;

  if (mk == NULL)
    return NULL;
  logical = bb_logical_text (collection, key);
  id = g_hash_table_lookup (mk->item_ids, logical);
  if (id == NULL)
    {
      id = bb_protocol_item_id_with_map_key (mk->map_key, collection, key);
      g_hash_table_insert (mk->item_ids, g_steal_pointer (&logical), (gpointer)id);
    }
  return g_strdup (id);
}

/* Item IDs ahead of use: the HMACs for the keys whose IDs are not cached yet run on a
 * worker thread (ten thousand of them would hold the main loop for tens of
 * milliseconds); the results go into the cache on the main context. */
typedef struct
{
  char *namespace_id;
  GBytes *dek;
  GBytes *map_key;
  GPtrArray *logical; /* "len:collection key" texts */
  GPtrArray *pairs;   /* collection, key, collection, key, ... (borrowed from @names) */
  GPtrArray *names;   /* owned strings */
  GPtrArray *ids;     /* results */
} WarmItemIds;

static void
warm_item_ids_free (WarmItemIds *warm)
{
  g_free (warm->namespace_id);
  g_bytes_unref (warm->dek);
  g_bytes_unref (warm->map_key);
  g_ptr_array_unref (warm->logical);
  g_ptr_array_unref (warm->pairs);
  g_ptr_array_unref (warm->names);
  g_clear_pointer (&warm->ids, g_ptr_array_unref);
  g_free (warm);
}

static void
warm_item_ids_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  WarmItemIds *warm = task_data;

  warm->ids = g_ptr_array_new_full (warm->logical->len, g_free);
  for (guint i = 0; i < warm->logical->len; i++)
    g_ptr_array_add (warm->ids, bb_protocol_item_id_with_map_key (
                                    warm->map_key, g_ptr_array_index (warm->pairs, 2 * i),
                                    g_ptr_array_index (warm->pairs, 2 * i + 1)));
  g_task_return_boolean (task, TRUE);
}

static void
warm_item_ids_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  BbSyncEngine *self = g_task_get_source_object (task);
  WarmItemIds *warm = g_task_get_task_data (G_TASK (result));
  MapKey *mk = g_hash_table_lookup (self->map_keys, warm->namespace_id);

  /* The DEK may have changed meanwhile (a reset): then the IDs belong to no one. */
  if (mk != NULL && g_bytes_equal (mk->dek, warm->dek))
    for (guint i = 0; i < warm->ids->len; i++)
      g_hash_table_replace (mk->item_ids, g_strdup (g_ptr_array_index (warm->logical, i)),
                            g_steal_pointer (&warm->ids->pdata[i]));
  g_task_return_boolean (task, TRUE);
}

void
bb_sync_engine_warm_item_ids_async (BbSyncEngine *self, BbNamespaceState *ns,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autoptr (GPtrArray) collections = NULL;
  g_autoptr (GTask) worker = NULL;
  BbActiveScope *previous;
  WarmItemIds *warm;
  GError *error = NULL;
  MapKey *mk = derived_keys (self, ns, &error);

  if (mk == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  warm = g_new0 (WarmItemIds, 1);
  warm->logical = g_ptr_array_new_with_free_func (g_free);
  warm->pairs = g_ptr_array_new ();
  warm->names = g_ptr_array_new_with_free_func (g_free);
  /* With a scope from an earlier pass the IDs are there, but for keys added since: those
   * few are left to the scope computation. */
  previous = bb_sync_engine_peek_cached_scope (self, ns);
  if (previous != NULL)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  collections = bb_sync_engine_dup_collections (self, bb_namespace_state_get_namespace_id (ns));
  for (guint i = 0; i < collections->len; i++)
    {
      BbCollection *c = g_ptr_array_index (collections, i);
      const char *name = bb_collection_get_name (c);
      g_auto (GStrv) keys = bb_value_backend_list_keys (bb_collection_get_backend (c), NULL);

      /* A failing list_keys is reported by the scope computation that follows. */
      for (guint k = 0; keys != NULL && keys[k] != NULL; k++)
        {
          char *logical;

          logical = bb_logical_text (name, keys[k]);
          if (g_hash_table_contains (mk->item_ids, logical))
            {
              g_free (logical);
              continue;
            }
          g_ptr_array_add (warm->logical, logical);
          g_ptr_array_add (warm->names, g_strdup (keys[k]));
          g_ptr_array_add (warm->pairs, (gpointer)name);
          g_ptr_array_add (warm->pairs, g_ptr_array_index (warm->names, warm->names->len - 1));
        }
    }
  /* Collection names are owned by the registered collections, which outlive the task. */
  if (warm->logical->len < 256)
    {
      warm_item_ids_free (warm);
      g_task_return_boolean (task, TRUE);
      return;
    }
  warm->namespace_id = g_strdup (bb_namespace_state_get_namespace_id (ns));
  warm->dek = g_bytes_ref (mk->dek);
  warm->map_key = g_bytes_ref (mk->map_key);
  worker = g_task_new (self, NULL, warm_item_ids_done, g_steal_pointer (&task));
  g_task_set_task_data (worker, warm, (GDestroyNotify)warm_item_ids_free);
  g_task_run_in_thread (worker, warm_item_ids_thread);
}

gboolean
bb_sync_engine_warm_item_ids_finish (BbSyncEngine *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* (transfer full): the item AEAD key of @ns (a secret: it wipes itself when freed). */
GBytes *
bb_sync_engine_blob_key (BbSyncEngine *self, BbNamespaceState *ns, GError **error)
{
  MapKey *mk = derived_keys (self, ns, error);

  return mk != NULL ? g_bytes_ref (mk->blob_key) : NULL;
}

/* --- namespaces and conflicts models --- */

static int
compare_namespaces (gconstpointer a, gconstpointer b, gpointer user_data)
{
  BbNamespace *na = (BbNamespace *)a;
  BbNamespace *nb = (BbNamespace *)b;
  int c = strcmp (bb_namespace_get_kind (na), bb_namespace_get_kind (nb));

  return c != 0 ? c : strcmp (bb_namespace_get_id (na), bb_namespace_get_id (nb));
}

/* The one handle of @namespace_id, created and listed on first use; a non-NULL @kind
 * updates it. (transfer full) */
BbNamespace *
bb_sync_engine_ensure_namespace_handle (BbSyncEngine *self, const char *namespace_id,
                                        const char *kind)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->namespaces));
  BbNamespace *handle;

  for (guint i = 0; i < n; i++)
    {
      handle = g_list_model_get_item (G_LIST_MODEL (self->namespaces), i);
      if (strcmp (bb_namespace_get_id (handle), namespace_id) == 0)
        {
          if (kind != NULL && strcmp (bb_namespace_get_kind (handle), kind) != 0)
            {
              /* Keep the list sorted by (kind, ID). */
              g_list_store_remove (self->namespaces, i);
              bb_namespace_set_kind (handle, kind);
              g_list_store_insert_sorted (self->namespaces, handle, compare_namespaces, NULL);
            }
          return handle;
        }
      g_object_unref (handle);
    }
  handle = bb_namespace_new (self, namespace_id, kind != NULL ? kind : "");
  g_list_store_insert_sorted (self->namespaces, handle, compare_namespaces, NULL);
  return handle;
}

static gboolean
conflict_equal (BbConflict *a, BbConflict *b)
{
  GVariant *va, *vb;

  if (g_strcmp0 (bb_conflict_get_item_id (a), bb_conflict_get_item_id (b)) != 0
      || g_strcmp0 (bb_conflict_get_namespace_id (a), bb_conflict_get_namespace_id (b)) != 0
      || bb_conflict_get_remote_version (a) != bb_conflict_get_remote_version (b))
    return FALSE;
  va = bb_conflict_get_local_value (a);
  vb = bb_conflict_get_local_value (b);
  if ((va == NULL) != (vb == NULL) || (va != NULL && !g_variant_equal (va, vb)))
    return FALSE;
  va = bb_conflict_get_remote_value (a);
  vb = bb_conflict_get_remote_value (b);
  return (va == NULL) == (vb == NULL) && (va == NULL || g_variant_equal (va, vb));
}

/* Rebuilds the conflicts list from the store; the list changes only where it differs. */
void
bb_sync_engine_refresh_conflicts (BbSyncEngine *self)
{
  g_autoptr (GPtrArray) dirty = NULL;
  g_autoptr (GPtrArray) fresh = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GError) error = NULL;
  GListModel *model = G_LIST_MODEL (self->conflicts);
  guint n_old;
  gboolean same;
  guint pending;

  if (self->closed || self->key_id == NULL)
    return;
  bb_item_cache_drain (self->items);
  dirty = bb_store_list_dirty_items (self->store, self->key_id, &error);
  if (dirty == NULL)
    {
      g_debug ("Cannot list conflicts: %s", error->message);
      return;
    }
  for (guint i = 0; i < dirty->len; i++)
    {
      BbItemState *item = g_ptr_array_index (dirty, i);
      BbCollection *c;
      g_autoptr (GVariant) local = NULL;
      g_autoptr (GVariant) remote = NULL;

      if (!bb_item_state_get_conflict (item))
        continue;
      c = bb_sync_engine_lookup_collection (self, bb_item_state_get_namespace_id (item),
                                            bb_item_state_get_collection (item));
      if (c != NULL)
        {
          local = bb_value_backend_get_value (bb_collection_get_backend (c),
                                              bb_item_state_get_key (item), NULL);
          remote = bb_codec_decode (bb_collection_get_codec (c),
                                    bb_item_state_get_conflict_remote_value (item), NULL);
        }
      g_ptr_array_add (fresh,
                       bb_conflict_new (item, g_steal_pointer (&local), g_steal_pointer (&remote)));
    }

  n_old = g_list_model_get_n_items (model);
  same = n_old == fresh->len;
  for (guint i = 0; same && i < n_old; i++)
    {
      g_autoptr (BbConflict) old = g_list_model_get_item (model, i);

      same = conflict_equal (old, g_ptr_array_index (fresh, i));
    }
  if (!same)
    g_list_store_splice (self->conflicts, 0, n_old, fresh->pdata, fresh->len);
  pending = 0;
  for (guint i = 0; i < dirty->len; i++)
    if (!bb_item_state_get_conflict (g_ptr_array_index (dirty, i)))
      pending++;
  bb_sync_engine_set_counts (self, pending, fresh->len);
}

/**
 * bb_sync_engine_get_namespaces:
 * @self: a [class@BbSync.SyncEngine]
 *
 * The namespaces the engine knows for its identity, sorted by kind and ID: those in
 * the store, and those that sync passes, joins and creations add. Ready to bind to a
 * list widget.
 *
 * Returns: (transfer none): a [iface@Gio.ListModel] of [class@BbSync.Namespace]
 *
 * Since: 0.1
 */
GListModel *
bb_sync_engine_get_namespaces (BbSyncEngine *self)
{
  g_return_val_if_fail (BB_IS_SYNC_ENGINE (self), NULL);
  return G_LIST_MODEL (self->namespaces);
}

/**
 * bb_sync_engine_get_conflicts:
 * @self: a [class@BbSync.SyncEngine]
 *
 * The open conflicts of the identity, updated after every sync pass, every
 * [method@BbSync.Collection.resolve_conflict] and every [method@BbSync.Namespace.open_collection].
 *
 * Returns: (transfer none): a [iface@Gio.ListModel] of [class@BbSync.Conflict]
 *
 * Since: 0.1
 */
GListModel *
bb_sync_engine_get_conflicts (BbSyncEngine *self)
{
  g_return_val_if_fail (BB_IS_SYNC_ENGINE (self), NULL);
  return G_LIST_MODEL (self->conflicts);
}

/* --- close --- */

/**
 * bb_sync_engine_close:
 * @self: a [class@BbSync.SyncEngine]
 *
 * Shuts the engine down. Pending operations end with %G_IO_ERROR_CANCELLED; what a
 * running pass already saved stays saved, and every record is saved whole. Later
 * calls fail with %BB_SYNC_ERROR_CLOSED, and no signal is emitted any more. The store
 * stays open: it belongs to the app, and other engines may share it.
 *
 * Calling it again does nothing.
 *
 * Since: 0.1
 */
void
bb_sync_engine_close (BbSyncEngine *self)
{
  GHashTableIter iter;
  gpointer op;
  GTask *task;

  g_return_if_fail (BB_IS_SYNC_ENGINE (self));

  if (self->closed)
    return;
  bb_sync_engine_stop (self);
  self->closed = TRUE;

  g_hash_table_iter_init (&iter, self->ops);
  while (g_hash_table_iter_next (&iter, &op, NULL))
    g_cancellable_cancel (op);
  while ((task = g_queue_pop_head (&self->pass_queue)) != NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               _ ("The sync engine was closed"));
      g_object_unref (task);
    }
  g_hash_table_remove_all (self->map_keys);
  g_hash_table_remove_all (self->scope_caches);
  if (self->items != NULL)
    bb_item_cache_clear (self->items);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CLOSED]);
}

/* --- operations --- */

/* Starts @task's operation: returns the op cancellable, or NULL after completing @task
 * with CLOSED. */
static GCancellable *
begin_op (BbSyncEngine *self, GTask *task)
{
  GError *error = NULL;
  GCancellable *op;

  if (!bb_sync_engine_check_open (self, &error))
    {
      g_task_return_error (task, error);
      return NULL;
    }
  op = bb_sync_engine_op_cancellable (self, g_task_get_cancellable (task));
  g_task_set_task_data (task, op, NULL);
  return op;
}

static void
end_op (BbSyncEngine *self, GTask *task)
{
  bb_sync_engine_op_done (self, g_task_get_task_data (task));
}

/* Login (spec §4.8): the default-namespace bootstrap under the wrapper. */

static void
bootstrap_body_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  BbNamespaceState *ns = bb_sync_default_namespace_finish (BB_SYNC_ENGINE (source), result, &error);

  if (ns == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, ns, g_object_unref);
}

static void
bootstrap_body (BbSyncEngine *self, gpointer body_data, GCancellable *cancellable,
                GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  bb_sync_default_namespace_async (self, cancellable, bootstrap_body_done, task);
}

static void
namespace_op_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  BbSyncEngine *self = BB_SYNC_ENGINE (source);
  GError *error = NULL;
  g_autoptr (BbNamespaceState) ns = bb_sync_auth_run_finish (self, result, &error);

  end_op (self, task);
  if (ns == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (g_task_get_source_tag (task) == bb_sync_engine_login_async)
    {
      bb_sync_run_login_succeeded (self);
      g_task_return_boolean (task, TRUE);
      return;
    }
  g_task_return_pointer (
      task,
      bb_sync_engine_ensure_namespace_handle (self, bb_namespace_state_get_namespace_id (ns),
                                              bb_namespace_state_get_kind (ns)),
      g_object_unref);
}

/**
 * bb_sync_engine_login_async:
 * @self: a [class@BbSync.SyncEngine]
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Signs in (when the stored token is missing or expired) and makes sure the default
 * namespace exists, creating it on first use. A still valid token is kept.
 *
 * Since: 0.1
 */
void
bb_sync_engine_login_async (BbSyncEngine *self, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  GCancellable *op;

  g_return_if_fail (BB_IS_SYNC_ENGINE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, bb_sync_engine_login_async);
  if ((op = begin_op (self, task)) == NULL)
    return;
  bb_sync_auth_run_async (self, bootstrap_body, NULL, NULL, op, namespace_op_done,
                          g_steal_pointer (&task));
}

/**
 * bb_sync_engine_login_finish:
 * @self: a [class@BbSync.SyncEngine]
 * @result: the result passed to the callback
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.SyncEngine.login_async].
 *
 * Returns: %TRUE if the engine is signed in
 *
 * Since: 0.1
 */
gboolean
bb_sync_engine_login_finish (BbSyncEngine *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == bb_sync_engine_login_async,
                        FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * bb_sync_engine_default_namespace_async:
 * @self: a [class@BbSync.SyncEngine]
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Gets the identity's default namespace, signing in if needed and creating the
 * namespace on the server on first use.
 *
 * Since: 0.1
 */
void
bb_sync_engine_default_namespace_async (BbSyncEngine *self, GCancellable *cancellable,
                                        GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  GCancellable *op;

  g_return_if_fail (BB_IS_SYNC_ENGINE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, bb_sync_engine_default_namespace_async);
  if ((op = begin_op (self, task)) == NULL)
    return;
  bb_sync_auth_run_async (self, bootstrap_body, NULL, NULL, op, namespace_op_done,
                          g_steal_pointer (&task));
}

static BbNamespace *
namespace_finish (BbSyncEngine *self, GAsyncResult *result, gpointer tag, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == tag, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * bb_sync_engine_default_namespace_finish:
 * @self: a [class@BbSync.SyncEngine]
 * @result: the result passed to the callback
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.SyncEngine.default_namespace_async].
 *
 * Returns: (transfer full): the default namespace, or %NULL on error
 *
 * Since: 0.1
 */
BbNamespace *
bb_sync_engine_default_namespace_finish (BbSyncEngine *self, GAsyncResult *result, GError **error)
{
  return namespace_finish (self, result, bb_sync_engine_default_namespace_async, error);
}

/* Create a shared namespace (spec §5.4). */

typedef struct
{
  char *namespace_id;
  GBytes *dek;
} CreateData;

static void
create_data_free (CreateData *data)
{
  g_free (data->namespace_id);
  g_clear_pointer (&data->dek, g_bytes_unref);
  g_free (data);
}

static void
create_posted (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  BbSyncEngine *self = g_task_get_source_object (task);
  CreateData *data = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr (BbNamespaceListing) info = NULL;
  g_autoptr (BbNamespaceState) ns = NULL;

  info = bb_client_create_namespace_finish (BB_CLIENT (source), result, &error);
  if (info == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  ns = bb_namespace_state_new (self->key_id, data->namespace_id);
  bb_namespace_state_set_kind (ns, bb_namespace_listing_get_kind (info));
  bb_namespace_state_set_dek (ns, data->dek);
  bb_namespace_state_set_updated_at (ns, bb_sync_engine_now (self));
  if (!bb_store_save_namespace (self->store, ns, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&ns), g_object_unref);
}

static void
create_body (BbSyncEngine *self, gpointer body_data, GCancellable *cancellable,
             GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  CreateData *data = g_new0 (CreateData, 1);
  g_autoptr (GBytes) wrap_key = bb_identity_get_wrap_public_key (self->identity);
  g_autoptr (GBytes) wrapped = NULL;
  GError *error = NULL;

  g_task_set_task_data (task, data, (GDestroyNotify)create_data_free);
  data->namespace_id = bb_protocol_new_namespace_id ();
  data->dek = bb_protocol_new_dek ();
  wrapped = bb_protocol_wrap_dek (wrap_key, data->namespace_id, data->dek, &error);
  if (wrapped == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  bb_client_create_namespace_async (self->client, data->namespace_id, wrapped, cancellable,
                                    create_posted, task);
}

/**
 * bb_sync_engine_create_shared_namespace_async:
 * @self: a [class@BbSync.SyncEngine]
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Creates a shared namespace with a fresh random ID and key, signing in if needed.
 * Invite others to it with the invite API.
 *
 * Since: 0.1
 */
void
bb_sync_engine_create_shared_namespace_async (BbSyncEngine *self, GCancellable *cancellable,
                                              GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  GCancellable *op;

  g_return_if_fail (BB_IS_SYNC_ENGINE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, bb_sync_engine_create_shared_namespace_async);
  if ((op = begin_op (self, task)) == NULL)
    return;
  bb_sync_auth_run_async (self, create_body, NULL, NULL, op, namespace_op_done,
                          g_steal_pointer (&task));
}

/**
 * bb_sync_engine_create_shared_namespace_finish:
 * @self: a [class@BbSync.SyncEngine]
 * @result: the result passed to the callback
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.SyncEngine.create_shared_namespace_async].
 *
 * Returns: (transfer full): the new namespace, or %NULL on error
 *
 * Since: 0.1
 */
BbNamespace *
bb_sync_engine_create_shared_namespace_finish (BbSyncEngine *self, GAsyncResult *result,
                                               GError **error)
{
  return namespace_finish (self, result, bb_sync_engine_create_shared_namespace_async, error);
}

/* Join (spec §5.2) and lookup (spec §5.1). */

static void
join_body_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  BbNamespaceState *ns;

  if (g_task_get_source_tag (task) == bb_sync_namespace_ready_async)
    ns = bb_sync_namespace_ready_finish (BB_SYNC_ENGINE (source), result, &error);
  else
    ns = bb_sync_namespace_join_finish (BB_SYNC_ENGINE (source), result, &error);
  if (ns == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, ns, g_object_unref);
}

static void
join_body (BbSyncEngine *self, gpointer body_data, GCancellable *cancellable,
           GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  bb_sync_namespace_join_async (self, body_data, "", cancellable, join_body_done, task);
}

static void
lookup_body (BbSyncEngine *self, gpointer body_data, GCancellable *cancellable,
             GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, bb_sync_namespace_ready_async);
  bb_sync_namespace_ready_async (self, body_data, "", cancellable, join_body_done, task);
}

static void
start_namespace_id_op (BbSyncEngine *self, const char *namespace_id, BbAuthBodyFunc body,
                       gpointer tag, GCancellable *cancellable, GAsyncReadyCallback callback,
                       gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  GError *error = NULL;
  GCancellable *op;

  g_task_set_source_tag (task, tag);
  if (!bb_protocol_validate_lower_hex (namespace_id, 16, "namespace ID", &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if ((op = begin_op (self, task)) == NULL)
    return;
  bb_sync_auth_run_async (self, body, g_strdup (namespace_id), g_free, op, namespace_op_done,
                          g_steal_pointer (&task));
}

/**
 * bb_sync_engine_join_namespace_async:
 * @self: a [class@BbSync.SyncEngine]
 * @namespace_id: the namespace ID, 32 lower-case hex characters
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Fetches and unwraps the namespace key of a namespace this identity is a member of
 * (for example a shared namespace whose join request was approved), signing in if
 * needed. It fetches the key even when one is cached. Sync passes join new shared
 * namespaces on their own; call this to get a handle before the next pass.
 *
 * Since: 0.1
 */
void
bb_sync_engine_join_namespace_async (BbSyncEngine *self, const char *namespace_id,
                                     GCancellable *cancellable, GAsyncReadyCallback callback,
                                     gpointer user_data)
{
  g_return_if_fail (BB_IS_SYNC_ENGINE (self));
  g_return_if_fail (namespace_id != NULL);

  start_namespace_id_op (self, namespace_id, join_body, bb_sync_engine_join_namespace_async,
                         cancellable, callback, user_data);
}

/**
 * bb_sync_engine_join_namespace_finish:
 * @self: a [class@BbSync.SyncEngine]
 * @result: the result passed to the callback
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.SyncEngine.join_namespace_async].
 *
 * Returns: (transfer full): the namespace, or %NULL on error (before approval the
 *   server refuses the key with an API error)
 *
 * Since: 0.1
 */
BbNamespace *
bb_sync_engine_join_namespace_finish (BbSyncEngine *self, GAsyncResult *result, GError **error)
{
  return namespace_finish (self, result, bb_sync_engine_join_namespace_async, error);
}

/**
 * bb_sync_engine_lookup_namespace_async:
 * @self: a [class@BbSync.SyncEngine]
 * @namespace_id: the namespace ID, 32 lower-case hex characters
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Gets a namespace whose key is ready: from the store without network I/O when the
 * key is cached, or by joining it (signing in if needed).
 *
 * Since: 0.1
 */
void
bb_sync_engine_lookup_namespace_async (BbSyncEngine *self, const char *namespace_id,
                                       GCancellable *cancellable, GAsyncReadyCallback callback,
                                       gpointer user_data)
{
  g_return_if_fail (BB_IS_SYNC_ENGINE (self));
  g_return_if_fail (namespace_id != NULL);

  start_namespace_id_op (self, namespace_id, lookup_body, bb_sync_engine_lookup_namespace_async,
                         cancellable, callback, user_data);
}

/**
 * bb_sync_engine_lookup_namespace_finish:
 * @self: a [class@BbSync.SyncEngine]
 * @result: the result passed to the callback
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.SyncEngine.lookup_namespace_async].
 *
 * Returns: (transfer full): the namespace, or %NULL on error
 *
 * Since: 0.1
 */
BbNamespace *
bb_sync_engine_lookup_namespace_finish (BbSyncEngine *self, GAsyncResult *result, GError **error)
{
  return namespace_finish (self, result, bb_sync_engine_lookup_namespace_async, error);
}

/* Revoke all tokens (spec §4.9). */

static void
revoked (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  BbSyncEngine *self = g_task_get_source_object (task);
  g_autoptr (BbIdentityState) state = NULL;
  GError *error = NULL;

  if (!bb_client_revoke_all_tokens_with_identity_finish (BB_CLIENT (source), result, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  state = bb_identity_state_copy (self->identity_state);
  bb_identity_state_set_access_token (state, "");
  bb_identity_state_set_token_expiry (state, 0);
  bb_identity_state_set_updated_at (state, bb_sync_engine_now (self));
  if (!bb_sync_engine_save_identity_state (self, state, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  bb_sync_engine_emit_auth (self, BB_SYNC_EVENT_AUTH_LOGIN_REQUIRED, 0);
  g_task_return_pointer (task, GINT_TO_POINTER (TRUE), NULL);
}

static void
revoke_body (BbSyncEngine *self, gpointer body_data, GCancellable *cancellable,
             GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  bb_client_revoke_all_tokens_with_identity_async (self->client, self->identity, cancellable,
                                                   revoked, task);
}

static void
boolean_op_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;

  bb_sync_auth_run_finish (BB_SYNC_ENGINE (source), result, &error);
  end_op (BB_SYNC_ENGINE (source), task);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

/**
 * bb_sync_engine_revoke_all_tokens_async:
 * @self: a [class@BbSync.SyncEngine]
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Revokes every bearer token of the identity on the server (for example after a
 * device was lost), then forgets the local one and emits
 * [signal@BbSync.SyncEngine::auth-login-required]. The identity signs the request.
 *
 * Since: 0.1
 */
void
bb_sync_engine_revoke_all_tokens_async (BbSyncEngine *self, GCancellable *cancellable,
                                        GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  GCancellable *op;

  g_return_if_fail (BB_IS_SYNC_ENGINE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, bb_sync_engine_revoke_all_tokens_async);
  if ((op = begin_op (self, task)) == NULL)
    return;
  bb_sync_auth_run_async (self, revoke_body, NULL, NULL, op, boolean_op_done,
                          g_steal_pointer (&task));
}

/**
 * bb_sync_engine_revoke_all_tokens_finish:
 * @self: a [class@BbSync.SyncEngine]
 * @result: the result passed to the callback
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.SyncEngine.revoke_all_tokens_async].
 *
 * Returns: %TRUE if the tokens were revoked
 *
 * Since: 0.1
 */
gboolean
bb_sync_engine_revoke_all_tokens_finish (BbSyncEngine *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (
      g_task_get_source_tag (G_TASK (result)) == bb_sync_engine_revoke_all_tokens_async, FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* The sync pass (spec §6.1): passes run one at a time, in call order. */

static void start_next_pass (BbSyncEngine *self);

static void
pass_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  BbSyncEngine *self = BB_SYNC_ENGINE (source);
  GError *error = NULL;

  end_op (self, task);
  bb_sync_engine_refresh_conflicts (self);
  self->pass_running = FALSE;
  if (!bb_sync_pass_run_finish (self, result, &error))
    {
      bb_sync_engine_set_pass_result (self, error);
      bb_sync_engine_emit_error (self, BB_SYNC_EVENT_SYNC_FAILED, error);
      g_task_return_error (task, error);
    }
  else
    {
      bb_sync_engine_set_pass_result (self, NULL);
      bb_sync_engine_emit_simple (self, BB_SYNC_EVENT_SYNC_FINISHED);
      g_task_return_boolean (task, TRUE);
    }
  start_next_pass (self);
  if (!self->pass_running)
    bb_sync_engine_set_syncing (self, FALSE);
}

static void
start_next_pass (BbSyncEngine *self)
{
  GTask *task;
  GCancellable *op;

  while (!self->pass_running && (task = g_queue_pop_head (&self->pass_queue)) != NULL)
    {
      if ((op = begin_op (self, task)) == NULL)
        {
          g_object_unref (task);
          continue;
        }
      self->pass_running = TRUE;
      bb_sync_engine_set_progress (self, 0, 0);
      bb_sync_engine_set_syncing (self, TRUE);
      bb_sync_engine_emit_simple (self, BB_SYNC_EVENT_SYNC_STARTED);
      bb_sync_pass_run_async (self, op, pass_done, task);
    }
}

/**
 * bb_sync_engine_sync_async:
 * @self: a [class@BbSync.SyncEngine]
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the pass has ended
 * @user_data: data for @callback
 *
 * Runs one full sync pass: queues changed local values, fetches and applies remote
 * changes (merging where both sides changed), then uploads the queued values. Signs in
 * first if needed, and on an HTTP 401 signs in again and runs the pass once more.
 *
 * Passes run one at a time: a call made while a pass runs starts after it. What a
 * failed pass saved stays saved; the next pass continues from there.
 *
 * Since: 0.1
 */
void
bb_sync_engine_sync_async (BbSyncEngine *self, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task;
  GError *error = NULL;

  g_return_if_fail (BB_IS_SYNC_ENGINE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, bb_sync_engine_sync_async);
  if (!bb_sync_engine_check_open (self, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  g_queue_push_tail (&self->pass_queue, task);
  start_next_pass (self);
}

/**
 * bb_sync_engine_sync_finish:
 * @self: a [class@BbSync.SyncEngine]
 * @result: the result passed to the callback
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.SyncEngine.sync_async].
 *
 * Returns: %TRUE if the pass succeeded; %FALSE with %BB_SYNC_ERROR_ROLLBACK when the
 *   server's state went backwards (see [method@BbSync.SyncEngine.reset_sync_state]), or the
 *   error that stopped the pass
 *
 * Since: 0.1
 */
gboolean
bb_sync_engine_sync_finish (BbSyncEngine *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == bb_sync_engine_sync_async,
                        FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * bb_sync_engine_reset_sync_state:
 * @self: a [class@BbSync.SyncEngine]
 * @error: return location for a [struct@GLib.Error]
 *
 * Forgets the sync metadata of the identity: every namespace and item record and the
 * cached default namespace (spec §3.3). The token stays. This is the way out of
 * %BB_SYNC_ERROR_ROLLBACK, and a "resync" for an app that wants to start over.
 *
 * The app's values are not touched. The next pass reconciles as on first enable: it
 * fetches the namespace keys again, downloads every remote value and merges it with
 * the local one without a merge base ([signal@BbSync.Collection::merge] gets a %NULL base),
 * then uploads what the merges produced. Open collections stay open.
 *
 * Returns: %TRUE on success; %FALSE with %BB_SYNC_ERROR_BUSY while a pass runs, or an
 *   error from the store
 *
 * Since: 0.1
 */
gboolean
bb_sync_engine_reset_sync_state (BbSyncEngine *self, GError **error)
{
  g_autoptr (BbIdentityState) state = NULL;

  g_return_val_if_fail (BB_IS_SYNC_ENGINE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!bb_sync_engine_check_open (self, error))
    return FALSE;
  if (self->pass_running || self->auth.running)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_BUSY,
                   _ ("Cannot reset the sync state while a sync pass runs"));
      return FALSE;
    }
  if (!bb_store_reset_sync_state (self->store, self->key_id, error))
    return FALSE;

  /* The store kept the token and cleared the default namespace; mirror it. */
  state = bb_identity_state_copy (self->identity_state);
  bb_identity_state_set_default_namespace_id (state, "");
  g_set_object (&self->identity_state, state);
  g_hash_table_remove_all (self->map_keys);
  g_hash_table_remove_all (self->scope_caches);
  bb_item_cache_clear (self->items);
  bb_sync_engine_refresh_conflicts (self);
  return TRUE;
}

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
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

void
bb_sync_engine_set_syncing (BbSyncEngine *self, gboolean syncing)
{
  if (self->syncing != syncing)
    {
      self->syncing = syncing;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SYNCING]);
    }
  bb_sync_engine_update_state (self);
}

void
bb_sync_engine_set_progress (BbSyncEngine *self, guint done, guint total)
{
  if (self->progress_total != total)
    {
      self->progress_total = total;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROGRESS_TOTAL]);
    }
  if (self->progress_done != done)
    {
      self->progress_done = done;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROGRESS_DONE]);
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
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PENDING_UPLOADS]);
    }
  if (self->conflict_count != conflict_count)
    {
      self->conflict_count = conflict_count;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONFLICT_COUNT]);
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
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_SYNCED]);
      if (self->last_error != NULL)
        {
          g_clear_error (&self->last_error);
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_ERROR]);
        }
      return;
    }
  g_clear_error (&self->last_error);
  self->last_error = g_error_copy (error);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_ERROR]);
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
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NEXT_SYNC]);
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
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IDLE_POLLING]);
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
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NETWORK_MONITOR]);
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
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_POWER_PROFILE_MONITOR]);
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
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FOLLOW_METERED]);
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
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FOLLOW_POWER_SAVER]);
}
