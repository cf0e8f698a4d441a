/* test_smsd_control: the stop/start/restart/suspend/resume machine against
 * real processes, driven by a small poll loop like the daemon's (poll() on the
 * exposed fd, timeouts from the next deadline).
 *
 * First with `sleep` children standing in for gammu-smsd (process_name
 * "sleep"): one that obeys SIGTERM, one that ignores it, stop commands that
 * fail, time out or do the job, pid reuse. They are our own children, so they
 * linger as zombies: that also proves a zombie counts as gone.
 *
 * Then with the real gammu-smsd on the modem emulator (skipped when either is
 * missing): start from a start_command, suspend/resume (the port is released
 * and taken again), stop with a failing stop_command, restart, a healthy stop
 * and the stop of a hung gammu-smsd, which ignores SIGTERM and needs SIGKILL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sms-sentinel/fsutil.h"
#include "sms-sentinel/port_holder.h"
#include "sms-sentinel/smsd_control.h"
#include "sms-sentinel/system_probe.h"

#define EMULATOR_DIR FIXTURES_DIR "/../emulator"

extern char **environ;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_argv(struct config_argv *a, ...)
{
    va_list ap;
    va_start(ap, a);
    a->argc = 0;
    char *s;
    while ((s = va_arg(ap, char *)) != NULL && a->argc < CONFIG_MAX_ARGV)
        a->argv[a->argc++] = s;
    a->argv[a->argc] = NULL;
    va_end(ap);
}

/* One op through to its result, the way the daemon's loop drives it. */
static void run_op(struct smsd_control *c, enum smsd_op op, int64_t limit_ms, struct smsd_op_result *r)
{
    char err[256] = "";
    int rc = smsd_control_begin(c, op, now_ms(), err, sizeof(err));
    if (rc < 0)
        fail_msg("begin %s: %d %s", smsd_op_str(op), rc, err);
    assert_true(smsd_control_busy(c));
    int64_t end = now_ms() + limit_ms;
    while (!smsd_control_poll(c, now_ms(), r)) {
        int64_t now = now_ms(), dl = smsd_control_next_deadline_ms(c);
        if (now > end)
            fail_msg("%s did not finish within %lld ms", smsd_op_str(op), (long long)limit_ms);
        assert_true(dl != INT64_MAX);
        int timeout = dl <= now ? 0 : (int)(dl - now > 1000 ? 1000 : dl - now);
        struct pollfd p = {.fd = smsd_control_fd(c), .events = POLLIN};
        if (poll(&p, 1, timeout) > 0)
            smsd_control_on_readable(c);
    }
    assert_false(smsd_control_busy(c));
    assert_int_equal(smsd_control_next_deadline_ms(c), INT64_MAX);
    assert_int_equal(r->op, op);
    print_message("  %s: ok=%d killed=%d exit=%d %lld ms: %s\n", smsd_op_str(op), r->ok, r->killed,
                  r->exit_status, (long long)r->duration_ms, r->message);
}

static void assert_contains(const char *text, const char *needle)
{
    if (!strstr(text, needle))
        fail_msg("\"%s\" does not contain \"%s\"", text, needle);
}

/* ---- stand-ins: sleep children ---- */

struct fx {
    char dir[64];
    char pidfile[128];
    struct config_argv start, stop, restart;
    struct smsd_control_options opt;
    pid_t kids[4];
    int nkids;
};

static int fx_setup(void **state)
{
    struct fx *fx = calloc(1, sizeof(*fx));
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/test-smsd-control-XXXXXX");
    if (!mkdtemp(fx->dir))
        return -1;
    snprintf(fx->pidfile, sizeof(fx->pidfile), "%s/smsd.pid", fx->dir);
    fx->opt = (struct smsd_control_options){
        .start_command = &fx->start, .stop_command = &fx->stop, .restart_command = &fx->restart,
        .pidfile = fx->pidfile, .stop_grace_ms = 2000, .command_timeout_ms = 3000,
        .process_name = "sleep",
    };
    *state = fx;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *fx = *state;
    for (int i = 0; i < fx->nkids; i++) {
        kill(fx->kids[i], SIGKILL);
        waitpid(fx->kids[i], NULL, 0);
    }
    unlink(fx->pidfile);
    rmdir(fx->dir);
    free(fx);
    return 0;
}

