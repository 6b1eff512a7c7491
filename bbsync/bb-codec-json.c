/* bb-codec-json.c: the JSON codec, byte-compatible with Go's encoding/json
 *
 * Writing must give exactly the bytes of Go's json.Marshal for the Go value that
 * corresponds to the GVariant (see bb_codec_new_json() for the mapping): the engine
 * compares encodings to detect changes, so any difference makes a bbsync client and a Go
 * client re-upload one value to each other forever. json-glib's generator differs from
 * Go (escaping, number formatting, member order), so this file has its own writer and a
 * strict reader:
 *
 * - strings use bb_json_append_string() (bb-json-writer.c), the library's one copy of Go's
 *   encodeState.string with escapeHTML (the mode of json.Marshal). It writes `\b` and `\f`
 *   as short escapes, as Go does since 1.22 (earlier Go wrote \u0008 and \u000c): the
 *   reference client's go.mod says `go 1.26`, so every build of it uses the 1.22+ rule;
 * - numbers: strconv.FormatInt/FormatUint for the integer types, Go's floatEncoder for
 *   doubles (bb_codec_json_append_double() below);
 * - objects have their members sorted by the byte order of the keys, as Go sorts map
 *   keys; `ay` is padded standard base64, as Go writes a []byte.
 *
 * Reading follows Go's decoder into the corresponding Go type, with a few documented
 * differences (null for scalars, non-canonical base64, U+0000 in strings, nesting depth).
 * Where Go is lenient (invalid UTF-8 and lone surrogates become U+FFFD) the protocol's
 * strict reader (bb-json-reader.c) refuses, so the two readers share only the scanning of
 * whitespace, runs of plain characters in strings, one-character escapes and the digits
 * of \u escapes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-codec.h"
#include "bb-codec-private.h"
#include "bb-error.h"
#include "bb-protocol.h"
#include "bb-json-private.h"

#include "bb-i18n-private.h"
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Longest member name quoted in an error message, in bytes. */
#define MAX_KEY_IN_MESSAGE 64

/* ------------------------------------------------------------------------------------ */
/* Types                                                                                */

/* bb_codec_json_type_is_supported:
 * @type: a type
 *
 * Whether @type is definite and every part of it has a JSON form: basic types but `h`,
 * `v`, maybes, tuples, arrays, and dictionaries with `s` keys.
 */
gboolean
bb_codec_json_type_is_supported (const GVariantType *type)
{
  if (!g_variant_type_is_definite (type))
    return FALSE;
  if (g_variant_type_is_basic (type))
    return !g_variant_type_equal (type, G_VARIANT_TYPE_HANDLE);
  if (g_variant_type_is_variant (type))
    return TRUE;
  if (g_variant_type_is_maybe (type))
    return bb_codec_json_type_is_supported (g_variant_type_element (type));
  if (g_variant_type_is_array (type))
    {
      const GVariantType *element = g_variant_type_element (type);

      if (g_variant_type_is_dict_entry (element))
        return g_variant_type_equal (g_variant_type_key (element), G_VARIANT_TYPE_STRING)
               && bb_codec_json_type_is_supported (g_variant_type_value (element));
      return bb_codec_json_type_is_supported (element);
    }
  if (g_variant_type_is_tuple (type))
    {
      for (const GVariantType *item = g_variant_type_first (type); item != NULL;
           item = g_variant_type_next (item))
        if (!bb_codec_json_type_is_supported (item))
          return FALSE;
      return TRUE;
    }
  /* A dictionary entry outside an array. */
  return FALSE;
}

/* ------------------------------------------------------------------------------------ */
/* Doubles                                                                              */

/* Digits of a positive finite double: value = 0.DIGITS × 10^(exp10 + 1), i.e. the first
 * digit is at 10^exp10. At most 17 digits, never a leading zero. */
typedef struct
{
  char digits[18];
  int n_digits;
  int exp10;
} Decimal;

/* The double nearest to @dec. */
static double
decimal_value (const Decimal *dec)
{
  char text[48];
  int pos = 0;

  text[pos++] = dec->digits[0];
  text[pos++] = '.';
  for (int i = 1; i < dec->n_digits; i++)
    text[pos++] = dec->digits[i];
  text[pos++] = '0';
  g_snprintf (text + pos, sizeof text - pos, "e%d", dec->exp10);
  return g_ascii_strtod (text, NULL);
}

/* The neighbour of @dec with the same number of digits, one unit in the last digit up
 * (@up) or down. */
static void
decimal_step (Decimal *dec, gboolean up)
{
  int i = dec->n_digits - 1;

  if (up)
    {
      while (i >= 0 && dec->digits[i] == '9')
        dec->digits[i--] = '0';
      if (i >= 0)
        dec->digits[i]++;
      else
        {
          /* 99…9 + 1 = 100…0: one more power of ten. */
          dec->digits[0] = '1';
          dec->exp10++;
        }
    }
  else
    {
      while (i >= 0 && dec->digits[i] == '0')
        dec->digits[i--] = '9';
      dec->digits[i]--;
      if (dec->digits[0] == '0')
        {
          /* 100…0 - 1 = 099…9: the same number of digits is 99…9 one power lower. */
          memset (dec->digits, '9', dec->n_digits);
          dec->exp10--;
        }
    }
}

/* The shortest decimal that reads back as @value (positive, finite), and of those the
 * closest to it: the digits of Go's strconv.FormatFloat (value, fmt, -1, 64). For each
 * length, printf gives the correctly rounded decimal; when it does not read back, the
 * neighbour on the other side of @value may (the rounding interval of a power of two is
 * narrower below than above). */
static void
shortest_decimal (double value, Decimal *dec)
{
  for (int precision = 1; precision <= 17; precision++)
    {
      char text[48];
      const char *e;
      int n = 0;
      double printed;

      /* "%.*e" is exact in glibc; only the decimal point depends on the locale, and only
       * the digits and the exponent are read. */
      snprintf (text, sizeof text, "%.*e", precision - 1, value);
      e = strchr (text, 'e');
      g_assert (e != NULL);
      for (const char *p = text; p < e && n < precision; p++)
        if (g_ascii_isdigit (*p))
          dec->digits[n++] = *p;
      dec->n_digits = n;
      dec->exp10 = atoi (e + 1);
      printed = decimal_value (dec);
      if (printed == value)
        return;
      decimal_step (dec, printed < value);
      if (decimal_value (dec) == value)
        return;
    }
  g_assert_not_reached ();
}

