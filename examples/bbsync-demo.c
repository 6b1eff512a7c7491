/* bbsync-demo.c: a walkthrough of bbsync's layers against a real server
 *
 * Alice and Bob each have an identity and a BbClient. Alice stores an encrypted account
 * label in her default namespace, creates a shared namespace and invites Bob with a
 * bitboxsync:// URI; Bob joins; they exchange notes, watch each other's writes through the
 * long poll, resolve a write conflict, and Alice keeps her sync metadata in a sealed
 * SQLite store. By default the server is an in-process BbServer on 127.0.0.1 with a
 * temporary SQLite file; `--server URL` uses a running bbsync-server instead.
 *
 * Every network call is asynchronous and runs on the default GMainContext. To keep the
 * walkthrough readable top to bottom, `wait_for()` iterates that context until the one
 * call it waits for has finished; a real app would continue in the callback instead.
 * The embedded server and Alice's long poll keep running on the same context meanwhile.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#define _GNU_SOURCE /* memmem */
#include "config.h"

#include <bbsync/bbsync.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#include "bb-server.h"
#include "bbsync-demo-devices.h"

#define DEFAULT_ORIGIN "https://sync.example"

/* The collections and keys of the walkthrough (logical keys; the server sees only
 * item IDs derived from them with the namespace key). */
#define LABELS_COLLECTION "account-labels"
#define LABELS_KEY "acct:primary"
#define LABELS_VALUE "Savings"
#define NOTES_COLLECTION "notes"
#define SHARED_NOTE_KEY "shared:note"
#define SHARED_NOTE_TEXT "Multisig draft: 2-of-3, keys held by Alice, Bob and a backup"
#define BOB_NOTE_KEY "bob:note"
#define BOB_NOTE_TEXT "Bob: my key is ready to co-sign"
#define ALICE_ADDITION " / fee rate 5 sat/vB"
#define BOB_ADDITION " / co-sign on Friday"

typedef struct
{
  const char *name;
  BbIdentity *identity;
  BbClient *client;
  char *key_id;
  char *default_namespace_id;
  GBytes *default_dek;
  GBytes *shared_dek;
} Person;

typedef struct
{
  /* options */
  char *server_url;
  char *origin;

  char *tmpdir;
  BbServer *server;
  char *base_url;

  Person alice;
  Person bob;

  /* the shared namespace and Alice's invite (it holds the invite secret) */
  char *shared_namespace_id;
  BbInvite *invite;
  char *invite_uri;

  /* versions as each side last saw them */
  guint64 label_version;
  guint64 shared_note_version;
  guint64 bob_note_version;
  char *merged_note;

  /* Alice's long poll, started before Bob writes */
  GCancellable *watch_cancellable;
  GAsyncResult *watch_result;
  guint64 watched_head;
  guint watched_namespaces;
  gint64 watch_woke_us;
  gint64 bob_write_sent_us;

  guint items_written;
  guint conflicts_merged;
} Demo;

/* --- waiting for one async call ------------------------------------------------------- */

static void
store_result (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **slot = user_data;

  *slot = g_object_ref (result);
}

/* Iterates the default main context until the call that reports into @slot is done.
 * Returns the result, still owned by @slot: the next CALL() on the slot, or the slot's
 * g_autoptr, releases it. */
static GAsyncResult *
wait_for (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

/* Starts a call: clears the slot the previous call reported into. */
#define CALL(slot, expr)                                                                           \
  G_STMT_START                                                                                     \
  {                                                                                                \
    g_clear_object (&(slot));                                                                      \
    expr;                                                                                          \
  }                                                                                                \
  G_STMT_END

/* --- small helpers ------------------------------------------------------------------ */

/* The first 12 characters of a long hex ID, for output lines. */
static char *
short_id (const char *id)
{
  return g_strdup_printf ("%.12s...", id);
}

static char *
bytes_to_text (GBytes *bytes)
{
  gsize len;
  const char *data = g_bytes_get_data (bytes, &len);

  return g_strndup (data, len);
}

static gint64
now_unix (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

static GBytes *
wrap_key_of (BbIdentity *identity)
{
  return bb_identity_get_wrap_public_key (identity);
}

/* --- item helpers: encrypt + PUT, GET + decrypt --------------------------------------- */

/* Encrypts @text for version @known_version + 1 and PUTs it with If-Match
 * @known_version (none when 0). Returns the new version, or 0 with @error set; a
 * concurrent writer makes it fail with HTTP 412. */
static guint64
put_text (Person *who, const char *namespace_id, GBytes *dek, const char *collection,
          const char *key, guint64 known_version, const char *text, GError **error)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GBytes) plaintext = g_bytes_new (text, strlen (text));
  g_autoptr (GBytes) nonce = NULL;
  g_autoptr (GBytes) aad = NULL;
  g_autoptr (GBytes) ciphertext = NULL;
  g_autofree char *item_id = bb_protocol_item_id (dek, collection, key, error);

  if (item_id == NULL)
    return 0;
  /* The nonce is fresh from the system RNG on every call; the AAD binds namespace, item
   * and the version this ciphertext is for. */
  ciphertext = bb_protocol_encrypt_item (dek, namespace_id, item_id, known_version + 1, plaintext,
                                         &nonce, &aad, error);
  if (ciphertext == NULL)
    return 0;
  CALL (res, bb_client_put_item_async (who->client, namespace_id, item_id, known_version, nonce,
                                       aad, ciphertext, NULL, store_result, &res));
  return bb_client_put_item_finish (who->client, wait_for (&res), error);
}

