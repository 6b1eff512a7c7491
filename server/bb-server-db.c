/* bb-server-db.c: SQLite persistence of the reference server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-server-db.h"

#include "bb-i18n-private.h"
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <unistd.h>

#include "bb-protocol-messages-private.h"
#include "bb-protocol.h"
#include "bbsync/bb-error.h"

struct _BbServerDb
{
  sqlite3 *conn;
  GHashTable *statements; /* SQL text (static) -> sqlite3_stmt* */
  GHashTable *snapshots;  /* name -> sqlite3* (in-memory copies) */
  gboolean in_transaction;
};

/* Schema version 1. Times are Unix seconds of the server clock. IDs are the lower-hex
 * strings of the wire, which are canonical, so they can be compared as text. */
static const char schema_sql[]
    = "CREATE TABLE IF NOT EXISTS meta ("
      "  name TEXT PRIMARY KEY, value TEXT NOT NULL);"
      "INSERT OR IGNORE INTO meta (name, value) VALUES ('schema', '1');"
      "CREATE TABLE IF NOT EXISTS keys ("
      "  key_id TEXT PRIMARY KEY,"
      "  kind TEXT NOT NULL,"
      "  auth_public_key BLOB NOT NULL,"
      "  wrap_public_key BLOB NOT NULL,"
      "  default_namespace_id TEXT,"
      "  created_at INTEGER NOT NULL);"
      /* Only the SHA-256 of a bearer token is stored, so a copy of the database does not
       * hand out sessions. */
      "CREATE TABLE IF NOT EXISTS tokens ("
      "  token_hash BLOB PRIMARY KEY,"
      "  key_id TEXT NOT NULL,"
      "  issued_at INTEGER NOT NULL,"
      "  expires_at INTEGER NOT NULL);"
      "CREATE INDEX IF NOT EXISTS tokens_by_key ON tokens (key_id, issued_at);"
      "CREATE TABLE IF NOT EXISTS namespaces ("
      "  namespace_id TEXT PRIMARY KEY,"
      "  kind TEXT NOT NULL,"
      "  head INTEGER NOT NULL DEFAULT 0,"
      "  item_count INTEGER NOT NULL DEFAULT 0,"
      "  stored_bytes INTEGER NOT NULL DEFAULT 0,"
      "  created_by TEXT NOT NULL,"
      "  created_at INTEGER NOT NULL);"
      "CREATE TABLE IF NOT EXISTS members ("
      "  namespace_id TEXT NOT NULL,"
      "  key_id TEXT NOT NULL,"
      "  kind TEXT NOT NULL,"
      "  wrapped_dek TEXT,"
      "  joined_at INTEGER NOT NULL,"
      "  PRIMARY KEY (namespace_id, key_id));"
      "CREATE INDEX IF NOT EXISTS members_by_key ON members (key_id);"
      /* nonce, aad and ciphertext are kept as the canonical base64 text that was sent. */
      "CREATE TABLE IF NOT EXISTS items ("
      "  namespace_id TEXT NOT NULL,"
      "  item_id TEXT NOT NULL,"
      "  version INTEGER NOT NULL,"
      "  nonce TEXT NOT NULL,"
      "  aad TEXT NOT NULL,"
      "  ciphertext TEXT NOT NULL,"
      "  ciphertext_size INTEGER NOT NULL,"
      "  PRIMARY KEY (namespace_id, item_id));"
      /* max_pending is NULL for variant B invites. */
      "CREATE TABLE IF NOT EXISTS invites ("
      "  invite_id TEXT PRIMARY KEY,"
      "  namespace_id TEXT NOT NULL,"
      "  created_by TEXT NOT NULL,"
      "  created_at INTEGER NOT NULL,"
      "  expires_at INTEGER NOT NULL,"
      "  max_pending INTEGER,"
      "  max_accepted INTEGER NOT NULL,"
      "  server_secret_hash BLOB NOT NULL,"
      "  accepted_count INTEGER NOT NULL DEFAULT 0,"
      "  revoked_at INTEGER);"
      "CREATE INDEX IF NOT EXISTS invites_by_namespace ON invites (namespace_id);"
      /* status: pending, approved, rejected or cancelled (its invite was revoked). */
      "CREATE TABLE IF NOT EXISTS join_requests ("
      "  namespace_id TEXT NOT NULL,"
      "  key_id TEXT NOT NULL,"
      "  request_hash TEXT NOT NULL,"
      "  invite_id TEXT NOT NULL,"
      "  join_request TEXT NOT NULL,"
      "  expires_at INTEGER NOT NULL,"
      "  created_at INTEGER NOT NULL,"
      "  status TEXT NOT NULL,"
      "  PRIMARY KEY (namespace_id, key_id, request_hash));"
      "CREATE INDEX IF NOT EXISTS join_requests_by_invite ON join_requests (invite_id, status);"
      "CREATE INDEX IF NOT EXISTS join_requests_by_key ON join_requests (key_id, status);";

static gboolean
set_sqlite_error (sqlite3 *conn, int rc, GError **error)
{
  g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE, _ ("Server database error: %s (%d)"),
               conn != NULL ? sqlite3_errmsg (conn) : sqlite3_errstr (rc), rc);
  return FALSE;
}

static gboolean
exec_script (sqlite3 *conn, const char *sql, GError **error)
{
  char *errmsg = NULL;
  int rc = sqlite3_exec (conn, sql, NULL, NULL, &errmsg);

  if (rc != SQLITE_OK)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE, _ ("Server database error: %s"),
                   errmsg != NULL ? errmsg : sqlite3_errstr (rc));
      sqlite3_free (errmsg);
      return FALSE;
    }
  return TRUE;
}

