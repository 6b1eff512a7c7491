/* bb-namespace-state.c: the stored state of one namespace for one identity
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-namespace-state.h"

#include "bb-store-private.h"

/**
 * BbNamespaceState:
 *
 * The stored state of one namespace for one identity, keyed by (key ID, namespace ID):
 * its kind, the reconciled namespace head (the checkpoint), the hash of the active scope
 * reconciled at that head, and the unwrapped namespace key (DEK).
 *
 * A record is a plain value: changing it changes nothing in a store until it is saved
 * with [method@BbSync.Store.save_namespace]. Times are Unix times in microseconds (UTC).
 *
 * The DEK is a secret: the record keeps its own copy in memory that is wiped when it
 * is replaced and when the record is finalized.
 *
 * Since: 0.1
 */
struct _BbNamespaceState
{
  GObject parent_instance;

  char *key_id;
  char *namespace_id;
  char *kind;
  guint64 namespace_head;
  char *active_scope_hash;
  GBytes *dek;
  gint64 updated_at;
};

G_DEFINE_FINAL_TYPE (BbNamespaceState, bb_namespace_state, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_KEY_ID,
  PROP_NAMESPACE_ID,
  PROP_KIND,
  PROP_NAMESPACE_HEAD,
  PROP_ACTIVE_SCOPE_HASH,
  PROP_DEK,
  PROP_UPDATED_AT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
bb_namespace_state_finalize (GObject *object)
{
  BbNamespaceState *self = BB_NAMESPACE_STATE (object);

  g_free (self->key_id);
  g_free (self->namespace_id);
  g_free (self->kind);
  g_free (self->active_scope_hash);
  g_clear_pointer (&self->dek, g_bytes_unref);

  G_OBJECT_CLASS (bb_namespace_state_parent_class)->finalize (object);
}

static void
bb_namespace_state_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BbNamespaceState *self = BB_NAMESPACE_STATE (object);

  switch (prop_id)
    {
      case PROP_KEY_ID:
        g_value_set_string (value, self->key_id);
        break;
      case PROP_NAMESPACE_ID:
        g_value_set_string (value, self->namespace_id);
        break;
      case PROP_KIND:
        g_value_set_string (value, self->kind);
        break;
      case PROP_NAMESPACE_HEAD:
        g_value_set_uint64 (value, self->namespace_head);
        break;
      case PROP_ACTIVE_SCOPE_HASH:
        g_value_set_string (value, self->active_scope_hash);
        break;
      case PROP_DEK:
        g_value_set_boxed (value, self->dek);
        break;
      case PROP_UPDATED_AT:
        g_value_set_int64 (value, self->updated_at);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bb_namespace_state_set_property (GObject *object, guint prop_id, const GValue *value,
                                 GParamSpec *pspec)
{
  BbNamespaceState *self = BB_NAMESPACE_STATE (object);

  switch (prop_id)
    {
      case PROP_KEY_ID:
        bb_namespace_state_set_key_id (self, g_value_get_string (value));
        break;
      case PROP_NAMESPACE_ID:
        bb_namespace_state_set_namespace_id (self, g_value_get_string (value));
        break;
      case PROP_KIND:
        bb_namespace_state_set_kind (self, g_value_get_string (value));
        break;
      case PROP_NAMESPACE_HEAD:
        bb_namespace_state_set_namespace_head (self, g_value_get_uint64 (value));
        break;
      case PROP_ACTIVE_SCOPE_HASH:
        bb_namespace_state_set_active_scope_hash (self, g_value_get_string (value));
        break;
      case PROP_DEK:
        bb_namespace_state_set_dek (self, g_value_get_boxed (value));
        break;
      case PROP_UPDATED_AT:
        bb_namespace_state_set_updated_at (self, g_value_get_int64 (value));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bb_namespace_state_class_init (BbNamespaceStateClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->finalize = bb_namespace_state_finalize;
  object_class->get_property = bb_namespace_state_get_property;
  object_class->set_property = bb_namespace_state_set_property;

  /**
   * BbNamespaceState:key-id:
   *
   * The key ID of the identity this record belongs to.
   *
   * Since: 0.1
   */
  properties[PROP_KEY_ID] = g_param_spec_string ("key-id", NULL, NULL, "", flags);

  /**
   * BbNamespaceState:namespace-id:
   *
   * The lowercase hex namespace ID.
   *
   * Since: 0.1
   */
  properties[PROP_NAMESPACE_ID] = g_param_spec_string ("namespace-id", NULL, NULL, "", flags);

  /**
   * BbNamespaceState:kind:
   *
   * `default`, `shared`, or an empty string while unknown (after an explicit join,
   * until a sync pass fills it in).
   *
   * Since: 0.1
   */
  properties[PROP_KIND] = g_param_spec_string ("kind", NULL, NULL, "", flags);

  /**
   * BbNamespaceState:namespace-head:
   *
   * The highest namespace head this client has reconciled (the checkpoint). Stores
   * hold values below 2^63.
   *
   * Since: 0.1
   */
  properties[PROP_NAMESPACE_HEAD]
      = g_param_spec_uint64 ("namespace-head", NULL, NULL, 0, G_MAXUINT64, 0, flags);

  /**
   * BbNamespaceState:active-scope-hash:
   *
   * The hash of the active scope reconciled at the checkpoint; empty when no
   * collection is registered.
   *
   * Since: 0.1
   */
  properties[PROP_ACTIVE_SCOPE_HASH]
      = g_param_spec_string ("active-scope-hash", NULL, NULL, "", flags);

  /**
   * BbNamespaceState:dek:
   *
   * The unwrapped 32-byte namespace key, or %NULL (or empty) when it is not available.
   * A secret.
   *
   * Since: 0.1
   */
  properties[PROP_DEK] = g_param_spec_boxed ("dek", NULL, NULL, G_TYPE_BYTES, flags);

  /**
   * BbNamespaceState:updated-at:
   *
   * The time of the last local write, in Unix microseconds (UTC). A store sets the
   * current time when it saves a record whose value is 0.
   *
   * Since: 0.1
   */
  properties[PROP_UPDATED_AT]
      = g_param_spec_int64 ("updated-at", NULL, NULL, G_MININT64, G_MAXINT64, 0, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
bb_namespace_state_init (BbNamespaceState *self)
{
  self->key_id = g_strdup ("");
  self->namespace_id = g_strdup ("");
  self->kind = g_strdup ("");
  self->active_scope_hash = g_strdup ("");
}

/**
 * bb_namespace_state_new:
 * @key_id: the key ID of the identity
 * @namespace_id: the namespace ID
 *
 * Creates an empty namespace state.
 *
 * Returns: (transfer full): a new [class@BbSync.NamespaceState]
 *
 * Since: 0.1
 */
BbNamespaceState *
bb_namespace_state_new (const char *key_id, const char *namespace_id)
{
  g_return_val_if_fail (key_id != NULL, NULL);
  g_return_val_if_fail (namespace_id != NULL, NULL);

  return g_object_new (BB_TYPE_NAMESPACE_STATE, "key-id", key_id, "namespace-id", namespace_id,
                       NULL);
}

/**
 * bb_namespace_state_copy:
 * @self: a [class@BbSync.NamespaceState]
 *
 * Makes an independent copy of @self, including a private copy of the DEK.
 *
 * Returns: (transfer full): a new [class@BbSync.NamespaceState] with the same fields
 *
 * Since: 0.1
 */
BbNamespaceState *
bb_namespace_state_copy (BbNamespaceState *self)
{
  BbNamespaceState *copy;

  g_return_val_if_fail (BB_IS_NAMESPACE_STATE (self), NULL);

  copy = bb_namespace_state_new (self->key_id, self->namespace_id);
  bb_store_replace_string (&copy->kind, self->kind, FALSE);
  copy->namespace_head = self->namespace_head;
  bb_store_replace_string (&copy->active_scope_hash, self->active_scope_hash, FALSE);
  if (self->dek != NULL)
    copy->dek = g_bytes_ref (self->dek); /* immutable and already a wiped-on-free copy */
  copy->updated_at = self->updated_at;
  return copy;
}

/**
 * bb_namespace_state_get_key_id:
 * @self: a [class@BbSync.NamespaceState]
 *
 * Gets the key ID of the identity the record belongs to. Never %NULL.
 *
 * Returns: the key ID
 *
 * Since: 0.1
 */
const char *
bb_namespace_state_get_key_id (BbNamespaceState *self)
{
  g_return_val_if_fail (BB_IS_NAMESPACE_STATE (self), NULL);
  return self->key_id;
}

/**
 * bb_namespace_state_set_key_id:
 * @self: a [class@BbSync.NamespaceState]
 * @key_id: (nullable): the key ID
 *
 * Sets [property@BbSync.NamespaceState:key-id].
 *
 * Since: 0.1
 */
void
bb_namespace_state_set_key_id (BbNamespaceState *self, const char *key_id)
{
  g_return_if_fail (BB_IS_NAMESPACE_STATE (self));
  if (bb_store_replace_string (&self->key_id, key_id, FALSE))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_KEY_ID]);
}

/**
 * bb_namespace_state_get_namespace_id:
 * @self: a [class@BbSync.NamespaceState]
 *
 * Gets the ID of the namespace, in lower-case hex. Never %NULL.
 *
 * Returns: the namespace ID
 *
 * Since: 0.1
 */
const char *
bb_namespace_state_get_namespace_id (BbNamespaceState *self)
{
  g_return_val_if_fail (BB_IS_NAMESPACE_STATE (self), NULL);
  return self->namespace_id;
}

/**
 * bb_namespace_state_set_namespace_id:
 * @self: a [class@BbSync.NamespaceState]
 * @namespace_id: (nullable): the namespace ID
 *
 * Sets [property@BbSync.NamespaceState:namespace-id].
 *
 * Since: 0.1
 */
void
bb_namespace_state_set_namespace_id (BbNamespaceState *self, const char *namespace_id)
{
  g_return_if_fail (BB_IS_NAMESPACE_STATE (self));
  if (bb_store_replace_string (&self->namespace_id, namespace_id, FALSE))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NAMESPACE_ID]);
}

/**
 * bb_namespace_state_get_kind:
 * @self: a [class@BbSync.NamespaceState]
 *
 * Gets the kind of the namespace as last listed by the server. Never %NULL: it is empty
 * after an explicit join until a sync pass fills it in.
 *
 * Returns: `default`, `shared`, or an empty string while unknown
 *
 * Since: 0.1
 */
const char *
bb_namespace_state_get_kind (BbNamespaceState *self)
{
  g_return_val_if_fail (BB_IS_NAMESPACE_STATE (self), NULL);
  return self->kind;
}

/**
 * bb_namespace_state_set_kind:
 * @self: a [class@BbSync.NamespaceState]
 * @kind: (nullable): the namespace kind
 *
 * Sets [property@BbSync.NamespaceState:kind].
 *
 * Since: 0.1
 */
void
bb_namespace_state_set_kind (BbNamespaceState *self, const char *kind)
{
  g_return_if_fail (BB_IS_NAMESPACE_STATE (self));
  if (bb_store_replace_string (&self->kind, kind, FALSE))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_KIND]);
}

