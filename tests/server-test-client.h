/* server-test-client.h: an HTTP client for the reference server tests (libsoup on the
 * thread-default main context, requests built and signed with the protocol layer)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <libsoup/soup.h>

#include "bb-server.h"
#include "bb-test-identity.h"

G_BEGIN_DECLS

#define ORIGIN "https://sync.example"

/* @server is NULL when the server runs in another process. */
typedef struct
{
  BbServer *server;
  SoupSession *session;
  char *base;
  char *tmpdir;
} Fixture;

typedef struct
{
  SoupMessage *msg;
  GBytes *body;
  GError *error;
  gboolean done;
} Call;

/* The server's clock (or the real clock when the server is out of process). */
gint64 server_test_now (Fixture *f);

void call_free (Call *call);

Call *call_start (Fixture *f, const char *method, const char *path, const char *token,
                  const char *body, gssize body_len, const char *if_match);

Call *call_send (Fixture *f, SoupMessage *msg);

void call_wait (Call *call);

guint http (Fixture *f, const char *method, const char *path, const char *token, const char *body,
            const char *if_match, char **out_body);

char *expect (Fixture *f, guint status, const char *method, const char *path, const char *token,
              const char *body, const char *if_match);

void expect_error (Fixture *f, guint status, const char *needle, const char *method,
                   const char *path, const char *token, const char *body, const char *if_match);

char *b64 (GBytes *bytes);

char *hex (GBytes *bytes);

char *random_hex (gsize size);

char *get_challenge (Fixture *f, const char *purpose, const char *action, GBytes *fields);

GBytes *challenge_bytes (const char *challenge);

char *sign_hex (BbTestIdentity *id, GBytes *message);

char *login_body (BbTestIdentity *id, const char *challenge);

char *login_full (Fixture *f, BbTestIdentity *id, char **out_default_ns);

char *login (Fixture *f, BbTestIdentity *id);

GBytes *fixed_dek (guint8 byte);

char *wrapped_dek_for (BbTestIdentity *id, const char *ns, GBytes *dek);

char *create_shared (Fixture *f, BbTestIdentity *id, const char *token, GBytes *dek);

char *item_body (GBytes *dek, const char *ns, const char *item, guint64 version,
                 const char *plaintext);

guint64 put_item (Fixture *f, const char *token, GBytes *dek, const char *ns, const char *item,
                  guint64 current, const char *plaintext);

char *get_item_plaintext (Fixture *f, const char *token, GBytes *dek, const char *ns,
                          const char *item, guint64 *out_version);

guint64 namespace_head (Fixture *f, const char *token, const char *ns, guint *out_items);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Call, call_free)

#define expect_status(f, status, method, path, token, body, if_match)                              \
  g_free (expect ((f), (status), (method), (path), (token), (body), (if_match)))

G_END_DECLS
