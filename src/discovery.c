/* discovery: the table of Home Assistant entities and the builder that turns
 * each row into a discovery config (topic + JSON payload). Adding an entity is
 * one row. The rules HA enforces (and that tests/unit/test_discovery.c checks on
 * every row): an enum sensor lists options and has no unit or state class; a
 * timestamp sensor has no unit and no state class; counters are
 * total_increasing; sensors are never entity_category config. */
#include "sms-sentinel/discovery.h"

#include <string.h>

#include "sms-sentinel/health.h"
#include "sms-sentinel/strbuf.h"

#ifndef SMS_SUPPORT_URL
#define SMS_SUPPORT_URL "" /* a packager may pass -DSMS_SUPPORT_URL="https://..." */
#endif

/* Topics below <base> an entity reads or writes. */
enum topic_ref {
    TOPIC_NONE,
    TOPIC_STATE,        /* <base>/state (retained snapshot) */
    TOPIC_SMS_RECEIVED, /* <base>/sms/received */
    TOPIC_REQ_RESET,
    TOPIC_REQ_RESTART_SMSD,
    TOPIC_REQ_SEND_SMS,
};

enum entity_extra {
    EXTRA_NONE,
    EXTRA_HEALTH_OPTIONS, /* options: the six health states */
    EXTRA_EVENT_TYPES,    /* event_types: ["received"] */
};

enum entity_needs {
    NEEDS_NOTHING,
    NEEDS_RECIPIENTS, /* only with default_recipients */
};

struct entity {
    const char *component;
    const char *object_id;
    const char *name;
    const char *icon;
    const char *device_class;
    const char *state_class;
    const char *unit;
    const char *entity_category;
    enum topic_ref state_topic;
    const char *value_template;
    const char *attributes_template; /* json_attributes_template on the state topic */
    enum topic_ref command_topic;
    const char *payload_press;
    const char *command_template;
    enum entity_extra extra;
    enum entity_needs needs;
};

/* Templates render "None" for a JSON null: HA's MQTT platforms read that as
 * "unknown". Binary sensors render ON/OFF (their default payload_on/off). */
#define TRI_TEMPLATE(field)                                                                                            \
    "{{ 'None' if value_json." field " is none else ('ON' if value_json." field " else 'OFF') }}"

static const struct entity entities[] = {
    {.component = "sensor", .object_id = "health", .name = "Health", .icon = "mdi:heart-pulse",
     .device_class = "enum", .state_topic = TOPIC_STATE, .value_template = "{{ value_json.health }}",
     .attributes_template = "{{ {'reason': value_json.health_reason, 'since': value_json.since} | to_json }}",
     .extra = EXTRA_HEALTH_OPTIONS},
    {.component = "sensor", .object_id = "signal", .name = "Signal", .icon = "mdi:signal",
     .state_class = "measurement", .unit = "%", .state_topic = TOPIC_STATE,
     .value_template = "{{ value_json.signal_percent }}"},
    {.component = "sensor", .object_id = "network", .name = "Network", .icon = "mdi:radio-tower",
     .entity_category = "diagnostic", .state_topic = TOPIC_STATE, .value_template = "{{ value_json.network }}"},
    {.component = "sensor", .object_id = "errors_total", .name = "Errors", .icon = "mdi:alert-circle-outline",
     .state_class = "total_increasing", .entity_category = "diagnostic", .state_topic = TOPIC_STATE,
     .value_template = "{{ value_json.errors_total }}", .attributes_template = "{{ value_json.errors | to_json }}"},
    {.component = "sensor", .object_id = "last_error", .name = "Last error", .icon = "mdi:alert-outline",
     .entity_category = "diagnostic", .state_topic = TOPIC_STATE,
     .value_template = "{{ value_json.last_error.name if value_json.last_error else None }}",
     .attributes_template = "{{ (value_json.last_error or {}) | to_json }}"},
    {.component = "sensor", .object_id = "resets_total", .name = "Modem resets", .icon = "mdi:restart",
     .state_class = "total_increasing", .entity_category = "diagnostic", .state_topic = TOPIC_STATE,
     .value_template = "{{ value_json.resets_total }}"},
    {.component = "sensor", .object_id = "last_reset", .name = "Last modem reset", .device_class = "timestamp",
     .entity_category = "diagnostic", .state_topic = TOPIC_STATE,
     .value_template = "{{ value_json.last_reset.at if value_json.last_reset else None }}",
     .attributes_template = "{{ (value_json.last_reset or {}) | to_json }}"},
    {.component = "sensor", .object_id = "sms_received", .name = "SMS received", .icon = "mdi:message-arrow-left",
     .state_class = "total_increasing", .state_topic = TOPIC_STATE, .value_template = "{{ value_json.sms_received }}"},
    {.component = "sensor", .object_id = "sms_sent", .name = "SMS sent", .icon = "mdi:message-arrow-right",
     .state_class = "total_increasing", .state_topic = TOPIC_STATE, .value_template = "{{ value_json.sms_sent }}"},
    {.component = "sensor", .object_id = "sms_failed", .name = "SMS failed", .icon = "mdi:message-alert",
     .state_class = "total_increasing", .state_topic = TOPIC_STATE, .value_template = "{{ value_json.sms_failed }}"},
    {.component = "binary_sensor", .object_id = "modem_connected", .name = "Modem connected",
     .device_class = "connectivity", .state_topic = TOPIC_STATE, .value_template = TRI_TEMPLATE("modem_present")},
    {.component = "binary_sensor", .object_id = "smsd_running", .name = "gammu-smsd running",
     .device_class = "running", .entity_category = "diagnostic", .state_topic = TOPIC_STATE,
     .value_template = TRI_TEMPLATE("smsd_running")},
    {.component = "binary_sensor", .object_id = "problem", .name = "Problem", .device_class = "problem",
     .state_topic = TOPIC_STATE, .value_template = "{{ 'OFF' if value_json.health in ('starting', 'ok') else 'ON' }}",
     .attributes_template = "{{ {'health': value_json.health, 'reason': value_json.health_reason} | to_json }}"},
    {.component = "button", .object_id = "reset_modem", .name = "Reset modem", .device_class = "restart",
     .command_topic = TOPIC_REQ_RESET, .payload_press = "{\"method\":\"auto\"}"},
    {.component = "button", .object_id = "restart_smsd", .name = "Restart gammu-smsd", .device_class = "restart",
     .entity_category = "config", .command_topic = TOPIC_REQ_RESTART_SMSD, .payload_press = "{}"},
    {.component = "event", .object_id = "incoming_sms", .name = "Incoming SMS", .icon = "mdi:message-text",
     .state_topic = TOPIC_SMS_RECEIVED,
     .value_template = "{{ {'event_type': 'received', 'id': value_json.id, 'number': value_json.number, "
                       "'text': value_json.text, 'received_at': value_json.received_at, "
                       "'parts': value_json.parts} | to_json }}",
     .extra = EXTRA_EVENT_TYPES},
    {.component = "notify", .object_id = "send_sms", .name = "Send SMS", .icon = "mdi:message-plus",
     .command_topic = TOPIC_REQ_SEND_SMS, .command_template = "{{ {'text': value} | to_json }}",
     .needs = NEEDS_RECIPIENTS},
};

