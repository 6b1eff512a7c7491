/* bb-invite.c: a shared-namespace invite token (the bitboxsync://join-namespace URI)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "bb-invite.h"
#include "bb-invite-private.h"
#include "bb-protocol.h"
#include "bb-protocol-private.h"
#include "bb-crypto-private.h"
#include "bb-error.h"

#include "bb-i18n-private.h"
#include <string.h>

/**
 * BbInvite:
 *
 * An invite to a shared namespace: what travels, usually as a QR code, from a member to
 * a device that wants to join.
 *
 * An invite names the server (its canonical origin), the namespace, the invite ID and
 * the expiry, and carries the 32-byte invite secret. The secret goes only in the URI
 * fragment and never to the server; it has no public getter and is wiped from memory
 * when the last reference is dropped. Treat the URI itself as a secret.
 *
 * The text form is
 * `bitboxsync://join-namespace?v=1&s=<host[:port]>&n=<namespace>&i=<invite>&e=<expiry>#k=<secret>`;
 * see [ctor@BbSync.Invite.new_from_uri] for the parsing rules and the protocol guide for the
 * compatibility details.
 *
 * Since: 0.1
 */

#define URI_PREFIX "bitboxsync:"
#define URI_SCHEME "bitboxsync"
#define URI_HOST "join-namespace"

struct _BbInvite
{
  gatomicrefcount ref_count;
  char *server_origin; /* canonical */
  char *namespace_id;
  char *invite_id;
  gint64 expires_at;
  GBytes *secret; /* wiped on free */
};

G_DEFINE_BOXED_TYPE (BbInvite, bb_invite, bb_invite_ref, bb_invite_unref)

/* Every constructor funnels through here, so an invite is always valid. Takes nothing. */
static BbInvite *
invite_new_validated (const char *server_origin, const char *namespace_id, const char *invite_id,
                      gint64 expires_at, GBytes *invite_secret, GError **error)
{
  g_autofree char *canonical = NULL;
  BbInvite *self;

  canonical = bb_protocol_canonical_origin (server_origin, error);
  if (canonical == NULL)
    return NULL;
  if (!bb_protocol_validate_lower_hex (namespace_id, BB_PROTOCOL_NAMESPACE_ID_SIZE, "namespaceId",
                                       error)
      || !bb_protocol_validate_lower_hex (invite_id, BB_PROTOCOL_INVITE_ID_SIZE, "inviteId", error))
    return NULL;
  if (expires_at <= 0)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("expiresAt: invite expiry must be positive"));
      return NULL;
    }
  if (g_bytes_get_size (invite_secret) != BB_PROTOCOL_INVITE_SECRET_SIZE)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("inviteSecret: must be %d bytes"), BB_PROTOCOL_INVITE_SECRET_SIZE);
      return NULL;
    }

  self = g_new0 (BbInvite, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->server_origin = g_steal_pointer (&canonical);
  self->namespace_id = g_strdup (namespace_id);
  self->invite_id = g_strdup (invite_id);
  self->expires_at = expires_at;
  self->secret = bb_crypto_secret_bytes_new (g_bytes_get_data (invite_secret, NULL),
                                             BB_PROTOCOL_INVITE_SECRET_SIZE);
  return self;
}

/**
 * bb_invite_new:
 * @server_origin: the server origin (canonicalised, so `https://sync.example:443`
 *   becomes `https://sync.example`)
 * @namespace_id: the namespace ID (lower-case hex, 16 bytes)
 * @invite_id: the invite ID (lower-case hex, 16 bytes)
 * @expires_at: the expiry in Unix seconds, greater than 0
 * @invite_secret: the 32-byte invite secret (copied)
 * @error: return location for a [struct@GLib.Error]
 *
 * Creates an invite from its parts, validating every one of them.
 *
 * Returns: (transfer full): a new invite, or %NULL with %BB_SYNC_ERROR_INVALID_INPUT
 *
 * Since: 0.1
 */
