/* discovery: the Home Assistant MQTT discovery messages (SPEC section 5) built
 * from the config and what is known about the modem, one table row per entity.
 * Pure: no I/O, no clock; the caller publishes (agent_discovery.c) or prints
 * (`sms-sentinel discovery`) the result. Every key used here was checked
 * against Home Assistant's MQTT code and docs: see ha-discovery/README.md. */
#ifndef SMS_SENTINEL_DISCOVERY_H
#define SMS_SENTINEL_DISCOVERY_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "sms-sentinel/config.h"

#define DISCOVERY_TOPIC_SIZE 256
#define DISCOVERY_MAX_MESSAGES 32

/* Facts about the modem; "" = unknown (then the key is left out, never guessed). */
struct discovery_device {
    char manufacturer[64]; /* USB iManufacturer, e.g. "ZTE,Incorporated" */
    char model[64];        /* USB iProduct, e.g. "ZTE WCDMA Technologies MSM" */
    char model_id[16];     /* "19d2:0031" */
};

struct discovery_message {
    char topic[DISCOVERY_TOPIC_SIZE]; /* <prefix>/<component>/<node_id>/<object_id>/config */
    json_object *payload;             /* owned */
};

struct discovery_set {
    int count;
    struct discovery_message items[DISCOVERY_MAX_MESSAGES];
};

/* Fills out with one message per entity that exists for this config (the notify
 * entity only when default_recipients is set). With discovery = no the set is
 * empty. dev may be NULL. Returns 0, or -1 with a reason in err (a node_id or
 * prefix that cannot be a topic level, a topic too long); out is then empty.
 * The caller frees with discovery_set_clear. */
int discovery_build(const struct config *cfg, const struct discovery_device *dev, struct discovery_set *out,
                    char *err, size_t errsize);
void discovery_set_clear(struct discovery_set *set);

/* The payload as published: compact JSON, owned by the message. */
const char *discovery_payload_text(const struct discovery_message *m, size_t *len);

/* True when topic is one of set's topics. */
bool discovery_set_has(const struct discovery_set *set, const char *topic);

/* The topic HA announces itself on ("<prefix>/status"); 0 or -1 when too long. */
int discovery_status_topic(const struct config *cfg, char *buf, size_t size);

#endif
