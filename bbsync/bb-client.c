/* bb-client.c: BbClient itself: its properties, its HTTP session and the check of its
 * base URL. Each endpoint lives in the bb-client-*.c file of its concern, and every one
 * of them runs through bb-client-transport.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-client.h"

#include "bb-i18n-private.h"
#include <libsoup/soup.h>
#include <string.h>

#include "bb-client-private.h"
#include "bb-error.h"
#include "bb-message-fields-private.h"

/**
 * BbClient:
 *
 * A client of the BitBoxSync HTTP API: one #SoupSession, one base URL, and one
 * `_async`/`_finish` pair per endpoint.
 *
 * Every call validates its arguments before sending anything (IDs must be lower-case
 * hex of the right size: %BB_SYNC_ERROR_INVALID_INPUT otherwise, passed to the callback
 * like any other error) and checks every
 * answer the way the reference client does: a wrong echoed ID, kind, version or
 * expiry, bad base64 or truncated JSON is %BB_SYNC_ERROR_PROTOCOL with a message
 * naming the field (an item whose ciphertext exceeds the protocol maximum
 * of 65 536 bytes, too). So is an answer body over 8 MiB, which the client stops
 * reading at the limit (dropping the connection) instead of holding it, and an answer
 * with a content coding: the client asks for none and decodes none. A status of 400 or
 * above is %BB_SYNC_ERROR_API with the message `HTTP <status>: <server text>`, where
 * the server text (from the first 4 KiB of the body; the rest is never read) is made
 * valid UTF-8, has its control characters and escape sequences replaced (line breaks
 * and tabs become spaces) and is cut to 512 bytes with an ellipsis;
 * [func@BbSync.SyncError.get_http_status] reads the status back. On a 429 or 503 with
 * a usable `Retry-After` header (delta-seconds or an HTTP-date) the message ends with
 * ` (retry after <seconds> s)`, at most %BB_SYNC_ERROR_RETRY_AFTER_MAX, and
 * [func@BbSync.SyncError.get_retry_after] reads the delay back; a malformed header is
 * ignored. Network and TLS errors pass through unchanged, cancellation ends in
 * %G_IO_ERROR_CANCELLED, and a request that outlasts [property@BbSync.Client:timeout] (which
 * bounds the whole exchange, not each read) ends in %G_IO_ERROR_TIMED_OUT.
 *
 * The client keeps the bearer token in [property@BbSync.Client:access-token]: a successful
 * login or refresh stores the new token (an RFC 6750 `b64token` of at most 4096
 * characters: anything else is %BB_SYNC_ERROR_PROTOCOL naming `accessToken`, and is
 * never stored), a successful revoke-all clears it, and every authenticated call sends
 * the current one. It never logs a token, a signature or a
 * request body; with `G_MESSAGES_DEBUG=BbSync` it logs each endpoint and its status.
 *
 * The client does not log in again by itself on a 401: that policy (and refreshing
 * ahead of expiry) belongs to the sync engine.
 *
 * Since: 0.1
 */

enum
{
  PROP_0,
  PROP_BASE_URL,
  PROP_ACCESS_TOKEN,
  PROP_TIMEOUT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (BbClient, bb_client, G_TYPE_OBJECT)

static void
bb_client_finalize (GObject *object)
{
  BbClient *self = BB_CLIENT (object);

  g_clear_object (&self->session);
  g_free (self->base_url);
  bb_msg_free_secret (&self->access_token);

  G_OBJECT_CLASS (bb_client_parent_class)->finalize (object);
}

static void
bb_client_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BbClient *self = BB_CLIENT (object);

