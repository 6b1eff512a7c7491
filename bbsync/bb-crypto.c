/* bb-crypto.c: the crypto layer, on nettle and GnuTLS
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Everything here is a thin wrapper over nettle, except two constructions that GnuTLS 3.7
 * lacks and that the wire protocol needs: HChaCha20/XChaCha20-Poly1305
 * (draft-irtf-cfrg-xchacha) and HPKE base mode (RFC 9180) for one fixed suite. Every
 * intermediate secret (PRKs, shared secrets, subkeys, cipher contexts) is wiped before
 * the function that made it returns.
 */

#include "config.h"

#include "bb-crypto-private.h"

#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <nettle/chacha-poly1305.h>
#include <nettle/curve25519.h>
#include <nettle/eddsa.h>
#include <nettle/hkdf.h>
#include <nettle/hmac.h>
#include <nettle/macros.h>
#include <nettle/sha2.h>

G_STATIC_ASSERT (BB_CRYPTO_SHA256_SIZE == SHA256_DIGEST_SIZE);
G_STATIC_ASSERT (BB_CRYPTO_ED25519_KEY_SIZE == ED25519_KEY_SIZE);
G_STATIC_ASSERT (BB_CRYPTO_ED25519_SIG_SIZE == ED25519_SIGNATURE_SIZE);
G_STATIC_ASSERT (BB_CRYPTO_X25519_KEY_SIZE == CURVE25519_SIZE);
G_STATIC_ASSERT (BB_CRYPTO_AEAD_KEY_SIZE == CHACHA_POLY1305_KEY_SIZE);
G_STATIC_ASSERT (BB_CRYPTO_AEAD_TAG_SIZE == CHACHA_POLY1305_DIGEST_SIZE);
G_STATIC_ASSERT (BB_CRYPTO_CHACHA_NONCE_SIZE == CHACHA_POLY1305_NONCE_SIZE);

/* ------------------------------------------------------------------------------------ */
/* Wiping, comparison, randomness */

static BbCryptoWipeObserver wipe_observer;
static gpointer wipe_observer_data;

void
bb_crypto_set_wipe_observer (BbCryptoWipeObserver observer, gpointer user_data)
{
  wipe_observer = observer;
  wipe_observer_data = user_data;
}

void
bb_crypto_wipe (void *buf, gsize len)
{
  if (buf == NULL || len == 0)
    return;
  if (G_UNLIKELY (wipe_observer != NULL))
    wipe_observer (buf, len, wipe_observer_data);
  /* gnutls_memset goes through a volatile function pointer, so the compiler cannot drop
   * it as a dead store. */
  gnutls_memset (buf, 0, len);
}

gboolean
bb_crypto_equal (const void *a, const void *b, gsize len)
{
  if (len == 0)
    return TRUE;
  g_return_val_if_fail (a != NULL && b != NULL, FALSE);
  /* Constant time in the contents: the running time depends on @len only. */
  return gnutls_memcmp (a, b, len) == 0;
}

void
bb_crypto_random_bytes (guint8 *buf, gsize len)
{
  if (len == 0)
    return;
  g_return_if_fail (buf != NULL);
  /* A failing system RNG leaves no safe way forward: keys and nonces would repeat. */
  if (gnutls_rnd (GNUTLS_RND_KEY, buf, len) < 0)
    g_error ("bbsync: the system random number generator failed");
}

typedef struct
{
  guint8 *data;
  gsize len;
} BbSecretBuffer;

static void
secret_buffer_free (gpointer user_data)
{
  BbSecretBuffer *sb = user_data;

  bb_crypto_wipe (sb->data, sb->len);
  g_free (sb->data);
  g_free (sb);
}

/* Takes ownership of @data, which must come from g_malloc(); it is wiped and freed when
 * the last reference to the returned GBytes goes. */
