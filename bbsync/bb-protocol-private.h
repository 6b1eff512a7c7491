/* bb-protocol-private.h: library-internal helpers of the protocol layer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

#include "bb-protocol.h"

G_BEGIN_DECLS

/* Decodes lower-case hex of exactly @len bytes into @out (no allocation, so IDs can be
 * decoded into stack buffers). Same rules and messages as bb_protocol_lower_hex_decode(). */
gboolean bb_protocol_decode_lower_hex_into (const char *text, const char *field, guint8 *out,
                                            gsize len, GError **error);

/* Checks an Ed25519 auth public key wherever one is accepted or registered: 32 bytes and
 * not a point of small order (for which a signature with S = 0 verifies for any message).
 * Fails with BB_SYNC_ERROR_INVALID_INPUT, the message naming @field. */
gboolean bb_protocol_check_auth_public_key (GBytes *auth_public_key, const char *field,
                                            GError **error);

/* bb_protocol_wrap_dek() with a caller-chosen ephemeral X25519 private key (32 bytes), for
 * the fixed-ephemeral known-answer vector of the protocol spec. Never use it in production:
 * reusing an ephemeral key across recipients breaks HPKE's guarantees. */
GBytes *bb_protocol_wrap_dek_with_ephemeral (GBytes *wrap_public_key, const char *namespace_id,
                                             GBytes *dek, GBytes *ephemeral_private_key,
                                             GError **error);

/* Go net/url-compatible form decoding of one `&`-separated query or fragment string, as
 * used by the invite URI parser: calls @func for every key/value pair (percent-decoded,
 * '+' as space); fails on ';' or a bad escape. Keys and values may contain NUL bytes,
 * hence the explicit lengths. */
typedef void (*BbProtocolFormFunc) (const char *key, gsize key_len, const char *value,
                                    gsize value_len, gpointer user_data);
gboolean bb_protocol_parse_form (const char *raw, BbProtocolFormFunc func, gpointer user_data,
                                 char **out_reason);

/* Go net/url-compatible split of a URL into its parts (only what bbsync needs).
 * Returns FALSE with a reason (allocated) where url.Parse would fail. */
typedef struct
{
  char *scheme;           /* lower-cased, "" if none */
  gboolean opaque;        /* scheme:rest without "//" */
  gboolean has_user;      /* an '@' userinfo was present (even empty) */
  char *host;             /* percent-decoded host[:port] */
  gsize path_len;         /* length of the decoded path (only emptiness matters) */
  char *raw_query;        /* between '?' and '#', "" if none */
  gsize fragment_len;     /* length of the decoded fragment */
  char *escaped_fragment; /* as Go's URL.EscapedFragment() */
} BbProtocolUrl;

gboolean bb_protocol_url_parse (const char *text, BbProtocolUrl *url, char **out_reason);
void bb_protocol_url_clear (BbProtocolUrl *url);

/* Go's validOptionalPort: @len bytes at @p are empty or ':' followed by digits only. It
 * tells where URL.Hostname() and URL.Port() split a host. */
gboolean bb_protocol_url_valid_optional_port (const char *p, gsize len);

/* The item ID of (@collection, @key) under a map key from bb_protocol_derive_map_key(). */
gchar *bb_protocol_item_id_with_map_key (GBytes *map_key, const char *collection,
                                         const char *key);

/* Item encryption under an already derived blob key (bb_protocol_derive_blob_key()), so the
 * engine derives it once per namespace; otherwise as the public functions. @nonce is NULL
 * in production (a fresh random nonce is drawn, as bb_protocol_encrypt_item() always
 * does); only known-answer tests pass a fixed 24-byte one, since reusing a nonce under a
 * key breaks XChaCha20-Poly1305. */
GBytes *bb_protocol_encrypt_item_with_key (GBytes *blob_key, const char *namespace_id,
                                           const char *item_id, guint64 version, GBytes *plaintext,
                                           GBytes *nonce, GBytes **out_nonce, GBytes **out_aad,
                                           GError **error);
GBytes *bb_protocol_decrypt_item_with_key (GBytes *blob_key, const char *namespace_id,
                                           const char *item_id, guint64 version, GBytes *nonce,
                                           GBytes *aad, GBytes *ciphertext, GError **error);

/* --- Shared by the protocol's own files (bb-protocol.c and the wire constructions) --- */

/* The length of a string literal without its terminator, as a constant expression: the
 * domain-separation strings are written without it. */
#define BB_STRLEN(s) (sizeof (s) - 1)

/* Writes @v big-endian into the 8 bytes at @p. */
void bb_protocol_put_be64 (guint8 *p, guint64 v);

/* Lower-case hex of @len bytes at @data (bb_protocol_hex_encode() without the GBytes). */
char *bb_protocol_hex_encode_raw (const guint8 *data, gsize len);

/* Checks that @bytes is exactly @len bytes long; @field names it in the message. */
gboolean bb_protocol_check_size (GBytes *bytes, gsize len, const char *field, GError **error);

/* The data of @bytes, never NULL (an empty GBytes may carry a NULL pointer). */
const guint8 *bb_protocol_bytes_data (GBytes *bytes);

/* The wire code of an identity kind (`keystore` is 0x01); any other kind is
 * BB_SYNC_ERROR_UNSUPPORTED. */
gboolean bb_protocol_kind_code (const char *kind, guint8 *out, GError **error);

G_END_DECLS
