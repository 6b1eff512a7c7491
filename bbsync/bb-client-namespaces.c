/* bb-client-namespaces.c: the namespace endpoints (spec §6.5 to §6.10, §6.18): the default
 * namespace, the caller's list and its long-poll watch, shared namespaces, their members
 * and wrapped DEKs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-i18n-private.h"

#include "bb-client-private.h"
#include "bb-protocol-types-private.h"
#include "bb-error.h"
#include "bb-protocol-messages-private.h"
#include "bb-protocol.h"

static BbNamespaceListing *
namespace_listing_from_summary (const BbMsgNamespaceSummary *summary)
{
  BbNamespaceListing *info = bb_namespace_listing_new ();

  info->namespace_id = g_strdup (summary->namespace_id);
  info->kind = g_strdup (summary->kind);
  info->head = summary->namespace_head;
  return info;
}

static GPtrArray *
namespace_listings_from_summaries (GPtrArray *summaries)
{
  GPtrArray *infos = g_ptr_array_new_with_free_func ((GDestroyNotify)bb_namespace_listing_unref);

  for (guint i = 0; summaries != NULL && i < summaries->len; i++)
    g_ptr_array_add (infos, namespace_listing_from_summary (g_ptr_array_index (summaries, i)));
  return infos;
}

static gpointer
handle_default_namespace (const BbClientExpect *expect, const char *body, gsize len, GError **error)
{
  BbMsgDefaultNamespaceResponse msg = { 0 };
  BbNamespaceListing *info = NULL;

  if (!bb_msg_default_namespace_response_parse (&msg, body, len, error))
    return NULL;
  if (bb_client_validate_lower_hex_field (msg.namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE,
                                          "namespaceId", error)
      && bb_client_check_equal ("kind", "kind", msg.kind, BB_PROTOCOL_NAMESPACE_KIND_DEFAULT,
                                error))
    {
      info = bb_namespace_listing_new ();
      info->namespace_id = g_steal_pointer (&msg.namespace_id);
      info->kind = g_steal_pointer (&msg.kind);
    }
  bb_msg_default_namespace_response_clear (&msg);
  return info;
}

/**
 * bb_client_get_default_namespace_async:
 * @self: a [class@BbSync.Client]
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Asks for the caller's default namespace (`GET /v1/namespaces/default`). A server
 * answers 404 (%BB_SYNC_ERROR_API) when there is none yet.
 *
 * Since: 0.1
 */
void
bb_client_get_default_namespace_async (BbClient *self, GCancellable *cancellable,
                                       GAsyncReadyCallback callback, gpointer user_data)
{
  BbClientRequest *req;

  g_return_if_fail (BB_IS_CLIENT (self));

  req = bb_client_request_new ("GET", "/v1/namespaces/default", TRUE, handle_default_namespace,
                               (GDestroyNotify)bb_namespace_listing_unref, NULL);
  bb_client_request_send (self, req, bb_client_get_default_namespace_async, cancellable, callback,
                          user_data);
}

/**
 * bb_client_get_default_namespace_finish:
 * @self: a [class@BbSync.Client]
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Client.get_default_namespace_async]. The result is a
 * [struct@BbSync.NamespaceListing] with the namespace ID and the kind `default`, and no wrapped
 * DEK.
 *
 * Errors: %BB_SYNC_ERROR_API with status 404 when the caller has no default namespace yet
 * (create it with [method@BbSync.Client.ensure_default_namespace_async]);
 * %BB_SYNC_ERROR_PROTOCOL when the namespace ID is malformed or the kind is not `default`;
 * otherwise %BB_SYNC_ERROR_API when the server answers with an error status (read it back with
 * [func@BbSync.SyncError.get_http_status]), %G_IO_ERROR_TIMED_OUT when the request outlasts
 * [property@BbSync.Client:timeout], %G_IO_ERROR_CANCELLED when it was cancelled; network and
 * TLS errors pass through unchanged.
 *
 * Returns: (transfer full): the default namespace, or %NULL on error
 *
 * Since: 0.1
 */
BbNamespaceListing *
bb_client_get_default_namespace_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return bb_client_request_finish (self, result, bb_client_get_default_namespace_async, G_STRFUNC,
                                   error);
}

