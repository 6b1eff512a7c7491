#!/usr/bin/env python3
# Builds tests/consumer/ against a copy of this source tree in its subprojects/bbsync, as an
# app would use bbsync, runs the program, and checks what the subproject built and would
# install: no tests, fuzzers, benchmarks or demo, and no bbsync-server unless asked.
#
#   check-consumer.py SOURCE_ROOT MESON

import json
import os
import shutil
import subprocess
import sys
import tempfile


def is_build_dir(path):
    return os.path.isdir(os.path.join(path, 'meson-private'))


def ignore_build_dirs(folder, names):
    return [n for n in names
            if n == '.git' or is_build_dir(os.path.join(folder, n))]


def run(cmd, **kwargs):
    print('$', ' '.join(cmd), flush=True)
    subprocess.run(cmd, check=True, **kwargs)


def introspect(meson, build, what):
    out = subprocess.run([meson, 'introspect', build, what], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    source_root, meson = sys.argv[1], sys.argv[2]
    failures = []
    with tempfile.TemporaryDirectory(prefix='bbsync-consumer-') as tmp:
        app = os.path.join(tmp, 'app')
        shutil.copytree(os.path.join(source_root, 'tests', 'consumer'), app)
        sub = os.path.join(app, 'subprojects', 'bbsync')
        shutil.copytree(source_root, sub, ignore=ignore_build_dirs, symlinks=True)
        build = os.path.join(app, '_build')

        # Introspection is off only to keep this quick; it plays no part in the checks.
        run([meson, 'setup', build, app, '--force-fallback-for=bbsync-1', '-Dwerror=true',
             '-Dbbsync:introspection=disabled'])
        run([meson, 'compile', '-C', build, '-j', '2'])
        run([os.path.join(build, 'bbsync-consumer')])

        sub_src = os.path.realpath(sub)
        for part in ('tests', 'examples'):
            folder = os.path.join(sub_src, part) + os.sep
            defined = [t['name'] for t in introspect(meson, build, '--targets')
                       if os.path.realpath(t['defined_in']).startswith(folder)]
            if defined:
                failures.append('the subproject defines targets in %s/: %s'
                                % (part, ', '.join(sorted(defined))))

        installed = introspect(meson, build, '--installed').values()
        server = [p for p in installed if os.path.basename(p) in
                  ('bbsync-server', 'bbsync-server.service')]
        if server:
            failures.append('the subproject would install %s' % ', '.join(server))
        built_server = os.path.join(build, 'subprojects', 'bbsync', 'server', 'bbsync-server')
        if os.path.exists(built_server):
            failures.append('the subproject built bbsync-server, which nothing asked for')

    for f in failures:
        print('FAIL:', f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
