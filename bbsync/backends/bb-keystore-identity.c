/* bb-keystore-identity.c: the software identity whose keys live in the user's keyring
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-keystore-identity.h"

#include "bb-i18n-private.h"
#include <libsecret/secret.h>
#include <string.h>

#include "bb-crypto-private.h"
#include "bb-error.h"
#include "bb-identity.h"
#include "bb-protocol.h"

/**
 * BbKeystoreIdentity:
 *
 * The software [iface@BbSync.Identity] for real users: an Ed25519 auth key and an X25519 wrap
 * key generated on first use and kept in the user's keyring through libsecret.
 *
 * [func@BbSync.KeystoreIdentity.new_async] looks the keys up under the libsecret schema
 * `org.bbsync.Identity` and the app-chosen account name. If the keyring holds none,
 * it generates fresh keys and stores them; if the keyring is locked, unreachable or
 * holds a malformed secret, it fails with %BB_SYNC_ERROR_KEYRING and never replaces
 * the stored identity. Only the public keys stay in memory: each signature or unwrap
 * loads the private keys from the keyring in a worker thread and wipes them right
 * after.
 *
 * Inside Flatpak, libsecret stores the secret in the app's own encrypted file through
 * the Secret portal (libsecret 0.20 or later); outside, it uses the Secret Service
 * (GNOME Keyring, KeePassXC, ...). See the identities guide for the schema.
 *
 * Since: 0.1
 */

/* The stored secret: standard base64 of 0x01 || Ed25519 seed (32) || X25519 private (32). */
#define SECRET_VERSION 0x01
#define SECRET_SIZE 65

struct _BbKeystoreIdentity
{
  GObject parent_instance;

  char *account;
  gboolean created;
  gboolean initialized;
  GBytes *auth_public_key;
  GBytes *wrap_public_key;
  char *key_id;
};

enum
{
  PROP_0,
  PROP_ACCOUNT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void bb_keystore_identity_initable_iface_init (GInitableIface *iface);
static void bb_keystore_identity_identity_iface_init (BbIdentityInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (
    BbKeystoreIdentity, bb_keystore_identity, G_TYPE_OBJECT,
    G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE, bb_keystore_identity_initable_iface_init)
        G_IMPLEMENT_INTERFACE (G_TYPE_ASYNC_INITABLE, NULL)
            G_IMPLEMENT_INTERFACE (BB_TYPE_IDENTITY, bb_keystore_identity_identity_iface_init))

static const SecretSchema *
identity_schema (void)
{
  static const SecretSchema schema = {
    BB_KEYSTORE_IDENTITY_SCHEMA_NAME,
    SECRET_SCHEMA_NONE,
    {
        { "account", SECRET_SCHEMA_ATTRIBUTE_STRING },
        { "version", SECRET_SCHEMA_ATTRIBUTE_INTEGER },
        { NULL, 0 },
    },
  };

  return &schema;
}

static GHashTable *
identity_attributes (const char *account)
{
  GHashTable *attributes = g_hash_table_new (g_str_hash, g_str_equal);

  g_hash_table_insert (attributes, (gpointer) "account", (gpointer)account);
  g_hash_table_insert (attributes, (gpointer) "version", (gpointer) "1");
  return attributes;
}

typedef struct
{
  guint8 seed[32];      /* Ed25519 */
  guint8 wrap_priv[32]; /* X25519 */
} PrivateKeys;

static void
private_keys_wipe (PrivateKeys *keys)
{
  bb_crypto_wipe (keys, sizeof *keys);
}

static void
keyring_error (GError **error, GError *cause, const char *account, const char *what)
{
  g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_KEYRING,
               _ ("Keyring: could not %s the identity “%s”: %s"), what, account,
               cause != NULL ? cause->message : _ ("no Secret Service"));
}

