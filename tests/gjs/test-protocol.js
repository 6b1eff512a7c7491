// test-protocol.js: the protocol layer through the BbSync typelib, from GJS
//
// Loads the known-answer vectors of tests/data/protocol.json (G_TEST_SRCDIR) and checks
// key IDs, item IDs, AADs, item encryption and decryption, DEK unwrapping and the invite
// URI round trip. Prints TAP; exits 1 if any check fails.
//
// SPDX-License-Identifier: LGPL-2.1-or-later

imports.gi.versions.GLib = '2.0';
imports.gi.versions.BbSync = '1';
const {GLib, BbSync} = imports.gi;
const System = imports.system;

const ERROR_DOMAIN = GLib.quark_from_string('bb-sync-error-quark');

function srcdir() {
    const env = GLib.getenv('G_TEST_SRCDIR');
    if (env)
        return env;
    // run by hand from the source tree: tests/gjs/test-protocol.js
    const here = GLib.path_get_dirname(System.programPath ?? System.programInvocationName);
    return GLib.build_filenamev([here, '..']);
}

function loadVectors(name) {
    const path = GLib.build_filenamev([srcdir(), 'data', name]);
    const [, contents] = GLib.file_get_contents(path);
    return JSON.parse(new TextDecoder().decode(contents));
}

function fromHex(hex) {
    const out = new Uint8Array(hex.length / 2);
    for (let i = 0; i < out.length; i++)
        out[i] = parseInt(hex.substr(2 * i, 2), 16);
    return new GLib.Bytes(out);
}

function toHex(bytes) {
    return Array.from(bytes.toArray(), b => b.toString(16).padStart(2, '0')).join('');
}

function utf8(text) {
    return new GLib.Bytes(new TextEncoder().encode(text));
}

// --- a minimal TAP harness -----------------------------------------------------------

const tests = [];
function test(name, func) {
    tests.push({name, func});
}

function assertEqual(actual, expected, what) {
    if (actual !== expected)
        throw new Error(`${what}: got ${actual}, expected ${expected}`);
}

function assertBbError(code, needle, func, what) {
    try {
        func();
    } catch (e) {
        if (!(e instanceof GLib.Error))
            throw e;
        if (e.domain !== ERROR_DOMAIN || e.code !== code)
            throw new Error(`${what}: wrong error ${e.domain}:${e.code} ${e.message}`);
        if (!e.message.includes(needle))
            throw new Error(`${what}: message "${e.message}" lacks "${needle}"`);
        return;
    }
    throw new Error(`${what}: no error`);
}

// --- the checks ------------------------------------------------------------------------

const V = loadVectors('protocol.json');

test('identities: key IDs and public keys of label-derived identities', () => {
    for (const v of V.identities) {
        const identity = BbSync.TestIdentity.new(v.label);
        assertEqual(toHex(identity.get_auth_public_key()), v.auth_public_key, `${v.label} auth key`);
        assertEqual(toHex(identity.get_wrap_public_key()), v.wrap_public_key, `${v.label} wrap key`);
        assertEqual(identity.get_key_id(), v.key_id, `${v.label} key id`);
        assertEqual(BbSync.protocol_key_id(fromHex(v.auth_public_key)), v.key_id,
            `${v.label} protocol_key_id`);
    }
});

test('collection keys: logical key bytes and item IDs', () => {
    for (const v of V.collection_keys) {
        const logical = BbSync.protocol_logical_key(v.collection, v.key);
        assertEqual(toHex(logical), v.logical_key_bytes, `logical key ${v.collection}/${v.key}`);
        assertEqual(BbSync.protocol_item_id(fromHex(v.dek), v.collection, v.key), v.item_id,
            `item id ${v.collection}/${v.key}`);
    }
});

test('items: item IDs, AADs, decryption, and encryption round trips under a fresh nonce', () => {
    for (const v of V.items) {
        const dek = fromHex(v.dek);
        assertEqual(BbSync.protocol_item_id_for_logical_key(dek, utf8(v.logical_key)), v.item_id,
            'item id');
        const aad = BbSync.protocol_item_aad(v.namespace_id, v.item_id, v.version);
        assertEqual(toHex(aad), v.aad, 'aad');
        const plaintext = BbSync.protocol_decrypt_item(dek, v.namespace_id, v.item_id, v.version,
            fromHex(v.nonce), aad, fromHex(v.ciphertext));
        assertEqual(toHex(plaintext), v.plaintext, 'plaintext');
        // Encryption draws its own nonce: the C suite checks the vector's exact bytes.
        const [ciphertext, nonce, outAad] = BbSync.protocol_encrypt_item(dek, v.namespace_id,
            v.item_id, v.version, fromHex(v.plaintext));
        assertEqual(nonce.get_size(), 24, 'nonce size');
        assertEqual(ciphertext.get_size(), fromHex(v.plaintext).get_size() + 16, 'size');
        assertEqual(toHex(outAad), v.aad, 'encrypt aad');
        const again = BbSync.protocol_decrypt_item(dek, v.namespace_id, v.item_id, v.version,
            nonce, outAad, ciphertext);
        assertEqual(toHex(again), v.plaintext, 'round trip');
    }
});

