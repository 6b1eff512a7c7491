/* bb-protocol.h: the BitBoxSync v1 wire constructions
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined(BBSYNC_INSIDE) && !defined(BBSYNC_COMPILATION)
#error "Only <bbsync/bbsync.h> can be included directly."
#endif

#include <glib.h>

#include "bb-version-macros.h"

G_BEGIN_DECLS

/* Sizes (bytes) of protocol values; see the protocol guide. */
#define BB_PROTOCOL_KEY_ID_SIZE          32
#define BB_PROTOCOL_PUBLIC_KEY_SIZE      32
#define BB_PROTOCOL_SIGNATURE_SIZE       64
#define BB_PROTOCOL_NAMESPACE_ID_SIZE    16
#define BB_PROTOCOL_INVITE_ID_SIZE       16
#define BB_PROTOCOL_INVITE_SECRET_SIZE   32
#define BB_PROTOCOL_ITEM_ID_SIZE         32
#define BB_PROTOCOL_DEK_SIZE             32
#define BB_PROTOCOL_CHALLENGE_SIZE       32
#define BB_PROTOCOL_NONCE_SIZE           24
#define BB_PROTOCOL_TAG_SIZE             16
#define BB_PROTOCOL_AAD_SIZE             76
#define BB_PROTOCOL_WRAPPED_DEK_SIZE     97
#define BB_PROTOCOL_MAX_CIPHERTEXT_SIZE  65536
#define BB_PROTOCOL_MAX_PLAINTEXT_SIZE   (BB_PROTOCOL_MAX_CIPHERTEXT_SIZE - BB_PROTOCOL_TAG_SIZE)
#define BB_PROTOCOL_MAX_ORIGIN_LENGTH    128
#define BB_PROTOCOL_MAX_INVITE_TTL       3600
#define BB_PROTOCOL_DEFAULT_INVITE_TTL   600
#define BB_PROTOCOL_MAX_JOIN_REQUEST_TTL 600
#define BB_PROTOCOL_MAX_PENDING          20
#define BB_PROTOCOL_MAX_ACCEPTED         10

/* Strings of the protocol. */
#define BB_PROTOCOL_KIND_KEYSTORE          "keystore"
#define BB_PROTOCOL_NAMESPACE_KIND_DEFAULT "default"
#define BB_PROTOCOL_NAMESPACE_KIND_SHARED  "shared"
#define BB_PROTOCOL_PURPOSE_LOGIN          "login"
#define BB_PROTOCOL_PURPOSE_REFRESH        "refresh"
#define BB_PROTOCOL_PURPOSE_SENSITIVE      "sensitive-action"
#define BB_PROTOCOL_ACTION_REVOKE_ALL      "revoke-all-tokens"
#define BB_PROTOCOL_ACTION_CREATE_INVITE   "create-namespace-invite"
#define BB_PROTOCOL_SPAM_CONTROL_NONE      "none"
#define BB_PROTOCOL_SPAM_CONTROL_ATTEST    "attestation"
#define BB_PROTOCOL_JOIN_STATUS_PENDING    "pending"

/* Text encodings: emitting is always lower-case hex, padded base64, unpadded base64url.
 * Decoders are strict (see the protocol guide); @field names the value in error
 * messages; @expected_len is the exact decoded size or -1 for any size. */
BB_AVAILABLE_IN_ALL
gchar *bb_protocol_hex_encode (GBytes *data);
BB_AVAILABLE_IN_ALL
GBytes *bb_protocol_lower_hex_decode (const char *text,
                                      gssize      expected_len,
                                      const char *field,
                                      GError    **error);
BB_AVAILABLE_IN_ALL
GBytes *bb_protocol_hex_decode (const char *text,
                                gssize      expected_len,
                                const char *field,
                                GError    **error);
BB_AVAILABLE_IN_ALL
gchar *bb_protocol_base64_encode (GBytes *data);
BB_AVAILABLE_IN_ALL
GBytes *bb_protocol_base64_decode (const char *text,
                                   gssize      expected_len,
                                   const char *field,
                                   GError    **error);
BB_AVAILABLE_IN_ALL
gchar *bb_protocol_base64url_encode (GBytes *data);
BB_AVAILABLE_IN_ALL
GBytes *bb_protocol_base64url_decode (const char *text,
                                      gssize      expected_len,
                                      const char *field,
                                      GError    **error);
BB_AVAILABLE_IN_ALL
gboolean bb_protocol_validate_lower_hex (const char *text,
                                         gsize       expected_len,
                                         const char *field,
                                         GError    **error);

/* Identity */
BB_AVAILABLE_IN_ALL
gchar *bb_protocol_key_id (GBytes *auth_public_key);

/* Items */
BB_AVAILABLE_IN_ALL
GBytes *bb_protocol_derive_blob_key (GBytes  *dek,
                                     GError **error);
BB_AVAILABLE_IN_ALL
GBytes *bb_protocol_derive_map_key (GBytes  *dek,
                                    GError **error);
BB_AVAILABLE_IN_ALL
GBytes *bb_protocol_logical_key (const char *collection,
                                 const char *key);
BB_AVAILABLE_IN_ALL
gchar *bb_protocol_item_id (GBytes     *dek,
                            const char *collection,
                            const char *key,
                            GError    **error);
BB_AVAILABLE_IN_ALL
gchar *bb_protocol_item_id_for_logical_key (GBytes  *dek,
                                            GBytes  *logical_key,
                                            GError **error);
