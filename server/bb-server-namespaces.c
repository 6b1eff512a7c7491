/* bb-server-namespaces.c: the reference server's namespace endpoints: the default and
 * shared namespaces, the caller's list, members and wrapped DEKs.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-server-private.h"

#include "bb-protocol-messages-private.h"
#include "bb-protocol.h"
#include "bb-protocol-private.h"

void
bb_server_handle_get_default (BbServer *self, BbServerRequest *req)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *default_ns = NULL;
  BbMsgDefaultNamespaceResponse response = { 0 };

  if (!bb_server_authenticate (self, req))
    return;
  if (!bb_server_db_get_key (self->db, req->caller, NULL, NULL, &default_ns, &error))
    {
      bb_server_respond_internal (req, error);
      return;
    }
  if (default_ns == NULL)
    {
      bb_server_respond_error (req, 404, "no default namespace");
      return;
    }
  response.namespace_id = default_ns;
  response.kind = (char *)BB_PROTOCOL_NAMESPACE_KIND_DEFAULT;
  bb_server_respond_json_take (req, 200, bb_msg_default_namespace_response_to_json (&response));
}

static const char *const ensure_default_fields[] = { "proposedNamespaceId", "wrappedDek", NULL };

void
bb_server_handle_ensure_default (BbServer *self, BbServerRequest *req)
{
  BbMsgEnsureDefaultRequest request = { 0 };
  BbMsgEnsureDefaultResponse response = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *default_ns = NULL;
  gint64 count;
  g_autoptr (BbServerDbTransaction) tx = NULL;

  if (!bb_server_authenticate (self, req)
      || !bb_server_check_body (req, ensure_default_fields, NULL, NULL))
    return;
  if (!bb_msg_ensure_default_request_parse (&request, req->body, req->body_len, &error))
    {
      bb_server_respond_gerror (req, error);
      return;
    }
  if (!bb_server_validate_id (req, request.proposed_namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE,
                              "proposedNamespaceId")
      || !bb_server_check_wrapped_dek (req, request.wrapped_dek))
    goto out;

  tx = bb_server_db_begin (self->db, &error);
  if (tx == NULL)
    goto internal;
  if (!bb_server_db_get_key (self->db, req->caller, NULL, NULL, &default_ns, &error))
    goto internal;

  if (default_ns != NULL)
    {
      response.wrapped_dek
          = bb_server_db_get_wrapped_dek (self->db, default_ns, req->caller, &error);
      if (error != NULL)
        goto internal;
      response.namespace_id = g_steal_pointer (&default_ns);
      response.created = FALSE;
    }
  else
    {
      if (bb_server_db_namespace_exists (self->db, request.proposed_namespace_id, &error))
        {
          bb_server_respond_error (req, 409, "proposedNamespaceId: namespace already exists");
          goto out;
        }
      if (error != NULL)
        goto internal;
      count = bb_server_db_count_namespaces_of (self->db, req->caller, &error);
      if (error != NULL)
        goto internal;
      if ((guint64)count >= self->limits[BB_SERVER_LIMIT_NAMESPACES_PER_KEY])
        {
          bb_server_respond_error (req, 429, "too many namespaces for this key");
          goto out;
        }
      if (!bb_server_db_insert_namespace (
              self->db, request.proposed_namespace_id, BB_PROTOCOL_NAMESPACE_KIND_DEFAULT,
              req->caller, BB_PROTOCOL_KIND_KEYSTORE, request.wrapped_dek, req->now, &error)
          || !bb_server_db_set_default_namespace (self->db, req->caller,
                                                  request.proposed_namespace_id, &error)
          || !bb_server_db_commit (tx, &error))
        goto internal;
      response.namespace_id = g_strdup (request.proposed_namespace_id);
      response.wrapped_dek = g_strdup (request.wrapped_dek);
      response.created = TRUE;
    }
  response.kind = g_strdup (BB_PROTOCOL_NAMESPACE_KIND_DEFAULT);
  bb_server_respond_json_take (req, 200, bb_msg_ensure_default_response_to_json (&response));
  if (response.created)
    bb_server_wake_watchers (self, response.namespace_id);
  goto out;

internal:
  bb_server_respond_internal (req, error);
out:
  bb_msg_ensure_default_response_clear (&response);
  bb_msg_ensure_default_request_clear (&request);
}

void
bb_server_handle_mine (BbServer *self, BbServerRequest *req)
{
  g_autoptr (GError) error = NULL;
  BbMsgMineResponse response = { 0 };

  if (!bb_server_authenticate (self, req))
    return;
  response.namespaces = bb_server_db_list_namespaces_of (self->db, req->caller, &error);
  if (response.namespaces == NULL)
    {
      bb_server_respond_internal (req, error);
      return;
    }
  bb_server_respond_json_take (req, 200, bb_msg_mine_response_to_json (&response));
  bb_msg_mine_response_clear (&response);
}

static const char *const create_namespace_fields[] = { "namespaceId", "wrappedDek", NULL };

void
bb_server_handle_create_namespace (BbServer *self, BbServerRequest *req)
{
  BbMsgCreateNamespaceRequest request = { 0 };
  BbMsgCreateNamespaceResponse response = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *kind = NULL;
  g_autofree char *created_by = NULL;
  gint64 count;
  g_autoptr (BbServerDbTransaction) tx = NULL;

  if (!bb_server_authenticate (self, req)
      || !bb_server_check_body (req, create_namespace_fields, NULL, NULL))
    return;
  if (!bb_msg_create_namespace_request_parse (&request, req->body, req->body_len, &error))
    {
      bb_server_respond_gerror (req, error);
      return;
    }
  if (!bb_server_validate_id (req, request.namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE,
                              "namespaceId")
      || !bb_server_check_wrapped_dek (req, request.wrapped_dek))
    goto out;

  tx = bb_server_db_begin (self->db, &error);
  if (tx == NULL)
    goto internal;
  if (bb_server_db_get_namespace (self->db, request.namespace_id, &kind, &created_by, &error))
    {
      /* A repeat by the creator (a lost response) is answered as a success. */
      gboolean repeat = g_str_equal (kind, BB_PROTOCOL_NAMESPACE_KIND_SHARED)
                        && g_str_equal (created_by, req->caller);
      if (!repeat)
        {
          bb_server_respond_error (req, 409, "namespaceId: namespace already exists");
          goto out;
        }
      response.created = FALSE;
    }
  else
    {
      if (error != NULL)
        goto internal;
      count = bb_server_db_count_namespaces_of (self->db, req->caller, &error);
      if (error != NULL)
        goto internal;
      if ((guint64)count >= self->limits[BB_SERVER_LIMIT_NAMESPACES_PER_KEY])
        {
          bb_server_respond_error (req, 429, "too many namespaces for this key");
          goto out;
        }
      if (!bb_server_db_insert_namespace (
              self->db, request.namespace_id, BB_PROTOCOL_NAMESPACE_KIND_SHARED, req->caller,
              BB_PROTOCOL_KIND_KEYSTORE, request.wrapped_dek, req->now, &error)
          || !bb_server_db_commit (tx, &error))
        goto internal;
      response.created = TRUE;
    }
  response.namespace_id = g_strdup (request.namespace_id);
  response.kind = g_strdup (BB_PROTOCOL_NAMESPACE_KIND_SHARED);
  bb_server_respond_json_take (req, 200, bb_msg_create_namespace_response_to_json (&response));
  if (response.created)
    bb_server_wake_watchers (self, response.namespace_id);
  goto out;

