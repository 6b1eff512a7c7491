/* test-client-misbehaving.c: BbClient against a tiny SoupServer that answers whatever
 * the test tells it to (wrong IDs, wrong versions, bad base64, truncated JSON, error
 * bodies), mirroring the upstream raw client tests (protocol spec §12.2).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <bbsync/bbsync.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <libsoup/soup.h>
#include <string.h>
#include <sys/resource.h>

#include "bb-client-private.h"
#include "bb-protocol-types-private.h"
#include "bb-test-utils.h"

#define NS "0123456789abcdef0123456789abcdef"
#define NS2 "fedcba9876543210fedcba9876543210"
#define KEY "c029da188934a38b23c7230efb07ba4f1baad31e3b11b4f86d96fb6534a9433e"
#define KEY2 "90491e35f86b3336c36184e21efdc071ea08119241fe99768722175dcb6ea417"
#define ITEM "b8d18f536289d201bcd1034560a83da1429a95678cdd35003d458e990c9a7a4f"
#define ITEM2 "481f3cdb4b6a10e8e9645d231c4230ec9c3a9be0a5c40008615be2abcaad79a6"
#define INVITE "00112233445566778899aabbccddeeff"
#define INVITE2 "ffeeddccbbaa99887766554433221100"
#define HASH "baf4a4d646d4cc5f7eeecddf969fd9b7421cd10565a6bfded4d02253ec8f6497"
#define HASH2 "2213d47bbb3044276373c9d028430f532ddd5c861e410768d921cbdaeb998924"
#define CHALLENGE_B64 "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
#define NONCE_B64 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYX"

typedef struct
{
  SoupServer *server;
  BbClient *client;
  char *base_url;
  /* the canned answer; when hang is set, requests are held without an answer */
  gboolean hang;
  /* when trickle is set, a 200 with headers and then one body byte every 200 ms, never
   * the end of the body */
  gboolean trickle;
  SoupServerMessage *trickle_msg;
  GSource *trickle_source;
  gboolean trickle_finished;
  guint n_trickled;
  /* cancelled once this many bytes have been trickled (0: never) */
  GCancellable *cancel_after;
  guint cancel_after_bytes;
  guint status;
  char *body;
  const char *content_type;
  /* sent as Retry-After when not NULL */
  char *retry_after;
  /* the last request */
  guint n_requests;
  char *method;
  char *path;
  char *request_body;
  char *authorization;
  char *if_match;
  char *request_content_type;
  char *user_agent;
  char *accept_encoding;
  /* when stream_size is set, a body of that many bytes sent in chunks from one static
   * buffer (stream_source when set, else x's), so the server allocates nothing for it */
  guint64 stream_size;
  gboolean stream_sized;       /* with a Content-Length, else chunked */
  const char *stream_encoding; /* nullable: the Content-Encoding */
  GBytes *stream_source;       /* nullable */
  SoupServerMessage *stream_msg;
  guint64 stream_sent;
  gboolean stream_finished;
} Fake;

static void
trickle_finished_cb (SoupServerMessage *msg, gpointer user_data)
{
  Fake *f = user_data;

  f->trickle_finished = TRUE;
}

static gboolean
trickle_cb (gpointer user_data)
{
  Fake *f = user_data;

  /* The client has gone (timed out or cancelled): nothing more to send. */
  if (f->trickle_finished)
    {
      g_clear_pointer (&f->trickle_source, g_source_unref);
      return G_SOURCE_REMOVE;
    }
  soup_message_body_append (soup_server_message_get_response_body (f->trickle_msg),
                            SOUP_MEMORY_STATIC, " ", 1);
  soup_server_message_unpause (f->trickle_msg);
  f->n_trickled++;
  if (f->cancel_after != NULL && f->n_trickled == f->cancel_after_bytes)
    g_cancellable_cancel (f->cancel_after);
  return G_SOURCE_CONTINUE;
}

static void
fake_start_trickle (Fake *f, SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);

  g_assert_null (f->trickle_msg);
  f->trickle_msg = g_object_ref (msg);
  g_signal_connect (msg, "finished", G_CALLBACK (trickle_finished_cb), f);
  soup_server_message_set_status (msg, 200, NULL);
  soup_message_headers_set_content_type (headers, "application/json", NULL);
  soup_message_headers_set_encoding (headers, SOUP_ENCODING_CHUNKED);
  /* Headers go out now; the server pauses itself whenever the body runs dry. */
  f->trickle_source = g_timeout_source_new (200);
  g_source_set_callback (f->trickle_source, trickle_cb, f, NULL);
  g_source_attach (f->trickle_source, NULL);
}

/* The x's of a streamed body. */
static const char stream_chunk[64 * 1024] = { [0 ... 64 * 1024 - 1] = 'x' };

/* Appends the next piece of the streamed body, or ends it. */
static void
stream_wrote_chunk_cb (SoupServerMessage *msg, gpointer user_data)
{
  Fake *f = user_data;
  SoupMessageBody *body = soup_server_message_get_response_body (msg);
  gsize n = (gsize)MIN ((guint64)sizeof stream_chunk, f->stream_size - f->stream_sent);
  const char *piece = stream_chunk;

  if (n == 0)
    {
      soup_message_body_complete (body);
      return;
    }
  /* A source is as long as the body and sent piece by piece. */
  if (f->stream_source != NULL)
    piece = (const char *)g_bytes_get_data (f->stream_source, NULL) + f->stream_sent;
  soup_message_body_append (body, SOUP_MEMORY_STATIC, piece, n);
  f->stream_sent += n;
}

static void
stream_finished_cb (SoupServerMessage *msg, gpointer user_data)
{
  Fake *f = user_data;

  f->stream_finished = TRUE;
}

static void
fake_start_stream (Fake *f, SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  SoupMessageBody *body = soup_server_message_get_response_body (msg);

  g_assert_null (f->stream_msg);
  f->stream_msg = g_object_ref (msg);
  g_signal_connect (msg, "wrote-chunk", G_CALLBACK (stream_wrote_chunk_cb), f);
  g_signal_connect (msg, "finished", G_CALLBACK (stream_finished_cb), f);
  soup_server_message_set_status (msg, f->status, NULL);
  soup_message_headers_set_content_type (headers, f->content_type, NULL);
  if (f->stream_encoding != NULL)
    soup_message_headers_replace (headers, "Content-Encoding", f->stream_encoding);
  if (f->stream_sized)
    soup_message_headers_set_content_length (headers, (goffset)f->stream_size);
  else
    soup_message_headers_set_encoding (headers, SOUP_ENCODING_CHUNKED);
  /* Written pieces are dropped, not kept. */
  soup_message_body_set_accumulate (body, FALSE);
  stream_wrote_chunk_cb (msg, f);
}

static void
fake_handler (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query,
              gpointer user_data)
{
  Fake *f = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  SoupMessageBody *body = soup_server_message_get_request_body (msg);

  f->n_requests++;
  g_free (f->method);
  g_free (f->path);
  g_free (f->request_body);
  g_free (f->authorization);
  g_free (f->if_match);
  g_free (f->request_content_type);
  g_free (f->user_agent);
  g_free (f->accept_encoding);
  f->method = g_strdup (soup_server_message_get_method (msg));
  f->path = g_strdup (path);
  f->request_body = body->length > 0 ? g_strndup (body->data, body->length) : NULL;
  f->authorization = g_strdup (soup_message_headers_get_one (headers, "Authorization"));
  f->if_match = g_strdup (soup_message_headers_get_one (headers, "If-Match"));
  f->request_content_type = g_strdup (soup_message_headers_get_one (headers, "Content-Type"));
  f->user_agent = g_strdup (soup_message_headers_get_one (headers, "User-Agent"));
  f->accept_encoding = g_strdup (soup_message_headers_get_one (headers, "Accept-Encoding"));

  if (f->hang)
    {
      soup_server_message_pause (msg);
      return;
    }
  if (f->trickle)
    {
      fake_start_trickle (f, msg);
      return;
    }
  if (f->stream_size > 0)
    {
      fake_start_stream (f, msg);
      return;
    }
  soup_server_message_set_status (msg, f->status, NULL);
  if (f->retry_after != NULL)
    soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Retry-After",
                                  f->retry_after);
  if (f->body != NULL)
    soup_server_message_set_response (msg, f->content_type, SOUP_MEMORY_COPY, f->body,
                                      strlen (f->body));
}

static Fake *
fake_new_with_prefix (const char *prefix)
{
  Fake *f = g_new0 (Fake, 1);
  g_autoptr (GError) error = NULL;
  GSList *uris;
  g_autofree char *url = NULL;

  f->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (f->server, NULL, fake_handler, f, NULL);
  soup_server_listen_local (f->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (f->server);
  g_assert_nonnull (uris);
  f->base_url = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify)g_uri_unref);

  url = g_strconcat (f->base_url, prefix, NULL);
  f->client = bb_client_new (url, &error);
  g_assert_no_error (error);
  bb_client_set_access_token (f->client, "test-token");
  f->status = 200;
  f->content_type = "application/json";
  return f;
}

static Fake *
fake_new (void)
{
  return fake_new_with_prefix ("");
}

static void
fake_answer (Fake *f, guint status, const char *body)
{
  g_free (f->body);
  f->status = status;
  f->body = g_strdup (body);
  f->content_type = "application/json";
}

static void
fake_free (Fake *f)
{
  g_clear_object (&f->client);
  if (f->trickle_source != NULL)
    {
      g_source_destroy (f->trickle_source);
      g_clear_pointer (&f->trickle_source, g_source_unref);
    }
  if (f->trickle_msg != NULL)
    g_signal_handlers_disconnect_by_func (f->trickle_msg, trickle_finished_cb, f);
  if (f->stream_msg != NULL)
    g_signal_handlers_disconnect_by_data (f->stream_msg, f);
  soup_server_disconnect (f->server);
  g_clear_object (&f->trickle_msg);
  g_clear_object (&f->stream_msg);
  g_clear_object (&f->server);
  g_free (f->base_url);
  g_free (f->body);
  g_free (f->retry_after);
  g_free (f->method);
  g_free (f->path);
  g_free (f->request_body);
  g_free (f->authorization);
  g_free (f->if_match);
  g_free (f->request_content_type);
  g_free (f->user_agent);
  g_free (f->accept_encoding);
  g_free (f);
  /* Let libsoup finish closing connections. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
count_request_handler (SoupServer *server, SoupServerMessage *msg, const char *path,
                       GHashTable *query, gpointer user_data)
{
  guint *n_requests = user_data;

  (*n_requests)++;
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC,
                                    "{\"status\":\"ok\"}", strlen ("{\"status\":\"ok\"}"));
}

/* Fails a test whose call has not completed long after it should have: a bound on
 * hanging, not a measurement. */
static gboolean
guard_cb (gpointer user_data)
{
  g_error ("%s: no result within 20 s", (const char *)user_data);
  return G_SOURCE_REMOVE;
}

static void
assert_protocol_error (GError *error, const char *field, const char *phrase)
{
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL);
  if (field != NULL && strstr (error->message, field) == NULL)
    g_error ("“%s” does not name the field “%s”", error->message, field);
  if (phrase != NULL && strstr (error->message, phrase) == NULL)
    g_error ("“%s” does not say “%s”", error->message, phrase);
}

static BbChallenge *
make_challenge (void)
{
  g_autoptr (GError) error = NULL;
  BbChallenge *challenge = bb_challenge_new_from_string (CHALLENGE_B64, NULL, "none", &error);

  g_assert_no_error (error);
  return challenge;
}

static GBytes *
zero_bytes (gsize len)
{
  return bb_test_repeat (0, len);
}

