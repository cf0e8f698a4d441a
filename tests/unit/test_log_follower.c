/* test_log_follower: the file follower against real files and real inotify in
 * a temp folder (start at end, partial and odd lines, truncation of huge lines,
 * late file and folder, the three logrotate styles), and the journal follower
 * against small shell scripts standing in for journalctl. Waiting is always
 * poll() on the follower's fd, bounded; a clock offset stands in for time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sms-sentinel/log_follower.h"

#define MAX_GOT 128
#define PUMP_MAX_MS 3000 /* below the follower's 5 s re-check: events must do it */

struct got {
    int n;
    char *lines[MAX_GOT];
    size_t lens[MAX_GOT];
    int truncated[MAX_GOT];
};

struct fx {
    char root[64];
    char dir[128];
    char path[192];
    char rotated[200];
    struct got got;
    struct log_follower *lf;
    int64_t skew_ms;
};

static int64_t real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_ms(const struct fx *fx) { return real_ms() + fx->skew_ms; }

static void on_line(void *ctx, const char *line, size_t len, int truncated)
{
    struct got *g = ctx;
    assert_int_equal(line[len], '\0');
    if (g->n < MAX_GOT) {
        g->lines[g->n] = malloc(len + 1);
        assert_non_null(g->lines[g->n]);
        memcpy(g->lines[g->n], line, len + 1);
        g->lens[g->n] = len;
        g->truncated[g->n] = truncated;
    }
    g->n++;
}

static void fmt(char *buf, size_t size, const char *f, ...) __attribute__((format(printf, 3, 4)));

static void fmt(char *buf, size_t size, const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(buf, size, f, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t)n < size);
}

static int setup(void **state)
{
    struct fx *fx = calloc(1, sizeof(*fx));
    assert_non_null(fx);
    fmt(fx->root, sizeof(fx->root), "%s", "/tmp/test-lf-XXXXXX");
    assert_non_null(mkdtemp(fx->root));
    fmt(fx->dir, sizeof(fx->dir), "%s/log", fx->root);
    fmt(fx->path, sizeof(fx->path), "%s/smsd.log", fx->dir);
    fmt(fx->rotated, sizeof(fx->rotated), "%s.1", fx->path);
    *state = fx;
    return 0;
}

static int remove_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(p);
}

static int teardown(void **state)
{
    struct fx *fx = *state;
    log_follower_close(fx->lf);
    for (int i = 0; i < fx->got.n && i < MAX_GOT; i++)
        free(fx->got.lines[i]);
    nftw(fx->root, remove_one, 8, FTW_DEPTH | FTW_PHYS);
    unsetenv("SMS_SENTINEL_JOURNALCTL");
    free(fx);
    return 0;
}

static void make_dir(struct fx *fx) { assert_int_equal(mkdir(fx->dir, 0755), 0); }

/* Like gammu-smsd's fopen(path, "a"). */
static int writer_open(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    return fd;
}

static void put_n(int fd, const char *s, size_t n)
{
    assert_int_equal(write(fd, s, n), (ssize_t)n);
}

static void put(int fd, const char *s) { put_n(fd, s, strlen(s)); }

static void open_file(struct fx *fx)
{
    fx->lf = log_follower_open_file(fx->path, on_line, &fx->got);
    assert_non_null(fx->lf);
}

static void process(struct fx *fx)
{
    assert_int_equal(log_follower_process(fx->lf, now_ms(fx)), 0);
}

/* Waits (bounded) for the follower's fd or its own timeout, until want lines. */
static void pump(struct fx *fx, int want)
{
    int64_t end = real_ms() + PUMP_MAX_MS;
    while (fx->got.n < want && real_ms() < end) {
        int64_t t = log_follower_next_timeout_ms(fx->lf, now_ms(fx));
        int64_t left = end - real_ms();
        if (t < 0 || t > left)
            t = left < 0 ? 0 : left;
        struct pollfd p = {.fd = log_follower_fd(fx->lf), .events = POLLIN};
        poll(&p, 1, (int)t);
        process(fx);
    }
    assert_int_equal(fx->got.n, want);
}

/* One event, one process call: for "nothing complete yet". */
static void wait_event_once(struct fx *fx)
{
    struct pollfd p = {.fd = log_follower_fd(fx->lf), .events = POLLIN};
    assert_int_equal(poll(&p, 1, PUMP_MAX_MS), 1);
    process(fx);
}

