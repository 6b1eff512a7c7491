/* bb-conflict.h: an unresolved conflict between a local and a remote value
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

#define BB_TYPE_CONFLICT (bb_conflict_get_type ())

BB_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (BbConflict, bb_conflict, BB, CONFLICT, GObject)

BB_AVAILABLE_IN_ALL
const char *bb_conflict_get_namespace_id (BbConflict *self);
BB_AVAILABLE_IN_ALL
const char *bb_conflict_get_collection (BbConflict *self);
BB_AVAILABLE_IN_ALL
const char *bb_conflict_get_key (BbConflict *self);
BB_AVAILABLE_IN_ALL
const char *bb_conflict_get_item_id (BbConflict *self);
BB_AVAILABLE_IN_ALL
GVariant *bb_conflict_get_local_value (BbConflict *self);
BB_AVAILABLE_IN_ALL
GVariant *bb_conflict_get_remote_value (BbConflict *self);
BB_AVAILABLE_IN_ALL
guint64 bb_conflict_get_remote_version (BbConflict *self);

G_END_DECLS
