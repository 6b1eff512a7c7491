/* bb-sqlite-store.c: the SQLite metadata store
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "bb-i18n-private.h"
#include <glib/gstdio.h>
#include <libsecret/secret.h>
#include <sqlite3.h>

#include "bb-sqlite-store.h"

#include "bb-crypto-private.h"
#include "bb-error.h"
#include "bb-protocol-private.h"
#include "bb-store-private.h"

/**
 * BbSqliteStore:
 *
 * The shipped [iface@BbSync.Store]: one SQLite database file per app, holding the records of
 * any number of identities.
 *
 * The schema is the reference client's (tables `identity_states`, `namespaces` and
 * `items`), versioned with `PRAGMA user_version` plus a small `bbsync_meta` table. The
 * bearer tokens, namespace keys, base values and conflict values are sealed with
 * XChaCha20-Poly1305 under a store key, each bound to its table, column and row (for
 * items, also to the row's collection name and logical key), so a copy of the file shows
 * none of them and a value moved to another row, or a row given another item's logical
 * key, fails to read. Every row also carries a MAC over all its columns (`row_mac`), so
 * a row whose versions, flags or sealed values were altered, or put back from an earlier
 * save while the rest of the row was not, fails to read as well. The store key is 32
 * random bytes kept in the user's keyring (libsecret schema `org.bbsync.StoreKey`,
 * created on first open) unless the app supplies one.
 *
 * Opening checks the file before writing anything: a corrupt or truncated file, a file
 * from a newer schema version, or a store key that does not open the sealed columns
 * each fail with %BB_SYNC_ERROR_STORE and leave the file as it was.
 *
 * A store can be used from any thread; calls are serialized by a lock. Opening may
 * talk to the keyring over D-Bus, so from a main loop use
 * [func@BbSync.SqliteStore.new_async].
 *
 * Since: 0.1
 */

#define STORE_KEY_SCHEMA_NAME "org.bbsync.StoreKey"
#define SEAL_VERSION 0x01
#define SEAL_OVERHEAD (1 + BB_CRYPTO_XCHACHA_NONCE_SIZE + BB_CRYPTO_AEAD_TAG_SIZE)
#define SEAL_KEY_INFO "bbsync-store-seal-key-v1"
#define SEAL_AAD_LABEL "bbsync-store-seal-v1"
#define ROW_MAC_KEY_INFO "bbsync-store-row-mac-key-v1"
#define ROW_MAC_LABEL "bbsync-store-row-mac-v1"
#define ROW_MAC_SIZE BB_CRYPTO_SHA256_SIZE
#define KEY_CHECK_PLAINTEXT "bbsync-store-key-check-v1"

/* The key check value is sealed as row "key_check" of bbsync_meta.value. */
static const char *const key_check_keys[] = { "key_check", NULL };

typedef enum
{
  STMT_BEGIN,
  STMT_COMMIT,
  STMT_ROLLBACK,
  STMT_LOAD_IDENTITY,
  STMT_SAVE_IDENTITY,
  STMT_GET_NAMESPACE,
  STMT_LIST_NAMESPACES,
  STMT_SAVE_NAMESPACE,
  STMT_GET_ITEM_BY_ID,
  STMT_GET_ITEM_BY_KEY,
  STMT_LIST_NAMESPACE_ITEMS,
  STMT_LIST_DIRTY_ITEMS,
  STMT_SAVE_ITEM,
  STMT_FORGET_TOKEN,
  STMT_FORGET_DEKS,
  STMT_RESET_IDENTITY,
  STMT_RESET_NAMESPACES,
  STMT_RESET_ITEMS,
  N_STMTS
} StmtId;

/* The columns of each table, in the order of the row MAC (see row_mac_compute): every
 * statement below that computes or checks a row MAC lists them in this order. */
#define IDENTITY_COLUMNS                                                                           \
  "key_id, kind, access_token, token_expiry, default_namespace_id, updated_at"
#define NAMESPACE_COLUMNS                                                                          \
  "key_id, namespace_id, kind, namespace_head, active_scope_hash, dek, updated_at"
#define ITEM_COLUMNS                                                                               \
  "key_id, namespace_id, collection_name, item_key, item_id, version, base_version, base_value, "  \
  "dirty, conflict, conflict_remote_version, conflict_remote_value, updated_at"

/* Whether the stored row_mac matches the stored row (1 or 0), as one more result column. */
#define ROW_MAC_VALID(table, columns) "bb_row_mac_valid(row_mac, '" table "', " columns ")"
#define IDENTITY_ROW_MAC_VALID ROW_MAC_VALID ("identity_states", IDENTITY_COLUMNS)
#define NAMESPACE_ROW_MAC_VALID ROW_MAC_VALID ("namespaces", NAMESPACE_COLUMNS)
#define ITEM_ROW_MAC_VALID ROW_MAC_VALID ("items", ITEM_COLUMNS)

/* The result column of ROW_MAC_VALID in the SELECTs below. */
#define IDENTITY_COL_MAC_VALID 6
#define NAMESPACE_COL_MAC_VALID 7
#define ITEM_COL_MAC_VALID 13

static const char *const stmt_sql[N_STMTS] = {
  [STMT_BEGIN] = "BEGIN IMMEDIATE",
  [STMT_COMMIT] = "COMMIT",
  [STMT_ROLLBACK] = "ROLLBACK",
  [STMT_LOAD_IDENTITY] = "SELECT " IDENTITY_COLUMNS ", " IDENTITY_ROW_MAC_VALID
                         " FROM identity_states WHERE key_id = ?1",
  [STMT_SAVE_IDENTITY] = "INSERT INTO identity_states (" IDENTITY_COLUMNS ", row_mac) "
                         "VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                         "bb_row_mac('identity_states', ?1, ?2, ?3, ?4, ?5, ?6)) "
                         "ON CONFLICT(key_id) DO UPDATE SET "
                         "kind = excluded.kind, access_token = excluded.access_token, "
                         "token_expiry = excluded.token_expiry, "
                         "default_namespace_id = excluded.default_namespace_id, "
                         "updated_at = excluded.updated_at, row_mac = excluded.row_mac",
  [STMT_GET_NAMESPACE] = "SELECT " NAMESPACE_COLUMNS ", " NAMESPACE_ROW_MAC_VALID
                         " FROM namespaces WHERE key_id = ?1 AND namespace_id = ?2",
  [STMT_LIST_NAMESPACES] = "SELECT " NAMESPACE_COLUMNS ", " NAMESPACE_ROW_MAC_VALID
                           " FROM namespaces WHERE key_id = ?1 ORDER BY updated_at, namespace_id",
  [STMT_SAVE_NAMESPACE] = "INSERT INTO namespaces (" NAMESPACE_COLUMNS ", row_mac) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
                          "bb_row_mac('namespaces', ?1, ?2, ?3, ?4, ?5, ?6, ?7)) "
                          "ON CONFLICT(key_id, namespace_id) DO UPDATE SET "
                          "kind = excluded.kind, namespace_head = excluded.namespace_head, "
                          "active_scope_hash = excluded.active_scope_hash, dek = excluded.dek, "
                          "updated_at = excluded.updated_at, row_mac = excluded.row_mac",
  [STMT_GET_ITEM_BY_ID] = "SELECT " ITEM_COLUMNS ", " ITEM_ROW_MAC_VALID " FROM items "
                          "WHERE key_id = ?1 AND namespace_id = ?2 AND item_id = ?3",
  [STMT_GET_ITEM_BY_KEY] = "SELECT " ITEM_COLUMNS ", " ITEM_ROW_MAC_VALID " FROM items "
                           "WHERE key_id = ?1 AND namespace_id = ?2 AND collection_name = ?3 "
                           "AND item_key = ?4",
  [STMT_LIST_NAMESPACE_ITEMS] = "SELECT " ITEM_COLUMNS ", " ITEM_ROW_MAC_VALID " FROM items "
                                "WHERE key_id = ?1 AND namespace_id = ?2 "
                                "ORDER BY updated_at, item_id",
  [STMT_LIST_DIRTY_ITEMS] = "SELECT " ITEM_COLUMNS ", " ITEM_ROW_MAC_VALID " FROM items "
                            "WHERE key_id = ?1 AND dirty = 1 ORDER BY updated_at, item_id",
  [STMT_SAVE_ITEM] = "INSERT INTO items (" ITEM_COLUMNS ", row_mac) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
                     "bb_row_mac('items', ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)) "
                     "ON CONFLICT(key_id, namespace_id, item_id) DO UPDATE SET "
                     "collection_name = excluded.collection_name, item_key = excluded.item_key, "
                     "version = excluded.version, base_version = excluded.base_version, "
                     "base_value = excluded.base_value, dirty = excluded.dirty, "
                     "conflict = excluded.conflict, "
                     "conflict_remote_version = excluded.conflict_remote_version, "
                     "conflict_remote_value = excluded.conflict_remote_value, "
                     "updated_at = excluded.updated_at, row_mac = excluded.row_mac",
  /* The in-place updates give the row a new MAC only when its old one was valid (SET
   * expressions see the old row), so clearing a secret never vouches for a row that had
   * been altered: that row keeps failing to read, without its secret. */
  [STMT_FORGET_TOKEN] = "UPDATE identity_states SET access_token = '', token_expiry = NULL, "
                        "updated_at = ?2, row_mac = CASE WHEN " IDENTITY_ROW_MAC_VALID " THEN "
                        "bb_row_mac('identity_states', key_id, kind, '', NULL, "
                        "default_namespace_id, ?2) END WHERE key_id = ?1",
  [STMT_FORGET_DEKS] = "UPDATE namespaces SET dek = NULL, updated_at = ?2, row_mac = CASE "
                       "WHEN " NAMESPACE_ROW_MAC_VALID " THEN bb_row_mac('namespaces', key_id, "
                       "namespace_id, kind, namespace_head, active_scope_hash, NULL, ?2) END "
                       "WHERE key_id = ?1",
  [STMT_RESET_IDENTITY] = "UPDATE identity_states SET default_namespace_id = NULL, "
                          "row_mac = CASE WHEN " IDENTITY_ROW_MAC_VALID " THEN "
                          "bb_row_mac('identity_states', key_id, kind, access_token, "
                          "token_expiry, NULL, updated_at) END WHERE key_id = ?1",
  [STMT_RESET_NAMESPACES] = "DELETE FROM namespaces WHERE key_id = ?1",
  [STMT_RESET_ITEMS] = "DELETE FROM items WHERE key_id = ?1",
};

