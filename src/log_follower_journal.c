/* log_follower_journal: follows the journal through a `journalctl -f` child
 * (posix_spawn, argv, no shell) and its stdout pipe. The pipe changes with each
 * restart, so the caller polls an epoll fd that holds it: one fd for life. A
 * child that ends is reaped and started again after a growing pause. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log_follower_internal.h"
#include "sms-sentinel/log.h"
#include "sms-sentinel/strbuf.h"

#define JOURNALCTL_ENV "SMS_SENTINEL_JOURNALCTL"
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 60000
#define REAP_POLL_MS 50     /* pipe closed, child not reaped yet */
#define KILL_AFTER_MS 2000  /* SIGTERM sent this long ago: SIGKILL */
#define CLOSE_WAIT_STEPS 100 /* x 10 ms for the child to exit in close() */

struct lf_journal {
    log_line_fn fn;
    void *ctx;
    char *ident;
    char *program; /* from JOURNALCTL_ENV, or NULL for a PATH lookup */
    int epfd;
    int pipe_fd;          /* -1 when closed */
    pid_t pid;            /* 0 when there is no child to reap */
    int64_t started_ms;   /* -1 until the first process call after a spawn */
    int64_t term_at_ms;   /* -1 until SIGTERM was sent to a silent child */
    int64_t restart_at_ms; /* -1 when no restart is scheduled */
    int64_t backoff_ms;
    int64_t now_ms;
    int status; /* of the last child, -1 when unknown */
    int failing; /* the end of the child was logged */
    int more;
    int last_err;
    struct line_asm la;
    char chunk[LF_CHUNK];
};

static int child_attrs(posix_spawn_file_actions_t *fa, posix_spawnattr_t *attr, int out_fd)
{
    /* The daemon may block signals for a signalfd; the child must not inherit
     * that, or SIGTERM from close() would not reach it. */
    sigset_t none, dfl;
    sigemptyset(&none);
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGTERM);
    sigaddset(&dfl, SIGINT);
    sigaddset(&dfl, SIGHUP);
    sigaddset(&dfl, SIGPIPE);
    int rc = posix_spawn_file_actions_adddup2(fa, out_fd, STDOUT_FILENO);
    if (rc == 0)
        rc = posix_spawn_file_actions_addopen(fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    if (rc == 0)
        rc = posix_spawnattr_setsigmask(attr, &none);
    if (rc == 0)
        rc = posix_spawnattr_setsigdefault(attr, &dfl);
    if (rc == 0)
        rc = posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    return -rc;
}

static int run_child(struct lf_journal *j, const posix_spawn_file_actions_t *fa,
                     const posix_spawnattr_t *attr)
{
    char *argv[] = {"journalctl", "-f", "-n", "0", "-o", "cat", "--no-pager",
                    "--identifier", j->ident, NULL};
    pid_t pid;
    int rc = j->program ? posix_spawn(&pid, j->program, fa, attr, argv, environ)
                        : posix_spawnp(&pid, "journalctl", fa, attr, argv, environ);
    if (rc != 0)
        return -rc;
    j->pid = pid;
    return 0;
}

static int start_child(struct lf_journal *j, int out_fd)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int rc = posix_spawn_file_actions_init(&fa);
    if (rc != 0)
        return -rc;
    rc = posix_spawnattr_init(&attr);
    if (rc != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return -rc;
    }
    rc = child_attrs(&fa, &attr, out_fd);
    if (rc == 0)
        rc = run_child(j, &fa, &attr);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    return rc;
}

