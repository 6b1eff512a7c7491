/* bb-test-identity.h: the deterministic, label-derived identity (tests and demos only)
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

#define BB_TYPE_TEST_IDENTITY (bb_test_identity_get_type ())

BB_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (BbTestIdentity, bb_test_identity, BB, TEST_IDENTITY, GObject)

BB_AVAILABLE_IN_ALL
BbTestIdentity *bb_test_identity_new (const char *label);
BB_AVAILABLE_IN_ALL
const char *bb_test_identity_get_label (BbTestIdentity *self);

G_END_DECLS
