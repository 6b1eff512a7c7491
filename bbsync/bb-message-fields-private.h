/* bb-message-fields-private.h: what the files of the protocol messages share (not installed)
 *
 * The field readers check one member of a body as bb-protocol-messages-private.h promises
 * (strict types, exact sizes, a BB_SYNC_ERROR_PROTOCOL error naming the field); the rest
 * is the plumbing every message type uses. @prefix is the JSON path of @obj (NULL for
 * the body), @name the field.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "bb-json-private.h"
#include "bb-protocol-messages-private.h"

G_BEGIN_DECLS

/* Errors: "prefix.name: detail"; always returns FALSE. */
gboolean bb_msg_field_error (GError **error, const char *prefix, const char *name,
                             const char *format, ...) G_GNUC_PRINTF (4, 5);
char *bb_msg_field_path (const char *prefix, const char *name);

/* Strings */
gboolean bb_msg_req_string (JsonObject *obj, const char *prefix, const char *name, char **out,
                            GError **error);
gboolean bb_msg_opt_string (JsonObject *obj, const char *prefix, const char *name, char **out,
                            GError **error);
gboolean bb_msg_nullable_string (JsonObject *obj, const char *prefix, const char *name, char **out,
                                 GError **error);

/* Hex and base64 strings */
gboolean bb_msg_check_lower_hex (const char *text, gsize size, const char *prefix, const char *name,
                                 GError **error);
gboolean bb_msg_req_lower_hex (JsonObject *obj, const char *prefix, const char *name, gsize size,
                               char **out, GError **error);
gboolean bb_msg_req_hex (JsonObject *obj, const char *prefix, const char *name, gsize size,
                         char **out, GError **error);
gboolean bb_msg_check_base64 (const char *text, gssize size, const char *prefix, const char *name,
                              GError **error);
gboolean bb_msg_req_base64 (JsonObject *obj, const char *prefix, const char *name, gssize size,
                            char **out, GError **error);
gboolean bb_msg_req_base64url (JsonObject *obj, const char *prefix, const char *name, gsize size,
                               char **out, GError **error);

/* Numbers and booleans */
gboolean bb_msg_node_integer (const BbJsonDoc *doc, JsonNode *node, gboolean is_unsigned,
                              const char *prefix, const char *name, gint64 *out, GError **error);
gboolean bb_msg_req_int64 (const BbJsonDoc *doc, JsonObject *obj, const char *prefix,
                           const char *name, gint64 *out, GError **error);
gboolean bb_msg_opt_int64 (const BbJsonDoc *doc, JsonObject *obj, const char *prefix,
                           const char *name, gboolean *has, gint64 *out, GError **error);
gboolean bb_msg_req_uint64 (const BbJsonDoc *doc, JsonObject *obj, const char *prefix,
                            const char *name, guint64 *out, GError **error);
gboolean bb_msg_req_bool (JsonObject *obj, const char *prefix, const char *name, gboolean *out,
                          GError **error);
gboolean bb_msg_opt_bool (JsonObject *obj, const char *prefix, const char *name, gboolean *out,
                          GError **error);

/* Times */
gboolean bb_msg_req_time (JsonObject *obj, const char *prefix, const char *name, GDateTime **out,
                          GError **error);
gboolean bb_msg_nullable_time (JsonObject *obj, const char *prefix, const char *name,
                               GDateTime **out, GError **error);

/* Objects, lists and maps */
JsonObject *bb_msg_req_object (JsonObject *obj, const char *prefix, const char *name,
                               GError **error);
gboolean bb_msg_opt_map (JsonObject *obj, const char *prefix, const char *name, JsonObject **out,
                         GError **error);
/* Reads one element of a list from its object @o, whose JSON path is @path. */
typedef gboolean (*BbMsgReadFunc) (const BbJsonDoc *doc, JsonObject *o, const char *path,
                                   gpointer element, GError **error);
gboolean bb_msg_read_object_list (const BbJsonDoc *doc, JsonObject *o, const char *name,
                                  gsize element_size, BbMsgReadFunc read_element,
                                  GDestroyNotify free_element, GPtrArray **out, GError **error);
GHashTable *bb_msg_new_uint64_map (void);
GList *bb_msg_sorted_keys (GHashTable *table);

/* Plumbing */
void bb_msg_free_secret (char **text);

/* Defines T_parse() from a `static gboolean t_read (const BbJsonDoc *doc, JsonObject *o,
 * T *msg, GError **error)`. Every parse starts from a zeroed struct and leaves it cleared
 * on failure. */
#define BB_MSG_DEFINE_PARSE(T, t)                                                                  \
  gboolean t##_parse (T *msg, const char *data, gssize len, GError **error)                        \
  {                                                                                                \
    BbJsonDoc doc;                                                                                 \
    JsonObject *root;                                                                              \
    gboolean ok;                                                                                   \
                                                                                                   \
    g_return_val_if_fail (msg != NULL, FALSE);                                                     \
    g_return_val_if_fail (data != NULL || len == 0, FALSE);                                        \
    memset (msg, 0, sizeof *msg);                                                                  \
    root = bb_json_doc_load (&doc, data != NULL ? data : "", len, error);                          \
    if (root == NULL)                                                                              \
      return FALSE;                                                                                \
    ok = t##_read (&doc, root, msg, error);                                                        \
    bb_json_doc_clear (&doc);                                                                      \
    if (!ok)                                                                                       \
      t##_clear (msg);                                                                             \
    return ok;                                                                                     \
  }

G_END_DECLS
