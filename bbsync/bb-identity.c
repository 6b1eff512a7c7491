/* bb-identity.c: the key holder of a BitBoxSync account
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-identity.h"

#include "bb-i18n-private.h"

#include "bb-protocol-types-private.h"
#include "bb-error.h"
#include "bb-invite-private.h"
#include "bb-protocol.h"

/**
 * BbIdentity:
 *
 * The holder of an account's keys: an Ed25519 auth key that signs intents and join
 * requests, and an X25519 wrap key that receives namespace DEKs.
 *
 * Every private-key operation is asynchronous, because a hardware keystore asks its
 * user to confirm it. Each signing operation is specific to one intent, and the
 * identity builds the signed bytes itself from the fields it is given (as a
 * hardware device does, so that it can show them), returning the 64-byte signature.
 *
 * bbsync ships [class@BbSync.KeystoreIdentity] (keys in the user's keyring) and
 * [class@BbSync.TestIdentity] (deterministic keys from a label, for tests and demos only).
 * Apps can implement the interface themselves, also from Python or JavaScript:
 * a software identity only needs `get_auth_public_key`, `get_wrap_public_key`,
 * `sign_payload_async`/`sign_payload_finish` and `unwrap_dek_async`/`unwrap_dek_finish`;
 * the signing operations then default to building the intent with the protocol layer
 * and signing it with `sign_payload`.
 *
 * Since: 0.1
 */

G_DEFINE_INTERFACE (BbIdentity, bb_identity, G_TYPE_OBJECT)

static char *
bb_identity_real_get_kind (BbIdentity *self)
{
  return g_strdup (BB_PROTOCOL_KIND_KEYSTORE);
}

static char *
bb_identity_real_get_key_id (BbIdentity *self)
{
  g_autoptr (GBytes) auth_public_key = bb_identity_get_auth_public_key (self);

  if (auth_public_key == NULL)
    return NULL;
  return bb_protocol_key_id (auth_public_key);
}

static GBytes *
bb_identity_real_finish (BbIdentity *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * BbIdentityInterface::sign_payload_async:
 * @self: a [iface@BbSync.Identity]
 * @payload: the bytes to sign: an intent or a join-request payload built by the
 *   protocol layer
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the signature is ready
 * @user_data: data for @callback
 *
 * Signs @payload with the identity's Ed25519 auth key. A software identity implements
 * this and inherits every signing operation: their defaults build the payload from
 * their fields and pass it here. A hardware identity, which has to show its user the
 * fields it signs, leaves it unset and implements each signing operation instead; the
 * defaults then fail with %BB_SYNC_ERROR_UNSUPPORTED.
 *
 * Since: 0.1
 */

/**
 * BbIdentityInterface::sign_payload_finish:
 * @self: a [iface@BbSync.Identity]
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [vfunc@BbSync.Identity.sign_payload_async]. The default returns the [struct@GLib.Bytes]
 * the implementation passed to g_task_return_pointer().
 *
 * Returns: (transfer full): the 64-byte Ed25519 signature of the payload, or %NULL on
 *   error
 *
 * Since: 0.1
 */

static void
sign_payload_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  BbIdentity *self = BB_IDENTITY (source);
  GError *error = NULL;
  GBytes *signature;

  signature = BB_IDENTITY_GET_IFACE (self)->sign_payload_finish (self, result, &error);
  if (signature == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, signature, (GDestroyNotify)g_bytes_unref);
}

/* The shared tail of the default signing operations: @payload (or @error, when
 * building it failed) goes to sign_payload. */
static void
sign_built_payload (BbIdentity *self, GBytes *payload, GError *error, gpointer source_tag,
                    GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  BbIdentityInterface *iface = BB_IDENTITY_GET_IFACE (self);
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);

  if (payload == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (iface->sign_payload_async == NULL || iface->sign_payload_finish == NULL)
    {
      g_task_return_new_error (
          task, BB_SYNC_ERROR, BB_SYNC_ERROR_UNSUPPORTED,
          _ ("This identity implements neither the operation nor sign_payload"));
      return;
    }
  iface->sign_payload_async (self, payload, cancellable, sign_payload_cb, g_steal_pointer (&task));
}

