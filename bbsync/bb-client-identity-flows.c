/* bb-client-identity-flows.c: login, refresh, revoke-all-tokens and create-invite in one
 * call with a BbIdentity: challenge, signature, attestation when asked for, then the
 * endpoint. Apart from the endpoints because it only chains them and sends nothing itself
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-i18n-private.h"

#include "bb-client-private.h"
#include "bb-protocol-types-private.h"
#include "bb-error.h"
#include "bb-invite-private.h"
#include "bb-protocol.h"

typedef struct _Flow Flow;

/* What sets one flow apart from the others: its challenge, how the identity signs it,
 * and the endpoint that sends the signed intent. A flow with an action is a sensitive
 * action, which cannot carry an attestation. */
typedef struct
{
  const char *purpose;
  const char *action; /* nullable */
  void (*sign) (Flow *flow, GCancellable *cancellable, GAsyncReadyCallback callback,
                gpointer user_data);
  GBytes *(*sign_finish) (BbIdentity *identity, GAsyncResult *result, GError **error);
  void (*send) (BbClient *self, Flow *flow, GCancellable *cancellable, GAsyncReadyCallback callback,
                gpointer user_data);
  /* Finishes the endpoint's call and ends @task with its result. */
  void (*sent) (BbClient *self, GAsyncResult *result, GTask *task);
} FlowClass;

struct _Flow
{
  const FlowClass *klass;
  BbIdentity *identity;
  char *identity_kind;
  char *key_id;
  GBytes *auth_public_key;
  GBytes *wrap_public_key;
  BbChallenge *challenge;
  GBytes *signature;
  GBytes *attestation;
  /* create invite */
  BbInvite *invite;
  GBytes *server_secret_hash;
  guint max_pending;
  guint max_accepted;
};

static void
flow_free (Flow *flow)
{
  g_clear_object (&flow->identity);
  g_free (flow->identity_kind);
  g_free (flow->key_id);
  g_clear_pointer (&flow->auth_public_key, g_bytes_unref);
  g_clear_pointer (&flow->wrap_public_key, g_bytes_unref);
  g_clear_pointer (&flow->challenge, bb_challenge_unref);
  g_clear_pointer (&flow->signature, g_bytes_unref);
  g_clear_pointer (&flow->attestation, g_bytes_unref);
  g_clear_pointer (&flow->invite, bb_invite_unref);
  g_clear_pointer (&flow->server_secret_hash, g_bytes_unref);
  g_free (flow);
}

static void flow_challenge_cb (GObject *source, GAsyncResult *result, gpointer user_data);
static void flow_signed_cb (GObject *source, GAsyncResult *result, gpointer user_data);
static void flow_attested_cb (GObject *source, GAsyncResult *result, gpointer user_data);
static void flow_sent_cb (GObject *source, GAsyncResult *result, gpointer user_data);

/* Starts a flow: reads the identity's public material, then asks for the challenge. */
static void
flow_start (BbClient *self, Flow *flow, gpointer source_tag, const char *action_fields_hash,
            GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, flow, (GDestroyNotify)flow_free);

  flow->identity_kind = bb_identity_get_kind (flow->identity);
  flow->key_id = bb_identity_get_key_id (flow->identity);
  flow->auth_public_key = bb_identity_get_auth_public_key (flow->identity);
  flow->wrap_public_key = bb_identity_get_wrap_public_key (flow->identity);
  if (flow->identity_kind == NULL || flow->key_id == NULL || flow->auth_public_key == NULL
      || flow->wrap_public_key == NULL)
    {
      g_task_return_new_error (task, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                               _ ("identity: kind, key ID and public keys are required"));
      return;
    }

  bb_client_request_challenge_async (self, flow->klass->purpose, flow->klass->action,
                                     action_fields_hash, cancellable, flow_challenge_cb,
                                     g_steal_pointer (&task));
}

static void
flow_challenge_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Flow *flow = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  GError *error = NULL;

  flow->challenge = bb_client_request_challenge_finish (BB_CLIENT (source), result, &error);
  if (flow->challenge == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  /* Sensitive actions cannot carry an attestation, so any spam control but none is a
   * dead end (the reference client refuses it too). */
  if (flow->klass->action != NULL
      && g_strcmp0 (flow->challenge->spam_control_kind, BB_PROTOCOL_SPAM_CONTROL_NONE) != 0)
    {
      g_task_return_new_error (
          task, BB_SYNC_ERROR, BB_SYNC_ERROR_UNSUPPORTED,
          _ ("spamControl: unsupported spam control kind “%s” for a sensitive action"),
          flow->challenge->spam_control_kind);
      return;
    }

  flow->klass->sign (flow, cancellable, flow_signed_cb, g_steal_pointer (&task));
}

