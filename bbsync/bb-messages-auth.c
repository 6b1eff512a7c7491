/* bb-messages-auth.c: the bodies of authentication, protocol §6.1 to §6.4
 *
 * Challenge, login, refresh and token revocation: one file per resource of the
 * protocol, on the field readers and writer they share (bb-message-fields.c).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "bb-protocol.h"
#include "bb-message-fields-private.h"

/* ------------------------------------------------------------------------------------ */
/* §6.1 challenge                                                                       */

void
bb_msg_challenge_request_clear (BbMsgChallengeRequest *msg)
{
  g_free (msg->purpose);
  g_free (msg->kind);
  g_free (msg->action);
  g_free (msg->action_fields_hash);
  memset (msg, 0, sizeof *msg);
}

char *
bb_msg_challenge_request_to_json (const BbMsgChallengeRequest *msg)
{
  BbJsonWriter w;

  bb_json_writer_begin (&w);
  bb_json_write_string (&w, "purpose", msg->purpose);
  bb_json_write_string (&w, "kind", msg->kind);
  bb_json_write_string_omitempty (&w, "action", msg->action);
  bb_json_write_string_omitempty (&w, "actionFieldsHash", msg->action_fields_hash);
  return bb_json_writer_finish (&w);
}

static gboolean
bb_msg_challenge_request_read (const BbJsonDoc *doc, JsonObject *o, BbMsgChallengeRequest *msg,
                               GError **error)
{
  if (!bb_msg_req_string (o, NULL, "purpose", &msg->purpose, error)
      || !bb_msg_req_string (o, NULL, "kind", &msg->kind, error)
      || !bb_msg_opt_string (o, NULL, "action", &msg->action, error)
      || !bb_msg_opt_string (o, NULL, "actionFieldsHash", &msg->action_fields_hash, error))
    return FALSE;
  if (msg->action_fields_hash != NULL
      && !bb_msg_check_lower_hex (msg->action_fields_hash, 32, NULL, "actionFieldsHash", error))
    return FALSE;
  return TRUE;
}
BB_MSG_DEFINE_PARSE (BbMsgChallengeRequest, bb_msg_challenge_request)

void
bb_msg_challenge_response_clear (BbMsgChallengeResponse *msg)
{
  g_free (msg->challenge);
  g_clear_pointer (&msg->expires_at, g_date_time_unref);
  g_free (msg->spam_control_kind);
  memset (msg, 0, sizeof *msg);
}

char *
bb_msg_challenge_response_to_json (const BbMsgChallengeResponse *msg)
{
  BbJsonWriter w, sc;

  bb_json_writer_begin (&w);
  bb_json_write_string (&w, "challenge", msg->challenge);
  bb_json_write_time (&w, "expiresAt", msg->expires_at);
  bb_json_writer_key (&w, "spamControl");
  bb_json_writer_begin_nested (&sc, &w);
  bb_json_write_string (&sc, "kind", msg->spam_control_kind);
  bb_json_writer_end (&sc);
  return bb_json_writer_finish (&w);
}

static gboolean
bb_msg_challenge_response_read (const BbJsonDoc *doc, JsonObject *o, BbMsgChallengeResponse *msg,
                                GError **error)
{
  JsonObject *sc;

  if (!bb_msg_req_base64 (o, NULL, "challenge", BB_PROTOCOL_CHALLENGE_SIZE, &msg->challenge, error)
      || !bb_msg_req_time (o, NULL, "expiresAt", &msg->expires_at, error))
    return FALSE;
  sc = bb_msg_req_object (o, NULL, "spamControl", error);
  return sc != NULL
         && bb_msg_req_string (sc, "spamControl", "kind", &msg->spam_control_kind, error);
}
BB_MSG_DEFINE_PARSE (BbMsgChallengeResponse, bb_msg_challenge_response)

/* ------------------------------------------------------------------------------------ */
/* §6.2 login                                                                           */

void
bb_msg_login_request_clear (BbMsgLoginRequest *msg)
{
  g_free (msg->kind);
  g_free (msg->key_id);
  g_free (msg->auth_public_key);
  g_free (msg->wrap_public_key);
  g_free (msg->challenge);
  g_free (msg->intent_signature);
  g_free (msg->attestation);
  memset (msg, 0, sizeof *msg);
}