/* GETs one item and decrypts it. Returns the text, or NULL with @error set. */
static char *
get_text (Person *who, const char *namespace_id, GBytes *dek, const char *collection,
          const char *key, guint64 *out_version, GError **error)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (BbItemEnvelope) item = NULL;
  g_autoptr (GBytes) plaintext = NULL;
  g_autofree char *item_id = bb_protocol_item_id (dek, collection, key, error);

  if (item_id == NULL)
    return NULL;
  CALL (res,
        bb_client_get_item_async (who->client, namespace_id, item_id, NULL, store_result, &res));
  item = bb_client_get_item_finish (who->client, wait_for (&res), error);
  if (item == NULL)
    return NULL;
  /* The decryption checks that the AAD names this namespace, item and version. */
  plaintext = bb_protocol_decrypt_item (
      dek, namespace_id, item_id, bb_item_envelope_get_version (item),
      bb_item_envelope_get_nonce (item), bb_item_envelope_get_aad (item),
      bb_item_envelope_get_ciphertext (item), error);
  if (plaintext == NULL)
    return NULL;
  *out_version = bb_item_envelope_get_version (item);
  return bytes_to_text (plaintext);
}

static gboolean
login (Person *who, GError **error)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (BbLoginResult) login = NULL;
  g_autofree char *expires = NULL;
  g_autofree char *short_key = short_id (who->key_id);

  /* challenge, intent signed by the identity, login: one call. The bearer token is
   * kept by the client and never printed. */
  CALL (res,
        bb_client_login_with_identity_async (who->client, who->identity, NULL, store_result, &res));
  login = bb_client_login_with_identity_finish (who->client, wait_for (&res), error);
  if (login == NULL)
    return FALSE;
  expires = g_date_time_format_iso8601 (bb_login_result_get_expires_at (login));
  g_print ("[%s] logged in as key %s (session valid until %s)\n", who->name, short_key, expires);
  return TRUE;
}

static GBytes *
unwrap_dek (Person *who, const char *namespace_id, GBytes *wrapped_dek, GError **error)
{
  g_autoptr (GAsyncResult) res = NULL;

  /* The identity holds the X25519 private key, so unwrapping goes through it (a
   * hardware identity may ask the user). */
  CALL (res, bb_identity_unwrap_dek_async (who->identity, namespace_id, wrapped_dek, NULL,
                                           store_result, &res));
  return bb_identity_unwrap_dek_finish (who->identity, wait_for (&res), error);
}

/* --- 1. the server ---------------------------------------------------------------- */

static void
person_init (Person *who, const char *name, const char *label)
{
  who->name = name;
  who->identity = BB_IDENTITY (bb_test_identity_new (label));
  who->key_id = bb_identity_get_key_id (who->identity);
}

static gboolean
step_server (Demo *demo, GError **error)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autofree char *health = NULL;

  if (demo->server_url != NULL)
    {
      demo->base_url = g_strdup (demo->server_url);
      g_print ("[server] using the external server at %s\n", demo->base_url);
    }
  else
    {
      g_autofree char *db_path = g_build_filename (demo->tmpdir, "server.sqlite", NULL);

      demo->server = bb_server_new (db_path, error);
      if (demo->server == NULL)
        return FALSE;
      if (!bb_server_add_public_origin (demo->server, demo->origin, error))
        return FALSE;
      if (!bb_server_listen (demo->server, "127.0.0.1", 0, error))
        return FALSE;
      demo->base_url = g_strdup (bb_server_get_base_url (demo->server));
      g_print ("[server] embedded server listening on %s (database %s)\n", demo->base_url, db_path);
    }
  g_print ("[server] public origin for invites: %s\n", demo->origin);

  demo->alice.client = bb_client_new (demo->base_url, error);
  if (demo->alice.client == NULL)
    return FALSE;
  demo->bob.client = bb_client_new (demo->base_url, error);
  if (demo->bob.client == NULL)
    return FALSE;

  CALL (res, bb_client_health_async (demo->alice.client, NULL, store_result, &res));
  health = bb_client_health_finish (demo->alice.client, wait_for (&res), error);
  if (health == NULL)
    return FALSE;
  g_print ("[server] health: %s\n", health);
  g_print ("[demo] identities are BbTestIdentity (derived from the labels demo-alice and "
           "demo-bob, demo only);\n"
           "[demo] real apps use BbKeystoreIdentity, whose private keys live in the user's "
           "keyring\n");
  return TRUE;
}

/* --- 2. Carol's laptop and phone: the sync engine (bbsync-demo-devices.c) ------------- */

static gboolean
step_devices (Demo *demo, GError **error)
{
  return demo_devices_run (demo->base_url, demo->tmpdir, error);
}

/* --- 2. Alice: login, default namespace, one item -------------------------------------- */

