/* bb-item-state.c: the stored sync state of one item
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-item-state.h"

#include "bb-store-private.h"

/**
 * BbItemState:
 *
 * The stored sync state of one item, keyed by (key ID, namespace ID, item ID); the
 * logical identity (key ID, namespace ID, collection, key) is unique as well.
 *
 * It holds the highest server version known locally, the merge base (the encoded value
 * of the last clean sync point and its version), the dirty flag, and the remote side of
 * an unresolved conflict. Values themselves live in the app's value backend; the base
 * and conflict values here are encoded plaintext, which the SQLite store seals at rest.
 *
 * The transition methods ([method@BbSync.ItemState.mark_clean],
 * [method@BbSync.ItemState.mark_dirty], [method@BbSync.ItemState.mark_dirty_with_base],
 * [method@BbSync.ItemState.mark_conflict] and [method@BbSync.ItemState.clear_conflict]) are
 * the only ways the engine changes an item. All but the last set
 * [property@BbSync.ItemState:updated-at] to the current time. Times are Unix times in
 * microseconds (UTC).
 *
 * Since: 0.1
 */
struct _BbItemState
{
  GObject parent_instance;

  char *key_id;
  char *namespace_id;
  char *collection;
  char *key;
  char *item_id;
  guint64 version;
  guint64 base_version;
  GBytes *base_value;
  gboolean dirty;
  gboolean conflict;
  guint64 conflict_remote_version;
  GBytes *conflict_remote_value;
  gint64 updated_at;
};

