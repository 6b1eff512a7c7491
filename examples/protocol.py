#!/usr/bin/env python3
# protocol.py: an item ID and an encrypted item with BbSync, from Python
#
# Run from a build: GI_TYPELIB_PATH=_build/bbsync LD_LIBRARY_PATH=_build/bbsync \
#   python3 examples/protocol.py
#
# SPDX-License-Identifier: LGPL-2.1-or-later

import os

import gi

gi.require_version('GLib', '2.0')
gi.require_version('BbSync', '1')
from gi.repository import BbSync, GLib  # noqa: E402

# A namespace key (DEK) is 32 random bytes; members get it HPKE-wrapped.
dek = GLib.Bytes.new(os.urandom(32))
namespace_id = os.urandom(16).hex()

# The server sees only this opaque ID, never the collection or the key.
item_id = BbSync.protocol_item_id(dek, 'tx-notes', 'txid:4a5e1e')
print('item ID:', item_id)

# Encrypt for version 1 (under a fresh random nonce, returned for the upload) and
# decrypt again; the AAD binds namespace, item and version.
note = 'Paid the plumber'.encode()
ciphertext, nonce, aad = BbSync.protocol_encrypt_item(dek, namespace_id, item_id, 1,
                                                      GLib.Bytes.new(note))
print('ciphertext:', BbSync.protocol_base64_encode(ciphertext))
plaintext = BbSync.protocol_decrypt_item(dek, namespace_id, item_id, 1, nonce, aad, ciphertext)
print('decrypted:', plaintext.get_data().decode())

# The same ciphertext presented as version 2 is refused.
try:
    BbSync.protocol_decrypt_item(dek, namespace_id, item_id, 2, nonce, aad, ciphertext)
except GLib.Error as e:
    print('as version 2:', e.message)
