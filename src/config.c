/* config: sms-sentinel.conf (SPEC section 3). One table below holds every key:
 * section, name, type, default, range or check, help text and its place in
 * struct config. Loading is: the table's defaults, then the file through libinih
 * (a reader wrapper numbers the lines and rejects bad ones itself, so every
 * problem is reported, not only inih's first), derived defaults (node_id from the
 * host name, client_id, base_topic, the TLS port), checks across keys, then the
 * paths gammu-smsd knows, from gammu-smsdrc. Every problem becomes one
 * "FILE:LINE: message"; any problem means no config. */
#include "sms-sentinel/ladder.h"
#include "sms-sentinel/usb_device.h"
#include "sms-sentinel/config.h"

#include <errno.h>
#include <fnmatch.h>
#include <ini.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sms-sentinel/fsutil.h"
#include "sms-sentinel/gammu_errors.h"
#include "sms-sentinel/gammu_smsdrc.h"
#include "sms-sentinel/log.h"
#include "sms-sentinel/pool.h"
#include "sms-sentinel/strbuf.h"
#include "config_internal.h"

void config_errors_clear(struct config_errors *errs)
{
    if (!errs)
        return;
    for (int i = 0; i < errs->count; i++) {
        free(errs->items[i].file);
        free(errs->items[i].message);
    }
    free(errs->items);
    errs->items = NULL;
    errs->count = 0;
}

void config_errors_print(const struct config_errors *errs, FILE *out)
{
    for (int i = 0; errs && i < errs->count; i++)
        fprintf(out, "%s:%d: %s\n", errs->items[i].file, errs->items[i].line, errs->items[i].message);
}

static int errors_push(struct config_errors *errs, const char *file, int line, const char *message)
{
    struct config_error *items = realloc(errs->items, (size_t)(errs->count + 1) * sizeof(*items));
    if (!items)
        return -1;
    errs->items = items;
    struct config_error *e = &items[errs->count];
    e->file = strdup(file);
    e->message = strdup(message);
    e->line = line;
    if (!e->file || !e->message) {
        free(e->file);
        free(e->message);
        return -1;
    }
    errs->count++;
    return 0;
}

/* ---- parsing ---- */

struct parse {
    const char *file;
    const char *text;
    size_t len, pos;
    int lineno;
    const char *section; /* the table's spelling; NULL before any or when unknown */
    bool section_unknown;
    bool failed, stop;
    int reported;
    int key_line[CONFIG_KEY_MAX]; /* where each key was set; 0 = not in the file, < 0 = with a bad value */
    struct config *cfg;
    struct config_errors *errs;
};

static void report(struct parse *p, int line, const char *message)
{
    p->failed = true;
    if (p->stop)
        return;
    if (++p->reported >= CONFIG_MAX_ERRORS) {
        message = "too many errors; giving up";
        p->stop = true;
    }
    /* Out of memory here still fails the load through p->failed. */
    (void)errors_push(p->errs, p->file, line, message);
}

static void reportf(struct parse *p, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void reportf(struct parse *p, int line, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n < 0)
        report(p, line, "(message could not be formatted)");
    else
        report(p, line, msg); /* a truncated message still says enough */
}

/* Writes s as 'printable text' into buf, for messages about user input. */
static const char *quoted(const char *s, size_t n, char *buf, size_t size)
{
    struct strbuf sb;
    strbuf_init(&sb, buf, size);
    config_append_quoted(&sb, s, n);
    return buf;
}

static const char *printable(const char *s, size_t n, char *buf, size_t size)
{
    struct strbuf sb;
    strbuf_init(&sb, buf, size);
    strbuf_append_printable(&sb, s, n > 60 ? 60 : n);
    strbuf_append(&sb, n > 60 ? "..." : "");
    return buf;
}

static void enter_section(struct parse *p, const char *name, size_t n)
{
    char q[80];
    while (n > 0 && (*name == ' ' || *name == '\t')) {
        name++;
        n--;
    }
    while (n > 0 && (name[n - 1] == ' ' || name[n - 1] == '\t'))
        n--;
    p->section = config_section_find(name, n);
    p->section_unknown = !p->section;
    if (!p->section)
        reportf(p, p->lineno, "unknown section [%s]", printable(name, n, q, sizeof(q)));
}

