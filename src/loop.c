/* loop: fd registry and one poll() turn with a timeout derived from the
 * caller's nearest deadline. Callbacks may (un)watch fds while dispatching. */
#include "sms-sentinel/loop.h"

#include <errno.h>
#include <poll.h>
#include <string.h>

void loop_init(struct loop *l) { memset(l, 0, sizeof(*l)); }

static int find_watch(const struct loop *l, int fd)
{
    for (int i = 0; i < l->count; i++)
        if (l->watches[i].fd == fd)
            return i;
    return -1;
}

int loop_watch(struct loop *l, int fd, short events, loop_io_fn fn, void *ctx)
{
    int i = find_watch(l, fd);
    if (i < 0) {
        if (l->count >= LOOP_MAX_FDS)
            return -ENOSPC;
        i = l->count++;
    }
    l->watches[i] = (struct loop_watch){fd, events, fn, ctx};
    return 0;
}

void loop_unwatch(struct loop *l, int fd)
{
    int i = find_watch(l, fd);
    if (i < 0)
        return;
    l->watches[i] = l->watches[--l->count];
}

static int timeout_from_deadline(int64_t deadline_ms, int64_t now_ms)
{
    if (deadline_ms == INT64_MAX)
        return -1;
    int64_t wait = deadline_ms - now_ms;
    if (wait <= 0)
        return 0;
    return wait > 3600 * 1000 ? 3600 * 1000 : (int)wait;
}

int loop_run_once(struct loop *l, int64_t deadline_ms, int64_t now_ms)
{
    struct pollfd pfds[LOOP_MAX_FDS];
    int n = l->count;
    for (int i = 0; i < n; i++)
        pfds[i] = (struct pollfd){.fd = l->watches[i].fd, .events = l->watches[i].events};
    int ready = poll(pfds, (nfds_t)n, timeout_from_deadline(deadline_ms, now_ms));
    if (ready < 0)
        return errno == EINTR ? 0 : -errno;
    int dispatched = 0;
    for (int i = 0; i < n && ready > 0; i++) {
        if (!pfds[i].revents)
            continue;
        ready--;
        /* The set may have changed in an earlier callback of this turn. */
        int w = find_watch(l, pfds[i].fd);
        if (w < 0)
            continue;
        struct loop_watch watch = l->watches[w];
        watch.fn(watch.ctx, watch.fd, pfds[i].revents);
        dispatched++;
    }
    return dispatched;
}
