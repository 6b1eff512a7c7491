/* bb-messages-invites.c: the bodies of invites and join requests, protocol §6.11 to §6.17
 *
 * Creating, listing and revoking invites, and submitting, listing, approving and
 * rejecting join requests: one file per resource of the protocol, on the field readers
 * and writer they share (bb-message-fields.c).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "bb-i18n-private.h"

#include "bb-protocol.h"
#include "bb-message-fields-private.h"

/* ------------------------------------------------------------------------------------ */
/* §6.11 create invite                                                                  */

void
bb_msg_create_invite_request_clear (BbMsgCreateInviteRequest *msg)
{
  g_free (msg->kind);
  g_free (msg->key_id);
  g_free (msg->invite_id);
  g_free (msg->invite_server_secret_hash);
  g_free (msg->challenge);
  g_free (msg->intent_signature);
  memset (msg, 0, sizeof *msg);
}

char *
bb_msg_create_invite_request_to_json (const BbMsgCreateInviteRequest *msg)
{
  BbJsonWriter w;

  bb_json_writer_begin (&w);
  bb_json_write_string (&w, "kind", msg->kind);
  bb_json_write_string (&w, "keyId", msg->key_id);
  bb_json_write_string (&w, "inviteId", msg->invite_id);
  bb_json_write_string (&w, "inviteServerSecretHash", msg->invite_server_secret_hash);
  bb_json_write_string (&w, "challenge", msg->challenge);
  bb_json_write_string (&w, "intentSignature", msg->intent_signature);
  bb_json_write_int (&w, "expiresAt", msg->expires_at);
  if (msg->has_max_pending)
    bb_json_write_int (&w, "maxPending", msg->max_pending);
  bb_json_write_int (&w, "maxAccepted", msg->max_accepted);
  return bb_json_writer_finish (&w);
}

static gboolean
bb_msg_create_invite_request_read (const BbJsonDoc *doc, JsonObject *o,
                                   BbMsgCreateInviteRequest *msg, GError **error)
{
  return bb_msg_req_string (o, NULL, "kind", &msg->kind, error)
         && bb_msg_req_lower_hex (o, NULL, "keyId", BB_PROTOCOL_KEY_ID_SIZE, &msg->key_id, error)
         && bb_msg_req_lower_hex (o, NULL, "inviteId", BB_PROTOCOL_INVITE_ID_SIZE, &msg->invite_id,
                                  error)
         && bb_msg_req_lower_hex (o, NULL, "inviteServerSecretHash", 32,
                                  &msg->invite_server_secret_hash, error)
         && bb_msg_req_base64 (o, NULL, "challenge", BB_PROTOCOL_CHALLENGE_SIZE, &msg->challenge,
                               error)
         && bb_msg_req_hex (o, NULL, "intentSignature", BB_PROTOCOL_SIGNATURE_SIZE,
                            &msg->intent_signature, error)
         && bb_msg_req_int64 (doc, o, NULL, "expiresAt", &msg->expires_at, error)
         && bb_msg_opt_int64 (doc, o, NULL, "maxPending", &msg->has_max_pending, &msg->max_pending,
                              error)
         && bb_msg_req_int64 (doc, o, NULL, "maxAccepted", &msg->max_accepted, error);
}
BB_MSG_DEFINE_PARSE (BbMsgCreateInviteRequest, bb_msg_create_invite_request)

void
bb_msg_create_invite_response_clear (BbMsgCreateInviteResponse *msg)
{
  g_free (msg->namespace_id);
  g_free (msg->invite_id);
  memset (msg, 0, sizeof *msg);
}

char *
bb_msg_create_invite_response_to_json (const BbMsgCreateInviteResponse *msg)
{
  BbJsonWriter w;

  bb_json_writer_begin (&w);
  bb_json_write_string (&w, "namespaceId", msg->namespace_id);
  bb_json_write_string (&w, "inviteId", msg->invite_id);
  bb_json_write_int (&w, "expiresAt", msg->expires_at);
  if (msg->has_max_pending)
    bb_json_write_int (&w, "maxPending", msg->max_pending);
  bb_json_write_int (&w, "maxAccepted", msg->max_accepted);
  return bb_json_writer_finish (&w);
}