/* Parses the stored secret text into @keys. */
static gboolean
parse_secret (const char *text, const char *account, PrivateKeys *keys, GError **error)
{
  g_autofree char *copy = g_strdup (text);
  g_autofree char *again = NULL;
  gsize len = 0;
  gboolean ok;

  g_base64_decode_inplace (copy, &len);
  ok = len == SECRET_SIZE && (guint8)copy[0] == SECRET_VERSION;
  if (ok)
    {
      /* Canonical only: a secret that does not re-encode identically was not written
       * by us. */
      again = g_base64_encode ((const guchar *)copy, len);
      ok = strcmp (again, text) == 0;
      bb_crypto_wipe (again, strlen (again));
    }
  if (ok)
    {
      memcpy (keys->seed, copy + 1, 32);
      memcpy (keys->wrap_priv, copy + 33, 32);
    }
  bb_crypto_wipe (copy, strlen (text));
  if (!ok)
    g_set_error (
        error, BB_SYNC_ERROR, BB_SYNC_ERROR_KEYRING,
        _ ("Keyring: the stored secret of the identity “%s” is malformed or of an unknown version"),
        account);
  return ok;
}

/* Loads the private keys of @account. Returns FALSE with @error on failure, and
 * FALSE without an error when the keyring holds no identity for @account. Never
 * unlocks anything: a locked keyring is an error, so a dismissed unlock prompt can
 * never look like an empty keyring. Blocking: call from a worker thread. */
static gboolean
load_private_keys (const char *account, PrivateKeys *keys, GCancellable *cancellable,
                   GError **error)
{
  g_autoptr (GHashTable) attributes = identity_attributes (account);
  g_autoptr (GError) local_error = NULL;
  g_autoptr (SecretValue) value = NULL;
  GList *found;
  GObject *retrievable;
  const char *text;
  gboolean ok;

  found = secret_password_searchv_sync (identity_schema (), attributes, SECRET_SEARCH_ALL,
                                        cancellable, &local_error);
  if (local_error != NULL)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        keyring_error (error, local_error, account, "look up");
      g_list_free_full (found, g_object_unref);
      return FALSE;
    }
  if (found == NULL)
    return FALSE;

  /* Reading the secret of a locked item fails without prompting; the item's cached
   * Locked flag may lag behind, so it only picks the message. */
  retrievable = found->data;
  value = secret_retrievable_retrieve_secret_sync (SECRET_RETRIEVABLE (retrievable), cancellable,
                                                   &local_error);
  if (value == NULL)
    {
      if (local_error != NULL && g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_propagate_error (error, g_steal_pointer (&local_error));
      else if (SECRET_IS_ITEM (retrievable) && secret_item_get_locked (SECRET_ITEM (retrievable)))
        g_set_error (
            error, BB_SYNC_ERROR, BB_SYNC_ERROR_KEYRING,
            _ ("Keyring: the keyring holding the identity “%s” is locked; unlock it and try again"),
            account);
      else
        keyring_error (error, local_error, account, "read");
      g_list_free_full (found, g_object_unref);
      return FALSE;
    }
  g_list_free_full (found, g_object_unref);

  text = secret_value_get_text (value);
  if (text == NULL)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_KEYRING,
                   _ ("Keyring: the stored secret of the identity “%s” is not text"), account);
      return FALSE;
    }
  ok = parse_secret (text, account, keys, error);
  /* SecretValue wipes its buffer when freed (libsecret keeps secrets in secure memory). */
  return ok;
}

