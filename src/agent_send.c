/* agent_send: send_sms requests to gammu-smsd's outbox and their outcome on
 * <base>/sms/sent. A request is validated (sms_send), charged against
 * max_per_hour, written atomically (outbox) and answered "ok" with its ids once
 * durable. The outcome: the file reaching the sent folder is "sent"; gammu-smsd
 * 1.42 retries a failing send forever and never uses the error folder, so a
 * file still in the outbox after [sms] send_timeout is moved to the error folder
 * by us and reported "failed". An outcome stays in the journal until the broker
 * acknowledged its publish (QoS 1), and is published again after a reconnect or
 * a restart: at least once, like received SMS. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent_internal.h"
#include "sms-sentinel/dir_watch.h"
#include "sms-sentinel/fsutil.h"
#include "sms-sentinel/log.h"
#include "sms-sentinel/outbox.h"
#include "sms-sentinel/pool.h"
#include "sms-sentinel/sms_length.h"
#include "sms-sentinel/sms_send.h"
#include "sms-sentinel/strbuf.h"
#include "sms-sentinel/timefmt.h"

#define SEND_MAX_OUTSTANDING 256

struct outstanding {
    struct outbox_entry entry;
    char number[SMS_NUMBER_SIZE];
    json_object *transaction; /* owned */
    int64_t queued_ms;
    int64_t queued_wall_ms; /* for the journal: monotonic time does not survive a restart */
    bool pooled;            /* taken from the pool: the outcome also goes to the pool */
    char outcome[8];        /* "" while waiting, else "sent" or "failed" until acknowledged */
    char why[96];           /* reason of a failure */
    int mid;                /* publish awaiting PUBACK, 0 none */
};

struct agent_send {
    struct outbox outbox;
    struct sms_rate rate;
    struct dir_watch *sent_watch;
    struct outstanding items[SEND_MAX_OUTSTANDING];
    int count;
    char topic[AGENT_TOPIC_SIZE];
};

/* Publishes a decided outcome when connected; the PUBACK releases it. */
static void publish_outcome(struct agent *a, struct outstanding *o)
{
    const char *status = o->outcome, *why = o->why[0] ? o->why : NULL;
    o->mid = 0;
    if (!a->mqtt || !mqtt_link_connected(a->mqtt))
        return; /* kept in the journal; published on connect */
    json_object *m = json_object_new_object();
    json_object_object_add(m, "id", json_object_new_string(o->entry.id));
    json_object_object_add(m, "number", json_object_new_string(o->number));
    json_object_object_add(m, "status", json_object_new_string(status));
    if (why)
        json_object_object_add(m, "error", json_object_new_string(why));
    json_object_object_add(m, "transaction", o->transaction ? json_object_get(o->transaction) : NULL);
    size_t len = 0;
    const char *text = json_object_to_json_string_length(m, JSON_C_TO_STRING_PLAIN, &len);
    if (mqtt_link_publish(a->mqtt, a->send->topic, text, len, 1, false, &o->mid) < 0) {
        o->mid = 0;
        log_warn("could not publish the outcome of SMS %s (kept for the next connection)", o->entry.id);
    }
    if (o->pooled) {
        json_object_object_add(m, "node_id", json_object_new_string(a->cfg->node_id));
        text = json_object_to_json_string_length(m, JSON_C_TO_STRING_PLAIN, &len);
        if (mqtt_link_publish(a->mqtt, POOL_SENT_TOPIC, text, len, 1, false, NULL) < 0)
            log_warn("could not publish the outcome of SMS %s to the pool", o->entry.id);
    }
    json_object_put(m);
}

#define SEND_JOURNAL "outbox-journal.json"

/* The SMS queued but not yet sent, so their outcome is still reported after a
 * restart of the daemon (with the request's transaction). */
