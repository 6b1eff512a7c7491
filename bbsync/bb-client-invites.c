/* bb-client-invites.c: the endpoints of invites (create, list, revoke) and of the join
 * requests made through them (submit, list, approve, reject), spec §6.11 to §6.17
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-i18n-private.h"

#include "bb-client-private.h"
#include "bb-protocol-types-private.h"
#include "bb-error.h"
#include "bb-message-fields-private.h"
#include "bb-protocol-messages-private.h"
#include "bb-protocol.h"

static gboolean
check_equal_int (const char *field, const char *what, gint64 got, gint64 want, GError **error)
{
  if (got == want)
    return TRUE;
  g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL,
               _ ("%s: %s mismatch: the server answered %lld, expected %lld"), field, what,
               (long long)got, (long long)want);
  return FALSE;
}

static BbInviteListing *
invite_listing_from_summary (const char *namespace_id, const BbMsgInviteSummary *summary)
{
  BbInviteListing *info = bb_invite_listing_new ();

  info->namespace_id = g_strdup (namespace_id);
  info->invite_id = g_strdup (summary->invite_id);
  info->created_by_key_id = g_strdup (summary->created_by_key_id);
  info->created_at = summary->created_at != NULL ? g_date_time_ref (summary->created_at) : NULL;
  info->expires_at = summary->expires_at;
  info->has_max_pending = summary->has_max_pending;
  info->max_pending = (guint)CLAMP (summary->max_pending, 0, G_MAXUINT);
  info->max_accepted = (guint)CLAMP (summary->max_accepted, 0, G_MAXUINT);
  info->active_request_count = (guint)CLAMP (summary->active_request_count, 0, G_MAXUINT);
  info->accepted_count = (guint)CLAMP (summary->accepted_count, 0, G_MAXUINT);
  info->revoked_at = summary->revoked_at != NULL ? g_date_time_ref (summary->revoked_at) : NULL;
  return info;
}

static gpointer
handle_create_invite (const BbClientExpect *expect, const char *body, gsize len, GError **error)
{
  BbMsgCreateInviteResponse msg = { 0 };
  BbInviteListing *info = NULL;
  gboolean ok;

  if (!bb_msg_create_invite_response_parse (&msg, body, len, error))
    return NULL;
  ok = bb_client_check_equal ("namespaceId", "namespace", msg.namespace_id, expect->namespace_id,
                              error)
       && bb_client_check_equal ("inviteId", "invite", msg.invite_id, expect->invite_id, error)
       && check_equal_int ("expiresAt", "expiry", msg.expires_at, expect->expires_at, error);
  if (ok && expect->has_max_pending)
    ok = check_equal_int ("maxPending", "maxPending", msg.has_max_pending ? msg.max_pending : -1,
                          expect->max_pending, error);
  if (ok)
    ok = check_equal_int ("maxAccepted", "maxAccepted", msg.max_accepted, expect->max_accepted,
                          error);
  if (ok)
    {
      info = bb_invite_listing_new ();
      info->namespace_id = g_steal_pointer (&msg.namespace_id);
      info->invite_id = g_steal_pointer (&msg.invite_id);
      info->expires_at = msg.expires_at;
      info->has_max_pending = expect->has_max_pending;
      info->max_pending = expect->max_pending;
      info->max_accepted = expect->max_accepted;
    }
  bb_msg_create_invite_response_clear (&msg);
  return info;
}

/**
 * bb_client_create_invite_async:
 * @self: a [class@BbSync.Client]
 * @namespace_id: the shared namespace (lower-case hex of 16 bytes)
 * @kind: the identity kind, `keystore`
 * @key_id: the caller's key ID
 * @invite_id: the new invite's ID (lower-case hex of 16 bytes)
 * @invite_server_secret_hash: the 32-byte SHA-256 of the invite server secret
 * @challenge: a sensitive-action challenge for `create-namespace-invite`, bound to the
 *   hash of the action fields
 * @intent_signature: the 64-byte signature of the create-invite intent
 * @expires_at: the invite expiry, Unix seconds
 * @max_pending: the pending-request limit, or 0 to send the variant without one
 * @max_accepted: how many requests the invite may admit
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Registers an invite (`POST /v1/namespaces/{ns}/invites`). The answer must echo the
 * invite ID, expiry and limits. See
 * [method@BbSync.Client.create_invite_with_identity_async] for the whole exchange.
 *
 * Since: 0.1
 */
