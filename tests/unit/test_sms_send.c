/* Table tests for send_sms validation: number syntax, recipient globs, JSON
 * fields and types, defaults, max_parts boundaries, and the hourly limiter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sms-sentinel/sms_send.h"

#define MSG_NOT_A_NUMBER "is not a phone number (an optional leading + and 3 to 20 digits, nothing else)"

struct number_row {
    const char *s;
    size_t len; /* 0: strlen */
    bool ok;
};

static const struct number_row number_rows[] = {
    {"+33612345678", 0, true},
    {"0612345678", 0, true},
    {"112", 0, true},
    {"+123", 0, true},
    {"12345678901234567890", 0, true},  /* 20 digits */
    {"+12345678901234567890", 0, true}, /* + and 20 digits */
    {"123456789012345678901", 0, false}, /* 21 digits */
    {"+123456789012345678901", 0, false},
    {"12", 0, false},
    {"+12", 0, false},
    {"", 0, false},
    {"+", 0, false},
    {"++33612345678", 0, false},
    {"+33 6", 0, false},
    {"+33 6 12 34 56 78", 0, false},
    {"abc", 0, false},
    {"+33;reboot", 0, false},
    {"0612345678;", 0, false},
    {"$(reboot)", 0, false},
    {"`id`", 0, false},
    {"../../etc", 0, false},
    {"06/12345678", 0, false},
    {"06_12345678", 0, false},
    {"06.12.34.56.78", 0, false},
    {"06-12-34-56-78", 0, false},
    {"33+612345678", 0, false},
    {"0612345678\n", 0, false},
    {"\xd9\xa0\xd9\xa6\xd9\xa1\xd9\xa2", 0, false}, /* Arabic-Indic digits 0612 */
    {"\xef\xbc\x90\xef\xbc\x96\xef\xbc\x91", 0, false}, /* fullwidth 061 */
    {"061\0002345", 8, false},                           /* NUL inside */
    {"Vodafone", 0, false},
    {"*123#", 0, false},
};

static void test_numbers(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(number_rows) / sizeof(number_rows[0]); i++) {
        const struct number_row *r = &number_rows[i];
        char err[200] = "";
        size_t len = r->len ? r->len : strlen(r->s);
        print_message("number row %zu: '%s'\n", i, r->s);
        assert_int_equal(sms_number_check(r->s, len, err, sizeof(err)) == 0, r->ok);
        if (!r->ok)
            assert_non_null(strstr(err, MSG_NOT_A_NUMBER));
    }
    char err[200];
    sms_number_check("+33 6 12", 8, err, sizeof(err));
    assert_string_equal(err, "number '+33 6 12' " MSG_NOT_A_NUMBER);
    sms_number_check("06\n12", 5, err, sizeof(err)); /* control bytes never reach a log */
    assert_string_equal(err, "number '06?12' " MSG_NOT_A_NUMBER);
}

struct glob_row {
    const char *pattern, *number;
    bool match;
};

static const struct glob_row glob_rows[] = {
    {"+336*", "+33612345678", true},
    {"+336*", "+33712345678", false},
    {"+336*", "+336", true},
    {"+336*", "0612345678", false},
    {"*", "+33612345678", true},
    {"*", "", true},
    {"", "", true},
    {"", "1", false},
    {"+33612345678", "+33612345678", true},
    {"+33612345678", "+336123456789", false},
    {"+3361234567?", "+33612345678", true},
    {"+3361234567?", "+3361234567", false},
    {"?", "", false},
    {"06??????78", "0612345678", true},
    {"06??????78", "0612345679", false},
    {"*78", "0612345678", true},
    {"*78", "0612345687", false},
    {"+33*5*8", "+33612345678", true},
    {"+33*5*9", "+33612345678", false},
    {"**", "123", true},
    {"*1*1*", "010", false},
    {"*1*1*", "0101", true},
    {"+*", "0612", false},  /* '+' is literal */
    {"336*", "+33612", false},
};

static void test_globs(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(glob_rows) / sizeof(glob_rows[0]); i++) {
        const struct glob_row *r = &glob_rows[i];
        print_message("glob row %zu: '%s' '%s'\n", i, r->pattern, r->number);
        assert_int_equal(sms_glob_match(r->pattern, r->number), r->match);
    }
}

