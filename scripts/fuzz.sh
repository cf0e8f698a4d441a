#!/bin/bash
# Builds the libFuzzer targets with clang and runs each for SECONDS (default 20)
# from its seed corpus under ASan+UBSan. Any crash fails the run and leaves the
# input in build-fuzz/artifacts/. Run longer: scripts/fuzz.sh 3600
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
dir=build-fuzz
CC=clang cmake -S . -B "$dir" -DSMS_FUZZ=ON -DSMS_TESTS=OFF -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build "$dir" -j"$(nproc)" >/dev/null
mkdir -p "$dir/artifacts"
status=0
for bin in "$dir"/tests/fuzz/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  corpus="tests/fuzz/corpus/${name#fuzz_}"
  work="$dir/corpus/${name#fuzz_}"
  mkdir -p "$work"
  [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/ 2>/dev/null || true
  if "$bin" -max_total_time="$seconds" -artifact_prefix="$dir/artifacts/$name-" -print_final_stats=1 \
      "$work" >"$dir/$name.log" 2>&1; then
    echo "$name: ok, $(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$dir/$name.log" | grep -o '[0-9]*$') execs"
  else
    echo "$name: FAILED"; tail -30 "$dir/$name.log"; status=1
  fi
done
exit $status
