/* request: validation of MQTT requests (<base>/request/<name>) into typed
 * structs, and the response document. Pure; every rejection says why. */
#ifndef SMS_SENTINEL_REQUEST_H
#define SMS_SENTINEL_REQUEST_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#define REQUEST_MAX_BYTES (64 * 1024)

enum request_kind { REQUEST_RESET, REQUEST_RESTART_SMSD, REQUEST_HEALTH_CHECK, REQUEST_SEND_SMS };

struct request {
    enum request_kind kind;
    char method[32];          /* reset: "auto" or a method name */
    json_object *transaction; /* owned (json_object_put), NULL when absent */
};

/* Maps the topic's last segment to a kind; -1 when unknown. */
int request_kind_from_name(const char *name, enum request_kind *out);
const char *request_kind_str(enum request_kind kind);

/* Parses payload[0..len) for kind. An empty payload means "no options".
 * Returns 0, or -1 with the reason in err. On failure *transaction_out still
 * receives the request's transaction when one could be read, so the error
 * response can echo it. */
int request_parse(enum request_kind kind, const void *payload, size_t len, struct request *out,
                  json_object **transaction_out, char *err, size_t errsize);
void request_clear(struct request *r);

/* {"status":"ok","data":data,"transaction":t} or {"status":"error","error":msg,...}.
 * Takes data; borrows transaction. Returns a new object. */
json_object *response_build(bool ok, json_object *data, const char *error, json_object *transaction);

#endif
