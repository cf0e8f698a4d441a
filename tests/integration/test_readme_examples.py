"""Every mosquitto_pub / mosquitto_sub / mosquitto_rr command in README.md's shell
code blocks (```sh, ```bash, ```shell, bare ```), run as shown (argv from shlex,
never a shell) against a real daemon, mosquitto, gammu-smsd and the emulated
modem; only the broker address is changed (-h/-p). The daemon runs with base_topic sms-sentinel/pi, the README's.

What each command must do comes from the comments beside it:
  # <topic>: <json>     a message on <topic> (or a topic ending in /<topic>)
                        whose JSON matches (keys present, values equal except
                        ids, times and durations, where only the type counts)
  # <json>              after a mosquitto_sub/_rr: it prints such a payload
  # <topic> <text>      after a mosquitto_sub -v: it prints that line
Other comments are prose. A mosquitto_sub without -C runs until it printed a
message (retained ones come at once) and is then stopped. A send_sms request
must also reach the modem. Anything this test cannot run or check (an
unknown option, a pipe, a publish without a checkable comment) fails and
names the README line: teach this file the new shape."""

import json
import os
import re
import shlex
import subprocess
import sys
import threading
import time

from harness import SRC_DIR, Env, log, wait_until

BASE = "sms-sentinel/pi"
README = os.path.join(SRC_DIR, "README.md")
WAIT = 120  # seconds for an expectation (an SMS through gammu-smsd takes ~10)
# Options with a value / without one, per client. Anything else is refused.
OPTIONS = {
    "mosquitto_pub": ({"-h", "-p", "-t", "-m", "-q", "-V", "-i", "-k"}, {"-r", "-n"}),
    "mosquitto_sub": ({"-h", "-p", "-t", "-C", "-W", "-q", "-V", "-i", "-k", "-T"}, {"-v", "-R", "-N"}),
    "mosquitto_rr": ({"-h", "-p", "-t", "-e", "-m", "-q", "-W", "-V", "-i", "-k"}, {"-v", "-N"}),
}
SHELL_OPS = {"|", "||", "&", "&&", ";", ">", ">>", "<", "(", ")"}
# Keys whose values change from run to run: only their type is compared.
VARIABLE = {"id", "ids", "duration_ms", "at", "since", "received_at", "started_at", "uptime_s", "pid",
            "sw_version", "message_reference"}


class ReadmeError(AssertionError):
    pass


def split_comment(line):
    """(code, comment) split at the first unquoted '#' that starts a word, as sh does."""
    quote = None
    i = 0
    while i < len(line):
        c = line[i]
        if quote:
            if c == quote:
                quote = None
            elif c == "\\" and quote == '"':
                i += 1
        elif c in "'\"":
            quote = c
        elif c == "\\":
            i += 1
        elif c == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip(), line[i + 1:].strip()
        i += 1
    return line.rstrip(), None


SHELL_BLOCKS = {"", "sh", "bash", "shell"}  # ```json, ```ini, ```text ... hold no commands


def code_blocks(text):
    """(first line number, body lines) of every fenced shell code block."""
    blocks, current, start, lang = [], None, 0, ""
    for n, line in enumerate(text.split("\n"), 1):
        if line.startswith("```"):
            if current is None:
                current, start, lang = [], n + 1, line[3:].strip().lower()
            else:
                if lang in SHELL_BLOCKS:
                    blocks.append((start, current))
                current = None
        elif current is not None:
            current.append(line)
    return blocks


def parse_expectation(text, where):
    if "{" in text or "[" in text:
        m = re.match(r"^([A-Za-z0-9_./+#-]+):\s+(.*)$", text)
        topic, body = (m.group(1), m.group(2)) if m else (None, text)
        try:
            return ("json", topic, json.loads(body))
        except ValueError as e:
            raise ReadmeError("%s: the comment '%s' holds JSON that does not parse (%s)" % (where, text, e))
    m = re.match(r"^([A-Za-z0-9_.+-]+/[A-Za-z0-9_./+-]+)\s+(\S+)$", text)
    if m:
        return ("line", m.group(1), m.group(2))
    return None  # prose


