/* bb-server-request.c: what every handler of the reference server uses to answer a request,
 * to check what it carries, and to tell who is asking (bearer token, membership).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-server-private.h"

#include <string.h>

#include "bb-crypto-private.h"
#include "bb-error.h"
#include "bb-protocol-messages-private.h"
#include "bb-protocol.h"
#include "bb-protocol-private.h"

/* Bodies may carry bearer tokens, so each is wiped when libsoup lets it go. */
void
bb_server_respond_raw (SoupServerMessage *msg, guint status, const char *json)
{
  /* Go's JSON encoder ends its output with a newline; clients ignore it. */
  char *body = g_strconcat (json, "\n", NULL);
  gsize len = strlen (body);
  g_autoptr (GBytes) bytes = bb_crypto_secret_bytes_new_take ((guint8 *)body, len);

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC, NULL, 0);
  soup_message_body_append_bytes (soup_server_message_get_response_body (msg), bytes);
}

void
bb_server_respond_json_take (BbServerRequest *req, guint status, char *json)
{
  bb_server_respond_raw (req->msg, status, json);
  bb_crypto_wipe (json, strlen (json));
  g_free (json);
}

void
bb_server_respond_error_msg (SoupServerMessage *msg, guint status, const char *text)
{
  BbMsgError error = { (char *)text };
  g_autofree char *json = bb_msg_error_to_json (&error);

  bb_server_respond_raw (msg, status, json);
}

void
bb_server_respond_error (BbServerRequest *req, guint status, const char *format, ...)
{
  g_autofree char *text = NULL;
  va_list ap;

  va_start (ap, format);
  text = g_strdup_vprintf (format, ap);
  va_end (ap);
  bb_server_respond_error_msg (req->msg, status, text);
}

/* Answers with @error's message: CRYPTO failures (a signature that does not verify) are
 * 403, everything else the client sent wrong is 400. */
void
bb_server_respond_gerror (BbServerRequest *req, const GError *error)
{
  guint status = 400;

  if (error->domain == BB_SYNC_ERROR && error->code == BB_SYNC_ERROR_CRYPTO)
    status = 403;
  bb_server_respond_error_msg (req->msg, status, error->message);
}

void
bb_server_respond_internal (BbServerRequest *req, const GError *error)
{
  g_warning ("bbsync-server: internal error: %s", error != NULL ? error->message : "unknown");
  bb_server_respond_error (req, 500, "internal server error");
}

/* Bodies must be one JSON object whose keys are all known (a misspelt field is a client
 * bug that should show, not be ignored as Go's decoder would). @nested_field names an
 * object member that is checked the same way against @nested_allowed. */
gboolean
bb_server_check_body (BbServerRequest *req, const char *const *allowed, const char *nested_field,
                      const char *const *nested_allowed)
{
  g_autoptr (GError) error = NULL;

  if (req->body_len == 0)
    {
      bb_server_respond_error (req, 400, "request body: expected a JSON object");
      return FALSE;
    }
  /* The messages' own strict reader, with its limits on nesting depth (64), size and
   * value count: no body can overflow the stack or cost much before it is refused. */
  if (!bb_msg_check_known_fields (req->body, req->body_len, allowed, nested_field, nested_allowed,
                                  &error))
    {
      bb_server_respond_error (req, 400, "request %s", error->message);
      return FALSE;
    }
  return TRUE;
}

GBytes *
bb_server_decode_or_respond (BbServerRequest *req,
                             GBytes *(*decode) (const char *, gssize, const char *, GError **),
                             const char *text, gssize len, const char *field)
{
  g_autoptr (GError) error = NULL;
  GBytes *bytes;

  if (text == NULL)
    {
      bb_server_respond_error (req, 400, "%s: missing", field);
      return NULL;
    }
  bytes = decode (text, len, field, &error);
  if (bytes == NULL)
    bb_server_respond_gerror (req, error);
  return bytes;
}

gboolean
bb_server_validate_id (BbServerRequest *req, const char *text, gsize size, const char *field)
{
  g_autoptr (GError) error = NULL;

  if (text == NULL || !bb_protocol_validate_lower_hex (text, size, field, &error))
    {
      if (error != NULL)
        bb_server_respond_gerror (req, error);
      else
        bb_server_respond_error (req, 400, "%s: missing", field);
      return FALSE;
    }
  return TRUE;
}

/* ------------------------------------------------------------------------------------ */
/* Keys, tokens, membership */

char *
bb_server_hash_token (const char *token)
{
  guint8 digest[BB_CRYPTO_SHA256_SIZE];
  g_autoptr (GBytes) bytes = NULL;

  bb_crypto_sha256 ((const guint8 *)token, strlen (token), digest);
  bytes = g_bytes_new (digest, sizeof digest);
  return bb_protocol_hex_encode (bytes);
}

/* Sets req->caller from the bearer token, or answers 401. */
gboolean
bb_server_authenticate (BbServer *self, BbServerRequest *req)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (req->msg);
  const char *value = soup_message_headers_get_one (headers, "Authorization");
  g_autofree char *token_hash = NULL;
  g_autoptr (GError) error = NULL;

  if (value == NULL || g_ascii_strncasecmp (value, "Bearer ", 7) != 0 || value[7] == '\0')
    {
      bb_server_respond_error (req, 401, "missing bearer token");
      return FALSE;
    }
  token_hash = bb_server_hash_token (value + 7);
  req->caller = bb_server_db_get_token_key (self->db, token_hash, req->now, &error);
  if (error != NULL)
    {
      bb_server_respond_internal (req, error);
      return FALSE;
    }
  if (req->caller == NULL)
    {
      bb_server_respond_error (req, 401, "invalid bearer token");
      return FALSE;
    }
  return TRUE;
}

/* Validates the path namespace and requires the caller to be a member. Non-members get
 * 404, so that the existence of a namespace does not leak. */
gboolean
bb_server_require_member (BbServer *self, BbServerRequest *req, const char *namespace_id,
                          char **out_kind)
{
  g_autoptr (GError) error = NULL;

  if (!bb_server_validate_id (req, namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, "namespaceId"))
    return FALSE;
  if (!bb_server_db_is_member (self->db, namespace_id, req->caller, out_kind, &error))
    {
      if (error != NULL)
        bb_server_respond_internal (req, error);
      else
        bb_server_respond_error (req, 404, "namespace not found");
      return FALSE;
    }
  return TRUE;
}

/* Validates a wrapped DEK from a request body: canonical base64 of a version 1 blob. */
gboolean
bb_server_check_wrapped_dek (BbServerRequest *req, const char *text)
{
  g_autoptr (GBytes) blob = NULL;
  g_autoptr (GError) error = NULL;

  blob = bb_server_decode_or_respond (req, bb_protocol_base64_decode, text,
                                      BB_PROTOCOL_WRAPPED_DEK_SIZE, "wrappedDek");
  if (blob == NULL)
    return FALSE;
  if (!bb_protocol_validate_wrapped_dek (blob, &error))
    {
      bb_server_respond_error (req, 400, "%s", error->message);
      return FALSE;
    }
  return TRUE;
}
