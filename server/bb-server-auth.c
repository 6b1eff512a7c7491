/* bb-server-auth.c: the reference server's authentication endpoints: challenge, login,
 * refresh and revoking every token of a key.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-server-private.h"

#include <string.h>

#include "bb-crypto-private.h"
#include "bb-protocol-messages-private.h"
#include "bb-protocol.h"
#include "bb-protocol-private.h"

/* Issues a new bearer token for @key_id inside the caller's transaction, evicting the
 * oldest tokens of that key beyond the limit. */
static char *
issue_token (BbServer *self, const char *key_id, gint64 now, gint64 *out_expires_at, GError **error)
{
  guint8 raw[32];
  g_autoptr (GBytes) raw_bytes = NULL;
  g_autofree char *token = NULL;
  g_autofree char *token_hash = NULL;
  gint64 expires_at = now + self->token_lifetime;

  bb_crypto_random_bytes (raw, sizeof raw);
  raw_bytes = bb_crypto_secret_bytes_new (raw, sizeof raw);
  bb_crypto_wipe (raw, sizeof raw);
  token = bb_protocol_base64url_encode (raw_bytes);
  token_hash = bb_server_hash_token (token);

  if (!bb_server_db_insert_token (self->db, key_id, token_hash, now, expires_at,
                                  self->limits[BB_SERVER_LIMIT_TOKENS_PER_KEY], error))
    return NULL;

  *out_expires_at = expires_at;
  return g_steal_pointer (&token);
}

static const char *const challenge_fields[]
    = { "purpose", "kind", "action", "actionFieldsHash", NULL };

void
bb_server_handle_challenge (BbServer *self, BbServerRequest *req)
{
  BbMsgChallengeRequest request = { 0 };
  BbMsgChallengeResponse response = { 0 };
  g_autoptr (GError) error = NULL;
  BbServerChallenge *challenge;
  guint8 raw[BB_PROTOCOL_CHALLENGE_SIZE];
  g_autoptr (GBytes) raw_bytes = NULL;
  gboolean sensitive;

  if (!bb_server_check_body (req, challenge_fields, NULL, NULL))
    return;
  if (!bb_msg_challenge_request_parse (&request, req->body, req->body_len, &error))
    {
      bb_server_respond_gerror (req, error);
      return;
    }

  if (!g_str_equal (request.kind, BB_PROTOCOL_KIND_KEYSTORE))
    {
      bb_server_respond_error (req, 400, "kind: unsupported identity kind");
      goto out;
    }
  sensitive = g_str_equal (request.purpose, BB_PROTOCOL_PURPOSE_SENSITIVE);
  if (!sensitive && !g_str_equal (request.purpose, BB_PROTOCOL_PURPOSE_LOGIN)
      && !g_str_equal (request.purpose, BB_PROTOCOL_PURPOSE_REFRESH))
    {
      bb_server_respond_error (req, 400, "purpose: unknown challenge purpose");
      goto out;
    }
  if (sensitive)
    {
      if (request.action == NULL
          || (!g_str_equal (request.action, BB_PROTOCOL_ACTION_REVOKE_ALL)
              && !g_str_equal (request.action, BB_PROTOCOL_ACTION_CREATE_INVITE)))
        {
          bb_server_respond_error (req, 400, "action: missing or unknown sensitive action");
          goto out;
        }
      if (!bb_server_validate_id (req, request.action_fields_hash, 32, "actionFieldsHash"))
        goto out;
    }
  else if (request.action != NULL || request.action_fields_hash != NULL)
    {
      bb_server_respond_error (req, 400,
                               "action: only sensitive-action challenges carry an action");
      goto out;
    }

  bb_crypto_random_bytes (raw, sizeof raw);
  raw_bytes = g_bytes_new (raw, sizeof raw);
  challenge = g_new0 (BbServerChallenge, 1);
  challenge->source = bb_server_request_source (req);
  challenge->purpose = g_strdup (request.purpose);
  challenge->action = g_strdup (request.action);
  challenge->action_fields_hash = g_strdup (request.action_fields_hash);
  challenge->expires_at = req->now + self->challenge_lifetime;
  challenge->text = bb_protocol_base64_encode (raw_bytes);

  response.challenge = g_strdup (challenge->text);
  response.expires_at = g_date_time_new_from_unix_utc (challenge->expires_at);
  response.spam_control_kind
      = g_strdup (!sensitive && self->require_attestation ? BB_PROTOCOL_SPAM_CONTROL_ATTEST
                                                          : BB_PROTOCOL_SPAM_CONTROL_NONE);
  bb_server_add_challenge (self, challenge, req->now);
  bb_server_respond_json_take (req, 200, bb_msg_challenge_response_to_json (&response));
  bb_msg_challenge_response_clear (&response);

out:
  bb_msg_challenge_request_clear (&request);
}

