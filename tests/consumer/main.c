/* main.c: a consumer of bbsync through <bbsync/bbsync.h> only
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <bbsync/bbsync.h>
#include <stdio.h>
#include <string.h>

int
main (void)
{
  g_autoptr (BbCodec) codec = bb_codec_new_string ();
  g_autoptr (GVariant) value = g_variant_ref_sink (g_variant_new_string ("Savings"));
  g_autoptr (GBytes) payload = NULL;
  g_autoptr (GVariant) decoded = NULL;
  g_autoptr (GEnumClass) states = NULL;
  g_autoptr (GError) error = NULL;
  GEnumValue *offline;

  /* bb-enum-types.h, generated into the subproject's build folder. */
  states = g_type_class_ref (BB_TYPE_SYNC_STATE);
  offline = g_enum_get_value (states, BB_SYNC_STATE_OFFLINE);
  if (offline == NULL || strcmp (offline->value_nick, "offline") != 0)
    {
      fprintf (stderr, "BbSyncState has no nick “offline”\n");
      return 1;
    }

  payload = bb_codec_encode (codec, value, &error);
  if (payload != NULL)
    decoded = bb_codec_decode (codec, payload, &error);
  if (decoded == NULL)
    {
      fprintf (stderr, "string codec: %s\n", error->message);
      return 1;
    }
  if (!g_variant_equal (value, decoded))
    {
      fprintf (stderr, "string codec: round trip changed the value\n");
      return 1;
    }

  printf ("bbsync %s: codec round trip ok, state nick %s\n", BB_VERSION_S, offline->value_nick);
  return 0;
}
