"""Pool mode on real parts: one mosquitto, two emulated modems, two real
gammu-smsd and two daemons with [mqtt] pool = fleet. First the MQTT v5
request/response contract on a node's own topic (response topic and
correlation data honoured, no node_id). Then 20 send_sms requests on
sms-sentinel/pool/request/send_sms (half with a v5 response topic and
correlation data): each is answered exactly once, naming the node that took
it, each SMS reaches exactly one modem, both modems get some, and each outcome
also comes on sms-sentinel/pool/sms/sent. Then node b's SIM goes missing:
NOSIM errors, a recovery that does not help, health failed; b leaves the pool
(pool_member false) and every further request goes to a. SIM back and a
manual reset: b rejoins and takes requests again."""

import json
import os
import subprocess
import threading

from harness import SMS_SENTINEL, Env, log, wait_until

CONF = """pool = fleet
[recovery]
window = 20
threshold = 2
max_per_hour = 1
methods = restart_smsd
verify_timeout = 3
settle_timeout = 5
cooldown = 1
"""
NUMBER = "+33612345678"


def pub(port, topic, payload, *v5):
    """mosquitto_pub with MQTT v5 properties, e.g. ("response-topic", "x")."""
    argv = ["mosquitto_pub", "-V", "mqttv5", "-h", "127.0.0.1", "-p", str(port), "-t", topic, "-m", payload,
            "-q", "1"]
    for name, value in v5:
        argv += ["-D", "publish", name, value]
    subprocess.run(argv, check=True, timeout=10)


class V5Sub:
    """mosquitto_sub -V mqttv5 printing topic, correlation data and payload."""

    def __init__(self, env, port, pattern):
        self.messages = []
        self.lock = threading.Lock()
        self.p = subprocess.Popen(["stdbuf", "-oL", "mosquitto_sub", "-V", "mqttv5", "-h", "127.0.0.1", "-p",
                                   str(port), "-t", pattern, "-F", "%t\t%D\t%p"], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, start_new_session=True)
        env.subs.append(self)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for raw in self.p.stdout:
            topic, corr, payload = raw.decode("utf-8", "replace").rstrip("\n").split("\t", 2)
            with self.lock:
                self.messages.append((topic, corr, json.loads(payload)))

    def all(self):
        with self.lock:
            return list(self.messages)

    def stop(self):
        self.p.terminate()
        self.p.wait()


def node(env, broker, name):
    emu = env.emulator("modem-" + name)
    smsd = env.start_smsd(env.smsd(emu.link))
    d = env.daemon(broker.port, smsd, CONF)
    # The harness names every node "test"; a pool needs two names.
    with open(d.conf) as f:
        text = f.read()
    with open(d.conf, "w") as f:
        f.write(text.replace("node_id = test\n", "node_id = %s\n" % name, 1))
    env.start_daemon(d)
    return emu


def states(sub, name):
    with sub.lock:
        return [json.loads(p) for t, p in sub.messages if t == "sms-sentinel/%s/state" % name]


def wait_state(sub, name, pred, timeout, what, after=0):
    """A state of node name, published after the first `after` states, matching pred."""
    return wait_until(lambda: next((s for s in states(sub, name)[after:] if pred(s)), None), timeout, what)


def texts(emu):
    return [m["text"] for m in emu.client.sent_joined()]


def replies(sub, v5sub):
    """Every response to a pooled request: (topic, correlation, payload)."""
    out = [(t, "", json.loads(p)) for t, p in list(sub.messages) if t == "sms-sentinel/pool/response/send_sms"]
    return out + [m for m in v5sub.all() if m[0] == "test/pool-replies"]


def send_batch(port, tag, count):
    """count pooled requests; the even ones with a v5 response topic and correlation data."""
    for i in range(count):
        body = json.dumps({"number": NUMBER, "text": "%s %d" % (tag, i), "transaction": "%s-%d" % (tag, i)})
        v5 = [("response-topic", "test/pool-replies"), ("correlation-data", "c-%s-%d" % (tag, i))] if i % 2 == 0 \
            else []
        pub(port, "sms-sentinel/pool/request/send_sms", body, *v5)


