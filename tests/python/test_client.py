#!/usr/bin/env python3
# test_client.py: BbClient and BbIdentity through the BbSync typelib, against the
# bbsync-server program on loopback
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import subprocess
import sys
import unittest

import gi

gi.require_version('GLib', '2.0')
gi.require_version('GObject', '2.0')
gi.require_version('Gio', '2.0')
gi.require_version('BbSync', '1')
from bbtest import ServerTestCase, run  # noqa: E402
from gi.repository import BbSync, Gio, GLib, GObject  # noqa: E402

try:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, x25519
except ImportError:  # pragma: no cover
    ed25519 = None

ERROR_DOMAIN = 'bb-sync-error-quark'


def raw(gbytes):
    return bytes(gbytes.get_data() or b'')


class PyIdentity(GObject.Object, BbSync.Identity):
    """An identity written in Python: its own Ed25519 and X25519 keys, and only
    sign_payload implemented; the intent-specific operations are the interface's."""

    def __init__(self):
        super().__init__()
        self.auth = ed25519.Ed25519PrivateKey.generate()
        self.wrap = x25519.X25519PrivateKey.generate()
        self.pending = {}
        self.signed = 0

    @staticmethod
    def _public(key):
        return GLib.Bytes.new(key.public_key().public_bytes(serialization.Encoding.Raw,
                                                            serialization.PublicFormat.Raw))

    def do_get_auth_public_key(self):
        return self._public(self.auth)

    def do_get_wrap_public_key(self):
        return self._public(self.wrap)

    def do_sign_payload_async(self, payload, cancellable, callback, user_data):
        # The C callback reaches Python with its user data already bound.
        task = Gio.Task.new(self, cancellable, lambda src, res, data: callback(src, res), None)
        self.pending[task] = GLib.Bytes.new(self.auth.sign(raw(payload)))
        self.signed += 1
        task.return_boolean(True)

    def do_sign_payload_finish(self, result):
        return self.pending.pop(result)


