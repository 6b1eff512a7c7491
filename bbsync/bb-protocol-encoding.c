/* bb-protocol-encoding.c: hex, base64 and base64url as the protocol writes and reads them
 *
 * Separate from the wire constructions because every layer decodes IDs, keys and secrets
 * with these strict rules (one canonical form per value), not only the constructions.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-protocol.h"
#include "bb-protocol-private.h"
#include "bb-crypto-private.h"
#include "bb-error.h"

#include "bb-i18n-private.h"
#include <string.h>

/* ------------------------------------------------------------------------------------ */
/* Hex                                                                                  */

static const char hex_digits[] = "0123456789abcdef";

char *
bb_protocol_hex_encode_raw (const guint8 *data, gsize len)
{
  char *out = g_malloc (len * 2 + 1);

  for (gsize i = 0; i < len; i++)
    {
      out[2 * i] = hex_digits[data[i] >> 4];
      out[2 * i + 1] = hex_digits[data[i] & 0x0f];
    }
  out[len * 2] = '\0';
  return out;
}

/* The core decoder: the checks run in the order of the reference client (case, then
 * hex syntax, then length), so the message matches the first rule that fails. */
static guint8 *
hex_decode_raw (const char *text, gboolean lower_only, gssize expected_len, const char *field,
                gsize *out_len, GError **error)
{
  gsize len = strlen (text);
  guint8 *out;

  if (lower_only)
    {
      for (gsize i = 0; i < len; i++)
        if (g_ascii_isupper (text[i]))
          {
            g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                         _ ("%s: must be lower-case hex"), field);
            return NULL;
          }
    }
  if (len % 2 != 0)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("%s: hex has an odd length"), field);
      return NULL;
    }
  for (gsize i = 0; i < len; i++)
    if (g_ascii_xdigit_value (text[i]) < 0)
      {
        g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                     _ ("%s: invalid hex character at offset %zu"), field, i);
        return NULL;
      }
  if (expected_len >= 0 && len / 2 != (gsize)expected_len)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("%s: must be %zd bytes of hex, got %zu"), field, expected_len, len / 2);
      return NULL;
    }

  out = g_malloc (len / 2 + 1);
  for (gsize i = 0; i < len / 2; i++)
    out[i] = (guint8)(g_ascii_xdigit_value (text[2 * i]) << 4
                      | g_ascii_xdigit_value (text[2 * i + 1]));
  *out_len = len / 2;
  return out;
}

gboolean
bb_protocol_decode_lower_hex_into (const char *text, const char *field, guint8 *out, gsize len,
                                   GError **error)
{
  gsize got = 0;
  guint8 *raw;

  g_return_val_if_fail (field != NULL, FALSE);

  if (text == NULL)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT, _ ("%s: missing"), field);
      return FALSE;
    }
  raw = hex_decode_raw (text, TRUE, (gssize)len, field, &got, error);
  if (raw == NULL)
    return FALSE;
  memcpy (out, raw, len);
  g_free (raw);
  return TRUE;
}

/**
 * bb_protocol_hex_encode:
 * @data: the bytes to encode
 *
 * Encodes @data as lower-case hex, two characters per byte, the only form the protocol
 * emits.
 *
 * Returns: (transfer full): the hex string
 *
 * Since: 0.1
 */
gchar *
bb_protocol_hex_encode (GBytes *data)
{
  gsize len;
  const guint8 *p;

  g_return_val_if_fail (data != NULL, NULL);

  p = g_bytes_get_data (data, &len);
  return bb_protocol_hex_encode_raw (p, len);
}

/**
 * bb_protocol_lower_hex_decode:
 * @text: the hex text
 * @expected_len: the exact decoded size in bytes, or -1 for any size
 * @field: the name of the value, used in error messages
 * @error: return location for a [struct@GLib.Error]
 *
 * Decodes strict lower-case hex (the protocol's "lower-hex-exact"): no upper-case
 * letters, an even number of hex digits, and exactly @expected_len bytes. Used for
 * IDs, key IDs and public keys.
 *
 * Returns: (transfer full): the decoded bytes, or %NULL with %BB_SYNC_ERROR_INVALID_INPUT
 *
 * Since: 0.1
 */