void
bb_client_create_invite_async (BbClient *self, const char *namespace_id, const char *kind,
                               const char *key_id, const char *invite_id,
                               GBytes *invite_server_secret_hash, BbChallenge *challenge,
                               GBytes *intent_signature, gint64 expires_at, guint max_pending,
                               guint max_accepted, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  BbMsgCreateInviteRequest msg = { 0 };
  g_autofree char *hash_hex = NULL;
  g_autofree char *signature_hex = NULL;
  GError *error = NULL;
  BbClientRequest *req;

  g_return_if_fail (BB_IS_CLIENT (self));
  g_return_if_fail (kind != NULL);
  g_return_if_fail (challenge != NULL);

  bb_client_check_id_arg (namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, "namespaceId", &error);
  bb_client_check_id_arg (key_id, BB_PROTOCOL_KEY_ID_SIZE, "keyId", &error);
  bb_client_check_id_arg (invite_id, BB_PROTOCOL_INVITE_ID_SIZE, "inviteId", &error);
  bb_client_check_key_arg (invite_server_secret_hash, "inviteServerSecretHash", &error);
  bb_client_check_signature_arg (intent_signature, &error);
  if (bb_client_report_bad_arguments (self, bb_client_create_invite_async, callback, user_data,
                                      error))
    return;

  hash_hex = bb_protocol_hex_encode (invite_server_secret_hash);
  signature_hex = bb_protocol_hex_encode (intent_signature);
  msg.kind = (char *)kind;
  msg.key_id = (char *)key_id;
  msg.invite_id = (char *)invite_id;
  msg.invite_server_secret_hash = hash_hex;
  msg.challenge = challenge->challenge;
  msg.intent_signature = signature_hex;
  msg.expires_at = expires_at;
  msg.has_max_pending = max_pending != 0;
  msg.max_pending = max_pending;
  msg.max_accepted = max_accepted;

  req = bb_client_request_new ("POST", "/v1/namespaces/{ns}/invites", TRUE, handle_create_invite,
                               (GDestroyNotify)bb_invite_listing_unref, namespace_id, NULL);
  req->expect.namespace_id = g_strdup (namespace_id);
  req->expect.invite_id = g_strdup (invite_id);
  req->expect.expires_at = expires_at;
  req->expect.has_max_pending = max_pending != 0;
  req->expect.max_pending = max_pending;
  req->expect.max_accepted = max_accepted;
  bb_client_request_take_body (req, bb_msg_create_invite_request_to_json (&msg));
  bb_client_request_send (self, req, bb_client_create_invite_async, cancellable, callback,
                          user_data);
}

/**
 * bb_client_create_invite_finish:
 * @self: a [class@BbSync.Client]
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Client.create_invite_async]. The result is a
 * [struct@BbSync.InviteListing] with the invite's namespace, ID, expiry and limits.
 *
 * Errors: %BB_SYNC_ERROR_INVALID_INPUT when an ID, the invite server secret hash or the intent
 * signature is malformed (nothing is sent); %BB_SYNC_ERROR_PROTOCOL when the answer does not
 * echo the namespace, invite ID, expiry and limits; %BB_SYNC_ERROR_API when the server answers
 * with an error status (read it back with [func@BbSync.SyncError.get_http_status]),
 * %G_IO_ERROR_TIMED_OUT when the request outlasts [property@BbSync.Client:timeout],
 * %G_IO_ERROR_CANCELLED when it was cancelled; network and TLS errors pass through unchanged.
 *
 * Returns: (transfer full): the registered invite, or %NULL on error
 *
 * Since: 0.1
 */
BbInviteListing *
bb_client_create_invite_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return bb_client_request_finish (self, result, bb_client_create_invite_async, G_STRFUNC, error);
}

