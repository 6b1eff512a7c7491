/* bench-engine.c: bbsync-bench, the sync engine end to end against a bbsync-server
 * process on loopback
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Built by meson, run by hand (not by the test suite):
 *
 *   ninja -C _build tests/bench/bbsync-bench server/bbsync-server
 *   _build/tests/bench/bbsync-bench [--items N] [--uploads N] [--memory-store]
 *
 * It starts the bbsync-server program (the one of this build, or $BBSYNC_SERVER) on
 * 127.0.0.1 with a temporary SQLite database file (WAL), lets a writer engine (identity
 * A, device 1) upload N items of 200 bytes (string codec, memory backend; setup, not
 * measured), then measures, in one run, and prints one `NAME VALUE UNIT` line per figure:
 *
 *   initial_sync_N_s                  a fresh engine of identity A (empty store, memory
 *                                     backend whose scope lists the N keys) syncs the N
 *                                     items: one pass, default pipeline
 *   initial_sync_N_one_at_a_time_s    the same with bb_sync_engine_set_pipeline (1, 1): one
 *                                     request in flight, one store transaction per record
 *                                     (the reference client's pattern)
 *   initial_sync_speedup              one-at-a-time / default
 *   server_get_N_s                    N item GETs by a raw SoupSession with 16 in flight
 *                                     (no decryption, no store): the ceiling
 *   initial_sync_vs_ceiling           initial_sync_N_s / server_get_N_s
 *   noop_pass_N_ms                    a second pass of the default engine, nothing changed
 *   upload_U_s                        U local edits of the synced engine, one pass
 *   max_main_loop_stall_ms            longest gap seen by a 1 ms GLib timeout on the
 *                                     engine's main context during the default initial sync
 *   rss_growth_N_mib                  resident memory growth across the default initial sync
 *
 * The targets (N = 10 000, U = 1 000):
 *
 *   initial_sync_10000_s            <= 1.5 s
 *   initial_sync_speedup            >= 2.5
 *   initial_sync_vs_ceiling         <= 1.5
 *   noop_pass_10000_ms              <= 30 ms
 *   upload_1000_s                   <= 1 s
 *   max_main_loop_stall_ms          <= 20 ms
 *   rss_growth_10000_mib            <= 64 MiB
 *
 * The engines' stores are SQLite files in the temporary directory (WAL, default
 * synchronous mode), sealed with an app-supplied key; --memory-store uses in-memory
 * stores instead. The server limits a namespace to 10 000 items
 * (BB_SERVER_LIMIT_ITEMS_PER_NAMESPACE) and the program has no option to raise it, so
 * --items is at most 10 000. Every pass is bounded (PASS_TIMEOUT_S); the server is
 * stopped (SIGTERM, waitpid) and the temporary files removed at exit, also on failure
 * (a SIGKILL of the bench still stops the server, PR_SET_PDEATHSIG, but leaves the files).
 * The phases run in this order: setup upload, ceiling, default initial sync (the only one
 * watched by the 1 ms timeout and the RSS sampler), one-at-a-time initial sync, no-op
 * pass, upload pass. The ceiling's SoupSession has BbClient's options (libsoup's default
 * connection limits). To profile one phase with perf, see perf_control () below.
 * Figures only: nothing here asserts on time.
 */

#include "config.h"

#include <bbsync/bbsync.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "bb-sync-engine-private.h"
#include "bb-test-utils.h"

#ifndef BBSYNC_SERVER_PATH
#error "BBSYNC_SERVER_PATH must name the bbsync-server program of the build"
#endif

#define PASS_TIMEOUT_S 120
#define SERVER_START_TIMEOUT_MS 10000
#define SERVER_MAX_ITEMS 10000 /* BB_SERVER_LIMIT_ITEMS_PER_NAMESPACE */
#define VALUE_SIZE 200
#define CEILING_WINDOW 16
#define COLLECTION "bench"

/* ------------------------------------------------------------------------------------ */
/* The server process and the temporary files, cleaned up at exit and on fatal signals
 * (only async-signal-safe calls below). */

#define MAX_TMP_PATHS 32