static bool section_line_ok(struct parse *p, const char *s, size_t n)
{
    const char *end = memchr(s, ']', n);
    if (!end) {
        report(p, p->lineno, "syntax error: '[' without ']'");
        p->section = NULL;
        p->section_unknown = true; /* no cascade of errors for its keys */
        return false;
    }
    enter_section(p, s + 1, (size_t)(end - s - 1));
    const char *rest = end + 1;
    size_t left = n - (size_t)(rest - s);
    size_t blanks = strspn(rest, " \t");
    if (blanks < left && rest[blanks] != ';' && rest[blanks] != '#') {
        report(p, p->lineno, "syntax error: text after ']'");
        return false;
    }
    return p->section != NULL;
}

static bool key_line_ok(struct parse *p, const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i] != '=' && s[i] != ':' && !(s[i] == ';' && i > 0 && (s[i - 1] == ' ' || s[i - 1] == '\t')))
        i++;
    char q[80];
    if (i == n || s[i] != '=') {
        reportf(p, p->lineno, "syntax error: expected 'key = value', not %s", quoted(s, n, q, sizeof(q)));
        return false;
    }
    if (i == 0) {
        report(p, p->lineno, "syntax error: no key name before '='");
        return false;
    }
    return true;
}

/* Whether the raw line fits inih's buffer as one NUL-free string. */
static bool line_fits(struct parse *p, const char *s, size_t n, int num)
{
    if (memchr(s, '\0', n)) {
        report(p, p->lineno, "NUL byte in line");
        return false;
    }
    if (n + 2 > (size_t)num) {
        reportf(p, p->lineno, "line too long (more than %d characters)", num - 2);
        if (s[0] == '[') {
            p->section = NULL;
            p->section_unknown = true;
        }
        return false;
    }
    return true;
}

/* Decides whether inih may see the line s (n bytes, NUL-terminated); reports
 * what is wrong with it. */
static bool line_ok(struct parse *p, const char *s, size_t n)
{
    if (n == 0 || s[0] == ';' || s[0] == '#')
        return true;
    if (s[0] == '[')
        return section_line_ok(p, s, n);
    return key_line_ok(p, s, n);
}

/* Takes the next physical line: without BOM, leading blanks (so inih never sees a
 * continuation line) and trailing blanks or '\r'. */
