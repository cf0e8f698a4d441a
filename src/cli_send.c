/* cli_send: validate and queue one SMS from the command line. */
#include "sms-sentinel/cli_send.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sms-sentinel/outbox.h"
#include "sms-sentinel/sms_send.h"

int cli_send_run(const struct config *cfg, const char *number, const char *text)
{
    json_object *req = json_object_new_object();
    json_object_object_add(req, "number", json_object_new_string(number));
    json_object_object_add(req, "text", json_object_new_string(text));
    struct sms_send s;
    char err[256];
    int rc = sms_send_parse(req, cfg, &s, err, sizeof(err));
    json_object_put(req);
    if (rc < 0) {
        fprintf(stderr, "sms-sentinel: %s\n", err);
        return 2;
    }
    struct outbox ob;
    struct outbox_entry entries[SMS_SEND_MAX_RECIPIENTS];
    if (!cfg->outbox || !*cfg->outbox || outbox_open(&ob, cfg->outbox) < 0) {
        fprintf(stderr, "sms-sentinel: cannot open the outbox %s: %s\n", cfg->outbox ? cfg->outbox : "(none)",
                strerror(errno));
        sms_send_clear(&s);
        return 1;
    }
    rc = outbox_queue_send(&ob, &s, time(NULL), entries, err, sizeof(err));
    outbox_close(&ob);
    if (rc < 0) {
        fprintf(stderr, "sms-sentinel: %s\n", err);
        sms_send_clear(&s);
        return 1;
    }
    printf("queued %s (%s, %zu part%s)\n", entries[0].id, entries[0].name, (size_t)s.length.parts,
           s.length.parts == 1 ? "" : "s");
    sms_send_clear(&s);
    return 0;
}