def parse_command(code, where):
    try:
        lex = shlex.shlex(code, posix=True, punctuation_chars=True)
        lex.whitespace_split = True
        tokens = list(lex)
        argv = shlex.split(code)
    except ValueError as e:
        raise ReadmeError("%s: cannot split '%s': %s" % (where, code, e))
    ops = [t for t in tokens if t in SHELL_OPS]
    if ops or any(t.startswith("$") for t in argv):
        raise ReadmeError("%s: shell syntax %s in '%s': this test runs one client per line, no shell" %
                          (where, ops or "$", code))
    prog = argv[0]
    if prog not in OPTIONS:
        raise ReadmeError("%s: '%s' is not a command shape this test knows (mosquitto_pub, mosquitto_sub, "
                          "mosquitto_rr at the start of a line)" % (where, code))
    with_value, flags = OPTIONS[prog]
    opts, i = [], 1
    while i < len(argv):
        a = argv[i]
        if a in with_value and i + 1 < len(argv):
            opts.append((a, argv[i + 1]))
            i += 2
        elif a in flags:
            opts.append((a, None))
            i += 1
        else:
            raise ReadmeError("%s: option '%s' of %s is not supported by this test (in '%s')" % (where, a, prog, code))
    if not any(o == "-t" for o, _ in opts):
        raise ReadmeError("%s: %s without -t" % (where, prog))
    return {"prog": prog, "opts": opts, "where": where, "code": code, "expect": []}


def extract(text):
    """Commands grouped by code block, each with its expectations."""
    groups = []
    for start, lines in code_blocks(text):
        cmds, pending, first = [], "", None
        for k, raw in enumerate(lines):
            first = start + k if first is None else first
            line = pending + raw.strip()
            if line.endswith("\\"):
                pending = line[:-1] + " "
                continue
            n, pending, first = first, "", None
            code, comment = split_comment(line)
            where = "README.md:%d" % n
            if code and "mosquitto_" in code:
                cmds.append(parse_command(code, where))
            elif code:
                cmds.append(None)  # another command: comments after it are not ours
            if comment is not None and cmds and cmds[-1] is not None:
                e = parse_expectation(comment, where)
                if e:
                    cmds[-1]["expect"].append(e)
        cmds = [c for c in cmds if c]
        if cmds:
            groups.append(cmds)
    return groups


def validate(groups):
    """Static checks before anything runs: every publish is checked by a comment
    (its own, or one of a subscriber in the same block)."""
    for cmds in groups:
        subs_checked = any(c["prog"] != "mosquitto_pub" and c["expect"] for c in cmds)
        for c in cmds:
            if c["prog"] == "mosquitto_pub":
                if not c["expect"] and not subs_checked:
                    raise ReadmeError("%s: '%s' has no comment saying what it does, e.g. "
                                      "'# response/<name>: {json}'" % (c["where"], c["code"]))
                if any(e[1] is None for e in c["expect"]):
                    raise ReadmeError("%s: a comment after mosquitto_pub must name its topic ('# <topic>: ...')"
                                      % c["where"])
                if not any(o == "-m" or o == "-n" for o, _ in c["opts"]):
                    raise ReadmeError("%s: mosquitto_pub without -m or -n" % c["where"])


def selftest():
    """The extractor refuses what it cannot run (table of README snippets)."""
    bad = [("mosquitto_sub -t 'a/#' -v | jq .", "shell syntax"),
           ("mosquitto_sub -t a -F '%t'", "option '-F'"),
           ("sudo mosquitto_pub -t a -m x", "not a command shape"),
           ("mosquitto_pub -t a/request/x -m '{}'", "no comment saying"),
           ("mosquitto_pub -t a -m '{}'\n# response/x: {\"status\":\"ok\",...}", "does not parse"),
           ("mosquitto_pub -t a -m $(cat f)\n# a: {}", "shell syntax"),
           ("mosquitto_rr -t a -e b -m x\n# {\"a\":1}\nmosquitto_pub -t c -m '{}'\n# {\"b\":1}", "name its topic")]
    for snippet, want in bad:
        try:
            validate(extract("```sh\n%s\n```\n" % snippet))
        except ReadmeError as e:
            assert want in str(e), (snippet, str(e))
            continue
        raise AssertionError("accepted: %s" % snippet)
    assert extract("```text\n| mosquitto_sub | 1.0 /s |\n```\n") == []
    ok = extract("```sh\nmosquitto_pub -t x/request/y \\\n  -m '{\"a\":\"#1\"}'  # y/response/y: {\"s\":1}\n```\n")
    assert ok[0][0]["opts"] == [("-t", "x/request/y"), ("-m", '{"a":"#1"}')], ok
    assert ok[0][0]["expect"] == [("json", "y/response/y", {"s": 1})], ok
    assert json_mismatch({"status": "ok", "id": "a", "data": {"parts": 1}},
                         {"status": "ok", "id": "zz", "data": {"parts": 1, "x": 2}}) is None
    assert json_mismatch({"status": "ok"}, {"status": "error"})
    assert json_mismatch({"parts": 1}, {"parts": True})
    assert json_mismatch({"id": "a"}, {"id": 3})
    assert json_mismatch({"data": {"n": 1}}, {"data": {}}) == "missing key n"


