/* mail_forward: hands built messages (mail_message) to `<sendmail> -t -i`, one
 * at a time, without blocking the poll loop. A bounded queue holds the mails
 * not yet accepted; a failed attempt (spawn error, exit status != 0, killed at
 * the timeout, stdin closed early) is retried with exponential backoff
 * (retry_first_ms, doubling, at most retry_max_ms) until give_up_ms after the
 * mail was queued, then the mail is dropped with an error log.
 *
 * Driving it from the loop, every turn:
 *   fd = mail_forward_fd(mf): when >= 0, watch it for POLLOUT and call
 *        mail_forward_on_writable() when ready. It changes per attempt and is
 *        closed by this module: re-read it every turn, unwatch the old one.
 *   while (mail_forward_poll(mf, now_ms, &r)) { publish stats / r }
 *   wake no later than mail_forward_next_deadline_ms(mf).
 * While sendmail runs, the deadline is at most MAIL_FORWARD_REAP_MS away: the
 * child is reaped by waitpid(pid, WNOHANG), no SIGCHLD needed. SIGPIPE must be
 * ignored or blocked in the daemon (a sendmail that exits early is EPIPE).
 *
 * Logging: the first failure while sendmail was working is a warning, the
 * recovery an info, each dropped mail an error; retries in between are debug. */
#ifndef SMS_SENTINEL_MAIL_FORWARD_H
#define SMS_SENTINEL_MAIL_FORWARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MAIL_FORWARD_MAX_QUEUE 100
#define MAIL_FORWARD_PATH_MAX 256
#define MAIL_FORWARD_REAP_MS 100

struct mail_forward_config {
    const char *sendmail;   /* program path ([sms] sendmail); copied */
    int64_t timeout_ms;     /* per attempt; 0 = 30 s */
    int64_t retry_first_ms; /* 0 = 1 min */
    int64_t retry_max_ms;   /* 0 = 1 h */
    int64_t give_up_ms;     /* 0 = 24 h */
    size_t max_queue;       /* 0 or more than MAIL_FORWARD_MAX_QUEUE = the maximum */
};

struct mail_forward_stats {
    uint64_t forwarded;       /* sendmail exited 0 after reading the whole mail */
    uint64_t failed_attempts; /* each failed attempt, retried or not */
    uint64_t dropped;         /* given up after give_up_ms, or refused: queue full */
};

enum mail_forward_outcome {
    MAIL_FORWARD_SENT,
    MAIL_FORWARD_RETRY,   /* failed; tried again at next_attempt_ms */
    MAIL_FORWARD_DROPPED, /* failed for the last time */
};

struct mail_forward_result {
    enum mail_forward_outcome outcome;
    unsigned attempts;       /* attempts of this mail so far, this one included */
    int64_t next_attempt_ms; /* RETRY only */
    char reason[128];        /* "exit 75", "killed after 30000 ms", ...; "" when sent */
};

struct mail_job {
    char *message; /* owned: malloc'd by mail_message_build */
    size_t len;
    int64_t queued_ms;
    int64_t next_ms;
    unsigned attempts;
};

struct mail_forward {
    char sendmail[MAIL_FORWARD_PATH_MAX];
    int64_t timeout_ms, retry_first_ms, retry_max_ms, give_up_ms;
    size_t max_queue;
    struct mail_job jobs[MAIL_FORWARD_MAX_QUEUE]; /* FIFO, jobs[0] oldest */
    size_t count;
    /* The attempt in flight, if any. */
    int active;      /* index into jobs, -1 when idle */
    pid_t pid;
    int in_fd;       /* sendmail's stdin, non-blocking; -1 once all written or failed */
    size_t written;
    bool write_failed;
    bool timed_out;
    int64_t deadline_ms;
    int64_t reap_ms;
    bool failing;    /* the last attempt failed: edge for the warning/info logs */
    struct mail_forward_stats stats;
};

const char *mail_forward_outcome_str(enum mail_forward_outcome o);

/* Returns 0, or -ENAMETOOLONG / -EINVAL for a bad sendmail path. No I/O. */
int mail_forward_init(struct mail_forward *mf, const struct mail_forward_config *cfg);
/* Queues a message; takes ownership of message (malloc'd) in every case: on
 * -ENOSPC (queue full) it is freed at once and counted as dropped, and the
 * caller logs. Nothing is spawned before the next mail_forward_poll(). */
int mail_forward_submit(struct mail_forward *mf, char *message, size_t len, int64_t now_ms);
/* sendmail's stdin while there is message left to write, else -1. */
int mail_forward_fd(const struct mail_forward *mf);
/* Writes what the pipe takes; closes it when the message is all written or the
 * reader is gone. Never blocks. */
void mail_forward_on_writable(struct mail_forward *mf);
/* Starts a due attempt, reaps the running one, kills it past its timeout.
 * Returns true and fills *out when an attempt ended (call again: another may
 * end or start at once). Never blocks, except waitpid right after SIGKILL. */
bool mail_forward_poll(struct mail_forward *mf, int64_t now_ms, struct mail_forward_result *out);
/* Monotonic ms to wake at; INT64_MAX when nothing is queued. */
int64_t mail_forward_next_deadline_ms(const struct mail_forward *mf);
size_t mail_forward_pending(const struct mail_forward *mf);
/* Kills a running sendmail (SIGKILL, reaped) and frees every queued mail;
 * returns how many were still queued (lost; not counted as dropped). */
size_t mail_forward_close(struct mail_forward *mf);

#endif
