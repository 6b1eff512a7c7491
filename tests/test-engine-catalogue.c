/* test-engine-catalogue.c: the engine's test catalogue (two devices converging, spec
 * §9.5-§9.7 and the conflict, merge, rollback, close and relogin paths) end to end against the reference server
 * (BbServer) in this process on loopback. Two devices of one identity are two engines
 * with the same BbTestIdentity label, each with its own in-memory store and backends.
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
  /* merge handler bookkeeping */
  guint merges;
  gboolean last_base_null;
  GVariant *last_base;
  /* a one-shot hook run from namespace-changed */
  void (*hook) (gpointer data);
  gpointer hook_data;
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

static void
on_unknown (BbSyncEngine *engine, const char *ns, const char *item_id, gpointer user_data)
{
  Device *dev = user_data;

  g_ptr_array_add (dev->events, g_strdup_printf ("unknown-remote-item:%s", item_id));
}

static void
on_auth (BbSyncEngine *engine, GDateTime *expires, gpointer user_data)
{
  on_simple_event (engine, user_data);
}

static void
on_namespace_changed (BbSyncEngine *engine, const char *ns, gpointer user_data)
{
  Device *dev = user_data;
  void (*hook) (gpointer) = dev->hook;

  g_ptr_array_add (dev->events, g_strdup ("namespace-changed"));
  dev->hook = NULL;
  if (hook != NULL)
    hook (dev->hook_data);
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
  g_signal_connect (dev->engine, "unknown-remote-item", G_CALLBACK (on_unknown), dev);
  g_signal_connect (dev->engine, "namespace-changed", G_CALLBACK (on_namespace_changed), dev);
  g_signal_connect (dev->engine, "auth-session-ready", G_CALLBACK (on_auth), dev);
  g_signal_connect (dev->engine, "auth-login-required", G_CALLBACK (on_auth), dev);
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
  g_clear_pointer (&dev->last_base, g_variant_unref);
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

static guint
count_events (Device *dev, const char *event)
{
  guint n = 0;

  for (guint i = 0; i < dev->events->len; i++)
    if (strcmp (g_ptr_array_index (dev->events, i), event) == 0)
      n++;
  return n;
}

static void
dump_events (Device *dev)
{
  for (guint i = 0; i < dev->events->len; i++)
    g_test_message ("event %u: %s", i, (char *)g_ptr_array_index (dev->events, i));
}

static void
assert_label (Device *dev, const char *key, const char *expected)
{
  g_autofree char *got = get_label (dev, key);

  g_assert_cmpstr (got, ==, expected);
}

static BbItemState *
get_item (Device *dev, BbCollection *c, const char *key)
{
  g_autoptr (GError) error = NULL;
  BbItemState *item
      = bb_store_get_item_by_logical_key (dev->store, bb_sync_engine_get_key_id (dev->engine),
                                          bb_namespace_get_id (bb_collection_get_namespace (c)),
                                          bb_collection_get_name (c), key, &error);

  g_assert_no_error (error);
  g_assert_nonnull (item);
  return item;
}

static guint
n_conflicts (Device *dev)
{
  return g_list_model_get_n_items (bb_sync_engine_get_conflicts (dev->engine));
}

static void
on_conflict_detail (BbSyncEngine *engine, const char *ns, const char *collection, const char *key,
                    const char *item_id, gpointer user_data)
{
  (*(guint *)user_data)++;
}

/* --- 1. conflicts with the default policy (NoMerge) --- */

/* A and B both clean at "base"; A uploads "a-edit" (v2), B edited "b-edit" and syncs:
 * a conflict on B. */
static void
conflict_setup (Env *env, Device **out_a, Device **out_b)
{
  Device *a = device_new (env, "alice");
  Device *b = device_new (env, "alice");
  g_autoptr (BbConflict) conflict = NULL;
  g_autoptr (BbItemState) item = NULL;
  guint detailed = 0, other = 0;
  GListModel *conflicts;

  device_open (a);
  device_open (b);
  set_label (a, "k", "base");
  device_sync_ok (a);
  bb_memory_value_backend_set_scope (BB_MEMORY_VALUE_BACKEND (b->labels),
                                     (const char *const[]){ "k", NULL });
  device_sync_ok (b);
  assert_label (b, "k", "base");

  set_label (a, "k", "a-edit");
  device_sync_ok (a);
  g_assert_true (has_event (a, "item-uploaded:account-labels/k"));

  g_signal_connect (b->engine, "conflict-detected::account-labels", G_CALLBACK (on_conflict_detail),
                    &detailed);
  g_signal_connect (b->engine, "conflict-detected::tx-notes", G_CALLBACK (on_conflict_detail),
                    &other);
  set_label (b, "k", "b-edit");
  device_sync_ok (b);
  dump_events (b);
  g_assert_cmpuint (detailed, ==, 1);
  g_assert_cmpuint (other, ==, 0);
  g_assert_true (has_event (b, "conflict-detected:account-labels/k"));
  g_assert_false (has_event (b, "item-uploaded:account-labels/k"));
  g_assert_false (has_event (b, "item-changed:account-labels/k"));
  assert_label (b, "k", "b-edit");

  conflicts = bb_sync_engine_get_conflicts (b->engine);
  g_assert_cmpuint (g_list_model_get_n_items (conflicts), ==, 1);
  conflict = g_list_model_get_item (conflicts, 0);
  g_assert_cmpstr (bb_conflict_get_key (conflict), ==, "k");
  g_assert_cmpstr (bb_conflict_get_collection (conflict), ==, "account-labels");
  g_assert_cmpstr (g_variant_get_string (bb_conflict_get_local_value (conflict), NULL), ==,
                   "b-edit");
  g_assert_cmpstr (g_variant_get_string (bb_conflict_get_remote_value (conflict), NULL), ==,
                   "a-edit");
  g_assert_cmpuint (bb_conflict_get_remote_version (conflict), ==, 2);

  /* Spec §3.4: MarkConflict advances Version, keeps the original base. */
  item = get_item (b, b->labels_c, "k");
  g_assert_true (bb_item_state_get_conflict (item));
  g_assert_true (bb_item_state_get_dirty (item));
  g_assert_cmpuint (bb_item_state_get_version (item), ==, 2);
  g_assert_cmpuint (bb_item_state_get_base_version (item), ==, 1);

  /* Not uploaded: A still sees nothing new, another B pass keeps the conflict. */
  device_sync_ok (a);
  g_assert_false (has_event (a, "item-changed:account-labels/k"));
  assert_label (a, "k", "a-edit");
  device_sync_ok (b);
  g_assert_false (has_event (b, "item-uploaded:account-labels/k"));
  g_assert_cmpuint (n_conflicts (b), ==, 1);

  g_signal_handlers_disconnect_by_func (b->engine, on_conflict_detail, &detailed);
  g_signal_handlers_disconnect_by_func (b->engine, on_conflict_detail, &other);
  *out_a = a;
  *out_b = b;
}

static void
resolve (Device *dev, BbConflictResolution how, GVariant *value)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (bb_collection_resolve_conflict (dev->labels_c, "k", how, value, &error));
  g_assert_no_error (error);
  /* The conflicts model follows at once, before any pass. */
  g_assert_cmpuint (n_conflicts (dev), ==, 0);
  {
    g_autoptr (BbItemState) item = get_item (dev, dev->labels_c, "k");

    g_assert_false (bb_item_state_get_conflict (item));
  }
}

