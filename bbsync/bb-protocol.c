/* bb-protocol.c: the BitBoxSync v1 wire constructions
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

/* Domain-separation strings of the protocol (ASCII, used without terminator). */
#define INFO_BLOB_KEY "bitboxsync-namespace-blob-aead-v1"
#define INFO_MAP_KEY "bitboxsync-namespace-item-id-v1"
#define INFO_WRAP_DEK "bitboxsync-wrap-dek-v1"
#define PREFIX_AAD "bitboxsync-item-aad"
#define PREFIX_INTENT "bitboxsync-intent"
#define PREFIX_JOIN_REQUEST "bitboxsync-join-request"
#define MSG_SERVER_SECRET "bitboxsync-invite-server-secret-v1"
#define MSG_PROOF_KEY "bitboxsync-invite-proof-key-v1"

#define WRAPPED_DEK_VERSION 0x01
#define INTENT_VERSION 0x01
#define JOIN_REQUEST_FORMAT 0x01
#define AAD_FORMAT 0x01
#define INTENT_LOGIN 0x01
#define INTENT_REFRESH 0x02
#define INTENT_SENSITIVE 0x03

#define LOGIN_INTENT_SIZE (BB_STRLEN (PREFIX_INTENT) + 2 + 32 + 1 + 32 + 32 + 32)
#define REFRESH_INTENT_SIZE (BB_STRLEN (PREFIX_INTENT) + 2 + 32 + 1 + 32)
#define SENSITIVE_BASE_SIZE (BB_STRLEN (PREFIX_INTENT) + 3 + 32 + 1 + 32)
#define JOIN_PAYLOAD_SIZE                                                                          \
  (BB_STRLEN (PREFIX_JOIN_REQUEST) + 1 + 16 + 16 + 32 + 1 + 32 + 32 + 32 + 8)
#define HPKE_PLAINTEXT_SIZE (BB_PROTOCOL_NAMESPACE_ID_SIZE + BB_PROTOCOL_DEK_SIZE)

G_STATIC_ASSERT (LOGIN_INTENT_SIZE == 148);
G_STATIC_ASSERT (REFRESH_INTENT_SIZE == 84);
G_STATIC_ASSERT (SENSITIVE_BASE_SIZE == 85);
G_STATIC_ASSERT (JOIN_PAYLOAD_SIZE == 193);
G_STATIC_ASSERT (BB_STRLEN (PREFIX_AAD) + 1 + 16 + 32 + 8 == BB_PROTOCOL_AAD_SIZE);
G_STATIC_ASSERT (1 + 32 + HPKE_PLAINTEXT_SIZE + 16 == BB_PROTOCOL_WRAPPED_DEK_SIZE);

/* ------------------------------------------------------------------------------------ */
/* Small helpers                                                                        */

void
bb_protocol_put_be64 (guint8 *p, guint64 v)
{
  for (int i = 7; i >= 0; i--)
    {
      p[i] = (guint8)(v & 0xff);
      v >>= 8;
    }
}

static void
put_be32 (guint8 *p, guint32 v)
{
  for (int i = 3; i >= 0; i--)
    {
      p[i] = (guint8)(v & 0xff);
      v >>= 8;
    }
}

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

/* Checks that @bytes is exactly @len bytes long; @field names it in the message. */
gboolean
bb_protocol_check_size (GBytes *bytes, gsize len, const char *field, GError **error)
{
  if (g_bytes_get_size (bytes) != len)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("%s: must be %u bytes, got %zu"), field, (guint)len,
                   g_bytes_get_size (bytes));
      return FALSE;
    }
  return TRUE;
}

const guint8 *
bb_protocol_bytes_data (GBytes *bytes)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  static const guint8 empty[1] = { 0 };

  /* An empty GBytes may carry a NULL pointer; callers only need a valid address. */
  return data != NULL ? data : empty;
}

gboolean
bb_protocol_kind_code (const char *kind, guint8 *out, GError **error)
{
  if (g_strcmp0 (kind, BB_PROTOCOL_KIND_KEYSTORE) == 0)
    {
      *out = 0x01;
      return TRUE;
    }
  g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_UNSUPPORTED,
               _ ("kind: unsupported identity kind “%s”"), kind ? kind : "(null)");
  return FALSE;
}

