/* test-invite-secrets.c: invite secrets in a real Secret Service (gnome-keyring in a
 * private D-Bus session: run through tests/keyring-session.sh).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <bbsync/bbsync.h>
#include <libsecret/secret.h>
#include <string.h>
#include <unistd.h>

#include "bb-crypto-private.h"
#include "bb-invite-secrets-private.h"
#include "bb-test-utils.h"

#define ORIGIN "https://sync.example"
#define NOW G_GINT64_CONSTANT (1800000000)

static const char *self_path;

static char *
unique_key_id (void)
{
  static guint counter;

  return g_strdup_printf ("test-key-%d-%u", (int)getpid (), ++counter);
}

static char *
random_hex (gsize len)
{
  guint8 raw[32];
  g_autoptr (GBytes) bytes = NULL;

  g_assert_cmpuint (len, <=, sizeof raw);
  bb_crypto_random_bytes (raw, len);
  bytes = g_bytes_new (raw, len);
  return bb_protocol_hex_encode (bytes);
}

static BbInvite *
random_invite (gint64 expires_at)
{
  g_autofree char *namespace_id = random_hex (BB_PROTOCOL_NAMESPACE_ID_SIZE);
  g_autofree char *invite_id = random_hex (BB_PROTOCOL_INVITE_ID_SIZE);
  g_autoptr (GError) error = NULL;
  guint8 raw[BB_PROTOCOL_INVITE_SECRET_SIZE];
  g_autoptr (GBytes) secret = NULL;
  BbInvite *invite;

  bb_crypto_random_bytes (raw, sizeof raw);
  secret = g_bytes_new (raw, sizeof raw);
  invite = bb_invite_new (ORIGIN, namespace_id, invite_id, expires_at, secret, &error);
  g_assert_no_error (error);
  return invite;
}

/* Blocking wrappers over the async API. */

static gboolean
store (const char *key_id, BbInvite *invite, GError **error)
{
  g_autoptr (GAsyncResult) res = NULL;

  BB_TEST_AWAIT (res,
                 bb_invite_secrets_store_async (key_id, invite, NULL, bb_test_got_result, &res));
  return bb_invite_secrets_store_finish (res, error);
}

static BbInvite *
lookup (const char *key_id, const char *namespace_id, const char *invite_id, GError **error)
{
  g_autoptr (GAsyncResult) res = NULL;

  BB_TEST_AWAIT (res, bb_invite_secrets_lookup_async (key_id, namespace_id, invite_id, NULL,
                                                      bb_test_got_result, &res));
  return bb_invite_secrets_lookup_finish (res, error);
}

static gboolean delete (const char *key_id, const char *namespace_id, const char *invite_id,
                        GError **error)
{
  g_autoptr (GAsyncResult) res = NULL;

  BB_TEST_AWAIT (res, bb_invite_secrets_delete_async (key_id, namespace_id, invite_id, NULL,
                                                      bb_test_got_result, &res));
  return bb_invite_secrets_delete_finish (res, error);
}

static guint
purge (const char *key_id, gint64 now, GError **error)
{
  g_autoptr (GAsyncResult) res = NULL;

  BB_TEST_AWAIT (
      res, bb_invite_secrets_purge_expired_async (key_id, now, NULL, bb_test_got_result, &res));
  return bb_invite_secrets_purge_expired_finish (res, error);
}

static void
store_ok (const char *key_id, BbInvite *invite)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (store (key_id, invite, &error));
  g_assert_no_error (error);
}

static void
assert_not_found (const char *key_id, BbInvite *invite)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BbInvite) found = lookup (key_id, bb_invite_get_namespace_id (invite),
                                       bb_invite_get_invite_id (invite), &error);

  g_assert_null (found);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_NOT_FOUND);
}

static void
assert_same_invite (BbInvite *a, BbInvite *b)
{
  g_autofree char *uri_a = bb_invite_to_uri (a);
  g_autofree char *uri_b = bb_invite_to_uri (b);
  g_autoptr (GBytes) server_a = bb_invite_dup_server_secret (a);
  g_autoptr (GBytes) server_b = bb_invite_dup_server_secret (b);

  g_assert_cmpstr (uri_a, ==, uri_b);
  g_assert_true (g_bytes_equal (server_a, server_b));
  g_assert_cmpint (bb_invite_get_expires_at (a), ==, bb_invite_get_expires_at (b));
}

/* What the keyring holds under the schema for @key_id, straight from libsecret. */
static guint
count_items (const char *key_id)
{
  const SecretSchema schema = {
    BB_INVITE_SECRETS_SCHEMA_NAME,
    SECRET_SCHEMA_NONE,
    { { "key-id", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "namespace-id", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "invite-id", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "expires-at", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 } },
  };
  g_autoptr (GError) error = NULL;
  GList *found;
  guint n;

  found = secret_password_search_sync (&schema, SECRET_SEARCH_ALL, NULL, &error, "key-id", key_id,
                                       NULL);
  g_assert_no_error (error);
  n = g_list_length (found);
  g_list_free_full (found, g_object_unref);
  return n;
}

