#!/usr/bin/env python3
"""Benchmark: counted gammu error line appended to the log -> recovery decision
(the recovery_started event as a subscriber sees it), over many runs, beside a
baseline measured in the same run: a cron-style checker that greps the log
every 60 s (what the seed system did), run for real on a few samples.

Usage: bench/reaction.py [--runs N] [--cron-runs M]  (SMS_SENTINEL=path to the binary)
Prints medians, p99 and the ratio. Numbers depend on the machine; compare ratios."""

import argparse
import os
import random
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from harness import Env, wait_until  # noqa: E402

LINE = "Sun 2026/12/06 18:01:28 gammu-smsd[4242]: Error at init connection: x (TIMEOUT[14])\n"


def percentile(values, p):
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(p / 100.0 * (len(values) - 1)))))
    return values[k]


def sentinel_samples(runs):
    samples = []
    with Env("bench-reaction") as env:
        broker = env.broker()
        for i in range(runs):
            sub = env.subscribe(broker.port, "sms-sentinel/test/#")
            smsd = env.smsd(os.path.join(env.dir, "no-modem"))
            if os.path.exists(smsd.logfile):
                os.unlink(smsd.logfile)
            d = env.daemon(broker.port, smsd, "[recovery]\nthreshold = 1\nmethods = restart_smsd\n",
                           smsd_extra="start_command = true\n")
            env.start_daemon(d, "-q")
            wait_until(lambda: sub.find("/availability", lambda p: p == "online"), 15, "online")
            time.sleep(0.05)
            t0 = time.monotonic()
            with open(smsd.logfile, "a") as f:
                f.write(LINE)
            wait_until(lambda: sub.json_matching("/event", lambda e: e.get("event") == "recovery_started"), 10,
                       "recovery_started", interval=0.0005)
            samples.append((time.monotonic() - t0) * 1000)
            d.proc.stop()
            env.procs.remove(d.proc)
            sub.stop()
            env.subs.remove(sub)
    return samples


def cron_samples(runs, period=60.0):
    """A real poller: every period seconds, grep -c the log for the error tag."""
    samples = []
    path = "/tmp/bench-cron-%d.log" % os.getpid()
    for _ in range(runs):
        open(path, "w").close()
        phase = random.uniform(0, period)
        written = threading.Event()
        t_write = [0.0]

        def writer():
            time.sleep(phase)
            t_write[0] = time.monotonic()
            with open(path, "a") as f:
                f.write(LINE)
            written.set()
        threading.Thread(target=writer, daemon=True).start()
        while True:
            time.sleep(period)
            r = subprocess.run(["grep", "-cE", r"\((TIMEOUT|DEVICEOPENERROR|DEVICENOTEXIST)\[[0-9]+\]\)$", path],
                               capture_output=True, text=True)
            if r.stdout.strip() not in ("", "0"):
                samples.append((time.monotonic() - t_write[0]) * 1000)
                break
    os.unlink(path)
    return samples


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--cron-runs", type=int, default=3)
    a = ap.parse_args()
    s = sentinel_samples(a.runs)
    c = cron_samples(a.cron_runs)
    ms, mc = statistics.median(s), statistics.median(c)
    print("%-34s %8s %8s %8s" % ("error line -> recovery decision", "n", "p50 ms", "p99 ms"))
    print("%-34s %8d %8.2f %8.2f" % ("sms-sentinel (inotify, MQTT hop)", len(s), ms, percentile(s, 99)))
    print("%-34s %8d %8.0f %8.0f" % ("cron-style grep every 60 s", len(c), mc, percentile(c, 99)))
    print("ratio of medians (cron / sms-sentinel): %.0fx" % (mc / ms))


if __name__ == "__main__":
    main()
