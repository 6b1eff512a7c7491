/* bb-sqlite-store.h: the SQLite metadata store
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(BBSYNC_INSIDE) && !defined(BBSYNC_COMPILATION)
#error "Only <bbsync/bbsync.h> can be included directly."
#endif

#include <gio/gio.h>

#include "bb-version-macros.h"
#include "bb-store.h"

G_BEGIN_DECLS

/**
 * BB_SQLITE_STORE_IN_MEMORY:
 *
 * The path that opens a private in-memory store, gone when the store is finalized or
 * closed. Each store opened with it is isolated from every other.
 *
 * Since: 0.1
 */
#define BB_SQLITE_STORE_IN_MEMORY ":memory:"

/**
 * BB_SQLITE_STORE_KEY_SIZE:
 *
 * The size in bytes of a store key supplied by the app.
 *
 * Since: 0.1
 */
#define BB_SQLITE_STORE_KEY_SIZE 32

/**
 * BB_SQLITE_STORE_SCHEMA_VERSION:
 *
 * The schema version (`PRAGMA user_version`) this library writes. Files with a higher
 * version are refused.
 *
 * Since: 0.1
 */
#define BB_SQLITE_STORE_SCHEMA_VERSION 2

#define BB_TYPE_SQLITE_STORE (bb_sqlite_store_get_type ())

BB_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (BbSqliteStore, bb_sqlite_store, BB, SQLITE_STORE, GObject)

BB_AVAILABLE_IN_ALL
BbSqliteStore *bb_sqlite_store_new_sync (const char   *path,
                                         GBytes       *store_key,
                                         GCancellable *cancellable,
                                         GError      **error);
BB_AVAILABLE_IN_ALL
void bb_sqlite_store_new_async (const char         *path,
                                GBytes             *store_key,
                                GCancellable       *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer            user_data);
BB_AVAILABLE_IN_ALL
BbSqliteStore *bb_sqlite_store_new_finish (GAsyncResult *result,
                                           GError      **error);

BB_AVAILABLE_IN_ALL
const char *bb_sqlite_store_get_path (BbSqliteStore *self);
BB_AVAILABLE_IN_ALL
const char *bb_sqlite_store_get_store_id (BbSqliteStore *self);

G_END_DECLS
