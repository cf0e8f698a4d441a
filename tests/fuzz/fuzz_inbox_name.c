/* libFuzzer target: inbox file names. Any bytes: no over-read, and on success
 * the id is escaped, the sender clean UTF-8 and the name kept as given. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sms-sentinel/inbox_name.h"
#include "sms-sentinel/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_id(const char *id)
{
    for (const char *p = id; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c >= 0x7f || c == '/' || c == '"' || c == '\\' || c == '#')
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A private copy without a terminator makes ASan catch any over-read. */
    char *name = malloc(size ? size : 1);
    if (!name)
        return 0;
    memcpy(name, data, size);
    struct inbox_name n;
    enum inbox_name_error err = inbox_name_parse(name, size, &n);
    (void)inbox_name_error_str(err);
    if (err == INBOX_NAME_OK) {
        if (strlen(n.name) != size || memcmp(n.name, name, size) != 0)
            abort();
        if (n.serial > 99 || n.part > 99 || n.sender_raw_len > INBOX_SENDER_RAW_MAX)
            abort();
        if (!utf8_is_valid(n.sender, strlen(n.sender)))
            abort();
        check_id(n.id);
        (void)inbox_ext_str(n.ext);
        (void)inbox_name_same_sender(&n, &n);
    }
    char small[8];
    size_t len = inbox_sender_decode(small, sizeof(small), name, size);
    if (len >= sizeof(small) || strlen(small) != len || !utf8_is_valid(small, len))
        abort();
    free(name);
    return 0;
}
