/* bb-i18n.c: binding the library's text domain on first use
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-i18n-private.h"

#include <libintl.h>

/* The catalogues are installed under the library's own prefix, which is not where
 * gettext looks by default unless that prefix is /usr. */
static void
bb_i18n_init (void)
{
  static gsize bound = 0;

  if (g_once_init_enter (&bound))
    {
      bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
      bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
      g_once_init_leave (&bound, 1);
    }
}

const char *
bb_i18n_gettext (const char *msgid)
{
  bb_i18n_init ();
  return g_dgettext (GETTEXT_PACKAGE, msgid);
}

const char *
bb_i18n_ngettext (const char *msgid, const char *msgid_plural, gulong n)
{
  bb_i18n_init ();
  return g_dngettext (GETTEXT_PACKAGE, msgid, msgid_plural, n);
}
