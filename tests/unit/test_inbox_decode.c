/* inbox_decode against the files the real gammu-smsd 1.42 wrote
 * (tests/fixtures/inbox/<run>/, see its README) and against hand-made bytes. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sms-sentinel/fsutil.h"
#include "sms-sentinel/inbox_decode.h"

#define S(s) (const unsigned char *)(s), sizeof(s) - 1

static const char *const runs[] = {"standard", "standard-latin1", "standard-c",
                                   "unicode",  "unicode-c",       "detail"};

/* ---- fixtures ---------------------------------------------------------- */

struct fixture {
    struct inbox_name name;
    char *data;
    size_t len;
};

/* Loads the file of run whose decoded sender, serial, part and ext match. */
static void load(struct fixture *f, const char *run, const char *sender, unsigned serial,
                 unsigned part, enum inbox_ext ext)
{
    char dir[512], path[1024];
    assert_true(snprintf(dir, sizeof(dir), "%s/inbox/%s", FIXTURES_DIR, run) < (int)sizeof(dir));
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    bool found = false;
    while (!found && (de = readdir(d))) {
        if (inbox_name_parse(de->d_name, strlen(de->d_name), &f->name) != INBOX_NAME_OK)
            continue;
        found = strcmp(f->name.sender, sender) == 0 && f->name.serial == serial &&
                f->name.part == part && f->name.ext == ext;
    }
    closedir(d);
    if (!found)
        fail_msg("no %s fixture for %s serial %u part %u", run, sender, serial, part);
    assert_true(snprintf(path, sizeof(path), "%s/%s", dir, f->name.name) < (int)sizeof(path));
    assert_int_equal(fs_read_file(path, 1 << 20, &f->data, &f->len), 0);
}

static enum inbox_format run_format(const char *run)
{
    if (strncmp(run, "unicode", 7) == 0)
        return INBOX_FORMAT_UNICODE;
    return strcmp(run, "detail") == 0 ? INBOX_FORMAT_DETAIL : INBOX_FORMAT_STANDARD;
}

static enum inbox_decode_error decode_fixture(const char *run, const char *sender, unsigned serial,
                                              unsigned part, enum inbox_ext ext,
                                              struct inbox_message *m)
{
    struct fixture f;
    load(&f, run, sender, serial, part, ext);
    struct inbox_decode_opts o = {.format = run_format(run)};
    enum inbox_decode_error err = inbox_decode(&o, ext, (unsigned char *)f.data, f.len, m);
    free(f.data);
    return err;
}

#define GRUSSE "Gr\xc3\xbc\xc3\x9f" "e \xf0\x9f\x98\x80 \xe6\x97\xa5\xe6\x9c\xac"
#define NUM "+33612345678"

static void long_gsm(char *buf, size_t size)
{
    buf[0] = '\0';
    for (int i = 0; i < 6; i++)
        strncat(buf, "This is a long message that gammu-smsd receives in three parts. ",
                size - strlen(buf) - 1);
    buf[strlen(buf) - 1] = '\0'; /* Python's strip() */
}

struct text_case {
    const char *run;
    const char *sender;
    unsigned serial;
    const char *text;
    bool latin1, nul;
};

