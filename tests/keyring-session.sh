#!/bin/sh
# Runs a command inside a private D-Bus session bus with a fresh gnome-keyring whose
# default keyring is unlocked (a Secret Service with nothing from the user's session).
# Usage: keyring-session.sh COMMAND [ARGS...]
set -eu
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bbsync-keyring.XXXXXX")
cleanup () { rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
mkdir -p "$tmp/home" "$tmp/data" "$tmp/config" "$tmp/cache" "$tmp/run"
chmod 700 "$tmp/run"
export HOME="$tmp/home" XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config" \
       XDG_CACHE_HOME="$tmp/cache" XDG_RUNTIME_DIR="$tmp/run"
unset GNOME_KEYRING_CONTROL SSH_AUTH_SOCK
status=0
dbus-run-session -- sh -c '
  printf "%s" "bbsync-test-password" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  exec "$@"' keyring-session "$@" || status=$?
exit $status
