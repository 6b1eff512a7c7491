/* engine-fake-server.h: a recording SoupServer on 127.0.0.1 for the engine tests that need
 * a server answering in one precise way, and the engine of the spec §9.0 fixtures aimed
 * at it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <bbsync/bbsync.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

/* The auth challenge the fakes hand out: 32 bytes of 0x01. */
#define FAKE_CHALLENGE_B64 "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="

typedef struct
{
  char *method;
  char *path;
  char *authorization; /* NULL when absent */
  char *if_match;      /* NULL when absent */
  char *body;          /* NULL when empty */
} FakeRequest;

/* Answers @msg, whose request is already recorded as @req; it may pause @msg and answer
 * it later. */
typedef void (*FakeHandler) (SoupServerMessage *msg, FakeRequest *req, gpointer user_data);

typedef struct
{
  SoupServer *soup;
  char *base_url;      /* http://127.0.0.1:<port> */
  GPtrArray *requests; /* FakeRequest, in arrival order */
  FakeHandler handler;
  gpointer user_data;
} FakeServer;

/* Listens on a free port of 127.0.0.1; every request is recorded, logged with
 * g_test_message(), then passed to @handler. */
FakeServer *fake_server_new (FakeHandler handler, gpointer user_data);
/* Disconnects and frees @self, after letting the main context finish what the
 * disconnection started. Free the engine that talks to it first. */
void fake_server_free (FakeServer *self);

/* The @i-th (0-based) request; asserts there is one. */
FakeRequest *fake_server_request (FakeServer *self, guint i);
/* The @nth (0-based) request with this method and path; asserts there is one. */
FakeRequest *fake_server_nth (FakeServer *self, const char *method, const char *path, guint nth);
/* How many requests had this method and this path, or a path with this prefix or suffix. */
guint fake_server_count (FakeServer *self, const char *method, const char *path);
guint fake_server_count_prefix (FakeServer *self, const char *method, const char *prefix);
guint fake_server_count_suffix (FakeServer *self, const char *method, const char *suffix);

/* A JSON answer; no body when @body is NULL. */
void fake_respond (SoupServerMessage *msg, guint status, const char *body);
/* An error answer: {"error":"fake status <status>"}. */
void fake_respond_error (SoupServerMessage *msg, guint status);
/* The answer to POST /v1/auth/challenge: FAKE_CHALLENGE_B64, no spam control. */
void fake_respond_challenge (SoupServerMessage *msg);

/* Parses a JSON object (asserts @text is one). */
JsonObject *fake_parse_object (const char *text);
GBytes *fake_random_bytes (gsize n);

/* newTestEngine (spec §9.0): an engine of BbTestIdentity "test-key" with an in-memory
 * store, whose client talks to @server and whose clock reads *@now (µs). */
BbSyncEngine *fake_engine_new (FakeServer *server, gint64 *now);
/* Caches namespace @ns_id of @kind in the engine's store (@dek, head 0, active scope hash
 * "", updated at @updated_at µs) and returns its handle. */
BbNamespace *fake_engine_seed_namespace (BbSyncEngine *engine, const char *ns_id, const char *kind,
                                         GBytes *dek, gint64 updated_at);
/* setTestAccessToken: @token valid until @expiry (µs); with @default_ns_id, that
 * namespace becomes the identity's default too. */
void fake_engine_save_token (BbSyncEngine *engine, const char *token, gint64 expiry,
                             const char *default_ns_id);

G_END_DECLS
