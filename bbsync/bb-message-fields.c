/* bb-message-fields.c: the field readers and plumbing of the protocol messages
 *
 * What every message type of bb-protocol-messages-private.h uses to read and check its
 * members and to parse a body, and the {"error": ...} body that every endpoint may
 * answer; the message types themselves have files by resource (bb-messages-*.c).
 *
 * The functions keep no state and may run in a worker thread.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "bb-i18n-private.h"

#include "bb-crypto-private.h"
#include "bb-error.h"
#include "bb-protocol.h"
#include "bb-message-fields-private.h"

/* ------------------------------------------------------------------------------------ */
/* Errors                                                                               */

gboolean G_GNUC_PRINTF (4, 5) bb_msg_field_error (GError **error, const char *prefix,
                                                  const char *name, const char *format, ...)
{
  g_autofree char *detail = NULL;
  va_list args;

  va_start (args, format);
  detail = g_strdup_vprintf (format, args);
  va_end (args);

  if (prefix != NULL && name != NULL)
    g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL, "%s.%s: %s", prefix, name, detail);
  else
    g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL, "%s: %s",
                 name != NULL ? name : (prefix != NULL ? prefix : "body"), detail);
  return FALSE;
}

char *
bb_msg_field_path (const char *prefix, const char *name)
{
  if (prefix == NULL)
    return g_strdup (name);
  return g_strdup_printf ("%s.%s", prefix, name);
}

/* ------------------------------------------------------------------------------------ */
/* Field readers. @prefix is the JSON path of @obj (NULL for the body), @name the field. */

static JsonNode *
member (JsonObject *obj, const char *name)
{
  return json_object_get_member (obj, name);
}

static gboolean
missing (JsonNode *node, const char *prefix, const char *name, GError **error)
{
  if (node != NULL)
    return FALSE;
  bb_msg_field_error (error, prefix, name, "%s", _ ("missing"));
  return TRUE;
}

static gboolean
node_is_string (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING;
}

gboolean
bb_msg_req_string (JsonObject *obj, const char *prefix, const char *name, char **out,
                   GError **error)
{
  JsonNode *node = member (obj, name);

  if (missing (node, prefix, name, error))
    return FALSE;
  if (!node_is_string (node))
    return bb_msg_field_error (error, prefix, name, "%s", _ ("expected a string"));
  *out = g_strdup (json_node_get_string (node));
  return TRUE;
}

/* omitempty: absent, null and "" read as NULL. */
gboolean
bb_msg_opt_string (JsonObject *obj, const char *prefix, const char *name, char **out,
                   GError **error)
{
  JsonNode *node = member (obj, name);

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!node_is_string (node))
    return bb_msg_field_error (error, prefix, name, "%s", _ ("expected a string"));
  if (*json_node_get_string (node) != '\0')
    *out = g_strdup (json_node_get_string (node));
  return TRUE;
}

/* A Go *string: the key is present, the value null or a string. */
gboolean
bb_msg_nullable_string (JsonObject *obj, const char *prefix, const char *name, char **out,
                        GError **error)
{
  JsonNode *node = member (obj, name);

  if (missing (node, prefix, name, error))
    return FALSE;
  if (JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!node_is_string (node))
    return bb_msg_field_error (error, prefix, name, "%s", _ ("expected a string or null"));
  *out = g_strdup (json_node_get_string (node));
  return TRUE;
}

gboolean
bb_msg_check_lower_hex (const char *text, gsize size, const char *prefix, const char *name,
                        GError **error)
{
  g_autofree char *path = bb_msg_field_path (prefix, name);

  if (bb_protocol_validate_lower_hex (text, size, path, NULL))
    return TRUE;
  return bb_msg_field_error (error, prefix, name, _ ("expected lower-case hex of %u bytes"),
                             (guint)size);
}

gboolean
bb_msg_req_lower_hex (JsonObject *obj, const char *prefix, const char *name, gsize size, char **out,
                      GError **error)
{
  if (!bb_msg_req_string (obj, prefix, name, out, error))
    return FALSE;
  return bb_msg_check_lower_hex (*out, size, prefix, name, error);
}

