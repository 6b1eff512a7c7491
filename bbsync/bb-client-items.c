/* bb-client-items.c: the item endpoints (spec §6.19 to §6.21): a namespace's snapshot of
 * item versions, and the fetch and the conditional PUT of one encrypted item
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

static gpointer
handle_items (const BbClientExpect *expect, const char *body, gsize len, GError **error)
{
  BbMsgItemsResponse msg = { 0 };
  BbNamespaceItems *items = NULL;

  if (!bb_msg_items_response_parse (&msg, body, len, error))
    return NULL;
  if (bb_client_check_equal ("namespaceId", "namespace", msg.namespace_id, expect->namespace_id,
                             error))
    {
      items = bb_namespace_items_new ();
      items->namespace_id = g_steal_pointer (&msg.namespace_id);
      items->head = msg.namespace_head;
      items->items = g_steal_pointer (&msg.items);
      if (items->items == NULL)
        items->items = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
    }
  bb_msg_items_response_clear (&msg);
  return items;
}

/**
 * bb_client_get_items_async:
 * @self: a [class@BbSync.Client]
 * @namespace_id: the namespace (lower-case hex of 16 bytes)
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Fetches the authoritative snapshot of a namespace: its head and the version of every
 * item (`GET /v1/namespaces/{ns}/items`).
 *
 * Since: 0.1
 */
void
bb_client_get_items_async (BbClient *self, const char *namespace_id, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data)
{
  GError *error = NULL;
  BbClientRequest *req;

  g_return_if_fail (BB_IS_CLIENT (self));

  bb_client_check_id_arg (namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, "namespaceId", &error);
  if (bb_client_report_bad_arguments (self, bb_client_get_items_async, callback, user_data, error))
    return;
  req = bb_client_request_new ("GET", "/v1/namespaces/{ns}/items", TRUE, handle_items,
                               (GDestroyNotify)bb_namespace_items_unref, namespace_id, NULL);
  req->expect.namespace_id = g_strdup (namespace_id);
  bb_client_request_send (self, req, bb_client_get_items_async, cancellable, callback, user_data);
}

/**
 * bb_client_get_items_finish:
 * @self: a [class@BbSync.Client]
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Client.get_items_async]. The [struct@BbSync.NamespaceItems] holds the
 * namespace head and the version of every item.
 *
 * Errors: %BB_SYNC_ERROR_INVALID_INPUT when the namespace ID is malformed (nothing is sent);
 * %BB_SYNC_ERROR_PROTOCOL when the answer is malformed or names another namespace;
 * %BB_SYNC_ERROR_API when the server answers with an error status (read it back with
 * [func@BbSync.SyncError.get_http_status]), %G_IO_ERROR_TIMED_OUT when the request outlasts
 * [property@BbSync.Client:timeout], %G_IO_ERROR_CANCELLED when it was cancelled; network and
 * TLS errors pass through unchanged.
 *
 * Returns: (transfer full): the snapshot, or %NULL on error
 *
 * Since: 0.1
 */
BbNamespaceItems *
bb_client_get_items_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return bb_client_request_finish (self, result, bb_client_get_items_async, G_STRFUNC, error);
}

/* A server must not hand out more than the protocol lets anyone store. */
static gboolean
check_ciphertext_size (GBytes *ciphertext, GError **error)
{
  if (g_bytes_get_size (ciphertext) <= BB_PROTOCOL_MAX_CIPHERTEXT_SIZE)
    return TRUE;
  g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL,
               _ ("ciphertext: %zu bytes, more than the protocol maximum of %d"),
               g_bytes_get_size (ciphertext), BB_PROTOCOL_MAX_CIPHERTEXT_SIZE);
  return FALSE;
}

