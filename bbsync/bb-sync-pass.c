/* bb-sync-pass.c: one sync pass: snapshot reconciliation, namespace and item-map
 * reconciliation with fetch and apply, and the flush of dirty items (spec §6)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "bb-i18n-private.h"

#include "bb-error.h"
#include "bb-protocol.h"
#include "bb-protocol-private.h"
#include "bb-sync-engine-private.h"

/* The protocol fetches and uploads one item per request. A pass keeps up to
 * BB_SYNC_WINDOW requests in flight and handles the answers strictly in order, in chunks
 * of up to BB_SYNC_CHUNK (bb_sync_engine_set_pipeline() changes both): it decrypts a chunk on a
 * worker thread, applies it to the backends on the main context, saves its records in one store
 * transaction, and only then emits its signals and returns to the main loop. So the events keep the
 * order of the reference's one-at-a-time pass, no record is half-saved, and a crash leaves the
 * store at a chunk boundary: what it did not record is repaired by the next pass (a
 * value that reached the backend but not the store shows up as a local change, whose
 * upload meets HTTP 412 and converges in ConflictFetch). */

typedef struct _Pass Pass;
typedef struct _Job Job;
typedef struct _Window Window;

typedef enum
{
  JOB_FETCH,
  JOB_UNKNOWN,
  JOB_UPLOAD,
} JobKind;

struct _Job
{
  Window *window;
  guint index;
  JobKind kind;
  BbItemState *item; /* the record, or NULL for an active key without one yet */
  char *item_id;     /* downloads */
  BbScopeKey *entry; /* downloads of an active key without a record (borrowed) */
  guint64 listed;
  BbItemEnvelope *envelope;
  GBytes *plaintext;
  GError *error;
  gboolean done;
  /* uploads */
  guint attempt;
  GBytes *sent;
  guint64 uploaded_version;
  GPtrArray *events; /* BbPendingEvent, emitted at commit; NULL once committed */
};

typedef void (*WindowStartFunc) (Job *job);
typedef void (*WindowCommitFunc) (Window *w, guint first, guint last);
typedef void (*WindowDoneFunc) (Pass *pass, GError *error);

struct _Window
{
  Pass *pass;
  GPtrArray *jobs;
  guint next_start;
  guint next_commit;
  guint in_flight;
  gboolean committing;
  gboolean pumping;
  GError *error;
  GCancellable *cancellable;
  guint max_in_flight;
  guint chunk;
  BbNamespaceState *ns; /* downloads: the namespace being reconciled */
  WindowStartFunc start;
  WindowCommitFunc commit;
  WindowDoneFunc done;
};

struct _Pass
{
  gatomicrefcount ref;
  BbSyncEngine *engine;
  GTask *task;
  GCancellable *cancellable;
  const char *key_id;
  BbStore *store;

  /* phase A */
  GPtrArray *collections;
  GPtrArray *ns_ids;
  guint ns_index;
  GHashTable *ready; /* namespace ID → BbNamespaceState */
  GPtrArray *queued; /* records marked dirty, saved a chunk at a time */
  guint queued_saved;

  /* phase B */
  GPtrArray *remote; /* BbNamespaceListing */
  guint remote_index;
  BbNamespaceState *ns;
  BbActiveScope *scope;
  guint64 expected_head;

  /* phase C */
  GPtrArray *dirty;
  GHashTable *scopes; /* namespace ID → BbActiveScope */

  Window *window;
};

static void phase_b_start (Pass *pass);
static void phase_c_start (Pass *pass);
static void next_namespace (Pass *pass);

static void window_free (Window *w);

static void
pass_unref (Pass *pass)
{
  if (!g_atomic_ref_count_dec (&pass->ref))
    return;
  g_clear_pointer (&pass->window, window_free);
  g_clear_pointer (&pass->collections, g_ptr_array_unref);
  g_clear_pointer (&pass->ns_ids, g_ptr_array_unref);
  g_clear_pointer (&pass->ready, g_hash_table_unref);
  g_clear_pointer (&pass->queued, g_ptr_array_unref);
  g_clear_pointer (&pass->remote, g_ptr_array_unref);
  g_clear_object (&pass->ns);
  g_clear_pointer (&pass->scope, bb_active_scope_unref);
  g_clear_pointer (&pass->dirty, g_ptr_array_unref);
  g_clear_pointer (&pass->scopes, g_hash_table_unref);
  g_clear_object (&pass->task);
  g_clear_object (&pass->engine);
  g_free (pass);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Pass, pass_unref)

/* Ends the pass body (success when @error is NULL). */
static void
pass_finish (Pass *pass, GError *error)
{
  if (error != NULL)
    g_task_return_error (pass->task, error);
  else
    g_task_return_pointer (pass->task, GINT_TO_POINTER (TRUE), NULL);
  pass_unref (pass);
}

static gboolean
pass_check_cancelled (Pass *pass)
{
  GError *error = NULL;

  if (!g_cancellable_set_error_if_cancelled (pass->cancellable, &error))
    return FALSE;
  pass_finish (pass, error);
  return TRUE;
}

static GError *rollback_error (const char *format, ...) G_GNUC_PRINTF (1, 2);

static GError *
rollback_error (const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  return g_error_new (BB_SYNC_ERROR, BB_SYNC_ERROR_ROLLBACK, _ ("Rollback detected: %s"), message);
}

gboolean
bb_bytes_equal0 (GBytes *a, GBytes *b)
{
  gsize la = a != NULL ? g_bytes_get_size (a) : 0;
  gsize lb = b != NULL ? g_bytes_get_size (b) : 0;

  if (la != lb)
    return FALSE;
  return la == 0 || memcmp (g_bytes_get_data (a, NULL), g_bytes_get_data (b, NULL), la) == 0;
}

/* One store transaction for a step's records; one per record with a chunk of 1 (the
 * reference client's pattern, kept for comparison). */
static gboolean
save_records (Pass *pass, GPtrArray *items, GPtrArray *namespaces, GError **error)
{
  guint window, chunk;

  bb_sync_engine_get_pipeline (pass->engine, &window, &chunk);
  return bb_item_cache_save (bb_sync_engine_get_item_cache (pass->engine), items, namespaces,
                             chunk > 1, error);
}

/* A chunk's records on their way to the store (write-behind, bb-sync-item-cache.c): its
 * signals are emitted once they are saved, and the step continues then. */
typedef void (*ChunkSavedFunc) (Pass *pass, gpointer data, GError *error);

typedef struct
{
  Pass *pass;
  GPtrArray *events;
  ChunkSavedFunc func;
  gpointer data;
  GError *error; /* an error of the step itself, reported after the save */
} ChunkSave;

static void
chunk_saved (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ChunkSave *save = user_data;
  Pass *pass = save->pass;
  GError *error = NULL;

  if (bb_item_cache_save_finish (bb_sync_engine_get_item_cache (pass->engine), result, &error))
    {
      /* Announce only what is in the store. */
      bb_sync_engine_emit_pending (pass->engine, save->events);
      error = g_steal_pointer (&save->error);
    }
  else
    g_clear_error (&save->error); /* the save's error comes first */
  g_ptr_array_unref (save->events);
  save->func (pass, save->data, error);
  g_free (save);
}

/* Saves @records and @namespaces (one transaction, or one per record with a chunk of 1),
 * then emits @events and calls @func with the first error: @step_error, the step's own,
 * is reported after what was applied before it is saved. */
