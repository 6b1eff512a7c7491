/* test-messages.c: the JSON bodies of protocol §6 (bb-protocol-messages-private.h)
 *
 * Known bodies come from tests/data/messages.json: each is written the way a Go peer
 * writes it, so parsing then re-serialising must reproduce it byte for byte.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <string.h>

#include "bb-crypto-private.h"
#include "bb-error.h"
#include "bb-json-private.h"
#include "bb-protocol.h"
#include "bb-test-utils.h"
#include "msg-types.h"

static JsonNode *messages_data;

/* ------------------------------------------------------------------------------------ */
/* Helpers                                                                              */

/* Parses @text as @type; returns the message (free with msg_free) or NULL with @error. */
static gpointer
msg_parse (const MsgType *type, const char *text, gssize len, GError **error)
{
  gpointer msg = g_malloc0 (type->size);

  if (!type->parse (msg, text, len, error))
    {
      /* A failed parse leaves the struct cleared: every byte zero. */
      for (gsize i = 0; i < type->size; i++)
        g_assert_cmpint (((guint8 *)msg)[i], ==, 0);
      g_free (msg);
      return NULL;
    }
  return msg;
}

static void
msg_free (const MsgType *type, gpointer msg)
{
  type->clear (msg);
  g_free (msg);
}

static const MsgType *
type_of (JsonObject *entry)
{
  const MsgType *type = msg_type_lookup (json_object_get_string_member (entry, "type"));
  g_assert_nonnull (type);
  return type;
}

static JsonArray *
data_array (const char *name)
{
  return json_object_get_array_member (json_node_get_object (messages_data), name);
}

/* Asserts that @text fails to parse as @type with a protocol error whose message starts
 * with @path (when non-NULL). */
static void
assert_rejected (const MsgType *type, const char *text, const char *path)
{
  g_autoptr (GError) error = NULL;
  gpointer msg = msg_parse (type, text, -1, &error);

  if (msg != NULL)
    {
      g_autofree char *json = type->to_json (msg);
      msg_free (type, msg);
      g_error ("%s accepted %s (read as %s)", type->name, text, json);
    }
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL);
  /* The message starts with the field path, or a path below it. */
  if (path != NULL
      && !(g_str_has_prefix (error->message, path)
           && strchr (":.[", error->message[strlen (path)]) != NULL
           && error->message[strlen (path)] != '\0'))
    g_error ("%s: error for %s is \"%s\"", type->name, path, error->message);
}

/* Parses @text as @type, asserts success and returns the re-serialisation. */
static char *
reserialise (const MsgType *type, const char *text)
{
  g_autoptr (GError) error = NULL;
  gpointer msg = msg_parse (type, text, -1, &error);
  char *json;

  g_assert_no_error (error);
  g_assert_nonnull (msg);
  json = type->to_json (msg);
  msg_free (type, msg);
  return json;
}

/* Finds the node at @path ("a.b[2].c") under @root, and its parent object or array. */
static JsonNode *
node_at (JsonNode *root, const char *path, JsonObject **parent_object, char **member_name,
         JsonArray **parent_array, guint *index)
{
  g_auto (GStrv) parts = g_strsplit (path, ".", -1);
  JsonNode *node = root;

  for (guint i = 0; parts[i] != NULL; i++)
    {
      char *bracket = strchr (parts[i], '[');
      g_autofree char *name
          = g_strndup (parts[i], bracket ? (gsize)(bracket - parts[i]) : strlen (parts[i]));
      JsonObject *obj = json_node_get_object (node);

      g_assert_true (json_object_has_member (obj, name));
      *parent_object = obj;
      g_free (*member_name);
      *member_name = g_strdup (name);
      *parent_array = NULL;
      node = json_object_get_member (obj, name);
      if (bracket != NULL)
        {
          *index = (guint)g_ascii_strtoull (bracket + 1, NULL, 10);
          *parent_array = json_node_get_array (node);
          node = json_array_get_element (*parent_array, *index);
        }
    }
  return node;
}

/* @body with the value at @path replaced by @replacement (JSON text, inserted as is so
 * that numbers json-glib cannot hold reach the parser unchanged), or removed when
 * @replacement is NULL. The bodies mutated here stay within json-glib's int64 range. */
static char *
mutate (const char *body, const char *path, const char *replacement)
{
  static const char placeholder[] = "@@replacement@@";
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_auto (GStrv) halves = NULL;
  JsonNode *root;
  JsonObject *parent_object = NULL;
  JsonArray *parent_array = NULL;
  g_autofree char *member_name = NULL;
  guint index = 0;

  json_parser_load_from_data (parser, body, -1, &error);
  g_assert_no_error (error);
  root = json_parser_get_root (parser);
  node_at (root, path, &parent_object, &member_name, &parent_array, &index);

  if (parent_array != NULL)
    {
      /* Only the last element of a list is replaced, so the order is kept. */
      g_assert_nonnull (replacement);
      g_assert_cmpuint (json_array_get_length (parent_array), ==, index + 1);
      json_array_remove_element (parent_array, index);
      json_array_add_string_element (parent_array, placeholder);
    }
  else if (replacement != NULL)
    json_object_set_string_member (parent_object, member_name, placeholder);
  else
    json_object_remove_member (parent_object, member_name);

  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  if (replacement == NULL)
    return g_steal_pointer (&text);
  halves = g_strsplit (text, "\"@@replacement@@\"", -1);
  g_assert_cmpuint (g_strv_length (halves), ==, 2);
  return g_strconcat (halves[0], replacement, halves[1], NULL);
}

/* The first body of the data file with type @name. */
static const char *
body_of (const char *name, guint nth)
{
  JsonArray *messages = data_array ("messages");

  for (guint i = 0; i < json_array_get_length (messages); i++)
    {
      JsonObject *entry = json_array_get_object_element (messages, i);
      if (g_str_equal (json_object_get_string_member (entry, "type"), name) && nth-- == 0)
        return json_object_get_string_member (entry, "body");
    }
  g_assert_not_reached ();
}

/* ------------------------------------------------------------------------------------ */
/* Round trips and required fields                                                      */

static void
test_roundtrip (void)
{
  JsonArray *messages = data_array ("messages");
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < json_array_get_length (messages); i++)
    {
      JsonObject *entry = json_array_get_object_element (messages, i);
      const MsgType *type = type_of (entry);
      const char *body = json_object_get_string_member (entry, "body");
      g_autofree char *once = reserialise (type, body);
      g_autofree char *twice = reserialise (type, once);
      g_autofree char *with_newline = g_strconcat (body, "\n", NULL);
      g_autofree char *from_newline = reserialise (type, with_newline);

      g_test_message ("%s: %s", type->name, body);
      g_assert_cmpstr (once, ==, body);
      g_assert_cmpstr (twice, ==, body);
      g_assert_cmpstr (from_newline, ==, body);
      g_assert_false (g_str_has_suffix (once, "\n"));
      g_hash_table_add (seen, (gpointer)type->name);
    }

  /* Every type has at least one known body. */
  for (gsize i = 0; i < G_N_ELEMENTS (msg_types); i++)
    if (!g_hash_table_contains (seen, msg_types[i].name))
      g_error ("no body for %s in messages.json", msg_types[i].name);
}

static void
test_required (void)
{
  JsonArray *messages = data_array ("messages");
  guint checked = 0;

  for (guint i = 0; i < json_array_get_length (messages); i++)
    {
      JsonObject *entry = json_array_get_object_element (messages, i);
      const MsgType *type = type_of (entry);
      const char *body = json_object_get_string_member (entry, "body");
      JsonArray *required = json_object_get_array_member (entry, "required");

      for (guint j = 0; j < json_array_get_length (required); j++)
        {
          const char *path = json_array_get_string_element (required, j);
          g_autofree char *without = NULL;

          /* An element of a list cannot be "missing"; its members can. */
          if (g_str_has_suffix (path, "]"))
            continue;
          without = mutate (body, path, NULL);
          assert_rejected (type, without, path);
          checked++;
        }
    }
  g_assert_cmpuint (checked, >, 100);
}

