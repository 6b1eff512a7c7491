/* bb-test-identity.c: the deterministic, label-derived identity (tests and demos only)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-test-identity.h"
#include "bb-test-identity-private.h"
#include "bb-crypto-private.h"
#include "bb-protocol.h"
#include "bb-error.h"
#include "bb-identity.h"

#include <string.h>

/**
 * BbTestIdentity:
 *
 * A software identity whose keys are derived from a text label.
 *
 * **For tests and demos only.** Anyone who knows (or guesses) the label has the private
 * keys: the label is the whole secret. Never use it for real data. It exists so that
 * tests, examples and demos get stable keys that match the reference client's dummy
 * keystore byte for byte (the same label gives the same key ID in Go and in bbsync).
 *
 * The derivation: `root = SHA-256(label)`; the Ed25519 auth seed is
 * HKDF-SHA256(root, info `bitboxsync-auth-ed25519-seed-v1`) and the X25519 wrap private
 * key is HKDF-SHA256(root, info `bitboxsync-wrap-x25519-seed-v1`), both with an empty
 * salt.
 *
 * It implements [iface@BbSync.Identity] completely, attestation included (the demo format of
 * the protocol guide), and answers every operation at once, without asking anyone.
 *
 * Since: 0.1
 */

#define INFO_AUTH_SEED "bitboxsync-auth-ed25519-seed-v1"
#define INFO_WRAP_SEED "bitboxsync-wrap-x25519-seed-v1"
#define ATTEST_BLOCKS 8

struct _BbTestIdentity
{
  GObject parent_instance;

  char *label;
  char *key_id;
  GBytes *auth_public_key;
  GBytes *wrap_public_key;
  /* Private key material; wiped in finalize. */
  guint8 auth_seed[BB_CRYPTO_ED25519_SEED_SIZE];
  guint8 wrap_private_key[BB_CRYPTO_X25519_KEY_SIZE];
};