static void
save_chunk (Pass *pass, GPtrArray *records, GPtrArray *namespaces, GPtrArray *events,
            GError *step_error, ChunkSavedFunc func, gpointer data)
{
  ChunkSave *save = g_new0 (ChunkSave, 1);
  guint window, chunk;

  save->pass = pass;
  save->events = g_ptr_array_ref (events);
  save->func = func;
  save->data = data;
  save->error = step_error;
  bb_sync_engine_get_pipeline (pass->engine, &window, &chunk);
  bb_item_cache_save_async (bb_sync_engine_get_item_cache (pass->engine), records, namespaces,
                            chunk > 1, pass->engine, chunk_saved, save);
}

/* (transfer full): a copy of the record of @item_id, to change and save; NULL with
 * BB_SYNC_ERROR_NOT_FOUND when there is none. */
static BbItemState *
dup_item (Pass *pass, const char *namespace_id, const char *item_id, GError **error)
{
  BbItemState *item = bb_item_cache_peek_by_id (bb_sync_engine_get_item_cache (pass->engine),
                                                namespace_id, item_id, error);

  return item != NULL ? bb_item_state_copy (item) : NULL;
}

/* (transfer full): a new record for an active key without one (spec §6.4's template). */
static BbItemState *
scope_template (Pass *pass, BbNamespaceState *ns, const char *item_id, BbScopeKey *entry)
{
  return bb_item_state_new (pass->key_id, bb_namespace_state_get_namespace_id (ns),
                            entry->collection, entry->key, item_id);
}

/* --- ApplyRemote (spec §6.7) --- */

/* Appends @item to @saves and its event to @events (the caller saves, then emits). */
static void
record (GPtrArray *saves, GPtrArray *events, BbItemState *item, BbSyncEvent event)
{
  g_ptr_array_add (saves, g_object_ref (item));
  bb_pending_events_add (events, event, item);
}

static gboolean
clean_apply (BbCollection *c, BbItemState *item, GVariant *current, guint64 rv, GBytes *rval,
             GPtrArray *saves, GPtrArray *events, GError **error)
{
  gboolean replaced;

  if (!bb_collection_set_encoded_if_current (c, bb_item_state_get_key (item), current, rval,
                                             &replaced, error))
    return FALSE;
  if (!replaced)
    {
      /* A racing app write won: keep it dirty, it goes out through the upload path. */
      bb_item_state_mark_dirty (item);
      record (saves, events, item, BB_SYNC_EVENT_ITEM_QUEUED);
      return TRUE;
    }
  bb_item_state_mark_clean (item, rv, rval);
  record (saves, events, item, BB_SYNC_EVENT_ITEM_CHANGED);
  bb_pending_events_add (events, BB_SYNC_EVENT_ITEM_DOWNLOADED, item);
  return TRUE;
}

static GError *
no_backend_error (BbItemState *item)
{
  return g_error_new (BB_SYNC_ERROR, BB_SYNC_ERROR_NO_BACKEND,
                      _ ("Collection “%s” has no value backend: it is not open"),
                      bb_item_state_get_collection (item));
}

static gboolean
apply_remote (Pass *pass, BbItemState *item, guint64 rv, GBytes *rval, GPtrArray *saves,
              GPtrArray *events, GError **error)
{
  BbCollection *c;
  g_autoptr (GBytes) local = NULL;
  g_autoptr (GVariant) local_value = NULL;
  g_autoptr (GBytes) merged = NULL;
  g_autoptr (GBytes) base = NULL;
  const char *key = bb_item_state_get_key (item);
  gboolean have_local = FALSE;
  gboolean replaced;

  /* Case 1: already conflicted: refresh the remote side, keep the base. */
  if (bb_item_state_get_conflict (item))
    {
      bb_item_state_mark_conflict (item, rv, rval);
      record (saves, events, item, BB_SYNC_EVENT_CONFLICT_DETECTED);
      return TRUE;
    }

  c = bb_sync_engine_lookup_collection (pass->engine, bb_item_state_get_namespace_id (item),
                                        bb_item_state_get_collection (item));
  if (c == NULL)
    {
      g_propagate_error (error, no_backend_error (item));
      return FALSE;
    }

  /* Case 2: clean: re-read, the app may have written after the snapshot. */
  if (!bb_item_state_get_dirty (item))
    {
      if (!bb_collection_get_current (c, key, &local_value, &local, error))
        return FALSE;
      if (local == NULL)
        return clean_apply (c, item, NULL, rv, rval, saves, events, error);
      if (bb_item_state_has_merge_base (item)
          && bb_bytes_equal0 (local, bb_item_state_get_base_value (item)))
        return clean_apply (c, item, local_value, rv, rval, saves, events, error);
      have_local = TRUE;
    }

  /* Case 3: dirty, or changed since the last clean point. */
  if (!have_local)
    {
      if (!bb_collection_get_current (c, key, &local_value, &local, error))
        return FALSE;
      if (local == NULL)
        {
          g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_NOT_FOUND,
                       _ ("Dirty key “%s” of collection “%s” has no current value"), key,
                       bb_collection_get_name (c));
          return FALSE;
        }
    }
  if (bb_bytes_equal0 (local, rval))
    return clean_apply (c, item, local_value, rv, rval, saves, events, error);

  /* No merge base means none is passed (spec §2.7); a base at a version with an empty
   * value is the empty payload. */
  if (bb_item_state_has_merge_base (item))
    base = bb_item_state_get_base_value (item) != NULL
               ? g_bytes_ref (bb_item_state_get_base_value (item))
               : g_bytes_new (NULL, 0);
  if (!bb_collection_merge_bytes (c, key, base, local, rval, &merged, error))
    return FALSE;

  if (merged == NULL)
    {
      bb_item_state_mark_conflict (item, rv, rval);
      record (saves, events, item, BB_SYNC_EVENT_CONFLICT_DETECTED);
      return TRUE;
    }
  if (!bb_collection_set_encoded_if_current (c, key, local_value, merged, &replaced, error))
    return FALSE;
  if (!replaced)
    {
      bb_item_state_mark_dirty (item);
      record (saves, events, item, BB_SYNC_EVENT_ITEM_QUEUED);
      return TRUE;
    }
  if (bb_bytes_equal0 (merged, rval))
    bb_item_state_mark_clean (item, rv, rval);
  else
    bb_item_state_mark_dirty_with_base (item, rv, rval);
  record (saves, events, item, BB_SYNC_EVENT_ITEM_CHANGED);
  return TRUE;
}

/* --- the window of requests in flight --- */

static void
job_free (Job *job)
{
  g_clear_object (&job->item);
  g_free (job->item_id);
  g_clear_pointer (&job->envelope, bb_item_envelope_unref);
  g_clear_pointer (&job->plaintext, g_bytes_unref);
  g_clear_pointer (&job->sent, g_bytes_unref);
  g_clear_error (&job->error);
  g_clear_pointer (&job->events, g_ptr_array_unref);
  g_free (job);
}

static Job *
job_new (JobKind kind, BbItemState *item, guint64 listed)
{
  Job *job = g_new0 (Job, 1);

  job->kind = kind;
  job->item = item != NULL ? g_object_ref (item) : NULL;
  job->listed = listed;
  job->events = g_ptr_array_new_with_free_func ((GDestroyNotify)bb_pending_event_free);
  return job;
}

/* A download of @item_id: @item is the known record, or NULL with @entry, the active key
 * that has none yet (its template record is made only when the item is applied). */
static Job *
job_new_download (JobKind kind, const char *item_id, BbItemState *item, BbScopeKey *entry,
                  guint64 listed)
{
  Job *job = job_new (kind, item, listed);

  job->item_id = g_strdup (item_id);
  job->entry = entry;
  return job;
}

/* What a job held that is no longer needed once its chunk was committed: so memory is
 * given back while the pass goes on, not all at its end. */
