/* bb-test-utils.h: helpers shared by the C test programs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Async calls in tests: pass `bb_test_got_result, &res` as the callback and its data,
 * then bb_test_await_result (&res) iterates the thread-default main context until the
 * call has completed and returns the result (owned by @slot). BB_TEST_AWAIT clears the
 * slot, runs the call and waits. */
void bb_test_got_result (GObject *source, GAsyncResult *result, gpointer user_data);
GAsyncResult *bb_test_await_result (GAsyncResult **slot);
#define BB_TEST_AWAIT(res, expr)                                                                   \
  G_STMT_START                                                                                     \
  {                                                                                                \
    g_clear_object (&(res));                                                                       \
    expr;                                                                                          \
    bb_test_await_result (&(res));                                                                 \
  }                                                                                                \
  G_STMT_END

/* Loads tests/data/@name as parsed JSON (aborts the test on failure). */
JsonNode *bb_test_load_json (const char *name);
/* Decodes hex of any case (aborts the test on malformed input). */
GBytes *bb_test_hex (const char *hex);
/* @len bytes all equal to @byte. */
GBytes *bb_test_repeat (guint8 byte, gsize len);
/* Asserts @bytes equals the hex string @hex. */
#define bb_test_assert_bytes_hex(bytes, hex)                                                       \
  G_STMT_START                                                                                     \
  {                                                                                                \
    g_autofree char *_bb_hex = bb_test_bytes_to_hex (bytes);                                       \
    g_assert_cmpstr (_bb_hex, ==, (hex));                                                          \
  }                                                                                                \
  G_STMT_END
char *bb_test_bytes_to_hex (GBytes *bytes);
/* Whether @haystack contains @needle (for raw-file searches). */
gboolean bb_test_bytes_contain (GBytes *haystack, const guint8 *needle, gsize needle_len);

/* Records every bb_crypto_wipe() between _begin and _end (from any thread): the address,
 * the length and a copy of the bytes about to be cleared, so a test can check that a
 * buffer holding a secret was wiped before it was freed. The queries may be made after
 * _end; the next _begin forgets the old records. */
void     bb_test_wipes_begin (void);
void     bb_test_wipes_end (void);
/* Whether a wipe of at least @min_len bytes started at @address. */
gboolean bb_test_wiped_at (gconstpointer address, gsize min_len);
/* Whether a wiped range held exactly @len bytes equal to @data. */
gboolean bb_test_wiped_exactly (gconstpointer data, gsize len);
/* Whether a wiped range contained @text somewhere. */
gboolean bb_test_wiped_containing (const char *text);

G_END_DECLS
