/* bb-error.c: the BbSync error domain
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-error.h"

#include <stdlib.h>
#include <string.h>

/* clang-format would put spaces around the dashes of the quark name. */
/* clang-format off */
/**
 * bb_sync_error_quark:
 *
 * The error domain of the errors bbsync raises itself, with the codes of
 * [error@BbSync.SyncError]. GIO, TLS and libsoup errors keep their own domains. C code
 * uses the %BB_SYNC_ERROR macro.
 *
 * Returns: the quark of the %BB_SYNC_ERROR domain
 *
 * Since: 0.1
 */
G_DEFINE_QUARK (bb-sync-error-quark, bb_sync_error)
/* clang-format on */

/**
 * bb_sync_error_get_http_status:
 * @error: a [struct@GLib.Error]
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

#define RETRY_AFTER_PREFIX " (retry after "
#define RETRY_AFTER_SUFFIX " s)"
/* More digits than this is not a number a server meant: refuse it rather than cap it. */
#define RETRY_AFTER_MAX_DIGITS 10

/**
 * bb_sync_error_get_retry_after:
 * @error: a [struct@GLib.Error]
 *
 * Reads the delay a server asked for with a `Retry-After` header on an HTTP 429 (too
 * many requests) or 503 (service unavailable) answer: the next attempt should not come
 * sooner.
 *
 * Like [func@BbSync.SyncError.get_http_status], this reads the message, which then
 * ends with ` (retry after <seconds> s)` (`HTTP 503: maintenance (retry after 30 s)`),
 * so it works the same for an error that went through a language binding. The client
 * adds that suffix only for a `Retry-After` it could parse (delta-seconds, or an
 * HTTP-date, counted from the time of the answer) and that is not zero, and caps it at
 * %BB_SYNC_ERROR_RETRY_AFTER_MAX; a malformed header is ignored.
 *
 * Returns: the delay in seconds (1 to %BB_SYNC_ERROR_RETRY_AFTER_MAX), or 0 if @error
 *   is not an API error of status 429 or 503, or carries no usable delay
 *
 * Since: 0.1
 */
guint
bb_sync_error_get_retry_after (const GError *error)
{
  guint status;
  const char *msg, *digits, *end;
  gsize len, prefix_len = strlen (RETRY_AFTER_PREFIX), suffix_len = strlen (RETRY_AFTER_SUFFIX);
  guint64 value = 0;

  g_return_val_if_fail (error != NULL, 0);

  status = bb_sync_error_get_http_status (error);
  if (status != 429 && status != 503)
    return 0;

  msg = error->message;
  len = strlen (msg);
  if (len < prefix_len + 1 + suffix_len || !g_str_has_suffix (msg, RETRY_AFTER_SUFFIX))
    return 0;
  end = msg + len - suffix_len;
  /* Walk back over the digits to the prefix. */
  digits = end;
  while (digits > msg && g_ascii_isdigit (digits[-1]))
    digits--;
  if (digits == end || (gsize)(end - digits) > RETRY_AFTER_MAX_DIGITS
      || (gsize)(digits - msg) < prefix_len
      || strncmp (digits - prefix_len, RETRY_AFTER_PREFIX, prefix_len) != 0)
    return 0;
  for (const char *p = digits; p < end; p++)
    value = value * 10 + (guint64)(*p - '0');
  return (guint)MIN (value, BB_SYNC_ERROR_RETRY_AFTER_MAX);
}