test('items: a tampered ciphertext or an AAD for another version is refused', () => {
    const v = V.items[0];
    const dek = fromHex(v.dek);
    const aad = fromHex(v.aad);
    const bad = fromHex(v.ciphertext).toArray();
    bad[0] ^= 1;
    assertBbError(BbSync.SyncError.CRYPTO, '', () => BbSync.protocol_decrypt_item(dek,
        v.namespace_id, v.item_id, v.version, fromHex(v.nonce), aad, new GLib.Bytes(bad)),
    'tampered ciphertext');
    assertBbError(BbSync.SyncError.CRYPTO, 'aad', () => BbSync.protocol_decrypt_item(dek,
        v.namespace_id, v.item_id, v.version + 1, fromHex(v.nonce), aad, fromHex(v.ciphertext)),
    'aad of another version');
});

test('wrapped DEKs: unwrap, base64, wrap round trip, namespace binding', () => {
    for (const v of V.wrapped_deks) {
        const key = fromHex(v.recipient_wrap_private_key);
        const dek = BbSync.protocol_unwrap_dek(key, v.namespace_id, fromHex(v.wrapped_dek));
        assertEqual(toHex(dek), v.dek, 'unwrapped dek');
        assertEqual(BbSync.protocol_base64_encode(fromHex(v.wrapped_dek)), v.wrapped_dek_base64,
            'base64');
        const recipient = V.identities.find(i => i.label === v.recipient_label);
        const wrapped = BbSync.protocol_wrap_dek(fromHex(recipient.wrap_public_key),
            v.namespace_id, fromHex(v.dek));
        assertEqual(wrapped.get_size(), 97, 'wrapped size');
        assertEqual(toHex(BbSync.protocol_unwrap_dek(key, v.namespace_id, wrapped)), v.dek,
            'round trip');
        const other = v.namespace_id.startsWith('f') ? '0'.repeat(32) : 'f'.repeat(32);
        assertBbError(BbSync.SyncError.CRYPTO, 'namespace mismatch',
            () => BbSync.protocol_unwrap_dek(key, other, fromHex(v.wrapped_dek)),
            'other namespace');
    }
});

test('invites: secrets, proof, and the URI round trip', () => {
    for (const v of V.invites) {
        const secret = fromHex(v.invite_secret);
        const serverSecret = BbSync.protocol_invite_server_secret(secret);
        assertEqual(toHex(serverSecret), v.invite_server_secret, 'server secret');
        assertEqual(toHex(BbSync.protocol_invite_server_secret_hash(serverSecret)),
            v.invite_server_secret_hash, 'server secret hash');
        assertEqual(toHex(BbSync.protocol_invite_proof(secret, fromHex(v.join_request_payload))),
            v.invite_proof, 'invite proof');
        assertEqual(BbSync.protocol_join_request_hash(fromHex(v.join_request_payload)),
            v.join_request_hash, 'join request hash');

        const invite = BbSync.Invite.new_from_uri(v.invite_uri);
        assertEqual(invite.get_version(), 1, 'version');
        assertEqual(invite.get_server_origin(), v.server_origin, 'origin');
        assertEqual(invite.get_namespace_id(), v.namespace_id, 'namespace id');
        assertEqual(invite.get_invite_id(), v.invite_id, 'invite id');
        assertEqual(invite.get_expires_at(), v.invite_expires_at, 'expiry');
        assertEqual(invite.to_uri(), v.invite_uri, 'parsed to_uri');
        const made = BbSync.Invite.new(v.server_origin, v.namespace_id, v.invite_id,
            v.invite_expires_at, secret);
        assertEqual(made.to_uri(), v.invite_uri, 'new to_uri');
        assertEqual(invite.get_secret, undefined, 'the secret is not exposed');
    }
});

test('invites: non-canonical URIs are refused', () => {
    const uri = V.invites[0].invite_uri;
    const host = uri.match(/s=([^&]*)/)[1];
    assertBbError(BbSync.SyncError.INVALID_INPUT, 'canonical',
        () => BbSync.Invite.new_from_uri(uri.replace(`s=${host}`, `s=${host}:443`)), ':443');
    assertBbError(BbSync.SyncError.INVALID_INPUT, 'empty query',
        () => BbSync.Invite.new_from_uri(uri.replace('&i=', '&&i=')), 'empty component');
    assertBbError(BbSync.SyncError.UNSUPPORTED, 'unsupported',
        () => BbSync.Invite.new_from_uri(uri.replace('bitboxsync:', 'BitBoxSync:')), 'scheme case');
    assertBbError(BbSync.SyncError.INVALID_INPUT, 'base64url',
        () => BbSync.Invite.new_from_uri(`${uri}=`), 'padded secret');
});

// --- run -------------------------------------------------------------------------------

print(`1..${tests.length}`);
let failed = 0;
tests.forEach(({name, func}, i) => {
    try {
        func();
        print(`ok ${i + 1} - ${name}`);
    } catch (e) {
        failed++;
        print(`not ok ${i + 1} - ${name}`);
        for (const line of `${e.message ?? e}`.split('\n'))
            print(`# ${line}`);
    }
});
if (failed > 0) {
    print(`# ${failed} of ${tests.length} failed`);
    System.exit(1);
}