_Static_assert(sizeof(entities) / sizeof(entities[0]) <= DISCOVERY_MAX_MESSAGES, "raise DISCOVERY_MAX_MESSAGES");

static const char *topic_suffix(enum topic_ref t)
{
    switch (t) {
    case TOPIC_NONE: return NULL;
    case TOPIC_STATE: return "state";
    case TOPIC_SMS_RECEIVED: return "sms/received";
    case TOPIC_REQ_RESET: return "request/reset";
    case TOPIC_REQ_RESTART_SMSD: return "request/restart_smsd";
    case TOPIC_REQ_SEND_SMS: return "request/send_sms";
    }
    return NULL;
}

static void add_string(json_object *o, const char *key, const char *value)
{
    if (value && *value)
        json_object_object_add(o, key, json_object_new_string(value));
}

static int add_topic(json_object *o, const char *key, const char *base, enum topic_ref t)
{
    const char *suffix = topic_suffix(t);
    if (!suffix)
        return 0;
    char topic[DISCOVERY_TOPIC_SIZE];
    if (format_checked(topic, sizeof(topic), "%s/%s", base, suffix) < 0)
        return -1;
    add_string(o, key, topic);
    return 0;
}

/* One HA device per node; the same object in every payload. */
static json_object *device_json(const struct config *cfg, const struct discovery_device *dev)
{
    char id[128], name[128];
    format_checked(id, sizeof(id), "sms-sentinel_%s", cfg->node_id);
    format_checked(name, sizeof(name), "SMS sentinel %s", cfg->node_id);
    json_object *d = json_object_new_object();
    json_object *ids = json_object_new_array();
    json_object_array_add(ids, json_object_new_string(id));
    json_object_object_add(d, "identifiers", ids);
    add_string(d, "name", name);
    if (dev) {
        add_string(d, "manufacturer", dev->manufacturer);
        add_string(d, "model", dev->model);
        add_string(d, "model_id", dev->model_id);
    }
    add_string(d, "sw_version", SMS_VERSION);
    return d;
}

static json_object *origin_json(void)
{
    json_object *o = json_object_new_object();
    add_string(o, "name", "sms-sentinel");
    add_string(o, "sw_version", SMS_VERSION);
    add_string(o, "support_url", SMS_SUPPORT_URL);
    return o;
}

static void add_extra(json_object *o, enum entity_extra extra)
{
    json_object *list;
    switch (extra) {
    case EXTRA_NONE:
        return;
    case EXTRA_HEALTH_OPTIONS:
        list = json_object_new_array();
        for (int s = 0; s < HEALTH_STATE_COUNT; s++)
            json_object_array_add(list, json_object_new_string(health_state_str((enum health_state)s)));
        json_object_object_add(o, "options", list);
        return;
    case EXTRA_EVENT_TYPES:
        list = json_object_new_array();
        json_object_array_add(list, json_object_new_string("received"));
        json_object_object_add(o, "event_types", list);
        return;
    }
}

