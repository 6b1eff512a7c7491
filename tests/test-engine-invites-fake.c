/* test-engine-invites-fake.c: the invite test catalogue (invites spec §4.1) against the
 * engine's invite API. A small SoupServer on 127.0.0.1 records every request (method,
 * path, Authorization, body) and answers from per-test state. Invite secrets live in the
 * real Secret Service: run under keyring-session.sh.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <bbsync/bbsync.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>

#include "engine-fake-server.h"

#include "backends/bb-test-identity-private.h"
#include "bb-protocol-types-private.h"
#include "bb-invite-private.h"
#include "bb-invite-secrets-private.h"
#include "bb-protocol-messages-private.h"
#include "bb-sync-engine-private.h"
#include "bb-test-utils.h"

#define ORIGIN "https://sync.example"
/* The engine's clock: 2027-01-15T08:00:00Z. */
#define NOW_S G_GINT64_CONSTANT (1800000000)
#define HOUR_US (G_GINT64_CONSTANT (3600) * G_USEC_PER_SEC)

typedef struct
{
  FakeServer *server;
  BbTestIdentity *identity; /* the engine's */
  BbSyncEngine *engine;
  BbNamespace *ns;
  char *ns_id;
  GBytes *dek;
  gint64 now;
  /* answers */
  const char *bump;   /* create: the response field one too high */
  char *submit_reply; /* submit: this body instead of the echo */
  char *list_json;    /* list join requests */
} F;

