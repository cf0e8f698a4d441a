/* smsd_line: turns one gammu-smsd log line into a kind, an optional gammu error
 * (matched on "(NAME[number])" at the end, never on the translated text), and
 * the file names and numbers later modules need. Pure and allocation-free. */
#include "sms-sentinel/smsd_line.h"

#include <ctype.h>
#include <string.h>


struct prefix_rule {
    const char *prefix;
    enum smsd_line_kind kind;
};

/* Message prefixes, checked in order; the first match wins. These are the
 * untranslated smsd core messages (only libgammu's error texts are translated). */
static const struct prefix_rule prefix_rules[] = {
    {"Starting phone communication", SMSD_LINE_INIT_START},
    {"Error at init connection", SMSD_LINE_INIT_ERROR},
    {"Terminating communication", SMSD_LINE_TERMINATING},
    {"Going to ", SMSD_LINE_SLEEPING},
    {"Read ", SMSD_LINE_READ_MESSAGES},
    {"Received IN", SMSD_LINE_RECEIVED}, /* not "Received message from:" (debuglevel 1) */
    {"Transmitted ", SMSD_LINE_TRANSMITTED},
    {"Error sending SMS", SMSD_LINE_SEND_ERROR},
    {"Soft reset return code", SMSD_LINE_SOFT_RESET},
    {"Stopping Gammu smsd", SMSD_LINE_STOPPING},
    {"Failed to run SMSD", SMSD_LINE_FAILED_TO_RUN},
};

static const char *const kind_names[SMSD_LINE_KIND_COUNT] = {
    [SMSD_LINE_OTHER] = "other",
    [SMSD_LINE_ERROR] = "error",
    [SMSD_LINE_INIT_START] = "init_start",
    [SMSD_LINE_INIT_ERROR] = "init_error",
    [SMSD_LINE_TERMINATING] = "terminating",
    [SMSD_LINE_SLEEPING] = "sleeping",
    [SMSD_LINE_READ_MESSAGES] = "read_messages",
    [SMSD_LINE_RECEIVED] = "received",
    [SMSD_LINE_TRANSMITTED] = "transmitted",
    [SMSD_LINE_SEND_ERROR] = "send_error",
    [SMSD_LINE_SOFT_RESET] = "soft_reset",
    [SMSD_LINE_STOPPING] = "stopping",
    [SMSD_LINE_FAILED_TO_RUN] = "failed_to_run",
};

const char *smsd_line_kind_str(enum smsd_line_kind kind) { return kind_names[kind]; }

static bool is_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* "Www YYYY/MM/DD HH:MM:SS gammu-smsd[PID]: " -> fills stamp and pid and
 * returns the offset of the message, or 0 when the line has no such prefix. */
static size_t parse_file_prefix(const char *s, size_t len, struct smsd_line *out)
{
    /* 0123456789012345678901234 */
    /* Sun 2026/12/06 18:00:00 gammu-smsd[123]: */
    if (len < 24 || s[3] != ' ' || s[8] != '/' || s[11] != '/' || s[14] != ' ' || s[17] != ':' ||
        s[20] != ':' || s[23] != ' ')
        return 0;
    if (!is_digits(s + 4, 4) || !is_digits(s + 9, 2) || !is_digits(s + 12, 2) || !is_digits(s + 15, 2) ||
        !is_digits(s + 18, 2) || !is_digits(s + 21, 2))
        return 0;
    const char *colon = memchr(s + 24, ':', len - 24);
    if (!colon)
        return 0;
    const char *open = memchr(s + 24, '[', (size_t)(colon - (s + 24)));
    long pid = -1;
    if (open && colon > open + 1 && colon[-1] == ']') {
        pid = 0;
        for (const char *p = open + 1; p < colon - 1; p++) {
            if (!isdigit((unsigned char)*p) || pid > 100000000L)
                return 0;
            pid = pid * 10 + (*p - '0');
        }
    }
    out->pid = pid;
    out->stamp.ptr = s + 4;
    out->stamp.len = 19;
    size_t off = (size_t)(colon - s) + 1;
    if (off < len && s[off] == ' ')
        off++;
    return off;
}

