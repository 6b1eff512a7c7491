/* bb-client.h: the BitBoxSync HTTP API, one asynchronous call per endpoint
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(BBSYNC_INSIDE) && !defined(BBSYNC_COMPILATION)
#error "Only <bbsync/bbsync.h> can be included directly."
#endif

#include <gio/gio.h>

#include "bb-version-macros.h"
#include "bb-protocol-types.h"
#include "bb-identity.h"
#include "bb-invite.h"

G_BEGIN_DECLS

/**
 * BB_CLIENT_DEFAULT_TIMEOUT:
 *
 * The default timeout of a [class@BbSync.Client] request, in seconds: long enough for the
 * server's long poll of [method@BbSync.Client.watch_async].
 *
 * Since: 0.1
 */
#define BB_CLIENT_DEFAULT_TIMEOUT 75

/**
 * BB_CLIENT_MAX_CONNECTIONS:
 *
 * How many connections a [class@BbSync.Client] opens to its server at most: enough for the
 * requests a sync pass keeps in flight (libsoup's default is 2 per host).
 *
 * Since: 0.1
 */
#define BB_CLIENT_MAX_CONNECTIONS 8

#define BB_TYPE_CLIENT (bb_client_get_type ())

BB_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (BbClient, bb_client, BB, CLIENT, GObject)

BB_AVAILABLE_IN_ALL
BbClient *bb_client_new (const char *base_url,
                         GError    **error);
BB_AVAILABLE_IN_ALL
const char *bb_client_get_base_url (BbClient *self);
BB_AVAILABLE_IN_ALL
char *bb_client_dup_access_token (BbClient *self);
BB_AVAILABLE_IN_ALL
void bb_client_set_access_token (BbClient   *self,
                                 const char *access_token);
BB_AVAILABLE_IN_ALL
guint bb_client_get_timeout (BbClient *self);
BB_AVAILABLE_IN_ALL
void bb_client_set_timeout (BbClient *self,
                            guint     timeout);

/* Authentication */
BB_AVAILABLE_IN_ALL
void bb_client_request_challenge_async (BbClient           *self,
                                        const char         *purpose,
                                        const char         *action,
                                        const char         *action_fields_hash,
                                        GCancellable       *cancellable,
                                        GAsyncReadyCallback callback,
                                        gpointer            user_data);
BB_AVAILABLE_IN_ALL
BbChallenge *bb_client_request_challenge_finish (BbClient     *self,
                                                 GAsyncResult *result,
                                                 GError      **error);
BB_AVAILABLE_IN_ALL
void bb_client_login_async (BbClient           *self,
                            const char         *kind,
                            const char         *key_id,
                            GBytes             *auth_public_key,
                            GBytes             *wrap_public_key,
                            BbChallenge        *challenge,
                            GBytes             *intent_signature,
                            GBytes             *attestation,
                            GCancellable       *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer            user_data);
BB_AVAILABLE_IN_ALL
BbLoginResult *bb_client_login_finish (BbClient     *self,
                                       GAsyncResult *result,
                                       GError      **error);
BB_AVAILABLE_IN_ALL
void bb_client_refresh_async (BbClient           *self,
                              const char         *kind,
                              const char         *key_id,
                              BbChallenge        *challenge,
                              GBytes             *intent_signature,
                              GBytes             *attestation,
                              GCancellable       *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer            user_data);
BB_AVAILABLE_IN_ALL
BbLoginResult *bb_client_refresh_finish (BbClient     *self,
                                         GAsyncResult *result,
                                         GError      **error);
BB_AVAILABLE_IN_ALL
void bb_client_revoke_all_tokens_async (BbClient           *self,
                                        const char         *kind,
                                        const char         *key_id,
                                        BbChallenge        *challenge,
                                        GBytes             *intent_signature,
                                        GCancellable       *cancellable,
                                        GAsyncReadyCallback callback,
                                        gpointer            user_data);
BB_AVAILABLE_IN_ALL
gboolean bb_client_revoke_all_tokens_finish (BbClient     *self,
                                             GAsyncResult *result,
                                             GError      **error);

/* Authentication with an identity (challenge, signature, attestation and request) */
BB_AVAILABLE_IN_ALL
void bb_client_login_with_identity_async (BbClient           *self,
                                          BbIdentity         *identity,
                                          GCancellable       *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer            user_data);
BB_AVAILABLE_IN_ALL
BbLoginResult *bb_client_login_with_identity_finish (BbClient     *self,
                                                     GAsyncResult *result,
                                                     GError      **error);
