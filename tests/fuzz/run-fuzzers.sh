#!/bin/bash
# Runs every built fuzz target of BUILD_DIR for SECONDS each, starting from its seed
# corpus; fails if any target finds a crash, a leak or a hang.
# Usage: run-fuzzers.sh BUILD_DIR SECONDS
set -euo pipefail
build=$1
seconds=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
shopt -s nullglob
targets=("$build"/tests/fuzz/fuzz-*)
if ((${#targets[@]} == 0)); then
  echo "no fuzz targets built in $build" >&2
  exit 1
fi
for exe in "${targets[@]}"; do
  [[ -x $exe && ! -d $exe ]] || continue
  name=${exe##*/fuzz-}
  work=$(mktemp -d)
  [[ -d $here/corpus/$name ]] && cp -r "$here/corpus/$name/." "$work/"
  echo "-- fuzz-$name for ${seconds}s"
  "$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    "$work" 2>"$work.log" || { tail -50 "$work.log"; rm -rf "$work" "$work.log"; exit 1; }
  grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|stat::new_units_added)' "$work.log" || true
  rm -rf "$work" "$work.log"
done
