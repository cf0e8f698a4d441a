"""SIGHUP re-reads the config: a broken file is reported (FILE:LINE) and the old
config kept, the daemon keeps running and publishing; a good file takes effect."""

import signal
import time

from harness import Env, log, wait_until

LINE = "Sun 2026/12/06 18:01:28 gammu-smsd[4242]: Error at init connection: x (TIMEOUT[14])\n"


def main():
    with Env("sighup") as env:
        broker = env.broker()
        sub = env.subscribe(broker.port, "sms-sentinel/#")
        smsd = env.smsd("/dev/null-modem")
        d = env.start_daemon(env.daemon(broker.port, smsd))
        wait_until(lambda: sub.find("/availability", lambda p: p == "online"), 15, "availability online")
        good = open(d.conf).read()
        with open(d.conf, "a") as f:
            f.write("[recovery]\nthreshold = -5\nbogus = 1\n")
        d.proc.signal(signal.SIGHUP)
        wait_until(lambda: "keeping the running config" in d.proc.output(), 10, "reload refused")
        out = d.proc.output()
        assert "sms-sentinel.conf:" in out and "threshold" in out and "bogus" in out, out
        assert d.proc.alive()
        with open(smsd.logfile, "a") as f:
            f.write(LINE)
        sub.wait_json("sms-sentinel/test/state", lambda s: s["errors_total"] == 1, 15,
                      "still counting after a refused reload")
        log("broken config on SIGHUP: reported, old config kept, still running")

        with open(d.conf, "w") as f:
            f.write(good.replace("log_level = debug", "log_level = debug\n") + "[recovery]\nenabled = no\n")
        d.proc.signal(signal.SIGHUP)
        wait_until(lambda: "reloaded" in d.proc.output(), 10, "reload accepted")
        assert d.proc.alive()
        log("good config on SIGHUP: reloaded")
    print("2 passed, 0 failed")


if __name__ == "__main__":
    main()
