#!/bin/bash
# contrib/docker-compose.yml's gammu-smsd and sms-sentinel services, run with
# podman against the modem emulator and a real mosquitto: see compose_podman.py.
# Exit 77 (skipped) where ../shared/tools/container-build or buildah cannot run.
set -uo pipefail
cd "$(dirname "$0")" && exec python3 compose_podman.py
