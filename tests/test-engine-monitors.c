/* test-engine-monitors.c: background sync follows the network and power state: a test
 * monitor flips network-available, network-metered and power-saver, and the state, the
 * watch and the poll interval follow (manual clock, BbServer on loopback).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <bbsync/bbsync.h>

#include "bb-server.h"
#include "bb-sync-engine-private.h"
#include "bb-test-utils.h"

/* --- a monitor the test drives: GNetworkMonitor and GPowerProfileMonitor --- */

#define TEST_TYPE_MONITOR (test_monitor_get_type ())
G_DECLARE_FINAL_TYPE (TestMonitor, test_monitor, TEST, MONITOR, GObject)

struct _TestMonitor
{
  GObject parent_instance;
  gboolean available;
  gboolean metered;
  gboolean power_saver;
};

enum
{
  PROP_0,
  PROP_AVAILABLE,
  PROP_METERED,
  PROP_CONNECTIVITY,
  PROP_POWER_SAVER,
};

static gboolean
test_monitor_init_initable (GInitable *initable, GCancellable *cancellable, GError **error)
{
  return TRUE;
}

static void
test_monitor_initable_iface_init (GInitableIface *iface)
{
  iface->init = test_monitor_init_initable;
}

static void
test_monitor_network_iface_init (GNetworkMonitorInterface *iface)
{
}

static void
test_monitor_power_iface_init (GPowerProfileMonitorInterface *iface)
{
}

G_DEFINE_FINAL_TYPE_WITH_CODE (
    TestMonitor, test_monitor, G_TYPE_OBJECT,
    G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE, test_monitor_initable_iface_init)
        G_IMPLEMENT_INTERFACE (G_TYPE_NETWORK_MONITOR, test_monitor_network_iface_init)
            G_IMPLEMENT_INTERFACE (G_TYPE_POWER_PROFILE_MONITOR, test_monitor_power_iface_init))

