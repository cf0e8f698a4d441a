#!/usr/bin/env python3
"""Self-test: the modem emulator against the real gammu-smsd 1.42.

  selftest.py [--slow] [--keep] [--gammu-smsd PATH]

Starts the emulator and gammu-smsd in a temporary folder and checks, printing
each step: receiving GSM 7-bit, UCS-2 and 3-part messages; sending from a
UTF-16 outbox file (short and multipart); SIM removal (NOSIM); tty unplug and
replug (DEVICEWRITEERROR / DEVICENOTEXIST, then recovery); SIGTERM stop.
--slow adds the hang checks (about 3 more minutes): `hang on` until the first
(TIMEOUT[14]) line, recovery, and the ZTE MF112 `hang_after_send` bug.
Exit status 0 when every check passed.
"""

import argparse
import os
import select
import sys
import time
import tty

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import gammurig  # noqa: E402
from gammurig import Rig, wait_until  # noqa: E402

NUM = "+33612345678"
T0 = time.monotonic()
FAILS = []


def say(msg):
    print("[%6.1fs] %s" % (time.monotonic() - T0, msg), flush=True)


def check(cond, what):
    if cond:
        say("ok   " + what)
    else:
        say("FAIL " + what)
        FAILS.append(what)
    return cond


def inbox_text(rig, files):
    return [rig.read_inbox(f).decode("utf-8", "replace") for f in files]


def receive(rig, number, text, nfiles=1, encoding="auto", timeout=40):
    known = rig.inbox_files()
    r = rig.emu.inject(number, text, encoding)
    t0 = time.monotonic()
    files = rig.wait_inbox(nfiles, timeout, known=known)
    return r, files, time.monotonic() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--slow", action="store_true", help="also run the hang checks (~3 min more)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--gammu-smsd", help="gammu-smsd binary (default /usr/bin/gammu-smsd)")
    a = ap.parse_args()
    if a.gammu_smsd:
        gammurig.GAMMU_SMSD = a.gammu_smsd

    rig = Rig(keep=a.keep)
    say("work folder %s" % rig.dir)
    try:
        run(rig, a.slow)
    except Exception as e:  # a timeout is a failed check
        check(False, "unexpected %s: %s" % (type(e).__name__, e))
    finally:
        rc, secs, killed = rig.stop_smsd(grace=20)
        if rc is not None:
            check(rc == 0 and not killed, "gammu-smsd stopped on SIGTERM in %.1fs, exit %s" % (secs, rc))
            check("Stopping Gammu smsd" in rig.log_text(), "log says 'Stopping Gammu smsd'")
        rig.stop_emulator()
        check(not os.path.lexists(rig.link) and not os.path.exists(rig.sock),
              "emulator removed its link and socket on SIGTERM")
        if FAILS:
            say("gammu-smsd log tail:\n" + "".join(rig.log_text().splitlines(True)[-25:]))
        rig.keep = rig.keep or bool(FAILS)
        rig.close()
    if FAILS:
        say("%d check(s) FAILED (work folder kept: %s)" % (len(FAILS), rig.dir))
        return 1
    say("all checks passed")
    return 0


class Tty:
    """Talk to the emulator directly, like a terminal would."""

    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(self.fd)

    def close(self):
        os.close(self.fd)

    def read_until(self, pred, timeout):
        buf = b""
        end = time.monotonic() + timeout
        while not pred(buf):
            left = end - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                buf += os.read(self.fd, 4096)
        return buf

    def cmd(self, line, timeout=2.0, raw=False):
        os.write(self.fd, line if raw else line.encode() + b"\r")

        def done(b):
            return any(x in b for x in (b"\r\nOK\r\n", b"ERROR", b"\r\n> "))
        return self.read_until(done, timeout).decode("latin-1")


