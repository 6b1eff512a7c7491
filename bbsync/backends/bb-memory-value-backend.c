/* bb-memory-value-backend.c: a value backend that keeps its values in memory
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "bb-memory-value-backend.h"

/**
 * BbMemoryValueBackend:
 *
 * A conditional [iface@BbSync.ValueBackend] that keeps its values in a hash table, for
 * tests, demos and apps whose synced values are few and live in memory anyway.
 *
 * Its key scope ([method@BbSync.ValueBackend.list_keys]) is the sorted union of the keys
 * that have a value and an extra scope set with
 * [method@BbSync.MemoryValueBackend.set_scope], for the keys that may exist only remotely.
 * [method@BbSync.ValueBackend.set_value_if_current] compares values with
 * [method@GLib.Variant.equal].
 *
 * A memory backend has no lock: use it from one thread, the one the engine runs on.
 *
 * Since: 0.1
 */

struct _BbMemoryValueBackend
{
  GObject parent_instance;

  GHashTable *values; /* char * → GVariant * (not floating) */
  GHashTable *scope;  /* char * set: the extra scope */

  /* Answers kept until the next change: the engine asks for both on every pass, and
   * most passes find nothing changed. */
  char **keys_cache;
  GVariant *snapshot_cache;
  const char **value_keys; /* sorted keys of @values (borrowed) */
};

