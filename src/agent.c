/* agent: builds the daemon's context, runs the one poll loop (signalfd, log
 * follower, MQTT socket, timers from the nearest monotonic deadline), reloads
 * on SIGHUP and shuts down cleanly on SIGTERM/SIGINT. */
#include "sms-sentinel/agent.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "agent_internal.h"
#include "sms-sentinel/log.h"
#include "sms-sentinel/probe_watch.h"
#include "sms-sentinel/state_store.h"
#include "sms-sentinel/strbuf.h"
#include "sms-sentinel/timefmt.h"

#define FOLLOWER_RETRY_MS 5000

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

static int open_signalfd(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return -1;
    signal(SIGPIPE, SIG_IGN);
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

static void restore_counters(struct agent *a)
{
    int err = 0;
    char msg[256];
    json_object *saved = state_store_load(a->cfg->state_dir, &err, msg, sizeof(msg));
    if (!saved) {
        if (err != ENOENT)
            log_warn("counters not restored: %s", msg);
        return;
    }
    int n = stats_from_json(&a->stats, saved);
    json_object_put(saved);
    log_info("restored %d counter fields from %s", n, a->cfg->state_dir);
}

static void close_follower(struct agent *a)
{
    if (!a->follower)
        return;
    loop_unwatch(&a->loop, log_follower_fd(a->follower));
    log_follower_close(a->follower);
    a->follower = NULL;
}

static void on_follower_io(void *ctx, int fd, short revents)
{
    struct agent *a = ctx;
    int rc = log_follower_process(a->follower, clock_monotonic_ms());
    if (rc < 0)
        log_warn("log follower: %s", strerror(-rc));
}

/* Opens the follower for the configured log; on failure retries later. */
static void open_follower(struct agent *a)
{
    const char *logfile = a->cfg->logfile;
    a->follower_retry_ms = INT64_MAX;
    if (!logfile || !*logfile) {
        log_warn("no gammu-smsd log file known (set logfile in gammu-smsdrc or [smsd] logfile): errors cannot be seen");
        return;
    }
    bool journal = strcmp(logfile, "syslog") == 0;
    a->follower = journal ? log_follower_open_journal("gammu-smsd", agent_on_log_line, a)
                          : log_follower_open_file(logfile, agent_on_log_line, a);
    if (!a->follower) {
        log_error("cannot follow %s: %s; retrying", journal ? "the journal" : logfile, strerror(errno));
        a->follower_retry_ms = clock_monotonic_ms() + FOLLOWER_RETRY_MS;
        return;
    }
    log_info("following %s", journal ? "the journal (gammu-smsd)" : logfile);
    loop_watch(&a->loop, log_follower_fd(a->follower), POLLIN, on_follower_io, a);
}

static void on_mqtt_io(void *ctx, int fd, short revents)
{
    struct agent *a = ctx;
    mqtt_link_handle_io(a->mqtt, revents, clock_monotonic_ms());
}

/* Keeps the loop's view of the MQTT socket in step with the link. */
static void sync_mqtt_watch(struct agent *a)
{
    int fd = a->mqtt ? mqtt_link_fd(a->mqtt) : -1;
    if (a->mqtt_fd_watched >= 0 && a->mqtt_fd_watched != fd)
        loop_unwatch(&a->loop, a->mqtt_fd_watched);
    a->mqtt_fd_watched = fd;
    if (fd >= 0)
        loop_watch(&a->loop, fd, mqtt_link_poll_events(a->mqtt), on_mqtt_io, a);
}

static void on_probe_watch_io(void *ctx, int fd, short revents)
{
    struct agent *a = ctx;
    if (probe_watch_process(a->probe_watch))
        agent_refresh_probes(a);
}

static void close_probe_watch(struct agent *a)
{
    if (!a->probe_watch)
        return;
    loop_unwatch(&a->loop, probe_watch_fd(a->probe_watch));
    probe_watch_close(a->probe_watch);
    a->probe_watch = NULL;
}

/* (Re)opens the watch for the configured pidfile, tty and outbox. */
static void open_probe_watch(struct agent *a)
{
    close_probe_watch(a);
    a->probe_watch = probe_watch_open(a->cfg->pidfile, a->cfg->device, a->cfg->outbox);
    if (!a->probe_watch) {
        log_warn("cannot watch the pidfile and tty folders: %s; checking every %d s", strerror(errno),
                 AGENT_PROBE_PERIOD_MS / 1000);
        return;
    }
    loop_watch(&a->loop, probe_watch_fd(a->probe_watch), POLLIN, on_probe_watch_io, a);
}

static void on_recovery_io(void *ctx, int fd, short revents)
{
    struct agent *a = ctx;
    a->recovery.ops->on_readable(a->recovery.impl);
}

static void sync_recovery_watch(struct agent *a)
{
    int fd = a->recovery.ops->fd(a->recovery.impl);
    if (a->recovery_fd_watched >= 0 && a->recovery_fd_watched != fd)
        loop_unwatch(&a->loop, a->recovery_fd_watched);
    a->recovery_fd_watched = fd;
    if (fd >= 0)
        loop_watch(&a->loop, fd, POLLIN, on_recovery_io, a);
}

static bool mqtt_settings_differ(const struct config *x, const struct config *y)
{
    const char *xs[] = {x->mqtt_host, x->client_id, x->base_topic, x->mqtt_username, x->mqtt_password_file,
                        x->tls_ca, x->tls_cert, x->tls_key};
    const char *ys[] = {y->mqtt_host, y->client_id, y->base_topic, y->mqtt_username, y->mqtt_password_file,
                        y->tls_ca, y->tls_cert, y->tls_key};
    for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++)
        if (strcmp(xs[i] ? xs[i] : "", ys[i] ? ys[i] : "") != 0)
            return true;
    return x->mqtt_port != y->mqtt_port || x->keepalive != y->keepalive;
}

