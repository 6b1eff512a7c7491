/* bb-server.h: the BitBoxSync reference server (for tests, examples and local development)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define BB_TYPE_SERVER (bb_server_get_type ())

G_DECLARE_FINAL_TYPE (BbServer, bb_server, BB, SERVER, GObject)

/* @database_path: an SQLite file (created if missing) or ":memory:". */
BbServer *bb_server_new (const char *database_path, GError **error);

/* Canonical origins accepted in join requests (default: "https://sync.example" when
 * none is added). Call before listening. */
gboolean bb_server_add_public_origin (BbServer *self, const char *origin, GError **error);

/* Long-poll timeout of POST /v1/namespaces/watch (default 30000 ms). */
void bb_server_set_watch_timeout (BbServer *self, guint timeout_ms);

/* Starts serving on @host:@port (port 0 picks a free one) on the thread-default main
 * context of the caller. */
gboolean bb_server_listen (BbServer *self, const char *host, guint port, GError **error);
/* "http://127.0.0.1:PORT" once listening, else NULL. */
const char *bb_server_get_base_url (BbServer *self);
/* Stops listening and closes open connections and watches; the database stays consistent. */
void bb_server_shutdown (BbServer *self);

/* Fault injection (all off by default). */
void bb_server_set_latency (BbServer *self, guint latency_ms);
/* A @fraction (0..1) of requests is answered with @status (400 to 599, for example
 * 500, 503 or 429; 0 means 500) before routing. */
void bb_server_set_error_rate (BbServer *self, double fraction, guint status);
/* Injected 429 and 503 answers (of the error rate and of bb_server_fail_next_requests())
 * carry `Retry-After: @seconds`; 0 (the default) sends no header. */
void bb_server_set_retry_after (BbServer *self, guint seconds);
/* Answers the next @count requests whose method is @method (NULL: any) and whose path
 * starts with @path_prefix (NULL: any; for example "/v1/kv/") with @status (400 to 599)
 * before routing, then lets them through again. Checked before the error rate; a call
 * with the same @method and @path_prefix replaces the earlier one, @count 0 removes it. */
void bb_server_fail_next_requests (BbServer *self, const char *method, const char *path_prefix,
                                   guint count, guint status);
/* A @fraction (0..1) of requests has its connection dropped mid-response. */
void bb_server_set_drop_rate (BbServer *self, double fraction);
/* Saves the whole database state under @name, and later restores it (a rollback as a
 * client would see one from a server restored from backup). */
gboolean bb_server_save_snapshot (BbServer *self, const char *name, GError **error);
gboolean bb_server_restore_snapshot (BbServer *self, const char *name, GError **error);

/* Additions (backward compatible). */

/* Lifetime of issued bearer tokens in seconds (default 90 days). */
void bb_server_set_token_lifetime (BbServer *self, guint seconds);
/* Lifetime of challenges in seconds (default 120). */
void bb_server_set_challenge_lifetime (BbServer *self, guint seconds);
/* Shifts the server's clock by @offset_seconds (tests use it to expire tokens,
 * challenges, invites and join requests without sleeping). */
void bb_server_set_clock_offset (BbServer *self, gint64 offset_seconds);
/* The server's current time in Unix seconds (real time plus the clock offset). */
gint64 bb_server_get_now (BbServer *self);
/* The port once listening, else 0. */
guint bb_server_get_port (BbServer *self);
/* Requires the demo attestation (spec 3.2) on login and refresh: challenges for them
 * then announce spamControl kind "attestation". Off by default. */
void bb_server_set_require_attestation (BbServer *self, gboolean require);
/* Seeds the random choices of fault injection (for reproducible tests). */
void bb_server_set_fault_seed (BbServer *self, guint32 seed);
/* Connections served at once (property "max-connections"); further ones wait in the
 * kernel's listen queue until one ends. 0, the default, derives the cap from
 * RLIMIT_NOFILE when listening, leaving descriptors for everything else. */
void bb_server_set_max_connections (BbServer *self, guint max_connections);
/* How long a connection may take to deliver each request, headers and body, counted from
 * the moment the server waits for it: accepted, or done with the previous response
 * (property "request-timeout", default 10000 ms). A slower connection is closed. */
void bb_server_set_request_timeout (BbServer *self, guint timeout_ms);

typedef enum
{
  BB_SERVER_LIMIT_ITEMS_PER_NAMESPACE,   /* 10000 */
  BB_SERVER_LIMIT_BYTES_PER_NAMESPACE,   /* 64 MiB of ciphertext */
  BB_SERVER_LIMIT_NAMESPACES_PER_KEY,    /* 32 */
  BB_SERVER_LIMIT_MEMBERS_PER_NAMESPACE, /* 32 */
  BB_SERVER_LIMIT_TOKENS_PER_KEY,        /* 32; the oldest is evicted */
  BB_SERVER_LIMIT_ACTIVE_INVITES,        /* 5 per namespace */
  BB_SERVER_LIMIT_PENDING_PER_REQUESTER, /* 20 */
  BB_SERVER_LIMIT_PENDING_PER_INVITE,    /* 20; variant B invites, and the cap of maxPending */
  BB_SERVER_LIMIT_BODY_SIZE,             /* 262144 bytes per request body */
  BB_SERVER_LIMIT_CHALLENGES,            /* 100000 outstanding; the oldest is evicted */
  BB_SERVER_LIMIT_CHALLENGES_PER_SOURCE, /* 1000 per IPv4 address or IPv6 /64; the oldest is
                                            evicted */
  BB_SERVER_N_LIMITS
} BbServerLimit;

/* Overrides one of the server's limits (tests lower them to reach them quickly). */
void bb_server_set_limit (BbServer *self, BbServerLimit limit, guint64 value);
guint64 bb_server_get_limit (BbServer *self, BbServerLimit limit);

G_END_DECLS