/* Kind, key ID and public keys of @self, or an error naming what is missing. */
static gboolean
get_public_material (BbIdentity *self, char **out_kind, char **out_key_id, GBytes **out_auth,
                     GBytes **out_wrap, GError **error)
{
  g_autofree char *kind = bb_identity_get_kind (self);
  g_autofree char *key_id = bb_identity_get_key_id (self);
  g_autoptr (GBytes) auth = bb_identity_get_auth_public_key (self);
  g_autoptr (GBytes) wrap = bb_identity_get_wrap_public_key (self);

  if (kind == NULL || key_id == NULL || auth == NULL || wrap == NULL)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("identity: kind, key ID and public keys are required"));
      return FALSE;
    }
  if (out_kind != NULL)
    *out_kind = g_steal_pointer (&kind);
  if (out_key_id != NULL)
    *out_key_id = g_steal_pointer (&key_id);
  if (out_auth != NULL)
    *out_auth = g_steal_pointer (&auth);
  if (out_wrap != NULL)
    *out_wrap = g_steal_pointer (&wrap);
  return TRUE;
}

static void
bb_identity_real_sign_login_async (BbIdentity *self, GBytes *challenge, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data)
{
  g_autofree char *kind = NULL;
  g_autofree char *key_id = NULL;
  g_autoptr (GBytes) auth = NULL;
  g_autoptr (GBytes) wrap = NULL;
  g_autoptr (GBytes) payload = NULL;
  GError *error = NULL;

  if (get_public_material (self, &kind, &key_id, &auth, &wrap, &error))
    payload = bb_protocol_login_intent (challenge, kind, key_id, auth, wrap, &error);
  sign_built_payload (self, payload, error, bb_identity_real_sign_login_async, cancellable,
                      callback, user_data);
}

static void
bb_identity_real_sign_refresh_async (BbIdentity *self, GBytes *challenge, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data)
{
  g_autofree char *kind = NULL;
  g_autofree char *key_id = NULL;
  g_autoptr (GBytes) payload = NULL;
  GError *error = NULL;

  if (get_public_material (self, &kind, &key_id, NULL, NULL, &error))
    payload = bb_protocol_refresh_intent (challenge, kind, key_id, &error);
  sign_built_payload (self, payload, error, bb_identity_real_sign_refresh_async, cancellable,
                      callback, user_data);
}

static void
bb_identity_real_sign_revoke_all_tokens_async (BbIdentity *self, GBytes *challenge,
                                               GCancellable *cancellable,
                                               GAsyncReadyCallback callback, gpointer user_data)
{
  g_autofree char *kind = NULL;
  g_autofree char *key_id = NULL;
  g_autoptr (GBytes) no_fields = g_bytes_new (NULL, 0);
  g_autoptr (GBytes) payload = NULL;
  GError *error = NULL;

  if (get_public_material (self, &kind, &key_id, NULL, NULL, &error))
    payload = bb_protocol_sensitive_action_intent (BB_PROTOCOL_ACTION_REVOKE_ALL, challenge, kind,
                                                   key_id, no_fields, &error);
  sign_built_payload (self, payload, error, bb_identity_real_sign_revoke_all_tokens_async,
                      cancellable, callback, user_data);
}

static void
bb_identity_real_sign_create_invite_async (BbIdentity *self, GBytes *challenge,
                                           const char *namespace_id, const char *invite_id,
                                           GBytes *invite_server_secret_hash, gint64 expires_at,
                                           guint max_pending, guint max_accepted,
                                           GCancellable *cancellable, GAsyncReadyCallback callback,
                                           gpointer user_data)
{
  g_autofree char *kind = NULL;
  g_autofree char *key_id = NULL;
  g_autoptr (GBytes) fields = NULL;
  g_autoptr (GBytes) payload = NULL;
  GError *error = NULL;

  if (get_public_material (self, &kind, &key_id, NULL, NULL, &error))
    fields = bb_protocol_create_invite_fields (namespace_id, invite_id, invite_server_secret_hash,
                                               expires_at, max_pending, max_accepted, &error);
  if (fields != NULL)
    payload = bb_protocol_sensitive_action_intent (BB_PROTOCOL_ACTION_CREATE_INVITE, challenge,
                                                   kind, key_id, fields, &error);
  sign_built_payload (self, payload, error, bb_identity_real_sign_create_invite_async, cancellable,
                      callback, user_data);
}

