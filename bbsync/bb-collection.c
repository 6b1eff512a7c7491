/* bb-collection.c: one named set of keys of a namespace, with its codec, backend and merge
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-i18n-private.h"

#include "bb-enum-types.h"
#include "bb-error.h"
#include "bb-sync-engine-private.h"

/**
 * BbCollection:
 *
 * A named set of keys in a [class@BbSync.Namespace], such as `account-labels` or `tx-notes`.
 *
 * The app keeps the values in its own storage and exposes them through a
 * [iface@BbSync.ValueBackend]; the [class@BbSync.Codec] turns each value into the bytes that are
 * encrypted into an item. Open a collection with [method@BbSync.Namespace.open_collection].
 *
 * When a remote change meets a local change of the same key, the collection merges:
 * if a handler is connected to [signal@BbSync.Collection::merge], it decides; otherwise the
 * [property@BbSync.Collection:merge-policy] does. An unresolved merge records a conflict, which
 * the engine lists in [method@BbSync.SyncEngine.get_conflicts] and the app settles with
 * [method@BbSync.Collection.resolve_conflict].
 *
 * Since: 0.1
 */
struct _BbCollection
{
  GObject parent_instance;

  BbNamespace *ns;
  char *name;
  BbCodec *codec;
  BbValueBackend *backend;
  BbMergePolicy merge_policy;
};

G_DEFINE_FINAL_TYPE (BbCollection, bb_collection, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_NAME,
  PROP_NAMESPACE,
  PROP_CODEC,
  PROP_BACKEND,
  PROP_MERGE_POLICY,
  N_PROPS
};

enum
{
  SIGNAL_MERGE,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
bb_collection_dispose (GObject *object)
{
  BbCollection *self = BB_COLLECTION (object);

  g_clear_object (&self->ns);
  g_clear_object (&self->codec);
  g_clear_object (&self->backend);

  G_OBJECT_CLASS (bb_collection_parent_class)->dispose (object);
}

static void
bb_collection_finalize (GObject *object)
{
  BbCollection *self = BB_COLLECTION (object);

  g_free (self->name);

  G_OBJECT_CLASS (bb_collection_parent_class)->finalize (object);
}

static void
bb_collection_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BbCollection *self = BB_COLLECTION (object);