static gpointer
handle_list_invites (const BbClientExpect *expect, const char *body, gsize len, GError **error)
{
  BbMsgListInvitesResponse msg = { 0 };
  GPtrArray *invites = NULL;

  if (!bb_msg_list_invites_response_parse (&msg, body, len, error))
    return NULL;
  if (bb_client_check_equal ("namespaceId", "namespace", msg.namespace_id, expect->namespace_id,
                             error))
    {
      invites = g_ptr_array_new_with_free_func ((GDestroyNotify)bb_invite_listing_unref);
      for (guint i = 0; msg.invites != NULL && i < msg.invites->len; i++)
        g_ptr_array_add (invites, invite_listing_from_summary (msg.namespace_id,
                                                            g_ptr_array_index (msg.invites, i)));
    }
  bb_msg_list_invites_response_clear (&msg);
  return invites;
}

/**
 * bb_client_list_invites_async:
 * @self: a [class@BbSync.Client]
 * @namespace_id: the namespace (lower-case hex of 16 bytes)
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Lists the active and recently revoked invites of a namespace
 * (`GET /v1/namespaces/{ns}/invites`).
 *
 * Since: 0.1
 */
void
bb_client_list_invites_async (BbClient *self, const char *namespace_id, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
  GError *error = NULL;
  BbClientRequest *req;

  g_return_if_fail (BB_IS_CLIENT (self));

  bb_client_check_id_arg (namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, "namespaceId", &error);
  if (bb_client_report_bad_arguments (self, bb_client_list_invites_async, callback, user_data,
                                      error))
    return;
  req = bb_client_request_new ("GET", "/v1/namespaces/{ns}/invites", TRUE, handle_list_invites,
                               (GDestroyNotify)g_ptr_array_unref, namespace_id, NULL);
  req->expect.namespace_id = g_strdup (namespace_id);
  bb_client_request_send (self, req, bb_client_list_invites_async, cancellable, callback,
                          user_data);
}

/**
 * bb_client_list_invites_finish:
 * @self: a [class@BbSync.Client]
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Client.list_invites_async]. Each element is a
 * [struct@BbSync.InviteListing] of an active or recently revoked invite.
 *
 * Errors: %BB_SYNC_ERROR_INVALID_INPUT when the namespace ID is malformed (nothing is sent);
 * %BB_SYNC_ERROR_PROTOCOL when the answer is malformed or names another namespace;
 * %BB_SYNC_ERROR_API when the server answers with an error status (read it back with
 * [func@BbSync.SyncError.get_http_status]), %G_IO_ERROR_TIMED_OUT when the request outlasts
 * [property@BbSync.Client:timeout], %G_IO_ERROR_CANCELLED when it was cancelled; network and
 * TLS errors pass through unchanged.
 *
 * Returns: (transfer container) (element-type BbInviteListing): the invites, or %NULL on
 *   error; the array frees its elements, release it with g_ptr_array_unref()
 *
 * Since: 0.1
 */
GPtrArray *
bb_client_list_invites_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return bb_client_request_finish (self, result, bb_client_list_invites_async, G_STRFUNC, error);
}

static gboolean
handle_revoke_invite (const BbClientExpect *expect, const char *body, gsize len, GError **error)
{
  BbMsgRevokeInviteResponse msg = { 0 };
  gboolean ok = FALSE;

  if (!bb_msg_revoke_invite_response_parse (&msg, body, len, error))
    return FALSE;
  if (bb_client_check_equal ("namespaceId", "namespace", msg.namespace_id, expect->namespace_id,
                             error)
      && bb_client_check_equal ("inviteId", "invite", msg.invite_id, expect->invite_id, error))
    {
      if (msg.revoked)
        ok = TRUE;
      else
        g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL,
                     _ ("revoked: the revoke invite response must report revoked"));
    }
  bb_msg_revoke_invite_response_clear (&msg);
  return ok;
}

