// test-value-backend.js: value backends implemented in GJS, and BbMemoryValueBackend,
// through the BbSync typelib
//
// A JS class implements BbSync.ValueBackend (vfunc_list_keys, vfunc_snapshot,
// vfunc_get_value, vfunc_set_value; a subclass adds vfunc_set_value_if_current) and is
// driven through the C wrappers. Prints TAP; exits 1 if any check fails.
//
// GVariants returned by JS vfuncs (`(transfer full)`) are balanced in GJS 1.74: under
// valgrind, returning a stored variant from vfunc_get_value thousands of times loses
// nothing and nothing is read after being freed. (GJS 1.74 does report one lost block
// per `new GLib.Variant()` made in JS, whether or not it ever reaches bbsync.)
//
// SPDX-License-Identifier: LGPL-2.1-or-later

imports.gi.versions.GLib = '2.0';
imports.gi.versions.GObject = '2.0';
imports.gi.versions.BbSync = '1';
const {GLib, GObject, BbSync} = imports.gi;
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

function assertThrowsGError(domain, code, needle, func, what) {
    try {
        func();
    } catch (e) {
        if (!(e instanceof GLib.Error))
            throw e;
        if (e.domain !== domain || e.code !== code)
            throw new Error(`${what}: wrong error ${e.domain}:${e.code} ${e.message}`);
        if (!e.message.includes(needle))
            throw new Error(`${what}: message "${e.message}" lacks "${needle}"`);
        return;
    }
    throw new Error(`${what}: no error`);
}

const str = s => new GLib.Variant('s', s);

// --- backends implemented in JS ----------------------------------------------------------

const JsBackend = GObject.registerClass({
    Implements: [BbSync.ValueBackend],
}, class JsBackend extends GObject.Object {
    _init() {
        super._init();
        this.values = new Map();
        this.scope = [];
        this.sets = 0;
    }

    vfunc_list_keys() {
        return [...this.values.keys(), ...this.scope];
    }

    vfunc_snapshot() {
        return new GLib.Variant('a{sv}', Object.fromEntries(this.values));
    }

    vfunc_get_value(key) {
        return this.values.get(key) ?? null;
    }

    vfunc_set_value(key, value) {
        if (key.startsWith('read-only'))
            throw new GLib.Error(GLib.FileError, GLib.FileError.ACCES, `${key} is read-only`);
        this.values.set(key, value);
        this.sets++;
        return true;
    }
});

// GJS insists that a subclass list the interface again (it throws otherwise), which
// also gives the subclass its own interface vtable: the plain class stays plain.
const JsConditionalBackend = GObject.registerClass({
    Implements: [BbSync.ValueBackend],
}, class JsConditionalBackend extends JsBackend {
    vfunc_set_value_if_current(key, current, value) {
        const stored = this.values.get(key) ?? null;
        if ((stored === null) !== (current === null))
            return false;
        if (stored !== null && !stored.equal(current))
            return false;
        this.values.set(key, value);
        return true;
    }
});

const JsBrokenBackend = GObject.registerClass({
    Implements: [BbSync.ValueBackend],
}, class JsBrokenBackend extends GObject.Object {
    vfunc_list_keys() {
        return null;
    }

    vfunc_snapshot() {
        return new GLib.Variant('a{ss}', {not: 'vardict'});
    }

    vfunc_get_value(key) {
        throw new GLib.Error(BbSync.sync_error_quark(), BbSync.SyncError.STORE, `cannot read ${key}`);
    }

    vfunc_set_value() {
        return true;
    }
});

// --- the checks ------------------------------------------------------------------------

test('a plain JS backend through the wrappers', () => {
    const backend = new JsBackend();
    assertEqual(backend.is_conditional(), false, 'is_conditional');
    assertJson(backend.list_keys(), [], 'empty keys');
    assertJson(backend.snapshot().recursiveUnpack(), {}, 'empty snapshot');
    assertEqual(backend.get_value('missing'), null, 'missing value');

    assertEqual(backend.set_value('note', str('hello')), true, 'set_value');
    backend.scope = ['remote-only'];
    assertJson(backend.list_keys(), ['note', 'remote-only'], 'keys with scope');
    assertEqual(backend.get_value('note').unpack(), 'hello', 'get_value');
    const snapshot = backend.snapshot();
    assertEqual(snapshot.get_type_string(), 'a{sv}', 'snapshot type');
    assertJson(snapshot.recursiveUnpack(), {note: 'hello'}, 'snapshot');

    // No conditional method: stored through set_value, reported as replaced.
    assertEqual(backend.set_value_if_current('note', str('stale'), str('remote')), true,
        'plain set_value_if_current');
    assertEqual(backend.sets, 2, 'set_value calls');
    assertEqual(backend.get_value('note').unpack(), 'remote', 'value after fallback');
});

