/* bb-protocol-intents.c: the intents an identity signs, and signature checks
 *
 * The byte strings an identity signs to log in, refresh a token or take a sensitive
 * action (creating an invite, for one), and the checks a server makes on the key and the
 * signature. Apart from the item and invite constructions: these prove who acts.
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

/* Domain-separation string of the protocol (ASCII, used without terminator). */
#define PREFIX_INTENT "bitboxsync-intent"

#define INTENT_VERSION 0x01
#define INTENT_LOGIN 0x01
#define INTENT_REFRESH 0x02
#define INTENT_SENSITIVE 0x03

#define LOGIN_INTENT_SIZE (BB_STRLEN (PREFIX_INTENT) + 2 + 32 + 1 + 32 + 32 + 32)
#define REFRESH_INTENT_SIZE (BB_STRLEN (PREFIX_INTENT) + 2 + 32 + 1 + 32)
#define SENSITIVE_BASE_SIZE (BB_STRLEN (PREFIX_INTENT) + 3 + 32 + 1 + 32)

G_STATIC_ASSERT (LOGIN_INTENT_SIZE == 148);
G_STATIC_ASSERT (REFRESH_INTENT_SIZE == 84);
G_STATIC_ASSERT (SENSITIVE_BASE_SIZE == 85);

/* ------------------------------------------------------------------------------------ */
/* Intents                                                                              */

static void
put_be32 (guint8 *p, guint32 v)
{
  for (int i = 3; i >= 0; i--)
    {
      p[i] = (guint8)(v & 0xff);
      v >>= 8;
    }
}

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
 * @error: return location for a [struct@GLib.Error]
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
 * @error: return location for a [struct@GLib.Error]
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
 * @error: return location for a [struct@GLib.Error]
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
 * @error: return location for a [struct@GLib.Error]
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
 * @error: return location for a [struct@GLib.Error]
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