static void save_journal(const struct agent *a)
{
    const struct agent_send *s = a->send;
    json_object *list = json_object_new_array();
    for (int i = 0; i < s->count; i++) {
        const struct outstanding *o = &s->items[i];
        json_object *e = json_object_new_object();
        json_object_object_add(e, "id", json_object_new_string(o->entry.id));
        json_object_object_add(e, "file", json_object_new_string(o->entry.name));
        json_object_object_add(e, "number", json_object_new_string(o->number));
        json_object_object_add(e, "queued_at_ms", json_object_new_int64(o->queued_wall_ms));
        json_object_object_add(e, "transaction", o->transaction ? json_object_get(o->transaction) : NULL);
        if (o->pooled)
            json_object_object_add(e, "pool", json_object_new_boolean(true));
        if (o->outcome[0])
            json_object_object_add(e, "outcome", json_object_new_string(o->outcome));
        if (o->why[0])
            json_object_object_add(e, "error", json_object_new_string(o->why));
        json_object_array_add(list, e);
    }
    size_t len = 0;
    const char *text = json_object_to_json_string_length(list, JSON_C_TO_STRING_PLAIN, &len);
    int rc = fs_mkdir_p(a->cfg->state_dir, 0750);
    if (rc == 0)
        rc = fs_write_atomic(a->cfg->state_dir, SEND_JOURNAL, text, len);
    if (rc < 0)
        log_warn("cannot save %s/%s: %s", a->cfg->state_dir, SEND_JOURNAL, strerror(-rc));
    json_object_put(list);
}

static bool copy_field(json_object *e, const char *key, char *dst, size_t size)
{
    json_object *v;
    return json_object_object_get_ex(e, key, &v) && json_object_is_type(v, json_type_string) &&
           format_checked(dst, size, "%s", json_object_get_string(v)) == 0;
}

static void load_journal(struct agent *a)
{
    char path[4096];
    char *text = NULL;
    if (format_checked(path, sizeof(path), "%s/%s", a->cfg->state_dir, SEND_JOURNAL) < 0 ||
        fs_read_file(path, 1 << 20, &text, NULL) < 0)
        return;
    json_object *list = json_tokener_parse(text);
    free(text);
    struct agent_send *s = a->send;
    int64_t now_ms = clock_monotonic_ms(), wall = clock_wall_ms();
    for (size_t i = 0; list && json_object_is_type(list, json_type_array) && i < json_object_array_length(list) &&
                       s->count < SEND_MAX_OUTSTANDING;
         i++) {
        json_object *e = json_object_array_get_idx(list, i), *v;
        struct outstanding *o = &s->items[s->count];
        memset(o, 0, sizeof(*o));
        if (!copy_field(e, "id", o->entry.id, sizeof(o->entry.id)) ||
            !copy_field(e, "file", o->entry.name, sizeof(o->entry.name)) ||
            !copy_field(e, "number", o->number, sizeof(o->number)))
            continue;
        o->queued_wall_ms = json_object_object_get_ex(e, "queued_at_ms", &v) ? json_object_get_int64(v) : wall;
        o->queued_ms = now_ms - (wall - o->queued_wall_ms);
        if (json_object_object_get_ex(e, "transaction", &v) && v)
            o->transaction = json_object_get(v);
        o->pooled = json_object_object_get_ex(e, "pool", &v) && json_object_get_boolean(v);
        if (copy_field(e, "outcome", o->outcome, sizeof(o->outcome)) && strcmp(o->outcome, "sent") != 0 &&
            strcmp(o->outcome, "failed") != 0)
            o->outcome[0] = '\0';
        if (!copy_field(e, "error", o->why, sizeof(o->why)))
            o->why[0] = '\0';
        s->count++;
    }
    json_object_put(list);
    if (s->count)
        log_info("%d SMS from before the restart still awaited", s->count);
}

static void forget(struct agent_send *s, int i)
{
    json_object_put(s->items[i].transaction);
    s->items[i] = s->items[--s->count];
}

static void decide(struct agent *a, struct outstanding *o, const char *status, const char *why)
{
    format_checked(o->outcome, sizeof(o->outcome), "%s", status);
    format_checked(o->why, sizeof(o->why), "%s", why ? why : "");
    save_journal(a);
    publish_outcome(a, o);
}

void agent_send_on_published(struct agent *a, int mid)
{
    struct agent_send *s = a->send;
    if (!s || mid <= 0)
        return;
    for (int i = 0; i < s->count; i++) {
        if (s->items[i].outcome[0] && s->items[i].mid == mid) {
            forget(s, i);
            save_journal(a);
            return;
        }
    }
}

void agent_send_on_connection(struct agent *a, bool connected)
{
    struct agent_send *s = a->send;
    if (!s)
        return;
    for (int i = 0; i < s->count; i++) {
        if (!s->items[i].outcome[0])
            continue;
        if (connected)
            publish_outcome(a, &s->items[i]);
        else
            s->items[i].mid = 0;
    }
}