static volatile pid_t server_pid = 0;
static int server_out_fd = -1;
static char tmp_dir[4096];
static char tmp_paths[MAX_TMP_PATHS][4096];
static volatile int n_tmp_paths = 0;

static void
stop_server (void)
{
  pid_t pid = server_pid;
  struct timespec tick = { 0, 10 * 1000 * 1000 };

  if (pid <= 0)
    return;
  server_pid = 0;
  kill (pid, SIGTERM);
  /* Five seconds for a clean shutdown, then SIGKILL. */
  for (int i = 0; i < 500; i++)
    {
      if (waitpid (pid, NULL, WNOHANG) != 0)
        goto reaped;
      nanosleep (&tick, NULL);
    }
  kill (pid, SIGKILL);
  waitpid (pid, NULL, 0);
reaped:
  if (server_out_fd >= 0)
    {
      close (server_out_fd);
      server_out_fd = -1;
    }
}

static void
remove_tmp_files (void)
{
  for (int i = 0; i < n_tmp_paths; i++)
    unlink (tmp_paths[i]);
  n_tmp_paths = 0;
  if (tmp_dir[0] != '\0')
    rmdir (tmp_dir);
  tmp_dir[0] = '\0';
}

static void
cleanup (void)
{
  stop_server ();
  remove_tmp_files ();
}

static void
on_fatal_signal (int sig)
{
  cleanup ();
  signal (sig, SIG_DFL);
  raise (sig);
}

static void
install_cleanup (void)
{
  const int sigs[] = { SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGINT, SIGTERM, SIGHUP };

  atexit (cleanup);
  for (gsize i = 0; i < G_N_ELEMENTS (sigs); i++)
    signal (sigs[i], on_fatal_signal);
}

static void die (const char *format, ...) G_GNUC_NORETURN G_GNUC_PRINTF (1, 2);

static void
die (const char *format, ...)
{
  va_list args;

  fflush (stdout);
  fputs ("bbsync-bench: ", stderr);
  va_start (args, format);
  vfprintf (stderr, format, args);
  va_end (args);
  fputc ('\n', stderr);
  exit (1); /* atexit: cleanup () */
}

/* An SQLite database at @name in the temporary directory; its files are removed at exit. */
static char *
tmp_database (const char *name)
{
  const char *suffixes[] = { "", "-wal", "-shm", "-journal" };
  char *path = g_build_filename (tmp_dir, name, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_assert (n_tmp_paths < MAX_TMP_PATHS);
      g_snprintf (tmp_paths[n_tmp_paths], sizeof tmp_paths[0], "%s%s", path, suffixes[i]);
      n_tmp_paths++;
    }
  return path;
}

