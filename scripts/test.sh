#!/bin/bash
# The whole test suite: installs dependencies, then builds and runs every test
# twice (a normal build and an ASan+UBSan build), plus short fuzzing runs.
# Usage: scripts/test.sh            (as root on Debian 12, or with deps installed)
# Env:   SMS_SKIP_CONTAINER=1 skips the Dockerfile build test; JOBS=N for ctest -j.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scripts/install-deps.sh

jobs=${JOBS:-4}
build_and_test() { # name cmake-args...
  local name=$1; shift
  local dir="$root/build-$name"
  echo "=== $name build"
  cmake -S "$root" -B "$dir" "$@" >/dev/null
  cmake --build "$dir" -j"$(nproc)" 2>&1 | grep -E "warning|error" || true
  cmake --build "$dir" -j"$(nproc)" >/dev/null
  echo "=== $name tests"
  local exclude="container"
  [ "${SMS_SKIP_CONTAINER:-0}" = 1 ] && exclude="container"
  ctest --test-dir "$dir" --output-on-failure -j"$jobs" -LE "$exclude" "${CTEST_ARGS[@]}"
}

CTEST_ARGS=()
build_and_test release -DCMAKE_BUILD_TYPE=RelWithDebInfo

# Valgrind memcheck on the release build: in these integration tests the daemon
# and the CLI run under valgrind (tests/integration/harness.py, SMS_VALGRIND=1);
# a definite or indirect leak, an invalid access or a use of uninitialised memory
# fails the test. The subset covers inbox, send, recovery, reload, CLI, probe,
# mail, TLS, pool and broker faults in about 3 min at -j4 (the long hang and
# clock tests are left to the other runs).
VALGRIND_TESTS='integration\.test_(inbox|send|send_failed|cli|sighup|fault_sighup|recovery_.*|probe|mail|logfile|spine|outbox_gammu|acl|tls|discovery|fault_broker|pool)$'
echo "=== valgrind memcheck (release build)"
SMS_VALGRIND=1 ctest --test-dir "$root/build-release" --output-on-failure -j"$jobs" -L integration -LE slow \
  -R "$VALGRIND_TESTS"

# The sanitizer build runs the same tests, integration ones included.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  build_and_test sanitize -DCMAKE_BUILD_TYPE=Debug -DSMS_SANITIZE=ON

echo "=== fuzzing (bounded)"
scripts/fuzz.sh "${FUZZ_SECONDS:-20}"

if [ "${SMS_SKIP_CONTAINER:-0}" != 1 ]; then
  echo "=== container build (Dockerfile)"
  ctest --test-dir "$root/build-release" --output-on-failure -L container
fi
