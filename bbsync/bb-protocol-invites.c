/* bb-protocol-invites.c: invite server secrets, invite proofs and join requests
 *
 * The constructions derived from an invite secret, apart from the invite URI
 * (bb-invite.c) that carries the secret and from the engine that stores it.
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
#define PREFIX_JOIN_REQUEST "bitboxsync-join-request"
#define MSG_SERVER_SECRET "bitboxsync-invite-server-secret-v1"
#define MSG_PROOF_KEY "bitboxsync-invite-proof-key-v1"

#define JOIN_REQUEST_FORMAT 0x01

#define JOIN_PAYLOAD_SIZE                                                                          \
  (BB_STRLEN (PREFIX_JOIN_REQUEST) + 1 + 16 + 16 + 32 + 1 + 32 + 32 + 32 + 8)

G_STATIC_ASSERT (JOIN_PAYLOAD_SIZE == 193);

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
 * @error: return location for a [struct@GLib.Error]
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
 * @error: return location for a [struct@GLib.Error]
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
 * @error: return location for a [struct@GLib.Error]
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
 * @error: return location for a [struct@GLib.Error]
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
 * @error: return location for a [struct@GLib.Error]
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
 * @error: return location for a [struct@GLib.Error]
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
