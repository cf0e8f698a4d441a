/* agent_internal: the agent's context, shared by agent.c (lifecycle and loop),
 * agent_smsd.c (log lines -> counters and health) and agent_publish.c (MQTT). */
#ifndef SMS_SENTINEL_AGENT_INTERNAL_H
#define SMS_SENTINEL_AGENT_INTERNAL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "sms-sentinel/agent.h"
#include "sms-sentinel/child.h"
#include "sms-sentinel/health.h"
#include "sms-sentinel/log_follower.h"
#include "sms-sentinel/loop.h"
#include "sms-sentinel/mqtt_link.h"
#include "sms-sentinel/recovery.h"
#include "sms-sentinel/snapshot.h"
#include "sms-sentinel/stats.h"

#define AGENT_TOPIC_SIZE 256
#define AGENT_STATE_PERIOD_MS (60 * 1000)
/* pidfile and tty: checked on inotify/pidfd events (probe_watch) and, as a
 * safety net, at the state period. */
#define AGENT_PROBE_PERIOD_MS (60 * 1000)
#define AGENT_SHUTDOWN_FLUSH_MS 1500

struct agent_topics {
    char availability[AGENT_TOPIC_SIZE];
    char state[AGENT_TOPIC_SIZE];
    char event[AGENT_TOPIC_SIZE];
    char requests[AGENT_TOPIC_SIZE]; /* <base>/request/+ */
    char base[AGENT_TOPIC_SIZE];
};

/* Where and how to answer a request (zigbee2mqtt style, MQTT v5 aware). */
struct pending_reply {
    bool active;
    char topic[AGENT_TOPIC_SIZE];
    json_object *transaction; /* owned */
    unsigned char correlation[256];
    size_t correlation_len;
    bool pooled; /* came through the pool: the response names this node */
};

struct agent_inbox;
struct probe_watch;
struct agent_send;
struct mail_forward;
struct agent_discovery;

struct agent_probe_state {
    bool pending;
    char nonce[40];
    int64_t sent_ms;
    int64_t next_ms;
};

struct agent {
    struct config *cfg;
    char *config_path;
    struct loop loop;
    int signal_fd;
    bool running;
    int exit_code;

    struct log_follower *follower;
    struct mqtt_link *mqtt;
    int mqtt_fd_watched; /* the fd registered with the loop, -1 none */
    struct agent_topics topics;
    char pool_filter[AGENT_TOPIC_SIZE]; /* the pool's shared subscription held now; "" = not a member */

    struct health health;
    struct stats stats;
    struct recovery recovery;
    bool recovery_running;
    int recovery_fd_watched;        /* -1 none */
    struct pending_reply reply;     /* for the request that started the recovery */
    char recovery_method[32];       /* "auto" or the method asked for */
    bool last_counted_timeout;      /* the last counted error was TIMEOUT: gammu-smsd hung */

    int64_t started_mono_ms;
    char started_at[40];
    char health_since[40];
    enum tristate modem_present;
    enum tristate smsd_running;
    int outbox_depth;

    struct agent_inbox *inbox;  /* NULL when no inbox folder is known */
    struct agent_send *send;    /* NULL when no outbox folder is known */
    struct agent_probe_state probe;
    struct mail_forward *mail;  /* NULL when forward_mail is off */
    struct agent_discovery *discovery; /* Home Assistant discovery state */
    int mail_fd_watched;

    struct child monitor;       /* gammu-smsd-monitor, run every 5 minutes */
    int monitor_pidfd;          /* readable once it exited; -1 none */
    int64_t next_monitor_ms;
    int signal_percent;         /* -1 unknown */

    bool state_dirty;           /* publish and save at the end of this turn */
    int64_t next_state_ms;      /* periodic state publish */
    bool state_periodic;        /* this publish is only the periodic one: not saved to disk */
    bool state_waits_monitor;   /* the periodic publish waits for gammu-smsd-monitor's result */
    int state_save_err;         /* -errno of the last failed state save (logged once), 0 ok */
    int64_t next_probe_ms;      /* pidfile and tty checks */
    bool smsd_gone_pending, tty_gone_pending; /* seen during a cooldown: act when it ends */
    struct probe_watch *probe_watch; /* events that call for those checks; NULL none */
    int64_t follower_retry_ms;  /* INT64_MAX none */
};

