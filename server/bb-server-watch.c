/* bb-server-watch.c: the reference server's long polls (POST /v1/namespaces/watch), held
 * paused until a namespace head changes or the timeout passes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-server-private.h"

#include "bb-protocol-messages-private.h"

struct _Watch
{
  BbServer *self;
  SoupServerMessage *msg;
  char *key_id;
  GHashTable *known_heads; /* char * -> guint64 * */
  GSource *timeout;
  gulong disconnected_id;
};

void
bb_server_watch_free (Watch *watch)
{
  if (watch->timeout != NULL)
    {
      g_source_destroy (watch->timeout);
      g_source_unref (watch->timeout);
    }
  if (watch->disconnected_id != 0)
    g_signal_handler_disconnect (watch->msg, watch->disconnected_id);
  g_object_unref (watch->msg);
  g_free (watch->key_id);
  g_clear_pointer (&watch->known_heads, g_hash_table_unref);
  g_free (watch);
}

/* The caller's namespaces whose head differs from @known_heads (absent counts as
 * different), as BbMsgNamespaceSummary. */
static GPtrArray *
bb_server_collect_changes (BbServer *self, const char *key_id, GHashTable *known_heads,
                           GError **error)
{
  g_autoptr (GPtrArray) namespaces = NULL;
  g_autoptr (GPtrArray) changed
      = g_ptr_array_new_with_free_func ((GDestroyNotify)bb_msg_namespace_summary_free);

  namespaces = bb_server_db_list_namespaces_of (self->db, key_id, error);
  if (namespaces == NULL)
    return NULL;
  for (guint i = 0; i < namespaces->len; i++)
    {
      BbMsgNamespaceSummary *summary = g_ptr_array_index (namespaces, i);
      const guint64 *known = g_hash_table_lookup (known_heads, summary->namespace_id);

      if (known == NULL || *known != summary->namespace_head)
        g_ptr_array_add (changed, g_steal_pointer (&namespaces->pdata[i]));
    }
  return g_steal_pointer (&changed);
}

static void
watch_answer (Watch *watch, GPtrArray *namespaces, gboolean timed_out)
{
  BbMsgWatchResponse response = { namespaces, timed_out };
  g_autoptr (GPtrArray) empty = NULL;
  g_autofree char *json = NULL;

  if (response.namespaces == NULL)
    response.namespaces = empty = g_ptr_array_new ();
  json = bb_msg_watch_response_to_json (&response);
  bb_server_respond_raw (watch->msg, 200, json);
  soup_server_message_unpause (watch->msg);
}

static void
watch_remove (Watch *watch)
{
  g_ptr_array_remove_fast (watch->self->watches, watch);
}

static gboolean
watch_timeout_cb (gpointer user_data)
{
  Watch *watch = user_data;

  watch_answer (watch, NULL, TRUE);
  watch_remove (watch);
  return G_SOURCE_REMOVE;
}

static void
watch_disconnected_cb (SoupServerMessage *msg, gpointer user_data)
{
  watch_remove (user_data);
}

/* Re-evaluates open watches after a change. @namespace_id limits it to the watches of
 * that namespace's members (NULL: every watch, for example after a rollback). */
void
bb_server_wake_watchers (BbServer *self, const char *namespace_id)
{
  g_autoptr (GHashTable) members = NULL;
  g_autoptr (GPtrArray) done = g_ptr_array_new ();

  if (self->watches->len == 0)
    return;

  if (namespace_id != NULL)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) keys = bb_server_db_list_members (self->db, namespace_id, &error);

      members = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      for (guint i = 0; keys != NULL && i < keys->len; i++)
        {
          BbMsgMember *member = g_ptr_array_index (keys, i);
          g_hash_table_add (members, g_steal_pointer (&member->key_id));
        }
      if (error != NULL)
        g_warning ("bbsync-server: cannot wake watches: %s", error->message);
    }

  for (guint i = 0; i < self->watches->len; i++)
    {
      Watch *watch = g_ptr_array_index (self->watches, i);
      g_autoptr (GPtrArray) changed = NULL;
      g_autoptr (GError) error = NULL;

      if (members != NULL && !g_hash_table_contains (members, watch->key_id))
        continue;
      changed = bb_server_collect_changes (self, watch->key_id, watch->known_heads, &error);
      if (changed == NULL)
        {
          g_warning ("bbsync-server: cannot evaluate a watch: %s", error->message);
          continue;
        }
      if (changed->len > 0)
        {
          watch_answer (watch, changed, FALSE);
          g_ptr_array_add (done, watch);
        }
    }
  for (guint i = 0; i < done->len; i++)
    watch_remove (g_ptr_array_index (done, i));
}

static const char *const watch_fields[] = { "knownHeads", NULL };

void
bb_server_handle_watch (BbServer *self, BbServerRequest *req)
{
  BbMsgWatchRequest request = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) changed = NULL;
  Watch *watch;

  if (!bb_server_authenticate (self, req) || !bb_server_check_body (req, watch_fields, NULL, NULL))
    return;
  if (!bb_msg_watch_request_parse (&request, req->body, req->body_len, &error))
    {
      bb_server_respond_gerror (req, error);
      return;
    }
  changed = bb_server_collect_changes (self, req->caller, request.known_heads, &error);
  if (changed == NULL)
    {
      bb_server_respond_internal (req, error);
      goto out;
    }
  if (changed->len > 0)
    {
      BbMsgWatchResponse response = { changed, FALSE };
      bb_server_respond_json_take (req, 200, bb_msg_watch_response_to_json (&response));
      goto out;
    }

  watch = g_new0 (Watch, 1);
  watch->self = self;
  watch->msg = g_object_ref (req->msg);
  watch->key_id = g_strdup (req->caller);
  watch->known_heads = g_steal_pointer (&request.known_heads);
  watch->timeout = g_timeout_source_new (self->watch_timeout_ms);
  g_source_set_callback (watch->timeout, watch_timeout_cb, watch, NULL);
  g_source_attach (watch->timeout, self->context);
  watch->disconnected_id
      = g_signal_connect (req->msg, "disconnected", G_CALLBACK (watch_disconnected_cb), watch);
  g_ptr_array_add (self->watches, watch);
  if (!req->paused)
    soup_server_message_pause (req->msg);
  req->held = TRUE;

out:
  bb_msg_watch_request_clear (&request);
}
