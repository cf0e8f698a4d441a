/* mqtt_link: the broker connection (the only code that includes mosquitto.h).
 * MQTT v5, driven from the daemon's poll loop: non-blocking connect, reconnect
 * with exponential backoff, last will, TLS and username/password. */
#ifndef SMS_SENTINEL_MQTT_LINK_H
#define SMS_SENTINEL_MQTT_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct mqtt_link_options {
    const char *host;
    int port;
    const char *client_id;
    const char *username;      /* NULL or "" = anonymous */
    const char *password_file; /* first line is the password */
    const char *tls_ca, *tls_cert, *tls_key;
    int keepalive_s;
    const char *will_topic; /* retained, QoS 1 */
    const char *will_payload;
};

struct mqtt_message {
    const char *topic;
    const void *payload;
    size_t len;
    const char *response_topic;   /* MQTT v5; NULL when absent */
    const void *correlation_data; /* MQTT v5; NULL when absent */
    size_t correlation_len;
};

struct mqtt_link_callbacks {
    void (*on_connect)(void *ctx);    /* subscribe and publish retained state here */
    void (*on_disconnect)(void *ctx); /* once per lost connection */
    void (*on_message)(void *ctx, const struct mqtt_message *msg);
    void (*on_published)(void *ctx, int mid); /* QoS 1 PUBACK */
};

struct mqtt_link;

/* Creates the client; does not connect yet. Returns NULL with a reason in err. */
struct mqtt_link *mqtt_link_new(const struct mqtt_link_options *opts, const struct mqtt_link_callbacks *cb,
                                void *ctx, char *err, size_t errsize);
void mqtt_link_free(struct mqtt_link *link);

/* Starts (or schedules) a connection attempt. DNS resolution of a host name
 * blocks briefly; the TCP connect does not. */
void mqtt_link_start(struct mqtt_link *link, int64_t now_ms);
/* While not connected: tries again now with the shortest backoff (SIGHUP after
 * a fixed password_file). Every attempt re-reads password_file. */
void mqtt_link_retry_now(struct mqtt_link *link, int64_t now_ms);

/* The socket to poll (-1 while not connected) and the events it needs. */
int mqtt_link_fd(const struct mqtt_link *link);
short mqtt_link_poll_events(const struct mqtt_link *link);
void mqtt_link_handle_io(struct mqtt_link *link, short revents, int64_t now_ms);
/* Keepalive, retries and reconnects; call at mqtt_link_next_deadline_ms. */
void mqtt_link_tick(struct mqtt_link *link, int64_t now_ms);
int64_t mqtt_link_next_deadline_ms(const struct mqtt_link *link, int64_t now_ms);

bool mqtt_link_connected(const struct mqtt_link *link);

/* Publishes; returns 0 with the message id in *mid (may be NULL), or -1 when not
 * connected or the broker refused (the caller decides whether to keep it). */
int mqtt_link_publish(struct mqtt_link *link, const char *topic, const void *payload, size_t len, int qos,
                      bool retain, int *mid);
/* Publishes a reply with an MQTT v5 correlation data property. */
int mqtt_link_publish_reply(struct mqtt_link *link, const char *topic, const void *payload, size_t len,
                            const void *correlation, size_t correlation_len);
/* Subscribe and unsubscribe return 0 once the packet is queued, -1 when not
 * connected. A refused SUBACK is logged here. Subscriptions end with the
 * connection (clean start): subscribe again in on_connect. */
int mqtt_link_subscribe(struct mqtt_link *link, const char *pattern, int qos);
int mqtt_link_unsubscribe(struct mqtt_link *link, const char *pattern);

/* Publishes payload to topic (retained) and disconnects cleanly, waiting at most
 * timeout_ms for the bytes to leave. Used on SIGTERM. */
void mqtt_link_shutdown(struct mqtt_link *link, const char *topic, const char *payload, int timeout_ms);

#endif
