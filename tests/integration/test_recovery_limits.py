"""The policy's limits with the real binary, driven through a gammu-smsd log
written by the test: errors keep coming, recoveries stop after max_per_hour
with health "failed" and exactly one alert (no reset storm); a SIM PIN error
(SECURITYERROR) is never retried automatically; a manual reset lifts "failed"."""

import os
import time

from harness import Env, log, run_sentinel, wait_until

LINE = "Sun 2026/12/06 18:01:28 gammu-smsd[4242]: Error at init connection: x (%s)\n"
CONF = """[recovery]
threshold = 1
max_per_hour = 2
cooldown = 1
verify_timeout = 1
settle_timeout = 1
methods = restart_smsd
"""


def events(sub, name):
    import json
    with sub.lock:
        return [json.loads(p) for t, p in sub.messages if t.endswith("/event") and json.loads(p).get("event") == name]


def main():
    passed = 0
    with Env("limits") as env:
        broker = env.broker()
        sub = env.subscribe(broker.port, "sms-sentinel/#")
        smsd = env.smsd(os.path.join(env.dir, "no-modem"))
        # The daemon's recoveries start a real gammu-smsd on a missing device: it runs,
        # and logs DEVICENOTEXIST, which only adds counted errors.
        env.start_daemon(env.daemon(broker.port, smsd, CONF))
        wait_until(lambda: sub.find("/availability", lambda p: p == "online"), 15, "availability online")

        def write(tag):
            with open(smsd.logfile, "a") as f:
                f.write(LINE % tag)

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not sub.json_matching(
                "/state", lambda s: s["health"] == "failed"):
            write("TIMEOUT[14]")
            time.sleep(0.5)
        state = sub.wait_json("sms-sentinel/test/state", lambda s: s["health"] == "failed", 5, "health failed")
        for _ in range(6):
            write("TIMEOUT[14]")
            time.sleep(0.3)
        time.sleep(1)
        started = events(sub, "recovery_started")
        alerts = [e for e in events(sub, "failed") if "max_per_hour" in e.get("reason", "")]
        assert len(started) == 2, started
        assert len(alerts) == 1, alerts
        log("errors keep coming: %d recoveries, then failed with %d alert (%s)" % (len(started), len(alerts),
                                                                                   state["health_reason"]))
        passed += 1

        conf = os.path.join(env.dir, "sms-sentinel.conf")
        r = run_sentinel(["reset", "--method", "restart_smsd", "-c", conf], timeout=60)
        assert len(events(sub, "recovery_started")) == 3, r.stdout + r.stderr
        log("a manual reset runs even in failed (%s)" % (r.stdout.strip() or r.stderr.strip()))
        passed += 1

        sub.wait_json("sms-sentinel/test/event", lambda e: e.get("event") == "health" and e.get("from") == "cooldown",
                      30, "end of the manual recovery's cooldown")
        before = len(events(sub, "recovery_started"))
        write("SECURITYERROR[23]")
        sub.wait_json("sms-sentinel/test/state", lambda s: (s["last_error"] or {}).get("name") == "SECURITYERROR"
                      and s["health"] == "failed", 15, "failed after a PIN error")
        for _ in range(5):
            write("TIMEOUT[14]")
            time.sleep(0.3)
        time.sleep(2)
        assert len(events(sub, "recovery_started")) == before, "a PIN error must not be retried"
        log("SECURITYERROR: failed, no automatic recovery despite further errors")
        passed += 1
    print("%d passed, 0 failed" % passed)


if __name__ == "__main__":
    main()
