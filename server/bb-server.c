/* bb-server.c: the BitBoxSync reference server
 *
 * Everything runs on the GMainContext the server was created on. Request handlers are
 * synchronous: SQLite on local disk is fast enough that one request never stalls the
 * others noticeably, and it makes every write to a namespace naturally serialised (the
 * version check, the store and the head increment happen in one transaction with no
 * other request in between). Long polls and injected latency pause their message
 * (soup_server_message_pause) and answer later from a timeout or a wake-up, so they
 * never block anything.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-server.h"

#include "bb-i18n-private.h"
#include <errno.h>
#include <gio/gnetworking.h>
#include <libsoup/soup.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bb-crypto-private.h"
#include "bb-error.h"
#include "bb-protocol-messages-private.h"
#include "bb-protocol.h"
#include "bb-protocol-private.h"
#include "bb-server-db.h"

#define DEFAULT_WATCH_TIMEOUT_MS 30000
#define DEFAULT_REQUEST_TIMEOUT_MS 10000
#define DEFAULT_TOKEN_LIFETIME (90 * 24 * 3600)
#define DEFAULT_CHALLENGE_LIFETIME 120
#define DEFAULT_PUBLIC_ORIGIN "https://sync.example"
/* Tolerated client clock skew on client-chosen expiry times (invites, join requests). */
#define CLOCK_SKEW 60
/* How long revoked or expired invites stay in the invite list. */
#define INVITE_RETENTION (24 * 3600)

struct _BbServer
{
  GObject parent_instance;

  char *database_path;
  BbServerDb *db;
  GMainContext *context;

  SoupServer *soup;
  char *base_url;
  guint port;

  GSocket *listen_socket;
  GSource *accept_source;      /* while accepting */
  GSource *accept_retry;       /* while pausing after running out of descriptors */
  GSocket *idle_listener_peer; /* see give_soup_idle_listener() */
  GHashTable *connections;     /* remote address text -> Connection */
  guint max_connections;       /* 0: derived_connection_cap */
  guint derived_connection_cap;
  guint request_timeout_ms;

  GPtrArray *public_origins; /* canonical origin strings */
  guint watch_timeout_ms;
  guint token_lifetime;
  guint challenge_lifetime;
  gint64 clock_offset;
  gboolean require_attestation;
  guint64 limits[BB_SERVER_N_LIMITS];

  GQueue challenge_queue;        /* Challenge, oldest first */
  GHashTable *challenge_sources; /* source -> GQueue of Challenge, oldest first */

  GHashTable *challenges; /* base64 text -> Challenge */
  GPtrArray *watches;     /* Watch */
  GPtrArray *delayed;     /* Delayed (latency injection) */

  guint latency_ms;
  double error_rate;
  guint error_status;
  guint retry_after;     /* seconds; 0: no Retry-After on injected 429 and 503 */
  GPtrArray *fail_rules; /* FailRule */
  double drop_rate;
  GRand *fault_rand;
};

G_DEFINE_FINAL_TYPE (BbServer, bb_server, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_DATABASE_PATH,
  PROP_WATCH_TIMEOUT,
  PROP_TOKEN_LIFETIME,
  PROP_CHALLENGE_LIFETIME,
  PROP_CLOCK_OFFSET,
  PROP_BASE_URL,
  PROP_MAX_CONNECTIONS,
  PROP_REQUEST_TIMEOUT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const guint64 default_limits[BB_SERVER_N_LIMITS] = {
  [BB_SERVER_LIMIT_ITEMS_PER_NAMESPACE] = 10000,
  [BB_SERVER_LIMIT_BYTES_PER_NAMESPACE] = 64 * 1024 * 1024,
  [BB_SERVER_LIMIT_NAMESPACES_PER_KEY] = 32,
  [BB_SERVER_LIMIT_MEMBERS_PER_NAMESPACE] = 32,
  [BB_SERVER_LIMIT_TOKENS_PER_KEY] = 32,
  [BB_SERVER_LIMIT_ACTIVE_INVITES] = 5,
  [BB_SERVER_LIMIT_PENDING_PER_REQUESTER] = 20,
  [BB_SERVER_LIMIT_PENDING_PER_INVITE] = BB_PROTOCOL_MAX_PENDING,
  [BB_SERVER_LIMIT_BODY_SIZE] = 256 * 1024,
  [BB_SERVER_LIMIT_CHALLENGES] = 100000,
  [BB_SERVER_LIMIT_CHALLENGES_PER_SOURCE] = 1000,
};

/* ------------------------------------------------------------------------------------ */
/* Challenges (in memory: they live two minutes, a restart may forget them) */

/* Outstanding challenges are in self->challenges by text, and in two queues in issue
 * order: self->challenge_queue, and the queue of the address they were issued to in
 * self->challenge_sources. When a cap is reached the oldest challenge goes, so a flood
 * never refuses anyone a challenge, and the per-source cap keeps one address from
 * pushing out everybody else's challenges (a user may take a while to sign one). */
typedef struct
{
  char *text; /* the key in self->challenges */
  char *source;
  char *purpose;
  char *action;             /* nullable */
  char *action_fields_hash; /* nullable */
  gint64 expires_at;
  GList queue_link;  /* in self->challenge_queue */
  GList source_link; /* in the queue of self->challenge_sources for source */
} Challenge;

static void
challenge_free (Challenge *challenge)
{
  g_free (challenge->text);
  g_free (challenge->source);
  g_free (challenge->purpose);
  g_free (challenge->action);
  g_free (challenge->action_fields_hash);
  g_free (challenge);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Challenge, challenge_free)

/* ------------------------------------------------------------------------------------ */
/* Requests */

#define MAX_PARAMS 4

typedef struct
{
  BbServer *self;
  SoupServerMessage *msg;
  const char *params[MAX_PARAMS];
  const char *body;
  gsize body_len;
  char *caller; /* key ID of the bearer, after authentication */
  gint64 now;
  gboolean held;   /* the handler keeps the message paused (watch) */
  gboolean paused; /* the message is already paused (latency injection) */
} Request;

typedef void (*Handler) (BbServer *self, Request *req);

/* Bodies may carry bearer tokens, so each is wiped when libsoup lets it go. */
static void
respond_raw (SoupServerMessage *msg, guint status, const char *json)
{
  /* Go's JSON encoder ends its output with a newline; clients ignore it. */
  char *body = g_strconcat (json, "\n", NULL);
  gsize len = strlen (body);
  g_autoptr (GBytes) bytes = bb_crypto_secret_bytes_new_take ((guint8 *)body, len);

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC, NULL, 0);
  soup_message_body_append_bytes (soup_server_message_get_response_body (msg), bytes);
}

static void
respond_json_take (Request *req, guint status, char *json)
{
  respond_raw (req->msg, status, json);
  bb_crypto_wipe (json, strlen (json));
  g_free (json);
}

static void respond_error (Request *req, guint status, const char *format, ...)
    G_GNUC_PRINTF (3, 4);

static void
respond_error_msg (SoupServerMessage *msg, guint status, const char *text)
{
  BbMsgError error = { (char *)text };
  g_autofree char *json = bb_msg_error_to_json (&error);

  respond_raw (msg, status, json);
}

static void
respond_error (Request *req, guint status, const char *format, ...)
{
  g_autofree char *text = NULL;
  va_list ap;

  va_start (ap, format);
  text = g_strdup_vprintf (format, ap);
  va_end (ap);
  respond_error_msg (req->msg, status, text);
}

/* Answers with @error's message: CRYPTO failures (a signature that does not verify) are
 * 403, everything else the client sent wrong is 400. */
static void
respond_gerror (Request *req, const GError *error)
{
  guint status = 400;

  if (error->domain == BB_SYNC_ERROR && error->code == BB_SYNC_ERROR_CRYPTO)
    status = 403;
  respond_error_msg (req->msg, status, error->message);
}

static void
respond_internal (Request *req, const GError *error)
{
  bb_server_db_rollback (req->self->db);
  g_warning ("bbsync-server: internal error: %s", error != NULL ? error->message : "unknown");
  respond_error (req, 500, "internal server error");
}

/* Bodies must be one JSON object whose keys are all known (a misspelt field is a client
 * bug that should show, not be ignored as Go's decoder would). @nested_field names an
 * object member that is checked the same way against @nested_allowed. */
static gboolean
check_body (Request *req, const char *const *allowed, const char *nested_field,
            const char *const *nested_allowed)
{
  g_autoptr (GError) error = NULL;

  if (req->body_len == 0)
    {
      respond_error (req, 400, "request body: expected a JSON object");
      return FALSE;
    }
  /* The messages' own strict reader, with its limits on nesting depth (64), size and
   * value count: no body can overflow the stack or cost much before it is refused. */
  if (!bb_msg_check_known_fields (req->body, req->body_len, allowed, nested_field, nested_allowed,
                                  &error))
    {
      respond_error (req, 400, "request %s", error->message);
      return FALSE;
    }
  return TRUE;
}

static GBytes *
decode_or_respond (Request *req, GBytes *(*decode) (const char *, gssize, const char *, GError **),
                   const char *text, gssize len, const char *field)
{
  g_autoptr (GError) error = NULL;
  GBytes *bytes;

  if (text == NULL)
    {
      respond_error (req, 400, "%s: missing", field);
      return NULL;
    }
  bytes = decode (text, len, field, &error);
  if (bytes == NULL)
    respond_gerror (req, error);
  return bytes;
}

static gboolean
validate_id (Request *req, const char *text, gsize size, const char *field)
{
  g_autoptr (GError) error = NULL;

  if (text == NULL || !bb_protocol_validate_lower_hex (text, size, field, &error))
    {
      if (error != NULL)
        respond_gerror (req, error);
      else
        respond_error (req, 400, "%s: missing", field);
      return FALSE;
    }
  return TRUE;
}

static GDateTime *
make_time (gint64 unix_seconds)
{
  return g_date_time_new_from_unix_utc (unix_seconds);
}

/* ------------------------------------------------------------------------------------ */
/* Keys, tokens, membership */

static gboolean
load_key (BbServer *self, const char *key_id, GBytes **auth_public_key, GBytes **wrap_public_key,
          char **default_namespace_id, GError **error)
{
  sqlite3_stmt *stmt;
  gboolean found;

  stmt = bb_server_db_query (self->db, error,
                             "SELECT auth_public_key, wrap_public_key, default_namespace_id "
                             "FROM keys WHERE key_id = ?",
                             "t", key_id);
  if (stmt == NULL)
    return FALSE;
  found = bb_server_db_step (self->db, stmt, error);
  if (found)
    {
      if (auth_public_key != NULL)
        *auth_public_key = bb_server_db_column_bytes (stmt, 0);
      if (wrap_public_key != NULL)
        *wrap_public_key = bb_server_db_column_bytes (stmt, 1);
      if (default_namespace_id != NULL)
        *default_namespace_id = bb_server_db_column_text (stmt, 2);
    }
  sqlite3_reset (stmt);
  return found;
}

static char *
hash_token (const char *token)
{
  guint8 digest[BB_CRYPTO_SHA256_SIZE];
  g_autoptr (GBytes) bytes = NULL;

  bb_crypto_sha256 ((const guint8 *)token, strlen (token), digest);
  bytes = g_bytes_new (digest, sizeof digest);
  return bb_protocol_hex_encode (bytes);
}

/* Issues a new bearer token for @key_id inside the caller's transaction, evicting the
 * oldest tokens of that key beyond the limit. */
static char *
issue_token (BbServer *self, const char *key_id, gint64 now, gint64 *out_expires_at, GError **error)
{
  guint8 raw[32];
  g_autoptr (GBytes) raw_bytes = NULL;
  g_autofree char *token = NULL;
  g_autofree char *token_hash = NULL;
  gint64 expires_at = now + self->token_lifetime;

  bb_crypto_random_bytes (raw, sizeof raw);
  raw_bytes = bb_crypto_secret_bytes_new (raw, sizeof raw);
  bb_crypto_wipe (raw, sizeof raw);
  token = bb_protocol_base64url_encode (raw_bytes);
  token_hash = hash_token (token);

  if (!bb_server_db_exec (self->db, error,
                          "DELETE FROM tokens WHERE key_id = ? AND expires_at <= ?", "ti", key_id,
                          now))
    return NULL;
  if (!bb_server_db_exec (self->db, error,
                          "INSERT INTO tokens (token_hash, key_id, issued_at, expires_at) "
                          "VALUES (?, ?, ?, ?)",
                          "ttii", token_hash, key_id, now, expires_at))
    return NULL;
  if (!bb_server_db_exec (self->db, error,
                          "DELETE FROM tokens WHERE key_id = ? AND rowid NOT IN "
                          "(SELECT rowid FROM tokens WHERE key_id = ? "
                          " ORDER BY issued_at DESC, rowid DESC LIMIT ?)",
                          "tti", key_id, key_id,
                          (gint64)self->limits[BB_SERVER_LIMIT_TOKENS_PER_KEY]))
    return NULL;

  *out_expires_at = expires_at;
  return g_steal_pointer (&token);
}

/* Sets req->caller from the bearer token, or answers 401. */
static gboolean
authenticate (BbServer *self, Request *req)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (req->msg);
  const char *value = soup_message_headers_get_one (headers, "Authorization");
  g_autofree char *token_hash = NULL;
  g_autoptr (GError) error = NULL;
  sqlite3_stmt *stmt;

  if (value == NULL || g_ascii_strncasecmp (value, "Bearer ", 7) != 0 || value[7] == '\0')
    {
      respond_error (req, 401, "missing bearer token");
      return FALSE;
    }
  token_hash = hash_token (value + 7);
  stmt = bb_server_db_query (self->db, &error,
                             "SELECT key_id FROM tokens WHERE token_hash = ? AND expires_at > ?",
                             "ti", token_hash, req->now);
  if (stmt == NULL)
    {
      respond_internal (req, error);
      return FALSE;
    }
  if (bb_server_db_step (self->db, stmt, &error))
    req->caller = bb_server_db_column_text (stmt, 0);
  sqlite3_reset (stmt);
  if (error != NULL)
    {
      respond_internal (req, error);
      return FALSE;
    }
  if (req->caller == NULL)
    {
      respond_error (req, 401, "invalid bearer token");
      return FALSE;
    }
  return TRUE;
}

/* Whether @key_id is a member of @namespace_id; *out_kind gets the namespace kind. */
static gboolean
is_member (BbServer *self, const char *namespace_id, const char *key_id, char **out_kind,
           GError **error)
{
  sqlite3_stmt *stmt;
  gboolean found;

  stmt = bb_server_db_query (self->db, error,
                             "SELECT n.kind FROM members m JOIN namespaces n "
                             "ON n.namespace_id = m.namespace_id "
                             "WHERE m.namespace_id = ? AND m.key_id = ?",
                             "tt", namespace_id, key_id);
  if (stmt == NULL)
    return FALSE;
  found = bb_server_db_step (self->db, stmt, error);
  if (found && out_kind != NULL)
    *out_kind = bb_server_db_column_text (stmt, 0);
  sqlite3_reset (stmt);
  return found;
}

/* Validates the path namespace and requires the caller to be a member. Non-members get
 * 404, so that the existence of a namespace does not leak. */
static gboolean
require_member (BbServer *self, Request *req, const char *namespace_id, char **out_kind)
{
  g_autoptr (GError) error = NULL;

  if (!validate_id (req, namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, "namespaceId"))
    return FALSE;
  if (!is_member (self, namespace_id, req->caller, out_kind, &error))
    {
      if (error != NULL)
        respond_internal (req, error);
      else
        respond_error (req, 404, "namespace not found");
      return FALSE;
    }
  return TRUE;
}

static gint64
count_namespaces_of (BbServer *self, const char *key_id, GError **error)
{
  return bb_server_db_get_int (self->db, 0, error, "SELECT COUNT(*) FROM members WHERE key_id = ?",
                               "t", key_id);
}

/* Validates a wrapped DEK from a request body: canonical base64 of a version 1 blob. */
static gboolean
check_wrapped_dek (Request *req, const char *text)
{
  g_autoptr (GBytes) blob = NULL;
  g_autoptr (GError) error = NULL;

  blob = decode_or_respond (req, bb_protocol_base64_decode, text, BB_PROTOCOL_WRAPPED_DEK_SIZE,
                            "wrappedDek");
  if (blob == NULL)
    return FALSE;
  if (!bb_protocol_validate_wrapped_dek (blob, &error))
    {
      respond_error (req, 400, "%s", error->message);
      return FALSE;
    }
  return TRUE;
}

/* ------------------------------------------------------------------------------------ */
/* Watches (long polls) */

typedef struct
{
  BbServer *self;
  SoupServerMessage *msg;
  char *key_id;
  GHashTable *known_heads; /* char * -> guint64 * */
  GSource *timeout;
  gulong disconnected_id;
} Watch;