/* Configs the JSON rows run against. */
enum cfg_kind { CFG_PLAIN, CFG_DEFAULTS, CFG_ALLOWED };

static void make_config(enum cfg_kind kind, struct config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->max_parts = 6;
    cfg->max_sms_per_hour = 60;
    switch (kind) {
    case CFG_PLAIN:
        break;
    case CFG_DEFAULTS:
        cfg->default_recipients.count = 2;
        cfg->default_recipients.items[0] = "+33611111111";
        cfg->default_recipients.items[1] = "+33622222222";
        break;
    case CFG_ALLOWED:
        cfg->allowed_recipients.count = 2;
        cfg->allowed_recipients.items[0] = "+336*";
        cfg->allowed_recipients.items[1] = "0612??????";
        cfg->default_recipients.count = 1;
        cfg->default_recipients.items[0] = "+33699999999";
        break;
    }
}

struct json_row {
    enum cfg_kind cfg;
    const char *payload;
    int count;         /* recipients when ok, -1 when an error is expected */
    const char *error; /* substring of the error */
};

static const struct json_row json_rows[] = {
    {CFG_PLAIN, "{\"number\":\"+33612345678\",\"text\":\"hi\"}", 1, NULL},
    {CFG_PLAIN, "{\"number\":\"0612345678\",\"text\":\"hi\",\"flash\":true,\"delivery_report\":false}", 1, NULL},
    {CFG_PLAIN, "{\"number\":[\"+33612345678\",\"+33712345678\"],\"text\":\"hi\",\"transaction\":[1]}", 2, NULL},
    {CFG_PLAIN, "{\"number\":[\"+33612345678\",\"+33 7\"],\"text\":\"hi\"}", -1, "number '+33 7' is not a phone"},
    {CFG_PLAIN, "{\"number\":[\"+33612345678\",7],\"text\":\"hi\"}", -1, "'number[1]' must be a string"},
    {CFG_PLAIN, "{\"number\":[],\"text\":\"hi\"}", -1, "'number' must list 1 to 10 numbers, not 0"},
    {CFG_PLAIN,
     "{\"number\":[\"001\",\"002\",\"003\",\"004\",\"005\",\"006\",\"007\",\"008\",\"009\",\"010\"],\"text\":\"x\"}",
     10, NULL},
    {CFG_PLAIN,
     "{\"number\":[\"001\",\"002\",\"003\",\"004\",\"005\",\"006\",\"007\",\"008\",\"009\",\"010\",\"011\"],"
     "\"text\":\"x\"}",
     -1, "not 11"},
    {CFG_PLAIN, "{\"number\":[\"+33612345678\",\"+33612345678\"],\"text\":\"hi\"}", -1, "given twice"},
    {CFG_PLAIN, "{\"number\":33612345678,\"text\":\"hi\"}", -1, "'number' must be a string or an array of strings"},
    {CFG_PLAIN, "{\"number\":null,\"text\":\"hi\"}", -1, "'number' must be a string or an array of strings"},
    {CFG_PLAIN, "{\"number\":{\"a\":1},\"text\":\"hi\"}", -1, "'number' must be a string or an array"},
    {CFG_PLAIN, "{\"number\":\"../../etc/passwd\",\"text\":\"hi\"}", -1, "number '../../etc/passwd' is not a phone"},
    {CFG_PLAIN, "{\"number\":\"+33;reboot\",\"text\":\"hi\"}", -1, "is not a phone number"},
    {CFG_PLAIN, "{\"number\":\"061\\u00002345\",\"text\":\"hi\"}", -1, "is not a phone number"},
    {CFG_PLAIN, "{\"number\":\"+33612345678\"}", -1, "'text' is missing"},
    {CFG_PLAIN, "{\"number\":\"+33612345678\",\"text\":\"\"}", -1, "'text' is empty"},
    {CFG_PLAIN, "{\"number\":\"+33612345678\",\"text\":42}", -1, "'text' must be a string"},
    {CFG_PLAIN, "{\"number\":\"+33612345678\",\"text\":[\"a\"]}", -1, "'text' must be a string"},
    {CFG_PLAIN, "{\"number\":\"+33612345678\",\"text\":\"a\\u0000b\"}", -1, "'text' contains a NUL"},
    /* json-c turns a lone surrogate escape into U+FFFD: valid text */
    {CFG_PLAIN, "{\"number\":\"+33612345678\",\"text\":\"\\ud800\"}", 1, NULL},
    {CFG_PLAIN, "{\"number\":\"+33612345678\",\"text\":\"\\ud83d\\ude00 ok\"}", 1, NULL},
    {CFG_PLAIN, "{\"number\":\"+33612345678\",\"text\":\"hi\",\"flash\":\"yes\"}", -1, "'flash' must be true or false"},
    {CFG_PLAIN, "{\"number\":\"+33612345678\",\"text\":\"hi\",\"flash\":1}", -1, "'flash' must be true or false"},
    {CFG_PLAIN, "{\"number\":\"+33612345678\",\"text\":\"hi\",\"delivery_report\":null}", -1,
     "'delivery_report' must be true or false"},
    {CFG_PLAIN, "{\"number\":\"+33612345678\",\"text\":\"hi\",\"priority\":1}", -1,
     "unknown field 'priority' in send_sms request"},
    {CFG_PLAIN, "{\"numbr\":\"+33612345678\",\"text\":\"hi\",\"falsh\":true}", -1,
     "unknown fields 'numbr', 'falsh' in send_sms request"},
    {CFG_PLAIN, "{\"number\":\"+33612345678\",\"text\":\"hi\",\"a\\nb\":1}", -1, "unknown field 'a?b'"},
    {CFG_PLAIN, "{\"text\":\"hi\"}", -1, "no 'number' given and no default_recipients configured"},
    {CFG_PLAIN, "[1]", -1, "must be a JSON object"},
    {CFG_DEFAULTS, "{\"text\":\"hi\"}", 2, NULL},
    {CFG_DEFAULTS, "{\"text\":\"hi\",\"number\":\"+33633333333\"}", 1, NULL},
    {CFG_ALLOWED, "{\"text\":\"hi\",\"number\":\"+33612345678\"}", 1, NULL},
    {CFG_ALLOWED, "{\"text\":\"hi\",\"number\":\"0612345678\"}", 1, NULL},
    {CFG_ALLOWED, "{\"text\":\"hi\",\"number\":\"061234567\"}", -1, "number '061234567' is not in allowed_recipients"},
    {CFG_ALLOWED, "{\"text\":\"hi\",\"number\":\"+33712345678\"}", -1, "is not in allowed_recipients"},
    {CFG_ALLOWED, "{\"text\":\"hi\",\"number\":[\"+33612345678\",\"+4915112345678\"]}", -1,
     "number '+4915112345678' is not in allowed_recipients"},
    {CFG_ALLOWED, "{\"text\":\"hi\"}", 1, NULL},
};

