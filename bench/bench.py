#!/usr/bin/env python3
"""All seven benchmarks of sms-sentinel, each beside a baseline measured in the
same run on the same machine, printed as one table (medians, p99, ratios).
Nothing here asserts: the numbers depend on the machine; compare ratios.

Usage: bench/bench.py [--only reaction,inbox,backlog,classify,idle,mf112]
  SMS_SENTINEL=<build>/sms-sentinel BENCH_BIN=<build>/bench (bench/run sets both)

 1 reaction   counted error line appended -> its `error` event at a subscriber
              (1000 lines), and -> recovery_started (full decisions, fewer runs);
              baseline: a cron job grepping every 60 s, its latency computed
              from the period and the measured grep time
 2 inbox      inbox file closed -> message at a subscriber (1000 files); baseline:
              the raw libmosquitto publish -> subscriber time on the same broker
 3 backlog    10000 inbox files present at start -> all published at QoS 1 and
              moved to the archive; baseline: mosquitto_pub -l of 10000 at QoS 1
 4 classify   classifier lines/s over a ~2M-line real-shaped log, beside grep -cE
 5 memory     RSS and anonymous memory after the backlog and 1000 send_sms
              requests (outbox only: no gammu-smsd), beside a bare mosquitto_sub
 6 idle       wake-ups/s over 60 s idle (ctxt switches), with and without a real
              gammu-smsd, beside mosquitto_sub
 7 mf112      the MF112 hang -> an SMS received again, beside the cron job
              (bench/mf112.py; both run at the same time)"""

import argparse
import glob
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, HERE)
from harness import SMS_SENTINEL, Env, wait_until  # noqa: E402

BENCH_BIN = os.environ.get("BENCH_BIN", os.path.join(HERE, "..", "build-release", "bench"))
BENCH_MQTT = os.path.join(BENCH_BIN, "bench_mqtt")
BENCH_CLASSIFY = os.path.join(BENCH_BIN, "bench_classify")
ERROR_RE = r"\([A-Z_0-9]+\[[0-9]+\]\)$"  # what the classifier looks for: (NAME[n]) at the end
ROWS = []


def note(msg):
    print("[bench] " + msg, file=sys.stderr, flush=True)


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, max(0, int(round(p / 100.0 * (len(v) - 1)))))]


def row(name, ours50, ours99, base, ratio, target, met):
    ROWS.append((name, ours50, ours99, base, ratio, target, "yes" if met else "NO"))


def now_ns():
    return time.time_ns()


class BenchSub:
    """bench_mqtt sub: (unix ns at receipt, payload) per message."""

    def __init__(self, port, topic):
        self.msgs = []
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.p = subprocess.Popen([BENCH_MQTT, "sub", "127.0.0.1", str(port), topic], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL)
        threading.Thread(target=self._read, daemon=True).start()
        if not self.ready.wait(10):
            raise AssertionError("bench_mqtt sub not ready")

    def _read(self):
        for raw in self.p.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if line == "READY":
                self.ready.set()
                continue
            t, _, payload = line.partition(" ")
            with self.lock:
                self.msgs.append((int(t), payload))

    def count(self):
        with self.lock:
            return len(self.msgs)

    def snapshot(self):
        with self.lock:
            return list(self.msgs)

    def stop(self):
        self.p.terminate()
        self.p.wait()


def daemon_conf(env, port, smsd, extra="", keepalive=30, smsd_extra="start_command = true\n", node="test"):
    path = os.path.join(env.dir, "sms-sentinel.conf")
    with open(path, "w") as f:
        f.write("[agent]\nnode_id = " + node + "\nstate_dir = %s\nlog_level = warn\n"
                "[smsd]\nconfig = %s\npidfile = %s\n%s"
                "[mqtt]\nhost = 127.0.0.1\nport = %d\nkeepalive = %d\n%s"
                % (os.path.join(env.dir, "state"), smsd.rc, smsd.pidfile, smsd_extra, port, keepalive, extra))
    return path


def start_daemon(env, conf):
    from harness import Proc
    p = Proc("sms-sentinel", [SMS_SENTINEL, "-c", conf, "-q"], env.dir)
    env.procs.append(p)
    return p


def wait_online(port, timeout=15):
    sub = BenchSub(port, "sms-sentinel/test/availability")
    wait_until(lambda: any(m[1] == "online" for m in sub.snapshot()), timeout, "online")
    sub.stop()