static void
test_conflict_prefer_local (void)
{
  Env *env = env_new ();
  Device *a, *b;

  conflict_setup (env, &a, &b);
  resolve (b, BB_CONFLICT_RESOLUTION_PREFER_LOCAL, NULL);
  device_sync_ok (b);
  dump_events (b);
  g_assert_true (has_event (b, "item-uploaded:account-labels/k"));
  g_assert_cmpuint (n_conflicts (b), ==, 0);
  assert_label (b, "k", "b-edit");
  device_sync_ok (a);
  g_assert_true (has_event (a, "item-changed:account-labels/k"));
  assert_label (a, "k", "b-edit");
  {
    g_autoptr (BbItemState) item = get_item (b, b->labels_c, "k");

    g_assert_false (bb_item_state_get_dirty (item));
    g_assert_cmpuint (bb_item_state_get_version (item), ==, 3);
  }

  device_free (a);
  device_free (b);
  env_free (env);
}

static void
test_conflict_prefer_remote (void)
{
  Env *env = env_new ();
  Device *a, *b;

  conflict_setup (env, &a, &b);
  resolve (b, BB_CONFLICT_RESOLUTION_PREFER_REMOTE, NULL);
  assert_label (b, "k", "a-edit");
  device_sync_ok (b);
  dump_events (b);
  g_assert_false (has_event (b, "item-uploaded:account-labels/k"));
  g_assert_cmpuint (n_conflicts (b), ==, 0);
  {
    g_autoptr (BbItemState) item = get_item (b, b->labels_c, "k");

    g_assert_false (bb_item_state_get_dirty (item));
    g_assert_false (bb_item_state_get_conflict (item));
    g_assert_cmpuint (bb_item_state_get_version (item), ==, 2);
  }
  /* Nothing was uploaded: the server version stays 2, A gets no change. */
  device_sync_ok (a);
  g_assert_false (has_event (a, "item-changed:account-labels/k"));
  assert_label (a, "k", "a-edit");

  device_free (a);
  device_free (b);
  env_free (env);
}