static const struct text_case texts[] = {
    {"standard", NUM, 0, "Hello there", false, false},
    {"standard", NUM, 1, GRUSSE, false, false},
    {"standard", "Vodafone", 0, "Your balance is 5\xe2\x82\xac [ok]", false, false},
    {"standard", "0612345678", 0, "line one\nline two", false, false},
    {"standard", "M\xc3\xa9t\xc3\xa9o", 0, "Il fait beau \xc3\xa0 Paris", false, false},
    /* gammu under de_DE.ISO-8859-1: Latin-1 bytes, '?' for what Latin-1 lacks */
    {"standard-latin1", NUM, 1, "Gr\xc3\xbc\xc3\x9f" "e ? ??", true, false},
    {"standard-latin1", "Vodafone", 0, "Your balance is 5? [ok]", false, false},
    /* gammu under LANG=C: every non-ASCII character is already '?' */
    {"standard-c", NUM, 1, "Gr??e ? ??", false, false},
    {"unicode", NUM, 0, "Hello there", false, false},
    {"unicode", NUM, 1, GRUSSE, false, true},
    {"unicode", "Vodafone", 0, "Your balance is 5\xe2\x82\xac [ok]", false, true},
    {"unicode", "0612345678", 0, "line one\nline two", false, false},
    /* unicode under LANG=C: gammu writes strlen("Gr??e ? ??") * 2 bytes: cut short */
    {"unicode-c", NUM, 1, "Gr\xc3\xbc\xc3\x9f" "e \xf0\x9f\x98\x80 \xe6\x97\xa5", false, false},
    {"detail", NUM, 0, "Hello there", false, false},
    {"detail", NUM, 1, GRUSSE, false, false},
    /* detail too: Length counts septets (26 for 23 characters): 00 00 6C 6F follow */
    {"detail", "Vodafone", 0, "Your balance is 5\xe2\x82\xac [ok]", false, true},
};

static void test_fixture_texts(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        const struct text_case *c = &texts[i];
        struct inbox_message m;
        print_message("case %zu: %s %s\n", i, c->run, c->sender);
        assert_int_equal(decode_fixture(c->run, c->sender, c->serial, 0, INBOX_EXT_TXT, &m),
                         INBOX_DECODE_OK);
        assert_int_equal(m.content, INBOX_CONTENT_TEXT);
        assert_string_equal(m.text, c->text);
        assert_int_equal(m.text_len, strlen(c->text));
        assert_int_equal(m.latin1, c->latin1);
        assert_int_equal(m.stopped_at_nul, c->nul);
        inbox_message_free(&m);
    }
}

/* unicode under LANG=C: strlen("...?") * 2 bytes cut the final emoji in half */
static void test_fixture_cut(void **state)
{
    (void)state;
    struct fixture f;
    struct inbox_message m;
    load(&f, "unicode-c", "+33655555555", 0, 1, INBOX_EXT_TXT);
    struct inbox_decode_opts o = {.format = INBOX_FORMAT_UNICODE};
    assert_int_equal(inbox_decode(&o, INBOX_EXT_TXT, (unsigned char *)f.data, f.len, &m), 0);
    assert_true(m.cut_surrogate);
    assert_false(m.stopped_at_nul);
    const char *end = "\xe7\xb5\x82\xe3\x82\x8f\xe3\x82\x8a \xef\xbf\xbd";
    assert_true(m.text_len > strlen(end));
    assert_string_equal(m.text + m.text_len - strlen(end), end);
    inbox_message_free(&m);
    free(f.data);

    /* the same message under C.UTF-8: whole, then 00 00 and stale bytes */
    load(&f, "unicode", "+33655555555", 0, 1, INBOX_EXT_TXT);
    assert_int_equal(inbox_decode(&o, INBOX_EXT_TXT, (unsigned char *)f.data, f.len, &m), 0);
    assert_false(m.cut_surrogate);
    assert_true(m.stopped_at_nul);
    end = "\xe7\xb5\x82\xe3\x82\x8f\xe3\x82\x8a \xf0\x9f\x98\x80";
    assert_string_equal(m.text + m.text_len - strlen(end), end);
    inbox_message_free(&m);
    free(f.data);
}

static void test_fixture_binary(void **state)
{
    (void)state;
    for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
        struct inbox_message m;
        assert_int_equal(decode_fixture(runs[r], NUM, 0, 0, INBOX_EXT_BIN, &m), INBOX_DECODE_OK);
        assert_int_equal(m.content, INBOX_CONTENT_BINARY);
        assert_string_equal(m.text, "0001feff80417f");
        inbox_message_free(&m);
    }
}

