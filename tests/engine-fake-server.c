/* engine-fake-server.c: the recording SoupServer fake of the engine tests, and the engine
 * of the spec §9.0 fixtures aimed at it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "engine-fake-server.h"

#include <string.h>

#include "bb-sync-engine-private.h"
#include "bb-test-utils.h"

static void
fake_request_free (FakeRequest *req)
{
  g_free (req->method);
  g_free (req->path);
  g_free (req->authorization);
  g_free (req->if_match);
  g_free (req->body);
  g_free (req);
}

static void
fake_server_dispatch (SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
                      gpointer user_data)
{
  FakeServer *self = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  FakeRequest *req = g_new0 (FakeRequest, 1);

  req->method = g_strdup (soup_server_message_get_method (msg));
  req->path = g_strdup (path);
  req->authorization = g_strdup (soup_message_headers_get_one (headers, "Authorization"));
  req->if_match = g_strdup (soup_message_headers_get_one (headers, "If-Match"));
  req->body = body->length > 0 ? g_strndup (body->data, body->length) : NULL;
  g_ptr_array_add (self->requests, req);
  g_test_message ("request %u: %s %s auth=%s if-match=%s body=%s", self->requests->len, req->method,
                  req->path, req->authorization, req->if_match, req->body);
  self->handler (msg, req, self->user_data);
}

FakeServer *
fake_server_new (FakeHandler handler, gpointer user_data)
{
  FakeServer *self = g_new0 (FakeServer, 1);
  g_autoptr (GError) error = NULL;
  GSList *uris;

  self->handler = handler;
  self->user_data = user_data;
  self->requests = g_ptr_array_new_with_free_func ((GDestroyNotify)fake_request_free);
  self->soup = soup_server_new (NULL, NULL);
  soup_server_add_handler (self->soup, NULL, fake_server_dispatch, self, NULL);
  soup_server_listen_local (self->soup, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (self->soup);
  g_assert_nonnull (uris);
  self->base_url = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify)g_uri_unref);
  return self;
}

void
fake_server_free (FakeServer *self)
{
  soup_server_disconnect (self->soup);
  g_clear_object (&self->soup);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_ptr_array_unref (self->requests);
  g_free (self->base_url);
  g_free (self);
}

FakeRequest *
fake_server_request (FakeServer *self, guint i)
{
  g_assert_cmpuint (i, <, self->requests->len);
  return g_ptr_array_index (self->requests, i);
}

FakeRequest *
fake_server_nth (FakeServer *self, const char *method, const char *path, guint nth)
{
  for (guint i = 0; i < self->requests->len; i++)
    {
      FakeRequest *req = g_ptr_array_index (self->requests, i);

      if (strcmp (req->method, method) == 0 && strcmp (req->path, path) == 0 && nth-- == 0)
        return req;
    }
  g_assert_not_reached ();
  return NULL;
}

typedef gboolean (*PathMatch) (const char *path, const char *pattern);

static gboolean
path_equal (const char *path, const char *pattern)
{
  return strcmp (path, pattern) == 0;
}

static guint
count_matching (FakeServer *self, const char *method, PathMatch match, const char *pattern)
{
  guint n = 0;

  for (guint i = 0; i < self->requests->len; i++)
    {
      FakeRequest *req = g_ptr_array_index (self->requests, i);

      if (strcmp (req->method, method) == 0 && match (req->path, pattern))
        n++;
    }
  return n;
}

guint
fake_server_count (FakeServer *self, const char *method, const char *path)
{
  return count_matching (self, method, path_equal, path);
}

guint
fake_server_count_prefix (FakeServer *self, const char *method, const char *prefix)
{
  return count_matching (self, method, g_str_has_prefix, prefix);
}

guint
fake_server_count_suffix (FakeServer *self, const char *method, const char *suffix)
{
  return count_matching (self, method, g_str_has_suffix, suffix);
}

void
fake_respond (SoupServerMessage *msg, guint status, const char *body)
{
  soup_server_message_set_status (msg, status, NULL);
  if (body != NULL)
    soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, body,
                                      strlen (body));
}

void
fake_respond_error (SoupServerMessage *msg, guint status)
{
  g_autofree char *body = g_strdup_printf ("{\"error\":\"fake status %u\"}", status);

  fake_respond (msg, status, body);
}

void
fake_respond_challenge (SoupServerMessage *msg)
{
  fake_respond (msg, 200,
                "{\"challenge\":\"" FAKE_CHALLENGE_B64 "\",\"expiresAt\":\"2030-01-01T00:00:00Z\","
                "\"spamControl\":{\"kind\":\"none\"}}");
}

JsonObject *
fake_parse_object (const char *text)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;

  g_assert_nonnull (text);
  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

GBytes *
fake_random_bytes (gsize n)
{
  guint8 *data = g_malloc (n);

  for (gsize i = 0; i < n; i++)
    data[i] = g_random_int_range (0, 256);
  return g_bytes_new_take (data, n);
}

static gint64
read_now (gpointer user_data)
{
  return *(gint64 *)user_data;
}

BbSyncEngine *
fake_engine_new (FakeServer *server, gint64 *now)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) store_key = bb_test_repeat (0x42, 32);
  g_autoptr (BbClient) client = NULL;
  g_autoptr (BbStore) store = NULL;
  g_autoptr (BbTestIdentity) identity = bb_test_identity_new ("test-key");
  BbSyncEngine *engine;

  client = bb_client_new (server->base_url, &error);
  g_assert_no_error (error);
  store = BB_STORE (bb_sqlite_store_new_sync (BB_SQLITE_STORE_IN_MEMORY, store_key, NULL, &error));
  g_assert_no_error (error);
  engine = bb_sync_engine_new (client, BB_IDENTITY (identity), store, &error);
  g_assert_no_error (error);
  bb_sync_engine_set_now_func (engine, read_now, now);
  return engine;
}

BbNamespace *
fake_engine_seed_namespace (BbSyncEngine *engine, const char *ns_id, const char *kind, GBytes *dek,
                            gint64 updated_at)
{
  g_autoptr (BbNamespaceState) ns
      = bb_namespace_state_new (bb_sync_engine_get_key_id (engine), ns_id);
  g_autoptr (GError) error = NULL;

  bb_namespace_state_set_kind (ns, kind);
  bb_namespace_state_set_dek (ns, dek);
  bb_namespace_state_set_namespace_head (ns, 0);
  bb_namespace_state_set_active_scope_hash (ns, "");
  bb_namespace_state_set_updated_at (ns, updated_at);
  g_assert_true (bb_store_save_namespace (bb_sync_engine_get_store (engine), ns, &error));
  g_assert_no_error (error);
  return bb_sync_engine_ensure_namespace_handle (engine, ns_id, kind);
}

void
fake_engine_save_token (BbSyncEngine *engine, const char *token, gint64 expiry,
                        const char *default_ns_id)
{
  g_autoptr (BbIdentityState) state
      = bb_identity_state_copy (bb_sync_engine_peek_identity_state (engine));
  g_autoptr (GError) error = NULL;

  if (default_ns_id != NULL)
    bb_identity_state_set_default_namespace_id (state, default_ns_id);
  bb_identity_state_set_access_token (state, token);
  bb_identity_state_set_token_expiry (state, expiry);
  g_assert_true (bb_sync_engine_save_identity_state (engine, state, &error));
  g_assert_no_error (error);
}