/* §12.2.1 */
static void
test_items_namespace_mismatch (void)
{
  Fake *f = fake_new ();
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BbNamespaceItems) items = NULL;

  fake_answer (f, 200, "{\"namespaceId\":\"" NS2 "\",\"namespaceHead\":3,\"items\":{}}\n");
  BB_TEST_AWAIT (res, bb_client_get_items_async (f->client, NS, NULL, bb_test_got_result, &res));
  items = bb_client_get_items_finish (f->client, res, &error);
  g_assert_null (items);
  assert_protocol_error (error, "namespaceId", "namespace mismatch");
  g_assert_cmpstr (f->method, ==, "GET");
  g_assert_cmpstr (f->path, ==, "/v1/namespaces/" NS "/items");
  g_assert_cmpstr (f->authorization, ==, "Bearer test-token");
  g_assert_null (f->request_body);
  g_assert_null (f->request_content_type);

  /* The same answer with the right ID works, with null items read as empty. */
  g_clear_error (&error);
  fake_answer (f, 200, "{\"namespaceId\":\"" NS "\",\"namespaceHead\":3,\"items\":null}\n");
  BB_TEST_AWAIT (res, bb_client_get_items_async (f->client, NS, NULL, bb_test_got_result, &res));
  items = bb_client_get_items_finish (f->client, res, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bb_namespace_items_get_head (items), ==, 3);
  g_assert_cmpuint (bb_namespace_items_get_n_items (items), ==, 0);
  fake_free (f);
}

/* §12.2.2 and §12.2.3 */
static void
test_login_refresh_kind_mismatch (void)
{
  Fake *f = fake_new ();
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BbChallenge) challenge = make_challenge ();
  g_autoptr (GBytes) key = zero_bytes (32);
  g_autoptr (GBytes) signature = zero_bytes (64);
  g_autoptr (BbLoginResult) login = NULL;
  g_autoptr (JsonNode) sent = NULL;
  g_autofree char *token = NULL;
  JsonObject *object;

  fake_answer (f, 200,
               "{\"kind\":\"other\",\"accessToken\":\"new-token\",\"expiresAt\":\"2030-01-01T00:00:"
               "00Z\",\"defaultNamespaceId\":null}");
  BB_TEST_AWAIT (res, bb_client_login_async (f->client, "keystore", KEY, key, key, challenge,
                                             signature, NULL, NULL, bb_test_got_result, &res));
  login = bb_client_login_finish (f->client, res, &error);
  g_assert_null (login);
  assert_protocol_error (error, "kind", "kind mismatch");
  g_assert_cmpstr (f->path, ==, "/v1/auth/login");
  /* login carries no bearer token, but a JSON body echoing the challenge */
  g_assert_null (f->authorization);
  g_assert_cmpstr (f->request_content_type, ==, "application/json");
  sent = json_from_string (f->request_body, NULL);
  g_assert_nonnull (sent);
  object = json_node_get_object (sent);
  g_assert_cmpstr (json_object_get_string_member (object, "challenge"), ==, CHALLENGE_B64);
  g_assert_cmpstr (json_object_get_string_member (object, "keyId"), ==, KEY);
  g_assert_false (json_object_has_member (object, "attestation"));
  /* a rejected login does not replace the token */
  token = bb_client_dup_access_token (f->client);
  g_assert_cmpstr (token, ==, "test-token");

  g_clear_error (&error);
  fake_answer (
      f, 200,
      "{\"kind\":\"other\",\"accessToken\":\"new-token\",\"expiresAt\":\"2030-01-01T00:00:00Z\"}");
  BB_TEST_AWAIT (res, bb_client_refresh_async (f->client, "keystore", KEY, challenge, signature,
                                               NULL, NULL, bb_test_got_result, &res));
  login = bb_client_refresh_finish (f->client, res, &error);
  g_assert_null (login);
  assert_protocol_error (error, "kind", "kind mismatch");
  g_assert_cmpstr (f->path, ==, "/v1/auth/refresh");
  g_assert_cmpstr (f->authorization, ==, "Bearer test-token");

  /* A malformed default namespace ID in a login answer is rejected. */
  g_clear_error (&error);
  fake_answer (f, 200,
               "{\"kind\":\"keystore\",\"accessToken\":\"new-token\",\"expiresAt\":\"2030-01-01T00:"
               "00:00Z\",\"defaultNamespaceId\":\"ABCDEF\"}");
  BB_TEST_AWAIT (res, bb_client_login_async (f->client, "keystore", KEY, key, key, challenge,
                                             signature, NULL, NULL, bb_test_got_result, &res));
  login = bb_client_login_finish (f->client, res, &error);
  g_assert_null (login);
  assert_protocol_error (error, "defaultNamespaceId", NULL);

  /* A good login stores the token. */
  g_clear_error (&error);
  fake_answer (f, 200,
               "{\"kind\":\"keystore\",\"accessToken\":\"new-token\",\"expiresAt\":\"2030-01-01T00:"
               "00:00Z\",\"defaultNamespaceId\":\"" NS "\"}\n");
  BB_TEST_AWAIT (res, bb_client_login_async (f->client, "keystore", KEY, key, key, challenge,
                                             signature, NULL, NULL, bb_test_got_result, &res));
  login = bb_client_login_finish (f->client, res, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_login_result_get_default_namespace_id (login), ==, NS);
  g_free (token);
  token = bb_client_dup_access_token (f->client);
  g_assert_cmpstr (token, ==, "new-token");
  fake_free (f);
}

/* §12.2.4, §12.2.5 and the kind checks of the namespace answers */
static void
test_namespace_answers (void)
{
  Fake *f = fake_new ();
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) wrapped = zero_bytes (97);
  g_autoptr (BbNamespaceListing) info = NULL;
  g_autofree char *wrapped_b64 = bb_protocol_base64_encode (wrapped);
  g_autofree char *body = NULL;

  body = g_strdup_printf (
      "{\"namespaceId\":\"%s\",\"kind\":\"default\",\"wrappedDek\":\"%s\",\"created\":true}", NS2,
      wrapped_b64);
  fake_answer (f, 200, body);
  BB_TEST_AWAIT (res, bb_client_ensure_default_namespace_async (f->client, NS, wrapped, NULL,
                                                                bb_test_got_result, &res));
  info = bb_client_ensure_default_namespace_finish (f->client, res, &error);
  g_assert_null (info);
  assert_protocol_error (error, "namespaceId", "namespace mismatch");
  g_assert_cmpstr (f->method, ==, "PUT");
  g_assert_cmpstr (f->path, ==, "/v1/namespaces/default");

  /* not created: another ID is the existing namespace, and is accepted */
  g_clear_error (&error);
  g_free (body);
  body = g_strdup_printf (
      "{\"namespaceId\":\"%s\",\"kind\":\"default\",\"wrappedDek\":\"%s\",\"created\":false}", NS2,
      wrapped_b64);
  fake_answer (f, 200, body);
  BB_TEST_AWAIT (res, bb_client_ensure_default_namespace_async (f->client, NS, wrapped, NULL,
                                                                bb_test_got_result, &res));
  info = bb_client_ensure_default_namespace_finish (f->client, res, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_namespace_listing_get_namespace_id (info), ==, NS2);
  g_assert_false (bb_namespace_listing_get_created (info));
  g_assert_true (g_bytes_equal (bb_namespace_listing_get_wrapped_dek (info), wrapped));
  g_clear_pointer (&info, bb_namespace_listing_unref);

  /* bad base64 in the wrapped DEK */
  g_free (body);
  body = g_strdup_printf (
      "{\"namespaceId\":\"%s\",\"kind\":\"default\",\"wrappedDek\":\"%s\\n\",\"created\":false}",
      NS, wrapped_b64);
  fake_answer (f, 200, body);
  BB_TEST_AWAIT (res, bb_client_ensure_default_namespace_async (f->client, NS, wrapped, NULL,
                                                                bb_test_got_result, &res));
  info = bb_client_ensure_default_namespace_finish (f->client, res, &error);
  g_assert_null (info);
  assert_protocol_error (error, "wrappedDek", NULL);

  /* wrong kind */
  g_clear_error (&error);
  g_free (body);
  body = g_strdup_printf (
      "{\"namespaceId\":\"%s\",\"kind\":\"shared\",\"wrappedDek\":\"%s\",\"created\":true}", NS,
      wrapped_b64);
  fake_answer (f, 200, body);
  BB_TEST_AWAIT (res, bb_client_ensure_default_namespace_async (f->client, NS, wrapped, NULL,
                                                                bb_test_got_result, &res));
  info = bb_client_ensure_default_namespace_finish (f->client, res, &error);
  g_assert_null (info);
  assert_protocol_error (error, "kind", "kind mismatch");

  /* create shared with another ID (§12.2.5); `created` may be absent */
  g_clear_error (&error);
  fake_answer (f, 200, "{\"namespaceId\":\"" NS2 "\",\"kind\":\"shared\"}");
  BB_TEST_AWAIT (res, bb_client_create_namespace_async (f->client, NS, wrapped, NULL,
                                                        bb_test_got_result, &res));
  info = bb_client_create_namespace_finish (f->client, res, &error);
  g_assert_null (info);
  assert_protocol_error (error, "namespaceId", "namespace mismatch");
  g_assert_cmpstr (f->method, ==, "POST");
  g_assert_cmpstr (f->path, ==, "/v1/namespaces");

  g_clear_error (&error);
  fake_answer (f, 200, "{\"namespaceId\":\"" NS "\",\"kind\":\"shared\"}");
  BB_TEST_AWAIT (res, bb_client_create_namespace_async (f->client, NS, wrapped, NULL,
                                                        bb_test_got_result, &res));
  info = bb_client_create_namespace_finish (f->client, res, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_namespace_listing_get_kind (info), ==, "shared");
  g_clear_pointer (&info, bb_namespace_listing_unref);

  /* GET default with the wrong kind */
  fake_answer (f, 200, "{\"namespaceId\":\"" NS "\",\"kind\":\"shared\"}");
  BB_TEST_AWAIT (res,
                 bb_client_get_default_namespace_async (f->client, NULL, bb_test_got_result, &res));
  info = bb_client_get_default_namespace_finish (f->client, res, &error);
  g_assert_null (info);
  assert_protocol_error (error, "kind", "kind mismatch");
  fake_free (f);
}

/* §12.2.6 and §12.2.13 */
static void
test_members_and_wrapped_dek (void)
{
  Fake *f = fake_new ();
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) members = NULL;
  g_autoptr (GBytes) wrapped = NULL;
  g_autoptr (GBytes) zeros = zero_bytes (97);
  g_autofree char *wrapped_b64 = bb_protocol_base64_encode (zeros);
  g_autofree char *body = NULL;

  fake_answer (f, 200,
               "{\"namespaceId\":\"" NS2 "\",\"members\":[{\"kind\":\"keystore\",\"keyId\":\"" KEY
               "\"}]}");
  BB_TEST_AWAIT (res, bb_client_list_members_async (f->client, NS, NULL, bb_test_got_result, &res));
  members = bb_client_list_members_finish (f->client, res, &error);
  g_assert_null (members);
  assert_protocol_error (error, "namespaceId", "namespace mismatch");
  g_assert_cmpstr (f->path, ==, "/v1/namespaces/" NS "/members");

  /* a missing members list reads as empty */
  g_clear_error (&error);
  fake_answer (f, 200, "{\"namespaceId\":\"" NS "\"}");
  BB_TEST_AWAIT (res, bb_client_list_members_async (f->client, NS, NULL, bb_test_got_result, &res));
  members = bb_client_list_members_finish (f->client, res, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (members->len, ==, 0);

  body = g_strdup_printf ("{\"namespaceId\":\"%s\",\"keyId\":\"%s\",\"wrappedDek\":\"%s\"}", NS,
                          KEY2, wrapped_b64);
  fake_answer (f, 200, body);
  BB_TEST_AWAIT (
      res, bb_client_get_wrapped_dek_async (f->client, NS, KEY, NULL, bb_test_got_result, &res));
  wrapped = bb_client_get_wrapped_dek_finish (f->client, res, &error);
  g_assert_null (wrapped);
  assert_protocol_error (error, "keyId", "key mismatch");
  g_assert_cmpstr (f->path, ==, "/v1/namespaces/" NS "/wrapped-deks/" KEY);

  /* right IDs, but a wrapped DEK of the wrong size */
  g_clear_error (&error);
  fake_answer (f, 200,
               "{\"namespaceId\":\"" NS "\",\"keyId\":\"" KEY "\",\"wrappedDek\":\"AA==\"}");
  BB_TEST_AWAIT (
      res, bb_client_get_wrapped_dek_async (f->client, NS, KEY, NULL, bb_test_got_result, &res));
  wrapped = bb_client_get_wrapped_dek_finish (f->client, res, &error);
  g_assert_null (wrapped);
  assert_protocol_error (error, "wrappedDek", NULL);
  fake_free (f);
}