static gboolean
store_private_keys (const char *account, PrivateKeys *keys, GCancellable *cancellable,
                    GError **error)
{
  g_autoptr (GHashTable) attributes = identity_attributes (account);
  g_autoptr (GError) local_error = NULL;
  g_autofree char *label = NULL;
  guint8 blob[SECRET_SIZE];
  char *text;
  gboolean ok;

  blob[0] = SECRET_VERSION;
  memcpy (blob + 1, keys->seed, 32);
  memcpy (blob + 33, keys->wrap_priv, 32);
  text = g_base64_encode (blob, sizeof blob);
  bb_crypto_wipe (blob, sizeof blob);

  label = g_strdup_printf (_ ("BitBoxSync identity “%s”"), account);
  ok = secret_password_storev_sync (identity_schema (), attributes, SECRET_COLLECTION_DEFAULT,
                                    label, text, cancellable, &local_error);
  bb_crypto_wipe (text, strlen (text));
  g_free (text);
  if (!ok)
    {
      if (local_error != NULL && g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_propagate_error (error, g_steal_pointer (&local_error));
      else
        keyring_error (error, local_error, account, "store");
    }
  return ok;
}

static void
set_public_keys (BbKeystoreIdentity *self, const PrivateKeys *keys)
{
  guint8 auth_pub[32];
  guint8 wrap_pub[32];

  bb_crypto_ed25519_public_key (keys->seed, auth_pub);
  bb_crypto_x25519_public_key (keys->wrap_priv, wrap_pub);
  g_clear_pointer (&self->auth_public_key, g_bytes_unref);
  g_clear_pointer (&self->wrap_public_key, g_bytes_unref);
  g_clear_pointer (&self->key_id, g_free);
  self->auth_public_key = g_bytes_new (auth_pub, sizeof auth_pub);
  self->wrap_public_key = g_bytes_new (wrap_pub, sizeof wrap_pub);
  self->key_id = bb_protocol_key_id (self->auth_public_key);
}

static gboolean
bb_keystore_identity_initable_init (GInitable *initable, GCancellable *cancellable, GError **error)
{
  BbKeystoreIdentity *self = BB_KEYSTORE_IDENTITY (initable);
  PrivateKeys keys;
  GError *local_error = NULL;
  gboolean ok;

  if (self->initialized)
    return TRUE;
  if (self->account == NULL || self->account[0] == '\0')
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("account: an account name is required"));
      return FALSE;
    }

  ok = load_private_keys (self->account, &keys, cancellable, &local_error);
  if (!ok && local_error != NULL)
    {
      g_propagate_error (error, local_error);
      return FALSE;
    }
  if (!ok)
    {
      /* Only a lookup that succeeded and found nothing gets here. */
      bb_crypto_random_bytes (keys.seed, sizeof keys.seed);
      bb_crypto_random_bytes (keys.wrap_priv, sizeof keys.wrap_priv);
      ok = store_private_keys (self->account, &keys, cancellable, error);
      private_keys_wipe (&keys);
      if (!ok)
        return FALSE;
      /* Read back what the keyring holds: if another process created the identity at
       * the same moment, both end up with the one that was stored last. */
      if (!load_private_keys (self->account, &keys, cancellable, &local_error))
        {
          if (local_error == NULL)
            local_error = g_error_new (
                BB_SYNC_ERROR, BB_SYNC_ERROR_KEYRING,
                _ ("Keyring: the identity “%s” vanished right after it was stored"), self->account);
          g_propagate_error (error, local_error);
          return FALSE;
        }
      self->created = TRUE;
    }

  set_public_keys (self, &keys);
  private_keys_wipe (&keys);
  self->initialized = TRUE;
  return TRUE;
}

static void
bb_keystore_identity_initable_iface_init (GInitableIface *iface)
{
  iface->init = bb_keystore_identity_initable_init;
}

/* ------------------------------------------------------------------------------------ */
/* BbIdentity                                                                            */

static char *
bb_keystore_identity_get_kind (BbIdentity *identity)
{
  return g_strdup (BB_PROTOCOL_KIND_KEYSTORE);
}

static GBytes *
bb_keystore_identity_get_auth_public_key (BbIdentity *identity)
{
  BbKeystoreIdentity *self = BB_KEYSTORE_IDENTITY (identity);

  return self->auth_public_key != NULL ? g_bytes_ref (self->auth_public_key) : NULL;
}

static GBytes *
bb_keystore_identity_get_wrap_public_key (BbIdentity *identity)
{
  BbKeystoreIdentity *self = BB_KEYSTORE_IDENTITY (identity);

  return self->wrap_public_key != NULL ? g_bytes_ref (self->wrap_public_key) : NULL;
}

static char *
bb_keystore_identity_get_key_id (BbIdentity *identity)
{
  BbKeystoreIdentity *self = BB_KEYSTORE_IDENTITY (identity);

  return g_strdup (self->key_id);
}