  switch (prop_id)
    {
      case PROP_BASE_URL:
        g_value_set_string (value, self->base_url);
        break;
      case PROP_ACCESS_TOKEN:
        g_value_set_string (value, self->access_token);
        break;
      case PROP_TIMEOUT:
        g_value_set_uint (value, self->timeout);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bb_client_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  BbClient *self = BB_CLIENT (object);

  switch (prop_id)
    {
      case PROP_BASE_URL:
        {
          const char *url = g_value_get_string (value);
          gsize len = url != NULL ? strlen (url) : 0;

          /* Trailing slashes go; a path prefix stays. */
          while (len > 0 && url[len - 1] == '/')
            len--;
          g_free (self->base_url);
          self->base_url = g_strndup (url != NULL ? url : "", len);
        }
        break;
      case PROP_ACCESS_TOKEN:
        bb_client_set_access_token (self, g_value_get_string (value));
        break;
      case PROP_TIMEOUT:
        bb_client_set_timeout (self, g_value_get_uint (value));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bb_client_class_init (BbClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = bb_client_finalize;
  object_class->get_property = bb_client_get_property;
  object_class->set_property = bb_client_set_property;

  /**
   * BbClient:base-url:
   *
   * The base URL of the server, without trailing slashes. Request paths are appended
   * to it, so a path prefix (`https://example.org/sync`) is kept.
   *
   * Since: 0.1
   */
  properties[PROP_BASE_URL]
      = g_param_spec_string ("base-url", NULL, NULL, NULL,
                             G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * BbClient:access-token:
   *
   * The bearer token sent with authenticated requests, or %NULL. Login and refresh
   * set it, revoking all tokens clears it; the sync engine restores it from its store.
   * It is a secret: never log it.
   *
   * Since: 0.1
   */
  properties[PROP_ACCESS_TOKEN]
      = g_param_spec_string ("access-token", NULL, NULL, NULL,
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * BbClient:timeout:
   *
   * The request timeout in seconds (0 for none). It bounds the whole exchange of each
   * request, from connecting to the last byte of the answer, as the reference
   * client's HTTP timeout does: a server that trickles its answer cannot hold a call
   * longer. A request that runs out of time fails with %G_IO_ERROR_TIMED_OUT. A change
   * applies to requests started afterwards. The default, %BB_CLIENT_DEFAULT_TIMEOUT,
   * outlasts the server's long poll.
   *
   * Since: 0.1
   */
  properties[PROP_TIMEOUT]
      = g_param_spec_uint ("timeout", NULL, NULL, 0, G_MAXUINT, BB_CLIENT_DEFAULT_TIMEOUT,
                           G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
bb_client_init (BbClient *self)
{
  self->timeout = BB_CLIENT_DEFAULT_TIMEOUT;
  /* A user agent ending in a space gets libsoup's own appended. No libsoup I/O
   * timeout: each request's deadline bounds the whole exchange instead. */
  self->session
      = soup_session_new_with_options ("user-agent", "bbsync/" PACKAGE_VERSION " ", "timeout", 0,
                                       "max-conns-per-host", BB_CLIENT_MAX_CONNECTIONS, NULL);
  /* No content coding: the protocol needs none, and a decoder would turn a small
   * answer into an unbounded one. Without it, no Accept-Encoding is sent. */
  soup_session_remove_feature_by_type (self->session, SOUP_TYPE_CONTENT_DECODER);
}

static gboolean
host_is_loopback (const char *host)
{
  g_autoptr (GInetAddress) address = NULL;
  g_autofree char *unbracketed = NULL;

  if (g_ascii_strcasecmp (host, "localhost") == 0)
    return TRUE;
  if (host[0] == '[')
    {
      gsize len = strlen (host);

      if (len < 2 || host[len - 1] != ']')
        return FALSE;
      unbracketed = g_strndup (host + 1, len - 2);
      host = unbracketed;
    }
  address = g_inet_address_new_from_string (host);
  return address != NULL && g_inet_address_get_is_loopback (address);
}

/**
 * bb_client_new:
 * @base_url: the server's base URL, for example `https://sync.example.org`
 * @error: return location for a [struct@GLib.Error]
 *
 * Creates a client for the server at @base_url.
 *
 * The URL must be `https` (checked against the system trust store through
 * glib-networking). Plain `http` is accepted only for a loopback host (`localhost`,
 * `127.0.0.0/8`, `::1`), for development against a local server. Trailing slashes are
 * removed; a path prefix is kept.
 *
 * Returns: (transfer full): a new [class@BbSync.Client], or %NULL with %BB_SYNC_ERROR_INVALID_INPUT
 *
 * Since: 0.1
 */
BbClient *
bb_client_new (const char *base_url, GError **error)
{
  g_autoptr (GUri) uri = NULL;
  g_autoptr (GError) local_error = NULL;
  const char *scheme;
  const char *host;

  g_return_val_if_fail (base_url != NULL, NULL);

  uri = g_uri_parse (base_url, G_URI_FLAGS_NONE, &local_error);
  if (uri == NULL)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("base_url: “%s” is not a valid URL: %s"), base_url, local_error->message);
      return NULL;
    }

  scheme = g_uri_get_scheme (uri);
  host = g_uri_get_host (uri);
  if (host == NULL || host[0] == '\0')
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("base_url: “%s” has no host"), base_url);
      return NULL;
    }
  if (g_uri_get_userinfo (uri) != NULL || g_uri_get_query (uri) != NULL
      || g_uri_get_fragment (uri) != NULL)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("base_url: “%s” must not carry user information, a query or a fragment"),
                   base_url);
      return NULL;
    }
  if (g_ascii_strcasecmp (scheme, "https") != 0)
    {
      if (g_ascii_strcasecmp (scheme, "http") != 0)
        {
          g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                       _ ("base_url: the scheme must be https, not “%s”"), scheme);
          return NULL;
        }
      if (!host_is_loopback (host))
        {
          g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                       _ ("base_url: “%s”: plain http is only allowed for a loopback host, "
                          "for development, and “%s” is not one; use https"),
                       base_url, host);
          return NULL;
        }
    }

  return g_object_new (BB_TYPE_CLIENT, "base-url", base_url, NULL);
}

