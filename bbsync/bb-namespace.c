/* bb-namespace.c: a handle on one namespace of the engine's identity
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-i18n-private.h"

#include "bb-error.h"
#include "bb-open-invite.h"
#include "bb-pending-join-request.h"
#include "bb-sync-engine-private.h"

/**
 * BbNamespace:
 *
 * A namespace of the engine's identity: the default namespace, or a shared one.
 *
 * A namespace holds the collections an app opens in it with
 * [method@BbSync.Namespace.open_collection]. The handle itself does no I/O; get one from
 * [method@BbSync.SyncEngine.default_namespace_async],
 * [method@BbSync.SyncEngine.lookup_namespace_async],
 * [method@BbSync.SyncEngine.join_namespace_async],
 * [method@BbSync.SyncEngine.create_shared_namespace_async] or the list of
 * [method@BbSync.SyncEngine.get_namespaces]. The engine hands out one handle per namespace.
 *
 * Since: 0.1
 */
struct _BbNamespace
{
  GObject parent_instance;

  GWeakRef engine;
  char *id;
  char *kind;
  GListStore *join_requests; /* BbPendingJoinRequest */
  GListStore *invites;       /* BbOpenInvite */
};

G_DEFINE_FINAL_TYPE (BbNamespace, bb_namespace, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_ID,
  PROP_KIND,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
bb_namespace_finalize (GObject *object)
{
  BbNamespace *self = BB_NAMESPACE (object);

  g_weak_ref_clear (&self->engine);
  g_free (self->id);
  g_free (self->kind);
  g_clear_object (&self->join_requests);
  g_clear_object (&self->invites);

  G_OBJECT_CLASS (bb_namespace_parent_class)->finalize (object);
}

static void
bb_namespace_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BbNamespace *self = BB_NAMESPACE (object);

  switch (prop_id)
    {
      case PROP_ID:
        g_value_set_string (value, self->id);
        break;
      case PROP_KIND:
        g_value_set_string (value, self->kind);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bb_namespace_class_init (BbNamespaceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = bb_namespace_finalize;
  object_class->get_property = bb_namespace_get_property;

  /**
   * BbNamespace:id:
   *
   * The namespace ID: 32 lower-case hex characters.
   *
   * Since: 0.1
   */
  properties[PROP_ID]
      = g_param_spec_string ("id", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * BbNamespace:kind:
   *
   * `default`, `shared`, or the empty string while unknown (a namespace joined with
   * [method@BbSync.SyncEngine.join_namespace_async] until the next sync pass).
   *
   * Since: 0.1
   */
  properties[PROP_KIND] = g_param_spec_string (
      "kind", NULL, NULL, "", G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
bb_namespace_init (BbNamespace *self)
{
  g_weak_ref_init (&self->engine, NULL);
  self->kind = g_strdup ("");
  self->join_requests = g_list_store_new (BB_TYPE_PENDING_JOIN_REQUEST);
  self->invites = g_list_store_new (BB_TYPE_OPEN_INVITE);
}

GListStore *
bb_namespace_get_join_request_store (BbNamespace *self)
{
  return self->join_requests;
}

GListStore *
bb_namespace_get_invite_store (BbNamespace *self)
{
  return self->invites;
}

BbNamespace *
bb_namespace_new (BbSyncEngine *engine, const char *namespace_id, const char *kind)
{
  BbNamespace *self = g_object_new (BB_TYPE_NAMESPACE, NULL);

  g_weak_ref_set (&self->engine, engine);
  self->id = g_strdup (namespace_id);
  bb_namespace_set_kind (self, kind);
  return self;
}

/* (transfer full) (nullable) */
BbSyncEngine *
bb_namespace_get_engine (BbNamespace *self)
{
  return g_weak_ref_get (&self->engine);
}

void
bb_namespace_set_kind (BbNamespace *self, const char *kind)
{
  if (kind == NULL || g_strcmp0 (self->kind, kind) == 0)
    return;
  g_free (self->kind);
  self->kind = g_strdup (kind);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_KIND]);
}

/**
 * bb_namespace_get_id:
 * @self: a [class@BbSync.Namespace]
 *
 * Gets the ID of the namespace. It is stable: it names the namespace on the server and
 * in invites.
 *
 * Returns: the namespace ID, 32 lower-case hex characters
 *
 * Since: 0.1
 */
const char *
bb_namespace_get_id (BbNamespace *self)
{
  g_return_val_if_fail (BB_IS_NAMESPACE (self), NULL);
  return self->id;
}

/**
 * bb_namespace_get_kind:
 * @self: a [class@BbSync.Namespace]
 *
 * Gets the kind of the namespace, %BB_PROTOCOL_NAMESPACE_KIND_DEFAULT or
 * %BB_PROTOCOL_NAMESPACE_KIND_SHARED. A namespace joined with
 * [method@BbSync.SyncEngine.join_namespace_async] has an empty kind until the next sync
 * pass.
 *
 * Returns: the kind, see [property@BbSync.Namespace:kind]
 *
 * Since: 0.1
 */
const char *
bb_namespace_get_kind (BbNamespace *self)
{
  g_return_val_if_fail (BB_IS_NAMESPACE (self), NULL);
  return self->kind;
}

/**
 * bb_namespace_open_collection:
 * @self: a [class@BbSync.Namespace]
 * @name: the collection name, for example `account-labels`
 * @codec: (nullable): how values become item payloads; %NULL for a JSON codec of type
 *   `v` (any JSON value)
 * @backend: the app-owned current values of the collection
 * @error: return location for a [struct@GLib.Error]
 *
 * Registers a collection of the namespace with the engine, so that sync passes
 * upload the backend's changed values and apply remote values to it.
 *
 * Registrations live in memory only: open your collections after every start,
 * before the first sync pass. A collection opened while passes are running takes part
 * from the next pass on. The key names of a collection are private to the app and
 * never leave the device in plaintext (the server sees opaque item IDs).
 *
 * Returns: (transfer full): the collection, or %NULL with %BB_SYNC_ERROR_NO_BACKEND
 *   when @backend is %NULL, %BB_SYNC_ERROR_COLLECTION_REGISTERED when a collection of
 *   that name is already open in this namespace (the first registration stays in
 *   force), or %BB_SYNC_ERROR_CLOSED after [method@BbSync.SyncEngine.close]
 *
 * Since: 0.1
 */
BbCollection *
bb_namespace_open_collection (BbNamespace *self, const char *name, BbCodec *codec,
                              BbValueBackend *backend, GError **error)
{
  g_autoptr (BbSyncEngine) engine = NULL;
  g_autoptr (BbCodec) default_codec = NULL;
  g_autoptr (BbCollection) collection = NULL;

  g_return_val_if_fail (BB_IS_NAMESPACE (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (codec == NULL || BB_IS_CODEC (codec), NULL);
  g_return_val_if_fail (backend == NULL || BB_IS_VALUE_BACKEND (backend), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_utf8_validate (name, -1, NULL))
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("Collection name is not valid UTF-8"));
      return NULL;
    }
  if (backend == NULL)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_NO_BACKEND,
                   _ ("Collection “%s” needs a value backend"), name);
      return NULL;
    }
  engine = bb_namespace_get_engine (self);
  if (engine == NULL)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_CLOSED, _ ("The sync engine is gone"));
      return NULL;
    }
  if (codec == NULL)
    codec = default_codec = bb_codec_new_json (G_VARIANT_TYPE_VARIANT);

  collection = bb_collection_new (self, name, codec, backend);
  if (!bb_sync_engine_register_collection (engine, collection, error))
    return NULL;
  return g_steal_pointer (&collection);
}