static gboolean
bb_server_verify_intent (BbServerRequest *req, GBytes *auth_public_key, GBytes *intent,
                         const char *signature_hex)
{
  g_autoptr (GBytes) signature = NULL;
  g_autoptr (GError) error = NULL;

  signature = bb_server_decode_or_respond (req, bb_protocol_hex_decode, signature_hex,
                                           BB_PROTOCOL_SIGNATURE_SIZE, "intentSignature");
  if (signature == NULL)
    return FALSE;
  if (!bb_protocol_verify_signature (auth_public_key, intent, signature, &error))
    {
      bb_server_respond_error (req, 403, "intentSignature: the signature does not verify");
      return FALSE;
    }
  return TRUE;
}

/* Checks that @signature_hex signs the sensitive-action intent of @action with the
 * caller's registered key; otherwise responds and returns FALSE. */
gboolean
bb_server_verify_sensitive_action (BbServer *self, BbServerRequest *req, const char *action,
                                   GBytes *challenge, const char *kind, const char *key_id,
                                   GBytes *fields, const char *signature_hex)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) auth_public_key = NULL;
  g_autoptr (GBytes) intent = NULL;

  if (!bb_server_db_get_key (self->db, req->caller, &auth_public_key, NULL, NULL, &error))
    {
      bb_server_respond_internal (req, error);
      return FALSE;
    }
  intent = bb_protocol_sensitive_action_intent (action, challenge, kind, key_id, fields, &error);
  if (intent == NULL)
    {
      bb_server_respond_gerror (req, error);
      return FALSE;
    }
  return bb_server_verify_intent (req, auth_public_key, intent, signature_hex);
}

/* The demo attestation of spec §3.2: 0x00 || B1..B8 with m = SHA-256(challenge || authPub),
 * B1 = SHA-256(m), Bk+1 = SHA-256(Bk). */
static gboolean
verify_attestation (BbServer *self, BbServerRequest *req, GBytes *challenge,
                    GBytes *auth_public_key, const char *attestation)
{
  g_autoptr (GBytes) received = NULL;
  guint8 expected[257];
  guint8 block[32];
  GByteArray *input;

  if (!self->require_attestation)
    return TRUE;
  if (attestation == NULL)
    {
      bb_server_respond_error (req, 403, "attestation: required by this server");
      return FALSE;
    }
  received = bb_server_decode_or_respond (req, bb_protocol_base64_decode, attestation,
                                          sizeof expected, "attestation");
  if (received == NULL)
    return FALSE;

  input = g_byte_array_new ();
  g_byte_array_append (input, g_bytes_get_data (challenge, NULL), g_bytes_get_size (challenge));
  g_byte_array_append (input, g_bytes_get_data (auth_public_key, NULL),
                       g_bytes_get_size (auth_public_key));
  bb_crypto_sha256 (input->data, input->len, block);
  g_byte_array_unref (input);
  expected[0] = 0;
  for (int k = 0; k < 8; k++)
    {
      bb_crypto_sha256 (block, sizeof block, block);
      memcpy (expected + 1 + 32 * k, block, 32);
    }
  if (!bb_crypto_equal (expected, g_bytes_get_data (received, NULL), sizeof expected))
    {
      bb_server_respond_error (req, 403, "attestation: does not verify");
      return FALSE;
    }
  return TRUE;
}

static const char *const login_fields[]
    = { "kind",      "keyId",           "authPublicKey", "wrapPublicKey",
        "challenge", "intentSignature", "attestation",   NULL };

