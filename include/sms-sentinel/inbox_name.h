/* inbox_name: parses the names gammu-smsd (files backend, 1.42) gives to inbox
 * files, IN<YYYYMMDD>_<HHMMSS>_<serial>_<sender>_<part>.<ext>. Pure.
 *
 * What gammu really writes (smsd/services/files.c, checked on 1.42.0 with the
 * emulator; fixtures in tests/fixtures/inbox/):
 * - date/time is the SMSC timestamp *of that part*: the parts of one long SMS
 *   can carry different times (..._200022_00_+336..._00.txt, ..._200025_00_+336..._01.txt);
 * - serial (00-99) is chosen for part 0 (first free name) and reused by the other
 *   parts; part is the part's index in what gammu linked (00, 01, ...), not the
 *   UDH sequence number, and no file gives the total;
 * - the existence check includes the extension, so IN..._00_X_00.txt and
 *   IN..._00_X_00.bin can be two different messages;
 * - the sender is copied unescaped except '*' -> 'X'. Alphanumeric senders are
 *   written as raw GSM 7-bit septet values (gammu never maps them through the
 *   GSM alphabet, up to 1.44): "MY_BANK" becomes "MY\x11BANK", "Météo" "M\x05t\x05o".
 *   So inbox_sender_decode reads every 7-bit sender as septets: an ASCII '_'
 *   in a name is GSM 0x5F, '§'. Senders may hold spaces, '_' and control bytes;
 * - InboxFormat = detail writes the same names (txt or bin, never .smsbackup),
 *   one file per message with every part inside. */
#ifndef SMS_SENTINEL_INBOX_NAME_H
#define SMS_SENTINEL_INBOX_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* gammu-smsd builds the name in a 100-byte buffer, so longer names are not its. */
#define INBOX_NAME_MAX 128
#define INBOX_SENDER_RAW_MAX 100
/* A decoded sender takes at most 3 bytes per raw byte. */
#define INBOX_SENDER_SIZE (3 * INBOX_SENDER_RAW_MAX + 1)
/* The id escapes each byte in at most 3. */
#define INBOX_ID_SIZE (3 * INBOX_NAME_MAX + 1)

enum inbox_ext {
    INBOX_EXT_TXT, /* text (standard, unicode) or an SMS backup (detail) */
    INBOX_EXT_BIN, /* 8-bit data (raw bytes, or an SMS backup with detail) */
};

enum inbox_name_error {
    INBOX_NAME_OK = 0,
    INBOX_NAME_EMPTY,
    INBOX_NAME_TOO_LONG,
    INBOX_NAME_HIDDEN,     /* starts with '.': our temp files and editors' */
    INBOX_NAME_BAD_BYTE,   /* NUL or '/' */
    INBOX_NAME_NOT_INBOX,  /* does not start with "IN" */
    INBOX_NAME_BAD_EXT,    /* not .txt/.bin: also *.tmp, *~, *.swp */
    INBOX_NAME_BAD_DATE,
    INBOX_NAME_BAD_TIME,
    INBOX_NAME_BAD_SERIAL,
    INBOX_NAME_BAD_SENDER, /* the sender field is missing or too long */
    INBOX_NAME_BAD_PART,
};

struct inbox_name {
    char name[INBOX_NAME_MAX + 1];           /* the file name as given */
    unsigned year, month, day;               /* all 0 when gammu had no timestamp */
    unsigned hour, minute, second;
    int64_t stamp;                           /* date/time as seconds since 1970 (zone ignored) */
    unsigned serial;                         /* 0-99 */
    unsigned part;                           /* 0-based index of the part */
    enum inbox_ext ext;
    char sender_raw[INBOX_SENDER_RAW_MAX + 1]; /* bytes as in the name; may hold control bytes */
    size_t sender_raw_len;
    char sender[INBOX_SENDER_SIZE];          /* decoded (see inbox_sender_decode), clean UTF-8 */
    char id[INBOX_ID_SIZE];                  /* the name, bytes outside [A-Za-z0-9+._-] as %XX:
                                                unique, stable, safe in JSON, topics and logs */
};

/* Parses name[0..len). Fills *out and returns INBOX_NAME_OK, or returns the
 * reason the name is not a gammu-smsd inbox file (*out is then undefined). */
enum inbox_name_error inbox_name_parse(const char *name, size_t len, struct inbox_name *out);
const char *inbox_name_error_str(enum inbox_name_error err);
const char *inbox_ext_str(enum inbox_ext ext);

/* True when a and b may be parts of one message: same serial, sender and
 * extension (the times may differ, see above). */
bool inbox_name_same_sender(const struct inbox_name *a, const struct inbox_name *b);

/* Turns a sender as gammu-smsd wrote it (in a file name, or a detail file's
 * Number) into clean UTF-8 in dst (size > 0, always NUL-terminated): when every
 * byte is below 0x80 the bytes are read as GSM 7-bit septets (identity for
 * digits, '+', '#', letters and space), a number made of digits/'#'/'X' gets
 * its '*' back, anything else is taken as UTF-8; control characters and
 * invalid bytes become '?'. Returns the length written. */
size_t inbox_sender_decode(char *dst, size_t size, const char *raw, size_t len);

#endif