GBytes *
bb_protocol_lower_hex_decode (const char *text, gssize expected_len, const char *field,
                              GError **error)
{
  gsize len = 0;
  guint8 *raw;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (field != NULL, NULL);

  raw = hex_decode_raw (text, TRUE, expected_len, field, &len, error);
  return raw ? g_bytes_new_take (raw, len) : NULL;
}

/**
 * bb_protocol_hex_decode:
 * @text: the hex text
 * @expected_len: the exact decoded size in bytes, or -1 for any size
 * @field: the name of the value, used in error messages
 * @error: return location for a [struct@GLib.Error]
 *
 * Decodes hex of either case (the protocol's "hex-exact"), as a server does for
 * `intentSignature`. Clients always emit lower case.
 *
 * Returns: (transfer full): the decoded bytes, or %NULL with %BB_SYNC_ERROR_INVALID_INPUT
 *
 * Since: 0.1
 */
GBytes *
bb_protocol_hex_decode (const char *text, gssize expected_len, const char *field, GError **error)
{
  gsize len = 0;
  guint8 *raw;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (field != NULL, NULL);

  raw = hex_decode_raw (text, FALSE, expected_len, field, &len, error);
  return raw ? g_bytes_new_take (raw, len) : NULL;
}

/**
 * bb_protocol_validate_lower_hex:
 * @text: the hex text
 * @expected_len: the exact decoded size in bytes
 * @field: the name of the value, used in error messages
 * @error: return location for a [struct@GLib.Error]
 *
 * Checks that @text is lower-case hex of exactly @expected_len bytes, without
 * keeping the decoded bytes.
 *
 * Returns: %TRUE if valid; %FALSE with %BB_SYNC_ERROR_INVALID_INPUT otherwise
 *
 * Since: 0.1
 */
gboolean
bb_protocol_validate_lower_hex (const char *text, gsize expected_len, const char *field,
                                GError **error)
{
  gsize len = 0;
  guint8 *raw;

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (field != NULL, FALSE);

  raw = hex_decode_raw (text, TRUE, (gssize)expected_len, field, &len, error);
  g_free (raw);
  return raw != NULL;
}

/* ------------------------------------------------------------------------------------ */
/* Base64 and base64url                                                                 */

static const char b64_std_alphabet[]
    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url_alphabet[]
    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int
b64_value (char c, gboolean url)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == (url ? '-' : '+'))
    return 62;
  if (c == (url ? '_' : '/'))
    return 63;
  return -1;
}

static char *
b64_encode_raw (const guint8 *data, gsize len, gboolean url)
{
  const char *alphabet = url ? b64_url_alphabet : b64_std_alphabet;
  GString *out = g_string_sized_new ((len + 2) / 3 * 4 + 1);
  gsize i;

  for (i = 0; i + 3 <= len; i += 3)
    {
      guint32 v = (guint32)data[i] << 16 | (guint32)data[i + 1] << 8 | data[i + 2];
      g_string_append_c (out, alphabet[(v >> 18) & 63]);
      g_string_append_c (out, alphabet[(v >> 12) & 63]);
      g_string_append_c (out, alphabet[(v >> 6) & 63]);
      g_string_append_c (out, alphabet[v & 63]);
    }
  if (len - i == 1)
    {
      guint32 v = (guint32)data[i] << 16;
      g_string_append_c (out, alphabet[(v >> 18) & 63]);
      g_string_append_c (out, alphabet[(v >> 12) & 63]);
      if (!url)
        g_string_append (out, "==");
    }
  else if (len - i == 2)
    {
      guint32 v = (guint32)data[i] << 16 | (guint32)data[i + 1] << 8;
      g_string_append_c (out, alphabet[(v >> 18) & 63]);
      g_string_append_c (out, alphabet[(v >> 12) & 63]);
      g_string_append_c (out, alphabet[(v >> 6) & 63]);
      if (!url)
        g_string_append_c (out, '=');
    }
  return g_string_free (out, FALSE);
}

