/* bb-namespace-invites.c: the invite flows of shared namespaces (issue 10, invites spec §1)
 *
 * The approver creates an invite (signed by the identity, its secret kept in the keyring),
 * lists the pending join requests, and approves one only after the full local check
 * against that invite; the requester submits a join request built from a scanned invite.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-i18n-private.h"

#include "bb-error.h"
#include "bb-invite-secrets-private.h"
#include "bb-open-invite.h"
#include "bb-pending-join-request.h"
#include "bb-protocol.h"
#include "bb-sync-engine-private.h"

typedef struct
{
  BbSyncEngine *engine;
  GCancellable *op;
  char *namespace_id;
  char *invite_id;
  char *origin;
  guint ttl;
  guint max_pending;
  guint max_accepted;
  BbInvite *invite;
  BbJoinRequest *request;
  BbJoinRequestListing *entry;
  BbInviteListing *info;
  GBytes *wrapped;
  gboolean refreshed;
} InviteOp;

static void
invite_op_free (InviteOp *data)
{
  if (data->op != NULL)
    {
      bb_sync_engine_op_done (data->engine, data->op);
      g_object_unref (data->op);
    }
  g_clear_object (&data->engine);
  g_free (data->namespace_id);
  g_free (data->invite_id);
  g_free (data->origin);
  g_clear_pointer (&data->invite, bb_invite_unref);
  g_clear_pointer (&data->request, bb_join_request_unref);
  g_clear_pointer (&data->entry, bb_join_request_listing_unref);
  g_clear_pointer (&data->info, bb_invite_listing_unref);
  g_clear_pointer (&data->wrapped, g_bytes_unref);
  g_free (data);
}

/* A task on @source with an engine operation; NULL (the task already returned) when the
 * engine is gone or closed. */
static GTask *
invite_task_new (gpointer source, BbSyncEngine *engine, const char *namespace_id,
                 gpointer source_tag, GCancellable *cancellable, GAsyncReadyCallback callback,
                 gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (source, cancellable, callback, user_data);
  InviteOp *data = g_new0 (InviteOp, 1);
  GError *error = NULL;

  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, data, (GDestroyNotify)invite_op_free);
  if (engine == NULL)
    {
      g_task_return_new_error (task, BB_SYNC_ERROR, BB_SYNC_ERROR_CLOSED,
                               _ ("The sync engine is gone"));
      return NULL;
    }
  if (!bb_sync_engine_check_open (engine, &error))
    {
      g_task_return_error (task, error);
      return NULL;
    }
  data->engine = g_object_ref (engine);
  data->op = g_object_ref (bb_sync_engine_op_cancellable (engine, cancellable));
  data->namespace_id = g_strdup (namespace_id);
  return g_steal_pointer (&task);
}

static InviteOp *
op_of (GTask *task)
{
  return g_task_get_task_data (task);
}

/* Unix seconds of the engine's clock. */
static gint64
now_seconds (BbSyncEngine *engine)
{
  return bb_sync_engine_now (engine) / G_USEC_PER_SEC;
}

/* Runs @body under the authenticated wrapper with the operation's data; @done gets @task. */
static void
run_authenticated (GTask *task, BbAuthBodyFunc body, GAsyncReadyCallback done)
{
  InviteOp *data = op_of (task);

  bb_sync_auth_run_async (data->engine, body, data, NULL, data->op, done, task);
}

/* A client call's pointer result, as the body task's result: the wrapper passes it on
 * with its ownership, so each done handler frees what it gets. */
static void
body_pointer_done (GTask *body_task, gpointer value, GError *error)
{
  if (value == NULL)
    g_task_return_error (body_task, error);
  else
    g_task_return_pointer (body_task, value, NULL);
  g_object_unref (body_task);
}

/* Deletes the keyring secrets of the engine's expired invites (issue 10), then @done
 * gets @task. Purging is housekeeping: its failure fails no operation. */
static void
purge_expired (GTask *task, GAsyncReadyCallback done)
{
  InviteOp *data = op_of (task);

  bb_invite_secrets_purge_expired_async (bb_sync_engine_get_key_id (data->engine),
                                         now_seconds (data->engine), data->op, done, task);
}

static void
purge_expired_log (GAsyncResult *result)
{
  g_autoptr (GError) error = NULL;

  bb_invite_secrets_purge_expired_finish (result, &error);
  if (error != NULL)
    g_debug ("Could not purge expired invite secrets: %s", error->message);
}

/* --- the open-invite model --- */

/* Whether @info still admits requests: not revoked, not expired by the engine's clock
 * at @now (Unix seconds), not used up. */
static gboolean
invite_is_open (BbInviteListing *info, gint64 now)
{
  return bb_invite_listing_get_revoked_at (info) == NULL && bb_invite_listing_get_expires_at (info) > now
         && bb_invite_listing_get_accepted_count (info) < bb_invite_listing_get_max_accepted (info);
}

/* Replaces the model's items with the open invites of @invites. */
static void
update_invites (BbNamespace *self, GPtrArray *invites, gint64 now)
{
  GListStore *store = bb_namespace_get_invite_store (self);
  g_autoptr (GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < invites->len; i++)
    {
      BbInviteListing *info = g_ptr_array_index (invites, i);

      if (invite_is_open (info, now))
        g_ptr_array_add (items, bb_open_invite_new (info));
    }
  g_list_store_splice (store, 0, g_list_model_get_n_items (G_LIST_MODEL (store)), items->pdata,
                       items->len);
}

