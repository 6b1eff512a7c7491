/* test-crypto.c: known-answer and negative tests of the crypto layer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The vectors live in tests/data/crypto-vectors.json, each with the published source it
 * was transcribed from.
 */

#include "config.h"

#include <string.h>

#include "bb-crypto-private.h"
#include "bb-test-utils.h"

static JsonObject *
vectors (void)
{
  static JsonNode *root = NULL;

  if (root == NULL)
    root = bb_test_load_json ("crypto-vectors.json");
  return json_node_get_object (root);
}

static JsonArray *
vector_list (const char *name)
{
  JsonArray *array = json_object_get_array_member (vectors (), name);

  g_assert_nonnull (array);
  g_assert_cmpuint (json_array_get_length (array), >, 0);
  return array;
}

/* The hex member @member of @obj, decoded; @len receives its length. The returned buffer
 * is owned by a GBytes kept in @keep, so the caller does not free it. */
static const guint8 *
hexm (JsonObject *obj, const char *member, gsize *len, GPtrArray *keep)
{
  GBytes *bytes = bb_test_hex (json_object_get_string_member (obj, member));

  g_ptr_array_add (keep, bytes);
  return g_bytes_get_data (bytes, len);
}

static const guint8 *
hex32 (JsonObject *obj, const char *member, GPtrArray *keep)
{
  gsize len = 0;
  const guint8 *data = hexm (obj, member, &len, keep);

  g_assert_cmpuint (len, ==, 32);
  return data;
}

static void
assert_hex (const guint8 *data, gsize len, const char *expected)
{
  g_autoptr (GBytes) bytes = g_bytes_new (data, len);

  bb_test_assert_bytes_hex (bytes, expected);
}

static gboolean
all_zero (const guint8 *data, gsize len)
{
  for (gsize i = 0; i < len; i++)
    if (data[i] != 0)
      return FALSE;
  return TRUE;
}

/* ------------------------------------------------------------------------------------ */

static void
test_sha256 (void)
{
  JsonArray *list = vector_list ("sha256");

  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
      JsonObject *v = json_array_get_object_element (list, i);
      gsize len = 0;
      const guint8 *msg = hexm (v, "message", &len, keep);
      guint8 out[32];

      g_test_message ("%s", json_object_get_string_member (v, "source"));
      bb_crypto_sha256 (msg, len, out);
      assert_hex (out, sizeof out, json_object_get_string_member (v, "digest"));
    }
}

static void
test_hmac_sha256 (void)
{
  JsonArray *list = vector_list ("hmac_sha256");
  guint8 a[32], b[32];
  guint8 zeros[32] = { 0 };

  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
      JsonObject *v = json_array_get_object_element (list, i);
      gsize key_len = 0, data_len = 0;
      const guint8 *key = hexm (v, "key", &key_len, keep);
      const guint8 *data = hexm (v, "data", &data_len, keep);
      guint8 out[32];

      g_test_message ("%s", json_object_get_string_member (v, "source"));
      bb_crypto_hmac_sha256 (key, key_len, data, data_len, out);
      assert_hex (out, sizeof out, json_object_get_string_member (v, "mac"));
    }

  /* An empty key is the same as HashLen zero bytes (what "empty salt" relies on). */
  bb_crypto_hmac_sha256 (NULL, 0, (const guint8 *)"abc", 3, a);
  bb_crypto_hmac_sha256 (zeros, sizeof zeros, (const guint8 *)"abc", 3, b);
  g_assert_cmpmem (a, sizeof a, b, sizeof b);
}

static void
test_hkdf_sha256 (void)
{
  JsonArray *list = vector_list ("hkdf_sha256");

  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
      JsonObject *v = json_array_get_object_element (list, i);
      gsize ikm_len = 0, salt_len = 0, info_len = 0;
      const guint8 *ikm = hexm (v, "ikm", &ikm_len, keep);
      const guint8 *salt = hexm (v, "salt", &salt_len, keep);
      const guint8 *info = hexm (v, "info", &info_len, keep);
      gsize length = json_object_get_int_member (v, "length");
      g_autofree guint8 *okm = g_malloc0 (length);
      g_autofree guint8 *okm2 = g_malloc0 (length);
      guint8 prk[32];

      g_test_message ("%s", json_object_get_string_member (v, "source"));
      bb_crypto_hkdf_sha256_extract (salt_len > 0 ? salt : NULL, salt_len, ikm, ikm_len, prk);
      assert_hex (prk, sizeof prk, json_object_get_string_member (v, "prk"));

      bb_crypto_hkdf_sha256_expand (prk, info_len > 0 ? info : NULL, info_len, okm, length);
      assert_hex (okm, length, json_object_get_string_member (v, "okm"));

      bb_crypto_hkdf_sha256 (salt_len > 0 ? salt : NULL, salt_len, ikm, ikm_len,
                             info_len > 0 ? info : NULL, info_len, okm2, length);
      g_assert_cmpmem (okm, length, okm2, length);

      /* A shorter output is a prefix of the longer one (T(1) || T(2) ...). */
      bb_crypto_hkdf_sha256_expand (prk, info, info_len, okm2, 5);
      g_assert_cmpmem (okm, 5, okm2, 5);
    }
}