def fast_broker(env):
    """A mosquitto with set_tcp_nodelay: with its default, Nagle holds the last
    message of a burst (error, health, recovery_started) for the subscriber's
    delayed ACK, ~40 ms, which is the broker's doing, not the daemon's."""
    b = env.broker()
    b.stop()
    with open(b.conf, "a") as f:
        f.write("set_tcp_nodelay true\n")
    b.start()
    return b


# 1 ---------------------------------------------------------------------------
ERR = "Sun 2026/12/06 18:01:28 gammu-smsd[4242]: Error at init connection: bench %d (TIMEOUT[14])\n"


def bench_reaction(lines=1000, decisions=100):
    with Env("bench-reaction") as env:
        broker = fast_broker(env)
        smsd = env.smsd(os.path.join(env.dir, "no-modem"))
        open(smsd.logfile, "w").close()
        # Counted, but never enough in the window for a recovery: every line is one `error` event.
        conf = daemon_conf(env, broker.port, smsd, "[recovery]\nthreshold = 1000\nwindow = 1\n"
                           "methods = restart_smsd\n")
        start_daemon(env, conf)
        wait_online(broker.port)
        sub = BenchSub(broker.port, "sms-sentinel/test/event")
        written = {}
        with open(smsd.logfile, "a") as f:
            for i in range(lines):
                written[i] = now_ns()
                f.write(ERR % i)
                f.flush()
                time.sleep(0.003)
        wait_until(lambda: sub.count() >= lines, 30, "error events")
        lat = []
        for t, payload in sub.snapshot():
            e = json.loads(payload)
            if e.get("event") == "error" and e.get("counted"):
                i = int(e["message"].split("bench ")[1].split()[0])
                lat.append((t - written[i]) / 1e6)
        sub.stop()
    dec = []
    for _ in range(decisions):
        with Env("bench-decision") as env:
            broker = fast_broker(env)
            smsd = env.smsd(os.path.join(env.dir, "no-modem"))
            open(smsd.logfile, "w").close()
            conf = daemon_conf(env, broker.port, smsd, "[recovery]\nthreshold = 1\nmethods = restart_smsd\n")
            start_daemon(env, conf)
            wait_online(broker.port)
            sub = BenchSub(broker.port, "sms-sentinel/test/event")
            time.sleep(0.5)  # past the start-up burst (retained state, discovery)
            t0 = now_ns()
            with open(smsd.logfile, "a") as f:
                f.write(ERR % 0)
            wait_until(lambda: any('"recovery_started"' in p for _, p in sub.snapshot()), 10, "recovery_started",
                       interval=0.001)
            t = [t for t, p in sub.snapshot() if '"recovery_started"' in p][0]
            dec.append((t - t0) / 1e6)
            sub.stop()
    # The cron-style checker: a poll every 60 s sees a line written at a uniform
    # phase after U(0, 60) s, plus its own grep of the log.
    log = "/tmp/bench-cron-%d.log" % os.getpid()
    with open(log, "w") as f:
        f.write(ERR % 0 * lines)
    greps = []
    for _ in range(20):
        t0 = time.monotonic()
        subprocess.run(["grep", "-cE", ERROR_RE, log], capture_output=True)
        greps.append((time.monotonic() - t0) * 1000)
    os.unlink(log)
    g = statistics.median(greps)
    c50, c99 = 30000 + g, 0.99 * 60000 + g
    p50, p99 = statistics.median(lat), pct(lat, 99)
    row("1 error line -> error event (n=%d)" % len(lat), "%.2f ms" % p50, "%.2f ms" % p99,
        "cron 60 s: %.0f / %.0f ms" % (c50, c99), "%.0fx" % (c50 / p50), "p99 <= 10 ms", p99 <= 10)
    d50, d99 = statistics.median(dec), pct(dec, 99)
    row("1 error line -> recovery_started (n=%d)" % len(dec), "%.2f ms" % d50, "%.2f ms" % d99,
        "cron 60 s: %.0f / %.0f ms" % (c50, c99), "%.0fx" % (c50 / d50), "p99 <= 10 ms", d99 <= 10)


