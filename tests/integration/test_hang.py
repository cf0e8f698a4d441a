"""The MF112 failure: the modem stops answering. gammu-smsd 1.42 only notices
through libgammu's fixed command timeouts (84 s when AT+CPIN? is the command
that gets no answer), then logs (TIMEOUT[14]). The daemon must count it, show
last_error TIMEOUT, and move health to degraded/recovering."""

from harness import Env, log, wait_until


def main():
    with Env("hang") as env:
        broker = env.broker()
        sub = env.subscribe(broker.port, "sms-sentinel/#")
        emu = env.emulator()
        smsd = env.start_smsd(env.smsd(emu.link))
        daemon = env.start_daemon(env.daemon(broker.port, smsd, "[recovery]\nthreshold = 1\nwindow = 300\n"))
        wait_until(lambda: sub.find("/availability", lambda p: p == "online"), 15, "availability online")
        wait_until(lambda: "Starting phone communication" in smsd.log(), 30, "gammu-smsd init")
        emu.cmd("inject +33612345678 before the hang")
        wait_until(lambda: "Received IN" in smsd.log(), 60, "first SMS received")
        log("modem works; hanging it")
        emu.cmd("hang_at AT+CPIN?")
        state = sub.wait_json("sms-sentinel/test/state",
                              lambda s: s["errors_total"] > 0 and (s["last_error"] or {}).get("name") == "TIMEOUT",
                              300, "errors_total > 0 with last_error TIMEOUT")
        log("state after hang: errors=%s last_error=%s" % (state["errors"], state["last_error"]))
        ev = sub.wait_json("sms-sentinel/test/event",
                           lambda e: e.get("event") == "health" and e.get("to") in ("degraded", "recovering"),
                           30, "a health event to degraded or recovering")
        log("health event: %s" % ev)
        sub.wait_json("sms-sentinel/test/event", lambda e: e.get("event") == "recovery_started", 30,
                      "recovery_started event")
        err = sub.wait_json("sms-sentinel/test/event", lambda e: e.get("event") == "error", 5, "an error event")
        assert err["name"] == "TIMEOUT" and err["code"] == 14, err
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
