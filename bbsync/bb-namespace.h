/* bb-namespace.h: a handle on one namespace of the engine's identity
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(BBSYNC_INSIDE) && !defined(BBSYNC_COMPILATION)
#error "Only <bbsync/bbsync.h> can be included directly."
#endif

#include <gio/gio.h>

#include "bb-version-macros.h"
#include "bb-codec.h"
#include "bb-collection.h"
#include "bb-value-backend.h"
#include "bb-protocol-types.h"
#include "bb-invite.h"

G_BEGIN_DECLS

#define BB_TYPE_NAMESPACE (bb_namespace_get_type ())

BB_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (BbNamespace, bb_namespace, BB, NAMESPACE, GObject)

BB_AVAILABLE_IN_ALL
const char *bb_namespace_get_id (BbNamespace *self);
BB_AVAILABLE_IN_ALL
const char *bb_namespace_get_kind (BbNamespace *self);
BB_AVAILABLE_IN_ALL
void bb_namespace_list_members_async (BbNamespace        *self,
                                      GCancellable       *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer            user_data);
BB_AVAILABLE_IN_ALL
GPtrArray *bb_namespace_list_members_finish (BbNamespace  *self,
                                             GAsyncResult *result,
                                             GError      **error);
BB_AVAILABLE_IN_ALL
BbCollection *bb_namespace_open_collection (BbNamespace    *self,
                                            const char     *name,
                                            BbCodec        *codec,
                                            BbValueBackend *backend,
                                            GError        **error);
BB_AVAILABLE_IN_ALL
BbCollection *bb_namespace_get_collection (BbNamespace *self,
                                           const char  *name);

BB_AVAILABLE_IN_ALL
void bb_namespace_create_invite_async (BbNamespace        *self,
                                       const char         *server_origin,
                                       guint               ttl_seconds,
                                       guint               max_accepted,
                                       guint               max_pending,
                                       GCancellable       *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer            user_data);
BB_AVAILABLE_IN_ALL
BbInvite *bb_namespace_create_invite_finish (BbNamespace  *self,
                                             GAsyncResult *result,
                                             GError      **error);
BB_AVAILABLE_IN_ALL
void bb_namespace_refresh_join_requests_async (BbNamespace        *self,
                                               GCancellable       *cancellable,
                                               GAsyncReadyCallback callback,
                                               gpointer            user_data);
BB_AVAILABLE_IN_ALL
gboolean bb_namespace_refresh_join_requests_finish (BbNamespace  *self,
                                                    GAsyncResult *result,
                                                    GError      **error);
BB_AVAILABLE_IN_ALL
GListModel *bb_namespace_get_join_requests (BbNamespace *self);
BB_AVAILABLE_IN_ALL
void bb_namespace_approve_join_request_async (BbNamespace        *self,
                                              BbJoinRequest      *request,
                                              GCancellable       *cancellable,
                                              GAsyncReadyCallback callback,
                                              gpointer            user_data);
BB_AVAILABLE_IN_ALL
gboolean bb_namespace_approve_join_request_finish (BbNamespace  *self,
                                                   GAsyncResult *result,
                                                   GError      **error);
BB_AVAILABLE_IN_ALL
void bb_namespace_approve_join_request_with_invite_async (BbNamespace        *self,
                                                          BbJoinRequest      *request,
                                                          BbInvite           *invite,
                                                          GCancellable       *cancellable,
                                                          GAsyncReadyCallback callback,
                                                          gpointer            user_data);
BB_AVAILABLE_IN_ALL
gboolean bb_namespace_approve_join_request_with_invite_finish (BbNamespace  *self,
                                                               GAsyncResult *result,
                                                               GError      **error);
BB_AVAILABLE_IN_ALL
void bb_namespace_reject_join_request_async (BbNamespace        *self,
                                             BbJoinRequest      *request,
                                             GCancellable       *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer            user_data);
BB_AVAILABLE_IN_ALL
gboolean bb_namespace_reject_join_request_finish (BbNamespace  *self,
                                                  GAsyncResult *result,
                                                  GError      **error);
BB_AVAILABLE_IN_ALL
void bb_namespace_revoke_invite_async (BbNamespace        *self,
                                       const char         *invite_id,
                                       GCancellable       *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer            user_data);
BB_AVAILABLE_IN_ALL
gboolean bb_namespace_revoke_invite_finish (BbNamespace  *self,
                                            GAsyncResult *result,
                                            GError      **error);
BB_AVAILABLE_IN_ALL
void bb_namespace_refresh_invites_async (BbNamespace        *self,
                                         GCancellable       *cancellable,
                                         GAsyncReadyCallback callback,
                                         gpointer            user_data);
BB_AVAILABLE_IN_ALL
gboolean bb_namespace_refresh_invites_finish (BbNamespace  *self,
                                              GAsyncResult *result,
                                              GError      **error);
BB_AVAILABLE_IN_ALL
GListModel *bb_namespace_get_invites (BbNamespace *self);

G_END_DECLS
