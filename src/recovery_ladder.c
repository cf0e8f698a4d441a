/* recovery_ladder: runs the ladder's actions: gammu-smsd control through
 * smsd_control, USB resets through usb_reset (the device re-resolved under
 * sysfs_root before every step), the user's command through child, and the
 * device checks while the modem settles. Implements struct recovery_ops. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sms-sentinel/child.h"
#include "sms-sentinel/config.h"
#include "sms-sentinel/ladder.h"
#include "sms-sentinel/log.h"
#include "sms-sentinel/recovery.h"
#include "sms-sentinel/smsd_control.h"
#include "sms-sentinel/strbuf.h"
#include "sms-sentinel/system_probe.h"
#include "sms-sentinel/usb_device.h"
#include "sms-sentinel/usb_reset.h"

#define COMMAND_TIMEOUT_MS 60000

struct recovery_ladder {
    const struct config *cfg;
    struct recovery_observer obs;
    struct ladder ladder;
    struct smsd_control *smsd;
    struct child command;
    struct usb_device_ref dev;
    enum ladder_do waiting; /* the async action in flight, LADDER_DO_NOTHING none */
    int64_t started_ms;
    int64_t step_started_ms;
    bool finished;
    char reason[256]; /* last failure text, owned here */
};

static struct smsd_control *new_smsd_control(const struct config *cfg)
{
    struct smsd_control_options o = {
        .start_command = &cfg->start_command,
        .stop_command = &cfg->stop_command,
        .restart_command = &cfg->restart_command,
        .pidfile = cfg->pidfile,
        .stop_grace_ms = LADDER_STOP_GRACE_MS,
        .command_timeout_ms = COMMAND_TIMEOUT_MS,
    };
    return smsd_control_new(&o);
}

static bool is_usb_method(enum recovery_method m)
{
    switch (m) {
    case METHOD_USBRESET:
    case METHOD_REBIND:
    case METHOD_AUTHORIZED:
    case METHOD_PORT_POWER:
        return true;
    case METHOD_RESTART_SMSD:
    case METHOD_COMMAND:
        return false;
    }
    return false;
}

static enum usb_method usb_method_of(enum recovery_method m)
{
    switch (m) {
    case METHOD_REBIND: return USB_METHOD_REBIND;
    case METHOD_AUTHORIZED: return USB_METHOD_AUTHORIZED;
    case METHOD_PORT_POWER: return USB_METHOD_PORT_POWER;
    case METHOD_USBRESET:
    case METHOD_RESTART_SMSD:
    case METHOD_COMMAND:
        break;
    }
    return USB_METHOD_USBRESET;
}

static void report_step(struct recovery_ladder *r, const struct ladder_action *a, int64_t now_ms)
{
    if (!a->step_ended)
        return;
    struct recovery_step st = {
        .method = recovery_method_str(a->step_method),
        .ok = a->step_ok,
        .reason = a->step_reason ? a->step_reason : "",
        .duration_ms = now_ms - r->step_started_ms,
    };
    log_info("recovery: step %s %s (%s)", st.method, st.ok ? "worked" : "failed", st.reason);
    if (r->obs.step)
        r->obs.step(r->obs.ctx, &st);
    r->step_started_ms = now_ms;
}

/* Resolves the device afresh (numbers change after every reset). */
static int resolve_device(struct recovery_ladder *r)
{
    struct usb_spec spec;
    if (usb_spec_parse(r->cfg->usb_device, &spec, r->reason, sizeof(r->reason)) < 0)
        return -1;
    return usb_resolve(r->cfg->sysfs_root, &spec, r->cfg->device, &r->dev, r->reason, sizeof(r->reason)) < 0 ? -1 : 0;
}

static struct ladder_action method_begin(struct recovery_ladder *r, enum recovery_method m, int64_t now_ms)
{
    if (m == METHOD_COMMAND) {
        if (r->cfg->recovery_command.argc == 0)
            return ladder_on_done(&r->ladder, false, "no [recovery] command configured", 0, now_ms);
        int rc = child_start(&r->command, r->cfg->recovery_command.argv, COMMAND_TIMEOUT_MS, now_ms);
        if (rc < 0) {
            format_checked(r->reason, sizeof(r->reason), "cannot run %s: %s", r->cfg->recovery_command.argv[0],
                           strerror(-rc));
            return ladder_on_done(&r->ladder, false, r->reason, 0, now_ms);
        }
        r->waiting = LADDER_DO_METHOD_BEGIN;
        struct ladder_action none = {.what = LADDER_DO_NOTHING};
        return none;
    }
    if (resolve_device(r) < 0)
        return ladder_on_done(&r->ladder, false, r->reason, 0, now_ms);
    int64_t pause_ms = 0;
    log_info("recovery: %s on USB device %s (%04x:%04x)", recovery_method_str(m), r->dev.port, r->dev.vid,
             r->dev.pid);
    if (usb_reset_begin(usb_method_of(m), r->cfg->sysfs_root, &r->dev, &pause_ms, r->reason, sizeof(r->reason)) < 0)
        return ladder_on_done(&r->ladder, false, r->reason, 0, now_ms);
    return ladder_on_done(&r->ladder, true, NULL, pause_ms, now_ms);
}

