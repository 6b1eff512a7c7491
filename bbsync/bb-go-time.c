/* bb-go-time.c: times as Go's time.Time writes and reads them in JSON
 *
 * RFC 3339 with Go's choices (fraction trimmed, "Z" for UTC, years 1 to 9999); a file
 * of its own because it is a port of Go's rules, not part of any message.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "bb-i18n-private.h"

#include "bb-error.h"
#include "bb-protocol-messages-private.h"

/* ------------------------------------------------------------------------------------ */
/* Times                                                                                */

/* bb_msg_format_time:
 * @time: (nullable): a time; %NULL stands for Go's zero time
 *
 * Formats @time as Go's time.Time MarshalJSON does (RFC 3339 with the fraction's trailing
 * zeros removed, no fraction when it is zero, `Z` for a zero offset). An offset that is
 * not a whole number of minutes cannot be written in RFC 3339, so such a time is written
 * in UTC.
 *
 * Returns: (transfer full): the text, without quotes
 */
char *
bb_msg_format_time (GDateTime *time)
{
  g_autoptr (GDateTime) utc = NULL;
  GString *out;
  GTimeSpan offset;
  int year, month, day, usec;

  if (time == NULL)
    return g_strdup ("0001-01-01T00:00:00Z");

  offset = g_date_time_get_utc_offset (time) / G_TIME_SPAN_SECOND;
  if (offset % 60 != 0)
    {
      utc = g_date_time_to_utc (time);
      time = utc;
      offset = 0;
    }

  out = g_string_sized_new (40);
  g_date_time_get_ymd (time, &year, &month, &day);
  g_string_append_printf (out, "%04d-%02d-%02dT%02d:%02d:%02d", year, month, day,
                          g_date_time_get_hour (time), g_date_time_get_minute (time),
                          g_date_time_get_second (time));
  usec = g_date_time_get_microsecond (time);
  if (usec != 0)
    {
      char frac[8];
      int n = 6;

      g_snprintf (frac, sizeof frac, "%06d", usec);
      while (n > 0 && frac[n - 1] == '0')
        n--;
      g_string_append_c (out, '.');
      g_string_append_len (out, frac, n);
    }
  if (offset == 0)
    g_string_append_c (out, 'Z');
  else
    {
      GTimeSpan minutes = ABS (offset) / 60;
      g_string_append_printf (out, "%c%02d:%02d", offset < 0 ? '-' : '+', (int)(minutes / 60),
                              (int)(minutes % 60));
    }
  return g_string_free (out, FALSE);
}

/* 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z */
#define MIN_UNIX_TIME G_GINT64_CONSTANT (-62135596800)
#define MAX_UNIX_TIME G_GINT64_CONSTANT (253402300799)

static gboolean
parse_digits (const char *text, int n, int min, int max, int *out)
{
  int v = 0;

  for (int i = 0; i < n; i++)
    {
      if (!g_ascii_isdigit (text[i]))
        return FALSE;
      v = v * 10 + (text[i] - '0');
    }
  if (v < min || v > max)
    return FALSE;
  *out = v;
  return TRUE;
}

/* bb_msg_parse_time:
 * @text: RFC 3339 text, without quotes
 * @field: (nullable): the field name for the error message
 * @error: return location for a [struct@GLib.Error]
 *
 * Parses a time as Go's time.Time UnmarshalJSON does: `YYYY-MM-DDTHH:MM:SS`, an
 * optional fraction of one or more digits, then `Z` or `±hh:mm`. GDateTime holds
 * microseconds, so digits beyond the sixth are dropped (truncated, not rounded).
 *
 * Returns: (transfer full): the time, in UTC or with the given offset, or %NULL
 */
GDateTime *
bb_msg_parse_time (const char *text, const char *field, GError **error)
{
  g_autoptr (GTimeZone) tz = NULL;
  g_autoptr (GDateTime) whole = NULL;
  int year, month, day, hour, minute, second, usec = 0;
  int offset = 0;
  gsize len;
  const char *p;

  if (field == NULL)
    field = "time";
  if (text == NULL)
    goto invalid;

  len = strlen (text);
  if (len < 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':'
      || text[16] != ':' || !parse_digits (text, 4, 0, 9999, &year)
      || !parse_digits (text + 5, 2, 1, 12, &month) || !parse_digits (text + 8, 2, 1, 31, &day)
      || !parse_digits (text + 11, 2, 0, 23, &hour) || !parse_digits (text + 14, 2, 0, 59, &minute)
      || !parse_digits (text + 17, 2, 0, 59, &second))
    goto invalid;

  p = text + 19;
  if (*p == '.')
    {
      int n = 0;

      p++;
      if (!g_ascii_isdigit (*p))
        goto invalid;
      for (; g_ascii_isdigit (*p); p++, n++)
        if (n < 6)
          usec = usec * 10 + (*p - '0');
      for (; n < 6; n++)
        usec *= 10;
    }

  if (p[0] == 'Z' && p[1] == '\0')
    tz = g_time_zone_new_utc ();
  else
    {
      int oh, om;

      if ((p[0] != '+' && p[0] != '-') || strlen (p) != 6 || p[3] != ':'
          || !parse_digits (p + 1, 2, 0, 23, &oh) || !parse_digits (p + 4, 2, 0, 59, &om))
        goto invalid;
      offset = (oh * 60 + om) * 60 * (p[0] == '-' ? -1 : 1);
      tz = offset == 0 ? g_time_zone_new_utc () : g_time_zone_new_offset (offset);
    }

  /* Year 0 is valid for Go but not representable in GDateTime; g_date_time_new also
   * rejects impossible dates (February 30) and instants before year 1. */
  if (year == 0 || !g_date_valid_dmy (day, month, year))
    goto invalid;
  whole = g_date_time_new (tz, year, month, day, hour, minute, second);
  /* Keep to instants whose UTC date is in years 1 to 9999, so that g_date_time_to_utc()
   * never fails on a parsed time. */
  if (whole == NULL || g_date_time_to_unix (whole) < MIN_UNIX_TIME
      || g_date_time_to_unix (whole) > MAX_UNIX_TIME)
    goto invalid;
  return g_date_time_add (whole, usec);

invalid:
  g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL,
               _ ("%s: expected an RFC 3339 timestamp"), field);
  return NULL;
}
