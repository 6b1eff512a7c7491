/* test-protocol.c: the protocol layer against its known-answer vectors and rules
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <bbsync/bbsync.h>
#include "bb-protocol-private.h"
#include "bb-invite-private.h"
#include "bb-test-identity-private.h"
#include "bb-test-utils.h"

#include <string.h>

/* ------------------------------------------------------------------------------------ */
/* Helpers                                                                              */

static JsonObject *
load_object (const char *file, JsonNode **out_root)
{
  *out_root = bb_test_load_json (file);
  return json_node_get_object (*out_root);
}

static const char *
str (JsonObject *o, const char *member)
{
  g_assert_true (json_object_has_member (o, member));
  return json_object_get_string_member (o, member);
}

static gint64
num (JsonObject *o, const char *member)
{
  g_assert_true (json_object_has_member (o, member));
  return json_object_get_int_member (o, member);
}

static GBytes *
hexb (JsonObject *o, const char *member)
{
  return bb_test_hex (str (o, member));
}

/* Asserts @error is set with @code and a message containing @needle, then clears it. */
static void
assert_error (GError **error, int code, const char *needle)
{
  g_assert_nonnull (*error);
  if (!g_error_matches (*error, BB_SYNC_ERROR, code) || strstr ((*error)->message, needle) == NULL)
    g_error ("expected BbSyncError %d containing “%s”, got %s %d: %s", code, needle,
             g_quark_to_string ((*error)->domain), (*error)->code, (*error)->message);
  g_clear_error (error);
}

static GBytes *
flip_byte (GBytes *bytes, gsize index)
{
  gsize len;
  guint8 *copy = g_bytes_unref_to_data (g_bytes_ref (bytes), &len);

  g_assert_cmpuint (index, <, len);
  copy[index] ^= 0x01;
  return g_bytes_new_take (copy, len);
}

static GBytes *
truncate_bytes (GBytes *bytes, gsize len)
{
  return g_bytes_new_from_bytes (bytes, 0, len);
}

/* ------------------------------------------------------------------------------------ */
/* Text encodings                                                                       */

static void
test_hex (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *lower64 = g_strnfill (64, 'a');
  g_autofree char *upper64 = g_strdup (lower64);
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GBytes) ab = NULL;
  g_autofree char *enc = NULL;
  const guint8 raw[] = { 0x00, 0x0f, 0xab, 0xff };
  g_autoptr (GBytes) raw_bytes = g_bytes_new (raw, sizeof raw);

  /* §12.1 item 1: lower-hex accepts 64×'a', rejects its first char uppercased. */
  bytes = bb_protocol_lower_hex_decode (lower64, 32, "keyId", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (bytes), ==, 32);
  upper64[0] = 'A';
  g_assert_null (bb_protocol_lower_hex_decode (upper64, 32, "keyId", &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "keyId");

  /* §12.1 item 2: the generic decoder accepts upper case. */
  ab = bb_protocol_hex_decode ("AB", 1, "signature", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (ab), ==, 1);
  g_assert_cmpuint (((const guint8 *)g_bytes_get_data (ab, NULL))[0], ==, 0xab);

  /* §12.1 item 8 and 10: every validator rejects a leading upper-case digit. */
  {
    const struct
    {
      const char *field;
      gsize size;
    } ids[] = {
      { "namespaceId", 16 },   { "keyId", 32 },         { "itemId", 32 },
      { "authPublicKey", 32 }, { "wrapPublicKey", 32 },
    };
    for (gsize i = 0; i < G_N_ELEMENTS (ids); i++)
      {
        g_autofree char *good = g_strnfill (ids[i].size * 2, 'a');
        g_autofree char *bad = g_strdup (good);
        bad[0] = 'A';
        g_assert_true (bb_protocol_validate_lower_hex (good, ids[i].size, ids[i].field, &error));
        g_assert_no_error (error);
        g_assert_false (bb_protocol_validate_lower_hex (bad, ids[i].size, ids[i].field, &error));
        assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, ids[i].field);
      }
  }

  /* Odd length, non-hex, wrong length. */
  g_assert_null (bb_protocol_lower_hex_decode ("abc", -1, "nonceHex", &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "nonceHex");
  g_assert_null (bb_protocol_hex_decode ("0g", -1, "signature", &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "signature");
  g_assert_null (bb_protocol_hex_decode ("ABC", -1, "signature", &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "signature");
  g_assert_null (bb_protocol_lower_hex_decode ("abcd", 3, "inviteId", &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "inviteId");
  g_assert_false (bb_protocol_validate_lower_hex ("ab cd", 2, "inviteId", &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "inviteId");
  g_assert_false (bb_protocol_validate_lower_hex ("", 1, "inviteId", &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "inviteId");

  /* Emitting is lower case; decoding round-trips. */
  enc = bb_protocol_hex_encode (raw_bytes);
  g_assert_cmpstr (enc, ==, "000fabff");
  {
    g_autoptr (GBytes) back = bb_protocol_lower_hex_decode (enc, sizeof raw, "x", &error);
    g_assert_no_error (error);
    g_assert_true (g_bytes_equal (back, raw_bytes));
  }
  {
    g_autoptr (GBytes) empty = g_bytes_new (NULL, 0);
    g_autofree char *e = bb_protocol_hex_encode (empty);
    g_autoptr (GBytes) back = bb_protocol_hex_decode ("", -1, "x", &error);
    g_assert_cmpstr (e, ==, "");
    g_assert_no_error (error);
    g_assert_cmpuint (g_bytes_get_size (back), ==, 0);
  }
}

static void
test_base64 (void)
{
  g_autoptr (GError) error = NULL;
  const guint8 one_two[] = { 1, 2 };
  g_autoptr (GBytes) b12 = g_bytes_new (one_two, sizeof one_two);
  g_autofree char *enc = bb_protocol_base64_encode (b12);
  g_autofree char *with_newline = g_strconcat (enc, "\n", NULL);
  g_autoptr (GBytes) back = NULL;
  const char *bad[] = {
    "AQI",            /* missing padding */
    "AQN=",           /* non-zero trailing bits (01 03 is AQM=; N sets an unused bit) */
    "AR==",           /* non-zero trailing bits with two pads */
    "AQ=I",           /* padding in the middle */
    "AQ==AQ==",       /* padding before the end */
    "====",           /* a quad of padding */
    "A===",           /* three pads */
    " AQI=",          /* leading space */
    "AQ\nI=",         /* embedded newline */
    "AQI=\r\n",       /* trailing CRLF */
    "AQ-_",           /* url alphabet */
    "AQI=\n",   "AQ", /* unpadded */
    "A",        "AQIDBA",
  };

  /* §12.1 item 3. */
  g_assert_cmpstr (enc, ==, "AQI=");
  back = bb_protocol_base64_decode (enc, 2, "value", &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (back, b12));
  g_assert_null (bb_protocol_base64_decode (with_newline, -1, "value", &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "canonical base64");

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      GBytes *b = bb_protocol_base64_decode (bad[i], -1, "ciphertext", &error);
      if (b != NULL)
        g_error ("accepted non-canonical base64 “%s”", bad[i]);
      assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "ciphertext");
    }

  /* Exact length. */
  g_assert_null (bb_protocol_base64_decode ("AQI=", 3, "nonce", &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "nonce");

  /* Round trips of every length class. */
  for (gsize len = 0; len < 40; len++)
    {
      g_autoptr (GBytes) data = bb_test_repeat ((guint8)(0xf0 + len), len);
      g_autofree char *text = bb_protocol_base64_encode (data);
      g_autoptr (GBytes) dec = bb_protocol_base64_decode (text, (gssize)len, "x", &error);
      g_autofree char *gtext = g_base64_encode (g_bytes_get_data (data, NULL), len);
      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (dec, data));
      g_assert_cmpstr (text, ==, gtext);
    }
}

static void
test_base64url (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) secret = bb_test_repeat (0x44, 32);
  g_autofree char *enc = bb_protocol_base64url_encode (secret);
  g_autoptr (GBytes) back = NULL;
  g_autofree char *padded = g_strconcat (enc, "=", NULL);
  g_autofree char *non_canonical = g_strdup (enc);
  g_autofree char *short_one = g_strndup (enc, 42);

  g_assert_cmpstr (enc, ==, "REREREREREREREREREREREREREREREREREREREREREQ");
  back = bb_protocol_base64url_decode (enc, 32, "inviteSecret", &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (back, secret));

  /* Padding, even where standard base64 would need it. */
  g_assert_null (bb_protocol_base64url_decode (padded, 32, "inviteSecret", &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "unpadded base64url");
  g_assert_null (bb_protocol_base64url_decode ("AQ==", -1, "inviteProof", &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "unpadded base64url");

  /* Non-canonical trailing bits: 'Q' (010000) carries 4 unused zero bits; 'R' sets one. */
  non_canonical[42] = 'R';
  g_assert_null (bb_protocol_base64url_decode (non_canonical, 32, "inviteSecret", &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "canonical base64url");

  /* Wrong length, impossible length, wrong alphabet, whitespace. */
  g_assert_null (bb_protocol_base64url_decode (short_one, 32, "inviteSecret", &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "inviteSecret");
  g_assert_null (bb_protocol_base64url_decode ("A", -1, "inviteSecret", &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "inviteSecret");
  g_assert_null (bb_protocol_base64url_decode ("ab+/", -1, "inviteSecret", &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "inviteSecret");
  g_assert_null (bb_protocol_base64url_decode ("abcd\n", -1, "inviteSecret", &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "inviteSecret");

  for (gsize len = 0; len < 40; len++)
    {
      g_autoptr (GBytes) data = bb_test_repeat ((guint8)(0xfb + len), len);
      g_autofree char *text = bb_protocol_base64url_encode (data);
      g_autoptr (GBytes) dec = bb_protocol_base64url_decode (text, (gssize)len, "x", &error);
      g_assert_no_error (error);
      g_assert_null (strchr (text, '='));
      g_assert_null (strchr (text, '+'));
      g_assert_null (strchr (text, '/'));
      g_assert_true (g_bytes_equal (dec, data));
    }
}

/* ------------------------------------------------------------------------------------ */
/* protocol.json                                                                        */

static JsonObject *
identity_entry (JsonObject *root, const char *label)
{
  JsonArray *ids = json_object_get_array_member (root, "identities");

  for (guint i = 0; i < json_array_get_length (ids); i++)
    {
      JsonObject *o = json_array_get_object_element (ids, i);
      if (g_strcmp0 (json_object_get_string_member (o, "label"), label) == 0)
        return o;
    }
  g_error ("no identity %s in the vectors", label);
  return NULL;
}

/* Bytes decoded before a decode fails may be most of a secret: they are wiped before the
 * buffer is freed. "c2VjcmV0" is the encoding of "secret". */
static void
test_failed_decode_wiped (void)
{
  g_autoptr (GError) error = NULL;

  /* A bad character after two good quads, in either alphabet. */
  bb_test_wipes_begin ();
  g_assert_null (bb_protocol_base64url_decode ("c2VjcmV0c2VjcmV0!AAA", -1, "inviteSecret", &error));
  bb_test_wipes_end ();
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "inviteSecret");
  g_assert_true (bb_test_wiped_exactly ("secretsecret", 12));

  bb_test_wipes_begin ();
  g_assert_null (bb_protocol_base64_decode ("c2VjcmV0c2VjcmV0!AAA", -1, "challenge", &error));
  bb_test_wipes_end ();
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "challenge");
  g_assert_true (bb_test_wiped_exactly ("secretsecret", 12));

  /* Standard base64 that decodes but is refused: the wrong length, non-zero trailing
   * bits ("secre" is c2VjcmU=). */
  bb_test_wipes_begin ();
  g_assert_null (bb_protocol_base64_decode ("c2VjcmV0", 5, "challenge", &error));
  bb_test_wipes_end ();
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "challenge");
  g_assert_true (bb_test_wiped_exactly ("secret", 6));

  bb_test_wipes_begin ();
  g_assert_null (bb_protocol_base64_decode ("c2VjcmV=", -1, "challenge", &error));
  bb_test_wipes_end ();
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "challenge");
  g_assert_true (bb_test_wiped_exactly ("secre", 5));
}

static void
test_vectors_identities (void)
{
  g_autoptr (JsonNode) node = NULL;
  JsonObject *root = load_object ("protocol.json", &node);
  JsonArray *ids = json_object_get_array_member (root, "identities");

  g_assert_cmpuint (json_array_get_length (ids), >, 0);
  for (guint i = 0; i < json_array_get_length (ids); i++)
    {
      JsonObject *o = json_array_get_object_element (ids, i);
      g_autoptr (BbTestIdentity) id = bb_test_identity_new (str (o, "label"));
      g_autoptr (GBytes) auth = hexb (o, "auth_public_key");
      g_autoptr (GBytes) wrap = hexb (o, "wrap_public_key");
      g_autofree char *key_id = bb_protocol_key_id (auth);
      g_autofree char *prop_key_id = NULL;
      g_autofree char *prop_label = NULL;
      g_autoptr (GBytes) prop_auth = NULL;

      bb_test_assert_bytes_hex (bb_test_identity_get_auth_public_key (id),
                                str (o, "auth_public_key"));
      bb_test_assert_bytes_hex (bb_test_identity_get_wrap_public_key (id),
                                str (o, "wrap_public_key"));
      g_assert_cmpstr (bb_test_identity_get_key_id (id), ==, str (o, "key_id"));
      g_assert_cmpstr (key_id, ==, str (o, "key_id"));
      g_assert_cmpstr (bb_test_identity_get_label (id), ==, str (o, "label"));
      g_object_get (id, "key-id", &prop_key_id, "label", &prop_label, "auth-public-key", &prop_auth,
                    NULL);
      g_assert_cmpstr (prop_key_id, ==, str (o, "key_id"));
      g_assert_cmpstr (prop_label, ==, str (o, "label"));
      g_assert_true (g_bytes_equal (prop_auth, auth));
      g_assert_true (g_bytes_equal (bb_test_identity_get_wrap_public_key (id), wrap));
    }
}

static void
test_vectors_collection_keys (void)
{
  g_autoptr (JsonNode) node = NULL;
  JsonObject *root = load_object ("protocol.json", &node);
  JsonArray *arr = json_object_get_array_member (root, "collection_keys");

  g_assert_cmpuint (json_array_get_length (arr), >, 0);
  for (guint i = 0; i < json_array_get_length (arr); i++)
    {
      g_autoptr (GError) error = NULL;
      JsonObject *o = json_array_get_object_element (arr, i);
      g_autoptr (GBytes) dek = hexb (o, "dek");
      g_autoptr (GBytes) logical = bb_protocol_logical_key (str (o, "collection"), str (o, "key"));
      g_autofree char *item_id
          = bb_protocol_item_id (dek, str (o, "collection"), str (o, "key"), &error);
      g_assert_no_error (error);
      bb_test_assert_bytes_hex (logical, str (o, "logical_key_bytes"));
      g_assert_cmpstr (item_id, ==, str (o, "item_id"));
    }
}

static void
test_vectors_items (void)
{
  g_autoptr (JsonNode) node = NULL;
  JsonObject *root = load_object ("protocol.json", &node);
  JsonArray *arr = json_object_get_array_member (root, "items");

  g_assert_cmpuint (json_array_get_length (arr), >, 0);
  for (guint i = 0; i < json_array_get_length (arr); i++)
    {
      g_autoptr (GError) error = NULL;
      JsonObject *o = json_array_get_object_element (arr, i);
      const char *logical_text = str (o, "logical_key");
      const char *ns = str (o, "namespace_id");
      const char *item = str (o, "item_id");
      guint64 version = (guint64)num (o, "version");
      g_autoptr (GBytes) dek = hexb (o, "dek");
      g_autoptr (GBytes) logical = g_bytes_new (logical_text, strlen (logical_text));
      g_autoptr (GBytes) blob_key = bb_protocol_derive_blob_key (dek, &error);
      g_autoptr (GBytes) map_key = bb_protocol_derive_map_key (dek, &error);
      g_autofree char *item_id = bb_protocol_item_id_for_logical_key (dek, logical, &error);
      g_autoptr (GBytes) aad = bb_protocol_item_aad (ns, item, version, &error);
      g_autoptr (GBytes) nonce = hexb (o, "nonce");
      g_autoptr (GBytes) ciphertext = hexb (o, "ciphertext");
      g_autoptr (GBytes) plaintext = hexb (o, "plaintext");
      g_autoptr (GBytes) decrypted = NULL;
      g_autoptr (GBytes) reencrypted = NULL;
      g_autoptr (GBytes) out_nonce = NULL;
      g_autoptr (GBytes) out_aad = NULL;

      g_assert_no_error (error);
      bb_test_assert_bytes_hex (blob_key, str (o, "blob_key"));
      bb_test_assert_bytes_hex (map_key, str (o, "map_key"));
      g_assert_cmpstr (item_id, ==, item);
      bb_test_assert_bytes_hex (aad, str (o, "aad"));
      g_assert_cmpuint (g_bytes_get_size (aad), ==, BB_PROTOCOL_AAD_SIZE);

      decrypted = bb_protocol_decrypt_item (dek, ns, item, version, nonce, aad, ciphertext, &error);
      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (decrypted, plaintext));

      reencrypted = bb_protocol_encrypt_item_with_key (blob_key, ns, item, version, plaintext,
                                                       nonce, &out_nonce, &out_aad, &error);
      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (reencrypted, ciphertext));
      g_assert_true (g_bytes_equal (out_nonce, nonce));
      g_assert_true (g_bytes_equal (out_aad, aad));
    }
}

static void
test_vectors_wrapped_deks (void)
{
  g_autoptr (JsonNode) node = NULL;
  JsonObject *root = load_object ("protocol.json", &node);
  JsonArray *arr = json_object_get_array_member (root, "wrapped_deks");

  g_assert_cmpuint (json_array_get_length (arr), >, 0);
  for (guint i = 0; i < json_array_get_length (arr); i++)
    {
      g_autoptr (GError) error = NULL;
      JsonObject *o = json_array_get_object_element (arr, i);
      JsonObject *idv = identity_entry (root, str (o, "recipient_label"));
      const char *ns = str (o, "namespace_id");
      g_autoptr (GBytes) priv = hexb (o, "recipient_wrap_private_key");
      g_autoptr (GBytes) wrapped = hexb (o, "wrapped_dek");
      g_autoptr (GBytes) dek = hexb (o, "dek");
      g_autoptr (GBytes) wrap_pub = hexb (idv, "wrap_public_key");
      g_autoptr (BbTestIdentity) id = bb_test_identity_new (str (o, "recipient_label"));
      g_autoptr (GBytes) unwrapped = NULL;
      g_autoptr (GBytes) unwrapped_by_id = NULL;
      g_autoptr (GBytes) rewrapped = NULL;
      g_autoptr (GBytes) round_trip = NULL;
      g_autoptr (GBytes) from_b64 = NULL;
      g_autofree char *b64 = bb_protocol_base64_encode (wrapped);

      g_assert_cmpuint (g_bytes_get_size (wrapped), ==, BB_PROTOCOL_WRAPPED_DEK_SIZE);
      g_assert_cmpstr (b64, ==, str (o, "wrapped_dek_base64"));
      from_b64
          = bb_protocol_base64_decode (b64, BB_PROTOCOL_WRAPPED_DEK_SIZE, "wrappedDek", &error);
      g_assert_no_error (error);
      g_assert_true (bb_protocol_validate_wrapped_dek (from_b64, &error));
      g_assert_no_error (error);

      unwrapped = bb_protocol_unwrap_dek (priv, ns, wrapped, &error);
      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (unwrapped, dek));
      unwrapped_by_id = bb_test_identity_unwrap_dek (id, ns, wrapped, &error);
      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (unwrapped_by_id, dek));

      rewrapped = bb_protocol_wrap_dek (wrap_pub, ns, dek, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (g_bytes_get_size (rewrapped), ==, BB_PROTOCOL_WRAPPED_DEK_SIZE);
      g_assert_false (g_bytes_equal (rewrapped, wrapped)); /* fresh ephemeral key */
      round_trip = bb_protocol_unwrap_dek (priv, ns, rewrapped, &error);
      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (round_trip, dek));
    }
}

static void
check_intent (BbTestIdentity *id, GBytes *intent, const char *want_hex, const char *want_sig)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) sig = bb_test_identity_sign (id, intent);
  g_autoptr (GBytes) bad_sig = flip_byte (sig, 10);
  g_autoptr (GBytes) bad_msg = flip_byte (intent, g_bytes_get_size (intent) - 1);
  GBytes *auth = bb_test_identity_get_auth_public_key (id);

  bb_test_assert_bytes_hex (intent, want_hex);
  bb_test_assert_bytes_hex (sig, want_sig);
  g_assert_true (bb_protocol_verify_signature (auth, intent, sig, &error));
  g_assert_no_error (error);
  g_assert_false (bb_protocol_verify_signature (auth, intent, bad_sig, &error));
  assert_error (&error, BB_SYNC_ERROR_CRYPTO, "signature");
  g_assert_false (bb_protocol_verify_signature (auth, bad_msg, sig, &error));
  assert_error (&error, BB_SYNC_ERROR_CRYPTO, "signature");
}