static gint64 bb_server_db_get_int (BbServerDb *db, gint64 fallback, GError **error,
                                    const char *sql, const char *types, ...);

BbServerDb *
bb_server_db_open (const char *path, GError **error)
{
  g_autoptr (BbServerDb) db = g_new0 (BbServerDb, 1);
  gboolean memory;
  int rc;

  g_return_val_if_fail (path != NULL, NULL);

  memory = g_str_equal (path, ":memory:");
  db->statements = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
                                          (GDestroyNotify)sqlite3_finalize);
  db->snapshots
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)sqlite3_close_v2);

  /* The database holds every user's keys, memberships and sealed items: only its owner
   * may read it. SQLite gives its -wal and -shm files the mode of the database file, so
   * creating that 0600 before SQLite does covers them too; an existing file keeps its
   * mode. */
  if (!memory && path[0] != '\0')
    {
      int fd = g_open (path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd >= 0)
        close (fd);
    }

  rc = sqlite3_open_v2 (path, &db->conn,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE,
                   _ ("Cannot open the server database “%s”: %s"), path,
                   db->conn != NULL ? sqlite3_errmsg (db->conn) : sqlite3_errstr (rc));
      return NULL;
    }
  sqlite3_extended_result_codes (db->conn, 1);
  /* A second process on the same file waits instead of failing at once. */
  sqlite3_busy_timeout (db->conn, 5000);

  if (!memory
      && !exec_script (db->conn,
                       "PRAGMA journal_mode=WAL;"
                       "PRAGMA synchronous=NORMAL;",
                       error))
    return NULL;
  if (!exec_script (db->conn, "PRAGMA foreign_keys=ON;", error))
    return NULL;
  if (!exec_script (db->conn, "BEGIN IMMEDIATE;", error))
    return NULL;
  if (!exec_script (db->conn, schema_sql, error))
    {
      exec_script (db->conn, "ROLLBACK;", NULL);
      return NULL;
    }
  if (!exec_script (db->conn, "COMMIT;", error))
    return NULL;

  {
    g_autoptr (GError) local_error = NULL;
    gint64 schema = bb_server_db_get_int (db, 0, &local_error,
                                          "SELECT value FROM meta WHERE name = 'schema'", "");
    if (schema != 1)
      {
        g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE,
                     _ ("The server database “%s” has unknown schema version %lld"), path,
                     (long long)schema);
        return NULL;
      }
  }

  return g_steal_pointer (&db);
}

void
bb_server_db_free (BbServerDb *db)
{
  if (db == NULL)
    return;
  g_clear_pointer (&db->statements, g_hash_table_unref);
  g_clear_pointer (&db->snapshots, g_hash_table_unref);
  if (db->conn != NULL)
    sqlite3_close_v2 (db->conn);
  g_free (db);
}

/* Statements are prepared once and cached by their SQL text. Parameters are bound from
 * a type string, one character per parameter:
 *   't' const char *  (text; NULL binds SQL NULL)
 *   'i' gint64
 *   'I' const gint64 * (NULL binds SQL NULL)
 *   'b' GBytes *      (blob; NULL binds SQL NULL)
 * Returns the statement reset and bound, or NULL (with @error set) when SQLite fails. */