/* bb_codec_json_append_double:
 * @out: where to append
 * @value: a finite double
 *
 * Appends @value as Go's encoding/json writes a float64: the shortest decimal that reads
 * back as @value, laid out like strconv.FormatFloat with format 'f', except that a
 * non-zero value below 1e-6 or from 1e21 on (in absolute value) uses format 'e' with a
 * two-digit negative exponent shortened to one digit ("1e-7", "1e+21"). Zero is "0",
 * negative zero "-0".
 */
void
bb_codec_json_append_double (GString *out, double value)
{
  Decimal dec;
  double abs_value = fabs (value);

  g_return_if_fail (isfinite (value));

  if (signbit (value))
    g_string_append_c (out, '-');
  if (abs_value == 0)
    {
      g_string_append_c (out, '0');
      return;
    }

  shortest_decimal (abs_value, &dec);

  if (abs_value < 1e-6 || abs_value >= 1e21)
    {
      g_string_append_c (out, dec.digits[0]);
      if (dec.n_digits > 1)
        {
          g_string_append_c (out, '.');
          g_string_append_len (out, dec.digits + 1, dec.n_digits - 1);
        }
      /* strconv writes at least two exponent digits and Go's floatEncoder then turns
       * "e-07" into "e-7"; positive exponents here are 21 or more. */
      g_string_append_printf (out, "e%c%d", dec.exp10 < 0 ? '-' : '+', ABS (dec.exp10));
    }
  else if (dec.exp10 < 0)
    {
      g_string_append (out, "0.");
      for (int i = 0; i < -dec.exp10 - 1; i++)
        g_string_append_c (out, '0');
      g_string_append_len (out, dec.digits, dec.n_digits);
    }
  else if (dec.exp10 >= dec.n_digits - 1)
    {
      g_string_append_len (out, dec.digits, dec.n_digits);
      for (int i = 0; i < dec.exp10 - (dec.n_digits - 1); i++)
        g_string_append_c (out, '0');
    }
  else
    {
      g_string_append_len (out, dec.digits, dec.exp10 + 1);
      g_string_append_c (out, '.');
      g_string_append_len (out, dec.digits + dec.exp10 + 1, dec.n_digits - dec.exp10 - 1);
    }
}

/* ------------------------------------------------------------------------------------ */
/* Where a value is, for error messages                                                 */

typedef struct
{
  const char *key; /* member name, when the value is in an object */
  gsize index;     /* element index, when the value is in an array */
  gboolean in_array;
} Where;

static const Where top_level = { NULL, 0, FALSE };

/* @key, cut at MAX_KEY_IN_MESSAGE bytes (on a character boundary) with an ellipsis. */
static char *
key_for_message (const char *key)
{
  const char *cut;

  if (strlen (key) <= MAX_KEY_IN_MESSAGE)
    return g_strdup (key);
  cut = g_utf8_find_prev_char (key, key + MAX_KEY_IN_MESSAGE + 1);
  return g_strdup_printf ("%.*s…", (int)(cut - key), key);
}

/* ------------------------------------------------------------------------------------ */
/* Writer                                                                               */

static gboolean G_GNUC_PRINTF (3, 4)
    write_error (GError **error, const Where *where, const char *format, ...)
{
  g_autofree char *detail = NULL;
  va_list args;

  va_start (args, format);
  detail = g_strdup_vprintf (format, args);
  va_end (args);

  if (where->key != NULL)
    {
      g_autofree char *key = key_for_message (where->key);

      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("JSON encoding: %s for key “%s”"), detail, key);
    }
  else if (where->in_array)
    g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                 _ ("JSON encoding: %s in element %zu"), detail, where->index);
  else
    g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT, _ ("JSON encoding: %s"),
                 detail);
  return FALSE;
}

static gboolean write_value (GString *out, GVariant *value, guint depth, guint variant_depth,
                             const Where *where, GError **error);

typedef struct
{
  GVariant *key_variant;
  const char *key; /* owned by key_variant */
  GVariant *value;
} Member;

static int
compare_members (gconstpointer a, gconstpointer b)
{
  return strcmp (((const Member *)a)->key, ((const Member *)b)->key);
}

/* An a{s*} as a JSON object whose members are sorted by the byte order of their names,
 * as Go sorts the keys of a map. Go maps cannot hold a key twice, so neither can this. */
static gboolean
write_object (GString *out, GVariant *dict, guint depth, guint variant_depth, const Where *where,
              GError **error)
{
  gsize n = g_variant_n_children (dict);
  g_autofree Member *members = g_new (Member, MAX (n, 1));
  gboolean ok = TRUE;

  for (gsize i = 0; i < n; i++)
    {
      g_autoptr (GVariant) entry = g_variant_get_child_value (dict, i);

      members[i].key_variant = g_variant_get_child_value (entry, 0);
      members[i].key = g_variant_get_string (members[i].key_variant, NULL);
      members[i].value = g_variant_get_child_value (entry, 1);
    }
  qsort (members, n, sizeof (Member), compare_members);

  g_string_append_c (out, '{');
  for (gsize i = 0; ok && i < n; i++)
    {
      Where child = { members[i].key, 0, FALSE };

      if (i > 0 && strcmp (members[i - 1].key, members[i].key) == 0)
        {
          g_autofree char *key = key_for_message (members[i].key);

          ok = write_error (error, where, _ ("the dictionary holds the key “%s” twice"), key);
          break;
        }
      if (i > 0)
        g_string_append_c (out, ',');
      bb_json_append_string (out, members[i].key, -1);
      g_string_append_c (out, ':');
      ok = write_value (out, members[i].value, depth + 1, variant_depth, &child, error);
    }
  if (ok)
    g_string_append_c (out, '}');

  for (gsize i = 0; i < n; i++)
    {
      g_variant_unref (members[i].key_variant);
      g_variant_unref (members[i].value);
    }
  return ok;
}

/* Arrays (but `ay` and dictionaries) and tuples, as JSON arrays. */
static gboolean
write_array (GString *out, GVariant *container, guint depth, guint variant_depth, GError **error)
{
  gsize n = g_variant_n_children (container);

  g_string_append_c (out, '[');
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr (GVariant) child = g_variant_get_child_value (container, i);
      Where where = { NULL, i, TRUE };

      if (i > 0)
        g_string_append_c (out, ',');
      if (!write_value (out, child, depth + 1, variant_depth, &where, error))
        return FALSE;
    }
  g_string_append_c (out, ']');
  return TRUE;
}

