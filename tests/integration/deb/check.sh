#!/bin/bash
# Runs inside the image of deb/Dockerfile: the installed sms-sentinel package
# as a user meets it. Prints "deb checks: ok" at the end; any failure exits 1.
set -uo pipefail
fail() { echo "FAIL: $*"; exit 1; }
ok() { echo "ok: $*"; }

v=$(sms-sentinel --version) || fail "--version exited $?"
[[ $v =~ ^sms-sentinel\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "--version printed '$v'"
ok "$v"

# The shipped config on a fresh install with Debian's gammu-smsd: valid, and
# the doctor names the placeholder device of Debian's gammu-smsdrc.
out=$(sms-sentinel check-config -c /etc/sms-sentinel.conf 2>&1); rc=$?
[ $rc -eq 0 ] || { echo "$out"; fail "check-config exited $rc"; }
grep -q '^host = localhost' <<<"$out" || fail "check-config: no [mqtt] host line"
grep -q '^# doctor' <<<"$out" || fail "check-config: no doctor's report"
grep -q 'device = /dev/null: the modem is not configured yet' <<<"$out" || fail "check-config: placeholder device not reported"
ok "check-config -c /etc/sms-sentinel.conf: exit 0, $(grep -c '^warning:' <<<"$out") warning(s)"

for f in /usr/bin/sms-sentinel /lib/systemd/system/sms-sentinel.service \
         /lib/systemd/system/gammu-smsd.service.d/sms-sentinel-timeout.conf \
         /lib/udev/rules.d/90-sms-sentinel.rules /etc/sms-sentinel.conf \
         /usr/share/doc/sms-sentinel/README.md /usr/share/doc/sms-sentinel/ha-discovery/README.md; do
    [ -f "$f" ] || fail "$f not installed"
done
ok "unit, drop-in, udev rule, config and docs at their paths"
grep -qx 'ExecStart=/usr/bin/sms-sentinel -c /etc/sms-sentinel.conf' /lib/systemd/system/sms-sentinel.service \
    || fail "ExecStart does not name /usr/bin/sms-sentinel"
grep -qx 'TimeoutStopSec=15' /lib/systemd/system/gammu-smsd.service.d/sms-sentinel-timeout.conf \
    || fail "drop-in lacks TimeoutStopSec=15"

deps=$(dpkg-query -W -f='${Depends}' sms-sentinel)
for lib in libmosquitto1 libjson-c5 libusb-1.0-0 libinih1 libc6 procps; do
    grep -q "$lib" <<<"$deps" || fail "Depends lacks $lib: $deps"
done
ok "Depends: $deps"
[ -x /bin/kill ] || fail "/bin/kill (ExecReload) missing"
grep -q 'gammu-smsd' <<<"$(dpkg-query -W -f='${Recommends}' sms-sentinel)" || fail "Recommends lacks gammu-smsd"
dpkg-query -W -f='${Status}' gammu-smsd | grep -q 'install ok installed' || fail "gammu-smsd (Recommends) not installed"
ok "Recommends gammu-smsd installed"

# Conffile: a local edit survives reinstalling, remove keeps it, purge drops it.
dpkg-query -W -f='${Conffiles}' sms-sentinel | grep -q '/etc/sms-sentinel.conf' || fail "/etc/sms-sentinel.conf is no conffile"
echo '; local edit' >> /etc/sms-sentinel.conf
dpkg -i /tmp/sms-sentinel.deb >/dev/null || fail "reinstall failed"
grep -q '^; local edit' /etc/sms-sentinel.conf || fail "reinstall dropped the local edit of the conffile"
dpkg -r sms-sentinel >/dev/null || fail "dpkg -r failed (prerm/postrm)"
[ ! -e /usr/bin/sms-sentinel ] && [ ! -e /lib/systemd/system/sms-sentinel.service ] || fail "files left after remove"
[ -f /etc/sms-sentinel.conf ] || fail "remove deleted the conffile"
dpkg -P sms-sentinel >/dev/null || fail "dpkg -P failed"
[ ! -e /etc/sms-sentinel.conf ] || fail "purge kept the conffile"
ok "conffile kept on reinstall and remove, gone on purge; maintainer scripts ran"
echo "deb checks: ok"