/* The reference client's schema, unchanged, so that a file it wrote can be migrated. */
static const char schema_v1_sql[]
    = "CREATE TABLE IF NOT EXISTS identity_states ("
      "  key_id TEXT PRIMARY KEY,"
      "  kind TEXT NOT NULL,"
      "  access_token TEXT NOT NULL DEFAULT '',"
      "  token_expiry TIMESTAMP NULL,"
      "  default_namespace_id TEXT NULL,"
      "  updated_at TIMESTAMP NOT NULL);"
      "CREATE TABLE IF NOT EXISTS namespaces ("
      "  key_id TEXT NOT NULL,"
      "  namespace_id TEXT NOT NULL,"
      "  kind TEXT NOT NULL,"
      "  namespace_head INTEGER NOT NULL DEFAULT 0,"
      "  active_scope_hash TEXT NOT NULL DEFAULT '',"
      "  dek BLOB NULL,"
      "  updated_at TIMESTAMP NOT NULL,"
      "  PRIMARY KEY (key_id, namespace_id));"
      "CREATE TABLE IF NOT EXISTS items ("
      "  key_id TEXT NOT NULL,"
      "  namespace_id TEXT NOT NULL,"
      "  collection_name TEXT NOT NULL,"
      "  item_key TEXT NOT NULL,"
      "  item_id TEXT NOT NULL,"
      "  version INTEGER NOT NULL DEFAULT 0,"
      "  base_version INTEGER NOT NULL DEFAULT 0,"
      "  base_value BLOB NULL,"
      "  dirty INTEGER NOT NULL DEFAULT 0,"
      "  conflict INTEGER NOT NULL DEFAULT 0,"
      "  conflict_remote_version INTEGER NOT NULL DEFAULT 0,"
      "  conflict_remote_value BLOB NULL,"
      "  updated_at TIMESTAMP NOT NULL,"
      "  PRIMARY KEY (key_id, namespace_id, item_id));"
      "CREATE UNIQUE INDEX IF NOT EXISTS idx_items_logical_key"
      "  ON items (key_id, namespace_id, collection_name, item_key);"
      "CREATE INDEX IF NOT EXISTS idx_items_dirty ON items (key_id, dirty, updated_at);"
      "CREATE TABLE IF NOT EXISTS bbsync_meta ("
      "  name TEXT PRIMARY KEY,"
      "  value BLOB NOT NULL);";

struct _BbSqliteStore
{
  GObject parent_instance;

  char *path;
  GBytes *supplied_key; /* dropped once the store is open */

  GMutex lock;
  sqlite3 *db;
  sqlite3_stmt *stmts[N_STMTS];
  guint8 seal_key[BB_CRYPTO_AEAD_KEY_SIZE];
  guint8 row_mac_key[BB_CRYPTO_SHA256_SIZE];
  char *store_id;

  gboolean init_done;
  GError *init_error;
};

static void bb_sqlite_store_initable_iface_init (GInitableIface *iface);
static void bb_sqlite_store_store_iface_init (BbStoreInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (BbSqliteStore, bb_sqlite_store, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                      bb_sqlite_store_initable_iface_init)
                                   G_IMPLEMENT_INTERFACE (G_TYPE_ASYNC_INITABLE, NULL)
                                       G_IMPLEMENT_INTERFACE (BB_TYPE_STORE,
                                                              bb_sqlite_store_store_iface_init))

enum
{
  PROP_0,
  PROP_PATH,
  PROP_STORE_KEY,
  PROP_STORE_ID,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const SecretSchema *
store_key_schema (void)
{
  static const SecretSchema schema = {
    STORE_KEY_SCHEMA_NAME,
    SECRET_SCHEMA_NONE,
    {
        { "store-id", SECRET_SCHEMA_ATTRIBUTE_STRING },
        { NULL, 0 },
    },
    0,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
  };
  return &schema;
}

/* ------------------------------------------------------------------------------------ */
/* Errors */

static gboolean
set_sqlite_error (BbSqliteStore *self, GError **error, const char *what)
{
  g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE, _ ("Store %s failed: %s"), what,
               self->db != NULL ? sqlite3_errmsg (self->db) : "no database");
  return FALSE;
}

static gboolean
check_open (BbSqliteStore *self, GError **error)
{
  if (self->db != NULL)
    return TRUE;
  g_set_error_literal (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE,
                       self->init_error != NULL ? _ ("The store could not be opened")
                                                : _ ("The store is closed"));
  return FALSE;
}

static gboolean
check_u64 (guint64 value, const char *field, GError **error)
{
  if (value <= G_MAXINT64)
    return TRUE;
  g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
               _ ("%s is %llu, above the largest storable value"), field,
               (unsigned long long)value);
  return FALSE;
}

/* ------------------------------------------------------------------------------------ */
/* Sealing: blob = version (1) || nonce (24) || XChaCha20-Poly1305 ciphertext and tag.
 * The AAD binds the blob to its table, column and row: @keys (NULL-terminated) is the
 * row's primary key and, for items, also its plaintext logical key (collection name and
 * item key). A sealed value copied into another row or column, or left in place while
 * the row's logical key is changed, fails to open. */

static void
be64_append (GByteArray *out, guint64 value)
{
  guint8 be[8];

  bb_protocol_put_be64 (be, value);
  g_byte_array_append (out, be, sizeof be);
}

static void
seal_aad_append (GByteArray *aad, const char *part)
{
  be64_append (aad, strlen (part));
  g_byte_array_append (aad, (const guint8 *)part, strlen (part));
}

static GByteArray *
seal_aad (const char *table, const char *column, const char *const *keys)
{
  GByteArray *aad = g_byte_array_sized_new (256);

  seal_aad_append (aad, SEAL_AAD_LABEL);
  seal_aad_append (aad, table);
  seal_aad_append (aad, column);
  for (guint i = 0; keys[i] != NULL; i++)
    seal_aad_append (aad, keys[i]);
  return aad;
}

/* Names a row in error messages by the parts its sealed values are bound to (all
 * plaintext in the file anyway). */
static char *
describe_row (const char *const *keys)
{
  g_autofree char *joined = g_strjoinv (", ", (char **)keys);

  return g_strdup_printf ("(%s)", joined);
}

static guint8 *
seal (BbSqliteStore *self, const char *table, const char *column, const char *const *keys,
      const void *pt, gsize pt_len, gsize *out_len)
{
  g_autoptr (GByteArray) aad = seal_aad (table, column, keys);
  gsize len = pt_len + SEAL_OVERHEAD;
  guint8 *out = g_malloc (len);

  out[0] = SEAL_VERSION;
  bb_crypto_random_bytes (out + 1, BB_CRYPTO_XCHACHA_NONCE_SIZE);
  bb_crypto_xchacha20poly1305_encrypt (self->seal_key, out + 1, aad->data, aad->len, pt, pt_len,
                                       out + 1 + BB_CRYPTO_XCHACHA_NONCE_SIZE);
  *out_len = len;
  return out;
}

/* Returns a newly allocated plaintext (with one extra NUL byte, so tokens can be used as
 * strings) that the caller wipes, or NULL with an error. */
static guint8 *
unseal (BbSqliteStore *self, const char *table, const char *column, const char *const *keys,
        const guint8 *blob, gsize blob_len, gsize *out_len, GError **error)
{
  g_autoptr (GByteArray) aad = NULL;
  gsize pt_len;
  guint8 *pt;

  if (blob == NULL || blob_len < SEAL_OVERHEAD || blob[0] != SEAL_VERSION)
    {
      g_autofree char *row = describe_row (keys);

      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE,
                   _ ("The sealed %s.%s of row %s is malformed"), table, column, row);
      return NULL;
    }
  aad = seal_aad (table, column, keys);
  pt_len = blob_len - SEAL_OVERHEAD;
  pt = g_malloc0 (pt_len + 1);
  if (!bb_crypto_xchacha20poly1305_decrypt (self->seal_key, blob + 1, aad->data, aad->len,
                                            blob + 1 + BB_CRYPTO_XCHACHA_NONCE_SIZE,
                                            blob_len - 1 - BB_CRYPTO_XCHACHA_NONCE_SIZE, pt))
    {
      g_autofree char *row = describe_row (keys);

      bb_crypto_wipe (pt, pt_len + 1);
      g_free (pt);
      /* With the right store key (checked on open), this means the value was altered,
       * or moved to another row or column, or the row's keys were changed. */
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE,
                   _ ("The sealed %s.%s of row %s fails authentication: the value or the "
                      "row's keys were altered"),
                   table, column, row);
      return NULL;
    }
  *out_len = pt_len;
  return pt;
}

static void
free_secret (guint8 *buf, gsize len)
{
  if (buf == NULL)
    return;
  bb_crypto_wipe (buf, len);
  g_free (buf);
}

/* Binds @value (NULL: SQL NULL) sealed; the sealed copy is handed to SQLite. */
static void
bind_sealed (BbSqliteStore *self, sqlite3_stmt *stmt, int index, GBytes *value, const char *table,
             const char *column, const char *const *keys)
{
  gsize pt_len, len;
  const guint8 *pt;
  guint8 *sealed;

  if (value == NULL)
    {
      sqlite3_bind_null (stmt, index);
      return;
    }
  pt = g_bytes_get_data (value, &pt_len);
  sealed = seal (self, table, column, keys, pt, pt_len, &len);
  sqlite3_bind_blob64 (stmt, index, sealed, len, g_free);
}

/* ------------------------------------------------------------------------------------ */
/* Row MACs: row_mac = HMAC-SHA256 (row MAC key, encoding of every column of the row).
 *
 * The seals above bind a value to its place, not to its moment: someone with write
 * access to the file who kept an item's earlier sealed base and base version could put
 * both back, and the seal would open, giving the engine an old merge base for a newer
 * version (or an old DEK for a newer head, an old token for a newer expiry). Adding the
 * version to each seal's associated data would not be enough: the version and base
 * would then come back together and agree, while the other columns (dirty, conflict,
 * the conflict version, the head) do not go with them; and rows without any sealed
 * value (a new local item, a namespace without its key, an identity without a token)
 * would stay unprotected. So each row carries one MAC over all of its columns, sealed
 * ones included as their sealed bytes, made in the same statement that writes the row
 * and checked in the statement that reads it. A row whose columns do not all come from
 * the same save fails to read.
 *
 * What a per-row MAC cannot see is a whole row, MAC included, put back from an earlier
 * copy of the file: telling that apart needs state kept outside the file.
 *
 * The MAC is computed by the SQL functions bb_row_mac() and bb_row_mac_valid(), over
 * the stored values as SQLite holds them, so writes (bound parameters), in-place
 * updates and migrations use one encoding. They are registered with
 * SQLITE_DIRECTONLY: a trigger or view planted in the file cannot call them to vouch
 * for a row it altered. The encoding is the label, then per argument (the table name
 * first, then the columns in the order of the *_COLUMNS macros) one type byte and:
 * nothing for NULL, 8 big-endian bytes for an integer or a float's bits, an 8-byte
 * big-endian length and the bytes for text or a blob. The type byte keeps a text '5'
 * apart from the integer 5 and an empty token ('') apart from a sealed one. */