static gboolean
bb_msg_create_invite_response_read (const BbJsonDoc *doc, JsonObject *o,
                                    BbMsgCreateInviteResponse *msg, GError **error)
{
  return bb_msg_req_lower_hex (o, NULL, "namespaceId", BB_PROTOCOL_NAMESPACE_ID_SIZE,
                               &msg->namespace_id, error)
         && bb_msg_req_lower_hex (o, NULL, "inviteId", BB_PROTOCOL_INVITE_ID_SIZE, &msg->invite_id,
                                  error)
         && bb_msg_req_int64 (doc, o, NULL, "expiresAt", &msg->expires_at, error)
         && bb_msg_opt_int64 (doc, o, NULL, "maxPending", &msg->has_max_pending, &msg->max_pending,
                              error)
         && bb_msg_req_int64 (doc, o, NULL, "maxAccepted", &msg->max_accepted, error);
}
BB_MSG_DEFINE_PARSE (BbMsgCreateInviteResponse, bb_msg_create_invite_response)

/* ------------------------------------------------------------------------------------ */
/* §6.12 list invites                                                                   */

void
bb_msg_invite_summary_free (BbMsgInviteSummary *summary)
{
  if (summary == NULL)
    return;
  g_free (summary->invite_id);
  g_free (summary->created_by_key_id);
  g_clear_pointer (&summary->created_at, g_date_time_unref);
  g_clear_pointer (&summary->revoked_at, g_date_time_unref);
  g_free (summary);
}

void
bb_msg_list_invites_response_clear (BbMsgListInvitesResponse *msg)
{
  g_free (msg->namespace_id);
  g_clear_pointer (&msg->invites, g_ptr_array_unref);
  memset (msg, 0, sizeof *msg);
}

static void
write_invite_summary (BbJsonWriter *w, gconstpointer element)
{
  const BbMsgInviteSummary *s = element;

  bb_json_write_string (w, "inviteId", s->invite_id);
  bb_json_write_string (w, "createdByKeyId", s->created_by_key_id);
  bb_json_write_time (w, "createdAt", s->created_at);
  bb_json_write_int (w, "expiresAt", s->expires_at);
  if (s->has_max_pending)
    bb_json_write_int (w, "maxPending", s->max_pending);
  bb_json_write_int (w, "maxAccepted", s->max_accepted);
  bb_json_write_int (w, "activeRequestCount", s->active_request_count);
  bb_json_write_int (w, "acceptedCount", s->accepted_count);
  bb_json_write_time_nullable (w, "revokedAt", s->revoked_at);
}

static gboolean
read_invite_summary (const BbJsonDoc *doc, JsonObject *e, const char *path, gpointer element,
                     GError **error)
{
  BbMsgInviteSummary *s = element;

  return bb_msg_req_lower_hex (e, path, "inviteId", BB_PROTOCOL_INVITE_ID_SIZE, &s->invite_id,
                               error)
         && bb_msg_req_lower_hex (e, path, "createdByKeyId", BB_PROTOCOL_KEY_ID_SIZE,
                                  &s->created_by_key_id, error)
         && bb_msg_req_time (e, path, "createdAt", &s->created_at, error)
         && bb_msg_req_int64 (doc, e, path, "expiresAt", &s->expires_at, error)
         && bb_msg_opt_int64 (doc, e, path, "maxPending", &s->has_max_pending, &s->max_pending,
                              error)
         && bb_msg_req_int64 (doc, e, path, "maxAccepted", &s->max_accepted, error)
         && bb_msg_req_int64 (doc, e, path, "activeRequestCount", &s->active_request_count, error)
         && bb_msg_req_int64 (doc, e, path, "acceptedCount", &s->accepted_count, error)
         && bb_msg_nullable_time (e, path, "revokedAt", &s->revoked_at, error);
}