static json_object *parse(const char *s)
{
    json_object *o = json_tokener_parse(s);
    assert_non_null(o);
    return o;
}

static void test_json_rows(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(json_rows) / sizeof(json_rows[0]); i++) {
        const struct json_row *r = &json_rows[i];
        struct config cfg;
        make_config(r->cfg, &cfg);
        json_object *req = parse(r->payload);
        struct sms_send s;
        char err[300] = "";
        print_message("json row %zu: %s\n", i, r->payload);
        int rc = sms_send_parse(req, &cfg, &s, err, sizeof(err));
        if (r->count >= 0) {
            assert_int_equal(rc, 0);
            assert_int_equal(s.count, r->count);
            assert_non_null(s.text);
        } else {
            assert_int_equal(rc, -1);
            print_message("  -> %s\n", err);
            assert_non_null(strstr(err, r->error));
            assert_null(s.text);
            assert_int_equal(s.count, 0);
        }
        sms_send_clear(&s);
        json_object_put(req);
    }
}

static void test_fields_passed(void **state)
{
    (void)state;
    struct config cfg;
    make_config(CFG_DEFAULTS, &cfg);
    json_object *req =
        parse("{\"text\":\"Grüße 😀 日本\",\"flash\":true,\"delivery_report\":true,\"transaction\":{\"id\":7}}");
    struct sms_send s;
    char err[200];
    assert_int_equal(sms_send_parse(req, &cfg, &s, err, sizeof(err)), 0);
    json_object_put(req); /* the result owns its copies */
    assert_true(s.used_defaults);
    assert_string_equal(s.numbers[0], "+33611111111");
    assert_string_equal(s.numbers[1], "+33622222222");
    assert_string_equal(s.text, "Grüße 😀 日本");
    assert_int_equal(s.text_len, strlen("Grüße 😀 日本"));
    assert_int_equal(s.length.encoding, SMS_ENCODING_UCS2);
    assert_int_equal(s.length.parts, 1);
    assert_true(s.flash);
    assert_true(s.delivery_report);
    assert_string_equal(json_object_to_json_string_ext(s.transaction, JSON_C_TO_STRING_PLAIN), "{\"id\":7}");
    assert_int_equal(sms_send_cost(&s), 2);
    sms_send_clear(&s);
    assert_null(s.transaction);
}

