/* bb-json-writer.c: a JSON writer byte-compatible with Go's encoding/json
 *
 * General machinery, apart from the message types: the engine's JSON codec writes its
 * strings with it too.
 *
 * Writing: a small writer of our own, because the output must be byte-identical to Go's
 * encoding/json (field order, compact, Go's string escaping, Go's time format).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "bb-crypto-private.h"
#include "bb-json-private.h"
#include "bb-protocol-messages-private.h"

/* ------------------------------------------------------------------------------------ */
/* Writer                                                                               */

static const char hex_digits[] = "0123456789abcdef";

static void
append_u_escape (GString *out, gunichar c)
{
  g_string_append (out, "\\u");
  g_string_append_c (out, hex_digits[(c >> 12) & 0xf]);
  g_string_append_c (out, hex_digits[(c >> 8) & 0xf]);
  g_string_append_c (out, hex_digits[(c >> 4) & 0xf]);
  g_string_append_c (out, hex_digits[c & 0xf]);
}

/* bb_json_append_string:
 * @out: where to append
 * @str: (nullable): the string; %NULL writes `""`
 * @len: length of @str in bytes, or -1 if nul-terminated
 *
 * Appends @str as a JSON string exactly as Go's encoding/json writes it: `"` and `\`
 * escaped, `\b \f \n \r \t` short escapes, other control characters, `<`, `>`, `&`,
 * U+2028 and U+2029 as lower-case `\u00XX`, and each invalid UTF-8 byte as `\ufffd`.
 */
void
bb_json_append_string (GString *out, const char *str, gssize len)
{
  const char *p, *end;

  g_string_append_c (out, '"');
  if (str == NULL)
    {
      g_string_append_c (out, '"');
      return;
    }
  p = str;
  end = str + (len < 0 ? strlen (str) : (gsize)len);
  while (p < end)
    {
      guchar c = (guchar)*p;
      gunichar cp;

      if (c < 0x80)
        {
          switch (c)
            {
              case '"':
              case '\\':
                g_string_append_c (out, '\\');
                g_string_append_c (out, (char)c);
                break;
              case '\b':
                g_string_append (out, "\\b");
                break;
              case '\f':
                g_string_append (out, "\\f");
                break;
              case '\n':
                g_string_append (out, "\\n");
                break;
              case '\r':
                g_string_append (out, "\\r");
                break;
              case '\t':
                g_string_append (out, "\\t");
                break;
              case '<':
              case '>':
              case '&':
                append_u_escape (out, c);
                break;
              default:
                if (c < 0x20)
                  append_u_escape (out, c);
                else
                  g_string_append_c (out, (char)c);
                break;
            }
          p++;
          continue;
        }

      cp = g_utf8_get_char_validated (p, end - p);
      if (cp == (gunichar)-1 || cp == (gunichar)-2)
        {
          g_string_append (out, "\\ufffd");
          p++;
          continue;
        }
      if (cp == 0x2028 || cp == 0x2029)
        append_u_escape (out, cp);
      else
        g_string_append_len (out, p, g_utf8_next_char (p) - p);
      p = g_utf8_next_char (p);
    }
  g_string_append_c (out, '"');
}

static void
w_raw (const BbJsonWriter *w, const char *text)
{
  if (w->out != NULL)
    g_string_append (w->out, text);
  else
    *w->bound += strlen (text);
}

static void
w_json_string (const BbJsonWriter *w, const char *value)
{
  if (w->out != NULL)
    bb_json_append_string (w->out, value, -1);
  else
    /* Go's escaping turns one byte into at most six (\u00XX, \ufffd); then the quotes. */
    *w->bound += 6 * (value != NULL ? strlen (value) : 0) + 2;
}

/* Opens an object in @w, whose output (or measure) is already set. */
static void
w_open (BbJsonWriter *w)
{
  w->first = TRUE;
  w_raw (w, "{");
}

/* Starts the text of a message: a new buffer with an object opened in it. */
void
bb_json_writer_begin (BbJsonWriter *w)
{
  w->out = g_string_new (NULL);
  w->bound = NULL;
  w_open (w);
}

/* Closes the object bb_json_writer_begin() opened and returns the text. */
char *
bb_json_writer_finish (BbJsonWriter *w)
{
  bb_json_writer_end (w);
  return g_string_free (g_steal_pointer (&w->out), FALSE);
}

/* Opens an object that is a member value or element inside @parent's object. */
void
bb_json_writer_begin_nested (BbJsonWriter *w, const BbJsonWriter *parent)
{
  w->out = parent->out;
  w->bound = parent->bound;
  w_open (w);
}