/* The create-invite answer: the request echoed, @f->bump one too high. */
static char *
create_reply (F *f, const char *body)
{
  g_autoptr (JsonObject) o = fake_parse_object (body);
  g_autoptr (GString) out = g_string_new (NULL);
  gint64 expires = json_object_get_int_member (o, "expiresAt");
  gint64 accepted = json_object_get_int_member (o, "maxAccepted");

  if (g_strcmp0 (f->bump, "expiresAt") == 0)
    expires++;
  if (g_strcmp0 (f->bump, "maxAccepted") == 0)
    accepted++;
  g_string_printf (out,
                   "{\"namespaceId\":\"%s\",\"inviteId\":\"%s\",\"expiresAt\":%" G_GINT64_FORMAT
                   ",\"maxAccepted\":%" G_GINT64_FORMAT,
                   f->ns_id, json_object_get_string_member (o, "inviteId"), expires, accepted);
  if (json_object_has_member (o, "maxPending"))
    g_string_append_printf (out, ",\"maxPending\":%" G_GINT64_FORMAT,
                            json_object_get_int_member (o, "maxPending")
                                + (g_strcmp0 (f->bump, "maxPending") == 0 ? 1 : 0));
  g_string_append_c (out, '}');
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static char *
submit_reply (F *f, const char *body)
{
  g_autoptr (JsonObject) o = fake_parse_object (body);
  JsonObject *jr = json_object_get_object_member (o, "joinRequest");

  if (f->submit_reply != NULL)
    return g_strdup (f->submit_reply);
  return g_strdup_printf ("{\"namespaceId\":\"%s\",\"inviteId\":\"%s\",\"requesterKind\":"
                          "\"keystore\",\"requesterKeyId\":\"%s\",\"joinRequestHash\":\"%s\","
                          "\"status\":\"pending\"}",
                          json_object_get_string_member (jr, "namespaceId"),
                          json_object_get_string_member (jr, "inviteId"),
                          json_object_get_string_member (jr, "keyId"),
                          "abababababababababababababababababababababababababababababababab");
}

static void
fake_handler (SoupServerMessage *msg, FakeRequest *req, gpointer user_data)
{
  F *f = user_data;
  const char *path = req->path;
  g_auto (GStrv) parts = g_strsplit (path, "/", -1);
  guint n = g_strv_length (parts);
  g_autofree char *answer = NULL;

  /* parts: "", "v1", "namespaces", ns, ... */
  if (strcmp (req->method, "POST") == 0 && strcmp (path, "/v1/auth/challenge") == 0)
    fake_respond_challenge (msg);
  else if (strcmp (req->method, "POST") == 0 && n == 5 && strcmp (parts[4], "invites") == 0)
    {
      answer = create_reply (f, req->body);
      fake_respond (msg, 200, answer);
    }
  else if (strcmp (req->method, "POST") == 0 && n == 7 && strcmp (parts[6], "join-requests") == 0)
    {
      answer = submit_reply (f, req->body);
      fake_respond (msg, 200, answer);
    }
  else if (strcmp (req->method, "GET") == 0 && n == 5 && strcmp (parts[4], "join-requests") == 0)
    fake_respond (msg, 200, f->list_json != NULL ? f->list_json : "{}");
  else if (strcmp (req->method, "PUT") == 0 && n == 8 && strcmp (parts[7], "approve") == 0)
    {
      answer = g_strdup_printf ("{\"namespaceId\":\"%s\",\"memberKind\":\"keystore\","
                                "\"memberKeyId\":\"%s\",\"joinRequestHash\":\"%s\"}",
                                parts[3], parts[5], parts[6]);
      fake_respond (msg, 200, answer);
    }
  else if (strcmp (req->method, "DELETE") == 0 && n == 7 && strcmp (parts[4], "join-requests") == 0)
    {
      answer = g_strdup_printf ("{\"namespaceId\":\"%s\",\"requesterKeyId\":\"%s\","
                                "\"joinRequestHash\":\"%s\",\"rejected\":true}",
                                parts[3], parts[5], parts[6]);
      fake_respond (msg, 200, answer);
    }
  else
    fake_respond (msg, 404, "{\"error\":\"not found\"}");
}

/* newTestEngine plus the shared setup for @kind "shared": identity "test-key", an
 * in-memory store, a namespace cached with @kind and a random DEK; with @token, the
 * access token "test-token" valid 48 h. */
static F *
f_new (const char *kind, gboolean token)
{
  F *f = g_new0 (F, 1);

  f->now = NOW_S * G_USEC_PER_SEC;
  f->server = fake_server_new (fake_handler, f);
  f->engine = fake_engine_new (f->server, &f->now);
  f->identity = BB_TEST_IDENTITY (bb_sync_engine_get_identity (f->engine));
  bb_sync_engine_set_namespace_watch (f->engine, FALSE);

  f->ns_id = bb_protocol_new_namespace_id ();
  f->dek = bb_protocol_new_dek ();
  f->ns = fake_engine_seed_namespace (f->engine, f->ns_id, kind, f->dek, f->now);
  if (token)
    fake_engine_save_token (f->engine, "test-token", f->now + 48 * HOUR_US, NULL);
  return f;
}

static void
f_free (F *f)
{
  bb_sync_engine_close (f->engine);
  g_clear_object (&f->ns);
  g_clear_object (&f->engine);
  fake_server_free (f->server);
  g_free (f->submit_reply);
  g_free (f->list_json);
  g_free (f->ns_id);
  g_bytes_unref (f->dek);
  g_free (f);
}

static BbInvite *
create_invite (F *f, const char *origin, guint ttl, guint max_accepted, guint max_pending,
               GError **error)
{
  g_autoptr (GAsyncResult) res = NULL;

  BB_TEST_AWAIT (res,
                 bb_namespace_create_invite_async (f->ns, origin, ttl, max_accepted, max_pending,
                                                   NULL, bb_test_got_result, &res));
  return bb_namespace_create_invite_finish (f->ns, res, error);
}

/* The test invite: origin ORIGIN, the fixture's namespace, a random invite ID (the
 * keyring outlives one test), secret 0x44 × 32. */
static BbInvite *
test_invite (F *f, gint64 expires_at)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) secret = bb_test_repeat (0x44, 32);
  g_autofree char *invite_id = bb_protocol_new_invite_id ();
  BbInvite *invite = bb_invite_new (ORIGIN, f->ns_id, invite_id, expires_at, secret, &error);

  g_assert_no_error (error);
  return invite;
}

/* --- create invite --- */

/* Checks the create request @req against @invite: fields, bearer, and a signature over
 * the create-invite intent with @fields_len bytes of action fields. */