  switch (prop_id)
    {
      case PROP_NAME:
        g_value_set_string (value, self->name);
        break;
      case PROP_NAMESPACE:
        g_value_set_object (value, self->ns);
        break;
      case PROP_CODEC:
        g_value_set_object (value, self->codec);
        break;
      case PROP_BACKEND:
        g_value_set_object (value, self->backend);
        break;
      case PROP_MERGE_POLICY:
        g_value_set_enum (value, self->merge_policy);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bb_collection_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  BbCollection *self = BB_COLLECTION (object);

  switch (prop_id)
    {
      case PROP_MERGE_POLICY:
        bb_collection_set_merge_policy (self, g_value_get_enum (value));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bb_collection_class_init (BbCollectionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->dispose = bb_collection_dispose;
  object_class->finalize = bb_collection_finalize;
  object_class->get_property = bb_collection_get_property;
  object_class->set_property = bb_collection_set_property;

  /**
   * BbCollection:name:
   *
   * The collection name.
   *
   * Since: 0.1
   */
  properties[PROP_NAME] = g_param_spec_string ("name", NULL, NULL, NULL, ro);

  /**
   * BbCollection:namespace:
   *
   * The namespace the collection belongs to.
   *
   * Since: 0.1
   */
  properties[PROP_NAMESPACE] = g_param_spec_object ("namespace", NULL, NULL, BB_TYPE_NAMESPACE, ro);

  /**
   * BbCollection:codec:
   *
   * The codec that turns values into item payloads.
   *
   * Since: 0.1
   */
  properties[PROP_CODEC] = g_param_spec_object ("codec", NULL, NULL, BB_TYPE_CODEC, ro);

  /**
   * BbCollection:backend:
   *
   * The app-owned values of the collection.
   *
   * Since: 0.1
   */
  properties[PROP_BACKEND] = g_param_spec_object ("backend", NULL, NULL, BB_TYPE_VALUE_BACKEND, ro);

  /**
   * BbCollection:merge-policy:
   *
   * What happens when a remote change meets a local change of the same key and no
   * handler is connected to [signal@BbSync.Collection::merge].
   *
   * Since: 0.1
   */
  properties[PROP_MERGE_POLICY]
      = g_param_spec_enum ("merge-policy", NULL, NULL, BB_TYPE_MERGE_POLICY, BB_MERGE_POLICY_NONE,
                           G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * BbCollection::merge:
   * @collection: the collection
   * @key: the key whose local and remote values diverged
   * @base: (nullable): the last value both sides agreed on, or %NULL when there is no
   *   merge base (first sync of the key on this device, after its metadata was lost, or
   *   two devices that created the key at the same time)
   * @local: the app's current value
   * @remote: the newest remote value
   *
   * Emitted on the engine's main context during a sync pass when a remote change meets
   * a local change of @key. When a handler is connected, the first handler decides and
   * [property@BbSync.Collection:merge-policy] is not used.
   *
   * Return a value of the codec's type to resolve: it is stored in the backend and, if
   * it differs from @remote, uploaded. Return %NULL to leave the key unresolved: the
   * local value stays, the engine records a [class@BbSync.Conflict] and pauses the key's
   * uploads until [method@BbSync.Collection.resolve_conflict].
   *
   * Returns: (transfer full) (nullable): the merged value, or %NULL for unresolved
   *
   * Since: 0.1
   */
  signals[SIGNAL_MERGE] = g_signal_new (
      "merge", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, g_signal_accumulator_first_wins,
      NULL, NULL, G_TYPE_VARIANT, 4, G_TYPE_STRING, G_TYPE_VARIANT, G_TYPE_VARIANT, G_TYPE_VARIANT);
}

static void
bb_collection_init (BbCollection *self)
{
}

BbCollection *
bb_collection_new (BbNamespace *ns, const char *name, BbCodec *codec, BbValueBackend *backend)
{
  BbCollection *self = g_object_new (BB_TYPE_COLLECTION, NULL);

  self->ns = g_object_ref (ns);
  self->name = g_strdup (name);
  self->codec = g_object_ref (codec);
  self->backend = g_object_ref (backend);
  return self;
}

/**
 * bb_collection_get_name:
 * @self: a [class@BbSync.Collection]
 *
 * Gets the name the collection was opened with in its namespace. Together with each key
 * it determines the item IDs, so every device sharing the namespace must use the same
 * name.
 *
 * Returns: the collection name
 *
 * Since: 0.1
 */
const char *
bb_collection_get_name (BbCollection *self)
{
  g_return_val_if_fail (BB_IS_COLLECTION (self), NULL);
  return self->name;
}

/**
 * bb_collection_get_namespace:
 * @self: a [class@BbSync.Collection]
 *
 * Gets the namespace the collection was opened in, with
 * [method@BbSync.Namespace.open_collection].
 *
 * Returns: (transfer none): the namespace of the collection
 *
 * Since: 0.1
 */
BbNamespace *
bb_collection_get_namespace (BbCollection *self)
{
  g_return_val_if_fail (BB_IS_COLLECTION (self), NULL);
  return self->ns;
}

/**
 * bb_collection_get_codec:
 * @self: a [class@BbSync.Collection]
 *
 * Gets the codec that turns the collection's values into item payloads and back.
 *
 * Returns: (transfer none): the codec of the collection
 *
 * Since: 0.1
 */
BbCodec *
bb_collection_get_codec (BbCollection *self)
{
  g_return_val_if_fail (BB_IS_COLLECTION (self), NULL);
  return self->codec;
}

/**
 * bb_collection_get_backend:
 * @self: a [class@BbSync.Collection]
 *
 * Gets the app's value backend the collection syncs: the engine reads local changes from
 * it and writes remote ones into it.
 *
 * Returns: (transfer none): the value backend of the collection
 *
 * Since: 0.1
 */
BbValueBackend *
bb_collection_get_backend (BbCollection *self)
{
  g_return_val_if_fail (BB_IS_COLLECTION (self), NULL);
  return self->backend;
}

/**
 * bb_collection_get_merge_policy:
 * @self: a [class@BbSync.Collection]
 *
 * Gets what happens when a remote change meets a local change of the same key and no
 * handler of [signal@BbSync.Collection::merge] settles it.
 *
 * Returns: the merge policy, see [property@BbSync.Collection:merge-policy]
 *
 * Since: 0.1
 */
BbMergePolicy
bb_collection_get_merge_policy (BbCollection *self)
{
  g_return_val_if_fail (BB_IS_COLLECTION (self), BB_MERGE_POLICY_NONE);
  return self->merge_policy;
}

/**
 * bb_collection_set_merge_policy:
 * @self: a [class@BbSync.Collection]
 * @policy: a [enum@BbSync.MergePolicy]
 *
 * Sets [property@BbSync.Collection:merge-policy].
 *
 * Since: 0.1
 */
void
bb_collection_set_merge_policy (BbCollection *self, BbMergePolicy policy)
{
  g_return_if_fail (BB_IS_COLLECTION (self));
  g_return_if_fail (policy <= BB_MERGE_POLICY_PREFER_REMOTE);

  if (self->merge_policy == policy)
    return;
  self->merge_policy = policy;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MERGE_POLICY]);
}

/* --- byte-level adapters (spec §2.5) --- */

/* The current value and its encoding; *out_value NULL with no error when the backend has
 * none. The value is kept so a later conditional set compares against exactly what the
 * backend returned (a decoded copy could differ, say in the order of dictionary entries). */
gboolean
bb_collection_get_current (BbCollection *self, const char *key, GVariant **out_value,
                           GBytes **out_bytes, GError **error)
{
  g_autoptr (GVariant) value = NULL;
  GError *local_error = NULL;

  *out_value = NULL;
  *out_bytes = NULL;
  value = bb_value_backend_get_value (self->backend, key, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }
  if (value == NULL)
    return TRUE;
  *out_bytes = bb_codec_encode (self->codec, value, error);
  if (*out_bytes == NULL)
    return FALSE;
  *out_value = g_steal_pointer (&value);
  return TRUE;
}

/* The current encoded value; NULL with no error when the backend has none. */
GBytes *
bb_collection_get_encoded (BbCollection *self, const char *key, GError **error)
{
  g_autoptr (GVariant) value = NULL;
  GBytes *bytes = NULL;

  bb_collection_get_current (self, key, &value, &bytes, error);
  return bytes;
}

/* A conditional set from @current (NULL = absent), the value the backend returned, to the
 * encoded @value (spec §2.5 setIfCurrent). */
gboolean
bb_collection_set_encoded_if_current (BbCollection *self, const char *key, GVariant *current,
                                      GBytes *value, gboolean *out_replaced, GError **error)
{
  g_autoptr (GVariant) new_value = NULL;
  GError *local_error = NULL;
  gboolean replaced;

  *out_replaced = FALSE;
  new_value = bb_codec_decode (self->codec, value, error);
  if (new_value == NULL)
    return FALSE;

  if (!bb_value_backend_is_conditional (self->backend))
    {
      if (!bb_value_backend_set_value (self->backend, key, new_value, error))
        return FALSE;
      *out_replaced = TRUE;
      return TRUE;
    }

  replaced = bb_value_backend_set_value_if_current (self->backend, key, current, new_value,
                                                    &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }
  *out_replaced = replaced;
  return TRUE;
}

static GVariant *
decode_for_merge (BbCollection *self, GBytes *bytes, const char *what, GError **error)
{
  GVariant *value = bb_codec_decode (self->codec, bytes, error);

  if (value == NULL)
    g_prefix_error (error, _ ("Decode merge %s of collection “%s”: "), what, self->name);
  return value;
}

gboolean
bb_collection_merge_bytes (BbCollection *self, const char *key, GBytes *base, GBytes *local,
                           GBytes *remote, GBytes **out_merged, GError **error)
{
  g_autoptr (GVariant) base_value = NULL;
  g_autoptr (GVariant) local_value = NULL;
  g_autoptr (GVariant) remote_value = NULL;
  g_autoptr (GVariant) merged = NULL;

  *out_merged = NULL;
  /* An absent base is never decoded: strict codecs reject the empty payload. */
  if (base != NULL && (base_value = decode_for_merge (self, base, "base", error)) == NULL)
    return FALSE;
  if ((local_value = decode_for_merge (self, local, "local", error)) == NULL)
    return FALSE;
  if ((remote_value = decode_for_merge (self, remote, "remote", error)) == NULL)
    return FALSE;

  if (g_signal_has_handler_pending (self, signals[SIGNAL_MERGE], 0, FALSE))
    {
      g_signal_emit (self, signals[SIGNAL_MERGE], 0, key, base_value, local_value, remote_value,
                     &merged);
      if (merged != NULL && !g_variant_is_of_type (merged, bb_codec_get_value_type (self->codec)))
        {
          g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                       _ ("The merge handler of collection “%s” returned a value of type “%s” "
                          "for key “%s”, expected “%s”"),
                       self->name, g_variant_get_type_string (merged), key,
                       g_variant_type_peek_string (bb_codec_get_value_type (self->codec)));
          return FALSE;
        }
    }
  else if (self->merge_policy == BB_MERGE_POLICY_PREFER_LOCAL)
    merged = g_variant_ref (local_value);
  else if (self->merge_policy == BB_MERGE_POLICY_PREFER_REMOTE)
    merged = g_variant_ref (remote_value);

  /* Unresolved: nothing is encoded. */
  if (merged == NULL)
    return TRUE;

  *out_merged = bb_codec_encode (self->codec, merged, error);
  if (*out_merged == NULL)
    {
      g_prefix_error (error, _ ("Encode merged value of collection “%s”: "), self->name);
      return FALSE;
    }
  return TRUE;
}

/**
 * bb_collection_resolve_conflict:
 * @self: a [class@BbSync.Collection]
 * @key: a key with a conflict
 * @how: how to settle it
 * @value: (nullable): the value to keep with %BB_CONFLICT_RESOLUTION_VALUE, of the
 *   codec's type; ignored otherwise
 * @error: return location for a [struct@GLib.Error]
 *
 * Settles the conflict of @key (spec §2.5):
 *
 * - %BB_CONFLICT_RESOLUTION_PREFER_LOCAL keeps the backend's current value and queues it
 *   for upload over the remote version;
 * - %BB_CONFLICT_RESOLUTION_PREFER_REMOTE stores the remote value in the backend and
 *   marks the key clean at the remote version;
 * - %BB_CONFLICT_RESOLUTION_VALUE stores @value in the backend and queues it for upload.
 *
 * A key without a conflict is left as it is. Uploads happen in the next sync pass.
 *
 * Returns: %TRUE on success; %FALSE with %BB_SYNC_ERROR_NOT_FOUND when the engine has no
 *   record of @key (or, with PREFER_LOCAL, the backend has no value for it), or another
 *   error from the backend, the codec or the store
 *
 * Since: 0.1
 */
gboolean
bb_collection_resolve_conflict (BbCollection *self, const char *key, BbConflictResolution how,
                                GVariant *value, GError **error)
{
  g_autoptr (BbSyncEngine) engine = NULL;
  g_autoptr (BbItemState) item = NULL;
  g_autoptr (GVariant) sunk = NULL;
  g_autoptr (GPtrArray) records = NULL;
  BbItemState *stored;

  g_return_val_if_fail (BB_IS_COLLECTION (self), FALSE);
  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (how <= BB_CONFLICT_RESOLUTION_VALUE, FALSE);
  g_return_val_if_fail (how != BB_CONFLICT_RESOLUTION_VALUE || value != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (value != NULL)
    sunk = g_variant_ref_sink (value);

  engine = bb_namespace_get_engine (self->ns);
  if (engine == NULL)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_CLOSED, _ ("The sync engine is gone"));
      return FALSE;
    }
  if (!bb_sync_engine_check_open (engine, error))
    return FALSE;