static void
test_wrong_type (void)
{
  JsonArray *messages = data_array ("messages");

  for (guint i = 0; i < json_array_get_length (messages); i++)
    {
      JsonObject *entry = json_array_get_object_element (messages, i);
      const MsgType *type = type_of (entry);
      const char *body = json_object_get_string_member (entry, "body");
      JsonArray *required = json_object_get_array_member (entry, "required");

      for (guint j = 0; j < json_array_get_length (required); j++)
        {
          const char *path = json_array_get_string_element (required, j);
          g_autoptr (JsonParser) parser = json_parser_new ();
          JsonObject *po = NULL;
          JsonArray *pa = NULL;
          g_autofree char *name = NULL;
          guint index = 0;
          JsonNode *node;
          gboolean is_bool;
          const char *wrong[3];

          json_parser_load_from_data (parser, body, -1, NULL);
          node = node_at (json_parser_get_root (parser), path, &po, &name, &pa, &index);
          is_bool
              = JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_BOOLEAN;
          /* No field takes both a boolean and a string, or a number and an array. */
          wrong[0] = is_bool ? "\"true\"" : "true";
          wrong[1] = is_bool ? "1" : "[]";
          wrong[2] = JSON_NODE_HOLDS_OBJECT (node) ? "\"x\"" : "{}";
          for (guint k = 0; k < G_N_ELEMENTS (wrong); k++)
            {
              g_autofree char *bad = mutate (body, path, wrong[k]);
              assert_rejected (type, bad, path);
            }
        }
    }
}

/* ------------------------------------------------------------------------------------ */
/* Encodings                                                                            */

typedef struct
{
  const char *type;
  guint nth;
  const char *path;
  const char *value; /* JSON text */
  gboolean ok;
} Case;

static void
run_cases (const Case *cases, gsize n)
{
  for (gsize i = 0; i < n; i++)
    {
      const MsgType *type = msg_type_lookup (cases[i].type);
      g_autofree char *text
          = mutate (body_of (cases[i].type, cases[i].nth), cases[i].path, cases[i].value);

      g_test_message ("%s %s = %s", cases[i].type, cases[i].path, cases[i].value);
      if (cases[i].ok)
        {
          g_autofree char *json = reserialise (type, text);
          g_assert_nonnull (strstr (json, cases[i].value));
        }
      else
        assert_rejected (type, text, cases[i].path);
    }
}

static void
test_hex (void)
{
  static const Case cases[] = {
    { "default_namespace_response", 0, "namespaceId", "\"00112233445566778899AABBCCDDEEFF\"",
      FALSE },
    { "default_namespace_response", 0, "namespaceId", "\"00112233445566778899aabbccddeeff\"",
      TRUE },
    { "default_namespace_response", 0, "namespaceId", "\"00112233445566778899aabbccddee\"", FALSE },
    { "default_namespace_response", 0, "namespaceId", "\"00112233445566778899aabbccddeeff00\"",
      FALSE },
    { "default_namespace_response", 0, "namespaceId", "\"00112233445566778899aabbccddeef\"",
      FALSE },
    { "default_namespace_response", 0, "namespaceId", "\"00112233445566778899aabbccddeefg\"",
      FALSE },
    { "default_namespace_response", 0, "namespaceId", "\"\"", FALSE },
    { "login_response", 1, "defaultNamespaceId", "\"00112233445566778899aabbccddeeFF\"", FALSE },
    { "login_response", 1, "defaultNamespaceId", "null", TRUE },
    { "members_response", 0, "members[1].keyId", "\"AB\"", FALSE },
    { "wrapped_dek_response", 0, "keyId", "\"0011\"", FALSE },
    { "item_response", 0, "itemId", "\"00112233445566778899aabbccddeeff\"", FALSE },
    { "challenge_request", 1, "actionFieldsHash", "\"ABCD\"", FALSE },
    { "put_item_response", 0, "itemId",
      "\"00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff\"", FALSE },
    /* intentSignature is hex of either case (spec §2.1); the join request signature is not. */
    { "login_request", 0, "intentSignature",
      "\"00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF"
      "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF\"",
      TRUE },
    { "login_request", 0, "intentSignature", "\"0011\"", FALSE },
    { "submit_join_request", 0, "joinRequest.signature",
      "\"00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF"
      "00112233445566778899AABBCCDDEEFF00112233445566778899AABBCCDDEEFF\"",
      FALSE },
    { "submit_join_request", 0, "joinRequest.authPublicKey", "\"00\"", FALSE },
    { "list_join_requests_response", 0, "requests[0].joinRequest", "{}", FALSE },
    { "watch_request", 0, "knownHeads", "{\"00112233445566778899AABBCCDDEEFF\":1}", FALSE },
    { "watch_request", 0, "knownHeads", "{\"0011\":1}", FALSE },
    { "items_response", 0, "items", "{\"0011\":{\"version\":1}}", FALSE },
  };
  run_cases (cases, G_N_ELEMENTS (cases));
}