static void assert_line(const struct fx *fx, int i, const char *text)
{
    assert_true(i < fx->got.n);
    assert_string_equal(fx->got.lines[i], text);
    assert_int_equal(fx->got.truncated[i], 0);
}

static void test_starts_at_end(void **state)
{
    struct fx *fx = *state;
    make_dir(fx);
    int w = writer_open(fx->path);
    put(w, "old 1\nold 2\nold tail");
    open_file(fx);
    put(w, " continued\nnew 1\nnew 2\n");
    pump(fx, 2);
    assert_line(fx, 0, "new 1");
    assert_line(fx, 1, "new 2");
    close(w);
}

static void test_partial_line(void **state)
{
    struct fx *fx = *state;
    make_dir(fx);
    int w = writer_open(fx->path);
    open_file(fx);
    put(w, "hel");
    wait_event_once(fx);
    assert_int_equal(fx->got.n, 0);
    put(w, "lo\n");
    pump(fx, 1);
    assert_line(fx, 0, "hello");
    close(w);
}

static void test_crlf_cr_nul_empty(void **state)
{
    struct fx *fx = *state;
    make_dir(fx);
    int w = writer_open(fx->path);
    open_file(fx);
    put(w, "crlf\r\na\rb\n");
    put_n(w, "nul\0x\n", 6);
    put(w, "\n\r\n");
    pump(fx, 5);
    assert_line(fx, 0, "crlf");
    assert_line(fx, 1, "a\rb");
    assert_int_equal(fx->got.lens[2], 5);
    assert_memory_equal(fx->got.lines[2], "nul\0x", 5);
    assert_line(fx, 3, "");
    assert_line(fx, 4, "");
    close(w);
}

static void put_repeated(int fd, char c, size_t total)
{
    static const size_t step = 1024 * 1024;
    char *buf = malloc(step);
    assert_non_null(buf);
    memset(buf, c, step);
    for (size_t done = 0; done < total; done += step)
        put_n(fd, buf, total - done < step ? total - done : step);
    free(buf);
}

static void assert_all(const char *s, size_t n, char c)
{
    for (size_t i = 0; i < n; i++)
        assert_int_equal(s[i], c);
}

static void test_long_lines(void **state)
{
    struct fx *fx = *state;
    make_dir(fx);
    int w = writer_open(fx->path);
    open_file(fx);
    put_repeated(w, 'x', 10 * 1024 * 1024);
    put(w, "\nnext\n");
    put_repeated(w, 'a', LOG_FOLLOWER_MAX_LINE);
    put(w, "\r\n");
    put_repeated(w, 'b', LOG_FOLLOWER_MAX_LINE + 1);
    put(w, "\nend\n");
    pump(fx, 5);
    assert_int_equal(fx->got.lens[0], LOG_FOLLOWER_MAX_LINE);
    assert_int_equal(fx->got.truncated[0], 1);
    assert_all(fx->got.lines[0], LOG_FOLLOWER_MAX_LINE, 'x');
    assert_line(fx, 1, "next");
    assert_int_equal(fx->got.lens[2], LOG_FOLLOWER_MAX_LINE);
    assert_int_equal(fx->got.truncated[2], 0);
    assert_all(fx->got.lines[2], LOG_FOLLOWER_MAX_LINE, 'a');
    assert_int_equal(fx->got.lens[3], LOG_FOLLOWER_MAX_LINE);
    assert_int_equal(fx->got.truncated[3], 1);
    assert_line(fx, 4, "end");
    close(w);
}

static void test_missing_file_then_created(void **state)
{
    struct fx *fx = *state;
    make_dir(fx);
    open_file(fx);
    process(fx);
    int w = writer_open(fx->path);
    put(w, "first\nsecond\n");
    pump(fx, 2);
    assert_line(fx, 0, "first");
    assert_line(fx, 1, "second");
    close(w);
}

static void test_missing_dir_then_created(void **state)
{
    struct fx *fx = *state;
    open_file(fx);
    process(fx);
    int64_t t = log_follower_next_timeout_ms(fx->lf, now_ms(fx));
    assert_true(t > 0 && t <= 5000);
    make_dir(fx);
    int w = writer_open(fx->path);
    put(w, "first\n");
    process(fx);
    assert_int_equal(fx->got.n, 0); /* nothing watched yet: up to the timer */
    fx->skew_ms += t;
    pump(fx, 1);
    put(w, "second\n"); /* now watched: an event brings it */
    pump(fx, 2);
    assert_line(fx, 0, "first");
    assert_line(fx, 1, "second");
    close(w);
}

