"""SMS PDU helpers for the modem emulator (3GPP TS 23.038 / 23.040).

Python 3 standard library only.  Builds SMS-DELIVER PDUs (what a modem
stores on the SIM for a received message) and decodes SMS-SUBMIT PDUs
(what gammu writes after AT+CMGS=<len>).
"""

import datetime
import time

# --- GSM 03.38 default alphabet -------------------------------------------

GSM7_BASIC = (
    "@\u00a3$\u00a5\u00e8\u00e9\u00f9\u00ec\u00f2\u00c7\n\u00d8\u00f8\r\u00c5\u00e5"
    "\u0394_\u03a6\u0393\u039b\u03a9\u03a0\u03a8\u03a3\u0398\u039e\x1b\u00c6\u00e6\u00df\u00c9"
    " !\"#\u00a4%&'()*+,-./"
    "0123456789:;<=>?"
    "\u00a1ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZ\u00c4\u00d6\u00d1\u00dc\u00a7"
    "\u00bfabcdefghijklmno"
    "pqrstuvwxyz\u00e4\u00f6\u00f1\u00fc\u00e0"
)
assert len(GSM7_BASIC) == 128

GSM7_EXT = {
    0x0A: "\f", 0x14: "^", 0x28: "{", 0x29: "}", 0x2F: "\\",
    0x3C: "[", 0x3D: "~", 0x3E: "]", 0x40: "|", 0x65: "\u20ac",
}

_BASIC_REV = {c: i for i, c in enumerate(GSM7_BASIC) if i != 0x1B}
_EXT_REV = {v: k for k, v in GSM7_EXT.items()}


def gsm7_fits(text):
    """True when every character of text is in the GSM default alphabet
    (basic table or extension table)."""
    return all(c in _BASIC_REV or c in _EXT_REV for c in text)


def gsm7_encode(text):
    """Text -> list of septet values (escape sequences for extension chars)."""
    out = []
    for c in text:
        if c in _BASIC_REV:
            out.append(_BASIC_REV[c])
        elif c in _EXT_REV:
            out.extend((0x1B, _EXT_REV[c]))
        else:
            raise ValueError("character %r not in GSM alphabet" % c)
    return out


def gsm7_decode(septets):
    """List of septet values -> text."""
    out = []
    esc = False
    for s in septets:
        if esc:
            out.append(GSM7_EXT.get(s, GSM7_BASIC[s] if s != 0x1B else " "))
            esc = False
        elif s == 0x1B:
            esc = True
        else:
            out.append(GSM7_BASIC[s])
    return "".join(out)