static void
watch_free (Watch *watch)
{
  if (watch->timeout != NULL)
    {
      g_source_destroy (watch->timeout);
      g_source_unref (watch->timeout);
    }
  if (watch->disconnected_id != 0)
    g_signal_handler_disconnect (watch->msg, watch->disconnected_id);
  g_object_unref (watch->msg);
  g_free (watch->key_id);
  g_clear_pointer (&watch->known_heads, g_hash_table_unref);
  g_free (watch);
}

/* The caller's namespaces whose head differs from @known_heads (absent counts as
 * different), as BbMsgNamespaceSummary. */
static GPtrArray *
collect_changes (BbServer *self, const char *key_id, GHashTable *known_heads, GError **error)
{
  g_autoptr (GPtrArray) changed
      = g_ptr_array_new_with_free_func ((GDestroyNotify)bb_msg_namespace_summary_free);
  g_autoptr (GError) local_error = NULL;
  sqlite3_stmt *stmt;

  stmt = bb_server_db_query (self->db, error,
                             "SELECT n.namespace_id, n.kind, n.head FROM members m "
                             "JOIN namespaces n ON n.namespace_id = m.namespace_id "
                             "WHERE m.key_id = ? ORDER BY n.namespace_id",
                             "t", key_id);
  if (stmt == NULL)
    return NULL;
  while (bb_server_db_step (self->db, stmt, &local_error))
    {
      const char *ns = (const char *)sqlite3_column_text (stmt, 0);
      guint64 head = sqlite3_column_int64 (stmt, 2);
      const guint64 *known = known_heads != NULL ? g_hash_table_lookup (known_heads, ns) : NULL;

      if (known == NULL || *known != head)
        {
          BbMsgNamespaceSummary *summary = g_new0 (BbMsgNamespaceSummary, 1);
          summary->namespace_id = g_strdup (ns);
          summary->kind = bb_server_db_column_text (stmt, 1);
          summary->namespace_head = head;
          g_ptr_array_add (changed, summary);
        }
    }
  sqlite3_reset (stmt);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  return g_steal_pointer (&changed);
}

static void
watch_answer (Watch *watch, GPtrArray *namespaces, gboolean timed_out)
{
  BbMsgWatchResponse response = { namespaces, timed_out };
  g_autoptr (GPtrArray) empty = NULL;
  g_autofree char *json = NULL;

  if (response.namespaces == NULL)
    response.namespaces = empty = g_ptr_array_new ();
  json = bb_msg_watch_response_to_json (&response);
  respond_raw (watch->msg, 200, json);
  soup_server_message_unpause (watch->msg);
}

static void
watch_remove (Watch *watch)
{
  g_ptr_array_remove_fast (watch->self->watches, watch);
}

static gboolean
watch_timeout_cb (gpointer user_data)
{
  Watch *watch = user_data;

  watch_answer (watch, NULL, TRUE);
  watch_remove (watch);
  return G_SOURCE_REMOVE;
}

static void
watch_disconnected_cb (SoupServerMessage *msg, gpointer user_data)
{
  watch_remove (user_data);
}

/* Re-evaluates open watches after a change. @namespace_id limits it to the watches of
 * that namespace's members (NULL: every watch, for example after a rollback). */
static void
wake_watchers (BbServer *self, const char *namespace_id)
{
  g_autoptr (GHashTable) members = NULL;
  g_autoptr (GPtrArray) done = g_ptr_array_new ();

  if (self->watches->len == 0)
    return;

  if (namespace_id != NULL)
    {
      g_autoptr (GError) error = NULL;
      sqlite3_stmt *stmt = bb_server_db_query (
          self->db, &error, "SELECT key_id FROM members WHERE namespace_id = ?", "t", namespace_id);
      members = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      if (stmt != NULL)
        {
          while (bb_server_db_step (self->db, stmt, &error))
            g_hash_table_add (members, bb_server_db_column_text (stmt, 0));
          sqlite3_reset (stmt);
        }
      if (error != NULL)
        g_warning ("bbsync-server: cannot wake watches: %s", error->message);
    }

  for (guint i = 0; i < self->watches->len; i++)
    {
      Watch *watch = g_ptr_array_index (self->watches, i);
      g_autoptr (GPtrArray) changed = NULL;
      g_autoptr (GError) error = NULL;

      if (members != NULL && !g_hash_table_contains (members, watch->key_id))
        continue;
      changed = collect_changes (self, watch->key_id, watch->known_heads, &error);
      if (changed == NULL)
        {
          g_warning ("bbsync-server: cannot evaluate a watch: %s", error->message);
          continue;
        }
      if (changed->len > 0)
        {
          watch_answer (watch, changed, FALSE);
          g_ptr_array_add (done, watch);
        }
    }
  for (guint i = 0; i < done->len; i++)
    watch_remove (g_ptr_array_index (done, i));
}

/* ------------------------------------------------------------------------------------ */
/* Handlers: health and version */

static void
handle_health (BbServer *self, Request *req)
{
  BbMsgHealthResponse response = { (char *)"ok" };

  respond_json_take (req, 200, bb_msg_health_response_to_json (&response));
}

static void
handle_version (BbServer *self, Request *req)
{
  BbMsgVersionResponse response = { (char *)PACKAGE_VERSION };

  respond_json_take (req, 200, bb_msg_version_response_to_json (&response));
}

/* ------------------------------------------------------------------------------------ */
/* Handlers: authentication */

static const char *const challenge_fields[]
    = { "purpose", "kind", "action", "actionFieldsHash", NULL };

/* Removes @text from the outstanding challenges and returns it, or NULL if unknown. */
static Challenge *
take_challenge (BbServer *self, const char *text)
{
  Challenge *challenge = g_hash_table_lookup (self->challenges, text);
  GQueue *source_queue;

  if (challenge == NULL)
    return NULL;
  g_hash_table_steal (self->challenges, text);
  g_queue_unlink (&self->challenge_queue, &challenge->queue_link);
  source_queue = g_hash_table_lookup (self->challenge_sources, challenge->source);
  g_queue_unlink (source_queue, &challenge->source_link);
  if (g_queue_is_empty (source_queue))
    g_hash_table_remove (self->challenge_sources, challenge->source);
  return challenge;
}

static void
evict_challenge (BbServer *self, Challenge *challenge)
{
  challenge_free (take_challenge (self, challenge->text));
}

/* Makes room for one more challenge from @source: the expired ones at the head of the
 * queue go (it is in issue order, so nearly in expiry order), then the oldest of
 * @source, then the oldest of all, down to the caps. */
static void
make_room_for_challenge (BbServer *self, const char *source, gint64 now)
{
  guint64 per_source = MAX (self->limits[BB_SERVER_LIMIT_CHALLENGES_PER_SOURCE], 1);
  guint64 total = MAX (self->limits[BB_SERVER_LIMIT_CHALLENGES], 1);
  Challenge *oldest;
  GQueue *source_queue;

  while ((oldest = g_queue_peek_head (&self->challenge_queue)) != NULL && oldest->expires_at <= now)
    evict_challenge (self, oldest);
  while ((source_queue = g_hash_table_lookup (self->challenge_sources, source)) != NULL
         && source_queue->length >= per_source)
    evict_challenge (self, g_queue_peek_head (source_queue));
  while (g_hash_table_size (self->challenges) >= total)
    evict_challenge (self, g_queue_peek_head (&self->challenge_queue));
}

static void
add_challenge (BbServer *self, Challenge *challenge)
{
  GQueue *source_queue = g_hash_table_lookup (self->challenge_sources, challenge->source);

  if (source_queue == NULL)
    {
      source_queue = g_queue_new ();
      g_hash_table_insert (self->challenge_sources, g_strdup (challenge->source), source_queue);
    }
  challenge->queue_link.data = challenge;
  challenge->source_link.data = challenge;
  g_queue_push_tail_link (&self->challenge_queue, &challenge->queue_link);
  g_queue_push_tail_link (source_queue, &challenge->source_link);
  g_hash_table_insert (self->challenges, challenge->text, challenge);
}

/* The address a request came from, as challenges are counted: an IPv4 address, or the /64
 * of an IPv6 address (one host commonly has a whole /64). */
static char *
request_source (Request *req)
{
  GSocketAddress *address = soup_server_message_get_remote_address (req->msg);
  GInetAddress *inet;
  guint8 bytes[16];

  if (!G_IS_INET_SOCKET_ADDRESS (address))
    return g_strdup ("");
  inet = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address));
  if (g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6)
    {
      g_autoptr (GInetAddress) prefix = NULL;
      g_autofree char *text = NULL;

      memcpy (bytes, g_inet_address_to_bytes (inet), sizeof bytes);
      memset (bytes + 8, 0, 8);
      prefix = g_inet_address_new_from_bytes (bytes, G_SOCKET_FAMILY_IPV6);
      text = g_inet_address_to_string (prefix);
      return g_strconcat (text, "/64", NULL);
    }
  return g_inet_address_to_string (inet);
}

static void
handle_challenge (BbServer *self, Request *req)
{
  BbMsgChallengeRequest request = { 0 };
  BbMsgChallengeResponse response = { 0 };
  g_autoptr (GError) error = NULL;
  Challenge *challenge;
  guint8 raw[BB_PROTOCOL_CHALLENGE_SIZE];
  g_autoptr (GBytes) raw_bytes = NULL;
  gboolean sensitive;

  if (!check_body (req, challenge_fields, NULL, NULL))
    return;
  if (!bb_msg_challenge_request_parse (&request, req->body, req->body_len, &error))
    {
      respond_gerror (req, error);
      return;
    }

  if (!g_str_equal (request.kind, BB_PROTOCOL_KIND_KEYSTORE))
    {
      respond_error (req, 400, "kind: unsupported identity kind");
      goto out;
    }
  sensitive = g_str_equal (request.purpose, BB_PROTOCOL_PURPOSE_SENSITIVE);
  if (!sensitive && !g_str_equal (request.purpose, BB_PROTOCOL_PURPOSE_LOGIN)
      && !g_str_equal (request.purpose, BB_PROTOCOL_PURPOSE_REFRESH))
    {
      respond_error (req, 400, "purpose: unknown challenge purpose");
      goto out;
    }
  if (sensitive)
    {
      if (request.action == NULL
          || (!g_str_equal (request.action, BB_PROTOCOL_ACTION_REVOKE_ALL)
              && !g_str_equal (request.action, BB_PROTOCOL_ACTION_CREATE_INVITE)))
        {
          respond_error (req, 400, "action: missing or unknown sensitive action");
          goto out;
        }
      if (!validate_id (req, request.action_fields_hash, 32, "actionFieldsHash"))
        goto out;
    }
  else if (request.action != NULL || request.action_fields_hash != NULL)
    {
      respond_error (req, 400, "action: only sensitive-action challenges carry an action");
      goto out;
    }

  bb_crypto_random_bytes (raw, sizeof raw);
  raw_bytes = g_bytes_new (raw, sizeof raw);
  challenge = g_new0 (Challenge, 1);
  challenge->source = request_source (req);
  challenge->purpose = g_strdup (request.purpose);
  challenge->action = g_strdup (request.action);
  challenge->action_fields_hash = g_strdup (request.action_fields_hash);
  challenge->expires_at = req->now + self->challenge_lifetime;
  challenge->text = bb_protocol_base64_encode (raw_bytes);

  response.challenge = g_strdup (challenge->text);
  response.expires_at = make_time (challenge->expires_at);
  response.spam_control_kind
      = g_strdup (!sensitive && self->require_attestation ? BB_PROTOCOL_SPAM_CONTROL_ATTEST
                                                          : BB_PROTOCOL_SPAM_CONTROL_NONE);
  make_room_for_challenge (self, challenge->source, req->now);
  add_challenge (self, challenge);
  respond_json_take (req, 200, bb_msg_challenge_response_to_json (&response));
  bb_msg_challenge_response_clear (&response);

out:
  bb_msg_challenge_request_clear (&request);
}

/* Consumes @text (single use, whether or not the rest of the request is valid) and checks
 * it was issued for @purpose and @action. Returns its 32 bytes, or NULL after answering
 * 400. A failure here is never 401: logging in again cannot fix it. */
static GBytes *
consume_challenge (BbServer *self, Request *req, const char *text, const char *purpose,
                   const char *action, char **out_fields_hash)
{
  g_autoptr (Challenge) challenge = text != NULL ? take_challenge (self, text) : NULL;

  if (challenge == NULL)
    {
      respond_error (req, 400, "challenge: unknown or already used");
      return NULL;
    }
  if (challenge->expires_at <= req->now)
    {
      respond_error (req, 400, "challenge: expired");
      return NULL;
    }
  if (!g_str_equal (challenge->purpose, purpose))
    {
      respond_error (req, 400, "challenge: issued for purpose %s, not %s", challenge->purpose,
                     purpose);
      return NULL;
    }
  if (g_strcmp0 (challenge->action, action) != 0)
    {
      respond_error (req, 400, "challenge: issued for another action");
      return NULL;
    }
  if (out_fields_hash != NULL)
    *out_fields_hash = g_steal_pointer (&challenge->action_fields_hash);
  return decode_or_respond (req, bb_protocol_base64_decode, text, BB_PROTOCOL_CHALLENGE_SIZE,
                            "challenge");
}

static gboolean
verify_intent (Request *req, GBytes *auth_public_key, GBytes *intent, const char *signature_hex)
{
  g_autoptr (GBytes) signature = NULL;
  g_autoptr (GError) error = NULL;

  signature = decode_or_respond (req, bb_protocol_hex_decode, signature_hex,
                                 BB_PROTOCOL_SIGNATURE_SIZE, "intentSignature");
  if (signature == NULL)
    return FALSE;
  if (!bb_protocol_verify_signature (auth_public_key, intent, signature, &error))
    {
      respond_error (req, 403, "intentSignature: the signature does not verify");
      return FALSE;
    }
  return TRUE;
}

/* The demo attestation of spec §3.2: 0x00 || B1..B8 with m = SHA-256(challenge || authPub),
 * B1 = SHA-256(m), Bk+1 = SHA-256(Bk). */
static gboolean
verify_attestation (BbServer *self, Request *req, GBytes *challenge, GBytes *auth_public_key,
                    const char *attestation)
{
  g_autoptr (GBytes) received = NULL;
  guint8 expected[257];
  guint8 block[32];
  GByteArray *input;

  if (!self->require_attestation)
    return TRUE;
  if (attestation == NULL)
    {
      respond_error (req, 403, "attestation: required by this server");
      return FALSE;
    }
  received = decode_or_respond (req, bb_protocol_base64_decode, attestation, sizeof expected,
                                "attestation");
  if (received == NULL)
    return FALSE;

  input = g_byte_array_new ();
  g_byte_array_append (input, g_bytes_get_data (challenge, NULL), g_bytes_get_size (challenge));
  g_byte_array_append (input, g_bytes_get_data (auth_public_key, NULL),
                       g_bytes_get_size (auth_public_key));
  bb_crypto_sha256 (input->data, input->len, block);
  g_byte_array_unref (input);
  expected[0] = 0;
  for (int k = 0; k < 8; k++)
    {
      bb_crypto_sha256 (block, sizeof block, block);
      memcpy (expected + 1 + 32 * k, block, 32);
    }
  if (!bb_crypto_equal (expected, g_bytes_get_data (received, NULL), sizeof expected))
    {
      respond_error (req, 403, "attestation: does not verify");
      return FALSE;
    }
  return TRUE;
}

static const char *const login_fields[]
    = { "kind",      "keyId",           "authPublicKey", "wrapPublicKey",
        "challenge", "intentSignature", "attestation",   NULL };

