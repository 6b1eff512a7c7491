/* bb-server-invites.c: the reference server's invites and the join requests they admit:
 * creating, listing and revoking invites, submitting, listing, approving and rejecting
 * join requests.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-server-private.h"

#include "bb-crypto-private.h"
#include "bb-protocol-messages-private.h"
#include "bb-protocol.h"
#include "bb-protocol-private.h"

/* How long revoked or expired invites stay in the invite list. */
#define INVITE_RETENTION (24 * 3600)

static const char *const create_invite_fields[] = { "kind",        "keyId",
                                                    "inviteId",    "inviteServerSecretHash",
                                                    "challenge",   "intentSignature",
                                                    "expiresAt",   "maxPending",
                                                    "maxAccepted", NULL };

void
bb_server_handle_create_invite (BbServer *self, BbServerRequest *req)
{
  const char *ns = req->ids.namespace_id;
  BbMsgCreateInviteRequest request = { 0 };
  BbMsgCreateInviteResponse response = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *kind = NULL;
  g_autofree char *bound_hash = NULL;
  g_autofree char *fields_hash = NULL;
  g_autoptr (GBytes) challenge = NULL;
  g_autoptr (GBytes) secret_hash = NULL;
  g_autoptr (GBytes) fields = NULL;
  gint64 active;
  g_autoptr (BbServerDbTransaction) tx = NULL;

  if (!bb_server_authenticate (self, req) || !bb_server_require_member (self, req, ns, &kind))
    return;
  if (!bb_server_check_body (req, create_invite_fields, NULL, NULL))
    return;
  if (!bb_msg_create_invite_request_parse (&request, req->body, req->body_len, &error))
    {
      bb_server_respond_gerror (req, error);
      return;
    }
  if (!g_str_equal (kind, BB_PROTOCOL_NAMESPACE_KIND_SHARED))
    {
      bb_server_respond_error (req, 403, "invites exist only for shared namespaces");
      goto out;
    }
  if (!g_str_equal (request.key_id, req->caller))
    {
      bb_server_respond_error (req, 403, "keyId: is not the key of the bearer token");
      goto out;
    }
  if (!g_str_equal (request.kind, BB_PROTOCOL_KIND_KEYSTORE))
    {
      bb_server_respond_error (req, 400, "kind: unsupported identity kind");
      goto out;
    }
  if (!bb_server_validate_id (req, request.invite_id, BB_PROTOCOL_INVITE_ID_SIZE, "inviteId"))
    goto out;
  secret_hash = bb_server_decode_or_respond (req, bb_protocol_lower_hex_decode,
                                             request.invite_server_secret_hash, 32,
                                             "inviteServerSecretHash");
  if (secret_hash == NULL)
    goto out;

  challenge
      = bb_server_consume_challenge (self, req, request.challenge, BB_PROTOCOL_PURPOSE_SENSITIVE,
                                     BB_PROTOCOL_ACTION_CREATE_INVITE, &bound_hash);
  if (challenge == NULL)
    goto out;

  /* Ranges come before the signature check only where the fields cannot be built
   * otherwise; the signed fields use 32-bit counts and a non-negative expiry. */
  if (request.max_accepted < 1 || request.max_accepted > BB_PROTOCOL_MAX_ACCEPTED)
    {
      bb_server_respond_error (req, 400, "maxAccepted: must be between 1 and %d",
                               BB_PROTOCOL_MAX_ACCEPTED);
      goto out;
    }
  if (request.has_max_pending
      && (request.max_pending < 1
          || (guint64)request.max_pending > self->limits[BB_SERVER_LIMIT_PENDING_PER_INVITE]))
    {
      bb_server_respond_error (req, 400, "maxPending: must be between 1 and %" G_GUINT64_FORMAT,
                               self->limits[BB_SERVER_LIMIT_PENDING_PER_INVITE]);
      goto out;
    }
  if (request.expires_at <= 0)
    {
      bb_server_respond_error (req, 400, "expiresAt: must be positive");
      goto out;
    }

  fields = bb_protocol_create_invite_fields (ns, request.invite_id, secret_hash, request.expires_at,
                                             request.has_max_pending ? request.max_pending : 0,
                                             request.max_accepted, &error);
  if (fields == NULL)
    {
      bb_server_respond_gerror (req, error);
      goto out;
    }
  fields_hash = bb_protocol_action_fields_hash (fields);
  if (g_strcmp0 (fields_hash, bound_hash) != 0)
    {
      bb_server_respond_error (req, 400, "challenge: bound to other action fields");
      goto out;
    }
  if (!bb_server_verify_sensitive_action (self, req, BB_PROTOCOL_ACTION_CREATE_INVITE, challenge,
                                          request.kind, request.key_id, fields,
                                          request.intent_signature))
    goto out;

  if (request.expires_at <= req->now
      || request.expires_at > req->now + BB_PROTOCOL_MAX_INVITE_TTL + CLOCK_SKEW)
    {
      bb_server_respond_error (req, 400, "expiresAt: must be in the future and at most %d s away",
                               BB_PROTOCOL_MAX_INVITE_TTL);
      goto out;
    }

  tx = bb_server_db_begin (self->db, &error);
  if (tx == NULL)
    goto internal;
  active = bb_server_db_count_active_invites (self->db, ns, req->now, &error);
  if (error != NULL)
    goto internal;
  if ((guint64)active >= self->limits[BB_SERVER_LIMIT_ACTIVE_INVITES])
    {
      bb_server_respond_error (req, 429, "namespace has the maximum number of active invites");
      goto out;
    }
  if (bb_server_db_invite_exists (self->db, request.invite_id, &error))
    {
      bb_server_respond_error (req, 409, "inviteId: invite already exists");
      goto out;
    }
  if (error != NULL)
    goto internal;
  if (!bb_server_db_insert_invite (self->db, request.invite_id, ns, req->caller, req->now,
                                   request.expires_at,
                                   request.has_max_pending ? &request.max_pending : NULL,
                                   request.max_accepted, secret_hash, &error))
    goto internal;
  if (!bb_server_db_commit (tx, &error))
    goto internal;

  response.namespace_id = g_strdup (ns);
  response.invite_id = g_strdup (request.invite_id);
  response.expires_at = request.expires_at;
  response.has_max_pending = request.has_max_pending;
  response.max_pending = request.max_pending;
  response.max_accepted = request.max_accepted;
  bb_server_respond_json_take (req, 200, bb_msg_create_invite_response_to_json (&response));
  goto out;

internal:
  bb_server_respond_internal (req, error);
out:
  bb_msg_create_invite_response_clear (&response);
  bb_msg_create_invite_request_clear (&request);
}

