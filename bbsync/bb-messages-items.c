/* bb-messages-items.c: the bodies of items and server status, protocol §6.19 to §6.22
 *
 * The items snapshot, one item and its upload, and the health and version answers:
 * one file per resource of the protocol, on the field readers and writer they share
 * (bb-message-fields.c).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "bb-i18n-private.h"

#include "bb-protocol.h"
#include "bb-message-fields-private.h"

/* ------------------------------------------------------------------------------------ */
/* §6.19 items snapshot                                                                 */

void
bb_msg_items_response_clear (BbMsgItemsResponse *msg)
{
  g_free (msg->namespace_id);
  g_clear_pointer (&msg->items, g_hash_table_unref);
  memset (msg, 0, sizeof *msg);
}

char *
bb_msg_items_response_to_json (const BbMsgItemsResponse *msg)
{
  GList *keys = bb_msg_sorted_keys (msg->items);
  BbJsonWriter w, m;

  bb_json_writer_begin (&w);
  bb_json_write_string (&w, "namespaceId", msg->namespace_id);
  bb_json_write_uint (&w, "namespaceHead", msg->namespace_head);
  bb_json_writer_key (&w, "items");
  bb_json_writer_begin_nested (&m, &w);
  for (GList *l = keys; l != NULL; l = l->next)
    {
      const guint64 *version = g_hash_table_lookup (msg->items, l->data);
      BbJsonWriter entry;

      bb_json_writer_key (&m, l->data);
      bb_json_writer_begin_nested (&entry, &m);
      bb_json_write_uint (&entry, "version", version != NULL ? *version : 0);
      bb_json_writer_end (&entry);
    }
  bb_json_writer_end (&m);
  g_list_free (keys);
  return bb_json_writer_finish (&w);
}

static gboolean
bb_msg_items_response_read (const BbJsonDoc *doc, JsonObject *o, BbMsgItemsResponse *msg,
                            GError **error)
{
  JsonObject *map;
  JsonObjectIter iter;
  const char *key;
  JsonNode *value;

  msg->items = bb_msg_new_uint64_map ();
  if (!bb_msg_req_lower_hex (o, NULL, "namespaceId", BB_PROTOCOL_NAMESPACE_ID_SIZE,
                             &msg->namespace_id, error)
      || !bb_msg_req_uint64 (doc, o, NULL, "namespaceHead", &msg->namespace_head, error)
      || !bb_msg_opt_map (o, NULL, "items", &map, error))
    return FALSE;
  if (map == NULL)
    return TRUE;
  json_object_iter_init (&iter, map);
  while (json_object_iter_next (&iter, &key, &value))
    {
      g_autofree char *path = NULL;
      guint64 version;

      if (!bb_protocol_validate_lower_hex (key, BB_PROTOCOL_ITEM_ID_SIZE, "items", NULL))
        return bb_msg_field_error (error, NULL, "items",
                                   _ ("expected keys of lower-case hex of %u bytes"),
                                   (guint)BB_PROTOCOL_ITEM_ID_SIZE);
      path = g_strdup_printf ("items.%s", key);
      if (!JSON_NODE_HOLDS_OBJECT (value))
        return bb_msg_field_error (error, path, NULL, "%s", _ ("expected an object"));
      if (!bb_msg_req_uint64 (doc, json_node_get_object (value), path, "version", &version, error))
        return FALSE;
      g_hash_table_insert (msg->items, g_strdup (key), g_memdup2 (&version, sizeof version));
    }
  return TRUE;
}
BB_MSG_DEFINE_PARSE (BbMsgItemsResponse, bb_msg_items_response)

/* ------------------------------------------------------------------------------------ */
/* §6.20, §6.21 items                                                                   */

void
bb_msg_item_response_clear (BbMsgItemResponse *msg)
{
  g_free (msg->namespace_id);
  g_free (msg->item_id);
  g_free (msg->nonce);
  g_free (msg->aad);
  g_free (msg->ciphertext);
  memset (msg, 0, sizeof *msg);
}

char *
bb_msg_item_response_to_json (const BbMsgItemResponse *msg)
{
  BbJsonWriter w;

  bb_json_writer_begin (&w);
  bb_json_write_string (&w, "namespaceId", msg->namespace_id);
  bb_json_write_string (&w, "itemId", msg->item_id);
  bb_json_write_uint (&w, "version", msg->version);
  bb_json_write_string (&w, "nonce", msg->nonce);
  bb_json_write_string (&w, "aad", msg->aad);
  bb_json_write_string (&w, "ciphertext", msg->ciphertext);
  return bb_json_writer_finish (&w);
}

