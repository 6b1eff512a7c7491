/* bb-invite-secrets.c: invite secrets kept in the keyring (issue 10)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/*
 * The app that creates an invite keeps its secret so it can verify and approve the
 * join request later, also after a restart. The secret lives only in the keyring
 * (Secret Service, through libsecret), under the schema %BB_INVITE_SECRETS_SCHEMA_NAME:
 * never in the store file, never in a log or an error message. The item's secret is
 * the invite's URI (it carries the invite secret, the server origin and the expiry), so
 * a look-up gives back the whole [struct@BbSync.Invite]. Items are found by the inviting identity's
 * key ID, the namespace ID and the invite ID; `expires-at` lets expired invites be
 * purged without reading any secret.
 *
 * Like the identity and store-key items, the keyring is used from worker threads and
 * never unlocked: a locked keyring, a missing Secret Service or a malformed item is
 * %BB_SYNC_ERROR_KEYRING; only a keyring that answered and holds no such invite is
 * %BB_SYNC_ERROR_NOT_FOUND. Secret text is wiped before it is freed (libsecret's
 * SecretValue wipes its own buffer).
 */

#include "config.h"

#include <string.h>

#include "bb-i18n-private.h"
#include <libsecret/secret.h>

#include "bb-invite-secrets-private.h"

#include "bb-crypto-private.h"
#include "bb-error.h"

static const SecretSchema *
invite_secret_schema (void)
{
  static const SecretSchema schema = {
    BB_INVITE_SECRETS_SCHEMA_NAME,
    SECRET_SCHEMA_NONE,
    {
        { "key-id", SECRET_SCHEMA_ATTRIBUTE_STRING },
        { "namespace-id", SECRET_SCHEMA_ATTRIBUTE_STRING },
        { "invite-id", SECRET_SCHEMA_ATTRIBUTE_STRING },
        { "expires-at", SECRET_SCHEMA_ATTRIBUTE_STRING },
        { NULL, 0 },
    },
    0,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
    NULL,
  };
  return &schema;
}

typedef struct
{
  char *key_id;
  char *namespace_id; /* NULL for a purge */
  char *invite_id;    /* NULL for a purge */
  BbInvite *invite;   /* a store only */
  gint64 now;         /* a purge only */
} Op;

static void
op_free (Op *op)
{
  g_free (op->key_id);
  g_free (op->namespace_id);
  g_free (op->invite_id);
  g_clear_pointer (&op->invite, bb_invite_unref);
  g_free (op);
}

static GTask *
op_task_new (const char *key_id, const char *namespace_id, const char *invite_id,
             GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data,
             gpointer source_tag)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);
  Op *op = g_new0 (Op, 1);

  g_task_set_source_tag (task, source_tag);
  op->key_id = g_strdup (key_id);
  op->namespace_id = g_strdup (namespace_id);
  op->invite_id = g_strdup (invite_id);
  g_task_set_task_data (task, op, (GDestroyNotify)op_free);
  return task;
}

/* The attributes naming one invite (without `expires-at`, so a look-up or deletion does
 * not need the expiry). The table borrows the strings. */
static GHashTable *
invite_attributes (const Op *op)
{
  GHashTable *attributes = g_hash_table_new (g_str_hash, g_str_equal);

  g_hash_table_insert (attributes, (gpointer) "key-id", op->key_id);
  g_hash_table_insert (attributes, (gpointer) "namespace-id", op->namespace_id);
  g_hash_table_insert (attributes, (gpointer) "invite-id", op->invite_id);
  return attributes;
}

/* Turns a libsecret failure into the task's error: cancellation stays as it is,
 * anything else is %BB_SYNC_ERROR_KEYRING. Consumes @cause. */
static void
return_keyring_error (GTask *task, GError *cause, const char *what, const char *invite_id)
{
  if (cause != NULL && g_error_matches (cause, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, cause);
      return;
    }
  if (invite_id != NULL)
    g_task_return_new_error (task, BB_SYNC_ERROR, BB_SYNC_ERROR_KEYRING,
                             _ ("Keyring: could not %s the secret of invite %s: %s"), what,
                             invite_id, cause != NULL ? cause->message : _ ("no Secret Service"));
  else
    g_task_return_new_error (task, BB_SYNC_ERROR, BB_SYNC_ERROR_KEYRING,
                             _ ("Keyring: could not %s invite secrets: %s"), what,
                             cause != NULL ? cause->message : _ ("no Secret Service"));
  g_clear_error (&cause);
}