static struct ladder_action method_finish(struct recovery_ladder *r, enum recovery_method m, int64_t now_ms)
{
    if (!is_usb_method(m))
        return ladder_on_done(&r->ladder, true, NULL, 0, now_ms);
    if (usb_reset_finish(usb_method_of(m), r->cfg->sysfs_root, &r->dev, r->reason, sizeof(r->reason)) < 0)
        return ladder_on_done(&r->ladder, false, r->reason, 0, now_ms);
    return ladder_on_done(&r->ladder, true, NULL, 0, now_ms);
}

static bool device_ready(struct recovery_ladder *r, enum recovery_method m)
{
    if (is_usb_method(m)) {
        char tty[64];
        if (!usb_device_ready(r->cfg->sysfs_root, &r->dev, tty, sizeof(tty)))
            return false;
    }
    return probe_device_present(r->cfg->device) != TRI_NO;
}

static struct ladder_action smsd_op(struct recovery_ladder *r, enum smsd_op op, enum ladder_do what, int64_t now_ms)
{
    if (smsd_control_begin(r->smsd, op, now_ms, r->reason, sizeof(r->reason)) < 0)
        return ladder_on_done(&r->ladder, false, r->reason, 0, now_ms);
    r->waiting = what;
    struct ladder_action none = {.what = LADDER_DO_NOTHING};
    return none;
}

/* Performs actions until one has to wait (for a child, a timer or the log). */
static void drive(struct recovery_ladder *r, struct ladder_action a, int64_t now_ms)
{
    for (;;) {
        report_step(r, &a, now_ms);
        switch (a.what) {
        case LADDER_DO_NOTHING:
            return;
        case LADDER_DO_SMSD_STOP:
            a = smsd_op(r, SMSD_OP_STOP, a.what, now_ms);
            break;
        case LADDER_DO_SMSD_START:
            a = smsd_op(r, SMSD_OP_START, a.what, now_ms);
            break;
        case LADDER_DO_SMSD_RESTART:
            a = smsd_op(r, SMSD_OP_RESTART, a.what, now_ms);
            break;
        case LADDER_DO_METHOD_BEGIN:
            a = method_begin(r, a.method, now_ms);
            break;
        case LADDER_DO_METHOD_FINISH:
            a = method_finish(r, a.method, now_ms);
            break;
        case LADDER_DO_CHECK_DEVICE:
            a = ladder_on_device(&r->ladder, device_ready(r, a.method), now_ms);
            break;
        case LADDER_DO_FINISH:
            r->finished = true;
            return;
        }
    }
}

static int ladder_start_op(void *impl, const struct recovery_request *req, int64_t now_ms, char *err, size_t errsize)
{
    struct recovery_ladder *r = impl;
    if (ladder_running(&r->ladder) || r->finished) {
        format_checked(err, errsize, "a recovery is already running");
        return -1;
    }
    struct ladder_policy p = {.settle_ms = (int64_t)r->cfg->settle_timeout_s * 1000,
                              .verify_ms = (int64_t)r->cfg->verify_timeout_s * 1000};
    for (int i = 0; i < r->cfg->methods.count && p.count < LADDER_MAX_STEPS; i++)
        if (recovery_method_from_str(r->cfg->methods.items[i], &p.methods[p.count]) == 0)
            p.count++;
    enum recovery_method only;
    bool single = strcmp(req->method, "auto") != 0;
    if (single && recovery_method_from_str(req->method, &only) < 0) {
        format_checked(err, errsize, "unknown method '%s'", req->method);
        return -1;
    }
    smsd_control_set_stop_grace(r->smsd, ladder_stop_grace_ms(req->smsd_hung));
    r->started_ms = r->step_started_ms = now_ms;
    r->finished = false;
    r->waiting = LADDER_DO_NOTHING;
    drive(r, ladder_start(&r->ladder, &p, single ? &only : NULL, now_ms), now_ms);
    return 0;
}

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

static int64_t ladder_deadline_op(const void *impl)
{
    const struct recovery_ladder *r = impl;
    if (r->finished)
        return 0;
    int64_t d = ladder_next_deadline_ms(&r->ladder);
    d = min64(d, smsd_control_next_deadline_ms(r->smsd));
    if (child_running(&r->command))
        d = min64(d, r->command.out_fd < 0 ? 0 : r->command.deadline_ms);
    return d;
}

