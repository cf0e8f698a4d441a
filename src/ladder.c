/* ladder: per step, restart_smsd = restart, verify; a USB method or the
 * user's command = stop gammu-smsd, act (pause, finish), wait for the device,
 * start gammu-smsd fresh (its own soft reset can loop on a re-enumerating
 * modem), verify. A failed step still starts gammu-smsd before climbing. */
#include "sms-sentinel/ladder.h"

#include <string.h>

static const char *const method_names[RECOVERY_METHOD_COUNT] = {
    [METHOD_RESTART_SMSD] = "restart_smsd", [METHOD_USBRESET] = "usbreset",
    [METHOD_REBIND] = "rebind",             [METHOD_AUTHORIZED] = "authorized",
    [METHOD_PORT_POWER] = "port_power",     [METHOD_COMMAND] = "command",
};

static const char *const phase_names[] = {
    [LADDER_IDLE] = "idle",           [LADDER_STOPPING] = "stopping",   [LADDER_ACTING] = "acting",
    [LADDER_PAUSING] = "pausing",     [LADDER_FINISHING] = "finishing", [LADDER_SETTLING] = "settling",
    [LADDER_STARTING] = "starting",   [LADDER_VERIFYING] = "verifying", [LADDER_DONE] = "done",
};

const char *recovery_method_str(enum recovery_method m) { return method_names[m]; }
const char *ladder_phase_str(enum ladder_phase p) { return phase_names[p]; }

int recovery_method_from_str(const char *name, enum recovery_method *out)
{
    for (int i = 0; i < RECOVERY_METHOD_COUNT; i++) {
        if (strcmp(method_names[i], name) == 0) {
            *out = (enum recovery_method)i;
            return 0;
        }
    }
    return -1;
}

static enum recovery_method current(const struct ladder *l) { return l->policy.methods[l->step]; }

static struct ladder_action act(const struct ladder *l, enum ladder_do what)
{
    struct ladder_action a = {.what = what, .method = l->step < l->policy.count ? current(l) : METHOD_RESTART_SMSD};
    return a;
}

static struct ladder_action enter(struct ladder *l, enum ladder_phase phase, enum ladder_do what, int64_t deadline)
{
    l->phase = phase;
    l->deadline_ms = deadline;
    return act(l, what);
}

static struct ladder_action begin_step(struct ladder *l, int64_t now_ms)
{
    l->step_failed = false;
    l->step_reason = NULL;
    l->saw_init = false;
    if (current(l) == METHOD_RESTART_SMSD)
        return enter(l, LADDER_STARTING, LADDER_DO_SMSD_RESTART, INT64_MAX);
    return enter(l, LADDER_STOPPING, LADDER_DO_SMSD_STOP, INT64_MAX);
}

static struct ladder_action finish(struct ladder *l, bool success, const char *reason)
{
    l->phase = LADDER_DONE;
    l->deadline_ms = INT64_MAX;
    l->success = success;
    l->final_method = current(l);
    l->final_reason = reason;
    return act(l, LADDER_DO_FINISH);
}

/* The step is judged: finish, or climb to the next method. */
static struct ladder_action end_step(struct ladder *l, bool ok, const char *reason, int64_t now_ms)
{
    enum recovery_method method = current(l);
    struct ladder_action next;
    if (ok)
        next = finish(l, true, reason);
    else if (l->single || l->step + 1 >= l->policy.count)
        next = finish(l, false, l->single ? reason : "every method failed");
    else {
        l->step++;
        next = begin_step(l, now_ms);
    }
    next.step_ended = true;
    next.step_ok = ok;
    next.step_method = method;
    next.step_reason = reason;
    return next;
}

/* A step went wrong before gammu-smsd was started again: start it, then climb. */
static struct ladder_action fail_and_start(struct ladder *l, const char *reason)
{
    l->step_failed = true;
    l->step_reason = reason;
    return enter(l, LADDER_STARTING, LADDER_DO_SMSD_START, INT64_MAX);
}

struct ladder_action ladder_start(struct ladder *l, const struct ladder_policy *policy, const enum recovery_method *only,
                                  int64_t now_ms)
{
    memset(l, 0, sizeof(*l));
    l->policy = *policy;
    if (only) {
        l->policy.methods[0] = *only;
        l->policy.count = 1;
        l->single = true;
    }
    l->started_ms = now_ms;
    if (l->policy.count <= 0) {
        l->policy.methods[0] = METHOD_RESTART_SMSD;
        l->step = 0;
        return finish(l, false, "no recovery methods configured");
    }
    return begin_step(l, now_ms);
}