static void
bb_identity_real_sign_join_request_async (BbIdentity *self, const char *namespace_id,
                                          const char *invite_id, const char *server_origin,
                                          gint64 expires_at, GCancellable *cancellable,
                                          GAsyncReadyCallback callback, gpointer user_data)
{
  g_autofree char *kind = NULL;
  g_autofree char *key_id = NULL;
  g_autoptr (GBytes) auth = NULL;
  g_autoptr (GBytes) wrap = NULL;
  g_autoptr (GBytes) payload = NULL;
  GError *error = NULL;

  if (get_public_material (self, &kind, &key_id, &auth, &wrap, &error))
    payload = bb_protocol_join_request_payload (namespace_id, invite_id, server_origin, kind,
                                                key_id, auth, wrap, expires_at, &error);
  sign_built_payload (self, payload, error, bb_identity_real_sign_join_request_async, cancellable,
                      callback, user_data);
}

static void
return_unsupported (BbIdentity *self, gpointer source_tag, const char *what,
                    GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, NULL, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  g_task_return_new_error (task, BB_SYNC_ERROR, BB_SYNC_ERROR_UNSUPPORTED,
                           _ ("This identity does not support %s"), what);
}

static void
bb_identity_real_attest_async (BbIdentity *self, GBytes *challenge, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  return_unsupported (self, bb_identity_real_attest_async, "attestation", callback, user_data);
}

static void
bb_identity_real_unwrap_dek_async (BbIdentity *self, const char *namespace_id, GBytes *wrapped_dek,
                                   GCancellable *cancellable, GAsyncReadyCallback callback,
                                   gpointer user_data)
{
  return_unsupported (self, bb_identity_real_unwrap_dek_async, "unwrapping DEKs", callback,
                      user_data);
}

static void
bb_identity_default_init (BbIdentityInterface *iface)
{
  iface->get_kind = bb_identity_real_get_kind;
  iface->get_key_id = bb_identity_real_get_key_id;
  iface->sign_login_async = bb_identity_real_sign_login_async;
  iface->sign_login_finish = bb_identity_real_finish;
  iface->sign_refresh_async = bb_identity_real_sign_refresh_async;
  iface->sign_refresh_finish = bb_identity_real_finish;
  iface->sign_revoke_all_tokens_async = bb_identity_real_sign_revoke_all_tokens_async;
  iface->sign_revoke_all_tokens_finish = bb_identity_real_finish;
  iface->sign_create_invite_async = bb_identity_real_sign_create_invite_async;
  iface->sign_create_invite_finish = bb_identity_real_finish;
  iface->sign_join_request_async = bb_identity_real_sign_join_request_async;
  iface->sign_join_request_finish = bb_identity_real_finish;
  iface->attest_async = bb_identity_real_attest_async;
  iface->attest_finish = bb_identity_real_finish;
  iface->unwrap_dek_async = bb_identity_real_unwrap_dek_async;
  iface->unwrap_dek_finish = bb_identity_real_finish;
}

/* Checks what an implementation handed back: a finish that returns NULL must set an
 * error, and the result must have the size the protocol needs. */
static GBytes *
check_result (GBytes *bytes, GError *local_error, gsize expected_len, const char *what,
              GError **error)
{
  if (bytes == NULL)
    {
      if (local_error == NULL)
        local_error = g_error_new (BB_SYNC_ERROR, BB_SYNC_ERROR_FAILED,
                                   _ ("The identity returned no %s"), what);
      g_propagate_error (error, local_error);
      return NULL;
    }
  g_clear_error (&local_error);
  if (expected_len != 0 && g_bytes_get_size (bytes) != expected_len)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_CRYPTO,
                   _ ("%s: expected %zu bytes from the identity, got %zu"), what, expected_len,
                   g_bytes_get_size (bytes));
      g_bytes_unref (bytes);
      return NULL;
    }
  return bytes;
}