/**
 * bb_client_revoke_invite_async:
 * @self: a [class@BbSync.Client]
 * @namespace_id: the namespace (lower-case hex of 16 bytes)
 * @invite_id: the invite (lower-case hex of 16 bytes)
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Revokes an invite (`DELETE /v1/namespaces/{ns}/invites/{inviteId}`); its pending
 * requests can no longer be approved.
 *
 * Since: 0.1
 */
void
bb_client_revoke_invite_async (BbClient *self, const char *namespace_id, const char *invite_id,
                               GCancellable *cancellable, GAsyncReadyCallback callback,
                               gpointer user_data)
{
  GError *error = NULL;
  BbClientRequest *req;

  g_return_if_fail (BB_IS_CLIENT (self));

  bb_client_check_id_arg (namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, "namespaceId", &error);
  bb_client_check_id_arg (invite_id, BB_PROTOCOL_INVITE_ID_SIZE, "inviteId", &error);
  if (bb_client_report_bad_arguments (self, bb_client_revoke_invite_async, callback, user_data,
                                      error))
    return;
  req = bb_client_request_new ("DELETE", "/v1/namespaces/{ns}/invites/{inviteId}", TRUE, NULL, NULL,
                               namespace_id, invite_id, NULL);
  req->check = handle_revoke_invite;
  req->expect.namespace_id = g_strdup (namespace_id);
  req->expect.invite_id = g_strdup (invite_id);
  bb_client_request_send (self, req, bb_client_revoke_invite_async, cancellable, callback,
                          user_data);
}

/**
 * bb_client_revoke_invite_finish:
 * @self: a [class@BbSync.Client]
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Client.revoke_invite_async]. On success the invite's pending requests
 * can no longer be approved.
 *
 * Errors: %BB_SYNC_ERROR_INVALID_INPUT when the namespace ID or invite ID is malformed (nothing
 * is sent); %BB_SYNC_ERROR_PROTOCOL when the answer does not echo the namespace and invite or
 * does not report the invite revoked; %BB_SYNC_ERROR_API when the server answers with an error
 * status (read it back with [func@BbSync.SyncError.get_http_status]), %G_IO_ERROR_TIMED_OUT
 * when the request outlasts [property@BbSync.Client:timeout], %G_IO_ERROR_CANCELLED when it was
 * cancelled; network and TLS errors pass through unchanged.
 *
 * Returns: %TRUE if the server revoked the invite
 *
 * Since: 0.1
 */
gboolean
bb_client_revoke_invite_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return bb_client_request_finish_boolean (self, result, bb_client_revoke_invite_async, G_STRFUNC,
                                           error);
}

static gpointer
handle_submit_join (const BbClientExpect *expect, const char *body, gsize len, GError **error)
{
  BbMsgSubmitJoinResponse msg = { 0 };
  BbJoinRequestListing *info = NULL;

  if (!bb_msg_submit_join_response_parse (&msg, body, len, error))
    return NULL;
  /* The invite ID may differ from the request's: a server may answer with the
   * requester's earlier pending request. */
  if (bb_client_check_equal ("namespaceId", "namespace", msg.namespace_id, expect->namespace_id,
                             error)
      && bb_client_validate_lower_hex_field (msg.invite_id, BB_PROTOCOL_INVITE_ID_SIZE, "inviteId",
                                             error)
      && bb_client_validate_lower_hex_field (msg.join_request_hash, 32, "joinRequestHash", error)
      && bb_client_check_equal ("requesterKind", "kind", msg.requester_kind, expect->kind, error)
      && bb_client_check_equal ("requesterKeyId", "key", msg.requester_key_id, expect->key_id,
                                error)
      && bb_client_check_equal ("status", "status", msg.status, BB_PROTOCOL_JOIN_STATUS_PENDING,
                                error))
    {
      info = bb_join_request_listing_new ();
      info->namespace_id = g_steal_pointer (&msg.namespace_id);
      info->invite_id = g_steal_pointer (&msg.invite_id);
      info->join_request_hash = g_steal_pointer (&msg.join_request_hash);
      info->status = g_steal_pointer (&msg.status);
      info->requester_kind = g_steal_pointer (&msg.requester_kind);
      info->requester_key_id = g_steal_pointer (&msg.requester_key_id);
    }
  bb_msg_submit_join_response_clear (&msg);
  return info;
}

