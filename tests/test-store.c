/* test-store.c: the store records, the BbStore interface and BbSqliteStore
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>
#include <libsecret/secret.h>
#include <sqlite3.h>

#include "bbsync.h"
#include "bb-test-utils.h"

#define KEY_A "aaaa000000000000000000000000000000000000000000000000000000000001"
#define KEY_B "bbbb000000000000000000000000000000000000000000000000000000000002"
#define NS_A "0123456789abcdef0123456789abcdef"
#define NS_B "fedcba9876543210fedcba9876543210"

/* ---- helpers --------------------------------------------------------------------- */

static GBytes *
test_key (guint8 fill)
{
  return bb_test_repeat (fill, BB_SQLITE_STORE_KEY_SIZE);
}

static GBytes *
bytes_from_string (const char *s)
{
  return g_bytes_new (s, strlen (s));
}

static BbStore *
open_memory (void)
{
  g_autoptr (GError) error = NULL;
  BbSqliteStore *store = bb_sqlite_store_new_sync (BB_SQLITE_STORE_IN_MEMORY, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (store);
  return BB_STORE (store);
}

static BbStore *
open_file (const char *path, GBytes *key)
{
  g_autoptr (GError) error = NULL;
  BbSqliteStore *store = bb_sqlite_store_new_sync (path, key, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (store);
  return BB_STORE (store);
}

typedef char TmpDir;

static char *
tmp_dir_new (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("bbsync-store-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static void
tmp_dir_free (TmpDir *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_unlink (path);
    }
  if (d != NULL)
    g_dir_close (d);
  g_rmdir (dir);
  g_free (dir);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TmpDir, tmp_dir_free)

static GBytes *
read_file (const char *path)
{
  char *contents = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &contents, &len, NULL))
    return g_bytes_new (NULL, 0);
  return g_bytes_new_take (contents, len);
}

static gboolean
contains (GBytes *haystack, const void *needle, gsize needle_len)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (haystack, &len);

  for (gsize i = 0; needle_len <= len && i <= len - needle_len; i++)
    if (memcmp (data + i, needle, needle_len) == 0)
      return TRUE;
  return FALSE;
}

static void
exec_raw (const char *path, const char *sql)
{
  sqlite3 *db = NULL;
  char *msg = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  if (sqlite3_exec (db, sql, NULL, NULL, &msg) != SQLITE_OK)
    g_error ("%s: %s", sql, msg);
  sqlite3_close (db);
}

static BbIdentityState *
make_identity (const char *key_id, const char *token, gint64 expiry, const char *default_ns)
{
  BbIdentityState *state = bb_identity_state_new (key_id);

  bb_identity_state_set_kind (state, "keystore");
  bb_identity_state_set_access_token (state, token);
  bb_identity_state_set_token_expiry (state, expiry);
  bb_identity_state_set_default_namespace_id (state, default_ns);
  return state;
}

static BbNamespaceState *
make_namespace (const char *key_id, const char *ns, guint64 head, const char *scope, GBytes *dek)
{
  BbNamespaceState *state = bb_namespace_state_new (key_id, ns);

  bb_namespace_state_set_kind (state, "default");
  bb_namespace_state_set_namespace_head (state, head);
  bb_namespace_state_set_active_scope_hash (state, scope);
  bb_namespace_state_set_dek (state, dek);
  return state;
}

static BbItemState *
make_item (const char *key_id, const char *ns, const char *collection, const char *key,
           const char *item_id)
{
  return bb_item_state_new (key_id, ns, collection, key, item_id);
}

static char *
item_id_for (guint n)
{
  return g_strdup_printf ("%064x", n);
}

static void
assert_item_equal (BbItemState *a, BbItemState *b)
{
  g_assert_cmpstr (bb_item_state_get_key_id (a), ==, bb_item_state_get_key_id (b));
  g_assert_cmpstr (bb_item_state_get_namespace_id (a), ==, bb_item_state_get_namespace_id (b));
  g_assert_cmpstr (bb_item_state_get_collection (a), ==, bb_item_state_get_collection (b));
  g_assert_cmpstr (bb_item_state_get_key (a), ==, bb_item_state_get_key (b));
  g_assert_cmpstr (bb_item_state_get_item_id (a), ==, bb_item_state_get_item_id (b));
  g_assert_cmpuint (bb_item_state_get_version (a), ==, bb_item_state_get_version (b));
  g_assert_cmpuint (bb_item_state_get_base_version (a), ==, bb_item_state_get_base_version (b));
  g_assert_true ((bb_item_state_get_base_value (a) == NULL)
                 == (bb_item_state_get_base_value (b) == NULL));
  if (bb_item_state_get_base_value (a) != NULL)
    g_assert_true (
        g_bytes_equal (bb_item_state_get_base_value (a), bb_item_state_get_base_value (b)));
  g_assert_cmpint (bb_item_state_get_dirty (a), ==, bb_item_state_get_dirty (b));
  g_assert_cmpint (bb_item_state_get_conflict (a), ==, bb_item_state_get_conflict (b));
  g_assert_cmpuint (bb_item_state_get_conflict_remote_version (a), ==,
                    bb_item_state_get_conflict_remote_version (b));
  g_assert_true ((bb_item_state_get_conflict_remote_value (a) == NULL)
                 == (bb_item_state_get_conflict_remote_value (b) == NULL));
  if (bb_item_state_get_conflict_remote_value (a) != NULL)
    g_assert_true (g_bytes_equal (bb_item_state_get_conflict_remote_value (a),
                                  bb_item_state_get_conflict_remote_value (b)));
  g_assert_cmpint (bb_item_state_get_updated_at (a), ==, bb_item_state_get_updated_at (b));
}

/* ---- records ---------------------------------------------------------------------- */

static void
count_notify (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  (*(guint *)user_data)++;
}

static void
test_records_identity (void)
{
  g_autoptr (BbIdentityState) state = bb_identity_state_new (KEY_A);
  g_autoptr (BbIdentityState) copy = NULL;
  g_autofree char *token = NULL;
  guint notified = 0;

  g_assert_cmpstr (bb_identity_state_get_key_id (state), ==, KEY_A);
  g_assert_cmpstr (bb_identity_state_get_access_token (state), ==, "");
  g_assert_cmpstr (bb_identity_state_get_default_namespace_id (state), ==, "");
  g_assert_cmpint (bb_identity_state_get_token_expiry (state), ==, 0);

  g_signal_connect (state, "notify", G_CALLBACK (count_notify), &notified);
  bb_identity_state_set_access_token (state, "tok");
  bb_identity_state_set_access_token (state, "tok");
  g_assert_cmpuint (notified, ==, 1);
  g_object_set (state, "token-expiry", (gint64)42, "default-namespace-id", NS_A, NULL);
  g_assert_cmpuint (notified, ==, 3);
  bb_identity_state_set_default_namespace_id (state, NULL);
  g_assert_cmpstr (bb_identity_state_get_default_namespace_id (state), ==, "");

  copy = bb_identity_state_copy (state);
  bb_identity_state_set_access_token (state, "other");
  g_object_get (copy, "access-token", &token, NULL);
  g_assert_cmpstr (token, ==, "tok");
  g_assert_cmpint (bb_identity_state_get_token_expiry (copy), ==, 42);
}

static void
test_records_namespace (void)
{
  g_autoptr (BbNamespaceState) state = bb_namespace_state_new (KEY_A, NS_A);
  g_autoptr (BbNamespaceState) copy = NULL;
  g_autoptr (GBytes) dek = test_key (0x11);
  g_autoptr (GBytes) empty = g_bytes_new (NULL, 0);

  g_assert_null (bb_namespace_state_get_dek (state));
  g_assert_false (bb_namespace_state_has_dek (state));
  bb_namespace_state_set_dek (state, empty);
  g_assert_false (bb_namespace_state_has_dek (state));
  bb_namespace_state_set_dek (state, dek);
  g_assert_true (bb_namespace_state_has_dek (state));
  /* The record holds its own copy. */
  g_assert_true (bb_namespace_state_get_dek (state) != dek);
  g_assert_true (g_bytes_equal (bb_namespace_state_get_dek (state), dek));
  bb_namespace_state_set_namespace_head (state, G_MAXUINT64);
  copy = bb_namespace_state_copy (state);
  g_assert_cmpuint (bb_namespace_state_get_namespace_head (copy), ==, G_MAXUINT64);
  g_assert_true (g_bytes_equal (bb_namespace_state_get_dek (copy), dek));
  bb_namespace_state_set_dek (state, NULL);
  g_assert_true (bb_namespace_state_has_dek (copy));
}

static void
test_records_item_transitions (void)
{
  g_autoptr (BbItemState) item = make_item (KEY_A, NS_A, "notes", "k", "00");
  g_autoptr (GBytes) base = bytes_from_string ("base");
  g_autoptr (GBytes) remote = bytes_from_string ("remote");
  g_autoptr (GBytes) empty = g_bytes_new (NULL, 0);
  gint64 before, t;

  g_assert_false (bb_item_state_has_merge_base (item));
  bb_item_state_set_base_value (item, empty);
  g_assert_false (bb_item_state_has_merge_base (item));

  /* MarkClean */
  before = g_get_real_time ();
  bb_item_state_mark_clean (item, 3, base);
  g_assert_cmpuint (bb_item_state_get_version (item), ==, 3);
  g_assert_cmpuint (bb_item_state_get_base_version (item), ==, 3);
  g_assert_true (g_bytes_equal (bb_item_state_get_base_value (item), base));
  g_assert_false (bb_item_state_get_dirty (item));
  g_assert_false (bb_item_state_get_conflict (item));
  g_assert_cmpint (bb_item_state_get_updated_at (item), >=, before);
  g_assert_true (bb_item_state_has_merge_base (item));

  /* MarkConflict keeps the base and advances the version. */
  t = bb_item_state_get_updated_at (item);
  bb_item_state_mark_conflict (item, 5, remote);
  g_assert_cmpuint (bb_item_state_get_version (item), ==, 5);
  g_assert_cmpuint (bb_item_state_get_base_version (item), ==, 3);
  g_assert_true (g_bytes_equal (bb_item_state_get_base_value (item), base));
  g_assert_true (bb_item_state_get_dirty (item));
  g_assert_true (bb_item_state_get_conflict (item));
  g_assert_cmpuint (bb_item_state_get_conflict_remote_version (item), ==, 5);
  g_assert_true (g_bytes_equal (bb_item_state_get_conflict_remote_value (item), remote));
  g_assert_cmpint (bb_item_state_get_updated_at (item), >, t);

  /* ClearConflict touches nothing else, not even updated-at. */
  t = bb_item_state_get_updated_at (item);
  bb_item_state_clear_conflict (item);
  g_assert_false (bb_item_state_get_conflict (item));
  g_assert_cmpuint (bb_item_state_get_conflict_remote_version (item), ==, 0);
  g_assert_null (bb_item_state_get_conflict_remote_value (item));
  g_assert_true (bb_item_state_get_dirty (item));
  g_assert_cmpuint (bb_item_state_get_version (item), ==, 5);
  g_assert_cmpint (bb_item_state_get_updated_at (item), ==, t);

  /* MarkDirty changes only dirty and updated-at. */
  bb_item_state_set_dirty (item, FALSE);
  bb_item_state_mark_dirty (item);
  g_assert_true (bb_item_state_get_dirty (item));
  g_assert_cmpuint (bb_item_state_get_version (item), ==, 5);
  g_assert_cmpuint (bb_item_state_get_base_version (item), ==, 3);
  g_assert_cmpint (bb_item_state_get_updated_at (item), >, t);

  /* MarkDirtyWithBase clears a conflict too. */
  bb_item_state_mark_conflict (item, 6, remote);
  bb_item_state_mark_dirty_with_base (item, 6, remote);
  g_assert_cmpuint (bb_item_state_get_version (item), ==, 6);
  g_assert_cmpuint (bb_item_state_get_base_version (item), ==, 6);
  g_assert_true (g_bytes_equal (bb_item_state_get_base_value (item), remote));
  g_assert_true (bb_item_state_get_dirty (item));
  g_assert_false (bb_item_state_get_conflict (item));
  g_assert_null (bb_item_state_get_conflict_remote_value (item));

  /* MarkClean with no base. */
  bb_item_state_mark_clean (item, 7, NULL);
  g_assert_null (bb_item_state_get_base_value (item));
  g_assert_true (bb_item_state_has_merge_base (item));
}

static void
test_records_item_notify (void)
{
  g_autoptr (BbItemState) item = make_item (KEY_A, NS_A, "notes", "k", "00");
  g_autoptr (BbItemState) copy = NULL;
  g_autoptr (GBytes) base = bytes_from_string ("base");
  guint notified = 0;

  g_signal_connect (item, "notify::version", G_CALLBACK (count_notify), &notified);
  bb_item_state_set_version (item, 1);
  bb_item_state_set_version (item, 1);
  g_assert_cmpuint (notified, ==, 1);
  bb_item_state_mark_clean (item, 2, base);
  g_assert_cmpuint (notified, ==, 2);
  bb_item_state_mark_dirty (item);
  g_assert_cmpuint (notified, ==, 2);

  copy = bb_item_state_copy (item);
  assert_item_equal (item, copy);
  bb_item_state_set_key (item, "other");
  g_assert_cmpstr (bb_item_state_get_key (copy), ==, "k");
}

/* ---- store operations ------------------------------------------------------------- */

static void
test_memory_isolated (void)
{
  g_autoptr (BbStore) first = open_memory ();
  g_autoptr (BbStore) second = open_memory ();
  g_autoptr (BbIdentityState) state = make_identity (KEY_A, "t", 0, NULL);
  g_autoptr (BbIdentityState) loaded = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (bb_store_save_identity (first, state, &error));
  g_assert_no_error (error);
  loaded = bb_store_load_identity (first, KEY_A, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_identity_state_get_key_id (loaded), ==, KEY_A);
  g_clear_object (&loaded);

  loaded = bb_store_load_identity (second, KEY_A, &error);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_NOT_FOUND);
  g_assert_null (loaded);
}

