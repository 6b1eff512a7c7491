/* bb-protocol-types.h: protocol values, what the server's answers carry (small immutable
 * boxed types)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(BBSYNC_INSIDE) && !defined(BBSYNC_COMPILATION)
#error "Only <bbsync/bbsync.h> can be included directly."
#endif

#include <glib-object.h>

#include "bb-version-macros.h"

G_BEGIN_DECLS

#define BB_TYPE_CHALLENGE            (bb_challenge_get_type ())
#define BB_TYPE_LOGIN_RESULT         (bb_login_result_get_type ())
#define BB_TYPE_NAMESPACE_LISTING    (bb_namespace_listing_get_type ())
#define BB_TYPE_WATCH_RESULT         (bb_watch_result_get_type ())
#define BB_TYPE_MEMBER               (bb_member_get_type ())
#define BB_TYPE_INVITE_LISTING       (bb_invite_listing_get_type ())
#define BB_TYPE_JOIN_REQUEST         (bb_join_request_get_type ())
#define BB_TYPE_JOIN_REQUEST_LISTING (bb_join_request_listing_get_type ())
#define BB_TYPE_NAMESPACE_ITEMS      (bb_namespace_items_get_type ())
#define BB_TYPE_ITEM_ENVELOPE        (bb_item_envelope_get_type ())

typedef struct _BbChallenge          BbChallenge;
typedef struct _BbLoginResult        BbLoginResult;
typedef struct _BbNamespaceListing   BbNamespaceListing;
typedef struct _BbWatchResult        BbWatchResult;
typedef struct _BbMember             BbMember;
typedef struct _BbInviteListing      BbInviteListing;
typedef struct _BbJoinRequest        BbJoinRequest;
typedef struct _BbJoinRequestListing BbJoinRequestListing;
typedef struct _BbNamespaceItems     BbNamespaceItems;
typedef struct _BbItemEnvelope       BbItemEnvelope;

/* BbChallenge */
BB_AVAILABLE_IN_ALL
GType bb_challenge_get_type (void) G_GNUC_CONST;
BB_AVAILABLE_IN_ALL
BbChallenge *bb_challenge_ref (BbChallenge *self);
BB_AVAILABLE_IN_ALL
void bb_challenge_unref (BbChallenge *self);
BB_AVAILABLE_IN_ALL
const char *bb_challenge_get_challenge (BbChallenge *self);
BB_AVAILABLE_IN_ALL
GBytes *bb_challenge_get_bytes (BbChallenge *self);
BB_AVAILABLE_IN_ALL
GDateTime *bb_challenge_get_expires_at (BbChallenge *self);
BB_AVAILABLE_IN_ALL
const char *bb_challenge_get_spam_control_kind (BbChallenge *self);

/* BbLoginResult */
BB_AVAILABLE_IN_ALL
GType bb_login_result_get_type (void) G_GNUC_CONST;
BB_AVAILABLE_IN_ALL
BbLoginResult *bb_login_result_ref (BbLoginResult *self);
BB_AVAILABLE_IN_ALL
void bb_login_result_unref (BbLoginResult *self);
BB_AVAILABLE_IN_ALL
const char *bb_login_result_get_kind (BbLoginResult *self);
BB_AVAILABLE_IN_ALL
const char *bb_login_result_get_access_token (BbLoginResult *self);
BB_AVAILABLE_IN_ALL
GDateTime *bb_login_result_get_expires_at (BbLoginResult *self);
BB_AVAILABLE_IN_ALL
const char *bb_login_result_get_default_namespace_id (BbLoginResult *self);

/* BbNamespaceListing */
BB_AVAILABLE_IN_ALL
GType bb_namespace_listing_get_type (void) G_GNUC_CONST;
BB_AVAILABLE_IN_ALL
BbNamespaceListing *bb_namespace_listing_ref (BbNamespaceListing *self);
BB_AVAILABLE_IN_ALL
void bb_namespace_listing_unref (BbNamespaceListing *self);
BB_AVAILABLE_IN_ALL
const char *bb_namespace_listing_get_namespace_id (BbNamespaceListing *self);
BB_AVAILABLE_IN_ALL
const char *bb_namespace_listing_get_kind (BbNamespaceListing *self);
BB_AVAILABLE_IN_ALL
guint64 bb_namespace_listing_get_head (BbNamespaceListing *self);
BB_AVAILABLE_IN_ALL
GBytes *bb_namespace_listing_get_wrapped_dek (BbNamespaceListing *self);
BB_AVAILABLE_IN_ALL
gboolean bb_namespace_listing_get_created (BbNamespaceListing *self);