/* ------------------------------------------------------------------------------------ */

static void
test_ed25519 (void)
{
  JsonArray *list = vector_list ("ed25519");

  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
      JsonObject *v = json_array_get_object_element (list, i);
      const guint8 *seed = hex32 (v, "seed", keep);
      const guint8 *pub = hex32 (v, "public", keep);
      gsize msg_len = 0, sig_len = 0;
      const guint8 *msg = hexm (v, "message", &msg_len, keep);
      const guint8 *sig = hexm (v, "signature", &sig_len, keep);
      guint8 got_pub[32], got_sig[64], bad_sig[64], bad_pub[32];

      g_test_message ("%s", json_object_get_string_member (v, "source"));
      g_assert_cmpuint (sig_len, ==, 64);

      bb_crypto_ed25519_public_key (seed, got_pub);
      g_assert_cmpmem (got_pub, 32, pub, 32);

      bb_crypto_ed25519_sign (seed, pub, msg, msg_len, got_sig);
      g_assert_cmpmem (got_sig, 64, sig, 64);
      g_assert_true (bb_crypto_ed25519_verify (pub, msg, msg_len, sig));

      /* A flipped bit in R, in S, or in the public key breaks the signature. */
      memcpy (bad_sig, sig, 64);
      bad_sig[0] ^= 0x01;
      g_assert_false (bb_crypto_ed25519_verify (pub, msg, msg_len, bad_sig));
      memcpy (bad_sig, sig, 64);
      bad_sig[40] ^= 0x80;
      g_assert_false (bb_crypto_ed25519_verify (pub, msg, msg_len, bad_sig));
      memcpy (bad_pub, pub, 32);
      bad_pub[5] ^= 0x10;
      g_assert_false (bb_crypto_ed25519_verify (bad_pub, msg, msg_len, sig));

      /* The signature over another message does not verify. */
      {
        g_autofree guint8 *other = g_malloc (msg_len + 1);

        if (msg_len > 0)
          memcpy (other, msg, msg_len);
        other[msg_len] = 0x00;
        g_assert_false (bb_crypto_ed25519_verify (pub, other, msg_len + 1, sig));
        if (msg_len > 0)
          {
            other[msg_len - 1] ^= 0x01;
            g_assert_false (bb_crypto_ed25519_verify (pub, other, msg_len, sig));
          }
      }
    }
}

static void
test_ed25519_non_canonical_s (void)
{
  g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  JsonObject *v = json_array_get_object_element (vector_list ("ed25519"), 0);
  const guint8 *pub = hex32 (v, "public", keep);
  gsize sig_len = 0;
  const guint8 *sig = hexm (v, "signature", &sig_len, keep);
  guint8 bad[64];

  /* S with its top bits set is >= the group order L and must be refused (RFC 8032
   * §5.1.7), even though S + k*L would be "the same" scalar. */
  memcpy (bad, sig, 64);
  bad[63] |= 0xe0;
  g_assert_false (bb_crypto_ed25519_verify (pub, NULL, 0, bad));
}

/* Every encoding of the eight small-order points, as public key and as R with S = 0,
 * fails to verify any message. Without the check nettle accepts such forgeries for all
 * eight canonical encodings (see the vector's source). */
