/* bb-server-items.c: the reference server's item endpoints: the version list of a
 * namespace, and reading and writing one sealed item.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-server-private.h"

#include "bb-protocol-messages-private.h"
#include "bb-protocol.h"
#include "bb-protocol-private.h"

void
bb_server_handle_items (BbServer *self, BbServerRequest *req)
{
  const char *ns = req->ids.namespace_id;
  g_autoptr (GError) error = NULL;
  BbMsgItemsResponse response = { 0 };

  if (!bb_server_authenticate (self, req) || !bb_server_require_member (self, req, ns, NULL))
    return;
  /* Single-threaded: the head and the items are read with no write in between. */
  response.namespace_head = bb_server_db_get_namespace_head (self->db, ns, &error);
  if (error != NULL)
    {
      bb_server_respond_internal (req, error);
      return;
    }
  response.items = bb_server_db_list_item_versions (self->db, ns, &error);
  if (response.items == NULL)
    bb_server_respond_internal (req, error);
  else
    {
      response.namespace_id = g_strdup (ns);
      bb_server_respond_json_take (req, 200, bb_msg_items_response_to_json (&response));
    }
  bb_msg_items_response_clear (&response);
}

void
bb_server_handle_item_get (BbServer *self, BbServerRequest *req)
{
  const char *ns = req->ids.namespace_id;
  const char *item_id = req->ids.item_id;
  g_autoptr (GError) error = NULL;
  BbMsgItemResponse response = { 0 };

  if (!bb_server_authenticate (self, req) || !bb_server_require_member (self, req, ns, NULL)
      || !bb_server_validate_id (req, item_id, BB_PROTOCOL_ITEM_ID_SIZE, "itemId"))
    return;
  bb_server_db_get_item (self->db, ns, item_id, &response.version, &response.nonce, &response.aad,
                         &response.ciphertext, &error);
  if (error != NULL)
    bb_server_respond_internal (req, error);
  else if (response.nonce == NULL)
    bb_server_respond_error (req, 404, "item not found");
  else
    {
      response.namespace_id = g_strdup (ns);
      response.item_id = g_strdup (item_id);
      bb_server_respond_json_take (req, 200, bb_msg_item_response_to_json (&response));
    }
  bb_msg_item_response_clear (&response);
}

static const char *const put_item_fields[] = { "nonce", "aad", "ciphertext", NULL };

