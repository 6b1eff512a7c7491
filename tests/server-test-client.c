/* server-test-client.c: an HTTP client for the reference server tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "server-test-client.h"

#include <string.h>

#include "bb-crypto-private.h"
#include "bb-error.h"
#include "bb-protocol-messages-private.h"
#include "bb-protocol.h"
#include "bb-test-identity-private.h"
#include "bb-test-utils.h"

gint64
server_test_now (Fixture *f)
{
  if (f->server != NULL)
    return bb_server_get_now (f->server);
  return g_get_real_time () / G_USEC_PER_SEC;
}
/* ------------------------------------------------------------------------------------ */
/* HTTP */

void
call_free (Call *call)
{
  g_clear_object (&call->msg);
  g_clear_pointer (&call->body, g_bytes_unref);
  g_clear_error (&call->error);
  g_free (call);
}

static void
call_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Call *call = user_data;

  call->body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &call->error);
  call->done = TRUE;
}

Call *
call_start (Fixture *f, const char *method, const char *path, const char *token, const char *body,
            gssize body_len, const char *if_match)
{
  g_autofree char *url = g_strconcat (f->base, path, NULL);
  Call *call = g_new0 (Call, 1);
  SoupMessageHeaders *headers;

  call->msg = soup_message_new (method, url);
  g_assert_nonnull (call->msg);
  headers = soup_message_get_request_headers (call->msg);
  if (token != NULL)
    {
      g_autofree char *value = g_strconcat ("Bearer ", token, NULL);
      soup_message_headers_replace (headers, "Authorization", value);
    }
  if (if_match != NULL)
    soup_message_headers_replace (headers, "If-Match", if_match);
  if (body != NULL)
    {
      g_autoptr (GBytes) bytes
          = g_bytes_new (body, body_len >= 0 ? (gsize)body_len : strlen (body));
      soup_message_set_request_body_from_bytes (call->msg, "application/json", bytes);
    }
  soup_session_send_and_read_async (f->session, call->msg, G_PRIORITY_DEFAULT, NULL, call_done_cb,
                                    call);
  return call;
}

/* Sends @msg (taken over) as prepared by the caller, for requests call_start cannot
 * express (repeated headers, for example). */
Call *
call_send (Fixture *f, SoupMessage *msg)
{
  Call *call = g_new0 (Call, 1);

  call->msg = msg;
  soup_session_send_and_read_async (f->session, call->msg, G_PRIORITY_DEFAULT, NULL, call_done_cb,
                                    call);
  return call;
}

void
call_wait (Call *call)
{
  while (!call->done)
    g_main_context_iteration (NULL, TRUE);
}

/* Runs one request to completion; returns the status (0 on a transport error) and the
 * body as a string. */
guint
http (Fixture *f, const char *method, const char *path, const char *token, const char *body,
      const char *if_match, char **out_body)
{
  g_autoptr (Call) call = call_start (f, method, path, token, body, -1, if_match);
  guint status;

  call_wait (call);
  if (call->error != NULL)
    {
      if (out_body != NULL)
        *out_body = g_strdup (call->error->message);
      return 0;
    }
  status = soup_message_get_status (call->msg);
  if (out_body != NULL)
    *out_body = g_strndup (g_bytes_get_data (call->body, NULL), g_bytes_get_size (call->body));
  return status;
}

/* Asserts the status and that error bodies are {"error": "..."} naming something. */
char *
expect (Fixture *f, guint status, const char *method, const char *path, const char *token,
        const char *body, const char *if_match)
{
  char *reply = NULL;
  guint got = http (f, method, path, token, body, if_match, &reply);

  if (got != status)
    g_error ("%s %s: expected %u, got %u: %s", method, path, status, got, reply);
  if (status >= 400)
    {
      BbMsgError error = { 0 };
      g_autoptr (GError) local_error = NULL;
      g_assert_true (bb_msg_error_parse (&error, reply, -1, &local_error));
      g_assert_no_error (local_error);
      g_assert_cmpstr (error.error, !=, "");
      bb_msg_error_clear (&error);
    }
  return reply;
}

/* Asserts an error status whose message contains @needle. */
void
expect_error (Fixture *f, guint status, const char *needle, const char *method, const char *path,
              const char *token, const char *body, const char *if_match)
{
  g_autofree char *reply = expect (f, status, method, path, token, body, if_match);

  if (strstr (reply, needle) == NULL)
    g_error ("%s %s: expected an error mentioning “%s”, got %s", method, path, needle, reply);
}

/* ------------------------------------------------------------------------------------ */
/* Protocol helpers */

char *
b64 (GBytes *bytes)
{
  return bb_protocol_base64_encode (bytes);
}

