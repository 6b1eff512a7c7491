/* msg-types.h: a table of every JSON message type of bb-protocol-messages-private.h,
 * so that tests and the fuzz target can treat them generically.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>

#include "bb-protocol-messages-private.h"

typedef struct
{
  const char *name;
  gsize size;
  gboolean (*parse) (gpointer msg, const char *data, gssize len, GError **error);
  char *(*to_json) (gconstpointer msg);
  void (*clear) (gpointer msg);
} MsgType;

/* Wrappers with a common signature, so that no call goes through a cast function type. */
#define MSG_WRAP(n, T)                                                                             \
  static gboolean n##_parse_w (gpointer m, const char *d, gssize l, GError **e)                    \
  {                                                                                                \
    return bb_msg_##n##_parse ((T *)m, d, l, e);                                                   \
  }                                                                                                \
  static char *n##_json_w (gconstpointer m)                                                        \
  {                                                                                                \
    return bb_msg_##n##_to_json ((const T *)m);                                                    \
  }                                                                                                \
  static void n##_clear_w (gpointer m)                                                             \
  {                                                                                                \
    bb_msg_##n##_clear ((T *)m);                                                                   \
  }

MSG_WRAP (error, BbMsgError)
MSG_WRAP (challenge_request, BbMsgChallengeRequest)
MSG_WRAP (challenge_response, BbMsgChallengeResponse)
MSG_WRAP (login_request, BbMsgLoginRequest)
MSG_WRAP (login_response, BbMsgLoginResponse)
MSG_WRAP (refresh_request, BbMsgRefreshRequest)
MSG_WRAP (refresh_response, BbMsgRefreshResponse)
MSG_WRAP (revoke_tokens_request, BbMsgRevokeTokensRequest)
MSG_WRAP (default_namespace_response, BbMsgDefaultNamespaceResponse)
MSG_WRAP (ensure_default_request, BbMsgEnsureDefaultRequest)
MSG_WRAP (ensure_default_response, BbMsgEnsureDefaultResponse)
MSG_WRAP (mine_response, BbMsgMineResponse)
MSG_WRAP (watch_request, BbMsgWatchRequest)
MSG_WRAP (watch_response, BbMsgWatchResponse)
MSG_WRAP (create_namespace_request, BbMsgCreateNamespaceRequest)
MSG_WRAP (create_namespace_response, BbMsgCreateNamespaceResponse)
MSG_WRAP (members_response, BbMsgMembersResponse)
MSG_WRAP (create_invite_request, BbMsgCreateInviteRequest)
MSG_WRAP (create_invite_response, BbMsgCreateInviteResponse)
MSG_WRAP (list_invites_response, BbMsgListInvitesResponse)
MSG_WRAP (revoke_invite_response, BbMsgRevokeInviteResponse)
MSG_WRAP (submit_join_request, BbMsgSubmitJoinRequest)
MSG_WRAP (submit_join_response, BbMsgSubmitJoinResponse)
MSG_WRAP (list_join_requests_response, BbMsgListJoinRequestsResponse)
MSG_WRAP (approve_request, BbMsgApproveRequest)
MSG_WRAP (approve_response, BbMsgApproveResponse)
MSG_WRAP (reject_response, BbMsgRejectResponse)
MSG_WRAP (wrapped_dek_response, BbMsgWrappedDekResponse)
MSG_WRAP (items_response, BbMsgItemsResponse)
MSG_WRAP (item_response, BbMsgItemResponse)
MSG_WRAP (put_item_request, BbMsgPutItemRequest)
MSG_WRAP (put_item_response, BbMsgPutItemResponse)
MSG_WRAP (health_response, BbMsgHealthResponse)
MSG_WRAP (version_response, BbMsgVersionResponse)

#define MSG_TYPE(n, T)                                                                             \
  {                                                                                                \
#n, sizeof(T), n##_parse_w, n##_json_w, n##_clear_w                                            \
  }

static const MsgType msg_types[] = {
  MSG_TYPE (error, BbMsgError),
  MSG_TYPE (challenge_request, BbMsgChallengeRequest),
  MSG_TYPE (challenge_response, BbMsgChallengeResponse),
  MSG_TYPE (login_request, BbMsgLoginRequest),
  MSG_TYPE (login_response, BbMsgLoginResponse),
  MSG_TYPE (refresh_request, BbMsgRefreshRequest),
  MSG_TYPE (refresh_response, BbMsgRefreshResponse),
  MSG_TYPE (revoke_tokens_request, BbMsgRevokeTokensRequest),
  MSG_TYPE (default_namespace_response, BbMsgDefaultNamespaceResponse),
  MSG_TYPE (ensure_default_request, BbMsgEnsureDefaultRequest),
  MSG_TYPE (ensure_default_response, BbMsgEnsureDefaultResponse),
  MSG_TYPE (mine_response, BbMsgMineResponse),
  MSG_TYPE (watch_request, BbMsgWatchRequest),
  MSG_TYPE (watch_response, BbMsgWatchResponse),
  MSG_TYPE (create_namespace_request, BbMsgCreateNamespaceRequest),
  MSG_TYPE (create_namespace_response, BbMsgCreateNamespaceResponse),
  MSG_TYPE (members_response, BbMsgMembersResponse),
  MSG_TYPE (create_invite_request, BbMsgCreateInviteRequest),
  MSG_TYPE (create_invite_response, BbMsgCreateInviteResponse),
  MSG_TYPE (list_invites_response, BbMsgListInvitesResponse),
  MSG_TYPE (revoke_invite_response, BbMsgRevokeInviteResponse),
  MSG_TYPE (submit_join_request, BbMsgSubmitJoinRequest),
  MSG_TYPE (submit_join_response, BbMsgSubmitJoinResponse),
  MSG_TYPE (list_join_requests_response, BbMsgListJoinRequestsResponse),
  MSG_TYPE (approve_request, BbMsgApproveRequest),
  MSG_TYPE (approve_response, BbMsgApproveResponse),
  MSG_TYPE (reject_response, BbMsgRejectResponse),
  MSG_TYPE (wrapped_dek_response, BbMsgWrappedDekResponse),
  MSG_TYPE (items_response, BbMsgItemsResponse),
  MSG_TYPE (item_response, BbMsgItemResponse),
  MSG_TYPE (put_item_request, BbMsgPutItemRequest),
  MSG_TYPE (put_item_response, BbMsgPutItemResponse),
  MSG_TYPE (health_response, BbMsgHealthResponse),
  MSG_TYPE (version_response, BbMsgVersionResponse),
};

static inline const MsgType *
msg_type_lookup (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (msg_types); i++)
    if (g_str_equal (msg_types[i].name, name))
      return &msg_types[i];
  return NULL;
}
