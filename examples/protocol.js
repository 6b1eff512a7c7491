// protocol.js: an item ID and an encrypted item with BbSync, from GJS
//
// Run from a build: GI_TYPELIB_PATH=_build/bbsync LD_LIBRARY_PATH=_build/bbsync \
//   gjs examples/protocol.js
//
// SPDX-License-Identifier: LGPL-2.1-or-later

imports.gi.versions.GLib = '2.0';
imports.gi.versions.Gio = '2.0';
imports.gi.versions.BbSync = '1';
const {GLib, Gio, BbSync} = imports.gi;

function randomBytes(n) {
    // GLib's random numbers are not for keys: read the kernel's CSPRNG.
    const stream = Gio.File.new_for_path('/dev/urandom').read(null);
    const bytes = stream.read_bytes(n, null);
    stream.close(null);
    return bytes.toArray();
}

// A namespace key (DEK) is 32 random bytes; members get it HPKE-wrapped.
const dek = new GLib.Bytes(randomBytes(32));
const namespaceId = BbSync.protocol_hex_encode(new GLib.Bytes(randomBytes(16)));

// The server sees only this opaque ID, never the collection or the key.
const itemId = BbSync.protocol_item_id(dek, 'tx-notes', 'txid:4a5e1e');
print(`item ID: ${itemId}`);

// Encrypt for version 1 (under a fresh random nonce, returned for the upload) and
// decrypt again; the AAD binds namespace, item and version.
const note = new GLib.Bytes(new TextEncoder().encode('Paid the plumber'));
const [ciphertext, nonce, aad] = BbSync.protocol_encrypt_item(dek, namespaceId, itemId, 1,
    note);
print(`ciphertext: ${BbSync.protocol_base64_encode(ciphertext)}`);
const plaintext = BbSync.protocol_decrypt_item(dek, namespaceId, itemId, 1, nonce, aad,
    ciphertext);
print(`decrypted: ${new TextDecoder().decode(plaintext.toArray())}`);

// The same ciphertext presented as version 2 is refused.
try {
    BbSync.protocol_decrypt_item(dek, namespaceId, itemId, 2, nonce, aad, ciphertext);
} catch (e) {
    print(`as version 2: ${e.message}`);
}