static gboolean
bb_msg_item_response_read (const BbJsonDoc *doc, JsonObject *o, BbMsgItemResponse *msg,
                           GError **error)
{
  return bb_msg_req_lower_hex (o, NULL, "namespaceId", BB_PROTOCOL_NAMESPACE_ID_SIZE,
                               &msg->namespace_id, error)
         && bb_msg_req_lower_hex (o, NULL, "itemId", BB_PROTOCOL_ITEM_ID_SIZE, &msg->item_id, error)
         && bb_msg_req_uint64 (doc, o, NULL, "version", &msg->version, error)
         && bb_msg_req_base64 (o, NULL, "nonce", BB_PROTOCOL_NONCE_SIZE, &msg->nonce, error)
         && bb_msg_req_base64 (o, NULL, "aad", -1, &msg->aad, error)
         && bb_msg_req_base64 (o, NULL, "ciphertext", -1, &msg->ciphertext, error);
}
BB_MSG_DEFINE_PARSE (BbMsgItemResponse, bb_msg_item_response)

void
bb_msg_put_item_request_clear (BbMsgPutItemRequest *msg)
{
  g_free (msg->nonce);
  g_free (msg->aad);
  g_free (msg->ciphertext);
  memset (msg, 0, sizeof *msg);
}

char *
bb_msg_put_item_request_to_json (const BbMsgPutItemRequest *msg)
{
  BbJsonWriter w;

  bb_json_writer_begin (&w);
  bb_json_write_string (&w, "nonce", msg->nonce);
  bb_json_write_string (&w, "aad", msg->aad);
  bb_json_write_string (&w, "ciphertext", msg->ciphertext);
  return bb_json_writer_finish (&w);
}

static gboolean
bb_msg_put_item_request_read (const BbJsonDoc *doc, JsonObject *o, BbMsgPutItemRequest *msg,
                              GError **error)
{
  return bb_msg_req_base64 (o, NULL, "nonce", BB_PROTOCOL_NONCE_SIZE, &msg->nonce, error)
         && bb_msg_req_base64 (o, NULL, "aad", -1, &msg->aad, error)
         && bb_msg_req_base64 (o, NULL, "ciphertext", -1, &msg->ciphertext, error);
}
BB_MSG_DEFINE_PARSE (BbMsgPutItemRequest, bb_msg_put_item_request)

void
bb_msg_put_item_response_clear (BbMsgPutItemResponse *msg)
{
  g_free (msg->namespace_id);
  g_free (msg->item_id);
  memset (msg, 0, sizeof *msg);
}

char *
bb_msg_put_item_response_to_json (const BbMsgPutItemResponse *msg)
{
  BbJsonWriter w;

  bb_json_writer_begin (&w);
  bb_json_write_string (&w, "namespaceId", msg->namespace_id);
  bb_json_write_string (&w, "itemId", msg->item_id);
  bb_json_write_uint (&w, "version", msg->version);
  return bb_json_writer_finish (&w);
}

static gboolean
bb_msg_put_item_response_read (const BbJsonDoc *doc, JsonObject *o, BbMsgPutItemResponse *msg,
                               GError **error)
{
  return bb_msg_req_lower_hex (o, NULL, "namespaceId", BB_PROTOCOL_NAMESPACE_ID_SIZE,
                               &msg->namespace_id, error)
         && bb_msg_req_lower_hex (o, NULL, "itemId", BB_PROTOCOL_ITEM_ID_SIZE, &msg->item_id, error)
         && bb_msg_req_uint64 (doc, o, NULL, "version", &msg->version, error);
}
BB_MSG_DEFINE_PARSE (BbMsgPutItemResponse, bb_msg_put_item_response)

/* ------------------------------------------------------------------------------------ */
/* §6.22 health and version                                                             */

void
bb_msg_health_response_clear (BbMsgHealthResponse *msg)
{
  g_clear_pointer (&msg->status, g_free);
}

char *
bb_msg_health_response_to_json (const BbMsgHealthResponse *msg)
{
  BbJsonWriter w;

  bb_json_writer_begin (&w);
  bb_json_write_string (&w, "status", msg->status);
  return bb_json_writer_finish (&w);
}

static gboolean
bb_msg_health_response_read (const BbJsonDoc *doc, JsonObject *o, BbMsgHealthResponse *msg,
                             GError **error)
{
  return bb_msg_req_string (o, NULL, "status", &msg->status, error);
}
BB_MSG_DEFINE_PARSE (BbMsgHealthResponse, bb_msg_health_response)

void
bb_msg_version_response_clear (BbMsgVersionResponse *msg)
{
  g_clear_pointer (&msg->git_commit, g_free);
}

char *
bb_msg_version_response_to_json (const BbMsgVersionResponse *msg)
{
  BbJsonWriter w;

  bb_json_writer_begin (&w);
  bb_json_write_string (&w, "gitCommit", msg->git_commit);
  return bb_json_writer_finish (&w);
}

static gboolean
bb_msg_version_response_read (const BbJsonDoc *doc, JsonObject *o, BbMsgVersionResponse *msg,
                              GError **error)
{
  return bb_msg_req_string (o, NULL, "gitCommit", &msg->git_commit, error);
}
BB_MSG_DEFINE_PARSE (BbMsgVersionResponse, bb_msg_version_response)
