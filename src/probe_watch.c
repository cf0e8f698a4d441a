/* probe_watch: inotify on the probes' folders and a pidfd on gammu-smsd, in
 * one epoll set, so the agent refreshes its probes when something happened
 * instead of every few seconds. */
#include "sms-sentinel/probe_watch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sms-sentinel/strbuf.h"

#define NAME_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE | IN_ATTRIB)
#define DIR_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF)

enum { W_PIDFILE, W_DEVICE, W_OUTBOX, W_COUNT };

struct probe_watch {
    int epfd;
    int ifd;
    int pidfd; /* -1 none */
    long pid;
    int wd[W_COUNT];
    char name[W_COUNT][256]; /* file name to match; "" = any name (outbox) */
};

static void add_dir(struct probe_watch *w, int slot, const char *path, bool whole_dir)
{
    w->wd[slot] = -1;
    if (!path || !*path)
        return;
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (whole_dir) {
        if (format_checked(dir, sizeof(dir), "%s", path) < 0)
            return;
        w->name[slot][0] = '\0';
    } else {
        int n = slash ? (slash == path ? format_checked(dir, sizeof(dir), "/")
                                       : format_checked(dir, sizeof(dir), "%.*s", (int)(slash - path), path))
                      : format_checked(dir, sizeof(dir), ".");
        if (n < 0 || format_checked(w->name[slot], sizeof(w->name[slot]), "%s", slash ? slash + 1 : path) < 0)
            return;
    }
    w->wd[slot] = inotify_add_watch(w->ifd, dir, (whole_dir ? DIR_MASK : NAME_MASK | DIR_MASK) | IN_ONLYDIR);
}

struct probe_watch *probe_watch_open(const char *pidfile, const char *device, const char *outbox)
{
    struct probe_watch *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->pidfd = w->ifd = -1;
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = w->ifd};
    if (w->epfd < 0 || w->ifd < 0 || epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->ifd, &ev) < 0) {
        int saved = errno;
        probe_watch_close(w);
        errno = saved;
        return NULL;
    }
    add_dir(w, W_PIDFILE, pidfile, false);
    add_dir(w, W_DEVICE, device, false);
    add_dir(w, W_OUTBOX, outbox, true);
    return w;
}

int probe_watch_fd(const struct probe_watch *w) { return w->epfd; }

static bool relevant(const struct probe_watch *w, const struct inotify_event *ev)
{
    if (ev->mask & (IN_Q_OVERFLOW | IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))
        return true;
    for (int i = 0; i < W_COUNT; i++) {
        if (w->wd[i] != ev->wd)
            continue;
        if (!w->name[i][0] || (ev->len > 0 && strcmp(ev->name, w->name[i]) == 0))
            return true;
    }
    return false;
}

static void drop_pidfd(struct probe_watch *w)
{
    if (w->pidfd < 0)
        return;
    epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->pidfd, NULL);
    close(w->pidfd);
    w->pidfd = -1;
}

bool probe_watch_process(struct probe_watch *w)
{
    bool changed = false;
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (int rounds = 0; rounds < 16; rounds++) {
        ssize_t n = read(w->ifd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            changed = changed || relevant(w, ev);
            p += sizeof(*ev) + ev->len;
        }
    }
    struct epoll_event evs[2];
    int n = epoll_wait(w->epfd, evs, 2, 0);
    for (int i = 0; i < n; i++) {
        if (evs[i].data.fd == w->pidfd) {
            /* That gammu-smsd has exited: readable until we drop it. */
            drop_pidfd(w);
            w->pid = 0;
            changed = true;
        }
    }
    return changed;
}

void probe_watch_track_pid(struct probe_watch *w, long pid)
{
    if (pid == w->pid && (pid <= 0 || w->pidfd >= 0))
        return;
    drop_pidfd(w);
    w->pid = pid;
    if (pid <= 0)
        return;
    int fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
    if (fd < 0)
        return; /* gone already, or an old kernel: the periodic probe covers it */
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        close(fd);
        return;
    }
    w->pidfd = fd;
}

void probe_watch_close(struct probe_watch *w)
{
    if (!w)
        return;
    drop_pidfd(w);
    if (w->ifd >= 0)
        close(w->ifd);
    if (w->epfd >= 0)
        close(w->epfd);
    free(w);
}
