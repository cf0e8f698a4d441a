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
#include <unistd.h>

#include "sms-sentinel/fsutil.h"
#include "sms-sentinel/log.h"
#include "sms-sentinel/mqtt_diag.h"
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
    /* Our view of libmosquitto's keepalive clock: it sends PINGREQ once nothing
     * went out, or nothing came in, for keepalive seconds. Every packet passes
     * through the calls below, so loop_misc runs exactly when a ping is due. */
    int64_t last_out_ms, last_in_ms;
    /* What the failure sentences name; the password is re-read before every attempt. */
    char *username, *password_file, *tls_ca, *tls_cert;
    int attempts;             /* failed attempts since the last connection */
    int refused;              /* CONNACK reason of this attempt; 0 none */
    char tls_error[256];      /* libmosquitto's error lines in this attempt (OpenSSL's reasons) */
    char last_failure[512];   /* a repeat of the same failure is logged at debug only */
    int shutdown_mid;         /* the offline publish awaited at shutdown; 0 none */
    bool shutdown_acked;
};

static void schedule_retry(struct mqtt_link *link, int64_t now_ms)
{
    link->retry_at_ms = now_ms + link->backoff_ms;
    link->backoff_ms = link->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : link->backoff_ms * 2;
}

static void log_failure(struct mqtt_link *link, const char *what, int64_t now_ms);

/* Logs why this attempt failed (rc and errno from the client library), once at
 * warn per distinct reason, and schedules the next attempt. */
static void note_failure(struct mqtt_link *link, int rc, int64_t now_ms)
{
    int saved_errno = errno;
    struct mqtt_failure f = {
        .reason = link->refused,
        .reason_text = mosquitto_reason_string(link->refused),
        .error = rc == MOSQ_ERR_ERRNO ? strerror(saved_errno) : mosquitto_strerror(rc),
        .tls_error = link->tls_error[0] ? link->tls_error : NULL,
        .host = link->host,
        .port = link->port,
        .username = link->username,
        .password_file = link->password_file,
        .tls_ca = link->tls_ca,
        .tls_cert = link->tls_cert,
    };
    char what[512];
    mqtt_failure_describe(&f, what, sizeof(what)); /* a cut sentence is still worth logging */
    log_failure(link, what, now_ms);
}

static void log_failure(struct mqtt_link *link, const char *what, int64_t now_ms)
{
    link->attempts++;
    schedule_retry(link, now_ms);
    int64_t next_s = (link->retry_at_ms - now_ms + 999) / 1000;
    if (strcmp(what, link->last_failure) != 0)
        log_warn("mqtt: %s; retrying with backoff (attempt %d, next in %lld s)", what, link->attempts,
                 (long long)next_s);
    else
        log_debug("mqtt: attempt %d failed the same way; next in %lld s", link->attempts, (long long)next_s);
    format_checked(link->last_failure, sizeof(link->last_failure), "%s", what); /* cut: compared cut */
}

/* Keeps libmosquitto's error lines (OpenSSL's reason for a failed handshake
 * comes only this way; the library has drained OpenSSL's error queue). */
static void on_log(struct mosquitto *mosq, void *obj, int level, const char *text)
{
    struct mqtt_link *link = obj;
    if (level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING))
        mqtt_diag_add_lib_line(link->tls_error, sizeof(link->tls_error), text);
}

static void lost_connection(struct mqtt_link *link, int64_t now_ms)
{
    bool was_connected = link->connected;
    link->connected = false;
    link->socket_open = false;
    if (was_connected)
        schedule_retry(link, now_ms);
    if (was_connected && link->cb.on_disconnect)
        link->cb.on_disconnect(link->ctx);
}

static void on_connect_v5(struct mosquitto *mosq, void *obj, int rc, int flags, const mosquitto_property *props)
{
    struct mqtt_link *link = obj;
    if (rc != 0) {
        /* libmosquitto closes the socket next; the failure is logged then, once. */
        link->refused = rc;
        return;
    }
    link->connected = true;
    link->last_out_ms = link->last_in_ms = clock_monotonic_ms();
    link->last_failure[0] = '\0';
    link->attempts = 0;
    link->backoff_ms = BACKOFF_MIN_MS;
    log_info("mqtt: connected to %s:%d%s%s%s%s", link->host, link->port, link->tls_ca ? " over TLS" : "",
             link->tls_cert ? " with a client certificate" : "", link->username ? " as user " : "",
             link->username ? link->username : "");
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
    if (link->shutdown_mid && mid == link->shutdown_mid) {
        link->shutdown_acked = true;
        return;
    }
    if (link->cb.on_published)
        link->cb.on_published(link->ctx, mid);
}

/* A refused subscription (e.g. a broker without shared subscriptions, or an
 * ACL) would otherwise go unnoticed: reason codes of 0x80 and above. */
