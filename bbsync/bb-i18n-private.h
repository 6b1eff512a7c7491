/* bb-i18n-private.h: the library's translation macros (private)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>
#include <glib/gi18n-lib.h>

G_BEGIN_DECLS

const char *bb_i18n_gettext (const char *msgid) G_GNUC_FORMAT (1);
const char *bb_i18n_ngettext (const char *msgid, const char *msgid_plural, gulong n)
    G_GNUC_FORMAT (1) G_GNUC_FORMAT (2);

G_END_DECLS

/* A library has no main() to bind its text domain, and apps do not know they should:
 * every translation goes through these, which bind it on first use (as GLib's own
 * glib_gettext() does), so no entry point can miss it. xgettext reads _() as usual;
 * bb_i18n_ngettext is declared to it in po/meson.build. */
#undef _
#define _(String) ((char *)bb_i18n_gettext (String))
