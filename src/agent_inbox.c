/* agent_inbox: received SMS to MQTT with nothing lost. gammu-smsd's inbox
 * folder is the durable record: a file is read, decoded, joined with the other
 * parts of its message and published at QoS 1 with a stable id (its first
 * part's name); only the broker's PUBACK releases the files (archive folder or
 * delete). A crash, kill -9 or broker outage leaves them in the inbox, so the
 * next scan publishes them again with the same id: at least once, never lost.
 * A file published but not released (archive full or read-only) stays known
 * and its release is retried every few seconds, without publishing it again. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent_internal.h"
#include "sms-sentinel/dir_watch.h"
#include "sms-sentinel/fsutil.h"
#include "sms-sentinel/gammu_smsdrc.h"
#include "sms-sentinel/inbox_decode.h"
#include "sms-sentinel/inbox_name.h"
#include "sms-sentinel/log.h"
#include "sms-sentinel/multipart.h"
#include "sms-sentinel/sms_length.h"
#include "sms-sentinel/strbuf.h"
#include "sms-sentinel/text.h"
#include "sms-sentinel/timefmt.h"

#define INBOX_MAX_PENDING 128
#define INBOX_REJECTED_MAX 256
#define INBOX_UNRELEASED_MAX 1024
#define INBOX_RELEASE_RETRY_MS 10000

struct inbox_pending {
    char id[INBOX_ID_SIZE];
    char (*files)[INBOX_NAME_MAX + 1];
    unsigned nfiles;
    char *payload; /* the JSON published */
    int mid;       /* -1 until published on the current connection */
};

struct agent_inbox {
    struct dir_watch *watch;
    struct multipart *parts;
    struct inbox_pending *pending; /* grown up to INBOX_MAX_PENDING, freed when empty */
    unsigned npending, cap;
    char (*rejected)[INBOX_NAME_MAX + 1]; /* logged once, left in place; made on the first */
    unsigned nrejected;
    char (*unreleased)[INBOX_NAME_MAX + 1]; /* acknowledged, release failed; made on the first */
    unsigned nunreleased;
    int64_t release_retry_ms; /* INT64_MAX when none are waiting */
    bool overflowed; /* files were left for a later scan: rescan when there is room */
    char topic[AGENT_TOPIC_SIZE];
};

static bool file_known(const struct agent_inbox *in, const char *name)
{
    for (unsigned i = 0; i < in->npending; i++)
        for (unsigned k = 0; k < in->pending[i].nfiles; k++)
            if (strcmp(in->pending[i].files[k], name) == 0)
                return true;
    for (unsigned i = 0; i < in->nrejected; i++)
        if (strcmp(in->rejected[i], name) == 0)
            return true;
    for (unsigned i = 0; i < in->nunreleased; i++)
        if (strcmp(in->unreleased[i], name) == 0)
            return true;
    return false;
}

static void reject(struct agent *a, const char *name, const char *why)
{
    struct agent_inbox *in = a->inbox;
    if (!in->rejected)
        in->rejected = calloc(INBOX_REJECTED_MAX, sizeof(*in->rejected));
    if (in->rejected && in->nrejected < INBOX_REJECTED_MAX)
        format_checked(in->rejected[in->nrejected++], INBOX_NAME_MAX + 1, "%s", name);
    char shown[INBOX_NAME_MAX + 1];
    text_copy_clean(shown, sizeof(shown), name, strlen(name));
    log_error("inbox file %s left in place: %s", shown, why);
    json_object *fields = json_object_new_object();
    json_object_object_add(fields, "file", json_object_new_string(shown));
    json_object_object_add(fields, "error", json_object_new_string(why));
    agent_publish_event(a, "inbox_error", fields);
}

static enum inbox_format configured_format(const struct agent *a)
{
    enum inbox_format f = INBOX_FORMAT_AUTO;
    if (a->cfg->smsdrc && a->cfg->smsdrc->inbox_format)
        inbox_format_from_string(a->cfg->smsdrc->inbox_format, &f);
    return f;
}

static int read_inbox_file(const struct agent *a, const char *name, char **data, size_t *len)
{
    char path[4096];
    if (format_checked(path, sizeof(path), "%s/%s", a->cfg->inbox, name) < 0)
        return -ENAMETOOLONG;
    return fs_read_file(path, INBOX_DECODE_MAX_INPUT, data, len);
}

/* A first part shorter than the smallest part of a concatenated SMS (UCS-2:
 * 67 units, 66 when a surrogate pair would be split) cannot have a
 * continuation: senders fill every part but the last. It is complete at once
 * instead of waiting for the settle time. Septets >= UTF-16 units, so the
 * count is a safe bound whatever the encoding was. */