static void
test_vectors_intents (void)
{
  g_autoptr (JsonNode) node = NULL;
  JsonObject *root = load_object ("protocol.json", &node);
  JsonArray *arr = json_object_get_array_member (root, "intents");

  g_assert_cmpuint (json_array_get_length (arr), >, 0);
  for (guint i = 0; i < json_array_get_length (arr); i++)
    {
      g_autoptr (GError) error = NULL;
      JsonObject *o = json_array_get_object_element (arr, i);
      g_autoptr (BbTestIdentity) id = bb_test_identity_new (str (o, "label"));
      const char *key_id = bb_test_identity_get_key_id (id);
      g_autoptr (GBytes) challenge = hexb (o, "challenge");
      g_autoptr (GBytes) fields = hexb (o, "create_invite_action_fields");
      g_autoptr (GBytes) login = NULL;
      g_autoptr (GBytes) refresh = NULL;
      g_autoptr (GBytes) revoke = NULL;
      g_autoptr (GBytes) create = NULL;
      g_autoptr (GBytes) rebuilt_fields = NULL;
      g_autoptr (GBytes) hash = NULL;
      g_autofree char *fields_hex = bb_test_bytes_to_hex (fields);
      g_autofree char *ns = g_strndup (fields_hex, 32);
      g_autofree char *invite = g_strndup (fields_hex + 32, 32);
      g_autofree char *hash_hex = g_strndup (fields_hex + 64, 64);
      g_autofree char *expires_hex = g_strndup (fields_hex + 128, 16);
      g_autofree char *pending_hex = g_strndup (fields_hex + 144, 8);
      g_autofree char *accepted_hex = g_strndup (fields_hex + 152, 8);
      g_autofree char *fields_hash = bb_protocol_action_fields_hash (fields);

      login = bb_protocol_login_intent (challenge, "keystore", key_id,
                                        bb_test_identity_get_auth_public_key (id),
                                        bb_test_identity_get_wrap_public_key (id), &error);
      g_assert_no_error (error);
      g_assert_cmpuint (g_bytes_get_size (login), ==, 148);
      check_intent (id, login, str (o, "login_intent"), str (o, "login_signature"));

      refresh = bb_protocol_refresh_intent (challenge, "keystore", key_id, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (g_bytes_get_size (refresh), ==, 84);
      check_intent (id, refresh, str (o, "refresh_intent"), str (o, "refresh_signature"));

      revoke = bb_protocol_sensitive_action_intent ("revoke-all-tokens", challenge, "keystore",
                                                    key_id, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (g_bytes_get_size (revoke), ==, 85);
      check_intent (id, revoke, str (o, "revoke_all_tokens_intent"),
                    str (o, "revoke_all_tokens_signature"));

      /* The vector's fields are variant A (80 bytes): rebuild them from their parts. */
      g_assert_cmpuint (g_bytes_get_size (fields), ==, 80);
      hash = bb_test_hex (hash_hex);
      rebuilt_fields = bb_protocol_create_invite_fields (
          ns, invite, hash, (gint64)g_ascii_strtoull (expires_hex, NULL, 16),
          (guint)g_ascii_strtoull (pending_hex, NULL, 16),
          (guint)g_ascii_strtoull (accepted_hex, NULL, 16), &error);
      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (rebuilt_fields, fields));
      g_assert_cmpstr (fields_hash, ==, str (o, "create_invite_action_fields_sha256"));

      create = bb_protocol_sensitive_action_intent ("create-namespace-invite", challenge,
                                                    "keystore", key_id, rebuilt_fields, &error);
      g_assert_no_error (error);
      check_intent (id, create, str (o, "create_invite_intent"),
                    str (o, "create_invite_signature"));
    }
}

static void
test_vectors_invites (void)
{
  g_autoptr (JsonNode) node = NULL;
  JsonObject *root = load_object ("protocol.json", &node);
  JsonArray *arr = json_object_get_array_member (root, "invites");

  g_assert_cmpuint (json_array_get_length (arr), >, 0);
  for (guint i = 0; i < json_array_get_length (arr); i++)
    {
      g_autoptr (GError) error = NULL;
      JsonObject *o = json_array_get_object_element (arr, i);
      g_autoptr (BbTestIdentity) id = bb_test_identity_new (str (o, "requester_label"));
      g_autoptr (GBytes) secret = hexb (o, "invite_secret");
      g_autoptr (GBytes) server_secret = bb_protocol_invite_server_secret (secret, &error);
      g_autoptr (GBytes) server_hash = NULL;
      g_autoptr (GBytes) proof_key = bb_protocol_invite_proof_key (secret, &error);
      g_autoptr (GBytes) origin_hash = NULL;
      g_autoptr (GBytes) payload = NULL;
      g_autoptr (GBytes) proof = NULL;
      g_autoptr (GBytes) sig = NULL;
      g_autoptr (GBytes) bad_proof = NULL;
      g_autoptr (GBytes) secret_from_b64 = NULL;
      g_autofree char *secret_b64 = bb_protocol_base64url_encode (secret);
      g_autofree char *join_hash = NULL;
      g_autofree char *canonical = NULL;
      g_autoptr (BbInvite) invite = NULL;
      g_autoptr (BbInvite) parsed = NULL;
      g_autofree char *uri = NULL;

      g_assert_no_error (error);
      bb_test_assert_bytes_hex (server_secret, str (o, "invite_server_secret"));
      server_hash = bb_protocol_invite_server_secret_hash (server_secret, &error);
      g_assert_no_error (error);
      bb_test_assert_bytes_hex (server_hash, str (o, "invite_server_secret_hash"));
      bb_test_assert_bytes_hex (proof_key, str (o, "invite_proof_key"));
      g_assert_cmpstr (secret_b64, ==, str (o, "invite_secret_base64url"));
      secret_from_b64 = bb_protocol_base64url_decode (secret_b64, 32, "inviteSecret", &error);
      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (secret_from_b64, secret));

      canonical = bb_protocol_canonical_origin (str (o, "server_origin"), &error);
      g_assert_no_error (error);
      g_assert_cmpstr (canonical, ==, str (o, "server_origin"));
      origin_hash = bb_protocol_server_origin_hash (str (o, "server_origin"), &error);
      g_assert_no_error (error);
      bb_test_assert_bytes_hex (origin_hash, str (o, "server_origin_hash"));

      payload = bb_protocol_join_request_payload (
          str (o, "namespace_id"), str (o, "invite_id"), str (o, "server_origin"), "keystore",
          bb_test_identity_get_key_id (id), bb_test_identity_get_auth_public_key (id),
          bb_test_identity_get_wrap_public_key (id), num (o, "join_request_expires_at"), &error);
      g_assert_no_error (error);
      g_assert_cmpuint (g_bytes_get_size (payload), ==, 193);
      bb_test_assert_bytes_hex (payload, str (o, "join_request_payload"));
      join_hash = bb_protocol_join_request_hash (payload);
      g_assert_cmpstr (join_hash, ==, str (o, "join_request_hash"));
      sig = bb_test_identity_sign (id, payload);
      bb_test_assert_bytes_hex (sig, str (o, "join_request_signature"));
      g_assert_true (bb_protocol_verify_signature (bb_test_identity_get_auth_public_key (id),
                                                   payload, sig, &error));
      g_assert_no_error (error);

      proof = bb_protocol_invite_proof (secret, payload, &error);
      g_assert_no_error (error);
      bb_test_assert_bytes_hex (proof, str (o, "invite_proof"));
      g_assert_true (bb_protocol_verify_invite_proof (secret, payload, proof, &error));
      g_assert_no_error (error);
      bad_proof = flip_byte (proof, 31);
      g_assert_false (bb_protocol_verify_invite_proof (secret, payload, bad_proof, &error));
      assert_error (&error, BB_SYNC_ERROR_CRYPTO, "inviteProof");

      /* The URI both ways. */
      invite = bb_invite_new (str (o, "server_origin"), str (o, "namespace_id"),
                              str (o, "invite_id"), num (o, "invite_expires_at"), secret, &error);
      g_assert_no_error (error);
      uri = bb_invite_to_uri (invite);
      g_assert_cmpstr (uri, ==, str (o, "invite_uri"));
      parsed = bb_invite_new_from_uri (str (o, "invite_uri"), &error);
      g_assert_no_error (error);
      g_assert_cmpuint (bb_invite_get_version (parsed), ==, 1);
      g_assert_cmpstr (bb_invite_get_server_origin (parsed), ==, str (o, "server_origin"));
      g_assert_cmpstr (bb_invite_get_namespace_id (parsed), ==, str (o, "namespace_id"));
      g_assert_cmpstr (bb_invite_get_invite_id (parsed), ==, str (o, "invite_id"));
      g_assert_cmpint (bb_invite_get_expires_at (parsed), ==, num (o, "invite_expires_at"));
      g_assert_true (g_bytes_equal (bb_invite_get_secret (parsed), secret));

      /* What a holder of the parsed invite derives for the server, and its proof check. */
      {
        g_autoptr (GBytes) dup_server_secret = bb_invite_dup_server_secret (parsed);

        bb_test_assert_bytes_hex (dup_server_secret, str (o, "invite_server_secret"));
        g_assert_true (bb_invite_verify_proof (parsed, payload, proof, &error));
        g_assert_no_error (error);
        g_assert_false (bb_invite_verify_proof (parsed, payload, bad_proof, &error));
        assert_error (&error, BB_SYNC_ERROR_CRYPTO, "inviteProof");
      }
    }
}

