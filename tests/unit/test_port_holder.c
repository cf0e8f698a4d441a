/* test_port_holder: a fake proc tree (pid dirs with comm files and fd symlinks
 * to a temp "tty") and the real /proc, where this test holds files open. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sms-sentinel/port_holder.h"

struct fx {
    char root[64];
    char proc[96];
    char tty[96];   /* the modem "device", a plain file */
    char by_id[96]; /* a symlink to it, as in /dev/serial/by-id */
    char other[96];
};

static void must(int ok, const char *what)
{
    if (!ok)
        fail_msg("%s: %s", what, strerror(errno));
}

static void put_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    must(f != NULL, path);
    fputs(text, f);
    fclose(f);
}

/* <proc>/<pid>/comm (unless comm is NULL) and fd/<n> -> targets[n]. */
static void fake_pid(struct fx *fx, long pid, const char *comm, const char *const *targets, int n)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%ld", fx->proc, pid);
    must(mkdir(path, 0755) == 0, path);
    if (comm) {
        snprintf(path, sizeof(path), "%s/%ld/comm", fx->proc, pid);
        put_file(path, comm);
    }
    if (n < 0)
        return; /* no fd dir: like a process we may not inspect */
    snprintf(path, sizeof(path), "%s/%ld/fd", fx->proc, pid);
    must(mkdir(path, 0755) == 0, path);
    for (int i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%ld/fd/%d", fx->proc, pid, i);
        must(symlink(targets[i], path) == 0, path);
    }
}

