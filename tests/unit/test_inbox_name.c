/* Table tests for gammu-smsd inbox file names, plus every name gammu-smsd 1.42
 * really wrote in tests/fixtures/inbox/. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sms-sentinel/inbox_name.h"

struct name_case {
    const char *name;
    size_t len;
    enum inbox_name_error err;
    const char *sender;   /* decoded, when OK */
    unsigned serial, part;
    enum inbox_ext ext;
};

#define S(s) s, sizeof(s) - 1
#define OK(name, sender, serial, part, ext) {S(name), INBOX_NAME_OK, sender, serial, part, ext}
#define BAD(name, err) {S(name), err, NULL, 0, 0, INBOX_EXT_TXT}

#define T INBOX_EXT_TXT
#define B INBOX_EXT_BIN
#define P "IN20021130_021531_" /* date and time */

static const struct name_case cases[] = {
    OK(P "00_+45409000931640979_00.txt", "+45409000931640979", 0, 0, T),
    OK(P "00_Vodafone_00.txt", "Vodafone", 0, 0, T),
    OK(P "00_0612345678_00.txt", "0612345678", 0, 0, T),
    OK(P "02_+33612345678_02.txt", "+33612345678", 2, 2, T),
    OK(P "99_+33612345678_49.txt", "+33612345678", 99, 49, T),
    OK(P "00_+33612345678_00.bin", "+33612345678", 0, 0, B),
    OK(P "00_Free Mobile_00.txt", "Free Mobile", 0, 0, T),
    /* alphanumeric senders as raw GSM septets (real gammu 1.42 output) */
    OK(P "00_MY\x11" "BANK_00.txt", "MY_BANK", 0, 0, T),
    OK(P "00_M\x05t\x05o_00.txt", "M\xc3\xa9t\xc3\xa9o", 0, 0, T),
    OK(P "00_Info\x1b\x65_00.txt", "Info\xe2\x82\xac", 0, 0, T),
    OK(P "00_Shop[1]_00.txt", "Shop\xc3\x84" "1\xc3\x91", 0, 0, T),
    OK(P "00_a\nb_00.txt", "a?b", 0, 0, T),
    /* '*' written as 'X': restored only in numbers */
    OK(P "00_PayXMe_00.txt", "PayXMe", 0, 0, T),
    OK(P "00_+33X123X_00.txt", "+33*123*", 0, 0, T),
    OK(P "00_X_00.txt", "X", 0, 0, T),
    /* an ASCII '_' is GSM 0x5F, '\xc2\xa7': gammu writes '_' as 0x11 */
    OK(P "00_a_b_c_00.txt", "a\xc2\xa7" "b\xc2\xa7" "c", 0, 0, T),
    OK(P "00__00.txt", "", 0, 0, T),
    OK(P "00_a.b_00.txt", "a.b", 0, 0, T),
    OK(P "00_Caf\xc3\xa9_00.txt", "Caf\xc3\xa9", 0, 0, T),
    OK(P "00_\xff\xfe_00.txt", "??", 0, 0, T),
    OK("IN000000_000000_00_+1_00.txt", "+1", 0, 0, T),
    OK("IN20000229_235959_00_+1_00.txt", "+1", 0, 0, T),
    /* hostile or foreign */
    BAD("", INBOX_NAME_EMPTY),
    BAD(P "00_+1_00.txt.tmp", INBOX_NAME_BAD_EXT),
    BAD(P "00_+1_00.txt~", INBOX_NAME_BAD_EXT),
    BAD(P "00_+1_00.TXT", INBOX_NAME_BAD_EXT),
    BAD(P "00_+1_00", INBOX_NAME_BAD_EXT),
    BAD(P "00_+1_00.smsbackup", INBOX_NAME_BAD_EXT),
    BAD(P "00_+1_00.swp", INBOX_NAME_BAD_EXT),
    BAD("." P "00_+1_00.txt", INBOX_NAME_HIDDEN),
    BAD(".." , INBOX_NAME_HIDDEN),
    BAD("../" P "00_+1_00.txt", INBOX_NAME_BAD_BYTE),
    BAD(P "00_a/b_00.txt", INBOX_NAME_BAD_BYTE),
    BAD(P "00_a\0b_00.txt", INBOX_NAME_BAD_BYTE),
    BAD("OUT" "20021130_021531_00_+1_00.txt", INBOX_NAME_NOT_INBOX),
    BAD("in20021130_021531_00_+1_00.txt", INBOX_NAME_NOT_INBOX),
    BAD(" IN20021130_021531_00_+1_00.txt", INBOX_NAME_NOT_INBOX),
    BAD("I", INBOX_NAME_NOT_INBOX),
    BAD("IN", INBOX_NAME_BAD_EXT),
    BAD("IN.txt", INBOX_NAME_BAD_DATE),
    BAD("IN2002113_021531_00_+1_00.txt", INBOX_NAME_BAD_DATE),
    BAD("IN20021330_021531_00_+1_00.txt", INBOX_NAME_BAD_DATE),
    BAD("IN20020230_021531_00_+1_00.txt", INBOX_NAME_BAD_DATE),
    BAD("IN19000229_021531_00_+1_00.txt", INBOX_NAME_BAD_DATE),
    BAD("IN20021100_021531_00_+1_00.txt", INBOX_NAME_BAD_DATE),
    BAD("IN2002113a_021531_00_+1_00.txt", INBOX_NAME_BAD_DATE),
    BAD("IN20021130-021531_00_+1_00.txt", INBOX_NAME_BAD_DATE),
    BAD("IN20021130_246000_00_+1_00.txt", INBOX_NAME_BAD_TIME),
    BAD("IN20021130_026000_00_+1_00.txt", INBOX_NAME_BAD_TIME),
    BAD("IN20021130_02153_00_+1_00.txt", INBOX_NAME_BAD_TIME),
    BAD("IN20021130_.txt", INBOX_NAME_BAD_TIME),
    BAD(P "0_+1_00.txt", INBOX_NAME_BAD_SERIAL),
    BAD(P "ab_+1_00.txt", INBOX_NAME_BAD_SERIAL),
    BAD(P "100_+1_00.txt", INBOX_NAME_BAD_SERIAL),
    BAD("IN20021130_021531_00.txt", INBOX_NAME_BAD_SERIAL),
    BAD(P "00_+1.txt", INBOX_NAME_BAD_SENDER),
    BAD(P "00_.txt", INBOX_NAME_BAD_SENDER),
    BAD(P "00_+1_0.txt", INBOX_NAME_BAD_PART),
    BAD(P "00_+1_000.txt", INBOX_NAME_BAD_PART),
    BAD(P "00_+1_ab.txt", INBOX_NAME_BAD_PART),
    BAD(P "00_+1_.txt", INBOX_NAME_BAD_PART),
};

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct name_case *c = &cases[i];
        struct inbox_name n;
        print_message("case %zu\n", i);
        enum inbox_name_error err = inbox_name_parse(c->name, c->len, &n);
        assert_string_equal(inbox_name_error_str(err), inbox_name_error_str(c->err));
        if (err != INBOX_NAME_OK)
            continue;
        assert_string_equal(n.sender, c->sender);
        assert_int_equal(n.serial, c->serial);
        assert_int_equal(n.part, c->part);
        assert_int_equal(n.ext, c->ext);
        assert_memory_equal(n.name, c->name, c->len);
        assert_int_equal(strlen(n.name), c->len);
    }
}