/* ------------------------------------------------------------------------------------ */
/* spec-vectors.json (spec §3, §4, §11)                                                 */

static void
test_spec_identities (void)
{
  g_autoptr (JsonNode) node = NULL;
  JsonObject *root = load_object ("spec-vectors.json", &node);
  JsonObject *kid = json_object_get_object_member (root, "key_id");
  JsonArray *ids = json_object_get_array_member (root, "identities");
  g_autoptr (GBytes) auth = hexb (kid, "auth_public_key");
  g_autofree char *key_id = bb_protocol_key_id (auth);

  /* §3.1, from the BitBox02 host tests. */
  g_assert_cmpstr (key_id, ==, str (kid, "key_id"));

  /* §3.2. */
  for (guint i = 0; i < json_array_get_length (ids); i++)
    {
      JsonObject *o = json_array_get_object_element (ids, i);
      g_autoptr (BbTestIdentity) id = bb_test_identity_new (str (o, "label"));
      bb_test_assert_bytes_hex (bb_test_identity_get_auth_public_key (id),
                                str (o, "auth_public_key"));
      bb_test_assert_bytes_hex (bb_test_identity_get_wrap_public_key (id),
                                str (o, "wrap_public_key"));
      g_assert_cmpstr (bb_test_identity_get_key_id (id), ==, str (o, "key_id"));
    }
}

static void
test_spec_intents (void)
{
  g_autoptr (JsonNode) node = NULL;
  JsonObject *root = load_object ("spec-vectors.json", &node);
  JsonObject *o = json_object_get_object_member (root, "intents");
  g_autoptr (GError) error = NULL;
  g_autoptr (BbTestIdentity) id = bb_test_identity_new (str (o, "label"));
  const char *key_id = bb_test_identity_get_key_id (id);
  g_autoptr (GBytes) challenge = hexb (o, "challenge");
  g_autoptr (GBytes) login = NULL;
  g_autoptr (GBytes) refresh = NULL;
  g_autoptr (GBytes) revoke = NULL;
  g_autoptr (GBytes) empty = g_bytes_new (NULL, 0);
  g_autoptr (GBytes) attestation = NULL;
  g_autofree char *attestation_b64 = NULL;
  g_autofree char *empty_hash = bb_protocol_action_fields_hash (NULL);
  g_autofree char *empty_hash2 = bb_protocol_action_fields_hash (empty);

  login = bb_protocol_login_intent (challenge, "keystore", key_id,
                                    bb_test_identity_get_auth_public_key (id),
                                    bb_test_identity_get_wrap_public_key (id), &error);
  g_assert_no_error (error);
  check_intent (id, login, str (o, "login_intent"), str (o, "login_signature"));
  refresh = bb_protocol_refresh_intent (challenge, "keystore", key_id, &error);
  g_assert_no_error (error);
  check_intent (id, refresh, str (o, "refresh_intent"), str (o, "refresh_signature"));
  revoke = bb_protocol_sensitive_action_intent ("revoke-all-tokens", challenge, "keystore", key_id,
                                                empty, &error);
  g_assert_no_error (error);
  check_intent (id, revoke, str (o, "revoke_all_tokens_intent"),
                str (o, "revoke_all_tokens_signature"));
  g_assert_cmpstr (empty_hash, ==, str (o, "revoke_all_tokens_fields_hash"));
  g_assert_cmpstr (empty_hash2, ==, str (o, "revoke_all_tokens_fields_hash"));

  attestation = bb_test_identity_attest (id, challenge);
  g_assert_cmpuint (g_bytes_get_size (attestation), ==, 257);
  attestation_b64 = bb_protocol_base64_encode (attestation);
  g_assert_cmpstr (attestation_b64, ==, str (o, "attestation_base64"));
}

static void
test_spec_create_invite (void)
{
  g_autoptr (JsonNode) node = NULL;
  JsonObject *root = load_object ("spec-vectors.json", &node);
  JsonObject *o = json_object_get_object_member (root, "create_invite");
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) hash = hexb (o, "invite_server_secret_hash");
  g_autoptr (GBytes) challenge = hexb (o, "challenge");
  g_autoptr (GBytes) fields_b = NULL;
  g_autoptr (GBytes) fields_a = NULL;
  g_autoptr (GBytes) intent_b = NULL;
  g_autoptr (GBytes) intent_a = NULL;
  g_autofree char *hash_b = NULL;
  g_autofree char *hash_a = NULL;

  /* Variant B: the BitBox02's 76-byte fields and 161-byte intent. */
  fields_b = bb_protocol_create_invite_fields (str (o, "namespace_id"), str (o, "invite_id"), hash,
                                               num (o, "expires_at"), 0,
                                               (guint)num (o, "max_accepted"), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (fields_b), ==, 76);
  bb_test_assert_bytes_hex (fields_b, str (o, "fields_variant_b"));
  hash_b = bb_protocol_action_fields_hash (fields_b);
  g_assert_cmpstr (hash_b, ==, str (o, "fields_hash_variant_b"));
  intent_b = bb_protocol_sensitive_action_intent ("create-namespace-invite", challenge, "keystore",
                                                  str (o, "key_id"), fields_b, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (intent_b), ==, 161);
  bb_test_assert_bytes_hex (intent_b, str (o, "intent_variant_b"));

  /* Variant A: 80-byte fields, 165-byte intent. */
  fields_a = bb_protocol_create_invite_fields (
      str (o, "namespace_id"), str (o, "invite_id"), hash, num (o, "expires_at"),
      (guint)num (o, "max_pending_variant_a"), (guint)num (o, "max_accepted"), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (fields_a), ==, 80);
  bb_test_assert_bytes_hex (fields_a, str (o, "fields_variant_a"));
  hash_a = bb_protocol_action_fields_hash (fields_a);
  g_assert_cmpstr (hash_a, ==, str (o, "fields_hash_variant_a"));
  intent_a = bb_protocol_sensitive_action_intent ("create-namespace-invite", challenge, "keystore",
                                                  str (o, "key_id"), fields_a, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (intent_a), ==, 165);
  bb_test_assert_bytes_hex (intent_a, str (o, "intent_variant_a"));
}

static void
test_spec_invite_secrets_and_join (void)
{
  g_autoptr (JsonNode) node = NULL;
  JsonObject *root = load_object ("spec-vectors.json", &node);
  JsonObject *s = json_object_get_object_member (root, "invite_secrets");
  JsonObject *j = json_object_get_object_member (root, "join_request");
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) secret = hexb (s, "invite_secret");
  g_autoptr (GBytes) server_secret = bb_protocol_invite_server_secret (secret, &error);
  g_autoptr (GBytes) server_hash = bb_protocol_invite_server_secret_hash (server_secret, &error);
  g_autoptr (GBytes) proof_key = bb_protocol_invite_proof_key (secret, &error);
  g_autofree char *secret_b64 = bb_protocol_base64url_encode (secret);
  g_autofree char *server_b64 = bb_protocol_base64url_encode (server_secret);
  g_autoptr (GBytes) auth = hexb (j, "auth_public_key");
  g_autoptr (GBytes) wrap = hexb (j, "wrap_public_key");
  g_autoptr (GBytes) origin_hash = NULL;
  g_autoptr (GBytes) payload = NULL;
  g_autoptr (GBytes) proof = NULL;
  g_autoptr (GBytes) join_secret = hexb (j, "invite_secret");
  g_autofree char *join_hash = NULL;

  g_assert_no_error (error);
  bb_test_assert_bytes_hex (server_secret, str (s, "invite_server_secret"));
  bb_test_assert_bytes_hex (server_hash, str (s, "invite_server_secret_hash"));
  bb_test_assert_bytes_hex (proof_key, str (s, "invite_proof_key"));
  g_assert_cmpstr (secret_b64, ==, str (s, "invite_secret_base64url"));
  g_assert_cmpstr (server_b64, ==, str (s, "invite_server_secret_base64url"));

  origin_hash = bb_protocol_server_origin_hash (str (j, "server_origin"), &error);
  g_assert_no_error (error);
  bb_test_assert_bytes_hex (origin_hash, str (j, "server_origin_hash"));
  payload = bb_protocol_join_request_payload (
      str (j, "namespace_id"), str (j, "invite_id"), str (j, "server_origin"), str (j, "kind"),
      str (j, "key_id"), auth, wrap, num (j, "expires_at"), &error);
  g_assert_no_error (error);
  bb_test_assert_bytes_hex (payload, str (j, "payload"));
  join_hash = bb_protocol_join_request_hash (payload);
  g_assert_cmpstr (join_hash, ==, str (j, "join_request_hash"));
  proof = bb_protocol_invite_proof (join_secret, payload, &error);
  g_assert_no_error (error);
  bb_test_assert_bytes_hex (proof, str (j, "invite_proof"));
}

