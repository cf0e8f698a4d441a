/* libFuzzer target: the mail for one SMS. The input is the sender, a NUL, then
 * the text (no NUL: all sender, empty text). Any bytes must give a message
 * with no CR, exactly the eight headers in order, no header line over 78, no
 * encoded word over 75, and a body of base64 lines of at most 76. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sms-sentinel/mail_message.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const NAMES[] = {"Date:", "From:", "To:", "Subject:", "Message-ID:",
                                    "MIME-Version:", "Content-Type:",
                                    "Content-Transfer-Encoding:"};

static void check_headers(const char *msg, const char *end)
{
    size_t next = 0;
    for (const char *line = msg; line < end;) {
        const char *nl = memchr(line, '\n', (size_t)(end - line));
        if (!nl || nl - line > MAIL_MESSAGE_LINE_MAX)
            abort();
        if (line[0] == ' ') {
            if (next == 0)
                abort();
        } else {
            if (next >= 8 || strncmp(line, NAMES[next], strlen(NAMES[next])) != 0)
                abort();
            next++;
        }
        for (const char *w = line; (w = memmem(w, (size_t)(nl - w), "=?UTF-8?B?", 10));) {
            const char *close = memmem(w + 10, (size_t)(nl - w - 10), "?=", 2);
            if (!close || close + 2 - w > 75)
                abort();
            w = close + 2;
        }
        line = nl + 1;
    }
    if (next != 8)
        abort();
}

static void check_body(const char *p, const char *end)
{
    size_t col = 0;
    for (; p < end; p++) {
        if (*p == '\n') {
            col = 0;
            continue;
        }
        if (++col > 76 || !strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", *p))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    size_t sender_len = nul ? (size_t)(nul - data) : size;
    /* Private copies without terminators make ASan catch any over-read. */
    char *sender = malloc(sender_len ? sender_len : 1);
    size_t text_len = nul ? size - sender_len - 1 : 0;
    char *text = malloc(text_len ? text_len : 1);
    if (!sender || !text)
        abort();
    memcpy(sender, data, sender_len);
    if (text_len)
        memcpy(text, nul + 1, text_len);
    struct mail_input in = {.from = "sms-sentinel@host.example", .to = "me@example.com",
                            .sender = sender, .sender_len = sender_len,
                            .received_at = "2026-12-06T18:49:42+01:00", .text = text,
                            .text_len = text_len, .sms_id = "IN20261206_184942_00_+336_00",
                            .now = (time_t)sender_len * 86413};
    char *out = NULL, err[128];
    size_t len = 0;
    int rc = mail_message_build(&in, &out, &len, err, sizeof(err));
    if (rc != 0 && text_len <= MAIL_MESSAGE_MAX_TEXT)
        abort();
    if (rc == 0) {
        const char *sep = strstr(out, "\n\n");
        if (strlen(out) != len || memchr(out, '\r', len) || !sep)
            abort();
        check_headers(out, sep + 1);
        check_body(sep + 2, out + len);
    }
    free(out);
    free(sender);
    free(text);
    return 0;
}
