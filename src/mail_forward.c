/* mail_forward: the queue of mails for sendmail, one child at a time, its
 * stdin fed through a non-blocking pipe. Owns the spawn (child.c gives its
 * children /dev/null as stdin), the retry schedule and the counters. */
#include "sms-sentinel/mail_forward.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sms-sentinel/log.h"
#include "sms-sentinel/strbuf.h"

#define DEFAULT_TIMEOUT_MS 30000
#define DEFAULT_RETRY_FIRST_MS 60000
#define DEFAULT_RETRY_MAX_MS 3600000
#define DEFAULT_GIVE_UP_MS (24 * 3600000LL)

extern char **environ;

const char *mail_forward_outcome_str(enum mail_forward_outcome o)
{
    switch (o) {
    case MAIL_FORWARD_SENT: return "sent";
    case MAIL_FORWARD_RETRY: return "retry";
    case MAIL_FORWARD_DROPPED: return "dropped";
    }
    return "?";
}

static int64_t or_default(int64_t v, int64_t dflt) { return v > 0 ? v : dflt; }

int mail_forward_init(struct mail_forward *mf, const struct mail_forward_config *cfg)
{
    memset(mf, 0, sizeof(*mf));
    mf->active = -1;
    mf->in_fd = -1;
    if (!cfg->sendmail || cfg->sendmail[0] == '\0')
        return -EINVAL;
    if (format_checked(mf->sendmail, sizeof(mf->sendmail), "%s", cfg->sendmail) < 0)
        return -ENAMETOOLONG;
    mf->timeout_ms = or_default(cfg->timeout_ms, DEFAULT_TIMEOUT_MS);
    mf->retry_first_ms = or_default(cfg->retry_first_ms, DEFAULT_RETRY_FIRST_MS);
    mf->retry_max_ms = or_default(cfg->retry_max_ms, DEFAULT_RETRY_MAX_MS);
    mf->give_up_ms = or_default(cfg->give_up_ms, DEFAULT_GIVE_UP_MS);
    mf->max_queue = cfg->max_queue && cfg->max_queue <= MAIL_FORWARD_MAX_QUEUE
                        ? cfg->max_queue
                        : MAIL_FORWARD_MAX_QUEUE;
    return 0;
}

int mail_forward_submit(struct mail_forward *mf, char *message, size_t len, int64_t now_ms)
{
    if (mf->count >= mf->max_queue) {
        free(message);
        mf->stats.dropped++;
        return -ENOSPC;
    }
    mf->jobs[mf->count++] = (struct mail_job){
        .message = message, .len = len, .queued_ms = now_ms, .next_ms = now_ms};
    return 0;
}

int mail_forward_fd(const struct mail_forward *mf) { return mf->in_fd; }
size_t mail_forward_pending(const struct mail_forward *mf) { return mf->count; }

static void close_input(struct mail_forward *mf)
{
    if (mf->in_fd >= 0)
        close(mf->in_fd);
    mf->in_fd = -1;
}