BB_AVAILABLE_IN_ALL
void bb_client_refresh_with_identity_async (BbClient           *self,
                                            BbIdentity         *identity,
                                            GCancellable       *cancellable,
                                            GAsyncReadyCallback callback,
                                            gpointer            user_data);
BB_AVAILABLE_IN_ALL
BbLoginResult *bb_client_refresh_with_identity_finish (BbClient     *self,
                                                       GAsyncResult *result,
                                                       GError      **error);
BB_AVAILABLE_IN_ALL
void bb_client_revoke_all_tokens_with_identity_async (BbClient           *self,
                                                      BbIdentity         *identity,
                                                      GCancellable       *cancellable,
                                                      GAsyncReadyCallback callback,
                                                      gpointer            user_data);
BB_AVAILABLE_IN_ALL
gboolean bb_client_revoke_all_tokens_with_identity_finish (BbClient     *self,
                                                           GAsyncResult *result,
                                                           GError      **error);
BB_AVAILABLE_IN_ALL
void bb_client_create_invite_with_identity_async (BbClient           *self,
                                                  BbIdentity         *identity,
                                                  BbInvite           *invite,
                                                  guint               max_pending,
                                                  guint               max_accepted,
                                                  GCancellable       *cancellable,
                                                  GAsyncReadyCallback callback,
                                                  gpointer            user_data);
BB_AVAILABLE_IN_ALL
BbInviteListing *bb_client_create_invite_with_identity_finish (BbClient     *self,
                                                               GAsyncResult *result,
                                                               GError      **error);

/* Namespaces */
BB_AVAILABLE_IN_ALL
void bb_client_get_default_namespace_async (BbClient           *self,
                                            GCancellable       *cancellable,
                                            GAsyncReadyCallback callback,
                                            gpointer            user_data);
BB_AVAILABLE_IN_ALL
BbNamespaceListing *bb_client_get_default_namespace_finish (BbClient     *self,
                                                            GAsyncResult *result,
                                                            GError      **error);
BB_AVAILABLE_IN_ALL
void bb_client_ensure_default_namespace_async (BbClient           *self,
                                               const char         *proposed_namespace_id,
                                               GBytes             *wrapped_dek,
                                               GCancellable       *cancellable,
                                               GAsyncReadyCallback callback,
                                               gpointer            user_data);
BB_AVAILABLE_IN_ALL
BbNamespaceListing *bb_client_ensure_default_namespace_finish (BbClient     *self,
                                                               GAsyncResult *result,
                                                               GError      **error);
BB_AVAILABLE_IN_ALL
void bb_client_list_namespaces_async (BbClient           *self,
                                      GCancellable       *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer            user_data);
BB_AVAILABLE_IN_ALL
GPtrArray *bb_client_list_namespaces_finish (BbClient     *self,
                                             GAsyncResult *result,
                                             GError      **error);
BB_AVAILABLE_IN_ALL
void bb_client_watch_async (BbClient           *self,
                            GVariant           *known_heads,
                            GCancellable       *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer            user_data);
BB_AVAILABLE_IN_ALL
BbWatchResult *bb_client_watch_finish (BbClient     *self,
                                       GAsyncResult *result,
                                       GError      **error);
BB_AVAILABLE_IN_ALL
void bb_client_create_namespace_async (BbClient           *self,
                                       const char         *namespace_id,
                                       GBytes             *wrapped_dek,
                                       GCancellable       *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer            user_data);
BB_AVAILABLE_IN_ALL
BbNamespaceListing *bb_client_create_namespace_finish (BbClient     *self,
                                                       GAsyncResult *result,
                                                       GError      **error);
BB_AVAILABLE_IN_ALL
void bb_client_list_members_async (BbClient           *self,
                                   const char         *namespace_id,
                                   GCancellable       *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer            user_data);
BB_AVAILABLE_IN_ALL
GPtrArray *bb_client_list_members_finish (BbClient     *self,
                                          GAsyncResult *result,
                                          GError      **error);
BB_AVAILABLE_IN_ALL
void bb_client_get_wrapped_dek_async (BbClient           *self,
                                      const char         *namespace_id,
                                      const char         *key_id,
                                      GCancellable       *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer            user_data);
BB_AVAILABLE_IN_ALL
GBytes *bb_client_get_wrapped_dek_finish (BbClient     *self,
                                          GAsyncResult *result,
                                          GError      **error);

/* Invites and join requests */
BB_AVAILABLE_IN_ALL
void bb_client_create_invite_async (BbClient           *self,
                                    const char         *namespace_id,
                                    const char         *kind,
                                    const char         *key_id,
                                    const char         *invite_id,
                                    GBytes             *invite_server_secret_hash,
                                    BbChallenge        *challenge,
                                    GBytes             *intent_signature,
                                    gint64              expires_at,
                                    guint               max_pending,
                                    guint               max_accepted,
                                    GCancellable       *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer            user_data);