static void
flow_send (GTask *task)
{
  Flow *flow = g_task_get_task_data (task);

  flow->klass->send (g_task_get_source_object (task), flow, g_task_get_cancellable (task),
                     flow_sent_cb, task);
}

static void
flow_signed_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Flow *flow = g_task_get_task_data (task);
  GError *error = NULL;

  flow->signature = flow->klass->sign_finish (flow->identity, result, &error);
  if (flow->signature == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  /* Login and refresh attach an attestation only when the server asks for one; any
   * other kind, even an unknown one, means none. */
  if (flow->klass->action == NULL
      && g_strcmp0 (flow->challenge->spam_control_kind, BB_PROTOCOL_SPAM_CONTROL_ATTEST) == 0)
    {
      GCancellable *cancellable = g_task_get_cancellable (task);

      /* Not in the call: its arguments are evaluated in no set order, and the task
       * must be read before it is stolen. */
      bb_identity_attest_async (flow->identity, flow->challenge->bytes, cancellable,
                                flow_attested_cb, g_steal_pointer (&task));
      return;
    }
  flow_send (g_steal_pointer (&task));
}

static void
flow_attested_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Flow *flow = g_task_get_task_data (task);
  GError *error = NULL;

  flow->attestation = bb_identity_attest_finish (flow->identity, result, &error);
  if (flow->attestation == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  flow_send (g_steal_pointer (&task));
}

static void
flow_sent_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Flow *flow = g_task_get_task_data (task);

  flow->klass->sent (BB_CLIENT (source), result, task);
}

/* Ends @task with @value (taken, freed with @value_free), or with @error (taken) when
 * @value is NULL. */
static void
flow_return (GTask *task, gpointer value, GDestroyNotify value_free, GError *error)
{
  if (value == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, value, value_free);
}

/* --- login --- */

static void
login_sign (Flow *flow, GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  bb_identity_sign_login_async (flow->identity, flow->challenge->bytes, cancellable, callback,
                                user_data);
}

static void
login_send (BbClient *self, Flow *flow, GCancellable *cancellable, GAsyncReadyCallback callback,
            gpointer user_data)
{
  bb_client_login_async (self, flow->identity_kind, flow->key_id, flow->auth_public_key,
                         flow->wrap_public_key, flow->challenge, flow->signature, flow->attestation,
                         cancellable, callback, user_data);
}

static void
login_sent (BbClient *self, GAsyncResult *result, GTask *task)
{
  GError *error = NULL;
  BbLoginResult *login = bb_client_login_finish (self, result, &error);

  flow_return (task, login, (GDestroyNotify)bb_login_result_unref, error);
}

static const FlowClass login_flow = {
  .purpose = BB_PROTOCOL_PURPOSE_LOGIN,
  .sign = login_sign,
  .sign_finish = bb_identity_sign_login_finish,
  .send = login_send,
  .sent = login_sent,
};

/* --- refresh --- */

static void
refresh_sign (Flow *flow, GCancellable *cancellable, GAsyncReadyCallback callback,
              gpointer user_data)
{
  bb_identity_sign_refresh_async (flow->identity, flow->challenge->bytes, cancellable, callback,
                                  user_data);
}

static void
refresh_send (BbClient *self, Flow *flow, GCancellable *cancellable, GAsyncReadyCallback callback,
              gpointer user_data)
{
  bb_client_refresh_async (self, flow->identity_kind, flow->key_id, flow->challenge,
                           flow->signature, flow->attestation, cancellable, callback, user_data);
}

static void
refresh_sent (BbClient *self, GAsyncResult *result, GTask *task)
{
  GError *error = NULL;
  BbLoginResult *login = bb_client_refresh_finish (self, result, &error);

  flow_return (task, login, (GDestroyNotify)bb_login_result_unref, error);
}

static const FlowClass refresh_flow = {
  .purpose = BB_PROTOCOL_PURPOSE_REFRESH,
  .sign = refresh_sign,
  .sign_finish = bb_identity_sign_refresh_finish,
  .send = refresh_send,
  .sent = refresh_sent,
};

