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

#include "bb-server-private.h"

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

#define DEFAULT_WATCH_TIMEOUT_MS 30000
#define DEFAULT_REQUEST_TIMEOUT_MS 10000
#define DEFAULT_TOKEN_LIFETIME (90 * 24 * 3600)
#define DEFAULT_CHALLENGE_LIFETIME 120
#define DEFAULT_PUBLIC_ORIGIN "https://sync.example"

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

/* Health and version say something about the server itself, not about a resource. */

static void
handle_health (BbServer *self, BbServerRequest *req)
{
  BbMsgHealthResponse response = { (char *)"ok" };

  bb_server_respond_json_take (req, 200, bb_msg_health_response_to_json (&response));
}

static void
handle_version (BbServer *self, BbServerRequest *req)
{
  BbMsgVersionResponse response = { (char *)PACKAGE_VERSION };

  bb_server_respond_json_take (req, 200, bb_msg_version_response_to_json (&response));
}

gboolean
bb_server_is_public_origin (BbServer *self, const char *origin)
{
  if (self->public_origins->len == 0)
    return g_str_equal (origin, DEFAULT_PUBLIC_ORIGIN);
  for (guint i = 0; i < self->public_origins->len; i++)
    if (g_str_equal (origin, g_ptr_array_index (self->public_origins, i)))
      return TRUE;
  return FALSE;
}

typedef struct
{
  const char *method;
  const char *pattern; /* segments after the leading '/'; "{name}" captures one segment */
  BbServerHandler handler;
} Route;

static const Route routes[] = {
  { "GET", "health", handle_health },
  { "GET", "version", handle_version },
  { "POST", "v1/auth/challenge", bb_server_handle_challenge },
  { "POST", "v1/auth/login", bb_server_handle_login },
  { "POST", "v1/auth/refresh", bb_server_handle_refresh },
  { "DELETE", "v1/auth/tokens", bb_server_handle_revoke_tokens },
  { "GET", "v1/namespaces/default", bb_server_handle_get_default },
  { "PUT", "v1/namespaces/default", bb_server_handle_ensure_default },
  { "GET", "v1/namespaces/mine", bb_server_handle_mine },
  { "POST", "v1/namespaces/watch", bb_server_handle_watch },
  { "POST", "v1/namespaces", bb_server_handle_create_namespace },
  { "GET", "v1/namespaces/{namespaceId}/members", bb_server_handle_members },
  { "POST", "v1/namespaces/{namespaceId}/invites", bb_server_handle_create_invite },
  { "GET", "v1/namespaces/{namespaceId}/invites", bb_server_handle_list_invites },
  { "DELETE", "v1/namespaces/{namespaceId}/invites/{inviteId}", bb_server_handle_revoke_invite },
  { "POST", "v1/namespaces/{namespaceId}/invites/{inviteId}/join-requests",
    bb_server_handle_submit_join },
  { "GET", "v1/namespaces/{namespaceId}/join-requests", bb_server_handle_list_join_requests },
  { "PUT", "v1/namespaces/{namespaceId}/join-requests/{keyId}/{joinRequestHash}/approve",
    bb_server_handle_approve },
  { "DELETE", "v1/namespaces/{namespaceId}/join-requests/{keyId}/{joinRequestHash}",
    bb_server_handle_reject },
  { "GET", "v1/namespaces/{namespaceId}/wrapped-deks/{keyId}", bb_server_handle_wrapped_dek },
  { "GET", "v1/namespaces/{namespaceId}/items", bb_server_handle_items },
  { "GET", "v1/kv/{namespaceId}/{itemId}", bb_server_handle_item_get },
  { "PUT", "v1/kv/{namespaceId}/{itemId}", bb_server_handle_item_put },
};

/* The field of BbServerPathIds each capture of a pattern fills. */
static const struct
{
  const char *name;
  glong offset;
} captures[] = {
  { "{namespaceId}", G_STRUCT_OFFSET (BbServerPathIds, namespace_id) },
  { "{itemId}", G_STRUCT_OFFSET (BbServerPathIds, item_id) },
  { "{inviteId}", G_STRUCT_OFFSET (BbServerPathIds, invite_id) },
  { "{keyId}", G_STRUCT_OFFSET (BbServerPathIds, key_id) },
  { "{joinRequestHash}", G_STRUCT_OFFSET (BbServerPathIds, join_request_hash) },
};