static int count_prefix(const struct fx *fx, char c, const char **want, int n)
{
    int k = 0;
    for (int i = 0; i < fx->got.n; i++) {
        if (fx->got.lines[i][0] != c)
            continue;
        assert_true(k < n);
        assert_string_equal(fx->got.lines[i], want[k]);
        k++;
    }
    return k;
}

static void test_rename_create(void **state)
{
    struct fx *fx = *state;
    make_dir(fx);
    int w = writer_open(fx->path);
    put(w, "boot\n");
    open_file(fx);
    put(w, "a1\n");
    pump(fx, 1);
    assert_int_equal(rename(fx->path, fx->rotated), 0);
    wait_event_once(fx);
    put(w, "a2\n"); /* only the renamed file changes: its own watch must see it */
    pump(fx, 2);
    int w2 = writer_open(fx->path);
    put(w2, "b1\n");
    put(w, "a3\n");
    put(w2, "b2\n");
    put(w, "a4\n");
    pump(fx, 6);
    const char *as[] = {"a1", "a2", "a3", "a4"};
    const char *bs[] = {"b1", "b2"};
    assert_int_equal(count_prefix(fx, 'a', as, 4), 4);
    assert_int_equal(count_prefix(fx, 'b', bs, 2), 2);
    /* The successor has data: the writer switched, the old file was read to
     * its end and let go; what still comes there is not followed. */
    fx->skew_ms += 61000;
    process(fx);
    put(w, "a5\n");
    put(w2, "b3\n");
    pump(fx, 7);
    assert_line(fx, 6, "b3");
    close(w);
    close(w2);
}

/* Renamed, a new file created, but the writer never told to reopen: it
 * writes to the renamed file after hours of quiet; still followed. */
static void test_rename_no_sighup(void **state)
{
    struct fx *fx = *state;
    make_dir(fx);
    int w = writer_open(fx->path);
    open_file(fx);
    put(w, "a1\n");
    pump(fx, 1);
    assert_int_equal(rename(fx->path, fx->rotated), 0);
    int w2 = writer_open(fx->path); /* logrotate's create: stays empty */
    pump(fx, 1);
    fx->skew_ms += 3 * 3600 * 1000;
    process(fx);
    put(w, "a2\n");
    pump(fx, 2);
    assert_line(fx, 1, "a2");
    put(w, "a3\n"); /* the last line before its SIGHUP */
    put(w2, "b1\n");
    pump(fx, 4);
    assert_line(fx, 2, "a3");
    assert_line(fx, 3, "b1");
    close(w);
    close(w2);
}

static void test_copytruncate(void **state)
{
    struct fx *fx = *state;
    make_dir(fx);
    int w = writer_open(fx->path);
    open_file(fx);
    put(w, "x1 a line long enough to put the offset far out\n");
    pump(fx, 1);
    assert_int_equal(truncate(fx->path, 0), 0);
    put(w, "y1\n"); /* shorter than before */
    pump(fx, 2);
    put(w, "y2\n");
    pump(fx, 3);
    assert_int_equal(truncate(fx->path, 0), 0);
    put(w, "z1 and now longer than what was read before\n"); /* past the old offset */
    put(w, "z2\n");
    pump(fx, 5);
    put(w, "z3\n");
    pump(fx, 6);
    const char *want[] = {"x1 a line long enough to put the offset far out", "y1", "y2",
                          "z1 and now longer than what was read before", "z2", "z3"};
    for (int i = 0; i < 6; i++)
        assert_line(fx, i, want[i]);
    close(w);
}

static void test_delete_recreate(void **state)
{
    struct fx *fx = *state;
    make_dir(fx);
    int w = writer_open(fx->path);
    open_file(fx);
    put(w, "a1\n");
    pump(fx, 1);
    put(w, "a2\n");
    assert_int_equal(unlink(fx->path), 0);
    int w2 = writer_open(fx->path);
    put(w2, "b1\n");
    pump(fx, 3);
    close(w);
    put(w2, "b2\n");
    pump(fx, 4);
    const char *want[] = {"a1", "a2", "b1", "b2"};
    for (int i = 0; i < 4; i++)
        assert_line(fx, i, want[i]);
    close(w2);
}

