#!/bin/bash
# Builds the .deb from the source tree (cmake + cpack -G DEB, dpkg-shlibdeps
# for Depends), installs it with apt in a clean debian:bookworm image made by
# ../shared/tools/container-build and runs deb/check.sh there: --version,
# check-config on the shipped config, installed paths, Depends/Recommends,
# conffile handling, remove and purge. Exit 77 (skipped) where that tool or
# buildah cannot run on this machine.
set -uo pipefail
src=${SRC_DIR:?}
tool="$src/../shared/tools/container-build"
if [ ! -x "$tool" ]; then
  echo "container-build not found at $tool: skipped"; exit 77
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "container-build needs root: skipped"; exit 77
fi
command -v dpkg-shlibdeps >/dev/null || { echo "dpkg-shlibdeps missing (apt-get install dpkg-dev)"; exit 1; }
work=$(mktemp -d /tmp/sms-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT

echo "### build and package"
cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSMS_TESTS=OFF >"$work/cmake.log" 2>&1 \
  && cmake --build "$work/build" -j"$(nproc)" >>"$work/cmake.log" 2>&1 \
  && (cd "$work/build" && cpack -G DEB) >>"$work/cmake.log" 2>&1
rc=$?
if [ $rc -ne 0 ]; then tail -30 "$work/cmake.log"; echo "build or cpack failed (exit $rc)"; exit 1; fi
debs=("$work"/build/sms-sentinel_*.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || { echo "cpack made no single sms-sentinel_*.deb: ${debs[*]}"; exit 1; }
echo "built $(basename "${debs[0]}") ($(stat -c %s "${debs[0]}") bytes)"
dpkg-deb -I "${debs[0]}" | sed -n '/Package:/,$p'

echo "### install in a clean bookworm and check"
mkdir "$work/ctx"
cp "$src/tests/integration/deb/Dockerfile" "$src/tests/integration/deb/check.sh" "$work/ctx/"
cp "${debs[0]}" "$work/ctx/sms-sentinel.deb"
out="$work/container.log"
WORKDIR=${CONTAINER_WORKDIR:-/tmp/ctr-sms-sentinel} "$tool" "$work/ctx" sms-sentinel-deb:test >"$out" 2>&1
rc=$?
grep -E '^(ok|FAIL|deb checks|###)' "$out"
if [ $rc -ne 0 ]; then
  tail -20 "$out"
  if grep -qiE "operation not permitted|cannot (mount|unshare)|no space left" "$out"; then
    echo "buildah cannot run here: skipped"; exit 77
  fi
  echo "container build or checks failed (exit $rc)"; exit 1
fi
grep -qx "deb checks: ok" "$out" || { echo "check.sh did not finish"; exit 1; }
echo "package installed and checked in a clean bookworm: ok"