static gboolean
write_value (GString *out, GVariant *value, guint depth, guint variant_depth, const Where *where,
             GError **error)
{
  switch (g_variant_classify (value))
    {
      case G_VARIANT_CLASS_BOOLEAN:
        g_string_append (out, g_variant_get_boolean (value) ? "true" : "false");
        return TRUE;
      case G_VARIANT_CLASS_BYTE:
        g_string_append_printf (out, "%u", (guint)g_variant_get_byte (value));
        return TRUE;
      case G_VARIANT_CLASS_INT16:
        g_string_append_printf (out, "%d", (int)g_variant_get_int16 (value));
        return TRUE;
      case G_VARIANT_CLASS_UINT16:
        g_string_append_printf (out, "%u", (guint)g_variant_get_uint16 (value));
        return TRUE;
      case G_VARIANT_CLASS_INT32:
        g_string_append_printf (out, "%" G_GINT32_FORMAT, g_variant_get_int32 (value));
        return TRUE;
      case G_VARIANT_CLASS_UINT32:
        g_string_append_printf (out, "%" G_GUINT32_FORMAT, g_variant_get_uint32 (value));
        return TRUE;
      case G_VARIANT_CLASS_INT64:
        g_string_append_printf (out, "%" G_GINT64_FORMAT, g_variant_get_int64 (value));
        return TRUE;
      case G_VARIANT_CLASS_UINT64:
        g_string_append_printf (out, "%" G_GUINT64_FORMAT, g_variant_get_uint64 (value));
        return TRUE;
      case G_VARIANT_CLASS_DOUBLE:
        {
          double d = g_variant_get_double (value);

          /* Go fails with UnsupportedValueError. */
          if (isnan (d))
            return write_error (error, where, _ ("NaN has no JSON form"));
          if (isinf (d))
            return write_error (error, where, _ ("an infinite double has no JSON form"));
          bb_codec_json_append_double (out, d);
          return TRUE;
        }
      case G_VARIANT_CLASS_STRING:
      case G_VARIANT_CLASS_OBJECT_PATH:
      case G_VARIANT_CLASS_SIGNATURE:
        {
          gsize len;
          const char *str = g_variant_get_string (value, &len);

          bb_json_append_string (out, str, len);
          return TRUE;
        }
      case G_VARIANT_CLASS_VARIANT:
        {
          g_autoptr (GVariant) inner = g_variant_get_variant (value);

          if (variant_depth >= BB_CODEC_JSON_MAX_VARIANT_DEPTH)
            return write_error (error, where, _ ("variants nested deeper than %d levels"),
                                BB_CODEC_JSON_MAX_VARIANT_DEPTH);
          return write_value (out, inner, depth, variant_depth + 1, where, error);
        }
      case G_VARIANT_CLASS_MAYBE:
        {
          g_autoptr (GVariant) child = g_variant_get_maybe (value);

          /* A nil pointer. Just(Nothing) of a nested maybe is null too, as in Go. */
          if (child == NULL)
            {
              g_string_append (out, "null");
              return TRUE;
            }
          return write_value (out, child, depth, variant_depth, where, error);
        }
      case G_VARIANT_CLASS_ARRAY:
        {
          const GVariantType *element = g_variant_type_element (g_variant_get_type (value));

          if (g_variant_type_equal (element, G_VARIANT_TYPE_BYTE))
            {
              gsize len;
              const guint8 *data = g_variant_get_fixed_array (value, &len, 1);
              g_autofree char *text = g_base64_encode (data, len);

              bb_json_append_string (out, text, -1);
              return TRUE;
            }
          if (depth >= BB_CODEC_JSON_MAX_DEPTH)
            return write_error (error, where, _ ("nested deeper than %d levels"),
                                BB_CODEC_JSON_MAX_DEPTH);
          if (g_variant_type_is_dict_entry (element))
            {
              if (!g_variant_type_equal (g_variant_type_key (element), G_VARIANT_TYPE_STRING))
                return write_error (error, where,
                                    _ ("dictionary keys of type “%.1s” have no JSON form"),
                                    g_variant_type_peek_string (g_variant_type_key (element)));
              return write_object (out, value, depth, variant_depth, where, error);
            }
          return write_array (out, value, depth, variant_depth, error);
        }
      case G_VARIANT_CLASS_TUPLE:
        if (depth >= BB_CODEC_JSON_MAX_DEPTH)
          return write_error (error, where, _ ("nested deeper than %d levels"),
                              BB_CODEC_JSON_MAX_DEPTH);
        return write_array (out, value, depth, variant_depth, error);
      case G_VARIANT_CLASS_HANDLE:
      case G_VARIANT_CLASS_DICT_ENTRY:
      default:
        return write_error (error, where, _ ("values of type “%s” have no JSON form"),
                            g_variant_get_type_string (value));
    }
}

/* ------------------------------------------------------------------------------------ */
/* Reader                                                                               */

typedef struct
{
  const char *start;
  const char *p;
  const char *end;
  GError **error;
} Reader;

static gboolean G_GNUC_PRINTF (4, 5)
    read_error_at (Reader *r, const char *at, const Where *where, const char *format, ...)
{
  g_autofree char *detail = NULL;
  gsize offset = (gsize)(at - r->start);
  va_list args;

  va_start (args, format);
  detail = g_strdup_vprintf (format, args);
  va_end (args);

  if (where->key != NULL)
    {
      g_autofree char *key = key_for_message (where->key);

      g_set_error (r->error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("JSON payload: %s for key “%s” at offset %zu"), detail, key, offset);
    }
  else if (where->in_array)
    g_set_error (r->error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                 _ ("JSON payload: %s in element %zu at offset %zu"), detail, where->index, offset);
  else
    g_set_error (r->error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                 _ ("JSON payload: %s at offset %zu"), detail, offset);
  return FALSE;
}

static void
skip_ws (Reader *r)
{
  r->p = bb_json_skip_ws (r->p, r->end);
}

/* The kinds of JSON value, told by their first character. */
typedef enum
{
  KIND_OBJECT,
  KIND_ARRAY,
  KIND_STRING,
  KIND_NUMBER,
  KIND_BOOLEAN,
  KIND_NULL,
  KIND_INVALID
} Kind;

