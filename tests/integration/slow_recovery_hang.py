"""The whole point, end to end, the ZTE MF112 way: a send request goes out and
the modem hangs right after answering AT+CMGS; gammu-smsd 1.42 logs
(TIMEOUT[14]) about 90 s later, the daemon climbs its
ladder on its own: it stops the hung gammu-smsd (which ignores SIGTERM, so
SIGKILL), rebinds the USB device on a fake sysfs tree (the test plays the
kernel: the tty vanishes on unbind and comes back on bind, the emulator is
unplugged and replugged un-hung), waits for the device, starts gammu-smsd fresh
and verifies through the log. Then an injected SMS is received again."""

import os
import shutil
import subprocess
import threading
import time

from harness import Env, fake_sysfs, log, pid_alive, read, wait_until

RECOVERY = """[recovery]
threshold = 1
methods = rebind
usb_device = 1-1.2
sysfs_root = {sysfs}
settle_timeout = 20
verify_timeout = 15
"""


def play_kernel(sysfs, dev, emu, stop, events):
    """Reacts to writes to unbind/bind the way the kernel and the stick would."""
    unbind = os.path.join(sysfs, "bus/usb/drivers/usb/unbind")
    bind = os.path.join(sysfs, "bus/usb/drivers/usb/bind")
    tty = os.path.join(dev, "1-1.2:1.0", "ttyUSB0")
    while not stop.is_set():
        if read(unbind).strip() == "1-1.2" and "unbind" not in events:
            events.append("unbind")
            shutil.rmtree(tty)
            emu.cmd("unplug")
            emu.cmd("hang_at off")
            emu.cmd("hang_after_send off")
            emu.cmd("hang off")
        if read(bind).strip() == "1-1.2" and "bind" not in events:
            events.append("bind")
            time.sleep(1.5)  # re-enumeration takes a moment
            emu.cmd("replug")
            os.makedirs(tty)
        time.sleep(0.02)


def main():
    with Env("recovery-hang") as env:
        broker = env.broker()
        sub = env.subscribe(broker.port, "sms-sentinel/#")
        sysfs = os.path.join(env.dir, "sys")
        dev = fake_sysfs(sysfs)
        emu = env.emulator()
        smsd = env.start_smsd(env.smsd(emu.link))
        env.start_daemon(env.daemon(broker.port, smsd, RECOVERY.format(sysfs=sysfs)))
        wait_until(lambda: sub.find("/availability", lambda p: p == "online"), 15, "availability online")
        wait_until(lambda: "Starting phone communication" in smsd.log(), 30, "gammu-smsd init")
        emu.cmd("inject +33612345678 before")
        wait_until(lambda: smsd.log().count("Received IN") == 1, 60, "first SMS received")
        hung_pid = pid_alive(smsd.pidfile)
        stop, events = threading.Event(), []
        kernel = threading.Thread(target=play_kernel, args=(sysfs, dev, emu, stop, events), daemon=True)
        kernel.start()
        emu.cmd("hang_after_send on")
        t0 = time.monotonic()
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-t",
                        "sms-sentinel/test/request/send_sms", "-m",
                        '{"number":"+33612345678","text":"the MF112 hangs after this","transaction":"mf"}'],
                       check=True, timeout=10)
        sub.wait_json("sms-sentinel/test/sms/sent", lambda m: m.get("transaction") == "mf", 60, "the SMS sent")
        log("SMS sent; the modem now hangs (MF112)")
        started = sub.wait_json("sms-sentinel/test/event", lambda e: e.get("event") == "recovery_started", 240,
                                "recovery_started")
        t_detect = time.monotonic() - t0
        log("recovery started %.0f s after the hang: %s" % (t_detect, started))
        done = sub.wait_json("sms-sentinel/test/event", lambda e: e.get("event") in ("recovered", "failed"), 180,
                             "the end of the recovery")
        t_done = time.monotonic() - t0
        stop.set()
        assert done["event"] == "recovered" and done["method"] == "rebind", done
        assert events == ["unbind", "bind"], events
        assert "needed SIGKILL" in env.procs[-1].output(), "the hung gammu-smsd should have needed SIGKILL"
        new_pid = pid_alive(smsd.pidfile)
        assert new_pid and new_pid != hung_pid
        log("recovered %.0f s after the hang (%s); gammu-smsd %d -> %d" % (t_done, done, hung_pid, new_pid))
        emu.cmd("inject +33612345678 after the recovery")
        wait_until(lambda: smsd.log().count("Received IN") == 2, 60, "an SMS received after the recovery")
        t_rx = time.monotonic() - t0
        state = sub.wait_json("sms-sentinel/test/state", lambda s: s["resets_total"] == 1, 10, "resets_total 1")
        assert state["last_reset"]["method"] == "rebind", state
        log("hang -> receiving again: %.0f s" % t_rx)
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
