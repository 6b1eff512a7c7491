/* test-value-backend.c: the BbValueBackend interface and BbMemoryValueBackend
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "bbsync.h"
#include "bb-test-utils.h"

/* ---- test implementations --------------------------------------------------------- */

/* TestPlainBackend: a correct plain backend (no set_value_if_current) that counts its
 * writes. Its snapshot and get_value return floating references, as g_variant_new_*()
 * does, to check that the wrappers sink them. */

#define TEST_TYPE_PLAIN_BACKEND (test_plain_backend_get_type ())
G_DECLARE_FINAL_TYPE (TestPlainBackend, test_plain_backend, TEST, PLAIN_BACKEND, GObject)

struct _TestPlainBackend
{
  GObject parent_instance;
  GHashTable *values; /* char * → GVariant * */
  guint n_sets;
};

static char **
plain_list_keys (BbValueBackend *backend, GError **error)
{
  TestPlainBackend *self = TEST_PLAIN_BACKEND (backend);
  g_autofree char **keys = (char **)g_hash_table_get_keys_as_array (self->values, NULL);

  return g_strdupv (keys);
}

static GVariant *
plain_snapshot (BbValueBackend *backend, GError **error)
{
  TestPlainBackend *self = TEST_PLAIN_BACKEND (backend);
  GVariantBuilder builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE_VARDICT);
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, self->values);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_variant_builder_add (&builder, "{sv}", key, value);
  return g_variant_builder_end (&builder); /* floating */
}

static GVariant *
plain_get_value (BbValueBackend *backend, const char *key, GError **error)
{
  TestPlainBackend *self = TEST_PLAIN_BACKEND (backend);
  GVariant *value = g_hash_table_lookup (self->values, key);

  /* A floating copy, as an implementation that builds its values would return. */
  return value != NULL ? g_variant_new_variant (value) : NULL;
}

static gboolean
plain_set_value (BbValueBackend *backend, const char *key, GVariant *value, GError **error)
{
  TestPlainBackend *self = TEST_PLAIN_BACKEND (backend);

  g_assert_false (g_variant_is_floating (value));
  self->n_sets++;
  g_hash_table_replace (self->values, g_strdup (key), g_variant_ref (value));
  return TRUE;
}

static void
test_plain_backend_iface_init (BbValueBackendInterface *iface)
{
  iface->list_keys = plain_list_keys;
  iface->snapshot = plain_snapshot;
  iface->get_value = plain_get_value;
  iface->set_value = plain_set_value;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestPlainBackend, test_plain_backend, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (BB_TYPE_VALUE_BACKEND,
                                                      test_plain_backend_iface_init))

static void
test_plain_backend_finalize (GObject *object)
{
  g_hash_table_unref (TEST_PLAIN_BACKEND (object)->values);
  G_OBJECT_CLASS (test_plain_backend_parent_class)->finalize (object);
}

static void
test_plain_backend_class_init (TestPlainBackendClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_plain_backend_finalize;
}

static void
test_plain_backend_init (TestPlainBackend *self)
{
  self->values
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_variant_unref);
}

/* TestOddBackend: a conditional backend whose every method misbehaves in the way its
 * mode says, to check what the wrappers make of it. */

typedef enum
{
  ODD_NOTHING,          /* NULL or FALSE without an error */
  ODD_ERROR,            /* NULL or FALSE with an error */
  ODD_RESULT_AND_ERROR, /* a result and an error */
  ODD_WRONG_TYPE,       /* a snapshot that is not a{sv} (of type as) */
  ODD_STRING_SNAPSHOT,  /* a snapshot of type s */
  ODD_BAD_UTF8,         /* a key list with invalid UTF-8 */
} OddMode;

#define TEST_TYPE_ODD_BACKEND (test_odd_backend_get_type ())
G_DECLARE_FINAL_TYPE (TestOddBackend, test_odd_backend, TEST, ODD_BACKEND, GObject)

struct _TestOddBackend
{
  GObject parent_instance;
  OddMode mode;
};

static void
odd_error (GError **error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED, "odd failure");
}

