/* bb-server-private.h: what the pieces of the reference server (bb-server*.c) share: the
 * object's fields, the request being answered, and the helpers the handlers use.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "bb-server.h"

#include <libsoup/soup.h>

#include "bb-server-db.h"

G_BEGIN_DECLS

/* Tolerated client clock skew on client-chosen expiry times (invites, join requests). */
#define CLOCK_SKEW 60

struct _BbServer
{
  GObject parent_instance;

  char *database_path;
  BbServerDb *db;
  GMainContext *context;

  SoupServer *soup;
  char *base_url;
  guint port;

  GSocket *listen_socket;
  GSource *accept_source;      /* while accepting */
  GSource *accept_retry;       /* while pausing after running out of descriptors */
  GSocket *idle_listener_peer; /* see bb_server_give_soup_idle_listener() */
  GHashTable *connections;     /* remote address text -> Connection */
  guint max_connections;       /* 0: derived_connection_cap */
  guint derived_connection_cap;
  guint request_timeout_ms;

  GPtrArray *public_origins; /* canonical origin strings */
  guint watch_timeout_ms;
  guint token_lifetime;
  guint challenge_lifetime;
  gint64 clock_offset;
  gboolean require_attestation;
  guint64 limits[BB_SERVER_N_LIMITS];

  GQueue challenge_queue;        /* BbServerChallenge, oldest first */
  GHashTable *challenge_sources; /* source -> GQueue of BbServerChallenge, oldest first */

  GHashTable *challenges; /* base64 text -> BbServerChallenge */
  GPtrArray *watches;     /* Watch */
  GPtrArray *delayed;     /* Delayed (latency injection) */

  guint latency_ms;
  double error_rate;
  guint error_status;
  guint retry_after;     /* seconds; 0: no Retry-After on injected 429 and 503 */
  GPtrArray *fail_rules; /* FailRule */
  double drop_rate;
  GRand *fault_rand;
};

/* --- the request being answered (bb-server-request.c) --- */

/* The IDs a request path carries, as its route captured them (NULL where it has none). */
typedef struct
{
  const char *namespace_id;
  const char *item_id;
  const char *invite_id;
  const char *key_id;
  const char *join_request_hash;
} BbServerPathIds;

typedef struct
{
  BbServer *self;
  SoupServerMessage *msg;
  BbServerPathIds ids;
  const char *body;
  gsize body_len;
  char *caller; /* key ID of the bearer, after authentication */
  gint64 now;
  gboolean held;   /* the handler keeps the message paused (watch) */
  gboolean paused; /* the message is already paused (latency injection) */
} BbServerRequest;

typedef void (*BbServerHandler) (BbServer *self, BbServerRequest *req);

void bb_server_respond_raw (SoupServerMessage *msg, guint status, const char *json);
void bb_server_respond_json_take (BbServerRequest *req, guint status, char *json);
void bb_server_respond_error_msg (SoupServerMessage *msg, guint status, const char *text);
void bb_server_respond_error (BbServerRequest *req, guint status, const char *format, ...)
    G_GNUC_PRINTF (3, 4);
void bb_server_respond_gerror (BbServerRequest *req, const GError *error);
void bb_server_respond_internal (BbServerRequest *req, const GError *error);
gboolean bb_server_check_body (BbServerRequest *req, const char *const *allowed,
                               const char *nested_field, const char *const *nested_allowed);
GBytes *bb_server_decode_or_respond (BbServerRequest *req,
                                     GBytes *(*decode) (const char *, gssize, const char *,
                                                        GError **),
                                     const char *text, gssize len, const char *field);
gboolean bb_server_validate_id (BbServerRequest *req, const char *text, gsize size,
                                const char *field);

/* Keys, tokens, membership */
char *bb_server_hash_token (const char *token);
gboolean bb_server_authenticate (BbServer *self, BbServerRequest *req);
gboolean bb_server_require_member (BbServer *self, BbServerRequest *req, const char *namespace_id,
                                   char **out_kind);
gboolean bb_server_check_wrapped_dek (BbServerRequest *req, const char *text);

/* --- routing and dispatch (bb-server-routes.c) --- */

/* Splits the route patterns, once (class initialisation). */
void bb_server_parse_routes (void);
gboolean bb_server_is_public_origin (BbServer *self, const char *origin);
void bb_server_process_request (BbServer *self, SoupServerMessage *msg, gboolean paused);
void bb_server_soup_callback (SoupServer *server, SoupServerMessage *msg, const char *path,
                              GHashTable *query, gpointer user_data);
void bb_server_request_started_cb (SoupServer *server, SoupServerMessage *msg, gpointer user_data);