G_DEFINE_FINAL_TYPE (BbItemState, bb_item_state, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_KEY_ID,
  PROP_NAMESPACE_ID,
  PROP_COLLECTION,
  PROP_KEY,
  PROP_ITEM_ID,
  PROP_VERSION,
  PROP_BASE_VERSION,
  PROP_BASE_VALUE,
  PROP_DIRTY,
  PROP_CONFLICT,
  PROP_CONFLICT_REMOTE_VERSION,
  PROP_CONFLICT_REMOTE_VALUE,
  PROP_UPDATED_AT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
notify (BbItemState *self, guint prop)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

static void
set_string (BbItemState *self, char **field, const char *value, guint prop)
{
  if (bb_store_replace_string (field, value, FALSE))
    notify (self, prop);
}

static void
set_bytes (BbItemState *self, GBytes **field, GBytes *value, guint prop)
{
  if (bb_store_replace_bytes (field, value, FALSE))
    notify (self, prop);
}

static void
set_u64 (BbItemState *self, guint64 *field, guint64 value, guint prop)
{
  if (*field == value)
    return;
  *field = value;
  notify (self, prop);
}

static void
set_bool (BbItemState *self, gboolean *field, gboolean value, guint prop)
{
  value = !!value;
  if (*field == value)
    return;
  *field = value;
  notify (self, prop);
}

static void
bb_item_state_finalize (GObject *object)
{
  BbItemState *self = BB_ITEM_STATE (object);

  g_free (self->key_id);
  g_free (self->namespace_id);
  g_free (self->collection);
  g_free (self->key);
  g_free (self->item_id);
  g_clear_pointer (&self->base_value, g_bytes_unref);
  g_clear_pointer (&self->conflict_remote_value, g_bytes_unref);

  G_OBJECT_CLASS (bb_item_state_parent_class)->finalize (object);
}

static void
bb_item_state_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BbItemState *self = BB_ITEM_STATE (object);

  switch (prop_id)
    {
      case PROP_KEY_ID:
        g_value_set_string (value, self->key_id);
        break;
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
      case PROP_VERSION:
        g_value_set_uint64 (value, self->version);
        break;
      case PROP_BASE_VERSION:
        g_value_set_uint64 (value, self->base_version);
        break;
      case PROP_BASE_VALUE:
        g_value_set_boxed (value, self->base_value);
        break;
      case PROP_DIRTY:
        g_value_set_boolean (value, self->dirty);
        break;
      case PROP_CONFLICT:
        g_value_set_boolean (value, self->conflict);
        break;
      case PROP_CONFLICT_REMOTE_VERSION:
        g_value_set_uint64 (value, self->conflict_remote_version);
        break;
      case PROP_CONFLICT_REMOTE_VALUE:
        g_value_set_boxed (value, self->conflict_remote_value);
        break;
      case PROP_UPDATED_AT:
        g_value_set_int64 (value, self->updated_at);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bb_item_state_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  BbItemState *self = BB_ITEM_STATE (object);

  switch (prop_id)
    {
      case PROP_KEY_ID:
        set_string (self, &self->key_id, g_value_get_string (value), prop_id);
        break;
      case PROP_NAMESPACE_ID:
        set_string (self, &self->namespace_id, g_value_get_string (value), prop_id);
        break;
      case PROP_COLLECTION:
        set_string (self, &self->collection, g_value_get_string (value), prop_id);
        break;
      case PROP_KEY:
        set_string (self, &self->key, g_value_get_string (value), prop_id);
        break;
      case PROP_ITEM_ID:
        set_string (self, &self->item_id, g_value_get_string (value), prop_id);
        break;
      case PROP_VERSION:
        set_u64 (self, &self->version, g_value_get_uint64 (value), prop_id);
        break;
      case PROP_BASE_VERSION:
        set_u64 (self, &self->base_version, g_value_get_uint64 (value), prop_id);
        break;
      case PROP_BASE_VALUE:
        set_bytes (self, &self->base_value, g_value_get_boxed (value), prop_id);
        break;
      case PROP_DIRTY:
        set_bool (self, &self->dirty, g_value_get_boolean (value), prop_id);
        break;
      case PROP_CONFLICT:
        set_bool (self, &self->conflict, g_value_get_boolean (value), prop_id);
        break;
      case PROP_CONFLICT_REMOTE_VERSION:
        set_u64 (self, &self->conflict_remote_version, g_value_get_uint64 (value), prop_id);
        break;
      case PROP_CONFLICT_REMOTE_VALUE:
        set_bytes (self, &self->conflict_remote_value, g_value_get_boxed (value), prop_id);
        break;
      case PROP_UPDATED_AT:
        bb_item_state_set_updated_at (self, g_value_get_int64 (value));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bb_item_state_class_init (BbItemStateClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->finalize = bb_item_state_finalize;
  object_class->get_property = bb_item_state_get_property;
  object_class->set_property = bb_item_state_set_property;

  /**
   * BbItemState:key-id:
   *
   * The key ID of the identity this record belongs to.
   *
   * Since: 0.1
   */
  properties[PROP_KEY_ID] = g_param_spec_string ("key-id", NULL, NULL, "", flags);

  /**
   * BbItemState:namespace-id:
   *
   * The namespace ID.
   *
   * Since: 0.1
   */
  properties[PROP_NAMESPACE_ID] = g_param_spec_string ("namespace-id", NULL, NULL, "", flags);

  /**
   * BbItemState:collection:
   *
   * The logical collection name.
   *
   * Since: 0.1
   */
  properties[PROP_COLLECTION] = g_param_spec_string ("collection", NULL, NULL, "", flags);

  /**
   * BbItemState:key:
   *
   * The logical key within the collection.
   *
   * Since: 0.1
   */
  properties[PROP_KEY] = g_param_spec_string ("key", NULL, NULL, "", flags);

  /**
   * BbItemState:item-id:
   *
   * The opaque lowercase hex item ID.
   *
   * Since: 0.1
   */
  properties[PROP_ITEM_ID] = g_param_spec_string ("item-id", NULL, NULL, "", flags);

  /**
   * BbItemState:version:
   *
   * The highest server version known locally; 0 means never seen on the server.
   *
   * Since: 0.1
   */
  properties[PROP_VERSION] = g_param_spec_uint64 ("version", NULL, NULL, 0, G_MAXUINT64, 0, flags);

  /**
   * BbItemState:base-version:
   *
   * The version that [property@BbSync.ItemState:base-value] belongs to.
   *
   * Since: 0.1
   */
  properties[PROP_BASE_VERSION]
      = g_param_spec_uint64 ("base-version", NULL, NULL, 0, G_MAXUINT64, 0, flags);

  /**
   * BbItemState:base-value:
   *
   * The encoded value of the last clean sync point, or %NULL.
   *
   * Since: 0.1
   */
  properties[PROP_BASE_VALUE] = g_param_spec_boxed ("base-value", NULL, NULL, G_TYPE_BYTES, flags);

  /**
   * BbItemState:dirty:
   *
   * Whether the current backend value must be uploaded.
   *
   * Since: 0.1
   */
  properties[PROP_DIRTY] = g_param_spec_boolean ("dirty", NULL, NULL, FALSE, flags);

  /**
   * BbItemState:conflict:
   *
   * Whether the item has an unresolved conflict; it is not uploaded while set.
   *
   * Since: 0.1
   */
  properties[PROP_CONFLICT] = g_param_spec_boolean ("conflict", NULL, NULL, FALSE, flags);

  /**
   * BbItemState:conflict-remote-version:
   *
   * The remote version of an unresolved conflict, or 0.
   *
   * Since: 0.1
   */
  properties[PROP_CONFLICT_REMOTE_VERSION]
      = g_param_spec_uint64 ("conflict-remote-version", NULL, NULL, 0, G_MAXUINT64, 0, flags);

  /**
   * BbItemState:conflict-remote-value:
   *
   * The encoded remote value of an unresolved conflict, or %NULL.
   *
   * Since: 0.1
   */
  properties[PROP_CONFLICT_REMOTE_VALUE]
      = g_param_spec_boxed ("conflict-remote-value", NULL, NULL, G_TYPE_BYTES, flags);

  /**
   * BbItemState:updated-at:
   *
   * The time of the last local write, in Unix microseconds (UTC); uploads are ordered
   * by it. A store sets the current time when it saves a record whose value is 0.
   *
   * Since: 0.1
   */
  properties[PROP_UPDATED_AT]
      = g_param_spec_int64 ("updated-at", NULL, NULL, G_MININT64, G_MAXINT64, 0, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
bb_item_state_init (BbItemState *self)
{
  self->key_id = g_strdup ("");
  self->namespace_id = g_strdup ("");
  self->collection = g_strdup ("");
  self->key = g_strdup ("");
  self->item_id = g_strdup ("");
}

/**
 * bb_item_state_new:
 * @key_id: the key ID of the identity
 * @namespace_id: the namespace ID
 * @collection: the collection name
 * @key: the logical key
 * @item_id: the item ID
 *
 * Creates an item state that was never seen on the server: version 0, no base, clean,
 * no conflict.
 *
 * Returns: (transfer full): a new [class@BbSync.ItemState]
 *
 * Since: 0.1
 */
BbItemState *
bb_item_state_new (const char *key_id, const char *namespace_id, const char *collection,
                   const char *key, const char *item_id)
{
  g_return_val_if_fail (key_id != NULL, NULL);
  g_return_val_if_fail (namespace_id != NULL, NULL);
  g_return_val_if_fail (collection != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (item_id != NULL, NULL);

  return g_object_new (BB_TYPE_ITEM_STATE, "key-id", key_id, "namespace-id", namespace_id,
                       "collection", collection, "key", key, "item-id", item_id, NULL);
}

/**
 * bb_item_state_copy:
 * @self: a [class@BbSync.ItemState]
 *
 * Makes an independent copy of @self.
 *
 * Returns: (transfer full): a new [class@BbSync.ItemState] with the same fields
 *
 * Since: 0.1
 */
BbItemState *
bb_item_state_copy (BbItemState *self)
{
  BbItemState *copy;

  g_return_val_if_fail (BB_IS_ITEM_STATE (self), NULL);

  copy = bb_item_state_new (self->key_id, self->namespace_id, self->collection, self->key,
                            self->item_id);
  copy->version = self->version;
  copy->base_version = self->base_version;
  /* GBytes are immutable, so sharing them is a copy as far as any caller can tell. */
  copy->base_value = self->base_value ? g_bytes_ref (self->base_value) : NULL;
  copy->dirty = self->dirty;
  copy->conflict = self->conflict;
  copy->conflict_remote_version = self->conflict_remote_version;
  copy->conflict_remote_value
      = self->conflict_remote_value ? g_bytes_ref (self->conflict_remote_value) : NULL;
  copy->updated_at = self->updated_at;
  return copy;
}

#define DEFINE_STRING_ACCESSORS(name, PROP)                                                        \
  const char *bb_item_state_get_##name (BbItemState *self)                                         \
  {                                                                                                \
    g_return_val_if_fail (BB_IS_ITEM_STATE (self), NULL);                                          \
    return self->name;                                                                             \
  }                                                                                                \
  void bb_item_state_set_##name (BbItemState *self, const char *name)                              \
  {                                                                                                \
    g_return_if_fail (BB_IS_ITEM_STATE (self));                                                    \
    set_string (self, &self->name, name, PROP);                                                    \
  }

/**
 * bb_item_state_get_key_id:
 * @self: a [class@BbSync.ItemState]
 *
 * Gets the key ID of the identity the record belongs to. Never %NULL; empty until set.
 *
 * Returns: the key ID
 *
 * Since: 0.1
 */
/**
 * bb_item_state_set_key_id:
 * @self: a [class@BbSync.ItemState]
 * @key_id: (nullable): the key ID
 *
 * Sets [property@BbSync.ItemState:key-id].
 *
 * Since: 0.1
 */
DEFINE_STRING_ACCESSORS (key_id, PROP_KEY_ID)

/**
 * bb_item_state_get_namespace_id:
 * @self: a [class@BbSync.ItemState]
 *
 * Gets the ID of the namespace the item lives in. Never %NULL; empty until set.
 *
 * Returns: the namespace ID
 *
 * Since: 0.1
 */
/**
 * bb_item_state_set_namespace_id:
 * @self: a [class@BbSync.ItemState]
 * @namespace_id: (nullable): the namespace ID
 *
 * Sets [property@BbSync.ItemState:namespace-id].
 *
 * Since: 0.1
 */
DEFINE_STRING_ACCESSORS (namespace_id, PROP_NAMESPACE_ID)

/**
 * bb_item_state_get_collection:
 * @self: a [class@BbSync.ItemState]
 *
 * Gets the name of the collection of the item. Never %NULL; empty until set.
 *
 * Returns: the collection name
 *
 * Since: 0.1
 */
/**
 * bb_item_state_set_collection:
 * @self: a [class@BbSync.ItemState]
 * @collection: (nullable): the collection name
 *
 * Sets [property@BbSync.ItemState:collection].
 *
 * Since: 0.1
 */
DEFINE_STRING_ACCESSORS (collection, PROP_COLLECTION)

/**
 * bb_item_state_get_key:
 * @self: a [class@BbSync.ItemState]
 *
 * Gets the key of the item within its collection. Never %NULL; empty until set.
 *
 * Returns: the logical key
 *
 * Since: 0.1
 */
/**
 * bb_item_state_set_key:
 * @self: a [class@BbSync.ItemState]
 * @key: (nullable): the logical key
 *
 * Sets [property@BbSync.ItemState:key].
 *
 * Since: 0.1
 */
DEFINE_STRING_ACCESSORS (key, PROP_KEY)

/**
 * bb_item_state_get_item_id:
 * @self: a [class@BbSync.ItemState]
 *
 * Gets the item ID under which the server stores the item, in lower-case hex. Never
 * %NULL; empty until set.
 *
 * Returns: the item ID
 *
 * Since: 0.1
 */
/**
 * bb_item_state_set_item_id:
 * @self: a [class@BbSync.ItemState]
 * @item_id: (nullable): the item ID
 *
 * Sets [property@BbSync.ItemState:item-id].
 *
 * Since: 0.1
 */
DEFINE_STRING_ACCESSORS (item_id, PROP_ITEM_ID)

/**
 * bb_item_state_get_version:
 * @self: a [class@BbSync.ItemState]
 *
 * Gets the highest server version of the item known locally. 0 means the server has
 * never held it: the next upload creates it.
 *
 * Returns: the highest server version known locally
 *
 * Since: 0.1
 */
guint64
bb_item_state_get_version (BbItemState *self)
{
  g_return_val_if_fail (BB_IS_ITEM_STATE (self), 0);
  return self->version;
}

/**
 * bb_item_state_set_version:
 * @self: a [class@BbSync.ItemState]
 * @version: the version
 *
 * Sets [property@BbSync.ItemState:version].
 *
 * Since: 0.1
 */
void
bb_item_state_set_version (BbItemState *self, guint64 version)
{
  g_return_if_fail (BB_IS_ITEM_STATE (self));
  set_u64 (self, &self->version, version, PROP_VERSION);
}

/**
 * bb_item_state_get_base_version:
 * @self: a [class@BbSync.ItemState]
 *
 * Gets the version [method@BbSync.ItemState.get_base_value] belongs to: the server
 * version of the last point where local and remote agreed.
 *
 * Returns: the version of the merge base
 *
 * Since: 0.1
 */
guint64
bb_item_state_get_base_version (BbItemState *self)
{
  g_return_val_if_fail (BB_IS_ITEM_STATE (self), 0);
  return self->base_version;
}

/**
 * bb_item_state_set_base_version:
 * @self: a [class@BbSync.ItemState]
 * @base_version: the version of the merge base
 *
 * Sets [property@BbSync.ItemState:base-version].
 *
 * Since: 0.1
 */
void
bb_item_state_set_base_version (BbItemState *self, guint64 base_version)
{
  g_return_if_fail (BB_IS_ITEM_STATE (self));
  set_u64 (self, &self->base_version, base_version, PROP_BASE_VERSION);
}

/**
 * bb_item_state_get_base_value:
 * @self: a [class@BbSync.ItemState]
 *
 * Gets the encoded value of the last clean sync point, the common ancestor a three-way
 * merge starts from. It is plaintext; the SQLite store seals it at rest.
 *
 * Returns: (transfer none) (nullable): the encoded merge base, or %NULL
 *
 * Since: 0.1
 */
GBytes *
bb_item_state_get_base_value (BbItemState *self)
{
  g_return_val_if_fail (BB_IS_ITEM_STATE (self), NULL);
  return self->base_value;
}

/**
 * bb_item_state_set_base_value:
 * @self: a [class@BbSync.ItemState]
 * @base_value: (nullable): the encoded merge base
 *
 * Sets [property@BbSync.ItemState:base-value] to a copy of @base_value.
 *
 * Since: 0.1
 */
void
bb_item_state_set_base_value (BbItemState *self, GBytes *base_value)
{
  g_return_if_fail (BB_IS_ITEM_STATE (self));
  set_bytes (self, &self->base_value, base_value, PROP_BASE_VALUE);
}

/**
 * bb_item_state_get_dirty:
 * @self: a [class@BbSync.ItemState]
 *
 * Gets whether the current backend value differs from the last clean one and must be
 * uploaded.
 *
 * Returns: whether the item must be uploaded
 *
 * Since: 0.1
 */
gboolean
bb_item_state_get_dirty (BbItemState *self)
{
  g_return_val_if_fail (BB_IS_ITEM_STATE (self), FALSE);
  return self->dirty;
}

/**
 * bb_item_state_set_dirty:
 * @self: a [class@BbSync.ItemState]
 * @dirty: whether the item must be uploaded
 *
 * Sets [property@BbSync.ItemState:dirty] without touching anything else; the engine uses
 * [method@BbSync.ItemState.mark_dirty] instead.
 *
 * Since: 0.1
 */
void
bb_item_state_set_dirty (BbItemState *self, gboolean dirty)
{
  g_return_if_fail (BB_IS_ITEM_STATE (self));
  set_bool (self, &self->dirty, dirty, PROP_DIRTY);
}

/**
 * bb_item_state_get_conflict:
 * @self: a [class@BbSync.ItemState]
 *
 * Gets whether the item has an unresolved conflict. The item is not uploaded while it
 * has one.
 *
 * Returns: whether the item has an unresolved conflict
 *
 * Since: 0.1
 */
gboolean
bb_item_state_get_conflict (BbItemState *self)
{
  g_return_val_if_fail (BB_IS_ITEM_STATE (self), FALSE);
  return self->conflict;
}

/**
 * bb_item_state_set_conflict:
 * @self: a [class@BbSync.ItemState]
 * @conflict: whether the item has an unresolved conflict
 *
 * Sets [property@BbSync.ItemState:conflict].
 *
 * Since: 0.1
 */
void
bb_item_state_set_conflict (BbItemState *self, gboolean conflict)
{
  g_return_if_fail (BB_IS_ITEM_STATE (self));
  set_bool (self, &self->conflict, conflict, PROP_CONFLICT);
}

/**
 * bb_item_state_get_conflict_remote_version:
 * @self: a [class@BbSync.ItemState]
 *
 * Gets the server version of the remote value of an unresolved conflict.
 *
 * Returns: the remote version of the conflict, or 0
 *
 * Since: 0.1
 */
guint64
bb_item_state_get_conflict_remote_version (BbItemState *self)
{
  g_return_val_if_fail (BB_IS_ITEM_STATE (self), 0);
  return self->conflict_remote_version;
}

/**
 * bb_item_state_set_conflict_remote_version:
 * @self: a [class@BbSync.ItemState]
 * @version: the remote version of the conflict
 *
 * Sets [property@BbSync.ItemState:conflict-remote-version].
 *
 * Since: 0.1
 */
void
bb_item_state_set_conflict_remote_version (BbItemState *self, guint64 version)
{
  g_return_if_fail (BB_IS_ITEM_STATE (self));
  set_u64 (self, &self->conflict_remote_version, version, PROP_CONFLICT_REMOTE_VERSION);
}

/**
 * bb_item_state_get_conflict_remote_value:
 * @self: a [class@BbSync.ItemState]
 *
 * Gets the encoded remote value of an unresolved conflict, kept until the app resolves
 * it.
 *
 * Returns: (transfer none) (nullable): the encoded remote value of the conflict
 *
 * Since: 0.1
 */
GBytes *
bb_item_state_get_conflict_remote_value (BbItemState *self)
{
  g_return_val_if_fail (BB_IS_ITEM_STATE (self), NULL);
  return self->conflict_remote_value;
}

/**
 * bb_item_state_set_conflict_remote_value:
 * @self: a [class@BbSync.ItemState]
 * @value: (nullable): the encoded remote value of the conflict
 *
 * Sets [property@BbSync.ItemState:conflict-remote-value] to a copy of @value.
 *
 * Since: 0.1
 */
void
bb_item_state_set_conflict_remote_value (BbItemState *self, GBytes *value)
{
  g_return_if_fail (BB_IS_ITEM_STATE (self));
  set_bytes (self, &self->conflict_remote_value, value, PROP_CONFLICT_REMOTE_VALUE);
}

/**
 * bb_item_state_get_updated_at:
 * @self: a [class@BbSync.ItemState]
 *
 * Gets when the record was last written locally. Uploads are ordered by it.
 *
 * Returns: the time of the last local write in Unix microseconds, or 0
 *
 * Since: 0.1
 */
gint64
bb_item_state_get_updated_at (BbItemState *self)
{
  g_return_val_if_fail (BB_IS_ITEM_STATE (self), 0);
  return self->updated_at;
}

/**
 * bb_item_state_set_updated_at:
 * @self: a [class@BbSync.ItemState]
 * @updated_at: a time in Unix microseconds, or 0 to let the store set it on save
 *
 * Sets [property@BbSync.ItemState:updated-at].
 *
 * Since: 0.1
 */
void
bb_item_state_set_updated_at (BbItemState *self, gint64 updated_at)
{
  g_return_if_fail (BB_IS_ITEM_STATE (self));
  if (self->updated_at == updated_at)
    return;
  self->updated_at = updated_at;
  notify (self, PROP_UPDATED_AT);
}

static void
touch (BbItemState *self)
{
  gint64 now = g_get_real_time ();

  /* Two transitions within one microsecond still order after each other. */
  if (now <= self->updated_at)
    now = self->updated_at + 1;
  bb_item_state_set_updated_at (self, now);
}

static void
clear_conflict_fields (BbItemState *self)
{
  set_bool (self, &self->conflict, FALSE, PROP_CONFLICT);
  set_u64 (self, &self->conflict_remote_version, 0, PROP_CONFLICT_REMOTE_VERSION);
  set_bytes (self, &self->conflict_remote_value, NULL, PROP_CONFLICT_REMOTE_VALUE);
}

/**
 * bb_item_state_has_merge_base:
 * @self: a [class@BbSync.ItemState]
 *
 * An item has a merge base when its base version is not 0 or its base value is not
 * empty. Without one, a merge is called with no base (first enable, metadata loss,
 * concurrent creates).
 *
 * Returns: whether the item has a merge base
 *
 * Since: 0.1
 */
gboolean
bb_item_state_has_merge_base (BbItemState *self)
{
  g_return_val_if_fail (BB_IS_ITEM_STATE (self), FALSE);
  return self->base_version != 0
         || (self->base_value != NULL && g_bytes_get_size (self->base_value) > 0);
}

/**
 * bb_item_state_mark_clean:
 * @self: a [class@BbSync.ItemState]
 * @version: the server version now in sync
 * @base_value: (nullable): the encoded value at @version
 *
 * Records a clean sync point: version and base version become @version, the base value
 * a copy of @base_value, the item is not dirty, the conflict fields are cleared, and
 * the item is touched.
 *
 * Since: 0.1
 */
void
bb_item_state_mark_clean (BbItemState *self, guint64 version, GBytes *base_value)
{
  g_return_if_fail (BB_IS_ITEM_STATE (self));

  g_object_freeze_notify (G_OBJECT (self));
  set_u64 (self, &self->version, version, PROP_VERSION);
  set_u64 (self, &self->base_version, version, PROP_BASE_VERSION);
  set_bytes (self, &self->base_value, base_value, PROP_BASE_VALUE);
  set_bool (self, &self->dirty, FALSE, PROP_DIRTY);
  clear_conflict_fields (self);
  touch (self);
  g_object_thaw_notify (G_OBJECT (self));
}

/**
 * bb_item_state_mark_dirty:
 * @self: a [class@BbSync.ItemState]
 *
 * Marks the item for upload and touches it; nothing else changes.
 *
 * Since: 0.1
 */
void
bb_item_state_mark_dirty (BbItemState *self)
{
  g_return_if_fail (BB_IS_ITEM_STATE (self));

  g_object_freeze_notify (G_OBJECT (self));
  set_bool (self, &self->dirty, TRUE, PROP_DIRTY);
  touch (self);
  g_object_thaw_notify (G_OBJECT (self));
}

/**
 * bb_item_state_mark_dirty_with_base:
 * @self: a [class@BbSync.ItemState]
 * @version: the server version the new base belongs to
 * @base_value: (nullable): the encoded value at @version
 *
 * Like [method@BbSync.ItemState.mark_clean], but the item stays dirty: used after a merge
 * whose result must be uploaded on top of @version.
 *
 * Since: 0.1
 */
void
bb_item_state_mark_dirty_with_base (BbItemState *self, guint64 version, GBytes *base_value)
{
  g_return_if_fail (BB_IS_ITEM_STATE (self));

  g_object_freeze_notify (G_OBJECT (self));
  set_u64 (self, &self->version, version, PROP_VERSION);
  set_u64 (self, &self->base_version, version, PROP_BASE_VERSION);
  set_bytes (self, &self->base_value, base_value, PROP_BASE_VALUE);
  set_bool (self, &self->dirty, TRUE, PROP_DIRTY);
  clear_conflict_fields (self);
  touch (self);
  g_object_thaw_notify (G_OBJECT (self));
}

/**
 * bb_item_state_mark_conflict:
 * @self: a [class@BbSync.ItemState]
 * @remote_version: the conflicting remote version
 * @remote_value: (nullable): the encoded conflicting remote value
 *
 * Records an unresolved conflict: the version advances to @remote_version (so a later
 * upload uses the right If-Match), the merge base is kept unchanged for manual
 * resolution, the item is dirty, the conflict fields hold the remote side, and the
 * item is touched.
 *
 * Since: 0.1
 */
void
bb_item_state_mark_conflict (BbItemState *self, guint64 remote_version, GBytes *remote_value)
{
  g_return_if_fail (BB_IS_ITEM_STATE (self));

  g_object_freeze_notify (G_OBJECT (self));
  set_u64 (self, &self->version, remote_version, PROP_VERSION);
  set_bool (self, &self->dirty, TRUE, PROP_DIRTY);
  set_bool (self, &self->conflict, TRUE, PROP_CONFLICT);
  set_u64 (self, &self->conflict_remote_version, remote_version, PROP_CONFLICT_REMOTE_VERSION);
  set_bytes (self, &self->conflict_remote_value, remote_value, PROP_CONFLICT_REMOTE_VALUE);
  touch (self);
  g_object_thaw_notify (G_OBJECT (self));
}

/**
 * bb_item_state_clear_conflict:
 * @self: a [class@BbSync.ItemState]
 *
 * Clears the conflict fields (conflict flag, remote version and value). Nothing else
 * changes, not even [property@BbSync.ItemState:updated-at]; the resolve calls follow it with
 * [method@BbSync.ItemState.mark_dirty].
 *
 * Since: 0.1
 */
void
bb_item_state_clear_conflict (BbItemState *self)
{
  g_return_if_fail (BB_IS_ITEM_STATE (self));

  g_object_freeze_notify (G_OBJECT (self));
  clear_conflict_fields (self);
  g_object_thaw_notify (G_OBJECT (self));
}