/* BbWatchResult */
BB_AVAILABLE_IN_ALL
GType bb_watch_result_get_type (void) G_GNUC_CONST;
BB_AVAILABLE_IN_ALL
BbWatchResult *bb_watch_result_ref (BbWatchResult *self);
BB_AVAILABLE_IN_ALL
void bb_watch_result_unref (BbWatchResult *self);
BB_AVAILABLE_IN_ALL
GPtrArray *bb_watch_result_get_namespaces (BbWatchResult *self);
BB_AVAILABLE_IN_ALL
gboolean bb_watch_result_get_timed_out (BbWatchResult *self);

/* BbMember */
BB_AVAILABLE_IN_ALL
GType bb_member_get_type (void) G_GNUC_CONST;
BB_AVAILABLE_IN_ALL
BbMember *bb_member_ref (BbMember *self);
BB_AVAILABLE_IN_ALL
void bb_member_unref (BbMember *self);
BB_AVAILABLE_IN_ALL
const char *bb_member_get_kind (BbMember *self);
BB_AVAILABLE_IN_ALL
const char *bb_member_get_key_id (BbMember *self);

/* BbInviteListing */
BB_AVAILABLE_IN_ALL
GType bb_invite_listing_get_type (void) G_GNUC_CONST;
BB_AVAILABLE_IN_ALL
BbInviteListing *bb_invite_listing_ref (BbInviteListing *self);
BB_AVAILABLE_IN_ALL
void bb_invite_listing_unref (BbInviteListing *self);
BB_AVAILABLE_IN_ALL
const char *bb_invite_listing_get_namespace_id (BbInviteListing *self);
BB_AVAILABLE_IN_ALL
const char *bb_invite_listing_get_invite_id (BbInviteListing *self);
BB_AVAILABLE_IN_ALL
const char *bb_invite_listing_get_created_by_key_id (BbInviteListing *self);
BB_AVAILABLE_IN_ALL
GDateTime *bb_invite_listing_get_created_at (BbInviteListing *self);
BB_AVAILABLE_IN_ALL
gint64 bb_invite_listing_get_expires_at (BbInviteListing *self);
BB_AVAILABLE_IN_ALL
guint bb_invite_listing_get_max_pending (BbInviteListing *self);
BB_AVAILABLE_IN_ALL
guint bb_invite_listing_get_max_accepted (BbInviteListing *self);
BB_AVAILABLE_IN_ALL
guint bb_invite_listing_get_active_request_count (BbInviteListing *self);
BB_AVAILABLE_IN_ALL
guint bb_invite_listing_get_accepted_count (BbInviteListing *self);
BB_AVAILABLE_IN_ALL
GDateTime *bb_invite_listing_get_revoked_at (BbInviteListing *self);

/* BbJoinRequest */
BB_AVAILABLE_IN_ALL
GType bb_join_request_get_type (void) G_GNUC_CONST;
BB_AVAILABLE_IN_ALL
BbJoinRequest *bb_join_request_ref (BbJoinRequest *self);
BB_AVAILABLE_IN_ALL
void bb_join_request_unref (BbJoinRequest *self);
BB_AVAILABLE_IN_ALL
guint bb_join_request_get_version (BbJoinRequest *self);
BB_AVAILABLE_IN_ALL
const char *bb_join_request_get_namespace_id (BbJoinRequest *self);
BB_AVAILABLE_IN_ALL
const char *bb_join_request_get_invite_id (BbJoinRequest *self);
BB_AVAILABLE_IN_ALL
const char *bb_join_request_get_server_origin (BbJoinRequest *self);
BB_AVAILABLE_IN_ALL
const char *bb_join_request_get_kind (BbJoinRequest *self);
BB_AVAILABLE_IN_ALL
const char *bb_join_request_get_key_id (BbJoinRequest *self);
BB_AVAILABLE_IN_ALL
const char *bb_join_request_get_auth_public_key (BbJoinRequest *self);
BB_AVAILABLE_IN_ALL
const char *bb_join_request_get_wrap_public_key (BbJoinRequest *self);
BB_AVAILABLE_IN_ALL
gint64 bb_join_request_get_expires_at (BbJoinRequest *self);
BB_AVAILABLE_IN_ALL
const char *bb_join_request_get_signature (BbJoinRequest *self);
BB_AVAILABLE_IN_ALL
const char *bb_join_request_get_invite_proof (BbJoinRequest *self);