/* Frees a buffer decoded from text that failed a check: it may hold most of a secret. */
static void
discard_decoded (guint8 *raw, gsize len)
{
  if (raw != NULL)
    bb_crypto_wipe (raw, len);
  g_free (raw);
}

/* Whether @len decoded bytes are the @expected_len wanted (-1 for any); if not, @raw is
 * discarded and @error set. */
static gboolean
check_decoded_len (guint8 *raw, gsize len, gssize expected_len, const char *field, GError **error)
{
  if (expected_len < 0 || len == (gsize)expected_len)
    return TRUE;
  discard_decoded (raw, len);
  g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
               _ ("%s: must be %zd bytes, got %zu"), field, expected_len, len);
  return FALSE;
}

/* Decodes base64 without tolerating anything: no whitespace, padding exactly where the
 * canonical encoder puts it (standard) or none at all (url). A valid encoding whose
 * unused trailing bits are not zero decodes but is flagged *non_canonical, because the
 * reference client checks the length before canonicality for base64url. Returns NULL on
 * a syntax error. */
static guint8 *
b64_decode_raw (const char *text, gboolean url, gsize *out_len, gboolean *non_canonical)
{
  gsize len = strlen (text);
  gsize data_len = len;
  gsize pad = 0;
  guint8 *out;
  gsize o = 0, i;

  *non_canonical = FALSE;
  if (!url)
    {
      if (len % 4 != 0)
        return NULL;
      while (pad < 2 && data_len > 0 && text[data_len - 1] == '=')
        {
          data_len--;
          pad++;
        }
      /* A full padding quad ("====" or "x===") is never produced by an encoder. */
      if (pad > 0 && data_len % 4 + pad != 4)
        return NULL;
    }
  else if (len % 4 == 1)
    return NULL;

  out = g_malloc (data_len / 4 * 3 + 3);
  for (i = 0; i + 4 <= data_len; i += 4)
    {
      int a = b64_value (text[i], url), b = b64_value (text[i + 1], url);
      int c = b64_value (text[i + 2], url), d = b64_value (text[i + 3], url);
      if (a < 0 || b < 0 || c < 0 || d < 0)
        goto fail;
      out[o++] = (guint8)(a << 2 | b >> 4);
      out[o++] = (guint8)((b & 15) << 4 | c >> 2);
      out[o++] = (guint8)((c & 3) << 6 | d);
    }
  if (data_len - i == 2)
    {
      int a = b64_value (text[i], url), b = b64_value (text[i + 1], url);
      if (a < 0 || b < 0)
        goto fail;
      out[o++] = (guint8)(a << 2 | b >> 4);
      if ((b & 15) != 0)
        *non_canonical = TRUE;
    }
  else if (data_len - i == 3)
    {
      int a = b64_value (text[i], url), b = b64_value (text[i + 1], url);
      int c = b64_value (text[i + 2], url);
      if (a < 0 || b < 0 || c < 0)
        goto fail;
      out[o++] = (guint8)(a << 2 | b >> 4);
      out[o++] = (guint8)((b & 15) << 4 | c >> 2);
      if ((c & 3) != 0)
        *non_canonical = TRUE;
    }
  else if (data_len - i != 0)
    goto fail;

  *out_len = o;
  return out;

fail:
  /* What was decoded before the bad character may be most of a secret. */
  discard_decoded (out, o);
  return NULL;
}

/**
 * bb_protocol_base64_encode:
 * @data: the bytes to encode
 *
 * Encodes @data as standard, padded base64 (RFC 4648 §4) without line breaks.
 *
 * Returns: (transfer full): the base64 text
 *
 * Since: 0.1
 */