static bool entity_wanted(const struct config *cfg, const struct entity *e)
{
    switch (e->needs) {
    case NEEDS_NOTHING: return true;
    case NEEDS_RECIPIENTS: return cfg->default_recipients.count > 0;
    }
    return false;
}

/* entity_id wants [a-z0-9_]: the node_id's '-' becomes '_'. */
static int default_entity_id(char *buf, size_t size, const struct entity *e, const char *node_id)
{
    if (format_checked(buf, size, "%s.sms_sentinel_%s_%s", e->component, node_id, e->object_id) < 0)
        return -1;
    for (char *p = buf; *p; p++)
        if (*p == '-')
            *p = '_';
    return 0;
}

static json_object *entity_payload(const struct config *cfg, const struct discovery_device *dev,
                                   const struct entity *e)
{
    const char *base = cfg->base_topic;
    char unique_id[160], entity_id[192], availability[DISCOVERY_TOPIC_SIZE];
    if (format_checked(unique_id, sizeof(unique_id), "sms-sentinel_%s_%s", cfg->node_id, e->object_id) < 0 ||
        default_entity_id(entity_id, sizeof(entity_id), e, cfg->node_id) < 0 ||
        format_checked(availability, sizeof(availability), "%s/availability", base) < 0)
        return NULL;
    json_object *o = json_object_new_object();
    add_string(o, "name", e->name);
    add_string(o, "unique_id", unique_id);
    add_string(o, "default_entity_id", entity_id);
    add_string(o, "icon", e->icon);
    add_string(o, "device_class", e->device_class);
    add_string(o, "state_class", e->state_class);
    add_string(o, "unit_of_measurement", e->unit);
    add_string(o, "entity_category", e->entity_category);
    int rc = add_topic(o, "state_topic", base, e->state_topic);
    add_string(o, "value_template", e->value_template);
    if (e->attributes_template) {
        rc |= add_topic(o, "json_attributes_topic", base, e->state_topic);
        add_string(o, "json_attributes_template", e->attributes_template);
    }
    rc |= add_topic(o, "command_topic", base, e->command_topic);
    add_string(o, "payload_press", e->payload_press);
    add_string(o, "command_template", e->command_template);
    add_extra(o, e->extra);
    json_object_object_add(o, "qos", json_object_new_int(cfg->mqtt_qos));
    add_string(o, "availability_topic", availability);
    add_string(o, "payload_available", "online");
    add_string(o, "payload_not_available", "offline");
    json_object_object_add(o, "device", device_json(cfg, dev));
    json_object_object_add(o, "origin", origin_json());
    if (rc < 0) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

/* A topic level HA's discovery topic pattern accepts: [a-zA-Z0-9_-]+. */
static bool valid_level(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n > 0 && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

static bool valid_prefix(const char *s)
{
    return s && *s && !strpbrk(s, "+#") && s[strlen(s) - 1] != '/';
}

int discovery_build(const struct config *cfg, const struct discovery_device *dev, struct discovery_set *out,
                    char *err, size_t errsize)
{
    memset(out, 0, sizeof(*out));
    if (!cfg->discovery)
        return 0;
    if (!valid_level(cfg->node_id) || !valid_prefix(cfg->discovery_prefix) || !valid_prefix(cfg->base_topic)) {
        format_checked(err, errsize, "node_id, discovery_prefix or base_topic cannot be part of a discovery topic");
        return -1;
    }
    for (size_t i = 0; i < sizeof(entities) / sizeof(entities[0]); i++) {
        const struct entity *e = &entities[i];
        if (!entity_wanted(cfg, e))
            continue;
        struct discovery_message *m = &out->items[out->count];
        if (format_checked(m->topic, sizeof(m->topic), "%s/%s/%s/%s/config", cfg->discovery_prefix, e->component,
                           cfg->node_id, e->object_id) < 0 ||
            !(m->payload = entity_payload(cfg, dev, e))) {
            format_checked(err, errsize, "discovery topic for %s is too long", e->object_id);
            discovery_set_clear(out);
            return -1;
        }
        out->count++;
    }
    return 0;
}

void discovery_set_clear(struct discovery_set *set)
{
    for (int i = 0; i < set->count; i++)
        json_object_put(set->items[i].payload);
    memset(set, 0, sizeof(*set));
}

const char *discovery_payload_text(const struct discovery_message *m, size_t *len)
{
    return json_object_to_json_string_length(m->payload, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);
}

bool discovery_set_has(const struct discovery_set *set, const char *topic)
{
    for (int i = 0; i < set->count; i++)
        if (strcmp(set->items[i].topic, topic) == 0)
            return true;
    return false;
}

int discovery_status_topic(const struct config *cfg, char *buf, size_t size)
{
    return format_checked(buf, size, "%s/status", cfg->discovery_prefix);
}