/* Deletes the item of the task's invite (@attributes from invite_attributes()); FALSE,
 * with the task's error returned, when the keyring failed. Finding nothing to delete is
 * no failure: deleting is idempotent. */
static gboolean
clear_invite (GTask *task, GHashTable *attributes, GCancellable *cancellable, const char *what)
{
  const Op *op = g_task_get_task_data (task);
  GError *local_error = NULL;

  /* FALSE without an error only means nothing was stored. */
  if (secret_password_clearv_sync (invite_secret_schema (), attributes, cancellable, &local_error)
      || local_error == NULL)
    return TRUE;
  return_keyring_error (task, local_error, what, op->invite_id);
  return FALSE;
}

/* ------------------------------------------------------------------------------------ */
/* Store                                                                                 */

static void
store_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  Op *op = task_data;
  g_autoptr (GHashTable) attributes = invite_attributes (op);
  g_autofree char *expires_at = NULL;
  g_autofree char *label = NULL;
  GError *local_error = NULL;
  char *uri;
  gboolean ok;

  /* Re-storing an invite replaces it, even if its expiry changed. */
  if (!clear_invite (task, attributes, cancellable, "replace"))
    return;

  expires_at = g_strdup_printf ("%" G_GINT64_FORMAT, bb_invite_get_expires_at (op->invite));
  g_hash_table_insert (attributes, (gpointer) "expires-at", expires_at);
  label = g_strdup_printf (_ ("bbsync invite secret %s"), op->invite_id);
  uri = bb_invite_to_uri (op->invite);
  ok = secret_password_storev_sync (invite_secret_schema (), attributes, SECRET_COLLECTION_DEFAULT,
                                    label, uri, cancellable, &local_error);
  bb_crypto_wipe (uri, strlen (uri));
  g_free (uri);
  if (!ok)
    {
      return_keyring_error (task, local_error, "store", op->invite_id);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

/*
 * bb_invite_secrets_store_async:
 * @key_id: the key ID of the identity that created the invite
 * @invite: the invite
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the secret is stored
 * @user_data: data for @callback
 *
 * Stores @invite (its URI, with the invite secret) in the default keyring, replacing
 * a stored invite with the same key ID, namespace ID and invite ID.
 */
void
bb_invite_secrets_store_async (const char *key_id, BbInvite *invite, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (key_id != NULL && key_id[0] != '\0');
  g_return_if_fail (invite != NULL);

  task = op_task_new (key_id, bb_invite_get_namespace_id (invite), bb_invite_get_invite_id (invite),
                      cancellable, callback, user_data, bb_invite_secrets_store_async);
  ((Op *)g_task_get_task_data (task))->invite = bb_invite_ref (invite);
  g_task_run_in_thread (task, store_thread);
}

/*
 * bb_invite_secrets_store_finish:
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Returns: %TRUE once stored; %FALSE with %BB_SYNC_ERROR_KEYRING when the keyring is
 *   locked or unreachable
 */
gboolean
bb_invite_secrets_store_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_async_result_is_tagged (result, bb_invite_secrets_store_async), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ------------------------------------------------------------------------------------ */
/* Look-up                                                                               */

static void
lookup_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  Op *op = task_data;
  g_autoptr (GHashTable) attributes = invite_attributes (op);
  g_autoptr (SecretValue) value = NULL;
  g_autoptr (BbInvite) invite = NULL;
  GError *local_error = NULL;
  GObject *retrievable;
  const char *text;
  GList *found;

  /* Never unlocks: a locked keyring must not look like a missing invite. */
  found = secret_password_searchv_sync (invite_secret_schema (), attributes, SECRET_SEARCH_ALL,
                                        cancellable, &local_error);
  if (local_error != NULL)
    {
      g_list_free_full (found, g_object_unref);
      return_keyring_error (task, local_error, "look up", op->invite_id);
      return;
    }
  if (found == NULL)
    {
      g_task_return_new_error (task, BB_SYNC_ERROR, BB_SYNC_ERROR_NOT_FOUND,
                               _ ("The keyring holds no secret for invite %s"), op->invite_id);
      return;
    }

  retrievable = found->data;
  value = secret_retrievable_retrieve_secret_sync (SECRET_RETRIEVABLE (retrievable), cancellable,
                                                   &local_error);
  if (value == NULL)
    {
      /* The item's cached Locked flag may lag behind; it only picks the message. */
      gboolean locked
          = SECRET_IS_ITEM (retrievable) && secret_item_get_locked (SECRET_ITEM (retrievable));

      g_list_free_full (found, g_object_unref);
      if (locked
          && (local_error == NULL
              || !g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED)))
        {
          g_clear_error (&local_error);
          g_task_return_new_error (
              task, BB_SYNC_ERROR, BB_SYNC_ERROR_KEYRING,
              _ ("Keyring: the keyring holding the secret of invite %s is locked; unlock it "
                 "and try again"),
              op->invite_id);
        }
      else
        return_keyring_error (task, local_error, "read", op->invite_id);
      return;
    }
  g_list_free_full (found, g_object_unref);

  /* The parse error is dropped: it could quote a part of the secret. */
  text = secret_value_get_text (value);
  if (text != NULL)
    invite = bb_invite_new_from_uri (text, NULL);
  if (invite == NULL || g_strcmp0 (bb_invite_get_namespace_id (invite), op->namespace_id) != 0
      || g_strcmp0 (bb_invite_get_invite_id (invite), op->invite_id) != 0)
    {
      g_task_return_new_error (task, BB_SYNC_ERROR, BB_SYNC_ERROR_KEYRING,
                               _ ("Keyring: the stored secret of invite %s is malformed"),
                               op->invite_id);
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&invite), (GDestroyNotify)bb_invite_unref);
}

