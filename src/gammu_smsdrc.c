/* gammu_smsdrc: reads gammu-smsd's own config file the way gammu does (sections
 * and keys case-insensitive, '#' and ';' comments on their own line, empty values
 * ignored, the first [smsd] section wins, the last value of a key wins) and runs
 * the doctor's checks over what it found. Parsing goes through libinih; a reader
 * wrapper feeds it one cleaned line at a time so that what inih sees matches what
 * gammu would read, and notes the lines gammu would read differently. */
#include "sms-sentinel/gammu_smsdrc.h"

#include <errno.h>
#include <ini.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "sms-sentinel/fsutil.h"

#define SMSDRC_MAX_FILE (1024 * 1024)

enum rc_section { RC_NONE, RC_GAMMU, RC_SMSD, RC_OTHER };

struct rc_key {
    enum rc_section section;
    const char *name;
    size_t offset; /* of a char * in struct gammu_smsdrc */
};

/* "port" is gammu's older name for "device"; Debian's default file uses it. It is
 * read into a side slot so that "device" wins whatever the order. */
#define RC_PORT_SLOT ((size_t)-1)

static const struct rc_key rc_keys[] = {
    {RC_GAMMU, "device", offsetof(struct gammu_smsdrc, device)},
    {RC_GAMMU, "port", RC_PORT_SLOT},
    {RC_GAMMU, "connection", offsetof(struct gammu_smsdrc, connection)},
    {RC_SMSD, "service", offsetof(struct gammu_smsdrc, service)},
    {RC_SMSD, "logfile", offsetof(struct gammu_smsdrc, logfile)},
    {RC_SMSD, "inboxpath", offsetof(struct gammu_smsdrc, inbox)},
    {RC_SMSD, "outboxpath", offsetof(struct gammu_smsdrc, outbox)},
    {RC_SMSD, "sentsmspath", offsetof(struct gammu_smsdrc, sent)},
    {RC_SMSD, "errorsmspath", offsetof(struct gammu_smsdrc, error)},
    {RC_SMSD, "inboxformat", offsetof(struct gammu_smsdrc, inbox_format)},
    {RC_SMSD, "outboxformat", offsetof(struct gammu_smsdrc, outbox_format)},
    {RC_SMSD, "transmitformat", offsetof(struct gammu_smsdrc, transmit_format)},
};

struct rc_parse {
    struct gammu_smsdrc *rc;
    const char *text;
    size_t len, pos;
    int lineno;
    enum rc_section section;
    bool seen_gammu, seen_smsd;
    char *port;
    bool oom;
};

static void note_line(int *slot, int lineno)
{
    if (*slot == 0)
        *slot = lineno;
}

static enum rc_section section_of(struct rc_parse *p, const char *name, size_t n)
{
    /* gammu looks values up in the first section of a name only. */
    if (n == 5 && strncasecmp(name, "gammu", 5) == 0) {
        enum rc_section s = p->seen_gammu ? RC_OTHER : RC_GAMMU;
        p->seen_gammu = true;
        return s;
    }
    if (n == 4 && strncasecmp(name, "smsd", 4) == 0) {
        enum rc_section s = p->seen_smsd ? RC_OTHER : RC_SMSD;
        p->seen_smsd = true;
        return s;
    }
    return RC_OTHER;
}

/* "x ; y": inih cuts the value at " ;", gammu keeps it. */
static bool has_inline_comment(const char *s, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (s[i] == ';' && (s[i - 1] == ' ' || s[i - 1] == '\t'))
            return true;
    return false;
}