def check_batch(sub, v5sub, emus, tag, count, nodes):
    """Every request answered once by one of nodes, every SMS on exactly one modem.
    Returns {node: number of SMS it took}."""
    want = {"%s-%d" % (tag, i) for i in range(count)}
    mine = lambda: [r for r in replies(sub, v5sub) if r[2].get("transaction") in want]
    wait_until(lambda: len(mine()) >= count, 60, "%d responses to %s" % (count, tag))
    got = mine()
    assert sorted(r[2]["transaction"] for r in got) == sorted(want), got
    taken = {}
    for topic, corr, r in got:
        i = int(r["transaction"].rsplit("-", 1)[1])
        assert r["status"] == "ok" and r["node_id"] in nodes, r
        assert topic == ("test/pool-replies" if i % 2 == 0 else "sms-sentinel/pool/response/send_sms"), (topic, r)
        assert corr == ("c-%s-%d" % (tag, i) if i % 2 == 0 else ""), (corr, r)
        taken[r["transaction"]] = r["node_id"]
    all_texts = {"%s %d" % (tag, i) for i in range(count)}
    wait_until(lambda: sum(1 for e in emus.values() for t in texts(e) if t in all_texts) >= count, 120,
               "%d SMS of %s at the modems" % (count, tag))
    for name, emu in emus.items():
        for t in texts(emu):
            if t in all_texts:
                tx = "%s-%s" % (tag, t.rsplit(" ", 1)[1])
                assert taken[tx] == name, "%s sent by %s, taken by %s" % (t, name, taken[tx])
    per_text = [sum(texts(e).count(t) for e in emus.values()) for t in all_texts]
    assert per_text == [1] * count, per_text
    outcomes = wait_until(lambda: [json.loads(p) for t, p in list(sub.messages) if t == "sms-sentinel/pool/sms/sent"
                                   and json.loads(p).get("transaction") in want] if len(
        [1 for t, p in list(sub.messages) if t == "sms-sentinel/pool/sms/sent" and
         json.loads(p).get("transaction") in want]) >= count else None, 60, "pool outcomes of %s" % tag)
    assert sorted(o["transaction"] for o in outcomes) == sorted(want), outcomes
    for o in outcomes:
        assert o["status"] == "sent" and o["node_id"] == taken[o["transaction"]], o
        assert any(t == "sms-sentinel/%s/sms/sent" % o["node_id"] and json.loads(p).get("id") == o["id"]
                   for t, p in list(sub.messages)), o
    counts = {n: sum(1 for v in taken.values() if v == n) for n in nodes}
    log("%s: %d requests answered once each, taken %s, each SMS on one modem" % (tag, count, counts))
    return counts