static gpointer
handle_ensure_default (const BbClientExpect *expect, const char *body, gsize len, GError **error)
{
  BbMsgEnsureDefaultResponse msg = { 0 };
  BbNamespaceListing *info = NULL;
  g_autoptr (GBytes) wrapped_dek = NULL;

  if (!bb_msg_ensure_default_response_parse (&msg, body, len, error))
    return NULL;
  if (bb_client_validate_lower_hex_field (msg.namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE,
                                          "namespaceId", error)
      && bb_client_check_equal ("kind", "kind", msg.kind, BB_PROTOCOL_NAMESPACE_KIND_DEFAULT, error)
      && (!msg.created
          || bb_client_check_equal ("namespaceId", "namespace", msg.namespace_id,
                                    expect->namespace_id, error))
      && (wrapped_dek = bb_client_decode_base64_field (
              msg.wrapped_dek, BB_PROTOCOL_WRAPPED_DEK_SIZE, "wrappedDek", error))
             != NULL)
    {
      info = bb_namespace_listing_new ();
      info->namespace_id = g_steal_pointer (&msg.namespace_id);
      info->kind = g_steal_pointer (&msg.kind);
      info->wrapped_dek = g_steal_pointer (&wrapped_dek);
      info->created = msg.created;
    }
  bb_msg_ensure_default_response_clear (&msg);
  return info;
}

/**
 * bb_client_ensure_default_namespace_async:
 * @self: a [class@BbSync.Client]
 * @proposed_namespace_id: the ID to create the namespace under if there is none
 *   (lower-case hex of 16 bytes)
 * @wrapped_dek: the 97-byte DEK for a new namespace, wrapped to the caller
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Creates the caller's default namespace, or returns the existing one
 * (`PUT /v1/namespaces/default`). When the result is not
 * [method@BbSync.NamespaceListing.get_created], unwrap its wrapped DEK: the proposed one was
 * not used.
 *
 * Since: 0.1
 */
void
bb_client_ensure_default_namespace_async (BbClient *self, const char *proposed_namespace_id,
                                          GBytes *wrapped_dek, GCancellable *cancellable,
                                          GAsyncReadyCallback callback, gpointer user_data)
{
  BbMsgEnsureDefaultRequest msg = { 0 };
  g_autofree char *wrapped_b64 = NULL;
  GError *error = NULL;
  BbClientRequest *req;

  g_return_if_fail (BB_IS_CLIENT (self));
  g_return_if_fail (wrapped_dek != NULL);

  bb_client_check_id_arg (proposed_namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE,
                          "proposedNamespaceId", &error);
  if (bb_client_report_bad_arguments (self, bb_client_ensure_default_namespace_async, callback,
                                      user_data, error))
    return;

  wrapped_b64 = bb_protocol_base64_encode (wrapped_dek);
  msg.proposed_namespace_id = (char *)proposed_namespace_id;
  msg.wrapped_dek = wrapped_b64;

  req = bb_client_request_new ("PUT", "/v1/namespaces/default", TRUE, handle_ensure_default,
                               (GDestroyNotify)bb_namespace_listing_unref, NULL);
  req->expect.namespace_id = g_strdup (proposed_namespace_id);
  bb_client_request_take_body (req, bb_msg_ensure_default_request_to_json (&msg));
  bb_client_request_send (self, req, bb_client_ensure_default_namespace_async, cancellable,
                          callback, user_data);
}

/**
 * bb_client_ensure_default_namespace_finish:
 * @self: a [class@BbSync.Client]
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Client.ensure_default_namespace_async]. The result is a
 * [struct@BbSync.NamespaceListing] with the caller's wrapped DEK; when
 * [method@BbSync.NamespaceListing.get_created] is %FALSE the namespace already existed and the
 * proposed ID and DEK were not used.
 *
 * Errors: %BB_SYNC_ERROR_INVALID_INPUT when the proposed namespace ID is malformed (nothing is
 * sent); %BB_SYNC_ERROR_PROTOCOL when the namespace ID is malformed, the kind is not `default`,
 * a namespace created now has another ID than the proposed one, or the wrapped DEK is not 97
 * bytes of base64; %BB_SYNC_ERROR_API when the server answers with an error status (read it
 * back with [func@BbSync.SyncError.get_http_status]), %G_IO_ERROR_TIMED_OUT when the request
 * outlasts [property@BbSync.Client:timeout], %G_IO_ERROR_CANCELLED when it was cancelled;
 * network and TLS errors pass through unchanged.
 *
 * Returns: (transfer full): the default namespace with the caller's wrapped DEK, or
 *   %NULL on error
 *
 * Since: 0.1
 */
