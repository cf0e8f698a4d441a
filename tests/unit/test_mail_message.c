/* test_mail_message: the mail for one SMS, table-driven. Every case is checked
 * the same way: header names exactly once and in order, no line over 78, no CR
 * in the message, the Subject decoded back (RFC 2047) to "SMS from <sender>",
 * each encoded word at most 75 characters of whole UTF-8 characters, and the
 * base64 body decoded back to the canonical text plus the footer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sms-sentinel/mail_message.h"
#include "sms-sentinel/text.h"

#define T_NOW 1796579382 /* 2026-12-06 17:49:42 UTC */

static const char *const HEADER_NAMES[] = {"Date", "From", "To", "Subject", "Message-ID",
                                           "MIME-Version", "Content-Type",
                                           "Content-Transfer-Encoding"};
#define N_HEADERS (sizeof(HEADER_NAMES) / sizeof(HEADER_NAMES[0]))

static int b64_value(char c)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = c ? strchr(a, c) : NULL;
    return p ? (int)(p - a) : -1;
}

/* Decodes base64 (newlines skipped) into a malloc'd buffer. */
static char *b64_decode(const char *s, size_t n, size_t *out_len)
{
    char *out = malloc(n + 1);
    assert_non_null(out);
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n' || s[i] == '=')
            continue;
        int v = b64_value(s[i]);
        if (v < 0)
            fail_msg("bad base64 byte 0x%02x", (unsigned char)s[i]);
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)((acc >> bits) & 0xff);
        }
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

/* "=?UTF-8?B?...?=" words separated by folding whitespace, into dst. */
static void decode_subject(const char *value, char *dst, size_t size)
{
    char unfolded[1024];
    size_t u = 0;
    for (const char *q = value; *q; q++)
        if (*q != '\n' && u + 1 < sizeof(unfolded))
            unfolded[u++] = *q; /* unfolding removes the line break only */
    unfolded[u] = '\0';
    size_t o = 0;
    const char *p = unfolded;
    while (*p) {
        if (*p == ' ' && p - unfolded >= 2 && strncmp(p - 2, "?=", 2) == 0 &&
            strncmp(p + 1, "=?", 2) == 0) {
            p++; /* whitespace between encoded words is not part of the text */
            continue;
        }
        if (strncmp(p, "=?UTF-8?B?", 10) == 0) {
            const char *end = strstr(p + 10, "?=");
            assert_non_null(end);
            assert_true(end + 2 - p <= 75);
            size_t n;
            char *raw = b64_decode(p + 10, (size_t)(end - p - 10), &n);
            assert_true(utf8_is_valid(raw, n)); /* never a character split in two */
            assert_true(o + n < size);
            memcpy(dst + o, raw, n);
            o += n;
            free(raw);
            p = end + 2;
            continue;
        }
        assert_true(o + 1 < size);
        dst[o++] = *p++;
    }
    dst[o] = '\0';
}

struct parsed {
    char *headers[N_HEADERS]; /* values, unfolded but raw */
    const char *body;
    size_t body_len;
};

static void check_lines(const char *msg, size_t len, size_t header_len)
{
    assert_null(memchr(msg, '\r', len));
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && msg[i] != '\n')
            continue;
        size_t n = i - start;
        if (start < header_len)
            assert_true(n <= 78);
        else
            assert_true(n <= 76);
        start = i + 1;
    }
}

