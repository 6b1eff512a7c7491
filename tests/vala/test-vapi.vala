/* test-vapi.vala: a Vala program built against bbsync-1.vapi and libbbsync-1
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/* The identity getters come from the Bb.Identity interface: Bb.TestIdentity has no
 * twins of its own that Vala would take for incompatible overrides. */
void check_identity () {
    var identity = new Bb.TestIdentity ("alice");
    Bb.Identity as_identity = identity;
    string? key_id = as_identity.get_key_id ();
    assert (key_id != null);
    assert (key_id == Bb.protocol_key_id (identity.get_auth_public_key ()));
    assert (key_id == identity.key_id);
    assert (identity.get_wrap_public_key ().get_size () == 32);
    assert (identity.get_label () == "alice");
}

void check_codec () throws Error {
    var codec = Bb.Codec.new_string ();
    var value = new Variant.string ("Savings");
    var decoded = codec.decode (codec.encode (value));
    assert (decoded.get_string () == "Savings");
    assert (((EnumClass) typeof (Bb.SyncState).class_ref ()).get_value (Bb.SyncState.OFFLINE).value_nick == "offline");
}

/* An async creation method (bb_sqlite_store_new_async) and its sync twin. */
async void check_store (string dir) throws Error {
    var key = new Bytes (new uint8[32]);
    var store = yield new Bb.SqliteStore (Path.build_filename (dir, "async.db"), key, null);
    assert (store.get_path ().has_suffix ("async.db"));
    store.close ();
    var sync_store = new Bb.SqliteStore.sync (Path.build_filename (dir, "sync.db"), key);
    sync_store.close ();
}

int main () {
    var loop = new MainLoop ();
    Error? failure = null;
    string dir;

    try {
        dir = DirUtils.make_tmp ("bbsync-vala-XXXXXX");
        check_identity ();
        check_codec ();
    } catch (Error e) {
        printerr ("%s\n", e.message);
        return 1;
    }
    check_store.begin (dir, (obj, res) => {
        try {
            check_store.end (res);
        } catch (Error e) {
            failure = e;
        }
        loop.quit ();
    });
    loop.run ();
    try {
        var files = File.new_for_path (dir).enumerate_children (FileAttribute.STANDARD_NAME, 0);
        FileInfo? info;
        while ((info = files.next_file ()) != null) {
            FileUtils.unlink (Path.build_filename (dir, info.get_name ()));
        }
    } catch (Error e) {
        printerr ("cleaning %s: %s\n", dir, e.message);
    }
    DirUtils.remove (dir);
    if (failure != null) {
        printerr ("%s\n", failure.message);
        return 1;
    }
    print ("bbsync from Vala: identity, codec and store ok\n");
    return 0;
}
