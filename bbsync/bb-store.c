/* bb-store.c: the metadata store interface
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-i18n-private.h"

#include "bb-store.h"

#include "bb-error.h"

/**
 * BbStore:
 *
 * The metadata store of the sync engine: one [class@BbSync.IdentityState] per identity, and
 * per identity its [class@BbSync.NamespaceState]s and [class@BbSync.ItemState]s.
 *
 * A store keeps sync metadata only (versions, merge bases, dirty and conflict flags,
 * the bearer token and the namespace keys). The synced values themselves belong to the
 * app's value backends.
 *
 * Every method is synchronous and local; look-ups of a missing record fail with
 * %BB_SYNC_ERROR_NOT_FOUND, other failures with %BB_SYNC_ERROR_STORE. Each save is a
 * whole-record upsert and is atomic on its own; [method@BbSync.Store.save_batch] applies many
 * saves in one transaction. Records passed in are not modified, and records returned
 * are new objects owned by the caller. Lists are returned as a [struct@GLib.PtrArray] that holds a
 * reference to each record and releases them when it is freed (hence the
 * `(transfer container)` annotation: `g_ptr_array_unref()` is all a C caller does).
 *
 * [class@BbSync.SqliteStore] is the shipped implementation. An app may implement the
 * interface itself, in C or through a language binding.
 *
 * Since: 0.1
 */

G_DEFINE_INTERFACE (BbStore, bb_store, G_TYPE_OBJECT)

static gboolean
bb_store_real_save_batch (BbStore *self, GPtrArray *items, GPtrArray *namespaces, GError **error)
{
  /* Without a transaction of its own, a store can only apply the saves in order. */
  for (guint i = 0; items != NULL && i < items->len; i++)
    if (!bb_store_save_item (self, g_ptr_array_index (items, i), error))
      return FALSE;
  for (guint i = 0; namespaces != NULL && i < namespaces->len; i++)
    if (!bb_store_save_namespace (self, g_ptr_array_index (namespaces, i), error))
      return FALSE;
  return TRUE;
}

static gboolean
bb_store_real_reset_sync_state (BbStore *self, const char *key_id, GError **error)
{
  g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_UNSUPPORTED,
               _ ("This store (%s) cannot reset sync state"), G_OBJECT_TYPE_NAME (self));
  return FALSE;
}

static gboolean
bb_store_real_close (BbStore *self, GError **error)
{
  return TRUE;
}

static void
bb_store_default_init (BbStoreInterface *iface)
{
  iface->save_batch = bb_store_real_save_batch;
  iface->reset_sync_state = bb_store_real_reset_sync_state;
  iface->close = bb_store_real_close;
}

static gboolean
missing_vfunc (BbStore *self, const char *name, GError **error)
{
  g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_UNSUPPORTED,
               _ ("This store (%s) does not implement %s"), G_OBJECT_TYPE_NAME (self), name);
  return FALSE;
}

