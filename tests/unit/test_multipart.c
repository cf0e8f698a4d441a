/* multipart: ordering, out-of-order and duplicate parts, timers, bounds, and
 * the real gammu-smsd 1.42 inbox of tests/fixtures/inbox/. */
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
#include "sms-sentinel/multipart.h"

static struct inbox_name name_of(const char *s)
{
    struct inbox_name n;
    assert_int_equal(inbox_name_parse(s, strlen(s), &n), INBOX_NAME_OK);
    return n;
}

static enum multipart_add_result add(struct multipart *mp, const char *name, const char *text,
                                     unsigned total, int64_t now)
{
    struct inbox_name n = name_of(name);
    return multipart_add(mp, &n, text, strlen(text), total, now);
}

static struct multipart *table(void)
{
    struct multipart_config cfg;
    multipart_config_default(&cfg);
    struct multipart *mp = multipart_new(&cfg);
    assert_non_null(mp);
    return mp;
}

/* Polls exactly one message at now, checks its text and end. */
static void expect(struct multipart *mp, int64_t now, const char *text, unsigned parts,
                   enum multipart_end end, const char *first)
{
    struct multipart_message m;
    assert_int_equal(multipart_poll(mp, now, &m), 1);
    assert_string_equal(m.text, text);
    assert_int_equal(m.parts, parts);
    assert_string_equal(multipart_end_str(m.end), multipart_end_str(end));
    assert_string_equal(m.files[0], first);
    assert_string_equal(m.first.name, first);
    multipart_message_free(&m);
}

#define A0 "IN20261206_200852_02_+33612345678_00.txt"
#define A1 "IN20261206_200852_02_+33612345678_01.txt"
#define A2 "IN20261206_200852_02_+33612345678_02.txt"

static void test_single(void **state)
{
    (void)state;
    struct multipart *mp = table();
    assert_int_equal(multipart_next_deadline(mp), -1);
    assert_int_equal(add(mp, "IN20261206_200852_00_Vodafone_00.txt", "hi", 0, 1000), MULTIPART_ADDED);
    assert_int_equal(multipart_pending(mp), 1);
    assert_int_equal(multipart_next_deadline(mp), 3000);
    struct multipart_message m;
    assert_int_equal(multipart_poll(mp, 2999, &m), 0);
    assert_int_equal(multipart_poll(mp, 3000, &m), 1);
    assert_string_equal(m.text, "hi");
    assert_int_equal(m.parts, 1);
    assert_int_equal(m.end, MULTIPART_SETTLED);
    assert_string_equal(m.first.id, "IN20261206_200852_00_Vodafone_00.txt");
    assert_string_equal(m.first.sender, "Vodafone");
    multipart_message_free(&m);
    assert_int_equal(multipart_poll(mp, 9999, &m), 0);
    assert_int_equal(multipart_pending(mp), 0);
    assert_int_equal(multipart_next_deadline(mp), -1);
    multipart_free(mp);
}

static void test_orders(void **state)
{
    (void)state;
    static const char *const orders[][3] = {
        {A0, A1, A2}, {A2, A0, A1}, {A1, A2, A0}, {A2, A1, A0},
    };
    for (size_t i = 0; i < 4; i++) {
        struct multipart *mp = table();
        for (size_t k = 0; k < 3; k++) {
            const char *n = orders[i][k];
            const char *text = strcmp(n, A0) == 0 ? "one " : strcmp(n, A1) == 0 ? "two " : "three";
            assert_int_equal(add(mp, n, text, 0, (int64_t)k * 10), MULTIPART_ADDED);
        }
        assert_int_equal(multipart_pending(mp), 1);
        struct multipart_message m;
        assert_int_equal(multipart_poll(mp, 2019, &m), 0);
        assert_int_equal(multipart_poll(mp, 2020, &m), 1);
        assert_string_equal(m.text, "one two three");
        assert_int_equal(m.parts, 3);
        assert_string_equal(m.files[0], A0);
        assert_string_equal(m.files[1], A1);
        assert_string_equal(m.files[2], A2);
        assert_string_equal(m.first.id, A0);
        multipart_message_free(&m);
        multipart_free(mp);
    }
}