static void
row_mac_compute (BbSqliteStore *self, int argc, sqlite3_value **argv, guint8 out[ROW_MAC_SIZE])
{
  g_autoptr (GByteArray) msg = g_byte_array_sized_new (512);

  seal_aad_append (msg, ROW_MAC_LABEL);
  for (int i = 0; i < argc; i++)
    {
      int type = sqlite3_value_type (argv[i]);
      guint8 tag = (guint8)type;
      const void *data;
      double real;
      guint64 bits;

      g_byte_array_append (msg, &tag, 1);
      switch (type)
        {
          case SQLITE_INTEGER:
            be64_append (msg, (guint64)sqlite3_value_int64 (argv[i]));
            break;
          case SQLITE_FLOAT:
            real = sqlite3_value_double (argv[i]);
            memcpy (&bits, &real, sizeof bits);
            be64_append (msg, bits);
            break;
          case SQLITE_TEXT:
          case SQLITE_BLOB:
            data = type == SQLITE_TEXT ? (const void *)sqlite3_value_text (argv[i])
                                       : sqlite3_value_blob (argv[i]);
            be64_append (msg, (guint64)sqlite3_value_bytes (argv[i]));
            if (sqlite3_value_bytes (argv[i]) > 0)
              g_byte_array_append (msg, data, sqlite3_value_bytes (argv[i]));
            break;
          default:
            break;
        }
    }
  bb_crypto_hmac_sha256 (self->row_mac_key, sizeof self->row_mac_key, msg->data, msg->len, out);
  /* The message holds sealed values, not plaintext, but it is cheap to leave nothing. */
  bb_crypto_wipe (msg->data, msg->len);
}

/* bb_row_mac(table, column...) → the row MAC, a BLOB. */
static void
sql_row_mac (sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  BbSqliteStore *self = sqlite3_user_data (ctx);
  guint8 mac[ROW_MAC_SIZE];

  row_mac_compute (self, argc, argv, mac);
  sqlite3_result_blob (ctx, mac, sizeof mac, SQLITE_TRANSIENT);
}

/* bb_row_mac_valid(row_mac, table, column...) → 1 when row_mac is the row's MAC, else 0
 * (a NULL or malformed row_mac included). The comparison is constant time. */
static void
sql_row_mac_valid (sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
  BbSqliteStore *self = sqlite3_user_data (ctx);
  guint8 mac[ROW_MAC_SIZE];
  gboolean valid = FALSE;

  if (argc >= 2 && sqlite3_value_type (argv[0]) == SQLITE_BLOB
      && sqlite3_value_bytes (argv[0]) == ROW_MAC_SIZE)
    {
      row_mac_compute (self, argc - 1, argv + 1, mac);
      valid = bb_crypto_equal (mac, sqlite3_value_blob (argv[0]), ROW_MAC_SIZE);
    }
  sqlite3_result_int (ctx, valid ? 1 : 0);
}

static gboolean
register_row_mac_functions (BbSqliteStore *self, GError **error)
{
  const int flags = SQLITE_UTF8 | SQLITE_DIRECTONLY;

  if (sqlite3_create_function_v2 (self->db, "bb_row_mac", -1, flags, self, sql_row_mac, NULL, NULL,
                                  NULL)
          != SQLITE_OK
      || sqlite3_create_function_v2 (self->db, "bb_row_mac_valid", -1, flags, self,
                                     sql_row_mac_valid, NULL, NULL, NULL)
             != SQLITE_OK)
    return set_sqlite_error (self, error, _ ("registering the row MAC functions"));
  return TRUE;
}

/* Checks the ROW_MAC_VALID result column of a row read from @table. */
static gboolean
check_row_mac (sqlite3_stmt *stmt, int col, const char *table, const char *const *keys,
               GError **error)
{
  g_autofree char *row = NULL;

  if (sqlite3_column_int (stmt, col) == 1)
    return TRUE;
  row = describe_row (keys);
  /* With the right store key (checked on open), the row was written by something other
   * than this store, or partly put back from an earlier save. */
  g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE,
               _ ("The %s.row_mac of row %s does not match the row: some of its columns were "
                  "altered, or put back from an earlier save"),
               table, row);
  return FALSE;
}

/* Reads a sealed column (NULL stays NULL). */
static gboolean
column_unsealed (BbSqliteStore *self, sqlite3_stmt *stmt, int col, gboolean secret,
                 const char *table, const char *column, const char *const *keys, GBytes **out,
                 GError **error)
{
  const guint8 *blob;
  guint8 *pt;
  gsize pt_len;

  *out = NULL;
  if (sqlite3_column_type (stmt, col) == SQLITE_NULL)
    return TRUE;
  blob = sqlite3_column_blob (stmt, col);
  pt = unseal (self, table, column, keys, blob, sqlite3_column_bytes (stmt, col), &pt_len, error);
  if (pt == NULL)
    return FALSE;
  if (secret)
    *out = bb_crypto_secret_bytes_new (pt, pt_len);
  else
    *out = g_bytes_new (pt, pt_len);
  free_secret (pt, pt_len);
  return TRUE;
}

static const char *
column_text (sqlite3_stmt *stmt, int col)
{
  const char *text = (const char *)sqlite3_column_text (stmt, col);
  return text != NULL ? text : "";
}

/* ------------------------------------------------------------------------------------ */
/* Statements */

static sqlite3_stmt *
get_stmt (BbSqliteStore *self, StmtId id, GError **error)
{
  if (self->stmts[id] == NULL)
    {
      if (sqlite3_prepare_v3 (self->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                              &self->stmts[id], NULL)
          != SQLITE_OK)
        {
          set_sqlite_error (self, error, _ ("statement preparation"));
          return NULL;
        }
    }
  return self->stmts[id];
}

static void
done_stmt (sqlite3_stmt *stmt)
{
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
}

static gboolean
run_simple (BbSqliteStore *self, StmtId id, GError **error)
{
  sqlite3_stmt *stmt = get_stmt (self, id, error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  rc = sqlite3_step (stmt);
  done_stmt (stmt);
  if (rc != SQLITE_DONE)
    return set_sqlite_error (self, error, stmt_sql[id]);
  return TRUE;
}

static void
rollback (BbSqliteStore *self)
{
  if (!sqlite3_get_autocommit (self->db))
    run_simple (self, STMT_ROLLBACK, NULL);
}

static gboolean
exec_sql (BbSqliteStore *self, const char *sql, GError **error)
{
  if (sqlite3_exec (self->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return set_sqlite_error (self, error, sql);
  return TRUE;
}

/* ------------------------------------------------------------------------------------ */
/* Row mapping */

static BbIdentityState *
row_to_identity (BbSqliteStore *self, sqlite3_stmt *stmt, GError **error)
{
  const char *key_id = column_text (stmt, 0);
  const char *const keys[] = { key_id, NULL };
  g_autoptr (BbIdentityState) state = bb_identity_state_new (key_id);

  bb_identity_state_set_kind (state, column_text (stmt, 1));
  /* An empty TEXT token means none; anything else is a sealed blob. */
  if (sqlite3_column_type (stmt, 2) == SQLITE_BLOB)
    {
      gsize len;
      guint8 *token
          = unseal (self, "identity_states", "access_token", keys, sqlite3_column_blob (stmt, 2),
                    sqlite3_column_bytes (stmt, 2), &len, error);
      if (token == NULL)
        return NULL;
      if (memchr (token, '\0', len) != NULL || !g_utf8_validate ((char *)token, len, NULL))
        {
          free_secret (token, len + 1);
          g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE,
                       _ ("The stored access_token of row %s is not text"), key_id);
          return NULL;
        }
      bb_identity_state_set_access_token (state, (char *)token);
      free_secret (token, len + 1);
    }
  else if (column_text (stmt, 2)[0] != '\0')
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE,
                   _ ("The access_token of row %s is not sealed"), key_id);
      return NULL;
    }
  if (sqlite3_column_type (stmt, 3) != SQLITE_NULL)
    bb_identity_state_set_token_expiry (state, sqlite3_column_int64 (stmt, 3));
  bb_identity_state_set_default_namespace_id (state, column_text (stmt, 4));
  bb_identity_state_set_updated_at (state, sqlite3_column_int64 (stmt, 5));
  if (!check_row_mac (stmt, IDENTITY_COL_MAC_VALID, "identity_states", keys, error))
    return NULL;
  return g_steal_pointer (&state);
}

static BbNamespaceState *
row_to_namespace (BbSqliteStore *self, sqlite3_stmt *stmt, GError **error)
{
  const char *key_id = column_text (stmt, 0);
  const char *namespace_id = column_text (stmt, 1);
  const char *const keys[] = { key_id, namespace_id, NULL };
  g_autoptr (BbNamespaceState) state = bb_namespace_state_new (key_id, namespace_id);
  g_autoptr (GBytes) dek = NULL;

  bb_namespace_state_set_kind (state, column_text (stmt, 2));
  bb_namespace_state_set_namespace_head (state, (guint64)sqlite3_column_int64 (stmt, 3));
  bb_namespace_state_set_active_scope_hash (state, column_text (stmt, 4));
  if (!column_unsealed (self, stmt, 5, TRUE, "namespaces", "dek", keys, &dek, error))
    return NULL;
  bb_namespace_state_set_dek (state, dek);
  bb_namespace_state_set_updated_at (state, sqlite3_column_int64 (stmt, 6));
  if (!check_row_mac (stmt, NAMESPACE_COL_MAC_VALID, "namespaces", keys, error))
    return NULL;
  return g_steal_pointer (&state);
}

