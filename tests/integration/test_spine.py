"""End to end on real parts: mosquitto, the modem emulator, gammu-smsd 1.42 and
the sms-sentinel binary. Availability goes online, the retained state appears,
an injected SMS is logged by gammu-smsd and makes health ok, SIGTERM publishes
offline and exits within 2 s."""

import signal
import time

from harness import Env, log, wait_until


def main():
    with Env("spine") as env:
        broker = env.broker()
        sub = env.subscribe(broker.port, "sms-sentinel/#")
        emu = env.emulator()
        smsd = env.start_smsd(env.smsd(emu.link))
        daemon = env.start_daemon(env.daemon(broker.port, smsd))

        wait_until(lambda: sub.find("/availability", lambda p: p == "online"), 15, "availability online")
        log("availability online")
        state = sub.wait_json("sms-sentinel/test/state", lambda s: "health" in s, 15, "a state message")
        for field in ("health", "modem_present", "smsd_running", "errors_total", "errors", "last_error",
                      "resets_total", "last_reset", "sms_received", "sms_sent", "sms_failed", "outbox_depth",
                      "since", "uptime_s", "version"):
            assert field in state, "state lacks %s: %s" % (field, state)
        assert state["health"] in ("starting", "ok"), state
        log("state: %s" % state)

        wait_until(lambda: "Starting phone communication" in smsd.log() or not smsd.proc.alive(), 30,
                   "gammu-smsd init")
        emu.cmd("inject +33612345678 Hello from the emulator")
        wait_until(lambda: "Received IN" in smsd.log(), 60, "gammu-smsd to log Received")
        log("gammu-smsd logged the SMS")
        sub.wait_json("sms-sentinel/test/state", lambda s: s["health"] == "ok" and s["modem_present"] is True
                      and s["smsd_running"] is True, 20, "health ok with modem present and gammu-smsd running")
        log("health ok")

        t0 = time.monotonic()
        daemon.proc.signal(signal.SIGTERM)
        wait_until(lambda: sub.last("/availability") == "offline", 5, "availability offline")
        rc = daemon.proc.p.wait(5)
        elapsed = time.monotonic() - t0
        assert rc == 0, "exit status %s" % rc
        assert elapsed < 2.0, "took %.2f s to stop" % elapsed
        log("SIGTERM: offline published, exit 0 in %.2f s" % elapsed)
        wait_until(lambda: "Client sms-sentinel-test disconnected" in broker.proc.output(), 5,
                   "the broker logging our disconnect")
        assert "out of memory" not in broker.proc.output(), broker.proc.output()[-2000:]
        log("the broker saw a clean disconnect (offline acknowledged before DISCONNECT)")
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