/**
 * bb_identity_get_kind:
 * @self: a [iface@BbSync.Identity]
 *
 * Gets the identity kind the identity signs in as: %BB_PROTOCOL_KIND_KEYSTORE for every
 * identity of protocol v1.
 *
 * Returns: (transfer full): the identity kind, `keystore`
 *
 * Since: 0.1
 */
char *
bb_identity_get_kind (BbIdentity *self)
{
  g_return_val_if_fail (BB_IS_IDENTITY (self), NULL);

  return BB_IDENTITY_GET_IFACE (self)->get_kind (self);
}

/**
 * bb_identity_get_auth_public_key:
 * @self: a [iface@BbSync.Identity]
 *
 * Gets the identity's Ed25519 auth public key, %BB_PROTOCOL_PUBLIC_KEY_SIZE bytes. It
 * verifies the identity's signatures and its SHA-256 is the key ID.
 *
 * Returns: (transfer full) (nullable): the 32-byte Ed25519 public key, or %NULL if
 *   the implementation does not provide one
 *
 * Since: 0.1
 */
GBytes *
bb_identity_get_auth_public_key (BbIdentity *self)
{
  BbIdentityInterface *iface;

  g_return_val_if_fail (BB_IS_IDENTITY (self), NULL);

  iface = BB_IDENTITY_GET_IFACE (self);
  g_return_val_if_fail (iface->get_auth_public_key != NULL, NULL);
  return iface->get_auth_public_key (self);
}

/**
 * bb_identity_get_wrap_public_key:
 * @self: a [iface@BbSync.Identity]
 *
 * Gets the identity's X25519 wrap public key, %BB_PROTOCOL_PUBLIC_KEY_SIZE bytes, to
 * which members wrap namespace keys for this identity.
 *
 * Returns: (transfer full) (nullable): the 32-byte X25519 public key, or %NULL if
 *   the implementation does not provide one
 *
 * Since: 0.1
 */
GBytes *
bb_identity_get_wrap_public_key (BbIdentity *self)
{
  BbIdentityInterface *iface;

  g_return_val_if_fail (BB_IS_IDENTITY (self), NULL);

  iface = BB_IDENTITY_GET_IFACE (self);
  g_return_val_if_fail (iface->get_wrap_public_key != NULL, NULL);
  return iface->get_wrap_public_key (self);
}

/**
 * bb_identity_get_key_id:
 * @self: a [iface@BbSync.Identity]
 *
 * Gets the identity's key ID, which names it to the server and to other members.
 *
 * Returns: (transfer full) (nullable): the key ID, the SHA-256 of the auth public key as
 *   lower-case hex
 *
 * Since: 0.1
 */
char *
bb_identity_get_key_id (BbIdentity *self)
{
  g_return_val_if_fail (BB_IS_IDENTITY (self), NULL);

  return BB_IDENTITY_GET_IFACE (self)->get_key_id (self);
}

/**
 * bb_identity_sign_login_async:
 * @self: a [iface@BbSync.Identity]
 * @challenge: the 32 raw challenge bytes
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the signature is ready
 * @user_data: data for @callback
 *
 * Signs the login intent for @challenge (a hardware keystore shows "BitBoxSync login").
 *
 * Since: 0.1
 */
void
bb_identity_sign_login_async (BbIdentity *self, GBytes *challenge, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (BB_IS_IDENTITY (self));
  g_return_if_fail (challenge != NULL);

  BB_IDENTITY_GET_IFACE (self)->sign_login_async (self, challenge, cancellable, callback,
                                                  user_data);
}

/**
 * bb_identity_sign_login_finish:
 * @self: a [iface@BbSync.Identity]
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Identity.sign_login_async]. The signature goes with the login
 * request as its intent signature.
 *
 * Returns: (transfer full): the 64-byte Ed25519 signature, or %NULL on error
 *
 * Since: 0.1
 */