def pdu_checks():
    """SMS-SUBMIT decoding against hand-made PDUs (no gammu involved)."""
    import smspdu
    d = smspdu.decode_submit("0011000B916407281553F80000AA0AE8329BFD4697D9EC37", 23)
    check(d["number"] == "+46708251358" and d["text"] == "hellohello", "decode 7-bit SUBMIT (textbook PDU)")
    d = smspdu.decode_submit("0011000B916407281553F80004AA03010203", 17)
    check(d["encoding"] == "8bit" and d["data_hex"] == "010203", "decode 8-bit SUBMIT")
    da = smspdu.encode_address("Info").hex()
    d = smspdu.decode_submit("001100" + da + "0008AA04004100E9")
    check(d["number"] == "Info" and d["number_type"] == "alphanumeric" and d["text"] == "A\u00e9",
          "decode UCS-2 SUBMIT to an alphanumeric address")
    ud = smspdu.pack_septets(smspdu.gsm7_encode("hello"), 1).hex()
    d = smspdu.decode_submit("07913306091093F051000B913316325476F80000A00C050003AA0201" + ud, 25)
    check(d["text"] == "hello" and (d["ref"], d["parts"], d["part"], d["fill_bits"]) == (0xAA, 2, 1, 1),
          "decode 7-bit SUBMIT with concatenation UDH and 1 fill bit")
    for txt in ("x" * 160, "x" * 161, "{" * 80, "{" * 81, "\U0001F600" * 35, "\U0001F600" * 36):
        parts = smspdu.build_deliver_pdus("+33612345678", txt)
        back = smspdu.join_parts([smspdu.decode_deliver(h) for h, _, _ in parts])
        if not (len(back) == 1 and back[0]["text"] == txt):
            check(False, "DELIVER round trip of %r" % txt[:10])
    check(True, "DELIVER split/join round trips at the 160/153 and 70/67 limits")


def protocol_checks(rig, emu):
    t = Tty(rig.link)
    try:
        r = t.cmd("AT")
        check(r == "AT\r\r\nOK\r\n", "AT echoed and answered OK")
        check("ERROR" in t.cmd("AT+FOOBAR"), "unknown command -> ERROR")
        r = t.cmd("AT+CMEE=1;+CSQ")
        check("+CSQ: " in r and r.endswith("OK\r\n"), "compound AT+CMEE=1;+CSQ answered")
        emu.check("nosim on")
        check("+CME ERROR: 10" in t.cmd("AT+CPIN?"), "nosim on -> AT+CPIN? answers +CME ERROR: 10")
        emu.check("nosim off")
        check("+CPIN: READY" in t.cmd("AT+CPIN?"), "nosim off -> +CPIN: READY")
        emu.inject("+33611111111", "text mode check")
        check("+CPMS: 1,30,1,30,1,30" in t.cmd('AT+CPMS="SM","SM","SM"'), "AT+CPMS set reports 1 stored SMS")
        t.cmd("AT+CMGF=1")
        r = t.cmd('AT+CMGL="ALL"')
        check('"+33611111111"' in r and "text mode check" in r, "text mode AT+CMGL=\"ALL\" lists the SMS")
        r = t.cmd('AT+CMGS="+33622222222"')
        check(r.endswith("\r\n> "), "text mode AT+CMGS gives the '> ' prompt")
        r = t.cmd(b"hello text mode\x1a", raw=True)
        check("+CMGS: " in r and "OK" in r, "text mode send answered +CMGS")
        s = emu.sent()[-1]
        check(s["number"] == "+33622222222" and s["text"] == "hello text mode", "text mode send recorded")
        t.cmd("AT+CMGF=0")
        r = t.cmd("AT+CMGR=1")
        check("+CMGR: 1,," in r, "AT+CMGR=1 returns the (now read) PDU")
        check("+CMS ERROR: 321" in t.cmd("AT+CMGR=7"), "AT+CMGR of an empty slot -> +CMS ERROR: 321")
        t.cmd("AT+CMGD=1")
        check(emu.status()["stored_sms"] == 0, "AT+CMGD=1 deleted it")
        emu.check("slow 300")
        t0 = time.monotonic()
        r = t.cmd("AT", timeout=3)
        dt = time.monotonic() - t0
        check("OK" in r and 0.28 <= dt < 1.5, "slow 300 delays the answer (%.2fs)" % dt)
        emu.check("slow 0")
        emu.check("hang on")
        check(t.cmd("AT", timeout=0.5) == "", "hang on -> no answer, not even the echo")
        emu.check("hang off")
        emu.check("hang_at AT+CSQ")
        check("OK" in t.cmd("AT") and t.cmd("AT+CSQ", timeout=0.5) == "" and emu.status()["hang"],
              "hang_at AT+CSQ hangs exactly at that command")
        emu.check("hang off")
        check("+CSQ: " in t.cmd("AT+CSQ"), "hang off -> answers again")
        emu.check("clear_sent")
        emu.check("reset_counters")
    finally:
        t.close()