char *
bb_msg_list_invites_response_to_json (const BbMsgListInvitesResponse *msg)
{
  BbJsonWriter w;

  bb_json_writer_begin (&w);
  bb_json_write_string (&w, "namespaceId", msg->namespace_id);
  bb_json_write_object_list (&w, "invites", msg->invites, write_invite_summary);
  return bb_json_writer_finish (&w);
}

static gboolean
bb_msg_list_invites_response_read (const BbJsonDoc *doc, JsonObject *o,
                                   BbMsgListInvitesResponse *msg, GError **error)
{
  return bb_msg_req_lower_hex (o, NULL, "namespaceId", BB_PROTOCOL_NAMESPACE_ID_SIZE,
                               &msg->namespace_id, error)
         && bb_msg_read_object_list (
             doc, o, "invites", sizeof (BbMsgInviteSummary), read_invite_summary,
             (GDestroyNotify)bb_msg_invite_summary_free, &msg->invites, error);
}
BB_MSG_DEFINE_PARSE (BbMsgListInvitesResponse, bb_msg_list_invites_response)

/* ------------------------------------------------------------------------------------ */
/* §6.13 revoke invite                                                                  */

void
bb_msg_revoke_invite_response_clear (BbMsgRevokeInviteResponse *msg)
{
  g_free (msg->namespace_id);
  g_free (msg->invite_id);
  memset (msg, 0, sizeof *msg);
}

char *
bb_msg_revoke_invite_response_to_json (const BbMsgRevokeInviteResponse *msg)
{
  BbJsonWriter w;

  bb_json_writer_begin (&w);
  bb_json_write_string (&w, "namespaceId", msg->namespace_id);
  bb_json_write_string (&w, "inviteId", msg->invite_id);
  bb_json_write_bool (&w, "revoked", msg->revoked);
  return bb_json_writer_finish (&w);
}

static gboolean
bb_msg_revoke_invite_response_read (const BbJsonDoc *doc, JsonObject *o,
                                    BbMsgRevokeInviteResponse *msg, GError **error)
{
  return bb_msg_req_lower_hex (o, NULL, "namespaceId", BB_PROTOCOL_NAMESPACE_ID_SIZE,
                               &msg->namespace_id, error)
         && bb_msg_req_lower_hex (o, NULL, "inviteId", BB_PROTOCOL_INVITE_ID_SIZE, &msg->invite_id,
                                  error)
         && bb_msg_req_bool (o, NULL, "revoked", &msg->revoked, error);
}
BB_MSG_DEFINE_PARSE (BbMsgRevokeInviteResponse, bb_msg_revoke_invite_response)

/* ------------------------------------------------------------------------------------ */
/* §6.14 join requests                                                                  */

void
bb_msg_join_request_clear (BbMsgJoinRequest *msg)
{
  g_free (msg->namespace_id);
  g_free (msg->invite_id);
  g_free (msg->server_origin);
  g_free (msg->kind);
  g_free (msg->key_id);
  g_free (msg->auth_public_key);
  g_free (msg->wrap_public_key);
  g_free (msg->signature);
  g_free (msg->invite_proof);
  memset (msg, 0, sizeof *msg);
}

/* @dest is overwritten, not cleared first: pass a zeroed or cleared struct. */
void
bb_msg_join_request_copy (const BbMsgJoinRequest *src, BbMsgJoinRequest *dest)
{
  g_return_if_fail (src != NULL);
  g_return_if_fail (dest != NULL);

  dest->version = src->version;
  dest->namespace_id = g_strdup (src->namespace_id);
  dest->invite_id = g_strdup (src->invite_id);
  dest->server_origin = g_strdup (src->server_origin);
  dest->kind = g_strdup (src->kind);
  dest->key_id = g_strdup (src->key_id);
  dest->auth_public_key = g_strdup (src->auth_public_key);
  dest->wrap_public_key = g_strdup (src->wrap_public_key);
  dest->expires_at = src->expires_at;
  dest->signature = g_strdup (src->signature);
  dest->invite_proof = g_strdup (src->invite_proof);
}

