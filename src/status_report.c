/* status_report: the human-readable form of state.json. */
#include "sms-sentinel/status_report.h"

#include <inttypes.h>
#include <string.h>

static const char *str_field(json_object *o, const char *key, const char *fallback)
{
    json_object *v;
    if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return fallback;
}

static int64_t int_field(json_object *o, const char *key, int64_t fallback)
{
    json_object *v;
    if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_int))
        return json_object_get_int64(v);
    return fallback;
}

static const char *bool_field(json_object *o, const char *key, const char *yes, const char *no)
{
    json_object *v;
    if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_boolean))
        return json_object_get_boolean(v) ? yes : no;
    return "unknown";
}

static json_object *obj_field(json_object *o, const char *key)
{
    json_object *v;
    if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_object))
        return v;
    return NULL;
}

static void print_errors(json_object *snap, FILE *out)
{
    fprintf(out, "errors:      %" PRId64 " total", int_field(snap, "errors_total", 0));
    json_object *errors = obj_field(snap, "errors");
    const char *sep = ": ";
    if (errors) {
        json_object_object_foreach(errors, name, count)
        {
            fprintf(out, "%s%s %" PRId64, sep, name, json_object_get_int64(count));
            sep = ", ";
        }
    }
    fputc('\n', out);
    json_object *le = obj_field(snap, "last_error");
    if (le)
        fprintf(out, "last error:  %s[%" PRId64 "] at %s: %s\n", str_field(le, "name", "?"),
                int_field(le, "code", -1), str_field(le, "at", "?"), str_field(le, "message", ""));
    else
        fprintf(out, "last error:  none\n");
}

static void print_resets(json_object *snap, FILE *out)
{
    fprintf(out, "resets:      %" PRId64 " total", int_field(snap, "resets_total", 0));
    json_object *lr = obj_field(snap, "last_reset");
    if (lr)
        fprintf(out, "; last: %s at %s, %s, %" PRId64 " ms", str_field(lr, "method", "?"), str_field(lr, "at", "?"),
                str_field(lr, "result", "?"), int_field(lr, "duration_ms", 0));
    fputc('\n', out);
}

void status_report_print(json_object *snap, bool daemon_alive, FILE *out)
{
    fprintf(out, "sms-sentinel %s on %s: daemon pid %" PRId64 " %s\n", str_field(snap, "version", "?"),
            str_field(snap, "node_id", "?"), int_field(snap, "pid", -1),
            daemon_alive ? "running" : "not running (figures below are from its last save)");
    fprintf(out, "health:      %s since %s (%s)\n", str_field(snap, "health", "?"), str_field(snap, "since", "?"),
            str_field(snap, "health_reason", ""));
    fprintf(out, "modem:       %s; gammu-smsd %s\n", bool_field(snap, "modem_present", "present", "missing"),
            bool_field(snap, "smsd_running", "running", "not running"));
    print_errors(snap, out);
    print_resets(snap, out);
    int64_t outbox = int_field(snap, "outbox_depth", -1);
    fprintf(out, "sms:         received %" PRId64 ", sent %" PRId64 ", failed %" PRId64, int_field(snap, "sms_received", 0),
            int_field(snap, "sms_sent", 0), int_field(snap, "sms_failed", 0));
    if (outbox >= 0)
        fprintf(out, ", %" PRId64 " waiting in the outbox", outbox);
    const char *pool = str_field(snap, "pool", NULL);
    if (pool)
        fprintf(out, "\npool:        %s, %s", pool, bool_field(snap, "pool_member", "member", "not a member now"));
    fprintf(out, "\nuptime:      %" PRId64 " s (started %s)\n", int_field(snap, "uptime_s", 0),
            str_field(snap, "started_at", "?"));
}
