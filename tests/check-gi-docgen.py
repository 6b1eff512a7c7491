#!/usr/bin/env python3
# Every public symbol is documented: `gi-docgen check` on the generated GIR has nothing to
# say, apart from the symbols named in the allowlist. An allowlisted symbol that no longer
# draws a warning fails too, so the list only ever shrinks.
#
#   check-gi-docgen.py GI_DOCGEN GIR ALLOWLIST
#
# The allowlist names one symbol per line as gi-docgen does (BbSync.Client.get_timeout);
# '#' starts a comment.

import os
import re
import subprocess
import sys


def read_allowlist(path):
    with open(path, encoding='utf-8') as f:
        return {line.split('#', 1)[0].strip() for line in f} - {''}


def main():
    gi_docgen, gir, allowlist_path = sys.argv[1:4]
    allowed = read_allowlist(allowlist_path)
    out = subprocess.run([gi_docgen, 'check', gir], capture_output=True, text=True)
    text = re.sub(r'\x1b\[[0-9;]*m', '', out.stdout + out.stderr)
    warnings = [line for line in text.splitlines() if line.startswith('WARNING')]
    if out.returncode != 0 and not warnings:
        print(text, file=sys.stderr)
        print('FAIL: gi-docgen check exited with %d' % out.returncode, file=sys.stderr)
        return 1

    failures = []
    warned = set()
    for line in warnings:
        symbol = re.search(r"[Ss]ymbol '([^']+)'", line)
        if symbol:
            warned.add(symbol.group(1))
        if symbol is None or symbol.group(1) not in allowed:
            failures.append(line)
    for symbol in sorted(allowed - warned):
        failures.append('%s is documented now: remove it from %s'
                        % (symbol, os.path.normpath(allowlist_path)))

    for line in failures:
        print('FAIL:', line, file=sys.stderr)
    print('%d warning(s), %d allowlisted, %d failure(s)'
          % (len(warnings), len(warnings) - len([f for f in failures if f.startswith('WARNING')]),
             len(failures)))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