static void
test_base64 (void)
{
  static const Case cases[] = {
    /* 32 bytes: 43 characters and one '=' */
    { "challenge_response", 0, "challenge", "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"",
      TRUE },
    { "challenge_response", 0, "challenge", "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"",
      FALSE },
    { "challenge_response", 0, "challenge", "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\"",
      FALSE },
    { "challenge_response", 0, "challenge", "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\\n\"",
      FALSE },
    { "challenge_response", 0, "challenge", "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\"",
      FALSE },
    { "challenge_response", 0, "challenge", "\"AAAAAAAAAAAAAAAAAAAA\\nAAAAAAAAAAAAAAAAAAAAAAA=\"",
      FALSE },
    { "challenge_response", 0, "challenge", "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-=\"",
      FALSE },
    { "login_request", 0, "challenge", "\"AQI=\"", FALSE },
    { "ensure_default_request", 0, "wrappedDek", "\"AQI=\"", FALSE },
    { "item_response", 0, "nonce", "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"", TRUE },
    { "item_response", 0, "nonce", "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\"", FALSE },
    { "item_response", 0, "aad", "\"AQI\"", FALSE },
    { "put_item_request", 0, "ciphertext", "\"AQI=\\n\"", FALSE },
    { "put_item_request", 0, "ciphertext", "\"AQJ=\"", FALSE },
    { "login_request", 1, "attestation", "\"AQI\"", FALSE },
    /* base64url: 43 characters, no padding, URL alphabet */
    { "approve_request", 0, "inviteServerSecret", "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-\"",
      FALSE },
    { "approve_request", 0, "inviteServerSecret", "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA9\"",
      FALSE },
    { "approve_request", 0, "inviteServerSecret", "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_\"",
      FALSE },
    { "approve_request", 0, "inviteServerSecret", "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA4\"",
      TRUE },
    { "approve_request", 0, "inviteServerSecret",
      "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA4=\"", FALSE },
    { "approve_request", 0, "inviteServerSecret", "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"",
      FALSE },
    { "submit_join_request", 0, "joinRequest.inviteProof",
      "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+4\"", FALSE },
    { "submit_join_request", 0, "joinRequest.inviteProof",
      "\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA-4\"", TRUE },
  };
  run_cases (cases, G_N_ELEMENTS (cases));
}

static void
test_integers (void)
{
  static const Case cases[] = {
    { "mine_response", 0, "namespaces[1]",
      "{\"namespaceId\":\"00112233445566778899aabbccddeeff\",\"kind\":\"shared\",\"namespaceHead\":"
      "-1}",
      FALSE },
    { "put_item_response", 0, "version", "-1", FALSE },
    { "put_item_response", 0, "version", "-0", FALSE },
    { "put_item_response", 0, "version", "0", TRUE },
    { "put_item_response", 0, "version", "18446744073709551615", TRUE },
    { "put_item_response", 0, "version", "18446744073709551616", FALSE },
    { "put_item_response", 0, "version", "9223372036854775808", TRUE },
    { "put_item_response", 0, "version", "9007199254740993", TRUE },
    { "put_item_response", 0, "version", "99999999999999999999999999", FALSE },
    { "put_item_response", 0, "version", "1.0", FALSE },
    { "put_item_response", 0, "version", "1.5", FALSE },
    { "put_item_response", 0, "version", "1e3", FALSE },
    { "put_item_response", 0, "version", "1E+2", FALSE },
    { "put_item_response", 0, "version", "10e-1", FALSE },
    { "item_response", 0, "version", "-9223372036854775808", FALSE },
    { "watch_request", 1, "knownHeads", "{\"00112233445566778899aabbccddeeff\":-1}", FALSE },
    { "watch_request", 1, "knownHeads", "{\"00112233445566778899aabbccddeeff\":1.5}", FALSE },
    { "watch_request", 1, "knownHeads", "{\"00112233445566778899aabbccddeeff\":\"1\"}", FALSE },
    { "items_response", 1, "items",
      "{\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\":{\"version\":-2}}",
      FALSE },
    { "items_response", 1, "items",
      "{\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\":3}", FALSE },
    { "items_response", 1, "namespaceHead", "18446744073709551615", TRUE },
    /* int64 fields: signed, 64 bits */
    { "create_invite_request", 0, "expiresAt", "-1", TRUE },
    { "create_invite_request", 0, "expiresAt", "-9223372036854775808", TRUE },
    { "create_invite_request", 0, "expiresAt", "9223372036854775807", TRUE },
    { "create_invite_request", 0, "expiresAt", "9223372036854775808", FALSE },
    { "create_invite_request", 0, "expiresAt", "-9223372036854775809", FALSE },
    { "create_invite_request", 0, "expiresAt", "1783235498.0", FALSE },
    { "create_invite_request", 0, "maxPending", "2e1", FALSE },
    { "create_invite_request", 0, "maxPending", "\"20\"", FALSE },
    { "create_invite_response", 0, "maxAccepted", "3.25", FALSE },
    { "submit_join_request", 0, "joinRequest.version", "1.0", FALSE },
    { "submit_join_request", 0, "joinRequest.expiresAt", "1e9", FALSE },
    { "list_invites_response", 0, "invites[1]",
      "{\"inviteId\":\"00112233445566778899aabbccddeeff\",\"createdByKeyId\":"
      "\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\",\"createdAt\":"
      "\"2026-07-05T07:01:38Z\",\"expiresAt\":1,\"maxAccepted\":1,\"activeRequestCount\":0.5,"
      "\"acceptedCount\":0,\"revokedAt\":null}",
      FALSE },
  };
  const MsgType *type = msg_type_lookup ("items_response");
  g_autoptr (GError) error = NULL;
  BbMsgItemsResponse items;
  BbMsgPutItemResponse put;
  guint64 *version;

  run_cases (cases, G_N_ELEMENTS (cases));

  /* Values beyond 2^53 and 2^63 are exact. */
  g_assert_true (bb_msg_put_item_response_parse (
      &put,
      "{\"namespaceId\":\"00112233445566778899aabbccddeeff\",\"itemId\":"
      "\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\",\"version\":"
      "18446744073709551614}",
      -1, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (put.version, ==, G_MAXUINT64 - 1);
  bb_msg_put_item_response_clear (&put);

  g_assert_true (bb_msg_items_response_parse (
      &items,
      "{\"namespaceId\":\"00112233445566778899aabbccddeeff\",\"namespaceHead\":9007199254740993,"
      "\"items\":{\"00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\":"
      "{\"version\":9223372036854775809}}}",
      -1, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (items.namespace_head, ==, G_GUINT64_CONSTANT (9007199254740993));
  version = g_hash_table_lookup (
      items.items, "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
  g_assert_nonnull (version);
  g_assert_cmpuint (*version, ==, G_GUINT64_CONSTANT (9223372036854775809));
  {
    g_autofree char *json = type->to_json (&items);
    g_assert_nonnull (strstr (json, "{\"version\":9223372036854775809}"));
  }
  bb_msg_items_response_clear (&items);
}

/* ------------------------------------------------------------------------------------ */
/* Lists, maps, omitempty, variants                                                     */

static void
test_null_lists (void)
{
  static const struct
  {
    const char *type;
    const char *body;
  } empty[] = {
    { "mine_response", "{\"namespaces\":null}" },
    { "mine_response", "{}" },
    { "watch_response", "{\"namespaces\":null,\"timedOut\":true}" },
    { "watch_response", "{\"timedOut\":true}" },
    { "members_response", "{\"namespaceId\":\"00112233445566778899aabbccddeeff\"}" },
    { "members_response",
      "{\"namespaceId\":\"00112233445566778899aabbccddeeff\",\"members\":null}" },
    { "list_invites_response",
      "{\"namespaceId\":\"00112233445566778899aabbccddeeff\",\"invites\":null}" },
    { "list_join_requests_response", "{\"namespaceId\":\"00112233445566778899aabbccddeeff\"}" },
    { "items_response",
      "{\"namespaceId\":\"00112233445566778899aabbccddeeff\",\"namespaceHead\":0,\"items\":null}" },
    { "items_response",
      "{\"namespaceId\":\"00112233445566778899aabbccddeeff\",\"namespaceHead\":0}" },
    { "watch_request", "{\"knownHeads\":null}" },
    { "watch_request", "{}" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (empty); i++)
    {
      const MsgType *type = msg_type_lookup (empty[i].type);
      g_autoptr (GError) error = NULL;
      g_autofree char *json = NULL;
      gpointer msg = msg_parse (type, empty[i].body, -1, &error);

      g_assert_no_error (error);
      /* Servers write [] and {}, never null. */
      json = type->to_json (msg);
      g_assert_null (strstr (json, "null"));
      g_assert_true (strstr (json, "[]") != NULL || strstr (json, "{}") != NULL);
      msg_free (type, msg);
    }

  /* The containers exist after a parse, so callers need no NULL checks. */
  {
    BbMsgMineResponse mine;
    BbMsgWatchRequest watch;
    BbMsgItemsResponse items;
    BbMsgMembersResponse members;

    g_assert_true (bb_msg_mine_response_parse (&mine, "{\"namespaces\":null}", -1, NULL));
    g_assert_nonnull (mine.namespaces);
    g_assert_cmpuint (mine.namespaces->len, ==, 0);
    bb_msg_mine_response_clear (&mine);
    g_assert_null (mine.namespaces);

    g_assert_true (bb_msg_watch_request_parse (&watch, "{}", -1, NULL));
    g_assert_nonnull (watch.known_heads);
    g_assert_cmpuint (g_hash_table_size (watch.known_heads), ==, 0);
    bb_msg_watch_request_clear (&watch);

    g_assert_true (bb_msg_items_response_parse (
        &items, "{\"namespaceId\":\"00112233445566778899aabbccddeeff\",\"namespaceHead\":3}", -1,
        NULL));
    g_assert_nonnull (items.items);
    g_assert_cmpuint (items.namespace_head, ==, 3);
    bb_msg_items_response_clear (&items);

    g_assert_true (bb_msg_members_response_parse (
        &members, "{\"namespaceId\":\"00112233445566778899aabbccddeeff\"}", -1, NULL));
    g_assert_nonnull (members.members);
    bb_msg_members_response_clear (&members);
  }

  /* Wrong container types and non-object elements are errors. */
  assert_rejected (msg_type_lookup ("mine_response"), "{\"namespaces\":{}}", "namespaces");
  assert_rejected (msg_type_lookup ("mine_response"), "{\"namespaces\":\"\"}", "namespaces");
  assert_rejected (msg_type_lookup ("mine_response"), "{\"namespaces\":[1]}", "namespaces[0]");
  assert_rejected (msg_type_lookup ("mine_response"), "{\"namespaces\":[null]}", "namespaces[0]");
  assert_rejected (msg_type_lookup ("watch_request"), "{\"knownHeads\":[]}", "knownHeads");
  assert_rejected (msg_type_lookup ("watch_response"), "{\"namespaces\":[]}", "timedOut");
}

static void
test_mine_fields (void)
{
  g_autoptr (GError) error = NULL;
  BbMsgMineResponse mine;
  const BbMsgNamespaceSummary *s;

  g_assert_true (bb_msg_mine_response_parse (&mine, body_of ("mine_response", 0), -1, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (mine.namespaces->len, ==, 2);
  s = g_ptr_array_index (mine.namespaces, 0);
  g_assert_cmpstr (s->kind, ==, "default");
  g_assert_cmpuint (s->namespace_head, ==, 42);
  g_assert_cmpuint (strlen (s->namespace_id), ==, 32);
  s = g_ptr_array_index (mine.namespaces, 1);
  g_assert_cmpstr (s->kind, ==, "shared");
  g_assert_cmpuint (s->namespace_head, ==, 0);
  bb_msg_mine_response_clear (&mine);

  /* The field path names the element. */
  assert_rejected (msg_type_lookup ("mine_response"),
                   "{\"namespaces\":[{\"namespaceId\":\"00112233445566778899aabbccddeeff\","
                   "\"kind\":\"shared\",\"namespaceHead\":1},{\"namespaceId\":"
                   "\"00112233445566778899aabbccddeeff\",\"kind\":\"shared\"},{}]}",
                   "namespaces[1].namespaceHead");
}

static void
test_omitempty (void)
{
  BbMsgChallengeRequest challenge = { 0 };
  BbMsgLoginRequest login = { 0 };
  BbMsgLoginResponse login_response = { 0 };
  BbMsgCreateNamespaceResponse created;
  g_autofree char *json = NULL;

  /* action and actionFieldsHash: omitted when NULL or empty. */
  challenge.purpose = (char *)"login";
  challenge.kind = (char *)"keystore";
  json = bb_msg_challenge_request_to_json (&challenge);
  g_assert_cmpstr (json, ==, "{\"purpose\":\"login\",\"kind\":\"keystore\"}");
  g_clear_pointer (&json, g_free);
  challenge.action = (char *)"";
  challenge.action_fields_hash = (char *)"";
  json = bb_msg_challenge_request_to_json (&challenge);
  g_assert_cmpstr (json, ==, "{\"purpose\":\"login\",\"kind\":\"keystore\"}");
  g_clear_pointer (&json, g_free);
  challenge.purpose = (char *)"sensitive-action";
  challenge.action = (char *)"revoke-all-tokens";
  challenge.action_fields_hash
      = (char *)"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
  json = bb_msg_challenge_request_to_json (&challenge);
  g_assert_cmpstr (json, ==,
                   "{\"purpose\":\"sensitive-action\",\"kind\":\"keystore\",\"action\":"
                   "\"revoke-all-tokens\",\"actionFieldsHash\":"
                   "\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"}");
  g_clear_pointer (&json, g_free);

  /* An empty omitempty string reads as absent (NULL). */
  g_assert_true (bb_msg_challenge_request_parse (
      &challenge, "{\"purpose\":\"login\",\"kind\":\"keystore\",\"action\":\"\"}", -1, NULL));
  g_assert_null (challenge.action);
  g_assert_null (challenge.action_fields_hash);
  bb_msg_challenge_request_clear (&challenge);

  /* attestation */
  login.kind = (char *)"keystore";
  json = bb_msg_login_request_to_json (&login);
  g_assert_null (strstr (json, "attestation"));
  g_assert_cmpstr (json, ==,
                   "{\"kind\":\"keystore\",\"keyId\":\"\",\"authPublicKey\":\"\","
                   "\"wrapPublicKey\":\"\",\"challenge\":\"\",\"intentSignature\":\"\"}");
  g_clear_pointer (&json, g_free);
  login.attestation = (char *)"AQI=";
  json = bb_msg_login_request_to_json (&login);
  g_assert_true (g_str_has_suffix (json, ",\"attestation\":\"AQI=\"}"));
  g_clear_pointer (&json, g_free);

  /* defaultNamespaceId is always present; a NULL time is Go's zero time. */
  login_response.kind = (char *)"keystore";
  login_response.access_token = (char *)"t";
  json = bb_msg_login_response_to_json (&login_response);
  g_assert_cmpstr (json, ==,
                   "{\"kind\":\"keystore\",\"accessToken\":\"t\",\"expiresAt\":"
                   "\"0001-01-01T00:00:00Z\",\"defaultNamespaceId\":null}");
  g_clear_pointer (&json, g_free);

  /* created: absent reads as FALSE (the upstream fake omits it), but is always written. */
  g_assert_true (bb_msg_create_namespace_response_parse (
      &created, "{\"namespaceId\":\"00112233445566778899aabbccddeeff\",\"kind\":\"shared\"}", -1,
      NULL));
  g_assert_false (created.created);
  json = bb_msg_create_namespace_response_to_json (&created);
  g_assert_cmpstr (json, ==,
                   "{\"namespaceId\":\"00112233445566778899aabbccddeeff\",\"kind\":\"shared\","
                   "\"created\":false}");
  bb_msg_create_namespace_response_clear (&created);
  g_assert_true (bb_msg_create_namespace_response_parse (
      &created,
      "{\"namespaceId\":\"00112233445566778899aabbccddeeff\",\"kind\":\"shared\",\"created\":true}",
      -1, NULL));
  g_assert_true (created.created);
  bb_msg_create_namespace_response_clear (&created);
}

static void
test_invite_variants (void)
{
  BbMsgCreateInviteRequest req = { 0 };
  BbMsgCreateInviteRequest parsed;
  BbMsgCreateInviteResponse resp;
  BbMsgListInvitesResponse list;
  const BbMsgInviteSummary *s;
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;

  req.kind = (char *)"keystore";
  req.key_id = (char *)"k";
  req.invite_id = (char *)"i";
  req.invite_server_secret_hash = (char *)"h";
  req.challenge = (char *)"c";
  req.intent_signature = (char *)"s";
  req.expires_at = 1783235498;
  req.max_pending = 20;
  req.max_accepted = 10;

  req.has_max_pending = TRUE;
  a = bb_msg_create_invite_request_to_json (&req);
  g_assert_cmpstr (a, ==,
                   "{\"kind\":\"keystore\",\"keyId\":\"k\",\"inviteId\":\"i\","
                   "\"inviteServerSecretHash\":\"h\",\"challenge\":\"c\",\"intentSignature\":"
                   "\"s\",\"expiresAt\":1783235498,\"maxPending\":20,\"maxAccepted\":10}");
  req.has_max_pending = FALSE;
  b = bb_msg_create_invite_request_to_json (&req);
  g_assert_cmpstr (b, ==,
                   "{\"kind\":\"keystore\",\"keyId\":\"k\",\"inviteId\":\"i\","
                   "\"inviteServerSecretHash\":\"h\",\"challenge\":\"c\",\"intentSignature\":"
                   "\"s\",\"expiresAt\":1783235498,\"maxAccepted\":10}");

  /* Parsing picks the variant by the presence of maxPending. */
  g_assert_true (
      bb_msg_create_invite_request_parse (&parsed, body_of ("create_invite_request", 0), -1, NULL));
  g_assert_true (parsed.has_max_pending);
  g_assert_cmpint (parsed.max_pending, ==, 20);
  g_assert_cmpint (parsed.max_accepted, ==, 10);
  g_assert_cmpint (parsed.expires_at, ==, 1783235498);
  bb_msg_create_invite_request_clear (&parsed);
  g_assert_true (
      bb_msg_create_invite_request_parse (&parsed, body_of ("create_invite_request", 1), -1, NULL));
  g_assert_false (parsed.has_max_pending);
  g_assert_cmpint (parsed.max_pending, ==, 0);
  bb_msg_create_invite_request_clear (&parsed);

  g_assert_true (
      bb_msg_create_invite_response_parse (&resp, body_of ("create_invite_response", 1), -1, NULL));
  g_assert_false (resp.has_max_pending);
  g_assert_cmpint (resp.max_accepted, ==, 3);
  bb_msg_create_invite_response_clear (&resp);

  g_assert_true (
      bb_msg_list_invites_response_parse (&list, body_of ("list_invites_response", 0), -1, NULL));
  g_assert_cmpuint (list.invites->len, ==, 2);
  s = g_ptr_array_index (list.invites, 0);
  g_assert_true (s->has_max_pending);
  g_assert_null (s->revoked_at);
  g_assert_cmpint (g_date_time_get_microsecond (s->created_at), ==, 123000);
  s = g_ptr_array_index (list.invites, 1);
  g_assert_false (s->has_max_pending);
  g_assert_nonnull (s->revoked_at);
  g_assert_cmpint (s->expires_at, ==, -1);
  g_assert_cmpint (g_date_time_get_utc_offset (s->created_at), ==, -19800 * G_TIME_SPAN_SECOND);
  bb_msg_list_invites_response_clear (&list);
}

static void
test_sorted_maps (void)
{
  BbMsgWatchRequest watch = { 0 };
  BbMsgItemsResponse items = { 0 };
  g_autofree char *json = NULL;
  static const char *ids[] = { "ff", "00", "a0", "0a" };

  watch.known_heads = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  items.items = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  items.namespace_id = g_strdup ("n");
  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      guint64 v = i;
      g_hash_table_insert (watch.known_heads, g_strdup (ids[i]), g_memdup2 (&v, sizeof v));
      g_hash_table_insert (items.items, g_strdup (ids[i]), g_memdup2 (&v, sizeof v));
    }
  json = bb_msg_watch_request_to_json (&watch);
  g_assert_cmpstr (json, ==, "{\"knownHeads\":{\"00\":1,\"0a\":3,\"a0\":2,\"ff\":0}}");
  g_clear_pointer (&json, g_free);
  json = bb_msg_items_response_to_json (&items);
  g_assert_cmpstr (json, ==,
                   "{\"namespaceId\":\"n\",\"namespaceHead\":0,\"items\":{\"00\":{\"version\":1},"
                   "\"0a\":{\"version\":3},\"a0\":{\"version\":2},\"ff\":{\"version\":0}}}");
  bb_msg_watch_request_clear (&watch);
  bb_msg_items_response_clear (&items);
  g_assert_null (items.items);

  /* NULL containers are written empty. */
  g_free (json);
  json = bb_msg_watch_request_to_json (&watch);
  g_assert_cmpstr (json, ==, "{\"knownHeads\":{}}");
}

/* ------------------------------------------------------------------------------------ */
/* JSON syntax and limits                                                               */

static void
test_syntax (void)
{
  const MsgType *health = msg_type_lookup ("health_response");
  static const char *invalid[] = {
    "",
    " ",
    "\n",
    "null",
    "true",
    "1",
    "\"ok\"",
    "[]",
    "[{\"status\":\"ok\"}]",
    "{",
    "{\"status\"",
    "{\"status\":",
    "{\"status\":\"ok\"",
    "{\"status\":\"ok\",",
    "{\"status\":\"ok\",}",
    "{\"status\":\"ok\" \"x\":1}",
    "{'status':'ok'}",
    "{status:\"ok\"}",
    "{\"status\":\"ok\" /* c */}",
    "/**/{\"status\":\"ok\"}",
    "{\"status\":\"o\nk\"}",
    "{\"status\":\"o\tk\"}",
    "{\"status\":\"\\x41\"}",
    "{\"status\":\"\\u00\"}",
    "{\"status\":\"\\u00zz\"}",
    "{\"status\":\"\\ud800\"}",
    "{\"status\":\"\\ud800\\u0041\"}",
    "{\"status\":\"\\udc00\"}",
    "{\"status\":\"\\u0000\"}",
    "{\"status\":\"ok\\u0000x\"}",
    "{\"status\":\"\xff\"}",
    "{\"status\":\"\xc3\"}",
    "{\"status\":\"\xc0\xaf\"}",
    "{\"status\":\"\xed\xa0\x80\"}",
    "{\"status\":\"ok\",\"n\":01}",
    "{\"status\":\"ok\",\"n\":0x10}",
    "{\"status\":\"ok\",\"n\":.5}",
    "{\"status\":\"ok\",\"n\":+1}",
    "{\"status\":\"ok\",\"n\":1.}",
    "{\"status\":\"ok\",\"n\":1e}",
    "{\"status\":\"ok\",\"n\":-}",
    "{\"status\":\"ok\",\"n\":NaN}",
    "{\"status\":\"ok\",\"n\":Infinity}",
    "{\"status\":\"ok\",\"n\":nul}",
    "{\"status\":\"ok\",\"n\":True}",
    "{\"status\":\"ok\",\"n\":[1,]}",
    "{\"status\":\"ok\",\"n\":[1 2]}",
    "\xef\xbb\xbf{\"status\":\"ok\"}",
  };
  static const char *valid[] = {
    "{\"status\":\"ok\"}",
    "{\"status\":\"ok\"}\n",
    " \t\r\n{ \"status\" : \"ok\" } \n",
    /* Only the first value is read, as the Go client's json.Decoder does. */
    "{\"status\":\"ok\"}{\"status\":\"no\"}",
    "{\"status\":\"ok\"} trailing",
    /* Unknown members of any shape are ignored; names match exactly. */
    "{\"Status\":\"no\",\"status\":\"ok\",\"x\":{\"a\":[1,2.5,-3e2,true,null,{}]},\"y\":[]}",
    "{\"status\":\"no\",\"status\":\"ok\"}",
    "{\"status\":\"\\u006fk\"}",
    "{\"status\":\"ok\",\"n\":-0.0e-0}",
    "{\"status\":\"ok\",\"n\":123456789012345678901234567890}",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (invalid); i++)
    {
      /* Escaped: some inputs are invalid UTF-8, which TAP readers refuse. */
      g_autofree char *shown = g_strescape (invalid[i], NULL);

      g_test_message ("invalid: %s", shown);
      assert_rejected (health, invalid[i], NULL);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (valid); i++)
    {
      g_autofree char *json = reserialise (health, valid[i]);
      g_test_message ("valid: %s", valid[i]);
      g_assert_cmpstr (json, ==, "{\"status\":\"ok\"}");
    }

  /* Exact case: "Status" is not "status". */
  assert_rejected (health, "{\"Status\":\"ok\"}", "status");
  assert_rejected (health, "{\"STATUS\":\"ok\"}", "status");

  /* Embedded NUL with an explicit length. */
  assert_rejected (health, "{\"status\":\"o\0k\"}", NULL);
  {
    g_autoptr (GError) error = NULL;
    g_assert_null (msg_parse (health, "{\"status\":\"o\0k\"}", 16, &error));
    g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL);
  }
  /* An explicit length cuts the body. */
  {
    g_autoptr (GError) error = NULL;
    gpointer msg = msg_parse (health, "{\"status\":\"ok\"}garbage", 15, &error);
    g_assert_no_error (error);
    msg_free (health, msg);
    g_assert_null (msg_parse (health, "{\"status\":\"ok\"}", 14, NULL));
    g_assert_null (msg_parse (health, NULL, 0, NULL));
  }
}

static void
test_truncated (void)
{
  JsonArray *messages = data_array ("messages");

  /* Every proper prefix of every known body is rejected. */
  for (guint i = 0; i < json_array_get_length (messages); i++)
    {
      JsonObject *entry = json_array_get_object_element (messages, i);
      const MsgType *type = type_of (entry);
      const char *body = json_object_get_string_member (entry, "body");
      gsize len = strlen (body);

      for (gsize n = 0; n < len; n++)
        {
          g_autoptr (GError) error = NULL;
          gpointer msg = msg_parse (type, body, n, &error);

          if (msg != NULL)
            g_error ("%s accepted a prefix of %" G_GSIZE_FORMAT " bytes", type->name, n);
          g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL);
        }
    }
}

static void
test_limits (void)
{
  const MsgType *health = msg_type_lookup ("health_response");
  const MsgType *items = msg_type_lookup ("items_response");
  GString *s;
  g_autoptr (GError) error = NULL;
  gpointer msg;

  /* Deep nesting fails fast instead of recursing. */
  s = g_string_new ("{\"status\":\"ok\",\"x\":");
  for (guint i = 0; i < 100000; i++)
    g_string_append_c (s, '[');
  assert_rejected (health, s->str, NULL);
  g_string_free (s, TRUE);

  /* Nesting within the limit is fine. */
  s = g_string_new ("{\"status\":\"ok\",\"x\":");
  for (guint i = 0; i < 30; i++)
    g_string_append (s, "{\"a\":[");
  for (guint i = 0; i < 30; i++)
    g_string_append (s, "]}");
  g_string_append_c (s, '}');
  g_free (reserialise (health, s->str));
  g_string_free (s, TRUE);

  /* A huge body is refused by size. */
  s = g_string_new ("{\"status\":\"ok\",\"x\":\"");
  while (s->len < 9 * 1024 * 1024)
    g_string_append (s, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  g_string_append (s, "\"}");
  msg = msg_parse (health, s->str, s->len, &error);
  g_assert_null (msg);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL);
  g_clear_error (&error);
  g_string_free (s, TRUE);

  /* Too many values. */
  s = g_string_new ("{\"status\":\"ok\",\"x\":[0");
  for (guint i = 0; i < 300000; i++)
    g_string_append (s, ",0");
  g_string_append (s, "]}");
  assert_rejected (health, s->str, NULL);
  g_string_free (s, TRUE);

  /* Many repeated names stay cheap and the last one wins. */
  s = g_string_new ("{");
  for (guint i = 0; i < 10000; i++)
    g_string_append_printf (s, "\"k%u\":0,", i);
  for (guint i = 0; i < 100000; i++)
    g_string_append (s, "\"k9999\":0,");
  g_string_append (s, "\"status\":\"no\",\"status\":\"ok\"}");
  g_free (reserialise (health, s->str));
  g_string_free (s, TRUE);

  /* A full-size items snapshot (10000 items) parses. */
  s = g_string_new ("{\"namespaceId\":\"00112233445566778899aabbccddeeff\",\"namespaceHead\":1,"
                    "\"items\":{");
  for (guint i = 0; i < 10000; i++)
    g_string_append_printf (s, "%s\"%064x\":{\"version\":%u}", i ? "," : "", i, i + 1);
  g_string_append (s, "}}");
  msg = msg_parse (items, s->str, s->len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_hash_table_size (((BbMsgItemsResponse *)msg)->items), ==, 10000);
  msg_free (items, msg);
  g_string_free (s, TRUE);
}

/* ------------------------------------------------------------------------------------ */
/* §7 error body, strings, times, join requests                                         */

static void
test_error_body (void)
{
  BbMsgError err = { 0 };
  g_autofree char *json = NULL;

  g_assert_true (bb_msg_error_parse (&err, "{\"error\":\"invalid bearer token\"}\n", -1, NULL));
  g_assert_cmpstr (err.error, ==, "invalid bearer token");
  bb_msg_error_clear (&err);
  g_assert_true (bb_msg_error_parse (&err, "{\"error\":\"\"}", -1, NULL));
  g_assert_cmpstr (err.error, ==, "");
  bb_msg_error_clear (&err);

  /* Go's http.NotFound text is not JSON; the client falls back to the text. */
  g_assert_false (bb_msg_error_parse (&err, "404 page not found\n", -1, NULL));
  g_assert_null (err.error);
  g_assert_false (bb_msg_error_parse (&err, "{\"error\":null}", -1, NULL));
  g_assert_false (bb_msg_error_parse (&err, "{\"error\":{\"message\":\"x\"}}", -1, NULL));
  g_assert_false (bb_msg_error_parse (&err, "{\"message\":\"x\"}", -1, NULL));

  err.error = (char *)"item <already> exists & \"more\"";
  json = bb_msg_error_to_json (&err);
  g_assert_cmpstr (json, ==,
                   "{\"error\":\"item \\u003calready\\u003e exists \\u0026 \\\"more\\\"\"}");
  err.error = NULL;
  g_assert_true (bb_msg_error_parse (&err, json, -1, NULL));
  g_assert_cmpstr (err.error, ==, "item <already> exists & \"more\"");
  bb_msg_error_clear (&err);
}

static void
test_strings (void)
{
  static const struct
  {
    const char *in;
    gssize len;
    const char *out;
  } cases[] = {
    { "plain", -1, "\"plain\"" },
    { "", -1, "\"\"" },
    { "<>&", -1, "\"\\u003c\\u003e\\u0026\"" },
    { "\"\\/", -1, "\"\\\"\\\\/\"" },
    { "\b\f\n\r\t", -1, "\"\\b\\f\\n\\r\\t\"" },
    { "\x01\x1f\x7f", -1, "\"\\u0001\\u001f\x7f\"" },
    { "\xe2\x80\xa8\xe2\x80\xa9", -1, "\"\\u2028\\u2029\"" },
    { "caf\xc3\xa9 \xf0\x9f\x98\x80", -1, "\"caf\xc3\xa9 \xf0\x9f\x98\x80\"" },
    { "a\xff"
      "b",
      -1, "\"a\\ufffdb\"" },
    { "\xc3", -1, "\"\\ufffd\"" },
    { "\xed\xa0\x80", -1, "\"\\ufffd\\ufffd\\ufffd\"" },
    { "a\0b", 3, "\"a\\u0000b\"" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GString) out = g_string_new (NULL);
      bb_json_append_string (out, cases[i].in, cases[i].len);
      g_assert_cmpstr (out->str, ==, cases[i].out);
    }
  {
    g_autoptr (GString) out = g_string_new (NULL);
    bb_json_append_string (out, NULL, -1);
    g_assert_cmpstr (out->str, ==, "\"\"");
  }

  /* Escapes read back to the same text. */
  {
    BbMsgHealthResponse h;
    g_assert_true (bb_msg_health_response_parse (
        &h, "{\"status\":\"\\u003c\\u2028\\ud83d\\ude00\\b\\f\\/\"}", -1, NULL));
    g_assert_cmpstr (h.status, ==, "<\xe2\x80\xa8\xf0\x9f\x98\x80\b\f/");
    bb_msg_health_response_clear (&h);
  }
}

static void
test_times (void)
{
  JsonArray *times = data_array ("times");
  JsonArray *bad = data_array ("bad_times");

  for (guint i = 0; i < json_array_get_length (times); i++)
    {
      JsonObject *t = json_array_get_object_element (times, i);
      const char *text = json_object_get_string_member (t, "text");
      g_autoptr (GError) error = NULL;
      g_autoptr (GDateTime) dt = bb_msg_parse_time (text, "expiresAt", &error);
      g_autofree char *formatted = NULL;
      g_autoptr (GDateTime) again = NULL;

      g_test_message ("time %s", text);
      g_assert_no_error (error);
      g_assert_nonnull (dt);
      g_assert_cmpint (g_date_time_to_unix (dt), ==, json_object_get_int_member (t, "unix"));
      g_assert_cmpint (g_date_time_get_microsecond (dt), ==,
                       json_object_get_int_member (t, "usec"));
      g_assert_cmpint (g_date_time_get_utc_offset (dt) / G_TIME_SPAN_SECOND, ==,
                       json_object_get_int_member (t, "offset"));
      formatted = bb_msg_format_time (dt);
      g_assert_cmpstr (formatted, ==, json_object_get_string_member (t, "format"));
      again = bb_msg_parse_time (formatted, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (g_date_time_equal (dt, again));
    }

  for (guint i = 0; i < json_array_get_length (bad); i++)
    {
      const char *text = json_array_get_string_element (bad, i);
      g_autoptr (GError) error = NULL;
      g_autoptr (GDateTime) dt = bb_msg_parse_time (text, "createdAt", &error);

      g_test_message ("bad time \"%s\"", text);
      g_assert_null (dt);
      g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL);
      g_assert_true (g_str_has_prefix (error->message, "createdAt:"));
    }

  /* Go's zero time for NULL; an offset with seconds cannot be written, so UTC is used. */
  {
    g_autofree char *zero = bb_msg_format_time (NULL);
    g_autoptr (GTimeZone) tz = g_time_zone_new_offset (3600 + 30);
    g_autoptr (GDateTime) odd = g_date_time_new (tz, 2026, 7, 5, 8, 2, 8.0);
    g_autofree char *odd_text = bb_msg_format_time (odd);
    g_autoptr (GDateTime) odd_back = bb_msg_parse_time (odd_text, NULL, NULL);

    g_assert_cmpstr (zero, ==, "0001-01-01T00:00:00Z");
    g_assert_cmpstr (odd_text, ==, "2026-07-05T07:01:38Z");
    g_assert_true (g_date_time_equal (odd, odd_back));
  }

  /* A timestamp of the wrong JSON type or syntax names its field path. */
  assert_rejected (msg_type_lookup ("challenge_response"),
                   "{\"challenge\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\",\"expiresAt\":"
                   "1783234898,\"spamControl\":{\"kind\":\"none\"}}",
                   "expiresAt");
  assert_rejected (msg_type_lookup ("challenge_response"),
                   "{\"challenge\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\",\"expiresAt\":"
                   "\"2026-07-05\",\"spamControl\":{\"kind\":\"none\"}}",
                   "expiresAt");
  assert_rejected (msg_type_lookup ("list_join_requests_response"),
                   "{\"namespaceId\":\"00112233445566778899aabbccddeeff\",\"requests\":[{}]}",
                   "requests[0].inviteId");
}

static void
test_join_request_node (void)
{
  BbMsgSubmitJoinRequest submit;
  BbMsgJoinRequest copy = { 0 };
  BbMsgJoinRequest back;
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *expected = NULL;
  const char *body = body_of ("submit_join_request", 0);
  const char *start;

  g_assert_true (bb_msg_submit_join_request_parse (&submit, body, -1, &error));
  g_assert_no_error (error);
  g_assert_cmpint (submit.join_request.version, ==, 1);
  g_assert_cmpstr (submit.join_request.kind, ==, "keystore");
  g_assert_cmpstr (submit.join_request.server_origin, ==, "https://sync.example");

  /* The node has the members in the spec's order: json-glib writes it like Go does. */
  bb_msg_join_request_copy (&submit.join_request, &copy);
  node = bb_msg_join_request_to_node (&copy);
  json_generator_set_root (gen, node);
  text = json_generator_to_data (gen, NULL);
  start = strstr (body, "\"joinRequest\":") + strlen ("\"joinRequest\":");
  expected = g_strndup (start, strlen (start) - 1);
  g_assert_cmpstr (text, ==, expected);

  g_assert_true (bb_msg_join_request_from_node (&back, node, "joinRequest", &error));
  g_assert_no_error (error);
  g_assert_cmpstr (back.invite_proof, ==, submit.join_request.invite_proof);
  g_assert_cmpint (back.expires_at, ==, submit.join_request.expires_at);
  bb_msg_join_request_clear (&back);

  /* from_node is as strict as the parser, and names the field under the given path. */
  json_object_set_string_member (json_node_get_object (node), "keyId", "AB");
  g_assert_false (bb_msg_join_request_from_node (&back, node, "requests[3].joinRequest", &error));
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL);
  g_assert_true (g_str_has_prefix (error->message, "requests[3].joinRequest.keyId:"));
  g_assert_null (back.key_id);
  g_clear_error (&error);
  {
    g_autoptr (JsonNode) str = json_node_init_string (json_node_alloc (), "x");
    g_assert_false (bb_msg_join_request_from_node (&back, str, "joinRequest", &error));
    g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL);
  }

  bb_msg_join_request_clear (&copy);
  bb_msg_submit_join_request_clear (&submit);
}

/* The field check a server runs before parsing: known names pass, an unknown one at the
 * top or in the nested object is named, and malformed or hostile bodies are refused. */
static void
test_check_known_fields (void)
{
  const char *const top[] = { "inviteServerSecret", "joinRequest", NULL };
  const char *const nested[] = { "version", "namespaceId", NULL };
  g_autoptr (GString) deep = g_string_new (NULL);
  GError *error = NULL;

  g_assert_true (bb_msg_check_known_fields ("{\"inviteServerSecret\":\"x\",\"joinRequest\":"
                                            "{\"version\":1}}",
                                            -1, top, "joinRequest", nested, &error));
  g_assert_no_error (error);
  /* A nested member of another type is left to the message parser. */
  g_assert_true (bb_msg_check_known_fields ("{\"joinRequest\":[1]}", -1, top, "joinRequest",
                                            nested, &error));
  g_assert_no_error (error);

  g_assert_false (bb_msg_check_known_fields ("{\"inviteserverSecret\":\"x\"}", -1, top,
                                             "joinRequest", nested, &error));
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL);
  g_assert_cmpstr (error->message, ==, "body: inviteserverSecret: unknown field");
  g_clear_error (&error);

  g_assert_false (bb_msg_check_known_fields ("{\"joinRequest\":{\"version\":1,\"extra\":true}}",
                                             -1, top, "joinRequest", nested, &error));
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL);
  g_assert_cmpstr (error->message, ==, "body: joinRequest.extra: unknown field");
  g_clear_error (&error);

  g_assert_false (bb_msg_check_known_fields ("[]", -1, top, NULL, NULL, &error));
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL);
  g_clear_error (&error);
  g_assert_false (bb_msg_check_known_fields ("{\"joinRequest\":", -1, top, NULL, NULL, &error));
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL);
  g_clear_error (&error);

  while (deep->len < 200 * 1024)
    g_string_append (deep, "{\"joinRequest\":");
  g_assert_false (bb_msg_check_known_fields (deep->str, deep->len, top, NULL, NULL, &error));
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL);
  g_clear_error (&error);
}