static gboolean
step_alice_default (Demo *demo, GError **error)
{
  Person *alice = &demo->alice;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (BbNamespaceListing) info = NULL;
  g_autoptr (BbNamespaceItems) items = NULL;
  g_autoptr (GBytes) dek = NULL;
  g_autoptr (GBytes) wrap_key = wrap_key_of (alice->identity);
  g_autoptr (GBytes) wrapped = NULL;
  g_autofree char *proposed = NULL;
  g_autofree char *item_id = NULL;
  g_autofree char *short_item = NULL;
  g_autofree char *text = NULL;
  guint64 known, version = 0;

  if (!login (alice, error))
    return FALSE;

  /* Propose a namespace ID and a DEK wrapped to herself; the server keeps an existing
   * default namespace (a rerun against the same server) and returns its wrapped DEK. */
  proposed = bb_protocol_new_namespace_id ();
  dek = bb_protocol_new_dek ();
  wrapped = bb_protocol_wrap_dek (wrap_key, proposed, dek, error);
  if (wrapped == NULL)
    return FALSE;
  CALL (res, bb_client_ensure_default_namespace_async (alice->client, proposed, wrapped, NULL,
                                                       store_result, &res));
  info = bb_client_ensure_default_namespace_finish (alice->client, wait_for (&res), error);
  if (info == NULL)
    return FALSE;
  alice->default_namespace_id = g_strdup (bb_namespace_listing_get_namespace_id (info));
  if (bb_namespace_listing_get_created (info))
    {
      alice->default_dek = g_steal_pointer (&dek);
      g_print ("[alice] created her default namespace %s (random DEK, wrapped to her own "
               "X25519 key)\n",
               alice->default_namespace_id);
    }
  else
    {
      alice->default_dek = unwrap_dek (alice, alice->default_namespace_id,
                                       bb_namespace_listing_get_wrapped_dek (info), error);
      if (alice->default_dek == NULL)
        return FALSE;
      g_print ("[alice] her default namespace %s already exists; unwrapped its DEK\n",
               alice->default_namespace_id);
    }

  item_id = bb_protocol_item_id (alice->default_dek, LABELS_COLLECTION, LABELS_KEY, error);
  if (item_id == NULL)
    return FALSE;
  short_item = short_id (item_id);

  /* The version to update: 0 (create) on a fresh server. */
  CALL (res, bb_client_get_items_async (alice->client, alice->default_namespace_id, NULL,
                                        store_result, &res));
  items = bb_client_get_items_finish (alice->client, wait_for (&res), error);
  if (items == NULL)
    return FALSE;
  known = bb_namespace_items_get_version (items, item_id);

  demo->label_version = put_text (alice, alice->default_namespace_id, alice->default_dek,
                                  LABELS_COLLECTION, LABELS_KEY, known, LABELS_VALUE, error);
  if (demo->label_version == 0)
    return FALSE;
  demo->items_written++;
  g_print ("[alice] PUT %s/%s = \"%s\" as item %s -> version %" G_GUINT64_FORMAT "\n",
           LABELS_COLLECTION, LABELS_KEY, LABELS_VALUE, short_item, demo->label_version);

  text = get_text (alice, alice->default_namespace_id, alice->default_dek, LABELS_COLLECTION,
                   LABELS_KEY, &version, error);
  if (text == NULL)
    return FALSE;
  if (g_strcmp0 (text, LABELS_VALUE) != 0 || version != demo->label_version)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_FAILED,
                   "read back \"%s\" at version %" G_GUINT64_FORMAT, text, version);
      return FALSE;
    }
  g_print ("[alice] GET and decrypt: \"%s\" (version %" G_GUINT64_FORMAT ")\n", text, version);
  return TRUE;
}

/* --- 3. Alice: a shared namespace, a note and an invite ---------------------------------- */

static gboolean
step_alice_invite (Demo *demo, GError **error)
{
  Person *alice = &demo->alice;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (BbNamespaceListing) info = NULL;
  g_autoptr (BbInviteListing) created = NULL;
  g_autoptr (GBytes) wrap_key = wrap_key_of (alice->identity);
  g_autoptr (GBytes) wrapped = NULL;
  g_autofree char *invite_id = NULL;
  g_autoptr (GBytes) invite_secret = NULL;
  gint64 expires_at;

  demo->shared_namespace_id = bb_protocol_new_namespace_id ();
  alice->shared_dek = bb_protocol_new_dek ();
  wrapped = bb_protocol_wrap_dek (wrap_key, demo->shared_namespace_id, alice->shared_dek, error);
  if (wrapped == NULL)
    return FALSE;
  CALL (res, bb_client_create_namespace_async (alice->client, demo->shared_namespace_id, wrapped,
                                               NULL, store_result, &res));
  info = bb_client_create_namespace_finish (alice->client, wait_for (&res), error);
  if (info == NULL)
    return FALSE;
  g_print ("[alice] created shared namespace %s (kind %s)\n", demo->shared_namespace_id,
           bb_namespace_listing_get_kind (info));

  demo->shared_note_version
      = put_text (alice, demo->shared_namespace_id, alice->shared_dek, NOTES_COLLECTION,
                  SHARED_NOTE_KEY, 0, SHARED_NOTE_TEXT, error);
  if (demo->shared_note_version == 0)
    return FALSE;
  demo->items_written++;
  g_print ("[alice] PUT %s/%s = \"%s\" -> version %" G_GUINT64_FORMAT "\n", NOTES_COLLECTION,
           SHARED_NOTE_KEY, SHARED_NOTE_TEXT, demo->shared_note_version);

  /* The invite secret never reaches the server: it travels only in the URI fragment.
   * The BbInvite keeps its own copy, so Alice checks the proof in Bob's join request
   * through it and drops her reference here (the secret is wiped when freed). */
  invite_id = bb_protocol_new_invite_id ();
  invite_secret = bb_protocol_new_invite_secret ();
  expires_at = now_unix () + BB_PROTOCOL_DEFAULT_INVITE_TTL;
  demo->invite = bb_invite_new (demo->origin, demo->shared_namespace_id, invite_id, expires_at,
                                invite_secret, error);
  if (demo->invite == NULL)
    return FALSE;
  g_clear_pointer (&invite_secret, g_bytes_unref);

  /* A sensitive-action challenge, the create-invite intent signed by Alice's identity,
   * then the registration. No max-pending limit (0: the server's cap, and the signed
   * fields the BitBox02 firmware uses); at most 10 first-time approvals. */
  CALL (res, bb_client_create_invite_with_identity_async (alice->client, alice->identity,
                                                          demo->invite, 0, BB_PROTOCOL_MAX_ACCEPTED,
                                                          NULL, store_result, &res));
  created = bb_client_create_invite_with_identity_finish (alice->client, wait_for (&res), error);
  if (created == NULL)
    return FALSE;
  g_print ("[alice] registered invite %s with a signed create-invite intent: valid for %d "
           "minutes, up to %u approvals\n",
           bb_invite_listing_get_invite_id (created), BB_PROTOCOL_DEFAULT_INVITE_TTL / 60,
           bb_invite_listing_get_max_accepted (created));

  demo->invite_uri = bb_invite_to_uri (demo->invite);
  g_print ("[alice] invite URI (what the QR code carries): %s\n", demo->invite_uri);
  return TRUE;
}

/* --- 4. Bob: scan, login, join request ------------------------------------------------- */

