#!/usr/bin/env python3
# gi-docgen's basic theme prints the Website and Source rows of the docs index whatever
# the config holds, so an unset URL becomes an empty link: every one must be set.
#
#   check-docs-config.py docs/reference/bbsync.toml.in

import sys
import tomllib

with open(sys.argv[1], 'rb') as f:
    library = tomllib.load(f)['library']
missing = [k for k in ('website_url', 'browse_url', 'repository_url') if not library.get(k)]
for key in missing:
    print('FAIL: [library] %s is unset: the docs index would show an empty link' % key,
          file=sys.stderr)
sys.exit(1 if missing else 0)