static void
handle_login (BbServer *self, Request *req)
{
  BbMsgLoginRequest request = { 0 };
  BbMsgLoginResponse response = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) challenge = NULL;
  g_autoptr (GBytes) auth_public_key = NULL;
  g_autoptr (GBytes) wrap_public_key = NULL;
  g_autoptr (GBytes) stored_wrap = NULL;
  g_autoptr (GBytes) intent = NULL;
  g_autofree char *key_id = NULL;
  g_autofree char *default_ns = NULL;
  gint64 expires_at = 0;
  gboolean known;

  if (!check_body (req, login_fields, NULL, NULL))
    return;
  if (!bb_msg_login_request_parse (&request, req->body, req->body_len, &error))
    {
      respond_gerror (req, error);
      return;
    }

  challenge
      = consume_challenge (self, req, request.challenge, BB_PROTOCOL_PURPOSE_LOGIN, NULL, NULL);
  if (challenge == NULL)
    goto out;
  if (!g_str_equal (request.kind, BB_PROTOCOL_KIND_KEYSTORE))
    {
      respond_error (req, 400, "kind: unsupported identity kind");
      goto out;
    }
  auth_public_key = decode_or_respond (req, bb_protocol_lower_hex_decode, request.auth_public_key,
                                       BB_PROTOCOL_PUBLIC_KEY_SIZE, "authPublicKey");
  if (auth_public_key == NULL)
    goto out;
  if (!bb_protocol_check_auth_public_key (auth_public_key, "authPublicKey", &error))
    {
      respond_gerror (req, error);
      goto out;
    }
  wrap_public_key = decode_or_respond (req, bb_protocol_lower_hex_decode, request.wrap_public_key,
                                       BB_PROTOCOL_PUBLIC_KEY_SIZE, "wrapPublicKey");
  if (wrap_public_key == NULL)
    goto out;
  key_id = bb_protocol_key_id (auth_public_key);
  if (!validate_id (req, request.key_id, BB_PROTOCOL_KEY_ID_SIZE, "keyId"))
    goto out;
  if (!g_str_equal (key_id, request.key_id))
    {
      respond_error (req, 400, "keyId: is not SHA-256 of authPublicKey");
      goto out;
    }
  intent = bb_protocol_login_intent (challenge, request.kind, request.key_id, auth_public_key,
                                     wrap_public_key, &error);
  if (intent == NULL)
    {
      respond_gerror (req, error);
      goto out;
    }
  if (!verify_intent (req, auth_public_key, intent, request.intent_signature))
    goto out;
  if (!verify_attestation (self, req, challenge, auth_public_key, request.attestation))
    goto out;

  if (!bb_server_db_begin (self->db, &error))
    goto internal;
  known = load_key (self, key_id, NULL, &stored_wrap, &default_ns, &error);
  if (error != NULL)
    goto internal;
  if (known && !g_bytes_equal (stored_wrap, wrap_public_key))
    {
      bb_server_db_rollback (self->db);
      respond_error (req, 409, "wrapPublicKey: differs from the key registered for this keyId");
      goto out;
    }
  if (!known
      && !bb_server_db_exec (self->db, &error,
                             "INSERT INTO keys (key_id, kind, auth_public_key, "
                             "wrap_public_key, created_at) VALUES (?, ?, ?, ?, ?)",
                             "ttbbi", key_id, request.kind, auth_public_key, wrap_public_key,
                             req->now))
    goto internal;
  response.access_token = issue_token (self, key_id, req->now, &expires_at, &error);
  if (response.access_token == NULL || !bb_server_db_commit (self->db, &error))
    goto internal;

  response.kind = g_strdup (request.kind);
  response.expires_at = make_time (expires_at);
  response.default_namespace_id = g_steal_pointer (&default_ns);
  respond_json_take (req, 200, bb_msg_login_response_to_json (&response));
  goto out;

internal:
  respond_internal (req, error);
out:
  bb_msg_login_response_clear (&response);
  bb_msg_login_request_clear (&request);
}

static const char *const refresh_fields[]
    = { "kind", "keyId", "challenge", "intentSignature", "attestation", NULL };

static void
handle_refresh (BbServer *self, Request *req)
{
  BbMsgRefreshRequest request = { 0 };
  BbMsgRefreshResponse response = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) challenge = NULL;
  g_autoptr (GBytes) auth_public_key = NULL;
  g_autoptr (GBytes) intent = NULL;
  gint64 expires_at = 0;

  if (!authenticate (self, req) || !check_body (req, refresh_fields, NULL, NULL))
    return;
  if (!bb_msg_refresh_request_parse (&request, req->body, req->body_len, &error))
    {
      respond_gerror (req, error);
      return;
    }
  challenge
      = consume_challenge (self, req, request.challenge, BB_PROTOCOL_PURPOSE_REFRESH, NULL, NULL);
  if (challenge == NULL)
    goto out;
  if (!g_str_equal (request.kind, BB_PROTOCOL_KIND_KEYSTORE))
    {
      respond_error (req, 400, "kind: unsupported identity kind");
      goto out;
    }
  if (!g_str_equal (request.key_id, req->caller))
    {
      respond_error (req, 403, "keyId: is not the key of the bearer token");
      goto out;
    }
  if (!load_key (self, req->caller, &auth_public_key, NULL, NULL, &error))
    goto internal;
  intent = bb_protocol_refresh_intent (challenge, request.kind, request.key_id, &error);
  if (intent == NULL)
    {
      respond_gerror (req, error);
      goto out;
    }
  if (!verify_intent (req, auth_public_key, intent, request.intent_signature))
    goto out;
  if (!verify_attestation (self, req, challenge, auth_public_key, request.attestation))
    goto out;

  /* The old token stays valid until it expires (spec §9.3 leaves this open). */
  if (!bb_server_db_begin (self->db, &error))
    goto internal;
  response.access_token = issue_token (self, req->caller, req->now, &expires_at, &error);
  if (response.access_token == NULL || !bb_server_db_commit (self->db, &error))
    goto internal;
  response.kind = g_strdup (request.kind);
  response.expires_at = make_time (expires_at);
  respond_json_take (req, 200, bb_msg_refresh_response_to_json (&response));
  goto out;

internal:
  respond_internal (req, error);
out:
  bb_msg_refresh_response_clear (&response);
  bb_msg_refresh_request_clear (&request);
}

static const char *const revoke_tokens_fields[]
    = { "kind", "keyId", "challenge", "intentSignature", NULL };

static void
handle_revoke_tokens (BbServer *self, Request *req)
{
  BbMsgRevokeTokensRequest request = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) challenge = NULL;
  g_autoptr (GBytes) auth_public_key = NULL;
  g_autoptr (GBytes) fields = g_bytes_new_static ("", 0);
  g_autoptr (GBytes) intent = NULL;
  g_autofree char *bound_hash = NULL;
  g_autofree char *fields_hash = NULL;

  if (!authenticate (self, req) || !check_body (req, revoke_tokens_fields, NULL, NULL))
    return;
  if (!bb_msg_revoke_tokens_request_parse (&request, req->body, req->body_len, &error))
    {
      respond_gerror (req, error);
      return;
    }
  challenge = consume_challenge (self, req, request.challenge, BB_PROTOCOL_PURPOSE_SENSITIVE,
                                 BB_PROTOCOL_ACTION_REVOKE_ALL, &bound_hash);
  if (challenge == NULL)
    goto out;
  fields_hash = bb_protocol_action_fields_hash (fields);
  if (g_strcmp0 (bound_hash, fields_hash) != 0)
    {
      respond_error (req, 400, "challenge: bound to other action fields");
      goto out;
    }
  if (!g_str_equal (request.kind, BB_PROTOCOL_KIND_KEYSTORE))
    {
      respond_error (req, 400, "kind: unsupported identity kind");
      goto out;
    }
  if (!g_str_equal (request.key_id, req->caller))
    {
      respond_error (req, 403, "keyId: is not the key of the bearer token");
      goto out;
    }
  if (!load_key (self, req->caller, &auth_public_key, NULL, NULL, &error))
    goto internal;
  intent = bb_protocol_sensitive_action_intent (BB_PROTOCOL_ACTION_REVOKE_ALL, challenge,
                                                request.kind, request.key_id, fields, &error);
  if (intent == NULL)
    {
      respond_gerror (req, error);
      goto out;
    }
  if (!verify_intent (req, auth_public_key, intent, request.intent_signature))
    goto out;
  if (!bb_server_db_exec (self->db, &error, "DELETE FROM tokens WHERE key_id = ?", "t",
                          req->caller))
    goto internal;
  soup_server_message_set_status (req->msg, 204, NULL);
  goto out;

internal:
  respond_internal (req, error);
out:
  bb_msg_revoke_tokens_request_clear (&request);
}

/* ------------------------------------------------------------------------------------ */
/* Handlers: namespaces */

static void
handle_get_default (BbServer *self, Request *req)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *default_ns = NULL;
  BbMsgDefaultNamespaceResponse response = { 0 };

  if (!authenticate (self, req))
    return;
  if (!load_key (self, req->caller, NULL, NULL, &default_ns, &error))
    {
      respond_internal (req, error);
      return;
    }
  if (default_ns == NULL)
    {
      respond_error (req, 404, "no default namespace");
      return;
    }
  response.namespace_id = default_ns;
  response.kind = (char *)BB_PROTOCOL_NAMESPACE_KIND_DEFAULT;
  respond_json_take (req, 200, bb_msg_default_namespace_response_to_json (&response));
}

static gboolean
create_namespace (BbServer *self, Request *req, const char *namespace_id, const char *kind,
                  const char *wrapped_dek, GError **error)
{
  if (!bb_server_db_exec (self->db, error,
                          "INSERT INTO namespaces (namespace_id, kind, created_by, created_at) "
                          "VALUES (?, ?, ?, ?)",
                          "ttti", namespace_id, kind, req->caller, req->now))
    return FALSE;
  return bb_server_db_exec (self->db, error,
                            "INSERT INTO members (namespace_id, key_id, kind, wrapped_dek, "
                            "joined_at) VALUES (?, ?, ?, ?, ?)",
                            "tttti", namespace_id, req->caller, BB_PROTOCOL_KIND_KEYSTORE,
                            wrapped_dek, req->now);
}

static gboolean
namespace_exists (BbServer *self, const char *namespace_id, GError **error)
{
  return bb_server_db_get_int (self->db, 0, error,
                               "SELECT COUNT(*) FROM namespaces WHERE namespace_id = ?", "t",
                               namespace_id)
         > 0;
}

static const char *const ensure_default_fields[] = { "proposedNamespaceId", "wrappedDek", NULL };

static void
handle_ensure_default (BbServer *self, Request *req)
{
  BbMsgEnsureDefaultRequest request = { 0 };
  BbMsgEnsureDefaultResponse response = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *default_ns = NULL;

  if (!authenticate (self, req) || !check_body (req, ensure_default_fields, NULL, NULL))
    return;
  if (!bb_msg_ensure_default_request_parse (&request, req->body, req->body_len, &error))
    {
      respond_gerror (req, error);
      return;
    }
  if (!validate_id (req, request.proposed_namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE,
                    "proposedNamespaceId")
      || !check_wrapped_dek (req, request.wrapped_dek))
    goto out;

  if (!bb_server_db_begin (self->db, &error))
    goto internal;
  if (!load_key (self, req->caller, NULL, NULL, &default_ns, &error))
    goto internal;

  if (default_ns != NULL)
    {
      sqlite3_stmt *stmt = bb_server_db_query (self->db, &error,
                                               "SELECT wrapped_dek FROM members "
                                               "WHERE namespace_id = ? AND key_id = ?",
                                               "tt", default_ns, req->caller);
      if (stmt == NULL)
        goto internal;
      if (bb_server_db_step (self->db, stmt, &error))
        response.wrapped_dek = bb_server_db_column_text (stmt, 0);
      sqlite3_reset (stmt);
      if (error != NULL)
        goto internal;
      bb_server_db_rollback (self->db);
      response.namespace_id = g_steal_pointer (&default_ns);
      response.created = FALSE;
    }
  else
    {
      if (namespace_exists (self, request.proposed_namespace_id, &error))
        {
          bb_server_db_rollback (self->db);
          respond_error (req, 409, "proposedNamespaceId: namespace already exists");
          goto out;
        }
      if (error != NULL)
        goto internal;
      if ((guint64)count_namespaces_of (self, req->caller, &error)
          >= self->limits[BB_SERVER_LIMIT_NAMESPACES_PER_KEY])
        {
          bb_server_db_rollback (self->db);
          respond_error (req, 429, "too many namespaces for this key");
          goto out;
        }
      if (error != NULL
          || !create_namespace (self, req, request.proposed_namespace_id,
                                BB_PROTOCOL_NAMESPACE_KIND_DEFAULT, request.wrapped_dek, &error)
          || !bb_server_db_exec (self->db, &error,
                                 "UPDATE keys SET default_namespace_id = ? WHERE key_id = ?", "tt",
                                 request.proposed_namespace_id, req->caller)
          || !bb_server_db_commit (self->db, &error))
        goto internal;
      response.namespace_id = g_strdup (request.proposed_namespace_id);
      response.wrapped_dek = g_strdup (request.wrapped_dek);
      response.created = TRUE;
    }
  response.kind = g_strdup (BB_PROTOCOL_NAMESPACE_KIND_DEFAULT);
  respond_json_take (req, 200, bb_msg_ensure_default_response_to_json (&response));
  if (response.created)
    wake_watchers (self, response.namespace_id);
  goto out;

internal:
  respond_internal (req, error);
out:
  bb_msg_ensure_default_response_clear (&response);
  bb_msg_ensure_default_request_clear (&request);
}

static void
handle_mine (BbServer *self, Request *req)
{
  g_autoptr (GError) error = NULL;
  BbMsgMineResponse response = { 0 };

  if (!authenticate (self, req))
    return;
  response.namespaces = collect_changes (self, req->caller, NULL, &error);
  if (response.namespaces == NULL)
    {
      respond_internal (req, error);
      return;
    }
  respond_json_take (req, 200, bb_msg_mine_response_to_json (&response));
  bb_msg_mine_response_clear (&response);
}

static const char *const watch_fields[] = { "knownHeads", NULL };

static void
handle_watch (BbServer *self, Request *req)
{
  BbMsgWatchRequest request = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) changed = NULL;
  Watch *watch;

  if (!authenticate (self, req) || !check_body (req, watch_fields, NULL, NULL))
    return;
  if (!bb_msg_watch_request_parse (&request, req->body, req->body_len, &error))
    {
      respond_gerror (req, error);
      return;
    }
  changed = collect_changes (self, req->caller, request.known_heads, &error);
  if (changed == NULL)
    {
      respond_internal (req, error);
      goto out;
    }
  if (changed->len > 0)
    {
      BbMsgWatchResponse response = { changed, FALSE };
      respond_json_take (req, 200, bb_msg_watch_response_to_json (&response));
      goto out;
    }

  watch = g_new0 (Watch, 1);
  watch->self = self;
  watch->msg = g_object_ref (req->msg);
  watch->key_id = g_strdup (req->caller);
  watch->known_heads = g_steal_pointer (&request.known_heads);
  watch->timeout = g_timeout_source_new (self->watch_timeout_ms);
  g_source_set_callback (watch->timeout, watch_timeout_cb, watch, NULL);
  g_source_attach (watch->timeout, self->context);
  watch->disconnected_id
      = g_signal_connect (req->msg, "disconnected", G_CALLBACK (watch_disconnected_cb), watch);
  g_ptr_array_add (self->watches, watch);
  if (!req->paused)
    soup_server_message_pause (req->msg);
  req->held = TRUE;

out:
  bb_msg_watch_request_clear (&request);
}

static const char *const create_namespace_fields[] = { "namespaceId", "wrappedDek", NULL };

static void
handle_create_namespace (BbServer *self, Request *req)
{
  BbMsgCreateNamespaceRequest request = { 0 };
  BbMsgCreateNamespaceResponse response = { 0 };
  g_autoptr (GError) error = NULL;
  sqlite3_stmt *stmt;

  if (!authenticate (self, req) || !check_body (req, create_namespace_fields, NULL, NULL))
    return;
  if (!bb_msg_create_namespace_request_parse (&request, req->body, req->body_len, &error))
    {
      respond_gerror (req, error);
      return;
    }
  if (!validate_id (req, request.namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, "namespaceId")
      || !check_wrapped_dek (req, request.wrapped_dek))
    goto out;

  if (!bb_server_db_begin (self->db, &error))
    goto internal;
  stmt = bb_server_db_query (self->db, &error,
                             "SELECT kind, created_by FROM namespaces WHERE namespace_id = ?", "t",
                             request.namespace_id);
  if (stmt == NULL)
    goto internal;
  if (bb_server_db_step (self->db, stmt, &error))
    {
      /* A repeat by the creator (a lost response) is answered as a success. */
      gboolean repeat = g_str_equal ((const char *)sqlite3_column_text (stmt, 0),
                                     BB_PROTOCOL_NAMESPACE_KIND_SHARED)
                        && g_str_equal ((const char *)sqlite3_column_text (stmt, 1), req->caller);
      sqlite3_reset (stmt);
      bb_server_db_rollback (self->db);
      if (!repeat)
        {
          respond_error (req, 409, "namespaceId: namespace already exists");
          goto out;
        }
      response.created = FALSE;
    }
  else
    {
      sqlite3_reset (stmt);
      if (error != NULL)
        goto internal;
      if ((guint64)count_namespaces_of (self, req->caller, &error)
          >= self->limits[BB_SERVER_LIMIT_NAMESPACES_PER_KEY])
        {
          bb_server_db_rollback (self->db);
          respond_error (req, 429, "too many namespaces for this key");
          goto out;
        }
      if (error != NULL
          || !create_namespace (self, req, request.namespace_id, BB_PROTOCOL_NAMESPACE_KIND_SHARED,
                                request.wrapped_dek, &error)
          || !bb_server_db_commit (self->db, &error))
        goto internal;
      response.created = TRUE;
    }
  response.namespace_id = g_strdup (request.namespace_id);
  response.kind = g_strdup (BB_PROTOCOL_NAMESPACE_KIND_SHARED);
  respond_json_take (req, 200, bb_msg_create_namespace_response_to_json (&response));
  if (response.created)
    wake_watchers (self, response.namespace_id);
  goto out;

internal:
  respond_internal (req, error);
out:
  bb_msg_create_namespace_response_clear (&response);
  bb_msg_create_namespace_request_clear (&request);
}