static void
test_monitor_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TestMonitor *self = TEST_MONITOR (object);

  switch (prop_id)
    {
      case PROP_AVAILABLE:
        g_value_set_boolean (value, self->available);
        break;
      case PROP_METERED:
        g_value_set_boolean (value, self->metered);
        break;
      case PROP_CONNECTIVITY:
        g_value_set_enum (value, self->available ? G_NETWORK_CONNECTIVITY_FULL
                                                 : G_NETWORK_CONNECTIVITY_LOCAL);
        break;
      case PROP_POWER_SAVER:
        g_value_set_boolean (value, self->power_saver);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
test_monitor_class_init (TestMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = test_monitor_get_property;
  g_object_class_override_property (object_class, PROP_AVAILABLE, "network-available");
  g_object_class_override_property (object_class, PROP_METERED, "network-metered");
  g_object_class_override_property (object_class, PROP_CONNECTIVITY, "connectivity");
  g_object_class_override_property (object_class, PROP_POWER_SAVER, "power-saver-enabled");
}

static void
test_monitor_init (TestMonitor *self)
{
  self->available = TRUE;
}

static void
set_available (TestMonitor *self, gboolean available)
{
  self->available = available;
  g_object_notify (G_OBJECT (self), "network-available");
  g_signal_emit_by_name (self, "network-changed", available);
}

static void
set_metered (TestMonitor *self, gboolean metered)
{
  self->metered = metered;
  g_object_notify (G_OBJECT (self), "network-metered");
}

static void
set_power_saver (TestMonitor *self, gboolean power_saver)
{
  self->power_saver = power_saver;
  g_object_notify (G_OBJECT (self), "power-saver-enabled");
}

/* --- fixture --- */

typedef struct
{
  BbServer *server;
  BbClient *client;
  BbStore *store;
  BbSyncEngine *engine;
  BbTimeSource *time;
  TestMonitor *monitor;
  guint passes;
} Fixture;

static void
on_pass_end (BbSyncEngine *engine, gpointer user_data)
{
  ((Fixture *)user_data)->passes++;
}

static void
on_pass_failed (BbSyncEngine *engine, GError *error, gpointer user_data)
{
  ((Fixture *)user_data)->passes++;
}

static void
wait_for_passes (Fixture *f, guint n)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  while (f->passes < n)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static Fixture *
fixture_new (void)
{
  Fixture *f = g_new0 (Fixture, 1);
  g_autoptr (BbTestIdentity) identity = bb_test_identity_new ("monitors");
  g_autoptr (GBytes) key = bb_test_repeat (0x44, 32);
  g_autoptr (GError) error = NULL;

  f->server = bb_server_new (":memory:", &error);
  g_assert_no_error (error);
  bb_server_set_watch_timeout (f->server, 200);
  g_assert_true (bb_server_listen (f->server, "127.0.0.1", 0, &error));
  f->client = bb_client_new (bb_server_get_base_url (f->server), &error);
  g_assert_no_error (error);
  f->store = BB_STORE (bb_sqlite_store_new_sync (BB_SQLITE_STORE_IN_MEMORY, key, NULL, &error));
  g_assert_no_error (error);
  f->engine = bb_sync_engine_new (f->client, BB_IDENTITY (identity), f->store, &error);
  g_assert_no_error (error);
  f->time = bb_time_source_new_manual ();
  bb_time_source_set_random (f->time, 0);
  bb_sync_engine_set_time_source (f->engine, f->time);
  bb_sync_engine_set_poll_interval (f->engine, 100);
  bb_sync_engine_set_max_poll_interval (f->engine, 1000);
  f->monitor = g_object_new (TEST_TYPE_MONITOR, NULL);
  bb_sync_engine_set_network_monitor (f->engine, G_NETWORK_MONITOR (f->monitor));
  bb_sync_engine_set_power_profile_monitor (f->engine, G_POWER_PROFILE_MONITOR (f->monitor));
  g_signal_connect (f->engine, "sync-finished", G_CALLBACK (on_pass_end), f);
  g_signal_connect (f->engine, "sync-failed", G_CALLBACK (on_pass_failed), f);
  return f;
}

static void
fixture_free (Fixture *f)
{
  bb_sync_engine_close (f->engine);
  g_clear_object (&f->engine);
  g_clear_object (&f->store);
  g_clear_object (&f->client);
  bb_server_shutdown (f->server);
  g_clear_object (&f->server);
  g_clear_object (&f->monitor);
  bb_time_source_unref (f->time);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_free (f);
}

static guint64
timer_delay (Fixture *f)
{
  guint64 due = bb_time_source_next_due (f->time);

  return due == G_MAXUINT64 ? G_MAXUINT64 : due - bb_time_source_now (f->time);
}

/* Offline: no pass, no timer, no backoff; back online: a pass at once, the watch again. */
static void
test_offline_and_back (void)
{
  Fixture *f = fixture_new ();

  f->monitor->available = FALSE;
  bb_sync_engine_start (f->engine);
  g_assert_cmpint (bb_sync_engine_get_state (f->engine), ==, BB_SYNC_STATE_OFFLINE);
  g_assert_false (bb_sync_engine_get_syncing (f->engine));
  g_assert_false (bb_sync_engine_get_run (f->engine)->watching);
  g_assert_cmpuint (timer_delay (f), ==, G_MAXUINT64);
  bb_sync_engine_schedule_sync (f->engine); /* waits for the network too */
  bb_time_source_advance (f->time, 60 * 60 * 1000);
  g_assert_cmpuint (f->passes, ==, 0);

  set_available (f->monitor, TRUE);
  g_assert_true (bb_sync_engine_get_syncing (f->engine));
  wait_for_passes (f, 1);
  g_assert_cmpint (bb_sync_engine_get_state (f->engine), ==, BB_SYNC_STATE_IDLE);
  g_assert_true (bb_sync_engine_get_run (f->engine)->watching);
  g_assert_cmpuint (timer_delay (f), ==, 90);

  /* Down again: the timer and the watch stop, the failures do not grow. */
  set_available (f->monitor, FALSE);
  g_assert_cmpint (bb_sync_engine_get_state (f->engine), ==, BB_SYNC_STATE_OFFLINE);
  g_assert_false (bb_sync_engine_get_run (f->engine)->watching);
  g_assert_null (bb_sync_engine_get_next_sync (f->engine));
  g_assert_cmpuint (bb_sync_engine_get_run (f->engine)->failures, ==, 0);
  fixture_free (f);
}

/* A metered network polls as if idle polling were on, unless the app opts out. */
static void
test_metered (void)
{
  Fixture *f = fixture_new ();
  guint delays[6];

  bb_sync_engine_set_namespace_watch (f->engine, FALSE);
  set_metered (f->monitor, TRUE);
  bb_sync_engine_start (f->engine);
  wait_for_passes (f, 1);
  for (guint i = 0; i < G_N_ELEMENTS (delays); i++)
    {
      delays[i] = (guint)timer_delay (f);
      bb_time_source_advance (f->time, delays[i]);
      wait_for_passes (f, 2 + i);
    }
  /* Idle(100, 1000, n / 3) after quiet timed passes, jitter with a zero draw: 0.9 d. */
  g_assert_cmpuint (delays[0], ==, 90);
  g_assert_cmpuint (delays[3], ==, 180);
  g_assert_cmpuint (timer_delay (f), ==, 360);

  /* Opting out: back to the base interval from the next pass on. */
  bb_sync_engine_set_follow_metered (f->engine, FALSE);
  bb_time_source_advance (f->time, timer_delay (f));
  wait_for_passes (f, 2 + G_N_ELEMENTS (delays));
  g_assert_cmpuint (timer_delay (f), ==, 90);
  fixture_free (f);
}

/* Power saving: idle polling and no long poll; off again: the watch comes back. */
static void
test_power_saver (void)
{
  Fixture *f = fixture_new ();

  bb_sync_engine_start (f->engine);
  wait_for_passes (f, 1);
  g_assert_true (bb_sync_engine_get_run (f->engine)->watching);

  set_power_saver (f->monitor, TRUE);
  g_assert_false (bb_sync_engine_get_run (f->engine)->watching);
  g_assert_true (bb_sync_run_idle_effective (f->engine));

  set_power_saver (f->monitor, FALSE);
  g_assert_true (bb_sync_engine_get_run (f->engine)->watching);
  g_assert_false (bb_sync_run_idle_effective (f->engine));

  /* An app that opts out keeps its long poll under power saving. */
  bb_sync_engine_set_follow_power_saver (f->engine, FALSE);
  set_power_saver (f->monitor, TRUE);
  g_assert_true (bb_sync_engine_get_run (f->engine)->watching);
  g_assert_false (bb_sync_run_idle_effective (f->engine));
  fixture_free (f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/monitors/offline-and-back", test_offline_and_back);
  g_test_add_func ("/monitors/metered", test_metered);
  g_test_add_func ("/monitors/power-saver", test_power_saver);

  return g_test_run ();
}