char *
hex (GBytes *bytes)
{
  return bb_protocol_hex_encode (bytes);
}

char *
random_hex (gsize size)
{
  g_autofree guint8 *raw = g_malloc (size);
  g_autoptr (GBytes) bytes = NULL;

  bb_crypto_random_bytes (raw, size);
  bytes = g_bytes_new (raw, size);
  return hex (bytes);
}

char *
get_challenge (Fixture *f, const char *purpose, const char *action, GBytes *fields)
{
  BbMsgChallengeRequest request = { (char *)purpose, (char *)BB_PROTOCOL_KIND_KEYSTORE };
  BbMsgChallengeResponse response = { 0 };
  g_autofree char *hash = fields != NULL ? bb_protocol_action_fields_hash (fields) : NULL;
  g_autofree char *json = NULL;
  g_autofree char *reply = NULL;
  g_autoptr (GError) error = NULL;
  char *challenge;

  request.action = (char *)action;
  request.action_fields_hash = hash;
  json = bb_msg_challenge_request_to_json (&request);
  reply = expect (f, 200, "POST", "/v1/auth/challenge", NULL, json, NULL);
  g_assert_true (bb_msg_challenge_response_parse (&response, reply, -1, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (response.spam_control_kind, ==, "none");
  challenge = g_steal_pointer (&response.challenge);
  bb_msg_challenge_response_clear (&response);
  return challenge;
}

GBytes *
challenge_bytes (const char *challenge)
{
  g_autoptr (GError) error = NULL;
  GBytes *bytes = bb_protocol_base64_decode (challenge, 32, "challenge", &error);

  g_assert_no_error (error);
  return bytes;
}

char *
sign_hex (BbTestIdentity *id, GBytes *message)
{
  g_autoptr (GBytes) signature = bb_test_identity_sign (id, message);

  return hex (signature);
}

char *
login_body (BbTestIdentity *id, const char *challenge)
{
  g_autoptr (GBytes) raw = challenge_bytes (challenge);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) intent = NULL;
  g_autofree char *auth = hex (bb_test_identity_get_auth_public_key (id));
  g_autofree char *wrap = hex (bb_test_identity_get_wrap_public_key (id));
  g_autofree char *signature = NULL;
  BbMsgLoginRequest request = { 0 };

  intent = bb_protocol_login_intent (
      raw, BB_PROTOCOL_KIND_KEYSTORE, bb_test_identity_get_key_id (id),
      bb_test_identity_get_auth_public_key (id), bb_test_identity_get_wrap_public_key (id), &error);
  g_assert_no_error (error);
  signature = sign_hex (id, intent);
  request.kind = (char *)BB_PROTOCOL_KIND_KEYSTORE;
  request.key_id = (char *)bb_test_identity_get_key_id (id);
  request.auth_public_key = auth;
  request.wrap_public_key = wrap;
  request.challenge = (char *)challenge;
  request.intent_signature = signature;
  return bb_msg_login_request_to_json (&request);
}

char *
login_full (Fixture *f, BbTestIdentity *id, char **out_default_ns)
{
  g_autofree char *challenge = get_challenge (f, "login", NULL, NULL);
  g_autofree char *body = login_body (id, challenge);
  g_autofree char *reply = expect (f, 200, "POST", "/v1/auth/login", NULL, body, NULL);
  BbMsgLoginResponse response = { 0 };
  g_autoptr (GError) error = NULL;
  char *token;

  g_assert_true (bb_msg_login_response_parse (&response, reply, -1, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (response.kind, ==, "keystore");
  g_assert_cmpint (g_date_time_to_unix (response.expires_at), >, server_test_now (f));
  if (out_default_ns != NULL)
    *out_default_ns = g_strdup (response.default_namespace_id);
  token = g_steal_pointer (&response.access_token);
  bb_msg_login_response_clear (&response);
  return token;
}

char *
login (Fixture *f, BbTestIdentity *id)
{
  return login_full (f, id, NULL);
}

GBytes *
fixed_dek (guint8 byte)
{
  return bb_test_repeat (byte, 32);
}

char *
wrapped_dek_for (BbTestIdentity *id, const char *ns, GBytes *dek)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) blob
      = bb_protocol_wrap_dek (bb_test_identity_get_wrap_public_key (id), ns, dek, &error);

  g_assert_no_error (error);
  return b64 (blob);
}

char *
create_shared (Fixture *f, BbTestIdentity *id, const char *token, GBytes *dek)
{
  char *ns = random_hex (16);
  g_autofree char *wrapped = wrapped_dek_for (id, ns, dek);
  BbMsgCreateNamespaceRequest request = { ns, wrapped };
  g_autofree char *json = bb_msg_create_namespace_request_to_json (&request);
  g_autofree char *reply = expect (f, 200, "POST", "/v1/namespaces", token, json, NULL);
  BbMsgCreateNamespaceResponse response = { 0 };
  g_autoptr (GError) error = NULL;

  g_assert_true (bb_msg_create_namespace_response_parse (&response, reply, -1, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (response.namespace_id, ==, ns);
  g_assert_cmpstr (response.kind, ==, "shared");
  g_assert_true (response.created);
  bb_msg_create_namespace_response_clear (&response);
  return ns;
}

/* The body of an item PUT for @version, encrypting @plaintext with @dek. */
char *
item_body (GBytes *dek, const char *ns, const char *item, guint64 version, const char *plaintext)
{
  g_autoptr (GBytes) pt = g_bytes_new (plaintext, strlen (plaintext));
  g_autoptr (GBytes) nonce = NULL;
  g_autoptr (GBytes) aad = NULL;
  g_autoptr (GBytes) ct = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *n = NULL;
  g_autofree char *a = NULL;
  g_autofree char *c = NULL;
  BbMsgPutItemRequest request = { 0 };

  ct = bb_protocol_encrypt_item (dek, ns, item, version, pt, &nonce, &aad, &error);
  g_assert_no_error (error);
  n = b64 (nonce);
  a = b64 (aad);
  c = b64 (ct);
  request.nonce = n;
  request.aad = a;
  request.ciphertext = c;
  return bb_msg_put_item_request_to_json (&request);
}

guint64
put_item (Fixture *f, const char *token, GBytes *dek, const char *ns, const char *item,
          guint64 current, const char *plaintext)
{
  g_autofree char *path = g_strdup_printf ("/v1/kv/%s/%s", ns, item);
  g_autofree char *body = item_body (dek, ns, item, current + 1, plaintext);
  g_autofree char *if_match = current > 0 ? bb_protocol_etag (current) : NULL;
  g_autofree char *reply = expect (f, 200, "PUT", path, token, body, if_match);
  BbMsgPutItemResponse response = { 0 };
  g_autoptr (GError) error = NULL;
  guint64 version;

  g_assert_true (bb_msg_put_item_response_parse (&response, reply, -1, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (response.namespace_id, ==, ns);
  g_assert_cmpstr (response.item_id, ==, item);
  version = response.version;
  bb_msg_put_item_response_clear (&response);
  return version;
}

char *
get_item_plaintext (Fixture *f, const char *token, GBytes *dek, const char *ns, const char *item,
                    guint64 *out_version)
{
  g_autofree char *path = g_strdup_printf ("/v1/kv/%s/%s", ns, item);
  g_autofree char *reply = expect (f, 200, "GET", path, token, NULL, NULL);
  BbMsgItemResponse response = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) nonce = NULL;
  g_autoptr (GBytes) aad = NULL;
  g_autoptr (GBytes) ct = NULL;
  g_autoptr (GBytes) pt = NULL;

  g_assert_true (bb_msg_item_response_parse (&response, reply, -1, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (response.namespace_id, ==, ns);
  g_assert_cmpstr (response.item_id, ==, item);
  nonce = bb_protocol_base64_decode (response.nonce, 24, "nonce", &error);
  g_assert_no_error (error);
  aad = bb_protocol_base64_decode (response.aad, -1, "aad", &error);
  g_assert_no_error (error);
  ct = bb_protocol_base64_decode (response.ciphertext, -1, "ciphertext", &error);
  g_assert_no_error (error);
  pt = bb_protocol_decrypt_item (dek, ns, item, response.version, nonce, aad, ct, &error);
  g_assert_no_error (error);
  if (out_version != NULL)
    *out_version = response.version;
  bb_msg_item_response_clear (&response);
  return g_strndup (g_bytes_get_data (pt, NULL), g_bytes_get_size (pt));
}

guint64
namespace_head (Fixture *f, const char *token, const char *ns, guint *out_items)
{
  g_autofree char *path = g_strdup_printf ("/v1/namespaces/%s/items", ns);
  g_autofree char *reply = expect (f, 200, "GET", path, token, NULL, NULL);
  BbMsgItemsResponse response = { 0 };
  g_autoptr (GError) error = NULL;
  guint64 head;

  g_assert_true (bb_msg_items_response_parse (&response, reply, -1, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (response.namespace_id, ==, ns);
  head = response.namespace_head;
  if (out_items != NULL)
    *out_items = g_hash_table_size (response.items);
  bb_msg_items_response_clear (&response);
  return head;
}
