/* test-keystore-identity.c: BbKeystoreIdentity against a real Secret Service
 * (gnome-keyring in a private D-Bus session: run through tests/keyring-session.sh).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <bbsync/bbsync.h>
#include <libsecret/secret.h>
#include <string.h>

#include "bb-crypto-private.h"
#include "bb-test-utils.h"

/* The password keyring-session.sh unlocks the login keyring with. */
#define KEYRING_PASSWORD "bbsync-test-password"

static const char *self_path;

static char *
unique_account (void)
{
  static guint counter;

  return g_strdup_printf ("org.bbsync.Test.%d.%u", (int)getpid (), ++counter);
}

static char *
describe (BbKeystoreIdentity *identity)
{
  g_autofree char *key_id = bb_identity_get_key_id (BB_IDENTITY (identity));
  g_autoptr (GBytes) wrap = bb_identity_get_wrap_public_key (BB_IDENTITY (identity));
  g_autofree char *wrap_hex = bb_protocol_hex_encode (wrap);

  return g_strdup_printf ("%s %s", key_id, wrap_hex);
}

/* The child side of a reload: loads @account in a fresh process and prints what it
 * found. */
static int
print_identity (const char *account)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BbKeystoreIdentity) identity = bb_keystore_identity_new_sync (account, NULL, &error);
  g_autofree char *description = NULL;

  if (identity == NULL)
    {
      g_print ("error %s %d %s\n", g_quark_to_string (error->domain), error->code, error->message);
      return 0;
    }
  description = describe (identity);
  g_print ("%s %s\n", bb_keystore_identity_get_created (identity) ? "created" : "loaded",
           description);
  return 0;
}

static char *
run_child (const char *account, const char **extra_env)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) envp = g_get_environ ();
  const char *argv[] = { self_path, "--print-identity", account, NULL };
  char *out = NULL;
  int status = 0;

  for (guint i = 0; extra_env != NULL && extra_env[i] != NULL; i += 2)
    envp = g_environ_setenv (envp, extra_env[i], extra_env[i + 1], TRUE);
  g_spawn_sync (NULL, (char **)argv, envp, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL, &status,
                &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_strstrip (out);
  return out;
}

static GBytes *
sign_login (BbIdentity *identity, GBytes *challenge, GError **error)
{
  g_autoptr (GAsyncResult) res = NULL;

  BB_TEST_AWAIT (
      res, bb_identity_sign_login_async (identity, challenge, NULL, bb_test_got_result, &res));
  return bb_identity_sign_login_finish (identity, res, error);
}

static void
delete_identity (BbKeystoreIdentity *identity)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;

  BB_TEST_AWAIT (res, bb_keystore_identity_delete_async (identity, NULL, bb_test_got_result, &res));
  g_assert_true (bb_keystore_identity_delete_finish (identity, res, &error));
  g_assert_no_error (error);
}

