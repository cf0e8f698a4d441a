"""The command line as users meet it: --version, --help, unknown commands,
check-config on good and bad files (every problem as FILE:LINE, exit 2), and
status after the daemon saved its state, counters restored across a restart."""

import os
import re
import signal

from harness import Env, log, run_sentinel, wait_until

LINE = "Sun 2026/12/06 18:01:28 gammu-smsd[4242]: Error at init connection: x (TIMEOUT[14])\n"


def run(*args):
    return run_sentinel(args)


def main():
    passed = 0
    r = run("--version")
    assert r.returncode == 0 and re.match(r"sms-sentinel \d+\.\d+\.\d+", r.stdout), r
    r = run("--help")
    assert r.returncode == 0 and "check-config" in r.stdout, r
    r = run("frobnicate")
    assert r.returncode == 2 and "unknown command" in r.stderr, r
    passed += 3

    with Env("cli") as env:
        broker = env.broker()
        smsd = env.smsd("/dev/serial/by-id/usb-ZTE_MF112-if00")
        d = env.daemon(broker.port, smsd)

        r = run("check-config", "-c", d.conf)
        assert r.returncode == 0, r.stdout + r.stderr
        for text in ("[mqtt]", "port = %d" % broker.port, "base_topic = sms-sentinel/test", "threshold = 3"):
            assert text in r.stdout, "check-config lacks %r:\n%s" % (text, r.stdout)
        assert "doctor" in r.stdout, r.stdout
        log("check-config prints the effective config and the doctor's report")
        passed += 1

        bad = os.path.join(env.dir, "bad.conf")
        with open(bad, "w") as f:
            f.write("[mqtt]\nport = 99999\nfoo = bar\n[nope]\nx = 1\n[recovery]\nthreshold = many\n")
        r = run("check-config", "-c", bad)
        assert r.returncode == 2, r
        for line_no in (2, 3, 4, 7):
            assert re.search(r"%s:%d: " % (re.escape(bad), line_no), r.stderr), \
                "no error for line %d:\n%s" % (line_no, r.stderr)
        log("bad config: every problem reported as FILE:LINE, exit 2")
        passed += 1

        r = run("check-config", "-c", os.path.join(env.dir, "missing.conf"))
        assert r.returncode == 2 and "missing.conf" in r.stderr, r
        passed += 1

        # status before any run: a clear message, exit 1.
        r = run("status", "-c", d.conf)
        assert r.returncode == 1 and "no saved state" in r.stderr, r
        passed += 1

        sub = env.subscribe(broker.port, "sms-sentinel/#")
        env.start_daemon(d)
        wait_until(lambda: sub.find("/availability", lambda p: p == "online"), 15, "availability online")
        with open(smsd.logfile, "a") as f:
            f.write(LINE)
        sub.wait_json("sms-sentinel/test/state", lambda s: s["errors_total"] == 1, 15, "errors_total 1")
        r = run("status", "-c", d.conf)
        assert r.returncode == 0, r
        for text in ("health:", "running", "errors:      1 total: TIMEOUT 1", "last error:  TIMEOUT[14]"):
            assert text in r.stdout, "status lacks %r:\n%s" % (text, r.stdout)
        log("status:\n" + r.stdout)
        passed += 1

        d.proc.signal(signal.SIGTERM)
        assert d.proc.p.wait(5) == 0
        r = run("status", "-c", d.conf)
        assert "not running" in r.stdout, r.stdout
        env.procs.remove(d.proc)
        sub2 = env.subscribe(broker.port, "sms-sentinel/#")
        env.start_daemon(d)
        sub2.wait_json("sms-sentinel/test/state", lambda s: s["errors_total"] == 1 and s["errors"].get("TIMEOUT") == 1,
                       15, "counters restored after a restart")
        log("counters survive a restart")
        passed += 2
    print("%d passed, 0 failed" % passed)


if __name__ == "__main__":
    main()