void mail_forward_on_writable(struct mail_forward *mf)
{
    if (mf->in_fd < 0 || mf->active < 0)
        return;
    const struct mail_job *j = &mf->jobs[mf->active];
    while (mf->written < j->len) {
        ssize_t n = write(mf->in_fd, j->message + mf->written, j->len - mf->written);
        if (n > 0) {
            mf->written += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        mf->write_failed = true; /* EPIPE: sendmail is gone before reading it all */
        break;
    }
    close_input(mf); /* EOF tells sendmail -t the message is complete */
}

/* sendmail -t -i with our pipe as stdin, /dev/null as stdout, our stderr. */
static int spawn_sendmail(struct mail_forward *mf, int read_fd, pid_t *pid)
{
    char *argv[] = {mf->sendmail, "-t", "-i", NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, read_fd, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    /* The daemon blocks signals for its signalfd and ignores SIGPIPE: undo both. */
    sigset_t none, dfl;
    sigemptyset(&none);
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGPIPE);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &dfl);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    int rc = posix_spawnp(pid, argv[0], &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    return -rc;
}

/* 0, or -errno when no sendmail runs (the attempt has failed at once). */
static int start_attempt(struct mail_forward *mf, int index, int64_t now_ms)
{
    mf->active = index;
    mf->jobs[index].attempts++;
    mf->written = 0;
    mf->write_failed = false;
    mf->timed_out = false;
    mf->pid = 0;
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return -errno;
    int rc = spawn_sendmail(mf, pipefd[0], &mf->pid);
    close(pipefd[0]);
    if (rc < 0) {
        close(pipefd[1]);
        mf->pid = 0;
        return rc;
    }
    if (fcntl(pipefd[1], F_SETFL, O_NONBLOCK) < 0)
        mf->write_failed = true; /* cannot happen on a fresh pipe; never block */
    mf->in_fd = pipefd[1];
    mf->deadline_ms = now_ms + mf->timeout_ms;
    mf->reap_ms = now_ms + MAIL_FORWARD_REAP_MS;
    if (!mf->write_failed)
        mail_forward_on_writable(mf);
    else
        close_input(mf);
    return 0;
}

static int64_t backoff_ms(const struct mail_forward *mf, unsigned attempts)
{
    int64_t d = mf->retry_first_ms;
    for (unsigned i = 1; i < attempts && d < mf->retry_max_ms; i++)
        d *= 2;
    return d < mf->retry_max_ms ? d : mf->retry_max_ms;
}

static void remove_job(struct mail_forward *mf, int index)
{
    free(mf->jobs[index].message);
    size_t rest = mf->count - (size_t)index - 1;
    memmove(&mf->jobs[index], &mf->jobs[index + 1], rest * sizeof(mf->jobs[0]));
    mf->count--;
}

static void finish_sent(struct mail_forward *mf, int index, struct mail_forward_result *out)
{
    out->outcome = MAIL_FORWARD_SENT;
    out->attempts = mf->jobs[index].attempts;
    mf->stats.forwarded++;
    if (mf->failing)
        log_info("mail forward: %s works again (%zu mails queued)", mf->sendmail, mf->count - 1);
    mf->failing = false;
    remove_job(mf, index);
}

static void finish_failed(struct mail_forward *mf, int index, int64_t now_ms,
                          struct mail_forward_result *out)
{
    struct mail_job *j = &mf->jobs[index];
    out->attempts = j->attempts;
    mf->stats.failed_attempts++;
    if (now_ms - j->queued_ms >= mf->give_up_ms) {
        out->outcome = MAIL_FORWARD_DROPPED;
        mf->stats.dropped++;
        log_error("mail forward: dropping a mail after %u attempts: %s", j->attempts, out->reason);
        remove_job(mf, index);
        mf->failing = true;
        return;
    }
    int64_t next = now_ms + backoff_ms(mf, j->attempts);
    int64_t last = j->queued_ms + mf->give_up_ms;
    j->next_ms = next < last ? next : last;
    out->outcome = MAIL_FORWARD_RETRY;
    out->next_attempt_ms = j->next_ms;
    if (!mf->failing)
        log_warn("mail forward: %s failed (%s), retrying in %lld s", mf->sendmail, out->reason,
                 (long long)((j->next_ms - now_ms) / 1000));
    else
        log_debug("mail forward: attempt %u failed (%s)", j->attempts, out->reason);
    mf->failing = true;
}

static void describe_exit(const struct mail_forward *mf, int status, char *buf, size_t size)
{
    int rc;
    if (mf->timed_out)
        rc = format_checked(buf, size, "killed after %lld ms", (long long)mf->timeout_ms);
    else if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        rc = format_checked(buf, size, "exit %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        rc = format_checked(buf, size, "killed by signal %d", WTERMSIG(status));
    else if (mf->write_failed)
        rc = format_checked(buf, size, "exit 0 before reading the whole mail");
    else
        rc = format_checked(buf, size, "%s", "");
    if (rc < 0)
        buf[0] = '\0'; /* reasons are short; a cut one is still a reason */
}

/* Reaps the running sendmail; true once it is gone and *out is filled. */
static bool reap_attempt(struct mail_forward *mf, int64_t now_ms, struct mail_forward_result *out)
{
    if (now_ms >= mf->deadline_ms && !mf->timed_out) {
        kill(mf->pid, SIGKILL);
        mf->timed_out = true;
    }
    int status = 0;
    pid_t r;
    do
        r = waitpid(mf->pid, &status, mf->timed_out ? 0 : WNOHANG);
    while (r < 0 && errno == EINTR);
    if (r == 0) {
        mf->reap_ms = now_ms + MAIL_FORWARD_REAP_MS;
        return false;
    }
    close_input(mf);
    bool whole = mf->written == mf->jobs[mf->active].len && !mf->write_failed;
    if (r != mf->pid) /* ECHILD: reaped elsewhere; we cannot know it worked */
        status = 0x7f00; /* reads as exit 127 */
    bool ok = !mf->timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0 && whole;
    if (!whole)
        mf->write_failed = true;
    int index = mf->active;
    mf->active = -1;
    mf->pid = 0;
    memset(out, 0, sizeof(*out));
    describe_exit(mf, status, out->reason, sizeof(out->reason));
    if (ok)
        finish_sent(mf, index, out);
    else
        finish_failed(mf, index, now_ms, out);
    return true;
}

/* The oldest mail whose time has come, or -1. */
static int due_job(const struct mail_forward *mf, int64_t now_ms)
{
    for (size_t i = 0; i < mf->count; i++)
        if (mf->jobs[i].next_ms <= now_ms)
            return (int)i;
    return -1;
}

bool mail_forward_poll(struct mail_forward *mf, int64_t now_ms, struct mail_forward_result *out)
{
    if (mf->active >= 0)
        return reap_attempt(mf, now_ms, out);
    int index = due_job(mf, now_ms);
    if (index < 0)
        return false;
    int rc = start_attempt(mf, index, now_ms);
    if (rc == 0)
        return false;
    mf->active = -1;
    memset(out, 0, sizeof(*out));
    if (format_checked(out->reason, sizeof(out->reason), "cannot run: %s", strerror(-rc)) < 0)
        out->reason[0] = '\0';
    finish_failed(mf, index, now_ms, out);
    return true;
}

int64_t mail_forward_next_deadline_ms(const struct mail_forward *mf)
{
    if (mf->active >= 0)
        return mf->reap_ms < mf->deadline_ms ? mf->reap_ms : mf->deadline_ms;
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < mf->count; i++)
        if (mf->jobs[i].next_ms < next)
            next = mf->jobs[i].next_ms;
    return next;
}

size_t mail_forward_close(struct mail_forward *mf)
{
    close_input(mf);
    if (mf->pid > 0) {
        kill(mf->pid, SIGKILL);
        while (waitpid(mf->pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    mf->pid = 0;
    mf->active = -1;
    size_t lost = mf->count;
    for (size_t i = 0; i < mf->count; i++)
        free(mf->jobs[i].message);
    mf->count = 0;
    return lost;
}