/* --- revoke all tokens --- */

static void
revoke_all_sign (Flow *flow, GCancellable *cancellable, GAsyncReadyCallback callback,
                 gpointer user_data)
{
  bb_identity_sign_revoke_all_tokens_async (flow->identity, flow->challenge->bytes, cancellable,
                                            callback, user_data);
}

static void
revoke_all_send (BbClient *self, Flow *flow, GCancellable *cancellable,
                 GAsyncReadyCallback callback, gpointer user_data)
{
  bb_client_revoke_all_tokens_async (self, flow->identity_kind, flow->key_id, flow->challenge,
                                     flow->signature, cancellable, callback, user_data);
}

static void
revoke_all_sent (BbClient *self, GAsyncResult *result, GTask *task)
{
  GError *error = NULL;

  if (bb_client_revoke_all_tokens_finish (self, result, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static const FlowClass revoke_all_flow = {
  .purpose = BB_PROTOCOL_PURPOSE_SENSITIVE,
  .action = BB_PROTOCOL_ACTION_REVOKE_ALL,
  .sign = revoke_all_sign,
  .sign_finish = bb_identity_sign_revoke_all_tokens_finish,
  .send = revoke_all_send,
  .sent = revoke_all_sent,
};

/* --- create invite --- */

static void
create_invite_sign (Flow *flow, GCancellable *cancellable, GAsyncReadyCallback callback,
                    gpointer user_data)
{
  bb_identity_sign_create_invite_async (
      flow->identity, flow->challenge->bytes, bb_invite_get_namespace_id (flow->invite),
      bb_invite_get_invite_id (flow->invite), flow->server_secret_hash,
      bb_invite_get_expires_at (flow->invite), flow->max_pending, flow->max_accepted, cancellable,
      callback, user_data);
}

static void
create_invite_send (BbClient *self, Flow *flow, GCancellable *cancellable,
                    GAsyncReadyCallback callback, gpointer user_data)
{
  bb_client_create_invite_async (
      self, bb_invite_get_namespace_id (flow->invite), flow->identity_kind, flow->key_id,
      bb_invite_get_invite_id (flow->invite), flow->server_secret_hash, flow->challenge,
      flow->signature, bb_invite_get_expires_at (flow->invite), flow->max_pending,
      flow->max_accepted, cancellable, callback, user_data);
}

static void
create_invite_sent (BbClient *self, GAsyncResult *result, GTask *task)
{
  GError *error = NULL;
  BbInviteListing *info = bb_client_create_invite_finish (self, result, &error);

  flow_return (task, info, (GDestroyNotify)bb_invite_listing_unref, error);
}

static const FlowClass create_invite_flow = {
  .purpose = BB_PROTOCOL_PURPOSE_SENSITIVE,
  .action = BB_PROTOCOL_ACTION_CREATE_INVITE,
  .sign = create_invite_sign,
  .sign_finish = bb_identity_sign_create_invite_finish,
  .send = create_invite_send,
  .sent = create_invite_sent,
};

/**
 * bb_client_login_with_identity_async:
 * @self: a [class@BbSync.Client]
 * @identity: the identity to log in with
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the login completes
 * @user_data: data for @callback
 *
 * Logs in with @identity in one call: asks for a `login` challenge, has the identity
 * sign the login intent (and attest, if the server asks for it), and logs in. On
 * success the new token becomes [property@BbSync.Client:access-token].
 *
 * Since: 0.1
 */
void
bb_client_login_with_identity_async (BbClient *self, BbIdentity *identity,
                                     GCancellable *cancellable, GAsyncReadyCallback callback,
                                     gpointer user_data)
{
  Flow *flow;

  g_return_if_fail (BB_IS_CLIENT (self));
  g_return_if_fail (BB_IS_IDENTITY (identity));

  flow = g_new0 (Flow, 1);
  flow->klass = &login_flow;
  flow->identity = g_object_ref (identity);
  flow_start (self, flow, bb_client_login_with_identity_async, NULL, cancellable, callback,
              user_data);
}

/**
 * bb_client_login_with_identity_finish:
 * @self: a [class@BbSync.Client]
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Client.login_with_identity_async]. On success the new token is
 * already [property@BbSync.Client:access-token].
 *
 * Errors: %BB_SYNC_ERROR_INVALID_INPUT when the identity has no kind, key ID or public keys;
 * any error of the identity's signature (or attestation) passes through, and a signature of the
 * wrong size is %BB_SYNC_ERROR_CRYPTO; then the errors of the endpoints it calls: those of
 * [method@BbSync.Client.request_challenge_finish] and [method@BbSync.Client.login_finish],
 * %G_IO_ERROR_CANCELLED among them.
 *
 * Returns: (transfer full): the token, its expiry and the default namespace, or %NULL
 *   on error
 *
 * Since: 0.1
 */
BbLoginResult *
bb_client_login_with_identity_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return bb_client_request_finish (self, result, bb_client_login_with_identity_async, G_STRFUNC,
                                   error);
}

/**
 * bb_client_refresh_with_identity_async:
 * @self: a [class@BbSync.Client]
 * @identity: the identity the current token belongs to
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the refresh completes
 * @user_data: data for @callback
 *
 * Refreshes the current token with @identity in one call (challenge, signature,
 * attestation if asked for, refresh).
 *
 * Since: 0.1
 */
void
bb_client_refresh_with_identity_async (BbClient *self, BbIdentity *identity,
                                       GCancellable *cancellable, GAsyncReadyCallback callback,
                                       gpointer user_data)
{
  Flow *flow;

  g_return_if_fail (BB_IS_CLIENT (self));
  g_return_if_fail (BB_IS_IDENTITY (identity));

  flow = g_new0 (Flow, 1);
  flow->klass = &refresh_flow;
  flow->identity = g_object_ref (identity);
  flow_start (self, flow, bb_client_refresh_with_identity_async, NULL, cancellable, callback,
              user_data);
}

/**
 * bb_client_refresh_with_identity_finish:
 * @self: a [class@BbSync.Client]
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Client.refresh_with_identity_async]. On success the new token is
 * already [property@BbSync.Client:access-token]; the result names no default namespace.
 *
 * Errors: %BB_SYNC_ERROR_INVALID_INPUT when the identity has no kind, key ID or public keys;
 * any error of the identity's signature (or attestation) passes through, and a signature of the
 * wrong size is %BB_SYNC_ERROR_CRYPTO; then the errors of the endpoints it calls: those of
 * [method@BbSync.Client.request_challenge_finish] and [method@BbSync.Client.refresh_finish],
 * %G_IO_ERROR_CANCELLED among them.
 *
 * Returns: (transfer full): the new token and its expiry, or %NULL on error
 *
 * Since: 0.1
 */
BbLoginResult *
bb_client_refresh_with_identity_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return bb_client_request_finish (self, result, bb_client_refresh_with_identity_async, G_STRFUNC,
                                   error);
}

/**
 * bb_client_revoke_all_tokens_with_identity_async:
 * @self: a [class@BbSync.Client]
 * @identity: the identity whose tokens to revoke
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the revocation completes
 * @user_data: data for @callback
 *
 * Revokes every token of @identity in one call: a sensitive-action challenge for
 * `revoke-all-tokens`, the identity's signature, and the revocation.
 *
 * Since: 0.1
 */
void
bb_client_revoke_all_tokens_with_identity_async (BbClient *self, BbIdentity *identity,
                                                 GCancellable *cancellable,
                                                 GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GBytes) no_fields = g_bytes_new (NULL, 0);
  g_autofree char *fields_hash = bb_protocol_action_fields_hash (no_fields);
  Flow *flow;

  g_return_if_fail (BB_IS_CLIENT (self));
  g_return_if_fail (BB_IS_IDENTITY (identity));

  flow = g_new0 (Flow, 1);
  flow->klass = &revoke_all_flow;
  flow->identity = g_object_ref (identity);
  flow_start (self, flow, bb_client_revoke_all_tokens_with_identity_async, fields_hash, cancellable,
              callback, user_data);
}