static void
test_spec_items (void)
{
  g_autoptr (JsonNode) node = NULL;
  JsonObject *root = load_object ("spec-vectors.json", &node);
  JsonObject *o = json_object_get_object_member (root, "items");
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) dek = hexb (o, "dek");
  g_autoptr (GBytes) blob_key = bb_protocol_derive_blob_key (dek, &error);
  g_autoptr (GBytes) map_key = bb_protocol_derive_map_key (dek, &error);
  g_autoptr (GBytes) logical = bb_protocol_logical_key (str (o, "collection"), str (o, "key"));
  g_autofree char *item_id
      = bb_protocol_item_id (dek, str (o, "collection"), str (o, "key"), &error);
  g_autoptr (GBytes) raw
      = g_bytes_new (str (o, "raw_logical_key"), strlen (str (o, "raw_logical_key")));
  g_autofree char *raw_id = bb_protocol_item_id_for_logical_key (dek, raw, &error);
  g_autoptr (GBytes) aad = bb_protocol_item_aad (str (o, "namespace_id"), item_id,
                                                 (guint64)num (o, "version"), &error);
  g_autofree char *aad_b64 = NULL;
  g_autoptr (GBytes) nonce = hexb (o, "nonce");
  g_autofree char *nonce_b64 = bb_protocol_base64_encode (nonce);
  g_autoptr (GBytes) plaintext = g_bytes_new (str (o, "plaintext"), strlen (str (o, "plaintext")));
  g_autoptr (GBytes) ct = NULL;
  g_autoptr (GBytes) pt = NULL;
  g_autofree char *ct_b64 = NULL;

  g_assert_no_error (error);
  bb_test_assert_bytes_hex (blob_key, str (o, "blob_key"));
  bb_test_assert_bytes_hex (map_key, str (o, "map_key"));
  bb_test_assert_bytes_hex (logical, str (o, "logical_key_bytes"));
  g_assert_cmpstr (item_id, ==, str (o, "item_id"));
  g_assert_cmpstr (raw_id, ==, str (o, "raw_item_id"));
  aad_b64 = bb_protocol_base64_encode (aad);
  g_assert_cmpstr (aad_b64, ==, str (o, "aad_base64"));
  g_assert_cmpstr (nonce_b64, ==, str (o, "nonce_base64"));

  ct = bb_protocol_encrypt_item_with_key (blob_key, str (o, "namespace_id"), item_id,
                                          (guint64)num (o, "version"), plaintext, nonce, NULL, NULL,
                                          &error);
  g_assert_no_error (error);
  bb_test_assert_bytes_hex (ct, str (o, "ciphertext"));
  ct_b64 = bb_protocol_base64_encode (ct);
  g_assert_cmpstr (ct_b64, ==, str (o, "ciphertext_base64"));
  pt = bb_protocol_decrypt_item (dek, str (o, "namespace_id"), item_id, (guint64)num (o, "version"),
                                 nonce, aad, ct, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (pt, plaintext));
}

static void
test_spec_wrapped_dek (void)
{
  g_autoptr (JsonNode) node = NULL;
  JsonObject *root = load_object ("spec-vectors.json", &node);
  JsonObject *o = json_object_get_object_member (root, "wrapped_dek");
  g_autoptr (GError) error = NULL;
  g_autoptr (BbTestIdentity) id = bb_test_identity_new (str (o, "recipient_label"));
  g_autoptr (GBytes) pub = hexb (o, "recipient_wrap_public_key");
  g_autoptr (GBytes) dek = hexb (o, "dek");
  g_autoptr (GBytes) eph = hexb (o, "ephemeral_private_key");
  g_autoptr (GBytes) want = hexb (o, "wrapped_dek");
  g_autoptr (GBytes) wrapped = NULL;
  g_autoptr (GBytes) unwrapped = NULL;
  g_autoptr (GBytes) flipped = NULL;
  g_autofree char *b64 = NULL;

  g_assert_true (g_bytes_equal (pub, bb_test_identity_get_wrap_public_key (id)));
  /* §11.5: byte-exact with the fixed ephemeral key. */
  wrapped = bb_protocol_wrap_dek_with_ephemeral (pub, str (o, "namespace_id"), dek, eph, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (wrapped, want));
  b64 = bb_protocol_base64_encode (wrapped);
  g_assert_cmpstr (b64, ==, str (o, "wrapped_dek_base64"));

  unwrapped = bb_test_identity_unwrap_dek (id, str (o, "namespace_id"), want, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (unwrapped, dek));

  /* Another namespace: the wrap is bound to its namespace. */
  g_assert_null (bb_test_identity_unwrap_dek (id, str (o, "wrong_namespace_id"), want, &error));
  assert_error (&error, BB_SYNC_ERROR_CRYPTO, "namespace mismatch");
  /* Last byte flipped: authentication fails. */
  flipped = flip_byte (want, BB_PROTOCOL_WRAPPED_DEK_SIZE - 1);
  g_assert_null (bb_test_identity_unwrap_dek (id, str (o, "namespace_id"), flipped, &error));
  assert_error (&error, BB_SYNC_ERROR_CRYPTO, "wrappedDek");
}

static void
test_spec_etag (void)
{
  g_autoptr (JsonNode) node = NULL;
  JsonObject *root = load_object ("spec-vectors.json", &node);
  JsonObject *o = json_object_get_object_member (root, "etag");
  g_autofree char *etag = bb_protocol_etag ((guint64)num (o, "version"));

  g_assert_cmpstr (etag, ==, str (o, "etag"));
  g_assert_cmpuint (strlen (etag), ==, 3);
}

/* ------------------------------------------------------------------------------------ */
/* Negative tests and rules                                                             */

static const char *NS = "11111111111111111111111111111111";
static const char *ITEM = "2222222222222222222222222222222222222222222222222222222222222222";

static void
test_item_crypto_errors (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) dek = bb_test_repeat (0x33, 32);
  g_autoptr (GBytes) pt = g_bytes_new_static ("payload", 7);
  g_autoptr (GBytes) nonce = NULL;
  g_autoptr (GBytes) aad = NULL;
  g_autoptr (GBytes) ct = NULL;
  g_autoptr (GBytes) other_nonce = NULL;
  g_autoptr (GBytes) ct2 = NULL;

  ct = bb_protocol_encrypt_item (dek, NS, ITEM, 5, pt, &nonce, &aad, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (nonce), ==, 24);
  g_assert_cmpuint (g_bytes_get_size (ct), ==, 7 + 16);

  /* Random nonces differ. */
  ct2 = bb_protocol_encrypt_item (dek, NS, ITEM, 5, pt, &other_nonce, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (g_bytes_equal (nonce, other_nonce));
  g_assert_false (g_bytes_equal (ct, ct2));

  /* Round trip. */
  {
    g_autoptr (GBytes) back = bb_protocol_decrypt_item (dek, NS, ITEM, 5, nonce, aad, ct, &error);
    g_assert_no_error (error);
    g_assert_true (g_bytes_equal (back, pt));
  }

  /* Tampered ciphertext and tag. */
  for (gsize i = 0; i < g_bytes_get_size (ct); i += 6)
    {
      g_autoptr (GBytes) bad = flip_byte (ct, i);
      g_assert_null (bb_protocol_decrypt_item (dek, NS, ITEM, 5, nonce, aad, bad, &error));
      assert_error (&error, BB_SYNC_ERROR_CRYPTO, "ciphertext");
    }
  /* Truncated below the tag. */
  {
    g_autoptr (GBytes) shortct = truncate_bytes (ct, 15);
    g_assert_null (bb_protocol_decrypt_item (dek, NS, ITEM, 5, nonce, aad, shortct, &error));
    assert_error (&error, BB_SYNC_ERROR_CRYPTO, "ciphertext");
  }
  /* Tampered nonce. */
  {
    g_autoptr (GBytes) bad = flip_byte (nonce, 3);
    g_assert_null (bb_protocol_decrypt_item (dek, NS, ITEM, 5, bad, aad, ct, &error));
    assert_error (&error, BB_SYNC_ERROR_CRYPTO, "ciphertext");
  }
  /* §12.1 item 11: a 5-byte nonce is an error, not a crash; checked before anything else. */
  {
    g_autoptr (GBytes) five = g_bytes_new_static ("short", 5);
    g_autoptr (GBytes) empty = g_bytes_new (NULL, 0);
    g_autoptr (GBytes) ct16 = bb_test_repeat (0, 16);
    g_autoptr (GBytes) zero_dek = bb_test_repeat (0, 32);
    g_assert_null (bb_protocol_decrypt_item (zero_dek, NS, ITEM, 1, five, empty, ct16, &error));
    assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "nonce");
    /* Even with a malformed namespace ID, the nonce is checked first. */
    g_assert_null (bb_protocol_decrypt_item (zero_dek, "XX", ITEM, 1, five, empty, ct16, &error));
    assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "nonce");
  }
  /* AAD: tampered, for another version / item / namespace, or truncated. */
  {
    g_autoptr (GBytes) bad = flip_byte (aad, 70);
    g_autoptr (GBytes) v6 = bb_protocol_item_aad (NS, ITEM, 6, &error);
    g_autoptr (GBytes) short_aad = truncate_bytes (aad, 75);
    g_assert_no_error (error);
    g_assert_null (bb_protocol_decrypt_item (dek, NS, ITEM, 5, nonce, bad, ct, &error));
    assert_error (&error, BB_SYNC_ERROR_CRYPTO, "aad mismatch");
    g_assert_null (bb_protocol_decrypt_item (dek, NS, ITEM, 5, nonce, v6, ct, &error));
    assert_error (&error, BB_SYNC_ERROR_CRYPTO, "aad mismatch");
    g_assert_null (bb_protocol_decrypt_item (dek, NS, ITEM, 5, nonce, short_aad, ct, &error));
    assert_error (&error, BB_SYNC_ERROR_CRYPTO, "aad mismatch");
    /* The server says version 6 with the AAD of version 5: a replay. */
    g_assert_null (bb_protocol_decrypt_item (dek, NS, ITEM, 6, nonce, aad, ct, &error));
    assert_error (&error, BB_SYNC_ERROR_CRYPTO, "aad mismatch");
    g_assert_null (bb_protocol_decrypt_item (dek, "11111111111111111111111111111112", ITEM, 5,
                                             nonce, aad, ct, &error));
    assert_error (&error, BB_SYNC_ERROR_CRYPTO, "aad mismatch");
  }
  /* Wrong DEK. */
  {
    g_autoptr (GBytes) other = bb_test_repeat (0x34, 32);
    g_autoptr (GBytes) short_dek = bb_test_repeat (0x33, 31);
    g_assert_null (bb_protocol_decrypt_item (other, NS, ITEM, 5, nonce, aad, ct, &error));
    assert_error (&error, BB_SYNC_ERROR_CRYPTO, "ciphertext");
    g_assert_null (bb_protocol_decrypt_item (short_dek, NS, ITEM, 5, nonce, aad, ct, &error));
    assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "dek");
    g_assert_null (bb_protocol_derive_blob_key (short_dek, &error));
    assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "dek");
    g_assert_null (bb_protocol_item_id (short_dek, "a", "b", &error));
    assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "dek");
  }
  /* Bad IDs. */
  g_assert_null (bb_protocol_item_aad ("1111111111111111111111111111111A", ITEM, 1, &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "namespaceId");
  g_assert_null (bb_protocol_item_aad (NS, "22", 1, &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "itemId");

  /* Size limit: 65520 bytes is the maximum plaintext. */
  {
    g_autoptr (GBytes) max = bb_test_repeat (0x55, BB_PROTOCOL_MAX_PLAINTEXT_SIZE);
    g_autoptr (GBytes) over = bb_test_repeat (0x55, BB_PROTOCOL_MAX_PLAINTEXT_SIZE + 1);
    g_autoptr (GBytes) big = bb_protocol_encrypt_item (dek, NS, ITEM, 1, max, NULL, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (g_bytes_get_size (big), ==, BB_PROTOCOL_MAX_CIPHERTEXT_SIZE);
    g_assert_null (bb_protocol_encrypt_item (dek, NS, ITEM, 1, over, NULL, NULL, &error));
    assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "plaintext");
  }
  /* A nonce chosen by a known-answer test must be 24 bytes. */
  {
    g_autoptr (GBytes) blob_key = bb_protocol_derive_blob_key (dek, &error);
    g_autoptr (GBytes) n23 = bb_test_repeat (1, 23);
    g_assert_no_error (error);
    g_assert_null (
        bb_protocol_encrypt_item_with_key (blob_key, NS, ITEM, 1, pt, n23, NULL, NULL, &error));
    assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "nonce");
  }
  /* Empty plaintext works. */
  {
    g_autoptr (GBytes) empty = g_bytes_new (NULL, 0);
    g_autoptr (GBytes) n = NULL;
    g_autoptr (GBytes) a = NULL;
    g_autoptr (GBytes) c = bb_protocol_encrypt_item (dek, NS, ITEM, 1, empty, &n, &a, &error);
    g_autoptr (GBytes) p = NULL;
    g_assert_no_error (error);
    g_assert_cmpuint (g_bytes_get_size (c), ==, 16);
    p = bb_protocol_decrypt_item (dek, NS, ITEM, 1, n, a, c, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (g_bytes_get_size (p), ==, 0);
  }
}

/* The public encryption draws its nonce itself: two encryptions of the same input get
 * different nonces and ciphertexts, and each decrypts. */
static void
test_item_encrypt_fresh_nonce (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) dek = bb_test_repeat (0x44, 32);
  g_autoptr (GBytes) pt = g_bytes_new_static ("the same payload", 16);
  GBytes *nonce[2] = { NULL, NULL };
  GBytes *aad[2] = { NULL, NULL };
  GBytes *ct[2] = { NULL, NULL };

  for (guint i = 0; i < 2; i++)
    {
      ct[i] = bb_protocol_encrypt_item (dek, NS, ITEM, 3, pt, &nonce[i], &aad[i], &error);
      g_assert_no_error (error);
      g_assert_cmpuint (g_bytes_get_size (nonce[i]), ==, BB_PROTOCOL_NONCE_SIZE);
    }
  g_assert_false (g_bytes_equal (nonce[0], nonce[1]));
  g_assert_false (g_bytes_equal (ct[0], ct[1]));
  g_assert_true (g_bytes_equal (aad[0], aad[1]));
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr (GBytes) back
          = bb_protocol_decrypt_item (dek, NS, ITEM, 3, nonce[i], aad[i], ct[i], &error);
      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (back, pt));
      g_bytes_unref (nonce[i]);
      g_bytes_unref (aad[i]);
      g_bytes_unref (ct[i]);
    }
}

