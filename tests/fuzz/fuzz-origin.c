/* fuzz-origin.c: libFuzzer target for server-origin canonicalisation
 *
 * Invariants: a canonical origin is a fixed point, is https, at most 128 bytes, and has a
 * hash; the hash is defined exactly for inputs equal to their canonical form.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <bbsync/bbsync.h>

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup ((const char *)data, size);
  g_autoptr (GError) error = NULL;
  g_autofree char *canonical = bb_protocol_canonical_origin (text, &error);
  g_autofree char *again = NULL;
  g_autoptr (GBytes) hash = NULL;
  g_autoptr (GBytes) input_hash = NULL;

  input_hash = bb_protocol_server_origin_hash (text, NULL);
  if (canonical == NULL)
    {
      g_assert_nonnull (error);
      g_assert_true (g_error_matches (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT));
      g_assert_null (input_hash);
      return 0;
    }
  g_assert_true (g_str_has_prefix (canonical, "https://"));
  g_assert_cmpuint (strlen (canonical), <=, BB_PROTOCOL_MAX_ORIGIN_LENGTH);
  again = bb_protocol_canonical_origin (canonical, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again, ==, canonical);
  hash = bb_protocol_server_origin_hash (canonical, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (hash), ==, 32);
  g_assert_true ((input_hash != NULL) == (strcmp (text, canonical) == 0));
  return 0;
}
