/* test-engine-fake-server.c: the engine's test catalogue entries (spec §9.1-§9.3 and
 * §9.5-§9.7) that need a server misbehaving in one precise way. A small SoupServer on
 * 127.0.0.1 records every request (method, path, Authorization, If-Match, body) and
 * answers from per-test state: a namespace list, an item map, encrypted items, PUT
 * statuses, and one-shot scripted answers. The fixtures follow spec §9.0.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <bbsync/bbsync.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>

#include "bb-sync-engine-private.h"
#include "bb-test-identity-private.h"
#include "bb-test-utils.h"
#include "engine-fake-server.h"

/* The engine's clock in these tests: 2027-01-15T08:00:00Z. */
#define NOW_S G_GINT64_CONSTANT (1800000000)
#define HOUR_US (G_GINT64_CONSTANT (3600) * G_USEC_PER_SEC)
#define TEST_UPDATED_AT (G_GINT64_CONSTANT (100) * G_USEC_PER_SEC)

/* --- a conditional memory backend where the app writes just before the compare-and-swap,
 * and whose Keys() may be a fixed list (fixedKeyBackend) --- */

#define TEST_TYPE_RACY_BACKEND (test_racy_backend_get_type ())
G_DECLARE_FINAL_TYPE (TestRacyBackend, test_racy_backend, TEST, RACY_BACKEND, GObject)

struct _TestRacyBackend
{
  GObject parent_instance;
  BbValueBackend *inner;
  char *race_key;
  GVariant *race_value; /* written once, just before the next set_value_if_current */
  guint n_cas;
  char **keys; /* when set, Keys() returns exactly these */
};

static void racy_iface_init (BbValueBackendInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TestRacyBackend, test_racy_backend, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (BB_TYPE_VALUE_BACKEND, racy_iface_init))

static void
test_racy_backend_finalize (GObject *object)
{
  TestRacyBackend *self = TEST_RACY_BACKEND (object);

  g_clear_object (&self->inner);
  g_free (self->race_key);
  g_clear_pointer (&self->race_value, g_variant_unref);
  g_strfreev (self->keys);
  G_OBJECT_CLASS (test_racy_backend_parent_class)->finalize (object);
}

static void
test_racy_backend_class_init (TestRacyBackendClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_racy_backend_finalize;
}

static void
test_racy_backend_init (TestRacyBackend *self)
{
  self->inner = bb_memory_value_backend_new ();
}

static char **
racy_list_keys (BbValueBackend *backend, GError **error)
{
  TestRacyBackend *self = TEST_RACY_BACKEND (backend);

  if (self->keys != NULL)
    return g_strdupv (self->keys);
  return bb_value_backend_list_keys (TEST_RACY_BACKEND (backend)->inner, error);
}

static GVariant *
racy_snapshot (BbValueBackend *backend, GError **error)
{
  return bb_value_backend_snapshot (TEST_RACY_BACKEND (backend)->inner, error);
}

static GVariant *
racy_get_value (BbValueBackend *backend, const char *key, GError **error)
{
  return bb_value_backend_get_value (TEST_RACY_BACKEND (backend)->inner, key, error);
}

static gboolean
racy_set_value (BbValueBackend *backend, const char *key, GVariant *value, GError **error)
{
  return bb_value_backend_set_value (TEST_RACY_BACKEND (backend)->inner, key, value, error);
}

static gboolean
racy_set_value_if_current (BbValueBackend *backend, const char *key, GVariant *current,
                           GVariant *value, GError **error)
{
  TestRacyBackend *self = TEST_RACY_BACKEND (backend);

  self->n_cas++;
  if (self->race_value != NULL && g_strcmp0 (key, self->race_key) == 0)
    {
      g_autoptr (GVariant) race = g_steal_pointer (&self->race_value);

      g_assert_true (bb_value_backend_set_value (self->inner, key, race, NULL));
    }
  return bb_value_backend_set_value_if_current (self->inner, key, current, value, error);
}

static void
racy_iface_init (BbValueBackendInterface *iface)
{
  iface->list_keys = racy_list_keys;
  iface->snapshot = racy_snapshot;
  iface->get_value = racy_get_value;
  iface->set_value = racy_set_value;
  iface->set_value_if_current = racy_set_value_if_current;
}

/* --- the fake server and the fixture (spec §9.0) --- */

typedef struct
{
  char *method;
  char *path;
  guint status;
  char *body;
} Scripted;

typedef struct
{
  guint status; /* 0: 200 with the encrypted value */
  guint64 version;
  char *value;
} KvReply;

typedef struct _F F;
typedef void (*RequestHook) (F *f, FakeRequest *req);

struct _F
{
  FakeServer *server;
  BbStore *store;           /* the engine's */
  BbTestIdentity *identity; /* the engine's */
  BbSyncEngine *engine;
  BbNamespace *ns;
  char *ns_id;
  GBytes *dek;
  gint64 now;
  GPtrArray *events; /* char * */
  GQueue scripted;   /* Scripted, one-shot answers matched first */
  /* server state */
  guint64 remote_head;
  char *list_json;   /* overrides the one-namespace list */
  GHashTable *map;   /* item ID → guint64 * version */
  gint64 map_head;   /* -1: remote_head */
  GHashTable *kv;    /* item ID → GQueue of KvReply (the last one stays) */
  GQueue put_status; /* statuses for the next PUTs; empty: accept */
  char *login_token;
  char *refresh_token;
  guint challenges_failing; /* challenge answers 500 while set */
  RequestHook hook;
};

static void
scripted_free (Scripted *s)
{
  g_free (s->method);
  g_free (s->path);
  g_free (s->body);
  g_free (s);
}

static void
kv_reply_free (KvReply *r)
{
  g_free (r->value);
  g_free (r);
}

static void
kv_queue_free (GQueue *q)
{
  g_queue_free_full (q, (GDestroyNotify)kv_reply_free);
}

static char *
rfc3339 (gint64 usec)
{
  g_autoptr (GDateTime) dt = g_date_time_new_from_unix_utc (usec / G_USEC_PER_SEC);

  return g_date_time_format (dt, "%Y-%m-%dT%H:%M:%SZ");
}

static char *
json_of (JsonBuilder *builder)
{
  g_autoptr (JsonNode) root = json_builder_get_root (builder);

  return json_to_string (root, FALSE);
}

static char *
login_body (F *f, const char *token, gboolean login)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree char *expires = rfc3339 (f->now + 48 * HOUR_US);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, "keystore");
  json_builder_set_member_name (b, "accessToken");
  json_builder_add_string_value (b, token);
  json_builder_set_member_name (b, "expiresAt");
  json_builder_add_string_value (b, expires);
  if (login)
    {
      json_builder_set_member_name (b, "defaultNamespaceId");
      json_builder_add_null_value (b);
    }
  json_builder_end_object (b);
  return json_of (b);
}

static char *
list_body (F *f)
{
  if (f->list_json != NULL)
    return g_strdup (f->list_json);
  return g_strdup_printf ("{\"namespaces\":[{\"namespaceId\":\"%s\",\"kind\":\"default\","
                          "\"namespaceHead\":%" G_GUINT64_FORMAT "}]}",
                          f->ns_id, f->remote_head);
}

static char *
map_body (F *f)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  GHashTableIter iter;
  gpointer key, value;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "namespaceId");
  json_builder_add_string_value (b, f->ns_id);
  json_builder_set_member_name (b, "namespaceHead");
  json_builder_add_int_value (b, f->map_head >= 0 ? f->map_head : (gint64)f->remote_head);
  json_builder_set_member_name (b, "items");
  json_builder_begin_object (b);
  g_hash_table_iter_init (&iter, f->map);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      json_builder_set_member_name (b, key);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "version");
      json_builder_add_int_value (b, *(guint64 *)value);
      json_builder_end_object (b);
    }
  json_builder_end_object (b);
  json_builder_end_object (b);
  return json_of (b);
}

/* encryptedTestItemResponse: a valid GET-item body for @version. */
static char *
encrypted_item_response (F *f, const char *item_id, guint64 version, const char *value)
{
  g_autoptr (GBytes) plaintext = g_bytes_new (value, strlen (value));
  g_autoptr (GBytes) nonce = NULL;
  g_autoptr (GBytes) aad = NULL;
  g_autoptr (GBytes) ciphertext = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *nonce_b64 = NULL;
  g_autofree char *aad_b64 = NULL;
  g_autofree char *ct_b64 = NULL;

  ciphertext = bb_protocol_encrypt_item (f->dek, f->ns_id, item_id, version, plaintext, &nonce,
                                         &aad, &error);
  g_assert_no_error (error);
  nonce_b64 = bb_protocol_base64_encode (nonce);
  aad_b64 = bb_protocol_base64_encode (aad);
  ct_b64 = bb_protocol_base64_encode (ciphertext);
  return g_strdup_printf ("{\"namespaceId\":\"%s\",\"itemId\":\"%s\",\"version\":%" G_GUINT64_FORMAT
                          ",\"nonce\":\"%s\",\"aad\":\"%s\",\"ciphertext\":\"%s\"}",
                          f->ns_id, item_id, version, nonce_b64, aad_b64, ct_b64);
}

static void
answer_kv_get (F *f, SoupServerMessage *msg, const char *item_id)
{
  GQueue *q = g_hash_table_lookup (f->kv, item_id);
  KvReply *reply;
  g_autofree char *body = NULL;

  if (q == NULL || g_queue_is_empty (q))
    {
      fake_respond_error (msg, 404);
      return;
    }
  reply = g_queue_get_length (q) > 1 ? g_queue_pop_head (q) : g_queue_peek_head (q);
  if (reply->status != 0)
    fake_respond_error (msg, reply->status);
  else
    {
      body = encrypted_item_response (f, item_id, reply->version, reply->value);
      fake_respond (msg, 200, body);
    }
  if (reply != g_queue_peek_head (q))
    kv_reply_free (reply);
}