void
bb_server_handle_item_put (BbServer *self, BbServerRequest *req)
{
  const char *ns = req->ids.namespace_id;
  const char *item_id = req->ids.item_id;
  BbMsgPutItemRequest request = { 0 };
  BbMsgPutItemResponse response = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) nonce = NULL;
  g_autoptr (GBytes) aad = NULL;
  g_autoptr (GBytes) expected_aad = NULL;
  g_autoptr (GBytes) ciphertext = NULL;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (req->msg);
  /* get_list joins repeated lines with ", " (a list, so malformed per spec §4.12);
   * get_one would silently keep just one of them. */
  const char *if_match = soup_message_headers_get_list (headers, "If-Match");
  gboolean has_version = FALSE;
  guint64 match_version = 0;
  guint64 new_version;
  gint64 current_version = 0;
  gint64 old_size = 0;
  gint64 item_count;
  gint64 stored_bytes;
  gsize ct_size;
  gboolean exists;
  g_autoptr (BbServerDbTransaction) tx = NULL;

  if (!bb_server_authenticate (self, req) || !bb_server_require_member (self, req, ns, NULL)
      || !bb_server_validate_id (req, item_id, BB_PROTOCOL_ITEM_ID_SIZE, "itemId"))
    return;
  if (if_match != NULL
      && !bb_protocol_parse_if_match (if_match, &has_version, &match_version, &error))
    {
      bb_server_respond_error (req, 400, "%s", error->message);
      return;
    }
  if (has_version && match_version == G_MAXUINT64)
    {
      bb_server_respond_error (req, 400, "If-Match: version out of range");
      return;
    }
  new_version = has_version ? match_version + 1 : 1;

  if (!bb_server_check_body (req, put_item_fields, NULL, NULL))
    return;
  if (!bb_msg_put_item_request_parse (&request, req->body, req->body_len, &error))
    {
      bb_server_respond_gerror (req, error);
      return;
    }
  nonce = bb_server_decode_or_respond (req, bb_protocol_base64_decode, request.nonce,
                                       BB_PROTOCOL_NONCE_SIZE, "nonce");
  if (nonce == NULL)
    goto out;
  aad = bb_server_decode_or_respond (req, bb_protocol_base64_decode, request.aad, -1, "aad");
  if (aad == NULL)
    goto out;
  ciphertext = bb_server_decode_or_respond (req, bb_protocol_base64_decode, request.ciphertext, -1,
                                            "ciphertext");
  if (ciphertext == NULL)
    goto out;
  ct_size = g_bytes_get_size (ciphertext);
  if (ct_size < BB_PROTOCOL_TAG_SIZE)
    {
      bb_server_respond_error (req, 400, "ciphertext: shorter than the AEAD tag");
      goto out;
    }
  if (ct_size > BB_PROTOCOL_MAX_CIPHERTEXT_SIZE)
    {
      bb_server_respond_error (req, 413, "ciphertext: larger than %d bytes",
                               BB_PROTOCOL_MAX_CIPHERTEXT_SIZE);
      goto out;
    }
  /* The AAD holds no secret, so the server can insist that it names this namespace,
   * this item and the version the write creates. */
  expected_aad = bb_protocol_item_aad (ns, item_id, new_version, &error);
  if (expected_aad == NULL)
    goto internal;
  if (!g_bytes_equal (aad, expected_aad))
    {
      bb_server_respond_error (
          req, 400,
          "aad: does not match the canonical AAD of namespace, item and version %" G_GUINT64_FORMAT,
          new_version);
      goto out;
    }

  tx = bb_server_db_begin (self->db, &error);
  if (tx == NULL)
    goto internal;
  exists = bb_server_db_get_item_size (self->db, ns, item_id, &current_version, &old_size, &error);
  if (error != NULL)
    goto internal;

  if (!has_version && exists)
    {
      bb_server_respond_error (req, 412, "item already exists");
      goto out;
    }
  if (has_version && (!exists || (guint64)current_version != match_version))
    {
      bb_server_respond_error (
          req, 412, exists ? "item version does not match If-Match" : "item does not exist");
      goto out;
    }

  if (!bb_server_db_get_namespace_usage (self->db, ns, &item_count, &stored_bytes, &error))
    goto internal;
  if (!exists && (guint64)item_count >= self->limits[BB_SERVER_LIMIT_ITEMS_PER_NAMESPACE])
    {
      bb_server_respond_error (req, 429, "namespace holds the maximum number of items");
      goto out;
    }
  if ((guint64)(stored_bytes - old_size + ct_size)
      > self->limits[BB_SERVER_LIMIT_BYTES_PER_NAMESPACE])
    {
      bb_server_respond_error (req, 429, "namespace storage quota exceeded");
      goto out;
    }

  if (!bb_server_db_put_item (self->db, ns, item_id, new_version, request.nonce, request.aad,
                              request.ciphertext, (gint64)ct_size, old_size, !exists, &error)
      || !bb_server_db_commit (tx, &error))
    goto internal;

  response.namespace_id = g_strdup (ns);
  response.item_id = g_strdup (item_id);
  response.version = new_version;
  bb_server_respond_json_take (req, 200, bb_msg_put_item_response_to_json (&response));
  bb_server_wake_watchers (self, ns);
  goto out;

internal:
  bb_server_respond_internal (req, error);
out:
  bb_msg_put_item_response_clear (&response);
  bb_msg_put_item_request_clear (&request);
}
