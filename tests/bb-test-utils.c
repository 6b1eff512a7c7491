/* bb-test-utils.c: helpers shared by the C test programs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _GNU_SOURCE /* memmem */

#include "config.h"

#include "bb-test-utils.h"
#include "bb-crypto-private.h"

#include <string.h>

JsonNode *
bb_test_load_json (const char *name)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", name, NULL);

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

GBytes *
bb_test_hex (const char *hex)
{
  gsize len = strlen (hex);
  guint8 *out;

  g_assert_true (len % 2 == 0);
  out = g_malloc (len / 2 + 1);
  for (gsize i = 0; i < len / 2; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]);
      int lo = g_ascii_xdigit_value (hex[2 * i + 1]);
      g_assert_true (hi >= 0 && lo >= 0);
      out[i] = (guint8)(hi << 4 | lo);
    }
  return g_bytes_new_take (out, len / 2);
}

GBytes *
bb_test_repeat (guint8 byte, gsize len)
{
  guint8 *out = g_malloc (len + 1);

  memset (out, byte, len);
  return g_bytes_new_take (out, len);
}

char *
bb_test_bytes_to_hex (GBytes *bytes)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  GString *s = g_string_sized_new (len * 2 + 1);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (s, "%02x", data[i]);
  return g_string_free (s, FALSE);
}

gboolean
bb_test_bytes_contain (GBytes *haystack, const guint8 *needle, gsize needle_len)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (haystack, &len);

  if (needle_len == 0 || needle_len > len)
    return needle_len == 0;
  return memmem (data, len, needle, needle_len) != NULL;
}

void
bb_test_got_result (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **slot = user_data;

  g_assert_null (*slot);
  *slot = g_object_ref (result);
}

GAsyncResult *
bb_test_await_result (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

typedef struct
{
  gsize address;
  GBytes *content;
} Wipe;

static GMutex wipes_lock;
static GArray *wipes;

static void
wipe_clear (gpointer data)
{
  g_bytes_unref (((Wipe *)data)->content);
}

static void
record_wipe (const void *buf, gsize len, gpointer user_data)
{
  Wipe wipe = { GPOINTER_TO_SIZE (buf), g_bytes_new (buf, len) };

  g_mutex_lock (&wipes_lock);
  g_array_append_val (wipes, wipe);
  g_mutex_unlock (&wipes_lock);
}

void
bb_test_wipes_begin (void)
{
  g_mutex_lock (&wipes_lock);
  g_clear_pointer (&wipes, g_array_unref);
  wipes = g_array_new (FALSE, FALSE, sizeof (Wipe));
  g_array_set_clear_func (wipes, wipe_clear);
  g_mutex_unlock (&wipes_lock);
  bb_crypto_set_wipe_observer (record_wipe, NULL);
}

void
bb_test_wipes_end (void)
{
  bb_crypto_set_wipe_observer (NULL, NULL);
}

/* Calls @match on every record until it returns TRUE. */
static gboolean
find_wipe (gboolean (*match) (const Wipe *wipe, gconstpointer data, gsize len), gconstpointer data,
           gsize len)
{
  gboolean found = FALSE;

  g_mutex_lock (&wipes_lock);
  for (guint i = 0; wipes != NULL && !found && i < wipes->len; i++)
    found = match (&g_array_index (wipes, Wipe, i), data, len);
  g_mutex_unlock (&wipes_lock);
  return found;
}

static gboolean
match_address (const Wipe *wipe, gconstpointer address, gsize min_len)
{
  return wipe->address == GPOINTER_TO_SIZE (address) && g_bytes_get_size (wipe->content) >= min_len;
}

gboolean
bb_test_wiped_at (gconstpointer address, gsize min_len)
{
  return find_wipe (match_address, address, min_len);
}

static gboolean
match_exactly (const Wipe *wipe, gconstpointer data, gsize len)
{
  return g_bytes_get_size (wipe->content) == len
         && memcmp (g_bytes_get_data (wipe->content, NULL), data, len) == 0;
}

gboolean
bb_test_wiped_exactly (gconstpointer data, gsize len)
{
  return find_wipe (match_exactly, data, len);
}

static gboolean
match_containing (const Wipe *wipe, gconstpointer text, gsize len)
{
  return bb_test_bytes_contain (wipe->content, text, len);
}

gboolean
bb_test_wiped_containing (const char *text)
{
  return find_wipe (match_containing, text, strlen (text));
}
