/* bb-namespace-state.h: the stored state of one namespace for one identity
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

#define BB_TYPE_NAMESPACE_STATE (bb_namespace_state_get_type ())

BB_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (BbNamespaceState, bb_namespace_state, BB, NAMESPACE_STATE, GObject)

BB_AVAILABLE_IN_ALL
BbNamespaceState *bb_namespace_state_new (const char *key_id,
                                          const char *namespace_id);
BB_AVAILABLE_IN_ALL
BbNamespaceState *bb_namespace_state_copy (BbNamespaceState *self);

BB_AVAILABLE_IN_ALL
const char *bb_namespace_state_get_key_id (BbNamespaceState *self);
BB_AVAILABLE_IN_ALL
void bb_namespace_state_set_key_id (BbNamespaceState *self,
                                    const char       *key_id);
BB_AVAILABLE_IN_ALL
const char *bb_namespace_state_get_namespace_id (BbNamespaceState *self);
BB_AVAILABLE_IN_ALL
void bb_namespace_state_set_namespace_id (BbNamespaceState *self,
                                          const char       *namespace_id);
BB_AVAILABLE_IN_ALL
const char *bb_namespace_state_get_kind (BbNamespaceState *self);
BB_AVAILABLE_IN_ALL
void bb_namespace_state_set_kind (BbNamespaceState *self,
                                  const char       *kind);
BB_AVAILABLE_IN_ALL
guint64 bb_namespace_state_get_namespace_head (BbNamespaceState *self);
BB_AVAILABLE_IN_ALL
void bb_namespace_state_set_namespace_head (BbNamespaceState *self,
                                            guint64           head);
BB_AVAILABLE_IN_ALL
const char *bb_namespace_state_get_active_scope_hash (BbNamespaceState *self);
BB_AVAILABLE_IN_ALL
void bb_namespace_state_set_active_scope_hash (BbNamespaceState *self,
                                               const char       *hash);
BB_AVAILABLE_IN_ALL
GBytes *bb_namespace_state_get_dek (BbNamespaceState *self);
BB_AVAILABLE_IN_ALL
void bb_namespace_state_set_dek (BbNamespaceState *self,
                                 GBytes           *dek);
BB_AVAILABLE_IN_ALL
gboolean bb_namespace_state_has_dek (BbNamespaceState *self);
BB_AVAILABLE_IN_ALL
gint64 bb_namespace_state_get_updated_at (BbNamespaceState *self);
BB_AVAILABLE_IN_ALL
void bb_namespace_state_set_updated_at (BbNamespaceState *self,
                                        gint64            updated_at);

G_END_DECLS
