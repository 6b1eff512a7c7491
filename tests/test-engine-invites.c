/* test-engine-invites.c: the invite flows on BbSyncEngine and BbNamespace (issue 10,
 * invites spec §1) against an in-process BbServer, with invite secrets in the real
 * Secret Service (run under keyring-session.sh).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <bbsync/bbsync.h>
#include <glib/gstdio.h>
#include <string.h>

#include "bb-invite-secrets-private.h"
#include "bb-server.h"
#include "bb-test-utils.h"

#define ORIGIN "https://sync.example"

typedef struct
{
  BbClient *client;
  BbStore *store;
  BbSyncEngine *engine;
  BbValueBackend *backend;
} Person;

static void
drain_main_context (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static BbServer *
server_new (void)
{
  g_autoptr (GError) error = NULL;
  BbServer *server = bb_server_new (":memory:", &error);

  g_assert_no_error (error);
  g_assert_true (bb_server_add_public_origin (server, ORIGIN, &error));
  g_assert_no_error (error);
  g_assert_true (bb_server_listen (server, "127.0.0.1", 0, &error));
  g_assert_no_error (error);
  return server;
}

static void
server_free (BbServer *server)
{
  bb_server_shutdown (server);
  g_object_unref (server);
  drain_main_context ();
}

static void
person_init (Person *p, BbServer *server, const char *label)
{
  g_autoptr (BbTestIdentity) identity = bb_test_identity_new (label);
  g_autoptr (GBytes) key = bb_test_repeat (0x33, 32);
  g_autoptr (GError) error = NULL;

  p->client = bb_client_new (bb_server_get_base_url (server), &error);
  g_assert_no_error (error);
  p->store = BB_STORE (bb_sqlite_store_new_sync (BB_SQLITE_STORE_IN_MEMORY, key, NULL, &error));
  g_assert_no_error (error);
  p->engine = bb_sync_engine_new (p->client, BB_IDENTITY (identity), p->store, &error);
  g_assert_no_error (error);
  bb_sync_engine_set_namespace_watch (p->engine, FALSE);
  p->backend = bb_memory_value_backend_new ();
  bb_memory_value_backend_set_scope (BB_MEMORY_VALUE_BACKEND (p->backend),
                                     (const char *const[]){ "from-alice", "from-bob", NULL });
}

/* Alice with a file store (the same store key each time), as a restarted process has. */
static void
person_init_file (Person *p, const char *base_url, const char *store_path)
{
  g_autoptr (BbTestIdentity) identity = bb_test_identity_new ("alice");
  g_autoptr (GBytes) key = bb_test_repeat (0x44, 32);
  g_autoptr (GError) error = NULL;

  p->client = bb_client_new (base_url, &error);
  g_assert_no_error (error);
  p->store = BB_STORE (bb_sqlite_store_new_sync (store_path, key, NULL, &error));
  g_assert_no_error (error);
  p->engine = bb_sync_engine_new (p->client, BB_IDENTITY (identity), p->store, &error);
  g_assert_no_error (error);
  bb_sync_engine_set_namespace_watch (p->engine, FALSE);
  p->backend = bb_memory_value_backend_new ();
  bb_memory_value_backend_set_scope (BB_MEMORY_VALUE_BACKEND (p->backend),
                                     (const char *const[]){ "from-alice", "from-bob", NULL });
}

static void
person_clear (Person *p)
{
  bb_sync_engine_close (p->engine);
  drain_main_context ();
  g_clear_object (&p->engine);
  g_clear_object (&p->backend);
  g_clear_object (&p->store);
  g_clear_object (&p->client);
}

static void
person_sync (Person *p)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;

  BB_TEST_AWAIT (res, bb_sync_engine_sync_async (p->engine, NULL, bb_test_got_result, &res));
  g_assert_true (bb_sync_engine_sync_finish (p->engine, res, &error));
  g_assert_no_error (error);
}

static BbCollection *
open_notes (Person *p, BbNamespace *ns)
{
  g_autoptr (BbCodec) codec = bb_codec_new_string ();
  g_autoptr (GError) error = NULL;
  BbCollection *collection = bb_namespace_open_collection (ns, "notes", codec, p->backend, &error);

  g_assert_no_error (error);
  return collection;
}