static void
test_identity_roundtrip (void)
{
  g_autoptr (BbStore) store = open_memory ();
  g_autoptr (BbIdentityState) state = make_identity (KEY_A, "token-1", 1700000000123456, NS_A);
  g_autoptr (BbIdentityState) loaded = NULL;
  g_autoptr (GError) error = NULL;
  gint64 before = g_get_real_time ();

  g_assert_true (bb_store_save_identity (store, state, &error));
  /* The caller's record is not modified by the save. */
  g_assert_cmpint (bb_identity_state_get_updated_at (state), ==, 0);
  loaded = bb_store_load_identity (store, KEY_A, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_identity_state_get_kind (loaded), ==, "keystore");
  g_assert_cmpstr (bb_identity_state_get_access_token (loaded), ==, "token-1");
  g_assert_cmpint (bb_identity_state_get_token_expiry (loaded), ==, 1700000000123456);
  g_assert_cmpstr (bb_identity_state_get_default_namespace_id (loaded), ==, NS_A);
  g_assert_cmpint (bb_identity_state_get_updated_at (loaded), >=, before);
  g_clear_object (&loaded);

  /* Whole-record replace: empty token, no expiry, no default namespace. */
  bb_identity_state_set_access_token (state, "");
  bb_identity_state_set_token_expiry (state, 0);
  bb_identity_state_set_default_namespace_id (state, "");
  bb_identity_state_set_updated_at (state, 77);
  g_assert_true (bb_store_save_identity (store, state, &error));
  loaded = bb_store_load_identity (store, KEY_A, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_identity_state_get_access_token (loaded), ==, "");
  g_assert_cmpint (bb_identity_state_get_token_expiry (loaded), ==, 0);
  g_assert_cmpstr (bb_identity_state_get_default_namespace_id (loaded), ==, "");
  g_assert_cmpint (bb_identity_state_get_updated_at (loaded), ==, 77);
  g_clear_object (&loaded);

  loaded = bb_store_load_identity (store, KEY_B, &error);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_NOT_FOUND);
}

static void
test_namespace_roundtrip_and_order (void)
{
  g_autoptr (BbStore) store = open_memory ();
  g_autoptr (GBytes) dek = test_key (0x42);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (BbNamespaceState) loaded = NULL;
  const char *ids[] = { "cc", "aa", "bb", "dd" };
  const gint64 times[] = { 200, 200, 100, 300 };

  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      g_autoptr (BbNamespaceState) ns
          = make_namespace (KEY_A, ids[i], i, "scope", i == 0 ? dek : NULL);
      bb_namespace_state_set_updated_at (ns, times[i]);
      g_assert_true (bb_store_save_namespace (store, ns, &error));
      g_assert_no_error (error);
    }
  {
    g_autoptr (BbNamespaceState) other = make_namespace (KEY_B, "ee", 1, "", NULL);
    g_assert_true (bb_store_save_namespace (store, other, &error));
  }

  list = bb_store_list_namespaces (store, KEY_A, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 4);
  /* ORDER BY updated_at, namespace_id */
  g_assert_cmpstr (bb_namespace_state_get_namespace_id (list->pdata[0]), ==, "bb");
  g_assert_cmpstr (bb_namespace_state_get_namespace_id (list->pdata[1]), ==, "aa");
  g_assert_cmpstr (bb_namespace_state_get_namespace_id (list->pdata[2]), ==, "cc");
  g_assert_cmpstr (bb_namespace_state_get_namespace_id (list->pdata[3]), ==, "dd");

  loaded = bb_store_get_namespace (store, KEY_A, "cc", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_namespace_state_get_kind (loaded), ==, "default");
  g_assert_cmpuint (bb_namespace_state_get_namespace_head (loaded), ==, 0);
  g_assert_cmpstr (bb_namespace_state_get_active_scope_hash (loaded), ==, "scope");
  g_assert_true (g_bytes_equal (bb_namespace_state_get_dek (loaded), dek));
  g_assert_cmpint (bb_namespace_state_get_updated_at (loaded), ==, 200);
  g_clear_object (&loaded);

  loaded = bb_store_get_namespace (store, KEY_A, "aa", &error);
  g_assert_null (bb_namespace_state_get_dek (loaded));
  g_clear_object (&loaded);

  loaded = bb_store_get_namespace (store, KEY_B, "cc", &error);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_clear_pointer (&list, g_ptr_array_unref);
  list = bb_store_list_namespaces (store, "nobody", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 0);
}

static void
test_item_roundtrip (void)
{
  g_autoptr (BbStore) store = open_memory ();
  g_autoptr (BbItemState) item = make_item (KEY_A, NS_A, "notes", "tx1", "01");
  g_autoptr (BbItemState) loaded = NULL;
  g_autoptr (GBytes) base = bytes_from_string ("{\"a\":1}");
  g_autoptr (GBytes) remote = bytes_from_string ("{\"a\":2}");
  g_autoptr (GBytes) empty = g_bytes_new (NULL, 0);
  g_autoptr (GError) error = NULL;

  bb_item_state_mark_clean (item, 4, base);
  bb_item_state_mark_conflict (item, 9, remote);
  g_assert_true (bb_store_save_item (store, item, &error));
  g_assert_no_error (error);

  loaded = bb_store_get_item_by_id (store, KEY_A, NS_A, "01", &error);
  g_assert_no_error (error);
  assert_item_equal (item, loaded);
  g_clear_object (&loaded);
  loaded = bb_store_get_item_by_logical_key (store, KEY_A, NS_A, "notes", "tx1", &error);
  g_assert_no_error (error);
  assert_item_equal (item, loaded);
  g_clear_object (&loaded);

  /* NULL and empty values stay distinct; the save replaces the whole record. */
  bb_item_state_mark_clean (item, 10, empty);
  g_assert_true (bb_store_save_item (store, item, &error));
  loaded = bb_store_get_item_by_id (store, KEY_A, NS_A, "01", &error);
  g_assert_nonnull (bb_item_state_get_base_value (loaded));
  g_assert_cmpuint (g_bytes_get_size (bb_item_state_get_base_value (loaded)), ==, 0);
  g_assert_null (bb_item_state_get_conflict_remote_value (loaded));
  assert_item_equal (item, loaded);
  g_clear_object (&loaded);

  bb_item_state_mark_clean (item, 11, NULL);
  g_assert_true (bb_store_save_item (store, item, &error));
  loaded = bb_store_get_item_by_id (store, KEY_A, NS_A, "01", &error);
  g_assert_null (bb_item_state_get_base_value (loaded));
  g_clear_object (&loaded);

  /* Upsert by item ID can change the logical key. */
  bb_item_state_set_key (item, "tx1-renamed");
  g_assert_true (bb_store_save_item (store, item, &error));
  loaded = bb_store_get_item_by_logical_key (store, KEY_A, NS_A, "notes", "tx1", &error);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_NOT_FOUND);
  g_clear_error (&error);
  loaded = bb_store_get_item_by_logical_key (store, KEY_A, NS_A, "notes", "tx1-renamed", &error);
  g_assert_no_error (error);
  g_clear_object (&loaded);

  /* Look-ups are scoped by identity and namespace. */
  loaded = bb_store_get_item_by_id (store, KEY_B, NS_A, "01", &error);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_NOT_FOUND);
  g_clear_error (&error);
  loaded = bb_store_get_item_by_id (store, KEY_A, NS_B, "01", &error);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_NOT_FOUND);
}

static void
test_item_lists_and_order (void)
{
  g_autoptr (BbStore) store = open_memory ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) ns_items = NULL;
  g_autoptr (GPtrArray) dirty = NULL;
  /* item id, namespace, updated_at, dirty, conflict */
  const struct
  {
    const char *id;
    const char *ns;
    gint64 t;
    gboolean dirty;
    gboolean conflict;
  } rows[] = {
    { "05", NS_A, 300, TRUE, FALSE },  { "04", NS_A, 100, FALSE, FALSE },
    { "03", NS_A, 200, TRUE, TRUE },   { "02", NS_B, 200, TRUE, FALSE },
    { "01", NS_A, 200, FALSE, FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_autofree char *key = g_strdup_printf ("key-%s", rows[i].id);
      g_autoptr (BbItemState) item = make_item (KEY_A, rows[i].ns, "c", key, rows[i].id);

      bb_item_state_set_dirty (item, rows[i].dirty);
      bb_item_state_set_conflict (item, rows[i].conflict);
      bb_item_state_set_updated_at (item, rows[i].t);
      g_assert_true (bb_store_save_item (store, item, &error));
    }
  {
    g_autoptr (BbItemState) other = make_item (KEY_B, NS_A, "c", "x", "06");
    bb_item_state_set_dirty (other, TRUE);
    g_assert_true (bb_store_save_item (store, other, &error));
  }

  ns_items = bb_store_list_namespace_items (store, KEY_A, NS_A, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ns_items->len, ==, 4);
  g_assert_cmpstr (bb_item_state_get_item_id (ns_items->pdata[0]), ==, "04");
  g_assert_cmpstr (bb_item_state_get_item_id (ns_items->pdata[1]), ==, "01");
  g_assert_cmpstr (bb_item_state_get_item_id (ns_items->pdata[2]), ==, "03");
  g_assert_cmpstr (bb_item_state_get_item_id (ns_items->pdata[3]), ==, "05");

  /* Dirty items across namespaces, conflicted ones included, in upload order. */
  dirty = bb_store_list_dirty_items (store, KEY_A, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (dirty->len, ==, 3);
  g_assert_cmpstr (bb_item_state_get_item_id (dirty->pdata[0]), ==, "02");
  g_assert_cmpstr (bb_item_state_get_item_id (dirty->pdata[1]), ==, "03");
  g_assert_true (bb_item_state_get_conflict (dirty->pdata[1]));
  g_assert_cmpstr (bb_item_state_get_item_id (dirty->pdata[2]), ==, "05");
}

static void
test_unique_logical_key (void)
{
  g_autoptr (BbStore) store = open_memory ();
  g_autoptr (BbItemState) first = make_item (KEY_A, NS_A, "notes", "same", "01");
  g_autoptr (BbItemState) second = make_item (KEY_A, NS_A, "notes", "same", "02");
  g_autoptr (BbItemState) other_ns = make_item (KEY_A, NS_B, "notes", "same", "02");
  g_autoptr (BbItemState) loaded = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (bb_store_save_item (store, first, &error));
  g_assert_false (bb_store_save_item (store, second, &error));
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE);
  g_clear_error (&error);

  loaded = bb_store_get_item_by_logical_key (store, KEY_A, NS_A, "notes", "same", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_item_state_get_item_id (loaded), ==, "01");
  g_clear_object (&loaded);
  loaded = bb_store_get_item_by_id (store, KEY_A, NS_A, "02", &error);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* The same logical key in another namespace is another item. */
  g_assert_true (bb_store_save_item (store, other_ns, &error));
  g_assert_no_error (error);
}

static void
test_batch (void)
{
  g_autoptr (BbStore) store = open_memory ();
  g_autoptr (GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) namespaces = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) listed = NULL;
  g_autoptr (BbNamespaceState) ns = NULL;
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < 100; i++)
    {
      g_autofree char *id = item_id_for (i);
      g_autofree char *key = g_strdup_printf ("k%u", i);
      g_ptr_array_add (items, make_item (KEY_A, NS_A, "c", key, id));
    }
  g_ptr_array_add (namespaces, make_namespace (KEY_A, NS_A, 100, "scope", NULL));
  g_assert_true (bb_store_save_batch (store, items, namespaces, &error));
  g_assert_no_error (error);
  listed = bb_store_list_namespace_items (store, KEY_A, NS_A, &error);
  g_assert_cmpuint (listed->len, ==, 100);
  ns = bb_store_get_namespace (store, KEY_A, NS_A, &error);
  g_assert_cmpuint (bb_namespace_state_get_namespace_head (ns), ==, 100);

  /* NULL lists are allowed. */
  g_assert_true (bb_store_save_batch (store, NULL, NULL, &error));
  g_assert_no_error (error);
}

static void
test_batch_all_or_nothing (void)
{
  g_autoptr (BbStore) store = open_memory ();
  g_autoptr (GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) namespaces = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) listed = NULL;
  g_autoptr (BbItemState) existing = make_item (KEY_A, NS_A, "c", "taken", "ff");
  g_autoptr (BbItemState) huge = NULL;
  g_autoptr (BbNamespaceState) ns = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (bb_store_save_item (store, existing, &error));
  for (guint i = 0; i < 50; i++)
    {
      g_autofree char *id = item_id_for (i);
      g_autofree char *key = g_strdup_printf ("k%u", i);
      g_ptr_array_add (items, make_item (KEY_A, NS_A, "c", key, id));
    }
  /* A collision with the existing row in the middle of the batch. */
  g_ptr_array_insert (items, 25, make_item (KEY_A, NS_A, "c", "taken", "ee"));
  g_ptr_array_add (namespaces, make_namespace (KEY_A, NS_A, 7, "", NULL));

  g_assert_false (bb_store_save_batch (store, items, namespaces, &error));
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE);
  g_clear_error (&error);

  listed = bb_store_list_namespace_items (store, KEY_A, NS_A, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (listed->len, ==, 1);
  g_assert_cmpstr (bb_item_state_get_item_id (listed->pdata[0]), ==, "ff");
  ns = bb_store_get_namespace (store, KEY_A, NS_A, &error);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* A value that cannot be stored, in the namespace part, also undoes the items. */
  g_ptr_array_remove_index (items, 25);
  g_clear_pointer (&namespaces, g_ptr_array_unref);
  namespaces = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (namespaces, make_namespace (KEY_A, NS_A, G_MAXUINT64, "", NULL));
  g_assert_false (bb_store_save_batch (store, items, namespaces, &error));
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT);
  g_clear_error (&error);
  g_clear_pointer (&listed, g_ptr_array_unref);
  listed = bb_store_list_namespace_items (store, KEY_A, NS_A, &error);
  g_assert_cmpuint (listed->len, ==, 1);

  /* And the store still works afterwards (no transaction left open). */
  g_assert_true (bb_store_save_batch (store, items, NULL, &error));
  g_assert_no_error (error);
  g_clear_pointer (&listed, g_ptr_array_unref);
  listed = bb_store_list_namespace_items (store, KEY_A, NS_A, &error);
  g_assert_cmpuint (listed->len, ==, 51);

  huge = make_item (KEY_A, NS_A, "c", "huge", "aa");
  bb_item_state_set_version (huge, (guint64)G_MAXINT64 + 1);
  g_assert_false (bb_store_save_item (store, huge, &error));
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT);
  g_clear_error (&error);
  bb_item_state_set_version (huge, G_MAXINT64);
  g_assert_true (bb_store_save_item (store, huge, &error));
  g_clear_object (&huge);
  huge = bb_store_get_item_by_id (store, KEY_A, NS_A, "aa", &error);
  g_assert_cmpuint (bb_item_state_get_version (huge), ==, G_MAXINT64);
}

/* The setup of the reference store tests: identities A and B with tokens and expiry
 * now + 1 h, a namespace each with a DEK (A's head 42, scope "scope"), an item for A
 * (version 7, base "base-value"). */
