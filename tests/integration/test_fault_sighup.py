"""SIGHUP with a broken config, beyond test_sighup.py: each bad line reported
as FILE:LINE with its exact line number (a bad value, an unknown key, a line
that is no key = value); the valid part of a broken file is not applied
either (a new base_topic in it would move every topic); a deleted config
file; several bad reloads in a row. After each, the daemon keeps working
with the old config: it still counts errors and publishes them on the old
topics. Finally a good file is taken."""

import os
import signal

from harness import Env, log, wait_until

LINE = "Sun 2026/12/06 18:01:28 gammu-smsd[4242]: Error at init connection: x (TIMEOUT[14])\n"


def main():
    passed = 0
    with Env("fault-sighup") as env:
        broker = env.broker()
        sub = env.subscribe(broker.port, "#")
        smsd = env.smsd("/dev/null-modem")
        d = env.start_daemon(env.daemon(broker.port, smsd, "[recovery]\nenabled = no\n"))
        wait_until(lambda: sub.find("sms-sentinel/test/availability", lambda p: p == "online"), 15, "online")
        good = open(d.conf).read()
        n = good.count("\n")
        errors = 0

        def still_working(what):
            nonlocal errors
            assert d.proc.alive(), what
            with open(smsd.logfile, "a") as f:
                f.write(LINE)
            errors += 1
            sub.wait_json("sms-sentinel/test/state", lambda s, e=errors: s["errors_total"] == e, 15,
                          "errors_total %d on the old topic after %s" % (errors, what))
            assert not any(t.startswith("moved/") for t, _ in list(sub.messages)), what

        def refused(what, count):
            """SIGHUP; returns the problem lines of the refused reload."""
            before = d.proc.output().count("keeping the running config")
            d.proc.signal(signal.SIGHUP)
            wait_until(lambda: d.proc.output().count("keeping the running config") == before + 1, 10, what)
            lines = d.proc.output().splitlines()
            at = [i for i, l in enumerate(lines) if "keeping the running config" in l][-1]
            assert ("has %d problem(s)" % count) in lines[at], lines[at]
            wait_until(lambda: len(d.proc.output().splitlines()) >= at + 1 + count, 5, "the problem lines")
            problems = d.proc.output().splitlines()[at + 1:at + 1 + count]
            assert all(d.conf + ":" in l for l in problems), problems
            return problems

        with open(d.conf, "w") as f:
            f.write(good.replace("[mqtt]\n", "[mqtt]\nbase_topic = moved/elsewhere\n"))
            f.write("[recovery]\nthreshold = -5\nbogus = 1\nthis line has no equals sign\n")
        problems = refused("a broken file with a valid new base_topic", 3)
        for line, (line_no, word) in zip(problems, ((n + 3, "threshold"), (n + 4, "bogus"), (n + 5, "syntax"))):
            assert "%s:%d: " % (d.conf, line_no) in line and word in line, (line_no, word, problems)
        still_working("a broken file")
        log("broken file: 3 problems at %s:%d..%d, base_topic in it not applied" % (d.conf, n + 3, n + 5))
        passed += 1

        os.unlink(d.conf)
        problems = refused("a deleted config file", 1)
        assert "No such file or directory" in problems[0], problems
        still_working("a deleted file")
        log("deleted config: %s" % problems[0].split(": ", 1)[-1])
        passed += 1

        with open(d.conf, "w") as f:
            f.write("[mqtt\nhost = x\n")
        for i in range(3):
            problems = refused("bad reload %d" % i, 1)
            assert "%s:1: " % d.conf in problems[0] and "[" in problems[0], problems
        still_working("three bad reloads in a row")
        log("three bad reloads in a row: still running, still counting")
        passed += 1

        with open(d.conf, "w") as f:
            f.write(good.replace("[mqtt]\n", "[mqtt]\nbase_topic = moved/elsewhere\n"))
        d.proc.signal(signal.SIGHUP)
        wait_until(lambda: "reloaded" in d.proc.output(), 10, "the good file taken")
        sub.wait_json("moved/elsewhere/state", lambda s: s["errors_total"] == errors, 15, "state on the new topic")
        log("good file: reloaded, topics moved to moved/elsewhere")
        passed += 1
    print("%d passed, 0 failed" % passed)


if __name__ == "__main__":
    main()