static void
create_invite (Fake *f, guint max_pending, BbInviteListing **out, GError **error)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (BbChallenge) challenge = make_challenge ();
  g_autoptr (GBytes) hash = zero_bytes (32);
  g_autoptr (GBytes) signature = zero_bytes (64);

  BB_TEST_AWAIT (res, bb_client_create_invite_async (f->client, NS, "keystore", KEY, INVITE, hash,
                                                     challenge, signature, 1735689600, max_pending,
                                                     10, NULL, bb_test_got_result, &res));
  *out = bb_client_create_invite_finish (f->client, res, error);
}

/* §12.2.7 and the engine's echo checks of expiry and limits */
static void
test_create_invite_echo (void)
{
  Fake *f = fake_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (BbInviteListing) invite = NULL;
  g_autoptr (JsonNode) sent = NULL;
  JsonObject *object;

  fake_answer (f, 200,
               "{\"namespaceId\":\"" NS "\",\"inviteId\":\"" INVITE2
               "\",\"expiresAt\":1735689600,\"maxPending\":20,\"maxAccepted\":10}");
  create_invite (f, 20, &invite, &error);
  g_assert_null (invite);
  assert_protocol_error (error, "inviteId", "invite mismatch");
  g_assert_cmpstr (f->path, ==, "/v1/namespaces/" NS "/invites");
  /* variant A carries maxPending, in the field order of the spec */
  g_assert_nonnull (
      strstr (f->request_body, "\"expiresAt\":1735689600,\"maxPending\":20,\"maxAccepted\":10}"));

  g_clear_error (&error);
  fake_answer (f, 200,
               "{\"namespaceId\":\"" NS "\",\"inviteId\":\"" INVITE
               "\",\"expiresAt\":1735689601,\"maxPending\":20,\"maxAccepted\":10}");
  create_invite (f, 20, &invite, &error);
  assert_protocol_error (error, "expiresAt", "expiry mismatch");

  g_clear_error (&error);
  fake_answer (f, 200,
               "{\"namespaceId\":\"" NS "\",\"inviteId\":\"" INVITE
               "\",\"expiresAt\":1735689600,\"maxPending\":19,\"maxAccepted\":10}");
  create_invite (f, 20, &invite, &error);
  assert_protocol_error (error, "maxPending", "maxPending mismatch");

  g_clear_error (&error);
  fake_answer (f, 200,
               "{\"namespaceId\":\"" NS "\",\"inviteId\":\"" INVITE
               "\",\"expiresAt\":1735689600,\"maxAccepted\":9}");
  create_invite (f, 0, &invite, &error);
  assert_protocol_error (error, "maxAccepted", "maxAccepted mismatch");
  /* variant B: no maxPending key at all */
  sent = json_from_string (f->request_body, NULL);
  object = json_node_get_object (sent);
  g_assert_false (json_object_has_member (object, "maxPending"));
  g_assert_cmpint (json_object_get_int_member (object, "maxAccepted"), ==, 10);

  g_clear_error (&error);
  fake_answer (f, 200,
               "{\"namespaceId\":\"" NS "\",\"inviteId\":\"" INVITE
               "\",\"expiresAt\":1735689600,\"maxAccepted\":10}");
  create_invite (f, 0, &invite, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_invite_listing_get_invite_id (invite), ==, INVITE);
  g_assert_cmpint (bb_invite_listing_get_expires_at (invite), ==, 1735689600);
  fake_free (f);
}

static BbJoinRequest *
make_join_request (void)
{
  BbJoinRequest *request = bb_join_request_new ();

  request->msg.version = 1;
  request->msg.namespace_id = g_strdup (NS);
  request->msg.invite_id = g_strdup (INVITE);
  request->msg.server_origin = g_strdup ("https://sync.example");
  request->msg.kind = g_strdup ("keystore");
  request->msg.key_id = g_strdup (KEY);
  request->msg.auth_public_key = g_strnfill (64, 'a');
  request->msg.wrap_public_key = g_strnfill (64, 'b');
  request->msg.expires_at = 1735689600;
  request->msg.signature = g_strnfill (128, 'c');
  request->msg.invite_proof = g_strdup ("REREREREREREREREREREREREREREREREREREREREREQ");
  return request;
}

static void
submit_join (Fake *f, BbJoinRequestListing **out, GError **error)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (BbJoinRequest) request = make_join_request ();
  g_autoptr (GBytes) secret = bb_test_repeat (0x44, 32);

  BB_TEST_AWAIT (res, bb_client_submit_join_request_async (f->client, request, secret, NULL,
                                                           bb_test_got_result, &res));
  *out = bb_client_submit_join_request_finish (f->client, res, error);
}

/* §12.2.8 and §12.2.9 */
static void
test_submit_join_answers (void)
{
  Fake *f = fake_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (BbJoinRequestListing) info = NULL;
  g_autoptr (JsonNode) sent = NULL;
  JsonObject *object;

  fake_answer (f, 200,
               "{\"namespaceId\":\"" NS "\",\"inviteId\":\"not-an-invite-id\",\"requesterKind\":"
               "\"keystore\",\"requesterKeyId\":\"" KEY "\",\"joinRequestHash\":\"" HASH
               "\",\"status\":\"pending\"}");
  submit_join (f, &info, &error);
  g_assert_null (info);
  assert_protocol_error (error, "inviteId", NULL);
  g_assert_cmpstr (f->path, ==, "/v1/namespaces/" NS "/invites/" INVITE "/join-requests");
  sent = json_from_string (f->request_body, NULL);
  object = json_node_get_object (sent);
  g_assert_cmpstr (json_object_get_string_member (object, "inviteServerSecret"), ==,
                   "REREREREREREREREREREREREREREREREREREREREREQ");
  g_assert_cmpstr (json_object_get_string_member (
                       json_object_get_object_member (object, "joinRequest"), "serverOrigin"),
                   ==, "https://sync.example");

  g_clear_error (&error);
  fake_answer (f, 200,
               "{\"namespaceId\":\"" NS "\",\"inviteId\":\"" INVITE
               "\",\"requesterKind\":\"keystore\",\"requesterKeyId\":\"" KEY2
               "\",\"joinRequestHash\":\"" HASH "\",\"status\":\"pending\"}");
  submit_join (f, &info, &error);
  assert_protocol_error (error, "requesterKeyId", "key mismatch");

  g_clear_error (&error);
  fake_answer (f, 200,
               "{\"namespaceId\":\"" NS "\",\"inviteId\":\"" INVITE
               "\",\"requesterKind\":\"keystore\",\"requesterKeyId\":\"" KEY
               "\",\"joinRequestHash\":\"" HASH "\",\"status\":\"approved\"}");
  submit_join (f, &info, &error);
  assert_protocol_error (error, "status", NULL);

  g_clear_error (&error);
  fake_answer (f, 200,
               "{\"namespaceId\":\"" NS "\",\"inviteId\":\"" INVITE
               "\",\"requesterKind\":\"keystore\",\"requesterKeyId\":\"" KEY
               "\",\"joinRequestHash\":\"BAF4\",\"status\":\"pending\"}");
  submit_join (f, &info, &error);
  assert_protocol_error (error, "joinRequestHash", NULL);

  /* an existing pending request under another invite is accepted */
  g_clear_error (&error);
  fake_answer (f, 200,
               "{\"namespaceId\":\"" NS "\",\"inviteId\":\"" INVITE2
               "\",\"requesterKind\":\"keystore\",\"requesterKeyId\":\"" KEY
               "\",\"joinRequestHash\":\"" HASH2 "\",\"status\":\"pending\"}");
  submit_join (f, &info, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_join_request_listing_get_invite_id (info), ==, INVITE2);
  g_assert_cmpstr (bb_join_request_listing_get_join_request_hash (info), ==, HASH2);
  fake_free (f);
}

/* §12.2.10, §12.2.11 and §12.2.12 */
static void
test_revoke_reject_approve (void)
{
  Fake *f = fake_new ();
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) secret = bb_test_repeat (0x44, 32);
  g_autoptr (GBytes) wrapped = zero_bytes (97);
  g_autoptr (BbMember) member = NULL;
  gboolean ok;

  fake_answer (f, 200,
               "{\"namespaceId\":\"" NS "\",\"inviteId\":\"" INVITE "\",\"revoked\":false}");
  BB_TEST_AWAIT (
      res, bb_client_revoke_invite_async (f->client, NS, INVITE, NULL, bb_test_got_result, &res));
  ok = bb_client_revoke_invite_finish (f->client, res, &error);
  g_assert_false (ok);
  assert_protocol_error (error, "revoked", "must report revoked");
  g_assert_cmpstr (f->method, ==, "DELETE");
  g_assert_cmpstr (f->path, ==, "/v1/namespaces/" NS "/invites/" INVITE);
  g_assert_null (f->request_body);

  g_clear_error (&error);
  fake_answer (f, 200,
               "{\"namespaceId\":\"" NS "\",\"requesterKeyId\":\"" KEY
               "\",\"joinRequestHash\":\"" HASH "\",\"rejected\":false}");
  BB_TEST_AWAIT (res, bb_client_reject_join_request_async (f->client, NS, KEY, HASH, NULL,
                                                           bb_test_got_result, &res));
  ok = bb_client_reject_join_request_finish (f->client, res, &error);
  g_assert_false (ok);
  assert_protocol_error (error, "rejected", "must report rejected");
  g_assert_cmpstr (f->path, ==, "/v1/namespaces/" NS "/join-requests/" KEY "/" HASH);

  g_clear_error (&error);
  fake_answer (f, 200,
               "{\"namespaceId\":\"" NS "\",\"requesterKeyId\":\"" KEY
               "\",\"joinRequestHash\":\"" HASH2 "\",\"rejected\":true}");
  BB_TEST_AWAIT (res, bb_client_reject_join_request_async (f->client, NS, KEY, HASH, NULL,
                                                           bb_test_got_result, &res));
  ok = bb_client_reject_join_request_finish (f->client, res, &error);
  assert_protocol_error (error, "joinRequestHash", "hash mismatch");

  g_clear_error (&error);
  fake_answer (f, 200,
               "{\"namespaceId\":\"" NS "\",\"memberKind\":\"keystore\",\"memberKeyId\":\"" KEY2
               "\",\"joinRequestHash\":\"" HASH "\"}");
  BB_TEST_AWAIT (res,
                 bb_client_approve_join_request_async (f->client, NS, KEY, HASH, secret, wrapped,
                                                       NULL, bb_test_got_result, &res));
  member = bb_client_approve_join_request_finish (f->client, res, &error);
  g_assert_null (member);
  assert_protocol_error (error, "memberKeyId", "key mismatch");
  g_assert_cmpstr (f->method, ==, "PUT");
  g_assert_cmpstr (f->path, ==, "/v1/namespaces/" NS "/join-requests/" KEY "/" HASH "/approve");

  /* memberKind is not checked */
  g_clear_error (&error);
  fake_answer (f, 200,
               "{\"namespaceId\":\"" NS "\",\"memberKind\":\"whatever\",\"memberKeyId\":\"" KEY
               "\",\"joinRequestHash\":\"" HASH "\"}");
  BB_TEST_AWAIT (res,
                 bb_client_approve_join_request_async (f->client, NS, KEY, HASH, secret, wrapped,
                                                       NULL, bb_test_got_result, &res));
  member = bb_client_approve_join_request_finish (f->client, res, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_member_get_key_id (member), ==, KEY);
  fake_free (f);
}

static char *
item_body_with_ciphertext (const char *ns, const char *item, guint64 version, guint64 aad_version,
                           const char *nonce, const char *ciphertext)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) aad = bb_protocol_item_aad (NS, ITEM, aad_version, &error);
  g_autofree char *aad_b64 = NULL;

  g_assert_no_error (error);
  aad_b64 = bb_protocol_base64_encode (aad);
  return g_strdup_printf ("{\"namespaceId\":\"%s\",\"itemId\":\"%s\",\"version\":%" G_GUINT64_FORMAT
                          ",\"nonce\":\"%s\",\"aad\":\"%s\",\"ciphertext\":\"%s\"}\n",
                          ns, item, version, nonce, aad_b64, ciphertext);
}