/* The child side of a restart: looks the invite up in a fresh process and prints a
 * digest of it (never the secret itself), or the error. */
static int
print_lookup (const char *key_id, const char *namespace_id, const char *invite_id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BbInvite) invite = lookup (key_id, namespace_id, invite_id, &error);
  g_autofree char *uri = NULL;
  g_autofree char *digest = NULL;

  if (invite == NULL)
    {
      g_print ("error %s %d\n", g_quark_to_string (error->domain), error->code);
      return 0;
    }
  uri = bb_invite_to_uri (invite);
  digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256, uri, -1);
  g_print ("found %s\n", digest);
  return 0;
}

static char *
run_child (const char *key_id, BbInvite *invite)
{
  g_autoptr (GError) error = NULL;
  const char *argv[] = { self_path,
                         "--lookup",
                         key_id,
                         bb_invite_get_namespace_id (invite),
                         bb_invite_get_invite_id (invite),
                         NULL };
  char *out = NULL;
  int status = 0;

  g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL, &status,
                &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_strstrip (out);
  return out;
}

static void
test_roundtrip (void)
{
  g_autofree char *key_id = unique_key_id ();
  g_autoptr (BbInvite) invite = random_invite (NOW + 3600);
  g_autoptr (BbInvite) later = NULL;
  g_autoptr (BbInvite) found = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) secret = NULL;

  store_ok (key_id, invite);
  found = lookup (key_id, bb_invite_get_namespace_id (invite), bb_invite_get_invite_id (invite),
                  &error);
  g_assert_no_error (error);
  g_assert_nonnull (found);
  assert_same_invite (found, invite);
  g_assert_cmpuint (count_items (key_id), ==, 1);

  /* Storing the same invite again (here with a later expiry) replaces it. */
  g_clear_pointer (&found, bb_invite_unref);
  secret = bb_test_repeat (0x42, 32);
  later = bb_invite_new (ORIGIN, bb_invite_get_namespace_id (invite),
                         bb_invite_get_invite_id (invite), NOW + 7200, secret, &error);
  g_assert_no_error (error);
  store_ok (key_id, later);
  g_assert_cmpuint (count_items (key_id), ==, 1);
  found = lookup (key_id, bb_invite_get_namespace_id (invite), bb_invite_get_invite_id (invite),
                  &error);
  g_assert_no_error (error);
  assert_same_invite (found, later);

  g_assert_true (delete (key_id, bb_invite_get_namespace_id (invite),
                         bb_invite_get_invite_id (invite), &error));
  g_assert_no_error (error);
}

/* Approval after a restart: stored by this process, read back by a new one. */
static void
test_restart (void)
{
  g_autofree char *key_id = unique_key_id ();
  g_autoptr (BbInvite) invite = random_invite (NOW + 3600);
  g_autoptr (GError) error = NULL;
  g_autofree char *uri = bb_invite_to_uri (invite);
  g_autofree char *digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256, uri, -1);
  g_autofree char *expected = g_strdup_printf ("found %s", digest);
  g_autofree char *child = NULL;
  g_autofree char *child_after = NULL;
  g_autofree char *not_found
      = g_strdup_printf ("error %s %d", g_quark_to_string (BB_SYNC_ERROR), BB_SYNC_ERROR_NOT_FOUND);

  store_ok (key_id, invite);
  child = run_child (key_id, invite);
  g_assert_cmpstr (child, ==, expected);

  g_assert_true (delete (key_id, bb_invite_get_namespace_id (invite),
                         bb_invite_get_invite_id (invite), &error));
  g_assert_no_error (error);
  child_after = run_child (key_id, invite);
  g_assert_cmpstr (child_after, ==, not_found);
}

static void
test_delete (void)
{
  g_autofree char *key_id = unique_key_id ();
  g_autoptr (BbInvite) invite = random_invite (NOW + 3600);
  g_autoptr (BbInvite) other = random_invite (NOW + 3600);
  g_autoptr (GError) error = NULL;

  store_ok (key_id, invite);
  store_ok (key_id, other);
  g_assert_cmpuint (count_items (key_id), ==, 2);
  g_assert_true (delete (key_id, bb_invite_get_namespace_id (invite),
                         bb_invite_get_invite_id (invite), &error));
  g_assert_no_error (error);
  assert_not_found (key_id, invite);
  g_assert_cmpuint (count_items (key_id), ==, 1);

  /* Idempotent. */
  g_assert_true (delete (key_id, bb_invite_get_namespace_id (invite),
                         bb_invite_get_invite_id (invite), &error));
  g_assert_no_error (error);

  g_assert_true (
      delete (key_id, bb_invite_get_namespace_id (other), bb_invite_get_invite_id (other), &error));
  g_assert_no_error (error);
  assert_not_found (key_id, other);
  g_assert_cmpuint (count_items (key_id), ==, 0);
}