static void test_duplicates(void **state)
{
    (void)state;
    struct multipart *mp = table();
    assert_int_equal(add(mp, A0, "one ", 0, 0), MULTIPART_ADDED);
    assert_int_equal(add(mp, A0, "one ", 0, 100), MULTIPART_DUPLICATE);
    assert_int_equal(add(mp, A1, "two", 0, 200), MULTIPART_ADDED);
    assert_int_equal(add(mp, A1, "two", 0, 300), MULTIPART_DUPLICATE);
    /* a duplicate does not push the settle timer */
    expect(mp, 2200, "one two", 2, MULTIPART_SETTLED, A0);
    multipart_free(mp);
}

/* The real names of a 2-part message whose parts have SMSC times 3 s apart. */
static void test_split_times(void **state)
{
    (void)state;
    struct multipart *mp = table();
    assert_int_equal(add(mp, "IN20261206_200855_00_+33699999999_01.txt", "B", 0, 0), MULTIPART_ADDED);
    assert_int_equal(add(mp, "IN20261206_200852_00_+33699999999_00.txt", "A", 0, 5), MULTIPART_ADDED);
    expect(mp, 2005, "AB", 2, MULTIPART_SETTLED, "IN20261206_200852_00_+33699999999_00.txt");
    /* beyond window_s (600 s) the parts are two messages */
    assert_int_equal(add(mp, "IN20261206_200000_00_+33699999999_00.txt", "A", 0, 0), MULTIPART_ADDED);
    assert_int_equal(add(mp, "IN20261206_201001_00_+33699999999_01.txt", "B", 0, 0), MULTIPART_ADDED);
    assert_int_equal(multipart_pending(mp), 2);
    expect(mp, 2000, "A", 1, MULTIPART_SETTLED, "IN20261206_200000_00_+33699999999_00.txt");
    struct multipart_message m;
    assert_int_equal(multipart_poll(mp, 29999, &m), 0);
    expect(mp, 30000, "B", 1, MULTIPART_INCOMPLETE, "IN20261206_201001_00_+33699999999_01.txt");
    /* a part may not be older than part 0 */
    assert_int_equal(add(mp, "IN20261206_200852_00_+33699999999_00.txt", "A", 0, 0), MULTIPART_ADDED);
    assert_int_equal(add(mp, "IN20261206_200851_00_+33699999999_01.txt", "B", 0, 0), MULTIPART_ADDED);
    assert_int_equal(multipart_pending(mp), 2);
    multipart_free(mp);
}

/* Two long messages from one sender, in consecutive seconds, both serial 00. */
static void test_overlapping_messages(void **state)
{
    (void)state;
    static const char *const inotify[] = {
        "IN20261206_120000_00_+331_00.txt", "IN20261206_120001_00_+331_01.txt",
        "IN20261206_120001_00_+331_00.txt", "IN20261206_120002_00_+331_01.txt",
    };
    static const char *const texts[] = {"a0", "a1", "b0", "b1"};
    static const int sorted[] = {0, 2, 1, 3}; /* a directory scan sorts by name */
    for (int pass = 0; pass < 2; pass++) {
        struct multipart *mp = table();
        for (int k = 0; k < 4; k++) {
            int i = pass ? sorted[k] : k;
            assert_int_equal(add(mp, inotify[i], texts[i], 0, 0), MULTIPART_ADDED);
        }
        assert_int_equal(multipart_pending(mp), 2);
        expect(mp, 2000, "a0a1", 2, MULTIPART_SETTLED, inotify[0]);
        expect(mp, 2000, "b0b1", 2, MULTIPART_SETTLED, inotify[2]);
        multipart_free(mp);
    }
}