static char *
item_body (const char *ns, const char *item, guint64 version, guint64 aad_version,
           const char *nonce)
{
  return item_body_with_ciphertext (ns, item, version, aad_version, nonce,
                                    "DwEpquFWLloCxQcTCZz5LGec5KP3IYGioayf");
}

static BbItemEnvelope *
get_item (Fake *f, GError **error)
{
  g_autoptr (GAsyncResult) res = NULL;

  BB_TEST_AWAIT (res,
                 bb_client_get_item_async (f->client, NS, ITEM, NULL, bb_test_got_result, &res));
  return bb_client_get_item_finish (f->client, res, error);
}

/* §12.2.14 and the item checks: nonce size, base64, AAD */
static void
test_get_item_answers (void)
{
  Fake *f = fake_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (BbItemEnvelope) item = NULL;
  g_autofree char *body = NULL;

  body = item_body (NS, ITEM2, 1, 1, NONCE_B64);
  fake_answer (f, 200, body);
  item = get_item (f, &error);
  g_assert_null (item);
  assert_protocol_error (error, "itemId", "item mismatch");
  g_assert_cmpstr (f->path, ==, "/v1/kv/" NS "/" ITEM);

  /* the AAD names version 1 but the answer says 2 */
  g_clear_error (&error);
  g_free (body);
  body = item_body (NS, ITEM, 2, 1, NONCE_B64);
  fake_answer (f, 200, body);
  item = get_item (f, &error);
  assert_protocol_error (error, "aad", NULL);

  /* a 5-byte nonce */
  g_clear_error (&error);
  g_free (body);
  body = item_body (NS, ITEM, 1, 1, "AAECAwQ=");
  fake_answer (f, 200, body);
  item = get_item (f, &error);
  assert_protocol_error (error, "nonce", NULL);

  /* non-canonical base64 */
  g_clear_error (&error);
  g_free (body);
  body = item_body (NS, ITEM, 1, 1, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYX\\n");
  fake_answer (f, 200, body);
  item = get_item (f, &error);
  assert_protocol_error (error, "nonce", NULL);

  /* all good */
  g_clear_error (&error);
  g_free (body);
  body = item_body (NS, ITEM, 1, 1, NONCE_B64);
  fake_answer (f, 200, body);
  item = get_item (f, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (bb_item_envelope_get_version (item), ==, 1);
  g_assert_cmpuint (g_bytes_get_size (bb_item_envelope_get_nonce (item)), ==, 24);
  g_assert_cmpuint (g_bytes_get_size (bb_item_envelope_get_ciphertext (item)), ==, 27);
  fake_free (f);
}

/* A login answer with @token (a JSON string literal, quotes included). */
static char *
login_body (const char *token_json)
{
  return g_strdup_printf ("{\"kind\":\"keystore\",\"accessToken\":%s,\"expiresAt\":\"2030-01-"
                          "01T00:00:00Z\",\"defaultNamespaceId\":null}",
                          token_json);
}

/* Issue 12: a bearer token from a login or refresh answer is an RFC 6750 b64token of
 * 1 to 4096 characters before it is stored or sent; the error never quotes it. */
static void
test_access_token_validation (void)
{
  Fake *f = fake_new ();
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BbChallenge) challenge = make_challenge ();
  g_autoptr (GBytes) key = zero_bytes (32);
  g_autoptr (GBytes) signature = zero_bytes (64);
  g_autoptr (BbLoginResult) login = NULL;
  g_autofree char *long_token = g_strnfill (5000, 'a');
  g_autofree char *max_token = g_strnfill (4096, 'b');
  g_autofree char *long_json = g_strdup_printf ("\"%s\"", long_token);
  g_autofree char *max_json = g_strdup_printf ("\"%s\"", max_token);
  g_autofree char *token = NULL;
  const char *bad[] = {
    "\"bad\\r\\nX-Injected: yes\"",
    long_json,
    "\"\"",
    "\"has space\"",
    "\"a=b\"",
    "\"quo\\\"te\"",
    "\"caf\\u00e9\"",
    "\"==\"",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *body = login_body (bad[i]);

      g_clear_error (&error);
      fake_answer (f, 200, body);
      BB_TEST_AWAIT (res, bb_client_login_async (f->client, "keystore", KEY, key, key, challenge,
                                                 signature, NULL, NULL, bb_test_got_result, &res));
      login = bb_client_login_finish (f->client, res, &error);
      g_assert_null (login);
      assert_protocol_error (error, "accessToken", NULL);
      g_assert_null (strstr (error->message, "X-Injected"));
      g_assert_null (strstr (error->message, "has space"));
      g_assert_null (strstr (error->message, "aaaaaaaa"));
      g_free (token);
      token = bb_client_dup_access_token (f->client);
      g_assert_cmpstr (token, ==, "test-token");

      /* the same token in a refresh answer */
      g_clear_error (&error);
      g_free (body);
      body = g_strdup_printf (
          "{\"kind\":\"keystore\",\"accessToken\":%s,\"expiresAt\":\"2030-01-01T00:00:00Z\"}",
          bad[i]);
      fake_answer (f, 200, body);
      BB_TEST_AWAIT (res, bb_client_refresh_async (f->client, "keystore", KEY, challenge, signature,
                                                   NULL, NULL, bb_test_got_result, &res));
      login = bb_client_refresh_finish (f->client, res, &error);
      g_assert_null (login);
      assert_protocol_error (error, "accessToken", NULL);
      g_free (token);
      token = bb_client_dup_access_token (f->client);
      g_assert_cmpstr (token, ==, "test-token");
    }

  /* every b64token character, and the longest token, are fine */
  {
    const char *good[] = { "\"AZaz09-._~+/==\"", max_json };

    for (guint i = 0; i < G_N_ELEMENTS (good); i++)
      {
        g_autofree char *body = login_body (good[i]);
        g_autofree char *want = g_strndup (good[i] + 1, strlen (good[i]) - 2);

        g_clear_error (&error);
        fake_answer (f, 200, body);
        BB_TEST_AWAIT (res,
                       bb_client_login_async (f->client, "keystore", KEY, key, key, challenge,
                                              signature, NULL, NULL, bb_test_got_result, &res));
        login = bb_client_login_finish (f->client, res, &error);
        g_assert_no_error (error);
        g_assert_cmpstr (bb_login_result_get_access_token (login), ==, want);
        g_clear_pointer (&login, bb_login_result_unref);
        g_free (token);
        token = bb_client_dup_access_token (f->client);
        g_assert_cmpstr (token, ==, want);
      }
  }

  /* a caller's malformed token is a programmer error: the client fails closed */
  g_test_expect_message ("BbSync", G_LOG_LEVEL_CRITICAL, "*access_token is an RFC 6750 b64token*");
  bb_client_set_access_token (f->client, "evil\r\nX-Injected: yes");
  g_test_assert_expected_messages ();
  g_free (token);
  token = bb_client_dup_access_token (f->client);
  g_assert_null (token);
  fake_free (f);
}

/* Issue 12: server error text in a GError message is valid UTF-8 without control
 * characters or escape sequences, and bounded; the status and retry-after getters
 * still read it. */
static void
test_error_text_sanitized (void)
{
  Fake *f = fake_new ();
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) namespaces = NULL;
  g_autofree char *huge = g_strnfill (100 * 1024, 'x');
  g_autofree char *huge_json = NULL;
  g_autofree char *huge_multibyte = NULL;
  struct
  {
    guint status;
    const char *content_type;
    const char *body;
    const char *retry_after;
    const char *message; /* NULL: checked only for cleanliness and length */
  } cases[] = {
    { 500, "application/json", "{\"error\":\"\\u001b[31mred\\u001b[0m\\nFAKE LOG LINE\"}", NULL,
      "HTTP 500: \uFFFDred\uFFFD FAKE LOG LINE" },
    { 502, "text/plain", "\x1b[31mred\x1b[0m\nFAKE LOG LINE\r\n", NULL,
      "HTTP 502: \uFFFDred\uFFFD FAKE LOG LINE" },
    { 500, "text/plain", "title\x1b]0;pwned\x07 bell\x07 del\x7f c1\xc2\x9b end", NULL,
      "HTTP 500: title\uFFFD bell\uFFFD del\uFFFD c1\uFFFD end" },
    { 500, "text/plain", "bad \xff\xfe utf8 \xe2\x82", NULL,
      "HTTP 500: bad \uFFFD\uFFFD utf8 \uFFFD\uFFFD" },
    { 400, "application/json", "{\"error\":\"rtl \\u202e txt \\u2028 x\"}", NULL,
      "HTTP 400: rtl \uFFFD txt \uFFFD x" },
    { 500, "text/plain", huge, NULL, NULL },
    { 429, "text/plain", huge, "30", NULL },
    { 503, "application/json", NULL, "7", NULL },
    { 500, "text/plain", NULL, NULL, NULL },
  };

  huge_json = g_strdup_printf ("{\"error\":\"%s\"}", huge);
  cases[7].body = huge_json;
  {
    GString *s = g_string_new (NULL);

    /* 3-byte characters, so a byte cap falls inside one */
    for (guint i = 0; i < 2000; i++)
      g_string_append (s, "\u20ac");
    huge_multibyte = g_string_free (s, FALSE);
    cases[8].body = huge_multibyte;
  }

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const char *text;

      g_clear_error (&error);
      fake_answer (f, cases[i].status, cases[i].body);
      f->content_type = cases[i].content_type;
      g_free (f->retry_after);
      f->retry_after = g_strdup (cases[i].retry_after);
      BB_TEST_AWAIT (res,
                     bb_client_list_namespaces_async (f->client, NULL, bb_test_got_result, &res));
      namespaces = bb_client_list_namespaces_finish (f->client, res, &error);
      g_assert_null (namespaces);
      g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_API);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
      for (const char *p = error->message; *p != '\0'; p++)
        g_assert_true ((guchar)*p >= 0x20 && (guchar)*p != 0x7f);
      g_assert_null (strstr (error->message, "\xc2\x9b"));
      g_assert_cmpuint (bb_sync_error_get_http_status (error), ==, cases[i].status);
      if (cases[i].message != NULL)
        g_assert_cmpstr (error->message, ==, cases[i].message);
      g_assert_true (g_str_has_prefix (error->message, "HTTP "));
      text = strchr (error->message, ':') + 2;
      if (cases[i].retry_after != NULL)
        {
          g_autofree char *suffix = g_strdup_printf (" (retry after %s s)", cases[i].retry_after);

          g_assert_true (g_str_has_suffix (error->message, suffix));
          g_assert_cmpuint (bb_sync_error_get_retry_after (error), ==,
                            (guint)g_ascii_strtoull (cases[i].retry_after, NULL, 10));
          g_assert_cmpuint (strlen (text), <=, 512 + strlen (suffix));
        }
      else
        g_assert_cmpuint (strlen (text), <=, 512);
      if (i >= 5)
        g_assert_nonnull (strstr (error->message, "\u2026"));
    }
  fake_free (f);
}

/* Issue 12: an item answer may not carry more ciphertext than the protocol allows. */
static void
test_get_item_ciphertext_size (void)
{
  Fake *f = fake_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (BbItemEnvelope) item = NULL;
  g_autoptr (GBytes) too_big = bb_test_repeat (0x5a, BB_PROTOCOL_MAX_CIPHERTEXT_SIZE + 1);
  g_autoptr (GBytes) max = bb_test_repeat (0x5a, BB_PROTOCOL_MAX_CIPHERTEXT_SIZE);
  g_autofree char *too_big_b64 = bb_protocol_base64_encode (too_big);
  g_autofree char *max_b64 = bb_protocol_base64_encode (max);
  g_autofree char *body = NULL;

  body = item_body_with_ciphertext (NS, ITEM, 1, 1, NONCE_B64, too_big_b64);
  fake_answer (f, 200, body);
  item = get_item (f, &error);
  g_assert_null (item);
  assert_protocol_error (error, "ciphertext", NULL);

  g_clear_error (&error);
  g_free (body);
  body = item_body_with_ciphertext (NS, ITEM, 1, 1, NONCE_B64, max_b64);
  fake_answer (f, 200, body);
  item = get_item (f, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (bb_item_envelope_get_ciphertext (item)), ==,
                    BB_PROTOCOL_MAX_CIPHERTEXT_SIZE);
  fake_free (f);
}