static void
job_release (Job *job)
{
  g_clear_object (&job->item);
  g_clear_pointer (&job->envelope, bb_item_envelope_unref);
  g_clear_pointer (&job->plaintext, g_bytes_unref);
  g_clear_pointer (&job->sent, g_bytes_unref);
}

static void
window_free (Window *w)
{
  bb_sync_engine_op_done (w->pass->engine, w->cancellable);
  g_ptr_array_unref (w->jobs);
  g_clear_error (&w->error);
  g_clear_object (&w->cancellable);
  g_clear_object (&w->ns);
  g_free (w);
}

static void window_pump (Window *w);

/* The first real failure stops the window: nothing new starts, requests in flight are
 * cancelled, and what finished before is still committed in order. */
static void
window_fail (Window *w, GError *error)
{
  if (w->error == NULL)
    {
      w->error = error;
      g_cancellable_cancel (w->cancellable);
    }
  else
    g_error_free (error);
}

static void
job_done (Job *job, GError *error)
{
  Window *w = job->window;

  job->done = TRUE;
  w->in_flight--;
  if (error != NULL)
    {
      if (w->error != NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        job->error = error;
      else
        {
          job->error = g_error_copy (error);
          window_fail (w, error);
        }
    }
  window_pump (w);
}

static void
window_commit_done (Window *w, guint last, GError *error)
{
  bb_sync_engine_add_progress (w->pass->engine, last - w->next_commit, 0);
  w->committing = FALSE;
  w->next_commit = last;
  if (error != NULL)
    window_fail (w, error);
  window_pump (w);
}

static void
window_pump (Window *w)
{
  guint n = w->jobs->len;
  guint ready;

  if (w->pumping)
    return;
  w->pumping = TRUE;

  /* Keep the window full, but never too far ahead of the commits. */
  while (w->error == NULL && w->in_flight < w->max_in_flight && w->next_start < n
         && w->next_start - w->next_commit < 4 * w->chunk)
    {
      Job *job = g_ptr_array_index (w->jobs, w->next_start++);

      w->in_flight++;
      w->start (job);
    }

  if (!w->committing)
    {
      guint limit = w->error != NULL ? w->next_start : n;

      for (ready = 0; w->next_commit + ready < limit && ready < w->chunk; ready++)
        if (!((Job *)g_ptr_array_index (w->jobs, w->next_commit + ready))->done)
          break;
      if (ready > 0
          && (ready == w->chunk || w->next_commit + ready == limit
              || (w->in_flight == 0 && w->next_start == w->next_commit + ready)))
        {
          w->committing = TRUE;
          w->pumping = FALSE;
          w->commit (w, w->next_commit, w->next_commit + ready);
          return;
        }
    }

  w->pumping = FALSE;
  if (!w->committing && w->in_flight == 0
      && (w->next_commit == n || (w->error != NULL && w->next_commit == w->next_start)))
    {
      Pass *pass = w->pass;
      WindowDoneFunc done = w->done;
      GError *error = g_steal_pointer (&w->error);

      pass->window = NULL;
      window_free (w);
      done (pass, error);
    }
}

static void
window_run (Pass *pass, GPtrArray *jobs, BbNamespaceState *ns, WindowStartFunc start,
            WindowCommitFunc commit, WindowDoneFunc done)
{
  Window *w = g_new0 (Window, 1);

  w->pass = pass;
  w->jobs = jobs;
  w->ns = ns != NULL ? g_object_ref (ns) : NULL;
  w->start = start;
  w->commit = commit;
  w->done = done;
  /* The pass's cancellation (caller or close) stops the window too. */
  w->cancellable = g_object_ref (bb_sync_engine_op_cancellable (pass->engine, pass->cancellable));
  bb_sync_engine_get_pipeline (pass->engine, &w->max_in_flight, &w->chunk);
  for (guint i = 0; i < jobs->len; i++)
    {
      Job *job = g_ptr_array_index (jobs, i);

      job->window = w;
      job->index = i;
    }
  pass->window = w;
  bb_sync_engine_add_progress (pass->engine, 0, jobs->len);
  window_pump (w);
}

/* --- phase A: snapshot reconciliation (spec §6.2) --- */

static void phase_a_ready_next (Pass *pass);
static void phase_a_warm_next (Pass *pass);
static gboolean phase_a_save_next (gpointer user_data);
static void phase_a_saved (Pass *pass, gpointer data, GError *error);

static int
compare_item_keys (gconstpointer a, gconstpointer b)
{
  return strcmp (bb_item_state_get_key (*(BbItemState **)a),
                 bb_item_state_get_key (*(BbItemState **)b));
}

/* Snapshot reconciliation of one collection: marks dirty (in @queued, key order) every
 * active key whose encoded value differs from its last clean value. */
static gboolean
reconcile_collection (Pass *pass, BbCollection *c, BbActiveScope *scope, GPtrArray *queued,
                      GError **error)
{
  const char *name = bb_collection_get_name (c);
  const char *ns_id = bb_namespace_get_id (bb_collection_get_namespace (c));
  BbItemCache *cache = bb_sync_engine_get_item_cache (pass->engine);
  g_autoptr (GVariant) snapshot = NULL;
  guint first = queued->len;
  GVariantIter iter;
  const char *key;
  GVariant *value;

  snapshot = bb_value_backend_snapshot (bb_collection_get_backend (c), error);
  if (snapshot == NULL)
    return FALSE;
  g_variant_iter_init (&iter, snapshot);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      g_autoptr (GVariant) owned = value;
      g_autoptr (GBytes) encoded = bb_codec_encode (bb_collection_get_codec (c), owned, error);
      const char *item_id;
      BbItemState *stored;
      BbItemState *item;

      if (encoded == NULL)
        {
          g_prefix_error (error, _ ("Snapshot of collection “%s”, key “%s”: "), name, key);
          return FALSE;
        }
      /* Keys outside the active scope are ignored (spec §2.8). */
      item_id = bb_active_scope_lookup (scope, name, key);
      if (item_id == NULL)
        continue;
      stored = bb_item_cache_peek_by_id (cache, ns_id, item_id, error);
      if (stored == NULL)
        {
          if (!g_error_matches (*error, BB_SYNC_ERROR, BB_SYNC_ERROR_NOT_FOUND))
            return FALSE;
          g_clear_error (error);
        }
      /* Untouched records are not saved again: their updated-at stays. */
      else if (bb_item_state_get_conflict (stored) || bb_item_state_get_dirty (stored)
               || (bb_item_state_has_merge_base (stored)
                   && bb_bytes_equal0 (encoded, bb_item_state_get_base_value (stored))))
        continue;
      item = stored != NULL ? bb_item_state_copy (stored)
                            : bb_item_state_new (pass->key_id, ns_id, name, key, item_id);
      bb_item_state_mark_dirty (item);
      g_ptr_array_add (queued, item);
    }
  /* Events in key order (spec §6.2): sort only what was queued. */
  if (queued->len - first > 1)
    {
      g_autoptr (GPtrArray) part = g_ptr_array_new ();

      for (guint i = first; i < queued->len; i++)
        g_ptr_array_add (part, g_ptr_array_index (queued, i));
      g_ptr_array_sort (part, compare_item_keys);
      for (guint i = first; i < queued->len; i++)
        queued->pdata[i] = g_ptr_array_index (part, i - first);
    }
  return TRUE;
}

