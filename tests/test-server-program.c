/* test-server-program.c: the bbsync-server program (options, the URL line, clean
 * shutdown on SIGTERM/SIGINT, and a consistent database after kill -9 during writes)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>

#include "bb-protocol-messages-private.h"
#include "bb-protocol.h"
#include "bb-test-identity.h"
#include "bb-test-utils.h"
#include "server-test-client.h"

static char *
server_path (void)
{
  const char *env = g_getenv ("BBSYNC_SERVER");

  if (env != NULL)
    return g_strdup (env);
  return g_test_build_filename (G_TEST_BUILT, "..", "server", "bbsync-server", NULL);
}

/* Runs the program to completion; returns its exit status and output. */
static int
run (const char *const *args, char **out_stdout, char **out_stderr)
{
  g_autofree char *path = server_path ();
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;

  g_ptr_array_add (argv, path);
  for (int i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer)args[i]);
  g_ptr_array_add (argv, NULL);
  proc
      = g_subprocess_newv ((const char *const *)argv->pdata,
                           G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, out_stdout, out_stderr, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (proc));
  return g_subprocess_get_exit_status (proc);
}

static void
test_options (void)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_assert_cmpint (run ((const char *[]){ "--version", NULL }, &out, &err), ==, 0);
  g_assert_cmpstr (out, ==, "bbsync-server " PACKAGE_VERSION "\n");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run ((const char *[]){ "--help", NULL }, &out, &err), ==, 0);
  for (const char *const *opt
       = (const char *[]){ "--listen", "--database", "--public-origin", "--watch-timeout-ms",
                           "--latency-ms", "--error-rate", "--error-status", "--retry-after",
                           "--drop-rate", "--max-connections", "--request-timeout-ms", NULL };
       *opt != NULL; opt++)
    g_assert_nonnull (strstr (out, *opt));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run ((const char *[]){ "--listen", "nonsense", NULL }, &out, &err), ==, 2);
  g_assert_nonnull (strstr (err, "--listen"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (
      run ((const char *[]){ "--database", ":memory:", "--public-origin",
                             "https://sync.example:443", "--listen", "127.0.0.1:0", NULL },
           &out, &err),
      ==, 2);
  g_assert_nonnull (strstr (err, "canonical"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run ((const char *[]){ "--error-rate", "2", NULL }, &out, &err), ==, 2);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run ((const char *[]){ "--retry-after", "-1", NULL }, &out, &err), ==, 2);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run ((const char *[]){ "--error-status", "404", NULL }, &out, &err), ==, 2);
}

typedef struct
{
  GSubprocess *proc;
  GDataInputStream *out;
} Server;

static void
server_free (Server *server)
{
  g_clear_object (&server->out);
  g_clear_object (&server->proc);
  g_free (server);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Server, server_free)

static void
limit_descriptors_cb (gpointer user_data)
{
  rlim_t limit = GPOINTER_TO_UINT (user_data);
  struct rlimit rlimit = { limit, limit };

  setrlimit (RLIMIT_NOFILE, &rlimit);
}

/* Starts bbsync-server on 127.0.0.1:0, with @extra_args (NULL: none) and at most
 * @descriptors open descriptors (0: as many as this process), and reads its URL from the
 * first line. */
static Server *
server_start_with (Fixture *f, const char *database, const char *const *extra_args,
                   guint descriptors)
{
  g_autofree char *path = server_path ();
  g_autoptr (GSubprocessLauncher) launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *line = NULL;
  Server *server = g_new0 (Server, 1);
  const char *prefix = "bbsync-server listening on ";
  const char *const args[] = { "--listen",        "127.0.0.1:0", "--database",         database,
                               "--public-origin", ORIGIN,        "--watch-timeout-ms", "500" };

  g_ptr_array_add (argv, path);
  for (gsize i = 0; i < G_N_ELEMENTS (args); i++)
    g_ptr_array_add (argv, (gpointer)args[i]);
  for (gsize i = 0; extra_args != NULL && extra_args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer)extra_args[i]);
  g_ptr_array_add (argv, NULL);
  if (descriptors != 0)
    g_subprocess_launcher_set_child_setup (launcher, limit_descriptors_cb,
                                           GUINT_TO_POINTER (descriptors), NULL);
  server->proc = g_subprocess_launcher_spawnv (launcher, (const char *const *)argv->pdata, &error);
  g_assert_no_error (error);
  server->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server->proc));
  line = g_data_input_stream_read_line_utf8 (server->out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  g_assert_true (g_str_has_prefix (line, prefix));
  g_free (f->base);
  f->base = g_strdup (line + strlen (prefix));
  g_assert_true (g_str_has_prefix (f->base, "http://127.0.0.1:"));
  return server;
}

