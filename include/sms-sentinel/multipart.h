/* multipart: joins the files of one long SMS (InboxFormat standard/unicode
 * write one file per part) into one message. Pure: time comes in as now_ms.
 *
 * What the names tell (see inbox_name.h): parts share serial, sender and
 * extension and are numbered 00, 01, ... in order; each carries its own SMSC
 * time (it may differ by seconds from part 0's); no file says how many parts
 * there are. gammu-smsd writes all the parts of one message in one go (it
 * waits for every part, up to its MultipartTimeout, before saving any), so a
 * group whose parts 0..n-1 are all here and that got nothing new for
 * settle_ms is complete. A group with a gap or without part 0 waits
 * incomplete_ms and then comes out as it is: nothing is ever dropped.
 *
 * A part joins the earliest pending group with the same serial, sender and
 * extension that lacks its part number and whose part 0 is at most window_s
 * older (SMSC time) than it; otherwise it starts a new group. Parts may come
 * in any order (inotify order, sorted directory scans, rescans). */
#ifndef SMS_SENTINEL_MULTIPART_H
#define SMS_SENTINEL_MULTIPART_H

#include <stddef.h>
#include <stdint.h>

#include "sms-sentinel/inbox_name.h"

struct multipart_config {
    unsigned max_groups;    /* messages pending at once (default 32) */
    unsigned max_parts;     /* parts per message (default 50, gammu's GSM_MAX_MULTI_SMS) */
    size_t max_text;        /* bytes of joined text per message (default 64 KiB) */
    int64_t settle_ms;      /* quiet time that ends a gap-free group (default 2000) */
    int64_t incomplete_ms;  /* quiet time that ends a group with gaps (default 30000) */
    unsigned window_s;      /* SMSC-time distance of a part from part 0 (default 600) */
};

enum multipart_add_result {
    MULTIPART_ADDED,        /* pending: poll at multipart_next_deadline() */
    MULTIPART_DUPLICATE,    /* a part with this file name is already held: ignored */
    MULTIPART_FULL,         /* no free group: a finished one (else the oldest, evicted) is due now; poll, add again */
    MULTIPART_REJECTED,     /* beyond max_parts or max_text: deliver this part alone */
    MULTIPART_NO_MEMORY,
};

enum multipart_end {
    MULTIPART_COMPLETE,     /* the announced total (add's total) is all here */
    MULTIPART_SETTLED,      /* parts 0..n-1, quiet for settle_ms */
    MULTIPART_INCOMPLETE,   /* a gap or no part 0, quiet for incomplete_ms */
    MULTIPART_EVICTED,      /* pushed out early because the table was full */
};

struct multipart_message {
    struct inbox_name first;      /* name of the lowest part: id, sender, time */
    char *text;                   /* the parts' texts joined in part order; malloc'd */
    size_t text_len;
    unsigned parts;
    char (*files)[INBOX_NAME_MAX + 1]; /* the parts' file names in part order; malloc'd */
    enum multipart_end end;
};

struct multipart;

void multipart_config_default(struct multipart_config *cfg);
/* NULL when out of memory; free with multipart_free (pending parts are lost
 * from memory only: their files stay in the inbox). */
struct multipart *multipart_new(const struct multipart_config *cfg);
void multipart_free(struct multipart *mp);

/* Adds one part: its parsed name and its decoded text[0..len) (copied).
 * total is the number of parts when known (a detail file: its section count;
 * a "Multipart message ..., N parts of N" log line), else 0. */
enum multipart_add_result multipart_add(struct multipart *mp, const struct inbox_name *name,
                                        const char *text, size_t len, unsigned total,
                                        int64_t now_ms);

/* Takes out one message that is due at now_ms: 1 with *out filled (free it
 * with multipart_message_free), 0 when none is due, -1 when out of memory
 * (the group stays). Call until it returns 0. */
int multipart_poll(struct multipart *mp, int64_t now_ms, struct multipart_message *out);
void multipart_message_free(struct multipart_message *msg);

/* When the next group is due (ms, same clock as now_ms), or -1 if none pending. */
int64_t multipart_next_deadline(const struct multipart *mp);
unsigned multipart_pending(const struct multipart *mp);

const char *multipart_add_result_str(enum multipart_add_result r);
const char *multipart_end_str(enum multipart_end e);

#endif
