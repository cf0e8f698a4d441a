/* fs_move_file on real folders: a plain rename, a move across two mounts
 * (/dev/shm is a tmpfs apart from /tmp on Debian; skipped where it is not),
 * a replaced target, a vanished source, and a source too large to copy, which
 * must stay where it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sms-sentinel/fsutil.h"

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    assert_int_equal(fclose(f), 0);
}

static char *read_back(const char *path)
{
    char *data = NULL;
    assert_int_equal(fs_read_file(path, 4096, &data, NULL), 0);
    return data;
}

static void make_dir(char *tmpl)
{
    assert_non_null(mkdtemp(tmpl));
}

static void remove_dir(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    unlink(path);
    rmdir(dir);
}

/* Moves IN..._00.txt from src to dst; checks content and that src is empty. */
static void check_move(const char *src, const char *dst)
{
    const char *name = "IN20261206_203335_00_+33611111111_00.txt";
    char from[512], to[512];
    snprintf(from, sizeof(from), "%s/%s", src, name);
    snprintf(to, sizeof(to), "%s/%s", dst, name);
    write_file(from, "Gr\xc3\xbc\xc3\x9f" "e");
    write_file(to, "an older copy");
    assert_int_equal(fs_move_file(from, dst, name, 4096), 0);
    assert_int_equal(access(from, F_OK), -1);
    char *text = read_back(to);
    assert_string_equal(text, "Gr\xc3\xbc\xc3\x9f" "e");
    free(text);
    char tmp[512];
    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dst, name);
    assert_int_equal(access(tmp, F_OK), -1);
    remove_dir(src, name);
    remove_dir(dst, name);
}

static void test_same_mount(void **state)
{
    (void)state;
    char a[] = "/tmp/fsutil-a-XXXXXX", b[] = "/tmp/fsutil-b-XXXXXX";
    make_dir(a);
    make_dir(b);
    check_move(a, b);
}

static void test_across_mounts(void **state)
{
    (void)state;
    struct stat st_tmp, st_shm;
    if (stat("/tmp", &st_tmp) < 0 || stat("/dev/shm", &st_shm) < 0 || st_tmp.st_dev == st_shm.st_dev)
        skip();
    char a[] = "/tmp/fsutil-a-XXXXXX", b[] = "/dev/shm/fsutil-b-XXXXXX";
    make_dir(a);
    make_dir(b);
    /* What the daemon relies on: rename really fails here. */
    char probe[512], probe_to[512];
    snprintf(probe, sizeof(probe), "%s/probe", a);
    snprintf(probe_to, sizeof(probe_to), "%s/probe", b);
    write_file(probe, "x");
    assert_int_equal(rename(probe, probe_to), -1);
    assert_int_equal(errno, EXDEV);
    unlink(probe);
    check_move(a, b);
}

static void test_missing_source(void **state)
{
    (void)state;
    char b[] = "/tmp/fsutil-b-XXXXXX";
    make_dir(b);
    assert_int_equal(fs_move_file("/tmp/fsutil-no-such-file", b, "x.txt", 4096), -ENOENT);
    rmdir(b);
}

static void test_too_large_stays(void **state)
{
    (void)state;
    struct stat st_tmp, st_shm;
    if (stat("/tmp", &st_tmp) < 0 || stat("/dev/shm", &st_shm) < 0 || st_tmp.st_dev == st_shm.st_dev)
        skip();
    char a[] = "/tmp/fsutil-a-XXXXXX", b[] = "/dev/shm/fsutil-b-XXXXXX";
    make_dir(a);
    make_dir(b);
    char from[512], to[512];
    snprintf(from, sizeof(from), "%s/big.txt", a);
    snprintf(to, sizeof(to), "%s/big.txt", b);
    char big[5001];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    write_file(from, big);
    assert_int_equal(fs_move_file(from, b, "big.txt", 4096), -EFBIG);
    assert_int_equal(access(from, F_OK), 0);
    assert_int_equal(access(to, F_OK), -1);
    remove_dir(a, "big.txt");
    rmdir(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_mount),
        cmocka_unit_test(test_across_mounts),
        cmocka_unit_test(test_missing_source),
        cmocka_unit_test(test_too_large_stays),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
