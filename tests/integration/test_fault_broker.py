"""Broker faults against the real binary, real mosquitto, real gammu-smsd and
the emulated modem. (a) The broker is killed with SIGKILL (no clean
disconnect, no persistence: every retained message is gone) and started
again: the daemon reconnects by itself, `online` and the state come back
retained, HA discovery configs come back, and an SMS received during the
outage is published after it. (b) No broker at all when the daemon starts:
it runs, logs a clear error once, keeps retrying with backoff, connects once
the broker starts, and what it saw meanwhile (an SMS, an error) is not lost."""

import json
import os
import re
import signal
import subprocess

from harness import Env, free_port, log, wait_until

ERROR = "Sun 2026/12/06 18:01:28 gammu-smsd[4242]: Error at init connection: x (TIMEOUT[14])\n"


def retained(port, topic):
    """(retain flag, payload) of what a fresh subscriber gets first, or None."""
    r = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t", topic, "-C", "1", "-W", "10",
                        "-F", "%r\t%p"], capture_output=True, text=True, timeout=20)
    if r.returncode != 0 or "\t" not in r.stdout:
        return None
    flag, _, payload = r.stdout.rstrip("\n").partition("\t")
    return flag == "1", payload


def retained_topics(port, pattern):
    """Every retained topic under pattern, with its payload."""
    r = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t", pattern, "--retained-only",
                        "-v", "-F", "%t\t%p", "-W", "4"], capture_output=True, text=True, timeout=20)
    return dict(line.partition("\t")[::2] for line in r.stdout.splitlines() if "\t" in line)


def discovery_lines(d):
    """Topic -> payload from `sms-sentinel discovery`; empty while not built yet."""
    r = d.run("discovery")
    if r.returncode != 0:
        return {}
    out = {}
    for line in r.stdout.splitlines():
        topic, _, payload = line.partition("\t")
        if topic and payload:
            out[topic] = payload
    return out


def killed_and_restarted(env):
    broker = env.broker()
    sub = env.subscribe(broker.port, "sms-sentinel/#")
    emu = env.emulator()
    smsd = env.start_smsd(env.smsd(emu.link))
    d = env.start_daemon(env.daemon(broker.port, smsd, "[recovery]\nenabled = no\n"))
    wait_until(lambda: sub.find("/availability", lambda p: p == "online"), 15, "availability online")
    sub.wait_json("sms-sentinel/test/state", lambda s: "errors_total" in s, 15, "a first state")
    expected_discovery = discovery_lines(d)
    if expected_discovery:
        wait_until(lambda: set(expected_discovery) <= set(retained_topics(broker.port, "homeassistant/#")), 30,
                   "discovery configs before the outage")

    broker.proc.signal(signal.SIGKILL)
    broker.proc.p.wait(5)
    inbox = os.path.join(smsd.spool, "inbox")
    assert emu.client.inject("+33612121212", "sent while the broker was dead").get("ok")
    wait_until(lambda: os.listdir(inbox), 60, "the SMS in the inbox during the outage")
    name = os.listdir(inbox)[0]
    with open(smsd.logfile, "a") as f:
        f.write(ERROR)  # counted while nobody can hear it
    wait_until(lambda: "connection to 127.0.0.1:%d lost" % broker.port in d.proc.output(), 30,
               "the daemon to notice the dead broker")
    assert d.proc.alive()

    broker.start()
    sub2 = env.subscribe(broker.port, "sms-sentinel/#")
    m = sub2.wait_json("sms-sentinel/test/sms/received", lambda m: m["number"] == "+33612121212", 90,
                       "the SMS from the outage")
    assert m["id"] == name and m["text"] == "sent while the broker was dead", m
    wait_until(lambda: not os.listdir(inbox), 15, "the inbox emptied after the PUBACK")
    avail = wait_until(lambda: retained(broker.port, "sms-sentinel/test/availability"), 30, "availability")
    assert avail == (True, "online"), avail
    state = wait_until(lambda: retained(broker.port, "sms-sentinel/test/state"), 30, "retained state")
    assert state[0], state
    s = json.loads(state[1])
    assert s["errors_total"] == 1 and s["errors"]["TIMEOUT"] == 1, s
    log("broker killed and restarted: online + state retained again (errors_total 1), SMS %s published" % name)
    if expected_discovery:
        got = retained_topics(broker.port, "homeassistant/#")
        missing = [t for t in expected_discovery if t not in got]
        assert not missing, missing
        assert all(json.loads(got[t]) == json.loads(p) for t, p in expected_discovery.items())
        log("%d discovery configs retained again" % len(expected_discovery))
    else:
        log("TODO: `sms-sentinel discovery` prints nothing yet; discovery not checked")


def unreachable_at_start(env):
    port = free_port()  # nothing listens here yet
    emu = env.emulator()
    smsd = env.start_smsd(env.smsd(emu.link))
    d = env.start_daemon(env.daemon(port, smsd, "[recovery]\nenabled = no\n"))
    wait_until(lambda: "127.0.0.1:%d" % port in d.proc.output() and "retrying with backoff" in d.proc.output(), 20,
               "a clear connection error")
    out = d.proc.output()
    line = next(l for l in out.splitlines() if "retrying with backoff" in l)
    assert "refused" in line.lower(), line
    inbox = os.path.join(smsd.spool, "inbox")
    assert emu.client.inject("+33634343434", "before any broker").get("ok")
    wait_until(lambda: os.listdir(inbox), 60, "the SMS in the inbox")
    with open(smsd.logfile, "a") as f:
        f.write(ERROR)
    wait_until(lambda: "gammu-smsd error TIMEOUT[14]" in d.proc.output(), 15, "the error seen without a broker")
    assert d.proc.alive()
    assert os.listdir(inbox), "released without a broker"
    # Logged once as a warning, not once per attempt; the attempts back off.
    wait_until(lambda: len(re.findall(r"next in (\d+) s", d.proc.output())) >= 3, 30, "three attempts")
    assert d.proc.output().count("retrying with backoff") == 1, d.proc.output()
    pauses = [int(x) for x in re.findall(r"next in (\d+) s", d.proc.output())]
    assert pauses == sorted(pauses) and pauses[-1] > pauses[0], pauses
    log("no broker: daemon alive, one clear error line: %s; pauses %s s" % (line.split("mqtt:", 1)[-1].strip(),
                                                                          pauses))

    broker = env.broker(port)
    sub = env.subscribe(broker.port, "sms-sentinel/#")
    m = sub.wait_json("sms-sentinel/test/sms/received", lambda m: m["number"] == "+33634343434", 90,
                      "the SMS once the broker is up")
    assert m["text"] == "before any broker", m
    wait_until(lambda: "mqtt: connected to 127.0.0.1:%d" % port in d.proc.output(), 5, "connected log")
    avail = wait_until(lambda: retained(port, "sms-sentinel/test/availability"), 30, "availability")
    assert avail == (True, "online"), avail
    sub.wait_json("sms-sentinel/test/state", lambda s: s["errors_total"] == 1 and s["sms_received"] == 1, 30,
                  "the state with the error and the SMS")
    wait_until(lambda: not os.listdir(inbox), 15, "the inbox emptied")
    log("broker started late: connected, SMS published, errors_total 1")


def main():
    passed = 0
    with Env("fault-broker") as env:
        killed_and_restarted(env)
        passed += 1
    with Env("fault-broker-late") as env:
        unreachable_at_start(env)
        passed += 1
    print("%d passed, 0 failed" % passed)


if __name__ == "__main__":
    main()
