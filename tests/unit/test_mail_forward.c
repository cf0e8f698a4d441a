/* test_mail_forward: the sendmail queue against fake sendmail scripts written
 * into a temp dir. The module's clock is a virtual one the test moves (retry
 * and give-up times); the children are real, so the loop here polls their
 * stdin pipe and waits for them in real time, the way the daemon does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sms-sentinel/mail_forward.h"
#include "sms-sentinel/mail_message.h"

struct fixture {
    char dir[64];
    char script[128];
};

static int64_t real_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void path_in(const struct fixture *f, const char *name, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s/%s", f->dir, name);
    assert_true(n > 0 && (size_t)n < size);
}

/* The fake sendmail: body is shell with @D@ standing for the temp dir. */
static void write_script(struct fixture *f, const char *body)
{
    path_in(f, "sendmail", f->script, sizeof(f->script));
    FILE *fp = fopen(f->script, "w");
    assert_non_null(fp);
    fputs("#!/bin/sh\n", fp);
    for (const char *p = body; *p; p++) {
        if (strncmp(p, "@D@", 3) == 0) {
            fputs(f->dir, fp);
            p += 2;
        } else {
            fputc(*p, fp);
        }
    }
    assert_int_equal(fclose(fp), 0);
    assert_int_equal(chmod(f->script, 0755), 0);
}