/* The messages that carry a secret are measured, then written into a buffer of that
 * size, which must never grow: growing frees an unwiped copy of the secret. The writer
 * reports growth as a critical, which is fatal in tests. Worst cases: fields of every
 * length up to 600 bytes made of what Go escapes to six bytes (<, controls, invalid
 * UTF-8, U+2028), extreme integers, and NULL fields. */
static void
test_secret_writers_presized (void)
{
  static const char worst_bytes[] = "<\x01\xff\xe2\x80\xa8&\x1f\xfe>";
  g_autoptr (GDateTime) when = g_date_time_new_utc (2026, 12, 31, 23, 59, 59.123456);

  for (gsize n = 0; n <= 600; n += 23)
    {
      g_autofree char *worst = g_malloc (n + 1);
      BbMsgLoginResponse login = { worst, worst, when, worst };
      BbMsgRefreshResponse refresh = { worst, worst, when };
      BbMsgSubmitJoinRequest submit = { worst,
                                        { G_MININT64, worst, worst, worst, worst, worst, worst,
                                          worst, G_MININT64, worst, worst } };
      BbMsgApproveRequest approve = { worst, worst };
      BbMsgLoginResponse login_nulls = { NULL, NULL, NULL, NULL };
      BbMsgSubmitJoinRequest submit_nulls = { NULL, { 0 } };
      BbMsgApproveRequest approve_nulls = { NULL, NULL };
      char *json[7];

      for (gsize i = 0; i < n; i++)
        worst[i] = worst_bytes[i % (sizeof worst_bytes - 1)];
      worst[n] = '\0';
      json[0] = bb_msg_login_response_to_json (&login);
      json[1] = bb_msg_refresh_response_to_json (&refresh);
      json[2] = bb_msg_submit_join_request_to_json (&submit);
      json[3] = bb_msg_approve_request_to_json (&approve);
      json[4] = bb_msg_login_response_to_json (&login_nulls);
      json[5] = bb_msg_submit_join_request_to_json (&submit_nulls);
      json[6] = bb_msg_approve_request_to_json (&approve_nulls);
      for (guint i = 0; i < G_N_ELEMENTS (json); i++)
        {
          g_assert_true (json[i][0] == '{' && g_str_has_suffix (json[i], "}"));
          g_free (json[i]);
        }
    }
}