static BbItemState *
row_to_item (BbSqliteStore *self, sqlite3_stmt *stmt, GError **error)
{
  const char *key_id = column_text (stmt, 0);
  const char *namespace_id = column_text (stmt, 1);
  const char *collection = column_text (stmt, 2);
  const char *item_key = column_text (stmt, 3);
  const char *item_id = column_text (stmt, 4);
  /* The logical key is bound too: the engine finds items by it, so a row whose
   * collection and key were exchanged with another's must not open. */
  const char *const keys[] = { key_id, namespace_id, item_id, collection, item_key, NULL };
  g_autoptr (BbItemState) state = NULL;
  g_autoptr (GBytes) base = NULL;
  g_autoptr (GBytes) remote = NULL;

  state = bb_item_state_new (key_id, namespace_id, collection, item_key, item_id);
  if (!column_unsealed (self, stmt, 7, FALSE, "items", "base_value", keys, &base, error)
      || !column_unsealed (self, stmt, 11, FALSE, "items", "conflict_remote_value", keys, &remote,
                           error))
    return NULL;
  bb_item_state_set_version (state, (guint64)sqlite3_column_int64 (stmt, 5));
  bb_item_state_set_base_version (state, (guint64)sqlite3_column_int64 (stmt, 6));
  bb_item_state_set_base_value (state, base);
  bb_item_state_set_dirty (state, sqlite3_column_int64 (stmt, 8) != 0);
  bb_item_state_set_conflict (state, sqlite3_column_int64 (stmt, 9) != 0);
  bb_item_state_set_conflict_remote_version (state, (guint64)sqlite3_column_int64 (stmt, 10));
  bb_item_state_set_conflict_remote_value (state, remote);
  bb_item_state_set_updated_at (state, sqlite3_column_int64 (stmt, 12));
  if (!check_row_mac (stmt, ITEM_COL_MAC_VALID, "items", keys, error))
    return NULL;
  return g_steal_pointer (&state);
}

typedef gpointer (*RowMapper) (BbSqliteStore *self, sqlite3_stmt *stmt, GError **error);

/* Steps a bound statement expected to return at most one row. */
static gpointer
query_one (BbSqliteStore *self, sqlite3_stmt *stmt, RowMapper map, const char *what, GError **error)
{
  gpointer result = NULL;
  int rc = sqlite3_step (stmt);

  if (rc == SQLITE_ROW)
    result = map (self, stmt, error);
  else if (rc == SQLITE_DONE)
    g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_NOT_FOUND, _ ("No %s record"), what);
  else
    set_sqlite_error (self, error, what);
  done_stmt (stmt);
  return result;
}

static GPtrArray *
query_all (BbSqliteStore *self, sqlite3_stmt *stmt, RowMapper map, const char *what, GError **error)
{
  g_autoptr (GPtrArray) result = g_ptr_array_new_with_free_func (g_object_unref);
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gpointer record = map (self, stmt, error);
      if (record == NULL)
        {
          done_stmt (stmt);
          return NULL;
        }
      g_ptr_array_add (result, record);
    }
  done_stmt (stmt);
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (self, error, what);
      return NULL;
    }
  return g_steal_pointer (&result);
}

static gint64
updated_at_or_now (gint64 updated_at)
{
  return updated_at != 0 ? updated_at : g_get_real_time ();
}

/* ------------------------------------------------------------------------------------ */
/* Saves (called with the lock held) */

static gboolean
step_write (BbSqliteStore *self, sqlite3_stmt *stmt, const char *what, GError **error)
{
  int rc = sqlite3_step (stmt);
  gboolean ok = rc == SQLITE_DONE;

  if (!ok)
    {
      if (sqlite3_extended_errcode (self->db) == SQLITE_CONSTRAINT_UNIQUE)
        g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE,
                     _ ("Cannot save %s: another record has the same unique key (%s)"), what,
                     sqlite3_errmsg (self->db));
      else
        set_sqlite_error (self, error, what);
    }
  done_stmt (stmt);
  return ok;
}

static gboolean
save_identity_locked (BbSqliteStore *self, BbIdentityState *state, GError **error)
{
  sqlite3_stmt *stmt = get_stmt (self, STMT_SAVE_IDENTITY, error);
  const char *key_id = bb_identity_state_get_key_id (state);
  const char *token = bb_identity_state_get_access_token (state);
  const char *default_ns = bb_identity_state_get_default_namespace_id (state);
  gint64 expiry = bb_identity_state_get_token_expiry (state);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, key_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, bb_identity_state_get_kind (state), -1, SQLITE_TRANSIENT);
  if (token[0] == '\0')
    sqlite3_bind_text (stmt, 3, "", 0, SQLITE_STATIC);
  else
    {
      gsize len;
      const char *const keys[] = { key_id, NULL };
      guint8 *sealed
          = seal (self, "identity_states", "access_token", keys, token, strlen (token), &len);
      sqlite3_bind_blob64 (stmt, 3, sealed, len, g_free);
    }
  if (expiry == 0)
    sqlite3_bind_null (stmt, 4);
  else
    sqlite3_bind_int64 (stmt, 4, expiry);
  if (default_ns[0] == '\0')
    sqlite3_bind_null (stmt, 5);
  else
    sqlite3_bind_text (stmt, 5, default_ns, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 6, updated_at_or_now (bb_identity_state_get_updated_at (state)));
  return step_write (self, stmt, "identity_states", error);
}

static gboolean
save_namespace_locked (BbSqliteStore *self, BbNamespaceState *state, GError **error)
{
  sqlite3_stmt *stmt;
  const char *key_id = bb_namespace_state_get_key_id (state);
  const char *namespace_id = bb_namespace_state_get_namespace_id (state);
  const char *const keys[] = { key_id, namespace_id, NULL };

  if (!check_u64 (bb_namespace_state_get_namespace_head (state), "namespace-head", error))
    return FALSE;
  stmt = get_stmt (self, STMT_SAVE_NAMESPACE, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, key_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, namespace_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, bb_namespace_state_get_kind (state), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 4, (gint64)bb_namespace_state_get_namespace_head (state));
  sqlite3_bind_text (stmt, 5, bb_namespace_state_get_active_scope_hash (state), -1,
                     SQLITE_TRANSIENT);
  bind_sealed (self, stmt, 6, bb_namespace_state_get_dek (state), "namespaces", "dek", keys);
  sqlite3_bind_int64 (stmt, 7, updated_at_or_now (bb_namespace_state_get_updated_at (state)));
  return step_write (self, stmt, "namespaces", error);
}

static gboolean
save_item_locked (BbSqliteStore *self, BbItemState *state, GError **error)
{
  sqlite3_stmt *stmt;
  const char *key_id = bb_item_state_get_key_id (state);
  const char *namespace_id = bb_item_state_get_namespace_id (state);
  const char *item_id = bb_item_state_get_item_id (state);
  const char *collection = bb_item_state_get_collection (state);
  const char *item_key = bb_item_state_get_key (state);
  const char *const keys[] = { key_id, namespace_id, item_id, collection, item_key, NULL };

  if (!check_u64 (bb_item_state_get_version (state), "version", error)
      || !check_u64 (bb_item_state_get_base_version (state), "base-version", error)
      || !check_u64 (bb_item_state_get_conflict_remote_version (state), "conflict-remote-version",
                     error))
    return FALSE;
  stmt = get_stmt (self, STMT_SAVE_ITEM, error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, key_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, namespace_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, collection, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, item_key, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 5, item_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 6, (gint64)bb_item_state_get_version (state));
  sqlite3_bind_int64 (stmt, 7, (gint64)bb_item_state_get_base_version (state));
  bind_sealed (self, stmt, 8, bb_item_state_get_base_value (state), "items", "base_value", keys);
  sqlite3_bind_int (stmt, 9, bb_item_state_get_dirty (state) ? 1 : 0);
  sqlite3_bind_int (stmt, 10, bb_item_state_get_conflict (state) ? 1 : 0);
  sqlite3_bind_int64 (stmt, 11, (gint64)bb_item_state_get_conflict_remote_version (state));
  bind_sealed (self, stmt, 12, bb_item_state_get_conflict_remote_value (state), "items",
               "conflict_remote_value", keys);
  sqlite3_bind_int64 (stmt, 13, updated_at_or_now (bb_item_state_get_updated_at (state)));
  return step_write (self, stmt, "items", error);
}

/* ------------------------------------------------------------------------------------ */
/* BbStore */

#define LOCKED(self)                                                                               \
  g_autoptr (GMutexLocker) G_GNUC_UNUSED _locker = g_mutex_locker_new (&(self)->lock)

static BbIdentityState *
bb_sqlite_store_load_identity (BbStore *store, const char *key_id, GError **error)
{
  BbSqliteStore *self = BB_SQLITE_STORE (store);
  sqlite3_stmt *stmt;
  LOCKED (self);

  if (!check_open (self, error) || !(stmt = get_stmt (self, STMT_LOAD_IDENTITY, error)))
    return NULL;
  sqlite3_bind_text (stmt, 1, key_id, -1, SQLITE_TRANSIENT);
  return query_one (self, stmt, (RowMapper)row_to_identity, "identity", error);
}

static gboolean
bb_sqlite_store_save_identity (BbStore *store, BbIdentityState *state, GError **error)
{
  BbSqliteStore *self = BB_SQLITE_STORE (store);
  LOCKED (self);

  return check_open (self, error) && save_identity_locked (self, state, error);
}

static BbNamespaceState *
bb_sqlite_store_get_namespace (BbStore *store, const char *key_id, const char *namespace_id,
                               GError **error)
{
  BbSqliteStore *self = BB_SQLITE_STORE (store);
  sqlite3_stmt *stmt;
  LOCKED (self);

  if (!check_open (self, error) || !(stmt = get_stmt (self, STMT_GET_NAMESPACE, error)))
    return NULL;
  sqlite3_bind_text (stmt, 1, key_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, namespace_id, -1, SQLITE_TRANSIENT);
  return query_one (self, stmt, (RowMapper)row_to_namespace, "namespace", error);
}

static GPtrArray *
bb_sqlite_store_list_namespaces (BbStore *store, const char *key_id, GError **error)
{
  BbSqliteStore *self = BB_SQLITE_STORE (store);
  sqlite3_stmt *stmt;
  LOCKED (self);

  if (!check_open (self, error) || !(stmt = get_stmt (self, STMT_LIST_NAMESPACES, error)))
    return NULL;
  sqlite3_bind_text (stmt, 1, key_id, -1, SQLITE_TRANSIENT);
  return query_all (self, stmt, (RowMapper)row_to_namespace, "namespaces", error);
}

static gboolean
bb_sqlite_store_save_namespace (BbStore *store, BbNamespaceState *state, GError **error)
{
  BbSqliteStore *self = BB_SQLITE_STORE (store);
  LOCKED (self);

  return check_open (self, error) && save_namespace_locked (self, state, error);
}

static BbItemState *
bb_sqlite_store_get_item_by_id (BbStore *store, const char *key_id, const char *namespace_id,
                                const char *item_id, GError **error)
{
  BbSqliteStore *self = BB_SQLITE_STORE (store);
  sqlite3_stmt *stmt;
  LOCKED (self);

  if (!check_open (self, error) || !(stmt = get_stmt (self, STMT_GET_ITEM_BY_ID, error)))
    return NULL;
  sqlite3_bind_text (stmt, 1, key_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, namespace_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, item_id, -1, SQLITE_TRANSIENT);
  return query_one (self, stmt, (RowMapper)row_to_item, "item", error);
}