BbInvite *
bb_invite_new (const char *server_origin, const char *namespace_id, const char *invite_id,
               gint64 expires_at, GBytes *invite_secret, GError **error)
{
  g_return_val_if_fail (server_origin != NULL, NULL);
  g_return_val_if_fail (namespace_id != NULL, NULL);
  g_return_val_if_fail (invite_id != NULL, NULL);
  g_return_val_if_fail (invite_secret != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return invite_new_validated (server_origin, namespace_id, invite_id, expires_at, invite_secret,
                               error);
}

/* Collects the decoded pairs of a query or fragment: one slot per expected key counts
 * the occurrences and keeps the first value; anything else is counted as extra. */
typedef struct
{
  const char *names; /* one character per key */
  guint counts[5];
  char *values[5];
  gboolean value_has_nul[5];
  guint extra;
} FormFields;

static void
collect_field (const char *key, gsize key_len, const char *value, gsize value_len,
               gpointer user_data)
{
  FormFields *fields = user_data;
  const char *slot = NULL;
  gsize i;

  if (key_len == 1 && key[0] != '\0')
    slot = strchr (fields->names, key[0]);
  if (slot == NULL)
    {
      fields->extra++;
      return;
    }
  i = (gsize)(slot - fields->names);
  if (fields->counts[i]++ == 0)
    {
      fields->values[i] = g_strndup (value, value_len);
      fields->value_has_nul[i] = strlen (fields->values[i]) != value_len;
    }
}

static void
form_fields_clear (FormFields *fields)
{
  for (gsize i = 0; i < G_N_ELEMENTS (fields->values); i++)
    {
      if (fields->values[i] != NULL)
        bb_crypto_wipe (fields->values[i], strlen (fields->values[i]));
      g_clear_pointer (&fields->values[i], g_free);
    }
}

static gboolean
form_fields_exact (const FormFields *fields)
{
  if (fields->extra != 0)
    return FALSE;
  for (gsize i = 0; fields->names[i] != '\0'; i++)
    if (fields->counts[i] != 1)
      return FALSE;
  return TRUE;
}

/* The raw query or fragment must be non-empty and have no empty '&' component. */
static gboolean
reject_empty_components (const char *raw, const char *what, GError **error)
{
  if (raw[0] == '\0')
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("invite URI: must include %s fields"), what);
      return FALSE;
    }
  if (raw[0] == '&' || g_str_has_suffix (raw, "&") || strstr (raw, "&&") != NULL)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("invite URI: must not contain empty %s components"), what);
      return FALSE;
    }
  return TRUE;
}

/* strconv.ParseInt(s, 10, 64): optional sign, decimal digits, no overflow. */
static gboolean
parse_int64 (const char *s, gint64 *out)
{
  gboolean negative = FALSE;
  guint64 value = 0;
  const char *p = s;

  if (*p == '+' || *p == '-')
    negative = *p++ == '-';
  if (*p == '\0')
    return FALSE;
  for (; *p; p++)
    {
      guint digit;
      if (!g_ascii_isdigit (*p))
        return FALSE;
      digit = (guint)(*p - '0');
      if (value > ((guint64)G_MAXINT64 + 1 - digit) / 10)
        return FALSE;
      value = value * 10 + digit;
    }
  if (!negative && value > (guint64)G_MAXINT64)
    return FALSE;
  *out = negative ? (gint64)(0 - value) : (gint64)value;
  return TRUE;
}

/**
 * bb_invite_new_from_uri:
 * @uri: an invite URI, as scanned from a QR code
 * @error: return location for a [struct@GLib.Error]
 *
 * Parses an invite URI with the rules of the reference client, in this order: the text
 * starts with `bitboxsync:` (case-sensitive); it parses as a URL with authority
 * `join-namespace` and no path; the query is non-empty without empty `&` components and
 * form-decodes (percent escapes, `+` as space; `;` is an error); it has exactly the keys
 * `v s n i e`, once each, in any order; `v` is `1`; `s` is a canonical origin without
 * `https://`; `n` and `i` are lower-case hex of 16 bytes; `e` is a positive decimal
 * without sign or leading zeros; the fragment is non-empty without empty components
 * and has exactly one key `k`, an unpadded base64url secret of 32 bytes.
 *
 * Returns: (transfer full): the invite, or %NULL with %BB_SYNC_ERROR_UNSUPPORTED (another
 *   scheme or authority, or another version) or %BB_SYNC_ERROR_INVALID_INPUT
 *
 * Since: 0.1
 */