gchar *
bb_protocol_base64_encode (GBytes *data)
{
  gsize len;
  const guint8 *p;

  g_return_val_if_fail (data != NULL, NULL);

  p = g_bytes_get_data (data, &len);
  return b64_encode_raw (p, len, FALSE);
}

/**
 * bb_protocol_base64_decode:
 * @text: the base64 text
 * @expected_len: the exact decoded size in bytes, or -1 for any size
 * @field: the name of the value, used in error messages
 * @error: return location for a [struct@GLib.Error]
 *
 * Decodes canonical standard base64: the text must be exactly what
 * bb_protocol_base64_encode() produces for the decoded bytes, so missing padding,
 * non-zero trailing bits and embedded whitespace or newlines are all rejected.
 *
 * Returns: (transfer full): the decoded bytes, or %NULL with %BB_SYNC_ERROR_INVALID_INPUT
 *
 * Since: 0.1
 */
GBytes *
bb_protocol_base64_decode (const char *text, gssize expected_len, const char *field, GError **error)
{
  gsize len = 0;
  gboolean non_canonical;
  guint8 *raw;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (field != NULL, NULL);

  raw = b64_decode_raw (text, FALSE, &len, &non_canonical);
  if (raw == NULL || non_canonical)
    {
      discard_decoded (raw, len);
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("%s: must use canonical base64"), field);
      return NULL;
    }
  if (!check_decoded_len (raw, len, expected_len, field, error))
    return NULL;
  return g_bytes_new_take (raw, len);
}

/**
 * bb_protocol_base64url_encode:
 * @data: the bytes to encode
 *
 * Encodes @data as unpadded base64url (RFC 4648 §5 without `=`), the form of invite
 * secrets, invite server secrets and invite proofs.
 *
 * Returns: (transfer full): the base64url text
 *
 * Since: 0.1
 */
gchar *
bb_protocol_base64url_encode (GBytes *data)
{
  gsize len;
  const guint8 *p;

  g_return_val_if_fail (data != NULL, NULL);

  p = g_bytes_get_data (data, &len);
  return b64_encode_raw (p, len, TRUE);
}

/* base64url decoding into a caller-chosen allocation (secret or plain). */
static guint8 *
base64url_decode_raw (const char *text, gssize expected_len, const char *field, gsize *out_len,
                      GError **error)
{
  gsize len = 0;
  gboolean non_canonical;
  guint8 *raw;

  if (strchr (text, '=') != NULL)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("%s: must be unpadded base64url"), field);
      return NULL;
    }
  raw = b64_decode_raw (text, TRUE, &len, &non_canonical);
  if (raw == NULL)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("%s: is not valid base64url"), field);
      return NULL;
    }
  if (!check_decoded_len (raw, len, expected_len, field, error))
    return NULL;
  if (non_canonical)
    {
      discard_decoded (raw, len);
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("%s: must use canonical base64url"), field);
      return NULL;
    }
  *out_len = len;
  return raw;
}

/**
 * bb_protocol_base64url_decode:
 * @text: the base64url text
 * @expected_len: the exact decoded size in bytes, or -1 for any size
 * @field: the name of the value, used in error messages
 * @error: return location for a [struct@GLib.Error]
 *
 * Decodes canonical unpadded base64url: no `=` anywhere, only the URL-safe alphabet,
 * exactly @expected_len bytes, and zero unused trailing bits. The result is wiped when
 * freed, since base64url carries invite secrets.
 *
 * Returns: (transfer full): the decoded bytes, or %NULL with %BB_SYNC_ERROR_INVALID_INPUT
 *
 * Since: 0.1
 */
GBytes *
bb_protocol_base64url_decode (const char *text, gssize expected_len, const char *field,
                              GError **error)
{
  gsize len = 0;
  guint8 *raw;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (field != NULL, NULL);

  raw = base64url_decode_raw (text, expected_len, field, &len, error);
  return raw ? bb_crypto_secret_bytes_new_take (raw, len) : NULL;
}
