/* bb-test-utils.h: helpers shared by the C test programs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Loads tests/data/@name as parsed JSON (aborts the test on failure). */
JsonNode *bb_test_load_json     (const char *name);
/* Decodes hex of any case (aborts the test on malformed input). */
GBytes   *bb_test_hex           (const char *hex);
/* @len bytes all equal to @byte. */
GBytes   *bb_test_repeat        (guint8 byte, gsize len);
/* Asserts @bytes equals the hex string @hex. */
#define bb_test_assert_bytes_hex(bytes, hex) \
  G_STMT_START { \
    g_autofree char *_bb_hex = bb_test_bytes_to_hex (bytes); \
    g_assert_cmpstr (_bb_hex, ==, (hex)); \
  } G_STMT_END
char     *bb_test_bytes_to_hex  (GBytes *bytes);
/* Whether @haystack contains @needle (for raw-file searches). */
gboolean  bb_test_bytes_contain (GBytes *haystack, const guint8 *needle, gsize needle_len);

G_END_DECLS