/* Hex of any case (intentSignature, spec §2.1). */
gboolean
bb_msg_req_hex (JsonObject *obj, const char *prefix, const char *name, gsize size, char **out,
                GError **error)
{
  g_autofree char *path = bb_msg_field_path (prefix, name);
  g_autoptr (GBytes) bytes = NULL;

  if (!bb_msg_req_string (obj, prefix, name, out, error))
    return FALSE;
  bytes = bb_protocol_hex_decode (*out, size, path, NULL);
  if (bytes == NULL)
    return bb_msg_field_error (error, prefix, name, _ ("expected hex of %u bytes"), (guint)size);
  return TRUE;
}

gboolean
bb_msg_check_base64 (const char *text, gssize size, const char *prefix, const char *name,
                     GError **error)
{
  g_autofree char *path = bb_msg_field_path (prefix, name);
  g_autoptr (GBytes) bytes = bb_protocol_base64_decode (text, size, path, NULL);

  if (bytes != NULL)
    return TRUE;
  if (size < 0)
    return bb_msg_field_error (error, prefix, name, "%s", _ ("expected canonical base64"));
  return bb_msg_field_error (error, prefix, name, _ ("expected canonical base64 of %u bytes"),
                             (guint)size);
}

/* Standard padded base64, canonical; @size is the decoded size or -1 for any. */
gboolean
bb_msg_req_base64 (JsonObject *obj, const char *prefix, const char *name, gssize size, char **out,
                   GError **error)
{
  if (!bb_msg_req_string (obj, prefix, name, out, error))
    return FALSE;
  return bb_msg_check_base64 (*out, size, prefix, name, error);
}

/* Unpadded base64url of exactly @size bytes; the decoded copy may be a secret. */
gboolean
bb_msg_req_base64url (JsonObject *obj, const char *prefix, const char *name, gsize size, char **out,
                      GError **error)
{
  g_autofree char *path = bb_msg_field_path (prefix, name);
  GBytes *bytes;

  if (!bb_msg_req_string (obj, prefix, name, out, error))
    return FALSE;
  bytes = bb_protocol_base64url_decode (*out, size, path, NULL);
  if (bytes == NULL)
    return bb_msg_field_error (error, prefix, name, _ ("expected unpadded base64url of %u bytes"),
                               (guint)size);
  /* Secret bytes: wiped as they are freed. */
  g_bytes_unref (bytes);
  return TRUE;
}

/* The integer in @node, exactly; @is_unsigned selects the uint64 range. */
gboolean
bb_msg_node_integer (const BbJsonDoc *doc, JsonNode *node, gboolean is_unsigned, const char *prefix,
                     const char *name, gint64 *out, GError **error)
{
  BbJsonNumberMark mark;

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return bb_msg_field_error (error, prefix, name, "%s",
                               is_unsigned ? _ ("expected a non-negative integer")
                                           : _ ("expected an integer"));
  mark = bb_json_doc_mark (doc, node);
  if (mark == BB_JSON_MARK_OUT_OF_RANGE)
    return bb_msg_field_error (error, prefix, name, "%s", _ ("integer out of range"));
  if (is_unsigned && mark == BB_JSON_MARK_NEGATIVE_ZERO)
    return bb_msg_field_error (error, prefix, name, "%s", _ ("expected a non-negative integer"));
  *out = json_node_get_int (node);
  if (is_unsigned && *out < 0 && mark != BB_JSON_MARK_BIG_UNSIGNED)
    return bb_msg_field_error (error, prefix, name, "%s", _ ("expected a non-negative integer"));
  if (!is_unsigned && mark == BB_JSON_MARK_BIG_UNSIGNED)
    return bb_msg_field_error (error, prefix, name, "%s", _ ("integer out of range"));
  return TRUE;
}

gboolean
bb_msg_req_int64 (const BbJsonDoc *doc, JsonObject *obj, const char *prefix, const char *name,
                  gint64 *out, GError **error)
{
  JsonNode *node = member (obj, name);

  if (missing (node, prefix, name, error))
    return FALSE;
  return bb_msg_node_integer (doc, node, FALSE, prefix, name, out, error);
}

