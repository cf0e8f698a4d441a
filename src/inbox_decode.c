/* inbox_decode: gammu-smsd inbox file contents (standard, unicode, detail,
 * 8-bit .bin) -> UTF-8 or hex. Pure; see the header for what gammu writes. */
#include "sms-sentinel/inbox_decode.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sms-sentinel/text.h"

/* A growing output buffer; `failed` is sticky, checked once at the end. */
struct obuf {
    char *p;
    size_t len, cap;
    bool failed;
};

static void ob_reserve(struct obuf *ob, size_t more)
{
    if (ob->failed || ob->len + more + 1 <= ob->cap)
        return;
    size_t cap = ob->cap ? ob->cap : 64;
    while (cap < ob->len + more + 1)
        cap *= 2;
    char *p = realloc(ob->p, cap);
    if (!p) {
        ob->failed = true;
        return;
    }
    ob->p = p;
    ob->cap = cap;
}

static void ob_put(struct obuf *ob, const void *s, size_t n)
{
    ob_reserve(ob, n);
    if (ob->failed)
        return;
    memcpy(ob->p + ob->len, s, n);
    ob->len += n;
    ob->p[ob->len] = '\0';
}

static void ob_put_cp(struct obuf *ob, uint32_t cp)
{
    unsigned char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (unsigned char)cp, n = 1;
    } else if (cp < 0x800) {
        b[0] = (unsigned char)(0xc0 | cp >> 6), b[1] = (unsigned char)(0x80 | (cp & 0x3f)), n = 2;
    } else if (cp < 0x10000) {
        b[0] = (unsigned char)(0xe0 | cp >> 12), b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (unsigned char)(0x80 | (cp & 0x3f)), n = 3;
    } else {
        b[0] = (unsigned char)(0xf0 | cp >> 18), b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f)), b[3] = (unsigned char)(0x80 | (cp & 0x3f));
        n = 4;
    }
    ob_put(ob, b, n);
}

static void ob_put_hex(struct obuf *ob, const unsigned char *data, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    ob_reserve(ob, 2 * len);
    for (size_t i = 0; i < len && !ob->failed; i++) {
        char pair[2] = {hex[data[i] >> 4], hex[data[i] & 15]};
        ob_put(ob, pair, 2);
    }
}

const char *inbox_decode_error_str(enum inbox_decode_error err)
{
    switch (err) {
    case INBOX_DECODE_OK: return "ok";
    case INBOX_DECODE_TOO_LARGE: return "file too large";
    case INBOX_DECODE_NO_MEMORY: return "out of memory";
    case INBOX_DECODE_BAD_UTF8: return "text is not valid UTF-8";
    case INBOX_DECODE_NUL_BYTE: return "NUL byte in text";
    case INBOX_DECODE_NO_BOM: return "UTF-16 text without byte order mark";
    case INBOX_DECODE_ODD_LENGTH: return "UTF-16 text ends in half a code unit";
    case INBOX_DECODE_BAD_SURROGATE: return "UTF-16 text with an unpaired surrogate";
    case INBOX_DECODE_NO_MESSAGE: return "no [SMSBackup] section";
    case INBOX_DECODE_BAD_HEX: return "bad hex value in SMS backup";
    case INBOX_DECODE_BAD_CODING: return "unsupported Coding in SMS backup";
    case INBOX_DECODE_MIXED_CODING: return "text and 8-bit parts in one SMS backup";
    }
    return "unknown";
}

const char *inbox_format_str(enum inbox_format fmt)
{
    switch (fmt) {
    case INBOX_FORMAT_AUTO: return "auto";
    case INBOX_FORMAT_STANDARD: return "standard";
    case INBOX_FORMAT_UNICODE: return "unicode";
    case INBOX_FORMAT_DETAIL: return "detail";
    }
    return "?";
}

int inbox_format_from_string(const char *s, enum inbox_format *fmt)
{
    static const enum inbox_format all[] = {INBOX_FORMAT_AUTO, INBOX_FORMAT_STANDARD,
                                            INBOX_FORMAT_UNICODE, INBOX_FORMAT_DETAIL};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (strcasecmp(s, inbox_format_str(all[i])) == 0) {
            *fmt = all[i];
            return 0;
        }
    }
    return -1;
}

