/* agent_discovery: the daemon's side of Home Assistant discovery: publishes the
 * configs (retained) on every connect, again when HA says "online" on
 * <prefix>/status, after a reload and when the modem's USB facts change; and
 * empties the retained configs of entities that no longer exist. What was
 * published is remembered in <state_dir>/discovery.json, so that an entity
 * dropped while the daemon was down (or discovery = no) is removed on start. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent_internal.h"
#include "sms-sentinel/device_facts.h"
#include "sms-sentinel/discovery.h"
#include "sms-sentinel/fsutil.h"
#include "sms-sentinel/log.h"
#include "sms-sentinel/strbuf.h"

#define DISCOVERY_FILE "discovery.json"
#define DISCOVERY_FILE_MAX (64 * 1024)
#define MAX_REMEMBERED 64
#define FACTS_PERIOD_MS (60 * 1000)        /* once the modem is known */
#define FACTS_UNKNOWN_PERIOD_MS (10 * 1000) /* until then: from 10 s, doubling ... */
#define FACTS_UNKNOWN_MAX_MS (10 * 60 * 1000) /* ... up to 10 min; at once when the tty appears */

struct agent_discovery {
    struct discovery_set set;        /* what should be on the broker */
    struct discovery_device facts;   /* the set was built with these */
    char *remembered[MAX_REMEMBERED]; /* topics we may have left retained on the broker */
    int remembered_count;
    char status_topic[DISCOVERY_TOPIC_SIZE];
    bool dirty;                      /* (re)publish at the next turn while connected */
    int64_t next_facts_ms;
    int64_t unknown_period_ms;       /* current back-off while the facts are unknown */
    enum tristate seen_modem;        /* modem_present at the last look */
};

static void forget_all(struct agent_discovery *d)
{
    for (int i = 0; i < d->remembered_count; i++)
        free(d->remembered[i]);
    d->remembered_count = 0;
}

static void remember(struct agent_discovery *d, const char *topic)
{
    for (int i = 0; i < d->remembered_count; i++)
        if (strcmp(d->remembered[i], topic) == 0)
            return;
    char *copy = d->remembered_count < MAX_REMEMBERED ? strdup(topic) : NULL;
    if (copy)
        d->remembered[d->remembered_count++] = copy;
}

/* Only topics that look like ours are taken from the file. */
static bool plausible_topic(const char *t)
{
    size_t n = strlen(t);
    return n > 7 && n < DISCOVERY_TOPIC_SIZE && !strpbrk(t, "+#") && strcmp(t + n - 7, "/config") == 0;
}

static void load_remembered(struct agent_discovery *d, const char *state_dir)
{
    char path[512];
    char *text = NULL;
    size_t len = 0;
    if (format_checked(path, sizeof(path), "%s/%s", state_dir, DISCOVERY_FILE) < 0)
        return;
    int rc = fs_read_file(path, DISCOVERY_FILE_MAX, &text, &len);
    if (rc < 0) {
        if (rc != -ENOENT)
            log_warn("cannot read %s: %s", path, strerror(-rc));
        return;
    }
    json_object *obj = json_tokener_parse(text);
    free(text);
    json_object *list;
    if (!obj || !json_object_object_get_ex(obj, "published", &list) || !json_object_is_type(list, json_type_array)) {
        log_warn("%s is not a discovery list; ignoring it", path);
        json_object_put(obj);
        return;
    }
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        const char *t = json_object_get_string(json_object_array_get_idx(list, i));
        if (t && plausible_topic(t))
            remember(d, t);
    }
    json_object_put(obj);
}

static int save_remembered(const struct agent_discovery *d, const char *state_dir)
{
    json_object *obj = json_object_new_object();
    json_object *list = json_object_new_array();
    for (int i = 0; i < d->remembered_count; i++)
        json_object_array_add(list, json_object_new_string(d->remembered[i]));
    json_object_object_add(obj, "published", list);
    size_t len = 0;
    const char *text = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE,
                                                         &len);
    int rc = fs_mkdir_p(state_dir, 0750);
    if (rc == 0)
        rc = fs_write_atomic(state_dir, DISCOVERY_FILE, text, len);
    json_object_put(obj);
    return rc;
}

static void rebuild(struct agent *a)
{
    struct agent_discovery *d = a->discovery;
    char err[256];
    discovery_set_clear(&d->set);
    if (discovery_build(a->cfg, &d->facts, &d->set, err, sizeof(err)) < 0)
        log_error("home assistant discovery: %s", err);
    if (discovery_status_topic(a->cfg, d->status_topic, sizeof(d->status_topic)) < 0)
        d->status_topic[0] = '\0';
    d->dirty = true;
}

int agent_discovery_open(struct agent *a)
{
    a->discovery = calloc(1, sizeof(*a->discovery));
    if (!a->discovery)
        return -1;
    load_remembered(a->discovery, a->cfg->state_dir);
    device_facts_read(a->cfg, &a->discovery->facts);
    rebuild(a);
    return 0;
}

