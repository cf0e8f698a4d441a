/* smsd_monitor: parses what `gammu-smsd-monitor -n 1 -d 0` prints from
 * gammu-smsd's shared memory (signal, IMEI, counters). Pure. The values are
 * stale once gammu-smsd is gone, so the caller runs it only while it is alive. */
#ifndef SMS_SENTINEL_SMSD_MONITOR_H
#define SMS_SENTINEL_SMSD_MONITOR_H

#include <stdbool.h>
#include <stddef.h>

struct smsd_monitor_status {
    int signal_percent;  /* -1 when absent */
    int battery_percent; /* -1 when absent */
    long sent, received, failed; /* -1 when absent */
    char phone_id[64];
    char imei[32];
};

/* Returns the number of fields found (0: nothing usable). */
int smsd_monitor_parse(const char *text, size_t len, struct smsd_monitor_status *out);

#endif