char *
bb_msg_login_request_to_json (const BbMsgLoginRequest *msg)
{
  BbJsonWriter w;

  bb_json_writer_begin (&w);
  bb_json_write_string (&w, "kind", msg->kind);
  bb_json_write_string (&w, "keyId", msg->key_id);
  bb_json_write_string (&w, "authPublicKey", msg->auth_public_key);
  bb_json_write_string (&w, "wrapPublicKey", msg->wrap_public_key);
  bb_json_write_string (&w, "challenge", msg->challenge);
  bb_json_write_string (&w, "intentSignature", msg->intent_signature);
  bb_json_write_string_omitempty (&w, "attestation", msg->attestation);
  return bb_json_writer_finish (&w);
}

static gboolean
bb_msg_login_request_read (const BbJsonDoc *doc, JsonObject *o, BbMsgLoginRequest *msg,
                           GError **error)
{
  if (!bb_msg_req_string (o, NULL, "kind", &msg->kind, error)
      || !bb_msg_req_lower_hex (o, NULL, "keyId", BB_PROTOCOL_KEY_ID_SIZE, &msg->key_id, error)
      || !bb_msg_req_lower_hex (o, NULL, "authPublicKey", BB_PROTOCOL_PUBLIC_KEY_SIZE,
                                &msg->auth_public_key, error)
      || !bb_msg_req_lower_hex (o, NULL, "wrapPublicKey", BB_PROTOCOL_PUBLIC_KEY_SIZE,
                                &msg->wrap_public_key, error)
      || !bb_msg_req_base64 (o, NULL, "challenge", BB_PROTOCOL_CHALLENGE_SIZE, &msg->challenge,
                             error)
      || !bb_msg_req_hex (o, NULL, "intentSignature", BB_PROTOCOL_SIGNATURE_SIZE,
                          &msg->intent_signature, error)
      || !bb_msg_opt_string (o, NULL, "attestation", &msg->attestation, error))
    return FALSE;
  return msg->attestation == NULL
         || bb_msg_check_base64 (msg->attestation, -1, NULL, "attestation", error);
}
BB_MSG_DEFINE_PARSE (BbMsgLoginRequest, bb_msg_login_request)

void
bb_msg_login_response_clear (BbMsgLoginResponse *msg)
{
  g_free (msg->kind);
  bb_msg_free_secret (&msg->access_token);
  g_clear_pointer (&msg->expires_at, g_date_time_unref);
  g_free (msg->default_namespace_id);
  memset (msg, 0, sizeof *msg);
}

static void
write_login_response (BbJsonWriter *w, gconstpointer data)
{
  const BbMsgLoginResponse *msg = data;

  bb_json_write_string (w, "kind", msg->kind);
  bb_json_write_string (w, "accessToken", msg->access_token);
  bb_json_write_time (w, "expiresAt", msg->expires_at);
  bb_json_write_string_nullable (w, "defaultNamespaceId", msg->default_namespace_id);
}

char *
bb_msg_login_response_to_json (const BbMsgLoginResponse *msg)
{
  return bb_json_write_secret (write_login_response, msg);
}

static gboolean
bb_msg_login_response_read (const BbJsonDoc *doc, JsonObject *o, BbMsgLoginResponse *msg,
                            GError **error)
{
  if (!bb_msg_req_string (o, NULL, "kind", &msg->kind, error)
      || !bb_msg_req_string (o, NULL, "accessToken", &msg->access_token, error)
      || !bb_msg_req_time (o, NULL, "expiresAt", &msg->expires_at, error)
      || !bb_msg_nullable_string (o, NULL, "defaultNamespaceId", &msg->default_namespace_id, error))
    return FALSE;
  return msg->default_namespace_id == NULL
         || bb_msg_check_lower_hex (msg->default_namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, NULL,
                                    "defaultNamespaceId", error);
}
BB_MSG_DEFINE_PARSE (BbMsgLoginResponse, bb_msg_login_response)

/* ------------------------------------------------------------------------------------ */
/* §6.3 refresh                                                                         */

void
bb_msg_refresh_request_clear (BbMsgRefreshRequest *msg)
{
  g_free (msg->kind);
  g_free (msg->key_id);
  g_free (msg->challenge);
  g_free (msg->intent_signature);
  g_free (msg->attestation);
  memset (msg, 0, sizeof *msg);
}

char *
bb_msg_refresh_request_to_json (const BbMsgRefreshRequest *msg)
{
  BbJsonWriter w;

  bb_json_writer_begin (&w);
  bb_json_write_string (&w, "kind", msg->kind);
  bb_json_write_string (&w, "keyId", msg->key_id);
  bb_json_write_string (&w, "challenge", msg->challenge);
  bb_json_write_string (&w, "intentSignature", msg->intent_signature);
  bb_json_write_string_omitempty (&w, "attestation", msg->attestation);
  return bb_json_writer_finish (&w);
}

