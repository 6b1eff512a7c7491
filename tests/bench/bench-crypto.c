/* bench-crypto.c: throughput of the item AEAD and the DEK wrap
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Prints, for 200-byte and 16 KiB payloads, the cost of XChaCha20-Poly1305 (our HChaCha20
 * plus nettle's IETF ChaCha20-Poly1305) next to nettle's raw ChaCha20-Poly1305, which is
 * the ceiling; the item encryption of the protocol layer on top; and HPKE seal/open per
 * second. Each figure is measured for a little under half a second (raw and XChaCha interleaved,
 * so that their ratio survives a busy machine), so one run takes a few seconds. Figures only:
 * nothing here asserts on time.
 */

#include "config.h"

#include <stdio.h>
#include <string.h>

#include <nettle/chacha-poly1305.h>

#include "bb-crypto-private.h"
#include "bb-protocol.h"

#define MEASURE_USEC (G_USEC_PER_SEC * 45 / 100)

typedef void (*BenchFunc) (gpointer data);

typedef struct
{
  guint8 key[32];
  guint8 nonce[24];
  guint8 aad[64];
  guint8 *pt;
  guint8 *ct;     /* XChaCha20-Poly1305 output */
  guint8 *ct_raw; /* raw ChaCha20-Poly1305 output */
  guint8 *out;
  gsize len;
} AeadBench;

/* Runs @func in growing batches until MEASURE_USEC have passed; returns operations per
 * second. */
static double
measure (BenchFunc func, gpointer data)
{
  guint64 ops = 0;
  guint batch = 1;
  gint64 start, elapsed;

  func (data); /* warm-up */
  start = g_get_monotonic_time ();
  do
    {
      for (guint i = 0; i < batch; i++)
        func (data);
      ops += batch;
      if (batch < 4096)
        batch *= 2;
      elapsed = g_get_monotonic_time () - start;
    }
  while (elapsed < MEASURE_USEC);

  return (double)ops * G_USEC_PER_SEC / (double)elapsed;
}

/* Measures @fa and @fb in alternating slices of about 20 ms, MEASURE_USEC in total for
 * each, so that a change of machine load during the run affects both alike: the ratio of
 * the two is what matters. */
static void
measure_pair (BenchFunc fa, BenchFunc fb, gpointer data, double *a_ops, double *b_ops)
{
  BenchFunc funcs[2] = { fa, fb };
  guint64 ops[2] = { 0, 0 };
  gint64 spent[2] = { 0, 0 };

  fa (data);
  fb (data);
  while (spent[0] < MEASURE_USEC || spent[1] < MEASURE_USEC)
    for (guint f = 0; f < 2; f++)
      {
        gint64 start = g_get_monotonic_time ();
        gint64 now;

        do
          {
            for (guint i = 0; i < 16; i++)
              funcs[f](data);
            ops[f] += 16;
            now = g_get_monotonic_time ();
          }
        while (now - start < MEASURE_USEC / 25);
        spent[f] += now - start;
      }

  *a_ops = (double)ops[0] * G_USEC_PER_SEC / (double)spent[0];
  *b_ops = (double)ops[1] * G_USEC_PER_SEC / (double)spent[1];
}

static void
report (const char *what, gsize size, double ops_per_sec)
{
  if (size > 0)
    printf ("%-34s %6" G_GSIZE_FORMAT " B  %12.0f ops/s  %9.1f MB/s\n", what, size, ops_per_sec,
            ops_per_sec * (double)size / 1e6);
  else
    printf ("%-34s %8s  %12.0f ops/s\n", what, "", ops_per_sec);
  fflush (stdout);
}

/* nettle's IETF ChaCha20-Poly1305 with a fresh key and nonce setup per message, which is
 * what any per-item AEAD pays. */
static void
raw_encrypt (gpointer data)
{
  AeadBench *b = data;
  struct chacha_poly1305_ctx ctx;

  chacha_poly1305_set_key (&ctx, b->key);
  chacha_poly1305_set_nonce (&ctx, b->nonce);
  chacha_poly1305_update (&ctx, sizeof b->aad, b->aad);
  chacha_poly1305_encrypt (&ctx, b->len, b->ct_raw, b->pt);
  chacha_poly1305_digest (&ctx, 16, b->ct_raw + b->len);
}