static void
test_logical_key_separation (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) dek = bb_test_repeat (0x01, 32);
  g_autofree char *a = bb_protocol_item_id (dek, "a",
                                            "b\x1f"
                                            "c",
                                            &error);
  g_autofree char *b = bb_protocol_item_id (dek,
                                            "a\x1f"
                                            "b",
                                            "c", &error);
  g_autofree char *c = bb_protocol_item_id (dek, "a", "b/c", &error);
  g_autofree char *d = bb_protocol_item_id (dek, "a/b", "c", &error);

  g_assert_no_error (error);
  g_assert_cmpstr (a, !=, b);
  g_assert_cmpstr (c, !=, d);
  g_assert_cmpuint (strlen (a), ==, 64);
}

static void
test_wrapped_dek_errors (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BbTestIdentity) id = bb_test_identity_new ("test-key");
  g_autoptr (GBytes) dek = bb_test_repeat (0x22, 32);
  g_autoptr (GBytes) wrapped
      = bb_protocol_wrap_dek (bb_test_identity_get_wrap_public_key (id), NS, dek, &error);
  g_autoptr (GBytes) empty = g_bytes_new (NULL, 0);
  g_autoptr (GBytes) v2 = NULL;
  g_autoptr (GBytes) shorter = truncate_bytes (wrapped, 96);
  g_autoptr (GBytes) longer = NULL;

  g_assert_no_error (error);
  g_assert_true (bb_protocol_validate_wrapped_dek (wrapped, &error));
  g_assert_no_error (error);

  /* Unknown version byte. */
  {
    gsize len;
    guint8 *copy = g_bytes_unref_to_data (g_bytes_ref (wrapped), &len);
    copy[0] = 0x02;
    v2 = g_bytes_new_take (copy, len);
  }
  g_assert_false (bb_protocol_validate_wrapped_dek (v2, &error));
  assert_error (&error, BB_SYNC_ERROR_UNSUPPORTED, "unsupported version");
  g_assert_null (bb_test_identity_unwrap_dek (id, NS, v2, &error));
  assert_error (&error, BB_SYNC_ERROR_UNSUPPORTED, "unsupported version");

  /* Empty and wrong lengths. */
  g_assert_false (bb_protocol_validate_wrapped_dek (empty, &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "invalid wrapped dek");
  g_assert_null (bb_test_identity_unwrap_dek (id, NS, shorter, &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "invalid wrapped dek");
  {
    GByteArray *arr = g_byte_array_new ();
    g_byte_array_append (arr, g_bytes_get_data (wrapped, NULL), 97);
    g_byte_array_append (arr, (const guint8 *)"x", 1);
    longer = g_byte_array_free_to_bytes (arr);
  }
  g_assert_null (bb_test_identity_unwrap_dek (id, NS, longer, &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "invalid wrapped dek");

  /* The expected namespace ID is checked first. */
  g_assert_null (bb_test_identity_unwrap_dek (id, "1111", empty, &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "namespaceId");

  /* Namespace binding, tampered enc and ct, another recipient. */
  g_assert_null (
      bb_test_identity_unwrap_dek (id, "11111111111111111111111111111112", wrapped, &error));
  assert_error (&error, BB_SYNC_ERROR_CRYPTO, "namespace mismatch");
  for (gsize i = 1; i < 97; i += 8)
    {
      g_autoptr (GBytes) bad = flip_byte (wrapped, i);
      g_assert_null (bb_test_identity_unwrap_dek (id, NS, bad, &error));
      g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_CRYPTO);
      g_clear_error (&error);
    }
  {
    g_autoptr (BbTestIdentity) other = bb_test_identity_new ("demo-bob");
    g_assert_null (bb_test_identity_unwrap_dek (other, NS, wrapped, &error));
    assert_error (&error, BB_SYNC_ERROR_CRYPTO, "wrappedDek");
  }

  /* Wrap input checks. */
  {
    g_autoptr (GBytes) short_pub = bb_test_repeat (9, 31);
    g_autoptr (GBytes) short_dek = bb_test_repeat (9, 31);
    g_assert_null (bb_protocol_wrap_dek (short_pub, NS, dek, &error));
    assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "wrapPublicKey");
    g_assert_null (
        bb_protocol_wrap_dek (bb_test_identity_get_wrap_public_key (id), NS, short_dek, &error));
    assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "dek");
    g_assert_null (
        bb_protocol_wrap_dek (bb_test_identity_get_wrap_public_key (id), "zz", dek, &error));
    assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "namespaceId");
  }
}

