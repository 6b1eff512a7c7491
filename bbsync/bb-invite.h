/* bb-invite.h: a shared-namespace invite token (the bitboxsync://join-namespace URI)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(BBSYNC_INSIDE) && !defined(BBSYNC_COMPILATION)
#error "Only <bbsync/bbsync.h> can be included directly."
#endif

#include <glib-object.h>

#include "bb-protocol-types.h"
#include "bb-version-macros.h"

G_BEGIN_DECLS

#define BB_TYPE_INVITE (bb_invite_get_type ())

typedef struct _BbInvite BbInvite;

BB_AVAILABLE_IN_ALL
GType bb_invite_get_type (void) G_GNUC_CONST;
BB_AVAILABLE_IN_ALL
BbInvite *bb_invite_new (const char *server_origin,
                         const char *namespace_id,
                         const char *invite_id,
                         gint64      expires_at,
                         GBytes     *invite_secret,
                         GError    **error);
BB_AVAILABLE_IN_ALL
BbInvite *bb_invite_new_from_uri (const char *uri,
                                  GError    **error);
BB_AVAILABLE_IN_ALL
BbInvite *bb_invite_ref (BbInvite *self);
BB_AVAILABLE_IN_ALL
void bb_invite_unref (BbInvite *self);
BB_AVAILABLE_IN_ALL
gchar *bb_invite_to_uri (BbInvite *self);
BB_AVAILABLE_IN_ALL
guint bb_invite_get_version (BbInvite *self);
BB_AVAILABLE_IN_ALL
const char *bb_invite_get_namespace_id (BbInvite *self);
BB_AVAILABLE_IN_ALL
const char *bb_invite_get_invite_id (BbInvite *self);
BB_AVAILABLE_IN_ALL
const char *bb_invite_get_server_origin (BbInvite *self);
BB_AVAILABLE_IN_ALL
gint64 bb_invite_get_expires_at (BbInvite *self);
BB_AVAILABLE_IN_ALL
GBytes *bb_invite_dup_server_secret (BbInvite *self);
BB_AVAILABLE_IN_ALL
gboolean bb_invite_verify_proof (BbInvite *self,
                                 GBytes   *join_request_payload,
                                 GBytes   *invite_proof,
                                 GError  **error);
BB_AVAILABLE_IN_ALL
gboolean bb_invite_verify_join_request (BbInvite             *invite,
                                        const char           *namespace_id,
                                        BbJoinRequestListing *entry,
                                        gint64                now,
                                        GError              **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BbInvite, bb_invite_unref)

G_END_DECLS