static Kind
peek_kind (Reader *r)
{
  if (r->p >= r->end)
    return KIND_INVALID;
  switch (*r->p)
    {
      case '{':
        return KIND_OBJECT;
      case '[':
        return KIND_ARRAY;
      case '"':
        return KIND_STRING;
      case 't':
      case 'f':
        return KIND_BOOLEAN;
      case 'n':
        return KIND_NULL;
      case '-':
        return KIND_NUMBER;
      default:
        return g_ascii_isdigit (*r->p) ? KIND_NUMBER : KIND_INVALID;
    }
}

static const char *
kind_name (Kind kind)
{
  switch (kind)
    {
      case KIND_OBJECT:
        return _ ("an object");
      case KIND_ARRAY:
        return _ ("an array");
      case KIND_STRING:
        return _ ("a string");
      case KIND_NUMBER:
        return _ ("a number");
      case KIND_BOOLEAN:
        return _ ("a boolean");
      case KIND_NULL:
        return _ ("null");
      case KIND_INVALID:
      default:
        return _ ("an invalid value");
    }
}

/* The error for a value that is not where it should be: a syntax error if it is no JSON
 * value at all, else a type mismatch. */
static gboolean
read_error_unexpected (Reader *r, const Where *where, const char *expected)
{
  Kind kind = peek_kind (r);

  if (r->p >= r->end)
    return read_error_at (r, r->p, where, _ ("unexpected end of input, expected %s"), expected);
  if (kind == KIND_INVALID)
    {
      guchar c = (guchar)*r->p;

      if (c >= 0x20 && c < 0x7f)
        return read_error_at (r, r->p, where, _ ("invalid character “%c”, expected %s"), c,
                              expected);
      return read_error_at (r, r->p, where, _ ("invalid byte 0x%02x, expected %s"), c, expected);
    }
  return read_error_at (r, r->p, where, _ ("expected %s, found %s"), expected, kind_name (kind));
}

/* Consumes the literal @word (true, false, null) at the reader's position. */
static gboolean
read_literal (Reader *r, const char *word, const Where *where)
{
  gsize len = strlen (word);

  if ((gsize)(r->end - r->p) < len || memcmp (r->p, word, len) != 0)
    return read_error_at (r, r->p, where, _ ("invalid literal, expected “%s”"), word);
  r->p += len;
  return TRUE;
}

/* The code unit of a `\uXXXX` escape at @p, or -1. */
static int
read_u4 (const char *p, const char *end)
{
  if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
    return -1;
  return bb_json_hex4 (p + 2);
}

/* The length of the well-formed UTF-8 sequence at @p, or 0 where Go's utf8.DecodeRune
 * returns RuneError with size 1 (ill-formed, surrogate, overlong, beyond U+10FFFF or cut
 * short). */
static gsize
utf8_sequence_length (const guchar *p, const guchar *end)
{
  guchar lo = 0x80, hi = 0xbf;
  gsize n;

  if (p[0] < 0x80)
    return 1;
  if (p[0] < 0xc2)
    return 0;
  if (p[0] < 0xe0)
    n = 2;
  else if (p[0] < 0xf0)
    {
      n = 3;
      if (p[0] == 0xe0)
        lo = 0xa0;
      else if (p[0] == 0xed)
        hi = 0x9f;
    }
  else if (p[0] < 0xf5)
    {
      n = 4;
      if (p[0] == 0xf0)
        lo = 0x90;
      else if (p[0] == 0xf4)
        hi = 0x8f;
    }
  else
    return 0;

  if ((gsize)(end - p) < n || p[1] < lo || p[1] > hi)
    return 0;
  for (gsize i = 2; i < n; i++)
    if (p[i] < 0x80 || p[i] > 0xbf)
      return 0;
  return n;
}

/* Reads a JSON string into @out (cleared first), decoded as Go's decoder does: escapes
 * resolved, a surrogate pair escape combined, a lone surrogate escape and each byte of
 * invalid UTF-8 replaced by U+FFFD. Raw control characters and bad escapes are syntax
 * errors. *@has_nul tells whether the text holds U+0000. */
static gboolean
read_string (Reader *r, GString *out, gboolean *has_nul, const Where *where)
{
  const char *open = r->p;

  g_string_truncate (out, 0);
  *has_nul = FALSE;
  g_assert (r->p < r->end && *r->p == '"');
  r->p++;

  for (;;)
    {
      const char *run = r->p;
      guchar c;

      /* Plain ASCII runs are copied at once. */
      r->p = bb_json_plain_run (r->p, r->end);
      g_string_append_len (out, run, r->p - run);

      if (r->p >= r->end)
        return read_error_at (r, open, where, _ ("unterminated string"));
      c = (guchar)*r->p;
      if (c == '"')
        {
          r->p++;
          return TRUE;
        }
      if (c < 0x20)
        return read_error_at (r, r->p, where, _ ("control character 0x%02x in a string"), c);
      if (c == '\\')
        {
          int unit, low;

          if (r->end - r->p < 2)
            return read_error_at (r, open, where, _ ("unterminated string"));
          if (r->p[1] != 'u')
            {
              char unescaped = bb_json_short_escape (r->p[1]);

              if (unescaped == '\0')
                return read_error_at (r, r->p, where, _ ("invalid escape in a string"));
              g_string_append_c (out, unescaped);
              r->p += 2;
              continue;
            }

          unit = read_u4 (r->p, r->end);
          if (unit < 0)
            return read_error_at (r, r->p, where, _ ("invalid \\u escape in a string"));
          r->p += 6;
          if (unit >= 0xd800 && unit < 0xe000)
            {
              /* A high surrogate followed by an escaped low surrogate is one character;
               * anything else is U+FFFD, and what follows is read on its own. */
              low = read_u4 (r->p, r->end);
              if (unit < 0xdc00 && low >= 0xdc00 && low < 0xe000)
                {
                  r->p += 6;
                  g_string_append_unichar (out, 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00));
                }
              else
                g_string_append_unichar (out, 0xfffd);
              continue;
            }
          if (unit == 0)
            *has_nul = TRUE;
          g_string_append_unichar (out, unit);
          continue;
        }

      /* Non-ASCII: well-formed sequences are kept, each other byte is U+FFFD. */
      {
        gsize n = utf8_sequence_length ((const guchar *)r->p, (const guchar *)r->end);

        if (n == 0)
          {
            g_string_append_unichar (out, 0xfffd);
            r->p++;
          }
        else
          {
            g_string_append_len (out, r->p, n);
            r->p += n;
          }
      }
    }
}

