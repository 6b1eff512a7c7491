/* bb-protocol-items.c: key IDs, item IDs, item encryption and wrapped DEKs
 *
 * Everything derived from a namespace's data-encryption key, kept apart from the
 * constructions that authenticate an identity (intents) or admit one (invites).
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

#define WRAPPED_DEK_VERSION 0x01
#define AAD_FORMAT 0x01

#define HPKE_PLAINTEXT_SIZE (BB_PROTOCOL_NAMESPACE_ID_SIZE + BB_PROTOCOL_DEK_SIZE)

G_STATIC_ASSERT (BB_STRLEN (PREFIX_AAD) + 1 + 16 + 32 + 8 == BB_PROTOCOL_AAD_SIZE);
G_STATIC_ASSERT (1 + 32 + HPKE_PLAINTEXT_SIZE + 16 == BB_PROTOCOL_WRAPPED_DEK_SIZE);

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
 * @error: return location for a [struct@GLib.Error]
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
 * @error: return location for a [struct@GLib.Error]
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
 * @error: return location for a [struct@GLib.Error]
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
 * @error: return location for a [struct@GLib.Error]
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
 * @error: return location for a [struct@GLib.Error]
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
 * @error: return location for a [struct@GLib.Error]
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
 * @error: return location for a [struct@GLib.Error]
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
 * @error: return location for a [struct@GLib.Error]
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
 * @error: return location for a [struct@GLib.Error]
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
 * @error: return location for a [struct@GLib.Error]
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