/* Finds "(NAME[number])" at the end of the message (trailing blanks allowed). */
static void parse_trailing_error(const char *m, size_t len, struct smsd_line *out)
{
    while (len > 0 && (m[len - 1] == ' ' || m[len - 1] == '\t'))
        len--;
    if (len < 5 || m[len - 1] != ')' || m[len - 2] != ']')
        return;
    size_t end_digits = len - 2; /* index of ']' */
    size_t i = end_digits;
    while (i > 0 && isdigit((unsigned char)m[i - 1]))
        i--;
    if (i == end_digits || i == 0 || m[i - 1] != '[' || end_digits - i > 6)
        return;
    size_t open_bracket = i - 1;
    size_t j = open_bracket;
    while (j > 0 && (isupper((unsigned char)m[j - 1]) || m[j - 1] == '_' || isdigit((unsigned char)m[j - 1])))
        j--;
    if (j == open_bracket || j == 0 || m[j - 1] != '(')
        return;
    size_t name_len = open_bracket - j;
    if (name_len >= sizeof(out->error_name))
        return;
    int code = 0;
    for (size_t k = i; k < end_digits; k++)
        code = code * 10 + (m[k] - '0');
    memcpy(out->error_name, m + j, name_len);
    out->error_name[name_len] = '\0';
    out->error_code = code;
}

static bool starts_with(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(s, prefix, n) == 0;
}

/* The next blank-delimited word starting at s[0..len). */
static struct smsd_text next_word(const char *s, size_t len)
{
    size_t n = 0;
    while (n < len && s[n] != ' ' && s[n] != ',')
        n++;
    struct smsd_text t = {n ? s : NULL, n};
    return t;
}

/* "Received IN2026..._00.txt" */
static void parse_received(const char *m, size_t len, struct smsd_line *out)
{
    size_t skip = strlen("Received ");
    out->file = next_word(m + skip, len - skip);
}

/* "Transmitted OUTC..._sms0.txt to +33612345678, message reference 0x02" */
static void parse_transmitted(const char *m, size_t len, struct smsd_line *out)
{
    size_t skip = strlen("Transmitted ");
    out->file = next_word(m + skip, len - skip);
    size_t pos = skip + out->file.len;
    if (pos + 4 <= len && memcmp(m + pos, " to ", 4) == 0)
        out->number = next_word(m + pos + 4, len - pos - 4);
}

static enum smsd_line_kind kind_from_prefix(const char *m, size_t len)
{
    for (size_t i = 0; i < sizeof(prefix_rules) / sizeof(prefix_rules[0]); i++)
        if (starts_with(m, len, prefix_rules[i].prefix))
            return prefix_rules[i].kind;
    return SMSD_LINE_OTHER;
}

void smsd_line_classify(const char *line, size_t len, struct smsd_line *out)
{
    memset(out, 0, sizeof(*out));
    out->pid = -1;
    out->error_code = -1;
    size_t off = parse_file_prefix(line, len, out);
    const char *m = line + off;
    size_t mlen = len - off;
    out->message.ptr = m;
    out->message.len = mlen;
    parse_trailing_error(m, mlen, out);
    out->kind = kind_from_prefix(m, mlen);
    if (out->kind == SMSD_LINE_READ_MESSAGES && !memmem(m, mlen, " message", 8))
        out->kind = SMSD_LINE_OTHER;
    if (out->kind == SMSD_LINE_RECEIVED)
        parse_received(m, mlen, out);
    else if (out->kind == SMSD_LINE_TRANSMITTED)
        parse_transmitted(m, mlen, out);
    if (out->kind == SMSD_LINE_OTHER && smsd_line_has_error(out))
        out->kind = SMSD_LINE_ERROR;
}

/* Names gammu adds in later versions still count: the number says "not NONE". */
bool smsd_line_has_error(const struct smsd_line *l)
{
    return l->error_code > 1 && strcmp(l->error_name, "NONE") != 0 && l->kind != SMSD_LINE_TERMINATING;
}
