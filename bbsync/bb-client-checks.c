/* bb-client-checks.c: the checks every endpoint shares: of the caller's arguments before
 * anything is sent, and of the fields a server's answer must echo. Apart so that each
 * endpoint file holds only its own requests and answers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-i18n-private.h"
#include <string.h>

#include "bb-client-private.h"
#include "bb-error.h"
#include "bb-protocol.h"

/* ------------------------------------------------------------------------------------ */
/* Answer checks                                                                         */

gboolean
bb_client_check_equal (const char *field, const char *what, const char *got, const char *want,
                       GError **error)
{
  if (g_strcmp0 (got, want) == 0)
    return TRUE;
  /* “<field>: <what> mismatch” keeps the reference client's wording. */
  g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL,
               _ ("%s: %s mismatch: the server answered “%s”, expected “%s”"), field, what,
               got != NULL ? got : "(null)", want != NULL ? want : "(null)");
  return FALSE;
}

/* Re-labels an encoding error of server data as a protocol violation (the decoders
 * report INVALID_INPUT, which is meant for caller-supplied data). */
gboolean
bb_client_as_protocol_error (GError **error)
{
  if (error != NULL && *error != NULL)
    (*error)->code = BB_SYNC_ERROR_PROTOCOL;
  return FALSE;
}

GBytes *
bb_client_decode_base64_field (const char *text, gssize expected_len, const char *field,
                               GError **error)
{
  GBytes *bytes;

  if (text == NULL)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL, _ ("%s: missing"), field);
      return NULL;
    }
  bytes = bb_protocol_base64_decode (text, expected_len, field, error);
  if (bytes == NULL)
    bb_client_as_protocol_error (error);
  return bytes;
}

gboolean
bb_client_validate_lower_hex_field (const char *text, gsize expected_len, const char *field,
                                    GError **error)
{
  if (text == NULL)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL, _ ("%s: missing"), field);
      return FALSE;
    }
  if (!bb_protocol_validate_lower_hex (text, expected_len, field, error))
    return bb_client_as_protocol_error (error);
  return TRUE;
}

/* Whether @token is an RFC 6750 §2.1 b64token of 1 to
 * BB_CLIENT_MAX_ACCESS_TOKEN_LENGTH characters: ALPHA / DIGIT / "-" / "." / "_" / "~" /
 * "+" / "/", then optional "="s. Anything else (CR LF, spaces, quotes) could smuggle
 * headers or break the Authorization line the token goes into. */
gboolean
bb_client_access_token_is_valid (const char *token)
{
  gsize i = 0;

  if (token == NULL)
    return FALSE;
  while (token[i] != '\0' && (g_ascii_isalnum (token[i]) || strchr ("-._~+/", token[i]) != NULL))
    i++;
  if (i == 0)
    return FALSE;
  while (token[i] == '=')
    i++;
  return token[i] == '\0' && i <= BB_CLIENT_MAX_ACCESS_TOKEN_LENGTH;
}

/* ------------------------------------------------------------------------------------ */
/* Argument checks                                                                       */

/* The checks of the arguments of a call, before anything is sent. Each does nothing
 * once *@error is set, so that a call runs its checks in a row and hands the first
 * failure to bb_client_report_bad_arguments(). */

void
bb_client_check_id_arg (const char *text, gsize len, const char *field, GError **error)
{
  if (*error != NULL)
    return;
  if (text == NULL)
    g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT, _ ("%s: missing"), field);
  else
    bb_protocol_validate_lower_hex (text, len, field, error);
}

void
bb_client_check_key_arg (GBytes *key, const char *field, GError **error)
{
  if (*error == NULL && (key == NULL || g_bytes_get_size (key) != 32))
    g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT, _ ("%s: expected 32 bytes"),
                 field);
}

void
bb_client_check_signature_arg (GBytes *signature, GError **error)
{
  if (*error == NULL
      && (signature == NULL || g_bytes_get_size (signature) != BB_PROTOCOL_SIGNATURE_SIZE))
    g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                 _ ("intentSignature: expected %d bytes"), BB_PROTOCOL_SIGNATURE_SIZE);
}

/* Ends a call whose arguments failed a check (@error, taken) through its callback,
 * before anything is sent, and returns TRUE; returns FALSE when @error is NULL.
 * Arguments often come from a binding, whose caller a g_return_if_fail() would leave
 * waiting for a callback that never runs. */
gboolean
bb_client_report_bad_arguments (BbClient *self, gpointer source_tag, GAsyncReadyCallback callback,
                                gpointer user_data, GError *error)
{
  if (error == NULL)
    return FALSE;
  g_task_report_error (self, callback, user_data, source_tag, error);
  return TRUE;
}