#define CALL_VFUNC(self, name, fail, ...)                                                          \
  G_STMT_START                                                                                     \
  {                                                                                                \
    BbStoreInterface *iface = BB_STORE_GET_IFACE (self);                                           \
    if (iface->name == NULL)                                                                       \
      {                                                                                            \
        missing_vfunc (self, #name, error);                                                        \
        return fail;                                                                               \
      }                                                                                            \
    return iface->name (self, __VA_ARGS__);                                                        \
  }                                                                                                \
  G_STMT_END

/**
 * bb_store_load_identity:
 * @self: a [iface@BbSync.Store]
 * @key_id: the key ID of the identity
 * @error: return location for a [struct@GLib.Error]
 *
 * Loads the state of the identity @key_id.
 *
 * Returns: (transfer full): the record, or %NULL with %BB_SYNC_ERROR_NOT_FOUND when
 *   there is none, or another error
 *
 * Since: 0.1
 */
BbIdentityState *
bb_store_load_identity (BbStore *self, const char *key_id, GError **error)
{
  g_return_val_if_fail (BB_IS_STORE (self), NULL);
  g_return_val_if_fail (key_id != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  CALL_VFUNC (self, load_identity, NULL, key_id, error);
}

/**
 * bb_store_save_identity:
 * @self: a [iface@BbSync.Store]
 * @state: the record to save
 * @error: return location for a [struct@GLib.Error]
 *
 * Saves @state, replacing the previous state of its key ID as a whole, atomically.
 * When [property@BbSync.IdentityState:updated-at] is 0 the stored record gets the current time.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
bb_store_save_identity (BbStore *self, BbIdentityState *state, GError **error)
{
  g_return_val_if_fail (BB_IS_STORE (self), FALSE);
  g_return_val_if_fail (BB_IS_IDENTITY_STATE (state), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  CALL_VFUNC (self, save_identity, FALSE, state, error);
}

/**
 * bb_store_get_namespace:
 * @self: a [iface@BbSync.Store]
 * @key_id: the key ID of the identity
 * @namespace_id: the namespace ID
 * @error: return location for a [struct@GLib.Error]
 *
 * Loads the state of one namespace of an identity.
 *
 * Returns: (transfer full): the record, or %NULL with %BB_SYNC_ERROR_NOT_FOUND when
 *   there is none, or another error
 *
 * Since: 0.1
 */
BbNamespaceState *
bb_store_get_namespace (BbStore *self, const char *key_id, const char *namespace_id, GError **error)
{
  g_return_val_if_fail (BB_IS_STORE (self), NULL);
  g_return_val_if_fail (key_id != NULL, NULL);
  g_return_val_if_fail (namespace_id != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  CALL_VFUNC (self, get_namespace, NULL, key_id, namespace_id, error);
}

/**
 * bb_store_list_namespaces:
 * @self: a [iface@BbSync.Store]
 * @key_id: the key ID of the identity
 * @error: return location for a [struct@GLib.Error]
 *
 * Lists every namespace of the identity, of any kind, ordered by update time and then
 * namespace ID.
 *
 * Returns: (transfer container) (element-type BbNamespaceState): the records (possibly
 *   none), or %NULL on error
 *
 * Since: 0.1
 */
GPtrArray *
bb_store_list_namespaces (BbStore *self, const char *key_id, GError **error)
{
  g_return_val_if_fail (BB_IS_STORE (self), NULL);
  g_return_val_if_fail (key_id != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  CALL_VFUNC (self, list_namespaces, NULL, key_id, error);
}

/**
 * bb_store_save_namespace:
 * @self: a [iface@BbSync.Store]
 * @state: the record to save
 * @error: return location for a [struct@GLib.Error]
 *
 * Saves @state, replacing the previous record of its (key ID, namespace ID) as a
 * whole, atomically. When [property@BbSync.NamespaceState:updated-at] is 0 the stored record
 * gets the current time.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
bb_store_save_namespace (BbStore *self, BbNamespaceState *state, GError **error)
{
  g_return_val_if_fail (BB_IS_STORE (self), FALSE);
  g_return_val_if_fail (BB_IS_NAMESPACE_STATE (state), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  CALL_VFUNC (self, save_namespace, FALSE, state, error);
}

/**
 * bb_store_get_item_by_id:
 * @self: a [iface@BbSync.Store]
 * @key_id: the key ID of the identity
 * @namespace_id: the namespace ID
 * @item_id: the item ID
 * @error: return location for a [struct@GLib.Error]
 *
 * Loads one item by its item ID.
 *
 * Returns: (transfer full): the record, or %NULL with %BB_SYNC_ERROR_NOT_FOUND when
 *   there is none, or another error
 *
 * Since: 0.1
 */
BbItemState *
bb_store_get_item_by_id (BbStore *self, const char *key_id, const char *namespace_id,
                         const char *item_id, GError **error)
{
  g_return_val_if_fail (BB_IS_STORE (self), NULL);
  g_return_val_if_fail (key_id != NULL, NULL);
  g_return_val_if_fail (namespace_id != NULL, NULL);
  g_return_val_if_fail (item_id != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  CALL_VFUNC (self, get_item_by_id, NULL, key_id, namespace_id, item_id, error);
}

/**
 * bb_store_get_item_by_logical_key:
 * @self: a [iface@BbSync.Store]
 * @key_id: the key ID of the identity
 * @namespace_id: the namespace ID
 * @collection: the collection name
 * @key: the logical key
 * @error: return location for a [struct@GLib.Error]
 *
 * Loads one item by its logical identity.
 *
 * Returns: (transfer full): the record, or %NULL with %BB_SYNC_ERROR_NOT_FOUND when
 *   there is none, or another error
 *
 * Since: 0.1
 */
BbItemState *
bb_store_get_item_by_logical_key (BbStore *self, const char *key_id, const char *namespace_id,
                                  const char *collection, const char *key, GError **error)
{
  g_return_val_if_fail (BB_IS_STORE (self), NULL);
  g_return_val_if_fail (key_id != NULL, NULL);
  g_return_val_if_fail (namespace_id != NULL, NULL);
  g_return_val_if_fail (collection != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  CALL_VFUNC (self, get_item_by_logical_key, NULL, key_id, namespace_id, collection, key, error);
}

/**
 * bb_store_list_namespace_items:
 * @self: a [iface@BbSync.Store]
 * @key_id: the key ID of the identity
 * @namespace_id: the namespace ID
 * @error: return location for a [struct@GLib.Error]
 *
 * Lists every item of the namespace, dirty and conflicted ones included, ordered by
 * update time and then item ID.
 *
 * Returns: (transfer container) (element-type BbItemState): the records (possibly none), or
 *   %NULL on error
 *
 * Since: 0.1
 */
GPtrArray *
bb_store_list_namespace_items (BbStore *self, const char *key_id, const char *namespace_id,
                               GError **error)
{
  g_return_val_if_fail (BB_IS_STORE (self), NULL);
  g_return_val_if_fail (key_id != NULL, NULL);
  g_return_val_if_fail (namespace_id != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  CALL_VFUNC (self, list_namespace_items, NULL, key_id, namespace_id, error);
}

/**
 * bb_store_list_dirty_items:
 * @self: a [iface@BbSync.Store]
 * @key_id: the key ID of the identity
 * @error: return location for a [struct@GLib.Error]
 *
 * Lists every dirty item of the identity across namespaces, conflicted ones included,
 * ordered by update time and then item ID (the upload order).
 *
 * Returns: (transfer container) (element-type BbItemState): the records (possibly none), or
 *   %NULL on error
 *
 * Since: 0.1
 */
GPtrArray *
bb_store_list_dirty_items (BbStore *self, const char *key_id, GError **error)
{
  g_return_val_if_fail (BB_IS_STORE (self), NULL);
  g_return_val_if_fail (key_id != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  CALL_VFUNC (self, list_dirty_items, NULL, key_id, error);
}

/**
 * bb_store_save_item:
 * @self: a [iface@BbSync.Store]
 * @state: the record to save
 * @error: return location for a [struct@GLib.Error]
 *
 * Saves @state, replacing the previous record of its (key ID, namespace ID, item ID)
 * as a whole, atomically. Saving a second item ID for a logical identity that another
 * item already holds fails. When [property@BbSync.ItemState:updated-at] is 0 the stored record
 * gets the current time.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
bb_store_save_item (BbStore *self, BbItemState *state, GError **error)
{
  g_return_val_if_fail (BB_IS_STORE (self), FALSE);
  g_return_val_if_fail (BB_IS_ITEM_STATE (state), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  CALL_VFUNC (self, save_item, FALSE, state, error);
}

/**
 * bb_store_save_batch:
 * @self: a [iface@BbSync.Store]
 * @items: (nullable) (element-type BbItemState): item records to save
 * @namespaces: (nullable) (element-type BbNamespaceState): namespace records to save
 * @error: return location for a [struct@GLib.Error]
 *
 * Saves every record of @items, then every record of @namespaces, in one transaction:
 * either all of them are stored or, on error, none. (A store implementation that
 * does not provide its own `save_batch` gets a default that saves the records one by
 * one and is not atomic; [class@BbSync.SqliteStore] is.) Each save has the semantics of
 * [method@BbSync.Store.save_item] or [method@BbSync.Store.save_namespace]; a later record in the
 * batch replaces an earlier one with the same key.
 *
 * This is one call taking whole lists rather than a begin/commit pair on purpose: a
 * transaction can never be left open by an early return or an exception, the store
 * lock is held only for the duration of the call, and from Python or JavaScript the
 * arguments are plain lists. The engine uses it to save a bulk download together with
 * the namespace checkpoint that covers it.
 *
 * Returns: %TRUE when every record was saved
 *
 * Since: 0.1
 */
gboolean
bb_store_save_batch (BbStore *self, GPtrArray *items, GPtrArray *namespaces, GError **error)
{
  g_return_val_if_fail (BB_IS_STORE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  for (guint i = 0; items != NULL && i < items->len; i++)
    g_return_val_if_fail (BB_IS_ITEM_STATE (g_ptr_array_index (items, i)), FALSE);
  for (guint i = 0; namespaces != NULL && i < namespaces->len; i++)
    g_return_val_if_fail (BB_IS_NAMESPACE_STATE (g_ptr_array_index (namespaces, i)), FALSE);

  CALL_VFUNC (self, save_batch, FALSE, items, namespaces, error);
}

/**
 * bb_store_forget_identity_secrets:
 * @self: a [iface@BbSync.Store]
 * @key_id: the key ID of the identity
 * @error: return location for a [struct@GLib.Error]
 *
 * Clears the bearer token, its expiry and every namespace key (DEK) of the identity,
 * in one transaction. The default namespace ID, namespace kinds, heads and scope hashes
 * and all item metadata are kept, so that when the app turns sync on again the next
 * pass merges against the real bases. A missing identity is not an error, and other
 * identities are untouched.
 *
 * Call it only while no engine for this identity is open (an open engine keeps its
 * token in memory), or reopen the engine afterwards.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
bb_store_forget_identity_secrets (BbStore *self, const char *key_id, GError **error)
{
  g_return_val_if_fail (BB_IS_STORE (self), FALSE);
  g_return_val_if_fail (key_id != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  CALL_VFUNC (self, forget_identity_secrets, FALSE, key_id, error);
}

/**
 * bb_store_reset_sync_state:
 * @self: a [iface@BbSync.Store]
 * @key_id: the key ID of the identity
 * @error: return location for a [struct@GLib.Error]
 *
 * Deletes every namespace and item record of the identity and clears its default
 * namespace ID, in one transaction; the token and its expiry are kept. A missing
 * identity is not an error, and other identities are untouched.
 *
 * This is the repair step after %BB_SYNC_ERROR_ROLLBACK: stop the engine, reset the
 * store, then open a fresh engine and register the collections again.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
bb_store_reset_sync_state (BbStore *self, const char *key_id, GError **error)
{
  g_return_val_if_fail (BB_IS_STORE (self), FALSE);
  g_return_val_if_fail (key_id != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  CALL_VFUNC (self, reset_sync_state, FALSE, key_id, error);
}

/**
 * bb_store_close:
 * @self: a [iface@BbSync.Store]
 * @error: return location for a [struct@GLib.Error]
 *
 * Releases the store's resources. Later calls on a closed store fail. Closing twice is
 * harmless. The engine closes its store when it is closed itself.
 *
 * Returns: %TRUE on success
 *
 * Since: 0.1
 */
gboolean
bb_store_close (BbStore *self, GError **error)
{
  g_return_val_if_fail (BB_IS_STORE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  CALL_VFUNC (self, close, FALSE, error);
}
