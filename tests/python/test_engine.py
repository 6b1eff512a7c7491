#!/usr/bin/env python3
# test_engine.py: BbSyncEngine from Python through the BbSync typelib, against the
# bbsync-server program on loopback: a value backend and a merge handler written in Python,
# and background sync (start, schedule_sync, stop) with its status properties bound to a
# Python GObject
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


class SyncStatus(GObject.Object):
    """A UI's status model: plain Python properties bound to the engine's."""

    syncing = GObject.Property(type=bool, default=False)
    pending = GObject.Property(type=GObject.TYPE_UINT, default=0)

    def __init__(self):
        super().__init__()
        self.seen = {'syncing': [], 'pending': []}
        self.connect('notify::syncing', self.on_notify)
        self.connect('notify::pending', self.on_notify)

    def on_notify(self, obj, pspec):
        self.seen[pspec.name].append(self.get_property(pspec.name))


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


    def test_background_sync_bound_status(self):
        dev = Device(self.base_url, 'py-bob')
        engine = dev.engine
        # Only start() and schedule_sync() start passes here: no timed pass, no watch.
        engine.props.poll_interval = 60 * 60 * 1000
        engine.props.namespace_watch = False
        self.assertEqual(engine.props.state, BbSync.SyncState.STOPPED)

        status = SyncStatus()
        engine.bind_property('syncing', status, 'syncing', GObject.BindingFlags.SYNC_CREATE)
        engine.bind_property('pending-uploads', status, 'pending', GObject.BindingFlags.SYNC_CREATE)
        status.seen = {'syncing': [], 'pending': []}

        finished = []
        failed = []
        engine.connect('sync-finished', lambda e: finished.append(e.props.state))
        engine.connect('sync-failed', lambda e, error: failed.append(error.message))

        def run_until_finished(count, action):
            """Runs action, then the main loop until sync-finished was emitted count times
            in all (or 30 s pass); lets the pass's completion run before returning."""
            loop = GLib.MainLoop()

            def check(*args):
                if len(finished) >= count or failed:
                    GLib.idle_add(loop.quit)

            handler = engine.connect_after('sync-finished', check)
            failed_handler = engine.connect_after('sync-failed', check)
            timeout = GLib.timeout_add_seconds(30, loop.quit)
            action()
            loop.run()
            GLib.source_remove(timeout)
            engine.disconnect(handler)
            engine.disconnect(failed_handler)
            self.assertEqual(failed, [])
            self.assertEqual(len(finished), count)

        dev.labels.values['acct:primary'] = 'Checking'
        run_until_finished(1, engine.start)
        self.assertIn(('item-uploaded', 'account-labels', 'acct:primary'), dev.events)
        self.assertEqual(finished, [BbSync.SyncState.SYNCING])
        self.assertEqual(status.seen['syncing'], [True, False])
        self.assertFalse(status.props.syncing)
        self.assertEqual(status.props.pending, 0)
        self.assertEqual(engine.props.pending_uploads, 0)
        self.assertEqual(engine.props.state, BbSync.SyncState.IDLE)
        self.assertIsNotNone(engine.props.last_synced)
        self.assertIsNone(engine.props.last_error)
        self.assertIsNotNone(engine.props.next_sync)  # the next timed pass, an hour away
        first_synced = engine.props.last_synced

        # A second local write and a wake-up give a second pass.
        dev.events = []
        dev.notes.values['tx:1'] = {'memo': 'groceries', 'tag': 'food'}
        run_until_finished(2, engine.schedule_sync)
        self.assertIn(('item-uploaded', 'tx-notes', 'tx:1'), dev.events)
        self.assertEqual(status.seen['syncing'], [True, False, True, False])
        self.assertEqual(status.props.pending, 0)
        self.assertEqual(engine.props.state, BbSync.SyncState.IDLE)
        self.assertGreaterEqual(engine.props.last_synced.difference(first_synced), 0)

        engine.stop()
        self.assertEqual(engine.props.state, BbSync.SyncState.STOPPED)
        self.assertIsNone(engine.props.next_sync)
        self.assertIsNotNone(engine.props.last_synced)
        self.assertFalse(status.props.syncing)
        engine.close()


if __name__ == '__main__':
    unittest.main()
