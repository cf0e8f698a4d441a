/* loop: the one poll() loop. Callers register fds with a callback; each turn
 * waits until an fd is ready or the caller's nearest monotonic deadline. */
#ifndef SMS_SENTINEL_LOOP_H
#define SMS_SENTINEL_LOOP_H

#include <stdint.h>

#define LOOP_MAX_FDS 32

typedef void (*loop_io_fn)(void *ctx, int fd, short revents);

struct loop_watch {
    int fd;
    short events;
    loop_io_fn fn;
    void *ctx;
};

struct loop {
    int count;
    struct loop_watch watches[LOOP_MAX_FDS];
};

void loop_init(struct loop *l);
/* Adds fd, or changes its events/callback when already watched. 0 or -ENOSPC. */
int loop_watch(struct loop *l, int fd, short events, loop_io_fn fn, void *ctx);
void loop_unwatch(struct loop *l, int fd);

/* Waits until deadline_ms (CLOCK_MONOTONIC; INT64_MAX = no deadline) or an fd
 * event, then calls the callbacks of ready fds. Returns the number of fds
 * dispatched, or -errno (EINTR is returned as 0). */
int loop_run_once(struct loop *l, int64_t deadline_ms, int64_t now_ms);

#endif