void
bb_server_handle_login (BbServer *self, BbServerRequest *req)
{
  BbMsgLoginRequest request = { 0 };
  BbMsgLoginResponse response = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) challenge = NULL;
  g_autoptr (GBytes) auth_public_key = NULL;
  g_autoptr (GBytes) wrap_public_key = NULL;
  g_autoptr (GBytes) stored_wrap = NULL;
  g_autoptr (GBytes) intent = NULL;
  g_autofree char *key_id = NULL;
  g_autofree char *default_ns = NULL;
  gint64 expires_at = 0;
  gboolean known;
  g_autoptr (BbServerDbTransaction) tx = NULL;

  if (!bb_server_check_body (req, login_fields, NULL, NULL))
    return;
  if (!bb_msg_login_request_parse (&request, req->body, req->body_len, &error))
    {
      bb_server_respond_gerror (req, error);
      return;
    }

  challenge = bb_server_consume_challenge (self, req, request.challenge, BB_PROTOCOL_PURPOSE_LOGIN,
                                           NULL, NULL);
  if (challenge == NULL)
    goto out;
  if (!g_str_equal (request.kind, BB_PROTOCOL_KIND_KEYSTORE))
    {
      bb_server_respond_error (req, 400, "kind: unsupported identity kind");
      goto out;
    }
  auth_public_key
      = bb_server_decode_or_respond (req, bb_protocol_lower_hex_decode, request.auth_public_key,
                                     BB_PROTOCOL_PUBLIC_KEY_SIZE, "authPublicKey");
  if (auth_public_key == NULL)
    goto out;
  if (!bb_protocol_check_auth_public_key (auth_public_key, "authPublicKey", &error))
    {
      bb_server_respond_gerror (req, error);
      goto out;
    }
  wrap_public_key
      = bb_server_decode_or_respond (req, bb_protocol_lower_hex_decode, request.wrap_public_key,
                                     BB_PROTOCOL_PUBLIC_KEY_SIZE, "wrapPublicKey");
  if (wrap_public_key == NULL)
    goto out;
  key_id = bb_protocol_key_id (auth_public_key);
  if (!bb_server_validate_id (req, request.key_id, BB_PROTOCOL_KEY_ID_SIZE, "keyId"))
    goto out;
  if (!g_str_equal (key_id, request.key_id))
    {
      bb_server_respond_error (req, 400, "keyId: is not SHA-256 of authPublicKey");
      goto out;
    }
  intent = bb_protocol_login_intent (challenge, request.kind, request.key_id, auth_public_key,
                                     wrap_public_key, &error);
  if (intent == NULL)
    {
      bb_server_respond_gerror (req, error);
      goto out;
    }
  if (!bb_server_verify_intent (req, auth_public_key, intent, request.intent_signature))
    goto out;
  if (!verify_attestation (self, req, challenge, auth_public_key, request.attestation))
    goto out;

  tx = bb_server_db_begin (self->db, &error);
  if (tx == NULL)
    goto internal;
  known = bb_server_db_get_key (self->db, key_id, NULL, &stored_wrap, &default_ns, &error);
  if (error != NULL)
    goto internal;
  if (known && !g_bytes_equal (stored_wrap, wrap_public_key))
    {
      bb_server_respond_error (req, 409,
                               "wrapPublicKey: differs from the key registered for this keyId");
      goto out;
    }
  if (!known
      && !bb_server_db_insert_key (self->db, key_id, request.kind, auth_public_key, wrap_public_key,
                                   req->now, &error))
    goto internal;
  response.access_token = issue_token (self, key_id, req->now, &expires_at, &error);
  if (response.access_token == NULL || !bb_server_db_commit (tx, &error))
    goto internal;

  response.kind = g_strdup (request.kind);
  response.expires_at = g_date_time_new_from_unix_utc (expires_at);
  response.default_namespace_id = g_steal_pointer (&default_ns);
  bb_server_respond_json_take (req, 200, bb_msg_login_response_to_json (&response));
  goto out;

internal:
  bb_server_respond_internal (req, error);
out:
  bb_msg_login_response_clear (&response);
  bb_msg_login_request_clear (&request);
}

static const char *const refresh_fields[]
    = { "kind", "keyId", "challenge", "intentSignature", "attestation", NULL };