static BbItemState *
bb_sqlite_store_get_item_by_logical_key (BbStore *store, const char *key_id,
                                         const char *namespace_id, const char *collection,
                                         const char *key, GError **error)
{
  BbSqliteStore *self = BB_SQLITE_STORE (store);
  sqlite3_stmt *stmt;
  LOCKED (self);

  if (!check_open (self, error) || !(stmt = get_stmt (self, STMT_GET_ITEM_BY_KEY, error)))
    return NULL;
  sqlite3_bind_text (stmt, 1, key_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, namespace_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, collection, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 4, key, -1, SQLITE_TRANSIENT);
  return query_one (self, stmt, (RowMapper)row_to_item, "item", error);
}

static GPtrArray *
bb_sqlite_store_list_namespace_items (BbStore *store, const char *key_id, const char *namespace_id,
                                      GError **error)
{
  BbSqliteStore *self = BB_SQLITE_STORE (store);
  sqlite3_stmt *stmt;
  LOCKED (self);

  if (!check_open (self, error) || !(stmt = get_stmt (self, STMT_LIST_NAMESPACE_ITEMS, error)))
    return NULL;
  sqlite3_bind_text (stmt, 1, key_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, namespace_id, -1, SQLITE_TRANSIENT);
  return query_all (self, stmt, (RowMapper)row_to_item, "items", error);
}

static GPtrArray *
bb_sqlite_store_list_dirty_items (BbStore *store, const char *key_id, GError **error)
{
  BbSqliteStore *self = BB_SQLITE_STORE (store);
  sqlite3_stmt *stmt;
  LOCKED (self);

  if (!check_open (self, error) || !(stmt = get_stmt (self, STMT_LIST_DIRTY_ITEMS, error)))
    return NULL;
  sqlite3_bind_text (stmt, 1, key_id, -1, SQLITE_TRANSIENT);
  return query_all (self, stmt, (RowMapper)row_to_item, "items", error);
}

static gboolean
bb_sqlite_store_save_item (BbStore *store, BbItemState *state, GError **error)
{
  BbSqliteStore *self = BB_SQLITE_STORE (store);
  LOCKED (self);

  return check_open (self, error) && save_item_locked (self, state, error);
}

static gboolean
bb_sqlite_store_save_batch (BbStore *store, GPtrArray *items, GPtrArray *namespaces, GError **error)
{
  BbSqliteStore *self = BB_SQLITE_STORE (store);
  LOCKED (self);

  if (!check_open (self, error) || !run_simple (self, STMT_BEGIN, error))
    return FALSE;
  for (guint i = 0; items != NULL && i < items->len; i++)
    if (!save_item_locked (self, g_ptr_array_index (items, i), error))
      goto fail;
  for (guint i = 0; namespaces != NULL && i < namespaces->len; i++)
    if (!save_namespace_locked (self, g_ptr_array_index (namespaces, i), error))
      goto fail;
  if (run_simple (self, STMT_COMMIT, error))
    return TRUE;

fail:
  rollback (self);
  return FALSE;
}

static gboolean
run_keyed (BbSqliteStore *self, StmtId id, const char *key_id, gboolean with_now, gint64 now,
           GError **error)
{
  sqlite3_stmt *stmt = get_stmt (self, id, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, key_id, -1, SQLITE_TRANSIENT);
  if (with_now)
    sqlite3_bind_int64 (stmt, 2, now);
  return step_write (self, stmt, stmt_sql[id], error);
}

static gboolean
bb_sqlite_store_forget_identity_secrets (BbStore *store, const char *key_id, GError **error)
{
  BbSqliteStore *self = BB_SQLITE_STORE (store);
  gint64 now = g_get_real_time ();
  LOCKED (self);

  if (!check_open (self, error) || !run_simple (self, STMT_BEGIN, error))
    return FALSE;
  if (run_keyed (self, STMT_FORGET_TOKEN, key_id, TRUE, now, error)
      && run_keyed (self, STMT_FORGET_DEKS, key_id, TRUE, now, error)
      && run_simple (self, STMT_COMMIT, error))
    {
      /* The sealed token and DEKs still sit in WAL frames, and the store key that opens
       * them is in the keyring beside the file: write the zeroed pages (secure_delete)
       * back and truncate the WAL now, not at some later checkpoint. Best effort: a
       * reader in another process makes it wait for the next checkpoint. */
      sqlite3_wal_checkpoint_v2 (self->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
      return TRUE;
    }
  rollback (self);
  return FALSE;
}

static gboolean
bb_sqlite_store_reset_sync_state (BbStore *store, const char *key_id, GError **error)
{
  BbSqliteStore *self = BB_SQLITE_STORE (store);
  LOCKED (self);

  if (!check_open (self, error) || !run_simple (self, STMT_BEGIN, error))
    return FALSE;
  if (run_keyed (self, STMT_RESET_ITEMS, key_id, FALSE, 0, error)
      && run_keyed (self, STMT_RESET_NAMESPACES, key_id, FALSE, 0, error)
      && run_keyed (self, STMT_RESET_IDENTITY, key_id, FALSE, 0, error)
      && run_simple (self, STMT_COMMIT, error))
    return TRUE;
  rollback (self);
  return FALSE;
}

static void
close_locked (BbSqliteStore *self)
{
  for (guint i = 0; i < N_STMTS; i++)
    g_clear_pointer (&self->stmts[i], sqlite3_finalize);
  /* The last connection checkpoints the WAL into the database and removes it. */
  g_clear_pointer (&self->db, sqlite3_close_v2);
  bb_crypto_wipe (self->seal_key, sizeof self->seal_key);
  bb_crypto_wipe (self->row_mac_key, sizeof self->row_mac_key);
}

static gboolean
bb_sqlite_store_close (BbStore *store, GError **error)
{
  BbSqliteStore *self = BB_SQLITE_STORE (store);
  LOCKED (self);

  close_locked (self);
  return TRUE;
}

static void
bb_sqlite_store_store_iface_init (BbStoreInterface *iface)
{
  iface->load_identity = bb_sqlite_store_load_identity;
  iface->save_identity = bb_sqlite_store_save_identity;
  iface->get_namespace = bb_sqlite_store_get_namespace;
  iface->list_namespaces = bb_sqlite_store_list_namespaces;
  iface->save_namespace = bb_sqlite_store_save_namespace;
  iface->get_item_by_id = bb_sqlite_store_get_item_by_id;
  iface->get_item_by_logical_key = bb_sqlite_store_get_item_by_logical_key;
  iface->list_namespace_items = bb_sqlite_store_list_namespace_items;
  iface->list_dirty_items = bb_sqlite_store_list_dirty_items;
  iface->save_item = bb_sqlite_store_save_item;
  iface->save_batch = bb_sqlite_store_save_batch;
  iface->forget_identity_secrets = bb_sqlite_store_forget_identity_secrets;
  iface->reset_sync_state = bb_sqlite_store_reset_sync_state;
  iface->close = bb_sqlite_store_close;
}

/* ------------------------------------------------------------------------------------ */
/* Opening */

static gboolean
store_error (GError **error, const char *path, const char *reason)
{
  g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE, _ ("Cannot open the store %s: %s"), path,
               reason);
  return FALSE;
}

/* Creates the file with mode 0600 before SQLite sees it: SQLite gives its -wal and -shm
 * files the permissions of the database file. Returns whether the file is new. */
static gboolean
create_private_file (const char *path, gboolean *created, GError **error)
{
  int fd = g_open (path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

  *created = fd >= 0;
  if (fd >= 0)
    {
      close (fd);
      return TRUE;
    }
  if (errno == EEXIST)
    return TRUE;
  {
    int saved_errno = errno;
    g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE, _ ("Cannot create the store %s: %s"),
                 path, g_strerror (saved_errno));
  }
  return FALSE;
}

static gboolean
query_int (BbSqliteStore *self, const char *sql, gint64 *out)
{
  sqlite3_stmt *stmt = NULL;
  gboolean ok = FALSE;

  if (sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL) == SQLITE_OK
      && sqlite3_step (stmt) == SQLITE_ROW)
    {
      *out = sqlite3_column_int64 (stmt, 0);
      ok = TRUE;
    }
  sqlite3_finalize (stmt);
  return ok;
}

/* PRAGMA quick_check returns the single row "ok" for a sound file. */
static gboolean
quick_check (BbSqliteStore *self, char **problem)
{
  sqlite3_stmt *stmt = NULL;
  gboolean ok = FALSE;
  int rc;

  if (sqlite3_prepare_v2 (self->db, "PRAGMA quick_check(1)", -1, &stmt, NULL) != SQLITE_OK)
    {
      *problem = g_strdup (sqlite3_errmsg (self->db));
      sqlite3_finalize (stmt);
      return FALSE;
    }
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      const char *text = (const char *)sqlite3_column_text (stmt, 0);
      ok = g_strcmp0 (text, "ok") == 0;
      if (!ok)
        *problem = g_strdup (text != NULL ? text : "unknown");
    }
  else
    *problem = g_strdup (sqlite3_errmsg (self->db));
  sqlite3_finalize (stmt);
  return ok;
}

/* Reads bbsync_meta.@name; returns FALSE when the table or row is missing. */
static gboolean
read_meta (BbSqliteStore *self, const char *name, GBytes **out)
{
  sqlite3_stmt *stmt = NULL;
  gboolean ok = FALSE;

  if (sqlite3_prepare_v2 (self->db, "SELECT value FROM bbsync_meta WHERE name = ?1", -1, &stmt,
                          NULL)
      == SQLITE_OK)
    {
      sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
      if (sqlite3_step (stmt) == SQLITE_ROW)
        {
          *out = g_bytes_new (sqlite3_column_blob (stmt, 0), sqlite3_column_bytes (stmt, 0));
          ok = TRUE;
        }
    }
  sqlite3_finalize (stmt);
  return ok;
}

