#!/bin/bash
# Installs what building, testing and the demo need on Debian 12 (as root).
# Only missing packages are fetched, so a second run costs nothing.
set -euo pipefail
packages=(
  build-essential cmake pkg-config
  libmosquitto-dev libusb-1.0-0-dev libjson-c-dev libinih-dev libcmocka-dev
  mosquitto mosquitto-clients gammu gammu-smsd python3 procps
  clang libclang-rt-14-dev valgrind
  umockdev libumockdev-dev gir1.2-umockdev-1.0 python3-gi python3-jinja2
  openssl faketime libfaketime dpkg-dev debootstrap python3-yaml udev systemd
)
# Node.js (for the Node-RED test): Debian's nodejs + npm unless a node is already
# installed (a NodeSource node conflicts with Debian's npm package). Debian 12 has
# node 18.20 and npm 9.2; node-red@4 needs node >= 18.5 (5.x needs 22). The test
# installs node-red@4 itself with npm into ~/.cache/sms-sentinel/node-red4.
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: need root to install: ${missing[*]}" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The Debian packages start their own services where an init system runs; the
# tests and the demo start private instances on free loopback ports instead.
