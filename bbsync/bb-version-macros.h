/* bb-version-macros.h: symbol visibility and availability macros
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(BBSYNC_INSIDE) && !defined(BBSYNC_COMPILATION)
#error "Only <bbsync/bbsync.h> can be included directly."
#endif

#include <glib.h>

#include "bb-version.h"

#ifndef _BB_EXTERN
#define _BB_EXTERN __attribute__ ((visibility ("default"))) extern
#endif

/**
 * BB_ENCODE_VERSION:
 * @major: a major version
 * @minor: a minor version
 *
 * Encodes a major and a minor version into one integer that compares in release order:
 * the form of `BB_VERSION_0_1` and of `BB_VERSION_MAX_ALLOWED`, which an app may define
 * before including `<bbsync/bbsync.h>` to be warned about API newer than that version.
 *
 * Since: 0.1
 */
#define BB_ENCODE_VERSION(major, minor) ((major) << 16 | (minor) << 8)

#define BB_VERSION_0_1 (BB_ENCODE_VERSION (0, 1))

#define BB_VERSION_CUR_STABLE (BB_ENCODE_VERSION (BB_MAJOR_VERSION, BB_MINOR_VERSION))

#ifndef BB_VERSION_MIN_REQUIRED
#define BB_VERSION_MIN_REQUIRED (BB_VERSION_CUR_STABLE)
#endif

#ifndef BB_VERSION_MAX_ALLOWED
#define BB_VERSION_MAX_ALLOWED (BB_VERSION_CUR_STABLE)
#endif

#define BB_AVAILABLE_IN_ALL _BB_EXTERN

#if BB_VERSION_MAX_ALLOWED < BB_VERSION_0_1
#define BB_AVAILABLE_IN_0_1 G_UNAVAILABLE (0, 1) _BB_EXTERN
#else
#define BB_AVAILABLE_IN_0_1 _BB_EXTERN
#endif