/* An asynchronous action ended: hand its outcome to the ladder. */
static void collect(struct recovery_ladder *r, int64_t now_ms)
{
    if (r->waiting == LADDER_DO_METHOD_BEGIN) {
        if (!child_poll(&r->command, now_ms))
            return;
        r->waiting = LADDER_DO_NOTHING;
        bool ok = !r->command.timed_out && r->command.status == 0;
        if (!ok)
            format_checked(r->reason, sizeof(r->reason), "command %s", r->command.timed_out ? "timed out" : "failed");
        drive(r, ladder_on_done(&r->ladder, ok, ok ? NULL : r->reason, 0, now_ms), now_ms);
        return;
    }
    if (r->waiting == LADDER_DO_NOTHING)
        return;
    struct smsd_op_result res;
    if (!smsd_control_poll(r->smsd, now_ms, &res))
        return;
    r->waiting = LADDER_DO_NOTHING;
    if (!res.ok || res.killed)
        log_info("recovery: gammu-smsd %s: %s%s", res.ok ? "handled" : "failed", res.message,
                 res.killed ? " (needed SIGKILL)" : "");
    memcpy(r->reason, res.message, sizeof(r->reason) < sizeof(res.message) ? sizeof(r->reason) : sizeof(res.message));
    r->reason[sizeof(r->reason) - 1] = '\0';
    drive(r, ladder_on_done(&r->ladder, res.ok, res.ok ? NULL : r->reason, 0, now_ms), now_ms);
}

static bool ladder_tick_op(void *impl, int64_t now_ms, struct recovery_result *out)
{
    struct recovery_ladder *r = impl;
    collect(r, now_ms);
    if (!r->finished && r->waiting == LADDER_DO_NOTHING)
        drive(r, ladder_on_tick(&r->ladder, now_ms), now_ms);
    if (!r->finished)
        return false;
    r->finished = false;
    memset(out, 0, sizeof(*out));
    out->success = r->ladder.success;
    format_checked(out->method, sizeof(out->method), "%s", recovery_method_str(r->ladder.final_method));
    format_checked(out->result, sizeof(out->result), "%s", r->ladder.success ? "recovered" : "failed");
    out->duration_ms = now_ms - r->started_ms;
    return true;
}

static int ladder_fd_op(const void *impl)
{
    const struct recovery_ladder *r = impl;
    if (r->waiting == LADDER_DO_METHOD_BEGIN)
        return r->command.out_fd;
    return smsd_control_fd(r->smsd);
}

static void ladder_readable_op(void *impl)
{
    struct recovery_ladder *r = impl;
    if (r->waiting == LADDER_DO_METHOD_BEGIN)
        child_read(&r->command);
    else
        smsd_control_on_readable(r->smsd);
}

static void ladder_log_op(void *impl, enum recovery_log_event ev, int64_t now_ms)
{
    struct recovery_ladder *r = impl;
    if (!ladder_running(&r->ladder))
        return;
    switch (ev) {
    case RECOVERY_LOG_INIT_START:
        ladder_on_init_start(&r->ladder);
        break;
    case RECOVERY_LOG_COUNTED_ERROR:
        if (r->waiting == LADDER_DO_NOTHING)
            drive(r, ladder_on_counted_error(&r->ladder, now_ms), now_ms);
        break;
    case RECOVERY_LOG_SECURITY:
        /* Whatever runs now finishes; the ladder climbs no further. */
        drive(r, ladder_abort(&r->ladder, "SIM needs PIN/PUK (SECURITYERROR)", now_ms), now_ms);
        break;
    }
}

static void ladder_reconfigure_op(void *impl, const struct config *cfg)
{
    struct recovery_ladder *r = impl;
    r->cfg = cfg;
    if (!smsd_control_busy(r->smsd)) {
        struct smsd_control *fresh = new_smsd_control(cfg);
        if (fresh) {
            smsd_control_free(r->smsd);
            r->smsd = fresh;
        }
    }
}

static bool ladder_running_op(const void *impl)
{
    const struct recovery_ladder *r = impl;
    return ladder_running(&r->ladder) || r->finished;
}

static void ladder_free_op(void *impl)
{
    struct recovery_ladder *r = impl;
    child_abort(&r->command);
    smsd_control_free(r->smsd);
    free(r);
}

static const struct recovery_ops ladder_ops = {
    .name = "ladder",
    .start = ladder_start_op,
    .next_deadline_ms = ladder_deadline_op,
    .tick = ladder_tick_op,
    .fd = ladder_fd_op,
    .on_readable = ladder_readable_op,
    .on_log = ladder_log_op,
    .reconfigure = ladder_reconfigure_op,
    .running = ladder_running_op,
    .free = ladder_free_op,
};

int recovery_ladder_new(struct recovery *out, const struct config *cfg, const struct recovery_observer *obs)
{
    struct recovery_ladder *r = calloc(1, sizeof(*r));
    if (!r)
        return -1;
    r->cfg = cfg;
    r->obs = *obs;
    child_init(&r->command);
    r->smsd = new_smsd_control(cfg);
    if (!r->smsd) {
        free(r);
        return -1;
    }
    out->ops = &ladder_ops;
    out->impl = r;
    return 0;
}