# 2 ---------------------------------------------------------------------------
def inbox_name(i, part=0, sender=None):
    hh, mm, ss = (i // 3600) % 24, (i // 60) % 60, i % 60
    return "IN20261206_%02d%02d%02d_%02d_%s_%02d.txt" % (hh, mm, ss, (i // 86400) % 100,
                                                         sender or "+3361%07d" % (i % 10000000), part)


def inbox_env(env, port, extra=""):
    smsd = env.smsd(os.path.join(env.dir, "no-modem"))
    conf = daemon_conf(env, port, smsd, extra)
    return smsd, conf, os.path.join(smsd.spool, "inbox"), os.path.join(env.dir, "state", "archive")


def bench_inbox(files=1000):
    with Env("bench-inbox") as env:
        broker = fast_broker(env)
        raw = BenchSub(broker.port, "raw/#")
        subprocess.run([BENCH_MQTT, "pub", "127.0.0.1", str(broker.port), "raw/x", str(files), "3000"], check=True,
                       timeout=120)
        wait_until(lambda: raw.count() >= files, 30, "raw messages")
        rtt = [(t - int(p.split()[1])) / 1e6 for t, p in raw.snapshot()]
        raw.stop()
        smsd, conf, inbox, archive = inbox_env(env, broker.port)
        start_daemon(env, conf)
        wait_online(broker.port)
        sub = BenchSub(broker.port, "sms-sentinel/test/sms/received")
        closed = {}
        for i in range(files):
            with open(os.path.join(inbox, inbox_name(i)), "w") as f:
                f.write("Bench message %d, see you at 8" % i)
            closed[i] = now_ns()
            time.sleep(0.003)
        wait_until(lambda: sub.count() >= files, 60, "received SMS")
        lat = [(t - closed[int(json.loads(p)["text"].split()[2].rstrip(","))]) / 1e6 for t, p in sub.snapshot()]
        sub.stop()
    r50, r99 = statistics.median(rtt), pct(rtt, 99)
    p50, p99 = statistics.median(lat), pct(lat, 99)
    target = 2 * r99 + 5
    row("2 inbox file -> subscriber (n=%d)" % len(lat), "%.2f ms" % p50, "%.2f ms" % p99,
        "raw pub->sub %.2f / %.2f ms" % (r50, r99), "%.1fx" % (p99 / r99), "p99 <= %.1f ms" % target, p99 <= target)


# 3 + 5 -----------------------------------------------------------------------
def mem_of(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                out[k] = int(v.split()[0])
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("Private_Dirty", "Anonymous"):
                    out[k] = int(v.split()[0])
    except OSError:
        pass
    return out


def bench_backlog_memory(files=10000, sends=1000):
    with Env("bench-backlog") as env:
        broker = env.broker()
        # Baseline: the same number of messages at QoS 1 through mosquitto_pub -l.
        payload = "".join('{"id":"%s","text":"Bench message %d, see you at 8"}\n' % (inbox_name(i), i)
                          for i in range(files))
        sink = BenchSub(broker.port, "raw/#")
        t0 = time.monotonic()
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-t", "raw/x", "-q", "1", "-l"],
                       input=payload.encode(), check=True, timeout=120)
        base = time.monotonic() - t0
        sink.stop()
        smsd, conf, inbox, archive = inbox_env(env, broker.port, "[sms]\nsend_timeout = 3600\nmax_per_hour = 3600\n")
        for i in range(files):
            with open(os.path.join(inbox, inbox_name(i)), "w") as f:
                f.write("Bench message %d, see you at 8" % i)
        t0 = time.monotonic()
        d = start_daemon(env, conf)

        def archived():
            try:
                return len(os.listdir(archive)) >= files
            except FileNotFoundError:
                return False
        wait_until(archived, 300, "all %d archived" % files, interval=0.02)
        took = time.monotonic() - t0
        left = len(os.listdir(inbox))
        row("3 backlog %d files -> published+archived" % files, "%.2f s" % took, "",
            "mosquitto_pub -l q1 %.2f s" % base, "%.1fx" % (took / base), "<= 5 s", took <= 5 and left == 0)
        # 5: then 1000 send_sms requests (no gammu-smsd: they stay in the outbox).
        reqs = "".join('{"number":"+3361%07d","text":"bench send %d","transaction":%d}\n' % (i, i, i)
                       for i in range(sends))
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-t",
                        "sms-sentinel/test/request/send_sms", "-q", "1", "-l"], input=reqs.encode(), check=True,
                       timeout=120)
        outbox = os.path.join(smsd.spool, "outbox")
        last, stable = -1, 0
        while stable < 10:  # the daemon has taken all the requests it accepts
            n = len(os.listdir(outbox))
            stable = stable + 1 if n == last else 0
            last = n
            time.sleep(0.1)
        note("outbox: %d files for %d requests" % (last, sends))
        ours = mem_of(d.p.pid)
        bare = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port), "-t", "raw/#"],
                                stdout=subprocess.DEVNULL)
        time.sleep(1)
        theirs = mem_of(bare.pid)
        bare.terminate()
        bare.wait()
        note("memory: ours %s, mosquitto_sub %s" % (ours, theirs))
    anon = ours.get("RssAnon", 0)
    row("5 RSS after backlog + %d sends" % sends, "%d KiB" % ours["VmRSS"], "",
        "mosquitto_sub %d KiB" % theirs["VmRSS"], "%.2fx" % (ours["VmRSS"] / theirs["VmRSS"]), "<= 1.5x",
        ours["VmRSS"] <= 1.5 * theirs["VmRSS"])
    row("5 anonymous memory (RssAnon)", "%d KiB" % anon, "",
        "mosquitto_sub %d KiB" % theirs.get("RssAnon", 0), "%.2fx" % (anon / max(1, theirs.get("RssAnon", 1))),
        "<= 1024 KiB", anon <= 1024)