static char *read_file(const struct fixture *f, const char *name, size_t *len)
{
    char path[160];
    path_in(f, name, path, sizeof(path));
    FILE *fp = fopen(path, "rb");
    if (!fp)
        fail_msg("%s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t cap = 0, n = 0, got;
    do {
        if (n + 4096 > cap) {
            cap = cap * 2 + 8192;
            buf = realloc(buf, cap + 1);
            assert_non_null(buf);
        }
        got = fread(buf + n, 1, cap - n, fp);
        n += got;
    } while (got > 0);
    fclose(fp);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/test_mail_forward.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    *state = f;
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

static char *message(size_t text_len, size_t *len)
{
    char *text = malloc(text_len + 1);
    assert_non_null(text);
    for (size_t i = 0; i < text_len; i++)
        text[i] = (char)('a' + i % 26);
    struct mail_input in = {.from = "sms-sentinel@box", .to = "me@example.com",
                            .sender = "+33612345678", .sender_len = 12,
                            .received_at = "2026-12-06T18:49:42+01:00", .text = text,
                            .text_len = text_len, .sms_id = "IN1", .now = 1796579382};
    char *out, err[128];
    if (mail_message_build(&in, &out, len, err, sizeof(err)) != 0)
        fail_msg("build: %s", err);
    free(text);
    return out;
}

static void init(struct mail_forward *mf, const struct fixture *f, int64_t timeout_ms,
                 size_t max_queue)
{
    struct mail_forward_config cfg = {.sendmail = f->script, .timeout_ms = timeout_ms,
                                      .retry_first_ms = 1000, .retry_max_ms = 4000,
                                      .give_up_ms = 10000, .max_queue = max_queue};
    assert_int_equal(mail_forward_init(mf, &cfg), 0);
}

/* Runs the loop at virtual time now until an attempt ends (real time bound). */
static void run_attempt(struct mail_forward *mf, int64_t now, struct mail_forward_result *r)
{
    int64_t end = real_ms() + 10000;
    while (!mail_forward_poll(mf, now, r)) {
        if (real_ms() > end)
            fail_msg("no result within 10 s");
        assert_true(mail_forward_next_deadline_ms(mf) <= now + MAIL_FORWARD_REAP_MS ||
                    mail_forward_fd(mf) >= 0);
        int fd = mail_forward_fd(mf);
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        if (poll(&p, fd >= 0 ? 1 : 0, 10) > 0)
            mail_forward_on_writable(mf);
    }
}

static void submit_copy(struct mail_forward *mf, const char *msg, size_t len, int64_t now)
{
    char *copy = malloc(len + 1);
    assert_non_null(copy);
    memcpy(copy, msg, len + 1);
    assert_int_equal(mail_forward_submit(mf, copy, len, now), 0);
}

static void check_sent(struct fixture *f, size_t text_len)
{
    write_script(f, "printf '%s\\n' \"$@\" > @D@/args\ncat > @D@/out\n");
    size_t len;
    char *msg = message(text_len, &len);
    struct mail_forward mf;
    init(&mf, f, 5000, 0);
    assert_int_equal(mail_forward_next_deadline_ms(&mf), INT64_MAX);
    submit_copy(&mf, msg, len, 0);
    assert_int_equal(mail_forward_next_deadline_ms(&mf), 0);
    struct mail_forward_result r;
    run_attempt(&mf, 0, &r);
    assert_int_equal(r.outcome, MAIL_FORWARD_SENT);
    assert_int_equal(r.attempts, 1);
    assert_string_equal(r.reason, "");
    size_t got_len;
    char *got = read_file(f, "out", &got_len);
    assert_int_equal(got_len, len);
    assert_memory_equal(got, msg, len);
    free(got);
    char *args = read_file(f, "args", &got_len);
    assert_string_equal(args, "-t\n-i\n");
    free(args);
    assert_int_equal(mf.stats.forwarded, 1);
    assert_int_equal(mf.stats.failed_attempts, 0);
    assert_int_equal(mail_forward_pending(&mf), 0);
    assert_int_equal(mail_forward_next_deadline_ms(&mf), INT64_MAX);
    assert_int_equal(mail_forward_fd(&mf), -1);
    assert_int_equal(mail_forward_close(&mf), 0);
    free(msg);
}

static void test_sent(void **state) { check_sent(*state, 160); }

/* More than a pipe holds: several on_writable rounds. */
static void test_sent_large(void **state) { check_sent(*state, MAIL_MESSAGE_MAX_TEXT); }

static void test_retry_then_sent(void **state)
{
    struct fixture *f = *state;
    write_script(f, "if [ -e @D@/ok ]; then cat > @D@/out; exit 0; fi\n"
                    "touch @D@/ok; cat > /dev/null; exit 75\n");
    size_t len;
    char *msg = message(10, &len);
    struct mail_forward mf;
    init(&mf, f, 5000, 0);
    submit_copy(&mf, msg, len, 0);
    struct mail_forward_result r;
    run_attempt(&mf, 0, &r);
    assert_int_equal(r.outcome, MAIL_FORWARD_RETRY);
    assert_string_equal(r.reason, "exit 75");
    assert_int_equal(r.next_attempt_ms, 1000);
    assert_int_equal(mail_forward_next_deadline_ms(&mf), 1000);
    assert_false(mail_forward_poll(&mf, 999, &r));
    assert_int_equal(mail_forward_fd(&mf), -1); /* nothing started early */
    run_attempt(&mf, 1000, &r);
    assert_int_equal(r.outcome, MAIL_FORWARD_SENT);
    assert_int_equal(r.attempts, 2);
    size_t got_len;
    char *got = read_file(f, "out", &got_len);
    assert_int_equal(got_len, len);
    assert_memory_equal(got, msg, len);
    free(got);
    assert_int_equal(mf.stats.forwarded, 1);
    assert_int_equal(mf.stats.failed_attempts, 1);
    assert_int_equal(mf.stats.dropped, 0);
    mail_forward_close(&mf);
    free(msg);
}

/* 1 s, 2 s, 4 s (the cap), then the last try at give-up time, then dropped. */
static void test_backoff_and_drop(void **state)
{
    struct fixture *f = *state;
    write_script(f, "cat > /dev/null; exit 75\n");
    size_t len;
    char *msg = message(10, &len);
    struct mail_forward mf;
    init(&mf, f, 5000, 0);
    submit_copy(&mf, msg, len, 0);
    const int64_t at[] = {0, 1000, 3000, 7000, 10000};
    const int64_t next[] = {1000, 3000, 7000, 10000};
    struct mail_forward_result r;
    for (size_t i = 0; i < 4; i++) {
        run_attempt(&mf, at[i], &r);
        assert_int_equal(r.outcome, MAIL_FORWARD_RETRY);
        assert_int_equal(r.next_attempt_ms, next[i]);
        assert_int_equal(r.attempts, i + 1);
    }
    run_attempt(&mf, at[4], &r);
    assert_int_equal(r.outcome, MAIL_FORWARD_DROPPED);
    assert_string_equal(mail_forward_outcome_str(r.outcome), "dropped");
    assert_int_equal(mf.stats.failed_attempts, 5);
    assert_int_equal(mf.stats.dropped, 1);
    assert_int_equal(mail_forward_pending(&mf), 0);
    assert_int_equal(mail_forward_next_deadline_ms(&mf), INT64_MAX);
    mail_forward_close(&mf);
    free(msg);
}

static void test_timeout(void **state)
{
    struct fixture *f = *state;
    write_script(f, "exec sleep 30\n");
    size_t len;
    char *msg = message(10, &len);
    struct mail_forward mf;
    init(&mf, f, 500, 0);
    submit_copy(&mf, msg, len, 0);
    struct mail_forward_result r;
    assert_false(mail_forward_poll(&mf, 0, &r));
    assert_int_equal(mail_forward_next_deadline_ms(&mf), MAIL_FORWARD_REAP_MS);
    assert_false(mail_forward_poll(&mf, 499, &r));
    assert_int_equal(mail_forward_next_deadline_ms(&mf), 500);
    assert_true(mail_forward_poll(&mf, 500, &r));
    assert_int_equal(r.outcome, MAIL_FORWARD_RETRY);
    assert_string_equal(r.reason, "killed after 500 ms");
    assert_int_equal(r.next_attempt_ms, 1500);
    mail_forward_close(&mf);
    free(msg);
}

static void test_missing_sendmail(void **state)
{
    struct fixture *f = *state;
    path_in(f, "no-such-sendmail", f->script, sizeof(f->script));
    size_t len;
    char *msg = message(10, &len);
    struct mail_forward mf;
    init(&mf, f, 500, 0);
    submit_copy(&mf, msg, len, 0);
    struct mail_forward_result r;
    /* glibc reports the exec error from posix_spawnp; under valgrind the
     * spawn succeeds and the child exits 127. Both are a failed attempt. */
    run_attempt(&mf, 0, &r);
    assert_int_equal(r.outcome, MAIL_FORWARD_RETRY);
    assert_true(strstr(r.reason, "cannot run") || strcmp(r.reason, "exit 127") == 0);
    assert_false(mail_forward_poll(&mf, 0, &r)); /* not again before its time */
    mail_forward_close(&mf);
    free(msg);
}

/* Exit 0 without reading the mail is not a success. */
static void test_early_exit(void **state)
{
    struct fixture *f = *state;
    write_script(f, "exit 0\n");
    size_t len;
    char *msg = message(MAIL_MESSAGE_MAX_TEXT, &len);
    struct mail_forward mf;
    init(&mf, f, 5000, 0);
    submit_copy(&mf, msg, len, 0);
    struct mail_forward_result r;
    run_attempt(&mf, 0, &r);
    assert_int_equal(r.outcome, MAIL_FORWARD_RETRY);
    assert_string_equal(r.reason, "exit 0 before reading the whole mail");
    assert_int_equal(mf.stats.forwarded, 0);
    mail_forward_close(&mf);
    free(msg);
}

/* FIFO order, and a full queue refuses (and frees) the newest. */
static void test_queue_order_and_full(void **state)
{
    struct fixture *f = *state;
    write_script(f, "cat >> @D@/out\n");
    struct mail_forward mf;
    init(&mf, f, 5000, 2);
    submit_copy(&mf, "first\n", 6, 0);
    submit_copy(&mf, "second\n", 7, 0);
    char *third = malloc(6);
    assert_non_null(third);
    memcpy(third, "third", 6);
    assert_int_equal(mail_forward_submit(&mf, third, 5, 0), -ENOSPC);
    assert_int_equal(mf.stats.dropped, 1);
    struct mail_forward_result r;
    run_attempt(&mf, 0, &r);
    assert_int_equal(r.outcome, MAIL_FORWARD_SENT);
    run_attempt(&mf, 0, &r);
    assert_int_equal(r.outcome, MAIL_FORWARD_SENT);
    size_t got_len;
    char *got = read_file(f, "out", &got_len);
    assert_string_equal(got, "first\nsecond\n");
    free(got);
    assert_int_equal(mf.stats.forwarded, 2);
    mail_forward_close(&mf);
}

static void test_close_kills(void **state)
{
    struct fixture *f = *state;
    write_script(f, "exec sleep 30\n");
    struct mail_forward mf;
    init(&mf, f, 5000, 0);
    submit_copy(&mf, "a\n", 2, 0);
    submit_copy(&mf, "b\n", 2, 0);
    struct mail_forward_result r;
    assert_false(mail_forward_poll(&mf, 0, &r));
    pid_t pid = mf.pid;
    assert_true(pid > 0);
    assert_int_equal(mail_forward_close(&mf), 2);
    assert_int_equal(waitpid(pid, NULL, WNOHANG), -1); /* reaped already */
    assert_int_equal(errno, ECHILD);
}

static void test_init_errors(void **state)
{
    (void)state;
    struct mail_forward mf;
    struct mail_forward_config cfg = {.sendmail = ""};
    assert_int_equal(mail_forward_init(&mf, &cfg), -EINVAL);
    char longpath[MAIL_FORWARD_PATH_MAX + 10];
    memset(longpath, 'a', sizeof(longpath) - 1);
    longpath[sizeof(longpath) - 1] = '\0';
    cfg.sendmail = longpath;
    assert_int_equal(mail_forward_init(&mf, &cfg), -ENAMETOOLONG);
    cfg.sendmail = "/usr/sbin/sendmail";
    assert_int_equal(mail_forward_init(&mf, &cfg), 0);
    assert_int_equal(mf.timeout_ms, 30000);
    assert_int_equal(mf.retry_first_ms, 60000);
    assert_int_equal(mf.retry_max_ms, 3600000);
    assert_int_equal(mf.give_up_ms, 24 * 3600000LL);
    assert_int_equal(mf.max_queue, MAIL_FORWARD_MAX_QUEUE);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* as the daemon does */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_sent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sent_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_then_sent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backoff_and_drop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_sendmail, setup, teardown),
        cmocka_unit_test_setup_teardown(test_early_exit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_order_and_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_kills, setup, teardown),
        cmocka_unit_test(test_init_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
