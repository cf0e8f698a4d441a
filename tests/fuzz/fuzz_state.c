/* libFuzzer target: restoring counters from a damaged or hostile state.json
 * must never crash, and what it restores must render in `status`. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sms-sentinel/stats.h"
#include "sms-sentinel/status_report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_tokener *tok = json_tokener_new();
    json_object *obj = json_tokener_parse_ex(tok, (const char *)data, (int)(size > 1 << 20 ? 1 << 20 : size));
    json_tokener_free(tok);
    if (!obj)
        return 0;
    if (json_object_is_type(obj, json_type_object)) {
        struct stats s;
        stats_init(&s);
        stats_from_json(&s, obj);
        json_object *out = json_object_new_object();
        stats_add_to_json(&s, out);
        json_object_put(out);
        FILE *devnull = fopen("/dev/null", "w");
        if (devnull) {
            status_report_print(obj, false, devnull);
            fclose(devnull);
        }
    }
    json_object_put(obj);
    return 0;
}
