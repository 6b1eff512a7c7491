/* test-codec.c: the string, bytes and JSON codecs
 *
 * The JSON codec must write exactly the bytes Go's encoding/json writes, so most cases come
 * from tests/data/codec-go.json: a table of GVariant values and the bytes json.Marshal
 * writes for the corresponding Go value. The table was written from the rules of Go's
 * encoding/json source (encodeState.string with htmlSafeSet, floatEncoder, sorted map keys,
 * base64 for []byte; \b and \f as short escapes, as since Go 1.22, since the reference
 * client's go.mod says go 1.26) and then checked against a Go toolchain, as its "_about"
 * member says.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <bbsync/bbsync.h>
#include "bb-codec-private.h"
#include "bb-test-utils.h"

#include <math.h>
#include <string.h>

/* ------------------------------------------------------------------------------------ */
/* Helpers                                                                              */

static const char *
str (JsonObject *o, const char *member)
{
  g_assert_true (json_object_has_member (o, member));
  return json_object_get_string_member (o, member);
}

static const char *
opt_str (JsonObject *o, const char *member)
{
  return json_object_has_member (o, member) ? json_object_get_string_member (o, member) : NULL;
}

static JsonArray *
table (JsonNode *root, const char *name)
{
  JsonObject *o = json_node_get_object (root);

  g_assert_true (json_object_has_member (o, name));
  return json_object_get_array_member (o, name);
}

static GVariant *
parse_value (const char *type, const char *text)
{
  g_autoptr (GError) error = NULL;
  GVariant *value = g_variant_parse (G_VARIANT_TYPE (type), text, NULL, NULL, &error);

  if (value == NULL)
    g_error ("cannot parse GVariant text %s as %s: %s", text, type, error->message);
  return g_variant_ref_sink (value);
}

static GBytes *
text_bytes (const char *text)
{
  return g_bytes_new (text, strlen (text));
}

/* The payload of a table entry: "json" as text or "json_hex" as bytes. */
static GBytes *
entry_payload (JsonObject *o)
{
  if (json_object_has_member (o, "json_hex"))
    return bb_test_hex (str (o, "json_hex"));
  return text_bytes (str (o, "json"));
}

static BbCodec *
json_codec (const char *type)
{
  BbCodec *codec = bb_codec_new_json (G_VARIANT_TYPE (type));

  g_assert_nonnull (codec);
  return codec;
}

/* Asserts @error is set with @code and a message containing @needle, then clears it. */
static void
assert_error (GError **error, int code, const char *needle)
{
  g_assert_nonnull (*error);
  if (!g_error_matches (*error, BB_SYNC_ERROR, code) || strstr ((*error)->message, needle) == NULL)
    g_error ("expected BbSyncError %d containing “%s”, got %s %d: %s", code, needle,
             g_quark_to_string ((*error)->domain), (*error)->code, (*error)->message);
  g_clear_error (error);
}

static void
assert_bytes_text (GBytes *bytes, const char *expected, const char *context)
{
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  if (len != strlen (expected) || memcmp (data, expected, len) != 0)
    g_error ("%s: expected %s, got %.*s", context, expected, (int)len, data);
}

static void
assert_variant_equal (GVariant *got, GVariant *expected, const char *context)
{
  g_assert_nonnull (got);
  g_assert_false (g_variant_is_floating (got));
  if (!g_variant_equal (got, expected))
    {
      g_autofree char *a = g_variant_print (got, TRUE);
      g_autofree char *b = g_variant_print (expected, TRUE);

      g_error ("%s: decoded %s, expected %s", context, a, b);
    }
}

static GBytes *
encode_ok (BbCodec *codec, GVariant *value)
{
  g_autoptr (GError) error = NULL;
  GBytes *bytes = bb_codec_encode (codec, value, &error);

  g_assert_no_error (error);
  g_assert_nonnull (bytes);
  return bytes;
}