static void
phase_a_reconcile (Pass *pass)
{
  g_autoptr (GPtrArray) saves = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GHashTable) scopes = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                                         (GDestroyNotify)bb_active_scope_unref);
  GError *error = NULL;

  for (guint i = 0; i < pass->collections->len; i++)
    {
      BbCollection *c = g_ptr_array_index (pass->collections, i);
      const char *ns_id = bb_namespace_get_id (bb_collection_get_namespace (c));
      BbActiveScope *scope = g_hash_table_lookup (scopes, ns_id);

      /* One scope per namespace for the whole phase. */
      if (scope == NULL)
        {
          scope = bb_active_scope_compute (pass->engine, g_hash_table_lookup (pass->ready, ns_id),
                                           &error);
          if (scope == NULL)
            goto failed;
          g_hash_table_insert (scopes, (gpointer)ns_id, scope);
        }
      if (!reconcile_collection (pass, c, scope, saves, &error))
        goto failed;
    }

  pass->queued = g_steal_pointer (&saves);
  pass->queued_saved = 0;
  phase_a_save_next (pass);
  return;

failed:
  pass_finish (pass, error);
}

/* Saves and announces the queued records a chunk at a time, returning to the main loop
 * in between: a first sync of 10 000 local values must not hold it for the whole batch. */
static gboolean
phase_a_save_next (gpointer user_data)
{
  Pass *pass = user_data;
  g_autoptr (GPtrArray) chunk = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) events
      = g_ptr_array_new_with_free_func ((GDestroyNotify)bb_pending_event_free);
  guint window, size;

  if (pass_check_cancelled (pass))
    return G_SOURCE_REMOVE;
  bb_sync_engine_get_pipeline (pass->engine, &window, &size);
  while (pass->queued_saved < pass->queued->len && chunk->len < size)
    {
      BbItemState *item = g_ptr_array_index (pass->queued, pass->queued_saved++);

      g_ptr_array_add (chunk, g_object_ref (item));
      bb_pending_events_add (events, BB_SYNC_EVENT_ITEM_QUEUED, item);
    }
  save_chunk (pass, chunk, NULL, events, NULL, phase_a_saved, NULL);
  return G_SOURCE_REMOVE;
}

static void
phase_a_saved (Pass *pass, gpointer data, GError *error)
{
  if (error != NULL)
    {
      pass_finish (pass, error);
      return;
    }
  if (pass->queued_saved < pass->queued->len)
    {
      phase_a_save_next (pass);
      return;
    }
  g_clear_pointer (&pass->queued, g_ptr_array_unref);
  phase_b_start (pass);
}

static void
phase_a_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Pass *pass = user_data;
  GError *error = NULL;
  BbNamespaceState *ns = bb_sync_namespace_ready_finish (BB_SYNC_ENGINE (source), result, &error);

  if (ns == NULL)
    {
      pass_finish (pass, error);
      return;
    }
  g_hash_table_replace (pass->ready, g_strdup (bb_namespace_state_get_namespace_id (ns)), ns);
  phase_a_ready_next (pass);
}

static void
phase_a_ready_next (Pass *pass)
{
  if (pass_check_cancelled (pass))
    return;
  if (pass->ns_index < pass->ns_ids->len)
    {
      const char *id = g_ptr_array_index (pass->ns_ids, pass->ns_index++);

      bb_sync_namespace_ready_async (pass->engine, id, "", pass->cancellable, phase_a_ready, pass);
      return;
    }
  pass->ns_index = 0;
  phase_a_warm_next (pass);
}

static void
phase_a_warmed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Pass *pass = user_data;
  GError *error = NULL;

  if (!bb_sync_engine_warm_item_ids_finish (BB_SYNC_ENGINE (source), result, &error))
    {
      pass_finish (pass, error);
      return;
    }
  phase_a_warm_next (pass);
}

/* Item IDs of every key in scope, computed off the main thread where missing. */
static void
phase_a_warm_next (Pass *pass)
{
  if (pass_check_cancelled (pass))
    return;
  if (pass->ns_index < pass->ns_ids->len)
    {
      const char *id = g_ptr_array_index (pass->ns_ids, pass->ns_index++);

      bb_sync_engine_warm_item_ids_async (pass->engine, g_hash_table_lookup (pass->ready, id),
                                          pass->cancellable, phase_a_warmed, pass);
      return;
    }
  phase_a_reconcile (pass);
}

static void
phase_a_start (Pass *pass)
{
  pass->collections = bb_sync_engine_dup_collections (pass->engine, NULL);
  pass->ns_ids = g_ptr_array_new_with_free_func (g_free);
  pass->ns_index = 0;
  g_clear_pointer (&pass->ready, g_hash_table_unref);
  pass->ready = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  for (guint i = 0; i < pass->collections->len; i++)
    {
      const char *id = bb_namespace_get_id (
          bb_collection_get_namespace (g_ptr_array_index (pass->collections, i)));

      if (pass->ns_ids->len == 0
          || strcmp (g_ptr_array_index (pass->ns_ids, pass->ns_ids->len - 1), id) != 0)
        g_ptr_array_add (pass->ns_ids, g_strdup (id));
    }
  phase_a_ready_next (pass);
}

/* --- phase B: namespace reconciliation (spec §6.3) --- */

typedef struct
{
  BbNamespaceState *ns;
  GBytes *blob_key;
  GPtrArray *jobs;
  guint last;
} DecryptChunk;

static void
decrypt_chunk_free (DecryptChunk *chunk)
{
  g_object_unref (chunk->ns);
  g_bytes_unref (chunk->blob_key);
  g_ptr_array_unref (chunk->jobs);
  g_free (chunk);
}

/* Worker thread: pure crypto on immutable inputs, no app code, no store. */
static void
decrypt_chunk_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  DecryptChunk *chunk = task_data;
  const char *ns_id = bb_namespace_state_get_namespace_id (chunk->ns);

  for (guint i = 0; i < chunk->jobs->len; i++)
    {
      Job *job = g_ptr_array_index (chunk->jobs, i);
      BbItemEnvelope *env = job->envelope;

      if (env == NULL)
        continue;
      job->plaintext = bb_protocol_decrypt_item_with_key (
          chunk->blob_key, ns_id, bb_item_envelope_get_item_id (env),
          bb_item_envelope_get_version (env), bb_item_envelope_get_nonce (env),
          bb_item_envelope_get_aad (env), bb_item_envelope_get_ciphertext (env), &job->error);
    }
  g_task_return_boolean (task, TRUE);
}

/* Fetch and apply (spec §6.6), the apply half, on the main context. */
static gboolean
apply_fetched (Pass *pass, BbNamespaceState *ns, Job *job, GPtrArray *saves, GPtrArray *events,
               GError **error)
{
  BbItemEnvelope *env = job->envelope;
  guint64 fetched = bb_item_envelope_get_version (env);
  g_autoptr (BbItemState) item = NULL;
  GError *local_error = NULL;

  if (job->error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&job->error));
      return FALSE;
    }
  if (fetched < job->listed)
    {
      g_propagate_error (error,
                         rollback_error (_ ("item %s has version %llu, below the listed %llu"),
                                         job->item_id, (unsigned long long)fetched,
                                         (unsigned long long)job->listed));
      return FALSE;
    }

  item = dup_item (pass, bb_namespace_state_get_namespace_id (ns), job->item_id, &local_error);
  if (item == NULL)
    {
      if (!g_error_matches (local_error, BB_SYNC_ERROR, BB_SYNC_ERROR_NOT_FOUND))
        {
          g_propagate_error (error, local_error);
          return FALSE;
        }
      g_clear_error (&local_error);
      item = job->item != NULL ? bb_item_state_copy (job->item)
                               : scope_template (pass, ns, job->item_id, job->entry);
    }
  if (bb_item_state_get_version (item) >= fetched)
    return TRUE;
  return apply_remote (pass, item, fetched, job->plaintext, saves, events, error);
}

static void
download_saved (Pass *pass, gpointer data, GError *error)
{
  window_commit_done (pass->window, GPOINTER_TO_UINT (data), error);
}

