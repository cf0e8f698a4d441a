/* recovery: the seam between the health policy (which decides that a recovery
 * runs) and the backends that do it (restart gammu-smsd, USB resets). The agent
 * only talks to this interface; a backend reports its end through tick(). */
#ifndef SMS_SENTINEL_RECOVERY_H
#define SMS_SENTINEL_RECOVERY_H

#include <stdbool.h>
#include <stdint.h>

struct config;

struct recovery_request {
    const char *method;  /* "auto" (climb the ladder) or one method name */
    const char *trigger; /* "errors", "request", "cli", ... for events */
    bool smsd_hung;      /* counted TIMEOUT errors triggered it: gammu-smsd is stuck */
};

/* What the log said while a recovery runs; the backend judges its steps by it. */
enum recovery_log_event {
    RECOVERY_LOG_INIT_START,    /* "Starting phone communication..." */
    RECOVERY_LOG_COUNTED_ERROR, /* an error named in [recovery] errors */
    RECOVERY_LOG_SECURITY,      /* SECURITYERROR: stop, never retry */
};

/* One rung of the ladder ended (for <base>/event step_result). */
struct recovery_step {
    const char *method;
    bool ok;
    const char *reason;
    int64_t duration_ms;
};

struct recovery_observer {
    void (*step)(void *ctx, const struct recovery_step *step);
    void *ctx;
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
    /* An fd to poll for input while running (a child's output), or -1. */
    int (*fd)(const void *impl);
    void (*on_readable)(void *impl);
    void (*on_log)(void *impl, enum recovery_log_event ev, int64_t now_ms);
    /* A new config after SIGHUP; the backend keeps using it from then on. */
    void (*reconfigure)(void *impl, const struct config *cfg);
    bool (*running)(const void *impl);
    void (*free)(void *impl);
};

struct recovery {
    const struct recovery_ops *ops;
    void *impl;
};

/* The ladder (recovery_ladder.c): methods from cfg, gammu-smsd control, USB
 * resets. cfg must outlive the backend or be replaced through reconfigure. */
int recovery_ladder_new(struct recovery *out, const struct config *cfg, const struct recovery_observer *obs);

#endif