static void
test_ed25519_small_order (void)
{
  JsonObject *v = json_object_get_object_member (vectors (), "ed25519_small_order");
  JsonArray *points = json_object_get_array_member (v, "points");
  guint n = json_array_get_length (points);
  guint canonical = 0;
  g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  JsonObject *honest = json_array_get_object_element (vector_list ("ed25519"), 0);

  g_test_message ("%s", json_object_get_string_member (v, "source"));
  g_assert_cmpuint (n, ==, 14);
  for (guint a = 0; a < n; a++)
    {
      JsonObject *pa = json_array_get_object_element (points, a);
      const guint8 *pub = hex32 (pa, "encoding", keep);

      canonical += json_object_get_boolean_member (pa, "canonical") ? 1 : 0;
      g_assert_true (bb_crypto_ed25519_is_small_order (pub));
      for (guint r = 0; r < n; r++)
        {
          const guint8 *big_r = hex32 (json_array_get_object_element (points, r), "encoding", keep);
          guint8 sig[64] = { 0 };

          memcpy (sig, big_r, 32);
          for (guint8 m = 0; m < 4; m++)
            {
              guint8 msg[8];

              memset (msg, m, sizeof msg);
              if (bb_crypto_ed25519_verify (pub, msg, sizeof msg, sig))
                g_error ("small-order key %u verified (R = point %u, S = 0) over message %u", a, r,
                         m);
            }
        }
    }
  g_assert_cmpuint (canonical, ==, 8);

  /* An honest key and honest R values are not flagged, nor points next to the list. */
  {
    const guint8 *pub = hex32 (honest, "public", keep);
    gsize sig_len = 0;
    const guint8 *sig = hexm (honest, "signature", &sig_len, keep);
    guint8 near[32] = { 2 };

    g_assert_false (bb_crypto_ed25519_is_small_order (pub));
    g_assert_false (bb_crypto_ed25519_is_small_order (sig));
    g_assert_false (bb_crypto_ed25519_is_small_order (near));
    memset (near, 0xff, sizeof near);
    near[0] = 0xeb; /* p - 2 */
    near[31] = 0x7f;
    g_assert_false (bb_crypto_ed25519_is_small_order (near));
  }
}

/* ------------------------------------------------------------------------------------ */

static void
test_x25519 (void)
{
  JsonArray *list = vector_list ("x25519");

  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
      JsonObject *v = json_array_get_object_element (list, i);
      guint8 out[32];

      g_test_message ("%s", json_object_get_string_member (v, "source"));
      g_assert_true (bb_crypto_x25519 (hex32 (v, "scalar", keep), hex32 (v, "u", keep), out));
      assert_hex (out, sizeof out, json_object_get_string_member (v, "output"));
    }
}

static void
test_x25519_iterated (void)
{
  g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  JsonObject *v = json_object_get_object_member (vectors (), "x25519_iterated");
  guint8 k[32], u[32], r[32];

  memcpy (k, hex32 (v, "start", keep), 32);
  memcpy (u, k, 32);
  for (guint i = 1; i <= 1000; i++)
    {
      g_assert_true (bb_crypto_x25519 (k, u, r));
      memcpy (u, k, 32);
      memcpy (k, r, 32);
      if (i == 1)
        assert_hex (k, 32, json_object_get_string_member (v, "after_1"));
    }
  assert_hex (k, 32, json_object_get_string_member (v, "after_1000"));
}

static void
test_x25519_dh (void)
{
  g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  JsonObject *v = json_object_get_object_member (vectors (), "x25519_dh");
  const guint8 *a_priv = hex32 (v, "alice_private", keep);
  const guint8 *b_priv = hex32 (v, "bob_private", keep);
  guint8 a_pub[32], b_pub[32], s1[32], s2[32];

  bb_crypto_x25519_public_key (a_priv, a_pub);
  bb_crypto_x25519_public_key (b_priv, b_pub);
  assert_hex (a_pub, 32, json_object_get_string_member (v, "alice_public"));
  assert_hex (b_pub, 32, json_object_get_string_member (v, "bob_public"));

  g_assert_true (bb_crypto_x25519 (a_priv, b_pub, s1));
  g_assert_true (bb_crypto_x25519 (b_priv, a_pub, s2));
  assert_hex (s1, 32, json_object_get_string_member (v, "shared"));
  assert_hex (s2, 32, json_object_get_string_member (v, "shared"));
}

static void
test_x25519_low_order (void)
{
  g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  JsonObject *v = json_object_get_object_member (vectors (), "x25519_low_order");
  JsonArray *points = json_object_get_array_member (v, "points");
  const guint8 *priv
      = hex32 (json_object_get_object_member (vectors (), "x25519_dh"), "alice_private", keep);

  g_assert_cmpuint (json_array_get_length (points), >=, 3);
  for (guint i = 0; i < json_array_get_length (points); i++)
    {
      g_autoptr (GBytes) point = bb_test_hex (json_array_get_string_element (points, i));
      guint8 out[32];

      memset (out, 0xa5, sizeof out);
      g_assert_false (bb_crypto_x25519 (priv, g_bytes_get_data (point, NULL), out));
      /* Nothing of the (all-zero) result is left behind to be used by mistake. */
      g_assert_true (all_zero (out, sizeof out));
    }
}

