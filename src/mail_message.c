/* mail_message: builds the mail for one received SMS. Pure. The header values
 * that come from outside are encoded (Subject), reduced to a safe alphabet
 * (Message-ID) or refused (From/To with anything but printable ASCII); the
 * text only ever appears base64-encoded. */
#include "sms-sentinel/mail_message.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sms-sentinel/strbuf.h"
#include "sms-sentinel/text.h"

#define ADDRESS_MAX 254        /* RFC 5321 path limit */
#define RECEIVED_AT_MAX 64
#define MSGID_DOMAIN_MAX 24
#define MSGID_LINE_FIXED 15    /* "Message-ID: <" "@" ">" */
#define HEADERS_BOUND 4096     /* all headers with the limits above */
#define B64_LINE_BYTES 57      /* 76 base64 characters */
#define SUBJECT_PREFIX "Subject: SMS from "
#define EW_OPEN "=?UTF-8?B?"
#define EW_CLOSE "?="
#define EW_FIRST_BYTES 36      /* 18 + 12 + 48 = 78 on the Subject line */
#define EW_NEXT_BYTES 45       /* 12 + 60 = 72 <= 75; " " + 72 <= 78 */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void set_err(char *err, size_t errsize, const char *msg)
{
    if (err && errsize)
        (void)format_checked(err, errsize, "%s", msg);
}

/* Encodes src[0..n) into dst (room for 4 * ceil(n / 3) bytes); returns that length. */
static size_t b64_encode(const unsigned char *src, size_t n, char *dst)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)src[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)src[i + 1] << 8;
        if (i + 2 < n)
            v |= src[i + 2];
        dst[o++] = B64[(v >> 18) & 63];
        dst[o++] = B64[(v >> 12) & 63];
        dst[o++] = i + 1 < n ? B64[(v >> 6) & 63] : '=';
        dst[o++] = i + 2 < n ? B64[v & 63] : '=';
    }
    return o;
}

static size_t b64_len(size_t n) { return (n + 2) / 3 * 4; }

static void append_b64_body(struct strbuf *sb, const char *data, size_t n)
{
    char line[80];
    for (size_t i = 0; i < n; i += B64_LINE_BYTES) {
        size_t chunk = n - i < B64_LINE_BYTES ? n - i : B64_LINE_BYTES;
        size_t len = b64_encode((const unsigned char *)data + i, chunk, line);
        line[len++] = '\n';
        strbuf_append_n(sb, line, len);
    }
}

/* From and To are ours (hostname, config): printable ASCII or refused. */
static bool header_value_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > ADDRESS_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return false;
    return true;
}

static void append_date(struct strbuf *sb, time_t now)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                         "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;
    if (!localtime_r(&now, &tm) || tm.tm_wday < 0 || tm.tm_wday > 6 || tm.tm_mon < 0 ||
        tm.tm_mon > 11) {
        strbuf_append(sb, "Date: Thu, 01 Jan 1970 00:00:00 +0000\n");
        return;
    }
    long off = tm.tm_gmtoff / 60;
    char sign = off < 0 ? '-' : '+';
    if (off < 0)
        off = -off;
    /* Names from tables, not strftime: RFC 5322 wants English whatever the locale. */
    strbuf_printf(sb, "Date: %s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld\n", days[tm.tm_wday],
                  tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                  tm.tm_sec, sign, off / 60, off % 60);
}

static bool msgid_char(unsigned char c, bool domain)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '.' || c == '-' || (!domain && c == '_');
}

/* Copies s, every byte outside the alphabet as '_' (id) or dropped (domain),
 * into dst[0..max]; returns the length it would have had uncut. */
static size_t msgid_clean(const char *s, bool domain, char *dst, size_t max)
{
    size_t n = 0;
    for (; *s; s++) {
        bool ok = msgid_char((unsigned char)*s, domain);
        if (!ok && domain)
            continue;
        if (n < max)
            dst[n] = ok ? *s : '_';
        n++;
    }
    dst[n < max ? n : max] = '\0';
    return n;
}

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* <id@domain> on one line of at most 78: a long id keeps its head plus a hash
 * of the whole, so two SMS never share a Message-ID. */
static void append_message_id(struct strbuf *sb, const char *sms_id, const char *from)
{
    char domain[MSGID_DOMAIN_MAX + 1];
    const char *at = strrchr(from, '@');
    if (!at || msgid_clean(at + 1, true, domain, MSGID_DOMAIN_MAX) == 0 || domain[0] == '\0')
        (void)format_checked(domain, sizeof(domain), "localhost");
    size_t room = MAIL_MESSAGE_LINE_MAX - MSGID_LINE_FIXED - strlen(domain);
    char full[256], id[MAIL_MESSAGE_LINE_MAX + 1];
    size_t n = msgid_clean(sms_id ? sms_id : "", false, full, sizeof(full) - 1);
    if (n == 0)
        (void)format_checked(full, sizeof(full), "sms");
    if (strlen(full) <= room && n < sizeof(full) - 1) {
        (void)format_checked(id, sizeof(id), "%s", full);
    } else {
        unsigned keep = (unsigned)(room - 9);
        (void)format_checked(id, sizeof(id), "%.*s.%08x", (int)keep, full,
                             (unsigned)fnv1a(sms_id ? sms_id : ""));
    }
    strbuf_printf(sb, "Message-ID: <%s@%s>\n", id, domain);
}

static bool subject_plain(const char *s, size_t n)
{
    if (strlen(SUBJECT_PREFIX) + n > MAIL_MESSAGE_LINE_MAX || strstr(s, "=?"))
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return false;
    return true;
}

