#!/usr/bin/env python3
# test_store.py: the store records and BbSqliteStore through the typelib
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os
import shutil
import tempfile
import unittest

import gi

gi.require_version("BbSync", "1")
from gi.repository import BbSync, GLib  # noqa: E402

KEY_ID = "ab" * 32
NS_ID = "0123456789abcdef0123456789abcdef"


def app_key(fill=0x5A):
    return GLib.Bytes.new(bytes([fill]) * BbSync.SQLITE_STORE_KEY_SIZE)


def error_is(err, code):
    return err.matches(BbSync.sync_error_quark(), code)


class StoreTest(unittest.TestCase):
    def setUp(self):
        self.store = BbSync.SqliteStore.new_sync(BbSync.SQLITE_STORE_IN_MEMORY, app_key(), None)

    def tearDown(self):
        self.store.close()

    def test_identity_roundtrip(self):
        state = BbSync.IdentityState.new(KEY_ID)
        state.props.kind = "keystore"
        state.set_access_token("python-token")
        state.props.token_expiry = 1_900_000_000_000_000
        state.props.default_namespace_id = NS_ID
        self.assertTrue(self.store.save_identity(state))

        loaded = self.store.load_identity(KEY_ID)
        self.assertIsInstance(loaded, BbSync.IdentityState)
        self.assertEqual(loaded.get_access_token(), "python-token")
        self.assertEqual(loaded.props.token_expiry, 1_900_000_000_000_000)
        self.assertEqual(loaded.props.default_namespace_id, NS_ID)
        self.assertGreater(loaded.props.updated_at, 0)

        with self.assertRaises(GLib.Error) as ctx:
            self.store.load_identity("missing")
        self.assertTrue(error_is(ctx.exception, BbSync.SyncError.NOT_FOUND))

    def test_namespace_dek(self):
        ns = BbSync.NamespaceState(key_id=KEY_ID, namespace_id=NS_ID, kind="shared",
                                   namespace_head=42)
        ns.set_dek(GLib.Bytes.new(bytes(range(32))))
        self.store.save_namespace(ns)
        [loaded] = self.store.list_namespaces(KEY_ID)
        self.assertEqual(loaded.props.kind, "shared")
        self.assertEqual(loaded.props.namespace_head, 42)
        self.assertEqual(loaded.get_dek().get_data(), bytes(range(32)))
        self.assertTrue(loaded.has_dek())

        self.store.forget_identity_secrets(KEY_ID)
        loaded = self.store.get_namespace(KEY_ID, NS_ID)
        self.assertIsNone(loaded.get_dek())
        self.assertEqual(loaded.props.namespace_head, 42)

    def test_items_batch_and_transitions(self):
        items = []
        for i in range(20):
            item = BbSync.ItemState.new(KEY_ID, NS_ID, "notes", "k%d" % i, "%064x" % i)
            item.mark_clean(i + 1, GLib.Bytes.new(b"base %d" % i))
            if i % 4 == 0:
                item.mark_dirty()
            items.append(item)
        ns = BbSync.NamespaceState.new(KEY_ID, NS_ID)
        ns.props.namespace_head = 20
        self.assertTrue(self.store.save_batch(items, [ns]))

        listed = self.store.list_namespace_items(KEY_ID, NS_ID)
        self.assertEqual(len(listed), 20)
        self.assertEqual(sorted(x.props.key for x in listed), sorted("k%d" % i for i in range(20)))
        dirty = self.store.list_dirty_items(KEY_ID)
        self.assertEqual(len(dirty), 5)

        item = self.store.get_item_by_logical_key(KEY_ID, NS_ID, "notes", "k3")
        self.assertEqual(item.get_base_value().get_data(), b"base 3")
        item.mark_conflict(9, GLib.Bytes.new(b"remote"))
        self.assertEqual(item.props.version, 9)
        self.assertEqual(item.props.base_version, 4)
        self.assertTrue(item.props.conflict and item.props.dirty)
        self.store.save_item(item)
        again = self.store.get_item_by_id(KEY_ID, NS_ID, "%064x" % 3)
        self.assertEqual(again.get_conflict_remote_value().get_data(), b"remote")
        self.assertTrue(again.props.conflict)

        # A batch with a logical-key collision writes nothing.
        clash = BbSync.ItemState.new(KEY_ID, NS_ID, "notes", "k0", "f" * 64)
        fresh = BbSync.ItemState.new(KEY_ID, NS_ID, "notes", "new", "e" * 64)
        with self.assertRaises(GLib.Error) as ctx:
            self.store.save_batch([fresh, clash], None)
        self.assertTrue(error_is(ctx.exception, BbSync.SyncError.STORE))
        with self.assertRaises(GLib.Error):
            self.store.get_item_by_id(KEY_ID, NS_ID, "e" * 64)

    def test_reset(self):
        identity = BbSync.IdentityState.new(KEY_ID)
        identity.set_access_token("keep-me")
        identity.set_default_namespace_id(NS_ID)
        self.store.save_identity(identity)
        self.store.save_namespace(BbSync.NamespaceState.new(KEY_ID, NS_ID))
        self.store.reset_sync_state(KEY_ID)
        self.assertEqual(self.store.list_namespaces(KEY_ID), [])
        loaded = self.store.load_identity(KEY_ID)
        self.assertEqual(loaded.get_access_token(), "keep-me")
        self.assertEqual(loaded.get_default_namespace_id(), "")


class FileStoreTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="bbsync-py-store-")
        self.path = os.path.join(self.dir, "store.db")

    def tearDown(self):
        shutil.rmtree(self.dir)

    def test_reopen_and_wrong_key(self):
        store = BbSync.SqliteStore.new_sync(self.path, app_key(1), None)
        identity = BbSync.IdentityState.new(KEY_ID)
        identity.set_access_token("on-disk-token")
        store.save_identity(identity)
        store.close()
        self.assertEqual(os.stat(self.path).st_mode & 0o777, 0o600)
        with open(self.path, "rb") as f:
            self.assertNotIn(b"on-disk-token", f.read())

        with self.assertRaises(GLib.Error) as ctx:
            BbSync.SqliteStore.new_sync(self.path, app_key(2), None)
        self.assertTrue(error_is(ctx.exception, BbSync.SyncError.STORE))

        store = BbSync.SqliteStore.new_sync(self.path, app_key(1), None)
        self.assertEqual(store.load_identity(KEY_ID).get_access_token(), "on-disk-token")

    def test_async_open(self):
        loop = GLib.MainLoop()
        result = {}

        def done(source, res):
            try:
                result["store"] = BbSync.SqliteStore.new_finish(res)
            except GLib.Error as e:
                result["error"] = e
            loop.quit()

        BbSync.SqliteStore.new_async(self.path, app_key(3), None, done)
        loop.run()
        self.assertNotIn("error", result)
        self.assertIsInstance(result["store"], BbSync.Store)
        self.assertEqual(result["store"].get_path(), os.path.abspath(self.path))


if __name__ == "__main__":
    unittest.main(verbosity=2)