void
bb_server_handle_list_invites (BbServer *self, BbServerRequest *req)
{
  const char *ns = req->ids.namespace_id;
  g_autoptr (GError) error = NULL;
  BbMsgListInvitesResponse response = { 0 };

  if (!bb_server_authenticate (self, req) || !bb_server_require_member (self, req, ns, NULL))
    return;
  response.invites
      = bb_server_db_list_invites (self->db, ns, req->now, req->now - INVITE_RETENTION, &error);
  if (response.invites == NULL)
    bb_server_respond_internal (req, error);
  else
    {
      response.namespace_id = g_strdup (ns);
      bb_server_respond_json_take (req, 200, bb_msg_list_invites_response_to_json (&response));
    }
  bb_msg_list_invites_response_clear (&response);
}

void
bb_server_handle_revoke_invite (BbServer *self, BbServerRequest *req)
{
  const char *ns = req->ids.namespace_id;
  const char *invite_id = req->ids.invite_id;
  g_autoptr (GError) error = NULL;
  BbMsgRevokeInviteResponse response = { 0 };
  gboolean exists;
  g_autoptr (BbServerDbTransaction) tx = NULL;

  if (!bb_server_authenticate (self, req) || !bb_server_require_member (self, req, ns, NULL)
      || !bb_server_validate_id (req, invite_id, BB_PROTOCOL_INVITE_ID_SIZE, "inviteId"))
    return;
  tx = bb_server_db_begin (self->db, &error);
  if (tx == NULL)
    goto internal;
  exists = bb_server_db_namespace_has_invite (self->db, ns, invite_id, &error);
  if (error != NULL)
    goto internal;
  if (!exists)
    {
      bb_server_respond_error (req, 404, "invite not found");
      return;
    }
  /* Revoking twice keeps the first revocation time and still reports success. */
  if (!bb_server_db_revoke_invite (self->db, invite_id, req->now, &error)
      || !bb_server_db_commit (tx, &error))
    goto internal;
  response.namespace_id = (char *)ns;
  response.invite_id = (char *)invite_id;
  response.revoked = TRUE;
  bb_server_respond_json_take (req, 200, bb_msg_revoke_invite_response_to_json (&response));
  return;

internal:
  bb_server_respond_internal (req, error);
}