GBytes *
bb_identity_sign_login_finish (BbIdentity *self, GAsyncResult *result, GError **error)
{
  GError *local_error = NULL;
  GBytes *bytes;

  g_return_val_if_fail (BB_IS_IDENTITY (self), NULL);

  bytes = BB_IDENTITY_GET_IFACE (self)->sign_login_finish (self, result, &local_error);
  return check_result (bytes, local_error, BB_PROTOCOL_SIGNATURE_SIZE, "signature", error);
}

/**
 * bb_identity_sign_refresh_async:
 * @self: a [iface@BbSync.Identity]
 * @challenge: the 32 raw challenge bytes
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the signature is ready
 * @user_data: data for @callback
 *
 * Signs the refresh intent for @challenge.
 *
 * Since: 0.1
 */
void
bb_identity_sign_refresh_async (BbIdentity *self, GBytes *challenge, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (BB_IS_IDENTITY (self));
  g_return_if_fail (challenge != NULL);

  BB_IDENTITY_GET_IFACE (self)->sign_refresh_async (self, challenge, cancellable, callback,
                                                    user_data);
}

/**
 * bb_identity_sign_refresh_finish:
 * @self: a [iface@BbSync.Identity]
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Identity.sign_refresh_async]. The signature goes with the
 * refresh request as its intent signature.
 *
 * Returns: (transfer full): the 64-byte Ed25519 signature, or %NULL on error
 *
 * Since: 0.1
 */
GBytes *
bb_identity_sign_refresh_finish (BbIdentity *self, GAsyncResult *result, GError **error)
{
  GError *local_error = NULL;
  GBytes *bytes;

  g_return_val_if_fail (BB_IS_IDENTITY (self), NULL);

  bytes = BB_IDENTITY_GET_IFACE (self)->sign_refresh_finish (self, result, &local_error);
  return check_result (bytes, local_error, BB_PROTOCOL_SIGNATURE_SIZE, "signature", error);
}

/**
 * bb_identity_sign_revoke_all_tokens_async:
 * @self: a [iface@BbSync.Identity]
 * @challenge: the 32 raw bytes of a sensitive-action challenge
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the signature is ready
 * @user_data: data for @callback
 *
 * Signs the sensitive-action intent that revokes every token of this identity.
 *
 * Since: 0.1
 */
void
bb_identity_sign_revoke_all_tokens_async (BbIdentity *self, GBytes *challenge,
                                          GCancellable *cancellable, GAsyncReadyCallback callback,
                                          gpointer user_data)
{
  g_return_if_fail (BB_IS_IDENTITY (self));
  g_return_if_fail (challenge != NULL);

  BB_IDENTITY_GET_IFACE (self)->sign_revoke_all_tokens_async (self, challenge, cancellable,
                                                              callback, user_data);
}

/**
 * bb_identity_sign_revoke_all_tokens_finish:
 * @self: a [iface@BbSync.Identity]
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Identity.sign_revoke_all_tokens_async]. The signature
 * authorises the revocation of every token of the identity.
 *
 * Returns: (transfer full): the 64-byte Ed25519 signature, or %NULL on error
 *
 * Since: 0.1
 */
GBytes *
bb_identity_sign_revoke_all_tokens_finish (BbIdentity *self, GAsyncResult *result, GError **error)
{
  GError *local_error = NULL;
  GBytes *bytes;

  g_return_val_if_fail (BB_IS_IDENTITY (self), NULL);

  bytes = BB_IDENTITY_GET_IFACE (self)->sign_revoke_all_tokens_finish (self, result, &local_error);
  return check_result (bytes, local_error, BB_PROTOCOL_SIGNATURE_SIZE, "signature", error);
}

