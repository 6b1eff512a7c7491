/* bb-server-routes.c: the reference server's route table and the dispatch of each request
 * to its handler, after the checks every request passes (cross-site, body size and type);
 * kept apart from the object and from the handlers, which it only names.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-server-private.h"

#include <string.h>

#include "bb-protocol-messages-private.h"

#define DEFAULT_PUBLIC_ORIGIN "https://sync.example"

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
  return g_ptr_array_find_with_equal_func (self->public_origins, origin, g_str_equal, NULL);
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

void
bb_server_parse_routes (void)
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

void
bb_server_soup_callback (SoupServer *server, SoupServerMessage *msg, const char *path,
                         GHashTable *query, gpointer user_data)
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

void
bb_server_request_started_cb (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  g_signal_connect_object (msg, "got-headers", G_CALLBACK (request_got_headers_cb), user_data, 0);
  g_signal_connect_object (msg, "got-chunk", G_CALLBACK (request_got_chunk_cb), user_data, 0);
}