static int setup(void **state)
{
    struct fx *fx = calloc(1, sizeof(*fx));
    snprintf(fx->root, sizeof(fx->root), "/tmp/test-port-holder-XXXXXX");
    must(mkdtemp(fx->root) != NULL, "mkdtemp");
    snprintf(fx->proc, sizeof(fx->proc), "%s/proc", fx->root);
    snprintf(fx->tty, sizeof(fx->tty), "%s/ttyUSB2", fx->root);
    snprintf(fx->by_id, sizeof(fx->by_id), "%s/usb-ZTE_MF112-if02", fx->root);
    snprintf(fx->other, sizeof(fx->other), "%s/other", fx->root);
    must(mkdir(fx->proc, 0755) == 0, fx->proc);
    put_file(fx->tty, "");
    put_file(fx->other, "");
    must(symlink(fx->tty, fx->by_id) == 0, fx->by_id);

    const char *mm[] = {"/dev/null", "socket:[4242]", "anon_inode:[eventfd]", fx->tty};
    fake_pid(fx, 812, "ModemManager\n", mm, 4);
    const char *smsd[] = {fx->other, fx->tty, fx->tty}; /* twice: still one entry */
    fake_pid(fx, 1234, "gammu-smsd\n", smsd, 3);
    const char *shell[] = {fx->other, "pipe:[77]"};
    fake_pid(fx, 99, "bash\n", shell, 2);
    fake_pid(fx, 5, "kthreadd\n", NULL, -1);
    const char *evil[] = {fx->tty};
    fake_pid(fx, 4000, "ev\x1bil\n", evil, 1);
    fake_pid(fx, 4001, NULL, evil, 1);
    char path[256];
    snprintf(path, sizeof(path), "%s/self", fx->proc); /* not a pid: skipped */
    must(mkdir(path, 0755) == 0, path);
    *state = fx;
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int teardown(void **state)
{
    struct fx *fx = *state;
    nftw(fx->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(fx);
    return 0;
}

static int by_pid(const void *a, const void *b)
{
    long x = ((const struct port_holder *)a)->pid, y = ((const struct port_holder *)b)->pid;
    return (x > y) - (x < y);
}

static void test_finds_every_holder_once(void **state)
{
    struct fx *fx = *state;
    struct port_holder h[8];
    int n = port_holder_find(fx->proc, fx->tty, -1, h, 8);
    assert_int_equal(n, 4);
    qsort(h, (size_t)n, sizeof(h[0]), by_pid);
    assert_int_equal(h[0].pid, 812);
    assert_string_equal(h[0].name, "ModemManager");
    assert_int_equal(h[1].pid, 1234);
    assert_string_equal(h[1].name, "gammu-smsd");
    assert_int_equal(h[2].pid, 4000);
    assert_string_equal(h[2].name, "ev?il"); /* control bytes never reach a log line */
    assert_int_equal(h[3].pid, 4001);
    assert_string_equal(h[3].name, "?");
}

static void test_device_through_symlink(void **state)
{
    struct fx *fx = *state;
    struct port_holder h[8];
    int n = port_holder_find(fx->proc, fx->by_id, 1234, h, 8);
    assert_int_equal(n, 3);
    for (int i = 0; i < n; i++)
        assert_int_not_equal(h[i].pid, 1234);
}

static void test_exclude_and_max(void **state)
{
    struct fx *fx = *state;
    struct port_holder h[8];
    assert_int_equal(port_holder_find(fx->proc, fx->other, 1234, h, 8), 1);
    assert_int_equal(h[0].pid, 99);
    assert_int_equal(port_holder_find(fx->proc, fx->tty, -1, h, 2), 2);
    assert_int_equal(port_holder_find(fx->proc, fx->tty, -1, h, 0), 0);
}

static void test_errors(void **state)
{
    struct fx *fx = *state;
    struct port_holder h[2];
    char missing[160];
    snprintf(missing, sizeof(missing), "%s/ttyUSB9", fx->root);
    assert_int_equal(port_holder_find(fx->proc, missing, -1, h, 2), -ENOENT);
    snprintf(missing, sizeof(missing), "%s/noproc", fx->root);
    assert_int_equal(port_holder_find(missing, fx->tty, -1, h, 2), -ENOENT);
    assert_int_equal(port_holder_find(fx->proc, "", -1, h, 2), -EINVAL);
    assert_int_equal(port_holder_find(fx->proc, fx->tty, -1, NULL, 2), -EINVAL);
}

/* The same char device under another path counts: a link whose text differs
 * from realpath(device) but that resolves to /dev/null. */
static void test_char_device_by_rdev(void **state)
{
    struct fx *fx = *state;
    int fd = open("/dev/null", O_RDONLY);
    must(fd >= 0, "/dev/null");
    char alias[64];
    snprintf(alias, sizeof(alias), "/proc/%ld/fd/%d", (long)getpid(), fd);
    const char *targets[] = {alias};
    fake_pid(fx, 7000, "alias\n", targets, 1);
    struct port_holder h[16];
    int n = port_holder_find(fx->proc, "/dev/null", -1, h, 16);
    close(fd);
    assert_int_equal(n, 2); /* 812 by name, 7000 by st_rdev */
}

static bool contains(const struct port_holder *h, int n, long pid)
{
    for (int i = 0; i < n; i++)
        if (h[i].pid == pid)
            return true;
    return false;
}

static void test_real_proc(void **state)
{
    struct fx *fx = *state;
    int fd = open(fx->tty, O_RDONLY);
    must(fd >= 0, fx->tty);
    struct port_holder h[64];
    int n = port_holder_find("/proc", fx->by_id, -1, h, 64);
    assert_int_equal(n, 1);
    assert_int_equal(h[0].pid, (long)getpid());
    assert_string_equal(h[0].name, "test_port_holde"); /* comm is cut at 15 bytes */
    n = port_holder_find("/proc", fx->tty, (long)getpid(), h, 64);
    assert_int_equal(n, 0);
    close(fd);
    n = port_holder_find("/proc", fx->tty, -1, h, 64);
    assert_false(contains(h, n, (long)getpid()));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_finds_every_holder_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_device_through_symlink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exclude_and_max, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_char_device_by_rdev, setup, teardown),
        cmocka_unit_test_setup_teardown(test_real_proc, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
