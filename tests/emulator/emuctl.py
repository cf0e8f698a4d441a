#!/usr/bin/env python3
"""Client for the modem emulator's control socket.

Command line:  emuctl.py SOCKPATH COMMAND [ARGS...]
               prints the JSON reply; exit 0 when it says "ok": true, else 1.
Module:        from emuctl import EmuClient
               c = EmuClient("/tmp/x/emu.sock")
               c.cmd("inject +33612345678 hello")   -> dict
               c.inject("+336...", "text\\nwith newline")  (JSON form)
"""

import json
import socket
import sys
import time


class EmuError(RuntimeError):
    pass


class EmuClient:
    def __init__(self, sockpath, timeout=10.0):
        self.sockpath = sockpath
        self.timeout = timeout
        self._sock = None
        self._buf = b""

    def _connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.sockpath)
        self._sock = s
        self._buf = b""

    def close(self):
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _roundtrip(self, line):
        if "\n" in line:
            raise ValueError("a command is one line; use the JSON form for newlines")
        for attempt in (0, 1):
            try:
                if self._sock is None:
                    self._connect()
                self._sock.sendall(line.encode("utf-8") + b"\n")
                while b"\n" not in self._buf:
                    chunk = self._sock.recv(65536)
                    if not chunk:
                        raise ConnectionError("emulator closed the connection")
                    self._buf += chunk
                raw, _, self._buf = self._buf.partition(b"\n")
                return json.loads(raw.decode("utf-8"))
            except (ConnectionError, BrokenPipeError, FileNotFoundError):
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def cmd(self, line):
        """Send one text command, return the decoded JSON reply (dict)."""
        return self._roundtrip(line)

    def req(self, **fields):
        """Send a JSON-form command, e.g. req(cmd="inject", number=..., text=...)."""
        return self._roundtrip(json.dumps(fields, ensure_ascii=False))

    def check(self, line):
        """Like cmd() but raise EmuError unless the reply says ok."""
        r = self.cmd(line)
        if not r.get("ok"):
            raise EmuError("%s -> %s" % (line, r.get("error")))
        return r

    # convenience wrappers
    def inject(self, number, text, encoding="auto"):
        return self.req(cmd="inject", number=number, text=text, encoding=encoding)

    def status(self):
        return self.check("status")

    def sent(self):
        return self.check("sent")["sent"]

    def sent_joined(self):
        return self.check("sent_joined")["messages"]

    def wait_sent(self, count=1, timeout=60.0, interval=0.2):
        """Wait until at least count SMS-SUBMIT PDUs were received."""
        end = time.monotonic() + timeout
        while True:
            s = self.sent()
            if len(s) >= count:
                return s
            if time.monotonic() >= end:
                raise TimeoutError("only %d sent message(s) after %.0fs" % (len(s), timeout))
            time.sleep(interval)

    def wait_storage_empty(self, timeout=60.0, interval=0.2):
        end = time.monotonic() + timeout
        while True:
            if self.status()["stored_sms"] == 0:
                return True
            if time.monotonic() >= end:
                raise TimeoutError("SIM storage not emptied after %.0fs" % timeout)
            time.sleep(interval)


def main(argv):
    if len(argv) < 3:
        sys.stderr.write("usage: emuctl.py SOCKPATH COMMAND [ARGS...]\n")
        return 2
    try:
        with EmuClient(argv[1]) as c:
            r = c.cmd(" ".join(argv[2:]))
    except (OSError, ValueError) as e:
        print(json.dumps({"ok": False, "error": str(e)}))
        return 1
    print(json.dumps(r, ensure_ascii=False))
    return 0 if r.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
