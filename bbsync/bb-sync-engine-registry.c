/* bb-sync-engine-registry.c: what the engine knows of the app's data: the collection
 * registry, the keys derived per namespace (item IDs, blob key), and the namespaces and
 * conflicts list models. Apart from the object because the pass and scope code read it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "bb-i18n-private.h"

#include "bb-error.h"
#include "bb-protocol.h"
#include "bb-protocol-private.h"
#include "bb-sync-engine-object-private.h"

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