/**
 * bb_client_revoke_all_tokens_with_identity_finish:
 * @self: a [class@BbSync.Client]
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Client.revoke_all_tokens_with_identity_async]. On success every token
 * of the identity is revoked and [property@BbSync.Client:access-token] has been cleared.
 *
 * Errors: %BB_SYNC_ERROR_INVALID_INPUT when the identity has no kind, key ID or public keys;
 * any error of the identity's signature (or attestation) passes through, and a signature of the
 * wrong size is %BB_SYNC_ERROR_CRYPTO; then the errors of the endpoints it calls: those of
 * [method@BbSync.Client.request_challenge_finish] and
 * [method@BbSync.Client.revoke_all_tokens_finish], %G_IO_ERROR_CANCELLED among them. A
 * challenge that asks for spam control is %BB_SYNC_ERROR_UNSUPPORTED: a sensitive action cannot
 * carry an attestation.
 *
 * Returns: %TRUE if the server revoked the tokens
 *
 * Since: 0.1
 */
gboolean
bb_client_revoke_all_tokens_with_identity_finish (BbClient *self, GAsyncResult *result,
                                                  GError **error)
{
  return bb_client_request_finish_boolean (
      self, result, bb_client_revoke_all_tokens_with_identity_async, G_STRFUNC, error);
}

