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
  if (!bb_server_load_key (self, req->caller, NULL, NULL, &default_ns, &error))
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

static gboolean
create_namespace (BbServer *self, BbServerRequest *req, const char *namespace_id, const char *kind,
                  const char *wrapped_dek, GError **error)
{
  if (!bb_server_db_exec (self->db, error,
                          "INSERT INTO namespaces (namespace_id, kind, created_by, created_at) "
                          "VALUES (?, ?, ?, ?)",
                          "ttti", namespace_id, kind, req->caller, req->now))
    return FALSE;
  return bb_server_db_exec (self->db, error,
                            "INSERT INTO members (namespace_id, key_id, kind, wrapped_dek, "
                            "joined_at) VALUES (?, ?, ?, ?, ?)",
                            "tttti", namespace_id, req->caller, BB_PROTOCOL_KIND_KEYSTORE,
                            wrapped_dek, req->now);
}

static gboolean
namespace_exists (BbServer *self, const char *namespace_id, GError **error)
{
  return bb_server_db_get_int (self->db, 0, error,
                               "SELECT COUNT(*) FROM namespaces WHERE namespace_id = ?", "t",
                               namespace_id)
         > 0;
}

static const char *const ensure_default_fields[] = { "proposedNamespaceId", "wrappedDek", NULL };

