/* fuzz-json-responses.c: the JSON bodies of protocol §6 under libFuzzer
 *
 * The first byte picks the message type (requests too, since the reference server parses
 * them from the network), or the time parser; the rest is the body. Whatever parses must
 * serialise, parse again, and serialise to the same text: the writer and the reader agree
 * on every field.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../msg-types.h"
#include "bb-protocol-messages-private.h"

static void
check_message (const MsgType *type, const char *data, gsize len)
{
  gpointer first = g_malloc0 (type->size);
  gpointer second = g_malloc0 (type->size);
  GError *error = NULL;
  char *json1, *json2;

  if (!type->parse (first, data, (gssize)len, &error))
    {
      /* A failure is a protocol error with a message, and leaves the struct zeroed. */
      if (error == NULL || error->message == NULL || error->message[0] == '\0')
        abort ();
      for (gsize i = 0; i < type->size; i++)
        if (((guint8 *)first)[i] != 0)
          abort ();
      g_error_free (error);
      g_free (first);
      g_free (second);
      return;
    }

  json1 = type->to_json (first);
  if (!type->parse (second, json1, -1, &error))
    {
      g_printerr ("%s: re-parse of %s failed: %s\n", type->name, json1, error->message);
      abort ();
    }
  json2 = type->to_json (second);
  if (strcmp (json1, json2) != 0)
    {
      g_printerr ("%s: %s\n    != %s\n", type->name, json1, json2);
      abort ();
    }

  type->clear (first);
  type->clear (second);
  g_free (first);
  g_free (second);
  g_free (json1);
  g_free (json2);
}

static void
check_time (const char *data, gsize len)
{
  char *text = g_strndup (data, len);
  GDateTime *dt = bb_msg_parse_time (text, "t", NULL);

  if (dt != NULL)
    {
      char *formatted = bb_msg_format_time (dt);
      GDateTime *again = bb_msg_parse_time (formatted, "t", NULL);

      if (again == NULL || !g_date_time_equal (dt, again)
          || g_date_time_get_utc_offset (dt) != g_date_time_get_utc_offset (again))
        {
          g_printerr ("time %s -> %s does not round-trip\n", text, formatted);
          abort ();
        }
      g_date_time_unref (again);
      g_date_time_unref (dt);
      g_free (formatted);
    }
  g_free (text);
}

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

/* A critical is a finding too: among others, a message carrying a secret that outgrew the
 * buffer its writer measured for it. */
int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  guint selector;

  if (size < 1)
    return 0;
  selector = data[0] % (G_N_ELEMENTS (msg_types) + 1);
  if (selector == G_N_ELEMENTS (msg_types))
    check_time ((const char *)data + 1, size - 1);
  else
    check_message (&msg_types[selector], (const char *)data + 1, size - 1);
  return 0;
}
