/* bb-test-utils.c: helpers shared by the C test programs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _GNU_SOURCE /* memmem */

#include "config.h"

#include "bb-test-utils.h"

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
