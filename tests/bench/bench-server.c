/* bench-server.c: requests per second and median latency of item GET and item PUT on
 * the reference server, with 1, 4 and 16 concurrent clients on loopback
 *
 * The server runs in its own thread (with its own main context, as a separate server
 * process would), the clients are async libsoup requests on the main thread; each
 * client keeps exactly one request in flight.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "bb-protocol.h"
#include "bb-server.h"
#include "bb-test-identity.h"
#include "bb-test-utils.h"
#include "server-test-client.h"

#define DURATION_US (2 * G_USEC_PER_SEC)

typedef struct
{
  GMutex lock;
  GCond cond;
  char *base;
  const char *database;
  GMainContext *context;
  GMainLoop *loop;
} ServerThread;

static gpointer
server_thread_main (gpointer data)
{
  ServerThread *st = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (BbServer) server = NULL;

  g_main_context_push_thread_default (st->context);
  server = bb_server_new (st->database, &error);
  g_assert_no_error (error);
  g_assert_true (bb_server_listen (server, "127.0.0.1", 0, &error));
  g_assert_no_error (error);

  g_mutex_lock (&st->lock);
  st->base = g_strdup (bb_server_get_base_url (server));
  g_cond_signal (&st->cond);
  g_mutex_unlock (&st->lock);

  g_main_loop_run (st->loop);
  bb_server_shutdown (server);
  g_clear_object (&server);
  g_main_context_pop_thread_default (st->context);
  return NULL;
}

typedef struct Bench Bench;

typedef struct
{
  Bench *bench;
  char *item;
  guint64 version;
  gint64 started;
  SoupMessage *msg; /* the request in flight */
} Client;

struct Bench
{
  Fixture *f;
  const char *token;
  GBytes *dek;
  const char *ns;
  gboolean put;
  gint64 deadline;
  GArray *latencies; /* gint64 µs */
  guint in_flight;
  guint failures;
  Client *clients;
};

static void client_send (Client *client);

static void
client_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Client *client = user_data;
  Bench *bench = client->bench;
  g_autoptr (SoupMessage) msg = g_steal_pointer (&client->msg);
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GError) error = NULL;
  gint64 latency = g_get_monotonic_time () - client->started;

  body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  bench->in_flight--;
  if (error != NULL || soup_message_get_status (msg) != 200)
    bench->failures++;
  else
    {
      g_array_append_val (bench->latencies, latency);
      if (bench->put)
        client->version++;
    }
  if (g_get_monotonic_time () < bench->deadline)
    client_send (client);
}

static void
client_send (Client *client)
{
  Bench *bench = client->bench;
  g_autofree char *url
      = g_strdup_printf ("%s/v1/kv/%s/%s", bench->f->base, bench->ns, client->item);
  g_autofree char *auth = g_strconcat ("Bearer ", bench->token, NULL);
  SoupMessageHeaders *headers;

  client->msg = soup_message_new (bench->put ? "PUT" : "GET", url);
  headers = soup_message_get_request_headers (client->msg);
  soup_message_headers_replace (headers, "Authorization", auth);
  if (bench->put)
    {
      /* Building and encrypting the body is client work, outside the measured time. */
      g_autofree char *body
          = item_body (bench->dek, bench->ns, client->item, client->version + 1, "bench value");
      g_autoptr (GBytes) bytes = g_bytes_new (body, strlen (body));
      if (client->version > 0)
        {
          g_autofree char *etag = bb_protocol_etag (client->version);
          soup_message_headers_replace (headers, "If-Match", etag);
        }
      soup_message_set_request_body_from_bytes (client->msg, "application/json", bytes);
    }
  bench->in_flight++;
  client->started = g_get_monotonic_time ();
  soup_session_send_and_read_async (bench->f->session, client->msg, G_PRIORITY_DEFAULT, NULL,
                                    client_done_cb, client);
}

static int
compare_int64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *)a;
  gint64 y = *(const gint64 *)b;

  return (x > y) - (x < y);
}

