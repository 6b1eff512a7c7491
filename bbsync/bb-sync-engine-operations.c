/* bb-sync-engine-operations.c: the engine's public operations: login, default namespace,
 * create, join and look up a namespace, revoke all tokens, sync and reset. Each runs as a
 * GTask that close cancels; the work itself is in bb-sync-auth.c, bb-sync-namespaces.c and
 * bb-sync-pass.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-i18n-private.h"

#include "bb-error.h"
#include "bb-protocol.h"
#include "bb-sync-engine-object-private.h"

/* --- operations --- */

/* Starts @task's operation: returns the op cancellable, or NULL after completing @task
 * with CLOSED. */
static GCancellable *
begin_op (BbSyncEngine *self, GTask *task)
{
  GError *error = NULL;
  GCancellable *op;

  if (!bb_sync_engine_check_open (self, &error))
    {
      g_task_return_error (task, error);
      return NULL;
    }
  op = bb_sync_engine_op_cancellable (self, g_task_get_cancellable (task));
  g_task_set_task_data (task, op, NULL);
  return op;
}

static void
end_op (BbSyncEngine *self, GTask *task)
{
  bb_sync_engine_op_done (self, g_task_get_task_data (task));
}

/* Login (spec §4.8): the default-namespace bootstrap under the wrapper. */

static void
bootstrap_body_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  BbNamespaceState *ns = bb_sync_default_namespace_finish (BB_SYNC_ENGINE (source), result, &error);

  if (ns == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, ns, g_object_unref);
}

static void
bootstrap_body (BbSyncEngine *self, gpointer body_data, GCancellable *cancellable,
                GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  bb_sync_default_namespace_async (self, cancellable, bootstrap_body_done, task);
}

static void
namespace_op_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  BbSyncEngine *self = BB_SYNC_ENGINE (source);
  GError *error = NULL;
  g_autoptr (BbNamespaceState) ns = bb_sync_auth_run_finish (self, result, &error);

  end_op (self, task);
  if (ns == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (g_task_get_source_tag (task) == bb_sync_engine_login_async)
    {
      bb_sync_run_login_succeeded (self);
      g_task_return_boolean (task, TRUE);
      return;
    }
  g_task_return_pointer (
      task,
      bb_sync_engine_ensure_namespace_handle (self, bb_namespace_state_get_namespace_id (ns),
                                              bb_namespace_state_get_kind (ns)),
      g_object_unref);
}

/**
 * bb_sync_engine_login_async:
 * @self: a [class@BbSync.SyncEngine]
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Signs in (when the stored token is missing or expired) and makes sure the default
 * namespace exists, creating it on first use. A still valid token is kept.
 *
 * Since: 0.1
 */
void
bb_sync_engine_login_async (BbSyncEngine *self, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  GCancellable *op;

  g_return_if_fail (BB_IS_SYNC_ENGINE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, bb_sync_engine_login_async);
  if ((op = begin_op (self, task)) == NULL)
    return;
  bb_sync_auth_run_async (self, bootstrap_body, NULL, NULL, op, namespace_op_done,
                          g_steal_pointer (&task));
}

/**
 * bb_sync_engine_login_finish:
 * @self: a [class@BbSync.SyncEngine]
 * @result: the result passed to the callback
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.SyncEngine.login_async].
 *
 * Returns: %TRUE if the engine is signed in
 *
 * Since: 0.1
 */