static void
raw_decrypt (gpointer data)
{
  AeadBench *b = data;
  struct chacha_poly1305_ctx ctx;
  guint8 tag[16];

  chacha_poly1305_set_key (&ctx, b->key);
  chacha_poly1305_set_nonce (&ctx, b->nonce);
  chacha_poly1305_update (&ctx, sizeof b->aad, b->aad);
  chacha_poly1305_decrypt (&ctx, b->len, b->out, b->ct_raw);
  chacha_poly1305_digest (&ctx, 16, tag);
  if (!bb_crypto_equal (tag, b->ct_raw + b->len, 16))
    g_error ("raw ChaCha20-Poly1305 did not authenticate its own output");
}

static void
xchacha_encrypt (gpointer data)
{
  AeadBench *b = data;

  bb_crypto_xchacha20poly1305_encrypt (b->key, b->nonce, b->aad, sizeof b->aad, b->pt, b->len,
                                       b->ct);
}

static void
xchacha_decrypt (gpointer data)
{
  AeadBench *b = data;

  if (!bb_crypto_xchacha20poly1305_decrypt (b->key, b->nonce, b->aad, sizeof b->aad, b->ct,
                                            b->len + 16, b->out))
    g_error ("XChaCha20-Poly1305 did not authenticate its own output");
}

static void
aead_bench_init (AeadBench *b, gsize len)
{
  bb_crypto_random_bytes (b->key, sizeof b->key);
  bb_crypto_random_bytes (b->nonce, sizeof b->nonce);
  bb_crypto_random_bytes (b->aad, sizeof b->aad);
  b->len = len;
  b->pt = g_malloc (len);
  b->ct = g_malloc (len + 16);
  b->ct_raw = g_malloc (len + 16);
  b->out = g_malloc (len + 16);
  bb_crypto_random_bytes (b->pt, len);
}

static void
aead_bench_clear (AeadBench *b)
{
  g_free (b->pt);
  g_free (b->ct);
  g_free (b->ct_raw);
  g_free (b->out);
}

/* ------------------------------------------------------------------------------------ */

typedef struct
{
  GBytes *dek;
  GBytes *plaintext;
  GBytes *nonce;
  GBytes *aad;
  GBytes *ciphertext;
  const char *namespace_id;
  const char *item_id;
} ItemBench;

static void
item_encrypt (gpointer data)
{
  ItemBench *b = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) nonce = NULL;
  g_autoptr (GBytes) aad = NULL;
  g_autoptr (GBytes) ct = bb_protocol_encrypt_item (b->dek, b->namespace_id, b->item_id, 7,
                                                    b->plaintext, &nonce, &aad, &error);

  if (ct == NULL)
    g_error ("bb_protocol_encrypt_item: %s", error->message);
}

static void
item_decrypt (gpointer data)
{
  ItemBench *b = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) pt = bb_protocol_decrypt_item (b->dek, b->namespace_id, b->item_id, 7,
                                                    b->nonce, b->aad, b->ciphertext, &error);

  if (pt == NULL)
    g_error ("bb_protocol_decrypt_item: %s", error->message);
}

static void
item_bench (gsize len, double *enc, double *dec)
{
  g_autoptr (GError) error = NULL;
  guint8 dek[32];
  guint8 *pt = g_malloc (len);
  ItemBench b = {
    .namespace_id = "ba3b270c2986939508e2e49d59e89d64",
    .item_id = "0ad36f69e54ca1e45851ec79416dcf00316a573bbac091c8363b852bf255b384",
  };

  bb_crypto_random_bytes (dek, sizeof dek);
  bb_crypto_random_bytes (pt, len);
  b.dek = bb_crypto_secret_bytes_new (dek, sizeof dek);
  bb_crypto_wipe (dek, sizeof dek);
  b.plaintext = g_bytes_new_take (pt, len);
  b.ciphertext = bb_protocol_encrypt_item (b.dek, b.namespace_id, b.item_id, 7, b.plaintext,
                                           &b.nonce, &b.aad, &error);
  g_assert_no_error (error);

  *enc = measure (item_encrypt, &b);
  *dec = measure (item_decrypt, &b);

  g_bytes_unref (b.dek);
  g_bytes_unref (b.plaintext);
  g_bytes_unref (b.nonce);
  g_bytes_unref (b.aad);
  g_bytes_unref (b.ciphertext);
}


/* ------------------------------------------------------------------------------------ */

typedef struct
{
  guint8 sk[32];
  guint8 pk[32];
  guint8 pt[48];
  guint8 enc[32];
  guint8 ct[64];
  guint8 out[64];
  GBytes *wrap_priv;
  GBytes *wrap_pub;
  GBytes *dek;
  GBytes *wrapped;
} WrapBench;

