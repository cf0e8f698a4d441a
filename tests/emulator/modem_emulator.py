#!/usr/bin/env python3
"""pty-backed AT modem emulator that gammu-smsd 1.42 (connection = at) talks to.

Usage:
  modem_emulator.py --link PATH --control SOCKPATH [--own-number +33600000000]
                    [--log FILE]

Opens a pty in raw mode, makes PATH a symlink to the slave tty, listens on the
Unix stream socket SOCKPATH for control commands (one text line per command,
one JSON line per reply; see README.md), prints "READY" on stdout and runs a
single-threaded selectors loop until SIGTERM/SIGINT.

Python 3 standard library only.
"""

import argparse
import collections
import datetime
import errno
import fcntl
import json
import os
import re
import selectors
import signal
import socket
import sys
import time
import termios
import tty

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smspdu  # noqa: E402

SM_CAPACITY = 30

CME_TEXT = {
    3: "operation not allowed",
    4: "operation not supported",
    10: "SIM not inserted",
    11: "SIM PIN required",
    13: "SIM failure",
    21: "invalid index",
    22: "not found",
    100: "unknown",
}
CMS_TEXT = {
    300: "ME failure",
    302: "operation not allowed",
    303: "operation not supported",
    304: "invalid PDU mode parameter",
    305: "invalid text mode parameter",
    310: "SIM not inserted",
    321: "invalid memory index",
    322: "SIM memory full",
    500: "unknown error",
}
STAT_TEXT = {0: "REC UNREAD", 1: "REC READ", 2: "STO UNSENT", 3: "STO SENT"}


class AtError(Exception):
    """Final result other than OK: kind is 'ERROR', 'CME' or 'CMS'."""

    def __init__(self, kind="ERROR", code=None):
        Exception.__init__(self, kind, code)
        self.kind = kind
        self.code = code


def split_args(s):
    """Split an AT parameter list on commas outside quotes, unquote."""
    out, cur, q = [], [], False
    for c in s:
        if c == '"':
            q = not q
            continue
        if c == "," and not q:
            out.append("".join(cur).strip())
            cur = []
            continue
        cur.append(c)
    out.append("".join(cur).strip())
    return out