def main():
    passed = 0
    with Env("pool-a") as env, Env("pool-b") as env_b:
        broker = env.broker()
        sub = env.subscribe(broker.port, "#")
        v5sub = V5Sub(env, broker.port, "test/#")
        emus = {"a": node(env, broker, "a"), "b": node(env_b, broker, "b")}
        for name in emus:
            wait_state(sub, name, lambda s: s["pool"] == "fleet" and s["pool_member"] is True, 60,
                       "node %s in the pool" % name)
        log("both nodes joined pool fleet")

        # The v5 contract on a node's own topic.
        pub(broker.port, "sms-sentinel/a/request/send_sms",
            json.dumps({"number": NUMBER, "text": "direct v5", "transaction": "d1"}),
            ("response-topic", "test/direct"), ("correlation-data", "corr-d1"))
        pub(broker.port, "sms-sentinel/a/request/health_check", '{"transaction":"h1"}',
            ("response-topic", "test/direct"), ("correlation-data", "corr-h1"))
        wait_until(lambda: len([m for m in v5sub.all() if m[0] == "test/direct"]) >= 2, 15, "two v5 responses")
        direct = {m[2]["transaction"]: m for m in v5sub.all() if m[0] == "test/direct"}
        assert direct["d1"][1] == "corr-d1" and direct["d1"][2]["status"] == "ok", direct
        assert "node_id" not in direct["d1"][2], direct
        assert direct["h1"][1] == "corr-h1" and direct["h1"][2]["data"]["health"] in ("ok", "degraded"), direct
        assert not sub.find("sms-sentinel/a/response/send_sms") and not sub.find("sms-sentinel/a/response/health_check")
        wait_until(lambda: "direct v5" in texts(emus["a"]), 60, "the direct SMS at modem a")
        log("v5 response topic and correlation data honoured for send_sms and health_check")
        passed += 1

        send_batch(broker.port, "p", 20)
        counts = check_batch(sub, v5sub, emus, "p", 20, ("a", "b"))
        assert counts["a"] > 0 and counts["b"] > 0, counts
        passed += 1

        # README's example: mosquitto_rr sets the response topic and prints the answer.
        r = subprocess.run(["mosquitto_rr", "-h", "127.0.0.1", "-p", str(broker.port), "-t",
                            "sms-sentinel/pool/request/send_sms", "-e", "my/replies", "-W", "60", "-m",
                            '{"number":"+33612345678","text":"from the pool","transaction":"p1"}'],
                           capture_output=True, text=True, timeout=90)
        rr = json.loads(r.stdout)
        assert rr["status"] == "ok" and rr["transaction"] == "p1" and rr["node_id"] in emus, (r.stdout, r.stderr)
        wait_until(lambda: "from the pool" in texts(emus[rr["node_id"]]), 60, "the mosquitto_rr SMS")
        log("mosquitto_rr: %s" % r.stdout.strip())
        passed += 1

        # b's SIM goes missing: counted NOSIM errors, one recovery that cannot
        # help (max_per_hour = 1), then failed. b leaves the pool on the way.
        mark = len(states(sub, "b"))
        emus["b"].cmd("nosim on")
        left = wait_state(sub, "b", lambda s: s["pool_member"] is False, 150, "b out of the pool", mark)
        assert left["health"] not in ("ok", "degraded"), left
        log("b left the pool (health %s)" % left["health"])
        failed = wait_state(sub, "b", lambda s: s["health"] == "failed", 150, "b failed", mark)
        assert failed["pool_member"] is False, failed
        assert all(s["pool_member"] is False for s in states(sub, "b")[mark:] if s["health"] != "ok" and
                   s["health"] != "degraded"), states(sub, "b")[mark:]
        log("b failed: %s" % failed["health_reason"])
        st = subprocess.run([SMS_SENTINEL, "status", "-c", os.path.join(env_b.dir, "sms-sentinel.conf")],
                            capture_output=True, text=True, timeout=30)
        assert "pool:        fleet, not a member now" in st.stdout, st.stdout + st.stderr
        before_b = len(texts(emus["b"]))
        send_batch(broker.port, "q", 6)
        counts = check_batch(sub, v5sub, emus, "q", 6, ("a",))
        assert len(texts(emus["b"])) == before_b, texts(emus["b"])
        passed += 1

        # SIM back, a manual reset lifts failed: b rejoins.
        emus["b"].cmd("nosim off")
        mark = len(states(sub, "b"))
        pub(broker.port, "sms-sentinel/b/request/reset", '{"method":"restart_smsd","transaction":"r1"}')
        back = wait_state(sub, "b", lambda s: s["pool_member"] is True, 120, "b back in the pool", mark)
        assert back["health"] in ("ok", "degraded"), back
        log("b rejoined (health %s)" % back["health"])
        send_batch(broker.port, "r", 6)
        counts = check_batch(sub, v5sub, emus, "r", 6, ("a", "b"))
        assert counts["b"] > 0, counts
        passed += 1

        # The broker restarts (and forgets every subscription): both rejoin.
        for s in (sub, v5sub):
            s.stop()
            env.subs.remove(s)
        broker.stop()
        broker.start()
        sub = env.subscribe(broker.port, "#")
        v5sub = V5Sub(env, broker.port, "test/#")
        for name in emus:
            wait_state(sub, name, lambda s: s["pool_member"] is True, 90, "node %s back after the restart" % name)
        log("broker restarted: both nodes rejoined")
        send_batch(broker.port, "s", 6)
        counts = check_batch(sub, v5sub, emus, "s", 6, ("a", "b"))
        assert counts["a"] > 0 and counts["b"] > 0, counts
        passed += 1
    print("%d passed, 0 failed" % passed)


if __name__ == "__main__":
    main()