static GVariant *
decode_ok (BbCodec *codec, GBytes *payload)
{
  g_autoptr (GError) error = NULL;
  GVariant *value = bb_codec_decode (codec, payload, &error);

  g_assert_no_error (error);
  return value;
}

/* Criticals of the library are expected in a few tests. The library logs through the
 * structured API, which g_test_expect_message() does not see, so this writer swallows the
 * criticals that match the expected pattern and counts them. */
static const char *expected_critical;
static guint n_expected_criticals;

static GLogWriterOutput
test_log_writer (GLogLevelFlags log_level, const GLogField *fields, gsize n_fields,
                 gpointer user_data)
{
  if (expected_critical != NULL && (log_level & G_LOG_LEVEL_CRITICAL) != 0)
    {
      for (gsize i = 0; i < n_fields; i++)
        if (g_strcmp0 (fields[i].key, "MESSAGE") == 0 && fields[i].length < 0
            && g_pattern_match_simple (expected_critical, fields[i].value))
          {
            n_expected_criticals++;
            return G_LOG_WRITER_HANDLED;
          }
    }
  return g_log_writer_default (log_level, fields, n_fields, user_data);
}

static void
expect_critical (const char *pattern)
{
  expected_critical = pattern;
  n_expected_criticals = 0;
}

static void
assert_critical_seen (void)
{
  g_assert_cmpuint (n_expected_criticals, ==, 1);
  expected_critical = NULL;
}

/* ------------------------------------------------------------------------------------ */
/* The JSON codec against Go's bytes                                                    */

/* encode(value) is Go's bytes; decoding them gives the value (or the type Go's decoder
 * would give it), and encoding that gives Go's bytes again. */
static void
test_json_go_encode (void)
{
  g_autoptr (JsonNode) root = bb_test_load_json ("codec-go.json");
  JsonArray *entries = table (root, "encode");

  g_assert_cmpuint (json_array_get_length (entries), >, 100);
  for (guint i = 0; i < json_array_get_length (entries); i++)
    {
      JsonObject *o = json_array_get_object_element (entries, i);
      const char *type = str (o, "type");
      const char *json = str (o, "json");
      const char *decodes_to = opt_str (o, "decodes_to");
      const char *reencoded = opt_str (o, "reencoded");
      g_autoptr (BbCodec) codec = json_codec (type);
      g_autoptr (GVariant) value = parse_value (type, str (o, "value"));
      g_autoptr (GVariant) expected
          = parse_value (type, decodes_to ? decodes_to : str (o, "value"));
      g_autoptr (GBytes) encoded = encode_ok (codec, value);
      g_autoptr (GVariant) decoded = NULL;
      g_autoptr (GBytes) again = NULL;

      assert_bytes_text (encoded, json, str (o, "value"));
      decoded = decode_ok (codec, encoded);
      assert_variant_equal (decoded, expected, json);
      again = encode_ok (codec, decoded);
      assert_bytes_text (again, reencoded ? reencoded : json, json);
    }
}

/* Payloads as Go writes or accepts them (whitespace, escapes, repeated keys, invalid
 * UTF-8, lone surrogates, null for a slice): the decoded value, and its encoding. */
static void
test_json_go_decode (void)
{
  g_autoptr (JsonNode) root = bb_test_load_json ("codec-go.json");
  JsonArray *entries = table (root, "decode");

  g_assert_cmpuint (json_array_get_length (entries), >, 20);
  for (guint i = 0; i < json_array_get_length (entries); i++)
    {
      JsonObject *o = json_array_get_object_element (entries, i);
      const char *type = str (o, "type");
      const char *reencoded = opt_str (o, "reencoded");
      g_autoptr (BbCodec) codec = json_codec (type);
      g_autoptr (GBytes) payload = entry_payload (o);
      g_autoptr (GVariant) expected = parse_value (type, str (o, "value"));
      g_autoptr (GVariant) decoded = decode_ok (codec, payload);
      g_autoptr (GBytes) encoded = NULL;

      assert_variant_equal (decoded, expected, str (o, "value"));
      encoded = encode_ok (codec, decoded);
      if (reencoded != NULL)
        assert_bytes_text (encoded, reencoded, str (o, "value"));
      else
        g_assert_true (g_bytes_equal (encoded, payload));
    }
}

