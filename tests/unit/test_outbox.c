/* Tests for the gammu-smsd outbox writer: names and flags, ids, UTF-16LE
 * encoding, atomic writes in a temp folder, serials, and failures that must
 * leave nothing behind.
 *
 * Also a driver for tests/integration/test_outbox_gammu.py:
 *   test_outbox --queue OUTBOX_DIR JSON   validates JSON as a send_sms request
 *   (max_parts 32), queues it, prints "ID NAME PARTS ENCODING" per file
 *   (PARTS and ENCODING as sms_length predicts them); exit 1 on error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sms-sentinel/outbox.h"
#include "sms-sentinel/strbuf.h"

#define STAMP 1709618828 /* 2024-03-05 06:07:08 UTC */
#define ID "abc123xyz789"

struct name_row {
    int serial;
    const char *number, *id;
    bool flash, dr;
    const char *expect; /* NULL: rejected */
};

static const struct name_row name_rows[] = {
    {0, "+33612345678", ID, false, false, "OUTC20240305_060708_00_+33612345678_abc123xyz789.txt"},
    {7, "0612345678", ID, false, true, "OUTC20240305_060708_07_0612345678_abc123xyz789.txtd"},
    {99, "0612345678", ID, true, false, "OUTC20240305_060708_99_0612345678_abc123xyz789.txtf"},
    {1, "0612345678", ID, true, true, "OUTC20240305_060708_01_0612345678_abc123xyz789.txtdf"},
    {100, "0612345678", ID, false, false, NULL},
    {-1, "0612345678", ID, false, false, NULL},
    {0, "../../etc", ID, false, false, NULL},
    {0, "+33 6", ID, false, false, NULL},
    {0, "06_12", ID, false, false, NULL},
    {0, "0612345678", "abc123xyz78", false, false, NULL},    /* short */
    {0, "0612345678", "abc123xyz7890", false, false, NULL},  /* long */
    {0, "0612345678", "abc123xyz.89", false, false, NULL},
    {0, "0612345678", "ABC123XYZ789", false, false, NULL},
    {0, "0612345678", "abc123/yz789", false, false, NULL},
};

static void test_names(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(name_rows) / sizeof(name_rows[0]); i++) {
        const struct name_row *r = &name_rows[i];
        char buf[OUTBOX_NAME_SIZE] = "";
        print_message("name row %zu\n", i);
        int rc = outbox_name(buf, sizeof(buf), STAMP, r->serial, r->number, r->id, r->flash, r->dr);
        if (r->expect) {
            assert_int_equal(rc, 0);
            assert_string_equal(buf, r->expect);
            char id[OUTBOX_ID_SIZE];
            assert_int_equal(outbox_name_id(buf, id), 0);
            assert_string_equal(id, r->id);
        } else {
            assert_int_equal(rc, -1);
        }
    }
    char small[40];
    assert_int_equal(outbox_name(small, sizeof(small), STAMP, 0, "0612345678", ID, false, false), -1);
    /* the longest name fits gammu's char[100] with room */
    char big[OUTBOX_NAME_SIZE];
    assert_int_equal(outbox_name(big, sizeof(big), STAMP, 0, "+12345678901234567890", ID, true, true), 0);
    assert_true(strlen(big) < 100);
}

static void test_name_id(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "OUTC20240305_060708_00_0612345678_abc123xyz789.txtx",
        "OUTC20240305_060708_00_0612345678_abc123xyz78.txt",
        "OUTC20240305_060708_00_0612345678_sms0.txt",
        "INC20240305_060708_00_0612345678_abc123xyz789.txt",
        "OUTC20240305_060708_00_0612345678_abc123xyz789.smsbackup",
        "OUTC",
        "",
    };
    char id[OUTBOX_ID_SIZE];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(outbox_name_id(bad[i], id), -1);
}