static sqlite3_stmt *
query_valist (BbServerDb *db, GError **error, const char *sql, const char *types, va_list ap)
{
  sqlite3_stmt *stmt = g_hash_table_lookup (db->statements, sql);
  int rc;

  if (stmt == NULL)
    {
      rc = sqlite3_prepare_v3 (db->conn, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
      if (rc != SQLITE_OK)
        {
          set_sqlite_error (db->conn, rc, error);
          return NULL;
        }
      /* Keyed by the address of the (static) SQL text. */
      g_hash_table_insert (db->statements, (gpointer)sql, stmt);
    }
  else
    {
      sqlite3_reset (stmt);
      sqlite3_clear_bindings (stmt);
    }

  for (int i = 0; types[i] != '\0'; i++)
    {
      switch (types[i])
        {
          case 't':
            {
              const char *text = va_arg (ap, const char *);
              rc = text != NULL ? sqlite3_bind_text (stmt, i + 1, text, -1, SQLITE_TRANSIENT)
                                : sqlite3_bind_null (stmt, i + 1);
            }
            break;
          case 'i':
            rc = sqlite3_bind_int64 (stmt, i + 1, va_arg (ap, gint64));
            break;
          case 'I':
            {
              const gint64 *value = va_arg (ap, const gint64 *);
              rc = value != NULL ? sqlite3_bind_int64 (stmt, i + 1, *value)
                                 : sqlite3_bind_null (stmt, i + 1);
            }
            break;
          case 'b':
            {
              GBytes *bytes = va_arg (ap, GBytes *);
              gsize len = 0;
              const void *data = bytes != NULL ? g_bytes_get_data (bytes, &len) : NULL;
              rc = bytes != NULL ? sqlite3_bind_blob64 (stmt, i + 1, data != NULL ? data : "", len,
                                                        SQLITE_TRANSIENT)
                                 : sqlite3_bind_null (stmt, i + 1);
            }
            break;
          default:
            g_assert_not_reached ();
        }
      if (rc != SQLITE_OK)
        {
          set_sqlite_error (db->conn, rc, error);
          return NULL;
        }
    }
  return stmt;
}

/* TRUE for a row, FALSE when done or on error (then @error is set if non-NULL). */
static gboolean
bb_server_db_step (BbServerDb *db, sqlite3_stmt *stmt, GError **error)
{
  int rc = sqlite3_step (stmt);

  if (rc == SQLITE_ROW)
    return TRUE;
  if (rc != SQLITE_DONE)
    set_sqlite_error (db->conn, rc, error);
  return FALSE;
}

/* Runs a statement that returns no rows. */
static gboolean
bb_server_db_exec (BbServerDb *db, GError **error, const char *sql, const char *types, ...)
{
  sqlite3_stmt *stmt;
  va_list ap;
  int rc;

  va_start (ap, types);
  stmt = query_valist (db, error, sql, types, ap);
  va_end (ap);
  if (stmt == NULL)
    return FALSE;
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    {
      set_sqlite_error (db->conn, rc, error);
      sqlite3_reset (stmt);
      return FALSE;
    }
  sqlite3_reset (stmt);
  return TRUE;
}

/* Number of rows changed by the last exec. */
static gint64
bb_server_db_changes (BbServerDb *db)
{
  return sqlite3_changes64 (db->conn);
}

/* A cached statement standing on its first row. Going out of scope resets it, so the
 * statement is ready for the next query whichever way the reader returns. */
typedef sqlite3_stmt BbServerDbRow;

static void
bb_server_db_row_done (BbServerDbRow *row)
{
  sqlite3_reset (row);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BbServerDbRow, bb_server_db_row_done)

static BbServerDbRow *
first_row_valist (BbServerDb *db, GError **error, const char *sql, const char *types, va_list ap)
{
  sqlite3_stmt *stmt = query_valist (db, error, sql, types, ap);

  if (stmt == NULL)
    return NULL;
  if (!bb_server_db_step (db, stmt, error))
    {
      sqlite3_reset (stmt);
      return NULL;
    }
  return stmt;
}

/* The first row of @sql, to be held in g_autoptr (BbServerDbRow); NULL when there is
 * none or SQLite fails (then @error is set). */
static BbServerDbRow *
bb_server_db_first_row (BbServerDb *db, GError **error, const char *sql, const char *types, ...)
{
  BbServerDbRow *row;
  va_list ap;

  va_start (ap, types);
  row = first_row_valist (db, error, sql, types, ap);
  va_end (ap);
  return row;
}

/* Adds one row to @result; returning FALSE (with @error set) stops the query. */
typedef gboolean (*BbServerDbRowFunc) (sqlite3_stmt *row, gpointer result, GError **error);

/* Calls @add_row for every row of @sql. FALSE (with @error set) when SQLite or
 * @add_row fails; the rows added until then stay in @result. */
static gboolean
bb_server_db_for_each_row (BbServerDb *db, BbServerDbRowFunc add_row, gpointer result,
                           GError **error, const char *sql, const char *types, ...)
{
  g_autoptr (GError) local_error = NULL;
  sqlite3_stmt *stmt;
  va_list ap;

  va_start (ap, types);
  stmt = query_valist (db, error, sql, types, ap);
  va_end (ap);
  if (stmt == NULL)
    return FALSE;
  while (bb_server_db_step (db, stmt, &local_error) && add_row (stmt, result, &local_error))
    ;
  sqlite3_reset (stmt);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  return TRUE;
}

/* The first column of the first row, or @fallback. */
static gint64
bb_server_db_get_int (BbServerDb *db, gint64 fallback, GError **error, const char *sql,
                      const char *types, ...)
{
  g_autoptr (BbServerDbRow) row = NULL;
  va_list ap;

  va_start (ap, types);
  row = first_row_valist (db, error, sql, types, ap);
  va_end (ap);
  if (row == NULL || sqlite3_column_type (row, 0) == SQLITE_NULL)
    return fallback;
  return sqlite3_column_int64 (row, 0);
}

/* Column readers that copy. */
static char *
bb_server_db_column_text (sqlite3_stmt *stmt, int column)
{
  const unsigned char *text = sqlite3_column_text (stmt, column);

  return text != NULL ? g_strdup ((const char *)text) : NULL;
}

static GBytes *
bb_server_db_column_bytes (sqlite3_stmt *stmt, int column)
{
  const void *data = sqlite3_column_blob (stmt, column);
  int len = sqlite3_column_bytes (stmt, column);

  if (sqlite3_column_type (stmt, column) == SQLITE_NULL)
    return NULL;
  return g_bytes_new (data, len);
}

static void
bb_server_db_rollback (BbServerDb *db)
{
  if (!db->in_transaction)
    return;
  if (!sqlite3_get_autocommit (db->conn))
    exec_script (db->conn, "ROLLBACK;", NULL);
  db->in_transaction = FALSE;
}

/* A transaction is the database itself under another type: the guard needs nothing
 * else, and the type keeps it from being passed where a BbServerDb is meant. */
BbServerDbTransaction *
bb_server_db_begin (BbServerDb *db, GError **error)
{
  g_return_val_if_fail (!db->in_transaction, NULL);

  if (!bb_server_db_exec (db, error, "BEGIN IMMEDIATE", ""))
    return NULL;
  db->in_transaction = TRUE;
  return (BbServerDbTransaction *)db;
}

gboolean
bb_server_db_commit (BbServerDbTransaction *tx, GError **error)
{
  BbServerDb *db = (BbServerDb *)tx;

  g_return_val_if_fail (db->in_transaction, FALSE);

  if (!bb_server_db_exec (db, error, "COMMIT", ""))
    {
      bb_server_db_rollback (db);
      return FALSE;
    }
  db->in_transaction = FALSE;
  return TRUE;
}

void
bb_server_db_end (BbServerDbTransaction *tx)
{
  bb_server_db_rollback ((BbServerDb *)tx);
}

static gboolean
copy_database (sqlite3 *dest, sqlite3 *src, GError **error)
{
  sqlite3_backup *backup = sqlite3_backup_init (dest, "main", src, "main");
  int rc;

  if (backup == NULL)
    return set_sqlite_error (dest, sqlite3_errcode (dest), error);
  rc = sqlite3_backup_step (backup, -1);
  sqlite3_backup_finish (backup);
  if (rc != SQLITE_DONE)
    return set_sqlite_error (NULL, rc, error);
  return TRUE;
}

gboolean
bb_server_db_save_snapshot (BbServerDb *db, const char *name, GError **error)
{
  sqlite3 *copy = NULL;
  int rc;

  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (!db->in_transaction, FALSE);

  rc = sqlite3_open_v2 (":memory:", &copy, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
  if (rc != SQLITE_OK)
    {
      set_sqlite_error (copy, rc, error);
      sqlite3_close_v2 (copy);
      return FALSE;
    }
  if (!copy_database (copy, db->conn, error))
    {
      sqlite3_close_v2 (copy);
      return FALSE;
    }
  g_hash_table_replace (db->snapshots, g_strdup (name), copy);
  return TRUE;
}

gboolean
bb_server_db_restore_snapshot (BbServerDb *db, const char *name, GError **error)
{
  sqlite3 *copy;

  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (!db->in_transaction, FALSE);

  copy = g_hash_table_lookup (db->snapshots, name);
  if (copy == NULL)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_NOT_FOUND, _ ("No snapshot named “%s”"),
                   name);
      return FALSE;
    }
  /* The backup API needs no statement of the destination to be running. */
  {
    GHashTableIter iter;
    gpointer stmt;

    g_hash_table_iter_init (&iter, db->statements);
    while (g_hash_table_iter_next (&iter, NULL, &stmt))
      sqlite3_reset (stmt);
  }
  return copy_database (db->conn, copy, error);
}

