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

  /* Write-behind: one worker thread saves batches in the order they were queued. */
  GThreadPool *writer;
  GMutex lock;
  GCond idle;
  guint pending;
};

typedef struct
{
  GPtrArray *records;
  GPtrArray *namespaces;
  gboolean batch;
} Write;

static void
write_free (Write *write)
{
  g_clear_pointer (&write->records, g_ptr_array_unref);
  g_clear_pointer (&write->namespaces, g_ptr_array_unref);
  g_free (write);
}

static void
ns_items_free (NsItems *items)
{
  g_hash_table_unref (items->by_logical);
  g_hash_table_unref (items->by_id);
  g_free (items);
}

/* (collection, key) as one string, length-prefixed so that no two pairs collide: the
 * key of the engine's look-up tables by logical key (not the protocol's logical key). */
char *
bb_logical_text (const char *collection, const char *key)
{
  gsize collection_len = strlen (collection);
  gsize key_len = strlen (key);
  char prefix[24];
  int prefix_len = g_snprintf (prefix, sizeof prefix, "%" G_GSIZE_FORMAT ":", collection_len);
  char *text = g_malloc (prefix_len + collection_len + key_len + 1);

  memcpy (text, prefix, prefix_len);
  memcpy (text + prefix_len, collection, collection_len);
  memcpy (text + prefix_len + collection_len, key, key_len + 1);
  return text;
}

BbItemCache *
bb_item_cache_new (BbStore *store, const char *key_id)
{
  BbItemCache *cache = g_new0 (BbItemCache, 1);

  cache->store = g_object_ref (store);
  cache->key_id = g_strdup (key_id);
  cache->namespaces
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)ns_items_free);
  g_mutex_init (&cache->lock);
  g_cond_init (&cache->idle);
  return cache;
}

void
bb_item_cache_free (BbItemCache *cache)
{
  /* Every queued write finishes before the store goes. */
  if (cache->writer != NULL)
    g_thread_pool_free (cache->writer, FALSE, TRUE);
  g_mutex_clear (&cache->lock);
  g_cond_clear (&cache->idle);
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
      bb_logical_text (bb_item_state_get_collection (item), bb_item_state_get_key (item)), item);
  g_hash_table_replace (items->by_id, (gpointer)bb_item_state_get_item_id (item), item);
}

static NsItems *
lookup_loaded (BbItemCache *cache, const char *namespace_id, GError **error)
{
  NsItems *items = g_hash_table_lookup (cache->namespaces, namespace_id);
  g_autoptr (GPtrArray) records = NULL;

  if (items != NULL)
    return items;
  /* Queued writes of a namespace not loaded yet must be in the store first. */
  bb_item_cache_drain (cache);
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
  text = bb_logical_text (collection, key);
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
static void
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

static gboolean
store_write (BbStore *store, GPtrArray *records, GPtrArray *namespaces, gboolean batch,
             GError **error)
{
  gboolean ok = TRUE;

  if (batch)
    return bb_store_save_batch (store, records, namespaces, error);
  for (guint i = 0; ok && records != NULL && i < records->len; i++)
    ok = bb_store_save_item (store, g_ptr_array_index (records, i), error);
  for (guint i = 0; ok && namespaces != NULL && i < namespaces->len; i++)
    ok = bb_store_save_namespace (store, g_ptr_array_index (namespaces, i), error);
  return ok;
}

/* A failed write saved nothing (a batch) or not all: forget the namespaces it touched, so
 * the next read comes from the store. */
static void
forget (BbItemCache *cache, GPtrArray *records)
{
  for (guint i = 0; records != NULL && i < records->len; i++)
    g_hash_table_remove (cache->namespaces,
                         bb_item_state_get_namespace_id (g_ptr_array_index (records, i)));
}

/* Blocks until every queued write is in the store (a few milliseconds at most: one
 * chunk's transaction), so that a synchronous write cannot overtake a queued one. */
void
bb_item_cache_drain (BbItemCache *cache)
{
  g_mutex_lock (&cache->lock);
  while (cache->pending > 0)
    g_cond_wait (&cache->idle, &cache->lock);
  g_mutex_unlock (&cache->lock);
}

/* Saves @records (and @namespaces) in one store transaction, or one by one when @batch is
 * FALSE (the reference client's pattern), then updates the cache. */
gboolean
bb_item_cache_save (BbItemCache *cache, GPtrArray *records, GPtrArray *namespaces, gboolean batch,
                    GError **error)
{
  if ((records == NULL || records->len == 0) && (namespaces == NULL || namespaces->len == 0))
    return TRUE;
  bb_item_cache_drain (cache);
  if (!store_write (cache->store, records, namespaces, batch, error))
    {
      forget (cache, records);
      return FALSE;
    }
  bb_item_cache_saved (cache, records);
  return TRUE;
}

/* Worker thread: the store is thread-safe; records and namespaces are not touched by
 * anyone else until the task completes. */
static void
writer_run (gpointer data, gpointer user_data)
{
  GTask *task = data;
  BbItemCache *cache = user_data;
  Write *write = g_task_get_task_data (task);
  GError *error = NULL;

  if (store_write (cache->store, write->records, write->namespaces, write->batch, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
  g_object_unref (task);

  g_mutex_lock (&cache->lock);
  cache->pending--;
  g_cond_broadcast (&cache->idle);
  g_mutex_unlock (&cache->lock);
}

/* The same, with the store transaction on a worker thread: the cache shows the records at
 * once, and @callback runs on the caller's main context once they are in the store, in
 * the order the saves were queued. @source_object is the task's source (the engine). */
void
bb_item_cache_save_async (BbItemCache *cache, GPtrArray *records, GPtrArray *namespaces,
                          gboolean batch, gpointer source_object, GAsyncReadyCallback callback,
                          gpointer user_data)
{
  GTask *task = g_task_new (source_object, NULL, callback, user_data);
  Write *write = g_new0 (Write, 1);

  g_task_set_source_tag (task, bb_item_cache_save_async);
  if (records != NULL)
    write->records = g_ptr_array_ref (records);
  if (namespaces != NULL)
    write->namespaces = g_ptr_array_ref (namespaces);
  write->batch = batch;
  g_task_set_task_data (task, write, (GDestroyNotify)write_free);
  if ((records == NULL || records->len == 0) && (namespaces == NULL || namespaces->len == 0))
    {
      g_task_return_boolean (task, TRUE);
      g_object_unref (task);
      return;
    }
  bb_item_cache_saved (cache, records);
  if (cache->writer == NULL)
    cache->writer = g_thread_pool_new (writer_run, cache, 1, FALSE, NULL);
  g_mutex_lock (&cache->lock);
  cache->pending++;
  g_mutex_unlock (&cache->lock);
  g_thread_pool_push (cache->writer, task, NULL);
}

gboolean
bb_item_cache_save_finish (BbItemCache *cache, GAsyncResult *result, GError **error)
{
  Write *write = g_task_get_task_data (G_TASK (result));
  GError *local_error = NULL;

  if (g_task_propagate_boolean (G_TASK (result), &local_error))
    return TRUE;
  forget (cache, write->records);
  g_propagate_error (error, local_error);
  return FALSE;
}