static void
assert_create_request (F *f, FakeRequest *challenge, FakeRequest *req, BbInvite *invite,
                       guint max_pending, guint max_accepted, gsize fields_len)
{
  g_autoptr (JsonObject) c = fake_parse_object (challenge->body);
  g_autoptr (JsonObject) o = fake_parse_object (req->body);
  g_autoptr (GBytes) server_secret = bb_invite_dup_server_secret (invite);
  g_autoptr (GBytes) hash = NULL;
  g_autoptr (GBytes) fields = NULL;
  g_autoptr (GBytes) challenge_raw = NULL;
  g_autoptr (GBytes) intent = NULL;
  g_autoptr (GBytes) signature = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *hash_hex = NULL;
  g_autofree char *fields_hash = NULL;
  g_autofree char *path = g_strdup_printf ("/v1/namespaces/%s/invites", f->ns_id);

  g_assert_cmpstr (challenge->method, ==, "POST");
  g_assert_cmpstr (challenge->path, ==, "/v1/auth/challenge");
  g_assert_null (challenge->authorization);
  g_assert_cmpstr (json_object_get_string_member (c, "purpose"), ==, "sensitive-action");
  g_assert_cmpstr (json_object_get_string_member (c, "action"), ==, "create-namespace-invite");
  g_assert_cmpstr (json_object_get_string_member (c, "kind"), ==, "keystore");

  g_assert_cmpstr (req->method, ==, "POST");
  g_assert_cmpstr (req->path, ==, path);
  g_assert_cmpstr (req->authorization, ==, "Bearer test-token");
  g_assert_cmpstr (json_object_get_string_member (o, "kind"), ==, "keystore");
  g_assert_cmpstr (json_object_get_string_member (o, "keyId"), ==,
                   bb_sync_engine_get_key_id (f->engine));
  g_assert_cmpstr (json_object_get_string_member (o, "inviteId"), ==,
                   bb_invite_get_invite_id (invite));
  g_assert_cmpint (json_object_get_int_member (o, "expiresAt"), ==,
                   bb_invite_get_expires_at (invite));
  g_assert_cmpint (json_object_get_int_member (o, "maxAccepted"), ==, max_accepted);
  if (max_pending != 0)
    g_assert_cmpint (json_object_get_int_member (o, "maxPending"), ==, max_pending);
  else
    g_assert_false (json_object_has_member (o, "maxPending"));
  g_assert_cmpstr (json_object_get_string_member (o, "challenge"), ==, FAKE_CHALLENGE_B64);

  hash = bb_protocol_invite_server_secret_hash (server_secret, &error);
  g_assert_no_error (error);
  hash_hex = bb_protocol_hex_encode (hash);
  g_assert_cmpstr (json_object_get_string_member (o, "inviteServerSecretHash"), ==, hash_hex);

  fields = bb_protocol_create_invite_fields (f->ns_id, bb_invite_get_invite_id (invite), hash,
                                             bb_invite_get_expires_at (invite), max_pending,
                                             max_accepted, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (fields), ==, fields_len);
  fields_hash = bb_protocol_action_fields_hash (fields);
  g_assert_cmpstr (json_object_get_string_member (c, "actionFieldsHash"), ==, fields_hash);
  challenge_raw = bb_protocol_base64_decode (FAKE_CHALLENGE_B64, 32, "challenge", &error);
  g_assert_no_error (error);
  intent
      = bb_protocol_sensitive_action_intent ("create-namespace-invite", challenge_raw, "keystore",
                                             bb_sync_engine_get_key_id (f->engine), fields, &error);
  g_assert_no_error (error);
  signature = bb_protocol_lower_hex_decode (json_object_get_string_member (o, "intentSignature"),
                                            64, "intentSignature", &error);
  g_assert_no_error (error);
  g_assert_true (bb_protocol_verify_signature (bb_test_identity_get_auth_public_key (f->identity),
                                               intent, signature, &error));
  g_assert_no_error (error);
}

/* TestCreateInviteReturnsTokenAndSubmitsAction, variant A (with maxPending): the origin
 * is canonicalised, one challenge and one create, the invite echoes the request. */
