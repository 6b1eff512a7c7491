/* bb-sync-namespaces.c: namespace keys: ready checks, joins and the default bootstrap
 * (spec §5)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-i18n-private.h"

#include "bb-error.h"
#include "bb-protocol.h"
#include "bb-sync-engine-private.h"

typedef struct
{
  char *namespace_id;
  char *kind; /* expected kind (ready) or kind hint (join) */
  GBytes *dek;
  BbNamespaceListing *info;
} NsData;

static void
ns_data_free (NsData *data)
{
  g_free (data->namespace_id);
  g_free (data->kind);
  g_clear_pointer (&data->dek, g_bytes_unref);
  g_clear_pointer (&data->info, bb_namespace_listing_unref);
  g_free (data);
}

static GTask *
ns_task_new (BbSyncEngine *self, const char *namespace_id, const char *kind, gpointer tag,
             GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  NsData *data = g_new0 (NsData, 1);

  g_task_set_source_tag (task, tag);
  data->namespace_id = g_strdup (namespace_id);
  data->kind = g_strdup (kind != NULL ? kind : "");
  g_task_set_task_data (task, data, (GDestroyNotify)ns_data_free);
  return task;
}

static gboolean
check_kind (BbNamespaceState *ns, const char *expected, GError **error)
{
  const char *kind = bb_namespace_state_get_kind (ns);

  if (expected[0] == '\0' || g_strcmp0 (kind, expected) == 0)
    return TRUE;
  g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_FAILED,
               _ ("Namespace %s has kind “%s”, expected “%s”"),
               bb_namespace_state_get_namespace_id (ns), kind, expected);
  return FALSE;
}

/* Join (spec §5.2): fetch, unwrap and cache the DEK. */

