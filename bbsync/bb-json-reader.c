/* bb-json-reader.c: the strict JSON reader of protocol bodies
 *
 * General machinery, apart from the message types: it reads a body into a bounded
 * json-glib tree, and the field readers (bb-message-fields.c) then check its members.
 *
 * Reading: json-glib's own JsonParser is lenient (it accepts comments, single quotes,
 * hexadecimal and zero-prefixed numbers, raw control characters, lone surrogates, and it
 * silently wraps integers beyond 64 bits), so bodies are read by a small strict RFC 8259
 * reader below that builds a json-glib JsonNode tree with bounded size, depth and value
 * count. Unsigned integers above G_MAXINT64 and out-of-range integers cannot be held
 * exactly by a JsonNode; the reader records them in a side table so that uint64 fields
 * keep their full range and everything else reports "out of range".
 *
 * Where this is stricter than Go's decoder, on purpose (a Go peer never writes these):
 * field names match exactly (Go ignores case); required fields must be present and not
 * null (Go leaves a zero value); strings with invalid UTF-8, lone surrogates or U+0000 are
 * refused (Go substitutes U+FFFD or keeps the NUL); a body is limited in size, depth,
 * value count and members per object. Where Go is followed over the spec: only the first
 * JSON value of a body is read and what follows is ignored (json.Decoder); a repeated
 * member name keeps the last value; a time fraction may have more than nine digits
 * (GDateTime keeps six, truncated); "-0" is an int64 but not a uint64.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "bb-i18n-private.h"

#include "bb-crypto-private.h"
#include "bb-error.h"
#include "bb-json-private.h"
#include "bb-protocol-messages-private.h"

/* Limits of a body; the size limit is shared with the client, which stops reading
 * there. */
#define MAX_BODY_SIZE BB_MSG_MAX_BODY_SIZE
#define MAX_DEPTH 64
#define MAX_VALUE_COUNT (256 * 1024)
/* Bounds the cost of hash collisions in one object; an items snapshot has at most 10000. */
#define MAX_OBJECT_MEMBERS 16384

/* ------------------------------------------------------------------------------------ */
/* Scanning, shared with the JSON codec's reader                                        */

/* bb_json_skip_ws:
 * @p: where to start
 * @end: the end of the text
 *
 * Returns: the first position from @p on that is not JSON whitespace (space, tab, line
 * feed, carriage return), or @end
 */
const char *
bb_json_skip_ws (const char *p, const char *end)
{
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
    p++;
  return p;
}

/* bb_json_plain_run:
 * @p: a position inside a JSON string
 * @end: the end of the text
 *
 * Returns: the end of the run from @p of characters that stand for themselves in a JSON
 * string (printable ASCII but `"` and `\`), so that a reader can copy it in one go
 */
const char *
bb_json_plain_run (const char *p, const char *end)
{
  while (p < end && (guchar)*p >= 0x20 && (guchar)*p < 0x80 && *p != '"' && *p != '\\')
    p++;
  return p;
}

/* bb_json_short_escape:
 * @c: the character after a backslash in a JSON string
 *
 * Returns: the character that `\`@c stands for (`"`, `\`, `/`, backspace, form feed, line
 * feed, carriage return, tab), or `\0` if @c makes no one-character escape (`u` included)
 */
char
bb_json_short_escape (char c)
{
  switch (c)
    {
      case '"':
      case '\\':
      case '/':
        return c;
      case 'b':
        return '\b';
      case 'f':
        return '\f';
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 't':
        return '\t';
      default:
        return '\0';
    }
}

/* bb_json_hex4:
 * @p: four bytes of text, the digits of a `\u` escape
 *
 * Returns: the code unit the four hex digits (of either case) at @p stand for, or -1
 */
int
bb_json_hex4 (const char *p)
{
  int v = 0;

  for (int i = 0; i < 4; i++)
    {
      int h = g_ascii_xdigit_value (p[i]);

      if (h < 0)
        return -1;
      v = (v << 4) | h;
    }
  return v;
}

