/* test-client.c: BbClient and the identities against the reference server (BbServer)
 * running in this process on loopback.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <bbsync/bbsync.h>
#include <string.h>

#include "bb-protocol-types-private.h"
#include "bb-crypto-private.h"
#include "bb-test-identity-private.h"
#include "bb-invite-private.h"
#include "bb-server.h"
#include "bb-test-utils.h"

#define ORIGIN "https://sync.example"

typedef struct
{
  BbServer *server;
  BbClient *client;
} Env;

static Env *
env_new (guint watch_timeout_ms)
{
  Env *env = g_new0 (Env, 1);
  g_autoptr (GError) error = NULL;

  env->server = bb_server_new (":memory:", &error);
  g_assert_no_error (error);
  bb_server_set_watch_timeout (env->server, watch_timeout_ms);
  bb_server_listen (env->server, "127.0.0.1", 0, &error);
  g_assert_no_error (error);
  env->client = bb_client_new (bb_server_get_base_url (env->server), &error);
  g_assert_no_error (error);
  return env;
}

static BbClient *
env_new_client (Env *env)
{
  g_autoptr (GError) error = NULL;
  BbClient *client = bb_client_new (bb_server_get_base_url (env->server), &error);

  g_assert_no_error (error);
  return client;
}

static void
env_free (Env *env)
{
  g_clear_object (&env->client);
  bb_server_shutdown (env->server);
  g_clear_object (&env->server);
  g_free (env);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static BbLoginResult *
login (BbClient *client, BbIdentity *identity)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  BbLoginResult *result;

  BB_TEST_AWAIT (
      res, bb_client_login_with_identity_async (client, identity, NULL, bb_test_got_result, &res));
  result = bb_client_login_with_identity_finish (client, res, &error);
  g_assert_no_error (error);
  g_assert_nonnull (result);
  return result;
}

static char *
random_hex (gsize len)
{
  g_autofree guint8 *buf = g_malloc (len);
  g_autoptr (GBytes) bytes = NULL;

  bb_crypto_random_bytes (buf, len);
  bytes = g_bytes_new (buf, len);
  return bb_protocol_hex_encode (bytes);
}

static GBytes *
random_bytes (gsize len)
{
  guint8 *buf = g_malloc (len);

  bb_crypto_random_bytes (buf, len);
  return g_bytes_new_take (buf, len);
}

static GBytes *
wrap_to (BbIdentity *identity, const char *namespace_id, GBytes *dek)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) wrap_public_key = bb_identity_get_wrap_public_key (identity);
  GBytes *wrapped = bb_protocol_wrap_dek (wrap_public_key, namespace_id, dek, &error);

  g_assert_no_error (error);
  return wrapped;
}

static GBytes *
unwrap (BbIdentity *identity, const char *namespace_id, GBytes *wrapped)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  GBytes *dek;

  BB_TEST_AWAIT (res, bb_identity_unwrap_dek_async (identity, namespace_id, wrapped, NULL,
                                                    bb_test_got_result, &res));
  dek = bb_identity_unwrap_dek_finish (identity, res, &error);
  g_assert_no_error (error);
  return dek;
}

/* Creates the default namespace of the logged-in identity; returns its ID and DEK. */
static char *
ensure_default (BbClient *client, BbIdentity *identity, GBytes **out_dek)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *proposed = random_hex (16);
  g_autoptr (GBytes) dek = random_bytes (32);
  g_autoptr (GBytes) wrapped = wrap_to (identity, proposed, dek);
  g_autoptr (BbNamespaceListing) info = NULL;

  BB_TEST_AWAIT (res, bb_client_ensure_default_namespace_async (client, proposed, wrapped, NULL,
                                                                bb_test_got_result, &res));
  info = bb_client_ensure_default_namespace_finish (client, res, &error);
  g_assert_no_error (error);
  g_assert_true (bb_namespace_listing_get_created (info));
  g_assert_cmpstr (bb_namespace_listing_get_namespace_id (info), ==, proposed);
  g_assert_cmpstr (bb_namespace_listing_get_kind (info), ==, "default");
  *out_dek = g_steal_pointer (&dek);
  return g_steal_pointer (&proposed);
}

static guint64
put (BbClient *client, const char *namespace_id, const char *item_id, GBytes *dek,
     guint64 known_version, const char *text, GError **error)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GBytes) plaintext = g_bytes_new (text, strlen (text));
  g_autoptr (GBytes) nonce = NULL;
  g_autoptr (GBytes) aad = NULL;
  g_autoptr (GBytes) ciphertext = NULL;

  ciphertext = bb_protocol_encrypt_item (dek, namespace_id, item_id, known_version + 1, plaintext,
                                         &nonce, &aad, &local_error);
  g_assert_no_error (local_error);
  BB_TEST_AWAIT (res, bb_client_put_item_async (client, namespace_id, item_id, known_version, nonce,
                                                aad, ciphertext, NULL, bb_test_got_result, &res));
  return bb_client_put_item_finish (client, res, error);
}

static char *
get_text (BbClient *client, const char *namespace_id, const char *item_id, GBytes *dek,
          guint64 *out_version)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BbItemEnvelope) item = NULL;
  g_autoptr (GBytes) plaintext = NULL;

  BB_TEST_AWAIT (res, bb_client_get_item_async (client, namespace_id, item_id, NULL,
                                                bb_test_got_result, &res));
  item = bb_client_get_item_finish (client, res, &error);
  g_assert_no_error (error);
  plaintext = bb_protocol_decrypt_item (
      dek, namespace_id, item_id, bb_item_envelope_get_version (item),
      bb_item_envelope_get_nonce (item), bb_item_envelope_get_aad (item),
      bb_item_envelope_get_ciphertext (item), &error);
  g_assert_no_error (error);
  *out_version = bb_item_envelope_get_version (item);
  return g_strndup (g_bytes_get_data (plaintext, NULL), g_bytes_get_size (plaintext));
}