/* ---- standard ---------------------------------------------------------- */

static enum inbox_decode_error decode_standard(const struct inbox_decode_opts *opts,
                                               const unsigned char *d, size_t len,
                                               struct inbox_message *out, struct obuf *ob)
{
    const unsigned char *nul = memchr(d, 0, len);
    if (nul) {
        out->error_offset = (size_t)(nul - d);
        return INBOX_DECODE_NUL_BYTE;
    }
    size_t i = 0;
    while (i < len) {
        size_t n = utf8_sequence_length(d + i, len - i);
        if (n == 0)
            break;
        i += n;
    }
    if (i == len) {
        ob_put(ob, d, len);
        return INBOX_DECODE_OK;
    }
    if (opts->strict_utf8) {
        out->error_offset = i;
        return INBOX_DECODE_BAD_UTF8;
    }
    out->latin1 = true;
    for (i = 0; i < len && !ob->failed; i++)
        ob_put_cp(ob, d[i]);
    return INBOX_DECODE_OK;
}

/* ---- UTF-16 ------------------------------------------------------------ */

static unsigned unit_at(const unsigned char *d, bool be)
{
    return be ? (unsigned)d[0] << 8 | d[1] : (unsigned)d[1] << 8 | d[0];
}

struct utf16_flags {
    bool stopped_at_nul, cut_surrogate;
};

/* Decodes UTF-16 up to the first U+0000; *bad is the offset of an error. A
 * high surrogate right before the end (EOF or U+0000) becomes U+FFFD, as in
 * libgammu's DecodeUnicode: that is how gammu cuts text short. */
static enum inbox_decode_error utf16_to_utf8(const unsigned char *d, size_t len, bool be,
                                             struct obuf *ob, struct utf16_flags *fl, size_t *bad)
{
    size_t i = 0;
    while (i < len && !ob->failed) {
        *bad = i;
        if (len - i < 2)
            return INBOX_DECODE_ODD_LENGTH;
        unsigned u = unit_at(d + i, be);
        i += 2;
        if (u == 0) {
            fl->stopped_at_nul = true;
            return INBOX_DECODE_OK;
        }
        if (u >= 0xdc00 && u <= 0xdfff)
            return INBOX_DECODE_BAD_SURROGATE;
        uint32_t cp = u;
        if (u >= 0xd800 && u <= 0xdbff) {
            unsigned lo = len - i >= 2 ? unit_at(d + i, be) : 0;
            if (lo == 0 && len - i != 1) {
                fl->cut_surrogate = true;
                ob_put_cp(ob, 0xfffd);
                continue;
            }
            if (lo < 0xdc00 || lo > 0xdfff)
                return INBOX_DECODE_BAD_SURROGATE;
            cp = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
            i += 2;
        }
        ob_put_cp(ob, cp);
    }
    return INBOX_DECODE_OK;
}

static enum inbox_decode_error decode_unicode(const unsigned char *d, size_t len,
                                              struct inbox_message *out, struct obuf *ob)
{
    bool be;
    if (len >= 2 && d[0] == 0xfe && d[1] == 0xff)
        be = true;
    else if (len >= 2 && d[0] == 0xff && d[1] == 0xfe)
        be = false;
    else
        return INBOX_DECODE_NO_BOM;
    size_t bad = 0;
    struct utf16_flags fl = {0};
    enum inbox_decode_error err = utf16_to_utf8(d + 2, len - 2, be, ob, &fl, &bad);
    out->stopped_at_nul = fl.stopped_at_nul;
    out->cut_surrogate = fl.cut_surrogate;
    out->error_offset = bad + 2;
    return err;
}

/* ---- detail (SMS backup) ----------------------------------------------- */

#define TEXT_LINES 100 /* Text00..Text99 */

struct span {
    const char *p;
    size_t n;
};

/* One [SMSBackupNNN] section being read. */
struct section {
    size_t offset;
    struct span text[TEXT_LINES];
    struct span coding, udh, number, number_unicode;
};

