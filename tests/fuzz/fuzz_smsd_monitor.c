/* libFuzzer target: gammu-smsd-monitor output parser. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sms-sentinel/smsd_monitor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    struct smsd_monitor_status st;
    smsd_monitor_parse(copy, size, &st);
    if (st.signal_percent > 100 || strlen(st.imei) >= sizeof(st.imei))
        abort();
    free(copy);
    return 0;
}
