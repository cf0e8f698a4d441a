"""What the packaging ships, checked with the real tools on this machine:
the systemd unit and the gammu-smsd drop-in pass `systemd-analyze verify` with
no message at all, the unit's exposure score stays at or below 3.0
(`systemd-analyze security --offline`), the udev rule parses without a message
(`udevadm test` in a private mount namespace, so the machine's rules stay as
they are) and gives a ZTE stick's USB node and tty to dialout (udevadm test on
umockdev's device tree of tests/fixtures/usb), and the inbox archive works when the archive folder is on another
mount than the spool, as under the unit's ReadWritePaths= bind mounts and with
container volumes (rename(2) fails with EXDEV there)."""

import os
import re
import shutil
import subprocess
import tempfile

from harness import Env, log, wait_until

SRC = os.environ["SRC_DIR"]
BIN = os.path.abspath(os.environ["SMS_SENTINEL"])
CONTRIB = os.path.join(SRC, "contrib")
MAX_EXPOSURE = "30"  # tenths: 3.0 on the 0-10 scale


def analyze(*args):
    return subprocess.run(["systemd-analyze"] + list(args), capture_output=True, text=True, timeout=60)


def check_units(tmp):
    """The unit as installed (ExecStart rewritten to the binary under test, as
    cmake/install_system.cmake does) and Debian's gammu-smsd.service with the drop-in."""
    with open(os.path.join(CONTRIB, "sms-sentinel.service")) as f:
        unit = f.read()
    assert "ExecStart=/usr/bin/sms-sentinel -c /etc/sms-sentinel.conf\n" in unit, "ExecStart changed"
    path = os.path.join(tmp, "sms-sentinel.service")
    with open(path, "w") as f:
        f.write(unit.replace("/usr/bin/sms-sentinel", BIN))
    r = analyze("verify", path)
    assert r.returncode == 0 and not r.stdout.strip() and not r.stderr.strip(), \
        "systemd-analyze verify:\n%s%s" % (r.stdout, r.stderr)
    log("sms-sentinel.service: systemd-analyze verify silent")

    r = analyze("security", "--offline=true", "--threshold=" + MAX_EXPOSURE, path)
    score = [l for l in r.stdout.splitlines() if "Overall exposure level" in l]
    assert r.returncode == 0 and score, "exposure above %s tenths:\n%s%s" % (MAX_EXPOSURE, r.stdout[-3000:], r.stderr)
    log("systemd-analyze security: %s" % score[0].split(":", 1)[1].strip())

    debian_unit = "/lib/systemd/system/gammu-smsd.service"
    if os.path.exists(debian_unit):
        shutil.copy(debian_unit, tmp)
        os.makedirs(os.path.join(tmp, "gammu-smsd.service.d"))
        shutil.copy(os.path.join(CONTRIB, "gammu-smsd.service.d", "timeout.conf"),
                    os.path.join(tmp, "gammu-smsd.service.d", "sms-sentinel-timeout.conf"))
        r = analyze("verify", os.path.join(tmp, "gammu-smsd.service"))
        assert r.returncode == 0 and not r.stderr.strip(), "gammu-smsd.service + drop-in:\n%s" % r.stderr
        log("gammu-smsd.service with the drop-in: systemd-analyze verify silent")
    else:
        log("no /lib/systemd/system/gammu-smsd.service here: drop-in not verified")


def udevadm_test(syspath, umockdev=None):
    """udevadm test with only our rule in /etc/udev/rules.d (a private mount
    namespace), optionally on a umockdev device tree. Returns its output."""
    rule = os.path.join(CONTRIB, "90-sms-sentinel.rules")
    run = "udevadm test --action=add %s 2>&1" % syspath
    if umockdev:
        run = "umockdev-run -d %s -- %s" % (umockdev, run)
    script = "set -e; mount -t tmpfs none /etc/udev/rules.d; cp %s /etc/udev/rules.d/; %s" % (rule, run)
    r = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                       capture_output=True, text=True, timeout=60)
    out = r.stdout + r.stderr
    assert "Reading rules file: /etc/udev/rules.d/90-sms-sentinel.rules" in out, out[-3000:]
    return out