typedef struct
{
  const char *start;
  const char *end;
  gboolean negative;
  gboolean integer; /* no fraction and no exponent */
} Number;

/* Scans a number with the grammar of RFC 8259. */
static gboolean
read_number (Reader *r, Number *num, const Where *where)
{
  const char *p = r->p;

  num->start = p;
  num->negative = FALSE;
  num->integer = TRUE;
  if (p < r->end && *p == '-')
    {
      num->negative = TRUE;
      p++;
    }
  if (p < r->end && *p == '0')
    p++;
  else if (p < r->end && *p >= '1' && *p <= '9')
    while (p < r->end && g_ascii_isdigit (*p))
      p++;
  else
    return read_error_at (r, num->start, where, _ ("invalid number"));
  if (p < r->end && *p == '.')
    {
      num->integer = FALSE;
      p++;
      if (p >= r->end || !g_ascii_isdigit (*p))
        return read_error_at (r, num->start, where, _ ("invalid number"));
      while (p < r->end && g_ascii_isdigit (*p))
        p++;
    }
  if (p < r->end && (*p == 'e' || *p == 'E'))
    {
      num->integer = FALSE;
      p++;
      if (p < r->end && (*p == '+' || *p == '-'))
        p++;
      if (p >= r->end || !g_ascii_isdigit (*p))
        return read_error_at (r, num->start, where, _ ("invalid number"));
      while (p < r->end && g_ascii_isdigit (*p))
        p++;
    }
  num->end = p;
  r->p = p;
  return TRUE;
}

static char *
number_text (const Number *num)
{
  return g_strndup (num->start, num->end - num->start);
}

/* The number as a double (Go's strconv.ParseFloat): out of range is an error, underflow
 * gives zero or a subnormal. */
static gboolean
number_to_double (Reader *r, const Number *num, double *out, const Where *where)
{
  g_autofree char *text = number_text (num);

  *out = g_ascii_strtod (text, NULL);
  if (isinf (*out))
    return read_error_at (r, num->start, where, _ ("number %s is out of range for a double"), text);
  return TRUE;
}

static GVariant *read_value (Reader *r, const GVariantType *type, guint depth, const Where *where);

static GVariant *
read_integer (Reader *r, const GVariantType *type, const Where *where)
{
  char code = *g_variant_type_peek_string (type);
  gboolean is_signed = FALSE;
  gint64 min = 0;
  guint64 max = 0;
  guint64 magnitude;
  gint64 value;
  Number num;
  const char *at = r->p;

  if (peek_kind (r) != KIND_NUMBER)
    return read_error_unexpected (r, where, _ ("a number")), NULL;
  if (!read_number (r, &num, where))
    return NULL;

  switch (code)
    {
      case 'y':
        max = G_MAXUINT8;
        break;
      case 'n':
        is_signed = TRUE, min = G_MININT16, max = G_MAXINT16;
        break;
      case 'q':
        max = G_MAXUINT16;
        break;
      case 'i':
        is_signed = TRUE, min = G_MININT32, max = G_MAXINT32;
        break;
      case 'u':
        max = G_MAXUINT32;
        break;
      case 'x':
        is_signed = TRUE, min = G_MININT64, max = G_MAXINT64;
        break;
      case 't':
      default:
        max = G_MAXUINT64;
        break;
    }

  if (!num.integer)
    {
      g_autofree char *text = number_text (&num);

      return read_error_at (r, at, where, _ ("expected an integer, found %s"), text), NULL;
    }
  {
    const char *p = num.start + (num.negative ? 1 : 0);
    gboolean overflow = FALSE;

    magnitude = 0;
    for (; p < num.end; p++)
      {
        guint digit = (guint)(*p - '0');

        if (magnitude > (G_MAXUINT64 - digit) / 10)
          {
            overflow = TRUE;
            break;
          }
        magnitude = magnitude * 10 + digit;
      }
    /* Go's ParseUint refuses any sign, even "-0"; ParseInt takes "-0". */
    if (num.negative && !is_signed)
      overflow = TRUE;
    else if (num.negative && magnitude > (guint64)(-(min + 1)) + 1)
      overflow = TRUE;
    else if (!num.negative && magnitude > max)
      overflow = TRUE;
    if (overflow)
      {
        g_autofree char *text = number_text (&num);

        return read_error_at (r, at, where, _ ("number %s is out of range for type “%c”"), text,
                              code),
               NULL;
      }
  }

  if (num.negative)
    value = magnitude == 0 ? 0 : -(gint64)(magnitude - 1) - 1;
  else
    value = (gint64)magnitude;

  switch (code)
    {
      case 'y':
        return g_variant_ref_sink (g_variant_new_byte ((guint8)magnitude));
      case 'n':
        return g_variant_ref_sink (g_variant_new_int16 ((gint16)value));
      case 'q':
        return g_variant_ref_sink (g_variant_new_uint16 ((guint16)magnitude));
      case 'i':
        return g_variant_ref_sink (g_variant_new_int32 ((gint32)value));
      case 'u':
        return g_variant_ref_sink (g_variant_new_uint32 ((guint32)magnitude));
      case 'x':
        return g_variant_ref_sink (g_variant_new_int64 (value));
      case 't':
      default:
        return g_variant_ref_sink (g_variant_new_uint64 (magnitude));
    }
}

static GVariant *
read_double (Reader *r, const Where *where)
{
  Number num;
  double value;

  if (peek_kind (r) != KIND_NUMBER)
    return read_error_unexpected (r, where, _ ("a number")), NULL;
  if (!read_number (r, &num, where) || !number_to_double (r, &num, &value, where))
    return NULL;
  return g_variant_ref_sink (g_variant_new_double (value));
}

static GVariant *
read_boolean (Reader *r, const Where *where)
{
  gboolean value = r->p < r->end && *r->p == 't';

  if (peek_kind (r) != KIND_BOOLEAN)
    return read_error_unexpected (r, where, _ ("a boolean")), NULL;
  if (!read_literal (r, value ? "true" : "false", where))
    return NULL;
  return g_variant_ref_sink (g_variant_new_boolean (value));
}

