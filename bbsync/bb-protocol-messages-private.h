/* bb-protocol-messages-private.h: the JSON request and response bodies of protocol §6
 *
 * Plain structs shared by the client (BbClient) and the reference server (BbServer).
 * Each type T has:
 *   void     T_clear (T *msg);                  frees members, zeroes the struct
 *   char    *T_to_json (const T *msg);           compact JSON, object keys in field order
 *                                                of §6 (Go's struct order), no trailing \n
 *   gboolean T_parse (T *msg, const char *data, gssize len, GError **error);
 * _parse is strict: exact-case field names, unknown fields ignored, every required field
 * present with the right JSON type, integers without fraction or exponent and in range,
 * IDs lower-hex-exact of their size, base64/base64url canonical of their size where the
 * size is fixed, timestamps RFC 3339, null or absent lists and maps read as empty. A
 * failure is BB_SYNC_ERROR_PROTOCOL with a message naming the field (for example
 * "namespaceId: expected lower-case hex of 16 bytes"). On failure @msg is left cleared.
 * Cross-field checks against a request (echoed IDs, versions) are the caller's job.
 *
 * Timestamps are GDateTime (UTC or with offset), written the way Go writes time.Time.
 *
 * The types are implemented by resource in bb-messages-auth.c, -namespaces.c,
 * -invites.c and -items.c, on the field readers of bb-message-fields.c and the strict
 * reader and Go-compatible writer of bb-json-reader.c and bb-json-writer.c; the times in
 * bb-go-time.c.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* The largest body the _parse functions read. The largest legitimate body is an items
 * snapshot of 10000 items (about 1 MiB); this leaves room while keeping a hostile body
 * from costing much. A client enforces it while reading an answer. */
#define BB_MSG_MAX_BODY_SIZE (8 * 1024 * 1024)

#define BB_MSG_DECLARE(T, t)                                                   \
  void     t##_clear   (T *msg);                                               \
  char    *t##_to_json (const T *msg);                                         \
  gboolean t##_parse   (T *msg, const char *data, gssize len, GError **error);

/* Go-compatible RFC 3339 time text (fraction trimmed, "Z" for UTC) and its parser
 * (0-9 fraction digits, Z or numeric offset). */
char      *bb_msg_format_time (GDateTime *time);
GDateTime *bb_msg_parse_time  (const char *text, const char *field, GError **error);

/* Reads @data with the same strict reader and limits as the _parse functions and checks
 * that it is one JSON object whose member names are all in @allowed and, when
 * @nested_field names an object member, whose members are all in @nested_allowed. A
 * server uses it to refuse misspelt fields, which Go's decoder would silently ignore.
 * Errors are BB_SYNC_ERROR_PROTOCOL starting with "body: ". */
gboolean   bb_msg_check_known_fields (const char *data, gssize len, const char *const *allowed,
                                      const char *nested_field,
                                      const char *const *nested_allowed, GError **error);

/* {"error": "..."}: */
typedef struct { char *error; } BbMsgError;
BB_MSG_DECLARE (BbMsgError, bb_msg_error)

/* §6.1 */
typedef struct {
  char *purpose;
  char *kind;
  char *action;             /* nullable, omitempty */
  char *action_fields_hash; /* nullable, omitempty; lower-hex 32 */
} BbMsgChallengeRequest;
BB_MSG_DECLARE (BbMsgChallengeRequest, bb_msg_challenge_request)

typedef struct {
  char      *challenge;          /* standard base64 of 32 bytes, kept as received */
  GDateTime *expires_at;
  char      *spam_control_kind;  /* "spamControl": {"kind": ...} */
} BbMsgChallengeResponse;
BB_MSG_DECLARE (BbMsgChallengeResponse, bb_msg_challenge_response)

/* §6.2 */
typedef struct {
  char *kind;
  char *key_id;
  char *auth_public_key;
  char *wrap_public_key;
  char *challenge;
  char *intent_signature;  /* hex of 64 bytes; any case accepted on parse (spec §2.1) */
  char *attestation;       /* nullable, omitempty; standard base64 */
} BbMsgLoginRequest;
BB_MSG_DECLARE (BbMsgLoginRequest, bb_msg_login_request)

typedef struct {
  char      *kind;
  char      *access_token;
  GDateTime *expires_at;
  char      *default_namespace_id; /* nullable; key always present */
} BbMsgLoginResponse;
BB_MSG_DECLARE (BbMsgLoginResponse, bb_msg_login_response)

/* §6.3 */
typedef struct {
  char *kind;
  char *key_id;
  char *challenge;
  char *intent_signature;
  char *attestation;       /* nullable, omitempty */
} BbMsgRefreshRequest;
BB_MSG_DECLARE (BbMsgRefreshRequest, bb_msg_refresh_request)

