/* smsd_control: one gammu-smsd operation at a time as a small state machine
 * driven by poll calls: an argv command (child.c), then signals and liveness
 * checks on deadlines. The process is the pidfile's pid, confirmed by comm and
 * start time in <proc_root>/<pid>/stat so that pid reuse cannot make us signal
 * a stranger; a zombie counts as gone (PID 1 in containers may never reap). */
#include "sms-sentinel/smsd_control.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sms-sentinel/child.h"
#include "sms-sentinel/fsutil.h"
#include "sms-sentinel/strbuf.h"
#include "sms-sentinel/system_probe.h"

#define LIVENESS_POLL_MS 200
#define FIRST_CHECK_MS 50   /* an idle gammu-smsd exits ~10 ms after SIGTERM */
#define COMMAND_POLL_MS 100 /* a command whose daemon keeps our pipe open never sends EOF */
#define KILL_WAIT_MS 5000   /* longer after SIGKILL: stuck in the kernel (D state) */

enum phase { PH_IDLE, PH_COMMAND, PH_CMD_SETTLE, PH_TERM_WAIT, PH_KILL_WAIT, PH_START_WAIT, PH_DONE };
enum cmd_kind { CMD_STOP, CMD_START, CMD_RESTART };

struct proc_id {
    long pid; /* 0: none */
    unsigned long long start_time;
};

struct smsd_control {
    struct config_argv start_cmd, stop_cmd, restart_cmd; /* strings owned */
    char *pidfile, *proc_root, *process_name;
    int64_t stop_grace_ms, command_timeout_ms;

    enum phase phase;
    enum cmd_kind cmd;       /* the command running or last run */
    bool then_start;         /* RESTART without restart_command */
    struct child child;
    struct proc_id target;   /* being stopped; before a restart_command, the old one */
    int64_t begun_ms, wake_ms, deadline_ms, signalled_ms;
    struct smsd_op_result res;
    struct strbuf msg;       /* over res.message */
};

const char *smsd_op_str(enum smsd_op op)
{
    switch (op) {
    case SMSD_OP_STOP: return "stop";
    case SMSD_OP_START: return "start";
    case SMSD_OP_RESTART: return "restart";
    case SMSD_OP_SUSPEND: return "suspend";
    case SMSD_OP_RESUME: return "resume";
    }
    return "unknown";
}

static const char *cmd_name(enum cmd_kind k)
{
    switch (k) {
    case CMD_STOP: return "stop_command";
    case CMD_START: return "start_command";
    case CMD_RESTART: return "restart_command";
    }
    return "command";
}

/* ---- the message: clauses joined by "; ", cut when too long ---- */