static char **
odd_list_keys (BbValueBackend *backend, GError **error)
{
  switch (TEST_ODD_BACKEND (backend)->mode)
    {
      case ODD_ERROR:
        odd_error (error);
        return NULL;
      case ODD_RESULT_AND_ERROR:
        odd_error (error);
        return g_strsplit ("a,b", ",", -1);
      case ODD_BAD_UTF8:
        return g_strsplit ("good,bad\xff,also-good", ",", -1);
      default:
        return NULL;
    }
}

static GVariant *
odd_snapshot (BbValueBackend *backend, GError **error)
{
  switch (TEST_ODD_BACKEND (backend)->mode)
    {
      case ODD_ERROR:
        odd_error (error);
        return NULL;
      case ODD_RESULT_AND_ERROR:
        odd_error (error);
        return g_variant_new_array (G_VARIANT_TYPE ("{sv}"), NULL, 0);
      case ODD_WRONG_TYPE:
        return g_variant_new_strv (NULL, 0);
      case ODD_STRING_SNAPSHOT:
        return g_variant_ref_sink (g_variant_new_string ("not a dictionary"));
      default:
        return NULL;
    }
}

static GVariant *
odd_get_value (BbValueBackend *backend, const char *key, GError **error)
{
  switch (TEST_ODD_BACKEND (backend)->mode)
    {
      case ODD_ERROR:
        odd_error (error);
        return NULL;
      case ODD_RESULT_AND_ERROR:
        odd_error (error);
        return g_variant_new_string ("stale");
      default:
        return NULL;
    }
}

static gboolean
odd_set_value (BbValueBackend *backend, const char *key, GVariant *value, GError **error)
{
  switch (TEST_ODD_BACKEND (backend)->mode)
    {
      case ODD_ERROR:
        odd_error (error);
        return FALSE;
      case ODD_RESULT_AND_ERROR:
        odd_error (error);
        return TRUE;
      default:
        return FALSE;
    }
}

static gboolean
odd_set_value_if_current (BbValueBackend *backend, const char *key, GVariant *current,
                          GVariant *value, GError **error)
{
  return odd_set_value (backend, key, value, error);
}

static void
test_odd_backend_iface_init (BbValueBackendInterface *iface)
{
  iface->list_keys = odd_list_keys;
  iface->snapshot = odd_snapshot;
  iface->get_value = odd_get_value;
  iface->set_value = odd_set_value;
  iface->set_value_if_current = odd_set_value_if_current;
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestOddBackend, test_odd_backend, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (BB_TYPE_VALUE_BACKEND,
                                                      test_odd_backend_iface_init))

static void
test_odd_backend_class_init (TestOddBackendClass *klass)
{
}

static void
test_odd_backend_init (TestOddBackend *self)
{
}

static BbValueBackend *
odd_backend_new (OddMode mode)
{
  TestOddBackend *self = g_object_new (TEST_TYPE_ODD_BACKEND, NULL);

  self->mode = mode;
  return BB_VALUE_BACKEND (self);
}

/* TestEmptyBackend: implements the interface but none of its methods. */

#define TEST_TYPE_EMPTY_BACKEND (test_empty_backend_get_type ())
G_DECLARE_FINAL_TYPE (TestEmptyBackend, test_empty_backend, TEST, EMPTY_BACKEND, GObject)

struct _TestEmptyBackend
{
  GObject parent_instance;
};

static void
test_empty_backend_iface_init (BbValueBackendInterface *iface)
{
}

G_DEFINE_FINAL_TYPE_WITH_CODE (TestEmptyBackend, test_empty_backend, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (BB_TYPE_VALUE_BACKEND,
                                                      test_empty_backend_iface_init))

static void
test_empty_backend_class_init (TestEmptyBackendClass *klass)
{
}

static void
test_empty_backend_init (TestEmptyBackend *self)
{
}

/* ---- helpers --------------------------------------------------------------------- */

static GVariant *
str (const char *s)
{
  return g_variant_ref_sink (g_variant_new_string (s));
}

static void
assert_keys (char **keys, const char *expected)
{
  g_autofree char *joined = g_strjoinv (",", keys);

  g_assert_cmpstr (joined, ==, expected);
}

