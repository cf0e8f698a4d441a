#!/bin/bash
# The whole test suite: installs dependencies, builds a release and an ASan+UBSan
# build, runs every test on the release build, the integration tests again under
# valgrind (a subset) and under the sanitizers, short fuzzing runs, and the
# container tests (Dockerfile, .deb, compose) last.
# Usage: scripts/test.sh            (as root on Debian 12, or with deps installed)
# Env:   SMS_SKIP_CONTAINER=1 skips the Dockerfile build test; JOBS=N for ctest -j.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scripts/install-deps.sh

jobs=${JOBS:-5}
stage_start=$SECONDS
stage() { echo "=== $1 (at $((SECONDS - stage_start)) s)"; }
build() { # name cmake-args...
  local name=$1; shift
  local dir="$root/build-$name"
  stage "$name build"
  cmake -S "$root" -B "$dir" "$@" >/dev/null
  cmake --build "$dir" -j"$(nproc)" 2>&1 | grep -E "warning|error" || true
  cmake --build "$dir" -j"$(nproc)" >/dev/null
}
san_env=(ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1)

build release -DCMAKE_BUILD_TYPE=RelWithDebInfo
build sanitize -DCMAKE_BUILD_TYPE=Debug -DSMS_SANITIZE=ON

# Release build: every test but the container ones (unit, integration, slow).
stage "release tests"
ctest --test-dir "$root/build-release" --output-on-failure -j"$jobs" -LE container

# Valgrind memcheck on the release build: in these integration tests the daemon
# and the CLI run under valgrind (tests/integration/harness.py, SMS_VALGRIND=1);
# a definite or indirect leak, an invalid access or a use of uninitialised memory
# fails the test. The subset covers inbox, send, recovery, reload, CLI, probe,
# mail, TLS, pool and broker faults in about 3 min (the long hang and clock
# tests are left to the other runs).
VALGRIND_TESTS='integration\.test_(inbox|send|send_failed|cli|sighup|fault_sighup|recovery_.*|probe|mail|logfile|spine|outbox_gammu|acl|tls|discovery|fault_broker|pool)$'
stage "valgrind memcheck (release build)"
SMS_VALGRIND=1 ctest --test-dir "$root/build-release" --output-on-failure -j"$jobs" -L integration -LE slow \
  -R "$VALGRIND_TESTS"

# ASan+UBSan build: unit and integration tests again (the slow ones ran above).
stage "sanitizer tests"
env "${san_env[@]}" ctest --test-dir "$root/build-sanitize" --output-on-failure -j"$jobs" -LE "container|slow"

stage "fuzzing (bounded)"
scripts/fuzz.sh "${FUZZ_SECONDS:-15}"

if [ "${SMS_SKIP_CONTAINER:-0}" != 1 ]; then
  stage "container tests (Dockerfile, .deb, compose)"
  ctest --test-dir "$root/build-release" --output-on-failure -L container
fi
