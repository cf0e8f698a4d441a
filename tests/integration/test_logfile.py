"""The real binary follows a gammu-smsd log written by the test itself through
the file's life: missing at start, rename + create (gammu-smsd keeps writing to
the renamed file until SIGHUP), copytruncate, delete + re-create, a partial
line, an absurdly long line. Every error line counts exactly once."""

import os
import shutil

from harness import Env, log, wait_until

LINE = "Sun 2026/12/06 18:01:28 gammu-smsd[4242]: Error at init connection: No response in specified timeout. (%s)\n"


def main():
    with Env("logfile") as env:
        broker = env.broker()
        sub = env.subscribe(broker.port, "sms-sentinel/#")
        smsd = env.smsd(os.path.join(env.dir, "no-modem"))
        path = smsd.logfile
        assert not os.path.exists(path)
        env.start_daemon(env.daemon(broker.port, smsd, "[recovery]\nenabled = no\n"))
        wait_until(lambda: sub.find("/availability", lambda p: p == "online"), 15, "availability online")

        def expect(total, what):
            sub.wait_json("sms-sentinel/test/state", lambda s: s["errors_total"] == total, 15,
                          "errors_total == %d after %s" % (total, what))
            log("%s: errors_total %d" % (what, total))

        def append(p, text):
            with open(p, "a") as f:
                f.write(text)

        append(path, LINE % "TIMEOUT[14]")
        expect(1, "file created after start")

        os.rename(path, path + ".1")
        append(path + ".1", LINE % "DEVICEWRITEERROR[11]")  # gammu-smsd still holds the old file
        append(path, LINE % "TIMEOUT[14]")
        expect(3, "rename + create")

        shutil.copy(path, path + ".2")
        with open(path, "r+") as f:
            f.truncate(0)
        append(path, LINE % "NOSIM[49]")
        expect(4, "copytruncate")

        os.unlink(path)
        append(path, LINE % "TIMEOUT[14]")
        expect(5, "delete + re-create")

        append(path, LINE[:40])
        append(path, (LINE % "TIMEOUT[14]")[40:])
        expect(6, "a line written in two parts")

        append(path, "x" * (1024 * 1024) + " (TIMEOUT[14])\n")
        append(path, LINE % "INVALIDLOCATION[24]")
        state = sub.wait_json("sms-sentinel/test/state", lambda s: s["last_error"] and
                              s["last_error"]["name"] == "INVALIDLOCATION", 15, "the line after a 1 MiB line")
        assert state["errors_total"] == 7, state
        log("long line: cut, counted once; next line counted")
        assert state["errors"]["TIMEOUT"] == 4, state["errors"]
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
