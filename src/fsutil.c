/* fsutil: atomic file replace, bounded whole-file reads, mkdir -p, moves
 * across mounts. */
#include "sms-sentinel/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sms-sentinel/strbuf.h"

static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static int write_temp(int dirfd, const char *tmp, const void *data, size_t len)
{
    int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return -errno;
    int rc = write_all(fd, data, len);
    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
    if (close(fd) < 0 && rc == 0)
        rc = -errno;
    return rc;
}

int fs_write_atomic(const char *dir, const char *name, const void *data, size_t len)
{
    char tmp[512];
    if (format_checked(tmp, sizeof(tmp), ".%s.tmp", name) < 0)
        return -ENAMETOOLONG;
    int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0)
        return -errno;
    int rc = write_temp(dirfd, tmp, data, len);
    if (rc == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
        rc = -errno;
    if (rc != 0)
        unlinkat(dirfd, tmp, 0);
    else if (fsync(dirfd) < 0)
        rc = -errno;
    close(dirfd);
    return rc;
}

int fs_read_file(const char *path, size_t max, char **out, size_t *out_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap + 1);
    int rc = buf ? 0 : -ENOMEM;
    while (rc == 0) {
        if (len == cap) {
            if (cap >= max) {
                rc = -EFBIG;
                break;
            }
            size_t ncap = cap * 2 > max ? max : cap * 2;
            char *nbuf = realloc(buf, ncap + 1);
            if (!nbuf) {
                rc = -ENOMEM;
                break;
            }
            buf = nbuf;
            cap = ncap;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            rc = -errno;
        else if (n == 0)
            break;
        else
            len += (size_t)n;
    }
    close(fd);
    if (rc != 0) {
        free(buf);
        return rc;
    }
    buf[len] = '\0';
    *out = buf;
    if (out_len)
        *out_len = len;
    return 0;
}

int fs_mkdir_p(const char *dir, unsigned mode)
{
    char path[4096];
    if (format_checked(path, sizeof(path), "%s", dir) < 0)
        return -ENAMETOOLONG;
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, mode) < 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(path, mode) < 0 && errno != EEXIST)
        return -errno;
    return 0;
}

int fs_move_file(const char *from, const char *dir, const char *name, size_t max)
{
    char to[4096];
    if (format_checked(to, sizeof(to), "%s/%s", dir, name) < 0)
        return -ENAMETOOLONG;
    if (rename(from, to) == 0)
        return 0;
    if (errno != EXDEV)
        return -errno;
    char *data = NULL;
    size_t len = 0;
    int rc = fs_read_file(from, max, &data, &len);
    if (rc == 0)
        rc = fs_write_atomic(dir, name, data, len);
    free(data);
    if (rc == 0 && unlink(from) < 0 && errno != ENOENT)
        rc = -errno;
    return rc;
}