/* Decides what inih may see of one line; returns false to hide it. */
static bool rc_line_ok(struct rc_parse *p, const char *s, size_t n)
{
    if (n == 0 || s[0] == '#' || s[0] == ';')
        return true;
    if (s[0] == '[') {
        const char *end = memchr(s, ']', n);
        if (!end) {
            note_line(&p->rc->bad_line, p->lineno);
            return false;
        }
        p->section = section_of(p, s + 1, (size_t)(end - s - 1));
        return true;
    }
    const char *eq = memchr(s, '=', n);
    const char *colon = memchr(s, ':', n);
    bool ours = p->section == RC_GAMMU || p->section == RC_SMSD;
    /* inih would split "key: value" and stop at " ;": gammu does neither. */
    if (!eq || eq == s || (colon && colon < eq) || has_inline_comment(s, (size_t)(eq - s))) {
        if (ours)
            note_line(&p->rc->bad_line, p->lineno);
        return false;
    }
    if (ours && has_inline_comment(eq, n - (size_t)(eq - s)))
        note_line(&p->rc->comment_line, p->lineno);
    return true;
}

static size_t strip_line(const char **s, size_t n, int lineno)
{
    const char *b = *s;
    if (lineno == 1 && n >= 3 && memcmp(b, "\xEF\xBB\xBF", 3) == 0) {
        b += 3;
        n -= 3;
    }
    while (n > 0 && (*b == ' ' || *b == '\t')) {
        b++;
        n--;
    }
    while (n > 0 && (b[n - 1] == '\r' || b[n - 1] == ' ' || b[n - 1] == '\t'))
        n--;
    *s = b;
    return n;
}

static char *rc_reader(char *str, int num, void *stream)
{
    struct rc_parse *p = stream;
    if (p->pos >= p->len || num < 2)
        return NULL;
    const char *line = p->text + p->pos;
    const char *nl = memchr(line, '\n', p->len - p->pos);
    size_t n = nl ? (size_t)(nl - line) : p->len - p->pos;
    p->pos += n + (nl ? 1 : 0);
    p->lineno++;
    n = strip_line(&line, n, p->lineno);
    if (n + 2 <= (size_t)num && !memchr(line, '\0', n)) {
        memcpy(str, line, n);
        str[n] = '\0';
        if (!rc_line_ok(p, str, n))
            n = 0;
    } else {
        if (p->section != RC_OTHER)
            note_line(&p->rc->bad_line, p->lineno);
        n = 0;
    }
    str[n] = '\n';
    str[n + 1] = '\0';
    return str;
}

static char **rc_slot(struct rc_parse *p, const struct rc_key *k)
{
    if (k->offset == RC_PORT_SLOT)
        return &p->port;
    return (char **)(void *)((char *)p->rc + k->offset);
}

static void rc_set(struct rc_parse *p, char **slot, const char *value)
{
    char *copy = strdup(value);
    if (!copy) {
        p->oom = true;
        return;
    }
    free(*slot);
    *slot = copy;
}

static int rc_handler(void *user, const char *section, const char *name, const char *value)
{
    struct rc_parse *p = user;
    (void)section; /* p->section follows the first-section-wins rule */
    if (*value == '\0')
        return 1; /* gammu drops entries without a value */
    if (p->section == RC_SMSD && strcasecmp(name, "debuglevel") == 0) {
        long level = strtol(value, NULL, 10);
        p->rc->debug_level = level < 0 ? 0 : level > 1000 ? 1000 : (int)level;
        return 1;
    }
    for (size_t i = 0; i < sizeof(rc_keys) / sizeof(rc_keys[0]); i++)
        if (rc_keys[i].section == p->section && strcasecmp(rc_keys[i].name, name) == 0)
            rc_set(p, rc_slot(p, &rc_keys[i]), value);
    return 1;
}

struct gammu_smsdrc *gammu_smsdrc_parse_string(const char *text, size_t len, const char *path)
{
    struct rc_parse p = {.text = text, .len = len, .section = RC_NONE};
    p.rc = calloc(1, sizeof(*p.rc));
    if (!p.rc)
        return NULL;
    p.rc->path = strdup(path ? path : "");
    if (!p.rc->path || ini_parse_stream(rc_reader, &p, rc_handler, &p) == -2)
        p.oom = true;
    if (!p.rc->device && p.port) {
        p.rc->device = p.port;
        p.port = NULL;
    }
    free(p.port);
    if (p.oom) {
        gammu_smsdrc_free(p.rc);
        errno = ENOMEM;
        return NULL;
    }
    return p.rc;
}