static gint64
setup_two_identities (BbStore *store)
{
  gint64 expiry = g_get_real_time () + (gint64)3600 * G_USEC_PER_SEC;
  g_autoptr (GBytes) dek_a = test_key (0xa1);
  g_autoptr (GBytes) dek_b = test_key (0xb1);
  g_autoptr (GBytes) base = bytes_from_string ("base-value");
  g_autoptr (BbIdentityState) a = make_identity (KEY_A, "token-a", expiry, "namespace-a");
  g_autoptr (BbIdentityState) b = make_identity (KEY_B, "token-b", expiry, "namespace-b");
  g_autoptr (BbNamespaceState) ns_a = make_namespace (KEY_A, "namespace-a", 42, "scope", dek_a);
  g_autoptr (BbNamespaceState) ns_b = make_namespace (KEY_B, "namespace-b", 3, "", dek_b);
  g_autoptr (BbItemState) item = make_item (KEY_A, "namespace-a", "c", "k", "01");
  g_autoptr (BbItemState) item_b = make_item (KEY_B, "namespace-b", "c", "k", "01");
  g_autoptr (GError) error = NULL;

  bb_item_state_mark_clean (item, 7, base);
  bb_item_state_mark_clean (item_b, 2, base);
  g_assert_true (bb_store_save_identity (store, a, &error));
  g_assert_true (bb_store_save_identity (store, b, &error));
  g_assert_true (bb_store_save_namespace (store, ns_a, &error));
  g_assert_true (bb_store_save_namespace (store, ns_b, &error));
  g_assert_true (bb_store_save_item (store, item, &error));
  g_assert_true (bb_store_save_item (store, item_b, &error));
  g_assert_no_error (error);
  return expiry;
}

static void
assert_b_intact (BbStore *store, gint64 expiry)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BbIdentityState) b = bb_store_load_identity (store, KEY_B, &error);
  g_autoptr (BbNamespaceState) ns_b = NULL;
  g_autoptr (BbItemState) item_b = NULL;
  g_autoptr (GBytes) dek_b = test_key (0xb1);

  g_assert_no_error (error);
  g_assert_cmpstr (bb_identity_state_get_access_token (b), ==, "token-b");
  g_assert_cmpint (bb_identity_state_get_token_expiry (b), ==, expiry);
  g_assert_cmpstr (bb_identity_state_get_default_namespace_id (b), ==, "namespace-b");
  ns_b = bb_store_get_namespace (store, KEY_B, "namespace-b", &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (bb_namespace_state_get_dek (ns_b), dek_b));
  item_b = bb_store_get_item_by_id (store, KEY_B, "namespace-b", "01", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bb_item_state_get_version (item_b), ==, 2);
}

static void
test_forget_identity_secrets (void)
{
  g_autoptr (BbStore) store = open_memory ();
  gint64 expiry = setup_two_identities (store);
  g_autoptr (GError) error = NULL;
  g_autoptr (BbIdentityState) a = NULL;
  g_autoptr (BbNamespaceState) ns_a = NULL;
  g_autoptr (BbItemState) item = NULL;
  g_autoptr (GBytes) base = bytes_from_string ("base-value");

  g_assert_true (bb_store_forget_identity_secrets (store, KEY_A, &error));
  g_assert_no_error (error);

  a = bb_store_load_identity (store, KEY_A, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_identity_state_get_access_token (a), ==, "");
  g_assert_cmpint (bb_identity_state_get_token_expiry (a), ==, 0);
  g_assert_cmpstr (bb_identity_state_get_default_namespace_id (a), ==, "namespace-a");

  ns_a = bb_store_get_namespace (store, KEY_A, "namespace-a", &error);
  g_assert_no_error (error);
  g_assert_false (bb_namespace_state_has_dek (ns_a));
  g_assert_cmpuint (bb_namespace_state_get_namespace_head (ns_a), ==, 42);
  g_assert_cmpstr (bb_namespace_state_get_active_scope_hash (ns_a), ==, "scope");
  g_assert_cmpstr (bb_namespace_state_get_kind (ns_a), ==, "default");

  item = bb_store_get_item_by_id (store, KEY_A, "namespace-a", "01", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bb_item_state_get_version (item), ==, 7);
  g_assert_true (g_bytes_equal (bb_item_state_get_base_value (item), base));

  assert_b_intact (store, expiry);

  /* A missing identity is not an error. */
  g_assert_true (bb_store_forget_identity_secrets (store, "missing", &error));
  g_assert_no_error (error);
}

static GBytes *
raw_column (const char *path, const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  GBytes *value;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = g_bytes_new (sqlite3_column_blob (stmt, 0), sqlite3_column_bytes (stmt, 0));
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return value;
}

/* Forgetting the secrets removes their sealed copies from the disk at once, WAL
 * included: with the store key (in the keyring beside the file) an old WAL frame
 * would give the forgotten token and DEKs back. */
static void
test_forget_identity_secrets_on_disk (void)
{
  g_autoptr (TmpDir) dir = (TmpDir *)tmp_dir_new ();
  g_autofree char *path = g_build_filename ((char *)dir, "store.db", NULL);
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autoptr (GBytes) key = test_key (0x61);
  g_autoptr (GBytes) dek = bb_test_repeat (0xd1, 32);
  g_autoptr (BbStore) store = open_file (path, key);
  g_autoptr (BbIdentityState) identity = make_identity (KEY_A, "forget-me-token", 1, NS_A);
  g_autoptr (BbNamespaceState) ns = make_namespace (KEY_A, NS_A, 3, "", dek);
  g_autoptr (GBytes) sealed_token = NULL;
  g_autoptr (GBytes) sealed_dek = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (bb_store_save_identity (store, identity, &error));
  g_assert_true (bb_store_save_namespace (store, ns, &error));
  g_assert_no_error (error);
  sealed_token = raw_column (path, "SELECT access_token FROM identity_states");
  sealed_dek = raw_column (path, "SELECT dek FROM namespaces");
  g_assert_cmpuint (g_bytes_get_size (sealed_token), >, 40);
  g_assert_cmpuint (g_bytes_get_size (sealed_dek), >, 40);

  g_assert_true (bb_store_forget_identity_secrets (store, KEY_A, &error));
  g_assert_no_error (error);

  /* While the store stays open (the app keeps running). */
  for (guint i = 0; i < 2; i++)
    {
      const char *file = i == 0 ? path : wal;
      g_autoptr (GBytes) raw = read_file (file);

      g_assert_false (
          contains (raw, g_bytes_get_data (sealed_token, NULL), g_bytes_get_size (sealed_token)));
      g_assert_false (
          contains (raw, g_bytes_get_data (sealed_dek, NULL), g_bytes_get_size (sealed_dek)));
    }
}

static void
test_reset_sync_state (void)
{
  g_autoptr (BbStore) store = open_memory ();
  gint64 expiry = setup_two_identities (store);
  g_autoptr (GError) error = NULL;
  g_autoptr (BbIdentityState) a = NULL;
  g_autoptr (BbNamespaceState) ns_a = NULL;
  g_autoptr (BbItemState) item = NULL;
  g_autoptr (GPtrArray) list = NULL;

  g_assert_true (bb_store_reset_sync_state (store, KEY_A, &error));
  g_assert_no_error (error);

  a = bb_store_load_identity (store, KEY_A, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_identity_state_get_access_token (a), ==, "token-a");
  g_assert_cmpint (ABS (bb_identity_state_get_token_expiry (a) - expiry), <=, G_USEC_PER_SEC);
  g_assert_cmpstr (bb_identity_state_get_default_namespace_id (a), ==, "");

  ns_a = bb_store_get_namespace (store, KEY_A, "namespace-a", &error);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_NOT_FOUND);
  g_clear_error (&error);
  item = bb_store_get_item_by_id (store, KEY_A, "namespace-a", "01", &error);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_NOT_FOUND);
  g_clear_error (&error);
  list = bb_store_list_namespaces (store, KEY_A, &error);
  g_assert_cmpuint (list->len, ==, 0);

  assert_b_intact (store, expiry);
}

static void
test_reset_missing_identity (void)
{
  g_autoptr (BbStore) store = open_memory ();
  g_autoptr (GError) error = NULL;

  g_assert_true (bb_store_reset_sync_state (store, "unknown", &error));
  g_assert_no_error (error);
}

static void
test_close (void)
{
  g_autoptr (BbStore) store = open_memory ();
  g_autoptr (BbIdentityState) state = make_identity (KEY_A, "t", 0, NULL);
  g_autoptr (BbIdentityState) loaded = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (bb_store_close (store, &error));
  g_assert_true (bb_store_close (store, &error));
  g_assert_no_error (error);
  g_assert_false (bb_store_save_identity (store, state, &error));
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE);
  g_clear_error (&error);
  loaded = bb_store_load_identity (store, KEY_A, &error);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE);
  g_clear_error (&error);
  list = bb_store_list_dirty_items (store, KEY_A, &error);
  g_assert_null (list);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE);
}

typedef struct
{
  BbStore *store;
  guint thread;
} ThreadData;

static gpointer
save_from_thread (gpointer user_data)
{
  ThreadData *data = user_data;

  for (guint i = 0; i < 200; i++)
    {
      g_autofree char *id = item_id_for (data->thread * 1000 + i);
      g_autoptr (BbItemState) item = make_item (KEY_A, NS_A, "c", id, id);
      g_autoptr (GError) error = NULL;

      bb_item_state_set_dirty (item, i % 2);
      if (!bb_store_save_item (data->store, item, &error))
        return g_strdup (error->message);
    }
  return NULL;
}

static void
test_threads (void)
{
  g_autoptr (BbStore) store = open_memory ();
  ThreadData data[4];
  GThread *threads[4];
  g_autoptr (GPtrArray) all = NULL;
  g_autoptr (GPtrArray) dirty = NULL;
  g_autoptr (GError) error = NULL;

  for (guint t = 0; t < 4; t++)
    {
      data[t] = (ThreadData){ store, t };
      threads[t] = g_thread_new ("saver", save_from_thread, &data[t]);
    }
  for (guint t = 0; t < 4; t++)
    {
      g_autofree char *failure = g_thread_join (threads[t]);
      g_assert_null (failure);
    }
  all = bb_store_list_namespace_items (store, KEY_A, NS_A, &error);
  g_assert_cmpuint (all->len, ==, 800);
  dirty = bb_store_list_dirty_items (store, KEY_A, &error);
  g_assert_cmpuint (dirty->len, ==, 400);
}

/* ---- interface defaults ----------------------------------------------------------- */

/* A minimal store that implements only the two single saves, counting them. */
#define TEST_TYPE_MINIMAL_STORE (test_minimal_store_get_type ())
G_DECLARE_FINAL_TYPE (TestMinimalStore, test_minimal_store, TEST, MINIMAL_STORE, GObject)

struct _TestMinimalStore
{
  GObject parent_instance;
  guint items;
  guint namespaces;
};

static gboolean
minimal_save_item (BbStore *store, BbItemState *state, GError **error)
{
  TestMinimalStore *self = (TestMinimalStore *)store;

  if (g_str_equal (bb_item_state_get_key (state), "fail"))
    {
      g_set_error_literal (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE, "refused");
      return FALSE;
    }
  self->items++;
  return TRUE;
}

static gboolean
minimal_save_namespace (BbStore *store, BbNamespaceState *state, GError **error)
{
  ((TestMinimalStore *)store)->namespaces++;
  return TRUE;
}

static void
test_minimal_store_iface_init (BbStoreInterface *iface)
{
  iface->save_item = minimal_save_item;
  iface->save_namespace = minimal_save_namespace;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestMinimalStore, test_minimal_store, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (BB_TYPE_STORE, test_minimal_store_iface_init))

static void
test_minimal_store_class_init (TestMinimalStoreClass *klass)
{
}

static void
test_minimal_store_init (TestMinimalStore *self)
{
}

static void
test_interface_defaults (void)
{
  g_autoptr (TestMinimalStore) store = g_object_new (TEST_TYPE_MINIMAL_STORE, NULL);
  g_autoptr (GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) namespaces = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (BbIdentityState) identity = NULL;
  g_autoptr (GError) error = NULL;

  g_ptr_array_add (items, make_item (KEY_A, NS_A, "c", "a", "01"));
  g_ptr_array_add (items, make_item (KEY_A, NS_A, "c", "b", "02"));
  g_ptr_array_add (namespaces, make_namespace (KEY_A, NS_A, 1, "", NULL));

  /* The default batch saves one by one. */
  g_assert_true (bb_store_save_batch (BB_STORE (store), items, namespaces, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (store->items, ==, 2);
  g_assert_cmpuint (store->namespaces, ==, 1);
  /* ... and stops at the first error. */
  g_ptr_array_insert (items, 0, make_item (KEY_A, NS_A, "c", "fail", "03"));
  g_assert_false (bb_store_save_batch (BB_STORE (store), items, namespaces, &error));
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE);
  g_clear_error (&error);
  g_assert_cmpuint (store->items, ==, 2);

  /* Optional and missing methods report UNSUPPORTED; close does nothing. */
  g_assert_false (bb_store_reset_sync_state (BB_STORE (store), KEY_A, &error));
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  identity = bb_store_load_identity (BB_STORE (store), KEY_A, &error);
  g_assert_null (identity);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  g_assert_true (bb_store_close (BB_STORE (store), &error));
  g_assert_no_error (error);
}

/* ---- files ------------------------------------------------------------------------ */

static void
test_file_reopen_and_mode (void)
{
  g_autoptr (TmpDir) dir = (TmpDir *)tmp_dir_new ();
  g_autofree char *path = g_build_filename ((char *)dir, "store.db", NULL);
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (path, "-shm", NULL);
  g_autoptr (GBytes) key = test_key (0x5a);
  g_autoptr (BbStore) store = open_file (path, key);
  g_autoptr (BbIdentityState) state = make_identity (KEY_A, "token", 123, NS_A);
  g_autoptr (BbIdentityState) loaded = NULL;
  g_autoptr (GError) error = NULL;
  const char *files[] = { path, wal, shm };
  GStatBuf st;

  g_assert_true (bb_store_save_identity (store, state, &error));
  g_assert_cmpstr (bb_sqlite_store_get_path (BB_SQLITE_STORE (store)), ==, path);
  g_assert_nonnull (bb_sqlite_store_get_store_id (BB_SQLITE_STORE (store)));
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_assert_cmpint (g_stat (files[i], &st), ==, 0);
      g_assert_cmpint (st.st_mode & 0777, ==, 0600);
    }
  g_clear_object (&store);

  store = open_file (path, key);
  loaded = bb_store_load_identity (store, KEY_A, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_identity_state_get_access_token (loaded), ==, "token");
  g_clear_object (&store);

  {
    /* The current schema version, WAL journal. */
    sqlite3 *db = NULL;
    sqlite3_stmt *stmt = NULL;
    g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
    sqlite3_prepare_v2 (db, "PRAGMA user_version", -1, &stmt, NULL);
    g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
    g_assert_cmpint (sqlite3_column_int (stmt, 0), ==, BB_SQLITE_STORE_SCHEMA_VERSION);
    sqlite3_finalize (stmt);
    sqlite3_prepare_v2 (db, "PRAGMA journal_mode", -1, &stmt, NULL);
    g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
    g_assert_cmpstr ((const char *)sqlite3_column_text (stmt, 0), ==, "wal");
    sqlite3_finalize (stmt);
    sqlite3_close (db);
  }
}