/**
 * bb_identity_sign_create_invite_async:
 * @self: a [iface@BbSync.Identity]
 * @challenge: the 32 raw bytes of a sensitive-action challenge
 * @namespace_id: the shared namespace (lower-case hex)
 * @invite_id: the new invite's ID (lower-case hex)
 * @invite_server_secret_hash: the 32-byte SHA-256 of the invite server secret
 * @expires_at: the invite expiry, Unix seconds
 * @max_pending: the pending-request limit, or 0 for the variant without one (what the
 *   BitBox02 firmware signs)
 * @max_accepted: how many requests the invite may admit
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the signature is ready
 * @user_data: data for @callback
 *
 * Signs the create-namespace-invite intent (a hardware keystore shows the namespace
 * and invite fingerprints, the expiry and the limits).
 *
 * Since: 0.1
 */
void
bb_identity_sign_create_invite_async (BbIdentity *self, GBytes *challenge, const char *namespace_id,
                                      const char *invite_id, GBytes *invite_server_secret_hash,
                                      gint64 expires_at, guint max_pending, guint max_accepted,
                                      GCancellable *cancellable, GAsyncReadyCallback callback,
                                      gpointer user_data)
{
  g_return_if_fail (BB_IS_IDENTITY (self));
  g_return_if_fail (challenge != NULL);
  g_return_if_fail (namespace_id != NULL);
  g_return_if_fail (invite_id != NULL);
  g_return_if_fail (invite_server_secret_hash != NULL);

  BB_IDENTITY_GET_IFACE (self)->sign_create_invite_async (
      self, challenge, namespace_id, invite_id, invite_server_secret_hash, expires_at, max_pending,
      max_accepted, cancellable, callback, user_data);
}

/**
 * bb_identity_sign_create_invite_finish:
 * @self: a [iface@BbSync.Identity]
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Identity.sign_create_invite_async]. The signature authorises
 * the server to create the invite with exactly the signed fields.
 *
 * Returns: (transfer full): the 64-byte Ed25519 signature, or %NULL on error
 *
 * Since: 0.1
 */
GBytes *
bb_identity_sign_create_invite_finish (BbIdentity *self, GAsyncResult *result, GError **error)
{
  GError *local_error = NULL;
  GBytes *bytes;

  g_return_val_if_fail (BB_IS_IDENTITY (self), NULL);

  bytes = BB_IDENTITY_GET_IFACE (self)->sign_create_invite_finish (self, result, &local_error);
  return check_result (bytes, local_error, BB_PROTOCOL_SIGNATURE_SIZE, "signature", error);
}

/**
 * bb_identity_sign_join_request_async:
 * @self: a [iface@BbSync.Identity]
 * @namespace_id: the namespace to join (lower-case hex)
 * @invite_id: the invite (lower-case hex)
 * @server_origin: the canonical server origin of the invite
 * @expires_at: the request expiry, Unix seconds
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the signature is ready
 * @user_data: data for @callback
 *
 * Signs a join-request payload (a hardware keystore shows the origin, the namespace
 * and invite fingerprints and the expiry).
 *
 * Since: 0.1
 */
void
bb_identity_sign_join_request_async (BbIdentity *self, const char *namespace_id,
                                     const char *invite_id, const char *server_origin,
                                     gint64 expires_at, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (BB_IS_IDENTITY (self));
  g_return_if_fail (namespace_id != NULL);
  g_return_if_fail (invite_id != NULL);
  g_return_if_fail (server_origin != NULL);

  BB_IDENTITY_GET_IFACE (self)->sign_join_request_async (
      self, namespace_id, invite_id, server_origin, expires_at, cancellable, callback, user_data);
}

/**
 * bb_identity_sign_join_request_finish:
 * @self: a [iface@BbSync.Identity]
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Identity.sign_join_request_async]. The signature goes into the
 * join request, where members verify it before approving.
 *
 * Returns: (transfer full): the 64-byte Ed25519 signature, or %NULL on error
 *
 * Since: 0.1
 */
GBytes *
bb_identity_sign_join_request_finish (BbIdentity *self, GAsyncResult *result, GError **error)
{
  GError *local_error = NULL;
  GBytes *bytes;

  g_return_val_if_fail (BB_IS_IDENTITY (self), NULL);

  bytes = BB_IDENTITY_GET_IFACE (self)->sign_join_request_finish (self, result, &local_error);
  return check_result (bytes, local_error, BB_PROTOCOL_SIGNATURE_SIZE, "signature", error);
}