#define MAX_SEGMENTS 8

/* A route pattern split once, at class initialisation, into its segments. */
typedef struct
{
  guint n_segments;
  char **segments;
  glong offsets[MAX_SEGMENTS]; /* of a capture in BbServerPathIds; -1 for a fixed segment */
  /* Of a capture: the fixed segments that routes with the same segments before it have at
   * its place, which it does not take (so "default" is never a namespace ID). */
  const char **reserved[MAX_SEGMENTS];
} ParsedRoute;

static ParsedRoute parsed_routes[G_N_ELEMENTS (routes)];

/* Whether @a and @b have the same first @n segments, counting any two captures as the same. */
static gboolean
same_prefix (const ParsedRoute *a, const ParsedRoute *b, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      if ((a->offsets[i] < 0) != (b->offsets[i] < 0))
        return FALSE;
      if (a->offsets[i] < 0 && !g_str_equal (a->segments[i], b->segments[i]))
        return FALSE;
    }
  return TRUE;
}

static void
parse_routes (void)
{
  for (gsize r = 0; r < G_N_ELEMENTS (routes); r++)
    {
      ParsedRoute *route = &parsed_routes[r];

      route->segments = g_strsplit (routes[r].pattern, "/", -1);
      route->n_segments = g_strv_length (route->segments);
      g_assert (route->n_segments <= MAX_SEGMENTS);
      for (guint i = 0; i < route->n_segments; i++)
        {
          route->offsets[i] = -1;
          for (gsize c = 0; c < G_N_ELEMENTS (captures); c++)
            if (g_str_equal (route->segments[i], captures[c].name))
              route->offsets[i] = captures[c].offset;
          g_assert (route->offsets[i] >= 0 || route->segments[i][0] != '{');
        }
    }
  for (gsize r = 0; r < G_N_ELEMENTS (routes); r++)
    {
      ParsedRoute *route = &parsed_routes[r];

      for (guint i = 0; i < route->n_segments; i++)
        {
          GPtrArray *reserved;

          if (route->offsets[i] < 0)
            continue;
          reserved = g_ptr_array_new ();
          for (gsize o = 0; o < G_N_ELEMENTS (routes); o++)
            {
              const ParsedRoute *other = &parsed_routes[o];

              if (other->n_segments > i && other->offsets[i] < 0 && same_prefix (route, other, i))
                g_ptr_array_add (reserved, other->segments[i]);
            }
          g_ptr_array_add (reserved, NULL);
          route->reserved[i] = (const char **)g_ptr_array_free (reserved, FALSE);
        }
    }
}

/* Matches the segments of a request path against @route, filling @ids with what its
 * captures take. */
static gboolean
route_matches (const ParsedRoute *route, char **segments, guint n_segments, BbServerPathIds *ids)
{
  if (route->n_segments != n_segments)
    return FALSE;
  for (guint i = 0; i < n_segments; i++)
    {
      if (route->offsets[i] < 0)
        {
          if (!g_str_equal (route->segments[i], segments[i]))
            return FALSE;
        }
      else
        {
          if (segments[i][0] == '\0'
              || g_strv_contains ((const char *const *)route->reserved[i], segments[i]))
            return FALSE;
          G_STRUCT_MEMBER (const char *, ids, route->offsets[i]) = segments[i];
        }
    }
  return TRUE;
}

/* Routes on the path as sent (the server has raw-paths set): an encoded "/" stays part of
 * its segment. */