BB_AVAILABLE_IN_ALL
GBytes *bb_protocol_item_aad (const char *namespace_id,
                              const char *item_id,
                              guint64     version,
                              GError    **error);
BB_AVAILABLE_IN_ALL
GBytes *bb_protocol_encrypt_item (GBytes     *dek,
                                  const char *namespace_id,
                                  const char *item_id,
                                  guint64     version,
                                  GBytes     *plaintext,
                                  GBytes     *nonce,
                                  GBytes    **out_nonce,
                                  GBytes    **out_aad,
                                  GError    **error);
BB_AVAILABLE_IN_ALL
GBytes *bb_protocol_decrypt_item (GBytes     *dek,
                                  const char *namespace_id,
                                  const char *item_id,
                                  guint64     version,
                                  GBytes     *nonce,
                                  GBytes     *aad,
                                  GBytes     *ciphertext,
                                  GError    **error);

/* Wrapped DEKs */
BB_AVAILABLE_IN_ALL
GBytes *bb_protocol_wrap_dek (GBytes     *wrap_public_key,
                              const char *namespace_id,
                              GBytes     *dek,
                              GError    **error);
BB_AVAILABLE_IN_ALL
GBytes *bb_protocol_unwrap_dek (GBytes     *wrap_private_key,
                                const char *namespace_id,
                                GBytes     *wrapped_dek,
                                GError    **error);
BB_AVAILABLE_IN_ALL
gboolean bb_protocol_validate_wrapped_dek (GBytes  *wrapped_dek,
                                           GError **error);

/* Intents (what an identity signs) */
BB_AVAILABLE_IN_ALL
GBytes *bb_protocol_login_intent (GBytes     *challenge,
                                  const char *kind,
                                  const char *key_id,
                                  GBytes     *auth_public_key,
                                  GBytes     *wrap_public_key,
                                  GError    **error);
BB_AVAILABLE_IN_ALL
GBytes *bb_protocol_refresh_intent (GBytes     *challenge,
                                    const char *kind,
                                    const char *key_id,
                                    GError    **error);
BB_AVAILABLE_IN_ALL
GBytes *bb_protocol_sensitive_action_intent (const char *action,
                                             GBytes     *challenge,
                                             const char *kind,
                                             const char *key_id,
                                             GBytes     *action_fields,
                                             GError    **error);
BB_AVAILABLE_IN_ALL
GBytes *bb_protocol_create_invite_fields (const char *namespace_id,
                                          const char *invite_id,
                                          GBytes     *invite_server_secret_hash,
                                          gint64      expires_at,
                                          guint       max_pending,
                                          guint       max_accepted,
                                          GError    **error);
BB_AVAILABLE_IN_ALL
gchar *bb_protocol_action_fields_hash (GBytes *action_fields);
BB_AVAILABLE_IN_ALL
gboolean bb_protocol_verify_signature (GBytes  *auth_public_key,
                                       GBytes  *message,
                                       GBytes  *signature,
                                       GError **error);

/* Invite secrets and join requests */
BB_AVAILABLE_IN_ALL
GBytes *bb_protocol_invite_server_secret (GBytes  *invite_secret,
                                          GError **error);
BB_AVAILABLE_IN_ALL
GBytes *bb_protocol_invite_server_secret_hash (GBytes  *invite_server_secret,
                                               GError **error);
BB_AVAILABLE_IN_ALL
GBytes *bb_protocol_invite_proof_key (GBytes  *invite_secret,
                                      GError **error);
BB_AVAILABLE_IN_ALL
GBytes *bb_protocol_invite_proof (GBytes  *invite_secret,
                                  GBytes  *join_request_payload,
                                  GError **error);
BB_AVAILABLE_IN_ALL
gboolean bb_protocol_verify_invite_proof (GBytes  *invite_secret,
                                          GBytes  *join_request_payload,
                                          GBytes  *invite_proof,
                                          GError **error);
BB_AVAILABLE_IN_ALL
GBytes *bb_protocol_join_request_payload (const char *namespace_id,
                                          const char *invite_id,
                                          const char *server_origin,
                                          const char *kind,
                                          const char *key_id,
                                          GBytes     *auth_public_key,
                                          GBytes     *wrap_public_key,
                                          gint64      expires_at,
                                          GError    **error);
BB_AVAILABLE_IN_ALL
gchar *bb_protocol_join_request_hash (GBytes *join_request_payload);

/* Server origins */
BB_AVAILABLE_IN_ALL
gchar *bb_protocol_canonical_origin (const char *origin,
                                     GError    **error);
BB_AVAILABLE_IN_ALL
GBytes *bb_protocol_server_origin_hash (const char *origin,
                                        GError    **error);

/* Fresh random values (from the system CSPRNG) */
BB_AVAILABLE_IN_ALL
gchar *bb_protocol_new_namespace_id (void);
BB_AVAILABLE_IN_ALL
gchar *bb_protocol_new_invite_id (void);
BB_AVAILABLE_IN_ALL
GBytes *bb_protocol_new_dek (void);
BB_AVAILABLE_IN_ALL
GBytes *bb_protocol_new_invite_secret (void);

/* ETag / If-Match */
BB_AVAILABLE_IN_ALL
gchar *bb_protocol_etag (guint64 version);
BB_AVAILABLE_IN_ALL
gboolean bb_protocol_parse_if_match (const char *value,
                                     gboolean   *out_has_version,
                                     guint64    *out_version,
                                     GError    **error);

G_END_DECLS
