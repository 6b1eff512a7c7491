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
#include <libsoup/soup.h>
#include <string.h>

#include "bb-error.h"
#include "bb-protocol.h"
#include "bb-protocol-private.h"

#define DEFAULT_WATCH_TIMEOUT_MS 30000
#define DEFAULT_REQUEST_TIMEOUT_MS 10000
#define DEFAULT_TOKEN_LIFETIME (90 * 24 * 3600)
#define DEFAULT_CHALLENGE_LIFETIME 120

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

  bb_server_parse_routes ();

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
  self->connections = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                             (GDestroyNotify)bb_server_connection_free);
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
  if (!g_ptr_array_find_with_equal_func (self->public_origins, canonical, g_str_equal, NULL))
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
  bb_server_update_accepting (self);
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
  soup_server_add_handler (self->soup, NULL, bb_server_soup_callback, self, NULL);
  g_signal_connect (self->soup, "request-started", G_CALLBACK (bb_server_request_started_cb), self);
  g_signal_connect (self->soup, "request-finished",
                    G_CALLBACK (bb_server_connection_request_done_cb), self);
  g_signal_connect (self->soup, "request-aborted",
                    G_CALLBACK (bb_server_connection_request_done_cb), self);
  g_signal_connect (self->soup, "request-read", G_CALLBACK (bb_server_connection_request_read_cb),
                    self);
  self->listen_socket = bb_server_open_listen_socket (address, error);
  if (self->listen_socket == NULL || !bb_server_give_soup_idle_listener (self, error))
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
  self->derived_connection_cap = bb_server_connection_cap_from_rlimit ();
  bb_server_update_accepting (self);

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
