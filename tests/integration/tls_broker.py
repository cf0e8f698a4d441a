"""A real mosquitto with TLS and logins for the TLS and ACL tests: a throwaway
PKI made with openssl (argv, no shell), a password file made with
mosquitto_passwd, listeners on free 127.0.0.1 ports, optional acl_file.
Helpers to run mosquitto_pub/_sub against it as a given user."""

import os
import pwd
import socket
import subprocess

from harness import Proc, free_port, wait_until


def openssl(workdir, *args):
    r = subprocess.run(["openssl"] + list(args), cwd=workdir, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, "openssl %s: %s" % (" ".join(args), r.stderr)


EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


class Pki:
    """ca.crt signs server.crt (CN and SAN 127.0.0.1, localhost) and client.crt;
    other-ca.crt is an unrelated CA (the "wrong CA")."""

    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "pki")
        os.makedirs(self.dir)
        d = self.dir
        openssl(d, "req", "-x509", *EC, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=test CA")
        openssl(d, "req", "-x509", *EC, "-keyout", "other-ca.key", "-out", "other-ca.crt", "-days", "2",
                "-subj", "/CN=some other CA")
        self._signed("server", "/CN=127.0.0.1",
                     "subjectAltName = IP:127.0.0.1, DNS:localhost\nextendedKeyUsage = serverAuth\n")
        self._signed("client", "/CN=sms-sentinel", "extendedKeyUsage = clientAuth\n")
        for name in ("ca", "other-ca", "server", "client"):
            setattr(self, name.replace("-", "_") + "_crt", os.path.join(d, name + ".crt"))
            setattr(self, name.replace("-", "_") + "_key", os.path.join(d, name + ".key"))

    def _signed(self, name, subject, extensions):
        d = self.dir
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write(extensions)
        openssl(d, "req", "-new", *EC, "-keyout", name + ".key", "-out", name + ".csr", "-subj", subject)
        openssl(d, "x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", name + ".crt", "-days", "2", "-extfile", name + ".ext")


class TlsBroker:
    """mosquitto with allow_anonymous false and a password_file; listener `port`
    is TLS, listener `cert_port` is TLS with require_certificate. users maps
    user name -> password."""

    def __init__(self, env, pki, users, acl_file=None, name="mosquitto-tls"):
        self.env, self.pki, self.users = env, pki, users
        self.passwd = os.path.join(env.dir, name + ".passwd")
        first = True
        for user, password in users.items():
            args = ["mosquitto_passwd", "-b"] + (["-c"] if first else []) + [self.passwd, user, password]
            subprocess.run(args, check=True, capture_output=True, timeout=30)
            first = False
        os.chmod(self.passwd, 0o600)
        self.port, self.cert_port = free_port(), free_port()
        tls = "cafile %s\ncertfile %s\nkeyfile %s\n" % (pki.ca_crt, pki.server_crt, pki.server_key)
        conf = os.path.join(env.dir, name + ".conf")
        with open(conf, "w") as f:
            # Run as us: as root, mosquitto would drop to user "mosquitto", who cannot read the keys.
            f.write("user %s\nper_listener_settings false\nallow_anonymous false\npassword_file %s\n"
                    "persistence false\nlog_dest stdout\nlog_type all\n" % (pwd.getpwuid(os.getuid()).pw_name,
                                                                             self.passwd))
            if acl_file:
                f.write("acl_file %s\n" % acl_file)
            f.write("listener %d 127.0.0.1\n%s" % (self.port, tls))
            f.write("listener %d 127.0.0.1\n%srequire_certificate true\n" % (self.cert_port, tls))
        # stdbuf: its stdout log is read while it runs.
        self.proc = env.track(Proc(name, ["stdbuf", "-oL", "mosquitto", "-c", conf], env.dir))
        wait_until(lambda: self._listening(self.port) and self._listening(self.cert_port), 10, "mosquitto TLS")

    def _listening(self, port):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            return False

    def client_args(self, user):
        """mosquitto_sub/_pub options to log in as user over TLS (plain listener)."""
        return ["--cafile", self.pki.ca_crt, "-u", user, "-P", self.users[user]]

    def subscribe(self, user, pattern):
        return self.env.subscribe(self.port, pattern, self.client_args(user))

    def publish(self, user, topic, payload, retain=False):
        """mosquitto_pub as user, QoS 1 (the broker acknowledges even a publish the ACL drops)."""
        argv = ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.port), "-t", topic, "-s", "-q", "1",
                "-i", "pub-" + user]  # the broker's log names it
        argv += self.client_args(user) + (["-r"] if retain else [])
        return subprocess.run(argv, input=payload.encode(), capture_output=True, timeout=15)

    def log_count(self, text):
        return self.proc.output().count(text)
