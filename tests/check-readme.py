#!/usr/bin/env python3
# The README describes what exists, and all of it:
# - the quick start is two commands;
# - every bb_ function it names is declared in a header, every signal it names is
#   registered, every folder of its layout exists;
# - its layout lists every top-level folder, its option and suite lists name every meson
#   option and test suite, and it says what each file of data/ is;
# - it says how to install to a prefix of one's own and how to run from the build folder.
#
#   check-readme.py SOURCE_ROOT

import glob
import os
import re
import sys

root = sys.argv[1]
failures = []


def read(path):
    with open(os.path.join(root, path), encoding='utf-8') as f:
        return f.read()


def section(text, title):
    m = re.search(r'^## %s\n(.*?)(?=^## |\Z)' % re.escape(title), text, re.M | re.S)
    if m is None:
        failures.append('no "## %s" section' % title)
        return ''
    return m.group(1)


def code_blocks(text):
    return re.findall(r'^```[a-z]*\n(.*?)^```', text, re.M | re.S)


readme = read('README.md')

quick = code_blocks(section(readme, 'Quick start'))
commands = [l for l in (quick[0] if quick else '').splitlines() if l.strip()]
if len(commands) != 2:
    failures.append('the quick start has %d commands, not 2' % len(commands))

headers = ''.join(read(os.path.relpath(p, root)) for p in
                  glob.glob(os.path.join(root, 'bbsync', '**', '*.h'), recursive=True)
                  + glob.glob(os.path.join(root, 'server', '*.h')))
for name in sorted(set(re.findall(r'\bbb_[a-z0-9_]+\b', readme))):
    if not re.search(r'\b%s\s*\(' % name, headers):
        failures.append('README names %s (), which no header declares' % name)

sources = ''.join(read(os.path.relpath(p, root)) for p in
                  glob.glob(os.path.join(root, 'bbsync', '*.c')))
signals = set(re.findall(r'(?:g_signal_new|new_item_signal)\s*\([^"]*"([a-z-]+)"', sources))
for listed in re.findall(r'Signals \(([^)]*)\)', readme):
    for name in re.findall(r'`([a-z-]+)(?:::[A-Z]+)?`', listed):
        if name not in signals:
            failures.append('README names the signal %s, which nothing registers' % name)
for name in re.findall(r"`([a-z-]+)` signal", readme):
    if name not in signals:
        failures.append('README names the signal %s, which nothing registers' % name)

layout = code_blocks(section(readme, 'Layout'))
folders = [l.split()[0] for l in (layout[0] if layout else '').splitlines() if l.strip()]
for folder in folders:
    if not os.path.isdir(os.path.join(root, folder)):
        failures.append('the layout lists %s, which does not exist' % folder)
for entry in sorted(os.listdir(root)):
    path = os.path.join(root, entry)
    if (os.path.isdir(path) and not entry.startswith(('.', '_'))
            and not os.path.isdir(os.path.join(path, 'meson-private'))
            and not any(f.startswith(entry + '/') for f in folders)):
        failures.append('the layout does not list %s/' % entry)

options = re.findall(r"^option\('([a-z_]+)'", read('meson_options.txt'), re.M)
for name in options:
    if '-D%s=' % name not in readme:
        failures.append('README does not list the option -D%s=' % name)

suites = set()
for path in glob.glob(os.path.join(root, 'tests', '**', 'meson.build'), recursive=True):
    for value in re.findall(r"suite:\s*(\[[^\]]*\]|'[^']*')", read(os.path.relpath(path, root))):
        suites.update(re.findall(r"'([a-z-]+)'", value))
listed = re.search(r'# suites: (.*)', readme)
listed = set(re.findall(r'[a-z-]+', listed.group(1))) if listed else set()
for suite in sorted(suites - listed):
    failures.append('README does not list the test suite %s' % suite)

for entry in sorted(os.listdir(os.path.join(root, 'data'))):
    if entry != 'meson.build' and entry.removesuffix('.in') not in readme:
        failures.append('README does not say what data/%s is' % entry.removesuffix('.in'))

install = section(readme, 'Install')
for needed in ('meson setup _build --prefix=', 'meson configure _build --prefix=',
               'meson install -C _build'):
    if needed not in install:
        failures.append('the Install section does not show `%s`' % needed)
devenv = section(readme, 'Use from Python and GJS without installing')
for needed in ('meson devenv -C _build', 'GI_TYPELIB_PATH=$PWD/_build/bbsync',
               'LD_LIBRARY_PATH=$PWD/_build/bbsync'):
    if needed not in devenv:
        failures.append('the devenv section does not show `%s`' % needed)

for f in failures:
    print('FAIL:', f, file=sys.stderr)
sys.exit(1 if failures else 0)