gboolean
bb_msg_opt_int64 (const BbJsonDoc *doc, JsonObject *obj, const char *prefix, const char *name,
                  gboolean *has, gint64 *out, GError **error)
{
  JsonNode *node = member (obj, name);

  *has = FALSE;
  if (node == NULL)
    return TRUE;
  if (!bb_msg_node_integer (doc, node, FALSE, prefix, name, out, error))
    return FALSE;
  *has = TRUE;
  return TRUE;
}

gboolean
bb_msg_req_uint64 (const BbJsonDoc *doc, JsonObject *obj, const char *prefix, const char *name,
                   guint64 *out, GError **error)
{
  JsonNode *node = member (obj, name);
  gint64 v;

  if (missing (node, prefix, name, error))
    return FALSE;
  if (!bb_msg_node_integer (doc, node, TRUE, prefix, name, &v, error))
    return FALSE;
  *out = (guint64)v;
  return TRUE;
}

static gboolean
node_bool (JsonNode *node, const char *prefix, const char *name, gboolean *out, GError **error)
{
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return bb_msg_field_error (error, prefix, name, "%s", _ ("expected a boolean"));
  *out = json_node_get_boolean (node);
  return TRUE;
}

gboolean
bb_msg_req_bool (JsonObject *obj, const char *prefix, const char *name, gboolean *out,
                 GError **error)
{
  JsonNode *node = member (obj, name);

  if (missing (node, prefix, name, error))
    return FALSE;
  return node_bool (node, prefix, name, out, error);
}

/* Absent or null reads as FALSE. */
gboolean
bb_msg_opt_bool (JsonObject *obj, const char *prefix, const char *name, gboolean *out,
                 GError **error)
{
  JsonNode *node = member (obj, name);

  *out = FALSE;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  return node_bool (node, prefix, name, out, error);
}

static gboolean
node_time (JsonNode *node, const char *prefix, const char *name, GDateTime **out, GError **error)
{
  g_autofree char *path = NULL;

  if (!node_is_string (node))
    return bb_msg_field_error (error, prefix, name, "%s", _ ("expected an RFC 3339 timestamp"));
  path = bb_msg_field_path (prefix, name);
  *out = bb_msg_parse_time (json_node_get_string (node), path, error);
  return *out != NULL;
}

gboolean
bb_msg_req_time (JsonObject *obj, const char *prefix, const char *name, GDateTime **out,
                 GError **error)
{
  JsonNode *node = member (obj, name);

  if (missing (node, prefix, name, error))
    return FALSE;
  return node_time (node, prefix, name, out, error);
}

gboolean
bb_msg_nullable_time (JsonObject *obj, const char *prefix, const char *name, GDateTime **out,
                      GError **error)
{
  JsonNode *node = member (obj, name);

  if (missing (node, prefix, name, error))
    return FALSE;
  if (JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  return node_time (node, prefix, name, out, error);
}

JsonObject *
bb_msg_req_object (JsonObject *obj, const char *prefix, const char *name, GError **error)
{
  JsonNode *node = member (obj, name);

  if (missing (node, prefix, name, error))
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return bb_msg_field_error (error, prefix, name, "%s", _ ("expected an object")), NULL;
  return json_node_get_object (node);
}

/* A list: absent or null reads as empty (*out = NULL). */
static gboolean
opt_array (JsonObject *obj, const char *prefix, const char *name, JsonArray **out, GError **error)
{
  JsonNode *node = member (obj, name);

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return bb_msg_field_error (error, prefix, name, "%s", _ ("expected an array"));
  *out = json_node_get_array (node);
  return TRUE;
}

/* A map: absent or null reads as empty (*out = NULL). */
gboolean
bb_msg_opt_map (JsonObject *obj, const char *prefix, const char *name, JsonObject **out,
                GError **error)
{
  JsonNode *node = member (obj, name);

  *out = NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return bb_msg_field_error (error, prefix, name, "%s", _ ("expected an object"));
  *out = json_node_get_object (node);
  return TRUE;
}

/* The element @i of a list as an object, with its path in *path. */
static JsonObject *
array_object (JsonArray *array, guint i, const char *prefix, const char *name, char **path,
              GError **error)
{
  JsonNode *node = json_array_get_element (array, i);
  g_autofree char *base = bb_msg_field_path (prefix, name);

  *path = g_strdup_printf ("%s[%u]", base, i);
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return bb_msg_field_error (error, *path, NULL, "%s", _ ("expected an object")), NULL;
  return json_node_get_object (node);
}

/* A Go slice of structs: absent or null reads as empty. Each element is allocated zeroed
 * (@element_size bytes) and added to *@out before @read_element fills it from its object,
 * so that @free_element frees it on a failure too; *@out is set either way. */
gboolean
bb_msg_read_object_list (const BbJsonDoc *doc, JsonObject *o, const char *name, gsize element_size,
                         BbMsgReadFunc read_element, GDestroyNotify free_element, GPtrArray **out,
                         GError **error)
{
  JsonArray *array;

  *out = g_ptr_array_new_with_free_func (free_element);
  if (!opt_array (o, NULL, name, &array, error))
    return FALSE;
  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      g_autofree char *path = NULL;
      JsonObject *e = array_object (array, i, NULL, name, &path, error);
      gpointer element;

      if (e == NULL)
        return FALSE;
      element = g_malloc0 (element_size);
      g_ptr_array_add (*out, element);
      if (!read_element (doc, e, path, element, error))
        return FALSE;
    }
  return TRUE;
}