/*
 * bb_invite_secrets_lookup_async:
 * @key_id: the key ID of the identity that created the invite
 * @namespace_id: the namespace the invite is for
 * @invite_id: the invite ID
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called with the invite
 * @user_data: data for @callback
 *
 * Reads a stored invite back from the keyring, for example to verify and approve a
 * join request with bb_invite_verify_join_request(). An expired invite is returned as
 * well: the verification checks the expiry.
 */
void
bb_invite_secrets_lookup_async (const char *key_id, const char *namespace_id, const char *invite_id,
                                GCancellable *cancellable, GAsyncReadyCallback callback,
                                gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (key_id != NULL && key_id[0] != '\0');
  g_return_if_fail (namespace_id != NULL);
  g_return_if_fail (invite_id != NULL);

  task = op_task_new (key_id, namespace_id, invite_id, cancellable, callback, user_data,
                      bb_invite_secrets_lookup_async);
  g_task_run_in_thread (task, lookup_thread);
}

/*
 * bb_invite_secrets_lookup_finish:
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Returns: (transfer full): the invite; %NULL with %BB_SYNC_ERROR_NOT_FOUND when the
 *   keyring holds no such invite, or with %BB_SYNC_ERROR_KEYRING when the keyring is
 *   locked or unreachable or the stored item is malformed
 */
BbInvite *
bb_invite_secrets_lookup_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, bb_invite_secrets_lookup_async), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ------------------------------------------------------------------------------------ */
/* Deletion                                                                              */

static void
delete_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  Op *op = task_data;
  g_autoptr (GHashTable) attributes = invite_attributes (op);

  if (clear_invite (task, attributes, cancellable, "delete"))
    g_task_return_boolean (task, TRUE);
}

/*
 * bb_invite_secrets_delete_async:
 * @key_id: the key ID of the identity that created the invite
 * @namespace_id: the namespace the invite is for
 * @invite_id: the invite ID
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the secret is deleted
 * @user_data: data for @callback
 *
 * Deletes a stored invite once it is revoked, used up or expired. Deleting an invite
 * that is not stored is not an error.
 */
void
bb_invite_secrets_delete_async (const char *key_id, const char *namespace_id, const char *invite_id,
                                GCancellable *cancellable, GAsyncReadyCallback callback,
                                gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (key_id != NULL && key_id[0] != '\0');
  g_return_if_fail (namespace_id != NULL);
  g_return_if_fail (invite_id != NULL);

  task = op_task_new (key_id, namespace_id, invite_id, cancellable, callback, user_data,
                      bb_invite_secrets_delete_async);
  g_task_run_in_thread (task, delete_thread);
}