static gboolean
write_meta (BbSqliteStore *self, const char *name, const void *value, gsize len, GError **error)
{
  sqlite3_stmt *stmt = NULL;
  gboolean ok;

  if (sqlite3_prepare_v2 (self->db,
                          "INSERT OR REPLACE INTO bbsync_meta (name, value) VALUES (?1, ?2)", -1,
                          &stmt, NULL)
      != SQLITE_OK)
    return set_sqlite_error (self, error, "bbsync_meta");
  sqlite3_bind_text (stmt, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_blob64 (stmt, 2, value, len, SQLITE_TRANSIENT);
  ok = sqlite3_step (stmt) == SQLITE_DONE;
  if (!ok)
    set_sqlite_error (self, error, "bbsync_meta");
  sqlite3_finalize (stmt);
  return ok;
}

static void
derive_seal_key (BbSqliteStore *self, const guint8 *store_key)
{
  /* A derived key keeps the sealing separate from any other use of the store key. */
  bb_crypto_hkdf_sha256 (NULL, 0, store_key, BB_SQLITE_STORE_KEY_SIZE,
                         (const guint8 *)SEAL_KEY_INFO, strlen (SEAL_KEY_INFO), self->seal_key,
                         sizeof self->seal_key);
  bb_crypto_hkdf_sha256 (NULL, 0, store_key, BB_SQLITE_STORE_KEY_SIZE,
                         (const guint8 *)ROW_MAC_KEY_INFO, strlen (ROW_MAC_KEY_INFO),
                         self->row_mac_key, sizeof self->row_mac_key);
}

/* Keyring: the key is stored as lowercase hex text under the store ID.
 *
 * The look-up never unlocks anything: items are searched including locked ones and
 * their secret is read without a prompt. A locked keyring (or a dismissed unlock
 * prompt) is then a keyring error, and only a keyring that answered and holds no
 * key for this store ID is reported as a missing key. */
static guint8 *
keyring_lookup (const char *store_id, const char *path, GCancellable *cancellable, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GHashTable) attributes = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (SecretValue) value = NULL;
  GList *found;
  GObject *retrievable;
  const char *hex;
  gsize hex_len = 0;
  guint8 *key;

  g_hash_table_insert (attributes, (gpointer) "store-id", (gpointer)store_id);
  found = secret_password_searchv_sync (store_key_schema (), attributes, SECRET_SEARCH_ALL,
                                        cancellable, &local_error);
  if (local_error != NULL)
    {
      g_list_free_full (found, g_object_unref);
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_KEYRING,
                     _ ("Cannot open the store %s: cannot read its key from the keyring: %s"), path,
                     local_error->message);
      return NULL;
    }
  if (found == NULL)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE,
                   _ ("Cannot open the store %s: the key of store %s is not in the keyring (a "
                      "store copied from elsewhere, or a deleted key)"),
                   path, store_id);
      return NULL;
    }

  retrievable = found->data;
  value = secret_retrievable_retrieve_secret_sync (SECRET_RETRIEVABLE (retrievable), cancellable,
                                                   &local_error);
  if (value == NULL)
    {
      /* The item's cached Locked flag may lag behind; it only picks the message. */
      gboolean locked
          = SECRET_IS_ITEM (retrievable) && secret_item_get_locked (SECRET_ITEM (retrievable));

      g_list_free_full (found, g_object_unref);
      if (local_error != NULL && g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_propagate_error (error, g_steal_pointer (&local_error));
      else if (locked || local_error == NULL)
        g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_KEYRING,
                     _ ("Cannot open the store %s: the keyring holding its key is locked; "
                        "unlock it and try again"),
                     path);
      else
        g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_KEYRING,
                     _ ("Cannot open the store %s: cannot read its key from the keyring: %s"), path,
                     local_error->message);
      return NULL;
    }
  g_list_free_full (found, g_object_unref);

  /* SecretValue keeps the text in libsecret's secure memory and wipes it when freed. */
  hex = secret_value_get (value, &hex_len);
  key = g_malloc0 (BB_SQLITE_STORE_KEY_SIZE);
  if (hex == NULL || hex_len != 2 * BB_SQLITE_STORE_KEY_SIZE)
    goto malformed;
  for (guint i = 0; i < BB_SQLITE_STORE_KEY_SIZE; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]);
      int lo = g_ascii_xdigit_value (hex[2 * i + 1]);
      if (hi < 0 || lo < 0)
        goto malformed;
      key[i] = (guint8)(hi << 4 | lo);
    }
  return key;

malformed:
  free_secret (key, BB_SQLITE_STORE_KEY_SIZE);
  g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_KEYRING,
               _ ("Cannot open the store %s: the keyring holds a malformed key for it (store %s)"),
               path, store_id);
  return NULL;
}

static gboolean
keyring_store (const char *store_id, const char *path, const guint8 *key, GCancellable *cancellable,
               GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autofree char *label = g_strdup_printf (_ ("bbsync store key for %s"), path);
  char hex[2 * BB_SQLITE_STORE_KEY_SIZE + 1];
  gboolean ok;

  for (guint i = 0; i < BB_SQLITE_STORE_KEY_SIZE; i++)
    {
      hex[2 * i] = "0123456789abcdef"[key[i] >> 4];
      hex[2 * i + 1] = "0123456789abcdef"[key[i] & 0xf];
    }
  hex[sizeof hex - 1] = '\0';
  ok = secret_password_store_sync (store_key_schema (), SECRET_COLLECTION_DEFAULT, label, hex,
                                   cancellable, &local_error, "store-id", store_id, NULL);
  bb_crypto_wipe (hex, sizeof hex);
  if (!ok)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_KEYRING,
                     _ ("Cannot create the store %s: cannot save its key in the keyring: %s"), path,
                     local_error != NULL ? local_error->message : _ ("unknown error"));
    }
  return ok;
}

static char *
new_store_id (void)
{
  guint8 raw[16];
  GString *id = g_string_sized_new (32);

  bb_crypto_random_bytes (raw, sizeof raw);
  for (guint i = 0; i < sizeof raw; i++)
    g_string_append_printf (id, "%02x", raw[i]);
  return g_string_free (id, FALSE);
}

/* What new_store_id() writes: anything else in the file is damage, and must not reach
 * the keyring as an attribute (libsecret refuses non-UTF-8 strings). */
static gboolean
store_id_valid (GBytes *id)
{
  gsize len;
  const char *data = g_bytes_get_data (id, &len);

  if (len != 32)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isxdigit (data[i]) || g_ascii_isupper (data[i]))
      return FALSE;
  return TRUE;
}

/* ---- migrations ------------------------------------------------------------------ */

/* Converts a timestamp column value to Unix microseconds: integers are already ours;
 * text is the reference client's `YYYY-MM-DD HH:MM:SS[.fraction]±HH:MM`. */
static gboolean
timestamp_to_usec (sqlite3_stmt *stmt, int col, gint64 *out)
{
  const char *text;
  g_autofree char *iso = NULL;
  g_autoptr (GDateTime) dt = NULL;

  if (sqlite3_column_type (stmt, col) == SQLITE_INTEGER)
    {
      *out = sqlite3_column_int64 (stmt, col);
      return TRUE;
    }
  text = (const char *)sqlite3_column_text (stmt, col);
  if (text == NULL)
    return FALSE;
  iso = g_strdup (text);
  if (strlen (iso) > 10 && iso[10] == ' ')
    iso[10] = 'T';
  dt = g_date_time_new_from_iso8601 (iso, NULL);
  if (dt == NULL)
    return FALSE;
  *out = g_date_time_to_unix (dt) * G_USEC_PER_SEC + g_date_time_get_microsecond (dt);
  return TRUE;
}

typedef struct
{
  const char *table;
  const char *select_sql; /* rowid, AAD key parts..., secret columns..., timestamp columns... */
  guint n_keys;
  const char *const secret_columns[2];
  const char *const time_columns[2];
} MigrationTable;

/* Rewrites the rows of a version-0 file (written by the reference client): secrets were
 * plaintext and timestamps text. */
static gboolean
seal_plaintext_table (BbSqliteStore *self, const MigrationTable *t, GError **error)
{
  sqlite3_stmt *sel = NULL;
  guint n_secret = t->secret_columns[1] ? 2 : 1;
  guint n_time = t->time_columns[1] ? 2 : 1;
  int rc;

  if (sqlite3_prepare_v2 (self->db, t->select_sql, -1, &sel, NULL) != SQLITE_OK)
    return set_sqlite_error (self, error, t->table);
  while ((rc = sqlite3_step (sel)) == SQLITE_ROW)
    {
      const char *keys[6] = { NULL, NULL, NULL, NULL, NULL, NULL };
      g_autofree char *update_sql = NULL;
      g_autoptr (GString) sets = g_string_new (NULL);
      sqlite3_stmt *upd = NULL;
      int col = 1 + t->n_keys;
      int param = 1;
      gboolean ok;

      for (guint k = 0; k < t->n_keys; k++)
        keys[k] = column_text (sel, 1 + k);
      for (guint s = 0; s < n_secret; s++)
        g_string_append_printf (sets, "%s%s = ?%d", sets->len ? ", " : "", t->secret_columns[s],
                                param++);
      for (guint s = 0; s < n_time; s++)
        g_string_append_printf (sets, ", %s = ?%d", t->time_columns[s], param++);
      update_sql
          = g_strdup_printf ("UPDATE %s SET %s WHERE rowid = ?%d", t->table, sets->str, param);
      if (sqlite3_prepare_v2 (self->db, update_sql, -1, &upd, NULL) != SQLITE_OK)
        {
          sqlite3_finalize (sel);
          return set_sqlite_error (self, error, t->table);
        }
      param = 1;
      for (guint s = 0; s < n_secret; s++, col++)
        {
          int type = sqlite3_column_type (sel, col);
          gsize len = sqlite3_column_bytes (sel, col);

          if (type == SQLITE_NULL || (type == SQLITE_TEXT && len == 0))
            sqlite3_bind_value (upd, param++, sqlite3_column_value (sel, col));
          else
            {
              gsize sealed_len;
              guint8 *sealed = seal (self, t->table, t->secret_columns[s], keys,
                                     sqlite3_column_blob (sel, col), len, &sealed_len);
              sqlite3_bind_blob64 (upd, param++, sealed, sealed_len, g_free);
            }
        }
      for (guint s = 0; s < n_time; s++, col++)
        {
          gint64 usec;

          if (sqlite3_column_type (sel, col) == SQLITE_NULL)
            sqlite3_bind_null (upd, param++);
          else if (timestamp_to_usec (sel, col, &usec))
            sqlite3_bind_int64 (upd, param++, usec);
          else
            {
              sqlite3_finalize (upd);
              sqlite3_finalize (sel);
              g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE,
                           _ ("Cannot migrate %s.%s of row %s: unknown time format"), t->table,
                           t->time_columns[s], keys[0]);
              return FALSE;
            }
        }
      sqlite3_bind_int64 (upd, param, sqlite3_column_int64 (sel, 0));
      ok = sqlite3_step (upd) == SQLITE_DONE;
      if (!ok)
        set_sqlite_error (self, error, t->table);
      sqlite3_finalize (upd);
      if (!ok)
        {
          sqlite3_finalize (sel);
          return FALSE;
        }
    }
  sqlite3_finalize (sel);
  if (rc != SQLITE_DONE)
    return set_sqlite_error (self, error, t->table);
  return TRUE;
}