static void
test_conflict_value (void)
{
  Env *env = env_new ();
  Device *a, *b;

  conflict_setup (env, &a, &b);
  resolve (b, BB_CONFLICT_RESOLUTION_VALUE, g_variant_new_string ("merged"));
  assert_label (b, "k", "merged");
  device_sync_ok (b);
  g_assert_true (has_event (b, "item-uploaded:account-labels/k"));
  g_assert_cmpuint (n_conflicts (b), ==, 0);
  device_sync_ok (a);
  assert_label (a, "k", "merged");
  assert_label (b, "k", "merged");

  device_free (a);
  device_free (b);
  env_free (env);
}

/* --- 2. the merge signal --- */

static GVariant *
union_merge (BbCollection *c, const char *key, GVariant *base, GVariant *local, GVariant *remote,
             gpointer user_data)
{
  Device *dev = user_data;
  GVariantDict dict;
  GVariantIter iter;
  const char *k;
  GVariant *v;

  dev->merges++;
  g_test_message ("merge %u on %p: base %s local %s remote %s", dev->merges, dev,
                  base ? g_variant_print (base, FALSE) : "NULL", g_variant_print (local, FALSE),
                  g_variant_print (remote, FALSE));
  dev->last_base_null = base == NULL;
  g_clear_pointer (&dev->last_base, g_variant_unref);
  if (base != NULL)
    dev->last_base = g_variant_ref (base);
  g_variant_dict_init (&dict, remote);
  g_variant_iter_init (&iter, local);
  while (g_variant_iter_next (&iter, "{&sv}", &k, &v))
    {
      g_variant_dict_insert_value (&dict, k, v);
      g_variant_unref (v);
    }
  return g_variant_dict_end (&dict);
}

static void
set_note (Device *dev, const char *key, const char *const *fields)
{
  g_autoptr (GError) error = NULL;
  GVariantDict dict;

  g_variant_dict_init (&dict, NULL);
  for (guint i = 0; fields[i] != NULL; i++)
    g_variant_dict_insert (&dict, fields[i], "s", fields[i]);
  g_assert_true (bb_value_backend_set_value (dev->notes, key, g_variant_dict_end (&dict), &error));
  g_assert_no_error (error);
}

static void
assert_note (Device *dev, const char *key, const char *const *fields)
{
  g_autoptr (GVariant) v = bb_value_backend_get_value (dev->notes, key, NULL);

  g_assert_nonnull (v);
  g_assert_cmpuint (g_variant_n_children (v), ==, g_strv_length ((char **)fields));
  for (guint i = 0; fields[i] != NULL; i++)
    {
      g_autoptr (GVariant) f = g_variant_lookup_value (v, fields[i], NULL);

      g_assert_nonnull (f);
    }
}