/* ------------------------------------------------------------------------------------ */
/* Handlers: join requests */

static const char *const submit_join_fields[] = { "inviteServerSecret", "joinRequest", NULL };
static const char *const join_request_fields[]
    = { "version",       "namespaceId",   "inviteId",  "serverOrigin", "kind",        "keyId",
        "authPublicKey", "wrapPublicKey", "expiresAt", "signature",    "inviteProof", NULL };

/* Checks @secret_text against the stored hash of @invite_id in constant time. */
static gboolean
check_invite_secret (BbServer *self, BbServerRequest *req, const char *invite_id,
                     const char *secret_text)
{
  g_autoptr (GBytes) secret = NULL;
  g_autoptr (GBytes) stored = NULL;
  g_autoptr (GError) error = NULL;
  guint8 digest[BB_CRYPTO_SHA256_SIZE];

  secret = bb_server_decode_or_respond (req, bb_protocol_base64url_decode, secret_text, 32,
                                        "inviteServerSecret");
  if (secret == NULL)
    return FALSE;
  stored = bb_server_db_get_invite_secret_hash (self->db, invite_id, &error);
  if (error != NULL)
    {
      bb_server_respond_internal (req, error);
      return FALSE;
    }
  bb_crypto_sha256 (g_bytes_get_data (secret, NULL), g_bytes_get_size (secret), digest);
  if (stored == NULL || g_bytes_get_size (stored) != sizeof digest
      || !bb_crypto_equal (digest, g_bytes_get_data (stored, NULL), sizeof digest))
    {
      bb_server_respond_error (req, 403, "inviteServerSecret: does not match the invite");
      return FALSE;
    }
  return TRUE;
}

static void
respond_join_entry (BbServerRequest *req, const char *ns, const char *invite_id, const char *key_id,
                    const char *hash)
{
  BbMsgSubmitJoinResponse response = { 0 };

  response.namespace_id = (char *)ns;
  response.invite_id = (char *)invite_id;
  response.requester_kind = (char *)BB_PROTOCOL_KIND_KEYSTORE;
  response.requester_key_id = (char *)key_id;
  response.join_request_hash = (char *)hash;
  response.status = (char *)BB_PROTOCOL_JOIN_STATUS_PENDING;
  bb_server_respond_json_take (req, 200, bb_msg_submit_join_response_to_json (&response));
}

