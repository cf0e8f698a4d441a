"""Integration test harness: real mosquitto on a free 127.0.0.1 port, the pty
modem emulator, the real gammu-smsd on it and the real sms-sentinel binary,
each in a private temp dir. Python stdlib only; MQTT is observed through
mosquitto_sub so the tests use the same client a user would."""

import glob
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

SRC_DIR = os.environ.get("SRC_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
SMS_SENTINEL = os.environ.get("SMS_SENTINEL", os.path.join(SRC_DIR, "build-release", "sms-sentinel"))
EMULATOR = os.path.join(SRC_DIR, "tests", "emulator", "modem_emulator.py")
sys.path.insert(0, os.path.join(SRC_DIR, "tests", "emulator"))


def log(msg):
    print("[%7.2f] %s" % (time.monotonic() - START, msg), flush=True)


START = time.monotonic()

# SMS_VALGRIND=1 runs every sms-sentinel (the daemon and the CLI commands) under
# valgrind memcheck; a log with an error fails the test. Waits stretch by
# SMS_TIME_FACTOR (default 3 under valgrind, else 1).
VALGRIND = os.environ.get("SMS_VALGRIND") == "1"
TIME_FACTOR = float(os.environ.get("SMS_TIME_FACTOR", "3" if VALGRIND else "1"))
VALGRIND_STATUS = 99
VALGRIND_ERROR = re.compile(r"Invalid (read|write|free)|uninitialised|Mismatched free|Source and destination overlap|"
                            r"(definitely|indirectly) lost in loss record|ERROR SUMMARY: [1-9]")


def sentinel_argv(workdir, args):
    """The sms-sentinel command line, under valgrind when SMS_VALGRIND=1."""
    if not VALGRIND:
        return [SMS_SENTINEL] + list(args)
    return ["valgrind", "--tool=memcheck", "--error-exitcode=%d" % VALGRIND_STATUS, "--leak-check=full",
            "--errors-for-leak-kinds=definite,indirect", "--track-fds=no",
            "--log-file=" + os.path.join(workdir, "valgrind-sms-sentinel.%p.log"), SMS_SENTINEL] + list(args)


def run_sentinel(args, timeout=30):
    """Runs one sms-sentinel command to its end (captured, text); under
    SMS_VALGRIND=1 its valgrind log must be clean."""
    if not VALGRIND:
        return subprocess.run([SMS_SENTINEL] + list(args), capture_output=True, text=True, timeout=timeout)
    logdir = tempfile.mkdtemp(prefix="sms-sentinel-valgrind-")
    r = subprocess.run(sentinel_argv(logdir, args), capture_output=True, text=True, timeout=timeout * TIME_FACTOR)
    problems = valgrind_problems(logdir)
    assert r.returncode != VALGRIND_STATUS and not problems, "valgrind: %s\n%s" % (args, "\n".join(problems))
    shutil.rmtree(logdir, ignore_errors=True)
    return r


def valgrind_problems(workdir):
    """Text of every valgrind log in workdir that reports an error."""
    bad = []
    for path in sorted(glob.glob(os.path.join(workdir, "valgrind-*.log"))):
        text = read(path)
        if VALGRIND_ERROR.search(text):
            bad.append("----- %s -----\n%s" % (path, text[-20000:]))
    return bad


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(pred, timeout, what, interval=0.05):
    """Polls pred until it returns a true value; fails the test after timeout."""
    timeout *= TIME_FACTOR
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = pred()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))