static void
answer_kv_put (F *f, SoupServerMessage *msg, FakeRequest *req, const char *item_id)
{
  guint status = GPOINTER_TO_UINT (g_queue_pop_head (&f->put_status));
  guint64 version = 1;
  g_autofree char *body = NULL;

  if (status != 0 && status != 200)
    {
      fake_respond_error (msg, status);
      return;
    }
  if (req->if_match != NULL)
    version = g_ascii_strtoull (req->if_match + 1, NULL, 10) + 1;
  body = g_strdup_printf ("{\"namespaceId\":\"%s\",\"itemId\":\"%s\",\"version\":%" G_GUINT64_FORMAT
                          "}",
                          f->ns_id, item_id, version);
  fake_respond (msg, 200, body);
}

static void
answer_wrapped_dek (F *f, SoupServerMessage *msg, const char *ns, const char *key_id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) wrapped = bb_protocol_wrap_dek (
      bb_test_identity_get_wrap_public_key (f->identity), ns, f->dek, &error);
  g_autofree char *b64 = NULL;
  g_autofree char *body = NULL;

  g_assert_no_error (error);
  b64 = bb_protocol_base64_encode (wrapped);
  body = g_strdup_printf ("{\"namespaceId\":\"%s\",\"keyId\":\"%s\",\"wrappedDek\":\"%s\"}", ns,
                          key_id, b64);
  fake_respond (msg, 200, body);
}

static void
answer_create_namespace (F *f, SoupServerMessage *msg, FakeRequest *req)
{
  g_autoptr (JsonObject) object = fake_parse_object (req->body);
  g_autofree char *body = g_strdup_printf ("{\"namespaceId\":\"%s\",\"kind\":\"shared\"}",
                                           json_object_get_string_member (object, "namespaceId"));

  fake_respond (msg, 200, body);
}

static void
fake_handler (SoupServerMessage *msg, FakeRequest *req, gpointer user_data)
{
  F *f = user_data;
  const char *path = req->path;
  g_auto (GStrv) parts = NULL;
  guint n_parts;

  if (f->hook != NULL)
    f->hook (f, req);

  for (GList *l = f->scripted.head; l != NULL; l = l->next)
    {
      Scripted *s = l->data;

      if (strcmp (s->method, req->method) == 0 && strcmp (s->path, req->path) == 0)
        {
          if (s->body != NULL)
            fake_respond (msg, s->status, s->body);
          else
            fake_respond_error (msg, s->status);
          g_queue_delete_link (&f->scripted, l);
          scripted_free (s);
          return;
        }
    }

  parts = g_strsplit (path, "/", -1);
  n_parts = g_strv_length (parts);
  if (strcmp (req->method, "POST") == 0 && strcmp (path, "/v1/auth/challenge") == 0)
    {
      if (f->challenges_failing)
        fake_respond_error (msg, 500);
      else
        fake_respond_challenge (msg);
    }
  else if (strcmp (req->method, "POST") == 0 && strcmp (path, "/v1/auth/login") == 0)
    {
      g_autofree char *answer = login_body (f, f->login_token, TRUE);

      fake_respond (msg, 200, answer);
    }
  else if (strcmp (req->method, "POST") == 0 && strcmp (path, "/v1/auth/refresh") == 0)
    {
      g_autofree char *answer = login_body (f, f->refresh_token, FALSE);

      fake_respond (msg, 200, answer);
    }
  else if (strcmp (req->method, "GET") == 0 && strcmp (path, "/v1/namespaces/mine") == 0)
    {
      g_autofree char *answer = list_body (f);

      fake_respond (msg, 200, answer);
    }
  else if (strcmp (req->method, "POST") == 0 && strcmp (path, "/v1/namespaces") == 0)
    answer_create_namespace (f, msg, req);
  else if (strcmp (req->method, "GET") == 0 && n_parts == 5 && strcmp (parts[2], "namespaces") == 0
           && strcmp (parts[4], "items") == 0 && strcmp (parts[3], f->ns_id) == 0)
    {
      g_autofree char *answer = map_body (f);

      fake_respond (msg, 200, answer);
    }
  else if (strcmp (req->method, "GET") == 0 && n_parts == 6 && strcmp (parts[2], "namespaces") == 0
           && strcmp (parts[4], "wrapped-deks") == 0)
    answer_wrapped_dek (f, msg, parts[3], parts[5]);
  else if (n_parts == 5 && strcmp (parts[2], "kv") == 0 && strcmp (parts[3], f->ns_id) == 0
           && strcmp (req->method, "GET") == 0)
    answer_kv_get (f, msg, parts[4]);
  else if (n_parts == 5 && strcmp (parts[2], "kv") == 0 && strcmp (parts[3], f->ns_id) == 0
           && strcmp (req->method, "PUT") == 0)
    answer_kv_put (f, msg, req, parts[4]);
  else
    fake_respond_error (msg, 404);
}

static void
on_item_event (BbSyncEngine *engine, const char *ns, const char *collection, const char *key,
               const char *item_id, gpointer user_data)
{
  F *f = user_data;
  GSignalInvocationHint *hint = g_signal_get_invocation_hint (engine);

  g_ptr_array_add (f->events,
                   g_strdup_printf ("%s:%s/%s", g_signal_name (hint->signal_id), collection, key));
}

static void
on_simple_event (BbSyncEngine *engine, gpointer user_data)
{
  F *f = user_data;
  GSignalInvocationHint *hint = g_signal_get_invocation_hint (engine);

  g_ptr_array_add (f->events, g_strdup (g_signal_name (hint->signal_id)));
}

static void
on_failed (BbSyncEngine *engine, GError *error, gpointer user_data)
{
  F *f = user_data;

  g_assert_nonnull (error);
  g_ptr_array_add (f->events, g_strdup ("sync-failed"));
}

static void
on_unknown (BbSyncEngine *engine, const char *ns, const char *item_id, gpointer user_data)
{
  on_simple_event (engine, user_data);
}

static void
on_namespace_changed (BbSyncEngine *engine, const char *ns, gpointer user_data)
{
  on_simple_event (engine, user_data);
}

/* Auth events carry the expiry in Unix seconds, 0 for none. */
static void
on_auth (BbSyncEngine *engine, GDateTime *expires, gpointer user_data)
{
  F *f = user_data;
  GSignalInvocationHint *hint = g_signal_get_invocation_hint (engine);

  g_ptr_array_add (f->events,
                   g_strdup_printf ("%s:%" G_GINT64_FORMAT, g_signal_name (hint->signal_id),
                                    expires != NULL ? g_date_time_to_unix (expires) : 0));
}

static const char *
key_id (F *f)
{
  return bb_sync_engine_get_key_id (f->engine);
}

/* newTestEngine: an engine of BbTestIdentity "test-key" with an in-memory store aimed at
 * the fake server, and one pre-seeded default namespace (random ID and DEK, head 0, scope
 * hash ""). No token and no default namespace ID. */
static F *
f_new (void)
{
  F *f = g_new0 (F, 1);
  g_autoptr (GBytes) ns_raw = fake_random_bytes (16);
  const char *item_signals[]
      = { "item-changed", "item-downloaded", "item-uploaded", "item-queued", "conflict-detected" };

  f->events = g_ptr_array_new_with_free_func (g_free);
  f->map = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  f->kv = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)kv_queue_free);
  f->map_head = -1;
  f->login_token = g_strdup ("fresh-token");
  f->refresh_token = g_strdup ("refreshed-token");
  f->now = NOW_S * G_USEC_PER_SEC;

  f->server = fake_server_new (fake_handler, f);
  f->engine = fake_engine_new (f->server, &f->now);
  f->store = bb_sync_engine_get_store (f->engine);
  f->identity = BB_TEST_IDENTITY (bb_sync_engine_get_identity (f->engine));

  f->ns_id = bb_protocol_hex_encode (ns_raw);
  f->dek = fake_random_bytes (32);
  f->ns = fake_engine_seed_namespace (f->engine, f->ns_id, "default", f->dek, TEST_UPDATED_AT);

  for (guint i = 0; i < G_N_ELEMENTS (item_signals); i++)
    g_signal_connect (f->engine, item_signals[i], G_CALLBACK (on_item_event), f);
  g_signal_connect (f->engine, "sync-started", G_CALLBACK (on_simple_event), f);
  g_signal_connect (f->engine, "sync-finished", G_CALLBACK (on_simple_event), f);
  g_signal_connect (f->engine, "sync-failed", G_CALLBACK (on_failed), f);
  g_signal_connect (f->engine, "unknown-remote-item", G_CALLBACK (on_unknown), f);
  g_signal_connect (f->engine, "namespace-changed", G_CALLBACK (on_namespace_changed), f);
  g_signal_connect (f->engine, "auth-session-ready", G_CALLBACK (on_auth), f);
  g_signal_connect (f->engine, "auth-login-required", G_CALLBACK (on_auth), f);
  g_signal_connect (f->engine, "auth-refresh-recommended", G_CALLBACK (on_auth), f);
  return f;
}

static void
f_free (F *f)
{
  bb_sync_engine_close (f->engine);
  g_clear_object (&f->ns);
  g_clear_object (&f->engine);
  fake_server_free (f->server);
  g_ptr_array_unref (f->events);
  g_queue_clear_full (&f->scripted, (GDestroyNotify)scripted_free);
  g_queue_clear (&f->put_status);
  g_hash_table_unref (f->map);
  g_hash_table_unref (f->kv);
  g_free (f->list_json);
  g_free (f->login_token);
  g_free (f->refresh_token);
  g_free (f->ns_id);
  g_bytes_unref (f->dek);
  g_free (f);
}

