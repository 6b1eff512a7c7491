#!/usr/bin/env python3
# test_protocol.py: the protocol layer through the BbSync typelib
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import json
import os
import sys
import unittest

import gi

gi.require_version('GLib', '2.0')
gi.require_version('BbSync', '1')
from gi.repository import BbSync, GLib  # noqa: E402

SRCDIR = os.environ.get('G_TEST_SRCDIR', os.path.join(os.path.dirname(__file__), '..'))


def load(name):
    with open(os.path.join(SRCDIR, 'data', name)) as f:
        return json.load(f)


def b(hexstr):
    return GLib.Bytes.new(bytes.fromhex(hexstr))


def raw(gbytes):
    return bytes(gbytes.get_data() or b'')


VECTORS = load('protocol.json')
ERROR_DOMAIN = 'bb-sync-error-quark'


class ProtocolVectors(unittest.TestCase):
    def identity(self, label):
        return next(i for i in VECTORS['identities'] if i['label'] == label)

    def test_identities(self):
        for v in VECTORS['identities']:
            ident = BbSync.TestIdentity.new(v['label'])
            self.assertEqual(raw(ident.get_auth_public_key()).hex(), v['auth_public_key'])
            self.assertEqual(raw(ident.get_wrap_public_key()).hex(), v['wrap_public_key'])
            self.assertEqual(ident.get_key_id(), v['key_id'])
            self.assertEqual(ident.props.key_id, v['key_id'])
            self.assertEqual(ident.props.label, v['label'])
            self.assertEqual(BbSync.protocol_key_id(b(v['auth_public_key'])), v['key_id'])

    def test_collection_keys(self):
        for v in VECTORS['collection_keys']:
            logical = BbSync.protocol_logical_key(v['collection'], v['key'])
            self.assertEqual(raw(logical).hex(), v['logical_key_bytes'])
            item_id = BbSync.protocol_item_id(b(v['dek']), v['collection'], v['key'])
            self.assertEqual(item_id, v['item_id'])

    def test_items(self):
        for v in VECTORS['items']:
            dek = b(v['dek'])
            logical = GLib.Bytes.new(v['logical_key'].encode('utf-8'))
            self.assertEqual(BbSync.protocol_item_id_for_logical_key(dek, logical), v['item_id'])
            aad = BbSync.protocol_item_aad(v['namespace_id'], v['item_id'], v['version'])
            self.assertEqual(raw(aad).hex(), v['aad'])
            plaintext = BbSync.protocol_decrypt_item(dek, v['namespace_id'], v['item_id'],
                                                     v['version'], b(v['nonce']), aad,
                                                     b(v['ciphertext']))
            self.assertEqual(raw(plaintext).hex(), v['plaintext'])
            # Encryption draws its own nonce, so only the round trip is byte-exact here
            # (the C suite re-encrypts under the vector's nonce).
            ct, nonce, out_aad = BbSync.protocol_encrypt_item(
                dek, v['namespace_id'], v['item_id'], v['version'], b(v['plaintext']))
            self.assertEqual(len(raw(nonce)), 24)
            self.assertNotEqual(raw(nonce).hex(), v['nonce'])
            self.assertEqual(len(raw(ct)), len(raw(b(v['plaintext']))) + 16)
            self.assertEqual(raw(out_aad).hex(), v['aad'])
            again = BbSync.protocol_decrypt_item(dek, v['namespace_id'], v['item_id'],
                                                 v['version'], nonce, out_aad, ct)
            self.assertEqual(raw(again).hex(), v['plaintext'])

    def test_wrapped_deks(self):
        for v in VECTORS['wrapped_deks']:
            dek = BbSync.protocol_unwrap_dek(b(v['recipient_wrap_private_key']),
                                             v['namespace_id'], b(v['wrapped_dek']))
            self.assertEqual(raw(dek).hex(), v['dek'])
            self.assertEqual(BbSync.protocol_base64_encode(b(v['wrapped_dek'])),
                             v['wrapped_dek_base64'])
            pub = b(self.identity(v['recipient_label'])['wrap_public_key'])
            wrapped = BbSync.protocol_wrap_dek(pub, v['namespace_id'], b(v['dek']))
            self.assertEqual(len(raw(wrapped)), 97)
            self.assertTrue(BbSync.protocol_validate_wrapped_dek(wrapped))
            again = BbSync.protocol_unwrap_dek(b(v['recipient_wrap_private_key']),
                                               v['namespace_id'], wrapped)
            self.assertEqual(raw(again).hex(), v['dek'])

    def test_intents(self):
        for v in VECTORS['intents']:
            ident = BbSync.TestIdentity.new(v['label'])
            auth = ident.get_auth_public_key()
            challenge = b(v['challenge'])
            login = BbSync.protocol_login_intent(challenge, 'keystore', ident.get_key_id(), auth,
                                                 ident.get_wrap_public_key())
            refresh = BbSync.protocol_refresh_intent(challenge, 'keystore', ident.get_key_id())
            revoke = BbSync.protocol_sensitive_action_intent('revoke-all-tokens', challenge,
                                                             'keystore', ident.get_key_id(), None)
            create = BbSync.protocol_sensitive_action_intent(
                'create-namespace-invite', challenge, 'keystore', ident.get_key_id(),
                b(v['create_invite_action_fields']))
            for intent, name in ((login, 'login'), (refresh, 'refresh'),
                                 (revoke, 'revoke_all_tokens'), (create, 'create_invite')):
                self.assertEqual(raw(intent).hex(), v[name + '_intent'])
                self.assertTrue(BbSync.protocol_verify_signature(auth, intent,
                                                                 b(v[name + '_signature'])))
                bad = bytearray(bytes.fromhex(v[name + '_signature']))
                bad[0] ^= 1
                with self.assertRaises(GLib.Error) as cm:
                    BbSync.protocol_verify_signature(auth, intent, GLib.Bytes.new(bytes(bad)))
                self.assertEqual(cm.exception.domain, ERROR_DOMAIN)
                self.assertEqual(cm.exception.code, BbSync.SyncError.CRYPTO)
            self.assertEqual(
                BbSync.protocol_action_fields_hash(b(v['create_invite_action_fields'])),
                v['create_invite_action_fields_sha256'])

    def test_invites(self):
        for v in VECTORS['invites']:
            secret = b(v['invite_secret'])
            server_secret = BbSync.protocol_invite_server_secret(secret)
            self.assertEqual(raw(server_secret).hex(), v['invite_server_secret'])
            self.assertEqual(raw(BbSync.protocol_invite_server_secret_hash(server_secret)).hex(),
                             v['invite_server_secret_hash'])
            self.assertEqual(raw(BbSync.protocol_server_origin_hash(v['server_origin'])).hex(),
                             v['server_origin_hash'])
            ident = BbSync.TestIdentity.new(v['requester_label'])
            payload = BbSync.protocol_join_request_payload(
                v['namespace_id'], v['invite_id'], v['server_origin'], 'keystore',
                ident.get_key_id(), ident.get_auth_public_key(), ident.get_wrap_public_key(),
                v['join_request_expires_at'])
            self.assertEqual(raw(payload).hex(), v['join_request_payload'])
            self.assertEqual(BbSync.protocol_join_request_hash(payload), v['join_request_hash'])
            self.assertTrue(BbSync.protocol_verify_signature(ident.get_auth_public_key(), payload,
                                                             b(v['join_request_signature'])))
            proof = BbSync.protocol_invite_proof(secret, payload)
            self.assertEqual(raw(proof).hex(), v['invite_proof'])
            self.assertTrue(BbSync.protocol_verify_invite_proof(secret, payload, proof))

            invite = BbSync.Invite.new_from_uri(v['invite_uri'])
            self.assertEqual(invite.get_version(), 1)
            self.assertEqual(invite.get_server_origin(), v['server_origin'])
            self.assertEqual(invite.get_namespace_id(), v['namespace_id'])
            self.assertEqual(invite.get_invite_id(), v['invite_id'])
            self.assertEqual(invite.get_expires_at(), v['invite_expires_at'])
            self.assertEqual(invite.to_uri(), v['invite_uri'])
            made = BbSync.Invite.new(v['server_origin'], v['namespace_id'], v['invite_id'],
                                     v['invite_expires_at'], secret)
            self.assertEqual(made.to_uri(), v['invite_uri'])
            self.assertFalse(hasattr(invite, 'get_secret'))
            self.assertEqual(raw(invite.dup_server_secret()).hex(), v['invite_server_secret'])
            self.assertTrue(invite.verify_proof(payload, proof))
            bad = bytearray(raw(proof))
            bad[0] ^= 1
            with self.assertRaises(GLib.Error):
                invite.verify_proof(payload, GLib.Bytes.new(bytes(bad)))