/**
 * bb_client_submit_join_request_async:
 * @self: a [class@BbSync.Client]
 * @request: the signed join request (see [method@BbSync.Identity.build_join_request_async])
 * @invite_server_secret: the 32-byte invite server secret derived from the invite
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Submits a join request through an invite
 * (`POST /v1/namespaces/{ns}/invites/{inviteId}/join-requests`). The answer may name
 * an earlier pending request of the caller instead of this one.
 *
 * Since: 0.1
 */
void
bb_client_submit_join_request_async (BbClient *self, BbJoinRequest *request,
                                     GBytes *invite_server_secret, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data)
{
  BbMsgSubmitJoinRequest msg = { 0 };
  GError *error = NULL;
  BbClientRequest *req;

  g_return_if_fail (BB_IS_CLIENT (self));
  g_return_if_fail (request != NULL);

  bb_client_check_id_arg (request->msg.namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, "namespaceId",
                          &error);
  bb_client_check_id_arg (request->msg.invite_id, BB_PROTOCOL_INVITE_ID_SIZE, "inviteId", &error);
  bb_client_check_key_arg (invite_server_secret, "inviteServerSecret", &error);
  if (bb_client_report_bad_arguments (self, bb_client_submit_join_request_async, callback,
                                      user_data, error))
    return;

  msg.invite_server_secret = bb_protocol_base64url_encode (invite_server_secret);
  msg.join_request = request->msg;

  req = bb_client_request_new ("POST", "/v1/namespaces/{ns}/invites/{inviteId}/join-requests", TRUE,
                               handle_submit_join, (GDestroyNotify)bb_join_request_listing_unref,
                               request->msg.namespace_id, request->msg.invite_id, NULL);
  req->expect.namespace_id = g_strdup (request->msg.namespace_id);
  req->expect.kind = g_strdup (request->msg.kind);
  req->expect.key_id = g_strdup (request->msg.key_id);
  bb_client_request_take_body (req, bb_msg_submit_join_request_to_json (&msg));
  bb_msg_free_secret (&msg.invite_server_secret);
  bb_client_request_send (self, req, bb_client_submit_join_request_async, cancellable, callback,
                          user_data);
}

/**
 * bb_client_submit_join_request_finish:
 * @self: a [class@BbSync.Client]
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Client.submit_join_request_async]. The result is a
 * [struct@BbSync.JoinRequestListing] with status `pending`; it may be an earlier pending
 * request of the caller, through another invite, rather than this one.
 *
 * Errors: %BB_SYNC_ERROR_INVALID_INPUT when the request's namespace ID or invite ID is
 * malformed or the invite server secret is not 32 bytes (nothing is sent);
 * %BB_SYNC_ERROR_PROTOCOL when the answer names another namespace or requester, a malformed
 * invite ID or hash, or a status other than `pending`; %BB_SYNC_ERROR_API when the server
 * answers with an error status (read it back with [func@BbSync.SyncError.get_http_status]),
 * %G_IO_ERROR_TIMED_OUT when the request outlasts [property@BbSync.Client:timeout],
 * %G_IO_ERROR_CANCELLED when it was cancelled; network and TLS errors pass through unchanged.
 *
 * Returns: (transfer full): the pending request as the server recorded it, or %NULL on
 *   error
 *
 * Since: 0.1
 */
BbJoinRequestListing *
bb_client_submit_join_request_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return bb_client_request_finish (self, result, bb_client_submit_join_request_async, G_STRFUNC,
                                   error);
}

