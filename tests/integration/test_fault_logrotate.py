"""The gammu-smsd log rotated while errors are being written, against the real
binary. A writer thread behaves like gammu-smsd: opens the log once in append
mode, one flush per line, reopens it only on "SIGHUP" (REFERENCE: it keeps
writing to the renamed or deleted file until then). Rotation three ways while
it writes: rename + create, copytruncate, delete + re-create; then a renamed
file the writer keeps using with no SIGHUP after more than a minute of quiet
(the follower used to let a rotated file go after 60 s). Every line written
counts exactly once in errors_total: none lost, none counted twice.

The follower's rule (src/log_follower_file.c): a rotated file (renamed or
deleted) is read until its successor at the path has received data, then read
to its end and closed; a single writer has switched by then."""

import os
import shutil
import threading
import time

from harness import Env, log, wait_until

LINE = "Sun 2026/12/06 18:01:28 gammu-smsd[4242]: Error at init connection: line %06d (TIMEOUT[14])\n"
LAST = "Sun 2026/12/06 18:01:29 gammu-smsd[4242]: Error getting SMS: the last one (INVALIDLOCATION[24])\n"


class SmsdLikeWriter(threading.Thread):
    def __init__(self, path):
        super().__init__(daemon=True)
        self.path = path
        self.written = 0
        self.lock = threading.Lock()  # held while the test stops the writer
        self.hup = threading.Event()
        self.done = threading.Event()
        self.f = open(path, "a")

    def run(self):
        while not self.done.is_set():
            with self.lock:
                if self.hup.is_set():
                    self.f.close()
                    self.f = open(self.path, "a")
                    self.hup.clear()
                self.f.write(LINE % self.written)
                self.f.flush()
                self.written += 1
            time.sleep(0.003)
        self.f.close()

    def wait_written(self, n):
        target = self.written + n
        wait_until(lambda: self.written >= target, 60, "%d more lines written" % n, interval=0.01)

    def sighup(self):
        self.hup.set()
        wait_until(lambda: not self.hup.is_set(), 10, "the writer to reopen", interval=0.01)


def main():
    passed = 0
    with Env("fault-logrotate") as env:
        broker = env.broker()
        states = env.subscribe(broker.port, "sms-sentinel/test/state")
        avail = env.subscribe(broker.port, "sms-sentinel/test/availability")
        smsd = env.smsd(os.path.join(env.dir, "no-modem"))
        path = smsd.logfile
        open(path, "w").close()
        d = env.start_daemon(env.daemon(broker.port, smsd, "[recovery]\nenabled = no\n"))
        wait_until(lambda: avail.find("/availability", lambda p: p == "online"), 15, "availability online")
        wait_until(lambda: "following " + path in d.proc.output(), 10, "the follower")
        w = SmsdLikeWriter(path)
        w.start()

        def expect_all(what, locked=False):
            """With the writer held: every line so far counted, none twice."""
            if not locked:
                w.lock.acquire()
            try:
                n = w.written
                states.wait_json("/state", lambda s: s["errors_total"] >= n, 60, "errors_total >= %d" % n)
                over = states.json_matching("/state", lambda s: s["errors_total"] > n)
                assert over is None, (what, over["errors_total"], n)
            finally:
                if not locked:
                    w.lock.release()
            log("%s: %d lines written so far, each counted once" % (what, n))

        w.wait_written(100)
        os.rename(path, path + ".1")
        open(path, "w").close()  # logrotate's `create`
        w.wait_written(100)  # still into the renamed file
        w.sighup()  # postrotate
        w.wait_written(100)
        expect_all("rename + create")
        passed += 1

        with w.lock:  # logrotate loses what comes between copy and truncate; not our concern
            shutil.copy(path, path + ".2")
            with open(path, "r+") as f:
                f.truncate(0)
        w.wait_written(200)  # soon past the old offset again
        expect_all("copytruncate")
        passed += 1

        os.unlink(path)
        w.wait_written(100)  # into the deleted file
        open(path, "w").close()
        w.wait_written(50)
        w.sighup()
        w.wait_written(100)
        expect_all("delete + re-create")
        passed += 1

        os.rename(path, path + ".3")
        open(path, "w").close()
        w.wait_written(20)
        with w.lock:  # gammu-smsd idle for more than a minute, never told to reopen
            expect_all("renamed, before a quiet minute", locked=True)
            time.sleep(65)
        w.wait_written(50)  # still into the renamed file
        expect_all("renamed, written again after a quiet minute")
        w.sighup()
        w.wait_written(50)
        passed += 1

        w.done.set()
        w.join(10)
        total = w.written
        with open(path, "a") as f:
            f.write(LAST)
        s = states.wait_json("/state", lambda s: (s.get("last_error") or {}).get("name") == "INVALIDLOCATION", 60,
                             "the last line counted")
        assert s["errors_total"] == total + 1, (s["errors_total"], total + 1)
        assert s["errors"]["TIMEOUT"] == total, s["errors"]
        over = states.json_matching("/state", lambda x: x["errors_total"] > total + 1)
        assert over is None, over["errors_total"]
        log("%d lines written across 4 rotations: errors_total %d, exactly once each" % (total, s["errors_total"]))
        passed += 1
        assert d.proc.alive()
    print("%d passed, 0 failed" % passed)


if __name__ == "__main__":
    main()