void
bb_server_handle_ensure_default (BbServer *self, BbServerRequest *req)
{
  BbMsgEnsureDefaultRequest request = { 0 };
  BbMsgEnsureDefaultResponse response = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *default_ns = NULL;

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

  if (!bb_server_db_begin (self->db, &error))
    goto internal;
  if (!bb_server_load_key (self, req->caller, NULL, NULL, &default_ns, &error))
    goto internal;

  if (default_ns != NULL)
    {
      sqlite3_stmt *stmt = bb_server_db_query (self->db, &error,
                                               "SELECT wrapped_dek FROM members "
                                               "WHERE namespace_id = ? AND key_id = ?",
                                               "tt", default_ns, req->caller);
      if (stmt == NULL)
        goto internal;
      if (bb_server_db_step (self->db, stmt, &error))
        response.wrapped_dek = bb_server_db_column_text (stmt, 0);
      sqlite3_reset (stmt);
      if (error != NULL)
        goto internal;
      bb_server_db_rollback (self->db);
      response.namespace_id = g_steal_pointer (&default_ns);
      response.created = FALSE;
    }
  else
    {
      if (namespace_exists (self, request.proposed_namespace_id, &error))
        {
          bb_server_db_rollback (self->db);
          bb_server_respond_error (req, 409, "proposedNamespaceId: namespace already exists");
          goto out;
        }
      if (error != NULL)
        goto internal;
      if ((guint64)bb_server_count_namespaces_of (self, req->caller, &error)
          >= self->limits[BB_SERVER_LIMIT_NAMESPACES_PER_KEY])
        {
          bb_server_db_rollback (self->db);
          bb_server_respond_error (req, 429, "too many namespaces for this key");
          goto out;
        }
      if (error != NULL
          || !create_namespace (self, req, request.proposed_namespace_id,
                                BB_PROTOCOL_NAMESPACE_KIND_DEFAULT, request.wrapped_dek, &error)
          || !bb_server_db_exec (self->db, &error,
                                 "UPDATE keys SET default_namespace_id = ? WHERE key_id = ?", "tt",
                                 request.proposed_namespace_id, req->caller)
          || !bb_server_db_commit (self->db, &error))
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
  response.namespaces = bb_server_collect_changes (self, req->caller, NULL, &error);
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
  sqlite3_stmt *stmt;

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

  if (!bb_server_db_begin (self->db, &error))
    goto internal;
  stmt = bb_server_db_query (self->db, &error,
                             "SELECT kind, created_by FROM namespaces WHERE namespace_id = ?", "t",
                             request.namespace_id);
  if (stmt == NULL)
    goto internal;
  if (bb_server_db_step (self->db, stmt, &error))
    {
      /* A repeat by the creator (a lost response) is answered as a success. */
      gboolean repeat = g_str_equal ((const char *)sqlite3_column_text (stmt, 0),
                                     BB_PROTOCOL_NAMESPACE_KIND_SHARED)
                        && g_str_equal ((const char *)sqlite3_column_text (stmt, 1), req->caller);
      sqlite3_reset (stmt);
      bb_server_db_rollback (self->db);
      if (!repeat)
        {
          bb_server_respond_error (req, 409, "namespaceId: namespace already exists");
          goto out;
        }
      response.created = FALSE;
    }
  else
    {
      sqlite3_reset (stmt);
      if (error != NULL)
        goto internal;
      if ((guint64)bb_server_count_namespaces_of (self, req->caller, &error)
          >= self->limits[BB_SERVER_LIMIT_NAMESPACES_PER_KEY])
        {
          bb_server_db_rollback (self->db);
          bb_server_respond_error (req, 429, "too many namespaces for this key");
          goto out;
        }
      if (error != NULL
          || !create_namespace (self, req, request.namespace_id, BB_PROTOCOL_NAMESPACE_KIND_SHARED,
                                request.wrapped_dek, &error)
          || !bb_server_db_commit (self->db, &error))
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
  const char *ns = req->params[0];
  g_autoptr (GError) error = NULL;
  BbMsgMembersResponse response = { 0 };
  sqlite3_stmt *stmt;

  if (!bb_server_authenticate (self, req) || !bb_server_require_member (self, req, ns, NULL))
    return;
  stmt = bb_server_db_query (self->db, &error,
                             "SELECT kind, key_id FROM members WHERE namespace_id = ? "
                             "ORDER BY joined_at, key_id",
                             "t", ns);
  if (stmt == NULL)
    {
      bb_server_respond_internal (req, error);
      return;
    }
  response.namespace_id = g_strdup (ns);
  response.members = g_ptr_array_new_with_free_func ((GDestroyNotify)bb_msg_member_free);
  while (bb_server_db_step (self->db, stmt, &error))
    {
      BbMsgMember *member = g_new0 (BbMsgMember, 1);
      member->kind = bb_server_db_column_text (stmt, 0);
      member->key_id = bb_server_db_column_text (stmt, 1);
      g_ptr_array_add (response.members, member);
    }
  sqlite3_reset (stmt);
  if (error != NULL)
    bb_server_respond_internal (req, error);
  else
    bb_server_respond_json_take (req, 200, bb_msg_members_response_to_json (&response));
  bb_msg_members_response_clear (&response);
}

void
bb_server_handle_wrapped_dek (BbServer *self, BbServerRequest *req)
{
  const char *ns = req->params[0];
  const char *key_id = req->params[1];
  g_autoptr (GError) error = NULL;
  BbMsgWrappedDekResponse response = { 0 };
  sqlite3_stmt *stmt;

  if (!bb_server_authenticate (self, req) || !bb_server_require_member (self, req, ns, NULL)
      || !bb_server_validate_id (req, key_id, BB_PROTOCOL_KEY_ID_SIZE, "keyId"))
    return;
  if (!g_str_equal (key_id, req->caller))
    {
      bb_server_respond_error (req, 403, "keyId: only the caller's own wrapped DEK can be read");
      return;
    }
  stmt = bb_server_db_query (
      self->db, &error, "SELECT wrapped_dek FROM members WHERE namespace_id = ? AND key_id = ?",
      "tt", ns, key_id);
  if (stmt == NULL)
    {
      bb_server_respond_internal (req, error);
      return;
    }
  if (bb_server_db_step (self->db, stmt, &error))
    response.wrapped_dek = bb_server_db_column_text (stmt, 0);
  sqlite3_reset (stmt);
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