# 4 ---------------------------------------------------------------------------
def bench_classify(target_lines=2000000):
    lines = []
    for f in sorted(glob.glob(os.path.join(HERE, "..", "tests", "fixtures", "gammu-logs", "*.log"))):
        with open(f, encoding="utf-8", errors="replace") as fh:
            lines += fh.read().splitlines(True)
    block = "".join(lines)
    path = "/tmp/bench-classify-%d.log" % os.getpid()
    with open(path, "w") as f:
        for _ in range(target_lines // len(lines) + 1):
            f.write(block)
    try:
        ours, grep = [], []
        for _ in range(5):
            out = subprocess.run([BENCH_CLASSIFY, path], capture_output=True, text=True, check=True).stdout.split()
            n, errors, secs = int(out[0]), int(out[1]), float(out[2])
            ours.append(n / secs)
            t0 = time.monotonic()
            subprocess.run(["grep", "-cE", ERROR_RE, path], capture_output=True, check=True)
            grep.append(n / (time.monotonic() - t0))
        size = os.path.getsize(path)
    finally:
        os.unlink(path)
    o, g = statistics.median(ours), statistics.median(grep)
    row("4 classify %.1fM lines, %d MB" % (n / 1e6, size // 1000000), "%.2fM lines/s" % (o / 1e6), "",
        "grep -cE %.2fM lines/s" % (g / 1e6), "%.2fx" % (o / g), ">= 0.5x grep", o >= 0.5 * g)


# 6 ---------------------------------------------------------------------------
def switches(pid):
    n = 0
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                n += int(line.split()[1])
    return n


class IdleRig:
    """Two idle daemons (one without gammu-smsd, one with a real gammu-smsd on
    the emulator) and a mosquitto_sub, started early so the measurement sees
    the steady state (after the first signal reading and the start-up grace)."""

    def __init__(self):
        from contextlib import ExitStack
        from harness import fake_sysfs
        self.stack = ExitStack()
        env = self.stack.enter_context(Env("bench-idle"))
        env2 = self.stack.enter_context(Env("bench-idle-smsd"))
        broker = env.broker()
        smsd = env.smsd(os.path.join(env.dir, "no-modem"))
        open(smsd.logfile, "w").close()
        # The USB stick is known (as on a real install), so discovery reads its facts once a minute.
        usb = "[recovery]\nusb_device = 1-1.2\nsysfs_root = %s\nwindow = 30\n"
        fake_sysfs(os.path.join(env.dir, "sys"))
        fake_sysfs(os.path.join(env2.dir, "sys"))
        self.bare = start_daemon(env, daemon_conf(env, broker.port, smsd, usb % os.path.join(env.dir, "sys")))
        emu = env2.emulator()
        self.smsd2 = env2.start_smsd(env2.smsd(emu.link))
        self.with_smsd = start_daemon(env2, daemon_conf(env2, broker.port, self.smsd2,
                                                        usb % os.path.join(env2.dir, "sys"), node="test2"))
        self.sub = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port), "-t", "idle/#"],
                                    stdout=subprocess.DEVNULL)
        self.started = time.monotonic()

    def measure(self, seconds=int(os.environ.get("IDLE_S", "60")), settle=40):
        try:
            wait_until(lambda: "Starting phone communication" in self.smsd2.log(), 30, "gammu-smsd init")
            # window = 30: health leaves "starting" after 30 s without errors; the first signal is read.
            time.sleep(max(0, settle - (time.monotonic() - self.started)))
            procs = {"bare": self.bare.p.pid, "smsd": self.with_smsd.p.pid, "sub": self.sub.pid}
            first = {k: switches(p) for k, p in procs.items()}
            time.sleep(seconds)
            rate = {k: (switches(p) - first[k]) / seconds for k, p in procs.items()}
            for d in (self.bare, self.with_smsd):
                if not d.alive():
                    raise AssertionError("daemon exited: %s" % d.output()[-300:])
        finally:
            self.sub.terminate()
            self.sub.wait()
            self.stack.close()
        for k, label in (("bare", "no gammu-smsd"), ("smsd", "gammu-smsd running")):
            row("6 idle wake-ups, %s (%d s)" % (label, seconds), "%.3f /s" % rate[k], "",
                "mosquitto_sub %.3f /s" % rate["sub"], "%.2fx" % (rate[k] / max(rate["sub"], 1e-9)), "<= 0.2 /s",
                rate[k] <= 0.2)