static void
test_create_returns_invite (void)
{
  F *f = f_new ("shared", TRUE);
  g_autoptr (GError) error = NULL;
  g_autoptr (BbInvite) invite = create_invite (f, ORIGIN ":443", 0, 0, 5, &error);
  g_autoptr (JsonObject) o = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (invite);
  g_assert_cmpuint (f->server->requests->len, ==, 2);
  g_assert_cmpuint (fake_server_count_suffix (f->server, "POST", "/v1/auth/challenge"), ==, 1);
  g_assert_cmpuint (fake_server_count_suffix (f->server, "POST", "/invites"), ==, 1);
  g_assert_cmpuint (bb_invite_get_version (invite), ==, 1);
  g_assert_cmpstr (bb_invite_get_server_origin (invite), ==, ORIGIN);
  g_assert_cmpstr (bb_invite_get_namespace_id (invite), ==, f->ns_id);
  /* The default lifetime (10 min) and maxAccepted (10). */
  g_assert_cmpint (bb_invite_get_expires_at (invite), ==, NOW_S + 600);
  o = fake_parse_object (fake_server_request (f->server, 1)->body);
  g_assert_cmpstr (bb_invite_get_invite_id (invite), ==,
                   json_object_get_string_member (o, "inviteId"));
  assert_create_request (f, fake_server_request (f->server, 0), fake_server_request (f->server, 1),
                         invite, 5, 10, 80);
  f_free (f);
}

/* Variant B (maxPending 0, what a BitBox02 signs): the request has no maxPending and the
 * intent carries the 76-byte action fields. */
static void
test_create_variant_b (void)
{
  F *f = f_new ("shared", TRUE);
  g_autoptr (GError) error = NULL;
  g_autoptr (BbInvite) invite = create_invite (f, ORIGIN, 1800, 3, 0, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (f->server->requests->len, ==, 2);
  g_assert_cmpint (bb_invite_get_expires_at (invite), ==, NOW_S + 1800);
  assert_create_request (f, fake_server_request (f->server, 0), fake_server_request (f->server, 1),
                         invite, 0, 3, 76);
  f_free (f);
}

/* TestCreateInviteRejects{Default,UnknownNamespaceKind}BeforeChallenge */
static void
test_create_rejects_not_shared (void)
{
  const char *kinds[] = { "default", "" };

  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      F *f = f_new (kinds[i], TRUE);
      g_autoptr (GError) error = NULL;
      g_autoptr (BbInvite) invite = create_invite (f, ORIGIN, 0, 0, 0, &error);

      g_test_message ("kind “%s”: %s", kinds[i], error != NULL ? error->message : "(none)");
      g_assert_null (invite);
      g_assert_nonnull (error);
      g_assert_true (strstr (error->message, "shared") != NULL);
      g_assert_cmpuint (f->server->requests->len, ==, 0);
      f_free (f);
    }
}

/* TestCreateInviteRejectsValuesOutsideProtocolPolicy: no token, no request. */
static void
test_create_rejects_policy (void)
{
  struct
  {
    guint ttl, max_accepted, max_pending;
    const char *message;
  } cases[] = {
    { 3601, 0, 0, "lifetime exceeds" },
    { 0, 0, 21, "pending join requests exceeds" },
    { 0, 11, 0, "accepted join requests exceeds" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      F *f = f_new ("shared", FALSE);
      g_autoptr (GError) error = NULL;
      g_autoptr (BbInvite) invite = create_invite (f, ORIGIN, cases[i].ttl, cases[i].max_accepted,
                                                   cases[i].max_pending, &error);

      g_assert_null (invite);
      g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT);
      g_assert_true (strstr (error->message, cases[i].message) != NULL);
      g_assert_cmpuint (f->server->requests->len, ==, 0);
      f_free (f);
    }
}

/* TestCreateInviteRejectsResponseParameterMismatch */
static void
test_create_rejects_mismatch (void)
{
  const char *fields[] = { "expiresAt", "maxPending", "maxAccepted" };
  const char *messages[] = { "expiry mismatch", "maxPending mismatch", "maxAccepted mismatch" };

  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      F *f = f_new ("shared", TRUE);
      g_autoptr (GError) error = NULL;
      g_autoptr (BbInvite) invite = NULL;

      f->bump = fields[i];
      invite = create_invite (f, ORIGIN, 0, 0, 5, &error);
      g_test_message ("%s: %s", fields[i], error != NULL ? error->message : "(none)");
      g_assert_null (invite);
      g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL);
      g_assert_true (strstr (error->message, messages[i]) != NULL);
      g_assert_cmpuint (fake_server_count_suffix (f->server, "POST", "/invites"), ==, 1);
      f_free (f);
    }
}