/* Every malformed or mistyped payload fails with INVALID_INPUT and says what and where. */
static void
test_json_decode_errors (void)
{
  g_autoptr (JsonNode) root = bb_test_load_json ("codec-go.json");
  JsonArray *entries = table (root, "decode_errors");

  g_assert_cmpuint (json_array_get_length (entries), >, 50);
  for (guint i = 0; i < json_array_get_length (entries); i++)
    {
      JsonObject *o = json_array_get_object_element (entries, i);
      g_autoptr (BbCodec) codec = json_codec (str (o, "type"));
      g_autoptr (GBytes) payload = entry_payload (o);
      g_autoptr (GError) error = NULL;
      g_autoptr (GVariant) value = bb_codec_decode (codec, payload, &error);

      if (value != NULL)
        {
          g_autofree char *printed = g_variant_print (value, TRUE);

          g_error ("%s as %s decoded to %s, expected an error", str (o, "type"),
                   opt_str (o, "json") ? opt_str (o, "json") : str (o, "json_hex"), printed);
        }
      assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, str (o, "error"));
    }
}

static void
test_json_encode_errors (void)
{
  g_autoptr (JsonNode) root = bb_test_load_json ("codec-go.json");
  JsonArray *entries = table (root, "encode_errors");

  g_assert_cmpuint (json_array_get_length (entries), >, 5);
  for (guint i = 0; i < json_array_get_length (entries); i++)
    {
      JsonObject *o = json_array_get_object_element (entries, i);
      g_autoptr (BbCodec) codec = json_codec (str (o, "type"));
      g_autoptr (GVariant) value = parse_value (str (o, "type"), str (o, "value"));
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) bytes = bb_codec_encode (codec, value, &error);

      g_assert_null (bytes);
      assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, str (o, "error"));
    }
}

static double
double_from_hex (const char *hex)
{
  guint64 bits = g_ascii_strtoull (hex, NULL, 16);
  double d;

  G_STATIC_ASSERT (sizeof d == sizeof bits);
  memcpy (&d, &bits, sizeof d);
  return d;
}

static guint64
double_bits (double d)
{
  guint64 bits;

  memcpy (&bits, &d, sizeof bits);
  return bits;
}

/* Go's float64 bytes for edge cases (powers of two, the 1e-6 and 1e21 switches, the
 * smallest and largest doubles) and random bit patterns; decoding gives the same bits. */
static void
test_json_go_floats (void)
{
  g_autoptr (JsonNode) root = bb_test_load_json ("codec-go.json");
  JsonArray *entries = table (root, "floats");
  g_autoptr (BbCodec) codec = json_codec ("d");

  g_assert_cmpuint (json_array_get_length (entries), >, 500);
  for (guint i = 0; i < json_array_get_length (entries); i++)
    {
      JsonArray *pair = json_array_get_array_element (entries, i);
      const char *hex = json_array_get_string_element (pair, 0);
      const char *json = json_array_get_string_element (pair, 1);
      double d = double_from_hex (hex);
      g_autoptr (GBytes) encoded = encode_ok (codec, g_variant_new_double (d));
      g_autoptr (GVariant) decoded = decode_ok (codec, encoded);

      assert_bytes_text (encoded, json, hex);
      g_assert_cmphex (double_bits (g_variant_get_double (decoded)), ==, double_bits (d));
    }
}

/* Random doubles: the text reads back as the same bits, has at most 17 significant
 * digits, and follows Go's choice of notation. */