/* The strict reader decodes every string of a body into one scratch buffer. Had it to
 * grow, the old block, which may still hold an earlier string such as an invite server
 * secret, would be freed unwiped; so it is sized to the body (no decoded string is longer
 * than the body) and wiped once at the end. Here the secret comes first and a long
 * string last, longer than any buffer that just fits it: the wipe of the block holding
 * that string must cover the whole body, else the buffer grew on the way. */
typedef struct
{
  const char *last_string;
  gsize scratch_wipe_len; /* the longest wipe holding last_string */
} ScratchWipes;

static void
record_scratch_wipe (const void *buf, gsize len, gpointer user_data)
{
  ScratchWipes *wipes = user_data;
  gsize n = strlen (wipes->last_string);

  if (len > n && len > wipes->scratch_wipe_len && memcmp (buf, wipes->last_string, n) == 0)
    wipes->scratch_wipe_len = len;
}

static void
test_reader_scratch_presized (void)
{
  guint8 secret_bytes[32], dek_bytes[BB_PROTOCOL_WRAPPED_DEK_SIZE];
  g_autoptr (GBytes) secret = NULL;
  g_autoptr (GBytes) dek = NULL;
  g_autofree char *secret_text = NULL;
  g_autofree char *dek_text = NULL;
  g_autofree char *note = g_strnfill (4000, 'n');
  g_autofree char *body = NULL;
  BbMsgApproveRequest msg;
  ScratchWipes wipes = { note, 0 };
  GError *error = NULL;
  gboolean ok;

  memset (secret_bytes, 0x5a, sizeof secret_bytes);
  memset (dek_bytes, 0x17, sizeof dek_bytes);
  secret = g_bytes_new (secret_bytes, sizeof secret_bytes);
  dek = g_bytes_new (dek_bytes, sizeof dek_bytes);
  secret_text = bb_protocol_base64url_encode (secret);
  dek_text = bb_protocol_base64_encode (dek);
  body = g_strdup_printf ("{\"inviteServerSecret\":\"%s\",\"wrappedDek\":\"%s\",\"note\":\"%s\"}",
                          secret_text, dek_text, note);
  /* A scratch that grew to fit the note would be smaller than the body. */
  g_assert_cmpuint (strlen (body), >, 4096);

  bb_crypto_set_wipe_observer (record_scratch_wipe, &wipes);
  ok = bb_msg_approve_request_parse (&msg, body, -1, &error);
  bb_crypto_set_wipe_observer (NULL, NULL);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_cmpstr (msg.invite_server_secret, ==, secret_text);
  bb_msg_approve_request_clear (&msg);

  g_assert_cmpuint (wipes.scratch_wipe_len, >, strlen (body));
}