void
bb_server_handle_submit_join (BbServer *self, BbServerRequest *req)
{
  const char *ns = req->ids.namespace_id;
  const char *invite_id = req->ids.invite_id;
  BbMsgSubmitJoinRequest request = { 0 };
  BbMsgJoinRequest *jr = &request.join_request;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) auth_public_key = NULL;
  g_autoptr (GBytes) wrap_public_key = NULL;
  g_autoptr (GBytes) registered_wrap = NULL;
  g_autoptr (GBytes) signature = NULL;
  g_autoptr (GBytes) proof = NULL;
  g_autoptr (GBytes) payload = NULL;
  g_autofree char *key_id = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *canonical = NULL;
  g_autofree char *stored_json = NULL;
  g_autofree char *existing_invite = NULL;
  g_autofree char *existing_hash = NULL;
  gint64 invite_expires_at = 0;
  gint64 max_pending = 0;
  gboolean revoked = FALSE;
  gboolean has_max_pending = FALSE;
  gboolean found = FALSE;
  gint64 count;
  g_autoptr (BbServerDbTransaction) tx = NULL;

  if (!bb_server_authenticate (self, req)
      || !bb_server_validate_id (req, ns, BB_PROTOCOL_NAMESPACE_ID_SIZE, "namespaceId")
      || !bb_server_validate_id (req, invite_id, BB_PROTOCOL_INVITE_ID_SIZE, "inviteId"))
    return;

  /* 1. The invite exists under this namespace, and is neither revoked nor expired. */
  found = bb_server_db_get_invite (self->db, ns, invite_id, &invite_expires_at, &revoked,
                                   &has_max_pending, &max_pending, &error);
  if (found && !has_max_pending)
    max_pending = (gint64)self->limits[BB_SERVER_LIMIT_PENDING_PER_INVITE];
  if (error != NULL)
    {
      bb_server_respond_internal (req, error);
      return;
    }
  if (!found)
    {
      bb_server_respond_error (req, 404, "invite not found");
      return;
    }
  if (revoked || invite_expires_at <= req->now)
    {
      bb_server_respond_error (req, 410, revoked ? "invite revoked" : "invite expired");
      return;
    }

  if (!bb_server_check_body (req, submit_join_fields, "joinRequest", join_request_fields))
    return;
  if (!bb_msg_submit_join_request_parse (&request, req->body, req->body_len, &error))
    {
      bb_server_respond_gerror (req, error);
      return;
    }

  /* 2. The caller holds the invite token. */
  if (!check_invite_secret (self, req, invite_id, request.invite_server_secret))
    goto out;

  /* 3. The signed request. */
  if (jr->version != 1)
    {
      bb_server_respond_error (req, 400, "joinRequest.version: unsupported version");
      goto out;
    }
  if (g_strcmp0 (jr->kind, BB_PROTOCOL_KIND_KEYSTORE) != 0)
    {
      bb_server_respond_error (req, 400, "joinRequest.kind: unsupported identity kind");
      goto out;
    }
  if (g_strcmp0 (jr->namespace_id, ns) != 0 || g_strcmp0 (jr->invite_id, invite_id) != 0)
    {
      bb_server_respond_error (req, 400,
                               "joinRequest: namespaceId and inviteId must match the path");
      goto out;
    }
  canonical
      = jr->server_origin != NULL ? bb_protocol_canonical_origin (jr->server_origin, &error) : NULL;
  if (canonical == NULL || !g_str_equal (canonical, jr->server_origin))
    {
      bb_server_respond_error (req, 400, "joinRequest.serverOrigin: not a canonical origin");
      goto out;
    }
  if (!bb_server_is_public_origin (self, canonical))
    {
      bb_server_respond_error (req, 400, "joinRequest.serverOrigin: not an origin of this server");
      goto out;
    }
  auth_public_key
      = bb_server_decode_or_respond (req, bb_protocol_lower_hex_decode, jr->auth_public_key,
                                     BB_PROTOCOL_PUBLIC_KEY_SIZE, "joinRequest.authPublicKey");
  if (auth_public_key == NULL)
    goto out;
  if (!bb_protocol_check_auth_public_key (auth_public_key, "joinRequest.authPublicKey", &error))
    {
      bb_server_respond_gerror (req, error);
      goto out;
    }
  wrap_public_key
      = bb_server_decode_or_respond (req, bb_protocol_lower_hex_decode, jr->wrap_public_key,
                                     BB_PROTOCOL_PUBLIC_KEY_SIZE, "joinRequest.wrapPublicKey");
  if (wrap_public_key == NULL)
    goto out;
  signature = bb_server_decode_or_respond (req, bb_protocol_lower_hex_decode, jr->signature,
                                           BB_PROTOCOL_SIGNATURE_SIZE, "joinRequest.signature");
  if (signature == NULL)
    goto out;
  proof = bb_server_decode_or_respond (req, bb_protocol_base64url_decode, jr->invite_proof, 32,
                                       "joinRequest.inviteProof");
  if (proof == NULL)
    goto out;
  key_id = bb_protocol_key_id (auth_public_key);
  if (g_strcmp0 (jr->key_id, key_id) != 0)
    {
      bb_server_respond_error (req, 400, "joinRequest.keyId: is not SHA-256 of authPublicKey");
      goto out;
    }
  if (!g_str_equal (key_id, req->caller))
    {
      bb_server_respond_error (req, 403, "joinRequest.keyId: is not the key of the bearer token");
      goto out;
    }
  if (!bb_server_db_get_key (self->db, req->caller, NULL, &registered_wrap, NULL, &error))
    goto internal;
  if (!g_bytes_equal (registered_wrap, wrap_public_key))
    {
      bb_server_respond_error (req, 403,
                               "joinRequest.wrapPublicKey: differs from the registered key");
      goto out;
    }
  payload
      = bb_protocol_join_request_payload (ns, invite_id, canonical, jr->kind, jr->key_id,
                                          auth_public_key, wrap_public_key, jr->expires_at, &error);
  if (payload == NULL)
    {
      bb_server_respond_gerror (req, error);
      goto out;
    }
  if (!bb_protocol_verify_signature (auth_public_key, payload, signature, &error))
    {
      bb_server_respond_error (req, 403, "joinRequest.signature: the signature does not verify");
      goto out;
    }

  /* 4. Expiry within the invite's and the 10 minute bound. */
  if (jr->expires_at <= req->now
      || jr->expires_at
             > MIN (invite_expires_at, req->now + BB_PROTOCOL_MAX_JOIN_REQUEST_TTL + CLOCK_SKEW))
    {
      bb_server_respond_error (
          req, 400,
          "joinRequest.expiresAt: must be in the future, within %d s and not after "
          "the invite expires",
          BB_PROTOCOL_MAX_JOIN_REQUEST_TTL);
      goto out;
    }

  /* 5. and 6. Membership, an existing pending request, limits. */
  tx = bb_server_db_begin (self->db, &error);
  if (tx == NULL)
    goto internal;
  if (bb_server_db_is_member (self->db, ns, req->caller, NULL, &error))
    {
      bb_server_respond_error (req, 409, "already a member of this namespace");
      goto out;
    }
  if (error != NULL)
    goto internal;
  bb_server_db_get_pending_join_request (self->db, ns, req->caller, req->now, &existing_invite,
                                         &existing_hash, &error);
  if (error != NULL)
    goto internal;
  if (existing_hash != NULL)
    {
      /* The requester already waits for approval here: answer with that request. */
      respond_join_entry (req, ns, existing_invite, req->caller, existing_hash);
      goto out;
    }
  count = bb_server_db_count_pending_of_invite (self->db, invite_id, req->now, &error);
  if (error != NULL)
    goto internal;
  if (count >= max_pending)
    {
      bb_server_respond_error (req, 429, "invite has the maximum number of pending join requests");
      goto out;
    }
  count = bb_server_db_count_pending_of_key (self->db, req->caller, req->now, &error);
  if (error != NULL)
    goto internal;
  if ((guint64)count >= self->limits[BB_SERVER_LIMIT_PENDING_PER_REQUESTER])
    {
      bb_server_respond_error (req, 429, "too many pending join requests for this key");
      goto out;
    }

  /* 7. Store the request as sent (re-serialised from exactly the fields that were
   * checked; unknown fields were refused above), so approvers can rebuild the payload. */
  hash = bb_protocol_join_request_hash (payload);
  {
    g_autoptr (JsonNode) node = bb_msg_join_request_to_node (jr);
    stored_json = json_to_string (node, FALSE);
  }
  if (!bb_server_db_insert_join_request (self->db, ns, req->caller, hash, invite_id, stored_json,
                                         jr->expires_at, req->now, &error)
      || !bb_server_db_commit (tx, &error))
    goto internal;
  respond_join_entry (req, ns, invite_id, req->caller, hash);
  goto out;