static const char wrap_info[] = "bitboxsync-wrap-dek-v1";

static void
hpke_seal (gpointer data)
{
  WrapBench *b = data;

  if (!bb_crypto_hpke_seal_base (b->pk, (const guint8 *)wrap_info, strlen (wrap_info), NULL, 0,
                                 b->pt, sizeof b->pt, NULL, b->enc, b->ct))
    g_error ("HPKE seal failed");
}

static void
hpke_open (gpointer data)
{
  WrapBench *b = data;

  if (!bb_crypto_hpke_open_base (b->sk, b->enc, (const guint8 *)wrap_info, strlen (wrap_info), NULL,
                                 0, b->ct, sizeof b->ct, b->out))
    g_error ("HPKE open failed");
}

static const char wrap_namespace[] = "7bd4bfaebfc6cc9630bff960fc798e96";

static void
wrap_dek (gpointer data)
{
  WrapBench *b = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) wrapped = bb_protocol_wrap_dek (b->wrap_pub, wrap_namespace, b->dek, &error);

  if (wrapped == NULL)
    g_error ("bb_protocol_wrap_dek: %s", error->message);
}

static void
unwrap_dek (gpointer data)
{
  WrapBench *b = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) dek
      = bb_protocol_unwrap_dek (b->wrap_priv, wrap_namespace, b->wrapped, &error);

  if (dek == NULL)
    g_error ("bb_protocol_unwrap_dek: %s", error->message);
}

int
main (void)
{
  static const gsize sizes[] = { 200, 16 * 1024 };
  double raw_enc_16k = 0, x_enc_16k = 0, raw_dec_16k = 0, x_dec_16k = 0;
  WrapBench w;

  printf ("# bbsync crypto benchmark (each figure measured for %.2f s)\n",
          (double)MEASURE_USEC / G_USEC_PER_SEC);

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      AeadBench b;
      double re, rd, xe, xd, pe, pd;

      aead_bench_init (&b, sizes[i]);
      measure_pair (raw_encrypt, xchacha_encrypt, &b, &re, &xe);
      report ("nettle chacha_poly1305 encrypt", b.len, re);
      report ("xchacha20poly1305 encrypt", b.len, xe);
      measure_pair (raw_decrypt, xchacha_decrypt, &b, &rd, &xd);
      report ("nettle chacha_poly1305 decrypt", b.len, rd);
      report ("xchacha20poly1305 decrypt", b.len, xd);
      item_bench (b.len, &pe, &pd);
      report ("bb_protocol_encrypt_item", b.len, pe);
      report ("bb_protocol_decrypt_item", b.len, pd);
      if (b.len == 16 * 1024)
        {
          raw_enc_16k = re;
          raw_dec_16k = rd;
          x_enc_16k = xe;
          x_dec_16k = xd;
        }
      aead_bench_clear (&b);
    }

  printf ("# XChaCha/raw at 16 KiB: encrypt %.3f, decrypt %.3f (1.0 = no overhead)\n",
          x_enc_16k / raw_enc_16k, x_dec_16k / raw_dec_16k);

  bb_crypto_random_bytes (w.sk, sizeof w.sk);
  bb_crypto_x25519_public_key (w.sk, w.pk);
  bb_crypto_random_bytes (w.pt, sizeof w.pt);
  w.wrap_priv = bb_crypto_secret_bytes_new (w.sk, sizeof w.sk);
  w.wrap_pub = g_bytes_new (w.pk, sizeof w.pk);
  w.dek = bb_crypto_secret_bytes_new (w.pt + 16, 32);
  hpke_seal (&w);
  report ("hpke seal (48 B)", 0, measure (hpke_seal, &w));
  report ("hpke open (48 B)", 0, measure (hpke_open, &w));

  {
    g_autoptr (GError) error = NULL;

    w.wrapped = bb_protocol_wrap_dek (w.wrap_pub, wrap_namespace, w.dek, &error);
    g_assert_no_error (error);
  }
  report ("bb_protocol_wrap_dek", 0, measure (wrap_dek, &w));
  report ("bb_protocol_unwrap_dek", 0, measure (unwrap_dek, &w));

  g_bytes_unref (w.wrap_priv);
  g_bytes_unref (w.wrap_pub);
  g_bytes_unref (w.dek);
  g_clear_pointer (&w.wrapped, g_bytes_unref);
  bb_crypto_wipe (&w, sizeof w);
  return 0;
}
