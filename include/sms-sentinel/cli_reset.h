/* cli_reset: `sms-sentinel reset`: asks the running daemon for one recovery
 * over MQTT (<base>/request/reset), so the one policy decides, and waits for
 * the response that comes when the recovery ended. */
#ifndef SMS_SENTINEL_CLI_RESET_H
#define SMS_SENTINEL_CLI_RESET_H

#include "sms-sentinel/config.h"

/* Returns the exit code: 0 recovered, 1 failed, refused or no daemon. Blocks
 * (this is a command, not the daemon) for at most the recovery's own bound. */
int cli_reset_run(const struct config *cfg, const char *method);

#endif
