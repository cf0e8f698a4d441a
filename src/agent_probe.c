/* agent_probe: the loopback probe. With own_number set, an SMS carrying a
 * nonce goes to the modem's own number every interval (and after each sent
 * SMS with after_send = yes: the ZTE MF112 stops receiving after a send, with
 * nothing in the log). If it is not back in the inbox within timeout, the
 * health policy is told, so recovery runs like for any other fault. The probe
 * SMS itself is consumed, never published as a received SMS. */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "agent_internal.h"
#include "sms-sentinel/log.h"
#include "sms-sentinel/strbuf.h"
#include "sms-sentinel/timefmt.h"

#define PROBE_PREFIX "sms-sentinel probe "
#define PROBE_FIRST_DELAY_MS (60 * 1000)

static bool probe_enabled(const struct agent *a) { return a->cfg->own_number && *a->cfg->own_number; }

void agent_probe_init(struct agent *a, int64_t now_ms)
{
    a->probe.pending = false;
    int64_t first = (int64_t)a->cfg->probe_interval_s * 1000;
    if (first > PROBE_FIRST_DELAY_MS)
        first = PROBE_FIRST_DELAY_MS;
    a->probe.next_ms = probe_enabled(a) ? now_ms + first : INT64_MAX;
}

static void make_nonce(char *buf, size_t size)
{
    unsigned char raw[8];
    if (getrandom(raw, sizeof(raw), GRND_NONBLOCK) != (ssize_t)sizeof(raw))
        memset(raw, 0, sizeof(raw));
    struct strbuf sb;
    strbuf_init(&sb, buf, size);
    for (size_t i = 0; i < sizeof(raw); i++)
        strbuf_printf(&sb, "%02x", raw[i]);
    strbuf_printf(&sb, "%llx", (unsigned long long)clock_monotonic_ms());
}

static void send_probe(struct agent *a, const char *why, int64_t now_ms)
{
    char text[96];
    make_nonce(a->probe.nonce, sizeof(a->probe.nonce));
    if (format_checked(text, sizeof(text), PROBE_PREFIX "%s", a->probe.nonce) < 0)
        return;
    char err[256];
    if (agent_send_probe(a, a->cfg->own_number, text, err, sizeof(err)) < 0) {
        log_warn("probe: cannot queue the loopback SMS: %s", err);
        a->probe.next_ms = now_ms + (int64_t)a->cfg->probe_interval_s * 1000;
        return;
    }
    a->probe.pending = true;
    a->probe.sent_ms = now_ms;
    log_info("probe: loopback SMS sent to %s (%s)", a->cfg->own_number, why);
    json_object *fields = json_object_new_object();
    json_object_object_add(fields, "reason", json_object_new_string(why));
    agent_publish_event(a, "probe_sent", fields);
}

void agent_probe_after_send(struct agent *a, int64_t now_ms)
{
    if (probe_enabled(a) && a->cfg->probe_after_send && !a->probe.pending)
        send_probe(a, "after_send", now_ms);
}

bool agent_probe_claim(struct agent *a, const char *text, size_t len)
{
    size_t plen = strlen(PROBE_PREFIX);
    if (len < plen || memcmp(text, PROBE_PREFIX, plen) != 0)
        return false;
    /* Any probe text is ours (a late one from before a restart too). */
    if (a->probe.pending && len - plen == strlen(a->probe.nonce) &&
        memcmp(text + plen, a->probe.nonce, len - plen) == 0) {
        int64_t now_ms = clock_monotonic_ms();
        int64_t rtt = now_ms - a->probe.sent_ms;
        a->probe.pending = false;
        a->probe.next_ms = now_ms + (int64_t)a->cfg->probe_interval_s * 1000;
        log_info("probe: loopback SMS back after %lld ms", (long long)rtt);
        json_object *fields = json_object_new_object();
        json_object_object_add(fields, "round_trip_ms", json_object_new_int64(rtt));
        agent_publish_event(a, "probe_ok", fields);
        agent_apply_transition(a, health_on_good_sign(&a->health, now_ms), "probe", now_ms);
    }
    return true;
}

void agent_probe_tick(struct agent *a, int64_t now_ms)
{
    if (!probe_enabled(a))
        return;
    if (a->probe.pending && now_ms - a->probe.sent_ms >= (int64_t)a->cfg->probe_timeout_s * 1000) {
        a->probe.pending = false;
        a->probe.next_ms = now_ms + (int64_t)a->cfg->probe_interval_s * 1000;
        log_warn("probe: loopback SMS not received within %d s: the modem no longer receives", a->cfg->probe_timeout_s);
        json_object *fields = json_object_new_object();
        json_object_object_add(fields, "timeout_s", json_object_new_int(a->cfg->probe_timeout_s));
        agent_publish_event(a, "probe_failed", fields);
        if (a->cfg->recovery_enabled)
            agent_apply_transition(a, health_on_fault(&a->health, "loopback probe not received", now_ms), "probe",
                                   now_ms);
        return;
    }
    if (!a->probe.pending && now_ms >= a->probe.next_ms && !a->recovery_running)
        send_probe(a, "interval", now_ms);
}

int64_t agent_probe_deadline_ms(const struct agent *a)
{
    if (!probe_enabled(a))
        return INT64_MAX;
    if (a->probe.pending)
        return a->probe.sent_ms + (int64_t)a->cfg->probe_timeout_s * 1000;
    return a->probe.next_ms;
}
