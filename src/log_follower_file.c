/* log_follower_file: follows one log file with inotify on its folder and on
 * the file itself. Two sources: `cur` is the file now at the path, `old` the one
 * logrotate renamed away, still read because gammu-smsd writes there until its
 * SIGHUP. A rotated file (renamed or deleted) is read until the file now at
 * the path has received data: a single writer has switched by then, so the
 * rotated file is read to its end and closed. No timer: gammu-smsd may stay
 * quiet for hours and still write to the renamed file (no SIGHUP yet).
 * Events are only hints: each relevant one leads to the same check (stat
 * the folder and the path, compare inodes, fstat sizes, compare the bytes last
 * read), so coalesced or lost events and queue overflows heal by themselves. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log_follower_internal.h"
#include "sms-sentinel/log.h"
#include "sms-sentinel/strbuf.h"

#define RECHECK_MS 5000   /* missing folder or file, a rotated file still open */
#define SAFETY_MS 60000   /* all watched: events tell; this only heals the unforeseen */
#define TAIL_LEN 32       /* bytes before the offset, to notice a rewrite */
#define EVENT_READS 64    /* inotify reads per call, then come back */

#define DIR_MASK                                                                                   \
    (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE | IN_MODIFY |            \
     IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
#define FILE_MASK (IN_MODIFY | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)

struct lf_source {
    int fd; /* -1 when closed */
    int wd; /* watch on the file itself, -1 when none */
    dev_t dev;
    ino_t ino;
    off_t offset;
    int eof;
    size_t tail_len;
    char tail[TAIL_LEN]; /* the bytes just before offset */
    struct line_asm la;
};

struct lf_file {
    log_line_fn fn;
    void *ctx;
    char *path;
    char *dir;
    const char *name; /* inside path */
    int ifd;
    int dir_wd;
    dev_t dir_dev;
    ino_t dir_ino;
    int dir_missing; /* logged for this absence */
    int64_t check_at_ms; /* -1 before the first process call */
    size_t budget;
    int more; /* work left over: call again at once */
    int last_err;
    struct lf_source cur;
    struct lf_source old;
    char chunk[LF_CHUNK];
};

static void source_init(struct lf_source *s)
{
    memset(s, 0, sizeof(*s));
    s->fd = -1;
    s->wd = -1;
}

static void source_close(struct lf_file *f, struct lf_source *s)
{
    if (s->wd >= 0)
        inotify_rm_watch(f->ifd, s->wd);
    if (s->fd >= 0)
        close(s->fd);
    source_init(s);
}

static void tail_push(struct lf_source *s, const char *data, size_t n)
{
    if (n >= TAIL_LEN) {
        memcpy(s->tail, data + n - TAIL_LEN, TAIL_LEN);
        s->tail_len = TAIL_LEN;
        return;
    }
    size_t keep = s->tail_len + n > TAIL_LEN ? TAIL_LEN - n : s->tail_len;
    memmove(s->tail, s->tail + s->tail_len - keep, keep);
    memcpy(s->tail + keep, data, n);
    s->tail_len = keep + n;
}

/* Starting at the end of an existing file: remember its last bytes, and when
 * it ends mid-line, drop the rest of that old line when it comes. */
static void tail_load(struct lf_source *s)
{
    size_t want = s->offset < TAIL_LEN ? (size_t)s->offset : TAIL_LEN;
    ssize_t n = pread(s->fd, s->tail, want, s->offset - (off_t)want);
    s->tail_len = n == (ssize_t)want ? want : 0;
    if (s->tail_len > 0 && s->tail[s->tail_len - 1] != '\n')
        s->la.discarding = 1;
}

/* Through /proc the watch lands on the inode we opened even if the path was
 * replaced in between; without /proc the path is the best guess. */
static int watch_open_file(struct lf_file *f, int fd)
{
    char proc[64];
    if (format_checked(proc, sizeof(proc), "/proc/self/fd/%d", fd) == 0) {
        int wd = inotify_add_watch(f->ifd, proc, FILE_MASK);
        if (wd >= 0)
            return wd;
    }
    return inotify_add_watch(f->ifd, f->path, FILE_MASK);
}

static int source_open(struct lf_file *f, struct lf_source *s, int at_end)
{
    int fd = open(f->path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return -errno;
    struct stat st;
    int rc = fstat(fd, &st) < 0 ? -errno : 0;
    if (rc == 0 && !S_ISREG(st.st_mode))
        rc = -EINVAL;
    if (rc < 0) {
        close(fd);
        return rc;
    }
    source_init(s);
    s->fd = fd;
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    if (at_end) {
        s->offset = st.st_size;
        tail_load(s);
    }
    s->wd = watch_open_file(f, fd);
    return 0;
}

/* copytruncate leaves the same inode, shorter; or, when the writer was quick,
 * already longer again with other bytes where we stopped reading. */
static int source_rewritten(const struct lf_source *s, off_t size)
{
    if (size < s->offset)
        return 1;
    if (s->tail_len == 0)
        return 0;
    char buf[TAIL_LEN];
    ssize_t n = pread(s->fd, buf, s->tail_len, s->offset - (off_t)s->tail_len);
    if (n < 0)
        return 0;
    return n != (ssize_t)s->tail_len || memcmp(buf, s->tail, s->tail_len) != 0;
}

static int source_check_truncated(struct lf_file *f, struct lf_source *s)
{
    struct stat st;
    if (fstat(s->fd, &st) < 0)
        return -errno;
    if (!source_rewritten(s, st.st_size))
        return 0;
    log_info("log file %s was truncated, reading it from the start", f->path);
    s->offset = 0;
    s->tail_len = 0;
    line_asm_reset(&s->la);
    return 0;
}

static int source_read_chunk(struct lf_file *f, struct lf_source *s)
{
    size_t want = f->budget < sizeof(f->chunk) ? f->budget : sizeof(f->chunk);
    ssize_t n = pread(s->fd, f->chunk, want, s->offset);
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    if (n == 0) {
        s->eof = 1;
        return 0;
    }
    s->offset += n;
    f->budget -= (size_t)n;
    tail_push(s, f->chunk, (size_t)n);
    line_asm_feed(&s->la, f->chunk, (size_t)n, f->fn, f->ctx);
    return 0;
}

static int source_drain(struct lf_file *f, struct lf_source *s)
{
    if (s->fd < 0)
        return 0;
    int rc = source_check_truncated(f, s);
    s->eof = 0;
    while (rc == 0 && !s->eof && f->budget > 0)
        rc = source_read_chunk(f, s);
    if (rc == 0 && !s->eof)
        f->more = 1;
    return rc;
}

/* Makes room for a newly rotated file: reads the older one out and closes it.
 * Returns 1 when the slot is free, 0 when reading must go on first. */
static int free_old_slot(struct lf_file *f)
{
    if (f->old.fd < 0)
        return 1;
    int rc = source_drain(f, &f->old);
    if (rc < 0)
        return rc;
    if (!f->old.eof)
        return 0;
    source_close(f, &f->old);
    return 1;
}

static int rotate_current(struct lf_file *f)
{
    int rc = free_old_slot(f);
    if (rc <= 0)
        return rc;
    f->old = f->cur;
    source_init(&f->cur);
    log_info("log file %s rotated", f->path);
    return 0;
}

static int open_new_current(struct lf_file *f)
{
    int rc = source_open(f, &f->cur, 0);
    if (rc == -ENOENT)
        return 0; /* gone again; its removal is an event too */
    if (rc == 0 && f->old.fd < 0)
        log_info("log file %s appeared", f->path);
    return rc;
}

static int reconcile_path(struct lf_file *f)
{
    struct stat st;
    int exists = stat(f->path, &st) == 0;
    if (!exists && errno != ENOENT && errno != ENOTDIR)
        return -errno;
    int moved = exists && (st.st_dev != f->cur.dev || st.st_ino != f->cur.ino);
    if (f->cur.fd >= 0 && (!exists || moved)) {
        int rc = rotate_current(f);
        if (rc < 0 || f->cur.fd >= 0)
            return rc;
    }
    if (exists && f->cur.fd < 0)
        return open_new_current(f);
    return 0;
}

/* Whether the writer has moved on to the file now at the path: it has data.
 * Asked before the rotated file is read to its end, so nothing written there
 * before the switch can come after that read. */
static int writer_switched(const struct lf_file *f)
{
    struct stat st;
    if (f->old.fd < 0 || f->cur.fd < 0)
        return 0;
    return f->cur.offset > 0 || (fstat(f->cur.fd, &st) == 0 && st.st_size > 0);
}

static void retire_old(struct lf_file *f, int switched)
{
    if (switched && f->old.fd >= 0 && f->old.eof)
        source_close(f, &f->old);
}

static void drop_dir_watch(struct lf_file *f)
{
    if (f->dir_wd >= 0)
        inotify_rm_watch(f->ifd, f->dir_wd);
    f->dir_wd = -1;
}

static int note_dir_missing(struct lf_file *f, int err)
{
    drop_dir_watch(f);
    if (err != ENOENT && err != ENOTDIR)
        return -err;
    if (!f->dir_missing)
        log_info("log folder %s missing, looking again every %d s", f->dir, RECHECK_MS / 1000);
    f->dir_missing = 1;
    return 0;
}

static int ensure_dir_watch(struct lf_file *f)
{
    struct stat st;
    if (stat(f->dir, &st) < 0)
        return note_dir_missing(f, errno);
    if (f->dir_wd >= 0 && st.st_dev == f->dir_dev && st.st_ino == f->dir_ino)
        return 0;
    drop_dir_watch(f);
    int wd = inotify_add_watch(f->ifd, f->dir, DIR_MASK);
    if (wd < 0)
        return note_dir_missing(f, errno);
    f->dir_wd = wd;
    f->dir_dev = st.st_dev;
    f->dir_ino = st.st_ino;
    if (f->dir_missing)
        log_info("log folder %s appeared", f->dir);
    f->dir_missing = 0;
    return 0;
}

static int refresh(struct lf_file *f)
{
    int rc = ensure_dir_watch(f);
    rc = lf_first_err(rc, reconcile_path(f));
    int switched = writer_switched(f);
    rc = lf_first_err(rc, source_drain(f, &f->old));
    retire_old(f, switched);
    return lf_first_err(rc, source_drain(f, &f->cur));
}

static void forget_wd(struct lf_file *f, int wd)
{
    if (wd == f->dir_wd)
        f->dir_wd = -1;
    if (wd == f->cur.wd)
        f->cur.wd = -1;
    if (wd == f->old.wd)
        f->old.wd = -1;
}

static int event_relevant(struct lf_file *f, const struct inotify_event *ev)
{
    int relevant = 0;
    if (ev->mask & IN_Q_OVERFLOW)
        relevant = 1;
    else if (ev->wd == f->dir_wd)
        relevant = (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED)) ||
                   (ev->len > 0 && strcmp(ev->name, f->name) == 0);
    else
        relevant = ev->wd >= 0 && (ev->wd == f->cur.wd || ev->wd == f->old.wd);
    if (ev->mask & IN_IGNORED)
        forget_wd(f, ev->wd);
    return relevant;
}

static int scan_events(struct lf_file *f, const char *buf, size_t n)
{
    int relevant = 0;
    size_t off = 0;
    while (off + sizeof(struct inotify_event) <= n) {
        const struct inotify_event *ev = (const struct inotify_event *)(const void *)(buf + off);
        relevant |= event_relevant(f, ev);
        off += sizeof(*ev) + ev->len;
    }
    return relevant;
}

/* Returns 1 when an event concerns our file, 0 when none did, or -errno. */
static int read_events(struct lf_file *f)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    int relevant = 0;
    for (int i = 0; i < EVENT_READS; i++) {
        ssize_t n = read(f->ifd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == EAGAIN ? relevant : -errno;
        relevant |= scan_events(f, buf, (size_t)n);
    }
    f->more = 1;
    return relevant;
}

static int due(const struct lf_file *f, int was_more, int64_t now_ms)
{
    return was_more || f->more || f->check_at_ms < 0 || now_ms >= f->check_at_ms;
}

int lf_file_process(struct lf_file *f, int64_t now_ms)
{
    int was_more = f->more;
    f->more = 0;
    int relevant = read_events(f);
    if (relevant == 0 && !due(f, was_more, now_ms))
        return 0;
    f->budget = LF_BUDGET;
    int rc = lf_first_err(relevant, refresh(f));
    /* inotify reports appends, truncation, rotation and overflows itself. */
    int watched = f->dir_wd >= 0 && f->cur.fd >= 0 && f->cur.wd >= 0 && f->old.fd < 0;
    f->check_at_ms = now_ms + (watched ? SAFETY_MS : RECHECK_MS);
    return lf_edge_err(&f->last_err, rc);
}

int64_t lf_file_next_timeout(const struct lf_file *f, int64_t now_ms)
{
    if (f->more || f->check_at_ms < 0)
        return 0;
    return lf_until(f->check_at_ms, now_ms);
}

int lf_file_fd(const struct lf_file *f) { return f->ifd; }

static int split_path(struct lf_file *f, const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    if (*name == '\0')
        return -EINVAL;
    f->path = strdup(path);
    if (!slash)
        f->dir = strdup(".");
    else if (slash == path)
        f->dir = strdup("/");
    else
        f->dir = strndup(path, (size_t)(slash - path));
    if (!f->path || !f->dir)
        return -ENOMEM;
    f->name = f->path + (name - path);
    return 0;
}

/* The folder watch comes first, so nothing that happens while we open the
 * file goes unseen. */
static int start(struct lf_file *f, const char *path)
{
    int rc = split_path(f, path);
    if (rc < 0)
        return rc;
    f->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (f->ifd < 0)
        return -errno;
    rc = ensure_dir_watch(f);
    if (rc < 0)
        return rc;
    rc = source_open(f, &f->cur, 1);
    return rc == -ENOENT || rc == -ENOTDIR ? 0 : rc;
}

struct lf_file *lf_file_open(const char *path, log_line_fn fn, void *ctx)
{
    struct lf_file *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->fn = fn;
    f->ctx = ctx;
    f->ifd = -1;
    f->dir_wd = -1;
    f->check_at_ms = -1;
    source_init(&f->cur);
    source_init(&f->old);
    int rc = start(f, path);
    if (rc < 0) {
        lf_file_close(f);
        errno = -rc;
        return NULL;
    }
    return f;
}

void lf_file_close(struct lf_file *f)
{
    if (!f)
        return;
    source_close(f, &f->cur);
    source_close(f, &f->old);
    if (f->ifd >= 0)
        close(f->ifd); /* takes the folder watch with it */
    free(f->path);
    free(f->dir);
    free(f);
}