def run(rig, slow):
    emu = rig.start_emulator()
    st = emu.status()
    check(st["plugged"] and os.path.realpath(rig.link) == st["tty"], "emulator READY, %s -> %s" % (rig.link, st["tty"]))
    pdu_checks()
    protocol_checks(rig, emu)
    rig.start_smsd()
    rig.wait_ready(60)
    say("gammu-smsd initialised and polling (%d AT commands so far)" % emu.status()["commands_seen"])

    # --- receiving ---
    text = "Hello from the emulator: @ \u00a3 $ \u00e9 {curly} [sq] \u20ac ~"
    r, files, dt = receive(rig, NUM, text)
    check(r["encoding"] == "gsm7", "GSM 7-bit text injected as gsm7")
    check(len(files) == 1 and files[0].startswith("IN") and "_%s_00.txt" % NUM in files[0],
          "GSM 7-bit SMS received in %.1fs as %s" % (dt, files[0]))
    check(inbox_text(rig, files) == [text], "GSM 7-bit inbox text matches")

    text = "Gr\u00fc\u00dfe \U0001F600 \u65e5\u672c"
    r, files, dt = receive(rig, NUM, text, encoding="ucs2")
    check(r["encoding"] == "ucs2", "UCS-2 text injected as ucs2")
    check(inbox_text(rig, files) == [text], "UCS-2 SMS received in %.1fs, text matches (%s)" % (dt, files[0]))

    long_text = "".join("Part text number %03d. " % i for i in range(20))[:430]
    r, files, dt = receive(rig, NUM, long_text, nfiles=3)
    check(r["parts"] == 3, "430-char text injected as 3 parts with a concatenation UDH")
    files = sorted(files)
    check(len(files) == 3 and [f[-6:-4] for f in files] == ["00", "01", "02"],
          "3-part SMS received in %.1fs as 3 files _00/_01/_02" % dt)
    check("".join(inbox_text(rig, files)) == long_text, "joined parts equal the text")

    r, files, dt = receive(rig, "Vodafone", "alphanumeric sender")
    check("_Vodafone_00.txt" in files[0], "alphanumeric sender file %s" % files[0])
    wait_until(lambda: emu.status()["stored_sms"] == 0, 20, 0.2, "SIM storage emptied")
    check(True, "gammu-smsd deleted every message from the SIM (AT+CMGD)")

    # --- sending ---
    emu.check("clear_sent")
    text = "Grüße 😀 日本 from the outbox"
    name = rig.write_outbox(NUM, text, name="OUTC20250101_120000_00_%s_sms0.txt" % NUM)
    t0 = time.monotonic()
    rig.wait_sent_file(name, 60)
    sent = emu.sent()
    check(len(sent) == 1 and sent[0]["number"] == NUM and sent[0]["number_type"] == "international",
          "outbox file sent in %.1fs to %s" % (time.monotonic() - t0, NUM))
    check(sent and sent[0]["encoding"] == "ucs2" and sent[0]["text"] == text,
          "SMS-SUBMIT decoded: UCS-2, text matches")

    emu.check("clear_sent")
    text = "".join("Outgoing GSM text {%02d} " % i for i in range(12))
    name = rig.write_outbox("0612345678", text, name="OUTC20250101_120001_00_0612345678_sms0.txt")
    rig.wait_sent_file(name, 60)
    sent = emu.sent()
    joined = emu.sent_joined()
    check(len(sent) == 2 and all(s["encoding"] == "gsm7" and "udh" in s for s in sent),
          "long GSM text sent as 2 SMS-SUBMIT with UDH (7-bit, fill bits %s)" % [s.get("fill_bits") for s in sent])
    check(len(joined) == 1 and joined[0]["text"] == text and joined[0]["complete"],
          "parts join to the exact text")
    check(sent and sent[0]["number"] == "0612345678" and sent[0]["number_type"] == "unknown",
          "national number kept as is (TOA %s)" % (sent[0]["toa"] if sent else "?"))

    # --- no SIM ---
    m = rig.mark()
    emu.check("nosim on")
    rig.wait_log(r"\(NOSIM\[49\]\)", 30, since=m)
    check(True, "nosim on -> gammu-smsd logs (NOSIM[49])")
    emu.check("nosim off")
    r, files, dt = receive(rig, NUM, "back with a SIM", timeout=120)
    check(True, "nosim off -> receiving again after %.1fs" % dt)

    # --- unplug / replug ---
    m = rig.mark()
    emu.check("unplug")
    check(not os.path.lexists(rig.link), "unplug removed the link")
    rig.wait_log(r"\(DEVICEWRITEERROR\[11\]\)|\(DEVICENOTEXIST\[4\]\)", 60, since=m)
    check(True, "gammu-smsd logs DEVICEWRITEERROR/DEVICENOTEXIST")
    rig.wait_log(r"\(DEVICENOTEXIST\[4\]\)", 60, since=m)
    check(True, "reconnect attempt logs (DEVICENOTEXIST[4])")
    emu.check("replug")
    check(os.path.lexists(rig.link), "replug recreated the link -> %s" % os.path.realpath(rig.link))
    r, files, dt = receive(rig, NUM, "after replug", timeout=120)
    check(True, "gammu-smsd recovered by itself, SMS received %.1fs after replug" % dt)

    if not slow:
        say("hang checks skipped (use --slow)")
        return

    # --- hang: the next command is AT+CPIN? (idle) ---
    time.sleep(2)
    m = rig.mark()
    emu.check("hang_at AT+CPIN?")
    wait_until(lambda: emu.status()["hang"], 30, 0.2, "hang to start")
    t0 = time.monotonic()
    say("modem hung on AT+CPIN?, waiting for gammu-smsd's first TIMEOUT (~80 s)")
    mt = rig.wait_log(r"^.*\(TIMEOUT\[14\]\)$", 200, since=m)
    check(True, "first TIMEOUT after %.1fs: %s" % (time.monotonic() - t0, mt.group(0)[mt.group(0).find(": ") + 2:]))
    emu.check("hang off")
    r, files, dt = receive(rig, NUM, "after the hang", timeout=200)
    check(True, "hang off -> SMS received %.1fs later" % dt)

    # --- MF112 bug: hang right after a send ---
    emu.check("clear_sent")
    emu.check("hang_after_send on")
    m = rig.mark()
    name = rig.write_outbox(NUM, "this one hangs the modem")
    rig.wait_sent_file(name, 60)
    t0 = time.monotonic()
    check(emu.status()["hang"], "hang_after_send: +CMGS answered, file in sent/, modem now hung")
    rig.wait_log(r"\(TIMEOUT\[14\]\)", 200, since=m)
    check(True, "TIMEOUT %.1fs after the send" % (time.monotonic() - t0))
    emu.check("hang off")
    r, files, dt = receive(rig, NUM, "after the MF112 hang", timeout=200)
    check(True, "recovered, SMS received %.1fs after hang off" % dt)


if __name__ == "__main__":
    sys.exit(main())
