#!/usr/bin/env python3
"""Soak: the real daemon, real mosquitto, real gammu-smsd on the emulated modem
for --minutes (default 60), with an accelerated mix of what a year brings:

  * traffic cycles: received SMS (injected into the SIM) and SMS sent through
    MQTT send_sms requests, each one checked end to end (text on
    <base>/sms/received; "sent" on <base>/sms/sent with its transaction);
  * broker restarts (every other cycle): the daemon reconnects on its own;
  * modem hangs (--hang-every seconds after the end of the previous one; the
    first after the first cycle): `hang_at AT+CPIN?`, gammu-smsd
    logs TIMEOUT after ~84 s, the daemon stops it, rebinds the USB device on a
    fake sysfs tree (a thread plays the kernel and replugs the emulator), starts
    gammu-smsd again; SMS received and sent during the hang come through after.

Every --sample seconds (60; 10 in the short CI variant) it samples the
daemon's fd count (/proc/PID/fd) and memory (VmRSS, RssAnon of
/proc/PID/status); a checkpoint sample is also taken at the end of every cycle,
when nothing is in flight. Samples go to a CSV (--csv) and a table.

Growth fails the run (defined to ignore one-time warm-up and allocator noise):
  * fds: the checkpoint after the last cycle holds more than 2 fds beyond the
    checkpoint after the first cycle. At checkpoints the daemon holds only its
    long-lived fds (broker socket, inotify, log, signalfd...), so the count is
    flat when nothing leaks; 2 allows for an fd opened lazily once.
  * memory: the least-squares slope of RssAnon over the second half of the
    samples exceeds --rss-slope kB/min (default 64 kB/min, i.e. about 4 MB a
    day at this accelerated rate). The first half is warm-up (heap arenas,
    tables grown for a backlog). Needs at least 6 samples in that half.
The daemon must also keep its pid (no crash) the whole time.

Not part of ctest; run by hand:  SMS_SENTINEL=build-x/sms-sentinel tests/soak/soak.py --minutes 60
The ~3 minute CI variant is tests/integration/slow_soak_short.py."""

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from harness import SMS_SENTINEL, Env, fake_sysfs, log, read, wait_until  # noqa: E402

RECOVERY = """[recovery]
threshold = 1
methods = rebind
usb_device = 1-1.2
sysfs_root = {sysfs}
settle_timeout = 20
verify_timeout = 10
cooldown = 1
max_per_hour = 60
[sms]
max_per_hour = 3600
"""
FD_SLACK = 2
RSS_SLOPE_SHORT = 256  # kB/min: 90 s of second half is noisier than an hour


def play_kernel(sysfs, dev, emu, stop, log_events):
    """Reacts to every write to unbind/bind as the kernel and the stick would:
    the tty vanishes on unbind (the emulator is unplugged and un-hung) and comes
    back on bind. The files are emptied after each, so the next one is seen."""
    unbind = os.path.join(sysfs, "bus/usb/drivers/usb/unbind")
    bind = os.path.join(sysfs, "bus/usb/drivers/usb/bind")
    tty = os.path.join(dev, "1-1.2:1.0", "ttyUSB0")
    while not stop.is_set():
        if read(unbind).strip() == "1-1.2":
            open(unbind, "w").close()
            log_events.append("unbind")
            shutil.rmtree(tty, ignore_errors=True)
            emu.cmd("unplug")
            emu.cmd("hang_at off")
            emu.cmd("hang off")
        if read(bind).strip() == "1-1.2":
            open(bind, "w").close()
            log_events.append("bind")
            time.sleep(1.5)  # re-enumeration takes a moment
            emu.cmd("replug")
            os.makedirs(tty, exist_ok=True)
        time.sleep(0.02)


def proc_sample(pid):
    fds = len(os.listdir("/proc/%d/fd" % pid))
    fields = {}
    for line in read("/proc/%d/status" % pid).splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon"):
            fields[key] = int(value.split()[0])
    return fds, fields["VmRSS"], fields["RssAnon"]


class Sampler:
    """Samples the daemon every interval seconds in a thread; checkpoint() adds one now."""

    def __init__(self, pid, interval):
        self.pid, self.interval, self.t0 = pid, interval, time.monotonic()
        self.rows, self.lock, self.stop_ev = [], threading.Lock(), threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def take(self, kind, label=""):
        fds, rss, anon = proc_sample(self.pid)
        row = {"t_s": round(time.monotonic() - self.t0, 1), "kind": kind, "label": label, "fds": fds,
               "rss_kb": rss, "anon_kb": anon}
        with self.lock:
            self.rows.append(row)
        return row

    def checkpoint(self, label):
        return self.take("checkpoint", label)

    def _run(self):
        while not self.stop_ev.wait(self.interval):
            try:
                self.take("periodic")
            except (OSError, KeyError):
                return  # the daemon is gone; the main loop notices

    def stop(self):
        self.stop_ev.set()
        self.thread.join()