static void
assert_value (Person *p, const char *key, const char *expected)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) value = bb_value_backend_get_value (p->backend, key, &error);

  g_assert_no_error (error);
  g_assert_nonnull (value);
  g_assert_cmpstr (g_variant_get_string (value, NULL), ==, expected);
}

static BbNamespace *
create_shared (Person *p)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  BbNamespace *ns;

  BB_TEST_AWAIT (res, bb_sync_engine_create_shared_namespace_async (p->engine, NULL,
                                                                    bb_test_got_result, &res));
  ns = bb_sync_engine_create_shared_namespace_finish (p->engine, res, &error);
  g_assert_no_error (error);
  return ns;
}

static BbInvite *
create_invite (BbNamespace *ns, GError **error)
{
  g_autoptr (GAsyncResult) res = NULL;

  BB_TEST_AWAIT (
      res, bb_namespace_create_invite_async (ns, ORIGIN, 0, 0, 5, NULL, bb_test_got_result, &res));
  return bb_namespace_create_invite_finish (ns, res, error);
}

/* Bob submits a join request from the invite's URI. */
static void
submit_from_uri (Person *bob, BbInvite *invite)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *uri = bb_invite_to_uri (invite);
  g_autoptr (BbInvite) scanned = bb_invite_new_from_uri (uri, &error);
  g_autoptr (BbJoinRequestListing) submitted = NULL;

  g_assert_no_error (error);
  BB_TEST_AWAIT (res, bb_sync_engine_submit_join_request_async (bob->engine, scanned, NULL,
                                                                bb_test_got_result, &res));
  submitted = bb_sync_engine_submit_join_request_finish (bob->engine, res, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_join_request_listing_get_status (submitted), ==, "pending");
  g_assert_cmpstr (bb_join_request_listing_get_namespace_id (submitted), ==,
                   bb_invite_get_namespace_id (invite));
}

static void
refresh (BbNamespace *ns, guint expected)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;

  BB_TEST_AWAIT (res,
                 bb_namespace_refresh_join_requests_async (ns, NULL, bb_test_got_result, &res));
  g_assert_true (bb_namespace_refresh_join_requests_finish (ns, res, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (bb_namespace_get_join_requests (ns)), ==, expected);
}

static BbPendingJoinRequest *
pending_at (BbNamespace *ns, guint position)
{
  return g_list_model_get_item (bb_namespace_get_join_requests (ns), position);
}

