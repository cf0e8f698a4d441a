#!/usr/bin/env python3
"""Record real gammu-smsd log files for the classifier's table tests.

Runs every scenario twice (DebugLevel 0 and 1) against the modem emulator,
all in parallel, and copies gammu-smsd's own logfile (not the libgammu debug
log) unedited to OUT/<scenario>.dl<N>.log.  Prints a JSON summary of the
measured timings and exit codes.

  collect_logs.py [--out DIR] [--only NAME[,NAME...]] [--levels 0,1] [--list]

The longest scenarios (hangs) take 6-15 minutes of wall time.
"""

import argparse
import concurrent.futures
import json
import os
import shutil
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from gammurig import Rig, wait_until  # noqa: E402

DEFAULT_OUT = os.path.normpath(os.path.join(HERE, "..", "fixtures", "gammu-logs"))
NUM = "+33612345678"
SLEEP30 = r"Going to 30 seconds sleep"


def t(rig):
    return round(time.monotonic() - rig.smsd_started_at, 1)


def started(rig, note, pre=()):
    rig.start_emulator()
    for c in pre:
        rig.emu.check(c)
    rig.start_smsd()
    rig.wait_ready(60)
    note["ready_s"] = t(rig)


def stop(rig, note, grace=15.0):
    rc, secs, killed = rig.stop_smsd(grace=grace)
    note["exit_status"] = rc
    note["stop_s"] = round(secs, 1)
    note["sigkill"] = killed


def recover_check(rig, note, timeout=240):
    """After a fault ends: inject an SMS and wait until gammu-smsd stores it."""
    known = rig.inbox_files()
    t0 = time.monotonic()
    rig.emu.inject(NUM, "recovered?")
    rig.wait_inbox(1, timeout, known=known)
    note["recovered_after_s"] = round(time.monotonic() - t0, 1)


# --- scenarios -------------------------------------------------------------

def sc_start_stop(rig, note):
    """Normal start, 10 s of idle polling, SIGTERM."""
    started(rig, note)
    time.sleep(10)
    stop(rig, note)


def sc_sms_received(rig, note):
    """GSM 7-bit, UCS-2, 3-part, alphanumeric and national senders received."""
    started(rig, note)
    rig.emu.inject(NUM, "Hello from the emulator @ {ok}")
    rig.emu.inject(NUM, "Gr\u00fc\u00dfe \U0001F600 \u65e5\u672c")
    rig.emu.inject(NUM, ("Long message part text. " * 20)[:420])
    rig.emu.inject("Vodafone", "Alphanumeric sender")
    rig.emu.inject("0612345678", "National sender")
    rig.wait_inbox(7, 60)
    time.sleep(2)
    stop(rig, note)


def sc_sms_sent(rig, note):
    """One short UTF-16 outbox file, then a long one (multipart)."""
    started(rig, note)
    n1 = rig.write_outbox(NUM, "Short message \u00e9t\u00e9 \U0001F600")
    rig.wait_sent_file(n1, 60)
    n2 = rig.write_outbox("+33698765432", "Long outgoing message. " * 12,
                          name="OUTC%s_01_+33698765432_sms0.txt" % time.strftime("%Y%m%d_%H%M%S"))
    rig.wait_sent_file(n2, 60)
    time.sleep(2)
    stop(rig, note)


def sc_hang_idle(rig, note):
    """Modem stops answering while gammu-smsd is idle (next command AT+CPIN?),
    until 'Going to 30 seconds sleep'; then it answers again."""
    started(rig, note)
    time.sleep(3)
    m = rig.mark()
    rig.emu.check("hang_at AT+CPIN?")
    wait_until(lambda: rig.emu.status()["hang"], 30, 0.2, "hang to start")
    t0 = time.monotonic()
    rig.wait_log(r"\(TIMEOUT\[14\]\)", 400, since=m)
    note["first_timeout_s"] = round(time.monotonic() - t0, 1)
    rig.wait_log(SLEEP30, 900, since=m)
    note["sleep30_s"] = round(time.monotonic() - t0, 1)
    rig.emu.check("hang off")
    recover_check(rig, note)
    stop(rig, note)