internal:
  bb_server_respond_internal (req, error);
out:
  bb_msg_submit_join_request_clear (&request);
}

void
bb_server_handle_list_join_requests (BbServer *self, BbServerRequest *req)
{
  const char *ns = req->ids.namespace_id;
  g_autoptr (GError) error = NULL;
  BbMsgListJoinRequestsResponse response = { 0 };

  if (!bb_server_authenticate (self, req) || !bb_server_require_member (self, req, ns, NULL))
    return;
  response.requests = bb_server_db_list_pending_join_requests (self->db, ns, req->now, &error);
  if (response.requests == NULL)
    bb_server_respond_internal (req, error);
  else
    {
      response.namespace_id = g_strdup (ns);
      bb_server_respond_json_take (req, 200,
                                   bb_msg_list_join_requests_response_to_json (&response));
    }
  bb_msg_list_join_requests_response_clear (&response);
}

static const char *const approve_fields[] = { "inviteServerSecret", "wrappedDek", NULL };

void
bb_server_handle_approve (BbServer *self, BbServerRequest *req)
{
  const char *ns = req->ids.namespace_id;
  const char *key_id = req->ids.key_id;
  const char *hash = req->ids.join_request_hash;
  BbMsgApproveRequest request = { 0 };
  BbMsgApproveResponse response = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *invite_id = NULL;
  gboolean invite_revoked = FALSE;
  gint64 accepted = 0;
  gint64 max_accepted = 0;
  gint64 count;
  g_autoptr (BbServerDbTransaction) tx = NULL;

  if (!bb_server_authenticate (self, req) || !bb_server_require_member (self, req, ns, NULL)
      || !bb_server_validate_id (req, key_id, BB_PROTOCOL_KEY_ID_SIZE, "keyId")
      || !bb_server_validate_id (req, hash, 32, "joinRequestHash"))
    return;
  if (!bb_server_check_body (req, approve_fields, NULL, NULL))
    return;
  if (!bb_msg_approve_request_parse (&request, req->body, req->body_len, &error))
    {
      bb_server_respond_gerror (req, error);
      return;
    }
  if (!bb_server_check_wrapped_dek (req, request.wrapped_dek))
    goto out;

  tx = bb_server_db_begin (self->db, &error);
  if (tx == NULL)
    goto internal;
  bb_server_db_get_pending_approval (self->db, ns, key_id, hash, req->now, &invite_id,
                                     &invite_revoked, &accepted, &max_accepted, &error);
  if (error != NULL)
    goto internal;
  if (invite_id == NULL)
    {
      bb_server_respond_error (req, 404, "no pending join request with this key and hash");
      goto out;
    }
  if (!check_invite_secret (self, req, invite_id, request.invite_server_secret))
    goto out;
  if (invite_revoked)
    {
      bb_server_respond_error (req, 410, "invite revoked");
      goto out;
    }
  if (accepted >= max_accepted)
    {
      bb_server_respond_error (req, 429, "invite has reached maxAccepted");
      goto out;
    }
  if (bb_server_db_is_member (self->db, ns, key_id, NULL, &error))
    {
      bb_server_respond_error (req, 409, "already a member of this namespace");
      goto out;
    }
  if (error != NULL)
    goto internal;
  count = bb_server_db_count_members (self->db, ns, &error);
  if (error != NULL)
    goto internal;
  if ((guint64)count >= self->limits[BB_SERVER_LIMIT_MEMBERS_PER_NAMESPACE])
    {
      bb_server_respond_error (req, 429, "namespace has the maximum number of members");
      goto out;
    }
  count = bb_server_db_count_namespaces_of (self->db, key_id, &error);
  if (error != NULL)
    goto internal;
  if ((guint64)count >= self->limits[BB_SERVER_LIMIT_NAMESPACES_PER_KEY])
    {
      bb_server_respond_error (req, 429,
                               "the requester belongs to the maximum number of namespaces");
      goto out;
    }
  if (!bb_server_db_approve_join_request (self->db, ns, key_id, hash, invite_id,
                                          BB_PROTOCOL_KIND_KEYSTORE, request.wrapped_dek, req->now,
                                          &error)
      || !bb_server_db_commit (tx, &error))
    goto internal;

  response.namespace_id = (char *)ns;
  response.member_kind = (char *)BB_PROTOCOL_KIND_KEYSTORE;
  response.member_key_id = (char *)key_id;
  response.join_request_hash = (char *)hash;
  bb_server_respond_json_take (req, 200, bb_msg_approve_response_to_json (&response));
  bb_server_wake_watchers (self, ns);
  goto out;

internal:
  bb_server_respond_internal (req, error);
out:
  bb_msg_approve_request_clear (&request);
}

void
bb_server_handle_reject (BbServer *self, BbServerRequest *req)
{
  const char *ns = req->ids.namespace_id;
  const char *key_id = req->ids.key_id;
  const char *hash = req->ids.join_request_hash;
  BbMsgRejectResponse response = { 0 };
  g_autoptr (GError) error = NULL;
  gboolean rejected = FALSE;

  if (!bb_server_authenticate (self, req) || !bb_server_require_member (self, req, ns, NULL)
      || !bb_server_validate_id (req, key_id, BB_PROTOCOL_KEY_ID_SIZE, "keyId")
      || !bb_server_validate_id (req, hash, 32, "joinRequestHash"))
    return;
  if (!bb_server_db_reject_join_request (self->db, ns, key_id, hash, &rejected, &error))
    {
      bb_server_respond_internal (req, error);
      return;
    }
  if (!rejected)
    {
      bb_server_respond_error (req, 404, "no pending join request with this key and hash");
      return;
    }
  response.namespace_id = (char *)ns;
  response.requester_key_id = (char *)key_id;
  response.join_request_hash = (char *)hash;
  response.rejected = TRUE;
  bb_server_respond_json_take (req, 200, bb_msg_reject_response_to_json (&response));
}
