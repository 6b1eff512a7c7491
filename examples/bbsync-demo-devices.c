/* bbsync-demo-devices.c: the demo's engine story
 *
 * Carol uses one wallet identity on a laptop and a phone. Each device has its own sync
 * engine, its own sealed metadata store and its own app storage (here memory backends).
 * The app only writes its values and calls sync; the engine uploads, downloads, merges
 * transaction notes with the app's three-way `merge` handler, and records the one edit
 * that cannot be merged as a conflict, which the app lists and resolves.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <bbsync/bbsync.h>

#include "bbsync-demo-devices.h"

#define LABELS "account-labels"
#define NOTES "tx-notes"
#define LABEL_KEY "acct:primary"
#define NOTE_KEY "tx:4f2a"

typedef struct
{
  const char *name;
  BbClient *client;
  BbStore *store;
  BbSyncEngine *engine;
  BbValueBackend *labels;
  BbValueBackend *notes;
  BbCollection *labels_c;
  BbCollection *notes_c;
  guint uploaded;
  guint downloaded;
} Device;

static void
got_result (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **)user_data = g_object_ref (result);
}

static GAsyncResult *
wait_result (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

static void
count_uploaded (BbSyncEngine *engine, const char *ns, const char *collection, const char *key,
                const char *item_id, Device *dev)
{
  dev->uploaded++;
}

static void
count_downloaded (BbSyncEngine *engine, const char *ns, const char *collection, const char *key,
                  const char *item_id, Device *dev)
{
  dev->downloaded++;
}

/* The app's three-way merge of a note (a dictionary of fields): a field changed on this
 * device since the last common value wins, every other field comes from the remote. */
static GVariant *
merge_note (BbCollection *collection, const char *key, GVariant *base, GVariant *local,
            GVariant *remote, Device *dev)
{
  g_auto (GVariantDict) merged = G_VARIANT_DICT_INIT (remote);
  GVariantIter iter;
  const char *field;
  GVariant *value;

  g_variant_iter_init (&iter, local);
  while (g_variant_iter_next (&iter, "{&sv}", &field, &value))
    {
      g_autoptr (GVariant) owned = value;
      g_autoptr (GVariant) base_value
          = base != NULL ? g_variant_lookup_value (base, field, NULL) : NULL;

      if (base_value == NULL || !g_variant_equal (base_value, owned))
        g_variant_dict_insert_value (&merged, field, owned);
    }
  g_print ("[%s] merge handler: %s changed on both devices, %s\n", dev->name, key,
           base != NULL ? "merged field by field against the last common value"
                        : "no common value yet");
  return g_variant_dict_end (&merged);
}

static gboolean
device_open (Device *dev, const char *name, const char *base_url, const char *tmpdir,
             GError **error)
{
  g_autoptr (BbTestIdentity) identity = bb_test_identity_new ("demo-carol");
  g_autofree char *path = g_strdup_printf ("%s/%s-sync.sqlite", tmpdir, name);
  g_autoptr (GBytes) store_key = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (BbNamespace) ns = NULL;
  g_autoptr (BbCodec) strings = bb_codec_new_string ();
  g_autoptr (BbCodec) json = bb_codec_new_json (G_VARIANT_TYPE_VARDICT);
  guint8 key[32];

  dev->name = name;
  dev->client = bb_client_new (base_url, error);
  if (dev->client == NULL)
    return FALSE;
  /* Demo only: a fixed store key. Apps let the store keep a random one in the keyring. */
  memset (key, name[0], sizeof key);
  store_key = g_bytes_new (key, sizeof key);
  dev->store = BB_STORE (bb_sqlite_store_new_sync (path, store_key, NULL, error));
  if (dev->store == NULL)
    return FALSE;
  dev->engine = bb_sync_engine_new (dev->client, BB_IDENTITY (identity), dev->store, error);
  if (dev->engine == NULL)
    return FALSE;
  g_signal_connect (dev->engine, "item-uploaded", G_CALLBACK (count_uploaded), dev);
  g_signal_connect (dev->engine, "item-downloaded", G_CALLBACK (count_downloaded), dev);

  bb_sync_engine_default_namespace_async (dev->engine, NULL, got_result, &res);
  ns = bb_sync_engine_default_namespace_finish (dev->engine, wait_result (&res), error);
  if (ns == NULL)
    return FALSE;

  dev->labels = bb_memory_value_backend_new ();
  dev->notes = bb_memory_value_backend_new ();
  /* Keys the app knows about even before it has a value for them on this device. */
  bb_memory_value_backend_set_scope (BB_MEMORY_VALUE_BACKEND (dev->labels),
                                     (const char *const[]){ LABEL_KEY, NULL });
  bb_memory_value_backend_set_scope (BB_MEMORY_VALUE_BACKEND (dev->notes),
                                     (const char *const[]){ NOTE_KEY, NULL });
  dev->labels_c = bb_namespace_open_collection (ns, LABELS, strings, dev->labels, error);
  if (dev->labels_c == NULL)
    return FALSE;
  dev->notes_c = bb_namespace_open_collection (ns, NOTES, json, dev->notes, error);
  if (dev->notes_c == NULL)
    return FALSE;
  g_signal_connect (dev->notes_c, "merge", G_CALLBACK (merge_note), dev);
  g_print ("[%s] sync engine ready: default namespace %.12s..., collections %s (string codec) "
           "and %s (JSON codec, merge handler)\n",
           name, bb_namespace_get_id (ns), LABELS, NOTES);
  return TRUE;
}