static void
test_merge_signal (void)
{
  Env *env = env_new ();
  Device *a = device_new (env, "alice");
  Device *b = device_new (env, "alice");
  const char *ab[] = { "a", "b", NULL };
  const char *abcd[] = { "a", "b", "c", "d", NULL };

  device_open (a);
  device_open (b);
  g_signal_connect (a->notes_c, "merge", G_CALLBACK (union_merge), a);
  g_signal_connect (b->notes_c, "merge", G_CALLBACK (union_merge), b);

  /* Concurrent create: no merge base. */
  set_note (a, "n", (const char *const[]){ "a", NULL });
  set_note (b, "n", (const char *const[]){ "b", NULL });
  device_sync_ok (a);
  g_assert_cmpuint (a->merges, ==, 0);
  device_sync_ok (b);
  dump_events (b);
  g_assert_cmpuint (b->merges, ==, 1);
  g_assert_true (b->last_base_null);
  g_assert_true (has_event (b, "item-changed:tx-notes/n"));
  g_assert_false (has_event (b, "item-downloaded:tx-notes/n"));
  g_assert_true (has_event (b, "item-uploaded:tx-notes/n"));
  g_assert_cmpuint (n_conflicts (b), ==, 0);
  assert_note (b, "n", ab);
  device_sync_ok (a);
  assert_note (a, "n", ab);

  /* A later concurrent edit: the base is the last clean value {a, b}. */
  set_note (a, "n", (const char *const[]){ "a", "b", "c", NULL });
  set_note (b, "n", (const char *const[]){ "a", "b", "d", NULL });
  device_sync_ok (a);
  device_sync_ok (b);
  dump_events (b);
  g_assert_cmpuint (b->merges, ==, 2);
  g_assert_false (b->last_base_null);
  g_assert_nonnull (b->last_base);
  g_assert_cmpuint (g_variant_n_children (b->last_base), ==, 2);
  g_assert_true (g_variant_lookup (b->last_base, "a", "&s", NULL));
  g_assert_true (g_variant_lookup (b->last_base, "b", "&s", NULL));
  g_assert_true (has_event (b, "item-changed:tx-notes/n"));
  g_assert_true (has_event (b, "item-uploaded:tx-notes/n"));
  assert_note (b, "n", abcd);
  device_sync_ok (a);
  assert_note (a, "n", abcd);
  {
    g_autoptr (BbItemState) ia = get_item (a, a->notes_c, "n");
    g_autoptr (BbItemState) ib = get_item (b, b->notes_c, "n");

    g_assert_cmpuint (bb_item_state_get_version (ia), ==, 4);
    g_assert_cmpuint (bb_item_state_get_version (ib), ==, 4);
    g_assert_false (bb_item_state_get_dirty (ia));
    g_assert_false (bb_item_state_get_dirty (ib));
  }

  device_free (a);
  device_free (b);
  env_free (env);
}

/* --- 3. policies on the 412 path --- */

typedef struct
{
  Device *other;
  const char *value;
} RaceHook;

/* Runs from A's namespace-changed, after A's item-map reconciliation and before its flush:
 * B uploads first, so A's PUT meets 412. */
static void
race_hook (gpointer data)
{
  RaceHook *race = data;

  set_label (race->other, "k", race->value);
  device_sync_ok (race->other);
  g_assert_true (has_event (race->other, "item-uploaded:account-labels/k"));
}

static void
precondition_setup (Env *env, BbMergePolicy policy, Device **out_a, Device **out_b, RaceHook *race)
{
  Device *a = device_new (env, "alice");
  Device *b = device_new (env, "alice");

  device_open (a);
  device_open (b);
  set_label (a, "k", "base");
  device_sync_ok (a);
  bb_memory_value_backend_set_scope (BB_MEMORY_VALUE_BACKEND (b->labels),
                                     (const char *const[]){ "k", NULL });
  device_sync_ok (b);
  assert_label (b, "k", "base");

  bb_collection_set_merge_policy (a->labels_c, policy);
  set_label (a, "k", "a-edit");
  /* A new key changes A's scope: its pass fetches the item map and emits
   * namespace-changed, where B races ahead. */
  set_label (a, "trigger", "t");
  race->other = b;
  race->value = "b-edit";
  a->hook = race_hook;
  a->hook_data = race;
  device_sync_ok (a);
  dump_events (a);
  g_assert_null (a->hook);
  *out_a = a;
  *out_b = b;
}

static void
test_412_prefer_local (void)
{
  Env *env = env_new ();
  Device *a, *b;
  RaceHook race;

  precondition_setup (env, BB_MERGE_POLICY_PREFER_LOCAL, &a, &b, &race);
  /* 412, ConflictFetch v2 "b-edit", PreferLocal, retry in the same flush at v3. */
  g_assert_true (has_event (a, "item-changed:account-labels/k"));
  g_assert_cmpuint (count_events (a, "item-uploaded:account-labels/k"), ==, 1);
  assert_label (a, "k", "a-edit");
  {
    g_autoptr (BbItemState) item = get_item (a, a->labels_c, "k");

    g_assert_false (bb_item_state_get_dirty (item));
    g_assert_cmpuint (bb_item_state_get_version (item), ==, 3);
    g_assert_cmpuint (bb_item_state_get_base_version (item), ==, 3);
  }
  device_sync_ok (b);
  assert_label (b, "k", "a-edit");
  assert_label (b, "trigger", NULL); /* not in B's scope */

  device_free (a);
  device_free (b);
  env_free (env);
}

