/* test-store-crash.c: BbSqliteStore survives SIGKILL in the middle of batched saves
 *
 * The test re-executes itself as a child (`--child PATH`) that saves batches of items
 * forever; the parent kills it with SIGKILL after a random delay, 50 times, and after
 * every kill reopens the store and checks that each batch is all there or not at all.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "bbsync.h"
#include "bb-test-utils.h"

#define KEY_ID "c0ffee"
#define NS_ID "00112233445566778899aabbccddeeff"
#define BATCH_SIZE 40
#define N_KILLS 50
#define ROUNDS_PER_FILE 10
#define COUNTER_KEY "counter"

static GBytes *
store_key (void)
{
  return bb_test_repeat (0x6b, BB_SQLITE_STORE_KEY_SIZE);
}

/* Batch tags live in the logical key ("b<batch>-<i>") and in the sealed base value. */
static gboolean
parse_tag (const char *key, guint64 *batch)
{
  char *end = NULL;

  if (key[0] != 'b')
    return FALSE;
  *batch = g_ascii_strtoull (key + 1, &end, 10);
  return end != NULL && *end == '-';
}

/* Returns the number of complete batches and asserts every batch is complete. */
static guint64
check_store (BbStore *store)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) items = bb_store_list_namespace_items (store, KEY_ID, NS_ID, &error);
  g_autoptr (GHashTable) counts = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr (GArray) keys = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (BbNamespaceState) ns = NULL;
  g_autoptr (BbItemState) counter = NULL;
  guint64 n_batches;

  g_assert_no_error (error);
  for (guint i = 0; i < items->len; i++)
    {
      BbItemState *item = items->pdata[i];
      g_autofree char *expected = NULL;
      GBytes *base = bb_item_state_get_base_value (item);
      guint64 batch = 0;
      gint64 *slot;

      if (g_str_equal (bb_item_state_get_key (item), COUNTER_KEY))
        continue;
      g_assert_true (parse_tag (bb_item_state_get_key (item), &batch));
      expected = g_strdup_printf ("batch=%" G_GUINT64_FORMAT, batch);
      g_assert_cmpmem (g_bytes_get_data (base, NULL), g_bytes_get_size (base), expected,
                       strlen (expected));
      g_assert_cmpuint (bb_item_state_get_version (item), ==, batch + 1);
      slot = g_hash_table_lookup (counts, &(gint64){ (gint64)batch });
      if (slot == NULL)
        {
          gint64 *k = g_new (gint64, 2);
          k[0] = (gint64)batch;
          k[1] = 0;
          g_hash_table_insert (counts, k, k);
          g_array_append_val (keys, k[0]);
          slot = k;
        }
      slot[1]++;
    }

  /* Each batch present is complete, and batches are committed in order. */
  n_batches = keys->len;
  for (guint i = 0; i < keys->len; i++)
    {
      gint64 batch = g_array_index (keys, gint64, i);
      gint64 *slot = g_hash_table_lookup (counts, &batch);

      g_assert_cmpint (slot[1], ==, BATCH_SIZE);
      g_assert_cmpint (batch, <, (gint64)n_batches);
      g_free (slot);
    }

  /* The namespace checkpoint and the counter item were saved in the same batches. */
  ns = bb_store_get_namespace (store, KEY_ID, NS_ID, &error);
  if (n_batches == 0)
    {
      g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_NOT_FOUND);
      return 0;
    }
  g_assert_no_error (error);
  g_assert_cmpuint (bb_namespace_state_get_namespace_head (ns), ==, n_batches);
  counter = bb_store_get_item_by_logical_key (store, KEY_ID, NS_ID, "c", COUNTER_KEY, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bb_item_state_get_version (counter), ==, n_batches);
  return n_batches;
}