static gboolean
step_bob_join (Demo *demo, GError **error)
{
  Person *bob = &demo->bob;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (BbInvite) scanned = NULL;
  g_autoptr (BbJoinRequest) request = NULL;
  g_autoptr (BbJoinRequestListing) submitted = NULL;
  g_autoptr (GBytes) server_secret = NULL;
  g_autoptr (GDateTime) invite_expiry = NULL;
  g_autofree char *expiry_text = NULL;
  g_autofree char *short_hash = NULL;
  gint64 expires_at;

  /* Parsing is strict: a tampered or non-canonical URI is refused here. */
  scanned = bb_invite_new_from_uri (demo->invite_uri, error);
  if (scanned == NULL)
    return FALSE;
  invite_expiry = g_date_time_new_from_unix_utc (bb_invite_get_expires_at (scanned));
  expiry_text = g_date_time_format_iso8601 (invite_expiry);
  g_print ("[bob] scanned the invite: namespace %s at %s, expires %s\n",
           bb_invite_get_namespace_id (scanned), bb_invite_get_server_origin (scanned),
           expiry_text);

  if (!login (bob, error))
    return FALSE;

  /* The request lives at most ten minutes and never outlives the invite. */
  expires_at
      = MIN (now_unix () + BB_PROTOCOL_MAX_JOIN_REQUEST_TTL, bb_invite_get_expires_at (scanned));
  CALL (res, bb_identity_build_join_request_async (bob->identity, scanned, expires_at, NULL,
                                                   store_result, &res));
  request = bb_identity_build_join_request_finish (bob->identity, wait_for (&res), error);
  if (request == NULL)
    return FALSE;

  /* The scanned invite derives the server secret that admits his request; the invite
   * secret itself stays inside it. */
  server_secret = bb_invite_dup_server_secret (scanned);
  CALL (res, bb_client_submit_join_request_async (bob->client, request, server_secret, NULL,
                                                  store_result, &res));
  submitted = bb_client_submit_join_request_finish (bob->client, wait_for (&res), error);
  if (submitted == NULL)
    return FALSE;
  short_hash = short_id (bb_join_request_listing_get_join_request_hash (submitted));
  g_print ("[bob] signed and submitted join request %s (status %s)\n", short_hash,
           bb_join_request_listing_get_status (submitted));
  return TRUE;
}

/* --- 5. Alice: verify and approve ------------------------------------------------------ */

static gboolean
step_alice_approve (Demo *demo, GError **error)
{
  Person *alice = &demo->alice;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GPtrArray) requests = NULL;
  g_autoptr (BbMember) member = NULL;
  g_autoptr (GBytes) bob_wrap_key = NULL;
  g_autoptr (GBytes) server_secret = NULL;
  g_autoptr (GBytes) wrapped = NULL;
  g_autoptr (GBytes) other_secret = NULL;
  g_autoptr (BbInvite) other_invite = NULL;
  g_autoptr (GError) forged_error = NULL;
  g_autofree char *short_key = NULL;
  BbJoinRequestListing *entry;
  BbJoinRequest *request;

  CALL (res, bb_client_list_join_requests_async (alice->client, demo->shared_namespace_id, NULL,
                                                 store_result, &res));
  requests = bb_client_list_join_requests_finish (alice->client, wait_for (&res), error);
  if (requests == NULL)
    return FALSE;
  if (requests->len != 1)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_FAILED, "expected 1 join request, got %u",
                   requests->len);
      return FALSE;
    }
  entry = g_ptr_array_index (requests, 0);
  request = bb_join_request_listing_get_request (entry);
  short_key = short_id (bb_join_request_get_key_id (request));
  g_print ("[alice] 1 pending join request, from key %s\n", short_key);

  /* Everything the approver checks before wrapping the namespace key to a requester
   * (protocol §9.8): the server relays join requests but cannot forge one, because the
   * proof needs the invite secret that only the QR code carried. */
  if (!bb_invite_verify_join_request (demo->invite, demo->shared_namespace_id, entry, now_unix (),
                                      error))
    return FALSE;
  bob_wrap_key = bb_protocol_lower_hex_decode (bb_join_request_get_wrap_public_key (request),
                                               BB_PROTOCOL_PUBLIC_KEY_SIZE, "wrapPublicKey", error);
  if (bob_wrap_key == NULL)
    return FALSE;
  server_secret = bb_invite_dup_server_secret (demo->invite);
  g_print ("[alice] verified it: key ID, payload hash, Ed25519 signature, invite proof, origin "
           "%s, expiry\n",
           bb_join_request_get_server_origin (request));

  /* What a forged request (made without the QR code) would run into: an invite that
   * differs from Alice's only in its secret does not accept the request's proof. */
  other_secret = bb_protocol_new_invite_secret ();
  other_invite = bb_invite_new (bb_invite_get_server_origin (demo->invite),
                                bb_invite_get_namespace_id (demo->invite),
                                bb_invite_get_invite_id (demo->invite),
                                bb_invite_get_expires_at (demo->invite), other_secret, error);
  if (other_invite == NULL)
    return FALSE;
  if (bb_invite_verify_join_request (other_invite, demo->shared_namespace_id, entry, now_unix (),
                                     &forged_error))
    {
      g_set_error_literal (error, BB_SYNC_ERROR, BB_SYNC_ERROR_FAILED,
                           "a join request verified against another invite secret");
      return FALSE;
    }
  g_print ("[alice] (checked against another invite secret it would fail: %s)\n",
           forged_error->message);

  /* The namespace key reaches Bob only HPKE-wrapped to his X25519 key. */
  wrapped
      = bb_protocol_wrap_dek (bob_wrap_key, demo->shared_namespace_id, alice->shared_dek, error);
  if (wrapped == NULL)
    return FALSE;
  CALL (res, bb_client_approve_join_request_async (
                 alice->client, demo->shared_namespace_id, bb_join_request_get_key_id (request),
                 bb_join_request_listing_get_join_request_hash (entry), server_secret, wrapped, NULL,
                 store_result, &res));
  member = bb_client_approve_join_request_finish (alice->client, wait_for (&res), error);
  if (member == NULL)
    return FALSE;
  g_print ("[alice] approved: the shared DEK, wrapped to Bob's key (%" G_GSIZE_FORMAT
           " bytes), is on the server\n",
           g_bytes_get_size (wrapped));
  return TRUE;
}

