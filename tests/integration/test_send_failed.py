"""A send that never gets through: the emulated modem gives no prompt to
AT+CMGS, gammu-smsd 1.42 logs "Error sending SMS" and would retry forever; after
[sms] send_timeout the daemon takes the file out of the outbox (into the error
folder) and publishes status "failed" with the request's transaction.
An outcome decided while the broker is down is kept (outbox journal) and
published once the broker is back."""

import json
import os
import subprocess

from harness import Env, log, wait_until


def main():
    with Env("send-failed") as env:
        broker = env.broker(persistent=True)
        sub = env.subscribe(broker.port, "sms-sentinel/#", args=("-q", "1", "-c", "-i", "send-failed-sub"))
        emu = env.emulator()
        smsd = env.start_smsd(env.smsd(emu.link))
        d = env.start_daemon(env.daemon(broker.port, smsd, "[sms]\nsend_timeout = 20\n[recovery]\nenabled = no\n"))
        wait_until(lambda: sub.find("/availability", lambda p: p == "online"), 15, "availability online")
        wait_until(lambda: "Starting phone communication" in smsd.log(), 30, "gammu-smsd init")
        emu.cmd("hang_at AT+CMGS")
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-t",
                        "sms-sentinel/test/request/send_sms", "-m",
                        json.dumps({"number": "+33612345678", "text": "never arrives", "transaction": "f1"})],
                       check=True, timeout=10)
        ok = sub.wait_json("sms-sentinel/test/response/send_sms", lambda r: r.get("transaction") == "f1", 10, "ok")
        out = sub.wait_json("sms-sentinel/test/sms/sent", lambda m: m.get("transaction") == "f1", 60, "the outcome")
        assert out["status"] == "failed" and out["id"] == ok["data"]["id"], out
        outbox = os.path.join(smsd.spool, "outbox")
        errors = os.path.join(smsd.spool, "error")
        assert not os.listdir(outbox), os.listdir(outbox)
        assert any(ok["data"]["id"] in n for n in os.listdir(errors)), os.listdir(errors)
        sub.wait_json("sms-sentinel/test/state", lambda s: s["sms_failed"] == 1, 10, "sms_failed 1")
        log("failed send: reported failed after send_timeout, file moved to the error folder")

        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-t",
                        "sms-sentinel/test/request/send_sms", "-m",
                        json.dumps({"number": "+33612345678", "text": "fails in an outage", "transaction": "f2"})],
                       check=True, timeout=10)
        ok2 = sub.wait_json("sms-sentinel/test/response/send_sms", lambda r: r.get("transaction") == "f2", 10, "ok 2")
        broker.stop()
        wait_until(lambda: "SMS %s to +33612345678 not sent" % ok2["data"]["id"] in d.proc.output(),
                   60, "the send timeout while the broker is down")
        assert not sub.find("/sms/sent", lambda p: "f2" in p)
        broker.start()
        out = sub.wait_json("sms-sentinel/test/sms/sent", lambda m: m.get("transaction") == "f2", 30,
                            "the outcome after the broker came back")
        assert out["status"] == "failed" and out["id"] == ok2["data"]["id"], out
        log("outcome decided during a broker outage: published after it")
    print("2 passed, 0 failed")


if __name__ == "__main__":
    main()
