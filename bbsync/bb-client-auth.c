/* bb-client-auth.c: the authentication endpoints (spec §6.1 to §6.4): challenge, login,
 * refresh and revoke-all-tokens, each sent with a signature the caller made;
 * bb-client-identity-flows.c chains them with a BbIdentity
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-i18n-private.h"

#include "bb-client-private.h"
#include "bb-protocol-types-private.h"
#include "bb-error.h"
#include "bb-protocol-messages-private.h"
#include "bb-protocol.h"

/* Checks the token of a login or refresh answer; the message never quotes it. */
static gboolean
check_access_token (const char *token, GError **error)
{
  if (bb_client_access_token_is_valid (token))
    return TRUE;
  g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL,
               _ ("accessToken: not a bearer token of 1 to %d characters (RFC 6750 b64token)"),
               BB_CLIENT_MAX_ACCESS_TOKEN_LENGTH);
  return FALSE;
}

static gpointer
handle_challenge (const BbClientExpect *expect, const char *body, gsize len, GError **error)
{
  BbMsgChallengeResponse msg = { 0 };
  BbChallenge *challenge = NULL;
  g_autoptr (GBytes) bytes = NULL;

  if (!bb_msg_challenge_response_parse (&msg, body, len, error))
    return NULL;
  bytes = bb_client_decode_base64_field (msg.challenge, BB_PROTOCOL_CHALLENGE_SIZE, "challenge",
                                         error);
  if (bytes != NULL)
    {
      challenge = bb_challenge_new ();
      challenge->challenge = g_steal_pointer (&msg.challenge);
      challenge->bytes = g_steal_pointer (&bytes);
      challenge->expires_at = g_steal_pointer (&msg.expires_at);
      challenge->spam_control_kind = g_steal_pointer (&msg.spam_control_kind);
    }
  bb_msg_challenge_response_clear (&msg);
  return challenge;
}

/**
 * bb_client_request_challenge_async:
 * @self: a [class@BbSync.Client]
 * @purpose: `login`, `refresh` or `sensitive-action`
 * @action: (nullable): for a sensitive action: `revoke-all-tokens` or
 *   `create-namespace-invite`
 * @action_fields_hash: (nullable): for a sensitive action: the lower-case hex SHA-256
 *   of its action fields
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Asks for a fresh challenge (`POST /v1/auth/challenge`, no bearer token).
 *
 * Since: 0.1
 */
void
bb_client_request_challenge_async (BbClient *self, const char *purpose, const char *action,
                                   const char *action_fields_hash, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data)
{
  BbMsgChallengeRequest msg = { 0 };
  GError *error = NULL;
  BbClientRequest *req;

  g_return_if_fail (BB_IS_CLIENT (self));
  g_return_if_fail (purpose != NULL);

  if (action_fields_hash != NULL)
    bb_client_check_id_arg (action_fields_hash, 32, "actionFieldsHash", &error);
  if (bb_client_report_bad_arguments (self, bb_client_request_challenge_async, callback, user_data,
                                      error))
    return;

  msg.purpose = (char *)purpose;
  msg.kind = (char *)BB_PROTOCOL_KIND_KEYSTORE;
  msg.action = (char *)action;
  msg.action_fields_hash = (char *)action_fields_hash;

  req = bb_client_request_new ("POST", "/v1/auth/challenge", FALSE, handle_challenge,
                               (GDestroyNotify)bb_challenge_unref, NULL);
  bb_client_request_take_body (req, bb_msg_challenge_request_to_json (&msg));
  bb_client_request_send (self, req, bb_client_request_challenge_async, cancellable, callback,
                          user_data);
}

/**
 * bb_client_request_challenge_finish:
 * @self: a [class@BbSync.Client]
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Client.request_challenge_async]. Hand the challenge to the call it
 * was asked for (a login, a refresh or the sensitive action) before
 * [method@BbSync.Challenge.get_expires_at].
 *
 * Errors: %BB_SYNC_ERROR_INVALID_INPUT when `action_fields_hash` is not lower-case hex of 32
 * bytes (nothing is sent); %BB_SYNC_ERROR_PROTOCOL when the answer is malformed or its
 * challenge is not 32 bytes of base64; %BB_SYNC_ERROR_API when the server answers with an error
 * status (read it back with [func@BbSync.SyncError.get_http_status]), %G_IO_ERROR_TIMED_OUT
 * when the request outlasts [property@BbSync.Client:timeout], %G_IO_ERROR_CANCELLED when it was
 * cancelled; network and TLS errors pass through unchanged.
 *
 * Returns: (transfer full): the challenge, or %NULL on error
 *
 * Since: 0.1
 */
