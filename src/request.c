/* request: JSON request validation (size, UTF-8, object, known fields with the
 * right types) and the zigbee2mqtt-style response document. */
#include "sms-sentinel/request.h"

#include <string.h>

#include "sms-sentinel/ladder.h"
#include "sms-sentinel/strbuf.h"
#include "sms-sentinel/text.h"

static const char *const kind_names[] = {
    [REQUEST_RESET] = "reset",
    [REQUEST_RESTART_SMSD] = "restart_smsd",
    [REQUEST_HEALTH_CHECK] = "health_check",
    [REQUEST_SEND_SMS] = "send_sms",
};

const char *request_kind_str(enum request_kind kind) { return kind_names[kind]; }

int request_kind_from_name(const char *name, enum request_kind *out)
{
    for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
        if (strcmp(kind_names[i], name) == 0) {
            *out = (enum request_kind)i;
            return 0;
        }
    }
    return -1;
}

/* Fields each request accepts besides "transaction". */
static bool field_allowed(enum request_kind kind, const char *key)
{
    if (strcmp(key, "transaction") == 0)
        return true;
    switch (kind) {
    case REQUEST_RESET:
        return strcmp(key, "method") == 0;
    case REQUEST_RESTART_SMSD:
    case REQUEST_HEALTH_CHECK:
        return false;
    case REQUEST_SEND_SMS:
        return true; /* validated by the SMS module */
    }
    return false;
}

static int parse_object(const void *payload, size_t len, json_object **out, char *err, size_t errsize)
{
    if (len > REQUEST_MAX_BYTES) {
        format_checked(err, errsize, "payload of %zu bytes is larger than %d", len, REQUEST_MAX_BYTES);
        return -1;
    }
    if (!utf8_is_valid(payload, len)) {
        format_checked(err, errsize, "payload is not valid UTF-8");
        return -1;
    }
    json_tokener *tok = json_tokener_new();
    json_object *obj = json_tokener_parse_ex(tok, payload, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    while (used < len && strchr(" \t\r\n", ((const char *)payload)[used]) && ((const char *)payload)[used])
        used++;
    if (!obj || jerr != json_tokener_success || used != len) {
        json_object_put(obj);
        format_checked(err, errsize, "payload is not valid JSON%s%s", jerr != json_tokener_success ? ": " : "",
                       jerr != json_tokener_success ? json_tokener_error_desc(jerr) : " (trailing data)");
        return -1;
    }
    if (!json_object_is_type(obj, json_type_object)) {
        json_object_put(obj);
        format_checked(err, errsize, "payload must be a JSON object");
        return -1;
    }
    *out = obj;
    return 0;
}

static int check_fields(enum request_kind kind, json_object *obj, char *err, size_t errsize)
{
    json_object_object_foreach(obj, key, value)
    {
        (void)value;
        if (!field_allowed(kind, key)) {
            char shown[64];
            text_copy_clean(shown, sizeof(shown), key, strlen(key));
            format_checked(err, errsize, "unknown field '%s' in %s request", shown, kind_names[kind]);
            return -1;
        }
    }
    return 0;
}

static int parse_method(json_object *obj, struct request *out, char *err, size_t errsize)
{
    json_object *m;
    if (!json_object_object_get_ex(obj, "method", &m)) {
        memcpy(out->method, "auto", sizeof("auto"));
        return 0;
    }
    if (!json_object_is_type(m, json_type_string)) {
        format_checked(err, errsize, "'method' must be a string");
        return -1;
    }
    const char *name = json_object_get_string(m);
    enum recovery_method rm;
    if (strcmp(name, "auto") != 0 && recovery_method_from_str(name, &rm) < 0) {
        char shown[40];
        text_copy_clean(shown, sizeof(shown), name, strlen(name));
        format_checked(err, errsize,
                       "unknown method '%s' (auto, restart_smsd, usbreset, rebind, authorized, port_power, command)",
                       shown);
        return -1;
    }
    return format_checked(out->method, sizeof(out->method), "%s", name);
}

int request_parse(enum request_kind kind, const void *payload, size_t len, struct request *out,
                  json_object **transaction_out, char *err, size_t errsize)
{
    memset(out, 0, sizeof(*out));
    out->kind = kind;
    *transaction_out = NULL;
    memcpy(out->method, "auto", sizeof("auto"));
    if (len == 0)
        return 0;
    json_object *obj = NULL;
    if (parse_object(payload, len, &obj, err, errsize) < 0)
        return -1;
    json_object *t;
    if (json_object_object_get_ex(obj, "transaction", &t) && t)
        *transaction_out = json_object_get(t);
    int rc = check_fields(kind, obj, err, errsize);
    if (rc == 0 && kind == REQUEST_RESET)
        rc = parse_method(obj, out, err, errsize);
    if (rc == 0 && *transaction_out)
        out->transaction = json_object_get(*transaction_out);
    json_object_put(obj);
    return rc;
}

void request_clear(struct request *r)
{
    json_object_put(r->transaction);
    r->transaction = NULL;
}

json_object *response_build(bool ok, json_object *data, const char *error, json_object *transaction)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "status", json_object_new_string(ok ? "ok" : "error"));
    json_object_object_add(o, "data", data ? data : json_object_new_object());
    if (!ok)
        json_object_object_add(o, "error", json_object_new_string(error ? error : "error"));
    if (transaction)
        json_object_object_add(o, "transaction", json_object_get(transaction));
    return o;
}
