/* bb-protocol-origin.c: canonical server origins and their hashes
 *
 * The origin rules of the reference client, on top of the net/url port (bb-go-url.c): an
 * origin is bound into join requests, so its canonical form is part of the protocol.
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
/* Server origins                                                                       */

/**
 * bb_protocol_canonical_origin:
 * @origin: a server origin such as `https://sync.example`
 * @error: return location for a [struct@GLib.Error]
 *
 * Validates and canonicalises a server origin the way the reference client does: the
 * scheme must be `https` (any case), there must be a host and nothing but an optional
 * port (no userinfo, path, query or fragment), the host must be lower-case ASCII made of
 * `a-z 0-9 -` labels (an IDNA A-label host), a port must be decimal 1 to 65535 without
 * leading zeros and is dropped when it is 443, and the result must not exceed 128 bytes.
 *
 * Returns: (transfer full): the canonical origin, or %NULL with
 *   %BB_SYNC_ERROR_INVALID_INPUT
 *
 * Since: 0.1
 */
gchar *
bb_protocol_canonical_origin (const char *origin, GError **error)
{
  BbProtocolUrl url;
  g_autofree char *reason = NULL;
  g_autofree char *hostname = NULL;
  const char *port = NULL;
  const char *colon;
  GString *canonical;

  g_return_val_if_fail (origin != NULL, NULL);

  if (!bb_protocol_url_parse (origin, &url, &reason))
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("server origin: cannot be parsed: %s"), reason);
      return NULL;
    }
  if (strcmp (url.scheme, "https") != 0)
    {
      bb_protocol_url_clear (&url);
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("server origin: scheme must be https"));
      return NULL;
    }
  if (url.opaque || url.host[0] == '\0' || url.has_user || url.path_len != 0
      || url.raw_query[0] != '\0' || url.fragment_len != 0)
    {
      bb_protocol_url_clear (&url);
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("server origin: must contain only scheme, host, and optional port"));
      return NULL;
    }

  /* Hostname() and Port(): split at the last ':' when what follows is a valid port. */
  colon = strrchr (url.host, ':');
  if (colon != NULL && bb_protocol_url_valid_optional_port (colon, strlen (colon)))
    {
      hostname = g_strndup (url.host, (gsize)(colon - url.host));
      port = colon + 1;
    }
  else
    hostname = g_strdup (url.host);

  for (const char *c = hostname;; c++)
    {
      if (*c == '\0')
        {
          if (c == hostname)
            goto not_lower_ascii;
          break;
        }
      if ((guchar)*c >= 0x80 || g_ascii_isupper (*c))
        goto not_lower_ascii;
    }

  if (hostname[0] == '.' || g_str_has_suffix (hostname, ".") || strstr (hostname, "..") != NULL)
    goto not_a_label;
  for (const char *label = hostname; label != NULL;)
    {
      const char *dot = strchr (label, '.');
      gsize len = dot ? (gsize)(dot - label) : strlen (label);
      if (len > 0 && (label[0] == '-' || label[len - 1] == '-'))
        goto not_a_label;
      for (gsize i = 0; i < len; i++)
        if (!(g_ascii_islower (label[i]) || g_ascii_isdigit (label[i]) || label[i] == '-'))
          goto not_a_label;
      label = dot ? dot + 1 : NULL;
    }

  if (port != NULL && *port != '\0')
    {
      guint64 value = 0;
      gsize digits = strlen (port);
      /* Digits only (checked above); more than 5 digits cannot be canonical or in range. */
      if (digits > 5 || port[0] == '0')
        goto bad_port;
      for (gsize i = 0; i < digits; i++)
        value = value * 10 + (guint64)(port[i] - '0');
      if (value == 0 || value > 65535)
        goto bad_port;
      if (value == 443)
        port = NULL;
    }
  else
    port = NULL;

  canonical = g_string_new ("https://");
  g_string_append (canonical, hostname);
  if (port != NULL)
    {
      g_string_append_c (canonical, ':');
      g_string_append (canonical, port);
    }
  bb_protocol_url_clear (&url);
  if (canonical->len > BB_PROTOCOL_MAX_ORIGIN_LENGTH)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("server origin: exceeds maximum %d bytes"), BB_PROTOCOL_MAX_ORIGIN_LENGTH);
      g_string_free (canonical, TRUE);
      return NULL;
    }
  return g_string_free (canonical, FALSE);

not_lower_ascii:
  bb_protocol_url_clear (&url);
  g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
               _ ("server origin: host must be lowercase ASCII"));
  return NULL;

not_a_label:
  bb_protocol_url_clear (&url);
  g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
               _ ("server origin: host must be an IDNA A-label host"));
  return NULL;

bad_port:
  bb_protocol_url_clear (&url);
  g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
               _ ("server origin: port must be canonical (1 to 65535, no leading zeros)"));
  return NULL;
}

/**
 * bb_protocol_server_origin_hash:
 * @origin: a canonical server origin
 * @error: return location for a [struct@GLib.Error]
 *
 * Computes SHA-256 of a server origin for the join-request payload. It is only defined
 * for an origin that is already canonical: `https://sync.example:443` is an error, not
 * a synonym of `https://sync.example`.
 *
 * Returns: (transfer full): the 32-byte hash, or %NULL with %BB_SYNC_ERROR_INVALID_INPUT
 *
 * Since: 0.1
 */
GBytes *
bb_protocol_server_origin_hash (const char *origin, GError **error)
{
  g_autofree char *canonical = NULL;
  guint8 *out;

  g_return_val_if_fail (origin != NULL, NULL);

  canonical = bb_protocol_canonical_origin (origin, error);
  if (canonical == NULL)
    return NULL;
  if (strcmp (canonical, origin) != 0)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("server origin: must be canonical (“%s”, not “%s”)"), canonical, origin);
      return NULL;
    }
  out = g_malloc (32);
  bb_crypto_sha256 ((const guint8 *)origin, strlen (origin), out);
  return g_bytes_new_take (out, 32);
}
