/* test-engine-crash.c: a device killed with SIGKILL in the middle of sync passes loses
 * nothing that was acknowledged, and its next pass repairs the rest.
 *
 * The test runs the bbsync-server program, then re-executes itself as a child
 * (`--child URL STORE ROUND`) that, over and over, writes new values for every key and
 * syncs them from a sealed SQLite file; the parent kills it after a random delay, round
 * after round. After every kill the store must open; at the end the same device writes
 * final values and syncs once more (PREFER_LOCAL as its merge policy, since a write whose
 * acknowledgement was lost comes back as a remote change of its own), with no error and
 * nothing left dirty, and a second device must receive exactly the final values.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <signal.h>
#include <sys/prctl.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "bbsync.h"
#include "bb-test-utils.h"

#define N_KEYS 300
#define N_ROUNDS 12
#define LABEL "crash-device"

typedef struct
{
  BbClient *client;
  BbStore *store;
  BbSyncEngine *engine;
  BbValueBackend *backend;
  BbCollection *collection;
} Device;

static char *
key_name (guint i)
{
  return g_strdup_printf ("k%03u", i);
}

static void
fill_round (BbValueBackend *backend, const char *tag)
{
  for (guint i = 0; i < N_KEYS; i++)
    {
      g_autofree char *key = key_name (i);
      g_autofree char *value = g_strdup_printf ("%s, key %u", tag, i);

      g_assert_true (bb_value_backend_set_value (backend, key, g_variant_new_string (value), NULL));
    }
}

static void
device_open (Device *dev, const char *url, const char *path, GError **error)
{
  g_autoptr (BbTestIdentity) identity = bb_test_identity_new (LABEL);
  g_autoptr (GBytes) key = bb_test_repeat (0x5a, 32);
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (BbNamespace) ns = NULL;
  g_autoptr (BbCodec) codec = bb_codec_new_string ();
  g_autoptr (GPtrArray) scope = g_ptr_array_new_with_free_func (g_free);

  dev->client = bb_client_new (url, error);
  g_assert_no_error (*error);
  dev->store = BB_STORE (bb_sqlite_store_new_sync (path, key, NULL, error));
  g_assert_no_error (*error);
  dev->engine = bb_sync_engine_new (dev->client, BB_IDENTITY (identity), dev->store, error);
  g_assert_no_error (*error);
  BB_TEST_AWAIT (
      res, bb_sync_engine_default_namespace_async (dev->engine, NULL, bb_test_got_result, &res));
  ns = bb_sync_engine_default_namespace_finish (dev->engine, res, error);
  g_assert_no_error (*error);
  dev->backend = bb_memory_value_backend_new ();
  for (guint i = 0; i < N_KEYS; i++)
    g_ptr_array_add (scope, key_name (i));
  g_ptr_array_add (scope, NULL);
  bb_memory_value_backend_set_scope (BB_MEMORY_VALUE_BACKEND (dev->backend),
                                     (const char *const *)scope->pdata);
  dev->collection = bb_namespace_open_collection (ns, "labels", codec, dev->backend, error);
  g_assert_no_error (*error);
  bb_collection_set_merge_policy (dev->collection, BB_MERGE_POLICY_PREFER_LOCAL);
}

static gboolean
device_sync (Device *dev, GError **error)
{
  g_autoptr (GAsyncResult) res = NULL;

  BB_TEST_AWAIT (res, bb_sync_engine_sync_async (dev->engine, NULL, bb_test_got_result, &res));
  return bb_sync_engine_sync_finish (dev->engine, res, error);
}

static void
device_clear (Device *dev)
{
  bb_sync_engine_close (dev->engine);
  g_clear_object (&dev->collection);
  g_clear_object (&dev->engine);
  g_clear_object (&dev->backend);
  g_clear_object (&dev->store);
  g_clear_object (&dev->client);
}

static int
child_main (const char *url, const char *path, guint round)
{
  Device dev = { 0 };
  g_autoptr (GError) error = NULL;

  device_open (&dev, url, path, &error);
  /* Until killed: new values, one pass, again. */
  for (guint pass = 0;; pass++)
    {
      g_autofree char *tag = g_strdup_printf ("round %u pass %u", round, pass);

      fill_round (dev.backend, tag);
      if (!device_sync (&dev, &error))
        {
          g_printerr ("child round %u pass %u: %s\n", round, pass, error->message);
          return 1;
        }
    }
}

