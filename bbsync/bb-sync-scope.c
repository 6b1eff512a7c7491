/* bb-sync-scope.c: the active scope of a namespace and its hash (spec §6.4)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "bb-i18n-private.h"

#include "bb-error.h"
#include "bb-sync-engine-private.h"

/* Every pass asks every backend for its keys, and a scope of 10 000 keys means 10 000
 * item IDs and a hash over all of them. The engine keeps the last scope of each
 * namespace with the key lists it came from; when the backends answer the same lists
 * under the same key, it hands out the same scope again. */

struct _BbScopeCache
{
  BbActiveScope *scope;
  GBytes *dek;
  GPtrArray *collections; /* BbCollection, in registry order */
  GPtrArray *keys;        /* GStrv per collection, sorted, without duplicates */
};

void
bb_scope_cache_free (BbScopeCache *cache)
{
  bb_active_scope_unref (cache->scope);
  g_bytes_unref (cache->dek);
  g_ptr_array_unref (cache->collections);
  g_ptr_array_unref (cache->keys);
  g_free (cache);
}

static void
scope_key_free (BbScopeKey *entry)
{
  g_free (entry->key);
  g_free (entry);
}

BbActiveScope *
bb_active_scope_ref (BbActiveScope *scope)
{
  g_atomic_ref_count_inc (&scope->ref);
  return scope;
}

void
bb_active_scope_unref (BbActiveScope *scope)
{
  if (!g_atomic_ref_count_dec (&scope->ref))
    return;
  g_hash_table_unref (scope->by_collection);
  g_hash_table_unref (scope->collections);
  g_hash_table_unref (scope->items);
  g_free (scope->hash);
  g_free (scope);
}

gboolean
bb_active_scope_contains (BbActiveScope *scope, BbItemState *item)
{
  return g_hash_table_contains (scope->collections, bb_item_state_get_collection (item))
         && g_hash_table_contains (scope->items, bb_item_state_get_item_id (item));
}

/* The item ID of an active key, or NULL when the key is out of scope. */
const char *
bb_active_scope_lookup (BbActiveScope *scope, const char *collection, const char *key)
{
  GHashTable *keys = g_hash_table_lookup (scope->by_collection, collection);

  return keys != NULL ? g_hash_table_lookup (keys, key) : NULL;
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char **)a, *(const char **)b);
}

/* Sorts @keys and removes duplicates, in place (spec §2.8: the engine does both). A list
 * that is already sorted, as most backends return it, is only checked. */
static void
normalize_keys (char **keys)
{
  guint n = g_strv_length (keys);
  guint out = 0;
  gboolean sorted = TRUE;

  for (guint i = 1; i < n && sorted; i++)
    sorted = strcmp (keys[i - 1], keys[i]) < 0;
  if (sorted)
    return;
  qsort (keys, n, sizeof (char *), compare_strings);
  for (guint i = 0; i < n; i++)
    {
      if (out > 0 && strcmp (keys[out - 1], keys[i]) == 0)
        {
          g_free (keys[i]);
          continue;
        }
      keys[out++] = keys[i];
    }
  keys[out] = NULL;
}

static gboolean
same_inputs (BbScopeCache *cache, GBytes *dek, GPtrArray *collections, GPtrArray *keys)
{
  if (cache == NULL || !g_bytes_equal (cache->dek, dek)
      || cache->collections->len != collections->len)
    return FALSE;
  for (guint i = 0; i < collections->len; i++)
    {
      char **a = g_ptr_array_index (cache->keys, i);
      char **b = g_ptr_array_index (keys, i);

      if (g_ptr_array_index (cache->collections, i) != g_ptr_array_index (collections, i)
          || !g_strv_equal ((const char *const *)a, (const char *const *)b))
        return FALSE;
    }
  return TRUE;
}