/* ------------------------------------------------------------------------------------ */

typedef void (*EncryptFunc) (const guint8 *key, const guint8 *nonce, const guint8 *aad,
                             gsize aad_len, const guint8 *pt, gsize pt_len, guint8 *ct);
typedef gboolean (*DecryptFunc) (const guint8 *key, const guint8 *nonce, const guint8 *aad,
                                 gsize aad_len, const guint8 *ct, gsize ct_len, guint8 *pt);

/* Runs one AEAD vector both ways, then the tampering cases. */
static void
check_aead_vector (JsonObject *v, gsize nonce_size, EncryptFunc enc, DecryptFunc dec)
{
  g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  gsize nonce_len = 0, aad_len = 0, pt_len = 0, ct_len = 0, tag_len = 0;
  const guint8 *key = hex32 (v, "key", keep);
  const guint8 *nonce = hexm (v, "nonce", &nonce_len, keep);
  const guint8 *aad = hexm (v, "aad", &aad_len, keep);
  const guint8 *pt = hexm (v, "plaintext", &pt_len, keep);
  const guint8 *ct_exp = hexm (v, "ciphertext", &ct_len, keep);
  const guint8 *tag_exp = hexm (v, "tag", &tag_len, keep);
  g_autofree guint8 *ct = g_malloc (pt_len + 16);
  g_autofree guint8 *bad = g_malloc (pt_len + 16);
  g_autofree guint8 *out = g_malloc (pt_len + 16);
  g_autofree guint8 *bad_aad = g_memdup2 (aad, aad_len);

  g_test_message ("%s", json_object_get_string_member (v, "source"));
  g_assert_cmpuint (nonce_len, ==, nonce_size);
  g_assert_cmpuint (ct_len, ==, pt_len);
  g_assert_cmpuint (tag_len, ==, 16);
  g_assert_cmpuint (aad_len, >, 0);

  enc (key, nonce, aad, aad_len, pt, pt_len, ct);
  g_assert_cmpmem (ct, pt_len, ct_exp, ct_len);
  g_assert_cmpmem (ct + pt_len, 16, tag_exp, 16);

  g_assert_true (dec (key, nonce, aad, aad_len, ct, pt_len + 16, out));
  g_assert_cmpmem (out, pt_len, pt, pt_len);

  /* Flipped tag: refused, and the plaintext buffer is zeroed. */
  memcpy (bad, ct, pt_len + 16);
  bad[pt_len + 15] ^= 0x01;
  memset (out, 0xa5, pt_len);
  g_assert_false (dec (key, nonce, aad, aad_len, bad, pt_len + 16, out));
  g_assert_true (all_zero (out, pt_len));

  /* Flipped ciphertext. */
  memcpy (bad, ct, pt_len + 16);
  bad[3] ^= 0x40;
  g_assert_false (dec (key, nonce, aad, aad_len, bad, pt_len + 16, out));
  g_assert_true (all_zero (out, pt_len));

  /* Flipped AAD, and missing AAD. */
  bad_aad[aad_len - 1] ^= 0x01;
  g_assert_false (dec (key, nonce, bad_aad, aad_len, ct, pt_len + 16, out));
  g_assert_false (dec (key, nonce, NULL, 0, ct, pt_len + 16, out));

  /* Truncated by one byte (the tag no longer lines up). */
  g_assert_false (dec (key, nonce, aad, aad_len, ct, pt_len + 15, out));

  /* Shorter than a tag. */
  g_assert_false (dec (key, nonce, aad, aad_len, ct, 15, out));
  g_assert_false (dec (key, nonce, aad, aad_len, ct, 0, out));

  /* Wrong nonce. */
  {
    g_autofree guint8 *bad_nonce = g_memdup2 (nonce, nonce_len);

    bad_nonce[nonce_len - 1] ^= 0x01;
    g_assert_false (dec (key, bad_nonce, aad, aad_len, ct, pt_len + 16, out));
  }

  /* Empty plaintext and AAD: a bare tag that round-trips. */
  enc (key, nonce, NULL, 0, NULL, 0, ct);
  g_assert_true (dec (key, nonce, NULL, 0, ct, 16, out));
  ct[0] ^= 0x01;
  g_assert_false (dec (key, nonce, NULL, 0, ct, 16, out));
}

