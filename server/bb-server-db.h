/* bb-server-db.h: SQLite persistence of the reference server
 *
 * One connection, used only from the server's main context. The schema is created on
 * open; file databases use WAL with synchronous=NORMAL, so a process killed at any
 * moment (kill -9) leaves the database at the last committed transaction. Every request
 * that writes runs in one transaction (bb_server_db_begin/commit).
 *
 * Statements are prepared once and cached by their SQL text. Parameters are bound from
 * a type string, one character per parameter:
 *   't' const char *  (text; NULL binds SQL NULL)
 *   'i' gint64
 *   'I' const gint64 * (NULL binds SQL NULL)
 *   'b' GBytes *      (blob; NULL binds SQL NULL)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>
#include <sqlite3.h>

G_BEGIN_DECLS

typedef struct _BbServerDb BbServerDb;

BbServerDb *bb_server_db_open (const char *path, GError **error);
void bb_server_db_free (BbServerDb *db);

/* Returns the cached statement for @sql, reset and with the parameters of @types bound,
 * or NULL (with @error set) when SQLite fails. Step it with bb_server_db_step. */
sqlite3_stmt *bb_server_db_query (BbServerDb *db, GError **error, const char *sql,
                                  const char *types, ...);
/* TRUE for a row, FALSE when done or on error (then @error is set if non-NULL). */
gboolean bb_server_db_step (BbServerDb *db, sqlite3_stmt *stmt, GError **error);
/* Runs a statement that returns no rows. */
gboolean bb_server_db_exec (BbServerDb *db, GError **error, const char *sql, const char *types,
                            ...);
/* Number of rows changed by the last exec. */
gint64 bb_server_db_changes (BbServerDb *db);

/* Helpers for single values: the first column of the first row, or @fallback. */
gint64 bb_server_db_get_int (BbServerDb *db, gint64 fallback, GError **error, const char *sql,
                             const char *types, ...);

/* Column readers that copy. */
char *bb_server_db_column_text (sqlite3_stmt *stmt, int column);
GBytes *bb_server_db_column_bytes (sqlite3_stmt *stmt, int column);

/* Write transactions (BEGIN IMMEDIATE). Nested use is a programmer error. */
gboolean bb_server_db_begin (BbServerDb *db, GError **error);
gboolean bb_server_db_commit (BbServerDb *db, GError **error);
void bb_server_db_rollback (BbServerDb *db);

/* Copies the whole database to an in-memory snapshot called @name (replacing an older
 * one of that name), and restores it later. */
gboolean bb_server_db_save_snapshot (BbServerDb *db, const char *name, GError **error);
gboolean bb_server_db_restore_snapshot (BbServerDb *db, const char *name, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BbServerDb, bb_server_db_free)

G_END_DECLS
