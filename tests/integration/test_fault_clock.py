"""Wall clock jumps under the real binary: the daemon runs under libfaketime
(FAKETIME_TIMESTAMP_FILE re-read on every call, monotonic clocks not faked)
while the test moves its wall clock by +1 day and -1 hour. Recovery window,
cooldown and the state timer run on CLOCK_MONOTONIC, so: two errors, a jump
of +1 day, a third error still make one recovery (a wall-clock window would
have dropped the first two); during the cooldown a jump of +2 days and a new
burst start no second recovery; after -1 hour the state keeps coming;
uptime_s never jumps. Timestamps in events and the state follow the wall
clock. Skipped (77) when libfaketime is not installed."""

import datetime
import json
import os
import sys

from harness import SMS_SENTINEL, Env, Proc, log, wait_until

FAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
LINE = "Sun 2026/12/06 18:01:28 gammu-smsd[4242]: Error at init connection: burst %d (TIMEOUT[14])\n"
CONF = """[recovery]
threshold = 3
window = 120
methods = restart_smsd
verify_timeout = 5
cooldown = 600
"""


def at_offset(iso):
    """Seconds between an ISO 8601 time and the real clock now."""
    t = datetime.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return (t - datetime.datetime.now(datetime.timezone.utc)).total_seconds()


def main():
    if not os.path.exists(FAKETIME):
        print("SKIP: %s not installed" % FAKETIME)
        sys.exit(77)
    passed = 0
    with Env("fault-clock") as env:
        broker = env.broker()
        sub = env.subscribe(broker.port, "sms-sentinel/#")
        emu = env.emulator()
        smsd = env.start_smsd(env.smsd(emu.link))
        d = env.daemon(broker.port, smsd, CONF)
        clock = os.path.join(env.dir, "faketime.rc")

        def set_clock(offset):
            with open(clock + ".new", "w") as f:
                f.write(offset + "\n")
            os.rename(clock + ".new", clock)  # never half a file for the daemon to read

        set_clock("+0")
        d.proc = env.track(Proc("sms-sentinel", [SMS_SENTINEL, "-c", d.conf], env.dir, env={
            "LD_PRELOAD": FAKETIME, "FAKETIME_TIMESTAMP_FILE": clock, "FAKETIME_NO_CACHE": "1",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            # an ASan build wants its runtime first; libfaketime only wraps clock calls
            "ASAN_OPTIONS": (os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0").lstrip(":")}))
        wait_until(lambda: sub.find("/availability", lambda p: p == "online"), 15, "availability online")
        sub.wait_json("sms-sentinel/test/state", lambda s: s["smsd_running"] is True, 20, "smsd_running")
        n = 0

        def error(what):
            nonlocal n
            with open(smsd.logfile, "a") as f:
                f.write(LINE % n)
            n += 1
            return sub.wait_json("sms-sentinel/test/event", lambda e, k=n - 1: e.get("event") == "error" and
                                 ("burst %d" % k) in e.get("message", ""), 15, "the error event of %s" % what)

        def recoveries():
            return [json.loads(p) for t, p in list(sub.messages)
                    if t.endswith("/event") and json.loads(p).get("event") == "recovery_started"]

        for i in range(2):
            e = error("error %d" % i)
            assert abs(at_offset(e["at"])) < 600, e
        set_clock("+1d")
        e = error("error 2 after +1 day")
        assert abs(at_offset(e["at"]) - 86400) < 600, e  # events follow the wall clock
        started = sub.wait_json("sms-sentinel/test/event", lambda e: e.get("event") == "recovery_started", 20,
                                "a recovery: three errors within 120 monotonic seconds")
        assert started["trigger"] == "errors", started
        assert abs(at_offset(started["at"]) - 86400) < 600, started
        log("+1 day between errors 2 and 3: recovery started (window on the monotonic clock)")
        passed += 1

        done = sub.wait_json("sms-sentinel/test/event", lambda e: e.get("event") in ("recovered", "failed"), 90,
                             "the end of that recovery")
        assert done["event"] == "recovered", done
        sub.wait_json("sms-sentinel/test/state", lambda s: s["health"] == "cooldown", 15, "cooldown")
        set_clock("+2d")
        for i in range(3):
            error("burst in the cooldown %d" % i)
        state = sub.wait_json("sms-sentinel/test/state", lambda s: s["errors_total"] == n, 15,
                              "errors_total %d" % n)
        assert state["health"] == "cooldown", state["health"]
        assert len(recoveries()) == 1, recoveries()
        assert state["uptime_s"] < 3600, state["uptime_s"]  # monotonic: the 2 days never show
        log("+2 days in a cooldown of 600 s, 3 more errors: still cooldown, one recovery in all, uptime %d s"
            % state["uptime_s"])
        passed += 1

        set_clock("-1h")
        e = error("after -1 hour")
        assert abs(at_offset(e["at"]) + 3600) < 600, e
        last = max(json.loads(p)["uptime_s"] for t, p in list(sub.messages) if t.endswith("/test/state"))
        later = sub.wait_json("sms-sentinel/test/state", lambda s: s["uptime_s"] >= last + 60, 150,
                              "a state a minute later (the 60 s timer) after the clock went back 1 hour")
        assert len(recoveries()) == 1, recoveries()
        assert later["health"] == "cooldown", later["health"]
        uptimes = [json.loads(p)["uptime_s"] for t, p in list(sub.messages) if t.endswith("/test/state")]
        log("-1 hour: events dated an hour back, state still published (uptime %d -> %d s), one recovery; "
            "state uptimes %s" % (last, later["uptime_s"], uptimes))
        passed += 1
        assert d.proc.alive()
    print("%d passed, 0 failed" % passed)


if __name__ == "__main__":
    main()
