/* test-invite-verify.c: bb_invite_verify_join_request(), the approver's checks on a
 * listed join request (spec invites §1.11), one accepting case and one rejection per
 * check, each from a valid entry with exactly one field changed
 *
 * The entry is built here with the same crypto a requester uses (Ed25519 signature and
 * invite proof over the 193-byte payload), so no server is needed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"
#include <bbsync/bbsync.h>
#include <string.h>
#include "bb-protocol-types-private.h"
#include "bb-crypto-private.h"
#include "bb-test-utils.h"

#define ORIGIN "https://sync.example"
#define NAMESPACE_ID "00112233445566778899aabbccddeeff"
#define INVITE_ID "ffeeddccbbaa99887766554433221100"
#define NOW G_GINT64_CONSTANT (1800000000)
#define INVITE_EXP (NOW + 3600)
#define REQUEST_EXP (NOW + 600)

typedef struct
{
  BbInvite *invite;
  char *namespace_id; /* the approver's handle */
  BbJoinRequestListing *entry;
  gint64 now;
  char *secret_b64url; /* must never appear in a message */
} Fixture;

static GBytes *
fixed_bytes (guint8 byte)
{
  return bb_test_repeat (byte, 32);
}

static BbInvite *
make_invite (const char *namespace_id, const char *invite_id, guint8 secret_byte)
{
  g_autoptr (GBytes) secret = fixed_bytes (secret_byte);
  g_autoptr (GError) error = NULL;
  BbInvite *invite;

  invite = bb_invite_new (ORIGIN, namespace_id, invite_id, INVITE_EXP, secret, &error);
  g_assert_no_error (error);
  return invite;
}

/* A join request as the requester builds it and the server lists it. */
static void
fixture_init (Fixture *fx)
{
  guint8 seed[32], auth_pub[32], wrap_priv[32], wrap_pub[32], sig[64];
  g_autoptr (GBytes) auth_key = NULL;
  g_autoptr (GBytes) wrap_key = NULL;
  g_autoptr (GBytes) payload = NULL;
  g_autoptr (GBytes) proof = NULL;
  g_autoptr (GBytes) sig_bytes = NULL;
  g_autoptr (GBytes) secret = fixed_bytes (0x5a);
  g_autoptr (GError) error = NULL;
  g_autofree char *key_id = NULL;
  BbJoinRequest *request;
  BbJoinRequestListing *entry;

  memset (seed, 0x11, sizeof seed);
  memset (wrap_priv, 0x22, sizeof wrap_priv);
  bb_crypto_ed25519_public_key (seed, auth_pub);
  bb_crypto_x25519_public_key (wrap_priv, wrap_pub);
  auth_key = g_bytes_new (auth_pub, 32);
  wrap_key = g_bytes_new (wrap_pub, 32);
  key_id = bb_protocol_key_id (auth_key);

  fx->invite = make_invite (NAMESPACE_ID, INVITE_ID, 0x5a);
  fx->namespace_id = g_strdup (NAMESPACE_ID);
  fx->now = NOW;
  fx->secret_b64url = bb_protocol_base64url_encode (secret);

  payload = bb_protocol_join_request_payload (NAMESPACE_ID, INVITE_ID, ORIGIN, "keystore", key_id,
                                              auth_key, wrap_key, REQUEST_EXP, &error);
  g_assert_no_error (error);
  bb_crypto_ed25519_sign (seed, auth_pub, g_bytes_get_data (payload, NULL),
                          g_bytes_get_size (payload), sig);
  sig_bytes = g_bytes_new (sig, 64);
  proof = bb_protocol_invite_proof (secret, payload, &error);
  g_assert_no_error (error);

  request = bb_join_request_new ();
  request->msg.version = 1;
  request->msg.namespace_id = g_strdup (NAMESPACE_ID);
  request->msg.invite_id = g_strdup (INVITE_ID);
  request->msg.server_origin = g_strdup (ORIGIN);
  request->msg.kind = g_strdup ("keystore");
  request->msg.key_id = g_strdup (key_id);
  request->msg.auth_public_key = bb_protocol_hex_encode (auth_key);
  request->msg.wrap_public_key = bb_protocol_hex_encode (wrap_key);
  request->msg.expires_at = REQUEST_EXP;
  request->msg.signature = bb_protocol_hex_encode (sig_bytes);
  request->msg.invite_proof = bb_protocol_base64url_encode (proof);

  entry = bb_join_request_listing_new ();
  entry->namespace_id = g_strdup (NAMESPACE_ID);
  entry->invite_id = g_strdup (INVITE_ID);
  entry->join_request_hash = bb_protocol_join_request_hash (payload);
  entry->status = g_strdup ("pending");
  entry->requester_kind = g_strdup ("keystore");
  entry->requester_key_id = g_strdup (key_id);
  entry->created_at = g_date_time_new_from_unix_utc (NOW - 5);
  entry->request = request;
  fx->entry = entry;
}

