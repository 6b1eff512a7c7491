/* bb-sync-scheduler.c: the run loop's timing: formulas and a replaceable time source
 * (spec §7.1-§7.2)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-crypto-private.h"
#include "bb-sync-scheduler-private.h"

/* ------------------------------------------------------------------------------------ */
/* Formulas (spec §7.2)                                                                 */

guint64
bb_sched_capped_doubling (guint64 base, guint64 max, guint64 n)
{
  guint64 v;

  if (base == 0)
    return 0;
  if (max < base)
    max = base;
  v = base;
  /* The loop ends after at most 64 doublings: v reaches max/2 long before n runs out,
   * and the v > max / 2 check keeps 2v from overflowing. */
  for (guint64 i = 0; i < n; i++)
    {
      if (v >= max)
        return max;
      if (v > max / 2)
        return max;
      v *= 2;
    }
  return MIN (v, max);
}

guint64
bb_sched_backoff (guint64 base, guint64 max, guint64 failures)
{
  if (failures == 0)
    return base;
  return bb_sched_capped_doubling (base, max, failures);
}

guint64
bb_sched_idle (guint64 base, guint64 max, guint64 idle_polls)
{
  return bb_sched_capped_doubling (base, max, idle_polls / 3);
}

guint64
bb_sched_jitter (BbTimeSource *source, guint64 d)
{
  guint64 j, r, low;

  g_return_val_if_fail (source != NULL, d);

  if (d == 0)
    return 0;
  j = d / 10;
  if (j == 0)
    return d;
  r = bb_time_source_random (source, 2 * j);
  low = d - j;
  /* d + d/10 only overflows for d near G_MAXUINT64; saturate there. */
  if (r > G_MAXUINT64 - low)
    return G_MAXUINT64;
  return low + r;
}

/* ------------------------------------------------------------------------------------ */
/* Time sources                                                                         */

/* The manual wall clock starts here (2023-11-14T22:13:20Z) and moves with the
 * monotonic time. */
#define BB_MANUAL_WALL_START G_GINT64_CONSTANT (1700000000000000)

typedef struct
{
  guint id;
  guint64 seq; /* arming order, for timers with the same due time */
  guint64 due;
  BbTimerFunc func;
  gpointer user_data;
} ManualTimer;

typedef struct
{
  BbTimeSource *source; /* not owned: the time source destroys its GSources first */
  guint id;
  BbTimerFunc func;
  gpointer user_data;
} DefaultTimer;

struct _BbTimeSource
{
  gatomicrefcount ref;
  gboolean manual;
  guint last_id;
  /* id -> GSource (default) or ManualTimer (manual), owned */
  GHashTable *timers;

  /* Default source */
  GMainContext *context;

  /* Manual source */
  guint64 now;
  guint64 random_value;
  guint64 next_seq;
  GQueue queue; /* ManualTimer, not owned, sorted by (due, seq) */
};

static void
destroy_gsource (gpointer data)
{
  GSource *gsource = data;

  g_source_destroy (gsource);
  g_source_unref (gsource);
}

BbTimeSource *
bb_time_source_new_default (void)
{
  BbTimeSource *source = g_new0 (BbTimeSource, 1);

  g_atomic_ref_count_init (&source->ref);
  source->manual = FALSE;
  source->context = g_main_context_ref_thread_default ();
  source->timers = g_hash_table_new_full (NULL, NULL, NULL, destroy_gsource);
  return source;
}

BbTimeSource *
bb_time_source_new_manual (void)
{
  BbTimeSource *source = g_new0 (BbTimeSource, 1);

  g_atomic_ref_count_init (&source->ref);
  source->manual = TRUE;
  source->timers = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  g_queue_init (&source->queue);
  return source;
}

BbTimeSource *
bb_time_source_ref (BbTimeSource *source)
{
  g_return_val_if_fail (source != NULL, NULL);

  g_atomic_ref_count_inc (&source->ref);
  return source;
}

void
bb_time_source_unref (BbTimeSource *source)
{
  g_return_if_fail (source != NULL);

  if (!g_atomic_ref_count_dec (&source->ref))
    return;

  g_queue_clear (&source->queue);
  /* Destroys the pending GSources of a default source, so no callback can reach the
   * freed time source. */
  g_hash_table_destroy (source->timers);
  g_clear_pointer (&source->context, g_main_context_unref);
  g_free (source);
}

guint64
bb_time_source_now (BbTimeSource *source)
{
  g_return_val_if_fail (source != NULL, 0);

  if (source->manual)
    return source->now;
  return (guint64)g_get_monotonic_time () / 1000;
}

gint64
bb_time_source_wall_now (BbTimeSource *source)
{
  g_return_val_if_fail (source != NULL, 0);

  if (source->manual)
    {
      guint64 us = source->now > (guint64)(G_MAXINT64 - BB_MANUAL_WALL_START) / 1000
                       ? (guint64)(G_MAXINT64 - BB_MANUAL_WALL_START)
                       : source->now * 1000;
      return BB_MANUAL_WALL_START + (gint64)us;
    }
  return g_get_real_time ();
}

static guint
allocate_id (BbTimeSource *source)
{
  do
    source->last_id++;
  while (source->last_id == 0
         || g_hash_table_contains (source->timers, GUINT_TO_POINTER (source->last_id)));
  return source->last_id;
}

