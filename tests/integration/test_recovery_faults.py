"""Recovery triggered by faults other than error counts: gammu-smsd killed
(its pidfile names a dead process) is started again by the daemon; a port held
by another process makes gammu-smsd fail with DEVICEOPENERROR, and the error
event names that process and its pid."""

import os
import signal

from harness import Env, fake_sysfs, log, pid_alive, read, wait_until

RECOVERY = """[recovery]
methods = restart_smsd
usb_device = 1-1.2
sysfs_root = {sysfs}
verify_timeout = 8
cooldown = 1
"""


def main():
    passed = 0
    with Env("recovery-faults") as env:
        broker = env.broker()
        sub = env.subscribe(broker.port, "sms-sentinel/#")
        sysfs = os.path.join(env.dir, "sys")
        fake_sysfs(sysfs)
        emu = env.emulator()
        smsd = env.start_smsd(env.smsd(emu.link))
        env.start_daemon(env.daemon(broker.port, smsd, RECOVERY.format(sysfs=sysfs)))
        wait_until(lambda: sub.find("/availability", lambda p: p == "online"), 15, "availability online")
        wait_until(lambda: "Starting phone communication" in smsd.log(), 30, "gammu-smsd init")
        sub.wait_json("sms-sentinel/test/state", lambda s: s["smsd_running"] is True, 15, "smsd_running true")
        old = pid_alive(smsd.pidfile)

        smsd.proc.signal(signal.SIGKILL)
        started = sub.wait_json("sms-sentinel/test/event", lambda e: e.get("event") == "recovery_started", 30,
                                "a recovery after gammu-smsd was killed")
        assert started["trigger"] == "smsd_gone", started
        done = sub.wait_json("sms-sentinel/test/event", lambda e: e.get("event") in ("recovered", "failed"), 60,
                             "the end of that recovery")
        assert done["event"] == "recovered", done
        new = pid_alive(smsd.pidfile)
        assert new and new != old, (old, new)
        log("gammu-smsd killed: restarted by the daemon (%d -> %d)" % (old, new))
        passed += 1

        # Another process locks the tty, as ModemManager does; a fresh gammu-smsd cannot open it.
        os.kill(new, signal.SIGKILL)
        # The flock can be taken once the killed gammu-smsd has let go of the tty.
        wait_until(lambda: emu.cmd("busy on").get("ok"), 5, "the emulator to lock the tty")
        err = sub.wait_json("sms-sentinel/test/event", lambda e: e.get("event") == "error" and
                            e.get("name") == "DEVICEOPENERROR", 60, "a DEVICEOPENERROR event")
        holders = err.get("port_held_by") or []
        emu_pid = emu.proc.p.pid
        emu_comm = read("/proc/%d/comm" % emu_pid).strip()
        assert any(h["pid"] == emu_pid and h["name"] == emu_comm for h in holders), (holders, emu_pid, emu_comm)
        log("DEVICEOPENERROR: the port is held by %s" % holders)
        passed += 1
    print("%d passed, 0 failed" % passed)


if __name__ == "__main__":
    main()