static void on_subscribe_v5(struct mosquitto *mosq, void *obj, int mid, int count, const int *granted,
                            const mosquitto_property *props)
{
    for (int i = 0; i < count; i++)
        if (granted[i] >= 0x80)
            log_warn("mqtt: the broker refused subscription %d: %s", mid, mosquitto_reason_string(granted[i]));
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

/* (Re)reads password_file and hands user and password to libmosquitto, so a
 * fixed file is used by the next attempt. */
static int apply_credentials(struct mqtt_link *link, char *err, size_t errsize)
{
    if (!link->username)
        return 0;
    char *password = NULL;
    if (link->password_file && read_password(link->password_file, &password, err, errsize) < 0)
        return -1;
    int rc = mosquitto_username_pw_set(link->mosq, link->username, password);
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
    if (rc == MOSQ_ERR_SUCCESS)
        return 0;
    /* libmosquitto only opens the files here; name the one it could not. */
    const char *keys[] = {"tls_ca", "tls_cert", "tls_key"};
    const char *paths[] = {o->tls_ca, cert, key};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (paths[i] && access(paths[i], R_OK) < 0) {
            format_checked(err, errsize, "%s %s: cannot be read: %s", keys[i], paths[i], strerror(errno));
            return -1;
        }
    }
    format_checked(err, errsize, "tls: %s", rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
    return -1;
}

static int configure(struct mqtt_link *link, const struct mqtt_link_options *o, char *err, size_t errsize)
{
    mosquitto_int_option(link->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    /* Events come in bursts (error, health, recovery_started): without this,
     * Nagle holds the last one until the broker's delayed ACK, ~40 ms. */
    mosquitto_int_option(link->mosq, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_connect_v5_callback_set(link->mosq, on_connect_v5);
    mosquitto_message_v5_callback_set(link->mosq, on_message_v5);
    mosquitto_publish_v5_callback_set(link->mosq, on_publish_v5);
    mosquitto_subscribe_v5_callback_set(link->mosq, on_subscribe_v5);
    if (o->will_topic) {
        int rc = mosquitto_will_set_v5(link->mosq, o->will_topic, (int)strlen(o->will_payload), o->will_payload, 1,
                                       true, NULL);
        if (rc != MOSQ_ERR_SUCCESS) {
            format_checked(err, errsize, "last will: %s", mosquitto_strerror(rc));
            return -1;
        }
    }
    mosquitto_log_callback_set(link->mosq, on_log);
    if (apply_credentials(link, err, errsize) < 0)
        return -1;
    return apply_tls(link, o, err, errsize);
}

/* A copy of s, or NULL for NULL or "". */
static char *dup_set(const char *s) { return s && *s ? strdup(s) : NULL; }

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
    link->username = dup_set(opts->username);
    link->password_file = dup_set(opts->password_file);
    link->tls_ca = dup_set(opts->tls_ca);
    link->tls_cert = dup_set(opts->tls_cert);
    link->port = opts->port;
    link->keepalive_s = opts->keepalive_s;
    link->backoff_ms = BACKOFF_MIN_MS;
    link->retry_at_ms = INT64_MAX;
    link->mosq = mosquitto_new(opts->client_id, true, link);
    if (!link->host || !link->mosq || (opts->username && *opts->username && !link->username) ||
        (opts->password_file && *opts->password_file && !link->password_file) ||
        (opts->tls_ca && *opts->tls_ca && !link->tls_ca) || (opts->tls_cert && *opts->tls_cert && !link->tls_cert)) {
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
    free(link->username);
    free(link->password_file);
    free(link->tls_ca);
    free(link->tls_cert);
    free(link);
    mosquitto_lib_cleanup();
}

static void try_connect(struct mqtt_link *link, int64_t now_ms)
{
    link->retry_at_ms = INT64_MAX;
    link->refused = 0;
    link->tls_error[0] = '\0';
    char err[512];
    if (apply_credentials(link, err, sizeof(err)) < 0) {
        log_failure(link, err, now_ms);
        return;
    }
    log_debug("mqtt: connecting to %s:%d (attempt %d)", link->host, link->port, link->attempts + 1);
    int rc = link->configured ? mosquitto_reconnect_async(link->mosq)
                              : mosquitto_connect_async(link->mosq, link->host, link->port, link->keepalive_s);
    /* connect_async stores host and port before it tries; later tries reuse them. */
    if (rc != MOSQ_ERR_INVAL)
        link->configured = true;
    if (rc == MOSQ_ERR_SUCCESS) {
        link->socket_open = true;
        return;
    }
    note_failure(link, rc, now_ms);
}

void mqtt_link_start(struct mqtt_link *link, int64_t now_ms) { try_connect(link, now_ms); }

void mqtt_link_retry_now(struct mqtt_link *link, int64_t now_ms)
{
    if (link->socket_open)
        return;
    link->backoff_ms = BACKOFF_MIN_MS;
    link->last_failure[0] = '\0'; /* say again what happens now */
    log_info("mqtt: trying again now");
    try_connect(link, now_ms);
}

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
        note_failure(link, rc, now_ms);
    lost_connection(link, now_ms);
}

void mqtt_link_handle_io(struct mqtt_link *link, short revents, int64_t now_ms)
{
    if (!link->socket_open)
        return;
    int rc = MOSQ_ERR_SUCCESS;
    if (revents & (POLLIN | POLLHUP | POLLERR)) {
        rc = mosquitto_loop_read(link->mosq, 16);
        link->last_in_ms = link->last_out_ms = now_ms; /* an acknowledgement may have gone out too */
    }
    if (rc == MOSQ_ERR_SUCCESS && link->socket_open && (revents & POLLOUT)) {
        rc = mosquitto_loop_write(link->mosq, 16);
        link->last_out_ms = now_ms;
    }
    check_rc(link, rc, now_ms);
}

static int64_t keepalive_due_ms(const struct mqtt_link *link)
{
    int64_t last = link->last_out_ms < link->last_in_ms ? link->last_out_ms : link->last_in_ms;
    return last + (int64_t)link->keepalive_s * 1000;
}

void mqtt_link_tick(struct mqtt_link *link, int64_t now_ms)
{
    if (!link->socket_open) {
        if (now_ms >= link->retry_at_ms)
            try_connect(link, now_ms);
        return;
    }
    bool ping_due = link->connected && now_ms >= keepalive_due_ms(link);
    check_rc(link, mosquitto_loop_misc(link->mosq), now_ms);
    if (ping_due) /* it sent PINGREQ and restarted both of its clocks */
        link->last_out_ms = link->last_in_ms = now_ms;
}

int64_t mqtt_link_next_deadline_ms(const struct mqtt_link *link, int64_t now_ms)
{
    if (!link->socket_open)
        return link->retry_at_ms;
    /* loop_misc sends PINGREQ (and so finds a dead broker) when the keepalive
     * is due: the only idle wake-ups. A pending connect is checked every second. */
    if (!link->connected)
        return now_ms + MISC_INTERVAL_MS;
    int64_t due = keepalive_due_ms(link);
    return due > now_ms ? due : now_ms + MISC_INTERVAL_MS;
}

bool mqtt_link_connected(const struct mqtt_link *link) { return link->connected; }

int mqtt_link_publish(struct mqtt_link *link, const char *topic, const void *payload, size_t len, int qos,
                      bool retain, int *mid)
{
    if (!link->connected)
        return -1;
    int rc = mosquitto_publish_v5(link->mosq, mid, topic, (int)len, payload, qos, retain, NULL);
    link->last_out_ms = clock_monotonic_ms();
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
    link->last_out_ms = clock_monotonic_ms();
    mosquitto_property_free_all(&props);
    return rc == MOSQ_ERR_SUCCESS ? 0 : -1;
}

int mqtt_link_subscribe(struct mqtt_link *link, const char *pattern, int qos)
{
    if (!link->connected)
        return -1;
    link->last_out_ms = clock_monotonic_ms();
    return mosquitto_subscribe_v5(link->mosq, NULL, pattern, qos, 0, NULL) == MOSQ_ERR_SUCCESS ? 0 : -1;
}

int mqtt_link_unsubscribe(struct mqtt_link *link, const char *pattern)
{
    if (!link->connected)
        return -1;
    link->last_out_ms = clock_monotonic_ms();
    return mosquitto_unsubscribe_v5(link->mosq, NULL, pattern, NULL) == MOSQ_ERR_SUCCESS ? 0 : -1;
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
    int64_t end = clock_monotonic_ms() + timeout_ms;
    int mid = 0;
    link->shutdown_acked = false;
    if (mosquitto_publish_v5(link->mosq, &mid, topic, (int)strlen(payload), payload, 1, true, NULL) ==
        MOSQ_ERR_SUCCESS)
        link->shutdown_mid = mid;
    flush_output(link, timeout_ms);
    /* Wait for the broker's PUBACK, so the retained "offline" is stored before
     * we go (disconnecting with a QoS 1 publish in flight also makes mosquitto
     * 2.0 log a bogus "out of memory"). */
    while (link->shutdown_mid && !link->shutdown_acked && link->socket_open) {
        int64_t left = end - clock_monotonic_ms();
        if (left <= 0)
            break;
        struct pollfd pfd = {.fd = mosquitto_socket(link->mosq), .events = POLLIN};
        if (poll(&pfd, 1, (int)left) <= 0 || mosquitto_loop_read(link->mosq, 1) != MOSQ_ERR_SUCCESS)
            break;
    }
    link->shutdown_mid = 0;
    mosquitto_disconnect_v5(link->mosq, 0, NULL);
    flush_output(link, timeout_ms);
    link->connected = false;
    link->socket_open = false;
}