BbChallenge *
bb_client_request_challenge_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return bb_client_request_finish (self, result, bb_client_request_challenge_async, G_STRFUNC,
                                   error);
}

static gpointer
handle_login (const BbClientExpect *expect, const char *body, gsize len, GError **error)
{
  BbMsgLoginResponse msg = { 0 };
  BbLoginResult *login = NULL;

  if (!bb_msg_login_response_parse (&msg, body, len, error))
    return NULL;
  if (bb_client_check_equal ("kind", "kind", msg.kind, expect->kind, error)
      && check_access_token (msg.access_token, error)
      && (msg.default_namespace_id == NULL
          || bb_client_validate_lower_hex_field (msg.default_namespace_id,
                                                 BB_PROTOCOL_NAMESPACE_ID_SIZE,
                                                 "defaultNamespaceId", error)))
    {
      login = bb_login_result_new ();
      login->kind = g_steal_pointer (&msg.kind);
      login->access_token = g_steal_pointer (&msg.access_token);
      login->expires_at = g_steal_pointer (&msg.expires_at);
      login->default_namespace_id = g_steal_pointer (&msg.default_namespace_id);
    }
  bb_msg_login_response_clear (&msg);
  return login;
}

/* The client-state half of login and refresh, on the caller's context. */
static void
apply_new_token (BbClient *self, gpointer value)
{
  BbLoginResult *login = value;

  bb_client_set_access_token (self, login->access_token);
}

/**
 * bb_client_login_async:
 * @self: a [class@BbSync.Client]
 * @kind: the identity kind, `keystore`
 * @key_id: the key ID (lower-case hex)
 * @auth_public_key: the 32-byte Ed25519 public key
 * @wrap_public_key: the 32-byte X25519 public key
 * @challenge: a `login` challenge
 * @intent_signature: the 64-byte signature of the login intent
 * @attestation: (nullable): the attestation, when the challenge asks for one
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Logs in (`POST /v1/auth/login`). On success the new token becomes
 * [property@BbSync.Client:access-token]. See [method@BbSync.Client.login_with_identity_async] for
 * the whole exchange in one call.
 *
 * Since: 0.1
 */
void
bb_client_login_async (BbClient *self, const char *kind, const char *key_id,
                       GBytes *auth_public_key, GBytes *wrap_public_key, BbChallenge *challenge,
                       GBytes *intent_signature, GBytes *attestation, GCancellable *cancellable,
                       GAsyncReadyCallback callback, gpointer user_data)
{
  BbMsgLoginRequest msg = { 0 };
  g_autofree char *auth_hex = NULL;
  g_autofree char *wrap_hex = NULL;
  g_autofree char *signature_hex = NULL;
  g_autofree char *attestation_b64 = NULL;
  GError *error = NULL;
  BbClientRequest *req;

  g_return_if_fail (BB_IS_CLIENT (self));
  g_return_if_fail (kind != NULL);
  g_return_if_fail (challenge != NULL);

  bb_client_check_id_arg (key_id, BB_PROTOCOL_KEY_ID_SIZE, "keyId", &error);
  bb_client_check_key_arg (auth_public_key, "authPublicKey", &error);
  bb_client_check_key_arg (wrap_public_key, "wrapPublicKey", &error);
  bb_client_check_signature_arg (intent_signature, &error);
  if (bb_client_report_bad_arguments (self, bb_client_login_async, callback, user_data, error))
    return;

  auth_hex = bb_protocol_hex_encode (auth_public_key);
  wrap_hex = bb_protocol_hex_encode (wrap_public_key);
  signature_hex = bb_protocol_hex_encode (intent_signature);
  attestation_b64 = attestation != NULL ? bb_protocol_base64_encode (attestation) : NULL;
  msg.kind = (char *)kind;
  msg.key_id = (char *)key_id;
  msg.auth_public_key = auth_hex;
  msg.wrap_public_key = wrap_hex;
  msg.challenge = challenge->challenge;
  msg.intent_signature = signature_hex;
  msg.attestation = attestation_b64;

  req = bb_client_request_new ("POST", "/v1/auth/login", FALSE, handle_login,
                               (GDestroyNotify)bb_login_result_unref, NULL);
  req->apply = apply_new_token;
  req->expect.kind = g_strdup (kind);
  bb_client_request_take_body (req, bb_msg_login_request_to_json (&msg));
  bb_client_request_send (self, req, bb_client_login_async, cancellable, callback, user_data);
}