static unsigned implied_total(const struct inbox_name *n, const struct inbox_message *msg)
{
    if (msg->concat.present)
        return msg->concat.total;
    struct sms_length l;
    if (n->part == 0 && !msg->latin1 && sms_length_count(msg->text, msg->text_len, &l) == 0 &&
        l.units < SMS_UCS2_CONCAT - 1)
        return 1;
    return 0;
}

static void take_message(struct agent *a, struct multipart_message *m);

static void on_inbox_file(void *ctx, const char *name)
{
    struct agent *a = ctx;
    struct agent_inbox *in = a->inbox;
    if (strncmp(name, "IN", 2) != 0)
        return;
    if (in->npending >= INBOX_MAX_PENDING) {
        in->overflowed = true; /* left for the scan after the backlog drains */
        return;
    }
    if (file_known(in, name))
        return;
    struct inbox_name parsed;
    enum inbox_name_error nerr = inbox_name_parse(name, strlen(name), &parsed);
    if (nerr != 0) {
        reject(a, name, inbox_name_error_str(nerr));
        return;
    }
    char *data = NULL;
    size_t len = 0;
    int rc = read_inbox_file(a, name, &data, &len);
    if (rc < 0) {
        reject(a, name, strerror(-rc));
        return;
    }
    struct inbox_decode_opts opts = {.format = configured_format(a), .strict_utf8 = false};
    struct inbox_message msg;
    enum inbox_decode_error derr = inbox_decode(&opts, parsed.ext, (const unsigned char *)data, len, &msg);
    free(data);
    if (derr != INBOX_DECODE_OK) {
        reject(a, name, inbox_decode_error_str(derr));
        return;
    }
    if (msg.latin1)
        log_warn("inbox file %s is not UTF-8: read as ISO-8859-1 (give gammu-smsd a UTF-8 locale)", parsed.id);
    unsigned total = implied_total(&parsed, &msg);
    int64_t now_ms = clock_monotonic_ms();
    enum multipart_add_result ar = multipart_add(in->parts, &parsed, msg.text, msg.text_len, total, now_ms);
    if (ar == MULTIPART_FULL) {
        /* The oldest group is due now: take it out, then there is room. */
        struct multipart_message m;
        while (multipart_poll(in->parts, now_ms, &m) == 1)
            take_message(a, &m);
        ar = multipart_add(in->parts, &parsed, msg.text, msg.text_len, total, now_ms);
        in->overflowed = in->overflowed || ar == MULTIPART_FULL;
    }
    inbox_message_free(&msg);
    if (ar == MULTIPART_FULL || ar == MULTIPART_REJECTED || ar == MULTIPART_NO_MEMORY)
        log_warn("inbox file %s: %s; it will be read again on the next scan", parsed.id,
                 multipart_add_result_str(ar));
}

/* SMSC time from the file name, shown in the local zone (gammu gives none). */
static void received_at(const struct inbox_name *n, char *buf, size_t size)
{
    struct tm tm = {.tm_year = (int)n->year - 1900, .tm_mon = (int)n->month - 1, .tm_mday = (int)n->day,
                    .tm_hour = (int)n->hour, .tm_min = (int)n->minute, .tm_sec = (int)n->second, .tm_isdst = -1};
    time_t t = n->year ? mktime(&tm) : time(NULL);
    if (format_iso8601(t, buf, size) < 0)
        buf[0] = '\0';
}

static char *build_payload(struct agent *a, const struct multipart_message *m)
{
    char at[40];
    received_at(&m->first, at, sizeof(at));
    agent_mail_forward(a, m->first.id, m->first.sender, m->text, m->text_len, at);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(m->first.id));
    json_object_object_add(o, "number", json_object_new_string(m->first.sender));
    json_object_object_add(o, "text", json_object_new_string_len(m->text, (int)m->text_len));
    json_object_object_add(o, "received_at", json_object_new_string(at));
    json_object_object_add(o, "parts", json_object_new_int((int)m->parts));
    char *text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
    return text;
}

static int release_file(const struct agent *a, const char *name);

static void publish_pending(struct agent *a, struct inbox_pending *p)
{
    if (!a->mqtt || !mqtt_link_connected(a->mqtt) || p->mid >= 0)
        return;
    int mid = -1;
    if (mqtt_link_publish(a->mqtt, a->inbox->topic, p->payload, strlen(p->payload), 1, false, &mid) == 0)
        p->mid = mid;
}