static guint64
put_item (Fake *f, guint64 known_version, GError **error)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GBytes) nonce = zero_bytes (24);
  g_autoptr (GBytes) aad = zero_bytes (76);
  g_autoptr (GBytes) ciphertext = zero_bytes (20);

  BB_TEST_AWAIT (res, bb_client_put_item_async (f->client, NS, ITEM, known_version, nonce, aad,
                                                ciphertext, NULL, bb_test_got_result, &res));
  return bb_client_put_item_finish (f->client, res, error);
}

/* §12.2.15 and If-Match */
static void
test_put_item_versions (void)
{
  Fake *f = fake_new ();
  g_autoptr (GError) error = NULL;
  guint64 version;

  fake_answer (f, 200, "{\"namespaceId\":\"" NS "\",\"itemId\":\"" ITEM "\",\"version\":2}");
  version = put_item (f, 0, &error);
  g_assert_cmpuint (version, ==, 0);
  assert_protocol_error (error, "version", "version mismatch");
  g_assert_cmpstr (f->method, ==, "PUT");
  g_assert_cmpstr (f->path, ==, "/v1/kv/" NS "/" ITEM);
  g_assert_null (f->if_match);
  g_assert_cmpstr (f->request_content_type, ==, "application/json");

  g_clear_error (&error);
  fake_answer (f, 200, "{\"namespaceId\":\"" NS "\",\"itemId\":\"" ITEM "\",\"version\":4}");
  version = put_item (f, 3, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (version, ==, 4);
  g_assert_cmpstr (f->if_match, ==, "\"3\"");

  fake_answer (f, 200, "{\"namespaceId\":\"" NS "\",\"itemId\":\"" ITEM2 "\",\"version\":4}");
  version = put_item (f, 3, &error);
  assert_protocol_error (error, "itemId", "item mismatch");

  /* a stale If-Match: the server's 412 */
  g_clear_error (&error);
  fake_answer (f, 412, "{\"error\":\"item already exists\"}");
  version = put_item (f, 3, &error);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_API);
  g_assert_cmpstr (error->message, ==, "HTTP 412: item already exists");
  g_assert_cmpuint (bb_sync_error_get_http_status (error), ==, 412);
  fake_free (f);
}

/* Error answers: JSON error bodies, plain text, empty bodies, HTML. */
static void
test_error_bodies (void)
{
  Fake *f = fake_new ();
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) namespaces = NULL;
  struct
  {
    guint status;
    const char *content_type;
    const char *body;
    const char *message;
  } cases[] = {
    { 401, "application/json", "{\"error\":\"invalid bearer token\"}\n",
      "HTTP 401: invalid bearer token" },
    { 500, "application/json", "{\"error\":\"boom\"}", "HTTP 500: boom" },
    { 404, "text/plain", "404 page not found\n", "HTTP 404: 404 page not found" },
    { 502, "text/plain", "  bad gateway  ", "HTTP 502: bad gateway" },
    { 500, "application/json", "{\"error\":\"\"}", "HTTP 500: {\"error\":\"\"}" },
    { 503, "application/json", "{\"error\":", "HTTP 503: {\"error\":" },
    { 503, "text/plain", NULL, "HTTP 503: Service Unavailable" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_clear_error (&error);
      fake_answer (f, cases[i].status, cases[i].body);
      f->content_type = cases[i].content_type;
      BB_TEST_AWAIT (res,
                     bb_client_list_namespaces_async (f->client, NULL, bb_test_got_result, &res));
      namespaces = bb_client_list_namespaces_finish (f->client, res, &error);
      g_assert_null (namespaces);
      g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_API);
      g_assert_cmpstr (error->message, ==, cases[i].message);
      g_assert_cmpuint (bb_sync_error_get_http_status (error), ==, cases[i].status);
    }
  g_assert_cmpstr (f->path, ==, "/v1/namespaces/mine");
  fake_free (f);
}

/* Answers @status with @retry_after (NULL: no header) to a call; returns the error. */
static GError *
retry_after_call (Fake *f, guint status, const char *retry_after)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GPtrArray) namespaces = NULL;
  GError *error = NULL;

  fake_answer (f, status, "{\"error\":\"slow down\"}");
  g_free (f->retry_after);
  f->retry_after = g_strdup (retry_after);
  BB_TEST_AWAIT (res, bb_client_list_namespaces_async (f->client, NULL, bb_test_got_result, &res));
  namespaces = bb_client_list_namespaces_finish (f->client, res, &error);
  g_assert_null (namespaces);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_API);
  g_assert_cmpuint (bb_sync_error_get_http_status (error), ==, status);
  return error;
}

/* An IMF-fixdate (RFC 9110 §5.6.7), with English names whatever the locale. */
static char *
http_date (GDateTime *date)
{
  static const char *const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
  static const char *const months[]
      = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

  return g_strdup_printf (
      "%s, %02d %s %04d %02d:%02d:%02d GMT", days[g_date_time_get_day_of_week (date) - 1],
      g_date_time_get_day_of_month (date), months[g_date_time_get_month (date) - 1],
      g_date_time_get_year (date), g_date_time_get_hour (date), g_date_time_get_minute (date),
      g_date_time_get_second (date));
}

/* Retry-After on 429 and 503: delta-seconds, HTTP-dates, and what a hostile server
 * might send instead. */
static void
test_retry_after (void)
{
  Fake *f = fake_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr (GDateTime) ahead = g_date_time_add_seconds (now, 60);
  g_autoptr (GDateTime) past = g_date_time_add_seconds (now, -3600);
  g_autoptr (GDateTime) far = g_date_time_add_days (now, 400);
  g_autofree char *ahead_text = http_date (ahead);
  g_autofree char *past_text = http_date (past);
  g_autofree char *far_text = http_date (far);
  guint delay;
  const char *malformed[] = {
    "abc",   "-5",     "+5",
    "1e9",   "1.5",    "0x10",
    "30 s",  "30, 40", "99999999999999999999999999999999999999",
    "",      "   ",    "Sun, 99 Foo 2026 25:61:61 GMT",
    "Never",
  };

  error = retry_after_call (f, 503, "30");
  g_assert_cmpstr (error->message, ==, "HTTP 503: slow down (retry after 30 s)");
  g_assert_cmpuint (bb_sync_error_get_retry_after (error), ==, 30);
  g_clear_error (&error);

  error = retry_after_call (f, 429, "30");
  g_assert_cmpuint (bb_sync_error_get_retry_after (error), ==, 30);
  g_clear_error (&error);

  /* An HTTP-date a minute ahead. */
  error = retry_after_call (f, 429, ahead_text);
  delay = bb_sync_error_get_retry_after (error);
  if (delay < 55 || delay > 61)
    g_error ("Retry-After “%s” read as %u s (%s)", ahead_text, delay, error->message);
  g_clear_error (&error);

  /* Past dates and zero: no delay, and no suffix. */
  error = retry_after_call (f, 503, past_text);
  g_assert_cmpuint (bb_sync_error_get_retry_after (error), ==, 0);
  g_assert_cmpstr (error->message, ==, "HTTP 503: slow down");
  g_clear_error (&error);
  error = retry_after_call (f, 503, "0");
  g_assert_cmpuint (bb_sync_error_get_retry_after (error), ==, 0);
  g_assert_cmpstr (error->message, ==, "HTTP 503: slow down");
  g_clear_error (&error);

  /* Larger values and far dates are capped at one day. */
  error = retry_after_call (f, 503, "100000");
  g_assert_cmpuint (bb_sync_error_get_retry_after (error), ==, BB_SYNC_ERROR_RETRY_AFTER_MAX);
  g_assert_cmpstr (error->message, ==, "HTTP 503: slow down (retry after 86400 s)");
  g_clear_error (&error);
  error = retry_after_call (f, 503, "4294967296");
  g_assert_cmpuint (bb_sync_error_get_retry_after (error), ==, 86400);
  g_clear_error (&error);
  error = retry_after_call (f, 429, far_text);
  g_assert_cmpuint (bb_sync_error_get_retry_after (error), ==, 86400);
  g_clear_error (&error);

  for (guint i = 0; i < G_N_ELEMENTS (malformed); i++)
    {
      error = retry_after_call (f, 503, malformed[i]);
      if (bb_sync_error_get_retry_after (error) != 0
          || strcmp (error->message, "HTTP 503: slow down") != 0)
        g_error ("Retry-After “%s” gave %u (%s)", malformed[i],
                 bb_sync_error_get_retry_after (error), error->message);
      g_clear_error (&error);
    }

  /* Only 429 and 503 carry one. */
  error = retry_after_call (f, 500, "30");
  g_assert_cmpstr (error->message, ==, "HTTP 500: slow down");
  g_assert_cmpuint (bb_sync_error_get_retry_after (error), ==, 0);
  g_clear_error (&error);
  error = retry_after_call (f, 413, "30");
  g_assert_cmpuint (bb_sync_error_get_retry_after (error), ==, 0);
  g_clear_error (&error);

  /* No header. */
  error = retry_after_call (f, 503, NULL);
  g_assert_cmpstr (error->message, ==, "HTTP 503: slow down");
  g_assert_cmpuint (bb_sync_error_get_retry_after (error), ==, 0);
  g_clear_error (&error);

  fake_free (f);
}

/* The getter reads the message strictly, as a binding would hand it back. */
static void
test_retry_after_getter (void)
{
  struct
  {
    GQuark domain;
    int code;
    const char *message;
    guint expected;
  } cases[] = {
    { 0, BB_SYNC_ERROR_API, "HTTP 503: x (retry after 30 s)", 30 },
    { 0, BB_SYNC_ERROR_API, "HTTP 429: Too Many Requests (retry after 1 s)", 1 },
    { 0, BB_SYNC_ERROR_API, "HTTP 429: x (retry after 0086400 s)", 86400 },
    { 0, BB_SYNC_ERROR_API, "HTTP 429: x (retry after 9999999999 s)", 86400 },
    { 0, BB_SYNC_ERROR_API, "HTTP 429: x (retry after 99999999999 s)", 0 },
    { 0, BB_SYNC_ERROR_API, "HTTP 503: x (retry after 30 s) ", 0 },
    { 0, BB_SYNC_ERROR_API, "HTTP 503: x (retry after -30 s)", 0 },
    { 0, BB_SYNC_ERROR_API, "HTTP 503: x (retry after +30 s)", 0 },
    { 0, BB_SYNC_ERROR_API, "HTTP 503: x (retry after  s)", 0 },
    { 0, BB_SYNC_ERROR_API, "HTTP 503: x (retry after 3 0 s)", 0 },
    { 0, BB_SYNC_ERROR_API, "HTTP 503: x(retry after 30 s)", 0 },
    { 0, BB_SYNC_ERROR_API, "HTTP 503: x", 0 },
    { 0, BB_SYNC_ERROR_API, "(retry after 30 s)", 0 },
    { 0, BB_SYNC_ERROR_API, "HTTP 500: x (retry after 30 s)", 0 },
    { 0, BB_SYNC_ERROR_PROTOCOL, "HTTP 503: x (retry after 30 s)", 0 },
    { 1, BB_SYNC_ERROR_API, "HTTP 503: x (retry after 30 s)", 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = g_error_new_literal (
          cases[i].domain == 0 ? BB_SYNC_ERROR : G_IO_ERROR, cases[i].code, cases[i].message);
      guint got = bb_sync_error_get_retry_after (error);

      if (got != cases[i].expected)
        g_error ("“%s” read as %u, not %u", cases[i].message, got, cases[i].expected);
    }
}

/* Bodies of 2xx answers that are not what the endpoint returns. */
static void
test_bad_success_bodies (void)
{
  Fake *f = fake_new ();
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) namespaces = NULL;
  g_autoptr (BbWatchResult) watch = NULL;
  g_autoptr (BbChallenge) challenge = NULL;
  const char *bodies[] = {
    "{\"namespaces\":[{\"namespaceId\":\"" NS "\",\"kind\":\"default\",\"namespaceHead\":",
    "",
    "<html>hello</html>",
    "{\"namespaces\":[{\"namespaceId\":\"" NS "\",\"kind\":\"default\",\"namespaceHead\":-1}]}",
    "{\"namespaces\":[{\"namespaceId\":\"" NS "\",\"kind\":\"default\",\"namespaceHead\":1.5}]}",
    "{\"namespaces\":[{\"namespaceId\":\""
    "0123456789ABCDEF0123456789ABCDEF"
    "\",\"kind\":\"default\",\"namespaceHead\":1}]}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      g_clear_error (&error);
      fake_answer (f, 200, bodies[i]);
      BB_TEST_AWAIT (res,
                     bb_client_list_namespaces_async (f->client, NULL, bb_test_got_result, &res));
      namespaces = bb_client_list_namespaces_finish (f->client, res, &error);
      g_assert_null (namespaces);
      g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL);
    }

  /* null reads as empty */
  g_clear_error (&error);
  fake_answer (f, 200, "{\"namespaces\":null}");
  BB_TEST_AWAIT (res, bb_client_list_namespaces_async (f->client, NULL, bb_test_got_result, &res));
  namespaces = bb_client_list_namespaces_finish (f->client, res, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (namespaces->len, ==, 0);

  /* a watch answer with no change that did not time out */
  fake_answer (f, 200, "{\"namespaces\":[],\"timedOut\":false}");
  BB_TEST_AWAIT (res, bb_client_watch_async (f->client, NULL, NULL, bb_test_got_result, &res));
  watch = bb_client_watch_finish (f->client, res, &error);
  g_assert_null (watch);
  assert_protocol_error (error, "namespaces", NULL);
  g_assert_cmpstr (f->request_body, ==, "{\"knownHeads\":{}}");

  /* a challenge that is not 32 bytes of canonical base64 */
  g_clear_error (&error);
  fake_answer (f, 200,
               "{\"challenge\":\"AQID\",\"expiresAt\":\"2030-01-01T00:00:00Z\",\"spamControl\":{"
               "\"kind\":\"none\"}}");
  BB_TEST_AWAIT (res, bb_client_request_challenge_async (f->client, "login", NULL, NULL, NULL,
                                                         bb_test_got_result, &res));
  challenge = bb_client_request_challenge_finish (f->client, res, &error);
  g_assert_null (challenge);
  assert_protocol_error (error, "challenge", NULL);
  /* the challenge request never carries the bearer token */
  g_assert_null (f->authorization);
  fake_free (f);
}

