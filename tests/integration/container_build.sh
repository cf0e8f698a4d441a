#!/bin/bash
# Builds the Dockerfile with ../shared/tools/container-build (buildah + podman,
# no Docker engine) and runs the image once with --version. Exit 77 (skipped)
# where that tool or buildah cannot run on this machine.
set -uo pipefail
src=${SRC_DIR:?}
tool="$src/../shared/tools/container-build"
if [ ! -x "$tool" ]; then
  echo "container-build not found at $tool: skipped"; exit 77
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "container-build needs root: skipped"; exit 77
fi
out=$(mktemp)
WORKDIR=${CONTAINER_WORKDIR:-/tmp/ctr-sms-sentinel} "$tool" "$src" sms-sentinel:test --version >"$out" 2>&1
rc=$?
tail -20 "$out"
if [ $rc -ne 0 ]; then
  if grep -qiE "operation not permitted|cannot (mount|unshare)|no space left" "$out"; then
    echo "buildah cannot run here: skipped"; exit 77
  fi
  echo "container build failed (exit $rc)"; exit 1
fi
grep -qE "^sms-sentinel [0-9]+\.[0-9]+\.[0-9]+" "$out" || { echo "image did not print its version"; exit 1; }
echo "container image built and ran: ok"
