/* bb-protocol-types.c: protocol values, what the server's answers carry
 *
 * These are immutable, reference-counted boxed types: the client fills them from a
 * validated server answer and hands them out; apps only read them. They are named after
 * the wire (a namespace, invite or join request "listing" is the server's description of
 * one), apart from the engine's live objects (BbNamespace, BbOpenInvite,
 * BbPendingJoinRequest) and the store's records (BbNamespaceState and the other *State).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-protocol-types-private.h"

#include "bb-i18n-private.h"
#include <string.h>

#include "bb-crypto-private.h"
#include "bb-error.h"
#include "bb-protocol.h"

/**
 * BbChallenge:
 *
 * A challenge of `POST /v1/auth/challenge`, as
 * [method@BbSync.Client.request_challenge_async] returns it.
 *
 * Since: 0.1
 */

G_DEFINE_BOXED_TYPE (BbChallenge, bb_challenge, bb_challenge_ref, bb_challenge_unref)

BbChallenge *
bb_challenge_new (void)
{
  BbChallenge *self = g_new0 (BbChallenge, 1);

  g_atomic_ref_count_init (&self->ref_count);
  return self;
}

/**
 * bb_challenge_ref:
 * @self: a [struct@BbSync.Challenge]
 *
 * Acquires a reference on @self.
 *
 * Returns: (transfer full): @self
 *
 * Since: 0.1
 */