/* Arguments are checked before anything is sent. */
static void
test_bad_arguments (void)
{
  Fake *f = fake_new ();
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BbNamespaceItems) items = NULL;
  g_autoptr (BbWatchResult) watch = NULL;
  GVariantBuilder builder;
  guint guard;

  BB_TEST_AWAIT (res, bb_client_get_items_async (f->client, "0123456789ABCDEF0123456789ABCDEF",
                                                 NULL, bb_test_got_result, &res));
  items = bb_client_get_items_finish (f->client, res, &error);
  g_assert_null (items);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT);
  g_assert_nonnull (strstr (error->message, "namespaceId"));

  g_clear_error (&error);
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{st}"));
  g_variant_builder_add (&builder, "{st}", "not-hex", (guint64)1);
  BB_TEST_AWAIT (res, bb_client_watch_async (f->client, g_variant_builder_end (&builder), NULL,
                                             bb_test_got_result, &res));
  watch = bb_client_watch_finish (f->client, res, &error);
  g_assert_null (watch);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT);

  /* A variant of the wrong type, as a binding may pass: an error in the callback (a
   * failed precondition would leave the callback uncalled). */
  g_clear_error (&error);
  guard = g_timeout_add_seconds (20, guard_cb, (gpointer) "watch with a wrong variant type");
  BB_TEST_AWAIT (res, bb_client_watch_async (f->client, g_variant_new_strv (NULL, 0), NULL,
                                             bb_test_got_result, &res));
  g_source_remove (guard);
  watch = bb_client_watch_finish (f->client, res, &error);
  g_assert_null (watch);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT);
  g_assert_nonnull (strstr (error->message, "knownHeads"));
  g_assert_nonnull (strstr (error->message, "a{st}"));
  g_assert_cmpuint (f->n_requests, ==, 0);
  fake_free (f);
}

/* A _finish given the result of another call warns under its own name, not that of an
 * internal helper. */
static void
test_finish_wrong_result (void)
{
  Fake *f = fake_new ();
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GTask) foreign = g_task_new (NULL, NULL, NULL, NULL);
  g_autoptr (GPtrArray) namespaces = NULL;
  g_autofree char *status = NULL;

  fake_answer (f, 200, "{\"status\":\"ok\"}");
  BB_TEST_AWAIT (res, bb_client_health_async (f->client, NULL, bb_test_got_result, &res));

  g_test_expect_message (
      "BbSync", G_LOG_LEVEL_CRITICAL,
      "bb_client_list_namespaces_finish: assertion 'g_task_get_source_tag (G_TASK "
      "(result)) == bb_client_list_namespaces_async' failed");
  namespaces = bb_client_list_namespaces_finish (f->client, res, &error);
  g_test_assert_expected_messages ();
  g_assert_null (namespaces);
  g_assert_no_error (error);

  g_test_expect_message (
      "BbSync", G_LOG_LEVEL_CRITICAL,
      "bb_client_health_finish: assertion 'g_task_is_valid (result, self)' failed");
  status = bb_client_health_finish (f->client, G_ASYNC_RESULT (foreign), &error);
  g_test_assert_expected_messages ();
  g_assert_null (status);
  g_assert_no_error (error);
  g_task_return_boolean (foreign, TRUE);

  /* The result is still good for its own _finish. */
  status = bb_client_health_finish (f->client, res, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (status, ==, "ok");
  fake_free (f);
}

/* Base URLs: trailing slashes go, a prefix stays; http only on loopback. */
static void
test_base_url (void)
{
  Fake *f = fake_new_with_prefix ("/sync/api///");
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *status = NULL;
  g_autoptr (BbClient) client = NULL;
  const char *rejected[] = {
    "http://example.org", "http://192.168.1.10:8090",  "ftp://127.0.0.1",           "https://",
    "not a url",          "https://sync.example/?q=1", "https://user@sync.example",
  };
  const char *accepted[] = {
    "https://sync.example",  "https://sync.example:8443/prefix/",
    "http://localhost:8090", "http://127.0.0.1:1",
    "http://[::1]:8090",
  };

  g_assert_true (g_str_has_suffix (bb_client_get_base_url (f->client), "/sync/api"));
  fake_answer (f, 200, "{\"status\":\"ok\"}");
  BB_TEST_AWAIT (res, bb_client_health_async (f->client, NULL, bb_test_got_result, &res));
  status = bb_client_health_finish (f->client, res, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (status, ==, "ok");
  g_assert_cmpstr (f->path, ==, "/sync/api/health");
  g_assert_nonnull (f->user_agent);
  g_assert_true (g_str_has_prefix (f->user_agent, "bbsync/" PACKAGE_VERSION));
  g_assert_cmpuint (bb_client_get_timeout (f->client), ==, BB_CLIENT_DEFAULT_TIMEOUT);
  fake_free (f);

  for (guint i = 0; i < G_N_ELEMENTS (rejected); i++)
    {
      g_clear_error (&error);
      client = bb_client_new (rejected[i], &error);
      g_assert_null (client);
      g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT);
      g_assert_nonnull (strstr (error->message, "base_url"));
    }
  /* Plain http to a host that is not loopback: refused, naming the URL. */
  for (guint i = 0; i < 2; i++)
    {
      g_clear_error (&error);
      client = bb_client_new (rejected[i], &error);
      g_assert_null (client);
      g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT);
      g_assert_nonnull (strstr (error->message, rejected[i]));
      g_assert_nonnull (strstr (error->message, "http"));
    }
  for (guint i = 0; i < G_N_ELEMENTS (accepted); i++)
    {
      g_clear_error (&error);
      client = bb_client_new (accepted[i], &error);
      g_assert_no_error (error);
      g_assert_false (g_str_has_suffix (bb_client_get_base_url (client), "/"));
      g_clear_object (&client);
    }
}

/* A connection refused is a GIO error, passed through. */
static void
test_network_error (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (BbClient) client = NULL;
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GInetSocketAddress) address = NULL;
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autofree char *url = NULL;
  g_autofree char *status = NULL;

  /* Bind a port without listening on it, so connections are refused. */
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  address = G_INET_SOCKET_ADDRESS (g_inet_socket_address_new (loopback, 0));
  g_socket_bind (socket, G_SOCKET_ADDRESS (address), FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  url = g_strdup_printf ("http://127.0.0.1:%u",
                         g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));

  client = bb_client_new (url, &error);
  g_assert_no_error (error);
  BB_TEST_AWAIT (res, bb_client_health_async (client, NULL, bb_test_got_result, &res));
  status = bb_client_health_finish (client, res, &error);
  g_assert_null (status);
  g_assert_true (error->domain == G_IO_ERROR);
}

/* A server that never answers: the timeout ends the request. */
static void
test_timeout (void)
{
  Fake *f = fake_new ();
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *status = NULL;

  f->hang = TRUE;
  bb_client_set_timeout (f->client, 1);
  g_assert_cmpuint (bb_client_get_timeout (f->client), ==, 1);
  BB_TEST_AWAIT (res, bb_client_health_async (f->client, NULL, bb_test_got_result, &res));
  status = bb_client_health_finish (f->client, res, &error);
  g_assert_null (status);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpuint (f->n_requests, ==, 1);
  fake_free (f);
}

/* A server that sends its headers and then one body byte every 200 ms: each read
 * succeeds quickly, so only a deadline on the whole exchange ends the request. */
static void
test_timeout_trickle (void)
{
  Fake *f = fake_new ();
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *status = NULL;
  guint guard;

  f->trickle = TRUE;
  bb_client_set_timeout (f->client, 1);
  guard = g_timeout_add_seconds (20, guard_cb, (gpointer) "trickle timeout");
  BB_TEST_AWAIT (res, bb_client_health_async (f->client, NULL, bb_test_got_result, &res));
  g_source_remove (guard);
  status = bb_client_health_finish (f->client, res, &error);
  g_assert_null (status);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (error->message, "timeout"));
  g_assert_cmpuint (f->n_requests, ==, 1);
  /* The server did trickle: the request did not simply sit in silence. */
  g_assert_cmpuint (f->n_trickled, >, 0);
  fake_free (f);
}

/* The caller's cancellable still ends a call with CANCELLED, also while a deadline is
 * armed, and also when it was cancelled before the call. */
static void
test_cancel_trickle (void)
{
  Fake *f = fake_new ();
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GCancellable) cancelled = g_cancellable_new ();
  g_autofree char *status = NULL;
  guint guard;

  f->trickle = TRUE;
  /* Far beyond the guard, so the deadline cannot be what ends the call. */
  bb_client_set_timeout (f->client, 600);
  f->cancel_after = cancellable;
  f->cancel_after_bytes = 2;
  guard = g_timeout_add_seconds (20, guard_cb, (gpointer) "trickle cancel");
  BB_TEST_AWAIT (res, bb_client_health_async (f->client, cancellable, bb_test_got_result, &res));
  g_source_remove (guard);
  status = bb_client_health_finish (f->client, res, &error);
  g_assert_null (status);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (f->n_trickled, >=, 2);
  g_clear_error (&error);

  /* Already cancelled: also CANCELLED with a short timeout armed. */
  bb_client_set_timeout (f->client, 1);
  g_cancellable_cancel (cancelled);
  guard = g_timeout_add_seconds (20, guard_cb, (gpointer) "pre-cancelled");
  BB_TEST_AWAIT (res, bb_client_health_async (f->client, cancelled, bb_test_got_result, &res));
  g_source_remove (guard);
  status = bb_client_health_finish (f->client, res, &error);
  g_assert_null (status);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  fake_free (f);
}

/* Big answers: parsed in a worker thread, results back on the caller's thread. */

#define N_BIG_ITEMS 10000

