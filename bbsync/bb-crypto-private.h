/* bb-crypto-private.h: the crypto layer (private; the only code that touches nettle/GnuTLS)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define BB_CRYPTO_SHA256_SIZE        32
#define BB_CRYPTO_ED25519_SEED_SIZE  32
#define BB_CRYPTO_ED25519_KEY_SIZE   32
#define BB_CRYPTO_ED25519_SIG_SIZE   64
#define BB_CRYPTO_X25519_KEY_SIZE    32
#define BB_CRYPTO_AEAD_KEY_SIZE      32
#define BB_CRYPTO_AEAD_TAG_SIZE      16
#define BB_CRYPTO_CHACHA_NONCE_SIZE  12
#define BB_CRYPTO_XCHACHA_NONCE_SIZE 24
#define BB_CRYPTO_HPKE_ENC_SIZE      32

/* Hashes and KDFs. An empty HKDF salt (NULL, 0) means HashLen zero bytes (RFC 5869).
 * @out_len of HKDF is at most 255 * 32. */
void     bb_crypto_sha256               (const guint8 *data, gsize len, guint8 out[32]);
void     bb_crypto_hmac_sha256          (const guint8 *key, gsize key_len,
                                         const guint8 *msg, gsize msg_len,
                                         guint8        out[32]);
void     bb_crypto_hkdf_sha256_extract  (const guint8 *salt, gsize salt_len,
                                         const guint8 *ikm, gsize ikm_len,
                                         guint8        prk[32]);
void     bb_crypto_hkdf_sha256_expand   (const guint8 prk[32],
                                         const guint8 *info, gsize info_len,
                                         guint8 *out, gsize out_len);
void     bb_crypto_hkdf_sha256          (const guint8 *salt, gsize salt_len,
                                         const guint8 *ikm, gsize ikm_len,
                                         const guint8 *info, gsize info_len,
                                         guint8 *out, gsize out_len);

/* Ed25519 (RFC 8032, pure). */
void     bb_crypto_ed25519_public_key   (const guint8 seed[32], guint8 pub[32]);
void     bb_crypto_ed25519_sign         (const guint8 seed[32], const guint8 pub[32],
                                         const guint8 *msg, gsize msg_len,
                                         guint8 sig[64]);
gboolean bb_crypto_ed25519_verify       (const guint8 pub[32],
                                         const guint8 *msg, gsize msg_len,
                                         const guint8 sig[64]);
/* TRUE if @p encodes a point of order 1, 2, 4 or 8, in any encoding (either sign bit,
 * y >= p). bb_crypto_ed25519_verify() refuses such public keys and such R. */
gboolean bb_crypto_ed25519_is_small_order (const guint8 p[32]);

/* X25519 (RFC 7748). bb_crypto_x25519 returns FALSE for an all-zero shared secret. */
void     bb_crypto_x25519_public_key    (const guint8 priv[32], guint8 pub[32]);
gboolean bb_crypto_x25519               (const guint8 priv[32], const guint8 peer_pub[32],
                                         guint8 shared[32]);

/* IETF ChaCha20-Poly1305 (RFC 8439): @ct has @pt_len + 16 bytes (tag appended). */
void     bb_crypto_chacha20poly1305_encrypt (const guint8 key[32], const guint8 nonce[12],
                                             const guint8 *aad, gsize aad_len,
                                             const guint8 *pt, gsize pt_len,
                                             guint8 *ct);
gboolean bb_crypto_chacha20poly1305_decrypt (const guint8 key[32], const guint8 nonce[12],
                                             const guint8 *aad, gsize aad_len,
                                             const guint8 *ct, gsize ct_len,
                                             guint8 *pt);

/* HChaCha20 and XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha). Decrypt returns FALSE when
 * @ct_len < 16 or authentication fails; @pt is then zeroed. */
void     bb_crypto_hchacha20                 (const guint8 key[32], const guint8 nonce[16],
                                              guint8 subkey[32]);
void     bb_crypto_xchacha20poly1305_encrypt (const guint8 key[32], const guint8 nonce[24],
                                              const guint8 *aad, gsize aad_len,
                                              const guint8 *pt, gsize pt_len,
                                              guint8 *ct);
gboolean bb_crypto_xchacha20poly1305_decrypt (const guint8 key[32], const guint8 nonce[24],
                                              const guint8 *aad, gsize aad_len,
                                              const guint8 *ct, gsize ct_len,
                                              guint8 *pt);

/* HPKE base mode (RFC 9180), DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / ChaCha20-Poly1305,
 * single message (sequence 0). @eph_priv is NULL in production (a fresh ephemeral key is
 * drawn); tests pass a fixed one. @ct has @pt_len + 16 bytes. */
gboolean bb_crypto_hpke_seal_base (const guint8 recipient_pub[32],
                                   const guint8 *info, gsize info_len,
                                   const guint8 *aad, gsize aad_len,
                                   const guint8 *pt, gsize pt_len,
                                   const guint8 *eph_priv,
                                   guint8 enc[32],
                                   guint8 *ct);
gboolean bb_crypto_hpke_open_base (const guint8 recipient_priv[32],
                                   const guint8 enc[32],
                                   const guint8 *info, gsize info_len,
                                   const guint8 *aad, gsize aad_len,
                                   const guint8 *ct, gsize ct_len,
                                   guint8 *pt);

/* Randomness (gnutls_rnd GNUTLS_RND_KEY), wiping and constant-time comparison. */
void     bb_crypto_random_bytes (guint8 *buf, gsize len);
void     bb_crypto_wipe         (void *buf, gsize len);
gboolean bb_crypto_equal        (const void *a, const void *b, gsize len);

/* A GBytes whose buffer is wiped when the last reference goes. */
GBytes  *bb_crypto_secret_bytes_new      (const guint8 *data, gsize len);
GBytes  *bb_crypto_secret_bytes_new_take (guint8 *data, gsize len);

/* A GString for text holding a secret. Growing a GString reallocates it and frees the
 * old block unwiped, so create it with room for the whole text (@reserve bytes, without
 * the terminator) and never append beyond that. _free wipes the whole allocation, not
 * only the text, then frees it. */
GString *bb_crypto_secret_string_new  (gsize reserve);
void     bb_crypto_secret_string_free (GString *string);

/* Test hook: @observer is called with every range bb_crypto_wipe() is about to clear,
 * so a test can check that a secret's buffer is wiped before it is freed. %NULL removes
 * it. Set it only while no other thread runs bbsync code. */
typedef void (*BbCryptoWipeObserver) (const void *buf, gsize len, gpointer user_data);
void     bb_crypto_set_wipe_observer (BbCryptoWipeObserver observer, gpointer user_data);

G_END_DECLS