/* ------------------------------------------------------------------------------------ */
/* Hex                                                                                  */

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
 * @error: return location for a #GError
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
 * @error: return location for a #GError
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
 * @error: return location for a #GError
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
  bb_crypto_wipe (out, o);
  g_free (out);
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
 * @error: return location for a #GError
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
      if (raw != NULL)
        bb_crypto_wipe (raw, len);
      g_free (raw);
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("%s: must use canonical base64"), field);
      return NULL;
    }
  if (expected_len >= 0 && len != (gsize)expected_len)
    {
      bb_crypto_wipe (raw, len);
      g_free (raw);
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("%s: must be %zd bytes, got %zu"), field, expected_len, len);
      return NULL;
    }
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
  if (expected_len >= 0 && len != (gsize)expected_len)
    {
      bb_crypto_wipe (raw, len);
      g_free (raw);
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("%s: must be %zd bytes, got %zu"), field, expected_len, len);
      return NULL;
    }
  if (non_canonical)
    {
      bb_crypto_wipe (raw, len);
      g_free (raw);
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
 * @error: return location for a #GError
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

/* ------------------------------------------------------------------------------------ */
/* Identity and items                                                                   */

/**
 * bb_protocol_key_id:
 * @auth_public_key: the 32-byte Ed25519 auth public key
 *
 * Computes the key ID of an identity: lower-case hex of SHA-256 of the auth public key.
 *
 * Returns: (transfer full): the 64-character key ID
 *
 * Since: 0.1
 */
gchar *
bb_protocol_key_id (GBytes *auth_public_key)
{
  guint8 digest[BB_CRYPTO_SHA256_SIZE];
  gsize len;
  const guint8 *p;

  g_return_val_if_fail (auth_public_key != NULL, NULL);

  p = g_bytes_get_data (auth_public_key, &len);
  bb_crypto_sha256 (p != NULL ? p : digest, len, digest);
  return bb_protocol_hex_encode_raw (digest, sizeof digest);
}

static GBytes *
derive_namespace_key (GBytes *dek, const char *info, gsize info_len, GError **error)
{
  guint8 *key;

  if (!bb_protocol_check_size (dek, BB_PROTOCOL_DEK_SIZE, "dek", error))
    return NULL;
  key = g_malloc (32);
  bb_crypto_hkdf_sha256 (NULL, 0, bb_protocol_bytes_data (dek), BB_PROTOCOL_DEK_SIZE,
                         (const guint8 *)info, info_len, key, 32);
  return bb_crypto_secret_bytes_new_take (key, 32);
}

/**
 * bb_protocol_derive_blob_key:
 * @dek: the 32-byte namespace DEK
 * @error: return location for a #GError
 *
 * Derives the item encryption key of a namespace,
 * HKDF-SHA256(DEK, info `bitboxsync-namespace-blob-aead-v1`). The result is wiped
 * when freed.
 *
 * Returns: (transfer full): the 32-byte key, or %NULL if @dek is not 32 bytes
 *
 * Since: 0.1
 */
GBytes *
bb_protocol_derive_blob_key (GBytes *dek, GError **error)
{
  g_return_val_if_fail (dek != NULL, NULL);

  return derive_namespace_key (dek, INFO_BLOB_KEY, BB_STRLEN (INFO_BLOB_KEY), error);
}

/**
 * bb_protocol_derive_map_key:
 * @dek: the 32-byte namespace DEK
 * @error: return location for a #GError
 *
 * Derives the item-ID key of a namespace,
 * HKDF-SHA256(DEK, info `bitboxsync-namespace-item-id-v1`). The result is wiped when
 * freed.
 *
 * Returns: (transfer full): the 32-byte key, or %NULL if @dek is not 32 bytes
 *
 * Since: 0.1
 */
GBytes *
bb_protocol_derive_map_key (GBytes *dek, GError **error)
{
  g_return_val_if_fail (dek != NULL, NULL);

  return derive_namespace_key (dek, INFO_MAP_KEY, BB_STRLEN (INFO_MAP_KEY), error);
}

/**
 * bb_protocol_logical_key:
 * @collection: the collection name (UTF-8)
 * @key: the key inside the collection (UTF-8)
 *
 * Builds the logical key bytes that item IDs are computed from:
 * `BE64(len(collection)) || collection || BE64(len(key)) || key`, lengths in bytes. The
 * length prefixes keep `("a", "b/c")` and `("a/b", "c")` apart.
 *
 * Returns: (transfer full): the logical key bytes
 *
 * Since: 0.1
 */
GBytes *
bb_protocol_logical_key (const char *collection, const char *key)
{
  gsize clen, klen;
  guint8 *out;

  g_return_val_if_fail (collection != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);

  clen = strlen (collection);
  klen = strlen (key);
  out = g_malloc (16 + clen + klen);
  bb_protocol_put_be64 (out, clen);
  memcpy (out + 8, collection, clen);
  bb_protocol_put_be64 (out + 8 + clen, klen);
  memcpy (out + 16 + clen, key, klen);
  return g_bytes_new_take (out, 16 + clen + klen);
}

/**
 * bb_protocol_item_id_for_logical_key:
 * @dek: the 32-byte namespace DEK
 * @logical_key: the raw logical key bytes
 * @error: return location for a #GError
 *
 * Computes an item ID: lower-case hex of HMAC-SHA256(map key, @logical_key).
 *
 * Returns: (transfer full): the 64-character item ID, or %NULL if @dek is not 32 bytes
 *
 * Since: 0.1
 */
gchar *
bb_protocol_item_id_for_logical_key (GBytes *dek, GBytes *logical_key, GError **error)
{
  g_autoptr (GBytes) map_key = NULL;
  guint8 mac[32];
  gsize len;
  const guint8 *p;

  g_return_val_if_fail (dek != NULL, NULL);
  g_return_val_if_fail (logical_key != NULL, NULL);

  map_key = bb_protocol_derive_map_key (dek, error);
  if (map_key == NULL)
    return NULL;
  p = g_bytes_get_data (logical_key, &len);
  bb_crypto_hmac_sha256 (bb_protocol_bytes_data (map_key), 32, p != NULL ? p : mac, len, mac);
  return bb_protocol_hex_encode_raw (mac, sizeof mac);
}

/* The item ID under an already derived map key (bb_protocol_derive_map_key()), so the
 * engine derives the key once per namespace instead of once per item. */
gchar *
bb_protocol_item_id_with_map_key (GBytes *map_key, const char *collection, const char *key)
{
  g_autoptr (GBytes) logical = bb_protocol_logical_key (collection, key);
  guint8 mac[32];
  gsize len;
  const guint8 *p = g_bytes_get_data (logical, &len);

  g_return_val_if_fail (map_key != NULL && g_bytes_get_size (map_key) == 32, NULL);

  bb_crypto_hmac_sha256 (bb_protocol_bytes_data (map_key), 32, p != NULL ? p : mac, len, mac);
  return bb_protocol_hex_encode_raw (mac, sizeof mac);
}

/**
 * bb_protocol_item_id:
 * @dek: the 32-byte namespace DEK
 * @collection: the collection name (UTF-8)
 * @key: the key inside the collection (UTF-8)
 * @error: return location for a #GError
 *
 * Computes the item ID of (@collection, @key) in a namespace, the way every client
 * sharing the namespace does (see bb_protocol_logical_key()).
 *
 * Returns: (transfer full): the 64-character item ID, or %NULL if @dek is not 32 bytes
 *
 * Since: 0.1
 */
gchar *
bb_protocol_item_id (GBytes *dek, const char *collection, const char *key, GError **error)
{
  g_autoptr (GBytes) logical = NULL;

  g_return_val_if_fail (dek != NULL, NULL);
  g_return_val_if_fail (collection != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);

  logical = bb_protocol_logical_key (collection, key);
  return bb_protocol_item_id_for_logical_key (dek, logical, error);
}

static gboolean
build_aad (const char *namespace_id, const char *item_id, guint64 version,
           guint8 out[BB_PROTOCOL_AAD_SIZE], GError **error)
{
  guint8 *p = out;

  memcpy (p, PREFIX_AAD, BB_STRLEN (PREFIX_AAD));
  p += BB_STRLEN (PREFIX_AAD);
  *p++ = AAD_FORMAT;
  if (!bb_protocol_decode_lower_hex_into (namespace_id, "namespaceId", p,
                                          BB_PROTOCOL_NAMESPACE_ID_SIZE, error))
    return FALSE;
  p += BB_PROTOCOL_NAMESPACE_ID_SIZE;
  if (!bb_protocol_decode_lower_hex_into (item_id, "itemId", p, BB_PROTOCOL_ITEM_ID_SIZE, error))
    return FALSE;
  p += BB_PROTOCOL_ITEM_ID_SIZE;
  bb_protocol_put_be64 (p, version);
  return TRUE;
}

/**
 * bb_protocol_item_aad:
 * @namespace_id: the namespace ID (lower-case hex, 16 bytes)
 * @item_id: the item ID (lower-case hex, 32 bytes)
 * @version: the item version the ciphertext is for
 * @error: return location for a #GError
 *
 * Builds the 76-byte associated data of an item:
 * `"bitboxsync-item-aad" || 0x01 || namespaceId || itemId || BE64(version)`.
 *
 * Returns: (transfer full): the AAD, or %NULL if an ID is malformed
 *
 * Since: 0.1
 */
GBytes *
bb_protocol_item_aad (const char *namespace_id, const char *item_id, guint64 version,
                      GError **error)
{
  guint8 aad[BB_PROTOCOL_AAD_SIZE];

  g_return_val_if_fail (namespace_id != NULL, NULL);
  g_return_val_if_fail (item_id != NULL, NULL);

  if (!build_aad (namespace_id, item_id, version, aad, error))
    return NULL;
  return g_bytes_new (aad, sizeof aad);
}

/**
 * bb_protocol_encrypt_item:
 * @dek: the 32-byte namespace DEK
 * @namespace_id: the namespace ID (lower-case hex)
 * @item_id: the item ID (lower-case hex)
 * @version: the version being written (1 for a create, v+1 for an update of v)
 * @plaintext: the payload, at most %BB_PROTOCOL_MAX_PLAINTEXT_SIZE bytes
 * @out_nonce: (out) (optional) (transfer full): return location for the nonce used
 * @out_aad: (out) (optional) (transfer full): return location for the AAD used
 * @error: return location for a #GError
 *
 * Encrypts an item payload with XChaCha20-Poly1305 under the namespace's blob key,
 * binding it to (namespace, item, version) through the AAD. The 24-byte nonce is drawn
 * fresh from the system's cryptographic random generator on every call, and returned in
 * @out_nonce for the upload: a nonce used twice under one key would reveal the XOR of
 * the two payloads and let the Poly1305 key be recovered, so callers cannot choose it.
 *
 * Returns: (transfer full): the ciphertext (payload followed by the 16-byte tag), or
 *   %NULL with %BB_SYNC_ERROR_INVALID_INPUT
 *
 * Since: 0.1
 */
/* bb_protocol_encrypt_item() under a blob key from bb_protocol_derive_blob_key(), with a
 * caller-chosen nonce for the known-answer tests. */
GBytes *
bb_protocol_encrypt_item_with_key (GBytes *blob_key, const char *namespace_id, const char *item_id,
                                   guint64 version, GBytes *plaintext, GBytes *nonce,
                                   GBytes **out_nonce, GBytes **out_aad, GError **error)
{
  guint8 aad[BB_PROTOCOL_AAD_SIZE];
  guint8 nonce_buf[BB_PROTOCOL_NONCE_SIZE];
  gsize pt_len;
  const guint8 *pt;
  guint8 *ct;

  g_return_val_if_fail (blob_key != NULL && g_bytes_get_size (blob_key) == 32, NULL);
  g_return_val_if_fail (namespace_id != NULL, NULL);
  g_return_val_if_fail (item_id != NULL, NULL);
  g_return_val_if_fail (plaintext != NULL, NULL);

  pt = g_bytes_get_data (plaintext, &pt_len);
  if (pt_len > BB_PROTOCOL_MAX_PLAINTEXT_SIZE)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("plaintext: %zu bytes exceeds the maximum of %d"), pt_len,
                   BB_PROTOCOL_MAX_PLAINTEXT_SIZE);
      return NULL;
    }
  if (nonce != NULL && !bb_protocol_check_size (nonce, BB_PROTOCOL_NONCE_SIZE, "nonce", error))
    return NULL;
  if (!build_aad (namespace_id, item_id, version, aad, error))
    return NULL;

  if (nonce != NULL)
    memcpy (nonce_buf, bb_protocol_bytes_data (nonce), sizeof nonce_buf);
  else
    bb_crypto_random_bytes (nonce_buf, sizeof nonce_buf);

  ct = g_malloc (pt_len + BB_PROTOCOL_TAG_SIZE);
  bb_crypto_xchacha20poly1305_encrypt (bb_protocol_bytes_data (blob_key), nonce_buf, aad,
                                       sizeof aad, pt != NULL ? pt : aad, pt_len, ct);
  if (out_nonce != NULL)
    *out_nonce = g_bytes_new (nonce_buf, sizeof nonce_buf);
  if (out_aad != NULL)
    *out_aad = g_bytes_new (aad, sizeof aad);
  return g_bytes_new_take (ct, pt_len + BB_PROTOCOL_TAG_SIZE);
}

GBytes *
bb_protocol_encrypt_item (GBytes *dek, const char *namespace_id, const char *item_id,
                          guint64 version, GBytes *plaintext, GBytes **out_nonce, GBytes **out_aad,
                          GError **error)
{
  g_autoptr (GBytes) blob_key = NULL;

  g_return_val_if_fail (dek != NULL, NULL);

  blob_key = bb_protocol_derive_blob_key (dek, error);
  if (blob_key == NULL)
    return NULL;
  return bb_protocol_encrypt_item_with_key (blob_key, namespace_id, item_id, version, plaintext,
                                            NULL, out_nonce, out_aad, error);
}

/**
 * bb_protocol_decrypt_item:
 * @dek: the 32-byte namespace DEK
 * @namespace_id: the namespace ID the item was requested from (lower-case hex)
 * @item_id: the item ID that was requested (lower-case hex)
 * @version: the version the server reported for the item
 * @nonce: the received nonce
 * @aad: the received AAD
 * @ciphertext: the received ciphertext (with tag)
 * @error: return location for a #GError
 *
 * Decrypts an item. The nonce must be exactly 24 bytes (checked before any crypto);
 * the received AAD must equal the canonical AAD for (@namespace_id, @item_id,
 * @version), so a server cannot replay a ciphertext under another item or version;
 * then the AEAD tag is checked.
 *
 * The result is wiped when freed.
 *
 * Returns: (transfer full): the plaintext, or %NULL: %BB_SYNC_ERROR_INVALID_INPUT for a
 *   bad nonce length, DEK or ID, %BB_SYNC_ERROR_CRYPTO for an AAD mismatch or a failed
 *   authentication
 *
 * Since: 0.1
 */