static void
write_join_request (const BbJsonWriter *parent, const BbMsgJoinRequest *jr)
{
  BbJsonWriter w;

  bb_json_writer_begin_nested (&w, parent);
  bb_json_write_int (&w, "version", jr->version);
  bb_json_write_string (&w, "namespaceId", jr->namespace_id);
  bb_json_write_string (&w, "inviteId", jr->invite_id);
  bb_json_write_string (&w, "serverOrigin", jr->server_origin);
  bb_json_write_string (&w, "kind", jr->kind);
  bb_json_write_string (&w, "keyId", jr->key_id);
  bb_json_write_string (&w, "authPublicKey", jr->auth_public_key);
  bb_json_write_string (&w, "wrapPublicKey", jr->wrap_public_key);
  bb_json_write_int (&w, "expiresAt", jr->expires_at);
  bb_json_write_string (&w, "signature", jr->signature);
  bb_json_write_string (&w, "inviteProof", jr->invite_proof);
  bb_json_writer_end (&w);
}

JsonNode *
bb_msg_join_request_to_node (const BbMsgJoinRequest *msg)
{
  JsonObject *o;
  JsonNode *node;

  g_return_val_if_fail (msg != NULL, NULL);

  o = json_object_new ();
  node = json_node_alloc ();

  /* Members in the field order of the spec; NULL strings become "" as in Go. */
#define SET_STR(name, value) json_object_set_string_member (o, name, (value) != NULL ? (value) : "")
  json_object_set_int_member (o, "version", msg->version);
  SET_STR ("namespaceId", msg->namespace_id);
  SET_STR ("inviteId", msg->invite_id);
  SET_STR ("serverOrigin", msg->server_origin);
  SET_STR ("kind", msg->kind);
  SET_STR ("keyId", msg->key_id);
  SET_STR ("authPublicKey", msg->auth_public_key);
  SET_STR ("wrapPublicKey", msg->wrap_public_key);
  json_object_set_int_member (o, "expiresAt", msg->expires_at);
  SET_STR ("signature", msg->signature);
  SET_STR ("inviteProof", msg->invite_proof);
#undef SET_STR

  json_node_init_object (node, o);
  json_object_unref (o);
  return node;
}

static gboolean
read_join_request (const BbJsonDoc *doc, JsonObject *o, const char *path, BbMsgJoinRequest *msg,
                   GError **error)
{
  return bb_msg_req_int64 (doc, o, path, "version", &msg->version, error)
         && bb_msg_req_lower_hex (o, path, "namespaceId", BB_PROTOCOL_NAMESPACE_ID_SIZE,
                                  &msg->namespace_id, error)
         && bb_msg_req_lower_hex (o, path, "inviteId", BB_PROTOCOL_INVITE_ID_SIZE, &msg->invite_id,
                                  error)
         && bb_msg_req_string (o, path, "serverOrigin", &msg->server_origin, error)
         && bb_msg_req_string (o, path, "kind", &msg->kind, error)
         && bb_msg_req_lower_hex (o, path, "keyId", BB_PROTOCOL_KEY_ID_SIZE, &msg->key_id, error)
         && bb_msg_req_lower_hex (o, path, "authPublicKey", BB_PROTOCOL_PUBLIC_KEY_SIZE,
                                  &msg->auth_public_key, error)
         && bb_msg_req_lower_hex (o, path, "wrapPublicKey", BB_PROTOCOL_PUBLIC_KEY_SIZE,
                                  &msg->wrap_public_key, error)
         && bb_msg_req_int64 (doc, o, path, "expiresAt", &msg->expires_at, error)
         && bb_msg_req_lower_hex (o, path, "signature", BB_PROTOCOL_SIGNATURE_SIZE, &msg->signature,
                                  error)
         && bb_msg_req_base64url (o, path, "inviteProof", 32, &msg->invite_proof, error);
}