/* Login, the default namespace, items with versions, a stale If-Match. */
static void
test_login_namespace_items (void)
{
  Env *env = env_new (30000);
  g_autoptr (BbTestIdentity) alice = bb_test_identity_new ("client-alice");
  g_autoptr (BbLoginResult) result = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) dek = NULL;
  g_autoptr (GBytes) returned_dek = NULL;
  g_autoptr (BbNamespaceListing) info = NULL;
  g_autoptr (GPtrArray) namespaces = NULL;
  g_autoptr (BbNamespaceItems) items = NULL;
  g_autoptr (GBytes) other_dek = random_bytes (32);
  g_autoptr (GBytes) other_wrapped = NULL;
  g_autofree char *namespace_id = NULL;
  g_autofree char *item_id = NULL;
  g_autofree char *other_id = random_hex (16);
  g_autofree char *text = NULL;
  g_autofree char *token = NULL;
  g_auto (GStrv) item_ids = NULL;
  guint64 version = 0;

  result = login (env->client, BB_IDENTITY (alice));
  g_assert_cmpstr (bb_login_result_get_kind (result), ==, "keystore");
  g_assert_null (bb_login_result_get_default_namespace_id (result));
  g_assert_nonnull (bb_login_result_get_expires_at (result));
  token = bb_client_dup_access_token (env->client);
  g_assert_cmpstr (token, ==, bb_login_result_get_access_token (result));

  namespace_id = ensure_default (env->client, BB_IDENTITY (alice), &dek);

  /* ensuring again returns the existing namespace and its DEK, not the proposed one */
  other_wrapped = wrap_to (BB_IDENTITY (alice), other_id, other_dek);
  BB_TEST_AWAIT (res, bb_client_ensure_default_namespace_async (
                          env->client, other_id, other_wrapped, NULL, bb_test_got_result, &res));
  info = bb_client_ensure_default_namespace_finish (env->client, res, &error);
  g_assert_no_error (error);
  g_assert_false (bb_namespace_listing_get_created (info));
  g_assert_cmpstr (bb_namespace_listing_get_namespace_id (info), ==, namespace_id);
  returned_dek
      = unwrap (BB_IDENTITY (alice), namespace_id, bb_namespace_listing_get_wrapped_dek (info));
  g_assert_true (g_bytes_equal (returned_dek, dek));
  g_clear_pointer (&info, bb_namespace_listing_unref);

  BB_TEST_AWAIT (
      res, bb_client_get_default_namespace_async (env->client, NULL, bb_test_got_result, &res));
  info = bb_client_get_default_namespace_finish (env->client, res, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_namespace_listing_get_namespace_id (info), ==, namespace_id);

  /* create, read, update */
  item_id = bb_protocol_item_id (dek, "notes", "tx1", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (put (env->client, namespace_id, item_id, dek, 0, "first", &error), ==, 1);
  g_assert_no_error (error);
  text = get_text (env->client, namespace_id, item_id, dek, &version);
  g_assert_cmpstr (text, ==, "first");
  g_assert_cmpuint (version, ==, 1);
  g_assert_cmpuint (put (env->client, namespace_id, item_id, dek, 1, "second", &error), ==, 2);
  g_assert_no_error (error);
  g_free (text);
  text = get_text (env->client, namespace_id, item_id, dek, &version);
  g_assert_cmpstr (text, ==, "second");
  g_assert_cmpuint (version, ==, 2);

  /* a stale If-Match, and a create of an existing item: 412 */
  g_assert_cmpuint (put (env->client, namespace_id, item_id, dek, 1, "stale", &error), ==, 0);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_API);
  g_assert_cmpuint (bb_sync_error_get_http_status (error), ==, 412);
  g_assert_true (g_str_has_prefix (error->message, "HTTP 412: "));
  g_clear_error (&error);
  g_assert_cmpuint (put (env->client, namespace_id, item_id, dek, 0, "again", &error), ==, 0);
  g_assert_cmpuint (bb_sync_error_get_http_status (error), ==, 412);
  g_clear_error (&error);

  /* the snapshot and the list agree: head 2, the item at version 2 */
  BB_TEST_AWAIT (
      res, bb_client_get_items_async (env->client, namespace_id, NULL, bb_test_got_result, &res));
  items = bb_client_get_items_finish (env->client, res, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bb_namespace_items_get_head (items), ==, 2);
  g_assert_cmpuint (bb_namespace_items_get_version (items, item_id), ==, 2);
  item_ids = bb_namespace_items_dup_item_ids (items);
  g_assert_cmpuint (g_strv_length (item_ids), ==, 1);
  g_assert_cmpstr (item_ids[0], ==, item_id);

  BB_TEST_AWAIT (res,
                 bb_client_list_namespaces_async (env->client, NULL, bb_test_got_result, &res));
  namespaces = bb_client_list_namespaces_finish (env->client, res, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (namespaces->len, ==, 1);
  g_assert_cmpstr (bb_namespace_listing_get_namespace_id (g_ptr_array_index (namespaces, 0)), ==,
                   namespace_id);
  g_assert_cmpuint (bb_namespace_listing_get_head (g_ptr_array_index (namespaces, 0)), ==, 2);

  /* a later login reports the default namespace */
  g_clear_pointer (&result, bb_login_result_unref);
  result = login (env->client, BB_IDENTITY (alice));
  g_assert_cmpstr (bb_login_result_get_default_namespace_id (result), ==, namespace_id);

  env_free (env);
}

/* A server that asks for an attestation gets one with login and refresh (the server
 * refuses both without a valid one). */