static void test_fixture_detail(void **state)
{
    (void)state;
    struct inbox_message m;
    char want[512];
    long_gsm(want, sizeof(want));
    assert_int_equal(decode_fixture("detail", NUM, 2, 0, INBOX_EXT_TXT, &m), INBOX_DECODE_OK);
    assert_string_equal(m.text, want);
    assert_int_equal(m.parts, 3);
    assert_string_equal(m.number, NUM);
    assert_true(m.concat.present);
    assert_int_equal(m.concat.total, 3);
    assert_int_equal(m.concat.seq, 1);
    inbox_message_free(&m);

    /* parts with different SMSC times: still one file, both sections */
    assert_int_equal(decode_fixture("detail", "+33699999999", 0, 0, INBOX_EXT_TXT, &m), 0);
    assert_int_equal(m.parts, 2);
    assert_int_equal(m.text_len, 4 * strlen("Parts of this message carry different SMSC timestamps, "));
    inbox_message_free(&m);

    /* NumberUnicode 004D0059001100420041004E004B: the septet 0x11 is '_' */
    assert_int_equal(decode_fixture("detail", "MY_BANK", 0, 0, INBOX_EXT_TXT, &m), 0);
    assert_string_equal(m.number, "MY_BANK");
    assert_string_equal(m.text, "code 1234");
    assert_false(m.concat.present);
    inbox_message_free(&m);

    /* 8-bit data in two parts (.bin holding an SMS backup) */
    assert_int_equal(decode_fixture("detail", "+33677777777", 0, 0, INBOX_EXT_BIN, &m), 0);
    assert_int_equal(m.content, INBOX_CONTENT_BINARY);
    assert_int_equal(m.parts, 2);
    assert_int_equal(m.text_len, 2 * 151);
    assert_memory_equal(m.text, "00c0ffeec0ffee", 14);
    inbox_message_free(&m);
}

/* Every fixture decodes with its run's format and with AUTO, to the same text. */
static void test_fixture_all_auto(void **state)
{
    (void)state;
    unsigned files = 0;
    for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
        char dir[512];
        assert_true(snprintf(dir, sizeof(dir), "%s/inbox/%s", FIXTURES_DIR, runs[r]) < (int)sizeof(dir));
        DIR *d = opendir(dir);
        assert_non_null(d);
        struct dirent *de;
        while ((de = readdir(d))) {
            struct inbox_name n;
            if (inbox_name_parse(de->d_name, strlen(de->d_name), &n) != INBOX_NAME_OK)
                continue;
            char path[1024], *data;
            size_t len;
            assert_true(snprintf(path, sizeof(path), "%s/%s", dir, n.name) < (int)sizeof(path));
            assert_int_equal(fs_read_file(path, 1 << 20, &data, &len), 0);
            struct inbox_decode_opts fixed = {.format = run_format(runs[r]), .strict_utf8 = false};
            struct inbox_decode_opts any = {.format = INBOX_FORMAT_AUTO};
            struct inbox_message a, b;
            print_message("%s/%s\n", runs[r], n.name);
            assert_int_equal(inbox_decode(&fixed, n.ext, (unsigned char *)data, len, &a), 0);
            assert_int_equal(inbox_decode(&any, n.ext, (unsigned char *)data, len, &b), 0);
            assert_string_equal(a.text, b.text);
            if (n.ext == INBOX_EXT_TXT || a.format == INBOX_FORMAT_DETAIL)
                assert_int_equal(b.format, run_format(runs[r]));
            inbox_message_free(&a);
            inbox_message_free(&b);
            free(data);
            files++;
        }
        closedir(d);
    }
    assert_int_equal(files, 5 * 18 + 13);
}

/* ---- hand-made bytes --------------------------------------------------- */

struct byte_case {
    enum inbox_format format;
    bool strict;
    enum inbox_ext ext;
    const unsigned char *data;
    size_t len;
    enum inbox_decode_error err;
    const char *text;       /* on OK */
    size_t offset;          /* on error */
};