static void on_sent_file(void *ctx, const char *name)
{
    struct agent *a = ctx;
    struct agent_send *s = a->send;
    char id[OUTBOX_ID_SIZE];
    if (outbox_name_id(name, id) < 0)
        return;
    for (int i = 0; i < s->count; i++) {
        if (!s->items[i].outcome[0] && strcmp(s->items[i].entry.id, id) == 0) {
            log_info("SMS %s to %s sent", id, s->items[i].number);
            a->stats.sms_sent++;
            a->state_dirty = true;
            decide(a, &s->items[i], "sent", NULL);
            agent_probe_after_send(a, clock_monotonic_ms());
            return;
        }
    }
}

static void on_sent_io(void *ctx, int fd, short revents)
{
    struct agent *a = ctx;
    dir_watch_process(a->send->sent_watch, clock_monotonic_ms());
}

int agent_send_open(struct agent *a)
{
    if (!a->cfg->outbox || !*a->cfg->outbox)
        return 0;
    struct agent_send *s = calloc(1, sizeof(*s));
    if (!s || format_checked(s->topic, sizeof(s->topic), "%s/sms/sent", a->cfg->base_topic) < 0) {
        free(s);
        return -1;
    }
    sms_rate_init(&s->rate);
    s->outbox.dirfd = -1;
    if (outbox_open(&s->outbox, a->cfg->outbox) < 0)
        log_warn("cannot open the outbox %s: %s (send requests will fail until it exists)", a->cfg->outbox,
                 strerror(errno));
    const char *sent = a->cfg->sent && *a->cfg->sent ? a->cfg->sent : a->cfg->outbox;
    s->sent_watch = dir_watch_open(sent, on_sent_file, a);
    if (s->sent_watch)
        loop_watch(&a->loop, dir_watch_fd(s->sent_watch), POLLIN, on_sent_io, a);
    a->send = s;
    load_journal(a);
    return 0;
}

void agent_send_close(struct agent *a)
{
    struct agent_send *s = a->send;
    if (!s)
        return;
    if (s->sent_watch) {
        loop_unwatch(&a->loop, dir_watch_fd(s->sent_watch));
        dir_watch_close(s->sent_watch);
    }
    outbox_close(&s->outbox);
    while (s->count > 0)
        forget(s, 0);
    free(s);
    a->send = NULL;
}

static int queue(struct agent *a, const struct sms_send *req, bool pooled, json_object **data, char *err,
                 size_t errsize)
{
    struct agent_send *s = a->send;
    int orc = outbox_ensure(&s->outbox, a->cfg->outbox);
    if (orc < 0) {
        format_checked(err, errsize, "cannot open the outbox %s: %s", a->cfg->outbox, strerror(-orc));
        return -1;
    }
    if (s->count + req->count > SEND_MAX_OUTSTANDING) {
        format_checked(err, errsize, "too many SMS waiting to be sent (%d)", s->count);
        return -1;
    }
    int64_t now_ms = clock_monotonic_ms();
    if (sms_rate_take(&s->rate, (unsigned)a->cfg->max_sms_per_hour, sms_send_cost(req), now_ms, err, errsize) < 0)
        return -1;
    struct outbox_entry entries[SMS_SEND_MAX_RECIPIENTS];
    if (outbox_queue_send(&s->outbox, req, time(NULL), entries, err, errsize) < 0)
        return -1;
    json_object *ids = json_object_new_array();
    for (int i = 0; i < req->count; i++) {
        struct outstanding *o = &s->items[s->count++];
        memset(o, 0, sizeof(*o));
        o->entry = entries[i];
        memcpy(o->number, req->numbers[i], sizeof(o->number));
        o->transaction = req->transaction ? json_object_get(req->transaction) : NULL;
        o->queued_ms = now_ms;
        o->queued_wall_ms = clock_wall_ms();
        o->pooled = pooled;
        json_object_array_add(ids, json_object_new_string(entries[i].id));
        log_info("SMS %s to %s queued (%zu part%s)", entries[i].id, req->numbers[i], (size_t)req->length.parts,
                 req->length.parts == 1 ? "" : "s");
    }
    *data = json_object_new_object();
    json_object_object_add(*data, "id", json_object_new_string(entries[0].id));
    json_object_object_add(*data, "ids", ids);
    json_object_object_add(*data, "parts", json_object_new_int((int)req->length.parts));
    save_journal(a);
    a->state_dirty = true;
    return 0;
}