/* ------------------------------------------------------------------------------------ */
/* Keys and tokens */

gboolean
bb_server_db_get_key (BbServerDb *db, const char *key_id, GBytes **auth_public_key,
                      GBytes **wrap_public_key, char **default_namespace_id, GError **error)
{
  g_autoptr (BbServerDbRow) row
      = bb_server_db_first_row (db, error,
                                "SELECT auth_public_key, wrap_public_key, default_namespace_id "
                                "FROM keys WHERE key_id = ?",
                                "t", key_id);

  if (row == NULL)
    return FALSE;
  if (auth_public_key != NULL)
    *auth_public_key = bb_server_db_column_bytes (row, 0);
  if (wrap_public_key != NULL)
    *wrap_public_key = bb_server_db_column_bytes (row, 1);
  if (default_namespace_id != NULL)
    *default_namespace_id = bb_server_db_column_text (row, 2);
  return TRUE;
}

gboolean
bb_server_db_insert_key (BbServerDb *db, const char *key_id, const char *kind,
                         GBytes *auth_public_key, GBytes *wrap_public_key, gint64 now,
                         GError **error)
{
  return bb_server_db_exec (db, error,
                            "INSERT INTO keys (key_id, kind, auth_public_key, "
                            "wrap_public_key, created_at) VALUES (?, ?, ?, ?, ?)",
                            "ttbbi", key_id, kind, auth_public_key, wrap_public_key, now);
}

gboolean
bb_server_db_set_default_namespace (BbServerDb *db, const char *key_id, const char *namespace_id,
                                    GError **error)
{
  return bb_server_db_exec (db, error, "UPDATE keys SET default_namespace_id = ? WHERE key_id = ?",
                            "tt", namespace_id, key_id);
}

gboolean
bb_server_db_insert_token (BbServerDb *db, const char *key_id, const char *token_hash, gint64 now,
                           gint64 expires_at, guint64 max_tokens, GError **error)
{
  if (!bb_server_db_exec (db, error, "DELETE FROM tokens WHERE key_id = ? AND expires_at <= ?",
                          "ti", key_id, now))
    return FALSE;
  if (!bb_server_db_exec (db, error,
                          "INSERT INTO tokens (token_hash, key_id, issued_at, expires_at) "
                          "VALUES (?, ?, ?, ?)",
                          "ttii", token_hash, key_id, now, expires_at))
    return FALSE;
  return bb_server_db_exec (db, error,
                            "DELETE FROM tokens WHERE key_id = ? AND rowid NOT IN "
                            "(SELECT rowid FROM tokens WHERE key_id = ? "
                            " ORDER BY issued_at DESC, rowid DESC LIMIT ?)",
                            "tti", key_id, key_id, (gint64)max_tokens);
}

char *
bb_server_db_get_token_key (BbServerDb *db, const char *token_hash, gint64 now, GError **error)
{
  g_autoptr (BbServerDbRow) row = bb_server_db_first_row (
      db, error, "SELECT key_id FROM tokens WHERE token_hash = ? AND expires_at > ?", "ti",
      token_hash, now);

  return row != NULL ? bb_server_db_column_text (row, 0) : NULL;
}

gboolean
bb_server_db_delete_tokens (BbServerDb *db, const char *key_id, GError **error)
{
  return bb_server_db_exec (db, error, "DELETE FROM tokens WHERE key_id = ?", "t", key_id);
}

