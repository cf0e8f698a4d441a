/* agent_smsd: what the agent does with gammu-smsd's log lines: count errors,
 * feed the health machine, act on its transitions (events, the recovery seam),
 * and refresh the cheap probes (pidfile, tty). */
#include <string.h>
#include <time.h>

#include "agent_internal.h"
#include "sms-sentinel/log.h"
#include "sms-sentinel/port_holder.h"
#include "sms-sentinel/probe_watch.h"
#include "sms-sentinel/smsd_line.h"
#include "sms-sentinel/strbuf.h"
#include "sms-sentinel/system_probe.h"
#include "sms-sentinel/timefmt.h"

struct health_policy agent_health_policy(const struct config *cfg)
{
    struct health_policy p = {
        .recovery_enabled = cfg->recovery_enabled,
        .threshold = cfg->threshold,
        .window_ms = (int64_t)cfg->window_s * 1000,
        .cooldown_ms = (int64_t)cfg->cooldown_s * 1000,
        .max_per_hour = cfg->max_resets_per_hour,
        /* gammu-smsd logs nothing while all is well; after this long without an
         * error a daemon start counts as healthy. */
        .startup_grace_ms = (int64_t)cfg->window_s * 1000,
    };
    return p;
}

static bool list_contains(const struct config_list *list, const char *name)
{
    for (int i = 0; i < list->count; i++)
        if (strcmp(list->items[i], name) == 0)
            return true;
    return false;
}

static json_object *text_json(struct smsd_text t)
{
    return t.ptr ? json_object_new_string_len(t.ptr, (int)t.len) : NULL;
}

void agent_start_recovery(struct agent *a, const char *method, const char *trigger, int64_t now_ms)
{
    /* gammu-smsd stuck in a TIMEOUT ignores SIGTERM: no need to wait for it. */
    bool hung = strcmp(trigger, "errors") == 0 && a->last_counted_timeout;
    struct recovery_request req = {.method = method, .trigger = trigger, .smsd_hung = hung};
    char err[256] = "";
    json_object *fields = json_object_new_object();
    json_object_object_add(fields, "trigger", json_object_new_string(trigger));
    json_object_object_add(fields, "method", json_object_new_string(method));
    /* A send that hung stays in the outbox and goes out again after recovery. */
    if (a->outbox_depth > 0) {
        json_object_object_add(fields, "outbox_pending", json_object_new_int(a->outbox_depth));
        json_object_object_add(fields, "duplicate_risk", json_object_new_boolean(true));
    }
    if (a->recovery.ops->start(a->recovery.impl, &req, now_ms, err, sizeof(err)) < 0) {
        log_error("recovery: cannot start: %s", err);
        json_object_object_add(fields, "error", json_object_new_string(err));
        agent_publish_event(a, "failed", fields);
        if (a->reply.active)
            agent_reply(a, &a->reply, false, NULL, err);
        agent_apply_transition(a, health_recovery_finished(&a->health, false, now_ms), trigger, now_ms);
        return;
    }
    log_info("recovery: started (trigger %s, method %s)", trigger, method);
    a->recovery_running = true;
    agent_publish_event(a, "recovery_started", fields);
}

void agent_apply_transition(struct agent *a, struct health_transition t, const char *trigger, int64_t now_ms)
{
    if (t.changed) {
        log_info("health: %s -> %s (%s)", health_state_str(t.from), health_state_str(t.to), t.reason);
        agent_now_iso(a->health_since, sizeof(a->health_since));
        json_object *fields = json_object_new_object();
        json_object_object_add(fields, "from", json_object_new_string(health_state_str(t.from)));
        json_object_object_add(fields, "to", json_object_new_string(health_state_str(t.to)));
        json_object_object_add(fields, "reason", json_object_new_string(t.reason));
        agent_publish_event(a, "health", fields);
        a->state_dirty = true;
    }
    switch (t.action) {
    case HEALTH_ACTION_NONE:
        break;
    case HEALTH_ACTION_RECOVER: {
        char method[sizeof(a->recovery_method)];
        format_checked(method, sizeof(method), "%s", a->recovery_method[0] ? a->recovery_method : "auto");
        a->recovery_method[0] = '\0';
        agent_start_recovery(a, method, trigger, now_ms);
        break;
    }
    case HEALTH_ACTION_ALERT: {
        log_error("health: failed: %s; no automatic recovery until a manual reset", t.reason);
        json_object *fields = json_object_new_object();
        json_object_object_add(fields, "reason", json_object_new_string(t.reason));
        agent_publish_event(a, "failed", fields);
        break;
    }
    }
}

