/* status_report: renders a saved state snapshot for people (`sms-sentinel
 * status`). Pure apart from writing to the given stream. */
#ifndef SMS_SENTINEL_STATUS_REPORT_H
#define SMS_SENTINEL_STATUS_REPORT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdio.h>

/* daemon_alive: whether the pid in the snapshot still runs (caller checks). */
void status_report_print(json_object *snapshot, bool daemon_alive, FILE *out);

#endif