typedef struct
{
  GMutex lock;
  GCond cond;
  GThread *main_thread;
  guint n_started;
  guint n_started_in_worker;
  guint n_finished;
  gsize last_len;
  GThread *last_thread;
  /* what the hook does when a parse starts */
  GCancellable *cancel_on_start; /* nullable */
  gboolean block_until_released;
  gboolean released;
} ParseWatch;

static void
parse_hook_cb (BbClientParseStage stage, gsize body_len, gpointer user_data)
{
  ParseWatch *w = user_data;

  g_mutex_lock (&w->lock);
  if (stage == BB_CLIENT_PARSE_STARTED)
    {
      w->n_started++;
      if (g_thread_self () != w->main_thread)
        w->n_started_in_worker++;
      w->last_len = body_len;
      w->last_thread = g_thread_self ();
      if (w->cancel_on_start != NULL)
        g_cancellable_cancel (w->cancel_on_start);
      /* Blocking the main thread would hang the test instead of failing it. */
      while (w->block_until_released && !w->released && g_thread_self () != w->main_thread)
        g_cond_wait (&w->cond, &w->lock);
    }
  else
    {
      w->n_finished++;
      g_cond_broadcast (&w->cond);
    }
  g_mutex_unlock (&w->lock);
}

static void
parse_watch_init (ParseWatch *w)
{
  memset (w, 0, sizeof (*w));
  g_mutex_init (&w->lock);
  g_cond_init (&w->cond);
  w->main_thread = g_thread_self ();
  bb_client_set_parse_hook_for_testing (parse_hook_cb, w);
}

/* Waits until the parse that started has let go of the answer (it may still be running
 * in its thread after the call ended), so nothing outlives the test. */
static void
parse_watch_finish (ParseWatch *w)
{
  g_mutex_lock (&w->lock);
  w->released = TRUE;
  g_cond_broadcast (&w->cond);
  while (w->n_finished < w->n_started)
    g_cond_wait (&w->cond, &w->lock);
  g_mutex_unlock (&w->lock);
  bb_client_set_parse_hook_for_testing (NULL, NULL);
  g_mutex_clear (&w->lock);
  g_cond_clear (&w->cond);
}

static char *
big_item_id (guint i)
{
  g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  char text[16];

  g_snprintf (text, sizeof text, "%u", i);
  g_checksum_update (checksum, (const guchar *)text, -1);
  return g_strdup (g_checksum_get_string (checksum));
}

static guint64
big_item_version (guint i)
{
  /* Distinct, not in order, some above 32 bits. */
  return (guint64)i * 7919 + 1 + (i % 3 == 0 ? G_GUINT64_CONSTANT (1) << 40 : 0);
}

static char *
big_items_body (const char *ns)
{
  GString *body = g_string_new (NULL);

  g_string_append_printf (body, "{\"namespaceId\":\"%s\",\"namespaceHead\":%u,\"items\":{", ns,
                          N_BIG_ITEMS + 5);
  for (guint i = 0; i < N_BIG_ITEMS; i++)
    {
      g_autofree char *id = big_item_id (i);

      g_string_append_printf (body, "%s\"%s\":{\"version\":%" G_GUINT64_FORMAT "}",
                              i > 0 ? "," : "", id, big_item_version (i));
    }
  g_string_append (body, "}}\n");
  return g_string_free (body, FALSE);
}

/* A 10 000-item snapshot is parsed off the caller's thread and comes back whole; a small
 * answer is still parsed inline. */
static void
test_big_answer_threaded (void)
{
  Fake *f = fake_new ();
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BbNamespaceItems) items = NULL;
  g_autofree char *body = big_items_body (NS);
  g_autofree char *status = NULL;
  ParseWatch w;

  parse_watch_init (&w);
  g_assert_cmpuint (strlen (body), >, 64 * 1024);
  fake_answer (f, 200, body);
  BB_TEST_AWAIT (res, bb_client_get_items_async (f->client, NS, NULL, bb_test_got_result, &res));
  items = bb_client_get_items_finish (f->client, res, &error);
  g_assert_no_error (error);
  g_mutex_lock (&w.lock);
  g_assert_cmpuint (w.n_started, ==, 1);
  g_assert_cmpuint (w.n_started_in_worker, ==, 1);
  g_assert_true (w.last_thread != w.main_thread);
  g_assert_cmpuint (w.last_len, ==, strlen (body));
  g_mutex_unlock (&w.lock);

  g_assert_cmpstr (bb_namespace_items_get_namespace_id (items), ==, NS);
  g_assert_cmpuint (bb_namespace_items_get_head (items), ==, N_BIG_ITEMS + 5);
  g_assert_cmpuint (bb_namespace_items_get_n_items (items), ==, N_BIG_ITEMS);
  for (guint i = 0; i < N_BIG_ITEMS; i++)
    {
      g_autofree char *id = big_item_id (i);

      g_assert_cmpuint (bb_namespace_items_get_version (items, id), ==, big_item_version (i));
    }

  /* A big answer is checked as strictly in the thread: a wrong echoed namespace. */
  g_clear_pointer (&items, bb_namespace_items_unref);
  BB_TEST_AWAIT (res, bb_client_get_items_async (f->client, NS2, NULL, bb_test_got_result, &res));
  items = bb_client_get_items_finish (f->client, res, &error);
  g_assert_null (items);
  assert_protocol_error (error, "namespaceId", "namespace mismatch");
  g_clear_error (&error);
  g_mutex_lock (&w.lock);
  g_assert_cmpuint (w.n_started, ==, 2);
  g_assert_cmpuint (w.n_started_in_worker, ==, 2);
  g_mutex_unlock (&w.lock);

  /* A small answer stays on the caller's thread. */
  fake_answer (f, 200, "{\"status\":\"ok\"}");
  BB_TEST_AWAIT (res, bb_client_health_async (f->client, NULL, bb_test_got_result, &res));
  status = bb_client_health_finish (f->client, res, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (status, ==, "ok");
  g_mutex_lock (&w.lock);
  g_assert_cmpuint (w.n_started, ==, 3);
  g_assert_cmpuint (w.n_started_in_worker, ==, 2);
  g_assert_true (w.last_thread == w.main_thread);
  g_mutex_unlock (&w.lock);

  parse_watch_finish (&w);
  g_assert_cmpuint (w.n_finished, ==, 3);
  fake_free (f);
}

/* A big answer to a call that returns a boolean is checked in the thread too: the call
 * returns TRUE, or the check's error. */
static void
test_big_answer_boolean (void)
{
  Fake *f = fake_new ();
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *padding = g_strnfill (80 * 1024, ' ');
  ParseWatch w;

  parse_watch_init (&w);
  for (guint i = 0; i < 2; i++)
    {
      gboolean revoked = i == 0;
      g_autofree char *body = g_strdup_printf ("{%s\"namespaceId\":\"" NS
                                               "\",\"inviteId\":\"" INVITE "\",\"revoked\":%s}",
                                               padding, revoked ? "true" : "false");
      gboolean ok;

      fake_answer (f, 200, body);
      BB_TEST_AWAIT (res, bb_client_revoke_invite_async (f->client, NS, INVITE, NULL,
                                                         bb_test_got_result, &res));
      ok = bb_client_revoke_invite_finish (f->client, res, &error);
      if (revoked)
        {
          g_assert_no_error (error);
          g_assert_true (ok);
        }
      else
        {
          g_assert_false (ok);
          assert_protocol_error (error, "revoked", "must report revoked");
          g_clear_error (&error);
        }
      g_mutex_lock (&w.lock);
      g_assert_cmpuint (w.n_started_in_worker, ==, i + 1);
      g_mutex_unlock (&w.lock);
    }

  parse_watch_finish (&w);
  fake_free (f);
}

/* Cancelling while a big answer is parsed in its thread ends the call with CANCELLED,
 * without waiting for the parse. */
static void
test_big_answer_cancel (void)
{
  Fake *f = fake_new ();
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *body = big_items_body (NS);
  BbNamespaceItems *items;
  ParseWatch w;

  parse_watch_init (&w);
  /* The parse cancels the call as it starts, then waits: only the cancellation can
   * end the call. */
  w.cancel_on_start = cancellable;
  w.block_until_released = TRUE;
  fake_answer (f, 200, body);
  BB_TEST_AWAIT (res,
                 bb_client_get_items_async (f->client, NS, cancellable, bb_test_got_result, &res));
  items = bb_client_get_items_finish (f->client, res, &error);
  g_assert_null (items);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_mutex_lock (&w.lock);
  g_assert_cmpuint (w.n_started_in_worker, ==, 1);
  g_mutex_unlock (&w.lock);
  parse_watch_finish (&w);
  fake_free (f);
}

/* The deadline bounds the parse too: a parse that does not end in time fails the call
 * with TIMED_OUT. */
static void
test_big_answer_timeout (void)
{
  Fake *f = fake_new ();
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *body = big_items_body (NS);
  BbNamespaceItems *items;
  guint guard;
  ParseWatch w;

  parse_watch_init (&w);
  /* The parse waits until the test releases it, after the call has ended. */
  w.block_until_released = TRUE;
  bb_client_set_timeout (f->client, 1);
  fake_answer (f, 200, body);
  guard = g_timeout_add_seconds (20, guard_cb, (gpointer) "parse timeout");
  BB_TEST_AWAIT (res, bb_client_get_items_async (f->client, NS, NULL, bb_test_got_result, &res));
  g_source_remove (guard);
  items = bb_client_get_items_finish (f->client, res, &error);
  g_assert_null (items);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_mutex_lock (&w.lock);
  g_assert_cmpuint (w.n_started_in_worker, ==, 1);
  g_mutex_unlock (&w.lock);
  parse_watch_finish (&w);
  fake_free (f);
}

/* Answers far beyond what the client keeps (issue 12): 600 MiB bodies, with and without
 * a Content-Length, on a 200 and on a 500, and a gzip bomb. The client stops reading at
 * its limit and drops the connection, so its peak memory grows by a few MiB at most,
 * where buffering or inflating the answer costs the whole body. */

#define HUGE_BODY_SIZE (G_GUINT64_CONSTANT (600) * 1024 * 1024)
#define GZIP_BOMB_SIZE (G_GUINT64_CONSTANT (512) * 1024 * 1024)
/* Far below every body above, far above what a bounded read costs. */
#define HUGE_BODY_MAX_GROWTH_KIB (64 * 1024)

/* The peak resident memory of this process so far, in KiB. */
static glong
peak_rss_kib (void)
{
  struct rusage usage;

  g_assert_cmpint (getrusage (RUSAGE_SELF, &usage), ==, 0);
  return usage.ru_maxrss;
}

/* A gzip stream of GZIP_BOMB_SIZE zero bytes (about 520 KB), compressed piece by piece
 * so that the zeros are never in memory. */
static GBytes *
make_gzip_bomb (void)
{
  static const guint8 zeros[64 * 1024];
  g_autoptr (GZlibCompressor) compressor = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP, 9);
  GByteArray *out = g_byte_array_new ();
  guint64 fed = 0;
  GConverterResult result;

  do
    {
      g_autoptr (GError) error = NULL;
      guint8 buffer[64 * 1024];
      gsize n = (gsize)MIN ((guint64)sizeof zeros, GZIP_BOMB_SIZE - fed);
      gsize n_read = 0;
      gsize n_written = 0;

      result = g_converter_convert (G_CONVERTER (compressor), zeros, n, buffer, sizeof buffer,
                                    fed + n == GZIP_BOMB_SIZE ? G_CONVERTER_INPUT_AT_END
                                                              : G_CONVERTER_NO_FLAGS,
                                    &n_read, &n_written, &error);
      g_assert_no_error (error);
      fed += n_read;
      g_byte_array_append (out, buffer, n_written);
    }
  while (result != G_CONVERTER_FINISHED);
  return g_byte_array_free_to_bytes (out);
}

typedef struct
{
  const char *name;
  guint status;
  guint64 size;       /* ignored for the gzip bomb */
  gboolean sized;     /* with a Content-Length, else chunked */
  gboolean gzip_bomb; /* the gzip bomb with Content-Encoding: gzip, else x's */
} HugeAnswer;

