/* config_keys: the table of every sms-sentinel.conf key (section, name, type,
 * default, range or check, help text, place in struct config), the checks of
 * single values, and setting and freeing a key's field from its text. */
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

#define STR(sec, key, def, flags, check, field, help) \
    {sec, key, KEY_STRING, def, 0, 0, NULL, check, flags, OFF(field), help}
#define INT(sec, key, def, lo, hi, field, help) {sec, key, KEY_INT, def, lo, hi, NULL, NULL, 0, OFF(field), help}
#define BOOL(sec, key, def, field, help) {sec, key, KEY_BOOL, def, 0, 0, NULL, NULL, 0, OFF(field), help}
#define LIST(sec, key, def, check, field, help) {sec, key, KEY_LIST, def, 0, 0, NULL, check, 0, OFF(field), help}
#define ARGV(sec, key, def, flags, field, help) {sec, key, KEY_ARGV, def, 0, 0, NULL, NULL, flags, OFF(field), help}
#define ENUM(sec, key, def, choices, field, help) \
    {sec, key, KEY_ENUM, def, 0, 0, choices, NULL, 0, OFF(field), help}

const struct key_def config_keys[] = {
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

const size_t config_key_count = sizeof(config_keys) / sizeof(config_keys[0]);
_Static_assert(sizeof(config_keys) / sizeof(config_keys[0]) <= CONFIG_KEY_MAX, "raise CONFIG_KEY_MAX");

void *config_key_field(const struct key_def *k, const struct config *cfg)
{
    return (char *)cfg + k->offset;
}

int config_key_index(const char *section, const char *name)
{
    for (size_t i = 0; i < config_key_count; i++)
        if (strcasecmp(config_keys[i].section, section) == 0 && strcasecmp(config_keys[i].name, name) == 0)
            return (int)i;
    return -1;
}

/* The table's spelling of a section named n bytes at s, or NULL. */
const char *config_section_find(const char *s, size_t n)
{
    for (size_t i = 0; i < config_key_count; i++) {
        const char *sec = config_keys[i].section;
        if (strlen(sec) == n && strncasecmp(sec, s, n) == 0)
            return sec;
    }
    return NULL;
}

/* ---- storing values ---- */

/* Appends text from outside as 'text', bounded and printable. */
void config_append_quoted(struct strbuf *sb, const char *s, size_t n)
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
        config_append_quoted(&sb, value, strlen(value));
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
    char **slot = config_key_field(k, cfg);
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
    *(int *)config_key_field(k, cfg) = (int)v;
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
            *(bool *)config_key_field(k, cfg) = words[i].value;
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
    struct config_list *list = config_key_field(k, cfg);
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
    struct config_argv *argv = config_key_field(k, cfg);
    free_words(argv->argv, argv->argc);
    *argv = next;
    return 0;
}

/* Parses value into the key's field; returns 0, or -1 with the message in msg. */
int config_key_set(const struct key_def *k, struct config *cfg, const char *value, char *msg, size_t size)
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

void config_key_free(const struct key_def *k, struct config *cfg)
{
    switch (k->type) {
    case KEY_STRING:
    case KEY_ENUM: {
        char **slot = config_key_field(k, cfg);
        free(*slot);
        *slot = NULL;
        break;
    }
    case KEY_LIST: {
        struct config_list *list = config_key_field(k, cfg);
        free_words(list->items, list->count);
        list->count = 0;
        break;
    }
    case KEY_ARGV: {
        struct config_argv *argv = config_key_field(k, cfg);
        free_words(argv->argv, argv->argc);
        argv->argc = 0;
        break;
    }
    case KEY_INT:
    case KEY_BOOL: break;
    }
}

/* ---- errors ---- */