static Server *
server_start (Fixture *f, const char *database)
{
  return server_start_with (f, database, NULL, 0);
}

static void
server_stop (Fixture *f, Server *server, int signum)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *rest = NULL;

  /* Open keep-alive connections must not keep the old process's sockets in use. */
  soup_session_abort (f->session);
  g_subprocess_send_signal (server->proc, signum);
  g_subprocess_wait (server->proc, NULL, &error);
  g_assert_no_error (error);
  if (signum == SIGKILL)
    {
      g_assert_true (g_subprocess_get_if_signaled (server->proc));
      return;
    }
  /* A clean exit, with a last word on standard output. */
  g_assert_true (g_subprocess_get_if_exited (server->proc));
  g_assert_cmpint (g_subprocess_get_exit_status (server->proc), ==, 0);
  rest = g_data_input_stream_read_upto (server->out, "", 0, NULL, NULL, &error);
  g_assert_nonnull (strstr (rest != NULL ? rest : "", "stopped"));
}

static void
test_signals (void)
{
  g_autoptr (BbTestIdentity) alice = bb_test_identity_new ("demo-alice");
  Fixture f = { 0 };
  int signals[] = { SIGTERM, SIGINT };

  f.session = soup_session_new ();
  for (gsize i = 0; i < G_N_ELEMENTS (signals); i++)
    {
      g_autoptr (Server) server = server_start (&f, ":memory:");
      g_autofree char *token = NULL;
      g_autofree char *health = expect (&f, 200, "GET", "/health", NULL, NULL, NULL);

      g_assert_cmpstr (health, ==, "{\"status\":\"ok\"}\n");
      token = login (&f, alice);
      expect_status (&f, 200, "GET", "/v1/namespaces/mine", token, NULL, NULL);
      /* An open long poll does not hold up the shutdown. */
      {
        g_autoptr (Call) watch = call_start (&f, "POST", "/v1/namespaces/watch", token,
                                             "{\"knownHeads\":{}}", -1, NULL);
        call_wait (watch);
      }
      server_stop (&f, server, signals[i]);
    }
  g_clear_object (&f.session);
  g_free (f.base);
}

/* kill -9 in the middle of a stream of writes: after a restart, the database opens,
 * every acknowledged write is there, every item decrypts, and the namespace head equals
 * the number of writes that happened (the sum of the item versions). */
typedef struct
{
  Fixture *f;
  char *token;
  GBytes *dek;
  char *ns;
  GPtrArray *items; /* item IDs */
  guint64 *acked;   /* per item: last acknowledged version */
  guint64 *next;    /* per item: version of the write in flight */
  guint in_flight;
  guint completed;
  gboolean stop;
} Writer;

static void writer_next (Writer *w, guint index);

static void
writer_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Call *call = user_data;
  Writer *w = g_object_get_data (G_OBJECT (call->msg), "writer");
  guint index = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (call->msg), "index"));

  call->body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &call->error);
  w->in_flight--;
  if (call->error == NULL && soup_message_get_status (call->msg) == 200)
    {
      w->acked[index] = w->next[index];
      w->completed++;
      if (!w->stop)
        writer_next (w, index);
    }
  call_free (call);
}