typedef struct
{
  GBytes *payload;     /* sign */
  char *namespace_id;  /* unwrap */
  GBytes *wrapped_dek; /* unwrap */
} KeyOp;

static void
key_op_free (KeyOp *op)
{
  g_clear_pointer (&op->payload, g_bytes_unref);
  g_free (op->namespace_id);
  g_clear_pointer (&op->wrapped_dek, g_bytes_unref);
  g_free (op);
}

/* Loads the keys for one operation and checks they are still the ones this object
 * was created with. */
static gboolean
load_keys_for_operation (BbKeystoreIdentity *self, PrivateKeys *keys, GCancellable *cancellable,
                         GError **error)
{
  GError *local_error = NULL;
  guint8 auth_pub[32];

  if (!self->initialized)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_KEYRING,
                   _ ("Keyring: the identity is not initialized"));
      return FALSE;
    }
  if (!load_private_keys (self->account, keys, cancellable, &local_error))
    {
      if (local_error == NULL)
        local_error = g_error_new (BB_SYNC_ERROR, BB_SYNC_ERROR_KEYRING,
                                   _ ("Keyring: the identity “%s” is no longer in the keyring"),
                                   self->account);
      g_propagate_error (error, local_error);
      return FALSE;
    }
  bb_crypto_ed25519_public_key (keys->seed, auth_pub);
  if (!bb_crypto_equal (auth_pub, g_bytes_get_data (self->auth_public_key, NULL), 32))
    {
      private_keys_wipe (keys);
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_KEYRING,
                   _ ("Keyring: the identity “%s” was replaced in the keyring"), self->account);
      return FALSE;
    }
  return TRUE;
}