/* --- connections (bb-server-connections.c) --- */

typedef struct _Connection Connection;

void bb_server_connection_free (Connection *conn);
guint bb_server_connection_cap_from_rlimit (void);
void bb_server_update_accepting (BbServer *self);
void bb_server_connection_request_done_cb (SoupServer *server, SoupServerMessage *msg,
                                           gpointer user_data);
void bb_server_connection_request_read_cb (SoupServer *server, SoupServerMessage *msg,
                                           gpointer user_data);
gboolean bb_server_give_soup_idle_listener (BbServer *self, GError **error);
GSocket *bb_server_open_listen_socket (GSocketAddress *address, GError **error);

/* --- challenges (bb-server-challenges.c) --- */

typedef struct
{
  char *text; /* the key in self->challenges */
  char *source;
  char *purpose;
  char *action;             /* nullable */
  char *action_fields_hash; /* nullable */
  gint64 expires_at;
  GList queue_link;  /* in self->challenge_queue */
  GList source_link; /* in the queue of self->challenge_sources for source */
} BbServerChallenge;

void bb_server_challenge_free (BbServerChallenge *challenge);
char *bb_server_request_source (BbServerRequest *req);
/* Makes room for @challenge under the caps, then adds it. */
void bb_server_add_challenge (BbServer *self, BbServerChallenge *challenge, gint64 now);
GBytes *bb_server_consume_challenge (BbServer *self, BbServerRequest *req, const char *text,
                                     const char *purpose, const char *action,
                                     char **out_fields_hash);
void bb_server_clear_challenges (BbServer *self);

/* --- authentication (bb-server-auth.c) --- */

gboolean bb_server_verify_sensitive_action (BbServer *self, BbServerRequest *req,
                                            const char *action, GBytes *challenge, const char *kind,
                                            const char *key_id, GBytes *fields,
                                            const char *signature_hex);
void bb_server_handle_challenge (BbServer *self, BbServerRequest *req);
void bb_server_handle_login (BbServer *self, BbServerRequest *req);
void bb_server_handle_refresh (BbServer *self, BbServerRequest *req);
void bb_server_handle_revoke_tokens (BbServer *self, BbServerRequest *req);

/* --- watches (bb-server-watch.c) --- */

typedef struct _Watch Watch;

void bb_server_watch_free (Watch *watch);
void bb_server_wake_watchers (BbServer *self, const char *namespace_id);
void bb_server_handle_watch (BbServer *self, BbServerRequest *req);

/* --- namespaces and members (bb-server-namespaces.c) --- */

void bb_server_handle_get_default (BbServer *self, BbServerRequest *req);
void bb_server_handle_ensure_default (BbServer *self, BbServerRequest *req);
void bb_server_handle_mine (BbServer *self, BbServerRequest *req);
void bb_server_handle_create_namespace (BbServer *self, BbServerRequest *req);
void bb_server_handle_members (BbServer *self, BbServerRequest *req);
void bb_server_handle_wrapped_dek (BbServer *self, BbServerRequest *req);

/* --- items (bb-server-items.c) --- */

void bb_server_handle_items (BbServer *self, BbServerRequest *req);
void bb_server_handle_item_get (BbServer *self, BbServerRequest *req);
void bb_server_handle_item_put (BbServer *self, BbServerRequest *req);

/* --- invites and join requests (bb-server-invites.c) --- */

void bb_server_handle_create_invite (BbServer *self, BbServerRequest *req);
void bb_server_handle_list_invites (BbServer *self, BbServerRequest *req);
void bb_server_handle_revoke_invite (BbServer *self, BbServerRequest *req);
void bb_server_handle_submit_join (BbServer *self, BbServerRequest *req);
void bb_server_handle_list_join_requests (BbServer *self, BbServerRequest *req);
void bb_server_handle_approve (BbServer *self, BbServerRequest *req);
void bb_server_handle_reject (BbServer *self, BbServerRequest *req);

/* --- fault injection (bb-server-faults.c) --- */

typedef struct _FailRule FailRule;
typedef struct _Delayed Delayed;

void bb_server_fail_rule_free (FailRule *rule);
guint bb_server_fail_rule_take (BbServer *self, const char *method, const char *path);
void bb_server_respond_injected (BbServer *self, BbServerRequest *req, guint status);
gboolean bb_server_fault_roll (BbServer *self, double fraction);
void bb_server_drop_connection (SoupServerMessage *msg);
void bb_server_delayed_free (Delayed *delayed);
/* Pauses @msg and processes it after the injected latency. */
void bb_server_delay_request (BbServer *self, SoupServerMessage *msg);

G_END_DECLS