GBytes *
bb_crypto_secret_bytes_new_take (guint8 *data, gsize len)
{
  BbSecretBuffer *sb;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  sb = g_new (BbSecretBuffer, 1);
  sb->data = data;
  sb->len = len;
  return g_bytes_new_with_free_func (data, len, secret_buffer_free, sb);
}

GBytes *
bb_crypto_secret_bytes_new (const guint8 *data, gsize len)
{
  g_return_val_if_fail (data != NULL || len == 0, NULL);

  return bb_crypto_secret_bytes_new_take (len > 0 ? g_memdup2 (data, len) : NULL, len);
}

/* g_string_sized_new() allocates more than @reserve bytes, and GString reallocates only
 * when the text with its terminator no longer fits, so @reserve bytes of text never move. */
GString *
bb_crypto_secret_string_new (gsize reserve)
{
  return g_string_sized_new (reserve);
}

void
bb_crypto_secret_string_free (GString *string)
{
  if (string == NULL)
    return;
  bb_crypto_wipe (string->str, string->allocated_len);
  g_string_free (string, TRUE);
}

/* ------------------------------------------------------------------------------------ */
/* SHA-256, HMAC, HKDF */

void
bb_crypto_sha256 (const guint8 *data, gsize len, guint8 out[32])
{
  struct sha256_ctx ctx;

  sha256_init (&ctx);
  sha256_update (&ctx, len, data);
  sha256_digest (&ctx, SHA256_DIGEST_SIZE, out);
}

void
bb_crypto_hmac_sha256 (const guint8 *key, gsize key_len, const guint8 *msg, gsize msg_len,
                       guint8 out[32])
{
  struct hmac_sha256_ctx ctx;

  hmac_sha256_set_key (&ctx, key_len, key);
  hmac_sha256_update (&ctx, msg_len, msg);
  hmac_sha256_digest (&ctx, SHA256_DIGEST_SIZE, out);
  bb_crypto_wipe (&ctx, sizeof ctx);
}

void
bb_crypto_hkdf_sha256_extract (const guint8 *salt, gsize salt_len, const guint8 *ikm, gsize ikm_len,
                               guint8 prk[32])
{
  struct hmac_sha256_ctx ctx;

  /* An empty HMAC key is padded with zeros to the block size, exactly like HashLen zero
   * bytes, so RFC 5869's default salt needs no special case. */
  hmac_sha256_set_key (&ctx, salt_len, salt);
  hkdf_extract (&ctx, (nettle_hash_update_func *)hmac_sha256_update,
                (nettle_hash_digest_func *)hmac_sha256_digest, SHA256_DIGEST_SIZE, ikm_len, ikm,
                prk);
  bb_crypto_wipe (&ctx, sizeof ctx);
}

void
bb_crypto_hkdf_sha256_expand (const guint8 prk[32], const guint8 *info, gsize info_len, guint8 *out,
                              gsize out_len)
{
  struct hmac_sha256_ctx ctx;

  g_return_if_fail (out_len <= 255 * SHA256_DIGEST_SIZE);
  if (out_len == 0)
    return;

  hmac_sha256_set_key (&ctx, SHA256_DIGEST_SIZE, prk);
  hkdf_expand (&ctx, (nettle_hash_update_func *)hmac_sha256_update,
               (nettle_hash_digest_func *)hmac_sha256_digest, SHA256_DIGEST_SIZE, info_len, info,
               out_len, out);
  bb_crypto_wipe (&ctx, sizeof ctx);
}

void
bb_crypto_hkdf_sha256 (const guint8 *salt, gsize salt_len, const guint8 *ikm, gsize ikm_len,
                       const guint8 *info, gsize info_len, guint8 *out, gsize out_len)
{
  guint8 prk[SHA256_DIGEST_SIZE];

  g_return_if_fail (out_len <= 255 * SHA256_DIGEST_SIZE);

  bb_crypto_hkdf_sha256_extract (salt, salt_len, ikm, ikm_len, prk);
  bb_crypto_hkdf_sha256_expand (prk, info, info_len, out, out_len);
  bb_crypto_wipe (prk, sizeof prk);
}

