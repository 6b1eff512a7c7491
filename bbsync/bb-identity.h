/* bb-identity.h: the key holder of a BitBoxSync account (software keystore or hardware)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(BBSYNC_INSIDE) && !defined(BBSYNC_COMPILATION)
#error "Only <bbsync/bbsync.h> can be included directly."
#endif

#include <gio/gio.h>

#include "bb-version-macros.h"
#include "bb-invite.h"
#include "bb-protocol-types.h"

G_BEGIN_DECLS

#define BB_TYPE_IDENTITY (bb_identity_get_type ())

BB_AVAILABLE_IN_ALL
G_DECLARE_INTERFACE (BbIdentity, bb_identity, BB, IDENTITY, GObject)

/**
 * BbIdentityInterface:
 * @g_iface: the parent interface
 * @get_kind: returns the identity kind (default: `keystore`)
 * @get_auth_public_key: returns the 32-byte Ed25519 public key (required)
 * @get_wrap_public_key: returns the 32-byte X25519 public key (required)
 * @get_key_id: returns the key ID as lower-case hex (default: SHA-256 of the auth key)
 * @sign_payload_async: optional: signs arbitrary protocol bytes with the auth key.
 *   Software identities implement only this and inherit every `sign_*` operation;
 *   hardware identities leave it unset and implement the `sign_*` operations instead
 * @sign_payload_finish: finishes @sign_payload_async
 * @sign_login_async: signs the login intent for a challenge
 * @sign_login_finish: finishes @sign_login_async
 * @sign_refresh_async: signs the refresh intent for a challenge
 * @sign_refresh_finish: finishes @sign_refresh_async
 * @sign_revoke_all_tokens_async: signs the revoke-all-tokens intent
 * @sign_revoke_all_tokens_finish: finishes @sign_revoke_all_tokens_async
 * @sign_create_invite_async: signs the create-namespace-invite intent
 * @sign_create_invite_finish: finishes @sign_create_invite_async
 * @sign_join_request_async: signs a join-request payload
 * @sign_join_request_finish: finishes @sign_join_request_async
 * @attest_async: produces the attestation for a challenge (default: unsupported)
 * @attest_finish: finishes @attest_async
 * @unwrap_dek_async: unwraps a namespace DEK wrapped to this identity (required)
 * @unwrap_dek_finish: finishes @unwrap_dek_async
 *
 * The virtual methods of [iface@BbSync.Identity].
 *
 * Every `_finish` has a default that returns the [struct@GLib.Bytes] an implementation passed to
 * g_task_return_pointer() on a [class@Gio.Task] whose source object is the identity, so an
 * implementation that uses [class@Gio.Task] only needs the `_async` half.
 *
 * Since: 0.1
 */
struct _BbIdentityInterface
{
  GTypeInterface g_iface;

  char *(*get_kind) (BbIdentity *self);
  GBytes *(*get_auth_public_key) (BbIdentity *self);
  GBytes *(*get_wrap_public_key) (BbIdentity *self);
  char *(*get_key_id) (BbIdentity *self);

  void (*sign_payload_async) (BbIdentity         *self,
                              GBytes             *payload,
                              GCancellable       *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer            user_data);
  GBytes *(*sign_payload_finish) (BbIdentity   *self,
                                  GAsyncResult *result,
                                  GError      **error);

  void (*sign_login_async) (BbIdentity         *self,
                            GBytes             *challenge,
                            GCancellable       *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer            user_data);
  GBytes *(*sign_login_finish) (BbIdentity   *self,
                                GAsyncResult *result,
                                GError      **error);
  void (*sign_refresh_async) (BbIdentity         *self,
                              GBytes             *challenge,
                              GCancellable       *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer            user_data);
  GBytes *(*sign_refresh_finish) (BbIdentity   *self,
                                  GAsyncResult *result,
                                  GError      **error);
  void (*sign_revoke_all_tokens_async) (BbIdentity         *self,
                                        GBytes             *challenge,
                                        GCancellable       *cancellable,
                                        GAsyncReadyCallback callback,
                                        gpointer            user_data);
  GBytes *(*sign_revoke_all_tokens_finish) (BbIdentity   *self,
                                            GAsyncResult *result,
                                            GError      **error);
  void (*sign_create_invite_async) (BbIdentity         *self,
                                    GBytes             *challenge,
                                    const char         *namespace_id,
                                    const char         *invite_id,
                                    GBytes             *invite_server_secret_hash,
                                    gint64              expires_at,
                                    guint               max_pending,
                                    guint               max_accepted,
                                    GCancellable       *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer            user_data);
  GBytes *(*sign_create_invite_finish) (BbIdentity   *self,
                                        GAsyncResult *result,
                                        GError      **error);
  void (*sign_join_request_async) (BbIdentity         *self,
                                   const char         *namespace_id,
                                   const char         *invite_id,
                                   const char         *server_origin,
                                   gint64              expires_at,
                                   GCancellable       *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer            user_data);
  GBytes *(*sign_join_request_finish) (BbIdentity   *self,
                                       GAsyncResult *result,
                                       GError      **error);
  void (*attest_async) (BbIdentity         *self,
                        GBytes             *challenge,
                        GCancellable       *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer            user_data);
  GBytes *(*attest_finish) (BbIdentity   *self,
                            GAsyncResult *result,
                            GError      **error);
  void (*unwrap_dek_async) (BbIdentity         *self,
                            const char         *namespace_id,
                            GBytes             *wrapped_dek,
                            GCancellable       *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer            user_data);
  GBytes *(*unwrap_dek_finish) (BbIdentity   *self,
                                GAsyncResult *result,
                                GError      **error);