/* Version 0 → 1: the reference client's schema (created if absent), the meta table,
 * and any rows it wrote sealed. */
static gboolean
migrate_to_1 (BbSqliteStore *self, GError **error)
{
  static const MigrationTable tables[] = {
    { "identity_states",
      "SELECT rowid, key_id, access_token, token_expiry, updated_at FROM identity_states",
      1,
      { "access_token", NULL },
      { "token_expiry", "updated_at" } },
    { "namespaces",
      "SELECT rowid, key_id, namespace_id, dek, updated_at FROM namespaces",
      2,
      { "dek", NULL },
      { "updated_at", NULL } },
    { "items",
      "SELECT rowid, key_id, namespace_id, item_id, collection_name, item_key, base_value, "
      "conflict_remote_value, updated_at FROM items",
      5,
      { "base_value", "conflict_remote_value" },
      { "updated_at", NULL } },
  };

  if (!exec_sql (self, schema_v1_sql, error))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (tables); i++)
    if (!seal_plaintext_table (self, &tables[i], error))
      return FALSE;
  return TRUE;
}

/* Version 1 → 2: every row gets its row MAC (see row_mac_compute). The sealed values
 * keep their format and associated data, so they are not sealed again; nor are they
 * opened here: a value that does not open fails to read after the migration as it did
 * before, and one damaged row does not keep the whole file from opening. Version 1 had
 * nothing that could tell an altered plaintext column, so the MAC vouches for the rows
 * as they are. */
static gboolean
migrate_to_2 (BbSqliteStore *self, GError **error)
{
  static const struct
  {
    const char *table, *columns;
  } tables[] = {
    { "identity_states", IDENTITY_COLUMNS },
    { "namespaces", NAMESPACE_COLUMNS },
    { "items", ITEM_COLUMNS },
  };

  for (guint i = 0; i < G_N_ELEMENTS (tables); i++)
    {
      g_autofree char *sql
          = g_strdup_printf ("ALTER TABLE %s ADD COLUMN row_mac BLOB NULL;"
                             "UPDATE %s SET row_mac = bb_row_mac('%s', %s);",
                             tables[i].table, tables[i].table, tables[i].table, tables[i].columns);

      if (sqlite3_exec (self->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        {
          g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_STORE,
                       _ ("Cannot migrate the store %s to schema version 2: adding %s.row_mac "
                          "failed: %s"),
                       self->path, tables[i].table, sqlite3_errmsg (self->db));
          return FALSE;
        }
    }
  return TRUE;
}

/* Each entry brings the schema from version (index) to version (index + 1). A later
 * version adds its function here and raises BB_SQLITE_STORE_SCHEMA_VERSION. */
static gboolean (*const migrations[]) (BbSqliteStore *self, GError **error) = {
  migrate_to_1,
  migrate_to_2,
};

G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == BB_SQLITE_STORE_SCHEMA_VERSION);

/* A version-0 file comes from SQLite without secure_delete: the values it replaced or
 * deleted (tokens, DEKs, bases) are still in free pages, unused cell space and old WAL
 * frames. VACUUM rewrites every page and drops the free ones, and the checkpoint
 * writes that back and truncates the WAL. The pending mark is written in the migration
 * transaction and cleared only after VACUUM succeeded, so a failed or interrupted
 * erase is retried at the next open rather than forgotten. */
