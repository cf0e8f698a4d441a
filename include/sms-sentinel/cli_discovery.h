/* cli_discovery: `sms-sentinel discovery`: prints the Home Assistant discovery
 * messages the daemon would publish now, one line each: topic TAB payload. */
#ifndef SMS_SENTINEL_CLI_DISCOVERY_H
#define SMS_SENTINEL_CLI_DISCOVERY_H

#include <stdio.h>

#include "sms-sentinel/config.h"

/* Reads the modem's USB facts from sysfs like the daemon does. Returns the exit
 * code: 0, or 1 when the messages cannot be built (reason on err_out). */
int cli_discovery_run(const struct config *cfg, FILE *out, FILE *err_out);

#endif