/* Create, use, reload in another process, delete. */
static void
test_create_reload_delete (void)
{
  g_autofree char *account = unique_account ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (BbKeystoreIdentity) identity = NULL;
  g_autoptr (BbKeystoreIdentity) again = NULL;
  g_autoptr (BbKeystoreIdentity) fresh = NULL;
  g_autoptr (GBytes) challenge = bb_test_repeat (0x01, 32);
  g_autoptr (GBytes) signature = NULL;
  g_autoptr (GBytes) intent = NULL;
  g_autoptr (GBytes) auth = NULL;
  g_autoptr (GBytes) wrap = NULL;
  g_autoptr (GBytes) dek = bb_test_repeat (0x22, 32);
  g_autoptr (GBytes) wrapped = NULL;
  g_autoptr (GBytes) unwrapped = NULL;
  g_autoptr (GBytes) attestation = NULL;
  g_autofree char *key_id = NULL;
  g_autofree char *description = NULL;
  g_autofree char *again_description = NULL;
  g_autofree char *child = NULL;
  g_autofree char *expected = NULL;
  const char *ns = "11111111111111111111111111111111";

  BB_TEST_AWAIT (res, bb_keystore_identity_new_async (account, NULL, bb_test_got_result, &res));
  identity = bb_keystore_identity_new_finish (res, &error);
  g_assert_no_error (error);
  g_assert_true (bb_keystore_identity_get_created (identity));
  g_assert_cmpstr (bb_keystore_identity_get_account (identity), ==, account);
  description = describe (identity);

  /* the signature verifies against the public key over the login intent */
  key_id = bb_identity_get_key_id (BB_IDENTITY (identity));
  auth = bb_identity_get_auth_public_key (BB_IDENTITY (identity));
  wrap = bb_identity_get_wrap_public_key (BB_IDENTITY (identity));
  g_assert_cmpuint (g_bytes_get_size (auth), ==, 32);
  signature = sign_login (BB_IDENTITY (identity), challenge, &error);
  g_assert_no_error (error);
  intent = bb_protocol_login_intent (challenge, "keystore", key_id, auth, wrap, &error);
  g_assert_no_error (error);
  g_assert_true (bb_protocol_verify_signature (auth, intent, signature, &error));
  g_assert_no_error (error);

  /* a DEK wrapped to it unwraps; one bound to another namespace does not */
  wrapped = bb_protocol_wrap_dek (wrap, ns, dek, &error);
  g_assert_no_error (error);
  BB_TEST_AWAIT (res, bb_identity_unwrap_dek_async (BB_IDENTITY (identity), ns, wrapped, NULL,
                                                    bb_test_got_result, &res));
  unwrapped = bb_identity_unwrap_dek_finish (BB_IDENTITY (identity), res, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (unwrapped, dek));
  BB_TEST_AWAIT (res, bb_identity_unwrap_dek_async (BB_IDENTITY (identity),
                                                    "22222222222222222222222222222222", wrapped,
                                                    NULL, bb_test_got_result, &res));
  g_assert_null (bb_identity_unwrap_dek_finish (BB_IDENTITY (identity), res, &error));
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_CRYPTO);
  g_clear_error (&error);

  /* a software keystore cannot attest */
  BB_TEST_AWAIT (res, bb_identity_attest_async (BB_IDENTITY (identity), challenge, NULL,
                                                bb_test_got_result, &res));
  attestation = bb_identity_attest_finish (BB_IDENTITY (identity), res, &error);
  g_assert_null (attestation);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_UNSUPPORTED);
  g_clear_error (&error);

  /* the same account in this process and in a fresh one: the same keys */
  again = bb_keystore_identity_new_sync (account, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (bb_keystore_identity_get_created (again));
  again_description = describe (again);
  g_assert_cmpstr (again_description, ==, description);
  child = run_child (account, NULL);
  expected = g_strconcat ("loaded ", description, NULL);
  g_assert_cmpstr (child, ==, expected);

  /* delete: the keys are gone, and the next load creates new ones */
  delete_identity (identity);
  g_clear_pointer (&signature, g_bytes_unref);
  signature = sign_login (BB_IDENTITY (again), challenge, &error);
  g_assert_null (signature);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_KEYRING);
  g_clear_error (&error);
  fresh = bb_keystore_identity_new_sync (account, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (bb_keystore_identity_get_created (fresh));
  g_free (again_description);
  again_description = describe (fresh);
  g_assert_cmpstr (again_description, !=, description);
  delete_identity (fresh);
  /* deleting twice is fine */
  delete_identity (fresh);
}

