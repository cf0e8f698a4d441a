#!/usr/bin/env python3
"""Benchmark: the ZTE MF112 scenario (the modem hangs right after sending an
SMS) from the hang to an SMS received again, with sms-sentinel, beside a
baseline measured in the same run: the seed's cron job, which greps the log
every 60 s and then resets (here: kill gammu-smsd, reset the modem, start it).
Both wait for gammu-smsd's own detection (libgammu's fixed ~90 s timeouts),
which is the physical floor. One run of each (about 5 minutes)."""

import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from harness import Env, fake_sysfs, read, wait_until  # noqa: E402

RECOVERY = """[recovery]
threshold = 1
methods = rebind
usb_device = 1-1.2
sysfs_root = {sysfs}
settle_timeout = 20
verify_timeout = 15
"""


def send_and_hang(broker, emu, sub):
    emu.cmd("hang_after_send on")
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-t",
                    "sms-sentinel/test/request/send_sms", "-m", '{"number":"+33612345678","text":"x","transaction":1}'],
                   check=True, timeout=10)
    wait_until(lambda: sub.json_matching("/sms/sent", lambda m: m.get("transaction") == 1), 60, "sent")
    return time.monotonic()


def receiving_again(emu, smsd, t0, count):
    emu.client.inject("+33611111111", "are you there?")
    wait_until(lambda: smsd.log().count("Received IN") >= count, 400, "received again", interval=0.2)
    return time.monotonic() - t0


def kernel(sysfs, dev, emu, stop):
    unbind = os.path.join(sysfs, "bus/usb/drivers/usb/unbind")
    done = False
    while not stop.is_set() and not done:
        if read(unbind).strip() == "1-1.2":
            for c in ("hang_at off", "hang_after_send off", "hang off"):
                emu.cmd(c)
            done = True
        time.sleep(0.02)


def with_sentinel():
    with Env("bench-mf112") as env:
        broker = env.broker()
        sub = env.subscribe(broker.port, "sms-sentinel/#")
        sysfs = os.path.join(env.dir, "sys")
        dev = fake_sysfs(sysfs)
        emu = env.emulator()
        smsd = env.start_smsd(env.smsd(emu.link))
        env.start_daemon(env.daemon(broker.port, smsd, RECOVERY.format(sysfs=sysfs)), "-q")
        wait_until(lambda: sub.find("/availability", lambda p: p == "online"), 15, "online")
        wait_until(lambda: "Starting phone communication" in smsd.log(), 30, "init")
        stop = threading.Event()
        threading.Thread(target=kernel, args=(sysfs, dev, emu, stop), daemon=True).start()
        t0 = send_and_hang(broker, emu, sub)
        wait_until(lambda: sub.json_matching("/event", lambda e: e.get("event") == "recovered"), 400, "recovered")
        t = receiving_again(emu, smsd, t0, 1)
        stop.set()
        return t


def with_cron(period=60.0):
    with Env("bench-mf112-cron") as env:
        broker = env.broker()
        sub = env.subscribe(broker.port, "sms-sentinel/#")
        emu = env.emulator()
        smsd = env.start_smsd(env.smsd(emu.link))
        # The daemon only forwards the send request; recovery is the cron job's.
        env.start_daemon(env.daemon(broker.port, smsd, "[recovery]\nenabled = no\n"), "-q")
        wait_until(lambda: sub.find("/availability", lambda p: p == "online"), 15, "online")
        wait_until(lambda: "Starting phone communication" in smsd.log(), 30, "init")
        t0 = send_and_hang(broker, emu, sub)
        while "(TIMEOUT[14])" not in smsd.log():
            time.sleep(period)
        smsd.proc.signal(signal.SIGKILL)
        smsd.proc.p.wait()  # reaped: a zombie would make the new gammu-smsd refuse its pidfile
        if os.path.exists(smsd.pidfile):
            os.unlink(smsd.pidfile)
        for c in ("hang_at off", "hang_after_send off", "hang off"):
            emu.cmd(c)
        subprocess.Popen(["gammu-smsd", "-c", smsd.rc, "-p", smsd.pidfile, "-d"],
                         env=dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8"))
        return receiving_again(emu, smsd, t0, 1)


def main():
    if "--json" in sys.argv:
        # Both at the same time (they are idle, waiting on gammu-smsd's timeouts).
        import json
        out = {}
        threads = [threading.Thread(target=lambda: out.__setitem__("ours", with_sentinel())),
                   threading.Thread(target=lambda: out.__setitem__("cron", with_cron()))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(json.dumps(out))
        return
    s = with_sentinel()
    print("sms-sentinel: %.0f s" % s, file=sys.stderr, flush=True)
    c = with_cron()
    print("%-40s %10s" % ("MF112 hang -> SMS received again", "seconds"))
    print("%-40s %10.0f" % ("sms-sentinel (log follower + rebind)", s))
    print("%-40s %10.0f" % ("cron-style: grep every 60 s, then reset", c))
    print("ratio (cron / sms-sentinel): %.2fx; floor: gammu-smsd's own detection, about 90 s" % (c / s))


if __name__ == "__main__":
    main()
