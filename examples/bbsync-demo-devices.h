/* bbsync-demo-devices.h: the demo's engine story (two devices of one identity)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

gboolean demo_devices_run (const char *base_url, const char *tmpdir, GError **error);

G_END_DECLS