static void reload(struct agent *a)
{
    struct config_errors errs = {0};
    char host[256] = "localhost";
    gethostname(host, sizeof(host) - 1);
    struct config *next = config_load(a->config_path, host, &errs);
    if (!next) {
        log_error("reload: %s has %d problem(s); keeping the running config", a->config_path, errs.count);
        for (int i = 0; i < errs.count; i++)
            log_error("%s:%d: %s", errs.items[i].file, errs.items[i].line, errs.items[i].message);
        config_errors_clear(&errs);
        return;
    }
    config_errors_clear(&errs);
    bool new_mqtt = mqtt_settings_differ(a->cfg, next);
    char why[512];
    if (new_mqtt && agent_mqtt_check(next, why, sizeof(why)) < 0) {
        /* Closing a working connection for one that cannot even start helps nobody. */
        log_error("reload: mqtt: %s; keeping the running config", why);
        config_free(next);
        return;
    }
    bool new_log = strcmp(a->cfg->logfile ? a->cfg->logfile : "", next->logfile ? next->logfile : "") != 0;
    struct config *old = a->cfg;
    if (new_mqtt)
        agent_mqtt_close(a, true);
    if (new_log)
        close_follower(a);
    a->cfg = next;
    a->recovery.ops->reconfigure(a->recovery.impl, next);
    config_free(old);
    enum log_level level;
    if (log_level_from_str(a->cfg->log_level, &level) == 0)
        log_set_level(level);
    struct health_policy p = agent_health_policy(a->cfg);
    health_set_policy(&a->health, &p);
    char err[256];
    if (new_mqtt && agent_mqtt_open(a, err, sizeof(err)) < 0)
        log_error("reload: mqtt: %s", err);
    else if (!new_mqtt && a->mqtt && !mqtt_link_connected(a->mqtt))
        mqtt_link_retry_now(a->mqtt, clock_monotonic_ms()); /* e.g. password_file fixed */
    if (new_log)
        open_follower(a);
    open_probe_watch(a);
    agent_refresh_probes(a);
    agent_discovery_reload(a);
    a->state_dirty = true;
    log_info("reloaded %s", a->config_path);
}