static void
run (Fixture *f, const char *token, GBytes *dek, const char *ns, gboolean put, guint n_clients,
     GPtrArray *items)
{
  Bench bench = { 0 };
  gint64 start;
  gint64 elapsed;
  double median_ms;

  bench.f = f;
  bench.token = token;
  bench.dek = dek;
  bench.ns = ns;
  bench.put = put;
  bench.latencies = g_array_new (FALSE, FALSE, sizeof (gint64));
  bench.clients = g_new0 (Client, n_clients);

  start = g_get_monotonic_time ();
  bench.deadline = start + DURATION_US;
  for (guint i = 0; i < n_clients; i++)
    {
      Client *client = &bench.clients[i];
      client->bench = &bench;
      client->item = g_ptr_array_index (items, i);
      client->version = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (f->session), client->item));
      client_send (client);
    }
  while (bench.in_flight > 0)
    g_main_context_iteration (NULL, TRUE);
  elapsed = g_get_monotonic_time () - start;

  /* Remember item versions for the next PUT round. */
  for (guint i = 0; i < n_clients; i++)
    g_object_set_data (G_OBJECT (f->session), bench.clients[i].item,
                       GSIZE_TO_POINTER ((gsize)bench.clients[i].version));

  g_array_sort (bench.latencies, compare_int64);
  median_ms = bench.latencies->len > 0
                  ? g_array_index (bench.latencies, gint64, bench.latencies->len / 2) / 1000.0
                  : 0.0;
  g_print ("item %-3s  clients %2u  requests %6u  failures %u  %8.0f req/s  median %.3f ms\n",
           put ? "PUT" : "GET", n_clients, bench.latencies->len, bench.failures,
           bench.latencies->len / (elapsed / (double)G_USEC_PER_SEC), median_ms);
  g_array_unref (bench.latencies);
  g_free (bench.clients);
}

int
main (int argc, char **argv)
{
  ServerThread st = { 0 };
  GThread *thread;
  Fixture f = { 0 };
  g_autoptr (BbTestIdentity) alice = NULL;
  g_autoptr (GBytes) dek = NULL;
  g_autoptr (GPtrArray) items = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *token = NULL;
  g_autofree char *ns = NULL;
  const guint clients[] = { 1, 4, 16 };

  /* Optional argument: an SQLite file to measure instead of an in-memory database. */
  st.database = argc > 1 ? argv[1] : ":memory:";
  g_mutex_init (&st.lock);
  g_cond_init (&st.cond);
  st.context = g_main_context_new ();
  st.loop = g_main_loop_new (st.context, FALSE);
  thread = g_thread_new ("bbsync-server", server_thread_main, &st);
  g_mutex_lock (&st.lock);
  while (st.base == NULL)
    g_cond_wait (&st.cond, &st.lock);
  g_mutex_unlock (&st.lock);

  f.base = st.base;
  f.session = soup_session_new_with_options ("max-conns", 64, "max-conns-per-host", 64, NULL);
  alice = bb_test_identity_new ("bench-alice");
  dek = bb_test_repeat (0x42, 32);
  token = login (&f, alice);
  ns = create_shared (&f, alice, token, dek);
  for (guint i = 0; i < 16; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *key = g_strdup_printf ("key-%u", i);
      char *item = bb_protocol_item_id (dek, "bench", key, &error);
      g_assert_no_error (error);
      g_ptr_array_add (items, item);
      /* Every item exists before the GET rounds. */
      put_item (&f, token, dek, ns, item, 0, "bench value");
      g_object_set_data (G_OBJECT (f.session), item, GSIZE_TO_POINTER (1));
    }

  g_print ("bbsync-server on %s, database %s, %d s per round\n", st.base, st.database,
           (int)(DURATION_US / G_USEC_PER_SEC));
  for (gsize i = 0; i < G_N_ELEMENTS (clients); i++)
    run (&f, token, dek, ns, FALSE, clients[i], items);
  for (gsize i = 0; i < G_N_ELEMENTS (clients); i++)
    run (&f, token, dek, ns, TRUE, clients[i], items);

  g_clear_object (&f.session);
  g_main_loop_quit (st.loop);
  g_thread_join (thread);
  g_main_loop_unref (st.loop);
  g_main_context_unref (st.context);
  g_free (st.base);
  return 0;
}