static void
device_clear (Device *dev)
{
  if (dev->engine != NULL)
    bb_sync_engine_close (dev->engine);
  g_clear_object (&dev->labels_c);
  g_clear_object (&dev->notes_c);
  g_clear_object (&dev->engine);
  g_clear_object (&dev->labels);
  g_clear_object (&dev->notes);
  g_clear_object (&dev->store);
  g_clear_object (&dev->client);
}

static gboolean
device_sync (Device *dev, GError **error)
{
  g_autoptr (GAsyncResult) res = NULL;

  dev->uploaded = dev->downloaded = 0;
  bb_sync_engine_sync_async (dev->engine, NULL, got_result, &res);
  if (!bb_sync_engine_sync_finish (dev->engine, wait_result (&res), error))
    return FALSE;
  g_print ("[%s] sync: %u uploaded, %u downloaded\n", dev->name, dev->uploaded, dev->downloaded);
  return TRUE;
}

static gboolean
set_value (BbValueBackend *backend, const char *key, GVariant *value, GError **error)
{
  return bb_value_backend_set_value (backend, key, value, error);
}

static GVariant *
note (const char *memo, const char *category)
{
  g_auto (GVariantDict) dict = G_VARIANT_DICT_INIT (NULL);

  g_variant_dict_insert (&dict, "memo", "s", memo);
  g_variant_dict_insert (&dict, "category", "s", category);
  return g_variant_dict_end (&dict);
}

static void
print_value (Device *dev, BbValueBackend *backend, const char *collection, const char *key)
{
  g_autoptr (GVariant) value = bb_value_backend_get_value (backend, key, NULL);
  g_autofree char *text = value != NULL ? g_variant_print (value, FALSE) : g_strdup ("(none)");

  g_print ("[%s] %s/%s = %s\n", dev->name, collection, key, text);
}

gboolean
demo_devices_run (const char *base_url, const char *tmpdir, GError **error)
{
  Device laptop = { 0 }, phone = { 0 };
  GListModel *conflicts;
  g_autoptr (BbConflict) conflict = NULL;
  g_autofree char *local = NULL;
  g_autofree char *remote = NULL;
  gboolean ok = FALSE;

  if (!device_open (&laptop, "laptop", base_url, tmpdir, error)
      || !device_open (&phone, "phone", base_url, tmpdir, error))
    goto out;

  /* 1. The laptop writes a label and a note; the phone receives them. */
  if (!set_value (laptop.labels, LABEL_KEY, g_variant_new_string ("Savings"), error)
      || !set_value (laptop.notes, NOTE_KEY, note ("rent", "home"), error)
      || !device_sync (&laptop, error) || !device_sync (&phone, error))
    goto out;
  print_value (&phone, phone.labels, LABELS, LABEL_KEY);
  print_value (&phone, phone.notes, NOTES, NOTE_KEY);

  /* 2. Both edit different fields of the note: the merge handler combines them. */
  if (!set_value (laptop.notes, NOTE_KEY, note ("rent for March", "home"), error)
      || !set_value (phone.notes, NOTE_KEY, note ("rent", "housing"), error)
      || !device_sync (&laptop, error) || !device_sync (&phone, error)
      || !device_sync (&laptop, error))
    goto out;
  print_value (&laptop, laptop.notes, NOTES, NOTE_KEY);
  print_value (&phone, phone.notes, NOTES, NOTE_KEY);

  /* 3. Both rename the account: labels have no merge handler, so this is a conflict. */
  if (!set_value (laptop.labels, LABEL_KEY, g_variant_new_string ("Savings (joint)"), error)
      || !set_value (phone.labels, LABEL_KEY, g_variant_new_string ("Emergency fund"), error)
      || !device_sync (&laptop, error) || !device_sync (&phone, error))
    goto out;
  conflicts = bb_sync_engine_get_conflicts (phone.engine);
  if (g_list_model_get_n_items (conflicts) != 1)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "expected 1 conflict, found %u",
                   g_list_model_get_n_items (conflicts));
      goto out;
    }
  conflict = g_list_model_get_item (conflicts, 0);
  local = g_variant_print (bb_conflict_get_local_value (conflict), FALSE);
  remote = g_variant_print (bb_conflict_get_remote_value (conflict), FALSE);
  g_print ("[phone] conflict listed: %s/%s, local %s, remote %s (version %" G_GUINT64_FORMAT ")\n",
           bb_conflict_get_collection (conflict), bb_conflict_get_key (conflict), local, remote,
           bb_conflict_get_remote_version (conflict));
  if (!bb_collection_resolve_conflict (phone.labels_c, LABEL_KEY,
                                       BB_CONFLICT_RESOLUTION_PREFER_LOCAL, NULL, error))
    goto out;
  g_print ("[phone] resolved it by keeping the local label; conflicts left: %u\n",
           g_list_model_get_n_items (conflicts));
  if (!device_sync (&phone, error) || !device_sync (&laptop, error))
    goto out;
  print_value (&laptop, laptop.labels, LABELS, LABEL_KEY);
  ok = TRUE;

out:
  device_clear (&laptop);
  device_clear (&phone);
  return ok;
}
