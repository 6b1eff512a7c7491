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

/* Sizes (bytes) and limits of protocol values; see the protocol guide. */

/**
 * BB_PROTOCOL_KEY_ID_SIZE:
 *
 * The size of a key ID in bytes: the SHA-256 of an identity's Ed25519 auth public key
 * ([func@BbSync.protocol_key_id]). On the wire it is lower-case hex, twice as long.
 *
 * Since: 0.1
 */
#define BB_PROTOCOL_KEY_ID_SIZE 32

/**
 * BB_PROTOCOL_PUBLIC_KEY_SIZE:
 *
 * The size in bytes of an identity's public keys: the Ed25519 auth key that signs and the
 * X25519 wrap key that namespace keys are wrapped to.
 *
 * Since: 0.1
 */
#define BB_PROTOCOL_PUBLIC_KEY_SIZE 32

/**
 * BB_PROTOCOL_SIGNATURE_SIZE:
 *
 * The size of an Ed25519 signature in bytes: intent signatures and join-request
 * signatures.
 *
 * Since: 0.1
 */
#define BB_PROTOCOL_SIGNATURE_SIZE 64

/**
 * BB_PROTOCOL_NAMESPACE_ID_SIZE:
 *
 * The size of a namespace ID in bytes. The client chooses it at random
 * ([func@BbSync.protocol_new_namespace_id]); on the wire it is lower-case hex.
 *
 * Since: 0.1
 */
#define BB_PROTOCOL_NAMESPACE_ID_SIZE 16

/**
 * BB_PROTOCOL_INVITE_ID_SIZE:
 *
 * The size of an invite ID in bytes. The inviter chooses it at random
 * ([func@BbSync.protocol_new_invite_id]); on the wire it is lower-case hex.
 *
 * Since: 0.1
 */
#define BB_PROTOCOL_INVITE_ID_SIZE 16

/**
 * BB_PROTOCOL_INVITE_SECRET_SIZE:
 *
 * The size of an invite secret in bytes ([func@BbSync.protocol_new_invite_secret]). The
 * secret travels only in the fragment of the invite URI, never to the server, which
 * sees values derived from it ([func@BbSync.protocol_invite_server_secret]).
 *
 * Since: 0.1
 */
#define BB_PROTOCOL_INVITE_SECRET_SIZE 32

/**
 * BB_PROTOCOL_ITEM_ID_SIZE:
 *
 * The size of an item ID in bytes: an HMAC of the item's collection and key under the
 * namespace's map key ([func@BbSync.protocol_item_id]), so the server cannot read keys.
 *
 * Since: 0.1
 */
#define BB_PROTOCOL_ITEM_ID_SIZE 32

/**
 * BB_PROTOCOL_DEK_SIZE:
 *
 * The size in bytes of a namespace data encryption key (DEK), from which the item
 * encryption key and the item-ID key are derived.
 *
 * Since: 0.1
 */
#define BB_PROTOCOL_DEK_SIZE 32

/**
 * BB_PROTOCOL_CHALLENGE_SIZE:
 *
 * The size in bytes of a server challenge, decoded ([method@BbSync.Challenge.get_bytes]).
 *
 * Since: 0.1
 */
#define BB_PROTOCOL_CHALLENGE_SIZE 32

/**
 * BB_PROTOCOL_NONCE_SIZE:
 *
 * The size in bytes of the XChaCha20-Poly1305 nonce of an item, fresh for every
 * encryption.
 *
 * Since: 0.1
 */
#define BB_PROTOCOL_NONCE_SIZE 24

/**
 * BB_PROTOCOL_TAG_SIZE:
 *
 * The size in bytes of the authentication tag at the end of every item ciphertext.
 *
 * Since: 0.1
 */
#define BB_PROTOCOL_TAG_SIZE 16

/**
 * BB_PROTOCOL_AAD_SIZE:
 *
 * The size in bytes of an item's associated data ([func@BbSync.protocol_item_aad]): a
 * 19-byte prefix, a format byte, the namespace ID, the item ID and the version as a
 * 64-bit big-endian number.
 *
 * Since: 0.1
 */
#define BB_PROTOCOL_AAD_SIZE 76

/**
 * BB_PROTOCOL_WRAPPED_DEK_SIZE:
 *
 * The size in bytes of a wrapped namespace key ([func@BbSync.protocol_wrap_dek]): a
 * version byte, the 32-byte HPKE encapsulated key, and the sealed namespace ID and DEK
 * (48 bytes) with their 16-byte tag. The namespace ID inside binds the key to its
 * namespace.
 *
 * Since: 0.1
 */
#define BB_PROTOCOL_WRAPPED_DEK_SIZE 97

/**
 * BB_PROTOCOL_MAX_CIPHERTEXT_SIZE:
 *
 * The largest item ciphertext, tag included, in bytes (64 KiB).
 *
 * Since: 0.1
 */
#define BB_PROTOCOL_MAX_CIPHERTEXT_SIZE 65536

/**
 * BB_PROTOCOL_MAX_PLAINTEXT_SIZE:
 *
 * The largest item plaintext in bytes: %BB_PROTOCOL_MAX_CIPHERTEXT_SIZE less the tag.
 * [func@BbSync.protocol_encrypt_item] rejects a longer one.
 *
 * Since: 0.1
 */
#define BB_PROTOCOL_MAX_PLAINTEXT_SIZE (BB_PROTOCOL_MAX_CIPHERTEXT_SIZE - BB_PROTOCOL_TAG_SIZE)