void agent_tick_recovery(struct agent *a, int64_t now_ms)
{
    if (!a->recovery_running)
        return;
    struct recovery_result r;
    if (!a->recovery.ops->tick(a->recovery.impl, now_ms, &r))
        return;
    a->recovery_running = false;
    char at[40];
    agent_now_iso(at, sizeof(at));
    stats_record_reset(&a->stats, r.method, at, r.result, r.duration_ms);
    log_info("recovery: ended: method %s, result %s, %lld ms", r.method, r.result, (long long)r.duration_ms);
    json_object *fields = json_object_new_object();
    json_object_object_add(fields, "method", json_object_new_string(r.method));
    json_object_object_add(fields, "result", json_object_new_string(r.result));
    json_object_object_add(fields, "duration_ms", json_object_new_int64(r.duration_ms));
    if (a->reply.active) {
        json_object *data = json_object_new_object();
        json_object_object_add(data, "method", json_object_new_string(r.method));
        json_object_object_add(data, "result", json_object_new_string(r.result));
        json_object_object_add(data, "duration_ms", json_object_new_int64(r.duration_ms));
        agent_reply(a, &a->reply, r.success, data, r.success ? NULL : "recovery did not bring the modem back");
    }
    agent_publish_event(a, r.success ? "recovered" : "failed", fields);
    agent_apply_transition(a, health_recovery_finished(&a->health, r.success, now_ms), "recovery", now_ms);
    a->state_dirty = true;
}

void agent_refresh_probes(struct agent *a)
{
    enum tristate modem = probe_device_present(a->cfg->device);
    long smsd_pid = -1;
    enum tristate smsd = probe_pidfile_alive(a->cfg->pidfile, &smsd_pid);
    if (a->probe_watch)
        probe_watch_track_pid(a->probe_watch, smsd == TRI_YES ? smsd_pid : 0);
    int depth = probe_outbox_depth(a->cfg->outbox);
    if (modem != a->modem_present || smsd != a->smsd_running || depth != a->outbox_depth)
        a->state_dirty = true;
    if (modem != a->modem_present && modem != TRI_UNKNOWN)
        log_info("modem %s %s", a->cfg->device, modem == TRI_YES ? "present" : "missing");
    if (smsd != a->smsd_running && smsd != TRI_UNKNOWN)
        log_info("gammu-smsd %s", smsd == TRI_YES ? "running" : "not running");
    /* A fault seen during a cooldown is acted on when the cooldown ends. */
    bool smsd_gone = (a->smsd_running == TRI_YES || a->smsd_gone_pending) && smsd == TRI_NO;
    bool tty_gone = (a->modem_present == TRI_YES || a->tty_gone_pending) && modem == TRI_NO;
    a->smsd_gone_pending = a->smsd_gone_pending && smsd == TRI_NO;
    a->tty_gone_pending = a->tty_gone_pending && modem == TRI_NO;
    a->modem_present = modem;
    a->smsd_running = smsd;
    a->outbox_depth = depth;
    /* During a recovery gammu-smsd is stopped and the tty may vanish on purpose. */
    if (a->recovery_running || !a->cfg->recovery_enabled)
        return;
    int64_t now_ms = clock_monotonic_ms();
    bool cooling = a->health.state == HEALTH_COOLDOWN;
    if (smsd_gone) {
        a->smsd_gone_pending = cooling;
        agent_apply_transition(a, health_on_fault(&a->health, "gammu-smsd is not running", now_ms), "smsd_gone",
                               now_ms);
    } else if (tty_gone) {
        a->tty_gone_pending = cooling;
        agent_apply_transition(a, health_on_fault(&a->health, "the modem tty vanished", now_ms), "tty_gone",
                               now_ms);
    }
}