#define STD INBOX_FORMAT_STANDARD
#define UNI INBOX_FORMAT_UNICODE
#define AUTO INBOX_FORMAT_AUTO
#define TXT INBOX_EXT_TXT
#define BIN INBOX_EXT_BIN
#define OKC(f, st, e, d, t) {f, st, e, S(d), INBOX_DECODE_OK, t, 0}
#define ERR(f, st, e, d, err, off) {f, st, e, S(d), err, NULL, off}

static const struct byte_case bytes[] = {
    OKC(STD, false, TXT, "", ""),
    OKC(STD, false, TXT, "caf\xc3\xa9\r\n", "caf\xc3\xa9\r\n"),
    OKC(STD, false, TXT, "caf\xe9", "caf\xc3\xa9"),               /* Latin-1 fallback */
    OKC(STD, false, TXT, "\xff\x80", "\xc3\xbf\xc2\x80"),
    ERR(STD, true, TXT, "caf\xe9", INBOX_DECODE_BAD_UTF8, 3),
    ERR(STD, true, TXT, "ab\xed\xa0\x80", INBOX_DECODE_BAD_UTF8, 2), /* UTF-8 surrogate */
    ERR(STD, false, TXT, "a\0b", INBOX_DECODE_NUL_BYTE, 1),
    OKC(STD, false, BIN, "\x00\xff", "00ff"),
    OKC(UNI, false, BIN, "\xfe\xff", "feff"),
    OKC(UNI, false, TXT, "\xfe\xff", ""),
    OKC(UNI, false, TXT, "\xfe\xff\x00\x41\x00\xe9", "A\xc3\xa9"),       /* BE */
    OKC(UNI, false, TXT, "\xff\xfe\x41\x00\xe9\x00", "A\xc3\xa9"),       /* LE */
    OKC(UNI, false, TXT, "\xfe\xff\xd8\x3d\xde\x00", "\xf0\x9f\x98\x80"),
    OKC(UNI, false, TXT, "\xff\xfe\x3d\xd8\x00\xde", "\xf0\x9f\x98\x80"),
    OKC(UNI, false, TXT, "\xfe\xff\x00\x41\x00\x00\x12\x34\xd8\x00\x99", "A"), /* 1.42 tail */
    OKC(UNI, false, TXT, "\xfe\xff\x00\x00", ""),
    ERR(UNI, false, TXT, "\xfe\xff\x00\x41\x00", INBOX_DECODE_ODD_LENGTH, 4),
    OKC(UNI, false, TXT, "\xfe\xff\xd8\x3d", "\xef\xbf\xbd"),         /* cut by gammu */
    OKC(UNI, false, TXT, "\xfe\xff\x00\x41\xd8\x3d\x00\x00\xde", "A\xef\xbf\xbd"),
    ERR(UNI, false, TXT, "\xfe\xff\xd8\x3d\x00", INBOX_DECODE_BAD_SURROGATE, 2),
    ERR(UNI, false, TXT, "\xfe\xff\x00\x41\xd8\x3d\x00\x41", INBOX_DECODE_BAD_SURROGATE, 4),
    ERR(UNI, false, TXT, "\xfe\xff\xde\x00\x00\x41", INBOX_DECODE_BAD_SURROGATE, 2),
    ERR(UNI, false, TXT, "\xfe\xff\xd8\x3d\xd8\x3d", INBOX_DECODE_BAD_SURROGATE, 2),
    ERR(UNI, false, TXT, "\x00\x41", INBOX_DECODE_NO_BOM, 0),
    ERR(UNI, false, TXT, "", INBOX_DECODE_NO_BOM, 0),
    ERR(UNI, false, TXT, "\xef\xbb\xbf" "A", INBOX_DECODE_NO_BOM, 0),
    OKC(AUTO, false, TXT, "\xff\xfe\x41\x00", "A"),
    OKC(AUTO, false, TXT, "hello", "hello"),
    OKC(AUTO, false, BIN, "\xfe\xff", "feff"),
};