static void
download_decrypted (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Window *w = user_data;
  Pass *pass = w->pass;
  DecryptChunk *chunk = g_task_get_task_data (G_TASK (result));
  g_autoptr (GPtrArray) saves = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) events
      = g_ptr_array_new_with_free_func ((GDestroyNotify)bb_pending_event_free);
  GError *error = NULL;

  for (guint i = 0; i < chunk->jobs->len && error == NULL; i++)
    {
      Job *job = g_ptr_array_index (chunk->jobs, i);

      if (job->kind == JOB_UNKNOWN)
        {
          BbPendingEvent *ev = g_new0 (BbPendingEvent, 1);

          ev->event = BB_SYNC_EVENT_UNKNOWN_REMOTE_ITEM;
          ev->namespace_id = g_strdup (bb_namespace_state_get_namespace_id (chunk->ns));
          ev->item_id = g_strdup (job->item_id);
          g_ptr_array_add (events, ev);
        }
      else if (job->envelope != NULL)
        apply_fetched (pass, chunk->ns, job, saves, events, &error);
      else
        break; /* a failed or cancelled fetch: the window already holds the error */
    }
  for (guint i = 0; i < chunk->jobs->len; i++)
    job_release (g_ptr_array_index (chunk->jobs, i));
  /* What was applied before a failure is saved too. */
  save_chunk (pass, saves, NULL, events, error, download_saved, GUINT_TO_POINTER (chunk->last));
}

static void
download_commit (Window *w, guint first, guint last)
{
  DecryptChunk *chunk = g_new0 (DecryptChunk, 1);
  g_autoptr (GTask) task = NULL;

  chunk->ns = g_object_ref (w->ns);
  /* Derived on the main context (the cache is not thread-safe), used on the worker. */
  chunk->blob_key = bb_sync_engine_blob_key (w->pass->engine, w->ns, NULL);
  chunk->jobs = g_ptr_array_new ();
  chunk->last = last;
  for (guint i = first; i < last; i++)
    g_ptr_array_add (chunk->jobs, g_ptr_array_index (w->jobs, i));

  /* The task's source object keeps the engine alive until the callback has run. */
  task = g_task_new (w->pass->engine, NULL, download_decrypted, w);
  g_task_set_task_data (task, chunk, (GDestroyNotify)decrypt_chunk_free);
  g_task_run_in_thread (task, decrypt_chunk_thread);
}

static void
download_fetched (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Job *job = user_data;
  GError *error = NULL;
  BbItemEnvelope *env = bb_client_get_item_finish (BB_CLIENT (source), result, &error);

  guint64 known = job->item != NULL ? bb_item_state_get_version (job->item) : 0;

  if (env != NULL && bb_item_envelope_get_version (env) < known)
    {
      error = rollback_error (_ ("item %s went back from version %llu to %llu"), job->item_id,
                              (unsigned long long)known,
                              (unsigned long long)bb_item_envelope_get_version (env));
      bb_item_envelope_unref (env);
      env = NULL;
    }
  job->envelope = env;
  job_done (job, error);
}

static void
download_start (Job *job)
{
  Window *w = job->window;

  if (job->kind == JOB_UNKNOWN)
    {
      job_done (job, NULL);
      return;
    }
  bb_client_get_item_async (bb_sync_engine_get_client (w->pass->engine),
                            bb_namespace_state_get_namespace_id (w->ns), job->item_id,
                            w->cancellable, download_fetched, job);
}

static void
save_identity_default (Pass *pass, BbNamespaceListing *info, GError **error)
{
  BbIdentityState *state = bb_sync_engine_peek_identity_state (pass->engine);
  const char *cached = bb_identity_state_get_default_namespace_id (state);
  g_autoptr (BbIdentityState) copy = NULL;

  if (strcmp (bb_namespace_listing_get_kind (info), "default") != 0
      || (cached != NULL && cached[0] != '\0'))
    return;
  /* Only the changed field: a token refreshed meanwhile stays (spec §10 item 6). */
  copy = bb_identity_state_copy (state);
  bb_identity_state_set_default_namespace_id (copy, bb_namespace_listing_get_namespace_id (info));
  bb_identity_state_set_updated_at (copy, bb_sync_engine_now (pass->engine));
  bb_sync_engine_save_identity_state (pass->engine, copy, error);
}

static void
namespace_done (Pass *pass)
{
  BbNamespaceListing *info = g_ptr_array_index (pass->remote, pass->remote_index - 1);
  GError *error = NULL;

  save_identity_default (pass, info, &error);
  if (error != NULL)
    {
      pass_finish (pass, error);
      return;
    }
  g_object_unref (bb_sync_engine_ensure_namespace_handle (
      pass->engine, bb_namespace_listing_get_namespace_id (info), bb_namespace_listing_get_kind (info)));
  next_namespace (pass);
}

static void
downloads_done (Pass *pass, GError *error)
{
  BbNamespaceState *ns = pass->ns;

  if (error != NULL)
    {
      pass_finish (pass, error);
      return;
    }
  /* The map's head: it may be above the listed one if the server moved on. */
  bb_namespace_state_set_active_scope_hash (ns, pass->scope->hash);
  bb_namespace_state_set_updated_at (ns, bb_sync_engine_now (pass->engine));
  if (!bb_store_save_namespace (pass->store, ns, &error))
    {
      pass_finish (pass, error);
      return;
    }
  bb_sync_engine_emit_namespace (pass->engine, BB_SYNC_EVENT_NAMESPACE_CHANGED,
                                 bb_namespace_state_get_namespace_id (ns));
  namespace_done (pass);
}

/* Item-map reconciliation (spec §6.5). */
static void
item_map_fetched (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Pass *pass = user_data;
  BbNamespaceState *ns = pass->ns;
  const char *ns_id = bb_namespace_state_get_namespace_id (ns);
  g_autoptr (BbNamespaceItems) map = NULL;
  g_autoptr (GPtrArray) local = NULL;
  g_autoptr (GHashTable) known = NULL;
  g_autoptr (GHashTable) inactive = NULL;
  g_auto (GStrv) ids = NULL;
  GPtrArray *jobs;
  GError *error = NULL;

  map = bb_client_get_items_finish (BB_CLIENT (source), result, &error);
  if (map == NULL)
    goto failed;
  if (bb_namespace_items_get_head (map) < bb_namespace_state_get_namespace_head (ns)
      || bb_namespace_items_get_head (map) < pass->expected_head)
    {
      error = rollback_error (_ ("namespace %s item map head %llu is below %llu"), ns_id,
                              (unsigned long long)bb_namespace_items_get_head (map),
                              (unsigned long long)MAX (bb_namespace_state_get_namespace_head (ns),
                                                       pass->expected_head));
      goto failed;
    }

  local = bb_item_cache_list (bb_sync_engine_get_item_cache (pass->engine), ns_id, &error);
  if (local == NULL)
    goto failed;
  known = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_object_unref);
  inactive = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < local->len; i++)
    {
      BbItemState *item = g_ptr_array_index (local, i);
      const char *item_id = bb_item_state_get_item_id (item);
      guint64 listed = bb_namespace_items_get_version (map, item_id);
      guint64 version = bb_item_state_get_version (item);

      if (listed != 0 && listed < version)
        {
          error = rollback_error (_ ("item %s is listed at version %llu, below the known %llu"),
                                  item_id, (unsigned long long)listed, (unsigned long long)version);
          goto failed;
        }
      if (listed == 0 && version > 0)
        {
          error = rollback_error (_ ("item %s disappeared from namespace %s"), item_id, ns_id);
          goto failed;
        }
      if (bb_active_scope_contains (pass->scope, item))
        g_hash_table_replace (known, (gpointer)item_id, g_object_ref (item));
      else
        g_hash_table_add (inactive, (gpointer)item_id);
    }
  jobs = g_ptr_array_new_with_free_func ((GDestroyNotify)job_free);
  ids = bb_namespace_items_dup_item_ids (map); /* ascending */
  for (guint i = 0; ids[i] != NULL; i++)
    {
      BbItemState *item = g_hash_table_lookup (known, ids[i]);
      guint64 listed = bb_namespace_items_get_version (map, ids[i]);
      BbScopeKey *entry;

      /* An active key with no record yet: a template record (made only when needed). */
      if (item == NULL && (entry = g_hash_table_lookup (pass->scope->items, ids[i])) != NULL)
        {
          g_ptr_array_add (jobs, job_new_download (JOB_FETCH, ids[i], NULL, entry, listed));
          continue;
        }
      if (item == NULL)
        {
          if (!g_hash_table_contains (inactive, ids[i]))
            g_ptr_array_add (jobs, job_new_download (JOB_UNKNOWN, ids[i], NULL, NULL, 0));
          continue;
        }
      if (listed <= bb_item_state_get_version (item))
        continue;
      g_ptr_array_add (jobs, job_new_download (JOB_FETCH, ids[i], item, NULL, listed));
    }

  bb_namespace_state_set_namespace_head (ns, bb_namespace_items_get_head (map));
  window_run (pass, jobs, ns, download_start, download_commit, downloads_done);
  return;

