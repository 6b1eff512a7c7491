/* bb-protocol.c: the BitBoxSync v1 wire constructions: shared helpers, random values, ETags
 *
 * The constructions themselves have files by concern: bb-protocol-encoding.c (hex,
 * base64), bb-protocol-items.c, bb-protocol-intents.c, bb-protocol-invites.c,
 * bb-protocol-origin.c and the net/url port bb-go-url.c. What stays here is what they
 * share and the two small concerns that fit nowhere else.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-protocol.h"
#include "bb-protocol-private.h"
#include "bb-crypto-private.h"
#include "bb-error.h"

#include "bb-i18n-private.h"
#include <string.h>

/* ------------------------------------------------------------------------------------ */
/* Helpers shared by the wire constructions                                             */

void
bb_protocol_put_be64 (guint8 *p, guint64 v)
{
  for (int i = 7; i >= 0; i--)
    {
      p[i] = (guint8)(v & 0xff);
      v >>= 8;
    }
}

/* Checks that @bytes is exactly @len bytes long; @field names it in the message. */
gboolean
bb_protocol_check_size (GBytes *bytes, gsize len, const char *field, GError **error)
{
  if (g_bytes_get_size (bytes) != len)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("%s: must be %u bytes, got %zu"), field, (guint)len,
                   g_bytes_get_size (bytes));
      return FALSE;
    }
  return TRUE;
}

const guint8 *
bb_protocol_bytes_data (GBytes *bytes)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  static const guint8 empty[1] = { 0 };

  /* An empty GBytes may carry a NULL pointer; callers only need a valid address. */
  return data != NULL ? data : empty;
}

gboolean
bb_protocol_kind_code (const char *kind, guint8 *out, GError **error)
{
  if (g_strcmp0 (kind, BB_PROTOCOL_KIND_KEYSTORE) == 0)
    {
      *out = 0x01;
      return TRUE;
    }
  g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_UNSUPPORTED,
               _ ("kind: unsupported identity kind “%s”"), kind ? kind : "(null)");
  return FALSE;
}

/* ------------------------------------------------------------------------------------ */
/* Fresh random values                                                                  */

static gchar *
new_random_hex_id (gsize size)
{
  guint8 id[BB_PROTOCOL_NAMESPACE_ID_SIZE];
  g_autoptr (GBytes) bytes = NULL;

  g_assert (size <= sizeof id);
  bb_crypto_random_bytes (id, size);
  bytes = g_bytes_new (id, size);
  return bb_protocol_hex_encode (bytes);
}

/**
 * bb_protocol_new_namespace_id:
 *
 * Draws a fresh namespace ID: 16 random bytes from the system's cryptographic random
 * number generator, as lower-case hex. Clients choose the IDs of the namespaces they
 * create.
 *
 * Returns: (transfer full): 32 lower-case hex characters
 *
 * Since: 0.1
 */
gchar *
bb_protocol_new_namespace_id (void)
{
  return new_random_hex_id (BB_PROTOCOL_NAMESPACE_ID_SIZE);
}

/**
 * bb_protocol_new_invite_id:
 *
 * Draws a fresh invite ID: 16 random bytes as lower-case hex.
 *
 * Returns: (transfer full): 32 lower-case hex characters
 *
 * Since: 0.1
 */
gchar *
bb_protocol_new_invite_id (void)
{
  return new_random_hex_id (BB_PROTOCOL_INVITE_ID_SIZE);
}

/**
 * bb_protocol_new_dek:
 *
 * Draws a fresh 32-byte namespace data-encryption key. The returned buffer is wiped
 * when its last reference is dropped.
 *
 * Returns: (transfer full): the key
 *
 * Since: 0.1
 */
GBytes *
bb_protocol_new_dek (void)
{
  guint8 *dek = g_malloc (BB_PROTOCOL_DEK_SIZE);

  bb_crypto_random_bytes (dek, BB_PROTOCOL_DEK_SIZE);
  return bb_crypto_secret_bytes_new_take (dek, BB_PROTOCOL_DEK_SIZE);
}

/**
 * bb_protocol_new_invite_secret:
 *
 * Draws a fresh 32-byte invite secret (the `k` of an invite URI, which never goes to the
 * server). The returned buffer is wiped when its last reference is dropped.
 *
 * Returns: (transfer full): the secret
 *
 * Since: 0.1
 */
GBytes *
bb_protocol_new_invite_secret (void)
{
  guint8 *secret = g_malloc (BB_PROTOCOL_INVITE_SECRET_SIZE);

  bb_crypto_random_bytes (secret, BB_PROTOCOL_INVITE_SECRET_SIZE);
  return bb_crypto_secret_bytes_new_take (secret, BB_PROTOCOL_INVITE_SECRET_SIZE);
}

/* ------------------------------------------------------------------------------------ */
/* ETag / If-Match                                                                      */

/**
 * bb_protocol_etag:
 * @version: an item version
 *
 * Formats the ETag of an item version, the decimal version in double quotes (`"3"`).
 *
 * Returns: (transfer full): the ETag
 *
 * Since: 0.1
 */
gchar *
bb_protocol_etag (guint64 version)
{
  return g_strdup_printf ("\"%" G_GUINT64_FORMAT "\"", version);
}

/**
 * bb_protocol_parse_if_match:
 * @value: (nullable): the If-Match header value, or %NULL if absent
 * @out_has_version: (out) (optional): return location for whether a precondition was
 *   given (also set, to %TRUE, when the value is malformed)
 * @out_version: (out) (optional): return location for the version
 * @error: return location for a [struct@GLib.Error]
 *
 * Parses an If-Match header the way the protocol's servers do. An absent, empty or
 * all-whitespace value means no precondition. Otherwise the value must be exactly a
 * canonical ETag (see bb_protocol_etag()): `3`, `"03"`, `"3" ` or a list are malformed.
 *
 * Bindings do not see the boolean result, which only repeats whether @error was set:
 * they return the pair (has_version, version) and raise the error instead.
 *
 * Returns: (skip): %TRUE on success; %FALSE with %BB_SYNC_ERROR_INVALID_INPUT if malformed
 *
 * Since: 0.1
 */
gboolean
bb_protocol_parse_if_match (const char *value, gboolean *out_has_version, guint64 *out_version,
                            GError **error)
{
  gsize len;
  guint64 version = 0;
  g_autofree char *requoted = NULL;

  if (out_has_version)
    *out_has_version = FALSE;
  if (out_version)
    *out_version = 0;

  if (value == NULL)
    return TRUE;
  {
    gboolean blank = TRUE;
    for (const char *c = value; *c; c++)
      if (!g_ascii_isspace (*c))
        blank = FALSE;
    if (blank)
      return TRUE;
  }

  if (out_has_version)
    *out_has_version = TRUE;
  len = strlen (value);
  if (len < 3 || value[0] != '"' || value[len - 1] != '"')
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("If-Match: must be a quoted decimal version"));
      return FALSE;
    }
  for (gsize i = 1; i < len - 1; i++)
    {
      guint digit;
      if (!g_ascii_isdigit (value[i]))
        goto malformed;
      digit = (guint)(value[i] - '0');
      if (version > (G_MAXUINT64 - digit) / 10)
        goto malformed;
      version = version * 10 + digit;
    }
  requoted = bb_protocol_etag (version);
  if (strcmp (requoted, value) != 0)
    goto malformed;
  if (out_version)
    *out_version = version;
  return TRUE;

malformed:
  g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
               _ ("If-Match: must use canonical ETag encoding"));
  return FALSE;
}