static void
test_412_prefer_remote (void)
{
  Env *env = env_new ();
  Device *a, *b;
  RaceHook race;

  precondition_setup (env, BB_MERGE_POLICY_PREFER_REMOTE, &a, &b, &race);
  g_assert_true (has_event (a, "item-changed:account-labels/k"));
  g_assert_false (has_event (a, "item-uploaded:account-labels/k"));
  g_assert_true (has_event (a, "item-uploaded:account-labels/trigger"));
  assert_label (a, "k", "b-edit");
  {
    g_autoptr (BbItemState) item = get_item (a, a->labels_c, "k");

    g_assert_false (bb_item_state_get_dirty (item));
    g_assert_cmpuint (bb_item_state_get_version (item), ==, 2);
  }
  /* No retry: B sees no change of k. */
  device_sync_ok (b);
  g_assert_false (has_event (b, "item-changed:account-labels/k"));
  assert_label (b, "k", "b-edit");
  /* And A's next pass uploads nothing. */
  device_sync_ok (a);
  g_assert_false (has_event (a, "item-uploaded:account-labels/k"));

  device_free (a);
  device_free (b);
  env_free (env);
}

static void
test_412_no_merge (void)
{
  Env *env = env_new ();
  Device *a, *b;
  RaceHook race;

  precondition_setup (env, BB_MERGE_POLICY_NONE, &a, &b, &race);
  g_assert_true (has_event (a, "conflict-detected:account-labels/k"));
  g_assert_false (has_event (a, "item-uploaded:account-labels/k"));
  assert_label (a, "k", "a-edit");
  g_assert_cmpuint (n_conflicts (a), ==, 1);

  device_free (a);
  device_free (b);
  env_free (env);
}

/* --- 4. rollback --- */

static void
test_rollback_then_reset (void)
{
  Env *env = env_new ();
  Device *a = device_new (env, "alice");
  Device *c;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) before = NULL;
  g_autoptr (GVariant) after = NULL;

  device_open (a);
  set_label (a, "k1", "v1");
  device_sync_ok (a);
  g_assert_true (bb_server_save_snapshot (env->server, "early", &error));
  g_assert_no_error (error);

  set_label (a, "k1", "v1b");
  set_label (a, "k2", "v2");
  device_sync_ok (a);
  g_assert_true (has_event (a, "item-uploaded:account-labels/k2"));

  g_assert_true (bb_server_restore_snapshot (env->server, "early", &error));
  g_assert_no_error (error);

  set_label (a, "k3", "v3");
  before = bb_value_backend_snapshot (a->labels, NULL);
  g_ptr_array_set_size (a->events, 0);
  g_assert_false (device_sync (a, &error));
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_ROLLBACK);
  g_clear_error (&error);
  dump_events (a);
  g_assert_true (
      g_str_has_prefix (g_ptr_array_index (a->events, a->events->len - 1), "sync-failed:"));
  after = bb_value_backend_snapshot (a->labels, NULL);
  g_assert_true (g_variant_equal (before, after));
  g_assert_false (has_event (a, "item-changed:account-labels/k1"));
  g_assert_false (has_event (a, "item-uploaded:account-labels/k3"));

  /* Reset, then a pass re-uploads everything local; PreferLocal keeps v1b. */
  g_assert_true (bb_sync_engine_reset_sync_state (a->engine, &error));
  g_assert_no_error (error);
  bb_collection_set_merge_policy (a->labels_c, BB_MERGE_POLICY_PREFER_LOCAL);
  device_sync_ok (a);
  dump_events (a);
  assert_label (a, "k1", "v1b");
  assert_label (a, "k2", "v2");
  assert_label (a, "k3", "v3");
  g_clear_pointer (&after, g_variant_unref);
  after = bb_value_backend_snapshot (a->labels, NULL);
  g_assert_true (g_variant_equal (before, after));
  device_sync_ok (a);
  g_assert_cmpuint (a->events->len, ==, 2);

  /* The server holds the merged values: a fresh device gets them. */
  c = device_new (env, "alice");
  device_open (c);
  bb_memory_value_backend_set_scope (BB_MEMORY_VALUE_BACKEND (c->labels),
                                     (const char *const[]){ "k1", "k2", "k3", NULL });
  device_sync_ok (c);
  assert_label (c, "k1", "v1b");
  assert_label (c, "k2", "v2");
  assert_label (c, "k3", "v3");

  device_free (c);
  device_free (a);
  env_free (env);
}

/* --- 5. a third identity --- */

