/* bb-value-backend.h: the app-owned current values of one collection
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

#define BB_TYPE_VALUE_BACKEND (bb_value_backend_get_type ())

BB_AVAILABLE_IN_ALL
G_DECLARE_INTERFACE (BbValueBackend, bb_value_backend, BB, VALUE_BACKEND, GObject)

/**
 * BbValueBackendInterface:
 * @g_iface: the parent interface
 * @list_keys: returns the complete active key scope of the collection (required)
 * @snapshot: returns the current values as an `a{sv}` dictionary (required)
 * @get_value: returns the current value of one key, or %NULL when it has none (required)
 * @set_value: replaces the value of one key (required)
 * @set_value_if_current: optional: replaces the value of one key only if its current
 *   value is still the given one (compare and swap). A backend that leaves it unset is
 *   a plain backend.
 *
 * The virtual methods of [iface@BbSync.ValueBackend]. The engine calls them only on the main
 * context it was created on, so they must be quick: an app whose storage is slow keeps
 * an in-memory index and answers from it.
 *
 * Since: 0.1
 */
struct _BbValueBackendInterface
{
  GTypeInterface g_iface;

  char **(*list_keys) (BbValueBackend *self,
                       GError        **error);
  GVariant *(*snapshot) (BbValueBackend *self,
                         GError        **error);
  GVariant *(*get_value) (BbValueBackend *self,
                          const char     *key,
                          GError        **error);
  gboolean (*set_value) (BbValueBackend *self,
                         const char     *key,
                         GVariant       *value,
                         GError        **error);
  gboolean (*set_value_if_current) (BbValueBackend *self,
                                    const char     *key,
                                    GVariant       *current,
                                    GVariant       *value,
                                    GError        **error);

  /*< private >*/
  gpointer padding[8];
};

BB_AVAILABLE_IN_ALL
char **bb_value_backend_list_keys (BbValueBackend *self,
                                   GError        **error);
BB_AVAILABLE_IN_ALL
GVariant *bb_value_backend_snapshot (BbValueBackend *self,
                                     GError        **error);
BB_AVAILABLE_IN_ALL
GVariant *bb_value_backend_get_value (BbValueBackend *self,
                                      const char     *key,
                                      GError        **error);
BB_AVAILABLE_IN_ALL
gboolean bb_value_backend_set_value (BbValueBackend *self,
                                     const char     *key,
                                     GVariant       *value,
                                     GError        **error);
BB_AVAILABLE_IN_ALL
gboolean bb_value_backend_is_conditional (BbValueBackend *self);
BB_AVAILABLE_IN_ALL
gboolean bb_value_backend_set_value_if_current (BbValueBackend *self,
                                                const char     *key,
                                                GVariant       *current,
                                                GVariant       *value,
                                                GError        **error);

G_END_DECLS