static void
route_request (BbServer *self, BbServerRequest *req, const char *path)
{
  const char *method = soup_server_message_get_method (req->msg);
  g_auto (GStrv) segments = NULL;
  guint n_segments;
  gboolean path_known = FALSE;
  GString *allow = NULL;

  if (path[0] != '/')
    {
      bb_server_respond_error (req, 404, "404 page not found");
      return;
    }
  segments = g_strsplit (path + 1, "/", -1);
  n_segments = g_strv_length (segments);
  for (gsize i = 0; i < G_N_ELEMENTS (routes); i++)
    {
      BbServerPathIds ids = { NULL };

      if (!route_matches (&parsed_routes[i], segments, n_segments, &ids))
        continue;
      path_known = TRUE;
      if (g_str_equal (method, routes[i].method))
        {
          req->ids = ids;
          routes[i].handler (self, req);
          if (allow != NULL)
            g_string_free (allow, TRUE);
          /* req->ids point into @segments, which goes away now. */
          memset (&req->ids, 0, sizeof req->ids);
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
      bb_server_respond_error (req, 405, "method not allowed");
      return;
    }
  bb_server_respond_error (req, 404, "404 page not found");
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
check_not_cross_site (BbServer *self, BbServerRequest *req)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (req->msg);
  const char *origin = soup_message_headers_get_one (headers, "Origin");
  const char *fetch_site = soup_message_headers_get_one (headers, "Sec-Fetch-Site");

  if (origin != NULL && g_strcmp0 (origin, self->base_url) != 0
      && !bb_server_is_public_origin (self, origin))
    {
      bb_server_respond_error (req, 403,
                               "Origin: requests from web pages elsewhere are not accepted");
      return FALSE;
    }
  if (fetch_site != NULL && !g_str_equal (fetch_site, "same-origin")
      && !g_str_equal (fetch_site, "none"))
    {
      bb_server_respond_error (
          req, 403, "Sec-Fetch-Site: requests from web pages elsewhere are not accepted");
      return FALSE;
    }
  return TRUE;
}

/* Answers, before routing, the requests no handler takes: from web pages elsewhere, with
 * a body too large, or with a body that is not said to be JSON. */
static gboolean
admit_request (BbServer *self, BbServerRequest *req, SoupMessageBody *body)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (req->msg);
  const char *type = soup_message_headers_get_content_type (headers, NULL);

  if (!check_not_cross_site (self, req))
    return FALSE;
  if ((guint64)body->length > self->limits[BB_SERVER_LIMIT_BODY_SIZE])
    {
      bb_server_respond_error (req, 413, "request body too large");
      return FALSE;
    }
  if (body->length > 0 && (type == NULL || g_ascii_strcasecmp (type, "application/json") != 0))
    {
      bb_server_respond_error (req, 415, "Content-Type: request bodies must be application/json");
      return FALSE;
    }
  return TRUE;
}

void
bb_server_process_request (BbServer *self, SoupServerMessage *msg, gboolean paused)
{
  GUri *uri = soup_server_message_get_uri (msg);
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  BbServerRequest req = { 0 };
  g_autoptr (GBytes) flat = NULL;
  gboolean drop = bb_server_fault_roll (self, self->drop_rate);
  guint injected;

  req.self = self;
  req.msg = msg;
  req.now = bb_server_get_now (self);
  req.paused = paused;

  if ((injected = bb_server_fail_rule_take (self, soup_server_message_get_method (msg),
                                            g_uri_get_path (uri)))
      != 0)
    {
      bb_server_respond_injected (self, &req, injected);
    }
  else if (bb_server_fault_roll (self, self->error_rate))
    {
      bb_server_respond_injected (self, &req, self->error_status);
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
        bb_server_respond_error (&req, 500, "internal server error");
      if (drop)
        bb_server_drop_connection (msg);
      else if (paused)
        soup_server_message_unpause (msg);
    }
  g_free (req.caller);
}

static void
server_callback (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
                 gpointer user_data)
{
  BbServer *self = user_data;

  if (self->latency_ms == 0)
    {
      bb_server_process_request (self, msg, FALSE);
      return;
    }
  bb_server_delay_request (self, msg);
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
  bb_server_respond_error_msg (msg, 413, "request body too large");
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
  bb_server_clear_challenges (self);
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

  parse_routes ();

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
  self->challenges = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                            (GDestroyNotify)bb_server_challenge_free);
  g_queue_init (&self->challenge_queue);
  self->challenge_sources
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_queue_free);
  self->watches = g_ptr_array_new_with_free_func ((GDestroyNotify)bb_server_watch_free);
  self->delayed = g_ptr_array_new_with_free_func ((GDestroyNotify)bb_server_delayed_free);
  self->error_status = 500;
  self->fail_rules = g_ptr_array_new_with_free_func ((GDestroyNotify)bb_server_fail_rule_free);
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
  bb_server_wake_watchers (self, NULL);
  return TRUE;
}