static void test_gap_and_total(void **state)
{
    (void)state;
    struct multipart *mp = table();
    /* a gap waits incomplete_ms, and a late part still closes it */
    assert_int_equal(add(mp, A0, "one ", 0, 0), MULTIPART_ADDED);
    assert_int_equal(add(mp, A2, "three", 0, 0), MULTIPART_ADDED);
    assert_int_equal(multipart_next_deadline(mp), 30000);
    struct multipart_message m;
    assert_int_equal(multipart_poll(mp, 10000, &m), 0);
    assert_int_equal(add(mp, A1, "two ", 0, 10000), MULTIPART_ADDED);
    assert_int_equal(multipart_next_deadline(mp), 12000);
    expect(mp, 12000, "one two three", 3, MULTIPART_SETTLED, A0);
    /* a gap that never fills comes out as it is */
    assert_int_equal(add(mp, A0, "one ", 0, 0), MULTIPART_ADDED);
    assert_int_equal(add(mp, A2, "three", 0, 0), MULTIPART_ADDED);
    expect(mp, 30000, "one three", 2, MULTIPART_INCOMPLETE, A0);
    /* with a known total the message is done when the last part arrives */
    assert_int_equal(add(mp, A1, "two ", 3, 50), MULTIPART_ADDED);
    assert_int_equal(add(mp, A0, "one ", 3, 60), MULTIPART_ADDED);
    assert_int_equal(multipart_poll(mp, 60, &m), 0);
    assert_int_equal(add(mp, A2, "three", 3, 70), MULTIPART_ADDED);
    expect(mp, 70, "one two three", 3, MULTIPART_COMPLETE, A0);
    /* a detail file is a whole message: total 1 */
    assert_int_equal(add(mp, A0, "all", 1, 80), MULTIPART_ADDED);
    assert_int_equal(multipart_next_deadline(mp), 80);
    expect(mp, 80, "all", 1, MULTIPART_COMPLETE, A0);
    /* a part beyond the total starts a group of its own */
    assert_int_equal(add(mp, A0, "x", 1, 0), MULTIPART_ADDED);
    assert_int_equal(add(mp, A1, "y", 0, 0), MULTIPART_ADDED);
    assert_int_equal(multipart_pending(mp), 2);
    multipart_free(mp);
}

static void test_settle_restarts(void **state)
{
    (void)state;
    struct multipart *mp = table();
    struct multipart_message m;
    assert_int_equal(add(mp, A0, "one ", 0, 0), MULTIPART_ADDED);
    assert_int_equal(add(mp, A1, "two", 0, 1500), MULTIPART_ADDED);
    assert_int_equal(multipart_poll(mp, 2000, &m), 0);
    assert_int_equal(multipart_next_deadline(mp), 3500);
    expect(mp, 3500, "one two", 2, MULTIPART_SETTLED, A0);
    multipart_free(mp);
}

static void test_txt_and_bin_apart(void **state)
{
    (void)state;
    struct multipart *mp = table();
    assert_int_equal(add(mp, "IN20261206_200852_00_+33612345678_00.txt", "text", 0, 0), MULTIPART_ADDED);
    assert_int_equal(add(mp, "IN20261206_200852_00_+33612345678_00.bin", "00ff", 0, 0), MULTIPART_ADDED);
    assert_int_equal(add(mp, "IN20261206_200852_00_+33612345678_01.bin", "ee", 0, 0), MULTIPART_ADDED);
    assert_int_equal(multipart_pending(mp), 2);
    expect(mp, 2000, "text", 1, MULTIPART_SETTLED, "IN20261206_200852_00_+33612345678_00.txt");
    expect(mp, 2000, "00ffee", 2, MULTIPART_SETTLED, "IN20261206_200852_00_+33612345678_00.bin");
    multipart_free(mp);
}