/* One answer for the next request with this method and path, before the defaults. */
static void
script (F *f, const char *method, const char *path, guint status, const char *body)
{
  Scripted *s = g_new0 (Scripted, 1);

  s->method = g_strdup (method);
  s->path = g_strdup (path);
  s->status = status;
  s->body = g_strdup (body);
  g_queue_push_tail (&f->scripted, s);
}

/* setTestAccessToken: @token valid for @life_us from the engine's now. */
static void
set_token (F *f, const char *token, gint64 life_us)
{
  fake_engine_save_token (f->engine, token, f->now + life_us, NULL);
}

static void
set_test_token (F *f)
{
  set_token (f, "test-token", 48 * HOUR_US);
}

static BbNamespaceState *
get_ns (F *f)
{
  g_autoptr (GError) error = NULL;
  BbNamespaceState *ns = bb_store_get_namespace (f->store, key_id (f), f->ns_id, &error);

  g_assert_no_error (error);
  g_assert_nonnull (ns);
  return ns;
}

/* setTestNamespaceHead: only the head changes. */
static void
set_ns_head (F *f, guint64 head)
{
  g_autoptr (BbNamespaceState) ns = get_ns (f);
  g_autoptr (GError) error = NULL;

  bb_namespace_state_set_namespace_head (ns, head);
  g_assert_true (bb_store_save_namespace (f->store, ns, &error));
  g_assert_no_error (error);
}

static guint64
ns_head (F *f)
{
  g_autoptr (BbNamespaceState) ns = get_ns (f);

  return bb_namespace_state_get_namespace_head (ns);
}

static char *
item_id (F *f, const char *collection, const char *key)
{
  g_autoptr (GError) error = NULL;
  char *id = bb_protocol_item_id (f->dek, collection, key, &error);

  g_assert_no_error (error);
  return id;
}

static GBytes *
bytes_of (const char *s)
{
  return s != NULL ? g_bytes_new (s, strlen (s)) : NULL;
}

/* saveTestItem: the real item ID from the seeded DEK; UpdatedAt 100 s. */
static BbItemState *
save_item (F *f, const char *collection, const char *key, guint64 version, const char *base,
           gboolean dirty)
{
  g_autofree char *id = item_id (f, collection, key);
  BbItemState *item = bb_item_state_new (key_id (f), f->ns_id, collection, key, id);
  g_autoptr (GBytes) base_bytes = bytes_of (base);
  g_autoptr (GError) error = NULL;

  bb_item_state_set_version (item, version);
  if (base != NULL)
    {
      bb_item_state_set_base_version (item, version);
      bb_item_state_set_base_value (item, base_bytes);
    }
  bb_item_state_set_dirty (item, dirty);
  bb_item_state_set_updated_at (item, TEST_UPDATED_AT);
  g_assert_true (bb_store_save_item (f->store, item, &error));
  g_assert_no_error (error);
  return item;
}

static void
resave_item (F *f, BbItemState *item)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (bb_store_save_item (f->store, item, &error));
  g_assert_no_error (error);
}

static BbItemState *
get_item (F *f, const char *collection, const char *key)
{
  g_autoptr (GError) error = NULL;
  BbItemState *item
      = bb_store_get_item_by_logical_key (f->store, key_id (f), f->ns_id, collection, key, &error);

  g_assert_no_error (error);
  g_assert_nonnull (item);
  return item;
}

static void
assert_bytes_str (GBytes *bytes, const char *expected)
{
  gsize len = 0;
  const char *data = bytes != NULL ? g_bytes_get_data (bytes, &len) : NULL;
  g_autofree char *got = data != NULL || len > 0 ? g_strndup (data, len) : g_strdup ("");

  g_assert_cmpstr (got, ==, expected);
}

/* assertSameStoredItem: every field, UpdatedAt included. */
static void
assert_same_item (BbItemState *a, BbItemState *b)
{
  g_assert_cmpstr (bb_item_state_get_key_id (a), ==, bb_item_state_get_key_id (b));
  g_assert_cmpstr (bb_item_state_get_namespace_id (a), ==, bb_item_state_get_namespace_id (b));
  g_assert_cmpstr (bb_item_state_get_collection (a), ==, bb_item_state_get_collection (b));
  g_assert_cmpstr (bb_item_state_get_key (a), ==, bb_item_state_get_key (b));
  g_assert_cmpstr (bb_item_state_get_item_id (a), ==, bb_item_state_get_item_id (b));
  g_assert_cmpuint (bb_item_state_get_version (a), ==, bb_item_state_get_version (b));
  g_assert_cmpuint (bb_item_state_get_base_version (a), ==, bb_item_state_get_base_version (b));
  g_assert_true (
      bb_bytes_equal0 (bb_item_state_get_base_value (a), bb_item_state_get_base_value (b)));
  g_assert_cmpint (bb_item_state_get_dirty (a), ==, bb_item_state_get_dirty (b));
  g_assert_cmpint (bb_item_state_get_conflict (a), ==, bb_item_state_get_conflict (b));
  g_assert_cmpuint (bb_item_state_get_conflict_remote_version (a), ==,
                    bb_item_state_get_conflict_remote_version (b));
  g_assert_true (bb_bytes_equal0 (bb_item_state_get_conflict_remote_value (a),
                                  bb_item_state_get_conflict_remote_value (b)));
  g_assert_cmpint (bb_item_state_get_updated_at (a), ==, bb_item_state_get_updated_at (b));
}

static void
assert_item_unchanged (F *f, BbItemState *before)
{
  g_autoptr (BbItemState) now
      = get_item (f, bb_item_state_get_collection (before), bb_item_state_get_key (before));

  assert_same_item (now, before);
}

/* Asserts a clean item at @version with base (@version, @base). */
static void
assert_clean (F *f, const char *collection, const char *key, guint64 version, const char *base)
{
  g_autoptr (BbItemState) item = get_item (f, collection, key);

  g_assert_false (bb_item_state_get_dirty (item));
  g_assert_false (bb_item_state_get_conflict (item));
  g_assert_cmpuint (bb_item_state_get_version (item), ==, version);
  g_assert_cmpuint (bb_item_state_get_base_version (item), ==, version);
  assert_bytes_str (bb_item_state_get_base_value (item), base);
}

static void
remote_map (F *f, const char *item, guint64 version)
{
  g_hash_table_insert (f->map, g_strdup (item), g_memdup2 (&version, sizeof version));
}

/* The next GET of @item answers @version with @value; the last one queued stays. */
static void
remote_item (F *f, const char *item, guint64 version, const char *value)
{
  GQueue *q = g_hash_table_lookup (f->kv, item);
  KvReply *reply = g_new0 (KvReply, 1);

  if (q == NULL)
    {
      q = g_queue_new ();
      g_hash_table_insert (f->kv, g_strdup (item), q);
    }
  reply->version = version;
  reply->value = g_strdup (value);
  g_queue_push_tail (q, reply);
}

static void
put_answers (F *f, guint status)
{
  g_queue_push_tail (&f->put_status, GUINT_TO_POINTER (status));
}

static char *
kv_path (F *f, const char *item)
{
  return g_strdup_printf ("/v1/kv/%s/%s", f->ns_id, item);
}

static char *
items_path (F *f)
{
  return g_strdup_printf ("/v1/namespaces/%s/items", f->ns_id);
}

/* decryptTestPutItemRequest: checks the AAD for @target and returns the plaintext. */
static char *
decrypt_put (F *f, FakeRequest *req, const char *item, guint64 target)
{
  g_autoptr (JsonObject) object = fake_parse_object (req->body);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) nonce = NULL;
  g_autoptr (GBytes) aad = NULL;
  g_autoptr (GBytes) ciphertext = NULL;
  g_autoptr (GBytes) expected_aad = NULL;
  g_autoptr (GBytes) plaintext = NULL;

  nonce = bb_protocol_base64_decode (json_object_get_string_member (object, "nonce"), 24, "nonce",
                                     &error);
  g_assert_no_error (error);
  aad = bb_protocol_base64_decode (json_object_get_string_member (object, "aad"), -1, "aad",
                                   &error);
  g_assert_no_error (error);
  ciphertext = bb_protocol_base64_decode (json_object_get_string_member (object, "ciphertext"), -1,
                                          "ciphertext", &error);
  g_assert_no_error (error);
  expected_aad = bb_protocol_item_aad (f->ns_id, item, target, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (aad, expected_aad));
  plaintext
      = bb_protocol_decrypt_item (f->dek, f->ns_id, item, target, nonce, aad, ciphertext, &error);
  g_assert_no_error (error);
  return g_strndup (g_bytes_get_data (plaintext, NULL), g_bytes_get_size (plaintext));
}

static void
assert_put (F *f, const char *item, guint nth, const char *if_match, guint64 target,
            const char *value)
{
  g_autofree char *path = kv_path (f, item);
  FakeRequest *req = fake_server_nth (f->server, "PUT", path, nth);
  g_autofree char *plain = decrypt_put (f, req, item, target);

  g_assert_cmpstr (req->if_match, ==, if_match);
  g_assert_cmpstr (plain, ==, value);
}

/* The events joined by spaces; with @prefix, only those starting with it. */
static char *
events_str (F *f, const char *prefix)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < f->events->len; i++)
    {
      const char *ev = g_ptr_array_index (f->events, i);

      if (prefix != NULL && !g_str_has_prefix (ev, prefix))
        continue;
      if (s->len > 0)
        g_string_append_c (s, ' ');
      g_string_append (s, ev);
    }
  return g_string_free (s, FALSE);
}

#define assert_events(f, prefix, expected)                                                         \
  G_STMT_START                                                                                     \
  {                                                                                                \
    g_autofree char *_ev = events_str ((f), (prefix));                                             \
    g_assert_cmpstr (_ev, ==, (expected));                                                         \
  }                                                                                                \
  G_STMT_END

static gboolean
has_event (F *f, const char *prefix)
{
  for (guint i = 0; i < f->events->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (f->events, i), prefix))
      return TRUE;
  return FALSE;
}