struct detail {
    struct section sec;
    bool in_section;
    unsigned parts;
    enum inbox_content content;
    struct obuf bytes;       /* the parts' decoded TextNN bytes, joined */
    size_t text_offset;      /* first section with text, for errors */
};

static bool span_is(struct span s, const char *lit)
{
    return s.n == strlen(lit) && strncasecmp(s.p, lit, s.n) == 0;
}

static struct span trim(const char *p, size_t n)
{
    while (n > 0 && (*p == ' ' || *p == '\t'))
        p++, n--;
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r'))
        n--;
    return (struct span){p, n};
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Appends the bytes of hex text s; false when s is not hex. */
static bool unhex(struct obuf *ob, struct span s)
{
    if (s.n % 2)
        return false;
    for (size_t i = 0; i < s.n; i += 2) {
        int hi = hex_digit(s.p[i]), lo = hex_digit(s.p[i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        unsigned char b = (unsigned char)(hi << 4 | lo);
        ob_put(ob, &b, 1);
    }
    return true;
}

/* A UDH: length octet, then elements; IEI 0 (8-bit ref) and 8 (16-bit ref). */
static void parse_udh(const unsigned char *u, size_t n, struct inbox_concat *c)
{
    if (n < 1)
        return;
    size_t end = (size_t)u[0] + 1 < n ? (size_t)u[0] + 1 : n;
    for (size_t i = 1; i + 2 <= end;) {
        unsigned iei = u[i], ielen = u[i + 1];
        const unsigned char *v = u + i + 2;
        if (i + 2 + ielen > end)
            return;
        if (iei == 0x00 && ielen == 3) {
            *c = (struct inbox_concat){true, v[0], v[1], v[2]};
            return;
        }
        if (iei == 0x08 && ielen == 4) {
            *c = (struct inbox_concat){true, (unsigned)v[0] << 8 | v[1], v[2], v[3]};
            return;
        }
        i += 2 + ielen;
    }
}

static void section_header_fields(const struct section *s, struct inbox_message *out)
{
    struct obuf ob = {0};
    if (s->udh.n && unhex(&ob, s->udh) && !ob.failed)
        parse_udh((const unsigned char *)ob.p, ob.len, &out->concat);
    free(ob.p);
    ob = (struct obuf){0};
    struct utf16_flags fl = {0};
    size_t bad = 0;
    if (s->number_unicode.n && unhex(&ob, s->number_unicode) && !ob.failed) {
        struct obuf u8 = {0};
        utf16_to_utf8((const unsigned char *)ob.p, ob.len, true, &u8, &fl, &bad);
        if (u8.p && !u8.failed)
            inbox_sender_decode(out->number, sizeof(out->number), u8.p, u8.len);
        free(u8.p);
    } else if (s->number.n) {
        struct span v = s->number;
        if (v.n >= 2 && v.p[0] == '"' && v.p[v.n - 1] == '"')
            v.p++, v.n -= 2;
        inbox_sender_decode(out->number, sizeof(out->number), v.p, v.n);
    }
    free(ob.p);
}

static enum inbox_decode_error section_content(const struct section *s, enum inbox_content *c)
{
    if (s->coding.n == 0 || span_is(s->coding, "8bit")) {
        *c = INBOX_CONTENT_BINARY;
    } else if (span_is(s->coding, "Default_No_Compression") ||
               span_is(s->coding, "Unicode_No_Compression")) {
        *c = INBOX_CONTENT_TEXT;
    } else {
        return INBOX_DECODE_BAD_CODING;
    }
    return INBOX_DECODE_OK;
}

/* The section's TextNN bytes (like libgammu: Text00, Text01, ... up to the
 * first one missing). UTF-16 is cut at its first U+0000: libgammu writes
 * Length * 2 bytes and counts septets in Length, so GSM text with extension
 * characters (the euro sign, brackets) gets 00 00 and stale bytes. */
static enum inbox_decode_error section_bytes(const struct section *s, enum inbox_content c,
                                             struct obuf *b, struct inbox_message *out)
{
    for (size_t i = 0; i < TEXT_LINES && s->text[i].p; i++) {
        if (!unhex(b, s->text[i]))
            return INBOX_DECODE_BAD_HEX;
    }
    if (c == INBOX_CONTENT_BINARY)
        return INBOX_DECODE_OK;
    if (b->len % 2)
        return INBOX_DECODE_ODD_LENGTH;
    for (size_t i = 0; i + 1 < b->len; i += 2) {
        if (b->p[i] == 0 && b->p[i + 1] == 0) {
            b->len = i;
            out->stopped_at_nul = true;
            break;
        }
    }
    return INBOX_DECODE_OK;
}

static enum inbox_decode_error finish_section(struct detail *dt, struct inbox_message *out)
{
    const struct section *s = &dt->sec;
    enum inbox_content c;
    out->error_offset = s->offset;
    if (section_content(s, &c) != INBOX_DECODE_OK)
        return INBOX_DECODE_BAD_CODING;
    if (dt->parts == 0) {
        dt->content = c;
        dt->text_offset = s->offset;
        section_header_fields(s, out);
    } else if (c != dt->content) {
        return INBOX_DECODE_MIXED_CODING;
    }
    struct obuf b = {0};
    enum inbox_decode_error err = section_bytes(s, c, &b, out);
    if (err == INBOX_DECODE_OK)
        ob_put(&dt->bytes, b.p ? b.p : "", b.len);
    free(b.p);
    dt->parts += err == INBOX_DECODE_OK;
    return err;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static void section_key(struct section *s, struct span key, struct span val)
{
    if (key.n == 6 && strncasecmp(key.p, "Text", 4) == 0 && is_digit(key.p[4]) &&
        is_digit(key.p[5])) {
        s->text[(key.p[4] - '0') * 10 + (key.p[5] - '0')] = val;
    } else if (span_is(key, "Coding")) {
        s->coding = val;
    } else if (span_is(key, "UDH")) {
        s->udh = val;
    } else if (span_is(key, "Number")) {
        s->number = val;
    } else if (span_is(key, "NumberUnicode")) {
        s->number_unicode = val;
    }
}

/* One line: a comment, a [section] or key = value; anything else is ignored. */
static enum inbox_decode_error detail_line(struct detail *dt, struct span line, size_t offset,
                                           struct inbox_message *out)
{
    if (line.n == 0 || line.p[0] == ';' || line.p[0] == '#')
        return INBOX_DECODE_OK;
    if (line.p[0] == '[') {
        enum inbox_decode_error err = INBOX_DECODE_OK;
        if (dt->in_section)
            err = finish_section(dt, out);
        dt->in_section = line.n > 10 && strncasecmp(line.p + 1, "SMSBackup", 9) == 0;
        memset(&dt->sec, 0, sizeof(dt->sec));
        dt->sec.offset = offset;
        return err;
    }
    const char *eq = memchr(line.p, '=', line.n);
    if (dt->in_section && eq) {
        struct span key = trim(line.p, (size_t)(eq - line.p));
        section_key(&dt->sec, key, trim(eq + 1, line.n - (size_t)(eq - line.p) - 1));
    }
    return INBOX_DECODE_OK;
}

static enum inbox_decode_error detail_text(struct detail *dt, struct inbox_message *out,
                                           struct obuf *ob)
{
    if (dt->bytes.failed)
        return INBOX_DECODE_NO_MEMORY;
    const unsigned char *b = (const unsigned char *)dt->bytes.p;
    if (dt->content == INBOX_CONTENT_BINARY) {
        ob_put_hex(ob, b, dt->bytes.len);
        return INBOX_DECODE_OK;
    }
    size_t bad = 0;
    struct utf16_flags fl = {0};
    enum inbox_decode_error err = utf16_to_utf8(b, dt->bytes.len, true, ob, &fl, &bad);
    out->cut_surrogate = fl.cut_surrogate;
    out->error_offset = dt->text_offset;
    return err;
}

static enum inbox_decode_error decode_detail(const unsigned char *d, size_t len,
                                             struct inbox_message *out, struct obuf *ob)
{
    struct detail *dt = calloc(1, sizeof(*dt));
    if (!dt)
        return INBOX_DECODE_NO_MEMORY;
    enum inbox_decode_error err = INBOX_DECODE_OK;
    const char *s = (const char *)d;
    size_t pos = 0;
    while (pos < len && err == INBOX_DECODE_OK) {
        const char *nl = memchr(s + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - s) : len;
        err = detail_line(dt, trim(s + pos, end - pos), pos, out);
        pos = end + 1;
    }
    if (err == INBOX_DECODE_OK && dt->in_section)
        err = finish_section(dt, out);
    if (err == INBOX_DECODE_OK && dt->parts == 0) {
        out->error_offset = 0;
        err = INBOX_DECODE_NO_MESSAGE;
    }
    if (err == INBOX_DECODE_OK) {
        out->parts = dt->parts;
        out->content = dt->content;
        err = detail_text(dt, out, ob);
    }
    free(dt->bytes.p);
    free(dt);
    return err;
}

/* ---- dispatch ---------------------------------------------------------- */

/* The first line that is not blank or a comment opens an [SMSBackup...] section. */
static bool looks_like_backup(const unsigned char *d, size_t len)
{
    const char *s = (const char *)d;
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(s + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - s) : len;
        struct span line = trim(s + pos, end - pos);
        if (line.n > 0 && line.p[0] != ';' && line.p[0] != '#')
            return line.n > 10 && line.p[0] == '[' && strncasecmp(line.p + 1, "SMSBackup", 9) == 0;
        pos = end + 1;
    }
    return false;
}

static enum inbox_format guess_format(enum inbox_format f, enum inbox_ext ext,
                                      const unsigned char *d, size_t len)
{
    if (f != INBOX_FORMAT_AUTO)
        return f;
    if (looks_like_backup(d, len))
        return INBOX_FORMAT_DETAIL;
    if (ext == INBOX_EXT_TXT && len >= 2 &&
        ((d[0] == 0xfe && d[1] == 0xff) || (d[0] == 0xff && d[1] == 0xfe)))
        return INBOX_FORMAT_UNICODE;
    return INBOX_FORMAT_STANDARD;
}

static enum inbox_decode_error decode_as(const struct inbox_decode_opts *opts, enum inbox_ext ext,
                                         const unsigned char *d, size_t len,
                                         struct inbox_message *out, struct obuf *ob)
{
    if (out->format != INBOX_FORMAT_DETAIL && ext == INBOX_EXT_BIN) {
        out->content = INBOX_CONTENT_BINARY;
        ob_put_hex(ob, d, len);
        return INBOX_DECODE_OK;
    }
    switch (out->format) {
    case INBOX_FORMAT_AUTO: /* resolved by guess_format */
    case INBOX_FORMAT_STANDARD: return decode_standard(opts, d, len, out, ob);
    case INBOX_FORMAT_UNICODE: return decode_unicode(d, len, out, ob);
    case INBOX_FORMAT_DETAIL: return decode_detail(d, len, out, ob);
    }
    return INBOX_DECODE_NO_MESSAGE;
}

enum inbox_decode_error inbox_decode(const struct inbox_decode_opts *opts, enum inbox_ext ext,
                                     const unsigned char *data, size_t len,
                                     struct inbox_message *out)
{
    memset(out, 0, sizeof(*out));
    out->parts = 1;
    if (len > INBOX_DECODE_MAX_INPUT)
        return INBOX_DECODE_TOO_LARGE;
    out->format = guess_format(opts->format, ext, data, len);
    struct obuf ob = {0};
    ob_put(&ob, "", 0);
    enum inbox_decode_error err = decode_as(opts, ext, data, len, out, &ob);
    if (err == INBOX_DECODE_OK && ob.failed)
        err = INBOX_DECODE_NO_MEMORY;
    if (err != INBOX_DECODE_OK) {
        free(ob.p);
        return err;
    }
    out->text = ob.p;
    out->text_len = ob.len;
    return INBOX_DECODE_OK;
}

void inbox_message_free(struct inbox_message *msg)
{
    free(msg->text);
    msg->text = NULL;
    msg->text_len = 0;
}