static void
test_login_with_attestation (void)
{
  Env *env = env_new (30000);
  g_autoptr (BbTestIdentity) alice = bb_test_identity_new ("client-attest");
  g_autoptr (BbLoginResult) first = NULL;
  g_autoptr (BbLoginResult) refreshed = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;

  bb_server_set_require_attestation (env->server, TRUE);
  first = login (env->client, BB_IDENTITY (alice));
  BB_TEST_AWAIT (res, bb_client_refresh_with_identity_async (env->client, BB_IDENTITY (alice), NULL,
                                                             bb_test_got_result, &res));
  refreshed = bb_client_refresh_with_identity_finish (env->client, res, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_login_result_get_kind (refreshed), ==, "keystore");

  env_free (env);
}

/* Refresh, revoke-all-tokens and the 401 that follows. */
static void
test_refresh_and_revoke (void)
{
  Env *env = env_new (30000);
  g_autoptr (BbTestIdentity) alice = bb_test_identity_new ("client-alice");
  g_autoptr (BbLoginResult) first = NULL;
  g_autoptr (BbLoginResult) refreshed = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) namespaces = NULL;
  g_autofree char *token = NULL;
  gboolean ok;

  first = login (env->client, BB_IDENTITY (alice));

  BB_TEST_AWAIT (res, bb_client_refresh_with_identity_async (env->client, BB_IDENTITY (alice), NULL,
                                                             bb_test_got_result, &res));
  refreshed = bb_client_refresh_with_identity_finish (env->client, res, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_login_result_get_kind (refreshed), ==, "keystore");
  g_assert_null (bb_login_result_get_default_namespace_id (refreshed));
  token = bb_client_dup_access_token (env->client);
  g_assert_cmpstr (token, ==, bb_login_result_get_access_token (refreshed));
  g_assert_cmpstr (token, !=, bb_login_result_get_access_token (first));

  BB_TEST_AWAIT (res,
                 bb_client_list_namespaces_async (env->client, NULL, bb_test_got_result, &res));
  namespaces = bb_client_list_namespaces_finish (env->client, res, &error);
  g_assert_no_error (error);
  g_clear_pointer (&namespaces, g_ptr_array_unref);

  BB_TEST_AWAIT (res, bb_client_revoke_all_tokens_with_identity_async (
                          env->client, BB_IDENTITY (alice), NULL, bb_test_got_result, &res));
  ok = bb_client_revoke_all_tokens_with_identity_finish (env->client, res, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_free (token);
  token = bb_client_dup_access_token (env->client);
  g_assert_null (token);

  /* Both earlier tokens are now worthless. */
  for (guint i = 0; i < 2; i++)
    {
      BbLoginResult *old = i == 0 ? first : refreshed;

      bb_client_set_access_token (env->client, bb_login_result_get_access_token (old));
      BB_TEST_AWAIT (res,
                     bb_client_list_namespaces_async (env->client, NULL, bb_test_got_result, &res));
      namespaces = bb_client_list_namespaces_finish (env->client, res, &error);
      g_assert_null (namespaces);
      g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_API);
      g_assert_cmpuint (bb_sync_error_get_http_status (error), ==, 401);
      g_clear_error (&error);
    }

  /* and the raw revoke works with a sensitive-action challenge signed by hand */
  g_clear_pointer (&first, bb_login_result_unref);
  first = login (env->client, BB_IDENTITY (alice));
  {
    g_autoptr (GBytes) empty = g_bytes_new (NULL, 0);
    g_autofree char *fields_hash = bb_protocol_action_fields_hash (empty);
    g_autoptr (BbChallenge) challenge = NULL;
    g_autoptr (GBytes) signature = NULL;

    BB_TEST_AWAIT (res, bb_client_request_challenge_async (env->client, "sensitive-action",
                                                           "revoke-all-tokens", fields_hash, NULL,
                                                           bb_test_got_result, &res));
    challenge = bb_client_request_challenge_finish (env->client, res, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (bb_challenge_get_spam_control_kind (challenge), ==, "none");
    BB_TEST_AWAIT (res, bb_identity_sign_revoke_all_tokens_async (
                            BB_IDENTITY (alice), bb_challenge_get_bytes (challenge), NULL,
                            bb_test_got_result, &res));
    signature = bb_identity_sign_revoke_all_tokens_finish (BB_IDENTITY (alice), res, &error);
    g_assert_no_error (error);
    BB_TEST_AWAIT (res, bb_client_revoke_all_tokens_async (
                            env->client, "keystore", bb_test_identity_get_key_id (alice), challenge,
                            signature, NULL, bb_test_got_result, &res));
    g_assert_true (bb_client_revoke_all_tokens_finish (env->client, res, &error));
    g_assert_no_error (error);
  }

  env_free (env);
}

typedef struct
{
  char *namespace_id;
  GBytes *dek;
} Shared;

static void
create_shared (BbClient *client, BbIdentity *identity, Shared *shared)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) wrapped = NULL;
  g_autoptr (BbNamespaceListing) info = NULL;

  shared->namespace_id = random_hex (16);
  shared->dek = random_bytes (32);
  wrapped = wrap_to (identity, shared->namespace_id, shared->dek);
  BB_TEST_AWAIT (res, bb_client_create_namespace_async (client, shared->namespace_id, wrapped, NULL,
                                                        bb_test_got_result, &res));
  info = bb_client_create_namespace_finish (client, res, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_namespace_listing_get_kind (info), ==, "shared");
}

static BbInvite *
new_invite (const char *namespace_id)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *invite_id = random_hex (16);
  g_autoptr (GBytes) secret = random_bytes (32);
  BbInvite *invite;

  invite = bb_invite_new (ORIGIN, namespace_id, invite_id,
                          g_get_real_time () / G_USEC_PER_SEC + 600, secret, &error);
  g_assert_no_error (error);
  return invite;
}