BbChallenge *
bb_challenge_ref (BbChallenge *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * bb_challenge_unref:
 * @self: (transfer full): a [struct@BbSync.Challenge]
 *
 * Releases a reference on @self, freeing it when the last one goes.
 *
 * Since: 0.1
 */
void
bb_challenge_unref (BbChallenge *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_free (self->challenge);
  g_clear_pointer (&self->bytes, g_bytes_unref);
  g_clear_pointer (&self->expires_at, g_date_time_unref);
  g_free (self->spam_control_kind);
  g_free (self);
}

/**
 * bb_challenge_get_challenge:
 * @self: a [struct@BbSync.Challenge]
 *
 * Gets the challenge string exactly as the server sent it, in standard base64. The
 * request that answers the challenge sends this string back unchanged, so it is kept as
 * received rather than re-encoded from [method@BbSync.Challenge.get_bytes].
 *
 * Returns: (transfer none): the challenge, in standard base64
 *
 * Since: 0.1
 */
const char *
bb_challenge_get_challenge (BbChallenge *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->challenge;
}

/**
 * bb_challenge_get_bytes:
 * @self: a [struct@BbSync.Challenge]
 *
 * Gets the decoded challenge, %BB_PROTOCOL_CHALLENGE_SIZE bytes. These are the bytes the
 * identity signs inside a login, refresh or sensitive-action intent.
 *
 * Returns: (transfer none): the decoded challenge
 *
 * Since: 0.1
 */
GBytes *
bb_challenge_get_bytes (BbChallenge *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->bytes;
}

/**
 * bb_challenge_get_expires_at:
 * @self: a [struct@BbSync.Challenge]
 *
 * Gets the time until which the server accepts an answer to the challenge. A flow that
 * waits for a user (a hardware keystore asking for confirmation) may outlive it and has
 * to request a new challenge.
 *
 * Returns: (transfer none): when the challenge expires
 *
 * Since: 0.1
 */
GDateTime *
bb_challenge_get_expires_at (BbChallenge *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->expires_at;
}

/**
 * bb_challenge_get_spam_control_kind:
 * @self: a [struct@BbSync.Challenge]
 *
 * Gets the spam control the server asks for with this challenge:
 * %BB_PROTOCOL_SPAM_CONTROL_NONE, or %BB_PROTOCOL_SPAM_CONTROL_ATTEST when a login or
 * refresh must also carry an attestation ([method@BbSync.Identity.attest_async]).
 *
 * Returns: (transfer none): the spam-control kind
 *
 * Since: 0.1
 */
const char *
bb_challenge_get_spam_control_kind (BbChallenge *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->spam_control_kind;
}

/**
 * BbLoginResult:
 *
 * The answer to a login or a refresh: a bearer token and its expiry.
 *
 * Since: 0.1
 */

G_DEFINE_BOXED_TYPE (BbLoginResult, bb_login_result, bb_login_result_ref, bb_login_result_unref)

BbLoginResult *
bb_login_result_new (void)
{
  BbLoginResult *self = g_new0 (BbLoginResult, 1);

  g_atomic_ref_count_init (&self->ref_count);
  return self;
}

/**
 * bb_login_result_ref:
 * @self: a [struct@BbSync.LoginResult]
 *
 * Acquires a reference on @self.
 *
 * Returns: (transfer full): @self
 *
 * Since: 0.1
 */
BbLoginResult *
bb_login_result_ref (BbLoginResult *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * bb_login_result_unref:
 * @self: (transfer full): a [struct@BbSync.LoginResult]
 *
 * Releases a reference on @self, freeing it when the last one goes.
 *
 * Since: 0.1
 */
void
bb_login_result_unref (BbLoginResult *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;
  if (self->access_token != NULL)
    bb_crypto_wipe (self->access_token, strlen (self->access_token));
  g_free (self->access_token);
  g_free (self->kind);
  g_clear_pointer (&self->expires_at, g_date_time_unref);
  g_free (self->default_namespace_id);
  g_free (self);
}

/**
 * bb_login_result_get_kind:
 * @self: a [struct@BbSync.LoginResult]
 *
 * Gets the identity kind of the key that signed in, as the server echoed it; the client
 * has checked it equals the kind it sent.
 *
 * Returns: (transfer none): the identity kind the server echoed
 *
 * Since: 0.1
 */
const char *
bb_login_result_get_kind (BbLoginResult *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->kind;
}

/**
 * bb_login_result_get_access_token:
 * @self: a [struct@BbSync.LoginResult]
 *
 * Gets the bearer token the server issued. The client that logged in already sends it
 * with later calls ([property@BbSync.Client:access-token]). It is a secret: never log
 * it. The string is owned by @self, which wipes it when freed.
 *
 * Returns: (transfer none): the bearer token
 *
 * Since: 0.1
 */
const char *
bb_login_result_get_access_token (BbLoginResult *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->access_token;
}

/**
 * bb_login_result_get_expires_at:
 * @self: a [struct@BbSync.LoginResult]
 *
 * Gets the time the server set for the token to expire. The sync engine refreshes the
 * token [property@BbSync.SyncEngine:refresh-skew] seconds before it.
 *
 * Returns: (transfer none): when the token expires
 *
 * Since: 0.1
 */
GDateTime *
bb_login_result_get_expires_at (BbLoginResult *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->expires_at;
}

/**
 * bb_login_result_get_default_namespace_id:
 * @self: a [struct@BbSync.LoginResult]
 *
 * Gets the ID of the caller's default namespace, if the login answer carried one. A key
 * that never created one has none yet, and a refresh answer never carries it.
 *
 * Returns: (transfer none) (nullable): the caller's default namespace ID (lower-case hex), or %NULL
 * if it has none yet (always %NULL after a refresh)
 *
 * Since: 0.1
 */
const char *
bb_login_result_get_default_namespace_id (BbLoginResult *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->default_namespace_id;
}

/**
 * BbNamespaceListing:
 *
 * A namespace as the server describes it (default-namespace, create, list and watch
 * answers): a protocol value. The engine's live namespace, with its collections, is a
 * [class@BbSync.Namespace]; what the store keeps about a namespace between runs (its key,
 * reconciled head and active scope) is a [class@BbSync.NamespaceState].
 *
 * Since: 0.1
 */

G_DEFINE_BOXED_TYPE (BbNamespaceListing, bb_namespace_listing, bb_namespace_listing_ref,
                     bb_namespace_listing_unref)

BbNamespaceListing *
bb_namespace_listing_new (void)
{
  BbNamespaceListing *self = g_new0 (BbNamespaceListing, 1);

  g_atomic_ref_count_init (&self->ref_count);
  return self;
}

/**
 * bb_namespace_listing_ref:
 * @self: a [struct@BbSync.NamespaceListing]
 *
 * Acquires a reference on @self.
 *
 * Returns: (transfer full): @self
 *
 * Since: 0.1
 */
BbNamespaceListing *
bb_namespace_listing_ref (BbNamespaceListing *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * bb_namespace_listing_unref:
 * @self: (transfer full): a [struct@BbSync.NamespaceListing]
 *
 * Releases a reference on @self, freeing it when the last one goes.
 *
 * Since: 0.1
 */
void
bb_namespace_listing_unref (BbNamespaceListing *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_free (self->namespace_id);
  g_free (self->kind);
  g_clear_pointer (&self->wrapped_dek, g_bytes_unref);
  g_free (self);
}

/**
 * bb_namespace_listing_get_namespace_id:
 * @self: a [struct@BbSync.NamespaceListing]
 *
 * Gets the ID of the namespace, as 32 lower-case hex characters.
 *
 * Returns: (transfer none): the namespace ID (lower-case hex of 16 bytes)
 *
 * Since: 0.1
 */
const char *
bb_namespace_listing_get_namespace_id (BbNamespaceListing *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->namespace_id;
}

/**
 * bb_namespace_listing_get_kind:
 * @self: a [struct@BbSync.NamespaceListing]
 *
 * Gets the kind of the namespace: %BB_PROTOCOL_NAMESPACE_KIND_DEFAULT or
 * %BB_PROTOCOL_NAMESPACE_KIND_SHARED. The client rejects an answer with any other kind.
 *
 * Returns: (transfer none): the namespace kind, `default` or `shared`
 *
 * Since: 0.1
 */
const char *
bb_namespace_listing_get_kind (BbNamespaceListing *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->kind;
}

/**
 * bb_namespace_listing_get_head:
 * @self: a [struct@BbSync.NamespaceListing]
 *
 * Gets the head of the namespace: the server's change counter, which grows by one with
 * every item written in the namespace. Comparing it with the last head seen tells
 * whether anything changed. Answers that carry no head give 0.
 *
 * Returns: the namespace head (0 where the answer carries none)
 *
 * Since: 0.1
 */
guint64
bb_namespace_listing_get_head (BbNamespaceListing *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->head;
}

/**
 * bb_namespace_listing_get_wrapped_dek:
 * @self: a [struct@BbSync.NamespaceListing]
 *
 * Gets the namespace key wrapped to the caller's wrap key, %BB_PROTOCOL_WRAPPED_DEK_SIZE
 * bytes, for answers that carry one. Only the caller's identity can unwrap it
 * ([method@BbSync.Identity.unwrap_dek_async]).
 *
 * Returns: (transfer none) (nullable): the caller's wrapped DEK (97 bytes) where the answer carries
 * one ([method@BbSync.Client.ensure_default_namespace_async]), else %NULL
 *
 * Since: 0.1
 */
GBytes *
bb_namespace_listing_get_wrapped_dek (BbNamespaceListing *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->wrapped_dek;
}

/**
 * bb_namespace_listing_get_created:
 * @self: a [struct@BbSync.NamespaceListing]
 *
 * Gets whether the call created the namespace. For
 * [method@BbSync.Client.ensure_default_namespace_async], %FALSE means the key already
 * had a default namespace, which the answer describes instead of the proposed one.
 *
 * Returns: whether the call created the namespace
 *
 * Since: 0.1
 */
gboolean
bb_namespace_listing_get_created (BbNamespaceListing *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->created;
}

/**
 * BbWatchResult:
 *
 * The answer to a long poll of [method@BbSync.Client.watch_async].
 *
 * Since: 0.1
 */

G_DEFINE_BOXED_TYPE (BbWatchResult, bb_watch_result, bb_watch_result_ref, bb_watch_result_unref)

BbWatchResult *
bb_watch_result_new (void)
{
  BbWatchResult *self = g_new0 (BbWatchResult, 1);

  g_atomic_ref_count_init (&self->ref_count);
  return self;
}

/**
 * bb_watch_result_ref:
 * @self: a [struct@BbSync.WatchResult]
 *
 * Acquires a reference on @self.
 *
 * Returns: (transfer full): @self
 *
 * Since: 0.1
 */
BbWatchResult *
bb_watch_result_ref (BbWatchResult *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * bb_watch_result_unref:
 * @self: (transfer full): a [struct@BbSync.WatchResult]
 *
 * Releases a reference on @self, freeing it when the last one goes.
 *
 * Since: 0.1
 */
void
bb_watch_result_unref (BbWatchResult *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_clear_pointer (&self->namespaces, g_ptr_array_unref);
  g_free (self);
}

/**
 * bb_watch_result_get_namespaces:
 * @self: a [struct@BbSync.WatchResult]
 *
 * Gets the namespaces whose head differs from the heads given to
 * [method@BbSync.Client.watch_async], each with its current head. The array is owned by
 * @self.
 *
 * Returns: (transfer none) (element-type BbNamespaceListing): the namespaces whose head differs from
 * the known heads
 *
 * Since: 0.1
 */
GPtrArray *
bb_watch_result_get_namespaces (BbWatchResult *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->namespaces;
}

/**
 * bb_watch_result_get_timed_out:
 * @self: a [struct@BbSync.WatchResult]
 *
 * Gets whether the server's long poll ended without any change; the caller then simply
 * watches again.
 *
 * Returns: whether the server's wait ended without a change
 *
 * Since: 0.1
 */
gboolean
bb_watch_result_get_timed_out (BbWatchResult *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->timed_out;
}

/**
 * BbMember:
 *
 * A member of a namespace.
 *
 * Since: 0.1
 */

G_DEFINE_BOXED_TYPE (BbMember, bb_member, bb_member_ref, bb_member_unref)

BbMember *
bb_member_new (void)
{
  BbMember *self = g_new0 (BbMember, 1);

  g_atomic_ref_count_init (&self->ref_count);
  return self;
}

/**
 * bb_member_ref:
 * @self: a [struct@BbSync.Member]
 *
 * Acquires a reference on @self.
 *
 * Returns: (transfer full): @self
 *
 * Since: 0.1
 */
BbMember *
bb_member_ref (BbMember *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * bb_member_unref:
 * @self: (transfer full): a [struct@BbSync.Member]
 *
 * Releases a reference on @self, freeing it when the last one goes.
 *
 * Since: 0.1
 */
void
bb_member_unref (BbMember *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_free (self->kind);
  g_free (self->key_id);
  g_free (self);
}

/**
 * bb_member_get_kind:
 * @self: a [struct@BbSync.Member]
 *
 * Gets the identity kind of the member, %BB_PROTOCOL_KIND_KEYSTORE in protocol v1.
 *
 * Returns: (transfer none): the member's identity kind
 *
 * Since: 0.1
 */
const char *
bb_member_get_kind (BbMember *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->kind;
}

/**
 * bb_member_get_key_id:
 * @self: a [struct@BbSync.Member]
 *
 * Gets the key ID of the member: 64 lower-case hex characters, the SHA-256 of its auth
 * public key.
 *
 * Returns: (transfer none): the member's key ID (lower-case hex of 32 bytes)
 *
 * Since: 0.1
 */
const char *
bb_member_get_key_id (BbMember *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->key_id;
}

/**
 * BbInviteListing:
 *
 * An invite as the server describes it (create and list answers): a protocol value. The
 * engine lists the open invites of a namespace as [class@BbSync.OpenInvite]s.
 *
 * Since: 0.1
 */

G_DEFINE_BOXED_TYPE (BbInviteListing, bb_invite_listing, bb_invite_listing_ref, bb_invite_listing_unref)

BbInviteListing *
bb_invite_listing_new (void)
{
  BbInviteListing *self = g_new0 (BbInviteListing, 1);

  g_atomic_ref_count_init (&self->ref_count);
  return self;
}

/**
 * bb_invite_listing_ref:
 * @self: a [struct@BbSync.InviteListing]
 *
 * Acquires a reference on @self.
 *
 * Returns: (transfer full): @self
 *
 * Since: 0.1
 */
BbInviteListing *
bb_invite_listing_ref (BbInviteListing *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * bb_invite_listing_unref:
 * @self: (transfer full): a [struct@BbSync.InviteListing]
 *
 * Releases a reference on @self, freeing it when the last one goes.
 *
 * Since: 0.1
 */
void
bb_invite_listing_unref (BbInviteListing *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_free (self->namespace_id);
  g_free (self->invite_id);
  g_free (self->created_by_key_id);
  g_clear_pointer (&self->created_at, g_date_time_unref);
  g_clear_pointer (&self->revoked_at, g_date_time_unref);
  g_free (self);
}

/**
 * bb_invite_listing_get_namespace_id:
 * @self: a [struct@BbSync.InviteListing]
 *
 * Gets the ID of the namespace the invite admits to, as 32 lower-case hex characters.
 *
 * Returns: (transfer none): the namespace ID
 *
 * Since: 0.1
 */
const char *
bb_invite_listing_get_namespace_id (BbInviteListing *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->namespace_id;
}

/**
 * bb_invite_listing_get_invite_id:
 * @self: a [struct@BbSync.InviteListing]
 *
 * Gets the ID of the invite, the one its invite URI carries.
 *
 * Returns: (transfer none): the invite ID (lower-case hex of 16 bytes)
 *
 * Since: 0.1
 */
const char *
bb_invite_listing_get_invite_id (BbInviteListing *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->invite_id;
}

/**
 * bb_invite_listing_get_created_by_key_id:
 * @self: a [struct@BbSync.InviteListing]
 *
 * Gets the key ID of the member who created the invite. Only the answers of
 * [method@BbSync.Client.list_invites_async] carry it.
 *
 * Returns: (transfer none) (nullable): the key ID of the creator, or %NULL in a create answer
 *
 * Since: 0.1
 */
const char *
bb_invite_listing_get_created_by_key_id (BbInviteListing *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->created_by_key_id;
}

/**
 * bb_invite_listing_get_created_at:
 * @self: a [struct@BbSync.InviteListing]
 *
 * Gets when the invite was created. Only the answers of
 * [method@BbSync.Client.list_invites_async] carry it.
 *
 * Returns: (transfer none) (nullable): when the invite was created, or %NULL in a create answer
 *
 * Since: 0.1
 */
GDateTime *
bb_invite_listing_get_created_at (BbInviteListing *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->created_at;
}

/**
 * bb_invite_listing_get_expires_at:
 * @self: a [struct@BbSync.InviteListing]
 *
 * Gets when the invite expires, in Unix seconds (UTC). After that the server accepts no
 * join request through it.
 *
 * Returns: the expiry in Unix seconds
 *
 * Since: 0.1
 */
gint64
bb_invite_listing_get_expires_at (BbInviteListing *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->expires_at;
}

/**
 * bb_invite_listing_get_max_pending:
 * @self: a [struct@BbSync.InviteListing]
 *
 * Gets how many join requests may wait through the invite at once. Servers of the
 * protocol variant without a per-invite limit (what the BitBox02 firmware signs) carry
 * none, and this is 0.
 *
 * Returns: the per-invite pending-request limit, or 0 when the server uses the variant without one
 *
 * Since: 0.1
 */
guint
bb_invite_listing_get_max_pending (BbInviteListing *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->max_pending;
}

/**
 * bb_invite_listing_get_max_accepted:
 * @self: a [struct@BbSync.InviteListing]
 *
 * Gets how many join requests the invite may admit in all; after that many approvals the
 * invite is used up.
 *
 * Returns: how many requests the invite may admit
 *
 * Since: 0.1
 */
guint
bb_invite_listing_get_max_accepted (BbInviteListing *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->max_accepted;
}

/**
 * bb_invite_listing_get_active_request_count:
 * @self: a [struct@BbSync.InviteListing]
 *
 * Gets how many join requests through the invite are pending. Only the answers of
 * [method@BbSync.Client.list_invites_async] carry it.
 *
 * Returns: the pending requests (list answers; 0 otherwise)
 *
 * Since: 0.1
 */
guint
bb_invite_listing_get_active_request_count (BbInviteListing *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->active_request_count;
}

/**
 * bb_invite_listing_get_accepted_count:
 * @self: a [struct@BbSync.InviteListing]
 *
 * Gets how many join requests through the invite were approved. Only the answers of
 * [method@BbSync.Client.list_invites_async] carry it.
 *
 * Returns: the approved requests (list answers; 0 otherwise)
 *
 * Since: 0.1
 */
guint
bb_invite_listing_get_accepted_count (BbInviteListing *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->accepted_count;
}

/**
 * bb_invite_listing_get_revoked_at:
 * @self: a [struct@BbSync.InviteListing]
 *
 * Gets when the invite was revoked. A listed invite that is still open has no revocation
 * time.
 *
 * Returns: (transfer none) (nullable): when the invite was revoked, or %NULL
 *
 * Since: 0.1
 */
GDateTime *
bb_invite_listing_get_revoked_at (BbInviteListing *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->revoked_at;
}

/**
 * BbJoinRequest:
 *
 * A signed join request, with the wire strings exactly as signed (see
 * [method@BbSync.Identity.build_join_request_async]): the protocol value a joiner sends
 * and an approver checks. The server's description of a submitted request is a
 * [struct@BbSync.JoinRequestListing].
 *
 * Since: 0.1
 */

G_DEFINE_BOXED_TYPE (BbJoinRequest, bb_join_request, bb_join_request_ref, bb_join_request_unref)

BbJoinRequest *
bb_join_request_new (void)
{
  BbJoinRequest *self = g_new0 (BbJoinRequest, 1);

  g_atomic_ref_count_init (&self->ref_count);
  return self;
}

/**
 * bb_join_request_ref:
 * @self: a [struct@BbSync.JoinRequest]
 *
 * Acquires a reference on @self.
 *
 * Returns: (transfer full): @self
 *
 * Since: 0.1
 */
BbJoinRequest *
bb_join_request_ref (BbJoinRequest *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * bb_join_request_unref:
 * @self: (transfer full): a [struct@BbSync.JoinRequest]
 *
 * Releases a reference on @self, freeing it when the last one goes.
 *
 * Since: 0.1
 */
void
bb_join_request_unref (BbJoinRequest *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;
  bb_msg_join_request_clear (&self->msg);
  g_free (self);
}

/**
 * bb_join_request_get_version:
 * @self: a [struct@BbSync.JoinRequest]
 *
 * Gets the version of the join-request format, 1 in protocol v1.
 *
 * Returns: the join-request version (1)
 *
 * Since: 0.1
 */
guint
bb_join_request_get_version (BbJoinRequest *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->msg.version;
}

/**
 * bb_join_request_get_namespace_id:
 * @self: a [struct@BbSync.JoinRequest]
 *
 * Gets the ID of the namespace the requester asks to join, as signed.
 *
 * Returns: (transfer none): the namespace ID
 *
 * Since: 0.1
 */
const char *
bb_join_request_get_namespace_id (BbJoinRequest *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->msg.namespace_id;
}

/**
 * bb_join_request_get_invite_id:
 * @self: a [struct@BbSync.JoinRequest]
 *
 * Gets the ID of the invite the request goes through, as signed.
 *
 * Returns: (transfer none): the invite ID
 *
 * Since: 0.1
 */
const char *
bb_join_request_get_invite_id (BbJoinRequest *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->msg.invite_id;
}

/**
 * bb_join_request_get_server_origin:
 * @self: a [struct@BbSync.JoinRequest]
 *
 * Gets the canonical origin of the server the invite was made on, as signed. It binds
 * the request to that server ([func@BbSync.protocol_canonical_origin]).
 *
 * Returns: (transfer none): the canonical server origin
 *
 * Since: 0.1
 */
const char *
bb_join_request_get_server_origin (BbJoinRequest *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->msg.server_origin;
}

/**
 * bb_join_request_get_kind:
 * @self: a [struct@BbSync.JoinRequest]
 *
 * Gets the identity kind of the requester, as signed.
 *
 * Returns: (transfer none): the requester's identity kind
 *
 * Since: 0.1
 */
const char *
bb_join_request_get_kind (BbJoinRequest *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->msg.kind;
}

/**
 * bb_join_request_get_key_id:
 * @self: a [struct@BbSync.JoinRequest]
 *
 * Gets the key ID of the requester, as signed: the SHA-256 of its auth public key in
 * lower-case hex.
 *
 * Returns: (transfer none): the requester's key ID
 *
 * Since: 0.1
 */
const char *
bb_join_request_get_key_id (BbJoinRequest *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->msg.key_id;
}

/**
 * bb_join_request_get_auth_public_key:
 * @self: a [struct@BbSync.JoinRequest]
 *
 * Gets the requester's Ed25519 auth public key, in lower-case hex as sent. It verifies
 * the request's signature.
 *
 * Returns: (transfer none): the requester's Ed25519 public key (hex)
 *
 * Since: 0.1
 */
const char *
bb_join_request_get_auth_public_key (BbJoinRequest *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->msg.auth_public_key;
}

/**
 * bb_join_request_get_wrap_public_key:
 * @self: a [struct@BbSync.JoinRequest]
 *
 * Gets the requester's X25519 wrap public key, in lower-case hex as sent. The approving
 * member wraps the namespace key to it.
 *
 * Returns: (transfer none): the requester's X25519 public key (hex)
 *
 * Since: 0.1
 */
const char *
bb_join_request_get_wrap_public_key (BbJoinRequest *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->msg.wrap_public_key;
}

/**
 * bb_join_request_get_expires_at:
 * @self: a [struct@BbSync.JoinRequest]
 *
 * Gets when the request expires, in Unix seconds (UTC). Servers accept a request only if
 * it expires before the invite does and at most %BB_PROTOCOL_MAX_JOIN_REQUEST_TTL
 * seconds ahead.
 *
 * Returns: the expiry in Unix seconds
 *
 * Since: 0.1
 */
gint64
bb_join_request_get_expires_at (BbJoinRequest *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->msg.expires_at;
}

/**
 * bb_join_request_get_signature:
 * @self: a [struct@BbSync.JoinRequest]
 *
 * Gets the requester's Ed25519 signature of the join-request payload, in lower-case hex.
 *
 * Returns: (transfer none): the Ed25519 signature of the payload (hex)
 *
 * Since: 0.1
 */
const char *
bb_join_request_get_signature (BbJoinRequest *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->msg.signature;
}

/**
 * bb_join_request_get_invite_proof:
 * @self: a [struct@BbSync.JoinRequest]
 *
 * Gets the invite proof, in unpadded base64url: it shows the requester knows the invite
 * secret without revealing it ([func@BbSync.protocol_invite_proof]).
 *
 * Returns: (transfer none): the invite proof (unpadded base64url)
 *
 * Since: 0.1
 */
const char *
bb_join_request_get_invite_proof (BbJoinRequest *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->msg.invite_proof;
}

/**
 * BbJoinRequestListing:
 *
 * A join request as the server describes it (submit and list answers), with its status: a
 * protocol value. The engine lists the pending ones as [class@BbSync.PendingJoinRequest]s.
 *
 * Since: 0.1
 */

G_DEFINE_BOXED_TYPE (BbJoinRequestListing, bb_join_request_listing, bb_join_request_listing_ref,
                     bb_join_request_listing_unref)

BbJoinRequestListing *
bb_join_request_listing_new (void)
{
  BbJoinRequestListing *self = g_new0 (BbJoinRequestListing, 1);

  g_atomic_ref_count_init (&self->ref_count);
  return self;
}

/**
 * bb_join_request_listing_ref:
 * @self: a [struct@BbSync.JoinRequestListing]
 *
 * Acquires a reference on @self.
 *
 * Returns: (transfer full): @self
 *
 * Since: 0.1
 */
BbJoinRequestListing *
bb_join_request_listing_ref (BbJoinRequestListing *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * bb_join_request_listing_unref:
 * @self: (transfer full): a [struct@BbSync.JoinRequestListing]
 *
 * Releases a reference on @self, freeing it when the last one goes.
 *
 * Since: 0.1
 */
void
bb_join_request_listing_unref (BbJoinRequestListing *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_free (self->namespace_id);
  g_free (self->invite_id);
  g_free (self->join_request_hash);
  g_free (self->status);
  g_free (self->requester_kind);
  g_free (self->requester_key_id);
  g_clear_pointer (&self->created_at, g_date_time_unref);
  g_clear_pointer (&self->request, bb_join_request_unref);
  g_free (self);
}

/**
 * bb_join_request_listing_get_namespace_id:
 * @self: a [struct@BbSync.JoinRequestListing]
 *
 * Gets the ID of the namespace the request asks to join.
 *
 * Returns: (transfer none): the namespace ID
 *
 * Since: 0.1
 */
const char *
bb_join_request_listing_get_namespace_id (BbJoinRequestListing *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->namespace_id;
}

/**
 * bb_join_request_listing_get_invite_id:
 * @self: a [struct@BbSync.JoinRequestListing]
 *
 * Gets the ID of the invite the request came through. A submit answer for a requester
 * that already has a pending request in the namespace describes that earlier request,
 * which may name another invite.
 *
 * Returns: (transfer none): the invite the request came through (in a submit answer it may name an
 * earlier pending request)
 *
 * Since: 0.1
 */
const char *
bb_join_request_listing_get_invite_id (BbJoinRequestListing *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->invite_id;
}

/**
 * bb_join_request_listing_get_join_request_hash:
 * @self: a [struct@BbSync.JoinRequestListing]
 *
 * Gets the join-request hash, the stable ID of the request: the SHA-256 of its payload
 * in lower-case hex ([func@BbSync.protocol_join_request_hash]). Approvals and rejections
 * name the request by it.
 *
 * Returns: (transfer none): the join-request hash (lower-case hex of 32 bytes)
 *
 * Since: 0.1
 */
const char *
bb_join_request_listing_get_join_request_hash (BbJoinRequestListing *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->join_request_hash;
}

/**
 * bb_join_request_listing_get_status:
 * @self: a [struct@BbSync.JoinRequestListing]
 *
 * Gets the status of the request, %BB_PROTOCOL_JOIN_STATUS_PENDING: the server lists and
 * answers with pending requests only.
 *
 * Returns: (transfer none): the status, `pending`
 *
 * Since: 0.1
 */
const char *
bb_join_request_listing_get_status (BbJoinRequestListing *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->status;
}

/**
 * bb_join_request_listing_get_requester_kind:
 * @self: a [struct@BbSync.JoinRequestListing]
 *
 * Gets the identity kind of the requester.
 *
 * Returns: (transfer none): the requester's identity kind
 *
 * Since: 0.1
 */
const char *
bb_join_request_listing_get_requester_kind (BbJoinRequestListing *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->requester_kind;
}

/**
 * bb_join_request_listing_get_requester_key_id:
 * @self: a [struct@BbSync.JoinRequestListing]
 *
 * Gets the key ID of the requester, in lower-case hex: the key ID inside the signed
 * request (the client rejects a submit answer where they differ).
 *
 * Returns: (transfer none): the requester's key ID
 *
 * Since: 0.1
 */
const char *
bb_join_request_listing_get_requester_key_id (BbJoinRequestListing *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->requester_key_id;
}

/**
 * bb_join_request_listing_get_created_at:
 * @self: a [struct@BbSync.JoinRequestListing]
 *
 * Gets when the server received the request. Only the answers of
 * [method@BbSync.Client.list_join_requests_async] carry it.
 *
 * Returns: (transfer none) (nullable): when the request was made, or %NULL in a submit answer
 *
 * Since: 0.1
 */
GDateTime *
bb_join_request_listing_get_created_at (BbJoinRequestListing *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->created_at;
}

/**
 * bb_join_request_listing_get_request:
 * @self: a [struct@BbSync.JoinRequestListing]
 *
 * Gets the signed join request as the server stored it, for the approving member to
 * verify before it wraps the namespace key to the requester. Only the answers of
 * [method@BbSync.Client.list_join_requests_async] carry it.
 *
 * Returns: (transfer none) (nullable): the signed request as stored by the server, or %NULL in a
 * submit answer
 *
 * Since: 0.1
 */
BbJoinRequest *
bb_join_request_listing_get_request (BbJoinRequestListing *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->request;
}

/**
 * BbNamespaceItems:
 *
 * The authoritative item versions of a namespace ([method@BbSync.Client.get_items_async]).
 *
 * Since: 0.1
 */

G_DEFINE_BOXED_TYPE (BbNamespaceItems, bb_namespace_items, bb_namespace_items_ref,
                     bb_namespace_items_unref)

BbNamespaceItems *
bb_namespace_items_new (void)
{
  BbNamespaceItems *self = g_new0 (BbNamespaceItems, 1);

  g_atomic_ref_count_init (&self->ref_count);
  return self;
}

/**
 * bb_namespace_items_ref:
 * @self: a [struct@BbSync.NamespaceItems]
 *
 * Acquires a reference on @self.
 *
 * Returns: (transfer full): @self
 *
 * Since: 0.1
 */
BbNamespaceItems *
bb_namespace_items_ref (BbNamespaceItems *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * bb_namespace_items_unref:
 * @self: (transfer full): a [struct@BbSync.NamespaceItems]
 *
 * Releases a reference on @self, freeing it when the last one goes.
 *
 * Since: 0.1
 */
void
bb_namespace_items_unref (BbNamespaceItems *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_free (self->namespace_id);
  g_clear_pointer (&self->items, g_hash_table_unref);
  g_free (self);
}

/**
 * bb_namespace_items_get_namespace_id:
 * @self: a [struct@BbSync.NamespaceItems]
 *
 * Gets the ID of the namespace the versions belong to.
 *
 * Returns: (transfer none): the namespace ID
 *
 * Since: 0.1
 */
const char *
bb_namespace_items_get_namespace_id (BbNamespaceItems *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->namespace_id;
}

/**
 * bb_namespace_items_get_head:
 * @self: a [struct@BbSync.NamespaceItems]
 *
 * Gets the head of the namespace, taken in the same transaction as the item versions, so
 * the two are consistent.
 *
 * Returns: the namespace head
 *
 * Since: 0.1
 */
guint64
bb_namespace_items_get_head (BbNamespaceItems *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->head;
}

/**
 * BbItemEnvelope:
 *
 * One encrypted item as stored by the server ([method@BbSync.Client.get_item_async]).
 *
 * Since: 0.1
 */

G_DEFINE_BOXED_TYPE (BbItemEnvelope, bb_item_envelope, bb_item_envelope_ref, bb_item_envelope_unref)

BbItemEnvelope *
bb_item_envelope_new (void)
{
  BbItemEnvelope *self = g_new0 (BbItemEnvelope, 1);

  g_atomic_ref_count_init (&self->ref_count);
  return self;
}

/**
 * bb_item_envelope_ref:
 * @self: a [struct@BbSync.ItemEnvelope]
 *
 * Acquires a reference on @self.
 *
 * Returns: (transfer full): @self
 *
 * Since: 0.1
 */
BbItemEnvelope *
bb_item_envelope_ref (BbItemEnvelope *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * bb_item_envelope_unref:
 * @self: (transfer full): a [struct@BbSync.ItemEnvelope]
 *
 * Releases a reference on @self, freeing it when the last one goes.
 *
 * Since: 0.1
 */
void
bb_item_envelope_unref (BbItemEnvelope *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_free (self->namespace_id);
  g_free (self->item_id);
  g_clear_pointer (&self->nonce, g_bytes_unref);
  g_clear_pointer (&self->aad, g_bytes_unref);
  g_clear_pointer (&self->ciphertext, g_bytes_unref);
  g_free (self);
}

/**
 * bb_item_envelope_get_namespace_id:
 * @self: a [struct@BbSync.ItemEnvelope]
 *
 * Gets the ID of the namespace the item belongs to.
 *
 * Returns: (transfer none): the namespace ID
 *
 * Since: 0.1
 */
const char *
bb_item_envelope_get_namespace_id (BbItemEnvelope *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->namespace_id;
}

/**
 * bb_item_envelope_get_item_id:
 * @self: a [struct@BbSync.ItemEnvelope]
 *
 * Gets the ID of the item.
 *
 * Returns: (transfer none): the item ID (lower-case hex of 32 bytes)
 *
 * Since: 0.1
 */
const char *
bb_item_envelope_get_item_id (BbItemEnvelope *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->item_id;
}

/**
 * bb_item_envelope_get_version:
 * @self: a [struct@BbSync.ItemEnvelope]
 *
 * Gets the version of the item the ciphertext was written for; the AAD binds the
 * ciphertext to it.
 *
 * Returns: the item version
 *
 * Since: 0.1
 */
guint64
bb_item_envelope_get_version (BbItemEnvelope *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->version;
}

/**
 * bb_item_envelope_get_nonce:
 * @self: a [struct@BbSync.ItemEnvelope]
 *
 * Gets the %BB_PROTOCOL_NONCE_SIZE-byte nonce the item was encrypted with.
 *
 * Returns: (transfer none): the 24-byte nonce
 *
 * Since: 0.1
 */
GBytes *
bb_item_envelope_get_nonce (BbItemEnvelope *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->nonce;
}

/**
 * bb_item_envelope_get_aad:
 * @self: a [struct@BbSync.ItemEnvelope]
 *
 * Gets the additional authenticated data of the item. The client has checked that it is
 * exactly the AAD of this namespace, item and version ([func@BbSync.protocol_item_aad]),
 * so a server cannot pass one item off as another.
 *
 * Returns: (transfer none): the additional authenticated data (checked against the namespace, item
 * and version)
 *
 * Since: 0.1
 */
GBytes *
bb_item_envelope_get_aad (BbItemEnvelope *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->aad;
}

/**
 * bb_item_envelope_get_ciphertext:
 * @self: a [struct@BbSync.ItemEnvelope]
 *
 * Gets the encrypted value with its %BB_PROTOCOL_TAG_SIZE-byte tag;
 * [func@BbSync.protocol_decrypt_item] opens it with the namespace key.
 *
 * Returns: (transfer none): the ciphertext with its tag
 *
 * Since: 0.1
 */
GBytes *
bb_item_envelope_get_ciphertext (BbItemEnvelope *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->ciphertext;
}

/**
 * bb_namespace_items_get_n_items:
 * @self: a [struct@BbSync.NamespaceItems]
 *
 * Gets how many items the namespace holds, each with the version in
 * [method@BbSync.NamespaceItems.get_version].
 *
 * Returns: the number of items in the namespace
 *
 * Since: 0.1
 */
guint
bb_namespace_items_get_n_items (BbNamespaceItems *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->items != NULL ? g_hash_table_size (self->items) : 0;
}

static int
compare_string_ptrs (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

/**
 * bb_namespace_items_dup_item_ids:
 * @self: a [struct@BbSync.NamespaceItems]
 *
 * Lists the IDs of the items of the namespace, in lower-case hex, sorted.
 *
 * Returns: (transfer full) (array zero-terminated=1): the item IDs, sorted
 *
 * Since: 0.1
 */
char **
bb_namespace_items_dup_item_ids (BbNamespaceItems *self)
{
  GPtrArray *ids;
  GHashTableIter iter;
  gpointer key;

  g_return_val_if_fail (self != NULL, NULL);

  ids = g_ptr_array_new ();
  if (self->items != NULL)
    {
      g_hash_table_iter_init (&iter, self->items);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        g_ptr_array_add (ids, g_strdup (key));
    }
  /* Sorted so that callers and tests see a stable order. */
  g_ptr_array_sort (ids, compare_string_ptrs);
  g_ptr_array_add (ids, NULL);
  return (char **)g_ptr_array_free (ids, FALSE);
}

/**
 * bb_namespace_items_get_version:
 * @self: a [struct@BbSync.NamespaceItems]
 * @item_id: an item ID (lower-case hex)
 *
 * Looks up the version the server holds of one item.
 *
 * Returns: the version of @item_id, or 0 if the namespace has no such item
 *
 * Since: 0.1
 */
guint64
bb_namespace_items_get_version (BbNamespaceItems *self, const char *item_id)
{
  const guint64 *version;

  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (item_id != NULL, 0);

  if (self->items == NULL)
    return 0;
  version = g_hash_table_lookup (self->items, item_id);
  return version != NULL ? *version : 0;
}

BbChallenge *
bb_challenge_new_from_string (const char *challenge, GDateTime *expires_at,
                              const char *spam_control_kind, GError **error)
{
  g_autoptr (BbChallenge) self = NULL;
  g_autoptr (GBytes) bytes = NULL;

  g_return_val_if_fail (challenge != NULL, NULL);

  bytes = bb_protocol_base64_decode (challenge, BB_PROTOCOL_CHALLENGE_SIZE, "challenge", error);
  if (bytes == NULL)
    return NULL;

  self = bb_challenge_new ();
  self->challenge = g_strdup (challenge);
  self->bytes = g_steal_pointer (&bytes);
  self->expires_at = expires_at != NULL ? g_date_time_ref (expires_at) : NULL;
  self->spam_control_kind
      = g_strdup (spam_control_kind != NULL ? spam_control_kind : BB_PROTOCOL_SPAM_CONTROL_NONE);
  return g_steal_pointer (&self);
}