/* --- submit a join request --- */

static BbJoinRequestListing *
submit (F *f, BbInvite *invite, GError **error)
{
  g_autoptr (GAsyncResult) res = NULL;

  BB_TEST_AWAIT (res, bb_sync_engine_submit_join_request_async (f->engine, invite, NULL,
                                                                bb_test_got_result, &res));
  return bb_sync_engine_submit_join_request_finish (f->engine, res, error);
}

/* TestSubmitJoinRequestRejectsUnsupportedInviteVersion and ...NonCanonicalInviteOrigin:
 * in this port such invites never come to exist, the URI parser refuses them. */
static void
test_submit_rejects_bad_invites (void)
{
  F *f = f_new ("shared", TRUE);
  g_autoptr (BbInvite) invite = test_invite (f, NOW_S + 3600);
  g_autofree char *uri = bb_invite_to_uri (invite);
  g_autoptr (GString) v2 = g_string_new (uri);
  g_autoptr (GString) port = g_string_new (uri);
  g_autoptr (GError) error = NULL;
  g_autoptr (BbInvite) parsed = NULL;

  g_assert_cmpuint (g_string_replace (v2, "v=1&", "v=2&", 1), ==, 1);
  parsed = bb_invite_new_from_uri (v2->str, &error);
  g_assert_null (parsed);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_UNSUPPORTED);
  g_assert_true (strstr (error->message, "unsupported version") != NULL);
  g_clear_error (&error);

  g_assert_cmpuint (g_string_replace (port, "s=sync.example&", "s=sync.example:443&", 1), ==, 1);
  parsed = bb_invite_new_from_uri (port->str, &error);
  g_assert_null (parsed);
  g_assert_nonnull (error);
  g_assert_true (strstr (error->message, "canonical") != NULL);
  g_assert_cmpuint (f->server->requests->len, ==, 0);
  f_free (f);
}