/* max_parts boundaries: (max_parts, text of n x piece, ok). */
struct parts_row {
    int max_parts;
    const char *piece;
    int n;
    bool ok;
};

static const struct parts_row parts_rows[] = {
    {1, "a", 160, true},   {1, "a", 161, false}, {1, "日", 70, true},  {1, "日", 71, false},
    {1, "€", 80, true},    {1, "€", 81, false},  {6, "a", 918, true},  {6, "a", 919, false},
    {6, "日", 402, true},  {6, "日", 403, false}, {2, "😀", 66, true},  {2, "😀", 67, false},
    {255, "a", 4896, true}, {255, "a", 4897, false}, /* capped at SMS_SEND_PARTS_LIMIT */
    {32, "日", 2144, true}, {32, "日", 2145, false}, {33, "日", 2145, false},
};

static void test_max_parts(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(parts_rows) / sizeof(parts_rows[0]); i++) {
        const struct parts_row *r = &parts_rows[i];
        struct config cfg;
        make_config(CFG_PLAIN, &cfg);
        cfg.max_parts = r->max_parts;
        size_t pl = strlen(r->piece);
        char *text = malloc(pl * (size_t)r->n + 1);
        assert_non_null(text);
        for (int k = 0; k < r->n; k++)
            memcpy(text + pl * (size_t)k, r->piece, pl);
        json_object *req = json_object_new_object();
        json_object_object_add(req, "number", json_object_new_string("0612345678"));
        json_object_object_add(req, "text", json_object_new_string_len(text, (int)(pl * (size_t)r->n)));
        struct sms_send s;
        char err[200] = "";
        print_message("parts row %zu: max %d, %s x %d\n", i, r->max_parts, r->piece, r->n);
        assert_int_equal(sms_send_parse(req, &cfg, &s, err, sizeof(err)) == 0, r->ok);
        if (!r->ok)
            assert_non_null(strstr(err, "max_parts"));
        sms_send_clear(&s);
        json_object_put(req);
        free(text);
    }
    char err[200];
    struct config cfg;
    make_config(CFG_PLAIN, &cfg);
    json_object *req = parse("{\"number\":\"0612345678\",\"text\":\"" /* 7 parts */
                             "0123456789012345678901234567890123456789012345678901234567890123456789"
                             "0123456789012345678901234567890123456789012345678901234567890123456789"
                             "0123456789012345678901234567890123456789012345678901234567890123456789"
                             "0123456789012345678901234567890123456789012345678901234567890123456789"
                             "0123456789012345678901234567890123456789012345678901234567890123456789"
                             "0123456789012345678901234567890123456789012345678901234567890123456789"
                             "0123456789012345678901234567890123456789012345678901234567890123456789"
                             "0123456789012345678901234567890123456789012345678901234567890123456789"
                             "0123456789012345678901234567890123456789012345678901234567890123456789"
                             "0123456789012345678901234567890123456789012345678901234567890123456789"
                             "0123456789012345678901234567890123456789012345678901234567890123456789"
                             "0123456789012345678901234567890123456789012345678901234567890123456789"
                             "0123456789012345678901234567890123456789012345678901234567890123456789"
                             "0123456789\"}");
    struct sms_send s;
    assert_int_equal(sms_send_parse(req, &cfg, &s, err, sizeof(err)), -1);
    assert_string_equal(err, "'text' needs 7 SMS parts (920 GSM 7-bit septets); at most 6 allowed (max_parts)");
    json_object_put(req);
}