/* ------------------------------------------------------------------------------------ */
/* Strict reader                                                                        */

typedef struct
{
  const char *start;
  const char *p;
  const char *end;
  guint depth;
  guint n_values;
  GString *scratch;
  BbJsonDoc *doc;
  GError **error;
} Reader;

static gboolean G_GNUC_PRINTF (2, 3) reader_error (Reader *r, const char *format, ...)
{
  g_autofree char *detail = NULL;
  va_list args;

  va_start (args, format);
  detail = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (r->error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL,
               _ ("body: invalid JSON at byte %zu: %s"), (gsize)(r->p - r->start), detail);
  return FALSE;
}

static void
skip_ws (Reader *r)
{
  r->p = bb_json_skip_ws (r->p, r->end);
}

BbJsonNumberMark
bb_json_doc_mark (const BbJsonDoc *doc, JsonNode *node)
{
  if (doc == NULL || doc->marks == NULL)
    return BB_JSON_MARK_NONE;
  return GPOINTER_TO_INT (g_hash_table_lookup (doc->marks, node));
}

static void
doc_set_mark (BbJsonDoc *doc, JsonNode *node, BbJsonNumberMark mark)
{
  if (doc->marks == NULL)
    doc->marks = g_hash_table_new (NULL, NULL);
  g_hash_table_insert (doc->marks, node, GINT_TO_POINTER (mark));
}

static gboolean
read_hex4 (Reader *r, gunichar *out)
{
  int v;

  if (r->end - r->p < 4)
    return reader_error (r, _ ("truncated \\u escape"));
  v = bb_json_hex4 (r->p);
  if (v < 0)
    return reader_error (r, _ ("invalid \\u escape"));
  r->p += 4;
  *out = (gunichar)v;
  return TRUE;
}

/* Reads a string at r->p (on the opening quote) into r->scratch. */
static gboolean
read_string (Reader *r)
{
  g_string_truncate (r->scratch, 0);
  r->p++;
  for (;;)
    {
      const char *run = r->p;
      guchar c;

      /* Plain ASCII runs are copied in one go. */
      r->p = bb_json_plain_run (r->p, r->end);
      g_string_append_len (r->scratch, run, r->p - run);

      if (r->p >= r->end)
        return reader_error (r, _ ("unterminated string"));
      c = (guchar)*r->p;
      if (c == '"')
        {
          r->p++;
          return TRUE;
        }
      if (c < 0x20)
        return reader_error (r, _ ("control character in string"));
      if (c == '\\')
        {
          gunichar cp;

          r->p++;
          if (r->p >= r->end)
            return reader_error (r, _ ("unterminated string"));
          c = (guchar)*r->p++;
          if (c != 'u')
            {
              char unescaped = bb_json_short_escape ((char)c);

              if (unescaped == '\0')
                {
                  r->p--;
                  return reader_error (r, _ ("invalid escape"));
                }
              g_string_append_c (r->scratch, unescaped);
              continue;
            }
          if (!read_hex4 (r, &cp))
            return FALSE;
          if (cp >= 0xd800 && cp <= 0xdbff)
            {
              gunichar low;

              if (r->end - r->p < 2 || r->p[0] != '\\' || r->p[1] != 'u')
                return reader_error (r, _ ("unpaired surrogate"));
              r->p += 2;
              if (!read_hex4 (r, &low))
                return FALSE;
              if (low < 0xdc00 || low > 0xdfff)
                return reader_error (r, _ ("unpaired surrogate"));
              cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
            }
          else if (cp >= 0xdc00 && cp <= 0xdfff)
            return reader_error (r, _ ("unpaired surrogate"));
          else if (cp == 0)
            /* A C string cannot hold it, and no protocol value contains it. */
            return reader_error (r, _ ("NUL character in string"));
          g_string_append_unichar (r->scratch, cp);
        }
      else
        {
          gunichar cp = g_utf8_get_char_validated (r->p, r->end - r->p);
          if (cp == (gunichar)-1 || cp == (gunichar)-2)
            return reader_error (r, _ ("invalid UTF-8"));
          run = r->p;
          r->p = g_utf8_next_char (r->p);
          g_string_append_len (r->scratch, run, r->p - run);
        }
    }
}