static void write_pidfile(const char *path, long pid)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%ld\n", pid);
    fclose(f);
}

/* A `sleep 30` named in the pidfile; ignore_term makes it a hung gammu-smsd
 * (an ignored signal stays ignored across exec). */
static pid_t spawn_sleep(struct fx *fx, bool ignore_term)
{
    char *argv[] = {"sleep", "30", NULL};
    pid_t pid;
    if (ignore_term)
        signal(SIGTERM, SIG_IGN);
    int rc = posix_spawnp(&pid, "sleep", NULL, NULL, argv, environ);
    if (ignore_term)
        signal(SIGTERM, SIG_DFL);
    assert_int_equal(rc, 0);
    fx->kids[fx->nkids++] = pid;
    write_pidfile(fx->pidfile, pid);
    return pid;
}

static struct smsd_control *fx_control(struct fx *fx)
{
    struct smsd_control *c = smsd_control_new(&fx->opt);
    assert_non_null(c);
    return c;
}

static void test_bad_options(void **state)
{
    struct fx *fx = *state;
    assert_null(smsd_control_new(NULL));
    struct smsd_control_options o = fx->opt;
    o.command_timeout_ms = 0;
    assert_null(smsd_control_new(&o));
    o = fx->opt;
    o.stop_grace_ms = -1;
    assert_null(smsd_control_new(&o));
    fx->start.argc = CONFIG_MAX_ARGV + 1;
    assert_null(smsd_control_new(&fx->opt));
}