  /*< private >*/
  gpointer padding[12];
};

BB_AVAILABLE_IN_ALL
char *bb_identity_get_kind (BbIdentity *self);
BB_AVAILABLE_IN_ALL
GBytes *bb_identity_get_auth_public_key (BbIdentity *self);
BB_AVAILABLE_IN_ALL
GBytes *bb_identity_get_wrap_public_key (BbIdentity *self);
BB_AVAILABLE_IN_ALL
char *bb_identity_get_key_id (BbIdentity *self);

BB_AVAILABLE_IN_ALL
void bb_identity_sign_login_async (BbIdentity         *self,
                                   GBytes             *challenge,
                                   GCancellable       *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer            user_data);
BB_AVAILABLE_IN_ALL
GBytes *bb_identity_sign_login_finish (BbIdentity   *self,
                                       GAsyncResult *result,
                                       GError      **error);
BB_AVAILABLE_IN_ALL
void bb_identity_sign_refresh_async (BbIdentity         *self,
                                     GBytes             *challenge,
                                     GCancellable       *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer            user_data);
BB_AVAILABLE_IN_ALL
GBytes *bb_identity_sign_refresh_finish (BbIdentity   *self,
                                         GAsyncResult *result,
                                         GError      **error);
BB_AVAILABLE_IN_ALL
void bb_identity_sign_revoke_all_tokens_async (BbIdentity         *self,
                                               GBytes             *challenge,
                                               GCancellable       *cancellable,
                                               GAsyncReadyCallback callback,
                                               gpointer            user_data);
BB_AVAILABLE_IN_ALL
GBytes *bb_identity_sign_revoke_all_tokens_finish (BbIdentity   *self,
                                                   GAsyncResult *result,
                                                   GError      **error);
BB_AVAILABLE_IN_ALL
void bb_identity_sign_create_invite_async (BbIdentity         *self,
                                           GBytes             *challenge,
                                           const char         *namespace_id,
                                           const char         *invite_id,
                                           GBytes             *invite_server_secret_hash,
                                           gint64              expires_at,
                                           guint               max_pending,
                                           guint               max_accepted,
                                           GCancellable       *cancellable,
                                           GAsyncReadyCallback callback,
                                           gpointer            user_data);
BB_AVAILABLE_IN_ALL
GBytes *bb_identity_sign_create_invite_finish (BbIdentity   *self,
                                               GAsyncResult *result,
                                               GError      **error);
BB_AVAILABLE_IN_ALL
void bb_identity_sign_join_request_async (BbIdentity         *self,
                                          const char         *namespace_id,
                                          const char         *invite_id,
                                          const char         *server_origin,
                                          gint64              expires_at,
                                          GCancellable       *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer            user_data);
BB_AVAILABLE_IN_ALL
GBytes *bb_identity_sign_join_request_finish (BbIdentity   *self,
                                              GAsyncResult *result,
                                              GError      **error);
BB_AVAILABLE_IN_ALL
void bb_identity_attest_async (BbIdentity         *self,
                               GBytes             *challenge,
                               GCancellable       *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer            user_data);
BB_AVAILABLE_IN_ALL
GBytes *bb_identity_attest_finish (BbIdentity   *self,
                                   GAsyncResult *result,
                                   GError      **error);
BB_AVAILABLE_IN_ALL
void bb_identity_unwrap_dek_async (BbIdentity         *self,
                                   const char         *namespace_id,
                                   GBytes             *wrapped_dek,
                                   GCancellable       *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer            user_data);
BB_AVAILABLE_IN_ALL
GBytes *bb_identity_unwrap_dek_finish (BbIdentity   *self,
                                       GAsyncResult *result,
                                       GError      **error);

BB_AVAILABLE_IN_ALL
void bb_identity_build_join_request_async (BbIdentity         *self,
                                           BbInvite           *invite,
                                           gint64              expires_at,
                                           GCancellable       *cancellable,
                                           GAsyncReadyCallback callback,
                                           gpointer            user_data);
BB_AVAILABLE_IN_ALL
BbJoinRequest *bb_identity_build_join_request_finish (BbIdentity   *self,
                                                      GAsyncResult *result,
                                                      GError      **error);

G_END_DECLS
