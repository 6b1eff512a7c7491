// test-invites.js: the invite flow from GJS through the BbSync typelib, against the
// bbsync-server program on loopback (BBSYNC_SERVER, with --public-origin)
//
// Alice creates a shared namespace, writes and syncs, creates an invite and shows its
// URI as the QR text; Bob parses it and submits a join request; Alice refreshes and
// approves it (checked against the invite secret in the keyring, so this runs under
// keyring-session.sh); Bob joins and reads Alice's value, then writes one Alice reads.
// The _async/_finish pairs run on a GLib.MainLoop with callbacks. Prints TAP; exits 1
// if any check fails (a skip plan when the server is not built).
//
// SPDX-License-Identifier: LGPL-2.1-or-later

imports.gi.versions.GLib = '2.0';
imports.gi.versions.GObject = '2.0';
imports.gi.versions.Gio = '2.0';
imports.gi.versions.BbSync = '1';
const {GLib, GObject, Gio, BbSync} = imports.gi;
const System = imports.system;

const ORIGIN = 'https://sync.example';

function assertEqual(actual, expected, what) {
    if (actual !== expected)
        throw new Error(`${what}: got ${actual}, expected ${expected}`);
}

// Runs an _async/_finish pair of @object to completion on a main loop and returns the
// result of @finish (or throws its error).
function run(object, start, finish, ...args) {
    const loop = new GLib.MainLoop(null, false);
    let value, error;
    start.call(object, ...args, null, (source, result) => {
        try {
            value = finish.call(object, result);
        } catch (e) {
            error = e;
        }
        loop.quit();
    });
    loop.run();
    if (error !== undefined)
        throw error;
    return value;
}

// The app's storage: a Map of strings.
const JsBackend = GObject.registerClass({
    Implements: [BbSync.ValueBackend],
}, class JsBackend extends GObject.Object {
    _init(scope = []) {
        super._init();
        this.values = new Map();
        this.scope = new Set(scope);
    }

    vfunc_list_keys() {
        return [...new Set([...this.values.keys(), ...this.scope])].sort();
    }

    vfunc_snapshot() {
        const entries = {};
        for (const [k, v] of this.values)
            entries[k] = new GLib.Variant('s', v);
        return new GLib.Variant('a{sv}', entries);
    }

    vfunc_get_value(key) {
        return this.values.has(key) ? new GLib.Variant('s', this.values.get(key)) : null;
    }

    vfunc_set_value(key, value) {
        this.values.set(key, value.unpack());
        return true;
    }
});

class Person {
    constructor(baseUrl, label) {
        this.client = BbSync.Client.new(baseUrl);
        this.store = BbSync.SqliteStore.new_sync(':memory:',
            new GLib.Bytes(new Uint8Array(32).fill(0x42)), null);
        this.engine = BbSync.SyncEngine.new(this.client, BbSync.TestIdentity.new(label),
            this.store);
        this.engine.set_namespace_watch(false);
        this.backend = new JsBackend(['from-alice', 'from-bob']);
        this.collection = null;
    }

    openNotes(ns) {
        this.collection = ns.open_collection('notes', BbSync.Codec.new_string(), this.backend);
    }

    sync() {
        return run(this.engine, this.engine.sync_async, this.engine.sync_finish);
    }

    close() {
        this.engine.close();
    }
}

// --- the server -----------------------------------------------------------------------

let server = null;
let baseUrl = null;

function startServer() {
    const program = GLib.getenv('BBSYNC_SERVER');
    if (!program || !GLib.file_test(program, GLib.FileTest.IS_EXECUTABLE))
        return false;
    server = Gio.Subprocess.new([program, '--listen', '127.0.0.1:0', '--database', ':memory:',
        '--public-origin', ORIGIN], Gio.SubprocessFlags.STDOUT_PIPE);
    const stdout = new Gio.DataInputStream({base_stream: server.get_stdout_pipe()});
    const [line] = stdout.read_line_utf8(null);
    baseUrl = line.trim().split(' ').pop();
    if (!baseUrl.startsWith('http://127.0.0.1:'))
        throw new Error(`unexpected server line: ${line}`);
    return true;
}

function stopServer() {
    server.send_signal(15);
    server.wait(null);
}

// --- the test -------------------------------------------------------------------------

function testInviteJoinApprove() {
    const alice = new Person(baseUrl, 'gjs-inv-alice');
    const bob = new Person(baseUrl, 'gjs-inv-bob');

    const ns = run(alice.engine, alice.engine.create_shared_namespace_async,
        alice.engine.create_shared_namespace_finish);
    alice.openNotes(ns);
    alice.backend.values.set('from-alice', 'hello bob');
    assertEqual(alice.sync(), true, 'alice sync');

    // Alice shows the invite as a QR code: its text is the invite's URI.
    const invite = run(ns, ns.create_invite_async, ns.create_invite_finish, ORIGIN, 0, 1, 5);
    const qrText = invite.to_uri();

    // Bob scans it and asks to join.
    const scanned = BbSync.Invite.new_from_uri(qrText);
    assertEqual(scanned.get_namespace_id(), ns.get_id(), 'scanned namespace');
    const submitted = run(bob.engine, bob.engine.submit_join_request_async,
        bob.engine.submit_join_request_finish, scanned);
    assertEqual(submitted.get_status(), 'pending', 'submitted status');

    // Alice sees the request and approves it (checked against the keyring's secret).
    assertEqual(run(ns, ns.refresh_join_requests_async, ns.refresh_join_requests_finish), true,
        'refresh');
    const requests = ns.get_join_requests();
    assertEqual(requests.get_n_items(), 1, 'pending requests');
    const pending = requests.get_item(0);
    assertEqual(pending.get_requester_key_id(), bob.engine.get_key_id(), 'requester');
    assertEqual(pending.get_invite_id(), invite.get_invite_id(), 'invite id');
    assertEqual(run(ns, ns.approve_join_request_async, ns.approve_join_request_finish,
        pending.get_request()), true, 'approve');
    assertEqual(requests.get_n_items(), 0, 'pending after approval');

    // Bob joins and reads Alice's value; Alice reads Bob's.
    const bobNs = run(bob.engine, bob.engine.join_namespace_async,
        bob.engine.join_namespace_finish, ns.get_id());
    bob.openNotes(bobNs);
    assertEqual(bob.sync(), true, 'bob sync');
    assertEqual(bob.backend.values.get('from-alice'), 'hello bob', 'bob reads');
    bob.backend.values.set('from-bob', 'hi alice');
    assertEqual(bob.sync(), true, 'bob sync');
    assertEqual(alice.sync(), true, 'alice sync');
    assertEqual(alice.backend.values.get('from-bob'), 'hi alice', 'alice reads');

    bob.close();
    alice.close();
}

// --- run -------------------------------------------------------------------------------

if (!startServer()) {
    print('1..0 # SKIP BBSYNC_SERVER is not built');
    System.exit(0);
}
print('1..1');
let failed = 0;
try {
    testInviteJoinApprove();
    print('ok 1 - invite, join request, approval, sync both ways');
} catch (e) {
    failed++;
    print('not ok 1 - invite, join request, approval, sync both ways');
    for (const line of `${e.message ?? e}\n${e.stack ?? ''}`.trim().split('\n'))
        print(`# ${line}`);
}
stopServer();
if (failed > 0)
    System.exit(1);