static void test_encode(void **state)
{
    (void)state;
    static const unsigned char want[] = {0xff, 0xfe, 0x47, 0x00, 0x72, 0x00, 0xfc, 0x00, 0xdf, 0x00, 0x65, 0x00, 0x20,
                                         0x00, 0x3d, 0xd8, 0x00, 0xde, 0x20, 0x00, 0xe5, 0x65, 0x2c, 0x67};
    const char *text = "Grüße 😀 日本";
    unsigned char *out;
    size_t len;
    assert_int_equal(outbox_encode(text, strlen(text), &out, &len), 0);
    assert_int_equal(len, sizeof(want));
    assert_memory_equal(out, want, sizeof(want));
    free(out);
    assert_int_equal(outbox_encode("", 0, &out, &len), 0);
    assert_int_equal(len, 2);
    free(out);
    assert_int_equal(outbox_encode("a\0b", 3, &out, &len), -EINVAL);
    assert_int_equal(outbox_encode("a\xff", 2, &out, &len), -EINVAL);
    assert_int_equal(outbox_encode("\xed\xa0\x80", 3, &out, &len), -EINVAL);
}

static void test_ids(void **state)
{
    (void)state;
    enum { N = 300 };
    char (*ids)[OUTBOX_ID_SIZE] = calloc(N, OUTBOX_ID_SIZE);
    assert_non_null(ids);
    for (int i = 0; i < N; i++) {
        outbox_make_id(ids[i]);
        assert_int_equal(strlen(ids[i]), OUTBOX_ID_LEN);
        assert_int_equal(strspn(ids[i], "abcdefghijklmnopqrstuvwxyz0123456789"), OUTBOX_ID_LEN);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(ids[i], ids[j]);
    }
    free(ids);
}

/* --- the folder --- */

struct folder {
    char path[64];
    struct outbox ob;
};

static int folder_setup(void **state)
{
    struct folder *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    strcpy(f->path, "/tmp/test-outbox-XXXXXX");
    if (!mkdtemp(f->path) || outbox_open(&f->ob, f->path) < 0)
        return -1;
    *state = f;
    return 0;
}

static int folder_teardown(void **state)
{
    struct folder *f = *state;
    outbox_close(&f->ob);
    DIR *d = opendir(f->path);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            unlinkat(dirfd(d), e->d_name, 0);
    if (d)
        closedir(d);
    rmdir(f->path);
    free(f);
    return 0;
}

