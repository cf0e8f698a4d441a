"""The loopback probe on real parts: an SMS with a nonce goes to the modem's
own number, the emulated network delivers it back, gammu-smsd writes it to the
inbox and the daemon consumes it (probe_ok, not published as a received SMS).
Then receiving breaks silently (the MF112 bug: no error in the log): the next
probe is not back within timeout, probe_failed is published and the health
policy starts a recovery."""

import json
import os

from harness import Env, log, wait_until

CONF = """[probe]
own_number = +33600000000
interval = 5
timeout = 30
after_send = yes
[recovery]
methods = restart_smsd
verify_timeout = 5
"""


def main():
    with Env("probe") as env:
        broker = env.broker()
        sub = env.subscribe(broker.port, "sms-sentinel/#")
        emu = env.emulator()
        smsd = env.start_smsd(env.smsd(emu.link))
        env.start_daemon(env.daemon(broker.port, smsd, CONF))
        wait_until(lambda: sub.find("/availability", lambda p: p == "online"), 15, "availability online")
        ok = sub.wait_json("sms-sentinel/test/event", lambda e: e.get("event") == "probe_ok", 60, "probe_ok")
        log("probe came back in %d ms" % ok["round_trip_ms"])
        assert not sub.find("/sms/received"), "a probe SMS was published as received"
        wait_until(lambda: not os.listdir(os.path.join(smsd.spool, "inbox")), 10, "the probe file released")

        emu.cmd("loopback off")
        failed = sub.wait_json("sms-sentinel/test/event", lambda e: e.get("event") == "probe_failed", 90,
                               "probe_failed")
        started = sub.wait_json("sms-sentinel/test/event", lambda e: e.get("event") == "recovery_started", 10,
                                "a recovery after the failed probe")
        assert started["trigger"] == "probe", started
        log("silent receive failure: %s, then %s" % (failed, started))
    print("2 passed, 0 failed")


if __name__ == "__main__":
    main()
