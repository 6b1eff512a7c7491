/* test-i18n.c: the library binds its own text domain, so its catalogues load from its
 * install prefix whatever the app does (issue 11)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"
#include <bbsync/bbsync.h>
#include <libintl.h>

/* An app that never heard of bbsync's text domain calls a plain function, no object
 * created first: the first message the library translates binds the domain. */
static void
test_i18n_bound_on_first_message (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;

  g_assert_null (bind_textdomain_codeset (GETTEXT_PACKAGE, NULL));

  bytes = bb_protocol_hex_decode ("zz", -1, "field", &error);
  g_assert_null (bytes);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT);
  g_assert_cmpstr (error->message, ==, "field: invalid hex character at offset 0");

  g_assert_cmpstr (bindtextdomain (GETTEXT_PACKAGE, NULL), ==, LOCALEDIR);
  g_assert_cmpstr (bind_textdomain_codeset (GETTEXT_PACKAGE, NULL), ==, "UTF-8");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/i18n/bound-on-first-message", test_i18n_bound_on_first_message);
  return g_test_run ();
}