/* Number of entries (hidden ones too) in the folder. */
static int entries(const struct folder *f)
{
    DIR *d = opendir(f->path);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static void read_back(const struct folder *f, const char *name, unsigned char *buf, size_t size, size_t *len,
                      mode_t *mode)
{
    int fd = openat(f->ob.dirfd, name, O_RDONLY);
    assert_true(fd >= 0);
    ssize_t n = read(fd, buf, size);
    assert_true(n >= 0);
    *len = (size_t)n;
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    *mode = st.st_mode & 0777;
    close(fd);
}

static void test_queue_one(void **state)
{
    struct folder *f = *state;
    struct outbox_sms m = {.number = "+33612345678", .text = "hi €", .text_len = strlen("hi €"),
                           .delivery_report = true};
    struct outbox_entry e;
    char err[200] = "";
    assert_int_equal(outbox_queue(&f->ob, &m, 1, STAMP, &e, err, sizeof(err)), 0);
    assert_int_equal(entries(f), 1);
    char want[OUTBOX_NAME_SIZE];
    assert_int_equal(outbox_name(want, sizeof(want), STAMP, 0, m.number, e.id, false, true), 0);
    assert_string_equal(e.name, want);
    unsigned char buf[64];
    size_t len;
    mode_t mode;
    read_back(f, e.name, buf, sizeof(buf), &len, &mode);
    static const unsigned char body[] = {0xff, 0xfe, 'h', 0, 'i', 0, ' ', 0, 0xac, 0x20};
    assert_int_equal(len, sizeof(body));
    assert_memory_equal(buf, body, sizeof(body));
    mode_t mask = umask(0);
    umask(mask);
    assert_int_equal(mode, 0644 & ~mask);
}

static void test_queue_request(void **state)
{
    struct folder *f = *state;
    struct config cfg = {.max_parts = 6};
    json_object *req = json_tokener_parse("{\"number\":[\"0611111111\",\"0622222222\",\"0633333333\"],"
                                          "\"text\":\"Grüße 😀 日本\",\"flash\":true}");
    struct sms_send s;
    char err[200] = "";
    assert_int_equal(sms_send_parse(req, &cfg, &s, err, sizeof(err)), 0);
    json_object_put(req);
    struct outbox_entry e[SMS_SEND_MAX_RECIPIENTS];
    assert_int_equal(outbox_queue_send(&f->ob, &s, STAMP, e, err, sizeof(err)), 0);
    assert_int_equal(entries(f), 3);
    for (int i = 0; i < 3; i++) {
        char want[OUTBOX_NAME_SIZE];
        outbox_name(want, sizeof(want), STAMP, i, s.numbers[i], e[i].id, true, false);
        assert_string_equal(e[i].name, want);
        unsigned char buf[64];
        size_t len;
        mode_t mode;
        read_back(f, e[i].name, buf, sizeof(buf), &len, &mode);
        assert_int_equal(len, 24);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(e[i].id, e[j].id);
    }
    /* the same second continues the serials, a new second starts again */
    assert_int_equal(outbox_queue_send(&f->ob, &s, STAMP, e, err, sizeof(err)), 0);
    assert_non_null(strstr(e[0].name, "_060708_03_0611111111_"));
    assert_int_equal(outbox_queue_send(&f->ob, &s, STAMP + 1, e, err, sizeof(err)), 0);
    assert_non_null(strstr(e[2].name, "_060709_02_0633333333_"));
    assert_int_equal(entries(f), 9);
    sms_send_clear(&s);
}

/* 100 serials per second; then the next second, so names keep queue order. */
static void test_serial_overflow(void **state)
{
    struct folder *f = *state;
    struct outbox_sms m = {.number = "0612345678", .text = "x", .text_len = 1};
    struct outbox_entry e;
    char err[200];
    for (int i = 0; i < 100; i++)
        assert_int_equal(outbox_queue(&f->ob, &m, 1, STAMP, &e, err, sizeof(err)), 0);
    assert_non_null(strstr(e.name, "_060708_99_"));
    assert_int_equal(outbox_queue(&f->ob, &m, 1, STAMP, &e, err, sizeof(err)), 0);
    assert_non_null(strstr(e.name, "_060709_00_"));
    assert_int_equal(outbox_queue(&f->ob, &m, 1, STAMP + 1, &e, err, sizeof(err)), 0);
    assert_non_null(strstr(e.name, "_060709_01_"));
    assert_int_equal(entries(f), 102);
}

/* A write that fails (here EFBIG from RLIMIT_FSIZE, like ENOSPC) leaves no
 * file at all, hidden or not, for any recipient. */
static void test_write_failure(void **state)
{
    struct folder *f = *state;
    struct outbox_sms m[2] = {
        {.number = "0611111111", .text = "a longer text than ten bytes", .text_len = 28},
        {.number = "0622222222", .text = "a longer text than ten bytes", .text_len = 28},
    };
    struct outbox_entry e[2];
    char err[200] = "";
    struct rlimit old, tiny;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    tiny = old;
    tiny.rlim_cur = 10;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &tiny), 0);
    int rc = outbox_queue(&f->ob, m, 2, STAMP, e, err, sizeof(err));
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, prev);
    assert_int_equal(rc, -EFBIG);
    assert_non_null(strstr(err, "outbox: cannot write OUTC20240305_060708_00_0611111111_"));
    assert_non_null(strstr(err, "File too large"));
    assert_int_equal(entries(f), 0);
}

/* The outbox removed and made again: the held folder fd is stale; ensure
 * opens the new folder, and the next file lands where gammu-smsd looks. */
static void test_ensure_recreated(void **state)
{
    struct folder *f = *state;
    int before = f->ob.dirfd;
    assert_int_equal(outbox_ensure(&f->ob, f->path), 0);
    assert_int_equal(f->ob.dirfd, before); /* unchanged folder: same fd */
    assert_int_equal(rmdir(f->path), 0);
    assert_int_equal(outbox_ensure(&f->ob, f->path), -ENOENT);
    assert_int_equal(f->ob.dirfd, before); /* kept until a folder is there */
    assert_int_equal(mkdir(f->path, 0755), 0);
    assert_int_equal(outbox_ensure(&f->ob, f->path), 0);
    struct outbox_sms m = {.number = "0612345678", .text = "x", .text_len = 1};
    struct outbox_entry e;
    char err[200];
    assert_int_equal(outbox_queue(&f->ob, &m, 1, STAMP, &e, err, sizeof(err)), 0);
    assert_int_equal(entries(f), 1);
    char path[256];
    assert_int_equal(format_checked(path, sizeof(path), "%s/%s", f->path, e.name), 0);
    assert_int_equal(access(path, F_OK), 0);
}