static gpointer
handle_list_join_requests (const BbClientExpect *expect, const char *body, gsize len,
                           GError **error)
{
  BbMsgListJoinRequestsResponse msg = { 0 };
  GPtrArray *requests = NULL;

  if (!bb_msg_list_join_requests_response_parse (&msg, body, len, error))
    return NULL;
  if (bb_client_check_equal ("namespaceId", "namespace", msg.namespace_id, expect->namespace_id,
                             error))
    {
      requests = g_ptr_array_new_with_free_func ((GDestroyNotify)bb_join_request_listing_unref);
      for (guint i = 0; msg.requests != NULL && i < msg.requests->len; i++)
        {
          BbMsgJoinRequestEntry *entry = g_ptr_array_index (msg.requests, i);
          BbJoinRequestListing *info = bb_join_request_listing_new ();

          info->namespace_id = g_strdup (msg.namespace_id);
          info->invite_id = g_strdup (entry->invite_id);
          info->join_request_hash = g_strdup (entry->join_request_hash);
          info->status = g_strdup (entry->status);
          info->requester_kind = g_strdup (entry->join_request.kind);
          info->requester_key_id = g_strdup (entry->join_request.key_id);
          info->created_at = entry->created_at != NULL ? g_date_time_ref (entry->created_at) : NULL;
          info->request = bb_join_request_new ();
          bb_msg_join_request_copy (&entry->join_request, &info->request->msg);
          g_ptr_array_add (requests, info);
        }
    }
  bb_msg_list_join_requests_response_clear (&msg);
  return requests;
}

/**
 * bb_client_list_join_requests_async:
 * @self: a [class@BbSync.Client]
 * @namespace_id: the namespace (lower-case hex of 16 bytes)
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Lists the pending join requests of a namespace
 * (`GET /v1/namespaces/{ns}/join-requests`). Listing verifies nothing: verify an entry
 * against its invite before approving it.
 *
 * Since: 0.1
 */
void
bb_client_list_join_requests_async (BbClient *self, const char *namespace_id,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  GError *error = NULL;
  BbClientRequest *req;

  g_return_if_fail (BB_IS_CLIENT (self));

  bb_client_check_id_arg (namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, "namespaceId", &error);
  if (bb_client_report_bad_arguments (self, bb_client_list_join_requests_async, callback, user_data,
                                      error))
    return;
  req = bb_client_request_new ("GET", "/v1/namespaces/{ns}/join-requests", TRUE,
                               handle_list_join_requests, (GDestroyNotify)g_ptr_array_unref,
                               namespace_id, NULL);
  req->expect.namespace_id = g_strdup (namespace_id);
  bb_client_request_send (self, req, bb_client_list_join_requests_async, cancellable, callback,
                          user_data);
}

/**
 * bb_client_list_join_requests_finish:
 * @self: a [class@BbSync.Client]
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Client.list_join_requests_async]. Each element is a
 * [struct@BbSync.JoinRequestListing] that carries the signed [struct@BbSync.JoinRequest];
 * nothing in it is verified yet.
 *
 * Errors: %BB_SYNC_ERROR_INVALID_INPUT when the namespace ID is malformed (nothing is sent);
 * %BB_SYNC_ERROR_PROTOCOL when the answer is malformed or names another namespace;
 * %BB_SYNC_ERROR_API when the server answers with an error status (read it back with
 * [func@BbSync.SyncError.get_http_status]), %G_IO_ERROR_TIMED_OUT when the request outlasts
 * [property@BbSync.Client:timeout], %G_IO_ERROR_CANCELLED when it was cancelled; network and
 * TLS errors pass through unchanged.
 *
 * Returns: (transfer container) (element-type BbJoinRequestListing): the pending requests,
 *   or %NULL on error; the array frees its elements, release it with g_ptr_array_unref()
 *
 * Since: 0.1
 */
GPtrArray *
bb_client_list_join_requests_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return bb_client_request_finish (self, result, bb_client_list_join_requests_async, G_STRFUNC,
                                   error);
}

