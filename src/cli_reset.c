/* cli_reset: a short-lived MQTT client: subscribe to the daemon's availability
 * and response topic, publish the request with a transaction, print the answer. */
#include "sms-sentinel/cli_reset.h"

#include <json-c/json.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sms-sentinel/loop.h"
#include "sms-sentinel/mqtt_link.h"
#include "sms-sentinel/strbuf.h"
#include "sms-sentinel/timefmt.h"

#define AVAILABILITY_WAIT_MS 3000
#define CONNECT_WAIT_MS 10000

struct cli_reset {
    const struct config *cfg;
    const char *method;
    struct mqtt_link *link;
    char availability[256], request[256], response[256];
    char transaction[64];
    bool sent, online, done;
    int64_t connected_ms;
    int exit_code;
    char answer[1024];
};

static void on_connect(void *ctx)
{
    struct cli_reset *c = ctx;
    mqtt_link_subscribe(c->link, c->availability, 1);
    mqtt_link_subscribe(c->link, c->response, 1);
    c->connected_ms = clock_monotonic_ms();
}

static void send_request(struct cli_reset *c)
{
    json_object *req = json_object_new_object();
    json_object_object_add(req, "method", json_object_new_string(c->method));
    json_object_object_add(req, "transaction", json_object_new_string(c->transaction));
    size_t len = 0;
    const char *text = json_object_to_json_string_length(req, JSON_C_TO_STRING_PLAIN, &len);
    if (mqtt_link_publish(c->link, c->request, text, len, 1, false, NULL) == 0)
        c->sent = true;
    json_object_put(req);
    printf("sms-sentinel: recovery requested (method %s); waiting for it to end...\n", c->method);
    fflush(stdout);
}

static void take_response(struct cli_reset *c, const struct mqtt_message *msg)
{
    json_tokener *tok = json_tokener_new();
    json_object *o = tok ? json_tokener_parse_ex(tok, msg->payload, (int)msg->len) : NULL;
    json_tokener_free(tok);
    json_object *t, *status, *error, *data;
    if (!o || !json_object_object_get_ex(o, "transaction", &t) ||
        strcmp(json_object_get_string(t), c->transaction) != 0) {
        json_object_put(o);
        return;
    }
    bool ok = json_object_object_get_ex(o, "status", &status) && strcmp(json_object_get_string(status), "ok") == 0;
    if (ok && json_object_object_get_ex(o, "data", &data))
        printf("sms-sentinel: recovered: %s\n", json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN));
    else
        fprintf(stderr, "sms-sentinel: reset failed: %s\n",
                json_object_object_get_ex(o, "error", &error) ? json_object_get_string(error) : "unknown error");
    c->exit_code = ok ? 0 : 1;
    c->done = true;
    json_object_put(o);
}

static void on_message(void *ctx, const struct mqtt_message *msg)
{
    struct cli_reset *c = ctx;
    if (strcmp(msg->topic, c->availability) == 0) {
        c->online = msg->len == 6 && memcmp(msg->payload, "online", 6) == 0;
        if (c->online && !c->sent)
            send_request(c);
    } else if (strcmp(msg->topic, c->response) == 0) {
        take_response(c, msg);
    }
}

static void on_io(void *ctx, int fd, short revents)
{
    struct cli_reset *c = ctx;
    mqtt_link_handle_io(c->link, revents, clock_monotonic_ms());
}

static int64_t recovery_bound_ms(const struct config *cfg)
{
    int steps = cfg->methods.count > 0 ? cfg->methods.count : 1;
    return (int64_t)steps * (cfg->settle_timeout_s + cfg->verify_timeout_s + 90) * 1000 + 30000;
}

static int run_loop(struct cli_reset *c)
{
    struct loop loop;
    loop_init(&loop);
    int64_t now = clock_monotonic_ms();
    int64_t start = now;
    int64_t end = now + recovery_bound_ms(c->cfg);
    mqtt_link_start(c->link, now);
    while (!c->done && now < end) {
        int fd = mqtt_link_fd(c->link);
        loop_init(&loop);
        if (fd >= 0)
            loop_watch(&loop, fd, mqtt_link_poll_events(c->link), on_io, c);
        int64_t d = mqtt_link_next_deadline_ms(c->link, now);
        loop_run_once(&loop, d < end ? d : end, now);
        now = clock_monotonic_ms();
        mqtt_link_tick(c->link, now);
        if (!c->connected_ms && now - start > CONNECT_WAIT_MS) {
            fprintf(stderr, "sms-sentinel: cannot reach the MQTT broker %s:%d\n", c->cfg->mqtt_host,
                    c->cfg->mqtt_port);
            return 1;
        }
        if (!c->sent && c->connected_ms && now - c->connected_ms > AVAILABILITY_WAIT_MS) {
            fprintf(stderr, "sms-sentinel: the daemon is not online on %s (is it running?)\n", c->availability);
            return 1;
        }
    }
    if (!c->done) {
        fprintf(stderr, "sms-sentinel: no answer from the daemon within %lld s\n",
                (long long)(recovery_bound_ms(c->cfg) / 1000));
        return 1;
    }
    return c->exit_code;
}

int cli_reset_run(const struct config *cfg, const char *method)
{
    struct cli_reset c = {.cfg = cfg, .method = method ? method : "auto", .exit_code = 1};
    char client_id[96];
    if (format_checked(c.availability, sizeof(c.availability), "%s/availability", cfg->base_topic) < 0 ||
        format_checked(c.request, sizeof(c.request), "%s/request/reset", cfg->base_topic) < 0 ||
        format_checked(c.response, sizeof(c.response), "%s/response/reset", cfg->base_topic) < 0 ||
        format_checked(c.transaction, sizeof(c.transaction), "cli-%ld-%lld", (long)getpid(),
                       (long long)time(NULL)) < 0 ||
        format_checked(client_id, sizeof(client_id), "%s-cli-%ld", cfg->client_id, (long)getpid()) < 0) {
        fprintf(stderr, "sms-sentinel: base_topic too long\n");
        return 1;
    }
    struct mqtt_link_options o = {
        .host = cfg->mqtt_host, .port = cfg->mqtt_port, .client_id = client_id,
        .username = cfg->mqtt_username, .password_file = cfg->mqtt_password_file,
        .tls_ca = cfg->tls_ca, .tls_cert = cfg->tls_cert, .tls_key = cfg->tls_key,
        .keepalive_s = cfg->keepalive,
    };
    struct mqtt_link_callbacks cb = {.on_connect = on_connect, .on_message = on_message};
    char err[256];
    c.link = mqtt_link_new(&o, &cb, &c, err, sizeof(err));
    if (!c.link) {
        fprintf(stderr, "sms-sentinel: %s\n", err);
        return 1;
    }
    int rc = run_loop(&c);
    mqtt_link_free(c.link);
    return rc;
}
