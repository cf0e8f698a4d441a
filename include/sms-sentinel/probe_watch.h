/* probe_watch: tells the agent at once when one of its cheap probes (pidfile,
 * modem tty, outbox depth) may have changed, so it needs no fast polling:
 * inotify on the folders of the pidfile, the tty and the outbox (names
 * filtered), and a pidfd on gammu-smsd's pid, readable once that process has
 * exited (kill -9 leaves the pidfile behind, which inotify cannot see). One
 * fd for the loop (an epoll set). Missing folders are simply not watched: the
 * agent's periodic probe still covers them. */
#ifndef SMS_SENTINEL_PROBE_WATCH_H
#define SMS_SENTINEL_PROBE_WATCH_H

#include <stdbool.h>

struct probe_watch;

/* Any path may be NULL or empty. NULL when nothing could be set up (errno). */
struct probe_watch *probe_watch_open(const char *pidfile, const char *device, const char *outbox);
int probe_watch_fd(const struct probe_watch *w);
/* Drains what is pending; true when a probe may have changed. */
bool probe_watch_process(struct probe_watch *w);
/* Watches this pid for its exit (pid <= 0: none); a no-op for the same pid. */
void probe_watch_track_pid(struct probe_watch *w, long pid);
void probe_watch_close(struct probe_watch *w);

#endif