static void test_bytes(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bytes) / sizeof(bytes[0]); i++) {
        const struct byte_case *c = &bytes[i];
        struct inbox_decode_opts o = {.format = c->format, .strict_utf8 = c->strict};
        struct inbox_message m;
        print_message("case %zu\n", i);
        enum inbox_decode_error err = inbox_decode(&o, c->ext, c->data, c->len, &m);
        assert_string_equal(inbox_decode_error_str(err), inbox_decode_error_str(c->err));
        if (err == INBOX_DECODE_OK) {
            assert_string_equal(m.text, c->text);
            assert_int_equal(m.text_len, strlen(c->text));
            inbox_message_free(&m);
        } else {
            assert_null(m.text);
            assert_int_equal(m.error_offset, c->offset);
        }
    }
}

/* ---- detail by hand ---------------------------------------------------- */

#define SEC(n) "[SMSBackup" n "]\n"

struct detail_case {
    const char *src;
    enum inbox_decode_error err;
    const char *text;
    unsigned parts;
    const char *number;
};

static const struct detail_case details[] = {
    /* LF-only lines, lowercase keys, blanks around '=' */
    {SEC("000") "number = \"+331\"\ncoding=Default_No_Compression\ntext00=00410042\n",
     INBOX_DECODE_OK, "AB", 1, "+331"},
    /* NumberUnicode wins over Number; Text lines in any order, up to the first gap */
    {SEC("000") "Number = \"x\"\r\nNumberUnicode = 002B0031\r\nText01 = 0042\r\n"
     "Text00 = 0041\r\nText03 = 0043\r\nCoding = Unicode_No_Compression\r\n",
     INBOX_DECODE_OK, "AB", 1, "+1"},
    /* a surrogate pair split across two parts */
    {SEC("000") "Coding = Unicode_No_Compression\nUDH = 050003070201\nText00 = D83D\n"
     SEC("001") "Coding = Unicode_No_Compression\nUDH = 050003070202\nText00 = DE00\n",
     INBOX_DECODE_OK, "\xf0\x9f\x98\x80", 2, ""},
    /* no Coding: libgammu assumes 8bit */
    {SEC("000") "Text00 = 00FF\n", INBOX_DECODE_OK, "00ff", 1, ""},
    {SEC("000") "Coding = 8bit\n", INBOX_DECODE_OK, "", 1, ""},
    /* comments, other sections and junk lines are skipped */
    {"; [SMSBackup999]\n[Checksum]\nText00 = 0041\nnot a key\n" SEC("000")
     "; Text00 = 0042\nCoding = Default_No_Compression\nText00 = 0043\n[Other]\nText00 = 0044\n",
     INBOX_DECODE_OK, "C", 1, ""},
    /* comment lines hold the text in the locale: never parsed */
    {SEC("000") "; \xff\xfe[SMSBackup001]\nCoding = Default_No_Compression\nText00 = 0041\n",
     INBOX_DECODE_OK, "A", 1, ""},
    {"", INBOX_DECODE_NO_MESSAGE, NULL, 0, NULL},
    {"[Checksum]\nText00 = 0041\n", INBOX_DECODE_NO_MESSAGE, NULL, 0, NULL},
    {SEC("000") "Coding = Default_No_Compression\nText00 = 004\n", INBOX_DECODE_BAD_HEX, NULL, 0, NULL},
    {SEC("000") "Coding = Default_No_Compression\nText00 = 00G1\n", INBOX_DECODE_BAD_HEX, NULL, 0, NULL},
    {SEC("000") "Coding = Unicode_Compression\nText00 = 0041\n", INBOX_DECODE_BAD_CODING, NULL, 0, NULL},
    {SEC("000") "Coding = Default_No_Compression\nText00 = 0041\n" SEC("001")
     "Coding = 8bit\nText00 = 41\n", INBOX_DECODE_MIXED_CODING, NULL, 0, NULL},
    {SEC("000") "Coding = Default_No_Compression\nText00 = DC00\n", INBOX_DECODE_BAD_SURROGATE, NULL, 0, NULL},
};