GHashTable *
bb_msg_new_uint64_map (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

/* Map keys in byte order, as Go writes them. */
GList *
bb_msg_sorted_keys (GHashTable *table)
{
  if (table == NULL)
    return NULL;
  return g_list_sort (g_hash_table_get_keys (table), (GCompareFunc)strcmp);
}

/* ------------------------------------------------------------------------------------ */
/* Message plumbing                                                                     */

/* Frees a string that may hold a secret (token, invite server secret). */
void
bb_msg_free_secret (char **text)
{
  if (*text != NULL)
    {
      bb_crypto_wipe (*text, strlen (*text));
      g_clear_pointer (text, g_free);
    }
}

/* ------------------------------------------------------------------------------------ */
/* Checking member names                                                                */

static gboolean
check_member_names (JsonObject *object, const char *const *allowed, const char *prefix,
                    GError **error)
{
  g_autoptr (GList) members = json_object_get_members (object);

  for (GList *l = members; l != NULL; l = l->next)
    {
      if (!g_strv_contains (allowed, l->data))
        {
          g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL,
                       _ ("body: %s%s%s: unknown field"), prefix != NULL ? prefix : "",
                       prefix != NULL ? "." : "", (const char *)l->data);
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
bb_msg_check_known_fields (const char *data, gssize len, const char *const *allowed,
                           const char *nested_field, const char *const *nested_allowed,
                           GError **error)
{
  BbJsonDoc doc;
  JsonObject *object;
  JsonNode *nested;
  gboolean ok;

  object = bb_json_doc_load (&doc, data, len, error);
  if (object == NULL)
    return FALSE;
  ok = check_member_names (object, allowed, NULL, error);
  if (ok && nested_field != NULL)
    {
      nested = json_object_get_member (object, nested_field);
      /* A missing or mistyped nested object is the message parser's to report. */
      if (nested != NULL && JSON_NODE_HOLDS_OBJECT (nested))
        ok = check_member_names (json_node_get_object (nested), nested_allowed, nested_field,
                                 error);
    }
  bb_json_doc_clear (&doc);
  return ok;
}

/* ------------------------------------------------------------------------------------ */
/* {"error": ...}                                                                       */

void
bb_msg_error_clear (BbMsgError *msg)
{
  g_clear_pointer (&msg->error, g_free);
}

char *
bb_msg_error_to_json (const BbMsgError *msg)
{
  BbJsonWriter w;

  bb_json_writer_begin (&w);
  bb_json_write_string (&w, "error", msg->error);
  return bb_json_writer_finish (&w);
}

static gboolean
bb_msg_error_read (const BbJsonDoc *doc, JsonObject *o, BbMsgError *msg, GError **error)
{
  return bb_msg_req_string (o, NULL, "error", &msg->error, error);
}
BB_MSG_DEFINE_PARSE (BbMsgError, bb_msg_error)
