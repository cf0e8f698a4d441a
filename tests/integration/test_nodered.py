"""The Node-RED example (examples/node-red/flows.json): its function node in a
table (nodered_function_table.js, fake clock), then the flow on a real Node-RED 4
against the real daemon, mosquitto, gammu-smsd and the emulated modem. The
test rewrites only what a user edits: the broker, the base topic (the daemon
runs with a custom base_topic) and FORWARD_TO. An SMS from +33611111111 gets
the auto-reply and is forwarded as "From +33611111111: text"; a second one
within the guard window is forwarded, not answered; an alphanumeric sender, a
short code and the forward number itself get no reply; a long SMS is forwarded
cut to FORWARD_MAX_CHARS; responses and sms/sent outcomes reach the debug nodes."""

import json
import os
import re
import subprocess

from harness import Env, log, wait_until
from nodered import EXAMPLE_DIR, NodeRed, ensure_node_red, red_version

BASE = "home/sms-gw"
FORWARD_TO = "+33799999999"
CORE_TYPES = {"tab", "mqtt-broker", "mqtt in", "mqtt out", "function", "change", "switch", "debug", "inject"}
STATUS_TOPIC = "sms-sentinel-example/node-red/status"


def prepare(flows, port):
    """What the README tells a user to change, done to a copy; fails when the example's shape changed."""
    types = {n["type"] for n in flows}
    assert types <= CORE_TYPES, "non-core nodes in the example: %s" % (types - CORE_TYPES)
    brokers = [n for n in flows if n["type"] == "mqtt-broker"]
    assert len(brokers) == 1, brokers
    assert brokers[0]["birthTopic"] == STATUS_TOPIC and brokers[0]["birthRetain"] == "true", brokers[0]
    brokers[0].update(broker="127.0.0.1", port=str(port))
    ins = [n for n in flows if n["type"] == "mqtt in"]
    assert sorted(n["topic"] for n in ins) == ["sms-sentinel/+/response/send_sms", "sms-sentinel/+/sms/received",
                                                "sms-sentinel/+/sms/sent"], [n["topic"] for n in ins]
    for n in ins:
        n["topic"] = n["topic"].replace("sms-sentinel/+", BASE, 1)
    (tab,) = [n for n in flows if n["type"] == "tab"]
    env = {e["name"]: e for e in tab["env"]}
    assert env["FORWARD_TO"]["value"] == "+33XXXXXXXXX", env["FORWARD_TO"]
    env["FORWARD_TO"]["value"] = FORWARD_TO
    return flows, env


def debug_entries(output, name):
    """Texts logged by the debug node called name (console output on)."""
    chunks = re.split(r"^\d+ \w+ \d\d:\d\d:\d\d - ", output, flags=re.M)
    tag = "[info] [debug:%s] " % name
    return [c[len(tag):].strip() for c in chunks if c.startswith(tag)]