/* ------------------------------------------------------------------------------------ */
/* Namespaces and members */

gboolean
bb_server_db_insert_namespace (BbServerDb *db, const char *namespace_id, const char *kind,
                               const char *created_by, const char *member_kind,
                               const char *wrapped_dek, gint64 now, GError **error)
{
  if (!bb_server_db_exec (db, error,
                          "INSERT INTO namespaces (namespace_id, kind, created_by, created_at) "
                          "VALUES (?, ?, ?, ?)",
                          "ttti", namespace_id, kind, created_by, now))
    return FALSE;
  return bb_server_db_insert_member (db, namespace_id, created_by, member_kind, wrapped_dek, now,
                                     error);
}

gboolean
bb_server_db_get_namespace (BbServerDb *db, const char *namespace_id, char **kind,
                            char **created_by, GError **error)
{
  g_autoptr (BbServerDbRow) row = bb_server_db_first_row (
      db, error, "SELECT kind, created_by FROM namespaces WHERE namespace_id = ?", "t",
      namespace_id);

  if (row == NULL)
    return FALSE;
  *kind = bb_server_db_column_text (row, 0);
  *created_by = bb_server_db_column_text (row, 1);
  return TRUE;
}

gboolean
bb_server_db_namespace_exists (BbServerDb *db, const char *namespace_id, GError **error)
{
  return bb_server_db_get_int (db, 0, error,
                               "SELECT COUNT(*) FROM namespaces WHERE namespace_id = ?", "t",
                               namespace_id)
         > 0;
}

gint64
bb_server_db_get_namespace_head (BbServerDb *db, const char *namespace_id, GError **error)
{
  return bb_server_db_get_int (db, 0, error, "SELECT head FROM namespaces WHERE namespace_id = ?",
                               "t", namespace_id);
}

static gboolean
add_namespace_summary (sqlite3_stmt *row, gpointer namespaces, GError **error)
{
  BbMsgNamespaceSummary *summary = g_new0 (BbMsgNamespaceSummary, 1);

  summary->namespace_id = bb_server_db_column_text (row, 0);
  summary->kind = bb_server_db_column_text (row, 1);
  summary->namespace_head = sqlite3_column_int64 (row, 2);
  g_ptr_array_add (namespaces, summary);
  return TRUE;
}

GPtrArray *
bb_server_db_list_namespaces_of (BbServerDb *db, const char *key_id, GError **error)
{
  g_autoptr (GPtrArray) namespaces
      = g_ptr_array_new_with_free_func ((GDestroyNotify)bb_msg_namespace_summary_free);

  if (!bb_server_db_for_each_row (db, add_namespace_summary, namespaces, error,
                                  "SELECT n.namespace_id, n.kind, n.head FROM members m "
                                  "JOIN namespaces n ON n.namespace_id = m.namespace_id "
                                  "WHERE m.key_id = ? ORDER BY n.namespace_id",
                                  "t", key_id))
    return NULL;
  return g_steal_pointer (&namespaces);
}

gint64
bb_server_db_count_namespaces_of (BbServerDb *db, const char *key_id, GError **error)
{
  return bb_server_db_get_int (db, 0, error, "SELECT COUNT(*) FROM members WHERE key_id = ?", "t",
                               key_id);
}

gboolean
bb_server_db_insert_member (BbServerDb *db, const char *namespace_id, const char *key_id,
                            const char *kind, const char *wrapped_dek, gint64 now, GError **error)
{
  return bb_server_db_exec (db, error,
                            "INSERT INTO members (namespace_id, key_id, kind, wrapped_dek, "
                            "joined_at) VALUES (?, ?, ?, ?, ?)",
                            "tttti", namespace_id, key_id, kind, wrapped_dek, now);
}

gboolean
bb_server_db_is_member (BbServerDb *db, const char *namespace_id, const char *key_id,
                        char **out_kind, GError **error)
{
  g_autoptr (BbServerDbRow) row
      = bb_server_db_first_row (db, error,
                                "SELECT n.kind FROM members m JOIN namespaces n "
                                "ON n.namespace_id = m.namespace_id "
                                "WHERE m.namespace_id = ? AND m.key_id = ?",
                                "tt", namespace_id, key_id);

  if (row == NULL)
    return FALSE;
  if (out_kind != NULL)
    *out_kind = bb_server_db_column_text (row, 0);
  return TRUE;
}

static gboolean
add_member (sqlite3_stmt *row, gpointer members, GError **error)
{
  BbMsgMember *member = g_new0 (BbMsgMember, 1);

  member->kind = bb_server_db_column_text (row, 0);
  member->key_id = bb_server_db_column_text (row, 1);
  g_ptr_array_add (members, member);
  return TRUE;
}

GPtrArray *
bb_server_db_list_members (BbServerDb *db, const char *namespace_id, GError **error)
{
  g_autoptr (GPtrArray) members
      = g_ptr_array_new_with_free_func ((GDestroyNotify)bb_msg_member_free);

  if (!bb_server_db_for_each_row (db, add_member, members, error,
                                  "SELECT kind, key_id FROM members WHERE namespace_id = ? "
                                  "ORDER BY joined_at, key_id",
                                  "t", namespace_id))
    return NULL;
  return g_steal_pointer (&members);
}

gint64
bb_server_db_count_members (BbServerDb *db, const char *namespace_id, GError **error)
{
  return bb_server_db_get_int (db, 0, error, "SELECT COUNT(*) FROM members WHERE namespace_id = ?",
                               "t", namespace_id);
}