class Modem:
    """AT command interpreter and SMS storage (independent of the pty)."""

    def __init__(self, own_number):
        self.own_number = own_number
        self.loopback = True
        self.storage = {}  # index -> {"pdu", "len", "stat", "info"}
        self.sent = []
        self.mr = 0
        self.nosim = False
        self.reset_state()
        self.manufacturer = "ZTE CORPORATION"
        self.model = "MF112"
        self.revision = "BD_MF112V1.0.0B05"
        self.imei = "356789012345678"
        self.imsi = "208011234567890"
        self.smsc = "+33609001390"
        self.operator_code = "20801"
        self.operator_name = "Orange F"
        self.signal = 20
        self.battery = 80

    def reset_state(self):
        self.echo = True
        self.cmgf = 0
        self.cscs = "IRA"
        self.cmee = 0
        self.creg_n = 0
        self.cops_format = 0
        self.cnmi = "0,0,0,0,0"

    # --- helpers ---
    def cme(self, code):
        return AtError("CME", code)

    def cms(self, code):
        return AtError("CMS", code)

    def final_text(self, err):
        if err.kind == "ERROR":
            return "ERROR"
        if self.cmee == 0 and err.kind == "CME":
            return "ERROR"
        if err.kind == "CME":
            if self.cmee == 2:
                return "+CME ERROR: %s" % CME_TEXT.get(err.code, "unknown")
            return "+CME ERROR: %d" % err.code
        if self.cmee == 2:
            return "+CMS ERROR: %s" % CMS_TEXT.get(err.code, "unknown error")
        return "+CMS ERROR: %d" % err.code

    def enc(self, s):
        """String value in the current TE character set."""
        if self.cscs == "UCS2":
            return s.encode("utf-16-be").hex().upper()
        if self.cscs == "HEX":
            return s.encode("latin-1", "replace").hex().upper()
        return s

    def dec(self, s):
        if self.cscs == "UCS2":
            try:
                return bytes.fromhex(s).decode("utf-16-be")
            except ValueError:
                return s
        return s

    def need_sim(self, cms=False):
        if self.nosim:
            raise self.cms(310) if cms else self.cme(10)

    def free_index(self):
        for i in range(1, SM_CAPACITY + 1):
            if i not in self.storage:
                return i
        return None

    # --- storage API used by the control interface ---
    def store_pdu(self, pdu_hex, tpdu_len, info, stat=0):
        idx = self.free_index()
        if idx is None:
            return None
        self.storage[idx] = {"pdu": pdu_hex, "len": tpdu_len, "stat": stat,
                             "info": info, "stored_at": time.time()}
        return idx

    # --- command execution ---
    def execute(self, line):
        """Execute one command line (without the trailing CR).

        Returns (info_lines, final, special) where final is "OK"/error text,
        or None when nothing must be answered; special may be "cmgs" with a
        parameter to enter SMS input mode."""
        s = line.strip()
        if not s.upper().startswith("AT"):
            return [], None, None
        body = s[2:]
        lines = []
        try:
            if body in ("", " "):
                return [], "OK", None
            for sub in self._split_commands(body):
                r = self._one(sub, lines)
                if r is not None:
                    return lines, None, r
        except AtError as e:
            return lines, self.final_text(e), None
        return lines, "OK", None

    def _split_commands(self, body):
        # Extended commands separated by ';' (outside quotes); a leading run
        # of basic commands (E1, V1, Q0, &F, Z, I...) is kept as one item.
        out, cur, q = [], [], False
        for c in body:
            if c == '"':
                q = not q
            if c == ";" and not q:
                out.append("".join(cur))
                cur = []
                continue
            cur.append(c)
        out.append("".join(cur))
        return [x for x in (o.strip() for o in out) if x]

    def _basic(self, s, lines):
        i = 0
        u = s.upper()
        while i < len(u):
            c = u[i]
            i += 1
            if c == "&":
                c = "&" + u[i:i + 1]
                i += 1
            m = re.match(r"\d*", u[i:])
            num = m.group(0)
            i += len(num)
            n = int(num) if num else 0
            if c == "E":
                self.echo = n != 0
            elif c == "Z" or c == "&F":
                self.reset_state()
            elif c == "I":
                lines.extend([self.manufacturer, self.model, "Revision: " + self.revision])
            elif c in ("V", "Q", "X", "&C", "&D", "&W", "S", "L", "M", "H", "&V"):
                if c == "S":
                    # S-register: S0=0 or S7? ; swallow the rest
                    m2 = re.match(r"[=?]\d*", u[i:])
                    if m2:
                        i += len(m2.group(0))
                continue
            else:
                raise AtError()

    def _one(self, sub, lines):
        u = sub.upper()
        if not u or u[0] not in "+^$%*#":
            self._basic(sub, lines)
            return None
        m = re.match(r"([+^$%*#][A-Z0-9]+)(=\?|\?|=)?(.*)$", sub, re.I)
        if not m:
            raise AtError()
        name = m.group(1).upper()
        op = m.group(2) or ""
        arg = m.group(3)
        handler = getattr(self, "at_" + name[1:].lower(), None) if name[0] == "+" else None
        if handler is None:
            raise AtError()
        return handler(op, arg, lines)

    # --- identification ---
    def at_cgmi(self, op, arg, lines):
        if op == "=?":
            return None
        lines.append(self.manufacturer)

    at_gmi = at_cgmi

    def at_cgmm(self, op, arg, lines):
        if op == "=?":
            return None
        lines.append(self.model)

    at_gmm = at_cgmm

    def at_cgmr(self, op, arg, lines):
        if op == "=?":
            return None
        lines.append(self.revision)

    at_gmr = at_cgmr

    def at_cgsn(self, op, arg, lines):
        if op == "=?":
            return None
        lines.append(self.imei)

    at_gsn = at_cgsn

    def at_cimi(self, op, arg, lines):
        if op == "=?":
            return None
        self.need_sim()
        lines.append(self.imsi)

    def at_cnum(self, op, arg, lines):
        if op == "=?":
            return None
        self.need_sim()
        if self.own_number:
            toa = 145 if self.own_number.startswith("+") else 129
            lines.append('+CNUM: "","%s",%d' % (self.enc(self.own_number), toa))

    # --- general settings ---
    def at_cmee(self, op, arg, lines):
        if op == "=?":
            lines.append("+CMEE: (0-2)")
        elif op == "?":
            lines.append("+CMEE: %d" % self.cmee)
        elif op == "=":
            v = arg.strip() or "0"
            if v not in ("0", "1", "2"):
                raise AtError()
            self.cmee = int(v)

    def at_cscs(self, op, arg, lines):
        sets = ("IRA", "GSM", "UCS2")
        if op == "=?":
            lines.append('+CSCS: (%s)' % ",".join('"%s"' % x for x in sets))
        elif op == "?":
            lines.append('+CSCS: "%s"' % self.cscs)
        elif op == "=":
            v = split_args(arg)[0].upper()
            if v not in sets:
                raise self.cme(4)
            self.cscs = v

    def at_cfun(self, op, arg, lines):
        if op == "=?":
            lines.append("+CFUN: (0,1,4),(0-1)")
        elif op == "?":
            lines.append("+CFUN: 1")
        elif op == "=":
            a = split_args(arg)
            if len(a) > 1 and a[1] == "1":
                self.reset_state()

    def at_cpin(self, op, arg, lines):
        if op == "=?":
            return None
        self.need_sim()
        if op == "?":
            lines.append("+CPIN: READY")
        elif op == "=":
            raise self.cme(3)

    def at_zcdrun(self, op, arg, lines):
        # ZTE: gammu sends AT+ZCDRUN=8 (disable the CD-ROM autorun) when the
        # manufacturer is ZTE and fails the init if it is not answered OK.
        if op == "=":
            a = arg.strip()
            if a == "8":
                lines.append("Close autorun state result(0:FAIL 1:SUCCESS):1")
            elif a == "9":
                lines.append("Open autorun state result(0:FAIL 1:SUCCESS):1")

    def at_zoprt(self, op, arg, lines):
        # ZTE operating mode; gammu sends AT+ZOPRT=5 (online) for ZTE modems.
        if op == "?":
            lines.append("+ZOPRT: 5")
        elif op == "=?":
            lines.append("+ZOPRT: (0-6)")

    def at_cpinc(self, op, arg, lines):
        raise AtError()

    def at_cpas(self, op, arg, lines):
        if op == "=?":
            lines.append("+CPAS: (0-5)")
        else:
            lines.append("+CPAS: 0")

    def at_csq(self, op, arg, lines):
        if op == "=?":
            lines.append("+CSQ: (0-31,99),(0-7,99)")
        else:
            lines.append("+CSQ: %d,99" % self.signal)

    def at_cbc(self, op, arg, lines):
        if op == "=?":
            lines.append("+CBC: (0-3),(0-100)")
        else:
            lines.append("+CBC: 0,%d" % self.battery)

    def at_creg(self, op, arg, lines):
        if op == "=?":
            lines.append("+CREG: (0-2)")
        elif op == "?":
            if self.nosim:
                stat = 0
            else:
                stat = 1
            if self.creg_n == 2:
                lines.append('+CREG: 2,%d,"1A2B","00C3D4E5"' % stat)
            else:
                lines.append("+CREG: %d,%d" % (self.creg_n, stat))
        elif op == "=":
            v = arg.strip() or "0"
            if v not in ("0", "1", "2"):
                raise self.cme(4)
            self.creg_n = int(v)

    def at_cgreg(self, op, arg, lines):
        if op == "=?":
            lines.append("+CGREG: (0-2)")
        elif op == "?":
            lines.append("+CGREG: 0,%d" % (0 if self.nosim else 1))

    def at_cops(self, op, arg, lines):
        if op == "=?":
            lines.append('+COPS: (2,"%s","Orange","%s",2),,(0-4),(0-2)'
                         % (self.operator_name, self.operator_code))
        elif op == "?":
            if self.nosim:
                lines.append("+COPS: 0")
            elif self.cops_format == 2:
                lines.append('+COPS: 0,2,"%s",2' % self.operator_code)
            else:
                lines.append('+COPS: 0,%d,"%s",2' % (self.cops_format, self.enc(self.operator_name)))
        elif op == "=":
            a = split_args(arg)
            if len(a) > 1 and a[1] in ("0", "1", "2"):
                self.cops_format = int(a[1])

    def at_cnmi(self, op, arg, lines):
        if op == "=?":
            lines.append("+CNMI: (0-2),(0-3),(0,2),(0-2),(0,1)")
        elif op == "?":
            lines.append("+CNMI: " + self.cnmi)
        elif op == "=":
            self.cnmi = arg.strip()

    def at_csms(self, op, arg, lines):
        if op == "=?":
            lines.append("+CSMS: (0,1)")
        elif op == "?":
            lines.append("+CSMS: 0,1,1,1")
        else:
            lines.append("+CSMS: 1,1,1")

    def at_csdh(self, op, arg, lines):
        if op == "?":
            lines.append("+CSDH: 0")
        elif op == "=?":
            lines.append("+CSDH: (0,1)")

    def at_csmp(self, op, arg, lines):
        if op == "?":
            lines.append("+CSMP: 17,167,0,0")

    def at_cmgf(self, op, arg, lines):
        if op == "=?":
            lines.append("+CMGF: (0,1)")
        elif op == "?":
            lines.append("+CMGF: %d" % self.cmgf)
        elif op == "=":
            v = arg.strip() or "0"
            if v not in ("0", "1"):
                raise AtError()
            self.cmgf = int(v)

    def at_csca(self, op, arg, lines):
        if op == "=?":
            return None
        self.need_sim(cms=True)
        if op == "?":
            toa = 145 if self.smsc.startswith("+") else 129
            lines.append('+CSCA: "%s",%d' % (self.enc(self.smsc), toa))
        elif op == "=":
            a = split_args(arg)
            self.smsc = self.dec(a[0])

    def _cpms_counts(self):
        used = len(self.storage)
        return used, SM_CAPACITY

    def at_cpms(self, op, arg, lines):
        if op == "=?":
            lines.append('+CPMS: ("SM"),("SM"),("SM")')
            return None
        self.need_sim(cms=True)
        used, total = self._cpms_counts()
        if op == "?":
            lines.append('+CPMS: "SM",%d,%d,"SM",%d,%d,"SM",%d,%d'
                         % (used, total, used, total, used, total))
        elif op == "=":
            mems = [x.upper() for x in split_args(arg) if x]
            for mm in mems:
                if mm != "SM":
                    raise self.cms(302)
            lines.append("+CPMS: " + ",".join(["%d,%d" % (used, total)] * 3))
        else:
            raise AtError()

    def _list_entry(self, idx, e, lines, cmd):
        if self.cmgf == 0:
            lines.append("+%s: %d,%d,,%d" % (cmd, idx, e["stat"], e["len"]) if cmd == "CMGL"
                         else "+CMGR: %d,,%d" % (e["stat"], e["len"]))
            lines.append(e["pdu"])
        else:
            d = smspdu.decode_deliver(e["pdu"])
            ts = d["scts"]  # 20YY-MM-DDTHH:MM:SS+HH:MM
            q = int(ts[20:22]) * 4 + int(ts[23:25]) // 15
            tstr = "%s/%s/%s,%s%s%02d" % (ts[2:4], ts[5:7], ts[8:10], ts[11:19],
                                          ts[19], q)
            st = STAT_TEXT[e["stat"]]
            if cmd == "CMGL":
                lines.append('+CMGL: %d,"%s","%s",,"%s"' % (idx, st, self.enc(d["number"]), tstr))
            else:
                lines.append('+CMGR: "%s","%s",,"%s"' % (st, self.enc(d["number"]), tstr))
            lines.append(self.enc(d.get("text", "")))
        if e["stat"] == 0:
            e["stat"] = 1

    def at_cmgl(self, op, arg, lines):
        if op == "=?":
            if self.cmgf == 0:
                lines.append("+CMGL: (0-4)")
            else:
                lines.append('+CMGL: ("REC UNREAD","REC READ","STO UNSENT","STO SENT","ALL")')
            return None
        self.need_sim(cms=True)
        a = (arg or "").strip().strip('"').upper()
        if self.cmgf == 0:
            want = int(a) if a.isdigit() else (0 if a == "" else -1)
            if want not in range(0, 5):
                raise self.cms(304)
        else:
            rev = {v: k for k, v in STAT_TEXT.items()}
            rev["ALL"] = 4
            if a == "":
                a = "REC UNREAD"
            if a not in rev:
                raise self.cms(305)
            want = rev[a]
        for idx in sorted(self.storage):
            e = self.storage[idx]
            if want == 4 or e["stat"] == want:
                self._list_entry(idx, e, lines, "CMGL")

    def at_cmgr(self, op, arg, lines):
        if op == "=?":
            return None
        self.need_sim(cms=True)
        try:
            idx = int(arg.strip())
        except ValueError:
            raise self.cms(321)
        if idx < 1 or idx > SM_CAPACITY:
            raise self.cms(321)
        e = self.storage.get(idx)
        if e is None:
            # what most modems do for an empty, valid location
            raise self.cms(321)
        self._list_entry(idx, e, lines, "CMGR")

    def at_cmgd(self, op, arg, lines):
        if op == "=?":
            lines.append("+CMGD: (%s),(0-4)" % ",".join(str(i) for i in sorted(self.storage)))
            return None
        self.need_sim(cms=True)
        a = split_args(arg)
        try:
            idx = int(a[0])
        except ValueError:
            raise self.cms(321)
        flag = int(a[1]) if len(a) > 1 and a[1].isdigit() else 0
        if flag == 4:
            self.storage.clear()
            return None
        if flag in (1, 2, 3):
            kill = {1: (1,), 2: (1, 3), 3: (1, 2, 3)}[flag]
            for k in [k for k, v in self.storage.items() if v["stat"] in kill]:
                del self.storage[k]
            return None
        if idx < 1 or idx > SM_CAPACITY:
            raise self.cms(321)
        self.storage.pop(idx, None)

    def at_cmgs(self, op, arg, lines):
        if op == "=?":
            return None
        self.need_sim(cms=True)
        if op != "=":
            raise AtError()
        if self.cmgf == 0:
            try:
                n = int(arg.strip())
            except ValueError:
                raise self.cms(304)
            if n < 7 or n > 176:
                raise self.cms(304)
            return ("cmgs", n)
        a = split_args(arg)
        return ("cmgs_text", self.dec(a[0]))

    def finish_cmgs(self, mode, param, data):
        """Called with the text written between the prompt and Ctrl-Z."""
        self.mr = (self.mr + 1) & 0xFF
        rec = {"at": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
               "mr_reply": self.mr}
        if mode == "cmgs":
            hexs = re.sub(r"[^0-9A-Fa-f]", "", data)
            try:
                rec.update(smspdu.decode_submit(hexs, param))
            except (ValueError, IndexError) as e:
                rec["error"] = "undecodable PDU: %s" % e
                rec["pdu"] = hexs
                self.sent.append(rec)
                raise self.cms(304)
        else:
            rec.update({"number": param, "text": self.dec(data), "encoding": "text-mode"})
        self.sent.append(rec)
        self.loop_back(rec)
        return ["+CMGS: %d" % self.mr]

    def loop_back(self, rec):
        """The network delivers an SMS sent to the modem's own number back to it
        (what sms-sentinel's loopback probe relies on), unless loopback is off:
        the MF112 failure where receiving silently stops."""
        if not self.loopback or not self.own_number or rec.get("number") != self.own_number:
            return
        if not isinstance(rec.get("text"), str):
            return
        for pdu, ln, info in smspdu.build_deliver_pdus(self.own_number, rec["text"], smsc=self.smsc):
            if len(self.storage) < SM_CAPACITY:
                self.store_pdu(pdu, ln, info)