static void
test_purge_expired (void)
{
  g_autofree char *key_id = unique_key_id ();
  g_autofree char *other_key_id = unique_key_id ();
  g_autoptr (BbInvite) past = random_invite (NOW - 10);
  g_autoptr (BbInvite) at_now = random_invite (NOW);
  g_autoptr (BbInvite) future = random_invite (NOW + 1);
  g_autoptr (BbInvite) other_past = random_invite (NOW - 10);
  g_autoptr (BbInvite) found = NULL;
  g_autoptr (GError) error = NULL;

  store_ok (key_id, past);
  store_ok (key_id, at_now);
  store_ok (key_id, future);
  store_ok (other_key_id, other_past);

  g_assert_cmpuint (purge (key_id, NOW, &error), ==, 2);
  g_assert_no_error (error);
  assert_not_found (key_id, past);
  assert_not_found (key_id, at_now);
  found = lookup (key_id, bb_invite_get_namespace_id (future), bb_invite_get_invite_id (future),
                  &error);
  g_assert_no_error (error);
  assert_same_invite (found, future);
  g_assert_cmpuint (count_items (key_id), ==, 1);
  /* Another identity's invites are not touched. */
  g_assert_cmpuint (count_items (other_key_id), ==, 1);

  g_assert_cmpuint (purge (key_id, NOW, &error), ==, 0);
  g_assert_no_error (error);
  g_assert_cmpuint (purge (key_id, NOW + 1, &error), ==, 1);
  g_assert_no_error (error);
  g_assert_cmpuint (purge (other_key_id, NOW, &error), ==, 1);
  g_assert_no_error (error);
  g_assert_cmpuint (count_items (key_id), ==, 0);
  g_assert_cmpuint (count_items (other_key_id), ==, 0);
}

static void
test_identities_isolated (void)
{
  g_autofree char *key_a = unique_key_id ();
  g_autofree char *key_b = unique_key_id ();
  g_autoptr (BbInvite) invite = random_invite (NOW + 3600);
  g_autoptr (BbInvite) found = NULL;
  g_autoptr (GError) error = NULL;

  store_ok (key_a, invite);
  assert_not_found (key_b, invite);
  /* B deleting "its" copy leaves A's alone. */
  g_assert_true (delete (key_b, bb_invite_get_namespace_id (invite),
                         bb_invite_get_invite_id (invite), &error));
  g_assert_no_error (error);
  found = lookup (key_a, bb_invite_get_namespace_id (invite), bb_invite_get_invite_id (invite),
                  &error);
  g_assert_no_error (error);
  assert_same_invite (found, invite);
  g_assert_cmpuint (count_items (key_b), ==, 0);

  g_assert_true (delete (key_a, bb_invite_get_namespace_id (invite),
                         bb_invite_get_invite_id (invite), &error));
  g_assert_no_error (error);
}

/* No Secret Service at all: every call fails with a keyring error, without a hang. */
static void
test_no_secret_service (void)
{
  if (g_test_subprocess ())
    {
      g_autofree char *key_id = unique_key_id ();
      g_autoptr (BbInvite) invite = random_invite (NOW + 3600);
      g_autoptr (BbInvite) found = NULL;
      g_autoptr (GError) error = NULL;
      g_autofree char *uri = bb_invite_to_uri (invite);
      const char *fragment = strstr (uri, "#k=");

      g_setenv ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bbsync-no-bus", TRUE);
      g_assert_false (store (key_id, invite, &error));
      g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_KEYRING);
      /* The secret never shows up in a message. */
      g_assert_nonnull (fragment);
      g_assert_null (strstr (error->message, fragment + 3));
      g_clear_error (&error);

      found = lookup (key_id, bb_invite_get_namespace_id (invite), bb_invite_get_invite_id (invite),
                      &error);
      g_assert_null (found);
      g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_KEYRING);
      g_clear_error (&error);

      g_assert_false (delete (key_id, bb_invite_get_namespace_id (invite),
                              bb_invite_get_invite_id (invite), &error));
      g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_KEYRING);
      g_clear_error (&error);

      g_assert_cmpuint (purge (key_id, NOW, &error), ==, 0);
      g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_KEYRING);
      return;
    }
  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

int
main (int argc, char **argv)
{
  self_path = argv[0];
  if (argc == 5 && g_str_equal (argv[1], "--lookup"))
    return print_lookup (argv[2], argv[3], argv[4]);

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/invite-secrets/roundtrip", test_roundtrip);
  g_test_add_func ("/invite-secrets/restart", test_restart);
  g_test_add_func ("/invite-secrets/delete", test_delete);
  g_test_add_func ("/invite-secrets/purge-expired", test_purge_expired);
  g_test_add_func ("/invite-secrets/identities-isolated", test_identities_isolated);
  g_test_add_func ("/invite-secrets/no-secret-service", test_no_secret_service);

  return g_test_run ();
}
