/* main: command line (SPEC section 2) and wiring: load the config, then run the
 * daemon or one of the subcommands. Exit codes: 0 ok, 1 runtime, 2 usage/config. */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sms-sentinel/agent.h"
#include "sms-sentinel/cli_reset.h"
#include "sms-sentinel/cli_discovery.h"
#include "sms-sentinel/cli_send.h"
#include "sms-sentinel/config.h"
#include "sms-sentinel/gammu_smsdrc.h"
#include "sms-sentinel/log.h"
#include "sms-sentinel/state_store.h"
#include "sms-sentinel/status_report.h"
#include "sms-sentinel/system_probe.h"

#define EXIT_USAGE 2

static const char usage_text[] =
    "usage: sms-sentinel [-c FILE] [-v|-q]             run the daemon in the foreground\n"
    "       sms-sentinel check-config [-c FILE]        validate; print the effective config and a doctor's report\n"
    "       sms-sentinel status [-c FILE]              health, counters and last errors\n"
    "       sms-sentinel reset [-c FILE] [--method M]  one recovery now\n"
    "       sms-sentinel send [-c FILE] NUMBER TEXT    queue an SMS through the gammu-smsd outbox\n"
    "       sms-sentinel discovery [-c FILE]           print the Home Assistant discovery messages\n"
    "       sms-sentinel --version | --help\n"
    "The default config file is " CONFIG_DEFAULT_PATH ".\n";

struct cli {
    const char *command;
    const char *config_path;
    const char *method;
    int verbosity; /* -1 quiet, 0 config's level, 1 debug */
    int argc;      /* operands after the command */
    char **argv;
};

