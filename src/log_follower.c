/* log_follower: the public face of the two log sources (a file followed with
 * inotify, the journal through journalctl) and the line assembly they share:
 * bounded lines, CR before LF stripped, over-long lines cut once. */
#include "sms-sentinel/log_follower.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log_follower_internal.h"

/* Room for a full line and the CR that may turn out to end it. */
#define LINE_CAP (LOG_FOLLOWER_MAX_LINE + 1)

enum lf_kind { LF_KIND_FILE, LF_KIND_JOURNAL };

struct log_follower {
    enum lf_kind kind;
    struct lf_file *file;
    struct lf_journal *journal;
};

void line_asm_reset(struct line_asm *la)
{
    la->len = 0;
    la->discarding = 0;
}

static void emit(struct line_asm *la, size_t len, int truncated, log_line_fn fn, void *ctx)
{
    la->buf[len] = '\0';
    la->len = 0;
    fn(ctx, la->buf, len, truncated);
}

static void append(struct line_asm *la, const char *data, size_t n, log_line_fn fn, void *ctx)
{
    if (la->discarding)
        return;
    size_t room = LINE_CAP - la->len;
    size_t take = n < room ? n : room;
    memcpy(la->buf + la->len, data, take);
    la->len += take;
    if (take < n) {
        /* Deliver the head now, so a huge line costs no memory and no delay. */
        emit(la, LOG_FOLLOWER_MAX_LINE, 1, fn, ctx);
        la->discarding = 1;
    }
}

static void end_line(struct line_asm *la, log_line_fn fn, void *ctx)
{
    if (la->discarding) {
        line_asm_reset(la);
        return;
    }
    size_t len = la->len;
    if (len > 0 && la->buf[len - 1] == '\r')
        len--;
    if (len > LOG_FOLLOWER_MAX_LINE)
        emit(la, LOG_FOLLOWER_MAX_LINE, 1, fn, ctx);
    else
        emit(la, len, 0, fn, ctx);
}

void line_asm_feed(struct line_asm *la, const char *data, size_t n, log_line_fn fn, void *ctx)
{
    while (n > 0) {
        const char *nl = memchr(data, '\n', n);
        size_t seg = nl ? (size_t)(nl - data) : n;
        append(la, data, seg, fn, ctx);
        if (nl) {
            end_line(la, fn, ctx);
            seg++;
        }
        data += seg;
        n -= seg;
    }
}

int64_t lf_until(int64_t deadline_ms, int64_t now_ms)
{
    return deadline_ms > now_ms ? deadline_ms - now_ms : 0;
}

int lf_edge_err(int *last_err, int rc)
{
    int prev = *last_err;
    *last_err = rc;
    return rc < 0 && rc != prev ? rc : 0;
}

int lf_first_err(int a, int b) { return a < 0 ? a : b; }

static struct log_follower *wrap(enum lf_kind kind, struct lf_file *f, struct lf_journal *j)
{
    if (!f && !j)
        return NULL;
    struct log_follower *lf = calloc(1, sizeof(*lf));
    if (!lf) {
        lf_file_close(f);
        lf_journal_close(j);
        errno = ENOMEM;
        return NULL;
    }
    lf->kind = kind;
    lf->file = f;
    lf->journal = j;
    return lf;
}

struct log_follower *log_follower_open_file(const char *path, log_line_fn fn, void *ctx)
{
    return wrap(LF_KIND_FILE, lf_file_open(path, fn, ctx), NULL);
}

struct log_follower *log_follower_open_journal(const char *ident, log_line_fn fn, void *ctx)
{
    return wrap(LF_KIND_JOURNAL, NULL, lf_journal_open(ident, fn, ctx));
}

int log_follower_fd(const struct log_follower *lf)
{
    switch (lf->kind) {
    case LF_KIND_FILE:
        return lf_file_fd(lf->file);
    case LF_KIND_JOURNAL:
        return lf_journal_fd(lf->journal);
    }
    return -1;
}

int log_follower_process(struct log_follower *lf, int64_t now_ms)
{
    switch (lf->kind) {
    case LF_KIND_FILE:
        return lf_file_process(lf->file, now_ms);
    case LF_KIND_JOURNAL:
        return lf_journal_process(lf->journal, now_ms);
    }
    return -EINVAL;
}

int64_t log_follower_next_timeout_ms(const struct log_follower *lf, int64_t now_ms)
{
    switch (lf->kind) {
    case LF_KIND_FILE:
        return lf_file_next_timeout(lf->file, now_ms);
    case LF_KIND_JOURNAL:
        return lf_journal_next_timeout(lf->journal, now_ms);
    }
    return -1;
}

void log_follower_close(struct log_follower *lf)
{
    if (!lf)
        return;
    lf_file_close(lf->file);
    lf_journal_close(lf->journal);
    free(lf);
}
