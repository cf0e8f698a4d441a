/* device_facts: what the USB descriptors say about the modem (manufacturer,
 * product, VID:PID), read from sysfs for the Home Assistant device card.
 * gammu-smsd-monitor cannot tell: it only knows signal, IMEI/IMSI, counters
 * and the PhoneID the user set in gammu-smsdrc. Reads a few small sysfs files
 * (sysfs_root from the config); never blocks for long. */
#ifndef SMS_SENTINEL_DEVICE_FACTS_H
#define SMS_SENTINEL_DEVICE_FACTS_H

#include "sms-sentinel/config.h"
#include "sms-sentinel/discovery.h"

/* Fills out (every field "" when unknown). Returns 0 when the USB device was
 * found, -1 otherwise (out is then all empty); nothing is logged. */
int device_facts_read(const struct config *cfg, struct discovery_device *out);

#endif
