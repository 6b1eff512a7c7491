/* bb-sync-item-cache.c: the engine's write-through cache of item records
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "bb-error.h"
#include "bb-sync-engine-private.h"

/* A pass reads every item record of a namespace (snapshot comparison, rollback checks)
 * and the store unseals each record's base value on every read: for 10 000 items that is
 * tens of milliseconds per pass. The engine is the only writer of its identity's item
 * records while it is open (the spec's contract), so it keeps them in memory: loaded
 * once per namespace, updated after every save that succeeded. Records in the cache are
 * never changed in place: readers that change a record change a copy and save it. */

typedef struct
{
  GHashTable *by_id;      /* item ID (owned by the record) → BbItemState */
  GHashTable *by_logical; /* logical key text (owned) → BbItemState (borrowed) */
} NsItems;

struct _BbItemCache
{
  BbStore *store;
  char *key_id;
  GHashTable *namespaces; /* namespace ID → NsItems */
};

static void
ns_items_free (NsItems *items)
{
  g_hash_table_unref (items->by_logical);
  g_hash_table_unref (items->by_id);
  g_free (items);
}

/* (collection, key) as one string, length-prefixed so that no two pairs collide. */
static char *
logical_text (const char *collection, const char *key)
{
  return g_strdup_printf ("%zu:%s%s", strlen (collection), collection, key);
}

BbItemCache *
bb_item_cache_new (BbStore *store, const char *key_id)
{
  BbItemCache *cache = g_new0 (BbItemCache, 1);

  cache->store = g_object_ref (store);
  cache->key_id = g_strdup (key_id);
  cache->namespaces
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)ns_items_free);
  return cache;
}

void
bb_item_cache_free (BbItemCache *cache)
{
  g_hash_table_unref (cache->namespaces);
  g_object_unref (cache->store);
  g_free (cache->key_id);
  g_free (cache);
}

void
bb_item_cache_clear (BbItemCache *cache)
{
  g_hash_table_remove_all (cache->namespaces);
}

static void
put (NsItems *items, BbItemState *item)
{
  /* The by-ID entry owns the record and its key; replace the logical entry first so it
   * never points at a freed record. */
  g_hash_table_replace (
      items->by_logical,
      logical_text (bb_item_state_get_collection (item), bb_item_state_get_key (item)), item);
  g_hash_table_replace (items->by_id, (gpointer)bb_item_state_get_item_id (item), item);
}

static NsItems *
lookup_loaded (BbItemCache *cache, const char *namespace_id, GError **error)
{
  NsItems *items = g_hash_table_lookup (cache->namespaces, namespace_id);
  g_autoptr (GPtrArray) records = NULL;

  if (items != NULL)
    return items;
  records = bb_store_list_namespace_items (cache->store, cache->key_id, namespace_id, error);
  if (records == NULL)
    return NULL;
  items = g_new0 (NsItems, 1);
  items->by_id = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  items->by_logical = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < records->len; i++)
    put (items, g_object_ref (g_ptr_array_index (records, i)));
  g_hash_table_insert (cache->namespaces, g_strdup (namespace_id), items);
  return items;
}

/* (transfer none): the record, or NULL with BB_SYNC_ERROR_NOT_FOUND. */
BbItemState *
bb_item_cache_peek_by_id (BbItemCache *cache, const char *namespace_id, const char *item_id,
                          GError **error)
{
  NsItems *items = lookup_loaded (cache, namespace_id, error);
  BbItemState *item;

  if (items == NULL)
    return NULL;
  item = g_hash_table_lookup (items->by_id, item_id);
  if (item == NULL)
    g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_NOT_FOUND, "No item %s in namespace %s",
                 item_id, namespace_id);
  return item;
}

/* (transfer none): the record, or NULL with BB_SYNC_ERROR_NOT_FOUND. */
BbItemState *
bb_item_cache_peek_by_logical_key (BbItemCache *cache, const char *namespace_id,
                                   const char *collection, const char *key, GError **error)
{
  NsItems *items = lookup_loaded (cache, namespace_id, error);
  g_autofree char *text = NULL;
  BbItemState *item;

  if (items == NULL)
    return NULL;
  text = logical_text (collection, key);
  item = g_hash_table_lookup (items->by_logical, text);
  if (item == NULL)
    g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_NOT_FOUND,
                 "No item for key “%s” of collection “%s”", key, collection);
  return item;
}

/* (transfer container): the records of a namespace, borrowed from the cache. */
GPtrArray *
bb_item_cache_list (BbItemCache *cache, const char *namespace_id, GError **error)
{
  NsItems *items = lookup_loaded (cache, namespace_id, error);
  GPtrArray *list;
  GHashTableIter iter;
  gpointer item;

  if (items == NULL)
    return NULL;
  list = g_ptr_array_sized_new (g_hash_table_size (items->by_id));
  g_hash_table_iter_init (&iter, items->by_id);
  while (g_hash_table_iter_next (&iter, NULL, &item))
    g_ptr_array_add (list, item);
  return list;
}

/* Takes note of records the store has saved: the cache keeps them (no copy), so the
 * caller must not change them afterwards. Namespaces not loaded yet load on first use. */
void
bb_item_cache_saved (BbItemCache *cache, GPtrArray *records)
{
  for (guint i = 0; records != NULL && i < records->len; i++)
    {
      BbItemState *item = g_ptr_array_index (records, i);
      NsItems *items
          = g_hash_table_lookup (cache->namespaces, bb_item_state_get_namespace_id (item));

      if (items != NULL)
        put (items, g_object_ref (item));
    }
}

/* Saves @records (and @namespaces) in one store transaction, or one by one when @batch is
 * FALSE (the reference client's pattern), then updates the cache. */
gboolean
bb_item_cache_save (BbItemCache *cache, GPtrArray *records, GPtrArray *namespaces, gboolean batch,
                    GError **error)
{
  gboolean ok = TRUE;

  if ((records == NULL || records->len == 0) && (namespaces == NULL || namespaces->len == 0))
    return TRUE;
  if (batch)
    ok = bb_store_save_batch (cache->store, records, namespaces, error);
  else
    {
      for (guint i = 0; ok && records != NULL && i < records->len; i++)
        ok = bb_store_save_item (cache->store, g_ptr_array_index (records, i), error);
      for (guint i = 0; ok && namespaces != NULL && i < namespaces->len; i++)
        ok = bb_store_save_namespace (cache->store, g_ptr_array_index (namespaces, i), error);
    }
  /* A failed batch saved nothing: forget the namespaces it touched, so the next read
   * comes from the store. */
  if (!ok)
    {
      for (guint i = 0; records != NULL && i < records->len; i++)
        g_hash_table_remove (cache->namespaces,
                             bb_item_state_get_namespace_id (g_ptr_array_index (records, i)));
      return FALSE;
    }
  bb_item_cache_saved (cache, records);
  return TRUE;
}
