/* agent: the running daemon: one context that owns the config, the log
 * follower, the health machine, the counters, the MQTT link and the recovery
 * backend, and the one poll loop that drives them. */
#ifndef SMS_SENTINEL_AGENT_H
#define SMS_SENTINEL_AGENT_H

#include <stddef.h>

#include "sms-sentinel/config.h"

struct agent;

/* Takes ownership of cfg. config_path is kept for SIGHUP reloads. Returns NULL
 * with a reason in err. */
struct agent *agent_new(struct config *cfg, const char *config_path, char *err, size_t errsize);
/* Runs until SIGTERM/SIGINT; returns the process exit code. */
int agent_run(struct agent *a);
void agent_free(struct agent *a);

#endif
