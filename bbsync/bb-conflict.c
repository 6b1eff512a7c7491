/* bb-conflict.c: an unresolved conflict between a local and a remote value
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-sync-engine-private.h"

/**
 * BbConflict:
 *
 * A key whose local and remote values diverged and could not be merged: the merge
 * policy was [enum@BbSync.MergePolicy.NONE] or a [signal@BbSync.Collection::merge] handler
 * returned %NULL.
 *
 * The engine keeps the local value, records the remote one, and pauses the key's
 * uploads until the app settles it with [method@BbSync.Collection.resolve_conflict]. The
 * engine lists every open conflict in [method@BbSync.SyncEngine.get_conflicts].
 *
 * A conflict is a snapshot taken when the list was last updated; the values are
 * decoded with the collection's codec and are %NULL while the collection is not open.
 *
 * Since: 0.1
 */
struct _BbConflict
{
  GObject parent_instance;

  char *namespace_id;
  char *collection;
  char *key;
  char *item_id;
  GVariant *local_value;
  GVariant *remote_value;
  guint64 remote_version;
};

G_DEFINE_FINAL_TYPE (BbConflict, bb_conflict, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_NAMESPACE_ID,
  PROP_COLLECTION,
  PROP_KEY,
  PROP_ITEM_ID,
  PROP_LOCAL_VALUE,
  PROP_REMOTE_VALUE,
  PROP_REMOTE_VERSION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
bb_conflict_finalize (GObject *object)
{
  BbConflict *self = BB_CONFLICT (object);

  g_free (self->namespace_id);
  g_free (self->collection);
  g_free (self->key);
  g_free (self->item_id);
  g_clear_pointer (&self->local_value, g_variant_unref);
  g_clear_pointer (&self->remote_value, g_variant_unref);

  G_OBJECT_CLASS (bb_conflict_parent_class)->finalize (object);
}

static void
bb_conflict_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BbConflict *self = BB_CONFLICT (object);

  switch (prop_id)
    {
      case PROP_NAMESPACE_ID:
        g_value_set_string (value, self->namespace_id);
        break;
      case PROP_COLLECTION:
        g_value_set_string (value, self->collection);
        break;
      case PROP_KEY:
        g_value_set_string (value, self->key);
        break;
      case PROP_ITEM_ID:
        g_value_set_string (value, self->item_id);
        break;
      case PROP_LOCAL_VALUE:
        g_value_set_variant (value, self->local_value);
        break;
      case PROP_REMOTE_VALUE:
        g_value_set_variant (value, self->remote_value);
        break;
      case PROP_REMOTE_VERSION:
        g_value_set_uint64 (value, self->remote_version);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bb_conflict_class_init (BbConflictClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->finalize = bb_conflict_finalize;
  object_class->get_property = bb_conflict_get_property;

  /**
   * BbConflict:namespace-id:
   *
   * The namespace of the conflicted key.
   *
   * Since: 0.1
   */
  properties[PROP_NAMESPACE_ID] = g_param_spec_string ("namespace-id", NULL, NULL, NULL, flags);

  /**
   * BbConflict:collection:
   *
   * The collection of the conflicted key.
   *
   * Since: 0.1
   */
  properties[PROP_COLLECTION] = g_param_spec_string ("collection", NULL, NULL, NULL, flags);

  /**
   * BbConflict:key:
   *
   * The conflicted key.
   *
   * Since: 0.1
   */
  properties[PROP_KEY] = g_param_spec_string ("key", NULL, NULL, NULL, flags);

  /**
   * BbConflict:item-id:
   *
   * The opaque item ID of the key on the server.
   *
   * Since: 0.1
   */
  properties[PROP_ITEM_ID] = g_param_spec_string ("item-id", NULL, NULL, NULL, flags);

  /**
   * BbConflict:local-value:
   *
   * The value the app's backend held when the list was updated, or %NULL if it had
   * none or the collection is not open.
   *
   * Since: 0.1
   */
  properties[PROP_LOCAL_VALUE]
      = g_param_spec_variant ("local-value", NULL, NULL, G_VARIANT_TYPE_ANY, NULL, flags);

  /**
   * BbConflict:remote-value:
   *
   * The newest remote value, or %NULL while the collection is not open.
   *
   * Since: 0.1
   */
  properties[PROP_REMOTE_VALUE]
      = g_param_spec_variant ("remote-value", NULL, NULL, G_VARIANT_TYPE_ANY, NULL, flags);

  /**
   * BbConflict:remote-version:
   *
   * The server version of the remote value.
   *
   * Since: 0.1
   */
  properties[PROP_REMOTE_VERSION]
      = g_param_spec_uint64 ("remote-version", NULL, NULL, 0, G_MAXUINT64, 0, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
bb_conflict_init (BbConflict *self)
{
}

BbConflict *
bb_conflict_new (BbItemState *item, GVariant *local_value, GVariant *remote_value)
{
  BbConflict *self = g_object_new (BB_TYPE_CONFLICT, NULL);

  self->namespace_id = g_strdup (bb_item_state_get_namespace_id (item));
  self->collection = g_strdup (bb_item_state_get_collection (item));
  self->key = g_strdup (bb_item_state_get_key (item));
  self->item_id = g_strdup (bb_item_state_get_item_id (item));
  self->local_value = local_value != NULL ? g_variant_ref_sink (local_value) : NULL;
  self->remote_value = remote_value != NULL ? g_variant_ref_sink (remote_value) : NULL;
  self->remote_version = bb_item_state_get_conflict_remote_version (item);
  return self;
}

/**
 * bb_conflict_get_namespace_id:
 * @self: a [class@BbSync.Conflict]
 *
 * Gets the ID of the namespace of the conflicted key, as 32 lower-case hex characters.
 *
 * Returns: the namespace ID of the conflicted key
 *
 * Since: 0.1
 */
const char *
bb_conflict_get_namespace_id (BbConflict *self)
{
  g_return_val_if_fail (BB_IS_CONFLICT (self), NULL);
  return self->namespace_id;
}

/**
 * bb_conflict_get_collection:
 * @self: a [class@BbSync.Conflict]
 *
 * Gets the name of the collection of the conflicted key.
 *
 * Returns: the collection name of the conflicted key
 *
 * Since: 0.1
 */
const char *
bb_conflict_get_collection (BbConflict *self)
{
  g_return_val_if_fail (BB_IS_CONFLICT (self), NULL);
  return self->collection;
}

/**
 * bb_conflict_get_key:
 * @self: a [class@BbSync.Conflict]
 *
 * Gets the conflicted key, within its collection.
 *
 * Returns: the conflicted key
 *
 * Since: 0.1
 */
const char *
bb_conflict_get_key (BbConflict *self)
{
  g_return_val_if_fail (BB_IS_CONFLICT (self), NULL);
  return self->key;
}

/**
 * bb_conflict_get_item_id:
 * @self: a [class@BbSync.Conflict]
 *
 * Gets the item ID of the key on the server, in lower-case hex. It is opaque: the server
 * sees only this, never the collection or the key.
 *
 * Returns: the opaque item ID of the key on the server
 *
 * Since: 0.1
 */
const char *
bb_conflict_get_item_id (BbConflict *self)
{
  g_return_val_if_fail (BB_IS_CONFLICT (self), NULL);
  return self->item_id;
}

/**
 * bb_conflict_get_local_value:
 * @self: a [class@BbSync.Conflict]
 *
 * Gets the value the app's backend held for the key when the conflict list was last
 * updated.
 *
 * Returns: (transfer none) (nullable): the local value, see [property@BbSync.Conflict:local-value]
 *
 * Since: 0.1
 */
GVariant *
bb_conflict_get_local_value (BbConflict *self)
{
  g_return_val_if_fail (BB_IS_CONFLICT (self), NULL);
  return self->local_value;
}

/**
 * bb_conflict_get_remote_value:
 * @self: a [class@BbSync.Conflict]
 *
 * Gets the newest remote value of the key, decoded with the collection's codec.
 *
 * Returns: (transfer none) (nullable): the remote value, see
 *   [property@BbSync.Conflict:remote-value]
 *
 * Since: 0.1
 */
GVariant *
bb_conflict_get_remote_value (BbConflict *self)
{
  g_return_val_if_fail (BB_IS_CONFLICT (self), NULL);
  return self->remote_value;
}

/**
 * bb_conflict_get_remote_version:
 * @self: a [class@BbSync.Conflict]
 *
 * Gets the server version of the remote value. A resolution that keeps a local value
 * uploads it over this version.
 *
 * Returns: the server version of the remote value
 *
 * Since: 0.1
 */
guint64
bb_conflict_get_remote_version (BbConflict *self)
{
  g_return_val_if_fail (BB_IS_CONFLICT (self), 0);
  return self->remote_version;
}
