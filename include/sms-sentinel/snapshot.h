/* snapshot: builds the retained <base>/state JSON (SPEC section 4) from the
 * health machine, the counters and a few facts. Pure; the same object is saved
 * to state_dir and read back by `status`. */
#ifndef SMS_SENTINEL_SNAPSHOT_H
#define SMS_SENTINEL_SNAPSHOT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "sms-sentinel/health.h"
#include "sms-sentinel/stats.h"

/* A fact that may be unknown. */
enum tristate { TRI_UNKNOWN = -1, TRI_NO = 0, TRI_YES = 1 };

struct snapshot_facts {
    enum health_state health;
    const char *health_reason;
    const char *since;       /* ISO 8601: when health entered its state */
    const char *started_at;  /* ISO 8601: daemon start */
    int64_t uptime_s;
    enum tristate modem_present;
    enum tristate smsd_running;
    int signal_percent;      /* -1 unknown */
    const char *network;     /* NULL unknown */
    int outbox_depth;        /* -1 unknown */
    long pid;                /* the daemon's, for `status` */
    const char *node_id;
    const char *pool;        /* [mqtt] pool; NULL none */
    bool pool_member;        /* holds the pool's shared subscription now */
};

/* Returns a new object owned by the caller (json_object_put). */
json_object *snapshot_build(const struct snapshot_facts *facts, const struct stats *stats);

#endif
