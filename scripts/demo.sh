#!/bin/bash
# The demo: a real mosquitto on a free loopback port, the modem emulator, a real
# gammu-smsd on it and sms-sentinel, with the MQTT traffic shown live. It injects
# an SMS (gammu-smsd logs it, health goes ok), then hangs the modem the way a
# ZTE MF112 does and shows the error counters move. Ends by itself; DEMO_KEEP=1
# keeps everything running until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scripts/install-deps.sh
echo "### building"
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-release -j"$(nproc)" >/dev/null
bin="$root/build-release/sms-sentinel"

work=$(mktemp -d /tmp/sms-sentinel-demo.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "### demo files kept in $work"
}
trap cleanup EXIT INT TERM

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$port" >"$work/mosquitto.conf"
mosquitto -c "$work/mosquitto.conf" >"$work/mosquitto.log" 2>&1 & pids+=($!)
echo "### mosquitto on 127.0.0.1:$port"

python3 tests/emulator/modem_emulator.py --link "$work/modem" --control "$work/modem.ctl" \
  >"$work/emulator.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do grep -q READY "$work/emulator.log" 2>/dev/null && break; sleep 0.1; done
echo "### modem emulator on $(readlink "$work/modem")"

mkdir -p "$work"/spool/{inbox,outbox,sent,error}
cat >"$work/gammu-smsdrc" <<RC
[gammu]
device = $work/modem
connection = at
[smsd]
service = files
logfile = $work/smsd.log
debuglevel = 1
inboxpath = $work/spool/inbox/
outboxpath = $work/spool/outbox/
sentsmspath = $work/spool/sent/
errorsmspath = $work/spool/error/
inboxformat = standard
transmitformat = auto
commtimeout = 1
receivefrequency = 5
loopsleep = 1
statusfrequency = 0
checksecurity = 1
checkbattery = 0
checksignal = 0
checknetwork = 0
RC
cat >"$work/sms-sentinel.conf" <<CONF
[agent]
node_id = demo
state_dir = $work/state
[smsd]
config = $work/gammu-smsdrc
pidfile = $work/smsd.pid
start_command = env LANG=C.UTF-8 LC_ALL=C.UTF-8 gammu-smsd -c $work/gammu-smsdrc -p $work/smsd.pid -d
stop_command =
restart_command =
[mqtt]
host = 127.0.0.1
port = $port
[recovery]
threshold = 1
methods = restart_smsd
verify_timeout = 15
CONF

echo "### MQTT traffic (mosquitto_sub -v -t 'sms-sentinel/#'):"
stdbuf -oL mosquitto_sub -h 127.0.0.1 -p "$port" -t 'sms-sentinel/#' -v | sed -u 's/^/  mqtt> /' & pids+=($!)
LANG=C.UTF-8 LC_ALL=C.UTF-8 gammu-smsd -c "$work/gammu-smsdrc" -p "$work/smsd.pid" >"$work/gammu-smsd.out" 2>&1 & pids+=($!)
# gammu-smsd instances the daemon starts itself (after a recovery) are stopped at the end too.
trap 'cleanup; p=$(cat "$work/smsd.pid" 2>/dev/null) && kill -9 "$p" 2>/dev/null; true' EXIT
"$bin" -c "$work/sms-sentinel.conf" 2>"$work/sms-sentinel.log" & pids+=($!)
tail -n 0 -F "$work/smsd.log" 2>/dev/null | sed -u 's/^/  gammu-smsd.log> /' & pids+=($!)

wait_for() { # seconds pattern file
  for _ in $(seq $(( $1 * 10 ))); do grep -q "$2" "$3" 2>/dev/null && return 0; sleep 0.1; done
  echo "### gave up waiting for '$2' in $3"; return 1
}
wait_for 30 "Starting phone communication" "$work/smsd.log"
sleep 2
echo "### Home Assistant discovery: retained configs under homeassistant/ (one per entity):"
timeout 5 mosquitto_sub -h 127.0.0.1 -p "$port" -t 'homeassistant/+/+/+/config' -v -W 2 2>/dev/null |
  cut -d' ' -f1 | sed 's/^/  /' || true
echo "### injecting an SMS from +33612345678 into the emulator"
python3 tests/emulator/emuctl.py "$work/modem.ctl" inject +33612345678 "Hello from the demo, ça marche 👍" >/dev/null
wait_for 60 "Received IN" "$work/smsd.log"
sleep 2
echo "### the SMS went out on sms-sentinel/demo/sms/received; its inbox file is archived:"
ls "$work/state/archive" 2>/dev/null | sed 's/^/  /'
echo "### sending an SMS over MQTT (request/send_sms)"
mosquitto_pub -h 127.0.0.1 -p "$port" -t sms-sentinel/demo/request/send_sms \
  -m '{"number":"+33612345678","text":"Réponse depuis la démo 📡","transaction":"demo-1"}'
wait_for 30 "Transmitted" "$work/smsd.log"
sleep 2
echo "### the emulated modem received from gammu-smsd:"
python3 tests/emulator/emuctl.py "$work/modem.ctl" sent_joined | sed 's/^/  /' | head -c 600; echo
echo "### hanging the modem (it stops answering, like a ZTE MF112 after sending)."
echo "### gammu-smsd notices only through libgammu's fixed timeouts: about 85 s."
python3 tests/emulator/emuctl.py "$work/modem.ctl" "hang_at AT+CPIN?" >/dev/null
wait_for 300 "TIMEOUT" "$work/smsd.log"
echo "### gammu-smsd logged TIMEOUT: sms-sentinel counts it and recovers (restart_smsd: the hung"
echo "### gammu-smsd ignores SIGTERM, so SIGKILL after 1 s; then a fresh start). The demo lets the"
echo "### emulated modem answer again, as a real stick does after a reset."
python3 tests/emulator/emuctl.py "$work/modem.ctl" "hang_at off" >/dev/null
python3 tests/emulator/emuctl.py "$work/modem.ctl" "hang off" >/dev/null
wait_for 90 "recovery: ended" "$work/sms-sentinel.log" || true
sleep 1
echo "### sms-sentinel status:"
"$bin" status -c "$work/sms-sentinel.conf" | sed 's/^/  /'
if [ "${DEMO_KEEP:-0}" = 1 ]; then
  echo "### running on; Ctrl-C to stop"
  wait
fi