/* DEVICEOPENERROR often means another process (ModemManager) holds the port. */
static void add_port_holders(struct agent *a, json_object *fields)
{
    struct port_holder holders[4];
    long smsd_pid = -1;
    probe_pidfile_alive(a->cfg->pidfile, &smsd_pid);
    int n = a->cfg->device ? port_holder_find("/proc", a->cfg->device, smsd_pid, holders, 4) : 0;
    if (n <= 0)
        return;
    json_object *list = json_object_new_array();
    for (int i = 0; i < n; i++) {
        log_warn("%s is held open by %s (pid %ld): gammu-smsd cannot open it", a->cfg->device, holders[i].name,
                 holders[i].pid);
        json_object *h = json_object_new_object();
        json_object_object_add(h, "name", json_object_new_string(holders[i].name));
        json_object_object_add(h, "pid", json_object_new_int64(holders[i].pid));
        json_object_array_add(list, h);
    }
    json_object_object_add(fields, "port_held_by", list);
}

static void count_error(struct agent *a, const struct smsd_line *l, int64_t now_ms)
{
    char at[40];
    agent_now_iso(at, sizeof(at));
    stats_count_error(&a->stats, l->error_name, l->error_code, l->message.ptr, l->message.len, at);
    bool counted = list_contains(&a->cfg->recovery_errors, l->error_name);
    bool security = strcmp(l->error_name, "SECURITYERROR") == 0;
    if (counted)
        a->last_counted_timeout = strcmp(l->error_name, "TIMEOUT") == 0;
    log_info("gammu-smsd error %s[%d]%s", l->error_name, l->error_code, counted ? " (counted)" : "");
    json_object *fields = json_object_new_object();
    json_object_object_add(fields, "name", json_object_new_string(l->error_name));
    json_object_object_add(fields, "code", json_object_new_int(l->error_code));
    json_object_object_add(fields, "message", text_json(l->message));
    json_object_object_add(fields, "counted", json_object_new_boolean(counted));
    if (strcmp(l->error_name, "DEVICEOPENERROR") == 0)
        add_port_holders(a, fields);
    agent_publish_event(a, "error", fields);
    a->state_dirty = true;
    if (a->recovery_running && (counted || security))
        a->recovery.ops->on_log(a->recovery.impl, security ? RECOVERY_LOG_SECURITY : RECOVERY_LOG_COUNTED_ERROR,
                                now_ms);
    agent_apply_transition(a, health_on_error(&a->health, counted, security, now_ms), "errors", now_ms);
}

static void note_line(struct agent *a, const struct smsd_line *l, int64_t now_ms)
{
    switch (l->kind) {
    case SMSD_LINE_READ_MESSAGES:
    case SMSD_LINE_RECEIVED:
    case SMSD_LINE_TRANSMITTED:
        agent_apply_transition(a, health_on_good_sign(&a->health, now_ms), "log", now_ms);
        break;
    case SMSD_LINE_INIT_START:
        if (a->recovery_running)
            a->recovery.ops->on_log(a->recovery.impl, RECOVERY_LOG_INIT_START, now_ms);
        agent_refresh_probes(a);
        break;
    case SMSD_LINE_STOPPING:
    case SMSD_LINE_FAILED_TO_RUN:
        /* gammu-smsd (re)started or is going away: the pidfile may have changed. */
        agent_refresh_probes(a);
        break;
    case SMSD_LINE_OTHER:
    case SMSD_LINE_ERROR:
    case SMSD_LINE_INIT_ERROR:
    case SMSD_LINE_TERMINATING:
    case SMSD_LINE_SLEEPING:
    case SMSD_LINE_SEND_ERROR:
    case SMSD_LINE_SOFT_RESET:
        break;
    }
}

void agent_on_log_line(void *ctx, const char *line, size_t len, int truncated)
{
    struct agent *a = ctx;
    struct smsd_line l;
    smsd_line_classify(line, len, &l);
    int64_t now_ms = clock_monotonic_ms();
    if (log_get_level() >= LOG_LEVEL_DEBUG) {
        char shown[512];
        struct strbuf sb;
        strbuf_init(&sb, shown, sizeof(shown));
        strbuf_append_printable(&sb, line, len);
        log_debug("smsd log [%s]%s: %s", smsd_line_kind_str(l.kind), truncated || sb.overflow ? " (cut)" : "", shown);
    }
    if (smsd_line_has_error(&l))
        count_error(a, &l, now_ms);
    note_line(a, &l, now_ms);
}