char *
bb_server_db_get_wrapped_dek (BbServerDb *db, const char *namespace_id, const char *key_id,
                              GError **error)
{
  g_autoptr (BbServerDbRow) row = bb_server_db_first_row (
      db, error, "SELECT wrapped_dek FROM members WHERE namespace_id = ? AND key_id = ?", "tt",
      namespace_id, key_id);

  return row != NULL ? bb_server_db_column_text (row, 0) : NULL;
}

/* ------------------------------------------------------------------------------------ */
/* Items */

static gboolean
add_item_version (sqlite3_stmt *row, gpointer items, GError **error)
{
  guint64 *version = g_new (guint64, 1);

  *version = sqlite3_column_int64 (row, 1);
  g_hash_table_insert (items, bb_server_db_column_text (row, 0), version);
  return TRUE;
}

GHashTable *
bb_server_db_list_item_versions (BbServerDb *db, const char *namespace_id, GError **error)
{
  g_autoptr (GHashTable) items = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  if (!bb_server_db_for_each_row (db, add_item_version, items, error,
                                  "SELECT item_id, version FROM items WHERE namespace_id = ?", "t",
                                  namespace_id))
    return NULL;
  return g_steal_pointer (&items);
}

gboolean
bb_server_db_get_item (BbServerDb *db, const char *namespace_id, const char *item_id,
                       guint64 *version, char **nonce, char **aad, char **ciphertext,
                       GError **error)
{
  g_autoptr (BbServerDbRow) row
      = bb_server_db_first_row (db, error,
                                "SELECT version, nonce, aad, ciphertext FROM items "
                                "WHERE namespace_id = ? AND item_id = ?",
                                "tt", namespace_id, item_id);

  if (row == NULL)
    return FALSE;
  *version = sqlite3_column_int64 (row, 0);
  *nonce = bb_server_db_column_text (row, 1);
  *aad = bb_server_db_column_text (row, 2);
  *ciphertext = bb_server_db_column_text (row, 3);
  return TRUE;
}

gboolean
bb_server_db_get_item_size (BbServerDb *db, const char *namespace_id, const char *item_id,
                            gint64 *version, gint64 *ciphertext_size, GError **error)
{
  g_autoptr (BbServerDbRow) row
      = bb_server_db_first_row (db, error,
                                "SELECT version, ciphertext_size FROM items "
                                "WHERE namespace_id = ? AND item_id = ?",
                                "tt", namespace_id, item_id);

  if (row == NULL)
    return FALSE;
  *version = sqlite3_column_int64 (row, 0);
  *ciphertext_size = sqlite3_column_int64 (row, 1);
  return TRUE;
}

gboolean
bb_server_db_get_namespace_usage (BbServerDb *db, const char *namespace_id, gint64 *item_count,
                                  gint64 *stored_bytes, GError **error)
{
  g_autoptr (BbServerDbRow) row
      = bb_server_db_first_row (db, error,
                                "SELECT item_count, stored_bytes FROM namespaces "
                                "WHERE namespace_id = ?",
                                "t", namespace_id);

  if (row == NULL)
    return FALSE;
  *item_count = sqlite3_column_int64 (row, 0);
  *stored_bytes = sqlite3_column_int64 (row, 1);
  return TRUE;
}

gboolean
bb_server_db_put_item (BbServerDb *db, const char *namespace_id, const char *item_id,
                       guint64 version, const char *nonce, const char *aad, const char *ciphertext,
                       gint64 ciphertext_size, gint64 old_size, gboolean is_new, GError **error)
{
  if (!bb_server_db_exec (db, error,
                          "INSERT OR REPLACE INTO items (namespace_id, item_id, version, nonce, "
                          "aad, ciphertext, ciphertext_size) VALUES (?, ?, ?, ?, ?, ?, ?)",
                          "ttittti", namespace_id, item_id, (gint64)version, nonce, aad, ciphertext,
                          ciphertext_size))
    return FALSE;
  return bb_server_db_exec (db, error,
                            "UPDATE namespaces SET head = head + 1, item_count = item_count + ?, "
                            "stored_bytes = stored_bytes + ? WHERE namespace_id = ?",
                            "iit", (gint64)(is_new ? 1 : 0), ciphertext_size - old_size,
                            namespace_id);
}

/* ------------------------------------------------------------------------------------ */
/* Invites */

gint64
bb_server_db_count_active_invites (BbServerDb *db, const char *namespace_id, gint64 now,
                                   GError **error)
{
  return bb_server_db_get_int (db, 0, error,
                               "SELECT COUNT(*) FROM invites WHERE namespace_id = ? "
                               "AND revoked_at IS NULL AND expires_at > ?",
                               "ti", namespace_id, now);
}

gboolean
bb_server_db_invite_exists (BbServerDb *db, const char *invite_id, GError **error)
{
  return bb_server_db_get_int (db, 0, error, "SELECT COUNT(*) FROM invites WHERE invite_id = ?",
                               "t", invite_id)
         > 0;
}

gboolean
bb_server_db_namespace_has_invite (BbServerDb *db, const char *namespace_id, const char *invite_id,
                                   GError **error)
{
  return bb_server_db_get_int (db, 0, error,
                               "SELECT COUNT(*) FROM invites WHERE invite_id = ? "
                               "AND namespace_id = ?",
                               "tt", invite_id, namespace_id)
         != 0;
}

