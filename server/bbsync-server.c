/* bbsync-server.c: the BitBoxSync reference server program
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n-lib.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "bb-server.h"

static char *opt_listen = NULL;
static char *opt_database = NULL;
static char **opt_origins = NULL;
static int opt_watch_timeout_ms = 30000;
static int opt_token_lifetime = 90 * 24 * 3600;
static int opt_challenge_lifetime = 120;
static int opt_max_connections = 0;
static int opt_request_timeout_ms = 10000;
static int opt_latency_ms = 0;
static double opt_error_rate = 0.0;
static int opt_error_status = 500;
static int opt_retry_after = 0;
static double opt_drop_rate = 0.0;
static gboolean opt_attestation = FALSE;
static gboolean opt_version = FALSE;

static const GOptionEntry entries[] = {
  { "listen", 'l', 0, G_OPTION_ARG_STRING, &opt_listen,
    N_ ("Address to listen on; port 0 picks a free one (default 127.0.0.1:8090)"),
    N_ ("HOST:PORT") },
  { "database", 'd', 0, G_OPTION_ARG_FILENAME, &opt_database,
    N_ ("SQLite database file, or :memory: (default "
        "$XDG_DATA_HOME/bbsync-server/bbsync-server.db)"),
    N_ ("PATH") },
  { "public-origin", 'o', 0, G_OPTION_ARG_STRING_ARRAY, &opt_origins,
    N_ ("Canonical origin accepted in join requests; repeatable (default https://sync.example)"),
    N_ ("ORIGIN") },
  { "watch-timeout-ms", 0, 0, G_OPTION_ARG_INT, &opt_watch_timeout_ms,
    N_ ("Long-poll timeout of the watch endpoint (default 30000)"), N_ ("MS") },
  { "token-lifetime", 0, 0, G_OPTION_ARG_INT, &opt_token_lifetime,
    N_ ("Lifetime of bearer tokens in seconds (default 7776000, 90 days)"), N_ ("SECONDS") },
  { "challenge-lifetime", 0, 0, G_OPTION_ARG_INT, &opt_challenge_lifetime,
    N_ ("Lifetime of challenges in seconds (default 120)"), N_ ("SECONDS") },
  { "max-connections", 0, 0, G_OPTION_ARG_INT, &opt_max_connections,
    N_ ("Connections served at once, further ones wait; 0 derives it from the descriptor "
        "limit (default 0)"),
    N_ ("N") },
  { "request-timeout-ms", 0, 0, G_OPTION_ARG_INT, &opt_request_timeout_ms,
    N_ ("Time a connection has to deliver each request before it is closed (default 10000)"),
    N_ ("MS") },
  { "require-attestation", 0, 0, G_OPTION_ARG_NONE, &opt_attestation,
    N_ ("Require the demo attestation on login and refresh"), NULL },
  { "latency-ms", 0, 0, G_OPTION_ARG_INT, &opt_latency_ms,
    N_ ("Fault injection: delay every request by this much (default 0)"), N_ ("MS") },
  { "error-rate", 0, 0, G_OPTION_ARG_DOUBLE, &opt_error_rate,
    N_ ("Fault injection: fraction of requests answered with --error-status (default 0)"),
    N_ ("FRACTION") },
  { "error-status", 0, 0, G_OPTION_ARG_INT, &opt_error_status,
    N_ ("Fault injection: the status of injected errors, 500, 503 or 429 (default 500)"),
    N_ ("STATUS") },
  { "retry-after", 0, 0, G_OPTION_ARG_INT, &opt_retry_after,
    N_ ("Fault injection: Retry-After of injected 503 and 429 answers, 0 for none (default 0)"),
    N_ ("SECONDS") },
  { "drop-rate", 0, 0, G_OPTION_ARG_DOUBLE, &opt_drop_rate,
    N_ ("Fault injection: fraction of connections dropped mid-response (default 0)"),
    N_ ("FRACTION") },
  { "version", 'V', 0, G_OPTION_ARG_NONE, &opt_version, N_ ("Print the version and exit"), NULL },
  { NULL }
};

static gboolean
quit_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_CONTINUE;
}

/* Splits "HOST:PORT" or "[V6]:PORT" at its last colon. */
static gboolean
parse_listen (const char *text, char **out_host, guint *out_port, GError **error)
{
  const char *colon = strrchr (text, ':');
  g_autofree char *host = NULL;
  guint64 port = 0;

  if (colon == NULL || colon == text
      || !g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, &port, NULL))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _ ("--listen: expected HOST:PORT, got “%s”"), text);
      return FALSE;
    }
  host = g_strndup (text, colon - text);
  if (host[0] == '[' && host[strlen (host) - 1] == ']')
    {
      char *inner = g_strndup (host + 1, strlen (host) - 2);
      g_free (host);
      host = inner;
    }
  *out_host = g_steal_pointer (&host);
  *out_port = (guint)port;
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BbServer) server = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autofree char *host = NULL;
  g_autofree char *database = NULL;
  guint port = 0;
  guint sigint_id;
  guint sigterm_id;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context, _ ("The BitBoxSync reference server (for tests, examples "
                                            "and local development)."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("bbsync-server: %s\n", error->message);
      return 2;
    }
  if (opt_version)
    {
      g_print ("bbsync-server %s\n", PACKAGE_VERSION);
      return 0;
    }
  if (argc > 1)
    {
      g_printerr (_ ("bbsync-server: unexpected argument “%s”\n"), argv[1]);
      return 2;
    }
  if (opt_watch_timeout_ms <= 0 || opt_token_lifetime <= 0 || opt_challenge_lifetime <= 0
      || opt_max_connections < 0 || opt_request_timeout_ms <= 0 || opt_latency_ms < 0
      || opt_error_rate < 0.0 || opt_error_rate > 1.0 || opt_drop_rate < 0.0 || opt_drop_rate > 1.0
      || (opt_error_status != 500 && opt_error_status != 503 && opt_error_status != 429)
      || opt_retry_after < 0)
    {
      g_printerr (_ ("bbsync-server: an option is out of range (see --help)\n"));
      return 2;
    }
  if (!parse_listen (opt_listen != NULL ? opt_listen : "127.0.0.1:8090", &host, &port, &error))
    {
      g_printerr ("bbsync-server: %s\n", error->message);
      return 2;
    }

  if (opt_database != NULL)
    database = g_strdup (opt_database);
  else
    {
      g_autofree char *dir = g_build_filename (g_get_user_data_dir (), "bbsync-server", NULL);
      if (g_mkdir_with_parents (dir, 0700) != 0)
        {
          g_printerr (_ ("bbsync-server: cannot create %s\n"), dir);
          return 1;
        }
      database = g_build_filename (dir, "bbsync-server.db", NULL);
    }

  server = bb_server_new (database, &error);
  if (server == NULL)
    {
      g_printerr ("bbsync-server: %s\n", error->message);
      return 1;
    }
  for (char **origin = opt_origins; origin != NULL && *origin != NULL; origin++)
    {
      if (!bb_server_add_public_origin (server, *origin, &error))
        {
          g_printerr ("bbsync-server: --public-origin: %s\n", error->message);
          return 2;
        }
    }
  bb_server_set_watch_timeout (server, (guint)opt_watch_timeout_ms);
  bb_server_set_token_lifetime (server, (guint)opt_token_lifetime);
  bb_server_set_challenge_lifetime (server, (guint)opt_challenge_lifetime);
  bb_server_set_max_connections (server, (guint)opt_max_connections);
  bb_server_set_request_timeout (server, (guint)opt_request_timeout_ms);
  bb_server_set_require_attestation (server, opt_attestation);
  bb_server_set_latency (server, (guint)opt_latency_ms);
  bb_server_set_error_rate (server, opt_error_rate, (guint)opt_error_status);
  bb_server_set_retry_after (server, (guint)opt_retry_after);
  bb_server_set_drop_rate (server, opt_drop_rate);

  if (!bb_server_listen (server, host, port, &error))
    {
      g_printerr ("bbsync-server: %s\n", error->message);
      return 1;
    }

  /* The first line of standard output carries the base URL (scripts and tests read it). */
  printf ("bbsync-server listening on %s\n", bb_server_get_base_url (server));
  fflush (stdout);

  loop = g_main_loop_new (NULL, FALSE);
  sigint_id = g_unix_signal_add (SIGINT, quit_cb, loop);
  sigterm_id = g_unix_signal_add (SIGTERM, quit_cb, loop);
  g_main_loop_run (loop);
  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);

  bb_server_shutdown (server);
  g_clear_object (&server);
  g_free (opt_listen);
  g_free (opt_database);
  g_strfreev (opt_origins);
  printf ("bbsync-server stopped\n");
  fflush (stdout);
  return 0;
}