gboolean
bb_sync_engine_login_finish (BbSyncEngine *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == bb_sync_engine_login_async,
                        FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * bb_sync_engine_default_namespace_async:
 * @self: a [class@BbSync.SyncEngine]
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Gets the identity's default namespace, signing in if needed and creating the
 * namespace on the server on first use.
 *
 * Since: 0.1
 */
void
bb_sync_engine_default_namespace_async (BbSyncEngine *self, GCancellable *cancellable,
                                        GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  GCancellable *op;

  g_return_if_fail (BB_IS_SYNC_ENGINE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, bb_sync_engine_default_namespace_async);
  if ((op = begin_op (self, task)) == NULL)
    return;
  bb_sync_auth_run_async (self, bootstrap_body, NULL, NULL, op, namespace_op_done,
                          g_steal_pointer (&task));
}

static BbNamespace *
namespace_finish (BbSyncEngine *self, GAsyncResult *result, gpointer tag, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == tag, NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * bb_sync_engine_default_namespace_finish:
 * @self: a [class@BbSync.SyncEngine]
 * @result: the result passed to the callback
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.SyncEngine.default_namespace_async].
 *
 * Returns: (transfer full): the default namespace, or %NULL on error
 *
 * Since: 0.1
 */
BbNamespace *
bb_sync_engine_default_namespace_finish (BbSyncEngine *self, GAsyncResult *result, GError **error)
{
  return namespace_finish (self, result, bb_sync_engine_default_namespace_async, error);
}

/* Create a shared namespace (spec §5.4). */

typedef struct
{
  char *namespace_id;
  GBytes *dek;
} CreateData;

static void
create_data_free (CreateData *data)
{
  g_free (data->namespace_id);
  g_clear_pointer (&data->dek, g_bytes_unref);
  g_free (data);
}

static void
create_posted (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  BbSyncEngine *self = g_task_get_source_object (task);
  CreateData *data = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr (BbNamespaceListing) info = NULL;
  g_autoptr (BbNamespaceState) ns = NULL;

  info = bb_client_create_namespace_finish (BB_CLIENT (source), result, &error);
  if (info == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  ns = bb_namespace_state_new (self->key_id, data->namespace_id);
  bb_namespace_state_set_kind (ns, bb_namespace_listing_get_kind (info));
  bb_namespace_state_set_dek (ns, data->dek);
  bb_namespace_state_set_updated_at (ns, bb_sync_engine_now (self));
  if (!bb_store_save_namespace (self->store, ns, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&ns), g_object_unref);
}

static void
create_body (BbSyncEngine *self, gpointer body_data, GCancellable *cancellable,
             GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  CreateData *data = g_new0 (CreateData, 1);
  g_autoptr (GBytes) wrap_key = bb_identity_get_wrap_public_key (self->identity);
  g_autoptr (GBytes) wrapped = NULL;
  GError *error = NULL;

  g_task_set_task_data (task, data, (GDestroyNotify)create_data_free);
  data->namespace_id = bb_protocol_new_namespace_id ();
  data->dek = bb_protocol_new_dek ();
  wrapped = bb_protocol_wrap_dek (wrap_key, data->namespace_id, data->dek, &error);
  if (wrapped == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  bb_client_create_namespace_async (self->client, data->namespace_id, wrapped, cancellable,
                                    create_posted, task);
}

/**
 * bb_sync_engine_create_shared_namespace_async:
 * @self: a [class@BbSync.SyncEngine]
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Creates a shared namespace with a fresh random ID and key, signing in if needed.
 * Invite others to it with the invite API.
 *
 * Since: 0.1
 */
void
bb_sync_engine_create_shared_namespace_async (BbSyncEngine *self, GCancellable *cancellable,
                                              GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  GCancellable *op;

  g_return_if_fail (BB_IS_SYNC_ENGINE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, bb_sync_engine_create_shared_namespace_async);
  if ((op = begin_op (self, task)) == NULL)
    return;
  bb_sync_auth_run_async (self, create_body, NULL, NULL, op, namespace_op_done,
                          g_steal_pointer (&task));
}

/**
 * bb_sync_engine_create_shared_namespace_finish:
 * @self: a [class@BbSync.SyncEngine]
 * @result: the result passed to the callback
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.SyncEngine.create_shared_namespace_async].
 *
 * Returns: (transfer full): the new namespace, or %NULL on error
 *
 * Since: 0.1
 */
BbNamespace *
bb_sync_engine_create_shared_namespace_finish (BbSyncEngine *self, GAsyncResult *result,
                                               GError **error)
{
  return namespace_finish (self, result, bb_sync_engine_create_shared_namespace_async, error);
}

/* Join (spec §5.2) and lookup (spec §5.1). */

static void
join_body_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  BbNamespaceState *ns;

  if (g_task_get_source_tag (task) == bb_sync_namespace_ready_async)
    ns = bb_sync_namespace_ready_finish (BB_SYNC_ENGINE (source), result, &error);
  else
    ns = bb_sync_namespace_join_finish (BB_SYNC_ENGINE (source), result, &error);
  if (ns == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, ns, g_object_unref);
}

static void
join_body (BbSyncEngine *self, gpointer body_data, GCancellable *cancellable,
           GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  bb_sync_namespace_join_async (self, body_data, "", cancellable, join_body_done, task);
}

static void
lookup_body (BbSyncEngine *self, gpointer body_data, GCancellable *cancellable,
             GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, bb_sync_namespace_ready_async);
  bb_sync_namespace_ready_async (self, body_data, "", cancellable, join_body_done, task);
}

static void
start_namespace_id_op (BbSyncEngine *self, const char *namespace_id, BbAuthBodyFunc body,
                       gpointer tag, GCancellable *cancellable, GAsyncReadyCallback callback,
                       gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  GError *error = NULL;
  GCancellable *op;

  g_task_set_source_tag (task, tag);
  if (!bb_protocol_validate_lower_hex (namespace_id, 16, "namespace ID", &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if ((op = begin_op (self, task)) == NULL)
    return;
  bb_sync_auth_run_async (self, body, g_strdup (namespace_id), g_free, op, namespace_op_done,
                          g_steal_pointer (&task));
}

/**
 * bb_sync_engine_join_namespace_async:
 * @self: a [class@BbSync.SyncEngine]
 * @namespace_id: the namespace ID, 32 lower-case hex characters
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Fetches and unwraps the namespace key of a namespace this identity is a member of
 * (for example a shared namespace whose join request was approved), signing in if
 * needed. It fetches the key even when one is cached. Sync passes join new shared
 * namespaces on their own; call this to get a handle before the next pass.
 *
 * Since: 0.1
 */
void
bb_sync_engine_join_namespace_async (BbSyncEngine *self, const char *namespace_id,
                                     GCancellable *cancellable, GAsyncReadyCallback callback,
                                     gpointer user_data)
{
  g_return_if_fail (BB_IS_SYNC_ENGINE (self));
  g_return_if_fail (namespace_id != NULL);

  start_namespace_id_op (self, namespace_id, join_body, bb_sync_engine_join_namespace_async,
                         cancellable, callback, user_data);
}

/**
 * bb_sync_engine_join_namespace_finish:
 * @self: a [class@BbSync.SyncEngine]
 * @result: the result passed to the callback
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.SyncEngine.join_namespace_async].
 *
 * Returns: (transfer full): the namespace, or %NULL on error (before approval the
 *   server refuses the key with an API error)
 *
 * Since: 0.1
 */
BbNamespace *
bb_sync_engine_join_namespace_finish (BbSyncEngine *self, GAsyncResult *result, GError **error)
{
  return namespace_finish (self, result, bb_sync_engine_join_namespace_async, error);
}

/**
 * bb_sync_engine_lookup_namespace_async:
 * @self: a [class@BbSync.SyncEngine]
 * @namespace_id: the namespace ID, 32 lower-case hex characters
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Gets a namespace whose key is ready: from the store without network I/O when the
 * key is cached, or by joining it (signing in if needed).
 *
 * Since: 0.1
 */
void
bb_sync_engine_lookup_namespace_async (BbSyncEngine *self, const char *namespace_id,
                                       GCancellable *cancellable, GAsyncReadyCallback callback,
                                       gpointer user_data)
{
  g_return_if_fail (BB_IS_SYNC_ENGINE (self));
  g_return_if_fail (namespace_id != NULL);

  start_namespace_id_op (self, namespace_id, lookup_body, bb_sync_engine_lookup_namespace_async,
                         cancellable, callback, user_data);
}

/**
 * bb_sync_engine_lookup_namespace_finish:
 * @self: a [class@BbSync.SyncEngine]
 * @result: the result passed to the callback
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.SyncEngine.lookup_namespace_async].
 *
 * Returns: (transfer full): the namespace, or %NULL on error
 *
 * Since: 0.1
 */
BbNamespace *
bb_sync_engine_lookup_namespace_finish (BbSyncEngine *self, GAsyncResult *result, GError **error)
{
  return namespace_finish (self, result, bb_sync_engine_lookup_namespace_async, error);
}

/* Revoke all tokens (spec §4.9). */

static void
revoked (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  BbSyncEngine *self = g_task_get_source_object (task);
  g_autoptr (BbIdentityState) state = NULL;
  GError *error = NULL;

  if (!bb_client_revoke_all_tokens_with_identity_finish (BB_CLIENT (source), result, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  state = bb_identity_state_copy (self->identity_state);
  bb_identity_state_set_access_token (state, "");
  bb_identity_state_set_token_expiry (state, 0);
  bb_identity_state_set_updated_at (state, bb_sync_engine_now (self));
  if (!bb_sync_engine_save_identity_state (self, state, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  bb_sync_engine_emit_auth (self, BB_SYNC_EVENT_AUTH_LOGIN_REQUIRED, 0);
  g_task_return_pointer (task, GINT_TO_POINTER (TRUE), NULL);
}

static void
revoke_body (BbSyncEngine *self, gpointer body_data, GCancellable *cancellable,
             GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  bb_client_revoke_all_tokens_with_identity_async (self->client, self->identity, cancellable,
                                                   revoked, task);
}

static void
boolean_op_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;

  bb_sync_auth_run_finish (BB_SYNC_ENGINE (source), result, &error);
  end_op (BB_SYNC_ENGINE (source), task);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

/**
 * bb_sync_engine_revoke_all_tokens_async:
 * @self: a [class@BbSync.SyncEngine]
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when done
 * @user_data: data for @callback
 *
 * Revokes every bearer token of the identity on the server (for example after a
 * device was lost), then forgets the local one and emits
 * [signal@BbSync.SyncEngine::auth-login-required]. The identity signs the request.
 *
 * Since: 0.1
 */
void
bb_sync_engine_revoke_all_tokens_async (BbSyncEngine *self, GCancellable *cancellable,
                                        GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  GCancellable *op;

  g_return_if_fail (BB_IS_SYNC_ENGINE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, bb_sync_engine_revoke_all_tokens_async);
  if ((op = begin_op (self, task)) == NULL)
    return;
  bb_sync_auth_run_async (self, revoke_body, NULL, NULL, op, boolean_op_done,
                          g_steal_pointer (&task));
}

/**
 * bb_sync_engine_revoke_all_tokens_finish:
 * @self: a [class@BbSync.SyncEngine]
 * @result: the result passed to the callback
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.SyncEngine.revoke_all_tokens_async].
 *
 * Returns: %TRUE if the tokens were revoked
 *
 * Since: 0.1
 */
gboolean
bb_sync_engine_revoke_all_tokens_finish (BbSyncEngine *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (
      g_task_get_source_tag (G_TASK (result)) == bb_sync_engine_revoke_all_tokens_async, FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* The sync pass (spec §6.1): passes run one at a time, in call order. */

static void start_next_pass (BbSyncEngine *self);

static void
pass_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  BbSyncEngine *self = BB_SYNC_ENGINE (source);
  GError *error = NULL;

  end_op (self, task);
  bb_sync_engine_refresh_conflicts (self);
  self->pass_running = FALSE;
  if (!bb_sync_pass_run_finish (self, result, &error))
    {
      bb_sync_engine_set_pass_result (self, error);
      bb_sync_engine_emit_error (self, BB_SYNC_EVENT_SYNC_FAILED, error);
      g_task_return_error (task, error);
    }
  else
    {
      bb_sync_engine_set_pass_result (self, NULL);
      bb_sync_engine_emit_simple (self, BB_SYNC_EVENT_SYNC_FINISHED);
      g_task_return_boolean (task, TRUE);
    }
  start_next_pass (self);
  if (!self->pass_running)
    bb_sync_engine_set_syncing (self, FALSE);
}

static void
start_next_pass (BbSyncEngine *self)
{
  GTask *task;
  GCancellable *op;

  while (!self->pass_running && (task = g_queue_pop_head (&self->pass_queue)) != NULL)
    {
      if ((op = begin_op (self, task)) == NULL)
        {
          g_object_unref (task);
          continue;
        }
      self->pass_running = TRUE;
      bb_sync_engine_set_progress (self, 0, 0);
      bb_sync_engine_set_syncing (self, TRUE);
      bb_sync_engine_emit_simple (self, BB_SYNC_EVENT_SYNC_STARTED);
      bb_sync_pass_run_async (self, op, pass_done, task);
    }
}

/**
 * bb_sync_engine_sync_async:
 * @self: a [class@BbSync.SyncEngine]
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the pass has ended
 * @user_data: data for @callback
 *
 * Runs one full sync pass: queues changed local values, fetches and applies remote
 * changes (merging where both sides changed), then uploads the queued values. Signs in
 * first if needed, and on an HTTP 401 signs in again and runs the pass once more.
 *
 * Passes run one at a time: a call made while a pass runs starts after it. What a
 * failed pass saved stays saved; the next pass continues from there.
 *
 * Since: 0.1
 */
void
bb_sync_engine_sync_async (BbSyncEngine *self, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task;
  GError *error = NULL;

  g_return_if_fail (BB_IS_SYNC_ENGINE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, bb_sync_engine_sync_async);
  if (!bb_sync_engine_check_open (self, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  g_queue_push_tail (&self->pass_queue, task);
  start_next_pass (self);
}

/**
 * bb_sync_engine_sync_finish:
 * @self: a [class@BbSync.SyncEngine]
 * @result: the result passed to the callback
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.SyncEngine.sync_async].
 *
 * Returns: %TRUE if the pass succeeded; %FALSE with %BB_SYNC_ERROR_ROLLBACK when the
 *   server's state went backwards (see [method@BbSync.SyncEngine.reset_sync_state]), or the
 *   error that stopped the pass
 *
 * Since: 0.1
 */
gboolean
bb_sync_engine_sync_finish (BbSyncEngine *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == bb_sync_engine_sync_async,
                        FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * bb_sync_engine_reset_sync_state:
 * @self: a [class@BbSync.SyncEngine]
 * @error: return location for a [struct@GLib.Error]
 *
 * Forgets the sync metadata of the identity: every namespace and item record and the
 * cached default namespace (spec §3.3). The token stays. This is the way out of
 * %BB_SYNC_ERROR_ROLLBACK, and a "resync" for an app that wants to start over.
 *
 * The app's values are not touched. The next pass reconciles as on first enable: it
 * fetches the namespace keys again, downloads every remote value and merges it with
 * the local one without a merge base ([signal@BbSync.Collection::merge] gets a %NULL base),
 * then uploads what the merges produced. Open collections stay open.
 *
 * Returns: %TRUE on success; %FALSE with %BB_SYNC_ERROR_BUSY while a pass runs, or an
 *   error from the store
 *
 * Since: 0.1
 */
gboolean
bb_sync_engine_reset_sync_state (BbSyncEngine *self, GError **error)
{
  g_autoptr (BbIdentityState) state = NULL;

  g_return_val_if_fail (BB_IS_SYNC_ENGINE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!bb_sync_engine_check_open (self, error))
    return FALSE;
  if (self->pass_running || self->auth.running)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_BUSY,
                   _ ("Cannot reset the sync state while a sync pass runs"));
      return FALSE;
    }
  if (!bb_store_reset_sync_state (self->store, self->key_id, error))
    return FALSE;

  /* The store kept the token and cleared the default namespace; mirror it. */
  state = bb_identity_state_copy (self->identity_state);
  bb_identity_state_set_default_namespace_id (state, "");
  g_set_object (&self->identity_state, state);
  g_hash_table_remove_all (self->map_keys);
  g_hash_table_remove_all (self->scope_caches);
  bb_item_cache_clear (self->items);
  bb_sync_engine_refresh_conflicts (self);
  return TRUE;
}
