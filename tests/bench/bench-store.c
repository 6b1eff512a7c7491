/* bench-store.c: BbSqliteStore with 10,000 item records
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Prints, side by side: saving 10,000 item records in one batch (one transaction),
 * loading them back, listing the dirty ones among them, and the same 10,000 saves one
 * transaction each (the reference client's pattern). The stores are files in a
 * temporary directory (WAL, default synchronous mode), sealed with an app-supplied key.
 * Figures only: nothing here asserts on time.
 */

#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>

#include "bbsync.h"

#define N_ITEMS 10000
#define DIRTY_EVERY 10
#define KEY_ID "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0"
#define NS_ID "0123456789abcdef0123456789abcdef"

static GPtrArray *
make_items (void)
{
  GPtrArray *items = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < N_ITEMS; i++)
    {
      g_autofree char *key = g_strdup_printf ("tx:%08u", i);
      g_autofree char *id = g_strdup_printf ("%064x", i);
      g_autofree char *value
          = g_strdup_printf ("{\"note\":\"payment %u for the flat\",\"tags\":[\"rent\"]}", i);
      g_autoptr (GBytes) base = g_bytes_new (value, strlen (value));
      BbItemState *item = bb_item_state_new (KEY_ID, NS_ID, "tx-notes", key, id);

      bb_item_state_mark_clean (item, i + 1, base);
      if (i % DIRTY_EVERY == 0)
        bb_item_state_mark_dirty (item);
      g_ptr_array_add (items, item);
    }
  return items;
}

static BbStore *
open_store (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr (GBytes) key = g_bytes_new ("0123456789abcdef0123456789abcdef", 32);
  g_autoptr (GError) error = NULL;
  BbSqliteStore *store = bb_sqlite_store_new_sync (path, key, NULL, &error);

  if (store == NULL)
    g_error ("open %s: %s", path, error->message);
  return BB_STORE (store);
}

static double
ms_since (gint64 start)
{
  return (double)(g_get_monotonic_time () - start) / 1000.0;
}

static void
row (const char *what, guint n, double ms)
{
  printf ("  %-44s %8.1f ms  %10.0f records/s\n", what, ms, n / (ms / 1000.0));
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("bbsync-bench-store-XXXXXX", &error);
  g_autoptr (GPtrArray) items = make_items ();
  g_autoptr (BbStore) batched = NULL;
  g_autoptr (BbStore) single = NULL;
  g_autoptr (GPtrArray) loaded = NULL;
  g_autoptr (GPtrArray) dirty = NULL;
  gint64 start;
  double ms;

  g_assert_no_error (error);
  printf ("bbsync store benchmark: %u item records, %u dirty (sealed values, WAL file)\n", N_ITEMS,
          N_ITEMS / DIRTY_EVERY);

  batched = open_store (dir, "batched.db");
  start = g_get_monotonic_time ();
  if (!bb_store_save_batch (batched, items, NULL, &error))
    g_error ("save_batch: %s", error->message);
  ms = ms_since (start);
  row ("save 10,000 items in one batch", N_ITEMS, ms);

  start = g_get_monotonic_time ();
  loaded = bb_store_list_namespace_items (batched, KEY_ID, NS_ID, &error);
  ms = ms_since (start);
  g_assert_no_error (error);
  g_assert_cmpuint (loaded->len, ==, N_ITEMS);
  row ("load them back (list_namespace_items)", N_ITEMS, ms);

  start = g_get_monotonic_time ();
  dirty = bb_store_list_dirty_items (batched, KEY_ID, &error);
  ms = ms_since (start);
  g_assert_no_error (error);
  g_assert_cmpuint (dirty->len, ==, N_ITEMS / DIRTY_EVERY);
  row ("list the dirty ones (list_dirty_items)", dirty->len, ms);

  start = g_get_monotonic_time ();
  for (guint i = 0; i < N_ITEMS; i++)
    {
      BbItemState *item = items->pdata[i];
      g_autoptr (BbItemState) one = bb_store_get_item_by_id (
          batched, KEY_ID, NS_ID, bb_item_state_get_item_id (item), &error);
      g_assert_no_error (error);
      g_assert_nonnull (one);
    }
  ms = ms_since (start);
  row ("get each by item ID (10,000 look-ups)", N_ITEMS, ms);

  single = open_store (dir, "single.db");
  start = g_get_monotonic_time ();
  for (guint i = 0; i < N_ITEMS; i++)
    if (!bb_store_save_item (single, items->pdata[i], &error))
      g_error ("save_item: %s", error->message);
  ms = ms_since (start);
  row ("save 10,000 items, one transaction each", N_ITEMS, ms);

  g_clear_object (&batched);
  g_clear_object (&single);
  {
    GDir *d = g_dir_open (dir, 0, NULL);
    const char *name;
    while ((name = g_dir_read_name (d)) != NULL)
      {
        g_autofree char *path = g_build_filename (dir, name, NULL);
        g_unlink (path);
      }
    g_dir_close (d);
    g_rmdir (dir);
  }
  return 0;
}
