#!/bin/sh
# demo-check.sh DEMO: runs the demo end to end and checks the lines that prove each
# layer worked, then checks that a failing step is reported as "<step>: <error>" with
# exit status 1.
#
# SPDX-License-Identifier: LGPL-2.1-or-later

set -u
demo=$1
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
status=0

fail () {
  echo "FAIL: $*" >&2
  status=1
}

"$demo" >"$out" 2>"$err"
rc=$?
cat "$out"
[ "$rc" -eq 0 ] || { cat "$err" >&2; fail "the demo exited with $rc"; }

expect () {
  grep -qF -- "$1" "$out" || fail "missing output line: $1"
}
expect '[server] public origin for invites: https://sync.example'
expect '[laptop] sync: 2 uploaded, 0 downloaded'
expect '[phone] sync: 0 uploaded, 2 downloaded'
expect "[phone] account-labels/acct:primary = 'Savings'"
expect '[phone] merge handler: tx:4f2a changed on both devices, merged field by field against the last common value'
expect "[laptop] tx-notes/tx:4f2a = {'category': <'housing'>, 'memo': <'rent for March'>}"
expect "[phone] tx-notes/tx:4f2a = {'category': <'housing'>, 'memo': <'rent for March'>}"
expect "[phone] conflict listed: account-labels/acct:primary, local 'Emergency fund', remote 'Savings (joint)' (version 2)"
expect '[phone] resolved it by keeping the local label; conflicts left: 0'
expect "[laptop] account-labels/acct:primary = 'Emergency fund'"
expect '[alice] GET and decrypt: "Savings" (version 1)'
expect '[alice] invite URI (what the QR code carries): bitboxsync://join-namespace?v=1&s=sync.example&n='
expect '[bob] signed and submitted join request'
expect '[alice] verified it: key ID, payload hash, Ed25519 signature, invite proof'
expect "[bob] read Alice's shared note: \"Multisig draft"
expect "[alice] read Bob's note: \"Bob: my key is ready to co-sign\""
expect 'refused: HTTP 412'
expect '[alice] reads the merged note at version 3: "Multisig draft: 2-of-3, keys held by Alice, Bob and a backup / fee rate 5 sat/vB / co-sign on Friday"'
expect '(checked against another invite secret it would fail: inviteProof: invalid invite proof)'
expect 'contains no note text and no namespace key'
expect '[demo] done:'
grep -q 'long poll woke .* head 1 -> 2' "$out" || fail "the long poll did not report head 1 -> 2"
[ -s "$err" ] && { cat "$err" >&2; fail "the demo wrote to stderr on success"; }

# A server that is not there: the first step fails, names itself, exit status 1.
"$demo" --server http://127.0.0.1:1 >"$out" 2>"$err"
rc=$?
[ "$rc" -eq 1 ] || fail "an unreachable server gave exit status $rc, not 1"
grep -q '^server: ' "$err" || { cat "$err" >&2; fail "no 'server: <error>' line for an unreachable server"; }
grep -q 'done:' "$out" && fail "a failed run printed the summary"

exit $status