void
bb_json_writer_end (BbJsonWriter *w)
{
  w_raw (w, "}");
}

/* A member name, escaped as Go escapes the keys of a map (a struct's names need none). */
void
bb_json_writer_key (BbJsonWriter *w, const char *name)
{
  if (!w->first)
    w_raw (w, ",");
  w->first = FALSE;
  w_json_string (w, name);
  w_raw (w, ":");
}

/* A Go string field: NULL writes "" (Go's zero value). */
void
bb_json_write_string (BbJsonWriter *w, const char *name, const char *value)
{
  bb_json_writer_key (w, name);
  w_json_string (w, value);
}

/* A Go string field with omitempty. */
void
bb_json_write_string_omitempty (BbJsonWriter *w, const char *name, const char *value)
{
  if (value != NULL && *value != '\0')
    bb_json_write_string (w, name, value);
}

/* A Go *string field: NULL writes null. */
void
bb_json_write_string_nullable (BbJsonWriter *w, const char *name, const char *value)
{
  bb_json_writer_key (w, name);
  if (value == NULL)
    w_raw (w, "null");
  else
    w_json_string (w, value);
}

void
bb_json_write_int (BbJsonWriter *w, const char *name, gint64 value)
{
  char text[24];

  g_snprintf (text, sizeof text, "%" G_GINT64_FORMAT, value);
  bb_json_writer_key (w, name);
  w_raw (w, text);
}

void
bb_json_write_uint (BbJsonWriter *w, const char *name, guint64 value)
{
  char text[24];

  g_snprintf (text, sizeof text, "%" G_GUINT64_FORMAT, value);
  bb_json_writer_key (w, name);
  w_raw (w, text);
}

void
bb_json_write_bool (BbJsonWriter *w, const char *name, gboolean value)
{
  bb_json_writer_key (w, name);
  w_raw (w, value ? "true" : "false");
}

/* A Go time.Time field: NULL writes Go's zero time. */
void
bb_json_write_time (BbJsonWriter *w, const char *name, GDateTime *value)
{
  g_autofree char *text = bb_msg_format_time (value);
  bb_json_writer_key (w, name);
  w_json_string (w, text);
}

/* A Go *time.Time field: NULL writes null. */
void
bb_json_write_time_nullable (BbJsonWriter *w, const char *name, GDateTime *value)
{
  if (value == NULL)
    {
      bb_json_writer_key (w, name);
      w_raw (w, "null");
    }
  else
    bb_json_write_time (w, name, value);
}

/* A Go slice of structs: the member @name as an array with one object per element of
 * @list (NULL writes []), whose members @write_element writes. */
void
bb_json_write_object_list (BbJsonWriter *w, const char *name, GPtrArray *list,
                           BbJsonWriteFunc write_element)
{
  bb_json_writer_key (w, name);
  w_raw (w, "[");
  for (guint i = 0; list != NULL && i < list->len; i++)
    {
      BbJsonWriter element;

      if (i > 0)
        w_raw (w, ",");
      bb_json_writer_begin_nested (&element, w);
      write_element (&element, g_ptr_array_index (list, i));
      bb_json_writer_end (&element);
    }
  w_raw (w, "]");
}

/* Writes the object whose members @write writes for @msg, a message that carries a secret
 * (a bearer token, an invite server secret). Appending to a GString that is full
 * reallocates it and frees the old block, and the secret already written with it,
 * unwiped. So the message is measured first and written into a buffer of that size,
 * which never grows; the caller wipes the result before freeing it. */
char *
bb_json_write_secret (BbJsonWriteFunc write, gconstpointer msg)
{
  gsize bound = 0;
  BbJsonWriter measure = { NULL, &bound, TRUE };
  BbJsonWriter w = { NULL, NULL, TRUE };
  gsize allocated;

  w_open (&measure);
  write (&measure, msg);
  bb_json_writer_end (&measure);
  w.out = bb_crypto_secret_string_new (bound);
  allocated = w.out->allocated_len;
  w_open (&w);
  write (&w, msg);
  bb_json_writer_end (&w);
  /* Only a wrong bound above can get here, and then a copy has already leaked. */
  if (w.out->allocated_len != allocated)
    g_critical ("bbsync: a JSON buffer holding a secret outgrew its bound of %" G_GSIZE_FORMAT
                " bytes",
                bound);
  return g_string_free (w.out, FALSE);
}