static gboolean
sync_now (F *f, GError **error)
{
  g_autoptr (GAsyncResult) res = NULL;

  g_ptr_array_set_size (f->events, 0);
  BB_TEST_AWAIT (res, bb_sync_engine_sync_async (f->engine, NULL, bb_test_got_result, &res));
  return bb_sync_engine_sync_finish (f->engine, res, error);
}

static void
sync_ok (F *f)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = sync_now (f, &error);

  g_assert_no_error (error);
  g_assert_true (ok);
}

static void
sync_fails (F *f, GQuark domain, int code)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (sync_now (f, &error));
  g_assert_error (error, domain, code);
}

static void
sync_rollback (F *f, const char *needle)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (sync_now (f, &error));
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_ROLLBACK);
  g_test_message ("rollback: %s", error->message);
  g_assert_nonnull (strstr (error->message, needle));
  assert_events (f, "sync-", "sync-started sync-failed");
}

static BbCollection *
open_collection (F *f, const char *name, BbCodec *codec, BbValueBackend *backend)
{
  g_autoptr (GError) error = NULL;
  BbCollection *c = bb_namespace_open_collection (f->ns, name, codec, backend, &error);

  g_assert_no_error (error);
  g_assert_nonnull (c);
  return c;
}

static BbCollection *
open_strings (F *f, const char *name, BbValueBackend *backend)
{
  g_autoptr (BbCodec) codec = bb_codec_new_string ();

  return open_collection (f, name, codec, backend);
}

static void
set_str (BbValueBackend *backend, const char *key, const char *value)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (bb_value_backend_set_value (backend, key, g_variant_new_string (value), &error));
  g_assert_no_error (error);
}

static void
assert_str (BbValueBackend *backend, const char *key, const char *expected)
{
  g_autoptr (GVariant) v = bb_value_backend_get_value (backend, key, NULL);

  if (expected == NULL)
    g_assert_null (v);
  else
    {
      g_assert_nonnull (v);
      g_assert_cmpstr (g_variant_get_string (v, NULL), ==, expected);
    }
}

static void
set_scope (BbValueBackend *backend, const char *key)
{
  bb_memory_value_backend_set_scope (BB_MEMORY_VALUE_BACKEND (backend),
                                     (const char *const[]){ key, NULL });
}

#define COLL "tx-notes"

/* === §9.1 engine_auth_test.go === */

static void
test_relogin_after_unauthorized (void)
{
  F *f = f_new ();
  g_autoptr (BbIdentityState) state = NULL;

  set_token (f, "revoked-token", 48 * HOUR_US);
  script (f, "GET", "/v1/namespaces/mine", 401, NULL);
  sync_ok (f);

  g_assert_cmpuint (fake_server_count (f->server, "GET", "/v1/namespaces/mine"), ==, 2);
  g_assert_cmpuint (fake_server_count (f->server, "POST", "/v1/auth/login"), ==, 1);
  g_assert_cmpstr (fake_server_nth (f->server, "GET", "/v1/namespaces/mine", 0)->authorization, ==,
                   "Bearer revoked-token");
  g_assert_cmpstr (fake_server_nth (f->server, "GET", "/v1/namespaces/mine", 1)->authorization, ==,
                   "Bearer fresh-token");
  state = bb_store_load_identity (f->store, key_id (f), NULL);
  g_assert_nonnull (state);
  g_assert_cmpstr (bb_identity_state_get_access_token (state), ==, "fresh-token");
  g_assert_true (has_event (f, "auth-session-ready:"));
  g_assert_false (has_event (f, "auth-login-required"));
  /* The whole pass runs again with no second sync-started. */
  assert_events (f, "sync-", "sync-started sync-finished");
  f_free (f);
}

/* Spec §4.5 step 6: the rerun's result is final, a second 401 included. */
static void
test_second_unauthorized_is_final (void)
{
  F *f = f_new ();
  g_autoptr (GError) error = NULL;

  set_token (f, "revoked-token", 48 * HOUR_US);
  script (f, "GET", "/v1/namespaces/mine", 401, NULL);
  script (f, "GET", "/v1/namespaces/mine", 401, NULL);
  g_assert_false (sync_now (f, &error));
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_API);
  g_assert_cmpint (bb_sync_error_get_http_status (error), ==, 401);
  g_assert_cmpuint (fake_server_count (f->server, "GET", "/v1/namespaces/mine"), ==, 2);
  g_assert_cmpuint (fake_server_count (f->server, "POST", "/v1/auth/login"), ==, 1);
  g_assert_false (has_event (f, "auth-login-required"));
  assert_events (f, "sync-", "sync-started sync-failed");
  f_free (f);
}

static void
test_unexpired_token_when_refresh_fails (void)
{
  F *f = f_new ();
  g_autoptr (BbIdentityState) state = NULL;
  g_autofree char *expected = NULL;
  gint64 expiry = f->now + HOUR_US;

  bb_sync_engine_set_refresh_skew (f->engine, 24 * 3600);
  set_token (f, "expiring-token", HOUR_US);
  f->challenges_failing = TRUE;
  sync_ok (f);

  g_assert_cmpuint (fake_server_count (f->server, "POST", "/v1/auth/challenge"), ==, 1);
  g_assert_cmpuint (fake_server_count (f->server, "POST", "/v1/auth/login"), ==, 0);
  g_assert_cmpuint (fake_server_count (f->server, "POST", "/v1/auth/refresh"), ==, 0);
  g_assert_cmpuint (fake_server_count (f->server, "GET", "/v1/namespaces/mine"), ==, 1);
  g_assert_cmpstr (fake_server_nth (f->server, "GET", "/v1/namespaces/mine", 0)->authorization, ==,
                   "Bearer expiring-token");
  state = bb_store_load_identity (f->store, key_id (f), NULL);
  g_assert_cmpstr (bb_identity_state_get_access_token (state), ==, "expiring-token");
  g_assert_cmpint (bb_identity_state_get_token_expiry (state), ==, expiry);
  expected
      = g_strdup_printf ("auth-refresh-recommended:%" G_GINT64_FORMAT, expiry / G_USEC_PER_SEC);
  assert_events (f, "auth-", expected);
  f_free (f);
}

static void
test_session_ready_after_login (void)
{
  F *f = f_new ();
  g_autofree char *expected = NULL;

  sync_ok (f);
  g_assert_cmpuint (fake_server_count (f->server, "POST", "/v1/auth/login"), ==, 1);
  g_assert_cmpuint (fake_server_count (f->server, "GET", "/v1/namespaces/mine"), ==, 1);
  g_assert_cmpstr (fake_server_nth (f->server, "GET", "/v1/namespaces/mine", 0)->authorization, ==,
                   "Bearer fresh-token");
  /* The login challenge carries no bearer token. */
  g_assert_null (fake_server_nth (f->server, "POST", "/v1/auth/challenge", 0)->authorization);
  g_assert_null (fake_server_nth (f->server, "POST", "/v1/auth/login", 0)->authorization);
  expected = g_strdup_printf ("auth-session-ready:%" G_GINT64_FORMAT, NOW_S + 48 * 3600);
  assert_events (f, "auth-", expected);
  /* Spec §6.3 step i: the listed default becomes the identity's default namespace. */
  {
    g_autoptr (BbIdentityState) state = bb_store_load_identity (f->store, key_id (f), NULL);

    g_assert_cmpstr (bb_identity_state_get_access_token (state), ==, "fresh-token");
    g_assert_cmpstr (bb_identity_state_get_default_namespace_id (state), ==, f->ns_id);
  }
  f_free (f);
}

static void
test_login_required_after_login_failure (void)
{
  F *f = f_new ();

  f->challenges_failing = TRUE;
  sync_fails (f, BB_SYNC_ERROR, BB_SYNC_ERROR_API);
  g_assert_cmpuint (fake_server_count (f->server, "POST", "/v1/auth/login"), ==, 0);
  g_assert_cmpuint (fake_server_count (f->server, "GET", "/v1/namespaces/mine"), ==, 0);
  assert_events (f, NULL, "sync-started auth-login-required:0 sync-failed");
  f_free (f);
}

static void
test_auth_events_for_successful_refresh (void)
{
  F *f = f_new ();
  g_autoptr (BbIdentityState) state = NULL;
  g_autofree char *expected = NULL;

  bb_sync_engine_set_refresh_skew (f->engine, 24 * 3600);
  set_token (f, "expiring-token", HOUR_US);
  sync_ok (f);

  g_assert_cmpuint (fake_server_count (f->server, "POST", "/v1/auth/refresh"), ==, 1);
  g_assert_cmpuint (fake_server_count (f->server, "POST", "/v1/auth/login"), ==, 0);
  g_assert_cmpstr (fake_server_nth (f->server, "POST", "/v1/auth/refresh", 0)->authorization, ==,
                   "Bearer expiring-token");
  g_assert_cmpstr (fake_server_nth (f->server, "GET", "/v1/namespaces/mine", 0)->authorization, ==,
                   "Bearer refreshed-token");
  state = bb_store_load_identity (f->store, key_id (f), NULL);
  g_assert_cmpstr (bb_identity_state_get_access_token (state), ==, "refreshed-token");
  g_assert_cmpint (bb_identity_state_get_token_expiry (state), ==, f->now + 48 * HOUR_US);
  expected = g_strdup_printf ("auth-refresh-recommended:%" G_GINT64_FORMAT
                              " auth-session-ready:%" G_GINT64_FORMAT,
                              NOW_S + 3600, NOW_S + 48 * 3600);
  assert_events (f, "auth-", expected);
  f_free (f);
}

/* Spec §4.2: only an expiry strictly before now forces a login. A token expiring exactly
 * now is in the skew window: refresh-recommended and a refresh, no login. */
