/* bb-sync-auth.c: the engine's token check, login, refresh and 401 retry (spec §4)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-i18n-private.h"

#include "bb-error.h"
#include "bb-sync-engine-private.h"

/* One login or refresh decision runs at a time (the reference's auth mutex); calls that
 * arrive meanwhile wait in auth->waiters and decide again afterwards, usually finding
 * the fresh token. */

static void decide (GTask *task);

static void
release (BbSyncEngine *self)
{
  BbSyncAuth *auth = bb_sync_engine_get_auth (self);
  GTask *task;

  auth->running = FALSE;
  while (!auth->running && (task = g_queue_pop_head (&auth->waiters)) != NULL)
    decide (task);
}

static gint64
datetime_to_usec (GDateTime *dt)
{
  if (dt == NULL)
    return 0;
  return g_date_time_to_unix (dt) * G_USEC_PER_SEC + g_date_time_get_microsecond (dt);
}

static void
logged_in (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  BbSyncEngine *self = g_task_get_source_object (task);
  BbIdentityState *old = bb_sync_engine_peek_identity_state (self);
  g_autoptr (BbLoginResult) login = NULL;
  g_autoptr (BbIdentityState) state = NULL;
  GError *error = NULL;
  gint64 expiry;

  login = bb_client_login_with_identity_finish (BB_CLIENT (source), result, &error);
  if (login == NULL)
    {
      /* Newest reference: announced only when the automatic login failed (spec §4.7). */
      bb_sync_engine_emit_auth (self, BB_SYNC_EVENT_AUTH_LOGIN_REQUIRED,
                                bb_identity_state_get_token_expiry (old));
      g_task_return_error (task, error);
      release (self);
      g_object_unref (task);
      return;
    }

  /* The login replaces the whole record (spec §4.3 step 7). */
  expiry = datetime_to_usec (bb_login_result_get_expires_at (login));
  state = bb_identity_state_new (bb_sync_engine_get_key_id (self));
  bb_identity_state_set_kind (state, bb_login_result_get_kind (login));
  bb_identity_state_set_access_token (state, bb_login_result_get_access_token (login));
  bb_identity_state_set_token_expiry (state, expiry);
  bb_identity_state_set_default_namespace_id (state,
                                              bb_login_result_get_default_namespace_id (login));
  bb_identity_state_set_updated_at (state, bb_sync_engine_now (self));
  if (!bb_sync_engine_save_identity_state (self, state, &error))
    g_task_return_error (task, error);
  else
    {
      bb_sync_engine_emit_auth (self, BB_SYNC_EVENT_AUTH_SESSION_READY, expiry);
      g_task_return_boolean (task, TRUE);
    }
  release (self);
  g_object_unref (task);
}

static void
login (GTask *task)
{
  BbSyncEngine *self = g_task_get_source_object (task);

  bb_sync_engine_get_auth (self)->running = TRUE;
  bb_client_login_with_identity_async (bb_sync_engine_get_client (self),
                                       bb_sync_engine_get_identity (self),
                                       g_task_get_cancellable (task), logged_in, task);
}

static void
refreshed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  BbSyncEngine *self = g_task_get_source_object (task);
  g_autoptr (BbLoginResult) refresh = NULL;
  g_autoptr (GError) error = NULL;

  refresh = bb_client_refresh_with_identity_finish (BB_CLIENT (source), result, &error);
  if (refresh == NULL)
    {
      /* The token is still valid locally: keep using it (spec §4.2). */
      g_debug ("Token refresh failed, keeping the current token: %s", error->message);
      bb_client_set_access_token (
          bb_sync_engine_get_client (self),
          bb_identity_state_get_access_token (bb_sync_engine_peek_identity_state (self)));
    }
  else
    {
      g_autoptr (BbIdentityState) state
          = bb_identity_state_copy (bb_sync_engine_peek_identity_state (self));
      gint64 expiry = datetime_to_usec (bb_login_result_get_expires_at (refresh));

      /* Only the token fields change (spec §4.4 step 6). */
      bb_identity_state_set_access_token (state, bb_login_result_get_access_token (refresh));
      bb_identity_state_set_token_expiry (state, expiry);
      bb_identity_state_set_updated_at (state, bb_sync_engine_now (self));
      if (!bb_sync_engine_save_identity_state (self, state, &error))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          release (self);
          g_object_unref (task);
          return;
        }
      bb_sync_engine_emit_auth (self, BB_SYNC_EVENT_AUTH_SESSION_READY, expiry);
    }
  g_task_return_boolean (task, TRUE);
  release (self);
  g_object_unref (task);
}

