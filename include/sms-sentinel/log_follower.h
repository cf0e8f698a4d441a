/* log_follower: tails gammu-smsd's log file with inotify, from its end, across
 * logrotate (rename + create, copytruncate, delete + re-create) and a file that
 * does not exist yet; hands out complete lines. A second source follows the
 * systemd journal (logfile = syslog) through `journalctl -f` run with argv. */
#ifndef SMS_SENTINEL_LOG_FOLLOWER_H
#define SMS_SENTINEL_LOG_FOLLOWER_H

#include <stddef.h>
#include <stdint.h>

/* Lines longer than this are cut: the first max bytes are delivered once with
 * truncated = 1, the rest of that line is dropped. */
#define LOG_FOLLOWER_MAX_LINE 4096

/* Called once per complete line, without the newline; line is NUL-terminated and
 * valid only during the call. */
typedef void (*log_line_fn)(void *ctx, const char *line, size_t len, int truncated);

struct log_follower;

/* Starts following path (a file) at its current end. Missing file and missing
 * directory are fine: it is picked up when it appears. Returns NULL with errno
 * set on failure (e.g. out of inotify instances). Owned by the caller. */
struct log_follower *log_follower_open_file(const char *path, log_line_fn fn, void *ctx);

/* Follows the journal for syslog identifier `ident` (gammu-smsd) by running
 * `journalctl -f -n 0 -o cat --no-pager --identifier IDENT` (argv, no shell;
 * journalctl is looked up in PATH, or the executable named by the environment
 * variable SMS_SENTINEL_JOURNALCTL is run instead, a seam for tests). The
 * lines then carry no timestamp prefix; the classifier accepts both forms. A
 * child that ends is restarted after 1 s, 2 s, ... up to 60 s. Returns NULL with
 * errno set when the first start fails (e.g. ENOENT: no journalctl). */
struct log_follower *log_follower_open_journal(const char *ident, log_line_fn fn, void *ctx);

/* The fd to poll for POLLIN; the same for the follower's whole life (for the
 * journal an epoll fd that holds the pipe of the current journalctl). */
int log_follower_fd(const struct log_follower *lf);

/* Reads what is available and calls fn for each complete line. Never blocks.
 * Returns 0, or -errno on an error the caller should log (following goes on);
 * a lasting error is returned once, then again only after a success. */
int log_follower_process(struct log_follower *lf, int64_t now_ms);

/* Milliseconds until the follower wants log_follower_process() called again
 * without an fd event (e.g. to re-check a replaced file, or restart journalctl),
 * or -1 for never. A file follower re-checks its file at least every 5 s. */
int64_t log_follower_next_timeout_ms(const struct log_follower *lf, int64_t now_ms);

/* Ends following; for the journal it sends SIGTERM and may block up to ~1 s
 * until journalctl is reaped (then SIGKILL). NULL is fine. fn must not call it. */
void log_follower_close(struct log_follower *lf);

#endif