static void
writer_next (Writer *w, guint index)
{
  const char *item = g_ptr_array_index (w->items, index);
  guint64 version = w->acked[index] + 1;
  g_autofree char *body = item_body (w->dek, w->ns, item, version, "payload");
  g_autofree char *path = g_strdup_printf ("/v1/kv/%s/%s", w->ns, item);
  g_autofree char *url = g_strconcat (w->f->base, path, NULL);
  g_autofree char *auth = g_strconcat ("Bearer ", w->token, NULL);
  g_autoptr (GBytes) bytes = g_bytes_new (body, strlen (body));
  Call *call = g_new0 (Call, 1);

  call->msg = soup_message_new ("PUT", url);
  soup_message_headers_replace (soup_message_get_request_headers (call->msg), "Authorization",
                                auth);
  if (version > 1)
    {
      g_autofree char *etag = bb_protocol_etag (version - 1);
      soup_message_headers_replace (soup_message_get_request_headers (call->msg), "If-Match", etag);
    }
  soup_message_set_request_body_from_bytes (call->msg, "application/json", bytes);
  g_object_set_data (G_OBJECT (call->msg), "writer", w);
  g_object_set_data (G_OBJECT (call->msg), "index", GUINT_TO_POINTER (index));
  w->next[index] = version;
  w->in_flight++;
  soup_session_send_and_read_async (w->f->session, call->msg, G_PRIORITY_DEFAULT, NULL,
                                    writer_done_cb, call);
}

static void
test_kill9_during_writes (void)
{
  g_autoptr (BbTestIdentity) alice = bb_test_identity_new ("demo-alice");
  g_autoptr (GError) error = NULL;
  g_autofree char *tmpdir = g_dir_make_tmp ("bbsync-server-XXXXXX", &error);
  g_autofree char *db = g_build_filename (tmpdir, "server.db", NULL);
  const guint n_items = 8;
  Fixture f = { 0 };
  Writer w = { 0 };
  guint64 sum = 0;
  guint64 first_version = 0;
  guint listed = 0;

  g_assert_no_error (error);
  f.session = soup_session_new_with_options ("max-conns", 32, "max-conns-per-host", 32, NULL);
  {
    g_autoptr (Server) server = server_start (&f, db);

    w.f = &f;
    w.token = login (&f, alice);
    w.dek = bb_test_repeat (0x42, 32);
    w.ns = create_shared (&f, alice, w.token, w.dek);
    w.items = g_ptr_array_new_with_free_func (g_free);
    w.acked = g_new0 (guint64, n_items);
    w.next = g_new0 (guint64, n_items);
    for (guint i = 0; i < n_items; i++)
      {
        g_autofree char *key = g_strdup_printf ("k%u", i);
        g_ptr_array_add (w.items, bb_protocol_item_id (w.dek, "c", key, &error));
        g_assert_no_error (error);
      }
    for (guint i = 0; i < n_items; i++)
      writer_next (&w, i);
    while (w.completed < 200)
      g_main_context_iteration (NULL, TRUE);

    /* Writes are in flight right now. */
    g_assert_cmpuint (w.in_flight, >, 0);
    g_subprocess_send_signal (server->proc, SIGKILL);
    w.stop = TRUE;
    while (w.in_flight > 0)
      g_main_context_iteration (NULL, TRUE);
    server_stop (&f, server, SIGKILL);
  }

  {
    g_autoptr (Server) server = server_start (&f, db);
    g_autofree char *path = g_strdup_printf ("/v1/namespaces/%s/items", w.ns);
    g_autofree char *reply = expect (&f, 200, "GET", path, w.token, NULL, NULL);
    BbMsgItemsResponse items = { 0 };

    g_assert_true (bb_msg_items_response_parse (&items, reply, -1, &error));
    g_assert_no_error (error);
    for (guint i = 0; i < n_items; i++)
      {
        const guint64 *version = g_hash_table_lookup (items.items, g_ptr_array_index (w.items, i));
        guint64 read_version = 0;
        g_autofree char *text = NULL;

        if (version == NULL)
          {
            g_assert_cmpuint (w.acked[i], ==, 0);
            continue;
          }
        listed++;
        /* Every acknowledged write survived; at most the one in flight went further. */
        g_assert_cmpuint (*version, >=, w.acked[i]);
        g_assert_cmpuint (*version, <=, w.next[i]);
        sum += *version;
        if (i == 0)
          first_version = *version;
        text = get_item_plaintext (&f, w.token, w.dek, w.ns, g_ptr_array_index (w.items, i),
                                   &read_version);
        g_assert_cmpstr (text, ==, "payload");
        g_assert_cmpuint (read_version, ==, *version);
      }
    g_assert_cmpuint (listed, ==, g_hash_table_size (items.items));
    g_assert_cmpuint (items.namespace_head, ==, sum);
    g_assert_cmpuint (sum, >=, 200);
    bb_msg_items_response_clear (&items);
    g_assert_cmpuint (first_version, >, 0);

    /* And the server keeps serving writes. */
    put_item (&f, w.token, w.dek, w.ns, g_ptr_array_index (w.items, 0), first_version,
              "after restart");
    server_stop (&f, server, SIGTERM);
  }

  g_clear_object (&f.session);
  g_free (f.base);
  g_free (w.token);
  g_bytes_unref (w.dek);
  g_free (w.ns);
  g_ptr_array_unref (w.items);
  g_free (w.acked);
  g_free (w.next);
  {
    g_autoptr (GDir) dir = g_dir_open (tmpdir, 0, NULL);
    const char *name;
    while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *file = g_build_filename (tmpdir, name, NULL);
        g_unlink (file);
      }
    g_rmdir (tmpdir);
  }
}

