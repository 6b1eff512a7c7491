/* fuzz-invite-uri.c: libFuzzer target for the invite URI parser
 *
 * Invariants: a parse either succeeds or sets a BbSync error; a parsed invite re-emits a
 * canonical URI that parses to the same fields and re-emits byte-identically.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <bbsync/bbsync.h>
#include "bb-invite-private.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = g_strndup ((const char *)data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (BbInvite) invite = bb_invite_new_from_uri (text, &error);
  g_autoptr (BbInvite) again = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *uri2 = NULL;

  if (invite == NULL)
    {
      g_assert_nonnull (error);
      g_assert_true (error->domain == BB_SYNC_ERROR);
      return 0;
    }
  g_assert_null (error);

  uri = bb_invite_to_uri (invite);
  again = bb_invite_new_from_uri (uri, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_invite_get_server_origin (again), ==, bb_invite_get_server_origin (invite));
  g_assert_cmpstr (bb_invite_get_namespace_id (again), ==, bb_invite_get_namespace_id (invite));
  g_assert_cmpstr (bb_invite_get_invite_id (again), ==, bb_invite_get_invite_id (invite));
  g_assert_cmpint (bb_invite_get_expires_at (again), ==, bb_invite_get_expires_at (invite));
  g_assert_cmpint (bb_invite_get_expires_at (again), >, 0);
  g_assert_true (g_bytes_equal (bb_invite_get_secret (again), bb_invite_get_secret (invite)));
  uri2 = bb_invite_to_uri (again);
  g_assert_cmpstr (uri2, ==, uri);
  return 0;
}
