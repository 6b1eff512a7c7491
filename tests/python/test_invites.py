#!/usr/bin/env python3
# test_invites.py: the invite flow from Python through the BbSync typelib, against the
# bbsync-server program on loopback; approval reads the invite secret from the keyring,
# so this runs under keyring-session.sh
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import unittest

import gi

gi.require_version('GLib', '2.0')
gi.require_version('GObject', '2.0')
gi.require_version('BbSync', '1')
from bbtest import ServerTestCase, run  # noqa: E402
from gi.repository import BbSync, GLib, GObject  # noqa: E402

ORIGIN = 'https://sync.example'


class DictBackend(GObject.Object, BbSync.ValueBackend):
    """The app's own storage: a dict of strings."""

    def __init__(self, scope=()):
        super().__init__()
        self.values = {}
        self.scope = set(scope)

    def do_list_keys(self):
        return sorted(set(self.values) | self.scope)

    def do_snapshot(self):
        return GLib.Variant('a{sv}', {k: GLib.Variant('s', v) for k, v in self.values.items()})

    def do_get_value(self, key):
        if key not in self.values:
            return None
        return GLib.Variant('s', self.values[key])

    def do_set_value(self, key, value):
        self.values[key] = value.unpack()
        return True


class Person:
    def __init__(self, base_url, label):
        self.client = BbSync.Client.new(base_url)
        self.store = BbSync.SqliteStore.new_sync(':memory:', GLib.Bytes.new(b'\x42' * 32), None)
        self.engine = BbSync.SyncEngine.new(self.client, BbSync.TestIdentity.new(label), self.store)
        self.engine.set_namespace_watch(False)
        self.backend = DictBackend(scope=['from-alice', 'from-bob'])
        self.collection = None

    def open_notes(self, ns):
        self.collection = ns.open_collection('notes', BbSync.Codec.new_string(), self.backend)

    def sync(self):
        return run(self.engine.sync_async, self.engine.sync_finish)

    def close(self):
        self.engine.close()


class InvitesTest(ServerTestCase):
    server_args = ['--public-origin', ORIGIN]

    def test_invite_join_approve(self):
        alice = Person(self.base_url, 'py-inv-alice')
        bob = Person(self.base_url, 'py-inv-bob')

        ns = run(alice.engine.create_shared_namespace_async,
                 alice.engine.create_shared_namespace_finish)
        alice.open_notes(ns)
        alice.backend.values['from-alice'] = 'hello bob'
        self.assertTrue(alice.sync())

        # Alice shows the invite as a QR code: its text is the invite's URI.
        invite = run(ns.create_invite_async, ns.create_invite_finish, ORIGIN, 0, 1, 5)
        qr_text = invite.to_uri()

        # Bob scans it and asks to join.
        scanned = BbSync.Invite.new_from_uri(qr_text)
        self.assertEqual(scanned.get_namespace_id(), ns.get_id())
        submitted = run(bob.engine.submit_join_request_async,
                        bob.engine.submit_join_request_finish, scanned)
        self.assertEqual(submitted.get_status(), 'pending')

        # Alice sees the request and approves it (checked against the keyring's secret).
        self.assertTrue(run(ns.refresh_join_requests_async, ns.refresh_join_requests_finish))
        requests = ns.get_join_requests()
        self.assertEqual(requests.get_n_items(), 1)
        pending = requests.get_item(0)
        self.assertEqual(pending.get_requester_key_id(), bob.engine.get_key_id())
        self.assertEqual(pending.get_invite_id(), invite.get_invite_id())
        self.assertTrue(run(ns.approve_join_request_async, ns.approve_join_request_finish,
                            pending.get_request()))
        self.assertEqual(requests.get_n_items(), 0)

        # Bob joins and reads Alice's value; Alice reads Bob's.
        bob_ns = run(bob.engine.join_namespace_async, bob.engine.join_namespace_finish,
                     ns.get_id())
        bob.open_notes(bob_ns)
        self.assertTrue(bob.sync())
        self.assertEqual(bob.backend.values.get('from-alice'), 'hello bob')
        bob.backend.values['from-bob'] = 'hi alice'
        self.assertTrue(bob.sync())
        self.assertTrue(alice.sync())
        self.assertEqual(alice.backend.values.get('from-bob'), 'hi alice')

        bob.close()
        alice.close()


if __name__ == '__main__':
    unittest.main(verbosity=2)
