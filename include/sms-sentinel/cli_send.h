/* cli_send: `sms-sentinel send NUMBER TEXT`: the same validation as the MQTT
 * request (allowed_recipients, length, max_parts), then one atomic outbox file.
 * The running daemon reports the outcome only for its own requests. */
#ifndef SMS_SENTINEL_CLI_SEND_H
#define SMS_SENTINEL_CLI_SEND_H

#include "sms-sentinel/config.h"

/* Returns the exit code: 0 queued (the id is printed), 1 write failed, 2 bad input. */
int cli_send_run(const struct config *cfg, const char *number, const char *text);

#endif
