"""ENOSPC while writing an outbox file: the outbox is a 64 KiB tmpfs that the
test fills up. A send_sms request gets an `error` response naming the reason,
no file (not even the hidden temp) is left behind, the daemon lives; with
room again the same request is sent through the real gammu-smsd. Needs root
to mount: exits 77 (skipped) otherwise."""

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


def mount_tiny(path):
    if os.geteuid() != 0:
        return "not root"
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
        why = mount_tiny(outbox)
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
        finally:
            subprocess.run(["umount", "-l", outbox])
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
