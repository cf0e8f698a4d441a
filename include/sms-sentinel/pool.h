/* pool: the rules of pool mode (SPEC section 4): several agents, one modem
 * each, share send_sms requests through an MQTT v5 shared subscription. An
 * agent is in the pool only while its modem can send; this header decides
 * when that is and names the pool topics. Pure: no I/O. */
#ifndef SMS_SENTINEL_POOL_H
#define SMS_SENTINEL_POOL_H

#include <stdbool.h>
#include <stddef.h>

#include "sms-sentinel/health.h"
#include "sms-sentinel/snapshot.h"

/* Fixed topics, the same for every pool: the pool name only names the share
 * group, so one broker should carry one pool (two groups would each get every
 * request and send it twice). */
#define POOL_TOPIC_ROOT "sms-sentinel/pool" /* no agent's base_topic may be in here */
#define POOL_REQUEST_TOPIC "sms-sentinel/pool/request/send_sms"
#define POOL_RESPONSE_TOPIC "sms-sentinel/pool/response/send_sms"
#define POOL_SENT_TOPIC "sms-sentinel/pool/sms/sent"

/* What the membership depends on. */
struct pool_facts {
    bool configured;       /* [mqtt] pool is set */
    bool connected;        /* to the broker */
    bool outbox_known;     /* there is an outbox to queue into */
    enum health_state health;
    enum tristate modem_present;
    enum tristate smsd_running;
};

/* True when the agent should be subscribed to the pool now. *why (may be NULL)
 * gets a static reason: "healthy" or what keeps it out. Healthy means health
 * ok or degraded (errors below the threshold: the modem still sends), with the
 * modem tty and gammu-smsd not known to be missing. starting, recovering,
 * cooldown and failed keep an agent out. */
bool pool_member_wanted(const struct pool_facts *f, const char **why);

/* "$share/<name>/sms-sentinel/pool/request/send_sms" into buf; 0, or -1 when
 * name is empty, holds '/', '+', '#', or the result does not fit. */
int pool_share_filter(const char *name, char *buf, size_t size);

#endif