static void parse(const char *msg, size_t len, struct parsed *p)
{
    memset(p, 0, sizeof(*p));
    const char *sep = strstr(msg, "\n\n");
    assert_non_null(sep);
    size_t header_len = (size_t)(sep - msg) + 1;
    check_lines(msg, len, header_len);
    p->body = sep + 2;
    p->body_len = len - (size_t)(p->body - msg);
    const char *line = msg;
    size_t next = 0;
    while (line < sep + 1) {
        const char *colon = strchr(line, ':');
        assert_non_null(colon);
        /* The end of this field: a newline not followed by folding whitespace. */
        const char *end = strchr(line, '\n');
        while (end[1] == ' ' || end[1] == '\t')
            end = strchr(end + 1, '\n');
        assert_true(next < N_HEADERS);
        size_t name_len = (size_t)(colon - line);
        if (strlen(HEADER_NAMES[next]) != name_len || strncmp(line, HEADER_NAMES[next], name_len))
            fail_msg("header %zu is '%.*s', expected %s", next, (int)name_len, line,
                     HEADER_NAMES[next]);
        assert_int_equal(colon[1], ' ');
        p->headers[next++] = strndup(colon + 2, (size_t)(end - colon - 2));
        line = end + 1;
    }
    assert_int_equal(next, N_HEADERS);
}

static void free_parsed(struct parsed *p)
{
    for (size_t i = 0; i < N_HEADERS; i++)
        free(p->headers[i]);
}

struct build_case {
    const char *name;
    const char *sender;     /* NUL-terminated here */
    const char *text;
    const char *want_sender;  /* after cleaning */
    const char *want_text;    /* canonical (CRLF) */
    bool want_encoded;
    const char *want_msgid;
};

static const struct build_case CASES[] = {
    {"ascii", "+33612345678", "Hello", "+33612345678", "Hello", false,
     "<IN20261206_184942_00__33612345678_00.txt@box.example.org>"},
    {"latin", "\xc3\x9cn\xc3\xaf" "c\xc3\xb8" "d\xc3\xa9", "Bonjour\n", "\xc3\x9cn\xc3\xaf" "c\xc3\xb8" "d\xc3\xa9",
     "Bonjour\r\n", true, NULL},
    {"emoji", "\xf0\x9f\x93\xb1 Mobile \xf0\x9f\x9a\x80", "\xf0\x9f\x98\x80",
     "\xf0\x9f\x93\xb1 Mobile \xf0\x9f\x9a\x80", "\xf0\x9f\x98\x80", true, NULL},
    {"alnum", "Free Mobile", "Votre code", "Free Mobile", "Votre code", false, NULL},
    {"injection_sender", "+33\r\nBcc: evil@x", "x", "+33??Bcc: evil@x", "x", false, NULL},
    {"injection_text", "+331", "hi\nSubject: x\r\n\r\n.\n.\rend", "+331",
     "hi\r\nSubject: x\r\n\r\n.\r\n.\r\nend", false, NULL},
    {"encoded_word_lookalike", "=?UTF-8?B?QmNjOg==?=", "x", "=?UTF-8?B?QmNjOg==?=", "x", true, NULL},
    {"invalid_utf8", "\xff\xfe" "abc", "a\xc3\x28z\x01\tq", "??abc", "a?(z?\tq", false, NULL},
    {"empty_sender", "", "", "(unknown)", "", false, NULL},
};

static char *build(const char *sender, size_t sender_len, const char *text, size_t text_len,
                   const char *id, size_t *len)
{
    struct mail_input in = {
        .from = "sms-sentinel@box.example.org",
        .to = "me@example.com",
        .sender = sender,
        .sender_len = sender_len,
        .received_at = "2026-12-06T18:49:42+01:00",
        .text = text,
        .text_len = text_len,
        .sms_id = id,
        .now = T_NOW,
    };
    char *out = NULL, err[128] = "";
    if (mail_message_build(&in, &out, len, err, sizeof(err)) != 0)
        fail_msg("build: %s", err);
    assert_non_null(out);
    assert_int_equal(strlen(out), *len);
    return out;
}

