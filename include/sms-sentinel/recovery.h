/* recovery: the seam between the health policy (which decides that a recovery
 * runs) and the backends that do it (restart gammu-smsd, USB resets). The agent
 * only talks to this interface; a backend reports its end through tick(). */
#ifndef SMS_SENTINEL_RECOVERY_H
#define SMS_SENTINEL_RECOVERY_H

#include <stdbool.h>
#include <stdint.h>

struct recovery_request {
    const char *method;  /* "auto" (climb the ladder) or one method name */
    const char *trigger; /* "errors", "request", "cli", ... for events */
};

struct recovery_result {
    bool success;
    char method[32];  /* the method that ended it */
    char result[32];  /* "recovered", "failed", "skipped" ... */
    int64_t duration_ms;
};

struct recovery_ops {
    const char *name;
    /* Starts a recovery; 0, or -1 with a reason in err (then nothing runs). */
    int (*start)(void *impl, const struct recovery_request *req, int64_t now_ms, char *err, size_t errsize);
    /* Next time tick() must run, INT64_MAX when idle. */
    int64_t (*next_deadline_ms)(const void *impl);
    /* Advances; returns true once the recovery ended, with *out filled. */
    bool (*tick)(void *impl, int64_t now_ms, struct recovery_result *out);
    void (*free)(void *impl);
};

struct recovery {
    const struct recovery_ops *ops;
    void *impl;
};

/* The placeholder backend until the real ladder lands: logs what it would do
 * and ends at once with result "skipped". */
int recovery_log_only_new(struct recovery *out);

#endif