BbNamespaceListing *
bb_client_ensure_default_namespace_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return bb_client_request_finish (self, result, bb_client_ensure_default_namespace_async,
                                   G_STRFUNC, error);
}

static gpointer
handle_mine (const BbClientExpect *expect, const char *body, gsize len, GError **error)
{
  BbMsgMineResponse msg = { 0 };
  GPtrArray *infos;

  if (!bb_msg_mine_response_parse (&msg, body, len, error))
    return NULL;
  infos = namespace_listings_from_summaries (msg.namespaces);
  bb_msg_mine_response_clear (&msg);
  return infos;
}

/**
 * bb_client_list_namespaces_async:
 * @self: a [class@BbSync.Client]
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Lists every namespace the caller belongs to, with its head
 * (`GET /v1/namespaces/mine`).
 *
 * Since: 0.1
 */
void
bb_client_list_namespaces_async (BbClient *self, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data)
{
  BbClientRequest *req;

  g_return_if_fail (BB_IS_CLIENT (self));

  req = bb_client_request_new ("GET", "/v1/namespaces/mine", TRUE, handle_mine,
                               (GDestroyNotify)g_ptr_array_unref, NULL);
  bb_client_request_send (self, req, bb_client_list_namespaces_async, cancellable, callback,
                          user_data);
}

/**
 * bb_client_list_namespaces_finish:
 * @self: a [class@BbSync.Client]
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Client.list_namespaces_async]. Each element is a
 * [struct@BbSync.NamespaceListing] with the namespace ID, kind and head.
 *
 * Errors: %BB_SYNC_ERROR_PROTOCOL when the answer is malformed; %BB_SYNC_ERROR_API when the
 * server answers with an error status (read it back with
 * [func@BbSync.SyncError.get_http_status]), %G_IO_ERROR_TIMED_OUT when the request outlasts
 * [property@BbSync.Client:timeout], %G_IO_ERROR_CANCELLED when it was cancelled; network and
 * TLS errors pass through unchanged.
 *
 * Returns: (transfer container) (element-type BbNamespaceListing): the namespaces, or
 *   %NULL on error; the array frees its elements, release it with g_ptr_array_unref()
 *
 * Since: 0.1
 */
GPtrArray *
bb_client_list_namespaces_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return bb_client_request_finish (self, result, bb_client_list_namespaces_async, G_STRFUNC, error);
}

static gpointer
handle_watch (const BbClientExpect *expect, const char *body, gsize len, GError **error)
{
  BbMsgWatchResponse msg = { 0 };
  BbWatchResult *watch = NULL;

  if (!bb_msg_watch_response_parse (&msg, body, len, error))
    return NULL;
  if (!msg.timed_out && (msg.namespaces == NULL || msg.namespaces->len == 0))
    g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL,
                 _ ("namespaces: the server reported no changes without timing out"));
  else
    {
      watch = bb_watch_result_new ();
      watch->namespaces = namespace_listings_from_summaries (msg.namespaces);
      watch->timed_out = msg.timed_out;
    }
  bb_msg_watch_response_clear (&msg);
  return watch;
}

/**
 * bb_client_watch_async:
 * @self: a [class@BbSync.Client]
 * @known_heads: (nullable): a `a{st}` dictionary from namespace ID to the head the
 *   caller has reconciled, or %NULL for none
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the long poll ends
 * @user_data: data for @callback
 *
 * Waits until one of the caller's namespaces differs from @known_heads, or until the
 * server's wait times out (`POST /v1/namespaces/watch`, a long poll). Cancelling
 * @cancellable ends the wait at once with %G_IO_ERROR_CANCELLED. A @known_heads of
 * another type, or with a key that is not a namespace ID, fails the call with
 * %BB_SYNC_ERROR_INVALID_INPUT.
 *
 * A server without watch support answers 404, 405 or 501 (%BB_SYNC_ERROR_API).
 *
 * Since: 0.1
 */