static void test_bounds(void **state)
{
    (void)state;
    struct multipart_config cfg;
    multipart_config_default(&cfg);
    cfg.max_groups = 2;
    cfg.max_parts = 3;
    cfg.max_text = 8;
    struct multipart *mp = multipart_new(&cfg);
    assert_non_null(mp);
    struct multipart_message m;
    assert_int_equal(add(mp, "IN20261206_200852_00_+331_00.txt", "a", 0, 10), MULTIPART_ADDED);
    assert_int_equal(add(mp, "IN20261206_200852_00_+332_00.txt", "b", 0, 20), MULTIPART_ADDED);
    assert_int_equal(add(mp, "IN20261206_200852_00_+333_00.txt", "c", 0, 30), MULTIPART_FULL);
    assert_int_equal(multipart_next_deadline(mp), 0);
    expect(mp, 30, "a", 1, MULTIPART_EVICTED, "IN20261206_200852_00_+331_00.txt");
    assert_int_equal(multipart_poll(mp, 30, &m), 0);
    assert_int_equal(add(mp, "IN20261206_200852_00_+333_00.txt", "c", 0, 30), MULTIPART_ADDED);
    /* parts joining a held group still fit when the table is full */
    assert_int_equal(add(mp, "IN20261206_200852_00_+333_01.txt", "d", 0, 30), MULTIPART_ADDED);
    assert_int_equal(add(mp, "IN20261206_200852_00_+333_03.txt", "e", 0, 30), MULTIPART_REJECTED);
    assert_int_equal(add(mp, "IN20261206_200852_00_+333_02.txt", "123456789", 0, 30), MULTIPART_REJECTED);
    assert_int_equal(add(mp, "IN20261206_200852_00_+333_02.txt", "1234567", 0, 30), MULTIPART_REJECTED);
    assert_int_equal(add(mp, "IN20261206_200852_00_+333_02.txt", "123456", 0, 30), MULTIPART_ADDED);
    expect(mp, 2020, "b", 1, MULTIPART_SETTLED, "IN20261206_200852_00_+332_00.txt");
    expect(mp, 2030, "cd123456", 3, MULTIPART_SETTLED, "IN20261206_200852_00_+333_00.txt");
    multipart_free(mp);

    cfg.max_groups = 0;
    assert_null(multipart_new(&cfg));
    multipart_free(NULL);
}

/* A full table with a finished message in it: that one makes room; the long
 * message still waiting for a part is not evicted (a backlog of short SMS,
 * e.g. after a restart, must not split a long one). */
static void test_full_takes_finished_first(void **state)
{
    (void)state;
    struct multipart_config cfg;
    multipart_config_default(&cfg);
    cfg.max_groups = 2;
    struct multipart *mp = multipart_new(&cfg);
    assert_non_null(mp);
    struct multipart_message m;
    assert_int_equal(add(mp, "IN20261206_200852_00_+331_00.txt", "long ", 2, 10), MULTIPART_ADDED);
    assert_int_equal(add(mp, "IN20261206_200852_00_+332_00.txt", "short", 1, 20), MULTIPART_ADDED);
    assert_int_equal(add(mp, "IN20261206_200852_00_+333_00.txt", "next", 1, 30), MULTIPART_FULL);
    expect(mp, 30, "short", 1, MULTIPART_COMPLETE, "IN20261206_200852_00_+332_00.txt");
    assert_int_equal(multipart_poll(mp, 30, &m), 0);
    assert_int_equal(add(mp, "IN20261206_200852_00_+333_00.txt", "next", 1, 30), MULTIPART_ADDED);
    assert_int_equal(add(mp, "IN20261206_200852_00_+331_01.txt", "text", 2, 40), MULTIPART_ADDED);
    expect(mp, 40, "next", 1, MULTIPART_COMPLETE, "IN20261206_200852_00_+333_00.txt");
    expect(mp, 40, "long text", 2, MULTIPART_COMPLETE, "IN20261206_200852_00_+331_00.txt");
    multipart_free(mp);
}

/* ---- the real inbox ---------------------------------------------------- */