/**
 * bb_namespace_state_get_namespace_head:
 * @self: a [class@BbSync.NamespaceState]
 *
 * Gets the checkpoint of the namespace: the highest head this client has reconciled. A
 * server head below it is a rollback.
 *
 * Returns: the reconciled namespace head
 *
 * Since: 0.1
 */
guint64
bb_namespace_state_get_namespace_head (BbNamespaceState *self)
{
  g_return_val_if_fail (BB_IS_NAMESPACE_STATE (self), 0);
  return self->namespace_head;
}

/**
 * bb_namespace_state_set_namespace_head:
 * @self: a [class@BbSync.NamespaceState]
 * @head: the reconciled namespace head
 *
 * Sets [property@BbSync.NamespaceState:namespace-head].
 *
 * Since: 0.1
 */
void
bb_namespace_state_set_namespace_head (BbNamespaceState *self, guint64 head)
{
  g_return_if_fail (BB_IS_NAMESPACE_STATE (self));
  if (self->namespace_head == head)
    return;
  self->namespace_head = head;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NAMESPACE_HEAD]);
}

/**
 * bb_namespace_state_get_active_scope_hash:
 * @self: a [class@BbSync.NamespaceState]
 *
 * Gets the hash of the collections that were registered when the checkpoint was reached.
 * When the app opens a different set, the engine fetches the namespace again even if the
 * head did not move. Never %NULL.
 *
 * Returns: the active scope hash, or an empty string
 *
 * Since: 0.1
 */
