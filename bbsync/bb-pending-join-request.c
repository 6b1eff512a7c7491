/* bb-pending-join-request.c: a pending join request of a shared namespace, as a GObject
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-pending-join-request.h"

/**
 * BbPendingJoinRequest:
 *
 * A pending join request of a shared namespace, as listed by
 * [method@BbSync.Namespace.refresh_join_requests_async]: an item of the list model
 * [method@BbSync.Namespace.get_join_requests].
 *
 * It wraps the listed [struct@BbSync.JoinRequestListing]; approve it with
 * [method@BbSync.Namespace.approve_join_request_async] or reject it with
 * [method@BbSync.Namespace.reject_join_request_async].
 *
 * Since: 0.1
 */
struct _BbPendingJoinRequest
{
  GObject parent_instance;

  BbJoinRequestListing *info;
};

G_DEFINE_FINAL_TYPE (BbPendingJoinRequest, bb_pending_join_request, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_INFO,
  PROP_REQUEST,
  PROP_REQUESTER_KEY_ID,
  PROP_NAMESPACE_ID,
  PROP_INVITE_ID,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
bb_pending_join_request_finalize (GObject *object)
{
  BbPendingJoinRequest *self = BB_PENDING_JOIN_REQUEST (object);

  g_clear_pointer (&self->info, bb_join_request_listing_unref);

  G_OBJECT_CLASS (bb_pending_join_request_parent_class)->finalize (object);
}

static void
bb_pending_join_request_get_property (GObject *object, guint prop_id, GValue *value,
                                      GParamSpec *pspec)
{
  BbPendingJoinRequest *self = BB_PENDING_JOIN_REQUEST (object);

  switch (prop_id)
    {
      case PROP_INFO:
        g_value_set_boxed (value, self->info);
        break;
      case PROP_REQUEST:
        g_value_set_boxed (value, bb_pending_join_request_get_request (self));
        break;
      case PROP_REQUESTER_KEY_ID:
        g_value_set_string (value, bb_pending_join_request_get_requester_key_id (self));
        break;
      case PROP_NAMESPACE_ID:
        g_value_set_string (value, bb_pending_join_request_get_namespace_id (self));
        break;
      case PROP_INVITE_ID:
        g_value_set_string (value, bb_pending_join_request_get_invite_id (self));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bb_pending_join_request_class_init (BbPendingJoinRequestClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = bb_pending_join_request_finalize;
  object_class->get_property = bb_pending_join_request_get_property;

  /**
   * BbPendingJoinRequest:info:
   *
   * The listed entry: the join request with its hash, status and creation time.
   *
   * Since: 0.1
   */
  properties[PROP_INFO] = g_param_spec_boxed ("info", NULL, NULL, BB_TYPE_JOIN_REQUEST_LISTING,
                                              G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * BbPendingJoinRequest:request:
   *
   * The join request the requester signed.
   *
   * Since: 0.1
   */
  properties[PROP_REQUEST] = g_param_spec_boxed ("request", NULL, NULL, BB_TYPE_JOIN_REQUEST,
                                                 G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * BbPendingJoinRequest:requester-key-id:
   *
   * The requester's key ID: 64 lower-case hex characters.
   *
   * Since: 0.1
   */
  properties[PROP_REQUESTER_KEY_ID] = g_param_spec_string (
      "requester-key-id", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * BbPendingJoinRequest:namespace-id:
   *
   * The namespace the requester asks to join.
   *
   * Since: 0.1
   */
  properties[PROP_NAMESPACE_ID] = g_param_spec_string ("namespace-id", NULL, NULL, NULL,
                                                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * BbPendingJoinRequest:invite-id:
   *
   * The invite the request came through.
   *
   * Since: 0.1
   */
  properties[PROP_INVITE_ID] = g_param_spec_string ("invite-id", NULL, NULL, NULL,
                                                    G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
bb_pending_join_request_init (BbPendingJoinRequest *self)
{
}

/**
 * bb_pending_join_request_new:
 * @info: a listed join request
 *
 * Wraps @info for a list model.
 *
 * Returns: (transfer full): a new [class@BbSync.PendingJoinRequest]
 *
 * Since: 0.1
 */
BbPendingJoinRequest *
bb_pending_join_request_new (BbJoinRequestListing *info)
{
  BbPendingJoinRequest *self;

  g_return_val_if_fail (info != NULL, NULL);

  self = g_object_new (BB_TYPE_PENDING_JOIN_REQUEST, NULL);
  self->info = bb_join_request_listing_ref (info);
  return self;
}

/**
 * bb_pending_join_request_get_info:
 * @self: a [class@BbSync.PendingJoinRequest]
 *
 * Gets the join request as the server listed it, with its hash, status and creation
 * time.
 *
 * Returns: (transfer none): the listed entry, see [property@BbSync.PendingJoinRequest:info]
 *
 * Since: 0.1
 */
BbJoinRequestListing *
bb_pending_join_request_get_info (BbPendingJoinRequest *self)
{
  g_return_val_if_fail (BB_IS_PENDING_JOIN_REQUEST (self), NULL);
  return self->info;
}

/**
 * bb_pending_join_request_get_request:
 * @self: a [class@BbSync.PendingJoinRequest]
 *
 * Gets the join request the requester signed. Approving it verifies this signature and
 * wraps the namespace key to the wrap key it carries.
 *
 * Returns: (transfer none) (nullable): the signed join request, see
 *   [property@BbSync.PendingJoinRequest:request]
 *
 * Since: 0.1
 */
BbJoinRequest *
bb_pending_join_request_get_request (BbPendingJoinRequest *self)
{
  g_return_val_if_fail (BB_IS_PENDING_JOIN_REQUEST (self), NULL);
  return bb_join_request_listing_get_request (self->info);
}

/**
 * bb_pending_join_request_get_requester_key_id:
 * @self: a [class@BbSync.PendingJoinRequest]
 *
 * Gets the key ID of the identity asking to join, in lower-case hex. Once approved, it
 * is the key ID of the new member.
 *
 * Returns: (nullable): the requester's key ID, see
 *   [property@BbSync.PendingJoinRequest:requester-key-id]
 *
 * Since: 0.1
 */
const char *
bb_pending_join_request_get_requester_key_id (BbPendingJoinRequest *self)
{
  BbJoinRequest *request;

  g_return_val_if_fail (BB_IS_PENDING_JOIN_REQUEST (self), NULL);
  request = bb_join_request_listing_get_request (self->info);
  if (request != NULL)
    return bb_join_request_get_key_id (request);
  return bb_join_request_listing_get_requester_key_id (self->info);
}

/**
 * bb_pending_join_request_get_namespace_id:
 * @self: a [class@BbSync.PendingJoinRequest]
 *
 * Gets the ID of the namespace the requester asks to join.
 *
 * Returns: (nullable): the namespace ID, see [property@BbSync.PendingJoinRequest:namespace-id]
 *
 * Since: 0.1
 */
const char *
bb_pending_join_request_get_namespace_id (BbPendingJoinRequest *self)
{
  BbJoinRequest *request;

  g_return_val_if_fail (BB_IS_PENDING_JOIN_REQUEST (self), NULL);
  if (bb_join_request_listing_get_namespace_id (self->info) != NULL)
    return bb_join_request_listing_get_namespace_id (self->info);
  request = bb_join_request_listing_get_request (self->info);
  return request != NULL ? bb_join_request_get_namespace_id (request) : NULL;
}

/**
 * bb_pending_join_request_get_invite_id:
 * @self: a [class@BbSync.PendingJoinRequest]
 *
 * Gets the ID of the invite the request came through.
 *
 * Returns: (nullable): the invite ID, see [property@BbSync.PendingJoinRequest:invite-id]
 *
 * Since: 0.1
 */
const char *
bb_pending_join_request_get_invite_id (BbPendingJoinRequest *self)
{
  g_return_val_if_fail (BB_IS_PENDING_JOIN_REQUEST (self), NULL);
  return bb_join_request_listing_get_invite_id (self->info);
}

/**
 * bb_pending_join_request_get_join_request_hash:
 * @self: a [class@BbSync.PendingJoinRequest]
 *
 * Gets the hash that names the request on the server: approving or rejecting it names it
 * by this hash and the requester's key ID.
 *
 * Returns: (nullable): the join-request hash, the stable ID of the request (64 lower-case
 *   hex characters)
 *
 * Since: 0.1
 */
const char *
bb_pending_join_request_get_join_request_hash (BbPendingJoinRequest *self)
{
  g_return_val_if_fail (BB_IS_PENDING_JOIN_REQUEST (self), NULL);
  return bb_join_request_listing_get_join_request_hash (self->info);
}
