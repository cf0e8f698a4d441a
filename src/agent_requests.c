/* agent_requests: MQTT requests (<base>/request/<name>) and their responses:
 * reset and restart_smsd go through the health policy and are answered when
 * the recovery ends; health_check is answered at once with the state. */
#include <string.h>

#include "agent_internal.h"
#include "sms-sentinel/log.h"
#include "sms-sentinel/request.h"
#include "sms-sentinel/strbuf.h"
#include "sms-sentinel/text.h"
#include "sms-sentinel/timefmt.h"

void agent_subscribe_requests(struct agent *a)
{
    if (mqtt_link_subscribe(a->mqtt, a->topics.requests, 1) < 0)
        log_warn("mqtt: cannot subscribe to %s", a->topics.requests);
}

void agent_reply_clear(struct pending_reply *r)
{
    json_object_put(r->transaction);
    memset(r, 0, sizeof(*r));
}

void agent_reply(struct agent *a, struct pending_reply *r, bool ok, json_object *data, const char *error)
{
    json_object *resp = response_build(ok, data, error, r->transaction);
    if (r->pooled)
        json_object_object_add(resp, "node_id", json_object_new_string(a->cfg->node_id));
    size_t len = 0;
    const char *text = json_object_to_json_string_length(resp, JSON_C_TO_STRING_PLAIN, &len);
    if (!a->mqtt || mqtt_link_publish_reply(a->mqtt, r->topic, text, len, r->correlation_len ? r->correlation : NULL,
                                            r->correlation_len) < 0)
        log_warn("mqtt: could not send the response on %s", r->topic);
    json_object_put(resp);
    agent_reply_clear(r);
}

/* A v5 response topic is used as given if it is a plain topic (no wildcards). */
static bool usable_response_topic(const char *t)
{
    size_t n = t ? strlen(t) : 0;
    return n > 0 && n < AGENT_TOPIC_SIZE && !strpbrk(t, "+#") && utf8_is_valid(t, n);
}

int agent_reply_prepare(struct pending_reply *r, const struct mqtt_message *msg, const char *default_topic)
{
    memset(r, 0, sizeof(*r));
    r->active = true;
    const char *topic = usable_response_topic(msg->response_topic) ? msg->response_topic : default_topic;
    if (format_checked(r->topic, sizeof(r->topic), "%s", topic) < 0)
        return -1;
    if (msg->correlation_data && msg->correlation_len <= sizeof(r->correlation)) {
        memcpy(r->correlation, msg->correlation_data, msg->correlation_len);
        r->correlation_len = msg->correlation_len;
    }
    return 0;
}

static int prepare_reply(struct agent *a, const struct mqtt_message *msg, const char *name, struct pending_reply *r)
{
    char topic[AGENT_TOPIC_SIZE];
    if (format_checked(topic, sizeof(topic), "%s/response/%s", a->topics.base, name) < 0 &&
        !usable_response_topic(msg->response_topic))
        return -1;
    return agent_reply_prepare(r, msg, topic);
}

int agent_request_recovery(struct agent *a, const char *method, const char *trigger, char *err, size_t errsize)
{
    int64_t now_ms = clock_monotonic_ms();
    struct health_transition t = health_request_recovery(&a->health, now_ms);
    if (t.action != HEALTH_ACTION_RECOVER) {
        format_checked(err, errsize, "%s", t.reason ? t.reason : "refused");
        return -1;
    }
    format_checked(a->recovery_method, sizeof(a->recovery_method), "%s", method);
    agent_apply_transition(a, t, trigger, now_ms);
    return 0;
}

static void handle_recovery_request(struct agent *a, const struct request *req, struct pending_reply *reply)
{
    const char *method = req->kind == REQUEST_RESTART_SMSD ? "restart_smsd" : req->method;
    char err[256];
    if (a->recovery_running || a->reply.active) {
        reply->transaction = json_object_get(req->transaction);
        agent_reply(a, reply, false, NULL, "a recovery is already running");
        return;
    }
    /* The reply waits for the end of the recovery. */
    a->reply = *reply;
    a->reply.transaction = json_object_get(req->transaction);
    json_object_put(reply->transaction);
    reply->transaction = NULL;
    if (agent_request_recovery(a, method, "request", err, sizeof(err)) < 0 && a->reply.active)
        agent_reply(a, &a->reply, false, NULL, err);
}

static void handle_request(struct agent *a, enum request_kind kind, const struct mqtt_message *msg,
                           struct pending_reply *reply)
{
    struct request req;
    char err[256];
    json_object *transaction = NULL;
    if (request_parse(kind, msg->payload, msg->len, &req, &transaction, err, sizeof(err)) < 0) {
        log_warn("request %s rejected: %s", request_kind_str(kind), err);
        reply->transaction = transaction;
        agent_reply(a, reply, false, NULL, err);
        return;
    }
    json_object_put(transaction);
    switch (kind) {
    case REQUEST_RESET:
    case REQUEST_RESTART_SMSD:
        log_info("request %s (method %s)", request_kind_str(kind), req.method);
        handle_recovery_request(a, &req, reply);
        break;
    case REQUEST_HEALTH_CHECK:
        reply->transaction = json_object_get(req.transaction);
        agent_reply(a, reply, true, agent_snapshot(a, clock_monotonic_ms()), NULL);
        break;
    case REQUEST_SEND_SMS:
        agent_send_request(a, msg->payload, msg->len, reply);
        break;
    }
    request_clear(&req);
}

void agent_on_message(void *ctx, const struct mqtt_message *msg)
{
    struct agent *a = ctx;
    if (agent_pool_on_message(a, msg) || agent_discovery_on_message(a, msg))
        return;
    size_t base_len = strlen(a->topics.base);
    const char *prefix = "/request/";
    if (strncmp(msg->topic, a->topics.base, base_len) != 0 || strncmp(msg->topic + base_len, prefix, 9) != 0)
        return;
    const char *name = msg->topic + base_len + 9;
    char shown[64];
    text_copy_clean(shown, sizeof(shown), name, strlen(name));
    struct pending_reply reply;
    if (prepare_reply(a, msg, shown, &reply) < 0)
        return;
    enum request_kind kind;
    if (request_kind_from_name(name, &kind) < 0) {
        char err[128];
        format_checked(err, sizeof(err), "unknown request '%s'", shown);
        log_warn("%s", err);
        agent_reply(a, &reply, false, NULL, err);
        return;
    }
    handle_request(a, kind, msg, &reply);
}

void agent_recovery_step(void *ctx, const struct recovery_step *step)
{
    struct agent *a = ctx;
    json_object *fields = json_object_new_object();
    json_object_object_add(fields, "method", json_object_new_string(step->method));
    json_object_object_add(fields, "result", json_object_new_string(step->ok ? "ok" : "failed"));
    json_object_object_add(fields, "reason", json_object_new_string(step->reason));
    json_object_object_add(fields, "duration_ms", json_object_new_int64(step->duration_ms));
    agent_publish_event(a, "step_result", fields);
}
