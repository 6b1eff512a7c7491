/* bb-codec.c: the codec base class, and the string and bytes codecs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-codec.h"
#include "bb-codec-private.h"
#include "bb-error.h"

#include "bb-i18n-private.h"
#include <string.h>

/**
 * BbCodec:
 *
 * Turns the values of a collection into item payload bytes and back.
 *
 * Every collection owns one codec. Values are [struct@GLib.Variant]s of the codec's
 * [property@BbSync.Codec:value-type]; the payload is what is encrypted and uploaded. bbsync
 * ships three codecs, which match the codecs of the Go reference client byte for byte:
 *
 * - [ctor@BbSync.Codec.new_string]: `s` values as their raw UTF-8 bytes;
 * - [ctor@BbSync.Codec.new_bytes]: `ay` values as the bytes themselves;
 * - [ctor@BbSync.Codec.new_json]: any JSON-representable type as the JSON text Go's
 *   `encoding/json` writes for the corresponding Go value (the reference client's default).
 *
 * Encoding must be deterministic: the engine decides whether a value changed by comparing
 * its encoding with the payload it last synced, so two clients that encode one value
 * differently upload it to each other forever. An app can subclass `BbCodec` for its own
 * format; the subclass sets [property@BbSync.Codec:value-type] at construction and implements
 * both virtual methods.
 *
 * The shipped codecs keep no state, so one codec may encode and decode in several threads
 * at once.
 *
 * Since: 0.1
 */

