/* stats: counters, their JSON form and their restore from a saved snapshot. */
#include "sms-sentinel/stats.h"

#include <string.h>

#include "sms-sentinel/text.h"

void stats_init(struct stats *s) { memset(s, 0, sizeof(*s)); }

static void copy_printable(char *dst, size_t size, const char *src, size_t len)
{
    text_copy_clean(dst, size, src, len);
}

static struct error_count *find_or_add(struct stats *s, const char *name)
{
    for (int i = 0; i < s->error_names; i++)
        if (strcmp(s->errors[i].name, name) == 0)
            return &s->errors[i];
    if (s->error_names >= STATS_MAX_ERROR_NAMES)
        return NULL;
    struct error_count *e = &s->errors[s->error_names++];
    copy_printable(e->name, sizeof(e->name), name, strlen(name));
    e->count = 0;
    return e;
}

void stats_count_error(struct stats *s, const char *name, int code, const char *message, size_t message_len,
                       const char *at)
{
    s->errors_total++;
    struct error_count *e = find_or_add(s, name);
    if (e)
        e->count++;
    struct last_error *le = &s->last_error;
    le->set = true;
    copy_printable(le->name, sizeof(le->name), name, strlen(name));
    le->code = code;
    copy_printable(le->message, sizeof(le->message), message, message_len);
    copy_printable(le->at, sizeof(le->at), at, strlen(at));
}

void stats_record_reset(struct stats *s, const char *method, const char *at, const char *result, int64_t duration_ms)
{
    s->resets_total++;
    struct last_reset *lr = &s->last_reset;
    lr->set = true;
    copy_printable(lr->method, sizeof(lr->method), method, strlen(method));
    copy_printable(lr->at, sizeof(lr->at), at, strlen(at));
    copy_printable(lr->result, sizeof(lr->result), result, strlen(result));
    lr->duration_ms = duration_ms;
}

uint64_t stats_error_count(const struct stats *s, const char *name)
{
    for (int i = 0; i < s->error_names; i++)
        if (strcmp(s->errors[i].name, name) == 0)
            return s->errors[i].count;
    return 0;
}

static json_object *last_error_json(const struct last_error *le)
{
    if (!le->set)
        return NULL;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "name", json_object_new_string(le->name));
    json_object_object_add(o, "code", json_object_new_int(le->code));
    json_object_object_add(o, "message", json_object_new_string(le->message));
    json_object_object_add(o, "at", json_object_new_string(le->at));
    return o;
}

static json_object *last_reset_json(const struct last_reset *lr)
{
    if (!lr->set)
        return NULL;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "method", json_object_new_string(lr->method));
    json_object_object_add(o, "at", json_object_new_string(lr->at));
    json_object_object_add(o, "result", json_object_new_string(lr->result));
    json_object_object_add(o, "duration_ms", json_object_new_int64(lr->duration_ms));
    return o;
}

void stats_add_to_json(const struct stats *s, json_object *obj)
{
    json_object_object_add(obj, "errors_total", json_object_new_uint64(s->errors_total));
    json_object *errors = json_object_new_object();
    for (int i = 0; i < s->error_names; i++)
        json_object_object_add(errors, s->errors[i].name, json_object_new_uint64(s->errors[i].count));
    json_object_object_add(obj, "errors", errors);
    json_object_object_add(obj, "last_error", last_error_json(&s->last_error));
    json_object_object_add(obj, "resets_total", json_object_new_uint64(s->resets_total));
    json_object_object_add(obj, "last_reset", last_reset_json(&s->last_reset));
    json_object_object_add(obj, "sms_received", json_object_new_uint64(s->sms_received));
    json_object_object_add(obj, "sms_sent", json_object_new_uint64(s->sms_sent));
    json_object_object_add(obj, "sms_failed", json_object_new_uint64(s->sms_failed));
    json_object_object_add(obj, "mail_forwarded", json_object_new_uint64(s->mail_forwarded));
    json_object_object_add(obj, "mail_retries", json_object_new_uint64(s->mail_retries));
    json_object_object_add(obj, "mail_failed", json_object_new_uint64(s->mail_failed));
}

static bool get_counter(json_object *obj, const char *key, uint64_t *out)
{
    json_object *v;
    if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_int))
        return false;
    int64_t n = json_object_get_int64(v);
    if (n < 0)
        return false;
    *out = (uint64_t)n;
    return true;
}

static bool get_string(json_object *obj, const char *key, char *dst, size_t size)
{
    json_object *v;
    if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_string))
        return false;
    const char *str = json_object_get_string(v);
    copy_printable(dst, size, str, strlen(str));
    return true;
}

static int restore_errors(struct stats *s, json_object *obj)
{
    json_object *errors;
    if (!json_object_object_get_ex(obj, "errors", &errors) || !json_object_is_type(errors, json_type_object))
        return 0;
    json_object_object_foreach(errors, name, value)
    {
        if (!json_object_is_type(value, json_type_int) || json_object_get_int64(value) < 0)
            continue;
        struct error_count *e = find_or_add(s, name);
        if (e)
            e->count = (uint64_t)json_object_get_int64(value);
    }
    return 1;
}

static int restore_last_error(struct stats *s, json_object *obj)
{
    json_object *le;
    if (!json_object_object_get_ex(obj, "last_error", &le) || !json_object_is_type(le, json_type_object))
        return 0;
    struct last_error *dst = &s->last_error;
    dst->set = get_string(le, "name", dst->name, sizeof(dst->name));
    json_object *code;
    if (json_object_object_get_ex(le, "code", &code) && json_object_is_type(code, json_type_int))
        dst->code = json_object_get_int(code);
    get_string(le, "message", dst->message, sizeof(dst->message));
    get_string(le, "at", dst->at, sizeof(dst->at));
    return dst->set;
}

static int restore_last_reset(struct stats *s, json_object *obj)
{
    json_object *lr;
    if (!json_object_object_get_ex(obj, "last_reset", &lr) || !json_object_is_type(lr, json_type_object))
        return 0;
    struct last_reset *dst = &s->last_reset;
    dst->set = get_string(lr, "method", dst->method, sizeof(dst->method));
    get_string(lr, "at", dst->at, sizeof(dst->at));
    get_string(lr, "result", dst->result, sizeof(dst->result));
    json_object *d;
    if (json_object_object_get_ex(lr, "duration_ms", &d) && json_object_is_type(d, json_type_int))
        dst->duration_ms = json_object_get_int64(d);
    return dst->set;
}

int stats_from_json(struct stats *s, json_object *obj)
{
    int n = 0;
    n += get_counter(obj, "errors_total", &s->errors_total);
    n += get_counter(obj, "resets_total", &s->resets_total);
    n += get_counter(obj, "sms_received", &s->sms_received);
    n += get_counter(obj, "sms_sent", &s->sms_sent);
    n += get_counter(obj, "sms_failed", &s->sms_failed);
    get_counter(obj, "mail_forwarded", &s->mail_forwarded);
    get_counter(obj, "mail_retries", &s->mail_retries);
    get_counter(obj, "mail_failed", &s->mail_failed);
    n += restore_errors(s, obj);
    n += restore_last_error(s, obj);
    n += restore_last_reset(s, obj);
    return n;
}