class Proc:
    """A child process whose output goes to a file, killed at teardown."""

    def __init__(self, name, argv, workdir, env=None, stdin=subprocess.DEVNULL):
        self.name = name
        self.out_path = os.path.join(workdir, name + ".out")
        self.out = open(self.out_path, "wb")
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.p = subprocess.Popen(argv, stdout=self.out, stderr=subprocess.STDOUT, stdin=stdin, env=full_env,
                                  start_new_session=True)

    def output(self):
        with open(self.out_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def alive(self):
        return self.p.poll() is None

    def signal(self, sig):
        if self.alive():
            self.p.send_signal(sig)

    def stop(self, timeout=5):
        if self.alive():
            self.p.terminate()
            try:
                self.p.wait(timeout * TIME_FACTOR)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait()
        self.out.close()
        return self.p.returncode


class Broker:
    def __init__(self, env, port=None, persistent=False):
        self.port = port or free_port()
        conf = os.path.join(env.dir, "mosquitto.conf")
        with open(conf, "w") as f:
            f.write("listener %d 127.0.0.1\nallow_anonymous true\n" % self.port)
            if persistent:  # sessions and queued QoS 1 messages (no limit) survive a restart
                f.write("persistence true\npersistence_location %s/\nuser %s\nmax_queued_messages 0\n"
                        % (env.dir, pwd.getpwuid(os.getuid()).pw_name))
            else:
                f.write("persistence false\n")
        self.conf = conf
        self.env = env
        self.proc = Proc("mosquitto", ["mosquitto", "-c", conf], env.dir)
        wait_until(self._listening, 10, "mosquitto on port %d" % self.port)

    def stop(self):
        self.proc.stop()

    def start(self):
        """Starts it again on the same port (after stop)."""
        self.env.procs.remove(self.proc)
        self.proc = Proc("mosquitto", ["mosquitto", "-c", self.conf], self.env.dir)
        self.env.procs.append(self.proc)
        wait_until(self._listening, 10, "mosquitto on port %d again" % self.port)

    def _listening(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return True
        except OSError:
            return False


class Subscriber:
    """mosquitto_sub -v on a topic pattern; collects (topic, payload) pairs."""

    def __init__(self, env, port, pattern, args=()):
        self.messages = []
        self.lock = threading.Lock()
        argv = ["stdbuf", "-oL", "mosquitto_sub", "-h", "127.0.0.1", "-p", str(port), "-t", pattern, "-v",
                "-F", "%t\t%p"] + list(args)  # args: e.g. TLS and credentials
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for raw in self.p.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            topic, _, payload = line.partition("\t")
            with self.lock:
                self.messages.append((topic, payload))

    def find(self, topic_suffix, pred=lambda payload: True):
        with self.lock:
            msgs = list(self.messages)
        for topic, payload in msgs:
            if topic.endswith(topic_suffix) and pred(payload):
                return payload
        return None

    def json_matching(self, topic_suffix, pred):
        def test(payload):
            try:
                return pred(json.loads(payload))
            except ValueError:
                return False
        p = self.find(topic_suffix, test)
        return json.loads(p) if p is not None else None

    def wait_json(self, topic_suffix, pred, timeout, what):
        return wait_until(lambda: self.json_matching(topic_suffix, pred), timeout, what)

    def last(self, topic_suffix):
        with self.lock:
            for topic, payload in reversed(self.messages):
                if topic.endswith(topic_suffix):
                    return payload
        return None

    def stop(self):
        self.p.terminate()
        self.p.wait()


class Emulator:
    def __init__(self, env, name="modem"):
        self.link = os.path.join(env.dir, name)
        self.control = os.path.join(env.dir, name + ".ctl")
        self.proc = Proc("emulator-" + name, [sys.executable, EMULATOR, "--link", self.link, "--control",
                                             self.control], env.dir)
        wait_until(lambda: "READY" in self.proc.output() or not self.proc.alive(), 10, "emulator READY")
        assert self.proc.alive(), self.proc.output()
        import emuctl
        self.client = emuctl.EmuClient(self.control)

    def cmd(self, line):
        return self.client.cmd(line)


SMSDRC_TEMPLATE = """[gammu]
device = {device}
connection = at
[smsd]
service = files
logfile = {logfile}
debuglevel = 1
inboxpath = {spool}/inbox/
outboxpath = {spool}/outbox/
sentsmspath = {spool}/sent/
errorsmspath = {spool}/error/
inboxformat = standard
transmitformat = auto
commtimeout = 1
receivefrequency = 5
loopsleep = 1
statusfrequency = 0
checksecurity = 1
checkbattery = 0
checksignal = 0
checknetwork = 0
"""
# The settings of tests/emulator/gammurig.py FAST_SMSD: checksecurity = 1 makes
# AT+CPIN? the command a hang hits, so gammu-smsd logs TIMEOUT after about 84 s.
SMSD_ENV = {"LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}


class Smsd:
    def __init__(self, env, device):
        self.spool = os.path.join(env.dir, "spool")
        for d in ("inbox", "outbox", "sent", "error"):
            os.makedirs(os.path.join(self.spool, d), exist_ok=True)
        self.logfile = os.path.join(env.dir, "smsd.log")
        self.pidfile = os.path.join(env.dir, "smsd.pid")
        self.rc = os.path.join(env.dir, "gammu-smsdrc")
        with open(self.rc, "w") as f:
            f.write(SMSDRC_TEMPLATE.format(device=device, logfile=self.logfile, spool=self.spool))
        self.env = env
        self.proc = None

    def start(self):
        self.proc = Proc("gammu-smsd", ["gammu-smsd", "-c", self.rc, "-p", self.pidfile], self.env.dir, env=SMSD_ENV)
        return self

    def control_lines(self):
        """[smsd] commands so the daemon can restart this gammu-smsd itself."""
        return ("start_command = env LANG=C.UTF-8 LC_ALL=C.UTF-8 gammu-smsd -c %s -p %s -d\n"
                "stop_command =\nrestart_command =\n" % (self.rc, self.pidfile))

    def log(self):
        try:
            with open(self.logfile, encoding="utf-8", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""


class Daemon:
    def __init__(self, env, broker_port, smsd, extra="", smsd_extra=None):
        self.env = env
        self.state_dir = os.path.join(env.dir, "state")
        self.conf = os.path.join(env.dir, "sms-sentinel.conf")
        with open(self.conf, "w") as f:
            f.write("[agent]\nnode_id = test\nstate_dir = %s\nlog_level = debug\n"
                    "[smsd]\nconfig = %s\npidfile = %s\n%s"
                    "[mqtt]\nhost = 127.0.0.1\nport = %d\nkeepalive = 10\n%s"
                    % (self.state_dir, smsd.rc, smsd.pidfile, smsd_extra if smsd_extra is not None else
                       smsd.control_lines(), broker_port, extra))
        self.proc = None

    def start(self, *args):
        self.proc = Proc("sms-sentinel", sentinel_argv(self.env.dir, ["-c", self.conf] + list(args)), self.env.dir)
        return self

    def run(self, *args, timeout=30):
        return run_sentinel(list(args) + ["-c", self.conf], timeout)


def fake_sysfs(root, port="1-1.2", vid="19d2", pid="0031", serial="MF112-0001"):
    """A sysfs tree with one USB modem at port, as the kernel lays it out:
    the device folder with idVendor/idProduct/authorized, an interface with a
    ttyUSB, bus/usb/devices links and the usb driver's bind/unbind files."""
    dev = os.path.join(root, "devices", "pci0000:00", "0000:00:14.0", "usb1", "1-1", port)
    os.makedirs(os.path.join(dev, port + ":1.0", "ttyUSB0"), exist_ok=True)
    for name, value in (("idVendor", vid), ("idProduct", pid), ("serial", serial), ("busnum", "1"),
                        ("devnum", "7"), ("authorized", "1")):
        with open(os.path.join(dev, name), "w") as f:
            f.write(value + "\n")
    links = os.path.join(root, "bus", "usb", "devices")
    os.makedirs(links, exist_ok=True)
    os.symlink(os.path.relpath(dev, links), os.path.join(links, port))
    driver = os.path.join(root, "bus", "usb", "drivers", "usb")
    os.makedirs(driver, exist_ok=True)
    for name in ("bind", "unbind"):
        open(os.path.join(driver, name), "w").close()
    return dev


def read(path):
    with open(path) as f:
        return f.read()


def pid_alive(pidfile):
    try:
        pid = int(read(pidfile).strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


class Env:
    """A temp dir and everything started in it; torn down on exit."""

    def __init__(self, name):
        self.dir = tempfile.mkdtemp(prefix="sms-sentinel-%s-" % name)
        self.procs = []
        self.subs = []

    def __enter__(self):
        return self

    def track(self, obj):
        self.procs.append(obj)
        return obj

    def broker(self, port=None, persistent=False):
        """A mosquitto; port: a port picked earlier (the daemon may already be trying it)."""
        b = Broker(self, port, persistent)
        self.procs.append(b.proc)
        return b

    def subscribe(self, port, pattern="#", args=()):
        s = Subscriber(self, port, pattern, args)
        self.subs.append(s)
        return s

    def emulator(self, name="modem"):
        e = Emulator(self, name)
        self.procs.append(e.proc)
        return e

    def smsd(self, device):
        return Smsd(self, device)

    def start_smsd(self, smsd):
        smsd.start()
        self.procs.append(smsd.proc)
        return smsd

    def daemon(self, port, smsd, extra="", smsd_extra=None):
        return Daemon(self, port, smsd, extra, smsd_extra)

    def start_daemon(self, d, *args):
        d.start(*args)
        self.procs.append(d.proc)
        return d

    def __exit__(self, exc_type, exc, tb):
        for s in self.subs:
            s.stop()
        statuses = [(p.name, p.stop()) for p in reversed(self.procs)]
        # gammu-smsd instances the daemon started itself (daemonized, -d).
        pidfile = os.path.join(self.dir, "smsd.pid")
        pid = pid_alive(pidfile) if os.path.exists(pidfile) else None
        if pid:
            os.kill(pid, signal.SIGKILL)
        if VALGRIND and exc_type is None:
            problems = valgrind_problems(self.dir)
            flagged = [name for name, rc in statuses if name == "sms-sentinel" and rc == VALGRIND_STATUS]
            if problems or flagged:
                sys.stdout.write("\n".join(problems) + "\n")
                raise AssertionError("valgrind found errors (exit status %d: %s); logs in %s"
                                     % (VALGRIND_STATUS, flagged, self.dir))
        if exc_type is not None:
            if VALGRIND:
                sys.stdout.write("\n".join(valgrind_problems(self.dir)) + "\n")
            for p in self.procs:
                sys.stdout.write("----- %s output -----\n%s\n" % (p.name, p.output()[-6000:]))
            log_path = os.path.join(self.dir, "smsd.log")
            if os.path.exists(log_path):
                with open(log_path, errors="replace") as f:
                    sys.stdout.write("----- smsd.log -----\n%s\n" % f.read()[-4000:])
        else:
            shutil.rmtree(self.dir, ignore_errors=True)
        return False