static void
decide (GTask *task)
{
  BbSyncEngine *self = g_task_get_source_object (task);
  BbSyncAuth *auth = bb_sync_engine_get_auth (self);
  BbIdentityState *state = bb_sync_engine_peek_identity_state (self);
  const char *token = bb_identity_state_get_access_token (state);
  gint64 expiry = bb_identity_state_get_token_expiry (state);
  gint64 now = bb_sync_engine_now (self);
  gint64 skew = (gint64)bb_sync_engine_get_refresh_skew (self) * G_USEC_PER_SEC;

  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return;
    }
  if (auth->running)
    {
      g_queue_push_tail (&auth->waiters, task);
      return;
    }
  /* Spec §4.2: a login when the expiry is strictly before now (zero always is); a token
   * expiring exactly now still goes through the skew window below. */
  if (token == NULL || token[0] == '\0' || expiry == 0 || expiry < now)
    {
      login (task);
      return;
    }
  bb_client_set_access_token (bb_sync_engine_get_client (self), token);
  if (expiry < now + skew)
    {
      bb_sync_engine_emit_auth (self, BB_SYNC_EVENT_AUTH_REFRESH_RECOMMENDED, expiry);
      auth->running = TRUE;
      bb_client_refresh_with_identity_async (bb_sync_engine_get_client (self),
                                             bb_sync_engine_get_identity (self),
                                             g_task_get_cancellable (task), refreshed, task);
      return;
    }
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

/* ensureAuthenticated (spec §4.2). */
void
bb_sync_auth_ensure_async (BbSyncEngine *self, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, bb_sync_auth_ensure_async);
  decide (task);
}

gboolean
bb_sync_auth_ensure_finish (BbSyncEngine *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* The authenticated-operation wrapper (spec §4.5). */

typedef struct
{
  BbAuthBodyFunc body;
  gpointer body_data;
  GDestroyNotify body_data_free;
  char *failed_token;
  gboolean retried;
} RunData;

static void
run_data_free (RunData *data)
{
  if (data->body_data_free != NULL)
    data->body_data_free (data->body_data);
  g_free (data->failed_token);
  g_free (data);
}

static void body_done (GObject *source, GAsyncResult *result, gpointer user_data);

static void
run_body (GTask *task)
{
  BbSyncEngine *self = g_task_get_source_object (task);
  RunData *data = g_task_get_task_data (task);

  if (g_task_return_error_if_cancelled (task))
    {
      g_object_unref (task);
      return;
    }
  data->body (self, data->body_data, g_task_get_cancellable (task), body_done, task);
}

static void
relogged_in (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  GError *error = NULL;

  if (!bb_sync_auth_ensure_finish (BB_SYNC_ENGINE (source), result, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  run_body (task);
}

static void
body_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  BbSyncEngine *self = BB_SYNC_ENGINE (source);
  RunData *data = g_task_get_task_data (task);
  BbIdentityState *current = bb_sync_engine_peek_identity_state (self);
  const char *token = bb_identity_state_get_access_token (current);
  GError *error = NULL;
  gpointer value;

  value = g_task_propagate_pointer (G_TASK (result), &error);
  if (error == NULL)
    {
      /* Every caller of the wrapper propagates its result, so the value moves on as is. */
      g_task_return_pointer (task, value, NULL);
      g_object_unref (task);
      return;
    }
  if (data->retried || bb_sync_error_get_http_status (error) != 401)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  g_clear_error (&error);
  data->retried = TRUE;

  /* Another operation already replaced the token: just run again (spec §4.5 step 5a). */
  if (data->failed_token[0] != '\0' && token != NULL && token[0] != '\0'
      && g_strcmp0 (token, data->failed_token) != 0)
    {
      run_body (task);
      return;
    }

  {
    g_autoptr (BbIdentityState) state = bb_identity_state_copy (current);

    bb_identity_state_set_access_token (state, "");
    bb_identity_state_set_token_expiry (state, 0);
    bb_identity_state_set_updated_at (state, bb_sync_engine_now (self));
    if (!bb_sync_engine_save_identity_state (self, state, &error))
      {
        g_task_return_error (task, error);
        g_object_unref (task);
        return;
      }
  }
  bb_sync_auth_ensure_async (self, g_task_get_cancellable (task), relogged_in, task);
}

static void
authenticated (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  BbSyncEngine *self = BB_SYNC_ENGINE (source);
  RunData *data = g_task_get_task_data (task);
  GError *error = NULL;

  if (!bb_sync_auth_ensure_finish (self, result, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  data->failed_token
      = g_strdup (bb_identity_state_get_access_token (bb_sync_engine_peek_identity_state (self)));
  if (data->failed_token == NULL)
    data->failed_token = g_strdup ("");
  run_body (task);
}

void
bb_sync_auth_run_async (BbSyncEngine *self, BbAuthBodyFunc body, gpointer body_data,
                        GDestroyNotify body_data_free, GCancellable *cancellable,
                        GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  RunData *data = g_new0 (RunData, 1);

  g_task_set_source_tag (task, bb_sync_auth_run_async);
  data->body = body;
  data->body_data = body_data;
  data->body_data_free = body_data_free;
  g_task_set_task_data (task, data, (GDestroyNotify)run_data_free);
  bb_sync_auth_ensure_async (self, cancellable, authenticated, task);
}

gpointer
bb_sync_auth_run_finish (BbSyncEngine *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