static void
test_at_rest (void)
{
  g_autoptr (TmpDir) dir = (TmpDir *)tmp_dir_new ();
  g_autofree char *path = g_build_filename ((char *)dir, "store.db", NULL);
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autoptr (GBytes) key = test_key (0x77);
  const char *token = "TOKEN-7f3a9c1e-distinctive-bearer";
  const char *base_text = "BASEVALUE-a81c-my-secret-note";
  const char *conflict_text = "CONFLICTVALUE-55d2-their-note";
  const char *logical_key = "LOGICALKEY-visible-9e21";
  g_autoptr (GBytes) dek = bytes_from_string ("DEK-3141592653589793238462643383");
  g_autoptr (GBytes) base = bytes_from_string (base_text);
  g_autoptr (GBytes) remote = bytes_from_string (conflict_text);
  g_autoptr (BbStore) store = open_file (path, key);
  g_autoptr (BbIdentityState) identity = make_identity (KEY_A, token, 1, NS_A);
  g_autoptr (BbNamespaceState) ns = make_namespace (KEY_A, NS_A, 1, "", dek);
  g_autoptr (BbItemState) item = make_item (KEY_A, NS_A, "notes", logical_key, "01");
  g_autoptr (GError) error = NULL;
  const struct
  {
    const void *data;
    gsize len;
  } secrets[] = {
    { token, strlen (token) },
    { g_bytes_get_data (dek, NULL), g_bytes_get_size (dek) },
    { base_text, strlen (base_text) },
    { conflict_text, strlen (conflict_text) },
  };

  g_assert_cmpuint (g_bytes_get_size (dek), ==, 32);
  bb_item_state_mark_clean (item, 1, base);
  bb_item_state_mark_conflict (item, 2, remote);
  g_assert_true (bb_store_save_identity (store, identity, &error));
  g_assert_true (bb_store_save_namespace (store, ns, &error));
  g_assert_true (bb_store_save_item (store, item, &error));
  g_assert_no_error (error);

  /* While open, the data sits in the WAL; after closing, in the main file. */
  for (guint round = 0; round < 2; round++)
    {
      g_autoptr (GBytes) main_bytes = read_file (path);
      g_autoptr (GBytes) wal_bytes = read_file (wal);
      g_autoptr (GBytes) all = NULL;
      GByteArray *joined = g_byte_array_new ();

      g_byte_array_append (joined, g_bytes_get_data (main_bytes, NULL),
                           g_bytes_get_size (main_bytes));
      g_byte_array_append (joined, g_bytes_get_data (wal_bytes, NULL),
                           g_bytes_get_size (wal_bytes));
      all = g_byte_array_free_to_bytes (joined);
      if (round == 0)
        g_assert_cmpuint (g_bytes_get_size (wal_bytes), >, 0);

      /* The search itself works: the logical key is stored in plaintext. */
      g_assert_true (contains (all, logical_key, strlen (logical_key)));
      for (guint i = 0; i < G_N_ELEMENTS (secrets); i++)
        g_assert_false (contains (all, secrets[i].data, secrets[i].len));

      g_clear_object (&store);
    }

  /* A copy of the file opened with another key shows nothing either. */
  {
    g_autoptr (GBytes) wrong = test_key (0x78);
    g_autoptr (BbSqliteStore) other = bb_sqlite_store_new_sync (path, wrong, NULL, &error);
    g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE);
    g_assert_null (other);
  }
}

static void
test_sealed_value_bound_to_row (void)
{
  g_autoptr (TmpDir) dir = (TmpDir *)tmp_dir_new ();
  g_autofree char *path = g_build_filename ((char *)dir, "store.db", NULL);
  g_autoptr (GBytes) key = test_key (0x33);
  g_autoptr (GBytes) base = bytes_from_string ("value-of-one");
  g_autoptr (BbStore) store = open_file (path, key);
  g_autoptr (BbItemState) one = make_item (KEY_A, NS_A, "c", "one", "01");
  g_autoptr (BbItemState) two = make_item (KEY_A, NS_A, "c", "two", "02");
  g_autoptr (BbItemState) loaded = NULL;
  g_autoptr (GError) error = NULL;

  bb_item_state_mark_clean (one, 1, base);
  g_assert_true (bb_store_save_item (store, one, &error));
  g_assert_true (bb_store_save_item (store, two, &error));
  g_clear_object (&store);

  /* Someone with write access moves row 01's sealed base into row 02, and row 01's
   * base into its conflict column. */
  exec_raw (path,
            "UPDATE items SET base_value = (SELECT base_value FROM items WHERE item_id = '01') "
            "WHERE item_id = '02';"
            "UPDATE items SET conflict_remote_value = base_value WHERE item_id = '01';");

  store = open_file (path, key);
  loaded = bb_store_get_item_by_id (store, KEY_A, NS_A, "02", &error);
  g_assert_null (loaded);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE);
  g_clear_error (&error);
  loaded = bb_store_get_item_by_id (store, KEY_A, NS_A, "01", &error);
  g_assert_null (loaded);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE);
}

/* Reads every way an item can be read and expects each to fail with a store error whose
 * message names @column, never to hand out the other row's value. */
static void
assert_items_unreadable (BbStore *store, const char *column)
{
  static const struct
  {
    const char *id, *collection, *key;
  } rows[] = { { "01", "notes", "alpha" }, { "02", "labels", "beta" } };
  g_autoptr (GError) error = NULL;
  GPtrArray *list;

  for (guint i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      BbItemState *loaded = bb_store_get_item_by_id (store, KEY_A, NS_A, rows[i].id, &error);

      g_assert_null (loaded);
      g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE);
      g_assert_nonnull (strstr (error->message, column));
      g_assert_nonnull (strstr (error->message, "fails authentication"));
      g_test_message ("by id: %s", error->message);
      g_clear_error (&error);

      loaded = bb_store_get_item_by_logical_key (store, KEY_A, NS_A, rows[i].collection,
                                                 rows[i].key, &error);
      g_assert_null (loaded);
      g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE);
      g_assert_nonnull (strstr (error->message, column));
      g_clear_error (&error);
    }
  list = bb_store_list_namespace_items (store, KEY_A, NS_A, &error);
  g_assert_null (list);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE);
  g_assert_nonnull (strstr (error->message, column));
  g_clear_error (&error);
  list = bb_store_list_dirty_items (store, KEY_A, &error);
  g_assert_null (list);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE);
  g_assert_nonnull (strstr (error->message, column));
}

/* Exchanges the collection names and logical keys of rows 01 and 02 through a temporary
 * value, as the unique index on the logical key allows no duplicate in between. */
#define SWAP_LOGICAL_KEYS_SQL                                                                      \
  "UPDATE items SET collection_name = 'tmp', item_key = 'tmp' WHERE item_id = '01';"               \
  "UPDATE items SET collection_name = 'notes', item_key = 'alpha' WHERE item_id = '02';"           \
  "UPDATE items SET collection_name = 'labels', item_key = 'beta' WHERE item_id = '01';"

#define RESTORE_LOGICAL_KEYS_SQL                                                                   \
  "UPDATE items SET collection_name = 'tmp', item_key = 'tmp' WHERE item_id = '01';"               \
  "UPDATE items SET collection_name = 'labels', item_key = 'beta' WHERE item_id = '02';"           \
  "UPDATE items SET collection_name = 'notes', item_key = 'alpha' WHERE item_id = '01';"

static void
test_sealed_value_bound_to_logical_key (void)
{
  g_autoptr (TmpDir) dir = (TmpDir *)tmp_dir_new ();
  g_autofree char *path = g_build_filename ((char *)dir, "store.db", NULL);
  g_autoptr (GBytes) key = test_key (0x34);
  g_autoptr (GBytes) base_one = bytes_from_string ("base-of-one");
  g_autoptr (GBytes) remote_one = bytes_from_string ("remote-of-one");
  g_autoptr (GBytes) base_two = bytes_from_string ("base-of-two");
  g_autoptr (GBytes) remote_two = bytes_from_string ("remote-of-two");
  g_autoptr (BbStore) store = open_file (path, key);
  g_autoptr (BbItemState) one = make_item (KEY_A, NS_A, "notes", "alpha", "01");
  g_autoptr (BbItemState) two = make_item (KEY_A, NS_A, "labels", "beta", "02");
  g_autoptr (BbItemState) loaded = NULL;
  g_autoptr (GError) error = NULL;

  bb_item_state_mark_clean (one, 1, base_one);
  bb_item_state_mark_conflict (one, 2, remote_one);
  bb_item_state_mark_clean (two, 5, base_two);
  bb_item_state_mark_conflict (two, 6, remote_two);
  g_assert_true (bb_store_save_item (store, one, &error));
  g_assert_true (bb_store_save_item (store, two, &error));
  g_assert_no_error (error);
  g_clear_object (&store);

  /* Someone with write access exchanges the two rows' logical keys: each row's sealed
   * values now sit under the other item's collection and key. */
  exec_raw (path, SWAP_LOGICAL_KEYS_SQL);
  store = open_file (path, key);
  assert_items_unreadable (store, "items.base_value");
  g_clear_object (&store);

  /* The conflict values are bound to the logical key as well (rows without a base,
   * saved by the store so that their row MACs hold). */
  exec_raw (path, RESTORE_LOGICAL_KEYS_SQL);
  store = open_file (path, key);
  bb_item_state_set_base_value (one, NULL);
  bb_item_state_set_base_value (two, NULL);
  g_assert_true (bb_store_save_item (store, one, &error));
  g_assert_true (bb_store_save_item (store, two, &error));
  g_assert_no_error (error);
  g_clear_object (&store);
  exec_raw (path, SWAP_LOGICAL_KEYS_SQL);
  store = open_file (path, key);
  assert_items_unreadable (store, "items.conflict_remote_value");
  g_clear_object (&store);

  /* Exchanging the keys back makes the conflict values readable again, so the failure
   * above came from the exchange and nothing else. */
  exec_raw (path, RESTORE_LOGICAL_KEYS_SQL);
  store = open_file (path, key);
  loaded = bb_store_get_item_by_logical_key (store, KEY_A, NS_A, "notes", "alpha", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_item_state_get_item_id (loaded), ==, "01");
  g_assert_null (bb_item_state_get_base_value (loaded));
  g_assert_true (g_bytes_equal (bb_item_state_get_conflict_remote_value (loaded), remote_one));
  g_clear_object (&loaded);
  loaded = bb_store_get_item_by_id (store, KEY_A, NS_A, "02", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_item_state_get_key (loaded), ==, "beta");
  g_assert_true (g_bytes_equal (bb_item_state_get_conflict_remote_value (loaded), remote_two));
}

/* ---- rows put back from an earlier save --------------------------------------------- */

/* Returns an UPDATE that sets @columns of the one row of @table matching @where back to
 * their present raw values (sealed bytes as they are), read with sqlite3 directly. */
static char *
raw_restore_sql (const char *path, const char *table, const char *where, const char *const *columns)
{
  g_autoptr (GString) select = g_string_new ("SELECT ");
  GString *update = g_string_new (NULL);
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;

  for (guint i = 0; columns[i] != NULL; i++)
    g_string_append_printf (select, "%squote(%s)", i > 0 ? ", " : "", columns[i]);
  g_string_append_printf (select, " FROM %s WHERE %s", table, where);
  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, select->str, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_string_printf (update, "UPDATE %s SET ", table);
  for (guint i = 0; columns[i] != NULL; i++)
    g_string_append_printf (update, "%s%s = %s", i > 0 ? ", " : "", columns[i],
                            (const char *)sqlite3_column_text (stmt, i));
  g_string_append_printf (update, " WHERE %s;", where);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_DONE);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return g_string_free (update, FALSE);
}

/* A store error naming @table's row MAC and the row, and none of the record's secrets
 * (all of which start with "REPLAY-"). */
static void
assert_row_mac_error (GError *error, const char *table, const char *row_part)
{
  g_autofree char *column = g_strconcat (table, ".row_mac", NULL);

  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE);
  g_assert_nonnull (strstr (error->message, column));
  g_assert_nonnull (strstr (error->message, row_part));
  g_assert_null (strstr (error->message, "REPLAY-"));
}

/* One table's replay: the record saved at two moments, and how it is read. */
typedef struct
{
  const char *table;
  const char *where;    /* the row */
  const char *row_part; /* a part of its key that error messages name */
  const char *const *replays[3];
  /* Saves the record as it is at @moment (0, then 1). */
  void (*save) (BbStore *store, guint moment);
  /* Reads the record every way the store can, expecting the row MAC error. */
  void (*assert_unreadable) (BbStore *store);
  /* Reads it and checks it is as saved at moment 1. */
  void (*assert_current) (BbStore *store);
} Replay;

static void
replay_item_save (BbStore *store, guint moment)
{
  g_autofree char *text = g_strdup_printf ("REPLAY-base-at-version-%u", 5 + moment);
  g_autoptr (GBytes) base = bytes_from_string (text);
  g_autoptr (BbItemState) item = make_item (KEY_A, NS_A, "notes", "alpha", "01");
  g_autoptr (GError) error = NULL;

  bb_item_state_mark_clean (item, 5 + moment, base);
  g_assert_true (bb_store_save_item (store, item, &error));
  g_assert_no_error (error);
}

static void
replay_item_assert_unreadable (BbStore *store)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BbItemState) by_id = bb_store_get_item_by_id (store, KEY_A, NS_A, "01", &error);
  g_autoptr (BbItemState) by_key = NULL;
  g_autoptr (GPtrArray) list = NULL;

  g_assert_null (by_id);
  assert_row_mac_error (error, "items", "01");
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  by_key = bb_store_get_item_by_logical_key (store, KEY_A, NS_A, "notes", "alpha", &error);
  g_assert_null (by_key);
  assert_row_mac_error (error, "items", "01");
  g_clear_error (&error);
  list = bb_store_list_namespace_items (store, KEY_A, NS_A, &error);
  g_assert_null (list);
  assert_row_mac_error (error, "items", "01");
}

static void
replay_item_assert_current (BbStore *store)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BbItemState) item = bb_store_get_item_by_id (store, KEY_A, NS_A, "01", &error);
  g_autoptr (GBytes) base = bytes_from_string ("REPLAY-base-at-version-6");

  g_assert_no_error (error);
  g_assert_cmpuint (bb_item_state_get_version (item), ==, 6);
  g_assert_cmpuint (bb_item_state_get_base_version (item), ==, 6);
  g_assert_true (g_bytes_equal (bb_item_state_get_base_value (item), base));
}