BbInvite *
bb_invite_new_from_uri (const char *uri, GError **error)
{
  BbProtocolUrl url = { 0 };
  FormFields query = { .names = "vsnie" };
  FormFields fragment = { .names = "k" };
  g_autofree char *reason = NULL;
  g_autofree char *origin = NULL;
  g_autofree char *canonical = NULL;
  g_autofree char *expiry_text = NULL;
  g_autoptr (GBytes) secret = NULL;
  gint64 expires_at = 0;
  BbInvite *invite = NULL;
  enum
  {
    V,
    S,
    N,
    I,
    E
  };

  g_return_val_if_fail (uri != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_str_has_prefix (uri, URI_PREFIX))
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_UNSUPPORTED,
                   _ ("invite URI: unsupported namespace invite URI (expected “%s”)"), URI_PREFIX);
      return NULL;
    }
  if (!bb_protocol_url_parse (uri, &url, &reason))
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("invite URI: parse namespace invite: %s"), reason);
      return NULL;
    }
  if (strcmp (url.scheme, URI_SCHEME) != 0 || url.opaque || strcmp (url.host, URI_HOST) != 0
      || url.path_len != 0)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_UNSUPPORTED,
                   _ ("invite URI: unsupported namespace invite URI (expected “%s//%s?…”)"),
                   URI_PREFIX, URI_HOST);
      goto out;
    }

  if (!reject_empty_components (url.raw_query, "query", error))
    goto out;
  if (!bb_protocol_parse_form (url.raw_query, collect_field, &query, &reason))
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("invite URI: parse invite query: %s"), reason);
      goto out;
    }
  if (!form_fields_exact (&query))
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("invite URI: must use canonical query fields (exactly v, s, n, i, e)"));
      goto out;
    }
  if (query.value_has_nul[V] || strcmp (query.values[V], "1") != 0)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_UNSUPPORTED,
                   _ ("v: unsupported version “%s”"), query.values[V]);
      goto out;
    }

  /* A decoded NUL byte cannot be part of any valid value; C strings would silently
   * truncate at it, so reject it explicitly. */
  for (int f = S; f <= E; f++)
    if (query.value_has_nul[f])
      {
        g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                     _ ("%c: invite URI value contains a NUL byte"), query.names[f]);
        goto out;
      }

  origin = g_strconcat ("https://", query.values[S], NULL);
  canonical = bb_protocol_canonical_origin (origin, error);
  if (canonical == NULL)
    goto out;
  if (strcmp (canonical + strlen ("https://"), query.values[S]) != 0)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("s: invite URI must use canonical server origin encoding (“%s”)"),
                   canonical + strlen ("https://"));
      goto out;
    }

  if (!bb_protocol_validate_lower_hex (query.values[N], BB_PROTOCOL_NAMESPACE_ID_SIZE,
                                       "namespaceId", error)
      || !bb_protocol_validate_lower_hex (query.values[I], BB_PROTOCOL_INVITE_ID_SIZE, "inviteId",
                                          error))
    goto out;

  if (!parse_int64 (query.values[E], &expires_at))
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("e: parse invite expiry: not a 64-bit decimal integer"));
      goto out;
    }
  if (expires_at <= 0)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("e: invite expiry must be positive"));
      goto out;
    }
  expiry_text = g_strdup_printf ("%" G_GINT64_FORMAT, expires_at);
  if (strcmp (expiry_text, query.values[E]) != 0)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("e: invite URI must use canonical expiry"));
      goto out;
    }

  if (!reject_empty_components (url.escaped_fragment, "fragment", error))
    goto out;
  if (!bb_protocol_parse_form (url.escaped_fragment, collect_field, &fragment, &reason))
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("invite URI: parse invite fragment: %s"), reason);
      goto out;
    }
  if (!form_fields_exact (&fragment))
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("invite URI: must use canonical fragment fields (exactly k)"));
      goto out;
    }
  if (fragment.value_has_nul[0])
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT,
                   _ ("k: invite URI value contains a NUL byte"));
      goto out;
    }
  secret = bb_protocol_base64url_decode (fragment.values[0], BB_PROTOCOL_INVITE_SECRET_SIZE,
                                         "inviteSecret", error);
  if (secret == NULL)
    goto out;

  invite = invite_new_validated (canonical, query.values[N], query.values[I], expires_at, secret,
                                 error);