gboolean
bb_server_db_insert_invite (BbServerDb *db, const char *invite_id, const char *namespace_id,
                            const char *created_by, gint64 now, gint64 expires_at,
                            const gint64 *max_pending, gint64 max_accepted,
                            GBytes *server_secret_hash, GError **error)
{
  return bb_server_db_exec (db, error,
                            "INSERT INTO invites (invite_id, namespace_id, created_by, created_at, "
                            "expires_at, max_pending, max_accepted, server_secret_hash) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            "tttiiIib", invite_id, namespace_id, created_by, now, expires_at,
                            max_pending, max_accepted, server_secret_hash);
}

static gboolean
add_invite_summary (sqlite3_stmt *row, gpointer invites, GError **error)
{
  BbMsgInviteSummary *summary = g_new0 (BbMsgInviteSummary, 1);

  summary->invite_id = bb_server_db_column_text (row, 0);
  summary->created_by_key_id = bb_server_db_column_text (row, 1);
  summary->created_at = g_date_time_new_from_unix_utc (sqlite3_column_int64 (row, 2));
  summary->expires_at = sqlite3_column_int64 (row, 3);
  summary->has_max_pending = sqlite3_column_type (row, 4) != SQLITE_NULL;
  summary->max_pending = sqlite3_column_int64 (row, 4);
  summary->max_accepted = sqlite3_column_int64 (row, 5);
  summary->accepted_count = sqlite3_column_int64 (row, 6);
  if (sqlite3_column_type (row, 7) != SQLITE_NULL)
    summary->revoked_at = g_date_time_new_from_unix_utc (sqlite3_column_int64 (row, 7));
  summary->active_request_count = sqlite3_column_int64 (row, 8);
  g_ptr_array_add (invites, summary);
  return TRUE;
}

GPtrArray *
bb_server_db_list_invites (BbServerDb *db, const char *namespace_id, gint64 now,
                           gint64 retained_since, GError **error)
{
  g_autoptr (GPtrArray) invites
      = g_ptr_array_new_with_free_func ((GDestroyNotify)bb_msg_invite_summary_free);

  if (!bb_server_db_for_each_row (
          db, add_invite_summary, invites, error,
          "SELECT i.invite_id, i.created_by, i.created_at, i.expires_at, i.max_pending, "
          "i.max_accepted, i.accepted_count, i.revoked_at, "
          "(SELECT COUNT(*) FROM join_requests j WHERE j.invite_id = i.invite_id "
          " AND j.status = 'pending' AND j.expires_at > ?2) "
          "FROM invites i WHERE i.namespace_id = ?1 "
          "AND MIN(i.expires_at, COALESCE(i.revoked_at, i.expires_at)) > ?3 "
          "ORDER BY i.created_at, i.invite_id",
          "tii", namespace_id, now, retained_since))
    return NULL;
  return g_steal_pointer (&invites);
}

gboolean
bb_server_db_get_invite (BbServerDb *db, const char *namespace_id, const char *invite_id,
                         gint64 *expires_at, gboolean *revoked, gboolean *has_max_pending,
                         gint64 *max_pending, GError **error)
{
  g_autoptr (BbServerDbRow) row
      = bb_server_db_first_row (db, error,
                                "SELECT expires_at, revoked_at IS NOT NULL, max_pending "
                                "FROM invites WHERE invite_id = ? AND namespace_id = ?",
                                "tt", invite_id, namespace_id);

  if (row == NULL)
    return FALSE;
  *expires_at = sqlite3_column_int64 (row, 0);
  *revoked = sqlite3_column_int (row, 1) != 0;
  *has_max_pending = sqlite3_column_type (row, 2) != SQLITE_NULL;
  *max_pending = sqlite3_column_int64 (row, 2);
  return TRUE;
}

GBytes *
bb_server_db_get_invite_secret_hash (BbServerDb *db, const char *invite_id, GError **error)
{
  g_autoptr (BbServerDbRow) row = bb_server_db_first_row (
      db, error, "SELECT server_secret_hash FROM invites WHERE invite_id = ?", "t", invite_id);

  return row != NULL ? bb_server_db_column_bytes (row, 0) : NULL;
}

gboolean
bb_server_db_revoke_invite (BbServerDb *db, const char *invite_id, gint64 now, GError **error)
{
  /* Revoking twice keeps the first revocation time. */
  if (!bb_server_db_exec (db, error,
                          "UPDATE invites SET revoked_at = ? WHERE invite_id = ? "
                          "AND revoked_at IS NULL",
                          "it", now, invite_id))
    return FALSE;
  return bb_server_db_exec (db, error,
                            "UPDATE join_requests SET status = 'cancelled' "
                            "WHERE invite_id = ? AND status = 'pending'",
                            "t", invite_id);
}

/* ------------------------------------------------------------------------------------ */
/* Join requests */

gboolean
bb_server_db_get_pending_join_request (BbServerDb *db, const char *namespace_id, const char *key_id,
                                       gint64 now, char **invite_id, char **request_hash,
                                       GError **error)
{
  g_autoptr (BbServerDbRow) row
      = bb_server_db_first_row (db, error,
                                "SELECT invite_id, request_hash FROM join_requests "
                                "WHERE namespace_id = ? AND key_id = ? AND status = 'pending' "
                                "AND expires_at > ? ORDER BY created_at LIMIT 1",
                                "tti", namespace_id, key_id, now);

  if (row == NULL)
    return FALSE;
  *invite_id = bb_server_db_column_text (row, 0);
  *request_hash = bb_server_db_column_text (row, 1);
  return TRUE;
}