static void
test_json_float_round_trip (void)
{
  g_autoptr (BbCodec) codec = json_codec ("d");

  for (guint i = 0; i < 100000; i++)
    {
      guint64 bits = (guint64)g_test_rand_int () << 32 | (guint32)g_test_rand_int ();
      g_autoptr (GString) text = g_string_new (NULL);
      double d, back, abs_d;
      guint n_digits = 0;
      gboolean seen_nonzero = FALSE;
      const char *e;

      memcpy (&d, &bits, sizeof d);
      if (!isfinite (d))
        continue;
      abs_d = fabs (d);
      bb_codec_json_append_double (text, d);
      back = g_ascii_strtod (text->str, NULL);
      g_assert_cmphex (double_bits (back), ==, bits);

      /* The codec writes that text and reads it back as the same bits. */
      {
        g_autoptr (GBytes) encoded = encode_ok (codec, g_variant_new_double (d));
        g_autoptr (GVariant) decoded = decode_ok (codec, encoded);

        assert_bytes_text (encoded, text->str, "random double");
        g_assert_cmphex (double_bits (g_variant_get_double (decoded)), ==, bits);
      }

      e = strchr (text->str, 'e');
      g_assert_true ((e != NULL) == (abs_d != 0 && (abs_d < 1e-6 || abs_d >= 1e21)));
      if (e != NULL)
        {
          g_assert_true (e[1] == '+' || e[1] == '-');
          g_assert_true (e[2] != '0');
        }
      for (const char *p = text->str; *p != '\0' && p != e; p++)
        if (g_ascii_isdigit (*p) && (*p != '0' || seen_nonzero))
          {
            seen_nonzero = TRUE;
            n_digits++;
          }
      /* Trailing zeros of a large integer are not significant. */
      if (e == NULL && strchr (text->str, '.') == NULL)
        {
          for (gssize k = (gssize)text->len - 1; k >= 0 && text->str[k] == '0'; k--)
            n_digits--;
        }
      g_assert_cmpuint (n_digits, <=, 17);
    }
}

/* A hostile nesting depth fails fast with an error, never a stack overflow; the limit
 * itself is fine both ways. */
static void
test_json_depth (void)
{
  g_autoptr (BbCodec) codec = json_codec ("v");
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) deep = g_string_new (NULL);
  g_autoptr (GBytes) payload = NULL;
  g_autoptr (GVariant) value = NULL;
  g_autoptr (GBytes) encoded = NULL;

  for (guint i = 0; i < 100000; i++)
    g_string_append_c (deep, '[');
  payload = text_bytes (deep->str);
  value = bb_codec_decode (codec, payload, &error);
  g_assert_null (value);
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT,
                "nested deeper than 64 levels in element 0 at offset 64");
  g_clear_pointer (&payload, g_bytes_unref);

  g_string_truncate (deep, 0);
  for (guint i = 0; i < 100000; i++)
    g_string_append (deep, "{\"a\":");
  payload = text_bytes (deep->str);
  value = bb_codec_decode (codec, payload, &error);
  g_assert_null (value);
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "nested deeper than 64 levels");
  g_clear_pointer (&payload, g_bytes_unref);

  /* Exactly 64 levels: decoded and encoded back unchanged. */
  g_string_truncate (deep, 0);
  for (guint i = 0; i < BB_CODEC_JSON_MAX_DEPTH; i++)
    g_string_append (deep, i % 2 ? "[" : "{\"k\":");
  g_string_append (deep, "null");
  for (guint i = BB_CODEC_JSON_MAX_DEPTH; i > 0; i--)
    g_string_append_c (deep, (i - 1) % 2 ? ']' : '}');
  payload = text_bytes (deep->str);
  value = decode_ok (codec, payload);
  encoded = encode_ok (codec, value);
  g_assert_true (g_bytes_equal (encoded, payload));

  /* A chain of variants in variants ends too. */
  {
    GVariant *chain = g_variant_new_int32 (1);
    g_autoptr (GVariant) owned = NULL;
    g_autoptr (GBytes) bytes = NULL;

    for (guint i = 0; i < 1000; i++)
      chain = g_variant_new_variant (chain);
    owned = g_variant_ref_sink (chain);
    bytes = bb_codec_encode (codec, owned, &error);
    g_assert_null (bytes);
    assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "variants nested deeper than 128");
  }
}

