/* libFuzzer target: inbox file contents in every format. The first byte picks
 * the format (bits 0-1), the extension (bit 2) and strict UTF-8 (bit 3); the
 * rest is the file. Text must come out valid UTF-8 without NUL, binary as hex. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sms-sentinel/inbox_decode.h"
#include "sms-sentinel/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_hex(const char *s, size_t len)
{
    if (len % 2)
        abort();
    for (size_t i = 0; i < len; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const enum inbox_format formats[] = {INBOX_FORMAT_AUTO, INBOX_FORMAT_STANDARD,
                                                INBOX_FORMAT_UNICODE, INBOX_FORMAT_DETAIL};
    struct inbox_decode_opts opts = {.format = formats[data[0] & 3], .strict_utf8 = data[0] & 8};
    enum inbox_ext ext = data[0] & 4 ? INBOX_EXT_BIN : INBOX_EXT_TXT;
    size_t len = size - 1;
    unsigned char *file = malloc(len ? len : 1);
    if (!file)
        return 0;
    memcpy(file, data + 1, len);
    struct inbox_message m;
    enum inbox_decode_error err = inbox_decode(&opts, ext, file, len, &m);
    (void)inbox_decode_error_str(err);
    if (err == INBOX_DECODE_OK) {
        if (!m.text || strlen(m.text) != m.text_len || m.format == INBOX_FORMAT_AUTO)
            abort();
        if (m.content == INBOX_CONTENT_TEXT && !utf8_is_valid(m.text, m.text_len))
            abort();
        if (m.content == INBOX_CONTENT_BINARY)
            check_hex(m.text, m.text_len);
        if (strlen(m.number) >= sizeof(m.number) || !utf8_is_valid(m.number, strlen(m.number)))
            abort();
        (void)inbox_format_str(m.format);
        inbox_message_free(&m);
    } else if (m.text || m.error_offset > len) {
        abort();
    }
    free(file);
    return 0;
}
