/* fuzz-json-codec.c: the JSON codec (and the string codec) under libFuzzer
 *
 * Every input is decoded as each of a few declared types. A failure must be an
 * INVALID_INPUT error with a message. A success must encode, decode back to an equal
 * value, and encode again to the same bytes: what the reader accepts, the writer can
 * write, and writing is stable. The string codec must give back exactly the bytes it
 * accepted.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <bbsync/bbsync.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static const char *const types[] = { "v", "a{sv}", "as", "x", "d", "(sib)", "a{sas}" };

static void
check_error (GError *error, const char *type)
{
  if (error == NULL || !g_error_matches (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT)
      || error->message == NULL || error->message[0] == '\0')
    {
      g_printerr ("%s: decode failed without an INVALID_INPUT error\n", type);
      abort ();
    }
}

static void
check_json (BbCodec *codec, const char *type, GBytes *payload)
{
  GError *error = NULL;
  GVariant *value, *again;
  GBytes *encoded, *reencoded;

  value = bb_codec_decode (codec, payload, &error);
  if (value == NULL)
    {
      check_error (error, type);
      g_error_free (error);
      return;
    }
  if (g_variant_is_floating (value) || !g_variant_is_of_type (value, G_VARIANT_TYPE (type)))
    abort ();

  encoded = bb_codec_encode (codec, value, &error);
  if (encoded == NULL)
    {
      g_printerr ("%s: decoded a value that does not encode: %s\n", type, error->message);
      abort ();
    }
  again = bb_codec_decode (codec, encoded, &error);
  if (again == NULL)
    {
      g_printerr ("%s: the encoding %.*s does not decode: %s\n", type,
                  (int)g_bytes_get_size (encoded), (const char *)g_bytes_get_data (encoded, NULL),
                  error->message);
      abort ();
    }
  if (!g_variant_equal (again, value))
    {
      g_autofree char *a = g_variant_print (value, TRUE);
      g_autofree char *b = g_variant_print (again, TRUE);

      g_printerr ("%s: %s\n  came back as %s\n", type, a, b);
      abort ();
    }
  reencoded = bb_codec_encode (codec, again, &error);
  if (reencoded == NULL || !g_bytes_equal (reencoded, encoded))
    {
      g_printerr ("%s: encoding is not stable\n", type);
      abort ();
    }

  g_bytes_unref (reencoded);
  g_variant_unref (again);
  g_bytes_unref (encoded);
  g_variant_unref (value);
}

static void
check_string (BbCodec *codec, GBytes *payload)
{
  GError *error = NULL;
  GVariant *value = bb_codec_decode (codec, payload, &error);
  GBytes *encoded;

  if (value == NULL)
    {
      check_error (error, "s");
      g_error_free (error);
      return;
    }
  encoded = bb_codec_encode (codec, value, &error);
  if (encoded == NULL || !g_bytes_equal (encoded, payload))
    abort ();
  g_bytes_unref (encoded);
  g_variant_unref (value);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static BbCodec *codecs[G_N_ELEMENTS (types)];
  static BbCodec *string_codec;
  GBytes *payload;

  if (string_codec == NULL)
    {
      for (gsize i = 0; i < G_N_ELEMENTS (types); i++)
        codecs[i] = bb_codec_new_json (G_VARIANT_TYPE (types[i]));
      string_codec = bb_codec_new_string ();
    }

  payload = g_bytes_new (data, size);
  for (gsize i = 0; i < G_N_ELEMENTS (types); i++)
    check_json (codecs[i], types[i], payload);
  check_string (string_codec, payload);
  g_bytes_unref (payload);
  return 0;
}
