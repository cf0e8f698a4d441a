/* log_follower_internal: what the front (log_follower.c: line assembly, the
 * public entry points) shares with its two sources, log_follower_file.c
 * (inotify) and log_follower_journal.c (journalctl child). Not installed. */
#ifndef SMS_SENTINEL_LOG_FOLLOWER_INTERNAL_H
#define SMS_SENTINEL_LOG_FOLLOWER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "sms-sentinel/log_follower.h"

/* One read() / pread() at most this much; one process call at most LF_BUDGET
 * bytes in all, then it asks to be called again at once (timeout 0). */
#define LF_CHUNK (64 * 1024)
#define LF_BUDGET (1024 * 1024)

/* Cuts a byte stream into lines. Holds at most one line plus a CR that may
 * belong to the line end, so memory stays bounded whatever the input. */
struct line_asm {
    size_t len;
    int discarding; /* inside an over-long line, dropping up to its newline */
    char buf[LOG_FOLLOWER_MAX_LINE + 2];
};

void line_asm_reset(struct line_asm *la);
/* Calls fn for each line completed by data; keeps the unfinished rest. */
void line_asm_feed(struct line_asm *la, const char *data, size_t n, log_line_fn fn, void *ctx);

/* Milliseconds from now_ms to deadline_ms, 0 when it has passed. */
int64_t lf_until(int64_t deadline_ms, int64_t now_ms);
/* Returns rc when it is a new error (not the one returned last time), else 0;
 * so the caller logs a persistent failure once, and again after a success. */
int lf_edge_err(int *last_err, int rc);
/* The first error of two steps that both run anyway. */
int lf_first_err(int a, int b);

struct lf_file;
struct lf_file *lf_file_open(const char *path, log_line_fn fn, void *ctx);
int lf_file_fd(const struct lf_file *f);
int lf_file_process(struct lf_file *f, int64_t now_ms);
int64_t lf_file_next_timeout(const struct lf_file *f, int64_t now_ms);
void lf_file_close(struct lf_file *f);

struct lf_journal;
struct lf_journal *lf_journal_open(const char *ident, log_line_fn fn, void *ctx);
int lf_journal_fd(const struct lf_journal *j);
int lf_journal_process(struct lf_journal *j, int64_t now_ms);
int64_t lf_journal_next_timeout(const struct lf_journal *j, int64_t now_ms);
void lf_journal_close(struct lf_journal *j);

#endif