void agent_discovery_close(struct agent *a)
{
    if (!a->discovery)
        return;
    discovery_set_clear(&a->discovery->set);
    forget_all(a->discovery);
    free(a->discovery);
    a->discovery = NULL;
}

void agent_discovery_reload(struct agent *a)
{
    if (a->discovery)
        rebuild(a);
}

void agent_discovery_on_connect(struct agent *a)
{
    struct agent_discovery *d = a->discovery;
    if (!d)
        return;
    if (a->cfg->discovery && d->status_topic[0] && mqtt_link_subscribe(a->mqtt, d->status_topic, 1) < 0)
        log_warn("mqtt: cannot subscribe to %s", d->status_topic);
    d->dirty = true;
}

bool agent_discovery_on_message(struct agent *a, const struct mqtt_message *msg)
{
    struct agent_discovery *d = a->discovery;
    if (!d || !d->status_topic[0] || strcmp(msg->topic, d->status_topic) != 0)
        return false;
    if (a->cfg->discovery && msg->len == 6 && memcmp(msg->payload, "online", 6) == 0) {
        log_info("home assistant is online: publishing discovery again");
        d->dirty = true;
    }
    return true;
}

static int publish(struct agent *a, const char *topic, const void *payload, size_t len)
{
    int rc = mqtt_link_publish(a->mqtt, topic, payload, len, 1, true, NULL);
    if (rc < 0)
        log_debug("mqtt: could not publish %s", topic);
    return rc;
}

/* Publishes the set, empties what is remembered but no longer in the set. */
static void publish_all(struct agent *a)
{
    struct agent_discovery *d = a->discovery;
    int failed = 0, cleared = 0;
    for (int i = 0; i < d->set.count; i++) {
        size_t len = 0;
        const char *text = discovery_payload_text(&d->set.items[i], &len);
        failed += publish(a, d->set.items[i].topic, text, len) < 0;
    }
    for (int i = 0; i < d->remembered_count; i++) {
        if (discovery_set_has(&d->set, d->remembered[i]))
            continue;
        if (publish(a, d->remembered[i], "", 0) < 0) {
            failed++;
            continue;
        }
        log_info("home assistant discovery: removed %s", d->remembered[i]);
        cleared++;
    }
    d->dirty = false;
    if (failed) /* the connection went away: the next connect does it all again */
        return;
    forget_all(d);
    for (int i = 0; i < d->set.count; i++)
        remember(d, d->set.items[i].topic);
    int rc = save_remembered(d, a->cfg->state_dir);
    if (rc < 0)
        log_warn("cannot save %s/%s: %s", a->cfg->state_dir, DISCOVERY_FILE, strerror(-rc));
    log_debug("home assistant discovery: %d config(s) published, %d removed", d->set.count, cleared);
}

static void refresh_facts(struct agent *a, int64_t now_ms)
{
    struct agent_discovery *d = a->discovery;
    if (d->unknown_period_ms < FACTS_UNKNOWN_PERIOD_MS)
        d->unknown_period_ms = FACTS_UNKNOWN_PERIOD_MS;
    d->next_facts_ms = now_ms + (d->facts.model_id[0] ? FACTS_PERIOD_MS : d->unknown_period_ms);
    if (!d->facts.model_id[0] && d->unknown_period_ms < FACTS_UNKNOWN_MAX_MS)
        d->unknown_period_ms *= 2;
    d->seen_modem = a->modem_present;
    if (!a->cfg->discovery || a->recovery_running)
        return;
    struct discovery_device now;
    if (device_facts_read(a->cfg, &now) < 0)
        return; /* keep what was known: the modem may be away for a reset */
    if (memcmp(&now, &d->facts, sizeof(now)) == 0)
        return;
    log_info("modem: %s %s (%s)", now.manufacturer[0] ? now.manufacturer : "?", now.model[0] ? now.model : "?",
             now.model_id);
    d->facts = now;
    rebuild(a);
}

void agent_discovery_tick(struct agent *a, int64_t now_ms)
{
    struct agent_discovery *d = a->discovery;
    if (!d)
        return;
    if (a->modem_present != d->seen_modem && a->modem_present == TRI_YES) { /* the stick appeared */
        d->unknown_period_ms = FACTS_UNKNOWN_PERIOD_MS;
        d->next_facts_ms = now_ms;
    }
    if (now_ms >= d->next_facts_ms)
        refresh_facts(a, now_ms);
    if (d->dirty && a->mqtt && mqtt_link_connected(a->mqtt))
        publish_all(a);
}

int64_t agent_discovery_deadline_ms(const struct agent *a)
{
    const struct agent_discovery *d = a->discovery;
    if (!d)
        return INT64_MAX;
    if (d->dirty && a->mqtt && mqtt_link_connected(a->mqtt))
        return 0;
    return d->next_facts_ms;
}