static void
test_chacha20poly1305 (void)
{
  JsonArray *list = vector_list ("chacha20poly1305");

  for (guint i = 0; i < json_array_get_length (list); i++)
    check_aead_vector (json_array_get_object_element (list, i), BB_CRYPTO_CHACHA_NONCE_SIZE,
                       bb_crypto_chacha20poly1305_encrypt, bb_crypto_chacha20poly1305_decrypt);
}

static void
test_hchacha20 (void)
{
  JsonArray *list = vector_list ("hchacha20");

  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
      JsonObject *v = json_array_get_object_element (list, i);
      gsize nonce_len = 0;
      const guint8 *nonce = hexm (v, "nonce", &nonce_len, keep);
      guint8 subkey[32];

      g_test_message ("%s", json_object_get_string_member (v, "source"));
      g_assert_cmpuint (nonce_len, ==, 16);
      bb_crypto_hchacha20 (hex32 (v, "key", keep), nonce, subkey);
      assert_hex (subkey, sizeof subkey, json_object_get_string_member (v, "subkey"));
    }
}

static void
test_xchacha20poly1305 (void)
{
  JsonArray *list = vector_list ("xchacha20poly1305");

  for (guint i = 0; i < json_array_get_length (list); i++)
    check_aead_vector (json_array_get_object_element (list, i), BB_CRYPTO_XCHACHA_NONCE_SIZE,
                       bb_crypto_xchacha20poly1305_encrypt, bb_crypto_xchacha20poly1305_decrypt);
}

static void
test_xchacha20poly1305_construction (void)
{
  /* XChaCha20-Poly1305 is ChaCha20-Poly1305 under the HChaCha20 subkey with nonce
   * 00000000 || nonce[16..24]; check that relation for a random key, nonce and size,
   * and that each part of the 24-byte nonce matters. */
  guint8 key[32], nonce[24], subkey[32], inner[12], aad[7];
  guint8 pt[100], ct1[116], ct2[116];

  bb_crypto_random_bytes (key, sizeof key);
  bb_crypto_random_bytes (nonce, sizeof nonce);
  bb_crypto_random_bytes (aad, sizeof aad);
  bb_crypto_random_bytes (pt, sizeof pt);

  bb_crypto_xchacha20poly1305_encrypt (key, nonce, aad, sizeof aad, pt, sizeof pt, ct1);
  bb_crypto_hchacha20 (key, nonce, subkey);
  memset (inner, 0, 4);
  memcpy (inner + 4, nonce + 16, 8);
  bb_crypto_chacha20poly1305_encrypt (subkey, inner, aad, sizeof aad, pt, sizeof pt, ct2);
  g_assert_cmpmem (ct1, sizeof ct1, ct2, sizeof ct2);

  for (guint i = 0; i < sizeof nonce; i += 5)
    {
      guint8 other[24];

      memcpy (other, nonce, sizeof other);
      other[i] ^= 0x01;
      bb_crypto_xchacha20poly1305_encrypt (key, other, aad, sizeof aad, pt, sizeof pt, ct2);
      g_assert_true (memcmp (ct1, ct2, sizeof ct1) != 0);
    }

  /* In place, both ways (ciphertext and plaintext in one buffer). */
  memcpy (ct2, pt, sizeof pt);
  bb_crypto_xchacha20poly1305_encrypt (key, nonce, aad, sizeof aad, ct2, sizeof pt, ct2);
  g_assert_cmpmem (ct2, sizeof ct2, ct1, sizeof ct1);
  g_assert_true (
      bb_crypto_xchacha20poly1305_decrypt (key, nonce, aad, sizeof aad, ct2, sizeof ct2, ct2));
  g_assert_cmpmem (ct2, sizeof pt, pt, sizeof pt);
}

/* ------------------------------------------------------------------------------------ */

