// test-engine.js: BbSyncEngine from GJS through the BbSync typelib, against the
// bbsync-server program on loopback (BBSYNC_SERVER)
//
// Two engines of one identity, each with its own in-memory store and value backends
// implemented in JS; a JSON a{sv} collection with a merge handler in JS, and a string
// collection with the default policy, whose conflict is listed from get_conflicts() and
// resolved; then background sync (start, schedule_sync, stop) with its status properties
// bound to a JS GObject. The _async/_finish pairs run on a GLib.MainLoop with callbacks.
// Prints TAP; exits 1 if any check fails (a skip plan when the server is not built).
//
// SPDX-License-Identifier: LGPL-2.1-or-later

imports.gi.versions.GLib = '2.0';
imports.gi.versions.GObject = '2.0';
imports.gi.versions.Gio = '2.0';
imports.gi.versions.BbSync = '1';
const {GLib, GObject, Gio, BbSync} = imports.gi;
const System = imports.system;

const ERROR_DOMAIN = GLib.quark_from_string('bb-sync-error-quark');

// --- a minimal TAP harness -----------------------------------------------------------

const tests = [];
function test(name, func) {
    tests.push({name, func});
}

function assertEqual(actual, expected, what) {
    if (actual !== expected)
        throw new Error(`${what}: got ${actual}, expected ${expected}`);
}

function assertJson(actual, expected, what) {
    assertEqual(JSON.stringify(actual), JSON.stringify(expected), what);
}

function assertIncludes(list, entry, what) {
    const needle = JSON.stringify(entry);
    if (!list.some(e => JSON.stringify(e) === needle))
        throw new Error(`${what}: ${needle} not in ${JSON.stringify(list)}`);
}

