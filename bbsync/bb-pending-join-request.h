/* bb-pending-join-request.h: a pending join request of a shared namespace, as a GObject
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

#define BB_TYPE_PENDING_JOIN_REQUEST (bb_pending_join_request_get_type ())

BB_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (BbPendingJoinRequest, bb_pending_join_request, BB, PENDING_JOIN_REQUEST, GObject)

BB_AVAILABLE_IN_ALL
BbPendingJoinRequest *bb_pending_join_request_new (BbJoinRequestListing *info);
BB_AVAILABLE_IN_ALL
BbJoinRequestListing *bb_pending_join_request_get_info (BbPendingJoinRequest *self);
BB_AVAILABLE_IN_ALL
BbJoinRequest *bb_pending_join_request_get_request (BbPendingJoinRequest *self);
BB_AVAILABLE_IN_ALL
const char *bb_pending_join_request_get_requester_key_id (BbPendingJoinRequest *self);
BB_AVAILABLE_IN_ALL
const char *bb_pending_join_request_get_namespace_id (BbPendingJoinRequest *self);
BB_AVAILABLE_IN_ALL
const char *bb_pending_join_request_get_invite_id (BbPendingJoinRequest *self);
BB_AVAILABLE_IN_ALL
const char *bb_pending_join_request_get_join_request_hash (BbPendingJoinRequest *self);

G_END_DECLS