static void
replay_namespace_save (BbStore *store, guint moment)
{
  g_autoptr (GBytes) dek = bb_test_repeat (0xd0 + moment, 32);
  g_autoptr (BbNamespaceState) ns = make_namespace (KEY_A, NS_A, 10 + moment, "", dek);
  g_autoptr (GError) error = NULL;

  g_assert_true (bb_store_save_namespace (store, ns, &error));
  g_assert_no_error (error);
}

static void
replay_namespace_assert_unreadable (BbStore *store)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BbNamespaceState) ns = bb_store_get_namespace (store, KEY_A, NS_A, &error);
  g_autoptr (GPtrArray) list = NULL;

  g_assert_null (ns);
  assert_row_mac_error (error, "namespaces", NS_A);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  list = bb_store_list_namespaces (store, KEY_A, &error);
  g_assert_null (list);
  assert_row_mac_error (error, "namespaces", NS_A);
}

static void
replay_namespace_assert_current (BbStore *store)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BbNamespaceState) ns = bb_store_get_namespace (store, KEY_A, NS_A, &error);
  g_autoptr (GBytes) dek = bb_test_repeat (0xd1, 32);

  g_assert_no_error (error);
  g_assert_cmpuint (bb_namespace_state_get_namespace_head (ns), ==, 11);
  g_assert_true (g_bytes_equal (bb_namespace_state_get_dek (ns), dek));
}

static void
replay_identity_save (BbStore *store, guint moment)
{
  g_autofree char *token = g_strdup_printf ("REPLAY-token-%u", moment);
  g_autoptr (BbIdentityState) identity = make_identity (KEY_A, token, 1000 + moment, NS_A);
  g_autoptr (GError) error = NULL;

  g_assert_true (bb_store_save_identity (store, identity, &error));
  g_assert_no_error (error);
}

static void
replay_identity_assert_unreadable (BbStore *store)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BbIdentityState) identity = bb_store_load_identity (store, KEY_A, &error);

  g_assert_null (identity);
  assert_row_mac_error (error, "identity_states", KEY_A);
  g_test_message ("%s", error->message);
}

static void
replay_identity_assert_current (BbStore *store)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BbIdentityState) identity = bb_store_load_identity (store, KEY_A, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (bb_identity_state_get_access_token (identity), ==, "REPLAY-token-1");
  g_assert_cmpint (bb_identity_state_get_token_expiry (identity), ==, 1001);
}

static const char *const item_base_and_versions[]
    = { "base_value", "version", "base_version", NULL };
static const char *const item_base[] = { "base_value", NULL };
static const char *const item_versions[] = { "version", "base_version", NULL };
static const char *const ns_dek_and_head[] = { "dek", "namespace_head", NULL };
static const char *const ns_dek[] = { "dek", NULL };
static const char *const ns_head[] = { "namespace_head", NULL };
static const char *const identity_token_and_expiry[] = { "access_token", "token_expiry", NULL };
static const char *const identity_token[] = { "access_token", NULL };
static const char *const identity_expiry[] = { "token_expiry", NULL };

static const Replay replay_item = {
  "items",
  "item_id = '01'",
  "01",
  { item_base_and_versions, item_base, item_versions },
  replay_item_save,
  replay_item_assert_unreadable,
  replay_item_assert_current,
};

static const Replay replay_namespace = {
  "namespaces",
  "namespace_id = '" NS_A "'",
  NS_A,
  { ns_dek_and_head, ns_dek, ns_head },
  replay_namespace_save,
  replay_namespace_assert_unreadable,
  replay_namespace_assert_current,
};

static const Replay replay_identity = {
  "identity_states",
  "key_id = '" KEY_A "'",
  KEY_A,
  { identity_token_and_expiry, identity_token, identity_expiry },
  replay_identity_save,
  replay_identity_assert_unreadable,
  replay_identity_assert_current,
};

/* Someone with write access to the file keeps a row's sealed value and version (an
 * item's base and base version, a namespace's DEK and head, an identity's token and
 * expiry), lets the app save the row again, and puts the kept columns back. Each seal
 * still opens where it is (it is bound to its place, not its moment), so only the row
 * MAC tells: the row must fail to read, and read again once the columns are restored. */
static void
test_replayed_columns (gconstpointer data)
{
  const Replay *replay = data;
  g_autoptr (TmpDir) dir = (TmpDir *)tmp_dir_new ();
  g_autofree char *path = g_build_filename ((char *)dir, "store.db", NULL);
  g_autoptr (GBytes) key = test_key (0x36);
  g_autoptr (BbStore) store = open_file (path, key);
  g_autofree char *current_sql = NULL;
  char *earlier_sql[G_N_ELEMENTS (replay->replays)];

  replay->save (store, 0);
  g_clear_object (&store);
  for (guint i = 0; i < G_N_ELEMENTS (replay->replays); i++)
    earlier_sql[i] = raw_restore_sql (path, replay->table, replay->where, replay->replays[i]);

  store = open_file (path, key);
  replay->save (store, 1);
  g_clear_object (&store);
  current_sql = raw_restore_sql (path, replay->table, replay->where, replay->replays[0]);

  for (guint i = 0; i < G_N_ELEMENTS (replay->replays); i++)
    {
      exec_raw (path, earlier_sql[i]);
      store = open_file (path, key);
      replay->assert_unreadable (store);
      g_clear_object (&store);

      /* The same columns from the latest save read again: the failure came from the
       * replay and nothing else. */
      exec_raw (path, current_sql);
      store = open_file (path, key);
      replay->assert_current (store);
      g_clear_object (&store);
      g_free (earlier_sql[i]);
    }
}

/* A sealed value moved to another row together with that row's MAC, or to another
 * column of its own row, still fails to read, in every table. */
static void
test_sealed_value_moved_with_row_mac (void)
{
  g_autoptr (TmpDir) dir = (TmpDir *)tmp_dir_new ();
  g_autofree char *path = g_build_filename ((char *)dir, "store.db", NULL);
  g_autoptr (GBytes) key = test_key (0x37);
  g_autoptr (GBytes) dek_a = bb_test_repeat (0xa1, 32);
  g_autoptr (GBytes) dek_b = bb_test_repeat (0xb1, 32);
  g_autoptr (GBytes) base = bytes_from_string ("REPLAY-base");
  g_autoptr (BbStore) store = open_file (path, key);
  g_autoptr (BbIdentityState) identity_a = make_identity (KEY_A, "REPLAY-token-a", 1, NULL);
  g_autoptr (BbIdentityState) identity_b = make_identity (KEY_B, "REPLAY-token-b", 1, NULL);
  g_autoptr (BbNamespaceState) ns_a = make_namespace (KEY_A, NS_A, 1, "", dek_a);
  g_autoptr (BbNamespaceState) ns_b = make_namespace (KEY_A, NS_B, 1, "", dek_b);
  g_autoptr (BbItemState) one = make_item (KEY_A, NS_A, "c", "one", "01");
  g_autoptr (BbItemState) two = make_item (KEY_A, NS_A, "c", "two", "02");
  g_autoptr (BbIdentityState) identity = NULL;
  g_autoptr (BbNamespaceState) ns = NULL;
  g_autoptr (BbItemState) item = NULL;
  g_autoptr (GError) error = NULL;

  bb_item_state_mark_clean (one, 1, base);
  bb_item_state_mark_clean (two, 1, base);
  g_assert_true (bb_store_save_identity (store, identity_a, &error));
  g_assert_true (bb_store_save_identity (store, identity_b, &error));
  g_assert_true (bb_store_save_namespace (store, ns_a, &error));
  g_assert_true (bb_store_save_namespace (store, ns_b, &error));
  g_assert_true (bb_store_save_item (store, one, &error));
  g_assert_true (bb_store_save_item (store, two, &error));
  g_assert_no_error (error);
  g_clear_object (&store);

  exec_raw (path, "UPDATE identity_states SET (access_token, row_mac) = (SELECT access_token, "
                  "row_mac FROM identity_states WHERE key_id = '" KEY_A "') "
                  "WHERE key_id = '" KEY_B "';"
                  "UPDATE namespaces SET (dek, row_mac) = (SELECT dek, row_mac FROM namespaces "
                  "WHERE namespace_id = '" NS_A "') WHERE namespace_id = '" NS_B "';"
                  "UPDATE items SET (base_value, row_mac) = (SELECT base_value, row_mac "
                  "FROM items WHERE item_id = '01') WHERE item_id = '02';"
                  "UPDATE items SET conflict_remote_value = base_value WHERE item_id = '01';");

  store = open_file (path, key);
  identity = bb_store_load_identity (store, KEY_B, &error);
  g_assert_null (identity);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE);
  g_assert_nonnull (strstr (error->message, KEY_B));
  g_assert_null (strstr (error->message, "REPLAY-"));
  g_clear_error (&error);
  ns = bb_store_get_namespace (store, KEY_A, NS_B, &error);
  g_assert_null (ns);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE);
  g_assert_nonnull (strstr (error->message, NS_B));
  g_clear_error (&error);
  for (guint i = 0; i < 2; i++)
    {
      item = bb_store_get_item_by_id (store, KEY_A, NS_A, i == 0 ? "01" : "02", &error);
      g_assert_null (item);
      g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE);
      g_assert_null (strstr (error->message, "REPLAY-"));
      g_clear_error (&error);
    }

  /* The rows the values were taken from are untouched. */
  identity = bb_store_load_identity (store, KEY_A, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_identity_state_get_access_token (identity), ==, "REPLAY-token-a");
  ns = bb_store_get_namespace (store, KEY_A, NS_A, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (bb_namespace_state_get_dek (ns), dek_a));
}

/* A trigger planted in the file cannot use the store's MAC function to vouch for a row
 * it rolls back when the store next writes it: the function is for the store's own
 * statements only, so the write fails and the row stays as it was. */
static void
test_planted_trigger_cannot_make_row_macs (void)
{
  g_autoptr (TmpDir) dir = (TmpDir *)tmp_dir_new ();
  g_autofree char *path = g_build_filename ((char *)dir, "store.db", NULL);
  g_autoptr (GBytes) key = test_key (0x3a);
  g_autoptr (BbStore) store = open_file (path, key);
  g_autoptr (BbItemState) item = make_item (KEY_A, NS_A, "notes", "alpha", "01");
  g_autoptr (BbItemState) loaded = NULL;
  g_autoptr (GBytes) base = bytes_from_string ("base");
  g_autoptr (GError) error = NULL;

  bb_item_state_mark_clean (item, 5, base);
  g_assert_true (bb_store_save_item (store, item, &error));
  g_assert_no_error (error);
  g_clear_object (&store);
  exec_raw (path, "CREATE TRIGGER roll_back AFTER UPDATE OF version ON items BEGIN "
                  "UPDATE items SET version = 1, row_mac = bb_row_mac('items', key_id, "
                  "namespace_id, collection_name, item_key, item_id, 1, base_version, "
                  "base_value, dirty, conflict, conflict_remote_version, "
                  "conflict_remote_value, updated_at) WHERE rowid = NEW.rowid; END;");

  store = open_file (path, key);
  bb_item_state_mark_clean (item, 6, base);
  g_assert_false (bb_store_save_item (store, item, &error));
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE);
  g_test_message ("%s", error->message);
  g_clear_error (&error);
  loaded = bb_store_get_item_by_id (store, KEY_A, NS_A, "01", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bb_item_state_get_version (loaded), ==, 5);
}

/* Forgetting secrets clears them from a row that was altered too, but does not give that
 * row a valid MAC: it keeps failing to read. reset_sync_state deletes such rows. */
static void
test_forget_secrets_of_altered_row (void)
{
  g_autoptr (TmpDir) dir = (TmpDir *)tmp_dir_new ();
  g_autofree char *path = g_build_filename ((char *)dir, "store.db", NULL);
  g_autoptr (GBytes) key = test_key (0x38);
  g_autoptr (GBytes) dek = bb_test_repeat (0xd5, 32);
  g_autoptr (BbStore) store = open_file (path, key);
  g_autoptr (BbIdentityState) identity = make_identity (KEY_A, "REPLAY-token", 1, NS_A);
  g_autoptr (BbNamespaceState) ns_a = make_namespace (KEY_A, NS_A, 3, "", dek);
  g_autoptr (BbNamespaceState) ns_b = make_namespace (KEY_A, NS_B, 4, "", dek);
  g_autoptr (BbNamespaceState) loaded = NULL;
  g_autoptr (GBytes) raw_dek = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (bb_store_save_identity (store, identity, &error));
  g_assert_true (bb_store_save_namespace (store, ns_a, &error));
  g_assert_true (bb_store_save_namespace (store, ns_b, &error));
  g_assert_no_error (error);
  g_clear_object (&store);
  exec_raw (path, "UPDATE namespaces SET namespace_head = 99 WHERE namespace_id = '" NS_A "';");

  store = open_file (path, key);
  g_assert_true (bb_store_forget_identity_secrets (store, KEY_A, &error));
  g_assert_no_error (error);
  raw_dek = raw_column (path, "SELECT quote(dek) FROM namespaces WHERE namespace_id = '" NS_A "'");
  g_assert_cmpmem (g_bytes_get_data (raw_dek, NULL), g_bytes_get_size (raw_dek), "NULL", 4);
  loaded = bb_store_get_namespace (store, KEY_A, NS_A, &error);
  g_assert_null (loaded);
  assert_row_mac_error (error, "namespaces", NS_A);
  g_clear_error (&error);

  /* The rows that were not altered are re-sealed with their secrets cleared. */
  loaded = bb_store_get_namespace (store, KEY_A, NS_B, &error);
  g_assert_no_error (error);
  g_assert_false (bb_namespace_state_has_dek (loaded));
  g_assert_cmpuint (bb_namespace_state_get_namespace_head (loaded), ==, 4);
  g_clear_object (&identity);
  identity = bb_store_load_identity (store, KEY_A, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_identity_state_get_access_token (identity), ==, "");

  g_assert_true (bb_store_reset_sync_state (store, KEY_A, &error));
  g_assert_no_error (error);
  list = bb_store_list_namespaces (store, KEY_A, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 0);
  g_clear_object (&identity);
  identity = bb_store_load_identity (store, KEY_A, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_identity_state_get_default_namespace_id (identity), ==, "");
}

static GBytes *
make_populated_store (const char *path, GBytes *key, guint n_items)
{
  g_autoptr (BbStore) store = open_file (path, key);
  g_autoptr (GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GBytes) base = bb_test_repeat ('v', 200);
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < n_items; i++)
    {
      g_autofree char *id = item_id_for (i);
      BbItemState *item = make_item (KEY_A, NS_A, "c", id, id);
      bb_item_state_mark_clean (item, i + 1, base);
      g_ptr_array_add (items, item);
    }
  g_assert_true (bb_store_save_batch (store, items, NULL, &error));
  g_assert_no_error (error);
  g_clear_object (&store);
  return read_file (path);
}

