/* bb-codec-private.h: library-internal parts of the codecs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

#include "bb-codec.h"

G_BEGIN_DECLS

/* The deepest nesting of JSON arrays and objects the JSON codec reads or writes. Go's
 * decoder allows 10000; bbsync values are small, and a low limit keeps the recursion of
 * the reader and writer shallow and the nested GVariants far below GLib's own limits. */
#define BB_CODEC_JSON_MAX_DEPTH 64

/* The deepest chain of nested variants (`v` holding `v` ...) the JSON writer follows. */
#define BB_CODEC_JSON_MAX_VARIANT_DEPTH 128

/* Whether @type can be handled by the JSON codec (see bb_codec_new_json()). */
gboolean bb_codec_json_type_is_supported (const GVariantType *type);

/* Appends @value as Go's encoding/json writes a float64 (shortest round-trip digits, 'e'
 * form below 1e-6 and from 1e21 on). @value must be finite. */
void bb_codec_json_append_double (GString *out, double value);

G_END_DECLS