static void test_begin_refuses(void **state)
{
    struct fx *fx = *state;
    char err[64];
    struct smsd_control *c = fx_control(fx);
    assert_int_equal(smsd_control_begin(c, SMSD_OP_START, now_ms(), err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "no start_command");
    assert_int_equal(smsd_control_begin(c, SMSD_OP_RESTART, now_ms(), err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "no start_command");
    assert_false(smsd_control_busy(c));
    smsd_control_free(c);

    fx->opt.pidfile = NULL;
    c = fx_control(fx);
    assert_int_equal(smsd_control_begin(c, SMSD_OP_STOP, now_ms(), err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "no pidfile");
    smsd_control_free(c);
}

static void test_not_running(void **state)
{
    struct fx *fx = *state;
    struct smsd_control *c = fx_control(fx);
    struct smsd_op_result r;
    run_op(c, SMSD_OP_STOP, 1000, &r);
    assert_true(r.ok);
    assert_false(r.killed);
    assert_int_equal(r.exit_status, -1);
    assert_string_equal(r.message, "not running");
    run_op(c, SMSD_OP_SUSPEND, 1000, &r);
    assert_false(r.ok);
    assert_string_equal(r.message, "not running");
    run_op(c, SMSD_OP_RESUME, 1000, &r);
    assert_false(r.ok);
    smsd_control_free(c);
}

/* The pidfile names a live process that is not gammu-smsd (this test): it
 * must be left alone, not SIGTERMed. */
static void test_pid_reuse(void **state)
{
    struct fx *fx = *state;
    fx->opt.process_name = NULL; /* gammu-smsd */
    write_pidfile(fx->pidfile, (long)getpid());
    struct smsd_control *c = fx_control(fx);
    struct smsd_op_result r;
    run_op(c, SMSD_OP_STOP, 1000, &r);
    assert_true(r.ok);
    assert_string_equal(r.message, "not running");
    run_op(c, SMSD_OP_SUSPEND, 1000, &r);
    assert_false(r.ok);
    smsd_control_free(c);
}

static void test_stop_by_sigterm(void **state)
{
    struct fx *fx = *state;
    spawn_sleep(fx, false);
    struct smsd_control *c = fx_control(fx);
    char err[64];
    struct smsd_op_result r;
    assert_int_equal(smsd_control_begin(c, SMSD_OP_STOP, now_ms(), err, sizeof(err)), 0);
    assert_int_equal(smsd_control_begin(c, SMSD_OP_START, now_ms(), err, sizeof(err)), -EBUSY);
    assert_int_equal(smsd_control_fd(c), -1); /* no command: signals only */
    int64_t end = now_ms() + 3000;
    while (!smsd_control_poll(c, now_ms(), &r) && now_ms() < end)
        poll(NULL, 0, 20);
    assert_true(r.ok);
    assert_false(r.killed);
    assert_contains(r.message, "stopped by SIGTERM after");
    assert_true(r.duration_ms < 1000);
    assert_int_equal(access(fx->pidfile, F_OK), -1); /* it names a zombie: stale */
    smsd_control_free(c);
}

static void test_stop_needs_sigkill(void **state)
{
    struct fx *fx = *state;
    spawn_sleep(fx, true);
    fx->opt.stop_grace_ms = 300;
    struct smsd_control *c = fx_control(fx);
    struct smsd_op_result r;
    run_op(c, SMSD_OP_STOP, 3000, &r);
    assert_true(r.ok);
    assert_true(r.killed);
    assert_contains(r.message, "ignored SIGTERM for 300 ms, killed with SIGKILL");
    assert_true(r.duration_ms >= 300 && r.duration_ms < 1500);
    smsd_control_free(c);
}

static void test_stop_command_fails(void **state)
{
    struct fx *fx = *state;
    spawn_sleep(fx, false);
    set_argv(&fx->stop, "false", NULL);
    struct smsd_control *c = fx_control(fx);
    struct smsd_op_result r;
    run_op(c, SMSD_OP_STOP, 3000, &r);
    assert_true(r.ok); /* the process is gone: SIGTERM did it */
    assert_false(r.killed);
    assert_int_equal(r.exit_status, 1);
    assert_contains(r.message, "stop_command exited 1; stopped by SIGTERM after");
    smsd_control_free(c);
}

static void test_stop_command_does_it(void **state)
{
    struct fx *fx = *state;
    char pid[24];
    snprintf(pid, sizeof(pid), "%ld", (long)spawn_sleep(fx, false));
    set_argv(&fx->stop, "kill", pid, NULL);
    struct smsd_control *c = fx_control(fx);
    struct smsd_op_result r;
    run_op(c, SMSD_OP_STOP, 3000, &r);
    assert_true(r.ok);
    assert_int_equal(r.exit_status, 0);
    assert_string_equal(r.message, "stopped by stop_command");
    smsd_control_free(c);
}

static void test_stop_command_times_out(void **state)
{
    struct fx *fx = *state;
    spawn_sleep(fx, false);
    set_argv(&fx->stop, "sleep", "5", NULL);
    fx->opt.command_timeout_ms = 300;
    struct smsd_control *c = fx_control(fx);
    struct smsd_op_result r;
    run_op(c, SMSD_OP_STOP, 3000, &r);
    assert_true(r.ok);
    assert_int_equal(r.exit_status, -1);
    assert_contains(r.message, "stop_command timed out after 300 ms; stopped by SIGTERM");
    assert_true(r.duration_ms >= 300 && r.duration_ms < 1500);
    smsd_control_free(c);
}

static void test_start_missing_program(void **state)
{
    struct fx *fx = *state;
    set_argv(&fx->start, "gammu-smsd-not-installed", "-d", NULL);
    struct smsd_control *c = fx_control(fx);
    struct smsd_op_result r;
    run_op(c, SMSD_OP_START, 1000, &r);
    assert_false(r.ok);
    assert_int_equal(r.exit_status, -1);
    assert_string_equal(r.message,
                        "start_command: cannot run gammu-smsd-not-installed: No such file or directory");
    smsd_control_free(c);
}

static void test_start_command_fails(void **state)
{
    struct fx *fx = *state;
    set_argv(&fx->start, "false", NULL);
    struct smsd_control *c = fx_control(fx);
    struct smsd_op_result r;
    run_op(c, SMSD_OP_START, 3000, &r);
    assert_false(r.ok);
    assert_int_equal(r.exit_status, 1);
    assert_string_equal(r.message, "start_command exited 1");
    smsd_control_free(c);
}

/* Also: a stale pidfile (here naming this test, not a "sleep") is removed
 * first, since gammu-smsd refuses to start while its pid answers kill(pid, 0). */
static void test_start_without_pidfile(void **state)
{
    struct fx *fx = *state;
    write_pidfile(fx->pidfile, (long)getpid());
    set_argv(&fx->start, "true", NULL);
    fx->opt.command_timeout_ms = 400;
    struct smsd_control *c = fx_control(fx);
    struct smsd_op_result r;
    run_op(c, SMSD_OP_START, 3000, &r);
    assert_false(r.ok);
    assert_int_equal(r.exit_status, 0);
    assert_contains(r.message, "names no live sleep after 400 ms");
    assert_true(r.duration_ms >= 400);
    assert_int_equal(access(fx->pidfile, F_OK), -1);
    smsd_control_free(c);
}

static void test_start_already_running(void **state)
{
    struct fx *fx = *state;
    long pid = spawn_sleep(fx, false);
    set_argv(&fx->start, "false", NULL); /* would fail if it ran */
    struct smsd_control *c = fx_control(fx);
    struct smsd_op_result r;
    run_op(c, SMSD_OP_START, 1000, &r);
    char want[64];
    snprintf(want, sizeof(want), "already running (pid %ld)", pid);
    assert_true(r.ok);
    assert_string_equal(r.message, want);
    assert_int_equal(r.exit_status, -1);
    smsd_control_free(c);
}

/* A restart_command that leaves the old process in the pidfile did not restart. */
static void test_restart_command_same_process(void **state)
{
    struct fx *fx = *state;
    spawn_sleep(fx, false);
    set_argv(&fx->restart, "true", NULL);
    fx->opt.command_timeout_ms = 400;
    struct smsd_control *c = fx_control(fx);
    struct smsd_op_result r;
    run_op(c, SMSD_OP_RESTART, 3000, &r);
    assert_false(r.ok);
    assert_contains(r.message, "names no new sleep");
    smsd_control_free(c);
}

static void test_restart_is_stop_then_start(void **state)
{
    struct fx *fx = *state;
    spawn_sleep(fx, false);
    set_argv(&fx->start, "false", NULL);
    struct smsd_control *c = fx_control(fx);
    struct smsd_op_result r;
    run_op(c, SMSD_OP_RESTART, 3000, &r);
    assert_false(r.ok);
    assert_int_equal(r.exit_status, 1);
    assert_contains(r.message, "stopped by SIGTERM after");
    assert_contains(r.message, "; start_command exited 1");
    smsd_control_free(c);
}

static void test_free_while_running(void **state)
{
    struct fx *fx = *state;
    spawn_sleep(fx, false);
    set_argv(&fx->stop, "sleep", "10", NULL);
    struct smsd_control *c = fx_control(fx);
    char err[64];
    assert_int_equal(smsd_control_begin(c, SMSD_OP_STOP, now_ms(), err, sizeof(err)), 0);
    assert_true(smsd_control_fd(c) >= 0);
    smsd_control_free(c); /* kills and reaps the stop command */
}

/* ---- the real gammu-smsd on the modem emulator ---- */

struct rig {
    bool ok;
    char dir[64];
    char link[128], sock[128], rc[128], log[128], pidfile[128];
    pid_t emu;
    int emu_out;
    struct config_argv start, stop;
    struct smsd_control_options opt;
};

static bool in_path(const char *name)
{
    const char *path = getenv("PATH");
    char buf[4096];
    while (path && *path) {
        size_t n = strcspn(path, ":");
        snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, name);
        if (access(buf, X_OK) == 0)
            return true;
        path += n + (path[n] == ':');
    }
    return false;
}

static void write_smsdrc(struct rig *g)
{
    FILE *f = fopen(g->rc, "w");
    assert_non_null(f);
    /* The fast settings of tests/emulator/gammurig.py (FAST_SMSD). */
    fprintf(f, "[gammu]\ndevice = %s\nconnection = at\n\n[smsd]\n", g->link);
    fprintf(f, "service = files\ndebuglevel = 1\ninboxformat = standard\ntransmitformat = auto\n"
               "commtimeout = 1\nreceivefrequency = 5\nloopsleep = 1\nstatusfrequency = 0\n"
               "checksecurity = 1\ncheckbattery = 0\nchecksignal = 0\nchecknetwork = 0\n");
    const char *dirs[] = {"inbox", "outbox", "sent", "error"};
    const char *keys[] = {"inboxpath", "outboxpath", "sentsmspath", "errorsmspath"};
    for (int i = 0; i < 4; i++) {
        char d[160];
        snprintf(d, sizeof(d), "%s/%s", g->dir, dirs[i]);
        mkdir(d, 0755);
        fprintf(f, "%s = %s/\n", keys[i], d);
    }
    fprintf(f, "logfile = %s\n", g->log);
    fclose(f);
}

static bool read_ready(int fd)
{
    char buf[64];
    size_t len = 0;
    int64_t end = now_ms() + 15000;
    while (len < sizeof(buf) - 1 && now_ms() < end) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 500) <= 0)
            continue;
        ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
        if (n <= 0)
            return false;
        len += (size_t)n;
        buf[len] = '\0';
        if (strstr(buf, "READY\n"))
            return true;
    }
    return false;
}