static void test_bad_input(void **state)
{
    struct folder *f = *state;
    struct outbox_entry e[SMS_SEND_MAX_RECIPIENTS + 1];
    char err[200] = "";
    struct outbox_sms m[2] = {
        {.number = "0611111111", .text = "ok", .text_len = 2},
        {.number = "../../etc/x", .text = "ok", .text_len = 2},
    };
    assert_int_equal(outbox_queue(&f->ob, m, 2, STAMP, e, err, sizeof(err)), -EINVAL);
    assert_non_null(strstr(err, "invalid number or text"));
    assert_int_equal(entries(f), 0);
    m[1] = (struct outbox_sms){.number = "0622222222", .text = "\xff", .text_len = 1};
    assert_int_equal(outbox_queue(&f->ob, m, 2, STAMP, e, err, sizeof(err)), -EINVAL);
    assert_int_equal(entries(f), 0);
    assert_int_equal(outbox_queue(&f->ob, m, 0, STAMP, e, err, sizeof(err)), -EINVAL);
    struct outbox_sms many[SMS_SEND_MAX_RECIPIENTS + 1];
    for (int i = 0; i <= SMS_SEND_MAX_RECIPIENTS; i++)
        many[i] = m[0];
    assert_int_equal(outbox_queue(&f->ob, many, SMS_SEND_MAX_RECIPIENTS + 1, STAMP, e, err, sizeof(err)), -EINVAL);
    assert_int_equal(entries(f), 0);

    struct outbox closed;
    assert_int_equal(outbox_open(&closed, "/nonexistent/outbox"), -ENOENT);
    assert_int_equal(closed.dirfd, -1);
    assert_int_equal(outbox_queue(&closed, m, 1, STAMP, e, err, sizeof(err)), -EINVAL);
    assert_int_equal(outbox_open(&closed, "/dev/null"), -ENOTDIR);
    outbox_close(&closed);
}

/* --- driver for the integration test --- */

static int drive(const char *dir, const char *json)
{
    struct config cfg = {.max_parts = SMS_SEND_PARTS_LIMIT};
    json_object *req = json_tokener_parse(json);
    struct sms_send s;
    struct outbox ob;
    struct outbox_entry e[SMS_SEND_MAX_RECIPIENTS];
    char err[300];
    int rc = req ? sms_send_parse(req, &cfg, &s, err, sizeof(err)) : -1;
    json_object_put(req);
    if (rc < 0) {
        fprintf(stderr, "%s\n", req ? err : "bad JSON");
        return 1;
    }
    rc = outbox_open(&ob, dir);
    if (rc == 0)
        rc = outbox_queue_send(&ob, &s, time(NULL), e, err, sizeof(err));
    else
        format_checked(err, sizeof(err), "cannot open %s: %s", dir, strerror(-rc));
    for (int i = 0; rc == 0 && i < s.count; i++)
        printf("%s %s %zu %s\n", e[i].id, e[i].name, s.length.parts, sms_encoding_str(s.length.encoding));
    if (rc < 0)
        fprintf(stderr, "%s\n", err);
    outbox_close(&ob);
    sms_send_clear(&s);
    return rc < 0;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "--queue") == 0)
        return drive(argv[2], argv[3]);
    setenv("TZ", "UTC", 1);
    tzset();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_name_id),
        cmocka_unit_test(test_encode),
        cmocka_unit_test(test_ids),
        cmocka_unit_test_setup_teardown(test_queue_one, folder_setup, folder_teardown),
        cmocka_unit_test_setup_teardown(test_queue_request, folder_setup, folder_teardown),
        cmocka_unit_test_setup_teardown(test_serial_overflow, folder_setup, folder_teardown),
        cmocka_unit_test_setup_teardown(test_write_failure, folder_setup, folder_teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, folder_setup, folder_teardown),
        cmocka_unit_test_setup_teardown(test_ensure_recreated, folder_setup, folder_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