static void
fixture_clear (Fixture *fx)
{
  g_clear_pointer (&fx->invite, bb_invite_unref);
  g_clear_pointer (&fx->namespace_id, g_free);
  g_clear_pointer (&fx->entry, bb_join_request_listing_unref);
  g_clear_pointer (&fx->secret_b64url, g_free);
}

static BbMsgJoinRequest *
msg (Fixture *fx)
{
  return &fx->entry->request->msg;
}

static void
set_string (char **field, const char *value)
{
  g_free (*field);
  *field = g_strdup (value);
}

/* Flips one hex digit of @field in place (keeping it lower-case hex). */
static void
flip_hex (char *field)
{
  field[0] = field[0] == '0' ? '1' : '0';
}

static void
test_accepts_valid (void)
{
  Fixture fx = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) server_secret = NULL;
  g_autoptr (GBytes) expected = fixed_bytes (0x5a);
  g_autoptr (GBytes) derived = NULL;

  fixture_init (&fx);
  g_assert_true (
      bb_invite_verify_join_request (fx.invite, fx.namespace_id, fx.entry, fx.now, &error));
  g_assert_no_error (error);

  /* the last valid second on both lifetimes */
  g_assert_true (bb_invite_verify_join_request (fx.invite, fx.namespace_id, fx.entry,
                                                REQUEST_EXP - 1, &error));
  g_assert_no_error (error);

  /* step 16: the server secret the approval sends is derived from the invite */
  server_secret = bb_invite_dup_server_secret (fx.invite);
  derived = bb_protocol_invite_server_secret (expected, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (server_secret, derived));
  fixture_clear (&fx);
}

typedef struct
{
  const char *name;
  void (*mutate) (Fixture *fx);
  BbSyncError code;
  const char *field; /* the message names it */
  const char *text;  /* and says this */
} RejectCase;