static void note(struct smsd_control *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(struct smsd_control *c, const char *fmt, ...)
{
    char clause[sizeof(c->res.message)];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(clause, sizeof(clause), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (c->msg.len > 0)
        strbuf_append(&c->msg, "; ");
    strbuf_append(&c->msg, clause); /* a cut clause is still worth reading */
}

/* ---- identifying the process ---- */

/* <proc_root>/<pid>/stat is "pid (comm) S f4 ... f21 starttime ..."; comm may
 * hold blanks and parentheses, so the fields start after the last ')'. */
static bool parse_stat(const char *text, const char *name, struct proc_id *id)
{
    const char *open = strchr(text, '(');
    const char *close = strrchr(text, ')');
    if (!open || !close || close < open)
        return false;
    size_t len = (size_t)(close - open - 1);
    if (len != strlen(name) || memcmp(open + 1, name, len) != 0)
        return false;
    char state;
    unsigned long long start;
    if (sscanf(close + 1, " %c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
               &state, &start) != 2)
        return false;
    id->start_time = start;
    return state != 'Z' && state != 'X';
}

/* True when pid is a live process named process_name; fills *id. */
static bool proc_lookup(const struct smsd_control *c, long pid, struct proc_id *id)
{
    char path[4096];
    if (pid <= 0 || format_checked(path, sizeof(path), "%s/%ld/stat", c->proc_root, pid) < 0)
        return false;
    char *text = NULL;
    if (fs_read_file(path, 4096, &text, NULL) < 0)
        return false;
    id->pid = pid;
    bool alive = parse_stat(text, c->process_name, id);
    free(text);
    return alive;
}

/* The live gammu-smsd the pidfile names, if any. */
static bool read_target(const struct smsd_control *c, struct proc_id *id)
{
    long pid = -1;
    id->pid = 0;
    probe_pidfile_alive(c->pidfile, &pid);
    if (proc_lookup(c, pid, id))
        return true;
    id->pid = 0;
    return false;
}

static bool target_alive(const struct smsd_control *c)
{
    struct proc_id now;
    return proc_lookup(c, c->target.pid, &now) && now.start_time == c->target.start_time;
}

/* 0, -ESRCH when the target is gone, or kill()'s -errno. */
static int signal_target(const struct smsd_control *c, int sig)
{
    if (!target_alive(c))
        return -ESRCH;
    return kill((pid_t)c->target.pid, sig) == 0 ? 0 : -errno;
}

/* gammu-smsd leaves its pidfile behind, and refuses to start while that pid
 * answers kill(pid, 0): a reused pid, or an unreaped zombie. */
static int drop_stale_pidfile(const struct smsd_control *c)
{
    struct proc_id id;
    if (read_target(c, &id))
        return 0;
    return unlink(c->pidfile) == 0 || errno == ENOENT ? 0 : -errno;
}

/* ---- ending ---- */

static void finish(struct smsd_control *c, bool ok, int64_t now_ms)
{
    c->res.ok = ok;
    c->res.duration_ms = now_ms - c->begun_ms;
    c->phase = PH_DONE;
}

static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* ---- commands ---- */

static const struct config_argv *cmd_argv(const struct smsd_control *c, enum cmd_kind k)
{
    switch (k) {
    case CMD_STOP: return &c->stop_cmd;
    case CMD_START: return &c->start_cmd;
    case CMD_RESTART: return &c->restart_cmd;
    }
    return &c->start_cmd;
}

static int run_command(struct smsd_control *c, enum cmd_kind k, int64_t now_ms)
{
    const struct config_argv *a = cmd_argv(c, k);
    c->cmd = k;
    int rc = child_start(&c->child, a->argv, c->command_timeout_ms, now_ms);
    if (rc < 0) {
        note(c, "%s: cannot run %s: %s", cmd_name(k), a->argv[0], strerror(-rc));
        return rc;
    }
    c->phase = PH_COMMAND;
    c->deadline_ms = now_ms + c->command_timeout_ms; /* START: also bounds the pidfile wait */
    c->wake_ms = now_ms + COMMAND_POLL_MS;
    return 0;
}

static int command_status(const struct child *ch)
{
    if (ch->timed_out || ch->status < 0)
        return -1;
    if (WIFEXITED(ch->status))
        return WEXITSTATUS(ch->status);
    if (WIFSIGNALED(ch->status))
        return 128 + WTERMSIG(ch->status);
    return -1;
}

/* ---- stopping ---- */

static void begin_start(struct smsd_control *c, int64_t now_ms);

static void stop_done(struct smsd_control *c, bool ok, int64_t now_ms)
{
    if (ok)
        drop_stale_pidfile(c); /* best effort; START says so if it matters */
    if (ok && c->then_start)
        begin_start(c, now_ms);
    else
        finish(c, ok, now_ms);
}

static void send_term(struct smsd_control *c, int64_t now_ms)
{
    int rc = signal_target(c, SIGTERM);
    if (rc == -ESRCH) {
        note(c, "stopped");
        stop_done(c, true, now_ms);
        return;
    }
    if (rc < 0) {
        note(c, "SIGTERM to pid %ld: %s", c->target.pid, strerror(-rc));
        finish(c, false, now_ms);
        return;
    }
    c->phase = PH_TERM_WAIT;
    c->signalled_ms = now_ms;
    c->deadline_ms = now_ms + c->stop_grace_ms;
    c->wake_ms = min64(now_ms + FIRST_CHECK_MS, c->deadline_ms);
}

static void send_kill(struct smsd_control *c, int64_t now_ms)
{
    int rc = signal_target(c, SIGKILL);
    if (rc == -ESRCH) {
        note(c, "stopped by SIGTERM after %" PRId64 " ms", now_ms - c->signalled_ms);
        stop_done(c, true, now_ms);
        return;
    }
    if (rc < 0) {
        note(c, "SIGKILL to pid %ld: %s", c->target.pid, strerror(-rc));
        finish(c, false, now_ms);
        return;
    }
    c->res.killed = true;
    c->phase = PH_KILL_WAIT;
    c->deadline_ms = now_ms + KILL_WAIT_MS;
    c->wake_ms = now_ms + FIRST_CHECK_MS; /* SIGKILL is quick, unless in D state */
}

static void step_term_wait(struct smsd_control *c, int64_t now_ms)
{
    if (!target_alive(c)) {
        note(c, "stopped by SIGTERM after %" PRId64 " ms", now_ms - c->signalled_ms);
        stop_done(c, true, now_ms);
    } else if (now_ms >= c->deadline_ms) {
        send_kill(c, now_ms);
    } else {
        c->wake_ms = min64(now_ms + LIVENESS_POLL_MS, c->deadline_ms);
    }
}

static void step_kill_wait(struct smsd_control *c, int64_t now_ms)
{
    if (!target_alive(c)) {
        note(c, "ignored SIGTERM for %" PRId64 " ms, killed with SIGKILL", c->stop_grace_ms);
        stop_done(c, true, now_ms);
    } else if (now_ms >= c->deadline_ms) {
        note(c, "pid %ld still alive %d ms after SIGKILL", c->target.pid, KILL_WAIT_MS);
        finish(c, false, now_ms);
    } else {
        c->wake_ms = now_ms + LIVENESS_POLL_MS;
    }
}

/* A stop command that only sends a signal returns before the process is
 * gone: one liveness check later, then SIGTERM ourselves. */
static void settle_after_command(struct smsd_control *c, int64_t now_ms)
{
    c->phase = PH_CMD_SETTLE;
    c->wake_ms = now_ms + LIVENESS_POLL_MS;
}

static void step_cmd_settle(struct smsd_control *c, int64_t now_ms)
{
    if (!target_alive(c)) {
        note(c, "stopped by stop_command");
        stop_done(c, true, now_ms);
        return;
    }
    send_term(c, now_ms);
}

static void begin_stop(struct smsd_control *c, int64_t now_ms)
{
    if (!read_target(c, &c->target)) {
        note(c, "not running");
        stop_done(c, true, now_ms);
        return;
    }
    if (c->stop_cmd.argc > 0 && run_command(c, CMD_STOP, now_ms) == 0)
        return;
    send_term(c, now_ms); /* no stop_command, or it cannot run: signals only */
}

/* ---- starting ---- */

static bool is_new(const struct smsd_control *c, const struct proc_id *id)
{
    return c->cmd != CMD_RESTART || c->target.pid == 0 || id->pid != c->target.pid ||
           id->start_time != c->target.start_time;
}

static void step_start_wait(struct smsd_control *c, int64_t now_ms)
{
    struct proc_id id;
    if (read_target(c, &id) && is_new(c, &id)) {
        note(c, "started pid %ld", id.pid);
        finish(c, true, now_ms);
    } else if (now_ms >= c->deadline_ms) {
        note(c, "%s names no %s %s after %" PRId64 " ms", c->pidfile,
             c->cmd == CMD_RESTART ? "new" : "live", c->process_name, c->command_timeout_ms);
        finish(c, false, now_ms);
    } else {
        c->wake_ms = min64(now_ms + LIVENESS_POLL_MS, c->deadline_ms);
    }
}

static void begin_start(struct smsd_control *c, int64_t now_ms)
{
    struct proc_id id;
    if (read_target(c, &id)) {
        note(c, "already running (pid %ld)", id.pid);
        finish(c, true, now_ms);
        return;
    }
    int rc = drop_stale_pidfile(c);
    if (rc < 0)
        note(c, "cannot remove stale %s: %s", c->pidfile, strerror(-rc));
    if (run_command(c, CMD_START, now_ms) < 0)
        finish(c, false, now_ms);
}

static void begin_restart(struct smsd_control *c, int64_t now_ms)
{
    if (c->restart_cmd.argc == 0) {
        c->then_start = true;
        begin_stop(c, now_ms);
        return;
    }
    read_target(c, &c->target); /* the old one, to tell it from the new */
    if (run_command(c, CMD_RESTART, now_ms) < 0)
        finish(c, false, now_ms);
}

static void command_finished(struct smsd_control *c, int64_t now_ms)
{
    int st = command_status(&c->child);
    c->res.exit_status = st;
    if (c->child.timed_out)
        note(c, "%s timed out after %" PRId64 " ms", cmd_name(c->cmd), c->command_timeout_ms);
    else if (st != 0)
        note(c, "%s exited %d", cmd_name(c->cmd), st);
    switch (c->cmd) {
    case CMD_STOP:
        settle_after_command(c, now_ms);
        return;
    case CMD_START:
    case CMD_RESTART:
        if (st != 0) {
            finish(c, false, now_ms);
            return;
        }
        c->phase = PH_START_WAIT;
        step_start_wait(c, now_ms);
        return;
    }
}

/* ---- suspend / resume ---- */

static void send_simple(struct smsd_control *c, int sig, const char *sig_name, int64_t now_ms)
{
    if (!read_target(c, &c->target)) {
        note(c, "not running");
        finish(c, false, now_ms);
        return;
    }
    int rc = signal_target(c, sig);
    if (rc < 0)
        note(c, "%s to pid %ld: %s", sig_name, c->target.pid, strerror(-rc));
    else
        note(c, "%s sent to pid %ld", sig_name, c->target.pid);
    finish(c, rc == 0, now_ms);
}

/* ---- public ---- */

static int argv_copy(struct config_argv *dst, const struct config_argv *src)
{
    memset(dst, 0, sizeof(*dst));
    if (!src)
        return 0;
    if (src->argc < 0 || src->argc > CONFIG_MAX_ARGV)
        return -EINVAL;
    for (int i = 0; i < src->argc; i++) {
        if (!src->argv[i])
            return -EINVAL;
        dst->argv[i] = strdup(src->argv[i]);
        if (!dst->argv[i])
            return -ENOMEM;
        dst->argc = i + 1;
    }
    return 0;
}

static void argv_free(struct config_argv *a)
{
    for (int i = 0; i < a->argc; i++)
        free(a->argv[i]);
    a->argc = 0;
}

static char *dup_or(const char *s, const char *fallback)
{
    const char *v = s && *s ? s : fallback;
    return v ? strdup(v) : NULL;
}

static int copy_options(struct smsd_control *c, const struct smsd_control_options *o)
{
    if (o->stop_grace_ms < 0 || o->command_timeout_ms <= 0)
        return -EINVAL;
    c->stop_grace_ms = o->stop_grace_ms;
    c->command_timeout_ms = o->command_timeout_ms;
    int rc = argv_copy(&c->start_cmd, o->start_command);
    if (rc == 0)
        rc = argv_copy(&c->stop_cmd, o->stop_command);
    if (rc == 0)
        rc = argv_copy(&c->restart_cmd, o->restart_command);
    if (rc < 0)
        return rc;
    c->pidfile = dup_or(o->pidfile, NULL);
    c->proc_root = dup_or(o->proc_root, "/proc");
    c->process_name = dup_or(o->process_name, "gammu-smsd");
    bool lost = (o->pidfile && *o->pidfile && !c->pidfile) || !c->proc_root || !c->process_name;
    return lost ? -ENOMEM : 0;
}

struct smsd_control *smsd_control_new(const struct smsd_control_options *o)
{
    if (!o)
        return NULL;
    struct smsd_control *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    child_init(&c->child);
    c->phase = PH_IDLE;
    if (copy_options(c, o) < 0) {
        smsd_control_free(c);
        return NULL;
    }
    return c;
}

void smsd_control_free(struct smsd_control *c)
{
    if (!c)
        return;
    child_abort(&c->child);
    argv_free(&c->start_cmd);
    argv_free(&c->stop_cmd);
    argv_free(&c->restart_cmd);
    free(c->pidfile);
    free(c->proc_root);
    free(c->process_name);
    free(c);
}

/* NULL when op can run with this configuration, else why not. */
static const char *op_unusable(const struct smsd_control *c, enum smsd_op op)
{
    if (!c->pidfile)
        return "no pidfile";
    switch (op) {
    case SMSD_OP_START:
        return c->start_cmd.argc > 0 ? NULL : "no start_command";
    case SMSD_OP_RESTART:
        return c->restart_cmd.argc > 0 || c->start_cmd.argc > 0 ? NULL : "no start_command";
    case SMSD_OP_STOP:
    case SMSD_OP_SUSPEND:
    case SMSD_OP_RESUME:
        return NULL;
    }
    return "unknown operation";
}

static void reset_result(struct smsd_control *c, enum smsd_op op, int64_t now_ms)
{
    memset(&c->res, 0, sizeof(c->res));
    c->res.op = op;
    c->res.exit_status = -1;
    strbuf_init(&c->msg, c->res.message, sizeof(c->res.message));
    c->begun_ms = now_ms;
    c->then_start = false;
    c->target.pid = 0;
    c->cmd = CMD_START;
}

int smsd_control_begin(struct smsd_control *c, enum smsd_op op, int64_t now_ms, char *err,
                       size_t errsize)
{
    if (c->phase != PH_IDLE) {
        format_checked(err, errsize, "smsd %s still running", smsd_op_str(c->res.op));
        return -EBUSY;
    }
    const char *why = op_unusable(c, op);
    if (why) {
        format_checked(err, errsize, "%s", why);
        return -EINVAL;
    }
    reset_result(c, op, now_ms);
    switch (op) {
    case SMSD_OP_STOP: begin_stop(c, now_ms); break;
    case SMSD_OP_START: begin_start(c, now_ms); break;
    case SMSD_OP_RESTART: begin_restart(c, now_ms); break;
    case SMSD_OP_SUSPEND: send_simple(c, SIGUSR1, "SIGUSR1", now_ms); break;
    case SMSD_OP_RESUME: send_simple(c, SIGUSR2, "SIGUSR2", now_ms); break;
    }
    return 0;
}

int smsd_control_fd(const struct smsd_control *c)
{
    return c->phase == PH_COMMAND ? c->child.out_fd : -1;
}

void smsd_control_on_readable(struct smsd_control *c)
{
    if (c->phase != PH_COMMAND)
        return;
    child_read(&c->child);
    if (c->child.out_fd < 0)
        c->wake_ms = 0; /* EOF: the command is exiting, reap it next turn */
}

int64_t smsd_control_next_deadline_ms(const struct smsd_control *c)
{
    switch (c->phase) {
    case PH_IDLE: return INT64_MAX;
    case PH_DONE: return 0;
    case PH_COMMAND: return min64(c->wake_ms, c->child.deadline_ms);
    case PH_CMD_SETTLE:
    case PH_TERM_WAIT:
    case PH_KILL_WAIT:
    case PH_START_WAIT: return c->wake_ms;
    }
    return 0;
}

static void step(struct smsd_control *c, int64_t now_ms)
{
    switch (c->phase) {
    case PH_IDLE:
    case PH_DONE:
        return;
    case PH_COMMAND:
        if (child_poll(&c->child, now_ms))
            command_finished(c, now_ms);
        else
            c->wake_ms = now_ms + COMMAND_POLL_MS;
        return;
    case PH_CMD_SETTLE:
        if (now_ms >= c->wake_ms)
            step_cmd_settle(c, now_ms);
        return;
    case PH_TERM_WAIT:
        if (now_ms >= c->wake_ms)
            step_term_wait(c, now_ms);
        return;
    case PH_KILL_WAIT:
        if (now_ms >= c->wake_ms)
            step_kill_wait(c, now_ms);
        return;
    case PH_START_WAIT:
        if (now_ms >= c->wake_ms)
            step_start_wait(c, now_ms);
        return;
    }
}

bool smsd_control_poll(struct smsd_control *c, int64_t now_ms, struct smsd_op_result *out)
{
    step(c, now_ms);
    if (c->phase != PH_DONE)
        return false;
    *out = c->res;
    c->phase = PH_IDLE;
    return true;
}

bool smsd_control_busy(const struct smsd_control *c) { return c->phase != PH_IDLE; }

void smsd_control_set_stop_grace(struct smsd_control *c, int64_t stop_grace_ms)
{
    if (stop_grace_ms >= 0)
        c->stop_grace_ms = stop_grace_ms;
}