def pack_septets(septets, fill_bits=0):
    """Pack 7-bit values LSB first, after fill_bits zero bits."""
    acc = 0
    pos = fill_bits
    for s in septets:
        acc |= (s & 0x7F) << pos
        pos += 7
    return acc.to_bytes((pos + 7) // 8, "little") if pos else b""


def unpack_septets(data, count, fill_bits=0):
    """Inverse of pack_septets: read count septets after fill_bits bits."""
    acc = int.from_bytes(data, "little")
    acc >>= fill_bits
    out = []
    for _ in range(count):
        out.append(acc & 0x7F)
        acc >>= 7
    return out


# --- addresses -------------------------------------------------------------

_BCD_DIGITS = "0123456789*#abc"


def bcd_encode(digits):
    """'3361234' -> semi-octet bytes (swapped nibbles, F padding)."""
    nibbles = []
    for d in digits:
        i = _BCD_DIGITS.find(d.lower()) if d not in "0123456789" else int(d)
        if i < 0:
            raise ValueError("bad digit %r" % d)
        nibbles.append(i)
    if len(nibbles) % 2:
        nibbles.append(0xF)
    return bytes(nibbles[i] | (nibbles[i + 1] << 4) for i in range(0, len(nibbles), 2))


def bcd_decode(data, ndigits=None):
    out = []
    for b in data:
        for n in (b & 0x0F, b >> 4):
            if n == 0xF:
                continue
            out.append(_BCD_DIGITS[n] if n < len(_BCD_DIGITS) else "?")
    if ndigits is not None:
        out = out[:ndigits]
    return "".join(out)


def number_kind(number):
    """Classify a number string as given on the control socket."""
    if number.startswith("+") and number[1:].isdigit() and len(number) > 1:
        return "international"
    if number.isdigit():
        return "national"
    return "alphanumeric"


def encode_address(number):
    """Number -> (TP-OA/TP-DA bytes incl. length and TOA)."""
    kind = number_kind(number)
    if kind == "international":
        digits = number[1:]
        return bytes([len(digits), 0x91]) + bcd_encode(digits)
    if kind == "national":
        return bytes([len(number), 0xA1]) + bcd_encode(number)
    septets = gsm7_encode(number[:11])
    packed = pack_septets(septets)
    # length = number of useful semi-octets
    nsemi = (len(septets) * 7 + 3) // 4
    return bytes([nsemi, 0xD0]) + packed


def decode_address(data, pos):
    """Decode an address field at data[pos]; returns (dict, new_pos)."""
    alen = data[pos]
    toa = data[pos + 1]
    ton = (toa >> 4) & 0x07
    if ton == 5:
        nbytes = (alen + 1) // 2
        raw = data[pos + 2:pos + 2 + nbytes]
        nsept = alen * 4 // 7
        number = gsm7_decode(unpack_septets(raw, nsept))
        kind = "alphanumeric"
    else:
        nbytes = (alen + 1) // 2
        raw = data[pos + 2:pos + 2 + nbytes]
        number = bcd_decode(raw, alen)
        if ton == 1:
            number = "+" + number
            kind = "international"
        elif ton == 2:
            kind = "national"
        else:
            kind = "unknown"
    return {"number": number, "type": kind, "toa": toa}, pos + 2 + nbytes


def encode_smsc(number):
    """SMSC field as it appears in front of a PDU (length counts octets)."""
    if not number:
        return b"\x00"
    digits = number.lstrip("+")
    toa = 0x91 if number.startswith("+") else 0x81
    body = bytes([toa]) + bcd_encode(digits)
    return bytes([len(body)]) + body


# --- timestamps ------------------------------------------------------------

def _swap(n):
    return ((n % 10) << 4) | (n // 10)


def encode_scts(when=None):
    """datetime (aware or naive local) -> 7 octets TP-SCTS."""
    if when is None:
        when = datetime.datetime.now().astimezone()
    elif when.tzinfo is None:
        when = when.astimezone()
    off = when.utcoffset() or datetime.timedelta(0)
    q = int(off.total_seconds() // 900)
    neg = q < 0
    q = abs(q)
    tz = _swap(q)
    if neg:
        tz |= 0x08
    return bytes([
        _swap(when.year % 100), _swap(when.month), _swap(when.day),
        _swap(when.hour), _swap(when.minute), _swap(when.second), tz,
    ])


def decode_scts(data):
    def un(b):
        return (b & 0x0F) * 10 + (b >> 4)
    y, mo, d, h, mi, s = (un(b) for b in data[:6])
    tzb = data[6]
    q = (tzb & 0x07) * 10 + (tzb >> 4)
    sign = "-" if tzb & 0x08 else "+"
    return "20%02d-%02d-%02dT%02d:%02d:%02d%s%02d:%02d" % (
        y, mo, d, h, mi, s, sign, q // 4, (q % 4) * 15)


# --- building SMS-DELIVER ---------------------------------------------------

_concat_ref = [int(time.time()) & 0xFF]


def next_concat_ref():
    _concat_ref[0] = (_concat_ref[0] + 1) & 0xFF
    return _concat_ref[0]


def split_gsm7(septets, limit):
    """Split septets into chunks of at most limit, never between ESC and
    the escaped char."""
    parts = []
    i = 0
    while i < len(septets):
        j = min(i + limit, len(septets))
        if j < len(septets) and septets[j - 1] == 0x1B:
            # do not end a part on an escape: check it is a real escape
            # (count consecutive ESC before j)
            k = j - 1
            n = 0
            while k >= i and septets[k] == 0x1B:
                n += 1
                k -= 1
            if n % 2 == 1:
                j -= 1
        parts.append(septets[i:j])
        i = j
    return parts


def split_ucs2(units, limit):
    """Split UTF-16 code units (list of ints) into chunks of at most limit,
    never between a high and a low surrogate."""
    parts = []
    i = 0
    while i < len(units):
        j = min(i + limit, len(units))
        if j < len(units) and 0xD800 <= units[j - 1] <= 0xDBFF:
            j -= 1
        parts.append(units[i:j])
        i = j
    return parts


def build_deliver_pdus(sender, text, encoding="auto", smsc="+33609001390",
                       when=None, more_messages=False):
    """Return a list of (pdu_hex_with_smsc, tpdu_length, info) for text.

    encoding: auto (gsm7 if it fits, else ucs2), gsm7, ucs2, 8bit (text is
    then a hex string of the raw data)."""
    if encoding == "auto":
        encoding = "gsm7" if gsm7_fits(text) else "ucs2"
    oa = encode_address(sender)
    scts = encode_scts(when)
    smsc_b = encode_smsc(smsc)
    bodies = []  # (dcs, udl, ud_bytes_without_udh, udh or None)
    if encoding == "gsm7":
        septets = gsm7_encode(text)
        if len(septets) <= 160:
            chunks = [septets]
        else:
            chunks = split_gsm7(septets, 153)
        dcs = 0x00
    elif encoding == "ucs2":
        raw = text.encode("utf-16-be")
        units = [int.from_bytes(raw[i:i + 2], "big") for i in range(0, len(raw), 2)]
        chunks = [units] if len(units) <= 70 else split_ucs2(units, 67)
        dcs = 0x08
    elif encoding == "8bit":
        data = bytes.fromhex(text)
        chunks = [data] if len(data) <= 140 else [data[i:i + 134] for i in range(0, len(data), 134)]
        dcs = 0x04
    else:
        raise ValueError("unknown encoding %r" % encoding)
    total = len(chunks)
    ref = next_concat_ref() if total > 1 else None
    out = []
    for seq, chunk in enumerate(chunks, 1):
        udh = b""
        if total > 1:
            udh = bytes([5, 0x00, 0x03, ref, total, seq])
        if encoding == "gsm7":
            fill = (7 - (len(udh) * 8) % 7) % 7 if udh else 0
            ud = udh + pack_septets(chunk, fill)
            udl = (len(udh) * 8 + fill) // 7 + len(chunk)
            # pack_septets output includes the fill bits at the start of the
            # septet area, which begins right after the UDH octets
        elif encoding == "ucs2":
            ud = udh + b"".join(u.to_bytes(2, "big") for u in chunk)
            udl = len(ud)
        else:
            ud = udh + bytes(chunk)
            udl = len(ud)
        fo = 0x00  # SMS-DELIVER
        if not more_messages:
            fo |= 0x04  # TP-MMS: no more messages waiting
        if udh:
            fo |= 0x40
        tpdu = bytes([fo]) + oa + bytes([0x00, dcs]) + scts + bytes([udl]) + ud
        info = {"encoding": encoding, "part": seq, "parts": total}
        if ref is not None:
            info["ref"] = ref
        out.append(((smsc_b + tpdu).hex().upper(), len(tpdu), info))
    return out


# --- decoding ---------------------------------------------------------------

def dcs_alphabet(dcs):
    """Return ('gsm7'|'8bit'|'ucs2', message_class or None, compressed)."""
    group = dcs >> 4
    if group <= 0x7:  # general data coding (incl. auto-deletion group)
        compressed = bool(dcs & 0x20)
        alpha = (dcs >> 2) & 0x03
        cls = (dcs & 0x03) if dcs & 0x10 else None
        return ({0: "gsm7", 1: "8bit", 2: "ucs2"}.get(alpha, "gsm7"), cls, compressed)
    if group in (0xC, 0xD):
        return ("gsm7", None, False)
    if group == 0xE:
        return ("ucs2", None, False)
    if group == 0xF:
        return ("8bit" if dcs & 0x04 else "gsm7", dcs & 0x03, False)
    return ("8bit", None, False)


def parse_udh(udh):
    """List of information elements and concatenation info."""
    ies = []
    concat = None
    i = 0
    while i + 1 < len(udh):
        iei = udh[i]
        ln = udh[i + 1]
        val = udh[i + 2:i + 2 + ln]
        ies.append({"iei": iei, "data": val.hex().upper()})
        if iei == 0x00 and ln == 3:
            concat = {"ref": val[0], "parts": val[1], "part": val[2]}
        elif iei == 0x08 and ln == 4:
            concat = {"ref": (val[0] << 8) | val[1], "parts": val[2], "part": val[3]}
        i += 2 + ln
    return ies, concat


def decode_user_data(fo, dcs, udl, ud):
    """Returns dict with text/encoding/udh info."""
    alphabet, cls, compressed = dcs_alphabet(dcs)
    res = {"encoding": alphabet, "dcs": dcs}
    if cls is not None:
        res["class"] = cls
    udh = b""
    if fo & 0x40 and ud:
        udhl = ud[0]
        udh = ud[1:1 + udhl]
        res["udh"] = ud[:1 + udhl].hex().upper()
        ies, concat = parse_udh(udh)
        res["udh_ies"] = ies
        if concat:
            res.update(concat)
    hdr_octets = (len(udh) + 1) if udh else 0
    if alphabet == "gsm7" and not compressed:
        fill = (7 - (hdr_octets * 8) % 7) % 7 if hdr_octets else 0
        hdr_septets = (hdr_octets * 8 + fill) // 7
        nsept = max(0, udl - hdr_septets)
        septets = unpack_septets(ud[hdr_octets:], nsept, fill)
        res["text"] = gsm7_decode(septets)
        res["fill_bits"] = fill
    elif alphabet == "ucs2":
        body = ud[hdr_octets:udl]
        res["text"] = body.decode("utf-16-be", errors="replace")
    else:
        body = ud[hdr_octets:udl]
        res["data_hex"] = body.hex().upper()
        res["text"] = body.decode("latin-1")
    return res


def decode_submit(pdu_hex, tpdu_len=None):
    """Decode what was written after AT+CMGS=<tpdu_len> in PDU mode."""
    data = bytes.fromhex(pdu_hex.strip())
    if tpdu_len is not None and 0 < tpdu_len <= len(data):
        smsc_len = len(data) - tpdu_len
    else:
        smsc_len = data[0] + 1
    res = {"pdu": pdu_hex.strip().upper()}
    if smsc_len > 1:
        smsc = data[1:smsc_len]
        num = bcd_decode(smsc[1:])
        res["smsc"] = ("+" + num) if (smsc[0] >> 4) & 7 == 1 else num
    else:
        res["smsc"] = ""
    i = smsc_len
    fo = data[i]
    i += 1
    mti = fo & 0x03
    if mti != 0x01:
        raise ValueError("not an SMS-SUBMIT (MTI=%d)" % mti)
    vpf = (fo >> 3) & 0x03
    res["reject_duplicates"] = bool(fo & 0x04)
    res["status_report"] = bool(fo & 0x20)
    res["reply_path"] = bool(fo & 0x80)
    res["mr"] = data[i]
    i += 1
    addr, i = decode_address(data, i)
    res["number"] = addr["number"]
    res["number_type"] = addr["type"]
    res["toa"] = addr["toa"]
    res["pid"] = data[i]
    dcs = data[i + 1]
    i += 2
    if vpf == 2:
        res["validity"] = data[i]
        i += 1
    elif vpf in (1, 3):
        res["validity"] = data[i:i + 7].hex().upper()
        i += 7
    udl = data[i]
    ud = data[i + 1:]
    res.update(decode_user_data(fo, dcs, udl, ud))
    return res


def decode_deliver(pdu_hex):
    """Decode a stored SMS-DELIVER (with SMSC prefix)."""
    data = bytes.fromhex(pdu_hex)
    i = data[0] + 1
    fo = data[i]
    i += 1
    addr, i = decode_address(data, i)
    pid = data[i]
    dcs = data[i + 1]
    i += 2
    scts = decode_scts(data[i:i + 7])
    i += 7
    udl = data[i]
    res = {"number": addr["number"], "number_type": addr["type"], "pid": pid,
           "scts": scts}
    res.update(decode_user_data(fo, dcs, udl, data[i + 1:]))
    return res


def join_parts(messages):
    """Join decoded messages (dicts with number/text and optional
    ref/parts/part) into whole messages, in first-seen order."""
    out = []
    groups = {}
    for m in messages:
        if m.get("parts", 1) > 1 and "ref" in m:
            key = (m["number"], m["ref"], m["parts"])
            if key not in groups:
                g = {"number": m["number"], "parts": m["parts"], "ref": m["ref"],
                     "_p": {}, "encoding": m.get("encoding")}
                groups[key] = g
                out.append(g)
            groups[key]["_p"][m["part"]] = m["text"]
        else:
            out.append({"number": m["number"], "parts": 1, "text": m["text"],
                        "encoding": m.get("encoding")})
    for g in out:
        if "_p" in g:
            p = g.pop("_p")
            g["complete"] = len(p) == g["parts"]
            g["text"] = "".join(p[k] for k in sorted(p))
        else:
            g["complete"] = True
    return out