static gpointer
handle_item (const BbClientExpect *expect, const char *body, gsize len, GError **error)
{
  BbMsgItemResponse msg = { 0 };
  BbItemEnvelope *item = NULL;
  g_autoptr (GBytes) nonce = NULL;
  g_autoptr (GBytes) aad = NULL;
  g_autoptr (GBytes) ciphertext = NULL;
  g_autoptr (GBytes) expected_aad = NULL;

  if (!bb_msg_item_response_parse (&msg, body, len, error))
    return NULL;
  if (bb_client_check_equal ("namespaceId", "namespace", msg.namespace_id, expect->namespace_id,
                             error)
      && bb_client_check_equal ("itemId", "item", msg.item_id, expect->item_id, error)
      && (nonce = bb_client_decode_base64_field (msg.nonce, BB_PROTOCOL_NONCE_SIZE, "nonce", error))
             != NULL
      && (aad = bb_client_decode_base64_field (msg.aad, -1, "aad", error)) != NULL
      && (ciphertext = bb_client_decode_base64_field (msg.ciphertext, -1, "ciphertext", error))
             != NULL
      && check_ciphertext_size (ciphertext, error))
    {
      /* The AAD names namespace, item and version: a server that answers with another
       * version (or replays another item's blob) is caught here, before decryption. */
      expected_aad = bb_protocol_item_aad (msg.namespace_id, msg.item_id, msg.version, error);
      if (expected_aad != NULL && !g_bytes_equal (expected_aad, aad))
        g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL,
                     _ ("aad: does not match namespace, item and version %llu"),
                     (unsigned long long)msg.version);
      else if (expected_aad != NULL)
        {
          item = bb_item_envelope_new ();
          item->namespace_id = g_steal_pointer (&msg.namespace_id);
          item->item_id = g_steal_pointer (&msg.item_id);
          item->version = msg.version;
          item->nonce = g_steal_pointer (&nonce);
          item->aad = g_steal_pointer (&aad);
          item->ciphertext = g_steal_pointer (&ciphertext);
        }
      else
        bb_client_as_protocol_error (error);
    }
  bb_msg_item_response_clear (&msg);
  return item;
}

/**
 * bb_client_get_item_async:
 * @self: a [class@BbSync.Client]
 * @namespace_id: the namespace (lower-case hex of 16 bytes)
 * @item_id: the item (lower-case hex of 32 bytes)
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Fetches one encrypted item (`GET /v1/kv/{ns}/{itemId}`). The answer's IDs, nonce
 * size, encodings and AAD are checked; decrypt the result with
 * [func@BbSync.protocol_decrypt_item].
 *
 * Since: 0.1
 */
void
bb_client_get_item_async (BbClient *self, const char *namespace_id, const char *item_id,
                          GCancellable *cancellable, GAsyncReadyCallback callback,
                          gpointer user_data)
{
  GError *error = NULL;
  BbClientRequest *req;

  g_return_if_fail (BB_IS_CLIENT (self));

  bb_client_check_id_arg (namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, "namespaceId", &error);
  bb_client_check_id_arg (item_id, BB_PROTOCOL_ITEM_ID_SIZE, "itemId", &error);
  if (bb_client_report_bad_arguments (self, bb_client_get_item_async, callback, user_data, error))
    return;
  req = bb_client_request_new ("GET", "/v1/kv/{ns}/{itemId}", TRUE, handle_item,
                               (GDestroyNotify)bb_item_envelope_unref, namespace_id, item_id, NULL);
  req->expect.namespace_id = g_strdup (namespace_id);
  req->expect.item_id = g_strdup (item_id);
  bb_client_request_send (self, req, bb_client_get_item_async, cancellable, callback, user_data);
}

/**
 * bb_client_get_item_finish:
 * @self: a [class@BbSync.Client]
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Client.get_item_async]. The [struct@BbSync.ItemEnvelope] is still
 * encrypted: decrypt it with [func@BbSync.protocol_decrypt_item].
 *
 * Errors: %BB_SYNC_ERROR_INVALID_INPUT when the namespace ID or item ID is malformed (nothing
 * is sent); %BB_SYNC_ERROR_PROTOCOL when the answer names another namespace or item, its nonce
 * is not 24 bytes, a field is not base64, the ciphertext exceeds the protocol maximum, or the
 * AAD does not name the namespace, item and version; %BB_SYNC_ERROR_API when the server answers
 * with an error status (read it back with [func@BbSync.SyncError.get_http_status]),
 * %G_IO_ERROR_TIMED_OUT when the request outlasts [property@BbSync.Client:timeout],
 * %G_IO_ERROR_CANCELLED when it was cancelled; network and TLS errors pass through unchanged.
 *
 * Returns: (transfer full): the item, or %NULL on error
 *
 * Since: 0.1
 */
BbItemEnvelope *
bb_client_get_item_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return bb_client_request_finish (self, result, bb_client_get_item_async, G_STRFUNC, error);
}