static gboolean
default_timer_fired (gpointer data)
{
  DefaultTimer *timer = data;
  BbTimerFunc func = timer->func;
  gpointer user_data = timer->user_data;

  /* Forget the timer before calling out: the callback may arm timers, remove others or
   * drop the last reference to the time source. Destroying the GSource from its own
   * dispatch is allowed; GLib keeps @timer alive until this function returns. */
  g_hash_table_remove (timer->source->timers, GUINT_TO_POINTER (timer->id));
  func (user_data);
  return G_SOURCE_REMOVE;
}

static gint
manual_timer_compare (gconstpointer a, gconstpointer b, gpointer user_data G_GNUC_UNUSED)
{
  const ManualTimer *ta = a;
  const ManualTimer *tb = b;

  if (ta->due != tb->due)
    return ta->due < tb->due ? -1 : 1;
  if (ta->seq != tb->seq)
    return ta->seq < tb->seq ? -1 : 1;
  return 0;
}

guint
bb_time_source_add_timer (BbTimeSource *source, guint64 delay_ms, BbTimerFunc func,
                          gpointer user_data)
{
  guint id;

  g_return_val_if_fail (source != NULL, 0);
  g_return_val_if_fail (func != NULL, 0);

  id = allocate_id (source);

  if (source->manual)
    {
      ManualTimer *timer = g_new0 (ManualTimer, 1);

      timer->id = id;
      timer->seq = source->next_seq++;
      timer->due = delay_ms > G_MAXUINT64 - source->now ? G_MAXUINT64 : source->now + delay_ms;
      timer->func = func;
      timer->user_data = user_data;
      g_hash_table_insert (source->timers, GUINT_TO_POINTER (id), timer);
      g_queue_insert_sorted (&source->queue, timer, manual_timer_compare, NULL);
    }
  else
    {
      GSource *gsource = g_timeout_source_new ((guint)MIN (delay_ms, (guint64)G_MAXUINT));
      DefaultTimer *timer = g_new0 (DefaultTimer, 1);

      timer->source = source;
      timer->id = id;
      timer->func = func;
      timer->user_data = user_data;
      g_source_set_static_name (gsource, "[bbsync] scheduler timer");
      g_source_set_callback (gsource, default_timer_fired, timer, g_free);
      g_hash_table_insert (source->timers, GUINT_TO_POINTER (id), gsource);
      g_source_attach (gsource, source->context);
    }
  return id;
}

void
bb_time_source_remove_timer (BbTimeSource *source, guint id)
{
  g_return_if_fail (source != NULL);

  if (id == 0)
    return;

  if (source->manual)
    {
      ManualTimer *timer = g_hash_table_lookup (source->timers, GUINT_TO_POINTER (id));

      if (timer == NULL)
        return;
      g_queue_remove (&source->queue, timer);
    }
  g_hash_table_remove (source->timers, GUINT_TO_POINTER (id));
}

guint64
bb_time_source_random (BbTimeSource *source, guint64 upper)
{
  guint64 range, threshold, x;

  g_return_val_if_fail (source != NULL, 0);

  if (source->manual)
    return MIN (source->random_value, upper);

  if (upper == 0)
    return 0;
  if (upper == G_MAXUINT64)
    {
      bb_crypto_random_bytes ((guint8 *)&x, sizeof x);
      return x;
    }
  /* Rejection sampling: accept only draws at or above 2^64 mod range, so every residue
   * has the same number of preimages. */
  range = upper + 1;
  threshold = (0 - range) % range;
  do
    bb_crypto_random_bytes ((guint8 *)&x, sizeof x);
  while (x < threshold);
  return x % range;
}

void
bb_time_source_advance (BbTimeSource *source, guint64 ms)
{
  guint64 target;

  g_return_if_fail (source != NULL);
  g_return_if_fail (source->manual);

  /* A callback may drop the caller's reference. */
  bb_time_source_ref (source);

  target = ms > G_MAXUINT64 - source->now ? G_MAXUINT64 : source->now + ms;
  for (;;)
    {
      ManualTimer *timer = g_queue_peek_head (&source->queue);
      BbTimerFunc func;
      gpointer user_data;

      if (timer == NULL || timer->due > target)
        break;
      g_queue_pop_head (&source->queue);
      source->now = MAX (source->now, timer->due);
      func = timer->func;
      user_data = timer->user_data;
      g_hash_table_remove (source->timers, GUINT_TO_POINTER (timer->id));
      func (user_data);
    }
  source->now = MAX (source->now, target);

  bb_time_source_unref (source);
}

void
bb_time_source_set_random (BbTimeSource *source, guint64 value)
{
  g_return_if_fail (source != NULL);
  g_return_if_fail (source->manual);

  source->random_value = value;
}

guint
bb_time_source_get_n_timers (BbTimeSource *source)
{
  g_return_val_if_fail (source != NULL, 0);

  return g_hash_table_size (source->timers);
}

guint64
bb_time_source_next_due (BbTimeSource *source)
{
  ManualTimer *timer;

  g_return_val_if_fail (source != NULL, G_MAXUINT64);
  g_return_val_if_fail (source->manual, G_MAXUINT64);

  timer = g_queue_peek_head (&source->queue);
  return timer != NULL ? timer->due : G_MAXUINT64;
}