/* A string, an object path or a signature. */
static GVariant *
read_text (Reader *r, const GVariantType *type, const Where *where)
{
  g_autoptr (GString) text = g_string_new (NULL);
  const char *at = r->p;
  gboolean has_nul;

  if (peek_kind (r) != KIND_STRING)
    return read_error_unexpected (r, where, _ ("a string")), NULL;
  if (!read_string (r, text, &has_nul, where))
    return NULL;
  /* Go keeps U+0000 in a string; a GVariant string cannot hold it. */
  if (has_nul)
    return read_error_at (r, at, where, _ ("a string holds U+0000")), NULL;
  if (g_variant_type_equal (type, G_VARIANT_TYPE_OBJECT_PATH)
      && !g_variant_is_object_path (text->str))
    return read_error_at (r, at, where, _ ("expected a D-Bus object path")), NULL;
  if (g_variant_type_equal (type, G_VARIANT_TYPE_SIGNATURE) && !g_variant_is_signature (text->str))
    return read_error_at (r, at, where, _ ("expected a D-Bus type signature")), NULL;
  if (g_variant_type_equal (type, G_VARIANT_TYPE_OBJECT_PATH))
    return g_variant_ref_sink (g_variant_new_object_path (text->str));
  if (g_variant_type_equal (type, G_VARIANT_TYPE_SIGNATURE))
    return g_variant_ref_sink (g_variant_new_signature (text->str));
  return g_variant_ref_sink (
      g_variant_new_take_string (g_string_free (g_steal_pointer (&text), FALSE)));
}

/* An `ay`: a string of canonical padded base64 (what Go writes for a []byte), or null,
 * which Go decodes as a nil slice. */
static GVariant *
read_base64 (Reader *r, const Where *where)
{
  g_autoptr (GString) text = g_string_new (NULL);
  g_autoptr (GBytes) bytes = NULL;
  const char *at = r->p;
  gboolean has_nul;
  gconstpointer data;
  gsize len;

  if (peek_kind (r) == KIND_NULL)
    {
      if (!read_literal (r, "null", where))
        return NULL;
      return g_variant_ref_sink (g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, NULL, 0, 1));
    }
  if (peek_kind (r) != KIND_STRING)
    return read_error_unexpected (r, where, _ ("a base64 string")), NULL;
  if (!read_string (r, text, &has_nul, where))
    return NULL;
  if (!has_nul)
    bytes = bb_protocol_base64_decode (text->str, -1, "value", NULL);
  if (bytes == NULL)
    return read_error_at (r, at, where, _ ("expected canonical padded base64")), NULL;
  data = g_bytes_get_data (bytes, &len);
  return g_variant_ref_sink (g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data, len, 1));
}

static gboolean
enter (Reader *r, guint depth, const Where *where)
{
  if (depth >= BB_CODEC_JSON_MAX_DEPTH)
    return read_error_at (r, r->p, where, _ ("nested deeper than %d levels"),
                          BB_CODEC_JSON_MAX_DEPTH);
  return TRUE;
}

/* After an element or member: “,” (more follow, returns TRUE) or @close (sets *@done). */
static gboolean
read_separator (Reader *r, char close, gboolean *done, const Where *where)
{
  skip_ws (r);
  if (r->p < r->end && *r->p == ',')
    {
      r->p++;
      *done = FALSE;
      return TRUE;
    }
  if (r->p < r->end && *r->p == close)
    {
      r->p++;
      *done = TRUE;
      return TRUE;
    }
  if (r->p >= r->end)
    return read_error_at (r, r->p, where, _ ("unexpected end of input, expected “,” or “%c”"),
                          close);
  return read_error_at (r, r->p, where, _ ("expected “,” or “%c”"), close);
}

typedef struct
{
  char *key;
  GVariant *value;
} ReadMember;

static void
read_member_clear (gpointer data)
{
  ReadMember *m = data;

  g_free (m->key);
  g_variant_unref (m->value);
}

static gint
compare_read_members (gconstpointer a, gconstpointer b)
{
  return strcmp (((const ReadMember *)a)->key, ((const ReadMember *)b)->key);
}

/* An a{s*}, from a JSON object or null. The entries are sorted by the byte order of the
 * keys (the order the writer uses, so that decoding what was encoded gives the value
 * back); of members with the same name the last one counts, as in Go. */