static void
assert_value_is (BbValueBackend *backend, const char *key, const char *expected)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) value = bb_value_backend_get_value (backend, key, &error);

  g_assert_no_error (error);
  if (expected == NULL)
    {
      g_assert_null (value);
      return;
    }
  g_assert_nonnull (value);
  g_assert_false (g_variant_is_floating (value));
  g_assert_cmpstr (g_variant_get_string (value, NULL), ==, expected);
}

static BbValueBackend *
memory_with (const char *key, const char *value)
{
  g_autoptr (GError) error = NULL;
  BbValueBackend *backend = bb_memory_value_backend_new ();

  if (key != NULL)
    {
      g_assert_true (
          bb_value_backend_set_value (backend, key, g_variant_new_string (value), &error));
      g_assert_no_error (error);
    }
  return backend;
}

/* ---- the wrappers ------------------------------------------------------------------ */

static void
test_wrapper_plain (void)
{
  g_autoptr (TestPlainBackend) plain = g_object_new (TEST_TYPE_PLAIN_BACKEND, NULL);
  BbValueBackend *backend = BB_VALUE_BACKEND (plain);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) snapshot = NULL;
  g_autoptr (GVariant) got = NULL;
  g_auto (GStrv) keys = NULL;
  g_autoptr (GVariant) current = str ("something else");
  g_autoptr (GVariant) inner = NULL;

  g_assert_false (bb_value_backend_is_conditional (backend));

  /* A floating value is consumed; the implementation sees a full reference. */
  g_assert_true (bb_value_backend_set_value (backend, "k", g_variant_new_string ("v1"), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (plain->n_sets, ==, 1);

  keys = bb_value_backend_list_keys (backend, &error);
  g_assert_no_error (error);
  assert_keys (keys, "k");

  /* Floating results of a C implementation come back as full references. */
  snapshot = bb_value_backend_snapshot (backend, &error);
  g_assert_no_error (error);
  g_assert_false (g_variant_is_floating (snapshot));
  g_assert_cmpstr (g_variant_get_type_string (snapshot), ==, "a{sv}");
  g_assert_cmpuint (g_variant_n_children (snapshot), ==, 1);
  got = bb_value_backend_get_value (backend, "k", &error);
  g_assert_no_error (error);
  g_assert_false (g_variant_is_floating (got));
  g_assert_cmpstr (g_variant_get_type_string (got), ==, "v");
  g_clear_pointer (&got, g_variant_unref);
  got = bb_value_backend_get_value (backend, "missing", &error);
  g_assert_no_error (error);
  g_assert_null (got);

  /* A plain backend cannot compare: set_value_if_current stores through set_value
   * and reports "replaced", whatever the expected current value. */
  g_assert_true (bb_value_backend_set_value_if_current (backend, "k", current,
                                                        g_variant_new_string ("v2"), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (plain->n_sets, ==, 2);
  g_assert_true (bb_value_backend_set_value_if_current (backend, "new", NULL,
                                                        g_variant_new_string ("v3"), &error));
  g_assert_no_error (error);
  g_assert_true (bb_value_backend_set_value_if_current (backend, "new", NULL,
                                                        g_variant_new_string ("v4"), &error));
  g_assert_no_error (error);
  g_assert_cmpuint (plain->n_sets, ==, 4);
  got = bb_value_backend_get_value (backend, "new", &error);
  g_assert_no_error (error);
  inner = g_variant_get_variant (got);
  g_assert_cmpstr (g_variant_get_string (inner, NULL), ==, "v4");
}

static void
test_wrapper_nothing (void)
{
  g_autoptr (BbValueBackend) backend = odd_backend_new (ODD_NOTHING);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) snapshot = NULL;
  g_autoptr (GVariant) value = NULL;
  g_auto (GStrv) keys = NULL;

  g_assert_true (bb_value_backend_is_conditional (backend));

  /* NULL without an error: an empty list, an empty dictionary, no value. */
  keys = bb_value_backend_list_keys (backend, &error);
  g_assert_no_error (error);
  g_assert_nonnull (keys);
  g_assert_cmpuint (g_strv_length (keys), ==, 0);

  snapshot = bb_value_backend_snapshot (backend, &error);
  g_assert_no_error (error);
  g_assert_nonnull (snapshot);
  g_assert_false (g_variant_is_floating (snapshot));
  g_assert_cmpstr (g_variant_get_type_string (snapshot), ==, "a{sv}");
  g_assert_cmpuint (g_variant_n_children (snapshot), ==, 0);

  value = bb_value_backend_get_value (backend, "k", &error);
  g_assert_no_error (error);
  g_assert_null (value);

  /* set_value failing without a reason still reports an error, naming the key. */
  g_assert_false (
      bb_value_backend_set_value (backend, "the-key", g_variant_new_string ("v"), &error));
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "the-key"));
  g_assert_nonnull (strstr (error->message, "TestOddBackend"));
  g_clear_error (&error);

  /* set_value_if_current returning FALSE without an error is "not replaced". */
  g_assert_false (bb_value_backend_set_value_if_current (backend, "k", NULL,
                                                         g_variant_new_string ("v"), &error));
  g_assert_no_error (error);
}