/* Builds, parses and checks everything; returns the message for more checks. */
static char *check_case(const char *sender, size_t sender_len, const char *text, size_t text_len,
                        const char *want_sender, const char *want_text, size_t want_text_len,
                        bool want_encoded, struct parsed *p)
{
    size_t len;
    char *msg = build(sender, sender_len, text, text_len,
                      "IN20261206_184942_00_+33612345678_00.txt", &len);
    parse(msg, len, p);
    assert_string_equal(p->headers[0], "Sun, 06 Dec 2026 18:49:42 +0100");
    assert_string_equal(p->headers[1], "sms-sentinel@box.example.org");
    assert_string_equal(p->headers[2], "me@example.com");
    assert_int_equal(strstr(p->headers[3], "=?UTF-8?B?") != NULL, want_encoded);
    char subject[1024];
    decode_subject(p->headers[3], subject, sizeof(subject));
    char want_subject[1024];
    snprintf(want_subject, sizeof(want_subject), "SMS from %s", want_sender);
    assert_string_equal(subject, want_subject);
    assert_string_equal(p->headers[5], "1.0");
    assert_string_equal(p->headers[6], "text/plain; charset=UTF-8");
    assert_string_equal(p->headers[7], "base64");
    size_t body_len;
    char *body = b64_decode(p->body, p->body_len, &body_len);
    char footer[512];
    snprintf(footer, sizeof(footer),
             "\r\n\r\n-- \r\nSMS from %s, received 2026-12-06T18:49:42+01:00\r\n", want_sender);
    assert_int_equal(body_len, want_text_len + strlen(footer));
    assert_memory_equal(body, want_text, want_text_len);
    assert_string_equal(body + want_text_len, footer);
    free(body);
    return msg;
}

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(CASES) / sizeof(CASES[0]); i++) {
        const struct build_case *c = &CASES[i];
        print_message("case %s\n", c->name);
        struct parsed p;
        char *msg = check_case(c->sender, strlen(c->sender), c->text, strlen(c->text),
                               c->want_sender, c->want_text, strlen(c->want_text),
                               c->want_encoded, &p);
        if (c->want_msgid)
            assert_string_equal(p.headers[4], c->want_msgid);
        assert_null(strstr(msg, "\nBcc:"));
        free_parsed(&p);
        free(msg);
    }
}

static void test_long_text(void **state)
{
    (void)state;
    char text[1601];
    for (size_t i = 0; i < 1600; i++)
        text[i] = (char)('a' + i % 26);
    text[1600] = '\0';
    struct parsed p;
    char *msg = check_case("+33612345678", 12, text, 1600, "+33612345678", text, 1600, false, &p);
    free_parsed(&p);
    free(msg);
}

static void test_embedded_nul(void **state)
{
    (void)state;
    struct parsed p;
    char *msg = check_case("a\0b", 3, "x\0y", 3, "a?b", "x?y", 3, false, &p);
    free_parsed(&p);
    free(msg);
}

/* A sender at the length cap, in 2- and 4-byte characters: several folded
 * encoded words, each of whole characters; the cut is at a character too. */
static void test_long_unicode_sender(void **state)
{
    (void)state;
    const char *units[] = {"\xc3\xa9", "\xf0\x9f\x98\x80", "a\xe2\x82\xac"};
    for (size_t u = 0; u < 3; u++) {
        char sender[400] = "", want[400] = "";
        while (strlen(sender) + strlen(units[u]) < sizeof(sender))
            strcat(sender, units[u]);
        size_t want_len = 0, ul = strlen(units[u]);
        while (want_len + ul <= MAIL_MESSAGE_MAX_SENDER) {
            memcpy(want + want_len, units[u], ul);
            want_len += ul;
        }
        want[want_len] = '\0';
        struct parsed p;
        char *msg = check_case(sender, strlen(sender), "t", 1, want, "t", 1, true, &p);
        assert_non_null(strstr(p.headers[3], "\n "));
        free_parsed(&p);
        free(msg);
    }
}

