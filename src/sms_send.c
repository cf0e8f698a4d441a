/* sms_send: send_sms request validation, number syntax, recipient globs and
 * the hourly rate limit. Every rejection names the field and what was wrong. */
#include "sms-sentinel/sms_send.h"

#include <stdlib.h>
#include <string.h>

#include "sms-sentinel/strbuf.h"
#include "sms-sentinel/text.h"

/* The request's fields besides "transaction" (any JSON, passed through). */
static const char *const known_fields[] = {"number", "text", "flash", "delivery_report", "transaction"};
#define KNOWN_COUNT (sizeof(known_fields) / sizeof(known_fields[0]))

/* External strings appear in errors cleaned and shortened. */
static void shown(char *dst, size_t size, const char *s, size_t len)
{
    text_copy_clean(dst, size, s, len);
}

static bool field_known(const char *key)
{
    for (size_t i = 0; i < KNOWN_COUNT; i++)
        if (strcmp(known_fields[i], key) == 0)
            return true;
    return false;
}

static int check_unknown(json_object *req, char *err, size_t errsize)
{
    char buf[256];
    struct strbuf sb;
    strbuf_init(&sb, buf, sizeof(buf));
    int n = 0;
    json_object_object_foreach(req, key, value)
    {
        (void)value;
        if (field_known(key))
            continue;
        char name[40];
        shown(name, sizeof(name), key, strlen(key));
        strbuf_printf(&sb, "%s'%s'", n++ ? ", " : "", name);
    }
    if (n == 0)
        return 0;
    format_checked(err, errsize, "unknown field%s %s in send_sms request (known: number, text, flash, "
                   "delivery_report, transaction)", n > 1 ? "s" : "", buf);
    return -1;
}

int sms_number_check(const char *s, size_t len, char *err, size_t errsize)
{
    size_t plus = len > 0 && s[0] == '+';
    size_t digits = len - plus;
    bool ok = digits >= SMS_NUMBER_MIN_DIGITS && digits <= SMS_NUMBER_MAX_DIGITS;
    for (size_t i = plus; ok && i < len; i++)
        ok = s[i] >= '0' && s[i] <= '9';
    if (ok)
        return 0;
    char show[48];
    shown(show, sizeof(show), s, len);
    format_checked(err, errsize, "number '%s' is not a phone number (an optional leading + and %d to %d digits, "
                   "nothing else)", show, SMS_NUMBER_MIN_DIGITS, SMS_NUMBER_MAX_DIGITS);
    return -1;
}

