/* mqtt_link: libmosquitto driven without its thread: we poll its socket, call
 * loop_read/loop_write/loop_misc, and reconnect ourselves with backoff so a dead
 * broker never blocks the daemon. */
#include "sms-sentinel/mqtt_link.h"

#include <errno.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "sms-sentinel/fsutil.h"
#include "sms-sentinel/log.h"
#include "sms-sentinel/strbuf.h"
#include "sms-sentinel/timefmt.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 60000
#define MISC_INTERVAL_MS 1000

struct mqtt_link {
    struct mosquitto *mosq;
    struct mqtt_link_callbacks cb;
    void *ctx;
    char *host;
    int port;
    int keepalive_s;
    bool connected;
    bool socket_open;     /* a connect is in progress or done */
    bool configured;      /* connect_async has stored host and port */
    int64_t retry_at_ms;  /* next reconnect attempt; INT64_MAX none */
    int64_t backoff_ms;
    int last_failure;     /* to log each kind of failure once */
};

static void note_failure(struct mqtt_link *link, int code, const char *what)
{
    if (link->last_failure == code)
        return;
    link->last_failure = code;
    log_warn("mqtt: %s (%s:%d); retrying with backoff", what, link->host, link->port);
}

static void schedule_retry(struct mqtt_link *link, int64_t now_ms)
{
    link->retry_at_ms = now_ms + link->backoff_ms;
    link->backoff_ms = link->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : link->backoff_ms * 2;
}

static void lost_connection(struct mqtt_link *link, int64_t now_ms)
{
    bool was_connected = link->connected;
    link->connected = false;
    link->socket_open = false;
    schedule_retry(link, now_ms);
    if (was_connected && link->cb.on_disconnect)
        link->cb.on_disconnect(link->ctx);
}

static void on_connect_v5(struct mosquitto *mosq, void *obj, int rc, int flags, const mosquitto_property *props)
{
    struct mqtt_link *link = obj;
    if (rc != 0) {
        note_failure(link, 1000 + rc, mosquitto_reason_string(rc));
        /* Keep the socket until libmosquitto closes it; retry later. */
        return;
    }
    link->connected = true;
    link->last_failure = 0;
    link->backoff_ms = BACKOFF_MIN_MS;
    log_info("mqtt: connected to %s:%d", link->host, link->port);
    if (link->cb.on_connect)
        link->cb.on_connect(link->ctx);
}

static void on_message_v5(struct mosquitto *mosq, void *obj, const struct mosquitto_message *m,
                          const mosquitto_property *props)
{
    struct mqtt_link *link = obj;
    struct mqtt_message msg = {.topic = m->topic, .payload = m->payload, .len = (size_t)m->payloadlen};
    char *response_topic = NULL;
    void *correlation = NULL;
    uint16_t correlation_len = 0;
    mosquitto_property_read_string(props, MQTT_PROP_RESPONSE_TOPIC, &response_topic, false);
    mosquitto_property_read_binary(props, MQTT_PROP_CORRELATION_DATA, &correlation, &correlation_len, false);
    msg.response_topic = response_topic;
    msg.correlation_data = correlation;
    msg.correlation_len = correlation_len;
    if (link->cb.on_message)
        link->cb.on_message(link->ctx, &msg);
    free(response_topic);
    free(correlation);
}

static void on_publish_v5(struct mosquitto *mosq, void *obj, int mid, int reason, const mosquitto_property *props)
{
    struct mqtt_link *link = obj;
    if (link->cb.on_published)
        link->cb.on_published(link->ctx, mid);
}

static int read_password(const char *path, char **out, char *err, size_t errsize)
{
    size_t len = 0;
    int rc = fs_read_file(path, 4096, out, &len);
    if (rc < 0) {
        format_checked(err, errsize, "cannot read password_file %s: %s", path, strerror(-rc));
        return -1;
    }
    (*out)[strcspn(*out, "\r\n")] = '\0';
    return 0;
}

static int apply_credentials(struct mqtt_link *link, const struct mqtt_link_options *o, char *err, size_t errsize)
{
    if (!o->username || !*o->username)
        return 0;
    char *password = NULL;
    if (o->password_file && *o->password_file && read_password(o->password_file, &password, err, errsize) < 0)
        return -1;
    int rc = mosquitto_username_pw_set(link->mosq, o->username, password);
    if (password) {
        explicit_bzero(password, strlen(password));
        free(password);
    }
    if (rc != MOSQ_ERR_SUCCESS) {
        format_checked(err, errsize, "username: %s", mosquitto_strerror(rc));
        return -1;
    }
    return 0;
}

