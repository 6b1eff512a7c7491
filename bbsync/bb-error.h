/* bb-error.h: the BbSync error domain
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(BBSYNC_INSIDE) && !defined(BBSYNC_COMPILATION)
#error "Only <bbsync/bbsync.h> can be included directly."
#endif

#include <glib.h>

#include "bb-version-macros.h"

G_BEGIN_DECLS

/**
 * BB_SYNC_ERROR_RETRY_AFTER_MAX:
 *
 * The largest delay, in seconds (one day), that [func@BbSync.SyncError.get_retry_after]
 * returns: a longer `Retry-After` is cut down to this.
 *
 * Since: 0.1
 */
#define BB_SYNC_ERROR_RETRY_AFTER_MAX 86400

/**
 * BB_SYNC_ERROR:
 *
 * The error domain of bbsync. Errors in this domain are from the [error@BbSync.SyncError]
 * enumeration. GIO, TLS and libsoup errors are passed through unchanged, and
 * cancellation is reported as %G_IO_ERROR_CANCELLED.
 *
 * Since: 0.1
 */
#define BB_SYNC_ERROR (bb_sync_error_quark ())

/**
 * BbSyncError:
 * @BB_SYNC_ERROR_FAILED: a failure with no more specific code
 * @BB_SYNC_ERROR_INVALID_INPUT: an argument, a stored value or a parsed string
 *   (hex, base64, an invite URI, a server origin) is malformed or out of range; the
 *   message names the field
 * @BB_SYNC_ERROR_CRYPTO: a cryptographic check failed: AEAD authentication, a signature,
 *   an HPKE open, a wrapped DEK bound to another namespace
 * @BB_SYNC_ERROR_UNSUPPORTED: a format version, kind or scheme this library does not know
 * @BB_SYNC_ERROR_PROTOCOL: a server response violates the protocol (wrong ID echoed,
 *   wrong version, bad encoding, truncated JSON); the message names the field
 * @BB_SYNC_ERROR_API: the server answered with an HTTP status of 400 or above; the
 *   message is `HTTP <status>: <server text>`, and
 *   [func@BbSync.SyncError.get_http_status] returns the status. A 429 or 503 answer
 *   with a usable `Retry-After` header adds ` (retry after <seconds> s)`, which
 *   [func@BbSync.SyncError.get_retry_after] reads back
 * @BB_SYNC_ERROR_NOT_FOUND: a record does not exist (store look-ups)
 * @BB_SYNC_ERROR_STORE: the metadata store is unreadable, corrupt, from a newer schema,
 *   or sealed with another store key
 * @BB_SYNC_ERROR_KEYRING: the keyring (Secret Service) is unavailable or locked, or a
 *   stored secret is malformed
 * @BB_SYNC_ERROR_ROLLBACK: the server state went backwards: a namespace, head or item
 *   version older than one this client already saw; nothing remote was applied. The
 *   way out is [method@BbSync.SyncEngine.reset_sync_state]
 * @BB_SYNC_ERROR_CLOSED: the [class@BbSync.SyncEngine] was closed (Since: 0.1)
 * @BB_SYNC_ERROR_NO_BACKEND: a collection has no value backend, or the engine met an
 *   item of a collection that is not open (Since: 0.1)
 * @BB_SYNC_ERROR_COLLECTION_REGISTERED: a collection of that name is already open in
 *   the namespace (Since: 0.1)
 * @BB_SYNC_ERROR_BUSY: the operation cannot run while a sync pass is running (Since: 0.1)
 *
 * Error codes of the %BB_SYNC_ERROR domain. New codes may be added in later versions;
 * treat unknown codes like %BB_SYNC_ERROR_FAILED.
 *
 * Since: 0.1
 */
typedef enum
{
  BB_SYNC_ERROR_FAILED,
  BB_SYNC_ERROR_INVALID_INPUT,
  BB_SYNC_ERROR_CRYPTO,
  BB_SYNC_ERROR_UNSUPPORTED,
  BB_SYNC_ERROR_PROTOCOL,
  BB_SYNC_ERROR_API,
  BB_SYNC_ERROR_NOT_FOUND,
  BB_SYNC_ERROR_STORE,
  BB_SYNC_ERROR_KEYRING,
  BB_SYNC_ERROR_ROLLBACK,
  BB_SYNC_ERROR_CLOSED,
  BB_SYNC_ERROR_NO_BACKEND,
  BB_SYNC_ERROR_COLLECTION_REGISTERED,
  BB_SYNC_ERROR_BUSY,
} BbSyncError;

BB_AVAILABLE_IN_ALL
GQuark bb_sync_error_quark (void);

BB_AVAILABLE_IN_ALL
guint bb_sync_error_get_http_status (const GError *error);

BB_AVAILABLE_IN_ALL
guint bb_sync_error_get_retry_after (const GError *error);

G_END_DECLS