/**
 * bb_namespace_get_collection:
 * @self: a [class@BbSync.Namespace]
 * @name: a collection name
 *
 * Looks up a collection opened with [method@BbSync.Namespace.open_collection].
 *
 * Returns: (transfer none) (nullable): the collection, or %NULL if none of that name is
 *   open
 *
 * Since: 0.1
 */
BbCollection *
bb_namespace_get_collection (BbNamespace *self, const char *name)
{
  g_autoptr (BbSyncEngine) engine = NULL;

  g_return_val_if_fail (BB_IS_NAMESPACE (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  engine = bb_namespace_get_engine (self);
  if (engine == NULL)
    return NULL;
  return bb_sync_engine_lookup_collection (engine, self->id, name);
}

static void
members_listed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  GPtrArray *members = bb_client_list_members_finish (BB_CLIENT (source), result, &error);

  if (members == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, members, (GDestroyNotify)g_ptr_array_unref);
}

static void
members_body (BbSyncEngine *engine, gpointer body_data, GCancellable *cancellable,
              GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (engine, cancellable, callback, user_data);

  bb_client_list_members_async (bb_sync_engine_get_client (engine), body_data, cancellable,
                                members_listed, task);
}

static void
members_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  GPtrArray *members = bb_sync_auth_run_finish (BB_SYNC_ENGINE (source), result, &error);

  bb_sync_engine_op_done (BB_SYNC_ENGINE (source), g_task_get_task_data (task));
  if (members == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, members, (GDestroyNotify)g_ptr_array_unref);
}

/**
 * bb_namespace_list_members_async:
 * @self: a [class@BbSync.Namespace]
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the list is ready
 * @user_data: data for @callback
 *
 * Lists the members of the namespace (`GET /v1/namespaces/{id}/members`), logging in
 * first if needed.
 *
 * Since: 0.1
 */
void
bb_namespace_list_members_async (BbNamespace *self, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (BbSyncEngine) engine = NULL;
  g_autoptr (GTask) task = NULL;
  GError *error = NULL;
  GCancellable *op;

  g_return_if_fail (BB_IS_NAMESPACE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, bb_namespace_list_members_async);
  engine = bb_namespace_get_engine (self);
  if (engine == NULL)
    {
      g_task_return_new_error (task, BB_SYNC_ERROR, BB_SYNC_ERROR_CLOSED,
                               _ ("The sync engine is gone"));
      return;
    }
  if (!bb_sync_engine_check_open (engine, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  op = bb_sync_engine_op_cancellable (engine, cancellable);
  g_task_set_task_data (task, op, NULL);
  bb_sync_auth_run_async (engine, members_body, g_strdup (self->id), g_free, op, members_done,
                          g_steal_pointer (&task));
}

/**
 * bb_namespace_list_members_finish:
 * @self: a [class@BbSync.Namespace]
 * @result: the result passed to the callback
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Namespace.list_members_async].
 *
 * Returns: (transfer container) (element-type BbMember): the members, or %NULL on error
 *
 * Since: 0.1
 */
GPtrArray *
bb_namespace_list_members_finish (BbNamespace *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (BB_IS_NAMESPACE (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == bb_namespace_list_members_async,
                        NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