static struct gammu_smsdrc *read_failed(int err, const char *what, char *msg, size_t size)
{
    if (msg && size > 0) {
        const char *why = what ? what : strerror(err);
        size_t n = strlen(why);
        if (n >= size)
            n = size - 1;
        memcpy(msg, why, n);
        msg[n] = '\0';
    }
    errno = err;
    return NULL;
}

struct gammu_smsdrc *gammu_smsdrc_read(const char *path, char *err, size_t errsize)
{
    struct stat st;
    if (stat(path, &st) < 0)
        return read_failed(errno, NULL, err, errsize);
    /* A FIFO or a device would block or never end. */
    if (!S_ISREG(st.st_mode))
        return read_failed(EINVAL, "not a regular file", err, errsize);
    char *text = NULL;
    size_t len = 0;
    int rc = fs_read_file(path, SMSDRC_MAX_FILE, &text, &len);
    if (rc < 0)
        return read_failed(-rc, rc == -EFBIG ? "larger than 1 MiB" : NULL, err, errsize);
    struct gammu_smsdrc *out = gammu_smsdrc_parse_string(text, len, path);
    free(text);
    if (!out)
        return read_failed(ENOMEM, NULL, err, errsize);
    return out;
}

void gammu_smsdrc_free(struct gammu_smsdrc *rc)
{
    if (!rc)
        return;
    for (size_t i = 0; i < sizeof(rc_keys) / sizeof(rc_keys[0]); i++)
        if (rc_keys[i].offset != RC_PORT_SLOT)
            free(*(char **)(void *)((char *)rc + rc_keys[i].offset));
    free(rc->path);
    free(rc);
}

/* ---- doctor: each check prints its finding and returns 1 for a warning ---- */

typedef int (*doctor_check)(const struct gammu_smsdrc *rc, const struct doctor_facts *f, FILE *out);

static bool is_set(const char *s) { return s && *s; }

static bool same(const char *a, const char *b) { return a && strcasecmp(a, b) == 0; }

static int check_service(const struct gammu_smsdrc *rc, const struct doctor_facts *f, FILE *out)
{
    (void)f;
    if (!is_set(rc->service)) {
        fprintf(out, "warning: [smsd] service is not set: gammu-smsd will not start (NOSERVICE); use service = files\n");
        return 1;
    }
    if (!same(rc->service, "files")) {
        fprintf(out, "warning: service = %s: the inbox/outbox spool sms-sentinel uses only works with the files backend\n",
                rc->service);
        return 1;
    }
    fprintf(out, "ok: service = files\n");
    return 0;
}

static int check_logfile(const struct gammu_smsdrc *rc, const struct doctor_facts *f, FILE *out)
{
    (void)f;
    if (!is_set(rc->logfile)) {
        fprintf(out, "warning: [smsd] logfile is not set: gammu-smsd then logs to stderr only and sms-sentinel "
                     "cannot follow it; use logfile = syslog or a file\n");
        return 1;
    }
    /* gammu compares these two names case-sensitively. */
    if (strcmp(rc->logfile, "stderr") == 0) {
        fprintf(out, "warning: logfile = stderr: sms-sentinel cannot follow it; use logfile = syslog or a file\n");
        return 1;
    }
    if (strcmp(rc->logfile, "syslog") == 0)
        fprintf(out, "ok: logfile = syslog: followed through the journal\n");
    else
        fprintf(out, "ok: logfile = %s: followed as a file\n", rc->logfile);
    return 0;
}

static bool is_numbered_tty(const char *dev)
{
    const char *prefixes[] = {"/dev/ttyUSB", "/dev/ttyACM"};
    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
        size_t n = strlen(prefixes[i]);
        if (strncmp(dev, prefixes[i], n) == 0 && dev[n] >= '0' && dev[n] <= '9')
            return true;
    }
    return false;
}