def slope_kb_per_min(rows):
    """Least-squares slope of anon_kb over t_s, in kB per minute."""
    n = len(rows)
    mt = sum(r["t_s"] for r in rows) / n
    ma = sum(r["anon_kb"] for r in rows) / n
    var = sum((r["t_s"] - mt) ** 2 for r in rows)
    cov = sum((r["t_s"] - mt) * (r["anon_kb"] - ma) for r in rows)
    return cov / var * 60 if var else 0.0


def asan_build(path):
    """ASan keeps freed memory in a quarantine of up to 256 MB, so RSS grows by
    design there: only fds are judged for such a binary."""
    with open(path, "rb") as f:
        return b"__asan_init" in f.read()


def judge(rows, rss_slope_limit):
    """Returns (problems, summary) for the samples (see the module comment);
    rss_slope_limit None: memory is reported, not judged."""
    problems = []
    checks = [r for r in rows if r["kind"] == "checkpoint"]
    first, last = checks[0], checks[-1]
    if last["fds"] > first["fds"] + FD_SLACK:
        problems.append("fd count grew from %d (after the first cycle) to %d (after the last)"
                        % (first["fds"], last["fds"]))
    half = rows[len(rows) // 2:]
    slope = slope_kb_per_min(half) if len(half) >= 6 else None
    if slope is not None and rss_slope_limit is not None and slope > rss_slope_limit:
        problems.append("RssAnon grows %.1f kB/min over the second half (limit %d)" % (slope, rss_slope_limit))
    summary = ("fds %d -> %d (max %d); RssAnon %d -> %d kB (max %d), VmRSS %d -> %d kB; second-half slope %s"
               % (first["fds"], last["fds"], max(r["fds"] for r in rows), rows[0]["anon_kb"], rows[-1]["anon_kb"],
                  max(r["anon_kb"] for r in rows), rows[0]["rss_kb"], rows[-1]["rss_kb"],
                  "%.1f kB/min" % slope if slope is not None else "n/a (too few samples)"))
    return problems, summary


def write_table(rows, csv_path):
    keys = ["t_s", "kind", "label", "fds", "rss_kb", "anon_kb"]
    if csv_path:
        with open(csv_path, "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=keys)
            w.writeheader()
            w.writerows(rows)
    print("%8s  %-10s  %-14s %4s %8s %8s" % tuple(keys))
    for r in rows:
        print("%8.1f  %-10s  %-14s %4d %8d %8d" % (r["t_s"], r["kind"], r["label"], r["fds"], r["rss_kb"],
                                                   r["anon_kb"]))


class Rig:
    """The running system and the bookkeeping of what went in and came out."""

    def __init__(self, env):
        self.env = env
        self.broker = env.broker(persistent=True)
        self.sub = env.subscribe(self.broker.port, "sms-sentinel/test/#", args=("-q", "1", "-c", "-i", "soak-sub"))
        self.sysfs = os.path.join(env.dir, "sys")
        dev = fake_sysfs(self.sysfs)
        self.emu = env.emulator()
        self.smsd = env.start_smsd(env.smsd(self.emu.link))
        self.daemon = env.start_daemon(env.daemon(self.broker.port, self.smsd, RECOVERY.format(sysfs=self.sysfs)))
        self.stop_kernel, self.kernel_events = threading.Event(), []
        self.kernel = threading.Thread(target=play_kernel, args=(self.sysfs, dev, self.emu, self.stop_kernel,
                                                                 self.kernel_events), daemon=True)
        self.kernel.start()
        wait_until(lambda: self.count("/availability", lambda p: p == "online"), 15, "availability online")
        wait_until(lambda: "Starting phone communication" in self.smsd.log(), 30, "gammu-smsd init")
        self.texts, self.transactions, self.serial = set(), set(), 0
        self.recoveries = self.broker_restarts = 0

    def messages(self, suffix):
        with self.sub.lock:
            return [p for t, p in self.sub.messages if t.endswith(suffix)]

    def count(self, suffix, pred=lambda p: True):
        return sum(1 for p in self.messages(suffix) if pred(p))

    def jsons(self, suffix):
        out = []
        for p in self.messages(suffix):
            try:
                out.append(json.loads(p))
            except ValueError:
                pass
        return out

    def traffic(self, label, received=5, sent=3):
        """Injects `received` SMS and requests `sent` sends; returns at once."""
        for _ in range(received):
            self.serial += 1
            text = "soak %s r%d" % (label, self.serial)
            r = self.emu.client.inject("+3361%07d" % self.serial, text)
            assert r.get("ok"), r
            self.texts.add(text)
        for _ in range(sent):
            self.serial += 1
            tr = "soak-%s-s%d" % (label, self.serial)
            payload = json.dumps({"number": "+3362%07d" % self.serial, "text": "soak send %s" % tr,
                                  "transaction": tr})
            subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.broker.port), "-q", "1", "-t",
                            "sms-sentinel/test/request/send_sms", "-m", payload], check=True, timeout=10)
            self.transactions.add(tr)
        # The request is the daemon's once it answered ok (durably queued); one still
        # in the broker when it stops is gone (the daemon's session is clean).
        wait_until(lambda: self.transactions <= {r.get("transaction") for r in self.jsons("/response/send_sms")
                                                 if r.get("status") == "ok"}, 60, "ok responses", interval=0.1)

    def delivered(self):
        got = {m.get("text") for m in self.jsons("/sms/received")}
        sent = {m.get("transaction") for m in self.jsons("/sms/sent") if m.get("status") == "sent"}
        return self.texts <= got and self.transactions <= sent

    def wait_delivered(self, timeout, what):
        try:
            wait_until(self.delivered, timeout, what, interval=0.2)
        except AssertionError:
            got = {m.get("text") for m in self.jsons("/sms/received")}
            sent = {m.get("transaction") for m in self.jsons("/sms/sent")}
            log("missing received: %s; missing outcomes: %s; failed: %s"
                % (sorted(self.texts - got)[:5], sorted(self.transactions - sent)[:5],
                   [m for m in self.jsons("/sms/sent") if m.get("status") != "sent"][:3]))
            raise

    def restart_broker(self):
        online = self.count("/availability", lambda p: p == "online")
        self.broker.stop()
        time.sleep(2)
        self.broker.start()
        wait_until(lambda: self.count("/availability", lambda p: p == "online") > online, 90,
                   "the daemon online again after the broker restart")
        self.broker_restarts += 1

    def hang(self, label):
        """Hangs the modem, queues traffic meanwhile, waits for the recovery."""
        done = self.count("/event", lambda p: '"recovered"' in p or '"failed"' in p)
        self.emu.client.check("hang_at AT+CPIN?")
        self.traffic(label)
        wait_until(lambda: self.count("/event", lambda p: '"recovered"' in p or '"failed"' in p) > done, 400,
                   "the end of recovery %d" % (self.recoveries + 1), interval=0.5)
        ev = [e for e in self.jsons("/event") if e.get("event") in ("recovered", "failed")][-1]
        assert ev["event"] == "recovered", ev
        self.recoveries += 1


