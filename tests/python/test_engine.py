#!/usr/bin/env python3
# test_engine.py: BbSyncEngine from Python through the BbSync typelib, against the
# bbsync-server program on loopback: a value backend and a merge handler written in Python
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import unittest

import gi

gi.require_version('GLib', '2.0')
gi.require_version('GObject', '2.0')
gi.require_version('BbSync', '1')
from bbtest import ServerTestCase, run  # noqa: E402
from gi.repository import BbSync, GLib, GObject  # noqa: E402


class DictBackend(GObject.Object, BbSync.ValueBackend):
    """The app's own storage: a dict of plain Python values, typed by the codec."""

    def __init__(self, vtype, scope=()):
        super().__init__()
        self.vtype = vtype
        self.values = {}
        self.scope = set(scope)

    def do_list_keys(self):
        return sorted(set(self.values) | self.scope)

    def wrap(self, value):
        if self.vtype == 'a{sv}':
            return GLib.Variant('a{sv}', {k: GLib.Variant('s', v) for k, v in value.items()})
        return GLib.Variant(self.vtype, value)

    def do_snapshot(self):
        return GLib.Variant('a{sv}', {k: self.wrap(v) for k, v in self.values.items()})

    def do_get_value(self, key):
        if key not in self.values:
            return None
        return self.wrap(self.values[key])

    def do_set_value(self, key, value):
        self.values[key] = value.unpack()
        return True


class Device:
    def __init__(self, base_url, label):
        self.client = BbSync.Client.new(base_url)
        self.store = BbSync.SqliteStore.new_sync(':memory:', GLib.Bytes.new(b'\x42' * 32), None)
        self.engine = BbSync.SyncEngine.new(self.client, BbSync.TestIdentity.new(label), self.store)
        self.labels = DictBackend('s', scope=['acct:primary'])
        self.notes = DictBackend('a{sv}', scope=['tx:1'])
        self.events = []
        for name in ('item-uploaded', 'item-downloaded', 'conflict-detected', 'item-changed'):
            self.engine.connect(name, self.on_item, name)
        ns = run(self.engine.default_namespace_async, self.engine.default_namespace_finish)
        self.labels_c = ns.open_collection('account-labels', BbSync.Codec.new_string(), self.labels)
        self.notes_c = ns.open_collection('tx-notes', BbSync.Codec.new_json(GLib.VariantType('a{sv}')),
                                          self.notes)
        self.merges = []
        self.notes_c.connect('merge', self.on_merge)

    def on_item(self, engine, ns, collection, key, item_id, name):
        self.events.append((name, collection, key))

    def on_merge(self, collection, key, base, local, remote):
        """A three-way merge of note dicts: fields changed on either side win over the base."""
        self.merges.append((key, base is not None))
        base = base.unpack() if base is not None else {}
        local = local.unpack()
        remote = remote.unpack()
        merged = dict(remote)
        for field, value in local.items():
            if base.get(field) != value:
                merged[field] = value
        return GLib.Variant('a{sv}', {k: GLib.Variant('s', v) for k, v in merged.items()})

    def sync(self):
        self.events = []
        return run(self.engine.sync_async, self.engine.sync_finish)


class EngineTest(ServerTestCase):
    def test_two_devices_merge_and_conflict(self):
        a = Device(self.base_url, 'py-alice')
        b = Device(self.base_url, 'py-alice')

        a.labels.values['acct:primary'] = 'Savings'
        a.notes.values['tx:1'] = {'memo': 'rent', 'tag': 'home'}
        self.assertTrue(a.sync())
        self.assertIn(('item-uploaded', 'tx-notes', 'tx:1'), a.events)
        self.assertTrue(b.sync())
        self.assertEqual(b.labels.values, {'acct:primary': 'Savings'})
        self.assertEqual(b.notes.values, {'tx:1': {'memo': 'rent', 'tag': 'home'}})

        # Concurrent edits of different fields merge through the Python handler.
        a.notes.values['tx:1'] = {'memo': 'rent (march)', 'tag': 'home'}
        b.notes.values['tx:1'] = {'memo': 'rent', 'tag': 'housing'}
        self.assertTrue(a.sync())
        self.assertTrue(b.sync())
        self.assertEqual(b.merges, [('tx:1', True)])
        self.assertEqual(b.notes.values['tx:1'], {'memo': 'rent (march)', 'tag': 'housing'})
        self.assertTrue(a.sync())
        self.assertEqual(a.notes.values['tx:1'], {'memo': 'rent (march)', 'tag': 'housing'})

        # Labels have no merge handler and the default policy: a conflict is recorded.
        a.labels.values['acct:primary'] = 'Savings (joint)'
        b.labels.values['acct:primary'] = 'Emergency fund'
        self.assertTrue(a.sync())
        self.assertTrue(b.sync())
        self.assertIn(('conflict-detected', 'account-labels', 'acct:primary'), b.events)
        conflicts = b.engine.get_conflicts()
        self.assertEqual(conflicts.get_n_items(), 1)
        conflict = conflicts.get_item(0)
        self.assertEqual(conflict.props.key, 'acct:primary')
        self.assertEqual(conflict.props.local_value.unpack(), 'Emergency fund')
        self.assertEqual(conflict.props.remote_value.unpack(), 'Savings (joint)')
        self.assertEqual(b.labels.values['acct:primary'], 'Emergency fund')

        b.labels_c.resolve_conflict('acct:primary', BbSync.ConflictResolution.PREFER_LOCAL, None)
        self.assertEqual(conflicts.get_n_items(), 0)
        self.assertTrue(b.sync())
        self.assertIn(('item-uploaded', 'account-labels', 'acct:primary'), b.events)
        self.assertTrue(a.sync())
        self.assertEqual(a.labels.values['acct:primary'], 'Emergency fund')

        for dev in (a, b):
            dev.engine.close()
            with self.assertRaises(GLib.Error) as caught:
                dev.sync()
            self.assertEqual(caught.exception.code, BbSync.SyncError.CLOSED)


if __name__ == '__main__':
    unittest.main()