/* bb_protocol_decrypt_item() under a blob key from bb_protocol_derive_blob_key(). */
GBytes *
bb_protocol_decrypt_item_with_key (GBytes *blob_key, const char *namespace_id, const char *item_id,
                                   guint64 version, GBytes *nonce, GBytes *aad, GBytes *ciphertext,
                                   GError **error)
{
  guint8 expected_aad[BB_PROTOCOL_AAD_SIZE];
  gsize ct_len;
  const guint8 *ct;
  guint8 *pt;

  g_return_val_if_fail (blob_key != NULL && g_bytes_get_size (blob_key) == 32, NULL);
  g_return_val_if_fail (namespace_id != NULL, NULL);
  g_return_val_if_fail (item_id != NULL, NULL);
  g_return_val_if_fail (nonce != NULL, NULL);
  g_return_val_if_fail (aad != NULL, NULL);
  g_return_val_if_fail (ciphertext != NULL, NULL);

  if (!bb_protocol_check_size (nonce, BB_PROTOCOL_NONCE_SIZE, "nonce", error))
    return NULL;
  if (!build_aad (namespace_id, item_id, version, expected_aad, error))
    return NULL;
  if (g_bytes_get_size (aad) != sizeof expected_aad
      || memcmp (bb_protocol_bytes_data (aad), expected_aad, sizeof expected_aad) != 0)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_CRYPTO,
                   _ ("aad: aad mismatch (not bound to namespace %s, item %s, version %llu)"),
                   namespace_id, item_id, (unsigned long long)version);
      return NULL;
    }
  ct = g_bytes_get_data (ciphertext, &ct_len);
  if (ct_len < BB_PROTOCOL_TAG_SIZE)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_CRYPTO,
                   _ ("ciphertext: shorter than the authentication tag"));
      return NULL;
    }
  pt = g_malloc (ct_len - BB_PROTOCOL_TAG_SIZE + 1);
  if (!bb_crypto_xchacha20poly1305_decrypt (bb_protocol_bytes_data (blob_key),
                                            bb_protocol_bytes_data (nonce), expected_aad,
                                            sizeof expected_aad, ct, ct_len, pt))
    {
      g_free (pt);
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_CRYPTO,
                   _ ("ciphertext: decrypt item: authentication failed"));
      return NULL;
    }
  return bb_crypto_secret_bytes_new_take (pt, ct_len - BB_PROTOCOL_TAG_SIZE);
}

GBytes *
bb_protocol_decrypt_item (GBytes *dek, const char *namespace_id, const char *item_id,
                          guint64 version, GBytes *nonce, GBytes *aad, GBytes *ciphertext,
                          GError **error)
{
  g_autoptr (GBytes) blob_key = NULL;

  g_return_val_if_fail (dek != NULL, NULL);

  blob_key = bb_protocol_derive_blob_key (dek, error);
  if (blob_key == NULL)
    return NULL;
  return bb_protocol_decrypt_item_with_key (blob_key, namespace_id, item_id, version, nonce, aad,
                                            ciphertext, error);
}

/* ------------------------------------------------------------------------------------ */
/* Wrapped DEKs                                                                         */

GBytes *
bb_protocol_wrap_dek_with_ephemeral (GBytes *wrap_public_key, const char *namespace_id, GBytes *dek,
                                     GBytes *ephemeral_private_key, GError **error)
{
  guint8 plaintext[HPKE_PLAINTEXT_SIZE];
  guint8 *out;

  g_return_val_if_fail (wrap_public_key != NULL, NULL);
  g_return_val_if_fail (namespace_id != NULL, NULL);
  g_return_val_if_fail (dek != NULL, NULL);

  if (!bb_protocol_check_size (wrap_public_key, BB_PROTOCOL_PUBLIC_KEY_SIZE, "wrapPublicKey",
                               error))
    return NULL;
  if (ephemeral_private_key != NULL
      && !bb_protocol_check_size (ephemeral_private_key, 32, "ephemeralPrivateKey", error))
    return NULL;
  if (!bb_protocol_decode_lower_hex_into (namespace_id, "namespaceId", plaintext,
                                          BB_PROTOCOL_NAMESPACE_ID_SIZE, error))
    return NULL;
  if (!bb_protocol_check_size (dek, BB_PROTOCOL_DEK_SIZE, "dek", error))
    return NULL;
  memcpy (plaintext + BB_PROTOCOL_NAMESPACE_ID_SIZE, bb_protocol_bytes_data (dek),
          BB_PROTOCOL_DEK_SIZE);

  out = g_malloc (BB_PROTOCOL_WRAPPED_DEK_SIZE);
  out[0] = WRAPPED_DEK_VERSION;
  if (!bb_crypto_hpke_seal_base (
          bb_protocol_bytes_data (wrap_public_key), (const guint8 *)INFO_WRAP_DEK,
          BB_STRLEN (INFO_WRAP_DEK), NULL, 0, plaintext, sizeof plaintext,
          ephemeral_private_key ? bb_protocol_bytes_data (ephemeral_private_key) : NULL, out + 1,
          out + 1 + BB_CRYPTO_HPKE_ENC_SIZE))
    {
      bb_crypto_wipe (plaintext, sizeof plaintext);
      g_free (out);
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_CRYPTO,
                   _ ("wrapPublicKey: HPKE seal failed (invalid recipient key)"));
      return NULL;
    }
  bb_crypto_wipe (plaintext, sizeof plaintext);
  return g_bytes_new_take (out, BB_PROTOCOL_WRAPPED_DEK_SIZE);
}

/**
 * bb_protocol_wrap_dek:
 * @wrap_public_key: the recipient's 32-byte X25519 wrap public key
 * @namespace_id: the namespace ID (lower-case hex) the DEK belongs to
 * @dek: the 32-byte namespace DEK
 * @error: return location for a #GError
 *
 * Wraps a namespace DEK for one recipient with HPKE (base mode, X25519/HKDF-SHA256/
 * ChaCha20-Poly1305, info `bitboxsync-wrap-dek-v1`), binding it to @namespace_id. A fresh
 * ephemeral key is drawn for every call.
 *
 * Returns: (transfer full): the 97-byte v1 wrapped DEK, or %NULL on error
 *
 * Since: 0.1
 */
GBytes *
bb_protocol_wrap_dek (GBytes *wrap_public_key, const char *namespace_id, GBytes *dek,
                      GError **error)
{
  return bb_protocol_wrap_dek_with_ephemeral (wrap_public_key, namespace_id, dek, NULL, error);
}

/**
 * bb_protocol_validate_wrapped_dek:
 * @wrapped_dek: a wrapped DEK
 * @error: return location for a #GError
 *
 * Checks the structure of a wrapped DEK, all a server can check: a known format
 * version byte and the exact length of that version (97 bytes for v1).
 *
 * Returns: %TRUE if well-formed; %FALSE with %BB_SYNC_ERROR_UNSUPPORTED for an unknown
 *   version or %BB_SYNC_ERROR_INVALID_INPUT otherwise
 *
 * Since: 0.1
 */
gboolean
bb_protocol_validate_wrapped_dek (GBytes *wrapped_dek, GError **error)
{
  gsize len;
  const guint8 *p;

  g_return_val_if_fail (wrapped_dek != NULL, FALSE);

  p = g_bytes_get_data (wrapped_dek, &len);
  if (len == 0)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("wrappedDek: invalid wrapped dek (empty)"));
      return FALSE;
    }
  if (p[0] != WRAPPED_DEK_VERSION)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_UNSUPPORTED,
                   _ ("wrappedDek: unsupported version %u"), p[0]);
      return FALSE;
    }
  if (len != BB_PROTOCOL_WRAPPED_DEK_SIZE)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("wrappedDek: invalid wrapped dek (%zu bytes, expected %d)"), len,
                   BB_PROTOCOL_WRAPPED_DEK_SIZE);
      return FALSE;
    }
  return TRUE;
}

/**
 * bb_protocol_unwrap_dek:
 * @wrap_private_key: the recipient's 32-byte X25519 wrap private key
 * @namespace_id: the namespace ID (lower-case hex) the DEK must be bound to
 * @wrapped_dek: the wrapped DEK
 * @error: return location for a #GError
 *
 * Unwraps a namespace DEK, with the checks in this order: the namespace ID is 16 bytes;
 * the blob is non-empty, of a known version and of that version's length; HPKE opens it;
 * the plaintext binds it to @namespace_id ("namespace mismatch" otherwise).
 *
 * The result is wiped when freed.
 *
 * Returns: (transfer full): the 32-byte DEK, or %NULL: %BB_SYNC_ERROR_INVALID_INPUT,
 *   %BB_SYNC_ERROR_UNSUPPORTED (unknown version) or %BB_SYNC_ERROR_CRYPTO (failed open,
 *   namespace mismatch)
 *
 * Since: 0.1
 */
GBytes *
bb_protocol_unwrap_dek (GBytes *wrap_private_key, const char *namespace_id, GBytes *wrapped_dek,
                        GError **error)
{
  guint8 ns[BB_PROTOCOL_NAMESPACE_ID_SIZE];
  guint8 plaintext[HPKE_PLAINTEXT_SIZE];
  const guint8 *blob;
  GBytes *dek;

  g_return_val_if_fail (wrap_private_key != NULL, NULL);
  g_return_val_if_fail (namespace_id != NULL, NULL);
  g_return_val_if_fail (wrapped_dek != NULL, NULL);

  if (!bb_protocol_decode_lower_hex_into (namespace_id, "namespaceId", ns, sizeof ns, error))
    return NULL;
  if (!bb_protocol_validate_wrapped_dek (wrapped_dek, error))
    return NULL;
  if (!bb_protocol_check_size (wrap_private_key, 32, "wrapPrivateKey", error))
    return NULL;

  blob = bb_protocol_bytes_data (wrapped_dek);
  if (!bb_crypto_hpke_open_base (
          bb_protocol_bytes_data (wrap_private_key), blob + 1, (const guint8 *)INFO_WRAP_DEK,
          BB_STRLEN (INFO_WRAP_DEK), NULL, 0, blob + 1 + BB_CRYPTO_HPKE_ENC_SIZE,
          BB_PROTOCOL_WRAPPED_DEK_SIZE - 1 - BB_CRYPTO_HPKE_ENC_SIZE, plaintext))
    {
      bb_crypto_wipe (plaintext, sizeof plaintext);
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_CRYPTO,
                   _ ("wrappedDek: open wrapped dek: authentication failed"));
      return NULL;
    }
  if (!bb_crypto_equal (plaintext, ns, sizeof ns))
    {
      bb_crypto_wipe (plaintext, sizeof plaintext);
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_CRYPTO,
                   _ ("wrappedDek: namespace mismatch (wrapped for another namespace than %s)"),
                   namespace_id);
      return NULL;
    }
  dek = bb_crypto_secret_bytes_new (plaintext + BB_PROTOCOL_NAMESPACE_ID_SIZE,
                                    BB_PROTOCOL_DEK_SIZE);
  bb_crypto_wipe (plaintext, sizeof plaintext);
  return dek;
}

