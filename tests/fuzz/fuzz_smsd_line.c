/* libFuzzer target: the gammu-smsd log line classifier must accept any bytes,
 * never read past len, and keep its outputs inside the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sms-sentinel/smsd_line.h"

static void check_inside(const struct smsd_text *t, const char *base, size_t len)
{
    if (t->ptr && (t->ptr < base || t->ptr + t->len > base + len))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* A private copy without a terminator makes ASan catch any over-read. */
    char *line = malloc(size ? size : 1);
    if (!line)
        return 0;
    memcpy(line, data, size);
    struct smsd_line l;
    smsd_line_classify(line, size, &l);
    check_inside(&l.message, line, size);
    check_inside(&l.stamp, line, size);
    check_inside(&l.file, line, size);
    check_inside(&l.number, line, size);
    if (strlen(l.error_name) >= sizeof(l.error_name))
        abort();
    (void)smsd_line_kind_str(l.kind);
    free(line);
    return 0;
}