static gpointer
handle_approve (const BbClientExpect *expect, const char *body, gsize len, GError **error)
{
  BbMsgApproveResponse msg = { 0 };
  BbMember *member = NULL;

  if (!bb_msg_approve_response_parse (&msg, body, len, error))
    return NULL;
  /* memberKind is not checked, as in the reference client. */
  if (bb_client_check_equal ("namespaceId", "namespace", msg.namespace_id, expect->namespace_id,
                             error)
      && bb_client_check_equal ("memberKeyId", "key", msg.member_key_id, expect->key_id, error)
      && bb_client_check_equal ("joinRequestHash", "hash", msg.join_request_hash,
                                expect->join_request_hash, error))
    {
      member = bb_member_new ();
      member->kind = g_steal_pointer (&msg.member_kind);
      member->key_id = g_steal_pointer (&msg.member_key_id);
    }
  bb_msg_approve_response_clear (&msg);
  return member;
}

/**
 * bb_client_approve_join_request_async:
 * @self: a [class@BbSync.Client]
 * @namespace_id: the namespace (lower-case hex of 16 bytes)
 * @key_id: the requester's key ID (lower-case hex of 32 bytes)
 * @join_request_hash: the verified join-request hash (lower-case hex of 32 bytes)
 * @invite_server_secret: the 32-byte invite server secret, which proves the approver
 *   holds the invite
 * @wrapped_dek: the 97-byte namespace DEK wrapped to the requester's wrap key
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Approves a pending join request
 * (`PUT /v1/namespaces/{ns}/join-requests/{keyId}/{hash}/approve`).
 *
 * Since: 0.1
 */
void
bb_client_approve_join_request_async (BbClient *self, const char *namespace_id, const char *key_id,
                                      const char *join_request_hash, GBytes *invite_server_secret,
                                      GBytes *wrapped_dek, GCancellable *cancellable,
                                      GAsyncReadyCallback callback, gpointer user_data)
{
  BbMsgApproveRequest msg = { 0 };
  g_autofree char *wrapped_b64 = NULL;
  GError *error = NULL;
  BbClientRequest *req;

  g_return_if_fail (BB_IS_CLIENT (self));
  g_return_if_fail (wrapped_dek != NULL);

  bb_client_check_id_arg (namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, "namespaceId", &error);
  bb_client_check_id_arg (key_id, BB_PROTOCOL_KEY_ID_SIZE, "keyId", &error);
  bb_client_check_id_arg (join_request_hash, 32, "joinRequestHash", &error);
  bb_client_check_key_arg (invite_server_secret, "inviteServerSecret", &error);
  if (bb_client_report_bad_arguments (self, bb_client_approve_join_request_async, callback,
                                      user_data, error))
    return;

  msg.invite_server_secret = bb_protocol_base64url_encode (invite_server_secret);
  wrapped_b64 = bb_protocol_base64_encode (wrapped_dek);
  msg.wrapped_dek = wrapped_b64;

  req = bb_client_request_new ("PUT", "/v1/namespaces/{ns}/join-requests/{keyId}/{hash}/approve",
                               TRUE, handle_approve, (GDestroyNotify)bb_member_unref, namespace_id,
                               key_id, join_request_hash, NULL);
  req->expect.namespace_id = g_strdup (namespace_id);
  req->expect.key_id = g_strdup (key_id);
  req->expect.join_request_hash = g_strdup (join_request_hash);
  bb_client_request_take_body (req, bb_msg_approve_request_to_json (&msg));
  bb_msg_free_secret (&msg.invite_server_secret);
  bb_client_request_send (self, req, bb_client_approve_join_request_async, cancellable, callback,
                          user_data);
}

/**
 * bb_client_approve_join_request_finish:
 * @self: a [class@BbSync.Client]
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Client.approve_join_request_async]. The result is the
 * [struct@BbSync.Member] the requester has become.
 *
 * Errors: %BB_SYNC_ERROR_INVALID_INPUT when the namespace ID, key ID or join-request hash is
 * malformed or the invite server secret is not 32 bytes (nothing is sent);
 * %BB_SYNC_ERROR_PROTOCOL when the answer does not echo the namespace, key ID and join-request
 * hash; %BB_SYNC_ERROR_API when the server answers with an error status (read it back with
 * [func@BbSync.SyncError.get_http_status]), %G_IO_ERROR_TIMED_OUT when the request outlasts
 * [property@BbSync.Client:timeout], %G_IO_ERROR_CANCELLED when it was cancelled; network and
 * TLS errors pass through unchanged.
 *
 * Returns: (transfer full): the new member, or %NULL on error
 *
 * Since: 0.1
 */