static void on_signal(void *ctx, int fd, short revents)
{
    struct agent *a = ctx;
    struct signalfd_siginfo si;
    while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGHUP) {
            reload(a);
        } else {
            log_info("signal %u: stopping", si.ssi_signo);
            a->running = false;
        }
    }
}

struct agent *agent_new(struct config *cfg, const char *config_path, char *err, size_t errsize)
{
    struct agent *a = calloc(1, sizeof(*a));
    if (!a) {
        format_checked(err, errsize, "out of memory");
        return NULL;
    }
    a->cfg = cfg;
    a->config_path = strdup(config_path);
    a->mqtt_fd_watched = -1;
    a->modem_present = a->smsd_running = TRI_UNKNOWN;
    a->outbox_depth = -1;
    a->signal_percent = -1;
    child_init(&a->monitor);
    a->monitor_pidfd = -1;
    a->follower_retry_ms = INT64_MAX;
    loop_init(&a->loop);
    a->started_mono_ms = clock_monotonic_ms();
    agent_now_iso(a->started_at, sizeof(a->started_at));
    memcpy(a->health_since, a->started_at, sizeof(a->health_since));
    struct health_policy p = agent_health_policy(cfg);
    health_init(&a->health, &p, a->started_mono_ms);
    stats_init(&a->stats);
    a->signal_fd = open_signalfd();
    a->recovery_fd_watched = -1;
    a->mail_fd_watched = -1;
    struct recovery_observer obs = {agent_recovery_step, a};
    if (a->signal_fd < 0 || recovery_ladder_new(&a->recovery, cfg, &obs) < 0) {
        format_checked(err, errsize, "setup: %s", strerror(errno));
        a->recovery.ops = NULL;
        agent_free(a);
        return NULL;
    }
    loop_watch(&a->loop, a->signal_fd, POLLIN, on_signal, a);
    return a;
}

/* Timers seconds away (periodic state, probes, keepalive, safety checks) are
 * rounded up to a whole second so the ones close together share one wake-up;
 * nearer ones (recovery steps, retries, settling) stay exact. */
#define COALESCE_FROM_MS 2000
#define COALESCE_GRID_MS 1000

static int64_t coalesce(int64_t deadline_ms, int64_t now_ms)
{
    if (deadline_ms == INT64_MAX || deadline_ms - now_ms < COALESCE_FROM_MS)
        return deadline_ms;
    return (deadline_ms + COALESCE_GRID_MS - 1) / COALESCE_GRID_MS * COALESCE_GRID_MS;
}

static int64_t next_deadline(const struct agent *a, int64_t now_ms)
{
    int64_t d = min64(a->next_state_ms, health_next_deadline_ms(&a->health));
    d = min64(d, a->next_probe_ms);
    d = min64(d, a->follower_retry_ms);
    if (a->state_dirty)
        d = now_ms;
    if (a->mqtt)
        d = min64(d, mqtt_link_next_deadline_ms(a->mqtt, now_ms));
    if (a->follower) {
        int64_t t = log_follower_next_timeout_ms(a->follower, now_ms);
        if (t >= 0)
            d = min64(d, now_ms + t);
    }
    if (a->recovery_running)
        d = min64(d, a->recovery.ops->next_deadline_ms(a->recovery.impl));
    d = min64(d, agent_inbox_deadline_ms(a));
    d = min64(d, agent_send_deadline_ms(a));
    d = min64(d, agent_probe_deadline_ms(a));
    d = min64(d, agent_mail_deadline_ms(a));
    d = min64(d, agent_discovery_deadline_ms(a));
    return coalesce(min64(d, agent_monitor_deadline_ms(a)), now_ms);
}

