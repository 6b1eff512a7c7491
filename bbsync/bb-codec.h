/* bb-codec.h: how a collection turns its values into item payload bytes and back
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(BBSYNC_INSIDE) && !defined(BBSYNC_COMPILATION)
#error "Only <bbsync/bbsync.h> can be included directly."
#endif

#include <glib-object.h>

#include "bb-version-macros.h"

G_BEGIN_DECLS

#define BB_TYPE_CODEC (bb_codec_get_type ())

BB_AVAILABLE_IN_ALL
G_DECLARE_DERIVABLE_TYPE (BbCodec, bb_codec, BB, CODEC, GObject)

/**
 * BbCodecClass:
 * @parent_class: the parent class
 * @encode: turns a value of the codec's type into payload bytes; must be deterministic
 * @decode: turns payload bytes into a value of the codec's type; must reject
 *   malformed input
 *
 * The virtual methods of [class@BbSync.Codec]. Subclasses set the
 * [property@BbSync.Codec:value-type] at construction.
 *
 * Since: 0.1
 */
struct _BbCodecClass
{
  GObjectClass parent_class;

  GBytes *(*encode) (BbCodec  *self,
                     GVariant *value,
                     GError  **error);
  GVariant *(*decode) (BbCodec *self,
                       GBytes  *payload,
                       GError **error);

  /*< private >*/
  gpointer padding[8];
};

BB_AVAILABLE_IN_ALL
BbCodec *bb_codec_new_string (void);
BB_AVAILABLE_IN_ALL
BbCodec *bb_codec_new_bytes (void);
BB_AVAILABLE_IN_ALL
BbCodec *bb_codec_new_json (const GVariantType *type);

BB_AVAILABLE_IN_ALL
const GVariantType *bb_codec_get_value_type (BbCodec *self);
BB_AVAILABLE_IN_ALL
GBytes *bb_codec_encode (BbCodec  *self,
                         GVariant *value,
                         GError  **error);
BB_AVAILABLE_IN_ALL
GVariant *bb_codec_decode (BbCodec *self,
                           GBytes  *payload,
                           GError **error);

G_END_DECLS
