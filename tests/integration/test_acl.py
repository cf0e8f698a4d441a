"""contrib/mosquitto/sms-sentinel.acl, as shipped, on a real mosquitto (TLS,
logins): the daemon (user sms-sentinel) publishes availability, state and
discovery and gets its requests; user ha's send_sms is answered ok and the
modem sends it; the same request from another user (guest) is dropped by the
broker: no response, never seen by the daemon, nothing sent; guest can read
everything but cannot fake the retained availability or state."""

import json
import os
import re
import shutil

from harness import SMS_SENTINEL, SRC_DIR, Env, Proc, log, wait_until
from tls_broker import Pki, TlsBroker

ACL = os.path.join(SRC_DIR, "contrib", "mosquitto", "sms-sentinel.acl")
USERS = {"sms-sentinel": "daemon-pw-51c2", "ha": "ha-pw-0b7e", "guest": "guest-pw-99aa"}


def main():
    with Env("acl") as env:
        acl = os.path.join(env.dir, "sms-sentinel.acl")
        shutil.copy(ACL, acl)  # as shipped: the test's users are the file's names
        broker = TlsBroker(env, Pki(env.dir), USERS, acl_file=acl)
        sub = broker.subscribe("guest", "#")
        emu = env.emulator()
        smsd = env.start_smsd(env.smsd(emu.link))
        pw = os.path.join(env.dir, "daemon.pw")
        with open(pw, "w") as f:
            f.write(USERS["sms-sentinel"] + "\n")
        os.chmod(pw, 0o600)
        conf = os.path.join(env.dir, "sms-sentinel.conf")
        with open(conf, "w") as f:
            f.write("[agent]\nnode_id = acl\nstate_dir = %s\nlog_level = debug\n[smsd]\nconfig = %s\npidfile = %s\n"
                    "%s[mqtt]\nhost = 127.0.0.1\nport = %d\nusername = sms-sentinel\npassword_file = %s\n"
                    "tls_ca = %s\nkeepalive = 10\n[sms]\nallowed_recipients = +336*\n"
                    % (os.path.join(env.dir, "state"), smsd.rc, smsd.pidfile, smsd.control_lines(), broker.port,
                       pw, broker.pki.ca_crt))
        d = env.track(Proc("sms-sentinel", [SMS_SENTINEL, "-c", conf], env.dir))

        wait_until(lambda: sub.last("sms-sentinel/acl/availability") == "online", 30, "availability online")
        sub.wait_json("sms-sentinel/acl/state", lambda s: "health" in s, 30, "state")
        discovery = [t for t, p in sub.messages if t.startswith("homeassistant/") and t.endswith("/config")]
        assert "Denied PUBLISH from sms-sentinel-acl" not in broker.proc.output(), broker.proc.output()
        log("daemon: availability and state published through the ACL (%d discovery configs so far), "
            "no denied publish" % len(discovery))

        request = {"number": "+33612345678"}
        for user in ("guest", "ha"):
            body = dict(request, text="from " + user, transaction=user + "-1")
            r = broker.publish(user, "sms-sentinel/acl/request/send_sms", json.dumps(body))
            assert r.returncode == 0, r.stderr  # QoS 1: acknowledged even when the ACL drops it
        ok = sub.wait_json("sms-sentinel/acl/response/send_sms", lambda m: m.get("transaction") == "ha-1", 15,
                           "ha's response")
        assert ok["status"] == "ok", ok
        sent = sub.wait_json("sms-sentinel/acl/sms/sent", lambda m: m.get("transaction") == "ha-1", 90, "sent")
        assert sent["status"] == "sent", sent
        # guest's request went to the broker first: had the daemon got it, it would have answered first.
        assert sub.json_matching("/response/send_sms", lambda m: m.get("transaction") == "guest-1") is None
        assert "guest-1" not in d.output()
        texts = [m["text"] for m in emu.client.sent_joined()]
        assert texts == ["from ha"], texts
        assert "Denied PUBLISH from pub-guest (d0, q1, r0, m1, 'sms-sentinel/acl/request/send_sms'" in \
            broker.proc.output(), broker.proc.output()
        log("ha's send_sms: ok and sent; guest's identical one dropped by the broker (no response, not sent)")

        for topic, payload in (("sms-sentinel/acl/availability", "offline"),
                               ("sms-sentinel/acl/state", '{"health":"failed"}')):
            r = broker.publish("guest", topic, payload, retain=True)
            assert r.returncode == 0, r.stderr
        r = broker.publish("ha", "sms-sentinel/acl/availability", "offline", retain=True)
        assert r.returncode == 0, r.stderr
        # A marker after the fakes: once it arrives, a fake would have arrived too.
        broker.publish("ha", "homeassistant/acl-test/marker", "m")
        wait_until(lambda: sub.last("homeassistant/acl-test/marker") == "m", 10, "marker")
        assert sub.last("sms-sentinel/acl/availability") == "online"
        assert sub.json_matching("sms-sentinel/acl/state", lambda s: s.get("health") == "failed") is None
        log("guest and ha cannot fake the retained availability or state")

        # HA's birth message reaches the daemon (its discovery answer is test_discovery's business).
        broker.publish("ha", "homeassistant/status", "online")
        delivered = re.compile(r"Sending PUBLISH to sms-sentinel-acl \([^)]*'homeassistant/status'")
        wait_until(lambda: delivered.search(broker.proc.output()), 10, "homeassistant/status delivered to the daemon")
        out = broker.proc.output()
        assert "Denied PUBLISH from sms-sentinel-acl" not in out and "refused subscription" not in d.output(), out
        assert d.alive()
        log("homeassistant/status delivered to the daemon; the daemon was never denied a publish or subscription")
    print("4 passed, 0 failed")


if __name__ == "__main__":
    main()
