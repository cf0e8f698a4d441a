"""Outbox files written by src/outbox.c are sent correctly by the real
gammu-smsd 1.42 on the modem emulator: exact text for ASCII, non-GSM text and
400-character GSM and UCS-2 texts (one file -> concatenated parts), the flags d (status
report request) and f (class 0 flash), several recipients from one request;
each file ends in the sent folder under the same name, and the number of
parts gammu sends equals what sms_length predicted.

The files are queued through the test_outbox unit-test binary in its driver
mode (test_outbox --queue DIR JSON): the real validation + outbox code."""

import json
import os
import subprocess
import sys

SRC_DIR = os.environ.get("SRC_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
sys.path.insert(0, os.path.join(SRC_DIR, "tests", "emulator"))
from gammurig import Rig, wait_until  # noqa: E402

BUILD_DIR = os.path.dirname(os.environ.get("SMS_SENTINEL", os.path.join(SRC_DIR, "build", "sms-sentinel")))
DRIVER = os.environ.get("TEST_OUTBOX", os.path.join(BUILD_DIR, "tests", "test_outbox"))

LONG = ("Long text, sent as one outbox file; gammu-smsd splits it. Escapes too: [x] {y} ~ | \\ ^ 100\u20ac. "
        * 5)[:400]
LONG_UCS2 = ("Gr\u00fc\u00dfe \U0001F600 \u65e5\u672c, " * 40)[:400]
assert len(LONG) == 400 and len(LONG_UCS2) == 400

# (number, request fields, expected: text, encoding, class, status_report)
CASES = [
    ("+33611000001", {"text": "Hello from sms-sentinel"}, "gsm7", None, False),
    ("0611000002", {"text": "Gr\u00fc\u00dfe \U0001F600 \u65e5\u672c"}, "ucs2", None, False),
    ("+33611000003", {"text": LONG}, "gsm7", None, False),
    ("+33611000004", {"text": "Flash!", "flash": True}, "gsm7", 0, False),
    ("+33611000005", {"text": "Report please", "delivery_report": True}, "gsm7", None, True),
    ("+33611000006", {"text": "Both \u00e9\u00e8 \u20ac", "flash": True, "delivery_report": True}, "gsm7", 0, True),
    ("+33611000007", {"text": "\u65e5\u672c\u8a9e " * 30, "flash": True}, "ucs2", 0, False),
    ("+33611000010", {"text": LONG_UCS2}, "ucs2", None, False),
    # the escape pair at septets 153/154 and the surrogate pair at units 67/68
    # go to the next part: 3 parts each, not 2
    ("+33611000011", {"text": "a" * 152 + "\u20ac" + "b" * 152}, "gsm7", None, False),
    ("+33611000012", {"text": "\u65e5" * 66 + "\U0001F600" + "\u672c" * 66}, "ucs2", None, False),
]
MULTI = ["+33611000008", "+33611000009"]


def queue(outbox, request):
    p = subprocess.run([DRIVER, "--queue", outbox, json.dumps(request)], capture_output=True, text=True)
    if p.returncode != 0:
        raise AssertionError("queue failed: %s %s" % (p.stdout, p.stderr))
    rows = [line.split() for line in p.stdout.splitlines()]
    return [{"id": r[0], "name": r[1], "parts": int(r[2]), "encoding": r[3]} for r in rows]


def pdus_for(sent, number):
    """The SMS-SUBMITs to number in part order."""
    mine = [s for s in sent if s.get("number") == number]
    return sorted(mine, key=lambda s: s.get("part", 1))


def check_case(sent, number, text, encoding, cls, report, queued):
    pdus = pdus_for(sent, number)
    assert len(pdus) == queued["parts"], "%s: gammu sent %d parts, sms_length said %d" % (
        number, len(pdus), queued["parts"])
    joined = "".join(p["text"] for p in pdus)
    assert joined == text, "%s: text differs:\n sent %r\n want %r" % (number, joined, text)
    for p in pdus:
        assert p["encoding"] == encoding == queued["encoding"], (number, p["encoding"], queued["encoding"])
        assert p.get("class") == cls, "%s: class %r, want %r" % (number, p.get("class"), cls)
        assert p["status_report"] == report, "%s: status_report %r" % (number, p["status_report"])
        if len(pdus) > 1:
            assert p["parts"] == len(pdus) and p["ref"] == pdus[0]["ref"], p
    print("ok %s: %d part(s) %s class=%s report=%s" % (number, len(pdus), encoding, cls, report), flush=True)


def main():
    assert os.access(DRIVER, os.X_OK), "driver not built: %s" % DRIVER
    with Rig(debuglevel=1) as rig:
        rig.start_emulator()
        rig.start_smsd()
        rig.wait_ready(60)
        queued = {}
        for number, fields, *_ in CASES:
            queued[number] = queue(rig.outbox, dict(fields, number=number, transaction=number))[0]
        multi = queue(rig.outbox, {"number": MULTI, "text": "to two"})
        names = [q["name"] for q in queued.values()] + [m["name"] for m in multi]
        print("queued:\n  " + "\n  ".join(names), flush=True)
        assert not [f for f in os.listdir(rig.outbox) if f.startswith(".")], "temp files left"

        total = sum(q["parts"] for q in queued.values()) + len(MULTI)
        sent = rig.emu.wait_sent(total, timeout=180)
        for n in names:
            rig.wait_sent_file(n, timeout=30)
        wait_until(lambda: not os.listdir(rig.outbox), 10, what="empty outbox")

        for number, fields, encoding, cls, report in CASES:
            check_case(sent, number, fields["text"], encoding, cls, report, queued[number])
        for number, q in zip(MULTI, multi):
            check_case(sent, number, "to two", "gsm7", None, False, q)
        assert len(sent) == total, "%d PDUs sent, expected %d" % (len(sent), total)
        assert "Error" not in rig.log_text(), rig.log_text()[-2000:]
    print("%d passed, 0 failed" % (len(CASES) + len(MULTI)))


if __name__ == "__main__":
    main()
