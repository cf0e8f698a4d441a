/* outbox: queues SMS in gammu-smsd's files-backend outbox, one file per
 * recipient, written atomically (hidden temp, fsync, rename, fsync of the
 * folder) through a folder fd, so nothing is ever written outside it and
 * gammu-smsd never sees half a file.
 *
 * File format (what gammu-smsd 1.42 smsd/services/files.c reads): a UTF-16LE
 * text with a BOM (FF FE); gammu-smsd picks GSM 7-bit or UCS-2 itself (with
 * TransmitFormat = auto) and splits it into a concatenated SMS. Name:
 *   OUTC<YYYYMMDD>_<HHMMSS>_<serial 00-99>_<number>_<id>.txt[d][f]
 * C is the priority (as gammu-smsd-inject writes; files are taken in sorted
 * order). gammu reads the flags as the characters after ".txt" of the last
 * '.': d = request a delivery report, f = flash (class 0). The number runs
 * from the third '_' to the fourth, so neither number nor id holds '_' or '.'. */
#ifndef SMS_SENTINEL_OUTBOX_H
#define SMS_SENTINEL_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "sms-sentinel/sms_send.h"

#define OUTBOX_ID_LEN 12 /* [a-z0-9] */
#define OUTBOX_ID_SIZE (OUTBOX_ID_LEN + 1)
#define OUTBOX_NAME_SIZE 96 /* gammu-smsd 1.42 copies names into char[100] */

struct outbox {
    int dirfd;          /* O_DIRECTORY fd of the outbox, -1 when closed */
    int64_t last_stamp; /* the second in the last name written */
    int serial;         /* the serial used with it */
};

/* One SMS to one recipient. */
struct outbox_sms {
    const char *number; /* passes sms_number_check (checked again here) */
    const char *text;   /* valid UTF-8, no NUL (checked again here) */
    size_t text_len;
    bool flash;
    bool delivery_report;
};

/* What was queued: the id (returned to the requester, reported on
 * <base>/sms/sent) and the outbox file name. */
struct outbox_entry {
    char id[OUTBOX_ID_SIZE];
    char name[OUTBOX_NAME_SIZE];
};

/* Opens the outbox folder; 0 or -errno. May block on the filesystem. */
int outbox_open(struct outbox *ob, const char *path);
void outbox_close(struct outbox *ob);
/* Opens the outbox when closed, or again when path now names another folder
 * than the one held (removed and re-created, a mount put over it); 0 or
 * -errno (then the old fd, if any, is kept). May block on the filesystem. */
int outbox_ensure(struct outbox *ob, const char *path);

/* Writes count (1..SMS_SEND_MAX_RECIPIENTS) files, one per message, dated now
 * (wall clock, local time like gammu-smsd-inject), and fills entries[0..count).
 * All or nothing: every file is written and fsynced under a hidden temp name
 * first, then all are renamed; on any error the temps are removed, the files
 * already renamed are withdrawn again, and the result is -errno with a
 * message in err. Blocks on the filesystem (fsync). */
int outbox_queue(struct outbox *ob, const struct outbox_sms *msgs, int count, time_t now,
                 struct outbox_entry *entries, char *err, size_t errsize);
/* The same for a validated request: one file per recipient. */
int outbox_queue_send(struct outbox *ob, const struct sms_send *req, time_t now,
                      struct outbox_entry entries[SMS_SEND_MAX_RECIPIENTS], char *err, size_t errsize);

/* Building blocks, exposed for tests. */

/* A fresh id from getrandom (never blocks; falls back to the clock and pid
 * when the kernel has no entropy yet: ids need to be unique, not secret). */
void outbox_make_id(char id[OUTBOX_ID_SIZE]);
/* The file name; 0, or -1 when a part is invalid or it does not fit. */
int outbox_name(char *buf, size_t size, time_t stamp, int serial, const char *number, const char *id, bool flash,
                bool delivery_report);
/* The id in a name outbox_name built (also after gammu moved it to the sent
 * or error folder); 0, or -1 when name is not one of ours. */
int outbox_name_id(const char *name, char id[OUTBOX_ID_SIZE]);
/* BOM + UTF-16LE of text[0..len) in a new buffer owned by the caller.
 * 0, -EINVAL (invalid UTF-8 or a NUL) or -ENOMEM. */
int outbox_encode(const char *text, size_t len, unsigned char **out, size_t *out_len);

#endif