void
bb_client_watch_async (BbClient *self, GVariant *known_heads, GCancellable *cancellable,
                       GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GVariant) heads = NULL;
  BbMsgWatchRequest msg = { 0 };
  GVariantIter iter;
  const char *namespace_id;
  guint64 head;
  GError *error = NULL;
  BbClientRequest *req;

  g_return_if_fail (BB_IS_CLIENT (self));

  /* A binding can pass a variant of any type. */
  if (known_heads != NULL)
    heads = g_variant_ref_sink (known_heads);
  if (heads != NULL && !g_variant_is_of_type (heads, G_VARIANT_TYPE ("a{st}")))
    g_set_error (&error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                 _ ("knownHeads: expected a dictionary of type a{st}, not %s"),
                 g_variant_get_type_string (heads));

  msg.known_heads = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (heads != NULL && error == NULL)
    {
      g_variant_iter_init (&iter, heads);
      while (error == NULL && g_variant_iter_next (&iter, "{&st}", &namespace_id, &head))
        {
          bb_client_check_id_arg (namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, "knownHeads",
                                  &error);
          g_hash_table_replace (msg.known_heads, g_strdup (namespace_id),
                                g_memdup2 (&head, sizeof head));
        }
    }
  if (bb_client_report_bad_arguments (self, bb_client_watch_async, callback, user_data, error))
    {
      g_hash_table_unref (msg.known_heads);
      return;
    }

  req = bb_client_request_new ("POST", "/v1/namespaces/watch", TRUE, handle_watch,
                               (GDestroyNotify)bb_watch_result_unref, NULL);
  bb_client_request_take_body (req, bb_msg_watch_request_to_json (&msg));
  g_hash_table_unref (msg.known_heads);
  bb_client_request_send (self, req, bb_client_watch_async, cancellable, callback, user_data);
}

/**
 * bb_client_watch_finish:
 * @self: a [class@BbSync.Client]
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Client.watch_async]. The [struct@BbSync.WatchResult] lists the
 * namespaces whose head differs from the known heads, or none when
 * [method@BbSync.WatchResult.get_timed_out] says the server's wait ran out.
 *
 * Errors: %BB_SYNC_ERROR_INVALID_INPUT when the known heads are not an `a{st}` dictionary keyed
 * by namespace IDs (nothing is sent); %BB_SYNC_ERROR_PROTOCOL when the answer is malformed or
 * reports no change without timing out; %BB_SYNC_ERROR_API with status 404, 405 or 501 from a
 * server without watch support; otherwise %BB_SYNC_ERROR_API when the server answers with an
 * error status (read it back with [func@BbSync.SyncError.get_http_status]),
 * %G_IO_ERROR_TIMED_OUT when the request outlasts [property@BbSync.Client:timeout],
 * %G_IO_ERROR_CANCELLED when it was cancelled; network and TLS errors pass through unchanged.
 *
 * Returns: (transfer full): the changed namespaces, or %NULL on error
 *
 * Since: 0.1
 */
BbWatchResult *
bb_client_watch_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return bb_client_request_finish (self, result, bb_client_watch_async, G_STRFUNC, error);
}

static gpointer
handle_create_namespace (const BbClientExpect *expect, const char *body, gsize len, GError **error)
{
  BbMsgCreateNamespaceResponse msg = { 0 };
  BbNamespaceListing *info = NULL;

  if (!bb_msg_create_namespace_response_parse (&msg, body, len, error))
    return NULL;
  /* `created` is deliberately not checked: servers may leave it out on a repeat. */
  if (bb_client_validate_lower_hex_field (msg.namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE,
                                          "namespaceId", error)
      && bb_client_check_equal ("kind", "kind", msg.kind, BB_PROTOCOL_NAMESPACE_KIND_SHARED, error)
      && bb_client_check_equal ("namespaceId", "namespace", msg.namespace_id, expect->namespace_id,
                                error))
    {
      info = bb_namespace_listing_new ();
      info->namespace_id = g_steal_pointer (&msg.namespace_id);
      info->kind = g_steal_pointer (&msg.kind);
      info->created = msg.created;
    }
  bb_msg_create_namespace_response_clear (&msg);
  return info;
}

/**
 * bb_client_create_namespace_async:
 * @self: a [class@BbSync.Client]
 * @namespace_id: the new namespace's ID (lower-case hex of 16 bytes)
 * @wrapped_dek: the 97-byte namespace DEK wrapped to the caller
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Creates a shared namespace with the caller as its only member
 * (`POST /v1/namespaces`).
 *
 * Since: 0.1
 */
