#!/bin/bash
# Runs inside the booted image of Dockerfile.systemd: sms-sentinel.service under
# systemd 252 with its sandbox, as shipped. Prints "unit checks: ok" at the end.
set -uo pipefail
fail() { echo "FAIL: $*"; journalctl --no-pager -n 25 -o short; exit 1; }
ok() { echo "ok: $*"; }
journal_has() { journalctl -u sms-sentinel --no-pager -o cat | grep -qF "$1"; }
wait_for() {  # seconds, description, command...
    local n=$(( $1 * 5 )) what=$2; shift 2
    for ((i = 0; i < n; i++)); do "$@" && return 0; sleep 0.2; done
    fail "timed out: $what"
}
# Booted: running/degraded, or "starting" with no job left (a unit restarting in
# a loop, e.g. gammu-smsd without a modem, can hold "starting" on a loaded machine).
booted() {
    case $(systemctl is-system-running 2>/dev/null) in
    running|degraded) return 0;;
    starting) [ -z "$(systemctl list-jobs --no-legend 2>/dev/null)" ] && return 0;;
    esac
    return 1
}
wait_for 120 "systemd boot" booted
wait_for 20 "mosquitto active" systemctl is-active -q mosquitto
[ "$(systemctl show -p TimeoutStopUSec --value gammu-smsd)" = 15s ] || fail "gammu-smsd drop-in not applied"
ok "gammu-smsd.service: TimeoutStopSec 15s from the drop-in"

systemctl start sms-sentinel || fail "systemctl start sms-sentinel"
wait_for 20 "mqtt connected" journal_has "mqtt: connected"
pid=$(systemctl show -p MainPID --value sms-sentinel)
st=/proc/$pid/status
grep -q '^CapBnd:[[:space:]]*0000000000000022$' $st || fail "capabilities: $(grep CapBnd $st) (want DAC_OVERRIDE+KILL = 0x22)"
grep -q '^NoNewPrivs:[[:space:]]*1$' $st || fail "NoNewPrivs not set"
grep -q '^Seccomp:[[:space:]]*2$' $st || fail "no seccomp filter"
flags() { awk -v m="$1" '$5 == m {print $6}' /proc/$pid/mountinfo | tail -1; }
for m in / /sys /proc/sys; do [[ $(flags $m) == ro,* ]] || fail "$m is not read-only ($(flags $m))"; done
for m in /sys/devices /var/spool/gammu /var/lib/sms-sentinel; do [[ $(flags $m) == rw,* ]] || fail "$m is not writable ($(flags $m))"; done
nsenter -t "$pid" -m touch /etc/sms-sentinel-probe 2>/dev/null && fail "/etc writable in the sandbox"
ok "running as root with CapBnd 0x22, NoNewPrivs, seccomp; / /sys /proc/sys read-only; spool, state, /sys/devices writable"

# An SMS as gammu-smsd leaves it (gammu:gammu 0770 folder): published, then moved
# across the two bind mounts into the state dir.
name=IN20261206_220000_00_+33612345678_00.txt
timeout 30 mosquitto_sub -C 1 -t 'sms-sentinel/+/sms/received' > /tmp/received.json &
sub=$!
sleep 0.5
printf 'Gr\xc3\xbc\xc3\x9fe aus der Sandbox' > /var/spool/gammu/inbox/.tmp
chown gammu:gammu /var/spool/gammu/inbox/.tmp
mv /var/spool/gammu/inbox/.tmp /var/spool/gammu/inbox/$name
wait $sub || fail "no sms/received"
grep -q '"text":"Grüße aus der Sandbox"' /tmp/received.json || fail "received: $(cat /tmp/received.json)"
archived() { [ -f /var/lib/sms-sentinel/archive/$name ] && [ ! -e /var/spool/gammu/inbox/$name ]; }
wait_for 10 "the inbox file in the archive" archived
ok "SMS published and archived from the spool to the state dir (two mounts)"

# restart_smsd runs systemctl from inside the sandbox: systemd must get the job
# (gammu-smsd itself fails on Debian's placeholder device /dev/null, so the
# answer, which can take the 60 s pidfile wait, is not awaited).
starts() { journalctl --no-pager -o cat _PID=1 | grep -c 'Starting gammu-smsd.service'; }
before=$(starts)
mosquitto_pub -t sms-sentinel/pi/request/restart_smsd -m '{"transaction":"u1"}' || fail "publish restart_smsd"
started_again() { [ "$(starts)" -gt "$before" ]; }
wait_for 30 "systemctl from the sandbox reaching systemd (gammu-smsd.service started)" started_again
journal_has "request restart_smsd" || fail "the daemon did not take the request"
ok "restart_smsd: systemctl from the sandbox started gammu-smsd.service"

systemctl reload sms-sentinel || fail "reload"
wait_for 10 "config reloaded" journal_has "reloaded /etc/sms-sentinel.conf"
systemctl stop sms-sentinel || fail "stop"
[ "$(systemctl show -p Result --value sms-sentinel)" = success ] || fail "stop result $(systemctl show -p Result --value sms-sentinel)"
ok "reload (SIGHUP through /bin/kill) and stop"
echo "unit checks: ok"
