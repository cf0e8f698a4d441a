#!/bin/bash
# Builds the .deb from the source tree (cmake + cpack -G DEB, dpkg-shlibdeps
# for Depends), installs it with apt in a clean debian:bookworm image made by
# ../shared/tools/container-build and runs deb/check.sh there: --version,
# check-config on the shipped config, installed paths, Depends/Recommends,
# conffile handling, remove and purge; then boots systemd in a privileged
# container with the package and runs deb/unit_check.sh: the unit's sandbox,
# an SMS through it, restart_smsd via systemctl, reload, stop. Exit 77
# (skipped) where that tool or buildah cannot run on this machine.
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

echo "### the unit under systemd (privileged container booting systemd, no network)"
mkdir "$work/ctx2"
cp "$src/tests/integration/deb/Dockerfile.systemd" "$work/ctx2/Dockerfile"
cp "$src/tests/integration/deb/unit_check.sh" "${debs[0]}" "$work/ctx2/"
mv "$work/ctx2/$(basename "${debs[0]}")" "$work/ctx2/sms-sentinel.deb"
W=${CONTAINER_WORKDIR:-/tmp/ctr-sms-sentinel}
WORKDIR=$W "$tool" "$work/ctx2" sms-sentinel-systemd:test true >"$work/systemd-build.log" 2>&1 \
  || { tail -20 "$work/systemd-build.log"; echo "systemd image build failed"; exit 1; }
export CONTAINERS_STORAGE_CONF=$W/storage.conf CONTAINERS_CONF=$W/containers.conf
name=sms-sentinel-systemd-$$
trap 'podman rm -f -t 2 "$name" >/dev/null 2>&1; podman rmi -f sms-sentinel-deb:test sms-sentinel-systemd:test >/dev/null 2>&1; rm -rf "$work"' EXIT
if ! podman run -d --name "$name" --hostname pi --privileged --systemd=always --network none \
     sms-sentinel-systemd:test >"$work/run.log" 2>&1; then
  cat "$work/run.log"
  if grep -qiE "operation not permitted|cannot (mount|unshare)" "$work/run.log"; then
    echo "cannot boot systemd in a container here: unit part skipped"; exit 77
  fi
  echo "podman run failed"; exit 1
fi
podman exec "$name" bash /unit_check.sh >"$work/unit.log" 2>&1
rc=$?
cat "$work/unit.log"
[ $rc -eq 0 ] && grep -qx "unit checks: ok" "$work/unit.log" || { echo "unit checks failed (exit $rc)"; exit 1; }
echo "sms-sentinel.service ran under systemd with its sandbox: ok"