static void test_detail_by_hand(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(details) / sizeof(details[0]); i++) {
        const struct detail_case *c = &details[i];
        struct inbox_decode_opts o = {.format = INBOX_FORMAT_DETAIL};
        struct inbox_message m;
        print_message("case %zu\n", i);
        enum inbox_decode_error err =
            inbox_decode(&o, INBOX_EXT_TXT, (const unsigned char *)c->src, strlen(c->src), &m);
        assert_string_equal(inbox_decode_error_str(err), inbox_decode_error_str(c->err));
        if (err != INBOX_DECODE_OK)
            continue;
        assert_string_equal(m.text, c->text);
        assert_int_equal(m.parts, c->parts);
        assert_string_equal(m.number, c->number);
        inbox_message_free(&m);
    }
}

static void test_detail_udh(void **state)
{
    (void)state;
    static const char src[] = SEC("000") "UDH = 06080412340301\nCoding = 8bit\n"
                              SEC("001") "UDH = 06080412340302\nCoding = 8bit\n";
    struct inbox_decode_opts o = {.format = INBOX_FORMAT_AUTO};
    struct inbox_message m;
    assert_int_equal(inbox_decode(&o, INBOX_EXT_BIN, S(src), &m), INBOX_DECODE_OK);
    assert_int_equal(m.format, INBOX_FORMAT_DETAIL);
    assert_true(m.concat.present);
    assert_int_equal(m.concat.ref, 0x1234);
    assert_int_equal(m.concat.total, 3);
    assert_int_equal(m.concat.seq, 1);
    inbox_message_free(&m);

    /* a UDH that lies about its lengths is ignored, not read past */
    static const char bad[] = SEC("000") "UDH = 0F0003\nCoding = 8bit\n";
    assert_int_equal(inbox_decode(&o, INBOX_EXT_TXT, S(bad), &m), INBOX_DECODE_OK);
    assert_false(m.concat.present);
    inbox_message_free(&m);
}

static void test_limits_and_names(void **state)
{
    (void)state;
    size_t big = INBOX_DECODE_MAX_INPUT + 1;
    unsigned char *data = calloc(1, big);
    assert_non_null(data);
    struct inbox_decode_opts o = {.format = INBOX_FORMAT_STANDARD};
    struct inbox_message m;
    assert_int_equal(inbox_decode(&o, INBOX_EXT_TXT, data, big, &m), INBOX_DECODE_TOO_LARGE);
    memset(data, 'a', big);
    assert_int_equal(inbox_decode(&o, INBOX_EXT_TXT, data, big - 1, &m), INBOX_DECODE_OK);
    assert_int_equal(m.text_len, big - 1);
    inbox_message_free(&m);
    free(data);

    enum inbox_format f;
    assert_int_equal(inbox_format_from_string("Unicode", &f), 0);
    assert_int_equal(f, INBOX_FORMAT_UNICODE);
    assert_int_equal(inbox_format_from_string("detail", &f), 0);
    assert_int_equal(f, INBOX_FORMAT_DETAIL);
    assert_int_equal(inbox_format_from_string("smsbackup", &f), -1);
    assert_string_equal(inbox_decode_error_str(INBOX_DECODE_BAD_SURROGATE),
                        "UTF-16 text with an unpaired surrogate");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture_texts),  cmocka_unit_test(test_fixture_cut),
        cmocka_unit_test(test_fixture_binary),
        cmocka_unit_test(test_fixture_detail), cmocka_unit_test(test_fixture_all_auto),
        cmocka_unit_test(test_bytes),          cmocka_unit_test(test_detail_by_hand),
        cmocka_unit_test(test_detail_udh),     cmocka_unit_test(test_limits_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