typedef struct {
  char      *kind;
  char      *access_token;
  GDateTime *expires_at;
} BbMsgRefreshResponse;
BB_MSG_DECLARE (BbMsgRefreshResponse, bb_msg_refresh_response)

/* §6.4 */
typedef struct {
  char *kind;
  char *key_id;
  char *challenge;
  char *intent_signature;
} BbMsgRevokeTokensRequest;
BB_MSG_DECLARE (BbMsgRevokeTokensRequest, bb_msg_revoke_tokens_request)

/* §6.5 */
typedef struct {
  char *namespace_id;
  char *kind;
} BbMsgDefaultNamespaceResponse;
BB_MSG_DECLARE (BbMsgDefaultNamespaceResponse, bb_msg_default_namespace_response)

/* §6.6 */
typedef struct {
  char *proposed_namespace_id;
  char *wrapped_dek;  /* standard base64 of 97 bytes */
} BbMsgEnsureDefaultRequest;
BB_MSG_DECLARE (BbMsgEnsureDefaultRequest, bb_msg_ensure_default_request)

typedef struct {
  char    *namespace_id;
  char    *kind;
  char    *wrapped_dek;
  gboolean created;
} BbMsgEnsureDefaultResponse;
BB_MSG_DECLARE (BbMsgEnsureDefaultResponse, bb_msg_ensure_default_response)

/* §6.7, §6.8 */
typedef struct {
  char   *namespace_id;
  char   *kind;
  guint64 namespace_head;
} BbMsgNamespaceSummary;
void bb_msg_namespace_summary_free (BbMsgNamespaceSummary *summary);

typedef struct {
  GPtrArray *namespaces; /* (element-type BbMsgNamespaceSummary), never NULL after parse */
} BbMsgMineResponse;
BB_MSG_DECLARE (BbMsgMineResponse, bb_msg_mine_response)

typedef struct {
  GHashTable *known_heads; /* lower-hex namespace ID (char *) -> guint64 * ; keys sorted on output */
} BbMsgWatchRequest;
BB_MSG_DECLARE (BbMsgWatchRequest, bb_msg_watch_request)

typedef struct {
  GPtrArray *namespaces; /* (element-type BbMsgNamespaceSummary) */
  gboolean   timed_out;
} BbMsgWatchResponse;
BB_MSG_DECLARE (BbMsgWatchResponse, bb_msg_watch_response)

/* §6.9 */
typedef struct {
  char *namespace_id;
  char *wrapped_dek;
} BbMsgCreateNamespaceRequest;
BB_MSG_DECLARE (BbMsgCreateNamespaceRequest, bb_msg_create_namespace_request)

typedef struct {
  char    *namespace_id;
  char    *kind;
  gboolean created;     /* absent reads as FALSE */
} BbMsgCreateNamespaceResponse;
BB_MSG_DECLARE (BbMsgCreateNamespaceResponse, bb_msg_create_namespace_response)

/* §6.10 */
typedef struct {
  char *kind;
  char *key_id;
} BbMsgMember;
void bb_msg_member_free (BbMsgMember *member);

typedef struct {
  char      *namespace_id;
  GPtrArray *members; /* (element-type BbMsgMember) */
} BbMsgMembersResponse;
BB_MSG_DECLARE (BbMsgMembersResponse, bb_msg_members_response)

/* §6.11: variant A when has_max_pending, else variant B (no "maxPending" key) */
typedef struct {
  char    *kind;
  char    *key_id;
  char    *invite_id;
  char    *invite_server_secret_hash;
  char    *challenge;
  char    *intent_signature;
  gint64   expires_at;
  gboolean has_max_pending;
  gint64   max_pending;
  gint64   max_accepted;
} BbMsgCreateInviteRequest;
BB_MSG_DECLARE (BbMsgCreateInviteRequest, bb_msg_create_invite_request)

typedef struct {
  char    *namespace_id;
  char    *invite_id;
  gint64   expires_at;
  gboolean has_max_pending;
  gint64   max_pending;
  gint64   max_accepted;
} BbMsgCreateInviteResponse;
BB_MSG_DECLARE (BbMsgCreateInviteResponse, bb_msg_create_invite_response)

/* §6.12 */
typedef struct {
  char      *invite_id;
  char      *created_by_key_id;
  GDateTime *created_at;
  gint64     expires_at;
  gboolean   has_max_pending;
  gint64     max_pending;
  gint64     max_accepted;
  gint64     active_request_count;
  gint64     accepted_count;
  GDateTime *revoked_at; /* nullable */
} BbMsgInviteSummary;
void bb_msg_invite_summary_free (BbMsgInviteSummary *summary);

typedef struct {
  char      *namespace_id;
  GPtrArray *invites; /* (element-type BbMsgInviteSummary) */
} BbMsgListInvitesResponse;
BB_MSG_DECLARE (BbMsgListInvitesResponse, bb_msg_list_invites_response)

