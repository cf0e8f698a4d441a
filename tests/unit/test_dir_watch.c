/* dir_watch on real folders with real inotify: backlog, files closed after
 * writing, files renamed in, hidden temp files ignored, a folder that appears
 * late or is removed and re-created. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sms-sentinel/dir_watch.h"

struct seen {
    char names[32][64];
    int n;
};

static void on_file(void *ctx, const char *name)
{
    struct seen *s = ctx;
    if (s->n < 32)
        snprintf(s->names[s->n++], sizeof(s->names[0]), "%s", name);
}

static bool has(const struct seen *s, const char *name)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->names[i], name) == 0)
            return true;
    return false;
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Waits for inotify (bounded) and processes. */
static void pump(struct dir_watch *w, int64_t now_ms)
{
    struct pollfd p = {.fd = dir_watch_fd(w), .events = POLLIN};
    poll(&p, 1, 500);
    dir_watch_process(w, now_ms);
}

static void test_backlog_and_events(void **state)
{
    (void)state;
    char dir[] = "/tmp/dir-watch-XXXXXX";
    assert_non_null(mkdtemp(dir));
    write_file(dir, "IN_old.txt", "x");
    write_file(dir, ".hidden.tmp", "x");
    struct seen s = {0};
    struct dir_watch *w = dir_watch_open(dir, on_file, &s);
    assert_non_null(w);
    assert_int_equal(dir_watch_next_deadline_ms(w), 0);
    dir_watch_process(w, 0);
    assert_int_equal(s.n, 1);
    assert_true(has(&s, "IN_old.txt"));

    write_file(dir, "IN_new.txt", "y");
    pump(w, 1);
    assert_true(has(&s, "IN_new.txt"));

    write_file(dir, ".IN_moved.tmp", "z");
    pump(w, 2);
    assert_false(has(&s, ".IN_moved.tmp"));
    char from[512], to[512];
    snprintf(from, sizeof(from), "%s/.IN_moved.tmp", dir);
    snprintf(to, sizeof(to), "%s/IN_moved.txt", dir);
    assert_int_equal(rename(from, to), 0);
    pump(w, 3);
    assert_true(has(&s, "IN_moved.txt"));
    assert_int_equal(s.n, 3);
    dir_watch_close(w);
    char cmd_path[512];
    const char *names[] = {"IN_old.txt", ".hidden.tmp", "IN_new.txt", "IN_moved.txt"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(cmd_path, sizeof(cmd_path), "%s/%s", dir, names[i]);
        unlink(cmd_path);
    }
    rmdir(dir);
}

static void test_missing_then_recreated(void **state)
{
    (void)state;
    char base[] = "/tmp/dir-watch-XXXXXX";
    assert_non_null(mkdtemp(base));
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/inbox", base);
    struct seen s = {0};
    struct dir_watch *w = dir_watch_open(dir, on_file, &s);
    assert_non_null(w);
    assert_true(dir_watch_next_deadline_ms(w) > 0 && dir_watch_next_deadline_ms(w) < INT64_MAX);
    mkdir(dir, 0755);
    write_file(dir, "IN_a.txt", "a");
    dir_watch_process(w, 1000); /* too early: not looked for yet */
    assert_int_equal(s.n, 0);
    dir_watch_process(w, 10000);
    dir_watch_process(w, 10001); /* backlog scan */
    assert_true(has(&s, "IN_a.txt"));

    char path[600];
    snprintf(path, sizeof(path), "%s/IN_a.txt", dir);
    unlink(path);
    rmdir(dir);
    pump(w, 20000);
    assert_true(dir_watch_next_deadline_ms(w) > 20000);
    mkdir(dir, 0755);
    write_file(dir, "IN_b.txt", "b");
    dir_watch_process(w, 30000);
    dir_watch_process(w, 30001);
    assert_true(has(&s, "IN_b.txt"));
    dir_watch_close(w);
    snprintf(path, sizeof(path), "%s/IN_b.txt", dir);
    unlink(path);
    rmdir(dir);
    rmdir(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backlog_and_events),
        cmocka_unit_test(test_missing_then_recreated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