/* Decoding never hangs or crashes on truncations of valid payloads, and what it
 * accepts is stable under encoding. */
static void
test_json_truncations (void)
{
  g_autoptr (JsonNode) root = bb_test_load_json ("codec-go.json");
  JsonArray *entries = table (root, "encode");

  for (guint i = 0; i < json_array_get_length (entries); i++)
    {
      JsonObject *o = json_array_get_object_element (entries, i);
      const char *json = str (o, "json");
      g_autoptr (BbCodec) codec = json_codec (str (o, "type"));

      for (gsize len = 0; len < strlen (json); len++)
        {
          g_autoptr (GBytes) payload = g_bytes_new (json, len);
          g_autoptr (GError) error = NULL;
          g_autoptr (GVariant) value = bb_codec_decode (codec, payload, &error);

          if (value != NULL)
            {
              /* A prefix can be valid JSON itself ("12" of "123"). */
              g_autoptr (GBytes) encoded = encode_ok (codec, value);
              g_autoptr (GVariant) again = decode_ok (codec, encoded);

              assert_variant_equal (again, value, json);
            }
          else
            g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT);
        }
    }
}

/* ------------------------------------------------------------------------------------ */
/* The codec object                                                                     */

static void
test_json_types (void)
{
  const char *supported[]
      = { "b",     "y",  "n",      "q",     "i",    "u",    "x",         "t",      "d",
          "s",     "o",  "g",      "v",     "ay",   "as",   "a{sv}",     "a{sas}", "mmi",
          "(sib)", "()", "aa{sd}", "a(sv)", "m(s)", "maay", "a{sma{sv}}" };
  const char *unsupported[]
      = { "h", "ah", "a{is}", "a{ov}", "{sv}", "(sh)", "mh", "a{s{sv}}", "am{sv}" };

  for (guint i = 0; i < G_N_ELEMENTS (supported); i++)
    {
      g_autoptr (BbCodec) codec = json_codec (supported[i]);
      g_autoptr (GVariantType) property = NULL;

      g_assert_true (
          g_variant_type_equal (bb_codec_get_value_type (codec), G_VARIANT_TYPE (supported[i])));
      g_object_get (codec, "value-type", &property, NULL);
      g_assert_true (g_variant_type_equal (property, G_VARIANT_TYPE (supported[i])));
    }
  for (guint i = 0; i < G_N_ELEMENTS (unsupported); i++)
    {
      BbCodec *codec;

      expect_critical ("*has no JSON form*");
      codec = bb_codec_new_json (G_VARIANT_TYPE (unsupported[i]));
      assert_critical_seen ();
      g_assert_null (codec);
    }
  {
    BbCodec *codec;

    /* g_return_val_if_fail() logs through the old API, which g_test_expect_message() sees. */
    g_test_expect_message ("BbSync", G_LOG_LEVEL_CRITICAL, "*g_variant_type_is_definite*");
    codec = bb_codec_new_json (G_VARIANT_TYPE ("a*"));
    g_test_assert_expected_messages ();
    g_assert_null (codec);
  }
}

/* encode checks the value's type; a floating value is consumed. */
static void
test_json_value_type (void)
{
  g_autoptr (BbCodec) codec = json_codec ("a{sv}");
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  GVariantBuilder builder;

  bytes = bb_codec_encode (codec, g_variant_new_string ("not a dictionary"), &error);
  g_assert_null (bytes);
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "expected type “a{sv}”, got “s”");

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&builder, "{sv}", "note", g_variant_new_string ("<b>"));
  bytes = encode_ok (codec, g_variant_builder_end (&builder));
  assert_bytes_text (bytes, "{\"note\":\"\\u003cb\\u003e\"}", "floating a{sv}");
}

/* ------------------------------------------------------------------------------------ */
/* The string and bytes codecs                                                          */

