/* bb-client-private.h: BbClient internals: what tests and the engine need, then what
 * the client's pieces (bb-client*.c) share.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "bb-client.h"

#include <libsoup/soup.h>

G_BEGIN_DECLS

#ifndef BBSYNC_COMPILATION
#error "bb-client-private.h is private to bbsync and its tests"
#endif

typedef enum
{
  /* About to parse and check a 2xx answer, on the thread that does it. */
  BB_CLIENT_PARSE_STARTED,
  /* Done with the answer (its buffer is gone), on the same thread. */
  BB_CLIENT_PARSE_FINISHED,
} BbClientParseStage;

/* Called on whichever thread parses an answer, so a test can tell a worker-thread
 * parse of a big answer from an inline one of a small answer without timing anything.
 * @body_len is the size of the answer body. */
typedef void (*BbClientParseHook) (BbClientParseStage stage, gsize body_len, gpointer user_data);

/* Process-wide; %NULL removes it. Set it only while no request is in flight. */
void bb_client_set_parse_hook_for_testing (BbClientParseHook hook, gpointer user_data);

gboolean bb_client_is_loopback (BbClient *self);

/* --- what the client's pieces share (bb-client*.c) --- */

struct _BbClient
{
  GObject parent_instance;

  SoupSession *session;
  char *base_url;
  char *access_token;
  guint timeout;
};

/* --- the transport (bb-client-transport.c) --- */

typedef struct _BbClientRequest BbClientRequest;

/* What the answer must echo; which fields apply depends on the endpoint. */
typedef struct
{
  char *namespace_id;
  char *item_id;
  char *invite_id;
  char *key_id;
  char *join_request_hash;
  char *kind;
  guint64 version;
  gint64 expires_at;
  gboolean has_max_pending;
  guint max_pending;
  guint max_accepted;
} BbClientExpect;

/* Turns the body of a 2xx answer into the task's result, or fails. Handlers are pure:
 * they see only the answer and @expect, never the client, so they may run in a worker
 * thread. */
typedef gpointer (*BbClientResponseHandler) (const BbClientExpect *expect, const char *body,
                                             gsize len, GError **error);

/* Checks the body of a 2xx answer that carries no result (a revocation, a rejection):
 * a request with a check instead of a handler returns a boolean. Pure, like a handler. */
typedef gboolean (*BbClientResponseCheck) (const BbClientExpect *expect, const char *body,
                                           gsize len, GError **error);

/* Applies an accepted answer to the client (the bearer token), on the caller's
 * context. */
typedef void (*BbClientResponseApply) (BbClient *self, gpointer value);

struct _BbClientRequest
{
  const char *method;
  const char *endpoint; /* for logs: a path template without IDs or secrets */
  char *path;
  GBytes *body; /* nullable */
  gboolean authenticated;
  char *if_match; /* nullable */
  BbClientResponseHandler handler;
  BbClientResponseCheck check; /* instead of handler: the task returns a boolean */
  BbClientResponseApply apply; /* nullable */
  GDestroyNotify result_free;
  SoupMessage *message;
  BbClientExpect expect;
  /* The answer while it is read: at most body_cap bytes are kept, in a buffer that may
   * hold a bearer token and is wiped when released. */
  GInputStream *stream;
  guint8 *body_data;
  gsize body_len;
  gsize body_allocated;
  gsize body_cap;
  /* The deadline: libsoup's own timeout only bounds each read, so a server that
   * trickles bytes could hold a request forever. The request runs on its own
   * cancellable, cancelled by the caller's one or by the deadline source. */
  GCancellable *cancellable;
  GCancellable *caller_cancellable; /* nullable */
  gulong caller_handler;
  GSource *deadline; /* nullable */
  guint timeout;
  gboolean timed_out;
};

BbClientRequest *bb_client_request_new (const char *method, const char *endpoint,
                                        gboolean authenticated, BbClientResponseHandler handler,
                                        GDestroyNotify result_free, ...) G_GNUC_NULL_TERMINATED;
void bb_client_request_take_body (BbClientRequest *req, char *json);
void bb_client_request_send (BbClient *self, BbClientRequest *req, gpointer source_tag,
                             GCancellable *cancellable, GAsyncReadyCallback callback,
                             gpointer user_data);
gpointer bb_client_request_finish (BbClient *self, GAsyncResult *result, gpointer source_tag,
                                   const char *finish_name, GError **error);
gboolean bb_client_request_finish_boolean (BbClient *self, GAsyncResult *result,
                                           gpointer source_tag, const char *finish_name,
                                           GError **error);

/* --- checks (bb-client-checks.c) --- */

/* The longest bearer token accepted from a server. */
#define BB_CLIENT_MAX_ACCESS_TOKEN_LENGTH 4096

gboolean bb_client_check_equal (const char *field, const char *what, const char *got,
                                const char *want, GError **error);
gboolean bb_client_as_protocol_error (GError **error);
GBytes *bb_client_decode_base64_field (const char *text, gssize expected_len, const char *field,
                                       GError **error);
gboolean bb_client_validate_lower_hex_field (const char *text, gsize expected_len,
                                             const char *field, GError **error);
gboolean bb_client_access_token_is_valid (const char *token);
void bb_client_check_id_arg (const char *text, gsize len, const char *field, GError **error);
void bb_client_check_key_arg (GBytes *key, const char *field, GError **error);
void bb_client_check_signature_arg (GBytes *signature, GError **error);
gboolean bb_client_report_bad_arguments (BbClient *self, gpointer source_tag,
                                         GAsyncReadyCallback callback, gpointer user_data,
                                         GError *error);

G_END_DECLS