def sc_hang_poll(rig, note):
    """Modem stops answering an AT+CPMS poll (200 s timeout, sent twice):
    the worst case, until the first TIMEOUT and two more errors."""
    started(rig, note)
    time.sleep(3)
    m = rig.mark()
    rig.emu.check('hang_at AT+CPMS="SM"')
    wait_until(lambda: rig.emu.status()["hang"], 30, 0.2, "hang to start")
    t0 = time.monotonic()
    rig.wait_log(r"\(TIMEOUT\[14\]\)", 900, since=m)
    note["first_timeout_s"] = round(time.monotonic() - t0, 1)
    rig.wait_log(r"Already hit 3 errors", 900, since=m)
    note["three_errors_s"] = round(time.monotonic() - t0, 1)
    rig.emu.check("hang off")
    recover_check(rig, note)
    stop(rig, note)


def sc_hang_after_send(rig, note):
    """The ZTE MF112 bug: the modem answers +CMGS then never again.
    Ends with SIGTERM while hung (grace 300 s, then SIGKILL)."""
    started(rig, note)
    rig.emu.check("hang_after_send on")
    n = rig.write_outbox(NUM, "This SMS hangs the modem")
    rig.wait_sent_file(n, 60)
    m = rig.mark()
    t0 = time.monotonic()
    rig.wait_log(r"\(TIMEOUT\[14\]\)", 900, since=m)
    note["first_timeout_s"] = round(time.monotonic() - t0, 1)
    rig.wait_log(SLEEP30, 900, since=m)
    note["sleep30_s"] = round(time.monotonic() - t0, 1)
    time.sleep(5)
    stop(rig, note, grace=300)


def sc_hang_during_send(rig, note):
    """The modem swallows AT+CMGS (no '> ' prompt); answers again after the
    first error; the message is then sent again."""
    started(rig, note)
    rig.emu.check("hang_at AT+CMGS")
    m = rig.mark()
    n = rig.write_outbox(NUM, "Sent while the modem hangs")
    wait_until(lambda: rig.emu.status()["hang"], 60, 0.2, "hang to start")
    t0 = time.monotonic()
    rig.wait_log(r"\(TIMEOUT\[14\]\)", 600, since=m)
    note["first_timeout_s"] = round(time.monotonic() - t0, 1)
    rig.emu.check("hang off")
    rig.wait_sent_file(n, 300)
    note["sent_after_s"] = round(time.monotonic() - t0, 1)
    note["submits_seen"] = len(rig.emu.sent())
    time.sleep(2)
    stop(rig, note)


def sc_unplug_replug(rig, note):
    """tty removed (USB unplug), back 70 s later."""
    started(rig, note)
    time.sleep(3)
    m = rig.mark()
    t0 = time.monotonic()
    rig.emu.check("unplug")
    rig.wait_log(r"DEVICENOTEXIST", 120, since=m)
    note["devicenotexist_s"] = round(time.monotonic() - t0, 1)
    rig.wait_log(SLEEP30, 120, since=m)
    time.sleep(max(0, 70 - (time.monotonic() - t0)))
    rig.emu.check("replug")
    recover_check(rig, note)
    stop(rig, note)


def sc_nosim_running(rig, note):
    """SIM removed while running (AT+CPIN? -> +CME ERROR: 10), back later."""
    started(rig, note)
    time.sleep(3)
    m = rig.mark()
    rig.emu.check("nosim on")
    rig.wait_log(SLEEP30, 120, since=m)
    time.sleep(10)
    rig.emu.check("nosim off")
    recover_check(rig, note)
    stop(rig, note)


def sc_nosim_at_start(rig, note):
    """No SIM from the start."""
    rig.start_emulator()
    rig.emu.check("nosim on")
    rig.start_smsd()
    rig.wait_log(SLEEP30, 120)
    rig.wait_log(r"(?s)%s.*Starting phone communication" % SLEEP30, 120)
    time.sleep(10)
    stop(rig, note)