failed:
  pass_finish (pass, error);
}

static void
namespace_ready (Pass *pass)
{
  BbNamespaceListing *info = g_ptr_array_index (pass->remote, pass->remote_index - 1);
  BbNamespaceState *ns = pass->ns;
  guint64 remote_head = bb_namespace_listing_get_head (info);
  gboolean remote_changed = remote_head > bb_namespace_state_get_namespace_head (ns);
  GError *error = NULL;

  g_clear_pointer (&pass->scope, bb_active_scope_unref);
  pass->scope = bb_active_scope_compute (pass->engine, ns, &error);
  if (pass->scope == NULL)
    {
      pass_finish (pass, error);
      return;
    }
  if (remote_changed
      || g_strcmp0 (pass->scope->hash, bb_namespace_state_get_active_scope_hash (ns)) != 0)
    {
      pass->expected_head = remote_head;
      bb_client_get_items_async (bb_sync_engine_get_client (pass->engine),
                                 bb_namespace_state_get_namespace_id (ns), pass->cancellable,
                                 item_map_fetched, pass);
      return;
    }
  bb_namespace_state_set_namespace_head (ns, remote_head);
  bb_namespace_state_set_active_scope_hash (ns, pass->scope->hash);
  bb_namespace_state_set_updated_at (ns, bb_sync_engine_now (pass->engine));
  if (!bb_store_save_namespace (pass->store, ns, &error))
    {
      pass_finish (pass, error);
      return;
    }
  namespace_done (pass);
}

static void
namespace_joined (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Pass *pass = user_data;
  GError *error = NULL;
  BbNamespaceState *ns = bb_sync_namespace_join_finish (BB_SYNC_ENGINE (source), result, &error);

  if (ns == NULL)
    {
      pass_finish (pass, error);
      return;
    }
  g_set_object (&pass->ns, ns);
  g_object_unref (ns);
  namespace_ready (pass);
}

static void
next_namespace (Pass *pass)
{
  BbNamespaceListing *info;
  const char *id;
  g_autoptr (BbNamespaceState) ns = NULL;
  GError *error = NULL;

  if (pass_check_cancelled (pass))
    return;
  if (pass->remote_index >= pass->remote->len)
    {
      phase_c_start (pass);
      return;
    }
  info = g_ptr_array_index (pass->remote, pass->remote_index++);
  id = bb_namespace_listing_get_namespace_id (info);

  ns = bb_store_get_namespace (pass->store, pass->key_id, id, &error);
  if (ns == NULL)
    {
      if (!g_error_matches (error, BB_SYNC_ERROR, BB_SYNC_ERROR_NOT_FOUND))
        {
          pass_finish (pass, error);
          return;
        }
      g_clear_error (&error);
      ns = bb_namespace_state_new (pass->key_id, id);
    }
  if (bb_namespace_listing_get_head (info) < bb_namespace_state_get_namespace_head (ns))
    {
      pass_finish (pass,
                   rollback_error (_ ("namespace %s head went back from %llu to %llu"), id,
                                   (unsigned long long)bb_namespace_state_get_namespace_head (ns),
                                   (unsigned long long)bb_namespace_listing_get_head (info)));
      return;
    }
  bb_namespace_state_set_kind (ns, bb_namespace_listing_get_kind (info));
  g_set_object (&pass->ns, ns);
  if (!bb_namespace_state_has_dek (ns))
    {
      bb_sync_namespace_join_async (pass->engine, id, bb_namespace_listing_get_kind (info),
                                    pass->cancellable, namespace_joined, pass);
      return;
    }
  namespace_ready (pass);
}

static void
namespaces_listed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Pass *pass = user_data;
  BbIdentityState *state = bb_sync_engine_peek_identity_state (pass->engine);
  const char *cached_default = bb_identity_state_get_default_namespace_id (state);
  g_autoptr (GHashTable) remote_ids = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) local = NULL;
  const char *listed_default = NULL;
  GError *error = NULL;

  if (cached_default != NULL && cached_default[0] == '\0')
    cached_default = NULL;
  pass->remote = bb_client_list_namespaces_finish (BB_CLIENT (source), result, &error);
  if (pass->remote == NULL)
    goto failed;
  local = bb_store_list_namespaces (pass->store, pass->key_id, &error);
  if (local == NULL)
    goto failed;

  for (guint i = 0; i < pass->remote->len; i++)
    {
      BbNamespaceListing *info = g_ptr_array_index (pass->remote, i);
      const char *id = bb_namespace_listing_get_namespace_id (info);
      const char *kind = bb_namespace_listing_get_kind (info);
      gboolean is_default = strcmp (kind, "default") == 0;

      if (!is_default && strcmp (kind, "shared") != 0)
        {
          error = g_error_new (BB_SYNC_ERROR, BB_SYNC_ERROR_UNSUPPORTED,
                               _ ("Namespace %s has an unsupported kind “%s”"), id, kind);
          goto failed;
        }
      if (cached_default != NULL && strcmp (cached_default, id) == 0 && !is_default)
        {
          error = rollback_error (_ ("default namespace %s is listed as “%s”"), id, kind);
          goto failed;
        }
      g_hash_table_add (remote_ids, (gpointer)id);
      if (is_default)
        {
          if (listed_default != NULL && strcmp (listed_default, id) != 0)
            {
              error = g_error_new (BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL,
                                   _ ("The server returned multiple default namespaces"));
              goto failed;
            }
          listed_default = id;
        }
    }
  if (cached_default != NULL && listed_default != NULL && strcmp (cached_default, listed_default))
    {
      error = rollback_error (_ ("default namespace mismatch: %s is cached, %s is listed"),
                              cached_default, listed_default);
      goto failed;
    }
  if (cached_default != NULL && !g_hash_table_contains (remote_ids, cached_default))
    {
      error = rollback_error (_ ("default namespace %s disappeared"), cached_default);
      goto failed;
    }
  for (guint i = 0; i < local->len; i++)
    {
      const char *id = bb_namespace_state_get_namespace_id (g_ptr_array_index (local, i));

      if (!g_hash_table_contains (remote_ids, id))
        {
          error = rollback_error (_ ("namespace %s disappeared"), id);
          goto failed;
        }
    }

  pass->remote_index = 0;
  next_namespace (pass);
  return;

