/* agent_mail: sms2mail. With [sms] forward_mail set, every received SMS is
 * also mailed through sendmail (argv "-t -i", never a shell), retried with
 * backoff by mail_forward; the SMS is published to MQTT whatever mail does. */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent_internal.h"
#include "sms-sentinel/log.h"
#include "sms-sentinel/mail_forward.h"
#include "sms-sentinel/mail_message.h"
#include "sms-sentinel/strbuf.h"
#include "sms-sentinel/timefmt.h"

static bool mail_enabled(const struct agent *a) { return a->cfg->forward_mail && *a->cfg->forward_mail; }

int agent_mail_open(struct agent *a)
{
    if (!mail_enabled(a))
        return 0;
    struct mail_forward *mf = calloc(1, sizeof(*mf));
    struct mail_forward_config mc = {.sendmail = a->cfg->sendmail};
    if (!mf || mail_forward_init(mf, &mc) < 0) {
        free(mf);
        log_error("sms2mail: cannot set up %s", a->cfg->sendmail);
        return -1;
    }
    a->mail = mf;
    a->mail_fd_watched = -1;
    log_info("forwarding received SMS to %s", a->cfg->forward_mail);
    return 0;
}

void agent_mail_close(struct agent *a)
{
    if (!a->mail)
        return;
    if (a->mail_fd_watched >= 0)
        loop_unwatch(&a->loop, a->mail_fd_watched);
    size_t lost = mail_forward_close(a->mail);
    if (lost)
        log_warn("sms2mail: %zu mail(s) not sent yet at exit (the SMS were published)", lost);
    free(a->mail);
    a->mail = NULL;
}

void agent_mail_forward(struct agent *a, const char *id, const char *sender, const char *text, size_t len,
                        const char *received_at)
{
    if (!a->mail)
        return;
    char host[256] = "localhost", from[300];
    gethostname(host, sizeof(host) - 1);
    if (format_checked(from, sizeof(from), "sms-sentinel@%s", host) < 0)
        memcpy(from, "sms-sentinel@localhost", sizeof("sms-sentinel@localhost"));
    struct mail_input in = {
        .from = from, .to = a->cfg->forward_mail, .sender = sender, .sender_len = strlen(sender),
        .received_at = received_at, .text = text, .text_len = len, .sms_id = id, .now = time(NULL),
    };
    char *msg = NULL;
    size_t msg_len = 0;
    char err[256];
    if (mail_message_build(&in, &msg, &msg_len, err, sizeof(err)) < 0) {
        log_error("sms2mail: SMS %s not mailed: %s", id, err);
        a->stats.mail_failed++;
        return;
    }
    if (mail_forward_submit(a->mail, msg, msg_len, clock_monotonic_ms()) < 0) {
        log_error("sms2mail: queue full, SMS %s not mailed", id);
        a->stats.mail_failed++;
    }
}

static void on_mail_io(void *ctx, int fd, short revents)
{
    struct agent *a = ctx;
    mail_forward_on_writable(a->mail);
}

void agent_mail_tick(struct agent *a, int64_t now_ms)
{
    if (!a->mail)
        return;
    struct mail_forward_result r;
    while (mail_forward_poll(a->mail, now_ms, &r)) {
        switch (r.outcome) {
        case MAIL_FORWARD_SENT:
            a->stats.mail_forwarded++;
            break;
        case MAIL_FORWARD_RETRY:
            a->stats.mail_retries++;
            break;
        case MAIL_FORWARD_DROPPED:
            a->stats.mail_failed++;
            break;
        }
        a->state_dirty = true;
    }
    int fd = mail_forward_fd(a->mail);
    if (a->mail_fd_watched >= 0 && a->mail_fd_watched != fd)
        loop_unwatch(&a->loop, a->mail_fd_watched);
    a->mail_fd_watched = fd;
    if (fd >= 0)
        loop_watch(&a->loop, fd, POLLOUT, on_mail_io, a);
}

int64_t agent_mail_deadline_ms(const struct agent *a)
{
    return a->mail ? mail_forward_next_deadline_ms(a->mail) : INT64_MAX;
}
