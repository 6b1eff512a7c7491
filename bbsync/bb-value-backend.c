/* bb-value-backend.c: the app-owned current values of one collection
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-i18n-private.h"

#include "bb-value-backend.h"

#include "bb-error.h"

/**
 * BbValueBackend:
 *
 * The app's side of one synced collection: the current values, keyed by string, that
 * the app owns and shows. The engine reads them to find local changes and writes the
 * remote changes it downloads back into them.
 *
 * ## The contract
 *
 * - The virtual methods are synchronous. The engine calls them only on the main
 *   context it was created on (see [the threading guide](threading.html)), never from a
 *   worker thread, so an implementation needs no lock against the engine. They must be
 *   quick: an app whose storage is slow (a database on disk, a remote service) keeps an
 *   in-memory index of its values and answers from it.
 * - `list_keys` returns the **complete** active key scope of the collection, every
 *   time: the keys that have a local value and the keys that may exist only remotely
 *   (for example the IDs of the transactions the wallet knows, whose notes may have
 *   been written on another device). Keys outside the scope are neither downloaded nor
 *   uploaded until they come back. The engine removes duplicates and sorts the keys.
 * - `snapshot` returns the current values as an `a{sv}` dictionary (key → value). A
 *   key missing from the snapshot is **not** a deletion: the sync protocol has no
 *   deletes, so the engine simply has nothing to upload for it. Snapshot keys that
 *   `list_keys` does not return are out of scope and ignored.
 * - `get_value` returns the current value of one key, or %NULL (without an error) when
 *   the key has no value.
 * - `set_value` replaces the value of exactly one key, atomically; a later `get_value`
 *   returns the new value. The engine never writes more than one key per call.
 * - `set_value_if_current` is optional, and makes the backend *conditional*. It is a
 *   compare and swap, done under the same lock or transaction as the app's own writes:
 *   if the key's presence differs from the expected one (an expected value of %NULL
 *   means "the key must have no value"), or the key is present and its value is not
 *   equal to the expected one, nothing is written and it returns %FALSE without an error ("not
 *   replaced": the app changed the value meanwhile, and the engine keeps the item
 *   dirty). Otherwise it stores the new value and returns %TRUE. Without it, the engine
 *   re-reads the value before writing a downloaded one, and a write of the app that
 *   lands between the two is overwritten.
 *
 * Values are [struct@GLib.Variant]s; which types a collection holds is decided by its
 * codec. Failures are reported through the usual [struct@GLib.Error]; the engine records them on
 * the pass and retries later.
 *
 * The wrapper functions check what an implementation returns, so that the engine can
 * trust the results: a key list or a snapshot of %NULL without an error is empty, a
 * key that is not valid UTF-8 and a snapshot that is not an `a{sv}` dictionary fail
 * with %BB_SYNC_ERROR_INVALID_INPUT, and floating variants returned by a C
 * implementation are sunk.
 *
 * [class@BbSync.MemoryValueBackend] is a conditional backend that keeps its values in memory,
 * for tests and demos. Apps implement the interface themselves, in C or in a language
 * binding (Python and JavaScript implementations are tested). In C:
 *
 * ```c
 * struct _MyNotes
 * {
 *   GObject parent_instance;
 *   GHashTable *notes; // char * → GVariant *, the app's in-memory index
 *   GPtrArray *tx_ids; // every transaction the wallet knows
 * };
 *
 * static char **
 * my_notes_list_keys (BbValueBackend *backend, GError **error)
 * {
 *   MyNotes *self = MY_NOTES (backend);
 *   g_autoptr (GStrvBuilder) keys = g_strv_builder_new ();
 *
 *   // The scope: notes written here, and notes that may exist only on the server.
 *   for (guint i = 0; i < self->tx_ids->len; i++)
 *     g_strv_builder_add (keys, g_ptr_array_index (self->tx_ids, i));
 *   return g_strv_builder_end (keys);
 * }
 *
 * static GVariant *
 * my_notes_snapshot (BbValueBackend *backend, GError **error)
 * {
 *   MyNotes *self = MY_NOTES (backend);
 *   GVariantBuilder builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
 *   GHashTableIter iter;
 *   gpointer key, value;
 *
 *   g_hash_table_iter_init (&iter, self->notes);
 *   while (g_hash_table_iter_next (&iter, &key, &value))
 *     g_variant_builder_add (&builder, "{sv}", key, value);
 *   return g_variant_builder_end (&builder);
 * }
 *
 * static GVariant *
 * my_notes_get_value (BbValueBackend *backend, const char *key, GError **error)
 * {
 *   GVariant *value = g_hash_table_lookup (MY_NOTES (backend)->notes, key);
 *
 *   return value != NULL ? g_variant_ref (value) : NULL;
 * }
 *
 * static gboolean
 * my_notes_set_value (BbValueBackend *backend, const char *key, GVariant *value,
 *                     GError **error)
 * {
 *   MyNotes *self = MY_NOTES (backend);
 *
 *   if (!my_notes_save_to_disk (self, key, value, error))
 *     return FALSE;
 *   g_hash_table_replace (self->notes, g_strdup (key), g_variant_ref (value));
 *   my_notes_update_ui (self, key);
 *   return TRUE;
 * }
 *
 * static void
 * my_notes_value_backend_init (BbValueBackendInterface *iface)
 * {
 *   iface->list_keys = my_notes_list_keys;
 *   iface->snapshot = my_notes_snapshot;
 *   iface->get_value = my_notes_get_value;
 *   iface->set_value = my_notes_set_value;
 * }
 *
 * G_DEFINE_FINAL_TYPE_WITH_CODE (MyNotes, my_notes, G_TYPE_OBJECT,
 *                                G_IMPLEMENT_INTERFACE (BB_TYPE_VALUE_BACKEND,
 *                                                       my_notes_value_backend_init))
 * ```
 *
 * Since: 0.1
 */