/* --- 6. Alice starts watching; Bob joins, reads and writes ------------------------------ */

static void
watch_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Demo *demo = user_data;

  demo->watch_result = g_object_ref (result);
  demo->watch_woke_us = g_get_monotonic_time ();
}

/* Starts Alice's long poll on all her namespaces at their current heads; it completes
 * when one of them moves (or the server's wait times out). */
static gboolean
start_alice_watch (Demo *demo, GError **error)
{
  Person *alice = &demo->alice;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GPtrArray) namespaces = NULL;
  GVariantBuilder heads;

  CALL (res, bb_client_list_namespaces_async (alice->client, NULL, store_result, &res));
  namespaces = bb_client_list_namespaces_finish (alice->client, wait_for (&res), error);
  if (namespaces == NULL)
    return FALSE;
  g_variant_builder_init (&heads, G_VARIANT_TYPE ("a{st}"));
  for (guint i = 0; i < namespaces->len; i++)
    {
      BbNamespaceListing *info = g_ptr_array_index (namespaces, i);

      g_variant_builder_add (&heads, "{st}", bb_namespace_listing_get_namespace_id (info),
                             bb_namespace_listing_get_head (info));
      if (g_strcmp0 (bb_namespace_listing_get_namespace_id (info), demo->shared_namespace_id) == 0)
        demo->watched_head = bb_namespace_listing_get_head (info);
    }
  demo->watched_namespaces = namespaces->len;
  g_clear_object (&demo->watch_result);
  bb_client_watch_async (alice->client, g_variant_builder_end (&heads), demo->watch_cancellable,
                         watch_done, demo);
  return TRUE;
}

static gboolean
step_bob_read_write (Demo *demo, GError **error)
{
  Person *bob = &demo->bob;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GBytes) wrapped = NULL;
  g_autofree char *text = NULL;
  guint64 version = 0;

  if (!start_alice_watch (demo, error))
    return FALSE;
  g_print ("[alice] long poll started on her %u namespaces (shared head %" G_GUINT64_FORMAT
           "); she waits for changes\n",
           demo->watched_namespaces, demo->watched_head);

  CALL (res, bb_client_get_wrapped_dek_async (bob->client, demo->shared_namespace_id, bob->key_id,
                                              NULL, store_result, &res));
  wrapped = bb_client_get_wrapped_dek_finish (bob->client, wait_for (&res), error);
  if (wrapped == NULL)
    return FALSE;
  bob->shared_dek = unwrap_dek (bob, demo->shared_namespace_id, wrapped, error);
  if (bob->shared_dek == NULL)
    return FALSE;
  g_print ("[bob] fetched his wrapped DEK and unwrapped it with his identity\n");

  text = get_text (bob, demo->shared_namespace_id, bob->shared_dek, NOTES_COLLECTION,
                   SHARED_NOTE_KEY, &version, error);
  if (text == NULL)
    return FALSE;
  if (g_strcmp0 (text, SHARED_NOTE_TEXT) != 0)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_FAILED, "bob read \"%s\"", text);
      return FALSE;
    }
  g_print ("[bob] read Alice's shared note: \"%s\" (version %" G_GUINT64_FORMAT ")\n", text,
           version);

  demo->bob_write_sent_us = g_get_monotonic_time ();
  demo->bob_note_version = put_text (bob, demo->shared_namespace_id, bob->shared_dek,
                                     NOTES_COLLECTION, BOB_NOTE_KEY, 0, BOB_NOTE_TEXT, error);
  if (demo->bob_note_version == 0)
    return FALSE;
  demo->items_written++;
  g_print ("[bob] PUT %s/%s = \"%s\" -> version %" G_GUINT64_FORMAT "\n", NOTES_COLLECTION,
           BOB_NOTE_KEY, BOB_NOTE_TEXT, demo->bob_note_version);
  return TRUE;
}

/* --- 7. Alice's watch wakes ------------------------------------------------------------ */

static gboolean
step_alice_watch (Demo *demo, GError **error)
{
  Person *alice = &demo->alice;
  g_autofree char *text = NULL;
  guint64 new_head = 0, version = 0;

  /* The server answers the long poll when the head moves; a poll that times out
   * (nothing changed within the server's wait) is simply reopened. */
  for (;;)
    {
      g_autoptr (BbWatchResult) watch = NULL;
      GPtrArray *changed;

      watch = bb_client_watch_finish (alice->client, wait_for (&demo->watch_result), error);
      if (watch == NULL)
        return FALSE;
      changed = bb_watch_result_get_namespaces (watch);
      for (guint i = 0; i < changed->len; i++)
        {
          BbNamespaceListing *info = g_ptr_array_index (changed, i);

          if (g_strcmp0 (bb_namespace_listing_get_namespace_id (info), demo->shared_namespace_id) == 0)
            new_head = bb_namespace_listing_get_head (info);
        }
      if (new_head > demo->watched_head)
        break;
      if (!start_alice_watch (demo, error))
        return FALSE;
    }
  g_print ("[alice] long poll woke %.1f ms after Bob sent his write: shared namespace head "
           "%" G_GUINT64_FORMAT " -> %" G_GUINT64_FORMAT "\n",
           (demo->watch_woke_us - demo->bob_write_sent_us) / 1000.0, demo->watched_head, new_head);

  text = get_text (alice, demo->shared_namespace_id, alice->shared_dek, NOTES_COLLECTION,
                   BOB_NOTE_KEY, &version, error);
  if (text == NULL)
    return FALSE;
  if (g_strcmp0 (text, BOB_NOTE_TEXT) != 0)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_FAILED, "alice read \"%s\"", text);
      return FALSE;
    }
  g_print ("[alice] read Bob's note: \"%s\" (version %" G_GUINT64_FORMAT ")\n", text, version);
  return TRUE;
}

