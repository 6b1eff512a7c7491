/* bb-server-connections.c: the reference server's connections, which it accepts itself and
 * hands to libsoup, capped and given a deadline to deliver each request; kept apart because
 * it works around libsoup rather than serving the protocol.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-server-private.h"

#include "bb-i18n-private.h"
#include <errno.h>
#include <gio/gnetworking.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* The server accepts connections itself and hands them to libsoup, instead of letting
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

struct _Connection
{
  BbServer *self;
  GSocketConnection *stream; /* weak: libsoup owns it; NULL once it is gone */
  char *peer;                /* its key in self->connections */
  GSource *deadline;         /* while the server waits for a request on it */
  GSource *closing;          /* once the deadline has passed */
};

static void connection_gone_cb (gpointer user_data, GObject *stream);

void
bb_server_connection_free (Connection *conn)
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
guint
bb_server_connection_cap_from_rlimit (void)
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
void
bb_server_update_accepting (BbServer *self)
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
  bb_server_update_accepting (self);
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
  bb_server_update_accepting (self);
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
void
bb_server_connection_request_done_cb (SoupServer *server, SoupServerMessage *msg,
                                      gpointer user_data)
{
  Connection *conn = connection_of_message (user_data, msg);

  if (conn != NULL)
    connection_wait_for_request (conn);
}

void
bb_server_connection_request_read_cb (SoupServer *server, SoupServerMessage *msg,
                                      gpointer user_data)
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
  bb_server_update_accepting (self);
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
  bb_server_update_accepting (self);
  return G_SOURCE_CONTINUE;
}

/* libsoup keeps a connection open after a response only while it has a listening socket
 * of its own (request_finished() in soup-server.c checks for one; connections handed to
 * soup_server_accept_iostream() alone are closed after one request). Give it one that
 * can never accept anything: one end of a socket pair whose other end never writes. */
gboolean
bb_server_give_soup_idle_listener (BbServer *self, GError **error)
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

GSocket *
bb_server_open_listen_socket (GSocketAddress *address, GError **error)
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
