/* snapshot: the state document: health, facts about modem and gammu-smsd,
 * counters, version. Unknown facts are JSON null, never a made-up value. */
#include "sms-sentinel/snapshot.h"

static json_object *tristate_json(enum tristate t)
{
    return t == TRI_UNKNOWN ? NULL : json_object_new_boolean(t == TRI_YES);
}

static json_object *string_or_null(const char *s) { return s ? json_object_new_string(s) : NULL; }

json_object *snapshot_build(const struct snapshot_facts *f, const struct stats *stats)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "health", json_object_new_string(health_state_str(f->health)));
    json_object_object_add(o, "health_reason", string_or_null(f->health_reason));
    json_object_object_add(o, "since", string_or_null(f->since));
    json_object_object_add(o, "modem_present", tristate_json(f->modem_present));
    json_object_object_add(o, "smsd_running", tristate_json(f->smsd_running));
    json_object_object_add(o, "signal_percent", f->signal_percent >= 0 ? json_object_new_int(f->signal_percent) : NULL);
    json_object_object_add(o, "network", string_or_null(f->network));
    stats_add_to_json(stats, o);
    json_object_object_add(o, "outbox_depth", f->outbox_depth >= 0 ? json_object_new_int(f->outbox_depth) : NULL);
    json_object_object_add(o, "started_at", string_or_null(f->started_at));
    json_object_object_add(o, "uptime_s", json_object_new_int64(f->uptime_s));
    json_object_object_add(o, "node_id", string_or_null(f->node_id));
    json_object_object_add(o, "pool", string_or_null(f->pool));
    json_object_object_add(o, "pool_member", json_object_new_boolean(f->pool_member));
    json_object_object_add(o, "pid", json_object_new_int64(f->pid));
    json_object_object_add(o, "version", json_object_new_string(SMS_VERSION));
    return o;
}