static void
test_identity_isolation (void)
{
  Env *env = env_new ();
  Device *a = device_new (env, "alice");
  Device *c = device_new (env, "carol");
  g_autoptr (BbNamespace) ns_a = NULL;
  g_autoptr (BbNamespace) ns_c = NULL;

  device_open (a);
  device_open (c);
  set_label (a, "shared-name", "alice's");
  device_sync_ok (a);
  bb_memory_value_backend_set_scope (BB_MEMORY_VALUE_BACKEND (c->labels),
                                     (const char *const[]){ "shared-name", NULL });
  device_sync_ok (c);
  dump_events (c);
  assert_label (c, "shared-name", NULL);
  g_assert_false (has_event (c, "item-changed:account-labels/shared-name"));
  g_assert_cmpuint (count_events (c, "namespace-changed"), <=, 1);
  for (guint i = 0; i < c->events->len; i++)
    g_assert_false (g_str_has_prefix (g_ptr_array_index (c->events, i), "unknown-remote-item"));

  ns_a = device_default_namespace (a);
  ns_c = device_default_namespace (c);
  g_assert_cmpstr (bb_namespace_get_id (ns_a), !=, bb_namespace_get_id (ns_c));
  g_assert_cmpstr (bb_sync_engine_get_key_id (a->engine), !=,
                   bb_sync_engine_get_key_id (c->engine));

  /* Carol writes the same key; Alice never sees it. */
  set_label (c, "shared-name", "carol's");
  device_sync_ok (c);
  device_sync_ok (a);
  assert_label (a, "shared-name", "alice's");
  g_assert_cmpuint (a->events->len, ==, 2);

  device_free (a);
  device_free (c);
  env_free (env);
}

/* --- 6. close --- */

static void
count_any (gpointer instance, gpointer user_data)
{
  (*(guint *)user_data)++;
}

static void
test_close (void)
{
  Env *env = env_new ();
  Device *a = device_new (env, "alice");
  Device *b = device_new (env, "alice");
  g_autoptr (GError) error = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  gboolean ok;

  device_open (a);
  set_label (a, "k", "v");
  device_sync_ok (a);

  bb_sync_engine_close (a->engine);
  g_assert_true (bb_sync_engine_is_closed (a->engine));
  g_ptr_array_set_size (a->events, 0);
  g_assert_false (device_sync (a, &error));
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_CLOSED);
  g_clear_error (&error);
  g_assert_cmpuint (a->events->len, ==, 0);
  /* Resolving after close fails too, and close twice is harmless. */
  g_assert_false (bb_collection_resolve_conflict (
      a->labels_c, "k", BB_CONFLICT_RESOLUTION_PREFER_LOCAL, NULL, &error));
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_CLOSED);
  g_clear_error (&error);
  bb_sync_engine_close (a->engine);

  /* A pass closed right after it started. */
  device_open (b);
  set_label (b, "k2", "v2");
  bb_sync_engine_sync_async (b->engine, NULL, bb_test_got_result, &res);
  bb_sync_engine_close (b->engine);
  bb_test_await_result (&res);
  ok = bb_sync_engine_sync_finish (b->engine, res, &error);
  g_test_message ("closed pass: %s", ok ? "succeeded" : error->message);
  if (!ok)
    g_assert_true (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                   || g_error_matches (error, BB_SYNC_ERROR, BB_SYNC_ERROR_CLOSED));
  g_clear_error (&error);

  /* A pass closed while its requests are in flight. */
  {
    Device *c = device_new (env, "alice");
    guint after = 0;

    device_open (c);
    set_label (c, "k3", "v3");
    g_clear_object (&res);
    bb_sync_engine_sync_async (c->engine, NULL, bb_test_got_result, &res);
    for (guint i = 0; i < 5; i++)
      g_main_context_iteration (NULL, FALSE);
    bb_sync_engine_close (c->engine);
    g_signal_connect (c->engine, "item-uploaded", G_CALLBACK (count_any), &after);
    g_signal_connect (c->engine, "sync-finished", G_CALLBACK (count_any), &after);
    bb_test_await_result (&res);
    ok = bb_sync_engine_sync_finish (c->engine, res, &error);
    g_test_message ("closed pass in flight: %s", ok ? "succeeded" : error->message);
    if (!ok)
      g_assert_true (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                     || g_error_matches (error, BB_SYNC_ERROR, BB_SYNC_ERROR_CLOSED));
    g_clear_error (&error);
    /* Spec §2.9: after Close, emitting is a no-op. */
    g_assert_cmpuint (after, ==, 0);
    device_free (c);
  }

  device_free (a);
  device_free (b);
  env_free (env);
}