void
bb_server_handle_refresh (BbServer *self, BbServerRequest *req)
{
  BbMsgRefreshRequest request = { 0 };
  BbMsgRefreshResponse response = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) challenge = NULL;
  g_autoptr (GBytes) auth_public_key = NULL;
  g_autoptr (GBytes) intent = NULL;
  gint64 expires_at = 0;
  g_autoptr (BbServerDbTransaction) tx = NULL;

  if (!bb_server_authenticate (self, req)
      || !bb_server_check_body (req, refresh_fields, NULL, NULL))
    return;
  if (!bb_msg_refresh_request_parse (&request, req->body, req->body_len, &error))
    {
      bb_server_respond_gerror (req, error);
      return;
    }
  challenge = bb_server_consume_challenge (self, req, request.challenge,
                                           BB_PROTOCOL_PURPOSE_REFRESH, NULL, NULL);
  if (challenge == NULL)
    goto out;
  if (!g_str_equal (request.kind, BB_PROTOCOL_KIND_KEYSTORE))
    {
      bb_server_respond_error (req, 400, "kind: unsupported identity kind");
      goto out;
    }
  if (!g_str_equal (request.key_id, req->caller))
    {
      bb_server_respond_error (req, 403, "keyId: is not the key of the bearer token");
      goto out;
    }
  if (!bb_server_db_get_key (self->db, req->caller, &auth_public_key, NULL, NULL, &error))
    goto internal;
  intent = bb_protocol_refresh_intent (challenge, request.kind, request.key_id, &error);
  if (intent == NULL)
    {
      bb_server_respond_gerror (req, error);
      goto out;
    }
  if (!bb_server_verify_intent (req, auth_public_key, intent, request.intent_signature))
    goto out;
  if (!verify_attestation (self, req, challenge, auth_public_key, request.attestation))
    goto out;

  /* The old token stays valid until it expires (spec §9.3 leaves this open). */
  tx = bb_server_db_begin (self->db, &error);
  if (tx == NULL)
    goto internal;
  response.access_token = issue_token (self, req->caller, req->now, &expires_at, &error);
  if (response.access_token == NULL || !bb_server_db_commit (tx, &error))
    goto internal;
  response.kind = g_strdup (request.kind);
  response.expires_at = g_date_time_new_from_unix_utc (expires_at);
  bb_server_respond_json_take (req, 200, bb_msg_refresh_response_to_json (&response));
  goto out;

internal:
  bb_server_respond_internal (req, error);
out:
  bb_msg_refresh_response_clear (&response);
  bb_msg_refresh_request_clear (&request);
}

static const char *const revoke_tokens_fields[]
    = { "kind", "keyId", "challenge", "intentSignature", NULL };

void
bb_server_handle_revoke_tokens (BbServer *self, BbServerRequest *req)
{
  BbMsgRevokeTokensRequest request = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) challenge = NULL;
  g_autoptr (GBytes) fields = g_bytes_new_static ("", 0);
  g_autofree char *bound_hash = NULL;
  g_autofree char *fields_hash = NULL;

  if (!bb_server_authenticate (self, req)
      || !bb_server_check_body (req, revoke_tokens_fields, NULL, NULL))
    return;
  if (!bb_msg_revoke_tokens_request_parse (&request, req->body, req->body_len, &error))
    {
      bb_server_respond_gerror (req, error);
      return;
    }
  challenge
      = bb_server_consume_challenge (self, req, request.challenge, BB_PROTOCOL_PURPOSE_SENSITIVE,
                                     BB_PROTOCOL_ACTION_REVOKE_ALL, &bound_hash);
  if (challenge == NULL)
    goto out;
  fields_hash = bb_protocol_action_fields_hash (fields);
  if (g_strcmp0 (bound_hash, fields_hash) != 0)
    {
      bb_server_respond_error (req, 400, "challenge: bound to other action fields");
      goto out;
    }
  if (!g_str_equal (request.kind, BB_PROTOCOL_KIND_KEYSTORE))
    {
      bb_server_respond_error (req, 400, "kind: unsupported identity kind");
      goto out;
    }
  if (!g_str_equal (request.key_id, req->caller))
    {
      bb_server_respond_error (req, 403, "keyId: is not the key of the bearer token");
      goto out;
    }
  if (!bb_server_verify_sensitive_action (self, req, BB_PROTOCOL_ACTION_REVOKE_ALL, challenge,
                                          request.kind, request.key_id, fields,
                                          request.intent_signature))
    goto out;
  if (!bb_server_db_delete_tokens (self->db, req->caller, &error))
    goto internal;
  soup_server_message_set_status (req->msg, 204, NULL);
  goto out;

internal:
  bb_server_respond_internal (req, error);
out:
  bb_msg_revoke_tokens_request_clear (&request);
}
