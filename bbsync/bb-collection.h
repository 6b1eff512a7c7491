/* bb-collection.h: one named set of keys of a namespace, with its codec, backend and merge
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(BBSYNC_INSIDE) && !defined(BBSYNC_COMPILATION)
#error "Only <bbsync/bbsync.h> can be included directly."
#endif

#include <glib-object.h>

#include "bb-version-macros.h"
#include "bb-codec.h"
#include "bb-value-backend.h"

G_BEGIN_DECLS

/**
 * BbMergePolicy:
 * @BB_MERGE_POLICY_NONE: keep the local value and record a conflict (the default)
 * @BB_MERGE_POLICY_PREFER_LOCAL: the local value wins and is uploaded
 * @BB_MERGE_POLICY_PREFER_REMOTE: the remote value wins and replaces the local one
 *
 * What a [class@BbSync.Collection] does when a remote change meets a local change of the same
 * key and no handler of [signal@BbSync.Collection::merge] is connected.
 *
 * Since: 0.1
 */
typedef enum
{
  BB_MERGE_POLICY_NONE,
  BB_MERGE_POLICY_PREFER_LOCAL,
  BB_MERGE_POLICY_PREFER_REMOTE,
} BbMergePolicy;

/**
 * BbConflictResolution:
 * @BB_CONFLICT_RESOLUTION_PREFER_LOCAL: keep the local value and upload it
 * @BB_CONFLICT_RESOLUTION_PREFER_REMOTE: take the remote value
 * @BB_CONFLICT_RESOLUTION_VALUE: store and upload a given value
 *
 * How [method@BbSync.Collection.resolve_conflict] settles a conflict.
 *
 * Since: 0.1
 */
typedef enum
{
  BB_CONFLICT_RESOLUTION_PREFER_LOCAL,
  BB_CONFLICT_RESOLUTION_PREFER_REMOTE,
  BB_CONFLICT_RESOLUTION_VALUE,
} BbConflictResolution;

typedef struct _BbNamespace BbNamespace;

#define BB_TYPE_COLLECTION (bb_collection_get_type ())

BB_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (BbCollection, bb_collection, BB, COLLECTION, GObject)

BB_AVAILABLE_IN_ALL
const char *bb_collection_get_name (BbCollection *self);
BB_AVAILABLE_IN_ALL
BbNamespace *bb_collection_get_namespace (BbCollection *self);
BB_AVAILABLE_IN_ALL
BbCodec *bb_collection_get_codec (BbCollection *self);
BB_AVAILABLE_IN_ALL
BbValueBackend *bb_collection_get_backend (BbCollection *self);
BB_AVAILABLE_IN_ALL
BbMergePolicy bb_collection_get_merge_policy (BbCollection *self);
BB_AVAILABLE_IN_ALL
void bb_collection_set_merge_policy (BbCollection *self,
                                     BbMergePolicy policy);
BB_AVAILABLE_IN_ALL
gboolean bb_collection_resolve_conflict (BbCollection        *self,
                                         const char          *key,
                                         BbConflictResolution how,
                                         GVariant            *value,
                                         GError             **error);

G_END_DECLS