static gboolean
bb_msg_refresh_request_read (const BbJsonDoc *doc, JsonObject *o, BbMsgRefreshRequest *msg,
                             GError **error)
{
  if (!bb_msg_req_string (o, NULL, "kind", &msg->kind, error)
      || !bb_msg_req_lower_hex (o, NULL, "keyId", BB_PROTOCOL_KEY_ID_SIZE, &msg->key_id, error)
      || !bb_msg_req_base64 (o, NULL, "challenge", BB_PROTOCOL_CHALLENGE_SIZE, &msg->challenge,
                             error)
      || !bb_msg_req_hex (o, NULL, "intentSignature", BB_PROTOCOL_SIGNATURE_SIZE,
                          &msg->intent_signature, error)
      || !bb_msg_opt_string (o, NULL, "attestation", &msg->attestation, error))
    return FALSE;
  return msg->attestation == NULL
         || bb_msg_check_base64 (msg->attestation, -1, NULL, "attestation", error);
}
BB_MSG_DEFINE_PARSE (BbMsgRefreshRequest, bb_msg_refresh_request)

void
bb_msg_refresh_response_clear (BbMsgRefreshResponse *msg)
{
  g_free (msg->kind);
  bb_msg_free_secret (&msg->access_token);
  g_clear_pointer (&msg->expires_at, g_date_time_unref);
  memset (msg, 0, sizeof *msg);
}

static void
write_refresh_response (BbJsonWriter *w, gconstpointer data)
{
  const BbMsgRefreshResponse *msg = data;

  bb_json_write_string (w, "kind", msg->kind);
  bb_json_write_string (w, "accessToken", msg->access_token);
  bb_json_write_time (w, "expiresAt", msg->expires_at);
}

char *
bb_msg_refresh_response_to_json (const BbMsgRefreshResponse *msg)
{
  return bb_json_write_secret (write_refresh_response, msg);
}

static gboolean
bb_msg_refresh_response_read (const BbJsonDoc *doc, JsonObject *o, BbMsgRefreshResponse *msg,
                              GError **error)
{
  return bb_msg_req_string (o, NULL, "kind", &msg->kind, error)
         && bb_msg_req_string (o, NULL, "accessToken", &msg->access_token, error)
         && bb_msg_req_time (o, NULL, "expiresAt", &msg->expires_at, error);
}
BB_MSG_DEFINE_PARSE (BbMsgRefreshResponse, bb_msg_refresh_response)

/* ------------------------------------------------------------------------------------ */
/* §6.4 revoke all tokens                                                               */

void
bb_msg_revoke_tokens_request_clear (BbMsgRevokeTokensRequest *msg)
{
  g_free (msg->kind);
  g_free (msg->key_id);
  g_free (msg->challenge);
  g_free (msg->intent_signature);
  memset (msg, 0, sizeof *msg);
}

char *
bb_msg_revoke_tokens_request_to_json (const BbMsgRevokeTokensRequest *msg)
{
  BbJsonWriter w;

  bb_json_writer_begin (&w);
  bb_json_write_string (&w, "kind", msg->kind);
  bb_json_write_string (&w, "keyId", msg->key_id);
  bb_json_write_string (&w, "challenge", msg->challenge);
  bb_json_write_string (&w, "intentSignature", msg->intent_signature);
  return bb_json_writer_finish (&w);
}

static gboolean
bb_msg_revoke_tokens_request_read (const BbJsonDoc *doc, JsonObject *o,
                                   BbMsgRevokeTokensRequest *msg, GError **error)
{
  return bb_msg_req_string (o, NULL, "kind", &msg->kind, error)
         && bb_msg_req_lower_hex (o, NULL, "keyId", BB_PROTOCOL_KEY_ID_SIZE, &msg->key_id, error)
         && bb_msg_req_base64 (o, NULL, "challenge", BB_PROTOCOL_CHALLENGE_SIZE, &msg->challenge,
                               error)
         && bb_msg_req_hex (o, NULL, "intentSignature", BB_PROTOCOL_SIGNATURE_SIZE,
                            &msg->intent_signature, error);
}
BB_MSG_DEFINE_PARSE (BbMsgRevokeTokensRequest, bb_msg_revoke_tokens_request)