BbMember *
bb_client_approve_join_request_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return bb_client_request_finish (self, result, bb_client_approve_join_request_async, G_STRFUNC,
                                   error);
}

static gboolean
handle_reject (const BbClientExpect *expect, const char *body, gsize len, GError **error)
{
  BbMsgRejectResponse msg = { 0 };
  gboolean ok = FALSE;

  if (!bb_msg_reject_response_parse (&msg, body, len, error))
    return FALSE;
  if (bb_client_check_equal ("namespaceId", "namespace", msg.namespace_id, expect->namespace_id,
                             error)
      && bb_client_check_equal ("requesterKeyId", "key", msg.requester_key_id, expect->key_id,
                                error)
      && bb_client_check_equal ("joinRequestHash", "hash", msg.join_request_hash,
                                expect->join_request_hash, error))
    {
      if (msg.rejected)
        ok = TRUE;
      else
        g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL,
                     _ ("rejected: the reject join request response must report rejected"));
    }
  bb_msg_reject_response_clear (&msg);
  return ok;
}

/**
 * bb_client_reject_join_request_async:
 * @self: a [class@BbSync.Client]
 * @namespace_id: the namespace (lower-case hex of 16 bytes)
 * @key_id: the requester's key ID (lower-case hex of 32 bytes)
 * @join_request_hash: the join-request hash as listed (lower-case hex of 32 bytes)
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Rejects a pending join request
 * (`DELETE /v1/namespaces/{ns}/join-requests/{keyId}/{hash}`).
 *
 * Since: 0.1
 */
void
bb_client_reject_join_request_async (BbClient *self, const char *namespace_id, const char *key_id,
                                     const char *join_request_hash, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data)
{
  GError *error = NULL;
  BbClientRequest *req;

  g_return_if_fail (BB_IS_CLIENT (self));

  bb_client_check_id_arg (namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, "namespaceId", &error);
  bb_client_check_id_arg (key_id, BB_PROTOCOL_KEY_ID_SIZE, "keyId", &error);
  bb_client_check_id_arg (join_request_hash, 32, "joinRequestHash", &error);
  if (bb_client_report_bad_arguments (self, bb_client_reject_join_request_async, callback,
                                      user_data, error))
    return;
  req = bb_client_request_new ("DELETE", "/v1/namespaces/{ns}/join-requests/{keyId}/{hash}", TRUE,
                               NULL, NULL, namespace_id, key_id, join_request_hash, NULL);
  req->check = handle_reject;
  req->expect.namespace_id = g_strdup (namespace_id);
  req->expect.key_id = g_strdup (key_id);
  req->expect.join_request_hash = g_strdup (join_request_hash);
  bb_client_request_send (self, req, bb_client_reject_join_request_async, cancellable, callback,
                          user_data);
}

/**
 * bb_client_reject_join_request_finish:
 * @self: a [class@BbSync.Client]
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Client.reject_join_request_async].
 *
 * Errors: %BB_SYNC_ERROR_INVALID_INPUT when the namespace ID, key ID or join-request hash is
 * malformed (nothing is sent); %BB_SYNC_ERROR_PROTOCOL when the answer does not echo the
 * namespace, key ID and join-request hash or does not report the request rejected;
 * %BB_SYNC_ERROR_API when the server answers with an error status (read it back with
 * [func@BbSync.SyncError.get_http_status]), %G_IO_ERROR_TIMED_OUT when the request outlasts
 * [property@BbSync.Client:timeout], %G_IO_ERROR_CANCELLED when it was cancelled; network and
 * TLS errors pass through unchanged.
 *
 * Returns: %TRUE if the server rejected the request
 *
 * Since: 0.1
 */
gboolean
bb_client_reject_join_request_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return bb_client_request_finish_boolean (self, result, bb_client_reject_join_request_async,
                                           G_STRFUNC, error);
}