failed:
  pass_finish (pass, error);
}

static void
phase_b_start (Pass *pass)
{
  if (pass_check_cancelled (pass))
    return;
  bb_client_list_namespaces_async (bb_sync_engine_get_client (pass->engine), pass->cancellable,
                                   namespaces_listed, pass);
}

/* --- phase C: flush (spec §6.8) --- */

static BbActiveScope *
flush_scope (Pass *pass, BbItemState *item)
{
  return g_hash_table_lookup (pass->scopes, bb_item_state_get_namespace_id (item));
}

static gboolean
upload_eligible (Pass *pass, BbItemState *item)
{
  BbActiveScope *scope = flush_scope (pass, item);

  return scope != NULL && !bb_item_state_get_conflict (item) && bb_item_state_get_dirty (item)
         && bb_active_scope_contains (scope, item);
}

/* Re-reads @job's item; FALSE (job finished) when it is gone or no longer uploadable. */
static gboolean
upload_reread (Job *job)
{
  Pass *pass = job->window->pass;
  g_autoptr (BbItemState) item = NULL;
  GError *error = NULL;

  item = dup_item (pass, bb_item_state_get_namespace_id (job->item),
                   bb_item_state_get_item_id (job->item), &error);
  if (item == NULL)
    {
      if (g_error_matches (error, BB_SYNC_ERROR, BB_SYNC_ERROR_NOT_FOUND))
        g_clear_error (&error);
      job_done (job, error);
      return FALSE;
    }
  if (!upload_eligible (pass, item))
    {
      job_done (job, NULL);
      return FALSE;
    }
  g_set_object (&job->item, item);
  return TRUE;
}

static void upload_put (GObject *source, GAsyncResult *result, gpointer user_data);

/* What a worker thread needs to encrypt one upload, and what it produces. */
typedef struct
{
  GBytes *blob_key;
  char *namespace_id;
  char *item_id;
  guint64 version;
  GBytes *value;
  GBytes *nonce;
  GBytes *aad;
  GBytes *ciphertext;
} Sealing;

static void
sealing_free (Sealing *sealing)
{
  g_bytes_unref (sealing->blob_key);
  g_free (sealing->namespace_id);
  g_free (sealing->item_id);
  g_bytes_unref (sealing->value);
  g_clear_pointer (&sealing->nonce, g_bytes_unref);
  g_clear_pointer (&sealing->aad, g_bytes_unref);
  g_clear_pointer (&sealing->ciphertext, g_bytes_unref);
  g_free (sealing);
}

/* Worker thread: encryption only, on immutable inputs. */
static void
seal_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Sealing *sealing = task_data;
  GError *error = NULL;

  sealing->ciphertext = bb_protocol_encrypt_item_with_key (
      sealing->blob_key, sealing->namespace_id, sealing->item_id, sealing->version + 1,
      sealing->value, NULL, &sealing->nonce, &sealing->aad, &error);
  if (sealing->ciphertext == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
upload_sealed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Job *job = user_data;
  Sealing *sealing = g_task_get_task_data (G_TASK (result));
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      job_done (job, error);
      return;
    }
  bb_client_put_item_async (bb_sync_engine_get_client (job->window->pass->engine),
                            sealing->namespace_id, sealing->item_id, sealing->version,
                            sealing->nonce, sealing->aad, sealing->ciphertext,
                            job->window->cancellable, upload_put, job);
}

/* Upload (spec §6.8): the value as the backend has it now, encrypted for the next version
 * on a worker thread, then PUT with If-Match (none for a first version). */
static void
upload_send (Job *job)
{
  Pass *pass = job->window->pass;
  BbItemState *item = job->item;
  const char *ns_id = bb_item_state_get_namespace_id (item);
  BbNamespaceState *ns = g_hash_table_lookup (pass->ready, ns_id);
  BbCollection *c
      = bb_sync_engine_lookup_collection (pass->engine, ns_id, bb_item_state_get_collection (item));
  g_autoptr (GBytes) value = NULL;
  g_autoptr (GTask) task = NULL;
  Sealing *sealing;
  GError *error = NULL;

  value = bb_collection_get_encoded (c, bb_item_state_get_key (item), &error);
  if (error != NULL || value == NULL)
    {
      /* No current value is permanent: the item stays dirty, silently (spec §6.8). */
      job_done (job, error);
      return;
    }
  if (g_bytes_get_size (value) > BB_SYNC_ENGINE_MAX_VALUE_SIZE)
    {
      g_debug ("Key “%s” of collection “%s” is too large to upload: %" G_GSIZE_FORMAT
               " bytes of ciphertext, at most 65536",
               bb_item_state_get_key (item), bb_item_state_get_collection (item),
               g_bytes_get_size (value) + 16);
      job_done (job, NULL);
      return;
    }
  sealing = g_new0 (Sealing, 1);
  sealing->blob_key = bb_sync_engine_blob_key (pass->engine, ns, &error);
  if (sealing->blob_key == NULL)
    {
      g_free (sealing);
      job_done (job, error);
      return;
    }
  sealing->namespace_id = g_strdup (ns_id);
  sealing->item_id = g_strdup (bb_item_state_get_item_id (item));
  sealing->version = bb_item_state_get_version (item);
  sealing->value = g_bytes_ref (value);
  g_clear_pointer (&job->sent, g_bytes_unref);
  job->sent = g_steal_pointer (&value);

  task = g_task_new (pass->engine, NULL, upload_sealed, job);
  g_task_set_task_data (task, sealing, (GDestroyNotify)sealing_free);
  g_task_run_in_thread (task, seal_thread);
}

/* ConflictFetch (spec §6.8): after a precondition failure. */
static void
conflict_fetched (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Job *job = user_data;
  Pass *pass = job->window->pass;
  g_autoptr (BbItemEnvelope) env = NULL;
  g_autoptr (GBytes) blob_key = NULL;
  g_autoptr (GBytes) plaintext = NULL;
  g_autoptr (GPtrArray) saves = g_ptr_array_new_with_free_func (g_object_unref);
  const char *ns_id = bb_item_state_get_namespace_id (job->item);
  BbNamespaceState *ns = g_hash_table_lookup (pass->ready, ns_id);
  GError *error = NULL;
  guint64 rv;

  env = bb_client_get_item_finish (BB_CLIENT (source), result, &error);
  if (env == NULL)
    {
      job_done (job, error);
      return;
    }
  rv = bb_item_envelope_get_version (env);
  if (rv < bb_item_state_get_version (job->item))
    {
      job_done (job, rollback_error (_ ("item %s went back from version %llu to %llu"),
                                     bb_item_state_get_item_id (job->item),
                                     (unsigned long long)bb_item_state_get_version (job->item),
                                     (unsigned long long)rv));
      return;
    }
  blob_key = bb_sync_engine_blob_key (pass->engine, ns, &error);
  if (blob_key != NULL)
    plaintext = bb_protocol_decrypt_item_with_key (
        blob_key, ns_id, bb_item_envelope_get_item_id (env), rv, bb_item_envelope_get_nonce (env),
        bb_item_envelope_get_aad (env), bb_item_envelope_get_ciphertext (env), &error);
  if (plaintext == NULL
      || !apply_remote (pass, job->item, rv, plaintext, saves, job->events, &error)
      || !save_records (pass, saves, NULL, &error))
    {
      job_done (job, error);
      return;
    }

  /* One retry per flush; after a second precondition failure the item stays dirty
   * against the newest base. */
  if (job->attempt >= 1)
    {
      job_done (job, NULL);
      return;
    }
  job->attempt++;
  if (upload_reread (job))
    upload_send (job);
}

