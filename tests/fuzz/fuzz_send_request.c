/* libFuzzer target: send_sms validation (json-c parse, then sms_send_parse
 * against configs with and without defaults/allowed globs), SMS length
 * counting and the outbox UTF-16 encoder and name builder on what passed. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sms-sentinel/outbox.h"
#include "sms-sentinel/sms_send.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_valid(const struct sms_send *s)
{
    char e[8];
    if (s->count < 1 || s->count > SMS_SEND_MAX_RECIPIENTS || !s->text || s->text_len == 0 ||
        s->length.parts > SMS_SEND_PARTS_LIMIT)
        abort();
    for (int i = 0; i < s->count; i++) {
        char name[OUTBOX_NAME_SIZE];
        if (sms_number_check(s->numbers[i], strlen(s->numbers[i]), e, sizeof(e)) < 0 ||
            outbox_name(name, sizeof(name), 0, i, s->numbers[i], "abcdefghijkl", s->flash, s->delivery_report) < 0 ||
            strchr(name, '/'))
            abort();
    }
    unsigned char *buf;
    size_t len;
    if (outbox_encode(s->text, s->text_len, &buf, &len) < 0)
        abort();
    /* In UCS-2 the counted units are exactly what lands in the file. */
    if (s->length.encoding == SMS_ENCODING_UCS2 && len != 2 + 2 * s->length.units)
        abort();
    free(buf);
}

static void validate(json_object *req, const struct config *cfg)
{
    struct sms_send s;
    char err[256];
    if (sms_send_parse(req, cfg, &s, err, sizeof(err)) == 0)
        check_valid(&s);
    else if (memchr(err, '\n', strnlen(err, sizeof(err))))
        abort(); /* errors go into log lines */
    sms_send_clear(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sms_length l;
    sms_length_count((const char *)data, size, &l);
    if (size > 64 * 1024)
        return 0;
    json_tokener *tok = json_tokener_new();
    json_object *req = json_tokener_parse_ex(tok, (const char *)data, (int)size);
    json_tokener_free(tok);
    if (!req)
        return 0;
    struct config plain = {.max_parts = 6};
    struct config strict = {.max_parts = 255};
    strict.default_recipients.count = 1;
    strict.default_recipients.items[0] = "+33612345678";
    strict.allowed_recipients.count = 2;
    strict.allowed_recipients.items[0] = "+336*";
    strict.allowed_recipients.items[1] = "0?1*2";
    validate(req, &plain);
    validate(req, &strict);
    json_object_put(req);
    return 0;
}