/* §6.13 */
typedef struct {
  char    *namespace_id;
  char    *invite_id;
  gboolean revoked;
} BbMsgRevokeInviteResponse;
BB_MSG_DECLARE (BbMsgRevokeInviteResponse, bb_msg_revoke_invite_response)

/* §6.14: the signed join request, in the field order of the spec */
typedef struct {
  gint64  version;
  char   *namespace_id;
  char   *invite_id;
  char   *server_origin;
  char   *kind;
  char   *key_id;
  char   *auth_public_key;
  char   *wrap_public_key;
  gint64  expires_at;
  char   *signature;
  char   *invite_proof;
} BbMsgJoinRequest;
void      bb_msg_join_request_clear   (BbMsgJoinRequest *msg);
void      bb_msg_join_request_copy    (const BbMsgJoinRequest *src, BbMsgJoinRequest *dest);
JsonNode *bb_msg_join_request_to_node (const BbMsgJoinRequest *msg);
gboolean  bb_msg_join_request_from_node (BbMsgJoinRequest *msg, JsonNode *node,
                                         const char *field, GError **error);

typedef struct {
  char            *invite_server_secret; /* base64url of 32 bytes */
  BbMsgJoinRequest join_request;
} BbMsgSubmitJoinRequest;
BB_MSG_DECLARE (BbMsgSubmitJoinRequest, bb_msg_submit_join_request)

typedef struct {
  char *namespace_id;
  char *invite_id;
  char *requester_kind;
  char *requester_key_id;
  char *join_request_hash;
  char *status;
} BbMsgSubmitJoinResponse;
BB_MSG_DECLARE (BbMsgSubmitJoinResponse, bb_msg_submit_join_response)

/* §6.15 */
typedef struct {
  char            *invite_id;
  char            *join_request_hash;
  GDateTime       *created_at;
  char            *status;
  BbMsgJoinRequest join_request;
} BbMsgJoinRequestEntry;
void bb_msg_join_request_entry_free (BbMsgJoinRequestEntry *entry);

typedef struct {
  char      *namespace_id;
  GPtrArray *requests; /* (element-type BbMsgJoinRequestEntry) */
} BbMsgListJoinRequestsResponse;
BB_MSG_DECLARE (BbMsgListJoinRequestsResponse, bb_msg_list_join_requests_response)

/* §6.16 */
typedef struct {
  char *invite_server_secret;
  char *wrapped_dek;
} BbMsgApproveRequest;
BB_MSG_DECLARE (BbMsgApproveRequest, bb_msg_approve_request)

typedef struct {
  char *namespace_id;
  char *member_kind;
  char *member_key_id;
  char *join_request_hash;
} BbMsgApproveResponse;
BB_MSG_DECLARE (BbMsgApproveResponse, bb_msg_approve_response)

/* §6.17 */
typedef struct {
  char    *namespace_id;
  char    *requester_key_id;
  char    *join_request_hash;
  gboolean rejected;
} BbMsgRejectResponse;
BB_MSG_DECLARE (BbMsgRejectResponse, bb_msg_reject_response)

/* §6.18 */
typedef struct {
  char *namespace_id;
  char *key_id;
  char *wrapped_dek;
} BbMsgWrappedDekResponse;
BB_MSG_DECLARE (BbMsgWrappedDekResponse, bb_msg_wrapped_dek_response)

/* §6.19 */
typedef struct {
  char       *namespace_id;
  guint64     namespace_head;
  GHashTable *items; /* lower-hex item ID (char *) -> guint64 * version; never NULL after parse */
} BbMsgItemsResponse;
BB_MSG_DECLARE (BbMsgItemsResponse, bb_msg_items_response)

/* §6.20 */
typedef struct {
  char   *namespace_id;
  char   *item_id;
  guint64 version;
  char   *nonce;       /* standard base64 (24 bytes) */
  char   *aad;         /* standard base64 */
  char   *ciphertext;  /* standard base64 */
} BbMsgItemResponse;
BB_MSG_DECLARE (BbMsgItemResponse, bb_msg_item_response)

/* §6.21 */
typedef struct {
  char *nonce;
  char *aad;
  char *ciphertext;
} BbMsgPutItemRequest;
BB_MSG_DECLARE (BbMsgPutItemRequest, bb_msg_put_item_request)

typedef struct {
  char   *namespace_id;
  char   *item_id;
  guint64 version;
} BbMsgPutItemResponse;
BB_MSG_DECLARE (BbMsgPutItemResponse, bb_msg_put_item_response)

/* §6.22 (our paths: GET /health, GET /version) */
typedef struct { char *status; } BbMsgHealthResponse;
BB_MSG_DECLARE (BbMsgHealthResponse, bb_msg_health_response)

typedef struct { char *git_commit; } BbMsgVersionResponse;
BB_MSG_DECLARE (BbMsgVersionResponse, bb_msg_version_response)

G_END_DECLS
