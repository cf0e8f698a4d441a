"""ENOSPC while writing an outbox file: the outbox is a 64 KiB tmpfs that the
test fills up. A send_sms request gets an `error` response naming the reason,
no file (not even the hidden temp) is left behind, the daemon lives; with
room again the same request is sent through the real gammu-smsd. Then the
state_dir (counters, journals, the inbox archive) is a full tmpfs: errors are
still counted and published, the save failure is logged once (not once per
state change), a received SMS is published and stays in the inbox; with room
again the state is saved and the SMS file archived. Needs root to mount:
exits 77 (skipped) otherwise."""

import errno
import json
import os
import subprocess
import sys

from harness import Env, log, wait_until

SKIP = 77


def pub(port, topic, payload):
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-t", topic, "-s", "-q", "1"],
                   input=payload.encode(), check=True, timeout=10)


ERROR = "Sun 2026/12/06 18:01:28 gammu-smsd[4242]: Error at init connection: x (TIMEOUT[14])\n"


def mount_tiny(path):
    if os.geteuid() != 0:
        return "not root"
    os.makedirs(path, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs", path], capture_output=True,
                       text=True)
    return None if r.returncode == 0 else "mount -t tmpfs not permitted: " + r.stderr.strip()


def fill(path):
    """Fills the filesystem with a hidden file (gammu-smsd skips dot files)."""
    filler = os.path.join(path, ".filler")
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError as e:
            assert e.errno == errno.ENOSPC, e
    return filler


def send(broker, sub, transaction):
    pub(broker.port, "sms-sentinel/test/request/send_sms",
        json.dumps({"number": "+33612345678", "text": "x" * 150 + " no space left", "transaction": transaction}))
    return sub.wait_json("sms-sentinel/test/response/send_sms", lambda r: r.get("transaction") == transaction, 15,
                         "the response to %s" % transaction)


def main():
    with Env("fault-enospc") as env:
        smsd = env.smsd(os.path.join(env.dir, "modem"))  # the emulator's link, made below
        outbox = os.path.join(smsd.spool, "outbox")
        state_dir = os.path.join(env.dir, "state")  # the harness's state_dir
        why = mount_tiny(outbox) or mount_tiny(state_dir)
        if why:
            print("SKIP: %s (the test mounts a 64 KiB tmpfs as the outbox)" % why)
            sys.exit(SKIP)
        try:
            emu = env.emulator()
            assert emu.link == os.path.join(env.dir, "modem")
            broker = env.broker()
            sub = env.subscribe(broker.port, "sms-sentinel/#")
            env.start_smsd(smsd)
            d = env.start_daemon(env.daemon(broker.port, smsd, "[recovery]\nenabled = no\n"))
            wait_until(lambda: sub.find("/availability", lambda p: p == "online"), 15, "availability online")
            filler = fill(outbox)

            r = send(broker, sub, "full1")
            assert r["status"] == "error" and "No space left on device" in r["error"], r
            assert os.listdir(outbox) == [".filler"], os.listdir(outbox)
            assert d.proc.alive()
            log("full outbox: error %r, no temp file left" % r["error"])

            os.unlink(filler)
            r = send(broker, sub, "full2")
            assert r["status"] == "ok", r
            out = sub.wait_json("sms-sentinel/test/sms/sent", lambda m: m.get("transaction") == "full2", 90,
                                "sms/sent after making room")
            assert out["status"] == "sent", out
            assert any(m["text"].endswith(" no space left") for m in emu.client.sent_joined())
            log("room again: the same request is queued and sent")

            sub.wait_json("sms-sentinel/test/state", lambda s: s["sms_sent"] == 1, 15, "sms_sent 1")
            filler = fill(state_dir)
            for _ in range(30):
                with open(smsd.logfile, "a") as f:
                    f.write(ERROR)
            sub.wait_json("sms-sentinel/test/state", lambda s: s["errors_total"] == 30, 30, "errors_total 30")
            inbox = os.path.join(smsd.spool, "inbox")
            assert emu.client.inject("+33690909090", "state_dir is full").get("ok")
            m = sub.wait_json("sms-sentinel/test/sms/received", lambda m: m["number"] == "+33690909090", 90,
                              "the SMS while state_dir is full")
            wait_until(lambda: "published but not released" in d.proc.output(), 15, "the release error")
            assert os.listdir(inbox) == [m["id"]], os.listdir(inbox)
            assert d.proc.output().count("cannot save state") == 1, d.proc.output().count("cannot save state")
            assert d.proc.alive()
            log("full state_dir: 30 errors counted and published, save failure logged once, SMS kept in the inbox")

            os.unlink(filler)
            wait_until(lambda: not os.listdir(inbox), 60, "the SMS archived once there is room")
            assert m["id"] in os.listdir(os.path.join(state_dir, "archive"))
            with open(smsd.logfile, "a") as f:
                f.write(ERROR)
            wait_until(lambda: "state saved in %s again" % state_dir in d.proc.output(), 15, "state saved again")
            with open(os.path.join(state_dir, "state.json")) as f:
                saved = json.load(f)
            assert saved["errors_total"] >= 31 and saved["sms_received"] == 1, saved
            log("room again: state saved (errors_total %d), SMS archived" % saved["errors_total"])
        finally:
            subprocess.run(["umount", "-l", outbox])
            subprocess.run(["umount", "-l", state_dir])
    print("2 passed, 0 failed")


if __name__ == "__main__":
    main()