/* ------------------------------------------------------------------------------------ */
/* Intents                                                                              */

/* Writes prefix || version || type [|| action] || challenge || kind || keyId and returns
 * the position after it. */
static guint8 *
intent_header (guint8 *p, guint8 type, int action_code, GBytes *challenge, guint8 kind,
               const guint8 key_id[32])
{
  memcpy (p, PREFIX_INTENT, BB_STRLEN (PREFIX_INTENT));
  p += BB_STRLEN (PREFIX_INTENT);
  *p++ = INTENT_VERSION;
  *p++ = type;
  if (action_code >= 0)
    *p++ = (guint8)action_code;
  memcpy (p, bb_protocol_bytes_data (challenge), BB_PROTOCOL_CHALLENGE_SIZE);
  p += BB_PROTOCOL_CHALLENGE_SIZE;
  *p++ = kind;
  memcpy (p, key_id, BB_PROTOCOL_KEY_ID_SIZE);
  return p + BB_PROTOCOL_KEY_ID_SIZE;
}

static gboolean
intent_common (GBytes *challenge, const char *kind, const char *key_id, guint8 *out_kind,
               guint8 out_key_id[32], GError **error)
{
  if (!bb_protocol_check_size (challenge, BB_PROTOCOL_CHALLENGE_SIZE, "challenge", error))
    return FALSE;
  if (!bb_protocol_decode_lower_hex_into (key_id, "keyId", out_key_id, BB_PROTOCOL_KEY_ID_SIZE,
                                          error))
    return FALSE;
  return bb_protocol_kind_code (kind, out_kind, error);
}

/**
 * bb_protocol_login_intent:
 * @challenge: the 32-byte challenge (decoded from the server's base64)
 * @kind: the identity kind, `keystore`
 * @key_id: the key ID (lower-case hex)
 * @auth_public_key: the 32-byte Ed25519 auth public key
 * @wrap_public_key: the 32-byte X25519 wrap public key
 * @error: return location for a #GError
 *
 * Builds the 148-byte login intent an identity signs.
 *
 * Returns: (transfer full): the intent, or %NULL on a bad length, ID or kind
 *
 * Since: 0.1
 */
GBytes *
bb_protocol_login_intent (GBytes *challenge, const char *kind, const char *key_id,
                          GBytes *auth_public_key, GBytes *wrap_public_key, GError **error)
{
  guint8 key[32];
  guint8 code;
  guint8 *out, *p;

  g_return_val_if_fail (challenge != NULL, NULL);
  g_return_val_if_fail (key_id != NULL, NULL);
  g_return_val_if_fail (auth_public_key != NULL, NULL);
  g_return_val_if_fail (wrap_public_key != NULL, NULL);

  if (!intent_common (challenge, kind, key_id, &code, key, error)
      || !bb_protocol_check_size (auth_public_key, 32, "authPublicKey", error)
      || !bb_protocol_check_size (wrap_public_key, 32, "wrapPublicKey", error))
    return NULL;

  out = g_malloc (LOGIN_INTENT_SIZE);
  p = intent_header (out, INTENT_LOGIN, -1, challenge, code, key);
  memcpy (p, bb_protocol_bytes_data (auth_public_key), 32);
  memcpy (p + 32, bb_protocol_bytes_data (wrap_public_key), 32);
  return g_bytes_new_take (out, LOGIN_INTENT_SIZE);
}

/**
 * bb_protocol_refresh_intent:
 * @challenge: the 32-byte challenge
 * @kind: the identity kind, `keystore`
 * @key_id: the key ID (lower-case hex)
 * @error: return location for a #GError
 *
 * Builds the 84-byte token-refresh intent an identity signs.
 *
 * Returns: (transfer full): the intent, or %NULL on a bad length, ID or kind
 *
 * Since: 0.1
 */
GBytes *
bb_protocol_refresh_intent (GBytes *challenge, const char *kind, const char *key_id, GError **error)
{
  guint8 key[32];
  guint8 code;
  guint8 *out;

  g_return_val_if_fail (challenge != NULL, NULL);
  g_return_val_if_fail (key_id != NULL, NULL);

  if (!intent_common (challenge, kind, key_id, &code, key, error))
    return NULL;

  out = g_malloc (REFRESH_INTENT_SIZE);
  intent_header (out, INTENT_REFRESH, -1, challenge, code, key);
  return g_bytes_new_take (out, REFRESH_INTENT_SIZE);
}

/**
 * bb_protocol_sensitive_action_intent:
 * @action: `revoke-all-tokens` or `create-namespace-invite`
 * @challenge: the 32-byte sensitive-action challenge
 * @kind: the identity kind, `keystore`
 * @key_id: the key ID (lower-case hex)
 * @action_fields: (nullable): the action fields (empty or %NULL for revoke-all-tokens;
 *   see bb_protocol_create_invite_fields())
 * @error: return location for a #GError
 *
 * Builds the sensitive-action intent an identity signs: 85 bytes plus the action
 * fields.
 *
 * Returns: (transfer full): the intent, or %NULL on a bad length, ID, kind or an
 *   unknown action (%BB_SYNC_ERROR_UNSUPPORTED)
 *
 * Since: 0.1
 */
GBytes *
bb_protocol_sensitive_action_intent (const char *action, GBytes *challenge, const char *kind,
                                     const char *key_id, GBytes *action_fields, GError **error)
{
  guint8 key[32];
  guint8 code;
  int action_code;
  gsize fields_len = action_fields ? g_bytes_get_size (action_fields) : 0;
  guint8 *out, *p;

  g_return_val_if_fail (challenge != NULL, NULL);
  g_return_val_if_fail (key_id != NULL, NULL);

  if (!intent_common (challenge, kind, key_id, &code, key, error))
    return NULL;
  if (g_strcmp0 (action, BB_PROTOCOL_ACTION_REVOKE_ALL) == 0)
    action_code = 0x01;
  else if (g_strcmp0 (action, BB_PROTOCOL_ACTION_CREATE_INVITE) == 0)
    action_code = 0x02;
  else
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_UNSUPPORTED,
                   _ ("action: unsupported sensitive action “%s”"), action ? action : "(null)");
      return NULL;
    }

  out = g_malloc (SENSITIVE_BASE_SIZE + fields_len + 1);
  p = intent_header (out, INTENT_SENSITIVE, action_code, challenge, code, key);
  if (fields_len > 0)
    memcpy (p, bb_protocol_bytes_data (action_fields), fields_len);
  return g_bytes_new_take (out, SENSITIVE_BASE_SIZE + fields_len);
}

/**
 * bb_protocol_create_invite_fields:
 * @namespace_id: the namespace ID (lower-case hex)
 * @invite_id: the invite ID (lower-case hex)
 * @invite_server_secret_hash: the 32-byte SHA-256 of the invite server secret
 * @expires_at: the invite expiry in Unix seconds, not negative
 * @max_pending: the pending-request limit (1 to 20), or 0 for variant B
 * @max_accepted: the accepted-request limit (1 to 10)
 * @error: return location for a #GError
 *
 * Builds the signed action fields of `create-namespace-invite`. With @max_pending > 0
 * this is variant A (80 bytes, with `BE32(maxPending)` before `BE32(maxAccepted)`), as
 * in the reference client; with 0 it is variant B (76 bytes), as signed by the BitBox02
 * firmware and the wallet app. See the protocol guide.
 *
 * Returns: (transfer full): the action fields, or %NULL with
 *   %BB_SYNC_ERROR_INVALID_INPUT
 *
 * Since: 0.1
 */
GBytes *
bb_protocol_create_invite_fields (const char *namespace_id, const char *invite_id,
                                  GBytes *invite_server_secret_hash, gint64 expires_at,
                                  guint max_pending, guint max_accepted, GError **error)
{
  guint8 buf[80];
  guint8 *p = buf;

  g_return_val_if_fail (namespace_id != NULL, NULL);
  g_return_val_if_fail (invite_id != NULL, NULL);
  g_return_val_if_fail (invite_server_secret_hash != NULL, NULL);

  if (!bb_protocol_decode_lower_hex_into (namespace_id, "namespaceId", p, 16, error))
    return NULL;
  if (!bb_protocol_decode_lower_hex_into (invite_id, "inviteId", p + 16, 16, error))
    return NULL;
  if (!bb_protocol_check_size (invite_server_secret_hash, 32, "inviteServerSecretHash", error))
    return NULL;
  if (expires_at < 0)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("expiresAt: must not be negative"));
      return NULL;
    }
  if (max_pending > BB_PROTOCOL_MAX_PENDING)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("maxPending: must be between 1 and %d (or 0 to omit it)"),
                   BB_PROTOCOL_MAX_PENDING);
      return NULL;
    }
  if (max_accepted < 1 || max_accepted > BB_PROTOCOL_MAX_ACCEPTED)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("maxAccepted: must be between 1 and %d"), BB_PROTOCOL_MAX_ACCEPTED);
      return NULL;
    }
  memcpy (p + 32, bb_protocol_bytes_data (invite_server_secret_hash), 32);
  p += 64;
  bb_protocol_put_be64 (p, (guint64)expires_at);
  p += 8;
  if (max_pending > 0)
    {
      put_be32 (p, max_pending);
      p += 4;
    }
  put_be32 (p, max_accepted);
  p += 4;
  return g_bytes_new (buf, (gsize)(p - buf));
}