static void release_unpublished(struct agent *a, const struct multipart_message *m)
{
    for (unsigned k = 0; k < m->parts; k++) {
        int rc = release_file(a, m->files[k]);
        if (rc < 0)
            log_error("inbox file %s not released: %s", m->files[k], strerror(-rc));
    }
}

static int grow_pending(struct agent_inbox *in)
{
    unsigned cap = in->cap ? in->cap * 2 : 16;
    cap = cap > INBOX_MAX_PENDING ? INBOX_MAX_PENDING : cap;
    struct inbox_pending *p = realloc(in->pending, cap * sizeof(*p));
    if (!p)
        return -1;
    in->pending = p;
    in->cap = cap;
    return 0;
}

/* After a backlog: give the table and the freed heap back to the system. */
static void shrink_pending(struct agent_inbox *in)
{
    bool was_large = in->cap > 64;
    free(in->pending);
    in->pending = NULL;
    in->cap = 0;
#ifdef __GLIBC__
    if (was_large)
        malloc_trim(0);
#else
    (void)was_large;
#endif
}

static void take_message(struct agent *a, struct multipart_message *m)
{
    struct agent_inbox *in = a->inbox;
    if (agent_probe_claim(a, m->text, m->text_len)) {
        release_unpublished(a, m);
        multipart_message_free(m);
        return;
    }
    if (in->npending >= INBOX_MAX_PENDING || (in->npending == in->cap && grow_pending(in) < 0)) {
        /* The files stay; the scan after the backlog drains takes them. */
        in->overflowed = true;
        multipart_message_free(m);
        return;
    }
    struct inbox_pending *p = &in->pending[in->npending];
    memset(p, 0, sizeof(*p));
    format_checked(p->id, sizeof(p->id), "%s", m->first.id);
    p->files = m->files;
    p->nfiles = m->parts;
    m->files = NULL;
    p->payload = build_payload(a, m);
    p->mid = -1;
    multipart_message_free(m);
    if (!p->payload) {
        free(p->files);
        return;
    }
    in->npending++;
    log_info("received SMS %s (%u part%s)", p->id, p->nfiles, p->nfiles == 1 ? "" : "s");
    publish_pending(a, p);
}

static int release_file(const struct agent *a, const char *name)
{
    char from[4096];
    if (format_checked(from, sizeof(from), "%s/%s", a->cfg->inbox, name) < 0)
        return -ENAMETOOLONG;
    if (a->cfg->delete_received)
        return unlink(from) == 0 || errno == ENOENT ? 0 : -errno;
    char dir[4096];
    int n = a->cfg->inbox_archive && *a->cfg->inbox_archive
                ? format_checked(dir, sizeof(dir), "%s", a->cfg->inbox_archive)
                : format_checked(dir, sizeof(dir), "%s/archive", a->cfg->state_dir);
    if (n < 0)
        return -ENAMETOOLONG;
    int rc = fs_mkdir_p(dir, 0750);
    if (rc < 0)
        return rc;
    /* A copy when inbox and archive are different mounts (container volumes,
     * systemd's ReadWritePaths= bind mounts). */
    rc = fs_move_file(from, dir, name, INBOX_DECODE_MAX_INPUT);
    return rc == -ENOENT ? 0 : rc;
}

/* Remembers a published file whose release failed, so no scan publishes it
 * again; a full list falls back to that (at least once, never lost). */
static void keep_unreleased(struct agent *a, const char *name, int rc)
{
    struct agent_inbox *in = a->inbox;
    if (!in->unreleased)
        in->unreleased = calloc(INBOX_UNRELEASED_MAX, sizeof(*in->unreleased));
    bool kept = in->unreleased && in->nunreleased < INBOX_UNRELEASED_MAX &&
                format_checked(in->unreleased[in->nunreleased], INBOX_NAME_MAX + 1, "%s", name) == 0;
    if (kept)
        in->nunreleased++;
    if (in->release_retry_ms == INT64_MAX)
        in->release_retry_ms = clock_monotonic_ms() + INBOX_RELEASE_RETRY_MS;
    log_error("inbox file %s published but not released: %s%s", name, strerror(-rc),
              kept ? "; retrying every 10 s" : "");
}

static void retry_releases(struct agent *a, int64_t now_ms)
{
    struct agent_inbox *in = a->inbox;
    unsigned before = in->nunreleased;
    for (unsigned i = in->nunreleased; i-- > 0;) {
        if (release_file(a, in->unreleased[i]) < 0)
            continue;
        memmove(in->unreleased[i], in->unreleased[--in->nunreleased], sizeof(in->unreleased[i]));
    }
    if (in->nunreleased < before)
        log_info("released %u inbox file(s) published earlier", before - in->nunreleased);
    in->release_retry_ms = in->nunreleased ? now_ms + INBOX_RELEASE_RETRY_MS : INT64_MAX;
}