/**
 * bb_client_create_invite_with_identity_async:
 * @self: a [class@BbSync.Client]
 * @identity: the identity of a member of the invite's namespace
 * @invite: the invite to register (its namespace, ID, expiry and secret)
 * @max_pending: the pending-request limit (1 to 20), or 0 to send the variant without
 *   one, which the BitBox02 firmware signs
 * @max_accepted: how many requests the invite may admit (1 to 10)
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the invite is registered
 * @user_data: data for @callback
 *
 * Registers @invite with the server in one call: derives the invite server secret
 * hash, asks for a sensitive-action challenge bound to the action fields, has the
 * identity sign the intent, and creates the invite. The invite secret never leaves
 * this process.
 *
 * Since: 0.1
 */
void
bb_client_create_invite_with_identity_async (BbClient *self, BbIdentity *identity, BbInvite *invite,
                                             guint max_pending, guint max_accepted,
                                             GCancellable *cancellable,
                                             GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GBytes) server_secret = NULL;
  g_autoptr (GBytes) fields = NULL;
  g_autofree char *fields_hash = NULL;
  GError *error = NULL;
  Flow *flow;

  g_return_if_fail (BB_IS_CLIENT (self));
  g_return_if_fail (BB_IS_IDENTITY (identity));
  g_return_if_fail (invite != NULL);

  flow = g_new0 (Flow, 1);
  flow->klass = &create_invite_flow;
  flow->identity = g_object_ref (identity);
  flow->invite = bb_invite_ref (invite);
  flow->max_pending = max_pending;
  flow->max_accepted = max_accepted;

  server_secret = bb_protocol_invite_server_secret (bb_invite_get_secret (invite), &error);
  if (server_secret != NULL)
    flow->server_secret_hash = bb_protocol_invite_server_secret_hash (server_secret, &error);
  if (flow->server_secret_hash != NULL)
    fields = bb_protocol_create_invite_fields (
        bb_invite_get_namespace_id (invite), bb_invite_get_invite_id (invite),
        flow->server_secret_hash, bb_invite_get_expires_at (invite), max_pending, max_accepted,
        &error);
  if (bb_client_report_bad_arguments (self, bb_client_create_invite_with_identity_async, callback,
                                      user_data, error))
    {
      flow_free (flow);
      return;
    }
  fields_hash = bb_protocol_action_fields_hash (fields);
  flow_start (self, flow, bb_client_create_invite_with_identity_async, fields_hash, cancellable,
              callback, user_data);
}

/**
 * bb_client_create_invite_with_identity_finish:
 * @self: a [class@BbSync.Client]
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Client.create_invite_with_identity_async]. The result is a
 * [struct@BbSync.InviteListing] with the invite's namespace, ID, expiry and limits as the
 * server echoed them.
 *
 * Errors: %BB_SYNC_ERROR_INVALID_INPUT when the identity has no kind, key ID or public keys, or
 * when the invite's secret, IDs or expiry or the limits are invalid (nothing is sent); any
 * error of the identity's signature (or attestation) passes through, and a signature of the
 * wrong size is %BB_SYNC_ERROR_CRYPTO; then the errors of the endpoints it calls: those of
 * [method@BbSync.Client.request_challenge_finish] and
 * [method@BbSync.Client.create_invite_finish], %G_IO_ERROR_CANCELLED among them. A challenge
 * that asks for spam control is %BB_SYNC_ERROR_UNSUPPORTED: a sensitive action cannot carry an
 * attestation.
 *
 * Returns: (transfer full): the invite as the server registered it, or %NULL on error
 *
 * Since: 0.1
 */
BbInviteListing *
bb_client_create_invite_with_identity_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return bb_client_request_finish (self, result, bb_client_create_invite_with_identity_async,
                                   G_STRFUNC, error);
}