static JsonNode *read_value (Reader *r);

static JsonNode *
read_number (Reader *r)
{
  const char *start = r->p;
  gboolean negative = FALSE, is_integer = TRUE, overflow = FALSE;
  guint64 magnitude = 0;
  JsonNode *node;

  if (*r->p == '-')
    {
      negative = TRUE;
      r->p++;
    }
  if (r->p >= r->end || !g_ascii_isdigit (*r->p))
    return reader_error (r, _ ("invalid number")), NULL;
  if (*r->p == '0')
    {
      r->p++;
      if (r->p < r->end && g_ascii_isdigit (*r->p))
        return reader_error (r, _ ("leading zero in number")), NULL;
    }
  else
    {
      while (r->p < r->end && g_ascii_isdigit (*r->p))
        {
          guint d = (guint)(*r->p - '0');
          if (magnitude > (G_MAXUINT64 - d) / 10)
            overflow = TRUE;
          else
            magnitude = magnitude * 10 + d;
          r->p++;
        }
    }
  if (r->p < r->end && *r->p == '.')
    {
      is_integer = FALSE;
      r->p++;
      if (r->p >= r->end || !g_ascii_isdigit (*r->p))
        return reader_error (r, _ ("invalid number")), NULL;
      while (r->p < r->end && g_ascii_isdigit (*r->p))
        r->p++;
    }
  if (r->p < r->end && (*r->p == 'e' || *r->p == 'E'))
    {
      is_integer = FALSE;
      r->p++;
      if (r->p < r->end && (*r->p == '+' || *r->p == '-'))
        r->p++;
      if (r->p >= r->end || !g_ascii_isdigit (*r->p))
        return reader_error (r, _ ("invalid number")), NULL;
      while (r->p < r->end && g_ascii_isdigit (*r->p))
        r->p++;
    }

  node = json_node_alloc ();
  if (!is_integer)
    {
      /* Kept only so that a field reader can say "expected an integer". */
      g_autofree char *text = g_strndup (start, r->p - start);
      json_node_init_double (node, g_ascii_strtod (text, NULL));
    }
  else if (overflow)
    {
      json_node_init_int (node, 0);
      doc_set_mark (r->doc, node, BB_JSON_MARK_OUT_OF_RANGE);
    }
  else if (negative)
    {
      if (magnitude > (guint64)G_MAXINT64 + 1)
        {
          json_node_init_int (node, 0);
          doc_set_mark (r->doc, node, BB_JSON_MARK_OUT_OF_RANGE);
        }
      else
        {
          json_node_init_int (node, magnitude == (guint64)G_MAXINT64 + 1 ? G_MININT64
                                                                         : -(gint64)magnitude);
          if (magnitude == 0)
            doc_set_mark (r->doc, node, BB_JSON_MARK_NEGATIVE_ZERO);
        }
    }
  else
    {
      json_node_init_int (node, (gint64)magnitude);
      if (magnitude > (guint64)G_MAXINT64)
        doc_set_mark (r->doc, node, BB_JSON_MARK_BIG_UNSIGNED);
    }
  return node;
}

static gboolean
read_literal (Reader *r, const char *word)
{
  gsize len = strlen (word);

  if ((gsize)(r->end - r->p) < len || memcmp (r->p, word, len) != 0)
    return reader_error (r, _ ("unexpected character"));
  r->p += len;
  return TRUE;
}

static void wipe_strings (JsonNode *node);

/* Reads the members of an object, after its '{', into @members, keeping the order in
 * which their names first came in @order. */
