/* port_holder: finds the processes that have the modem tty open by reading
 * the fd links under a proc root (a fake tree in tests). */
#include "sms-sentinel/port_holder.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "sms-sentinel/strbuf.h"

struct target {
    char path[PATH_MAX];
    bool is_chr;
    dev_t rdev;
};

static int target_init(const char *device, struct target *t)
{
    if (!realpath(device, t->path))
        return -errno;
    struct stat st;
    t->is_chr = stat(t->path, &st) == 0 && S_ISCHR(st.st_mode);
    t->rdev = t->is_chr ? st.st_rdev : 0;
    return 0;
}

static bool parse_pid(const char *name, long *pid)
{
    if (!isdigit((unsigned char)name[0]))
        return false;
    char *end = NULL;
    errno = 0;
    long v = strtol(name, &end, 10);
    if (errno || *end != '\0' || v <= 0)
        return false;
    *pid = v;
    return true;
}

/* Pipes, sockets and anon inodes read as "pipe:[n]" etc.: only paths count. */
static bool link_matches(int fd_dir, const char *name, const struct target *t)
{
    char buf[PATH_MAX];
    ssize_t n = readlinkat(fd_dir, name, buf, sizeof(buf) - 1);
    if (n <= 0 || buf[0] != '/')
        return false;
    buf[n] = '\0';
    if (strcmp(buf, t->path) == 0)
        return true;
    struct stat st;
    return t->is_chr && fstatat(fd_dir, name, &st, 0) == 0 && S_ISCHR(st.st_mode) &&
           st.st_rdev == t->rdev;
}

static bool holds_device(int proc_fd, const char *pid, const struct target *t)
{
    char rel[64];
    if (format_checked(rel, sizeof(rel), "%s/fd", pid) < 0)
        return false;
    int fd = openat(proc_fd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return false; /* gone, or not ours to read (EACCES) */
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return false;
    }
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL)
        found = e->d_name[0] != '.' && link_matches(dirfd(d), e->d_name, t);
    closedir(d);
    return found;
}

static void read_name(int proc_fd, const char *pid, char *name, size_t size)
{
    char rel[64], comm[PORT_HOLDER_NAME_MAX];
    ssize_t n = -1;
    int fd = -1;
    if (format_checked(rel, sizeof(rel), "%s/comm", pid) == 0)
        fd = openat(proc_fd, rel, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        n = read(fd, comm, sizeof(comm) - 1);
        close(fd);
    }
    if (n <= 0) {
        format_checked(name, size, "?");
        return;
    }
    comm[n] = '\0';
    struct strbuf sb;
    strbuf_init(&sb, name, size);
    strbuf_append_printable(&sb, comm, strcspn(comm, "\n"));
}

int port_holder_find(const char *proc_root, const char *device, long exclude_pid,
                     struct port_holder *out, int max)
{
    if (!proc_root || !device || !*device || max < 0 || (max > 0 && !out))
        return -EINVAL;
    struct target t;
    int rc = target_init(device, &t);
    if (rc < 0)
        return rc;
    DIR *d = opendir(proc_root);
    if (!d)
        return -errno;
    int count = 0;
    struct dirent *e;
    while (count < max && (e = readdir(d)) != NULL) {
        long pid;
        if (!parse_pid(e->d_name, &pid) || pid == exclude_pid || !holds_device(dirfd(d), e->d_name, &t))
            continue;
        out[count].pid = pid;
        read_name(dirfd(d), e->d_name, out[count].name, sizeof(out[count].name));
        count++;
    }
    closedir(d);
    return count;
}