/* Everything due at now_ms; the loop calls it after every poll turn. */
static void run_due(struct agent *a, int64_t now_ms)
{
    if (now_ms >= health_next_deadline_ms(&a->health)) {
        agent_apply_transition(a, health_on_tick(&a->health, now_ms), "timer", now_ms);
        if ((a->smsd_gone_pending || a->tty_gone_pending) && a->health.state != HEALTH_COOLDOWN)
            agent_refresh_probes(a);
    }
    agent_tick_recovery(a, now_ms);
    if (a->follower) {
        int64_t t = log_follower_next_timeout_ms(a->follower, now_ms);
        if (t == 0) {
            int rc = log_follower_process(a->follower, now_ms);
            if (rc < 0)
                log_warn("log follower: %s", strerror(-rc));
        }
    } else if (now_ms >= a->follower_retry_ms) {
        open_follower(a);
    }
    if (a->mqtt)
        mqtt_link_tick(a->mqtt, now_ms);
    agent_run_monitor(a, now_ms);
    agent_inbox_tick(a, now_ms);
    agent_send_tick(a, now_ms);
    agent_probe_tick(a, now_ms);
    agent_mail_tick(a, now_ms);
    agent_discovery_tick(a, now_ms);
    if (now_ms >= a->next_probe_ms) {
        /* gammu-smsd gone or the tty vanished: found within one period. */
        agent_refresh_probes(a);
        a->next_probe_ms = now_ms + AGENT_PROBE_PERIOD_MS;
    }
    if (now_ms >= a->next_state_ms && !a->state_dirty && child_running(&a->monitor)) {
        /* gammu-smsd-monitor brings the signal within a moment: one publish
         * when it ends (agent_monitor.c) instead of one now and one then. */
        a->state_waits_monitor = true;
        a->next_state_ms = a->monitor.deadline_ms;
    } else if (now_ms >= a->next_state_ms && !a->state_dirty) {
        a->state_dirty = true;
        a->state_periodic = true;
    }
    agent_pool_update(a);
    if (a->state_dirty)
        agent_publish_state(a, now_ms);
    sync_mqtt_watch(a);
    sync_recovery_watch(a);
}

int agent_run(struct agent *a)
{
    char err[512];
    restore_counters(a);
    open_probe_watch(a);
    agent_refresh_probes(a);
    open_follower(a);
    agent_inbox_open(a);
    agent_send_open(a);
    agent_probe_init(a, clock_monotonic_ms());
    agent_mail_open(a);
    agent_discovery_open(a);
    if (agent_mqtt_open(a, err, sizeof(err)) < 0) {
        log_error("mqtt: %s", err);
        return 1;
    }
    a->running = true;
    a->state_dirty = true;
    int64_t now = clock_monotonic_ms();
    run_due(a, now);
    while (a->running) {
        int rc = loop_run_once(&a->loop, next_deadline(a, now), now);
        if (rc < 0) {
            log_error("poll: %s", strerror(-rc));
            return 1;
        }
        now = clock_monotonic_ms();
        if (a->running)
            run_due(a, now);
    }
    agent_publish_state(a, clock_monotonic_ms());
    agent_mqtt_close(a, true);
    return a->exit_code;
}

void agent_free(struct agent *a)
{
    if (!a)
        return;
    close_follower(a);
    close_probe_watch(a);
    agent_inbox_close(a);
    agent_send_close(a);
    agent_mail_close(a);
    agent_discovery_close(a);
    agent_mqtt_close(a, false);
    if (a->monitor.out_fd >= 0)
        loop_unwatch(&a->loop, a->monitor.out_fd);
    if (a->monitor_pidfd >= 0) {
        loop_unwatch(&a->loop, a->monitor_pidfd);
        close(a->monitor_pidfd);
    }
    child_abort(&a->monitor);
    agent_reply_clear(&a->reply);
    if (a->recovery.ops)
        a->recovery.ops->free(a->recovery.impl);
    if (a->signal_fd >= 0)
        close(a->signal_fd);
    config_free(a->cfg);
    free(a->config_path);
    free(a);
}
