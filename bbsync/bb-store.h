/* bb-store.h: the metadata store interface
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(BBSYNC_INSIDE) && !defined(BBSYNC_COMPILATION)
#error "Only <bbsync/bbsync.h> can be included directly."
#endif

#include <glib-object.h>

#include "bb-version-macros.h"
#include "bb-identity-state.h"
#include "bb-item-state.h"
#include "bb-namespace-state.h"

G_BEGIN_DECLS

#define BB_TYPE_STORE (bb_store_get_type ())

BB_AVAILABLE_IN_ALL
G_DECLARE_INTERFACE (BbStore, bb_store, BB, STORE, GObject)

/**
 * BbStoreInterface:
 * @g_iface: the parent interface
 * @load_identity: loads an identity record; see [method@BbSync.Store.load_identity]
 * @save_identity: saves an identity record; see [method@BbSync.Store.save_identity]
 * @get_namespace: loads a namespace record; see [method@BbSync.Store.get_namespace]
 * @list_namespaces: lists the namespaces of an identity; see [method@BbSync.Store.list_namespaces]
 * @save_namespace: saves a namespace record; see [method@BbSync.Store.save_namespace]
 * @get_item_by_id: loads an item by item ID; see [method@BbSync.Store.get_item_by_id]
 * @get_item_by_logical_key: loads an item by logical key; see
 *   [method@BbSync.Store.get_item_by_logical_key]
 * @list_namespace_items: lists the items of a namespace; see
 *   [method@BbSync.Store.list_namespace_items]
 * @list_dirty_items: lists the dirty items of an identity; see
 *   [method@BbSync.Store.list_dirty_items]
 * @save_item: saves an item record; see [method@BbSync.Store.save_item]
 * @save_batch: saves many records in one transaction; see [method@BbSync.Store.save_batch]. The
 *   default implementation saves them one by one, which is not atomic.
 * @forget_identity_secrets: clears the token and DEKs of an identity; see
 *   [method@BbSync.Store.forget_identity_secrets]
 * @reset_sync_state: clears the namespace and item metadata of an identity; see
 *   [method@BbSync.Store.reset_sync_state]. Optional: the default fails with
 *   %BB_SYNC_ERROR_UNSUPPORTED.
 * @close: releases the store's resources; see [method@BbSync.Store.close]. The default does
 *   nothing.
 *
 * The virtual functions of [iface@BbSync.Store]. Look-ups of a missing record fail with
 * %BB_SYNC_ERROR_NOT_FOUND.
 *
 * Since: 0.1
 */
struct _BbStoreInterface
{
  GTypeInterface g_iface;

  BbIdentityState
      *(*load_identity) (BbStore    *self,
                         const char *key_id,
                         GError    **error);
  gboolean (*save_identity) (BbStore         *self,
                             BbIdentityState *state,
                             GError         **error);
  BbNamespaceState
      *(*get_namespace) (BbStore    *self,
                         const char *key_id,
                         const char *namespace_id,
                         GError    **error);
  GPtrArray *(*list_namespaces) (BbStore    *self,
                                 const char *key_id,
                                 GError    **error);
  gboolean (*save_namespace) (BbStore          *self,
                              BbNamespaceState *state,
                              GError          **error);
  BbItemState
      *(*get_item_by_id) (BbStore    *self,
                          const char *key_id,
                          const char *namespace_id,
                          const char *item_id,
                          GError    **error);
  BbItemState
      *(*get_item_by_logical_key) (BbStore    *self,
                                   const char *key_id,
                                   const char *namespace_id,
                                   const char *collection,
                                   const char *key,
                                   GError    **error);
  GPtrArray *(*list_namespace_items) (BbStore    *self,
                                      const char *key_id,
                                      const char *namespace_id,
                                      GError    **error);
  GPtrArray *(*list_dirty_items) (BbStore    *self,
                                  const char *key_id,
                                  GError    **error);
  gboolean (*save_item) (BbStore     *self,
                         BbItemState *state,
                         GError     **error);
  gboolean (*save_batch) (BbStore   *self,
                          GPtrArray *items,
                          GPtrArray *namespaces,
                          GError   **error);
  gboolean (*forget_identity_secrets) (BbStore    *self,
                                       const char *key_id,
                                       GError    **error);
  gboolean (*reset_sync_state) (BbStore    *self,
                                const char *key_id,
                                GError    **error);
  gboolean (*close) (BbStore *self,
                     GError **error);

  /*< private >*/
  gpointer padding[8];
};

BB_AVAILABLE_IN_ALL
BbIdentityState *bb_store_load_identity (BbStore    *self,
                                         const char *key_id,
                                         GError    **error);
BB_AVAILABLE_IN_ALL
gboolean bb_store_save_identity (BbStore         *self,
                                 BbIdentityState *state,
                                 GError         **error);
BB_AVAILABLE_IN_ALL
BbNamespaceState *bb_store_get_namespace (BbStore    *self,
                                          const char *key_id,
                                          const char *namespace_id,
                                          GError    **error);
BB_AVAILABLE_IN_ALL
GPtrArray *bb_store_list_namespaces (BbStore    *self,
                                     const char *key_id,
                                     GError    **error);
BB_AVAILABLE_IN_ALL
gboolean bb_store_save_namespace (BbStore          *self,
                                  BbNamespaceState *state,
                                  GError          **error);
BB_AVAILABLE_IN_ALL
BbItemState *bb_store_get_item_by_id (BbStore    *self,
                                      const char *key_id,
                                      const char *namespace_id,
                                      const char *item_id,
                                      GError    **error);
BB_AVAILABLE_IN_ALL
BbItemState *bb_store_get_item_by_logical_key (BbStore    *self,
                                               const char *key_id,
                                               const char *namespace_id,
                                               const char *collection,
                                               const char *key,
                                               GError    **error);
BB_AVAILABLE_IN_ALL
GPtrArray *bb_store_list_namespace_items (BbStore    *self,
                                          const char *key_id,
                                          const char *namespace_id,
                                          GError    **error);
BB_AVAILABLE_IN_ALL
GPtrArray *bb_store_list_dirty_items (BbStore    *self,
                                      const char *key_id,
                                      GError    **error);
BB_AVAILABLE_IN_ALL
gboolean bb_store_save_item (BbStore     *self,
                             BbItemState *state,
                             GError     **error);
BB_AVAILABLE_IN_ALL
gboolean bb_store_save_batch (BbStore   *self,
                              GPtrArray *items,
                              GPtrArray *namespaces,
                              GError   **error);
BB_AVAILABLE_IN_ALL
gboolean bb_store_forget_identity_secrets (BbStore    *self,
                                           const char *key_id,
                                           GError    **error);
BB_AVAILABLE_IN_ALL
gboolean bb_store_reset_sync_state (BbStore    *self,
                                    const char *key_id,
                                    GError    **error);
BB_AVAILABLE_IN_ALL
gboolean bb_store_close (BbStore *self,
                         GError **error);

G_END_DECLS
