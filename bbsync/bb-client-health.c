/* bb-client-health.c: the server-status endpoint (`GET /health`, an endpoint of the
 * reference server rather than of the protocol)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-i18n-private.h"

#include "bb-client-private.h"
#include "bb-error.h"
#include "bb-protocol-messages-private.h"

static gpointer
handle_health (const BbClientExpect *expect, const char *body, gsize len, GError **error)
{
  BbMsgHealthResponse msg = { 0 };
  char *status;

  if (!bb_msg_health_response_parse (&msg, body, len, error))
    return NULL;
  status = g_steal_pointer (&msg.status);
  bb_msg_health_response_clear (&msg);
  if (status == NULL)
    g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL, _ ("status: missing"));
  return status;
}

/**
 * bb_client_health_async:
 * @self: a [class@BbSync.Client]
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the request completes
 * @user_data: data for @callback
 *
 * Asks whether the server is ready (`GET /health`, an endpoint of the bbsync reference
 * server; the protocol does not fix its path).
 *
 * Since: 0.1
 */
void
bb_client_health_async (BbClient *self, GCancellable *cancellable, GAsyncReadyCallback callback,
                        gpointer user_data)
{
  BbClientRequest *req;

  g_return_if_fail (BB_IS_CLIENT (self));

  req = bb_client_request_new ("GET", "/health", FALSE, handle_health, g_free, NULL);
  bb_client_request_send (self, req, bb_client_health_async, cancellable, callback, user_data);
}

/**
 * bb_client_health_finish:
 * @self: a [class@BbSync.Client]
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.Client.health_async].
 *
 * Errors: %BB_SYNC_ERROR_PROTOCOL when the answer is malformed or has no `status`;
 * %BB_SYNC_ERROR_API when the server answers with an error status (read it back with
 * [func@BbSync.SyncError.get_http_status]), %G_IO_ERROR_TIMED_OUT when the request outlasts
 * [property@BbSync.Client:timeout], %G_IO_ERROR_CANCELLED when it was cancelled; network and
 * TLS errors pass through unchanged.
 *
 * Returns: (transfer full): the server's status, `ok` when ready, or %NULL on error;
 *   free it with g_free()
 *
 * Since: 0.1
 */
char *
bb_client_health_finish (BbClient *self, GAsyncResult *result, GError **error)
{
  return bb_client_request_finish (self, result, bb_client_health_async, G_STRFUNC, error);
}