function assertExcludes(list, entry, what) {
    const needle = JSON.stringify(entry);
    if (list.some(e => JSON.stringify(e) === needle))
        throw new Error(`${what}: ${needle} unexpectedly in ${JSON.stringify(list)}`);
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

// --- the app's storage: JS values typed by the codec ----------------------------------

const JsBackend = GObject.registerClass({
    Implements: [BbSync.ValueBackend],
}, class JsBackend extends GObject.Object {
    _init(vtype, scope = []) {
        super._init();
        this.vtype = vtype;
        this.values = new Map();
        this.scope = new Set(scope);
    }

    wrap(value) {
        if (this.vtype === 'a{sv}') {
            const fields = {};
            for (const [k, v] of Object.entries(value))
                fields[k] = new GLib.Variant('s', v);
            return new GLib.Variant('a{sv}', fields);
        }
        return new GLib.Variant(this.vtype, value);
    }

    vfunc_list_keys() {
        return [...new Set([...this.values.keys(), ...this.scope])].sort();
    }

    vfunc_snapshot() {
        const entries = {};
        for (const [k, v] of this.values)
            entries[k] = this.wrap(v);
        return new GLib.Variant('a{sv}', entries);
    }

    vfunc_get_value(key) {
        return this.values.has(key) ? this.wrap(this.values.get(key)) : null;
    }

    vfunc_set_value(key, value) {
        this.values.set(key, value.recursiveUnpack());
        return true;
    }
});

// --- a UI's status model, bound to the engine's status properties ---------------------

const SyncStatus = GObject.registerClass({
    Properties: {
        'syncing': GObject.ParamSpec.boolean('syncing', null, null,
            GObject.ParamFlags.READWRITE, false),
        'pending': GObject.ParamSpec.uint('pending', null, null,
            GObject.ParamFlags.READWRITE, 0, GLib.MAXUINT32, 0),
    },
}, class SyncStatus extends GObject.Object {
    _init() {
        super._init();
        this._syncing = false;
        this._pending = 0;
        this.seen = {syncing: [], pending: []};
        this.connect('notify::syncing', () => this.seen.syncing.push(this.syncing));
        this.connect('notify::pending', () => this.seen.pending.push(this.pending));
    }

    get syncing() {
        return this._syncing;
    }

    set syncing(value) {
        this._syncing = value;
        this.notify('syncing');
    }

    get pending() {
        return this._pending;
    }

    set pending(value) {
        this._pending = value;
        this.notify('pending');
    }
});

// --- devices --------------------------------------------------------------------------

class Device {
    constructor(baseUrl, label) {
        this.client = BbSync.Client.new(baseUrl);
        this.store = BbSync.SqliteStore.new_sync(':memory:',
            new GLib.Bytes(new Uint8Array(32).fill(0x42)), null);
        this.engine = BbSync.SyncEngine.new(this.client, BbSync.TestIdentity.new(label),
            this.store);
        this.labels = new JsBackend('s', ['acct:primary']);
        this.notes = new JsBackend('a{sv}', ['tx:1']);
        this.events = [];
        for (const name of ['item-uploaded', 'item-downloaded', 'item-changed', 'item-queued',
            'conflict-detected']) {
            this.engine.connect(name, (engine, ns, collection, key) => {
                this.events.push([name, collection, key]);
            });
        }
        const ns = run(this.engine, this.engine.default_namespace_async,
            this.engine.default_namespace_finish);
        assertEqual(ns.get_kind(), 'default', 'default namespace kind');
        this.labelsC = ns.open_collection('account-labels', BbSync.Codec.new_string(),
            this.labels);
        this.notesC = ns.open_collection('tx-notes',
            BbSync.Codec.new_json(new GLib.VariantType('a{sv}')), this.notes);
        this.merges = [];
        this.notesC.connect('merge', this.onMerge.bind(this));
    }

    // A three-way merge of note dicts: fields changed on either side win over the base.
    onMerge(collection, key, base, local, remote) {
        this.merges.push([key, base !== null]);
        const b = base !== null ? base.recursiveUnpack() : {};
        const l = local.recursiveUnpack();
        const merged = remote.recursiveUnpack();
        for (const [field, value] of Object.entries(l)) {
            if (b[field] !== value)
                merged[field] = value;
        }
        const fields = {};
        for (const [k, v] of Object.entries(merged))
            fields[k] = new GLib.Variant('s', v);
        return new GLib.Variant('a{sv}', fields);
    }

    sync() {
        this.events = [];
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
    server = Gio.Subprocess.new([program, '--listen', '127.0.0.1:0', '--database', ':memory:'],
        Gio.SubprocessFlags.STDOUT_PIPE);
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

// --- tests ----------------------------------------------------------------------------

let a, b;

test('two engines of one identity sync both ways', () => {
    a = new Device(baseUrl, 'gjs-alice');
    b = new Device(baseUrl, 'gjs-alice');
    assertEqual(a.engine.get_key_id(), b.engine.get_key_id(), 'one identity');

    a.labels.values.set('acct:primary', 'Savings');
    a.notes.values.set('tx:1', {memo: 'rent', tag: 'home'});
    assertEqual(a.sync(), true, 'a sync');
    assertIncludes(a.events, ['item-uploaded', 'account-labels', 'acct:primary'], 'a uploads');
    assertIncludes(a.events, ['item-uploaded', 'tx-notes', 'tx:1'], 'a uploads note');

    assertEqual(b.sync(), true, 'b sync');
    assertIncludes(b.events, ['item-downloaded', 'tx-notes', 'tx:1'], 'b downloads');
    assertEqual(b.labels.values.get('acct:primary'), 'Savings', 'b label');
    assertJson(b.notes.values.get('tx:1'), {memo: 'rent', tag: 'home'}, 'b note');

    // And back: B edits, A receives.
    b.labels.values.set('acct:primary', 'Savings account');
    assertEqual(b.sync(), true, 'b sync 2');
    assertIncludes(b.events, ['item-uploaded', 'account-labels', 'acct:primary'], 'b uploads');
    assertEqual(a.sync(), true, 'a sync 2');
    assertIncludes(a.events, ['item-downloaded', 'account-labels', 'acct:primary'],
        'a downloads');
    assertEqual(a.labels.values.get('acct:primary'), 'Savings account', 'a label');
    assertEqual(a.merges.length + b.merges.length, 0, 'no merges yet');
});

test('a concurrent edit is merged by the GJS handler', () => {
    a.notes.values.set('tx:1', {memo: 'rent (march)', tag: 'home'});
    b.notes.values.set('tx:1', {memo: 'rent', tag: 'housing'});
    assertEqual(a.sync(), true, 'a sync');
    assertEqual(b.sync(), true, 'b sync');
    assertJson(b.merges, [['tx:1', true]], 'one merge with a base');
    assertJson(b.notes.values.get('tx:1'), {memo: 'rent (march)', tag: 'housing'}, 'b merged');
    assertIncludes(b.events, ['item-changed', 'tx-notes', 'tx:1'], 'b item-changed');
    assertIncludes(b.events, ['item-uploaded', 'tx-notes', 'tx:1'], 'b uploads the merge');
    assertEqual(a.sync(), true, 'a sync 2');
    assertJson(a.notes.values.get('tx:1'), {memo: 'rent (march)', tag: 'housing'}, 'a merged');
    assertEqual(a.merges.length, 0, 'a merged nothing');
});

test('a conflict on a string collection is listed and resolved', () => {
    a.labels.values.set('acct:primary', 'Savings (joint)');
    b.labels.values.set('acct:primary', 'Emergency fund');
    assertEqual(a.sync(), true, 'a sync');
    assertEqual(b.sync(), true, 'b sync');
    assertIncludes(b.events, ['conflict-detected', 'account-labels', 'acct:primary'],
        'conflict-detected');
    assertExcludes(b.events, ['item-uploaded', 'account-labels', 'acct:primary'],
        'not uploaded');

    const conflicts = b.engine.get_conflicts();
    assertEqual(conflicts.get_n_items(), 1, 'one conflict');
    const conflict = conflicts.get_item(0);
    assertEqual(conflict.get_collection(), 'account-labels', 'collection');
    assertEqual(conflict.get_key(), 'acct:primary', 'key');
    assertEqual(conflict.get_local_value().unpack(), 'Emergency fund', 'local value');
    assertEqual(conflict.get_remote_value().unpack(), 'Savings (joint)', 'remote value');
    assertEqual(b.labels.values.get('acct:primary'), 'Emergency fund', 'backend keeps local');

    assertEqual(b.labelsC.resolve_conflict('acct:primary',
        BbSync.ConflictResolution.PREFER_LOCAL, null), true, 'resolve');
    assertEqual(conflicts.get_n_items(), 0, 'conflict gone');
    assertEqual(b.sync(), true, 'b sync 2');
    assertIncludes(b.events, ['item-uploaded', 'account-labels', 'acct:primary'], 'b uploads');
    assertEqual(a.sync(), true, 'a sync 2');
    assertEqual(a.labels.values.get('acct:primary'), 'Emergency fund', 'a gets the resolution');
});

test('background sync drives properties bound with bind_property', () => {
    const dev = new Device(baseUrl, 'gjs-bob');
    const engine = dev.engine;
    // Only start() and schedule_sync() start passes here: no timed pass, no watch.
    engine.poll_interval = 60 * 60 * 1000;
    engine.namespace_watch = false;
    assertEqual(engine.state, BbSync.SyncState.STOPPED, 'state before start');

    const status = new SyncStatus();
    engine.bind_property('syncing', status, 'syncing', GObject.BindingFlags.SYNC_CREATE);
    engine.bind_property('pending-uploads', status, 'pending',
        GObject.BindingFlags.SYNC_CREATE);
    status.seen = {syncing: [], pending: []};

    const finished = [];
    const failed = [];
    engine.connect('sync-finished', e => finished.push(e.state));
    engine.connect('sync-failed', (e, error) => failed.push(error.message));

    // Runs @action, then the main loop until sync-finished was emitted @count times in
    // all (or 30 s pass); lets the pass's completion run before returning.
    function runUntilFinished(count, action) {
        const loop = new GLib.MainLoop(null, false);
        const check = () => {
            if (finished.length >= count || failed.length > 0)
                GLib.idle_add(GLib.PRIORITY_DEFAULT_IDLE, () => {
                    loop.quit();
                    return GLib.SOURCE_REMOVE;
                });
        };
        const handlers = [engine.connect_after('sync-finished', check),
            engine.connect_after('sync-failed', check)];
        const timeout = GLib.timeout_add_seconds(GLib.PRIORITY_DEFAULT, 30, () => {
            loop.quit();
            return GLib.SOURCE_REMOVE;
        });
        action();
        loop.run();
        GLib.source_remove(timeout);
        handlers.forEach(h => engine.disconnect(h));
        assertJson(failed, [], 'no failed pass');
        assertEqual(finished.length, count, 'passes finished');
    }

    dev.labels.values.set('acct:primary', 'Checking');
    runUntilFinished(1, () => engine.start());
    assertIncludes(dev.events, ['item-uploaded', 'account-labels', 'acct:primary'],
        'first pass uploads');
    assertJson(finished, [BbSync.SyncState.SYNCING], 'state during sync-finished');
    assertJson(status.seen.syncing, [true, false], 'syncing seen');
    assertEqual(status.syncing, false, 'bound syncing');
    assertEqual(status.pending, 0, 'bound pending');
    assertEqual(engine.pending_uploads, 0, 'pending-uploads');
    assertEqual(engine.state, BbSync.SyncState.IDLE, 'state while started');
    assertEqual(engine.last_synced !== null, true, 'last-synced set');
    assertEqual(engine.last_error, null, 'no last-error');
    assertEqual(engine.next_sync !== null, true, 'next timed pass planned');
    const firstSynced = engine.last_synced;

    // A second local write and a wake-up give a second pass.
    dev.events = [];
    dev.notes.values.set('tx:1', {memo: 'groceries', tag: 'food'});
    runUntilFinished(2, () => engine.schedule_sync());
    assertIncludes(dev.events, ['item-uploaded', 'tx-notes', 'tx:1'], 'second pass uploads');
    assertJson(status.seen.syncing, [true, false, true, false], 'syncing seen twice');
    assertEqual(status.pending, 0, 'bound pending after the second pass');
    assertEqual(engine.state, BbSync.SyncState.IDLE, 'state after the second pass');
    assertEqual(engine.last_synced.difference(firstSynced) >= 0, true, 'last-synced moves on');

    engine.stop();
    assertEqual(engine.state, BbSync.SyncState.STOPPED, 'state after stop');
    assertEqual(engine.next_sync, null, 'no next pass after stop');
    assertEqual(engine.last_synced !== null, true, 'last-synced kept');
    assertEqual(status.syncing, false, 'bound syncing after stop');
    dev.close();
});

test('a closed engine refuses to sync', () => {
    for (const dev of [a, b]) {
        dev.close();
        try {
            dev.sync();
        } catch (e) {
            if (!(e instanceof GLib.Error) || e.domain !== ERROR_DOMAIN ||
                e.code !== BbSync.SyncError.CLOSED)
                throw e;
            continue;
        }
        throw new Error('sync after close succeeded');
    }
});

// --- run -------------------------------------------------------------------------------

if (!startServer()) {
    print('1..0 # SKIP BBSYNC_SERVER is not built');
    System.exit(0);
}
print(`1..${tests.length}`);
let failed = 0;
tests.forEach(({name, func}, i) => {
    try {
        func();
        print(`ok ${i + 1} - ${name}`);
    } catch (e) {
        failed++;
        print(`not ok ${i + 1} - ${name}`);
        for (const line of `${e.message ?? e}\n${e.stack ?? ''}`.trim().split('\n'))
            print(`# ${line}`);
    }
});
stopServer();
if (failed > 0) {
    print(`# ${failed} of ${tests.length} failed`);
    System.exit(1);
}