static void
handle_members (BbServer *self, Request *req)
{
  const char *ns = req->params[0];
  g_autoptr (GError) error = NULL;
  BbMsgMembersResponse response = { 0 };
  sqlite3_stmt *stmt;

  if (!authenticate (self, req) || !require_member (self, req, ns, NULL))
    return;
  stmt = bb_server_db_query (self->db, &error,
                             "SELECT kind, key_id FROM members WHERE namespace_id = ? "
                             "ORDER BY joined_at, key_id",
                             "t", ns);
  if (stmt == NULL)
    {
      respond_internal (req, error);
      return;
    }
  response.namespace_id = g_strdup (ns);
  response.members = g_ptr_array_new_with_free_func ((GDestroyNotify)bb_msg_member_free);
  while (bb_server_db_step (self->db, stmt, &error))
    {
      BbMsgMember *member = g_new0 (BbMsgMember, 1);
      member->kind = bb_server_db_column_text (stmt, 0);
      member->key_id = bb_server_db_column_text (stmt, 1);
      g_ptr_array_add (response.members, member);
    }
  sqlite3_reset (stmt);
  if (error != NULL)
    respond_internal (req, error);
  else
    respond_json_take (req, 200, bb_msg_members_response_to_json (&response));
  bb_msg_members_response_clear (&response);
}

static void
handle_wrapped_dek (BbServer *self, Request *req)
{
  const char *ns = req->params[0];
  const char *key_id = req->params[1];
  g_autoptr (GError) error = NULL;
  BbMsgWrappedDekResponse response = { 0 };
  sqlite3_stmt *stmt;

  if (!authenticate (self, req) || !require_member (self, req, ns, NULL)
      || !validate_id (req, key_id, BB_PROTOCOL_KEY_ID_SIZE, "keyId"))
    return;
  if (!g_str_equal (key_id, req->caller))
    {
      respond_error (req, 403, "keyId: only the caller's own wrapped DEK can be read");
      return;
    }
  stmt = bb_server_db_query (
      self->db, &error, "SELECT wrapped_dek FROM members WHERE namespace_id = ? AND key_id = ?",
      "tt", ns, key_id);
  if (stmt == NULL)
    {
      respond_internal (req, error);
      return;
    }
  if (bb_server_db_step (self->db, stmt, &error))
    response.wrapped_dek = bb_server_db_column_text (stmt, 0);
  sqlite3_reset (stmt);
  if (error != NULL)
    {
      respond_internal (req, error);
      return;
    }
  if (response.wrapped_dek == NULL)
    {
      respond_error (req, 404, "no wrapped DEK for this member");
      return;
    }
  response.namespace_id = g_strdup (ns);
  response.key_id = g_strdup (key_id);
  respond_json_take (req, 200, bb_msg_wrapped_dek_response_to_json (&response));
  bb_msg_wrapped_dek_response_clear (&response);
}

/* ------------------------------------------------------------------------------------ */
/* Handlers: items */

static void
handle_items (BbServer *self, Request *req)
{
  const char *ns = req->params[0];
  g_autoptr (GError) error = NULL;
  BbMsgItemsResponse response = { 0 };
  sqlite3_stmt *stmt;

  if (!authenticate (self, req) || !require_member (self, req, ns, NULL))
    return;
  /* Single-threaded: the head and the items are read with no write in between. */
  response.namespace_head = bb_server_db_get_int (
      self->db, 0, &error, "SELECT head FROM namespaces WHERE namespace_id = ?", "t", ns);
  if (error != NULL)
    {
      respond_internal (req, error);
      return;
    }
  stmt = bb_server_db_query (self->db, &error,
                             "SELECT item_id, version FROM items WHERE namespace_id = ?", "t", ns);
  if (stmt == NULL)
    {
      respond_internal (req, error);
      return;
    }
  response.namespace_id = g_strdup (ns);
  response.items = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  while (bb_server_db_step (self->db, stmt, &error))
    {
      guint64 *version = g_new (guint64, 1);
      *version = sqlite3_column_int64 (stmt, 1);
      g_hash_table_insert (response.items, bb_server_db_column_text (stmt, 0), version);
    }
  sqlite3_reset (stmt);
  if (error != NULL)
    respond_internal (req, error);
  else
    respond_json_take (req, 200, bb_msg_items_response_to_json (&response));
  bb_msg_items_response_clear (&response);
}

static void
handle_item_get (BbServer *self, Request *req)
{
  const char *ns = req->params[0];
  const char *item_id = req->params[1];
  g_autoptr (GError) error = NULL;
  BbMsgItemResponse response = { 0 };
  sqlite3_stmt *stmt;

  if (!authenticate (self, req) || !require_member (self, req, ns, NULL)
      || !validate_id (req, item_id, BB_PROTOCOL_ITEM_ID_SIZE, "itemId"))
    return;
  stmt = bb_server_db_query (self->db, &error,
                             "SELECT version, nonce, aad, ciphertext FROM items "
                             "WHERE namespace_id = ? AND item_id = ?",
                             "tt", ns, item_id);
  if (stmt == NULL)
    {
      respond_internal (req, error);
      return;
    }
  if (bb_server_db_step (self->db, stmt, &error))
    {
      response.version = sqlite3_column_int64 (stmt, 0);
      response.nonce = bb_server_db_column_text (stmt, 1);
      response.aad = bb_server_db_column_text (stmt, 2);
      response.ciphertext = bb_server_db_column_text (stmt, 3);
    }
  sqlite3_reset (stmt);
  if (error != NULL)
    respond_internal (req, error);
  else if (response.nonce == NULL)
    respond_error (req, 404, "item not found");
  else
    {
      response.namespace_id = g_strdup (ns);
      response.item_id = g_strdup (item_id);
      respond_json_take (req, 200, bb_msg_item_response_to_json (&response));
    }
  bb_msg_item_response_clear (&response);
}

static const char *const put_item_fields[] = { "nonce", "aad", "ciphertext", NULL };

static void
handle_item_put (BbServer *self, Request *req)
{
  const char *ns = req->params[0];
  const char *item_id = req->params[1];
  BbMsgPutItemRequest request = { 0 };
  BbMsgPutItemResponse response = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) nonce = NULL;
  g_autoptr (GBytes) aad = NULL;
  g_autoptr (GBytes) expected_aad = NULL;
  g_autoptr (GBytes) ciphertext = NULL;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (req->msg);
  /* get_list joins repeated lines with ", " (a list, so malformed per spec §4.12);
   * get_one would silently keep just one of them. */
  const char *if_match = soup_message_headers_get_list (headers, "If-Match");
  gboolean has_version = FALSE;
  guint64 match_version = 0;
  guint64 new_version;
  gint64 current_version = 0;
  gint64 old_size = 0;
  gint64 item_count;
  gint64 stored_bytes;
  gsize ct_size;
  sqlite3_stmt *stmt;
  gboolean exists;

  if (!authenticate (self, req) || !require_member (self, req, ns, NULL)
      || !validate_id (req, item_id, BB_PROTOCOL_ITEM_ID_SIZE, "itemId"))
    return;
  if (if_match != NULL
      && !bb_protocol_parse_if_match (if_match, &has_version, &match_version, &error))
    {
      respond_error (req, 400, "%s", error->message);
      return;
    }
  if (has_version && match_version == G_MAXUINT64)
    {
      respond_error (req, 400, "If-Match: version out of range");
      return;
    }
  new_version = has_version ? match_version + 1 : 1;

  if (!check_body (req, put_item_fields, NULL, NULL))
    return;
  if (!bb_msg_put_item_request_parse (&request, req->body, req->body_len, &error))
    {
      respond_gerror (req, error);
      return;
    }
  nonce = decode_or_respond (req, bb_protocol_base64_decode, request.nonce, BB_PROTOCOL_NONCE_SIZE,
                             "nonce");
  if (nonce == NULL)
    goto out;
  aad = decode_or_respond (req, bb_protocol_base64_decode, request.aad, -1, "aad");
  if (aad == NULL)
    goto out;
  ciphertext
      = decode_or_respond (req, bb_protocol_base64_decode, request.ciphertext, -1, "ciphertext");
  if (ciphertext == NULL)
    goto out;
  ct_size = g_bytes_get_size (ciphertext);
  if (ct_size < BB_PROTOCOL_TAG_SIZE)
    {
      respond_error (req, 400, "ciphertext: shorter than the AEAD tag");
      goto out;
    }
  if (ct_size > BB_PROTOCOL_MAX_CIPHERTEXT_SIZE)
    {
      respond_error (req, 413, "ciphertext: larger than %d bytes", BB_PROTOCOL_MAX_CIPHERTEXT_SIZE);
      goto out;
    }
  /* The AAD holds no secret, so the server can insist that it names this namespace,
   * this item and the version the write creates. */
  expected_aad = bb_protocol_item_aad (ns, item_id, new_version, &error);
  if (expected_aad == NULL)
    goto internal;
  if (!g_bytes_equal (aad, expected_aad))
    {
      respond_error (
          req, 400,
          "aad: does not match the canonical AAD of namespace, item and version %" G_GUINT64_FORMAT,
          new_version);
      goto out;
    }

  if (!bb_server_db_begin (self->db, &error))
    goto internal;
  stmt = bb_server_db_query (self->db, &error,
                             "SELECT version, ciphertext_size FROM items "
                             "WHERE namespace_id = ? AND item_id = ?",
                             "tt", ns, item_id);
  if (stmt == NULL)
    goto internal;
  exists = bb_server_db_step (self->db, stmt, &error);
  if (exists)
    {
      current_version = sqlite3_column_int64 (stmt, 0);
      old_size = sqlite3_column_int64 (stmt, 1);
    }
  sqlite3_reset (stmt);
  if (error != NULL)
    goto internal;

  if (!has_version && exists)
    {
      bb_server_db_rollback (self->db);
      respond_error (req, 412, "item already exists");
      goto out;
    }
  if (has_version && (!exists || (guint64)current_version != match_version))
    {
      bb_server_db_rollback (self->db);
      respond_error (req, 412,
                     exists ? "item version does not match If-Match" : "item does not exist");
      goto out;
    }

  stmt = bb_server_db_query (self->db, &error,
                             "SELECT item_count, stored_bytes FROM namespaces "
                             "WHERE namespace_id = ?",
                             "t", ns);
  if (stmt == NULL)
    goto internal;
  if (!bb_server_db_step (self->db, stmt, &error))
    {
      sqlite3_reset (stmt);
      goto internal;
    }
  item_count = sqlite3_column_int64 (stmt, 0);
  stored_bytes = sqlite3_column_int64 (stmt, 1);
  sqlite3_reset (stmt);
  if (!exists && (guint64)item_count >= self->limits[BB_SERVER_LIMIT_ITEMS_PER_NAMESPACE])
    {
      bb_server_db_rollback (self->db);
      respond_error (req, 429, "namespace holds the maximum number of items");
      goto out;
    }
  if ((guint64)(stored_bytes - old_size + ct_size)
      > self->limits[BB_SERVER_LIMIT_BYTES_PER_NAMESPACE])
    {
      bb_server_db_rollback (self->db);
      respond_error (req, 429, "namespace storage quota exceeded");
      goto out;
    }

  if (!bb_server_db_exec (self->db, &error,
                          "INSERT OR REPLACE INTO items (namespace_id, item_id, version, nonce, "
                          "aad, ciphertext, ciphertext_size) VALUES (?, ?, ?, ?, ?, ?, ?)",
                          "ttittti", ns, item_id, (gint64)new_version, request.nonce, request.aad,
                          request.ciphertext, (gint64)ct_size)
      || !bb_server_db_exec (self->db, &error,
                             "UPDATE namespaces SET head = head + 1, item_count = item_count + ?, "
                             "stored_bytes = stored_bytes + ? WHERE namespace_id = ?",
                             "iit", (gint64)(exists ? 0 : 1), (gint64)ct_size - old_size, ns)
      || !bb_server_db_commit (self->db, &error))
    goto internal;

  response.namespace_id = g_strdup (ns);
  response.item_id = g_strdup (item_id);
  response.version = new_version;
  respond_json_take (req, 200, bb_msg_put_item_response_to_json (&response));
  wake_watchers (self, ns);
  goto out;

internal:
  respond_internal (req, error);
out:
  bb_msg_put_item_response_clear (&response);
  bb_msg_put_item_request_clear (&request);
}

/* ------------------------------------------------------------------------------------ */
/* Handlers: invites */

static const char *const create_invite_fields[] = { "kind",        "keyId",
                                                    "inviteId",    "inviteServerSecretHash",
                                                    "challenge",   "intentSignature",
                                                    "expiresAt",   "maxPending",
                                                    "maxAccepted", NULL };

static void
handle_create_invite (BbServer *self, Request *req)
{
  const char *ns = req->params[0];
  BbMsgCreateInviteRequest request = { 0 };
  BbMsgCreateInviteResponse response = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *kind = NULL;
  g_autofree char *bound_hash = NULL;
  g_autofree char *fields_hash = NULL;
  g_autoptr (GBytes) challenge = NULL;
  g_autoptr (GBytes) secret_hash = NULL;
  g_autoptr (GBytes) fields = NULL;
  g_autoptr (GBytes) intent = NULL;
  g_autoptr (GBytes) auth_public_key = NULL;
  gint64 active;

  if (!authenticate (self, req) || !require_member (self, req, ns, &kind))
    return;
  if (!check_body (req, create_invite_fields, NULL, NULL))
    return;
  if (!bb_msg_create_invite_request_parse (&request, req->body, req->body_len, &error))
    {
      respond_gerror (req, error);
      return;
    }
  if (!g_str_equal (kind, BB_PROTOCOL_NAMESPACE_KIND_SHARED))
    {
      respond_error (req, 403, "invites exist only for shared namespaces");
      goto out;
    }
  if (!g_str_equal (request.key_id, req->caller))
    {
      respond_error (req, 403, "keyId: is not the key of the bearer token");
      goto out;
    }
  if (!g_str_equal (request.kind, BB_PROTOCOL_KIND_KEYSTORE))
    {
      respond_error (req, 400, "kind: unsupported identity kind");
      goto out;
    }
  if (!validate_id (req, request.invite_id, BB_PROTOCOL_INVITE_ID_SIZE, "inviteId"))
    goto out;
  secret_hash = decode_or_respond (req, bb_protocol_lower_hex_decode,
                                   request.invite_server_secret_hash, 32, "inviteServerSecretHash");
  if (secret_hash == NULL)
    goto out;

  challenge = consume_challenge (self, req, request.challenge, BB_PROTOCOL_PURPOSE_SENSITIVE,
                                 BB_PROTOCOL_ACTION_CREATE_INVITE, &bound_hash);
  if (challenge == NULL)
    goto out;

  /* Ranges come before the signature check only where the fields cannot be built
   * otherwise; the signed fields use 32-bit counts and a non-negative expiry. */
  if (request.max_accepted < 1 || request.max_accepted > BB_PROTOCOL_MAX_ACCEPTED)
    {
      respond_error (req, 400, "maxAccepted: must be between 1 and %d", BB_PROTOCOL_MAX_ACCEPTED);
      goto out;
    }
  if (request.has_max_pending
      && (request.max_pending < 1
          || (guint64)request.max_pending > self->limits[BB_SERVER_LIMIT_PENDING_PER_INVITE]))
    {
      respond_error (req, 400, "maxPending: must be between 1 and %" G_GUINT64_FORMAT,
                     self->limits[BB_SERVER_LIMIT_PENDING_PER_INVITE]);
      goto out;
    }
  if (request.expires_at <= 0)
    {
      respond_error (req, 400, "expiresAt: must be positive");
      goto out;
    }

  fields = bb_protocol_create_invite_fields (ns, request.invite_id, secret_hash, request.expires_at,
                                             request.has_max_pending ? request.max_pending : 0,
                                             request.max_accepted, &error);
  if (fields == NULL)
    {
      respond_gerror (req, error);
      goto out;
    }
  fields_hash = bb_protocol_action_fields_hash (fields);
  if (g_strcmp0 (fields_hash, bound_hash) != 0)
    {
      respond_error (req, 400, "challenge: bound to other action fields");
      goto out;
    }
  if (!load_key (self, req->caller, &auth_public_key, NULL, NULL, &error))
    goto internal;
  intent = bb_protocol_sensitive_action_intent (BB_PROTOCOL_ACTION_CREATE_INVITE, challenge,
                                                request.kind, request.key_id, fields, &error);
  if (intent == NULL)
    {
      respond_gerror (req, error);
      goto out;
    }
  if (!verify_intent (req, auth_public_key, intent, request.intent_signature))
    goto out;

  if (request.expires_at <= req->now
      || request.expires_at > req->now + BB_PROTOCOL_MAX_INVITE_TTL + CLOCK_SKEW)
    {
      respond_error (req, 400, "expiresAt: must be in the future and at most %d s away",
                     BB_PROTOCOL_MAX_INVITE_TTL);
      goto out;
    }

  if (!bb_server_db_begin (self->db, &error))
    goto internal;
  active = bb_server_db_get_int (self->db, 0, &error,
                                 "SELECT COUNT(*) FROM invites WHERE namespace_id = ? "
                                 "AND revoked_at IS NULL AND expires_at > ?",
                                 "ti", ns, req->now);
  if (error != NULL)
    goto internal;
  if ((guint64)active >= self->limits[BB_SERVER_LIMIT_ACTIVE_INVITES])
    {
      bb_server_db_rollback (self->db);
      respond_error (req, 429, "namespace has the maximum number of active invites");
      goto out;
    }
  if (bb_server_db_get_int (self->db, 0, &error, "SELECT COUNT(*) FROM invites WHERE invite_id = ?",
                            "t", request.invite_id)
      > 0)
    {
      bb_server_db_rollback (self->db);
      respond_error (req, 409, "inviteId: invite already exists");
      goto out;
    }
  if (error != NULL)
    goto internal;
  {
    if (!bb_server_db_exec (self->db, &error,
                            "INSERT INTO invites (invite_id, namespace_id, created_by, created_at, "
                            "expires_at, max_pending, max_accepted, server_secret_hash) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            "tttiiIib", request.invite_id, ns, req->caller, req->now,
                            request.expires_at,
                            request.has_max_pending ? &request.max_pending : NULL,
                            request.max_accepted, secret_hash))
      goto internal;
  }
  if (!bb_server_db_commit (self->db, &error))
    goto internal;

  response.namespace_id = g_strdup (ns);
  response.invite_id = g_strdup (request.invite_id);
  response.expires_at = request.expires_at;
  response.has_max_pending = request.has_max_pending;
  response.max_pending = request.max_pending;
  response.max_accepted = request.max_accepted;
  respond_json_take (req, 200, bb_msg_create_invite_response_to_json (&response));
  goto out;

internal:
  respond_internal (req, error);
out:
  bb_msg_create_invite_response_clear (&response);
  bb_msg_create_invite_request_clear (&request);
}