static void
test_intent_errors (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BbTestIdentity) id = bb_test_identity_new ("test-key");
  const char *key_id = bb_test_identity_get_key_id (id);
  g_autoptr (GBytes) challenge = bb_test_repeat (1, 32);
  g_autoptr (GBytes) short_challenge = bb_test_repeat (1, 31);
  g_autoptr (GBytes) short_key = bb_test_repeat (1, 31);
  g_autofree char *upper_key_id = g_ascii_strup (key_id, -1);
  GBytes *auth = bb_test_identity_get_auth_public_key (id);
  GBytes *wrap = bb_test_identity_get_wrap_public_key (id);

  g_assert_null (
      bb_protocol_login_intent (short_challenge, "keystore", key_id, auth, wrap, &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "challenge");
  g_assert_null (bb_protocol_login_intent (challenge, "other", key_id, auth, wrap, &error));
  assert_error (&error, BB_SYNC_ERROR_UNSUPPORTED, "kind");
  g_assert_null (
      bb_protocol_login_intent (challenge, "keystore", upper_key_id, auth, wrap, &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "keyId");
  g_assert_null (bb_protocol_login_intent (challenge, "keystore", key_id, short_key, wrap, &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "authPublicKey");
  g_assert_null (bb_protocol_login_intent (challenge, "keystore", key_id, auth, short_key, &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "wrapPublicKey");
  g_assert_null (bb_protocol_refresh_intent (challenge, NULL, key_id, &error));
  assert_error (&error, BB_SYNC_ERROR_UNSUPPORTED, "kind");
  g_assert_null (bb_protocol_sensitive_action_intent ("delete-everything", challenge, "keystore",
                                                      key_id, NULL, &error));
  assert_error (&error, BB_SYNC_ERROR_UNSUPPORTED, "action");

  /* Signature lengths. */
  {
    g_autoptr (GBytes) msg = g_bytes_new_static ("m", 1);
    g_autoptr (GBytes) sig63 = bb_test_repeat (0, 63);
    g_autoptr (GBytes) sig64 = bb_test_repeat (0, 64);
    g_assert_false (bb_protocol_verify_signature (auth, msg, sig63, &error));
    assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "signature");
    g_assert_false (bb_protocol_verify_signature (short_key, msg, sig64, &error));
    assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "authPublicKey");
    g_assert_false (bb_protocol_verify_signature (auth, msg, sig64, &error));
    assert_error (&error, BB_SYNC_ERROR_CRYPTO, "signature");
  }
}

/* A small-order key is refused by name, and so is a small-order R under an honest key.
 * The key is the identity point, for which nettle alone accepts the "signature"
 * (R = identity, S = 0) over any message. */
static void
test_signature_small_order (void)
{
  static const guint8 identity[32] = { 0x01 };
  static const guint8 forged[64] = { 0x01 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) small = g_bytes_new_static (identity, sizeof identity);
  g_autoptr (GBytes) signature = g_bytes_new_static (forged, sizeof forged);
  g_autoptr (GBytes) msg = g_bytes_new_static ("any message", 11);
  g_autoptr (BbTestIdentity) alice = bb_test_identity_new ("demo-alice");
  GBytes *honest = bb_test_identity_get_auth_public_key (alice);

  g_assert_false (bb_protocol_verify_signature (small, msg, signature, &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "authPublicKey: is a small-order point");
  g_assert_false (bb_protocol_check_auth_public_key (small, "joinRequest.authPublicKey", &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT,
                "joinRequest.authPublicKey: is a small-order point");

  g_assert_true (bb_protocol_check_auth_public_key (honest, "authPublicKey", &error));
  g_assert_no_error (error);
  g_assert_false (bb_protocol_verify_signature (honest, msg, signature, &error));
  assert_error (&error, BB_SYNC_ERROR_CRYPTO, "signature: R is a small-order point");
}

static void
test_create_invite_fields_ranges (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) hash = bb_test_repeat (0x22, 32);
  g_autoptr (GBytes) short_hash = bb_test_repeat (0x22, 31);
  const char *inv = "21212121212121212121212121212121";
  g_autoptr (GBytes) a = NULL;
  g_autoptr (GBytes) b = NULL;

  a = bb_protocol_create_invite_fields (NS, inv, hash, 0, 1, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (a), ==, 80);
  b = bb_protocol_create_invite_fields (NS, inv, hash, G_MAXINT64, 0, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (b), ==, 76);

  g_assert_null (bb_protocol_create_invite_fields (NS, inv, hash, 1, 21, 10, &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "maxPending");
  g_assert_null (bb_protocol_create_invite_fields (NS, inv, hash, 1, 20, 0, &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "maxAccepted");
  g_assert_null (bb_protocol_create_invite_fields (NS, inv, hash, 1, 20, 11, &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "maxAccepted");
  g_assert_null (bb_protocol_create_invite_fields (NS, inv, hash, -1, 20, 10, &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "expiresAt");
  g_assert_null (bb_protocol_create_invite_fields (NS, inv, short_hash, 1, 20, 10, &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "inviteServerSecretHash");
  g_assert_null (bb_protocol_create_invite_fields (NS, "2121", hash, 1, 20, 10, &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "inviteId");
}

static void
test_invite_secret_errors (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) short_secret = bb_test_repeat (0x44, 31);
  g_autoptr (GBytes) secret = bb_test_repeat (0x44, 32);
  g_autoptr (GBytes) payload = g_bytes_new_static ("join-request", 12);
  g_autoptr (GBytes) short_proof = bb_test_repeat (0, 31);
  g_autofree char *hash = bb_protocol_join_request_hash (payload);
  g_autofree char *want
      = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *)"join-request", 12);

  /* §12.1 item 4. */
  g_assert_cmpstr (hash, ==, want);

  g_assert_null (bb_protocol_invite_server_secret (short_secret, &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "inviteSecret");
  g_assert_null (bb_protocol_invite_proof_key (short_secret, &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "inviteSecret");
  g_assert_null (bb_protocol_invite_server_secret_hash (short_secret, &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "inviteServerSecret");
  g_assert_false (bb_protocol_verify_invite_proof (secret, payload, short_proof, &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "inviteProof");
  {
    g_autoptr (GBytes) proof = bb_protocol_invite_proof (secret, payload, &error);
    g_autoptr (GBytes) other = g_bytes_new_static ("join-requesT", 12);
    g_assert_no_error (error);
    g_assert_false (bb_protocol_verify_invite_proof (short_secret, payload, proof, &error));
    assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "inviteSecret");
    g_assert_false (bb_protocol_verify_invite_proof (secret, other, proof, &error));
    assert_error (&error, BB_SYNC_ERROR_CRYPTO, "inviteProof");
  }
}

static void
test_join_request_errors (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (BbTestIdentity) id = bb_test_identity_new ("test-key");
  const char *inv = "21212121212121212121212121212121";
  GBytes *auth = bb_test_identity_get_auth_public_key (id);
  GBytes *wrap = bb_test_identity_get_wrap_public_key (id);
  const char *key_id = bb_test_identity_get_key_id (id);

  g_assert_null (bb_protocol_join_request_payload (NS, inv, "https://sync.example:443", "keystore",
                                                   key_id, auth, wrap, 1, &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "canonical");
  g_assert_null (bb_protocol_join_request_payload (NS, inv, "https://sync.example", "other", key_id,
                                                   auth, wrap, 1, &error));
  assert_error (&error, BB_SYNC_ERROR_UNSUPPORTED, "kind");
  g_assert_null (bb_protocol_join_request_payload (NS, inv, "https://sync.example", "keystore",
                                                   key_id, auth, wrap, -1, &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "expiresAt");
  g_assert_null (bb_protocol_join_request_payload (NS, "x", "https://sync.example", "keystore",
                                                   key_id, auth, wrap, 1, &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "inviteId");
}

/* ------------------------------------------------------------------------------------ */
/* Server origins                                                                       */

typedef struct
{
  const char *input;
  const char *canonical; /* NULL: rejected */
  const char *needle;    /* substring of the error message */
} OriginCase;

static void
test_origin (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *max_host = g_strnfill (120, 'a');
  g_autofree char *max_origin = g_strconcat ("https://", max_host, NULL);
  g_autofree char *over_origin = g_strconcat ("https://a", max_host, NULL);
  g_autofree char *max_canon = NULL;
  g_autofree char *long_with_443 = g_strconcat (max_origin, ":443", NULL);
  g_autofree char *long_with_port = g_strconcat ("https://", max_host + 2, ":8443", NULL);
  const OriginCase cases[] = {
    /* accepted, and normalised */
    { "https://sync.example", "https://sync.example", NULL },
    { "HTTPS://sync.example", "https://sync.example", NULL },
    { "hTTpS://sync.example", "https://sync.example", NULL },
    { "https://sync.example:443", "https://sync.example", NULL },
    { "https://sync.example:8443", "https://sync.example:8443", NULL },
    { "https://sync.example:1", "https://sync.example:1", NULL },
    { "https://sync.example:65535", "https://sync.example:65535", NULL },
    { "https://sync.example:", "https://sync.example", NULL },
    { "https://sync.example?", "https://sync.example", NULL },
    { "https://sync.example#", "https://sync.example", NULL },
    { "https://127.0.0.1:8090", "https://127.0.0.1:8090", NULL },
    { "https://xn--bcher-kva.example", "https://xn--bcher-kva.example", NULL },
    { "https://a-b.c-d", "https://a-b.c-d", NULL },
    { "https://localhost", "https://localhost", NULL },
    /* rule 1: scheme */
    { "http://sync.example", NULL, "https" },
    { "sync.example", NULL, "https" },
    { "ftp://sync.example", NULL, "https" },
    { "://sync.example", NULL, "parse" },
    { "", NULL, "https" },
    /* rule 2: host present, no userinfo, path, query or fragment */
    { "https://", NULL, "only scheme, host" },
    { "https:sync.example", NULL, "only scheme, host" },
    { "https:///sync.example", NULL, "only scheme, host" },
    { "https://user@sync.example", NULL, "only scheme, host" },
    { "https://@sync.example", NULL, "only scheme, host" },
    { "https://user:pw@sync.example", NULL, "only scheme, host" },
    { "https://sync.example/", NULL, "only scheme, host" },
    { "https://sync.example/v1", NULL, "only scheme, host" },
    { "https://sync.example?x", NULL, "only scheme, host" },
    { "https://sync.example??", NULL, "only scheme, host" },
    { "https://sync.example#x", NULL, "only scheme, host" },
    { "https://sync.example/%zz", NULL, "parse" },
    { "https://sync.example#%zz", NULL, "parse" },
    { "https://sync.example\n", NULL, "parse" },
    { "https://sync .example", NULL, "parse" },
    /* rule 3: lowercase ASCII */
    { "https://Sync.example", NULL, "lowercase ASCII" },
    { "https://SYNC.EXAMPLE", NULL, "lowercase ASCII" },
    { "https://b\xc3\xbc"
      "cher.example",
      NULL, "lowercase ASCII" },
    { "https://b%C3%BCcher.example", NULL, "lowercase ASCII" },
    { "https://:443", NULL, "lowercase ASCII" },
    { "https://sync%2eexample", NULL, "parse" },
    /* rule 4: IDNA A-label */
    { "https://bad-.example", NULL, "IDNA A-label" },
    { "https://-bad.example", NULL, "IDNA A-label" },
    { "https://.sync.example", NULL, "IDNA A-label" },
    { "https://sync.example.", NULL, "IDNA A-label" },
    { "https://sync..example", NULL, "IDNA A-label" },
    { "https://sync_x.example", NULL, "IDNA A-label" },
    { "https://sync.ex~ample", NULL, "IDNA A-label" },
    { "https://sync!.example", NULL, "IDNA A-label" },
    { "https://a%25b.example", NULL, "IDNA A-label" },
    { "https://a:1:2", NULL, "IDNA A-label" },
    { "https://[::1]", NULL, "parse" },
    { "https://[::1]:443", NULL, "parse" },
    /* rule 5: port */
    { "https://sync.example:0443", NULL, "canonical" },
    { "https://sync.example:0", NULL, "canonical" },
    { "https://sync.example:00", NULL, "canonical" },
    { "https://sync.example:65536", NULL, "canonical" },
    { "https://sync.example:99999999999999999999", NULL, "canonical" },
    { "https://sync.example:+1", NULL, "parse" },
    { "https://sync.example:-1", NULL, "parse" },
    { "https://sync.example:http", NULL, "parse" },
    { "https://sync.example: 1", NULL, "parse" },
    /* rule 6: length */
    { max_origin, max_origin, NULL },
    { long_with_443, max_origin, NULL },
    { over_origin, NULL, "maximum" },
    { long_with_port, NULL, "maximum" },
  };

  g_assert_cmpuint (strlen (max_origin), ==, 128);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *got = bb_protocol_canonical_origin (cases[i].input, &error);
      if (cases[i].canonical != NULL)
        {
          if (error != NULL)
            g_error ("origin “%s” rejected: %s", cases[i].input, error->message);
          g_assert_cmpstr (got, ==, cases[i].canonical);
          /* A canonical origin is a fixed point. */
          {
            g_autofree char *again = bb_protocol_canonical_origin (got, &error);
            g_assert_no_error (error);
            g_assert_cmpstr (again, ==, got);
          }
        }
      else
        {
          if (got != NULL)
            g_error ("origin “%s” accepted as “%s”", cases[i].input, got);
          assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, cases[i].needle);
        }
    }

  /* §12.1 item 6. */
  max_canon = bb_protocol_canonical_origin (max_origin, &error);
  g_assert_no_error (error);
}

static void
test_origin_hash (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) hash = bb_protocol_server_origin_hash ("https://sync.example", &error);
  g_autofree char *want
      = g_compute_checksum_for_string (G_CHECKSUM_SHA256, "https://sync.example", -1);
  const char *non_canonical[] = {
    "https://sync.example:443", "https://sync.example:0443", "HTTPS://sync.example",
    "https://sync.example?",    "https://sync.example:",     "https://Sync.example",
  };

  /* §12.1 item 5. */
  g_assert_no_error (error);
  bb_test_assert_bytes_hex (hash, want);
  for (gsize i = 0; i < G_N_ELEMENTS (non_canonical); i++)
    {
      g_assert_null (bb_protocol_server_origin_hash (non_canonical[i], &error));
      assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, i == 5 ? "lowercase ASCII" : "canonical");
    }
}

/* ------------------------------------------------------------------------------------ */
/* ETag / If-Match                                                                      */

static void
test_if_match (void)
{
  g_autoptr (GError) error = NULL;
  gboolean has = TRUE;
  guint64 version = 99;
  const char *malformed[] = {
    "3",
    "\"\"3\"\"",
    "\"03\"",
    "\"3\" ",
    " \"3\"",
    "\"3\", \"4\"",
    "\"\"",
    "\"",
    "\"+3\"",
    "\"-3\"",
    "\"3a\"",
    "W/\"3\"",
    "\"18446744073709551616\"",
    "\"1 \"",
  };

  /* Empty, whitespace and absent mean no precondition. */
  g_assert_true (bb_protocol_parse_if_match ("", &has, &version, &error));
  g_assert_no_error (error);
  g_assert_false (has);
  g_assert_cmpuint (version, ==, 0);
  has = TRUE;
  g_assert_true (bb_protocol_parse_if_match (" \t ", &has, NULL, &error));
  g_assert_false (has);
  has = TRUE;
  g_assert_true (bb_protocol_parse_if_match (NULL, &has, NULL, &error));
  g_assert_false (has);

  g_assert_true (bb_protocol_parse_if_match ("\"3\"", &has, &version, &error));
  g_assert_no_error (error);
  g_assert_true (has);
  g_assert_cmpuint (version, ==, 3);
  g_assert_true (bb_protocol_parse_if_match ("\"0\"", &has, &version, &error));
  g_assert_cmpuint (version, ==, 0);
  g_assert_true (bb_protocol_parse_if_match ("\"18446744073709551615\"", &has, &version, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (version, ==, G_MAXUINT64);

  for (gsize i = 0; i < G_N_ELEMENTS (malformed); i++)
    {
      has = FALSE;
      if (bb_protocol_parse_if_match (malformed[i], &has, &version, &error))
        g_error ("If-Match “%s” accepted", malformed[i]);
      g_assert_true (has);
      assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "If-Match");
    }

  /* The ETag round-trips. */
  for (guint64 v = 0; v < 2000; v += 7)
    {
      g_autofree char *etag = bb_protocol_etag (v);
      g_assert_true (bb_protocol_parse_if_match (etag, &has, &version, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (version, ==, v);
    }
}

/* ------------------------------------------------------------------------------------ */
/* Invites                                                                              */

#define ZERO_ID "00000000000000000000000000000000"
#define ONE_ID "11111111111111111111111111111111"
#define ZERO_K "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define GOOD_URI                                                                                   \
  "bitboxsync://join-namespace?v=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID "&e=1735689600#"        \
  "k=" ZERO_K

static char *
replace_once (const char *s, const char *old, const char *new)
{
  const char *at = strstr (s, old);

  g_assert_nonnull (at);
  return g_strdup_printf ("%.*s%s%s", (int)(at - s), s, new, at + strlen (old));
}

static void
test_invite_round_trip (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) zero = bb_test_repeat (0, 32);
  g_autoptr (BbInvite) invite = NULL;
  g_autoptr (BbInvite) parsed = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *again = NULL;

  /* §12.1 item 12. */
  invite = bb_invite_new ("https://sync.example:443", ZERO_ID, ZERO_ID, 1735689600, zero, &error);
  g_assert_no_error (error);
  uri = bb_invite_to_uri (invite);
  g_assert_cmpstr (uri, ==,
                   "bitboxsync://join-namespace?v=1&s=sync.example&n=" ZERO_ID "&i=" ZERO_ID
                   "&e=1735689600#k=" ZERO_K);
  g_assert_cmpstr (bb_invite_get_server_origin (invite), ==, "https://sync.example");
  parsed = bb_invite_new_from_uri (uri, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_invite_get_server_origin (parsed), ==, "https://sync.example");
  g_assert_cmpstr (bb_invite_get_namespace_id (parsed), ==, ZERO_ID);
  g_assert_cmpstr (bb_invite_get_invite_id (parsed), ==, ZERO_ID);
  g_assert_cmpint (bb_invite_get_expires_at (parsed), ==, 1735689600);
  g_assert_true (g_bytes_equal (bb_invite_get_secret (parsed), zero));
  again = bb_invite_to_uri (parsed);
  g_assert_cmpstr (again, ==, uri);

  /* A port survives the round trip. */
  {
    g_autoptr (BbInvite) p
        = bb_invite_new ("https://sync.example:8443", ZERO_ID, ONE_ID, 5, zero, &error);
    g_autofree char *u = NULL;
    g_autoptr (BbInvite) back = NULL;
    g_assert_no_error (error);
    u = bb_invite_to_uri (p);
    g_assert_nonnull (strstr (u, "&s=sync.example:8443&"));
    back = bb_invite_new_from_uri (u, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (bb_invite_get_server_origin (back), ==, "https://sync.example:8443");
  }

  /* Boxed type: copy is a ref. */
  {
    BbInvite *copy = g_boxed_copy (BB_TYPE_INVITE, parsed);
    g_assert_true (copy == parsed);
    g_boxed_free (BB_TYPE_INVITE, copy);
  }
}

/* The URL parser's percent-decoded copy of the fragment ("k=" and the secret's text) is
 * wiped. The %41 makes it differ from the raw fragment, which is wiped separately. */
static void
test_invite_parse_wipes_fragment (void)
{
  static const char decoded[] = "k=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";
  g_autoptr (GError) error = NULL;
  g_autoptr (BbInvite) invite = NULL;

  bb_test_wipes_begin ();
  invite = bb_invite_new_from_uri ("bitboxsync://join-namespace?v=1&s=sync.example&n=" ZERO_ID
                                   "&i=" ONE_ID
                                   "&e=1735689600#k=%41AECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
                                   &error);
  bb_test_wipes_end ();
  g_assert_no_error (error);
  g_assert_true (bb_test_wiped_exactly (decoded, strlen (decoded)));
}

static void
test_invite_parse_accepts (void)
{
  g_autoptr (GError) error = NULL;
  const char *accepted[] = {
    /* §12.1 item 13: the documented order. */
    GOOD_URI,
    /* Any order (item 14 uses e,i,n,s,v). */
    "bitboxsync://join-namespace?e=1735689600&i=" ONE_ID "&n=" ZERO_ID
    "&s=sync.example&v=1#k=" ZERO_K,
    /* Form decoding happens before validation (Go url.ParseQuery). */
    "bitboxsync://join-namespace?v=%31&s=sync%2Eexample&n=" ZERO_ID "&i=" ONE_ID
    "&e=1735689600#k=" ZERO_K,
    "bitboxsync://join-namespace?%76=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID
    "&e=1735689600#k=" ZERO_K,
    /* Upper-case scheme letters after the literal prefix are not possible; the host with a
     * port is fine. */
    "bitboxsync://join-namespace?v=1&s=sync.example:8443&n=" ZERO_ID "&i=" ONE_ID
    "&e=1735689600#k=" ZERO_K,
    /* Go ignores userinfo in the invite authority. */
    "bitboxsync://someone@join-namespace?v=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID
    "&e=1735689600#k=" ZERO_K,
    /* Percent-encoding in the fragment is decoded too. */
    "bitboxsync://join-namespace?v=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID
    "&e=1735689600#%6B=" ZERO_K,
  };

  for (gsize i = 0; i < G_N_ELEMENTS (accepted); i++)
    {
      g_autoptr (BbInvite) invite = bb_invite_new_from_uri (accepted[i], &error);
      g_autofree char *uri = NULL;
      g_autoptr (BbInvite) again = NULL;
      if (invite == NULL)
        g_error ("rejected “%s”: %s", accepted[i], error->message);
      g_assert_cmpstr (bb_invite_get_namespace_id (invite), ==, ZERO_ID);
      g_assert_cmpstr (bb_invite_get_invite_id (invite), ==, ONE_ID);
      g_assert_cmpint (bb_invite_get_expires_at (invite), ==, 1735689600);
      g_assert_true (
          g_str_has_prefix (bb_invite_get_server_origin (invite), "https://sync.example"));
      /* Re-emitting gives the canonical form, which parses to the same fields. */
      uri = bb_invite_to_uri (invite);
      again = bb_invite_new_from_uri (uri, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (bb_invite_get_server_origin (again), ==,
                       bb_invite_get_server_origin (invite));
    }
}

typedef struct
{
  const char *uri;
  int code;
  const char *needle;
} UriCase;

static void
test_invite_parse_rejects (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *padded = g_strconcat ("bitboxsync://join-namespace?e=1735689600&i=" ZERO_ID
                                         "&n=" ZERO_ID "&s=sync.example&v=1#k=",
                                         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "=", NULL);
  /* §12.1 item 15, built like the upstream test from the canonical URI. */
  g_autofree char *u443 = replace_once (GOOD_URI, "s=sync.example", "s=sync.example:443");
  g_autofree char *uextra = replace_once (GOOD_URI, "#k=", "&extra=1#k=");
  g_autofree char *udup = replace_once (GOOD_URI, "#k=", "&i=" ONE_ID "#k=");
  g_autofree char *ue0 = replace_once (GOOD_URI, "e=1735689600", "e=01735689600");
  g_autofree char *ufrag = replace_once (GOOD_URI, ZERO_K, ZERO_K "&x=1");
  g_autofree char *ubadesc = replace_once (GOOD_URI, "#k=", "&v=%zz#k=");
  g_autofree char *uemptyq = replace_once (GOOD_URI, "&i=", "&&i=");
  g_autofree char *uemptyf = replace_once (GOOD_URI, ZERO_K, ZERO_K "&&");
  g_autofree char *ucase = replace_once (GOOD_URI, "bitboxsync:", "BitBoxSync:");
  const UriCase cases[] = {
    { padded, BB_SYNC_ERROR_INVALID_INPUT, "unpadded base64url" },
    { u443, BB_SYNC_ERROR_INVALID_INPUT, "canonical" },
    { uextra, BB_SYNC_ERROR_INVALID_INPUT, "canonical" },
    { udup, BB_SYNC_ERROR_INVALID_INPUT, "canonical" },
    { ue0, BB_SYNC_ERROR_INVALID_INPUT, "canonical" },
    { ufrag, BB_SYNC_ERROR_INVALID_INPUT, "canonical" },
    { ubadesc, BB_SYNC_ERROR_INVALID_INPUT, "parse invite query" },
    { uemptyq, BB_SYNC_ERROR_INVALID_INPUT, "empty query" },
    { uemptyf, BB_SYNC_ERROR_INVALID_INPUT, "empty fragment" },
    { ucase, BB_SYNC_ERROR_UNSUPPORTED, "unsupported" },
    /* rule 1 */
    { "https://join-namespace?v=1", BB_SYNC_ERROR_UNSUPPORTED, "unsupported" },
    { "", BB_SYNC_ERROR_UNSUPPORTED, "unsupported" },
    { " bitboxsync://join-namespace", BB_SYNC_ERROR_UNSUPPORTED, "unsupported" },
    /* rule 2 */
    { "bitboxsync://join-namespace/?v=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID
      "&e=1735689600#k=" ZERO_K,
      BB_SYNC_ERROR_UNSUPPORTED, "unsupported" },
    { "bitboxsync://join-namespaces?v=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID
      "&e=1735689600#k=" ZERO_K,
      BB_SYNC_ERROR_UNSUPPORTED, "unsupported" },
    { "bitboxsync:join-namespace?v=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID
      "&e=1735689600#k=" ZERO_K,
      BB_SYNC_ERROR_UNSUPPORTED, "unsupported" },
    { "bitboxsync://JOIN-NAMESPACE?v=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID
      "&e=1735689600#k=" ZERO_K,
      BB_SYNC_ERROR_UNSUPPORTED, "unsupported" },
    { "bitboxsync://join-namespace:1?v=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID
      "&e=1735689600#k=" ZERO_K,
      BB_SYNC_ERROR_UNSUPPORTED, "unsupported" },
    { "bitboxsync://join-namespace\t?v=1", BB_SYNC_ERROR_INVALID_INPUT, "parse" },
    { "bitboxsync://join-namespace?v=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID
      "&e=1735689600#k=%zz",
      BB_SYNC_ERROR_INVALID_INPUT, "parse" },
    /* rule 3 */
    { "bitboxsync://join-namespace#k=" ZERO_K, BB_SYNC_ERROR_INVALID_INPUT, "query" },
    { "bitboxsync://join-namespace?#k=" ZERO_K, BB_SYNC_ERROR_INVALID_INPUT, "query" },
    { "bitboxsync://join-namespace?&v=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID
      "&e=1735689600#k=" ZERO_K,
      BB_SYNC_ERROR_INVALID_INPUT, "empty query" },
    { "bitboxsync://join-namespace?v=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID
      "&e=1735689600&#k=" ZERO_K,
      BB_SYNC_ERROR_INVALID_INPUT, "empty query" },
    /* rule 4 */
    { "bitboxsync://join-namespace?v=1;s=sync.example&n=" ZERO_ID "&i=" ONE_ID
      "&e=1735689600#k=" ZERO_K,
      BB_SYNC_ERROR_INVALID_INPUT, "parse invite query" },
    { "bitboxsync://join-namespace?v=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID
      "&e=1735689600%#k=" ZERO_K,
      BB_SYNC_ERROR_INVALID_INPUT, "parse invite query" },
    /* rule 5 */
    { "bitboxsync://join-namespace?v=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID "#k=" ZERO_K,
      BB_SYNC_ERROR_INVALID_INPUT, "canonical" },
    { "bitboxsync://join-namespace?v=1&v=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID
      "&e=1735689600#k=" ZERO_K,
      BB_SYNC_ERROR_INVALID_INPUT, "canonical" },
    { "bitboxsync://join-namespace?v=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID
      "&e=1735689600&=x#k=" ZERO_K,
      BB_SYNC_ERROR_INVALID_INPUT, "canonical" },
    { "bitboxsync://join-namespace?V=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID
      "&e=1735689600#k=" ZERO_K,
      BB_SYNC_ERROR_INVALID_INPUT, "canonical" },
    { "bitboxsync://join-namespace?v%00=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID
      "&e=1735689600#k=" ZERO_K,
      BB_SYNC_ERROR_INVALID_INPUT, "canonical" },
    /* rule 6 */
    { "bitboxsync://join-namespace?v=2&s=sync.example&n=" ZERO_ID "&i=" ONE_ID
      "&e=1735689600#k=" ZERO_K,
      BB_SYNC_ERROR_UNSUPPORTED, "unsupported version" },
    { "bitboxsync://join-namespace?v=01&s=sync.example&n=" ZERO_ID "&i=" ONE_ID
      "&e=1735689600#k=" ZERO_K,
      BB_SYNC_ERROR_UNSUPPORTED, "unsupported version" },
    { "bitboxsync://join-namespace?v=1%00&s=sync.example&n=" ZERO_ID "&i=" ONE_ID
      "&e=1735689600#k=" ZERO_K,
      BB_SYNC_ERROR_UNSUPPORTED, "unsupported version" },
    { "bitboxsync://join-namespace?v=1&s=sync.example%00&n=" ZERO_ID "&i=" ONE_ID
      "&e=1735689600#k=" ZERO_K,
      BB_SYNC_ERROR_INVALID_INPUT, "s:" },
    { "bitboxsync://join-namespace?v=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID
      "&e=1735689600#k=" ZERO_K "%00",
      BB_SYNC_ERROR_INVALID_INPUT, "k:" },
    /* rule 7 */
    { "bitboxsync://join-namespace?v=1&s=Sync.example&n=" ZERO_ID "&i=" ONE_ID
      "&e=1735689600#k=" ZERO_K,
      BB_SYNC_ERROR_INVALID_INPUT, "lowercase ASCII" },
    { "bitboxsync://join-namespace?v=1&s=https://sync.example&n=" ZERO_ID "&i=" ONE_ID
      "&e=1735689600#k=" ZERO_K,
      BB_SYNC_ERROR_INVALID_INPUT, "server origin" },
    { "bitboxsync://join-namespace?v=1&s=sync.example%2F&n=" ZERO_ID "&i=" ONE_ID
      "&e=1735689600#k=" ZERO_K,
      BB_SYNC_ERROR_INVALID_INPUT, "server origin" },
    { "bitboxsync://join-namespace?v=1&s=sync.example%3F&n=" ZERO_ID "&i=" ONE_ID
      "&e=1735689600#k=" ZERO_K,
      BB_SYNC_ERROR_INVALID_INPUT, "canonical" },
    { "bitboxsync://join-namespace?v=1&s=sync.example:&n=" ZERO_ID "&i=" ONE_ID
      "&e=1735689600#k=" ZERO_K,
      BB_SYNC_ERROR_INVALID_INPUT, "canonical" },
    { "bitboxsync://join-namespace?v=1&s=&n=" ZERO_ID "&i=" ONE_ID "&e=1735689600#k=" ZERO_K,
      BB_SYNC_ERROR_INVALID_INPUT, "server origin" },
    { "bitboxsync://join-namespace?v=1&s=u@sync.example&n=" ZERO_ID "&i=" ONE_ID
      "&e=1735689600#k=" ZERO_K,
      BB_SYNC_ERROR_INVALID_INPUT, "server origin" },
    /* rule 8 */
    { "bitboxsync://join-namespace?v=1&s=sync.example&n=A" ZERO_ID "&i=" ONE_ID
      "&e=1735689600#k=" ZERO_K,
      BB_SYNC_ERROR_INVALID_INPUT, "namespaceId" },
    { "bitboxsync://join-namespace?v=1&s=sync.example&n=A0000000000000000000000000000000&i=" ONE_ID
      "&e=1735689600#k=" ZERO_K,
      BB_SYNC_ERROR_INVALID_INPUT, "namespaceId" },
    { "bitboxsync://join-namespace?v=1&s=sync.example&n=" ZERO_ID "&i=1111&e=1735689600#k=" ZERO_K,
      BB_SYNC_ERROR_INVALID_INPUT, "inviteId" },
    { "bitboxsync://join-namespace?v=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID "1"
      "&e=1735689600#k=" ZERO_K,
      BB_SYNC_ERROR_INVALID_INPUT, "inviteId" },
    /* rule 9 */
    { "bitboxsync://join-namespace?v=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID "&e=0#k=" ZERO_K,
      BB_SYNC_ERROR_INVALID_INPUT, "positive" },
    { "bitboxsync://join-namespace?v=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID "&e=-5#k=" ZERO_K,
      BB_SYNC_ERROR_INVALID_INPUT, "positive" },
    { "bitboxsync://join-namespace?v=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID "&e=%2B5#k=" ZERO_K,
      BB_SYNC_ERROR_INVALID_INPUT, "canonical" },
    { "bitboxsync://join-namespace?v=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID "&e=5x#k=" ZERO_K,
      BB_SYNC_ERROR_INVALID_INPUT, "expiry" },
    { "bitboxsync://join-namespace?v=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID "&e=#k=" ZERO_K,
      BB_SYNC_ERROR_INVALID_INPUT, "expiry" },
    { "bitboxsync://join-namespace?v=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID
      "&e=9223372036854775808#k=" ZERO_K,
      BB_SYNC_ERROR_INVALID_INPUT, "expiry" },
    { "bitboxsync://join-namespace?v=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID "&e=1+#k=" ZERO_K,
      BB_SYNC_ERROR_INVALID_INPUT, "expiry" },
    /* rule 10 */
    { "bitboxsync://join-namespace?v=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID "&e=1",
      BB_SYNC_ERROR_INVALID_INPUT, "fragment" },
    { "bitboxsync://join-namespace?v=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID "&e=1#",
      BB_SYNC_ERROR_INVALID_INPUT, "fragment" },
    { "bitboxsync://join-namespace?v=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID "&e=1#&k=" ZERO_K,
      BB_SYNC_ERROR_INVALID_INPUT, "empty fragment" },
    { "bitboxsync://join-namespace?v=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID "&e=1#k=" ZERO_K
      "&k=" ZERO_K,
      BB_SYNC_ERROR_INVALID_INPUT, "canonical" },
    { "bitboxsync://join-namespace?v=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID "&e=1#K=" ZERO_K,
      BB_SYNC_ERROR_INVALID_INPUT, "canonical" },
    { "bitboxsync://join-namespace?v=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID "&e=1#k=" ZERO_K ";",
      BB_SYNC_ERROR_INVALID_INPUT, "parse invite fragment" },
    { "bitboxsync://join-namespace?v=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID "&e=1#k=AAAA",
      BB_SYNC_ERROR_INVALID_INPUT, "inviteSecret" },
    { "bitboxsync://join-namespace?v=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID
      "&e=1#k=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB",
      BB_SYNC_ERROR_INVALID_INPUT, "canonical base64url" },
    { "bitboxsync://join-namespace?v=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID
      "&e=1#k=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+",
      BB_SYNC_ERROR_INVALID_INPUT, "inviteSecret" },
    { "bitboxsync://join-namespace?v=1&s=sync.example&n=" ZERO_ID "&i=" ONE_ID
      "&e=1#k=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA A",
      BB_SYNC_ERROR_INVALID_INPUT, "inviteSecret" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (BbInvite) invite = bb_invite_new_from_uri (cases[i].uri, &error);
      if (invite != NULL)
        g_error ("accepted “%s”", cases[i].uri);
      if (!g_error_matches (error, BB_SYNC_ERROR, cases[i].code)
          || strstr (error->message, cases[i].needle) == NULL)
        g_error ("“%s”: expected %d “%s”, got %d “%s”", cases[i].uri, cases[i].code,
                 cases[i].needle, error->code, error->message);
      g_clear_error (&error);
    }
}

static void
test_invite_new_validation (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) secret = bb_test_repeat (0x44, 32);
  g_autoptr (GBytes) short_secret = bb_test_repeat (0x44, 31);

  g_assert_null (bb_invite_new ("http://sync.example", ZERO_ID, ONE_ID, 1, secret, &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "https");
  g_assert_null (bb_invite_new ("https://sync.example", "00", ONE_ID, 1, secret, &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "namespaceId");
  g_assert_null (bb_invite_new ("https://sync.example", ZERO_ID, "A1111111111111111111111111111111",
                                1, secret, &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "inviteId");
  g_assert_null (bb_invite_new ("https://sync.example", ZERO_ID, ONE_ID, 0, secret, &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "expiresAt");
  g_assert_null (bb_invite_new ("https://sync.example", ZERO_ID, ONE_ID, -1, secret, &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "expiresAt");
  g_assert_null (bb_invite_new ("https://sync.example", ZERO_ID, ONE_ID, 1, short_secret, &error));
  assert_error (&error, BB_SYNC_ERROR_INVALID_INPUT, "inviteSecret");

  /* The secret is copied, not referenced. */
  {
    g_autoptr (BbInvite) invite
        = bb_invite_new ("https://sync.example", ZERO_ID, ONE_ID, 1, secret, &error);
    g_assert_no_error (error);
    g_assert_true (g_bytes_equal (bb_invite_get_secret (invite), secret));
    g_assert_true (bb_invite_get_secret (invite) != secret);
  }
}

static void
collect_pairs (const char *key, gsize key_len, const char *value, gsize value_len,
               gpointer user_data)
{
  GString *out = user_data;

  g_string_append_printf (out, "[%.*s|%.*s]", (int)key_len, key, (int)value_len, value);
  if (strlen (key) != key_len || strlen (value) != value_len)
    g_string_append (out, "(nul)");
}

static void
test_form_decoding (void)
{
  const struct
  {
    const char *raw;
    const char *pairs;
  } ok[] = {
    { "a+b=c+d", "[a b|c d]" },
    { "%76=%31&s=x%2Ey", "[v|1][s|x.y]" },
    { "k", "[k|]" },
    { "k=a=b", "[k|a=b]" },
    { "=x", "[|x]" },
    { "a&&b", "[a|][b|]" },
    { "k=%00", "[k|](nul)" },
  };
  const char *bad[] = { "a;b", "k=%zz", "k=%4", "%=1", "a=1&b=2;" };

  for (gsize i = 0; i < G_N_ELEMENTS (ok); i++)
    {
      g_autoptr (GString) out = g_string_new (NULL);
      g_autofree char *reason = NULL;
      g_assert_true (bb_protocol_parse_form (ok[i].raw, collect_pairs, out, &reason));
      g_assert_cmpstr (out->str, ==, ok[i].pairs);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GString) out = g_string_new (NULL);
      g_autofree char *reason = NULL;
      g_assert_false (bb_protocol_parse_form (bad[i], collect_pairs, out, &reason));
      g_assert_nonnull (reason);
    }
}

static void
test_url_split (void)
{
  const struct
  {
    const char *text;
    const char *scheme, *host, *query, *fragment;
    gboolean has_user;
    gsize path_len;
  } ok[] = {
    { "HTTPS://h:1?q#f", "https", "h:1", "q", "f", FALSE, 0 },
    { "x://u@h/p?", "x", "h", "", "", TRUE, 2 },
    { "x://h?a?b", "x", "h", "a?b", "", FALSE, 0 },
    { "x://h#a b", "x", "h", "", "a%20b", FALSE, 0 },
    { "x://h#a%20b", "x", "h", "", "a%20b", FALSE, 0 },
    { "x://b%C3%BC", "x", "b\xc3\xbc", "", "", FALSE, 0 },
  };
  const char *bad[] = { "x://h\x01", ":x",       "x://h:a",   "x://h%41",
                        "x://h/%zz", "x://h#%z", "x://u\"@h", "x://[::1]" };

  for (gsize i = 0; i < G_N_ELEMENTS (ok); i++)
    {
      BbProtocolUrl url;
      g_autofree char *reason = NULL;
      g_assert_true (bb_protocol_url_parse (ok[i].text, &url, &reason));
      g_assert_cmpstr (url.scheme, ==, ok[i].scheme);
      g_assert_cmpstr (url.host, ==, ok[i].host);
      g_assert_cmpstr (url.raw_query, ==, ok[i].query);
      g_assert_cmpstr (url.escaped_fragment, ==, ok[i].fragment);
      g_assert_cmpint (url.has_user, ==, ok[i].has_user);
      g_assert_cmpuint (url.path_len, ==, ok[i].path_len);
      bb_protocol_url_clear (&url);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      BbProtocolUrl url;
      g_autofree char *reason = NULL;
      if (bb_protocol_url_parse (bad[i], &url, &reason))
        g_error ("accepted URL “%s”", bad[i]);
      g_assert_nonnull (reason);
    }
}

static void
test_test_identity (void)
{
  g_autoptr (BbTestIdentity) a = bb_test_identity_new ("label-a");
  g_autoptr (BbTestIdentity) a2 = bb_test_identity_new ("label-a");
  g_autoptr (BbTestIdentity) b = bb_test_identity_new ("label-b");
  g_autoptr (BbTestIdentity) empty = g_object_new (BB_TYPE_TEST_IDENTITY, NULL);
  g_autoptr (GBytes) msg = g_bytes_new_static ("hello", 5);
  g_autoptr (GBytes) sig = bb_test_identity_sign (a, msg);
  g_autoptr (GBytes) sig2 = bb_test_identity_sign (a2, msg);
  g_autoptr (GError) error = NULL;

  /* Deterministic from the label, distinct across labels. */
  g_assert_cmpstr (bb_test_identity_get_key_id (a), ==, bb_test_identity_get_key_id (a2));
  g_assert_cmpstr (bb_test_identity_get_key_id (a), !=, bb_test_identity_get_key_id (b));
  g_assert_true (g_bytes_equal (sig, sig2));
  g_assert_true (
      bb_protocol_verify_signature (bb_test_identity_get_auth_public_key (a), msg, sig, &error));
  g_assert_no_error (error);
  g_assert_false (
      bb_protocol_verify_signature (bb_test_identity_get_auth_public_key (b), msg, sig, &error));
  assert_error (&error, BB_SYNC_ERROR_CRYPTO, "signature");
  g_assert_cmpstr (bb_test_identity_get_label (empty), ==, "");
  g_assert_cmpuint (strlen (bb_test_identity_get_key_id (empty)), ==, 64);
}

/* Fresh IDs are valid lower-hex of their size and differ from call to call; fresh keys
 * have their size, differ, and serve as a namespace key. */
static void
test_fresh_random_values (void)
{
  g_autofree char *ns1 = bb_protocol_new_namespace_id ();
  g_autofree char *ns2 = bb_protocol_new_namespace_id ();
  g_autofree char *inv = bb_protocol_new_invite_id ();
  g_autoptr (GBytes) dek1 = bb_protocol_new_dek ();
  g_autoptr (GBytes) dek2 = bb_protocol_new_dek ();
  g_autoptr (GBytes) secret = bb_protocol_new_invite_secret ();
  g_autoptr (GBytes) server_secret = NULL;
  g_autofree char *item_id = NULL;
  GError *error = NULL;

  g_assert_true (bb_protocol_validate_lower_hex (ns1, BB_PROTOCOL_NAMESPACE_ID_SIZE, "ns", &error));
  g_assert_no_error (error);
  g_assert_true (bb_protocol_validate_lower_hex (inv, BB_PROTOCOL_INVITE_ID_SIZE, "invite", &error));
  g_assert_no_error (error);
  g_assert_cmpstr (ns1, !=, ns2);
  g_assert_cmpuint (g_bytes_get_size (dek1), ==, BB_PROTOCOL_DEK_SIZE);
  g_assert_cmpuint (g_bytes_get_size (secret), ==, BB_PROTOCOL_INVITE_SECRET_SIZE);
  g_assert_false (g_bytes_equal (dek1, dek2));

  item_id = bb_protocol_item_id (dek1, "notes", "tx1", &error);
  g_assert_no_error (error);
  g_assert_nonnull (item_id);
  server_secret = bb_protocol_invite_server_secret (secret, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (server_secret), ==, 32);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/protocol/encoding/hex", test_hex);
  g_test_add_func ("/protocol/encoding/base64", test_base64);
  g_test_add_func ("/protocol/encoding/base64url", test_base64url);
  g_test_add_func ("/protocol/encoding/failed-decode-wiped", test_failed_decode_wiped);
  g_test_add_func ("/protocol/vectors/identities", test_vectors_identities);
  g_test_add_func ("/protocol/vectors/collection-keys", test_vectors_collection_keys);
  g_test_add_func ("/protocol/vectors/items", test_vectors_items);
  g_test_add_func ("/protocol/vectors/wrapped-deks", test_vectors_wrapped_deks);
  g_test_add_func ("/protocol/vectors/intents", test_vectors_intents);
  g_test_add_func ("/protocol/vectors/invites", test_vectors_invites);
  g_test_add_func ("/protocol/spec/identities", test_spec_identities);
  g_test_add_func ("/protocol/spec/intents", test_spec_intents);
  g_test_add_func ("/protocol/spec/create-invite", test_spec_create_invite);
  g_test_add_func ("/protocol/spec/invite-secrets-and-join", test_spec_invite_secrets_and_join);
  g_test_add_func ("/protocol/spec/items", test_spec_items);
  g_test_add_func ("/protocol/spec/wrapped-dek", test_spec_wrapped_dek);
  g_test_add_func ("/protocol/spec/etag", test_spec_etag);
  g_test_add_func ("/protocol/items/errors", test_item_crypto_errors);
  g_test_add_func ("/protocol/items/encrypt-fresh-nonce", test_item_encrypt_fresh_nonce);
  g_test_add_func ("/protocol/items/logical-key-separation", test_logical_key_separation);
  g_test_add_func ("/protocol/wrapped-dek/errors", test_wrapped_dek_errors);
  g_test_add_func ("/protocol/intents/errors", test_intent_errors);
  g_test_add_func ("/protocol/signatures/small-order", test_signature_small_order);
  g_test_add_func ("/protocol/intents/create-invite-ranges", test_create_invite_fields_ranges);
  g_test_add_func ("/protocol/invite-secrets/errors", test_invite_secret_errors);
  g_test_add_func ("/protocol/join-request/errors", test_join_request_errors);
  g_test_add_func ("/protocol/origin/rules", test_origin);
  g_test_add_func ("/protocol/origin/hash", test_origin_hash);
  g_test_add_func ("/protocol/if-match", test_if_match);
  g_test_add_func ("/protocol/invite/round-trip", test_invite_round_trip);
  g_test_add_func ("/protocol/invite/parse-accepts", test_invite_parse_accepts);
  g_test_add_func ("/protocol/invite/parse-wipes-fragment", test_invite_parse_wipes_fragment);
  g_test_add_func ("/protocol/invite/parse-rejects", test_invite_parse_rejects);
  g_test_add_func ("/protocol/invite/new-validation", test_invite_new_validation);
  g_test_add_func ("/protocol/test-identity", test_test_identity);
  g_test_add_func ("/protocol/go-url/form-decoding", test_form_decoding);
  g_test_add_func ("/protocol/go-url/split", test_url_split);
  g_test_add_func ("/protocol/fresh-random-values", test_fresh_random_values);

  return g_test_run ();
}
