/* child: runs a program with argv (never a shell) under a time limit, collects
 * its stdout (bounded) through a non-blocking pipe the poll loop watches, and
 * reports its exit. For gammu-smsd-monitor now; start/stop commands later. */
#ifndef SMS_SENTINEL_CHILD_H
#define SMS_SENTINEL_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CHILD_MAX_OUTPUT 16384

struct child {
    pid_t pid;          /* 0 when not running */
    int out_fd;         /* stdout pipe, -1 once closed */
    int64_t deadline_ms;
    bool timed_out;
    char output[CHILD_MAX_OUTPUT + 1];
    size_t output_len;
    int status;         /* waitpid status once reaped */
};

void child_init(struct child *c);
/* Starts argv[0] (looked up in PATH) with stdin from /dev/null, stderr to ours.
 * Returns 0 or -errno. */
int child_start(struct child *c, char *const argv[], int64_t timeout_ms, int64_t now_ms);
/* Reads available output; call when out_fd is readable. */
void child_read(struct child *c);
/* Reaps the child if it exited, or kills it past the deadline (SIGKILL).
 * Returns true once the child is gone (status and output are final). */
bool child_poll(struct child *c, int64_t now_ms);
/* Kills and reaps a running child at once. */
void child_abort(struct child *c);
bool child_running(const struct child *c);

#endif