static int parse_cli(int argc, char **argv, struct cli *cli)
{
    static const struct option long_opts[] = {
        {"config", required_argument, NULL, 'c'}, {"method", required_argument, NULL, 'm'},
        {"verbose", no_argument, NULL, 'v'},      {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},         {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    memset(cli, 0, sizeof(*cli));
    cli->command = "run";
    cli->config_path = CONFIG_DEFAULT_PATH;
    int c;
    while ((c = getopt_long(argc, argv, "+c:vqh", long_opts, NULL)) != -1) {
        switch (c) {
        case 'c': cli->config_path = optarg; break;
        case 'm': cli->method = optarg; break;
        case 'v': cli->verbosity = 1; break;
        case 'q': cli->verbosity = -1; break;
        case 'h': fputs(usage_text, stdout); exit(0);
        case 'V': printf("sms-sentinel %s\n", SMS_VERSION); exit(0);
        default: return -1;
        }
    }
    if (optind < argc) {
        cli->command = argv[optind++];
        /* Options may also follow the command: "status -c FILE". */
        while ((c = getopt_long(argc, argv, "+c:m:vq", long_opts, NULL)) != -1) {
            switch (c) {
            case 'c': cli->config_path = optarg; break;
            case 'm': cli->method = optarg; break;
            case 'v': cli->verbosity = 1; break;
            case 'q': cli->verbosity = -1; break;
            default: return -1;
            }
        }
    }
    cli->argc = argc - optind;
    cli->argv = argv + optind;
    return 0;
}

static struct config *load_config(const char *path)
{
    char host[256] = "localhost";
    if (gethostname(host, sizeof(host) - 1) < 0)
        strcpy(host, "localhost");
    struct config_errors errs = {0};
    struct config *cfg = config_load(path, host, &errs);
    if (!cfg)
        config_errors_print(&errs, stderr);
    config_errors_clear(&errs);
    return cfg;
}

static void apply_log_level(const struct config *cfg, int verbosity)
{
    enum log_level level = LOG_LEVEL_INFO;
    log_level_from_str(cfg->log_level, &level);
    if (verbosity > 0)
        level = LOG_LEVEL_DEBUG;
    else if (verbosity < 0)
        level = LOG_LEVEL_WARN;
    log_set_level(level);
}

/* A small long-running daemon: large blocks (the follower's read chunk, the
 * outbox table) come from mmap so their untouched pages cost nothing, and
 * freed memory goes back to the system soon (see README "Benchmarks"). */
static void tune_malloc(void)
{
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, 16 * 1024);
    mallopt(M_TRIM_THRESHOLD, 64 * 1024);
    mallopt(M_ARENA_MAX, 1);
#endif
}

static int run_daemon(struct config *cfg, const char *path)
{
    char err[512];
    tune_malloc();
    struct agent *a = agent_new(cfg, path, err, sizeof(err));
    if (!a) {
        log_error("%s", err);
        return 1;
    }
    int rc = agent_run(a);
    agent_free(a);
    return rc;
}

static bool locale_is_utf8(void)
{
    const char *vars[] = {"LC_ALL", "LC_CTYPE", "LANG"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return strcasestr(v, "utf-8") || strcasestr(v, "utf8");
    }
    return false;
}

static int check_config(struct config *cfg)
{
    config_print(cfg, stdout);
    struct doctor_facts facts = {
        .modemmanager_running = probe_process_running("/proc", "ModemManager"),
        .service_locale_utf8 = locale_is_utf8(),
    };
    printf("\n# doctor's report on %s\n", cfg->smsd_config);
    int warnings = gammu_smsdrc_doctor(cfg->smsdrc, &facts, stdout);
    warnings += config_doctor(cfg, stdout);
    printf("# %d warning(s)\n", warnings);
    config_free(cfg);
    return 0;
}

static int show_status(struct config *cfg)
{
    int err = 0;
    char msg[512];
    json_object *snap = state_store_load(cfg->state_dir, &err, msg, sizeof(msg));
    config_free(cfg);
    if (!snap) {
        fprintf(stderr, "sms-sentinel: no saved state: %s%s\n", msg,
                err == ENOENT ? " (has the daemon run yet?)" : "");
        return 1;
    }
    json_object *pid;
    bool alive = false;
    if (json_object_object_get_ex(snap, "pid", &pid) && json_object_get_int64(pid) > 0)
        alive = kill((pid_t)json_object_get_int64(pid), 0) == 0 || errno == EPERM;
    status_report_print(snap, alive, stdout);
    json_object_put(snap);
    return 0;
}

int main(int argc, char **argv)
{
    struct cli cli;
    if (parse_cli(argc, argv, &cli) < 0) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    bool known = !strcmp(cli.command, "run") || !strcmp(cli.command, "check-config") ||
                 !strcmp(cli.command, "status") || !strcmp(cli.command, "reset") ||
                 !strcmp(cli.command, "send") || !strcmp(cli.command, "discovery");
    if (!known) {
        fprintf(stderr, "sms-sentinel: unknown command '%s'\n%s", cli.command, usage_text);
        return EXIT_USAGE;
    }
    struct config *cfg = load_config(cli.config_path);
    if (!cfg)
        return EXIT_USAGE;
    apply_log_level(cfg, cli.verbosity);
    if (!strcmp(cli.command, "run"))
        return run_daemon(cfg, cli.config_path);
    if (!strcmp(cli.command, "check-config"))
        return check_config(cfg);
    if (!strcmp(cli.command, "status"))
        return show_status(cfg);
    if (!strcmp(cli.command, "send")) {
        if (cli.argc != 2) {
            fprintf(stderr, "sms-sentinel: usage: send [-c FILE] NUMBER TEXT\n");
            config_free(cfg);
            return EXIT_USAGE;
        }
        int rc = cli_send_run(cfg, cli.argv[0], cli.argv[1]);
        config_free(cfg);
        return rc;
    }
    if (!strcmp(cli.command, "reset")) {
        int rc = cli_reset_run(cfg, cli.method);
        config_free(cfg);
        return rc;
    }
    /* discovery */
    int rc = cli_discovery_run(cfg, stdout, stderr);
    config_free(cfg);
    return rc;
}