/*
 * bb_invite_secrets_delete_finish:
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Returns: %TRUE once nothing is stored for the invite; %FALSE with
 *   %BB_SYNC_ERROR_KEYRING when the keyring is locked or unreachable
 */
gboolean
bb_invite_secrets_delete_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_async_result_is_tagged (result, bb_invite_secrets_delete_async), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ------------------------------------------------------------------------------------ */
/* Purge                                                                                 */

static void
purge_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  Op *op = task_data;
  g_autoptr (GHashTable) by_key = g_hash_table_new (g_str_hash, g_str_equal);
  GError *local_error = NULL;
  GList *found;
  gssize deleted = 0;

  /* Reads attributes only, never a secret. */
  g_hash_table_insert (by_key, (gpointer) "key-id", op->key_id);
  found = secret_password_searchv_sync (invite_secret_schema (), by_key, SECRET_SEARCH_ALL,
                                        cancellable, &local_error);
  for (GList *l = found; l != NULL && local_error == NULL; l = l->next)
    {
      g_autoptr (GHashTable) attributes
          = secret_retrievable_get_attributes (SECRET_RETRIEVABLE (l->data));
      g_autoptr (GHashTable) exact = g_hash_table_new (g_str_hash, g_str_equal);
      const char *expires_at = g_hash_table_lookup (attributes, "expires-at");
      gint64 expiry;

      /* An item without a readable expiry was not written here: leave it alone. */
      if (expires_at == NULL
          || !g_ascii_string_to_signed (expires_at, 10, G_MININT64, G_MAXINT64, &expiry, NULL)
          || expiry > op->now)
        continue;
      /* Only this schema's attributes: the service may add its own (xdg:schema). */
      g_hash_table_insert (exact, (gpointer) "key-id", op->key_id);
      g_hash_table_insert (exact, (gpointer) "namespace-id",
                           g_hash_table_lookup (attributes, "namespace-id"));
      g_hash_table_insert (exact, (gpointer) "invite-id",
                           g_hash_table_lookup (attributes, "invite-id"));
      g_hash_table_insert (exact, (gpointer) "expires-at", (gpointer)expires_at);
      if (g_hash_table_lookup (exact, "namespace-id") == NULL
          || g_hash_table_lookup (exact, "invite-id") == NULL)
        continue;
      if (secret_password_clearv_sync (invite_secret_schema (), exact, cancellable, &local_error))
        deleted++;
    }
  g_list_free_full (found, g_object_unref);
  if (local_error != NULL)
    {
      return_keyring_error (task, local_error, "purge expired", NULL);
      return;
    }
  g_task_return_int (task, deleted);
}

/*
 * bb_invite_secrets_purge_expired_async:
 * @key_id: the key ID of the identity whose invites to purge
 * @now: the current time, Unix seconds
 * @cancellable: (nullable): a [class@Gio.Cancellable]
 * @callback: (scope async): called when the purge is done
 * @user_data: data for @callback
 *
 * Deletes the stored invites of @key_id that expired at or before @now.
 */
void
bb_invite_secrets_purge_expired_async (const char *key_id, gint64 now, GCancellable *cancellable,
                                       GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (key_id != NULL && key_id[0] != '\0');

  task = op_task_new (key_id, NULL, NULL, cancellable, callback, user_data,
                      bb_invite_secrets_purge_expired_async);
  ((Op *)g_task_get_task_data (task))->now = now;
  g_task_run_in_thread (task, purge_thread);
}

/*
 * bb_invite_secrets_purge_expired_finish:
 * @result: the [iface@Gio.AsyncResult]
 * @error: return location for a [struct@GLib.Error]
 *
 * Returns: the number of invites deleted; 0 with %BB_SYNC_ERROR_KEYRING set when the
 *   keyring is locked or unreachable (invites deleted before the failure stay deleted)
 */
guint
bb_invite_secrets_purge_expired_finish (GAsyncResult *result, GError **error)
{
  gssize deleted;

  g_return_val_if_fail (g_task_is_valid (result, NULL), 0);
  g_return_val_if_fail (g_async_result_is_tagged (result, bb_invite_secrets_purge_expired_async),
                        0);

  deleted = g_task_propagate_int (G_TASK (result), error);
  return deleted > 0 ? (guint)deleted : 0;
}