static void
handle_list_invites (BbServer *self, Request *req)
{
  const char *ns = req->params[0];
  g_autoptr (GError) error = NULL;
  BbMsgListInvitesResponse response = { 0 };
  sqlite3_stmt *stmt;

  if (!authenticate (self, req) || !require_member (self, req, ns, NULL))
    return;
  stmt = bb_server_db_query (
      self->db, &error,
      "SELECT i.invite_id, i.created_by, i.created_at, i.expires_at, i.max_pending, "
      "i.max_accepted, i.accepted_count, i.revoked_at, "
      "(SELECT COUNT(*) FROM join_requests j WHERE j.invite_id = i.invite_id "
      " AND j.status = 'pending' AND j.expires_at > ?2) "
      "FROM invites i WHERE i.namespace_id = ?1 "
      "AND MIN(i.expires_at, COALESCE(i.revoked_at, i.expires_at)) > ?3 "
      "ORDER BY i.created_at, i.invite_id",
      "tii", ns, req->now, req->now - INVITE_RETENTION);
  if (stmt == NULL)
    {
      respond_internal (req, error);
      return;
    }
  response.namespace_id = g_strdup (ns);
  response.invites = g_ptr_array_new_with_free_func ((GDestroyNotify)bb_msg_invite_summary_free);
  while (bb_server_db_step (self->db, stmt, &error))
    {
      BbMsgInviteSummary *summary = g_new0 (BbMsgInviteSummary, 1);
      summary->invite_id = bb_server_db_column_text (stmt, 0);
      summary->created_by_key_id = bb_server_db_column_text (stmt, 1);
      summary->created_at = make_time (sqlite3_column_int64 (stmt, 2));
      summary->expires_at = sqlite3_column_int64 (stmt, 3);
      summary->has_max_pending = sqlite3_column_type (stmt, 4) != SQLITE_NULL;
      summary->max_pending = sqlite3_column_int64 (stmt, 4);
      summary->max_accepted = sqlite3_column_int64 (stmt, 5);
      summary->accepted_count = sqlite3_column_int64 (stmt, 6);
      if (sqlite3_column_type (stmt, 7) != SQLITE_NULL)
        summary->revoked_at = make_time (sqlite3_column_int64 (stmt, 7));
      summary->active_request_count = sqlite3_column_int64 (stmt, 8);
      g_ptr_array_add (response.invites, summary);
    }
  sqlite3_reset (stmt);
  if (error != NULL)
    respond_internal (req, error);
  else
    respond_json_take (req, 200, bb_msg_list_invites_response_to_json (&response));
  bb_msg_list_invites_response_clear (&response);
}

static void
handle_revoke_invite (BbServer *self, Request *req)
{
  const char *ns = req->params[0];
  const char *invite_id = req->params[1];
  g_autoptr (GError) error = NULL;
  BbMsgRevokeInviteResponse response = { 0 };
  gint64 exists;

  if (!authenticate (self, req) || !require_member (self, req, ns, NULL)
      || !validate_id (req, invite_id, BB_PROTOCOL_INVITE_ID_SIZE, "inviteId"))
    return;
  if (!bb_server_db_begin (self->db, &error))
    goto internal;
  exists = bb_server_db_get_int (self->db, 0, &error,
                                 "SELECT COUNT(*) FROM invites WHERE invite_id = ? "
                                 "AND namespace_id = ?",
                                 "tt", invite_id, ns);
  if (error != NULL)
    goto internal;
  if (exists == 0)
    {
      bb_server_db_rollback (self->db);
      respond_error (req, 404, "invite not found");
      return;
    }
  /* Revoking twice keeps the first revocation time and still reports success. */
  if (!bb_server_db_exec (self->db, &error,
                          "UPDATE invites SET revoked_at = ? WHERE invite_id = ? "
                          "AND revoked_at IS NULL",
                          "it", req->now, invite_id)
      || !bb_server_db_exec (self->db, &error,
                             "UPDATE join_requests SET status = 'cancelled' "
                             "WHERE invite_id = ? AND status = 'pending'",
                             "t", invite_id)
      || !bb_server_db_commit (self->db, &error))
    goto internal;
  response.namespace_id = (char *)ns;
  response.invite_id = (char *)invite_id;
  response.revoked = TRUE;
  respond_json_take (req, 200, bb_msg_revoke_invite_response_to_json (&response));
  return;

internal:
  respond_internal (req, error);
}

/* ------------------------------------------------------------------------------------ */
/* Handlers: join requests */

static const char *const submit_join_fields[] = { "inviteServerSecret", "joinRequest", NULL };
static const char *const join_request_fields[]
    = { "version",       "namespaceId",   "inviteId",  "serverOrigin", "kind",        "keyId",
        "authPublicKey", "wrapPublicKey", "expiresAt", "signature",    "inviteProof", NULL };

static gboolean
is_public_origin (BbServer *self, const char *origin)
{
  if (self->public_origins->len == 0)
    return g_str_equal (origin, DEFAULT_PUBLIC_ORIGIN);
  for (guint i = 0; i < self->public_origins->len; i++)
    if (g_str_equal (origin, g_ptr_array_index (self->public_origins, i)))
      return TRUE;
  return FALSE;
}

/* Checks @secret_text against the stored hash of @invite_id in constant time. */
static gboolean
check_invite_secret (BbServer *self, Request *req, const char *invite_id, const char *secret_text)
{
  g_autoptr (GBytes) secret = NULL;
  g_autoptr (GBytes) stored = NULL;
  g_autoptr (GError) error = NULL;
  guint8 digest[BB_CRYPTO_SHA256_SIZE];
  sqlite3_stmt *stmt;

  secret = decode_or_respond (req, bb_protocol_base64url_decode, secret_text, 32,
                              "inviteServerSecret");
  if (secret == NULL)
    return FALSE;
  stmt = bb_server_db_query (self->db, &error,
                             "SELECT server_secret_hash FROM invites WHERE invite_id = ?", "t",
                             invite_id);
  if (stmt == NULL)
    {
      respond_internal (req, error);
      return FALSE;
    }
  if (bb_server_db_step (self->db, stmt, &error))
    stored = bb_server_db_column_bytes (stmt, 0);
  sqlite3_reset (stmt);
  if (error != NULL)
    {
      respond_internal (req, error);
      return FALSE;
    }
  bb_crypto_sha256 (g_bytes_get_data (secret, NULL), g_bytes_get_size (secret), digest);
  if (stored == NULL || g_bytes_get_size (stored) != sizeof digest
      || !bb_crypto_equal (digest, g_bytes_get_data (stored, NULL), sizeof digest))
    {
      respond_error (req, 403, "inviteServerSecret: does not match the invite");
      return FALSE;
    }
  return TRUE;
}

static void
respond_join_entry (Request *req, const char *ns, const char *invite_id, const char *key_id,
                    const char *hash)
{
  BbMsgSubmitJoinResponse response = { 0 };

  response.namespace_id = (char *)ns;
  response.invite_id = (char *)invite_id;
  response.requester_kind = (char *)BB_PROTOCOL_KIND_KEYSTORE;
  response.requester_key_id = (char *)key_id;
  response.join_request_hash = (char *)hash;
  response.status = (char *)BB_PROTOCOL_JOIN_STATUS_PENDING;
  respond_json_take (req, 200, bb_msg_submit_join_response_to_json (&response));
}

static void
handle_submit_join (BbServer *self, Request *req)
{
  const char *ns = req->params[0];
  const char *invite_id = req->params[1];
  BbMsgSubmitJoinRequest request = { 0 };
  BbMsgJoinRequest *jr = &request.join_request;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) auth_public_key = NULL;
  g_autoptr (GBytes) wrap_public_key = NULL;
  g_autoptr (GBytes) registered_wrap = NULL;
  g_autoptr (GBytes) signature = NULL;
  g_autoptr (GBytes) proof = NULL;
  g_autoptr (GBytes) payload = NULL;
  g_autofree char *key_id = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *canonical = NULL;
  g_autofree char *stored_json = NULL;
  g_autofree char *existing_invite = NULL;
  g_autofree char *existing_hash = NULL;
  gint64 invite_expires_at = 0;
  gint64 max_pending = 0;
  gboolean revoked = FALSE;
  gboolean found = FALSE;
  sqlite3_stmt *stmt;
  gint64 count;

  if (!authenticate (self, req)
      || !validate_id (req, ns, BB_PROTOCOL_NAMESPACE_ID_SIZE, "namespaceId")
      || !validate_id (req, invite_id, BB_PROTOCOL_INVITE_ID_SIZE, "inviteId"))
    return;

  /* 1. The invite exists under this namespace, and is neither revoked nor expired. */
  stmt = bb_server_db_query (self->db, &error,
                             "SELECT expires_at, revoked_at IS NOT NULL, max_pending "
                             "FROM invites WHERE invite_id = ? AND namespace_id = ?",
                             "tt", invite_id, ns);
  if (stmt == NULL)
    {
      respond_internal (req, error);
      return;
    }
  if (bb_server_db_step (self->db, stmt, &error))
    {
      found = TRUE;
      invite_expires_at = sqlite3_column_int64 (stmt, 0);
      revoked = sqlite3_column_int (stmt, 1) != 0;
      max_pending = sqlite3_column_type (stmt, 2) != SQLITE_NULL
                        ? sqlite3_column_int64 (stmt, 2)
                        : (gint64)self->limits[BB_SERVER_LIMIT_PENDING_PER_INVITE];
    }
  sqlite3_reset (stmt);
  if (error != NULL)
    {
      respond_internal (req, error);
      return;
    }
  if (!found)
    {
      respond_error (req, 404, "invite not found");
      return;
    }
  if (revoked || invite_expires_at <= req->now)
    {
      respond_error (req, 410, revoked ? "invite revoked" : "invite expired");
      return;
    }

  if (!check_body (req, submit_join_fields, "joinRequest", join_request_fields))
    return;
  if (!bb_msg_submit_join_request_parse (&request, req->body, req->body_len, &error))
    {
      respond_gerror (req, error);
      return;
    }

  /* 2. The caller holds the invite token. */
  if (!check_invite_secret (self, req, invite_id, request.invite_server_secret))
    goto out;

  /* 3. The signed request. */
  if (jr->version != 1)
    {
      respond_error (req, 400, "joinRequest.version: unsupported version");
      goto out;
    }
  if (g_strcmp0 (jr->kind, BB_PROTOCOL_KIND_KEYSTORE) != 0)
    {
      respond_error (req, 400, "joinRequest.kind: unsupported identity kind");
      goto out;
    }
  if (g_strcmp0 (jr->namespace_id, ns) != 0 || g_strcmp0 (jr->invite_id, invite_id) != 0)
    {
      respond_error (req, 400, "joinRequest: namespaceId and inviteId must match the path");
      goto out;
    }
  canonical
      = jr->server_origin != NULL ? bb_protocol_canonical_origin (jr->server_origin, &error) : NULL;
  if (canonical == NULL || !g_str_equal (canonical, jr->server_origin))
    {
      respond_error (req, 400, "joinRequest.serverOrigin: not a canonical origin");
      goto out;
    }
  if (!is_public_origin (self, canonical))
    {
      respond_error (req, 400, "joinRequest.serverOrigin: not an origin of this server");
      goto out;
    }
  auth_public_key = decode_or_respond (req, bb_protocol_lower_hex_decode, jr->auth_public_key,
                                       BB_PROTOCOL_PUBLIC_KEY_SIZE, "joinRequest.authPublicKey");
  if (auth_public_key == NULL)
    goto out;
  if (!bb_protocol_check_auth_public_key (auth_public_key, "joinRequest.authPublicKey", &error))
    {
      respond_gerror (req, error);
      goto out;
    }
  wrap_public_key = decode_or_respond (req, bb_protocol_lower_hex_decode, jr->wrap_public_key,
                                       BB_PROTOCOL_PUBLIC_KEY_SIZE, "joinRequest.wrapPublicKey");
  if (wrap_public_key == NULL)
    goto out;
  signature = decode_or_respond (req, bb_protocol_lower_hex_decode, jr->signature,
                                 BB_PROTOCOL_SIGNATURE_SIZE, "joinRequest.signature");
  if (signature == NULL)
    goto out;
  proof = decode_or_respond (req, bb_protocol_base64url_decode, jr->invite_proof, 32,
                             "joinRequest.inviteProof");
  if (proof == NULL)
    goto out;
  key_id = bb_protocol_key_id (auth_public_key);
  if (g_strcmp0 (jr->key_id, key_id) != 0)
    {
      respond_error (req, 400, "joinRequest.keyId: is not SHA-256 of authPublicKey");
      goto out;
    }
  if (!g_str_equal (key_id, req->caller))
    {
      respond_error (req, 403, "joinRequest.keyId: is not the key of the bearer token");
      goto out;
    }
  if (!load_key (self, req->caller, NULL, &registered_wrap, NULL, &error))
    goto internal;
  if (!g_bytes_equal (registered_wrap, wrap_public_key))
    {
      respond_error (req, 403, "joinRequest.wrapPublicKey: differs from the registered key");
      goto out;
    }
  payload
      = bb_protocol_join_request_payload (ns, invite_id, canonical, jr->kind, jr->key_id,
                                          auth_public_key, wrap_public_key, jr->expires_at, &error);
  if (payload == NULL)
    {
      respond_gerror (req, error);
      goto out;
    }
  if (!bb_protocol_verify_signature (auth_public_key, payload, signature, &error))
    {
      respond_error (req, 403, "joinRequest.signature: the signature does not verify");
      goto out;
    }

  /* 4. Expiry within the invite's and the 10 minute bound. */
  if (jr->expires_at <= req->now
      || jr->expires_at
             > MIN (invite_expires_at, req->now + BB_PROTOCOL_MAX_JOIN_REQUEST_TTL + CLOCK_SKEW))
    {
      respond_error (req, 400,
                     "joinRequest.expiresAt: must be in the future, within %d s and not after "
                     "the invite expires",
                     BB_PROTOCOL_MAX_JOIN_REQUEST_TTL);
      goto out;
    }

  /* 5. and 6. Membership, an existing pending request, limits. */
  if (!bb_server_db_begin (self->db, &error))
    goto internal;
  if (is_member (self, ns, req->caller, NULL, &error))
    {
      bb_server_db_rollback (self->db);
      respond_error (req, 409, "already a member of this namespace");
      goto out;
    }
  if (error != NULL)
    goto internal;
  stmt = bb_server_db_query (self->db, &error,
                             "SELECT invite_id, request_hash FROM join_requests "
                             "WHERE namespace_id = ? AND key_id = ? AND status = 'pending' "
                             "AND expires_at > ? ORDER BY created_at LIMIT 1",
                             "tti", ns, req->caller, req->now);
  if (stmt == NULL)
    goto internal;
  if (bb_server_db_step (self->db, stmt, &error))
    {
      existing_invite = bb_server_db_column_text (stmt, 0);
      existing_hash = bb_server_db_column_text (stmt, 1);
    }
  sqlite3_reset (stmt);
  if (error != NULL)
    goto internal;
  if (existing_hash != NULL)
    {
      /* The requester already waits for approval here: answer with that request. */
      bb_server_db_rollback (self->db);
      respond_join_entry (req, ns, existing_invite, req->caller, existing_hash);
      goto out;
    }
  count = bb_server_db_get_int (self->db, 0, &error,
                                "SELECT COUNT(*) FROM join_requests WHERE invite_id = ? "
                                "AND status = 'pending' AND expires_at > ?",
                                "ti", invite_id, req->now);
  if (error != NULL)
    goto internal;
  if (count >= max_pending)
    {
      bb_server_db_rollback (self->db);
      respond_error (req, 429, "invite has the maximum number of pending join requests");
      goto out;
    }
  count = bb_server_db_get_int (self->db, 0, &error,
                                "SELECT COUNT(*) FROM join_requests WHERE key_id = ? "
                                "AND status = 'pending' AND expires_at > ?",
                                "ti", req->caller, req->now);
  if (error != NULL)
    goto internal;
  if ((guint64)count >= self->limits[BB_SERVER_LIMIT_PENDING_PER_REQUESTER])
    {
      bb_server_db_rollback (self->db);
      respond_error (req, 429, "too many pending join requests for this key");
      goto out;
    }

  /* 7. Store the request as sent (re-serialised from exactly the fields that were
   * checked; unknown fields were refused above), so approvers can rebuild the payload. */
  hash = bb_protocol_join_request_hash (payload);
  {
    g_autoptr (JsonNode) node = bb_msg_join_request_to_node (jr);
    stored_json = json_to_string (node, FALSE);
  }
  if (!bb_server_db_exec (self->db, &error,
                          "INSERT OR REPLACE INTO join_requests (namespace_id, key_id, "
                          "request_hash, invite_id, join_request, expires_at, created_at, status) "
                          "VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')",
                          "tttttii", ns, req->caller, hash, invite_id, stored_json, jr->expires_at,
                          req->now)
      || !bb_server_db_commit (self->db, &error))
    goto internal;
  respond_join_entry (req, ns, invite_id, req->caller, hash);
  goto out;

