/* bb-error.c: the BbSync error domain
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-error.h"

#include <stdlib.h>
#include <string.h>

/**
 * bb_sync_error_quark:
 *
 * Returns: the quark of the %BB_SYNC_ERROR domain
 *
 * Since: 0.1
 */
G_DEFINE_QUARK (bb-sync-error-quark, bb_sync_error)

/**
 * bb_sync_error_get_http_status:
 * @error: a #GError
 *
 * Reads the HTTP status of a %BB_SYNC_ERROR_API error.
 *
 * The status is carried in the message itself (`HTTP 412: item already exists`),
 * so this works the same for an error that went through a language binding, for
 * example a `GLib.Error` caught in Python and passed back in.
 *
 * Returns: the HTTP status (400 to 599), or 0 if @error is not an API error
 *
 * Since: 0.1
 */
guint
bb_sync_error_get_http_status (const GError *error)
{
  const char *msg;
  char *end = NULL;
  unsigned long status;

  g_return_val_if_fail (error != NULL, 0);

  if (!g_error_matches (error, BB_SYNC_ERROR, BB_SYNC_ERROR_API) || error->message == NULL)
    return 0;

  msg = error->message;
  if (strncmp (msg, "HTTP ", 5) != 0)
    return 0;
  msg += 5;
  if (!g_ascii_isdigit (msg[0]))
    return 0;
  status = strtoul (msg, &end, 10);
  if (end != msg + 3 || (*end != ':' && *end != '\0') || status < 100 || status > 599)
    return 0;
  return (guint) status;
}