static void
mutate_invite_expired (Fixture *fx)
{
  fx->now = INVITE_EXP;
}
static void
mutate_handle_namespace (Fixture *fx)
{
  set_string (&fx->namespace_id, "0102030405060708090a0b0c0d0e0f10");
}
static void
mutate_invite_namespace (Fixture *fx)
{
  /* an invite (with the same ID and secret) for another namespace than the handle's */
  bb_invite_unref (fx->invite);
  fx->invite = make_invite ("0102030405060708090a0b0c0d0e0f10", INVITE_ID, 0x5a);
}
static void
mutate_request_namespace (Fixture *fx)
{
  set_string (&msg (fx)->namespace_id, "0102030405060708090a0b0c0d0e0f10");
}
static void
mutate_request_invite_id (Fixture *fx)
{
  flip_hex (msg (fx)->invite_id);
}
static void
mutate_another_invite (Fixture *fx)
{
  bb_invite_unref (fx->invite);
  fx->invite = make_invite (NAMESPACE_ID, "0102030405060708090a0b0c0d0e0f10", 0x5a);
}
static void
mutate_origin (Fixture *fx)
{
  set_string (&msg (fx)->server_origin, "https://other.example");
}
static void
mutate_origin_noncanonical (Fixture *fx)
{
  set_string (&msg (fx)->server_origin, ORIGIN ":443");
}
static void
mutate_version (Fixture *fx)
{
  msg (fx)->version = 2;
}
static void
mutate_kind (Fixture *fx)
{
  set_string (&msg (fx)->kind, "hardware");
}
static void
mutate_request_expired (Fixture *fx)
{
  msg (fx)->expires_at = NOW;
}
static void
mutate_request_outlives_invite (Fixture *fx)
{
  msg (fx)->expires_at = INVITE_EXP + 1;
}
static void
mutate_negative_expiry (Fixture *fx)
{
  /* a clock before 1970 (the only way past the expiry checks above) */
  fx->now = -10;
  msg (fx)->expires_at = -1;
}
static void
mutate_key_id_uppercase (Fixture *fx)
{
  char *upper = g_ascii_strup (msg (fx)->key_id, -1);

  g_free (msg (fx)->key_id);
  msg (fx)->key_id = upper;
}
static void
mutate_auth_key_short (Fixture *fx)
{
  msg (fx)->auth_public_key[62] = '\0';
}
static void
mutate_wrap_key_not_hex (Fixture *fx)
{
  msg (fx)->wrap_public_key[0] = 'g';
}
static void
mutate_signature_uppercase (Fixture *fx)
{
  char *upper = g_ascii_strup (msg (fx)->signature, -1);

  g_free (msg (fx)->signature);
  msg (fx)->signature = upper;
}
static void
mutate_proof_padded (Fixture *fx)
{
  char *padded = g_strconcat (msg (fx)->invite_proof, "=", NULL);

  g_free (msg (fx)->invite_proof);
  msg (fx)->invite_proof = padded;
}
static void
mutate_key_id (Fixture *fx)
{
  /* the ID of another key, still well-formed */
  flip_hex (msg (fx)->key_id);
}
static void
mutate_listed_hash (Fixture *fx)
{
  flip_hex (fx->entry->join_request_hash);
}
static void
mutate_wrap_key (Fixture *fx)
{
  /* a server substituting its own wrap key, the listed hash left as it was */
  flip_hex (msg (fx)->wrap_public_key);
}
static void
mutate_signature (Fixture *fx)
{
  flip_hex (msg (fx)->signature);
}
static void
mutate_proof (Fixture *fx)
{
  msg (fx)->invite_proof[0] = msg (fx)->invite_proof[0] == 'A' ? 'B' : 'A';
}
static void
mutate_invite_secret (Fixture *fx)
{
  /* the same invite with another secret: what a forger without the QR code holds */
  bb_invite_unref (fx->invite);
  fx->invite = make_invite (NAMESPACE_ID, INVITE_ID, 0xa5);
}
/* A requester key of small order, here the identity point, with everything else rebuilt
 * to match it (key ID, listed hash, invite proof) and the signature (R = identity,
 * S = 0), which nettle alone accepts over any payload: a key nobody holds. */
