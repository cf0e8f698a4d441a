/* stats: the counters users see (errors per gammu name, totals, last error,
 * resets, SMS) and their JSON form, which is both the MQTT state's counter part
 * and what state_store persists. Pure. */
#ifndef SMS_SENTINEL_STATS_H
#define SMS_SENTINEL_STATS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#define STATS_MAX_ERROR_NAMES 96
#define STATS_NAME_SIZE 32

struct error_count {
    char name[STATS_NAME_SIZE];
    uint64_t count;
};

struct last_error {
    bool set;
    char name[STATS_NAME_SIZE];
    int code;
    char message[256];
    char at[40]; /* ISO 8601 with offset */
};

struct last_reset {
    bool set;
    char method[STATS_NAME_SIZE];
    char at[40];
    char result[STATS_NAME_SIZE];
    int64_t duration_ms;
};

struct stats {
    uint64_t errors_total;
    int error_names;
    struct error_count errors[STATS_MAX_ERROR_NAMES];
    struct last_error last_error;
    uint64_t resets_total;
    struct last_reset last_reset;
    uint64_t sms_received, sms_sent, sms_failed;
    uint64_t mail_forwarded, mail_retries, mail_failed; /* sms2mail */
};

void stats_init(struct stats *s);
/* Counts one error; message is cut to fit and control bytes replaced. */
void stats_count_error(struct stats *s, const char *name, int code, const char *message, size_t message_len,
                       const char *at);
void stats_record_reset(struct stats *s, const char *method, const char *at, const char *result, int64_t duration_ms);
uint64_t stats_error_count(const struct stats *s, const char *name);

/* Adds the counter fields (errors_total, errors, last_error, resets_total,
 * last_reset, sms_*) to obj. */
void stats_add_to_json(const struct stats *s, json_object *obj);
/* Restores counters from a snapshot written by stats_add_to_json; unknown or
 * wrong-typed fields are skipped. Returns the number of fields restored. */
int stats_from_json(struct stats *s, json_object *obj);

#endif
