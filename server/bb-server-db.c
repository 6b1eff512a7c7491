/* bb-server-db.c: SQLite persistence of the reference server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-server-db.h"

#include "bb-i18n-private.h"
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdarg.h>
#include <unistd.h>

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

sqlite3_stmt *
bb_server_db_query (BbServerDb *db, GError **error, const char *sql, const char *types, ...)
{
  sqlite3_stmt *stmt;
  va_list ap;

  va_start (ap, types);
  stmt = query_valist (db, error, sql, types, ap);
  va_end (ap);
  return stmt;
}

gboolean
bb_server_db_step (BbServerDb *db, sqlite3_stmt *stmt, GError **error)
{
  int rc = sqlite3_step (stmt);

  if (rc == SQLITE_ROW)
    return TRUE;
  if (rc != SQLITE_DONE)
    set_sqlite_error (db->conn, rc, error);
  return FALSE;
}

gboolean
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

gint64
bb_server_db_changes (BbServerDb *db)
{
  return sqlite3_changes64 (db->conn);
}

gint64
bb_server_db_get_int (BbServerDb *db, gint64 fallback, GError **error, const char *sql,
                      const char *types, ...)
{
  sqlite3_stmt *stmt;
  gint64 value = fallback;
  va_list ap;

  va_start (ap, types);
  stmt = query_valist (db, error, sql, types, ap);
  va_end (ap);
  if (stmt == NULL)
    return fallback;
  if (bb_server_db_step (db, stmt, error) && sqlite3_column_type (stmt, 0) != SQLITE_NULL)
    value = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  return value;
}

char *
bb_server_db_column_text (sqlite3_stmt *stmt, int column)
{
  const unsigned char *text = sqlite3_column_text (stmt, column);

  return text != NULL ? g_strdup ((const char *)text) : NULL;
}

GBytes *
bb_server_db_column_bytes (sqlite3_stmt *stmt, int column)
{
  const void *data = sqlite3_column_blob (stmt, column);
  int len = sqlite3_column_bytes (stmt, column);

  if (sqlite3_column_type (stmt, column) == SQLITE_NULL)
    return NULL;
  return g_bytes_new (data, len);
}

gboolean
bb_server_db_begin (BbServerDb *db, GError **error)
{
  g_return_val_if_fail (!db->in_transaction, FALSE);

  if (!bb_server_db_exec (db, error, "BEGIN IMMEDIATE", ""))
    return FALSE;
  db->in_transaction = TRUE;
  return TRUE;
}

gboolean
bb_server_db_commit (BbServerDb *db, GError **error)
{
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
bb_server_db_rollback (BbServerDb *db)
{
  if (!db->in_transaction)
    return;
  if (!sqlite3_get_autocommit (db->conn))
    exec_script (db->conn, "ROLLBACK;", NULL);
  db->in_transaction = FALSE;
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