static void test_fields_and_id(void **state)
{
    (void)state;
    struct inbox_name n;
    const char *name = "IN20021130_021531_07_+45409000931640979_03.txt";
    assert_int_equal(inbox_name_parse(name, strlen(name), &n), INBOX_NAME_OK);
    assert_int_equal(n.year, 2002);
    assert_int_equal(n.month, 11);
    assert_int_equal(n.day, 30);
    assert_int_equal(n.hour, 2);
    assert_int_equal(n.minute, 15);
    assert_int_equal(n.second, 31);
    assert_int_equal(n.stamp, 1038622531);
    assert_string_equal(n.id, name);
    assert_string_equal(n.sender_raw, "+45409000931640979");
    assert_int_equal(n.sender_raw_len, 18);

    const char *odd = "IN20261206_200852_00_MY\x11" "BANK %_00.txt";
    assert_int_equal(inbox_name_parse(odd, strlen(odd), &n), INBOX_NAME_OK);
    assert_string_equal(n.id, "IN20261206_200852_00_MY%11BANK%20%25_00.txt");
    assert_string_equal(n.sender, "MY_BANK %");

    assert_int_equal(inbox_name_parse(S("IN19700101_000001_00_+1_00.txt"), &n), INBOX_NAME_OK);
    assert_int_equal(n.stamp, 1);
    assert_int_equal(inbox_name_parse(S("IN000000_000000_00_+1_00.txt"), &n), INBOX_NAME_OK);
    assert_int_equal(n.stamp, 0);
    assert_int_equal(n.year, 0);
}