/* The sender as RFC 2047 B words, each holding whole UTF-8 characters, one per
 * folded line. s is clean UTF-8 (text_copy_clean). */
static void append_encoded_words(struct strbuf *sb, const char *s, size_t n)
{
    size_t i = 0, limit = EW_FIRST_BYTES;
    while (i < n) {
        size_t end = i;
        while (end < n) {
            size_t c = utf8_sequence_length((const unsigned char *)s + end, n - end);
            if (c == 0)
                c = 1; /* cannot happen after cleaning; never loop forever */
            if (end + c - i > limit)
                break;
            end += c;
        }
        char word[80];
        size_t len = b64_encode((const unsigned char *)s + i, end - i, word);
        if (i > 0)
            strbuf_append(sb, "\n ");
        strbuf_append(sb, EW_OPEN);
        strbuf_append_n(sb, word, len);
        strbuf_append(sb, EW_CLOSE);
        i = end;
        limit = EW_NEXT_BYTES;
    }
}

static void append_subject(struct strbuf *sb, const char *sender)
{
    size_t n = strlen(sender);
    strbuf_append(sb, SUBJECT_PREFIX);
    if (subject_plain(sender, n))
        strbuf_append(sb, sender);
    else
        append_encoded_words(sb, sender, n);
    strbuf_append(sb, "\n");
}

/* The text in canonical form: every line break CRLF, other control bytes and
 * invalid UTF-8 as '?', tabs kept. dst has room for 2 * len bytes. */
static size_t body_canonical(const char *text, size_t len, char *dst)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t o = 0, i = 0;
    while (i < len) {
        if (p[i] == '\r' || p[i] == '\n') {
            i += p[i] == '\r' && i + 1 < len && p[i + 1] == '\n' ? 2 : 1;
            dst[o++] = '\r';
            dst[o++] = '\n';
            continue;
        }
        size_t c = utf8_sequence_length(p + i, len - i);
        if (c == 0 || (c == 1 && ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f))) {
            dst[o++] = '?';
            i++;
            continue;
        }
        memcpy(dst + o, p + i, c);
        o += c;
        i += c;
    }
    return o;
}

/* Text plus footer; malloc'd, NULL when out of memory. */
static char *build_body(const struct mail_input *in, const char *sender, size_t *len)
{
    char when[RECEIVED_AT_MAX + 1];
    const char *at = in->received_at ? in->received_at : "";
    text_copy_clean(when, sizeof(when), at, strlen(at));
    char footer[MAIL_MESSAGE_MAX_SENDER + RECEIVED_AT_MAX + 64];
    if (format_checked(footer, sizeof(footer), "\r\n\r\n-- \r\nSMS from %s, received %s\r\n",
                       sender, when) < 0)
        return NULL;
    size_t flen = strlen(footer);
    char *body = malloc(2 * in->text_len + flen + 1);
    if (!body)
        return NULL;
    size_t n = in->text_len ? body_canonical(in->text, in->text_len, body) : 0;
    memcpy(body + n, footer, flen);
    *len = n + flen;
    return body;
}

static int check_input(const struct mail_input *in, char *err, size_t errsize)
{
    if (!in->from || !header_value_ok(in->from)) {
        set_err(err, errsize, "from is empty, too long or not printable ASCII");
        return -1;
    }
    if (!in->to || !header_value_ok(in->to)) {
        set_err(err, errsize, "to is empty, too long or not printable ASCII");
        return -1;
    }
    if (in->text_len > MAIL_MESSAGE_MAX_TEXT || (in->text_len && !in->text)) {
        set_err(err, errsize, "text is too long");
        return -1;
    }
    return 0;
}

static void append_headers(struct strbuf *sb, const struct mail_input *in, const char *sender)
{
    append_date(sb, in->now);
    strbuf_printf(sb, "From: %s\nTo: %s\n", in->from, in->to);
    append_subject(sb, sender);
    append_message_id(sb, in->sms_id, in->from);
    strbuf_append(sb, "MIME-Version: 1.0\n"
                      "Content-Type: text/plain; charset=UTF-8\n"
                      "Content-Transfer-Encoding: base64\n"
                      "\n");
}

int mail_message_build(const struct mail_input *in, char **out, size_t *out_len, char *err,
                       size_t errsize)
{
    *out = NULL;
    *out_len = 0;
    if (check_input(in, err, errsize) < 0)
        return -1;
    char sender[MAIL_MESSAGE_MAX_SENDER + 1];
    text_copy_clean(sender, sizeof(sender), in->sender ? in->sender : "",
                    in->sender ? in->sender_len : 0);
    if (sender[0] == '\0')
        (void)format_checked(sender, sizeof(sender), "(unknown)");
    size_t body_len;
    char *body = build_body(in, sender, &body_len);
    if (!body) {
        set_err(err, errsize, "out of memory");
        return -1;
    }
    size_t size = HEADERS_BOUND + b64_len(body_len) + body_len / B64_LINE_BYTES + 2;
    char *msg = malloc(size);
    if (!msg) {
        free(body);
        set_err(err, errsize, "out of memory");
        return -1;
    }
    struct strbuf sb;
    strbuf_init(&sb, msg, size);
    append_headers(&sb, in, sender);
    append_b64_body(&sb, body, body_len);
    free(body);
    if (strbuf_status(&sb) < 0) {
        free(msg);
        set_err(err, errsize, "message does not fit its bound");
        return -1;
    }
    *out = msg;
    *out_len = sb.len;
    return 0;
}
