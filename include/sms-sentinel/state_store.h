/* state_store: the snapshot file in state_dir (state.json) that carries the
 * counters across restarts and answers `sms-sentinel status`. */
#ifndef SMS_SENTINEL_STATE_STORE_H
#define SMS_SENTINEL_STATE_STORE_H

#include <json-c/json.h>
#include <stddef.h>

#define STATE_STORE_FILE "state.json"

/* Creates state_dir if needed and replaces state.json atomically. 0 or -errno. */
int state_store_save(const char *state_dir, json_object *snapshot);
/* Reads state.json. Returns a new object owned by the caller, or NULL with the
 * reason in err: missing file (-ENOENT in *errno_out) or unparsable content. */
json_object *state_store_load(const char *state_dir, int *errno_out, char *err, size_t errsize);

#endif