static unsigned feed_dir(struct multipart *mp, const char *run, enum inbox_format fmt)
{
    char dir[512];
    assert_true(snprintf(dir, sizeof(dir), "%s/inbox/%s", FIXTURES_DIR, run) < (int)sizeof(dir));
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    unsigned files = 0;
    while ((de = readdir(d))) {
        struct inbox_name n;
        if (inbox_name_parse(de->d_name, strlen(de->d_name), &n) != INBOX_NAME_OK)
            continue;
        char path[1024], *data;
        size_t len;
        assert_true(snprintf(path, sizeof(path), "%s/%s", dir, n.name) < (int)sizeof(path));
        assert_int_equal(fs_read_file(path, 1 << 20, &data, &len), 0);
        struct inbox_decode_opts o = {.format = fmt};
        struct inbox_message msg;
        assert_int_equal(inbox_decode(&o, n.ext, (unsigned char *)data, len, &msg), 0);
        unsigned total = fmt == INBOX_FORMAT_DETAIL ? 1 : 0;
        assert_int_equal(multipart_add(mp, &n, msg.text, msg.text_len, total, files), MULTIPART_ADDED);
        inbox_message_free(&msg);
        free(data);
        files++;
    }
    closedir(d);
    return files;
}

static void repeat(char *buf, size_t size, const char *s, int times)
{
    buf[0] = '\0';
    for (int i = 0; i < times; i++)
        strncat(buf, s, size - strlen(buf) - 1);
}

static void check_run(const char *run, enum inbox_format fmt, unsigned files)
{
    struct multipart *mp = table();
    assert_int_equal(feed_dir(mp, run, fmt), files);
    assert_int_equal(multipart_pending(mp), 13);
    char gsm[512], ucs2[512], split[512], bin[512];
    repeat(gsm, sizeof(gsm), "This is a long message that gammu-smsd receives in three parts. ", 6);
    gsm[strlen(gsm) - 1] = '\0';
    repeat(ucs2, sizeof(ucs2), "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe3\x83\x86"
                               "\xe3\x82\xad\xe3\x82\xb9\xe3\x83\x88\xe3\x80\x81", 10);
    strncat(ucs2, "\xe7\xb5\x82\xe3\x82\x8f\xe3\x82\x8a \xf0\x9f\x98\x80", sizeof(ucs2) - strlen(ucs2) - 1);
    repeat(split, sizeof(split), "Parts of this message carry different SMSC timestamps, ", 4);
    repeat(bin, sizeof(bin), "c0ffee", 50);
    memmove(bin + 2, bin, strlen(bin) + 1);
    memcpy(bin, "00", 2);
    unsigned seen = 0, found = 0;
    struct multipart_message m;
    while (multipart_poll(mp, 100000, &m) == 1) {
        seen++;
        found += strcmp(m.text, gsm) == 0 && m.parts == (fmt == INBOX_FORMAT_DETAIL ? 1u : 3u);
        found += strcmp(m.text, ucs2) == 0;
        found += strcmp(m.text, split) == 0 && strstr(m.first.name, "_200852_00_+33699999999_00.txt");
        found += strcmp(m.text, bin) == 0;
        assert_string_equal(multipart_end_str(m.end),
                            multipart_end_str(fmt == INBOX_FORMAT_DETAIL ? MULTIPART_COMPLETE
                                                                         : MULTIPART_SETTLED));
        multipart_message_free(&m);
    }
    assert_int_equal(seen, 13);
    assert_int_equal(found, 4);
    multipart_free(mp);
}

static void test_real_inbox(void **state)
{
    (void)state;
    check_run("standard", INBOX_FORMAT_STANDARD, 18);
    check_run("unicode", INBOX_FORMAT_UNICODE, 18);
    check_run("detail", INBOX_FORMAT_DETAIL, 13);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single),          cmocka_unit_test(test_orders),
        cmocka_unit_test(test_duplicates),      cmocka_unit_test(test_split_times),
        cmocka_unit_test(test_overlapping_messages), cmocka_unit_test(test_gap_and_total),
        cmocka_unit_test(test_settle_restarts), cmocka_unit_test(test_txt_and_bin_apart),
        cmocka_unit_test(test_bounds),          cmocka_unit_test(test_full_takes_finished_first),
        cmocka_unit_test(test_real_inbox),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