gboolean
bb_msg_join_request_from_node (BbMsgJoinRequest *msg, JsonNode *node, const char *field,
                               GError **error)
{
  g_return_val_if_fail (msg != NULL, FALSE);

  memset (msg, 0, sizeof *msg);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return bb_msg_field_error (error, NULL, field != NULL ? field : "joinRequest", "%s",
                               _ ("expected an object"));
  if (!read_join_request (NULL, json_node_get_object (node), field, msg, error))
    {
      bb_msg_join_request_clear (msg);
      return FALSE;
    }
  return TRUE;
}

void
bb_msg_submit_join_request_clear (BbMsgSubmitJoinRequest *msg)
{
  bb_msg_free_secret (&msg->invite_server_secret);
  bb_msg_join_request_clear (&msg->join_request);
  memset (msg, 0, sizeof *msg);
}

static void
write_submit_join_request (BbJsonWriter *w, gconstpointer data)
{
  const BbMsgSubmitJoinRequest *msg = data;

  bb_json_write_string (w, "inviteServerSecret", msg->invite_server_secret);
  bb_json_writer_key (w, "joinRequest");
  write_join_request (w, &msg->join_request);
}

char *
bb_msg_submit_join_request_to_json (const BbMsgSubmitJoinRequest *msg)
{
  return bb_json_write_secret (write_submit_join_request, msg);
}

static gboolean
bb_msg_submit_join_request_read (const BbJsonDoc *doc, JsonObject *o, BbMsgSubmitJoinRequest *msg,
                                 GError **error)
{
  JsonObject *jr;

  if (!bb_msg_req_base64url (o, NULL, "inviteServerSecret", 32, &msg->invite_server_secret, error))
    return FALSE;
  jr = bb_msg_req_object (o, NULL, "joinRequest", error);
  return jr != NULL && read_join_request (doc, jr, "joinRequest", &msg->join_request, error);
}
BB_MSG_DEFINE_PARSE (BbMsgSubmitJoinRequest, bb_msg_submit_join_request)

void
bb_msg_submit_join_response_clear (BbMsgSubmitJoinResponse *msg)
{
  g_free (msg->namespace_id);
  g_free (msg->invite_id);
  g_free (msg->requester_kind);
  g_free (msg->requester_key_id);
  g_free (msg->join_request_hash);
  g_free (msg->status);
  memset (msg, 0, sizeof *msg);
}

char *
bb_msg_submit_join_response_to_json (const BbMsgSubmitJoinResponse *msg)
{
  BbJsonWriter w;

  bb_json_writer_begin (&w);
  bb_json_write_string (&w, "namespaceId", msg->namespace_id);
  bb_json_write_string (&w, "inviteId", msg->invite_id);
  bb_json_write_string (&w, "requesterKind", msg->requester_kind);
  bb_json_write_string (&w, "requesterKeyId", msg->requester_key_id);
  bb_json_write_string (&w, "joinRequestHash", msg->join_request_hash);
  bb_json_write_string (&w, "status", msg->status);
  return bb_json_writer_finish (&w);
}

static gboolean
bb_msg_submit_join_response_read (const BbJsonDoc *doc, JsonObject *o, BbMsgSubmitJoinResponse *msg,
                                  GError **error)
{
  return bb_msg_req_lower_hex (o, NULL, "namespaceId", BB_PROTOCOL_NAMESPACE_ID_SIZE,
                               &msg->namespace_id, error)
         && bb_msg_req_lower_hex (o, NULL, "inviteId", BB_PROTOCOL_INVITE_ID_SIZE, &msg->invite_id,
                                  error)
         && bb_msg_req_string (o, NULL, "requesterKind", &msg->requester_kind, error)
         && bb_msg_req_lower_hex (o, NULL, "requesterKeyId", BB_PROTOCOL_KEY_ID_SIZE,
                                  &msg->requester_key_id, error)
         && bb_msg_req_lower_hex (o, NULL, "joinRequestHash", 32, &msg->join_request_hash, error)
         && bb_msg_req_string (o, NULL, "status", &msg->status, error);
}
BB_MSG_DEFINE_PARSE (BbMsgSubmitJoinResponse, bb_msg_submit_join_response)

