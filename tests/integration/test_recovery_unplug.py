"""Modem unplugged: the tty vanishes, modem_present turns false and a recovery
starts (trigger tty_gone) within one probe period; replugged: modem_present
true again. No SIM: gammu-smsd logs (NOSIM[49]), which is counted, and the
threshold starts a recovery."""

import os

from harness import Env, log, wait_until

CONF = """[recovery]
threshold = 2
methods = restart_smsd
verify_timeout = 3
cooldown = 1
"""


def main():
    passed = 0
    with Env("unplug") as env:
        broker = env.broker()
        sub = env.subscribe(broker.port, "sms-sentinel/#")
        emu = env.emulator()
        smsd = env.start_smsd(env.smsd(emu.link))
        env.start_daemon(env.daemon(broker.port, smsd, CONF))
        wait_until(lambda: sub.find("/availability", lambda p: p == "online"), 15, "availability online")
        sub.wait_json("sms-sentinel/test/state", lambda s: s["modem_present"] is True and s["smsd_running"], 20,
                      "modem present")
        emu.cmd("unplug")
        sub.wait_json("sms-sentinel/test/state", lambda s: s["modem_present"] is False, 20, "modem_present false")
        started = sub.wait_json("sms-sentinel/test/event", lambda e: e.get("event") == "recovery_started", 20,
                                "a recovery after the unplug")
        assert started["trigger"] in ("tty_gone", "errors"), started
        log("unplug: modem_present false, recovery started (%s)" % started["trigger"])
        sub.wait_json("sms-sentinel/test/event", lambda e: e.get("event") in ("recovered", "failed"), 60,
                      "the end of that recovery")
        emu.cmd("replug")
        sub.wait_json("sms-sentinel/test/state", lambda s: s["modem_present"] is True, 20, "modem_present true")
        log("replug: modem_present true")
        passed += 1

        n_before = len([1 for t, p in sub.messages if t.endswith("/event") and '"recovery_started"' in p])
        emu.cmd("nosim on")
        sub.wait_json("sms-sentinel/test/event", lambda e: e.get("event") == "error" and e.get("name") == "NOSIM"
                      and e.get("counted") is True, 120, "a counted NOSIM error")
        wait_until(lambda: len([1 for t, p in sub.messages if t.endswith("/event") and '"recovery_started"' in p])
                   > n_before, 120, "a recovery after NOSIM errors")
        log("NOSIM: counted, recovery started")
        passed += 1
    print("%d passed, 0 failed" % passed)


if __name__ == "__main__":
    main()
