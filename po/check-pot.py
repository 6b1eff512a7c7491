#!/usr/bin/env python3
# Checks that every translatable message reaches translators whole.
#
#   check-pot.py XGETTEXT SOURCE_ROOT SCAN_DIR... -- XGETTEXT_ARGS...
#
# Extracts the messages of po/POTFILES.in as `meson compile bbsync-1-pot` does (same
# xgettext arguments, into a temporary file), then fails on:
#  - a message xgettext cut short: xgettext ends a msgid at the first macro it cannot
#    expand, so `_("got %" G_GSIZE_FORMAT " bytes")` becomes "got %", which no
#    translation can ever match;
#  - any other msgid whose % is not a C conversion (a translation would not format);
#  - a source file under SCAN_DIR that marks strings for translation but is missing
#    from po/POTFILES.in, or an entry of po/POTFILES.in that does not exist.

import ast
import os
import re
import subprocess
import sys
import tempfile

# One printf directive: position, flags, width, precision, length, conversion.
DIRECTIVE = re.compile(r"%(?:\d+\$)?[-+ #0']*(?:\*(?:\d+\$)?|\d+)?"
                       r"(?:\.(?:\*(?:\d+\$)?|\d+)?)?"
                       r"(?:hh|h|ll|l|L|q|j|z|Z|t)?[diouxXeEfFgGaAcspnm%]")
# A call that marks a literal for translation (see the keywords in po/meson.build).
MARKER = re.compile(r"(?<![\w])(?:(?:_|N_|C_|NC_|Q_|bb_i18n_ngettext)\s*\(\s*\""
                    r"|g_d\w*gettext2?\s*\(\s*GETTEXT_PACKAGE\s*,\s*\")")
COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)


def read_potfiles(path):
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("#")]


def messages(pot):
    """Yields (locations, keyword, text) for each msgid and msgid_plural of a pot file."""
    locations, keyword, parts = "", None, []
    for line in pot.splitlines() + [""]:
        if line.startswith('"') and keyword is not None:
            parts.append(line)
            continue
        if keyword is not None:
            yield locations, keyword, "".join(ast.literal_eval(p) for p in parts)
            keyword, parts = None, []
        if line.startswith("#:"):
            locations = line[2:].strip()
        match = re.match(r'(msgid|msgid_plural) (".*")$', line)
        if match:
            keyword, parts = match.group(1), [match.group(2)]


def bad_directive(text):
    """Returns the first % of text that does not start a C conversion, or None."""
    pos = 0
    while True:
        pos = text.find("%", pos)
        if pos < 0:
            return None
        match = DIRECTIVE.match(text, pos)
        if match is None:
            return text[pos:pos + 6] or "%"
        pos = match.end()


def main():
    sep = sys.argv.index("--")
    xgettext, source_root, scan_dirs = sys.argv[1], sys.argv[2], sys.argv[3:sep]
    xgettext_args = sys.argv[sep + 1:]
    potfiles_in = os.path.join(source_root, "po", "POTFILES.in")
    listed = read_potfiles(potfiles_in)
    problems = []

    for name in listed:
        if not os.path.isfile(os.path.join(source_root, name)):
            problems.append(f"po/POTFILES.in: {name} does not exist")

    for scan_dir in scan_dirs:
        for dirpath, _, files in os.walk(os.path.join(source_root, scan_dir)):
            for file in sorted(files):
                if not file.endswith(".c"):
                    continue
                path = os.path.join(dirpath, file)
                name = os.path.relpath(path, source_root)
                with open(path, encoding="utf-8") as f:
                    code = COMMENT.sub("", f.read())
                if name not in listed and MARKER.search(code):
                    problems.append(f"{name}: has translatable strings but is not in po/POTFILES.in")

    with tempfile.TemporaryDirectory() as tmp:
        pot_path = os.path.join(tmp, "check.pot")
        run = subprocess.run([xgettext, "-f", potfiles_in, "-D", source_root, "-k_",
                              "-o", pot_path] + xgettext_args,
                             capture_output=True, text=True)
        sys.stderr.write(run.stderr)
        if run.returncode != 0:
            print(f"xgettext failed with status {run.returncode}")
            return 1
        with open(pot_path, encoding="utf-8") as f:
            pot = f.read()

    count = 0
    for locations, keyword, text in messages(pot):
        if text == "":
            continue  # the header
        count += 1
        bad = bad_directive(text)
        if bad is not None and text.endswith("%") and bad == "%":
            problems.append(f"{locations}: {keyword} \"{text}\" is cut short after the %: "
                            "xgettext stops at a macro such as G_GSIZE_FORMAT; use a C "
                            "conversion (%zu, %llu with a cast) instead")
        elif bad is not None:
            problems.append(f"{locations}: {keyword} \"{text}\" has a % that is not a C "
                            f"conversion (at \"{bad}\"); write a literal % as %%")

    for problem in problems:
        print(problem)
    print(f"{count} messages checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