const char *
bb_namespace_state_get_active_scope_hash (BbNamespaceState *self)
{
  g_return_val_if_fail (BB_IS_NAMESPACE_STATE (self), NULL);
  return self->active_scope_hash;
}

/**
 * bb_namespace_state_set_active_scope_hash:
 * @self: a [class@BbSync.NamespaceState]
 * @hash: (nullable): the active scope hash
 *
 * Sets [property@BbSync.NamespaceState:active-scope-hash].
 *
 * Since: 0.1
 */
void
bb_namespace_state_set_active_scope_hash (BbNamespaceState *self, const char *hash)
{
  g_return_if_fail (BB_IS_NAMESPACE_STATE (self));
  if (bb_store_replace_string (&self->active_scope_hash, hash, FALSE))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACTIVE_SCOPE_HASH]);
}

/**
 * bb_namespace_state_get_dek:
 * @self: a [class@BbSync.NamespaceState]
 *
 * Gets the namespace key, unwrapped. It is a secret: the SQLite store seals it at rest
 * and it must never be logged.
 *
 * Returns: (transfer none) (nullable): the namespace key, or %NULL when not available
 *
 * Since: 0.1
 */
GBytes *
bb_namespace_state_get_dek (BbNamespaceState *self)
{
  g_return_val_if_fail (BB_IS_NAMESPACE_STATE (self), NULL);
  return self->dek;
}