class Emulator:
    def __init__(self, link, control, own_number, logfile):
        self.link = os.path.abspath(link)
        self.control = os.path.abspath(control)
        self.modem = Modem(own_number)
        self.logf = open(logfile, "a", buffering=1) if logfile else None
        self.sel = selectors.DefaultSelector()
        self.master = None
        self.slave = None
        self.slave_name = None
        self.inbuf = bytearray()
        self.outbuf = bytearray()
        self.delayed = collections.deque()  # (due, bytes)
        self.input_mode = None  # None or (kind, param, collected)
        self.hang = False
        self.hang_after_send = False
        self.slow_ms = 0
        self.plugged = False
        self.stop = False
        self.counts = collections.Counter()
        self.commands_seen = 0
        self.bytes_in = 0
        self.bytes_ignored = 0
        self.history = collections.deque(maxlen=500)
        self.last_command_at = None
        self.clients = {}
        self.started = time.time()
        self.plug_count = 0
        self.hang_at = None  # command prefix that starts a hang ("hang_at")
        self.hang_started_on = None
        self.busy_fd = None  # fd holding flock(LOCK_EX) on the slave ("busy on")

    # --- logging ---
    def log(self, fmt, *args):
        if self.logf:
            msg = fmt % args if args else fmt
            self.logf.write("%s %s\n" % (datetime.datetime.now().strftime("%H:%M:%S.%f")[:-3], msg))

    # --- pty management ---
    def plug(self):
        m, s = os.openpty()
        tty.setraw(s)
        fl = fcntl.fcntl(m, fcntl.F_GETFL)
        fcntl.fcntl(m, fcntl.F_SETFL, fl | os.O_NONBLOCK)
        self.master, self.slave = m, s
        self.slave_name = os.ttyname(s)
        tmp = self.link + ".tmp%d" % os.getpid()
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        os.symlink(self.slave_name, tmp)
        os.replace(tmp, self.link)
        self.sel.register(m, selectors.EVENT_READ, ("pty", None))
        self.plugged = True
        self.plug_count += 1
        self.inbuf.clear()
        self.outbuf.clear()
        self.delayed.clear()
        self.input_mode = None
        self.modem.reset_state()
        self.log("PLUG %s -> %s", self.link, self.slave_name)

    def unplug(self):
        if not self.plugged:
            return
        if self.busy_fd is not None:
            os.close(self.busy_fd)
            self.busy_fd = None
        try:
            os.unlink(self.link)
        except FileNotFoundError:
            pass
        self.sel.unregister(self.master)
        os.close(self.master)
        os.close(self.slave)
        self.master = self.slave = None
        self.plugged = False
        self.outbuf.clear()
        self.delayed.clear()
        self.input_mode = None
        self.log("UNPLUG %s (was %s)", self.link, self.slave_name)

    def _update_pty_events(self):
        if not self.plugged:
            return
        ev = selectors.EVENT_READ
        if self.outbuf:
            ev |= selectors.EVENT_WRITE
        if self.sel.get_key(self.master).events != ev:
            self.sel.modify(self.master, ev, ("pty", None))

    def send(self, data):
        """Queue bytes for the pty, honouring slow mode."""
        if not data or not self.plugged:
            return
        if self.slow_ms > 0:
            due = time.monotonic() + self.slow_ms / 1000.0
            if self.delayed and self.delayed[-1][0] > due:
                due = self.delayed[-1][0]
            self.delayed.append((due, bytes(data)))
        else:
            self.outbuf += data
            self.flush()

    def flush(self):
        if not self.plugged:
            return
        while self.outbuf:
            try:
                n = os.write(self.master, self.outbuf)
            except BlockingIOError:
                break
            except OSError as e:
                self.log("write error %s", e)
                self.outbuf.clear()
                break
            self.log("TX %r", bytes(self.outbuf[:n]))
            del self.outbuf[:n]
        self._update_pty_events()

    def on_pty_read(self):
        try:
            data = os.read(self.master, 4096)
        except BlockingIOError:
            return
        except OSError as e:
            if e.errno == errno.EIO:
                # No process holds the slave: cannot happen while we keep
                # our own slave fd open; be safe anyway.
                return
            raise
        if not data:
            return
        # gammu sets TIOCEXCL after open(); because we keep our own slave fd
        # open, the flag would survive gammu's close() and make its next
        # open() fail with EBUSY unless it runs as root.  Clear it.
        try:
            fcntl.ioctl(self.slave, termios.TIOCNXCL)
        except OSError:
            pass
        self.bytes_in += len(data)
        if self.hang:
            self.bytes_ignored += len(data)
            self.log("RX (hung, ignored) %r", data)
            return
        for b in data:
            self.on_byte(b)

    def on_byte(self, b):
        if self.input_mode is not None:
            kind, param, buf = self.input_mode
            if b == 0x1A:
                text = buf.decode("latin-1")
                self.log("RX %r", text + "\x1a")
                self.input_mode = None
                echo = text.encode("latin-1") if self.modem.echo else b""
                try:
                    lines = self.modem.finish_cmgs(kind, param, text)
                    final = "OK"
                except AtError as e:
                    lines, final = [], self.modem.final_text(e)
                self.send(echo + self._format(lines, final))
                if final == "OK" and self.hang_after_send:
                    self.hang_after_send = False
                    self.hang = True
                    self.hang_started_on = "after AT+CMGS"
                    self.log("HANG after send")
            elif b == 0x1B:
                self.input_mode = None
                self.send(self._format([], "OK"))
            else:
                buf.append(b)
            return
        if b == 0x0D:
            line = self.inbuf.decode("latin-1")
            self.inbuf.clear()
            self.log("RX %r", line + "\r")
            self.on_line(line)
        elif b == 0x0A or b == 0x00:
            pass
        elif b == 0x1A or b == 0x1B:
            self.log("RX %r (line discarded)", bytes(self.inbuf) + bytes([b]))
            self.inbuf.clear()
        elif b == 0x08:
            if self.inbuf:
                del self.inbuf[-1]
        else:
            self.inbuf.append(b)
            if len(self.inbuf) > 4096:
                self.inbuf.clear()

    def _format(self, lines, final):
        out = bytearray()
        for ln in lines:
            out += b"\r\n" + ln.encode("latin-1", "replace") + b"\r\n"
        if final is not None:
            out += b"\r\n" + final.encode("latin-1") + b"\r\n"
        return bytes(out)

    def on_line(self, line):
        stripped = line.strip()
        echo_was = self.modem.echo
        if not stripped:
            if echo_was:
                self.send(line.encode("latin-1") + b"\r")
            return
        self.commands_seen += 1
        self.last_command_at = time.time()
        key = re.match(r"(AT[+^$%*#]?[A-Z0-9&]*[=?]*)", stripped.upper())
        self.counts[key.group(1) if key else stripped[:16]] += 1
        self.history.append((round(time.time(), 3), stripped))
        if self.hang_at and stripped.upper().startswith(self.hang_at):
            # deterministic hang: this command is swallowed, nothing answered
            self.hang = True
            self.hang_at = None
            self.hang_started_on = stripped
            self.log("HANG at %r", stripped)
            return
        lines, final, special = self.modem.execute(line)
        echo = (line.encode("latin-1") + b"\r") if echo_was else b""
        if special is not None:
            kind, param = special
            self.input_mode = (kind, param, bytearray())
            self.send(echo + b"\r\n> ")
            return
        self.send(echo + self._format(lines, final))

    # --- control socket ---
    def on_accept(self, lsock):
        conn, _ = lsock.accept()
        conn.setblocking(False)
        self.clients[conn] = bytearray()
        self.sel.register(conn, selectors.EVENT_READ, ("client", None))

    def close_client(self, conn):
        self.sel.unregister(conn)
        self.clients.pop(conn, None)
        conn.close()

    def on_client(self, conn):
        try:
            data = conn.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self.close_client(conn)
            return
        buf = self.clients[conn]
        buf += data
        while b"\n" in buf:
            raw, _, rest = bytes(buf).partition(b"\n")
            buf[:] = rest
            line = raw.decode("utf-8", "replace").rstrip("\r")
            if not line.strip():
                continue
            try:
                reply = self.control_command(line)
            except Exception as e:  # keep running whatever a test sends
                reply = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
            payload = (json.dumps(reply, ensure_ascii=False) + "\n").encode("utf-8")
            try:
                conn.setblocking(True)
                conn.sendall(payload)
                conn.setblocking(False)
            except OSError:
                self.close_client(conn)
                return

    def status(self):
        m = self.modem
        return {
            "ok": True, "plugged": self.plugged, "link": self.link,
            "tty": self.slave_name if self.plugged else None,
            "hang": self.hang, "hang_after_send": self.hang_after_send,
            "hang_at": self.hang_at, "hang_started_on": self.hang_started_on if self.hang else None,
            "nosim": m.nosim, "slow_ms": self.slow_ms, "busy": self.busy_fd is not None,
            "commands_seen": self.commands_seen,
            "commands": dict(self.counts),
            "last_command": self.history[-1][1] if self.history else None,
            "last_command_age_s": (round(time.time() - self.last_command_at, 3)
                                   if self.last_command_at else None),
            "stored_sms": len(m.storage), "capacity": SM_CAPACITY,
            "sent_count": len(m.sent), "bytes_in": self.bytes_in,
            "bytes_ignored_while_hung": self.bytes_ignored,
            "plug_count": self.plug_count, "echo": m.echo, "cmgf": m.cmgf,
            "cscs": m.cscs, "uptime_s": round(time.time() - self.started, 3),
        }

    def _onoff(self, args):
        if len(args) != 1 or args[0].lower() not in ("on", "off", "1", "0", "true", "false"):
            raise ValueError("expected on|off")
        return args[0].lower() in ("on", "1", "true")

    def _inject(self, number, text, encoding):
        parts = smspdu.build_deliver_pdus(number, text, encoding=encoding,
                                          smsc=self.modem.smsc)
        if len(self.modem.storage) + len(parts) > SM_CAPACITY:
            return {"ok": False, "error": "SIM storage full"}
        idxs = []
        for pdu, ln, info in parts:
            idxs.append(self.modem.store_pdu(pdu, ln, info))
        self.log("INJECT %s %r -> %s", number, text, idxs)
        return {"ok": True, "parts": len(parts), "indexes": idxs,
                "encoding": parts[0][2]["encoding"]}

    def control_command(self, line):
        self.log("CTL %s", line)
        if line.lstrip().startswith("{"):
            req = json.loads(line)
            cmd = str(req.get("cmd", "")).lower()
            if cmd in ("inject", "inject_ucs2", "inject_gsm7", "inject_8bit"):
                enc = req.get("encoding") or {"inject": "auto", "inject_ucs2": "ucs2",
                                              "inject_gsm7": "gsm7", "inject_8bit": "8bit"}[cmd]
                return self._inject(str(req["number"]), str(req["text"]), enc)
            if cmd == "inject_pdu":
                return self._inject_pdu(str(req["pdu"]))
            words = [cmd] + [str(x) for x in req.get("args", [])]
            return self.control_words(words[0], words[1:], " ".join(words[1:]))
        parts = line.strip().split(None, 1)
        cmd = parts[0].lower()
        rest = parts[1] if len(parts) > 1 else ""
        if cmd in ("inject", "inject_ucs2", "inject_gsm7"):
            sp = rest.split(" ", 1)
            if len(sp) < 2 or not sp[0]:
                return {"ok": False, "error": "usage: %s NUMBER TEXT..." % cmd}
            enc = {"inject": "auto", "inject_ucs2": "ucs2", "inject_gsm7": "gsm7"}[cmd]
            return self._inject(sp[0], sp[1], enc)
        if cmd == "inject_pdu":
            return self._inject_pdu(rest.strip())
        return self.control_words(cmd, rest.split(), rest)

    def _inject_pdu(self, hexs):
        data = bytes.fromhex(hexs)
        # accept a TPDU with or without SMSC: try as full PDU first
        smsc_len = data[0] + 1
        try:
            smspdu.decode_deliver(hexs)
            full, tl = hexs.upper(), len(data) - smsc_len
        except Exception:
            full, tl = "00" + hexs.upper(), len(data)
        idx = self.modem.store_pdu(full, tl, {"encoding": "raw"})
        if idx is None:
            return {"ok": False, "error": "SIM storage full"}
        return {"ok": True, "parts": 1, "indexes": [idx]}

    def control_words(self, cmd, args, rest):
        m = self.modem
        if cmd == "status":
            return self.status()
        if cmd == "sent":
            return {"ok": True, "sent": m.sent}
        if cmd == "sent_joined":
            good = [s for s in m.sent if "text" in s]
            return {"ok": True, "messages": smspdu.join_parts(good)}
        if cmd == "clear_sent":
            n = len(m.sent)
            m.sent = []
            return {"ok": True, "cleared": n}
        if cmd == "storage":
            out = []
            for idx in sorted(m.storage):
                e = m.storage[idx]
                d = {"index": idx, "stat": e["stat"], "pdu": e["pdu"]}
                try:
                    d.update(smspdu.decode_deliver(e["pdu"]))
                except Exception as ex:
                    d["error"] = str(ex)
                out.append(d)
            return {"ok": True, "storage": out}
        if cmd == "clear":
            n = len(m.storage)
            m.storage.clear()
            return {"ok": True, "cleared": n}
        if cmd == "hang":
            self.hang = self._onoff(args)
            if self.hang:
                self.outbuf.clear()
                self.delayed.clear()
                self.input_mode = None
                self.hang_started_on = "control"
            else:
                self.hang_at = None
            self.inbuf.clear()
            return {"ok": True, "hang": self.hang}
        if cmd == "hang_at":
            if len(args) != 1:
                return {"ok": False, "error": "usage: hang_at AT-COMMAND-PREFIX|off"}
            self.hang_at = None if args[0].lower() == "off" else args[0].upper()
            return {"ok": True, "hang_at": self.hang_at}
        if cmd == "loopback":
            self.modem.loopback = self._onoff(args)
            return {"ok": True, "loopback": self.modem.loopback}
        if cmd == "hang_after_send":
            self.hang_after_send = self._onoff(args)
            return {"ok": True, "hang_after_send": self.hang_after_send}
        if cmd == "busy":
            on = self._onoff(args)
            if not self.plugged:
                return {"ok": False, "error": "unplugged"}
            if on:
                if self.busy_fd is None:
                    fd = os.open(self.slave_name, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except OSError as e:
                        os.close(fd)
                        return {"ok": False, "error": "flock failed: %s" % e}
                    self.busy_fd = fd
            elif self.busy_fd is not None:
                os.close(self.busy_fd)
                self.busy_fd = None
            return {"ok": True, "busy": self.busy_fd is not None}
        if cmd == "nosim":
            m.nosim = self._onoff(args)
            return {"ok": True, "nosim": m.nosim}
        if cmd == "slow":
            if len(args) != 1 or not args[0].isdigit():
                return {"ok": False, "error": "usage: slow MS"}
            self.slow_ms = int(args[0])
            return {"ok": True, "slow_ms": self.slow_ms}
        if cmd == "unplug":
            was = self.plugged
            self.unplug()
            return {"ok": True, "plugged": False, "was_plugged": was}
        if cmd == "replug":
            if self.plugged:
                self.unplug()
            self.plug()
            return {"ok": True, "plugged": True, "tty": self.slave_name}
        if cmd == "signal":
            if len(args) != 1 or not args[0].isdigit():
                return {"ok": False, "error": "usage: signal 0-31|99"}
            m.signal = int(args[0])
            return {"ok": True, "signal": m.signal}
        if cmd == "history":
            n = int(args[0]) if args and args[0].isdigit() else 50
            return {"ok": True, "history": [{"t": t, "cmd": c} for t, c in list(self.history)[-n:]]}
        if cmd == "reset_counters":
            self.counts.clear()
            self.commands_seen = 0
            self.history.clear()
            return {"ok": True}
        if cmd == "help":
            return {"ok": True, "commands": [
                "inject NUMBER TEXT...", "inject_ucs2 NUMBER TEXT...", "inject_gsm7 NUMBER TEXT...",
                "inject_pdu HEX", '{"cmd":"inject","number":N,"text":T[,"encoding":E]}',
                "sent", "sent_joined", "clear_sent", "storage", "clear",
                "hang on|off", "hang_at PREFIX|off", "hang_after_send on|off", "loopback on|off", "unplug", "replug",
                "nosim on|off", "busy on|off", "slow MS", "signal N", "status", "history [N]",
                "reset_counters", "help"]}
        return {"ok": False, "error": "unknown command %r (try help)" % cmd}

    # --- main loop ---
    def run(self):
        lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            if os.path.exists(self.control) or os.path.islink(self.control):
                os.unlink(self.control)
        except OSError:
            pass
        lsock.bind(self.control)
        lsock.listen(16)
        lsock.setblocking(False)
        self.sel.register(lsock, selectors.EVENT_READ, ("listen", None))

        rfd, wfd = os.pipe()
        os.set_blocking(rfd, False)
        os.set_blocking(wfd, False)
        signal.set_wakeup_fd(wfd, warn_on_full_buffer=False)

        def on_signal(signum, frame):
            self.stop = True
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGPIPE, signal.SIG_IGN)
        self.sel.register(rfd, selectors.EVENT_READ, ("signal", None))

        self.plug()
        sys.stdout.write("READY\n")
        sys.stdout.flush()
        self.log("READY link=%s control=%s", self.link, self.control)
        try:
            while not self.stop:
                timeout = None
                if self.delayed:
                    timeout = max(0.0, self.delayed[0][0] - time.monotonic())
                for key, ev in self.sel.select(timeout):
                    kind = key.data[0]
                    if kind == "pty":
                        if not self.plugged or key.fd != self.master:
                            continue
                        if ev & selectors.EVENT_READ:
                            self.on_pty_read()
                        if ev & selectors.EVENT_WRITE and self.plugged:
                            self.flush()
                    elif kind == "listen":
                        self.on_accept(key.fileobj)
                    elif kind == "client":
                        if key.fileobj in self.clients:
                            self.on_client(key.fileobj)
                    elif kind == "signal":
                        try:
                            os.read(rfd, 512)
                        except BlockingIOError:
                            pass
                now = time.monotonic()
                while self.delayed and self.delayed[0][0] <= now:
                    _, data = self.delayed.popleft()
                    self.outbuf += data
                if self.outbuf:
                    self.flush()
        finally:
            self.log("STOP")
            if self.plugged:
                try:
                    os.unlink(self.link)
                except FileNotFoundError:
                    pass
            try:
                os.unlink(self.control)
            except FileNotFoundError:
                pass
            for c in list(self.clients):
                c.close()
            lsock.close()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--link", required=True, help="symlink to create, pointing at the pty slave")
    ap.add_argument("--control", required=True, help="Unix socket path for control commands")
    ap.add_argument("--own-number", default="+33600000000", help="number answered by AT+CNUM")
    ap.add_argument("--log", help="trace file (every byte in and out)")
    a = ap.parse_args(argv)
    Emulator(a.link, a.control, a.own_number, a.log).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