def main():
    node, red = ensure_node_red()  # before anything starts: a missing node fails (or skips) here
    log("Node-RED %s (%s)" % (red_version(), red))
    flows_path = os.path.join(EXAMPLE_DIR, "flows.json")
    with open(flows_path) as f:
        example = json.load(f)
    table = subprocess.run([node, os.path.join(os.path.dirname(os.path.abspath(__file__)), "nodered_function_table.js"),
                            flows_path], capture_output=True, text=True, timeout=60)
    assert table.returncode == 0 and "all passed" in table.stdout, table.stdout + table.stderr
    log("the function node's table (window, hourly cap, number rules, cut): %d cases"
        % table.stdout.count("ok   "))
    passed = 1
    with Env("nodered") as env:
        broker = env.broker()
        sub = env.subscribe(broker.port, "#")
        emu = env.emulator()
        smsd = env.start_smsd(env.smsd(emu.link))
        env.start_daemon(env.daemon(broker.port, smsd, "base_topic = %s\n" % BASE))
        wait_until(lambda: sub.find(BASE + "/availability", lambda p: p == "online"), 15, "daemon online")
        flows, tab_env = prepare(example, broker.port)
        reply_text = tab_env["REPLY_TEXT"]["value"]
        max_chars = int(tab_env["FORWARD_MAX_CHARS"]["value"])
        nr = NodeRed(env, flows)
        wait_until(lambda: sub.find(STATUS_TOPIC, lambda p: p == "online") or not nr.alive(), 60,
                   "the flow's retained 'online' on " + STATUS_TOPIC)
        assert nr.alive(), "Node-RED exited:\n" + nr.output()
        assert "Connected to broker" in nr.output(), nr.output()
        log("Node-RED running the example flow, connected")
        passed += 1

        def requests():
            with sub.lock:
                return [json.loads(p) for t, p in sub.messages if t == BASE + "/request/send_sms"]

        def to(number):
            return [m["text"] for m in emu.client.sent_joined() if m["number"] == number]

        def receive(number, text):
            """Injects one SMS; returns (its id, the flow's decision line)."""
            assert emu.client.inject(number, text).get("ok")
            m = sub.wait_json(BASE + "/sms/received", lambda m: m["number"] == number and m["text"] == text, 90,
                              "the SMS from %s on MQTT" % number)
            line = wait_until(lambda: [d for d in debug_entries(nr.output(), "what was done")
                                       if d.startswith("SMS %s from" % m["id"])], 30,
                              "the flow's decision for %s" % m["id"])[0]
            return m["id"], line

        # 1. A first SMS: answered and forwarded.
        text1 = "Bonjour, première question 😀"
        id1, line = receive("+33611111111", text1)
        assert line.endswith("reply sent; forward sent"), line
        wait_until(lambda: reply_text in to("+33611111111"), 90, "the auto-reply at the modem")
        wait_until(lambda: "From +33611111111: " + text1 in to(FORWARD_TO), 90, "the forward at the modem")
        for kind in ("reply", "forward"):
            tr = "nodered-%s-%s" % (kind, id1)
            r = sub.wait_json(BASE + "/response/send_sms", lambda r, tr=tr: r.get("transaction") == tr, 30, tr)
            assert r["status"] == "ok", r
            sub.wait_json(BASE + "/sms/sent", lambda s, tr=tr: s.get("transaction") == tr and
                          s["status"] == "sent", 90, "sms/sent for " + tr)
            wait_until(lambda tr=tr: any(tr in e for e in debug_entries(nr.output(), "send_sms accepted")), 30,
                       "debug 'send_sms accepted' for " + tr)
            wait_until(lambda tr=tr: any(tr in e for e in debug_entries(nr.output(), "sms/sent: sent")), 30,
                       "debug 'sms/sent: sent' for " + tr)
        log("first SMS: auto-reply and forward sent by the modem; responses and outcomes in the debug nodes")
        passed += 1

        # 2. Same sender within the window: forwarded only. The flow publishes a
        # reply before its forward on the same connection, so once the forward is
        # seen a reply would have been seen too.
        id2, line = receive("+33611111111", "second question")
        assert "reply skipped: already replied to this number" in line and line.endswith("forward sent"), line
        wait_until(lambda: "From +33611111111: second question" in to(FORWARD_TO), 90, "the second forward")
        trs = [r["transaction"] for r in requests()]
        assert "nodered-forward-" + id2 in trs and "nodered-reply-" + id2 not in trs, trs
        assert to("+33611111111") == [reply_text], to("+33611111111")
        log("second SMS from the same sender within the window: forwarded, not answered")
        passed += 1

        # 3. Services and the forward number itself: no reply (loop guard).
        for number, text, want in (("Vodafone", "Your bill is ready", "not an international number"),
                                   ("36665", "Code 1234", "not an international number"),
                                   (FORWARD_TO, "from my own phone", "the forward number")):
            sid, line = receive(number, text)
            assert "reply skipped: " + want in line, line
            if number == FORWARD_TO:
                assert line.endswith("forward skipped: sent by the forward number itself"), line
            else:
                assert line.endswith("forward sent"), line
                wait_until(lambda n=number, t=text: "From %s: %s" % (n, t) in to(FORWARD_TO), 90, "forward of " + text)
        log("alphanumeric sender, short code, the forward number: no reply")
        passed += 1

        # 4. A long SMS from a new sender: answered, forward cut to FORWARD_MAX_CHARS.
        long_text = "A long message from a new sender, sent in three parts. " * 8
        id6, line = receive("+33622222222", long_text)
        assert line.endswith("reply sent; forward sent"), line
        want = ("From +33622222222: " + long_text)[:max_chars - 3] + "..."
        wait_until(lambda: want in to(FORWARD_TO), 120, "the cut forward")
        wait_until(lambda: reply_text in to("+33622222222"), 90, "the reply to the new sender")
        trs = sorted(r["transaction"] for r in requests())
        ids = {1: id1, 2: id2, 6: id6}
        assert len(trs) == 7 and trs.count("nodered-reply-" + id1) == 1 and trs.count("nodered-reply-" + id6) == 1 \
            and sum(t.startswith("nodered-reply-") for t in trs) == 2, (trs, ids)
        assert to("Vodafone") == [] and to("36665") == [] and len(to(FORWARD_TO)) == 5, emu.client.sent_joined()
        log("long SMS: forwarded cut to %d characters; 7 requests in all, 2 of them replies" % max_chars)
        passed += 1

        # 5. A refused request shows in the 'send_sms refused' debug node.
        pub(broker.port, BASE + "/request/send_sms", '{"number":"+33 6","text":"x","transaction":"bad1"}')
        wait_until(lambda: any("bad1" in e for e in debug_entries(nr.output(), "send_sms refused")), 30,
                   "debug 'send_sms refused'")
        assert not any("bad1" in e for e in debug_entries(nr.output(), "send_sms accepted"))
        log("a refused request reaches the 'send_sms refused' debug node")
        passed += 1
    print("%d passed, 0 failed" % passed)


def pub(port, topic, payload):
    subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-t", topic, "-m", payload], check=True,
                   timeout=10)


if __name__ == "__main__":
    main()
