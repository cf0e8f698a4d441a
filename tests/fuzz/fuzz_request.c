/* libFuzzer target: MQTT request validation for every request kind. */
#include <stddef.h>
#include <stdint.h>

#include "sms-sentinel/request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int kind = REQUEST_RESET; kind <= REQUEST_SEND_SMS; kind++) {
        struct request req;
        json_object *t = NULL;
        char err[256];
        request_parse((enum request_kind)kind, data, size, &req, &t, err, sizeof(err));
        json_object *resp = response_build(false, NULL, err, t);
        json_object_put(resp);
        json_object_put(t);
        request_clear(&req);
    }
    return 0;
}
