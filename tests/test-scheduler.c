/* test-scheduler.c: the run loop's timing formulas and time sources (spec §7.1-§7.2)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-sync-scheduler-private.h"
#include "bb-test-utils.h"

#define MINUTE ((guint64)60 * 1000)
#define POLL (5 * MINUTE)
#define MAX_POLL (60 * MINUTE)

/* ------------------------------------------------------------------------------------ */
/* Formulas                                                                             */

static void
test_backoff_worked (void)
{
  /* Spec §7.2 table, defaults Poll 5 min, Max 60 min. */
  g_assert_cmpuint (bb_sched_backoff (POLL, MAX_POLL, 0), ==, 5 * MINUTE);
  g_assert_cmpuint (bb_sched_backoff (POLL, MAX_POLL, 1), ==, 10 * MINUTE);
  g_assert_cmpuint (bb_sched_backoff (POLL, MAX_POLL, 2), ==, 20 * MINUTE);
  g_assert_cmpuint (bb_sched_backoff (POLL, MAX_POLL, 3), ==, 40 * MINUTE);
  g_assert_cmpuint (bb_sched_backoff (POLL, MAX_POLL, 4), ==, 60 * MINUTE);
  g_assert_cmpuint (bb_sched_backoff (POLL, MAX_POLL, 5), ==, 60 * MINUTE);
  g_assert_cmpuint (bb_sched_backoff (POLL, MAX_POLL, 100), ==, 60 * MINUTE);
}

