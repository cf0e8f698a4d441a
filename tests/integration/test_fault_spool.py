"""Spool folder faults against the real binary, gammu-smsd and the emulated
modem. The inbox removed and re-created while running: an SMS gammu-smsd
writes into the new folder is still published. The outbox made unwritable
(chattr +i as root, who ignores modes; chmod 555 otherwise): send_sms gets an
error response that names the reason, nothing (not even a temp file) is left
behind, the daemon lives, and once the folder is writable again sending works.
The outbox removed and re-created: a send goes into the new folder (not into
the deleted one, where gammu-smsd would never see it). The archive folder
unwritable: a published SMS stays in the inbox and is released later, not
published twice. The sent folder re-created: outcomes still seen."""

import json
import os
import shutil
import subprocess

from harness import Env, log, wait_until

SMS = "[sms]\nallowed_recipients = +336*\n"


def pub(port, topic, payload):
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-t", topic, "-s", "-q", "1"],
                   input=payload.encode(), check=True, timeout=10)


def make_unwritable(path):
    """Returns the undo function and the words the error must contain."""
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", path], check=True)
        return (lambda: subprocess.run(["chattr", "-i", path], check=True)), "Operation not permitted"
    os.chmod(path, 0o555)
    return (lambda: os.chmod(path, 0o755)), "Permission denied"


def send(env, broker, sub, number, text, transaction):
    pub(broker.port, "sms-sentinel/test/request/send_sms",
        json.dumps({"number": number, "text": text, "transaction": transaction}))
    return sub.wait_json("sms-sentinel/test/response/send_sms", lambda r: r.get("transaction") == transaction, 15,
                         "the response to %s" % transaction)


def main():
    passed = 0
    with Env("fault-spool") as env:
        broker = env.broker()
        sub = env.subscribe(broker.port, "sms-sentinel/#")
        emu = env.emulator()
        smsd = env.start_smsd(env.smsd(emu.link))
        d = env.start_daemon(env.daemon(broker.port, smsd, SMS + "[recovery]\nenabled = no\n"))
        wait_until(lambda: sub.find("/availability", lambda p: p == "online"), 15, "availability online")
        inbox = os.path.join(smsd.spool, "inbox")
        outbox = os.path.join(smsd.spool, "outbox")

        shutil.rmtree(inbox)
        wait_until(lambda: "inbox/ went away" in d.proc.output(), 10, "the daemon to notice the inbox is gone")
        os.mkdir(inbox)
        assert emu.client.inject("+33656565656", "into the new inbox").get("ok")
        m = sub.wait_json("sms-sentinel/test/sms/received", lambda m: m["number"] == "+33656565656", 90,
                          "the SMS written into the re-created inbox")
        assert m["text"] == "into the new inbox", m
        wait_until(lambda: not os.listdir(inbox), 15, "the new inbox emptied")
        log("inbox removed + re-created: SMS %s published from the new folder" % m["id"])
        passed += 1

        undo, reason = make_unwritable(outbox)
        try:
            r = send(env, broker, sub, "+33612345678", "outbox is read-only", "ro1")
            assert r["status"] == "error" and reason in r["error"], r
            assert os.listdir(outbox) == [], os.listdir(outbox)  # listdir shows dot files too
            assert d.proc.alive()
            log("unwritable outbox: error %r, nothing written" % r["error"])
        finally:
            undo()
        r = send(env, broker, sub, "+33612345678", "outbox writable again", "ro2")
        assert r["status"] == "ok", r
        out = sub.wait_json("sms-sentinel/test/sms/sent", lambda m: m.get("transaction") == "ro2", 90, "sms/sent")
        assert out["status"] == "sent", out
        assert any(m["text"] == "outbox writable again" for m in emu.client.sent_joined())
        log("outbox writable again: sent")
        passed += 1

        shutil.rmtree(outbox)
        os.mkdir(outbox)
        r = send(env, broker, sub, "+33612345679", "into the new outbox", "nb1")
        assert r["status"] == "ok", r
        wait_until(lambda: any(m["text"] == "into the new outbox" for m in emu.client.sent_joined()), 90,
                   "the SMS from the re-created outbox at the modem")
        out = sub.wait_json("sms-sentinel/test/sms/sent", lambda m: m.get("transaction") == "nb1", 60, "sms/sent")
        assert out["status"] == "sent", out
        log("outbox removed + re-created: the next send lands in the new folder and is sent")
        passed += 1

        sent_dir = os.path.join(smsd.spool, "sent")
        shutil.rmtree(sent_dir)
        wait_until(lambda: "sent/ went away" in d.proc.output(), 10, "the daemon to notice the sent folder is gone")
        os.mkdir(sent_dir)
        r = send(env, broker, sub, "+33612345670", "into the new sent folder", "ns1")
        assert r["status"] == "ok", r
        out = sub.wait_json("sms-sentinel/test/sms/sent", lambda m: m.get("transaction") == "ns1", 90,
                            "sms/sent from the re-created sent folder")
        assert out["status"] == "sent", out
        log("sent folder removed + re-created: the outcome is still seen")
        passed += 1

        # The archive cannot take the published file: it stays in the inbox (nothing
        # lost), the release is retried without publishing again, and succeeds later.
        archive = os.path.join(d.state_dir, "archive")
        undo, reason = make_unwritable(archive)
        try:
            assert emu.client.inject("+33678787878", "the archive is read-only").get("ok")
            m = sub.wait_json("sms-sentinel/test/sms/received", lambda m: m["number"] == "+33678787878", 90,
                              "the SMS while the archive is unwritable")
            wait_until(lambda: "%s published but not released" % m["id"] in d.proc.output(), 15, "the release error")
            assert os.listdir(inbox) == [m["id"]], os.listdir(inbox)
        finally:
            undo()
        wait_until(lambda: not os.listdir(inbox), 60, "the release retried once the archive is writable")
        assert m["id"] in os.listdir(archive), os.listdir(archive)
        copies = [p for t, p in list(sub.messages) if t.endswith("/sms/received") and "+33678787878" in p]
        assert len(copies) == 1, copies
        log("unwritable archive: SMS published once, kept in the inbox, released when the archive took it")
        passed += 1
        assert d.proc.alive()
    print("%d passed, 0 failed" % passed)


if __name__ == "__main__":
    main()