G_DEFINE_INTERFACE (BbValueBackend, bb_value_backend, G_TYPE_OBJECT)

static void
bb_value_backend_default_init (BbValueBackendInterface *iface)
{
}

static void
missing_vfunc (BbValueBackend *self, const char *name, GError **error)
{
  g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_UNSUPPORTED,
               _ ("This value backend (%s) does not implement %s"), G_OBJECT_TYPE_NAME (self),
               name);
}

/* Takes ownership of a returned variant: a C implementation may return a floating
 * reference (g_variant_new_*()), a binding returns a full one. */
static GVariant *
own_variant (GVariant *value)
{
  return value != NULL ? g_variant_take_ref (value) : NULL;
}

/**
 * bb_value_backend_list_keys:
 * @self: a [iface@BbSync.ValueBackend]
 * @error: return location for a [struct@GLib.Error]
 *
 * Lists the complete active key scope of the collection: the keys that have a local
 * value and the keys that may exist only remotely. The result may hold duplicates and
 * be in any order.
 *
 * Returns: (transfer full) (array zero-terminated=1): the keys (an empty array when
 *   there are none), or %NULL on error
 *
 * Since: 0.1
 */
char **
bb_value_backend_list_keys (BbValueBackend *self, GError **error)
{
  BbValueBackendInterface *iface;
  g_auto (GStrv) keys = NULL;
  GError *local_error = NULL;

  g_return_val_if_fail (BB_IS_VALUE_BACKEND (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  iface = BB_VALUE_BACKEND_GET_IFACE (self);
  if (iface->list_keys == NULL)
    {
      missing_vfunc (self, "list_keys", error);
      return NULL;
    }

  keys = iface->list_keys (self, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return NULL;
    }
  if (keys == NULL)
    return g_new0 (char *, 1);

  for (guint i = 0; keys[i] != NULL; i++)
    if (!g_utf8_validate (keys[i], -1, NULL))
      {
        g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                     _ ("The value backend %s listed a key that is not valid UTF-8"),
                     G_OBJECT_TYPE_NAME (self));
        return NULL;
      }

  return g_steal_pointer (&keys);
}

/**
 * bb_value_backend_snapshot:
 * @self: a [iface@BbSync.ValueBackend]
 * @error: return location for a [struct@GLib.Error]
 *
 * Reads the current values of the collection, as a dictionary of type `a{sv}` from
 * key to value. A key missing from it has no local value (it is not a deletion).
 *
 * Returns: (transfer full): the values (an empty dictionary when there are none), or
 *   %NULL on error; %BB_SYNC_ERROR_INVALID_INPUT when the implementation returned
 *   something else than an `a{sv}` dictionary
 *
 * Since: 0.1
 */
GVariant *
bb_value_backend_snapshot (BbValueBackend *self, GError **error)
{
  BbValueBackendInterface *iface;
  g_autoptr (GVariant) snapshot = NULL;
  GError *local_error = NULL;

  g_return_val_if_fail (BB_IS_VALUE_BACKEND (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  iface = BB_VALUE_BACKEND_GET_IFACE (self);
  if (iface->snapshot == NULL)
    {
      missing_vfunc (self, "snapshot", error);
      return NULL;
    }

  snapshot = own_variant (iface->snapshot (self, &local_error));
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return NULL;
    }
  if (snapshot == NULL)
    return g_variant_ref_sink (g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0));

  if (!g_variant_is_of_type (snapshot, G_VARIANT_TYPE_VARDICT))
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("The value backend %s returned a snapshot of type “%s”, expected “a{sv}”"),
                   G_OBJECT_TYPE_NAME (self), g_variant_get_type_string (snapshot));
      return NULL;
    }

  return g_steal_pointer (&snapshot);
}

/**
 * bb_value_backend_get_value:
 * @self: a [iface@BbSync.ValueBackend]
 * @key: the key, valid UTF-8
 * @error: return location for a [struct@GLib.Error]
 *
 * Reads the current value of @key.
 *
 * Returns: (transfer full) (nullable): the value, or %NULL without an error when @key
 *   has no value, or %NULL with @error set on failure
 *
 * Since: 0.1
 */