static void
test_token_expiring_now_is_refreshed (void)
{
  F *f = f_new ();
  g_autofree char *expected = NULL;

  set_token (f, "expiring-token", 0);
  sync_ok (f);
  g_assert_cmpuint (fake_server_count (f->server, "POST", "/v1/auth/login"), ==, 0);
  g_assert_cmpuint (fake_server_count (f->server, "POST", "/v1/auth/refresh"), ==, 1);
  g_assert_cmpstr (fake_server_nth (f->server, "POST", "/v1/auth/refresh", 0)->authorization, ==,
                   "Bearer expiring-token");
  expected = g_strdup_printf ("auth-refresh-recommended:%" G_GINT64_FORMAT
                              " auth-session-ready:%" G_GINT64_FORMAT,
                              NOW_S, NOW_S + 48 * 3600);
  assert_events (f, "auth-", expected);

  /* One microsecond later it has expired: a login. */
  set_token (f, "expired-token", -1);
  sync_ok (f);
  g_assert_cmpuint (fake_server_count (f->server, "POST", "/v1/auth/login"), ==, 1);
  g_assert_cmpuint (fake_server_count (f->server, "POST", "/v1/auth/refresh"), ==, 1);
  f_free (f);
}

static void
test_join_authenticates_before_fetching_dek (void)
{
  F *f = f_new ();
  g_autoptr (GBytes) raw = fake_random_bytes (16);
  g_autofree char *other = bb_protocol_hex_encode (raw);
  g_autofree char *dek_path = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BbNamespace) ns = NULL;
  g_autoptr (BbNamespaceState) state = NULL;

  BB_TEST_AWAIT (
      res, bb_sync_engine_join_namespace_async (f->engine, other, NULL, bb_test_got_result, &res));
  ns = bb_sync_engine_join_namespace_finish (f->engine, res, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_namespace_get_id (ns), ==, other);

  dek_path = g_strdup_printf ("/v1/namespaces/%s/wrapped-deks/%s", other, key_id (f));
  g_assert_cmpuint (f->server->requests->len, ==, 3);
  g_assert_cmpstr (fake_server_request (f->server, 0)->path, ==, "/v1/auth/challenge");
  g_assert_cmpstr (fake_server_request (f->server, 1)->path, ==, "/v1/auth/login");
  g_assert_cmpuint (fake_server_count (f->server, "GET", dek_path), ==, 1);
  g_assert_cmpstr (fake_server_nth (f->server, "GET", dek_path, 0)->authorization, ==,
                   "Bearer fresh-token");

  /* Spec §5.2: joined with kind "" and the unwrapped DEK cached. */
  state = bb_store_get_namespace (f->store, key_id (f), other, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_namespace_state_get_kind (state), ==, "");
  g_assert_true (g_bytes_equal (bb_namespace_state_get_dek (state), f->dek));
  f_free (f);
}

/* === §9.2 engine_identity_test.go === */

static void
test_open_derives_key_id (void)
{
  F *f = f_new ();
  GBytes *auth_key = bb_test_identity_get_auth_public_key (f->identity);
  g_autofree char *expected = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, auth_key);
  g_autoptr (GBytes) raw = NULL;
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 digest[32];
  gsize len = sizeof digest;
  BbIdentityState *state = bb_sync_engine_peek_identity_state (f->engine);

  g_assert_cmpstr (key_id (f), ==, expected);
  raw = bb_test_hex (key_id (f));
  g_checksum_update (sum, g_bytes_get_data (auth_key, NULL), g_bytes_get_size (auth_key));
  g_checksum_get_digest (sum, digest, &len);
  g_assert_cmpmem (g_bytes_get_data (raw, NULL), g_bytes_get_size (raw), digest, len);
  /* Nothing stored: an in-memory record of the identity's kind, not saved. */
  g_assert_cmpstr (bb_identity_state_get_kind (state), ==, "keystore");
  g_assert_cmpstr (bb_identity_state_get_key_id (state), ==, expected);
  g_assert_null (bb_store_load_identity (f->store, key_id (f), NULL));
  f_free (f);
}

/* === §9.3 engine_run_test.go === */

static void
test_sync_now_emits_failure_event (void)
{
  F *f = f_new ();

  set_test_token (f);
  script (f, "GET", "/v1/namespaces/mine", 500, NULL);
  sync_fails (f, BB_SYNC_ERROR, BB_SYNC_ERROR_API);
  assert_events (f, NULL, "sync-started sync-failed");
  f_free (f);
}

/* === §9.5 snapshot_reconciliation_test.go === */

static void
test_reconcile_snapshot_queues_new_and_changed (void)
{
  F *f = f_new ();
  g_autoptr (BbValueBackend) backend = bb_memory_value_backend_new ();
  g_autoptr (BbCollection) c G_GNUC_UNUSED = open_strings (f, COLL, backend);
  g_autoptr (BbItemState) changed G_GNUC_UNUSED
      = save_item (f, COLL, "changed", 1, "base changed", FALSE);
  g_autoptr (BbItemState) clean = save_item (f, COLL, "clean", 1, "clean value", FALSE);
  g_autoptr (BbItemState) conflict = save_item (f, COLL, "conflict", 2, "conflict base", TRUE);
  g_autoptr (BbItemState) dirty = save_item (f, COLL, "dirty", 1, "dirty base", TRUE);
  g_autoptr (BbItemState) item = NULL;
  g_autoptr (GBytes) remote = bytes_of ("conflict remote");

  bb_item_state_set_conflict (conflict, TRUE);
  bb_item_state_set_conflict_remote_version (conflict, 3);
  bb_item_state_set_conflict_remote_value (conflict, remote);
  resave_item (f, conflict);
  set_str (backend, "changed", "changed value");
  set_str (backend, "clean", "clean value");
  set_str (backend, "conflict", "conflict local");
  set_str (backend, "dirty", "dirty local");
  set_str (backend, "new", "new value");

  /* Only phase A: the namespace list fails right after it (no namespace, no flush). */
  set_test_token (f);
  script (f, "GET", "/v1/namespaces/mine", 500, NULL);
  sync_fails (f, BB_SYNC_ERROR, BB_SYNC_ERROR_API);

  assert_events (f, "item-", "item-queued:" COLL "/changed item-queued:" COLL "/new");
  assert_item_unchanged (f, clean);
  assert_item_unchanged (f, conflict);
  assert_item_unchanged (f, dirty);

  item = get_item (f, COLL, "changed");
  g_assert_true (bb_item_state_get_dirty (item));
  g_assert_false (bb_item_state_get_conflict (item));
  g_assert_cmpuint (bb_item_state_get_version (item), ==, 1);
  g_assert_cmpuint (bb_item_state_get_base_version (item), ==, 1);
  assert_bytes_str (bb_item_state_get_base_value (item), "base changed");
  g_clear_object (&item);

  item = get_item (f, COLL, "new");
  g_assert_true (bb_item_state_get_dirty (item));
  g_assert_false (bb_item_state_get_conflict (item));
  g_assert_cmpuint (bb_item_state_get_version (item), ==, 0);
  g_assert_cmpuint (bb_item_state_get_base_version (item), ==, 0);
  assert_bytes_str (bb_item_state_get_base_value (item), "");
  {
    g_autofree char *id = item_id (f, COLL, "new");

    g_assert_cmpstr (bb_item_state_get_item_id (item), ==, id);
  }
  f_free (f);
}

static void
test_reconciles_snapshot_before_upload (void)
{
  F *f = f_new ();
  g_autoptr (BbValueBackend) backend = bb_memory_value_backend_new ();
  g_autoptr (BbCollection) c G_GNUC_UNUSED = open_strings (f, COLL, backend);
  g_autoptr (BbItemState) item G_GNUC_UNUSED = save_item (f, COLL, "memo", 1, "base memo", FALSE);
  g_autofree char *id = item_id (f, COLL, "memo");
  g_autofree char *path = kv_path (f, id);
  g_autofree char *ipath = items_path (f);

  set_test_token (f);
  set_ns_head (f, 1);
  f->remote_head = 1;
  remote_map (f, id, 1);
  set_str (backend, "memo", "edited memo");
  sync_ok (f);

  g_assert_cmpuint (fake_server_count (f->server, "GET", ipath), ==, 1);
  g_assert_cmpuint (fake_server_count (f->server, "GET", path), ==, 0);
  g_assert_cmpuint (fake_server_count (f->server, "PUT", path), ==, 1);
  assert_put (f, id, 0, "\"1\"", 2, "edited memo");
  assert_clean (f, COLL, "memo", 2, "edited memo");
  g_assert_cmpuint (ns_head (f), ==, 2);
  f_free (f);
}

typedef struct
{
  BbValueBackend *backend;
  char *path;
} WriteDuringGet;

static WriteDuringGet write_during_get;

static void
write_local_memo_hook (F *f, FakeRequest *req)
{
  if (strcmp (req->method, "GET") == 0 && strcmp (req->path, write_during_get.path) == 0)
    {
      set_str (write_during_get.backend, "memo", "local memo");
      f->hook = NULL;
    }
}

static void
test_no_overwrite_of_local_edit_after_snapshot (void)
{
  F *f = f_new ();
  g_autoptr (BbValueBackend) backend = bb_memory_value_backend_new ();
  g_autoptr (BbCollection) c = open_strings (f, COLL, backend);
  g_autoptr (BbItemState) item G_GNUC_UNUSED = save_item (f, COLL, "memo", 1, "base memo", FALSE);
  g_autofree char *id = item_id (f, COLL, "memo");
  g_autofree char *path = kv_path (f, id);

  bb_collection_set_merge_policy (c, BB_MERGE_POLICY_PREFER_LOCAL);
  set_test_token (f);
  set_ns_head (f, 1);
  set_str (backend, "memo", "base memo");
  f->remote_head = 2;
  remote_map (f, id, 2);
  remote_item (f, id, 2, "remote memo");
  write_during_get.backend = backend;
  write_during_get.path = path;
  f->hook = write_local_memo_hook;
  sync_ok (f);

  g_assert_cmpuint (fake_server_count (f->server, "GET", path), ==, 1);
  g_assert_cmpuint (fake_server_count (f->server, "PUT", path), ==, 1);
  assert_put (f, id, 0, "\"2\"", 3, "local memo");
  assert_str (backend, "memo", "local memo");
  assert_clean (f, COLL, "memo", 3, "local memo");
  g_assert_false (has_event (f, "item-downloaded"));
  f_free (f);
}

