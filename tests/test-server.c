/* test-server.c: the reference server end to end over HTTP on loopback
 *
 * An in-process BbServer on 127.0.0.1:0 and a SoupSession on the same main context;
 * requests are built with the protocol layer and signed by test identities, responses
 * are parsed with the strict message parsers.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bb-crypto-private.h"
#include "bb-error.h"
#include "bb-protocol-messages-private.h"
#include "bb-protocol.h"
#include "bb-server.h"
#include "bb-test-identity-private.h"
#include "bb-test-identity.h"
#include "bb-test-utils.h"
#include "server-test-client.h"

static void
fixture_setup_with (Fixture *f, const char *database)
{
  g_autoptr (GError) error = NULL;

  f->server = bb_server_new (database, &error);
  g_assert_no_error (error);
  g_assert_true (bb_server_add_public_origin (f->server, ORIGIN, &error));
  g_assert_no_error (error);
  g_assert_true (bb_server_listen (f->server, "127.0.0.1", 0, &error));
  g_assert_no_error (error);
  f->base = g_strdup (bb_server_get_base_url (f->server));
  g_assert_true (g_str_has_prefix (f->base, "http://127.0.0.1:"));
  if (f->session == NULL)
    {
      f->session = soup_session_new ();
      soup_session_set_timeout (f->session, 20);
    }
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  memset (f, 0, sizeof *f);
  fixture_setup_with (f, ":memory:");
}

static void
fixture_stop_server (Fixture *f)
{
  bb_server_shutdown (f->server);
  g_clear_object (&f->server);
  g_clear_pointer (&f->base, g_free);
  /* Idle connections to the old server must not be reused. */
  soup_session_abort (f->session);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  if (f->server != NULL)
    fixture_stop_server (f);
  g_clear_object (&f->session);
  if (f->tmpdir != NULL)
    {
      g_autoptr (GDir) dir = g_dir_open (f->tmpdir, 0, NULL);
      const char *name;
      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *path = g_build_filename (f->tmpdir, name, NULL);
          g_unlink (path);
        }
      g_rmdir (f->tmpdir);
      g_free (f->tmpdir);
    }
}

/* ------------------------------------------------------------------------------------ */
/* Tests: basics and authentication */

static void
test_health_and_routes (Fixture *f, gconstpointer data)
{
  g_autofree char *health = expect (f, 200, "GET", "/health", NULL, NULL, NULL);
  g_autofree char *version = expect (f, 200, "GET", "/version", NULL, NULL, NULL);
  BbMsgHealthResponse h = { 0 };
  BbMsgVersionResponse v = { 0 };
  g_autoptr (GError) error = NULL;

  g_assert_true (bb_msg_health_response_parse (&h, health, -1, &error));
  g_assert_cmpstr (h.status, ==, "ok");
  bb_msg_health_response_clear (&h);
  g_assert_true (bb_msg_version_response_parse (&v, version, -1, &error));
  g_assert_cmpstr (v.git_commit, ==, PACKAGE_VERSION);
  bb_msg_version_response_clear (&v);

  expect_status (f, 404, "GET", "/nope", NULL, NULL, NULL);
  expect_status (f, 404, "GET", "/v1/namespaces/mine/", NULL, NULL, NULL);
  expect_status (f, 404, "GET", "/v1//items", NULL, NULL, NULL);
  expect_status (f, 405, "GET", "/v1/auth/login", NULL, NULL, NULL);
  expect_status (f, 405, "DELETE", "/v1/namespaces/mine", NULL, NULL, NULL);
  /* The fixed words of sibling routes are never taken as a namespace ID. */
  expect_status (f, 404, "GET", "/v1/namespaces/default/members", NULL, NULL, NULL);
  expect_status (f, 404, "GET", "/v1/namespaces/watch/items", NULL, NULL, NULL);
  /* Authenticated routes without a bearer. */
  expect_error (f, 401, "bearer", "GET", "/v1/namespaces/mine", NULL, NULL, NULL);
  expect_error (f, 401, "invalid bearer token", "GET", "/v1/namespaces/mine", "nonsense", NULL,
                NULL);
}

static void
test_challenge_rules (Fixture *f, gconstpointer data)
{
  g_autofree char *hash = random_hex (32);
  g_autofree char *ok = g_strdup_printf ("{\"purpose\":\"sensitive-action\",\"kind\":\"keystore\","
                                         "\"action\":\"revoke-all-tokens\",\"actionFieldsHash\":"
                                         "\"%s\"}",
                                         hash);
  g_autofree char *upper = g_ascii_strup (hash, -1);
  g_autofree char *bad_hash
      = g_strdup_printf ("{\"purpose\":\"sensitive-action\",\"kind\":\"keystore\","
                         "\"action\":\"revoke-all-tokens\",\"actionFieldsHash\":\"%s\"}",
                         upper);

  expect_status (f, 200, "POST", "/v1/auth/challenge", NULL, ok, NULL);
  expect_status (f, 200, "POST", "/v1/auth/challenge", NULL,
                 "{\"purpose\":\"refresh\",\"kind\":\"keystore\"}", NULL);
  expect_error (f, 400, "actionFieldsHash", "POST", "/v1/auth/challenge", NULL, bad_hash, NULL);
  expect_error (f, 400, "purpose", "POST", "/v1/auth/challenge", NULL,
                "{\"purpose\":\"party\",\"kind\":\"keystore\"}", NULL);
  expect_error (f, 400, "kind", "POST", "/v1/auth/challenge", NULL,
                "{\"purpose\":\"login\",\"kind\":\"other\"}", NULL);
  expect_error (f, 400, "action", "POST", "/v1/auth/challenge", NULL,
                "{\"purpose\":\"sensitive-action\",\"kind\":\"keystore\"}", NULL);
  expect_error (f, 400, "action", "POST", "/v1/auth/challenge", NULL,
                "{\"purpose\":\"login\",\"kind\":\"keystore\",\"action\":\"revoke-all-tokens\"}",
                NULL);
  expect_error (f, 400, "unknown field", "POST", "/v1/auth/challenge", NULL,
                "{\"purpose\":\"login\",\"kind\":\"keystore\",\"Purpose\":\"login\"}", NULL);
  expect_status (f, 400, "POST", "/v1/auth/challenge", NULL, "{\"purpose\":\"login\"", NULL);
  expect_status (f, 400, "POST", "/v1/auth/challenge", NULL, "[1,2]", NULL);
  expect_status (f, 400, "POST", "/v1/auth/challenge", NULL, "", NULL);
  expect_status (f, 400, "POST", "/v1/auth/challenge", NULL,
                 "{\"purpose\":1,\"kind\":\"keystore\"}", NULL);
}

static void
test_login (Fixture *f, gconstpointer data)
{
  g_autoptr (BbTestIdentity) alice = bb_test_identity_new ("demo-alice");
  g_autoptr (BbTestIdentity) bob = bb_test_identity_new ("demo-bob");
  g_autofree char *default_ns = NULL;
  g_autofree char *token = login_full (f, alice, &default_ns);
  g_autofree char *challenge = NULL;
  g_autofree char *body = NULL;
  g_autofree char *tampered = NULL;
  char *p;

  g_assert_null (default_ns);
  expect_status (f, 200, "GET", "/v1/namespaces/mine", token, NULL, NULL);

  /* Single use: the same body again fails, and never with 401. */
  challenge = get_challenge (f, "login", NULL, NULL);
  body = login_body (alice, challenge);
  expect_status (f, 200, "POST", "/v1/auth/login", NULL, body, NULL);
  expect_error (f, 400, "challenge", "POST", "/v1/auth/login", NULL, body, NULL);
  g_clear_pointer (&challenge, g_free);
  g_clear_pointer (&body, g_free);

  /* Purpose-bound: a refresh challenge does not log in. */
  challenge = get_challenge (f, "refresh", NULL, NULL);
  body = login_body (alice, challenge);
  expect_error (f, 400, "purpose", "POST", "/v1/auth/login", NULL, body, NULL);
  g_clear_pointer (&challenge, g_free);
  g_clear_pointer (&body, g_free);

  /* Expiring. */
  bb_server_set_challenge_lifetime (f->server, 5);
  challenge = get_challenge (f, "login", NULL, NULL);
  body = login_body (alice, challenge);
  bb_server_set_clock_offset (f->server, 10);
  expect_error (f, 400, "expired", "POST", "/v1/auth/login", NULL, body, NULL);
  bb_server_set_clock_offset (f->server, 0);
  g_clear_pointer (&challenge, g_free);
  g_clear_pointer (&body, g_free);

  /* A signature by another key. */
  challenge = get_challenge (f, "login", NULL, NULL);
  body = login_body (alice, challenge);
  {
    g_autofree char *bob_challenge = get_challenge (f, "login", NULL, NULL);
    g_autofree char *bob_body = login_body (bob, bob_challenge);
    const char *sig_alice = strstr (body, "\"intentSignature\":\"") + 19;
    const char *sig_bob = strstr (bob_body, "\"intentSignature\":\"") + 19;
    tampered = g_strdup (body);
    memcpy (tampered + (sig_alice - body), sig_bob, 128);
  }
  expect_error (f, 403, "intentSignature", "POST", "/v1/auth/login", NULL, tampered, NULL);
  g_clear_pointer (&challenge, g_free);
  g_clear_pointer (&body, g_free);
  g_clear_pointer (&tampered, g_free);

  /* keyId that is not SHA-256 of authPublicKey (bob's keyId with alice's keys). */
  challenge = get_challenge (f, "login", NULL, NULL);
  body = login_body (alice, challenge);
  tampered = g_strdup (body);
  p = strstr (tampered, bb_test_identity_get_key_id (alice));
  memcpy (p, bb_test_identity_get_key_id (bob), 64);
  expect_error (f, 400, "keyId", "POST", "/v1/auth/login", NULL, tampered, NULL);
  g_clear_pointer (&challenge, g_free);
  g_clear_pointer (&body, g_free);
  g_clear_pointer (&tampered, g_free);

  /* Uppercase hex in a key is malformed. */
  challenge = get_challenge (f, "login", NULL, NULL);
  body = login_body (alice, challenge);
  p = strstr (body, "\"authPublicKey\":\"") + 17;
  p = strpbrk (p, "abcdef");
  g_assert_nonnull (p);
  *p = g_ascii_toupper (*p);
  expect_error (f, 400, "authPublicKey", "POST", "/v1/auth/login", NULL, body, NULL);
  g_clear_pointer (&challenge, g_free);
  g_clear_pointer (&body, g_free);

  /* Unknown kind. */
  challenge = get_challenge (f, "login", NULL, NULL);
  body = login_body (alice, challenge);
  {
    char *k = strstr (body, "\"keystore\"");
    g_assert_nonnull (k);
    *k = '\0';
    tampered = g_strconcat (body, "\"other\"", k + 10, NULL);
    expect_error (f, 400, "kind", "POST", "/v1/auth/login", NULL, tampered, NULL);
  }
}

/* A login with a small-order auth key, here the identity point, is refused by name. The
 * intent "signature" (R = identity, S = 0) verifies for any intent under that key with
 * nettle alone, so without the check anyone could register and log in as a key that
 * nobody holds. */
static void
test_login_small_order_key (Fixture *f, gconstpointer data)
{
  static const guint8 identity[32] = { 0x01 };
  static const guint8 forged[64] = { 0x01 };
  g_autoptr (BbTestIdentity) alice = bb_test_identity_new ("demo-alice");
  g_autoptr (GBytes) auth = g_bytes_new_static (identity, sizeof identity);
  g_autoptr (GBytes) signature = g_bytes_new_static (forged, sizeof forged);
  g_autofree char *challenge = get_challenge (f, "login", NULL, NULL);
  g_autofree char *auth_hex = hex (auth);
  g_autofree char *signature_hex = hex (signature);
  g_autofree char *wrap_hex = hex (bb_test_identity_get_wrap_public_key (alice));
  g_autofree char *key_id = bb_protocol_key_id (auth);
  g_autofree char *body = NULL;
  BbMsgLoginRequest request = { 0 };

  request.kind = (char *)BB_PROTOCOL_KIND_KEYSTORE;
  request.key_id = key_id;
  request.auth_public_key = auth_hex;
  request.wrap_public_key = wrap_hex;
  request.challenge = challenge;
  request.intent_signature = signature_hex;
  body = bb_msg_login_request_to_json (&request);
  expect_error (f, 400, "authPublicKey: is a small-order point", "POST", "/v1/auth/login", NULL,
                body, NULL);
}

/* The login response carries the bearer token; the server wipes its copies of the body
 * (the JSON text, and the buffer libsoup sends from) instead of freeing them as they are. */
static void
test_login_response_wiped (Fixture *f, gconstpointer data)
{
  g_autoptr (BbTestIdentity) alice = bb_test_identity_new ("demo-alice");
  g_autofree char *token = NULL;
  g_autofree char *member = NULL;

  bb_test_wipes_begin ();
  token = login_full (f, alice, NULL);
  bb_test_wipes_end ();
  member = g_strdup_printf ("\"accessToken\":\"%s\"", token);
  g_assert_true (bb_test_wiped_containing (member));
}

/* A refresh or revoke-all body for @id with a fresh challenge. */
static char *
refresh_body (Fixture *f, BbTestIdentity *id, const char *key_id)
{
  g_autofree char *challenge = get_challenge (f, "refresh", NULL, NULL);
  g_autoptr (GBytes) raw = challenge_bytes (challenge);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) intent
      = bb_protocol_refresh_intent (raw, BB_PROTOCOL_KIND_KEYSTORE, key_id, &error);
  g_autofree char *signature = sign_hex (id, intent);
  BbMsgRefreshRequest request
      = { (char *)BB_PROTOCOL_KIND_KEYSTORE, (char *)key_id, challenge, signature, NULL };

  g_assert_no_error (error);
  return bb_msg_refresh_request_to_json (&request);
}

static char *
revoke_all_body (Fixture *f, BbTestIdentity *id)
{
  g_autoptr (GBytes) fields = g_bytes_new_static ("", 0);
  g_autofree char *challenge
      = get_challenge (f, "sensitive-action", BB_PROTOCOL_ACTION_REVOKE_ALL, fields);
  g_autoptr (GBytes) raw = challenge_bytes (challenge);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) intent = bb_protocol_sensitive_action_intent (
      BB_PROTOCOL_ACTION_REVOKE_ALL, raw, BB_PROTOCOL_KIND_KEYSTORE,
      bb_test_identity_get_key_id (id), fields, &error);
  g_autofree char *signature = sign_hex (id, intent);
  BbMsgRevokeTokensRequest request
      = { (char *)BB_PROTOCOL_KIND_KEYSTORE, (char *)bb_test_identity_get_key_id (id), challenge,
          signature };

  g_assert_no_error (error);
  return bb_msg_revoke_tokens_request_to_json (&request);
}