static const HugeAnswer huge_answers[] = {
  { "600-mib-chunked", 200, HUGE_BODY_SIZE, FALSE, FALSE },
  { "600-mib-sized", 200, HUGE_BODY_SIZE, TRUE, FALSE },
  { "gzip-bomb", 200, 0, TRUE, TRUE },
  { "gzip-bomb-error", 500, 0, TRUE, TRUE },
  { "600-mib-error-chunked", 500, HUGE_BODY_SIZE, FALSE, FALSE },
  { "600-mib-error-sized", 500, HUGE_BODY_SIZE, TRUE, FALSE },
};

/* One huge answer to a list-namespaces call. The call fails with a clear error, the
 * client's peak memory grows by far less than the body, the client drops the
 * connection instead of reading on (the server's writes fail before the end of a
 * 600 MiB body; the bomb is small enough to be sent whole before the client refuses
 * it), and it still works afterwards. */
static void
test_huge_answer (gconstpointer data)
{
  const HugeAnswer *answer = data;
  Fake *f;
  g_autoptr (GBytes) bomb = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) namespaces = NULL;
  g_autofree char *status = NULL;
  glong before;
  glong growth;
  guint guard;

  if (!g_test_subprocess ())
    {
      /* A process of its own, so that no earlier test's peak hides this one's: the child
       * starts from this process's current size, not from its peak. */
      g_test_trap_subprocess (NULL, 120 * G_USEC_PER_SEC,
                              G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }

  f = fake_new ();
  f->status = answer->status;
  f->stream_size = answer->size;
  f->stream_sized = answer->sized;
  if (answer->gzip_bomb)
    {
      bomb = make_gzip_bomb ();
      g_assert_cmpuint (g_bytes_get_size (bomb), <, 1024 * 1024);
      f->stream_source = bomb;
      f->stream_size = g_bytes_get_size (bomb);
      f->stream_encoding = "gzip";
    }

  guard = g_timeout_add_seconds (60, guard_cb, (gpointer)answer->name);
  before = peak_rss_kib ();
  BB_TEST_AWAIT (res, bb_client_list_namespaces_async (f->client, NULL, bb_test_got_result, &res));
  growth = peak_rss_kib () - before;
  namespaces = bb_client_list_namespaces_finish (f->client, res, &error);
  /* A TAP comment on the parent's output: g_test_message() is muted in a subprocess. */
  g_print ("# %s: peak RSS grew by %ld KiB; the server sent %" G_GUINT64_FORMAT
           " of %" G_GUINT64_FORMAT " bytes\n",
           answer->name, growth, f->stream_sent, f->stream_size);
  while (!answer->gzip_bomb && !f->stream_finished)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (guard);

  g_assert_null (namespaces);
  if (answer->status == 200 && answer->gzip_bomb)
    assert_protocol_error (error, "Content-Encoding", "gzip");
  else if (answer->status == 200)
    assert_protocol_error (error, "body", "larger than 8388608 bytes");
  else if (answer->gzip_bomb)
    {
      /* The coded body is not read: the reason phrase stands in for it. */
      g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_API);
      g_assert_cmpstr (error->message, ==, "HTTP 500: Internal Server Error");
    }
  else
    {
      /* The first bytes make the message. */
      g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_API);
      g_assert_cmpuint (bb_sync_error_get_http_status (error), ==, 500);
      g_assert_true (g_str_has_prefix (error->message, "HTTP 500: xxxxxxxx"));
      g_assert_true (g_str_has_suffix (error->message, "\u2026"));
    }
  g_assert_cmpint (growth, <, HUGE_BODY_MAX_GROWTH_KIB);
  if (!answer->gzip_bomb)
    g_assert_cmpuint (f->stream_sent, <, f->stream_size);
  /* No content coding is asked for. */
  g_assert_null (f->accept_encoding);

  g_clear_error (&error);
  f->stream_size = 0;
  fake_answer (f, 200, "{\"status\":\"ok\"}");
  BB_TEST_AWAIT (res, bb_client_health_async (f->client, NULL, bb_test_got_result, &res));
  status = bb_client_health_finish (f->client, res, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (status, ==, "ok");
  fake_free (f);
}

/* A throwaway self-signed certificate for 127.0.0.1 and its key, as one PEM. */
static char *
make_self_signed_pem (GError **error)
{
  gnutls_x509_privkey_t key = NULL;
  gnutls_x509_crt_t crt = NULL;
  gnutls_datum_t crt_pem = { NULL, 0 };
  gnutls_datum_t key_pem = { NULL, 0 };
  const guint8 ip[4] = { 127, 0, 0, 1 };
  guint8 serial[16];
  time_t now = time (NULL);
  char *pem = NULL;
  int ret;

  for (guint i = 0; i < sizeof serial; i++)
    serial[i] = (guint8)g_random_int_range (0, 256);
  serial[0] &= 0x7f; /* a positive serial number */

  if ((ret = gnutls_x509_privkey_init (&key)) < 0
      || (ret = gnutls_x509_privkey_generate (key, GNUTLS_PK_ECDSA,
                                              GNUTLS_CURVE_TO_BITS (GNUTLS_ECC_CURVE_SECP256R1), 0))
             < 0
      || (ret = gnutls_x509_crt_init (&crt)) < 0 || (ret = gnutls_x509_crt_set_version (crt, 3)) < 0
      || (ret = gnutls_x509_crt_set_serial (crt, serial, sizeof serial)) < 0
      || (ret = gnutls_x509_crt_set_activation_time (crt, now - 3600)) < 0
      || (ret = gnutls_x509_crt_set_expiration_time (crt, now + 3600)) < 0
      || (ret = gnutls_x509_crt_set_dn_by_oid (crt, GNUTLS_OID_X520_COMMON_NAME, 0, "127.0.0.1",
                                               strlen ("127.0.0.1")))
             < 0
      || (ret = gnutls_x509_crt_set_subject_alt_name (crt, GNUTLS_SAN_IPADDRESS, ip, sizeof ip,
                                                      GNUTLS_FSAN_SET))
             < 0
      || (ret = gnutls_x509_crt_set_key (crt, key)) < 0
      || (ret = gnutls_x509_crt_set_basic_constraints (crt, 0, -1)) < 0
      || (ret = gnutls_x509_crt_set_key_usage (crt, GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0
      || (ret = gnutls_x509_crt_set_key_purpose_oid (crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0
      || (ret = gnutls_x509_crt_sign2 (crt, crt, key, GNUTLS_DIG_SHA256, 0)) < 0
      || (ret = gnutls_x509_crt_export2 (crt, GNUTLS_X509_FMT_PEM, &crt_pem)) < 0
      || (ret = gnutls_x509_privkey_export2_pkcs8 (key, GNUTLS_X509_FMT_PEM, NULL,
                                                   GNUTLS_PKCS_PLAIN, &key_pem))
             < 0)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "gnutls: %s", gnutls_strerror (ret));
  else
    pem = g_strdup_printf ("%.*s%.*s", (int)crt_pem.size, (const char *)crt_pem.data,
                           (int)key_pem.size, (const char *)key_pem.data);

  gnutls_free (crt_pem.data);
  gnutls_free (key_pem.data);
  if (crt != NULL)
    gnutls_x509_crt_deinit (crt);
  if (key != NULL)
    gnutls_x509_privkey_deinit (key);
  return pem;
}

/* https against a certificate the system trust store does not know: the client
 * accepts the URL, and the TLS failure comes back as GIO reports it. */
static void
test_https_untrusted (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GTlsCertificate) certificate = NULL;
  g_autoptr (SoupServer) server = NULL;
  g_autoptr (BbClient) client = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autofree char *pem = NULL;
  g_autofree char *url = NULL;
  g_autofree char *status = NULL;
  GSList *uris;
  guint n_requests = 0;
  guint guard;

  if (!g_tls_backend_supports_tls (g_tls_backend_get_default ()))
    {
      g_test_skip ("no GIO TLS backend (install glib-networking)");
      return;
    }
  pem = make_self_signed_pem (&error);
  if (pem == NULL)
    {
      g_autofree char *why = g_strdup_printf ("cannot make a test certificate: %s", error->message);

      g_test_skip (why);
      return;
    }
  certificate = g_tls_certificate_new_from_pem (pem, -1, &error);
  g_assert_no_error (error);

  server = soup_server_new ("tls-certificate", certificate, NULL);
  soup_server_add_handler (server, NULL, count_request_handler, &n_requests, NULL);
  soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY | SOUP_SERVER_LISTEN_HTTPS,
                            &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (server);
  g_assert_nonnull (uris);
  g_assert_cmpstr (g_uri_get_scheme (uris->data), ==, "https");
  url = g_strdup_printf ("https://127.0.0.1:%d", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify)g_uri_unref);

  client = bb_client_new (url, &error);
  g_assert_no_error (error);
  g_assert_nonnull (client);

  guard = g_timeout_add_seconds (20, guard_cb, (gpointer) "https");
  BB_TEST_AWAIT (res, bb_client_health_async (client, NULL, bb_test_got_result, &res));
  g_source_remove (guard);
  status = bb_client_health_finish (client, res, &error);
  g_assert_null (status);
  g_assert_nonnull (error);
  g_test_message ("untrusted certificate: %s %d: %s", g_quark_to_string (error->domain),
                  error->code, error->message);
  g_assert_true (error->domain != BB_SYNC_ERROR);
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  /* The handshake failed, so no request reached the server. */
  g_assert_cmpuint (n_requests, ==, 0);

  g_clear_object (&client);
  soup_server_disconnect (server);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/client-misbehaving/items-namespace-mismatch", test_items_namespace_mismatch);
  g_test_add_func ("/client-misbehaving/login-refresh-kind", test_login_refresh_kind_mismatch);
  g_test_add_func ("/client-misbehaving/namespace-answers", test_namespace_answers);
  g_test_add_func ("/client-misbehaving/members-wrapped-dek", test_members_and_wrapped_dek);
  g_test_add_func ("/client-misbehaving/create-invite-echo", test_create_invite_echo);
  g_test_add_func ("/client-misbehaving/submit-join", test_submit_join_answers);
  g_test_add_func ("/client-misbehaving/revoke-reject-approve", test_revoke_reject_approve);
  g_test_add_func ("/client-misbehaving/get-item", test_get_item_answers);
  g_test_add_func ("/client-misbehaving/get-item-ciphertext-size", test_get_item_ciphertext_size);
  g_test_add_func ("/client-misbehaving/access-token-validation", test_access_token_validation);
  g_test_add_func ("/client-misbehaving/error-text-sanitized", test_error_text_sanitized);
  g_test_add_func ("/client-misbehaving/put-item-versions", test_put_item_versions);
  g_test_add_func ("/client-misbehaving/error-bodies", test_error_bodies);
  g_test_add_func ("/client-misbehaving/retry-after", test_retry_after);
  g_test_add_func ("/client-misbehaving/retry-after-getter", test_retry_after_getter);
  g_test_add_func ("/client-misbehaving/bad-success-bodies", test_bad_success_bodies);
  g_test_add_func ("/client-misbehaving/bad-arguments", test_bad_arguments);
  g_test_add_func ("/client-misbehaving/finish-wrong-result", test_finish_wrong_result);
  g_test_add_func ("/client-misbehaving/base-url", test_base_url);
  g_test_add_func ("/client-misbehaving/network-error", test_network_error);
  g_test_add_func ("/client-misbehaving/timeout", test_timeout);
  g_test_add_func ("/client-misbehaving/timeout-trickle", test_timeout_trickle);
  g_test_add_func ("/client-misbehaving/cancel-trickle", test_cancel_trickle);
  g_test_add_func ("/client-misbehaving/https-untrusted", test_https_untrusted);
  g_test_add_func ("/client-misbehaving/big-answer-threaded", test_big_answer_threaded);
  g_test_add_func ("/client-misbehaving/big-answer-boolean", test_big_answer_boolean);
  g_test_add_func ("/client-misbehaving/big-answer-cancel", test_big_answer_cancel);
  g_test_add_func ("/client-misbehaving/big-answer-timeout", test_big_answer_timeout);
  for (guint i = 0; i < G_N_ELEMENTS (huge_answers); i++)
    {
      g_autofree char *path
          = g_strconcat ("/client-misbehaving/huge-answer/", huge_answers[i].name, NULL);

      g_test_add_data_func (path, &huge_answers[i], test_huge_answer);
    }

  return g_test_run ();
}