/* A body that breaks off after a string has been decoded: the copies held by the members
 * and elements read so far are wiped before they are freed, not only those of a whole
 * tree (issue 12). */
static void
test_reader_error_wipes (void)
{
  static const struct
  {
    const char *body;
    const char *secret;
  } cases[] = {
    /* An object member, then a missing ','. */
    { "{\"inviteServerSecret\":\"object-member-secret-4f1c\" \"note\":\"x\"}",
      "object-member-secret-4f1c" },
    /* An array element, then a missing ','. */
    { "{\"note\":[\"array-element-secret-9b2e\" \"x\"]}", "array-element-secret-9b2e" },
    /* An object member, then a nested value that fails. */
    { "{\"inviteServerSecret\":\"outer-member-secret-77d0\",\"note\":[tru]}",
      "outer-member-secret-77d0" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      BbJsonDoc doc;
      GError *error = NULL;
      JsonObject *root;

      bb_test_wipes_begin ();
      root = bb_json_doc_load (&doc, cases[i].body, -1, &error);
      bb_test_wipes_end ();
      g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_PROTOCOL);
      g_assert_null (root);
      g_clear_error (&error);
      /* Exactly the decoded string: the reader's scratch buffer is wiped whole, larger. */
      g_assert_true (bb_test_wiped_exactly (cases[i].secret, strlen (cases[i].secret)));
    }
}

