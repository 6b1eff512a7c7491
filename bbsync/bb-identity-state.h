/* bb-identity-state.h: the stored authentication state of one identity
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

#define BB_TYPE_IDENTITY_STATE (bb_identity_state_get_type ())

BB_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (BbIdentityState, bb_identity_state, BB, IDENTITY_STATE, GObject)

BB_AVAILABLE_IN_ALL
BbIdentityState *bb_identity_state_new (const char *key_id);
BB_AVAILABLE_IN_ALL
BbIdentityState *bb_identity_state_copy (BbIdentityState *self);

BB_AVAILABLE_IN_ALL
const char *bb_identity_state_get_key_id (BbIdentityState *self);
BB_AVAILABLE_IN_ALL
void bb_identity_state_set_key_id (BbIdentityState *self,
                                   const char      *key_id);
BB_AVAILABLE_IN_ALL
const char *bb_identity_state_get_kind (BbIdentityState *self);
BB_AVAILABLE_IN_ALL
void bb_identity_state_set_kind (BbIdentityState *self,
                                 const char      *kind);
BB_AVAILABLE_IN_ALL
const char *bb_identity_state_get_access_token (BbIdentityState *self);
BB_AVAILABLE_IN_ALL
void bb_identity_state_set_access_token (BbIdentityState *self,
                                         const char      *access_token);
BB_AVAILABLE_IN_ALL
gint64 bb_identity_state_get_token_expiry (BbIdentityState *self);
BB_AVAILABLE_IN_ALL
void bb_identity_state_set_token_expiry (BbIdentityState *self,
                                         gint64           token_expiry);
BB_AVAILABLE_IN_ALL
const char *bb_identity_state_get_default_namespace_id (BbIdentityState *self);
BB_AVAILABLE_IN_ALL
void bb_identity_state_set_default_namespace_id (BbIdentityState *self,
                                                 const char      *namespace_id);
BB_AVAILABLE_IN_ALL
gint64 bb_identity_state_get_updated_at (BbIdentityState *self);
BB_AVAILABLE_IN_ALL
void bb_identity_state_set_updated_at (BbIdentityState *self,
                                       gint64           updated_at);

G_END_DECLS
