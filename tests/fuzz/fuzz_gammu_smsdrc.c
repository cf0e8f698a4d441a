/* libFuzzer target: gammu-smsdrc parsing and the doctor must take any bytes,
 * never read past them, and report lines that exist. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sms-sentinel/gammu_smsdrc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size ? size : 1); /* no terminator: ASan sees over-reads */
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    struct gammu_smsdrc *rc = gammu_smsdrc_parse_string(copy, size, "fuzz.rc");
    if (rc) {
        int lines = 1;
        for (size_t i = 0; i < size; i++)
            lines += copy[i] == '\n';
        if (rc->bad_line < 0 || rc->bad_line > lines || rc->comment_line < 0 || rc->comment_line > lines)
            abort();
        struct doctor_facts facts = {
            .modemmanager_running = size > 0 && (data[0] & 1),
            .service_locale_utf8 = size > 0 && (data[0] & 2),
        };
        FILE *devnull = fopen("/dev/null", "w");
        if (devnull) {
            int warnings = gammu_smsdrc_doctor(rc, &facts, devnull);
            if (warnings < 0 || warnings > 10)
                abort();
            fclose(devnull);
        }
        gammu_smsdrc_free(rc);
    }
    free(copy);
    return 0;
}