static void
erase_freed_plaintext (BbSqliteStore *self)
{
  g_autoptr (GBytes) pending = NULL;
  g_autoptr (GError) error = NULL;

  if (!read_meta (self, "erase_pending", &pending))
    return;
  if (!exec_sql (self, "VACUUM", &error)
      || !exec_sql (self, "DELETE FROM bbsync_meta WHERE name = 'erase_pending'", &error))
    g_warning ("Cannot erase the old plaintext in the store %s (retried at the next open): %s",
               self->path, error->message);
  sqlite3_wal_checkpoint_v2 (self->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
}

static gboolean
verify_key_check (BbSqliteStore *self, GError **error)
{
  g_autoptr (GBytes) check = NULL;
  const guint8 *blob;
  gsize blob_len;
  guint8 *pt;
  gsize len;
  gboolean ok;

  if (!read_meta (self, "key_check", &check))
    return store_error (error, self->path, _ ("the key check value is missing (corrupt file)"));
  /* Only a well-formed check value that fails authentication means another key; a
   * value of the wrong shape is damage, whatever the key. */
  blob = g_bytes_get_data (check, &blob_len);
  if (blob_len != SEAL_OVERHEAD + strlen (KEY_CHECK_PLAINTEXT) || blob[0] != SEAL_VERSION)
    return store_error (error, self->path, _ ("the key check value is malformed (corrupt file)"));
  pt = unseal (self, "bbsync_meta", "value", key_check_keys, blob, blob_len, &len, NULL);
  if (pt == NULL)
    return store_error (error, self->path,
                        _ ("the store key does not open this store (wrong key)"));
  ok = len == strlen (KEY_CHECK_PLAINTEXT) && memcmp (pt, KEY_CHECK_PLAINTEXT, len) == 0;
  free_secret (pt, len + 1);
  if (!ok)
    return store_error (error, self->path, _ ("the key check value is wrong (corrupt file)"));
  return TRUE;
}

static gboolean
bb_sqlite_store_initable_init (GInitable *initable, GCancellable *cancellable, GError **error)
{
  BbSqliteStore *self = BB_SQLITE_STORE (initable);
  gboolean in_memory, created = FALSE;
  g_autofree char *problem = NULL;
  g_autoptr (GBytes) meta_id = NULL;
  g_autoptr (GBytes) meta_source = NULL;
  guint8 *key = NULL;
  gboolean key_from_app;
  gint64 version = 0;
  GError *local_error = NULL;
  int flags;

  if (self->init_done)
    {
      if (self->init_error != NULL)
        {
          g_propagate_error (error, g_error_copy (self->init_error));
          return FALSE;
        }
      return TRUE;
    }
  self->init_done = TRUE;

#define FAIL(...)                                                                                  \
  G_STMT_START                                                                                     \
  {                                                                                                \
    __VA_ARGS__;                                                                                   \
    goto out;                                                                                      \
  }                                                                                                \
  G_STMT_END

  if (self->path == NULL || self->path[0] == '\0')
    FAIL (g_set_error_literal (&local_error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                               _ ("The store path is required")));
  if (self->supplied_key != NULL
      && g_bytes_get_size (self->supplied_key) != BB_SQLITE_STORE_KEY_SIZE)
    FAIL (g_set_error (&local_error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                       _ ("The store key must be %d bytes, not %zu"), BB_SQLITE_STORE_KEY_SIZE,
                       g_bytes_get_size (self->supplied_key)));
  key_from_app = self->supplied_key != NULL;
  in_memory = strcmp (self->path, BB_SQLITE_STORE_IN_MEMORY) == 0;

  flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (in_memory)
    flags |= SQLITE_OPEN_CREATE | SQLITE_OPEN_MEMORY;
  else
    {
      char *absolute = g_canonicalize_filename (self->path, NULL);
      g_free (self->path);
      self->path = absolute;
      if (!create_private_file (self->path, &created, &local_error))
        goto out;
    }

  if (sqlite3_open_v2 (self->path, &self->db, flags, NULL) != SQLITE_OK)
    FAIL (store_error (&local_error, self->path,
                       self->db ? sqlite3_errmsg (self->db) : "out of memory"));
  sqlite3_extended_result_codes (self->db, 1);
  /* Another process holding the file (another instance of the app) is waited for. */
  sqlite3_busy_timeout (self->db, 5000);

  /* Everything up to the key check only reads, so that a file we refuse stays as is. */
  if (!query_int (self, "PRAGMA user_version", &version))
    FAIL (store_error (&local_error, self->path, sqlite3_errmsg (self->db)));
  if (version > BB_SQLITE_STORE_SCHEMA_VERSION)
    FAIL (store_error (&local_error, self->path,
                       _ ("it was written by a newer version of bbsync (schema version too new)")));
  if (version < 0)
    FAIL (store_error (&local_error, self->path, _ ("its schema version is invalid")));
  if (!quick_check (self, &problem))
    FAIL (store_error (&local_error, self->path, problem));

  if (version >= 1)
    {
      if (!read_meta (self, "store_id", &meta_id) || !read_meta (self, "key_source", &meta_source))
        FAIL (store_error (&local_error, self->path, _ ("its metadata is missing (corrupt file)")));
      if (!store_id_valid (meta_id))
        FAIL (
            store_error (&local_error, self->path, _ ("its store_id is malformed (corrupt file)")));
      self->store_id = g_strndup (g_bytes_get_data (meta_id, NULL), g_bytes_get_size (meta_id));
    }
  else
    {
      /* Version 0 is a new file or the reference client's; anything else is not ours. */
      gint64 foreign = 0;

      if (!query_int (self,
                      "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name NOT IN "
                      "('identity_states', 'namespaces', 'items', 'bbsync_meta')",
                      &foreign))
        FAIL (store_error (&local_error, self->path, sqlite3_errmsg (self->db)));
      if (foreign > 0)
        FAIL (store_error (&local_error, self->path,
                           _ ("it holds tables of another application, not a bbsync store")));
      /* bbsync_meta is created in the same transaction that sets the version, so a
       * version-0 file that has it is one of ours with a damaged header. Migrating it
       * would seal its sealed values again under a new key. */
      if (!query_int (self,
                      "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = "
                      "'bbsync_meta'",
                      &foreign))
        FAIL (store_error (&local_error, self->path, sqlite3_errmsg (self->db)));
      if (foreign > 0)
        FAIL (store_error (&local_error, self->path,
                           _ ("it holds bbsync_meta but its schema version is 0 (corrupt file)")));
      self->store_id = new_store_id ();
    }

  if (key_from_app)
    key = g_memdup2 (g_bytes_get_data (self->supplied_key, NULL), BB_SQLITE_STORE_KEY_SIZE);
  else if (in_memory)
    {
      /* Nothing outlives an in-memory store, so a key of its own is enough. */
      key = g_malloc (BB_SQLITE_STORE_KEY_SIZE);
      bb_crypto_random_bytes (key, BB_SQLITE_STORE_KEY_SIZE);
    }
  else if (version >= 1)
    {
      if (g_bytes_get_size (meta_source) == 3
          && memcmp (g_bytes_get_data (meta_source, NULL), "app", 3) == 0)
        FAIL (store_error (&local_error, self->path,
                           _ ("it is sealed with a key the app supplies, and none was given")));
      key = keyring_lookup (self->store_id, self->path, cancellable, &local_error);
      if (key == NULL)
        goto out;
    }
  else
    {
      /* A new file: the key goes to the keyring before anything is sealed with it. */
      key = g_malloc (BB_SQLITE_STORE_KEY_SIZE);
      bb_crypto_random_bytes (key, BB_SQLITE_STORE_KEY_SIZE);
      if (!keyring_store (self->store_id, self->path, key, cancellable, &local_error))
        goto out;
    }
  derive_seal_key (self, key);
  free_secret (key, BB_SQLITE_STORE_KEY_SIZE);
  key = NULL;
  if (!register_row_mac_functions (self, &local_error))
    goto out;

  if (version >= 1 && !verify_key_check (self, &local_error))
    goto out;

  /* The file is ours: from here on we write. */
  if (!in_memory && !exec_sql (self, "PRAGMA journal_mode = WAL", &local_error))
    goto out;
  if (!exec_sql (self, "PRAGMA foreign_keys = ON", &local_error)
      || !exec_sql (self, "PRAGMA busy_timeout = 5000", &local_error)
      || !exec_sql (self, "PRAGMA secure_delete = ON", &local_error)
      || !exec_sql (self, "PRAGMA temp_store = MEMORY", &local_error))
    goto out;

  if (version < BB_SQLITE_STORE_SCHEMA_VERSION)
    {
      g_autofree char *set_version = NULL;

      if (!exec_sql (self, "BEGIN IMMEDIATE", &local_error))
        goto out;
      for (gint64 v = version; v < BB_SQLITE_STORE_SCHEMA_VERSION; v++)
        if (!migrations[v](self, &local_error))
          {
            rollback (self);
            goto out;
          }
      set_version = g_strdup_printf ("PRAGMA user_version = %d", BB_SQLITE_STORE_SCHEMA_VERSION);
      if (version == 0)
        {
          gsize len;
          g_autofree guint8 *check = seal (self, "bbsync_meta", "value", key_check_keys,
                                           KEY_CHECK_PLAINTEXT, strlen (KEY_CHECK_PLAINTEXT), &len);
          const char *source = key_from_app ? "app" : in_memory ? "memory" : "keyring";

          if (!write_meta (self, "store_id", self->store_id, strlen (self->store_id), &local_error)
              || !write_meta (self, "key_source", source, strlen (source), &local_error)
              || !write_meta (self, "key_check", check, len, &local_error)
              || (!in_memory && !created
                  && !write_meta (self, "erase_pending", "1", 1, &local_error)))
            {
              rollback (self);
              goto out;
            }
        }
      if (!exec_sql (self, set_version, &local_error))
        {
          rollback (self);
          goto out;
        }
      if (!exec_sql (self, "COMMIT", &local_error))
        {
          rollback (self);
          goto out;
        }
    }
  if (!in_memory)
    erase_freed_plaintext (self);

out:
#undef FAIL
  free_secret (key, BB_SQLITE_STORE_KEY_SIZE);
  g_clear_pointer (&self->supplied_key, g_bytes_unref);
  if (local_error != NULL)
    {
      close_locked (self);
      self->init_error = g_error_copy (local_error);
      g_propagate_error (error, local_error);
      return FALSE;
    }
  return TRUE;
}

static void
bb_sqlite_store_initable_iface_init (GInitableIface *iface)
{
  iface->init = bb_sqlite_store_initable_init;
}

/* ------------------------------------------------------------------------------------ */
/* GObject */

static void
bb_sqlite_store_finalize (GObject *object)
{
  BbSqliteStore *self = BB_SQLITE_STORE (object);

  close_locked (self);
  g_clear_pointer (&self->supplied_key, g_bytes_unref);
  g_clear_error (&self->init_error);
  g_free (self->path);
  g_free (self->store_id);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (bb_sqlite_store_parent_class)->finalize (object);
}

static void
bb_sqlite_store_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BbSqliteStore *self = BB_SQLITE_STORE (object);

  switch (prop_id)
    {
      case PROP_PATH:
        g_value_set_string (value, self->path);
        break;
      case PROP_STORE_ID:
        g_value_set_string (value, self->store_id);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bb_sqlite_store_set_property (GObject *object, guint prop_id, const GValue *value,
                              GParamSpec *pspec)
{
  BbSqliteStore *self = BB_SQLITE_STORE (object);

  switch (prop_id)
    {
      case PROP_PATH:
        g_free (self->path);
        self->path = g_value_dup_string (value);
        break;
      case PROP_STORE_KEY:
        {
          GBytes *key = g_value_get_boxed (value);
          g_clear_pointer (&self->supplied_key, g_bytes_unref);
          if (key != NULL)
            self->supplied_key
                = bb_crypto_secret_bytes_new (g_bytes_get_data (key, NULL), g_bytes_get_size (key));
        }
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bb_sqlite_store_class_init (BbSqliteStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = bb_sqlite_store_finalize;
  object_class->get_property = bb_sqlite_store_get_property;
  object_class->set_property = bb_sqlite_store_set_property;

  /**
   * BbSqliteStore:path:
   *
   * The database file, or [const@BbSync.SQLITE_STORE_IN_MEMORY]. After opening, the
   * absolute path.
   *
   * Since: 0.1
   */
  properties[PROP_PATH]
      = g_param_spec_string ("path", NULL, NULL, NULL,
                             G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * BbSqliteStore:store-key:
   *
   * A 32-byte store key supplied by the app, or %NULL to use (and on first open
   * create) a key in the user's keyring. Write-only; the store keeps no copy of it
   * after opening, only a key derived from it.
   *
   * Since: 0.1
   */
  properties[PROP_STORE_KEY]
      = g_param_spec_boxed ("store-key", NULL, NULL, G_TYPE_BYTES,
                            G_PARAM_WRITABLE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * BbSqliteStore:store-id:
   *
   * The random ID of this store file, kept in plaintext in the file. The keyring
   * entry of the store key is found by it (attribute `store-id`), so the file can be
   * moved or renamed without losing its key.
   *
   * Since: 0.1
   */
  properties[PROP_STORE_ID] = g_param_spec_string ("store-id", NULL, NULL, NULL,
                                                   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
bb_sqlite_store_init (BbSqliteStore *self)
{
  g_mutex_init (&self->lock);
}

/**
 * bb_sqlite_store_new_sync:
 * @path: the database file, or [const@BbSync.SQLITE_STORE_IN_MEMORY]
 * @store_key: (nullable): a 32-byte store key supplied by the app, or %NULL to use the
 *   user's keyring
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @error: return location for a [struct@GLib.Error]
 *
 * Opens or creates the store at @path. A new file is created with mode 0600.
 *
 * Without @store_key, the store key is read from the user's keyring, and created
 * there when the file is new; this talks to the Secret Service over D-Bus and blocks,
 * so from a main loop use [func@BbSync.SqliteStore.new_async]. An in-memory store without
 * @store_key gets a random key and never touches the keyring.
 *
 * Fails with %BB_SYNC_ERROR_STORE, leaving the file unchanged, when the file is not a
 * sound database, was written by a newer schema version, or is sealed with another
 * store key; with %BB_SYNC_ERROR_KEYRING when the keyring cannot be used.
 *
 * Returns: (transfer full): the store, or %NULL on error
 *
 * Since: 0.1
 */
BbSqliteStore *
bb_sqlite_store_new_sync (const char *path, GBytes *store_key, GCancellable *cancellable,
                          GError **error)
{
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_initable_new (BB_TYPE_SQLITE_STORE, cancellable, error, "path", path, "store-key",
                         store_key, NULL);
}

/**
 * bb_sqlite_store_new_async:
 * @path: the database file, or [const@BbSync.SQLITE_STORE_IN_MEMORY]
 * @store_key: (nullable): a 32-byte store key supplied by the app, or %NULL to use the
 *   user's keyring
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the store is open
 * @user_data: data for @callback
 *
 * Opens or creates the store at @path like [ctor@BbSync.SqliteStore.new_sync], without
 * blocking the calling thread: the keyring look-up and the file checks run in a
 * worker thread. Finish with [ctor@BbSync.SqliteStore.new_finish].
 *
 * Since: 0.1
 */
void
bb_sqlite_store_new_async (const char *path, GBytes *store_key, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (path != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  g_async_initable_new_async (BB_TYPE_SQLITE_STORE, G_PRIORITY_DEFAULT, cancellable, callback,
                              user_data, "path", path, "store-key", store_key, NULL);
}

/**
 * bb_sqlite_store_new_finish:
 * @result: the [iface@Gio.AsyncResult] passed to the callback
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [func@BbSync.SqliteStore.new_async].
 *
 * Returns: (transfer full): the store, or %NULL on error
 *
 * Since: 0.1
 */
BbSqliteStore *
bb_sqlite_store_new_finish (GAsyncResult *result, GError **error)
{
  g_autoptr (GObject) source = NULL;
  GObject *object;

  g_return_val_if_fail (G_IS_ASYNC_RESULT (result), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  source = g_async_result_get_source_object (result);
  g_return_val_if_fail (BB_IS_SQLITE_STORE (source), NULL);
  object = g_async_initable_new_finish (G_ASYNC_INITABLE (source), result, error);
  return object != NULL ? BB_SQLITE_STORE (object) : NULL;
}

/**
 * bb_sqlite_store_get_path:
 * @self: a [class@BbSync.SqliteStore]
 *
 * Gets the database file of the store: the absolute path once opened, or
 * %BB_SQLITE_STORE_IN_MEMORY for a store that lives in memory only.
 *
 * Returns: the absolute path of the database file, or
 *   [const@BbSync.SQLITE_STORE_IN_MEMORY]
 *
 * Since: 0.1
 */
const char *
bb_sqlite_store_get_path (BbSqliteStore *self)
{
  g_return_val_if_fail (BB_IS_SQLITE_STORE (self), NULL);
  return self->path;
}

/**
 * bb_sqlite_store_get_store_id:
 * @self: a [class@BbSync.SqliteStore]
 *
 * Gets the random ID of the store file. The keyring entry of the store key is found by
 * it, so the file can be moved or renamed without losing its key.
 *
 * Returns: (nullable): the ID of the store file (see [property@BbSync.SqliteStore:store-id]),
 *   or %NULL when the store did not open
 *
 * Since: 0.1
 */
const char *
bb_sqlite_store_get_store_id (BbSqliteStore *self)
{
  g_return_val_if_fail (BB_IS_SQLITE_STORE (self), NULL);
  return self->store_id;
}