static void
test_string_codec (void)
{
  g_autoptr (BbCodec) codec = bb_codec_new_string ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GBytes) payload = NULL;
  g_autoptr (GVariant) value = NULL;
  const char text[] = "caf\xc3\xa9 <&> \xe2\x80\xa8 \"raw\"\n";

  g_assert_true (g_variant_type_equal (bb_codec_get_value_type (codec), G_VARIANT_TYPE_STRING));

  /* The UTF-8 bytes unchanged, no terminator, no escaping. */
  bytes = encode_ok (codec, g_variant_new_string (text));
  g_assert_cmpuint (g_bytes_get_size (bytes), ==, strlen (text));
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), strlen (text), text, strlen (text));
  value = decode_ok (codec, bytes);
  g_assert_cmpstr (g_variant_get_string (value, NULL), ==, text);
  g_clear_pointer (&value, g_variant_unref);
  g_clear_pointer (&bytes, g_bytes_unref);

  /* Empty both ways. */
  bytes = encode_ok (codec, g_variant_new_string (""));
  g_assert_cmpuint (g_bytes_get_size (bytes), ==, 0);
  value = decode_ok (codec, bytes);
  g_assert_cmpstr (g_variant_get_string (value, NULL), ==, "");
  g_clear_pointer (&value, g_variant_unref);

  /* What a GVariant string cannot hold (Go's string codec would take it). */
  payload = g_bytes_new ("ab\xff", 3);
  value = bb_codec_decode (codec, payload, &error);
  g_assert_null (value);
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "invalid UTF-8 at offset 2");
  g_clear_pointer (&payload, g_bytes_unref);

  payload = g_bytes_new ("\xed\xa0\x80", 3);
  value = bb_codec_decode (codec, payload, &error);
  g_assert_null (value);
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "invalid UTF-8 at offset 0");
  g_clear_pointer (&payload, g_bytes_unref);

  payload = g_bytes_new ("a\0b", 3);
  value = bb_codec_decode (codec, payload, &error);
  g_assert_null (value);
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "NUL byte at offset 1");
  g_clear_pointer (&payload, g_bytes_unref);

  bytes = bb_codec_encode (codec, g_variant_new_int32 (1), &error);
  g_assert_null (bytes);
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "expected type “s”");
}

static void
test_bytes_codec (void)
{
  g_autoptr (BbCodec) codec = bb_codec_new_bytes ();
  guint8 buffer[] = { 0x00, 0xff, 0x10, 0x00, 0x80 };
  g_autoptr (GBytes) payload = g_bytes_new_static (buffer, sizeof buffer);
  g_autoptr (GVariant) value = NULL;
  g_autoptr (GBytes) encoded = NULL;
  g_autoptr (GBytes) empty = g_bytes_new (NULL, 0);
  gsize len;
  const guint8 *data;

  g_assert_true (g_variant_type_equal (bb_codec_get_value_type (codec), G_VARIANT_TYPE_BYTESTRING));

  /* decode copies: changing the payload's memory does not change the value. */
  value = decode_ok (codec, payload);
  buffer[0] = 0x42;
  data = g_variant_get_fixed_array (value, &len, 1);
  g_assert_cmpuint (len, ==, sizeof buffer);
  g_assert_cmpuint (data[0], ==, 0x00);
  g_assert_cmpuint (data[1], ==, 0xff);

  /* encode copies the bytes out of the value. */
  encoded = encode_ok (codec, value);
  g_assert_cmpuint (g_bytes_get_size (encoded), ==, sizeof buffer);
  g_assert_true (g_bytes_get_data (encoded, NULL) != (gconstpointer)data);
  g_assert_cmpmem (g_bytes_get_data (encoded, NULL), sizeof buffer, data, len);
  g_clear_pointer (&value, g_variant_unref);
  g_clear_pointer (&encoded, g_bytes_unref);

  value = decode_ok (codec, empty);
  g_assert_cmpuint (g_variant_n_children (value), ==, 0);
  encoded = encode_ok (codec, value);
  g_assert_cmpuint (g_bytes_get_size (encoded), ==, 0);
}

