#!/usr/bin/env python3
# Checks data/bbsync-server.service as generated for this build:
#
#   check-server-unit.py UNIT INSTALLED_SERVER BUILT_SERVER          ExecStart and options
#   check-server-unit.py --verify UNIT INSTALLED_SERVER BUILT_SERVER  systemd-analyze verify
#
# The first form checks that ExecStart runs INSTALLED_SERVER (the configured install path),
# that it listens on loopback only with its database in the unit's state folder, and that
# BUILT_SERVER accepts its options. The second form runs `systemd-analyze --user verify` on
# a copy whose ExecStart is BUILT_SERVER (verify wants an existing program) and fails on
# any diagnostic; it skips when systemd-analyze is not installed.

import configparser
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

SKIP = 77


def read_unit(path):
    unit = configparser.ConfigParser(strict=False, interpolation=None,
                                     comment_prefixes=('#', ';'))
    unit.optionxform = str
    unit.read(path)
    return unit


def check_exec_start(unit_path, installed, built):
    failures = []
    service = read_unit(unit_path)['Service']
    argv = shlex.split(service['ExecStart'])
    if argv[0] != installed:
        failures.append('ExecStart runs %s, not the configured %s' % (argv[0], installed))
    opts = dict(zip(argv[1::2], argv[2::2]))
    listen = opts.get('--listen', '')
    if not (listen.startswith('127.0.0.1:') or listen.startswith('[::1]:')):
        failures.append('--listen %r is not a loopback address' % listen)
    state = service.get('StateDirectory', '')
    if not opts.get('--database', '').startswith('%%S/%s/' % state) or not state:
        failures.append('--database %r is not in StateDirectory=%s (%%S/%s/)'
                        % (opts.get('--database'), state, state))
    with tempfile.TemporaryDirectory() as state_home:
        args = [a.replace('%S', state_home) for a in argv[1:]]
        # --version exits once every option has parsed: the unit's options are real.
        run = subprocess.run([built] + args + ['--version'], capture_output=True, text=True)
        if run.returncode != 0:
            failures.append('bbsync-server refuses the unit\'s options: %s' % run.stderr.strip())
    return failures


def verify(unit_path, installed, built):
    analyze = shutil.which('systemd-analyze')
    if analyze is None:
        print('systemd-analyze is not installed (Debian package systemd): not verifying')
        return None
    with tempfile.TemporaryDirectory() as tmp:
        copy = os.path.join(tmp, os.path.basename(unit_path))
        with open(unit_path) as f:
            text = f.read()
        with open(copy, 'w') as f:
            f.write(text.replace(installed, built))
        runtime = os.path.join(tmp, 'runtime')
        os.mkdir(runtime, 0o700)
        env = dict(os.environ, XDG_RUNTIME_DIR=runtime)
        run = subprocess.run([analyze, '--user', 'verify', copy], capture_output=True,
                             text=True, env=env)
    output = (run.stdout + run.stderr).strip()
    if run.returncode != 0 or output:
        return ['systemd-analyze verify (status %d):\n%s' % (run.returncode, output)]
    return []


def main():
    args = sys.argv[1:]
    mode = check_exec_start
    if args and args[0] == '--verify':
        mode = verify
        args = args[1:]
    unit_path, installed, built = args
    failures = mode(unit_path, installed, os.path.abspath(built))
    if failures is None:
        return SKIP
    for f in failures:
        print('FAIL:', f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