internal:
  respond_internal (req, error);
out:
  bb_msg_submit_join_request_clear (&request);
}

static void
handle_list_join_requests (BbServer *self, Request *req)
{
  const char *ns = req->params[0];
  g_autoptr (GError) error = NULL;
  BbMsgListJoinRequestsResponse response = { 0 };
  sqlite3_stmt *stmt;

  if (!authenticate (self, req) || !require_member (self, req, ns, NULL))
    return;
  stmt = bb_server_db_query (self->db, &error,
                             "SELECT invite_id, request_hash, created_at, join_request "
                             "FROM join_requests WHERE namespace_id = ? AND status = 'pending' "
                             "AND expires_at > ? ORDER BY created_at, key_id",
                             "ti", ns, req->now);
  if (stmt == NULL)
    {
      respond_internal (req, error);
      return;
    }
  response.namespace_id = g_strdup (ns);
  response.requests
      = g_ptr_array_new_with_free_func ((GDestroyNotify)bb_msg_join_request_entry_free);
  while (bb_server_db_step (self->db, stmt, &error))
    {
      BbMsgJoinRequestEntry *entry = g_new0 (BbMsgJoinRequestEntry, 1);
      g_autoptr (JsonNode) node = NULL;

      entry->invite_id = bb_server_db_column_text (stmt, 0);
      entry->join_request_hash = bb_server_db_column_text (stmt, 1);
      entry->created_at = make_time (sqlite3_column_int64 (stmt, 2));
      entry->status = g_strdup (BB_PROTOCOL_JOIN_STATUS_PENDING);
      node = json_from_string ((const char *)sqlite3_column_text (stmt, 3), &error);
      g_ptr_array_add (response.requests, entry);
      if (node == NULL
          || !bb_msg_join_request_from_node (&entry->join_request, node, "joinRequest", &error))
        break;
    }
  sqlite3_reset (stmt);
  if (error != NULL)
    respond_internal (req, error);
  else
    respond_json_take (req, 200, bb_msg_list_join_requests_response_to_json (&response));
  bb_msg_list_join_requests_response_clear (&response);
}

static const char *const approve_fields[] = { "inviteServerSecret", "wrappedDek", NULL };

static void
handle_approve (BbServer *self, Request *req)
{
  const char *ns = req->params[0];
  const char *key_id = req->params[1];
  const char *hash = req->params[2];
  BbMsgApproveRequest request = { 0 };
  BbMsgApproveResponse response = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *invite_id = NULL;
  gboolean invite_revoked = FALSE;
  gint64 accepted = 0;
  gint64 max_accepted = 0;
  sqlite3_stmt *stmt;

  if (!authenticate (self, req) || !require_member (self, req, ns, NULL)
      || !validate_id (req, key_id, BB_PROTOCOL_KEY_ID_SIZE, "keyId")
      || !validate_id (req, hash, 32, "joinRequestHash"))
    return;
  if (!check_body (req, approve_fields, NULL, NULL))
    return;
  if (!bb_msg_approve_request_parse (&request, req->body, req->body_len, &error))
    {
      respond_gerror (req, error);
      return;
    }
  if (!check_wrapped_dek (req, request.wrapped_dek))
    goto out;

  if (!bb_server_db_begin (self->db, &error))
    goto internal;
  stmt = bb_server_db_query (self->db, &error,
                             "SELECT j.invite_id, i.revoked_at IS NOT NULL, i.accepted_count, "
                             "i.max_accepted FROM join_requests j "
                             "JOIN invites i ON i.invite_id = j.invite_id "
                             "WHERE j.namespace_id = ? AND j.key_id = ? AND j.request_hash = ? "
                             "AND j.status = 'pending' AND j.expires_at > ?",
                             "ttti", ns, key_id, hash, req->now);
  if (stmt == NULL)
    goto internal;
  if (bb_server_db_step (self->db, stmt, &error))
    {
      invite_id = bb_server_db_column_text (stmt, 0);
      invite_revoked = sqlite3_column_int (stmt, 1) != 0;
      accepted = sqlite3_column_int64 (stmt, 2);
      max_accepted = sqlite3_column_int64 (stmt, 3);
    }
  sqlite3_reset (stmt);
  if (error != NULL)
    goto internal;
  if (invite_id == NULL)
    {
      bb_server_db_rollback (self->db);
      respond_error (req, 404, "no pending join request with this key and hash");
      goto out;
    }
  if (!check_invite_secret (self, req, invite_id, request.invite_server_secret))
    {
      bb_server_db_rollback (self->db);
      goto out;
    }
  if (invite_revoked)
    {
      bb_server_db_rollback (self->db);
      respond_error (req, 410, "invite revoked");
      goto out;
    }
  if (accepted >= max_accepted)
    {
      bb_server_db_rollback (self->db);
      respond_error (req, 429, "invite has reached maxAccepted");
      goto out;
    }
  if (is_member (self, ns, key_id, NULL, &error))
    {
      bb_server_db_rollback (self->db);
      respond_error (req, 409, "already a member of this namespace");
      goto out;
    }
  if (error != NULL)
    goto internal;
  if ((guint64)bb_server_db_get_int (self->db, 0, &error,
                                     "SELECT COUNT(*) FROM members WHERE namespace_id = ?", "t", ns)
      >= self->limits[BB_SERVER_LIMIT_MEMBERS_PER_NAMESPACE])
    {
      bb_server_db_rollback (self->db);
      respond_error (req, 429, "namespace has the maximum number of members");
      goto out;
    }
  if ((guint64)count_namespaces_of (self, key_id, &error)
      >= self->limits[BB_SERVER_LIMIT_NAMESPACES_PER_KEY])
    {
      bb_server_db_rollback (self->db);
      respond_error (req, 429, "the requester belongs to the maximum number of namespaces");
      goto out;
    }
  if (error != NULL
      || !bb_server_db_exec (self->db, &error,
                             "INSERT INTO members (namespace_id, key_id, kind, wrapped_dek, "
                             "joined_at) VALUES (?, ?, ?, ?, ?)",
                             "tttti", ns, key_id, BB_PROTOCOL_KIND_KEYSTORE, request.wrapped_dek,
                             req->now)
      || !bb_server_db_exec (self->db, &error,
                             "UPDATE join_requests SET status = 'approved' WHERE namespace_id = ? "
                             "AND key_id = ? AND request_hash = ?",
                             "ttt", ns, key_id, hash)
      || !bb_server_db_exec (self->db, &error,
                             "UPDATE invites SET accepted_count = accepted_count + 1 "
                             "WHERE invite_id = ?",
                             "t", invite_id)
      || !bb_server_db_commit (self->db, &error))
    goto internal;

  response.namespace_id = (char *)ns;
  response.member_kind = (char *)BB_PROTOCOL_KIND_KEYSTORE;
  response.member_key_id = (char *)key_id;
  response.join_request_hash = (char *)hash;
  respond_json_take (req, 200, bb_msg_approve_response_to_json (&response));
  wake_watchers (self, ns);
  goto out;

internal:
  respond_internal (req, error);
out:
  bb_msg_approve_request_clear (&request);
}

static void
handle_reject (BbServer *self, Request *req)
{
  const char *ns = req->params[0];
  const char *key_id = req->params[1];
  const char *hash = req->params[2];
  BbMsgRejectResponse response = { 0 };
  g_autoptr (GError) error = NULL;

  if (!authenticate (self, req) || !require_member (self, req, ns, NULL)
      || !validate_id (req, key_id, BB_PROTOCOL_KEY_ID_SIZE, "keyId")
      || !validate_id (req, hash, 32, "joinRequestHash"))
    return;
  if (!bb_server_db_exec (self->db, &error,
                          "UPDATE join_requests SET status = 'rejected' WHERE namespace_id = ? "
                          "AND key_id = ? AND request_hash = ? AND status = 'pending'",
                          "ttt", ns, key_id, hash))
    {
      respond_internal (req, error);
      return;
    }
  if (bb_server_db_changes (self->db) == 0)
    {
      respond_error (req, 404, "no pending join request with this key and hash");
      return;
    }
  response.namespace_id = (char *)ns;
  response.requester_key_id = (char *)key_id;
  response.join_request_hash = (char *)hash;
  response.rejected = TRUE;
  respond_json_take (req, 200, bb_msg_reject_response_to_json (&response));
}

/* ------------------------------------------------------------------------------------ */
/* Routing */

typedef struct
{
  const char *method;
  const char *pattern; /* segments after the leading '/', '*' captures one segment */
  Handler handler;
} Route;

static const Route routes[] = {
  { "GET", "health", handle_health },
  { "GET", "version", handle_version },
  { "POST", "v1/auth/challenge", handle_challenge },
  { "POST", "v1/auth/login", handle_login },
  { "POST", "v1/auth/refresh", handle_refresh },
  { "DELETE", "v1/auth/tokens", handle_revoke_tokens },
  { "GET", "v1/namespaces/default", handle_get_default },
  { "PUT", "v1/namespaces/default", handle_ensure_default },
  { "GET", "v1/namespaces/mine", handle_mine },
  { "POST", "v1/namespaces/watch", handle_watch },
  { "POST", "v1/namespaces", handle_create_namespace },
  { "GET", "v1/namespaces/*/members", handle_members },
  { "POST", "v1/namespaces/*/invites", handle_create_invite },
  { "GET", "v1/namespaces/*/invites", handle_list_invites },
  { "DELETE", "v1/namespaces/*/invites/*", handle_revoke_invite },
  { "POST", "v1/namespaces/*/invites/*/join-requests", handle_submit_join },
  { "GET", "v1/namespaces/*/join-requests", handle_list_join_requests },
  { "PUT", "v1/namespaces/*/join-requests/*/*/approve", handle_approve },
  { "DELETE", "v1/namespaces/*/join-requests/*/*", handle_reject },
  { "GET", "v1/namespaces/*/wrapped-deks/*", handle_wrapped_dek },
  { "GET", "v1/namespaces/*/items", handle_items },
  { "GET", "v1/kv/*/*", handle_item_get },
  { "PUT", "v1/kv/*/*", handle_item_put },
};

/* Matches @segments against @pattern; a fixed segment wins over '*' (so "default" is
 * never taken for a namespace ID) because fixed routes come first in the table. */
static gboolean
route_matches (const Route *route, char **segments, const char **params)
{
  g_auto (GStrv) pattern = g_strsplit (route->pattern, "/", -1);
  guint n = 0;
  guint i;

  for (i = 0; pattern[i] != NULL && segments[i] != NULL; i++)
    {
      if (g_str_equal (pattern[i], "*"))
        {
          if (segments[i][0] == '\0' || n >= MAX_PARAMS)
            return FALSE;
          params[n++] = segments[i];
        }
      else if (!g_str_equal (pattern[i], segments[i]))
        return FALSE;
    }
  return pattern[i] == NULL && segments[i] == NULL;
}

static void
route_request (BbServer *self, Request *req, const char *path)
{
  const char *method = soup_server_message_get_method (req->msg);
  g_auto (GStrv) segments = NULL;
  gboolean path_known = FALSE;
  GString *allow = NULL;

  if (path[0] != '/')
    {
      respond_error (req, 404, "404 page not found");
      return;
    }
  segments = g_strsplit (path + 1, "/", -1);
  for (gsize i = 0; i < G_N_ELEMENTS (routes); i++)
    {
      const char *params[MAX_PARAMS] = { NULL };

      if (!route_matches (&routes[i], segments, params))
        continue;
      /* "default", "mine" and "watch" are not namespace IDs. */
      if (strstr (routes[i].pattern, "namespaces/*") != NULL
          && (g_str_equal (params[0], "default") || g_str_equal (params[0], "mine")
              || g_str_equal (params[0], "watch")))
        continue;
      path_known = TRUE;
      if (g_str_equal (method, routes[i].method))
        {
          memcpy (req->params, params, sizeof params);
          routes[i].handler (self, req);
          if (allow != NULL)
            g_string_free (allow, TRUE);
          /* req->params point into @segments, which goes away now. */
          memset (req->params, 0, sizeof req->params);
          return;
        }
      if (allow == NULL)
        allow = g_string_new (routes[i].method);
      else
        g_string_append_printf (allow, ", %s", routes[i].method);
    }
  if (path_known)
    {
      SoupMessageHeaders *headers = soup_server_message_get_response_headers (req->msg);
      soup_message_headers_replace (headers, "Allow", allow->str);
      g_string_free (allow, TRUE);
      respond_error (req, 405, "method not allowed");
      return;
    }
  respond_error (req, 404, "404 page not found");
}

/* ------------------------------------------------------------------------------------ */
/* Fault injection and dispatch */

typedef struct
{
  char *method;      /* nullable: any */
  char *path_prefix; /* nullable: any */
  guint count;
  guint status;
} FailRule;

static void
fail_rule_free (FailRule *rule)
{
  g_free (rule->method);
  g_free (rule->path_prefix);
  g_free (rule);
}

/* The status of the first rule of bb_server_fail_next_requests() matching the request
 * (and counts it), else 0. */
static guint
fail_rule_take (BbServer *self, const char *method, const char *path)
{
  for (guint i = 0; i < self->fail_rules->len; i++)
    {
      FailRule *rule = g_ptr_array_index (self->fail_rules, i);
      guint status = rule->status;

      if ((rule->method != NULL && g_strcmp0 (rule->method, method) != 0)
          || (rule->path_prefix != NULL && !g_str_has_prefix (path, rule->path_prefix)))
        continue;
      if (--rule->count == 0)
        g_ptr_array_remove_index (self->fail_rules, i);
      return status;
    }
  return 0;
}

/* An injected error answer, with Retry-After on 429 and 503 when one is set. */
static void
respond_injected (BbServer *self, Request *req, guint status)
{
  respond_error (req, status, "injected fault");
  if ((status == 429 || status == 503) && self->retry_after > 0)
    {
      g_autofree char *value = g_strdup_printf ("%u", self->retry_after);

      soup_message_headers_replace (soup_server_message_get_response_headers (req->msg),
                                    "Retry-After", value);
    }
}

static gboolean
fault_roll (BbServer *self, double fraction)
{
  if (fraction <= 0.0)
    return FALSE;
  if (fraction >= 1.0)
    return TRUE;
  return g_rand_double (self->fault_rand) < fraction;
}

/* Writes the head and half the body of the response, then closes the connection: the
 * client sees a connection dropped mid-response. */
static void
drop_connection (SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_response_body (msg);
  g_autoptr (GBytes) flat = soup_message_body_flatten (body);
  g_autoptr (GIOStream) stream = soup_server_message_steal_connection (msg);
  g_autofree char *head = NULL;
  GOutputStream *out;
  gsize len = g_bytes_get_size (flat);

  if (stream == NULL)
    return;
  head = g_strdup_printf ("HTTP/1.1 %u %s\r\nContent-Type: application/json\r\n"
                          "Content-Length: %" G_GSIZE_FORMAT "\r\n\r\n",
                          soup_server_message_get_status (msg),
                          soup_status_get_phrase (soup_server_message_get_status (msg)), len + 16);
  out = g_io_stream_get_output_stream (stream);
  /* A few hundred bytes to a local socket buffer: this does not block. */
  g_output_stream_write_all (out, head, strlen (head), NULL, NULL, NULL);
  g_output_stream_write_all (out, g_bytes_get_data (flat, NULL), len / 2, NULL, NULL, NULL);
  g_io_stream_close (stream, NULL, NULL);
}