static void
assert_open_refused (const char *path, GBytes *key)
{
  g_autoptr (GBytes) before = read_file (path);
  g_autoptr (GBytes) after = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BbSqliteStore) store = bb_sqlite_store_new_sync (path, key, NULL, &error);

  g_assert_null (store);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE);
  g_test_message ("refused: %s", error->message);
  after = read_file (path);
  g_assert_true (g_bytes_equal (before, after));
}

static void
test_bad_truncated (void)
{
  g_autoptr (TmpDir) dir = (TmpDir *)tmp_dir_new ();
  g_autofree char *path = g_build_filename ((char *)dir, "store.db", NULL);
  g_autoptr (GBytes) key = test_key (0x21);
  g_autoptr (GBytes) full = make_populated_store (path, key, 500);
  gsize len = g_bytes_get_size (full);

  g_assert_cmpuint (len, >, 16384);
  /* Cut at a page boundary and in the middle of a page. */
  g_assert_true (
      g_file_set_contents (path, g_bytes_get_data (full, NULL), len / 2 - (len / 2) % 4096, NULL));
  assert_open_refused (path, key);
  g_assert_true (g_file_set_contents (path, g_bytes_get_data (full, NULL), len / 2 + 1000, NULL));
  assert_open_refused (path, key);
  g_assert_true (g_file_set_contents (path, g_bytes_get_data (full, NULL), 50, NULL));
  assert_open_refused (path, key);
}

static void
test_bad_garbage (void)
{
  g_autoptr (TmpDir) dir = (TmpDir *)tmp_dir_new ();
  g_autofree char *path = g_build_filename ((char *)dir, "store.db", NULL);
  g_autoptr (GBytes) key = test_key (0x21);
  g_autoptr (GBytes) garbage = bb_test_repeat (0xa5, 8192);
  g_autoptr (GBytes) full = make_populated_store (path, key, 200);
  GByteArray *corrupt;

  g_assert_true (g_file_set_contents (path, g_bytes_get_data (garbage, NULL), 8192, NULL));
  assert_open_refused (path, key);
  g_assert_true (g_file_set_contents (path, "not a database at all\n", -1, NULL));
  assert_open_refused (path, key);

  /* A sound header with damaged pages behind it. */
  corrupt = g_byte_array_new ();
  g_byte_array_append (corrupt, g_bytes_get_data (full, NULL), g_bytes_get_size (full));
  memset (corrupt->data + 4096, 0xa5, MIN (corrupt->len - 4096, 3 * 4096));
  g_assert_true (g_file_set_contents (path, (char *)corrupt->data, corrupt->len, NULL));
  g_byte_array_unref (corrupt);
  assert_open_refused (path, key);
}

static void
test_bad_newer_schema (void)
{
  g_autoptr (TmpDir) dir = (TmpDir *)tmp_dir_new ();
  g_autofree char *path = g_build_filename ((char *)dir, "store.db", NULL);
  g_autoptr (GBytes) key = test_key (0x21);

  g_bytes_unref (make_populated_store (path, key, 10));
  exec_raw (path, "PRAGMA user_version = 99");
  assert_open_refused (path, key);
}

/* A file of ours whose schema version was lost (a damaged header) looks like a
 * reference-client file. It must not be "migrated": that would seal the sealed
 * values again under a fresh key and replace the key check, losing the data. */
static void
test_bad_lost_schema_version (void)
{
  g_autoptr (TmpDir) dir = (TmpDir *)tmp_dir_new ();
  g_autofree char *path = g_build_filename ((char *)dir, "store.db", NULL);
  g_autoptr (GBytes) key = test_key (0x21);

  {
    g_autoptr (BbStore) store = open_file (path, key);
    g_autoptr (BbIdentityState) identity = make_identity (KEY_A, "kept-token", 0, NULL);
    g_autoptr (GError) error = NULL;
    g_assert_true (bb_store_save_identity (store, identity, &error));
    g_assert_no_error (error);
  }
  exec_raw (path, "PRAGMA user_version = 0");
  assert_open_refused (path, key);
}

static void
test_bad_foreign_database (void)
{
  g_autoptr (TmpDir) dir = (TmpDir *)tmp_dir_new ();
  g_autofree char *path = g_build_filename ((char *)dir, "other-app.db", NULL);
  g_autoptr (GBytes) key = test_key (0x21);

  exec_raw (path, "CREATE TABLE bookmarks (url TEXT); INSERT INTO bookmarks VALUES ('x');");
  assert_open_refused (path, key);
}

static void
test_bad_wrong_key (void)
{
  g_autoptr (TmpDir) dir = (TmpDir *)tmp_dir_new ();
  g_autofree char *path = g_build_filename ((char *)dir, "store.db", NULL);
  g_autoptr (GBytes) key = test_key (0x21);
  g_autoptr (GBytes) wrong = test_key (0x22);

  g_bytes_unref (make_populated_store (path, key, 10));
  assert_open_refused (path, wrong);
  /* An app-keyed store opened without the key does not fall back to the keyring. */
  assert_open_refused (path, NULL);
  /* The right key still works afterwards. */
  g_object_unref (open_file (path, key));
}

/* A damaged key check value is reported as damage, not as a wrong key (which would
 * send the user looking for another key), and a wrong key is not called damage. */
static void
test_bad_key_check (void)
{
  g_autoptr (TmpDir) dir = (TmpDir *)tmp_dir_new ();
  g_autofree char *path = g_build_filename ((char *)dir, "store.db", NULL);
  g_autoptr (GBytes) key = test_key (0x21);
  g_autoptr (GBytes) wrong = test_key (0x22);
  const char *damage[] = {
    "X'01'",
    "CAST('bbsync-store-key-check-v1' AS BLOB)",
    "X'02' || substr(value, 2)",
  };

  g_bytes_unref (make_populated_store (path, key, 3));
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (BbSqliteStore) store = bb_sqlite_store_new_sync (path, wrong, NULL, &error);
    g_assert_null (store);
    g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE);
    g_assert_nonnull (strstr (error->message, "wrong key"));
  }
  for (guint i = 0; i < G_N_ELEMENTS (damage); i++)
    {
      g_autofree char *sql = g_strdup_printf (
          "UPDATE bbsync_meta SET value = %s WHERE name = 'key_check'", damage[i]);
      g_autoptr (GError) error = NULL;
      g_autoptr (BbSqliteStore) store = NULL;

      exec_raw (path, sql);
      store = bb_sqlite_store_new_sync (path, key, NULL, &error);
      g_assert_null (store);
      g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE);
      g_test_message ("key_check %s: %s", damage[i], error->message);
      g_assert_nonnull (strstr (error->message, "corrupt"));
      g_assert_null (strstr (error->message, "wrong key"));
    }
}

static void
test_bad_arguments (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) short_key = bb_test_repeat (1, 16);
  g_autoptr (BbSqliteStore) store = NULL;

  store = bb_sqlite_store_new_sync ("", NULL, NULL, &error);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT);
  g_assert_null (store);
  g_clear_error (&error);
  store = bb_sqlite_store_new_sync (BB_SQLITE_STORE_IN_MEMORY, short_key, NULL, &error);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT);
  g_clear_error (&error);
  store = bb_sqlite_store_new_sync ("/nonexistent-dir-bbsync/x.db", short_key, NULL, &error);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT);
  g_clear_error (&error);
  {
    g_autoptr (GBytes) key = test_key (1);
    store = bb_sqlite_store_new_sync ("/nonexistent-dir-bbsync/x.db", key, NULL, &error);
    g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE);
  }
}

/* The tables of a file written by the Go reference client (storage/sqlite), version 0,
 * written out independently of the store's own schema code. */
#define GO_REFERENCE_SCHEMA \
  "CREATE TABLE identity_states (key_id TEXT PRIMARY KEY, kind TEXT NOT NULL," \
  " access_token TEXT NOT NULL DEFAULT '', token_expiry TIMESTAMP NULL," \
  " default_namespace_id TEXT NULL, updated_at TIMESTAMP NOT NULL);" \
  "CREATE TABLE namespaces (key_id TEXT NOT NULL, namespace_id TEXT NOT NULL," \
  " kind TEXT NOT NULL, namespace_head INTEGER NOT NULL DEFAULT 0," \
  " active_scope_hash TEXT NOT NULL DEFAULT '', dek BLOB NULL," \
  " updated_at TIMESTAMP NOT NULL, PRIMARY KEY (key_id, namespace_id));" \
  "CREATE TABLE items (key_id TEXT NOT NULL, namespace_id TEXT NOT NULL," \
  " collection_name TEXT NOT NULL, item_key TEXT NOT NULL, item_id TEXT NOT NULL," \
  " version INTEGER NOT NULL DEFAULT 0, base_version INTEGER NOT NULL DEFAULT 0," \
  " base_value BLOB NULL, dirty INTEGER NOT NULL DEFAULT 0," \
  " conflict INTEGER NOT NULL DEFAULT 0," \
  " conflict_remote_version INTEGER NOT NULL DEFAULT 0," \
  " conflict_remote_value BLOB NULL, updated_at TIMESTAMP NOT NULL," \
  " PRIMARY KEY (key_id, namespace_id, item_id));"

/* A file as the reference client writes it: schema version 0, plaintext secrets, text
 * timestamps. Opening it migrates it to version 1 and seals the secrets. */
static void
test_migrate_from_reference_file (void)
{
  g_autoptr (TmpDir) dir = (TmpDir *)tmp_dir_new ();
  g_autofree char *path = g_build_filename ((char *)dir, "go.db", NULL);
  g_autoptr (GBytes) key = test_key (0x44);
  g_autoptr (BbStore) store = NULL;
  g_autoptr (BbIdentityState) identity = NULL;
  g_autoptr (BbNamespaceState) ns = NULL;
  g_autoptr (BbItemState) item = NULL;
  g_autoptr (GBytes) raw = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GDateTime) expiry = g_date_time_new_utc (2030, 1, 2, 3, 4, 5.25);

  exec_raw (path,
            "PRAGMA journal_mode = WAL;"
            GO_REFERENCE_SCHEMA
            "INSERT INTO identity_states VALUES ('" KEY_A "', 'keystore', 'GO-PLAINTEXT-TOKEN',"
            " '2030-01-02 03:04:05.25+00:00', '" NS_A "', '2024-05-06 07:08:09.123456789+00:00');"
            "INSERT INTO identity_states VALUES ('" KEY_B "', 'keystore', '', NULL, NULL,"
            " '2024-05-06 07:08:09+02:00');"
            "INSERT INTO namespaces VALUES ('" KEY_A "', '" NS_A "', 'default', 12, 'h',"
            " X'00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff',"
            " '2024-05-06 07:08:10+00:00');"
            "INSERT INTO items VALUES ('" KEY_A "', '" NS_A "', 'notes', 'k', '01', 3, 3,"
            " CAST('GO-PLAINTEXT-BASE' AS BLOB), 1, 1, 4, CAST('GO-PLAINTEXT-REMOTE' AS BLOB),"
            " '2024-05-06 07:08:11.5+00:00');");

  store = open_file (path, key);
  identity = bb_store_load_identity (store, KEY_A, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_identity_state_get_access_token (identity), ==, "GO-PLAINTEXT-TOKEN");
  g_assert_cmpint (bb_identity_state_get_token_expiry (identity), ==,
                   g_date_time_to_unix (expiry) * G_USEC_PER_SEC + 250000);
  g_assert_cmpint (bb_identity_state_get_updated_at (identity) % G_USEC_PER_SEC, ==, 123456);
  g_clear_object (&identity);
  identity = bb_store_load_identity (store, KEY_B, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_identity_state_get_access_token (identity), ==, "");
  g_assert_cmpint (bb_identity_state_get_token_expiry (identity), ==, 0);

  ns = bb_store_get_namespace (store, KEY_A, NS_A, &error);
  g_assert_no_error (error);
  bb_test_assert_bytes_hex (bb_namespace_state_get_dek (ns),
                            "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
  g_assert_cmpuint (bb_namespace_state_get_namespace_head (ns), ==, 12);

  item = bb_store_get_item_by_id (store, KEY_A, NS_A, "01", &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (bb_item_state_get_base_value (item), NULL),
                   g_bytes_get_size (bb_item_state_get_base_value (item)), "GO-PLAINTEXT-BASE", 17);
  g_assert_cmpmem (g_bytes_get_data (bb_item_state_get_conflict_remote_value (item), NULL),
                   g_bytes_get_size (bb_item_state_get_conflict_remote_value (item)),
                   "GO-PLAINTEXT-REMOTE", 19);
  g_assert_true (bb_item_state_get_conflict (item));
  g_clear_object (&store);

  /* The old plaintext is gone from the file (secure_delete and a WAL checkpoint). */
  raw = read_file (path);
  g_assert_false (contains (raw, "GO-PLAINTEXT-TOKEN", 18));
  g_assert_false (contains (raw, "GO-PLAINTEXT-BASE", 17));
  g_assert_false (contains (raw, "GO-PLAINTEXT-REMOTE", 19));
}

/* The reference client's SQLite does not zero freed space (no secure_delete), so its
 * file can hold earlier tokens, DEKs and values in free pages and unused cell space
 * besides the live rows. Migrating must leave none of them behind. */