static void
mutate_auth_key_small_order (Fixture *fx)
{
  static const guint8 identity[32] = { 0x01 };
  static const guint8 forged[64] = { 0x01 };
  g_autoptr (GBytes) auth_key = g_bytes_new_static (identity, sizeof identity);
  g_autoptr (GBytes) signature = g_bytes_new_static (forged, sizeof forged);
  g_autoptr (GBytes) secret = fixed_bytes (0x5a);
  g_autoptr (GBytes) wrap_key = NULL;
  g_autoptr (GBytes) payload = NULL;
  g_autoptr (GBytes) proof = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *key_id = bb_protocol_key_id (auth_key);

  wrap_key = bb_protocol_lower_hex_decode (msg (fx)->wrap_public_key, 32, "wrap", &error);
  payload = bb_protocol_join_request_payload (NAMESPACE_ID, INVITE_ID, ORIGIN, "keystore", key_id,
                                              auth_key, wrap_key, REQUEST_EXP, &error);
  proof = bb_protocol_invite_proof (secret, payload, &error);
  g_assert_no_error (error);

  set_string (&msg (fx)->key_id, key_id);
  set_string (&fx->entry->requester_key_id, key_id);
  g_free (msg (fx)->auth_public_key);
  msg (fx)->auth_public_key = bb_protocol_hex_encode (auth_key);
  g_free (msg (fx)->signature);
  msg (fx)->signature = bb_protocol_hex_encode (signature);
  g_free (msg (fx)->invite_proof);
  msg (fx)->invite_proof = bb_protocol_base64url_encode (proof);
  g_free (fx->entry->join_request_hash);
  fx->entry->join_request_hash = bb_protocol_join_request_hash (payload);
}
static void
mutate_no_request (Fixture *fx)
{
  g_clear_pointer (&fx->entry->request, bb_join_request_unref);
}

static const RejectCase reject_cases[] = {
  { "no-request", mutate_no_request, BB_SYNC_ERROR_INVALID_INPUT, "joinRequest",
    "no join request" },
  { "invite-expired", mutate_invite_expired, BB_SYNC_ERROR_INVALID_INPUT, "expiresAt",
    "invite has expired" },
  { "handle-namespace", mutate_handle_namespace, BB_SYNC_ERROR_INVALID_INPUT, "namespaceId",
    "join request namespace mismatch" },
  { "invite-namespace", mutate_invite_namespace, BB_SYNC_ERROR_INVALID_INPUT, "namespaceId",
    "join request namespace mismatch" },
  { "request-namespace", mutate_request_namespace, BB_SYNC_ERROR_INVALID_INPUT, "namespaceId",
    "join request namespace mismatch" },
  { "request-invite-id", mutate_request_invite_id, BB_SYNC_ERROR_INVALID_INPUT, "inviteId",
    "join request invite mismatch" },
  { "another-invite", mutate_another_invite, BB_SYNC_ERROR_INVALID_INPUT, "inviteId",
    "join request invite mismatch" },
  { "origin", mutate_origin, BB_SYNC_ERROR_INVALID_INPUT, "serverOrigin",
    "join request server origin mismatch" },
  { "origin-noncanonical", mutate_origin_noncanonical, BB_SYNC_ERROR_INVALID_INPUT, "serverOrigin",
    "join request server origin mismatch" },
  { "version", mutate_version, BB_SYNC_ERROR_UNSUPPORTED, "version", "unsupported version" },
  { "kind", mutate_kind, BB_SYNC_ERROR_UNSUPPORTED, "kind", "invalid kind" },
  { "request-expired", mutate_request_expired, BB_SYNC_ERROR_INVALID_INPUT, "expiresAt",
    "join request has expired" },
  { "request-outlives-invite", mutate_request_outlives_invite, BB_SYNC_ERROR_INVALID_INPUT,
    "expiresAt", "join request expires after invite" },
  { "negative-expiry", mutate_negative_expiry, BB_SYNC_ERROR_INVALID_INPUT, "expiresAt",
    "must be non-negative" },
  { "key-id-uppercase", mutate_key_id_uppercase, BB_SYNC_ERROR_INVALID_INPUT, "joinRequest.keyId",
    "lower-case hex" },
  { "auth-key-short", mutate_auth_key_short, BB_SYNC_ERROR_INVALID_INPUT,
    "joinRequest.authPublicKey", "must be 32 bytes" },
  { "auth-key-small-order", mutate_auth_key_small_order, BB_SYNC_ERROR_INVALID_INPUT,
    "joinRequest.authPublicKey", "is a small-order point" },
  { "wrap-key-not-hex", mutate_wrap_key_not_hex, BB_SYNC_ERROR_INVALID_INPUT,
    "joinRequest.wrapPublicKey", "invalid hex character" },
  { "signature-uppercase", mutate_signature_uppercase, BB_SYNC_ERROR_INVALID_INPUT,
    "joinRequest.signature", "lower-case hex" },
  { "proof-padded", mutate_proof_padded, BB_SYNC_ERROR_INVALID_INPUT, "joinRequest.inviteProof",
    "unpadded base64url" },
  { "key-id", mutate_key_id, BB_SYNC_ERROR_CRYPTO, "keyId",
    "key id does not match auth public key" },
  { "listed-hash", mutate_listed_hash, BB_SYNC_ERROR_CRYPTO, "joinRequestHash",
    "join request hash mismatch" },
  { "wrap-key", mutate_wrap_key, BB_SYNC_ERROR_CRYPTO, "joinRequestHash",
    "join request hash mismatch" },
  { "signature", mutate_signature, BB_SYNC_ERROR_CRYPTO, "signature",
    "invalid join request signature" },
  { "proof", mutate_proof, BB_SYNC_ERROR_CRYPTO, "inviteProof", "invalid invite proof" },
  { "invite-secret", mutate_invite_secret, BB_SYNC_ERROR_CRYPTO, "inviteProof",
    "invalid invite proof" },
};