/* ------------------------------------------------------------------------------------ */
/* §6.15 list join requests                                                             */

void
bb_msg_join_request_entry_free (BbMsgJoinRequestEntry *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->invite_id);
  g_free (entry->join_request_hash);
  g_clear_pointer (&entry->created_at, g_date_time_unref);
  g_free (entry->status);
  bb_msg_join_request_clear (&entry->join_request);
  g_free (entry);
}

void
bb_msg_list_join_requests_response_clear (BbMsgListJoinRequestsResponse *msg)
{
  g_free (msg->namespace_id);
  g_clear_pointer (&msg->requests, g_ptr_array_unref);
  memset (msg, 0, sizeof *msg);
}

static void
write_join_request_entry (BbJsonWriter *w, gconstpointer element)
{
  const BbMsgJoinRequestEntry *e = element;

  bb_json_write_string (w, "inviteId", e->invite_id);
  bb_json_write_string (w, "joinRequestHash", e->join_request_hash);
  bb_json_write_time (w, "createdAt", e->created_at);
  bb_json_write_string (w, "status", e->status);
  bb_json_writer_key (w, "joinRequest");
  write_join_request (w, &e->join_request);
}

static gboolean
read_join_request_entry (const BbJsonDoc *doc, JsonObject *e, const char *path, gpointer element,
                         GError **error)
{
  BbMsgJoinRequestEntry *entry = element;
  g_autofree char *jr_path = NULL;
  JsonObject *jr;

  if (!bb_msg_req_lower_hex (e, path, "inviteId", BB_PROTOCOL_INVITE_ID_SIZE, &entry->invite_id,
                             error)
      || !bb_msg_req_lower_hex (e, path, "joinRequestHash", 32, &entry->join_request_hash, error)
      || !bb_msg_req_time (e, path, "createdAt", &entry->created_at, error)
      || !bb_msg_req_string (e, path, "status", &entry->status, error))
    return FALSE;
  jr = bb_msg_req_object (e, path, "joinRequest", error);
  if (jr == NULL)
    return FALSE;
  jr_path = bb_msg_field_path (path, "joinRequest");
  return read_join_request (doc, jr, jr_path, &entry->join_request, error);
}

char *
bb_msg_list_join_requests_response_to_json (const BbMsgListJoinRequestsResponse *msg)
{
  BbJsonWriter w;

  bb_json_writer_begin (&w);
  bb_json_write_string (&w, "namespaceId", msg->namespace_id);
  bb_json_write_object_list (&w, "requests", msg->requests, write_join_request_entry);
  return bb_json_writer_finish (&w);
}

static gboolean
bb_msg_list_join_requests_response_read (const BbJsonDoc *doc, JsonObject *o,
                                         BbMsgListJoinRequestsResponse *msg, GError **error)
{
  return bb_msg_req_lower_hex (o, NULL, "namespaceId", BB_PROTOCOL_NAMESPACE_ID_SIZE,
                               &msg->namespace_id, error)
         && bb_msg_read_object_list (
             doc, o, "requests", sizeof (BbMsgJoinRequestEntry), read_join_request_entry,
             (GDestroyNotify)bb_msg_join_request_entry_free, &msg->requests, error);
}
BB_MSG_DEFINE_PARSE (BbMsgListJoinRequestsResponse, bb_msg_list_join_requests_response)

/* ------------------------------------------------------------------------------------ */
/* §6.16 approve                                                                        */

void
bb_msg_approve_request_clear (BbMsgApproveRequest *msg)
{
  bb_msg_free_secret (&msg->invite_server_secret);
  g_free (msg->wrapped_dek);
  memset (msg, 0, sizeof *msg);
}

static void
write_approve_request (BbJsonWriter *w, gconstpointer data)
{
  const BbMsgApproveRequest *msg = data;

  bb_json_write_string (w, "inviteServerSecret", msg->invite_server_secret);
  bb_json_write_string (w, "wrappedDek", msg->wrapped_dek);
}

char *
bb_msg_approve_request_to_json (const BbMsgApproveRequest *msg)
{
  return bb_json_write_secret (write_approve_request, msg);
}