/* A repeated member name replaces the earlier value, as in Go: the replaced value's
 * decoded strings are wiped before it is freed (issue 12). */
static void
test_reader_repeated_name_wipes (void)
{
  const char *body = "{\"accessToken\":\"replaced-token-secret-31a8\",\"accessToken\":\"x\"}";
  const char *secret = "replaced-token-secret-31a8";
  BbJsonDoc doc;
  GError *error = NULL;
  JsonObject *root;

  bb_test_wipes_begin ();
  root = bb_json_doc_load (&doc, body, -1, &error);
  bb_test_wipes_end ();
  g_assert_no_error (error);
  g_assert_nonnull (root);
  g_assert_cmpstr (json_object_get_string_member (root, "accessToken"), ==, "x");
  g_assert_true (bb_test_wiped_exactly (secret, strlen (secret)));
  bb_json_doc_clear (&doc);
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  messages_data = bb_test_load_json ("messages.json");

  g_test_add_func ("/messages/roundtrip", test_roundtrip);
  g_test_add_func ("/messages/required", test_required);
  g_test_add_func ("/messages/wrong-type", test_wrong_type);
  g_test_add_func ("/messages/hex", test_hex);
  g_test_add_func ("/messages/base64", test_base64);
  g_test_add_func ("/messages/integers", test_integers);
  g_test_add_func ("/messages/null-lists", test_null_lists);
  g_test_add_func ("/messages/mine-fields", test_mine_fields);
  g_test_add_func ("/messages/omitempty", test_omitempty);
  g_test_add_func ("/messages/invite-variants", test_invite_variants);
  g_test_add_func ("/messages/sorted-maps", test_sorted_maps);
  g_test_add_func ("/messages/syntax", test_syntax);
  g_test_add_func ("/messages/truncated", test_truncated);
  g_test_add_func ("/messages/limits", test_limits);
  g_test_add_func ("/messages/error-body", test_error_body);
  g_test_add_func ("/messages/strings", test_strings);
  g_test_add_func ("/messages/times", test_times);
  g_test_add_func ("/messages/join-request-node", test_join_request_node);
  g_test_add_func ("/messages/check-known-fields", test_check_known_fields);
  g_test_add_func ("/messages/secret-writers-presized", test_secret_writers_presized);
  g_test_add_func ("/messages/reader-scratch-presized", test_reader_scratch_presized);
  g_test_add_func ("/messages/reader-error-wipes", test_reader_error_wipes);
  g_test_add_func ("/messages/reader-repeated-name-wipes", test_reader_repeated_name_wipes);

  ret = g_test_run ();
  json_node_unref (messages_data);
  return ret;
}