static void release(struct agent *a, unsigned index)
{
    struct agent_inbox *in = a->inbox;
    struct inbox_pending *p = &in->pending[index];
    for (unsigned k = 0; k < p->nfiles; k++) {
        int rc = release_file(a, p->files[k]);
        if (rc < 0)
            keep_unreleased(a, p->files[k], rc);
    }
    a->stats.sms_received++;
    a->state_dirty = true;
    free(p->files);
    free(p->payload);
    in->pending[index] = in->pending[--in->npending];
    if (in->overflowed && in->npending <= INBOX_MAX_PENDING / 2) {
        in->overflowed = false;
        dir_watch_rescan(in->watch);
    } else if (in->npending == 0) {
        shrink_pending(in);
    }
}

void agent_inbox_on_published(struct agent *a, int mid)
{
    if (!a->inbox)
        return;
    for (unsigned i = 0; i < a->inbox->npending; i++) {
        if (a->inbox->pending[i].mid == mid) {
            release(a, i);
            return;
        }
    }
}

void agent_inbox_on_connection(struct agent *a, bool connected)
{
    if (!a->inbox)
        return;
    for (unsigned i = 0; i < a->inbox->npending; i++) {
        /* Not acknowledged on the old connection: publish again, same id. */
        a->inbox->pending[i].mid = -1;
        if (connected)
            publish_pending(a, &a->inbox->pending[i]);
    }
}

static void on_inbox_io(void *ctx, int fd, short revents)
{
    struct agent *a = ctx;
    dir_watch_process(a->inbox->watch, clock_monotonic_ms());
}

int agent_inbox_open(struct agent *a)
{
    if (!a->cfg->inbox || !*a->cfg->inbox) {
        log_warn("no inbox folder known (set inboxpath in gammu-smsdrc or [smsd] inbox): received SMS are not published");
        return 0;
    }
    struct agent_inbox *in = calloc(1, sizeof(*in));
    struct multipart_config mc;
    multipart_config_default(&mc);
    if (!in || !(in->parts = multipart_new(&mc)) ||
        format_checked(in->topic, sizeof(in->topic), "%s/sms/received", a->cfg->base_topic) < 0) {
        free(in);
        return -1;
    }
    a->inbox = in;
    in->release_retry_ms = INT64_MAX;
    in->watch = dir_watch_open(a->cfg->inbox, on_inbox_file, a);
    if (!in->watch) {
        log_error("cannot watch %s: %s", a->cfg->inbox, strerror(errno));
        agent_inbox_close(a);
        return -1;
    }
    loop_watch(&a->loop, dir_watch_fd(in->watch), POLLIN, on_inbox_io, a);
    log_info("watching the inbox %s", a->cfg->inbox);
    return 0;
}

void agent_inbox_tick(struct agent *a, int64_t now_ms)
{
    struct agent_inbox *in = a->inbox;
    if (!in)
        return;
    if (now_ms >= dir_watch_next_deadline_ms(in->watch))
        dir_watch_process(in->watch, now_ms);
    if (now_ms >= in->release_retry_ms)
        retry_releases(a, now_ms);
    struct multipart_message m;
    while (multipart_poll(in->parts, now_ms, &m) == 1)
        take_message(a, &m);
}

int64_t agent_inbox_deadline_ms(const struct agent *a)
{
    if (!a->inbox)
        return INT64_MAX;
    int64_t d = dir_watch_next_deadline_ms(a->inbox->watch);
    int64_t m = multipart_next_deadline(a->inbox->parts);
    if (m >= 0 && m < d)
        d = m;
    return a->inbox->release_retry_ms < d ? a->inbox->release_retry_ms : d;
}

void agent_inbox_close(struct agent *a)
{
    struct agent_inbox *in = a->inbox;
    if (!in)
        return;
    if (in->watch) {
        loop_unwatch(&a->loop, dir_watch_fd(in->watch));
        dir_watch_close(in->watch);
    }
    multipart_free(in->parts);
    for (unsigned i = 0; i < in->npending; i++) {
        free(in->pending[i].files);
        free(in->pending[i].payload);
    }
    free(in->pending);
    free(in->rejected);
    free(in->unreleased);
    free(in);
    a->inbox = NULL;
}