/* TestSubmitJoinRequestCapsDefaultExpiryToInviteExpiry */
static void
test_submit_caps_expiry (void)
{
  F *f = f_new ("shared", TRUE);
  g_autoptr (BbInvite) invite = test_invite (f, NOW_S + 120);
  g_autoptr (GError) error = NULL;
  g_autoptr (BbJoinRequestListing) info = submit (f, invite, &error);
  g_autofree char *path = NULL;
  BbMsgSubmitJoinRequest body = { 0 };
  BbMsgJoinRequest *jr = &body.join_request;
  g_autoptr (GBytes) server_secret = bb_invite_dup_server_secret (invite);
  g_autofree char *server_secret_b64 = bb_protocol_base64url_encode (server_secret);
  g_autoptr (GBytes) payload = NULL;
  g_autoptr (GBytes) signature = NULL;
  g_autoptr (GBytes) proof = NULL;
  FakeRequest *req;

  g_assert_no_error (error);
  g_assert_nonnull (info);
  g_assert_cmpuint (f->server->requests->len, ==, 1);
  req = fake_server_request (f->server, 0);
  path = g_strdup_printf ("/v1/namespaces/%s/invites/%s/join-requests", f->ns_id,
                          bb_invite_get_invite_id (invite));
  g_assert_cmpstr (req->method, ==, "POST");
  g_assert_cmpstr (req->path, ==, path);
  g_assert_cmpstr (req->authorization, ==, "Bearer test-token");
  g_assert_true (bb_msg_submit_join_request_parse (&body, req->body, -1, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (body.invite_server_secret, ==, server_secret_b64);
  g_assert_cmpint (jr->expires_at, ==, NOW_S + 120);
  g_assert_cmpint (jr->version, ==, 1);
  g_assert_cmpstr (jr->namespace_id, ==, f->ns_id);
  g_assert_cmpstr (jr->invite_id, ==, bb_invite_get_invite_id (invite));
  g_assert_cmpstr (jr->server_origin, ==, ORIGIN);
  g_assert_cmpstr (jr->key_id, ==, bb_sync_engine_get_key_id (f->engine));
  /* It validates: signature by the requester, proof from the invite secret. */
  payload = bb_protocol_join_request_payload (
      jr->namespace_id, jr->invite_id, jr->server_origin, jr->kind, jr->key_id,
      bb_test_identity_get_auth_public_key (f->identity),
      bb_test_identity_get_wrap_public_key (f->identity), jr->expires_at, &error);
  g_assert_no_error (error);
  signature = bb_protocol_lower_hex_decode (jr->signature, 64, "signature", &error);
  g_assert_no_error (error);
  g_assert_true (bb_protocol_verify_signature (bb_test_identity_get_auth_public_key (f->identity),
                                               payload, signature, &error));
  g_assert_no_error (error);
  proof = bb_protocol_base64url_decode (jr->invite_proof, 32, "inviteProof", &error);
  g_assert_no_error (error);
  g_assert_true (
      bb_protocol_verify_invite_proof (bb_invite_get_secret (invite), payload, proof, &error));
  g_assert_no_error (error);
  bb_msg_submit_join_request_clear (&body);
  f_free (f);
}

/* TestSubmitJoinRequestAcceptsExistingPendingResponse */
static void
test_submit_accepts_existing_pending (void)
{
  F *f = f_new ("shared", TRUE);
  g_autoptr (BbInvite) invite = test_invite (f, NOW_S + 3600);
  g_autoptr (GError) error = NULL;
  g_autoptr (BbJoinRequestListing) info = NULL;
  g_autoptr (JsonObject) o = NULL;
  const char *other_invite = "55555555555555555555555555555555";
  const char *other_hash = "0404040404040404040404040404040404040404040404040404040404040404";

  f->submit_reply = g_strdup_printf (
      "{\"namespaceId\":\"%s\",\"inviteId\":\"%s\",\"requesterKind\":\"keystore\","
      "\"requesterKeyId\":\"%s\",\"joinRequestHash\":\"%s\",\"status\":\"pending\"}",
      f->ns_id, other_invite, bb_sync_engine_get_key_id (f->engine), other_hash);
  info = submit (f, invite, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_join_request_listing_get_invite_id (info), ==, other_invite);
  g_assert_cmpstr (bb_join_request_listing_get_join_request_hash (info), ==, other_hash);
  g_assert_cmpstr (bb_join_request_listing_get_status (info), ==, "pending");
  g_assert_cmpuint (fake_server_count_suffix (f->server, "POST", "/join-requests"), ==, 1);
  g_assert_cmpstr (fake_server_request (f->server, 0)->authorization, ==, "Bearer test-token");
  /* The default expiry: ten minutes, the invite lasting an hour. */
  o = fake_parse_object (fake_server_request (f->server, 0)->body);
  g_assert_cmpint (
      json_object_get_int_member (json_object_get_object_member (o, "joinRequest"), "expiresAt"),
      ==, NOW_S + 600);
  f_free (f);
}

/* --- approve and reject --- */

typedef struct
{
  BbTestIdentity *bob;
  BbInvite *invite;
  BbJoinRequest *request;
  char *hash;
} Pending;

static void
pending_clear (Pending *p)
{
  g_clear_object (&p->bob);
  g_clear_pointer (&p->invite, bb_invite_unref);
  g_clear_pointer (&p->request, bb_join_request_unref);
  g_free (p->hash);
}

/* The test invite (kept in the keyring) and Bob's join request through it, listed by the
 * fake server and refreshed into the namespace's model. */
static void
pending_setup (F *f, Pending *p)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) payload = NULL;
  g_autoptr (GDateTime) created = g_date_time_new_from_unix_utc (900);
  BbMsgListJoinRequestsResponse list = { 0 };
  BbMsgJoinRequestEntry *entry = g_new0 (BbMsgJoinRequestEntry, 1);

  p->bob = bb_test_identity_new ("bob");
  p->invite = test_invite (f, NOW_S + 3600);
  BB_TEST_AWAIT (res, bb_invite_secrets_store_async (bb_sync_engine_get_key_id (f->engine),
                                                     p->invite, NULL, bb_test_got_result, &res));
  g_assert_true (bb_invite_secrets_store_finish (res, &error));
  g_assert_no_error (error);
  BB_TEST_AWAIT (res,
                 bb_identity_build_join_request_async (BB_IDENTITY (p->bob), p->invite, NOW_S + 300,
                                                       NULL, bb_test_got_result, &res));
  p->request = bb_identity_build_join_request_finish (BB_IDENTITY (p->bob), res, &error);
  g_assert_no_error (error);
  payload = bb_protocol_join_request_payload (
      f->ns_id, bb_invite_get_invite_id (p->invite), ORIGIN, "keystore",
      bb_test_identity_get_key_id (p->bob), bb_test_identity_get_auth_public_key (p->bob),
      bb_test_identity_get_wrap_public_key (p->bob), NOW_S + 300, &error);
  g_assert_no_error (error);
  p->hash = bb_protocol_join_request_hash (payload);

  list.namespace_id = g_strdup (f->ns_id);
  list.requests = g_ptr_array_new_with_free_func ((GDestroyNotify)bb_msg_join_request_entry_free);
  entry->invite_id = g_strdup (bb_invite_get_invite_id (p->invite));
  entry->join_request_hash = g_strdup (p->hash);
  entry->created_at = g_date_time_ref (created);
  entry->status = g_strdup ("pending");
  bb_msg_join_request_copy (&p->request->msg, &entry->join_request);
  g_ptr_array_add (list.requests, entry);
  f->list_json = bb_msg_list_join_requests_response_to_json (&list);
  bb_msg_list_join_requests_response_clear (&list);

  BB_TEST_AWAIT (res,
                 bb_namespace_refresh_join_requests_async (f->ns, NULL, bb_test_got_result, &res));
  g_assert_true (bb_namespace_refresh_join_requests_finish (f->ns, res, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (bb_namespace_get_join_requests (f->ns)), ==, 1);
}

static gboolean
approve (F *f, Pending *p, GError **error)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (BbPendingJoinRequest) item
      = g_list_model_get_item (bb_namespace_get_join_requests (f->ns), 0);

  BB_TEST_AWAIT (
      res, bb_namespace_approve_join_request_async (
               f->ns, bb_pending_join_request_get_request (item), NULL, bb_test_got_result, &res));
  return bb_namespace_approve_join_request_finish (f->ns, res, error);
}