static void test_many_rotations(void **state)
{
    struct fx *fx = *state;
    make_dir(fx);
    int w = writer_open(fx->path);
    open_file(fx);
    char line[32];
    for (int i = 0; i < 20; i++) {
        fmt(line, sizeof(line), "r%02d\n", i);
        put(w, line);
        assert_int_equal(rename(fx->path, fx->rotated), 0); /* replaces the last one */
        fmt(line, sizeof(line), "r%02d late\n", i);
        put(w, line); /* before its SIGHUP gammu-smsd still writes here */
        int next = writer_open(fx->path);
        close(w);
        w = next;
        pump(fx, 2 * (i + 1));
    }
    for (int i = 0; i < 20; i++) {
        fmt(line, sizeof(line), "r%02d", i);
        assert_line(fx, 2 * i, line);
        fmt(line, sizeof(line), "r%02d late", i);
        assert_line(fx, 2 * i + 1, line);
    }
    close(w);
}

static void write_script(struct fx *fx, const char *body)
{
    char script[256];
    fmt(script, sizeof(script), "%s/journalctl", fx->root);
    FILE *fp = fopen(script, "w");
    assert_non_null(fp);
    assert_true(fputs(body, fp) >= 0);
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(chmod(script, 0755), 0);
    assert_int_equal(setenv("SMS_SENTINEL_JOURNALCTL", script, 1), 0);
}

/* Runs the follower until the restart of an ended child is scheduled; returns
 * how long until then. */
static int64_t wait_restart_scheduled(struct fx *fx)
{
    int64_t end = real_ms() + PUMP_MAX_MS;
    int64_t t = log_follower_next_timeout_ms(fx->lf, now_ms(fx));
    while ((t < 0 || t <= 100) && real_ms() < end) {
        struct pollfd p = {.fd = log_follower_fd(fx->lf), .events = POLLIN};
        poll(&p, 1, t < 0 ? 50 : (int)t);
        process(fx);
        t = log_follower_next_timeout_ms(fx->lf, now_ms(fx));
    }
    return t;
}

static void test_journal_restarts(void **state)
{
    struct fx *fx = *state;
    write_script(fx, "#!/bin/sh\necho \"args: $*\"\necho two\nprintf 'three\\r\\n'\n");
    fx->lf = log_follower_open_journal("gammu-smsd", on_line, &fx->got);
    assert_non_null(fx->lf);
    pump(fx, 3);
    assert_line(fx, 0, "args: -f -n 0 -o cat --no-pager --identifier gammu-smsd");
    assert_line(fx, 1, "two");
    assert_line(fx, 2, "three");
    int64_t t = wait_restart_scheduled(fx);
    assert_true(t > 500 && t <= 1000);
    fx->skew_ms += t;
    pump(fx, 6);
    assert_line(fx, 5, "three");
    t = wait_restart_scheduled(fx);
    assert_true(t > 1000 && t <= 2000); /* the pause grows */
}

static void test_journal_close_stops_child(void **state)
{
    struct fx *fx = *state;
    write_script(fx, "#!/bin/sh\necho ready\nexec sleep 30\n");
    fx->lf = log_follower_open_journal("gammu-smsd", on_line, &fx->got);
    assert_non_null(fx->lf);
    pump(fx, 1);
    assert_int_equal(log_follower_next_timeout_ms(fx->lf, now_ms(fx)), -1);
    int64_t start = real_ms();
    log_follower_close(fx->lf);
    fx->lf = NULL;
    assert_true(real_ms() - start < 1000);
}

static void test_journal_missing_program(void **state)
{
    struct fx *fx = *state;
    char missing[128];
    fmt(missing, sizeof(missing), "%s/no-such-journalctl", fx->root);
    assert_int_equal(setenv("SMS_SENTINEL_JOURNALCTL", missing, 1), 0);
    errno = 0;
    fx->lf = log_follower_open_journal("gammu-smsd", on_line, &fx->got);
    if (!fx->lf) {
        assert_int_equal(errno, ENOENT);
        return;
    }
    /* A posix_spawn that cannot report a failed exec (valgrind's) gives a child
     * that ends at once with status 127: then a restart must be scheduled. */
    int64_t t = wait_restart_scheduled(fx);
    assert_true(t > 500 && t <= 1000);
}

static void test_bad_path(void **state)
{
    struct fx *fx = *state;
    errno = 0;
    assert_null(log_follower_open_file("/tmp/", on_line, &fx->got));
    assert_int_equal(errno, EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_starts_at_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partial_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crlf_cr_nul_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file_then_created, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_dir_then_created, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rename_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copytruncate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_recreate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rename_no_sighup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_rotations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_restarts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_close_stops_child, setup, teardown),
        cmocka_unit_test_setup_teardown(test_journal_missing_program, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_path, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
