/* inbox_name: gammu-smsd inbox file names -> fields, a safe id and a readable
 * sender. Pure. */
#include "sms-sentinel/inbox_name.h"

#include <string.h>

#include "sms-sentinel/text.h"

/* GSM 03.38 default alphabet as UTF-8 (0x1B, the escape, is handled apart). */
static const char *const gsm_base[128] = {
    "@", "\xc2\xa3", "$", "\xc2\xa5", "\xc3\xa8", "\xc3\xa9", "\xc3\xb9", "\xc3\xac",
    "\xc3\xb2", "\xc3\x87", "\n", "\xc3\x98", "\xc3\xb8", "\r", "\xc3\x85", "\xc3\xa5",
    "\xce\x94", "_", "\xce\xa6", "\xce\x93", "\xce\x9b", "\xce\xa9", "\xce\xa0", "\xce\xa8",
    "\xce\xa3", "\xce\x98", "\xce\x9e", "\x1b", "\xc3\x86", "\xc3\xa6", "\xc3\x9f", "\xc3\x89",
    " ", "!", "\"", "#", "\xc2\xa4", "%", "&", "'", "(", ")", "*", "+", ",", "-", ".", "/",
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", ":", ";", "<", "=", ">", "?",
    "\xc2\xa1", "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "K", "L", "M", "N", "O",
    "P", "Q", "R", "S", "T", "U", "V", "W", "X", "Y", "Z",
    "\xc3\x84", "\xc3\x96", "\xc3\x91", "\xc3\x9c", "\xc2\xa7",
    "\xc2\xbf", "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o",
    "p", "q", "r", "s", "t", "u", "v", "w", "x", "y", "z",
    "\xc3\xa4", "\xc3\xb6", "\xc3\xb1", "\xc3\xbc", "\xc3\xa0",
};

struct gsm_ext {
    unsigned char code;
    const char *utf8;
};

static const struct gsm_ext gsm_extension[] = {
    {0x0a, "\f"}, {0x14, "^"}, {0x28, "{"}, {0x29, "}"}, {0x2f, "\\"},
    {0x3c, "["},  {0x3d, "~"}, {0x3e, "]"}, {0x40, "|"}, {0x65, "\xe2\x82\xac"},
};

const char *inbox_name_error_str(enum inbox_name_error err)
{
    switch (err) {
    case INBOX_NAME_OK: return "ok";
    case INBOX_NAME_EMPTY: return "empty name";
    case INBOX_NAME_TOO_LONG: return "name too long";
    case INBOX_NAME_HIDDEN: return "hidden file";
    case INBOX_NAME_BAD_BYTE: return "NUL or '/' in name";
    case INBOX_NAME_NOT_INBOX: return "not an inbox file (no IN prefix)";
    case INBOX_NAME_BAD_EXT: return "extension is not .txt or .bin";
    case INBOX_NAME_BAD_DATE: return "bad date field";
    case INBOX_NAME_BAD_TIME: return "bad time field";
    case INBOX_NAME_BAD_SERIAL: return "bad serial field";
    case INBOX_NAME_BAD_SENDER: return "sender field missing or too long";
    case INBOX_NAME_BAD_PART: return "bad part field";
    }
    return "unknown";
}

const char *inbox_ext_str(enum inbox_ext ext)
{
    switch (ext) {
    case INBOX_EXT_TXT: return "txt";
    case INBOX_EXT_BIN: return "bin";
    }
    return "?";
}

/* Reads exactly n decimal digits; -1 when any is not a digit. */
static long digits(const char *s, size_t n)
{
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool valid_day(unsigned y, unsigned m, unsigned d)
{
    static const unsigned char mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return !(m == 2 && d == 29 && !leap);
}

/* "YYYYMMDD", or gammu's "%02d%02d%02d" of an all-zero date, "000000". */
static bool parse_date(const char *s, size_t n, struct inbox_name *out)
{
    if (n == 6 && digits(s, 6) == 0) {
        out->year = out->month = out->day = 0;
        return true;
    }
    if (n != 8 || digits(s, 8) < 0)
        return false;
    out->year = (unsigned)digits(s, 4);
    out->month = (unsigned)digits(s + 4, 2);
    out->day = (unsigned)digits(s + 6, 2);
    return valid_day(out->year, out->month, out->day);
}

static bool parse_time(const char *s, size_t n, struct inbox_name *out)
{
    if (n != 6 || digits(s, 6) < 0)
        return false;
    out->hour = (unsigned)digits(s, 2);
    out->minute = (unsigned)digits(s + 2, 2);
    out->second = (unsigned)digits(s + 4, 2);
    return out->hour < 24 && out->minute < 60 && out->second < 60;
}

static bool parse_ext(const char *s, size_t n, enum inbox_ext *ext)
{
    if (n == 3 && memcmp(s, "txt", 3) == 0)
        *ext = INBOX_EXT_TXT;
    else if (n == 3 && memcmp(s, "bin", 3) == 0)
        *ext = INBOX_EXT_BIN;
    else
        return false;
    return true;
}

static const char *find_last(const char *s, size_t n, char c)
{
    while (n > 0) {
        if (s[--n] == c)
            return s + n;
    }
    return NULL;
}

static void escape_id(char *dst, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '+' || c == '.' || c == '_' || c == '-';
        if (plain) {
            dst[o++] = (char)c;
        } else {
            dst[o++] = '%';
            dst[o++] = hex[c >> 4];
            dst[o++] = hex[c & 15];
        }
    }
    dst[o] = '\0';
}

