/* bb-server-db.h: SQLite persistence of the reference server
 *
 * One connection, used only from the server's main context. The schema is created on
 * open; file databases use WAL with synchronous=NORMAL, so a process killed at any
 * moment (kill -9) leaves the database at the last committed transaction. Every request
 * that writes runs in one transaction (bb_server_db_begin/commit).
 *
 * All the server's SQL is here, behind typed functions: the request handlers hold none.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _BbServerDb BbServerDb;

BbServerDb *bb_server_db_open (const char *path, GError **error);
void bb_server_db_free (BbServerDb *db);

/* A write transaction (BEGIN IMMEDIATE), held in a guard: g_autoptr
 * (BbServerDbTransaction) rolls it back when it goes out of scope uncommitted, so a
 * request that gives up half-way needs no rollback of its own. Nested use is a
 * programmer error. */
typedef struct _BbServerDbTransaction BbServerDbTransaction;

BbServerDbTransaction *bb_server_db_begin (BbServerDb *db, GError **error);
/* On failure the transaction is rolled back. Either way the guard has nothing left to do. */
gboolean bb_server_db_commit (BbServerDbTransaction *tx, GError **error);
/* Rolls back unless committed. */
void bb_server_db_end (BbServerDbTransaction *tx);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BbServerDbTransaction, bb_server_db_end)

/* The typed reads and writes of the server's requests. A "get" returns TRUE for a row
 * and fills its out arguments, FALSE when there is none (@error then tells a failure
 * from a missing row); functions returning a pointer return NULL with @error set on
 * failure, except where a missing row is NULL too (then @error tells). */

/* Keys and tokens (only the hash of a bearer token is stored) */
gboolean bb_server_db_get_key (BbServerDb *db, const char *key_id, GBytes **auth_public_key,
                               GBytes **wrap_public_key, char **default_namespace_id,
                               GError **error);
gboolean bb_server_db_insert_key (BbServerDb *db, const char *key_id, const char *kind,
                                  GBytes *auth_public_key, GBytes *wrap_public_key, gint64 now,
                                  GError **error);
gboolean bb_server_db_set_default_namespace (BbServerDb *db, const char *key_id,
                                             const char *namespace_id, GError **error);
/* Drops the expired tokens of @key_id, adds this one, and keeps only the newest
 * @max_tokens. */
gboolean bb_server_db_insert_token (BbServerDb *db, const char *key_id, const char *token_hash,
                                    gint64 now, gint64 expires_at, guint64 max_tokens,
                                    GError **error);
/* The key of an unexpired token, or NULL. */
char *bb_server_db_get_token_key (BbServerDb *db, const char *token_hash, gint64 now,
                                  GError **error);
gboolean bb_server_db_delete_tokens (BbServerDb *db, const char *key_id, GError **error);

/* Namespaces and members */
/* Creates the namespace with @created_by as its first member. */
gboolean bb_server_db_insert_namespace (BbServerDb *db, const char *namespace_id, const char *kind,
                                        const char *created_by, const char *member_kind,
                                        const char *wrapped_dek, gint64 now, GError **error);
gboolean bb_server_db_get_namespace (BbServerDb *db, const char *namespace_id, char **kind,
                                     char **created_by, GError **error);
gboolean bb_server_db_namespace_exists (BbServerDb *db, const char *namespace_id, GError **error);
/* 0 for an unknown namespace. */
gint64 bb_server_db_get_namespace_head (BbServerDb *db, const char *namespace_id, GError **error);
/* The namespaces @key_id belongs to, by namespace ID, as BbMsgNamespaceSummary. */
GPtrArray *bb_server_db_list_namespaces_of (BbServerDb *db, const char *key_id, GError **error);
gint64 bb_server_db_count_namespaces_of (BbServerDb *db, const char *key_id, GError **error);
gboolean bb_server_db_insert_member (BbServerDb *db, const char *namespace_id, const char *key_id,
                                     const char *kind, const char *wrapped_dek, gint64 now,
                                     GError **error);
/* Whether @key_id is a member of @namespace_id; *out_kind gets the namespace kind. */
gboolean bb_server_db_is_member (BbServerDb *db, const char *namespace_id, const char *key_id,
                                 char **out_kind, GError **error);
/* The members in joining order, as BbMsgMember. */
GPtrArray *bb_server_db_list_members (BbServerDb *db, const char *namespace_id, GError **error);
gint64 bb_server_db_count_members (BbServerDb *db, const char *namespace_id, GError **error);
/* NULL for a non-member. */
char *bb_server_db_get_wrapped_dek (BbServerDb *db, const char *namespace_id, const char *key_id,
                                    GError **error);

/* Items */
/* Item ID -> guint64 * version. */
GHashTable *bb_server_db_list_item_versions (BbServerDb *db, const char *namespace_id,
                                             GError **error);