def json_mismatch(want, got, key=None):
    """None when got matches want, else why not."""
    if key in VARIABLE:
        same = (isinstance(want, (int, float)) and not isinstance(want, bool) and
                isinstance(got, (int, float)) and not isinstance(got, bool)) or type(want) is type(got)
        return None if same else "%s: %r is not of the type of %r" % (key, got, want)
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return "%s: %r is not an object" % (key, got)
        for k, v in want.items():
            if k not in got:
                return "missing key %s" % k
            why = json_mismatch(v, got[k], k)
            if why:
                return why
        return None
    if isinstance(want, list):
        if not isinstance(got, list) or len(got) != len(want):
            return "%s: %r is not a list like %r" % (key, got, want)
        for w, g in zip(want, got):
            why = json_mismatch(w, g, key)
            if why:
                return why
        return None
    return None if want == got and type(want) is type(got) else "%s: %r, README says %r" % (key, got, want)


def topic_matches(topic, want):
    return topic is not None and (topic == want or topic.endswith("/" + want))


def check(expect, messages):
    """None when one of messages [(topic|None, payload)] satisfies expect, else the closest reason."""
    kind, topic, value = expect
    reasons = []
    for t, payload in messages:
        if topic is not None and not topic_matches(t, topic):
            continue
        if kind == "line":
            if payload == value:
                return None
            reasons.append("%s %s" % (t, payload))
            continue
        try:
            got = json.loads(payload)
        except ValueError:
            reasons.append("not JSON: %s" % payload[:200])
            continue
        why = json_mismatch(value, got)
        if why is None:
            return None
        reasons.append(why)
    return reasons[-1] if reasons else "no message%s" % (" on " + topic if topic else "")


class Client:
    """One README command running: argv with the test broker's address."""

    def __init__(self, cmd, port, workdir):
        argv = [cmd["prog"], "-h", "127.0.0.1", "-p", str(port)]
        for o, v in cmd["opts"]:
            if o in ("-h", "-p"):
                continue
            argv += [o] if v is None else [o, v]
        self.cmd = cmd
        self.sub = cmd["prog"] in ("mosquitto_sub", "mosquitto_rr")
        self.bounded = cmd["prog"] == "mosquitto_pub" or any(o == "-C" for o, _ in cmd["opts"]) or \
            cmd["prog"] == "mosquitto_rr"
        if self.sub:
            if not any(o == "-W" for o, _ in cmd["opts"]) and self.bounded:
                argv += ["-W", str(WAIT)]
            argv.append("-d")  # debug lines say when it subscribed; they are dropped from the output
            argv = ["stdbuf", "-oL"] + argv
        self.argv = argv
        self.lines = []
        self.lock = threading.Lock()
        self.p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=workdir)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.p.stdout:
            with self.lock:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def subscribed(self):
        with self.lock:
            return any("received SUBACK" in ln for ln in self.lines)

    def messages(self):
        """What it printed, debug lines left out, as (topic|None, payload)."""
        verbose = any(o == "-v" for o, _ in self.cmd["opts"])
        out = []
        with self.lock:
            lines = list(self.lines)
        for ln in lines:
            if re.match(r"^(Client \S* (sending|received) |Subscribed \(mid|Received PUBLISH|Sending PUBLISH)", ln):
                continue
            if verbose:
                t, _, p = ln.partition(" ")
                out.append((t, p))
            else:
                out.append((None, ln))
        return out

    def finish(self, timeout):
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise ReadmeError("%s: '%s' did not end within %d s; printed:\n%s"
                              % (self.cmd["where"], self.cmd["code"], timeout, "\n".join(self.lines[-20:])))

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            self.p.wait(5)