internal:
  bb_server_respond_internal (req, error);
out:
  bb_msg_create_namespace_response_clear (&response);
  bb_msg_create_namespace_request_clear (&request);
}

void
bb_server_handle_members (BbServer *self, BbServerRequest *req)
{
  const char *ns = req->ids.namespace_id;
  g_autoptr (GError) error = NULL;
  BbMsgMembersResponse response = { 0 };

  if (!bb_server_authenticate (self, req) || !bb_server_require_member (self, req, ns, NULL))
    return;
  response.members = bb_server_db_list_members (self->db, ns, &error);
  if (response.members == NULL)
    bb_server_respond_internal (req, error);
  else
    {
      response.namespace_id = g_strdup (ns);
      bb_server_respond_json_take (req, 200, bb_msg_members_response_to_json (&response));
    }
  bb_msg_members_response_clear (&response);
}

void
bb_server_handle_wrapped_dek (BbServer *self, BbServerRequest *req)
{
  const char *ns = req->ids.namespace_id;
  const char *key_id = req->ids.key_id;
  g_autoptr (GError) error = NULL;
  BbMsgWrappedDekResponse response = { 0 };

  if (!bb_server_authenticate (self, req) || !bb_server_require_member (self, req, ns, NULL)
      || !bb_server_validate_id (req, key_id, BB_PROTOCOL_KEY_ID_SIZE, "keyId"))
    return;
  if (!g_str_equal (key_id, req->caller))
    {
      bb_server_respond_error (req, 403, "keyId: only the caller's own wrapped DEK can be read");
      return;
    }
  response.wrapped_dek = bb_server_db_get_wrapped_dek (self->db, ns, key_id, &error);
  if (error != NULL)
    {
      bb_server_respond_internal (req, error);
      return;
    }
  if (response.wrapped_dek == NULL)
    {
      bb_server_respond_error (req, 404, "no wrapped DEK for this member");
      return;
    }
  response.namespace_id = g_strdup (ns);
  response.key_id = g_strdup (key_id);
  bb_server_respond_json_take (req, 200, bb_msg_wrapped_dek_response_to_json (&response));
  bb_msg_wrapped_dek_response_clear (&response);
}
