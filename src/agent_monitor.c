/* agent_monitor: reads gammu-smsd's own status (signal strength) by running
 * gammu-smsd-monitor every 5 minutes (and at start) while gammu-smsd is alive. Never
 * SMSD_GetStatus() in-process: libgsmsd calls exit() when gammu-smsd is gone. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent_internal.h"
#include "sms-sentinel/log.h"
#include "sms-sentinel/smsd_monitor.h"

/* Signal strength changes slowly; each run costs a dozen context switches
 * (spawn, exit, reap), the largest part of an idle minute: every 5 min. */
#define MONITOR_PERIOD_MS (5 * 60 * 1000)
#define MONITOR_TIMEOUT_MS 5000

static void set_signal(struct agent *a, int percent)
{
    if (percent != a->signal_percent)
        a->state_dirty = true;
    a->signal_percent = percent;
}

static void on_monitor_io(void *ctx, int fd, short revents)
{
    struct agent *a = ctx;
    child_read(&a->monitor);
    if (a->monitor.out_fd < 0)
        loop_unwatch(&a->loop, fd);
}

/* It exited: its whole output (a few hundred bytes, well within the pipe's
 * buffer) is read at once instead of waking up for each line it prints. */
static void on_monitor_exit(void *ctx, int fd, short revents)
{
    struct agent *a = ctx;
    loop_unwatch(&a->loop, fd);
    close(fd);
    a->monitor_pidfd = -1;
    child_read(&a->monitor);
    if (a->monitor.out_fd >= 0) /* a grandchild keeps the pipe open */
        loop_watch(&a->loop, a->monitor.out_fd, POLLIN, on_monitor_io, a);
}

static void finish(struct agent *a)
{
    struct child *c = &a->monitor;
    if (a->state_waits_monitor) {
        a->state_waits_monitor = false;
        a->next_state_ms = 0; /* the periodic publish, now with the fresh signal */
    }
    if (c->timed_out || c->status != 0) {
        log_debug("gammu-smsd-monitor %s", c->timed_out ? "timed out" : "failed");
        set_signal(a, -1);
        return;
    }
    struct smsd_monitor_status st;
    smsd_monitor_parse(c->output, c->output_len, &st);
    set_signal(a, st.signal_percent);
}

static void start(struct agent *a, int64_t now_ms)
{
    char *argv[] = {"gammu-smsd-monitor", "-c", a->cfg->smsd_config, "-n", "1", "-d", "0", NULL};
    int rc = child_start(&a->monitor, argv, MONITOR_TIMEOUT_MS, now_ms);
    if (rc < 0) {
        log_debug("cannot run gammu-smsd-monitor: %s", strerror(-rc));
        return;
    }
    int pidfd = (int)syscall(SYS_pidfd_open, a->monitor.pid, 0);
    if (pidfd >= 0) {
        a->monitor_pidfd = pidfd;
        loop_watch(&a->loop, pidfd, POLLIN, on_monitor_exit, a);
        return;
    }
    loop_watch(&a->loop, a->monitor.out_fd, POLLIN, on_monitor_io, a);
}

void agent_run_monitor(struct agent *a, int64_t now_ms)
{
    if (child_running(&a->monitor)) {
        bool gone = child_poll(&a->monitor, now_ms);
        if (gone)
            finish(a);
        return;
    }
    if (now_ms < a->next_monitor_ms)
        return;
    a->next_monitor_ms = now_ms + MONITOR_PERIOD_MS;
    /* Its shared memory keeps the last values after gammu-smsd died. */
    if (a->smsd_running != TRI_YES || !a->cfg->smsd_config) {
        set_signal(a, -1);
        return;
    }
    start(a, now_ms);
}

int64_t agent_monitor_deadline_ms(const struct agent *a)
{
    if (!child_running(&a->monitor))
        return a->next_monitor_ms;
    /* Output closed: it is exiting, reap it on the next turn. */
    return a->monitor.out_fd < 0 ? 0 : a->monitor.deadline_ms;
}
