/* agent_pool: pool mode in the agent ([mqtt] pool = NAME). While the modem can
 * send (pool_member_wanted), the agent holds the shared subscription
 * $share/NAME/sms-sentinel/pool/request/send_sms; otherwise it unsubscribes,
 * so the broker hands pooled requests to the other agents. A pooled request
 * goes the way of <base>/request/send_sms; its response goes to the v5
 * response topic or sms-sentinel/pool/response/send_sms and names this node. */
#include <string.h>

#include "agent_internal.h"
#include "sms-sentinel/log.h"
#include "sms-sentinel/pool.h"

static bool pool_configured(const struct agent *a) { return a->cfg->pool && *a->cfg->pool; }

static bool wanted(const struct agent *a, const char **why)
{
    struct pool_facts f = {
        .configured = pool_configured(a),
        .connected = a->mqtt && mqtt_link_connected(a->mqtt),
        .outbox_known = a->send != NULL,
        .health = a->health.state,
        .modem_present = a->modem_present,
        .smsd_running = a->smsd_running,
    };
    return pool_member_wanted(&f, why);
}

static void leave(struct agent *a, const char *why)
{
    if (a->mqtt && mqtt_link_connected(a->mqtt) && mqtt_link_unsubscribe(a->mqtt, a->pool_filter) < 0)
        log_warn("pool: cannot unsubscribe from %s", a->pool_filter);
    log_info("pool: left %s (%s; health %s)", a->pool_filter, why, health_state_str(a->health.state));
    a->pool_filter[0] = '\0';
}

static void join(struct agent *a, const char *filter)
{
    if (mqtt_link_subscribe(a->mqtt, filter, 1) < 0) {
        log_warn("pool: cannot subscribe to %s", filter);
        return;
    }
    memcpy(a->pool_filter, filter, strlen(filter) + 1);
    log_info("pool: joined %s (health %s)", filter, health_state_str(a->health.state));
}

void agent_pool_update(struct agent *a)
{
    const char *why = NULL;
    char filter[AGENT_TOPIC_SIZE] = "";
    if (wanted(a, &why) && pool_share_filter(a->cfg->pool, filter, sizeof(filter)) < 0) {
        why = "the pool name does not make a topic";
        filter[0] = '\0';
    }
    if (strcmp(filter, a->pool_filter) == 0)
        return;
    if (a->pool_filter[0])
        leave(a, filter[0] ? "the pool name changed" : why);
    if (filter[0])
        join(a, filter);
    a->state_dirty = true;
}

void agent_pool_on_disconnect(struct agent *a)
{
    /* Clean start: the broker forgot the subscription with the session. */
    if (a->pool_filter[0])
        log_info("pool: left %s (connection lost)", a->pool_filter);
    a->pool_filter[0] = '\0';
}

bool agent_pool_on_message(struct agent *a, const struct mqtt_message *msg)
{
    if (!pool_configured(a) || strcmp(msg->topic, POOL_REQUEST_TOPIC) != 0)
        return false;
    struct pending_reply reply;
    if (agent_reply_prepare(&reply, msg, POOL_RESPONSE_TOPIC) < 0)
        return true;
    reply.pooled = true;
    log_info("pool %s: took a send_sms request", a->cfg->pool);
    agent_send_request(a, msg->payload, msg->len, &reply);
    return true;
}
