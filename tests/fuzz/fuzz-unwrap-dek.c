/* fuzz-unwrap-dek.c: libFuzzer target for wrapped-DEK unwrapping and the strict text
 * decoders that carry it (base64) and its neighbours (base64url, hex)
 *
 * Invariants: unwrap never crashes and fails exactly when structure or crypto fail, with
 * the structural error of bb_protocol_validate_wrapped_dek(); every successful decode
 * re-encodes to its input (canonical decoding).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <bbsync/bbsync.h>
#include "bb-test-identity-private.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static BbTestIdentity *identity;

static void
check_unwrap (GBytes *wrapped)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GError) structural = NULL;
  g_autoptr (GBytes) dek = NULL;
  gboolean valid = bb_protocol_validate_wrapped_dek (wrapped, &structural);

  dek = bb_test_identity_unwrap_dek (identity, "11111111111111111111111111111111", wrapped, &error);
  if (dek != NULL)
    {
      g_assert_true (valid);
      g_assert_cmpuint (g_bytes_get_size (dek), ==, 32);
      return;
    }
  g_assert_nonnull (error);
  if (!valid)
    {
      g_assert_true (error->domain == structural->domain);
      g_assert_cmpint (error->code, ==, structural->code);
    }
  else
    g_assert_true (g_error_matches (error, BB_SYNC_ERROR, BB_SYNC_ERROR_CRYPTO));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GBytes) raw = g_bytes_new (data, size);
  g_autofree char *text = g_strndup ((const char *)data, size);
  g_autoptr (GBytes) b64 = NULL;
  g_autoptr (GBytes) b64url = NULL;
  g_autoptr (GBytes) hex = NULL;

  if (identity == NULL)
    identity = bb_test_identity_new ("test-key");

  check_unwrap (raw);

  b64 = bb_protocol_base64_decode (text, -1, "wrappedDek", NULL);
  if (b64 != NULL)
    {
      g_autofree char *enc = bb_protocol_base64_encode (b64);
      g_assert_cmpstr (enc, ==, text);
      check_unwrap (b64);
    }
  b64url = bb_protocol_base64url_decode (text, -1, "inviteProof", NULL);
  if (b64url != NULL)
    {
      g_autofree char *enc = bb_protocol_base64url_encode (b64url);
      g_assert_cmpstr (enc, ==, text);
    }
  hex = bb_protocol_lower_hex_decode (text, -1, "keyId", NULL);
  if (hex != NULL)
    {
      g_autofree char *enc = bb_protocol_hex_encode (hex);
      g_assert_cmpstr (enc, ==, text);
    }
  return 0;
}