static bool start_emulator(struct rig *g)
{
    char emulog[160];
    snprintf(emulog, sizeof(emulog), "%s/emulator.log", g->dir);
    char *argv[] = {"python3", EMULATOR_DIR "/modem_emulator.py", "--link", g->link, "--control", g->sock,
                    "--log", emulog, NULL};
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        return false;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    int rc = posix_spawnp(&g->emu, "python3", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    g->emu_out = fds[0];
    return rc == 0 && read_ready(g->emu_out);
}

static int rig_setup(void **state)
{
    struct rig *g = calloc(1, sizeof(*g));
    g->emu = -1;
    g->emu_out = -1;
    *state = g;
    if (!in_path("gammu-smsd") || !in_path("python3"))
        return 0; /* every rig test skips */
    snprintf(g->dir, sizeof(g->dir), "/tmp/test-smsd-rig-XXXXXX");
    if (!mkdtemp(g->dir))
        return -1;
    snprintf(g->link, sizeof(g->link), "%s/modem", g->dir);
    snprintf(g->sock, sizeof(g->sock), "%s/emu.sock", g->dir);
    snprintf(g->rc, sizeof(g->rc), "%s/smsdrc", g->dir);
    snprintf(g->log, sizeof(g->log), "%s/smsd.log", g->dir);
    snprintf(g->pidfile, sizeof(g->pidfile), "%s/smsd.pid", g->dir);
    setenv("LC_ALL", "C.UTF-8", 1); /* gammu-smsd's log lines in English */
    write_smsdrc(g);
    if (!start_emulator(g))
        return -1;
    set_argv(&g->start, "gammu-smsd", "-c", g->rc, "-p", g->pidfile, "-d", NULL);
    g->opt = (struct smsd_control_options){
        .start_command = &g->start, .stop_command = &g->stop, .pidfile = g->pidfile,
        .stop_grace_ms = 8000, .command_timeout_ms = 10000, /* a stop during init takes ~4 s */
    };
    g->ok = true;
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int rig_teardown(void **state)
{
    struct rig *g = *state;
    long pid;
    if (g->ok && probe_pidfile_alive(g->pidfile, &pid) == TRI_YES)
        kill((pid_t)pid, SIGKILL); /* a test failed half way: no gammu-smsd left behind */
    if (g->emu > 0) {
        kill(g->emu, SIGTERM);
        waitpid(g->emu, NULL, 0);
    }
    if (g->emu_out >= 0)
        close(g->emu_out);
    if (g->dir[0])
        nftw(g->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(g);
    return 0;
}

/* One control command, one JSON line back. */
static bool emu_cmd(const struct rig *g, const char *cmd, char *reply, size_t size)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t plen = strlen(g->sock);
    assert_true(plen < sizeof(sa.sun_path));
    memcpy(sa.sun_path, g->sock, plen + 1);
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
    char line[128];
    snprintf(line, sizeof(line), "%s\n", cmd);
    ok = ok && send(fd, line, strlen(line), MSG_NOSIGNAL) == (ssize_t)strlen(line);
    size_t len = 0;
    while (ok && len < size - 1 && !memchr(reply, '\n', len)) {
        ssize_t n = recv(fd, reply + len, size - 1 - len, 0);
        ok = n > 0;
        len += ok ? (size_t)n : 0;
    }
    reply[len] = '\0';
    if (fd >= 0)
        close(fd);
    return ok;
}

static long emu_status_int(const struct rig *g, const char *key)
{
    char reply[16384], pat[64];
    if (!emu_cmd(g, "status", reply, sizeof(reply)))
        return -1;
    snprintf(pat, sizeof(pat), "\"%s\": ", key);
    const char *p = strstr(reply, pat);
    return p ? strtol(p + strlen(pat), NULL, 10) : 0;
}

static void wait_for(const char *what, int64_t limit_ms, bool (*pred)(const struct rig *, long), const struct rig *g,
                     long arg)
{
    int64_t end = now_ms() + limit_ms;
    while (!pred(g, arg)) {
        if (now_ms() > end)
            fail_msg("timed out after %lld ms waiting for %s", (long long)limit_ms, what);
        poll(NULL, 0, 100);
    }
}

static bool polled_since(const struct rig *g, long base) { return emu_status_int(g, "AT+CPMS=") > base; }
static bool hung_read(const struct rig *g, long unused) { return emu_status_int(g, "bytes_ignored_while_hung") > 0; }

static long log_size(const struct rig *g)
{
    struct stat st;
    return stat(g->log, &st) == 0 ? (long)st.st_size : 0;
}

static bool log_has_after(const struct rig *g, long mark, const char *needle)
{
    char *text = NULL;
    size_t len = 0;
    if (fs_read_file(g->log, 1 << 22, &text, &len) < 0)
        return false;
    bool found = (size_t)mark <= len && strstr(text + mark, needle) != NULL;
    free(text);
    return found;
}

static bool suspended_line(const struct rig *g, long mark) { return log_has_after(g, mark, "Terminating communication"); }
static bool resumed_line(const struct rig *g, long mark) { return log_has_after(g, mark, "Starting phone communication"); }

static int holders(const struct rig *g, long *pid)
{
    struct port_holder h[8];
    int n = port_holder_find("/proc", g->link, (long)g->emu, h, 8); /* the emulator keeps the slave open */
    if (pid)
        *pid = n > 0 ? h[0].pid : -1;
    return n;
}

static bool port_free(const struct rig *g, long unused) { return holders(g, NULL) == 0; }
static bool port_held(const struct rig *g, long unused) { return holders(g, NULL) > 0; }

/* START through the start_command, then wait for the first SIM poll. */
static long rig_start(struct rig *g, struct smsd_control *c, enum smsd_op op, struct smsd_op_result *r)
{
    long base = emu_status_int(g, "AT+CPMS=");
    run_op(c, op, 15000, r);
    assert_true(r->ok);
    long pid;
    assert_int_equal(probe_pidfile_alive(g->pidfile, &pid), TRI_YES);
    wait_for("the first AT+CPMS poll", 30000, polled_since, g, base);
    return pid;
}

static void test_rig_start_suspend_resume(void **state)
{
    struct rig *g = *state;
    if (!g->ok)
        skip();
    struct smsd_control *c = smsd_control_new(&g->opt);
    assert_non_null(c);
    struct smsd_op_result r;
    long pid = rig_start(g, c, SMSD_OP_START, &r);
    char want[64];
    snprintf(want, sizeof(want), "started pid %ld", pid);
    assert_string_equal(r.message, want);
    assert_int_equal(r.exit_status, 0);
    long holder;
    assert_int_equal(holders(g, &holder), 1);
    assert_int_equal(holder, pid);

    long mark = log_size(g);
    run_op(c, SMSD_OP_SUSPEND, 1000, &r);
    assert_true(r.ok);
    wait_for("the suspend log line", 10000, suspended_line, g, mark);
    wait_for("gammu-smsd to release the port", 10000, port_free, g, 0);

    mark = log_size(g);
    run_op(c, SMSD_OP_RESUME, 1000, &r);
    assert_true(r.ok);
    wait_for("the resume log line", 10000, resumed_line, g, mark);
    wait_for("gammu-smsd to open the port again", 10000, port_held, g, 0);
    long base = emu_status_int(g, "AT+CPMS=");
    wait_for("the first AT+CPMS poll after resume", 30000, polled_since, g, base);
    smsd_control_free(c);
}

static void test_rig_stop_command_fails(void **state)
{
    struct rig *g = *state;
    if (!g->ok)
        skip();
    set_argv(&g->stop, "false", NULL);
    struct smsd_control *c = smsd_control_new(&g->opt);
    assert_non_null(c);
    set_argv(&g->stop, NULL);
    struct smsd_op_result r;
    run_op(c, SMSD_OP_STOP, 10000, &r);
    assert_true(r.ok);
    assert_false(r.killed);
    assert_int_equal(r.exit_status, 1);
    assert_contains(r.message, "stop_command exited 1; stopped by SIGTERM after");
    assert_int_not_equal(probe_pidfile_alive(g->pidfile, NULL), TRI_YES);
    smsd_control_free(c);
}

static void test_rig_restart(void **state)
{
    struct rig *g = *state;
    if (!g->ok)
        skip();
    struct smsd_control *c = smsd_control_new(&g->opt);
    assert_non_null(c);
    struct smsd_op_result r;
    run_op(c, SMSD_OP_RESTART, 15000, &r); /* from stopped */
    assert_true(r.ok);
    assert_contains(r.message, "not running; started pid");
    long first = strtol(strstr(r.message, "pid ") + 4, NULL, 10);
    long second = rig_start(g, c, SMSD_OP_RESTART, &r); /* stops it during its init */
    assert_contains(r.message, "stopped by SIGTERM after");
    assert_int_not_equal(first, second);
    smsd_control_free(c);
}

static void test_rig_stop_healthy(void **state)
{
    struct rig *g = *state;
    if (!g->ok)
        skip();
    struct smsd_control *c = smsd_control_new(&g->opt);
    assert_non_null(c);
    struct smsd_op_result r;
    run_op(c, SMSD_OP_STOP, 10000, &r);
    assert_true(r.ok);
    assert_false(r.killed);
    assert_contains(r.message, "stopped by SIGTERM after");
    assert_true(r.duration_ms < 2000);
    assert_int_equal(holders(g, NULL), 0);
    smsd_control_free(c);
}

static void test_rig_stop_hung(void **state)
{
    struct rig *g = *state;
    if (!g->ok)
        skip();
    g->opt.stop_grace_ms = 2000;
    struct smsd_control *c = smsd_control_new(&g->opt);
    assert_non_null(c);
    struct smsd_op_result r;
    rig_start(g, c, SMSD_OP_START, &r);
    char reply[256];
    assert_true(emu_cmd(g, "hang on", reply, sizeof(reply)));
    wait_for("gammu-smsd to talk to the hung modem", 20000, hung_read, g, 0);
    poll(NULL, 0, 1000); /* inside a libgammu command timeout (20-40 s) now */
    run_op(c, SMSD_OP_STOP, 10000, &r);
    assert_true(r.ok);
    assert_true(r.killed);
    assert_contains(r.message, "ignored SIGTERM for 2000 ms, killed with SIGKILL");
    assert_true(r.duration_ms >= 2000 && r.duration_ms < 3000);
    assert_int_equal(holders(g, NULL), 0);
    assert_true(emu_cmd(g, "hang off", reply, sizeof(reply)));
    smsd_control_free(c);
}

int main(void)
{
    const struct CMUnitTest standins[] = {
        cmocka_unit_test_setup_teardown(test_bad_options, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_begin_refuses, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_not_running, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_pid_reuse, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_stop_by_sigterm, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_stop_needs_sigkill, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_stop_command_fails, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_stop_command_does_it, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_stop_command_times_out, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_start_missing_program, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_start_command_fails, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_start_without_pidfile, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_start_already_running, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_restart_command_same_process, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_restart_is_stop_then_start, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_free_while_running, fx_setup, fx_teardown),
    };
    const struct CMUnitTest rig[] = {
        cmocka_unit_test(test_rig_start_suspend_resume),
        cmocka_unit_test(test_rig_stop_command_fails),
        cmocka_unit_test(test_rig_restart),
        cmocka_unit_test(test_rig_stop_healthy),
        cmocka_unit_test(test_rig_stop_hung),
    };
    int failed = cmocka_run_group_tests_name("stand-ins", standins, NULL, NULL);
    return failed + cmocka_run_group_tests_name("gammu-smsd", rig, rig_setup, rig_teardown);
}