static void
test_tokens (Fixture *f, gconstpointer data)
{
  g_autoptr (BbTestIdentity) alice = bb_test_identity_new ("demo-alice");
  g_autoptr (BbTestIdentity) bob = bb_test_identity_new ("demo-bob");
  g_autofree char *token = login (f, alice);
  g_autofree char *bob_token = login (f, bob);
  g_autofree char *body = NULL;
  g_autofree char *reply = NULL;
  g_autofree char *token2 = NULL;
  BbMsgRefreshResponse response = { 0 };
  g_autoptr (GError) error = NULL;

  /* Refresh: a new token; the old one keeps working until it expires. */
  body = refresh_body (f, alice, bb_test_identity_get_key_id (alice));
  expect_error (f, 401, "bearer", "POST", "/v1/auth/refresh", "wrong", body, NULL);
  g_clear_pointer (&body, g_free);
  body = refresh_body (f, alice, bb_test_identity_get_key_id (alice));
  reply = expect (f, 200, "POST", "/v1/auth/refresh", token, body, NULL);
  g_assert_true (bb_msg_refresh_response_parse (&response, reply, -1, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (response.kind, ==, "keystore");
  token2 = g_steal_pointer (&response.access_token);
  bb_msg_refresh_response_clear (&response);
  g_assert_cmpstr (token2, !=, token);
  expect_status (f, 200, "GET", "/v1/namespaces/mine", token2, NULL, NULL);
  expect_status (f, 200, "GET", "/v1/namespaces/mine", token, NULL, NULL);
  g_clear_pointer (&body, g_free);

  /* Refresh for another key with one's own bearer: 403, not 401. */
  body = refresh_body (f, bob, bb_test_identity_get_key_id (bob));
  expect_status (f, 403, "POST", "/v1/auth/refresh", token, body, NULL);
  g_clear_pointer (&body, g_free);
  /* A refresh signed by the wrong key. */
  body = refresh_body (f, bob, bb_test_identity_get_key_id (alice));
  expect_status (f, 403, "POST", "/v1/auth/refresh", token, body, NULL);
  g_clear_pointer (&body, g_free);

  /* Tokens expire. */
  bb_server_set_clock_offset (f->server, 90 * 24 * 3600 + 10);
  expect_error (f, 401, "invalid bearer token", "GET", "/v1/namespaces/mine", token, NULL, NULL);
  bb_server_set_clock_offset (f->server, 0);
  expect_status (f, 200, "GET", "/v1/namespaces/mine", token, NULL, NULL);

  /* Revoke-all: needs the sensitive-action challenge for that action. */
  {
    g_autofree char *other = revoke_all_body (f, alice);
    g_autofree char *bob_body = revoke_all_body (f, bob);
    /* Bob's request with Alice's bearer: keyId mismatch is 403. */
    expect_status (f, 403, "DELETE", "/v1/auth/tokens", token, bob_body, NULL);
    expect_status (f, 204, "DELETE", "/v1/auth/tokens", token, other, NULL);
  }
  expect_status (f, 401, "GET", "/v1/namespaces/mine", token, NULL, NULL);
  expect_status (f, 401, "GET", "/v1/namespaces/mine", token2, NULL, NULL);
  expect_status (f, 200, "GET", "/v1/namespaces/mine", bob_token, NULL, NULL);

  /* Per-key token cap: the oldest is evicted. */
  bb_server_set_limit (f->server, BB_SERVER_LIMIT_TOKENS_PER_KEY, 2);
  {
    g_autofree char *t1 = login (f, alice);
    g_autofree char *t2 = login (f, alice);
    g_autofree char *t3 = login (f, alice);
    expect_status (f, 401, "GET", "/v1/namespaces/mine", t1, NULL, NULL);
    expect_status (f, 200, "GET", "/v1/namespaces/mine", t2, NULL, NULL);
    expect_status (f, 200, "GET", "/v1/namespaces/mine", t3, NULL, NULL);
  }
}

static void
test_wrap_key_conflict (Fixture *f, gconstpointer data)
{
  g_autoptr (BbTestIdentity) alice = bb_test_identity_new ("demo-alice");
  g_autoptr (BbTestIdentity) bob = bb_test_identity_new ("demo-bob");
  g_autofree char *challenge = get_challenge (f, "login", NULL, NULL);
  g_autoptr (GBytes) raw = challenge_bytes (challenge);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) intent = NULL;
  g_autofree char *auth = hex (bb_test_identity_get_auth_public_key (alice));
  g_autofree char *wrap = hex (bb_test_identity_get_wrap_public_key (bob));
  g_autofree char *signature = NULL;
  g_autofree char *body = NULL;
  BbMsgLoginRequest request = { 0 };

  /* Register Alice's keys, then a correctly signed login that presents another wrap key
   * for her keyId. */
  g_free (login (f, alice));
  intent = bb_protocol_login_intent (raw, BB_PROTOCOL_KIND_KEYSTORE,
                                     bb_test_identity_get_key_id (alice),
                                     bb_test_identity_get_auth_public_key (alice),
                                     bb_test_identity_get_wrap_public_key (bob), &error);
  g_assert_no_error (error);
  signature = sign_hex (alice, intent);
  request.kind = (char *)BB_PROTOCOL_KIND_KEYSTORE;
  request.key_id = (char *)bb_test_identity_get_key_id (alice);
  request.auth_public_key = auth;
  request.wrap_public_key = wrap;
  request.challenge = challenge;
  request.intent_signature = signature;
  body = bb_msg_login_request_to_json (&request);
  expect_error (f, 409, "wrapPublicKey", "POST", "/v1/auth/login", NULL, body, NULL);
}

/* ------------------------------------------------------------------------------------ */
/* Tests: namespaces */

static char *
ensure_default (Fixture *f, BbTestIdentity *id, const char *token, const char *proposed,
                GBytes *dek, gboolean *out_created, char **out_wrapped)
{
  g_autofree char *wrapped = wrapped_dek_for (id, proposed, dek);
  BbMsgEnsureDefaultRequest request = { (char *)proposed, wrapped };
  g_autofree char *json = bb_msg_ensure_default_request_to_json (&request);
  g_autofree char *reply = expect (f, 200, "PUT", "/v1/namespaces/default", token, json, NULL);
  BbMsgEnsureDefaultResponse response = { 0 };
  g_autoptr (GError) error = NULL;
  char *ns;

  g_assert_true (bb_msg_ensure_default_response_parse (&response, reply, -1, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (response.kind, ==, "default");
  *out_created = response.created;
  if (out_wrapped != NULL)
    *out_wrapped = g_strdup (response.wrapped_dek);
  if (response.created)
    g_assert_cmpstr (response.wrapped_dek, ==, wrapped);
  ns = g_steal_pointer (&response.namespace_id);
  bb_msg_ensure_default_response_clear (&response);
  return ns;
}

static void
test_namespaces (Fixture *f, gconstpointer data)
{
  g_autoptr (BbTestIdentity) alice = bb_test_identity_new ("demo-alice");
  g_autoptr (BbTestIdentity) bob = bb_test_identity_new ("demo-bob");
  g_autofree char *token = login (f, alice);
  g_autofree char *bob_token = login (f, bob);
  g_autoptr (GBytes) dek = fixed_dek (0x22);
  g_autoptr (GBytes) dek2 = fixed_dek (0x33);
  g_autofree char *proposed = random_hex (16);
  g_autofree char *proposed2 = random_hex (16);
  g_autofree char *ns = NULL;
  g_autofree char *ns_again = NULL;
  g_autofree char *wrapped_again = NULL;
  g_autofree char *shared = NULL;
  g_autofree char *default_from_login = NULL;
  g_autofree char *reply = NULL;
  g_autofree char *path = NULL;
  gboolean created = FALSE;

  expect_error (f, 404, "default", "GET", "/v1/namespaces/default", token, NULL, NULL);

  ns = ensure_default (f, alice, token, proposed, dek, &created, NULL);
  g_assert_true (created);
  g_assert_cmpstr (ns, ==, proposed);

  /* Idempotent: the existing namespace and the stored wrapped DEK come back. */
  ns_again = ensure_default (f, alice, token, proposed2, dek2, &created, &wrapped_again);
  g_assert_false (created);
  g_assert_cmpstr (ns_again, ==, ns);
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (GBytes) blob = bb_protocol_base64_decode (wrapped_again, 97, "wrappedDek", &error);
    g_autoptr (GBytes) unwrapped = bb_test_identity_unwrap_dek (alice, ns, blob, &error);
    g_assert_no_error (error);
    g_assert_true (g_bytes_equal (unwrapped, dek));
  }

  reply = expect (f, 200, "GET", "/v1/namespaces/default", token, NULL, NULL);
  g_assert_nonnull (strstr (reply, ns));
  g_clear_pointer (&reply, g_free);
  g_free (login_full (f, alice, &default_from_login));
  g_assert_cmpstr (default_from_login, ==, ns);

  /* Bob proposing Alice's ID collides. */
  {
    g_autofree char *wrapped = wrapped_dek_for (bob, ns, dek);
    BbMsgEnsureDefaultRequest request = { ns, wrapped };
    g_autofree char *json = bb_msg_ensure_default_request_to_json (&request);
    expect_status (f, 409, "PUT", "/v1/namespaces/default", bob_token, json, NULL);
  }
  /* Malformed bodies. */
  {
    g_autofree char *json
        = g_strdup_printf ("{\"proposedNamespaceId\":\"%s\",\"wrappedDek\":\"AQ==\"}", proposed2);
    g_autofree char *json2
        = g_strdup_printf ("{\"proposedNamespaceId\":\"%s\",\"wrappedDek\":\"AQ\"}", proposed2);
    g_autofree char *upper = g_ascii_strup (proposed2, -1);
    g_autofree char *wrapped = wrapped_dek_for (bob, proposed2, dek);
    g_autofree char *json3 = g_strdup_printf (
        "{\"proposedNamespaceId\":\"%s\",\"wrappedDek\":\"%s\"}", upper, wrapped);
    expect_error (f, 400, "wrappedDek", "PUT", "/v1/namespaces/default", bob_token, json, NULL);
    expect_error (f, 400, "wrappedDek", "PUT", "/v1/namespaces/default", bob_token, json2, NULL);
    expect_status (f, 400, "PUT", "/v1/namespaces/default", bob_token, json3, NULL);
  }

  /* Shared namespaces. */
  shared = create_shared (f, alice, token, dek);
  {
    g_autofree char *wrapped = wrapped_dek_for (alice, shared, dek);
    BbMsgCreateNamespaceRequest request = { shared, wrapped };
    g_autofree char *json = bb_msg_create_namespace_request_to_json (&request);
    g_autofree char *again = expect (f, 200, "POST", "/v1/namespaces", token, json, NULL);
    g_assert_nonnull (strstr (again, "\"created\":false"));
    expect_status (f, 409, "POST", "/v1/namespaces", bob_token, json, NULL);
  }
  {
    g_autofree char *wrapped = wrapped_dek_for (alice, ns, dek);
    BbMsgCreateNamespaceRequest request = { ns, wrapped };
    g_autofree char *json = bb_msg_create_namespace_request_to_json (&request);
    expect_status (f, 409, "POST", "/v1/namespaces", token, json, NULL);
  }

  /* /mine lists both, heads 0. */
  {
    BbMsgMineResponse mine = { 0 };
    g_autoptr (GError) error = NULL;
    reply = expect (f, 200, "GET", "/v1/namespaces/mine", token, NULL, NULL);
    g_assert_true (bb_msg_mine_response_parse (&mine, reply, -1, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (mine.namespaces->len, ==, 2);
    for (guint i = 0; i < mine.namespaces->len; i++)
      {
        BbMsgNamespaceSummary *s = g_ptr_array_index (mine.namespaces, i);
        g_assert_cmpuint (s->namespace_head, ==, 0);
        g_assert_cmpstr (s->kind, ==, g_str_equal (s->namespace_id, ns) ? "default" : "shared");
      }
    bb_msg_mine_response_clear (&mine);
    g_clear_pointer (&reply, g_free);
    reply = expect (f, 200, "GET", "/v1/namespaces/mine", bob_token, NULL, NULL);
    g_assert_true (bb_msg_mine_response_parse (&mine, reply, -1, &error));
    g_assert_cmpuint (mine.namespaces->len, ==, 0);
    g_assert_cmpstr (reply, ==, "{\"namespaces\":[]}\n");
    bb_msg_mine_response_clear (&mine);
    g_clear_pointer (&reply, g_free);
  }

  /* Members and wrapped DEKs, with membership enforced. */
  path = g_strdup_printf ("/v1/namespaces/%s/members", shared);
  reply = expect (f, 200, "GET", path, token, NULL, NULL);
  {
    BbMsgMembersResponse members = { 0 };
    g_autoptr (GError) error = NULL;
    g_assert_true (bb_msg_members_response_parse (&members, reply, -1, &error));
    g_assert_cmpuint (members.members->len, ==, 1);
    g_assert_cmpstr (((BbMsgMember *)g_ptr_array_index (members.members, 0))->key_id, ==,
                     bb_test_identity_get_key_id (alice));
    bb_msg_members_response_clear (&members);
  }
  g_clear_pointer (&reply, g_free);
  expect_error (f, 404, "namespace", "GET", path, bob_token, NULL, NULL);
  g_clear_pointer (&path, g_free);

  path = g_strdup_printf ("/v1/namespaces/%s/wrapped-deks/%s", shared,
                          bb_test_identity_get_key_id (alice));
  expect_status (f, 200, "GET", path, token, NULL, NULL);
  expect_status (f, 404, "GET", path, bob_token, NULL, NULL);
  g_clear_pointer (&path, g_free);
  path = g_strdup_printf ("/v1/namespaces/%s/wrapped-deks/%s", shared,
                          bb_test_identity_get_key_id (bob));
  expect_status (f, 403, "GET", path, token, NULL, NULL);
  g_clear_pointer (&path, g_free);
  path = g_strdup_printf ("/v1/namespaces/%s/members", "ABCDEF00112233445566778899aabbcc");
  expect_error (f, 400, "namespaceId", "GET", path, token, NULL, NULL);
  g_clear_pointer (&path, g_free);

  /* Per-key namespace cap. */
  bb_server_set_limit (f->server, BB_SERVER_LIMIT_NAMESPACES_PER_KEY, 2);
  {
    g_autofree char *id = random_hex (16);
    g_autofree char *wrapped = wrapped_dek_for (alice, id, dek);
    BbMsgCreateNamespaceRequest request = { id, wrapped };
    g_autofree char *json = bb_msg_create_namespace_request_to_json (&request);
    expect_status (f, 429, "POST", "/v1/namespaces", token, json, NULL);
  }
}

/* ------------------------------------------------------------------------------------ */
/* Tests: items */

static void
test_items (Fixture *f, gconstpointer data)
{
  g_autoptr (BbTestIdentity) alice = bb_test_identity_new ("demo-alice");
  g_autoptr (BbTestIdentity) bob = bb_test_identity_new ("demo-bob");
  g_autofree char *token = login (f, alice);
  g_autofree char *bob_token = login (f, bob);
  g_autoptr (GBytes) dek = fixed_dek (0x44);
  g_autofree char *ns = create_shared (f, alice, token, dek);
  g_autoptr (GError) error = NULL;
  g_autofree char *item = bb_protocol_item_id (dek, "notes", "tx1", &error);
  g_autofree char *item2 = bb_protocol_item_id (dek, "notes", "tx2", &error);
  g_autofree char *path = g_strdup_printf ("/v1/kv/%s/%s", ns, item);
  g_autofree char *text = NULL;
  g_autofree char *body = NULL;
  guint64 version = 0;
  guint count = 0;

  g_assert_no_error (error);
  expect_error (f, 404, "item", "GET", path, token, NULL, NULL);
  g_assert_cmpuint (namespace_head (f, token, ns, &count), ==, 0);
  g_assert_cmpuint (count, ==, 0);

  g_assert_cmpuint (put_item (f, token, dek, ns, item, 0, "hello"), ==, 1);
  text = get_item_plaintext (f, token, dek, ns, item, &version);
  g_assert_cmpstr (text, ==, "hello");
  g_assert_cmpuint (version, ==, 1);
  g_clear_pointer (&text, g_free);
  g_assert_cmpuint (namespace_head (f, token, ns, NULL), ==, 1);

  /* Create-only-if-absent. */
  body = item_body (dek, ns, item, 1, "again");
  expect_error (f, 412, "exists", "PUT", path, token, body, NULL);
  g_clear_pointer (&body, g_free);

  /* Update with the current version. */
  g_assert_cmpuint (put_item (f, token, dek, ns, item, 1, "world"), ==, 2);
  text = get_item_plaintext (f, token, dek, ns, item, &version);
  g_assert_cmpstr (text, ==, "world");
  g_assert_cmpuint (version, ==, 2);
  g_clear_pointer (&text, g_free);
  g_assert_cmpuint (namespace_head (f, token, ns, NULL), ==, 2);

  /* Stale If-Match, and If-Match on an absent item: 412, head unchanged. */
  body = item_body (dek, ns, item, 2, "stale");
  expect_status (f, 412, "PUT", path, token, body, "\"1\"");
  g_clear_pointer (&body, g_free);
  {
    g_autofree char *path2 = g_strdup_printf ("/v1/kv/%s/%s", ns, item2);
    body = item_body (dek, ns, item2, 5, "nope");
    expect_status (f, 412, "PUT", path2, token, body, "\"4\"");
    g_clear_pointer (&body, g_free);
  }
  g_assert_cmpuint (namespace_head (f, token, ns, NULL), ==, 2);

  /* Malformed If-Match values. */
  body = item_body (dek, ns, item, 3, "x");
  expect_error (f, 400, "If-Match", "PUT", path, token, body, "2");
  expect_error (f, 400, "If-Match", "PUT", path, token, body, "\"02\"");
  expect_error (f, 400, "If-Match", "PUT", path, token, body, "\"2\", \"3\"");
  expect_status (f, 400, "PUT", path, token, body, "\"18446744073709551615\"");
  g_clear_pointer (&body, g_free);

  /* The AAD must be the canonical one of the new version. */
  body = item_body (dek, ns, item, 2, "wrong version in aad");
  expect_error (f, 400, "aad", "PUT", path, token, body, "\"2\"");
  g_clear_pointer (&body, g_free);
  {
    /* AAD for another item. */
    g_autofree char *path2 = g_strdup_printf ("/v1/kv/%s/%s", ns, item2);
    body = item_body (dek, ns, item, 1, "other item");
    expect_error (f, 400, "aad", "PUT", path2, token, body, NULL);
    g_clear_pointer (&body, g_free);
  }

  /* Body encodings and sizes. */
  {
    g_autoptr (GBytes) aad = bb_protocol_item_aad (ns, item2, 1, &error);
    g_autofree char *aad64 = b64 (aad);
    g_autofree char *path2 = g_strdup_printf ("/v1/kv/%s/%s", ns, item2);
    g_autoptr (GBytes) big = bb_test_repeat (0x5a, BB_PROTOCOL_MAX_CIPHERTEXT_SIZE + 1);
    g_autoptr (GBytes) max = bb_test_repeat (0x5a, BB_PROTOCOL_MAX_CIPHERTEXT_SIZE);
    g_autofree char *big64 = b64 (big);
    g_autofree char *max64 = b64 (max);
    const char *nonce = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYX";
    g_autofree char *short_nonce
        = g_strdup_printf ("{\"nonce\":\"AAEC\",\"aad\":\"%s\",\"ciphertext\":\"%s\"}", aad64,
                           "AAAAAAAAAAAAAAAAAAAAAA==");
    g_autofree char *short_ct = g_strdup_printf (
        "{\"nonce\":\"%s\",\"aad\":\"%s\",\"ciphertext\":\"AAAA\"}", nonce, aad64);
    g_autofree char *noncanon = g_strdup_printf (
        "{\"nonce\":\"%s\",\"aad\":\"%s\\n\",\"ciphertext\":\"AAAAAAAAAAAAAAAAAAAAAA==\"}", nonce,
        aad64);
    g_autofree char *too_big = g_strdup_printf (
        "{\"nonce\":\"%s\",\"aad\":\"%s\",\"ciphertext\":\"%s\"}", nonce, aad64, big64);
    g_autofree char *max_body = g_strdup_printf (
        "{\"nonce\":\"%s\",\"aad\":\"%s\",\"ciphertext\":\"%s\"}", nonce, aad64, max64);
    g_autofree char *extra = g_strdup_printf (
        "{\"nonce\":\"%s\",\"aad\":\"%s\",\"ciphertext\":\"AAAAAAAAAAAAAAAAAAAAAA==\",\"x\":1}",
        nonce, aad64);
    g_assert_no_error (error);

    expect_error (f, 400, "nonce", "PUT", path2, token, short_nonce, NULL);
    expect_error (f, 400, "ciphertext", "PUT", path2, token, short_ct, NULL);
    expect_status (f, 400, "PUT", path2, token, noncanon, NULL);
    expect_error (f, 413, "ciphertext", "PUT", path2, token, too_big, NULL);
    expect_error (f, 400, "unknown field", "PUT", path2, token, extra, NULL);
    expect_status (f, 200, "PUT", path2, token, max_body, NULL);
  }
  g_assert_cmpuint (namespace_head (f, token, ns, &count), ==, 3);
  g_assert_cmpuint (count, ==, 2);

  /* Bad path IDs, and non-members. */
  {
    g_autofree char *bad = g_strdup_printf ("/v1/kv/%s/%s", ns, "abc");
    expect_error (f, 400, "itemId", "GET", bad, token, NULL, NULL);
  }
  expect_status (f, 404, "GET", path, bob_token, NULL, NULL);
  body = item_body (dek, ns, item, 3, "intruder");
  expect_status (f, 404, "PUT", path, bob_token, body, "\"2\"");
  g_clear_pointer (&body, g_free);

  /* Item-count quota and storage quota. */
  bb_server_set_limit (f->server, BB_SERVER_LIMIT_ITEMS_PER_NAMESPACE, 2);
  {
    g_autofree char *item3 = bb_protocol_item_id (dek, "notes", "tx3", &error);
    g_autofree char *path3 = g_strdup_printf ("/v1/kv/%s/%s", ns, item3);
    body = item_body (dek, ns, item3, 1, "three");
    expect_status (f, 429, "PUT", path3, token, body, NULL);
    g_clear_pointer (&body, g_free);
  }
  /* Updating an existing item stays allowed at the item limit. */
  g_assert_cmpuint (put_item (f, token, dek, ns, item, 2, "still fine"), ==, 3);
  bb_server_set_limit (f->server, BB_SERVER_LIMIT_BYTES_PER_NAMESPACE, 1000);
  body = item_body (dek, ns, item, 4, "over quota now");
  expect_status (f, 429, "PUT", path, token, body, "\"3\"");
  g_clear_pointer (&body, g_free);
  g_assert_cmpuint (namespace_head (f, token, ns, NULL), ==, 4);
}

/* ------------------------------------------------------------------------------------ */
/* Tests: watch */

static char *
watch_body (const char *ns, gint64 head)
{
  if (ns == NULL)
    return g_strdup ("{\"knownHeads\":{}}");
  return g_strdup_printf ("{\"knownHeads\":{\"%s\":%" G_GINT64_FORMAT "}}", ns, head);
}

static void
parse_watch (Call *call, BbMsgWatchResponse *response)
{
  g_autoptr (GError) error = NULL;

  g_assert_no_error (call->error);
  g_assert_cmpuint (soup_message_get_status (call->msg), ==, 200);
  g_assert_true (bb_msg_watch_response_parse (response, g_bytes_get_data (call->body, NULL),
                                              g_bytes_get_size (call->body), &error));
  g_assert_no_error (error);
}

static void
test_watch (Fixture *f, gconstpointer data)
{
  g_autoptr (BbTestIdentity) alice = bb_test_identity_new ("demo-alice");
  g_autofree char *token = login (f, alice);
  g_autoptr (GBytes) dek = fixed_dek (0x55);
  g_autofree char *ns = create_shared (f, alice, token, dek);
  g_autoptr (GError) error = NULL;
  g_autofree char *item = bb_protocol_item_id (dek, "c", "k", &error);
  BbMsgWatchResponse response = { 0 };
  g_autofree char *body = NULL;
  gint64 start;

  bb_server_set_watch_timeout (f->server, 300);

  /* A namespace missing from knownHeads answers at once. */
  {
    g_autoptr (Call) call = NULL;
    body = watch_body (NULL, 0);
    call = call_start (f, "POST", "/v1/namespaces/watch", token, body, -1, NULL);
    call_wait (call);
    parse_watch (call, &response);
    g_assert_false (response.timed_out);
    g_assert_cmpuint (response.namespaces->len, ==, 1);
    bb_msg_watch_response_clear (&response);
    g_clear_pointer (&body, g_free);
  }
  /* A known head that differs (even a higher one) answers at once. */
  {
    g_autoptr (Call) call = NULL;
    body = watch_body (ns, 7);
    call = call_start (f, "POST", "/v1/namespaces/watch", token, body, -1, NULL);
    call_wait (call);
    parse_watch (call, &response);
    g_assert_false (response.timed_out);
    g_assert_cmpuint (
        ((BbMsgNamespaceSummary *)g_ptr_array_index (response.namespaces, 0))->namespace_head, ==,
        0);
    bb_msg_watch_response_clear (&response);
    g_clear_pointer (&body, g_free);
  }
  /* Up to date: times out with timedOut:true and an empty list. */
  {
    g_autoptr (Call) call = NULL;
    body = watch_body (ns, 0);
    call = call_start (f, "POST", "/v1/namespaces/watch", token, body, -1, NULL);
    call_wait (call);
    parse_watch (call, &response);
    g_assert_true (response.timed_out);
    g_assert_cmpuint (response.namespaces->len, ==, 0);
    bb_msg_watch_response_clear (&response);
  }
  /* Up to date, then a write wakes it, long before the timeout. Other requests run
   * while the watch is open. */
  bb_server_set_watch_timeout (f->server, 20000);
  {
    g_autoptr (Call) call = call_start (f, "POST", "/v1/namespaces/watch", token, body, -1, NULL);
    for (int i = 0; i < 5; i++)
      g_main_context_iteration (NULL, FALSE);
    g_assert_false (call->done);
    start = g_get_monotonic_time ();
    expect_status (f, 200, "GET", "/health", NULL, NULL, NULL);
    g_assert_false (call->done);
    put_item (f, token, dek, ns, item, 0, "wake up");
    call_wait (call);
    g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);
    parse_watch (call, &response);
    g_assert_false (response.timed_out);
    g_assert_cmpuint (response.namespaces->len, ==, 1);
    g_assert_cmpuint (
        ((BbMsgNamespaceSummary *)g_ptr_array_index (response.namespaces, 0))->namespace_head, ==,
        1);
    bb_msg_watch_response_clear (&response);
  }
  g_clear_pointer (&body, g_free);

  /* Malformed knownHeads. */
  expect_status (f, 400, "POST", "/v1/namespaces/watch", token, "{\"knownHeads\":{\"XYZ\":1}}",
                 NULL);
  expect_status (f, 400, "POST", "/v1/namespaces/watch", token, "{\"knownHeads\":{\"00\":-1}}",
                 NULL);
  expect_status (f, 400, "POST", "/v1/namespaces/watch", token, "{\"knownHeads\":[]}", NULL);
  expect_status (f, 401, "POST", "/v1/namespaces/watch", NULL, "{\"knownHeads\":{}}", NULL);

  /* A client that goes away while waiting leaves nothing behind. */
  {
    g_autoptr (GCancellable) cancellable = g_cancellable_new ();
    g_autoptr (SoupMessage) msg = NULL;
    g_autofree char *url = g_strconcat (f->base, "/v1/namespaces/watch", NULL);
    g_autofree char *auth = g_strconcat ("Bearer ", token, NULL);
    g_autoptr (GBytes) bytes = NULL;

    body = watch_body (ns, 1);
    bytes = g_bytes_new (body, strlen (body));
    msg = soup_message_new ("POST", url);
    soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", auth);
    soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
    soup_session_send_and_read_async (f->session, msg, G_PRIORITY_DEFAULT, cancellable, NULL, NULL);
    for (int i = 0; i < 20; i++)
      g_main_context_iteration (NULL, FALSE);
    g_cancellable_cancel (cancellable);
    for (int i = 0; i < 20; i++)
      g_main_context_iteration (NULL, FALSE);
    g_clear_pointer (&body, g_free);
  }
  put_item (f, token, dek, ns, item, 1, "after cancel");
  expect_status (f, 200, "GET", "/health", NULL, NULL, NULL);
}

/* ------------------------------------------------------------------------------------ */
/* Tests: invites and join requests */

typedef struct
{
  char *invite_id;
  GBytes *secret;        /* invite secret (URI fragment) */
  GBytes *server_secret; /* derived */
  char *server_secret64;
  gint64 expires_at;
} Invite;

static void
invite_clear (Invite *invite)
{
  g_free (invite->invite_id);
  g_clear_pointer (&invite->secret, g_bytes_unref);
  g_clear_pointer (&invite->server_secret, g_bytes_unref);
  g_free (invite->server_secret64);
}

/* Builds a create-invite body (variant A when @max_pending > 0), with a fresh challenge
 * bound to its fields unless @bind_fields says otherwise. */
static char *
create_invite_body (Fixture *f, BbTestIdentity *id, const char *ns, Invite *invite,
                    gint64 max_pending, gint64 max_accepted, GBytes *bind_fields,
                    BbTestIdentity *signer)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) hash = NULL;
  g_autoptr (GBytes) fields = NULL;
  g_autoptr (GBytes) raw = NULL;
  g_autoptr (GBytes) intent = NULL;
  g_autofree char *hash_hex = NULL;
  g_autofree char *challenge = NULL;
  g_autofree char *signature = NULL;
  BbMsgCreateInviteRequest request = { 0 };
  guint8 secret[32];

  bb_crypto_random_bytes (secret, sizeof secret);
  invite->invite_id = random_hex (16);
  invite->secret = g_bytes_new (secret, sizeof secret);
  invite->server_secret = bb_protocol_invite_server_secret (invite->secret, &error);
  g_assert_no_error (error);
  invite->server_secret64 = bb_protocol_base64url_encode (invite->server_secret);
  invite->expires_at = bb_server_get_now (f->server) + 600;
  hash = bb_protocol_invite_server_secret_hash (invite->server_secret, &error);
  g_assert_no_error (error);
  hash_hex = hex (hash);
  fields = bb_protocol_create_invite_fields (ns, invite->invite_id, hash, invite->expires_at,
                                             (guint)MAX (max_pending, 0),
                                             (guint)CLAMP (max_accepted, 1, 10), &error);
  g_assert_no_error (error);
  challenge = get_challenge (f, "sensitive-action", BB_PROTOCOL_ACTION_CREATE_INVITE,
                             bind_fields != NULL ? bind_fields : fields);
  raw = challenge_bytes (challenge);
  intent = bb_protocol_sensitive_action_intent (BB_PROTOCOL_ACTION_CREATE_INVITE, raw,
                                                BB_PROTOCOL_KIND_KEYSTORE,
                                                bb_test_identity_get_key_id (id), fields, &error);
  g_assert_no_error (error);
  signature = sign_hex (signer != NULL ? signer : id, intent);

  request.kind = (char *)BB_PROTOCOL_KIND_KEYSTORE;
  request.key_id = (char *)bb_test_identity_get_key_id (id);
  request.invite_id = invite->invite_id;
  request.invite_server_secret_hash = hash_hex;
  request.challenge = challenge;
  request.intent_signature = signature;
  request.expires_at = invite->expires_at;
  request.has_max_pending = max_pending > 0;
  request.max_pending = max_pending;
  request.max_accepted = max_accepted;
  return bb_msg_create_invite_request_to_json (&request);
}

static void
create_invite (Fixture *f, BbTestIdentity *id, const char *token, const char *ns, Invite *invite,
               gint64 max_pending)
{
  g_autofree char *body = create_invite_body (f, id, ns, invite, max_pending, 10, NULL, NULL);
  g_autofree char *path = g_strdup_printf ("/v1/namespaces/%s/invites", ns);
  g_autofree char *reply = expect (f, 200, "POST", path, token, body, NULL);
  BbMsgCreateInviteResponse response = { 0 };
  g_autoptr (GError) error = NULL;

  g_assert_true (bb_msg_create_invite_response_parse (&response, reply, -1, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (response.namespace_id, ==, ns);
  g_assert_cmpstr (response.invite_id, ==, invite->invite_id);
  g_assert_cmpint (response.expires_at, ==, invite->expires_at);
  g_assert_cmpint (response.has_max_pending, ==, max_pending > 0);
  if (max_pending > 0)
    g_assert_cmpint (response.max_pending, ==, max_pending);
  g_assert_cmpint (response.max_accepted, ==, 10);
  bb_msg_create_invite_response_clear (&response);
}

static void
join_request_for (Fixture *f, BbTestIdentity *id, const char *ns, Invite *invite,
                  const char *origin, gint64 expires_at, BbMsgJoinRequest *jr)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) payload = NULL;
  g_autoptr (GBytes) proof = NULL;

  payload = bb_protocol_join_request_payload (
      ns, invite->invite_id, origin, BB_PROTOCOL_KIND_KEYSTORE, bb_test_identity_get_key_id (id),
      bb_test_identity_get_auth_public_key (id), bb_test_identity_get_wrap_public_key (id),
      expires_at, &error);
  g_assert_no_error (error);
  proof = bb_protocol_invite_proof (invite->secret, payload, &error);
  g_assert_no_error (error);
  jr->version = 1;
  jr->namespace_id = g_strdup (ns);
  jr->invite_id = g_strdup (invite->invite_id);
  jr->server_origin = g_strdup (origin);
  jr->kind = g_strdup (BB_PROTOCOL_KIND_KEYSTORE);
  jr->key_id = g_strdup (bb_test_identity_get_key_id (id));
  jr->auth_public_key = hex (bb_test_identity_get_auth_public_key (id));
  jr->wrap_public_key = hex (bb_test_identity_get_wrap_public_key (id));
  jr->expires_at = expires_at;
  jr->signature = sign_hex (id, payload);
  jr->invite_proof = bb_protocol_base64url_encode (proof);
}

static char *
submit_body (Invite *invite, const BbMsgJoinRequest *jr)
{
  BbMsgSubmitJoinRequest request = { 0 };
  char *json;

  request.invite_server_secret = invite->server_secret64;
  bb_msg_join_request_copy (jr, &request.join_request);
  json = bb_msg_submit_join_request_to_json (&request);
  request.invite_server_secret = NULL;
  bb_msg_submit_join_request_clear (&request);
  return json;
}

static char *
approve_body (const char *secret64, const char *wrapped)
{
  BbMsgApproveRequest request = { (char *)secret64, (char *)wrapped };

  return bb_msg_approve_request_to_json (&request);
}

static void
test_share_through_invite (Fixture *f, gconstpointer data)
{
  g_autoptr (BbTestIdentity) alice = bb_test_identity_new ("demo-alice");
  g_autoptr (BbTestIdentity) bob = bb_test_identity_new ("demo-bob");
  g_autoptr (BbTestIdentity) carol = bb_test_identity_new ("demo-carol");
  g_autofree char *token = login (f, alice);
  g_autofree char *bob_token = login (f, bob);
  g_autofree char *carol_token = login (f, carol);
  g_autoptr (GBytes) dek = fixed_dek (0x66);
  g_autofree char *ns = create_shared (f, alice, token, dek);
  g_autoptr (GError) error = NULL;
  g_autofree char *item = bb_protocol_item_id (dek, "labels", "acct-1", &error);
  Invite invite = { 0 };
  BbMsgJoinRequest jr = { 0 };
  g_autofree char *join_path = NULL;
  g_autofree char *list_path = g_strdup_printf ("/v1/namespaces/%s/join-requests", ns);
  g_autofree char *body = NULL;
  g_autofree char *reply = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *approve_path = NULL;
  g_autofree char *text = NULL;
  gint64 now = bb_server_get_now (f->server);

  put_item (f, token, dek, ns, item, 0, "savings");

  /* Variant B invite (no maxPending). */
  create_invite (f, alice, token, ns, &invite, 0);
  join_path = g_strdup_printf ("/v1/namespaces/%s/invites/%s/join-requests", ns, invite.invite_id);

  /* Rejections of the submission. */
  join_request_for (f, bob, ns, &invite, "https://other.example", now + 300, &jr);
  body = submit_body (&invite, &jr);
  expect_error (f, 400, "serverOrigin", "POST", join_path, bob_token, body, NULL);
  g_clear_pointer (&body, g_free);
  bb_msg_join_request_clear (&jr);

  join_request_for (f, bob, ns, &invite, ORIGIN, now + 1200, &jr);
  body = submit_body (&invite, &jr);
  expect_error (f, 400, "expiresAt", "POST", join_path, bob_token, body, NULL);
  g_clear_pointer (&body, g_free);
  bb_msg_join_request_clear (&jr);

  join_request_for (f, bob, ns, &invite, ORIGIN, now + 300, &jr);
  {
    /* Wrong server secret. */
    Invite wrong = { 0 };
    g_autoptr (GBytes) zero = bb_test_repeat (0, 32);
    wrong.server_secret64 = bb_protocol_base64url_encode (zero);
    body = submit_body (&wrong, &jr);
    expect_error (f, 403, "inviteServerSecret", "POST", join_path, bob_token, body, NULL);
    g_clear_pointer (&body, g_free);
    invite_clear (&wrong);
  }
  /* Submitted with Carol's bearer: not the signer. */
  body = submit_body (&invite, &jr);
  expect_status (f, 403, "POST", join_path, carol_token, body, NULL);
  /* A tampered signed field. */
  {
    BbMsgJoinRequest bad = { 0 };
    g_autofree char *bad_body = NULL;
    bb_msg_join_request_copy (&jr, &bad);
    bad.expires_at -= 1;
    bad_body = submit_body (&invite, &bad);
    expect_error (f, 403, "signature", "POST", join_path, bob_token, bad_body, NULL);
    bb_msg_join_request_clear (&bad);
  }
  /* Unknown field inside joinRequest. */
  {
    g_autofree char *extra = NULL;
    char *brace = strrchr (body, '}');
    *brace = '\0';
    extra = g_strconcat (body, ",\"joinRequest\":{\"version\":1,\"extra\":true}}", NULL);
    *brace = '}';
    expect_error (f, 400, "unknown field", "POST", join_path, bob_token, extra, NULL);
  }

  /* Success, echoed verbatim in the list. */
  reply = expect (f, 200, "POST", join_path, bob_token, body, NULL);
  {
    BbMsgSubmitJoinResponse response = { 0 };
    g_autoptr (GBytes) payload = bb_protocol_join_request_payload (
        ns, invite.invite_id, ORIGIN, "keystore", jr.key_id,
        bb_test_identity_get_auth_public_key (bob), bb_test_identity_get_wrap_public_key (bob),
        jr.expires_at, &error);
    g_assert_true (bb_msg_submit_join_response_parse (&response, reply, -1, &error));
    g_assert_no_error (error);
    g_assert_cmpstr (response.status, ==, "pending");
    g_assert_cmpstr (response.requester_key_id, ==, bb_test_identity_get_key_id (bob));
    g_assert_cmpstr (response.invite_id, ==, invite.invite_id);
    hash = bb_protocol_join_request_hash (payload);
    g_assert_cmpstr (response.join_request_hash, ==, hash);
    bb_msg_submit_join_response_clear (&response);
  }
  g_clear_pointer (&reply, g_free);
  /* A resubmission answers with the same pending request. */
  reply = expect (f, 200, "POST", join_path, bob_token, body, NULL);
  g_assert_nonnull (strstr (reply, hash));
  g_clear_pointer (&reply, g_free);

  expect_status (f, 404, "GET", list_path, bob_token, NULL, NULL);
  reply = expect (f, 200, "GET", list_path, token, NULL, NULL);
  {
    BbMsgListJoinRequestsResponse list = { 0 };
    BbMsgJoinRequestEntry *entry;
    g_autoptr (JsonNode) sent = bb_msg_join_request_to_node (&jr);
    g_autoptr (JsonNode) echoed = NULL;
    g_autoptr (GBytes) payload = NULL;
    g_autoptr (GBytes) auth = NULL;
    g_autoptr (GBytes) wrap = NULL;
    g_autoptr (GBytes) proof = NULL;
    g_autofree char *rebuilt_hash = NULL;

    g_assert_true (bb_msg_list_join_requests_response_parse (&list, reply, -1, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (list.requests->len, ==, 1);
    entry = g_ptr_array_index (list.requests, 0);
    g_assert_cmpstr (entry->status, ==, "pending");
    g_assert_cmpstr (entry->join_request_hash, ==, hash);
    echoed = bb_msg_join_request_to_node (&entry->join_request);
    g_assert_true (json_node_equal (sent, echoed));
    /* What the approver checks (§9.8): rebuilt hash, signature, proof. */
    auth = bb_protocol_lower_hex_decode (entry->join_request.auth_public_key, 32, "a", &error);
    wrap = bb_protocol_lower_hex_decode (entry->join_request.wrap_public_key, 32, "w", &error);
    payload = bb_protocol_join_request_payload (
        ns, entry->invite_id, entry->join_request.server_origin, entry->join_request.kind,
        entry->join_request.key_id, auth, wrap, entry->join_request.expires_at, &error);
    g_assert_no_error (error);
    rebuilt_hash = bb_protocol_join_request_hash (payload);
    g_assert_cmpstr (rebuilt_hash, ==, entry->join_request_hash);
    proof = bb_protocol_base64url_decode (entry->join_request.invite_proof, 32, "p", &error);
    g_assert_true (bb_protocol_verify_invite_proof (invite.secret, payload, proof, &error));
    g_assert_no_error (error);
    bb_msg_list_join_requests_response_clear (&list);
  }
  g_clear_pointer (&reply, g_free);

  /* Invite summary counts one active request. */
  {
    g_autofree char *invites_path = g_strdup_printf ("/v1/namespaces/%s/invites", ns);
    BbMsgListInvitesResponse list = { 0 };
    BbMsgInviteSummary *summary;
    reply = expect (f, 200, "GET", invites_path, token, NULL, NULL);
    g_assert_true (bb_msg_list_invites_response_parse (&list, reply, -1, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (list.invites->len, ==, 1);
    summary = g_ptr_array_index (list.invites, 0);
    g_assert_cmpstr (summary->invite_id, ==, invite.invite_id);
    g_assert_cmpstr (summary->created_by_key_id, ==, bb_test_identity_get_key_id (alice));
    g_assert_false (summary->has_max_pending);
    g_assert_cmpint (summary->active_request_count, ==, 1);
    g_assert_cmpint (summary->accepted_count, ==, 0);
    g_assert_null (summary->revoked_at);
    bb_msg_list_invites_response_clear (&list);
    g_clear_pointer (&reply, g_free);
    expect_status (f, 404, "GET", invites_path, bob_token, NULL, NULL);
  }

  /* Approve: wrong secret, bad blob, then success; Bob's watch wakes on the new
   * membership. */
  approve_path = g_strdup_printf ("/v1/namespaces/%s/join-requests/%s/%s/approve", ns,
                                  bb_test_identity_get_key_id (bob), hash);
  {
    g_autofree char *wrapped = wrapped_dek_for (bob, ns, dek);
    g_autoptr (GBytes) zero = bb_test_repeat (7, 32);
    g_autofree char *zero64 = bb_protocol_base64url_encode (zero);
    g_autofree char *bad_secret = approve_body (zero64, wrapped);
    g_autofree char *bad_blob = approve_body (invite.server_secret64, "AgAA");
    g_autofree char *good = approve_body (invite.server_secret64, wrapped);
    g_autofree char *watch = watch_body (NULL, 0);
    g_autoptr (Call) bob_watch = NULL;
    g_autofree char *wrong_hash_path
        = g_strdup_printf ("/v1/namespaces/%s/join-requests/%s/%s/approve", ns,
                           bb_test_identity_get_key_id (bob), bb_test_identity_get_key_id (bob));
    BbMsgWatchResponse response = { 0 };

    bb_server_set_watch_timeout (f->server, 20000);
    bob_watch = call_start (f, "POST", "/v1/namespaces/watch", bob_token, watch, -1, NULL);
    for (int i = 0; i < 5; i++)
      g_main_context_iteration (NULL, FALSE);

    expect_status (f, 403, "PUT", approve_path, token, bad_secret, NULL);
    expect_status (f, 400, "PUT", approve_path, token, bad_blob, NULL);
    expect_status (f, 404, "PUT", approve_path, bob_token, good, NULL);
    expect_status (f, 404, "PUT", wrong_hash_path, token, good, NULL);
    g_assert_false (bob_watch->done);
    reply = expect (f, 200, "PUT", approve_path, token, good, NULL);
    {
      BbMsgApproveResponse approved = { 0 };
      g_assert_true (bb_msg_approve_response_parse (&approved, reply, -1, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (approved.member_key_id, ==, bb_test_identity_get_key_id (bob));
      g_assert_cmpstr (approved.join_request_hash, ==, hash);
      g_assert_cmpstr (approved.namespace_id, ==, ns);
      bb_msg_approve_response_clear (&approved);
    }
    g_clear_pointer (&reply, g_free);
    /* Approved requests leave the pending list; approving again finds nothing. */
    expect_status (f, 404, "PUT", approve_path, token, good, NULL);

    call_wait (bob_watch);
    parse_watch (bob_watch, &response);
    g_assert_false (response.timed_out);
    g_assert_cmpuint (response.namespaces->len, ==, 1);
    g_assert_cmpstr (
        ((BbMsgNamespaceSummary *)g_ptr_array_index (response.namespaces, 0))->namespace_id, ==,
        ns);
    bb_msg_watch_response_clear (&response);
  }
  reply = expect (f, 200, "GET", list_path, token, NULL, NULL);
  {
    g_autofree char *empty = g_strdup_printf ("{\"namespaceId\":\"%s\",\"requests\":[]}\n", ns);
    g_assert_cmpstr (reply, ==, empty);
  }
  g_clear_pointer (&reply, g_free);

  /* Bob now reads Alice's item with the DEK unwrapped from the server. */
  {
    g_autofree char *dek_path = g_strdup_printf ("/v1/namespaces/%s/wrapped-deks/%s", ns,
                                                 bb_test_identity_get_key_id (bob));
    BbMsgWrappedDekResponse wrapped = { 0 };
    g_autoptr (GBytes) blob = NULL;
    g_autoptr (GBytes) bob_dek = NULL;
    reply = expect (f, 200, "GET", dek_path, bob_token, NULL, NULL);
    g_assert_true (bb_msg_wrapped_dek_response_parse (&wrapped, reply, -1, &error));
    g_assert_no_error (error);
    blob = bb_protocol_base64_decode (wrapped.wrapped_dek, 97, "wrappedDek", &error);
    bob_dek = bb_test_identity_unwrap_dek (bob, ns, blob, &error);
    g_assert_no_error (error);
    g_assert_true (g_bytes_equal (bob_dek, dek));
    text = get_item_plaintext (f, bob_token, bob_dek, ns, item, NULL);
    g_assert_cmpstr (text, ==, "savings");
    put_item (f, bob_token, bob_dek, ns, item, 1, "savings (bob)");
    bb_msg_wrapped_dek_response_clear (&wrapped);
    g_clear_pointer (&reply, g_free);
  }
  g_clear_pointer (&text, g_free);
  text = get_item_plaintext (f, token, dek, ns, item, NULL);
  g_assert_cmpstr (text, ==, "savings (bob)");

  /* A member cannot join again. */
  expect_status (f, 409, "POST", join_path, bob_token, body, NULL);
  g_clear_pointer (&body, g_free);
  bb_msg_join_request_clear (&jr);

  /* Carol: reject path, then revoke. */
  join_request_for (f, carol, ns, &invite, ORIGIN, now + 300, &jr);
  body = submit_body (&invite, &jr);
  reply = expect (f, 200, "POST", join_path, carol_token, body, NULL);
  g_clear_pointer (&reply, g_free);
  {
    g_autoptr (GBytes) payload = bb_protocol_join_request_payload (
        ns, invite.invite_id, ORIGIN, "keystore", jr.key_id,
        bb_test_identity_get_auth_public_key (carol), bb_test_identity_get_wrap_public_key (carol),
        jr.expires_at, &error);
    g_autofree char *carol_hash = bb_protocol_join_request_hash (payload);
    g_autofree char *reject_path
        = g_strdup_printf ("/v1/namespaces/%s/join-requests/%s/%s", ns, jr.key_id, carol_hash);
    BbMsgRejectResponse rejected = { 0 };
    reply = expect (f, 200, "DELETE", reject_path, bob_token, NULL, NULL);
    g_assert_true (bb_msg_reject_response_parse (&rejected, reply, -1, &error));
    g_assert_no_error (error);
    g_assert_true (rejected.rejected);
    g_assert_cmpstr (rejected.requester_key_id, ==, jr.key_id);
    bb_msg_reject_response_clear (&rejected);
    g_clear_pointer (&reply, g_free);
    expect_status (f, 404, "DELETE", reject_path, token, NULL, NULL);
  }
  {
    g_autofree char *revoke_path
        = g_strdup_printf ("/v1/namespaces/%s/invites/%s", ns, invite.invite_id);
    BbMsgRevokeInviteResponse revoked = { 0 };
    expect_status (f, 404, "DELETE", revoke_path, carol_token, NULL, NULL);
    reply = expect (f, 200, "DELETE", revoke_path, token, NULL, NULL);
    g_assert_true (bb_msg_revoke_invite_response_parse (&revoked, reply, -1, &error));
    g_assert_true (revoked.revoked);
    bb_msg_revoke_invite_response_clear (&revoked);
    g_clear_pointer (&reply, g_free);
    /* Idempotent. */
    expect_status (f, 200, "DELETE", revoke_path, token, NULL, NULL);
    expect_error (f, 410, "revoked", "POST", join_path, carol_token, body, NULL);
  }
  g_clear_pointer (&body, g_free);
  bb_msg_join_request_clear (&jr);
  invite_clear (&invite);

  /* Variant A invite with maxPending = 1: the second requester hits the limit. */
  create_invite (f, alice, token, ns, &invite, 1);
  g_clear_pointer (&join_path, g_free);
  join_path = g_strdup_printf ("/v1/namespaces/%s/invites/%s/join-requests", ns, invite.invite_id);
  join_request_for (f, carol, ns, &invite, ORIGIN, now + 300, &jr);
  body = submit_body (&invite, &jr);
  expect_status (f, 200, "POST", join_path, carol_token, body, NULL);
  g_clear_pointer (&body, g_free);
  bb_msg_join_request_clear (&jr);
  {
    g_autoptr (BbTestIdentity) dave = bb_test_identity_new ("demo-dave");
    g_autofree char *dave_token = login (f, dave);
    join_request_for (f, dave, ns, &invite, ORIGIN, now + 300, &jr);
    body = submit_body (&invite, &jr);
    expect_status (f, 429, "POST", join_path, dave_token, body, NULL);
    g_clear_pointer (&body, g_free);
    bb_msg_join_request_clear (&jr);
  }
  /* Expired invites answer 410. */
  bb_server_set_clock_offset (f->server, 700);
  {
    g_autoptr (BbTestIdentity) erin = bb_test_identity_new ("demo-erin");
    g_autofree char *erin_token = login (f, erin);
    join_request_for (f, erin, ns, &invite, ORIGIN, now + 800, &jr);
    body = submit_body (&invite, &jr);
    expect_error (f, 410, "expired", "POST", join_path, erin_token, body, NULL);
    g_clear_pointer (&body, g_free);
    bb_msg_join_request_clear (&jr);
  }
  bb_server_set_clock_offset (f->server, 0);
  invite_clear (&invite);
}

static void
test_invite_rules (Fixture *f, gconstpointer data)
{
  g_autoptr (BbTestIdentity) alice = bb_test_identity_new ("demo-alice");
  g_autoptr (BbTestIdentity) bob = bb_test_identity_new ("demo-bob");
  g_autofree char *token = login (f, alice);
  g_autofree char *bob_token = login (f, bob);
  g_autoptr (GBytes) dek = fixed_dek (0x77);
  g_autofree char *ns = create_shared (f, alice, token, dek);
  g_autofree char *path = g_strdup_printf ("/v1/namespaces/%s/invites", ns);
  g_autofree char *default_ns = random_hex (16);
  g_autofree char *default_path = g_strdup_printf ("/v1/namespaces/%s/invites", default_ns);
  g_autofree char *body = NULL;
  Invite invite = { 0 };
  gboolean created;

  g_free (ensure_default (f, alice, token, default_ns, dek, &created, NULL));

  /* Not on a default namespace, not by a non-member, not for another keyId. */
  body = create_invite_body (f, alice, default_ns, &invite, 0, 10, NULL, NULL);
  expect_error (f, 403, "shared", "POST", default_path, token, body, NULL);
  g_clear_pointer (&body, g_free);
  invite_clear (&invite);
  body = create_invite_body (f, alice, ns, &invite, 0, 10, NULL, NULL);
  expect_status (f, 404, "POST", path, bob_token, body, NULL);
  g_clear_pointer (&body, g_free);
  invite_clear (&invite);

  /* The challenge must be bound to these fields. */
  {
    g_autoptr (GBytes) other = bb_test_repeat (1, 76);
    body = create_invite_body (f, alice, ns, &invite, 0, 10, other, NULL);
    expect_error (f, 400, "challenge", "POST", path, token, body, NULL);
    g_clear_pointer (&body, g_free);
    invite_clear (&invite);
  }
  /* Variant confusion: the body says A, the signature and challenge say B. */
  body = create_invite_body (f, alice, ns, &invite, 0, 10, NULL, NULL);
  {
    char *brace = strrchr (body, '}');
    g_autofree char *head = g_strndup (body, brace - body);
    g_autofree char *with_pending = NULL;
    char *accepted = strstr (head, ",\"maxAccepted\"");
    *accepted = '\0';
    with_pending = g_strconcat (head, ",\"maxPending\":20,\"maxAccepted\":10}", NULL);
    expect_error (f, 400, "challenge", "POST", path, token, with_pending, NULL);
  }
  g_clear_pointer (&body, g_free);
  invite_clear (&invite);

  /* A signature by someone else. */
  body = create_invite_body (f, alice, ns, &invite, 0, 10, NULL, bob);
  expect_error (f, 403, "intentSignature", "POST", path, token, body, NULL);
  g_clear_pointer (&body, g_free);
  invite_clear (&invite);

  /* Counts out of range. */
  body = create_invite_body (f, alice, ns, &invite, 0, 11, NULL, NULL);
  expect_error (f, 400, "maxAccepted", "POST", path, token, body, NULL);
  g_clear_pointer (&body, g_free);
  invite_clear (&invite);
  body = create_invite_body (f, alice, ns, &invite, 0, 0, NULL, NULL);
  expect_error (f, 400, "maxAccepted", "POST", path, token, body, NULL);
  g_clear_pointer (&body, g_free);
  invite_clear (&invite);

  /* An expiry too far ahead: the body is built with the real clock, and checked with
   * the server's clock 2 h back. */
  {
    body = create_invite_body (f, alice, ns, &invite, 0, 10, NULL, NULL);
    bb_server_set_clock_offset (f->server, -7200);
    expect_error (f, 400, "expiresAt", "POST", path, token, body, NULL);
    bb_server_set_clock_offset (f->server, 0);
    g_clear_pointer (&body, g_free);
    invite_clear (&invite);
  }

  /* Five active invites at most; a duplicate inviteId is 409. */
  for (int i = 0; i < 5; i++)
    {
      create_invite (f, alice, token, ns, &invite, i % 2 == 0 ? 0 : 20);
      invite_clear (&invite);
    }
  body = create_invite_body (f, alice, ns, &invite, 0, 10, NULL, NULL);
  expect_status (f, 429, "POST", path, token, body, NULL);
  g_clear_pointer (&body, g_free);
  invite_clear (&invite);
  bb_server_set_limit (f->server, BB_SERVER_LIMIT_ACTIVE_INVITES, 50);
  create_invite (f, alice, token, ns, &invite, 0);
  {
    /* Re-sign a body for the existing inviteId. */
    g_autoptr (GError) error = NULL;
    g_autoptr (GBytes) hash = bb_protocol_invite_server_secret_hash (invite.server_secret, &error);
    g_autofree char *hash_hex = hex (hash);
    g_autoptr (GBytes) fields = bb_protocol_create_invite_fields (ns, invite.invite_id, hash,
                                                                  invite.expires_at, 0, 10, &error);
    g_autofree char *challenge
        = get_challenge (f, "sensitive-action", BB_PROTOCOL_ACTION_CREATE_INVITE, fields);
    g_autoptr (GBytes) raw = challenge_bytes (challenge);
    g_autoptr (GBytes) intent
        = bb_protocol_sensitive_action_intent (BB_PROTOCOL_ACTION_CREATE_INVITE, raw, "keystore",
                                               bb_test_identity_get_key_id (alice), fields, &error);
    g_autofree char *signature = sign_hex (alice, intent);
    BbMsgCreateInviteRequest request = { (char *)"keystore",
                                         (char *)bb_test_identity_get_key_id (alice),
                                         invite.invite_id,
                                         hash_hex,
                                         challenge,
                                         signature,
                                         invite.expires_at,
                                         FALSE,
                                         0,
                                         10 };
    g_autofree char *json = bb_msg_create_invite_request_to_json (&request);
    g_assert_no_error (error);
    expect_status (f, 409, "POST", path, token, json, NULL);
  }
  invite_clear (&invite);
}

/* ------------------------------------------------------------------------------------ */
/* Tests: persistence, snapshots, faults */

static void
test_persistence (Fixture *f, gconstpointer data)
{
  g_autoptr (BbTestIdentity) alice = bb_test_identity_new ("demo-alice");
  g_autoptr (GBytes) dek = fixed_dek (0x88);
  g_autoptr (GError) error = NULL;
  g_autofree char *item = bb_protocol_item_id (dek, "c", "persist", &error);
  g_autofree char *db = NULL;
  g_autofree char *token = NULL;
  g_autofree char *ns = NULL;
  g_autofree char *text = NULL;

  f->tmpdir = g_dir_make_tmp ("bbsync-server-XXXXXX", &error);
  g_assert_no_error (error);
  db = g_build_filename (f->tmpdir, "server.db", NULL);
  fixture_stop_server (f);
  fixture_setup_with (f, db);

  token = login (f, alice);
  ns = create_shared (f, alice, token, dek);
  put_item (f, token, dek, ns, item, 0, "one");
  put_item (f, token, dek, ns, item, 1, "two");

  fixture_stop_server (f);
  fixture_setup_with (f, db);

  /* Tokens, namespaces, items and heads survive. */
  text = get_item_plaintext (f, token, dek, ns, item, NULL);
  g_assert_cmpstr (text, ==, "two");
  g_assert_cmpuint (namespace_head (f, token, ns, NULL), ==, 2);

  /* Snapshots work on a file database (in WAL mode) too. */
  g_assert_true (bb_server_save_snapshot (f->server, "two", &error));
  g_assert_no_error (error);
  put_item (f, token, dek, ns, item, 2, "three");
  g_assert_cmpuint (namespace_head (f, token, ns, NULL), ==, 3);
  g_assert_true (bb_server_restore_snapshot (f->server, "two", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (namespace_head (f, token, ns, NULL), ==, 2);

  /* And the restored state is what a restart sees. */
  fixture_stop_server (f);
  fixture_setup_with (f, db);
  g_clear_pointer (&text, g_free);
  text = get_item_plaintext (f, token, dek, ns, item, NULL);
  g_assert_cmpstr (text, ==, "two");
}

static void
test_snapshot_rollback (Fixture *f, gconstpointer data)
{
  g_autoptr (BbTestIdentity) alice = bb_test_identity_new ("demo-alice");
  g_autoptr (GBytes) dek = fixed_dek (0x99);
  g_autoptr (GError) error = NULL;
  g_autofree char *item = bb_protocol_item_id (dek, "c", "rollback", &error);
  g_autofree char *token = login (f, alice);
  g_autofree char *ns = create_shared (f, alice, token, dek);
  g_autofree char *text = NULL;
  g_autofree char *body = NULL;

  put_item (f, token, dek, ns, item, 0, "v1");
  g_assert_true (bb_server_save_snapshot (f->server, "before", &error));
  g_assert_no_error (error);
  put_item (f, token, dek, ns, item, 1, "v2");
  put_item (f, token, dek, ns, item, 2, "v3");
  g_assert_cmpuint (namespace_head (f, token, ns, NULL), ==, 3);

  /* An open watch that knows head 3 answers at once on rollback (head 1 ≠ 3). */
  bb_server_set_watch_timeout (f->server, 20000);
  body = watch_body (ns, 3);
  {
    g_autoptr (Call) call = call_start (f, "POST", "/v1/namespaces/watch", token, body, -1, NULL);
    BbMsgWatchResponse response = { 0 };
    for (int i = 0; i < 5; i++)
      g_main_context_iteration (NULL, FALSE);
    g_assert_false (call->done);
    g_assert_true (bb_server_restore_snapshot (f->server, "before", &error));
    g_assert_no_error (error);
    call_wait (call);
    parse_watch (call, &response);
    g_assert_cmpuint (
        ((BbMsgNamespaceSummary *)g_ptr_array_index (response.namespaces, 0))->namespace_head, ==,
        1);
    bb_msg_watch_response_clear (&response);
  }
  g_assert_cmpuint (namespace_head (f, token, ns, NULL), ==, 1);
  text = get_item_plaintext (f, token, dek, ns, item, NULL);
  g_assert_cmpstr (text, ==, "v1");

  g_assert_false (bb_server_restore_snapshot (f->server, "never-saved", &error));
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_NOT_FOUND);
}

static void
test_faults (Fixture *f, gconstpointer data)
{
  g_autofree char *reply = NULL;
  gint64 start;

  bb_server_set_error_rate (f->server, 1.0, 503);
  expect_error (f, 503, "injected", "GET", "/health", NULL, NULL, NULL);
  bb_server_set_error_rate (f->server, 1.0, 500);
  expect_status (f, 500, "GET", "/health", NULL, NULL, NULL);
  bb_server_set_error_rate (f->server, 0.0, 500);
  expect_status (f, 200, "GET", "/health", NULL, NULL, NULL);

  /* A fraction: over 200 requests, some but not all fail. */
  {
    guint failed = 0;
    bb_server_set_fault_seed (f->server, 42);
    bb_server_set_error_rate (f->server, 0.3, 500);
    for (int i = 0; i < 200; i++)
      if (http (f, "GET", "/health", NULL, NULL, NULL, NULL) == 500)
        failed++;
    g_assert_cmpuint (failed, >, 20);
    g_assert_cmpuint (failed, <, 120);
    bb_server_set_error_rate (f->server, 0.0, 500);
  }

  /* Dropped mid-response: a transport error on the client, and the server lives on. */
  bb_server_set_drop_rate (f->server, 1.0);
  g_assert_cmpuint (http (f, "GET", "/health", NULL, NULL, NULL, &reply), ==, 0);
  g_clear_pointer (&reply, g_free);
  bb_server_set_drop_rate (f->server, 0.0);
  expect_status (f, 200, "GET", "/health", NULL, NULL, NULL);

  /* Latency delays, but answers are unchanged; a paused request does not block others
   * (both run concurrently). */
  bb_server_set_latency (f->server, 150);
  start = g_get_monotonic_time ();
  {
    g_autoptr (Call) a = call_start (f, "GET", "/health", NULL, NULL, -1, NULL);
    g_autoptr (Call) b = call_start (f, "GET", "/version", NULL, NULL, -1, NULL);
    call_wait (a);
    call_wait (b);
    g_assert_cmpuint (soup_message_get_status (a->msg), ==, 200);
    g_assert_cmpuint (soup_message_get_status (b->msg), ==, 200);
  }
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 150 * 1000);

  /* Latency and drops together: the delayed answer is cut off. */
  bb_server_set_latency (f->server, 20);
  bb_server_set_drop_rate (f->server, 1.0);
  g_assert_cmpuint (http (f, "GET", "/health", NULL, NULL, NULL, &reply), ==, 0);
  g_clear_pointer (&reply, g_free);
  bb_server_set_drop_rate (f->server, 0.0);
  expect_status (f, 200, "GET", "/health", NULL, NULL, NULL);
  bb_server_set_latency (f->server, 0);
}

/* bb_server_fail_next_requests() and bb_server_set_retry_after(). */
static void
test_fail_next_requests (Fixture *f, gconstpointer data)
{
  const char *item_path = "/v1/kv/"
                          "0123456789abcdef0123456789abcdef"
                          "/"
                          "b8d18f536289d201bcd1034560a83da1429a95678cdd35003d458e990c9a7a4f";

  bb_server_set_retry_after (f->server, 30);
  bb_server_fail_next_requests (f->server, "GET", "/v1/kv/", 2, 503);

  /* Other methods and paths go through; they do not use up the count. */
  expect_status (f, 200, "GET", "/health", NULL, NULL, NULL);
  expect_status (f, 401, "PUT", item_path, NULL, "{}", NULL);

  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (Call) call = call_start (f, "GET", item_path, NULL, NULL, -1, NULL);
      SoupMessageHeaders *headers;

      call_wait (call);
      headers = soup_message_get_response_headers (call->msg);
      if (i < 2)
        {
          g_autofree char *text
              = g_strndup (g_bytes_get_data (call->body, NULL), g_bytes_get_size (call->body));

          g_assert_cmpuint (soup_message_get_status (call->msg), ==, 503);
          g_assert_cmpstr (soup_message_headers_get_one (headers, "Retry-After"), ==, "30");
          g_assert_nonnull (strstr (text, "injected fault"));
        }
      else
        {
          /* Routed again: unauthenticated. */
          g_assert_cmpuint (soup_message_get_status (call->msg), ==, 401);
          g_assert_null (soup_message_headers_get_one (headers, "Retry-After"));
        }
    }

  /* Any method, 429; the header follows set_retry_after(), and a 500 never has one. */
  bb_server_fail_next_requests (f->server, NULL, NULL, 1, 429);
  {
    g_autoptr (Call) call = call_start (f, "POST", "/v1/namespaces/watch", NULL, "{}", -1, NULL);
    call_wait (call);
    g_assert_cmpuint (soup_message_get_status (call->msg), ==, 429);
    g_assert_cmpstr (
        soup_message_headers_get_one (soup_message_get_response_headers (call->msg), "Retry-After"),
        ==, "30");
  }
  bb_server_fail_next_requests (f->server, "GET", "/health", 1, 500);
  {
    g_autoptr (Call) call = call_start (f, "GET", "/health", NULL, NULL, -1, NULL);
    call_wait (call);
    g_assert_cmpuint (soup_message_get_status (call->msg), ==, 500);
    g_assert_null (soup_message_headers_get_one (soup_message_get_response_headers (call->msg),
                                                 "Retry-After"));
  }
  expect_status (f, 200, "GET", "/health", NULL, NULL, NULL);

  /* Replaced, then removed with a count of 0; without retry-after, no header. */
  bb_server_set_retry_after (f->server, 0);
  bb_server_fail_next_requests (f->server, "GET", "/health", 5, 503);
  bb_server_fail_next_requests (f->server, "GET", "/health", 1, 429);
  {
    g_autoptr (Call) call = call_start (f, "GET", "/health", NULL, NULL, -1, NULL);
    call_wait (call);
    g_assert_cmpuint (soup_message_get_status (call->msg), ==, 429);
    g_assert_null (soup_message_headers_get_one (soup_message_get_response_headers (call->msg),
                                                 "Retry-After"));
  }
  expect_status (f, 200, "GET", "/health", NULL, NULL, NULL);
  bb_server_fail_next_requests (f->server, "GET", "/health", 3, 503);
  bb_server_fail_next_requests (f->server, "GET", "/health", 0, 503);
  expect_status (f, 200, "GET", "/health", NULL, NULL, NULL);

  /* The error rate with 429 carries the header too. */
  bb_server_set_retry_after (f->server, 7);
  bb_server_set_error_rate (f->server, 1.0, 429);
  {
    g_autoptr (Call) call = call_start (f, "GET", "/health", NULL, NULL, -1, NULL);
    call_wait (call);
    g_assert_cmpuint (soup_message_get_status (call->msg), ==, 429);
    g_assert_cmpstr (
        soup_message_headers_get_one (soup_message_get_response_headers (call->msg), "Retry-After"),
        ==, "7");
  }
  bb_server_set_error_rate (f->server, 0.0, 500);
  expect_status (f, 200, "GET", "/health", NULL, NULL, NULL);
}

static void
test_body_limit (Fixture *f, gconstpointer data)
{
  gsize size = 300 * 1024;
  g_autofree char *big = g_malloc (size + 1);

  memset (big, ' ', size);
  big[0] = '{';
  big[size - 1] = '}';
  big[size] = '\0';
  expect_error (f, 413, "too large", "POST", "/v1/auth/challenge", NULL, big, NULL);
  expect_status (f, 200, "GET", "/health", NULL, NULL, NULL);
}

/* Resets the peak resident memory of this process (0), or -1 when the kernel does not
 * let us. */
static gint64
reset_peak_rss (void)
{
  FILE *file = fopen ("/proc/self/clear_refs", "w");
  gboolean ok;

  if (file == NULL)
    return -1;
  ok = fputs ("5", file) >= 0;
  ok = fclose (file) == 0 && ok;
  return ok ? 0 : -1;
}

static gint64
peak_rss_kib (void)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return -1;
  line = strstr (status, "VmHWM:");
  return line != NULL ? g_ascii_strtoll (line + 6, NULL, 10) : -1;
}

/* An oversize body is refused without being kept in memory, whether its length is
 * announced or it arrives chunked: the server process (in this test process) does not
 * grow by anything near the body's size. */
static void
test_body_limit_memory (Fixture *f, gconstpointer data)
{
  const gsize chunk_size = 1024 * 1024;
  const guint chunks = 128;
  g_autofree char *chunk_data = g_malloc (chunk_size);
  g_autoptr (GBytes) chunk = NULL;

#if defined(__SANITIZE_ADDRESS__)
  /* ASan's quarantine keeps every freed 8 KiB read buffer resident for a while. */
  g_test_skip ("peak RSS is not meaningful under AddressSanitizer");
  return;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  g_test_skip ("peak RSS is not meaningful under AddressSanitizer");
  return;
#endif
#endif
  if (reset_peak_rss () < 0 || peak_rss_kib () < 0)
    {
      g_test_skip ("peak RSS cannot be reset or read here");
      return;
    }
  memset (chunk_data, ' ', chunk_size);
  chunk_data[0] = '{';
  chunk = g_bytes_new_take (g_steal_pointer (&chunk_data), chunk_size);

  for (int chunked = 0; chunked < 2; chunked++)
    {
      g_autofree char *url = g_strconcat (f->base, "/v1/auth/challenge", NULL);
      g_autoptr (GInputStream) stream = g_memory_input_stream_new ();
      SoupMessage *msg = soup_message_new ("POST", url);
      g_autoptr (Call) call = NULL;
      gint64 before;
      gint64 after;

      /* The same chunk over and over: the client side holds 1 MiB. */
      for (guint i = 0; i < chunks; i++)
        g_memory_input_stream_add_bytes (G_MEMORY_INPUT_STREAM (stream), chunk);
      soup_message_set_request_body (msg, "application/json", stream,
                                     chunked ? -1 : (gssize)(chunk_size * chunks));
      reset_peak_rss ();
      before = peak_rss_kib ();
      call = call_send (f, msg);
      call_wait (call);
      after = peak_rss_kib ();
      g_test_message ("%s body of %u MiB: peak RSS %" G_GINT64_FORMAT " -> %" G_GINT64_FORMAT
                      " KiB",
                      chunked ? "chunked" : "sized", chunks, before, after);
      g_assert_no_error (call->error);
      g_assert_cmpuint (soup_message_get_status (call->msg), ==, 413);
      g_assert_cmpint (after - before, <, (gint64)(chunk_size * chunks / 1024 / 4));
    }
  expect_status (f, 200, "GET", "/health", NULL, NULL, NULL);
}

/* Two If-Match header lines are the list "a", "b" (RFC 9110 §5.3), which spec §4.12
 * calls malformed: 400, whichever line a header API would pick on its own. */
static void
test_if_match_repeated (Fixture *f, gconstpointer data)
{
  g_autoptr (BbTestIdentity) alice = bb_test_identity_new ("demo-alice");
  g_autoptr (GBytes) dek = fixed_dek (0xaa);
  g_autoptr (GError) error = NULL;
  g_autofree char *token = login (f, alice);
  g_autofree char *ns = create_shared (f, alice, token, dek);
  g_autofree char *item = bb_protocol_item_id (dek, "c", "k", &error);
  g_autofree char *path = g_strdup_printf ("/v1/kv/%s/%s", ns, item);
  g_autofree char *body = NULL;
  const char *const orders[2][2] = { { "\"1\"", "\"7\"" }, { "\"7\"", "\"1\"" } };

  g_assert_cmpuint (put_item (f, token, dek, ns, item, 0, "one"), ==, 1);
  body = item_body (dek, ns, item, 2, "two");
  for (gsize k = 0; k < G_N_ELEMENTS (orders); k++)
    {
      g_autofree char *url = g_strconcat (f->base, path, NULL);
      g_autofree char *auth = g_strconcat ("Bearer ", token, NULL);
      g_autoptr (GBytes) request = g_bytes_new (body, strlen (body));
      SoupMessage *msg = soup_message_new ("PUT", url);
      SoupMessageHeaders *headers = soup_message_get_request_headers (msg);
      g_autoptr (Call) call = NULL;

      soup_message_headers_replace (headers, "Authorization", auth);
      soup_message_headers_append (headers, "If-Match", orders[k][0]);
      soup_message_headers_append (headers, "If-Match", orders[k][1]);
      soup_message_set_request_body_from_bytes (msg, "application/json", request);
      call = call_send (f, msg);
      call_wait (call);
      g_assert_no_error (call->error);
      g_assert_cmpuint (soup_message_get_status (call->msg), ==, 400);
      g_assert_nonnull (g_strstr_len (g_bytes_get_data (call->body, NULL),
                                      g_bytes_get_size (call->body), "If-Match"));
    }
  g_assert_cmpuint (namespace_head (f, token, ns, NULL), ==, 1);
}

/* A body nested far deeper than any message (within the size limit) is a 400, not a
 * crash: a recursive JSON parser would overflow the stack on it. */
static void
test_deeply_nested_body (Fixture *f, gconstpointer data)
{
  g_autoptr (BbTestIdentity) alice = bb_test_identity_new ("demo-alice");
  g_autofree char *token = login (f, alice);
  const char *const openers[] = { "[", "{\"a\":", "{\"knownHeads\":" };

  for (gsize k = 0; k < G_N_ELEMENTS (openers); k++)
    {
      GString *body = g_string_new (NULL);

      while (body->len < 200 * 1024)
        g_string_append (body, openers[k]);
      expect_error (f, 400, "request body", "POST", "/v1/auth/challenge", NULL, body->str, NULL);
      expect_error (f, 400, "request body", "POST", "/v1/namespaces/watch", token, body->str, NULL);
      g_string_free (body, TRUE);
    }
  /* Deep but legitimate nesting inside strings does not count. */
  expect_status (f, 200, "POST", "/v1/auth/challenge", NULL,
                 "{\"purpose\":\"login\",\"kind\":\"keystore\"}", NULL);
  expect_status (f, 200, "GET", "/health", NULL, NULL, NULL);
}

/* Shutting down with a long poll and a delayed request open answers neither, leaks
 * nothing, and the clients see a transport error. */
static void
test_shutdown_with_open_requests (Fixture *f, gconstpointer data)
{
  g_autoptr (BbTestIdentity) alice = bb_test_identity_new ("demo-alice");
  g_autofree char *token = login (f, alice);
  g_autoptr (Call) watch = NULL;
  g_autoptr (Call) delayed = NULL;

  bb_server_set_watch_timeout (f->server, 20000);
  watch = call_start (f, "POST", "/v1/namespaces/watch", token, "{\"knownHeads\":{}}", -1, NULL);
  for (int i = 0; i < 20; i++)
    g_main_context_iteration (NULL, FALSE);
  bb_server_set_latency (f->server, 10000);
  delayed = call_start (f, "GET", "/health", NULL, NULL, -1, NULL);
  for (int i = 0; i < 20; i++)
    g_main_context_iteration (NULL, FALSE);
  g_assert_false (watch->done);
  g_assert_false (delayed->done);

  bb_server_shutdown (f->server);
  g_assert_null (bb_server_get_base_url (f->server));
  call_wait (watch);
  call_wait (delayed);
  g_assert_nonnull (watch->error);
  g_assert_nonnull (delayed->error);
}

/* Many clients at once: parallel writers on separate items and namespaces, with watches
 * open, all answered correctly. */
static void
test_concurrent_clients (Fixture *f, gconstpointer data)
{
  g_autoptr (BbTestIdentity) alice = bb_test_identity_new ("demo-alice");
  g_autoptr (GBytes) dek = fixed_dek (0xaa);
  g_autofree char *token = login (f, alice);
  g_autofree char *ns = create_shared (f, alice, token, dek);
  g_autoptr (GPtrArray) calls = g_ptr_array_new_with_free_func ((GDestroyNotify)call_free);
  g_autoptr (GPtrArray) watches = g_ptr_array_new_with_free_func ((GDestroyNotify)call_free);
  g_autofree char *watch = watch_body (ns, 0);
  const guint n = 24;
  guint count = 0;

  /* A session with enough connections for everything at once. */
  g_clear_object (&f->session);
  f->session = soup_session_new_with_options ("max-conns", 64, "max-conns-per-host", 64, NULL);
  bb_server_set_watch_timeout (f->server, 20000);
  for (int i = 0; i < 4; i++)
    g_ptr_array_add (watches,
                     call_start (f, "POST", "/v1/namespaces/watch", token, watch, -1, NULL));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *key = g_strdup_printf ("k%u", i);
      g_autofree char *item = bb_protocol_item_id (dek, "c", key, &error);
      g_autofree char *body = item_body (dek, ns, item, 1, key);
      g_autofree char *path = g_strdup_printf ("/v1/kv/%s/%s", ns, item);
      g_ptr_array_add (calls, call_start (f, "PUT", path, token, body, -1, NULL));
    }
  for (guint i = 0; i < calls->len; i++)
    {
      Call *call = g_ptr_array_index (calls, i);
      call_wait (call);
      g_assert_no_error (call->error);
      g_assert_cmpuint (soup_message_get_status (call->msg), ==, 200);
    }
  for (guint i = 0; i < watches->len; i++)
    {
      Call *call = g_ptr_array_index (watches, i);
      BbMsgWatchResponse response = { 0 };
      call_wait (call);
      parse_watch (call, &response);
      g_assert_false (response.timed_out);
      bb_msg_watch_response_clear (&response);
    }
  g_assert_cmpuint (namespace_head (f, token, ns, &count), ==, n);
  g_assert_cmpuint (count, ==, n);
}

/* ------------------------------------------------------------------------------------ */
/* Randomised malformed requests */

static const char *const fuzz_paths[] = {
  "/health",
  "/version",
  "/v1/auth/challenge",
  "/v1/auth/login",
  "/v1/auth/refresh",
  "/v1/auth/tokens",
  "/v1/namespaces/default",
  "/v1/namespaces/mine",
  "/v1/namespaces/watch",
  "/v1/namespaces",
  "/v1/namespaces/NS/members",
  "/v1/namespaces/NS/invites",
  "/v1/namespaces/NS/invites/INV",
  "/v1/namespaces/NS/invites/INV/join-requests",
  "/v1/namespaces/NS/join-requests",
  "/v1/namespaces/NS/join-requests/KEY/HASH/approve",
  "/v1/namespaces/NS/join-requests/KEY/HASH",
  "/v1/namespaces/NS/wrapped-deks/KEY",
  "/v1/namespaces/NS/items",
  "/v1/kv/NS/ITEM",
};
static const char *const fuzz_methods[] = { "GET", "POST", "PUT", "DELETE", "PATCH" };
static const char *const fuzz_bodies[] = {
  "",
  "{",
  "null",
  "[]",
  "\"x\"",
  "{}",
  "{\"knownHeads\":{\"NS\":18446744073709551616}}",
  "{\"knownHeads\":null}",
  "{\"purpose\":\"login\",\"kind\":\"keystore\"}",
  "{\"purpose\":\"sensitive-action\",\"kind\":\"keystore\",\"action\":\"create-namespace-invite\","
  "\"actionFieldsHash\":\"zz\"}",
  "{\"kind\":\"keystore\",\"keyId\":\"KEY\",\"authPublicKey\":\"00\",\"wrapPublicKey\":\"00\","
  "\"challenge\":\"AAAA\",\"intentSignature\":\"00\"}",
  "{\"proposedNamespaceId\":\"NS\",\"wrappedDek\":\"AQ==\"}",
  "{\"namespaceId\":\"NS\",\"wrappedDek\":12}",
  "{\"nonce\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYX\",\"aad\":\"\",\"ciphertext\":\"\"}",
  "{\"nonce\":1.5,\"aad\":true,\"ciphertext\":null}",
  "{\"inviteServerSecret\":\"abc\",\"joinRequest\":{\"version\":1.0}}",
  "{\"inviteServerSecret\":\"abc\",\"joinRequest\":[]}",
  "{\"inviteServerSecret\":\"abc\",\"wrappedDek\":\"AQ==\"}",
  "{\"kind\":\"keystore\",\"keyId\":\"KEY\",\"inviteId\":\"INV\",\"expiresAt\":-1,"
  "\"maxPending\":99999999999,\"maxAccepted\":1e3}",
  "{\"a\":{\"b\":{\"c\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]}}}",
  "{\"purpose\":\"login\",\"purpose\":\"refresh\",\"kind\":\"keystore\"}",
  "\xff\xfe{}",
  "{\"nonce\":\"\\u0000\"}",
};

static char *
fuzz_substitute (const char *text, const char *ns, const char *key, const char *item)
{
  g_autoptr (GString) s = g_string_new (text);

  g_string_replace (s, "NS", ns, 0);
  g_string_replace (s, "KEY", key, 0);
  g_string_replace (s, "HASH", key, 0);
  g_string_replace (s, "INV", ns, 0);
  g_string_replace (s, "ITEM", item, 0);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static void
test_random_malformed (Fixture *f, gconstpointer data)
{
  g_autoptr (BbTestIdentity) alice = bb_test_identity_new ("demo-alice");
  g_autoptr (GBytes) dek = fixed_dek (0xbb);
  g_autoptr (GError) error = NULL;
  g_autofree char *token = login (f, alice);
  g_autofree char *ns = create_shared (f, alice, token, dek);
  g_autofree char *item = bb_protocol_item_id (dek, "c", "known", &error);
  g_autofree char *text = NULL;
  guint statuses[600] = { 0 };

  put_item (f, token, dek, ns, item, 0, "intact");
  bb_server_set_watch_timeout (f->server, 50);

  for (int i = 0; i < 2000; i++)
    {
      const char *method = fuzz_methods[g_test_rand_int_range (0, G_N_ELEMENTS (fuzz_methods))];
      const char *raw_path = fuzz_paths[g_test_rand_int_range (0, G_N_ELEMENTS (fuzz_paths))];
      const char *raw_body = fuzz_bodies[g_test_rand_int_range (0, G_N_ELEMENTS (fuzz_bodies))];
      gboolean with_token = g_test_rand_bit ();
      g_autofree char *junk_id = random_hex (g_test_rand_bit () ? 16 : 32);
      const char *id = g_test_rand_bit () ? ns : junk_id;
      g_autofree char *path = fuzz_substitute (raw_path, id, bb_test_identity_get_key_id (alice),
                                               g_test_rand_bit () ? item : junk_id);
      g_autofree char *body
          = fuzz_substitute (raw_body, id, bb_test_identity_get_key_id (alice), item);
      g_autofree char *if_match = NULL;
      g_autoptr (Call) call = NULL;
      gsize len = strlen (body);
      guint status;

      /* Mutate some bodies: truncate, flip a byte. */
      switch (g_test_rand_int_range (0, 4))
        {
          case 0:
            len = len > 0 ? (gsize)g_test_rand_int_range (0, len) : 0;
            break;
          case 1:
            if (len > 0)
              body[g_test_rand_int_range (0, len)] = (char)g_test_rand_int_range (1, 256);
            break;
          default:
            break;
        }
      if (g_test_rand_int_range (0, 8) == 0)
        if_match = g_strdup_printf ("\"%d\"", g_test_rand_int_range (-2, 5));

      call = call_start (f, method, path, with_token ? token : NULL,
                         g_str_equal (method, "GET") ? NULL : body,
                         g_str_equal (method, "GET") ? -1 : (gssize)len, if_match);
      call_wait (call);
      g_assert_no_error (call->error);
      status = soup_message_get_status (call->msg);
      /* Never a crash, never a server error: the answer is a success or a 4xx. */
      if (status >= 500)
        g_error ("%s %s (%s): %u %.*s", method, path, body, status,
                 (int)g_bytes_get_size (call->body),
                 (const char *)g_bytes_get_data (call->body, NULL));
      g_assert_cmpuint (status, >=, 200);
      statuses[status]++;
    }
  /* The mix reached the handlers, not only the router. */
  g_assert_cmpuint (statuses[400], >, 0);
  g_assert_cmpuint (statuses[401], >, 0);
  g_assert_cmpuint (statuses[404], >, 0);
  g_assert_cmpuint (statuses[405], >, 0);

  expect_status (f, 200, "GET", "/health", NULL, NULL, NULL);
  text = get_item_plaintext (f, token, dek, ns, item, NULL);
  g_assert_cmpstr (text, ==, "intact");
}

/* ------------------------------------------------------------------------------------ */
/* Hardening: slow connections, challenge floods, encoded paths, file modes, web pages */

/* A raw connection to the server that sends @data (NULL: nothing) and then nothing more.
 * The kernel completes the connection from its listen queue, without the server. */
static GSocket *
open_slow_connection (Fixture *f, const char *data)
{
  g_autoptr (GSocketAddress) address
      = g_inet_socket_address_new_from_string ("127.0.0.1", bb_server_get_port (f->server));
  g_autoptr (GError) error = NULL;
  GSocket *socket;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_set_timeout (socket, 10);
  g_assert_true (g_socket_connect (socket, address, NULL, &error));
  g_assert_no_error (error);
  if (data != NULL)
    {
      g_assert_cmpint (g_socket_send (socket, data, strlen (data), NULL, &error), ==,
                       strlen (data));
      g_assert_no_error (error);
    }
  return socket;
}

/* Whether the server has closed @socket: a read that does not block ends the stream or
 * fails. Whatever the server sent before is skipped. */
static gboolean
closed_by_server (GSocket *socket)
{
  char buffer[512];
  gssize n;

  while (g_socket_condition_check (socket, G_IO_IN | G_IO_HUP | G_IO_ERR) != 0)
    {
      n = g_socket_receive_with_blocking (socket, buffer, sizeof buffer, FALSE, NULL, NULL);
      if (n <= 0)
        return TRUE;
    }
  return FALSE;
}

static gboolean
set_flag_cb (gpointer user_data)
{
  *(gboolean *)user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the server until it closes @socket, or at most @seconds: without the request
 * deadline the test then fails instead of hanging. */
static gboolean
wait_closed_by_server (GSocket *socket, guint seconds)
{
  gboolean timed_out = FALSE;
  guint timeout_id = g_timeout_add_seconds (seconds, set_flag_cb, &timed_out);
  gboolean closed;

  while (!(closed = closed_by_server (socket)) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (timeout_id);
  return closed;
}

/* A connection that does not deliver its request in time is closed: one that sends
 * nothing, one stuck in its request line, one stuck in its body, one kept alive idle
 * after a response. Then the server goes on serving. */
static void
test_request_timeout (Fixture *f, gconstpointer data)
{
  g_autoptr (BbTestIdentity) alice = bb_test_identity_new ("demo-alice");
  g_autofree char *token = login (f, alice);
  const char *const partial[] = {
    NULL,
    "GET /v1/namespaces/mi",
    "POST /v1/auth/challenge HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    "Content-Length: 40\r\n\r\n{\"purpose\":",
    "GET /health HTTP/1.1\r\nHost: x\r\n\r\n",
  };
  guint timeout = 0;

  g_object_set (f->server, "request-timeout", 200, NULL);
  g_object_get (f->server, "request-timeout", &timeout, NULL);
  g_assert_cmpuint (timeout, ==, 200);
  for (gsize i = 0; i < G_N_ELEMENTS (partial); i++)
    {
      g_autoptr (GSocket) slow = open_slow_connection (f, partial[i]);

      if (!wait_closed_by_server (slow, 10))
        g_error ("a connection that sent “%s” was not closed", partial[i] ? partial[i] : "");
    }
  expect_status (f, 200, "GET", "/v1/namespaces/mine", token, NULL, NULL);
}

/* Past the connection cap, connections wait until one ends: a request arriving while slow
 * connections fill the cap is answered once the server has dropped one of them, and the
 * server goes on accepting after they are all gone. */
static void
test_connection_cap (Fixture *f, gconstpointer data)
{
  g_autoptr (BbTestIdentity) alice = bb_test_identity_new ("demo-alice");
  g_autofree char *token = NULL;
  g_autoptr (GPtrArray) slow = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (Call) call = NULL;
  guint cap = 0;
  guint closed = 0;

  bb_server_set_request_timeout (f->server, 200);
  token = login (f, alice);
  g_object_set (f->server, "max-connections", 2, NULL);
  g_object_get (f->server, "max-connections", &cap, NULL);
  g_assert_cmpuint (cap, ==, 2);
  /* Without its kept-alive connection, the session's next request needs a new one. */
  soup_session_abort (f->session);
  for (int i = 0; i < 4; i++)
    g_ptr_array_add (slow, open_slow_connection (f, "GET /health HTTP/1.1\r\nHo"));

  call = call_start (f, "GET", "/v1/namespaces/mine", token, NULL, -1, NULL);
  call_wait (call);
  g_assert_no_error (call->error);
  g_assert_cmpuint (soup_message_get_status (call->msg), ==, 200);
  /* The request came after the slow connections, and could only be taken once they had
   * been dropped down to below the cap. */
  for (guint i = 0; i < slow->len; i++)
    closed += closed_by_server (g_ptr_array_index (slow, i));
  g_assert_cmpuint (closed, >=, slow->len - 1);

  g_ptr_array_set_size (slow, 0);
  for (int i = 0; i < 8; i++)
    expect_status (f, 200, "GET", "/v1/namespaces/mine", token, NULL, NULL);
}

/* The highest descriptor this process has open. */
static int
highest_descriptor (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  const char *name;
  int highest = -1;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    highest = MAX (highest, (int)g_ascii_strtoll (name, NULL, 10));
  return highest;
}

/* An application embedding the server may leave it no descriptor to accept with: the
 * server goes on accepting once some are free again (libsoup stopped for good). */
static void
test_descriptors_run_out (Fixture *f, gconstpointer data)
{
  g_autoptr (BbTestIdentity) alice = bb_test_identity_new ("demo-alice");
  g_autofree char *token = login (f, alice);
  g_autoptr (GArray) hog = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr (GSocket) waiting = NULL;
  struct rlimit saved;
  struct rlimit lowered;
  int fd;

  soup_session_abort (f->session);
  g_assert_cmpint (getrlimit (RLIMIT_NOFILE, &saved), ==, 0);
  lowered = saved;
  lowered.rlim_cur = MIN (saved.rlim_cur, (rlim_t)highest_descriptor () + 32);
  g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &lowered), ==, 0);

  /* Every descriptor taken, but for one connection waiting to be accepted. */
  while ((fd = g_open ("/dev/null", O_RDONLY | O_CLOEXEC, 0)) >= 0)
    g_array_append_val (hog, fd);
  g_assert_cmpuint (hog->len, >, 0);
  close (g_array_index (hog, int, hog->len - 1));
  g_array_set_size (hog, hog->len - 1);
  waiting = open_slow_connection (f, NULL);
  for (int i = 0; i < 20; i++)
    g_main_context_iteration (NULL, FALSE);

  for (guint i = 0; i < hog->len; i++)
    close (g_array_index (hog, int, i));
  g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &saved), ==, 0);
  g_clear_object (&waiting);
  expect_status (f, 200, "GET", "/v1/namespaces/mine", token, NULL, NULL);
}

/* A session whose connections come from @local_ip (any 127/8 address reaches loopback). */
static SoupSession *
session_from (const char *local_ip)
{
  g_autoptr (GInetSocketAddress) local
      = G_INET_SOCKET_ADDRESS (g_inet_socket_address_new_from_string (local_ip, 0));
  SoupSession *session
      = soup_session_new_with_options ("local-address", local, "timeout", 20, NULL);

  return session;
}

static gboolean
can_bind (const char *ip)
{
  g_autoptr (GSocket) socket
      = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new_from_string (ip, 0);

  return socket != NULL && g_socket_bind (socket, address, FALSE, NULL);
}

static void
flood_challenges (Fixture *f, guint count)
{
  for (guint i = 0; i < count; i++)
    expect_status (f, 200, "POST", "/v1/auth/challenge", NULL,
                   "{\"purpose\":\"login\",\"kind\":\"keystore\"}", NULL);
}

/* A flood of challenge requests locks nobody out: the oldest challenges make room, first
 * those of the flooding address. A challenge taken before a flood from elsewhere still
 * logs in, a fresh one always does, and used or pushed-out challenges are refused. */
static void
test_challenge_flood (Fixture *f, gconstpointer data)
{
  g_autoptr (BbTestIdentity) alice = bb_test_identity_new ("demo-alice");
  g_autofree char *before = get_challenge (f, "login", NULL, NULL);
  g_autofree char *before_body = login_body (alice, before);
  g_autofree char *token = NULL;
  g_autofree char *evicted = NULL;
  g_autofree char *evicted_body = NULL;

  bb_server_set_limit (f->server, BB_SERVER_LIMIT_CHALLENGES, 200);
  bb_server_set_limit (f->server, BB_SERVER_LIMIT_CHALLENGES_PER_SOURCE, 100);

  /* From another address: Alice's challenge, taken before, survives it. */
  if (can_bind ("127.0.0.2"))
    {
      Fixture flooder = *f;

      flooder.session = session_from ("127.0.0.2");
      flood_challenges (&flooder, 1000);
      g_object_unref (flooder.session);
      expect_status (f, 200, "POST", "/v1/auth/login", NULL, before_body, NULL);
      /* A replay of a used challenge. */
      expect_error (f, 400, "challenge", "POST", "/v1/auth/login", NULL, before_body, NULL);
    }
  else
    g_test_message ("127.0.0.2 is not reachable here: no flood from another address");
  token = login (f, alice);

  /* From Alice's own address: her old challenge is pushed out, a new one works. */
  evicted = get_challenge (f, "login", NULL, NULL);
  evicted_body = login_body (alice, evicted);
  flood_challenges (f, 1000);
  expect_error (f, 400, "challenge", "POST", "/v1/auth/login", NULL, evicted_body, NULL);
  g_clear_pointer (&token, g_free);
  token = login (f, alice);
  expect_status (f, 200, "GET", "/v1/namespaces/mine", token, NULL, NULL);
}

/* Routes match the path as sent: an encoded "/" or letter is not one. */
static void
test_encoded_path (Fixture *f, gconstpointer data)
{
  g_autoptr (BbTestIdentity) alice = bb_test_identity_new ("demo-alice");
  g_autoptr (GBytes) dek = fixed_dek (0x5e);
  g_autofree char *token = login (f, alice);
  g_autofree char *ns = create_shared (f, alice, token, dek);
  g_autofree char *plain = g_strdup_printf ("/v1/namespaces/%s/members", ns);
  /* Each path is the namespace ID between a prefix and a suffix. (libsoup decodes
   * unreserved characters such as "%6d" for "m", which RFC 3986 makes equivalent.) */
  const char *const encoded[][2] = { { "/v1/namespaces/", "%2fmembers" },
                                     { "/v1/namespaces/", "%2Fmembers" },
                                     { "/v1%2fnamespaces/", "/members" },
                                     { "/v1/namespaces%2f", "/members" } };

  expect_status (f, 200, "GET", plain, token, NULL, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (encoded); i++)
    {
      g_autofree char *path = g_strconcat (encoded[i][0], ns, encoded[i][1], NULL);
      expect_status (f, 404, "GET", path, token, NULL, NULL);
    }
}

static guint
file_mode (const char *path)
{
  GStatBuf st;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  return st.st_mode & 0777;
}

/* The database and its journal files are created readable by their owner only, whatever
 * the umask lets through. */
static void
test_database_mode (Fixture *f, gconstpointer data)
{
  g_autoptr (BbTestIdentity) alice = bb_test_identity_new ("demo-alice");
  g_autoptr (GError) error = NULL;
  g_autofree char *db = NULL;
  g_autofree char *wal = NULL;
  g_autofree char *shm = NULL;
  g_autofree char *token = NULL;
  mode_t old_umask = umask (022);

  f->tmpdir = g_dir_make_tmp ("bbsync-server-XXXXXX", &error);
  g_assert_no_error (error);
  db = g_build_filename (f->tmpdir, "server.db", NULL);
  wal = g_strconcat (db, "-wal", NULL);
  shm = g_strconcat (db, "-shm", NULL);
  fixture_stop_server (f);
  fixture_setup_with (f, db);
  token = login (f, alice);
  umask (old_umask);

  g_assert_true (g_file_test (wal, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (shm, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (file_mode (db), ==, 0600);
  g_assert_cmpuint (file_mode (wal), ==, 0600);
  g_assert_cmpuint (file_mode (shm), ==, 0600);
}

/* Sends @method @path with one extra header (@header NULL: none) and @body labelled
 * @content_type (NULL: unlabelled); returns the status. Error answers name the header. */
static guint
send_labelled (Fixture *f, const char *method, const char *path, const char *header,
               const char *value, const char *content_type, const char *body)
{
  g_autofree char *url = g_strconcat (f->base, path, NULL);
  SoupMessage *msg = soup_message_new (method, url);
  g_autoptr (Call) call = NULL;

  if (header != NULL)
    soup_message_headers_replace (soup_message_get_request_headers (msg), header, value);
  if (body != NULL)
    {
      g_autoptr (GBytes) bytes = g_bytes_new (body, strlen (body));
      soup_message_set_request_body_from_bytes (msg, content_type, bytes);
    }
  call = call_send (f, msg);
  call_wait (call);
  g_assert_no_error (call->error);
  if (soup_message_get_status (call->msg) >= 400)
    g_assert_nonnull (g_strstr_len (g_bytes_get_data (call->body, NULL),
                                    g_bytes_get_size (call->body),
                                    header != NULL ? header : "Content-Type"));
  return soup_message_get_status (call->msg);
}

/* What a web page elsewhere sends is refused: its Origin, its Sec-Fetch-Site, and the
 * bodies it may send without asking first. What apps send is served. */
static void
test_cross_site_requests (Fixture *f, gconstpointer data)
{
  const char *challenge = "{\"purpose\":\"login\",\"kind\":\"keystore\"}";
  const char *const foreign_origins[]
      = { "https://evil.example", "null", "http://localhost:1", "http://127.0.0.1" };
  const char *const own_origins[] = { f->base, ORIGIN };
  const char *const refused_sites[] = { "cross-site", "same-site" };
  const char *const served_sites[] = { "same-origin", "none" };
  const char *const refused_types[]
      = { "text/plain", "application/x-www-form-urlencoded", "multipart/form-data", NULL };
  const char *const served_types[]
      = { "application/json", "application/json; charset=utf-8", "Application/JSON" };

  for (gsize i = 0; i < G_N_ELEMENTS (foreign_origins); i++)
    {
      g_assert_cmpuint (
          send_labelled (f, "GET", "/health", "Origin", foreign_origins[i], NULL, NULL), ==, 403);
      g_assert_cmpuint (send_labelled (f, "POST", "/v1/auth/challenge", "Origin",
                                       foreign_origins[i], "application/json", challenge),
                        ==, 403);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (own_origins); i++)
    g_assert_cmpuint (send_labelled (f, "POST", "/v1/auth/challenge", "Origin", own_origins[i],
                                     "application/json", challenge),
                      ==, 200);
  for (gsize i = 0; i < G_N_ELEMENTS (refused_sites); i++)
    g_assert_cmpuint (
        send_labelled (f, "GET", "/health", "Sec-Fetch-Site", refused_sites[i], NULL, NULL), ==,
        403);
  for (gsize i = 0; i < G_N_ELEMENTS (served_sites); i++)
    g_assert_cmpuint (send_labelled (f, "POST", "/v1/auth/challenge", "Sec-Fetch-Site",
                                     served_sites[i], "application/json", challenge),
                      ==, 200);
  for (gsize i = 0; i < G_N_ELEMENTS (refused_types); i++)
    g_assert_cmpuint (
        send_labelled (f, "POST", "/v1/auth/challenge", NULL, NULL, refused_types[i], challenge),
        ==, 415);
  for (gsize i = 0; i < G_N_ELEMENTS (served_types); i++)
    g_assert_cmpuint (
        send_labelled (f, "POST", "/v1/auth/challenge", NULL, NULL, served_types[i], challenge), ==,
        200);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func)                                                                            \
  g_test_add ("/server/" name, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("health-and-routes", test_health_and_routes);
  ADD ("challenge-rules", test_challenge_rules);
  ADD ("login", test_login);
  ADD ("login-small-order-key", test_login_small_order_key);
  ADD ("login-response-wiped", test_login_response_wiped);
  ADD ("login-wrap-key-conflict", test_wrap_key_conflict);
  ADD ("tokens", test_tokens);
  ADD ("namespaces", test_namespaces);
  ADD ("items", test_items);
  ADD ("watch", test_watch);
  ADD ("share-through-invite", test_share_through_invite);
  ADD ("invite-rules", test_invite_rules);
  ADD ("persistence", test_persistence);
  ADD ("snapshot-rollback", test_snapshot_rollback);
  ADD ("faults", test_faults);
  ADD ("fail-next-requests", test_fail_next_requests);
  ADD ("body-limit", test_body_limit);
  ADD ("body-limit-memory", test_body_limit_memory);
  ADD ("deeply-nested-body", test_deeply_nested_body);
  ADD ("if-match-repeated", test_if_match_repeated);
  ADD ("concurrent-clients", test_concurrent_clients);
  ADD ("shutdown-with-open-requests", test_shutdown_with_open_requests);
  ADD ("random-malformed", test_random_malformed);
  ADD ("request-timeout", test_request_timeout);
  ADD ("connection-cap", test_connection_cap);
  ADD ("descriptors-run-out", test_descriptors_run_out);
  ADD ("challenge-flood", test_challenge_flood);
  ADD ("encoded-path", test_encoded_path);
  ADD ("database-mode", test_database_mode);
  ADD ("cross-site-requests", test_cross_site_requests);
#undef ADD

  return g_test_run ();
}