static void
server_child_setup (gpointer user_data)
{
  /* The server also stops when the bench is killed outright. */
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

/* Starts the server and returns its base URL, read from the first line of its output. */
static char *
start_server (const char *program, const char *database)
{
  const char *argv[] = { program, "--listen", "127.0.0.1:0", "--database", database, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) line = g_string_new (NULL);
  gint64 deadline = g_get_monotonic_time () + SERVER_START_TIMEOUT_MS * 1000;
  GPid pid;
  const char *url;

  if (!g_spawn_async_with_pipes (NULL, (char **)argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                                 server_child_setup, NULL, &pid, NULL, &server_out_fd, NULL,
                                 &error))
    die ("cannot start %s: %s", program, error->message);
  server_pid = pid;

  while (strchr (line->str, '\n') == NULL)
    {
      struct pollfd pfd = { server_out_fd, POLLIN, 0 };
      gint64 left_ms = (deadline - g_get_monotonic_time ()) / 1000;
      char buf[256];
      ssize_t n;

      if (left_ms <= 0 || poll (&pfd, 1, (int)left_ms) == 0)
        die ("%s printed no URL within %d ms", program, SERVER_START_TIMEOUT_MS);
      n = read (server_out_fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        die ("%s exited before printing its URL", program);
      g_string_append_len (line, buf, n);
    }
  *strchr (line->str, '\n') = '\0';
  url = strrchr (line->str, ' ');
  url = url != NULL ? url + 1 : line->str;
  if (!g_str_has_prefix (url, "http://"))
    die ("unexpected first line from %s: %s", program, line->str);
  return g_strdup (url);
}

/* ------------------------------------------------------------------------------------ */
/* Bounded waits */

static gboolean
set_flag_cb (gpointer user_data)
{
  *(gboolean *)user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Iterates the main context until @slot is set (by bb_test_got_result), at most
 * PASS_TIMEOUT_S; aborts the bench past that. */
static GAsyncResult *
await_result (GAsyncResult **slot, const char *what)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add_seconds (PASS_TIMEOUT_S, set_flag_cb, &timed_out);

  while (*slot == NULL && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (*slot == NULL)
    die ("%s did not finish within %d s", what, PASS_TIMEOUT_S);
  g_source_remove (id);
  return *slot;
}

#define AWAIT(res, what, expr)                                                                     \
  G_STMT_START                                                                                     \
  {                                                                                                \
    g_clear_object (&(res));                                                                       \
    expr;                                                                                          \
    await_result (&(res), what);                                                                   \
  }                                                                                                \
  G_STMT_END

/* ------------------------------------------------------------------------------------ */
/* Devices: one engine each, with one collection in the default namespace */

typedef struct
{
  const char *name;
  BbClient *client;
  BbStore *store;
  BbSyncEngine *engine;
  BbValueBackend *backend;
  BbNamespace *ns;
  BbCollection *collection;
  guint downloaded;
  guint uploaded;
} Device;

static gboolean opt_memory_store = FALSE;

static void
on_downloaded (BbSyncEngine *engine, const char *ns, const char *collection, const char *key,
               const char *item_id, gpointer user_data)
{
  ((Device *)user_data)->downloaded++;
}

static void
on_uploaded (BbSyncEngine *engine, const char *ns, const char *collection, const char *key,
             const char *item_id, gpointer user_data)
{
  ((Device *)user_data)->uploaded++;
}

static Device *
device_new (const char *base, BbIdentity *identity, const char *name)
{
  Device *dev = g_new0 (Device, 1);
  g_autoptr (GBytes) store_key = bb_test_repeat (0x42, 32);
  g_autoptr (GError) error = NULL;
  g_autofree char *db_name = g_strdup_printf ("store-%s.db", name);
  g_autofree char *path = opt_memory_store ? NULL : tmp_database (db_name);
  BbSqliteStore *store;

  dev->name = name;
  dev->client = bb_client_new (base, &error);
  if (dev->client == NULL)
    die ("%s: client: %s", name, error->message);
  store = bb_sqlite_store_new_sync (path != NULL ? path : BB_SQLITE_STORE_IN_MEMORY, store_key,
                                    NULL, &error);
  if (store == NULL)
    die ("%s: store: %s", name, error->message);
  dev->store = BB_STORE (store);
  dev->engine = bb_sync_engine_new (dev->client, identity, dev->store, &error);
  if (dev->engine == NULL)
    die ("%s: engine: %s", name, error->message);
  dev->backend = bb_memory_value_backend_new ();
  g_signal_connect (dev->engine, "item-downloaded", G_CALLBACK (on_downloaded), dev);
  g_signal_connect (dev->engine, "item-uploaded", G_CALLBACK (on_uploaded), dev);
  return dev;
}

/* Resolves the default namespace (login, DEK) and opens the collection: app setup. */
static void
device_open (Device *dev, const char *const *scope)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BbCodec) codec = bb_codec_new_string ();

  if (scope != NULL)
    bb_memory_value_backend_set_scope (BB_MEMORY_VALUE_BACKEND (dev->backend), scope);
  AWAIT (res, "default namespace",
         bb_sync_engine_default_namespace_async (dev->engine, NULL, bb_test_got_result, &res));
  dev->ns = bb_sync_engine_default_namespace_finish (dev->engine, res, &error);
  if (dev->ns == NULL)
    die ("%s: default namespace: %s", dev->name, error->message);
  dev->collection = bb_namespace_open_collection (dev->ns, COLLECTION, codec, dev->backend, &error);
  if (dev->collection == NULL)
    die ("%s: open collection: %s", dev->name, error->message);
}

/* One sync pass; returns its duration in µs. */
static gint64
device_sync (Device *dev, const char *what)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  gint64 start;
  gint64 elapsed;

  dev->downloaded = 0;
  dev->uploaded = 0;
  start = g_get_monotonic_time ();
  AWAIT (res, what, bb_sync_engine_sync_async (dev->engine, NULL, bb_test_got_result, &res));
  elapsed = g_get_monotonic_time () - start;
  if (!bb_sync_engine_sync_finish (dev->engine, res, &error))
    die ("%s: %s", what, error->message);
  return elapsed;
}

