/* bb-identity-state.c: the stored authentication state of one identity
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-identity-state.h"

#include "bb-store-private.h"

/**
 * BbIdentityState:
 *
 * The stored authentication state of one identity, keyed by its key ID: the bearer
 * token and its expiry, and the cached default namespace ID.
 *
 * A record is a plain value: changing it changes nothing in a store until it is saved
 * with [method@BbSync.Store.save_identity]. Times are Unix times in microseconds (UTC), with 0
 * meaning "none". Strings are never %NULL; an empty string means "none".
 *
 * The access token is a secret: its memory is wiped when it is replaced and when the
 * record is finalized.
 *
 * Since: 0.1
 */
struct _BbIdentityState
{
  GObject parent_instance;

  char *key_id;
  char *kind;
  char *access_token;
  gint64 token_expiry;
  char *default_namespace_id;
  gint64 updated_at;
};

G_DEFINE_FINAL_TYPE (BbIdentityState, bb_identity_state, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_KEY_ID,
  PROP_KIND,
  PROP_ACCESS_TOKEN,
  PROP_TOKEN_EXPIRY,
  PROP_DEFAULT_NAMESPACE_ID,
  PROP_UPDATED_AT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
bb_identity_state_finalize (GObject *object)
{
  BbIdentityState *self = BB_IDENTITY_STATE (object);

  g_free (self->key_id);
  g_free (self->kind);
  bb_store_clear_secret_string (&self->access_token);
  g_free (self->default_namespace_id);

  G_OBJECT_CLASS (bb_identity_state_parent_class)->finalize (object);
}

static void
bb_identity_state_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BbIdentityState *self = BB_IDENTITY_STATE (object);

  switch (prop_id)
    {
      case PROP_KEY_ID:
        g_value_set_string (value, self->key_id);
        break;
      case PROP_KIND:
        g_value_set_string (value, self->kind);
        break;
      case PROP_ACCESS_TOKEN:
        g_value_set_string (value, self->access_token);
        break;
      case PROP_TOKEN_EXPIRY:
        g_value_set_int64 (value, self->token_expiry);
        break;
      case PROP_DEFAULT_NAMESPACE_ID:
        g_value_set_string (value, self->default_namespace_id);
        break;
      case PROP_UPDATED_AT:
        g_value_set_int64 (value, self->updated_at);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bb_identity_state_set_property (GObject *object, guint prop_id, const GValue *value,
                                GParamSpec *pspec)
{
  BbIdentityState *self = BB_IDENTITY_STATE (object);

  switch (prop_id)
    {
      case PROP_KEY_ID:
        bb_identity_state_set_key_id (self, g_value_get_string (value));
        break;
      case PROP_KIND:
        bb_identity_state_set_kind (self, g_value_get_string (value));
        break;
      case PROP_ACCESS_TOKEN:
        bb_identity_state_set_access_token (self, g_value_get_string (value));
        break;
      case PROP_TOKEN_EXPIRY:
        bb_identity_state_set_token_expiry (self, g_value_get_int64 (value));
        break;
      case PROP_DEFAULT_NAMESPACE_ID:
        bb_identity_state_set_default_namespace_id (self, g_value_get_string (value));
        break;
      case PROP_UPDATED_AT:
        bb_identity_state_set_updated_at (self, g_value_get_int64 (value));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bb_identity_state_class_init (BbIdentityStateClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->finalize = bb_identity_state_finalize;
  object_class->get_property = bb_identity_state_get_property;
  object_class->set_property = bb_identity_state_set_property;

  /**
   * BbIdentityState:key-id:
   *
   * The lowercase hex key ID of the identity (the record's key).
   *
   * Since: 0.1
   */
  properties[PROP_KEY_ID] = g_param_spec_string ("key-id", NULL, NULL, "", flags);

  /**
   * BbIdentityState:kind:
   *
   * The identity kind, for example `keystore`.
   *
   * Since: 0.1
   */
  properties[PROP_KIND] = g_param_spec_string ("kind", NULL, NULL, "", flags);

  /**
   * BbIdentityState:access-token:
   *
   * The bearer token, or an empty string when there is none. A secret.
   *
   * Since: 0.1
   */
  properties[PROP_ACCESS_TOKEN] = g_param_spec_string ("access-token", NULL, NULL, "", flags);

  /**
   * BbIdentityState:token-expiry:
   *
   * The server's expiry time of the token, in Unix microseconds (UTC); 0 means none.
   *
   * Since: 0.1
   */
  properties[PROP_TOKEN_EXPIRY]
      = g_param_spec_int64 ("token-expiry", NULL, NULL, G_MININT64, G_MAXINT64, 0, flags);

  /**
   * BbIdentityState:default-namespace-id:
   *
   * The cached default namespace ID, or an empty string while it is unknown.
   *
   * Since: 0.1
   */
  properties[PROP_DEFAULT_NAMESPACE_ID]
      = g_param_spec_string ("default-namespace-id", NULL, NULL, "", flags);

  /**
   * BbIdentityState:updated-at:
   *
   * The time of the last local write, in Unix microseconds (UTC). A store sets the
   * current time when it saves a record whose value is 0.
   *
   * Since: 0.1
   */
  properties[PROP_UPDATED_AT]
      = g_param_spec_int64 ("updated-at", NULL, NULL, G_MININT64, G_MAXINT64, 0, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
bb_identity_state_init (BbIdentityState *self)
{
  self->key_id = g_strdup ("");
  self->kind = g_strdup ("");
  self->access_token = g_strdup ("");
  self->default_namespace_id = g_strdup ("");
}

/**
 * bb_identity_state_new:
 * @key_id: the lowercase hex key ID
 *
 * Creates an empty identity state for @key_id.
 *
 * Returns: (transfer full): a new [class@BbSync.IdentityState]
 *
 * Since: 0.1
 */
BbIdentityState *
bb_identity_state_new (const char *key_id)
{
  g_return_val_if_fail (key_id != NULL, NULL);

  return g_object_new (BB_TYPE_IDENTITY_STATE, "key-id", key_id, NULL);
}

/**
 * bb_identity_state_copy:
 * @self: a [class@BbSync.IdentityState]
 *
 * Makes an independent copy of @self.
 *
 * Returns: (transfer full): a new [class@BbSync.IdentityState] with the same fields
 *
 * Since: 0.1
 */
BbIdentityState *
bb_identity_state_copy (BbIdentityState *self)
{
  BbIdentityState *copy;

  g_return_val_if_fail (BB_IS_IDENTITY_STATE (self), NULL);

  copy = bb_identity_state_new (self->key_id);
  bb_store_replace_string (&copy->kind, self->kind, FALSE);
  bb_store_replace_string (&copy->access_token, self->access_token, TRUE);
  copy->token_expiry = self->token_expiry;
  bb_store_replace_string (&copy->default_namespace_id, self->default_namespace_id, FALSE);
  copy->updated_at = self->updated_at;
  return copy;
}

/**
 * bb_identity_state_get_key_id:
 * @self: a [class@BbSync.IdentityState]
 *
 * Gets the key ID of the identity the record belongs to, in lower-case hex: the key of
 * the record in the store. Never %NULL.
 *
 * Returns: the key ID
 *
 * Since: 0.1
 */
const char *
bb_identity_state_get_key_id (BbIdentityState *self)
{
  g_return_val_if_fail (BB_IS_IDENTITY_STATE (self), NULL);
  return self->key_id;
}

/**
 * bb_identity_state_set_key_id:
 * @self: a [class@BbSync.IdentityState]
 * @key_id: (nullable): the key ID
 *
 * Sets [property@BbSync.IdentityState:key-id].
 *
 * Since: 0.1
 */
void
bb_identity_state_set_key_id (BbIdentityState *self, const char *key_id)
{
  g_return_if_fail (BB_IS_IDENTITY_STATE (self));
  if (bb_store_replace_string (&self->key_id, key_id, FALSE))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_KEY_ID]);
}

/**
 * bb_identity_state_get_kind:
 * @self: a [class@BbSync.IdentityState]
 *
 * Gets the identity kind recorded at the last login, such as %BB_PROTOCOL_KIND_KEYSTORE.
 * Never %NULL.
 *
 * Returns: the identity kind, or an empty string
 *
 * Since: 0.1
 */
const char *
bb_identity_state_get_kind (BbIdentityState *self)
{
  g_return_val_if_fail (BB_IS_IDENTITY_STATE (self), NULL);
  return self->kind;
}

/**
 * bb_identity_state_set_kind:
 * @self: a [class@BbSync.IdentityState]
 * @kind: (nullable): the identity kind
 *
 * Sets [property@BbSync.IdentityState:kind].
 *
 * Since: 0.1
 */
void
bb_identity_state_set_kind (BbIdentityState *self, const char *kind)
{
  g_return_if_fail (BB_IS_IDENTITY_STATE (self));
  if (bb_store_replace_string (&self->kind, kind, FALSE))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_KIND]);
}

/**
 * bb_identity_state_get_access_token:
 * @self: a [class@BbSync.IdentityState]
 *
 * Gets the bearer token the engine keeps for the identity between runs. It is a secret:
 * never log it. Never %NULL.
 *
 * Returns: the bearer token, or an empty string when there is none
 *
 * Since: 0.1
 */
const char *
bb_identity_state_get_access_token (BbIdentityState *self)
{
  g_return_val_if_fail (BB_IS_IDENTITY_STATE (self), NULL);
  return self->access_token;
}

/**
 * bb_identity_state_set_access_token:
 * @self: a [class@BbSync.IdentityState]
 * @access_token: (nullable): the bearer token; %NULL or empty for none
 *
 * Sets [property@BbSync.IdentityState:access-token]. The previous token is wiped.
 *
 * Since: 0.1
 */
void
bb_identity_state_set_access_token (BbIdentityState *self, const char *access_token)
{
  g_return_if_fail (BB_IS_IDENTITY_STATE (self));
  if (bb_store_replace_string (&self->access_token, access_token, TRUE))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACCESS_TOKEN]);
}