static void
test_hpke_vector (void)
{
  JsonArray *list = vector_list ("hpke");

  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
      JsonObject *v = json_array_get_object_element (list, i);
      gsize info_len = 0, aad_len = 0, pt_len = 0, ct_len = 0;
      const guint8 *info = hexm (v, "info", &info_len, keep);
      const guint8 *aad = hexm (v, "aad", &aad_len, keep);
      const guint8 *pt = hexm (v, "pt", &pt_len, keep);
      const guint8 *ct_exp = hexm (v, "ct", &ct_len, keep);
      const guint8 *sk_e = hex32 (v, "skEm", keep);
      const guint8 *sk_r = hex32 (v, "skRm", keep);
      const guint8 *pk_r = hex32 (v, "pkRm", keep);
      g_autofree guint8 *ct = g_malloc (pt_len + 16);
      g_autofree guint8 *out = g_malloc (pt_len + 16);
      guint8 enc[32], pk[32];

      g_test_message ("%s", json_object_get_string_member (v, "source"));
      g_assert_cmpint (json_object_get_int_member (v, "mode"), ==, 0x00);
      g_assert_cmpint (json_object_get_int_member (v, "kem_id"), ==, 0x0020);
      g_assert_cmpint (json_object_get_int_member (v, "kdf_id"), ==, 0x0001);
      g_assert_cmpint (json_object_get_int_member (v, "aead_id"), ==, 0x0003);
      g_assert_cmpuint (ct_len, ==, pt_len + 16);

      /* The vector's key pairs are consistent with our X25519. */
      bb_crypto_x25519_public_key (sk_r, pk);
      g_assert_cmpmem (pk, 32, pk_r, 32);
      bb_crypto_x25519_public_key (sk_e, pk);
      assert_hex (pk, 32, json_object_get_string_member (v, "pkEm"));

      g_assert_true (
          bb_crypto_hpke_seal_base (pk_r, info, info_len, aad, aad_len, pt, pt_len, sk_e, enc, ct));
      assert_hex (enc, sizeof enc, json_object_get_string_member (v, "enc"));
      g_assert_cmpmem (ct, pt_len + 16, ct_exp, ct_len);

      g_assert_true (
          bb_crypto_hpke_open_base (sk_r, enc, info, info_len, aad, aad_len, ct_exp, ct_len, out));
      g_assert_cmpmem (out, pt_len, pt, pt_len);
    }
}

static void
test_hpke_negative (void)
{
  g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  JsonObject *v = json_array_get_object_element (vector_list ("hpke"), 0);
  gsize info_len = 0, aad_len = 0, ct_len = 0;
  const guint8 *info = hexm (v, "info", &info_len, keep);
  const guint8 *aad = hexm (v, "aad", &aad_len, keep);
  const guint8 *ct = hexm (v, "ct", &ct_len, keep);
  const guint8 *enc = hex32 (v, "enc", keep);
  const guint8 *sk_r = hex32 (v, "skRm", keep);
  const guint8 *sk_e = hex32 (v, "skEm", keep);
  g_autofree guint8 *bad = g_memdup2 (ct, ct_len);
  g_autofree guint8 *bad_info = g_memdup2 (info, info_len);
  g_autofree guint8 *bad_aad = g_memdup2 (aad, aad_len);
  g_autofree guint8 *out = g_malloc (ct_len);
  guint8 bad_enc[32], zero[32] = { 0 };
  gsize pt_len = ct_len - 16;

  /* Flipped tag; the output is zeroed. */
  bad[ct_len - 1] ^= 0x01;
  memset (out, 0xa5, ct_len);
  g_assert_false (
      bb_crypto_hpke_open_base (sk_r, enc, info, info_len, aad, aad_len, bad, ct_len, out));
  g_assert_true (all_zero (out, pt_len));

  /* Flipped ciphertext. */
  memcpy (bad, ct, ct_len);
  bad[0] ^= 0x80;
  g_assert_false (
      bb_crypto_hpke_open_base (sk_r, enc, info, info_len, aad, aad_len, bad, ct_len, out));

  /* Flipped AAD, flipped info. */
  bad_aad[0] ^= 0x01;
  g_assert_false (
      bb_crypto_hpke_open_base (sk_r, enc, info, info_len, bad_aad, aad_len, ct, ct_len, out));
  bad_info[info_len - 1] ^= 0x01;
  g_assert_false (
      bb_crypto_hpke_open_base (sk_r, enc, bad_info, info_len, aad, aad_len, ct, ct_len, out));

  /* Another enc, a low-order enc, another recipient key. */
  memcpy (bad_enc, enc, 32);
  bad_enc[7] ^= 0x01;
  g_assert_false (
      bb_crypto_hpke_open_base (sk_r, bad_enc, info, info_len, aad, aad_len, ct, ct_len, out));
  g_assert_false (
      bb_crypto_hpke_open_base (sk_r, zero, info, info_len, aad, aad_len, ct, ct_len, out));
  g_assert_false (
      bb_crypto_hpke_open_base (sk_e, enc, info, info_len, aad, aad_len, ct, ct_len, out));

  /* Short ciphertexts. */
  g_assert_false (
      bb_crypto_hpke_open_base (sk_r, enc, info, info_len, aad, aad_len, ct, ct_len - 1, out));
  g_assert_false (bb_crypto_hpke_open_base (sk_r, enc, info, info_len, aad, aad_len, ct, 15, out));
  g_assert_false (bb_crypto_hpke_open_base (sk_r, enc, info, info_len, aad, aad_len, ct, 0, out));

  /* Sealing to a low-order recipient key fails instead of producing a guessable key. */
  {
    guint8 enc2[32], ct2[16 + 4];

    g_assert_false (bb_crypto_hpke_seal_base (zero, info, info_len, NULL, 0, (const guint8 *)"dek!",
                                              4, NULL, enc2, ct2));
  }
}

