/* bb-store-private.h: helpers shared by the store records and the SQLite store (private)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <string.h>

#include <glib.h>

#include "bb-crypto-private.h"

G_BEGIN_DECLS

/* Replaces *@field with a copy of @value (NULL stored as ""), returning whether it changed.
 * With @secret, the old string is wiped before it is freed. */
static inline gboolean
bb_store_replace_string (char **field, const char *value, gboolean secret)
{
  if (value == NULL)
    value = "";
  if (*field != NULL && strcmp (*field, value) == 0)
    return FALSE;
  if (secret && *field != NULL)
    bb_crypto_wipe (*field, strlen (*field));
  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

static inline void
bb_store_clear_secret_string (char **field)
{
  if (*field != NULL)
    bb_crypto_wipe (*field, strlen (*field));
  g_clear_pointer (field, g_free);
}

/* Byte-equality with NULL distinct from empty (a stored nil base is not an empty one). */
static inline gboolean
bb_store_bytes_equal (GBytes *a, GBytes *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  return g_bytes_equal (a, b);
}

/* Replaces *@field with a private copy of @value (NULL stays NULL), returning whether it
 * changed. With @secret the copy lives in a buffer that is wiped when released. */
static inline gboolean
bb_store_replace_bytes (GBytes **field, GBytes *value, gboolean secret)
{
  GBytes *copy = NULL;

  if (bb_store_bytes_equal (*field, value))
    return FALSE;
  if (value != NULL)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (value, &len);

      copy = secret ? bb_crypto_secret_bytes_new (data, len) : g_bytes_new (data, len);
    }
  g_clear_pointer (field, g_bytes_unref);
  *field = copy;
  return TRUE;
}

G_END_DECLS