/* A connection to the server at @base that sends the start of a request line and then
 * nothing more. */
static GSocket *
open_slow_connection (const char *base)
{
  g_autoptr (GUri) uri = g_uri_parse (base, G_URI_FLAGS_NONE, NULL);
  g_autoptr (GSocketAddress) address
      = g_inet_socket_address_new_from_string ("127.0.0.1", g_uri_get_port (uri));
  g_autoptr (GError) error = NULL;
  const char *partial = "GET /health HTTP/1.1\r\nHo";
  GSocket *socket;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  /* Bounds every wait below. */
  g_socket_set_timeout (socket, 20);
  g_assert_true (g_socket_connect (socket, address, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_socket_send (socket, partial, strlen (partial), NULL, &error), ==,
                   strlen (partial));
  g_assert_no_error (error);
  return socket;
}

/* With 64 descriptors, the server faces as many connections stuck in their request line
 * (libsoup alone took about 58 of them, then stopped accepting for good). The
 * connections past the cap derived from the limit wait, slow ones are dropped after the
 * request timeout, an authenticated request still succeeds, and once the slow ones are
 * gone the server goes on accepting. */
static void
test_descriptor_limit (void)
{
  g_autoptr (BbTestIdentity) alice = bb_test_identity_new ("demo-alice");
  g_autoptr (GPtrArray) slow = g_ptr_array_new_with_free_func (g_object_unref);
  const char *const args[] = { "--request-timeout-ms", "1000", NULL };
  g_autofree char *token = NULL;
  Fixture f = { 0 };

  /* The session timeout bounds the test when the server no longer accepts. */
  f.session = soup_session_new_with_options ("timeout", 30, NULL);
  {
    g_autoptr (Server) server = server_start_with (&f, ":memory:", args, 64);

    token = login (&f, alice);
    soup_session_abort (f.session);
    for (int i = 0; i < 64; i++)
      g_ptr_array_add (slow, open_slow_connection (f.base));

    expect_status (&f, 200, "GET", "/v1/namespaces/mine", token, NULL, NULL);
    /* The server dropped every slow connection (a bounded wait for each). */
    for (guint i = 0; i < slow->len; i++)
      {
        char buffer[64];
        g_autoptr (GError) error = NULL;
        gssize n
            = g_socket_receive (g_ptr_array_index (slow, i), buffer, sizeof buffer, NULL, &error);

        g_assert_no_error (error);
        g_assert_cmpint (n, ==, 0);
      }
    g_ptr_array_set_size (slow, 0);

    /* New connections, one per request. */
    for (int i = 0; i < 8; i++)
      {
        soup_session_abort (f.session);
        expect_status (&f, 200, "GET", "/v1/namespaces/mine", token, NULL, NULL);
      }
    server_stop (&f, server, SIGTERM);
  }
  g_clear_object (&f.session);
  g_free (f.base);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/server-program/options", test_options);
  g_test_add_func ("/server-program/signals", test_signals);
  g_test_add_func ("/server-program/kill9-during-writes", test_kill9_during_writes);
  g_test_add_func ("/server-program/descriptor-limit", test_descriptor_limit);

  return g_test_run ();
}