/* --- 7. relogin after a 401 --- */

static void
test_relogin_after_revoke (void)
{
  Env *env = env_new ();
  Device *a = device_new (env, "alice");
  Device *b = device_new (env, "alice");
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;

  device_open (a);
  set_label (a, "k", "v1");
  device_sync_ok (a);
  /* The login happened in device_open (default namespace). */

  BB_TEST_AWAIT (
      res, bb_sync_engine_revoke_all_tokens_async (b->engine, NULL, bb_test_got_result, &res));
  g_assert_true (bb_sync_engine_revoke_all_tokens_finish (b->engine, res, &error));
  g_assert_no_error (error);

  set_label (a, "k", "v2");
  device_sync_ok (a);
  dump_events (a);
  g_assert_cmpuint (count_events (a, "auth-session-ready"), ==, 1);
  g_assert_false (has_event (a, "auth-login-required"));
  g_assert_true (has_event (a, "item-uploaded:account-labels/k"));
  g_assert_cmpstr (g_ptr_array_index (a->events, a->events->len - 1), ==, "sync-finished");

  device_free (a);
  device_free (b);
  env_free (env);
}

/* --- 8. oversized values --- */

static void
test_oversized_value (void)
{
  Env *env = env_new ();
  Device *a = device_new (env, "alice");
  g_autofree char *big = g_strnfill (BB_SYNC_ENGINE_MAX_VALUE_SIZE + 1, 'x');
  g_autofree char *edge = g_strnfill (BB_SYNC_ENGINE_MAX_VALUE_SIZE, 'y');

  g_assert_cmpint (BB_SYNC_ENGINE_MAX_VALUE_SIZE, ==, 65520);
  device_open (a);
  set_label (a, "big", big);
  set_label (a, "edge", edge);
  set_label (a, "ok", "small");
  device_sync_ok (a);
  dump_events (a);
  g_assert_true (has_event (a, "item-queued:account-labels/big"));
  g_assert_false (has_event (a, "item-uploaded:account-labels/big"));
  g_assert_true (has_event (a, "item-uploaded:account-labels/ok"));
  g_assert_true (has_event (a, "item-uploaded:account-labels/edge"));
  {
    g_autoptr (BbItemState) item = get_item (a, a->labels_c, "big");

    g_assert_true (bb_item_state_get_dirty (item));
    g_assert_false (bb_item_state_get_conflict (item));
    g_assert_cmpuint (bb_item_state_get_version (item), ==, 0);
  }
  /* Still skipped silently on the next pass. */
  device_sync_ok (a);
  g_assert_false (has_event (a, "item-uploaded:account-labels/big"));
  /* Shrunk, it goes out. */
  set_label (a, "big", "now small");
  device_sync_ok (a);
  g_assert_true (has_event (a, "item-uploaded:account-labels/big"));

  device_free (a);
  env_free (env);
}

/* --- 9. unknown remote items --- */