gint64
bb_server_db_count_pending_of_invite (BbServerDb *db, const char *invite_id, gint64 now,
                                      GError **error)
{
  return bb_server_db_get_int (db, 0, error,
                               "SELECT COUNT(*) FROM join_requests WHERE invite_id = ? "
                               "AND status = 'pending' AND expires_at > ?",
                               "ti", invite_id, now);
}

gint64
bb_server_db_count_pending_of_key (BbServerDb *db, const char *key_id, gint64 now, GError **error)
{
  return bb_server_db_get_int (db, 0, error,
                               "SELECT COUNT(*) FROM join_requests WHERE key_id = ? "
                               "AND status = 'pending' AND expires_at > ?",
                               "ti", key_id, now);
}

gboolean
bb_server_db_insert_join_request (BbServerDb *db, const char *namespace_id, const char *key_id,
                                  const char *request_hash, const char *invite_id,
                                  const char *join_request_json, gint64 expires_at, gint64 now,
                                  GError **error)
{
  return bb_server_db_exec (db, error,
                            "INSERT OR REPLACE INTO join_requests (namespace_id, key_id, "
                            "request_hash, invite_id, join_request, expires_at, created_at, "
                            "status) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')",
                            "tttttii", namespace_id, key_id, request_hash, invite_id,
                            join_request_json, expires_at, now);
}

static gboolean
add_join_request_entry (sqlite3_stmt *row, gpointer requests, GError **error)
{
  BbMsgJoinRequestEntry *entry = g_new0 (BbMsgJoinRequestEntry, 1);
  g_autoptr (JsonNode) node = NULL;

  entry->invite_id = bb_server_db_column_text (row, 0);
  entry->join_request_hash = bb_server_db_column_text (row, 1);
  entry->created_at = g_date_time_new_from_unix_utc (sqlite3_column_int64 (row, 2));
  entry->status = g_strdup (BB_PROTOCOL_JOIN_STATUS_PENDING);
  g_ptr_array_add (requests, entry);
  /* Stored as sent: read back with the messages' own reader. */
  node = json_from_string ((const char *)sqlite3_column_text (row, 3), error);
  return node != NULL
         && bb_msg_join_request_from_node (&entry->join_request, node, "joinRequest", error);
}

GPtrArray *
bb_server_db_list_pending_join_requests (BbServerDb *db, const char *namespace_id, gint64 now,
                                         GError **error)
{
  g_autoptr (GPtrArray) requests
      = g_ptr_array_new_with_free_func ((GDestroyNotify)bb_msg_join_request_entry_free);

  if (!bb_server_db_for_each_row (
          db, add_join_request_entry, requests, error,
          "SELECT invite_id, request_hash, created_at, join_request "
          "FROM join_requests WHERE namespace_id = ? AND status = 'pending' "
          "AND expires_at > ? ORDER BY created_at, key_id",
          "ti", namespace_id, now))
    return NULL;
  return g_steal_pointer (&requests);
}

gboolean
bb_server_db_get_pending_approval (BbServerDb *db, const char *namespace_id, const char *key_id,
                                   const char *request_hash, gint64 now, char **invite_id,
                                   gboolean *invite_revoked, gint64 *accepted_count,
                                   gint64 *max_accepted, GError **error)
{
  g_autoptr (BbServerDbRow) row
      = bb_server_db_first_row (db, error,
                                "SELECT j.invite_id, i.revoked_at IS NOT NULL, i.accepted_count, "
                                "i.max_accepted FROM join_requests j "
                                "JOIN invites i ON i.invite_id = j.invite_id "
                                "WHERE j.namespace_id = ? AND j.key_id = ? AND j.request_hash = ? "
                                "AND j.status = 'pending' AND j.expires_at > ?",
                                "ttti", namespace_id, key_id, request_hash, now);

  if (row == NULL)
    return FALSE;
  *invite_id = bb_server_db_column_text (row, 0);
  *invite_revoked = sqlite3_column_int (row, 1) != 0;
  *accepted_count = sqlite3_column_int64 (row, 2);
  *max_accepted = sqlite3_column_int64 (row, 3);
  return TRUE;
}

gboolean
bb_server_db_approve_join_request (BbServerDb *db, const char *namespace_id, const char *key_id,
                                   const char *request_hash, const char *invite_id,
                                   const char *member_kind, const char *wrapped_dek, gint64 now,
                                   GError **error)
{
  return bb_server_db_insert_member (db, namespace_id, key_id, member_kind, wrapped_dek, now, error)
         && bb_server_db_exec (db, error,
                               "UPDATE join_requests SET status = 'approved' "
                               "WHERE namespace_id = ? AND key_id = ? AND request_hash = ?",
                               "ttt", namespace_id, key_id, request_hash)
         && bb_server_db_exec (db, error,
                               "UPDATE invites SET accepted_count = accepted_count + 1 "
                               "WHERE invite_id = ?",
                               "t", invite_id);
}

gboolean
bb_server_db_reject_join_request (BbServerDb *db, const char *namespace_id, const char *key_id,
                                  const char *request_hash, gboolean *out_rejected, GError **error)
{
  if (!bb_server_db_exec (db, error,
                          "UPDATE join_requests SET status = 'rejected' WHERE namespace_id = ? "
                          "AND key_id = ? AND request_hash = ? AND status = 'pending'",
                          "ttt", namespace_id, key_id, request_hash))
    return FALSE;
  *out_rejected = bb_server_db_changes (db) > 0;
  return TRUE;
}