def check_udev_rule(tmp):
    """udevadm test reports FILE:LINE problems of every rules file it reads; on
    the ZTE MF112 of tests/fixtures/usb (given device numbers, without which
    udev sets no permissions) the rule must give the USB node and the tty to
    dialout and hide them from ModemManager, and leave another vendor alone."""
    out = udevadm_test("/sys/class/net/lo")
    problems = [l for l in out.splitlines() if "90-sms-sentinel.rules:" in l]
    assert not problems, "udev rule problems:\n" + "\n".join(problems)
    log("90-sms-sentinel.rules: udevadm test reads it without a message")

    with open(os.path.join(SRC, "tests", "fixtures", "usb", "zte_mf112.umockdev")) as f:
        tree = f.read()
    usb = "P: /devices/pci0000:00/0000:00:14.0/usb1/1-1\nN: bus/usb/001/002\n"
    assert usb in tree, "fixture layout changed"
    tree = tree.replace(usb, usb + "E: MAJOR=189\nE: MINOR=1\n", 1)
    usb_dev = "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1"
    tty_dev = usb_dev + "/1-1:1.2/ttyUSB2/tty/ttyUSB2"
    for vendor, want in (("19d2", True), ("0bda", False)):
        path = os.path.join(tmp, "modem-%s.umockdev" % vendor)
        with open(path, "w") as f:
            f.write(tree.replace("19d2", vendor))
        for name, dev in (("USB node", usb_dev), ("tty", tty_dev)):
            out = udevadm_test(dev, path)
            got = {"GROUP 20": bool(re.search(r"90-sms-sentinel\.rules:\d+ GROUP 20$", out, re.M)),
                   "MODE 0660": bool(re.search(r"90-sms-sentinel\.rules:\d+ MODE 0660$", out, re.M)),
                   "ID_MM_DEVICE_IGNORE=1": "ID_MM_DEVICE_IGNORE=1" in out}
            assert all(v == want for v in got.values()), (vendor, name, got, out[-2500:])
    log("udev rule: ZTE 19d2 USB node and tty -> GROUP 20 (dialout), MODE 0660, ModemManager ignores; "
        "vendor 0bda untouched (umockdev + udevadm test)")


def check_archive_on_other_mount():
    shm = "/dev/shm"
    if not os.path.isdir(shm) or os.stat(shm).st_dev == os.stat(tempfile.gettempdir()).st_dev:
        log("/dev/shm is not a separate mount here: cross-mount archive not checked")
        return
    archive = tempfile.mkdtemp(prefix="sms-sentinel-archive-", dir=shm)
    try:
        with Env("packaging") as env:
            broker = env.broker()
            sub = env.subscribe(broker.port, "sms-sentinel/#")
            emu = env.emulator()
            smsd = env.start_smsd(env.smsd(emu.link))
            d = env.start_daemon(env.daemon(broker.port, smsd, extra="[sms]\narchive = %s\n" % archive))
            wait_until(lambda: sub.find("/availability", lambda p: p == "online"), 15, "availability online")
            inbox = os.path.join(smsd.spool, "inbox")
            r = emu.client.inject("+33612345678", "Grüße across mounts")
            assert r.get("ok"), r
            m = sub.wait_json("sms-sentinel/test/sms/received", lambda m: m["number"] == "+33612345678", 90,
                              "the SMS on MQTT")
            assert m["text"] == "Grüße across mounts", m
            wait_until(lambda: os.listdir(archive) == [m["id"]], 15, "the inbox file in the archive on /dev/shm")
            assert not os.listdir(inbox), os.listdir(inbox)
            with open(os.path.join(archive, m["id"]), encoding="utf-8") as f:
                assert "across mounts" in f.read()
            out = d.proc.output()
            assert "not released" not in out, out[-2000:]
            log("inbox file archived across mounts (copy + unlink on EXDEV), inbox empty")
    finally:
        shutil.rmtree(archive, ignore_errors=True)


def main():
    passed = 0
    tmp = tempfile.mkdtemp(prefix="sms-sentinel-units-")
    try:
        check_units(tmp)
        passed += 1
        check_udev_rule(tmp)
        passed += 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    check_archive_on_other_mount()
    passed += 1
    print("%d passed, 0 failed" % passed)


if __name__ == "__main__":
    main()
