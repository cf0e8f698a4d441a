/* sms_send: validation of a send_sms request (SPEC 4) against the [sms]
 * settings, the phone-number syntax, the allowed_recipients glob matcher, and
 * the max_per_hour rate limiter. Pure: no I/O, no globals, time passed in. */
#ifndef SMS_SENTINEL_SMS_SEND_H
#define SMS_SENTINEL_SMS_SEND_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sms-sentinel/config.h"
#include "sms-sentinel/sms_length.h"

#define SMS_SEND_MAX_RECIPIENTS 10
#define SMS_NUMBER_MIN_DIGITS 3
#define SMS_NUMBER_MAX_DIGITS 20
#define SMS_NUMBER_SIZE (1 + SMS_NUMBER_MAX_DIGITS + 1) /* '+', digits, NUL */
/* Hard cap on parts whatever max_parts says: gammu-smsd 1.42 stops at 50
 * parts, and a GSM text above 5000 septets (inside part 33) goes wrong
 * (measured: 5049 septets -> 50 PDUs, 17 of them empty). 32 x 153 = 4896. */
#define SMS_SEND_PARTS_LIMIT 32

struct sms_send {
    int count; /* recipients, 1..SMS_SEND_MAX_RECIPIENTS */
    char numbers[SMS_SEND_MAX_RECIPIENTS][SMS_NUMBER_SIZE];
    bool used_defaults;         /* no "number": default_recipients */
    char *text;                 /* owned, NUL-terminated valid UTF-8, no NUL inside */
    size_t text_len;            /* bytes */
    struct sms_length length;   /* of text */
    bool flash;                 /* class 0 */
    bool delivery_report;       /* request a status report */
    json_object *transaction;   /* owned reference, NULL when absent */
};

/* Validates req (a parsed JSON object) for cfg's default_recipients,
 * allowed_recipients and max_parts. Returns 0 with out filled (release it with
 * sms_send_clear), or -1 with a short reason in err and out cleared. */
int sms_send_parse(json_object *req, const struct config *cfg, struct sms_send *out, char *err, size_t errsize);
void sms_send_clear(struct sms_send *s);

/* What the request costs against max_per_hour: recipients x parts, i.e. the
 * SMS-SUBMIT PDUs the modem sends (what the operator bills). */
unsigned sms_send_cost(const struct sms_send *s);

/* s[0..len) is an optional '+' and 3 to 20 ASCII digits, nothing else.
 * Returns 0, or -1 with "number '...' is not a phone number (...)" in err. */
int sms_number_check(const char *s, size_t len, char *err, size_t errsize);

/* Whole-string match of number against pattern: '*' any run (also empty),
 * '?' one character, anything else itself. No flags, no escapes, no classes. */
bool sms_glob_match(const char *pattern, const char *number);

/* max_per_hour over a sliding hour in one-minute buckets: a cost charged at
 * minute m counts until minute m+60 starts (so up to a minute longer than an
 * hour, never shorter). */
#define SMS_RATE_BUCKETS 60
struct sms_rate {
    int64_t minute[SMS_RATE_BUCKETS]; /* which minute each bucket holds */
    unsigned cost[SMS_RATE_BUCKETS];
};

void sms_rate_init(struct sms_rate *r);
/* Cost charged within the hour before now_ms (CLOCK_MONOTONIC ms). */
unsigned sms_rate_used(const struct sms_rate *r, int64_t now_ms);
/* Charges cost when used + cost <= limit and returns 0; otherwise charges
 * nothing, returns -1 and says in err how much is used and when to retry. */
int sms_rate_take(struct sms_rate *r, unsigned limit, unsigned cost, int64_t now_ms, char *err, size_t errsize);

#endif