BB_AVAILABLE_IN_ALL
BbInviteListing *bb_client_create_invite_finish (BbClient     *self,
                                                 GAsyncResult *result,
                                                 GError      **error);
BB_AVAILABLE_IN_ALL
void bb_client_list_invites_async (BbClient           *self,
                                   const char         *namespace_id,
                                   GCancellable       *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer            user_data);
BB_AVAILABLE_IN_ALL
GPtrArray *bb_client_list_invites_finish (BbClient     *self,
                                          GAsyncResult *result,
                                          GError      **error);
BB_AVAILABLE_IN_ALL
void bb_client_revoke_invite_async (BbClient           *self,
                                    const char         *namespace_id,
                                    const char         *invite_id,
                                    GCancellable       *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer            user_data);
BB_AVAILABLE_IN_ALL
gboolean bb_client_revoke_invite_finish (BbClient     *self,
                                         GAsyncResult *result,
                                         GError      **error);
BB_AVAILABLE_IN_ALL
void bb_client_submit_join_request_async (BbClient           *self,
                                          BbJoinRequest      *request,
                                          GBytes             *invite_server_secret,
                                          GCancellable       *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer            user_data);
BB_AVAILABLE_IN_ALL
BbJoinRequestListing *bb_client_submit_join_request_finish (BbClient     *self,
                                                            GAsyncResult *result,
                                                            GError      **error);
BB_AVAILABLE_IN_ALL
void bb_client_list_join_requests_async (BbClient           *self,
                                         const char         *namespace_id,
                                         GCancellable       *cancellable,
                                         GAsyncReadyCallback callback,
                                         gpointer            user_data);
BB_AVAILABLE_IN_ALL
GPtrArray *bb_client_list_join_requests_finish (BbClient     *self,
                                                GAsyncResult *result,
                                                GError      **error);
BB_AVAILABLE_IN_ALL
void bb_client_approve_join_request_async (BbClient           *self,
                                           const char         *namespace_id,
                                           const char         *key_id,
                                           const char         *join_request_hash,
                                           GBytes             *invite_server_secret,
                                           GBytes             *wrapped_dek,
                                           GCancellable       *cancellable,
                                           GAsyncReadyCallback callback,
                                           gpointer            user_data);
BB_AVAILABLE_IN_ALL
BbMember *bb_client_approve_join_request_finish (BbClient     *self,
                                                 GAsyncResult *result,
                                                 GError      **error);
BB_AVAILABLE_IN_ALL
void bb_client_reject_join_request_async (BbClient           *self,
                                          const char         *namespace_id,
                                          const char         *key_id,
                                          const char         *join_request_hash,
                                          GCancellable       *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer            user_data);
BB_AVAILABLE_IN_ALL
gboolean bb_client_reject_join_request_finish (BbClient     *self,
                                               GAsyncResult *result,
                                               GError      **error);

/* Items */
BB_AVAILABLE_IN_ALL
void bb_client_get_items_async (BbClient           *self,
                                const char         *namespace_id,
                                GCancellable       *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer            user_data);
BB_AVAILABLE_IN_ALL
BbNamespaceItems *bb_client_get_items_finish (BbClient     *self,
                                              GAsyncResult *result,
                                              GError      **error);
BB_AVAILABLE_IN_ALL
void bb_client_get_item_async (BbClient           *self,
                               const char         *namespace_id,
                               const char         *item_id,
                               GCancellable       *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer            user_data);
BB_AVAILABLE_IN_ALL
BbItemEnvelope *bb_client_get_item_finish (BbClient     *self,
                                           GAsyncResult *result,
                                           GError      **error);
BB_AVAILABLE_IN_ALL
void bb_client_put_item_async (BbClient           *self,
                               const char         *namespace_id,
                               const char         *item_id,
                               guint64             known_version,
                               GBytes             *nonce,
                               GBytes             *aad,
                               GBytes             *ciphertext,
                               GCancellable       *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer            user_data);
BB_AVAILABLE_IN_ALL
guint64 bb_client_put_item_finish (BbClient     *self,
                                   GAsyncResult *result,
                                   GError      **error);

/* Server status */
BB_AVAILABLE_IN_ALL
void bb_client_health_async (BbClient           *self,
                             GCancellable       *cancellable,
                             GAsyncReadyCallback callback,
                             gpointer            user_data);
BB_AVAILABLE_IN_ALL
char *bb_client_health_finish (BbClient     *self,
                               GAsyncResult *result,
                               GError      **error);

G_END_DECLS
