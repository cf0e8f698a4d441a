/* recovery_log_only: a recovery backend that only reports. It keeps the seam
 * honest (health -> recovering -> cooldown, events, counters) before any USB
 * or gammu-smsd action exists. */
#include <stdlib.h>
#include <string.h>

#include "sms-sentinel/log.h"
#include "sms-sentinel/recovery.h"
#include "sms-sentinel/strbuf.h"

struct log_only {
    bool pending;
    int64_t started_ms;
    char method[32];
};

static int log_only_start(void *impl, const struct recovery_request *req, int64_t now_ms, char *err, size_t errsize)
{
    struct log_only *lo = impl;
    if (lo->pending) {
        format_checked(err, errsize, "a recovery is already running");
        return -1;
    }
    lo->pending = true;
    lo->started_ms = now_ms;
    if (format_checked(lo->method, sizeof(lo->method), "%s", req->method) < 0) {
        format_checked(err, errsize, "unknown method");
        lo->pending = false;
        return -1;
    }
    log_warn("recovery: would recover now (trigger %s, method %s); no recovery backend is enabled", req->trigger,
             req->method);
    return 0;
}

static int64_t log_only_deadline(const void *impl)
{
    const struct log_only *lo = impl;
    return lo->pending ? lo->started_ms : INT64_MAX;
}

static bool log_only_tick(void *impl, int64_t now_ms, struct recovery_result *out)
{
    struct log_only *lo = impl;
    if (!lo->pending)
        return false;
    lo->pending = false;
    memset(out, 0, sizeof(*out));
    out->success = false;
    memcpy(out->method, lo->method, sizeof(out->method));
    memcpy(out->result, "skipped", sizeof("skipped"));
    out->duration_ms = now_ms - lo->started_ms;
    return true;
}

static void log_only_free(void *impl) { free(impl); }

static const struct recovery_ops log_only_ops = {
    .name = "log_only",
    .start = log_only_start,
    .next_deadline_ms = log_only_deadline,
    .tick = log_only_tick,
    .free = log_only_free,
};

int recovery_log_only_new(struct recovery *out)
{
    struct log_only *lo = calloc(1, sizeof(*lo));
    if (!lo)
        return -1;
    out->ops = &log_only_ops;
    out->impl = lo;
    return 0;
}