void
bb_client_create_namespace_async (BbClient *self, const char *namespace_id, GBytes *wrapped_dek,
                                  GCancellable *cancellable, GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  BbMsgCreateNamespaceRequest msg = { 0 };
  g_autofree char *wrapped_b64 = NULL;
  GError *error = NULL;
  BbClientRequest *req;

  g_return_if_fail (BB_IS_CLIENT (self));
  g_return_if_fail (wrapped_dek != NULL);

  bb_client_check_id_arg (namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, "namespaceId", &error);
  if (bb_client_report_bad_arguments (self, bb_client_create_namespace_async, callback, user_data,
                                      error))
    return;

  wrapped_b64 = bb_protocol_base64_encode (wrapped_dek);
  msg.namespace_id = (char *)namespace_id;
  msg.wrapped_dek = wrapped_b64;

  req = bb_client_request_new ("POST", "/v1/namespaces", TRUE, handle_create_namespace,
                               (GDestroyNotify)bb_namespace_listing_unref, NULL);
  req->expect.namespace_id = g_strdup (namespace_id);
  bb_client_request_take_body (req, bb_msg_create_namespace_request_to_json (&msg));
  bb_client_request_send (self, req, bb_client_create_namespace_async, cancellable, callback,
                          user_data);
}

/**
 * bb_client_create_namespace_finish:
 * @self: a [class@BbSync.Client]
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Client.create_namespace_async]. The result is a
 * [struct@BbSync.NamespaceListing] of kind `shared` with the requested ID.
 *
 * Errors: %BB_SYNC_ERROR_INVALID_INPUT when the namespace ID is malformed (nothing is sent);
 * %BB_SYNC_ERROR_PROTOCOL when the answer names another namespace or a kind other than
 * `shared`; %BB_SYNC_ERROR_API when the server answers with an error status (read it back with
 * [func@BbSync.SyncError.get_http_status]), %G_IO_ERROR_TIMED_OUT when the request outlasts
 * [property@BbSync.Client:timeout], %G_IO_ERROR_CANCELLED when it was cancelled; network and
 * TLS errors pass through unchanged.
 *
 * Returns: (transfer full): the new namespace, or %NULL on error
 *
 * Since: 0.1
 */
BbNamespaceListing *
bb_client_create_namespace_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return bb_client_request_finish (self, result, bb_client_create_namespace_async, G_STRFUNC,
                                   error);
}

static gpointer
handle_members (const BbClientExpect *expect, const char *body, gsize len, GError **error)
{
  BbMsgMembersResponse msg = { 0 };
  GPtrArray *members = NULL;

  if (!bb_msg_members_response_parse (&msg, body, len, error))
    return NULL;
  if (bb_client_check_equal ("namespaceId", "namespace", msg.namespace_id, expect->namespace_id,
                             error))
    {
      members = g_ptr_array_new_with_free_func ((GDestroyNotify)bb_member_unref);
      for (guint i = 0; msg.members != NULL && i < msg.members->len; i++)
        {
          BbMsgMember *m = g_ptr_array_index (msg.members, i);
          BbMember *member = bb_member_new ();

          member->kind = g_strdup (m->kind);
          member->key_id = g_strdup (m->key_id);
          g_ptr_array_add (members, member);
        }
    }
  bb_msg_members_response_clear (&msg);
  return members;
}

/**
 * bb_client_list_members_async:
 * @self: a [class@BbSync.Client]
 * @namespace_id: the namespace (lower-case hex of 16 bytes)
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Lists the members of a namespace (`GET /v1/namespaces/{ns}/members`).
 *
 * Since: 0.1
 */
void
bb_client_list_members_async (BbClient *self, const char *namespace_id, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data)
{
  GError *error = NULL;
  BbClientRequest *req;

  g_return_if_fail (BB_IS_CLIENT (self));

  bb_client_check_id_arg (namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, "namespaceId", &error);
  if (bb_client_report_bad_arguments (self, bb_client_list_members_async, callback, user_data,
                                      error))
    return;
  req = bb_client_request_new ("GET", "/v1/namespaces/{ns}/members", TRUE, handle_members,
                               (GDestroyNotify)g_ptr_array_unref, namespace_id, NULL);
  req->expect.namespace_id = g_strdup (namespace_id);
  bb_client_request_send (self, req, bb_client_list_members_async, cancellable, callback,
                          user_data);
}