gboolean bb_server_db_get_item (BbServerDb *db, const char *namespace_id, const char *item_id,
                                guint64 *version, char **nonce, char **aad, char **ciphertext,
                                GError **error);
gboolean bb_server_db_get_item_size (BbServerDb *db, const char *namespace_id, const char *item_id,
                                     gint64 *version, gint64 *ciphertext_size, GError **error);
gboolean bb_server_db_get_namespace_usage (BbServerDb *db, const char *namespace_id,
                                           gint64 *item_count, gint64 *stored_bytes,
                                           GError **error);
/* Stores the item (replacing @old_size bytes of ciphertext) and moves the namespace head. */
gboolean bb_server_db_put_item (BbServerDb *db, const char *namespace_id, const char *item_id,
                                guint64 version, const char *nonce, const char *aad,
                                const char *ciphertext, gint64 ciphertext_size, gint64 old_size,
                                gboolean is_new, GError **error);

/* Invites */
gint64 bb_server_db_count_active_invites (BbServerDb *db, const char *namespace_id, gint64 now,
                                          GError **error);
gboolean bb_server_db_invite_exists (BbServerDb *db, const char *invite_id, GError **error);
gboolean bb_server_db_namespace_has_invite (BbServerDb *db, const char *namespace_id,
                                            const char *invite_id, GError **error);
/* @max_pending NULL: a variant B invite. */
gboolean bb_server_db_insert_invite (BbServerDb *db, const char *invite_id,
                                     const char *namespace_id, const char *created_by, gint64 now,
                                     gint64 expires_at, const gint64 *max_pending,
                                     gint64 max_accepted, GBytes *server_secret_hash,
                                     GError **error);
/* The invites of @namespace_id still active after @retained_since, as BbMsgInviteSummary
 * with their pending join requests at @now counted. */
GPtrArray *bb_server_db_list_invites (BbServerDb *db, const char *namespace_id, gint64 now,
                                      gint64 retained_since, GError **error);
gboolean bb_server_db_get_invite (BbServerDb *db, const char *namespace_id, const char *invite_id,
                                  gint64 *expires_at, gboolean *revoked, gboolean *has_max_pending,
                                  gint64 *max_pending, GError **error);
/* NULL for an unknown invite. */
GBytes *bb_server_db_get_invite_secret_hash (BbServerDb *db, const char *invite_id, GError **error);
/* Revokes the invite (once) and cancels its pending join requests. */
gboolean bb_server_db_revoke_invite (BbServerDb *db, const char *invite_id, gint64 now,
                                     GError **error);

/* Join requests */
/* The oldest unexpired pending request of @key_id in @namespace_id. */
gboolean bb_server_db_get_pending_join_request (BbServerDb *db, const char *namespace_id,
                                                const char *key_id, gint64 now, char **invite_id,
                                                char **request_hash, GError **error);
gint64 bb_server_db_count_pending_of_invite (BbServerDb *db, const char *invite_id, gint64 now,
                                             GError **error);
gint64 bb_server_db_count_pending_of_key (BbServerDb *db, const char *key_id, gint64 now,
                                          GError **error);
gboolean bb_server_db_insert_join_request (BbServerDb *db, const char *namespace_id,
                                           const char *key_id, const char *request_hash,
                                           const char *invite_id, const char *join_request_json,
                                           gint64 expires_at, gint64 now, GError **error);
/* The unexpired pending requests of @namespace_id, as BbMsgJoinRequestEntry. */
GPtrArray *bb_server_db_list_pending_join_requests (BbServerDb *db, const char *namespace_id,
                                                    gint64 now, GError **error);
/* The unexpired pending request and the state of its invite. */
gboolean bb_server_db_get_pending_approval (BbServerDb *db, const char *namespace_id,
                                            const char *key_id, const char *request_hash,
                                            gint64 now, char **invite_id, gboolean *invite_revoked,
                                            gint64 *accepted_count, gint64 *max_accepted,
                                            GError **error);
/* Adds the member, marks the request approved and counts it on its invite. */
gboolean bb_server_db_approve_join_request (BbServerDb *db, const char *namespace_id,
                                            const char *key_id, const char *request_hash,
                                            const char *invite_id, const char *member_kind,
                                            const char *wrapped_dek, gint64 now, GError **error);
/* *out_rejected: whether there was such a pending request. */
gboolean bb_server_db_reject_join_request (BbServerDb *db, const char *namespace_id,
                                           const char *key_id, const char *request_hash,
                                           gboolean *out_rejected, GError **error);

/* Copies the whole database to an in-memory snapshot called @name (replacing an older
 * one of that name), and restores it later. */
gboolean bb_server_db_save_snapshot (BbServerDb *db, const char *name, GError **error);
gboolean bb_server_db_restore_snapshot (BbServerDb *db, const char *name, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BbServerDb, bb_server_db_free)

G_END_DECLS