static void
test_rejects (gconstpointer data)
{
  const RejectCase *c = data;
  Fixture fx = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *prefix = NULL;

  fixture_init (&fx);
  c->mutate (&fx);
  g_assert_false (
      bb_invite_verify_join_request (fx.invite, fx.namespace_id, fx.entry, fx.now, &error));
  g_assert_error (error, BB_SYNC_ERROR, (gint)c->code);
  prefix = g_strconcat (c->field, ":", NULL);
  if (!g_str_has_prefix (error->message, prefix) || strstr (error->message, c->text) == NULL)
    g_error ("%s: unexpected message “%s” (want “%s … %s”)", c->name, error->message, prefix,
             c->text);
  g_assert_null (strstr (error->message, fx.secret_b64url));
  fixture_clear (&fx);
}

/* The server's natural attack, swapping in its own wrap key and fixing up the listed
 * hash, still fails: the requester's signature does not cover the new payload. */
static void
test_rejects_substituted_key_with_fixed_hash (void)
{
  Fixture fx = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) auth_key = NULL;
  g_autoptr (GBytes) wrap_key = NULL;
  g_autoptr (GBytes) payload = NULL;

  fixture_init (&fx);
  flip_hex (msg (&fx)->wrap_public_key);
  auth_key = bb_protocol_hex_decode (msg (&fx)->auth_public_key, 32, "auth", &error);
  wrap_key = bb_protocol_hex_decode (msg (&fx)->wrap_public_key, 32, "wrap", &error);
  g_assert_no_error (error);
  payload = bb_protocol_join_request_payload (NAMESPACE_ID, INVITE_ID, ORIGIN, "keystore",
                                              msg (&fx)->key_id, auth_key, wrap_key, REQUEST_EXP,
                                              &error);
  g_assert_no_error (error);
  g_free (fx.entry->join_request_hash);
  fx.entry->join_request_hash = bb_protocol_join_request_hash (payload);

  g_assert_false (
      bb_invite_verify_join_request (fx.invite, fx.namespace_id, fx.entry, fx.now, &error));
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_CRYPTO);
  g_assert_nonnull (strstr (error->message, "signature: invalid join request signature"));
  fixture_clear (&fx);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/invite-verify/accepts-valid", test_accepts_valid);
  for (gsize i = 0; i < G_N_ELEMENTS (reject_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/invite-verify/rejects/%s", reject_cases[i].name);
      g_test_add_data_func (path, &reject_cases[i], test_rejects);
    }
  g_test_add_func ("/invite-verify/rejects/substituted-key-with-fixed-hash",
                   test_rejects_substituted_key_with_fixed_hash);
  return g_test_run ();
}