/**
 * bb_identity_attest_async:
 * @self: a [iface@BbSync.Identity]
 * @challenge: the 32 raw challenge bytes
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the attestation is ready
 * @user_data: data for @callback
 *
 * Produces the attestation a server asks for with the `attestation` spam control.
 * Identities that cannot attest fail with %BB_SYNC_ERROR_UNSUPPORTED.
 *
 * Since: 0.1
 */
void
bb_identity_attest_async (BbIdentity *self, GBytes *challenge, GCancellable *cancellable,
                          GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (BB_IS_IDENTITY (self));
  g_return_if_fail (challenge != NULL);

  BB_IDENTITY_GET_IFACE (self)->attest_async (self, challenge, cancellable, callback, user_data);
}

/**
 * bb_identity_attest_finish:
 * @self: a [iface@BbSync.Identity]
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Identity.attest_async]. An identity that cannot attest fails
 * with %BB_SYNC_ERROR_UNSUPPORTED.
 *
 * Returns: (transfer full): the attestation bytes, or %NULL on error
 *
 * Since: 0.1
 */
GBytes *
bb_identity_attest_finish (BbIdentity *self, GAsyncResult *result, GError **error)
{
  GError *local_error = NULL;
  GBytes *bytes;

  g_return_val_if_fail (BB_IS_IDENTITY (self), NULL);

  bytes = BB_IDENTITY_GET_IFACE (self)->attest_finish (self, result, &local_error);
  return check_result (bytes, local_error, 0, "attestation", error);
}

/**
 * bb_identity_unwrap_dek_async:
 * @self: a [iface@BbSync.Identity]
 * @namespace_id: the namespace the DEK belongs to (lower-case hex)
 * @wrapped_dek: the 97-byte wrapped DEK
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the DEK is ready
 * @user_data: data for @callback
 *
 * Unwraps a namespace DEK wrapped to this identity's wrap key. A DEK wrapped for
 * another namespace fails with %BB_SYNC_ERROR_CRYPTO.
 *
 * Since: 0.1
 */
void
bb_identity_unwrap_dek_async (BbIdentity *self, const char *namespace_id, GBytes *wrapped_dek,
                              GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer user_data)
{
  g_return_if_fail (BB_IS_IDENTITY (self));
  g_return_if_fail (namespace_id != NULL);
  g_return_if_fail (wrapped_dek != NULL);

  BB_IDENTITY_GET_IFACE (self)->unwrap_dek_async (self, namespace_id, wrapped_dek, cancellable,
                                                  callback, user_data);
}

/**
 * bb_identity_unwrap_dek_finish:
 * @self: a [iface@BbSync.Identity]
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Identity.unwrap_dek_async]. A key wrapped for another
 * namespace fails with %BB_SYNC_ERROR_CRYPTO.
 *
 * Returns: (transfer full): the 32-byte DEK (a secret: wipe it when done), or %NULL on
 *   error
 *
 * Since: 0.1
 */
GBytes *
bb_identity_unwrap_dek_finish (BbIdentity *self, GAsyncResult *result, GError **error)
{
  GError *local_error = NULL;
  GBytes *bytes;

  g_return_val_if_fail (BB_IS_IDENTITY (self), NULL);

  bytes = BB_IDENTITY_GET_IFACE (self)->unwrap_dek_finish (self, result, &local_error);
  return check_result (bytes, local_error, BB_PROTOCOL_DEK_SIZE, "dek", error);
}

/* bb_identity_build_join_request_async: sign, then add the invite proof. */

typedef struct
{
  BbInvite *invite;
  gint64 expires_at;
} BuildJoinData;

static void
build_join_data_free (BuildJoinData *data)
{
  g_clear_pointer (&data->invite, bb_invite_unref);
  g_free (data);
}