/**
 * bb_client_login_finish:
 * @self: a [class@BbSync.Client]
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Client.login_async]. On success the new token is already
 * [property@BbSync.Client:access-token].
 *
 * Errors: %BB_SYNC_ERROR_INVALID_INPUT when the key ID, a public key or the intent signature is
 * malformed (nothing is sent); %BB_SYNC_ERROR_PROTOCOL when the answer echoes another kind, its
 * `accessToken` is not an RFC 6750 bearer token (it is never stored) or its
 * `defaultNamespaceId` is not a namespace ID; %BB_SYNC_ERROR_API when the server answers with
 * an error status (read it back with [func@BbSync.SyncError.get_http_status]),
 * %G_IO_ERROR_TIMED_OUT when the request outlasts [property@BbSync.Client:timeout],
 * %G_IO_ERROR_CANCELLED when it was cancelled; network and TLS errors pass through unchanged.
 *
 * Returns: (transfer full): the token, its expiry and the default namespace, or %NULL
 *   on error
 *
 * Since: 0.1
 */
BbLoginResult *
bb_client_login_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return bb_client_request_finish (self, result, bb_client_login_async, G_STRFUNC, error);
}

static gpointer
handle_refresh (const BbClientExpect *expect, const char *body, gsize len, GError **error)
{
  BbMsgRefreshResponse msg = { 0 };
  BbLoginResult *login = NULL;

  if (!bb_msg_refresh_response_parse (&msg, body, len, error))
    return NULL;
  if (bb_client_check_equal ("kind", "kind", msg.kind, expect->kind, error)
      && check_access_token (msg.access_token, error))
    {
      login = bb_login_result_new ();
      login->kind = g_steal_pointer (&msg.kind);
      login->access_token = g_steal_pointer (&msg.access_token);
      login->expires_at = g_steal_pointer (&msg.expires_at);
    }
  bb_msg_refresh_response_clear (&msg);
  return login;
}

/**
 * bb_client_refresh_async:
 * @self: a [class@BbSync.Client]
 * @kind: the identity kind, `keystore`
 * @key_id: the key ID (lower-case hex)
 * @challenge: a `refresh` challenge
 * @intent_signature: the 64-byte signature of the refresh intent
 * @attestation: (nullable): the attestation, when the challenge asks for one
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Exchanges the current token for a fresh one (`POST /v1/auth/refresh`). On success
 * the new token becomes [property@BbSync.Client:access-token].
 *
 * Since: 0.1
 */
void
bb_client_refresh_async (BbClient *self, const char *kind, const char *key_id,
                         BbChallenge *challenge, GBytes *intent_signature, GBytes *attestation,
                         GCancellable *cancellable, GAsyncReadyCallback callback,
                         gpointer user_data)
{
  BbMsgRefreshRequest msg = { 0 };
  g_autofree char *signature_hex = NULL;
  g_autofree char *attestation_b64 = NULL;
  GError *error = NULL;
  BbClientRequest *req;

  g_return_if_fail (BB_IS_CLIENT (self));
  g_return_if_fail (kind != NULL);
  g_return_if_fail (challenge != NULL);

  bb_client_check_id_arg (key_id, BB_PROTOCOL_KEY_ID_SIZE, "keyId", &error);
  bb_client_check_signature_arg (intent_signature, &error);
  if (bb_client_report_bad_arguments (self, bb_client_refresh_async, callback, user_data, error))
    return;

  signature_hex = bb_protocol_hex_encode (intent_signature);
  attestation_b64 = attestation != NULL ? bb_protocol_base64_encode (attestation) : NULL;
  msg.kind = (char *)kind;
  msg.key_id = (char *)key_id;
  msg.challenge = challenge->challenge;
  msg.intent_signature = signature_hex;
  msg.attestation = attestation_b64;

  req = bb_client_request_new ("POST", "/v1/auth/refresh", TRUE, handle_refresh,
                               (GDestroyNotify)bb_login_result_unref, NULL);
  req->apply = apply_new_token;
  req->expect.kind = g_strdup (kind);
  bb_client_request_take_body (req, bb_msg_refresh_request_to_json (&msg));
  bb_client_request_send (self, req, bb_client_refresh_async, cancellable, callback, user_data);
}

