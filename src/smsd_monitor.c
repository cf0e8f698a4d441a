/* smsd_monitor: "Key: value" lines of gammu-smsd-monitor into a struct. */
#include "sms-sentinel/smsd_monitor.h"

#include <stdlib.h>
#include <string.h>

#include "sms-sentinel/text.h"

static const char *line_value(const char *line, size_t len, const char *key, size_t *vlen)
{
    size_t k = strlen(key);
    if (len < k + 1 || memcmp(line, key, k) != 0 || line[k] != ':')
        return NULL;
    const char *v = line + k + 1;
    const char *end = line + len;
    while (v < end && *v == ' ')
        v++;
    *vlen = (size_t)(end - v);
    return v;
}

static bool parse_long(const char *v, size_t vlen, long lo, long hi, long *out)
{
    char buf[24];
    if (vlen == 0 || vlen >= sizeof(buf))
        return false;
    memcpy(buf, v, vlen);
    buf[vlen] = '\0';
    char *end;
    long n = strtol(buf, &end, 10);
    if (*end != '\0' || n < lo || n > hi)
        return false;
    *out = n;
    return true;
}

static int parse_line(const char *line, size_t len, struct smsd_monitor_status *st)
{
    size_t vlen;
    const char *v;
    long n;
    if ((v = line_value(line, len, "NetworkSignal", &vlen)) && parse_long(v, vlen, 0, 100, &n))
        return st->signal_percent = (int)n, 1;
    if ((v = line_value(line, len, "BatterPercent", &vlen)) && parse_long(v, vlen, 0, 100, &n))
        return st->battery_percent = (int)n, 1;
    if ((v = line_value(line, len, "Sent", &vlen)) && parse_long(v, vlen, 0, 1L << 40, &n))
        return st->sent = n, 1;
    if ((v = line_value(line, len, "Received", &vlen)) && parse_long(v, vlen, 0, 1L << 40, &n))
        return st->received = n, 1;
    if ((v = line_value(line, len, "Failed", &vlen)) && parse_long(v, vlen, 0, 1L << 40, &n))
        return st->failed = n, 1;
    if ((v = line_value(line, len, "PhoneID", &vlen)) && vlen > 0)
        return text_copy_clean(st->phone_id, sizeof(st->phone_id), v, vlen), 1;
    if ((v = line_value(line, len, "IMEI", &vlen)) && vlen > 0)
        return text_copy_clean(st->imei, sizeof(st->imei), v, vlen), 1;
    return 0;
}

int smsd_monitor_parse(const char *text, size_t len, struct smsd_monitor_status *out)
{
    memset(out, 0, sizeof(*out));
    out->signal_percent = out->battery_percent = -1;
    out->sent = out->received = out->failed = -1;
    int found = 0;
    size_t i = 0;
    while (i < len) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t raw_len = nl ? (size_t)(nl - (text + i)) : len - i;
        size_t line_len = raw_len;
        if (line_len > 0 && text[i + line_len - 1] == '\r')
            line_len--;
        found += parse_line(text + i, line_len, out);
        i += raw_len + 1;
    }
    return found;
}