static void
test_unknown_remote_item (void)
{
  Env *env = env_new ();
  Device *a = device_new (env, "alice");
  Device *b = device_new (env, "alice");
  g_autoptr (BbValueBackend) other = bb_memory_value_backend_new ();
  g_autoptr (BbCodec) codec = bb_codec_new_string ();
  g_autoptr (BbNamespace) ns = NULL;
  g_autoptr (BbCollection) other_c = NULL;
  g_autoptr (BbItemState) item = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *expected = NULL;
  GPtrArray *items;

  device_open (a);
  ns = device_default_namespace (a);
  other_c = bb_namespace_open_collection (ns, "other", codec, other, &error);
  g_assert_no_error (error);
  g_assert_true (bb_value_backend_set_value (other, "x", g_variant_new_string ("hidden"), &error));
  device_sync_ok (a);
  g_assert_true (has_event (a, "item-uploaded:other/x"));
  item = get_item (a, other_c, "x");
  expected = g_strdup_printf ("unknown-remote-item:%s", bb_item_state_get_item_id (item));

  device_open (b);
  device_sync_ok (b);
  dump_events (b);
  g_assert_cmpuint (count_events (b, expected), ==, 1);
  g_assert_cmpstr (g_ptr_array_index (b->events, b->events->len - 1), ==, "sync-finished");
  /* Nothing is stored for it. */
  items = bb_store_list_namespace_items (b->store, bb_sync_engine_get_key_id (b->engine),
                                         bb_namespace_get_id (ns), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (items->len, ==, 0);
  g_ptr_array_unref (items);

  device_free (a);
  device_free (b);
  env_free (env);
}

/* --- 10. logical keys are length-delimited --- */

static void
test_length_delimited_keys (void)
{
  Env *env = env_new ();
  Device *a = device_new (env, "alice");
  Device *b = device_new (env, "alice");
  g_autoptr (BbCodec) codec = bb_codec_new_string ();
  g_autoptr (GError) error = NULL;
  BbValueBackend *ba[2], *bb[2];
  BbCollection *ca[2], *cb[2];
  const char *names[] = { "a", "a\x1f"
                               "b" };
  const char *keys[] = { "b\x1f"
                         "c",
                         "c" };
  g_autoptr (BbItemState) i0 = NULL;
  g_autoptr (BbItemState) i1 = NULL;

  for (guint d = 0; d < 2; d++)
    {
      Device *dev = d == 0 ? a : b;
      g_autoptr (BbNamespace) ns = device_default_namespace (dev);

      for (guint i = 0; i < 2; i++)
        {
          BbValueBackend **backends = d == 0 ? ba : bb;
          BbCollection **cs = d == 0 ? ca : cb;

          backends[i] = bb_memory_value_backend_new ();
          cs[i] = bb_namespace_open_collection (ns, names[i], codec, backends[i], &error);
          g_assert_no_error (error);
          bb_memory_value_backend_set_scope (BB_MEMORY_VALUE_BACKEND (backends[i]),
                                             (const char *const[]){ keys[i], NULL });
        }
    }
  g_assert_true (bb_value_backend_set_value (ba[0], keys[0], g_variant_new_string ("one"), NULL));
  g_assert_true (bb_value_backend_set_value (ba[1], keys[1], g_variant_new_string ("two"), NULL));
  device_sync_ok (a);
  g_assert_cmpuint (count_events (a, "item-uploaded:a/b\x1f"
                                     "c"),
                    ==, 1);
  g_assert_cmpuint (count_events (a, "item-uploaded:a\x1f"
                                     "b/c"),
                    ==, 1);
  i0 = get_item (a, ca[0], keys[0]);
  i1 = get_item (a, ca[1], keys[1]);
  g_assert_cmpstr (bb_item_state_get_item_id (i0), !=, bb_item_state_get_item_id (i1));
  g_assert_cmpuint (bb_item_state_get_version (i0), ==, 1);
  g_assert_cmpuint (bb_item_state_get_version (i1), ==, 1);

  device_sync_ok (b);
  {
    g_autoptr (GVariant) v0 = bb_value_backend_get_value (bb[0], keys[0], NULL);
    g_autoptr (GVariant) v1 = bb_value_backend_get_value (bb[1], keys[1], NULL);

    g_assert_nonnull (v0);
    g_assert_nonnull (v1);
    g_assert_cmpstr (g_variant_get_string (v0, NULL), ==, "one");
    g_assert_cmpstr (g_variant_get_string (v1, NULL), ==, "two");
  }

  for (guint i = 0; i < 2; i++)
    {
      g_object_unref (ca[i]);
      g_object_unref (cb[i]);
    }
  device_free (a);
  device_free (b);
  for (guint i = 0; i < 2; i++)
    {
      g_object_unref (ba[i]);
      g_object_unref (bb[i]);
    }
  env_free (env);
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
  g_test_add_func ("/engine/conflict/prefer-local", test_conflict_prefer_local);
  g_test_add_func ("/engine/conflict/prefer-remote", test_conflict_prefer_remote);
  g_test_add_func ("/engine/conflict/value", test_conflict_value);
  g_test_add_func ("/engine/merge/signal", test_merge_signal);
  g_test_add_func ("/engine/precondition/prefer-local", test_412_prefer_local);
  g_test_add_func ("/engine/precondition/prefer-remote", test_412_prefer_remote);
  g_test_add_func ("/engine/precondition/no-merge", test_412_no_merge);
  g_test_add_func ("/engine/rollback/reset", test_rollback_then_reset);
  g_test_add_func ("/engine/identity-isolation", test_identity_isolation);
  g_test_add_func ("/engine/close", test_close);
  g_test_add_func ("/engine/relogin-after-revoke", test_relogin_after_revoke);
  g_test_add_func ("/engine/oversized-value", test_oversized_value);
  g_test_add_func ("/engine/unknown-remote-item", test_unknown_remote_item);
  g_test_add_func ("/engine/length-delimited-keys", test_length_delimited_keys);

  return g_test_run ();
}
