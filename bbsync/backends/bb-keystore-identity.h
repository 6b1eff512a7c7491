/* bb-keystore-identity.h: the software identity whose keys live in the user's keyring
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(BBSYNC_INSIDE) && !defined(BBSYNC_COMPILATION)
#error "Only <bbsync/bbsync.h> can be included directly."
#endif

#include <gio/gio.h>

#include "bb-version-macros.h"

G_BEGIN_DECLS

/**
 * BB_KEYSTORE_IDENTITY_SCHEMA_NAME:
 *
 * The name of the libsecret schema under which [class@BbSync.KeystoreIdentity] stores its
 * private keys. See the identities guide for the attributes and the secret format.
 *
 * Since: 0.1
 */
#define BB_KEYSTORE_IDENTITY_SCHEMA_NAME "org.bbsync.Identity"

#define BB_TYPE_KEYSTORE_IDENTITY (bb_keystore_identity_get_type ())

BB_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (BbKeystoreIdentity, bb_keystore_identity, BB, KEYSTORE_IDENTITY, GObject)

BB_AVAILABLE_IN_ALL
void bb_keystore_identity_new_async (const char         *account,
                                     GCancellable       *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer            user_data);
BB_AVAILABLE_IN_ALL
BbKeystoreIdentity *bb_keystore_identity_new_finish (GAsyncResult *result,
                                                     GError      **error);
BB_AVAILABLE_IN_ALL
BbKeystoreIdentity *bb_keystore_identity_new_sync (const char   *account,
                                                   GCancellable *cancellable,
                                                   GError      **error);
BB_AVAILABLE_IN_ALL
const char *bb_keystore_identity_get_account (BbKeystoreIdentity *self);
BB_AVAILABLE_IN_ALL
gboolean bb_keystore_identity_get_created (BbKeystoreIdentity *self);
BB_AVAILABLE_IN_ALL
void bb_keystore_identity_delete_async (BbKeystoreIdentity *self,
                                        GCancellable       *cancellable,
                                        GAsyncReadyCallback callback,
                                        gpointer            user_data);
BB_AVAILABLE_IN_ALL
gboolean bb_keystore_identity_delete_finish (BbKeystoreIdentity *self,
                                             GAsyncResult       *result,
                                             GError            **error);

G_END_DECLS