static int
child_main (const char *path)
{
  g_autoptr (GBytes) key = store_key ();
  g_autoptr (GError) error = NULL;
  g_autoptr (BbSqliteStore) store = bb_sqlite_store_new_sync (path, key, NULL, &error);
  g_autoptr (GPtrArray) existing = NULL;
  guint64 batch;

  if (store == NULL)
    {
      g_printerr ("child: %s\n", error->message);
      return 1;
    }
  existing = bb_store_list_namespaces (BB_STORE (store), KEY_ID, &error);
  batch = existing->len > 0 ? bb_namespace_state_get_namespace_head (existing->pdata[0]) : 0;

  for (;; batch++)
    {
      g_autoptr (GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);
      g_autoptr (GPtrArray) namespaces = g_ptr_array_new_with_free_func (g_object_unref);
      g_autofree char *tag = g_strdup_printf ("batch=%" G_GUINT64_FORMAT, batch);
      g_autoptr (GBytes) base = g_bytes_new (tag, strlen (tag));
      BbNamespaceState *ns = bb_namespace_state_new (KEY_ID, NS_ID);
      BbItemState *counter = bb_item_state_new (KEY_ID, NS_ID, "c", COUNTER_KEY, "ff");

      for (guint i = 0; i < BATCH_SIZE; i++)
        {
          g_autofree char *item_key = g_strdup_printf ("b%" G_GUINT64_FORMAT "-%u", batch, i);
          g_autofree char *item_id = g_strdup_printf ("%032" G_GINT64_MODIFIER "x%032x", batch, i);
          BbItemState *item = bb_item_state_new (KEY_ID, NS_ID, "c", item_key, item_id);

          bb_item_state_mark_clean (item, batch + 1, base);
          g_ptr_array_add (items, item);
        }
      bb_item_state_mark_clean (counter, batch + 1, base);
      g_ptr_array_add (items, counter);
      bb_namespace_state_set_namespace_head (ns, batch + 1);
      g_ptr_array_add (namespaces, ns);
      if (!bb_store_save_batch (BB_STORE (store), items, namespaces, &error))
        {
          g_printerr ("child: %s\n", error->message);
          return 1;
        }
    }
  return 0;
}

static void
test_crash_kill (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *self_exe = g_file_read_link ("/proc/self/exe", &error);
  g_autofree char *dir = g_dir_make_tmp ("bbsync-crash-XXXXXX", &error);
  g_autoptr (GBytes) key = store_key ();
  guint64 last = 0;
  guint progressed = 0;

  g_assert_no_error (error);
  for (guint round = 0; round < N_KILLS; round++)
    {
      g_autoptr (GSubprocess) child = NULL;
      g_autoptr (BbSqliteStore) store = NULL;
      guint delay_ms = (guint)g_test_rand_int_range (5, 150);
      /* A fresh file every ROUNDS_PER_FILE kills keeps the checks quick. */
      g_autofree char *name = g_strdup_printf ("crash-%u.db", round / ROUNDS_PER_FILE);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      guint64 now;

      if (round % ROUNDS_PER_FILE == 0)
        last = 0;

      child = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, self_exe, "--child", path, NULL);
      g_assert_no_error (error);
      g_usleep (delay_ms * 1000);
      g_subprocess_send_signal (child, SIGKILL);
      g_subprocess_wait (child, NULL, &error);
      g_assert_no_error (error);
      /* It was killed, not exited on an error of its own. */
      g_assert_true (g_subprocess_get_if_signaled (child));

      store = bb_sqlite_store_new_sync (path, key, NULL, &error);
      g_assert_no_error (error);
      now = check_store (BB_STORE (store));
      g_assert_cmpuint (now, >=, last);
      if (now > last)
        progressed++;
      g_test_message ("round %u: killed after %u ms, %" G_GUINT64_FORMAT " batches", round,
                      delay_ms, now);
      last = now;
    }
  /* The kills must have landed while batches were being written, not only before. */
  g_assert_cmpuint (progressed, >, N_KILLS / 2);

  {
    GDir *d = g_dir_open (dir, 0, NULL);
    const char *file;

    while ((file = g_dir_read_name (d)) != NULL)
      {
        g_autofree char *full = g_build_filename (dir, file, NULL);
        g_unlink (full);
      }
    g_dir_close (d);
    g_rmdir (dir);
  }
}

int
main (int argc, char **argv)
{
  if (argc == 3 && strcmp (argv[1], "--child") == 0)
    return child_main (argv[2]);

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/store/crash/sigkill-during-batches", test_crash_kill);
  return g_test_run ();
}