static void
test_no_overwrite_between_reread_and_apply (void)
{
  F *f = f_new ();
  g_autoptr (TestRacyBackend) backend = g_object_new (TEST_TYPE_RACY_BACKEND, NULL);
  g_autoptr (BbCollection) c = open_strings (f, COLL, BB_VALUE_BACKEND (backend));
  g_autoptr (BbItemState) item G_GNUC_UNUSED = save_item (f, COLL, "memo", 1, "base memo", FALSE);
  g_autofree char *id = item_id (f, COLL, "memo");
  g_autofree char *path = kv_path (f, id);

  bb_collection_set_merge_policy (c, BB_MERGE_POLICY_PREFER_LOCAL);
  set_test_token (f);
  set_ns_head (f, 1);
  set_str (backend->inner, "memo", "base memo");
  backend->race_key = g_strdup ("memo");
  backend->race_value = g_variant_ref_sink (g_variant_new_string ("local memo"));
  f->remote_head = 2;
  remote_map (f, id, 2);
  remote_item (f, id, 2, "remote memo");
  put_answers (f, 412);
  sync_ok (f);

  g_assert_null (backend->race_value);
  g_assert_cmpuint (fake_server_count (f->server, "GET", path), ==, 2);
  g_assert_cmpuint (fake_server_count (f->server, "PUT", path), ==, 2);
  assert_put (f, id, 0, "\"1\"", 2, "local memo");
  assert_put (f, id, 1, "\"2\"", 3, "local memo");
  assert_str (backend->inner, "memo", "local memo");
  assert_clean (f, COLL, "memo", 3, "local memo");
  /* The refused apply kept the item dirty and queued it. */
  g_assert_true (has_event (f, "item-queued:" COLL "/memo"));
  g_assert_false (has_event (f, "item-downloaded"));
  f_free (f);
}

/* === §9.6 collection_external_test.go === */

static void
test_active_scope_change_at_current_head (void)
{
  F *f = f_new ();
  g_autoptr (BbValueBackend) backend = bb_memory_value_backend_new ();
  g_autoptr (BbCollection) c G_GNUC_UNUSED = open_strings (f, COLL, backend);
  g_autoptr (BbItemState) item G_GNUC_UNUSED = save_item (f, COLL, "reactivated", 0, NULL, FALSE);
  g_autoptr (BbNamespaceState) ns = NULL;
  g_autofree char *id = item_id (f, COLL, "reactivated");
  g_autofree char *ipath = items_path (f);

  set_test_token (f);
  set_scope (backend, "reactivated");
  set_ns_head (f, 7);
  f->remote_head = 7;
  remote_map (f, id, 1);
  remote_item (f, id, 1, "remote note");
  sync_ok (f);

  g_assert_cmpuint (fake_server_count (f->server, "GET", ipath), ==, 1);
  assert_str (backend, "reactivated", "remote note");
  assert_clean (f, COLL, "reactivated", 1, "remote note");
  ns = get_ns (f);
  g_assert_cmpuint (bb_namespace_state_get_namespace_head (ns), ==, 7);
  g_assert_cmpstr (bb_namespace_state_get_active_scope_hash (ns), !=, "");
  g_assert_cmpuint (strlen (bb_namespace_state_get_active_scope_hash (ns)), ==, 64);

  sync_ok (f);
  g_assert_cmpuint (fake_server_count (f->server, "GET", ipath), ==, 1);
  f_free (f);
}

static void
test_rejects_cached_namespace_disappearance (void)
{
  F *f = f_new ();

  set_test_token (f);
  set_ns_head (f, 4);
  f->list_json = g_strdup ("{\"namespaces\":[]}");
  sync_rollback (f, " disappeared");
  g_assert_cmpuint (ns_head (f), ==, 4);
  f_free (f);
}

static void
test_rejects_multiple_default_namespaces (void)
{
  F *f = f_new ();
  g_autoptr (GBytes) raw = fake_random_bytes (16);
  g_autofree char *other = bb_protocol_hex_encode (raw);
  g_autoptr (GError) error = NULL;

  set_test_token (f);
  f->list_json = g_strdup_printf (
      "{\"namespaces\":[{\"namespaceId\":\"%s\",\"kind\":\"default\",\"namespaceHead\":0},"
      "{\"namespaceId\":\"%s\",\"kind\":\"default\",\"namespaceHead\":0}]}",
      f->ns_id, other);
  g_assert_false (sync_now (f, &error));
  g_assert_nonnull (error);
  g_assert_false (g_error_matches (error, BB_SYNC_ERROR, BB_SYNC_ERROR_ROLLBACK));
  g_assert_nonnull (strstr (error->message, "multiple default namespaces"));
  f_free (f);
}

static void
test_rejects_default_namespace_mismatch (void)
{
  F *f = f_new ();
  g_autoptr (GBytes) raw = fake_random_bytes (16);
  g_autofree char *other = bb_protocol_hex_encode (raw);
  g_autoptr (BbIdentityState) state
      = bb_identity_state_copy (bb_sync_engine_peek_identity_state (f->engine));

  bb_identity_state_set_default_namespace_id (state, f->ns_id);
  g_assert_true (bb_sync_engine_save_identity_state (f->engine, state, NULL));
  set_test_token (f);
  f->list_json = g_strdup_printf (
      "{\"namespaces\":[{\"namespaceId\":\"%s\",\"kind\":\"default\",\"namespaceHead\":0}]}",
      other);
  sync_rollback (f, "default namespace mismatch");
  /* The cached default ID stays. */
  g_assert_cmpstr (
      bb_identity_state_get_default_namespace_id (bb_sync_engine_peek_identity_state (f->engine)),
      ==, f->ns_id);
  f_free (f);
}

static void
test_create_shared_namespace_caches_dek (void)
{
  F *f = f_new ();
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BbNamespace) ns = NULL;
  g_autoptr (BbNamespaceState) state = NULL;
  g_autoptr (JsonObject) body = NULL;
  g_autoptr (GBytes) wrapped = NULL;
  FakeRequest *req;

  set_test_token (f);
  BB_TEST_AWAIT (res, bb_sync_engine_create_shared_namespace_async (f->engine, NULL,
                                                                    bb_test_got_result, &res));
  ns = bb_sync_engine_create_shared_namespace_finish (f->engine, res, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ns);

  g_assert_cmpuint (f->server->requests->len, ==, 1);
  g_assert_cmpuint (fake_server_count (f->server, "POST", "/v1/namespaces"), ==, 1);
  req = fake_server_nth (f->server, "POST", "/v1/namespaces", 0);
  g_assert_cmpstr (req->authorization, ==, "Bearer test-token");
  body = fake_parse_object (req->body);
  g_assert_cmpstr (bb_namespace_get_id (ns), ==,
                   json_object_get_string_member (body, "namespaceId"));
  g_assert_cmpstr (bb_namespace_get_kind (ns), ==, "shared");
  wrapped = bb_protocol_base64_decode (json_object_get_string_member (body, "wrappedDek"), -1,
                                       "wrappedDek", &error);
  g_assert_no_error (error);
  g_assert_true (bb_protocol_validate_wrapped_dek (wrapped, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (wrapped), ==, BB_PROTOCOL_WRAPPED_DEK_SIZE);
  g_assert_cmpuint (((const guint8 *)g_bytes_get_data (wrapped, NULL))[0], ==, 1);

  state = bb_store_get_namespace (f->store, key_id (f), bb_namespace_get_id (ns), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_namespace_state_get_kind (state), ==, "shared");
  g_assert_cmpuint (g_bytes_get_size (bb_namespace_state_get_dek (state)), ==, 32);
  g_assert_cmpuint (bb_namespace_state_get_namespace_head (state), ==, 0);
  f_free (f);
}

/* Keys = ["active"], a cached "hidden" at v1; the server moved hidden to v2. */
static void
inactive_setup (F *f, TestRacyBackend *backend, BbItemState **out_hidden)
{
  g_autofree char *id = item_id (f, COLL, "hidden");

  set_test_token (f);
  backend->keys = g_strsplit ("active", ",", -1);
  set_str (backend->inner, "hidden", "hidden value");
  *out_hidden = save_item (f, COLL, "hidden", 1, "hidden value", FALSE);
  set_ns_head (f, 1);
  f->remote_head = 2;
  remote_item (f, id, 2, "hidden remote");
}

static void
test_skips_inactive_scoped_items_and_advances_head (void)
{
  F *f = f_new ();
  g_autoptr (TestRacyBackend) backend = g_object_new (TEST_TYPE_RACY_BACKEND, NULL);
  g_autoptr (BbCollection) c G_GNUC_UNUSED = open_strings (f, COLL, BB_VALUE_BACKEND (backend));
  g_autoptr (BbItemState) hidden = NULL;
  g_autofree char *id = item_id (f, COLL, "hidden");
  g_autofree char *ipath = items_path (f);

  inactive_setup (f, backend, &hidden);
  remote_map (f, id, 2);
  sync_ok (f);

  g_assert_cmpuint (fake_server_count (f->server, "GET", ipath), ==, 1);
  g_assert_cmpuint (fake_server_count_prefix (f->server, "GET", "/v1/kv/"), ==, 0);
  g_assert_cmpuint (fake_server_count_prefix (f->server, "PUT", "/v1/kv/"), ==, 0);
  assert_str (backend->inner, "hidden", "hidden value");
  assert_item_unchanged (f, hidden);
  g_assert_cmpuint (ns_head (f), ==, 2);
  g_assert_false (has_event (f, "unknown-remote-item"));
  f_free (f);
}