static void
test_migrate_erases_freed_plaintext (void)
{
  g_autoptr (TmpDir) dir = (TmpDir *)tmp_dir_new ();
  g_autofree char *path = g_build_filename ((char *)dir, "go.db", NULL);
  g_autoptr (GBytes) key = test_key (0x45);
  g_autoptr (BbStore) store = NULL;
  g_autoptr (BbIdentityState) identity = NULL;
  g_autoptr (GBytes) raw = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) sql = g_string_new (
      "PRAGMA secure_delete = OFF;"
      "PRAGMA journal_mode = WAL;"
      GO_REFERENCE_SCHEMA
      "INSERT INTO identity_states VALUES ('" KEY_A "', 'keystore', 'GO-OLD-TOKEN-1f2e3d',"
      " NULL, NULL, '2024-05-06 07:08:09+00:00');"
      "INSERT INTO identity_states VALUES ('" KEY_B "', 'keystore', '', NULL, NULL,"
      " '2024-05-06 07:08:09+00:00');");

  /* Items whose plaintext bases fill pages that are then freed. */
  for (guint i = 0; i < 40; i++)
    g_string_append_printf (sql,
                            "INSERT INTO items VALUES ('" KEY_A "', '" NS_A "', 'c', 'k%u',"
                            " '%02u', 1, 1, CAST('GO-DELETED-BASE-%02u-' || hex(zeroblob(200))"
                            " AS BLOB), 0, 0, 0, NULL, '2024-05-06 07:08:11+00:00');",
                            i, i, i);
  exec_raw (path, sql->str);
  /* Later sessions of the reference client replace the token and drop items. */
  exec_raw (path, "PRAGMA secure_delete = OFF;"
                  "UPDATE identity_states SET access_token = 'GO-LIVE-TOKEN-4c5b6a-longer'"
                  " WHERE key_id = '" KEY_A "';"
                  "DELETE FROM items WHERE item_id <> '07';"
                  "UPDATE items SET base_value = CAST('GO-LIVE-BASE' AS BLOB);");
  raw = read_file (path);
  /* The test is only meaningful if the reference file does hold the old plaintext. */
  g_assert_true (contains (raw, "GO-OLD-TOKEN-1f2e3d", 19));
  g_assert_true (contains (raw, "GO-DELETED-BASE-33-", 19));
  g_clear_pointer (&raw, g_bytes_unref);

  store = open_file (path, key);
  identity = bb_store_load_identity (store, KEY_A, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_identity_state_get_access_token (identity), ==,
                   "GO-LIVE-TOKEN-4c5b6a-longer");
  g_clear_object (&store);

  raw = read_file (path);
  g_assert_false (contains (raw, "GO-OLD-TOKEN", 12));
  g_assert_false (contains (raw, "GO-LIVE-TOKEN", 13));
  g_assert_false (contains (raw, "GO-DELETED-BASE", 15));
  g_assert_false (contains (raw, "GO-LIVE-BASE", 12));
}

/* ---- migration from schema version 1 ------------------------------------------------ */

#define V1_FIXTURE_KEY 0x5e

static gint64
raw_int (const char *path, const char *sql)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 value;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return value;
}

