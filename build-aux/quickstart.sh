#!/bin/bash
# bbsync quick start: installs what is missing (Debian 12, as root or with sudo), builds,
# then runs the demo or the whole test suite.
#
#   build-aux/quickstart.sh demo    build and run the demo against an embedded local server
#   build-aux/quickstart.sh test    build and run every test suite, then again under
#                                   AddressSanitizer + UndefinedBehaviorSanitizer (with the
#                                   leak checker), then a short run of every fuzz target
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
mode=${1:-test}

packages=(
  meson ninja-build pkg-config gcc clang libclang-rt-14-dev
  libglib2.0-dev libsoup-3.0-dev libjson-glib-dev libsecret-1-dev nettle-dev libgnutls28-dev
  libsqlite3-dev gobject-introspection libgirepository1.0-dev gir1.2-glib-2.0
  python3 python3-gi gjs gnome-keyring libsecret-tools dbus dbus-daemon glib-networking
  gettext gi-docgen valac systemd
)

install_missing () {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "== installing: ${missing[*]}"
    local sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

# Test builds treat warnings as errors.
setup () {
  local dir=$1; shift
  if [[ -f $dir/build.ninja ]]; then
    # An existing folder (say from the demo command) gets this mode's options too;
    # --reconfigure also when an option changed type since the folder was made.
    meson setup --reconfigure "$dir" -Dwerror=true "$@" >/dev/null || return
  else
    meson setup "$dir" -Dwerror=true "$@" || return
  fi
  ninja -C "$dir"
}

case $mode in
  demo)
    install_missing
    setup _build
    exec "$here/_build/examples/bbsync-demo"
    ;;
  test)
    install_missing
    start=$(date +%s)
    logs=$(mktemp -d)
    trap 'rm -rf "$logs"' EXIT
    # Every stage runs even when an earlier one failed: the summary at the end counts the
    # test cases of all of them and names what failed. Old results must not count.
    rm -f _build/meson-logs/testlog.json _build-asan/meson-logs/testlog.json
    echo "== build and test (gcc, -Werror)"
    if setup _build -Ddocumentation=enabled; then
      meson test -C _build --print-errorlogs --no-rebuild || true
    else
      touch "$logs/gcc.build-failed"
    fi
    echo "== build and test under AddressSanitizer + UndefinedBehaviorSanitizer + LeakSanitizer"
    if setup _build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dintrospection=disabled \
      -Dbuildtype=debug; then
      ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
      UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
      LSAN_OPTIONS=suppressions=$here/tests/lsan.supp:print_suppressions=0 \
        meson test -C _build-asan --print-errorlogs --no-rebuild --no-suite python --no-suite gjs \
        || true
    else
      touch "$logs/asan.build-failed"
    fi
    echo "== fuzz targets (clang, libFuzzer), a short run each"
    if CC=clang setup _build-fuzz -Dfuzzing=true -Dintrospection=disabled -Dexamples=disabled \
      -Db_lundef=false -Dbuildtype=debugoptimized; then
      "$here/tests/fuzz/run-fuzzers.sh" _build-fuzz "${BBSYNC_FUZZ_SECONDS:-10}" \
        | tee "$logs/fuzz.txt" || touch "$logs/fuzz.failed"
    else
      touch "$logs/fuzz.build-failed"
    fi
    echo "== summary"
    # Test cases passed and failed in all three runs, the failed ones named; exits 1 (so
    # this script too) if anything failed.
    python3 "$here/build-aux/test-summary.py" "$here" "$logs" "$(( $(date +%s) - start ))"
    ;;
  *)
    echo "usage: $0 demo|test" >&2
    exit 2
    ;;
esac
