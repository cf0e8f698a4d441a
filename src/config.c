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

#define CONFIG_MAX_FILE (1024 * 1024)
#define CONFIG_MAX_ERRORS 100
#define NODE_ID_MAX 64

enum key_type { KEY_STRING, KEY_INT, KEY_BOOL, KEY_LIST, KEY_ARGV, KEY_ENUM };

#define KEY_NONEMPTY 1u

/* Returns NULL when the value (or list item) is fine, else why not, worded to
 * follow "key: 'value' ". Only called on non-empty values. */
typedef const char *(*key_check)(const char *value);

struct key_def {
    const char *section;
    const char *name;
    enum key_type type;
    const char *def; /* as written in a file; NULL: derived after parsing */
    int min, max;    /* KEY_INT */
    const char *const *choices; /* KEY_ENUM, NULL-terminated */
    key_check check;
    unsigned flags;
    size_t offset; /* of the field in struct config */
    const char *help;
};

/* ---- checks of single values ---- */

static const char *check_node_id(const char *s)
{
    size_t n = strlen(s);
    if (n > NODE_ID_MAX || strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") != n)
        return "may only hold a-z, 0-9, '_' and '-' (at most 64)";
    return NULL;
}

static const char *check_name(const char *s)
{
    size_t n = strlen(s);
    if (n > NODE_ID_MAX ||
        strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != n)
        return "may only hold letters, digits, '_' and '-' (at most 64)";
    return NULL;
}

static const char *check_topic(const char *s)
{
    size_t n = strlen(s);
    if (n > 200 || strpbrk(s, "+# \t") || s[0] == '/' || s[n - 1] == '/' || strstr(s, "//"))
        return "is not a usable MQTT topic prefix (no '+', '#', blanks or empty levels)";
    return NULL;
}

static const char *check_host(const char *s)
{
    if (strpbrk(s, " \t/"))
        return "is not a host name or address";
    return NULL;
}

static const char *check_phone(const char *s)
{
    const char *digits = s + (s[0] == '+');
    size_t n = strlen(digits);
    if (n < 2 || n > 20 || strspn(digits, "0123456789") != n)
        return "is not a phone number (an optional '+' and 2 to 20 digits)";
    return NULL;
}

static const char *check_glob(const char *s)
{
    if (strspn(s, "+0123456789*?") != strlen(s))
        return "is not a number pattern (only + 0-9 * ? allowed)";
    return NULL;
}

static const char *check_mail(const char *s)
{
    const char *at = strchr(s, '@');
    /* It becomes a sendmail argument: no option, one plain address. */
    if (s[0] == '-' || !at || at == s || at[1] == '\0' || strchr(at + 1, '@') || strpbrk(s, " \t,;<>()\"\\"))
        return "is not a mail address";
    return NULL;
}

/* One parser for usb_device: the one the recovery uses. */
static const char *check_usb_device(const char *s)
{
    struct usb_spec spec;
    char err[160];
    if (usb_spec_parse(s, &spec, err, sizeof(err)) == 0)
        return NULL;
    return "is not auto, VID:PID[:serial] (4 hex digits each) or a USB port path like 1-1.2";
}

static const char *check_method(const char *s)
{
    enum recovery_method m;
    if (recovery_method_from_str(s, &m) == 0)
        return NULL;
    return "is not a recovery method (restart_smsd usbreset rebind authorized port_power command)";
}

static const char *check_error_name(const char *s)
{
    if (gammu_error_code(s) < 0)
        return "is not a gammu error name (like TIMEOUT or DEVICEOPENERROR)";
    if (strcmp(s, "NONE") == 0)
        return "is not an error";
    if (strcmp(s, "SECURITYERROR") == 0)
        return "is never recovered automatically (retried PINs lock the SIM)";
    return NULL;
}

static const char *const log_levels[] = {"error", "warn", "info", "debug", NULL};

/* ---- the table ---- */

#define OFF(field) offsetof(struct config, field)
#define STR(sec, key, def, flags, check, field, help) \
    {sec, key, KEY_STRING, def, 0, 0, NULL, check, flags, OFF(field), help}
#define INT(sec, key, def, lo, hi, field, help) {sec, key, KEY_INT, def, lo, hi, NULL, NULL, 0, OFF(field), help}
#define BOOL(sec, key, def, field, help) {sec, key, KEY_BOOL, def, 0, 0, NULL, NULL, 0, OFF(field), help}
#define LIST(sec, key, def, check, field, help) {sec, key, KEY_LIST, def, 0, 0, NULL, check, 0, OFF(field), help}
#define ARGV(sec, key, def, flags, field, help) {sec, key, KEY_ARGV, def, 0, 0, NULL, NULL, flags, OFF(field), help}
#define ENUM(sec, key, def, choices, field, help) \
    {sec, key, KEY_ENUM, def, 0, 0, choices, NULL, 0, OFF(field), help}

static const struct key_def config_keys[] = {
    STR("agent", "node_id", NULL, KEY_NONEMPTY, check_node_id, node_id, "default: the host name, sanitized"),
    STR("agent", "state_dir", "/var/lib/sms-sentinel", KEY_NONEMPTY, NULL, state_dir,
        "counters and the no-loss journal"),
    ENUM("agent", "log_level", "info", log_levels, log_level, "error|warn|info|debug"),

    STR("smsd", "config", "/etc/gammu-smsdrc", KEY_NONEMPTY, NULL, smsd_config,
        "read for device, logfile and spool paths"),
    STR("smsd", "logfile", "", 0, NULL, logfile, "\"syslog\" follows the journal"),
    STR("smsd", "device", "", 0, NULL, device, "the modem tty gammu-smsd opens"),
    STR("smsd", "inbox", "", 0, NULL, inbox, NULL),
    STR("smsd", "outbox", "", 0, NULL, outbox, NULL),
    STR("smsd", "sent", "", 0, NULL, sent, NULL),
    STR("smsd", "error", "", 0, NULL, error, NULL),
    STR("smsd", "pidfile", "/run/gammu-smsd.pid", KEY_NONEMPTY, NULL, pidfile, NULL),
    ARGV("smsd", "start_command", "systemctl start gammu-smsd", KEY_NONEMPTY, start_command,
         "argv split on blanks, never a shell"),
    ARGV("smsd", "stop_command", "systemctl stop gammu-smsd", 0, stop_command,
         "empty: SIGTERM to the pidfile's process, SIGKILL after a grace period"),
    ARGV("smsd", "restart_command", "systemctl restart gammu-smsd", 0, restart_command,
         "empty: stop, then start_command"),

    STR("mqtt", "host", "localhost", KEY_NONEMPTY, check_host, mqtt_host, "the broker"),
    INT("mqtt", "port", "1883", 1, 65535, mqtt_port, "8883 when tls_ca is set"),
    STR("mqtt", "username", "", 0, NULL, mqtt_username, NULL),
    STR("mqtt", "password_file", "", 0, NULL, mqtt_password_file, "the password is read from this file"),
    STR("mqtt", "tls_ca", "", 0, NULL, tls_ca, "CA file; turns TLS on"),
    STR("mqtt", "tls_cert", "", 0, NULL, tls_cert, "client certificate (with tls_key)"),
    STR("mqtt", "tls_key", "", 0, NULL, tls_key, NULL),
    STR("mqtt", "client_id", NULL, KEY_NONEMPTY, NULL, client_id, "default: sms-sentinel-<node_id>"),
    STR("mqtt", "base_topic", NULL, KEY_NONEMPTY, check_topic, base_topic, "default: sms-sentinel/<node_id>"),
    INT("mqtt", "qos", "1", 0, 2, mqtt_qos, NULL),
    INT("mqtt", "keepalive", "30", 5, 3600, keepalive, "seconds"),
    STR("mqtt", "pool", "", 0, check_name, pool, "share send requests with other agents"),

    BOOL("homeassistant", "discovery", "yes", discovery, NULL),
    STR("homeassistant", "discovery_prefix", "homeassistant", KEY_NONEMPTY, check_topic, discovery_prefix, NULL),

    BOOL("recovery", "enabled", "yes", recovery_enabled, NULL),
    LIST("recovery", "errors",
         "TIMEOUT DEVICEOPENERROR DEVICENOTEXIST DEVICEWRITEERROR DEVICEREADERROR INVALIDLOCATION NOSIM",
         check_error_name, recovery_errors, "gammu errors that count"),
    INT("recovery", "threshold", "3", 1, 1000, threshold, "that many counted errors ..."),
    INT("recovery", "window", "120", 1, 86400, window_s, "... within that many seconds: recover"),
    LIST("recovery", "methods", "restart_smsd usbreset rebind authorized", check_method, methods,
         "the ladder, in order; port_power and command are opt-in"),
    STR("recovery", "usb_device", "auto", KEY_NONEMPTY, check_usb_device, usb_device,
        "auto, VID:PID[:serial] or a port path like 1-1.2"),
    STR("recovery", "sysfs_root", "/sys", KEY_NONEMPTY, NULL, sysfs_root, NULL),
    INT("recovery", "settle_timeout", "30", 1, 3600, settle_timeout_s, "seconds for the tty to come back"),
    INT("recovery", "verify_timeout", "60", 1, 86400, verify_timeout_s, "seconds without a counted error"),
    INT("recovery", "cooldown", "60", 1, 86400, cooldown_s, "seconds between two recoveries"),
    INT("recovery", "max_per_hour", "6", 1, 60, max_resets_per_hour, "then: failed, no more resets"),
    ARGV("recovery", "command", "", 0, recovery_command, "argv for the \"command\" method"),

    LIST("sms", "default_recipients", "", check_phone, default_recipients, "when a request names no number"),
    LIST("sms", "allowed_recipients", "", check_glob, allowed_recipients, "patterns like +336*; empty = any"),
    INT("sms", "max_parts", "6", 1, 255, max_parts, NULL),
    INT("sms", "max_per_hour", "60", 1, 3600, max_sms_per_hour, NULL),
    STR("sms", "forward_mail", "", 0, check_mail, forward_mail, "address; empty = off"),
    STR("sms", "sendmail", "/usr/sbin/sendmail", KEY_NONEMPTY, NULL, sendmail, NULL),
    INT("sms", "send_timeout", "600", 10, 7 * 86400, send_timeout_s,
        "an SMS still in the outbox after this many seconds is failed (gammu-smsd 1.42 retries forever)"),
    STR("sms", "archive", "", 0, NULL, inbox_archive,
        "folder for inbox files once published; empty = <state_dir>/archive"),
    BOOL("sms", "delete_received", "no", delete_received, "delete inbox files once published instead"),

    STR("probe", "own_number", "", 0, check_phone, own_number, "empty = probe off"),
    INT("probe", "interval", "21600", 1, 30 * 86400, probe_interval_s, "seconds between loopback probes"),
    BOOL("probe", "after_send", "no", probe_after_send, "also probe after each outgoing SMS"),
    INT("probe", "timeout", "180", 1, 86400, probe_timeout_s, "seconds"),
};

#define KEY_COUNT (sizeof(config_keys) / sizeof(config_keys[0]))

static void *key_field(const struct key_def *k, const struct config *cfg)
{
    return (char *)cfg + k->offset;
}

static int key_index(const char *section, const char *name)
{
    for (size_t i = 0; i < KEY_COUNT; i++)
        if (strcasecmp(config_keys[i].section, section) == 0 && strcasecmp(config_keys[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* The table's spelling of a section named n bytes at s, or NULL. */
static const char *section_find(const char *s, size_t n)
{
    for (size_t i = 0; i < KEY_COUNT; i++) {
        const char *sec = config_keys[i].section;
        if (strlen(sec) == n && strncasecmp(sec, s, n) == 0)
            return sec;
    }
    return NULL;
}

/* ---- storing values ---- */

/* Appends text from outside as 'text', bounded and printable. */
static void append_quoted(struct strbuf *sb, const char *s, size_t n)
{
    strbuf_append(sb, "'");
    strbuf_append_printable(sb, s, n > 60 ? 60 : n);
    strbuf_append(sb, n > 60 ? "...'" : "'");
}

static int fail(char *msg, size_t size, const struct key_def *k, const char *value, const char *why)
{
    struct strbuf sb;
    strbuf_init(&sb, msg, size);
    strbuf_printf(&sb, "%s: ", k->name);
    if (value) {
        append_quoted(&sb, value, strlen(value));
        strbuf_append(&sb, " ");
    }
    strbuf_append(&sb, why);
    return -1;
}

static bool has_control(const char *s, bool tab_ok)
{
    for (; *s; s++)
        if (((unsigned char)*s < 0x20 && !(tab_ok && *s == '\t')) || *s == 0x7f)
            return true;
    return false;
}

static int set_string(const struct key_def *k, struct config *cfg, const char *value, char *msg, size_t size)
{
    if (has_control(value, false))
        return fail(msg, size, k, value, "contains a control character");
    if (!*value && (k->flags & KEY_NONEMPTY))
        return fail(msg, size, k, NULL, "must not be empty");
    const char *why = *value && k->check ? k->check(value) : NULL;
    if (why)
        return fail(msg, size, k, value, why);
    char *copy = strdup(value);
    if (!copy)
        return fail(msg, size, k, NULL, "out of memory");
    char **slot = key_field(k, cfg);
    free(*slot);
    *slot = copy;
    return 0;
}

static int set_int(const struct key_def *k, struct config *cfg, const char *value, char *msg, size_t size)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (!*value || *end || end == value)
        return fail(msg, size, k, value, "is not a number");
    if (errno == ERANGE || v < k->min || v > k->max) {
        char why[64];
        if (format_checked(why, sizeof(why), "is out of range %d..%d", k->min, k->max) < 0)
            return fail(msg, size, k, value, "is out of range");
        return fail(msg, size, k, value, why);
    }
    *(int *)key_field(k, cfg) = (int)v;
    return 0;
}

static int set_bool(const struct key_def *k, struct config *cfg, const char *value, char *msg, size_t size)
{
    static const struct {
        const char *word;
        bool value;
    } words[] = {{"yes", true}, {"no", false}, {"true", true}, {"false", false},
                 {"on", true},  {"off", false}, {"1", true},   {"0", false}};
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (strcasecmp(value, words[i].word) == 0) {
            *(bool *)key_field(k, cfg) = words[i].value;
            return 0;
        }
    }
    return fail(msg, size, k, value, "is not yes or no (nor true/false, on/off, 1/0)");
}

static int set_enum(const struct key_def *k, struct config *cfg, const char *value, char *msg, size_t size)
{
    for (int i = 0; k->choices[i]; i++) {
        if (strcasecmp(value, k->choices[i]) == 0)
            return set_string(k, cfg, k->choices[i], msg, size);
    }
    char why[128];
    struct strbuf sb;
    strbuf_init(&sb, why, sizeof(why));
    strbuf_append(&sb, "is not one of ");
    for (int i = 0; k->choices[i]; i++)
        strbuf_printf(&sb, "%s%s", i ? "|" : "", k->choices[i]);
    return fail(msg, size, k, value, why);
}

static void free_words(char **words, int count)
{
    for (int i = 0; i < count; i++) {
        free(words[i]);
        words[i] = NULL;
    }
}

/* Splits value on blanks into new strings; returns the count, -1 when there are
 * more than max words, -2 when out of memory (nothing is left allocated). */
static int split_words(const char *value, char **words, int max)
{
    int count = 0;
    const char *s = value + strspn(value, " \t");
    while (*s) {
        size_t n = strcspn(s, " \t");
        if (count == max) {
            free_words(words, count);
            return -1;
        }
        words[count] = strndup(s, n);
        if (!words[count]) {
            free_words(words, count);
            return -2;
        }
        count++;
        s += n;
        s += strspn(s, " \t");
    }
    return count;
}

static int split_failed(const struct key_def *k, const char *value, int rc, int max, char *msg, size_t size)
{
    if (rc == -2)
        return fail(msg, size, k, NULL, "out of memory");
    char why[64];
    const char *noun = k->type == KEY_ARGV ? "words" : "items";
    if (format_checked(why, sizeof(why), "has more than %d %s", max, noun) < 0)
        return fail(msg, size, k, value, "is too long");
    return fail(msg, size, k, value, why);
}

/* Checks each item and that none repeats; returns 0 or -1 with msg set. */
static int check_items(const struct key_def *k, char **items, int count, char *msg, size_t size)
{
    for (int i = 0; i < count; i++) {
        const char *why = k->check ? k->check(items[i]) : NULL;
        if (why)
            return fail(msg, size, k, items[i], why);
        for (int j = 0; j < i; j++)
            if (strcmp(items[i], items[j]) == 0)
                return fail(msg, size, k, items[i], "is listed twice");
    }
    return 0;
}

static int set_list(const struct key_def *k, struct config *cfg, const char *value, char *msg, size_t size)
{
    if (has_control(value, true))
        return fail(msg, size, k, value, "contains a control character");
    struct config_list next = {0};
    int n = split_words(value, next.items, CONFIG_MAX_LIST);
    if (n < 0)
        return split_failed(k, value, n, CONFIG_MAX_LIST, msg, size);
    next.count = n;
    if (check_items(k, next.items, n, msg, size) < 0) {
        free_words(next.items, n);
        return -1;
    }
    struct config_list *list = key_field(k, cfg);
    free_words(list->items, list->count);
    *list = next;
    return 0;
}

static int set_argv(const struct key_def *k, struct config *cfg, const char *value, char *msg, size_t size)
{
    if (has_control(value, true))
        return fail(msg, size, k, value, "contains a control character");
    struct config_argv next = {0};
    int n = split_words(value, next.argv, CONFIG_MAX_ARGV);
    if (n < 0)
        return split_failed(k, value, n, CONFIG_MAX_ARGV, msg, size);
    if (n == 0 && (k->flags & KEY_NONEMPTY))
        return fail(msg, size, k, NULL, "must not be empty");
    next.argc = n;
    struct config_argv *argv = key_field(k, cfg);
    free_words(argv->argv, argv->argc);
    *argv = next;
    return 0;
}

/* Parses value into the key's field; returns 0, or -1 with the message in msg. */
static int key_set(const struct key_def *k, struct config *cfg, const char *value, char *msg, size_t size)
{
    /* "key =;x" keeps ";x" (no blank before ';'), but printed back as
     * "key = ;x" it would read as a comment: refuse it up front. */
    if (value[0] == ';' || value[0] == '#')
        return fail(msg, size, k, value, "starts with a comment character");
    switch (k->type) {
    case KEY_STRING: return set_string(k, cfg, value, msg, size);
    case KEY_INT: return set_int(k, cfg, value, msg, size);
    case KEY_BOOL: return set_bool(k, cfg, value, msg, size);
    case KEY_LIST: return set_list(k, cfg, value, msg, size);
    case KEY_ARGV: return set_argv(k, cfg, value, msg, size);
    case KEY_ENUM: return set_enum(k, cfg, value, msg, size);
    }
    return fail(msg, size, k, NULL, "has an unknown type");
}

static void key_free(const struct key_def *k, struct config *cfg)
{
    switch (k->type) {
    case KEY_STRING:
    case KEY_ENUM: {
        char **slot = key_field(k, cfg);
        free(*slot);
        *slot = NULL;
        break;
    }
    case KEY_LIST: {
        struct config_list *list = key_field(k, cfg);
        free_words(list->items, list->count);
        list->count = 0;
        break;
    }
    case KEY_ARGV: {
        struct config_argv *argv = key_field(k, cfg);
        free_words(argv->argv, argv->argc);
        argv->argc = 0;
        break;
    }
    case KEY_INT:
    case KEY_BOOL: break;
    }
}

/* ---- errors ---- */

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
    int key_line[KEY_COUNT]; /* where each key was set; 0 = not in the file, < 0 = with a bad value */
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
    append_quoted(&sb, s, n);
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
    p->section = section_find(name, n);
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
    int i = key_index(p->section, name);
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
    if (key_set(&config_keys[i], p->cfg, value, msg, sizeof(msg)) < 0) {
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
    for (size_t i = 0; i < KEY_COUNT; i++) {
        const struct key_def *k = &config_keys[i];
        if (k->def && key_set(k, p->cfg, k->def, msg, sizeof(msg)) < 0)
            reportf(p, 0, "default of [%s] %s", k->section, msg);
    }
}

static int line_of(const struct parse *p, const char *section, const char *name)
{
    int i = key_index(section, name);
    return i < 0 ? 0 : abs(p->key_line[i]);
}

static bool key_was_bad(const struct parse *p, const char *section, const char *name)
{
    int i = key_index(section, name);
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

static bool is_set(const char *s) { return s && *s; }

static void check_mqtt(struct parse *p)
{
    const struct config *cfg = p->cfg;
    if (is_set(cfg->tls_cert) != is_set(cfg->tls_key)) {
        const char *which = is_set(cfg->tls_cert) ? "tls_cert" : "tls_key";
        reportf(p, line_of(p, "mqtt", which), "%s: tls_cert and tls_key go together", which);
    }
    if (is_set(cfg->tls_cert) && !is_set(cfg->tls_ca))
        report(p, line_of(p, "mqtt", "tls_cert"), "tls_cert: needs tls_ca as well");
    if (is_set(cfg->mqtt_password_file) && !is_set(cfg->mqtt_username))
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

struct smsd_path {
    const char *key; /* in [smsd] */
    size_t field, origin; /* in struct config */
    size_t rc_field;      /* in struct gammu_smsdrc */
    int fallback;         /* gammu's default: this other row's value; -1 none */
    bool needed;          /* without gammu-smsdrc, this must be set here */
};

#define RC_OFF(field) offsetof(struct gammu_smsdrc, field)

static const struct smsd_path smsd_paths[] = {
    {"logfile", OFF(logfile), OFF(logfile_origin), RC_OFF(logfile), -1, true},
    {"device", OFF(device), OFF(device_origin), RC_OFF(device), -1, true},
    {"inbox", OFF(inbox), OFF(inbox_origin), RC_OFF(inbox), -1, true},
    {"outbox", OFF(outbox), OFF(outbox_origin), RC_OFF(outbox), -1, true},
    {"sent", OFF(sent), OFF(sent_origin), RC_OFF(sent), 3, false},
    {"error", OFF(error), OFF(error_origin), RC_OFF(error), 4, false},
};

#define SMSD_PATHS ((int)(sizeof(smsd_paths) / sizeof(smsd_paths[0])))

static char **path_slot(const struct config *cfg, const struct smsd_path *sp)
{
    return (char **)(void *)((char *)cfg + sp->field);
}

static enum config_origin *origin_slot(const struct config *cfg, const struct smsd_path *sp)
{
    return (enum config_origin *)(void *)((char *)cfg + sp->origin);
}

/* gammu-smsd's value: sentsmspath defaults to outboxpath, errorsmspath to sent. */
static const char *rc_path(const struct gammu_smsdrc *rc, int row)
{
    const char *v = *(char *const *)(const void *)((const char *)rc + smsd_paths[row].rc_field);
    if (!is_set(v) && smsd_paths[row].fallback >= 0)
        return rc_path(rc, smsd_paths[row].fallback);
    return v;
}

static bool smsdrc_needed(const struct config *cfg)
{
    for (int i = 0; i < SMSD_PATHS; i++)
        if (smsd_paths[i].needed && !is_set(*path_slot(cfg, &smsd_paths[i])))
            return true;
    return false;
}

static bool path_is_relative(const struct smsd_path *sp, const char *v)
{
    return is_set(v) && v[0] != '/' && !(strcmp(sp->key, "logfile") == 0 && strcmp(v, "syslog") == 0);
}

static void merge_path(struct parse *p, int row)
{
    const struct smsd_path *sp = &smsd_paths[row];
    char **slot = path_slot(p->cfg, sp);
    enum config_origin *origin = origin_slot(p->cfg, sp);
    if (is_set(*slot)) {
        *origin = CONFIG_ORIGIN_OVERRIDE;
        return;
    }
    *origin = CONFIG_ORIGIN_NONE;
    const char *v = p->cfg->smsdrc ? rc_path(p->cfg->smsdrc, row) : NULL;
    if (!is_set(v))
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
    const struct smsd_path *sp = &smsd_paths[row];
    const char *v = *path_slot(p->cfg, sp);
    if (!path_is_relative(sp, v))
        return;
    if (*origin_slot(p->cfg, sp) == CONFIG_ORIGIN_SMSDRC)
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
    for (int i = 0; i < SMSD_PATHS; i++)
        merge_path(p, i);
    if (p->failed)
        return;
    for (int i = 0; i < SMSD_PATHS; i++)
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
    for (size_t i = 0; i < KEY_COUNT; i++)
        key_free(&config_keys[i], cfg);
    gammu_smsdrc_free(cfg->smsdrc);
    free(cfg->source_path);
    free(cfg);
}

/* ---- printing ---- */

static void append_words(struct strbuf *sb, char *const *words, int count)
{
    for (int i = 0; i < count; i++)
        strbuf_printf(sb, "%s%s", i ? " " : "", words[i]);
}

static void format_value(const struct key_def *k, const struct config *cfg, struct strbuf *sb)
{
    const void *field = key_field(k, cfg);
    switch (k->type) {
    case KEY_STRING:
    case KEY_ENUM: {
        const char *s = *(char *const *)field;
        strbuf_append(sb, s ? s : "");
        break;
    }
    case KEY_INT: strbuf_printf(sb, "%d", *(const int *)field); break;
    case KEY_BOOL: strbuf_append(sb, *(const bool *)field ? "yes" : "no"); break;
    case KEY_LIST: {
        const struct config_list *list = field;
        append_words(sb, list->items, list->count);
        break;
    }
    case KEY_ARGV: {
        const struct config_argv *argv = field;
        append_words(sb, argv->argv, argv->argc);
        break;
    }
    }
}

static const struct smsd_path *smsd_path_of(const struct key_def *k)
{
    if (strcmp(k->section, "smsd") != 0)
        return NULL;
    for (int i = 0; i < SMSD_PATHS; i++)
        if (strcmp(smsd_paths[i].key, k->name) == 0)
            return &smsd_paths[i];
    return NULL;
}

static void format_comment(const struct key_def *k, const struct config *cfg, struct strbuf *sb)
{
    const struct smsd_path *sp = smsd_path_of(k);
    if (!sp) {
        if (k->help)
            strbuf_append(sb, k->help);
        return;
    }
    switch (*origin_slot(cfg, sp)) {
    case CONFIG_ORIGIN_NONE: strbuf_append(sb, "set in neither file"); break;
    case CONFIG_ORIGIN_OVERRIDE: strbuf_append(sb, "set here (overrides gammu-smsdrc)"); break;
    case CONFIG_ORIGIN_SMSDRC: strbuf_printf(sb, "from gammu-smsdrc %s", cfg->smsd_config); break;
    }
}

static void print_key(const struct key_def *k, const struct config *cfg, FILE *out)
{
    char line[1024], comment[512];
    struct strbuf sb, cb;
    strbuf_init(&sb, line, sizeof(line));
    strbuf_init(&cb, comment, sizeof(comment));
    strbuf_printf(&sb, "%s = ", k->name);
    format_value(k, cfg, &sb);
    format_comment(k, cfg, &cb);
    if (cb.len > 0)
        fprintf(out, "%-40s ; %s\n", line, comment);
    else
        fprintf(out, "%s\n", line);
}

void config_print(const struct config *cfg, FILE *out)
{
    fprintf(out, "; effective configuration from %s (defaults included)\n", cfg->source_path);
    const char *section = NULL;
    for (size_t i = 0; i < KEY_COUNT; i++) {
        const struct key_def *k = &config_keys[i];
        if (!section || strcmp(section, k->section) != 0) {
            fprintf(out, "\n[%s]\n", k->section);
            section = k->section;
        }
        print_key(k, cfg, out);
    }
}

/* ---- check-config's report on files named here ---- */

static int doctor_file(const char *key, const char *path, FILE *out)
{
    if (!is_set(path))
        return 0;
    if (access(path, R_OK) < 0) {
        fprintf(out, "warning: %s %s: cannot be read by this user: %s\n", key, path, strerror(errno));
        return 1;
    }
    fprintf(out, "ok: %s %s is readable\n", key, path);
    return 0;
}

/* A secret (password_file, tls_key): readable here, not empty, and not readable
 * by every user (group-readable is fine: root:sms-sentinel 0640 is a common setup). */
static int doctor_secret(const char *key, const char *path, FILE *out)
{
    if (!is_set(path))
        return 0;
    char *text = NULL;
    size_t len = 0;
    int rc = fs_read_file(path, 65536, &text, &len);
    if (rc < 0) {
        fprintf(out, "warning: %s %s: cannot be read by this user: %s\n", key, path, strerror(-rc));
        return 1;
    }
    size_t first_line = strcspn(text, "\r\n");
    explicit_bzero(text, len);
    free(text);
    if (first_line == 0) {
        fprintf(out, "warning: %s %s: is empty (its first line is the secret)\n", key, path);
        return 1;
    }
    struct stat st;
    if (stat(path, &st) == 0 && (st.st_mode & S_IROTH)) {
        fprintf(out, "warning: %s %s: readable by every user (mode %04o): chmod 600 (or 640 with the daemon's group)\n",
                key, path, (unsigned)(st.st_mode & 07777));
        return 1;
    }
    fprintf(out, "ok: %s %s is readable and private\n", key, path);
    return 0;
}

static int doctor_path(const struct config *cfg, int row, FILE *out)
{
    const struct smsd_path *sp = &smsd_paths[row];
    const char *v = *path_slot(cfg, sp);
    if (!is_set(v)) {
        if (!sp->needed)
            return 0;
        fprintf(out, "warning: [smsd] %s: neither this file nor gammu-smsdrc names it\n", sp->key);
        return 1;
    }
    if (path_is_relative(sp, v)) {
        fprintf(out, "warning: [smsd] %s '%s' is relative: gammu-smsd resolves it against its working directory\n",
                sp->key, v);
        return 1;
    }
    return 0;
}

int config_doctor(const struct config *cfg, FILE *out)
{
    int warnings = doctor_secret("password_file", cfg->mqtt_password_file, out);
    warnings += doctor_file("tls_ca", cfg->tls_ca, out);
    warnings += doctor_file("tls_cert", cfg->tls_cert, out);
    warnings += doctor_secret("tls_key", cfg->tls_key, out);
    for (int i = 0; i < SMSD_PATHS; i++)
        warnings += doctor_path(cfg, i, out);
    return warnings;
}