/**
 * bb_namespace_state_set_dek:
 * @self: a [class@BbSync.NamespaceState]
 * @dek: (nullable): the namespace key, or %NULL when not available
 *
 * Sets [property@BbSync.NamespaceState:dek]. The record keeps its own copy, wiped when
 * released; the caller's buffer is not changed.
 *
 * Since: 0.1
 */
void
bb_namespace_state_set_dek (BbNamespaceState *self, GBytes *dek)
{
  g_return_if_fail (BB_IS_NAMESPACE_STATE (self));
  if (bb_store_replace_bytes (&self->dek, dek, TRUE))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEK]);
}

/**
 * bb_namespace_state_has_dek:
 * @self: a [class@BbSync.NamespaceState]
 *
 * Whether a DEK is available; a %NULL and an empty DEK both mean "not available"
 * (the engine joins the namespace again).
 *
 * Returns: %TRUE when the DEK is non-empty
 *
 * Since: 0.1
 */
gboolean
bb_namespace_state_has_dek (BbNamespaceState *self)
{
  g_return_val_if_fail (BB_IS_NAMESPACE_STATE (self), FALSE);
  return self->dek != NULL && g_bytes_get_size (self->dek) > 0;
}

/**
 * bb_namespace_state_get_updated_at:
 * @self: a [class@BbSync.NamespaceState]
 *
 * Gets when the record was last written locally.
 *
 * Returns: the time of the last local write in Unix microseconds, or 0
 *
 * Since: 0.1
 */
gint64
bb_namespace_state_get_updated_at (BbNamespaceState *self)
{
  g_return_val_if_fail (BB_IS_NAMESPACE_STATE (self), 0);
  return self->updated_at;
}

/**
 * bb_namespace_state_set_updated_at:
 * @self: a [class@BbSync.NamespaceState]
 * @updated_at: a time in Unix microseconds, or 0 to let the store set it on save
 *
 * Sets [property@BbSync.NamespaceState:updated-at].
 *
 * Since: 0.1
 */
void
bb_namespace_state_set_updated_at (BbNamespaceState *self, gint64 updated_at)
{
  g_return_if_fail (BB_IS_NAMESPACE_STATE (self));
  if (self->updated_at == updated_at)
    return;
  self->updated_at = updated_at;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_UPDATED_AT]);
}