static int check_device(const struct gammu_smsdrc *rc, const struct doctor_facts *f, FILE *out)
{
    (void)f;
    if (!is_set(rc->device)) {
        fprintf(out, "warning: [gammu] device is not set: gammu-smsd does not know the modem\n");
        return 1;
    }
    if (strcmp(rc->device, "/dev/null") == 0) {
        fprintf(out, "warning: device = /dev/null: the modem is not configured yet (Debian's placeholder)\n");
        return 1;
    }
    if (is_numbered_tty(rc->device)) {
        fprintf(out, "warning: device = %s: tty numbers change when the modem re-enumerates (after every USB "
                     "reset); use its /dev/serial/by-id/... link\n", rc->device);
        return 1;
    }
    fprintf(out, "ok: device = %s\n", rc->device);
    return 0;
}

static int check_transmit_format(const struct gammu_smsdrc *rc, const struct doctor_facts *f, FILE *out)
{
    (void)f;
    const char *tf = rc->transmit_format;
    if (same(tf, "auto") || same(tf, "unicode")) {
        fprintf(out, "ok: transmitformat = %s\n", tf);
        return 0;
    }
    /* gammu reads anything but auto and unicode as 7bit. */
    fprintf(out, "warning: transmitformat = %s%s: 7bit mangles text outside the GSM alphabet; use transmitformat = auto\n",
            is_set(tf) ? tf : "7bit", is_set(tf) ? "" : " (not set)");
    return 1;
}

static int check_inbox_format(const struct gammu_smsdrc *rc, const struct doctor_facts *f, FILE *out)
{
    const char *inf = rc->inbox_format;
    if (same(inf, "unicode")) {
        fprintf(out, "warning: inboxformat = unicode is broken in gammu 1.42 for non-ASCII text (a NUL and stale "
                     "bytes follow it); use inboxformat = standard with a UTF-8 locale\n");
        return 1;
    }
    if (same(inf, "detail")) {
        fprintf(out, "ok: inboxformat = detail\n");
        return 0;
    }
    if (!f->service_locale_utf8) {
        fprintf(out, "warning: inboxformat = %s%s writes text in gammu-smsd's locale, which is not UTF-8; give "
                     "the service a UTF-8 locale (Environment=LANG=C.UTF-8)\n",
                is_set(inf) ? inf : "standard", is_set(inf) ? "" : " (not set)");
        return 1;
    }
    fprintf(out, "ok: inboxformat = %s with a UTF-8 locale\n", is_set(inf) ? inf : "standard");
    return 0;
}

static int check_lines(const struct gammu_smsdrc *rc, const struct doctor_facts *f, FILE *out)
{
    (void)f;
    int warnings = 0;
    if (rc->bad_line > 0) {
        fprintf(out, "warning: %s:%d: gammu-smsd does not understand this line (expected key = value)\n", rc->path,
                rc->bad_line);
        warnings++;
    }
    if (rc->comment_line > 0) {
        fprintf(out, "warning: %s:%d: gammu-smsd keeps \"; ...\" after a value as part of it; put comments on "
                     "their own line\n", rc->path, rc->comment_line);
        warnings++;
    }
    return warnings;
}

static int check_modemmanager(const struct doctor_facts *f, FILE *out)
{
    if (f->modemmanager_running) {
        fprintf(out, "warning: ModemManager is running: it probes and locks the modem port (DEVICEOPENERROR); "
                     "disable it or add a udev rule with ENV{ID_MM_DEVICE_IGNORE}=\"1\" for the modem\n");
        return 1;
    }
    fprintf(out, "ok: ModemManager is not running\n");
    return 0;
}

static const doctor_check doctor_checks[] = {
    check_service, check_logfile, check_device, check_transmit_format, check_inbox_format, check_lines,
};

int gammu_smsdrc_doctor(const struct gammu_smsdrc *rc, const struct doctor_facts *facts, FILE *out)
{
    static const struct doctor_facts none = {0};
    if (!facts)
        facts = &none;
    int warnings = check_modemmanager(facts, out);
    if (!rc) {
        fprintf(out, "warning: gammu-smsdrc could not be read: its settings were not checked\n");
        return warnings + 1;
    }
    for (size_t i = 0; i < sizeof(doctor_checks) / sizeof(doctor_checks[0]); i++)
        warnings += doctor_checks[i](rc, facts, out);
    return warnings;
}
