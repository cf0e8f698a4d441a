"""Test rig: the modem emulator plus a real gammu-smsd in a temporary folder.

Python 3 standard library only.  Used by selftest.py and collect_logs.py, and
meant for the project's integration tests:

    from gammurig import Rig
    with Rig(debuglevel=1) as rig:
        rig.start_emulator()
        rig.start_smsd()
        rig.wait_ready()                       # first AT+CPMS poll answered
        rig.emu.inject("+33612345678", "hello")
        files = rig.wait_inbox(1)
        ...

Everything lives in rig.dir (a mkdtemp folder unless given):
  modem (symlink to the pty), emu.sock, emulator.log, smsdrc, smsd.log,
  inbox/ outbox/ sent/ error/, smsd.stdout.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from emuctl import EmuClient  # noqa: E402

EMULATOR = os.path.join(HERE, "modem_emulator.py")
GAMMU_SMSD = os.environ.get("GAMMU_SMSD", "/usr/bin/gammu-smsd")

# The [smsd] settings that make gammu-smsd 1.42 react fastest against the
# emulator (see README.md for why each one matters).
FAST_SMSD = [
    ("service", "files"),
    ("debuglevel", "1"),
    ("inboxformat", "standard"),
    ("transmitformat", "auto"),
    ("commtimeout", "1"),
    ("receivefrequency", "5"),
    ("loopsleep", "1"),
    ("statusfrequency", "0"),
    ("checksecurity", "1"),
    ("checkbattery", "0"),
    ("checksignal", "0"),
    ("checknetwork", "0"),
]


def wait_until(pred, timeout, interval=0.1, what="condition"):
    """Poll pred() until it returns a true value; return it or raise."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= end:
            raise TimeoutError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