/**
 * bb_client_list_members_finish:
 * @self: a [class@BbSync.Client]
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Client.list_members_async]. Each element is a [struct@BbSync.Member]
 * with its kind and key ID.
 *
 * Errors: %BB_SYNC_ERROR_INVALID_INPUT when the namespace ID is malformed (nothing is sent);
 * %BB_SYNC_ERROR_PROTOCOL when the answer is malformed or names another namespace;
 * %BB_SYNC_ERROR_API when the server answers with an error status (read it back with
 * [func@BbSync.SyncError.get_http_status]), %G_IO_ERROR_TIMED_OUT when the request outlasts
 * [property@BbSync.Client:timeout], %G_IO_ERROR_CANCELLED when it was cancelled; network and
 * TLS errors pass through unchanged.
 *
 * Returns: (transfer container) (element-type BbMember): the members, or %NULL on
 *   error; the array frees its elements, release it with g_ptr_array_unref()
 *
 * Since: 0.1
 */
GPtrArray *
bb_client_list_members_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return bb_client_request_finish (self, result, bb_client_list_members_async, G_STRFUNC, error);
}

static gpointer
handle_wrapped_dek (const BbClientExpect *expect, const char *body, gsize len, GError **error)
{
  BbMsgWrappedDekResponse msg = { 0 };
  GBytes *wrapped_dek = NULL;

  if (!bb_msg_wrapped_dek_response_parse (&msg, body, len, error))
    return NULL;
  if (bb_client_check_equal ("namespaceId", "namespace", msg.namespace_id, expect->namespace_id,
                             error)
      && bb_client_check_equal ("keyId", "key", msg.key_id, expect->key_id, error))
    wrapped_dek = bb_client_decode_base64_field (msg.wrapped_dek, BB_PROTOCOL_WRAPPED_DEK_SIZE,
                                                 "wrappedDek", error);
  bb_msg_wrapped_dek_response_clear (&msg);
  return wrapped_dek;
}

/**
 * bb_client_get_wrapped_dek_async:
 * @self: a [class@BbSync.Client]
 * @namespace_id: the namespace (lower-case hex of 16 bytes)
 * @key_id: the member's key ID, normally the caller's own (lower-case hex of 32 bytes)
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Fetches the namespace DEK wrapped to a member
 * (`GET /v1/namespaces/{ns}/wrapped-deks/{keyId}`); unwrap it with
 * [method@BbSync.Identity.unwrap_dek_async].
 *
 * Since: 0.1
 */
void
bb_client_get_wrapped_dek_async (BbClient *self, const char *namespace_id, const char *key_id,
                                 GCancellable *cancellable, GAsyncReadyCallback callback,
                                 gpointer user_data)
{
  GError *error = NULL;
  BbClientRequest *req;

  g_return_if_fail (BB_IS_CLIENT (self));

  bb_client_check_id_arg (namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, "namespaceId", &error);
  bb_client_check_id_arg (key_id, BB_PROTOCOL_KEY_ID_SIZE, "keyId", &error);
  if (bb_client_report_bad_arguments (self, bb_client_get_wrapped_dek_async, callback, user_data,
                                      error))
    return;
  req = bb_client_request_new ("GET", "/v1/namespaces/{ns}/wrapped-deks/{keyId}", TRUE,
                               handle_wrapped_dek, (GDestroyNotify)g_bytes_unref, namespace_id,
                               key_id, NULL);
  req->expect.namespace_id = g_strdup (namespace_id);
  req->expect.key_id = g_strdup (key_id);
  bb_client_request_send (self, req, bb_client_get_wrapped_dek_async, cancellable, callback,
                          user_data);
}

/**
 * bb_client_get_wrapped_dek_finish:
 * @self: a [class@BbSync.Client]
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Client.get_wrapped_dek_async]. Unwrap the DEK with
 * [method@BbSync.Identity.unwrap_dek_async].
 *
 * Errors: %BB_SYNC_ERROR_INVALID_INPUT when the namespace ID or key ID is malformed (nothing is
 * sent); %BB_SYNC_ERROR_PROTOCOL when the answer names another namespace or key, or the wrapped
 * DEK is not 97 bytes of base64; %BB_SYNC_ERROR_API when the server answers with an error
 * status (read it back with [func@BbSync.SyncError.get_http_status]), %G_IO_ERROR_TIMED_OUT
 * when the request outlasts [property@BbSync.Client:timeout], %G_IO_ERROR_CANCELLED when it was
 * cancelled; network and TLS errors pass through unchanged.
 *
 * Returns: (transfer full): the 97-byte wrapped DEK, or %NULL on error
 *
 * Since: 0.1
 */
GBytes *
bb_client_get_wrapped_dek_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return bb_client_request_finish (self, result, bb_client_get_wrapped_dek_async, G_STRFUNC, error);
}