static void
test_wrapper_errors (void)
{
  g_autoptr (BbValueBackend) backend = odd_backend_new (ODD_ERROR);
  g_autoptr (GError) error = NULL;

  g_assert_null (bb_value_backend_list_keys (backend, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_clear_error (&error);
  g_assert_null (bb_value_backend_snapshot (backend, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_clear_error (&error);
  g_assert_null (bb_value_backend_get_value (backend, "k", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_clear_error (&error);
  g_assert_false (bb_value_backend_set_value (backend, "k", g_variant_new_string ("v"), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_clear_error (&error);
  g_assert_false (bb_value_backend_set_value_if_current (backend, "k", NULL,
                                                         g_variant_new_string ("v"), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_clear_error (&error);

  /* Passing NULL for the error is fine. */
  g_assert_null (bb_value_backend_get_value (backend, "k", NULL));
  g_assert_false (bb_value_backend_set_value (backend, "k", g_variant_new_string ("v"), NULL));
}

static void
test_wrapper_result_and_error (void)
{
  g_autoptr (BbValueBackend) backend = odd_backend_new (ODD_RESULT_AND_ERROR);
  g_autoptr (GError) error = NULL;

  /* An error wins over a result returned with it (which is freed). */
  g_assert_null (bb_value_backend_list_keys (backend, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_clear_error (&error);
  g_assert_null (bb_value_backend_snapshot (backend, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_clear_error (&error);
  g_assert_null (bb_value_backend_get_value (backend, "k", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_clear_error (&error);
  g_assert_false (bb_value_backend_set_value (backend, "k", g_variant_new_string ("v"), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_clear_error (&error);
  g_assert_false (bb_value_backend_set_value_if_current (backend, "k", NULL,
                                                         g_variant_new_string ("v"), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
}

static void
test_wrapper_wrong_snapshot_type (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BbValueBackend) strv = odd_backend_new (ODD_WRONG_TYPE);
  g_autoptr (BbValueBackend) string = odd_backend_new (ODD_STRING_SNAPSHOT);

  g_assert_null (bb_value_backend_snapshot (strv, &error));
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT);
  g_assert_nonnull (strstr (error->message, "“as”"));
  g_assert_nonnull (strstr (error->message, "TestOddBackend"));
  g_clear_error (&error);

  g_assert_null (bb_value_backend_snapshot (string, &error));
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT);
  g_assert_nonnull (strstr (error->message, "“s”"));
}

static void
test_wrapper_bad_utf8_key (void)
{
  g_autoptr (BbValueBackend) backend = odd_backend_new (ODD_BAD_UTF8);
  g_autoptr (GError) error = NULL;

  g_assert_null (bb_value_backend_list_keys (backend, &error));
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT);
  g_assert_nonnull (strstr (error->message, "TestOddBackend"));
  g_assert_nonnull (strstr (error->message, "UTF-8"));
}

static void
test_wrapper_missing_vfuncs (void)
{
  g_autoptr (BbValueBackend) backend = g_object_new (TEST_TYPE_EMPTY_BACKEND, NULL);
  g_autoptr (GError) error = NULL;

  g_assert_false (bb_value_backend_is_conditional (backend));
  g_assert_null (bb_value_backend_list_keys (backend, &error));
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "list_keys"));
  g_clear_error (&error);
  g_assert_null (bb_value_backend_snapshot (backend, &error));
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  g_assert_null (bb_value_backend_get_value (backend, "k", &error));
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  g_assert_false (bb_value_backend_set_value (backend, "k", g_variant_new_string ("v"), &error));
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "set_value"));
  g_clear_error (&error);
  /* The plain fallback goes through set_value, which is missing too. */
  g_assert_false (bb_value_backend_set_value_if_current (backend, "k", NULL,
                                                         g_variant_new_string ("v"), &error));
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_UNSUPPORTED);
}

static void
test_wrapper_bad_arguments (void)
{
  g_autoptr (BbValueBackend) backend = bb_memory_value_backend_new ();
  g_autoptr (GVariant) value = str ("v");

  if (!g_test_undefined ())
    return;

  g_test_expect_message ("BbSync", G_LOG_LEVEL_CRITICAL, "*value != NULL*");
  g_assert_false (bb_value_backend_set_value (backend, "k", NULL, NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message ("BbSync", G_LOG_LEVEL_CRITICAL, "*value != NULL*");
  g_assert_false (bb_value_backend_set_value_if_current (backend, "k", NULL, NULL, NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message ("BbSync", G_LOG_LEVEL_CRITICAL, "*key != NULL*");
  g_assert_false (bb_value_backend_set_value (backend, NULL, value, NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message ("BbSync", G_LOG_LEVEL_CRITICAL, "*g_utf8_validate*");
  g_assert_null (bb_value_backend_get_value (backend, "bad\xff", NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message ("BbSync", G_LOG_LEVEL_CRITICAL, "*BB_IS_VALUE_BACKEND*");
  g_assert_null (bb_value_backend_list_keys (NULL, NULL));
  g_test_assert_expected_messages ();

  g_test_expect_message ("BbSync", G_LOG_LEVEL_CRITICAL, "*BB_IS_MEMORY_VALUE_BACKEND*");
  g_assert_cmpuint (bb_memory_value_backend_get_n_values (NULL), ==, 0);
  g_test_assert_expected_messages ();

  /* Nothing was stored by the refused calls. */
  g_assert_cmpuint (bb_memory_value_backend_get_n_values (BB_MEMORY_VALUE_BACKEND (backend)), ==,
                    0);
}

/* ---- BbMemoryValueBackend -------------------------------------------------------- */

static void
test_memory_keys_and_scope (void)
{
  g_autoptr (BbValueBackend) backend = bb_memory_value_backend_new ();
  BbMemoryValueBackend *memory = BB_MEMORY_VALUE_BACKEND (backend);
  const char *const scope[] = { "tx-3", "tx-1", "b", "tx-1", NULL };
  const char *const empty[] = { NULL };
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) keys = NULL;

  g_assert_true (bb_value_backend_is_conditional (backend));

  keys = bb_value_backend_list_keys (backend, &error);
  g_assert_no_error (error);
  assert_keys (keys, "");
  g_clear_pointer (&keys, g_strfreev);

  /* Stored keys come back sorted bytewise. */
  for (const char *const *k = (const char *const[]){ "c", "a", "B", "b", NULL }; *k != NULL; k++)
    g_assert_true (bb_value_backend_set_value (backend, *k, g_variant_new_int32 (1), NULL));
  g_assert_cmpuint (bb_memory_value_backend_get_n_values (memory), ==, 4);
  keys = bb_value_backend_list_keys (backend, &error);
  g_assert_no_error (error);
  assert_keys (keys, "B,a,b,c");
  g_clear_pointer (&keys, g_strfreev);

  /* The scope adds the remote-only keys; duplicates, within the scope and with the
   * stored keys, are removed. */
  bb_memory_value_backend_set_scope (memory, scope);
  keys = bb_value_backend_list_keys (backend, &error);
  g_assert_no_error (error);
  assert_keys (keys, "B,a,b,c,tx-1,tx-3");
  g_clear_pointer (&keys, g_strfreev);
  g_assert_cmpuint (bb_memory_value_backend_get_n_values (memory), ==, 4);

  /* Replacing the scope replaces it, it does not add to it. */
  bb_memory_value_backend_set_scope (memory, (const char *const[]){ "tx-2", NULL });
  keys = bb_value_backend_list_keys (backend, &error);
  assert_keys (keys, "B,a,b,c,tx-2");
  g_clear_pointer (&keys, g_strfreev);

  /* The scope does not create values. */
  assert_value_is (backend, "tx-2", NULL);

  /* NULL and an empty array clear it. */
  bb_memory_value_backend_set_scope (memory, NULL);
  keys = bb_value_backend_list_keys (backend, &error);
  assert_keys (keys, "B,a,b,c");
  g_clear_pointer (&keys, g_strfreev);
  bb_memory_value_backend_set_scope (memory, scope);
  bb_memory_value_backend_set_scope (memory, empty);
  keys = bb_value_backend_list_keys (backend, &error);
  assert_keys (keys, "B,a,b,c");
}

static void
test_memory_snapshot (void)
{
  g_autoptr (BbValueBackend) backend = bb_memory_value_backend_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) snapshot = NULL;
  g_autoptr (GVariant) number = NULL;
  g_autoptr (GVariant) text = NULL;
  g_autoptr (GVariant) expected = NULL;

  snapshot = bb_value_backend_snapshot (backend, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_variant_get_type_string (snapshot), ==, "a{sv}");
  g_assert_cmpuint (g_variant_n_children (snapshot), ==, 0);
  g_clear_pointer (&snapshot, g_variant_unref);

  /* Values of any type; keys in the scope without a value are not in it. */
  bb_memory_value_backend_set_scope (BB_MEMORY_VALUE_BACKEND (backend),
                                     (const char *const[]){ "remote-only", NULL });
  g_assert_true (
      bb_value_backend_set_value (backend, "text", g_variant_new_string ("hello"), &error));
  g_assert_true (bb_value_backend_set_value (backend, "number", g_variant_new_int64 (-5), &error));
  g_assert_true (
      bb_value_backend_set_value (backend, "text", g_variant_new_string ("hello again"), &error));
  g_assert_no_error (error);

  snapshot = bb_value_backend_snapshot (backend, &error);
  g_assert_no_error (error);
  g_assert_false (g_variant_is_floating (snapshot));
  g_assert_cmpuint (g_variant_n_children (snapshot), ==, 2);
  text = g_variant_lookup_value (snapshot, "text", G_VARIANT_TYPE_STRING);
  g_assert_cmpstr (g_variant_get_string (text, NULL), ==, "hello again");
  number = g_variant_lookup_value (snapshot, "number", G_VARIANT_TYPE_INT64);
  g_assert_cmpint (g_variant_get_int64 (number), ==, -5);
  g_assert_false (g_variant_lookup (snapshot, "remote-only", "v", NULL));

  /* Entries are in key order, so equal contents give equal snapshots. */
  expected = g_variant_ref_sink (
      g_variant_new_parsed ("{'number': <int64 -5>, 'text': <'hello again'>}"));
  g_assert_true (g_variant_equal (snapshot, expected));

  /* The snapshot is a copy: later writes do not change it. */
  g_assert_true (
      bb_value_backend_set_value (backend, "text", g_variant_new_string ("later"), &error));
  g_assert_true (g_variant_equal (snapshot, expected));
}

static void
test_memory_get_and_set (void)
{
  g_autoptr (BbValueBackend) backend = bb_memory_value_backend_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) value = str ("kept");
  g_autoptr (GVariant) got = NULL;

  /* A missing key: NULL without an error. */
  assert_value_is (backend, "missing", NULL);

  /* A stored value is shared, not copied, and outlives the caller's reference. */
  g_assert_true (bb_value_backend_set_value (backend, "k", value, &error));
  g_assert_no_error (error);
  got = bb_value_backend_get_value (backend, "k", &error);
  g_assert_no_error (error);
  g_assert_true (got == value);
  g_clear_pointer (&got, g_variant_unref);

  g_assert_true (bb_value_backend_set_value (backend, "k", g_variant_new_string ("new"), &error));
  assert_value_is (backend, "k", "new");
  assert_value_is (backend, "K", NULL);
  g_assert_cmpuint (bb_memory_value_backend_get_n_values (BB_MEMORY_VALUE_BACKEND (backend)), ==,
                    1);

  /* Non-ASCII keys are fine. */
  g_assert_true (
      bb_value_backend_set_value (backend, "Notiz für tx ✓", g_variant_new_string ("x"), &error));
  assert_value_is (backend, "Notiz für tx ✓", "x");
}

/* One case of set_value_if_current on the memory backend: the stored value (NULL:
 * none), the expected current value (NULL: none), whether it must be replaced. */
static void
check_if_current (const char *stored, const char *current, gboolean expect_replaced)
{
  g_autoptr (BbValueBackend) backend = memory_with (stored != NULL ? "k" : NULL, stored);
  g_autoptr (GVariant) expected = current != NULL ? str (current) : NULL;
  g_autoptr (GError) error = NULL;
  gboolean replaced;

  replaced = bb_value_backend_set_value_if_current (backend, "k", expected,
                                                    g_variant_new_string ("new"), &error);
  g_assert_no_error (error);
  g_assert_cmpint (replaced, ==, expect_replaced);
  assert_value_is (backend, "k", expect_replaced ? "new" : stored);
}

static void
test_memory_if_current_absent_expected_absent (void)
{
  check_if_current (NULL, NULL, TRUE);
}

static void
test_memory_if_current_absent_expected_present (void)
{
  check_if_current (NULL, "old", FALSE);
}

static void
test_memory_if_current_present_equal (void)
{
  check_if_current ("old", "old", TRUE);
}

static void
test_memory_if_current_present_different (void)
{
  check_if_current ("changed by the app", "old", FALSE);
}

static void
test_memory_if_current_present_expected_absent (void)
{
  check_if_current ("written by the app", NULL, FALSE);
}

static void
test_memory_if_current_deep_equality (void)
{
  g_autoptr (BbValueBackend) backend = bb_memory_value_backend_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) same_contents = NULL;
  g_autoptr (GVariant) other_type = NULL;

  g_assert_true (bb_value_backend_set_value (
      backend, "k", g_variant_new_parsed ("{'note': <'x'>, 'n': <int32 1>}"), &error));

  /* A different instance with equal contents matches... */
  same_contents = g_variant_ref_sink (g_variant_new_parsed ("{'note': <'x'>, 'n': <int32 1>}"));
  g_assert_true (bb_value_backend_set_value_if_current (backend, "k", same_contents,
                                                        g_variant_new_uint32 (7), &error));
  g_assert_no_error (error);

  /* ...an equal number of another type does not. */
  other_type = g_variant_ref_sink (g_variant_new_int32 (7));
  g_assert_false (bb_value_backend_set_value_if_current (backend, "k", other_type,
                                                         g_variant_new_int32 (8), &error));
  g_assert_no_error (error);
}

/* The backend keeps its key list and snapshot between calls: every change must show. */
static void
test_memory_answers_follow_changes (void)
{
  g_autoptr (BbValueBackend) backend = bb_memory_value_backend_new ();
  g_autoptr (GVariant) first = NULL;
  g_autoptr (GVariant) second = NULL;
  g_autoptr (GVariant) third = NULL;
  g_auto (GStrv) keys = NULL;
  g_auto (GStrv) more_keys = NULL;
  g_auto (GStrv) scoped = NULL;

  g_assert_true (bb_value_backend_set_value (backend, "a", g_variant_new_string ("1"), NULL));
  first = bb_value_backend_snapshot (backend, NULL);
  keys = bb_value_backend_list_keys (backend, NULL);
  g_assert_cmpuint (g_strv_length (keys), ==, 1);

  g_assert_true (bb_value_backend_set_value (backend, "a", g_variant_new_string ("2"), NULL));
  second = bb_value_backend_snapshot (backend, NULL);
  g_assert_false (g_variant_equal (first, second));
  g_assert_true (
      bb_value_backend_set_value_if_current (backend, "b", NULL, g_variant_new_string ("3"), NULL));
  third = bb_value_backend_snapshot (backend, NULL);
  g_assert_cmpuint (g_variant_n_children (third), ==, 2);
  more_keys = bb_value_backend_list_keys (backend, NULL);
  g_assert_cmpuint (g_strv_length (more_keys), ==, 2);

  bb_memory_value_backend_set_scope (BB_MEMORY_VALUE_BACKEND (backend),
                                     (const char *const[]){ "z", NULL });
  scoped = bb_value_backend_list_keys (backend, NULL);
  g_assert_cmpuint (g_strv_length (scoped), ==, 3);
  g_assert_cmpstr (scoped[2], ==, "z");
}

/* Dictionaries are equal whatever the order of their entries (the engine may hand back
 * a decoded copy sorted by key), also nested in variants; a changed entry still differs. */
static void
test_memory_if_current_dictionary_order (void)
{
  g_autoptr (BbValueBackend) backend = bb_memory_value_backend_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reordered = NULL;
  g_autoptr (GVariant) changed = NULL;
  g_autoptr (GVariant) fewer = NULL;

  g_assert_true (bb_value_backend_set_value (
      backend, "k", g_variant_new_parsed ("{'memo': <'rent'>, 'meta': <{'b': <1>, 'a': <2>}>}"),
      &error));

  changed = g_variant_ref_sink (
      g_variant_new_parsed ("{'meta': <{'a': <2>, 'b': <3>}>, 'memo': <'rent'>}"));
  g_assert_false (bb_value_backend_set_value_if_current (
      backend, "k", changed, g_variant_new_parsed ("@a{sv} {}"), &error));
  fewer = g_variant_ref_sink (g_variant_new_parsed ("{'memo': <'rent'>}"));
  g_assert_false (bb_value_backend_set_value_if_current (
      backend, "k", fewer, g_variant_new_parsed ("@a{sv} {}"), &error));
  g_assert_no_error (error);

  reordered = g_variant_ref_sink (
      g_variant_new_parsed ("{'meta': <{'a': <2>, 'b': <1>}>, 'memo': <'rent'>}"));
  g_assert_true (bb_value_backend_set_value_if_current (
      backend, "k", reordered, g_variant_new_parsed ("@a{sv} {}"), &error));
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/value-backend/wrapper/plain", test_wrapper_plain);
  g_test_add_func ("/value-backend/wrapper/null-without-error", test_wrapper_nothing);
  g_test_add_func ("/value-backend/wrapper/errors", test_wrapper_errors);
  g_test_add_func ("/value-backend/wrapper/result-and-error", test_wrapper_result_and_error);
  g_test_add_func ("/value-backend/wrapper/wrong-snapshot-type", test_wrapper_wrong_snapshot_type);
  g_test_add_func ("/value-backend/wrapper/bad-utf8-key", test_wrapper_bad_utf8_key);
  g_test_add_func ("/value-backend/wrapper/missing-vfuncs", test_wrapper_missing_vfuncs);
  g_test_add_func ("/value-backend/wrapper/bad-arguments", test_wrapper_bad_arguments);
  g_test_add_func ("/value-backend/memory/keys-and-scope", test_memory_keys_and_scope);
  g_test_add_func ("/value-backend/memory/snapshot", test_memory_snapshot);
  g_test_add_func ("/value-backend/memory/get-and-set", test_memory_get_and_set);
  g_test_add_func ("/value-backend/memory/answers-follow-changes",
                   test_memory_answers_follow_changes);
  g_test_add_func ("/value-backend/memory/if-current/dictionary-order",
                   test_memory_if_current_dictionary_order);
  g_test_add_func ("/value-backend/memory/if-current/absent-expected-absent",
                   test_memory_if_current_absent_expected_absent);
  g_test_add_func ("/value-backend/memory/if-current/absent-expected-present",
                   test_memory_if_current_absent_expected_present);
  g_test_add_func ("/value-backend/memory/if-current/present-equal",
                   test_memory_if_current_present_equal);
  g_test_add_func ("/value-backend/memory/if-current/present-different",
                   test_memory_if_current_present_different);
  g_test_add_func ("/value-backend/memory/if-current/present-expected-absent",
                   test_memory_if_current_present_expected_absent);
  g_test_add_func ("/value-backend/memory/if-current/deep-equality",
                   test_memory_if_current_deep_equality);

  return g_test_run ();
}
