/* timefmt: monotonic and wall clocks, ISO 8601 with a "+HH:MM" offset. */
#include "sms-sentinel/timefmt.h"

#include <stdlib.h>

#include "sms-sentinel/strbuf.h"

static int64_t read_clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_monotonic_ms(void) { return read_clock_ms(CLOCK_MONOTONIC); }

int64_t clock_wall_ms(void) { return read_clock_ms(CLOCK_REALTIME); }

int format_iso8601(time_t t, char *buf, size_t size)
{
    struct tm tm;
    if (!localtime_r(&t, &tm))
        return -1;
    long off = tm.tm_gmtoff;
    char sign = off < 0 ? '-' : '+';
    off = labs(off);
    return format_checked(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld", tm.tm_year + 1900,
                          tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, sign, off / 3600,
                          (off % 3600) / 60);
}
