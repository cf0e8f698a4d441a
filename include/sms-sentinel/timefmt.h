/* timefmt: clocks and ISO 8601 times. The monotonic clock drives every timer;
 * the wall clock only labels things for people. */
#ifndef SMS_SENTINEL_TIMEFMT_H
#define SMS_SENTINEL_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

int64_t clock_monotonic_ms(void);
/* Wall clock in milliseconds since the epoch. */
int64_t clock_wall_ms(void);

/* "2026-12-06T18:49:42+01:00" in local time; returns 0 or -1 when it does not fit. */
int format_iso8601(time_t t, char *buf, size_t size);

#endif
