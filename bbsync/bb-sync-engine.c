/* bb-sync-engine.c: end-to-end encrypted sync of an app's collections for one identity:
 * the BbSyncEngine object itself (construction, properties and signals, accessors, the
 * internal state its parts read, and close). Its operations, signal emission, collection
 * registry and status live in the bb-sync-engine-*.c files beside it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-i18n-private.h"

#include "bb-enum-types.h"
#include "bb-error.h"
#include "bb-sync-engine-object-private.h"

static void bb_sync_engine_initable_iface_init (GInitableIface *iface);
static void bb_sync_engine_async_initable_iface_init (GAsyncInitableIface *iface);

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
G_DEFINE_FINAL_TYPE_WITH_CODE (BbSyncEngine, bb_sync_engine, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                      bb_sync_engine_initable_iface_init)
                                   G_IMPLEMENT_INTERFACE (G_TYPE_ASYNC_INITABLE,
                                                          bb_sync_engine_async_initable_iface_init))

GParamSpec *bb_sync_engine_properties[N_PROPS];
guint bb_sync_engine_signals[BB_SYNC_N_EVENTS];

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
  bb_sync_engine_properties[PROP_CLIENT]
      = g_param_spec_object ("client", NULL, NULL, BB_TYPE_CLIENT, construct);

  /**
   * BbSyncEngine:identity:
   *
   * The identity the engine signs in with and unwraps namespace keys with.
   *
   * Since: 0.1
   */
  bb_sync_engine_properties[PROP_IDENTITY]
      = g_param_spec_object ("identity", NULL, NULL, BB_TYPE_IDENTITY, construct);

  /**
   * BbSyncEngine:store:
   *
   * The store of the sync metadata. Several engines with different identities may share
   * one store; the engine does not close it.
   *
   * Since: 0.1
   */
  bb_sync_engine_properties[PROP_STORE]
      = g_param_spec_object ("store", NULL, NULL, BB_TYPE_STORE, construct);

  /**
   * BbSyncEngine:key-id:
   *
   * The key ID of the identity: lower-case hex SHA-256 of its auth public key.
   *
   * Since: 0.1
   */
  bb_sync_engine_properties[PROP_KEY_ID]
      = g_param_spec_string ("key-id", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * BbSyncEngine:poll-interval:
   *
   * The base period of background polling, in milliseconds. 0 restores the default,
   * %BB_SYNC_ENGINE_DEFAULT_POLL_INTERVAL.
   *
   * Since: 0.1
   */
  bb_sync_engine_properties[PROP_POLL_INTERVAL] = g_param_spec_uint (
      "poll-interval", NULL, NULL, 0, G_MAXUINT, BB_SYNC_ENGINE_DEFAULT_POLL_INTERVAL, rw);

  /**
   * BbSyncEngine:max-poll-interval:
   *
   * The upper bound of failure and idle backoff, in milliseconds. A value below
   * [property@BbSync.SyncEngine:poll-interval] becomes the larger of 60 minutes and the poll
   * interval; a value equal to it disables backoff.
   *
   * Since: 0.1
   */
  bb_sync_engine_properties[PROP_MAX_POLL_INTERVAL] = g_param_spec_uint (
      "max-poll-interval", NULL, NULL, 0, G_MAXUINT, BB_SYNC_ENGINE_DEFAULT_MAX_POLL_INTERVAL, rw);

  /**
   * BbSyncEngine:namespace-watch:
   *
   * Whether background sync also keeps a long-poll watch open, so that remote changes
   * arrive within seconds instead of at the next poll.
   *
   * Since: 0.1
   */
  bb_sync_engine_properties[PROP_NAMESPACE_WATCH]
      = g_param_spec_boolean ("namespace-watch", NULL, NULL, TRUE, rw);

  /**
   * BbSyncEngine:refresh-skew:
   *
   * How long before its expiry the engine refreshes the bearer token, in seconds. 0
   * restores the default, %BB_SYNC_ENGINE_DEFAULT_REFRESH_SKEW.
   *
   * Since: 0.1
   */
  bb_sync_engine_properties[PROP_REFRESH_SKEW] = g_param_spec_uint (
      "refresh-skew", NULL, NULL, 0, G_MAXUINT, BB_SYNC_ENGINE_DEFAULT_REFRESH_SKEW, rw);

  /**
   * BbSyncEngine:invite-ttl:
   *
   * The default lifetime of invites, in seconds. 0 restores the default,
   * %BB_SYNC_ENGINE_DEFAULT_INVITE_TTL.
   *
   * Since: 0.1
   */
  bb_sync_engine_properties[PROP_INVITE_TTL] = g_param_spec_uint (
      "invite-ttl", NULL, NULL, 0, G_MAXUINT, BB_SYNC_ENGINE_DEFAULT_INVITE_TTL, rw);

  /**
   * BbSyncEngine:closed:
   *
   * Whether [method@BbSync.SyncEngine.close] was called.
   *
   * Since: 0.1
   */
  bb_sync_engine_properties[PROP_CLOSED]
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
  bb_sync_engine_properties[PROP_IDLE_POLLING]
      = g_param_spec_boolean ("idle-polling", NULL, NULL, FALSE, rw);

  /**
   * BbSyncEngine:state:
   *
   * What sync is doing now; bind a status line to it.
   *
   * Since: 0.1
   */
  bb_sync_engine_properties[PROP_STATE] = g_param_spec_enum (
      "state", NULL, NULL, BB_TYPE_SYNC_STATE, BB_SYNC_STATE_STOPPED, ro_notify);

  /**
   * BbSyncEngine:syncing:
   *
   * Whether a pass runs (started by [method@BbSync.SyncEngine.sync_async] or by background
   * sync).
   *
   * Since: 0.1
   */
  bb_sync_engine_properties[PROP_SYNCING]
      = g_param_spec_boolean ("syncing", NULL, NULL, FALSE, ro_notify);

  /**
   * BbSyncEngine:last-synced:
   *
   * When the last pass succeeded, or %NULL before the first.
   *
   * Since: 0.1
   */
  bb_sync_engine_properties[PROP_LAST_SYNCED]
      = g_param_spec_boxed ("last-synced", NULL, NULL, G_TYPE_DATE_TIME, ro_notify);

  /**
   * BbSyncEngine:last-error:
   *
   * Why the last pass failed, or %NULL when it succeeded.
   *
   * Since: 0.1
   */
  bb_sync_engine_properties[PROP_LAST_ERROR]
      = g_param_spec_boxed ("last-error", NULL, NULL, G_TYPE_ERROR, ro_notify);

  /**
   * BbSyncEngine:pending-uploads:
   *
   * How many local changes wait for upload (conflicts not counted). It follows a pass as
   * it queues and uploads, and is recounted at the end of every pass and resolution.
   *
   * Since: 0.1
   */
  bb_sync_engine_properties[PROP_PENDING_UPLOADS]
      = g_param_spec_uint ("pending-uploads", NULL, NULL, 0, G_MAXUINT, 0, ro_notify);

  /**
   * BbSyncEngine:conflict-count:
   *
   * The number of items in [method@BbSync.SyncEngine.get_conflicts].
   *
   * Since: 0.1
   */
  bb_sync_engine_properties[PROP_CONFLICT_COUNT]
      = g_param_spec_uint ("conflict-count", NULL, NULL, 0, G_MAXUINT, 0, ro_notify);

  /**
   * BbSyncEngine:next-sync:
   *
   * When background sync runs its next timed pass, or %NULL when none is planned.
   *
   * Since: 0.1
   */
  bb_sync_engine_properties[PROP_NEXT_SYNC]
      = g_param_spec_boxed ("next-sync", NULL, NULL, G_TYPE_DATE_TIME, ro_notify);

  /**
   * BbSyncEngine:progress-done:
   *
   * Items downloaded or uploaded so far in the current pass (with
   * [property@BbSync.SyncEngine:progress-total]: "downloading 4 200 of 10 000").
   *
   * Since: 0.1
   */
  bb_sync_engine_properties[PROP_PROGRESS_DONE]
      = g_param_spec_uint ("progress-done", NULL, NULL, 0, G_MAXUINT, 0, ro_notify);

  /**
   * BbSyncEngine:progress-total:
   *
   * Items to download or upload in the current pass, as far as known yet.
   *
   * Since: 0.1
   */
  bb_sync_engine_properties[PROP_PROGRESS_TOTAL]
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
  bb_sync_engine_properties[PROP_NETWORK_MONITOR]
      = g_param_spec_object ("network-monitor", NULL, NULL, G_TYPE_NETWORK_MONITOR, rw);

  /**
   * BbSyncEngine:power-profile-monitor:
   *
   * The power profile monitor background sync follows, or %NULL for
   * g_power_profile_monitor_dup_default(). Takes effect when background sync (re)starts.
   *
   * Since: 0.1
   */
  bb_sync_engine_properties[PROP_POWER_PROFILE_MONITOR]
      = g_param_spec_object ("power-profile-monitor", NULL, NULL, G_TYPE_POWER_PROFILE_MONITOR, rw);

  /**
   * BbSyncEngine:follow-metered:
   *
   * Whether background sync polls as if [property@BbSync.SyncEngine:idle-polling] were on
   * while the network is metered.
   *
   * Since: 0.1
   */
  bb_sync_engine_properties[PROP_FOLLOW_METERED]
      = g_param_spec_boolean ("follow-metered", NULL, NULL, TRUE, rw);

  /**
   * BbSyncEngine:follow-power-saver:
   *
   * Whether background sync, while power saving is on, polls as if
   * [property@BbSync.SyncEngine:idle-polling] were on and keeps no long poll open.
   *
   * Since: 0.1
   */
  bb_sync_engine_properties[PROP_FOLLOW_POWER_SAVER]
      = g_param_spec_boolean ("follow-power-saver", NULL, NULL, TRUE, rw);

  g_object_class_install_properties (object_class, N_PROPS, bb_sync_engine_properties);

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
  bb_sync_engine_signals[BB_SYNC_EVENT_AUTH_LOGIN_REQUIRED]
      = new_auth_signal (klass, "auth-login-required");

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
  bb_sync_engine_signals[BB_SYNC_EVENT_AUTH_REFRESH_RECOMMENDED]
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
  bb_sync_engine_signals[BB_SYNC_EVENT_AUTH_SESSION_READY]
      = new_auth_signal (klass, "auth-session-ready");

  /**
   * BbSyncEngine::sync-started:
   * @engine: the engine
   *
   * A sync pass starts.
   *
   * Since: 0.1
   */
  bb_sync_engine_signals[BB_SYNC_EVENT_SYNC_STARTED]
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
  bb_sync_engine_signals[BB_SYNC_EVENT_SYNC_FINISHED]
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
  bb_sync_engine_signals[BB_SYNC_EVENT_SYNC_FAILED]
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
  bb_sync_engine_signals[BB_SYNC_EVENT_NAMESPACE_WATCH_FAILED]
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
  bb_sync_engine_signals[BB_SYNC_EVENT_NAMESPACE_CHANGED]
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
  bb_sync_engine_signals[BB_SYNC_EVENT_ITEM_CHANGED] = new_item_signal (klass, "item-changed");

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
  bb_sync_engine_signals[BB_SYNC_EVENT_ITEM_DOWNLOADED]
      = new_item_signal (klass, "item-downloaded");

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
  bb_sync_engine_signals[BB_SYNC_EVENT_ITEM_UPLOADED] = new_item_signal (klass, "item-uploaded");

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
  bb_sync_engine_signals[BB_SYNC_EVENT_ITEM_QUEUED] = new_item_signal (klass, "item-queued");

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
  bb_sync_engine_signals[BB_SYNC_EVENT_CONFLICT_DETECTED]
      = new_item_signal (klass, "conflict-detected");

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
  bb_sync_engine_signals[BB_SYNC_EVENT_UNKNOWN_REMOTE_ITEM]
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
      g_object_notify_by_pspec (G_OBJECT (self), bb_sync_engine_properties[PROP_MAX_POLL_INTERVAL]);
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
      g_object_notify_by_pspec (G_OBJECT (self), bb_sync_engine_properties[PROP_POLL_INTERVAL]);
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
      g_object_notify_by_pspec (G_OBJECT (self), bb_sync_engine_properties[PROP_MAX_POLL_INTERVAL]);
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
  g_object_notify_by_pspec (G_OBJECT (self), bb_sync_engine_properties[PROP_NAMESPACE_WATCH]);
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
  g_object_notify_by_pspec (G_OBJECT (self), bb_sync_engine_properties[PROP_REFRESH_SKEW]);
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
  g_object_notify_by_pspec (G_OBJECT (self), bb_sync_engine_properties[PROP_INVITE_TTL]);
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
  g_object_notify_by_pspec (G_OBJECT (self), bb_sync_engine_properties[PROP_CLOSED]);
}