/* --- 8. a conflict -------------------------------------------------------------------- */

/* The merge policy of this demo: concatenate. Both sides appended to the same base
 * text, so the merged text is the remote text followed by what the local side added;
 * if the local text no longer starts with the base, the two texts are joined whole. */
static char *
merge_concatenate (const char *base, const char *local, const char *remote)
{
  if (g_str_has_prefix (local, base))
    return g_strconcat (remote, local + strlen (base), NULL);
  return g_strconcat (remote, "\n", local, NULL);
}

static gboolean
step_conflict (Demo *demo, GError **error)
{
  Person *alice = &demo->alice;
  Person *bob = &demo->bob;
  g_autoptr (GError) conflict = NULL;
  g_autofree char *alice_text = g_strconcat (SHARED_NOTE_TEXT, ALICE_ADDITION, NULL);
  g_autofree char *bob_text = g_strconcat (SHARED_NOTE_TEXT, BOB_ADDITION, NULL);
  g_autofree char *remote = NULL;
  g_autofree char *final = NULL;
  guint64 base_version = demo->shared_note_version;
  guint64 alice_version, remote_version = 0, merged_version, final_version = 0;

  /* Both edit the note they last saw at base_version; Alice's PUT lands first. */
  alice_version = put_text (alice, demo->shared_namespace_id, alice->shared_dek, NOTES_COLLECTION,
                            SHARED_NOTE_KEY, base_version, alice_text, error);
  if (alice_version == 0)
    return FALSE;
  demo->items_written++;
  g_print ("[alice] PUT %s with If-Match \"%" G_GUINT64_FORMAT
           "\": \"%s\" -> version %" G_GUINT64_FORMAT "\n",
           SHARED_NOTE_KEY, base_version, alice_text, alice_version);

  if (put_text (bob, demo->shared_namespace_id, bob->shared_dek, NOTES_COLLECTION, SHARED_NOTE_KEY,
                base_version, bob_text, &conflict)
      != 0)
    {
      g_set_error_literal (error, BB_SYNC_ERROR, BB_SYNC_ERROR_FAILED,
                           "bob's stale write was accepted");
      return FALSE;
    }
  if (bb_sync_error_get_http_status (conflict) != 412)
    {
      g_propagate_error (error, g_steal_pointer (&conflict));
      return FALSE;
    }
  g_print ("[bob] PUT %s with If-Match \"%" G_GUINT64_FORMAT "\" refused: %s\n", SHARED_NOTE_KEY,
           base_version, conflict->message);

  /* Refetch, merge, retry against the version just fetched. */
  remote = get_text (bob, demo->shared_namespace_id, bob->shared_dek, NOTES_COLLECTION,
                     SHARED_NOTE_KEY, &remote_version, error);
  if (remote == NULL)
    return FALSE;
  g_print ("[bob] refetched version %" G_GUINT64_FORMAT ": \"%s\"\n", remote_version, remote);
  demo->merged_note = merge_concatenate (SHARED_NOTE_TEXT, bob_text, remote);
  g_print ("[bob] merged (policy: concatenate, remote text + Bob's addition): \"%s\"\n",
           demo->merged_note);
  merged_version = put_text (bob, demo->shared_namespace_id, bob->shared_dek, NOTES_COLLECTION,
                             SHARED_NOTE_KEY, remote_version, demo->merged_note, error);
  if (merged_version == 0)
    return FALSE;
  demo->items_written++;
  demo->conflicts_merged++;
  g_print ("[bob] PUT %s with If-Match \"%" G_GUINT64_FORMAT "\" -> version %" G_GUINT64_FORMAT
           "\n",
           SHARED_NOTE_KEY, remote_version, merged_version);

  final = get_text (alice, demo->shared_namespace_id, alice->shared_dek, NOTES_COLLECTION,
                    SHARED_NOTE_KEY, &final_version, error);
  if (final == NULL)
    return FALSE;
  if (g_strcmp0 (final, demo->merged_note) != 0)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_FAILED, "alice read \"%s\"", final);
      return FALSE;
    }
  demo->shared_note_version = final_version;
  g_print ("[alice] reads the merged note at version %" G_GUINT64_FORMAT ": \"%s\"\n",
           final_version, final);
  return TRUE;
}

/* --- 9. sync metadata in a sealed SQLite store ------------------------------------------ */

static BbSqliteStore *
open_store (const char *path, GBytes *store_key, GError **error)
{
  g_autoptr (GAsyncResult) res = NULL;

  /* Opening reads and migrates the file; async keeps it off the main loop. */
  CALL (res, bb_sqlite_store_new_async (path, store_key, NULL, store_result, &res));
  return bb_sqlite_store_new_finish (wait_for (&res), error);
}

static BbItemState *
clean_item (Person *who, const char *namespace_id, GBytes *dek, const char *collection,
            const char *key, guint64 version, const char *value, GError **error)
{
  g_autofree char *item_id = bb_protocol_item_id (dek, collection, key, error);
  g_autoptr (GBytes) base = NULL;
  BbItemState *state;

  if (item_id == NULL)
    return NULL;
  base = g_bytes_new (value, strlen (value));
  state = bb_item_state_new (who->key_id, namespace_id, collection, key, item_id);
  /* clean: the local value equals the server's at @version, kept as the merge base */
  bb_item_state_mark_clean (state, version, base);
  return state;
}

static BbNamespaceState *
namespace_state (Person *who, const char *namespace_id, const char *kind, GBytes *dek)
{
  BbNamespaceState *state = bb_namespace_state_new (who->key_id, namespace_id);

  bb_namespace_state_set_kind (state, kind);
  bb_namespace_state_set_dek (state, dek);
  return state;
}