static gboolean
read_members (Reader *r, GHashTable *members, GPtrArray *order)
{
  skip_ws (r);
  if (r->p < r->end && *r->p == '}')
    {
      r->p++;
      return TRUE;
    }
  for (;;)
    {
      g_autofree char *key = NULL;
      JsonNode *value, *previous;

      skip_ws (r);
      if (r->p >= r->end)
        return reader_error (r, _ ("truncated object"));
      if (*r->p != '"')
        return reader_error (r, _ ("expected a member name"));
      if (!read_string (r))
        return FALSE;
      key = g_strndup (r->scratch->str, r->scratch->len);
      skip_ws (r);
      if (r->p >= r->end || *r->p != ':')
        return reader_error (r, _ ("expected ':'"));
      r->p++;
      value = read_value (r);
      if (value == NULL)
        return FALSE;
      /* A repeated name replaces the earlier value, as in Go; the insert below frees that
       * value, so its decoded strings are wiped first. */
      previous = g_hash_table_lookup (members, key);
      if (previous != NULL)
        wipe_strings (previous);
      else
        {
          if (order->len >= MAX_OBJECT_MEMBERS)
            {
              wipe_strings (value);
              json_node_unref (value);
              return reader_error (r, _ ("too many object members"));
            }
          g_ptr_array_add (order, key);
        }
      g_hash_table_insert (members, g_steal_pointer (&key), value);
      skip_ws (r);
      if (r->p >= r->end)
        return reader_error (r, _ ("truncated object"));
      if (*r->p == '}')
        {
          r->p++;
          return TRUE;
        }
      if (*r->p != ',')
        return reader_error (r, _ ("expected ',' or '}'"));
      r->p++;
    }
}

static JsonNode *
read_object (Reader *r)
{
  /* Members are collected first: json_object_set_member() on a name already present
   * scans the member list, which a body full of repeated names would make quadratic. */
  g_autoptr (GHashTable) members
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)json_node_unref);
  g_autoptr (GPtrArray) order = g_ptr_array_new ();
  g_autoptr (JsonObject) object = NULL;
  JsonNode *node;

  r->p++;
  if (!read_members (r, members, order))
    {
      /* The members read so far hold decoded strings too: wipe them before they go. */
      GHashTableIter iter;
      gpointer value;

      g_hash_table_iter_init (&iter, members);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        wipe_strings (value);
      return NULL;
    }

  object = json_object_new ();
  for (guint i = 0; i < order->len; i++)
    {
      const char *key = g_ptr_array_index (order, i);
      json_object_set_member (object, key, json_node_ref (g_hash_table_lookup (members, key)));
    }
  node = json_node_alloc ();
  json_node_init_object (node, object);
  return node;
}

/* Reads the elements of an array, after its '[', into @array. */
static gboolean
read_elements (Reader *r, JsonArray *array)
{
  skip_ws (r);
  if (r->p < r->end && *r->p == ']')
    {
      r->p++;
      return TRUE;
    }
  for (;;)
    {
      JsonNode *value = read_value (r);
      if (value == NULL)
        return FALSE;
      json_array_add_element (array, value);
      skip_ws (r);
      if (r->p >= r->end)
        return reader_error (r, _ ("truncated array"));
      if (*r->p == ']')
        {
          r->p++;
          return TRUE;
        }
      if (*r->p != ',')
        return reader_error (r, _ ("expected ',' or ']'"));
      r->p++;
    }
}

static JsonNode *
read_array (Reader *r)
{
  g_autoptr (JsonArray) array = json_array_new ();
  JsonNode *node;

  r->p++;
  if (!read_elements (r, array))
    {
      /* The elements read so far hold decoded strings too: wipe them before they go. */
      for (guint i = 0; i < json_array_get_length (array); i++)
        wipe_strings (json_array_get_element (array, i));
      return NULL;
    }

  node = json_node_alloc ();
  json_node_init_array (node, array);
  return node;
}