/* ------------------------------------------------------------------------------------ */
/* Ed25519, X25519 */

void
bb_crypto_ed25519_public_key (const guint8 seed[32], guint8 pub[32])
{
  ed25519_sha512_public_key (pub, seed);
}

void
bb_crypto_ed25519_sign (const guint8 seed[32], const guint8 pub[32], const guint8 *msg,
                        gsize msg_len, guint8 sig[64])
{
  ed25519_sha512_sign (pub, seed, msg_len, msg, sig);
}

/* The y coordinates (little-endian, bit 255 clear) of the eight points whose order divides
 * 8 on edwards25519, -x^2 + y^2 = 1 + d x^2 y^2 over GF(p), p = 2^255 - 19, including
 * the y + p forms that still fit in 255 bits. Derived from the curve, not copied:
 *
 * With a = -1, doubling maps (x, y) to (2xy / (y^2 - x^2), (y^2 + x^2) / (2 + x^2 - y^2)).
 * - Order 1: the identity (0, 1), so y = 1.
 * - Order 2: (0, -1), so y = p - 1.
 * - Order 4: the points doubling to (0, -1) need 2xy = 0 with x != 0 (x = 0 gives
 *   y = +-1), so y = 0, and the curve then gives x^2 = -1: the two points (+-sqrt(-1), 0).
 * - Order 8: the points doubling to (+-sqrt(-1), 0) need y^2 + x^2 = 0, so x^2 = -y^2;
 *   the curve becomes d y^4 + 2 y^2 - 1 = 0, y^2 = (-1 +- sqrt(1 + d)) / d. Exactly one of
 *   the two roots is a square in GF(p); its square roots +-y8 give four points, since
 *   x = +-sqrt(-y^2) is non-zero. (The rows y8 and p - y8 were computed this way with
 *   Python integers from p and d = -121665/121666, and checked: the point is on the
 *   curve, and its multiples reach the identity first at 8.)
 * That is 1 + 1 + 2 + 4 = 8 points, the whole torsion subgroup.
 *
 * An encoding is y in bits 0..254 and the sign of x in bit 255. Every y above can appear
 * with either sign bit (for x = 0 a set sign bit is the non-canonical "-0"), and y and
 * y + p encode the same point when y + p < 2^255, which holds only for y < 19: here y = 0
 * and y = 1, giving the non-canonical p and p + 1. Seven y values, fourteen encodings. */
