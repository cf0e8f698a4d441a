/* system_probe: cheap facts about the system around gammu-smsd: is its process
 * alive (pidfile), is the modem tty there, is ModemManager running, how many
 * messages wait in the outbox. Reads /proc and the filesystem only. */
#ifndef SMS_SENTINEL_SYSTEM_PROBE_H
#define SMS_SENTINEL_SYSTEM_PROBE_H

#include <stdbool.h>

#include "sms-sentinel/snapshot.h"

/* TRI_UNKNOWN when pidfile is empty/unset, TRI_NO when missing or dead. */
enum tristate probe_pidfile_alive(const char *pidfile, long *pid_out);
/* TRI_UNKNOWN when device is unset; follows symlinks (/dev/serial/by-id/...). */
enum tristate probe_device_present(const char *device);
/* Scans proc_root (normally "/proc") for a process whose comm is name. */
bool probe_process_running(const char *proc_root, const char *name);
/* Counts outbox files gammu-smsd would take (OUT*, not hidden); -1 on error. */
int probe_outbox_depth(const char *outbox);

#endif
