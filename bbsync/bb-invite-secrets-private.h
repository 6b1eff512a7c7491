/* bb-invite-secrets-private.h: invite secrets kept in the keyring (issue 10)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>

#include "bb-invite.h"

G_BEGIN_DECLS

/* The libsecret schema of an invite secret. Attributes (all strings):
 * `key-id` (the inviting identity's key ID), `namespace-id`, `invite-id` and
 * `expires-at` (the invite's expiry in Unix seconds, decimal). The secret value is the
 * invite's bitboxsync://join-namespace URI, which carries the invite secret. */
#define BB_INVITE_SECRETS_SCHEMA_NAME "org.bbsync.InviteSecret"

void bb_invite_secrets_store_async (const char *key_id, BbInvite *invite, GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data);
gboolean bb_invite_secrets_store_finish (GAsyncResult *result, GError **error);

void bb_invite_secrets_lookup_async (const char *key_id, const char *namespace_id,
                                     const char *invite_id, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data);
BbInvite *bb_invite_secrets_lookup_finish (GAsyncResult *result, GError **error);

void bb_invite_secrets_delete_async (const char *key_id, const char *namespace_id,
                                     const char *invite_id, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data);
gboolean bb_invite_secrets_delete_finish (GAsyncResult *result, GError **error);

void bb_invite_secrets_purge_expired_async (const char *key_id, gint64 now,
                                            GCancellable *cancellable, GAsyncReadyCallback callback,
                                            gpointer user_data);
guint bb_invite_secrets_purge_expired_finish (GAsyncResult *result, GError **error);

G_END_DECLS