/* clang-format off */
static const guint8 small_order_y[][32] = {
  /* 0 (order 4) */
  { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 },
  /* 1 (the identity) */
  { 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 },
  /* y8 (order 8) */
  { 0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
    0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05 },
  /* p - y8 (order 8) */
  { 0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
    0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a },
  /* p - 1 (order 2) */
  { 0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
  /* p, a non-canonical 0 */
  { 0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
  /* p + 1, a non-canonical 1 */
  { 0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f },
};
/* clang-format on */

/* Public keys and R values are public, so the comparison need not be constant time. */
gboolean
bb_crypto_ed25519_is_small_order (const guint8 p[32])
{
  guint8 y[32];

  memcpy (y, p, sizeof y);
  y[31] &= 0x7f;
  for (gsize i = 0; i < G_N_ELEMENTS (small_order_y); i++)
    if (memcmp (y, small_order_y[i], sizeof y) == 0)
      return TRUE;
  return FALSE;
}

/* nettle accepts a small-order public key A, and with one a signature (R, S = 0) verifies
 * whenever R = -[h]A for the h = H(R || A || M) it yields: always for A the identity and
 * R the identity, and for the other such A after trying a few small-order R. Anyone could
 * then sign any message for that key. RFC 8032 does not require refusing such keys, but
 * honest key generation never yields one. A small-order R is refused too: an honest
 * signer's R = [r]B never has small order. */
gboolean
bb_crypto_ed25519_verify (const guint8 pub[32], const guint8 *msg, gsize msg_len,
                          const guint8 sig[64])
{
  if (bb_crypto_ed25519_is_small_order (pub) || bb_crypto_ed25519_is_small_order (sig))
    return FALSE;
  return ed25519_sha512_verify (pub, msg_len, msg, sig) == 1;
}

void
bb_crypto_x25519_public_key (const guint8 priv[32], guint8 pub[32])
{
  /* nettle clamps the scalar itself (RFC 7748 decodeScalar25519). */
  curve25519_mul_g (pub, priv);
}

gboolean
bb_crypto_x25519 (const guint8 priv[32], const guint8 peer_pub[32], guint8 shared[32])
{
  static const guint8 zero[CURVE25519_SIZE] = { 0 };

  curve25519_mul (shared, priv, peer_pub);
  /* A low-order peer point gives the all-zero output (RFC 7748 §6.1 says to check). */
  if (bb_crypto_equal (shared, zero, CURVE25519_SIZE))
    {
      bb_crypto_wipe (shared, CURVE25519_SIZE);
      return FALSE;
    }
  return TRUE;
}

/* ------------------------------------------------------------------------------------ */
/* ChaCha20-Poly1305 (RFC 8439) */

void
bb_crypto_chacha20poly1305_encrypt (const guint8 key[32], const guint8 nonce[12], const guint8 *aad,
                                    gsize aad_len, const guint8 *pt, gsize pt_len, guint8 *ct)
{
  struct chacha_poly1305_ctx ctx;

  chacha_poly1305_set_key (&ctx, key);
  chacha_poly1305_set_nonce (&ctx, nonce);
  if (aad_len > 0)
    chacha_poly1305_update (&ctx, aad_len, aad);
  if (pt_len > 0)
    chacha_poly1305_encrypt (&ctx, pt_len, ct, pt);
  chacha_poly1305_digest (&ctx, CHACHA_POLY1305_DIGEST_SIZE, ct + pt_len);
  bb_crypto_wipe (&ctx, sizeof ctx);
}

gboolean
bb_crypto_chacha20poly1305_decrypt (const guint8 key[32], const guint8 nonce[12], const guint8 *aad,
                                    gsize aad_len, const guint8 *ct, gsize ct_len, guint8 *pt)
{
  struct chacha_poly1305_ctx ctx;
  guint8 tag[CHACHA_POLY1305_DIGEST_SIZE];
  gsize pt_len;
  gboolean ok;

  if (ct_len < CHACHA_POLY1305_DIGEST_SIZE)
    return FALSE;
  pt_len = ct_len - CHACHA_POLY1305_DIGEST_SIZE;

  chacha_poly1305_set_key (&ctx, key);
  chacha_poly1305_set_nonce (&ctx, nonce);
  if (aad_len > 0)
    chacha_poly1305_update (&ctx, aad_len, aad);
  /* nettle authenticates the ciphertext while decrypting it, so the plaintext exists
   * before the tag is checked; it is wiped below when the check fails. */
  if (pt_len > 0)
    chacha_poly1305_decrypt (&ctx, pt_len, pt, ct);
  chacha_poly1305_digest (&ctx, sizeof tag, tag);
  ok = bb_crypto_equal (tag, ct + pt_len, sizeof tag);

  if (!ok)
    bb_crypto_wipe (pt, pt_len);
  bb_crypto_wipe (&ctx, sizeof ctx);
  bb_crypto_wipe (tag, sizeof tag);
  return ok;
}

/* ------------------------------------------------------------------------------------ */
/* HChaCha20 and XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha-03) */

/* clang-format off */
#define BB_ROTL32(v, n) (((v) << (n)) | ((v) >> (32 - (n))))
#define BB_QUARTER_ROUND(a, b, c, d) \
  G_STMT_START { \
    a += b; d ^= a; d = BB_ROTL32 (d, 16); \
    c += d; b ^= c; b = BB_ROTL32 (b, 12); \
    a += b; d ^= a; d = BB_ROTL32 (d, 8); \
    c += d; b ^= c; b = BB_ROTL32 (b, 7); \
  } G_STMT_END
/* clang-format on */

/* §2.2: the ChaCha20 state with the 16-byte nonce in words 12..15, 20 rounds, and no
 * final addition of the input; the subkey is words 0..3 then 12..15, little-endian. */
void
bb_crypto_hchacha20 (const guint8 key[32], const guint8 nonce[16], guint8 subkey[32])
{
  guint32 x[16];
  guint i;

  x[0] = 0x61707865; /* "expand 32-byte k" */
  x[1] = 0x3320646e;
  x[2] = 0x79622d32;
  x[3] = 0x6b206574;
  for (i = 0; i < 8; i++)
    x[4 + i] = LE_READ_UINT32 (key + 4 * i);
  for (i = 0; i < 4; i++)
    x[12 + i] = LE_READ_UINT32 (nonce + 4 * i);

  for (i = 0; i < 10; i++)
    {
      BB_QUARTER_ROUND (x[0], x[4], x[8], x[12]);
      BB_QUARTER_ROUND (x[1], x[5], x[9], x[13]);
      BB_QUARTER_ROUND (x[2], x[6], x[10], x[14]);
      BB_QUARTER_ROUND (x[3], x[7], x[11], x[15]);
      BB_QUARTER_ROUND (x[0], x[5], x[10], x[15]);
      BB_QUARTER_ROUND (x[1], x[6], x[11], x[12]);
      BB_QUARTER_ROUND (x[2], x[7], x[8], x[13]);
      BB_QUARTER_ROUND (x[3], x[4], x[9], x[14]);
    }

  for (i = 0; i < 4; i++)
    {
      LE_WRITE_UINT32 (subkey + 4 * i, x[i]);
      LE_WRITE_UINT32 (subkey + 16 + 4 * i, x[12 + i]);
    }
  bb_crypto_wipe (x, sizeof x);
}

#undef BB_QUARTER_ROUND
#undef BB_ROTL32

/* The IETF nonce of the inner AEAD: four zero bytes, then the last 8 of the 24. */
static void
xchacha_split (const guint8 key[32], const guint8 nonce[24], guint8 subkey[32], guint8 inner[12])
{
  bb_crypto_hchacha20 (key, nonce, subkey);
  memset (inner, 0, 4);
  memcpy (inner + 4, nonce + 16, 8);
}

void
bb_crypto_xchacha20poly1305_encrypt (const guint8 key[32], const guint8 nonce[24],
                                     const guint8 *aad, gsize aad_len, const guint8 *pt,
                                     gsize pt_len, guint8 *ct)
{
  guint8 subkey[32];
  guint8 inner[12];

  xchacha_split (key, nonce, subkey, inner);
  bb_crypto_chacha20poly1305_encrypt (subkey, inner, aad, aad_len, pt, pt_len, ct);
  bb_crypto_wipe (subkey, sizeof subkey);
}

gboolean
bb_crypto_xchacha20poly1305_decrypt (const guint8 key[32], const guint8 nonce[24],
                                     const guint8 *aad, gsize aad_len, const guint8 *ct,
                                     gsize ct_len, guint8 *pt)
{
  guint8 subkey[32];
  guint8 inner[12];
  gboolean ok;

  if (ct_len < BB_CRYPTO_AEAD_TAG_SIZE)
    return FALSE;

  xchacha_split (key, nonce, subkey, inner);
  ok = bb_crypto_chacha20poly1305_decrypt (subkey, inner, aad, aad_len, ct, ct_len, pt);
  bb_crypto_wipe (subkey, sizeof subkey);
  return ok;
}

/* ------------------------------------------------------------------------------------ */
/* HPKE base mode (RFC 9180) for DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 /
 * ChaCha20-Poly1305, one message at sequence number 0. */

#define HPKE_VERSION_LABEL "HPKE-v1"

/* suite_id of the KEM (§4.1) and of the whole ciphersuite (§5.1). */
static const guint8 hpke_kem_suite_id[] = { 'K', 'E', 'M', 0x00, 0x20 };
static const guint8 hpke_suite_id[] = { 'H', 'P', 'K', 'E', 0x00, 0x20, 0x00, 0x01, 0x00, 0x03 };

/* LabeledExtract(salt, label, ikm) = Extract(salt, "HPKE-v1" || suite_id || label || ikm).
 * HMAC is fed piece by piece so the secret @ikm is never copied into a scratch buffer. */
static void
hpke_labeled_extract (const guint8 *suite_id, gsize suite_id_len, const guint8 *salt,
                      gsize salt_len, const char *label, const guint8 *ikm, gsize ikm_len,
                      guint8 prk[32])
{
  struct hmac_sha256_ctx ctx;

  hmac_sha256_set_key (&ctx, salt_len, salt);
  hmac_sha256_update (&ctx, strlen (HPKE_VERSION_LABEL), (const guint8 *)HPKE_VERSION_LABEL);
  hmac_sha256_update (&ctx, suite_id_len, suite_id);
  hmac_sha256_update (&ctx, strlen (label), (const guint8 *)label);
  if (ikm_len > 0)
    hmac_sha256_update (&ctx, ikm_len, ikm);
  hmac_sha256_digest (&ctx, SHA256_DIGEST_SIZE, prk);
  bb_crypto_wipe (&ctx, sizeof ctx);
}

/* LabeledExpand(prk, label, info, L) =
 *   Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info, L).
 * The labeled info is public (it holds enc, pkR and hashes), only @prk is secret. */
static void
hpke_labeled_expand (const guint8 *suite_id, gsize suite_id_len, const guint8 prk[32],
                     const char *label, const guint8 *info, gsize info_len, guint8 *out,
                     gsize out_len)
{
  g_autoptr (GByteArray) labeled = g_byte_array_new ();
  guint8 len_be[2] = { (out_len >> 8) & 0xff, out_len & 0xff };

  g_byte_array_append (labeled, len_be, sizeof len_be);
  g_byte_array_append (labeled, (const guint8 *)HPKE_VERSION_LABEL, strlen (HPKE_VERSION_LABEL));
  g_byte_array_append (labeled, suite_id, suite_id_len);
  g_byte_array_append (labeled, (const guint8 *)label, strlen (label));
  if (info_len > 0)
    g_byte_array_append (labeled, info, info_len);

  bb_crypto_hkdf_sha256_expand (prk, labeled->data, labeled->len, out, out_len);
}

/* DHKEM ExtractAndExpand (§4.1): shared_secret from the DH output and enc || pkR. */
static void
hpke_kem_shared_secret (const guint8 dh[32], const guint8 enc[32], const guint8 pk_r[32],
                        guint8 shared_secret[32])
{
  guint8 kem_context[64];
  guint8 eae_prk[32];

  memcpy (kem_context, enc, 32);
  memcpy (kem_context + 32, pk_r, 32);

  hpke_labeled_extract (hpke_kem_suite_id, sizeof hpke_kem_suite_id, NULL, 0, "eae_prk", dh, 32,
                        eae_prk);
  hpke_labeled_expand (hpke_kem_suite_id, sizeof hpke_kem_suite_id, eae_prk, "shared_secret",
                       kem_context, sizeof kem_context, shared_secret, 32);
  bb_crypto_wipe (eae_prk, sizeof eae_prk);
}

/* KeySchedule (§5.1) in mode_base (no PSK): the AEAD key and the base nonce, which at
 * sequence number 0 is the nonce itself. */
static void
hpke_key_schedule (const guint8 shared_secret[32], const guint8 *info, gsize info_len,
                   guint8 key[32], guint8 nonce[12])
{
  guint8 context[1 + 32 + 32];
  guint8 secret[32];

  context[0] = 0x00; /* mode_base */
  hpke_labeled_extract (hpke_suite_id, sizeof hpke_suite_id, NULL, 0, "psk_id_hash", NULL, 0,
                        context + 1);
  hpke_labeled_extract (hpke_suite_id, sizeof hpke_suite_id, NULL, 0, "info_hash", info, info_len,
                        context + 33);

  hpke_labeled_extract (hpke_suite_id, sizeof hpke_suite_id, shared_secret, 32, "secret", NULL, 0,
                        secret);
  hpke_labeled_expand (hpke_suite_id, sizeof hpke_suite_id, secret, "key", context, sizeof context,
                       key, 32);
  hpke_labeled_expand (hpke_suite_id, sizeof hpke_suite_id, secret, "base_nonce", context,
                       sizeof context, nonce, 12);
  bb_crypto_wipe (secret, sizeof secret);
}

gboolean
bb_crypto_hpke_seal_base (const guint8 recipient_pub[32], const guint8 *info, gsize info_len,
                          const guint8 *aad, gsize aad_len, const guint8 *pt, gsize pt_len,
                          const guint8 *eph_priv, guint8 enc[32], guint8 *ct)
{
  guint8 sk_e[32];
  guint8 dh[32];
  guint8 shared_secret[32];
  guint8 key[32];
  guint8 nonce[12];
  gboolean ok = FALSE;

  if (eph_priv != NULL)
    memcpy (sk_e, eph_priv, sizeof sk_e);
  else
    bb_crypto_random_bytes (sk_e, sizeof sk_e);

  /* Encap (§4.1): enc is the ephemeral public key. */
  bb_crypto_x25519_public_key (sk_e, enc);
  if (!bb_crypto_x25519 (sk_e, recipient_pub, dh))
    goto out;

  hpke_kem_shared_secret (dh, enc, recipient_pub, shared_secret);
  hpke_key_schedule (shared_secret, info, info_len, key, nonce);
  bb_crypto_chacha20poly1305_encrypt (key, nonce, aad, aad_len, pt, pt_len, ct);
  ok = TRUE;

out:
  bb_crypto_wipe (sk_e, sizeof sk_e);
  bb_crypto_wipe (dh, sizeof dh);
  bb_crypto_wipe (shared_secret, sizeof shared_secret);
  bb_crypto_wipe (key, sizeof key);
  bb_crypto_wipe (nonce, sizeof nonce);
  return ok;
}

gboolean
bb_crypto_hpke_open_base (const guint8 recipient_priv[32], const guint8 enc[32], const guint8 *info,
                          gsize info_len, const guint8 *aad, gsize aad_len, const guint8 *ct,
                          gsize ct_len, guint8 *pt)
{
  guint8 pk_r[32];
  guint8 dh[32];
  guint8 shared_secret[32];
  guint8 key[32];
  guint8 nonce[12];
  gboolean ok = FALSE;

  if (ct_len < BB_CRYPTO_AEAD_TAG_SIZE)
    return FALSE;

  /* Decap (§4.1): the KEM context needs the recipient's own public key. */
  bb_crypto_x25519_public_key (recipient_priv, pk_r);
  if (!bb_crypto_x25519 (recipient_priv, enc, dh))
    goto out;

  hpke_kem_shared_secret (dh, enc, pk_r, shared_secret);
  hpke_key_schedule (shared_secret, info, info_len, key, nonce);
  ok = bb_crypto_chacha20poly1305_decrypt (key, nonce, aad, aad_len, ct, ct_len, pt);

out:
  if (!ok)
    bb_crypto_wipe (pt, ct_len - BB_CRYPTO_AEAD_TAG_SIZE);
  bb_crypto_wipe (dh, sizeof dh);
  bb_crypto_wipe (shared_secret, sizeof shared_secret);
  bb_crypto_wipe (key, sizeof key);
  bb_crypto_wipe (nonce, sizeof nonce);
  return ok;
}