/* Sets @out_found if any file of the store (main file, WAL, journal) contains @needle. */
static gboolean
store_files_contain (const char *path, const void *needle, gsize needle_len, gboolean *out_found,
                     gsize *out_total, GError **error)
{
  static const char *const suffixes[] = { "", "-wal", "-journal" };

  *out_found = FALSE;
  *out_total = 0;
  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *file = g_strconcat (path, suffixes[i], NULL);
      g_autofree char *contents = NULL;
      gsize len = 0;

      if (!g_file_test (file, G_FILE_TEST_EXISTS))
        continue;
      if (!g_file_get_contents (file, &contents, &len, error))
        return FALSE;
      *out_total += len;
      if (memmem (contents, len, needle, needle_len) != NULL)
        *out_found = TRUE;
    }
  return TRUE;
}

/* The store key is drawn with bb_protocol_new_dek(), which has the store key's size. */
G_STATIC_ASSERT (BB_SQLITE_STORE_KEY_SIZE == BB_PROTOCOL_DEK_SIZE);

static gboolean
step_store (Demo *demo, GError **error)
{
  Person *alice = &demo->alice;
  g_autofree char *path = g_build_filename (demo->tmpdir, "alice-sync.sqlite", NULL);
  g_autoptr (GBytes) store_key = NULL;
  g_autoptr (GBytes) other_key = NULL;
  g_autoptr (BbSqliteStore) store = NULL;
  g_autoptr (BbSqliteStore) wrong = NULL;
  g_autoptr (BbIdentityState) identity = bb_identity_state_new (alice->key_id);
  g_autoptr (GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) namespaces = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GError) wrong_error = NULL;
  const char *secrets[] = { LABELS_VALUE, BOB_NOTE_TEXT, demo->merged_note };
  BbItemState *item;
  gboolean found = FALSE;
  gsize total = 0;
  guint listed = 0;

  /* The app supplies the key that seals secrets and values in the file; without one the
   * store keeps its key in the user's keyring (there is no keyring session here). A store
   * key is 32 random bytes like a DEK, so bb_protocol_new_dek() draws it (wiped when
   * freed). */
  store_key = bb_protocol_new_dek ();
  store = open_store (path, store_key, error);
  if (store == NULL)
    return FALSE;

  bb_identity_state_set_kind (identity, BB_PROTOCOL_KIND_KEYSTORE);
  bb_identity_state_set_default_namespace_id (identity, alice->default_namespace_id);
  if (!bb_store_save_identity (BB_STORE (store), identity, error))
    return FALSE;

  g_ptr_array_add (namespaces,
                   namespace_state (alice, alice->default_namespace_id,
                                    BB_PROTOCOL_NAMESPACE_KIND_DEFAULT, alice->default_dek));
  g_ptr_array_add (namespaces,
                   namespace_state (alice, demo->shared_namespace_id,
                                    BB_PROTOCOL_NAMESPACE_KIND_SHARED, alice->shared_dek));
  item = clean_item (alice, alice->default_namespace_id, alice->default_dek, LABELS_COLLECTION,
                     LABELS_KEY, demo->label_version, LABELS_VALUE, error);
  if (item == NULL)
    return FALSE;
  g_ptr_array_add (items, item);
  item = clean_item (alice, demo->shared_namespace_id, alice->shared_dek, NOTES_COLLECTION,
                     SHARED_NOTE_KEY, demo->shared_note_version, demo->merged_note, error);
  if (item == NULL)
    return FALSE;
  g_ptr_array_add (items, item);
  item = clean_item (alice, demo->shared_namespace_id, alice->shared_dek, NOTES_COLLECTION,
                     BOB_NOTE_KEY, demo->bob_note_version, BOB_NOTE_TEXT, error);
  if (item == NULL)
    return FALSE;
  g_ptr_array_add (items, item);

  /* One transaction for the whole batch. */
  if (!bb_store_save_batch (BB_STORE (store), items, namespaces, error))
    return FALSE;
  if (!bb_store_close (BB_STORE (store), error))
    return FALSE;
  g_clear_object (&store);
  g_print ("[alice] saved %u item states, %u namespaces and her identity record to %s\n",
           items->len, namespaces->len, path);

  /* Reopen and list what was saved. */
  store = open_store (path, store_key, error);
  if (store == NULL)
    return FALSE;
  for (guint n = 0; n < namespaces->len; n++)
    {
      const char *namespace_id
          = bb_namespace_state_get_namespace_id (g_ptr_array_index (namespaces, n));
      g_autoptr (GPtrArray) stored = NULL;
      g_autoptr (BbNamespaceState) ns = NULL;

      ns = bb_store_get_namespace (BB_STORE (store), alice->key_id, namespace_id, error);
      if (ns == NULL)
        return FALSE;
      if (!g_bytes_equal (bb_namespace_state_get_dek (ns),
                          bb_namespace_state_get_dek (g_ptr_array_index (namespaces, n))))
        {
          g_set_error_literal (error, BB_SYNC_ERROR, BB_SYNC_ERROR_FAILED,
                               "the reopened store returned another DEK");
          return FALSE;
        }
      stored = bb_store_list_namespace_items (BB_STORE (store), alice->key_id, namespace_id, error);
      if (stored == NULL)
        return FALSE;
      for (guint i = 0; i < stored->len; i++)
        {
          BbItemState *state = g_ptr_array_index (stored, i);
          g_autofree char *base = bytes_to_text (bb_item_state_get_base_value (state));

          g_print ("[alice]   reopened: %s namespace, %s/%s version %" G_GUINT64_FORMAT
                   ", %s, base \"%s\"\n",
                   bb_namespace_state_get_kind (ns), bb_item_state_get_collection (state),
                   bb_item_state_get_key (state), bb_item_state_get_version (state),
                   bb_item_state_get_dirty (state) ? "dirty" : "clean", base);
          listed++;
        }
    }
  if (listed != items->len)
    {
      g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_FAILED, "listed %u of %u items", listed,
                   items->len);
      return FALSE;
    }
  if (!bb_store_close (BB_STORE (store), error))
    return FALSE;

  /* The file on disk holds none of the values, and no namespace key. */
  for (guint i = 0; i < G_N_ELEMENTS (secrets); i++)
    {
      if (!store_files_contain (path, secrets[i], strlen (secrets[i]), &found, &total, error))
        return FALSE;
      if (found)
        {
          g_set_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_FAILED,
                       "the store file contains \"%s\" in plaintext", secrets[i]);
          return FALSE;
        }
    }
  for (guint n = 0; n < namespaces->len; n++)
    {
      GBytes *dek = bb_namespace_state_get_dek (g_ptr_array_index (namespaces, n));

      if (!store_files_contain (path, g_bytes_get_data (dek, NULL), g_bytes_get_size (dek), &found,
                                &total, error))
        return FALSE;
      if (found)
        {
          g_set_error_literal (error, BB_SYNC_ERROR, BB_SYNC_ERROR_FAILED,
                               "the store file contains a namespace DEK in plaintext");
          return FALSE;
        }
    }
  g_print ("[alice] the raw store file (%" G_GSIZE_FORMAT
           " bytes) contains no note text and no namespace key: they are sealed\n",
           total);

  /* Without the app's key the sealed columns do not open. */
  other_key = bb_protocol_new_dek ();
  wrong = open_store (path, other_key, &wrong_error);
  if (wrong != NULL)
    {
      g_set_error_literal (error, BB_SYNC_ERROR, BB_SYNC_ERROR_FAILED,
                           "the store opened with a wrong key");
      return FALSE;
    }
  g_print ("[alice] opening it with another key fails: %s\n", wrong_error->message);
  return TRUE;
}