static void
device_free (Device *dev)
{
  bb_sync_engine_close (dev->engine);
  g_clear_object (&dev->collection);
  g_clear_object (&dev->ns);
  g_clear_object (&dev->engine);
  g_clear_object (&dev->backend);
  g_clear_object (&dev->store);
  g_clear_object (&dev->client);
  g_free (dev);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* ------------------------------------------------------------------------------------ */
/* Items */

static char *
item_key (guint i)
{
  return g_strdup_printf ("item:%05u", i);
}

/* A 200-byte string, different per item and per generation. */
static char *
item_value (guint i, guint generation)
{
  char *value = g_malloc (VALUE_SIZE + 1);
  int n = g_snprintf (value, VALUE_SIZE + 1, "generation %u of item %05u: ", generation, i);

  for (int j = n; j < VALUE_SIZE; j++)
    value[j] = 'a' + (char)((i + j) % 26);
  value[VALUE_SIZE] = '\0';
  return value;
}

static void
set_values (Device *dev, guint n, guint generation)
{
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *key = item_key (i);
      g_autofree char *value = item_value (i, generation);
      g_autoptr (GError) error = NULL;

      if (!bb_value_backend_set_value (dev->backend, key, g_variant_new_string (value), &error))
        die ("%s: set %s: %s", dev->name, key, error->message);
    }
}

/* Every value arrived: the count, and a few values checked byte for byte. */
static void
check_values (Device *dev, guint n, guint generation)
{
  guint n_values = bb_memory_value_backend_get_n_values (BB_MEMORY_VALUE_BACKEND (dev->backend));
  const guint probes[] = { 0, 1, n / 3, n / 2, n - 2, n - 1 };

  if (n_values != n || dev->downloaded != n)
    die ("%s: %u values and %u downloads, expected %u", dev->name, n_values, dev->downloaded, n);
  for (gsize p = 0; p < G_N_ELEMENTS (probes); p++)
    {
      guint i = probes[p] < n ? probes[p] : 0;
      g_autofree char *key = item_key (i);
      g_autofree char *expected = item_value (i, generation);
      g_autoptr (GVariant) got = bb_value_backend_get_value (dev->backend, key, NULL);

      if (got == NULL || strcmp (g_variant_get_string (got, NULL), expected) != 0)
        die ("%s: wrong value for %s", dev->name, key);
    }
}

static BbNamespaceItems *
list_items (Device *dev)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  BbNamespaceItems *items;

  AWAIT (res, "item listing",
         bb_client_get_items_async (dev->client, bb_namespace_get_id (dev->ns), NULL,
                                    bb_test_got_result, &res));
  items = bb_client_get_items_finish (dev->client, res, &error);
  if (items == NULL)
    die ("%s: item listing: %s", dev->name, error->message);
  return items;
}

/* ------------------------------------------------------------------------------------ */
/* The ceiling: raw item GETs, CEILING_WINDOW in flight */

typedef struct
{
  SoupSession *session;
  const char *base;
  const char *ns;
  char *auth;
  char **ids;
  guint n;
  guint next;
  guint in_flight;
  guint ok;
  guint failures;
  guint last_status;
} Getter;

static void getter_pump (Getter *g);

static void
getter_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Getter *g = user_data;
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GError) error = NULL;

  body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  g->in_flight--;
  if (body == NULL || soup_message_get_status (msg) != SOUP_STATUS_OK
      || g_bytes_get_size (body) == 0)
    {
      g->failures++;
      g->last_status = soup_message_get_status (msg);
    }
  else
    g->ok++;
  getter_pump (g);
}