static BbJoinRequestListing *
submit (BbClient *client, BbIdentity *identity, BbInvite *invite)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BbJoinRequest) request = NULL;
  g_autoptr (GBytes) server_secret = NULL;
  BbJoinRequestListing *info;

  BB_TEST_AWAIT (res, bb_identity_build_join_request_async (
                          identity, invite, g_get_real_time () / G_USEC_PER_SEC + 300, NULL,
                          bb_test_got_result, &res));
  request = bb_identity_build_join_request_finish (identity, res, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bb_join_request_get_version (request), ==, 1);
  g_assert_cmpstr (bb_join_request_get_server_origin (request), ==, ORIGIN);

  server_secret = bb_protocol_invite_server_secret (bb_invite_get_secret (invite), &error);
  g_assert_no_error (error);
  BB_TEST_AWAIT (res, bb_client_submit_join_request_async (client, request, server_secret, NULL,
                                                           bb_test_got_result, &res));
  info = bb_client_submit_join_request_finish (client, res, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_join_request_listing_get_status (info), ==, "pending");
  return info;
}

/* Invites and join requests at the raw level, end to end. */
static void
test_invites_and_join_requests (void)
{
  Env *env = env_new (30000);
  g_autoptr (BbClient) bob_client = env_new_client (env);
  g_autoptr (BbClient) carol_client = env_new_client (env);
  g_autoptr (BbTestIdentity) alice = bb_test_identity_new ("client-alice");
  g_autoptr (BbTestIdentity) bob = bb_test_identity_new ("client-bob");
  g_autoptr (BbTestIdentity) carol = bb_test_identity_new ("client-carol");
  g_autoptr (BbLoginResult) l1 = NULL;
  g_autoptr (BbLoginResult) l2 = NULL;
  g_autoptr (BbLoginResult) l3 = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BbInvite) invite = NULL;
  g_autoptr (BbInvite) invite_a = NULL;
  g_autoptr (BbInviteListing) created = NULL;
  g_autoptr (GPtrArray) invites = NULL;
  g_autoptr (BbJoinRequestListing) submitted = NULL;
  g_autoptr (BbJoinRequestListing) carol_submitted = NULL;
  g_autoptr (GPtrArray) requests = NULL;
  g_autoptr (GBytes) server_secret = NULL;
  g_autoptr (GBytes) bob_wrap_key = NULL;
  g_autoptr (GBytes) wrapped_for_bob = NULL;
  g_autoptr (BbMember) member = NULL;
  g_autoptr (GBytes) bob_wrapped = NULL;
  g_autoptr (GBytes) bob_dek = NULL;
  g_autoptr (GPtrArray) members = NULL;
  g_autoptr (GBytes) payload = NULL;
  g_autofree char *expected_hash = NULL;
  BbJoinRequestListing *entry;
  BbJoinRequest *request;
  Shared shared = { 0 };
  gboolean ok;

  l1 = login (env->client, BB_IDENTITY (alice));
  l2 = login (bob_client, BB_IDENTITY (bob));
  l3 = login (carol_client, BB_IDENTITY (carol));
  create_shared (env->client, BB_IDENTITY (alice), &shared);

  /* variant B (no maxPending), as the BitBox02 signs it */
  invite = new_invite (shared.namespace_id);
  BB_TEST_AWAIT (res, bb_client_create_invite_with_identity_async (env->client, BB_IDENTITY (alice),
                                                                   invite, 0, 10, NULL,
                                                                   bb_test_got_result, &res));
  created = bb_client_create_invite_with_identity_finish (env->client, res, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_invite_listing_get_invite_id (created), ==, bb_invite_get_invite_id (invite));
  g_assert_cmpint (bb_invite_listing_get_expires_at (created), ==, bb_invite_get_expires_at (invite));
  g_assert_cmpuint (bb_invite_listing_get_max_pending (created), ==, 0);
  g_clear_pointer (&created, bb_invite_listing_unref);

  /* variant A, with a pending limit */
  invite_a = new_invite (shared.namespace_id);
  BB_TEST_AWAIT (res, bb_client_create_invite_with_identity_async (env->client, BB_IDENTITY (alice),
                                                                   invite_a, 5, 3, NULL,
                                                                   bb_test_got_result, &res));
  created = bb_client_create_invite_with_identity_finish (env->client, res, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bb_invite_listing_get_max_pending (created), ==, 5);
  g_assert_cmpuint (bb_invite_listing_get_max_accepted (created), ==, 3);

  BB_TEST_AWAIT (res, bb_client_list_invites_async (env->client, shared.namespace_id, NULL,
                                                    bb_test_got_result, &res));
  invites = bb_client_list_invites_finish (env->client, res, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (invites->len, ==, 2);
  for (guint i = 0; i < invites->len; i++)
    {
      BbInviteListing *info = g_ptr_array_index (invites, i);

      g_assert_cmpstr (bb_invite_listing_get_created_by_key_id (info), ==,
                       bb_test_identity_get_key_id (alice));
      g_assert_nonnull (bb_invite_listing_get_created_at (info));
      g_assert_null (bb_invite_listing_get_revoked_at (info));
    }
  g_clear_pointer (&invites, g_ptr_array_unref);

  /* Bob asks to join; Alice lists, checks the hash and approves. */
  submitted = submit (bob_client, BB_IDENTITY (bob), invite);
  g_assert_cmpstr (bb_join_request_listing_get_requester_key_id (submitted), ==,
                   bb_test_identity_get_key_id (bob));
  carol_submitted = submit (carol_client, BB_IDENTITY (carol), invite);

  BB_TEST_AWAIT (res, bb_client_list_join_requests_async (env->client, shared.namespace_id, NULL,
                                                          bb_test_got_result, &res));
  requests = bb_client_list_join_requests_finish (env->client, res, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (requests->len, ==, 2);
  entry = NULL;
  for (guint i = 0; i < requests->len; i++)
    if (g_strcmp0 (bb_join_request_listing_get_requester_key_id (g_ptr_array_index (requests, i)),
                   bb_test_identity_get_key_id (bob))
        == 0)
      entry = g_ptr_array_index (requests, i);
  g_assert_nonnull (entry);
  g_assert_cmpstr (bb_join_request_listing_get_join_request_hash (entry), ==,
                   bb_join_request_listing_get_join_request_hash (submitted));
  g_assert_nonnull (bb_join_request_listing_get_created_at (entry));
  request = bb_join_request_listing_get_request (entry);
  g_assert_nonnull (request);
  payload = bb_protocol_join_request_payload (
      bb_join_request_get_namespace_id (request), bb_join_request_get_invite_id (request),
      bb_join_request_get_server_origin (request), bb_join_request_get_kind (request),
      bb_join_request_get_key_id (request), bb_test_identity_get_auth_public_key (bob),
      bb_test_identity_get_wrap_public_key (bob), bb_join_request_get_expires_at (request), &error);
  g_assert_no_error (error);
  expected_hash = bb_protocol_join_request_hash (payload);
  g_assert_cmpstr (bb_join_request_listing_get_join_request_hash (entry), ==, expected_hash);

  /* the approver's checks (spec §1.11) accept the listed entry, and only with its invite */
  g_assert_true (bb_invite_verify_join_request (invite, shared.namespace_id, entry,
                                                g_get_real_time () / G_USEC_PER_SEC, &error));
  g_assert_no_error (error);
  g_assert_false (bb_invite_verify_join_request (invite_a, shared.namespace_id, entry,
                                                 g_get_real_time () / G_USEC_PER_SEC, &error));
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT);
  g_assert_nonnull (strstr (error->message, "join request invite mismatch"));
  g_clear_error (&error);

  server_secret = bb_protocol_invite_server_secret (bb_invite_get_secret (invite), &error);
  g_assert_no_error (error);
  bob_wrap_key = bb_protocol_hex_decode (bb_join_request_get_wrap_public_key (request), 32,
                                         "wrapPublicKey", &error);
  g_assert_no_error (error);
  wrapped_for_bob = bb_protocol_wrap_dek (bob_wrap_key, shared.namespace_id, shared.dek, &error);
  g_assert_no_error (error);
  BB_TEST_AWAIT (res, bb_client_approve_join_request_async (
                          env->client, shared.namespace_id, bb_join_request_get_key_id (request),
                          expected_hash, server_secret, wrapped_for_bob, NULL, bb_test_got_result,
                          &res));
  member = bb_client_approve_join_request_finish (env->client, res, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_member_get_key_id (member), ==, bb_test_identity_get_key_id (bob));

  /* Bob fetches and unwraps the DEK. */
  BB_TEST_AWAIT (res, bb_client_get_wrapped_dek_async (bob_client, shared.namespace_id,
                                                       bb_test_identity_get_key_id (bob), NULL,
                                                       bb_test_got_result, &res));
  bob_wrapped = bb_client_get_wrapped_dek_finish (bob_client, res, &error);
  g_assert_no_error (error);
  bob_dek = unwrap (BB_IDENTITY (bob), shared.namespace_id, bob_wrapped);
  g_assert_true (g_bytes_equal (bob_dek, shared.dek));

  BB_TEST_AWAIT (res, bb_client_list_members_async (bob_client, shared.namespace_id, NULL,
                                                    bb_test_got_result, &res));
  members = bb_client_list_members_finish (bob_client, res, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (members->len, ==, 2);

  /* Carol is rejected. */
  BB_TEST_AWAIT (res, bb_client_reject_join_request_async (
                          env->client, shared.namespace_id,
                          bb_join_request_listing_get_requester_key_id (carol_submitted),
                          bb_join_request_listing_get_join_request_hash (carol_submitted), NULL,
                          bb_test_got_result, &res));
  ok = bb_client_reject_join_request_finish (env->client, res, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_clear_pointer (&requests, g_ptr_array_unref);
  BB_TEST_AWAIT (res, bb_client_list_join_requests_async (env->client, shared.namespace_id, NULL,
                                                          bb_test_got_result, &res));
  requests = bb_client_list_join_requests_finish (env->client, res, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (requests->len, ==, 0);

  /* Revoking shows in the list. */
  BB_TEST_AWAIT (res, bb_client_revoke_invite_async (env->client, shared.namespace_id,
                                                     bb_invite_get_invite_id (invite_a), NULL,
                                                     bb_test_got_result, &res));
  ok = bb_client_revoke_invite_finish (env->client, res, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  BB_TEST_AWAIT (res, bb_client_list_invites_async (env->client, shared.namespace_id, NULL,
                                                    bb_test_got_result, &res));
  invites = bb_client_list_invites_finish (env->client, res, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < invites->len; i++)
    {
      BbInviteListing *info = g_ptr_array_index (invites, i);

      if (g_strcmp0 (bb_invite_listing_get_invite_id (info), bb_invite_get_invite_id (invite_a)) == 0)
        g_assert_nonnull (bb_invite_listing_get_revoked_at (info));
      else
        g_assert_cmpuint (bb_invite_listing_get_accepted_count (info), ==, 1);
    }

  /* Wrong calls are API errors: Carol is not a member. */
  g_clear_pointer (&members, g_ptr_array_unref);
  BB_TEST_AWAIT (res, bb_client_list_members_async (carol_client, shared.namespace_id, NULL,
                                                    bb_test_got_result, &res));
  members = bb_client_list_members_finish (carol_client, res, &error);
  g_assert_null (members);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_API);
  g_assert_cmpuint (bb_sync_error_get_http_status (error), >=, 400);

  g_free (shared.namespace_id);
  g_bytes_unref (shared.dek);
  env_free (env);
}

static gint64 cancelled_at;

static gboolean
cancel_cb (gpointer user_data)
{
  cancelled_at = g_get_monotonic_time ();
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

static gboolean
guard_cb (gpointer user_data)
{
  g_error ("the cancelled watch did not return within the guard time");
  return G_SOURCE_REMOVE;
}

/* The watch: a change answers at once, no change times out, and cancelling an open
 * long poll ends it long before the server would. */
static void
test_watch_and_cancel (void)
{
  Env *env = env_new (300);
  g_autoptr (BbTestIdentity) alice = bb_test_identity_new ("client-alice");
  g_autoptr (BbLoginResult) result = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) dek = NULL;
  g_autoptr (BbWatchResult) watch = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *namespace_id = NULL;
  GVariantBuilder builder;
  BbNamespaceListing *info;
  guint guard;

  result = login (env->client, BB_IDENTITY (alice));
  namespace_id = ensure_default (env->client, BB_IDENTITY (alice), &dek);

  /* nothing known: the namespace is reported at once */
  BB_TEST_AWAIT (res, bb_client_watch_async (env->client, NULL, NULL, bb_test_got_result, &res));
  watch = bb_client_watch_finish (env->client, res, &error);
  g_assert_no_error (error);
  g_assert_false (bb_watch_result_get_timed_out (watch));
  g_assert_cmpuint (bb_watch_result_get_namespaces (watch)->len, ==, 1);
  info = g_ptr_array_index (bb_watch_result_get_namespaces (watch), 0);
  g_assert_cmpstr (bb_namespace_listing_get_namespace_id (info), ==, namespace_id);
  g_assert_cmpuint (bb_namespace_listing_get_head (info), ==, 0);
  g_clear_pointer (&watch, bb_watch_result_unref);

  /* up to date: the server's (short) wait times out */
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{st}"));
  g_variant_builder_add (&builder, "{st}", namespace_id, (guint64)0);
  BB_TEST_AWAIT (res, bb_client_watch_async (env->client, g_variant_builder_end (&builder), NULL,
                                             bb_test_got_result, &res));
  watch = bb_client_watch_finish (env->client, res, &error);
  g_assert_no_error (error);
  g_assert_true (bb_watch_result_get_timed_out (watch));
  g_assert_cmpuint (bb_watch_result_get_namespaces (watch)->len, ==, 0);
  g_clear_pointer (&watch, bb_watch_result_unref);

  /* cancel an open watch: the server would hold it for 20 s; the guard fails the test
   * after 10 s, so a passing run proves the cancel was honoured long before */
  bb_server_set_watch_timeout (env->server, 20000);
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{st}"));
  g_variant_builder_add (&builder, "{st}", namespace_id, (guint64)0);
  guard = g_timeout_add_seconds (10, guard_cb, NULL);
  g_timeout_add (200, cancel_cb, cancellable);
  BB_TEST_AWAIT (res, bb_client_watch_async (env->client, g_variant_builder_end (&builder),
                                             cancellable, bb_test_got_result, &res));
  watch = bb_client_watch_finish (env->client, res, &error);
  g_assert_null (watch);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  /* For the record only (tests do not assert on time): cancel-to-callback latency. */
  g_test_message ("watch cancelled; callback %.1f ms after cancel",
                  (g_get_monotonic_time () - cancelled_at) / 1000.0);
  g_source_remove (guard);
  g_clear_error (&error);

  /* an already-cancelled call fails the same way */
  BB_TEST_AWAIT (
      res, bb_client_list_namespaces_async (env->client, cancellable, bb_test_got_result, &res));
  g_assert_null (bb_client_list_namespaces_finish (env->client, res, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  env_free (env);
}

static GPtrArray *captured_logs;

static GLogWriterOutput
capture_writer (GLogLevelFlags log_level, const GLogField *fields, gsize n_fields,
                gpointer user_data)
{
  const char *domain = NULL;
  const char *message = NULL;

  for (gsize i = 0; i < n_fields; i++)
    {
      if (g_strcmp0 (fields[i].key, "GLIB_DOMAIN") == 0)
        domain = fields[i].value;
      else if (g_strcmp0 (fields[i].key, "MESSAGE") == 0)
        message = fields[i].value;
    }
  /* The in-process reference server logs for itself; this checks the library. */
  if (message != NULL && g_strcmp0 (domain, "BbServer") != 0)
    g_ptr_array_add (captured_logs, g_strdup_printf ("%s: %s", domain, message));
  if (log_level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    return g_log_writer_standard_streams (log_level, fields, n_fields, user_data);
  return G_LOG_WRITER_HANDLED;
}

static void
assert_not_logged (const char *secret)
{
  for (guint i = 0; i < captured_logs->len; i++)
    if (strstr (g_ptr_array_index (captured_logs, i), secret) != NULL)
      g_error ("a secret was logged: %s", (char *)g_ptr_array_index (captured_logs, i));
}

/* Debug logs name endpoints and statuses, never tokens or signatures. Runs in a
 * subprocess, because the log writer can be set only once per process. */
static void
test_logging (void)
{
  if (g_test_subprocess ())
    {
      Env *env;
      g_autoptr (BbTestIdentity) alice = bb_test_identity_new ("client-alice");
      g_autoptr (GAsyncResult) res = NULL;
      g_autoptr (GError) error = NULL;
      g_autoptr (BbChallenge) challenge = NULL;
      g_autoptr (GBytes) signature = NULL;
      g_autoptr (BbLoginResult) result = NULL;
      g_autoptr (GBytes) dek = NULL;
      g_autofree char *signature_hex = NULL;
      g_autofree char *namespace_id = NULL;
      g_autofree char *item_id = NULL;
      gboolean saw_endpoint = FALSE;
      gboolean saw_412 = FALSE;

      captured_logs = g_ptr_array_new_with_free_func (g_free);
      g_log_set_writer_func (capture_writer, NULL, NULL);
      g_log_set_debug_enabled (TRUE);
      env = env_new (300);

      BB_TEST_AWAIT (res, bb_client_request_challenge_async (env->client, "login", NULL, NULL, NULL,
                                                             bb_test_got_result, &res));
      challenge = bb_client_request_challenge_finish (env->client, res, &error);
      g_assert_no_error (error);
      BB_TEST_AWAIT (res, bb_identity_sign_login_async (BB_IDENTITY (alice),
                                                        bb_challenge_get_bytes (challenge), NULL,
                                                        bb_test_got_result, &res));
      signature = bb_identity_sign_login_finish (BB_IDENTITY (alice), res, &error);
      g_assert_no_error (error);
      signature_hex = bb_protocol_hex_encode (signature);
      BB_TEST_AWAIT (
          res, bb_client_login_async (env->client, "keystore", bb_test_identity_get_key_id (alice),
                                      bb_test_identity_get_auth_public_key (alice),
                                      bb_test_identity_get_wrap_public_key (alice), challenge,
                                      signature, NULL, NULL, bb_test_got_result, &res));
      result = bb_client_login_finish (env->client, res, &error);
      g_assert_no_error (error);
      namespace_id = ensure_default (env->client, BB_IDENTITY (alice), &dek);
      item_id = bb_protocol_item_id (dek, "notes", "secret-key", &error);
      g_assert_no_error (error);
      g_assert_cmpuint (put (env->client, namespace_id, item_id, dek, 0, "x", &error), ==, 1);
      g_assert_no_error (error);
      /* a failing call logs its status, still without secrets */
      g_assert_cmpuint (put (env->client, namespace_id, item_id, dek, 0, "x", &error), ==, 0);
      g_assert_cmpuint (bb_sync_error_get_http_status (error), ==, 412);
      g_clear_error (&error);
      BB_TEST_AWAIT (res, bb_client_revoke_all_tokens_with_identity_async (
                              env->client, BB_IDENTITY (alice), NULL, bb_test_got_result, &res));
      g_assert_true (bb_client_revoke_all_tokens_with_identity_finish (env->client, res, &error));
      g_assert_no_error (error);

      assert_not_logged (bb_login_result_get_access_token (result));
      assert_not_logged (signature_hex);
      assert_not_logged (bb_challenge_get_challenge (challenge));
      for (guint i = 0; i < captured_logs->len; i++)
        {
          const char *line = g_ptr_array_index (captured_logs, i);

          if (strstr (line, "POST /v1/auth/login: HTTP 200") != NULL)
            saw_endpoint = TRUE;
          if (strstr (line, "PUT /v1/kv/{ns}/{itemId}: HTTP 412") != NULL)
            saw_412 = TRUE;
        }
      g_assert_true (saw_endpoint);
      g_assert_true (saw_412);

      env_free (env);
      g_ptr_array_unref (captured_logs);
      return;
    }

  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* A big-endian unsigned integer of @size bytes (no alignment needed). */
static guint64
read_be (const guint8 *p, gsize size)
{
  guint64 v = 0;

  for (gsize i = 0; i < size; i++)
    v = v << 8 | p[i];
  return v;
}

static GBytes *
sign_with (BbIdentity *identity, const char *intent, JsonObject *vector)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) challenge = bb_test_hex (json_object_get_string_member (vector, "challenge"));
  GBytes *signature = NULL;

  if (g_str_equal (intent, "login"))
    {
      BB_TEST_AWAIT (
          res, bb_identity_sign_login_async (identity, challenge, NULL, bb_test_got_result, &res));
      signature = bb_identity_sign_login_finish (identity, res, &error);
    }
  else if (g_str_equal (intent, "refresh"))
    {
      BB_TEST_AWAIT (res, bb_identity_sign_refresh_async (identity, challenge, NULL,
                                                          bb_test_got_result, &res));
      signature = bb_identity_sign_refresh_finish (identity, res, &error);
    }
  else if (g_str_equal (intent, "revoke_all_tokens"))
    {
      BB_TEST_AWAIT (res, bb_identity_sign_revoke_all_tokens_async (identity, challenge, NULL,
                                                                    bb_test_got_result, &res));
      signature = bb_identity_sign_revoke_all_tokens_finish (identity, res, &error);
    }
  else if (g_str_equal (intent, "create_invite"))
    {
      /* The fields vector is ns(16) invite(16) hash(32) BE64 expiry [BE32 maxPending]
       * BE32 maxAccepted: take the inputs back out of it. */
      g_autoptr (GBytes) fields
          = bb_test_hex (json_object_get_string_member (vector, "create_invite_action_fields"));
      const guint8 *f = g_bytes_get_data (fields, NULL);
      gsize len = g_bytes_get_size (fields);
      g_autoptr (GBytes) ns = g_bytes_new (f, 16);
      g_autoptr (GBytes) invite = g_bytes_new (f + 16, 16);
      g_autoptr (GBytes) hash = g_bytes_new (f + 32, 32);
      g_autofree char *ns_hex = bb_protocol_hex_encode (ns);
      g_autofree char *invite_hex = bb_protocol_hex_encode (invite);
      gint64 expires_at = (gint64)read_be (f + 64, 8);
      guint max_pending = len == 80 ? (guint)read_be (f + 72, 4) : 0;
      guint max_accepted = (guint)read_be (f + len - 4, 4);

      g_assert_true (len == 76 || len == 80);
      BB_TEST_AWAIT (res, bb_identity_sign_create_invite_async (
                              identity, challenge, ns_hex, invite_hex, hash, expires_at,
                              max_pending, max_accepted, NULL, bb_test_got_result, &res));
      signature = bb_identity_sign_create_invite_finish (identity, res, &error);
    }
  else
    g_assert_not_reached ();
  g_assert_no_error (error);
  return signature;
}

/* The interface's default signing operations build the intents of the protocol: with
 * the label-derived keys they reproduce the known-answer signatures. */
static void
test_identity_vectors (void)
{
  g_autoptr (JsonNode) root = bb_test_load_json ("protocol.json");
  JsonArray *intents = json_object_get_array_member (json_node_get_object (root), "intents");
  JsonArray *invites = json_object_get_array_member (json_node_get_object (root), "invites");
  const char *kinds[] = { "login", "refresh", "revoke_all_tokens", "create_invite" };

  g_assert_cmpuint (json_array_get_length (intents), >, 0);
  for (guint i = 0; i < json_array_get_length (intents); i++)
    {
      JsonObject *vector = json_array_get_object_element (intents, i);
      g_autoptr (BbTestIdentity) identity
          = bb_test_identity_new (json_object_get_string_member (vector, "label"));
      g_autofree char *kind = bb_identity_get_kind (BB_IDENTITY (identity));
      g_autofree char *key_id = bb_identity_get_key_id (BB_IDENTITY (identity));

      g_assert_cmpstr (kind, ==, "keystore");
      g_assert_cmpstr (key_id, ==, bb_test_identity_get_key_id (identity));
      for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
        {
          g_autofree char *member = g_strconcat (kinds[k], "_signature", NULL);
          g_autoptr (GBytes) signature = sign_with (BB_IDENTITY (identity), kinds[k], vector);

          bb_test_assert_bytes_hex (signature, json_object_get_string_member (vector, member));
        }
    }

  g_assert_cmpuint (json_array_get_length (invites), >, 0);
  for (guint i = 0; i < json_array_get_length (invites); i++)
    {
      JsonObject *vector = json_array_get_object_element (invites, i);
      g_autoptr (BbTestIdentity) identity
          = bb_test_identity_new (json_object_get_string_member (vector, "requester_label"));
      g_autoptr (GAsyncResult) res = NULL;
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) signature = NULL;

      BB_TEST_AWAIT (res, bb_identity_sign_join_request_async (
                              BB_IDENTITY (identity),
                              json_object_get_string_member (vector, "namespace_id"),
                              json_object_get_string_member (vector, "invite_id"),
                              json_object_get_string_member (vector, "server_origin"),
                              json_object_get_int_member (vector, "join_request_expires_at"), NULL,
                              bb_test_got_result, &res));
      signature = bb_identity_sign_join_request_finish (BB_IDENTITY (identity), res, &error);
      g_assert_no_error (error);
      bb_test_assert_bytes_hex (signature,
                                json_object_get_string_member (vector, "join_request_signature"));
    }
}

/* Attestation, and bad input that must be an error rather than a crash. */
static void
test_identity_errors (void)
{
  g_autoptr (BbTestIdentity) alice = bb_test_identity_new ("test-key");
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) challenge = bb_test_repeat (0x01, 32);
  g_autoptr (GBytes) short_challenge = bb_test_repeat (0x01, 5);
  g_autoptr (GBytes) attestation = NULL;
  g_autoptr (GBytes) signature = NULL;
  g_autoptr (GBytes) dek = NULL;
  g_autoptr (GBytes) garbage = bb_test_repeat (0x01, 97);

  BB_TEST_AWAIT (res, bb_identity_attest_async (BB_IDENTITY (alice), challenge, NULL,
                                                bb_test_got_result, &res));
  attestation = bb_identity_attest_finish (BB_IDENTITY (alice), res, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (attestation), ==, 257);

  BB_TEST_AWAIT (res, bb_identity_sign_login_async (BB_IDENTITY (alice), short_challenge, NULL,
                                                    bb_test_got_result, &res));
  signature = bb_identity_sign_login_finish (BB_IDENTITY (alice), res, &error);
  g_assert_null (signature);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT);
  g_clear_error (&error);

  BB_TEST_AWAIT (res, bb_identity_sign_join_request_async (
                          BB_IDENTITY (alice), "0123456789abcdef0123456789abcdef",
                          "0123456789abcdef0123456789abcdef", "https://sync.example:443", 1, NULL,
                          bb_test_got_result, &res));
  signature = bb_identity_sign_join_request_finish (BB_IDENTITY (alice), res, &error);
  g_assert_null (signature);
  g_assert_nonnull (error);
  g_clear_error (&error);

  BB_TEST_AWAIT (res, bb_identity_unwrap_dek_async (BB_IDENTITY (alice),
                                                    "0123456789abcdef0123456789abcdef", garbage,
                                                    NULL, bb_test_got_result, &res));
  dek = bb_identity_unwrap_dek_finish (BB_IDENTITY (alice), res, &error);
  g_assert_null (dek);
  g_assert_nonnull (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/client/login-namespace-items", test_login_namespace_items);
  g_test_add_func ("/client/login-with-attestation", test_login_with_attestation);
  g_test_add_func ("/client/refresh-and-revoke", test_refresh_and_revoke);
  g_test_add_func ("/client/invites-and-join-requests", test_invites_and_join_requests);
  g_test_add_func ("/client/watch-and-cancel", test_watch_and_cancel);
  g_test_add_func ("/client/logging", test_logging);
  g_test_add_func ("/client/identity-vectors", test_identity_vectors);
  g_test_add_func ("/client/identity-errors", test_identity_errors);

  return g_test_run ();
}
