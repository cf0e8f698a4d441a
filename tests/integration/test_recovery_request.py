"""Recovery on request, on real parts and a fake sysfs tree: an MQTT reset with
method rebind writes the port to unbind then bind, stops gammu-smsd and starts
it fresh, verifies through the log and answers with method, result and
duration (echoing the transaction); a second request while one runs is refused;
bad requests get error responses; `sms-sentinel reset --method authorized`
writes 0 then 1 to authorized and exits 0; restart_smsd restarts gammu-smsd."""

import json
import os
import subprocess
import threading
import time

from harness import Env, fake_sysfs, log, pid_alive, read, run_sentinel, wait_until

RECOVERY = """[recovery]
methods = restart_smsd rebind authorized
usb_device = 1-1.2
sysfs_root = {sysfs}
settle_timeout = 10
verify_timeout = 8
cooldown = 1
"""


def pub(port, topic, payload):
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-t", topic, "-m", payload, "-q", "1"],
                   check=True, timeout=10)


def watch_writes(path, seen, stop):
    """Records every distinct content a sysfs attribute file takes."""
    last = None
    while not stop.is_set():
        try:
            value = read(path).strip()
        except OSError:
            value = None
        if value != last and value:
            seen.append(value)
            last = value
        time.sleep(0.01)


def main():
    passed = 0
    with Env("recovery-request") as env:
        broker = env.broker()
        sub = env.subscribe(broker.port, "sms-sentinel/#")
        sysfs = os.path.join(env.dir, "sys")
        dev = fake_sysfs(sysfs)
        emu = env.emulator()
        smsd = env.start_smsd(env.smsd(emu.link))
        env.start_daemon(env.daemon(broker.port, smsd, RECOVERY.format(sysfs=sysfs)))
        wait_until(lambda: sub.find("/availability", lambda p: p == "online"), 15, "availability online")
        wait_until(lambda: pid_alive(smsd.pidfile), 15, "gammu-smsd pidfile")
        first_pid = pid_alive(smsd.pidfile)

        pub(broker.port, "sms-sentinel/test/request/reset", '{"method":"rebind","transaction":"t-1"}')
        time.sleep(0.3)
        pub(broker.port, "sms-sentinel/test/request/reset", '{"method":"usbreset","transaction":"t-2"}')
        busy = sub.wait_json("sms-sentinel/test/response/reset", lambda r: r.get("transaction") == "t-2", 10,
                             "refusal of a second reset")
        assert busy["status"] == "error" and "already running" in busy["error"], busy
        log("second reset refused: %s" % busy["error"])
        passed += 1

        resp = sub.wait_json("sms-sentinel/test/response/reset", lambda r: r.get("transaction") == "t-1", 90,
                             "the reset response")
        assert resp["status"] == "ok", resp
        assert resp["data"]["method"] == "rebind" and resp["data"]["result"] == "recovered", resp
        assert resp["data"]["duration_ms"] > 0
        assert read(os.path.join(sysfs, "bus/usb/drivers/usb/unbind")).strip() == "1-1.2"
        assert read(os.path.join(sysfs, "bus/usb/drivers/usb/bind")).strip() == "1-1.2"
        new_pid = pid_alive(smsd.pidfile)
        assert new_pid and new_pid != first_pid, (first_pid, new_pid)
        log("rebind: %s; gammu-smsd %d -> %d" % (resp["data"], first_pid, new_pid))
        for name in ("recovery_started", "step_result", "recovered"):
            assert sub.json_matching("sms-sentinel/test/event", lambda e, n=name: e.get("event") == n), name
        state = sub.wait_json("sms-sentinel/test/state", lambda s: s["resets_total"] == 1, 10, "resets_total 1")
        assert state["last_reset"]["method"] == "rebind" and state["last_reset"]["result"] == "recovered", state
        passed += 3

        for payload, text in (('{"method":"reboot","transaction":3}', "unknown method"),
                              ("not json", "not valid JSON"),
                              ('{"method":"auto","extra":1}', "unknown field")):
            pub(broker.port, "sms-sentinel/test/request/reset", payload)
            sub.wait_json("sms-sentinel/test/response/reset",
                          lambda r, t=text: r["status"] == "error" and t in r.get("error", ""), 10, text)
        pub(broker.port, "sms-sentinel/test/request/frobnicate", "{}")
        sub.wait_json("sms-sentinel/test/response/frobnicate", lambda r: "unknown request" in r["error"], 10,
                      "unknown request")
        pub(broker.port, "sms-sentinel/test/request/health_check", '{"transaction":9}')
        hc = sub.wait_json("sms-sentinel/test/response/health_check", lambda r: r.get("transaction") == 9, 10,
                           "health_check")
        assert hc["status"] == "ok" and "health" in hc["data"], hc
        log("bad requests answered with errors; health_check answered")
        passed += 2

        # Wait out the cooldown, then the CLI.
        sub.wait_json("sms-sentinel/test/event", lambda e: e.get("event") == "health" and e.get("from") == "cooldown",
                      30, "end of cooldown")
        seen, stop = [], threading.Event()
        t = threading.Thread(target=watch_writes, args=(os.path.join(dev, "authorized"), seen, stop), daemon=True)
        t.start()
        r = run_sentinel(["reset", "--method", "authorized", "-c", os.path.join(env.dir, "sms-sentinel.conf")],
                         timeout=120)
        stop.set()
        t.join()
        assert r.returncode == 0, r.stdout + r.stderr
        assert "recovered" in r.stdout, r.stdout
        assert seen[-2:] == ["0", "1"], seen
        log("sms-sentinel reset --method authorized: exit 0, authorized went %s" % seen)
        passed += 1

        time.sleep(2)  # cooldown = 1
        before = pid_alive(smsd.pidfile)
        pub(broker.port, "sms-sentinel/test/request/restart_smsd", '{"transaction":"rs"}')
        rs = sub.wait_json("sms-sentinel/test/response/restart_smsd", lambda r: r.get("transaction") == "rs", 90,
                           "restart_smsd response")
        assert rs["status"] == "ok" and rs["data"]["method"] == "restart_smsd", rs
        after = pid_alive(smsd.pidfile)
        assert after and after != before, (before, after)
        log("restart_smsd: gammu-smsd %s -> %s" % (before, after))
        passed += 1
    print("%d passed, 0 failed" % passed)


if __name__ == "__main__":
    main()