static JsonNode *
read_value (Reader *r)
{
  JsonNode *node = NULL;

  skip_ws (r);
  if (r->p >= r->end)
    return reader_error (r, _ ("truncated input")), NULL;
  if (++r->n_values > MAX_VALUE_COUNT)
    return reader_error (r, _ ("too many values")), NULL;

  switch (*r->p)
    {
      case '{':
      case '[':
        if (++r->depth > MAX_DEPTH)
          return reader_error (r, _ ("nested too deeply")), NULL;
        node = *r->p == '{' ? read_object (r) : read_array (r);
        r->depth--;
        return node;
      case '"':
        if (!read_string (r))
          return NULL;
        node = json_node_alloc ();
        json_node_init_string (node, r->scratch->str);
        return node;
      case 't':
        if (!read_literal (r, "true"))
          return NULL;
        return json_node_init_boolean (json_node_alloc (), TRUE);
      case 'f':
        if (!read_literal (r, "false"))
          return NULL;
        return json_node_init_boolean (json_node_alloc (), FALSE);
      case 'n':
        if (!read_literal (r, "null"))
          return NULL;
        return json_node_init_null (json_node_alloc ());
      default:
        if (*r->p == '-' || g_ascii_isdigit (*r->p))
          return read_number (r);
        return reader_error (r, _ ("unexpected character")), NULL;
    }
}

/* Wipes every string of a tree we built: bodies carry bearer tokens and invite server
 * secrets, and the tree's copies would otherwise linger in freed memory. */
static void
wipe_strings (JsonNode *node)
{
  switch (JSON_NODE_TYPE (node))
    {
      case JSON_NODE_OBJECT:
        {
          JsonObjectIter iter;
          JsonNode *member;

          json_object_iter_init (&iter, json_node_get_object (node));
          while (json_object_iter_next (&iter, NULL, &member))
            wipe_strings (member);
        }
        break;
      case JSON_NODE_ARRAY:
        {
          JsonArray *array = json_node_get_array (node);
          for (guint i = 0; i < json_array_get_length (array); i++)
            wipe_strings (json_array_get_element (array, i));
        }
        break;
      case JSON_NODE_VALUE:
        if (json_node_get_value_type (node) == G_TYPE_STRING)
          {
            char *text = (char *)json_node_get_string (node);
            if (text != NULL)
              bb_crypto_wipe (text, strlen (text));
          }
        break;
      case JSON_NODE_NULL:
      default:
        break;
    }
}

void
bb_json_doc_clear (BbJsonDoc *doc)
{
  if (doc->root != NULL)
    {
      wipe_strings (doc->root);
      json_node_unref (doc->root);
    }
  g_clear_pointer (&doc->marks, g_hash_table_unref);
  doc->root = NULL;
}

/* Reads the first JSON value of @data; what follows it is ignored, as the Go client's
 * json.Decoder does (a Go server appends "\n"). The value must be an object. */
JsonObject *
bb_json_doc_load (BbJsonDoc *doc, const char *data, gssize len, GError **error)
{
  Reader r = { 0 };
  gsize size;

  memset (doc, 0, sizeof *doc);
  size = len < 0 ? strlen (data) : (gsize)len;
  if (size == 0)
    {
      g_set_error_literal (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL, _ ("body: empty"));
      return NULL;
    }
  if (size > MAX_BODY_SIZE)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL, _ ("body: larger than %u bytes"),
                   (guint)MAX_BODY_SIZE);
      return NULL;
    }

  r.start = r.p = data;
  r.end = data + size;
  /* Every string is decoded into this one buffer, and a decoded string is never longer
   * than its JSON text: sized to the body, it never grows, so no block holding an earlier
   * string (an invite server secret, a bearer token) is freed unwiped on the way. */
  r.scratch = bb_crypto_secret_string_new (size);
  r.doc = doc;
  r.error = error;
  doc->root = read_value (&r);
  bb_crypto_secret_string_free (r.scratch);

  if (doc->root == NULL)
    {
      bb_json_doc_clear (doc);
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (doc->root))
    {
      bb_json_doc_clear (doc);
      g_set_error_literal (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL,
                           _ ("body: expected a JSON object"));
      return NULL;
    }
  return json_node_get_object (doc->root);
}