/* --- main ----------------------------------------------------------------------------- */

typedef gboolean (*StepFunc) (Demo *demo, GError **error);

static const struct
{
  const char *name;
  StepFunc func;
} steps[] = {
  { "server", step_server },
  { "devices", step_devices },
  { "alice default namespace", step_alice_default },
  { "alice invite", step_alice_invite },
  { "bob join request", step_bob_join },
  { "alice approval", step_alice_approve },
  { "bob shared note", step_bob_read_write },
  { "alice watch", step_alice_watch },
  { "conflict", step_conflict },
  { "store", step_store },
};

static void
person_clear (Person *who)
{
  g_clear_object (&who->identity);
  g_clear_object (&who->client);
  g_clear_pointer (&who->key_id, g_free);
  g_clear_pointer (&who->default_namespace_id, g_free);
  g_clear_pointer (&who->default_dek, g_bytes_unref);
  g_clear_pointer (&who->shared_dek, g_bytes_unref);
}

/* Removes the temporary directory and the files the server and the store made in it. */
static void
remove_tmpdir (const char *tmpdir)
{
  g_autoptr (GDir) dir = g_dir_open (tmpdir, 0, NULL);
  const char *name;

  if (dir == NULL)
    return;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *file = g_build_filename (tmpdir, name, NULL);

      g_unlink (file);
    }
  g_rmdir (tmpdir);
}

static void
demo_clear (Demo *demo)
{
  /* Stop the long poll if it is still open, and let its callback run. */
  if (demo->watch_cancellable != NULL)
    g_cancellable_cancel (demo->watch_cancellable);
  person_clear (&demo->alice);
  person_clear (&demo->bob);
  if (demo->server != NULL)
    bb_server_shutdown (demo->server);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_object (&demo->watch_result);
  g_clear_object (&demo->watch_cancellable);
  g_clear_object (&demo->server);
  g_clear_pointer (&demo->invite, bb_invite_unref);
  g_clear_pointer (&demo->invite_uri, g_free);
  g_clear_pointer (&demo->shared_namespace_id, g_free);
  g_clear_pointer (&demo->merged_note, g_free);
  g_clear_pointer (&demo->base_url, g_free);
  g_clear_pointer (&demo->server_url, g_free);
  g_clear_pointer (&demo->origin, g_free);
  if (demo->tmpdir != NULL)
    remove_tmpdir (demo->tmpdir);
  g_clear_pointer (&demo->tmpdir, g_free);
}

int
main (int argc, char *argv[])
{
  Demo demo = { 0 };
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *canonical = NULL;
  const GOptionEntry entries[]
      = { { "server", 's', 0, G_OPTION_ARG_STRING, &demo.server_url,
            "Use a running bbsync-server instead of the embedded one", "URL" },
          { "origin", 'o', 0, G_OPTION_ARG_STRING, &demo.origin,
            "Public server origin put in invites (default " DEFAULT_ORIGIN ")", "ORIGIN" },
          { NULL } };
  int status = EXIT_SUCCESS;

  context = g_option_context_new ("- walk through bbsync against a BitBoxSync server");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("options: %s\n", error->message);
      return EXIT_FAILURE;
    }
  if (demo.origin == NULL)
    demo.origin = g_strdup (DEFAULT_ORIGIN);
  canonical = bb_protocol_canonical_origin (demo.origin, &error);
  if (canonical == NULL)
    {
      g_printerr ("options: %s\n", error->message);
      g_free (demo.origin);
      g_free (demo.server_url);
      return EXIT_FAILURE;
    }
  g_free (demo.origin);
  demo.origin = g_steal_pointer (&canonical);

  demo.tmpdir = g_dir_make_tmp ("bbsync-demo-XXXXXX", &error);
  if (demo.tmpdir == NULL)
    {
      g_printerr ("temporary directory: %s\n", error->message);
      demo_clear (&demo);
      return EXIT_FAILURE;
    }
  demo.watch_cancellable = g_cancellable_new ();
  person_init (&demo.alice, "alice", "demo-alice");
  person_init (&demo.bob, "bob", "demo-bob");

  for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
    {
      if (!steps[i].func (&demo, &error))
        {
          g_printerr ("%s: %s\n", steps[i].name, error->message);
          status = EXIT_FAILURE;
          break;
        }
    }

  if (status == EXIT_SUCCESS)
    g_print ("[demo] done: 2 identities, 2 namespaces, %u encrypted writes, %u conflict "
             "merged, 1 long-poll wake-up, sealed metadata store\n",
             demo.items_written, demo.conflicts_merged);
  demo_clear (&demo);
  return status;
}
