#!/usr/bin/env python3
# test_codec.py: the codecs through the BbSync typelib
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import sys
import unittest

import gi

gi.require_version('GLib', '2.0')
gi.require_version('BbSync', '1')
from gi.repository import BbSync, GLib  # noqa: E402

ERROR_DOMAIN = 'bb-sync-error-quark'


def raw(gbytes):
    return bytes(gbytes.get_data() or b'')


class Codecs(unittest.TestCase):
    def assertBbError(self, code, needle, func, *args):
        with self.assertRaises(GLib.Error) as cm:
            func(*args)
        self.assertEqual(cm.exception.domain, ERROR_DOMAIN)
        self.assertEqual(cm.exception.code, int(code))
        self.assertIn(needle, cm.exception.message)

    def test_json_vardict(self):
        codec = BbSync.Codec.new_json(GLib.VariantType('a{sv}'))
        self.assertEqual(codec.get_value_type().dup_string(), 'a{sv}')
        self.assertEqual(codec.props.value_type.dup_string(), 'a{sv}')
        value = GLib.Variant('a{sv}', {
            'note': GLib.Variant('s', 'coffee <3 & tea'),
            'amount': GLib.Variant('d', 0.1),
            'Tags': GLib.Variant('as', ['a', 'b']),
            'paid': GLib.Variant('b', True),
        })
        payload = codec.encode(value)
        self.assertEqual(
            raw(payload),
            b'{"Tags":["a","b"],"amount":0.1,"note":"coffee \\u003c3 \\u0026 tea","paid":true}')
        decoded = codec.decode(payload)
        self.assertEqual(decoded.get_type_string(), 'a{sv}')
        self.assertEqual(decoded.unpack(),
                         {'Tags': ['a', 'b'], 'amount': 0.1, 'note': 'coffee <3 & tea',
                          'paid': True})
        # A payload as Go writes it for a map[string]interface{}.
        decoded = codec.decode(GLib.Bytes.new(b'{"n":1e21,"z":null,"s":"\\u00e9"}'))
        self.assertEqual(decoded['n'], 1e21)
        self.assertEqual(decoded['s'], '\u00e9')
        self.assertEqual(raw(codec.encode(decoded)), b'{"n":1e+21,"s":"\xc3\xa9","z":null}')

    def test_json_errors(self):
        codec = BbSync.Codec.new_json(GLib.VariantType('a{sv}'))
        self.assertBbError(BbSync.SyncError.INVALID_INPUT, 'empty JSON payload',
                           codec.decode, GLib.Bytes.new(b''))
        self.assertBbError(BbSync.SyncError.INVALID_INPUT, 'unexpected data after',
                           codec.decode, GLib.Bytes.new(b'{} x'))
        self.assertBbError(BbSync.SyncError.INVALID_INPUT, 'expected type',
                           codec.encode, GLib.Variant('s', 'x'))
        ints = BbSync.Codec.new_json(GLib.VariantType('a{sx}'))
        self.assertBbError(BbSync.SyncError.INVALID_INPUT, 'for key \u201cnote\u201d',
                           ints.decode, GLib.Bytes.new(b'{"note":"x"}'))

    def test_string(self):
        codec = BbSync.Codec.new_string()
        self.assertEqual(codec.get_value_type().dup_string(), 's')
        payload = codec.encode(GLib.Variant('s', 'caf\u00e9 <b>'))
        self.assertEqual(raw(payload), 'caf\u00e9 <b>'.encode())
        self.assertEqual(codec.decode(payload).get_string(), 'caf\u00e9 <b>')
        self.assertEqual(codec.decode(GLib.Bytes.new(b'')).get_string(), '')
        self.assertBbError(BbSync.SyncError.INVALID_INPUT, 'invalid UTF-8',
                           codec.decode, GLib.Bytes.new(b'\xff'))

    def test_bytes(self):
        codec = BbSync.Codec.new_bytes()
        value = codec.decode(GLib.Bytes.new(b'\x00\xff'))
        self.assertEqual(value.get_type_string(), 'ay')
        self.assertEqual(bytes(value.get_data_as_bytes().get_data()), b'\x00\xff')
        self.assertEqual(raw(codec.encode(value)), b'\x00\xff')


if __name__ == '__main__':
    result = unittest.main(exit=False, verbosity=2).result
    sys.exit(0 if result.wasSuccessful() else 1)