class Rig:
    def __init__(self, workdir=None, debuglevel=1, smsd=None, device=None,
                 keep=False, own_number="+33600000000"):
        self.dir = os.path.abspath(workdir) if workdir else tempfile.mkdtemp(prefix="emu-rig-")
        os.makedirs(self.dir, exist_ok=True)
        self.keep = keep or bool(workdir)
        self.link = os.path.join(self.dir, "modem")
        self.sock = os.path.join(self.dir, "emu.sock")
        self.emulog = os.path.join(self.dir, "emulator.log")
        self.rc = os.path.join(self.dir, "smsdrc")
        self.log = os.path.join(self.dir, "smsd.log")
        self.inbox = os.path.join(self.dir, "inbox")
        self.outbox = os.path.join(self.dir, "outbox")
        self.sentdir = os.path.join(self.dir, "sent")
        self.errordir = os.path.join(self.dir, "error")
        for d in (self.inbox, self.outbox, self.sentdir, self.errordir):
            os.makedirs(d, exist_ok=True)
        self.device = device or self.link
        self.own_number = own_number
        settings = dict(FAST_SMSD)
        settings["debuglevel"] = str(debuglevel)
        for k, v in (smsd or {}).items():
            settings[k.lower()] = str(v)
        self.smsd_settings = settings
        self.emu_proc = None
        self.smsd_proc = None
        self.emu = None
        self.smsd_started_at = None
        self.write_rc()

    # --- config ---
    def write_rc(self):
        lines = ["[gammu]", "device = %s" % self.device, "connection = at", "",
                 "[smsd]"]
        paths = {"inboxpath": self.inbox + "/", "outboxpath": self.outbox + "/",
                 "sentsmspath": self.sentdir + "/", "errorsmspath": self.errordir + "/",
                 "logfile": self.log}
        for k, v in self.smsd_settings.items():
            lines.append("%s = %s" % (k, v))
        for k, v in paths.items():
            lines.append("%s = %s" % (k, v))
        with open(self.rc, "w") as f:
            f.write("\n".join(lines) + "\n")

    # --- processes ---
    def start_emulator(self, timeout=10):
        self.emu_out = open(os.path.join(self.dir, "emulator.stdout"), "w+")
        self.emu_proc = subprocess.Popen(
            [sys.executable, EMULATOR, "--link", self.link, "--control", self.sock,
             "--own-number", self.own_number, "--log", self.emulog],
            stdout=subprocess.PIPE, stderr=self.emu_out, text=True)
        line = self.emu_proc.stdout.readline()  # blocks until READY or exit
        if line.strip() != "READY":
            raise RuntimeError("emulator did not start: %r (see %s)" % (line, self.emu_out.name))
        self.emu = EmuClient(self.sock)
        return self.emu

    def start_smsd(self, extra_args=()):
        env = dict(os.environ)
        env.setdefault("LANG", "C.UTF-8")
        env["LC_ALL"] = env.get("LC_ALL") or "C.UTF-8"
        self.smsd_out = open(os.path.join(self.dir, "smsd.stdout"), "a")
        self.smsd_started_at = time.monotonic()
        self.smsd_proc = subprocess.Popen([GAMMU_SMSD, "-c", self.rc] + list(extra_args),
                                          stdout=self.smsd_out, stderr=subprocess.STDOUT,
                                          env=env)
        return self.smsd_proc

    def stop_smsd(self, grace=15.0, sig=signal.SIGTERM):
        """SIGTERM (then SIGKILL after grace s). Returns (returncode, seconds, killed)."""
        p = self.smsd_proc
        if p is None:
            return None, 0.0, False
        t0 = time.monotonic()
        killed = False
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(grace)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                killed = True
        self.smsd_proc = None
        return p.returncode, time.monotonic() - t0, killed

    def stop_emulator(self):
        if self.emu is not None:
            self.emu.close()
            self.emu = None
        p = self.emu_proc
        if p is not None:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
            p.stdout.close()
            self.emu_proc = None
        return p.returncode if p else None

    def close(self):
        self.stop_smsd(grace=5)
        self.stop_emulator()
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- gammu-smsd log ---
    def log_text(self):
        try:
            with open(self.log, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def mark(self):
        """Current log size: pass to wait_log(since=...) to look only at new lines."""
        try:
            return os.path.getsize(self.log)
        except FileNotFoundError:
            return 0

    def wait_log(self, pattern, timeout, since=0, interval=0.2):
        """Wait for a regex in the gammu-smsd log (after byte offset since)."""
        rx = re.compile(pattern, re.M)

        def look():
            try:
                with open(self.log, "rb") as f:
                    f.seek(since)
                    data = f.read().decode("utf-8", "replace")
            except FileNotFoundError:
                return None
            return rx.search(data)
        return wait_until(look, timeout, interval, "log line /%s/" % pattern)

    def wait_ready(self, timeout=30):
        """gammu-smsd finished init and polls the SIM (first AT+CPMS answered)."""
        return wait_until(lambda: self.emu.status()["commands"].get("AT+CPMS=", 0) > 0
                          or self._smsd_dead(), timeout, 0.2, "first AT+CPMS poll")

    def _smsd_dead(self):
        if self.smsd_proc is not None and self.smsd_proc.poll() is not None:
            raise RuntimeError("gammu-smsd exited with %s" % self.smsd_proc.returncode)
        return False

    # --- spool ---
    def inbox_files(self):
        return sorted(f for f in os.listdir(self.inbox) if f.startswith("IN"))

    def wait_inbox(self, count, timeout=30, known=()):
        known = set(known)
        return wait_until(lambda: (lambda l: l if len(l) >= count else None)(
            [f for f in self.inbox_files() if f not in known]), timeout, 0.2,
            "%d new inbox file(s)" % count)

    def read_inbox(self, name):
        with open(os.path.join(self.inbox, name), "rb") as f:
            return f.read()

    def write_outbox(self, number, text, name=None):
        """Atomically write a UTF-16 (BOM) outbox file; returns its name."""
        if name is None:
            name = "OUTC%s_00_%s_sms0.txt" % (time.strftime("%Y%m%d_%H%M%S"), number)
        tmp = os.path.join(self.outbox, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(b"\xff\xfe" + text.encode("utf-16-le"))
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, os.path.join(self.outbox, name))
        return name

    def wait_sent_file(self, name, timeout=30):
        return wait_until(lambda: os.path.exists(os.path.join(self.sentdir, name)),
                          timeout, 0.2, "%s in sent folder" % name)