static BbActiveScope *
build (BbSyncEngine *self, BbNamespaceState *ns, GPtrArray *collections, GPtrArray *keys,
       GError **error)
{
  BbActiveScope *scope = g_new0 (BbActiveScope, 1);
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  g_autoptr (GPtrArray) ids = NULL;
  g_autoptr (GChecksum) sum = NULL;
  GHashTableIter iter;
  gpointer id;

  g_atomic_ref_count_init (&scope->ref);
  scope->collections = g_hash_table_new (g_str_hash, g_str_equal);
  scope->items
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)scope_key_free);
  scope->by_collection
      = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify)g_hash_table_unref);
  for (guint i = 0; i < collections->len; i++)
    {
      /* Names are owned by the registered collections, which outlive the scope. */
      const char *name = bb_collection_get_name (g_ptr_array_index (collections, i));
      char **list = g_ptr_array_index (keys, i);
      GHashTable *by_key = g_hash_table_new (g_str_hash, g_str_equal);

      g_hash_table_add (scope->collections, (gpointer)name);
      g_hash_table_insert (scope->by_collection, (gpointer)name, by_key);
      g_ptr_array_add (names, (gpointer)name);
      for (guint k = 0; list[k] != NULL; k++)
        {
          char *item_id = bb_sync_engine_item_id (self, ns, name, list[k], error);
          BbScopeKey *entry;

          if (item_id == NULL)
            {
              bb_active_scope_unref (scope);
              return NULL;
            }
          entry = g_new (BbScopeKey, 1);
          entry->collection = name;
          entry->key = g_strdup (list[k]);
          g_hash_table_replace (scope->items, item_id, entry);
          g_hash_table_insert (by_key, entry->key, item_id);
        }
    }

  if (collections->len == 0)
    {
      scope->hash = g_strdup ("");
      return scope;
    }
  sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_checksum_update (sum, (const guchar *)"bitboxsync-active-scope-v1", 26);
  g_ptr_array_sort (names, compare_strings);
  for (guint i = 0; i < names->len; i++)
    {
      const char *name = g_ptr_array_index (names, i);

      g_checksum_update (sum, (const guchar *)"\x00", 1);
      g_checksum_update (sum, (const guchar *)name, strlen (name));
    }
  ids = g_ptr_array_sized_new (g_hash_table_size (scope->items));
  g_hash_table_iter_init (&iter, scope->items);
  while (g_hash_table_iter_next (&iter, &id, NULL))
    g_ptr_array_add (ids, id);
  g_ptr_array_sort (ids, compare_strings);
  for (guint i = 0; i < ids->len; i++)
    {
      g_checksum_update (sum, (const guchar *)"\x01", 1);
      g_checksum_update (sum, g_ptr_array_index (ids, i), 64);
    }
  scope->hash = g_strdup (g_checksum_get_string (sum));
  return scope;
}

/* (transfer none) (nullable): the last scope computed for @ns under its current DEK. */
BbActiveScope *
bb_sync_engine_peek_cached_scope (BbSyncEngine *self, BbNamespaceState *ns)
{
  BbScopeCache *cache = g_hash_table_lookup (bb_sync_engine_get_scope_caches (self),
                                             bb_namespace_state_get_namespace_id (ns));

  if (cache == NULL || !g_bytes_equal (cache->dek, bb_namespace_state_get_dek (ns)))
    return NULL;
  return cache->scope;
}

/* (transfer full): the active scope of @ns now. Calls list_keys on every open
 * collection of the namespace, in registry order. */
BbActiveScope *
bb_active_scope_compute (BbSyncEngine *self, BbNamespaceState *ns, GError **error)
{
  const char *ns_id = bb_namespace_state_get_namespace_id (ns);
  GHashTable *caches = bb_sync_engine_get_scope_caches (self);
  g_autoptr (GPtrArray) collections = bb_sync_engine_dup_collections (self, ns_id);
  g_autoptr (GPtrArray) keys = g_ptr_array_new_with_free_func ((GDestroyNotify)g_strfreev);
  BbScopeCache *cache;
  BbActiveScope *scope;

  for (guint i = 0; i < collections->len; i++)
    {
      BbCollection *c = g_ptr_array_index (collections, i);
      char **list = bb_value_backend_list_keys (bb_collection_get_backend (c), error);

      if (list == NULL)
        {
          g_prefix_error (error, _ ("Keys of collection “%s”: "), bb_collection_get_name (c));
          return NULL;
        }
      normalize_keys (list);
      g_ptr_array_add (keys, list);
    }

  cache = g_hash_table_lookup (caches, ns_id);
  if (same_inputs (cache, bb_namespace_state_get_dek (ns), collections, keys))
    return bb_active_scope_ref (cache->scope);

  scope = build (self, ns, collections, keys, error);
  if (scope == NULL)
    return NULL;
  cache = g_new0 (BbScopeCache, 1);
  cache->scope = bb_active_scope_ref (scope);
  cache->dek = g_bytes_ref (bb_namespace_state_get_dek (ns));
  cache->collections = g_steal_pointer (&collections);
  cache->keys = g_steal_pointer (&keys);
  g_hash_table_replace (caches, g_strdup (ns_id), cache);
  return scope;
}