static void
join_unwrapped (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  BbSyncEngine *self = g_task_get_source_object (task);
  NsData *data = g_task_get_task_data (task);
  BbStore *store = bb_sync_engine_get_store (self);
  g_autoptr (GBytes) dek = NULL;
  g_autoptr (BbNamespaceState) ns = NULL;
  GError *error = NULL;

  dek = bb_identity_unwrap_dek_finish (BB_IDENTITY (source), result, &error);
  if (dek == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  ns = bb_store_get_namespace (store, bb_sync_engine_get_key_id (self), data->namespace_id, &error);
  if (ns == NULL)
    {
      if (!g_error_matches (error, BB_SYNC_ERROR, BB_SYNC_ERROR_NOT_FOUND))
        {
          g_task_return_error (task, error);
          return;
        }
      g_clear_error (&error);
      ns = bb_namespace_state_new (bb_sync_engine_get_key_id (self), data->namespace_id);
    }
  if (bb_namespace_state_get_kind (ns) == NULL || bb_namespace_state_get_kind (ns)[0] == '\0')
    bb_namespace_state_set_kind (ns, data->kind);
  bb_namespace_state_set_dek (ns, dek);
  bb_namespace_state_set_updated_at (ns, bb_sync_engine_now (self));
  if (!bb_store_save_namespace (store, ns, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  g_object_unref (bb_sync_engine_ensure_namespace_handle (self, data->namespace_id,
                                                          bb_namespace_state_get_kind (ns)));
  g_task_return_pointer (task, g_steal_pointer (&ns), g_object_unref);
}

static void
join_fetched (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  BbSyncEngine *self = g_task_get_source_object (task);
  NsData *data = g_task_get_task_data (task);
  g_autoptr (GBytes) wrapped = NULL;
  GError *error = NULL;

  wrapped = bb_client_get_wrapped_dek_finish (BB_CLIENT (source), result, &error);
  if (wrapped == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  bb_identity_unwrap_dek_async (bb_sync_engine_get_identity (self), data->namespace_id, wrapped,
                                g_task_get_cancellable (task), join_unwrapped, task);
}

void
bb_sync_namespace_join_async (BbSyncEngine *self, const char *namespace_id, const char *kind_hint,
                              GCancellable *cancellable, GAsyncReadyCallback callback,
                              gpointer user_data)
{
  GTask *task = ns_task_new (self, namespace_id, kind_hint, bb_sync_namespace_join_async,
                             cancellable, callback, user_data);

  bb_client_get_wrapped_dek_async (bb_sync_engine_get_client (self), namespace_id,
                                   bb_sync_engine_get_key_id (self), cancellable, join_fetched,
                                   task);
}

BbNamespaceState *
bb_sync_namespace_join_finish (BbSyncEngine *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ensureNamespaceReady (spec §5.1). */

static void
ready_joined (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  NsData *data = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr (BbNamespaceState) ns = NULL;

  ns = bb_sync_namespace_join_finish (BB_SYNC_ENGINE (source), result, &error);
  if (ns == NULL || !check_kind (ns, data->kind, &error))
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, g_steal_pointer (&ns), g_object_unref);
}

static void
ready_authenticated (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  NsData *data = g_task_get_task_data (task);
  GError *error = NULL;

  if (!bb_sync_auth_ensure_finish (BB_SYNC_ENGINE (source), result, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  bb_sync_namespace_join_async (BB_SYNC_ENGINE (source), data->namespace_id, data->kind,
                                g_task_get_cancellable (task), ready_joined, task);
}

void
bb_sync_namespace_ready_async (BbSyncEngine *self, const char *namespace_id,
                               const char *expected_kind, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = ns_task_new (self, namespace_id, expected_kind, bb_sync_namespace_ready_async,
                             cancellable, callback, user_data);
  g_autoptr (BbNamespaceState) ns = NULL;
  GError *error = NULL;

  ns = bb_store_get_namespace (bb_sync_engine_get_store (self), bb_sync_engine_get_key_id (self),
                               namespace_id, &error);
  if (ns != NULL && bb_namespace_state_has_dek (ns))
    {
      if (!check_kind (ns, expected_kind != NULL ? expected_kind : "", &error))
        g_task_return_error (task, error);
      else
        g_task_return_pointer (task, g_steal_pointer (&ns), g_object_unref);
      g_object_unref (task);
      return;
    }
  if (ns == NULL && !g_error_matches (error, BB_SYNC_ERROR, BB_SYNC_ERROR_NOT_FOUND))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  g_clear_error (&error);
  bb_sync_auth_ensure_async (self, cancellable, ready_authenticated, task);
}

BbNamespaceState *
bb_sync_namespace_ready_finish (BbSyncEngine *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* The default-namespace bootstrap (spec §5.3). */

static void
default_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;
  BbNamespaceState *ns = bb_sync_namespace_ready_finish (BB_SYNC_ENGINE (source), result, &error);

  if (ns == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, ns, g_object_unref);
}

static void
default_save (GTask *task, GBytes *dek)
{
  BbSyncEngine *self = g_task_get_source_object (task);
  NsData *data = g_task_get_task_data (task);
  const char *id = bb_namespace_listing_get_namespace_id (data->info);
  g_autoptr (BbIdentityState) state = NULL;
  g_autoptr (BbNamespaceState) ns = NULL;
  GError *error = NULL;

  state = bb_identity_state_copy (bb_sync_engine_peek_identity_state (self));
  bb_identity_state_set_default_namespace_id (state, id);
  bb_identity_state_set_updated_at (state, bb_sync_engine_now (self));
  if (!bb_sync_engine_save_identity_state (self, state, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  /* A full overwrite: head 0 and no scope hash (spec §5.3 f). */
  ns = bb_namespace_state_new (bb_sync_engine_get_key_id (self), id);
  bb_namespace_state_set_kind (ns, bb_namespace_listing_get_kind (data->info));
  bb_namespace_state_set_dek (ns, dek);
  bb_namespace_state_set_updated_at (ns, bb_sync_engine_now (self));
  if (!bb_store_save_namespace (bb_sync_engine_get_store (self), ns, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  g_object_unref (bb_sync_engine_ensure_namespace_handle (self, id, "default"));
  g_task_return_pointer (task, g_steal_pointer (&ns), g_object_unref);
}

static void
default_unwrapped (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GBytes) dek = NULL;
  GError *error = NULL;

  dek = bb_identity_unwrap_dek_finish (BB_IDENTITY (source), result, &error);
  if (dek == NULL)
    g_task_return_error (task, error);
  else
    default_save (task, dek);
}

static void
default_ensured (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  BbSyncEngine *self = g_task_get_source_object (task);
  NsData *data = g_task_get_task_data (task);
  GCancellable *cancellable;
  GError *error = NULL;

  data->info = bb_client_ensure_default_namespace_finish (BB_CLIENT (source), result, &error);
  if (data->info == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (bb_namespace_listing_get_created (data->info))
    {
      default_save (task, data->dek);
      return;
    }
  /* Another device created it first: use its key, wrapped to this identity. The
   * cancellable is read before the task is handed over (argument order is unspecified). */
  cancellable = g_task_get_cancellable (task);
  bb_identity_unwrap_dek_async (bb_sync_engine_get_identity (self),
                                bb_namespace_listing_get_namespace_id (data->info),
                                bb_namespace_listing_get_wrapped_dek (data->info), cancellable,
                                default_unwrapped, g_steal_pointer (&task));
}

void
bb_sync_default_namespace_async (BbSyncEngine *self, GCancellable *cancellable,
                                 GAsyncReadyCallback callback, gpointer user_data)
{
  BbIdentityState *state = bb_sync_engine_peek_identity_state (self);
  const char *cached = bb_identity_state_get_default_namespace_id (state);
  g_autofree char *proposed = NULL;
  g_autoptr (GBytes) wrap_key = NULL;
  g_autoptr (GBytes) wrapped = NULL;
  GTask *task;
  NsData *data;
  GError *error = NULL;

  if (cached != NULL && cached[0] != '\0')
    {
      task = ns_task_new (self, cached, "default", bb_sync_default_namespace_async, cancellable,
                          callback, user_data);
      bb_sync_namespace_ready_async (self, cached, "default", cancellable, default_ready, task);
      return;
    }

  proposed = bb_protocol_new_namespace_id ();
  task = ns_task_new (self, proposed, "default", bb_sync_default_namespace_async, cancellable,
                      callback, user_data);
  data = g_task_get_task_data (task);
  data->dek = bb_protocol_new_dek ();
  wrap_key = bb_identity_get_wrap_public_key (bb_sync_engine_get_identity (self));
  wrapped = bb_protocol_wrap_dek (wrap_key, proposed, data->dek, &error);
  if (wrapped == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  bb_client_ensure_default_namespace_async (bb_sync_engine_get_client (self), proposed, wrapped,
                                            cancellable, default_ensured, task);
}

BbNamespaceState *
bb_sync_default_namespace_finish (BbSyncEngine *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