static void
remove_invite (BbNamespace *self, const char *invite_id)
{
  GListStore *store = bb_namespace_get_invite_store (self);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (store));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (BbOpenInvite) item = g_list_model_get_item (G_LIST_MODEL (store), i);

      if (g_strcmp0 (bb_open_invite_get_invite_id (item), invite_id) == 0)
        {
          g_list_store_remove (store, i);
          return;
        }
    }
}

/* --- create an invite (spec §1.7) --- */

static void
create_purged (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;

  purge_expired_log (result);
  g_task_return_pointer (task, bb_invite_ref (op_of (task)->invite),
                         (GDestroyNotify)bb_invite_unref);
}

static void
create_stored (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  GError *error = NULL;

  /* Already BB_SYNC_ERROR_KEYRING, or the cancellation as it is. */
  if (!bb_invite_secrets_store_finish (result, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  if (invite_is_open (op_of (task)->info, now_seconds (op_of (task)->engine)))
    {
      g_autoptr (BbOpenInvite) item = bb_open_invite_new (op_of (task)->info);

      remove_invite (g_task_get_source_object (task), bb_open_invite_get_invite_id (item));
      g_list_store_append (bb_namespace_get_invite_store (g_task_get_source_object (task)), item);
    }
  purge_expired (task, create_purged);
}

static void
create_body_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *body_task = user_data;
  InviteOp *data = g_task_get_task_data (body_task);
  GError *error = NULL;
  BbInviteListing *info;

  info = bb_client_create_invite_with_identity_finish (BB_CLIENT (source), result, &error);
  if (info != NULL)
    {
      const char *mismatch = NULL;

      if (bb_invite_listing_get_expires_at (info) != bb_invite_get_expires_at (data->invite))
        mismatch = "expiresAt";
      else if (data->max_pending != 0 && bb_invite_listing_get_max_pending (info) != data->max_pending)
        mismatch = "maxPending";
      else if (bb_invite_listing_get_max_accepted (info) != data->max_accepted)
        mismatch = "maxAccepted";
      if (mismatch != NULL)
        {
          error = g_error_new (BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL,
                               _ ("Create invite response %s mismatch"), mismatch);
          g_clear_pointer (&info, bb_invite_listing_unref);
        }
    }
  body_pointer_done (body_task, info, error);
}

static void
create_body (BbSyncEngine *engine, gpointer body_data, GCancellable *cancellable,
             GAsyncReadyCallback callback, gpointer user_data)
{
  InviteOp *data = body_data;
  GTask *body_task = g_task_new (engine, cancellable, callback, user_data);

  g_task_set_task_data (body_task, data, NULL);
  bb_client_create_invite_with_identity_async (
      bb_sync_engine_get_client (engine), bb_sync_engine_get_identity (engine), data->invite,
      data->max_pending, data->max_accepted, cancellable, create_body_done, body_task);
}

static void
create_registered (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  InviteOp *data = op_of (task);
  GError *error = NULL;
  BbInviteListing *info = bb_sync_auth_run_finish (data->engine, result, &error);

  if (info == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  data->info = info;
  bb_invite_secrets_store_async (bb_sync_engine_get_key_id (data->engine), data->invite, data->op,
                                 create_stored, task);
}

static void
create_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  InviteOp *data = op_of (task);
  g_autoptr (BbNamespaceState) ns = NULL;
  g_autofree char *invite_id = NULL;
  g_autoptr (GBytes) secret = NULL;
  GError *error = NULL;

  ns = bb_sync_namespace_ready_finish (data->engine, result, &error);
  if (ns == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  invite_id = bb_protocol_new_invite_id ();
  secret = bb_protocol_new_invite_secret ();
  data->invite = bb_invite_new (data->origin, data->namespace_id, invite_id,
                                now_seconds (data->engine) + data->ttl, secret, &error);
  if (data->invite == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  run_authenticated (task, create_body, create_registered);
}

/**
 * bb_namespace_create_invite_async:
 * @self: a [class@BbSync.Namespace] of kind `shared`
 * @server_origin: the public origin of the server to put in the invite, for example
 *   `https://sync.example`; it must be one the server is configured with
 * @ttl_seconds: the invite's lifetime in seconds (at most one hour), or 0 for
 *   [property@BbSync.SyncEngine:invite-ttl]
 * @max_accepted: how many requests the invite may admit (1 to 10), or 0 for 10
 * @max_pending: the limit of pending requests through the invite (1 to 20), or 0 to
 *   register the invite without one (the variant a BitBox02 signs)
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the invite is registered
 * @user_data: data for @callback
 *
 * Creates an invite to the namespace: a new invite ID and invite secret, registered with
 * the server through an intent the identity signs. The invite secret never reaches the
 * server; it is kept in the keyring (schema `org.bbsync.InviteSecret`) for
 * [method@BbSync.Namespace.approve_join_request_async] before the call returns. Share the
 * invite's URI ([method@BbSync.Invite.to_uri]) with the person to invite.
 * The keyring secrets of expired invites are deleted on the way.
 *
 * The namespace must be shared: inviting to a default namespace fails with
 * %BB_SYNC_ERROR_INVALID_INPUT.
 *
 * Since: 0.1
 */
void
bb_namespace_create_invite_async (BbNamespace *self, const char *server_origin, guint ttl_seconds,
                                  guint max_accepted, guint max_pending, GCancellable *cancellable,
                                  GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (BbSyncEngine) engine = NULL;
  GTask *task;
  InviteOp *data;
  GError *error = NULL;

  g_return_if_fail (BB_IS_NAMESPACE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  engine = bb_namespace_get_engine (self);
  task = invite_task_new (self, engine, bb_namespace_get_id (self),
                          bb_namespace_create_invite_async, cancellable, callback, user_data);
  if (task == NULL)
    return;
  data = op_of (task);
  data->ttl = ttl_seconds != 0 ? ttl_seconds : bb_sync_engine_get_invite_ttl (engine);
  if (data->ttl == 0)
    data->ttl = BB_PROTOCOL_DEFAULT_INVITE_TTL;
  data->max_accepted = max_accepted != 0 ? max_accepted : BB_PROTOCOL_MAX_ACCEPTED;
  data->max_pending = max_pending;
  if (data->ttl > BB_PROTOCOL_MAX_INVITE_TTL)
    error = g_error_new (BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                         _ ("Invite lifetime exceeds the maximum of %u seconds"),
                         (guint)BB_PROTOCOL_MAX_INVITE_TTL);
  else if (data->max_pending > BB_PROTOCOL_MAX_PENDING)
    error = g_error_new (BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                         _ ("Maximum of pending join requests exceeds %u"),
                         (guint)BB_PROTOCOL_MAX_PENDING);
  else if (data->max_accepted > BB_PROTOCOL_MAX_ACCEPTED)
    error = g_error_new (BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                         _ ("Maximum of accepted join requests exceeds %u"),
                         (guint)BB_PROTOCOL_MAX_ACCEPTED);
  else if (g_strcmp0 (bb_namespace_get_kind (self), "default") == 0)
    error = g_error_new (BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                         _ ("Namespace %s is a default namespace: only shared namespaces "
                            "take invites"),
                         bb_namespace_get_id (self));
  else
    data->origin
        = bb_protocol_canonical_origin (server_origin != NULL ? server_origin : "", &error);
  if (error != NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  bb_sync_namespace_ready_async (engine, data->namespace_id, "shared", data->op, create_ready,
                                 task);
}

/**
 * bb_namespace_create_invite_finish:
 * @self: a [class@BbSync.Namespace]
 * @result: the result passed to the callback
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Namespace.create_invite_async].
 *
 * Returns: (transfer full): the invite, or %NULL on error: %BB_SYNC_ERROR_INVALID_INPUT
 *   for a default namespace or a limit out of range, %BB_SYNC_ERROR_KEYRING when the
 *   invite secret could not be kept in the keyring
 *
 * Since: 0.1
 */
BbInvite *
bb_namespace_create_invite_finish (BbNamespace *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (BB_IS_NAMESPACE (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == bb_namespace_create_invite_async,
                        NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* --- submit a join request (spec §1.9) --- */

static void
submit_body_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *body_task = user_data;
  GError *error = NULL;
  BbJoinRequestListing *info
      = bb_client_submit_join_request_finish (BB_CLIENT (source), result, &error);

  body_pointer_done (body_task, info, error);
}

static void
submit_body (BbSyncEngine *engine, gpointer body_data, GCancellable *cancellable,
             GAsyncReadyCallback callback, gpointer user_data)
{
  InviteOp *data = body_data;
  GTask *body_task = g_task_new (engine, cancellable, callback, user_data);
  g_autoptr (GBytes) server_secret = bb_invite_dup_server_secret (data->invite);

  bb_client_submit_join_request_async (bb_sync_engine_get_client (engine), data->request,
                                       server_secret, cancellable, submit_body_done, body_task);
}

static void
submit_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  BbJoinRequestListing *info = bb_sync_auth_run_finish (BB_SYNC_ENGINE (source), result, &error);

  if (info == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, info, (GDestroyNotify)bb_join_request_listing_unref);
}

static void
submit_built (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  InviteOp *data = op_of (task);
  GError *error = NULL;

  data->request = bb_identity_build_join_request_finish (BB_IDENTITY (source), result, &error);
  if (data->request == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  run_authenticated (task, submit_body, submit_done);
}

/**
 * bb_sync_engine_submit_join_request_async:
 * @self: a [class@BbSync.SyncEngine]
 * @scanned: an invite scanned or pasted by the user, see [ctor@BbSync.Invite.new_from_uri]
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the request is submitted
 * @user_data: data for @callback
 *
 * Asks to join the namespace of @scanned: the identity signs a join request (it lives
 * at most ten minutes and never outlives the invite), which carries a proof that the
 * requester saw the invite secret, and the request is submitted with the invite's
 * server secret, logging in first if needed. Once a member approves it, join the
 * namespace with [method@BbSync.SyncEngine.join_namespace_async] (or let a sync pass find it).
 *
 * Since: 0.1
 */
void
bb_sync_engine_submit_join_request_async (BbSyncEngine *self, BbInvite *scanned,
                                          GCancellable *cancellable, GAsyncReadyCallback callback,
                                          gpointer user_data)
{
  GTask *task;
  InviteOp *data;
  gint64 now;
  gint64 expires_at;

  g_return_if_fail (BB_IS_SYNC_ENGINE (self));
  g_return_if_fail (scanned != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = invite_task_new (self, self, bb_invite_get_namespace_id (scanned),
                          bb_sync_engine_submit_join_request_async, cancellable, callback,
                          user_data);
  if (task == NULL)
    return;
  data = op_of (task);
  data->invite = bb_invite_ref (scanned);
  now = now_seconds (self);
  expires_at = MIN (now + BB_PROTOCOL_MAX_JOIN_REQUEST_TTL, bb_invite_get_expires_at (scanned));
  if (expires_at <= now)
    {
      g_task_return_new_error (task, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                               _ ("The invite has expired"));
      g_object_unref (task);
      return;
    }
  bb_identity_build_join_request_async (bb_sync_engine_get_identity (self), scanned, expires_at,
                                        data->op, submit_built, task);
}

/**
 * bb_sync_engine_submit_join_request_finish:
 * @self: a [class@BbSync.SyncEngine]
 * @result: the result passed to the callback
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.SyncEngine.submit_join_request_async].
 *
 * Returns: (transfer full): the submitted request as the server lists it (status
 *   `pending`), or %NULL on error
 *
 * Since: 0.1
 */
BbJoinRequestListing *
bb_sync_engine_submit_join_request_finish (BbSyncEngine *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (BB_IS_SYNC_ENGINE (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (
      g_task_get_source_tag (G_TASK (result)) == bb_sync_engine_submit_join_request_async, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* --- list join requests (spec §1.10) --- */

static void
list_body_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *body_task = user_data;
  GError *error = NULL;
  GPtrArray *requests = bb_client_list_join_requests_finish (BB_CLIENT (source), result, &error);

  body_pointer_done (body_task, requests, error);
}

static void
list_body (BbSyncEngine *engine, gpointer body_data, GCancellable *cancellable,
           GAsyncReadyCallback callback, gpointer user_data)
{
  InviteOp *data = body_data;
  GTask *body_task = g_task_new (engine, cancellable, callback, user_data);

  bb_client_list_join_requests_async (bb_sync_engine_get_client (engine), data->namespace_id,
                                      cancellable, list_body_done, body_task);
}

/* Replaces the model's items with the pending entries of @requests. */
static void
update_model (BbNamespace *self, GPtrArray *requests)
{
  GListStore *store = bb_namespace_get_join_request_store (self);
  g_autoptr (GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < requests->len; i++)
    {
      BbJoinRequestListing *info = g_ptr_array_index (requests, i);

      if (g_strcmp0 (bb_join_request_listing_get_status (info), BB_PROTOCOL_JOIN_STATUS_PENDING) != 0
          || bb_join_request_listing_get_request (info) == NULL)
        continue;
      g_ptr_array_add (items, bb_pending_join_request_new (info));
    }
  g_list_store_splice (store, 0, g_list_model_get_n_items (G_LIST_MODEL (store)), items->pdata,
                       items->len);
}

static void
refresh_purged (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;

  purge_expired_log (result);
  g_task_return_boolean (task, TRUE);
}

static void
refresh_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  GError *error = NULL;
  g_autoptr (GPtrArray) requests
      = bb_sync_auth_run_finish (BB_SYNC_ENGINE (source), result, &error);

  if (requests == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  update_model (g_task_get_source_object (task), requests);
  purge_expired (task, refresh_purged);
}

/**
 * bb_namespace_refresh_join_requests_async:
 * @self: a [class@BbSync.Namespace] of kind `shared`
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the list is up to date
 * @user_data: data for @callback
 *
 * Lists the pending join requests of the namespace, through all of its invites, and
 * updates [method@BbSync.Namespace.get_join_requests] with them, logging in first if needed.
 * Listing checks nothing; [method@BbSync.Namespace.approve_join_request_async] does.
 * The keyring secrets of expired invites are deleted on the way.
 *
 * Since: 0.1
 */
void
bb_namespace_refresh_join_requests_async (BbNamespace *self, GCancellable *cancellable,
                                          GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (BbSyncEngine) engine = NULL;
  GTask *task;

  g_return_if_fail (BB_IS_NAMESPACE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  engine = bb_namespace_get_engine (self);
  task = invite_task_new (self, engine, bb_namespace_get_id (self),
                          bb_namespace_refresh_join_requests_async, cancellable, callback,
                          user_data);
  if (task != NULL)
    run_authenticated (task, list_body, refresh_done);
}

/**
 * bb_namespace_refresh_join_requests_finish:
 * @self: a [class@BbSync.Namespace]
 * @result: the result passed to the callback
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Namespace.refresh_join_requests_async].
 *
 * Returns: %TRUE once the list model is up to date
 *
 * Since: 0.1
 */
gboolean
bb_namespace_refresh_join_requests_finish (BbNamespace *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (BB_IS_NAMESPACE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (
      g_task_get_source_tag (G_TASK (result)) == bb_namespace_refresh_join_requests_async, FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * bb_namespace_get_join_requests:
 * @self: a [class@BbSync.Namespace]
 *
 * The pending join requests of the namespace, as of the last
 * [method@BbSync.Namespace.refresh_join_requests_async]. Approving or rejecting a request
 * removes it.
 *
 * Returns: (transfer none): a list model of [class@BbSync.PendingJoinRequest]
 *
 * Since: 0.1
 */
GListModel *
bb_namespace_get_join_requests (BbNamespace *self)
{
  g_return_val_if_fail (BB_IS_NAMESPACE (self), NULL);
  return G_LIST_MODEL (bb_namespace_get_join_request_store (self));
}

/* --- approve and reject (spec §1.11, §1.12) --- */

/* The model position of the entry of @request, or -1. */
static gint
find_entry (BbNamespace *self, BbJoinRequest *request)
{
  GListModel *model = G_LIST_MODEL (bb_namespace_get_join_request_store (self));
  guint n = g_list_model_get_n_items (model);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr (BbPendingJoinRequest) item = g_list_model_get_item (model, i);
      BbJoinRequest *listed = bb_pending_join_request_get_request (item);

      if (g_strcmp0 (bb_join_request_get_key_id (listed), bb_join_request_get_key_id (request)) == 0
          && g_strcmp0 (bb_join_request_get_signature (listed),
                        bb_join_request_get_signature (request))
                 == 0)
        return (gint)i;
    }
  return -1;
}

static void
remove_entry (BbNamespace *self, BbJoinRequest *request)
{
  gint position = find_entry (self, request);

  if (position >= 0)
    g_list_store_remove (bb_namespace_get_join_request_store (self), (guint)position);
}

typedef void (*EntryFoundFunc) (GTask *task);

/* Sets the operation's entry from the model, refreshing it first when needed, then
 * continues with @next; fails with %BB_SYNC_ERROR_NOT_FOUND. */
static void find_or_refresh (GTask *task, EntryFoundFunc next);

static void
find_refreshed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  GError *error = NULL;
  g_autoptr (GPtrArray) requests
      = bb_sync_auth_run_finish (BB_SYNC_ENGINE (source), result, &error);
  EntryFoundFunc next = g_object_get_data (G_OBJECT (task), "bb-next");

  if (requests == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  update_model (g_task_get_source_object (task), requests);
  op_of (task)->refreshed = TRUE;
  find_or_refresh (task, next);
}

static void
find_or_refresh (GTask *task, EntryFoundFunc next)
{
  InviteOp *data = op_of (task);
  BbNamespace *self = g_task_get_source_object (task);
  gint position = find_entry (self, data->request);

  if (position >= 0)
    {
      g_autoptr (BbPendingJoinRequest) item = g_list_model_get_item (
          G_LIST_MODEL (bb_namespace_get_join_request_store (self)), (guint)position);

      data->entry = bb_join_request_listing_ref (bb_pending_join_request_get_info (item));
      next (task);
      return;
    }
  if (data->refreshed)
    {
      g_task_return_new_error (task, BB_SYNC_ERROR, BB_SYNC_ERROR_NOT_FOUND,
                               _ ("No pending join request of key %s in namespace %s"),
                               bb_join_request_get_key_id (data->request), data->namespace_id);
      g_object_unref (task);
      return;
    }
  g_object_set_data (G_OBJECT (task), "bb-next", next);
  run_authenticated (task, list_body, find_refreshed);
}

static void
approve_body_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *body_task = user_data;
  GError *error = NULL;
  BbMember *member = bb_client_approve_join_request_finish (BB_CLIENT (source), result, &error);

  body_pointer_done (body_task, member, error);
}

static void
approve_body (BbSyncEngine *engine, gpointer body_data, GCancellable *cancellable,
              GAsyncReadyCallback callback, gpointer user_data)
{
  InviteOp *data = body_data;
  GTask *body_task = g_task_new (engine, cancellable, callback, user_data);
  g_autoptr (GBytes) server_secret = bb_invite_dup_server_secret (data->invite);

  bb_client_approve_join_request_async (bb_sync_engine_get_client (engine), data->namespace_id,
                                        bb_join_request_get_key_id (data->request),
                                        bb_join_request_listing_get_join_request_hash (data->entry),
                                        server_secret, data->wrapped, cancellable,
                                        approve_body_done, body_task);
}

static void
invites_body_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *body_task = user_data;
  GError *error = NULL;
  GPtrArray *invites = bb_client_list_invites_finish (BB_CLIENT (source), result, &error);

  body_pointer_done (body_task, invites, error);
}

static void
invites_body (BbSyncEngine *engine, gpointer body_data, GCancellable *cancellable,
              GAsyncReadyCallback callback, gpointer user_data)
{
  InviteOp *data = body_data;
  GTask *body_task = g_task_new (engine, cancellable, callback, user_data);

  bb_client_list_invites_async (bb_sync_engine_get_client (engine), data->namespace_id, cancellable,
                                invites_body_done, body_task);
}

/* The approval stands whatever happens to the secret of a used-up invite: failing to
 * delete it only leaves it for the expiry purge. */
static void
used_up_deleted (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;

  if (!bb_invite_secrets_delete_finish (result, &error))
    g_debug ("Could not delete the secret of used-up invite %s: %s",
             bb_join_request_listing_get_invite_id (op_of (task)->entry), error->message);
  g_task_return_boolean (task, TRUE);
}

/* The approve response does not tell whether the invite is now used up; the server's
 * invite list does. */
static void
approved_listed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  InviteOp *data = op_of (task);
  const char *invite_id = bb_join_request_listing_get_invite_id (data->entry);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) invites = bb_sync_auth_run_finish (data->engine, result, &error);

  if (invites != NULL)
    update_invites (g_task_get_source_object (task), invites, now_seconds (data->engine));
  for (guint i = 0; invites != NULL && i < invites->len; i++)
    {
      BbInviteListing *info = g_ptr_array_index (invites, i);

      if (g_strcmp0 (bb_invite_listing_get_invite_id (info), invite_id) == 0
          && bb_invite_listing_get_accepted_count (info) >= bb_invite_listing_get_max_accepted (info))
        {
          bb_invite_secrets_delete_async (bb_sync_engine_get_key_id (data->engine),
                                          data->namespace_id, invite_id, data->op, used_up_deleted,
                                          task);
          return;
        }
    }
  if (error != NULL)
    g_debug ("Could not list the invites of namespace %s: %s", data->namespace_id, error->message);
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

/* Approval and rejection end the same way: the request leaves the model. An approval
 * then deletes the secret of its invite if the invite is used up. */
static void
decided (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  gpointer value = bb_sync_auth_run_finish (BB_SYNC_ENGINE (source), result, &error);

  if (value == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  remove_entry (g_task_get_source_object (task), op_of (task)->request);
  /* An approval's BbMember; a rejection's TRUE. */
  if (op_of (task)->wrapped != NULL)
    {
      bb_member_unref (value);
      run_authenticated (g_steal_pointer (&task), invites_body, approved_listed);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
approve_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  InviteOp *data = op_of (task);
  g_autoptr (BbNamespaceState) ns = NULL;
  g_autoptr (GBytes) wrap_key = NULL;
  GError *error = NULL;

  ns = bb_sync_namespace_ready_finish (data->engine, result, &error);
  if (ns != NULL)
    wrap_key = bb_protocol_lower_hex_decode (bb_join_request_get_wrap_public_key (data->request),
                                             BB_PROTOCOL_PUBLIC_KEY_SIZE, "wrapPublicKey", &error);
  if (wrap_key != NULL)
    data->wrapped = bb_protocol_wrap_dek (wrap_key, data->namespace_id,
                                          bb_namespace_state_get_dek (ns), &error);
  if (data->wrapped == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  run_authenticated (task, approve_body, decided);
}

/* The full local check of the entry against the operation's invite, then the approval. */
static void
approve_verify (GTask *task)
{
  InviteOp *data = op_of (task);
  GError *error = NULL;

  if (!bb_invite_verify_join_request (data->invite, data->namespace_id, data->entry,
                                      now_seconds (data->engine), &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  bb_sync_namespace_ready_async (data->engine, data->namespace_id, "shared", data->op,
                                 approve_ready, task);
}

static void
approve_looked_up (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  InviteOp *data = op_of (task);
  GError *error = NULL;

  data->invite = bb_invite_secrets_lookup_finish (result, &error);
  if (data->invite == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  approve_verify (task);
}

/* With the invite the caller gave, or else the one the keyring keeps. */
static void
approve_found (GTask *task)
{
  InviteOp *data = op_of (task);

  if (data->invite != NULL)
    {
      approve_verify (task);
      return;
    }
  bb_invite_secrets_lookup_async (bb_sync_engine_get_key_id (data->engine), data->namespace_id,
                                  bb_join_request_listing_get_invite_id (data->entry), data->op,
                                  approve_looked_up, task);
}

/* Both approvals: with @invite (nullable), or else the invite the keyring keeps. */
static void
approve_start (BbNamespace *self, BbJoinRequest *request, BbInvite *invite, gpointer source_tag,
               GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (BbSyncEngine) engine = bb_namespace_get_engine (self);
  GTask *task = invite_task_new (self, engine, bb_namespace_get_id (self), source_tag, cancellable,
                                 callback, user_data);

  if (task == NULL)
    return;
  op_of (task)->request = bb_join_request_ref (request);
  if (invite != NULL)
    op_of (task)->invite = bb_invite_ref (invite);
  find_or_refresh (task, approve_found);
}

/**
 * bb_namespace_approve_join_request_async:
 * @self: a [class@BbSync.Namespace] of kind `shared`
 * @request: a pending request, see [method@BbSync.PendingJoinRequest.get_request]
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the request is approved
 * @user_data: data for @callback
 *
 * Admits the requester to the namespace. The request is first checked in full against
 * the invite it came through, read back from the keyring: the requester's key ID and
 * signature, the proof that the requester saw the invite secret, the namespace, the
 * server origin and the expiry ([method@BbSync.Invite.verify_join_request]). On any failure
 * nothing is approved and that error is returned. Then the namespace key is wrapped to
 * the requester's wrap key and the approval is sent with the invite's server secret.
 *
 * The request is looked up among [method@BbSync.Namespace.get_join_requests], which is
 * refreshed first when it is not there; on success it leaves the model.
 * When the approval uses the invite up (its accepted count reaches its
 * `max_accepted`, as the server lists it), the invite secret is deleted from the keyring.
 *
 * Since: 0.1
 */
void
bb_namespace_approve_join_request_async (BbNamespace *self, BbJoinRequest *request,
                                         GCancellable *cancellable, GAsyncReadyCallback callback,
                                         gpointer user_data)
{
  g_return_if_fail (BB_IS_NAMESPACE (self));
  g_return_if_fail (request != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  approve_start (self, request, NULL, bb_namespace_approve_join_request_async, cancellable,
                 callback, user_data);
}

/**
 * bb_namespace_approve_join_request_finish:
 * @self: a [class@BbSync.Namespace]
 * @result: the result passed to the callback
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Namespace.approve_join_request_async].
 *
 * Returns: %TRUE once approved; %FALSE with %BB_SYNC_ERROR_NOT_FOUND when the request is
 *   not pending or the keyring holds no secret of its invite (revoked or expired), or the
 *   error of the failed check
 *
 * Since: 0.1
 */
gboolean
bb_namespace_approve_join_request_finish (BbNamespace *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (BB_IS_NAMESPACE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (
      g_task_get_source_tag (G_TASK (result)) == bb_namespace_approve_join_request_async, FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * bb_namespace_approve_join_request_with_invite_async:
 * @self: a [class@BbSync.Namespace] of kind `shared`
 * @request: a pending request, see [method@BbSync.PendingJoinRequest.get_request]
 * @invite: the invite @request came through, with its invite secret
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the request is approved
 * @user_data: data for @callback
 *
 * Like [method@BbSync.Namespace.approve_join_request_async], for apps that keep the invite
 * secret themselves rather than in the keyring: @request is checked in full against
 * @invite instead of an invite read back from the keyring
 * ([method@BbSync.Invite.verify_join_request]), and on any failure nothing is approved and
 * that error is returned. The approval is sent with the server secret of @invite.
 *
 * When the approval uses the invite up, a secret of it in the keyring, if any, is
 * deleted as well.
 *
 * Since: 0.1
 */
void
bb_namespace_approve_join_request_with_invite_async (BbNamespace *self, BbJoinRequest *request,
                                                     BbInvite *invite, GCancellable *cancellable,
                                                     GAsyncReadyCallback callback,
                                                     gpointer user_data)
{
  g_return_if_fail (BB_IS_NAMESPACE (self));
  g_return_if_fail (request != NULL);
  g_return_if_fail (invite != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  approve_start (self, request, invite, bb_namespace_approve_join_request_with_invite_async,
                 cancellable, callback, user_data);
}

/**
 * bb_namespace_approve_join_request_with_invite_finish:
 * @self: a [class@BbSync.Namespace]
 * @result: the result passed to the callback
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Namespace.approve_join_request_with_invite_async].
 *
 * Returns: %TRUE once approved; %FALSE with %BB_SYNC_ERROR_NOT_FOUND when the request is
 *   not pending, or the error of the failed check (for example
 *   %BB_SYNC_ERROR_INVALID_INPUT when the request did not come through the invite)
 *
 * Since: 0.1
 */
gboolean
bb_namespace_approve_join_request_with_invite_finish (BbNamespace *self, GAsyncResult *result,
                                                      GError **error)
{
  g_return_val_if_fail (BB_IS_NAMESPACE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result))
                            == bb_namespace_approve_join_request_with_invite_async,
                        FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
reject_body_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *body_task = user_data;
  GError *error = NULL;
  gboolean ok = bb_client_reject_join_request_finish (BB_CLIENT (source), result, &error);

  body_pointer_done (body_task, ok ? GUINT_TO_POINTER (TRUE) : NULL, error);
}

static void
reject_body (BbSyncEngine *engine, gpointer body_data, GCancellable *cancellable,
             GAsyncReadyCallback callback, gpointer user_data)
{
  InviteOp *data = body_data;
  GTask *body_task = g_task_new (engine, cancellable, callback, user_data);

  bb_client_reject_join_request_async (bb_sync_engine_get_client (engine), data->namespace_id,
                                       bb_join_request_get_key_id (data->request),
                                       bb_join_request_listing_get_join_request_hash (data->entry),
                                       cancellable, reject_body_done, body_task);
}

static void
reject_found (GTask *task)
{
  run_authenticated (task, reject_body, decided);
}

/**
 * bb_namespace_reject_join_request_async:
 * @self: a [class@BbSync.Namespace] of kind `shared`
 * @request: a pending request, see [method@BbSync.PendingJoinRequest.get_request]
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the request is rejected
 * @user_data: data for @callback
 *
 * Rejects a pending join request. Like
 * [method@BbSync.Namespace.approve_join_request_async], it looks the request up among
 * [method@BbSync.Namespace.get_join_requests] and removes it from there on success.
 *
 * Since: 0.1
 */
void
bb_namespace_reject_join_request_async (BbNamespace *self, BbJoinRequest *request,
                                        GCancellable *cancellable, GAsyncReadyCallback callback,
                                        gpointer user_data)
{
  g_autoptr (BbSyncEngine) engine = NULL;
  GTask *task;

  g_return_if_fail (BB_IS_NAMESPACE (self));
  g_return_if_fail (request != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  engine = bb_namespace_get_engine (self);
  task = invite_task_new (self, engine, bb_namespace_get_id (self),
                          bb_namespace_reject_join_request_async, cancellable, callback, user_data);
  if (task == NULL)
    return;
  op_of (task)->request = bb_join_request_ref (request);
  find_or_refresh (task, reject_found);
}

/**
 * bb_namespace_reject_join_request_finish:
 * @self: a [class@BbSync.Namespace]
 * @result: the result passed to the callback
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Namespace.reject_join_request_async].
 *
 * Returns: %TRUE once rejected
 *
 * Since: 0.1
 */
gboolean
bb_namespace_reject_join_request_finish (BbNamespace *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (BB_IS_NAMESPACE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (
      g_task_get_source_tag (G_TASK (result)) == bb_namespace_reject_join_request_async, FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- revoke an invite --- */

static void
revoke_deleted (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;

  if (!bb_invite_secrets_delete_finish (result, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
revoke_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  InviteOp *data = op_of (task);
  GError *error = NULL;

  if (bb_sync_auth_run_finish (data->engine, result, &error) == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  remove_invite (g_task_get_source_object (task), data->invite_id);
  bb_invite_secrets_delete_async (bb_sync_engine_get_key_id (data->engine), data->namespace_id,
                                  data->invite_id, data->op, revoke_deleted, task);
}

static void
revoke_body_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *body_task = user_data;
  GError *error = NULL;
  gboolean ok = bb_client_revoke_invite_finish (BB_CLIENT (source), result, &error);

  body_pointer_done (body_task, ok ? GUINT_TO_POINTER (TRUE) : NULL, error);
}

static void
revoke_body (BbSyncEngine *engine, gpointer body_data, GCancellable *cancellable,
             GAsyncReadyCallback callback, gpointer user_data)
{
  InviteOp *data = body_data;
  GTask *body_task = g_task_new (engine, cancellable, callback, user_data);

  bb_client_revoke_invite_async (bb_sync_engine_get_client (engine), data->namespace_id,
                                 data->invite_id, cancellable, revoke_body_done, body_task);
}

/**
 * bb_namespace_revoke_invite_async:
 * @self: a [class@BbSync.Namespace] of kind `shared`
 * @invite_id: the invite ID, see [method@BbSync.Invite.get_invite_id]
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the invite is revoked
 * @user_data: data for @callback
 *
 * Revokes an invite on the server, so that it admits no more requests, and deletes its
 * secret from the keyring: requests that came through it can no longer be approved.
 * Once the server revoked it, the invite leaves [method@BbSync.Namespace.get_invites].
 *
 * Since: 0.1
 */
void
bb_namespace_revoke_invite_async (BbNamespace *self, const char *invite_id,
                                  GCancellable *cancellable, GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  g_autoptr (BbSyncEngine) engine = NULL;
  GTask *task;

  g_return_if_fail (BB_IS_NAMESPACE (self));
  g_return_if_fail (invite_id != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  engine = bb_namespace_get_engine (self);
  task = invite_task_new (self, engine, bb_namespace_get_id (self),
                          bb_namespace_revoke_invite_async, cancellable, callback, user_data);
  if (task == NULL)
    return;
  op_of (task)->invite_id = g_strdup (invite_id);
  run_authenticated (task, revoke_body, revoke_done);
}

/**
 * bb_namespace_revoke_invite_finish:
 * @self: a [class@BbSync.Namespace]
 * @result: the result passed to the callback
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Namespace.revoke_invite_async].
 *
 * Returns: %TRUE once revoked and its secret deleted
 *
 * Since: 0.1
 */
gboolean
bb_namespace_revoke_invite_finish (BbNamespace *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (BB_IS_NAMESPACE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == bb_namespace_revoke_invite_async,
                        FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- list open invites --- */

static void
invites_refreshed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  InviteOp *data = op_of (task);
  GError *error = NULL;
  g_autoptr (GPtrArray) invites = bb_sync_auth_run_finish (data->engine, result, &error);

  if (invites == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  update_invites (g_task_get_source_object (task), invites, now_seconds (data->engine));
  purge_expired (task, refresh_purged);
}

/**
 * bb_namespace_refresh_invites_async:
 * @self: a [class@BbSync.Namespace] of kind `shared`
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the list is up to date
 * @user_data: data for @callback
 *
 * Lists the invites of the namespace on the server and replaces the items of
 * [method@BbSync.Namespace.get_invites] with the open ones, logging in first if needed.
 * The keyring secrets of expired invites are deleted on the way.
 *
 * Since: 0.1
 */
void
bb_namespace_refresh_invites_async (BbNamespace *self, GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (BbSyncEngine) engine = NULL;
  GTask *task;

  g_return_if_fail (BB_IS_NAMESPACE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  engine = bb_namespace_get_engine (self);
  task = invite_task_new (self, engine, bb_namespace_get_id (self),
                          bb_namespace_refresh_invites_async, cancellable, callback, user_data);
  if (task != NULL)
    run_authenticated (task, invites_body, invites_refreshed);
}

/**
 * bb_namespace_refresh_invites_finish:
 * @self: a [class@BbSync.Namespace]
 * @result: the result passed to the callback
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Namespace.refresh_invites_async].
 *
 * Returns: %TRUE once the list model is up to date
 *
 * Since: 0.1
 */
gboolean
bb_namespace_refresh_invites_finish (BbNamespace *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (BB_IS_NAMESPACE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (
      g_task_get_source_tag (G_TASK (result)) == bb_namespace_refresh_invites_async, FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * bb_namespace_get_invites:
 * @self: a [class@BbSync.Namespace]
 *
 * The open invites of the namespace, as of the last
 * [method@BbSync.Namespace.refresh_invites_async]: those the server lists that are not
 * revoked, not used up (their accepted count below their `max_accepted`) and not
 * expired by the engine's clock when listed. An invite that expires later stays until
 * the next refresh.
 *
 * Creating an invite with [method@BbSync.Namespace.create_invite_async] adds it, revoking it
 * with [method@BbSync.Namespace.revoke_invite_async] removes it, and an approval refreshes the
 * list (the counts change).
 *
 * Returns: (transfer none): a list model of [class@BbSync.OpenInvite]
 *
 * Since: 0.1
 */
GListModel *
bb_namespace_get_invites (BbNamespace *self)
{
  g_return_val_if_fail (BB_IS_NAMESPACE (self), NULL);
  return G_LIST_MODEL (bb_namespace_get_invite_store (self));
}
