"""Received SMS to MQTT, real parts end to end: GSM 7-bit, UCS-2 with emoji,
a 3-part message joined into one, an alphanumeric sender; each published once
on <base>/sms/received with a stable id, its files moved to the archive only
after the PUBACK. Then no loss: an SMS arriving while the broker is down waits
in the inbox and is published when the broker returns; one arriving while the
broker is down and the daemon is killed with -9 is published by the next
daemon, with the id it would have had."""

import json
import os
import signal
import time

from harness import Env, log, wait_until

LONG = ("This is a long message that gammu-smsd writes as several inbox files, one per part, "
        "and sms-sentinel joins them into one. ") * 3


def received(sub):
    with sub.lock:
        return [json.loads(p) for t, p in sub.messages if t.endswith("/sms/received")]


def main():
    passed = 0
    with Env("inbox") as env:
        broker = env.broker()
        sub = env.subscribe(broker.port, "sms-sentinel/#")
        emu = env.emulator()
        smsd = env.start_smsd(env.smsd(emu.link))
        d = env.start_daemon(env.daemon(broker.port, smsd))
        wait_until(lambda: sub.find("/availability", lambda p: p == "online"), 15, "availability online")
        inbox = os.path.join(smsd.spool, "inbox")
        archive = os.path.join(d.state_dir, "archive")
        texts = {"+33612345678": "Hello, plain GSM text @ £ €", "+33687654321": "Grüße 😀 日本",
                 "Vodafone": "Your bill is ready", "+33600000001": LONG}
        for number, text in texts.items():
            r = emu.client.inject(number, text)
            assert r.get("ok"), r
        wait_until(lambda: len(received(sub)) >= 4, 90, "4 received SMS on MQTT")
        msgs = {m["number"]: m for m in received(sub)}
        for number, text in texts.items():
            assert number in msgs, (number, msgs.keys())
            assert msgs[number]["text"] == text, (msgs[number]["text"], text)
        assert msgs["+33600000001"]["parts"] > 1, msgs["+33600000001"]
        assert all(m["id"].startswith("IN") and m["received_at"] for m in msgs.values())
        wait_until(lambda: not os.listdir(inbox), 10, "an empty inbox")
        assert len(os.listdir(archive)) == 3 + msgs["+33600000001"]["parts"], os.listdir(archive)
        sub.wait_json("sms-sentinel/test/state", lambda s: s["sms_received"] == 4, 15, "sms_received 4")
        log("4 SMS published with exact text (long one in %d parts), files archived" % msgs["+33600000001"]["parts"])
        passed += 2

        broker.stop()
        emu.client.inject("+33611111111", "while the broker is down")
        wait_until(lambda: os.listdir(inbox), 30, "the SMS in the inbox")
        name = os.listdir(inbox)[0]
        broker.start()
        sub2 = env.subscribe(broker.port, "sms-sentinel/#")
        m = sub2.wait_json("sms-sentinel/test/sms/received", lambda m: m["number"] == "+33611111111", 60,
                           "the SMS after the broker came back")
        assert m["id"] == name, (m["id"], name)
        wait_until(lambda: not os.listdir(inbox), 10, "the inbox emptied")
        log("broker outage: SMS kept in the inbox, published on reconnect (id %s)" % m["id"])
        passed += 1

        broker.stop()
        emu.client.inject("+33622222222", "broker down and daemon killed")
        wait_until(lambda: os.listdir(inbox), 30, "the SMS in the inbox")
        d.proc.signal(signal.SIGKILL)
        d.proc.p.wait(5)
        env.procs.remove(d.proc)
        broker.start()
        sub3 = env.subscribe(broker.port, "sms-sentinel/#")
        env.start_daemon(d)
        m = sub3.wait_json("sms-sentinel/test/sms/received", lambda m: m["number"] == "+33622222222", 60,
                           "the SMS after kill -9 and restart")
        assert m["text"] == "broker down and daemon killed", m
        wait_until(lambda: not os.listdir(inbox), 10, "the inbox emptied")
        sub3.wait_json("sms-sentinel/test/state", lambda s: s["sms_received"] == 6, 15, "sms_received 6")
        log("kill -9 during an outage: published by the next daemon; counters kept")
        passed += 1

        # 50 SMS while the broker is down (the SIM holds 30: two batches of 25).
        broker.stop()
        for batch in range(2):
            for i in range(25):
                emu.client.inject("+3361000%04d" % (batch * 25 + i), "outage message %d" % (batch * 25 + i))
            wait_until(lambda b=batch: len(os.listdir(inbox)) == 25 * (b + 1), 90, "batch %d in the inbox" % batch)
        broker.start()
        sub4 = env.subscribe(broker.port, "sms-sentinel/#")
        wait_until(lambda: len({json.loads(p)["id"] for t, p in sub4.messages if t.endswith("/sms/received")}) >= 50,
                   60, "50 SMS published after the outage")
        got = {json.loads(p)["text"] for t, p in sub4.messages if t.endswith("/sms/received")}
        assert got >= {"outage message %d" % i for i in range(50)}, len(got)
        wait_until(lambda: not os.listdir(inbox), 15, "the inbox emptied")
        log("50 SMS during a broker outage: all 50 published when it came back")
        passed += 1

        # Killed between publish and release: the broker is frozen, so the PUBACK never
        # comes; the file stays; the next daemon publishes it again with the same id.
        d = [p for p in env.procs if p.name == "sms-sentinel"][-1]
        broker.proc.signal(signal.SIGSTOP)
        emu.client.inject("+33655555555", "between publish and release")
        wait_until(lambda: os.listdir(inbox), 30, "the SMS in the inbox")
        time.sleep(1.5)  # the daemon reads and publishes into the frozen broker's socket
        d.signal(signal.SIGKILL)
        d.p.wait(5)
        env.procs.remove(d)
        broker.proc.signal(signal.SIGCONT)
        assert os.listdir(inbox), "released without a PUBACK"
        daemon_again = env.daemon(broker.port, smsd)
        env.start_daemon(daemon_again)
        wait_until(lambda: not os.listdir(inbox), 30, "released after the restart")
        ids = [json.loads(p)["id"] for t, p in sub4.messages
               if t.endswith("/sms/received") and json.loads(p)["number"] == "+33655555555"]
        assert ids and len(set(ids)) == 1, ids
        log("kill -9 between publish and release: published %d time(s), one id %s" % (len(ids), ids[0]))
        passed += 1
    print("%d passed, 0 failed" % passed)


if __name__ == "__main__":
    main()