static gboolean
bb_msg_approve_request_read (const BbJsonDoc *doc, JsonObject *o, BbMsgApproveRequest *msg,
                             GError **error)
{
  return bb_msg_req_base64url (o, NULL, "inviteServerSecret", 32, &msg->invite_server_secret, error)
         && bb_msg_req_base64 (o, NULL, "wrappedDek", BB_PROTOCOL_WRAPPED_DEK_SIZE,
                               &msg->wrapped_dek, error);
}
BB_MSG_DEFINE_PARSE (BbMsgApproveRequest, bb_msg_approve_request)

void
bb_msg_approve_response_clear (BbMsgApproveResponse *msg)
{
  g_free (msg->namespace_id);
  g_free (msg->member_kind);
  g_free (msg->member_key_id);
  g_free (msg->join_request_hash);
  memset (msg, 0, sizeof *msg);
}

char *
bb_msg_approve_response_to_json (const BbMsgApproveResponse *msg)
{
  BbJsonWriter w;

  bb_json_writer_begin (&w);
  bb_json_write_string (&w, "namespaceId", msg->namespace_id);
  bb_json_write_string (&w, "memberKind", msg->member_kind);
  bb_json_write_string (&w, "memberKeyId", msg->member_key_id);
  bb_json_write_string (&w, "joinRequestHash", msg->join_request_hash);
  return bb_json_writer_finish (&w);
}

static gboolean
bb_msg_approve_response_read (const BbJsonDoc *doc, JsonObject *o, BbMsgApproveResponse *msg,
                              GError **error)
{
  return bb_msg_req_lower_hex (o, NULL, "namespaceId", BB_PROTOCOL_NAMESPACE_ID_SIZE,
                               &msg->namespace_id, error)
         && bb_msg_req_string (o, NULL, "memberKind", &msg->member_kind, error)
         && bb_msg_req_lower_hex (o, NULL, "memberKeyId", BB_PROTOCOL_KEY_ID_SIZE,
                                  &msg->member_key_id, error)
         && bb_msg_req_lower_hex (o, NULL, "joinRequestHash", 32, &msg->join_request_hash, error);
}
BB_MSG_DEFINE_PARSE (BbMsgApproveResponse, bb_msg_approve_response)

/* ------------------------------------------------------------------------------------ */
/* §6.17 reject                                                                         */

void
bb_msg_reject_response_clear (BbMsgRejectResponse *msg)
{
  g_free (msg->namespace_id);
  g_free (msg->requester_key_id);
  g_free (msg->join_request_hash);
  memset (msg, 0, sizeof *msg);
}

char *
bb_msg_reject_response_to_json (const BbMsgRejectResponse *msg)
{
  BbJsonWriter w;

  bb_json_writer_begin (&w);
  bb_json_write_string (&w, "namespaceId", msg->namespace_id);
  bb_json_write_string (&w, "requesterKeyId", msg->requester_key_id);
  bb_json_write_string (&w, "joinRequestHash", msg->join_request_hash);
  bb_json_write_bool (&w, "rejected", msg->rejected);
  return bb_json_writer_finish (&w);
}

static gboolean
bb_msg_reject_response_read (const BbJsonDoc *doc, JsonObject *o, BbMsgRejectResponse *msg,
                             GError **error)
{
  return bb_msg_req_lower_hex (o, NULL, "namespaceId", BB_PROTOCOL_NAMESPACE_ID_SIZE,
                               &msg->namespace_id, error)
         && bb_msg_req_lower_hex (o, NULL, "requesterKeyId", BB_PROTOCOL_KEY_ID_SIZE,
                                  &msg->requester_key_id, error)
         && bb_msg_req_lower_hex (o, NULL, "joinRequestHash", 32, &msg->join_request_hash, error)
         && bb_msg_req_bool (o, NULL, "rejected", &msg->rejected, error);
}
BB_MSG_DEFINE_PARSE (BbMsgRejectResponse, bb_msg_reject_response)