/**
 * bb_identity_state_get_token_expiry:
 * @self: a [class@BbSync.IdentityState]
 *
 * Gets when the server said the token expires. The engine refreshes the token before
 * then.
 *
 * Returns: the token expiry in Unix microseconds, or 0 for none
 *
 * Since: 0.1
 */
gint64
bb_identity_state_get_token_expiry (BbIdentityState *self)
{
  g_return_val_if_fail (BB_IS_IDENTITY_STATE (self), 0);
  return self->token_expiry;
}

/**
 * bb_identity_state_set_token_expiry:
 * @self: a [class@BbSync.IdentityState]
 * @token_expiry: the token expiry in Unix microseconds, or 0 for none
 *
 * Sets [property@BbSync.IdentityState:token-expiry].
 *
 * Since: 0.1
 */
void
bb_identity_state_set_token_expiry (BbIdentityState *self, gint64 token_expiry)
{
  g_return_if_fail (BB_IS_IDENTITY_STATE (self));
  if (self->token_expiry == token_expiry)
    return;
  self->token_expiry = token_expiry;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOKEN_EXPIRY]);
}

/**
 * bb_identity_state_get_default_namespace_id:
 * @self: a [class@BbSync.IdentityState]
 *
 * Gets the cached ID of the identity's default namespace. Never %NULL.
 *
 * Returns: the default namespace ID, or an empty string while unknown
 *
 * Since: 0.1
 */
