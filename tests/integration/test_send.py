"""Sending over MQTT through the real gammu-smsd to the emulated modem: a
send_sms request is answered ok with an id once the outbox file is durable,
the modem receives the exact text, and the outcome arrives on sms/sent with
the request's transaction. Several recipients at once; the CLI `send`; and
hostile requests (bad JSON, letters, shell characters, numbers outside
allowed_recipients, empty text, 1 MB) get error responses and write nothing."""

import json
import os
import signal
import subprocess

from harness import Env, log, run_sentinel, wait_until

SMS = "[sms]\nallowed_recipients = +336* +337*\nmax_parts = 6\n"


def pub(port, topic, payload):
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-t", topic, "-s", "-q", "1"],
                   input=payload.encode() if isinstance(payload, str) else payload, check=True, timeout=10)


def main():
    passed = 0
    with Env("send") as env:
        broker = env.broker()
        sub = env.subscribe(broker.port, "sms-sentinel/#")
        emu = env.emulator()
        smsd = env.start_smsd(env.smsd(emu.link))
        d = env.start_daemon(env.daemon(broker.port, smsd, SMS))
        wait_until(lambda: sub.find("/availability", lambda p: p == "online"), 15, "availability online")
        outbox = os.path.join(smsd.spool, "outbox")

        bad = [('{"number":"+33612345678","text":', "not valid JSON"),
               ('{"number":"+33 6 12","text":"x"}', "not a phone number"),
               ('{"number":"+336123;reboot","text":"x"}', "not a phone number"),
               ('{"number":"../../etc/passwd","text":"x"}', "not a phone number"),
               ('{"number":"+4412345678","text":"x"}', "allowed_recipients"),
               ('{"number":"+33612345678","text":""}', "text"),
               ('{"number":"+33612345678","text":"x","colour":"red"}', "colour"),
               ('{"number":"+33612345678","text":7}', "text"),
               ('{"number":"+33612345678","text":"' + "x" * (1024 * 1024) + '"}', "larger than")]
        for i, (payload, text) in enumerate(bad):
            body = payload[:-1] + ',"transaction":"bad%d"}' % i if payload.endswith("}") and i > 0 else payload
            pub(broker.port, "sms-sentinel/test/request/send_sms", body)
            r = sub.wait_json("sms-sentinel/test/response/send_sms",
                              lambda r, t=text: r["status"] == "error" and t in r.get("error", ""), 10, text)
        assert not os.listdir(outbox), os.listdir(outbox)
        assert d.proc.alive()
        log("%d hostile requests: error responses, nothing in the outbox" % len(bad))
        passed += 1

        pub(broker.port, "sms-sentinel/test/request/send_sms",
            json.dumps({"number": "+33612345678", "text": "Grüße 😀 日本", "transaction": "s1"}))
        ok = sub.wait_json("sms-sentinel/test/response/send_sms", lambda r: r.get("transaction") == "s1", 10, "ok")
        assert ok["status"] == "ok" and len(ok["data"]["id"]) == 12, ok
        out = sub.wait_json("sms-sentinel/test/sms/sent", lambda m: m.get("transaction") == "s1", 60, "sms/sent")
        assert out == {"id": ok["data"]["id"], "number": "+33612345678", "status": "sent", "transaction": "s1"}, out
        sent = emu.client.sent_joined()
        assert any(m["text"] == "Grüße 😀 日本" and m["number"] == "+33612345678" for m in sent), sent
        log("send_sms: ok %s, modem got the exact text, sms/sent says sent" % ok["data"]["id"])
        passed += 1

        long_text = "Long message over several parts. " * 12
        pub(broker.port, "sms-sentinel/test/request/send_sms",
            json.dumps({"number": ["+33611111111", "+33722222222"], "text": long_text, "transaction": 2}))
        ok = sub.wait_json("sms-sentinel/test/response/send_sms", lambda r: r.get("transaction") == 2, 10, "ok 2")
        assert ok["status"] == "ok" and len(ok["data"]["ids"]) == 2 and ok["data"]["parts"] > 1, ok
        wait_until(lambda: len([1 for t, p in sub.messages if t.endswith("/sms/sent") and
                                json.loads(p).get("transaction") == 2]) == 2, 90, "two sms/sent outcomes")
        sent = emu.client.sent_joined()
        assert sum(1 for m in sent if m["text"] == long_text) == 2, sent
        sub.wait_json("sms-sentinel/test/state", lambda s: s["sms_sent"] == 3, 15, "sms_sent 3")
        log("two recipients, %d parts each: both sent, joined text exact" % ok["data"]["parts"])
        passed += 1

        r = run_sentinel(["send", "-c", d.conf, "+33633333333", "from the command line"])
        assert r.returncode == 0 and r.stdout.startswith("queued "), r
        wait_until(lambda: any(m["text"] == "from the command line" for m in emu.client.sent_joined()),
                   60, "the CLI SMS at the modem")
        r = run_sentinel(["send", "-c", d.conf, "+33633333333;id", "x"])
        assert r.returncode == 2 and "phone number" in r.stderr, r
        log("CLI send: queued and sent; bad number refused with exit 2")
        passed += 1

        # Outcome across a daemon restart: gammu-smsd paused, request queued, daemon killed,
        # gammu-smsd sends meanwhile; the next daemon still reports it with the transaction.
        smsd_pid = int(open(smsd.pidfile).read().strip())
        os.kill(smsd_pid, signal.SIGSTOP)
        pub(broker.port, "sms-sentinel/test/request/send_sms",
            json.dumps({"number": "+33644444444", "text": "across a restart", "transaction": "r1"}))
        ok = sub.wait_json("sms-sentinel/test/response/send_sms", lambda r: r.get("transaction") == "r1", 10, "ok r1")
        d.proc.signal(signal.SIGKILL)
        d.proc.p.wait(5)
        env.procs.remove(d.proc)
        os.kill(smsd_pid, signal.SIGCONT)
        wait_until(lambda: any(m["text"] == "across a restart" for m in emu.client.sent_joined()), 60, "sent")
        env.start_daemon(d)
        out = sub.wait_json("sms-sentinel/test/sms/sent", lambda m: m.get("transaction") == "r1", 30,
                            "the outcome after the restart")
        assert out["id"] == ok["data"]["id"] and out["status"] == "sent", out
        log("outcome of an SMS sent while the daemon was down: reported after its restart")
        passed += 1
    print("%d passed, 0 failed" % passed)


if __name__ == "__main__":
    main()