/* Whether the server is on this machine (its reachability does not depend on the
 * network: background sync ignores the network monitor for it). */
gboolean
bb_client_is_loopback (BbClient *self)
{
  g_autoptr (GUri) uri = g_uri_parse (self->base_url, G_URI_FLAGS_NONE, NULL);

  return uri != NULL && g_uri_get_host (uri) != NULL && host_is_loopback (g_uri_get_host (uri));
}

/**
 * bb_client_get_base_url:
 * @self: a [class@BbSync.Client]
 *
 * Gets the base URL of the server, [property@BbSync.Client:base-url]: the URL given to
 * [ctor@BbSync.Client.new] without its trailing slashes. Request paths are appended to it.
 *
 * Returns: (transfer none): the base URL, without trailing slashes, owned by the client
 *
 * Since: 0.1
 */
const char *
bb_client_get_base_url (BbClient *self)
{
  g_return_val_if_fail (BB_IS_CLIENT (self), NULL);

  return self->base_url;
}

/**
 * bb_client_dup_access_token:
 * @self: a [class@BbSync.Client]
 *
 * Gets a copy of the bearer token sent with authenticated requests,
 * [property@BbSync.Client:access-token]. A login or refresh sets it and a revoke-all clears it.
 *
 * The token is a secret: never log it, and free the copy as soon as it is no longer needed.
 *
 * Returns: (transfer full) (nullable): a copy of the bearer token, or %NULL when the
 *   client has none; free it with g_free()
 *
 * Since: 0.1
 */
char *
bb_client_dup_access_token (BbClient *self)
{
  g_return_val_if_fail (BB_IS_CLIENT (self), NULL);

  return g_strdup (self->access_token);
}

/**
 * bb_client_set_access_token:
 * @self: a [class@BbSync.Client]
 * @access_token: (nullable): the bearer token, or %NULL to send none
 *
 * Sets the bearer token sent with authenticated requests.
 *
 * The token must be an RFC 6750 `b64token` (ASCII letters, digits, `-`, `.`, `_`,
 * `~`, `+` and `/`, then optional `=`s) of at most 4096 characters, as every token a
 * login or refresh answer stores is. Anything else is a programmer error: it is
 * reported with a critical warning and the client fails closed, clearing the token
 * rather than keeping the previous one or sending a malformed header.
 *
 * Since: 0.1
 */
void
bb_client_set_access_token (BbClient *self, const char *access_token)
{
  g_return_if_fail (BB_IS_CLIENT (self));

  if (access_token != NULL && access_token[0] == '\0')
    access_token = NULL;
  if (access_token != NULL && !bb_client_access_token_is_valid (access_token))
    {
      /* Reported like a failed g_return_if_fail() (which never quotes the token), but
       * the old token does not survive. */
      g_return_if_fail_warning (G_LOG_DOMAIN, G_STRFUNC, "access_token is an RFC 6750 b64token");
      access_token = NULL;
    }
  if (g_strcmp0 (self->access_token, access_token) == 0)
    return;
  bb_msg_free_secret (&self->access_token);
  self->access_token = g_strdup (access_token);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACCESS_TOKEN]);
}

/**
 * bb_client_get_timeout:
 * @self: a [class@BbSync.Client]
 *
 * Gets the request timeout, [property@BbSync.Client:timeout]: how long a request may take, from
 * connecting to the last byte of the answer, before it fails with %G_IO_ERROR_TIMED_OUT.
 *
 * Returns: the request timeout in seconds, or 0 for none
 *
 * Since: 0.1
 */
guint
bb_client_get_timeout (BbClient *self)
{
  g_return_val_if_fail (BB_IS_CLIENT (self), 0);

  return self->timeout;
}

/**
 * bb_client_set_timeout:
 * @self: a [class@BbSync.Client]
 * @timeout: the timeout in seconds, 0 for none
 *
 * Sets how long a request may take, from connecting to the last byte of the answer,
 * before failing with %G_IO_ERROR_TIMED_OUT. Requests already under way keep the
 * timeout they started with. Keep it above the server's long-poll time.
 *
 * Since: 0.1
 */
void
bb_client_set_timeout (BbClient *self, guint timeout)
{
  g_return_if_fail (BB_IS_CLIENT (self));

  if (self->timeout == timeout)
    return;
  self->timeout = timeout;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIMEOUT]);
}