/* The whole flow: invite, join request, approval, then both read each other's values. */
static void
test_invite_join_approve (void)
{
  BbServer *server = server_new ();
  Person alice = { 0 }, bob = { 0 };
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BbNamespace) ns = NULL;
  g_autoptr (BbNamespace) bob_ns = NULL;
  g_autoptr (BbCollection) alice_notes = NULL;
  g_autoptr (BbCollection) bob_notes = NULL;
  g_autoptr (BbInvite) invite = NULL;
  g_autoptr (BbPendingJoinRequest) pending = NULL;

  person_init (&alice, server, "alice");
  person_init (&bob, server, "bob");

  ns = create_shared (&alice);
  alice_notes = open_notes (&alice, ns);
  g_assert_true (bb_value_backend_set_value (alice.backend, "from-alice",
                                             g_variant_new_string ("hello bob"), NULL));
  person_sync (&alice);

  invite = create_invite (ns, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (bb_invite_get_namespace_id (invite), ==, bb_namespace_get_id (ns));
  g_assert_cmpstr (bb_invite_get_server_origin (invite), ==, ORIGIN);

  submit_from_uri (&bob, invite);

  refresh (ns, 1);
  pending = pending_at (ns, 0);
  g_assert_cmpstr (bb_pending_join_request_get_requester_key_id (pending), ==,
                   bb_sync_engine_get_key_id (bob.engine));
  g_assert_cmpstr (bb_pending_join_request_get_namespace_id (pending), ==,
                   bb_namespace_get_id (ns));
  g_assert_cmpstr (bb_pending_join_request_get_invite_id (pending), ==,
                   bb_invite_get_invite_id (invite));
  g_assert_nonnull (bb_pending_join_request_get_info (pending));

  BB_TEST_AWAIT (
      res, bb_namespace_approve_join_request_async (
               ns, bb_pending_join_request_get_request (pending), NULL, bb_test_got_result, &res));
  g_assert_true (bb_namespace_approve_join_request_finish (ns, res, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (bb_namespace_get_join_requests (ns)), ==, 0);

  BB_TEST_AWAIT (res, bb_sync_engine_join_namespace_async (bob.engine, bb_namespace_get_id (ns),
                                                           NULL, bb_test_got_result, &res));
  bob_ns = bb_sync_engine_join_namespace_finish (bob.engine, res, &error);
  g_assert_no_error (error);
  bob_notes = open_notes (&bob, bob_ns);
  person_sync (&bob);
  assert_value (&bob, "from-alice", "hello bob");

  g_assert_true (bb_value_backend_set_value (bob.backend, "from-bob",
                                             g_variant_new_string ("hi alice"), NULL));
  person_sync (&bob);
  person_sync (&alice);
  assert_value (&alice, "from-bob", "hi alice");

  BB_TEST_AWAIT (res, bb_namespace_revoke_invite_async (ns, bb_invite_get_invite_id (invite), NULL,
                                                        bb_test_got_result, &res));
  g_assert_true (bb_namespace_revoke_invite_finish (ns, res, &error));
  g_assert_no_error (error);

  person_clear (&bob);
  person_clear (&alice);
  server_free (server);
}

/* Tampering: no approval without the invite's secret, nor against another invite. */
static void
test_approve_refused (void)
{
  BbServer *server = server_new ();
  Person alice = { 0 }, bob = { 0 };
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BbNamespace) ns = NULL;
  g_autoptr (BbInvite) invite = NULL;
  g_autoptr (BbInvite) other = NULL;
  g_autoptr (BbPendingJoinRequest) pending = NULL;
  g_autoptr (GBytes) other_secret = NULL;

  person_init (&alice, server, "alice");
  person_init (&bob, server, "bob");
  ns = create_shared (&alice);
  invite = create_invite (ns, &error);
  g_assert_no_error (error);
  submit_from_uri (&bob, invite);
  refresh (ns, 1);
  pending = pending_at (ns, 0);

  /* A request checked against an invite with another secret fails the proof. */
  other_secret = bb_protocol_new_invite_secret ();
  other = bb_invite_new (bb_invite_get_server_origin (invite), bb_invite_get_namespace_id (invite),
                         bb_invite_get_invite_id (invite), bb_invite_get_expires_at (invite),
                         other_secret, &error);
  g_assert_no_error (error);
  g_assert_false (bb_invite_verify_join_request (other, bb_namespace_get_id (ns),
                                                 bb_pending_join_request_get_info (pending),
                                                 g_get_real_time () / G_USEC_PER_SEC, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  /* Revoked: the keyring secret is gone, the stale entry is not approved. */
  BB_TEST_AWAIT (res, bb_namespace_revoke_invite_async (ns, bb_invite_get_invite_id (invite), NULL,
                                                        bb_test_got_result, &res));
  g_assert_true (bb_namespace_revoke_invite_finish (ns, res, &error));
  g_assert_no_error (error);
  BB_TEST_AWAIT (
      res, bb_namespace_approve_join_request_async (
               ns, bb_pending_join_request_get_request (pending), NULL, bb_test_got_result, &res));
  g_assert_false (bb_namespace_approve_join_request_finish (ns, res, &error));
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Nothing was approved: Bob cannot join. */
  BB_TEST_AWAIT (res, bb_sync_engine_join_namespace_async (bob.engine, bb_namespace_get_id (ns),
                                                           NULL, bb_test_got_result, &res));
  g_assert_null (bb_sync_engine_join_namespace_finish (bob.engine, res, &error));
  g_assert_nonnull (error);

  person_clear (&bob);
  person_clear (&alice);
  server_free (server);
}

static BbOpenInvite *
open_invite_at (BbNamespace *ns, guint position)
{
  return g_list_model_get_item (bb_namespace_get_invites (ns), position);
}

static void
refresh_invites (BbNamespace *ns, guint expected)
{
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;

  BB_TEST_AWAIT (res, bb_namespace_refresh_invites_async (ns, NULL, bb_test_got_result, &res));
  g_assert_true (bb_namespace_refresh_invites_finish (ns, res, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (bb_namespace_get_invites (ns)), ==, expected);
}

/* The open-invite model: creating adds, revoking removes, refreshing replaces. */
static void
test_open_invites (void)
{
  BbServer *server = server_new ();
  Person alice = { 0 };
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BbNamespace) ns = NULL;
  g_autoptr (BbInvite) invite = NULL;
  g_autoptr (BbInvite) second = NULL;
  g_autoptr (BbOpenInvite) item = NULL;
  g_autofree char *invite_id = NULL;
  gint64 expires_at = 0;

  person_init (&alice, server, "alice");
  ns = create_shared (&alice);
  g_assert_cmpuint (g_list_model_get_item_type (bb_namespace_get_invites (ns)), ==,
                    BB_TYPE_OPEN_INVITE);
  refresh_invites (ns, 0);

  invite = create_invite (ns, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (bb_namespace_get_invites (ns)), ==, 1);
  item = open_invite_at (ns, 0);
  g_assert_cmpstr (bb_open_invite_get_invite_id (item), ==, bb_invite_get_invite_id (invite));
  g_assert_cmpstr (bb_open_invite_get_namespace_id (item), ==, bb_namespace_get_id (ns));
  g_assert_cmpint (bb_open_invite_get_expires_at (item), ==, bb_invite_get_expires_at (invite));
  g_assert_cmpuint (bb_open_invite_get_max_pending (item), ==, 5);
  g_assert_cmpuint (bb_open_invite_get_max_accepted (item), ==, 10);
  g_assert_cmpuint (bb_open_invite_get_active_request_count (item), ==, 0);
  g_assert_cmpuint (bb_open_invite_get_accepted_count (item), ==, 0);
  g_assert_cmpstr (bb_invite_listing_get_invite_id (bb_open_invite_get_info (item)), ==,
                   bb_invite_get_invite_id (invite));
  g_object_get (item, "invite-id", &invite_id, "expires-at", &expires_at, NULL);
  g_assert_cmpstr (invite_id, ==, bb_invite_get_invite_id (invite));
  g_assert_cmpint (expires_at, ==, bb_invite_get_expires_at (invite));
  g_clear_object (&item);

  /* The server lists it the same way. */
  refresh_invites (ns, 1);
  item = open_invite_at (ns, 0);
  g_assert_cmpstr (bb_open_invite_get_invite_id (item), ==, bb_invite_get_invite_id (invite));
  g_assert_cmpint (bb_open_invite_get_expires_at (item), ==, bb_invite_get_expires_at (invite));
  g_clear_object (&item);

  BB_TEST_AWAIT (res, bb_namespace_revoke_invite_async (ns, bb_invite_get_invite_id (invite), NULL,
                                                        bb_test_got_result, &res));
  g_assert_true (bb_namespace_revoke_invite_finish (ns, res, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (bb_namespace_get_invites (ns)), ==, 0);
  /* The server still lists the revoked invite; it is not open. */
  refresh_invites (ns, 0);

  /* Revoked behind the model's back: the model keeps it until a refresh replaces it. */
  g_clear_pointer (&invite, bb_invite_unref);
  invite = create_invite (ns, &error);
  g_assert_no_error (error);
  BB_TEST_AWAIT (res, bb_client_revoke_invite_async (alice.client, bb_namespace_get_id (ns),
                                                     bb_invite_get_invite_id (invite), NULL,
                                                     bb_test_got_result, &res));
  g_assert_true (bb_client_revoke_invite_finish (alice.client, res, &error));
  g_assert_no_error (error);
  second = create_invite (ns, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (bb_namespace_get_invites (ns)), ==, 2);
  refresh_invites (ns, 1);
  item = open_invite_at (ns, 0);
  g_assert_cmpstr (bb_open_invite_get_invite_id (item), ==, bb_invite_get_invite_id (second));

  person_clear (&alice);
  server_free (server);
}

/* Approval with an invite the app keeps itself: no keyring lookup, the same check. */
static void
test_approve_with_invite (void)
{
  BbServer *server = server_new ();
  Person alice = { 0 }, bob = { 0 };
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BbNamespace) ns = NULL;
  g_autoptr (BbNamespace) bob_ns = NULL;
  g_autoptr (BbInvite) invite = NULL;
  g_autoptr (BbInvite) other = NULL;
  g_autoptr (BbInvite) forged = NULL;
  g_autoptr (BbPendingJoinRequest) pending = NULL;
  g_autoptr (BbOpenInvite) item = NULL;
  g_autoptr (GBytes) forged_secret = NULL;

  person_init (&alice, server, "alice");
  person_init (&bob, server, "bob");
  ns = create_shared (&alice);
  invite = create_invite (ns, &error);
  g_assert_no_error (error);
  other = create_invite (ns, &error);
  g_assert_no_error (error);

  /* The app keeps the secret: none in the keyring. */
  BB_TEST_AWAIT (res, bb_invite_secrets_delete_async (
                          bb_sync_engine_get_key_id (alice.engine), bb_namespace_get_id (ns),
                          bb_invite_get_invite_id (invite), NULL, bb_test_got_result, &res));
  g_assert_true (bb_invite_secrets_delete_finish (res, &error));
  g_assert_no_error (error);

  submit_from_uri (&bob, invite);
  refresh (ns, 1);
  pending = pending_at (ns, 0);

  /* Another invite of the namespace: the request did not come through it. */
  BB_TEST_AWAIT (res, bb_namespace_approve_join_request_with_invite_async (
                          ns, bb_pending_join_request_get_request (pending), other, NULL,
                          bb_test_got_result, &res));
  g_assert_false (bb_namespace_approve_join_request_with_invite_finish (ns, res, &error));
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT);
  g_clear_error (&error);

  /* The same invite ID with another secret: the proof fails. */
  forged_secret = bb_protocol_new_invite_secret ();
  forged = bb_invite_new (bb_invite_get_server_origin (invite), bb_invite_get_namespace_id (invite),
                          bb_invite_get_invite_id (invite), bb_invite_get_expires_at (invite),
                          forged_secret, &error);
  g_assert_no_error (error);
  BB_TEST_AWAIT (res, bb_namespace_approve_join_request_with_invite_async (
                          ns, bb_pending_join_request_get_request (pending), forged, NULL,
                          bb_test_got_result, &res));
  g_assert_false (bb_namespace_approve_join_request_with_invite_finish (ns, res, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_cmpuint (g_list_model_get_n_items (bb_namespace_get_join_requests (ns)), ==, 1);

  /* Without the keyring secret the plain approval finds nothing. */
  BB_TEST_AWAIT (
      res, bb_namespace_approve_join_request_async (
               ns, bb_pending_join_request_get_request (pending), NULL, bb_test_got_result, &res));
  g_assert_false (bb_namespace_approve_join_request_finish (ns, res, &error));
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* The right invite. */
  BB_TEST_AWAIT (res, bb_namespace_approve_join_request_with_invite_async (
                          ns, bb_pending_join_request_get_request (pending), invite, NULL,
                          bb_test_got_result, &res));
  g_assert_true (bb_namespace_approve_join_request_with_invite_finish (ns, res, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (bb_namespace_get_join_requests (ns)), ==, 0);

  /* The approval refreshed the open invites: both still open, one request accepted. */
  g_assert_cmpuint (g_list_model_get_n_items (bb_namespace_get_invites (ns)), ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      g_clear_object (&item);
      item = open_invite_at (ns, i);
      if (g_strcmp0 (bb_open_invite_get_invite_id (item), bb_invite_get_invite_id (invite)) == 0)
        break;
    }
  g_assert_cmpstr (bb_open_invite_get_invite_id (item), ==, bb_invite_get_invite_id (invite));
  g_assert_cmpuint (bb_open_invite_get_accepted_count (item), ==, 1);

  BB_TEST_AWAIT (res, bb_sync_engine_join_namespace_async (bob.engine, bb_namespace_get_id (ns),
                                                           NULL, bb_test_got_result, &res));
  bob_ns = bb_sync_engine_join_namespace_finish (bob.engine, res, &error);
  g_assert_no_error (error);

  person_clear (&bob);
  person_clear (&alice);
  server_free (server);
}

static void
test_default_namespace_refused (void)
{
  BbServer *server = server_new ();
  Person alice = { 0 };
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (BbNamespace) ns = NULL;
  g_autoptr (BbInvite) invite = NULL;

  person_init (&alice, server, "alice");
  BB_TEST_AWAIT (
      res, bb_sync_engine_default_namespace_async (alice.engine, NULL, bb_test_got_result, &res));
  ns = bb_sync_engine_default_namespace_finish (alice.engine, res, &error);
  g_assert_no_error (error);

  invite = create_invite (ns, &error);
  g_assert_null (invite);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_INVALID_INPUT);
  g_assert_nonnull (strstr (error->message, "shared"));

  person_clear (&alice);
  server_free (server);
}

/* Child process of the restart test: Alice creates a shared namespace, writes, syncs and
 * creates an invite admitting one request, whose URI goes to @out_path. */
static int
child_create (const char *base_url, const char *store_path, const char *out_path)
{
  Person alice = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (BbNamespace) ns = NULL;
  g_autoptr (BbCollection) notes = NULL;
  g_autoptr (BbInvite) invite = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autofree char *uri = NULL;

  person_init_file (&alice, base_url, store_path);
  ns = create_shared (&alice);
  notes = open_notes (&alice, ns);
  g_assert_true (bb_value_backend_set_value (alice.backend, "from-alice",
                                             g_variant_new_string ("hello bob"), NULL));
  person_sync (&alice);
  BB_TEST_AWAIT (
      res, bb_namespace_create_invite_async (ns, ORIGIN, 0, 1, 5, NULL, bb_test_got_result, &res));
  invite = bb_namespace_create_invite_finish (ns, res, &error);
  g_assert_no_error (error);
  uri = bb_invite_to_uri (invite);
  g_assert_true (g_file_set_contents (out_path, uri, -1, &error));
  g_assert_no_error (error);
  g_clear_object (&notes);
  g_clear_object (&ns);
  person_clear (&alice);
  return 0;
}

/* Child process of the restart test: a new engine on the same store refreshes and
 * approves the one pending request, with the invite secret from the keyring; the invite
 * is then used up and its secret gone. */
static int
child_approve (const char *base_url, const char *store_path, const char *namespace_id,
               const char *invite_id)
{
  Person alice = { 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (BbNamespace) ns = NULL;
  g_autoptr (BbPendingJoinRequest) pending = NULL;
  g_autoptr (BbInvite) secret = NULL;
  g_autoptr (GAsyncResult) res = NULL;

  person_init_file (&alice, base_url, store_path);
  BB_TEST_AWAIT (res, bb_sync_engine_lookup_namespace_async (alice.engine, namespace_id, NULL,
                                                             bb_test_got_result, &res));
  ns = bb_sync_engine_lookup_namespace_finish (alice.engine, res, &error);
  g_assert_no_error (error);
  refresh (ns, 1);
  pending = pending_at (ns, 0);
  g_assert_cmpstr (bb_pending_join_request_get_invite_id (pending), ==, invite_id);
  BB_TEST_AWAIT (
      res, bb_namespace_approve_join_request_async (
               ns, bb_pending_join_request_get_request (pending), NULL, bb_test_got_result, &res));
  g_assert_true (bb_namespace_approve_join_request_finish (ns, res, &error));
  g_assert_no_error (error);

  BB_TEST_AWAIT (res, bb_invite_secrets_lookup_async (bb_sync_engine_get_key_id (alice.engine),
                                                      namespace_id, invite_id, NULL,
                                                      bb_test_got_result, &res));
  secret = bb_invite_secrets_lookup_finish (res, &error);
  g_assert_null (secret);
  g_assert_error (error, BB_SYNC_ERROR, BB_SYNC_ERROR_NOT_FOUND);

  g_clear_object (&ns);
  person_clear (&alice);
  return 0;
}

static char *self_exe;

/* Runs this program as a child with @args, the server going on in this process. */
static void
run_child (const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GSubprocess) child = NULL;
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;

  g_ptr_array_add (argv, self_exe);
  g_ptr_array_add (argv, (gpointer) "--restart-child");
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer)args[i]);
  g_ptr_array_add (argv, NULL);
  child = g_subprocess_newv ((const char *const *)argv->pdata, G_SUBPROCESS_FLAGS_STDOUT_SILENCE,
                             &error);
  g_assert_no_error (error);
  BB_TEST_AWAIT (res, g_subprocess_wait_check_async (child, NULL, bb_test_got_result, &res));
  g_assert_true (g_subprocess_wait_check_finish (child, res, &error));
  g_assert_no_error (error);
}

/* Approval after a process restart: the invite is created in one process, the request
 * approved in another on the same store file and keyring. */
static void
test_approve_after_restart (void)
{
  BbServer *server = server_new ();
  Person bob = { 0 };
  g_autoptr (GAsyncResult) res = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("bbsync-invites-XXXXXX", &error);
  g_autofree char *store_path = NULL;
  g_autofree char *uri_path = NULL;
  g_autofree char *uri = NULL;
  g_autoptr (BbInvite) invite = NULL;
  g_autoptr (BbNamespace) bob_ns = NULL;
  g_autoptr (BbCollection) bob_notes = NULL;
  const char *base_url = bb_server_get_base_url (server);

  g_assert_no_error (error);
  store_path = g_build_filename (dir, "alice.db", NULL);
  uri_path = g_build_filename (dir, "invite.uri", NULL);

  run_child ((const char *const[]){ "create", base_url, store_path, uri_path, NULL });
  g_assert_true (g_file_get_contents (uri_path, &uri, NULL, &error));
  g_assert_no_error (error);
  invite = bb_invite_new_from_uri (uri, &error);
  g_assert_no_error (error);

  person_init (&bob, server, "bob");
  submit_from_uri (&bob, invite);

  run_child ((const char *const[]){ "approve", base_url, store_path,
                                    bb_invite_get_namespace_id (invite),
                                    bb_invite_get_invite_id (invite), NULL });

  BB_TEST_AWAIT (res, bb_sync_engine_join_namespace_async (bob.engine,
                                                           bb_invite_get_namespace_id (invite),
                                                           NULL, bb_test_got_result, &res));
  bob_ns = bb_sync_engine_join_namespace_finish (bob.engine, res, &error);
  g_assert_no_error (error);
  bob_notes = open_notes (&bob, bob_ns);
  person_sync (&bob);
  assert_value (&bob, "from-alice", "hello bob");

  g_clear_object (&bob_notes);
  g_clear_object (&bob_ns);
  person_clear (&bob);
  server_free (server);
  for (const char *const *name
       = (const char *const[]){ "alice.db", "alice.db-wal", "alice.db-shm", "invite.uri", NULL };
       *name != NULL; name++)
    {
      g_autofree char *path = g_build_filename (dir, *name, NULL);

      g_unlink (path);
    }
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  int status;

  if (argc >= 2 && g_strcmp0 (argv[1], "--restart-child") == 0)
    {
      if (argc == 6 && g_strcmp0 (argv[2], "create") == 0)
        return child_create (argv[3], argv[4], argv[5]);
      if (argc == 7 && g_strcmp0 (argv[2], "approve") == 0)
        return child_approve (argv[3], argv[4], argv[5], argv[6]);
      return 2;
    }

  g_test_init (&argc, &argv, NULL);
  self_exe = g_file_read_link ("/proc/self/exe", NULL);
  if (self_exe == NULL)
    self_exe = g_strdup (argv[0]);

  g_test_add_func ("/engine/invites/join-approve", test_invite_join_approve);
  g_test_add_func ("/engine/invites/approve-refused", test_approve_refused);
  g_test_add_func ("/engine/invites/open-invites", test_open_invites);
  g_test_add_func ("/engine/invites/approve-with-invite", test_approve_with_invite);
  g_test_add_func ("/engine/invites/default-namespace", test_default_namespace_refused);
  g_test_add_func ("/engine/invites/approve-after-restart", test_approve_after_restart);
  status = g_test_run ();
  g_free (self_exe);
  return status;
}
