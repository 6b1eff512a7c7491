/* test-engine.c: BbSyncEngine end to end against the reference server (BbServer) in this
 * process on loopback: two devices of one identity and a third identity, real SQLite
 * stores, memory value backends.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <bbsync/bbsync.h>
#include <string.h>

#include "bb-server.h"
#include "bb-sync-engine-private.h"
#include "bb-test-utils.h"

typedef struct
{
  BbServer *server;
} Env;

typedef struct
{
  BbClient *client;
  BbStore *store;
  BbSyncEngine *engine;
  BbValueBackend *labels;
  BbValueBackend *notes;
  BbCollection *labels_c;
  BbCollection *notes_c;
  GPtrArray *events;
} Device;

static Env *
env_new (void)
{
  Env *env = g_new0 (Env, 1);
  g_autoptr (GError) error = NULL;

  env->server = bb_server_new (":memory:", &error);
  g_assert_no_error (error);
  bb_server_listen (env->server, "127.0.0.1", 0, &error);
  g_assert_no_error (error);
  return env;
}

static void
env_free (Env *env)
{
  bb_server_shutdown (env->server);
  g_clear_object (&env->server);
  g_free (env);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
on_item_event (BbSyncEngine *engine, const char *ns, const char *collection, const char *key,
               const char *item_id, gpointer user_data)
{
  Device *dev = user_data;
  GSignalInvocationHint *hint = g_signal_get_invocation_hint (engine);

  g_ptr_array_add (dev->events,
                   g_strdup_printf ("%s:%s/%s", g_signal_name (hint->signal_id), collection, key));
}

static void
on_simple_event (BbSyncEngine *engine, gpointer user_data)
{
  Device *dev = user_data;
  GSignalInvocationHint *hint = g_signal_get_invocation_hint (engine);

  g_ptr_array_add (dev->events, g_strdup (g_signal_name (hint->signal_id)));
}

static void
on_failed (BbSyncEngine *engine, GError *error, gpointer user_data)
{
  Device *dev = user_data;

  g_ptr_array_add (dev->events, g_strdup_printf ("sync-failed:%s", error->message));
}

static BbStore *
memory_store (void)
{
  g_autoptr (GBytes) key = bb_test_repeat (0x42, 32);
  g_autoptr (GError) error = NULL;
  BbSqliteStore *store = bb_sqlite_store_new_sync (BB_SQLITE_STORE_IN_MEMORY, key, NULL, &error);

  g_assert_no_error (error);
  return BB_STORE (store);
}

static Device *
device_new (Env *env, const char *label)
{
  Device *dev = g_new0 (Device, 1);
  g_autoptr (BbTestIdentity) identity = bb_test_identity_new (label);
  g_autoptr (GError) error = NULL;
  const char *item_signals[]
      = { "item-changed", "item-downloaded", "item-uploaded", "item-queued", "conflict-detected" };

  dev->client = bb_client_new (bb_server_get_base_url (env->server), &error);
  g_assert_no_error (error);
  dev->store = memory_store ();
  dev->engine = bb_sync_engine_new (dev->client, BB_IDENTITY (identity), dev->store, &error);
  g_assert_no_error (error);
  dev->labels = bb_memory_value_backend_new ();
  dev->notes = bb_memory_value_backend_new ();
  dev->events = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < G_N_ELEMENTS (item_signals); i++)
    g_signal_connect (dev->engine, item_signals[i], G_CALLBACK (on_item_event), dev);
  g_signal_connect (dev->engine, "sync-started", G_CALLBACK (on_simple_event), dev);
  g_signal_connect (dev->engine, "sync-finished", G_CALLBACK (on_simple_event), dev);
  g_signal_connect (dev->engine, "sync-failed", G_CALLBACK (on_failed), dev);
  return dev;
}

static void
device_free (Device *dev)
{
  bb_sync_engine_close (dev->engine);
  g_clear_object (&dev->labels_c);
  g_clear_object (&dev->notes_c);
  g_clear_object (&dev->engine);
  g_clear_object (&dev->labels);
  g_clear_object (&dev->notes);
  g_clear_object (&dev->store);
  g_clear_object (&dev->client);
  g_ptr_array_unref (dev->events);
  g_free (dev);
}

static BbNamespace *
device_default_namespace (Device *dev)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  BbNamespace *ns;

  BB_TEST_AWAIT (
      res, bb_sync_engine_default_namespace_async (dev->engine, NULL, bb_test_got_result, &res));
  ns = bb_sync_engine_default_namespace_finish (dev->engine, res, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ns);
  return ns;
}

static void
device_open (Device *dev)
{
  g_autoptr (BbNamespace) ns = device_default_namespace (dev);
  g_autoptr (BbCodec) string_codec = bb_codec_new_string ();
  g_autoptr (BbCodec) json_codec = bb_codec_new_json (G_VARIANT_TYPE ("a{sv}"));
  g_autoptr (GError) error = NULL;

  dev->labels_c
      = bb_namespace_open_collection (ns, "account-labels", string_codec, dev->labels, &error);
  g_assert_no_error (error);
  dev->notes_c = bb_namespace_open_collection (ns, "tx-notes", json_codec, dev->notes, &error);
  g_assert_no_error (error);
}

static gboolean
device_sync (Device *dev, GError **error)
{
  g_autoptr (GAsyncResult) res = NULL;

  BB_TEST_AWAIT (res, bb_sync_engine_sync_async (dev->engine, NULL, bb_test_got_result, &res));
  return bb_sync_engine_sync_finish (dev->engine, res, error);
}

static void
device_sync_ok (Device *dev)
{
  g_autoptr (GError) error = NULL;

  g_ptr_array_set_size (dev->events, 0);
  g_assert_true (device_sync (dev, &error));
  g_assert_no_error (error);
}

static void
set_label (Device *dev, const char *key, const char *value)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (
      bb_value_backend_set_value (dev->labels, key, g_variant_new_string (value), &error));
  g_assert_no_error (error);
}

static char *
get_label (Device *dev, const char *key)
{
  g_autoptr (GVariant) v = bb_value_backend_get_value (dev->labels, key, NULL);

  return v != NULL ? g_variant_dup_string (v, NULL) : NULL;
}

static gboolean
has_event (Device *dev, const char *event)
{
  for (guint i = 0; i < dev->events->len; i++)
    if (strcmp (g_ptr_array_index (dev->events, i), event) == 0)
      return TRUE;
  return FALSE;
}

static void
dump_events (Device *dev)
{
  for (guint i = 0; i < dev->events->len; i++)
    g_test_message ("event %u: %s", i, (char *)g_ptr_array_index (dev->events, i));
}

/* Two devices of one identity: a label written on one appears on the other, and back. */
static void
test_two_devices_converge (void)
{
  Env *env = env_new ();
  Device *a = device_new (env, "alice");
  Device *b = device_new (env, "alice");
  g_autofree char *got = NULL;

  device_open (a);
  set_label (a, "acct:primary", "Savings");
  device_sync_ok (a);
  dump_events (a);
  g_assert_true (has_event (a, "item-queued:account-labels/acct:primary"));
  g_assert_true (has_event (a, "item-uploaded:account-labels/acct:primary"));
  g_assert_cmpstr (g_ptr_array_index (a->events, a->events->len - 1), ==, "sync-finished");

  device_open (b);
  bb_memory_value_backend_set_scope (BB_MEMORY_VALUE_BACKEND (b->labels),
                                     (const char *const[]){ "acct:primary", NULL });
  device_sync_ok (b);
  dump_events (b);
  got = get_label (b, "acct:primary");
  g_assert_cmpstr (got, ==, "Savings");
  g_assert_true (has_event (b, "item-changed:account-labels/acct:primary"));
  g_assert_true (has_event (b, "item-downloaded:account-labels/acct:primary"));

  /* And back: b edits, a receives. */
  set_label (b, "acct:primary", "Cold storage");
  device_sync_ok (b);
  g_assert_true (has_event (b, "item-uploaded:account-labels/acct:primary"));
  device_sync_ok (a);
  g_free (got);
  got = get_label (a, "acct:primary");
  g_assert_cmpstr (got, ==, "Cold storage");

  /* A pass with nothing changed uploads and downloads nothing. */
  device_sync_ok (a);
  g_assert_cmpuint (a->events->len, ==, 2);

  device_free (a);
  device_free (b);
  env_free (env);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/engine/two-devices-converge", test_two_devices_converge);

  return g_test_run ();
}