typedef struct
{
  GVariantType *value_type;
} BbCodecPrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (BbCodec, bb_codec, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_VALUE_TYPE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
bb_codec_constructed (GObject *object)
{
  BbCodec *self = BB_CODEC (object);
  BbCodecPrivate *priv = bb_codec_get_instance_private (self);

  G_OBJECT_CLASS (bb_codec_parent_class)->constructed (object);

  if (priv->value_type == NULL || !g_variant_type_is_definite (priv->value_type))
    {
      g_critical ("%s: the value-type property must be set to a definite type at construction",
                  G_OBJECT_TYPE_NAME (object));
      g_clear_pointer (&priv->value_type, g_variant_type_free);
      priv->value_type = g_variant_type_copy (G_VARIANT_TYPE_VARIANT);
    }
}

static void
bb_codec_finalize (GObject *object)
{
  BbCodec *self = BB_CODEC (object);
  BbCodecPrivate *priv = bb_codec_get_instance_private (self);

  g_clear_pointer (&priv->value_type, g_variant_type_free);

  G_OBJECT_CLASS (bb_codec_parent_class)->finalize (object);
}

static void
bb_codec_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BbCodec *self = BB_CODEC (object);
  BbCodecPrivate *priv = bb_codec_get_instance_private (self);

  switch (prop_id)
    {
      case PROP_VALUE_TYPE:
        g_value_set_boxed (value, priv->value_type);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bb_codec_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  BbCodec *self = BB_CODEC (object);
  BbCodecPrivate *priv = bb_codec_get_instance_private (self);

  switch (prop_id)
    {
      case PROP_VALUE_TYPE:
        g_clear_pointer (&priv->value_type, g_variant_type_free);
        priv->value_type = g_value_dup_boxed (value);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bb_codec_class_init (BbCodecClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = bb_codec_constructed;
  object_class->finalize = bb_codec_finalize;
  object_class->get_property = bb_codec_get_property;
  object_class->set_property = bb_codec_set_property;

  /**
   * BbCodec:value-type:
   *
   * The type of the values this codec encodes and decodes; a definite
   * [struct@GLib.VariantType], set once at construction.
   *
   * Since: 0.1
   */
  properties[PROP_VALUE_TYPE]
      = g_param_spec_boxed ("value-type", NULL, NULL, G_TYPE_VARIANT_TYPE,
                            G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS
                                | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
bb_codec_init (BbCodec *self)
{
}

/**
 * bb_codec_get_value_type:
 * @self: a codec
 *
 * Gets the type of the values @self encodes and decodes.
 *
 * Returns: (transfer none): the value type
 *
 * Since: 0.1
 */
const GVariantType *
bb_codec_get_value_type (BbCodec *self)
{
  BbCodecPrivate *priv;

  g_return_val_if_fail (BB_IS_CODEC (self), NULL);

  priv = bb_codec_get_instance_private (self);
  return priv->value_type;
}

/**
 * bb_codec_encode:
 * @self: a codec
 * @value: the value to encode, of the codec's [property@BbSync.Codec:value-type]
 * @error: return location for a [struct@GLib.Error]
 *
 * Encodes @value into payload bytes. If @value is a floating reference, it is consumed.
 *
 * A value of another type than the codec's fails with %BB_SYNC_ERROR_INVALID_INPUT, as
 * does a value the codec cannot represent (for the JSON codec: a NaN or infinite double,
 * or a `v` that holds a type JSON cannot represent).
 *
 * Returns: (transfer full): the payload, or %NULL with @error set
 *
 * Since: 0.1
 */
GBytes *
bb_codec_encode (BbCodec *self, GVariant *value, GError **error)
{
  BbCodecClass *klass;
  BbCodecPrivate *priv;
  g_autoptr (GVariant) owned = NULL;
  g_autoptr (GError) local_error = NULL;
  GBytes *payload;

  g_return_val_if_fail (BB_IS_CODEC (self), NULL);
  g_return_val_if_fail (value != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  owned = g_variant_ref_sink (value);
  klass = BB_CODEC_GET_CLASS (self);
  priv = bb_codec_get_instance_private (self);

  if (!g_variant_is_of_type (owned, priv->value_type))
    {
      g_autofree char *expected = g_variant_type_dup_string (priv->value_type);

      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("value: expected type “%s”, got “%s”"), expected,
                   g_variant_get_type_string (owned));
      return NULL;
    }
  if (klass->encode == NULL)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_UNSUPPORTED,
                   _ ("%s does not implement encode"), G_OBJECT_TYPE_NAME (self));
      return NULL;
    }

  payload = klass->encode (self, owned, &local_error);
  if (payload == NULL && local_error == NULL)
    {
      g_critical ("%s::encode returned NULL without setting an error", G_OBJECT_TYPE_NAME (self));
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_FAILED, _ ("%s: encoding failed"),
                   G_OBJECT_TYPE_NAME (self));
      return NULL;
    }
  if (local_error != NULL)
    {
      g_clear_pointer (&payload, g_bytes_unref);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  return payload;
}

/**
 * bb_codec_decode:
 * @self: a codec
 * @payload: the payload bytes
 * @error: return location for a [struct@GLib.Error]
 *
 * Decodes payload bytes into a value of the codec's [property@BbSync.Codec:value-type].
 * Malformed payloads fail with %BB_SYNC_ERROR_INVALID_INPUT and a message that says
 * what is wrong and where.
 *
 * Returns: (transfer full): the value (never floating), or %NULL with @error set
 *
 * Since: 0.1
 */
GVariant *
bb_codec_decode (BbCodec *self, GBytes *payload, GError **error)
{
  BbCodecClass *klass;
  BbCodecPrivate *priv;
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GVariant) value = NULL;

  g_return_val_if_fail (BB_IS_CODEC (self), NULL);
  g_return_val_if_fail (payload != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  klass = BB_CODEC_GET_CLASS (self);
  priv = bb_codec_get_instance_private (self);

  if (klass->decode == NULL)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_UNSUPPORTED,
                   _ ("%s does not implement decode"), G_OBJECT_TYPE_NAME (self));
      return NULL;
    }

  value = klass->decode (self, payload, &local_error);
  if (value != NULL)
    g_variant_take_ref (value);
  if (local_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
  if (value == NULL || !g_variant_is_of_type (value, priv->value_type))
    {
      g_critical ("%s::decode returned %s", G_OBJECT_TYPE_NAME (self),
                  value == NULL ? "NULL without setting an error" : "a value of the wrong type");
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_FAILED, _ ("%s: decoding failed"),
                   G_OBJECT_TYPE_NAME (self));
      return NULL;
    }
  return g_steal_pointer (&value);
}

/* ------------------------------------------------------------------------------------ */
/* The string codec                                                                     */

#define BB_TYPE_STRING_CODEC (bb_string_codec_get_type ())
G_DECLARE_FINAL_TYPE (BbStringCodec, bb_string_codec, BB, STRING_CODEC, BbCodec)

struct _BbStringCodec
{
  BbCodec parent_instance;
};

G_DEFINE_FINAL_TYPE (BbStringCodec, bb_string_codec, BB_TYPE_CODEC)

static GBytes *
bb_string_codec_encode (BbCodec *codec, GVariant *value, GError **error)
{
  gsize len;
  const char *str = g_variant_get_string (value, &len);

  return g_bytes_new (str, len);
}

static GVariant *
bb_string_codec_decode (BbCodec *codec, GBytes *payload, GError **error)
{
  gsize len;
  const char *data = g_bytes_get_data (payload, &len);
  const char *bad;

  if (len > 0 && memchr (data, '\0', len) != NULL)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("string payload: NUL byte at offset %zu"),
                   (gsize)((const char *)memchr (data, '\0', len) - data));
      return NULL;
    }
  if (len > 0 && !g_utf8_validate_len (data, len, &bad))
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("string payload: invalid UTF-8 at offset %zu"), (gsize)(bad - data));
      return NULL;
    }
  if (len == 0)
    return g_variant_ref_sink (g_variant_new_string (""));
  return g_variant_ref_sink (g_variant_new_take_string (g_strndup (data, len)));
}