static gpointer
handle_put_item (const BbClientExpect *expect, const char *body, gsize len, GError **error)
{
  BbMsgPutItemResponse msg = { 0 };
  guint64 *version = NULL;

  if (!bb_msg_put_item_response_parse (&msg, body, len, error))
    return NULL;
  if (bb_client_check_equal ("namespaceId", "namespace", msg.namespace_id, expect->namespace_id,
                             error)
      && bb_client_check_equal ("itemId", "item", msg.item_id, expect->item_id, error))
    {
      if (msg.version != expect->version)
        g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL,
                     _ ("version: version mismatch: the server answered %llu, expected %llu"),
                     (unsigned long long)msg.version, (unsigned long long)expect->version);
      else
        version = g_memdup2 (&msg.version, sizeof msg.version);
    }
  bb_msg_put_item_response_clear (&msg);
  return version;
}

/**
 * bb_client_put_item_async:
 * @self: a [class@BbSync.Client]
 * @namespace_id: the namespace (lower-case hex of 16 bytes)
 * @item_id: the item (lower-case hex of 32 bytes)
 * @known_version: the version the caller updates (sent as `If-Match`), or 0 to create
 *   the item (no `If-Match`)
 * @nonce: the 24-byte nonce
 * @aad: the AAD, which must name version @known_version + 1
 * @ciphertext: the ciphertext with its tag
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Creates or updates one encrypted item (`PUT /v1/kv/{ns}/{itemId}`). The server must
 * answer with version @known_version + 1. A stale @known_version, or a create of an
 * existing item, fails with %BB_SYNC_ERROR_API and status 412 (or 428).
 *
 * Since: 0.1
 */
void
bb_client_put_item_async (BbClient *self, const char *namespace_id, const char *item_id,
                          guint64 known_version, GBytes *nonce, GBytes *aad, GBytes *ciphertext,
                          GCancellable *cancellable, GAsyncReadyCallback callback,
                          gpointer user_data)
{
  BbMsgPutItemRequest msg = { 0 };
  GError *error = NULL;
  BbClientRequest *req;

  g_return_if_fail (BB_IS_CLIENT (self));
  g_return_if_fail (nonce != NULL);
  g_return_if_fail (aad != NULL);
  g_return_if_fail (ciphertext != NULL);

  bb_client_check_id_arg (namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, "namespaceId", &error);
  bb_client_check_id_arg (item_id, BB_PROTOCOL_ITEM_ID_SIZE, "itemId", &error);
  if (error == NULL && known_version == G_MAXUINT64)
    g_set_error (&error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                 _ ("known_version: out of range"));
  if (bb_client_report_bad_arguments (self, bb_client_put_item_async, callback, user_data, error))
    return;

  msg.nonce = bb_protocol_base64_encode (nonce);
  msg.aad = bb_protocol_base64_encode (aad);
  msg.ciphertext = bb_protocol_base64_encode (ciphertext);

  req = bb_client_request_new ("PUT", "/v1/kv/{ns}/{itemId}", TRUE, handle_put_item, g_free,
                               namespace_id, item_id, NULL);
  req->expect.namespace_id = g_strdup (namespace_id);
  req->expect.item_id = g_strdup (item_id);
  req->expect.version = known_version + 1;
  if (known_version != 0)
    req->if_match = bb_protocol_etag (known_version);
  bb_client_request_take_body (req, bb_msg_put_item_request_to_json (&msg));
  bb_msg_put_item_request_clear (&msg);
  bb_client_request_send (self, req, bb_client_put_item_async, cancellable, callback, user_data);
}

/**
 * bb_client_put_item_finish:
 * @self: a [class@BbSync.Client]
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Client.put_item_async]. The new version is always the known version
 * plus one.
 *
 * Errors: %BB_SYNC_ERROR_INVALID_INPUT when the namespace ID or item ID is malformed or the
 * known version is %G_MAXUINT64 (nothing is sent); %BB_SYNC_ERROR_API with status 412 (or 428)
 * when the known version is stale or the item to create exists; %BB_SYNC_ERROR_PROTOCOL when
 * the answer names another namespace, item or version; otherwise %BB_SYNC_ERROR_API when the
 * server answers with an error status (read it back with
 * [func@BbSync.SyncError.get_http_status]), %G_IO_ERROR_TIMED_OUT when the request outlasts
 * [property@BbSync.Client:timeout], %G_IO_ERROR_CANCELLED when it was cancelled; network and
 * TLS errors pass through unchanged.
 *
 * Returns: the item's new version, or 0 on error
 *
 * Since: 0.1
 */
guint64
bb_client_put_item_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  g_autofree guint64 *version
      = bb_client_request_finish (self, result, bb_client_put_item_async, G_STRFUNC, error);

  return version != NULL ? *version : 0;
}