/* agent_smsd.c */
void agent_on_log_line(void *ctx, const char *line, size_t len, int truncated);
void agent_apply_transition(struct agent *a, struct health_transition t, const char *trigger, int64_t now_ms);
void agent_tick_recovery(struct agent *a, int64_t now_ms);
void agent_start_recovery(struct agent *a, const char *method, const char *trigger, int64_t now_ms);
void agent_refresh_probes(struct agent *a);
struct health_policy agent_health_policy(const struct config *cfg);

/* agent_requests.c */
void agent_on_message(void *ctx, const struct mqtt_message *msg);
void agent_subscribe_requests(struct agent *a);
/* Sends a response and clears the reply; takes data. */
void agent_reply(struct agent *a, struct pending_reply *r, bool ok, json_object *data, const char *error);
void agent_reply_clear(struct pending_reply *r);
/* Answers on msg's v5 response topic when usable, else on default_topic. */
int agent_reply_prepare(struct pending_reply *r, const struct mqtt_message *msg, const char *default_topic);
/* Starts a recovery through the health policy; 0, or -1 with a reason. */
int agent_request_recovery(struct agent *a, const char *method, const char *trigger, char *err, size_t errsize);
void agent_recovery_step(void *ctx, const struct recovery_step *step);

/* agent_pool.c: pool mode ([mqtt] pool) */
/* Joins or leaves the pool as health and the connection say; every loop turn. */
void agent_pool_update(struct agent *a);
void agent_pool_on_disconnect(struct agent *a);
/* True when msg was a pooled request (then it has been handled). */
bool agent_pool_on_message(struct agent *a, const struct mqtt_message *msg);

/* agent_inbox.c */
int agent_inbox_open(struct agent *a);
void agent_inbox_close(struct agent *a);
void agent_inbox_tick(struct agent *a, int64_t now_ms);
int64_t agent_inbox_deadline_ms(const struct agent *a);
void agent_inbox_on_published(struct agent *a, int mid);
void agent_inbox_on_connection(struct agent *a, bool connected);

/* agent_send.c */
int agent_send_open(struct agent *a);
void agent_send_close(struct agent *a);
void agent_send_request(struct agent *a, const void *payload, size_t len, struct pending_reply *reply);
void agent_send_tick(struct agent *a, int64_t now_ms);
int64_t agent_send_deadline_ms(const struct agent *a);
void agent_send_on_published(struct agent *a, int mid);
void agent_send_on_connection(struct agent *a, bool connected);

int agent_send_probe(struct agent *a, const char *number, const char *text, char *err, size_t errsize);

/* agent_mail.c */
int agent_mail_open(struct agent *a);
void agent_mail_close(struct agent *a);
void agent_mail_forward(struct agent *a, const char *id, const char *sender, const char *text, size_t len,
                        const char *received_at);
void agent_mail_tick(struct agent *a, int64_t now_ms);
int64_t agent_mail_deadline_ms(const struct agent *a);

/* agent_probe.c */
void agent_probe_init(struct agent *a, int64_t now_ms);
void agent_probe_after_send(struct agent *a, int64_t now_ms);
/* True when text is a probe SMS: the caller releases it without publishing. */
bool agent_probe_claim(struct agent *a, const char *text, size_t len);
void agent_probe_tick(struct agent *a, int64_t now_ms);
int64_t agent_probe_deadline_ms(const struct agent *a);

/* agent_discovery.c */
int agent_discovery_open(struct agent *a);
void agent_discovery_close(struct agent *a);
void agent_discovery_reload(struct agent *a);
void agent_discovery_on_connect(struct agent *a);
/* True when msg was <prefix>/status (consumed). */
bool agent_discovery_on_message(struct agent *a, const struct mqtt_message *msg);
void agent_discovery_tick(struct agent *a, int64_t now_ms);
int64_t agent_discovery_deadline_ms(const struct agent *a);

/* agent_monitor.c */
void agent_run_monitor(struct agent *a, int64_t now_ms);
int64_t agent_monitor_deadline_ms(const struct agent *a);

/* agent_publish.c */
int agent_topics_build(struct agent_topics *t, const char *base);
json_object *agent_snapshot(const struct agent *a, int64_t now_ms);
void agent_publish_state(struct agent *a, int64_t now_ms);
/* Publishes {"event": name, "at": now, ...fields} on <base>/event; takes fields. */
void agent_publish_event(struct agent *a, const char *name, json_object *fields);
int agent_mqtt_open(struct agent *a, char *err, size_t errsize);
/* Whether agent_mqtt_open would accept c (files readable, options valid); connects nowhere. */
int agent_mqtt_check(const struct config *c, char *err, size_t errsize);
void agent_mqtt_close(struct agent *a, bool say_offline);
void agent_now_iso(char *buf, size_t size);

#endif