test('a conditional JS backend through the wrappers', () => {
    const backend = new JsConditionalBackend();
    assertEqual(backend.is_conditional(), true, 'is_conditional');
    assertEqual(new JsBackend().is_conditional(), false, 'the parent class stays plain');

    backend.set_value('k', str('app'));
    assertJson(backend.list_keys(), ['k'], 'inherited list_keys');
    assertEqual(backend.set_value_if_current('k', null, str('x')), false, 'present, expected absent');
    assertEqual(backend.set_value_if_current('k', str('base'), str('x')), false, 'different');
    assertEqual(backend.set_value_if_current('new', str('app'), str('x')), false,
        'absent, expected present');
    assertEqual(backend.get_value('k').unpack(), 'app', 'not replaced');
    assertEqual(backend.get_value('new'), null, 'still absent');
    assertEqual(backend.set_value_if_current('k', str('app'), str('remote')), true, 'equal');
    assertEqual(backend.set_value_if_current('new', null, str('remote')), true, 'absent, absent');
    assertJson(backend.snapshot().recursiveUnpack(), {k: 'remote', new: 'remote'}, 'snapshot');
});

test('errors thrown in JS vfuncs and bad results reach the caller', () => {
    const backend = new JsBackend();
    assertThrowsGError(GLib.file_error_quark(), GLib.FileError.ACCES, 'read-only-key',
        () => backend.set_value('read-only-key', str('x')), 'set_value');
    assertEqual(backend.values.size, 0, 'nothing stored');
    assertThrowsGError(GLib.file_error_quark(), GLib.FileError.ACCES, 'read-only-2',
        () => backend.set_value_if_current('read-only-2', null, str('x')), 'fallback');

    const broken = new JsBrokenBackend();
    assertJson(broken.list_keys(), [], 'null keys are an empty list');
    assertThrowsGError(ERROR_DOMAIN, BbSync.SyncError.INVALID_INPUT, '“a{ss}”',
        () => broken.snapshot(), 'snapshot type');
    assertThrowsGError(ERROR_DOMAIN, BbSync.SyncError.STORE, 'cannot read k',
        () => broken.get_value('k'), 'get_value error');
});

test('values cross the vfunc boundary many times', () => {
    const backend = new JsConditionalBackend();
    const kept = str('x'.repeat(64));
    backend.values.set('kept', kept);
    let value;
    for (let i = 0; i < 2000; i++) {
        value = backend.get_value('kept');
        backend.set_value(`k${i % 3}`, str(`${i}`));
        backend.set_value_if_current(`k${i % 3}`, str(`${i}`), str(`again ${i}`));
    }
    System.gc();
    assertEqual(value.unpack(), 'x'.repeat(64), 'last returned value');
    assertEqual(kept.unpack(), 'x'.repeat(64), 'kept value');
    assertEqual(backend.get_value('k1').unpack(), 'again 1999', 'last write');
});

test('the memory backend from GJS', () => {
    const backend = BbSync.MemoryValueBackend.new();
    assertEqual(backend.is_conditional(), true, 'is_conditional');
    backend.set_value('b', str('bee'));
    backend.set_value('a', new GLib.Variant('(ii)', [1, 2]));
    backend.set_scope(['remote', 'a']);
    assertJson(backend.list_keys(), ['a', 'b', 'remote'], 'keys');
    assertJson(backend.snapshot().recursiveUnpack(), {a: [1, 2], b: 'bee'}, 'snapshot');
    assertEqual(backend.get_n_values(), 2, 'n values');
    assertEqual(backend.set_value_if_current('b', null, str('x')), false, 'conditional');
    assertEqual(backend.get_value('missing'), null, 'missing');
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