/**
 * bb_protocol_action_fields_hash:
 * @action_fields: (nullable): the action fields, %NULL meaning empty
 *
 * Computes `actionFieldsHash`, the lower-case hex SHA-256 of the action fields sent when
 * requesting a sensitive-action challenge.
 *
 * Returns: (transfer full): the 64-character hash
 *
 * Since: 0.1
 */
gchar *
bb_protocol_action_fields_hash (GBytes *action_fields)
{
  guint8 digest[32];
  gsize len = 0;
  const guint8 *p = NULL;

  if (action_fields != NULL)
    p = g_bytes_get_data (action_fields, &len);
  bb_crypto_sha256 (p != NULL ? p : digest, len, digest);
  return bb_protocol_hex_encode_raw (digest, sizeof digest);
}

gboolean
bb_protocol_check_auth_public_key (GBytes *auth_public_key, const char *field, GError **error)
{
  g_return_val_if_fail (auth_public_key != NULL, FALSE);
  g_return_val_if_fail (field != NULL, FALSE);

  if (!bb_protocol_check_size (auth_public_key, BB_PROTOCOL_PUBLIC_KEY_SIZE, field, error))
    return FALSE;
  if (bb_crypto_ed25519_is_small_order (bb_protocol_bytes_data (auth_public_key)))
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("%s: is a small-order point"), field);
      return FALSE;
    }
  return TRUE;
}

/**
 * bb_protocol_verify_signature:
 * @auth_public_key: the 32-byte Ed25519 public key
 * @message: the signed message (an intent or a join-request payload)
 * @signature: the 64-byte signature
 * @error: return location for a #GError
 *
 * Verifies a pure Ed25519 signature. Public keys and signature R values that are points
 * of small order are refused: for such a key a signature with S = 0 verifies for any
 * message, so it proves nothing about who signed.
 *
 * Returns: %TRUE if valid; %FALSE with %BB_SYNC_ERROR_INVALID_INPUT for bad lengths or a
 *   small-order public key, or %BB_SYNC_ERROR_CRYPTO for an invalid signature
 *
 * Since: 0.1
 */
gboolean
bb_protocol_verify_signature (GBytes *auth_public_key, GBytes *message, GBytes *signature,
                              GError **error)
{
  gsize len;

  g_return_val_if_fail (auth_public_key != NULL, FALSE);
  g_return_val_if_fail (message != NULL, FALSE);
  g_return_val_if_fail (signature != NULL, FALSE);

  if (!bb_protocol_check_auth_public_key (auth_public_key, "authPublicKey", error)
      || !bb_protocol_check_size (signature, BB_PROTOCOL_SIGNATURE_SIZE, "signature", error))
    return FALSE;
  if (bb_crypto_ed25519_is_small_order (bb_protocol_bytes_data (signature)))
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_CRYPTO,
                   _ ("signature: R is a small-order point"));
      return FALSE;
    }
  len = g_bytes_get_size (message);
  if (!bb_crypto_ed25519_verify (bb_protocol_bytes_data (auth_public_key),
                                 bb_protocol_bytes_data (message), len,
                                 bb_protocol_bytes_data (signature)))
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_CRYPTO, _ ("signature: invalid signature"));
      return FALSE;
    }
  return TRUE;
}

/* ------------------------------------------------------------------------------------ */
/* Invite secrets and join requests                                                     */

static GBytes *
hmac_of_secret (GBytes *invite_secret, const char *msg, gsize msg_len, gboolean secret,
                GError **error)
{
  guint8 *out;

  if (!bb_protocol_check_size (invite_secret, BB_PROTOCOL_INVITE_SECRET_SIZE, "inviteSecret",
                               error))
    return NULL;
  out = g_malloc (32);
  bb_crypto_hmac_sha256 (bb_protocol_bytes_data (invite_secret), BB_PROTOCOL_INVITE_SECRET_SIZE,
                         (const guint8 *)msg, msg_len, out);
  return secret ? bb_crypto_secret_bytes_new_take (out, 32) : g_bytes_new_take (out, 32);
}

/**
 * bb_protocol_invite_server_secret:
 * @invite_secret: the 32-byte invite secret
 * @error: return location for a #GError
 *
 * Derives the invite server secret, HMAC-SHA256(invite secret,
 * `bitboxsync-invite-server-secret-v1`), which admits a join request at the server.
 * The result is wiped when freed.
 *
 * Returns: (transfer full): the 32-byte server secret, or %NULL on a bad length
 *
 * Since: 0.1
 */
GBytes *
bb_protocol_invite_server_secret (GBytes *invite_secret, GError **error)
{
  g_return_val_if_fail (invite_secret != NULL, NULL);

  return hmac_of_secret (invite_secret, MSG_SERVER_SECRET, BB_STRLEN (MSG_SERVER_SECRET), TRUE,
                         error);
}

/**
 * bb_protocol_invite_server_secret_hash:
 * @invite_server_secret: the 32-byte invite server secret
 * @error: return location for a #GError
 *
 * Computes SHA-256 of the invite server secret, what the server stores for an invite.
 *
 * Returns: (transfer full): the 32-byte hash, or %NULL on a bad length
 *
 * Since: 0.1
 */
GBytes *
bb_protocol_invite_server_secret_hash (GBytes *invite_server_secret, GError **error)
{
  guint8 *out;

  g_return_val_if_fail (invite_server_secret != NULL, NULL);

  if (!bb_protocol_check_size (invite_server_secret, 32, "inviteServerSecret", error))
    return NULL;
  out = g_malloc (32);
  bb_crypto_sha256 (bb_protocol_bytes_data (invite_server_secret), 32, out);
  return g_bytes_new_take (out, 32);
}

/**
 * bb_protocol_invite_proof_key:
 * @invite_secret: the 32-byte invite secret
 * @error: return location for a #GError
 *
 * Derives the invite proof key, HMAC-SHA256(invite secret,
 * `bitboxsync-invite-proof-key-v1`). It never leaves the client and is wiped when freed.
 *
 * Returns: (transfer full): the 32-byte proof key, or %NULL on a bad length
 *
 * Since: 0.1
 */
GBytes *
bb_protocol_invite_proof_key (GBytes *invite_secret, GError **error)
{
  g_return_val_if_fail (invite_secret != NULL, NULL);

  return hmac_of_secret (invite_secret, MSG_PROOF_KEY, BB_STRLEN (MSG_PROOF_KEY), TRUE, error);
}

/**
 * bb_protocol_invite_proof:
 * @invite_secret: the 32-byte invite secret
 * @join_request_payload: the join-request payload
 * @error: return location for a #GError
 *
 * Computes the invite proof, HMAC-SHA256(proof key, payload), with which a requester
 * shows an approver that it holds the invite secret.
 *
 * Returns: (transfer full): the 32-byte proof, or %NULL on a bad length
 *
 * Since: 0.1
 */
GBytes *
bb_protocol_invite_proof (GBytes *invite_secret, GBytes *join_request_payload, GError **error)
{
  g_autoptr (GBytes) proof_key = NULL;
  guint8 *out;
  gsize len;
  const guint8 *p;

  g_return_val_if_fail (invite_secret != NULL, NULL);
  g_return_val_if_fail (join_request_payload != NULL, NULL);

  proof_key = bb_protocol_invite_proof_key (invite_secret, error);
  if (proof_key == NULL)
    return NULL;
  p = g_bytes_get_data (join_request_payload, &len);
  out = g_malloc (32);
  bb_crypto_hmac_sha256 (bb_protocol_bytes_data (proof_key), 32, p != NULL ? p : out, len, out);
  return g_bytes_new_take (out, 32);
}

/**
 * bb_protocol_verify_invite_proof:
 * @invite_secret: the 32-byte invite secret
 * @join_request_payload: the rebuilt join-request payload
 * @invite_proof: the received proof
 * @error: return location for a #GError
 *
 * Checks an invite proof in constant time.
 *
 * Returns: %TRUE if valid; %FALSE with %BB_SYNC_ERROR_INVALID_INPUT for bad lengths or
 *   %BB_SYNC_ERROR_CRYPTO for a wrong proof
 *
 * Since: 0.1
 */
gboolean
bb_protocol_verify_invite_proof (GBytes *invite_secret, GBytes *join_request_payload,
                                 GBytes *invite_proof, GError **error)
{
  g_autoptr (GBytes) expected = NULL;

  g_return_val_if_fail (invite_secret != NULL, FALSE);
  g_return_val_if_fail (join_request_payload != NULL, FALSE);
  g_return_val_if_fail (invite_proof != NULL, FALSE);

  if (!bb_protocol_check_size (invite_proof, 32, "inviteProof", error))
    return FALSE;
  expected = bb_protocol_invite_proof (invite_secret, join_request_payload, error);
  if (expected == NULL)
    return FALSE;
  if (!bb_crypto_equal (bb_protocol_bytes_data (expected), bb_protocol_bytes_data (invite_proof),
                        32))
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_CRYPTO,
                   _ ("inviteProof: invalid invite proof"));
      return FALSE;
    }
  return TRUE;
}

