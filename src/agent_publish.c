/* agent_publish: the agent's MQTT side: topics, the retained state and
 * availability, events, and the connection's lifecycle. */
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent_internal.h"
#include "sms-sentinel/log.h"
#include "sms-sentinel/state_store.h"
#include "sms-sentinel/strbuf.h"
#include "sms-sentinel/timefmt.h"

void agent_now_iso(char *buf, size_t size)
{
    if (format_iso8601(time(NULL), buf, size) < 0 && size > 0)
        buf[0] = '\0';
}

int agent_topics_build(struct agent_topics *t, const char *base)
{
    if (format_checked(t->availability, sizeof(t->availability), "%s/availability", base) < 0 ||
        format_checked(t->state, sizeof(t->state), "%s/state", base) < 0 ||
        format_checked(t->event, sizeof(t->event), "%s/event", base) < 0 ||
        format_checked(t->requests, sizeof(t->requests), "%s/request/+", base) < 0 ||
        format_checked(t->base, sizeof(t->base), "%s", base) < 0)
        return -1;
    return 0;
}

json_object *agent_snapshot(const struct agent *a, int64_t now_ms)
{
    struct snapshot_facts f = {
        .health = a->health.state,
        .health_reason = a->health.reason,
        .since = a->health_since,
        .started_at = a->started_at,
        .uptime_s = (now_ms - a->started_mono_ms) / 1000,
        .modem_present = a->modem_present,
        .smsd_running = a->smsd_running,
        .signal_percent = a->signal_percent,
        .network = NULL,
        .outbox_depth = a->outbox_depth,
        .pid = (long)getpid(),
        .node_id = a->cfg->node_id,
        .pool = a->cfg->pool && *a->cfg->pool ? a->cfg->pool : NULL,
        .pool_member = a->pool_filter[0] != '\0',
    };
    return snapshot_build(&f, &a->stats);
}

static void publish_json(struct agent *a, const char *topic, json_object *obj, bool retain)
{
    if (!a->mqtt || !mqtt_link_connected(a->mqtt))
        return;
    size_t len = 0;
    const char *text = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN, &len);
    if (mqtt_link_publish(a->mqtt, topic, text, len, a->cfg->mqtt_qos, retain, NULL) < 0)
        log_debug("mqtt: could not publish %s", topic);
}

void agent_publish_state(struct agent *a, int64_t now_ms)
{
    json_object *snap = agent_snapshot(a, now_ms);
    publish_json(a, a->topics.state, snap, true);
    /* The periodic publish only refreshes the uptime: no disk write (and fsync) for it. */
    int rc = a->state_periodic ? a->state_save_err : state_store_save(a->cfg->state_dir, snap);
    a->state_periodic = false;
    /* Edge-triggered: a full disk would otherwise log on every state change. */
    if (rc < 0 && rc != a->state_save_err)
        log_warn("cannot save state in %s: %s (counters kept in memory; retried on every change)",
                 a->cfg->state_dir, strerror(-rc));
    else if (rc == 0 && a->state_save_err < 0)
        log_info("state saved in %s again", a->cfg->state_dir);
    a->state_save_err = rc;
    json_object_put(snap);
    a->state_dirty = false;
    a->next_state_ms = now_ms + AGENT_STATE_PERIOD_MS;
}

void agent_publish_event(struct agent *a, const char *name, json_object *fields)
{
    char at[40];
    agent_now_iso(at, sizeof(at));
    json_object *ev = json_object_new_object();
    json_object_object_add(ev, "event", json_object_new_string(name));
    json_object_object_add(ev, "at", json_object_new_string(at));
    json_object_object_foreach(fields, key, value)
    {
        json_object_object_add(ev, key, json_object_get(value));
    }
    json_object_put(fields);
    publish_json(a, a->topics.event, ev, false);
    json_object_put(ev);
}

static void on_connect(void *ctx)
{
    struct agent *a = ctx;
    static const char online[] = "online";
    mqtt_link_publish(a->mqtt, a->topics.availability, online, sizeof(online) - 1, 1, true, NULL);
    agent_subscribe_requests(a);
    agent_discovery_on_connect(a);
    agent_inbox_on_connection(a, true);
    agent_send_on_connection(a, true);
    a->state_dirty = true;
}

static void on_published(void *ctx, int mid)
{
    agent_inbox_on_published(ctx, mid);
    agent_send_on_published(ctx, mid);
}

static void on_disconnect(void *ctx)
{
    agent_pool_on_disconnect(ctx);
    agent_inbox_on_connection(ctx, false);
    agent_send_on_connection(ctx, false);
}

static struct mqtt_link_options link_options(const struct config *c, const struct agent_topics *t)
{
    struct mqtt_link_options o = {
        .host = c->mqtt_host,
        .port = c->mqtt_port,
        .client_id = c->client_id,
        .username = c->mqtt_username,
        .password_file = c->mqtt_password_file,
        .tls_ca = c->tls_ca,
        .tls_cert = c->tls_cert,
        .tls_key = c->tls_key,
        .keepalive_s = c->keepalive,
        .will_topic = t->availability,
        .will_payload = "offline",
    };
    return o;
}

int agent_mqtt_check(const struct config *c, char *err, size_t errsize)
{
    struct agent_topics t;
    if (agent_topics_build(&t, c->base_topic) < 0) {
        format_checked(err, errsize, "base_topic is too long");
        return -1;
    }
    struct mqtt_link_options o = link_options(c, &t);
    struct mqtt_link_callbacks none = {0};
    struct mqtt_link *probe = mqtt_link_new(&o, &none, NULL, err, errsize);
    bool ok = probe != NULL;
    mqtt_link_free(probe);
    return ok ? 0 : -1;
}

int agent_mqtt_open(struct agent *a, char *err, size_t errsize)
{
    const struct config *c = a->cfg;
    if (agent_topics_build(&a->topics, c->base_topic) < 0) {
        format_checked(err, errsize, "base_topic is too long");
        return -1;
    }
    struct mqtt_link_options o = link_options(c, &a->topics);
    struct mqtt_link_callbacks cb = {on_connect, on_disconnect, agent_on_message, on_published};
    a->mqtt = mqtt_link_new(&o, &cb, a, err, errsize);
    if (!a->mqtt)
        return -1;
    mqtt_link_start(a->mqtt, clock_monotonic_ms());
    return 0;
}

void agent_mqtt_close(struct agent *a, bool say_offline)
{
    if (!a->mqtt)
        return;
    if (a->mqtt_fd_watched >= 0) {
        loop_unwatch(&a->loop, a->mqtt_fd_watched);
        a->mqtt_fd_watched = -1;
    }
    if (say_offline)
        mqtt_link_shutdown(a->mqtt, a->topics.availability, "offline", AGENT_SHUTDOWN_FLUSH_MS);
    mqtt_link_free(a->mqtt);
    a->mqtt = NULL;
}
