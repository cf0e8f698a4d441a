/* health: the modem's health state machine (starting ok degraded recovering
 * cooldown failed), driven by classified log events, recovery results and time.
 * Pure: time comes in as now_ms (CLOCK_MONOTONIC), nothing is logged here; the
 * caller acts on the returned transition. One place decides when to recover. */
#ifndef SMS_SENTINEL_HEALTH_H
#define SMS_SENTINEL_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#define HEALTH_MAX_THRESHOLD 64
#define HEALTH_MAX_RESETS_PER_HOUR 60
#define HEALTH_HOUR_MS (3600 * 1000LL)

enum health_state {
    HEALTH_STARTING,
    HEALTH_OK,
    HEALTH_DEGRADED,
    HEALTH_RECOVERING,
    HEALTH_COOLDOWN,
    HEALTH_FAILED,
};
#define HEALTH_STATE_COUNT (HEALTH_FAILED + 1)

enum health_action {
    HEALTH_ACTION_NONE,
    HEALTH_ACTION_RECOVER, /* start a recovery now; report its end with health_recovery_finished */
    HEALTH_ACTION_ALERT,   /* entered failed: tell the user once */
};

struct health_policy {
    bool recovery_enabled;
    int threshold;         /* counted errors ... */
    int64_t window_ms;     /* ... within this long -> recover */
    int64_t cooldown_ms;   /* quiet time after a recovery */
    int max_per_hour;      /* recoveries started within an hour before "failed" */
    int64_t startup_grace_ms; /* starting -> ok after this long without errors */
};

struct health_transition {
    bool changed;
    enum health_state from, to;
    enum health_action action;
    const char *reason; /* static text */
};

struct health {
    struct health_policy policy;
    enum health_state state;
    int64_t since_ms;
    const char *reason;
    int64_t error_times[HEALTH_MAX_THRESHOLD]; /* ring of the last counted errors */
    int error_count;                            /* entries in the ring */
    int error_next;
    int64_t last_error_ms;                      /* any error; -1 none */
    int64_t last_counted_ms;                    /* -1 none */
    int64_t reset_times[HEALTH_MAX_RESETS_PER_HOUR];
    int reset_count;
    int reset_next;
    int64_t cooldown_until_ms;
    bool sim_locked; /* SECURITYERROR seen: no automatic recovery until a manual one */
};

void health_init(struct health *h, const struct health_policy *policy, int64_t now_ms);
/* Keeps state, error history and reset history; applies new limits. */
void health_set_policy(struct health *h, const struct health_policy *policy);

/* An error line. counted: its name is in [recovery] errors. security: SECURITYERROR. */
struct health_transition health_on_error(struct health *h, bool counted, bool security, int64_t now_ms);
/* gammu-smsd died or the modem's tty vanished: recover now if the limits allow
 * (cooldown, max_per_hour, never after a SIM PIN error). */
struct health_transition health_on_fault(struct health *h, const char *reason, int64_t now_ms);
/* A sign the modem works: a successful poll, a received or transmitted SMS. */
struct health_transition health_on_good_sign(struct health *h, int64_t now_ms);
/* Time passed; call at health_next_deadline_ms() (earlier calls are harmless). */
struct health_transition health_on_tick(struct health *h, int64_t now_ms);
/* The recovery started by HEALTH_ACTION_RECOVER (or a manual one) ended. */
struct health_transition health_recovery_finished(struct health *h, bool success, int64_t now_ms);
/* A user asked for a recovery (MQTT request, CLI). Refused (changed = false,
 * action NONE, reason set) only while one runs. Lifts "failed". */
struct health_transition health_request_recovery(struct health *h, int64_t now_ms);

/* Next time health_on_tick has work to do, or INT64_MAX. */
int64_t health_next_deadline_ms(const struct health *h);
/* Counted errors inside the window at now_ms. */
int health_errors_in_window(const struct health *h, int64_t now_ms);

const char *health_state_str(enum health_state state);
/* Parses a state name; returns -1 when unknown. */
int health_state_from_str(const char *name, enum health_state *out);

#endif