static int apply_tls(struct mqtt_link *link, const struct mqtt_link_options *o, char *err, size_t errsize)
{
    if (!o->tls_ca || !*o->tls_ca)
        return 0;
    const char *cert = o->tls_cert && *o->tls_cert ? o->tls_cert : NULL;
    const char *key = o->tls_key && *o->tls_key ? o->tls_key : NULL;
    int rc = mosquitto_tls_set(link->mosq, o->tls_ca, NULL, cert, key, NULL);
    if (rc != MOSQ_ERR_SUCCESS) {
        format_checked(err, errsize, "tls: %s", rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
        return -1;
    }
    return 0;
}

static int configure(struct mqtt_link *link, const struct mqtt_link_options *o, char *err, size_t errsize)
{
    mosquitto_int_option(link->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    mosquitto_connect_v5_callback_set(link->mosq, on_connect_v5);
    mosquitto_message_v5_callback_set(link->mosq, on_message_v5);
    mosquitto_publish_v5_callback_set(link->mosq, on_publish_v5);
    if (o->will_topic) {
        int rc = mosquitto_will_set_v5(link->mosq, o->will_topic, (int)strlen(o->will_payload), o->will_payload, 1,
                                       true, NULL);
        if (rc != MOSQ_ERR_SUCCESS) {
            format_checked(err, errsize, "last will: %s", mosquitto_strerror(rc));
            return -1;
        }
    }
    if (apply_credentials(link, o, err, errsize) < 0)
        return -1;
    return apply_tls(link, o, err, errsize);
}

struct mqtt_link *mqtt_link_new(const struct mqtt_link_options *opts, const struct mqtt_link_callbacks *cb,
                                void *ctx, char *err, size_t errsize)
{
    mosquitto_lib_init();
    struct mqtt_link *link = calloc(1, sizeof(*link));
    if (!link) {
        format_checked(err, errsize, "out of memory");
        return NULL;
    }
    link->cb = *cb;
    link->ctx = ctx;
    link->host = strdup(opts->host);
    link->port = opts->port;
    link->keepalive_s = opts->keepalive_s;
    link->backoff_ms = BACKOFF_MIN_MS;
    link->retry_at_ms = INT64_MAX;
    link->mosq = mosquitto_new(opts->client_id, true, link);
    if (!link->host || !link->mosq) {
        format_checked(err, errsize, "cannot create MQTT client: %s", strerror(errno));
        mqtt_link_free(link);
        return NULL;
    }
    if (configure(link, opts, err, errsize) < 0) {
        mqtt_link_free(link);
        return NULL;
    }
    return link;
}

void mqtt_link_free(struct mqtt_link *link)
{
    if (!link)
        return;
    if (link->mosq)
        mosquitto_destroy(link->mosq);
    free(link->host);
    free(link);
    mosquitto_lib_cleanup();
}

static void try_connect(struct mqtt_link *link, int64_t now_ms)
{
    link->retry_at_ms = INT64_MAX;
    int rc = link->configured ? mosquitto_reconnect_async(link->mosq)
                              : mosquitto_connect_async(link->mosq, link->host, link->port, link->keepalive_s);
    /* connect_async stores host and port before it tries; later tries reuse them. */
    if (rc != MOSQ_ERR_INVAL)
        link->configured = true;
    if (rc == MOSQ_ERR_SUCCESS) {
        link->socket_open = true;
        return;
    }
    note_failure(link, rc, rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
    schedule_retry(link, now_ms);
}

void mqtt_link_start(struct mqtt_link *link, int64_t now_ms) { try_connect(link, now_ms); }

int mqtt_link_fd(const struct mqtt_link *link)
{
    return link->socket_open ? mosquitto_socket(link->mosq) : -1;
}

short mqtt_link_poll_events(const struct mqtt_link *link)
{
    return (short)(POLLIN | (mosquitto_want_write(link->mosq) ? POLLOUT : 0));
}

static void check_rc(struct mqtt_link *link, int rc, int64_t now_ms)
{
    if (rc == MOSQ_ERR_SUCCESS)
        return;
    if (link->connected)
        log_warn("mqtt: connection to %s:%d lost (%s)", link->host, link->port,
                 rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
    else
        note_failure(link, rc, rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
    lost_connection(link, now_ms);
}

void mqtt_link_handle_io(struct mqtt_link *link, short revents, int64_t now_ms)
{
    if (!link->socket_open)
        return;
    int rc = MOSQ_ERR_SUCCESS;
    if (revents & (POLLIN | POLLHUP | POLLERR))
        rc = mosquitto_loop_read(link->mosq, 16);
    if (rc == MOSQ_ERR_SUCCESS && link->socket_open && (revents & POLLOUT))
        rc = mosquitto_loop_write(link->mosq, 16);
    check_rc(link, rc, now_ms);
}

void mqtt_link_tick(struct mqtt_link *link, int64_t now_ms)
{
    if (!link->socket_open) {
        if (now_ms >= link->retry_at_ms)
            try_connect(link, now_ms);
        return;
    }
    check_rc(link, mosquitto_loop_misc(link->mosq), now_ms);
}

int64_t mqtt_link_next_deadline_ms(const struct mqtt_link *link, int64_t now_ms)
{
    if (!link->socket_open)
        return link->retry_at_ms;
    /* loop_misc sends PINGREQ and detects a dead broker; keepalive / 2 is enough
     * and keeps idle wake-ups rare. A pending connect is checked every second. */
    int64_t period = link->connected ? (int64_t)link->keepalive_s * 500 : MISC_INTERVAL_MS;
    return now_ms + period;
}

bool mqtt_link_connected(const struct mqtt_link *link) { return link->connected; }

int mqtt_link_publish(struct mqtt_link *link, const char *topic, const void *payload, size_t len, int qos,
                      bool retain, int *mid)
{
    if (!link->connected)
        return -1;
    int rc = mosquitto_publish_v5(link->mosq, mid, topic, (int)len, payload, qos, retain, NULL);
    if (rc != MOSQ_ERR_SUCCESS) {
        log_debug("mqtt: publish to %s failed: %s", topic, mosquitto_strerror(rc));
        return -1;
    }
    return 0;
}

int mqtt_link_publish_reply(struct mqtt_link *link, const char *topic, const void *payload, size_t len,
                            const void *correlation, size_t correlation_len)
{
    if (!link->connected)
        return -1;
    mosquitto_property *props = NULL;
    if (correlation && correlation_len > 0 &&
        mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA, correlation, (uint16_t)correlation_len) !=
            MOSQ_ERR_SUCCESS)
        return -1;
    int rc = mosquitto_publish_v5(link->mosq, NULL, topic, (int)len, payload, 1, false, props);
    mosquitto_property_free_all(&props);
    return rc == MOSQ_ERR_SUCCESS ? 0 : -1;
}

int mqtt_link_subscribe(struct mqtt_link *link, const char *pattern, int qos)
{
    if (!link->connected)
        return -1;
    return mosquitto_subscribe_v5(link->mosq, NULL, pattern, qos, 0, NULL) == MOSQ_ERR_SUCCESS ? 0 : -1;
}

/* Flushes pending output for at most timeout_ms, polling the socket. */
static void flush_output(struct mqtt_link *link, int timeout_ms)
{
    int64_t end = clock_monotonic_ms() + timeout_ms;
    while (link->socket_open && mosquitto_want_write(link->mosq)) {
        int64_t left = end - clock_monotonic_ms();
        if (left <= 0)
            break;
        struct pollfd pfd = {.fd = mosquitto_socket(link->mosq), .events = POLLOUT};
        if (poll(&pfd, 1, (int)left) <= 0)
            break;
        if (mosquitto_loop_write(link->mosq, 16) != MOSQ_ERR_SUCCESS)
            break;
    }
}

void mqtt_link_shutdown(struct mqtt_link *link, const char *topic, const char *payload, int timeout_ms)
{
    if (!link->connected)
        return;
    mosquitto_publish_v5(link->mosq, NULL, topic, (int)strlen(payload), payload, 1, true, NULL);
    flush_output(link, timeout_ms);
    mosquitto_disconnect_v5(link->mosq, 0, NULL);
    flush_output(link, timeout_ms);
    link->connected = false;
    link->socket_open = false;
}
