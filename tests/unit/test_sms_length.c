/* Table tests for SMS length counting: GSM 03.38 with the extension table,
 * UCS-2 with surrogate pairs, single/concatenated part boundaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sms-sentinel/sms_length.h"

/* The text is a x na, then b x nb, then c x nc. */
struct row {
    const char *a;
    int na;
    const char *b;
    int nb;
    const char *c;
    int nc;
    enum sms_encoding enc;
    size_t chars, units, parts;
};

#define GSM SMS_ENCODING_GSM7
#define UCS SMS_ENCODING_UCS2
#define ONE(s) s, 1, "", 0, "", 0

static const struct row rows[] = {
    {ONE(""), GSM, 0, 0, 1},
    {ONE("hello"), GSM, 5, 5, 1},
    {ONE("@$_\n\r"), GSM, 5, 5, 1},
    {ONE("€"), GSM, 1, 2, 1},
    {ONE("[]{}"), GSM, 4, 8, 1},
    {ONE("^~\\|"), GSM, 4, 8, 1},
    {ONE("\f"), GSM, 1, 2, 1},
    {ONE("Grüße"), GSM, 5, 5, 1},
    {ONE("ΔΦΓΛΩΠΨΣΘΞ"), GSM, 10, 10, 1},
    {ONE("¡£¤¥§¿ÄÅÆÇÉÑÖØÜßàäåæèéìñòöøùü"), GSM, 29, 29, 1},
    {ONE("`"), UCS, 1, 1, 1},            /* backtick is not in GSM */
    {ONE("ç"), UCS, 1, 1, 1},            /* only capital Ç is */
    {ONE("\t"), UCS, 1, 1, 1},
    {ONE("😀"), UCS, 1, 2, 1},
    {ONE("Grüße 😀 日本"), UCS, 10, 11, 1},
    {ONE("€😀"), UCS, 2, 3, 1},           /* € is one unit in UCS-2 */
    /* GSM boundaries */
    {"a", 160, "", 0, "", 0, GSM, 160, 160, 1},
    {"a", 161, "", 0, "", 0, GSM, 161, 161, 2},
    {"a", 306, "", 0, "", 0, GSM, 306, 306, 2},
    {"a", 307, "", 0, "", 0, GSM, 307, 307, 3},
    {"a", 918, "", 0, "", 0, GSM, 918, 918, 6},
    {"a", 919, "", 0, "", 0, GSM, 919, 919, 7},
    {"€", 80, "", 0, "", 0, GSM, 80, 160, 1},
    {"€", 81, "", 0, "", 0, GSM, 81, 162, 2},
    {"a", 159, "€", 1, "", 0, GSM, 160, 161, 2},
    /* 306 septets, but the escape pair at 152/153 moves to part 2 */
    {"a", 152, "€", 1, "a", 152, GSM, 305, 306, 3},
    {"a", 151, "€", 1, "a", 153, GSM, 305, 306, 2},
    /* UCS-2 boundaries */
    {"日", 70, "", 0, "", 0, UCS, 70, 70, 1},
    {"日", 71, "", 0, "", 0, UCS, 71, 71, 2},
    {"日", 134, "", 0, "", 0, UCS, 134, 134, 2},
    {"日", 135, "", 0, "", 0, UCS, 135, 135, 3},
    {"😀", 35, "", 0, "", 0, UCS, 35, 70, 1},
    {"😀", 36, "", 0, "", 0, UCS, 36, 72, 2},
    {"a", 159, "😀", 1, "", 0, UCS, 160, 161, 3},
    {"a", 69, "日", 1, "", 0, UCS, 70, 70, 1},
    {"a", 160, "日", 1, "", 0, UCS, 161, 161, 3},
    /* the surrogate pair at 66/67 moves to part 2 */
    {"日", 66, "😀", 1, "日", 66, UCS, 133, 134, 3},
    {"日", 65, "😀", 1, "日", 67, UCS, 133, 134, 2},
};

static char *build(const struct row *r)
{
    size_t len = strlen(r->a) * (size_t)r->na + strlen(r->b) * (size_t)r->nb + strlen(r->c) * (size_t)r->nc;
    char *s = malloc(len + 1), *p = s;
    assert_non_null(s);
    const char *piece[] = {r->a, r->b, r->c};
    int count[] = {r->na, r->nb, r->nc};
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < count[k]; i++) {
            memcpy(p, piece[k], strlen(piece[k]));
            p += strlen(piece[k]);
        }
    *p = '\0';
    return s;
}

static void test_rows(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const struct row *r = &rows[i];
        char *text = build(r);
        struct sms_length l;
        print_message("row %zu: %.40s x%d\n", i, r->a, r->na);
        assert_int_equal(sms_length_count(text, strlen(text), &l), 0);
        assert_string_equal(sms_encoding_str(l.encoding), sms_encoding_str(r->enc));
        assert_int_equal(l.chars, r->chars);
        assert_int_equal(l.units, r->units);
        assert_int_equal(l.parts, r->parts);
        free(text);
    }
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    static const char *const bad[] = {"\xff", "a\xc3", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "ok\x80"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct sms_length l = {.parts = 99};
        assert_int_equal(sms_length_count(bad[i], strlen(bad[i]), &l), -1);
        assert_int_equal(l.parts, 99);
    }
}

static void test_utf8_next(void **state)
{
    (void)state;
    uint32_t cp = 0;
    assert_int_equal(sms_utf8_next("\xf0\x9f\x98\x80", 4, &cp), 4);
    assert_int_equal(cp, 0x1F600);
    assert_int_equal(sms_utf8_next("\xe2\x82\xac", 3, &cp), 3);
    assert_int_equal(cp, 0x20AC);
    assert_int_equal(sms_utf8_next("\xe2\x82", 2, &cp), 0);
    assert_string_equal(sms_encoding_str(SMS_ENCODING_GSM7), "gsm7");
    assert_string_equal(sms_encoding_str(SMS_ENCODING_UCS2), "ucs2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_utf8_next),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
