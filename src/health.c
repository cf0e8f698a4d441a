/* health: the state machine that decides when the modem is hung and when a
 * recovery may start (threshold within a window, cooldown, max per hour, never
 * after a SIM PIN error). Pure; see health.h for the contract. */
#include "sms-sentinel/health.h"

#include <string.h>

static const char *const state_names[HEALTH_STATE_COUNT] = {
    [HEALTH_STARTING] = "starting", [HEALTH_OK] = "ok",
    [HEALTH_DEGRADED] = "degraded", [HEALTH_RECOVERING] = "recovering",
    [HEALTH_COOLDOWN] = "cooldown", [HEALTH_FAILED] = "failed",
};

const char *health_state_str(enum health_state state) { return state_names[state]; }

int health_state_from_str(const char *name, enum health_state *out)
{
    for (int i = 0; i < HEALTH_STATE_COUNT; i++) {
        if (strcmp(state_names[i], name) == 0) {
            *out = (enum health_state)i;
            return 0;
        }
    }
    return -1;
}

static int clamp_int(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

void health_set_policy(struct health *h, const struct health_policy *policy)
{
    h->policy = *policy;
    h->policy.threshold = clamp_int(policy->threshold, 1, HEALTH_MAX_THRESHOLD);
    h->policy.max_per_hour = clamp_int(policy->max_per_hour, 1, HEALTH_MAX_RESETS_PER_HOUR);
    /* Ring sizes follow the limits; older entries beyond them no longer matter. */
    h->error_count = 0;
    h->error_next = 0;
    if (h->reset_count > h->policy.max_per_hour)
        h->reset_count = h->policy.max_per_hour;
    h->reset_next %= h->policy.max_per_hour;
}

void health_init(struct health *h, const struct health_policy *policy, int64_t now_ms)
{
    memset(h, 0, sizeof(*h));
    health_set_policy(h, policy);
    h->state = HEALTH_STARTING;
    h->since_ms = now_ms;
    h->reason = "daemon started";
    h->last_error_ms = -1;
    h->last_counted_ms = -1;
}

static struct health_transition move_to(struct health *h, enum health_state to, enum health_action action,
                                        const char *reason, int64_t now_ms)
{
    struct health_transition t = {h->state != to, h->state, to, action, reason};
    if (t.changed) {
        h->state = to;
        h->since_ms = now_ms;
        h->reason = reason;
    }
    return t;
}

static struct health_transition stay(const struct health *h)
{
    struct health_transition t = {false, h->state, h->state, HEALTH_ACTION_NONE, NULL};
    return t;
}

static void clear_errors(struct health *h)
{
    h->error_count = 0;
    h->error_next = 0;
}

int health_errors_in_window(const struct health *h, int64_t now_ms)
{
    int n = 0;
    for (int i = 0; i < h->error_count; i++)
        if (now_ms - h->error_times[i] < h->policy.window_ms)
            n++;
    return n;
}

static int resets_in_last_hour(const struct health *h, int64_t now_ms)
{
    int n = 0;
    for (int i = 0; i < h->reset_count; i++)
        if (now_ms - h->reset_times[i] < HEALTH_HOUR_MS)
            n++;
    return n;
}

static void record_reset(struct health *h, int64_t now_ms)
{
    h->reset_times[h->reset_next] = now_ms;
    h->reset_next = (h->reset_next + 1) % h->policy.max_per_hour;
    if (h->reset_count < h->policy.max_per_hour)
        h->reset_count++;
}

/* The threshold was reached: recover if allowed, else explain why not. */
static struct health_transition escalate(struct health *h, int64_t now_ms)
{
    if (!h->policy.recovery_enabled)
        return move_to(h, HEALTH_DEGRADED, HEALTH_ACTION_NONE, "error threshold reached; recovery disabled", now_ms);
    if (h->sim_locked)
        return move_to(h, HEALTH_FAILED, HEALTH_ACTION_NONE, "SIM needs PIN/PUK; not retried automatically", now_ms);
    if (resets_in_last_hour(h, now_ms) >= h->policy.max_per_hour)
        return move_to(h, HEALTH_FAILED, HEALTH_ACTION_ALERT, "max_per_hour recoveries reached", now_ms);
    record_reset(h, now_ms);
    clear_errors(h);
    return move_to(h, HEALTH_RECOVERING, HEALTH_ACTION_RECOVER, "error threshold reached", now_ms);
}

static void record_counted(struct health *h, int64_t now_ms)
{
    h->error_times[h->error_next] = now_ms;
    h->error_next = (h->error_next + 1) % h->policy.threshold;
    if (h->error_count < h->policy.threshold)
        h->error_count++;
    h->last_counted_ms = now_ms;
}

struct health_transition health_on_error(struct health *h, bool counted, bool security, int64_t now_ms)
{
    h->last_error_ms = now_ms;
    if (security) {
        h->sim_locked = true;
        if (h->state == HEALTH_RECOVERING)
            return stay(h);
        return move_to(h, HEALTH_FAILED, HEALTH_ACTION_ALERT, "SIM needs PIN/PUK (SECURITYERROR); not retried",
                       now_ms);
    }
    if (counted)
        record_counted(h, now_ms);
    switch (h->state) {
    case HEALTH_STARTING:
    case HEALTH_OK:
    case HEALTH_DEGRADED:
        if (counted && health_errors_in_window(h, now_ms) >= h->policy.threshold)
            return escalate(h, now_ms);
        return move_to(h, HEALTH_DEGRADED, HEALTH_ACTION_NONE, "gammu-smsd reported an error", now_ms);
    case HEALTH_RECOVERING:
    case HEALTH_COOLDOWN:
    case HEALTH_FAILED:
        return stay(h);
    }
    return stay(h);
}

struct health_transition health_on_fault(struct health *h, const char *reason, int64_t now_ms)
{
    switch (h->state) {
    case HEALTH_STARTING:
    case HEALTH_OK:
    case HEALTH_DEGRADED: {
        struct health_transition t = escalate(h, now_ms);
        if (t.action == HEALTH_ACTION_RECOVER)
            h->reason = t.reason = reason;
        return t;
    }
    case HEALTH_RECOVERING:
    case HEALTH_COOLDOWN:
    case HEALTH_FAILED:
        return stay(h);
    }
    return stay(h);
}

struct health_transition health_on_good_sign(struct health *h, int64_t now_ms)
{
    switch (h->state) {
    case HEALTH_STARTING:
        return move_to(h, HEALTH_OK, HEALTH_ACTION_NONE, "modem answers", now_ms);
    case HEALTH_OK:
    case HEALTH_DEGRADED:
    case HEALTH_RECOVERING:
    case HEALTH_COOLDOWN:
    case HEALTH_FAILED:
        return stay(h);
    }
    return stay(h);
}

/* After a quiet period: ok, degraded, or recover again. */
static struct health_transition settle(struct health *h, const char *reason, int64_t now_ms)
{
    int in_window = health_errors_in_window(h, now_ms);
    if (in_window >= h->policy.threshold)
        return escalate(h, now_ms);
    if (in_window > 0)
        return move_to(h, HEALTH_DEGRADED, HEALTH_ACTION_NONE, "errors continue after recovery", now_ms);
    return move_to(h, HEALTH_OK, HEALTH_ACTION_NONE, reason, now_ms);
}

static bool quiet_for(const struct health *h, int64_t span_ms, int64_t now_ms)
{
    int64_t last = h->last_error_ms > h->since_ms ? h->last_error_ms : h->since_ms;
    return now_ms - last >= span_ms;
}

struct health_transition health_on_tick(struct health *h, int64_t now_ms)
{
    switch (h->state) {
    case HEALTH_STARTING:
        if (quiet_for(h, h->policy.startup_grace_ms, now_ms))
            return move_to(h, HEALTH_OK, HEALTH_ACTION_NONE, "no errors since start", now_ms);
        return stay(h);
    case HEALTH_DEGRADED:
        if (h->last_error_ms >= 0 && now_ms - h->last_error_ms >= h->policy.window_ms)
            return move_to(h, HEALTH_OK, HEALTH_ACTION_NONE, "no errors within the window", now_ms);
        return stay(h);
    case HEALTH_COOLDOWN:
        if (now_ms >= h->cooldown_until_ms)
            return settle(h, "cooldown over, no errors", now_ms);
        return stay(h);
    case HEALTH_FAILED:
        if (!h->sim_locked && quiet_for(h, HEALTH_HOUR_MS, now_ms)) {
            clear_errors(h);
            return move_to(h, HEALTH_OK, HEALTH_ACTION_NONE, "a healthy hour", now_ms);
        }
        return stay(h);
    case HEALTH_OK:
    case HEALTH_RECOVERING:
        return stay(h);
    }
    return stay(h);
}

struct health_transition health_recovery_finished(struct health *h, bool success, int64_t now_ms)
{
    if (h->state != HEALTH_RECOVERING)
        return stay(h);
    /* Errors logged while the modem was being reset say nothing about the result. */
    clear_errors(h);
    h->cooldown_until_ms = now_ms + h->policy.cooldown_ms;
    return move_to(h, HEALTH_COOLDOWN, HEALTH_ACTION_NONE, success ? "recovery done" : "recovery did not help",
                   now_ms);
}

struct health_transition health_request_recovery(struct health *h, int64_t now_ms)
{
    if (h->state == HEALTH_RECOVERING) {
        struct health_transition t = stay(h);
        t.reason = "a recovery is already running";
        return t;
    }
    h->sim_locked = false;
    record_reset(h, now_ms);
    clear_errors(h);
    return move_to(h, HEALTH_RECOVERING, HEALTH_ACTION_RECOVER, "recovery requested", now_ms);
}

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

int64_t health_next_deadline_ms(const struct health *h)
{
    int64_t last = h->last_error_ms > h->since_ms ? h->last_error_ms : h->since_ms;
    switch (h->state) {
    case HEALTH_STARTING:
        return last + h->policy.startup_grace_ms;
    case HEALTH_DEGRADED:
        return h->last_error_ms >= 0 ? h->last_error_ms + h->policy.window_ms : INT64_MAX;
    case HEALTH_COOLDOWN:
        return h->cooldown_until_ms;
    case HEALTH_FAILED:
        return h->sim_locked ? INT64_MAX : min64(INT64_MAX, last + HEALTH_HOUR_MS);
    case HEALTH_OK:
    case HEALTH_RECOVERING:
        return INT64_MAX;
    }
    return INT64_MAX;
}