static void
test_hpke_random_roundtrip (void)
{
  static const char info[] = "bitboxsync-wrap-dek-v1";
  guint8 sk[32], pk[32], dek[48], enc1[32], enc2[32], ct1[64], ct2[64], out[48];

  bb_crypto_random_bytes (sk, sizeof sk);
  bb_crypto_random_bytes (dek, sizeof dek);
  bb_crypto_x25519_public_key (sk, pk);

  /* With no ephemeral key given, each seal draws a fresh one. */
  g_assert_true (bb_crypto_hpke_seal_base (pk, (const guint8 *)info, strlen (info), NULL, 0, dek,
                                           sizeof dek, NULL, enc1, ct1));
  g_assert_true (bb_crypto_hpke_seal_base (pk, (const guint8 *)info, strlen (info), NULL, 0, dek,
                                           sizeof dek, NULL, enc2, ct2));
  g_assert_true (memcmp (enc1, enc2, 32) != 0);
  g_assert_true (memcmp (ct1, ct2, sizeof ct1) != 0);

  g_assert_true (bb_crypto_hpke_open_base (sk, enc1, (const guint8 *)info, strlen (info), NULL, 0,
                                           ct1, sizeof ct1, out));
  g_assert_cmpmem (out, sizeof out, dek, sizeof dek);
  g_assert_true (bb_crypto_hpke_open_base (sk, enc2, (const guint8 *)info, strlen (info), NULL, 0,
                                           ct2, sizeof ct2, out));
  g_assert_cmpmem (out, sizeof out, dek, sizeof dek);

  /* enc and ciphertext of two seals do not mix. */
  g_assert_false (bb_crypto_hpke_open_base (sk, enc1, (const guint8 *)info, strlen (info), NULL, 0,
                                            ct2, sizeof ct2, out));
}

/* ------------------------------------------------------------------------------------ */

static void
test_equal (void)
{
  guint8 a[64], b[64];

  bb_crypto_random_bytes (a, sizeof a);
  memcpy (b, a, sizeof b);
  g_assert_true (bb_crypto_equal (a, b, sizeof a));
  g_assert_true (bb_crypto_equal (a, b, 0));

  b[63] ^= 0x01;
  g_assert_false (bb_crypto_equal (a, b, sizeof a));
  g_assert_true (bb_crypto_equal (a, b, 63));

  memcpy (b, a, sizeof b);
  b[0] ^= 0x80;
  g_assert_false (bb_crypto_equal (a, b, sizeof a));
  g_assert_false (bb_crypto_equal (a, b, 1));
}

static void
test_random (void)
{
  guint8 a[32] = { 0 }, b[32] = { 0 };

  bb_crypto_random_bytes (a, sizeof a);
  bb_crypto_random_bytes (b, sizeof b);
  /* 2^-256 chance of a false failure. */
  g_assert_false (all_zero (a, sizeof a));
  g_assert_true (memcmp (a, b, sizeof a) != 0);
  bb_crypto_random_bytes (NULL, 0);
}

static void
test_wipe (void)
{
  guint8 buf[40];

  memset (buf, 0xff, sizeof buf);
  bb_crypto_wipe (buf + 4, 32);
  g_assert_cmpuint (buf[3], ==, 0xff);
  g_assert_true (all_zero (buf + 4, 32));
  g_assert_cmpuint (buf[36], ==, 0xff);
  bb_crypto_wipe (NULL, 0);
}