/* The server answers any Host and any client, and a web page can reach a server on the
 * machine it runs on (localhost, or a name rebound to it). Browsers label the requests
 * pages make: an Origin that is not this server's own (its base URL or a public origin,
 * when it serves through a proxy) or a Sec-Fetch-Site other than same-origin and none (a
 * URL the user opened) is a page elsewhere speaking to it, and is refused with 403.
 * Requiring JSON bodies to say so (415) keeps pages from sending them without a CORS
 * preflight, which the server never grants. Apps and the library send neither header,
 * and application/json. */
static gboolean
check_not_cross_site (BbServer *self, Request *req)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (req->msg);
  const char *origin = soup_message_headers_get_one (headers, "Origin");
  const char *fetch_site = soup_message_headers_get_one (headers, "Sec-Fetch-Site");

  if (origin != NULL && g_strcmp0 (origin, self->base_url) != 0 && !is_public_origin (self, origin))
    {
      respond_error (req, 403, "Origin: requests from web pages elsewhere are not accepted");
      return FALSE;
    }
  if (fetch_site != NULL && !g_str_equal (fetch_site, "same-origin")
      && !g_str_equal (fetch_site, "none"))
    {
      respond_error (req, 403,
                     "Sec-Fetch-Site: requests from web pages elsewhere are not accepted");
      return FALSE;
    }
  return TRUE;
}

/* Answers, before routing, the requests no handler takes: from web pages elsewhere, with
 * a body too large, or with a body that is not said to be JSON. */
static gboolean
admit_request (BbServer *self, Request *req, SoupMessageBody *body)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (req->msg);
  const char *type = soup_message_headers_get_content_type (headers, NULL);

  if (!check_not_cross_site (self, req))
    return FALSE;
  if ((guint64)body->length > self->limits[BB_SERVER_LIMIT_BODY_SIZE])
    {
      respond_error (req, 413, "request body too large");
      return FALSE;
    }
  if (body->length > 0 && (type == NULL || g_ascii_strcasecmp (type, "application/json") != 0))
    {
      respond_error (req, 415, "Content-Type: request bodies must be application/json");
      return FALSE;
    }
  return TRUE;
}

static void
process_request (BbServer *self, SoupServerMessage *msg, gboolean paused)
{
  GUri *uri = soup_server_message_get_uri (msg);
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  Request req = { 0 };
  g_autoptr (GBytes) flat = NULL;
  gboolean drop = fault_roll (self, self->drop_rate);
  guint injected;

  req.self = self;
  req.msg = msg;
  req.now = bb_server_get_now (self);
  req.paused = paused;

  if ((injected = fail_rule_take (self, soup_server_message_get_method (msg), g_uri_get_path (uri)))
      != 0)
    {
      respond_injected (self, &req, injected);
    }
  else if (fault_roll (self, self->error_rate))
    {
      respond_injected (self, &req, self->error_status);
    }
  else if (admit_request (self, &req, body))
    {
      flat = soup_message_body_flatten (body);
      req.body = g_bytes_get_data (flat, &req.body_len);
      if (req.body == NULL)
        req.body = "";
      route_request (self, &req, g_uri_get_path (uri));
    }

  if (!req.held)
    {
      if (soup_server_message_get_status (msg) == 0)
        respond_error (&req, 500, "internal server error");
      if (drop)
        drop_connection (msg);
      else if (paused)
        soup_server_message_unpause (msg);
    }
  g_free (req.caller);
}

typedef struct
{
  BbServer *self;
  SoupServerMessage *msg;
  GSource *source;
  gulong disconnected_id;
} Delayed;

static void
delayed_free (Delayed *delayed)
{
  g_source_destroy (delayed->source);
  g_source_unref (delayed->source);
  g_signal_handler_disconnect (delayed->msg, delayed->disconnected_id);
  g_object_unref (delayed->msg);
  g_free (delayed);
}

static gboolean
delayed_cb (gpointer user_data)
{
  Delayed *delayed = user_data;
  BbServer *self = delayed->self;
  SoupServerMessage *msg = g_object_ref (delayed->msg);

  g_ptr_array_remove_fast (self->delayed, delayed);
  process_request (self, msg, TRUE);
  g_object_unref (msg);
  return G_SOURCE_REMOVE;
}

static void
delayed_disconnected_cb (SoupServerMessage *msg, gpointer user_data)
{
  Delayed *delayed = user_data;

  g_ptr_array_remove_fast (delayed->self->delayed, delayed);
}

static void
server_callback (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                 gpointer user_data)
{
  BbServer *self = user_data;
  Delayed *delayed;

  if (self->latency_ms == 0)
    {
      process_request (self, msg, FALSE);
      return;
    }
  delayed = g_new0 (Delayed, 1);
  delayed->self = self;
  delayed->msg = g_object_ref (msg);
  delayed->source = g_timeout_source_new (self->latency_ms);
  g_source_set_callback (delayed->source, delayed_cb, delayed, NULL);
  g_source_attach (delayed->source, self->context);
  delayed->disconnected_id
      = g_signal_connect (msg, "disconnected", G_CALLBACK (delayed_disconnected_cb), delayed);
  g_ptr_array_add (self->delayed, delayed);
  soup_server_message_pause (msg);
}

/* Answers 413 and stops keeping the body: libsoup still reads the rest of it from the
 * connection (then closes), but drops it instead of accumulating it in memory. */
static void
refuse_oversize_body (SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);

  soup_message_body_set_accumulate (body, FALSE);
  soup_message_body_truncate (body);
  if (soup_server_message_get_status (msg) == 413)
    return;
  respond_error_msg (msg, 413, "request body too large");
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection",
                                "close");
}

/* Refuses a body announced as too large before reading it. */
static void
request_got_headers_cb (SoupServerMessage *msg, gpointer user_data)
{
  BbServer *self = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  goffset length = soup_message_headers_get_content_length (headers);

  if (length > (goffset)self->limits[BB_SERVER_LIMIT_BODY_SIZE])
    refuse_oversize_body (msg);
}

/* A chunked body announces no length: refuse it once it grows past the limit. */
static void
request_got_chunk_cb (SoupServerMessage *msg, GBytes *chunk, gpointer user_data)
{
  BbServer *self = user_data;
  SoupMessageBody *body = soup_server_message_get_request_body (msg);

  if ((guint64)body->length > self->limits[BB_SERVER_LIMIT_BODY_SIZE])
    refuse_oversize_body (msg);
}

static void
request_started_cb (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  g_signal_connect_object (msg, "got-headers", G_CALLBACK (request_got_headers_cb), user_data, 0);
  g_signal_connect_object (msg, "got-chunk", G_CALLBACK (request_got_chunk_cb), user_data, 0);
}

/* ------------------------------------------------------------------------------------ */
/* Connections: accepting, the connection cap and the request deadline
 *
 * The server accepts connections itself and hands them to libsoup, instead of letting
 * libsoup listen: libsoup stops accepting for good the first time accept() fails, which
 * running out of descriptors does (a few hundred idle connections were enough). Here,
 * accepting pauses while the connection cap is reached (further connections wait in the
 * kernel's listen queue), and for a moment when descriptors run out anyway (an
 * application embedding the server uses some too). A connection that takes longer than
 * the request timeout to deliver a request is closed, so idle or slow connections cannot
 * keep the cap reached. */

/* Connections waiting in the kernel's queue while accepting is paused. */
#define LISTEN_BACKLOG 128
/* How long accepting pauses after running out of descriptors. */
#define ACCEPT_RETRY_MS 100
/* Upper bound of the cap derived from RLIMIT_NOFILE. */
#define MAX_CONNECTION_CAP 16384

typedef struct
{
  BbServer *self;
  GSocketConnection *stream; /* weak: libsoup owns it; NULL once it is gone */
  char *peer;                /* its key in self->connections */
  GSource *deadline;         /* while the server waits for a request on it */
  GSource *closing;          /* once the deadline has passed */
} Connection;

static void connection_gone_cb (gpointer user_data, GObject *stream);

static void
connection_free (Connection *conn)
{
  if (conn->deadline != NULL)
    {
      g_source_destroy (conn->deadline);
      g_source_unref (conn->deadline);
    }
  if (conn->closing != NULL)
    {
      g_source_destroy (conn->closing);
      g_source_unref (conn->closing);
    }
  if (conn->stream != NULL)
    g_object_weak_unref (G_OBJECT (conn->stream), connection_gone_cb, conn);
  g_free (conn->peer);
  g_free (conn);
}

/* A quarter of the descriptors, plus 16, stays for everything that is not a connection:
 * the standard streams, the listening socket, the database and its journal files, GLib's
 * own descriptors and those of an application embedding the server. */
static guint
connection_cap_from_rlimit (void)
{
  struct rlimit limit;
  guint64 descriptors = 1024;
  guint64 reserved;

  if (getrlimit (RLIMIT_NOFILE, &limit) == 0)
    descriptors = limit.rlim_cur == RLIM_INFINITY ? G_MAXUINT64 : (guint64)limit.rlim_cur;
  reserved = descriptors / 4 + 16;
  if (descriptors <= reserved)
    return 1;
  return (guint)MIN (descriptors - reserved, MAX_CONNECTION_CAP);
}

static guint
connection_cap (BbServer *self)
{
  return self->max_connections != 0 ? self->max_connections : self->derived_connection_cap;
}

static gboolean accept_cb (GSocket *socket, GIOCondition condition, gpointer user_data);

/* Watches the listening socket while below the cap and not pausing after running out
 * of descriptors, and stops watching it otherwise. */
static void
update_accepting (BbServer *self)
{
  gboolean wanted = self->listen_socket != NULL && self->accept_retry == NULL
                    && g_hash_table_size (self->connections) < connection_cap (self);

  if (wanted && self->accept_source == NULL)
    {
      self->accept_source = g_socket_create_source (self->listen_socket, G_IO_IN, NULL);
      g_source_set_callback (self->accept_source, G_SOURCE_FUNC (accept_cb), self, NULL);
      g_source_attach (self->accept_source, self->context);
    }
  else if (!wanted && self->accept_source != NULL)
    {
      g_source_destroy (self->accept_source);
      g_clear_pointer (&self->accept_source, g_source_unref);
    }
}

static void
connection_gone_cb (gpointer user_data, GObject *stream)
{
  Connection *conn = user_data;
  BbServer *self = conn->self;

  conn->stream = NULL;
  g_hash_table_remove (self->connections, conn->peer);
  update_accepting (self);
}

/* Runs once libsoup has seen the end of the stream, as it gives the end of a stream
 * priority over idle work. libsoup 3.2 gives up a request cut short and lets its
 * connection go, but on a kept-alive connection it stops reading without closing or
 * releasing it (as when a client closes an idle connection): close it here, then. */
static gboolean
connection_close_cb (gpointer user_data)
{
  Connection *conn = user_data;
  BbServer *self = conn->self;

  g_clear_pointer (&conn->closing, g_source_unref);
  if (conn->stream != NULL)
    g_io_stream_close (G_IO_STREAM (conn->stream), NULL, NULL);
  g_hash_table_remove (self->connections, conn->peer);
  update_accepting (self);
  return G_SOURCE_REMOVE;
}

/* Ends a connection that was too slow to deliver its request: shutting it down ends the
 * stream for libsoup as well as for the client. */
static gboolean
connection_deadline_cb (gpointer user_data)
{
  Connection *conn = user_data;

  g_clear_pointer (&conn->deadline, g_source_unref);
  if (conn->stream != NULL)
    g_socket_shutdown (g_socket_connection_get_socket (conn->stream), TRUE, TRUE, NULL);
  conn->closing = g_idle_source_new ();
  g_source_set_priority (conn->closing, G_PRIORITY_LOW);
  g_source_set_callback (conn->closing, connection_close_cb, conn, NULL);
  g_source_attach (conn->closing, conn->self->context);
  return G_SOURCE_REMOVE;
}

static void
connection_wait_for_request (Connection *conn)
{
  if (conn->deadline != NULL || conn->closing != NULL)
    return;
  conn->deadline = g_timeout_source_new (conn->self->request_timeout_ms);
  g_source_set_callback (conn->deadline, connection_deadline_cb, conn, NULL);
  g_source_attach (conn->deadline, conn->self->context);
}

/* The connection @msg arrived on, found by the remote address (unique among open
 * connections) that the server gave libsoup with it. */
static Connection *
connection_of_message (BbServer *self, SoupServerMessage *msg)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);
  g_autofree char *peer = NULL;

  if (remote == NULL)
    return NULL;
  peer = g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (remote));
  return g_hash_table_lookup (self->connections, peer);
}

/* The server waits for a request from accepting a connection, and again from the end of
 * each response on a kept-alive one ("request-finished" and "request-aborted"; libsoup
 * starts the next message only once its first bytes arrive). */
static void
connection_request_done_cb (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  Connection *conn = connection_of_message (user_data, msg);

  if (conn != NULL)
    connection_wait_for_request (conn);
}

static void
connection_request_read_cb (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  Connection *conn = connection_of_message (user_data, msg);

  if (conn != NULL && conn->deadline != NULL)
    {
      g_source_destroy (conn->deadline);
      g_clear_pointer (&conn->deadline, g_source_unref);
    }
}

static void
serve_connection (BbServer *self, GSocket *socket)
{
  g_autoptr (GSocketConnection) stream = g_socket_connection_factory_create_connection (socket);
  g_autoptr (GSocketAddress) local = g_socket_get_local_address (socket, NULL);
  g_autoptr (GSocketAddress) remote = g_socket_get_remote_address (socket, NULL);
  g_autoptr (GError) error = NULL;
  Connection *conn;

  if (local == NULL || remote == NULL)
    {
      /* The client has already gone. */
      g_io_stream_close (G_IO_STREAM (stream), NULL, NULL);
      return;
    }
  g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);
  conn = g_new0 (Connection, 1);
  conn->self = self;
  conn->stream = stream;
  conn->peer = g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (remote));
  g_object_weak_ref (G_OBJECT (stream), connection_gone_cb, conn);
  /* A connection from the same address and port can only be a new one: the old one is
   * closed, only not yet released. */
  g_hash_table_replace (self->connections, conn->peer, conn);
  connection_wait_for_request (conn);
  if (!soup_server_accept_iostream (self->soup, G_IO_STREAM (stream), local, remote, &error))
    {
      g_debug ("bbsync-server: cannot serve a connection: %s", error->message);
      g_io_stream_close (G_IO_STREAM (stream), NULL, NULL);
    }
}

static gboolean
accept_retry_cb (gpointer user_data)
{
  BbServer *self = user_data;

  g_clear_pointer (&self->accept_retry, g_source_unref);
  update_accepting (self);
  return G_SOURCE_REMOVE;
}

static gboolean
accept_cb (GSocket *listen_socket, GIOCondition condition, gpointer user_data)
{
  BbServer *self = user_data;
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GError) error = NULL;

  socket = g_socket_accept (listen_socket, NULL, &error);
  if (socket != NULL)
    serve_connection (self, socket);
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES)
           || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE))
    {
      /* The connection stays queued; take it once descriptors are free again. */
      self->accept_retry = g_timeout_source_new (ACCEPT_RETRY_MS);
      g_source_set_callback (self->accept_retry, accept_retry_cb, self, NULL);
      g_source_attach (self->accept_retry, self->context);
    }
  /* Any other failure concerns that one connection (reset before it was accepted). */

  /* The source is destroyed here when the cap is reached or a retry is pending. */
  update_accepting (self);
  return G_SOURCE_CONTINUE;
}

/* libsoup keeps a connection open after a response only while it has a listening socket
 * of its own (request_finished() in soup-server.c checks for one; connections handed to
 * soup_server_accept_iostream() alone are closed after one request). Give it one that
 * can never accept anything: one end of a socket pair whose other end never writes. */
static gboolean
give_soup_idle_listener (BbServer *self, GError **error)
{
  int fds[2];
  g_autoptr (GSocket) soup_end = NULL;

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _ ("Cannot create a socket pair: %s"), g_strerror (saved_errno));
      return FALSE;
    }
  soup_end = g_socket_new_from_fd (fds[0], error);
  if (soup_end == NULL)
    {
      close (fds[0]);
      close (fds[1]);
      return FALSE;
    }
  self->idle_listener_peer = g_socket_new_from_fd (fds[1], error);
  if (self->idle_listener_peer == NULL)
    {
      close (fds[1]);
      return FALSE;
    }
  return soup_server_listen_socket (self->soup, soup_end, 0, error);
}

static GSocket *
open_listen_socket (GSocketAddress *address, GError **error)
{
  g_autoptr (GSocket) socket = NULL;

  socket = g_socket_new (g_socket_address_get_family (address), G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_DEFAULT, error);
  if (socket == NULL)
    return NULL;
  /* As libsoup does: an IPv6 address serves IPv6 only. */
  if (g_socket_address_get_family (address) == G_SOCKET_FAMILY_IPV6)
    g_socket_set_option (socket, IPPROTO_IPV6, IPV6_V6ONLY, TRUE, NULL);
  g_socket_set_blocking (socket, FALSE);
  g_socket_set_listen_backlog (socket, LISTEN_BACKLOG);
  if (!g_socket_bind (socket, address, TRUE, error) || !g_socket_listen (socket, error))
    return NULL;
  return g_steal_pointer (&socket);
}

