/* dir_watch: reports files that appear complete in a folder (gammu-smsd's
 * inbox and sent folders): an initial scan for a backlog, then inotify
 * IN_CLOSE_WRITE and IN_MOVED_TO (never IN_CREATE: the file may be half
 * written). A missing folder is retried until it exists. */
#ifndef SMS_SENTINEL_DIR_WATCH_H
#define SMS_SENTINEL_DIR_WATCH_H

#include <stdint.h>

/* Called with a file name (no folder part); valid only during the call. */
typedef void (*dir_watch_fn)(void *ctx, const char *name);

struct dir_watch;

/* Starts watching path; the backlog is reported on the first
 * dir_watch_process() call. NULL with errno on failure (the path is copied). */
struct dir_watch *dir_watch_open(const char *path, dir_watch_fn fn, void *ctx);
int dir_watch_fd(const struct dir_watch *w);
/* Reads events (never blocks) and calls fn; rescans after an overflow or when
 * the folder came back. Returns 0 or -errno. */
int dir_watch_process(struct dir_watch *w, int64_t now_ms);
/* INT64_MAX, or when a missing folder is looked for again. */
int64_t dir_watch_next_deadline_ms(const struct dir_watch *w);
/* Asks for a full scan on the next process call (deadline 0): for a caller
 * that had to leave files aside and now has room for them. */
void dir_watch_rescan(struct dir_watch *w);
const char *dir_watch_path(const struct dir_watch *w);
void dir_watch_close(struct dir_watch *w);

#endif