static void
test_secret_bytes (void)
{
  static const guint8 secret[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
  g_autoptr (GBytes) copy = bb_crypto_secret_bytes_new (secret, sizeof secret);
  g_autoptr (GBytes) empty = bb_crypto_secret_bytes_new (NULL, 0);
  GBytes *taken;
  GBytes *sub;
  guint8 *data;
  gsize len = 0;

  /* A copy, not the caller's buffer. */
  g_assert_true (g_bytes_get_data (copy, &len) != (gconstpointer)secret);
  g_assert_cmpmem (g_bytes_get_data (copy, NULL), g_bytes_get_size (copy), secret, sizeof secret);
  g_assert_cmpuint (g_bytes_get_size (empty), ==, 0);

  /* Take: the same buffer is used; the free path (wipe + g_free) runs when the last
   * reference goes, also through a sub-range that keeps the parent alive. ASan checks
   * that nothing is freed twice or leaked. */
  data = g_memdup2 (secret, sizeof secret);
  taken = bb_crypto_secret_bytes_new_take (data, sizeof secret);
  g_assert_true (g_bytes_get_data (taken, NULL) == (gconstpointer)data);
  sub = g_bytes_new_from_bytes (taken, 2, 3);
  g_bytes_unref (taken);
  g_assert_cmpmem (g_bytes_get_data (sub, NULL), 3, secret + 2, 3);
  g_bytes_unref (sub);

  /* Unref-to-data hands out a copy (the wiping free func is not g_free), and the
   * original is still wiped and released. */
  {
    GBytes *b = bb_crypto_secret_bytes_new (secret, sizeof secret);
    gsize out_len = 0;
    g_autofree guint8 *out = g_bytes_unref_to_data (b, &out_len);

    g_assert_cmpmem (out, out_len, secret, sizeof secret);
    bb_crypto_wipe (out, out_len);
  }
}

/* The secret string is sized for its text up front, and its whole allocation (not only
 * the text) is wiped before it is freed. */
static void
test_secret_string (void)
{
  GString *s = bb_crypto_secret_string_new (200);
  gconstpointer address = s->str;
  gsize allocated = s->allocated_len;

  g_assert_cmpuint (allocated, >, 200);
  for (guint i = 0; i < 20; i++)
    g_string_append (s, "0123456789");
  g_assert_true (s->str == address);
  g_assert_cmpuint (s->allocated_len, ==, allocated);

  bb_test_wipes_begin ();
  bb_crypto_secret_string_free (s);
  bb_crypto_secret_string_free (NULL);
  bb_test_wipes_end ();
  g_assert_true (bb_test_wiped_at (address, allocated));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/crypto/sha256", test_sha256);
  g_test_add_func ("/crypto/hmac-sha256/rfc4231", test_hmac_sha256);
  g_test_add_func ("/crypto/hkdf-sha256/rfc5869", test_hkdf_sha256);
  g_test_add_func ("/crypto/ed25519/rfc8032", test_ed25519);
  g_test_add_func ("/crypto/ed25519/non-canonical-s", test_ed25519_non_canonical_s);
  g_test_add_func ("/crypto/ed25519/small-order", test_ed25519_small_order);
  g_test_add_func ("/crypto/x25519/rfc7748", test_x25519);
  g_test_add_func ("/crypto/x25519/iterated", test_x25519_iterated);
  g_test_add_func ("/crypto/x25519/diffie-hellman", test_x25519_dh);
  g_test_add_func ("/crypto/x25519/low-order", test_x25519_low_order);
  g_test_add_func ("/crypto/chacha20poly1305/rfc8439", test_chacha20poly1305);
  g_test_add_func ("/crypto/hchacha20/draft", test_hchacha20);
  g_test_add_func ("/crypto/xchacha20poly1305/draft", test_xchacha20poly1305);
  g_test_add_func ("/crypto/xchacha20poly1305/construction", test_xchacha20poly1305_construction);
  g_test_add_func ("/crypto/hpke/rfc9180-a2", test_hpke_vector);
  g_test_add_func ("/crypto/hpke/negative", test_hpke_negative);
  g_test_add_func ("/crypto/hpke/random-roundtrip", test_hpke_random_roundtrip);
  g_test_add_func ("/crypto/equal", test_equal);
  g_test_add_func ("/crypto/random", test_random);
  g_test_add_func ("/crypto/wipe", test_wipe);
  g_test_add_func ("/crypto/secret-bytes", test_secret_bytes);
  g_test_add_func ("/crypto/secret-string", test_secret_string);

  return g_test_run ();
}