def run_group(cmds, port, sub, emu, workdir):
    """Runs one code block's commands in order; a subscriber is started (and
    seen subscribed) before the next command, and checked at the block's end."""
    started = []
    for cmd in cmds:
        mark = len(sub.messages)
        c = Client(cmd, port, workdir)
        started.append((c, mark))
        log("%s: %s" % (cmd["where"], " ".join(shlex.quote(a) for a in c.argv if a not in ("stdbuf", "-oL", "-d"))))
        if c.sub:
            wait_until(lambda: c.subscribed() or c.p.poll() is not None, 15, "%s subscribed" % cmd["where"])
            if not c.subscribed():
                raise ReadmeError("%s: '%s' exited before subscribing:\n%s" % (cmd["where"], cmd["code"],
                                                                             "\n".join(c.lines)))
        else:
            rc = c.finish(30)
            if rc != 0:
                raise ReadmeError("%s: '%s' exited %d:\n%s" % (cmd["where"], cmd["code"], rc, "\n".join(c.lines)))
    for c, mark in started:
        cmd = c.cmd
        expects = list(cmd["expect"])
        if c.sub and not expects:
            expects = [("any", None, None)]
        for e in expects:
            def satisfied(e=e, c=c, mark=mark):
                if c.sub:
                    msgs = c.messages()
                else:
                    with sub.lock:
                        msgs = list(sub.messages[mark:])
                if e[0] == "any":
                    return None if msgs else "it printed nothing"
                return check(e, msgs)
            try:
                wait_until(lambda: satisfied() is None, WAIT, "%s: %s" % (cmd["where"], e[0]))
            except AssertionError:
                raise ReadmeError("%s: '%s' did not do what its comment says (%s): %s"
                                  % (cmd["where"], cmd["code"], json.dumps(e[2], ensure_ascii=False)
                                     if e[0] == "json" else e[2], satisfied()))
        if cmd["prog"] == "mosquitto_pub":
            topic = dict(cmd["opts"])["-t"]
            if topic.endswith("/request/send_sms"):
                req = json.loads(dict(cmd["opts"])["-m"])
                numbers = req["number"] if isinstance(req["number"], list) else [req["number"]]
                for number in numbers:
                    wait_until(lambda n=number: any(m["number"] == n and m["text"] == req["text"]
                                                    for m in emu.client.sent_joined()), WAIT,
                               "%s: the SMS at the modem" % cmd["where"])
        if c.bounded and c.sub:
            rc = c.finish(WAIT + 30)
            if rc != 0:
                raise ReadmeError("%s: '%s' exited %d" % (cmd["where"], cmd["code"], rc))
        c.stop()
        log("%s: as the README says" % cmd["where"])


# The setup the README's examples assume: node "pi" (base_topic sms-sentinel/pi)
# in pool "fleet". A short window makes health ok (and so the pool joined)
# 10 s after start; a short verify_timeout ends a manual reset sooner.
CONFIG = "base_topic = %s\npool = fleet\n[recovery]\nwindow = 10\nverify_timeout = 8\ncooldown = 1\n" % BASE


def main():
    with open(README, encoding="utf-8") as f:
        groups = extract(f.read())
    selftest()
    validate(groups)
    total = sum(len(g) for g in groups)
    assert total >= 3, "only %d mosquitto commands found in README.md" % total
    log("%d commands in %d code blocks" % (total, len(groups)))
    with Env("readme") as env:
        broker = env.broker()
        sub = env.subscribe(broker.port, "#")
        emu = env.emulator()
        smsd = env.start_smsd(env.smsd(emu.link))
        env.start_daemon(env.daemon(broker.port, smsd, CONFIG))
        wait_until(lambda: sub.find(BASE + "/availability", lambda p: p == "online"), 15, "daemon online")
        wait_until(lambda: sub.json_matching(BASE + "/state", lambda s: s["health"] == "ok" and s["pool_member"]),
                   60, "health ok and a member of the pool")
        for g in groups:
            run_group(g, broker.port, sub, emu, env.dir)
    print("%d passed, 0 failed" % total)


if __name__ == "__main__":
    try:
        main()
    except ReadmeError as e:
        print("FAIL: %s" % e)
        sys.exit(1)