  stored
      = bb_item_cache_peek_by_logical_key (bb_sync_engine_get_item_cache (engine),
                                           bb_namespace_get_id (self->ns), self->name, key, error);
  if (stored == NULL)
    return FALSE;
  item = bb_item_state_copy (stored);
  if (!bb_item_state_get_conflict (item))
    return TRUE;

  switch (how)
    {
      case BB_CONFLICT_RESOLUTION_VALUE:
        if (!g_variant_is_of_type (sunk, bb_codec_get_value_type (self->codec)))
          {
            g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                         _ ("Value for key “%s” of collection “%s” has type “%s”, expected “%s”"),
                         key, self->name, g_variant_get_type_string (sunk),
                         g_variant_type_peek_string (bb_codec_get_value_type (self->codec)));
            return FALSE;
          }
        if (!bb_value_backend_set_value (self->backend, key, sunk, error))
          return FALSE;
        bb_item_state_clear_conflict (item);
        bb_item_state_mark_dirty (item);
        break;

      case BB_CONFLICT_RESOLUTION_PREFER_LOCAL:
        {
          g_autoptr (GVariant) current = NULL;
          GError *local_error = NULL;

          current = bb_value_backend_get_value (self->backend, key, &local_error);
          if (local_error != NULL)
            {
              g_propagate_error (error, local_error);
              return FALSE;
            }
          if (current == NULL)
            {
              g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_NOT_FOUND,
                           _ ("Key “%s” of collection “%s” has no local value to keep"), key,
                           self->name);
              return FALSE;
            }
          bb_item_state_clear_conflict (item);
          bb_item_state_mark_dirty (item);
        }
        break;

      case BB_CONFLICT_RESOLUTION_PREFER_REMOTE:
        {
          GBytes *remote_bytes = bb_item_state_get_conflict_remote_value (item);
          g_autoptr (GVariant) remote = NULL;
          g_autoptr (GBytes) remote_copy = NULL;

          remote = bb_codec_decode (self->codec, remote_bytes, error);
          if (remote == NULL)
            return FALSE;
          if (!bb_value_backend_set_value (self->backend, key, remote, error))
            return FALSE;
          remote_copy = remote_bytes != NULL ? g_bytes_ref (remote_bytes) : g_bytes_new (NULL, 0);
          bb_item_state_mark_clean (item, bb_item_state_get_conflict_remote_version (item),
                                    remote_copy);
        }
        break;
    }

  records = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (records, g_steal_pointer (&item));
  if (!bb_item_cache_save (bb_sync_engine_get_item_cache (engine), records, NULL, TRUE, error))
    return FALSE;
  bb_sync_engine_refresh_conflicts (engine);
  return TRUE;
}
