/* dir_watch: inotify on one folder for complete files, with a backlog scan
 * and recovery from IN_Q_OVERFLOW, deletion and re-creation of the folder. */
#include "sms-sentinel/dir_watch.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "sms-sentinel/log.h"

#define RETRY_MS 5000

struct dir_watch {
    char *path;
    dir_watch_fn fn;
    void *ctx;
    int fd;
    int wd;               /* -1 while the folder is missing */
    bool scan_pending;
    int64_t retry_at_ms;
};

static void try_add_watch(struct dir_watch *w, int64_t now_ms)
{
    w->wd = inotify_add_watch(w->fd, w->path,
                              IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR);
    if (w->wd < 0) {
        w->retry_at_ms = now_ms + RETRY_MS;
        return;
    }
    w->retry_at_ms = INT64_MAX;
    w->scan_pending = true;
}

struct dir_watch *dir_watch_open(const char *path, dir_watch_fn fn, void *ctx)
{
    struct dir_watch *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->path = strdup(path);
    w->fn = fn;
    w->ctx = ctx;
    w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (!w->path || w->fd < 0) {
        int saved = errno;
        dir_watch_close(w);
        errno = saved;
        return NULL;
    }
    w->wd = -1;
    try_add_watch(w, 0);
    if (w->wd < 0)
        log_warn("%s does not exist (yet); watching for it", path);
    return w;
}

int dir_watch_fd(const struct dir_watch *w) { return w->fd; }
const char *dir_watch_path(const struct dir_watch *w) { return w->path; }

static void scan(struct dir_watch *w)
{
    w->scan_pending = false;
    DIR *d = opendir(w->path);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (e->d_type != DT_REG && e->d_type != DT_UNKNOWN)
            continue;
        w->fn(w->ctx, e->d_name);
    }
    closedir(d);
}

static void handle_event(struct dir_watch *w, const struct inotify_event *ev, int64_t now_ms)
{
    if (ev->mask & IN_Q_OVERFLOW) {
        w->scan_pending = true;
        return;
    }
    if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) {
        if (ev->wd == w->wd) {
            inotify_rm_watch(w->fd, w->wd);
            w->wd = -1;
            w->retry_at_ms = now_ms + RETRY_MS;
            log_warn("%s went away; watching for it", w->path);
        }
        return;
    }
    if (ev->len > 0 && ev->name[0] != '.' && !(ev->mask & IN_ISDIR))
        w->fn(w->ctx, ev->name);
}

int dir_watch_process(struct dir_watch *w, int64_t now_ms)
{
    if (w->wd < 0 && now_ms >= w->retry_at_ms) {
        try_add_watch(w, now_ms);
        if (w->wd >= 0)
            log_info("%s is back", w->path);
    }
    char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (int rounds = 0; rounds < 64; rounds++) {
        ssize_t n = read(w->fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        for (char *p = buf; p < buf + n;) {
            const struct inotify_event *ev = (const struct inotify_event *)p;
            handle_event(w, ev, now_ms);
            p += sizeof(*ev) + ev->len;
        }
    }
    if (w->scan_pending && w->wd >= 0)
        scan(w);
    return 0;
}

int64_t dir_watch_next_deadline_ms(const struct dir_watch *w)
{
    if (w->scan_pending && w->wd >= 0)
        return 0;
    return w->retry_at_ms;
}

void dir_watch_rescan(struct dir_watch *w) { w->scan_pending = true; }

void dir_watch_close(struct dir_watch *w)
{
    if (!w)
        return;
    if (w->fd >= 0)
        close(w->fd);
    free(w->path);
    free(w);
}