/* Splits "<date>_<time>_<serial>_<sender>_<part>" (the stem after "IN"). */
static enum inbox_name_error parse_stem(const char *s, size_t n, struct inbox_name *out)
{
    const char *end = s + n;
    const char *u1 = memchr(s, '_', n);
    if (!u1 || !parse_date(s, (size_t)(u1 - s), out))
        return INBOX_NAME_BAD_DATE;
    const char *t = u1 + 1;
    if (end - t < 7 || t[6] != '_' || !parse_time(t, 6, out))
        return INBOX_NAME_BAD_TIME;
    const char *se = t + 7;
    long serial = end - se >= 3 && se[2] == '_' ? digits(se, 2) : -1;
    if (serial < 0)
        return INBOX_NAME_BAD_SERIAL;
    const char *sender = se + 3;
    const char *last = find_last(sender, (size_t)(end - sender), '_');
    if (!last)
        return INBOX_NAME_BAD_SENDER;
    long part = end - last == 3 ? digits(last + 1, 2) : -1;
    if (part < 0)
        return INBOX_NAME_BAD_PART;
    size_t slen = (size_t)(last - sender);
    if (slen > INBOX_SENDER_RAW_MAX)
        return INBOX_NAME_BAD_SENDER;
    out->serial = (unsigned)serial;
    out->part = (unsigned)part;
    memcpy(out->sender_raw, sender, slen);
    out->sender_raw[slen] = '\0';
    out->sender_raw_len = slen;
    return INBOX_NAME_OK;
}

enum inbox_name_error inbox_name_parse(const char *name, size_t len, struct inbox_name *out)
{
    if (len == 0)
        return INBOX_NAME_EMPTY;
    if (len > INBOX_NAME_MAX)
        return INBOX_NAME_TOO_LONG;
    if (memchr(name, '\0', len) || memchr(name, '/', len))
        return INBOX_NAME_BAD_BYTE;
    if (name[0] == '.')
        return INBOX_NAME_HIDDEN;
    if (len < 2 || name[0] != 'I' || name[1] != 'N')
        return INBOX_NAME_NOT_INBOX;
    const char *dot = find_last(name, len, '.');
    if (!dot || !parse_ext(dot + 1, (size_t)(name + len - dot - 1), &out->ext))
        return INBOX_NAME_BAD_EXT;
    enum inbox_name_error err = parse_stem(name + 2, (size_t)(dot - name - 2), out);
    if (err != INBOX_NAME_OK)
        return err;
    memcpy(out->name, name, len);
    out->name[len] = '\0';
    out->stamp = out->year == 0 ? 0
                                : days_from_civil(out->year, out->month, out->day) * 86400 +
                                      out->hour * 3600 + out->minute * 60 + out->second;
    escape_id(out->id, name, len);
    inbox_sender_decode(out->sender, sizeof(out->sender), out->sender_raw, out->sender_raw_len);
    return INBOX_NAME_OK;
}

bool inbox_name_same_sender(const struct inbox_name *a, const struct inbox_name *b)
{
    return a->serial == b->serial && a->ext == b->ext && a->sender_raw_len == b->sender_raw_len &&
           memcmp(a->sender_raw, b->sender_raw, a->sender_raw_len) == 0;
}

/* gammu-smsd writes '*' as 'X' in names; in a number (digits, '#', 'X', an
 * optional leading '+') an 'X' can only be a '*'. */
static bool starred_number(const char *s, size_t n)
{
    bool x = false, digit = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+' && i == 0)
            continue;
        if (c == 'X')
            x = true;
        else if (c >= '0' && c <= '9')
            digit = true;
        else if (c != '#')
            return false;
    }
    return x && digit;
}

static bool all_septets(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] >= 0x80)
            return false;
    }
    return true;
}

static const char *gsm_escaped(unsigned char c)
{
    for (size_t i = 0; i < sizeof(gsm_extension) / sizeof(gsm_extension[0]); i++) {
        if (gsm_extension[i].code == c)
            return gsm_extension[i].utf8;
    }
    return NULL;
}

/* Septets -> UTF-8 in buf (size >= 3 * n + 1); returns the length. */
static size_t gsm_to_utf8(char *buf, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *u = gsm_base[c];
        if (c == 0x1b && i + 1 < n) {
            const char *e = gsm_escaped((unsigned char)s[i + 1]);
            u = e ? e : gsm_base[(unsigned char)s[i + 1]];
            i++;
        }
        size_t ul = strlen(u);
        memcpy(buf + o, u, ul);
        o += ul;
    }
    return o;
}

size_t inbox_sender_decode(char *dst, size_t size, const char *raw, size_t len)
{
    char buf[3 * INBOX_SENDER_RAW_MAX + 1];
    if (len > INBOX_SENDER_RAW_MAX)
        len = INBOX_SENDER_RAW_MAX;
    size_t n = len;
    if (starred_number(raw, len)) {
        for (size_t i = 0; i < len; i++)
            buf[i] = raw[i] == 'X' ? '*' : raw[i];
    } else if (all_septets(raw, len)) {
        n = gsm_to_utf8(buf, raw, len);
    } else {
        memcpy(buf, raw, len);
    }
    return text_copy_clean(dst, size, buf, n);
}