const char *
bb_identity_state_get_default_namespace_id (BbIdentityState *self)
{
  g_return_val_if_fail (BB_IS_IDENTITY_STATE (self), NULL);
  return self->default_namespace_id;
}

/**
 * bb_identity_state_set_default_namespace_id:
 * @self: a [class@BbSync.IdentityState]
 * @namespace_id: (nullable): the default namespace ID; %NULL or empty for unknown
 *
 * Sets [property@BbSync.IdentityState:default-namespace-id].
 *
 * Since: 0.1
 */
void
bb_identity_state_set_default_namespace_id (BbIdentityState *self, const char *namespace_id)
{
  g_return_if_fail (BB_IS_IDENTITY_STATE (self));
  if (bb_store_replace_string (&self->default_namespace_id, namespace_id, FALSE))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEFAULT_NAMESPACE_ID]);
}

/**
 * bb_identity_state_get_updated_at:
 * @self: a [class@BbSync.IdentityState]
 *
 * Gets when the record was last written locally.
 *
 * Returns: the time of the last local write in Unix microseconds, or 0
 *
 * Since: 0.1
 */
gint64
bb_identity_state_get_updated_at (BbIdentityState *self)
{
  g_return_val_if_fail (BB_IS_IDENTITY_STATE (self), 0);
  return self->updated_at;
}

/**
 * bb_identity_state_set_updated_at:
 * @self: a [class@BbSync.IdentityState]
 * @updated_at: a time in Unix microseconds, or 0 to let the store set it on save
 *
 * Sets [property@BbSync.IdentityState:updated-at].
 *
 * Since: 0.1
 */
void
bb_identity_state_set_updated_at (BbIdentityState *self, gint64 updated_at)
{
  g_return_if_fail (BB_IS_IDENTITY_STATE (self));
  if (self->updated_at == updated_at)
    return;
  self->updated_at = updated_at;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_UPDATED_AT]);
}