bool sms_glob_match(const char *p, const char *s)
{
    const char *star = NULL, *resume = NULL;
    while (*s) {
        if (*p == '*') {
            star = p++;
            resume = s;
        } else if (*p && (*p == '?' || *p == *s)) {
            p++;
            s++;
        } else if (star) {
            p = star + 1;
            s = ++resume;
        } else {
            return false;
        }
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}

static bool number_allowed(const struct config *cfg, const char *number)
{
    const struct config_list *l = &cfg->allowed_recipients;
    if (l->count == 0)
        return true;
    for (int i = 0; i < l->count; i++)
        if (sms_glob_match(l->items[i], number))
            return true;
    return false;
}

/* Checks one number and appends it to out. */
static int add_number(struct sms_send *out, const struct config *cfg, const char *s, size_t len, char *err,
                      size_t errsize)
{
    if (sms_number_check(s, len, err, errsize) < 0)
        return -1;
    if (!number_allowed(cfg, s)) {
        format_checked(err, errsize, "number '%s' is not in allowed_recipients", s);
        return -1;
    }
    for (int i = 0; i < out->count; i++) {
        if (strcmp(out->numbers[i], s) == 0) {
            format_checked(err, errsize, "number '%s' is given twice", s);
            return -1;
        }
    }
    memcpy(out->numbers[out->count++], s, len + 1);
    return 0;
}

static int add_json_number(struct sms_send *out, const struct config *cfg, json_object *v, const char *what,
                           char *err, size_t errsize)
{
    if (!json_object_is_type(v, json_type_string)) {
        format_checked(err, errsize, "'%s' must be a string", what);
        return -1;
    }
    return add_number(out, cfg, json_object_get_string(v), (size_t)json_object_get_string_len(v), err, errsize);
}

static int parse_number_array(struct sms_send *out, const struct config *cfg, json_object *arr, char *err,
                              size_t errsize)
{
    size_t n = json_object_array_length(arr);
    if (n < 1 || n > SMS_SEND_MAX_RECIPIENTS) {
        format_checked(err, errsize, "'number' must list 1 to %d numbers, not %zu", SMS_SEND_MAX_RECIPIENTS, n);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        char what[32];
        format_checked(what, sizeof(what), "number[%zu]", i);
        if (add_json_number(out, cfg, json_object_array_get_idx(arr, i), what, err, errsize) < 0)
            return -1;
    }
    return 0;
}

static int use_defaults(struct sms_send *out, const struct config *cfg, char *err, size_t errsize)
{
    const struct config_list *d = &cfg->default_recipients;
    if (d->count == 0) {
        format_checked(err, errsize, "no 'number' given and no default_recipients configured");
        return -1;
    }
    if (d->count > SMS_SEND_MAX_RECIPIENTS) {
        format_checked(err, errsize, "default_recipients lists more than %d numbers", SMS_SEND_MAX_RECIPIENTS);
        return -1;
    }
    for (int i = 0; i < d->count; i++)
        if (add_number(out, cfg, d->items[i], strlen(d->items[i]), err, errsize) < 0)
            return -1;
    out->used_defaults = true;
    return 0;
}

static int parse_numbers(json_object *req, const struct config *cfg, struct sms_send *out, char *err,
                         size_t errsize)
{
    json_object *v;
    if (!json_object_object_get_ex(req, "number", &v))
        return use_defaults(out, cfg, err, errsize);
    if (json_object_is_type(v, json_type_array))
        return parse_number_array(out, cfg, v, err, errsize);
    if (json_object_is_type(v, json_type_string))
        return add_json_number(out, cfg, v, "number", err, errsize);
    format_checked(err, errsize, "'number' must be a string or an array of strings");
    return -1;
}

/* The parts limit: max_parts, never above what gammu-smsd sends whole. */
static size_t parts_limit(const struct config *cfg)
{
    return cfg->max_parts > 0 && cfg->max_parts < SMS_SEND_PARTS_LIMIT ? (size_t)cfg->max_parts
                                                                      : SMS_SEND_PARTS_LIMIT;
}

static int check_text(const char *s, size_t len, const struct config *cfg, struct sms_length *length, char *err,
                      size_t errsize)
{
    if (len == 0) {
        format_checked(err, errsize, "'text' is empty");
        return -1;
    }
    if (sms_length_count(s, len, length) < 0) {
        format_checked(err, errsize, "'text' is not valid UTF-8");
        return -1;
    }
    if (memchr(s, '\0', len)) { /* gammu-smsd would stop reading there */
        format_checked(err, errsize, "'text' contains a NUL character");
        return -1;
    }
    size_t limit = parts_limit(cfg);
    if (length->parts > limit) {
        format_checked(err, errsize, "'text' needs %zu SMS parts (%zu %s); at most %zu allowed (max_parts)",
                       length->parts, length->units,
                       length->encoding == SMS_ENCODING_GSM7 ? "GSM 7-bit septets" : "UCS-2 units", limit);
        return -1;
    }
    return 0;
}

static int parse_text(json_object *req, const struct config *cfg, struct sms_send *out, char *err, size_t errsize)
{
    json_object *v;
    if (!json_object_object_get_ex(req, "text", &v)) {
        format_checked(err, errsize, "'text' is missing");
        return -1;
    }
    if (!json_object_is_type(v, json_type_string)) {
        format_checked(err, errsize, "'text' must be a string");
        return -1;
    }
    const char *s = json_object_get_string(v);
    size_t len = (size_t)json_object_get_string_len(v);
    if (check_text(s, len, cfg, &out->length, err, errsize) < 0)
        return -1;
    out->text = malloc(len + 1);
    if (!out->text) {
        format_checked(err, errsize, "out of memory");
        return -1;
    }
    memcpy(out->text, s, len + 1);
    out->text_len = len;
    return 0;
}

static int parse_bool(json_object *req, const char *name, bool *out, char *err, size_t errsize)
{
    json_object *v;
    *out = false;
    if (!json_object_object_get_ex(req, name, &v))
        return 0;
    if (!json_object_is_type(v, json_type_boolean)) {
        format_checked(err, errsize, "'%s' must be true or false", name);
        return -1;
    }
    *out = json_object_get_boolean(v);
    return 0;
}

int sms_send_parse(json_object *req, const struct config *cfg, struct sms_send *out, char *err, size_t errsize)
{
    memset(out, 0, sizeof(*out));
    if (!json_object_is_type(req, json_type_object)) {
        format_checked(err, errsize, "send_sms request must be a JSON object");
        return -1;
    }
    int rc = check_unknown(req, err, errsize);
    if (rc == 0)
        rc = parse_numbers(req, cfg, out, err, errsize);
    if (rc == 0)
        rc = parse_text(req, cfg, out, err, errsize);
    if (rc == 0)
        rc = parse_bool(req, "flash", &out->flash, err, errsize);
    if (rc == 0)
        rc = parse_bool(req, "delivery_report", &out->delivery_report, err, errsize);
    json_object *t;
    if (rc == 0 && json_object_object_get_ex(req, "transaction", &t) && t)
        out->transaction = json_object_get(t);
    if (rc < 0)
        sms_send_clear(out);
    return rc;
}

void sms_send_clear(struct sms_send *s)
{
    free(s->text);
    json_object_put(s->transaction);
    memset(s, 0, sizeof(*s));
}

unsigned sms_send_cost(const struct sms_send *s) { return (unsigned)s->count * (unsigned)s->length.parts; }

/* --- rate limit --- */

#define MINUTE_MS 60000

void sms_rate_init(struct sms_rate *r)
{
    for (int i = 0; i < SMS_RATE_BUCKETS; i++) {
        r->minute[i] = INT64_MIN;
        r->cost[i] = 0;
    }
}

/* Buckets of minutes m with now - 60 < m: a clock that went backwards keeps
 * its (future) buckets counted, which errs on the safe side. */
static bool bucket_live(const struct sms_rate *r, int i, int64_t now_min)
{
    return r->minute[i] != INT64_MIN && r->minute[i] > now_min - SMS_RATE_BUCKETS;
}

unsigned sms_rate_used(const struct sms_rate *r, int64_t now_ms)
{
    int64_t now_min = now_ms / MINUTE_MS;
    unsigned used = 0;
    for (int i = 0; i < SMS_RATE_BUCKETS; i++)
        if (bucket_live(r, i, now_min))
            used += r->cost[i];
    return used;
}

/* Seconds until enough of the oldest buckets expire for cost to fit. */
static int64_t retry_after_s(const struct sms_rate *r, unsigned limit, unsigned cost, int64_t now_ms)
{
    int64_t now_min = now_ms / MINUTE_MS;
    for (int64_t m = now_min + 1; m <= now_min + SMS_RATE_BUCKETS; m++)
        if (sms_rate_used(r, m * MINUTE_MS) + cost <= limit)
            return (m * MINUTE_MS - now_ms + 999) / 1000;
    return SMS_RATE_BUCKETS * 60;
}

int sms_rate_take(struct sms_rate *r, unsigned limit, unsigned cost, int64_t now_ms, char *err, size_t errsize)
{
    if (cost > limit) {
        format_checked(err, errsize, "this request needs %u SMS, more than max_per_hour (%u)", cost, limit);
        return -1;
    }
    unsigned used = sms_rate_used(r, now_ms);
    if (used + cost > limit) {
        format_checked(err, errsize, "rate limit: %u of %u SMS sent in the last hour, this needs %u (retry in %lld s)",
                       used, limit, cost, (long long)retry_after_s(r, limit, cost, now_ms));
        return -1;
    }
    int64_t now_min = now_ms / MINUTE_MS;
    int i = (int)(((now_min % SMS_RATE_BUCKETS) + SMS_RATE_BUCKETS) % SMS_RATE_BUCKETS);
    if (r->minute[i] != now_min) {
        r->minute[i] = now_min;
        r->cost[i] = 0;
    }
    r->cost[i] += cost;
    return 0;
}
