/* bb-item-state.h: the stored sync state of one item
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

#define BB_TYPE_ITEM_STATE (bb_item_state_get_type ())

BB_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (BbItemState, bb_item_state, BB, ITEM_STATE, GObject)

BB_AVAILABLE_IN_ALL
BbItemState *bb_item_state_new (const char *key_id,
                                const char *namespace_id,
                                const char *collection,
                                const char *key,
                                const char *item_id);
BB_AVAILABLE_IN_ALL
BbItemState *bb_item_state_copy (BbItemState *self);

BB_AVAILABLE_IN_ALL
const char *bb_item_state_get_key_id (BbItemState *self);
BB_AVAILABLE_IN_ALL
void bb_item_state_set_key_id (BbItemState *self,
                               const char  *key_id);
BB_AVAILABLE_IN_ALL
const char *bb_item_state_get_namespace_id (BbItemState *self);
BB_AVAILABLE_IN_ALL
void bb_item_state_set_namespace_id (BbItemState *self,
                                     const char  *namespace_id);
BB_AVAILABLE_IN_ALL
const char *bb_item_state_get_collection (BbItemState *self);
BB_AVAILABLE_IN_ALL
void bb_item_state_set_collection (BbItemState *self,
                                   const char  *collection);
BB_AVAILABLE_IN_ALL
const char *bb_item_state_get_key (BbItemState *self);
BB_AVAILABLE_IN_ALL
void bb_item_state_set_key (BbItemState *self,
                            const char  *key);
BB_AVAILABLE_IN_ALL
const char *bb_item_state_get_item_id (BbItemState *self);
BB_AVAILABLE_IN_ALL
void bb_item_state_set_item_id (BbItemState *self,
                                const char  *item_id);
BB_AVAILABLE_IN_ALL
guint64 bb_item_state_get_version (BbItemState *self);
BB_AVAILABLE_IN_ALL
void bb_item_state_set_version (BbItemState *self,
                                guint64      version);
BB_AVAILABLE_IN_ALL
guint64 bb_item_state_get_base_version (BbItemState *self);
BB_AVAILABLE_IN_ALL
void bb_item_state_set_base_version (BbItemState *self,
                                     guint64      base_version);
BB_AVAILABLE_IN_ALL
GBytes *bb_item_state_get_base_value (BbItemState *self);
BB_AVAILABLE_IN_ALL
void bb_item_state_set_base_value (BbItemState *self,
                                   GBytes      *base_value);
BB_AVAILABLE_IN_ALL
gboolean bb_item_state_get_dirty (BbItemState *self);
BB_AVAILABLE_IN_ALL
void bb_item_state_set_dirty (BbItemState *self,
                              gboolean     dirty);
BB_AVAILABLE_IN_ALL
gboolean bb_item_state_get_conflict (BbItemState *self);
BB_AVAILABLE_IN_ALL
void bb_item_state_set_conflict (BbItemState *self,
                                 gboolean     conflict);
BB_AVAILABLE_IN_ALL
guint64 bb_item_state_get_conflict_remote_version (BbItemState *self);
BB_AVAILABLE_IN_ALL
void bb_item_state_set_conflict_remote_version (BbItemState *self,
                                                guint64      version);
BB_AVAILABLE_IN_ALL
GBytes *bb_item_state_get_conflict_remote_value (BbItemState *self);
BB_AVAILABLE_IN_ALL
void bb_item_state_set_conflict_remote_value (BbItemState *self,
                                              GBytes      *value);
BB_AVAILABLE_IN_ALL
gint64 bb_item_state_get_updated_at (BbItemState *self);
BB_AVAILABLE_IN_ALL
void bb_item_state_set_updated_at (BbItemState *self,
                                   gint64       updated_at);

BB_AVAILABLE_IN_ALL
gboolean bb_item_state_has_merge_base (BbItemState *self);
BB_AVAILABLE_IN_ALL
void bb_item_state_mark_clean (BbItemState *self,
                               guint64      version,
                               GBytes      *base_value);
BB_AVAILABLE_IN_ALL
void bb_item_state_mark_dirty (BbItemState *self);
BB_AVAILABLE_IN_ALL
void bb_item_state_mark_dirty_with_base (BbItemState *self,
                                         guint64      version,
                                         GBytes      *base_value);
BB_AVAILABLE_IN_ALL
void bb_item_state_mark_conflict (BbItemState *self,
                                  guint64      remote_version,
                                  GBytes      *remote_value);
BB_AVAILABLE_IN_ALL
void bb_item_state_clear_conflict (BbItemState *self);

G_END_DECLS