static size_t next_line(struct parse *p, const char **out)
{
    const char *s = p->text + p->pos;
    const char *nl = memchr(s, '\n', p->len - p->pos);
    size_t n = nl ? (size_t)(nl - s) : p->len - p->pos;
    p->pos += n + (nl ? 1 : 0);
    p->lineno++;
    if (p->lineno == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
        s += 3;
        n -= 3;
    }
    while (n > 0 && (*s == ' ' || *s == '\t')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    *out = s;
    return n;
}

/* inih's reader: one physical line per call, so inih's line count is ours. A
 * line inih must not see is handed over empty, after it has been reported. */
static char *conf_reader(char *str, int num, void *stream)
{
    struct parse *p = stream;
    if (p->stop || p->pos >= p->len || num < 2)
        return NULL;
    const char *line;
    size_t n = next_line(p, &line);
    if (line_fits(p, line, n, num)) {
        memcpy(str, line, n);
        str[n] = '\0';
        if (!line_ok(p, str, n))
            n = 0;
    } else {
        n = 0;
    }
    str[n] = '\n';
    str[n + 1] = '\0';
    return str;
}

static int conf_handler(void *user, const char *section, const char *name, const char *value)
{
    struct parse *p = user;
    char q[80];
    (void)section; /* p->section is the checked one */
    if (!p->section) {
        if (!p->section_unknown)
            reportf(p, p->lineno, "key %s is outside any section", quoted(name, strlen(name), q, sizeof(q)));
        return 1;
    }
    int i = config_key_index(p->section, name);
    if (i < 0) {
        reportf(p, p->lineno, "unknown key %s in [%s]", quoted(name, strlen(name), q, sizeof(q)), p->section);
        return 1;
    }
    if (p->key_line[i] != 0) {
        reportf(p, p->lineno, "duplicate key '%s' in [%s] (first set on line %d)", config_keys[i].name, p->section,
                abs(p->key_line[i]));
        return 1;
    }
    p->key_line[i] = p->lineno;
    char msg[256];
    if (config_key_set(&config_keys[i], p->cfg, value, msg, sizeof(msg)) < 0) {
        report(p, p->lineno, msg);
        p->key_line[i] = -p->lineno;
    }
    return 1;
}

static void parse_text(struct parse *p)
{
    if (p->len >= 2 && ((p->text[0] == '\xFF' && p->text[1] == '\xFE') || (p->text[0] == '\xFE' && p->text[1] == '\xFF'))) {
        report(p, 1, "the file is UTF-16; save it as UTF-8");
        return;
    }
    int rc = ini_parse_stream(conf_reader, p, conf_handler, p);
    if (rc == -2)
        report(p, 0, "out of memory");
    else if (rc > 0 && !p->failed)
        report(p, rc, "syntax error"); /* inih saw what the reader let through */
}

static void apply_defaults(struct parse *p)
{
    char msg[256];
    for (size_t i = 0; i < config_key_count; i++) {
        const struct key_def *k = &config_keys[i];
        if (k->def && config_key_set(k, p->cfg, k->def, msg, sizeof(msg)) < 0)
            reportf(p, 0, "default of [%s] %s", k->section, msg);
    }
}

static int line_of(const struct parse *p, const char *section, const char *name)
{
    int i = config_key_index(section, name);
    return i < 0 ? 0 : abs(p->key_line[i]);
}

static bool key_was_bad(const struct parse *p, const char *section, const char *name)
{
    int i = config_key_index(section, name);
    return i >= 0 && p->key_line[i] < 0;
}

/* ---- derived defaults ---- */

void config_sanitize_id(const char *name, char *out, size_t size)
{
    if (size == 0)
        return;
    size_t n = 0;
    for (; name && name[n] && n + 1 < size; n++) {
        char c = name[n];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
        out[n] = ok ? c : '_';
    }
    out[n] = '\0';
}

static void set_derived(struct parse *p, char **slot, const char *prefix, const char *node_id)
{
    if (*slot)
        return;
    char buf[160];
    if (format_checked(buf, sizeof(buf), "%s%s", prefix, node_id) < 0 || !(*slot = strdup(buf)))
        report(p, 0, "out of memory");
}

static void derive_defaults(struct parse *p, const char *hostname)
{
    struct config *cfg = p->cfg;
    if (!cfg->node_id) {
        char id[NODE_ID_MAX];
        config_sanitize_id(hostname, id, sizeof(id));
        set_derived(p, &cfg->node_id, "", *id ? id : "node");
    }
    if (!cfg->node_id)
        return;
    set_derived(p, &cfg->client_id, "sms-sentinel-", cfg->node_id);
    set_derived(p, &cfg->base_topic, "sms-sentinel/", cfg->node_id);
    if (line_of(p, "mqtt", "port") == 0 && cfg->tls_ca && *cfg->tls_ca)
        cfg->mqtt_port = 8883;
}

/* ---- checks across keys ---- */

static bool list_has(const struct config_list *list, const char *item)
{
    for (int i = 0; i < list->count; i++)
        if (strcmp(list->items[i], item) == 0)
            return true;
    return false;
}

static bool recipient_allowed(const struct config *cfg, const char *number)
{
    if (cfg->allowed_recipients.count == 0)
        return true;
    for (int i = 0; i < cfg->allowed_recipients.count; i++)
        if (fnmatch(cfg->allowed_recipients.items[i], number, 0) == 0)
            return true;
    return false;
}

static void check_recovery(struct parse *p)
{
    const struct config *cfg = p->cfg;
    int line = line_of(p, "recovery", "methods");
    if (list_has(&cfg->methods, "command") && cfg->recovery_command.argc == 0)
        report(p, line, "methods: 'command' needs [recovery] command");
    if (cfg->recovery_enabled && cfg->methods.count == 0)
        report(p, line, "methods: empty while recovery is enabled (set enabled = no instead)");
}

bool config_is_set(const char *s) { return s && *s; }

static void check_mqtt(struct parse *p)
{
    const struct config *cfg = p->cfg;
    if (config_is_set(cfg->tls_cert) != config_is_set(cfg->tls_key)) {
        const char *which = config_is_set(cfg->tls_cert) ? "tls_cert" : "tls_key";
        reportf(p, line_of(p, "mqtt", which), "%s: tls_cert and tls_key go together", which);
    }
    if (config_is_set(cfg->tls_cert) && !config_is_set(cfg->tls_ca))
        report(p, line_of(p, "mqtt", "tls_cert"), "tls_cert: needs tls_ca as well");
    if (config_is_set(cfg->mqtt_password_file) && !config_is_set(cfg->mqtt_username))
        report(p, line_of(p, "mqtt", "password_file"), "password_file: needs username as well");
    /* Such an agent would take every pooled request on its own request topic. */
    size_t root = strlen(POOL_TOPIC_ROOT);
    const char *base = cfg->base_topic;
    if (base && strncmp(base, POOL_TOPIC_ROOT, root) == 0 && (base[root] == '\0' || base[root] == '/')) {
        if (line_of(p, "mqtt", "base_topic"))
            reportf(p, line_of(p, "mqtt", "base_topic"), "base_topic: '%s' is inside the pool's topics", base);
        else
            reportf(p, line_of(p, "agent", "node_id"), "node_id: '%s' makes base_topic %s, the pool's topics",
                    cfg->node_id, base);
    }
}

static void check_sms(struct parse *p)
{
    const struct config *cfg = p->cfg;
    for (int i = 0; i < cfg->default_recipients.count; i++) {
        if (!recipient_allowed(cfg, cfg->default_recipients.items[i]))
            reportf(p, line_of(p, "sms", "default_recipients"),
                    "default_recipients: '%s' is not allowed by allowed_recipients", cfg->default_recipients.items[i]);
    }
}

/* ---- paths from gammu-smsdrc ---- */

#define RC_OFF(field) offsetof(struct gammu_smsdrc, field)

const struct smsd_path config_smsd_paths[] = {
    {"logfile", OFF(logfile), OFF(logfile_origin), RC_OFF(logfile), -1, true},
    {"device", OFF(device), OFF(device_origin), RC_OFF(device), -1, true},
    {"inbox", OFF(inbox), OFF(inbox_origin), RC_OFF(inbox), -1, true},
    {"outbox", OFF(outbox), OFF(outbox_origin), RC_OFF(outbox), -1, true},
    {"sent", OFF(sent), OFF(sent_origin), RC_OFF(sent), 3, false},
    {"error", OFF(error), OFF(error_origin), RC_OFF(error), 4, false},
};

const int config_smsd_path_count = (int)(sizeof(config_smsd_paths) / sizeof(config_smsd_paths[0]));

char **config_path_slot(const struct config *cfg, const struct smsd_path *sp)
{
    return (char **)(void *)((char *)cfg + sp->field);
}

enum config_origin *config_origin_slot(const struct config *cfg, const struct smsd_path *sp)
{
    return (enum config_origin *)(void *)((char *)cfg + sp->origin);
}

/* gammu-smsd's value: sentsmspath defaults to outboxpath, errorsmspath to sent. */
static const char *rc_path(const struct gammu_smsdrc *rc, int row)
{
    const char *v = *(char *const *)(const void *)((const char *)rc + config_smsd_paths[row].rc_field);
    if (!config_is_set(v) && config_smsd_paths[row].fallback >= 0)
        return rc_path(rc, config_smsd_paths[row].fallback);
    return v;
}

static bool smsdrc_needed(const struct config *cfg)
{
    for (int i = 0; i < config_smsd_path_count; i++)
        if (config_smsd_paths[i].needed && !config_is_set(*config_path_slot(cfg, &config_smsd_paths[i])))
            return true;
    return false;
}

bool config_path_is_relative(const struct smsd_path *sp, const char *v)
{
    return config_is_set(v) && v[0] != '/' && !(strcmp(sp->key, "logfile") == 0 && strcmp(v, "syslog") == 0);
}

static void merge_path(struct parse *p, int row)
{
    const struct smsd_path *sp = &config_smsd_paths[row];
    char **slot = config_path_slot(p->cfg, sp);
    enum config_origin *origin = config_origin_slot(p->cfg, sp);
    if (config_is_set(*slot)) {
        *origin = CONFIG_ORIGIN_OVERRIDE;
        return;
    }
    *origin = CONFIG_ORIGIN_NONE;
    const char *v = p->cfg->smsdrc ? rc_path(p->cfg->smsdrc, row) : NULL;
    if (!config_is_set(v))
        return;
    char *copy = strdup(v);
    if (!copy) {
        report(p, 0, "out of memory");
        return;
    }
    free(*slot);
    *slot = copy;
    *origin = CONFIG_ORIGIN_SMSDRC;
}

static void warn_relative(const struct parse *p, int row)
{
    const struct smsd_path *sp = &config_smsd_paths[row];
    const char *v = *config_path_slot(p->cfg, sp);
    if (!config_path_is_relative(sp, v))
        return;
    if (*config_origin_slot(p->cfg, sp) == CONFIG_ORIGIN_SMSDRC)
        log_warn("%s: %s '%s' from %s is relative to gammu-smsd's working directory; used as is", p->file, sp->key,
                 v, p->cfg->smsd_config);
    else
        log_warn("%s: [smsd] %s '%s' is relative to sms-sentinel's working directory", p->file, sp->key, v);
}

static void merge_smsdrc(struct parse *p)
{
    char why[256] = "";
    struct config *cfg = p->cfg;
    cfg->smsdrc = gammu_smsdrc_read(cfg->smsd_config, why, sizeof(why));
    if (!cfg->smsdrc && smsdrc_needed(cfg)) {
        char q[80];
        reportf(p, line_of(p, "smsd", "config"), "cannot read gammu-smsdrc %s: %s",
                quoted(cfg->smsd_config, strlen(cfg->smsd_config), q, sizeof(q)), why);
    }
    for (int i = 0; i < config_smsd_path_count; i++)
        merge_path(p, i);
    if (p->failed)
        return;
    for (int i = 0; i < config_smsd_path_count; i++)
        warn_relative(p, i);
}

/* ---- loading ---- */

struct config *config_load_string(const char *text, size_t len, const char *name, const char *hostname,
                                  struct config_errors *errs)
{
    struct config_errors local = {0};
    struct parse p = {.file = name ? name : "(config)", .text = text, .len = text ? len : 0};
    p.errs = errs ? errs : &local;
    p.cfg = calloc(1, sizeof(*p.cfg));
    if (!p.cfg || !(p.cfg->source_path = strdup(p.file))) {
        report(&p, 0, "out of memory");
    } else {
        apply_defaults(&p);
        parse_text(&p);
        derive_defaults(&p, hostname);
        check_recovery(&p);
        check_mqtt(&p);
        check_sms(&p);
        if (!key_was_bad(&p, "smsd", "config")) /* reading the default instead would mislead */
            merge_smsdrc(&p);
    }
    config_errors_clear(&local);
    if (p.failed) {
        config_free(p.cfg);
        return NULL;
    }
    return p.cfg;
}

static int read_whole(const char *path, char **text, size_t *len)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return -errno;
    if (!S_ISREG(st.st_mode))
        return -EINVAL;
    return fs_read_file(path, CONFIG_MAX_FILE, text, len);
}

struct config *config_load(const char *path, const char *hostname, struct config_errors *errs)
{
    if (!path)
        path = CONFIG_DEFAULT_PATH;
    char *text = NULL;
    size_t len = 0;
    int rc = read_whole(path, &text, &len);
    if (rc < 0) {
        const char *why = rc == -EINVAL ? "not a regular file" : rc == -EFBIG ? "larger than 1 MiB" : strerror(-rc);
        char msg[256];
        if (format_checked(msg, sizeof(msg), "cannot read: %s", why) < 0)
            strcpy(msg, "cannot read");
        if (errs)
            (void)errors_push(errs, path, 0, msg);
        return NULL;
    }
    struct config *cfg = config_load_string(text, len, path, hostname, errs);
    free(text);
    return cfg;
}

void config_free(struct config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < config_key_count; i++)
        config_key_free(&config_keys[i], cfg);
    gammu_smsdrc_free(cfg->smsdrc);
    free(cfg->source_path);
    free(cfg);
}

/* ---- printing ---- */