/* ------------------------------------------------------------------------------------ */
/* A codec of the app's own                                                             */

#define TEST_TYPE_UPPER_CODEC (test_upper_codec_get_type ())
G_DECLARE_FINAL_TYPE (TestUpperCodec, test_upper_codec, TEST, UPPER_CODEC, BbCodec)

struct _TestUpperCodec
{
  BbCodec parent_instance;
  gboolean return_wrong_type;
};

G_DEFINE_FINAL_TYPE (TestUpperCodec, test_upper_codec, BB_TYPE_CODEC)

static GBytes *
test_upper_codec_encode (BbCodec *codec, GVariant *value, GError **error)
{
  g_autofree char *upper = g_ascii_strup (g_variant_get_string (value, NULL), -1);

  return g_bytes_new (upper, strlen (upper));
}

static GVariant *
test_upper_codec_decode (BbCodec *codec, GBytes *payload, GError **error)
{
  gsize len;
  const char *data = g_bytes_get_data (payload, &len);
  g_autofree char *text = g_strndup (data != NULL ? data : "", len);

  if (TEST_UPPER_CODEC (codec)->return_wrong_type)
    return g_variant_new_int32 (0);
  /* Floating on purpose: bb_codec_decode() must sink it. */
  return g_variant_new_take_string (g_ascii_strdown (text, -1));
}

static void
test_upper_codec_class_init (TestUpperCodecClass *klass)
{
  BB_CODEC_CLASS (klass)->encode = test_upper_codec_encode;
  BB_CODEC_CLASS (klass)->decode = test_upper_codec_decode;
}

static void
test_upper_codec_init (TestUpperCodec *self)
{
}

static void
test_subclass (void)
{
  g_autoptr (TestUpperCodec) upper
      = g_object_new (TEST_TYPE_UPPER_CODEC, "value-type", G_VARIANT_TYPE_STRING, NULL);
  BbCodec *codec = BB_CODEC (upper);
  g_autoptr (GBytes) bytes = encode_ok (codec, g_variant_new_string ("Hello"));
  g_autoptr (GVariant) value = NULL;
  g_autoptr (GError) error = NULL;

  assert_bytes_text (bytes, "HELLO", "upper");
  value = decode_ok (codec, bytes);
  g_assert_cmpstr (g_variant_get_string (value, NULL), ==, "hello");
  g_clear_pointer (&value, g_variant_unref);

  /* A subclass that breaks the contract gets a critical and the caller an error. */
  upper->return_wrong_type = TRUE;
  expect_critical ("*decode returned a value of the wrong type");
  value = bb_codec_decode (codec, bytes, &error);
  assert_critical_seen ();
  g_assert_null (value);
  assert_error (&error, BB_SYNC_ERROR_FAILED, "decoding failed");
}

int
main (int argc, char **argv)
{
  g_log_set_writer_func (test_log_writer, NULL, NULL);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/codec/json/go-encode", test_json_go_encode);
  g_test_add_func ("/codec/json/go-decode", test_json_go_decode);
  g_test_add_func ("/codec/json/decode-errors", test_json_decode_errors);
  g_test_add_func ("/codec/json/encode-errors", test_json_encode_errors);
  g_test_add_func ("/codec/json/go-floats", test_json_go_floats);
  g_test_add_func ("/codec/json/float-round-trip", test_json_float_round_trip);
  g_test_add_func ("/codec/json/depth", test_json_depth);
  g_test_add_func ("/codec/json/truncations", test_json_truncations);
  g_test_add_func ("/codec/json/types", test_json_types);
  g_test_add_func ("/codec/json/value-type", test_json_value_type);
  g_test_add_func ("/codec/string", test_string_codec);
  g_test_add_func ("/codec/bytes", test_bytes_codec);
  g_test_add_func ("/codec/subclass", test_subclass);

  return g_test_run ();
}