/* ------------------------------------------------------------------------------------ */
/* Object */

static void
bb_server_finalize (GObject *object)
{
  BbServer *self = BB_SERVER (object);

  bb_server_shutdown (self);
  g_clear_pointer (&self->db, bb_server_db_free);
  g_clear_pointer (&self->database_path, g_free);
  g_clear_pointer (&self->public_origins, g_ptr_array_unref);
  /* The queues link the challenges in place: take each out of them before freeing it. */
  while (!g_queue_is_empty (&self->challenge_queue))
    evict_challenge (self, g_queue_peek_head (&self->challenge_queue));
  g_clear_pointer (&self->challenge_sources, g_hash_table_unref);
  g_clear_pointer (&self->challenges, g_hash_table_unref);
  g_clear_pointer (&self->connections, g_hash_table_unref);
  g_clear_pointer (&self->watches, g_ptr_array_unref);
  g_clear_pointer (&self->delayed, g_ptr_array_unref);
  g_clear_pointer (&self->fault_rand, g_rand_free);
  g_clear_pointer (&self->fail_rules, g_ptr_array_unref);
  g_clear_pointer (&self->context, g_main_context_unref);

  G_OBJECT_CLASS (bb_server_parent_class)->finalize (object);
}

static void
bb_server_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BbServer *self = BB_SERVER (object);

  switch (prop_id)
    {
      case PROP_DATABASE_PATH:
        g_value_set_string (value, self->database_path);
        break;
      case PROP_WATCH_TIMEOUT:
        g_value_set_uint (value, self->watch_timeout_ms);
        break;
      case PROP_TOKEN_LIFETIME:
        g_value_set_uint (value, self->token_lifetime);
        break;
      case PROP_CHALLENGE_LIFETIME:
        g_value_set_uint (value, self->challenge_lifetime);
        break;
      case PROP_CLOCK_OFFSET:
        g_value_set_int64 (value, self->clock_offset);
        break;
      case PROP_BASE_URL:
        g_value_set_string (value, self->base_url);
        break;
      case PROP_MAX_CONNECTIONS:
        g_value_set_uint (value, self->max_connections);
        break;
      case PROP_REQUEST_TIMEOUT:
        g_value_set_uint (value, self->request_timeout_ms);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bb_server_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  BbServer *self = BB_SERVER (object);

  switch (prop_id)
    {
      case PROP_DATABASE_PATH:
        self->database_path = g_value_dup_string (value);
        break;
      case PROP_WATCH_TIMEOUT:
        bb_server_set_watch_timeout (self, g_value_get_uint (value));
        break;
      case PROP_TOKEN_LIFETIME:
        bb_server_set_token_lifetime (self, g_value_get_uint (value));
        break;
      case PROP_CHALLENGE_LIFETIME:
        bb_server_set_challenge_lifetime (self, g_value_get_uint (value));
        break;
      case PROP_CLOCK_OFFSET:
        bb_server_set_clock_offset (self, g_value_get_int64 (value));
        break;
      case PROP_MAX_CONNECTIONS:
        bb_server_set_max_connections (self, g_value_get_uint (value));
        break;
      case PROP_REQUEST_TIMEOUT:
        bb_server_set_request_timeout (self, g_value_get_uint (value));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bb_server_class_init (BbServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = bb_server_finalize;
  object_class->get_property = bb_server_get_property;
  object_class->set_property = bb_server_set_property;

  properties[PROP_DATABASE_PATH] = g_param_spec_string (
      "database-path", NULL, NULL,
      ":memory:", G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_WATCH_TIMEOUT]
      = g_param_spec_uint ("watch-timeout", NULL, NULL, 1, G_MAXUINT, DEFAULT_WATCH_TIMEOUT_MS,
                           G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TOKEN_LIFETIME]
      = g_param_spec_uint ("token-lifetime", NULL, NULL, 1, G_MAXUINT, DEFAULT_TOKEN_LIFETIME,
                           G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_CHALLENGE_LIFETIME] = g_param_spec_uint (
      "challenge-lifetime", NULL, NULL, 1, G_MAXUINT, DEFAULT_CHALLENGE_LIFETIME,
      G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_CLOCK_OFFSET]
      = g_param_spec_int64 ("clock-offset", NULL, NULL, G_MININT32, G_MAXINT32, 0,
                            G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_BASE_URL]
      = g_param_spec_string ("base-url", NULL, NULL, NULL,
                             G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MAX_CONNECTIONS]
      = g_param_spec_uint ("max-connections", NULL, NULL, 0, G_MAXUINT, 0,
                           G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_REQUEST_TIMEOUT]
      = g_param_spec_uint ("request-timeout", NULL, NULL, 1, G_MAXUINT, DEFAULT_REQUEST_TIMEOUT_MS,
                           G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
bb_server_init (BbServer *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->public_origins = g_ptr_array_new_with_free_func (g_free);
  self->watch_timeout_ms = DEFAULT_WATCH_TIMEOUT_MS;
  self->request_timeout_ms = DEFAULT_REQUEST_TIMEOUT_MS;
  /* Keys are the connections' own peer text. */
  self->connections
      = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify)connection_free);
  self->token_lifetime = DEFAULT_TOKEN_LIFETIME;
  self->challenge_lifetime = DEFAULT_CHALLENGE_LIFETIME;
  /* Keys are the challenges' own text. */
  self->challenges
      = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify)challenge_free);
  g_queue_init (&self->challenge_queue);
  self->challenge_sources
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_queue_free);
  self->watches = g_ptr_array_new_with_free_func ((GDestroyNotify)watch_free);
  self->delayed = g_ptr_array_new_with_free_func ((GDestroyNotify)delayed_free);
  self->error_status = 500;
  self->fail_rules = g_ptr_array_new_with_free_func ((GDestroyNotify)fail_rule_free);
  self->fault_rand = g_rand_new ();
  memcpy (self->limits, default_limits, sizeof self->limits);
}

/**
 * bb_server_new:
 * @database_path: an SQLite file (created if missing) or ":memory:"
 * @error: return location for a #GError
 *
 * Creates a server on the thread-default main context, with its database opened (and
 * its schema created). Call bb_server_listen() to serve.
 *
 * Returns: (transfer full): the server, or %NULL when the database cannot be opened
 */
BbServer *
bb_server_new (const char *database_path, GError **error)
{
  g_autoptr (BbServer) self = NULL;

  g_return_val_if_fail (database_path != NULL, NULL);

  self = g_object_new (BB_TYPE_SERVER, "database-path", database_path, NULL);
  self->db = bb_server_db_open (database_path, error);
  if (self->db == NULL)
    return NULL;
  return g_steal_pointer (&self);
}

gboolean
bb_server_add_public_origin (BbServer *self, const char *origin, GError **error)
{
  g_autofree char *canonical = NULL;

  g_return_val_if_fail (BB_IS_SERVER (self), FALSE);
  g_return_val_if_fail (origin != NULL, FALSE);

  canonical = bb_protocol_canonical_origin (origin, error);
  if (canonical == NULL)
    return FALSE;
  if (!g_str_equal (canonical, origin))
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("Public origin “%s” is not canonical (the canonical form is “%s”)"), origin,
                   canonical);
      return FALSE;
    }
  for (guint i = 0; i < self->public_origins->len; i++)
    if (g_str_equal (canonical, g_ptr_array_index (self->public_origins, i)))
      return TRUE;
  g_ptr_array_add (self->public_origins, g_steal_pointer (&canonical));
  return TRUE;
}

void
bb_server_set_watch_timeout (BbServer *self, guint timeout_ms)
{
  g_return_if_fail (BB_IS_SERVER (self));

  timeout_ms = MAX (timeout_ms, 1);
  if (self->watch_timeout_ms == timeout_ms)
    return;
  self->watch_timeout_ms = timeout_ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WATCH_TIMEOUT]);
}

void
bb_server_set_max_connections (BbServer *self, guint max_connections)
{
  g_return_if_fail (BB_IS_SERVER (self));

  if (self->max_connections == max_connections)
    return;
  self->max_connections = max_connections;
  update_accepting (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_CONNECTIONS]);
}

void
bb_server_set_request_timeout (BbServer *self, guint timeout_ms)
{
  g_return_if_fail (BB_IS_SERVER (self));

  /* Connections already waiting keep their deadline. */
  timeout_ms = MAX (timeout_ms, 1);
  if (self->request_timeout_ms == timeout_ms)
    return;
  self->request_timeout_ms = timeout_ms;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REQUEST_TIMEOUT]);
}

void
bb_server_set_token_lifetime (BbServer *self, guint seconds)
{
  g_return_if_fail (BB_IS_SERVER (self));

  seconds = MAX (seconds, 1);
  if (self->token_lifetime == seconds)
    return;
  self->token_lifetime = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOKEN_LIFETIME]);
}

void
bb_server_set_challenge_lifetime (BbServer *self, guint seconds)
{
  g_return_if_fail (BB_IS_SERVER (self));

  seconds = MAX (seconds, 1);
  if (self->challenge_lifetime == seconds)
    return;
  self->challenge_lifetime = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CHALLENGE_LIFETIME]);
}

void
bb_server_set_clock_offset (BbServer *self, gint64 offset_seconds)
{
  g_return_if_fail (BB_IS_SERVER (self));

  if (self->clock_offset == offset_seconds)
    return;
  self->clock_offset = offset_seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CLOCK_OFFSET]);
}

gint64
bb_server_get_now (BbServer *self)
{
  g_return_val_if_fail (BB_IS_SERVER (self), 0);

  return g_get_real_time () / G_USEC_PER_SEC + self->clock_offset;
}

void
bb_server_set_require_attestation (BbServer *self, gboolean require)
{
  g_return_if_fail (BB_IS_SERVER (self));

  self->require_attestation = !!require;
}

void
bb_server_set_fault_seed (BbServer *self, guint32 seed)
{
  g_return_if_fail (BB_IS_SERVER (self));

  g_rand_set_seed (self->fault_rand, seed);
}

void
bb_server_set_limit (BbServer *self, BbServerLimit limit, guint64 value)
{
  g_return_if_fail (BB_IS_SERVER (self));
  g_return_if_fail (limit < BB_SERVER_N_LIMITS);

  self->limits[limit] = value;
}

guint64
bb_server_get_limit (BbServer *self, BbServerLimit limit)
{
  g_return_val_if_fail (BB_IS_SERVER (self), 0);
  g_return_val_if_fail (limit < BB_SERVER_N_LIMITS, 0);

  return self->limits[limit];
}

gboolean
bb_server_listen (BbServer *self, const char *host, guint port, GError **error)
{
  g_autoptr (GSocketAddress) address = NULL;
  g_autoptr (GSocketAddress) bound = NULL;
  GInetAddress *inet;
  g_autofree char *host_text = NULL;

  g_return_val_if_fail (BB_IS_SERVER (self), FALSE);
  g_return_val_if_fail (host != NULL, FALSE);
  g_return_val_if_fail (self->soup == NULL, FALSE);

  if (port > 65535)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT, _ ("Invalid port %u"), port);
      return FALSE;
    }
  address = g_inet_socket_address_new_from_string (host, port);
  if (address == NULL)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("Invalid listen address “%s” (expected a numeric IP address)"), host);
      return FALSE;
    }

  /* raw-paths: routes match the path as sent, so "%2f" is never taken for a "/". */
  self->soup = soup_server_new ("server-header", "bbsync-server/" PACKAGE_VERSION " ", "raw-paths",
                                TRUE, NULL);
  soup_server_add_handler (self->soup, NULL, server_callback, self, NULL);
  g_signal_connect (self->soup, "request-started", G_CALLBACK (request_started_cb), self);
  g_signal_connect (self->soup, "request-finished", G_CALLBACK (connection_request_done_cb), self);
  g_signal_connect (self->soup, "request-aborted", G_CALLBACK (connection_request_done_cb), self);
  g_signal_connect (self->soup, "request-read", G_CALLBACK (connection_request_read_cb), self);
  self->listen_socket = open_listen_socket (address, error);
  if (self->listen_socket == NULL || !give_soup_idle_listener (self, error))
    {
      bb_server_shutdown (self);
      return FALSE;
    }
  bound = g_socket_get_local_address (self->listen_socket, error);
  if (bound == NULL)
    {
      bb_server_shutdown (self);
      return FALSE;
    }
  self->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  self->derived_connection_cap = connection_cap_from_rlimit ();
  update_accepting (self);

  inet = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address));
  host_text = g_inet_address_to_string (inet);
  if (g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6)
    self->base_url = g_strdup_printf ("http://[%s]:%u", host_text, self->port);
  else
    self->base_url = g_strdup_printf ("http://%s:%u", host_text, self->port);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BASE_URL]);
  return TRUE;
}

const char *
bb_server_get_base_url (BbServer *self)
{
  g_return_val_if_fail (BB_IS_SERVER (self), NULL);

  return self->base_url;
}

guint
bb_server_get_port (BbServer *self)
{
  g_return_val_if_fail (BB_IS_SERVER (self), 0);

  return self->port;
}

void
bb_server_shutdown (BbServer *self)
{
  g_return_if_fail (BB_IS_SERVER (self));

  /* Forget paused messages first: disconnecting emits "disconnected" on them. */
  if (self->watches != NULL)
    g_ptr_array_set_size (self->watches, 0);
  if (self->delayed != NULL)
    g_ptr_array_set_size (self->delayed, 0);
  if (self->accept_source != NULL)
    {
      g_source_destroy (self->accept_source);
      g_clear_pointer (&self->accept_source, g_source_unref);
    }
  if (self->accept_retry != NULL)
    {
      g_source_destroy (self->accept_retry);
      g_clear_pointer (&self->accept_retry, g_source_unref);
    }
  if (self->listen_socket != NULL)
    {
      g_socket_close (self->listen_socket, NULL);
      g_clear_object (&self->listen_socket);
    }
  /* Forget the connections before libsoup closes them, as it may release them later. */
  if (self->connections != NULL)
    g_hash_table_remove_all (self->connections);
  if (self->soup != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->soup, self);
      soup_server_disconnect (self->soup);
      g_clear_object (&self->soup);
    }
  g_clear_object (&self->idle_listener_peer);
  g_clear_pointer (&self->base_url, g_free);
  self->port = 0;
}

void
bb_server_set_latency (BbServer *self, guint latency_ms)
{
  g_return_if_fail (BB_IS_SERVER (self));

  self->latency_ms = latency_ms;
}

void
bb_server_set_error_rate (BbServer *self, double fraction, guint status)
{
  g_return_if_fail (BB_IS_SERVER (self));
  g_return_if_fail (status == 0 || (status >= 400 && status <= 599));

  self->error_rate = CLAMP (fraction, 0.0, 1.0);
  self->error_status = status != 0 ? status : 500;
}

void
bb_server_set_retry_after (BbServer *self, guint seconds)
{
  g_return_if_fail (BB_IS_SERVER (self));

  self->retry_after = seconds;
}

void
bb_server_fail_next_requests (BbServer *self, const char *method, const char *path_prefix,
                              guint count, guint status)
{
  FailRule *rule;

  g_return_if_fail (BB_IS_SERVER (self));
  g_return_if_fail (status >= 400 && status <= 599);

  /* A new rule for the same requests replaces the old one; a count of 0 only removes. */
  for (guint i = self->fail_rules->len; i > 0; i--)
    {
      FailRule *old = g_ptr_array_index (self->fail_rules, i - 1);

      if (g_strcmp0 (old->method, method) == 0 && g_strcmp0 (old->path_prefix, path_prefix) == 0)
        g_ptr_array_remove_index (self->fail_rules, i - 1);
    }
  if (count == 0)
    return;
  rule = g_new0 (FailRule, 1);
  rule->method = g_strdup (method);
  rule->path_prefix = g_strdup (path_prefix);
  rule->count = count;
  rule->status = status;
  g_ptr_array_add (self->fail_rules, rule);
}

void
bb_server_set_drop_rate (BbServer *self, double fraction)
{
  g_return_if_fail (BB_IS_SERVER (self));

  self->drop_rate = CLAMP (fraction, 0.0, 1.0);
}

gboolean
bb_server_save_snapshot (BbServer *self, const char *name, GError **error)
{
  g_return_val_if_fail (BB_IS_SERVER (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  return bb_server_db_save_snapshot (self->db, name, error);
}

gboolean
bb_server_restore_snapshot (BbServer *self, const char *name, GError **error)
{
  g_return_val_if_fail (BB_IS_SERVER (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  if (!bb_server_db_restore_snapshot (self->db, name, error))
    return FALSE;
  /* Heads may have gone back: open watches compare with "≠", so they answer now. */
  wake_watchers (self, NULL);
  return TRUE;
}
