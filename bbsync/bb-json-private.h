/* bb-json-private.h: the strict JSON reader and the Go-compatible JSON writer (not installed)
 *
 * The protocol messages read their bodies with the strict reader and write them with the
 * writer. The engine's JSON codec (bb-codec-json.c) reads into a GVariant with a reader of
 * its own, since it follows Go's lenient decoder where the messages refuse, and shares the
 * string writer.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* --- strict reader (bb-json-reader.c) --- */

/* Pieces of JSON scanning that the codec's reader shares (see bb-json-reader.c). */
const char *bb_json_skip_ws (const char *p, const char *end);
const char *bb_json_plain_run (const char *p, const char *end);
char bb_json_short_escape (char c);
int bb_json_hex4 (const char *p);

/* Marks of integer nodes whose JsonNode value is not their JSON value. */
typedef enum
{
  BB_JSON_MARK_NONE,
  BB_JSON_MARK_BIG_UNSIGNED, /* in (G_MAXINT64, G_MAXUINT64]: the node holds the bits */
  BB_JSON_MARK_OUT_OF_RANGE, /* beyond 64 bits: the node holds 0 */
  BB_JSON_MARK_NEGATIVE_ZERO /* "-0": an int64 0, but not a uint64 (as in Go) */
} BbJsonNumberMark;

typedef struct
{
  JsonNode *root;
  GHashTable *marks; /* JsonNode * -> BbJsonNumberMark; NULL when there are none */
} BbJsonDoc;

/* Reads a body (at most BB_MSG_MAX_BODY_SIZE bytes) into @doc and returns its top-level
 * object, or NULL with a BB_SYNC_ERROR_PROTOCOL error starting with "body: ". Clear @doc
 * with bb_json_doc_clear() after a success; after a failure it is already clear. */
JsonObject *bb_json_doc_load (BbJsonDoc *doc, const char *data, gssize len, GError **error);
/* Wipes the strings of the tree (bodies carry tokens and secrets) and frees it. */
void bb_json_doc_clear (BbJsonDoc *doc);
BbJsonNumberMark bb_json_doc_mark (const BbJsonDoc *doc, JsonNode *node);

/* --- Go-compatible writer (bb-json-writer.c) --- */

/* Appends @str (NULL writes "") as a JSON string escaped exactly as Go's encoding/json
 * does: \b \f \n \r \t, other controls and < > & U+2028 U+2029 as lower-case \u00XX,
 * each invalid UTF-8 byte as \ufffd. @len is in bytes, or -1 if nul-terminated. */
void bb_json_append_string (GString *out, const char *str, gssize len);

/* Writes one JSON object into @out, or, with @out %NULL, only adds an upper bound of the
 * text's length to *@bound: a message carrying a secret is measured first, so that its
 * buffer can be sized once and never grow (see bb_json_write_secret()). */
typedef struct
{
  GString *out;
  gsize *bound;
  gboolean first;
} BbJsonWriter;

/* Writes the members of one object (@value is what it stands for). */
typedef void (*BbJsonWriteFunc) (BbJsonWriter *w, gconstpointer value);

void bb_json_writer_begin (BbJsonWriter *w);
char *bb_json_writer_finish (BbJsonWriter *w);
void bb_json_writer_begin_nested (BbJsonWriter *w, const BbJsonWriter *parent);
void bb_json_writer_end (BbJsonWriter *w);
void bb_json_writer_key (BbJsonWriter *w, const char *name);

/* Members as Go's encoding/json writes the field types of the same names. */
void bb_json_write_string (BbJsonWriter *w, const char *name, const char *value);
void bb_json_write_string_omitempty (BbJsonWriter *w, const char *name, const char *value);
void bb_json_write_string_nullable (BbJsonWriter *w, const char *name, const char *value);
void bb_json_write_int (BbJsonWriter *w, const char *name, gint64 value);
void bb_json_write_uint (BbJsonWriter *w, const char *name, guint64 value);
void bb_json_write_bool (BbJsonWriter *w, const char *name, gboolean value);
void bb_json_write_time (BbJsonWriter *w, const char *name, GDateTime *value);
void bb_json_write_time_nullable (BbJsonWriter *w, const char *name, GDateTime *value);
void bb_json_write_object_list (BbJsonWriter *w, const char *name, GPtrArray *list,
                                BbJsonWriteFunc write_element);

/* The text of the object whose members @write writes for @msg, in a buffer that never
 * grew: wipe it before freeing it. */
char *bb_json_write_secret (BbJsonWriteFunc write, gconstpointer msg);

G_END_DECLS