/**
 * bb_protocol_join_request_payload:
 * @namespace_id: the namespace ID (lower-case hex)
 * @invite_id: the invite ID (lower-case hex)
 * @server_origin: the canonical server origin
 * @kind: the identity kind, `keystore`
 * @key_id: the requester's key ID (lower-case hex)
 * @auth_public_key: the requester's 32-byte auth public key
 * @wrap_public_key: the requester's 32-byte wrap public key
 * @expires_at: the request expiry in Unix seconds, not negative
 * @error: return location for a #GError
 *
 * Builds the 193-byte join-request payload that the requester signs and from which the
 * join-request hash and the invite proof are computed.
 *
 * Returns: (transfer full): the payload, or %NULL on invalid input (including a
 *   non-canonical origin)
 *
 * Since: 0.1
 */
GBytes *
bb_protocol_join_request_payload (const char *namespace_id, const char *invite_id,
                                  const char *server_origin, const char *kind, const char *key_id,
                                  GBytes *auth_public_key, GBytes *wrap_public_key,
                                  gint64 expires_at, GError **error)
{
  g_autoptr (GBytes) origin_hash = NULL;
  guint8 *out, *p;
  guint8 code;

  g_return_val_if_fail (namespace_id != NULL, NULL);
  g_return_val_if_fail (invite_id != NULL, NULL);
  g_return_val_if_fail (server_origin != NULL, NULL);
  g_return_val_if_fail (key_id != NULL, NULL);
  g_return_val_if_fail (auth_public_key != NULL, NULL);
  g_return_val_if_fail (wrap_public_key != NULL, NULL);

  out = g_malloc (JOIN_PAYLOAD_SIZE);
  p = out;
  memcpy (p, PREFIX_JOIN_REQUEST, BB_STRLEN (PREFIX_JOIN_REQUEST));
  p += BB_STRLEN (PREFIX_JOIN_REQUEST);
  *p++ = JOIN_REQUEST_FORMAT;
  if (!bb_protocol_decode_lower_hex_into (namespace_id, "namespaceId", p, 16, error)
      || !bb_protocol_decode_lower_hex_into (invite_id, "inviteId", p + 16, 16, error))
    goto fail;
  p += 32;
  origin_hash = bb_protocol_server_origin_hash (server_origin, error);
  if (origin_hash == NULL)
    goto fail;
  memcpy (p, bb_protocol_bytes_data (origin_hash), 32);
  p += 32;
  if (!bb_protocol_kind_code (kind, &code, error))
    goto fail;
  *p++ = code;
  if (!bb_protocol_decode_lower_hex_into (key_id, "keyId", p, 32, error))
    goto fail;
  p += 32;
  if (!bb_protocol_check_size (auth_public_key, 32, "authPublicKey", error)
      || !bb_protocol_check_size (wrap_public_key, 32, "wrapPublicKey", error))
    goto fail;
  memcpy (p, bb_protocol_bytes_data (auth_public_key), 32);
  memcpy (p + 32, bb_protocol_bytes_data (wrap_public_key), 32);
  p += 64;
  if (expires_at < 0)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("expiresAt: must not be negative"));
      goto fail;
    }
  bb_protocol_put_be64 (p, (guint64)expires_at);
  return g_bytes_new_take (out, JOIN_PAYLOAD_SIZE);

fail:
  g_free (out);
  return NULL;
}

/**
 * bb_protocol_join_request_hash:
 * @join_request_payload: the join-request payload
 *
 * Computes the join-request hash, lower-case hex SHA-256 of the payload.
 *
 * Returns: (transfer full): the 64-character hash
 *
 * Since: 0.1
 */
gchar *
bb_protocol_join_request_hash (GBytes *join_request_payload)
{
  guint8 digest[32];
  gsize len;
  const guint8 *p;

  g_return_val_if_fail (join_request_payload != NULL, NULL);

  p = g_bytes_get_data (join_request_payload, &len);
  bb_crypto_sha256 (p != NULL ? p : digest, len, digest);
  return bb_protocol_hex_encode_raw (digest, sizeof digest);
}

/* ------------------------------------------------------------------------------------ */
/* A Go net/url-compatible URL splitter                                                 */

/* The reference client parses server origins and invite URIs with Go's net/url, and what
 * it accepts is part of the protocol: a stricter parser would reject invites that Go
 * apps produce or accept. So this mirrors url.Parse (only the parts bbsync needs). */

typedef enum
{
  ENC_PATH,
  ENC_USER_PASSWORD,
  ENC_QUERY_COMPONENT,
  ENC_FRAGMENT,
  ENC_HOST,
} GoEncoding;

static gboolean
go_should_escape (guchar c, GoEncoding mode)
{
  if (g_ascii_isalnum (c))
    return FALSE;
  if (mode == ENC_HOST)
    {
      switch (c)
        {
          case '!':
          case '$':
          case '&':
          case '\'':
          case '(':
          case ')':
          case '*':
          case '+':
          case ',':
          case ';':
          case '=':
          case ':':
          case '[':
          case ']':
          case '<':
          case '>':
          case '"':
            return FALSE;
          default:
            break;
        }
    }
  switch (c)
    {
      case '-':
      case '_':
      case '.':
      case '~':
        return FALSE;
      case '$':
      case '&':
      case '+':
      case ',':
      case '/':
      case ':':
      case ';':
      case '=':
      case '?':
      case '@':
        switch (mode)
          {
            case ENC_PATH:
              return c == '?';
            case ENC_USER_PASSWORD:
              return c == '@' || c == '/' || c == '?' || c == ':';
            case ENC_QUERY_COMPONENT:
              return TRUE;
            case ENC_FRAGMENT:
              return FALSE;
            case ENC_HOST:
            default:
              break;
          }
        break;
      default:
        break;
    }
  if (mode == ENC_FRAGMENT && (c == '!' || c == '(' || c == ')' || c == '*'))
    return FALSE;
  return TRUE;
}

/* url.unescape: percent-decoding with Go's per-mode rules. Returns NULL on error;
 * the result may contain NUL bytes, so its length is returned too. */
static char *
go_unescape (const char *s, gsize len, GoEncoding mode, gsize *out_len)
{
  GString *out;

  for (gsize i = 0; i < len;)
    {
      if (s[i] == '%')
        {
          if (i + 2 >= len || !g_ascii_isxdigit (s[i + 1]) || !g_ascii_isxdigit (s[i + 2]))
            return NULL;
          /* Hosts may only escape non-ASCII bytes (and "%25" itself). */
          if (mode == ENC_HOST && g_ascii_xdigit_value (s[i + 1]) < 8
              && strncmp (s + i, "%25", 3) != 0)
            return NULL;
          i += 3;
        }
      else
        {
          if (mode == ENC_HOST && (guchar)s[i] < 0x80 && go_should_escape (s[i], mode))
            return NULL;
          i++;
        }
    }

  out = g_string_sized_new (len + 1);
  for (gsize i = 0; i < len;)
    {
      if (s[i] == '%')
        {
          g_string_append_c (
              out, (char)(g_ascii_xdigit_value (s[i + 1]) << 4 | g_ascii_xdigit_value (s[i + 2])));
          i += 3;
        }
      else
        {
          g_string_append_c (out, (mode == ENC_QUERY_COMPONENT && s[i] == '+') ? ' ' : s[i]);
          i++;
        }
    }
  *out_len = out->len;
  return g_string_free (out, FALSE);
}

/* url.escape for the fragment mode only (the one bbsync re-escapes with). The fragment
 * of an invite URI holds its secret: the buffer is sized for the worst case (every byte
 * escaped) so it never reallocates, and no printf scratch copies are made. */
static char *
go_escape_fragment (const char *s, gsize len)
{
  static const char upper_hex[] = "0123456789ABCDEF";
  GString *out = bb_crypto_secret_string_new (3 * len);

  for (gsize i = 0; i < len; i++)
    {
      guchar c = (guchar)s[i];
      if (go_should_escape (c, ENC_FRAGMENT))
        {
          g_string_append_c (out, '%');
          g_string_append_c (out, upper_hex[c >> 4]);
          g_string_append_c (out, upper_hex[c & 0x0f]);
        }
      else
        g_string_append_c (out, (char)c);
    }
  return g_string_free (out, FALSE);
}

static gboolean
go_valid_encoded_fragment (const char *s)
{
  for (; *s; s++)
    {
      switch (*s)
        {
          case '!':
          case '$':
          case '&':
          case '\'':
          case '(':
          case ')':
          case '*':
          case '+':
          case ',':
          case ';':
          case '=':
          case ':':
          case '@':
          case '[':
          case ']':
          case '%':
            break;
          default:
            if (go_should_escape ((guchar)*s, ENC_FRAGMENT))
              return FALSE;
        }
    }
  return TRUE;
}

gboolean
bb_protocol_url_valid_optional_port (const char *p, gsize len)
{
  if (len == 0)
    return TRUE;
  if (p[0] != ':')
    return FALSE;
  for (gsize i = 1; i < len; i++)
    if (!g_ascii_isdigit (p[i]))
      return FALSE;
  return TRUE;
}

static gboolean
go_valid_userinfo (const char *s, gsize len)
{
  for (gsize i = 0; i < len; i++)
    {
      if (g_ascii_isalnum (s[i]))
        continue;
      if (strchr ("-._:~!$&'()*+,;=%@", s[i]) == NULL || s[i] == '\0')
        return FALSE;
    }
  return TRUE;
}