/**
 * BB_PROTOCOL_MAX_ORIGIN_LENGTH:
 *
 * The longest server origin in bytes, measured on its canonical form
 * ([func@BbSync.protocol_canonical_origin]).
 *
 * Since: 0.1
 */
#define BB_PROTOCOL_MAX_ORIGIN_LENGTH 128

/**
 * BB_PROTOCOL_MAX_INVITE_TTL:
 *
 * The longest lifetime of an invite, in seconds (one hour). Servers refuse an invite
 * that expires later.
 *
 * Since: 0.1
 */
#define BB_PROTOCOL_MAX_INVITE_TTL 3600

/**
 * BB_PROTOCOL_DEFAULT_INVITE_TTL:
 *
 * The protocol's default lifetime of an invite, in seconds (ten minutes). The engine's
 * default, %BB_SYNC_ENGINE_DEFAULT_INVITE_TTL, is the same.
 *
 * Since: 0.1
 */
#define BB_PROTOCOL_DEFAULT_INVITE_TTL 600

/**
 * BB_PROTOCOL_MAX_JOIN_REQUEST_TTL:
 *
 * The longest lifetime of a join request, in seconds, and the one the engine gives its
 * requests (never past the invite's own expiry).
 *
 * Since: 0.1
 */
#define BB_PROTOCOL_MAX_JOIN_REQUEST_TTL 600

/**
 * BB_PROTOCOL_MAX_PENDING:
 *
 * The most join requests an invite may have pending at once: the largest `maxPending` an
 * invite may carry, and the server's own limit for an invite that carries none (the
 * variant a BitBox02 signs).
 *
 * Since: 0.1
 */
#define BB_PROTOCOL_MAX_PENDING 20

/**
 * BB_PROTOCOL_MAX_ACCEPTED:
 *
 * The most join requests an invite may have accepted: the default and the largest value
 * of an invite's `maxAccepted`.
 *
 * Since: 0.1
 */
#define BB_PROTOCOL_MAX_ACCEPTED 10

/* Strings of the protocol, sent and compared byte for byte. */

/**
 * BB_PROTOCOL_KIND_KEYSTORE:
 *
 * The identity kind of every identity of protocol v1 ([method@BbSync.Identity.get_kind]):
 * keys held by a keystore, a hardware wallet or software that behaves as one.
 *
 * Since: 0.1
 */
#define BB_PROTOCOL_KIND_KEYSTORE "keystore"

/**
 * BB_PROTOCOL_NAMESPACE_KIND_DEFAULT:
 *
 * The kind of an identity's own namespace: one per key, created on first use with an ID
 * the client proposes, and never shared through invites.
 *
 * Since: 0.1
 */
#define BB_PROTOCOL_NAMESPACE_KIND_DEFAULT "default"

/**
 * BB_PROTOCOL_NAMESPACE_KIND_SHARED:
 *
 * The kind of a namespace created to be shared: other identities join it through
 * invites.
 *
 * Since: 0.1
 */
#define BB_PROTOCOL_NAMESPACE_KIND_SHARED "shared"

/**
 * BB_PROTOCOL_PURPOSE_LOGIN:
 *
 * The purpose of a challenge answered by a login
 * ([method@BbSync.Client.request_challenge_async]).
 *
 * Since: 0.1
 */
#define BB_PROTOCOL_PURPOSE_LOGIN "login"

/**
 * BB_PROTOCOL_PURPOSE_REFRESH:
 *
 * The purpose of a challenge answered by a token refresh.
 *
 * Since: 0.1
 */
#define BB_PROTOCOL_PURPOSE_REFRESH "refresh"

/**
 * BB_PROTOCOL_PURPOSE_SENSITIVE:
 *
 * The purpose of a challenge answered by a sensitive action, one of the
 * `BB_PROTOCOL_ACTION_` strings.
 *
 * Since: 0.1
 */
#define BB_PROTOCOL_PURPOSE_SENSITIVE "sensitive-action"

/**
 * BB_PROTOCOL_ACTION_REVOKE_ALL:
 *
 * The sensitive action that revokes every token of a key.
 *
 * Since: 0.1
 */
#define BB_PROTOCOL_ACTION_REVOKE_ALL "revoke-all-tokens"

/**
 * BB_PROTOCOL_ACTION_CREATE_INVITE:
 *
 * The sensitive action that creates an invite to a namespace; its signed fields are
 * built by [func@BbSync.protocol_create_invite_fields].
 *
 * Since: 0.1
 */
#define BB_PROTOCOL_ACTION_CREATE_INVITE "create-namespace-invite"

/**
 * BB_PROTOCOL_SPAM_CONTROL_NONE:
 *
 * The spam-control kind of a challenge that asks for nothing beyond the signature
 * ([method@BbSync.Challenge.get_spam_control_kind]). Sensitive actions accept no other.
 *
 * Since: 0.1
 */
#define BB_PROTOCOL_SPAM_CONTROL_NONE "none"

/**
 * BB_PROTOCOL_SPAM_CONTROL_ATTEST:
 *
 * The spam-control kind of a login or refresh challenge for which the identity must also
 * send an attestation ([method@BbSync.Identity.attest_async]).
 *
 * Since: 0.1
 */
#define BB_PROTOCOL_SPAM_CONTROL_ATTEST "attestation"

/**
 * BB_PROTOCOL_JOIN_STATUS_PENDING:
 *
 * The status of a join request that waits for an approval or a rejection
 * ([method@BbSync.JoinRequestListing.get_status]).
 *
 * Since: 0.1
 */
#define BB_PROTOCOL_JOIN_STATUS_PENDING "pending"

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