static void
test_rejects_inactive_item_disappearance (void)
{
  F *f = f_new ();
  g_autoptr (TestRacyBackend) backend = g_object_new (TEST_TYPE_RACY_BACKEND, NULL);
  g_autoptr (BbCollection) c G_GNUC_UNUSED = open_strings (f, COLL, BB_VALUE_BACKEND (backend));
  g_autoptr (BbItemState) hidden = NULL;

  inactive_setup (f, backend, &hidden);
  sync_rollback (f, "disappeared from namespace");
  g_assert_cmpuint (ns_head (f), ==, 1);
  assert_item_unchanged (f, hidden);
  f_free (f);
}

static void
test_skips_unregistered_cached_items (void)
{
  F *f = f_new ();
  g_autoptr (BbItemState) item = save_item (f, "unopened", "k", 1, "cached", FALSE);
  g_autofree char *id = item_id (f, "unopened", "k");
  g_autofree char *ipath = items_path (f);

  set_test_token (f);
  set_ns_head (f, 1);
  f->remote_head = 2;
  remote_map (f, id, 2);
  remote_item (f, id, 2, "remote");
  sync_ok (f);

  g_assert_cmpuint (fake_server_count (f->server, "GET", ipath), ==, 1);
  g_assert_cmpuint (fake_server_count_prefix (f->server, "GET", "/v1/kv/"), ==, 0);
  assert_item_unchanged (f, item);
  g_assert_cmpuint (ns_head (f), ==, 2);
  g_assert_false (has_event (f, "unknown-remote-item"));
  f_free (f);
}

static void
test_flush_skips_unregistered_collections (void)
{
  F *f = f_new ();
  g_autoptr (BbItemState) item = save_item (f, "unopened", "k", 0, NULL, TRUE);

  set_test_token (f);
  sync_ok (f);
  g_assert_cmpuint (fake_server_count_prefix (f->server, "PUT", "/v1/kv/"), ==, 0);
  assert_item_unchanged (f, item);
  g_assert_false (has_event (f, "item-"));
  f_free (f);
}

static void
test_fetch_and_apply_uses_fetched_version (void)
{
  F *f = f_new ();
  g_autoptr (BbValueBackend) backend = bb_memory_value_backend_new ();
  g_autoptr (BbCollection) c = open_strings (f, COLL, backend);
  g_autoptr (BbItemState) item G_GNUC_UNUSED = save_item (f, COLL, "k", 1, "v1 value", FALSE);
  g_autofree char *id = item_id (f, COLL, "k");
  g_autofree char *path = kv_path (f, id);

  bb_collection_set_merge_policy (c, BB_MERGE_POLICY_PREFER_REMOTE);
  set_test_token (f);
  set_str (backend, "k", "v1 value");
  set_ns_head (f, 1);
  f->remote_head = 2;
  remote_map (f, id, 2);
  remote_item (f, id, 3, "latest remote");
  sync_ok (f);

  g_assert_cmpuint (fake_server_count (f->server, "GET", path), ==, 1);
  g_assert_cmpuint (fake_server_count (f->server, "PUT", path), ==, 0);
  assert_str (backend, "k", "latest remote");
  assert_clean (f, COLL, "k", 3, "latest remote");
  assert_events (f, "item-", "item-changed:" COLL "/k item-downloaded:" COLL "/k");
  f_free (f);
}

static void
test_disappeared_known_item_is_rollback (void)
{
  F *f = f_new ();
  g_autoptr (BbValueBackend) backend = bb_memory_value_backend_new ();
  g_autoptr (BbCollection) c G_GNUC_UNUSED = open_strings (f, COLL, backend);
  g_autoptr (BbItemState) item = save_item (f, COLL, "k", 2, "known", FALSE);

  set_test_token (f);
  set_str (backend, "k", "known");
  set_ns_head (f, 4);
  f->remote_head = 5;
  sync_rollback (f, "disappeared from namespace");
  g_assert_cmpuint (ns_head (f), ==, 4);
  assert_item_unchanged (f, item);
  f_free (f);
}

static void
test_snapshot_behind_expected_head (void)
{
  F *f = f_new ();

  set_test_token (f);
  set_ns_head (f, 4);
  f->remote_head = 5;
  f->map_head = 4;
  sync_rollback (f, "item map head 4 is below 5");
  g_assert_cmpuint (ns_head (f), ==, 4);
  {
    g_autofree char *ipath = items_path (f);

    g_assert_cmpuint (fake_server_count (f->server, "GET", ipath), ==, 1);
  }
  f_free (f);
}

/* Spec §6.6 step 4 (§6.10): a fetched version below the listed one is a rollback. */
static void
test_fetch_below_listed_version_is_rollback (void)
{
  F *f = f_new ();
  g_autoptr (BbValueBackend) backend = bb_memory_value_backend_new ();
  g_autoptr (BbCollection) c G_GNUC_UNUSED = open_strings (f, COLL, backend);
  g_autoptr (BbItemState) item = save_item (f, COLL, "k", 1, "v1 value", FALSE);
  g_autofree char *id = item_id (f, COLL, "k");
  g_autofree char *path = kv_path (f, id);

  set_test_token (f);
  set_str (backend, "k", "v1 value");
  set_ns_head (f, 1);
  f->remote_head = 3;
  remote_map (f, id, 3);
  remote_item (f, id, 2, "stale remote");
  sync_rollback (f, "below the listed 3");
  g_assert_cmpuint (fake_server_count (f->server, "GET", path), ==, 1);
  assert_str (backend, "k", "v1 value");
  assert_item_unchanged (f, item);
  g_assert_cmpuint (ns_head (f), ==, 1);
  f_free (f);
}

/* Spec §6.5 step 3 (§6.10): a known item listed below its local version is a rollback. */
static void
test_item_listed_below_local_version_is_rollback (void)
{
  F *f = f_new ();
  g_autoptr (BbValueBackend) backend = bb_memory_value_backend_new ();
  g_autoptr (BbCollection) c G_GNUC_UNUSED = open_strings (f, COLL, backend);
  g_autoptr (BbItemState) item = save_item (f, COLL, "k", 3, "v3 value", FALSE);
  g_autofree char *id = item_id (f, COLL, "k");

  set_test_token (f);
  set_str (backend, "k", "v3 value");
  set_ns_head (f, 4);
  f->remote_head = 5;
  remote_map (f, id, 2);
  sync_rollback (f, "below the known 3");
  g_assert_cmpuint (fake_server_count_prefix (f->server, "GET", "/v1/kv/"), ==, 0);
  assert_item_unchanged (f, item);
  g_assert_cmpuint (ns_head (f), ==, 4);
  f_free (f);
}

static void
test_conflict_preserves_original_merge_base (void)
{
  F *f = f_new ();
  g_autoptr (BbValueBackend) backend = bb_memory_value_backend_new ();
  g_autoptr (BbCollection) c G_GNUC_UNUSED = open_strings (f, COLL, backend);
  g_autoptr (BbItemState) saved G_GNUC_UNUSED = save_item (f, COLL, "k", 1, "base value", TRUE);
  g_autoptr (BbItemState) item = NULL;
  g_autofree char *id = item_id (f, COLL, "k");

  set_test_token (f);
  set_str (backend, "k", "local edit");
  set_ns_head (f, 1);
  f->remote_head = 2;
  remote_map (f, id, 2);
  remote_item (f, id, 2, "remote edit");
  sync_ok (f);

  assert_str (backend, "k", "local edit");
  item = get_item (f, COLL, "k");
  g_assert_true (bb_item_state_get_dirty (item));
  g_assert_true (bb_item_state_get_conflict (item));
  g_assert_cmpuint (bb_item_state_get_version (item), ==, 2);
  g_assert_cmpuint (bb_item_state_get_base_version (item), ==, 1);
  assert_bytes_str (bb_item_state_get_base_value (item), "base value");
  g_assert_cmpuint (bb_item_state_get_conflict_remote_version (item), ==, 2);
  assert_bytes_str (bb_item_state_get_conflict_remote_value (item), "remote edit");
  g_assert_cmpuint (fake_server_count_prefix (f->server, "PUT", "/v1/kv/"), ==, 0);
  assert_events (f, "conflict-", "conflict-detected:" COLL "/k");
  f_free (f);
}

/* === §9.7 collection_merge_test.go === */

typedef struct
{
  guint calls;
  gboolean saw_base;
} MergeSpy;

static GVariant *
unresolved_merge (BbCollection *c, const char *key, GVariant *base, GVariant *local,
                  GVariant *remote, gpointer user_data)
{
  MergeSpy *spy = user_data;

  spy->calls++;
  spy->saw_base = base != NULL;
  return NULL;
}