static char *
go_parse_host (const char *host, gsize len, char **out_reason)
{
  const char *colon = NULL;
  gsize out_len;
  char *decoded;

  /* Bracketed IP literals: current Go only accepts valid IPv6 addresses there, whose
   * colons no origin or invite authority allows anyway, so they are refused up front. */
  if (len > 0 && host[0] == '[')
    {
      *out_reason = g_strdup ("IP literal hosts are not supported");
      return NULL;
    }
  for (gsize i = 0; i < len; i++)
    if (host[i] == ':')
      colon = host + i;
  if (colon != NULL && !bb_protocol_url_valid_optional_port (colon, len - (gsize)(colon - host)))
    {
      *out_reason = g_strdup ("invalid port after host");
      return NULL;
    }
  decoded = go_unescape (host, len, ENC_HOST, &out_len);
  if (decoded == NULL)
    {
      *out_reason = g_strdup ("invalid character or escape in host");
      return NULL;
    }
  if (strlen (decoded) != out_len)
    {
      g_free (decoded);
      *out_reason = g_strdup ("invalid character or escape in host");
      return NULL;
    }
  return decoded;
}

void
bb_protocol_url_clear (BbProtocolUrl *url)
{
  g_clear_pointer (&url->scheme, g_free);
  g_clear_pointer (&url->host, g_free);
  g_clear_pointer (&url->raw_query, g_free);
  /* An invite URI's fragment is its secret. */
  if (url->escaped_fragment != NULL)
    bb_crypto_wipe (url->escaped_fragment, strlen (url->escaped_fragment));
  g_clear_pointer (&url->escaped_fragment, g_free);
  memset (url, 0, sizeof *url);
}

gboolean
bb_protocol_url_parse (const char *text, BbProtocolUrl *url, char **out_reason)
{
  const char *hash, *rest, *rest_end, *q;
  const char *frag = "";
  gsize scheme_len = 0;
  gsize qcount = 0;

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (url != NULL, FALSE);
  g_return_val_if_fail (out_reason != NULL, FALSE);

  memset (url, 0, sizeof *url);

  /* The fragment is cut off first and only percent-checked. */
  hash = strchr (text, '#');
  rest_end = hash ? hash : text + strlen (text);
  if (hash)
    frag = hash + 1;

  for (const char *c = text; c < rest_end; c++)
    if ((guchar)*c < 0x20 || *c == 0x7f)
      {
        *out_reason = g_strdup ("invalid control character in URL");
        return FALSE;
      }

  /* getScheme */
  rest = text;
  for (const char *c = text; c < rest_end; c++)
    {
      if (g_ascii_isalpha (*c))
        continue;
      if (g_ascii_isdigit (*c) || *c == '+' || *c == '-' || *c == '.')
        {
          if (c == text)
            break;
          continue;
        }
      if (*c == ':')
        {
          if (c == text)
            {
              *out_reason = g_strdup ("missing protocol scheme");
              return FALSE;
            }
          scheme_len = (gsize)(c - text);
          rest = c + 1;
        }
      break;
    }
  url->scheme = g_ascii_strdown (text, (gssize)scheme_len);

  /* The query: a lone trailing '?' is dropped ("ForceQuery"), otherwise cut at the
   * first '?'. */
  for (const char *c = rest; c < rest_end; c++)
    if (*c == '?')
      qcount++;
  q = memchr (rest, '?', (gsize)(rest_end - rest));
  if (qcount == 1 && rest_end > rest && rest_end[-1] == '?')
    {
      url->raw_query = g_strdup ("");
      rest_end--;
    }
  else if (q != NULL)
    {
      url->raw_query = g_strndup (q + 1, (gsize)(rest_end - q - 1));
      rest_end = q;
    }
  else
    url->raw_query = g_strdup ("");

  if (rest == rest_end || rest[0] != '/')
    {
      if (scheme_len > 0)
        url->opaque = TRUE;
      else if (rest != rest_end)
        {
          /* No scheme: Go refuses a colon in the first path segment. */
          const char *slash = memchr (rest, '/', (gsize)(rest_end - rest));
          const char *colon = memchr (rest, ':', (gsize)(rest_end - rest));
          if (colon != NULL && (slash == NULL || colon < slash))
            {
              *out_reason = g_strdup ("first path segment in URL cannot contain colon");
              bb_protocol_url_clear (url);
              return FALSE;
            }
        }
      if (!url->opaque)
        url->path_len = (gsize)(rest_end - rest);
      url->host = g_strdup ("");
    }
  else
    {
      const char *path = rest;
      if ((scheme_len > 0 || rest_end - rest < 3 || rest[2] != '/') && rest_end - rest >= 2
          && rest[1] == '/')
        {
          const char *auth = rest + 2;
          const char *auth_end = memchr (auth, '/', (gsize)(rest_end - auth));
          const char *at = NULL;
          if (auth_end == NULL)
            auth_end = rest_end;
          for (const char *c = auth; c < auth_end; c++)
            if (*c == '@')
              at = c;
          if (at != NULL)
            {
              gsize ulen;
              char *user;
              if (!go_valid_userinfo (auth, (gsize)(at - auth)))
                {
                  *out_reason = g_strdup ("invalid userinfo");
                  bb_protocol_url_clear (url);
                  return FALSE;
                }
              user = go_unescape (auth, (gsize)(at - auth), ENC_USER_PASSWORD, &ulen);
              if (user == NULL)
                {
                  *out_reason = g_strdup ("invalid escape in userinfo");
                  bb_protocol_url_clear (url);
                  return FALSE;
                }
              g_free (user);
              url->has_user = TRUE;
            }
          url->host = go_parse_host (at ? at + 1 : auth, (gsize)(auth_end - (at ? at + 1 : auth)),
                                     out_reason);
          if (url->host == NULL)
            {
              bb_protocol_url_clear (url);
              return FALSE;
            }
          path = auth_end;
        }
      else
        url->host = g_strdup ("");
      if (path < rest_end)
        {
          gsize plen;
          char *decoded = go_unescape (path, (gsize)(rest_end - path), ENC_PATH, &plen);
          if (decoded == NULL)
            {
              *out_reason = g_strdup ("invalid escape in path");
              bb_protocol_url_clear (url);
              return FALSE;
            }
          g_free (decoded);
          url->path_len = plen;
        }
    }

  /* setFragment + EscapedFragment: keep the raw text when it is validly encoded,
   * otherwise re-escape the decoded text. */
  if (*frag != '\0')
    {
      gsize flen;
      char *decoded = go_unescape (frag, strlen (frag), ENC_FRAGMENT, &flen);
      if (decoded == NULL)
        {
          *out_reason = g_strdup ("invalid escape in fragment");
          bb_protocol_url_clear (url);
          return FALSE;
        }
      url->fragment_len = flen;
      if (go_valid_encoded_fragment (frag))
        url->escaped_fragment = g_strdup (frag);
      else
        url->escaped_fragment = go_escape_fragment (decoded, flen);
      /* The decoded text of an invite URI's fragment is "k=" and the secret. */
      bb_crypto_wipe (decoded, flen);
      g_free (decoded);
    }
  else
    url->escaped_fragment = g_strdup ("");

  return TRUE;
}

gboolean
bb_protocol_parse_form (const char *raw, BbProtocolFormFunc func, gpointer user_data,
                        char **out_reason)
{
  const char *p = raw;

  g_return_val_if_fail (raw != NULL, FALSE);
  g_return_val_if_fail (out_reason != NULL, FALSE);

  while (*p != '\0')
    {
      const char *amp = strchr (p, '&');
      const char *end = amp ? amp : p + strlen (p);
      const char *eq;
      char *key, *value;
      gsize klen, vlen;

      if (memchr (p, ';', (gsize)(end - p)) != NULL)
        {
          *out_reason = g_strdup ("invalid semicolon separator in query");
          return FALSE;
        }
      if (end == p)
        {
          p = amp ? amp + 1 : end;
          continue;
        }
      eq = memchr (p, '=', (gsize)(end - p));
      key = go_unescape (p, (gsize)((eq ? eq : end) - p), ENC_QUERY_COMPONENT, &klen);
      if (key == NULL)
        {
          *out_reason = g_strdup ("invalid URL escape in key");
          return FALSE;
        }
      value = eq ? go_unescape (eq + 1, (gsize)(end - eq - 1), ENC_QUERY_COMPONENT, &vlen)
                 : (vlen = 0, g_strdup (""));
      if (value == NULL)
        {
          g_free (key);
          *out_reason = g_strdup ("invalid URL escape in value");
          return FALSE;
        }
      func (key, klen, value, vlen, user_data);
      g_free (key);
      bb_crypto_wipe (value, vlen);
      g_free (value);
      p = amp ? amp + 1 : end;
    }
  return TRUE;
}

/* ------------------------------------------------------------------------------------ */
/* Server origins                                                                       */

/**
 * bb_protocol_canonical_origin:
 * @origin: a server origin such as `https://sync.example`
 * @error: return location for a #GError
 *
 * Validates and canonicalises a server origin the way the reference client does: the
 * scheme must be `https` (any case), there must be a host and nothing but an optional
 * port (no userinfo, path, query or fragment), the host must be lower-case ASCII made of
 * `a-z 0-9 -` labels (an IDNA A-label host), a port must be decimal 1 to 65535 without
 * leading zeros and is dropped when it is 443, and the result must not exceed 128 bytes.
 *
 * Returns: (transfer full): the canonical origin, or %NULL with
 *   %BB_SYNC_ERROR_INVALID_INPUT
 *
 * Since: 0.1
 */