class ProtocolRejections(unittest.TestCase):
    def assertBbError(self, code, needle, func, *args):
        with self.assertRaises(GLib.Error) as cm:
            func(*args)
        self.assertEqual(cm.exception.domain, ERROR_DOMAIN)
        self.assertEqual(cm.exception.code, code)
        self.assertIn(needle, cm.exception.message)

    def test_hex(self):
        self.assertBbError(BbSync.SyncError.INVALID_INPUT, 'keyId',
                           BbSync.protocol_lower_hex_decode, 'A' + 'a' * 63, 32, 'keyId')
        self.assertEqual(raw(BbSync.protocol_hex_decode('AB', 1, 'signature')), b'\xab')

    def test_base64(self):
        self.assertBbError(BbSync.SyncError.INVALID_INPUT, 'canonical base64',
                           BbSync.protocol_base64_decode, 'AQI=\n', -1, 'value')
        self.assertBbError(BbSync.SyncError.INVALID_INPUT, 'unpadded base64url',
                           BbSync.protocol_base64url_decode, 'a' * 43 + '=', 32, 'inviteSecret')

    def test_origin(self):
        self.assertEqual(BbSync.protocol_canonical_origin('HTTPS://sync.example:443'),
                         'https://sync.example')
        self.assertBbError(BbSync.SyncError.INVALID_INPUT, 'canonical',
                           BbSync.protocol_server_origin_hash, 'https://sync.example:443')
        self.assertBbError(BbSync.SyncError.INVALID_INPUT, 'lowercase ASCII',
                           BbSync.protocol_canonical_origin, 'https://b\u00fccher.example')

    def test_invite_uri(self):
        self.assertBbError(BbSync.SyncError.UNSUPPORTED, 'unsupported',
                           BbSync.Invite.new_from_uri, 'BitBoxSync://join-namespace?v=1')
        uri = VECTORS['invites'][0]['invite_uri']
        self.assertBbError(BbSync.SyncError.INVALID_INPUT, 'empty query',
                           BbSync.Invite.new_from_uri, uri.replace('&i=', '&&i='))
        self.assertBbError(BbSync.SyncError.UNSUPPORTED, 'unsupported version',
                           BbSync.Invite.new_from_uri, uri.replace('v=1', 'v=2'))

    def test_unwrap(self):
        v = VECTORS['wrapped_deks'][0]
        other_ns = 'f' * 32
        self.assertBbError(BbSync.SyncError.CRYPTO, 'namespace mismatch',
                           BbSync.protocol_unwrap_dek, b(v['recipient_wrap_private_key']),
                           other_ns, b(v['wrapped_dek']))
        self.assertBbError(BbSync.SyncError.UNSUPPORTED, 'unsupported version',
                           BbSync.protocol_unwrap_dek, b(v['recipient_wrap_private_key']),
                           v['namespace_id'], b('02' + v['wrapped_dek'][2:]))

    def test_decrypt(self):
        v = VECTORS['items'][1]
        aad = b(v['aad'])
        self.assertBbError(BbSync.SyncError.INVALID_INPUT, 'nonce',
                           BbSync.protocol_decrypt_item, b(v['dek']), v['namespace_id'],
                           v['item_id'], v['version'], b('0011'), aad, b(v['ciphertext']))
        self.assertBbError(BbSync.SyncError.CRYPTO, 'aad mismatch',
                           BbSync.protocol_decrypt_item, b(v['dek']), v['namespace_id'],
                           v['item_id'], v['version'] + 1, b(v['nonce']), aad,
                           b(v['ciphertext']))

    def test_if_match(self):
        # The boolean result is (skip)ped: bindings see the out values and the error only.
        has, version = BbSync.protocol_parse_if_match('"3"')
        self.assertTrue(has)
        self.assertEqual(version, 3)
        self.assertEqual(BbSync.protocol_parse_if_match(''), (False, 0))
        self.assertBbError(BbSync.SyncError.INVALID_INPUT, 'If-Match',
                           BbSync.protocol_parse_if_match, '"03"')


if __name__ == '__main__':
    result = unittest.main(exit=False, verbosity=2).result
    sys.exit(0 if result.wasSuccessful() else 1)