static char *
raw_text (const char *path, const char *sql)
{
  g_autoptr (GBytes) bytes = raw_column (path, sql);

  return g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

#define TABLES_SQL                                                                                 \
  "SELECT group_concat(sql, ';') FROM (SELECT sql FROM sqlite_master WHERE type = 'table' "        \
  "ORDER BY name)"

/* Rows of the current version that lack a 32-byte row MAC. */
#define ROWS_WITHOUT_MAC_SQL                                                                       \
  "SELECT (SELECT count(*) FROM identity_states WHERE length(row_mac) IS NOT 32)"                  \
  " + (SELECT count(*) FROM namespaces WHERE length(row_mac) IS NOT 32)"                           \
  " + (SELECT count(*) FROM items WHERE length(row_mac) IS NOT 32)"

static void
load_v1_fixture (const char *path)
{
  g_autofree char *fixture = g_test_build_filename (G_TEST_DIST, "data", "store-v1.sql", NULL);
  g_autofree char *sql = NULL;
  g_autoptr (GError) error = NULL;

  g_file_get_contents (fixture, &sql, NULL, &error);
  g_assert_no_error (error);
  exec_raw (path, sql);
  g_assert_cmpint (raw_int (path, "PRAGMA user_version"), ==, 1);
}

static void
assert_item (BbItemState *item, const char *id, const char *collection, const char *key,
             guint64 version, guint64 base_version, const char *base, gboolean dirty,
             gboolean conflict, guint64 remote_version, const char *remote, gint64 updated_at)
{
  g_assert_cmpstr (bb_item_state_get_item_id (item), ==, id);
  g_assert_cmpstr (bb_item_state_get_collection (item), ==, collection);
  g_assert_cmpstr (bb_item_state_get_key (item), ==, key);
  g_assert_cmpuint (bb_item_state_get_version (item), ==, version);
  g_assert_cmpuint (bb_item_state_get_base_version (item), ==, base_version);
  if (base == NULL)
    g_assert_null (bb_item_state_get_base_value (item));
  else
    g_assert_cmpmem (g_bytes_get_data (bb_item_state_get_base_value (item), NULL),
                     g_bytes_get_size (bb_item_state_get_base_value (item)), base, strlen (base));
  g_assert_cmpint (bb_item_state_get_dirty (item), ==, dirty);
  g_assert_cmpint (bb_item_state_get_conflict (item), ==, conflict);
  g_assert_cmpuint (bb_item_state_get_conflict_remote_version (item), ==, remote_version);
  if (remote == NULL)
    g_assert_null (bb_item_state_get_conflict_remote_value (item));
  else
    g_assert_cmpmem (g_bytes_get_data (bb_item_state_get_conflict_remote_value (item), NULL),
                     g_bytes_get_size (bb_item_state_get_conflict_remote_value (item)), remote,
                     strlen (remote));
  g_assert_cmpint (bb_item_state_get_updated_at (item), ==, updated_at);
}

/* Checks every record of tests/data/store-v1.sql (see tests/data/README.md). */
static void
assert_v1_fixture_records (BbStore *store)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BbIdentityState) a = bb_store_load_identity (store, KEY_A, &error);
  g_autoptr (BbIdentityState) b = NULL;
  g_autoptr (GPtrArray) namespaces = NULL;
  g_autoptr (GPtrArray) items = NULL;
  g_autoptr (GPtrArray) items_b = NULL;
  BbNamespaceState *ns;

  g_assert_no_error (error);
  g_assert_cmpstr (bb_identity_state_get_kind (a), ==, "keystore");
  g_assert_cmpstr (bb_identity_state_get_access_token (a), ==, "v1-fixture-token");
  g_assert_cmpint (bb_identity_state_get_token_expiry (a), ==, 1900000000000000);
  g_assert_cmpstr (bb_identity_state_get_default_namespace_id (a), ==, NS_A);
  g_assert_cmpint (bb_identity_state_get_updated_at (a), ==, 1700000000000001);
  b = bb_store_load_identity (store, KEY_B, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_identity_state_get_access_token (b), ==, "");
  g_assert_cmpint (bb_identity_state_get_token_expiry (b), ==, 0);
  g_assert_cmpstr (bb_identity_state_get_default_namespace_id (b), ==, "");
  g_assert_cmpint (bb_identity_state_get_updated_at (b), ==, 1700000000000002);

  namespaces = bb_store_list_namespaces (store, KEY_A, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (namespaces->len, ==, 2);
  ns = g_ptr_array_index (namespaces, 0);
  g_assert_cmpstr (bb_namespace_state_get_namespace_id (ns), ==, NS_A);
  g_assert_cmpstr (bb_namespace_state_get_kind (ns), ==, "default");
  g_assert_cmpuint (bb_namespace_state_get_namespace_head (ns), ==, 42);
  g_assert_cmpstr (bb_namespace_state_get_active_scope_hash (ns), ==, "scope-a");
  bb_test_assert_bytes_hex (bb_namespace_state_get_dek (ns),
                            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
  g_assert_cmpint (bb_namespace_state_get_updated_at (ns), ==, 1700000000000003);
  ns = g_ptr_array_index (namespaces, 1);
  g_assert_cmpstr (bb_namespace_state_get_namespace_id (ns), ==, NS_B);
  g_assert_cmpstr (bb_namespace_state_get_kind (ns), ==, "shared");
  g_assert_cmpuint (bb_namespace_state_get_namespace_head (ns), ==, 7);
  g_assert_false (bb_namespace_state_has_dek (ns));

  items = bb_store_list_namespace_items (store, KEY_A, NS_A, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (items->len, ==, 3);
  assert_item (g_ptr_array_index (items, 0), "01", "notes", "alpha", 5, 5, "v1-base-alpha", FALSE,
               FALSE, 0, NULL, 1700000000000005);
  assert_item (g_ptr_array_index (items, 1), "02", "notes", "beta", 4, 3, "v1-base-beta", TRUE,
               TRUE, 4, "v1-remote-beta", 1700000000000006);
  assert_item (g_ptr_array_index (items, 2), "03", "labels", "gamma", 0, 0, NULL, TRUE, FALSE, 0,
               NULL, 1700000000000007);
  items_b = bb_store_list_namespace_items (store, KEY_A, NS_B, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (items_b->len, ==, 1);
  assert_item (g_ptr_array_index (items_b, 0), "04", "labels", "delta", 9, 9, "", FALSE, FALSE, 0,
               NULL, 1700000000000008);
}

/* A file written by the previous release (schema version 1, checked in as SQL text) is
 * migrated in place when opened: every row gets its MAC, the version is raised, the
 * records read back unchanged, and the sealed values are kept as they were. */
static void
test_migrate_from_v1_fixture (void)
{
  g_autoptr (TmpDir) dir = (TmpDir *)tmp_dir_new ();
  g_autofree char *path = g_build_filename ((char *)dir, "v1.db", NULL);
  g_autoptr (GBytes) key = test_key (V1_FIXTURE_KEY);
  g_autoptr (GBytes) sealed_before = NULL;
  g_autoptr (GBytes) sealed_after = NULL;
  g_autoptr (BbStore) store = NULL;
  g_autoptr (GError) error = NULL;

  load_v1_fixture (path);
  sealed_before = raw_column (path, "SELECT base_value FROM items WHERE item_id = '02'");

  store = open_file (path, key);
  assert_v1_fixture_records (store);
  g_clear_object (&store);

  g_assert_cmpint (raw_int (path, "PRAGMA user_version"), ==, BB_SQLITE_STORE_SCHEMA_VERSION);
  g_assert_cmpint (raw_int (path, ROWS_WITHOUT_MAC_SQL), ==, 0);
  sealed_after = raw_column (path, "SELECT base_value FROM items WHERE item_id = '02'");
  g_assert_true (g_bytes_equal (sealed_before, sealed_after));

  /* Opening again does not migrate again, and the migrated rows are protected. */
  store = open_file (path, key);
  assert_v1_fixture_records (store);
  g_clear_object (&store);
  exec_raw (path, "UPDATE items SET version = 3 WHERE item_id = '02';");
  store = open_file (path, key);
  {
    g_autoptr (BbItemState) item = bb_store_get_item_by_id (store, KEY_A, NS_A, "02", &error);
    g_assert_null (item);
    assert_row_mac_error (error, "items", "02");
  }
}

/* The migration runs in one transaction: when a step fails half-way (here, a file whose
 * items table already has a row_mac column), the file is left as it was, at version 1,
 * and the open fails. */
static void
test_migrate_from_v1_all_or_nothing (void)
{
  g_autoptr (TmpDir) dir = (TmpDir *)tmp_dir_new ();
  g_autofree char *path = g_build_filename ((char *)dir, "v1.db", NULL);
  g_autoptr (GBytes) key = test_key (V1_FIXTURE_KEY);

  load_v1_fixture (path);
  exec_raw (path, "PRAGMA journal_mode = WAL; ALTER TABLE items ADD COLUMN row_mac BLOB;");
  assert_open_refused (path, key);
  g_assert_cmpint (raw_int (path, "PRAGMA user_version"), ==, 1);
  g_assert_cmpint (
      raw_int (path, "SELECT count(*) FROM pragma_table_info('namespaces') WHERE name = 'row_mac'"),
      ==, 0);
}

/* Turns a store of the current version into one of version 1, which differs only by the
 * row_mac column (the seals did not change). */
static void
downgrade_to_v1 (const char *path)
{
  exec_raw (path, "ALTER TABLE identity_states DROP COLUMN row_mac;"
                  "ALTER TABLE namespaces DROP COLUMN row_mac;"
                  "ALTER TABLE items DROP COLUMN row_mac;"
                  "PRAGMA user_version = 1;"
                  "VACUUM;");
}

static gint64
file_size (const char *path)
{
  GStatBuf st;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  return st.st_size;
}

/* 10 000 items migrated in one transaction; the time and size it costs are printed, not
 * asserted. A migration that fails half-way leaves the file at version 1. */
static void
test_migrate_from_v1_many_rows (void)
{
  const guint n_items = 10000;
  g_autoptr (TmpDir) dir = (TmpDir *)tmp_dir_new ();
  g_autofree char *path = g_build_filename ((char *)dir, "many.db", NULL);
  g_autofree char *fixture_path = g_build_filename ((char *)dir, "fixture.db", NULL);
  g_autofree char *tables_v1 = NULL;
  g_autofree char *tables_downgraded = NULL;
  g_autoptr (GBytes) key = test_key (0x39);
  g_autoptr (GBytes) base = bb_test_repeat ('v', 200);
  g_autoptr (BbStore) store = NULL;
  g_autoptr (GPtrArray) items = NULL;
  g_autoptr (GError) error = NULL;
  gint64 size_v1, size_v2, start, migrate_usec, open_usec;

  g_bytes_unref (make_populated_store (path, key, n_items));
  downgrade_to_v1 (path);
  /* The downgraded tables are exactly those of the previous release's file. */
  load_v1_fixture (fixture_path);
  tables_v1 = raw_text (fixture_path, TABLES_SQL);
  tables_downgraded = raw_text (path, TABLES_SQL);
  g_assert_cmpstr (tables_downgraded, ==, tables_v1);
  size_v1 = file_size (path);

  start = g_get_monotonic_time ();
  store = open_file (path, key);
  migrate_usec = g_get_monotonic_time () - start;
  items = bb_store_list_namespace_items (store, KEY_A, NS_A, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (items->len, ==, n_items);
  for (guint i = 0; i < n_items; i++)
    {
      BbItemState *item = g_ptr_array_index (items, i);
      g_autofree char *id = item_id_for (i);

      g_assert_cmpstr (bb_item_state_get_item_id (item), ==, id);
      g_assert_cmpuint (bb_item_state_get_version (item), ==, i + 1);
      g_assert_true (g_bytes_equal (bb_item_state_get_base_value (item), base));
    }
  g_clear_object (&store);
  g_assert_cmpint (raw_int (path, "PRAGMA user_version"), ==, BB_SQLITE_STORE_SCHEMA_VERSION);
  g_assert_cmpint (raw_int (path, ROWS_WITHOUT_MAC_SQL), ==, 0);

  start = g_get_monotonic_time ();
  store = open_file (path, key);
  open_usec = g_get_monotonic_time () - start;
  g_clear_object (&store);
  exec_raw (path, "VACUUM;");
  size_v2 = file_size (path);
  g_test_message ("migrating %u items to schema version %d: open took %.1f ms (%.1f ms without "
                  "migration); file %" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT
                  " bytes after VACUUM, %.1f bytes per row",
                  n_items, BB_SQLITE_STORE_SCHEMA_VERSION, migrate_usec / 1000.0,
                  open_usec / 1000.0, size_v1, size_v2, (double)(size_v2 - size_v1) / n_items);
}

/* ---- keyring ---------------------------------------------------------------------- */

static const SecretSchema *
key_schema (void)
{
  static const SecretSchema schema = {
    "org.bbsync.StoreKey",
    SECRET_SCHEMA_NONE,
    {
        { "store-id", SECRET_SCHEMA_ATTRIBUTE_STRING },
        { NULL, 0 },
    },
    0,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
  };
  return &schema;
}

static gboolean
have_keyring (void)
{
  if (g_getenv ("DBUS_SESSION_BUS_ADDRESS") == NULL)
    {
      g_test_skip ("no session bus (run through tests/keyring-session.sh)");
      return FALSE;
    }
  return TRUE;
}

static void
test_keyring_key (void)
{
  g_autoptr (TmpDir) dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *moved = NULL;
  g_autofree char *store_id = NULL;
  g_autofree char *secret = NULL;
  g_autoptr (BbStore) store = NULL;
  g_autoptr (BbIdentityState) identity = make_identity (KEY_A, "keyring-token", 0, NULL);
  g_autoptr (BbIdentityState) loaded = NULL;
  g_autoptr (GError) error = NULL;

  if (!have_keyring ())
    return;
  dir = (TmpDir *)tmp_dir_new ();
  path = g_build_filename ((char *)dir, "store.db", NULL);
  moved = g_build_filename ((char *)dir, "moved.db", NULL);

  /* First open creates the key in the keyring. */
  store = open_file (path, NULL);
  store_id = g_strdup (bb_sqlite_store_get_store_id (BB_SQLITE_STORE (store)));
  g_assert_cmpuint (strlen (store_id), ==, 32);
  secret = secret_password_lookup_sync (key_schema (), NULL, &error, "store-id", store_id, NULL);
  g_assert_no_error (error);
  g_assert_nonnull (secret);
  g_assert_cmpuint (strlen (secret), ==, 64);
  g_assert_true (bb_store_save_identity (store, identity, &error));
  g_clear_object (&store);

  /* Reopen finds it, also after the file was moved. */
  g_assert_cmpint (g_rename (path, moved), ==, 0);
  store = open_file (moved, NULL);
  g_assert_cmpstr (bb_sqlite_store_get_store_id (BB_SQLITE_STORE (store)), ==, store_id);
  loaded = bb_store_load_identity (store, KEY_A, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_identity_state_get_access_token (loaded), ==, "keyring-token");
  g_clear_object (&store);

  /* Another store file gets another key. */
  {
    g_autofree char *other_path = g_build_filename ((char *)dir, "other.db", NULL);
    g_autoptr (BbStore) other = open_file (other_path, NULL);
    g_autofree char *other_secret = secret_password_lookup_sync (
        key_schema (), NULL, &error, "store-id",
        bb_sqlite_store_get_store_id (BB_SQLITE_STORE (other)), NULL);
    g_assert_nonnull (other_secret);
    g_assert_cmpstr (other_secret, !=, secret);
  }

  /* Without its key (a copy on another machine), the store does not open. */
  g_assert_true (
      secret_password_clear_sync (key_schema (), NULL, &error, "store-id", store_id, NULL));
  assert_open_refused (moved, NULL);
}

static void
opened_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;
  *out = g_object_ref (result);
}

static void
test_keyring_async (void)
{
  g_autoptr (TmpDir) dir = NULL;
  g_autofree char *path = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (BbSqliteStore) store = NULL;
  g_autoptr (BbSqliteStore) again = NULL;
  g_autoptr (GError) error = NULL;

  if (!have_keyring ())
    return;
  dir = (TmpDir *)tmp_dir_new ();
  path = g_build_filename ((char *)dir, "async.db", NULL);

  bb_sqlite_store_new_async (path, NULL, NULL, opened_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  store = bb_sqlite_store_new_finish (result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (store);
  g_clear_object (&result);
  g_clear_object (&store);

  bb_sqlite_store_new_async (path, NULL, NULL, opened_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  again = bb_sqlite_store_new_finish (result, &error);
  g_assert_no_error (error);
  g_assert_nonnull (again);
  g_clear_object (&result);

  /* An error arrives through the async path too. */
  {
    g_autoptr (GBytes) wrong = test_key (9);
    g_autoptr (BbSqliteStore) refused = NULL;
    g_clear_object (&again);
    bb_sqlite_store_new_async (path, wrong, NULL, opened_cb, &result);
    while (result == NULL)
      g_main_context_iteration (NULL, TRUE);
    refused = bb_sqlite_store_new_finish (result, &error);
    g_assert_null (refused);
    g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE);
  }
}

/* The store ID read from the file goes to the keyring as an attribute: a damaged one
 * is a store error, and never reaches libsecret (which would g_critical on bad
 * UTF-8) or finds another store's key. */
static void
test_keyring_bad_store_id (void)
{
  g_autoptr (TmpDir) dir = NULL;
  g_autofree char *path = NULL;
  const char *bad_ids[] = { "X'ff'", "X'61006200'", "'not-hex-but-long-enough-0123456789'", "''" };

  if (!have_keyring ())
    return;
  dir = (TmpDir *)tmp_dir_new ();
  path = g_build_filename ((char *)dir, "store.db", NULL);
  g_object_unref (open_file (path, NULL));

  for (guint i = 0; i < G_N_ELEMENTS (bad_ids); i++)
    {
      g_autofree char *sql = g_strdup_printf (
          "UPDATE bbsync_meta SET value = %s WHERE name = 'store_id'", bad_ids[i]);
      g_autoptr (GError) error = NULL;
      g_autoptr (BbSqliteStore) store = NULL;

      exec_raw (path, sql);
      store = bb_sqlite_store_new_sync (path, NULL, NULL, &error);
      g_assert_null (store);
      g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE);
      g_assert_nonnull (strstr (error->message, path));
      g_test_message ("store_id %s: %s", bad_ids[i], error->message);
    }
}

/* The password keyring-session.sh unlocks the login keyring with. */
#define KEYRING_PASSWORD "bbsync-test-password"

static char *
lock_default_keyring (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SecretService) service
      = secret_service_get_sync (SECRET_SERVICE_LOAD_COLLECTIONS, NULL, &error);
  g_autoptr (SecretCollection) collection = NULL;
  char *collection_path;
  GList *objects;

  g_assert_no_error (error);
  collection = secret_collection_for_alias_sync (service, SECRET_COLLECTION_DEFAULT,
                                                 SECRET_COLLECTION_NONE, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (collection);
  collection_path = g_strdup (g_dbus_proxy_get_object_path (G_DBUS_PROXY (collection)));
  objects = g_list_append (NULL, collection);
  secret_service_lock_sync (service, objects, NULL, NULL, &error);
  g_list_free (objects);
  g_assert_no_error (error);
  g_assert_true (secret_collection_get_locked (collection));
  /* Cached proxies would not see the unlock that follows in time. */
  g_clear_object (&collection);
  g_clear_object (&service);
  secret_service_disconnect ();
  return collection_path;
}

/* Unlocking through the Secret Service API needs a prompt no one answers in a test;
 * gnome-keyring's own interface takes the password directly. */
static void
unlock_keyring (const char *collection_path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_autoptr (GVariant) opened = NULL;
  g_autoptr (GVariant) reply = NULL;
  const char *session = NULL;

  g_assert_no_error (error);
  opened = g_dbus_connection_call_sync (
      bus, "org.freedesktop.secrets", "/org/freedesktop/secrets", "org.freedesktop.Secret.Service",
      "OpenSession", g_variant_new ("(sv)", "plain", g_variant_new_string ("")),
      G_VARIANT_TYPE ("(vo)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
  g_variant_get (opened, "(v&o)", NULL, &session);
  reply = g_dbus_connection_call_sync (
      bus, "org.freedesktop.secrets", "/org/freedesktop/secrets",
      "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface", "UnlockWithMasterPassword",
      g_variant_new ("(o(oay@ays))", collection_path, session, NULL,
                     g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, KEYRING_PASSWORD,
                                                strlen (KEYRING_PASSWORD), 1),
                     "text/plain"),
      NULL, G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
  secret_service_disconnect ();
}

/* A locked keyring is a keyring error (not a "this file is not yours" store error),
 * leaves the file as it was, and never makes a new file's key replace anything. */
static void
test_keyring_locked (void)
{
  g_autoptr (TmpDir) dir = NULL;
  g_autofree char *path = NULL;
  g_autofree char *new_path = NULL;
  g_autofree char *collection_path = NULL;
  g_autoptr (GBytes) before = NULL;
  g_autoptr (GBytes) after = NULL;
  g_autoptr (BbSqliteStore) store = NULL;
  g_autoptr (BbStore) reopened = NULL;
  g_autoptr (BbIdentityState) identity = make_identity (KEY_A, "locked-token", 0, NULL);
  g_autoptr (BbIdentityState) loaded = NULL;
  g_autoptr (GError) error = NULL;

  if (!have_keyring ())
    return;
  dir = (TmpDir *)tmp_dir_new ();
  path = g_build_filename ((char *)dir, "store.db", NULL);
  new_path = g_build_filename ((char *)dir, "new.db", NULL);
  {
    g_autoptr (BbStore) first = open_file (path, NULL);
    g_assert_true (bb_store_save_identity (first, identity, &error));
    g_assert_no_error (error);
  }
  before = read_file (path);

  collection_path = lock_default_keyring ();
  store = bb_sqlite_store_new_sync (path, NULL, NULL, &error);
  g_assert_null (store);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_KEYRING);
  g_test_message ("locked, existing file: %s", error->message);
  g_assert_nonnull (strstr (error->message, path));
  g_clear_error (&error);
  after = read_file (path);
  g_assert_true (g_bytes_equal (before, after));

  /* A new file cannot get a key while the keyring is locked. */
  store = bb_sqlite_store_new_sync (new_path, NULL, NULL, &error);
  g_assert_null (store);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_KEYRING);
  g_test_message ("locked, new file: %s", error->message);
  g_clear_error (&error);

  unlock_keyring (collection_path);
  reopened = open_file (path, NULL);
  loaded = bb_store_load_identity (reopened, KEY_A, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_identity_state_get_access_token (loaded), ==, "locked-token");
}

/* No Secret Service at all: a keyring error naming the file. */
static void
test_keyring_missing (void)
{
  g_autoptr (TmpDir) dir = (TmpDir *)tmp_dir_new ();
  g_autofree char *path = g_build_filename ((char *)dir, "store.db", NULL);
  g_autoptr (BbSqliteStore) store = NULL;
  g_autoptr (GError) error = NULL;

  if (g_test_subprocess ())
    {
      /* A file made by a keyring-keyed store, then no session bus at all. */
      g_setenv ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bbsync-no-bus", TRUE);
      store = bb_sqlite_store_new_sync (path, NULL, NULL, &error);
      g_assert_null (store);
      g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_KEYRING);
      g_assert_nonnull (strstr (error->message, path));
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/store/records/identity", test_records_identity);
  g_test_add_func ("/store/records/namespace", test_records_namespace);
  g_test_add_func ("/store/records/item-transitions", test_records_item_transitions);
  g_test_add_func ("/store/records/item-notify", test_records_item_notify);
  g_test_add_func ("/store/memory-isolated", test_memory_isolated);
  g_test_add_func ("/store/identity-roundtrip", test_identity_roundtrip);
  g_test_add_func ("/store/namespace-roundtrip-and-order", test_namespace_roundtrip_and_order);
  g_test_add_func ("/store/item-roundtrip", test_item_roundtrip);
  g_test_add_func ("/store/item-lists-and-order", test_item_lists_and_order);
  g_test_add_func ("/store/unique-logical-key", test_unique_logical_key);
  g_test_add_func ("/store/batch", test_batch);
  g_test_add_func ("/store/batch-all-or-nothing", test_batch_all_or_nothing);
  g_test_add_func ("/store/forget-identity-secrets", test_forget_identity_secrets);
  g_test_add_func ("/store/file/forget-identity-secrets", test_forget_identity_secrets_on_disk);
  g_test_add_func ("/store/reset-sync-state", test_reset_sync_state);
  g_test_add_func ("/store/reset-missing-identity", test_reset_missing_identity);
  g_test_add_func ("/store/close", test_close);
  g_test_add_func ("/store/threads", test_threads);
  g_test_add_func ("/store/interface-defaults", test_interface_defaults);
  g_test_add_func ("/store/file/reopen-and-mode", test_file_reopen_and_mode);
  g_test_add_func ("/store/file/at-rest", test_at_rest);
  g_test_add_func ("/store/file/sealed-value-bound-to-row", test_sealed_value_bound_to_row);
  g_test_add_func ("/store/file/sealed-value-bound-to-logical-key",
                   test_sealed_value_bound_to_logical_key);
  g_test_add_data_func ("/store/file/replayed-item-columns", &replay_item, test_replayed_columns);
  g_test_add_data_func ("/store/file/replayed-namespace-columns", &replay_namespace,
                        test_replayed_columns);
  g_test_add_data_func ("/store/file/replayed-identity-columns", &replay_identity,
                        test_replayed_columns);
  g_test_add_func ("/store/file/sealed-value-moved-with-row-mac",
                   test_sealed_value_moved_with_row_mac);
  g_test_add_func ("/store/file/forget-secrets-of-altered-row", test_forget_secrets_of_altered_row);
  g_test_add_func ("/store/file/planted-trigger-cannot-make-row-macs",
                   test_planted_trigger_cannot_make_row_macs);
  g_test_add_func ("/store/file/bad-truncated", test_bad_truncated);
  g_test_add_func ("/store/file/bad-garbage", test_bad_garbage);
  g_test_add_func ("/store/file/bad-newer-schema", test_bad_newer_schema);
  g_test_add_func ("/store/file/bad-wrong-key", test_bad_wrong_key);
  g_test_add_func ("/store/file/bad-key-check", test_bad_key_check);
  g_test_add_func ("/store/file/bad-lost-schema-version", test_bad_lost_schema_version);
  g_test_add_func ("/store/file/bad-foreign-database", test_bad_foreign_database);
  g_test_add_func ("/store/file/bad-arguments", test_bad_arguments);
  g_test_add_func ("/store/file/migrate-from-reference", test_migrate_from_reference_file);
  g_test_add_func ("/store/file/migrate-erases-freed-plaintext",
                   test_migrate_erases_freed_plaintext);
  g_test_add_func ("/store/file/migrate-from-v1-fixture", test_migrate_from_v1_fixture);
  g_test_add_func ("/store/file/migrate-from-v1-many-rows", test_migrate_from_v1_many_rows);
  g_test_add_func ("/store/file/migrate-from-v1-all-or-nothing",
                   test_migrate_from_v1_all_or_nothing);
  g_test_add_func ("/store/keyring/create-and-find", test_keyring_key);
  g_test_add_func ("/store/keyring/async", test_keyring_async);
  g_test_add_func ("/store/keyring/locked", test_keyring_locked);
  g_test_add_func ("/store/keyring/missing", test_keyring_missing);
  g_test_add_func ("/store/keyring/bad-store-id", test_keyring_bad_store_id);

  return g_test_run ();
}