gchar *
bb_protocol_canonical_origin (const char *origin, GError **error)
{
  BbProtocolUrl url;
  g_autofree char *reason = NULL;
  g_autofree char *hostname = NULL;
  const char *port = NULL;
  const char *colon;
  GString *canonical;

  g_return_val_if_fail (origin != NULL, NULL);

  if (!bb_protocol_url_parse (origin, &url, &reason))
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("server origin: cannot be parsed: %s"), reason);
      return NULL;
    }
  if (strcmp (url.scheme, "https") != 0)
    {
      bb_protocol_url_clear (&url);
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("server origin: scheme must be https"));
      return NULL;
    }
  if (url.opaque || url.host[0] == '\0' || url.has_user || url.path_len != 0
      || url.raw_query[0] != '\0' || url.fragment_len != 0)
    {
      bb_protocol_url_clear (&url);
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("server origin: must contain only scheme, host, and optional port"));
      return NULL;
    }

  /* Hostname() and Port(): split at the last ':' when what follows is a valid port. */
  colon = strrchr (url.host, ':');
  if (colon != NULL && bb_protocol_url_valid_optional_port (colon, strlen (colon)))
    {
      hostname = g_strndup (url.host, (gsize)(colon - url.host));
      port = colon + 1;
    }
  else
    hostname = g_strdup (url.host);

  for (const char *c = hostname;; c++)
    {
      if (*c == '\0')
        {
          if (c == hostname)
            goto not_lower_ascii;
          break;
        }
      if ((guchar)*c >= 0x80 || g_ascii_isupper (*c))
        goto not_lower_ascii;
    }

  if (hostname[0] == '.' || g_str_has_suffix (hostname, ".") || strstr (hostname, "..") != NULL)
    goto not_a_label;
  for (const char *label = hostname; label != NULL;)
    {
      const char *dot = strchr (label, '.');
      gsize len = dot ? (gsize)(dot - label) : strlen (label);
      if (len > 0 && (label[0] == '-' || label[len - 1] == '-'))
        goto not_a_label;
      for (gsize i = 0; i < len; i++)
        if (!(g_ascii_islower (label[i]) || g_ascii_isdigit (label[i]) || label[i] == '-'))
          goto not_a_label;
      label = dot ? dot + 1 : NULL;
    }

  if (port != NULL && *port != '\0')
    {
      guint64 value = 0;
      gsize digits = strlen (port);
      /* Digits only (checked above); more than 5 digits cannot be canonical or in range. */
      if (digits > 5 || port[0] == '0')
        goto bad_port;
      for (gsize i = 0; i < digits; i++)
        value = value * 10 + (guint64)(port[i] - '0');
      if (value == 0 || value > 65535)
        goto bad_port;
      if (value == 443)
        port = NULL;
    }
  else
    port = NULL;

  canonical = g_string_new ("https://");
  g_string_append (canonical, hostname);
  if (port != NULL)
    {
      g_string_append_c (canonical, ':');
      g_string_append (canonical, port);
    }
  bb_protocol_url_clear (&url);
  if (canonical->len > BB_PROTOCOL_MAX_ORIGIN_LENGTH)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("server origin: exceeds maximum %d bytes"), BB_PROTOCOL_MAX_ORIGIN_LENGTH);
      g_string_free (canonical, TRUE);
      return NULL;
    }
  return g_string_free (canonical, FALSE);

not_lower_ascii:
  bb_protocol_url_clear (&url);
  g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
               _ ("server origin: host must be lowercase ASCII"));
  return NULL;

not_a_label:
  bb_protocol_url_clear (&url);
  g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
               _ ("server origin: host must be an IDNA A-label host"));
  return NULL;

bad_port:
  bb_protocol_url_clear (&url);
  g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
               _ ("server origin: port must be canonical (1 to 65535, no leading zeros)"));
  return NULL;
}

/**
 * bb_protocol_server_origin_hash:
 * @origin: a canonical server origin
 * @error: return location for a #GError
 *
 * Computes SHA-256 of a server origin for the join-request payload. It is only defined
 * for an origin that is already canonical: `https://sync.example:443` is an error, not
 * a synonym of `https://sync.example`.
 *
 * Returns: (transfer full): the 32-byte hash, or %NULL with %BB_SYNC_ERROR_INVALID_INPUT
 *
 * Since: 0.1
 */
GBytes *
bb_protocol_server_origin_hash (const char *origin, GError **error)
{
  g_autofree char *canonical = NULL;
  guint8 *out;

  g_return_val_if_fail (origin != NULL, NULL);

  canonical = bb_protocol_canonical_origin (origin, error);
  if (canonical == NULL)
    return NULL;
  if (strcmp (canonical, origin) != 0)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("server origin: must be canonical (“%s”, not “%s”)"), canonical, origin);
      return NULL;
    }
  out = g_malloc (32);
  bb_crypto_sha256 ((const guint8 *)origin, strlen (origin), out);
  return g_bytes_new_take (out, 32);
}

/* ------------------------------------------------------------------------------------ */
/* Fresh random values                                                                  */

static gchar *
new_random_hex_id (gsize size)
{
  guint8 id[BB_PROTOCOL_NAMESPACE_ID_SIZE];
  g_autoptr (GBytes) bytes = NULL;

  g_assert (size <= sizeof id);
  bb_crypto_random_bytes (id, size);
  bytes = g_bytes_new (id, size);
  return bb_protocol_hex_encode (bytes);
}

/**
 * bb_protocol_new_namespace_id:
 *
 * Draws a fresh namespace ID: 16 random bytes from the system's cryptographic random
 * number generator, as lower-case hex. Clients choose the IDs of the namespaces they
 * create.
 *
 * Returns: (transfer full): 32 lower-case hex characters
 *
 * Since: 0.1
 */
gchar *
bb_protocol_new_namespace_id (void)
{
  return new_random_hex_id (BB_PROTOCOL_NAMESPACE_ID_SIZE);
}

/**
 * bb_protocol_new_invite_id:
 *
 * Draws a fresh invite ID: 16 random bytes as lower-case hex.
 *
 * Returns: (transfer full): 32 lower-case hex characters
 *
 * Since: 0.1
 */
gchar *
bb_protocol_new_invite_id (void)
{
  return new_random_hex_id (BB_PROTOCOL_INVITE_ID_SIZE);
}

/**
 * bb_protocol_new_dek:
 *
 * Draws a fresh 32-byte namespace data-encryption key. The returned buffer is wiped
 * when its last reference is dropped.
 *
 * Returns: (transfer full): the key
 *
 * Since: 0.1
 */
GBytes *
bb_protocol_new_dek (void)
{
  guint8 *dek = g_malloc (BB_PROTOCOL_DEK_SIZE);

  bb_crypto_random_bytes (dek, BB_PROTOCOL_DEK_SIZE);
  return bb_crypto_secret_bytes_new_take (dek, BB_PROTOCOL_DEK_SIZE);
}

/**
 * bb_protocol_new_invite_secret:
 *
 * Draws a fresh 32-byte invite secret (the `k` of an invite URI, which never goes to the
 * server). The returned buffer is wiped when its last reference is dropped.
 *
 * Returns: (transfer full): the secret
 *
 * Since: 0.1
 */
GBytes *
bb_protocol_new_invite_secret (void)
{
  guint8 *secret = g_malloc (BB_PROTOCOL_INVITE_SECRET_SIZE);

  bb_crypto_random_bytes (secret, BB_PROTOCOL_INVITE_SECRET_SIZE);
  return bb_crypto_secret_bytes_new_take (secret, BB_PROTOCOL_INVITE_SECRET_SIZE);
}

/* ------------------------------------------------------------------------------------ */
/* ETag / If-Match                                                                      */

/**
 * bb_protocol_etag:
 * @version: an item version
 *
 * Formats the ETag of an item version, the decimal version in double quotes (`"3"`).
 *
 * Returns: (transfer full): the ETag
 *
 * Since: 0.1
 */
gchar *
bb_protocol_etag (guint64 version)
{
  return g_strdup_printf ("\"%" G_GUINT64_FORMAT "\"", version);
}

/**
 * bb_protocol_parse_if_match:
 * @value: (nullable): the If-Match header value, or %NULL if absent
 * @out_has_version: (out) (optional): return location for whether a precondition was
 *   given (also set, to %TRUE, when the value is malformed)
 * @out_version: (out) (optional): return location for the version
 * @error: return location for a #GError
 *
 * Parses an If-Match header the way the protocol's servers do. An absent, empty or
 * all-whitespace value means no precondition. Otherwise the value must be exactly a
 * canonical ETag (see bb_protocol_etag()): `3`, `"03"`, `"3" ` or a list are malformed.
 *
 * Bindings do not see the boolean result, which only repeats whether @error was set:
 * they return the pair (has_version, version) and raise the error instead.
 *
 * Returns: (skip): %TRUE on success; %FALSE with %BB_SYNC_ERROR_INVALID_INPUT if malformed
 *
 * Since: 0.1
 */
gboolean
bb_protocol_parse_if_match (const char *value, gboolean *out_has_version, guint64 *out_version,
                            GError **error)
{
  gsize len;
  guint64 version = 0;
  g_autofree char *requoted = NULL;

  if (out_has_version)
    *out_has_version = FALSE;
  if (out_version)
    *out_version = 0;

  if (value == NULL)
    return TRUE;
  {
    gboolean blank = TRUE;
    for (const char *c = value; *c; c++)
      if (!g_ascii_isspace (*c))
        blank = FALSE;
    if (blank)
      return TRUE;
  }

  if (out_has_version)
    *out_has_version = TRUE;
  len = strlen (value);
  if (len < 3 || value[0] != '"' || value[len - 1] != '"')
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("If-Match: must be a quoted decimal version"));
      return FALSE;
    }
  for (gsize i = 1; i < len - 1; i++)
    {
      guint digit;
      if (!g_ascii_isdigit (value[i]))
        goto malformed;
      digit = (guint)(value[i] - '0');
      if (version > (G_MAXUINT64 - digit) / 10)
        goto malformed;
      version = version * 10 + digit;
    }
  requoted = bb_protocol_etag (version);
  if (strcmp (requoted, value) != 0)
    goto malformed;
  if (out_version)
    *out_version = version;
  return TRUE;

malformed:
  g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
               _ ("If-Match: must use canonical ETag encoding"));
  return FALSE;
}
