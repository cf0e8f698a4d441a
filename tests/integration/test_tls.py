"""TLS and logins against a real mosquitto (allow_anonymous false, a
password_file, one listener with require_certificate) with a PKI made by
openssl in the test: (a) TLS + username/password_file connects, goes online
and sends an SMS through gammu-smsd, and the password is never in the log,
the command line or the environment; a SIGHUP to a config whose tls_ca
cannot be read is refused and the connection kept; (b) a wrong password is named as a
refused login, retried with backoff, and fixing the file connects (with
SIGHUP, and without it on the next retry); (c) a wrong CA is named as a
certificate verification failure and retried; a missing CA file stops the
start with its name; (d) a listener that requires a client certificate
accepts tls_cert/tls_key and names the missing certificate otherwise;
(e) check-config reports a missing, unreadable, empty or world-readable
password_file and the 8883 default port."""

import json
import os
import re
import signal
import subprocess

from harness import SMS_SENTINEL, Env, Proc, log, wait_until
from tls_broker import Pki, TlsBroker

PASSWORD = "Tls-pw-7f4a9c"  # grepped for everywhere the daemon writes
WRONG = "not-the-pw-31d8"
USERS = {"sentinel": PASSWORD, "watcher": "watch-pw"}


def write_secret(path, text, mode=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


class Sentinel:
    """One daemon with its own config, node_id (= name) and state dir."""

    def __init__(self, env, name, smsd, mqtt):
        self.env, self.name = env, name
        self.conf = os.path.join(env.dir, name + ".conf")
        with open(self.conf, "w") as f:
            f.write("[agent]\nnode_id = %s\nstate_dir = %s\nlog_level = debug\n[smsd]\nconfig = %s\npidfile = %s\n"
                    "%s[mqtt]\nhost = 127.0.0.1\nkeepalive = 10\n%s"
                    % (name, os.path.join(env.dir, "state-" + name), smsd.rc, smsd.pidfile, smsd.control_lines(),
                       mqtt))
        self.proc = None

    def start(self):
        self.proc = self.env.track(Proc("sentinel-" + self.name, [SMS_SENTINEL, "-c", self.conf], self.env.dir))
        return self

    def out(self):
        return self.proc.output()

    def wait_log(self, text, timeout=30):
        wait_until(lambda: text in self.out() or not self.proc.alive(), timeout, repr(text))
        assert text in self.out(), self.out()

    def wait_attempts(self, n, timeout=60):
        """Until the log shows that attempt n failed (at warn or at debug)."""
        pat = re.compile(r"\(attempt %d, next in|attempt %d failed the same way" % (n, n))
        wait_until(lambda: pat.search(self.out()) or not self.proc.alive(), timeout, "%d failed attempts" % n)
        assert self.proc.alive(), self.out()

    def check_config(self):
        return subprocess.run([SMS_SENTINEL, "check-config", "-c", self.conf], capture_output=True, text=True,
                              timeout=30)


def mqtt_lines(broker, port=None, password_file=None, ca=None, cert=None, user="sentinel"):
    text = "port = %d\ntls_ca = %s\n" % (port or broker.port, ca or broker.pki.ca_crt)
    if user:
        text += "username = %s\npassword_file = %s\n" % (user, password_file)
    if cert:
        text += "tls_cert = %s\ntls_key = %s\n" % (broker.pki.client_crt, broker.pki.client_key)
    return text


def online(sub, node):
    wait_until(lambda: sub.last("sms-sentinel/%s/availability" % node) == "online", 30, node + " online")


def no_secret_anywhere(s):
    """The password is not in the daemon's log, its command line or its environment."""
    pid = s.proc.p.pid
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        cmdline = f.read()
    with open("/proc/%d/environ" % pid, "rb") as f:
        environ = f.read()
    for where, text in (("log", s.out().encode()), ("cmdline", cmdline), ("environ", environ)):
        assert PASSWORD.encode() not in text and WRONG.encode() not in text, where


def case_a(env, broker, sub, smsd, emu):
    pw = os.path.join(env.dir, "a.pw")
    write_secret(pw, PASSWORD + "\n")
    s = Sentinel(env, "a", smsd, mqtt_lines(broker, password_file=pw) + "[sms]\nallowed_recipients = +336*\n").start()
    s.wait_log("mqtt: connected to 127.0.0.1:%d over TLS as user sentinel" % broker.port)
    online(sub, "a")
    r = broker.publish("watcher", "sms-sentinel/a/request/send_sms",
                       json.dumps({"number": "+33612345678", "text": "over TLS", "transaction": "tls1"}))
    assert r.returncode == 0, r.stderr
    ok = sub.wait_json("sms-sentinel/a/response/send_sms", lambda m: m.get("transaction") == "tls1", 15, "response")
    assert ok["status"] == "ok", ok
    out = sub.wait_json("sms-sentinel/a/sms/sent", lambda m: m.get("transaction") == "tls1", 90, "sms/sent")
    assert out["status"] == "sent" and out["id"] == ok["data"]["id"], out
    assert any(m["text"] == "over TLS" for m in emu.client.sent_joined())
    no_secret_anywhere(s)
    cc = s.check_config()
    assert cc.returncode == 0 and PASSWORD not in cc.stdout + cc.stderr, cc
    assert "ok: password_file %s is readable and private" % pw in cc.stdout, cc.stdout
    log("(a) TLS + password_file: online, send_sms sent by the modem, password in no log/cmdline/environ")

    # SIGHUP with a tls_ca that cannot be read: refused, the working connection kept.
    good = open(s.conf).read()
    missing = os.path.join(env.dir, "moved-ca.crt")
    with open(s.conf, "w") as f:
        f.write(good.replace("tls_ca = %s" % broker.pki.ca_crt, "tls_ca = %s" % missing))
    s.proc.signal(signal.SIGHUP)
    s.wait_log("reload: mqtt: tls_ca %s: cannot be read: No such file or directory; keeping the running config"
               % missing)
    broker.publish("watcher", "sms-sentinel/a/request/health_check", json.dumps({"transaction": "hc1"}))
    hc = sub.wait_json("sms-sentinel/a/response/health_check", lambda m: m.get("transaction") == "hc1", 15,
                       "health_check answered after the refused reload")
    assert hc["status"] == "ok" and sub.last("sms-sentinel/a/availability") == "online", hc
    s.proc.stop()
    log("(a) SIGHUP with an unreadable tls_ca: reload refused, still connected and answering")


def case_b(env, broker, sub, smsd):
    pw = os.path.join(env.dir, "b.pw")
    write_secret(pw, WRONG + "\n")
    refused_before = broker.log_count("disconnected, not authorised")
    s = Sentinel(env, "b", smsd, mqtt_lines(broker, password_file=pw)).start()
    s.wait_log("mqtt: broker 127.0.0.1:%d refused the login of user 'sentinel': Not authorized (MQTT reason 135); "
               "check the password in %s; retrying with backoff" % (broker.port, pw))
    s.wait_attempts(2)
    wait_until(lambda: broker.log_count("disconnected, not authorised") - refused_before >= 2, 10,
               "two refused logins at the broker")
    assert s.out().count("refused the login") == 1, "a repeat is logged at debug only"
    assert s.proc.alive()
    write_secret(pw, PASSWORD + "\n")
    s.proc.signal(signal.SIGHUP)
    s.wait_log("mqtt: trying again now")
    s.wait_log("mqtt: connected to 127.0.0.1:%d over TLS as user sentinel" % broker.port)
    online(sub, "b")
    no_secret_anywhere(s)
    s.proc.stop()
    log("(b) wrong password: named refusal, %d refused attempts at the broker, fixed file + SIGHUP connects"
        % (broker.log_count("disconnected, not authorised") - refused_before))

    # Without SIGHUP: the next retry re-reads password_file.
    pw2 = os.path.join(env.dir, "b2.pw")
    write_secret(pw2, WRONG + "\n")
    s = Sentinel(env, "b2", smsd, mqtt_lines(broker, password_file=pw2)).start()
    s.wait_log("refused the login of user 'sentinel'")
    write_secret(pw2, PASSWORD + "\n")
    s.wait_log("mqtt: connected to 127.0.0.1:%d" % broker.port, 60)
    online(sub, "b2")
    assert "reloaded" not in s.out()
    s.proc.stop()
    log("(b) a fixed password_file is used by the next retry without SIGHUP")


def case_c(env, broker, sub, smsd):
    pw = os.path.join(env.dir, "c.pw")
    write_secret(pw, PASSWORD + "\n")
    tls_errors_before = broker.log_count("OpenSSL Error")
    s = Sentinel(env, "c", smsd, mqtt_lines(broker, password_file=pw, ca=broker.pki.other_ca_crt)).start()
    s.wait_log("mqtt: TLS with 127.0.0.1:%d failed: certificate verify failed; the broker's certificate is not "
               "signed by tls_ca %s or does not name host 127.0.0.1; retrying with backoff"
               % (broker.port, broker.pki.other_ca_crt))
    s.wait_attempts(2)
    wait_until(lambda: broker.log_count("OpenSSL Error") - tls_errors_before >= 2, 10, "two TLS failures at the broker")
    assert s.proc.alive() and sub.last("sms-sentinel/c/availability") is None
    s.proc.stop()
    log("(c) wrong CA: certificate verify failed, named tls_ca, retried, no crash")

    missing = os.path.join(env.dir, "no-such-ca.crt")
    s = Sentinel(env, "c2", smsd, mqtt_lines(broker, password_file=pw, ca=missing)).start()
    wait_until(lambda: not s.proc.alive(), 15, "exit on a missing tls_ca")
    assert s.proc.p.returncode != 0
    assert "mqtt: tls_ca %s: cannot be read: No such file or directory" % missing in s.out(), s.out()
    cc = s.check_config()
    assert "warning: tls_ca %s: cannot be read" % missing in cc.stdout, cc.stdout
    log("(c) missing tls_ca file: the start stops naming it (exit %d); check-config warns" % s.proc.p.returncode)


def case_d(env, broker, sub, smsd):
    pw = os.path.join(env.dir, "d.pw")
    write_secret(pw, PASSWORD + "\n")
    s = Sentinel(env, "d", smsd, mqtt_lines(broker, port=broker.cert_port, password_file=pw, cert=True)).start()
    s.wait_log("mqtt: connected to 127.0.0.1:%d over TLS with a client certificate as user sentinel"
               % broker.cert_port)
    online(sub, "d")
    s.proc.stop()
    s = Sentinel(env, "d2", smsd, mqtt_lines(broker, port=broker.cert_port, password_file=pw)).start()
    # Mostly OpenSSL's "tlsv13 alert certificate required"; when the alert is lost in the
    # reset connection, only "Protocol error" before CONNACK (both sentences name the keys).
    s.wait_log("set tls_cert and tls_key; retrying with backoff")
    s.wait_attempts(2)
    assert "the broker wants a client certificate: set tls_cert and tls_key" in s.out() or \
        "Protocol error before the broker answered" in s.out(), s.out()
    assert s.proc.alive() and sub.last("sms-sentinel/d2/availability") is None
    s.proc.stop()
    log("(d) require_certificate: tls_cert/tls_key connect; without them the missing certificate is named")


def case_e(env, broker, smsd):
    pw = os.path.join(env.dir, "e.pw")
    s = Sentinel(env, "e", smsd, "tls_ca = %s\nusername = sentinel\npassword_file = %s\n" % (broker.pki.ca_crt, pw))
    cases = [(None, "warning: password_file %s: cannot be read by this user: No such file or directory" % pw),
             ("dir", "warning: password_file %s: cannot be read by this user: Is a directory" % pw),
             ((PASSWORD + "\n", 0o644), "warning: password_file %s: readable by every user (mode 0644)" % pw),
             (("", 0o600), "warning: password_file %s: is empty" % pw),
             ((PASSWORD + "\n", 0o640), "ok: password_file %s is readable and private" % pw)]
    for what, want in cases:
        if os.path.isdir(pw):
            os.rmdir(pw)
        elif os.path.exists(pw):
            os.unlink(pw)
        if what == "dir":
            os.mkdir(pw)
        elif what:
            write_secret(pw, what[0], what[1])
        cc = s.check_config()
        assert cc.returncode == 0 and want in cc.stdout, (want, cc.stdout, cc.stderr)
        assert PASSWORD not in cc.stdout + cc.stderr
    assert "port = 8883" in cc.stdout, cc.stdout
    os.unlink(pw)
    s.start()
    wait_until(lambda: not s.proc.alive(), 15, "exit on a missing password_file")
    assert "cannot read password_file %s: No such file or directory" % pw in s.out(), s.out()
    log("(e) check-config: missing, unreadable, world-readable, empty password_file; port 8883 with tls_ca")


def main():
    with Env("tls") as env:
        pki = Pki(env.dir)
        broker = TlsBroker(env, pki, USERS)
        sub = broker.subscribe("watcher", "sms-sentinel/#")
        emu = env.emulator()
        smsd = env.start_smsd(env.smsd(emu.link))
        case_a(env, broker, sub, smsd, emu)
        case_b(env, broker, sub, smsd)
        case_c(env, broker, sub, smsd)
        case_d(env, broker, sub, smsd)
        case_e(env, broker, smsd)
    print("5 passed, 0 failed")


if __name__ == "__main__":
    main()