static void
test_concurrent_create_conflict_for_strict_codec (void)
{
  F *f = f_new ();
  g_autoptr (BbValueBackend) backend = bb_memory_value_backend_new ();
  g_autoptr (BbCodec) json = bb_codec_new_json (G_VARIANT_TYPE_STRING);
  g_autoptr (BbCollection) c = open_collection (f, COLL, json, backend);
  g_autoptr (BbItemState) item = NULL;
  g_autofree char *id = item_id (f, COLL, "k");
  g_autofree char *path = kv_path (f, id);
  MergeSpy spy = { 0 };

  /* A codec that rejects empty input (spec §9.8), NoMerge. */
  {
    g_autoptr (GBytes) empty = g_bytes_new (NULL, 0);
    g_autoptr (GError) error = NULL;
    g_autoptr (GVariant) v = bb_codec_decode (json, empty, &error);

    g_assert_null (v);
    g_assert_nonnull (error);
  }
  g_signal_connect (c, "merge", G_CALLBACK (unresolved_merge), &spy);
  g_object_unref (save_item (f, COLL, "k", 0, NULL, TRUE));
  set_str (backend, "k", "local create");
  set_test_token (f);
  put_answers (f, 412);
  remote_item (f, id, 1, "\"remote create\"");
  sync_ok (f);

  g_assert_cmpuint (fake_server_count (f->server, "PUT", path), ==, 1);
  g_assert_cmpuint (fake_server_count (f->server, "GET", path), ==, 1);
  assert_put (f, id, 0, NULL, 1, "\"local create\"");
  g_assert_cmpuint (spy.calls, ==, 1);
  g_assert_false (spy.saw_base);
  assert_str (backend, "k", "local create");
  item = get_item (f, COLL, "k");
  g_assert_true (bb_item_state_get_dirty (item));
  g_assert_true (bb_item_state_get_conflict (item));
  g_assert_cmpuint (bb_item_state_get_version (item), ==, 1);
  g_assert_cmpuint (bb_item_state_get_base_version (item), ==, 0);
  assert_bytes_str (bb_item_state_get_base_value (item), "");
  g_assert_cmpuint (bb_item_state_get_conflict_remote_version (item), ==, 1);
  assert_bytes_str (bb_item_state_get_conflict_remote_value (item), "\"remote create\"");
  f_free (f);
}

static void
test_concurrent_create_can_resolve (void)
{
  F *f = f_new ();
  g_autoptr (BbValueBackend) backend = bb_memory_value_backend_new ();
  g_autoptr (BbCollection) c = open_strings (f, COLL, backend);
  g_autofree char *id = item_id (f, COLL, "k");
  g_autofree char *path = kv_path (f, id);

  bb_collection_set_merge_policy (c, BB_MERGE_POLICY_PREFER_LOCAL);
  set_str (backend, "k", "local create");
  set_test_token (f);
  put_answers (f, 412);
  remote_item (f, id, 1, "remote create");
  sync_ok (f);

  g_assert_cmpuint (fake_server_count (f->server, "PUT", path), ==, 2);
  g_assert_cmpuint (fake_server_count (f->server, "GET", path), ==, 1);
  assert_put (f, id, 0, NULL, 1, "local create");
  assert_put (f, id, 1, "\"1\"", 2, "local create");
  assert_str (backend, "k", "local create");
  assert_clean (f, COLL, "k", 2, "local create");
  f_free (f);
}

static void
test_retry_also_conflicts_refreshes (void)
{
  F *f = f_new ();
  g_autoptr (BbValueBackend) backend = bb_memory_value_backend_new ();
  g_autoptr (BbCollection) c = open_strings (f, COLL, backend);
  g_autoptr (BbItemState) saved G_GNUC_UNUSED = save_item (f, COLL, "k", 1, "base value", TRUE);
  g_autoptr (BbItemState) item = NULL;
  g_autofree char *id = item_id (f, COLL, "k");
  g_autofree char *path = kv_path (f, id);

  bb_collection_set_merge_policy (c, BB_MERGE_POLICY_PREFER_LOCAL);
  set_str (backend, "k", "local edit");
  set_test_token (f);
  set_ns_head (f, 1);
  f->remote_head = 1;
  remote_map (f, id, 1);
  put_answers (f, 412);
  put_answers (f, 412);
  remote_item (f, id, 2, "remote edit");
  remote_item (f, id, 3, "newer remote edit");
  sync_ok (f);

  g_assert_cmpuint (fake_server_count (f->server, "PUT", path), ==, 2);
  g_assert_cmpuint (fake_server_count (f->server, "GET", path), ==, 2);
  assert_put (f, id, 0, "\"1\"", 2, "local edit");
  assert_put (f, id, 1, "\"2\"", 3, "local edit");
  assert_str (backend, "k", "local edit");
  item = get_item (f, COLL, "k");
  g_assert_true (bb_item_state_get_dirty (item));
  g_assert_false (bb_item_state_get_conflict (item));
  g_assert_cmpuint (bb_item_state_get_version (item), ==, 3);
  g_assert_cmpuint (bb_item_state_get_base_version (item), ==, 3);
  assert_bytes_str (bb_item_state_get_base_value (item), "newer remote edit");
  f_free (f);
}

static void
test_upload_conflict_rejects_rollback_version (void)
{
  F *f = f_new ();
  g_autoptr (BbValueBackend) backend = bb_memory_value_backend_new ();
  g_autoptr (BbCollection) c = open_strings (f, COLL, backend);
  g_autoptr (BbItemState) saved = save_item (f, COLL, "k", 2, "base value", TRUE);
  g_autofree char *id = item_id (f, COLL, "k");
  g_autofree char *path = kv_path (f, id);

  bb_collection_set_merge_policy (c, BB_MERGE_POLICY_PREFER_LOCAL);
  set_str (backend, "k", "local edit");
  set_test_token (f);
  set_ns_head (f, 2);
  f->remote_head = 2;
  remote_map (f, id, 2);
  put_answers (f, 412);
  remote_item (f, id, 1, "old remote");
  sync_rollback (f, "went back from version 2 to 1");

  g_assert_cmpuint (fake_server_count (f->server, "PUT", path), ==, 1);
  g_assert_cmpuint (fake_server_count (f->server, "GET", path), ==, 1);
  assert_put (f, id, 0, "\"2\"", 3, "local edit");
  assert_item_unchanged (f, saved);
  assert_str (backend, "k", "local edit");
  f_free (f);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  /* §9.1 */
  g_test_add_func ("/engine-fake/auth/relogin-after-401", test_relogin_after_unauthorized);
  g_test_add_func ("/engine-fake/auth/second-401-is-final", test_second_unauthorized_is_final);
  g_test_add_func ("/engine-fake/auth/unexpired-token-when-refresh-fails",
                   test_unexpired_token_when_refresh_fails);
  g_test_add_func ("/engine-fake/auth/session-ready-after-login", test_session_ready_after_login);
  g_test_add_func ("/engine-fake/auth/login-required-after-login-failure",
                   test_login_required_after_login_failure);
  g_test_add_func ("/engine-fake/auth/events-for-successful-refresh",
                   test_auth_events_for_successful_refresh);
  g_test_add_func ("/engine-fake/auth/token-expiring-now-is-refreshed",
                   test_token_expiring_now_is_refreshed);
  g_test_add_func ("/engine-fake/auth/join-authenticates-before-fetching-dek",
                   test_join_authenticates_before_fetching_dek);
  /* §9.2 */
  g_test_add_func ("/engine-fake/identity/open-derives-key-id", test_open_derives_key_id);
  /* §9.3 */
  g_test_add_func ("/engine-fake/run/sync-now-emits-failure-event",
                   test_sync_now_emits_failure_event);
  /* §9.5 */
  g_test_add_func ("/engine-fake/snapshot/queues-new-and-changed",
                   test_reconcile_snapshot_queues_new_and_changed);
  g_test_add_func ("/engine-fake/snapshot/reconciles-before-upload",
                   test_reconciles_snapshot_before_upload);
  g_test_add_func ("/engine-fake/snapshot/local-edit-after-snapshot",
                   test_no_overwrite_of_local_edit_after_snapshot);
  g_test_add_func ("/engine-fake/snapshot/local-edit-between-reread-and-apply",
                   test_no_overwrite_between_reread_and_apply);
  /* §9.6 */
  g_test_add_func ("/engine-fake/external/active-scope-change-at-current-head",
                   test_active_scope_change_at_current_head);
  g_test_add_func ("/engine-fake/external/cached-namespace-disappearance",
                   test_rejects_cached_namespace_disappearance);
  g_test_add_func ("/engine-fake/external/multiple-default-namespaces",
                   test_rejects_multiple_default_namespaces);
  g_test_add_func ("/engine-fake/external/default-namespace-mismatch",
                   test_rejects_default_namespace_mismatch);
  g_test_add_func ("/engine-fake/external/create-shared-namespace-caches-dek",
                   test_create_shared_namespace_caches_dek);
  g_test_add_func ("/engine-fake/external/skips-inactive-scoped-items",
                   test_skips_inactive_scoped_items_and_advances_head);
  g_test_add_func ("/engine-fake/external/inactive-item-disappearance",
                   test_rejects_inactive_item_disappearance);
  g_test_add_func ("/engine-fake/external/skips-unregistered-cached-items",
                   test_skips_unregistered_cached_items);
  g_test_add_func ("/engine-fake/external/flush-skips-unregistered-collections",
                   test_flush_skips_unregistered_collections);
  g_test_add_func ("/engine-fake/external/fetch-uses-fetched-version",
                   test_fetch_and_apply_uses_fetched_version);
  g_test_add_func ("/engine-fake/external/disappeared-known-item-is-rollback",
                   test_disappeared_known_item_is_rollback);
  g_test_add_func ("/engine-fake/external/snapshot-behind-expected-head",
                   test_snapshot_behind_expected_head);
  g_test_add_func ("/engine-fake/external/fetch-below-listed-version-is-rollback",
                   test_fetch_below_listed_version_is_rollback);
  g_test_add_func ("/engine-fake/external/item-listed-below-local-version-is-rollback",
                   test_item_listed_below_local_version_is_rollback);
  g_test_add_func ("/engine-fake/external/conflict-preserves-merge-base",
                   test_conflict_preserves_original_merge_base);
  /* §9.7 */
  g_test_add_func ("/engine-fake/merge/concurrent-create-conflict-strict-codec",
                   test_concurrent_create_conflict_for_strict_codec);
  g_test_add_func ("/engine-fake/merge/concurrent-create-can-resolve",
                   test_concurrent_create_can_resolve);
  g_test_add_func ("/engine-fake/merge/retry-also-conflicts-refreshes",
                   test_retry_also_conflicts_refreshes);
  g_test_add_func ("/engine-fake/merge/upload-conflict-rejects-rollback-version",
                   test_upload_conflict_rejects_rollback_version);

  return g_test_run ();
}