out:
  form_fields_clear (&query);
  form_fields_clear (&fragment);
  bb_protocol_url_clear (&url);
  return invite;
}

/**
 * bb_invite_ref:
 * @self: an invite
 *
 * Takes a reference.
 *
 * Returns: (transfer full): @self
 *
 * Since: 0.1
 */
BbInvite *
bb_invite_ref (BbInvite *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * bb_invite_unref:
 * @self: (transfer full): an invite
 *
 * Drops a reference; the last one wipes the secret and frees the invite.
 *
 * Since: 0.1
 */
void
bb_invite_unref (BbInvite *self)
{
  g_return_if_fail (self != NULL);

  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_free (self->server_origin);
  g_free (self->namespace_id);
  g_free (self->invite_id);
  g_bytes_unref (self->secret);
  g_free (self);
}

/**
 * bb_invite_to_uri:
 * @self: an invite
 *
 * Formats the invite as its URI, in the exact form the reference client emits:
 * `bitboxsync://join-namespace?v=1&s=…&n=…&i=…&e=…#k=…`. The URI contains the secret.
 *
 * Returns: (transfer full): the URI
 *
 * Since: 0.1
 */
gchar *
bb_invite_to_uri (BbInvite *self)
{
  g_autofree char *secret = NULL;
  g_autofree char *public_part = NULL;
  GString *uri;

  g_return_val_if_fail (self != NULL, NULL);

  /* printf grows its buffer as it goes, freeing copies unwiped, so the secret is only
   * ever appended to a buffer sized for the whole URI. */
  public_part
      = g_strdup_printf ("bitboxsync://join-namespace?v=1&s=%s&n=%s&i=%s&e=%" G_GINT64_FORMAT,
                         self->server_origin + strlen ("https://"), self->namespace_id,
                         self->invite_id, self->expires_at);
  secret = bb_protocol_base64url_encode (self->secret);
  uri = bb_crypto_secret_string_new (strlen (public_part) + strlen ("#k=") + strlen (secret));
  g_string_append (uri, public_part);
  g_string_append (uri, "#k=");
  g_string_append (uri, secret);
  bb_crypto_wipe (secret, strlen (secret));
  return g_string_free (uri, FALSE);
}

/**
 * bb_invite_get_version:
 * @self: an invite
 *
 * Gets the version of the invite token, the `v` parameter of the invite URI. Only
 * version 1 parses.
 *
 * Returns: the invite token version, always 1
 *
 * Since: 0.1
 */
guint
bb_invite_get_version (BbInvite *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return 1;
}

/**
 * bb_invite_get_namespace_id:
 * @self: an invite
 *
 * Gets the ID of the shared namespace the invite admits to, as 32 lower-case hex
 * characters.
 *
 * Returns: (transfer none): the namespace ID (lower-case hex)
 *
 * Since: 0.1
 */
const char *
bb_invite_get_namespace_id (BbInvite *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->namespace_id;
}

/**
 * bb_invite_get_invite_id:
 * @self: an invite
 *
 * Gets the ID of the invite, as 32 lower-case hex characters. Members revoke the invite
 * by it.
 *
 * Returns: (transfer none): the invite ID (lower-case hex)
 *
 * Since: 0.1
 */
const char *
bb_invite_get_invite_id (BbInvite *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->invite_id;
}

/**
 * bb_invite_get_server_origin:
 * @self: an invite
 *
 * Gets the origin of the server the namespace lives on, in canonical form. A joining
 * device must talk to that server: its join request is bound to the origin.
 *
 * Returns: (transfer none): the canonical server origin, such as `https://sync.example`
 *
 * Since: 0.1
 */
const char *
bb_invite_get_server_origin (BbInvite *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->server_origin;
}

/**
 * bb_invite_get_expires_at:
 * @self: an invite
 *
 * Gets when the invite expires, in Unix seconds (UTC). After that no join request
 * through it is accepted.
 *
 * Returns: the expiry in Unix seconds
 *
 * Since: 0.1
 */
gint64
bb_invite_get_expires_at (BbInvite *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->expires_at;
}

/**
 * bb_invite_dup_server_secret:
 * @self: an invite
 *
 * Derives the invite server secret from the invite's secret. It is what proves to the
 * server that a request comes from someone who holds the invite: the requester sends
 * it with a join request and the approver with an approval. Unlike the invite secret
 * itself, which never leaves the device, it is meant for the server.
 *
 * Returns: (transfer full): the 32-byte server secret
 *
 * Since: 0.1
 */
GBytes *
bb_invite_dup_server_secret (BbInvite *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  /* The secret is 32 bytes by construction, so the derivation cannot fail. */
  return bb_protocol_invite_server_secret (self->secret, NULL);
}

/**
 * bb_invite_verify_proof:
 * @self: an invite
 * @join_request_payload: the payload rebuilt from a join request's fields
 * @invite_proof: the request's 32-byte invite proof
 * @error: return location for a [struct@GLib.Error]
 *
 * Checks, in constant time, that @invite_proof was made with this invite's secret over
 * @join_request_payload. Only holders of the invite can do this check; the server cannot.
 *
 * Returns: %TRUE if the proof is valid; otherwise %FALSE with %BB_SYNC_ERROR_CRYPTO (or
 *   %BB_SYNC_ERROR_INVALID_INPUT for a proof of the wrong size)
 *
 * Since: 0.1
 */
gboolean
bb_invite_verify_proof (BbInvite *self, GBytes *join_request_payload, GBytes *invite_proof,
                        GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (join_request_payload != NULL, FALSE);
  g_return_val_if_fail (invite_proof != NULL, FALSE);

  return bb_protocol_verify_invite_proof (self->secret, join_request_payload, invite_proof, error);
}

GBytes *
bb_invite_get_secret (BbInvite *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->secret;
}

/* A wire string the server relayed; a missing one compares and decodes as empty. */
static const char *
nonnull (const char *s)
{
  return s != NULL ? s : "";
}

static gboolean
verify_fail (GError **error, BbSyncError code, const char *message)
{
  g_set_error_literal (error, BB_SYNC_ERROR, code, message);
  return FALSE;
}

/**
 * bb_invite_verify_join_request:
 * @invite: the invite the request came through, as kept by the member who created it
 * @namespace_id: the ID (lower-case hex) of the namespace the approver is admitting to
 * @entry: a pending join request, as listed by [method@BbSync.Client.list_join_requests_async]
 * @now: the current time in Unix seconds (UTC), such as
 *   `g_get_real_time () / G_USEC_PER_SEC`; tests pass a fixed value
 * @error: return location for a [struct@GLib.Error]
 *
 * Performs every check an approver must make before wrapping a namespace key to the
 * requester of @entry, in the order of the reference client. The server only relays join
 * requests; this check is what stops it from admitting a key of its own choosing,
 * because the invite proof needs the invite secret that only the invite carried. Call
 * it on every entry before approving it, and approve only on %TRUE.
 *
 * It is a method of the invite, not of the entry, because the invite is the trust
 * anchor of the check: its secret (which has no public getter) verifies the proof and
 * its fields bind the request. No network access is needed.
 *
 * The checks, in order; each failure names the field in its message:
 *
 * 1. the invite's version is 1 (%BB_SYNC_ERROR_UNSUPPORTED, “unsupported version”);
 * 2. its expiry is positive and 3. later than @now (“invite has expired”);
 * 4. the invite and the request are both for @namespace_id (“join request namespace
 *    mismatch”);
 * 5. the request names the invite's ID (“join request invite mismatch”);
 * 6. the invite's origin is canonical and 7. the request names it (“join request
 *    server origin mismatch”);
 * 8. the request's version is 1 and 9. its kind is `keystore` (both
 *    %BB_SYNC_ERROR_UNSUPPORTED, “unsupported version”, “invalid kind”);
 * 10. the request expires after @now (“join request has expired”) and 11. not after the
 *    invite (“join request expires after invite”);
 * 12. every field decodes strictly: the expiry is not negative, the namespace and invite
 *    IDs are lower-case hex of 16 bytes, the origin is canonical, the key ID and both
 *    public keys are lower-case hex of 32 bytes, the signature lower-case hex of 64
 *    bytes, the invite proof unpadded base64url of 32 bytes; the auth public key is not
 *    a point of small order (“is a small-order point”: for such a key any signature
 *    with S = 0 verifies); the key ID is the SHA-256 of the auth public key
 *    (%BB_SYNC_ERROR_CRYPTO, “key id does not match auth public key”);
 * 13. the listed join-request hash is the hash of the payload rebuilt from these fields
 *    (%BB_SYNC_ERROR_CRYPTO, “join request hash mismatch”);
 * 14. the requester's Ed25519 signature over the payload is valid (%BB_SYNC_ERROR_CRYPTO,
 *    “invalid join request signature”);
 * 15. the invite proof over the payload is valid, compared in constant time
 *    (%BB_SYNC_ERROR_CRYPTO, “invalid invite proof”).
 *
 * Unless stated otherwise a failure is %BB_SYNC_ERROR_INVALID_INPUT. Nothing secret
 * appears in the messages.
 *
 * On success, approve with [method@BbSync.Invite.dup_server_secret] and the request's wrap
 * public key (lower-case hex, already checked to decode) as the recipient of the wrapped
 * namespace key.
 *
 * Returns: %TRUE if @entry may be approved; otherwise %FALSE with @error set
 *
 * Since: 0.1
 */
gboolean
bb_invite_verify_join_request (BbInvite *invite, const char *namespace_id, BbJoinRequestListing *entry,
                               gint64 now, GError **error)
{
  BbJoinRequest *request;
  g_autofree char *canonical = NULL;
  g_autofree char *computed_key_id = NULL;
  g_autofree char *computed_hash = NULL;
  g_autoptr (GBytes) auth_key = NULL;
  g_autoptr (GBytes) wrap_key = NULL;
  g_autoptr (GBytes) signature = NULL;
  g_autoptr (GBytes) proof = NULL;
  g_autoptr (GBytes) payload = NULL;
  gint64 expires_at;

  g_return_val_if_fail (invite != NULL, FALSE);
  g_return_val_if_fail (namespace_id != NULL, FALSE);
  g_return_val_if_fail (entry != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  request = bb_join_request_listing_get_request (entry);
  if (request == NULL)
    return verify_fail (error, BB_SYNC_ERROR_INVALID_INPUT,
                        _ ("joinRequest: the entry carries no join request"));
  expires_at = bb_join_request_get_expires_at (request);

  /* 1-3: the invite held locally */
  if (bb_invite_get_version (invite) != 1)
    return verify_fail (error, BB_SYNC_ERROR_UNSUPPORTED, _ ("version: unsupported version"));
  if (invite->expires_at <= 0)
    return verify_fail (error, BB_SYNC_ERROR_INVALID_INPUT,
                        _ ("expiresAt: invite expiry must be positive"));
  if (invite->expires_at <= now)
    return verify_fail (error, BB_SYNC_ERROR_INVALID_INPUT, _ ("expiresAt: invite has expired"));

  /* 4-7: the request's binding to the namespace, the invite and the server */
  if (strcmp (invite->namespace_id, namespace_id) != 0
      || g_strcmp0 (bb_join_request_get_namespace_id (request), namespace_id) != 0)
    return verify_fail (error, BB_SYNC_ERROR_INVALID_INPUT,
                        _ ("namespaceId: join request namespace mismatch"));
  if (g_strcmp0 (bb_join_request_get_invite_id (request), invite->invite_id) != 0)
    return verify_fail (error, BB_SYNC_ERROR_INVALID_INPUT,
                        _ ("inviteId: join request invite mismatch"));
  canonical = bb_protocol_canonical_origin (invite->server_origin, error);
  if (canonical == NULL)
    return FALSE;
  if (strcmp (canonical, invite->server_origin) != 0)
    return verify_fail (error, BB_SYNC_ERROR_INVALID_INPUT,
                        _ ("serverOrigin: invite server origin must be canonical"));
  if (g_strcmp0 (bb_join_request_get_server_origin (request), canonical) != 0)
    return verify_fail (error, BB_SYNC_ERROR_INVALID_INPUT,
                        _ ("serverOrigin: join request server origin mismatch"));

  /* 8-11: the request's own version, kind and lifetime */
  if (bb_join_request_get_version (request) != 1)
    return verify_fail (error, BB_SYNC_ERROR_UNSUPPORTED, _ ("version: unsupported version"));
  if (g_strcmp0 (bb_join_request_get_kind (request), BB_PROTOCOL_KIND_KEYSTORE) != 0)
    return verify_fail (error, BB_SYNC_ERROR_UNSUPPORTED, _ ("kind: invalid kind"));
  if (expires_at <= now)
    return verify_fail (error, BB_SYNC_ERROR_INVALID_INPUT,
                        _ ("expiresAt: join request has expired"));
  if (expires_at > invite->expires_at)
    return verify_fail (error, BB_SYNC_ERROR_INVALID_INPUT,
                        _ ("expiresAt: join request expires after invite"));

  /* 12: strict decoding of every field, then the key ID names the auth key. Any 32
   * bytes are an X25519 public key (the reference's ecdh.NewPublicKey checks only the
   * length), so the wrap key needs no further check here. */
  if (expires_at < 0)
    return verify_fail (error, BB_SYNC_ERROR_INVALID_INPUT,
                        _ ("expiresAt: join request expiry must be non-negative"));
  if (!bb_protocol_validate_lower_hex (nonnull (bb_join_request_get_namespace_id (request)),
                                       BB_PROTOCOL_NAMESPACE_ID_SIZE, "joinRequest.namespaceId",
                                       error)
      || !bb_protocol_validate_lower_hex (nonnull (bb_join_request_get_invite_id (request)),
                                          BB_PROTOCOL_INVITE_ID_SIZE, "joinRequest.inviteId",
                                          error))
    return FALSE;
  if (!bb_protocol_validate_lower_hex (nonnull (bb_join_request_get_key_id (request)), 32,
                                       "joinRequest.keyId", error))
    return FALSE;
  auth_key = bb_protocol_lower_hex_decode (nonnull (bb_join_request_get_auth_public_key (request)),
                                           BB_PROTOCOL_PUBLIC_KEY_SIZE, "joinRequest.authPublicKey",
                                           error);
  if (auth_key == NULL
      || !bb_protocol_check_auth_public_key (auth_key, "joinRequest.authPublicKey", error))
    return FALSE;
  wrap_key = bb_protocol_lower_hex_decode (nonnull (bb_join_request_get_wrap_public_key (request)),
                                           BB_PROTOCOL_PUBLIC_KEY_SIZE, "joinRequest.wrapPublicKey",
                                           error);
  if (wrap_key == NULL)
    return FALSE;
  signature
      = bb_protocol_lower_hex_decode (nonnull (bb_join_request_get_signature (request)),
                                      BB_PROTOCOL_SIGNATURE_SIZE, "joinRequest.signature", error);
  if (signature == NULL)
    return FALSE;
  proof = bb_protocol_base64url_decode (nonnull (bb_join_request_get_invite_proof (request)),
                                        32 /* HMAC-SHA256 */, "joinRequest.inviteProof", error);
  if (proof == NULL)
    return FALSE;
  computed_key_id = bb_protocol_key_id (auth_key);
  if (strcmp (computed_key_id, bb_join_request_get_key_id (request)) != 0)
    return verify_fail (error, BB_SYNC_ERROR_CRYPTO,
                        _ ("keyId: key id does not match auth public key"));
  payload = bb_protocol_join_request_payload (bb_join_request_get_namespace_id (request),
                                              bb_join_request_get_invite_id (request), canonical,
                                              bb_join_request_get_kind (request), computed_key_id,
                                              auth_key, wrap_key, expires_at, error);
  if (payload == NULL)
    return FALSE;

  /* 13: the hash the server lists is the hash of the payload rebuilt here */
  computed_hash = bb_protocol_join_request_hash (payload);
  if (g_strcmp0 (computed_hash, bb_join_request_listing_get_join_request_hash (entry)) != 0)
    return verify_fail (error, BB_SYNC_ERROR_CRYPTO,
                        _ ("joinRequestHash: join request hash mismatch"));

  /* 14: signed by the holder of the auth key (the sizes are checked above, so a
   * failure here is the signature itself) */
  if (!bb_protocol_verify_signature (auth_key, payload, signature, NULL))
    return verify_fail (error, BB_SYNC_ERROR_CRYPTO,
                        _ ("signature: invalid join request signature"));

  /* 15: made by someone who saw the invite secret. (16, deriving the server secret,
   * cannot fail: the caller does it with bb_invite_dup_server_secret().) */
  return bb_protocol_verify_invite_proof (invite->secret, payload, proof, error);
}