enum
{
  PROP_0,
  PROP_LABEL,
  PROP_KEY_ID,
  PROP_AUTH_PUBLIC_KEY,
  PROP_WRAP_PUBLIC_KEY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void bb_test_identity_identity_iface_init (BbIdentityInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (BbTestIdentity, bb_test_identity, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (BB_TYPE_IDENTITY,
                                                      bb_test_identity_identity_iface_init))

static void
bb_test_identity_constructed (GObject *object)
{
  BbTestIdentity *self = BB_TEST_IDENTITY (object);
  guint8 root[BB_CRYPTO_SHA256_SIZE];
  guint8 pub[32];

  G_OBJECT_CLASS (bb_test_identity_parent_class)->constructed (object);

  if (self->label == NULL)
    self->label = g_strdup ("");

  bb_crypto_sha256 ((const guint8 *)self->label, strlen (self->label), root);
  bb_crypto_hkdf_sha256 (NULL, 0, root, sizeof root, (const guint8 *)INFO_AUTH_SEED,
                         strlen (INFO_AUTH_SEED), self->auth_seed, sizeof self->auth_seed);
  bb_crypto_hkdf_sha256 (NULL, 0, root, sizeof root, (const guint8 *)INFO_WRAP_SEED,
                         strlen (INFO_WRAP_SEED), self->wrap_private_key,
                         sizeof self->wrap_private_key);
  bb_crypto_wipe (root, sizeof root);

  bb_crypto_ed25519_public_key (self->auth_seed, pub);
  self->auth_public_key = g_bytes_new (pub, sizeof pub);
  bb_crypto_x25519_public_key (self->wrap_private_key, pub);
  self->wrap_public_key = g_bytes_new (pub, sizeof pub);
  self->key_id = bb_protocol_key_id (self->auth_public_key);
}

static void
bb_test_identity_finalize (GObject *object)
{
  BbTestIdentity *self = BB_TEST_IDENTITY (object);

  bb_crypto_wipe (self->auth_seed, sizeof self->auth_seed);
  bb_crypto_wipe (self->wrap_private_key, sizeof self->wrap_private_key);
  g_clear_pointer (&self->label, g_free);
  g_clear_pointer (&self->key_id, g_free);
  g_clear_pointer (&self->auth_public_key, g_bytes_unref);
  g_clear_pointer (&self->wrap_public_key, g_bytes_unref);

  G_OBJECT_CLASS (bb_test_identity_parent_class)->finalize (object);
}

static void
bb_test_identity_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BbTestIdentity *self = BB_TEST_IDENTITY (object);

  switch (prop_id)
    {
      case PROP_LABEL:
        g_value_set_string (value, self->label);
        break;
      case PROP_KEY_ID:
        g_value_set_string (value, self->key_id);
        break;
      case PROP_AUTH_PUBLIC_KEY:
        g_value_set_boxed (value, self->auth_public_key);
        break;
      case PROP_WRAP_PUBLIC_KEY:
        g_value_set_boxed (value, self->wrap_public_key);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bb_test_identity_set_property (GObject *object, guint prop_id, const GValue *value,
                               GParamSpec *pspec)
{
  BbTestIdentity *self = BB_TEST_IDENTITY (object);

  switch (prop_id)
    {
      case PROP_LABEL:
        g_free (self->label);
        self->label = g_value_dup_string (value);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bb_test_identity_class_init (BbTestIdentityClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = bb_test_identity_constructed;
  object_class->finalize = bb_test_identity_finalize;
  object_class->get_property = bb_test_identity_get_property;
  object_class->set_property = bb_test_identity_set_property;

  /**
   * BbTestIdentity:label:
   *
   * The label all keys are derived from. Knowing it means knowing the private keys.
   *
   * Since: 0.1
   */
  properties[PROP_LABEL]
      = g_param_spec_string ("label", NULL, NULL, NULL,
                             G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS
                                 | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * BbTestIdentity:key-id:
   *
   * The key ID, lower-case hex SHA-256 of the auth public key.
   *
   * Since: 0.1
   */
  properties[PROP_KEY_ID]
      = g_param_spec_string ("key-id", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * BbTestIdentity:auth-public-key:
   *
   * The 32-byte Ed25519 auth public key.
   *
   * Since: 0.1
   */
  properties[PROP_AUTH_PUBLIC_KEY] = g_param_spec_boxed (
      "auth-public-key", NULL, NULL, G_TYPE_BYTES, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * BbTestIdentity:wrap-public-key:
   *
   * The 32-byte X25519 wrap public key.
   *
   * Since: 0.1
   */
  properties[PROP_WRAP_PUBLIC_KEY] = g_param_spec_boxed (
      "wrap-public-key", NULL, NULL, G_TYPE_BYTES, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
bb_test_identity_init (BbTestIdentity *self)
{
}

/**
 * bb_test_identity_new:
 * @label: the label to derive the keys from
 *
 * Creates the deterministic identity of @label. **Tests and demos only**: the label is
 * the private key.
 *
 * Returns: (transfer full): a new test identity
 *
 * Since: 0.1
 */
BbTestIdentity *
bb_test_identity_new (const char *label)
{
  g_return_val_if_fail (label != NULL, NULL);

  return g_object_new (BB_TYPE_TEST_IDENTITY, "label", label, NULL);
}

/**
 * bb_test_identity_get_label:
 * @self: a test identity
 *
 * Gets the label the identity's keys are derived from. Anyone who knows it knows the
 * private keys: test identities are for tests and demos only.
 *
 * Returns: (transfer none): the label
 *
 * Since: 0.1
 */
const char *
bb_test_identity_get_label (BbTestIdentity *self)
{
  g_return_val_if_fail (BB_IS_TEST_IDENTITY (self), NULL);

  return self->label;
}

GBytes *
bb_test_identity_get_auth_public_key (BbTestIdentity *self)
{
  g_return_val_if_fail (BB_IS_TEST_IDENTITY (self), NULL);

  return self->auth_public_key;
}

GBytes *
bb_test_identity_get_wrap_public_key (BbTestIdentity *self)
{
  g_return_val_if_fail (BB_IS_TEST_IDENTITY (self), NULL);

  return self->wrap_public_key;
}

const char *
bb_test_identity_get_key_id (BbTestIdentity *self)
{
  g_return_val_if_fail (BB_IS_TEST_IDENTITY (self), NULL);

  return self->key_id;
}

GBytes *
bb_test_identity_sign (BbTestIdentity *self, GBytes *message)
{
  guint8 sig[BB_CRYPTO_ED25519_SIG_SIZE];
  static const guint8 empty[1] = { 0 };
  gsize len;
  const guint8 *msg;

  g_return_val_if_fail (BB_IS_TEST_IDENTITY (self), NULL);
  g_return_val_if_fail (message != NULL, NULL);

  msg = g_bytes_get_data (message, &len);
  bb_crypto_ed25519_sign (self->auth_seed, g_bytes_get_data (self->auth_public_key, NULL),
                          msg ? msg : empty, len, sig);
  return g_bytes_new (sig, sizeof sig);
}

GBytes *
bb_test_identity_attest (BbTestIdentity *self, GBytes *challenge)
{
  guint8 *out;
  GByteArray *input;
  guint8 m[BB_CRYPTO_SHA256_SIZE];
  gsize len;
  const guint8 *p;

  g_return_val_if_fail (BB_IS_TEST_IDENTITY (self), NULL);
  g_return_val_if_fail (challenge != NULL, NULL);

  /* m = SHA-256(challenge || authPublicKey); the output is 0x00 || B1..B8 with
   * B1 = SHA-256(m) and each further block the hash of the previous one. */
  input = g_byte_array_new ();
  p = g_bytes_get_data (challenge, &len);
  if (len > 0)
    g_byte_array_append (input, p, (guint)len);
  g_byte_array_append (input, g_bytes_get_data (self->auth_public_key, NULL), 32);
  bb_crypto_sha256 (input->data, input->len, m);
  g_byte_array_unref (input);

  out = g_malloc (1 + ATTEST_BLOCKS * BB_CRYPTO_SHA256_SIZE);
  out[0] = 0x00;
  bb_crypto_sha256 (m, sizeof m, out + 1);
  for (int i = 1; i < ATTEST_BLOCKS; i++)
    bb_crypto_sha256 (out + 1 + (i - 1) * BB_CRYPTO_SHA256_SIZE, BB_CRYPTO_SHA256_SIZE,
                      out + 1 + i * BB_CRYPTO_SHA256_SIZE);
  return g_bytes_new_take (out, 1 + ATTEST_BLOCKS * BB_CRYPTO_SHA256_SIZE);
}

GBytes *
bb_test_identity_unwrap_dek (BbTestIdentity *self, const char *namespace_id, GBytes *wrapped_dek,
                             GError **error)
{
  g_autoptr (GBytes) priv = NULL;

  g_return_val_if_fail (BB_IS_TEST_IDENTITY (self), NULL);
  g_return_val_if_fail (namespace_id != NULL, NULL);
  g_return_val_if_fail (wrapped_dek != NULL, NULL);

  priv = bb_crypto_secret_bytes_new (self->wrap_private_key, sizeof self->wrap_private_key);
  return bb_protocol_unwrap_dek (priv, namespace_id, wrapped_dek, error);
}

/* BbIdentity: every operation completes at once; a test identity asks no one. */

static GBytes *
bb_test_identity_iface_get_auth_public_key (BbIdentity *identity)
{
  return g_bytes_ref (BB_TEST_IDENTITY (identity)->auth_public_key);
}

static GBytes *
bb_test_identity_iface_get_wrap_public_key (BbIdentity *identity)
{
  return g_bytes_ref (BB_TEST_IDENTITY (identity)->wrap_public_key);
}

static char *
bb_test_identity_iface_get_key_id (BbIdentity *identity)
{
  return g_strdup (BB_TEST_IDENTITY (identity)->key_id);
}

static void
return_bytes (BbIdentity *identity, gpointer source_tag, GBytes *bytes, GError *error,
              GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (identity, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  if (bytes == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, bytes, (GDestroyNotify)g_bytes_unref);
}

static void
bb_test_identity_iface_sign_payload_async (BbIdentity *identity, GBytes *payload,
                                           GCancellable *cancellable, GAsyncReadyCallback callback,
                                           gpointer user_data)
{
  return_bytes (identity, bb_test_identity_iface_sign_payload_async,
                bb_test_identity_sign (BB_TEST_IDENTITY (identity), payload), NULL, cancellable,
                callback, user_data);
}

static void
bb_test_identity_iface_attest_async (BbIdentity *identity, GBytes *challenge,
                                     GCancellable *cancellable, GAsyncReadyCallback callback,
                                     gpointer user_data)
{
  return_bytes (identity, bb_test_identity_iface_attest_async,
                bb_test_identity_attest (BB_TEST_IDENTITY (identity), challenge), NULL, cancellable,
                callback, user_data);
}

static void
bb_test_identity_iface_unwrap_dek_async (BbIdentity *identity, const char *namespace_id,
                                         GBytes *wrapped_dek, GCancellable *cancellable,
                                         GAsyncReadyCallback callback, gpointer user_data)
{
  GError *error = NULL;
  GBytes *dek;

  dek = bb_test_identity_unwrap_dek (BB_TEST_IDENTITY (identity), namespace_id, wrapped_dek,
                                     &error);
  return_bytes (identity, bb_test_identity_iface_unwrap_dek_async, dek, error, cancellable,
                callback, user_data);
}

static GBytes *
bb_test_identity_iface_finish (BbIdentity *identity, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, identity), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
bb_test_identity_identity_iface_init (BbIdentityInterface *iface)
{
  iface->get_auth_public_key = bb_test_identity_iface_get_auth_public_key;
  iface->get_wrap_public_key = bb_test_identity_iface_get_wrap_public_key;
  iface->get_key_id = bb_test_identity_iface_get_key_id;
  /* The intent-specific operations are the interface defaults: they build each
   * intent with the protocol layer and sign it through sign_payload. */
  iface->sign_payload_async = bb_test_identity_iface_sign_payload_async;
  iface->sign_payload_finish = bb_test_identity_iface_finish;
  iface->attest_async = bb_test_identity_iface_attest_async;
  iface->attest_finish = bb_test_identity_iface_finish;
  iface->unwrap_dek_async = bb_test_identity_iface_unwrap_dek_async;
  iface->unwrap_dek_finish = bb_test_identity_iface_finish;
}