static void test_long_ascii_sender(void **state)
{
    (void)state;
    char sender[200];
    memset(sender, 'x', sizeof(sender) - 1);
    sender[sizeof(sender) - 1] = '\0';
    char want[MAIL_MESSAGE_MAX_SENDER + 1];
    memset(want, 'x', MAIL_MESSAGE_MAX_SENDER);
    want[MAIL_MESSAGE_MAX_SENDER] = '\0';
    struct parsed p;
    /* Too long for one line as plain text: encoded and folded instead. */
    char *msg = check_case(sender, strlen(sender), "t", 1, want, "t", 1, true, &p);
    free_parsed(&p);
    free(msg);
}

static void test_message_id(void **state)
{
    (void)state;
    size_t len;
    char *a = build("x", 1, "t", 1, "../evil id<>@\n", &len);
    assert_non_null(strstr(a, "\nMessage-ID: <.._evil_id____@box.example.org>\n"));
    free(a);
    char *b = build("x", 1, "t", 1, "", &len);
    assert_non_null(strstr(b, "\nMessage-ID: <sms@box.example.org>\n"));
    free(b);
    /* Long ids sharing a head: cut, but told apart by the hash of the whole. */
    char id1[120], id2[120];
    memset(id1, 'a', sizeof(id1) - 1);
    id1[sizeof(id1) - 1] = '\0';
    memcpy(id2, id1, sizeof(id2));
    id2[110] = 'b';
    struct parsed p1, p2;
    char *m1 = build("x", 1, "t", 1, id1, &len);
    parse(m1, len, &p1);
    char *m2 = build("x", 1, "t", 1, id2, &len);
    parse(m2, len, &p2);
    assert_string_not_equal(p1.headers[4], p2.headers[4]);
    free_parsed(&p1);
    free_parsed(&p2);
    free(m1);
    free(m2);
}

static void test_errors(void **state)
{
    (void)state;
    struct mail_input ok = {.from = "a@b", .to = "c@d", .sender = "x", .sender_len = 1,
                            .received_at = "", .text = "t", .text_len = 1, .sms_id = "i"};
    struct mail_input bad[5];
    for (size_t i = 0; i < 5; i++)
        bad[i] = ok;
    bad[0].from = "a@b\nBcc: evil@x";
    bad[1].to = "";
    bad[2].to = "c@d\r";
    bad[3].text_len = MAIL_MESSAGE_MAX_TEXT + 1;
    bad[4].from = NULL;
    for (size_t i = 0; i < 5; i++) {
        char *out = (char *)1, err[128] = "";
        size_t len = 7;
        assert_int_equal(mail_message_build(&bad[i], &out, &len, err, sizeof(err)), -1);
        assert_null(out);
        assert_int_equal(len, 0);
        assert_true(err[0] != '\0');
    }
    char *out;
    size_t len;
    char err[8];
    assert_int_equal(mail_message_build(&ok, &out, &len, err, sizeof(err)), 0);
    free(out);
}

static void test_max_text(void **state)
{
    (void)state;
    /* The largest text, all line breaks: the worst case of the size bound. */
    char *text = malloc(MAIL_MESSAGE_MAX_TEXT);
    char *want = malloc(2 * MAIL_MESSAGE_MAX_TEXT);
    assert_non_null(text);
    assert_non_null(want);
    memset(text, '\n', MAIL_MESSAGE_MAX_TEXT);
    for (size_t i = 0; i < MAIL_MESSAGE_MAX_TEXT; i++)
        memcpy(want + 2 * i, "\r\n", 2);
    struct parsed p;
    char *msg = check_case("+1", 2, text, MAIL_MESSAGE_MAX_TEXT, "+1", want,
                           2 * MAIL_MESSAGE_MAX_TEXT, false, &p);
    free_parsed(&p);
    free(msg);
    free(text);
    free(want);
}

int main(void)
{
    setenv("TZ", "CET-1", 1); /* fixed +0100, no tzdata needed */
    tzset();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_long_text),
        cmocka_unit_test(test_embedded_nul),
        cmocka_unit_test(test_long_unicode_sender),
        cmocka_unit_test(test_long_ascii_sender),
        cmocka_unit_test(test_message_id),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_max_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