/**
 * bb_client_refresh_finish:
 * @self: a [class@BbSync.Client]
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Client.refresh_async]. On success the new token is already
 * [property@BbSync.Client:access-token]; the result names no default namespace.
 *
 * Errors: %BB_SYNC_ERROR_INVALID_INPUT when the key ID or the intent signature is malformed
 * (nothing is sent); %BB_SYNC_ERROR_PROTOCOL when the answer echoes another kind or its
 * `accessToken` is not an RFC 6750 bearer token (it is never stored); %BB_SYNC_ERROR_API when
 * the server answers with an error status (read it back with
 * [func@BbSync.SyncError.get_http_status]), %G_IO_ERROR_TIMED_OUT when the request outlasts
 * [property@BbSync.Client:timeout], %G_IO_ERROR_CANCELLED when it was cancelled; network and
 * TLS errors pass through unchanged.
 *
 * Returns: (transfer full): the new token and its expiry (no default namespace), or
 *   %NULL on error
 *
 * Since: 0.1
 */
BbLoginResult *
bb_client_refresh_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return bb_client_request_finish (self, result, bb_client_refresh_async, G_STRFUNC, error);
}

static gboolean
handle_revoke_all (const BbClientExpect *expect, const char *body, gsize len, GError **error)
{
  /* Any 2xx will do; the body is ignored. */
  return TRUE;
}

static void
apply_revoke_all (BbClient *self, gpointer value)
{
  /* The token is now worthless. */
  bb_client_set_access_token (self, NULL);
}

/**
 * bb_client_revoke_all_tokens_async:
 * @self: a [class@BbSync.Client]
 * @kind: the identity kind, `keystore`
 * @key_id: the key ID (lower-case hex)
 * @challenge: a sensitive-action challenge for `revoke-all-tokens`
 * @intent_signature: the 64-byte signature of the revoke-all-tokens intent
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Revokes every token of the identity, the current one included
 * (`DELETE /v1/auth/tokens`). On success [property@BbSync.Client:access-token] is cleared.
 *
 * Since: 0.1
 */
void
bb_client_revoke_all_tokens_async (BbClient *self, const char *kind, const char *key_id,
                                   BbChallenge *challenge, GBytes *intent_signature,
                                   GCancellable *cancellable, GAsyncReadyCallback callback,
                                   gpointer user_data)
{
  BbMsgRevokeTokensRequest msg = { 0 };
  g_autofree char *signature_hex = NULL;
  GError *error = NULL;
  BbClientRequest *req;

  g_return_if_fail (BB_IS_CLIENT (self));
  g_return_if_fail (kind != NULL);
  g_return_if_fail (challenge != NULL);

  bb_client_check_id_arg (key_id, BB_PROTOCOL_KEY_ID_SIZE, "keyId", &error);
  bb_client_check_signature_arg (intent_signature, &error);
  if (bb_client_report_bad_arguments (self, bb_client_revoke_all_tokens_async, callback, user_data,
                                      error))
    return;

  signature_hex = bb_protocol_hex_encode (intent_signature);
  msg.kind = (char *)kind;
  msg.key_id = (char *)key_id;
  msg.challenge = challenge->challenge;
  msg.intent_signature = signature_hex;

  req = bb_client_request_new ("DELETE", "/v1/auth/tokens", TRUE, NULL, NULL, NULL);
  req->check = handle_revoke_all;
  req->apply = apply_revoke_all;
  bb_client_request_take_body (req, bb_msg_revoke_tokens_request_to_json (&msg));
  bb_client_request_send (self, req, bb_client_revoke_all_tokens_async, cancellable, callback,
                          user_data);
}

/**
 * bb_client_revoke_all_tokens_finish:
 * @self: a [class@BbSync.Client]
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Client.revoke_all_tokens_async]. On success every token of the
 * identity is revoked and [property@BbSync.Client:access-token] has been cleared.
 *
 * Errors: %BB_SYNC_ERROR_INVALID_INPUT when the key ID or the intent signature is malformed
 * (nothing is sent); %BB_SYNC_ERROR_PROTOCOL when the answer breaks the protocol;
 * %BB_SYNC_ERROR_API when the server answers with an error status (read it back with
 * [func@BbSync.SyncError.get_http_status]), %G_IO_ERROR_TIMED_OUT when the request outlasts
 * [property@BbSync.Client:timeout], %G_IO_ERROR_CANCELLED when it was cancelled; network and
 * TLS errors pass through unchanged.
 *
 * Returns: %TRUE if the server revoked the tokens
 *
 * Since: 0.1
 */
gboolean
bb_client_revoke_all_tokens_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return bb_client_request_finish_boolean (self, result, bb_client_revoke_all_tokens_async,
                                           G_STRFUNC, error);
}