static struct ladder_action after_method(struct ladder *l, int64_t now_ms)
{
    l->settle_until_ms = now_ms + l->policy.settle_ms;
    return enter(l, LADDER_SETTLING, LADDER_DO_CHECK_DEVICE, INT64_MAX);
}

struct ladder_action ladder_on_done(struct ladder *l, bool ok, const char *why, int64_t pause_ms, int64_t now_ms)
{
    switch (l->phase) {
    case LADDER_STOPPING:
        /* Even a gammu-smsd that would not die must not stop the reset. */
        return enter(l, LADDER_ACTING, LADDER_DO_METHOD_BEGIN, INT64_MAX);
    case LADDER_ACTING:
        if (!ok)
            return fail_and_start(l, why ? why : "method failed");
        if (pause_ms > 0)
            return enter(l, LADDER_PAUSING, LADDER_DO_NOTHING, now_ms + pause_ms);
        return enter(l, LADDER_FINISHING, LADDER_DO_METHOD_FINISH, INT64_MAX);
    case LADDER_FINISHING:
        if (!ok)
            return fail_and_start(l, why ? why : "method failed");
        return after_method(l, now_ms);
    case LADDER_STARTING:
        if (l->step_failed)
            return end_step(l, false, l->step_reason, now_ms);
        if (!ok)
            return end_step(l, false, why ? why : "gammu-smsd did not start", now_ms);
        return enter(l, LADDER_VERIFYING, LADDER_DO_NOTHING, now_ms + l->policy.verify_ms);
    case LADDER_IDLE:
    case LADDER_PAUSING:
    case LADDER_SETTLING:
    case LADDER_VERIFYING:
    case LADDER_DONE:
        break;
    }
    return act(l, LADDER_DO_NOTHING);
}

struct ladder_action ladder_on_device(struct ladder *l, bool ready, int64_t now_ms)
{
    if (l->phase != LADDER_SETTLING)
        return act(l, LADDER_DO_NOTHING);
    if (ready)
        return enter(l, LADDER_STARTING, LADDER_DO_SMSD_START, INT64_MAX);
    if (now_ms >= l->settle_until_ms)
        return fail_and_start(l, "the modem did not come back within settle_timeout");
    l->deadline_ms = now_ms + LADDER_DEVICE_CHECK_MS;
    return act(l, LADDER_DO_NOTHING);
}

void ladder_on_init_start(struct ladder *l)
{
    if (l->phase == LADDER_VERIFYING || l->phase == LADDER_STARTING)
        l->saw_init = true;
}

struct ladder_action ladder_on_counted_error(struct ladder *l, int64_t now_ms)
{
    if (l->phase != LADDER_VERIFYING)
        return act(l, LADDER_DO_NOTHING);
    return end_step(l, false, "errors continued after the step", now_ms);
}

struct ladder_action ladder_abort(struct ladder *l, const char *reason, int64_t now_ms)
{
    if (!ladder_running(l))
        return act(l, LADDER_DO_NOTHING);
    struct ladder_action a = finish(l, false, reason);
    a.step_ended = true;
    a.step_ok = false;
    a.step_method = current(l);
    a.step_reason = reason;
    return a;
}

struct ladder_action ladder_on_tick(struct ladder *l, int64_t now_ms)
{
    if (now_ms < l->deadline_ms)
        return act(l, LADDER_DO_NOTHING);
    switch (l->phase) {
    case LADDER_PAUSING:
        return enter(l, LADDER_FINISHING, LADDER_DO_METHOD_FINISH, INT64_MAX);
    case LADDER_SETTLING:
        l->deadline_ms = INT64_MAX;
        return act(l, LADDER_DO_CHECK_DEVICE);
    case LADDER_VERIFYING:
        if (l->saw_init)
            return end_step(l, true, "no counted error within verify_timeout", now_ms);
        return end_step(l, false, "gammu-smsd did not start talking to the modem", now_ms);
    case LADDER_IDLE:
    case LADDER_STOPPING:
    case LADDER_ACTING:
    case LADDER_FINISHING:
    case LADDER_STARTING:
    case LADDER_DONE:
        break;
    }
    return act(l, LADDER_DO_NOTHING);
}

int64_t ladder_next_deadline_ms(const struct ladder *l) { return l->deadline_ms; }

bool ladder_running(const struct ladder *l) { return l->phase != LADDER_IDLE && l->phase != LADDER_DONE; }

int64_t ladder_stop_grace_ms(bool smsd_hung) { return smsd_hung ? LADDER_HUNG_GRACE_MS : LADDER_STOP_GRACE_MS; }