static void
upload_put (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Job *job = user_data;
  GError *error = NULL;
  guint64 version = bb_client_put_item_finish (BB_CLIENT (source), result, &error);
  guint status;

  if (error == NULL)
    {
      job->uploaded_version = version;
      job_done (job, NULL);
      return;
    }
  status = bb_sync_error_get_http_status (error);
  if (status != 412 && status != 428)
    {
      job_done (job, error);
      return;
    }
  g_clear_error (&error);
  bb_client_get_item_async (BB_CLIENT (source), bb_item_state_get_namespace_id (job->item),
                            bb_item_state_get_item_id (job->item), job->window->cancellable,
                            conflict_fetched, job);
}

static void
upload_start (Job *job)
{
  if (upload_reread (job))
    upload_send (job);
}

/* SaveUpload (spec §6.8), a chunk at a time. */
static void
upload_commit (Window *w, guint first, guint last)
{
  Pass *pass = w->pass;
  g_autoptr (GPtrArray) saves = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) touched = g_ptr_array_new ();
  g_autoptr (GPtrArray) namespaces = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) events
      = g_ptr_array_new_with_free_func ((GDestroyNotify)bb_pending_event_free);

  for (guint i = first; i < last; i++)
    {
      Job *job = g_ptr_array_index (w->jobs, i);

      g_ptr_array_extend_and_steal (events, g_steal_pointer (&job->events));
      if (job->uploaded_version != 0 && job->error == NULL)
        {
          BbNamespaceState *ns
              = g_hash_table_lookup (pass->ready, bb_item_state_get_namespace_id (job->item));

          bb_item_state_mark_clean (job->item, job->uploaded_version, job->sent);
          record (saves, events, job->item, BB_SYNC_EVENT_ITEM_UPLOADED);
          /* Each accepted write raises the server head by one: so the next list does not
           * take this client's own write for a remote change. */
          bb_namespace_state_set_namespace_head (ns,
                                                 bb_namespace_state_get_namespace_head (ns) + 1);
          bb_namespace_state_set_updated_at (ns, bb_sync_engine_now (pass->engine));
          if (!g_ptr_array_find (touched, ns, NULL))
            g_ptr_array_add (touched, ns);
        }
    }
  /* The worker saves copies: the pass goes on moving the heads meanwhile. */
  for (guint i = 0; i < touched->len; i++)
    g_ptr_array_add (namespaces, bb_namespace_state_copy (g_ptr_array_index (touched, i)));
  for (guint i = first; i < last; i++)
    job_release (g_ptr_array_index (w->jobs, i));
  save_chunk (pass, saves, namespaces, events, NULL, download_saved, GUINT_TO_POINTER (last));
}

static void
flush_done (Pass *pass, GError *error)
{
  pass_finish (pass, error);
}

static int
compare_dirty (gconstpointer a, gconstpointer b)
{
  BbItemState *ia = *(BbItemState **)a;
  BbItemState *ib = *(BbItemState **)b;
  gint64 ta = bb_item_state_get_updated_at (ia);
  gint64 tb = bb_item_state_get_updated_at (ib);
  int c;

  if (ta != tb)
    return ta < tb ? -1 : 1;
  c = strcmp (bb_item_state_get_namespace_id (ia), bb_item_state_get_namespace_id (ib));
  return c != 0 ? c : strcmp (bb_item_state_get_item_id (ia), bb_item_state_get_item_id (ib));
}

static void
flush_run (Pass *pass)
{
  GPtrArray *jobs = g_ptr_array_new_with_free_func ((GDestroyNotify)job_free);
  GHashTableIter iter;
  gpointer id, ns;
  GError *error = NULL;

  g_clear_pointer (&pass->scopes, g_hash_table_unref);
  pass->scopes = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                        (GDestroyNotify)bb_active_scope_unref);
  g_hash_table_iter_init (&iter, pass->ready);
  while (g_hash_table_iter_next (&iter, &id, &ns))
    {
      BbActiveScope *scope = bb_active_scope_compute (pass->engine, ns, &error);

      if (scope == NULL)
        {
          g_ptr_array_unref (jobs);
          pass_finish (pass, error);
          return;
        }
      g_hash_table_insert (pass->scopes, id, scope);
    }
  for (guint i = 0; i < pass->dirty->len; i++)
    {
      BbItemState *item = g_ptr_array_index (pass->dirty, i);

      if (upload_eligible (pass, item))
        g_ptr_array_add (jobs, job_new (JOB_UPLOAD, item, 0));
    }
  window_run (pass, jobs, NULL, upload_start, upload_commit, flush_done);
}

static void
flush_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Pass *pass = user_data;
  GError *error = NULL;
  BbNamespaceState *ns = bb_sync_namespace_ready_finish (BB_SYNC_ENGINE (source), result, &error);

  if (ns == NULL)
    {
      pass_finish (pass, error);
      return;
    }
  g_hash_table_replace (pass->ready, g_strdup (bb_namespace_state_get_namespace_id (ns)), ns);
  if (pass_check_cancelled (pass))
    return;
  if (pass->ns_index < pass->ns_ids->len)
    {
      bb_sync_namespace_ready_async (pass->engine,
                                     g_ptr_array_index (pass->ns_ids, pass->ns_index++), "",
                                     pass->cancellable, flush_ready, pass);
      return;
    }
  flush_run (pass);
}

static void
phase_c_start (Pass *pass)
{
  GError *error = NULL;

  pass->dirty = bb_store_list_dirty_items (pass->store, pass->key_id, &error);
  if (pass->dirty == NULL)
    {
      pass_finish (pass, error);
      return;
    }
  g_ptr_array_sort (pass->dirty, compare_dirty);

  /* Fresh namespace records (phase B moved their heads), one per namespace in use. */
  g_hash_table_remove_all (pass->ready);
  g_ptr_array_set_size (pass->ns_ids, 0);
  for (guint i = 0; i < pass->dirty->len; i++)
    {
      const char *id = bb_item_state_get_namespace_id (g_ptr_array_index (pass->dirty, i));

      if (!g_ptr_array_find_with_equal_func (pass->ns_ids, id, g_str_equal, NULL))
        g_ptr_array_add (pass->ns_ids, g_strdup (id));
    }
  if (pass->ns_ids->len == 0)
    {
      pass_finish (pass, NULL);
      return;
    }
  pass->ns_index = 1;
  bb_sync_namespace_ready_async (pass->engine, g_ptr_array_index (pass->ns_ids, 0), "",
                                 pass->cancellable, flush_ready, pass);
}

/* --- entry --- */

static void
pass_body (BbSyncEngine *self, gpointer body_data, GCancellable *cancellable,
           GAsyncReadyCallback callback, gpointer user_data)
{
  Pass *pass = g_new0 (Pass, 1);

  g_atomic_ref_count_init (&pass->ref);
  pass->engine = g_object_ref (self);
  pass->task = g_task_new (self, cancellable, callback, user_data);
  pass->cancellable = cancellable;
  pass->key_id = bb_sync_engine_get_key_id (self);
  pass->store = bb_sync_engine_get_store (self);
  phase_a_start (pass);
}

static void
pass_body_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  GError *error = NULL;

  bb_sync_auth_run_finish (BB_SYNC_ENGINE (source), result, &error);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
bb_sync_pass_run_async (BbSyncEngine *self, GCancellable *cancellable, GAsyncReadyCallback callback,
                        gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, bb_sync_pass_run_async);
  bb_sync_auth_run_async (self, pass_body, NULL, NULL, cancellable, pass_body_done, task);
}

gboolean
bb_sync_pass_run_finish (BbSyncEngine *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