class ClientTest(ServerTestCase):
    def login(self, client, identity):
        result = run(client.login_with_identity_async, client.login_with_identity_finish, identity)
        self.assertEqual(result.get_kind(), 'keystore')
        self.assertEqual(client.dup_access_token(), result.get_access_token())
        return result

    def ensure_default(self, client, identity):
        namespace_id = os.urandom(16).hex()
        dek = GLib.Bytes.new(os.urandom(32))
        wrapped = BbSync.protocol_wrap_dek(identity.get_wrap_public_key(), namespace_id, dek)
        info = run(client.ensure_default_namespace_async, client.ensure_default_namespace_finish,
                   namespace_id, wrapped)
        self.assertTrue(info.get_created())
        self.assertEqual(info.get_namespace_id(), namespace_id)
        return namespace_id, dek

    def put(self, client, namespace_id, item_id, dek, known_version, text):
        ciphertext, nonce, aad = BbSync.protocol_encrypt_item(
            dek, namespace_id, item_id, known_version + 1, GLib.Bytes.new(text.encode()))
        return run(client.put_item_async, client.put_item_finish,
                   namespace_id, item_id, known_version, nonce, aad, ciphertext)

    def test_login_put_get(self):
        client = BbSync.Client.new(self.base_url)
        self.assertEqual(client.get_timeout(), 75)
        identity = BbSync.TestIdentity.new('python-alice')
        self.login(client, identity)
        namespace_id, dek = self.ensure_default(client, identity)

        item_id = BbSync.protocol_item_id(dek, 'notes', 'tx1')
        self.assertEqual(self.put(client, namespace_id, item_id, dek, 0, 'hello'), 1)
        self.assertEqual(self.put(client, namespace_id, item_id, dek, 1, 'hello again'), 2)

        item = run(client.get_item_async, client.get_item_finish, namespace_id, item_id)
        self.assertEqual(item.get_version(), 2)
        plaintext = BbSync.protocol_decrypt_item(dek, namespace_id, item_id, item.get_version(),
                                                 item.get_nonce(), item.get_aad(),
                                                 item.get_ciphertext())
        self.assertEqual(raw(plaintext), b'hello again')

        items = run(client.get_items_async, client.get_items_finish, namespace_id)
        self.assertEqual(items.get_head(), 2)
        self.assertEqual(items.get_version(item_id), 2)
        self.assertEqual(items.dup_item_ids(), [item_id])

        namespaces = run(client.list_namespaces_async, client.list_namespaces_finish)
        self.assertEqual([n.get_namespace_id() for n in namespaces], [namespace_id])

        # A stale If-Match is an API error whose status Python can read.
        with self.assertRaises(GLib.Error) as caught:
            self.put(client, namespace_id, item_id, dek, 1, 'stale')
        error = caught.exception
        self.assertEqual(error.domain, ERROR_DOMAIN)
        self.assertEqual(error.code, BbSync.SyncError.API)
        self.assertTrue(error.message.startswith('HTTP 412: '), error.message)
        self.assertEqual(BbSync.sync_error_get_http_status(error), 412)

    def test_retry_after(self):
        # A real 503 with Retry-After, from a server injecting faults on every request.
        server = subprocess.Popen([os.environ['BBSYNC_SERVER'], '--listen', '127.0.0.1:0',
                                   '--database', ':memory:', '--error-rate', '1',
                                   '--error-status', '503', '--retry-after', '30'],
                                  stdout=subprocess.PIPE, text=True)
        try:
            base_url = server.stdout.readline().strip().split()[-1]
            client = BbSync.Client.new(base_url)
            with self.assertRaises(GLib.Error) as caught:
                run(client.list_namespaces_async, client.list_namespaces_finish)
        finally:
            server.terminate()
            server.wait(10)
            server.stdout.close()
        error = caught.exception
        self.assertEqual(error.message, 'HTTP 503: injected fault (retry after 30 s)')
        self.assertEqual(BbSync.sync_error_get_http_status(error), 503)
        self.assertEqual(BbSync.sync_error_get_retry_after(error), 30)

        # The same from an error built in Python, and what does not count.
        domain = GLib.quark_from_string(ERROR_DOMAIN)
        for message, code, expected in [
                ('HTTP 429: slow down (retry after 12 s)', BbSync.SyncError.API, 12),
                ('HTTP 429: slow down (retry after 999999 s)', BbSync.SyncError.API,
                 BbSync.SYNC_ERROR_RETRY_AFTER_MAX),
                ('HTTP 500: boom (retry after 12 s)', BbSync.SyncError.API, 0),
                ('HTTP 503: slow down', BbSync.SyncError.API, 0),
                ('HTTP 503: x (retry after 12 s)', BbSync.SyncError.PROTOCOL, 0)]:
            built = GLib.Error.new_literal(domain, message, code)
            self.assertEqual(BbSync.sync_error_get_retry_after(built), expected, message)

    def test_unauthenticated_and_bad_arguments(self):
        client = BbSync.Client.new(self.base_url + '///')
        self.assertEqual(client.get_base_url(), self.base_url)
        with self.assertRaises(GLib.Error) as caught:
            run(client.list_namespaces_async, client.list_namespaces_finish)
        self.assertEqual(BbSync.sync_error_get_http_status(caught.exception), 401)

        with self.assertRaises(GLib.Error) as caught:
            run(client.get_items_async, client.get_items_finish, 'NOT-HEX')
        self.assertEqual(caught.exception.code, BbSync.SyncError.INVALID_INPUT)
        self.assertEqual(BbSync.sync_error_get_http_status(caught.exception), 0)

        with self.assertRaises(GLib.Error) as caught:
            BbSync.Client.new('http://example.org')
        self.assertEqual(caught.exception.code, BbSync.SyncError.INVALID_INPUT)

    def test_watch_wrong_variant_type(self):
        """known_heads of another type than a{st} (heads as strings, a slip a Python
        caller can make) is an error in the callback; a failed precondition would never
        call it and leave the main loop running."""
        client = BbSync.Client.new(self.base_url)
        loop = GLib.MainLoop()
        outcome = {}

        def done(source, result):
            try:
                outcome['value'] = client.watch_finish(result)
            except GLib.Error as error:
                outcome['error'] = error
            loop.quit()

        def give_up():
            outcome['gave_up'] = True
            loop.quit()
            return GLib.SOURCE_REMOVE

        guard = GLib.timeout_add_seconds(20, give_up)
        client.watch_async(GLib.Variant('a{ss}', {'00112233445566778899aabbccddeeff': '1'}),
                           None, done)
        loop.run()
        self.assertNotIn('gave_up', outcome, 'the callback never ran')
        GLib.source_remove(guard)
        self.assertNotIn('value', outcome)
        self.assertEqual(outcome['error'].domain, ERROR_DOMAIN)
        self.assertEqual(outcome['error'].code, BbSync.SyncError.INVALID_INPUT)
        self.assertIn('knownHeads', outcome['error'].message)
        self.assertIn('a{st}', outcome['error'].message)

    def test_verify_join_request(self):
        """The approver's checks (spec §1.11) are callable through the typelib: a real
        listed entry passes with its invite and fails against a forged invite."""
        alice_client = BbSync.Client.new(self.base_url)
        bob_client = BbSync.Client.new(self.base_url)
        alice = BbSync.TestIdentity.new('python-verify-alice')
        bob = BbSync.TestIdentity.new('python-verify-bob')
        self.login(alice_client, alice)
        self.login(bob_client, bob)

        namespace_id = os.urandom(16).hex()
        dek = GLib.Bytes.new(os.urandom(32))
        wrapped = BbSync.protocol_wrap_dek(alice.get_wrap_public_key(), namespace_id, dek)
        run(alice_client.create_namespace_async, alice_client.create_namespace_finish,
            namespace_id, wrapped)
        now = GLib.get_real_time() // 1000000
        invite_id = os.urandom(16).hex()
        invite = BbSync.Invite.new('https://sync.example', namespace_id, invite_id, now + 600,
                                   GLib.Bytes.new(os.urandom(32)))
        run(alice_client.create_invite_with_identity_async,
            alice_client.create_invite_with_identity_finish, alice, invite, 0, 10)

        # Bob's request, through the invite he scanned
        scanned = BbSync.Invite.new_from_uri(invite.to_uri())
        request = run(bob.build_join_request_async, bob.build_join_request_finish, scanned,
                      now + 300)
        run(bob_client.submit_join_request_async, bob_client.submit_join_request_finish,
            request, scanned.dup_server_secret())

        entries = run(alice_client.list_join_requests_async,
                      alice_client.list_join_requests_finish, namespace_id)
        self.assertEqual(len(entries), 1)
        entry = entries[0]
        self.assertTrue(invite.verify_join_request(namespace_id, entry, now))

        # The entry is opaque to Python, so the forgery is on the other side: an invite
        # that differs only in its secret, as held by someone who never saw the QR code.
        forged = BbSync.Invite.new('https://sync.example', namespace_id, invite_id, now + 600,
                                   GLib.Bytes.new(os.urandom(32)))
        with self.assertRaises(GLib.Error) as caught:
            forged.verify_join_request(namespace_id, entry, now)
        self.assertEqual(caught.exception.domain, ERROR_DOMAIN)
        self.assertEqual(caught.exception.code, BbSync.SyncError.CRYPTO)
        self.assertIn('inviteProof: invalid invite proof', caught.exception.message)

        # and after the request's expiry, even the right invite refuses it
        with self.assertRaises(GLib.Error) as caught:
            invite.verify_join_request(namespace_id, entry, now + 300)
        self.assertEqual(caught.exception.code, BbSync.SyncError.INVALID_INPUT)
        self.assertIn('join request has expired', caught.exception.message)

    @unittest.skipIf(ed25519 is None, 'python3-cryptography is not installed')
    def test_python_identity_login(self):
        client = BbSync.Client.new(self.base_url)
        identity = PyIdentity()
        key_id = identity.get_key_id()
        self.assertEqual(len(key_id), 64)
        self.assertEqual(BbSync.protocol_key_id(identity.get_auth_public_key()), key_id)

        result = self.login(client, identity)
        self.assertIsNone(result.get_default_namespace_id())
        self.assertEqual(identity.signed, 1)
        namespace_id, _ = self.ensure_default(client, identity)

        # The server knows this key now: a second login reports its namespace, and a
        # refresh (another intent, signed by the same Python code) works.
        result = self.login(client, identity)
        self.assertEqual(result.get_default_namespace_id(), namespace_id)
        refreshed = run(client.refresh_with_identity_async, client.refresh_with_identity_finish,
                        identity)
        self.assertEqual(client.dup_access_token(), refreshed.get_access_token())
        self.assertEqual(identity.signed, 3)

        # Python did not implement unwrapping: a clear error, not a crash.
        with self.assertRaises(GLib.Error) as caught:
            run(identity.unwrap_dek_async, identity.unwrap_dek_finish, namespace_id,
                GLib.Bytes.new(bytes(97)))
        self.assertEqual(caught.exception.code, BbSync.SyncError.UNSUPPORTED)


if __name__ == '__main__':
    unittest.main(testRunner=unittest.TextTestRunner(stream=sys.stdout, verbosity=2))
