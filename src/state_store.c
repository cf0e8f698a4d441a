/* state_store: atomic save and tolerant load of state_dir/state.json. */
#include "sms-sentinel/state_store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sms-sentinel/fsutil.h"
#include "sms-sentinel/strbuf.h"

#define STATE_MAX_BYTES (1024 * 1024)

int state_store_save(const char *state_dir, json_object *snapshot)
{
    int rc = fs_mkdir_p(state_dir, 0750);
    if (rc < 0)
        return rc;
    size_t len = 0;
    const char *text = json_object_to_json_string_length(snapshot, JSON_C_TO_STRING_PRETTY, &len);
    return fs_write_atomic(state_dir, STATE_STORE_FILE, text, len);
}

json_object *state_store_load(const char *state_dir, int *errno_out, char *err, size_t errsize)
{
    char path[4096];
    *errno_out = 0;
    if (format_checked(path, sizeof(path), "%s/%s", state_dir, STATE_STORE_FILE) < 0) {
        *errno_out = ENAMETOOLONG;
        format_checked(err, errsize, "state_dir path too long");
        return NULL;
    }
    char *text = NULL;
    int rc = fs_read_file(path, STATE_MAX_BYTES, &text, NULL);
    if (rc < 0) {
        *errno_out = -rc;
        format_checked(err, errsize, "%s: %s", path, strerror(-rc));
        return NULL;
    }
    enum json_tokener_error jerr = json_tokener_success;
    json_object *obj = json_tokener_parse_verbose(text, &jerr);
    free(text);
    if (!obj || !json_object_is_type(obj, json_type_object)) {
        json_object_put(obj);
        *errno_out = EINVAL;
        format_checked(err, errsize, "%s: not a JSON object (%s)", path, json_tokener_error_desc(jerr));
        return NULL;
    }
    return obj;
}
