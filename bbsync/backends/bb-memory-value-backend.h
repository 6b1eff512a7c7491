/* bb-memory-value-backend.h: a value backend that keeps its values in memory
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(BBSYNC_INSIDE) && !defined(BBSYNC_COMPILATION)
#error "Only <bbsync/bbsync.h> can be included directly."
#endif

#include <glib-object.h>

#include "bb-version-macros.h"
#include "bb-value-backend.h"

G_BEGIN_DECLS

#define BB_TYPE_MEMORY_VALUE_BACKEND (bb_memory_value_backend_get_type ())

BB_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (BbMemoryValueBackend, bb_memory_value_backend, BB, MEMORY_VALUE_BACKEND, GObject)

BB_AVAILABLE_IN_ALL
BbValueBackend *bb_memory_value_backend_new (void);
BB_AVAILABLE_IN_ALL
void bb_memory_value_backend_set_scope (BbMemoryValueBackend *self,
                                        const char *const    *keys);
BB_AVAILABLE_IN_ALL
guint bb_memory_value_backend_get_n_values (BbMemoryValueBackend *self);

G_END_DECLS
