/* bb-open-invite.h: an open invite of a shared namespace, as a GObject
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

#define BB_TYPE_OPEN_INVITE (bb_open_invite_get_type ())

BB_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (BbOpenInvite, bb_open_invite, BB, OPEN_INVITE, GObject)

BB_AVAILABLE_IN_ALL
BbOpenInvite *bb_open_invite_new (BbInviteListing *info);
BB_AVAILABLE_IN_ALL
BbInviteListing *bb_open_invite_get_info (BbOpenInvite *self);
BB_AVAILABLE_IN_ALL
const char *bb_open_invite_get_invite_id (BbOpenInvite *self);
BB_AVAILABLE_IN_ALL
const char *bb_open_invite_get_namespace_id (BbOpenInvite *self);
BB_AVAILABLE_IN_ALL
gint64 bb_open_invite_get_expires_at (BbOpenInvite *self);
BB_AVAILABLE_IN_ALL
guint bb_open_invite_get_max_pending (BbOpenInvite *self);
BB_AVAILABLE_IN_ALL
guint bb_open_invite_get_max_accepted (BbOpenInvite *self);
BB_AVAILABLE_IN_ALL
guint bb_open_invite_get_active_request_count (BbOpenInvite *self);
BB_AVAILABLE_IN_ALL
guint bb_open_invite_get_accepted_count (BbOpenInvite *self);

G_END_DECLS