static GVariant *
read_object (Reader *r, const GVariantType *type, guint depth, const Where *where)
{
  const GVariantType *value_type = g_variant_type_value (g_variant_type_element (type));
  g_autoptr (GArray) members = NULL;
  g_autoptr (GString) key = NULL;
  GVariantBuilder builder;
  gboolean done = FALSE;

  if (peek_kind (r) == KIND_NULL)
    {
      if (!read_literal (r, "null", where))
        return NULL;
      return g_variant_ref_sink (g_variant_new_array (g_variant_type_element (type), NULL, 0));
    }
  if (peek_kind (r) != KIND_OBJECT)
    return read_error_unexpected (r, where, _ ("an object")), NULL;
  if (!enter (r, depth, where))
    return NULL;
  r->p++;

  members = g_array_new (FALSE, FALSE, sizeof (ReadMember));
  g_array_set_clear_func (members, read_member_clear);
  key = g_string_new (NULL);

  skip_ws (r);
  if (r->p < r->end && *r->p == '}')
    {
      r->p++;
      done = TRUE;
    }
  while (!done)
    {
      ReadMember member;
      const char *at;
      gboolean has_nul;
      Where child;

      skip_ws (r);
      at = r->p;
      if (peek_kind (r) != KIND_STRING)
        {
          if (r->p >= r->end)
            return read_error_at (r, r->p, where, _ ("unexpected end of input in an object")), NULL;
          return read_error_at (r, r->p, where, _ ("expected a member name")), NULL;
        }
      if (!read_string (r, key, &has_nul, where))
        return NULL;
      if (has_nul)
        return read_error_at (r, at, where, _ ("a member name holds U+0000")), NULL;
      skip_ws (r);
      if (r->p >= r->end || *r->p != ':')
        return read_error_at (r, r->p, where, _ ("expected “:” after a member name")), NULL;
      r->p++;
      skip_ws (r);

      child.key = key->str;
      child.index = 0;
      child.in_array = FALSE;
      member.value = read_value (r, value_type, depth + 1, &child);
      if (member.value == NULL)
        return NULL;
      member.key = g_strndup (key->str, key->len);
      g_array_append_val (members, member);

      if (!read_separator (r, '}', &done, &child))
        return NULL;
    }

  /* A stable sort keeps members of one name in input order; the last one is kept. */
  g_array_sort (members, compare_read_members);
  g_variant_builder_init (&builder, type);
  for (guint i = 0; i < members->len; i++)
    {
      ReadMember *m = &g_array_index (members, ReadMember, i);

      if (i + 1 < members->len
          && strcmp (m->key, g_array_index (members, ReadMember, i + 1).key) == 0)
        continue;
      g_variant_builder_add_value (
          &builder, g_variant_new_dict_entry (g_variant_new_string (m->key), m->value));
    }
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

/* An array (but `ay` and dictionaries) from a JSON array or null, or a tuple from a
 * JSON array of exactly its length. */
static GVariant *
read_array (Reader *r, const GVariantType *type, guint depth, const Where *where)
{
  gboolean is_tuple = g_variant_type_is_tuple (type);
  const GVariantType *element
      = is_tuple ? g_variant_type_first (type) : g_variant_type_element (type);
  gsize n_items = is_tuple ? g_variant_type_n_items (type) : 0;
  GVariantBuilder builder;
  gboolean done = FALSE;
  gsize index = 0;

  if (!is_tuple && peek_kind (r) == KIND_NULL)
    {
      if (!read_literal (r, "null", where))
        return NULL;
      return g_variant_ref_sink (g_variant_new_array (element, NULL, 0));
    }
  if (peek_kind (r) != KIND_ARRAY)
    {
      if (is_tuple)
        {
          g_autofree char *expected = g_strdup_printf (
              bb_i18n_ngettext ("an array of %zu element", "an array of %zu elements", n_items),
              n_items);

          return read_error_unexpected (r, where, expected), NULL;
        }
      return read_error_unexpected (r, where, _ ("an array")), NULL;
    }
  if (!enter (r, depth, where))
    return NULL;
  r->p++;

  g_variant_builder_init (&builder, type);
  skip_ws (r);
  if (r->p < r->end && *r->p == ']')
    {
      r->p++;
      done = TRUE;
    }
  while (!done)
    {
      Where child = { NULL, index, TRUE };
      GVariant *value;

      if (is_tuple && index == n_items)
        {
          g_variant_builder_clear (&builder);
          return read_error_at (r, r->p, where,
                                bb_i18n_ngettext ("more than %zu element in a tuple",
                                                  "more than %zu elements in a tuple", n_items),
                                n_items),
                 NULL;
        }
      skip_ws (r);
      value = read_value (r, element, depth + 1, &child);
      if (value == NULL)
        {
          g_variant_builder_clear (&builder);
          return NULL;
        }
      g_variant_builder_add_value (&builder, value);
      g_variant_unref (value);
      index++;
      if (is_tuple)
        element = g_variant_type_next (element);

      if (!read_separator (r, ']', &done, &child))
        {
          g_variant_builder_clear (&builder);
          return NULL;
        }
    }
  if (is_tuple && index < n_items)
    {
      g_variant_builder_clear (&builder);
      return read_error_at (r, r->p - 1, where,
                            bb_i18n_ngettext ("expected %zu element in a tuple, found %zu",
                                              "expected %zu elements in a tuple, found %zu",
                                              n_items),
                            n_items, index),
             NULL;
    }
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

/* A `v`, its type inferred as Go's decoder into interface{} does: object → a{sv},
 * array → av, string → s, number → d, boolean → b, null → a Nothing of type mv. */
static GVariant *
read_variant (Reader *r, guint depth, const Where *where)
{
  g_autoptr (GVariant) inner = NULL;

  switch (peek_kind (r))
    {
      case KIND_OBJECT:
        inner = read_object (r, G_VARIANT_TYPE_VARDICT, depth, where);
        break;
      case KIND_ARRAY:
        inner = read_array (r, G_VARIANT_TYPE ("av"), depth, where);
        break;
      case KIND_STRING:
        inner = read_text (r, G_VARIANT_TYPE_STRING, where);
        break;
      case KIND_NUMBER:
        inner = read_double (r, where);
        break;
      case KIND_BOOLEAN:
        inner = read_boolean (r, where);
        break;
      case KIND_NULL:
        if (!read_literal (r, "null", where))
          return NULL;
        inner = g_variant_ref_sink (g_variant_new_maybe (G_VARIANT_TYPE_VARIANT, NULL));
        break;
      case KIND_INVALID:
      default:
        return read_error_unexpected (r, where, _ ("a JSON value")), NULL;
    }
  if (inner == NULL)
    return NULL;
  return g_variant_ref_sink (g_variant_new_variant (inner));
}

static GVariant *
read_value (Reader *r, const GVariantType *type, guint depth, const Where *where)
{
  skip_ws (r);

  if (g_variant_type_is_maybe (type))
    {
      g_autoptr (GVariant) child = NULL;

      if (peek_kind (r) == KIND_NULL)
        {
          if (!read_literal (r, "null", where))
            return NULL;
          return g_variant_ref_sink (g_variant_new_maybe (g_variant_type_element (type), NULL));
        }
      child = read_value (r, g_variant_type_element (type), depth, where);
      if (child == NULL)
        return NULL;
      return g_variant_ref_sink (g_variant_new_maybe (NULL, child));
    }
  if (g_variant_type_is_variant (type))
    return read_variant (r, depth, where);
  if (g_variant_type_is_tuple (type))
    return read_array (r, type, depth, where);
  if (g_variant_type_is_array (type))
    {
      const GVariantType *element = g_variant_type_element (type);

      if (g_variant_type_equal (element, G_VARIANT_TYPE_BYTE))
        return read_base64 (r, where);
      if (g_variant_type_is_dict_entry (element))
        return read_object (r, type, depth, where);
      return read_array (r, type, depth, where);
    }

  switch (*g_variant_type_peek_string (type))
    {
      case 'b':
        return read_boolean (r, where);
      case 'y':
      case 'n':
      case 'q':
      case 'i':
      case 'u':
      case 'x':
      case 't':
        return read_integer (r, type, where);
      case 'd':
        return read_double (r, where);
      case 's':
      case 'o':
      case 'g':
        return read_text (r, type, where);
      default:
        /* bb_codec_new_json() refuses every other type. */
        g_assert_not_reached ();
    }
}

/* ------------------------------------------------------------------------------------ */
/* The codec                                                                            */

#define BB_TYPE_JSON_CODEC (bb_json_codec_get_type ())
G_DECLARE_FINAL_TYPE (BbJsonCodec, bb_json_codec, BB, JSON_CODEC, BbCodec)

struct _BbJsonCodec
{
  BbCodec parent_instance;
};

G_DEFINE_FINAL_TYPE (BbJsonCodec, bb_json_codec, BB_TYPE_CODEC)

static GBytes *
bb_json_codec_encode (BbCodec *codec, GVariant *value, GError **error)
{
  g_autoptr (GString) out = g_string_new (NULL);

  if (!write_value (out, value, 0, 0, &top_level, error))
    return NULL;
  return g_string_free_to_bytes (g_steal_pointer (&out));
}

static GVariant *
bb_json_codec_decode (BbCodec *codec, GBytes *payload, GError **error)
{
  const GVariantType *type = bb_codec_get_value_type (codec);
  g_autoptr (GVariant) value = NULL;
  Reader r;
  gsize len;

  r.start = g_bytes_get_data (payload, &len);

  /* The reference codec refuses an empty payload before parsing. (An empty GBytes may
   * have no data pointer at all.) */
  if (len == 0)
    {
      g_set_error_literal (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                           _ ("empty JSON payload"));
      return NULL;
    }
  r.p = r.start;
  r.end = r.start + len;
  r.error = error;

  value = read_value (&r, type, 0, &top_level);
  if (value == NULL)
    return NULL;
  skip_ws (&r);
  if (r.p != r.end)
    return read_error_at (&r, r.p, &top_level, _ ("unexpected data after the JSON value")), NULL;
  return g_steal_pointer (&value);
}

static void
bb_json_codec_class_init (BbJsonCodecClass *klass)
{
  BbCodecClass *codec_class = BB_CODEC_CLASS (klass);

  codec_class->encode = bb_json_codec_encode;
  codec_class->decode = bb_json_codec_decode;
}

static void
bb_json_codec_init (BbJsonCodec *self)
{
}

/**
 * bb_codec_new_json:
 * @type: the type of the values, definite and JSON-representable
 *
 * Creates the JSON codec for values of @type, the default codec of the Go reference
 * client. A value is encoded as the JSON text that Go's `json.Marshal` writes for the
 * corresponding Go value, byte for byte: compact, object members sorted by the byte
 * order of their names, and Go's escaping in strings (`"` and `\` escaped; `\b`, `\f`,
 * `\n`, `\r`, `\t` as such; other control characters, `<`, `>`, `&`, U+2028 and U+2029
 * as `\u00XX`-style escapes; everything else as raw UTF-8). The types map as follows:
 *
 * | GVariant | Go | JSON |
 * |---|---|---|
 * | `b` | `bool` | `true` or `false` |
 * | `y` `n` `q` `i` `u` `x` `t` | `uint8` … `uint64` | an integer |
 * | `d` | `float64` | a number (see below) |
 * | `s` `o` `g` | `string` | a string |
 * | `ay` | `[]byte` | a string of padded standard base64 |
 * | `a{s*}` | `map[string]T` | an object |
 * | `a*` (other arrays) | `[]T` | an array |
 * | `m*` | `*T` | `null` or the value |
 * | `(…)` | (none) | an array of exactly as many elements |
 * | `v` | `interface{}` | the value inside, by its own type |
 *
 * Doubles are written as Go writes a `float64`: the shortest decimal that reads back as
 * the same double, in plain notation (`0.1`, `100000000000000000000`, `-0`), but in
 * exponent notation when the absolute value is not zero and below 1e-6 or at least
 * 1e21 (`1e-7`, `1e+21`). NaN and infinities cannot be encoded (Go fails on them too).
 *
 * Decoding reads the JSON into @type as Go's `json.Unmarshal` reads it into the Go type:
 *
 * - an integer type takes only integers in its range: `1.0`, `1e2`, `-1` for an unsigned
 *   type and out-of-range numbers fail; `d` takes any number;
 * - in strings, escapes are resolved, a surrogate pair escape becomes one character, and
 *   a lone surrogate escape and each byte of invalid UTF-8 become U+FFFD;
 * - `null` is an empty array or dictionary (a nil slice or map in Go) and an empty `ay`,
 *   and Nothing for a maybe; a nested maybe's Just Nothing is written as `null` and so
 *   comes back as Nothing;
 * - of repeated object members, the last counts; dictionaries come back sorted by the
 *   byte order of their keys;
 * - a `v` takes any JSON value and gets the type Go's `interface{}` would: an object
 *   becomes `a{sv}`, an array `av`, a string `s`, a number `d`, a boolean `b`, and
 *   `null` a Nothing of type `mv` inside the variant;
 * - whitespace around the value is allowed; an empty payload, trailing data and
 *   anything that is not RFC 8259 JSON fail.
 *
 * So decoding an encoded value gives it back when its dictionaries are sorted and hold
 * no key twice, and encoding a decoded Go payload gives Go's bytes back. Errors are
 * %BB_SYNC_ERROR_INVALID_INPUT and say what is wrong and where.
 *
 * Differences from Go, where GVariant cannot follow or where a Go peer never writes the
 * input:
 *
 * - an empty `ay`, array or dictionary is written as `""`, `[]` or `{}`; Go writes `null`
 *   for a nil slice or map and the former only for an empty one, so a Go `null` comes
 *   back as `""`, `[]` or `{}` once bbsync re-encodes the value;
 * - a dictionary that holds one key twice cannot be encoded (a Go map cannot either);
 * - `null` for a boolean, number or string fails (Go leaves the zero value);
 * - a string holding U+0000 fails (a GVariant string cannot hold it);
 * - an `ay` must be a string of canonical base64 (Go also accepts non-zero padding bits,
 *   line breaks and an array of numbers);
 * - object paths and signatures must be valid;
 * - arrays and objects nest at most 64 levels deep (Go allows 10000), in both directions.
 *
 * @type must be definite (a critical warning otherwise) and JSON-representable: `h`,
 * dictionaries whose keys are not strings, and dictionary entries outside an array have
 * no JSON form, and for them this function emits a critical warning and returns %NULL.
 * A `v` may hold such a value only at the cost of an encoding error.
 *
 * Returns: (transfer full) (nullable): a new codec, or %NULL if @type has no JSON form
 *
 * Since: 0.1
 */
BbCodec *
bb_codec_new_json (const GVariantType *type)
{
  g_return_val_if_fail (type != NULL, NULL);
  g_return_val_if_fail (g_variant_type_is_definite (type), NULL);

  if (!bb_codec_json_type_is_supported (type))
    {
      g_critical ("bb_codec_new_json: the type “%.*s” has no JSON form",
                  (int)g_variant_type_get_string_length (type), g_variant_type_peek_string (type));
      return NULL;
    }
  return g_object_new (BB_TYPE_JSON_CODEC, "value-type", type, NULL);
}