static void
getter_pump (Getter *g)
{
  while (g->in_flight < CEILING_WINDOW && g->next < g->n)
    {
      g_autofree char *url = g_strdup_printf ("%s/v1/kv/%s/%s", g->base, g->ns, g->ids[g->next]);
      g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                    g->auth);
      g->next++;
      g->in_flight++;
      soup_session_send_and_read_async (g->session, msg, G_PRIORITY_DEFAULT, NULL, getter_done, g);
    }
}

/* Fetches @n items; returns the time in µs (the first GET, which opens the connection,
 * is not counted). */
static gint64
ceiling_run (const char *base, const char *ns, const char *token, char **ids, guint n)
{
  /* The session options of BbClient (libsoup's connection limits). */
  g_autoptr (SoupSession) session = soup_session_new_with_options (
      "timeout", 0, "max-conns-per-host", BB_CLIENT_MAX_CONNECTIONS, NULL);
  Getter g = { 0 };
  gboolean timed_out = FALSE;
  guint timeout_id;
  gint64 start;
  gint64 elapsed;

  g.session = session;
  g.base = base;
  g.ns = ns;
  g.auth = g_strconcat ("Bearer ", token, NULL);
  g.ids = ids;

  timeout_id = g_timeout_add_seconds (PASS_TIMEOUT_S, set_flag_cb, &timed_out);
  g.n = 1;
  getter_pump (&g);
  while (g.in_flight > 0 && !timed_out)
    g_main_context_iteration (NULL, TRUE);

  g.n = n;
  g.next = 0;
  g.ok = 0;
  start = g_get_monotonic_time ();
  getter_pump (&g);
  while (g.in_flight > 0 && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  elapsed = g_get_monotonic_time () - start;
  if (timed_out)
    die ("the ceiling GETs did not finish within %d s", PASS_TIMEOUT_S);
  g_source_remove (timeout_id);
  if (g.ok != n)
    die ("ceiling: %u of %u GETs failed (last status %u)", g.failures, n, g.last_status);
  g_free (g.auth);
  return elapsed;
}

/* ------------------------------------------------------------------------------------ */
/* Main-loop stalls and resident memory during a pass */

typedef struct
{
  gint64 last;
  gint64 max_gap;
  guint ticks;
  gsize rss_peak;
} Monitor;

static gsize
rss_bytes (void)
{
  g_autofree char *text = NULL;
  unsigned long size = 0;
  unsigned long resident = 0;

  if (!g_file_get_contents ("/proc/self/statm", &text, NULL, NULL)
      || sscanf (text, "%lu %lu", &size, &resident) != 2)
    die ("cannot read /proc/self/statm");
  return (gsize)resident * (gsize)sysconf (_SC_PAGESIZE);
}

static gboolean
monitor_tick (gpointer user_data)
{
  Monitor *m = user_data;
  gint64 now = g_get_monotonic_time ();

  m->max_gap = MAX (m->max_gap, now - m->last);
  m->last = now;
  /* Reading statm costs some µs: sample every 16th tick. */
  if (++m->ticks % 16 == 0)
    m->rss_peak = MAX (m->rss_peak, rss_bytes ());
  return G_SOURCE_CONTINUE;
}

/* ------------------------------------------------------------------------------------ */
/* Profiling one phase: with BBSYNC_BENCH_PERF_CTL naming the control FIFO of
 * `perf record --delay=-1 --control=fifo:FIFO`, the phase named by BBSYNC_BENCH_PHASE
 * (ceiling, initial, one, noop, upload) is the only one recorded. */

static void
perf_control (const char *phase, const char *command)
{
  const char *fifo = g_getenv ("BBSYNC_BENCH_PERF_CTL");
  FILE *ctl;

  if (fifo == NULL || g_strcmp0 (g_getenv ("BBSYNC_BENCH_PHASE"), phase) != 0)
    return;
  ctl = fopen (fifo, "w");
  if (ctl == NULL)
    die ("%s: %s", fifo, g_strerror (errno));
  fprintf (ctl, "%s\n", command);
  fclose (ctl);
}

/* ------------------------------------------------------------------------------------ */

static int opt_items = SERVER_MAX_ITEMS;
static int opt_uploads = -1; /* min (1000, --items) */

static const GOptionEntry entries[]
    = { { "items", 0, 0, G_OPTION_ARG_INT, &opt_items,
          "Items to sync (default 10000, at most 10000)", "N" },
        { "uploads", 0, 0, G_OPTION_ARG_INT, &opt_uploads,
          "Local edits to upload (default 1000, at most --items)", "N" },
        { "memory-store", 0, 0, G_OPTION_ARG_NONE, &opt_memory_store,
          "In-memory engine stores instead of SQLite files", NULL },
        { NULL } };

/* One `NAME VALUE UNIT` line; takes @name. */
static void
figure (char *name, double value, const char *unit)
{
  printf ("%s %.3f %s\n", name, value, unit);
  g_free (name);
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (BbTestIdentity) identity = NULL;
  g_autoptr (BbNamespaceItems) listing = NULL;
  g_autoptr (GPtrArray) scope = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) ids = NULL;
  g_autofree char *token = NULL;
  g_autofree char *ns_id = NULL;
  g_autofree char *base = NULL;
  g_autofree char *server_db = NULL;
  const char *server_program;
  Device *writer;
  Device *dflt;
  Device *one;
  Monitor monitor = { 0 };
  guint monitor_id;
  guint n;
  guint n_uploads;
  gsize rss_before;
  gsize rss_after;
  gint64 t_initial;
  gint64 t_one;
  gint64 t_ceiling;
  gint64 t_noop;
  gint64 t_upload;
  guint n_bumped = 0;

  g_option_context_set_summary (context, "The sync engine against a bbsync-server process on "
                                         "loopback; prints `NAME VALUE UNIT` lines.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("bbsync-bench: %s\n", error->message);
      return 2;
    }
  if (opt_items < 2 || opt_items > SERVER_MAX_ITEMS)
    {
      g_printerr ("bbsync-bench: --items must be 2 to %d: the server holds at most %d items "
                  "per namespace (BB_SERVER_LIMIT_ITEMS_PER_NAMESPACE; bbsync-server has no "
                  "option to raise it)\n",
                  SERVER_MAX_ITEMS, SERVER_MAX_ITEMS);
      return 2;
    }
  if (opt_uploads == -1)
    opt_uploads = MIN (1000, opt_items);
  if (opt_uploads < 1 || opt_uploads > opt_items)
    {
      g_printerr ("bbsync-bench: --uploads must be 1 to --items\n");
      return 2;
    }
  n = (guint)opt_items;
  n_uploads = (guint)opt_uploads;

  server_program = g_getenv ("BBSYNC_SERVER");
  if (server_program == NULL || *server_program == '\0')
    server_program = BBSYNC_SERVER_PATH;

  install_cleanup ();
  {
    g_autofree char *dir = g_dir_make_tmp ("bbsync-bench-XXXXXX", &error);
    if (dir == NULL)
      die ("temporary directory: %s", error->message);
    g_strlcpy (tmp_dir, dir, sizeof tmp_dir);
  }
  server_db = tmp_database ("server.db");
  base = start_server (server_program, server_db);
  printf ("# bbsync-bench: %s on %s, %u items of %d bytes, %u uploads, %s engine stores\n",
          server_program, base, n, VALUE_SIZE, n_uploads,
          opt_memory_store ? "in-memory" : "SQLite file");
  fflush (stdout);

  identity = bb_test_identity_new ("bbsync-bench-a");
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (scope, item_key (i));
  g_ptr_array_add (scope, NULL);

  /* Setup: device 1 uploads the items. */
  writer = device_new (base, BB_IDENTITY (identity), "writer");
  device_open (writer, NULL);
  set_values (writer, n, 1);
  device_sync (writer, "the writer's upload");
  if (writer->uploaded != n)
    die ("writer: %u uploads, expected %u", writer->uploaded, n);
  listing = list_items (writer);
  if (bb_namespace_items_get_n_items (listing) != n)
    die ("the server lists %u items, expected %u", bb_namespace_items_get_n_items (listing), n);
  ids = bb_namespace_items_dup_item_ids (listing);
  ns_id = g_strdup (bb_namespace_get_id (writer->ns));
  token = bb_client_dup_access_token (writer->client);
  if (token == NULL)
    die ("writer: no access token after its pass");
  device_free (writer);
  g_clear_pointer (&listing, bb_namespace_items_unref);

  /* The ceiling. */
  perf_control ("ceiling", "enable");
  t_ceiling = ceiling_run (base, ns_id, token, ids, n);
  perf_control ("ceiling", "disable");

  /* The initial sync, default pipeline, with the stall and memory monitor. */
  dflt = device_new (base, BB_IDENTITY (identity), "default");
  device_open (dflt, (const char *const *)scope->pdata);
#ifdef __GLIBC__
  malloc_trim (0);
#endif
  rss_before = rss_bytes ();
  monitor.last = g_get_monotonic_time ();
  monitor.rss_peak = rss_before;
  monitor_id = g_timeout_add (1, monitor_tick, &monitor);
  perf_control ("initial", "enable");
  t_initial = device_sync (dflt, "the initial sync (default pipeline)");
  perf_control ("initial", "disable");
  g_source_remove (monitor_id);
  rss_after = MAX (rss_bytes (), monitor.rss_peak);
  check_values (dflt, n, 1);

  /* The same, one request and one store transaction at a time. */
  one = device_new (base, BB_IDENTITY (identity), "one-at-a-time");
  bb_sync_engine_set_pipeline (one->engine, 1, 1);
  device_open (one, (const char *const *)scope->pdata);
  perf_control ("one", "enable");
  t_one = device_sync (one, "the initial sync (one at a time)");
  perf_control ("one", "disable");
  check_values (one, n, 1);
  device_free (one);

  /* A pass with nothing to do. */
  perf_control ("noop", "enable");
  t_noop = device_sync (dflt, "the no-op pass");
  perf_control ("noop", "disable");
  if (dflt->downloaded != 0 || dflt->uploaded != 0)
    die ("no-op pass: %u downloads, %u uploads", dflt->downloaded, dflt->uploaded);

  /* Local edits, uploaded in one pass. */
  set_values (dflt, n_uploads, 2);
  perf_control ("upload", "enable");
  t_upload = device_sync (dflt, "the upload pass");
  perf_control ("upload", "disable");
  if (dflt->uploaded != n_uploads)
    die ("upload pass: %u uploads, expected %u", dflt->uploaded, n_uploads);
  listing = list_items (dflt);
  g_strfreev (ids);
  ids = bb_namespace_items_dup_item_ids (listing);
  for (char **id = ids; *id != NULL; id++)
    if (bb_namespace_items_get_version (listing, *id) > 1)
      n_bumped++;
  if (n_bumped != n_uploads)
    die ("the server holds %u new versions, expected %u", n_bumped, n_uploads);
  device_free (dflt);

  figure (g_strdup_printf ("initial_sync_%u_s", n), t_initial / 1e6, "s");
  figure (g_strdup_printf ("initial_sync_%u_one_at_a_time_s", n), t_one / 1e6, "s");
  figure (g_strdup ("initial_sync_speedup"), (double)t_one / (double)t_initial, "x");
  figure (g_strdup_printf ("server_get_%u_s", n), t_ceiling / 1e6, "s");
  figure (g_strdup ("initial_sync_vs_ceiling"), (double)t_initial / (double)t_ceiling, "x");
  figure (g_strdup_printf ("noop_pass_%u_ms", n), t_noop / 1e3, "ms");
  figure (g_strdup_printf ("upload_%u_s", n_uploads), t_upload / 1e6, "s");
  figure (g_strdup ("max_main_loop_stall_ms"), monitor.max_gap / 1e3, "ms");
  figure (g_strdup_printf ("rss_growth_%u_mib", n),
          rss_after > rss_before ? (double)(rss_after - rss_before) / (1024.0 * 1024.0) : 0.0,
          "MiB");
  fflush (stdout);

  cleanup ();
  return 0;
}