static void
bb_string_codec_class_init (BbStringCodecClass *klass)
{
  BbCodecClass *codec_class = BB_CODEC_CLASS (klass);

  codec_class->encode = bb_string_codec_encode;
  codec_class->decode = bb_string_codec_decode;
}

static void
bb_string_codec_init (BbStringCodec *self)
{
}

/**
 * bb_codec_new_string:
 *
 * Creates the string codec: values of type `s`, encoded as their UTF-8 bytes unchanged
 * (without a terminating NUL); an empty payload decodes to the empty string.
 *
 * A [struct@GLib.Variant] string must be valid UTF-8 without NUL bytes, so decoding
 * fails with %BB_SYNC_ERROR_INVALID_INPUT on a payload that has invalid UTF-8 or a NUL
 * byte. The Go reference client's string codec accepts any bytes; a Go peer that stores
 * such a string makes the item undecodable here.
 *
 * Returns: (transfer full): a new codec
 *
 * Since: 0.1
 */
BbCodec *
bb_codec_new_string (void)
{
  return g_object_new (BB_TYPE_STRING_CODEC, "value-type", G_VARIANT_TYPE_STRING, NULL);
}

/* ------------------------------------------------------------------------------------ */
/* The bytes codec                                                                      */

#define BB_TYPE_BYTES_CODEC (bb_bytes_codec_get_type ())
G_DECLARE_FINAL_TYPE (BbBytesCodec, bb_bytes_codec, BB, BYTES_CODEC, BbCodec)

struct _BbBytesCodec
{
  BbCodec parent_instance;
};

G_DEFINE_FINAL_TYPE (BbBytesCodec, bb_bytes_codec, BB_TYPE_CODEC)

static GBytes *
bb_bytes_codec_encode (BbCodec *codec, GVariant *value, GError **error)
{
  gsize len;
  const guint8 *data = g_variant_get_fixed_array (value, &len, 1);

  return g_bytes_new (data, len);
}

static GVariant *
bb_bytes_codec_decode (BbCodec *codec, GBytes *payload, GError **error)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (payload, &len);

  /* A copy: the value must not keep the caller's buffer (which may be wiped) alive. */
  return g_variant_ref_sink (g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE, data, len, 1));
}

static void
bb_bytes_codec_class_init (BbBytesCodecClass *klass)
{
  BbCodecClass *codec_class = BB_CODEC_CLASS (klass);

  codec_class->encode = bb_bytes_codec_encode;
  codec_class->decode = bb_bytes_codec_decode;
}

static void
bb_bytes_codec_init (BbBytesCodec *self)
{
}

/**
 * bb_codec_new_bytes:
 *
 * Creates the bytes codec: values of type `ay`, encoded as the bytes themselves. Both
 * directions copy. It never fails.
 *
 * Returns: (transfer full): a new codec
 *
 * Since: 0.1
 */
BbCodec *
bb_codec_new_bytes (void)
{
  return g_object_new (BB_TYPE_BYTES_CODEC, "value-type", G_VARIANT_TYPE_BYTESTRING, NULL);
}