static void bb_memory_value_backend_value_backend_init (BbValueBackendInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (BbMemoryValueBackend, bb_memory_value_backend, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (BB_TYPE_VALUE_BACKEND,
                                                      bb_memory_value_backend_value_backend_init))

static int
compare_keys (const void *a, const void *b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

/* The keys of @table, sorted bytewise, in a new %NULL-terminated array that borrows
 * the strings; free it with g_free(). */
static const char **
sorted_keys (GHashTable *table, guint *out_len)
{
  const char **keys = (const char **)g_hash_table_get_keys_as_array (table, out_len);

  qsort (keys, *out_len, sizeof (char *), compare_keys);
  return keys;
}

static char **
bb_memory_value_backend_list_keys (BbValueBackend *backend, GError **error)
{
  BbMemoryValueBackend *self = BB_MEMORY_VALUE_BACKEND (backend);
  g_autoptr (GHashTable) all = NULL;
  g_autofree const char **keys = NULL;
  GHashTableIter iter;
  gpointer key;
  guint len;

  if (self->keys_cache != NULL)
    return g_strdupv (self->keys_cache);
  all = g_hash_table_new (g_str_hash, g_str_equal);
  g_hash_table_iter_init (&iter, self->values);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_hash_table_add (all, key);
  g_hash_table_iter_init (&iter, self->scope);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_hash_table_add (all, key);

  keys = sorted_keys (all, &len);
  self->keys_cache = g_strdupv ((char **)keys);
  return g_strdupv (self->keys_cache);
}

static GVariant *
bb_memory_value_backend_snapshot (BbValueBackend *backend, GError **error)
{
  BbMemoryValueBackend *self = BB_MEMORY_VALUE_BACKEND (backend);
  GVariantBuilder builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  guint len;

  if (self->snapshot_cache != NULL)
    return g_variant_ref (self->snapshot_cache);
  /* Sorted, so what a test or a tool prints is stable; the sorted keys are kept until a
   * key is added, and each value is stored as its dictionary entry already. */
  if (self->value_keys == NULL)
    self->value_keys = sorted_keys (self->values, &len);
  for (guint i = 0; self->value_keys[i] != NULL; i++)
    g_variant_builder_add_value (&builder, g_hash_table_lookup (self->values, self->value_keys[i]));
  self->snapshot_cache = g_variant_ref_sink (g_variant_builder_end (&builder));
  return g_variant_ref (self->snapshot_cache);
}

static GVariant *
bb_memory_value_backend_get_value (BbValueBackend *backend, const char *key, GError **error)
{
  BbMemoryValueBackend *self = BB_MEMORY_VALUE_BACKEND (backend);
  GVariant *entry = g_hash_table_lookup (self->values, key);
  g_autoptr (GVariant) boxed = NULL;

  if (entry == NULL)
    return NULL;
  boxed = g_variant_get_child_value (entry, 1);
  return g_variant_get_variant (boxed);
}

static gboolean
bb_memory_value_backend_set_value (BbValueBackend *backend, const char *key, GVariant *value,
                                   GError **error)
{
  BbMemoryValueBackend *self = BB_MEMORY_VALUE_BACKEND (backend);

  g_clear_pointer (&self->snapshot_cache, g_variant_unref);
  if (!g_hash_table_contains (self->values, key))
    {
      g_clear_pointer (&self->keys_cache, g_strfreev);
      g_clear_pointer (&self->value_keys, g_free);
    }
  /* Insert keeps the key string of an existing entry, which value_keys borrows. */
  g_hash_table_insert (self->values, g_strdup (key),
                       g_variant_ref_sink (g_variant_new_dict_entry (
                           g_variant_new_string (key), g_variant_new_variant (value))));
  return TRUE;
}

/* Deep equality as the reference's memory backend has it: dictionaries are equal when
 * they hold the same entries, whatever their order (g_variant_equal() compares the
 * serialised bytes, where order matters). */
static gboolean
values_equal (GVariant *a, GVariant *b)
{
  const GVariantType *type = g_variant_get_type (a);
  gsize n;

  if (!g_variant_type_equal (type, g_variant_get_type (b)))
    return FALSE;
  if (g_variant_is_of_type (a, G_VARIANT_TYPE_VARIANT))
    {
      g_autoptr (GVariant) ia = g_variant_get_variant (a);
      g_autoptr (GVariant) ib = g_variant_get_variant (b);

      return values_equal (ia, ib);
    }
  if (!g_variant_is_container (a))
    return g_variant_equal (a, b);

  n = g_variant_n_children (a);
  if (n != g_variant_n_children (b))
    return FALSE;
  if (g_variant_type_is_array (type)
      && g_variant_type_is_dict_entry (g_variant_type_element (type)))
    {
      /* Match each entry of @a to the entry of @b with an equal key. */
      for (gsize i = 0; i < n; i++)
        {
          g_autoptr (GVariant) ea = g_variant_get_child_value (a, i);
          g_autoptr (GVariant) ka = g_variant_get_child_value (ea, 0);
          g_autoptr (GVariant) va = g_variant_get_child_value (ea, 1);
          gboolean found = FALSE;

          for (gsize j = 0; j < n && !found; j++)
            {
              g_autoptr (GVariant) eb = g_variant_get_child_value (b, j);
              g_autoptr (GVariant) kb = g_variant_get_child_value (eb, 0);

              if (values_equal (ka, kb))
                {
                  g_autoptr (GVariant) vb = g_variant_get_child_value (eb, 1);

                  if (!values_equal (va, vb))
                    return FALSE;
                  found = TRUE;
                }
            }
          if (!found)
            return FALSE;
        }
      return TRUE;
    }
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr (GVariant) ca = g_variant_get_child_value (a, i);
      g_autoptr (GVariant) cb = g_variant_get_child_value (b, i);

      if (!values_equal (ca, cb))
        return FALSE;
    }
  return TRUE;
}

static gboolean
bb_memory_value_backend_set_value_if_current (BbValueBackend *backend, const char *key,
                                              GVariant *current, GVariant *value, GError **error)
{
  g_autoptr (GVariant) stored = bb_memory_value_backend_get_value (backend, key, NULL);

  if ((stored == NULL) != (current == NULL))
    return FALSE;
  if (stored != NULL && !values_equal (stored, current))
    return FALSE;
  return bb_memory_value_backend_set_value (backend, key, value, error);
}

static void
bb_memory_value_backend_value_backend_init (BbValueBackendInterface *iface)
{
  iface->list_keys = bb_memory_value_backend_list_keys;
  iface->snapshot = bb_memory_value_backend_snapshot;
  iface->get_value = bb_memory_value_backend_get_value;
  iface->set_value = bb_memory_value_backend_set_value;
  iface->set_value_if_current = bb_memory_value_backend_set_value_if_current;
}

static void
bb_memory_value_backend_finalize (GObject *object)
{
  BbMemoryValueBackend *self = BB_MEMORY_VALUE_BACKEND (object);

  g_hash_table_unref (self->values);
  g_hash_table_unref (self->scope);
  g_clear_pointer (&self->keys_cache, g_strfreev);
  g_clear_pointer (&self->value_keys, g_free);
  g_clear_pointer (&self->snapshot_cache, g_variant_unref);

  G_OBJECT_CLASS (bb_memory_value_backend_parent_class)->finalize (object);
}

static void
bb_memory_value_backend_class_init (BbMemoryValueBackendClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = bb_memory_value_backend_finalize;
}

static void
bb_memory_value_backend_init (BbMemoryValueBackend *self)
{
  self->values
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_variant_unref);
  self->scope = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

/**
 * bb_memory_value_backend_new:
 *
 * Creates an empty memory backend, with no values and no extra scope.
 *
 * Returns: (transfer full): a new [class@BbSync.MemoryValueBackend]
 *
 * Since: 0.1
 */
BbValueBackend *
bb_memory_value_backend_new (void)
{
  return g_object_new (BB_TYPE_MEMORY_VALUE_BACKEND, NULL);
}

/**
 * bb_memory_value_backend_set_scope:
 * @self: a [class@BbSync.MemoryValueBackend]
 * @keys: (nullable) (array zero-terminated=1): the keys that may exist only remotely,
 *   each valid UTF-8, or %NULL
 *
 * Replaces the extra key scope: the keys that [method@BbSync.ValueBackend.list_keys] returns
 * in addition to the keys that have a value. %NULL or an empty array clears it. Keys
 * that have a value stay in scope whatever the extra scope is.
 *
 * Since: 0.1
 */
void
bb_memory_value_backend_set_scope (BbMemoryValueBackend *self, const char *const *keys)
{
  g_return_if_fail (BB_IS_MEMORY_VALUE_BACKEND (self));
  for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
    g_return_if_fail (g_utf8_validate (keys[i], -1, NULL));

  g_clear_pointer (&self->keys_cache, g_strfreev);
  g_hash_table_remove_all (self->scope);
  for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
    g_hash_table_add (self->scope, g_strdup (keys[i]));
}

/**
 * bb_memory_value_backend_get_n_values:
 * @self: a [class@BbSync.MemoryValueBackend]
 *
 * Counts the keys that have a value.
 *
 * Returns: the number of stored values
 *
 * Since: 0.1
 */
guint
bb_memory_value_backend_get_n_values (BbMemoryValueBackend *self)
{
  g_return_val_if_fail (BB_IS_MEMORY_VALUE_BACKEND (self), 0);

  return g_hash_table_size (self->values);
}