static SecretCollection *
default_collection (SecretService **out_service)
{
  g_autoptr (GError) error = NULL;
  SecretService *service;
  SecretCollection *collection;

  service = secret_service_get_sync (SECRET_SERVICE_LOAD_COLLECTIONS, NULL, &error);
  g_assert_no_error (error);
  collection = secret_collection_for_alias_sync (service, SECRET_COLLECTION_DEFAULT,
                                                 SECRET_COLLECTION_NONE, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (collection);
  *out_service = service;
  return collection;
}

static void
unlock_keyring (const char *collection_path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_autoptr (GVariant) opened = NULL;
  g_autoptr (GVariant) reply = NULL;
  const char *session = NULL;

  /* Unlocking through the Secret Service API needs a password prompt, which a test
   * session has no one to answer; gnome-keyring's own interface takes the password
   * directly (the way its own tests and Seahorse do it). */
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
}

/* A locked keyring is an error, and never makes a new identity replace the old one. */
static void
test_locked_keyring (void)
{
  g_autofree char *account = unique_account ();
  g_autoptr (GError) error = NULL;
  g_autoptr (BbKeystoreIdentity) identity = NULL;
  g_autoptr (BbKeystoreIdentity) locked = NULL;
  g_autoptr (BbKeystoreIdentity) after = NULL;
  g_autoptr (SecretService) service = NULL;
  g_autoptr (SecretCollection) collection = NULL;
  g_autoptr (GBytes) challenge = bb_test_repeat (0x01, 32);
  g_autoptr (GBytes) signature = NULL;
  g_autofree char *description = NULL;
  g_autofree char *after_description = NULL;
  g_autofree char *child = NULL;
  g_autofree char *collection_path = NULL;
  GList *objects;

  identity = bb_keystore_identity_new_sync (account, NULL, &error);
  g_assert_no_error (error);
  description = describe (identity);

  collection = default_collection (&service);
  collection_path = g_strdup (g_dbus_proxy_get_object_path (G_DBUS_PROXY (collection)));
  objects = g_list_append (NULL, collection);
  secret_service_lock_sync (service, objects, NULL, NULL, &error);
  g_list_free (objects);
  g_assert_no_error (error);
  g_assert_true (secret_collection_get_locked (collection));
  /* Drop the proxies: items cached in them would not see the unlock below until their
   * property change signals are dispatched. */
  g_clear_object (&collection);
  g_clear_object (&service);
  secret_service_disconnect ();

  locked = bb_keystore_identity_new_sync (account, NULL, &error);
  g_assert_null (locked);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_KEYRING);
  if (strstr (error->message, "locked") == NULL)
    g_error ("“%s” does not say the keyring is locked", error->message);
  g_clear_error (&error);

  /* the same from a fresh process */
  child = run_child (account, NULL);
  g_assert_true (g_str_has_prefix (child, "error bb-sync-error-quark 8 "));

  /* an existing object cannot sign while the keyring is locked */
  signature = sign_login (BB_IDENTITY (identity), challenge, &error);
  g_assert_null (signature);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_KEYRING);
  g_clear_error (&error);

  unlock_keyring (collection_path);
  after = bb_keystore_identity_new_sync (account, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (bb_keystore_identity_get_created (after));
  after_description = describe (after);
  g_assert_cmpstr (after_description, ==, description);
  signature = sign_login (BB_IDENTITY (identity), challenge, &error);
  g_assert_no_error (error);
  g_assert_nonnull (signature);
  delete_identity (after);
}

/* No Secret Service at all: a clear keyring error. */
static void
test_no_secret_service (void)
{
  g_autofree char *account = unique_account ();
  const char *env[] = { "DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bbsync-no-bus", NULL };
  g_autofree char *child = run_child (account, env);

  g_assert_true (g_str_has_prefix (child, "error bb-sync-error-quark 8 "));
}

/* A malformed secret under the schema is an error, not a reason to start over. */
static void
test_malformed_secret (void)
{
  g_autofree char *account = unique_account ();
  g_autoptr (GError) error = NULL;
  g_autoptr (BbKeystoreIdentity) identity = NULL;
  g_autoptr (GHashTable) attributes = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *stored = NULL;
  SecretSchema schema = {
    BB_KEYSTORE_IDENTITY_SCHEMA_NAME,
    SECRET_SCHEMA_NONE,
    { { "account", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "version", SECRET_SCHEMA_ATTRIBUTE_INTEGER },
      { NULL, 0 } },
  };

  g_hash_table_insert (attributes, (gpointer) "account", account);
  g_hash_table_insert (attributes, (gpointer) "version", (gpointer) "1");
  secret_password_storev_sync (&schema, attributes, SECRET_COLLECTION_DEFAULT, "bad",
                               "bm90IGEga2V5", NULL, &error);
  g_assert_no_error (error);

  identity = bb_keystore_identity_new_sync (account, NULL, &error);
  g_assert_null (identity);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_KEYRING);
  g_clear_error (&error);

  /* still the malformed secret: nothing replaced it */
  stored = secret_password_lookupv_sync (&schema, attributes, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (stored, ==, "bm90IGEga2V5");
  secret_password_clearv_sync (&schema, attributes, NULL, &error);
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  self_path = argv[0];
  if (argc == 3 && g_str_equal (argv[1], "--print-identity"))
    return print_identity (argv[2]);

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/keystore-identity/create-reload-delete", test_create_reload_delete);
  g_test_add_func ("/keystore-identity/locked-keyring", test_locked_keyring);
  g_test_add_func ("/keystore-identity/no-secret-service", test_no_secret_service);
  g_test_add_func ("/keystore-identity/malformed-secret", test_malformed_secret);

  return g_test_run ();
}