GVariant *
bb_value_backend_get_value (BbValueBackend *self, const char *key, GError **error)
{
  BbValueBackendInterface *iface;
  g_autoptr (GVariant) value = NULL;
  GError *local_error = NULL;

  g_return_val_if_fail (BB_IS_VALUE_BACKEND (self), NULL);
  g_return_val_if_fail (key != NULL && g_utf8_validate (key, -1, NULL), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  iface = BB_VALUE_BACKEND_GET_IFACE (self);
  if (iface->get_value == NULL)
    {
      missing_vfunc (self, "get_value", error);
      return NULL;
    }

  value = own_variant (iface->get_value (self, key, &local_error));
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return NULL;
    }

  return g_steal_pointer (&value);
}

/* The verdict of a vfunc that returns a gboolean: an error wins over %TRUE, and a
 * failure without an error gets one, so that callers can always report it. */
static gboolean
check_set_result (BbValueBackend *self, const char *key, gboolean ok, GError *local_error,
                  GError **error)
{
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }
  if (!ok)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_FAILED,
                   _ ("The value backend %s could not store the value of “%s”"),
                   G_OBJECT_TYPE_NAME (self), key);
      return FALSE;
    }
  return TRUE;
}

/**
 * bb_value_backend_set_value:
 * @self: a [iface@BbSync.ValueBackend]
 * @key: the key, valid UTF-8
 * @value: the new value; if it is floating, it is consumed
 * @error: return location for a [struct@GLib.Error]
 *
 * Replaces the value of @key with @value, atomically.
 *
 * Returns: %TRUE on success, %FALSE with @error set on failure
 *
 * Since: 0.1
 */
gboolean
bb_value_backend_set_value (BbValueBackend *self, const char *key, GVariant *value, GError **error)
{
  BbValueBackendInterface *iface;
  g_autoptr (GVariant) owned_value = NULL;
  GError *local_error = NULL;
  gboolean ok;

  g_return_val_if_fail (BB_IS_VALUE_BACKEND (self), FALSE);
  g_return_val_if_fail (key != NULL && g_utf8_validate (key, -1, NULL), FALSE);
  g_return_val_if_fail (value != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  owned_value = g_variant_ref_sink (value);

  iface = BB_VALUE_BACKEND_GET_IFACE (self);
  if (iface->set_value == NULL)
    {
      missing_vfunc (self, "set_value", error);
      return FALSE;
    }

  ok = iface->set_value (self, key, owned_value, &local_error);
  return check_set_result (self, key, ok, local_error, error);
}

/**
 * bb_value_backend_is_conditional:
 * @self: a [iface@BbSync.ValueBackend]
 *
 * Whether @self implements `set_value_if_current`, and so can replace a value only if
 * the app has not changed it meanwhile.
 *
 * Returns: %TRUE for a conditional backend
 *
 * Since: 0.1
 */
gboolean
bb_value_backend_is_conditional (BbValueBackend *self)
{
  g_return_val_if_fail (BB_IS_VALUE_BACKEND (self), FALSE);

  return BB_VALUE_BACKEND_GET_IFACE (self)->set_value_if_current != NULL;
}

/**
 * bb_value_backend_set_value_if_current:
 * @self: a [iface@BbSync.ValueBackend]
 * @key: the key, valid UTF-8
 * @current: (nullable): the value @key must still have, or %NULL if it must have
 *   none; if it is floating, it is consumed
 * @value: the new value; if it is floating, it is consumed
 * @error: return location for a [struct@GLib.Error]
 *
 * Replaces the value of @key with @value if, and only if, the current value of @key
 * is still @current (a compare and swap): the key must be present exactly when
 * @current is not %NULL, and its value must then be equal to @current.
 *
 * A plain backend (see [method@BbSync.ValueBackend.is_conditional]) cannot compare: it
 * stores @value with [method@BbSync.ValueBackend.set_value] and reports it as replaced.
 *
 * Returns: %TRUE when @value was stored; %FALSE without an error when it was not,
 *   because the current value differs; %FALSE with @error set on failure
 *
 * Since: 0.1
 */
gboolean
bb_value_backend_set_value_if_current (BbValueBackend *self, const char *key, GVariant *current,
                                       GVariant *value, GError **error)
{
  BbValueBackendInterface *iface;
  g_autoptr (GVariant) owned_current = NULL;
  g_autoptr (GVariant) owned_value = NULL;
  GError *local_error = NULL;
  gboolean replaced;

  g_return_val_if_fail (BB_IS_VALUE_BACKEND (self), FALSE);
  g_return_val_if_fail (key != NULL && g_utf8_validate (key, -1, NULL), FALSE);
  g_return_val_if_fail (value != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  owned_current = current != NULL ? g_variant_ref_sink (current) : NULL;
  owned_value = g_variant_ref_sink (value);

  iface = BB_VALUE_BACKEND_GET_IFACE (self);
  if (iface->set_value_if_current == NULL)
    return bb_value_backend_set_value (self, key, owned_value, error);

  replaced = iface->set_value_if_current (self, key, owned_current, owned_value, &local_error);
  if (local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }
  return replaced;
}