static void
build_join_signed_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  BbIdentity *self = BB_IDENTITY (source);
  BuildJoinData *data = g_task_get_task_data (task);
  g_autoptr (GBytes) signature = NULL;
  g_autofree char *kind = NULL;
  g_autofree char *key_id = NULL;
  g_autoptr (GBytes) auth = NULL;
  g_autoptr (GBytes) wrap = NULL;
  g_autoptr (GBytes) payload = NULL;
  g_autoptr (GBytes) proof = NULL;
  g_autoptr (BbJoinRequest) request = NULL;
  GError *error = NULL;

  signature = bb_identity_sign_join_request_finish (self, result, &error);
  if (signature == NULL || !get_public_material (self, &kind, &key_id, &auth, &wrap, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  /* The identity built and signed the payload itself; rebuild it here from the same
   * fields for the invite proof, and check the signature covers exactly these bytes so
   * a confused implementation fails here rather than at the approver. */
  payload = bb_protocol_join_request_payload (bb_invite_get_namespace_id (data->invite),
                                              bb_invite_get_invite_id (data->invite),
                                              bb_invite_get_server_origin (data->invite), kind,
                                              key_id, auth, wrap, data->expires_at, &error);
  if (payload == NULL || !bb_protocol_verify_signature (auth, payload, signature, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  proof = bb_protocol_invite_proof (bb_invite_get_secret (data->invite), payload, &error);
  if (proof == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  request = bb_join_request_new ();
  request->msg.version = 1;
  request->msg.namespace_id = g_strdup (bb_invite_get_namespace_id (data->invite));
  request->msg.invite_id = g_strdup (bb_invite_get_invite_id (data->invite));
  request->msg.server_origin = g_strdup (bb_invite_get_server_origin (data->invite));
  request->msg.kind = g_steal_pointer (&kind);
  request->msg.key_id = g_steal_pointer (&key_id);
  request->msg.auth_public_key = bb_protocol_hex_encode (auth);
  request->msg.wrap_public_key = bb_protocol_hex_encode (wrap);
  request->msg.expires_at = data->expires_at;
  request->msg.signature = bb_protocol_hex_encode (signature);
  request->msg.invite_proof = bb_protocol_base64url_encode (proof);
  g_task_return_pointer (task, g_steal_pointer (&request), (GDestroyNotify)bb_join_request_unref);
}

/**
 * bb_identity_build_join_request_async:
 * @self: a [iface@BbSync.Identity]
 * @invite: the invite the request goes through
 * @expires_at: the request expiry, Unix seconds (the caller applies the protocol's
 *   limits: after now, at most ten minutes ahead and not after the invite)
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the request is ready
 * @user_data: data for @callback
 *
 * Builds a signed join request for @invite: the identity signs the join-request
 * payload, and the invite proof is computed from the invite secret. Send the result
 * with [method@BbSync.Client.submit_join_request_async].
 *
 * Since: 0.1
 */
void
bb_identity_build_join_request_async (BbIdentity *self, BbInvite *invite, gint64 expires_at,
                                      GCancellable *cancellable, GAsyncReadyCallback callback,
                                      gpointer user_data)
{
  GTask *task;
  BuildJoinData *data;

  g_return_if_fail (BB_IS_IDENTITY (self));
  g_return_if_fail (invite != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, bb_identity_build_join_request_async);
  data = g_new0 (BuildJoinData, 1);
  data->invite = bb_invite_ref (invite);
  data->expires_at = expires_at;
  g_task_set_task_data (task, data, (GDestroyNotify)build_join_data_free);

  bb_identity_sign_join_request_async (
      self, bb_invite_get_namespace_id (invite), bb_invite_get_invite_id (invite),
      bb_invite_get_server_origin (invite), expires_at, cancellable, build_join_signed_cb, task);
}

/**
 * bb_identity_build_join_request_finish:
 * @self: a [iface@BbSync.Identity]
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Identity.build_join_request_async].
 *
 * Returns: (transfer full): the signed join request, or %NULL on error
 *
 * Since: 0.1
 */
BbJoinRequest *
bb_identity_build_join_request_finish (BbIdentity *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (BB_IS_IDENTITY (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (
      g_task_get_source_tag (G_TASK (result)) == bb_identity_build_join_request_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