/* Objects built in code can hold bytes no JSON text decodes to. */
static void test_invalid_utf8_text(void **state)
{
    (void)state;
    struct config cfg;
    make_config(CFG_PLAIN, &cfg);
    static const char *const bad[] = {"\xff", "ab\xc3", "\xed\xa0\x80", "\xc0\xaf"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_object *req = json_object_new_object();
        json_object_object_add(req, "number", json_object_new_string("0612345678"));
        json_object_object_add(req, "text", json_object_new_string(bad[i]));
        struct sms_send s;
        char err[200] = "";
        assert_int_equal(sms_send_parse(req, &cfg, &s, err, sizeof(err)), -1);
        assert_string_equal(err, "'text' is not valid UTF-8");
        json_object_put(req);
    }
}

#define MIN_MS 60000

static void test_rate(void **state)
{
    (void)state;
    struct sms_rate r;
    char err[200] = "";
    sms_rate_init(&r);
    int64_t t0 = 10 * 3600 * 1000LL + 30000; /* mid-minute */
    assert_int_equal(sms_rate_used(&r, t0), 0);
    assert_int_equal(sms_rate_take(&r, 10, 4, t0, err, sizeof(err)), 0);
    assert_int_equal(sms_rate_take(&r, 10, 6, t0 + 5 * MIN_MS, err, sizeof(err)), 0);
    assert_int_equal(sms_rate_used(&r, t0 + 5 * MIN_MS), 10);
    /* full: nothing charged, the error says when 4 come back */
    assert_int_equal(sms_rate_take(&r, 10, 1, t0 + 10 * MIN_MS, err, sizeof(err)), -1);
    assert_string_equal(err, "rate limit: 10 of 10 SMS sent in the last hour, this needs 1 (retry in 2970 s)");
    assert_int_equal(sms_rate_used(&r, t0 + 10 * MIN_MS), 10);
    /* the first charge counts for its whole minute + 59 more */
    assert_int_equal(sms_rate_used(&r, t0 + 59 * MIN_MS), 10);
    assert_int_equal(sms_rate_used(&r, t0 + 60 * MIN_MS - 30000), 6); /* minute 60 after it started */
    assert_int_equal(sms_rate_take(&r, 10, 4, t0 + 60 * MIN_MS, err, sizeof(err)), 0);
    assert_int_equal(sms_rate_take(&r, 10, 1, t0 + 60 * MIN_MS, err, sizeof(err)), -1);
    assert_int_equal(sms_rate_used(&r, t0 + 200 * MIN_MS), 0);
    /* a request bigger than the limit can never pass */
    assert_int_equal(sms_rate_take(&r, 10, 11, t0 + 300 * MIN_MS, err, sizeof(err)), -1);
    assert_string_equal(err, "this request needs 11 SMS, more than max_per_hour (10)");
    /* many minutes: the ring reuses buckets */
    sms_rate_init(&r);
    for (int m = 0; m < 180; m++)
        assert_int_equal(sms_rate_take(&r, 60, 1, t0 + m * MIN_MS, err, sizeof(err)), 0);
    assert_int_equal(sms_rate_used(&r, t0 + 179 * MIN_MS), 60);
    assert_int_equal(sms_rate_take(&r, 60, 1, t0 + 179 * MIN_MS, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "retry in 30 s"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers),    cmocka_unit_test(test_globs),     cmocka_unit_test(test_json_rows),
        cmocka_unit_test(test_fields_passed), cmocka_unit_test(test_max_parts), cmocka_unit_test(test_rate),
        cmocka_unit_test(test_invalid_utf8_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