static void
test_idle_worked (void)
{
  static const struct
  {
    guint64 polls;
    guint64 minutes;
  } cases[] = {
    { 0, 5 },   { 1, 5 },   { 2, 5 },   { 3, 10 },  { 4, 10 },    { 5, 10 },  { 6, 20 },
    { 7, 20 },  { 8, 20 },  { 9, 40 },  { 10, 40 }, { 11, 40 },   { 12, 60 }, { 13, 60 },
    { 14, 60 }, { 15, 60 }, { 30, 60 }, { 99, 60 }, { 1000, 60 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("idle polls %" G_GUINT64_FORMAT, cases[i].polls);
      g_assert_cmpuint (bb_sched_idle (POLL, MAX_POLL, cases[i].polls), ==,
                        cases[i].minutes * MINUTE);
    }
}

static void
test_test_scale (void)
{
  /* Poll 20 ms, Max 1 s. */
  g_assert_cmpuint (bb_sched_backoff (20, 1000, 0), ==, 20);
  g_assert_cmpuint (bb_sched_backoff (20, 1000, 1), ==, 40);
  g_assert_cmpuint (bb_sched_backoff (20, 1000, 2), ==, 80);
  g_assert_cmpuint (bb_sched_backoff (20, 1000, 3), ==, 160);
  g_assert_cmpuint (bb_sched_backoff (20, 1000, 4), ==, 320);
  g_assert_cmpuint (bb_sched_backoff (20, 1000, 5), ==, 640);
  /* 640 > 1000 / 2: capped rather than doubled to 1280. */
  g_assert_cmpuint (bb_sched_backoff (20, 1000, 6), ==, 1000);
  g_assert_cmpuint (bb_sched_backoff (20, 1000, 7), ==, 1000);
}

static void
test_capped_doubling_edges (void)
{
  /* n = 0 is the base. */
  g_assert_cmpuint (bb_sched_capped_doubling (7, 100, 0), ==, 7);
  /* Max == Poll never grows. */
  for (guint64 n = 0; n < 10; n++)
    {
      g_assert_cmpuint (bb_sched_capped_doubling (POLL, POLL, n), ==, POLL);
      g_assert_cmpuint (bb_sched_backoff (POLL, POLL, n), ==, POLL);
      g_assert_cmpuint (bb_sched_idle (POLL, POLL, n), ==, POLL);
    }
  /* Max below base is raised to base. */
  g_assert_cmpuint (bb_sched_capped_doubling (100, 10, 0), ==, 100);
  g_assert_cmpuint (bb_sched_capped_doubling (100, 10, 5), ==, 100);
  /* Base 0 is 0, whatever else. */
  g_assert_cmpuint (bb_sched_capped_doubling (0, 1000, 0), ==, 0);
  g_assert_cmpuint (bb_sched_capped_doubling (0, 1000, 5), ==, 0);
  g_assert_cmpuint (bb_sched_backoff (0, 1000, 0), ==, 0);
  g_assert_cmpuint (bb_sched_backoff (0, 1000, 3), ==, 0);
  g_assert_cmpuint (bb_sched_idle (0, 1000, 9), ==, 0);
  /* A cap that is not a power-of-two multiple of the base: 3, 6, 12 then 20. */
  g_assert_cmpuint (bb_sched_capped_doubling (3, 20, 2), ==, 12);
  g_assert_cmpuint (bb_sched_capped_doubling (3, 20, 3), ==, 20);
  /* v == max / 2 (integer division) still doubles: with an odd cap, 2v stays below it. */
  g_assert_cmpuint (bb_sched_capped_doubling (5, 21, 2), ==, 20);
  g_assert_cmpuint (bb_sched_capped_doubling (10, 21, 1), ==, 20);
  g_assert_cmpuint (bb_sched_capped_doubling (10, 21, 2), ==, 21);
  g_assert_cmpuint (bb_sched_capped_doubling (5, 20, 2), ==, 20);
}

static void
test_capped_doubling_overflow (void)
{
  const guint64 n = 1000000;
  const guint64 half = G_MAXUINT64 / 2 + 1; /* 2^63 */

  g_assert_cmpuint (bb_sched_capped_doubling (1, G_MAXUINT64, n), ==, G_MAXUINT64);
  g_assert_cmpuint (bb_sched_capped_doubling (3, G_MAXUINT64, n), ==, G_MAXUINT64);
  g_assert_cmpuint (bb_sched_capped_doubling (3, half + 12345, n), ==, half + 12345);
  g_assert_cmpuint (bb_sched_capped_doubling (G_MAXUINT64, G_MAXUINT64, n), ==, G_MAXUINT64);
  g_assert_cmpuint (bb_sched_capped_doubling (half + 1, G_MAXUINT64, 1), ==, G_MAXUINT64);
  g_assert_cmpuint (bb_sched_capped_doubling (half, G_MAXUINT64, 1), ==, G_MAXUINT64);
  g_assert_cmpuint (bb_sched_capped_doubling (1, G_MAXUINT64, 63), ==, half);
  g_assert_cmpuint (bb_sched_capped_doubling (1, G_MAXUINT64, 64), ==, G_MAXUINT64);
  g_assert_cmpuint (bb_sched_capped_doubling (1, G_MAXUINT64, G_MAXUINT64), ==, G_MAXUINT64);
  g_assert_cmpuint (bb_sched_backoff (POLL, G_MAXUINT64, G_MAXUINT64), ==, G_MAXUINT64);
  g_assert_cmpuint (bb_sched_idle (POLL, G_MAXUINT64, G_MAXUINT64), ==, G_MAXUINT64);
}

/* ------------------------------------------------------------------------------------ */
/* Jitter                                                                               */

static void
test_jitter_manual (void)
{
  g_autoptr (BbTimeSource) source = bb_time_source_new_manual ();

  /* Random 0 by default: the low end. */
  g_assert_cmpuint (bb_sched_jitter (source, 1000), ==, 900);
  g_assert_cmpuint (bb_sched_jitter (source, POLL), ==, POLL - POLL / 10);
  g_assert_cmpuint (bb_sched_jitter (source, 20), ==, 18);
  g_assert_cmpuint (bb_sched_jitter (source, 10), ==, 9);
  /* The top of the range, clamped from any larger value. */
  bb_time_source_set_random (source, G_MAXUINT64);
  g_assert_cmpuint (bb_sched_jitter (source, 1000), ==, 1100);
  g_assert_cmpuint (bb_sched_jitter (source, POLL), ==, POLL + POLL / 10);
  g_assert_cmpuint (bb_sched_jitter (source, 20), ==, 22);
  g_assert_cmpuint (bb_sched_jitter (source, 10), ==, 11);
  /* The middle of the range is d. */
  bb_time_source_set_random (source, 100);
  g_assert_cmpuint (bb_sched_jitter (source, 1000), ==, 1000);
  bb_time_source_set_random (source, 2);
  g_assert_cmpuint (bb_sched_jitter (source, 20), ==, 20);
  /* Below 10 ms, no jitter; 0 stays 0. */
  for (guint64 d = 1; d < 10; d++)
    {
      bb_time_source_set_random (source, 0);
      g_assert_cmpuint (bb_sched_jitter (source, d), ==, d);
      bb_time_source_set_random (source, G_MAXUINT64);
      g_assert_cmpuint (bb_sched_jitter (source, d), ==, d);
    }
  g_assert_cmpuint (bb_sched_jitter (source, 0), ==, 0);
  /* The largest duration saturates instead of wrapping. */
  g_assert_cmpuint (bb_sched_jitter (source, G_MAXUINT64), ==, G_MAXUINT64);
  bb_time_source_set_random (source, 0);
  g_assert_cmpuint (bb_sched_jitter (source, G_MAXUINT64), ==, G_MAXUINT64 - G_MAXUINT64 / 10);
}

static void
test_jitter_default (void)
{
  g_autoptr (BbTimeSource) source = bb_time_source_new_default ();
  const guint64 d = POLL;
  guint64 first = 0;
  gboolean all_equal = TRUE;

  for (guint i = 0; i < 1000; i++)
    {
      guint64 v = bb_sched_jitter (source, d);

      g_assert_cmpuint (v, >=, d - d / 10);
      g_assert_cmpuint (v, <=, d + d / 10);
      if (i == 0)
        first = v;
      else if (v != first)
        all_equal = FALSE;
    }
  g_assert_false (all_equal);

  /* Small ranges reach both ends; d < 10 and 0 are exact. */
  for (guint i = 0; i < 100; i++)
    {
      guint64 v = bb_sched_jitter (source, 10);

      g_assert_cmpuint (v, >=, 9);
      g_assert_cmpuint (v, <=, 11);
      g_assert_cmpuint (bb_sched_jitter (source, 9), ==, 9);
      g_assert_cmpuint (bb_sched_jitter (source, 0), ==, 0);
    }
}

static void
test_random_default (void)
{
  g_autoptr (BbTimeSource) source = bb_time_source_new_default ();
  gboolean seen[3] = { FALSE, FALSE, FALSE };

  for (guint i = 0; i < 300; i++)
    {
      guint64 v = bb_time_source_random (source, 2);

      g_assert_cmpuint (v, <=, 2);
      seen[v] = TRUE;
      g_assert_cmpuint (bb_time_source_random (source, 0), ==, 0);
    }
  /* Each value has probability (2/3)^300 of never showing up. */
  g_assert_true (seen[0] && seen[1] && seen[2]);
  /* The full range is allowed. */
  (void)bb_time_source_random (source, G_MAXUINT64);
}

/* ------------------------------------------------------------------------------------ */
/* Manual time source                                                                   */

typedef struct
{
  BbTimeSource *source;
  GArray *fired; /* guint label, in firing order */
  GArray *times; /* guint64 now at firing */
  guint to_remove;
  guint rearmed;
} Fixture;

typedef struct
{
  Fixture *fx;
  guint label;
} Tag;

static void
fixture_init (Fixture *fx, BbTimeSource *source)
{
  fx->source = source;
  fx->fired = g_array_new (FALSE, FALSE, sizeof (guint));
  fx->times = g_array_new (FALSE, FALSE, sizeof (guint64));
  fx->to_remove = 0;
  fx->rearmed = 0;
}

static void
fixture_clear (Fixture *fx)
{
  g_array_unref (fx->fired);
  g_array_unref (fx->times);
}

static void
record (gpointer user_data)
{
  Tag *tag = user_data;
  guint64 now = bb_time_source_now (tag->fx->source);

  g_array_append_val (tag->fx->fired, tag->label);
  g_array_append_val (tag->fx->times, now);
}

static void
assert_fired (Fixture *fx, const guint *labels, const guint64 *times, guint n)
{
  g_assert_cmpuint (fx->fired->len, ==, n);
  for (guint i = 0; i < n; i++)
    {
      g_assert_cmpuint (g_array_index (fx->fired, guint, i), ==, labels[i]);
      g_assert_cmpuint (g_array_index (fx->times, guint64, i), ==, times[i]);
    }
}

static void
test_manual_order (void)
{
  g_autoptr (BbTimeSource) source = bb_time_source_new_manual ();
  Fixture fx;
  Tag tags[5];
  guint ids[5];
  const guint64 delays[5] = { 30, 10, 20, 10, 0 };
  const guint want_labels[5] = { 4, 1, 3, 2, 0 };
  const guint64 want_times[5] = { 0, 10, 10, 20, 30 };

  fixture_init (&fx, source);
  g_assert_cmpuint (bb_time_source_now (source), ==, 0);
  g_assert_cmpuint (bb_time_source_get_n_timers (source), ==, 0);
  g_assert_cmpuint (bb_time_source_next_due (source), ==, G_MAXUINT64);

  for (guint i = 0; i < 5; i++)
    {
      tags[i] = (Tag){ &fx, i };
      ids[i] = bb_time_source_add_timer (source, delays[i], record, &tags[i]);
      g_assert_cmpuint (ids[i], !=, 0);
      for (guint k = 0; k < i; k++)
        g_assert_cmpuint (ids[k], !=, ids[i]);
    }
  g_assert_cmpuint (bb_time_source_get_n_timers (source), ==, 5);
  g_assert_cmpuint (bb_time_source_next_due (source), ==, 0);
  /* Nothing fires without an advance, even when due now. */
  g_assert_cmpuint (fx.fired->len, ==, 0);

  /* Same due time: in the order they were armed (1 before 3). */
  bb_time_source_advance (source, 100);
  assert_fired (&fx, want_labels, want_times, 5);
  g_assert_cmpuint (bb_time_source_now (source), ==, 100);
  g_assert_cmpuint (bb_time_source_get_n_timers (source), ==, 0);
  g_assert_cmpuint (bb_time_source_next_due (source), ==, G_MAXUINT64);

  /* A fired timer's ID is ignored by remove_timer, as is 0. */
  bb_time_source_remove_timer (source, ids[0]);
  bb_time_source_remove_timer (source, 0);
  fixture_clear (&fx);
}

static void
test_manual_partial (void)
{
  g_autoptr (BbTimeSource) source = bb_time_source_new_manual ();
  gint64 wall0 = bb_time_source_wall_now (source);
  Fixture fx;
  Tag a, b;
  const guint labels[2] = { 1, 2 };
  const guint64 times[2] = { 10, 50 };

  fixture_init (&fx, source);
  a = (Tag){ &fx, 1 };
  b = (Tag){ &fx, 2 };
  bb_time_source_add_timer (source, 10, record, &a);
  bb_time_source_add_timer (source, 50, record, &b);
  g_assert_cmpuint (bb_time_source_next_due (source), ==, 10);

  bb_time_source_advance (source, 9);
  g_assert_cmpuint (fx.fired->len, ==, 0);
  bb_time_source_advance (source, 11);
  assert_fired (&fx, labels, times, 1);
  g_assert_cmpuint (bb_time_source_now (source), ==, 20);
  g_assert_cmpuint (bb_time_source_get_n_timers (source), ==, 1);
  g_assert_cmpuint (bb_time_source_next_due (source), ==, 50);
  /* The wall clock moves with the monotonic time. */
  g_assert_cmpint (bb_time_source_wall_now (source) - wall0, ==, 20 * 1000);

  bb_time_source_advance (source, 29);
  assert_fired (&fx, labels, times, 1);
  /* Due exactly at the target fires. */
  bb_time_source_advance (source, 1);
  assert_fired (&fx, labels, times, 2);
  g_assert_cmpuint (bb_time_source_now (source), ==, 50);
  bb_time_source_advance (source, 0);
  assert_fired (&fx, labels, times, 2);
  g_assert_cmpuint (bb_time_source_get_n_timers (source), ==, 0);

  /* A timer armed later counts from the current time. */
  bb_time_source_add_timer (source, 5, record, &a);
  g_assert_cmpuint (bb_time_source_next_due (source), ==, 55);
  fixture_clear (&fx);
}

static void
test_manual_remove (void)
{
  g_autoptr (BbTimeSource) source = bb_time_source_new_manual ();
  Fixture fx;
  Tag a, b, c;
  guint id_a, id_b;
  const guint labels[1] = { 3 };
  const guint64 times[1] = { 30 };

  fixture_init (&fx, source);
  a = (Tag){ &fx, 1 };
  b = (Tag){ &fx, 2 };
  c = (Tag){ &fx, 3 };
  id_a = bb_time_source_add_timer (source, 10, record, &a);
  id_b = bb_time_source_add_timer (source, 20, record, &b);
  bb_time_source_add_timer (source, 30, record, &c);

  bb_time_source_remove_timer (source, id_a);
  g_assert_cmpuint (bb_time_source_get_n_timers (source), ==, 2);
  g_assert_cmpuint (bb_time_source_next_due (source), ==, 20);
  bb_time_source_remove_timer (source, id_b);
  bb_time_source_remove_timer (source, id_b);
  g_assert_cmpuint (bb_time_source_get_n_timers (source), ==, 1);
  g_assert_cmpuint (bb_time_source_next_due (source), ==, 30);

  bb_time_source_advance (source, 100);
  assert_fired (&fx, labels, times, 1);

  /* Timers still armed at the last unref are dropped without firing. */
  bb_time_source_add_timer (source, 10, record, &a);
  fixture_clear (&fx);
}

static void
remove_other (gpointer user_data)
{
  Tag *tag = user_data;

  record (tag);
  bb_time_source_remove_timer (tag->fx->source, tag->fx->to_remove);
}

static void
test_manual_remove_from_callback (void)
{
  g_autoptr (BbTimeSource) source = bb_time_source_new_manual ();
  Fixture fx;
  Tag a, b, c;
  const guint labels[2] = { 1, 3 };
  const guint64 times[2] = { 10, 10 };

  fixture_init (&fx, source);
  a = (Tag){ &fx, 1 };
  b = (Tag){ &fx, 2 };
  c = (Tag){ &fx, 3 };
  bb_time_source_add_timer (source, 10, remove_other, &a);
  /* Due at the same time as the remover, but armed later; removed before it fires. */
  fx.to_remove = bb_time_source_add_timer (source, 10, record, &b);
  bb_time_source_add_timer (source, 10, record, &c);

  bb_time_source_advance (source, 10);
  assert_fired (&fx, labels, times, 2);
  g_assert_cmpuint (bb_time_source_get_n_timers (source), ==, 0);
  fixture_clear (&fx);
}

static void
rearm (gpointer user_data)
{
  Tag *tag = user_data;
  Fixture *fx = tag->fx;
  static Tag now_tag, later_tag, far_tag;

  record (tag);
  if (tag->label != 1)
    return;
  now_tag = (Tag){ fx, 2 };
  later_tag = (Tag){ fx, 3 };
  far_tag = (Tag){ fx, 4 };
  /* Due now, at the time of this firing: fires within the same advance. */
  bb_time_source_add_timer (fx->source, 0, rearm, &now_tag);
  bb_time_source_add_timer (fx->source, 5, rearm, &later_tag);
  fx->rearmed = bb_time_source_add_timer (fx->source, 100, rearm, &far_tag);
}

static void
test_manual_rearm (void)
{
  g_autoptr (BbTimeSource) source = bb_time_source_new_manual ();
  Fixture fx;
  Tag a;
  const guint labels[4] = { 1, 2, 3, 4 };
  const guint64 times[4] = { 10, 10, 15, 110 };

  fixture_init (&fx, source);
  a = (Tag){ &fx, 1 };
  bb_time_source_add_timer (source, 10, rearm, &a);

  bb_time_source_advance (source, 20);
  assert_fired (&fx, labels, times, 3);
  g_assert_cmpuint (bb_time_source_now (source), ==, 20);
  g_assert_cmpuint (bb_time_source_get_n_timers (source), ==, 1);
  g_assert_cmpuint (bb_time_source_next_due (source), ==, 110);
  g_assert_cmpuint (fx.rearmed, !=, 0);

  bb_time_source_advance (source, 1000);
  assert_fired (&fx, labels, times, 4);
  g_assert_cmpuint (bb_time_source_now (source), ==, 1020);
  fixture_clear (&fx);
}

static void
rearm_at_target (gpointer user_data)
{
  Tag *tag = user_data;

  record (tag);
  if (tag->label < 3)
    {
      tag->label++;
      bb_time_source_add_timer (tag->fx->source, 0, rearm_at_target, tag);
    }
}

static void
test_manual_rearm_at_target (void)
{
  g_autoptr (BbTimeSource) source = bb_time_source_new_manual ();
  Fixture fx;
  Tag a;
  const guint labels[3] = { 1, 2, 3 };
  const guint64 times[3] = { 10, 10, 10 };

  fixture_init (&fx, source);
  a = (Tag){ &fx, 1 };
  bb_time_source_add_timer (source, 10, rearm_at_target, &a);
  /* Due exactly at the target, re-armed with delay 0 from the callbacks: all fire. */
  bb_time_source_advance (source, 10);
  assert_fired (&fx, labels, times, 3);
  g_assert_cmpuint (bb_time_source_get_n_timers (source), ==, 0);
  fixture_clear (&fx);
}

static void
unref_source (gpointer user_data)
{
  bb_time_source_unref (user_data);
}

static void
test_manual_unref_in_callback (void)
{
  BbTimeSource *source = bb_time_source_new_manual ();

  /* The callback drops the only reference while advance runs. */
  bb_time_source_add_timer (source, 1, unref_source, source);
  bb_time_source_advance (g_steal_pointer (&source), 5);
}

/* ------------------------------------------------------------------------------------ */
/* Default time source                                                                  */

static void
set_flag (gpointer user_data)
{
  gboolean *flag = user_data;

  *flag = TRUE;
}

static gboolean
set_flag_source (gpointer user_data)
{
  set_flag (user_data);
  return G_SOURCE_REMOVE;
}

static void
test_default_clock (void)
{
  g_autoptr (BbTimeSource) source = bb_time_source_new_default ();
  guint64 a = bb_time_source_now (source);
  guint64 b = bb_time_source_now (source);
  gint64 wall = bb_time_source_wall_now (source);

  g_assert_cmpuint (b, >=, a);
  /* After 2020-01-01. */
  g_assert_cmpint (wall, >, G_GINT64_CONSTANT (1577836800000000));
}

static void
test_default_fires (void)
{
  g_autoptr (GMainContext) context = g_main_context_new ();
  g_autoptr (BbTimeSource) source = NULL;
  gboolean fired = FALSE, removed_fired = FALSE, timed_out = FALSE;
  guint removed, bound;
  GSource *timeout;

  g_main_context_push_thread_default (context);
  source = bb_time_source_new_default ();

  removed = bb_time_source_add_timer (source, 0, set_flag, &removed_fired);
  g_assert_cmpuint (removed, !=, 0);
  g_assert_cmpuint (bb_time_source_add_timer (source, 10, set_flag, &fired), !=, 0);
  g_assert_cmpuint (bb_time_source_get_n_timers (source), ==, 2);
  bb_time_source_remove_timer (source, removed);
  bb_time_source_remove_timer (source, removed);
  g_assert_cmpuint (bb_time_source_get_n_timers (source), ==, 1);

  timeout = g_timeout_source_new_seconds (10);
  g_source_set_callback (timeout, set_flag_source, &timed_out, NULL);
  bound = g_source_attach (timeout, context);
  g_source_unref (timeout);

  while (!fired && !timed_out)
    g_main_context_iteration (context, TRUE);
  g_assert_false (timed_out);
  g_assert_true (fired);
  g_assert_false (removed_fired);
  g_assert_cmpuint (bb_time_source_get_n_timers (source), ==, 0);

  /* Timers pending at the last unref never fire. */
  fired = FALSE;
  bb_time_source_add_timer (source, 0, set_flag, &fired);
  g_clear_pointer (&source, bb_time_source_unref);
  while (g_main_context_iteration (context, FALSE))
    ;
  g_assert_false (fired);

  g_source_destroy (g_main_context_find_source_by_id (context, bound));
  g_main_context_pop_thread_default (context);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/scheduler/backoff/worked", test_backoff_worked);
  g_test_add_func ("/scheduler/idle/worked", test_idle_worked);
  g_test_add_func ("/scheduler/backoff/test-scale", test_test_scale);
  g_test_add_func ("/scheduler/capped-doubling/edges", test_capped_doubling_edges);
  g_test_add_func ("/scheduler/capped-doubling/overflow", test_capped_doubling_overflow);
  g_test_add_func ("/scheduler/jitter/manual", test_jitter_manual);
  g_test_add_func ("/scheduler/jitter/default", test_jitter_default);
  g_test_add_func ("/scheduler/random/default", test_random_default);
  g_test_add_func ("/scheduler/manual/order", test_manual_order);
  g_test_add_func ("/scheduler/manual/partial", test_manual_partial);
  g_test_add_func ("/scheduler/manual/remove", test_manual_remove);
  g_test_add_func ("/scheduler/manual/remove-from-callback", test_manual_remove_from_callback);
  g_test_add_func ("/scheduler/manual/rearm", test_manual_rearm);
  g_test_add_func ("/scheduler/manual/rearm-at-target", test_manual_rearm_at_target);
  g_test_add_func ("/scheduler/manual/unref-in-callback", test_manual_unref_in_callback);
  g_test_add_func ("/scheduler/default/clock", test_default_clock);
  g_test_add_func ("/scheduler/default/fires", test_default_fires);

  return g_test_run ();
}
