/* bb-sync-scheduler-private.h: the run loop's timing: formulas and a replaceable time
 * source (spec §7.1-§7.2), so that tests drive time instead of waiting for it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Durations are in milliseconds (the reference uses nanoseconds; every formula here is
 * the same integer arithmetic). */

/* CappedDoubling(base, max, n) of spec §7.2. */
guint64 bb_sched_capped_doubling (guint64 base, guint64 max, guint64 n);
/* Backoff(base, max, failures): base when failures is 0. */
guint64 bb_sched_backoff (guint64 base, guint64 max, guint64 failures);
/* Idle(base, max, idle_polls) = CappedDoubling(base, max, idle_polls / 3). */
guint64 bb_sched_idle (guint64 base, guint64 max, guint64 idle_polls);

typedef struct _BbTimeSource BbTimeSource;

/* Called when a timer of the time source fires, on the main context that created it. */
typedef void (*BbTimerFunc) (gpointer user_data);

/* A time source: the real one (GLib timeouts on the thread-default main context,
 * monotonic time, a cryptographic RNG), or a test's. Reference-counted. */
BbTimeSource *bb_time_source_new_default (void);
/* A manual time source for tests: time moves only with bb_time_source_advance(), which
 * fires the timers that fall due, in order of their due time; random draws return
 * bb_time_source_set_random()'s value (clamped to the range), 0 by default. */
BbTimeSource *bb_time_source_new_manual (void);
BbTimeSource *bb_time_source_ref (BbTimeSource *source);
void bb_time_source_unref (BbTimeSource *source);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BbTimeSource, bb_time_source_unref)

/* Monotonic milliseconds. */
guint64 bb_time_source_now (BbTimeSource *source);
/* Wall-clock Unix microseconds (for last-synced and next-sync). */
gint64 bb_time_source_wall_now (BbTimeSource *source);
/* Arms a one-shot timer @delay_ms from now; returns a non-zero ID. */
guint bb_time_source_add_timer (BbTimeSource *source, guint64 delay_ms, BbTimerFunc func,
                                gpointer user_data);
/* Disarms a timer that has not fired; 0 is ignored. */
void bb_time_source_remove_timer (BbTimeSource *source, guint id);
/* A uniform integer in [0, upper] (inclusive). */
guint64 bb_time_source_random (BbTimeSource *source, guint64 upper);

/* Jitter(d) of spec §7.2, drawn from @source: d - d/10 + r with r in [0, 2 * (d/10)]. */
guint64 bb_sched_jitter (BbTimeSource *source, guint64 d);

/* Manual time sources only. */
void bb_time_source_advance (BbTimeSource *source, guint64 ms);
void bb_time_source_set_random (BbTimeSource *source, guint64 value);
guint bb_time_source_get_n_timers (BbTimeSource *source);
/* The due time of the earliest armed timer, or G_MAXUINT64 when none. */
guint64 bb_time_source_next_due (BbTimeSource *source);

G_END_DECLS
