/* probe_watch on real folders with real inotify and a real child process:
 * the pidfile and the tty are noticed by name (other names are not), any
 * outbox change is noticed, the exit of a tracked pid (kill -9, pidfile left
 * behind) is noticed, and missing folders are no error. */
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
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sms-sentinel/probe_watch.h"

struct fx {
    char dir[64], pidfile[128], device[128], outbox[128];
    struct probe_watch *w;
};

static void touch(const char *path)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("1\n", f);
    fclose(f);
}

/* Waits up to 1 s for the fd, then processes: the answer the agent would get. */
static bool changed(struct probe_watch *w)
{
    struct pollfd p = {.fd = probe_watch_fd(w), .events = POLLIN};
    if (poll(&p, 1, 1000) <= 0)
        return false;
    return probe_watch_process(w);
}

static int setup(void **state)
{
    struct fx *fx = calloc(1, sizeof(*fx));
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/test-probe-watch-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    snprintf(fx->pidfile, sizeof(fx->pidfile), "%s/smsd.pid", fx->dir);
    snprintf(fx->device, sizeof(fx->device), "%s/ttyUSB0", fx->dir);
    snprintf(fx->outbox, sizeof(fx->outbox), "%s/outbox", fx->dir);
    assert_int_equal(mkdir(fx->outbox, 0700), 0);
    fx->w = probe_watch_open(fx->pidfile, fx->device, fx->outbox);
    assert_non_null(fx->w);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fx *fx = *state;
    probe_watch_close(fx->w);
    char *argv[] = {"rm", "-rf", fx->dir, NULL};
    pid_t pid = fork();
    if (pid == 0) {
        execvp(argv[0], argv);
        _exit(127);
    }
    waitpid(pid, NULL, 0);
    free(fx);
    return 0;
}

static void test_names(void **state)
{
    struct fx *fx = *state;
    char other[160];
    snprintf(other, sizeof(other), "%s/unrelated.txt", fx->dir);
    static const struct {
        int what; /* 0 pidfile, 1 device, 2 other name, 3 outbox file */
        bool op_create;
        bool expect;
    } rows[] = {
        {2, true, false}, {0, true, true}, {1, true, true}, {2, false, false},
        {1, false, true}, {0, false, true}, {3, true, true}, {3, false, true},
    };
    char outfile[160];
    snprintf(outfile, sizeof(outfile), "%s/OUTA.txt", fx->outbox);
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *paths[] = {fx->pidfile, fx->device, other, outfile};
        const char *p = paths[rows[i].what];
        if (rows[i].op_create)
            touch(p);
        else
            assert_int_equal(unlink(p), 0);
        bool got = changed(fx->w);
        if (got != rows[i].expect)
            fail_msg("row %zu: %s %s: got %d", i, rows[i].op_create ? "create" : "delete", p, got);
    }
}

static void test_pid_exit(void **state)
{
    struct fx *fx = *state;
    pid_t pid = fork();
    if (pid == 0) {
        pause();
        _exit(0);
    }
    probe_watch_track_pid(fx->w, pid);
    assert_false(changed(fx->w));
    kill(pid, SIGKILL); /* like kill -9 of gammu-smsd: its pidfile stays */
    assert_true(changed(fx->w));
    waitpid(pid, NULL, 0);
    assert_false(changed(fx->w)); /* told once */
    probe_watch_track_pid(fx->w, 0);
}

static void test_missing_folders(void **state)
{
    (void)state;
    struct probe_watch *w = probe_watch_open("/nonexistent-x/smsd.pid", "/nonexistent-y/ttyUSB0", "/nonexistent-z");
    assert_non_null(w);
    assert_false(probe_watch_process(w));
    probe_watch_track_pid(w, 999999999); /* no such pid: nothing tracked */
    assert_false(probe_watch_process(w));
    probe_watch_close(w);
    w = probe_watch_open(NULL, "", NULL);
    assert_non_null(w);
    probe_watch_close(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pid_exit, setup, teardown),
        cmocka_unit_test(test_missing_folders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
