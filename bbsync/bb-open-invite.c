/* bb-open-invite.c: an open invite of a shared namespace, as a GObject
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-open-invite.h"

/**
 * BbOpenInvite:
 *
 * An open invite of a shared namespace, as listed by
 * [method@BbSync.Namespace.refresh_invites_async]: an item of the list model
 * [method@BbSync.Namespace.get_invites].
 *
 * It wraps the listed [struct@BbSync.InviteListing]. The invite secret is not part of it: the
 * server never sees it. Revoke the invite with [method@BbSync.Namespace.revoke_invite_async].
 *
 * Since: 0.1
 */
struct _BbOpenInvite
{
  GObject parent_instance;

  BbInviteListing *info;
};

G_DEFINE_FINAL_TYPE (BbOpenInvite, bb_open_invite, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_INFO,
  PROP_INVITE_ID,
  PROP_NAMESPACE_ID,
  PROP_EXPIRES_AT,
  PROP_MAX_PENDING,
  PROP_MAX_ACCEPTED,
  PROP_ACTIVE_REQUEST_COUNT,
  PROP_ACCEPTED_COUNT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
bb_open_invite_finalize (GObject *object)
{
  BbOpenInvite *self = BB_OPEN_INVITE (object);

  g_clear_pointer (&self->info, bb_invite_listing_unref);

  G_OBJECT_CLASS (bb_open_invite_parent_class)->finalize (object);
}

static void
bb_open_invite_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BbOpenInvite *self = BB_OPEN_INVITE (object);

  switch (prop_id)
    {
      case PROP_INFO:
        g_value_set_boxed (value, self->info);
        break;
      case PROP_INVITE_ID:
        g_value_set_string (value, bb_open_invite_get_invite_id (self));
        break;
      case PROP_NAMESPACE_ID:
        g_value_set_string (value, bb_open_invite_get_namespace_id (self));
        break;
      case PROP_EXPIRES_AT:
        g_value_set_int64 (value, bb_open_invite_get_expires_at (self));
        break;
      case PROP_MAX_PENDING:
        g_value_set_uint (value, bb_open_invite_get_max_pending (self));
        break;
      case PROP_MAX_ACCEPTED:
        g_value_set_uint (value, bb_open_invite_get_max_accepted (self));
        break;
      case PROP_ACTIVE_REQUEST_COUNT:
        g_value_set_uint (value, bb_open_invite_get_active_request_count (self));
        break;
      case PROP_ACCEPTED_COUNT:
        g_value_set_uint (value, bb_open_invite_get_accepted_count (self));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bb_open_invite_class_init (BbOpenInviteClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = bb_open_invite_finalize;
  object_class->get_property = bb_open_invite_get_property;

  /**
   * BbOpenInvite:info:
   *
   * The listed entry: the invite with its creator, limits and counts.
   *
   * Since: 0.1
   */
  properties[PROP_INFO] = g_param_spec_boxed ("info", NULL, NULL, BB_TYPE_INVITE_LISTING,
                                              G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * BbOpenInvite:invite-id:
   *
   * The invite ID, as in [method@BbSync.Invite.get_invite_id].
   *
   * Since: 0.1
   */
  properties[PROP_INVITE_ID] = g_param_spec_string ("invite-id", NULL, NULL, NULL,
                                                    G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * BbOpenInvite:namespace-id:
   *
   * The namespace the invite admits to.
   *
   * Since: 0.1
   */
  properties[PROP_NAMESPACE_ID] = g_param_spec_string ("namespace-id", NULL, NULL, NULL,
                                                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * BbOpenInvite:expires-at:
   *
   * When the invite expires, in Unix seconds (UTC), as in [method@BbSync.Invite.get_expires_at].
   *
   * Since: 0.1
   */
  properties[PROP_EXPIRES_AT] = g_param_spec_int64 ("expires-at", NULL, NULL, 0, G_MAXINT64, 0,
                                                    G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * BbOpenInvite:max-pending:
   *
   * The limit of pending join requests through the invite, or 0 for none.
   *
   * Since: 0.1
   */
  properties[PROP_MAX_PENDING] = g_param_spec_uint ("max-pending", NULL, NULL, 0, G_MAXUINT, 0,
                                                    G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * BbOpenInvite:max-accepted:
   *
   * How many join requests the invite may admit.
   *
   * Since: 0.1
   */
  properties[PROP_MAX_ACCEPTED] = g_param_spec_uint ("max-accepted", NULL, NULL, 0, G_MAXUINT, 0,
                                                     G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * BbOpenInvite:active-request-count:
   *
   * How many join requests through the invite are pending, as the server listed them.
   *
   * Since: 0.1
   */
  properties[PROP_ACTIVE_REQUEST_COUNT]
      = g_param_spec_uint ("active-request-count", NULL, NULL, 0, G_MAXUINT, 0,
                           G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * BbOpenInvite:accepted-count:
   *
   * How many join requests through the invite were approved, as the server listed them.
   *
   * Since: 0.1
   */
  properties[PROP_ACCEPTED_COUNT] = g_param_spec_uint (
      "accepted-count", NULL, NULL, 0, G_MAXUINT, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
bb_open_invite_init (BbOpenInvite *self)
{
}

/**
 * bb_open_invite_new:
 * @info: a listed invite
 *
 * Wraps @info for a list model.
 *
 * Returns: (transfer full): a new [class@BbSync.OpenInvite]
 *
 * Since: 0.1
 */
BbOpenInvite *
bb_open_invite_new (BbInviteListing *info)
{
  BbOpenInvite *self;

  g_return_val_if_fail (info != NULL, NULL);

  self = g_object_new (BB_TYPE_OPEN_INVITE, NULL);
  self->info = bb_invite_listing_ref (info);
  return self;
}

/**
 * bb_open_invite_get_info:
 * @self: a [class@BbSync.OpenInvite]
 *
 * Gets the invite as the server listed it, with its creator, limits and counts.
 *
 * Returns: (transfer none): the listed entry, see [property@BbSync.OpenInvite:info]
 *
 * Since: 0.1
 */
BbInviteListing *
bb_open_invite_get_info (BbOpenInvite *self)
{
  g_return_val_if_fail (BB_IS_OPEN_INVITE (self), NULL);
  return self->info;
}

/**
 * bb_open_invite_get_invite_id:
 * @self: a [class@BbSync.OpenInvite]
 *
 * Gets the ID of the invite, as in the invite URI.
 *
 * Returns: (nullable): the invite ID, see [property@BbSync.OpenInvite:invite-id]
 *
 * Since: 0.1
 */
const char *
bb_open_invite_get_invite_id (BbOpenInvite *self)
{
  g_return_val_if_fail (BB_IS_OPEN_INVITE (self), NULL);
  return bb_invite_listing_get_invite_id (self->info);
}

/**
 * bb_open_invite_get_namespace_id:
 * @self: a [class@BbSync.OpenInvite]
 *
 * Gets the ID of the namespace the invite admits to.
 *
 * Returns: (nullable): the namespace ID, see [property@BbSync.OpenInvite:namespace-id]
 *
 * Since: 0.1
 */
const char *
bb_open_invite_get_namespace_id (BbOpenInvite *self)
{
  g_return_val_if_fail (BB_IS_OPEN_INVITE (self), NULL);
  return bb_invite_listing_get_namespace_id (self->info);
}

/**
 * bb_open_invite_get_expires_at:
 * @self: a [class@BbSync.OpenInvite]
 *
 * Gets when the invite expires.
 *
 * Returns: the expiry in Unix seconds (UTC), see [property@BbSync.OpenInvite:expires-at]
 *
 * Since: 0.1
 */
gint64
bb_open_invite_get_expires_at (BbOpenInvite *self)
{
  g_return_val_if_fail (BB_IS_OPEN_INVITE (self), 0);
  return bb_invite_listing_get_expires_at (self->info);
}

/**
 * bb_open_invite_get_max_pending:
 * @self: a [class@BbSync.OpenInvite]
 *
 * Gets the limit of join requests that may wait through the invite at once.
 *
 * Returns: the limit of pending requests, or 0 for none, see
 *   [property@BbSync.OpenInvite:max-pending]
 *
 * Since: 0.1
 */
guint
bb_open_invite_get_max_pending (BbOpenInvite *self)
{
  g_return_val_if_fail (BB_IS_OPEN_INVITE (self), 0);
  return bb_invite_listing_get_max_pending (self->info);
}

/**
 * bb_open_invite_get_max_accepted:
 * @self: a [class@BbSync.OpenInvite]
 *
 * Gets how many join requests the invite may admit in all.
 *
 * Returns: how many requests the invite may admit, see [property@BbSync.OpenInvite:max-accepted]
 *
 * Since: 0.1
 */
guint
bb_open_invite_get_max_accepted (BbOpenInvite *self)
{
  g_return_val_if_fail (BB_IS_OPEN_INVITE (self), 0);
  return bb_invite_listing_get_max_accepted (self->info);
}

/**
 * bb_open_invite_get_active_request_count:
 * @self: a [class@BbSync.OpenInvite]
 *
 * Gets how many join requests through the invite are pending, as of the last
 * [method@BbSync.Namespace.refresh_invites_async].
 *
 * Returns: the pending requests through the invite, see
 *   [property@BbSync.OpenInvite:active-request-count]
 *
 * Since: 0.1
 */
guint
bb_open_invite_get_active_request_count (BbOpenInvite *self)
{
  g_return_val_if_fail (BB_IS_OPEN_INVITE (self), 0);
  return bb_invite_listing_get_active_request_count (self->info);
}

/**
 * bb_open_invite_get_accepted_count:
 * @self: a [class@BbSync.OpenInvite]
 *
 * Gets how many join requests through the invite were approved, as of the last
 * [method@BbSync.Namespace.refresh_invites_async].
 *
 * Returns: the approved requests through the invite, see
 *   [property@BbSync.OpenInvite:accepted-count]
 *
 * Since: 0.1
 */
guint
bb_open_invite_get_accepted_count (BbOpenInvite *self)
{
  g_return_val_if_fail (BB_IS_OPEN_INVITE (self), 0);
  return bb_invite_listing_get_accepted_count (self->info);
}