/* Only our end is non-blocking: the child writes to a blocking stdout. */
static int prepare_reader(struct lf_journal *j, int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return -errno;
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    if (epoll_ctl(j->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        return -errno;
    return 0;
}

static int spawn_journalctl(struct lf_journal *j)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -errno;
    int rc = prepare_reader(j, fds[0]);
    if (rc == 0)
        rc = start_child(j, fds[1]);
    close(fds[1]);
    if (rc < 0) {
        close(fds[0]); /* also leaves the epoll set */
        return rc;
    }
    j->pipe_fd = fds[0];
    j->started_ms = -1;
    j->term_at_ms = -1;
    line_asm_reset(&j->la);
    return 0;
}

static void close_pipe(struct lf_journal *j)
{
    if (j->pipe_fd >= 0)
        close(j->pipe_fd);
    j->pipe_fd = -1;
}

static void note_output(struct lf_journal *j)
{
    if (j->failing)
        log_info("journalctl for %s is running again", j->ident);
    j->failing = 0;
}

static int pipe_drain(struct lf_journal *j)
{
    size_t budget = LF_BUDGET;
    while (budget > 0) {
        size_t want = budget < sizeof(j->chunk) ? budget : sizeof(j->chunk);
        ssize_t n = read(j->pipe_fd, j->chunk, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return 0;
        if (n <= 0) {
            int rc = n < 0 ? -errno : 0;
            close_pipe(j);
            return rc;
        }
        budget -= (size_t)n;
        note_output(j);
        line_asm_feed(&j->la, j->chunk, (size_t)n, j->fn, j->ctx);
    }
    j->more = 1;
    return 0;
}

/* A child that closed its stdout is of no use: ask it to go, then insist. */
static void hurry_child(struct lf_journal *j)
{
    if (j->pipe_fd >= 0)
        return;
    if (j->term_at_ms < 0) {
        kill(j->pid, SIGTERM);
        j->term_at_ms = j->now_ms;
    } else if (j->now_ms - j->term_at_ms >= KILL_AFTER_MS) {
        kill(j->pid, SIGKILL);
    }
}

static int check_child(struct lf_journal *j)
{
    int status;
    pid_t r = waitpid(j->pid, &status, WNOHANG);
    if (r == 0) {
        hurry_child(j);
        return 0;
    }
    /* ECHILD: someone reaped it for us (SIGCHLD ignored); it is gone all the same. */
    int rc = r < 0 && errno != ECHILD ? -errno : 0;
    j->status = r > 0 ? status : -1;
    j->pid = 0;
    if (!j->more)
        close_pipe(j);
    return rc;
}

static void describe_status(int status, char *buf, size_t size)
{
    int rc;
    if (status >= 0 && WIFEXITED(status))
        rc = format_checked(buf, size, "exit status %d", WEXITSTATUS(status));
    else if (status >= 0 && WIFSIGNALED(status))
        rc = format_checked(buf, size, "signal %d", WTERMSIG(status));
    else
        rc = format_checked(buf, size, "unknown status");
    if (rc < 0 && size > 0)
        buf[0] = '\0';
}

static void schedule_restart(struct lf_journal *j)
{
    int64_t ran = j->started_ms >= 0 ? j->now_ms - j->started_ms : 0;
    if (ran >= BACKOFF_MAX_MS)
        j->backoff_ms = BACKOFF_MIN_MS;
    j->restart_at_ms = j->now_ms + j->backoff_ms;
    if (!j->failing) {
        char how[64];
        describe_status(j->status, how, sizeof(how));
        log_warn("journalctl for %s ended (%s), restarting in %lld s", j->ident, how,
                 (long long)(j->backoff_ms / 1000));
    }
    j->failing = 1;
    j->backoff_ms = j->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : j->backoff_ms * 2;
}

/* A failed spawn leaves no child and no pipe, so the next call schedules the
 * next attempt with a longer pause. */
static int restart_or_schedule(struct lf_journal *j)
{
    if (j->restart_at_ms < 0) {
        schedule_restart(j);
        return 0;
    }
    if (j->now_ms < j->restart_at_ms)
        return 0;
    j->restart_at_ms = -1;
    j->status = -1;
    int rc = spawn_journalctl(j);
    if (rc == 0)
        j->started_ms = j->now_ms;
    return rc;
}

int lf_journal_process(struct lf_journal *j, int64_t now_ms)
{
    j->now_ms = now_ms;
    j->more = 0;
    if (j->pid > 0 && j->started_ms < 0)
        j->started_ms = now_ms;
    int rc = 0;
    if (j->pipe_fd >= 0)
        rc = pipe_drain(j);
    if (j->pid > 0)
        rc = lf_first_err(rc, check_child(j));
    if (j->pid == 0 && j->pipe_fd < 0)
        rc = lf_first_err(rc, restart_or_schedule(j));
    return lf_edge_err(&j->last_err, rc);
}

int64_t lf_journal_next_timeout(const struct lf_journal *j, int64_t now_ms)
{
    if (j->more)
        return 0;
    if (j->pid > 0 && j->pipe_fd < 0)
        return REAP_POLL_MS;
    if (j->pid == 0 && j->pipe_fd < 0)
        return j->restart_at_ms < 0 ? 0 : lf_until(j->restart_at_ms, now_ms);
    return -1;
}

int lf_journal_fd(const struct lf_journal *j) { return j->epfd; }

static int start(struct lf_journal *j, const char *ident)
{
    if (!ident || !*ident)
        return -EINVAL;
    j->ident = strdup(ident);
    const char *program = getenv(JOURNALCTL_ENV);
    if (program && *program)
        j->program = strdup(program);
    if (!j->ident || (program && *program && !j->program))
        return -ENOMEM;
    j->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (j->epfd < 0)
        return -errno;
    return spawn_journalctl(j);
}

struct lf_journal *lf_journal_open(const char *ident, log_line_fn fn, void *ctx)
{
    struct lf_journal *j = calloc(1, sizeof(*j));
    if (!j)
        return NULL;
    j->fn = fn;
    j->ctx = ctx;
    j->epfd = -1;
    j->pipe_fd = -1;
    j->started_ms = -1;
    j->term_at_ms = -1;
    j->restart_at_ms = -1;
    j->backoff_ms = BACKOFF_MIN_MS;
    j->status = -1;
    int rc = start(j, ident);
    if (rc < 0) {
        lf_journal_close(j);
        errno = -rc;
        return NULL;
    }
    return j;
}

/* Only at shutdown: waits up to ~1 s for journalctl to leave after SIGTERM,
 * then kills it, so no zombie and no orphan stays behind. */
static void stop_child(pid_t pid)
{
    kill(pid, SIGTERM);
    for (int i = 0; i < CLOSE_WAIT_STEPS; i++) {
        if (waitpid(pid, NULL, WNOHANG) != 0)
            return;
        struct timespec step = {.tv_sec = 0, .tv_nsec = 10 * 1000 * 1000};
        nanosleep(&step, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

void lf_journal_close(struct lf_journal *j)
{
    if (!j)
        return;
    close_pipe(j);
    if (j->pid > 0)
        stop_child(j->pid);
    if (j->epfd >= 0)
        close(j->epfd);
    free(j->ident);
    free(j->program);
    free(j);
}