static void test_lengths(void **state)
{
    (void)state;
    struct inbox_name n;
    char name[400];
    /* the longest name holds the longest sender */
    memset(name, 'A', sizeof(name));
    memcpy(name, P "00_", 21);
    memcpy(name + 21 + INBOX_SENDER_RAW_MAX, "_00.txt", 7);
    assert_int_equal(inbox_name_parse(name, 21 + INBOX_SENDER_RAW_MAX + 7, &n), INBOX_NAME_OK);
    assert_int_equal(n.sender_raw_len, INBOX_SENDER_RAW_MAX);
    memcpy(name + 21 + INBOX_SENDER_RAW_MAX + 1, "_00.txt", 7);
    assert_int_equal(inbox_name_parse(name, 21 + INBOX_SENDER_RAW_MAX + 8, &n), INBOX_NAME_TOO_LONG);
    assert_int_equal(inbox_name_parse(name, INBOX_NAME_MAX + 1, &n), INBOX_NAME_TOO_LONG);
    assert_int_equal(inbox_name_parse(name, 300, &n), INBOX_NAME_TOO_LONG);
    /* the parser never looks past len */
    assert_int_equal(inbox_name_parse(P "00_+1_00.txtXYZ", 30, &n), INBOX_NAME_OK);
}

static void test_same_sender(void **state)
{
    (void)state;
    struct inbox_name a, b, c, d, e;
    assert_int_equal(inbox_name_parse(S("IN20261206_200852_00_+33699999999_00.txt"), &a), 0);
    assert_int_equal(inbox_name_parse(S("IN20261206_200855_00_+33699999999_01.txt"), &b), 0);
    assert_int_equal(inbox_name_parse(S("IN20261206_200852_00_+33699999999_00.bin"), &c), 0);
    assert_int_equal(inbox_name_parse(S("IN20261206_200852_01_+33699999999_01.txt"), &d), 0);
    assert_int_equal(inbox_name_parse(S("IN20261206_200852_00_+3369999999_01.txt"), &e), 0);
    assert_true(inbox_name_same_sender(&a, &b));
    assert_false(inbox_name_same_sender(&a, &c));
    assert_false(inbox_name_same_sender(&a, &d));
    assert_false(inbox_name_same_sender(&a, &e));
}

static void test_sender_decode(void **state)
{
    (void)state;
    char out[16];
    /* every septet decodes to something printable or '?', never overflows */
    for (unsigned c = 1; c < 128; c++) {
        char raw[2] = {(char)c, 'a'};
        size_t n = inbox_sender_decode(out, sizeof(out), raw, 2);
        assert_true(n >= (c == 0x1b ? 1u : 2u) && n <= 4); /* ESC 'a': unknown escape -> 'a' */
        assert_int_equal(strlen(out), n);
    }
    assert_int_equal(inbox_sender_decode(out, 4, "\x1b\x65\x1b\x65", 4), 3);
    assert_string_equal(out, "\xe2\x82\xac");
    assert_int_equal(inbox_sender_decode(out, sizeof(out), "a\x1b", 2), 2);
    assert_string_equal(out, "a?");
    assert_int_equal(inbox_sender_decode(out, sizeof(out), "", 0), 0);
}

/* Every file gammu-smsd wrote in the fixture runs parses, with the right parts. */
static void test_real_names(void **state)
{
    (void)state;
    static const char *const runs[] = {"standard", "standard-latin1", "standard-c",
                                       "unicode", "unicode-c", "detail"};
    unsigned total = 0, mybank = 0, split = 0;
    for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
        char dir[512];
        assert_int_equal(snprintf(dir, sizeof(dir), "%s/inbox/%s", FIXTURES_DIR, runs[r]) <
                             (int)sizeof(dir), 1);
        DIR *d = opendir(dir);
        assert_non_null(d);
        struct dirent *de;
        while ((de = readdir(d))) {
            if (de->d_name[0] == '.')
                continue;
            struct inbox_name n;
            print_message("%s/%s\n", runs[r], de->d_name);
            assert_int_equal(inbox_name_parse(de->d_name, strlen(de->d_name), &n), INBOX_NAME_OK);
            total++;
            mybank += strcmp(n.sender, "MY_BANK") == 0;
            split += strcmp(n.sender, "+33699999999") == 0 && n.part == 1;
        }
        closedir(d);
    }
    assert_int_equal(total, 5 * 18 + 13);
    assert_int_equal(mybank, 6);
    assert_int_equal(split, 5); /* detail keeps both parts in one file */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),       cmocka_unit_test(test_fields_and_id),
        cmocka_unit_test(test_lengths),     cmocka_unit_test(test_same_sender),
        cmocka_unit_test(test_sender_decode), cmocka_unit_test(test_real_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