/* The server and the children die with the test, even when an assertion aborts it (an
 * orphan would keep meson's output pipe open until the suite's timeout). */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

static GSubprocess *
spawn (GSubprocessFlags flags, GError **error, const char *const *argv)
{
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (flags);

  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  return g_subprocess_launcher_spawnv (launcher, argv, error);
}

static GSubprocess *
start_server (char **out_url)
{
  g_autoptr (GError) error = NULL;
  const char *program = g_getenv ("BBSYNC_SERVER");
  GSubprocess *server;
  g_autoptr (GDataInputStream) out = NULL;
  g_autofree char *line = NULL;

  if (program == NULL)
    program = BBSYNC_SERVER_PATH;
  server = spawn (
      G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error,
      (const char *const[]){ program, "--listen", "127.0.0.1:0", "--database", ":memory:", NULL });
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server));
  line = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  *out_url = g_strdup (strrchr (line, ' ') + 1);
  g_assert_true (g_str_has_prefix (*out_url, "http://127.0.0.1:"));
  return server;
}

static void
test_engine_crash (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *self_exe = g_file_read_link ("/proc/self/exe", &error);
  g_autofree char *dir = g_dir_make_tmp ("bbsync-engine-crash-XXXXXX", &error);
  g_autofree char *path = NULL;
  g_autofree char *url = NULL;
  g_autoptr (GSubprocess) server = NULL;
  g_autofree char *other_path = NULL;
  Device dev = { 0 }, other = { 0 };

  g_assert_no_error (error);
  path = g_build_filename (dir, "device.sqlite", NULL);
  server = start_server (&url);

  for (guint round = 0; round < N_ROUNDS; round++)
    {
      g_autofree char *round_text = g_strdup_printf ("%u", round);
      g_autoptr (GSubprocess) child = NULL;
      g_autoptr (BbSqliteStore) store = NULL;
      g_autoptr (GBytes) key = bb_test_repeat (0x5a, 32);
      guint delay_ms = (guint)g_test_rand_int_range (50, 600);

      child = spawn (G_SUBPROCESS_FLAGS_NONE, &error,
                     (const char *const[]){ self_exe, "--child", url, path, round_text, NULL });
      g_assert_no_error (error);
      g_usleep (delay_ms * 1000);
      g_subprocess_send_signal (child, SIGKILL);
      g_subprocess_wait (child, NULL, &error);
      g_assert_no_error (error);
      /* Killed, not ended by an error of its own. */
      g_assert_true (g_subprocess_get_if_signaled (child));
      g_test_message ("round %u: killed after %u ms", round, delay_ms);

      /* Whatever the moment of the kill, the file opens. */
      store = bb_sqlite_store_new_sync (path, key, NULL, &error);
      g_assert_no_error (error);
    }
  /* The same device with its final values: one pass repairs and uploads everything. */
  device_open (&dev, url, path, &error);
  fill_round (dev.backend, "final");
  g_assert_true (device_sync (&dev, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (bb_sync_engine_get_conflicts (dev.engine)), ==, 0);
  {
    g_autoptr (GPtrArray) dirty
        = bb_store_list_dirty_items (dev.store, bb_sync_engine_get_key_id (dev.engine), &error);

    g_assert_no_error (error);
    g_assert_cmpuint (dirty->len, ==, 0);
  }

  /* A second device receives exactly the last round. */
  other_path = g_build_filename (dir, "other.sqlite", NULL);
  device_open (&other, url, other_path, &error);
  g_assert_true (device_sync (&other, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < N_KEYS; i++)
    {
      g_autofree char *key = key_name (i);
      g_autofree char *expected = g_strdup_printf ("final, key %u", i);
      g_autoptr (GVariant) value = bb_value_backend_get_value (other.backend, key, &error);

      g_assert_no_error (error);
      g_assert_nonnull (value);
      g_assert_cmpstr (g_variant_get_string (value, NULL), ==, expected);
    }

  device_clear (&dev);
  device_clear (&other);
  g_subprocess_send_signal (server, SIGTERM);
  g_subprocess_wait (server, NULL, NULL);
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
  if (argc == 5 && strcmp (argv[1], "--child") == 0)
    return child_main (argv[2], argv[3], (guint)g_ascii_strtoull (argv[4], NULL, 10));

  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/crash/sigkill-during-passes", test_engine_crash);
  return g_test_run ();
}