/* TestApproveJoinRequestSubmitsWrappedDEK */
static void
test_approve_submits_wrapped_dek (void)
{
  F *f = f_new ("shared", TRUE);
  Pending p = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *server_secret_b64 = NULL;
  g_autofree char *reencoded = NULL;
  g_autoptr (GBytes) secret = NULL;
  g_autoptr (GBytes) server_secret = NULL;
  g_autoptr (GBytes) wrapped = NULL;
  g_autoptr (GBytes) dek = NULL;
  g_autoptr (JsonObject) o = NULL;
  const char *wrapped_b64;
  FakeRequest *req;

  pending_setup (f, &p);
  g_assert_true (approve (f, &p, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (bb_namespace_get_join_requests (f->ns)), ==, 0);
  g_assert_cmpuint (fake_server_count_suffix (f->server, "PUT", "/approve"), ==, 1);
  /* The approval (a listing of the invites may follow it). */
  req = NULL;
  for (guint i = 0; i < f->server->requests->len && req == NULL; i++)
    if (strcmp (fake_server_request (f->server, i)->method, "PUT") == 0
        && g_str_has_suffix (fake_server_request (f->server, i)->path, "/approve"))
      req = fake_server_request (f->server, i);
  g_assert_nonnull (req);
  path = g_strdup_printf ("/v1/namespaces/%s/join-requests/%s/%s/approve", f->ns_id,
                          bb_test_identity_get_key_id (p.bob), p.hash);
  g_assert_cmpstr (req->method, ==, "PUT");
  g_assert_cmpstr (req->path, ==, path);
  g_assert_cmpstr (req->authorization, ==, "Bearer test-token");
  o = fake_parse_object (req->body);
  secret = bb_test_repeat (0x44, 32);
  server_secret = bb_protocol_invite_server_secret (secret, &error);
  g_assert_no_error (error);
  server_secret_b64 = bb_protocol_base64url_encode (server_secret);
  g_assert_cmpstr (json_object_get_string_member (o, "inviteServerSecret"), ==, server_secret_b64);
  wrapped_b64 = json_object_get_string_member (o, "wrappedDek");
  wrapped = bb_protocol_base64_decode (wrapped_b64, -1, "wrappedDek", &error);
  g_assert_no_error (error);
  reencoded = bb_protocol_base64_encode (wrapped);
  g_assert_cmpstr (reencoded, ==, wrapped_b64);
  g_assert_cmpuint (g_bytes_get_size (wrapped), ==, 97);
  g_assert_cmpuint (((const guint8 *)g_bytes_get_data (wrapped, NULL))[0], ==, 1);
  g_assert_true (bb_protocol_validate_wrapped_dek (wrapped, &error));
  g_assert_no_error (error);
  dek = bb_test_identity_unwrap_dek (p.bob, f->ns_id, wrapped, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (dek, f->dek));
  pending_clear (&p);
  f_free (f);
}

/* TestApproveJoinRequestRejectsDefaultNamespace: after a successful check, nothing sent. */
static void
test_approve_rejects_default (void)
{
  F *f = f_new ("default", TRUE);
  Pending p = { 0 };
  g_autoptr (GError) error = NULL;

  pending_setup (f, &p);
  g_assert_false (approve (f, &p, &error));
  g_assert_nonnull (error);
  g_assert_true (strstr (error->message, "expected") != NULL);
  g_assert_true (strstr (error->message, "shared") != NULL);
  g_assert_cmpuint (fake_server_count_suffix (f->server, "PUT", "/approve"), ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (bb_namespace_get_join_requests (f->ns)), ==, 1);
  pending_clear (&p);
  f_free (f);
}

/* RejectJoinRequest: its endpoint, and the entry leaves the model. */
static void
test_reject (void)
{
  F *f = f_new ("shared", TRUE);
  Pending p = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autofree char *path = NULL;
  FakeRequest *req;

  pending_setup (f, &p);
  BB_TEST_AWAIT (res, bb_namespace_reject_join_request_async (f->ns, p.request, NULL,
                                                              bb_test_got_result, &res));
  g_assert_true (bb_namespace_reject_join_request_finish (f->ns, res, &error));
  g_assert_no_error (error);
  req = fake_server_request (f->server, f->server->requests->len - 1);
  path = g_strdup_printf ("/v1/namespaces/%s/join-requests/%s/%s", f->ns_id,
                          bb_test_identity_get_key_id (p.bob), p.hash);
  g_assert_cmpstr (req->method, ==, "DELETE");
  g_assert_cmpstr (req->path, ==, path);
  g_assert_cmpstr (req->authorization, ==, "Bearer test-token");
  g_assert_cmpuint (fake_server_count_suffix (f->server, "PUT", "/approve"), ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (bb_namespace_get_join_requests (f->ns)), ==, 0);
  pending_clear (&p);
  f_free (f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/engine/invites-fake/create/returns-invite", test_create_returns_invite);
  g_test_add_func ("/engine/invites-fake/create/variant-b", test_create_variant_b);
  g_test_add_func ("/engine/invites-fake/create/not-shared", test_create_rejects_not_shared);
  g_test_add_func ("/engine/invites-fake/create/policy", test_create_rejects_policy);
  g_test_add_func ("/engine/invites-fake/create/mismatch", test_create_rejects_mismatch);
  g_test_add_func ("/engine/invites-fake/submit/bad-invites", test_submit_rejects_bad_invites);
  g_test_add_func ("/engine/invites-fake/submit/caps-expiry", test_submit_caps_expiry);
  g_test_add_func ("/engine/invites-fake/submit/existing-pending",
                   test_submit_accepts_existing_pending);
  g_test_add_func ("/engine/invites-fake/approve/wrapped-dek", test_approve_submits_wrapped_dek);
  g_test_add_func ("/engine/invites-fake/approve/default", test_approve_rejects_default);
  g_test_add_func ("/engine/invites-fake/reject", test_reject);
  return g_test_run ();
}