def run(minutes, sample_s, hang_every_s, rss_slope_limit, csv_path=None):
    """The soak; raises AssertionError on a failure. Returns the summary line."""
    with Env("soak") as env:
        rig = Rig(env)
        pid = rig.daemon.proc.p.pid
        sampler = Sampler(pid, sample_s)
        t0 = time.monotonic()
        end = t0 + minutes * 60
        next_hang = t0 + min(hang_every_s, 20)  # the first hang comes after the first cycle
        cycle = 0
        try:
            while cycle < 2 or time.monotonic() < end:
                cycle += 1
                label = "c%d" % cycle
                if cycle > 1 and time.monotonic() >= next_hang:
                    log("cycle %d: modem hang" % cycle)
                    rig.hang(label)
                    next_hang = time.monotonic() + hang_every_s
                    label += "-hang"
                else:
                    rig.traffic(label)
                    if cycle % 2 == 0:
                        rig.restart_broker()
                        label += "-broker"
                rig.wait_delivered(300, "the SMS of cycle %d" % cycle)
                assert rig.daemon.proc.alive() and rig.daemon.proc.p.pid == pid, "the daemon died"
                row = sampler.checkpoint(label)
                log("cycle %d done (%s): %d SMS received, %d sent, %d recoveries; fds %d, RssAnon %d kB"
                    % (cycle, label, len(rig.texts), len(rig.transactions), rig.recoveries, row["fds"],
                       row["anon_kb"]))
        finally:
            sampler.stop()
            rig.stop_kernel.set()
            write_table(sampler.rows, csv_path)
        if asan_build(SMS_SENTINEL):
            log("ASan build: memory growth reported, not judged")
            rss_slope_limit = None
        problems, summary = judge(sampler.rows, rss_slope_limit)
        line = ("soak: %.1f min, %d cycles, %d SMS received, %d sent over MQTT, %d broker restarts, %d hang "
                "recoveries; %s" % ((time.monotonic() - t0) / 60, cycle, len(rig.texts), len(rig.transactions),
                                    rig.broker_restarts, rig.recoveries, summary))
        print(line)
        assert rig.recoveries > 0, "no hang happened: run longer"
        assert not problems, "; ".join(problems)
        return line


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--sample", type=float, default=60, help="seconds between samples")
    ap.add_argument("--hang-every", type=float, default=300, help="seconds from the end of a hang to the next")
    ap.add_argument("--rss-slope", type=float, default=64, help="kB/min of RssAnon growth that fails")
    ap.add_argument("--csv", default="soak-samples.csv")
    args = ap.parse_args()
    run(args.minutes, args.sample, args.hang_every, args.rss_slope, args.csv)
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