def sc_device_missing(rig, note):
    """Device path does not exist at start (never appears)."""
    rig.start_smsd()
    rig.wait_log(r"(?s)%s.*%s" % (SLEEP30, SLEEP30), 120)
    stop(rig, note)


def sc_device_busy(rig, note):
    """Device exists but another process holds flock() on it (ModemManager-like)."""
    rig.start_emulator()
    rig.emu.check("busy on")
    rig.start_smsd()
    p = rig.smsd_proc
    p.wait(60)
    note["exit_status"] = p.returncode
    note["exited_by_itself"] = True
    rig.smsd_proc = None


def sc_device_not_tty(rig, note):
    """Device is not a tty (/dev/null): tcgetattr fails."""
    rig.start_smsd()
    p = rig.smsd_proc
    p.wait(60)
    note["exit_status"] = p.returncode
    note["exited_by_itself"] = True
    rig.smsd_proc = None


SCENARIOS = [
    ("start-stop", sc_start_stop, {}),
    ("sms-received", sc_sms_received, {}),
    ("sms-sent", sc_sms_sent, {}),
    ("hang-idle", sc_hang_idle, {}),
    ("hang-poll", sc_hang_poll, {}),
    ("hang-after-send", sc_hang_after_send, {}),
    ("hang-during-send", sc_hang_during_send, {}),
    ("unplug-replug", sc_unplug_replug, {}),
    ("nosim-running", sc_nosim_running, {}),
    ("nosim-at-start", sc_nosim_at_start, {}),
    ("device-missing", sc_device_missing, {"device": "/nonexistent/ttyUSB-sms-sentinel"}),
    ("device-busy", sc_device_busy, {}),
    ("device-not-tty", sc_device_not_tty, {"device": "/dev/null"}),
]


def run_one(name, func, opts, level, out, base):
    wd = tempfile.mkdtemp(prefix="%s.dl%d." % (name, level), dir=base)
    note = {"scenario": name, "debuglevel": level, "doc": func.__doc__.strip()}
    t0 = time.monotonic()
    rig = Rig(workdir=wd, debuglevel=level, device=opts.get("device"))
    try:
        func(rig, note)
        note["ok"] = True
    except Exception as e:
        note["ok"] = False
        note["error"] = "%s: %s" % (type(e).__name__, e)
        note["traceback"] = traceback.format_exc()
    finally:
        try:
            rig.close()
        except Exception as e:
            note.setdefault("close_error", str(e))
    note["wall_s"] = round(time.monotonic() - t0, 1)
    dest = os.path.join(out, "%s.dl%d.log" % (name, level))
    if os.path.exists(rig.log):
        shutil.copyfile(rig.log, dest)
        note["file"] = os.path.basename(dest)
    note["workdir"] = wd
    return note


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--only", default="")
    ap.add_argument("--levels", default="0,1")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the work folders")
    a = ap.parse_args(argv)
    if a.list:
        for name, func, _ in SCENARIOS:
            print("%-18s %s" % (name, func.__doc__.strip().splitlines()[0]))
        return 0
    only = set(x for x in a.only.split(",") if x)
    levels = [int(x) for x in a.levels.split(",")]
    os.makedirs(a.out, exist_ok=True)
    base = tempfile.mkdtemp(prefix="gammu-logs-")
    jobs = [(n, f, o, lv) for n, f, o in SCENARIOS if not only or n in only for lv in levels]
    results = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(jobs) or 1) as ex:
        futs = [ex.submit(run_one, n, f, o, lv, a.out, base) for n, f, o, lv in jobs]
        for fu in concurrent.futures.as_completed(futs):
            r = fu.result()
            results.append(r)
            sys.stderr.write("%-18s dl%d %s %.0fs\n" % (r["scenario"], r["debuglevel"],
                             "ok" if r["ok"] else "FAILED " + r.get("error", ""), r["wall_s"]))
    if not a.keep:
        shutil.rmtree(base, ignore_errors=True)
    results.sort(key=lambda r: (r["scenario"], r["debuglevel"]))
    for r in results:
        r.pop("workdir", None)
        if r["ok"]:
            r.pop("traceback", None)
    print(json.dumps(results, indent=1, ensure_ascii=False))
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
