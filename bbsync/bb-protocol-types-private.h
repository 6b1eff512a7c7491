/* bb-protocol-types-private.h: the layouts of the BbClient result types, for the library
 * (the client fills them) and its tests (which build them to feed the engine or a server).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "bb-protocol-types.h"
#include "bb-protocol-messages-private.h"

G_BEGIN_DECLS

struct _BbChallenge
{
  gatomicrefcount ref_count;
  char *challenge; /* standard base64, exactly as received */
  GBytes *bytes;   /* the 32 decoded bytes */
  GDateTime *expires_at;
  char *spam_control_kind;
};

struct _BbLoginResult
{
  gatomicrefcount ref_count;
  char *kind;
  char *access_token; /* secret: never logged */
  GDateTime *expires_at;
  char *default_namespace_id; /* nullable */
};

struct _BbNamespaceListing
{
  gatomicrefcount ref_count;
  char *namespace_id;
  char *kind;
  guint64 head;
  GBytes *wrapped_dek; /* nullable */
  gboolean created;
};

struct _BbWatchResult
{
  gatomicrefcount ref_count;
  GPtrArray *namespaces; /* BbNamespaceListing */
  gboolean timed_out;
};

struct _BbMember
{
  gatomicrefcount ref_count;
  char *kind;
  char *key_id;
};

struct _BbInviteListing
{
  gatomicrefcount ref_count;
  char *namespace_id;
  char *invite_id;
  char *created_by_key_id; /* nullable (create response) */
  GDateTime *created_at;   /* nullable (create response) */
  gint64 expires_at;
  gboolean has_max_pending;
  guint max_pending;
  guint max_accepted;
  guint active_request_count;
  guint accepted_count;
  GDateTime *revoked_at; /* nullable */
};

struct _BbJoinRequest
{
  gatomicrefcount ref_count;
  BbMsgJoinRequest msg; /* the wire strings, verbatim */
};

struct _BbJoinRequestListing
{
  gatomicrefcount ref_count;
  char *namespace_id;
  char *invite_id;
  char *join_request_hash;
  char *status;
  char *requester_kind;
  char *requester_key_id;
  GDateTime *created_at;  /* nullable (submit response) */
  BbJoinRequest *request; /* nullable (submit response) */
};

struct _BbNamespaceItems
{
  gatomicrefcount ref_count;
  char *namespace_id;
  guint64 head;
  GHashTable *items; /* char * item ID -> guint64 * version */
};

struct _BbItemEnvelope
{
  gatomicrefcount ref_count;
  char *namespace_id;
  char *item_id;
  guint64 version;
  GBytes *nonce;
  GBytes *aad;
  GBytes *ciphertext;
};

/* Each returns a zero-filled instance with one reference. */
BbChallenge *bb_challenge_new (void);
BbLoginResult *bb_login_result_new (void);
BbNamespaceListing *bb_namespace_listing_new (void);
BbWatchResult *bb_watch_result_new (void);
BbMember *bb_member_new (void);
BbInviteListing *bb_invite_listing_new (void);
BbJoinRequest *bb_join_request_new (void);
BbJoinRequestListing *bb_join_request_listing_new (void);
BbNamespaceItems *bb_namespace_items_new (void);
BbItemEnvelope *bb_item_envelope_new (void);

/* A challenge as a server would answer it (tests, and clients replaying a stored one):
 * decodes @challenge strictly (standard base64 of 32 bytes). */
BbChallenge *bb_challenge_new_from_string (const char *challenge, GDateTime *expires_at,
                                           const char *spam_control_kind, GError **error);

G_END_DECLS