void agent_send_request(struct agent *a, const void *payload, size_t len, struct pending_reply *reply)
{
    char err[256] = "";
    json_tokener *tok = json_tokener_new();
    json_object *obj = tok ? json_tokener_parse_ex(tok, payload, (int)len) : NULL;
    json_tokener_free(tok);
    struct sms_send req;
    memset(&req, 0, sizeof(req));
    json_object *data = NULL;
    int rc = -1;
    if (!a->send)
        format_checked(err, sizeof(err), "no outbox folder is known (outboxpath in gammu-smsdrc)");
    else if (!obj)
        format_checked(err, sizeof(err), "payload must be a JSON object");
    else if (sms_send_parse(obj, a->cfg, &req, err, sizeof(err)) == 0)
        rc = queue(a, &req, reply->pooled, &data, err, sizeof(err));
    if (rc < 0)
        log_warn("send_sms rejected: %s", err);
    reply->transaction = req.transaction ? json_object_get(req.transaction) : NULL;
    if (!reply->transaction && obj) {
        json_object *t;
        if (json_object_object_get_ex(obj, "transaction", &t) && t)
            reply->transaction = json_object_get(t);
    }
    agent_reply(a, reply, rc == 0, data, rc == 0 ? NULL : err);
    sms_send_clear(&req);
    json_object_put(obj);
}

int agent_send_probe(struct agent *a, const char *number, const char *text, char *err, size_t errsize)
{
    struct agent_send *s = a->send;
    if (!s) {
        format_checked(err, errsize, "no outbox folder is known");
        return -1;
    }
    int orc = outbox_ensure(&s->outbox, a->cfg->outbox);
    if (orc < 0) {
        format_checked(err, errsize, "cannot open the outbox: %s", strerror(-orc));
        return -1;
    }
    /* Not a user's SMS: no allowlist, no rate charge, no sms/sent outcome. */
    struct sms_send req;
    memset(&req, 0, sizeof(req));
    req.count = 1;
    if (format_checked(req.numbers[0], sizeof(req.numbers[0]), "%s", number) < 0 ||
        sms_length_count(text, strlen(text), &req.length) < 0) {
        format_checked(err, errsize, "bad probe number or text");
        return -1;
    }
    req.text = (char *)text;
    req.text_len = strlen(text);
    struct outbox_entry entries[SMS_SEND_MAX_RECIPIENTS];
    return outbox_queue_send(&s->outbox, &req, time(NULL), entries, err, errsize);
}

static int64_t send_timeout_ms(const struct agent *a) { return (int64_t)a->cfg->send_timeout_s * 1000; }

/* gammu-smsd never gives up on a failing send: we do, after send_timeout. */
static void expire(struct agent *a, int i)
{
    struct agent_send *s = a->send;
    struct outstanding *o = &s->items[i];
    const char *error_dir = a->cfg->error && *a->cfg->error ? a->cfg->error : NULL;
    char to[4096];
    int moved = -1;
    if (error_dir && format_checked(to, sizeof(to), "%s/%s", error_dir, o->entry.name) == 0) {
        int dirfd = open(error_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd >= 0) {
            moved = renameat(s->outbox.dirfd, o->entry.name, dirfd, o->entry.name);
            close(dirfd);
        }
    }
    if (moved < 0)
        unlinkat(s->outbox.dirfd, o->entry.name, 0);
    log_warn("SMS %s to %s not sent within %d s: given up", o->entry.id, o->number, a->cfg->send_timeout_s);
    a->stats.sms_failed++;
    a->state_dirty = true;
    decide(a, o, "failed", "not sent within the send timeout");
}

void agent_send_tick(struct agent *a, int64_t now_ms)
{
    struct agent_send *s = a->send;
    if (!s)
        return;
    if (s->sent_watch && now_ms >= dir_watch_next_deadline_ms(s->sent_watch))
        dir_watch_process(s->sent_watch, now_ms);
    for (int i = s->count - 1; i >= 0; i--)
        if (!s->items[i].outcome[0] && now_ms - s->items[i].queued_ms >= send_timeout_ms(a))
            expire(a, i);
}

int64_t agent_send_deadline_ms(const struct agent *a)
{
    const struct agent_send *s = a->send;
    if (!s)
        return INT64_MAX;
    int64_t d = s->sent_watch ? dir_watch_next_deadline_ms(s->sent_watch) : INT64_MAX;
    for (int i = 0; i < s->count; i++)
        if (!s->items[i].outcome[0] && s->items[i].queued_ms + send_timeout_ms(a) < d)
            d = s->items[i].queued_ms + send_timeout_ms(a);
    return d;
}