static void
sign_payload_thread (GTask *task, gpointer source_object, gpointer task_data,
                     GCancellable *cancellable)
{
  BbKeystoreIdentity *self = source_object;
  KeyOp *op = task_data;
  PrivateKeys keys;
  guint8 signature[64];
  GError *error = NULL;
  gsize len;
  const guint8 *data;

  if (!load_keys_for_operation (self, &keys, cancellable, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  data = g_bytes_get_data (op->payload, &len);
  bb_crypto_ed25519_sign (keys.seed, g_bytes_get_data (self->auth_public_key, NULL), data, len,
                          signature);
  private_keys_wipe (&keys);
  g_task_return_pointer (task, g_bytes_new (signature, sizeof signature),
                         (GDestroyNotify)g_bytes_unref);
}

static void
bb_keystore_identity_sign_payload_async (BbIdentity *identity, GBytes *payload,
                                         GCancellable *cancellable, GAsyncReadyCallback callback,
                                         gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (identity, cancellable, callback, user_data);
  KeyOp *op = g_new0 (KeyOp, 1);

  g_task_set_source_tag (task, bb_keystore_identity_sign_payload_async);
  op->payload = g_bytes_ref (payload);
  g_task_set_task_data (task, op, (GDestroyNotify)key_op_free);
  g_task_run_in_thread (task, sign_payload_thread);
}

static void
unwrap_dek_thread (GTask *task, gpointer source_object, gpointer task_data,
                   GCancellable *cancellable)
{
  BbKeystoreIdentity *self = source_object;
  KeyOp *op = task_data;
  PrivateKeys keys;
  g_autoptr (GBytes) wrap_priv = NULL;
  GError *error = NULL;
  GBytes *dek;

  if (!load_keys_for_operation (self, &keys, cancellable, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  wrap_priv = bb_crypto_secret_bytes_new (keys.wrap_priv, sizeof keys.wrap_priv);
  private_keys_wipe (&keys);
  dek = bb_protocol_unwrap_dek (wrap_priv, op->namespace_id, op->wrapped_dek, &error);
  if (dek == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, dek, (GDestroyNotify)g_bytes_unref);
}

static void
bb_keystore_identity_unwrap_dek_async (BbIdentity *identity, const char *namespace_id,
                                       GBytes *wrapped_dek, GCancellable *cancellable,
                                       GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (identity, cancellable, callback, user_data);
  KeyOp *op = g_new0 (KeyOp, 1);

  g_task_set_source_tag (task, bb_keystore_identity_unwrap_dek_async);
  op->namespace_id = g_strdup (namespace_id);
  op->wrapped_dek = g_bytes_ref (wrapped_dek);
  g_task_set_task_data (task, op, (GDestroyNotify)key_op_free);
  g_task_run_in_thread (task, unwrap_dek_thread);
}

static GBytes *
bb_keystore_identity_task_finish (BbIdentity *identity, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, identity), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
bb_keystore_identity_identity_iface_init (BbIdentityInterface *iface)
{
  iface->get_kind = bb_keystore_identity_get_kind;
  iface->get_auth_public_key = bb_keystore_identity_get_auth_public_key;
  iface->get_wrap_public_key = bb_keystore_identity_get_wrap_public_key;
  iface->get_key_id = bb_keystore_identity_get_key_id;
  iface->sign_payload_async = bb_keystore_identity_sign_payload_async;
  iface->sign_payload_finish = bb_keystore_identity_task_finish;
  iface->unwrap_dek_async = bb_keystore_identity_unwrap_dek_async;
  iface->unwrap_dek_finish = bb_keystore_identity_task_finish;
  /* The intent-specific signing operations come from the interface defaults, which
   * build each intent and hand it to sign_payload. A software keystore has no
   * attestation: attest stays unsupported. */
}

/* ------------------------------------------------------------------------------------ */
/* Object                                                                                */

static void
bb_keystore_identity_finalize (GObject *object)
{
  BbKeystoreIdentity *self = BB_KEYSTORE_IDENTITY (object);

  g_free (self->account);
  g_clear_pointer (&self->auth_public_key, g_bytes_unref);
  g_clear_pointer (&self->wrap_public_key, g_bytes_unref);
  g_free (self->key_id);

  G_OBJECT_CLASS (bb_keystore_identity_parent_class)->finalize (object);
}

static void
bb_keystore_identity_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  BbKeystoreIdentity *self = BB_KEYSTORE_IDENTITY (object);

  switch (prop_id)
    {
      case PROP_ACCOUNT:
        g_value_set_string (value, self->account);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bb_keystore_identity_set_property (GObject *object, guint prop_id, const GValue *value,
                                   GParamSpec *pspec)
{
  BbKeystoreIdentity *self = BB_KEYSTORE_IDENTITY (object);

  switch (prop_id)
    {
      case PROP_ACCOUNT:
        g_free (self->account);
        self->account = g_value_dup_string (value);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
bb_keystore_identity_class_init (BbKeystoreIdentityClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = bb_keystore_identity_finalize;
  object_class->get_property = bb_keystore_identity_get_property;
  object_class->set_property = bb_keystore_identity_set_property;

  /**
   * BbKeystoreIdentity:account:
   *
   * The app-chosen account name the keys are stored under (the `account` attribute
   * of the `org.bbsync.Identity` schema), for example the app ID.
   *
   * Since: 0.1
   */
  properties[PROP_ACCOUNT]
      = g_param_spec_string ("account", NULL, NULL, NULL,
                             G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
bb_keystore_identity_init (BbKeystoreIdentity *self)
{
}

/**
 * bb_keystore_identity_new_async:
 * @account: the account name to store the keys under, for example the app ID
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the identity is ready
 * @user_data: data for @callback
 *
 * Loads the identity of @account from the keyring, creating and storing a fresh one
 * if the keyring holds none, without blocking the main loop.
 *
 * Since: 0.1
 */
void
bb_keystore_identity_new_async (const char *account, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (account != NULL);

  g_async_initable_new_async (BB_TYPE_KEYSTORE_IDENTITY, G_PRIORITY_DEFAULT, cancellable, callback,
                              user_data, "account", account, NULL);
}

/**
 * bb_keystore_identity_new_finish:
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [func@BbSync.KeystoreIdentity.new_async].
 *
 * Returns: (transfer full): the identity, or %NULL with %BB_SYNC_ERROR_KEYRING when the
 *   keyring is locked or unreachable
 *
 * Since: 0.1
 */
BbKeystoreIdentity *
bb_keystore_identity_new_finish (GAsyncResult *result, GError **error)
{
  g_autoptr (GObject) source = g_async_result_get_source_object (result);
  GObject *object;

  object = g_async_initable_new_finish (G_ASYNC_INITABLE (source), result, error);
  return object != NULL ? BB_KEYSTORE_IDENTITY (object) : NULL;
}

/**
 * bb_keystore_identity_new_sync:
 * @account: the account name to store the keys under, for example the app ID
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @error: return location for a [struct@GLib.Error]
 *
 * Like [func@BbSync.KeystoreIdentity.new_async], but blocks on the keyring (use it in command
 * line tools and worker threads, not in a GUI's main thread).
 *
 * Returns: (transfer full): the identity, or %NULL with %BB_SYNC_ERROR_KEYRING when the
 *   keyring is locked or unreachable
 *
 * Since: 0.1
 */
BbKeystoreIdentity *
bb_keystore_identity_new_sync (const char *account, GCancellable *cancellable, GError **error)
{
  g_return_val_if_fail (account != NULL, NULL);

  return g_initable_new (BB_TYPE_KEYSTORE_IDENTITY, cancellable, error, "account", account, NULL);
}

/**
 * bb_keystore_identity_get_account:
 * @self: a [class@BbSync.KeystoreIdentity]
 *
 * Gets the account name the identity's keys are stored under in the keyring, as given at
 * construction.
 *
 * Returns: the account name
 *
 * Since: 0.1
 */
const char *
bb_keystore_identity_get_account (BbKeystoreIdentity *self)
{
  g_return_val_if_fail (BB_IS_KEYSTORE_IDENTITY (self), NULL);

  return self->account;
}

/**
 * bb_keystore_identity_get_created:
 * @self: a [class@BbSync.KeystoreIdentity]
 *
 * Gets whether constructing the identity generated new keys, because the keyring held
 * none for the account, rather than loading stored ones. New keys are a new identity:
 * the server knows nothing of it until its first login.
 *
 * Returns: %TRUE if this object generated the keys (the keyring held none), %FALSE if
 *   it loaded stored ones
 *
 * Since: 0.1
 */
gboolean
bb_keystore_identity_get_created (BbKeystoreIdentity *self)
{
  g_return_val_if_fail (BB_IS_KEYSTORE_IDENTITY (self), FALSE);

  return self->created;
}

static void
delete_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  BbKeystoreIdentity *self = source_object;
  g_autoptr (GHashTable) attributes = identity_attributes (self->account);
  g_autoptr (GError) local_error = NULL;
  GError *error = NULL;

  /* FALSE without an error only means nothing was stored: deleting is idempotent. */
  if (!secret_password_clearv_sync (identity_schema (), attributes, cancellable, &local_error)
      && local_error != NULL)
    {
      keyring_error (&error, local_error, self->account, "delete");
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

/**
 * bb_keystore_identity_delete_async:
 * @self: a [class@BbSync.KeystoreIdentity]
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the keys are deleted
 * @user_data: data for @callback
 *
 * Deletes the identity's private keys from the keyring. This cannot be undone: the
 * account's data on the server can then only be reached by other members' identities.
 * Deleting an identity that is no longer stored is not an error.
 *
 * Since: 0.1
 */
void
bb_keystore_identity_delete_async (BbKeystoreIdentity *self, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (BB_IS_KEYSTORE_IDENTITY (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, bb_keystore_identity_delete_async);
  g_task_run_in_thread (task, delete_thread);
}

/**
 * bb_keystore_identity_delete_finish:
 * @self: a [class@BbSync.KeystoreIdentity]
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Finishes [method@BbSync.KeystoreIdentity.delete_async].
 *
 * Returns: %TRUE if the keys are gone from the keyring
 *
 * Since: 0.1
 */
gboolean
bb_keystore_identity_delete_finish (BbKeystoreIdentity *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (BB_IS_KEYSTORE_IDENTITY (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (
      g_task_get_source_tag (G_TASK (result)) == bb_keystore_identity_delete_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