/* BbJoinRequestListing */
BB_AVAILABLE_IN_ALL
GType bb_join_request_listing_get_type (void) G_GNUC_CONST;
BB_AVAILABLE_IN_ALL
BbJoinRequestListing *bb_join_request_listing_ref (BbJoinRequestListing *self);
BB_AVAILABLE_IN_ALL
void bb_join_request_listing_unref (BbJoinRequestListing *self);
BB_AVAILABLE_IN_ALL
const char *bb_join_request_listing_get_namespace_id (BbJoinRequestListing *self);
BB_AVAILABLE_IN_ALL
const char *bb_join_request_listing_get_invite_id (BbJoinRequestListing *self);
BB_AVAILABLE_IN_ALL
const char *bb_join_request_listing_get_join_request_hash (BbJoinRequestListing *self);
BB_AVAILABLE_IN_ALL
const char *bb_join_request_listing_get_status (BbJoinRequestListing *self);
BB_AVAILABLE_IN_ALL
const char *bb_join_request_listing_get_requester_kind (BbJoinRequestListing *self);
BB_AVAILABLE_IN_ALL
const char *bb_join_request_listing_get_requester_key_id (BbJoinRequestListing *self);
BB_AVAILABLE_IN_ALL
GDateTime *bb_join_request_listing_get_created_at (BbJoinRequestListing *self);
BB_AVAILABLE_IN_ALL
BbJoinRequest *bb_join_request_listing_get_request (BbJoinRequestListing *self);

/* BbNamespaceItems */
BB_AVAILABLE_IN_ALL
GType bb_namespace_items_get_type (void) G_GNUC_CONST;
BB_AVAILABLE_IN_ALL
BbNamespaceItems *bb_namespace_items_ref (BbNamespaceItems *self);
BB_AVAILABLE_IN_ALL
void bb_namespace_items_unref (BbNamespaceItems *self);
BB_AVAILABLE_IN_ALL
const char *bb_namespace_items_get_namespace_id (BbNamespaceItems *self);
BB_AVAILABLE_IN_ALL
guint64 bb_namespace_items_get_head (BbNamespaceItems *self);
BB_AVAILABLE_IN_ALL
guint bb_namespace_items_get_n_items (BbNamespaceItems *self);
BB_AVAILABLE_IN_ALL
char **bb_namespace_items_dup_item_ids (BbNamespaceItems *self);
BB_AVAILABLE_IN_ALL
guint64 bb_namespace_items_get_version (BbNamespaceItems *self,
                                        const char       *item_id);

/* BbItemEnvelope */
BB_AVAILABLE_IN_ALL
GType bb_item_envelope_get_type (void) G_GNUC_CONST;
BB_AVAILABLE_IN_ALL
BbItemEnvelope *bb_item_envelope_ref (BbItemEnvelope *self);
BB_AVAILABLE_IN_ALL
void bb_item_envelope_unref (BbItemEnvelope *self);
BB_AVAILABLE_IN_ALL
const char *bb_item_envelope_get_namespace_id (BbItemEnvelope *self);
BB_AVAILABLE_IN_ALL
const char *bb_item_envelope_get_item_id (BbItemEnvelope *self);
BB_AVAILABLE_IN_ALL
guint64 bb_item_envelope_get_version (BbItemEnvelope *self);
BB_AVAILABLE_IN_ALL
GBytes *bb_item_envelope_get_nonce (BbItemEnvelope *self);
BB_AVAILABLE_IN_ALL
GBytes *bb_item_envelope_get_aad (BbItemEnvelope *self);
BB_AVAILABLE_IN_ALL
GBytes *bb_item_envelope_get_ciphertext (BbItemEnvelope *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BbChallenge, bb_challenge_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BbLoginResult, bb_login_result_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BbNamespaceListing, bb_namespace_listing_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BbWatchResult, bb_watch_result_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BbMember, bb_member_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BbInviteListing, bb_invite_listing_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BbJoinRequest, bb_join_request_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BbJoinRequestListing, bb_join_request_listing_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BbNamespaceItems, bb_namespace_items_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BbItemEnvelope, bb_item_envelope_unref)

G_END_DECLS