# 7 ---------------------------------------------------------------------------
def bench_mf112(result):
    """bench/mf112.py --json in its own process (no GIL shared with the timed writers)."""
    r = subprocess.run([sys.executable, os.path.join(HERE, "mf112.py"), "--json"], capture_output=True, text=True)
    try:
        result.update(json.loads(r.stdout.strip().splitlines()[-1]))
    except (ValueError, IndexError):
        note("mf112 failed: %s" % r.stderr[-2000:])


def mf112_row(out):
    if "ours" not in out or "cron" not in out:
        row("7 MF112 hang -> SMS received again", "failed", "", "", "", "< cron", False)
        return
    row("7 MF112 hang -> SMS received again", "%.0f s" % out["ours"], "", "cron 60 s + reset: %.0f s" % out["cron"],
        "%.2fx" % (out["cron"] / out["ours"]), "< cron (floor ~90 s)", out["ours"] < out["cron"])


def print_table():
    head = ("benchmark", "sms-sentinel p50", "p99", "baseline (p50 / p99)", "ratio", "target", "met?")
    w = [max(len(str(r[i])) for r in ROWS + [head]) for i in range(len(head))]
    line = "| " + " | ".join("%-*s" % (w[i], head[i]) for i in range(len(head))) + " |"
    print(line)
    print("|" + "|".join("-" * (x + 2) for x in w) + "|")
    for r in ROWS:
        print("| " + " | ".join("%-*s" % (w[i], r[i]) for i in range(len(r))) + " |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="reaction,inbox,backlog,classify,idle,mf112")
    a = ap.parse_args()
    only = a.only.split(",")
    t_start = time.monotonic()
    mf = {}
    bg = None
    if "mf112" in only:
        # Slow (gammu-smsd's own ~90 s timeouts) but idle: runs beside the others.
        bg = threading.Thread(target=bench_mf112, args=(mf,), daemon=True)
        bg.start()
    idle = IdleRig() if "idle" in only else None
    for name, fn in (("reaction", bench_reaction), ("inbox", bench_inbox), ("backlog", bench_backlog_memory),
                     ("classify", bench_classify), ("idle", idle.measure if idle else None)):
        if name in only:
            note("%s (%.0f s so far)" % (name, time.monotonic() - t_start))
            try:
                fn()
            except Exception as e:  # one failed benchmark must not hide the others
                row("%s" % name, "failed: %s" % str(e)[:60], "", "", "", "", False)
    if bg:
        bg.join()
        mf112_row(mf)
    print_table()
    print("total %.0f s on %s (%d cores)" % (time.monotonic() - t_start, os.uname().nodename, os.cpu_count()))


if __name__ == "__main__":
    main()
