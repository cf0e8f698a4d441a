/* inbox_decode: one gammu-smsd inbox file's bytes -> UTF-8 text (or hex for
 * 8-bit data), for each InboxFormat. Pure: the caller reads the file.
 *
 * What gammu-smsd 1.42 writes (smsd/services/files.c, backup/backtext.c; real
 * files in tests/fixtures/inbox/):
 * - standard: the text in the service's locale (wctomb): UTF-8 under a UTF-8
 *   locale, ISO-8859-1 under de_DE.ISO-8859-1, and '?' for every character the
 *   locale lacks (all non-ASCII under LANG=C: that loss is silent and cannot
 *   be undone here). We take valid UTF-8 as is; otherwise the bytes are read as
 *   ISO-8859-1 with `latin1` set, or rejected with strict_utf8.
 * - unicode: BOM FE FF, UTF-16BE. Bug: it writes strlen(UTF-8 text) * 2 bytes,
 *   so after non-ASCII text come 00 00 and stale bytes: we stop at the first
 *   U+0000 (`stopped_at_nul`). Under a non-UTF-8 locale the same bug writes
 *   too few bytes and cuts text short, even inside a surrogate pair: a high
 *   surrogate right at the end becomes U+FFFD (`cut_surrogate`, as libgammu
 *   does); any other unpaired surrogate is an error. FF FE (LE) is accepted.
 * - detail: an SMS backup (INI): [SMSBackup000], [SMSBackup001]... one section
 *   per part, all parts in the one file (named ..._00.txt, or .bin for 8-bit);
 *   TextNN = hex (UTF-16BE for Default/Unicode_No_Compression, raw bytes for
 *   8bit), NumberUnicode = hex UTF-16BE, UDH = hex, mixed CRLF/LF line ends.
 *   Length counts septets, so GSM text with extension characters (euro sign,
 *   brackets) is followed by 00 00 and stale bytes too: each part is cut at
 *   its first U+0000 before the parts are joined.
 *   Read by a tolerant reader of our own (no libgammu).
 * - .bin (8-bit data) in standard/unicode: the raw user data bytes. */
#ifndef SMS_SENTINEL_INBOX_DECODE_H
#define SMS_SENTINEL_INBOX_DECODE_H

#include <stdbool.h>
#include <stddef.h>

#include "sms-sentinel/inbox_name.h"

#define INBOX_DECODE_MAX_INPUT (256 * 1024) /* larger inputs are refused */
#define INBOX_NUMBER_SIZE 160

enum inbox_format {
    INBOX_FORMAT_AUTO,     /* guess from the bytes: BOM -> unicode, an SMS backup
                              header -> detail, else by extension */
    INBOX_FORMAT_STANDARD,
    INBOX_FORMAT_UNICODE,
    INBOX_FORMAT_DETAIL,
};

enum inbox_content {
    INBOX_CONTENT_TEXT,    /* text is UTF-8 */
    INBOX_CONTENT_BINARY,  /* text is the data as lowercase hex */
};

enum inbox_decode_error {
    INBOX_DECODE_OK = 0,
    INBOX_DECODE_TOO_LARGE,
    INBOX_DECODE_NO_MEMORY,
    INBOX_DECODE_BAD_UTF8,      /* standard with strict_utf8 */
    INBOX_DECODE_NUL_BYTE,      /* standard: a NUL gammu never writes there */
    INBOX_DECODE_NO_BOM,        /* unicode: no byte order mark */
    INBOX_DECODE_ODD_LENGTH,    /* UTF-16 ends in half a code unit */
    INBOX_DECODE_BAD_SURROGATE, /* UTF-16 with an unpaired surrogate */
    INBOX_DECODE_NO_MESSAGE,    /* detail: no [SMSBackupNNN] section */
    INBOX_DECODE_BAD_HEX,       /* detail: TextNN/UDH/NumberUnicode not hex */
    INBOX_DECODE_BAD_CODING,    /* detail: compressed or unknown Coding */
    INBOX_DECODE_MIXED_CODING,  /* detail: text and 8-bit parts in one message */
};

struct inbox_decode_opts {
    enum inbox_format format;
    bool strict_utf8; /* standard: reject non-UTF-8 instead of reading ISO-8859-1 */
};

struct inbox_concat {
    bool present;     /* a concatenation UDH element (8- or 16-bit reference) */
    unsigned ref;
    unsigned total;   /* parts the sender announced */
    unsigned seq;     /* 1-based number of the first part in the file */
};

struct inbox_message {
    enum inbox_format format;   /* the one decoded (never AUTO) */
    enum inbox_content content;
    char *text;                 /* malloc'd, NUL-terminated, no NUL inside; owned by
                                   the message. May hold newlines and other controls. */
    size_t text_len;
    bool latin1;                /* standard: not UTF-8, read as ISO-8859-1 */
    bool stopped_at_nul;        /* unicode/detail: text ended at U+0000 (stale bytes after) */
    bool cut_surrogate;         /* unicode/detail: half a surrogate pair right before the
                                   end became U+FFFD (gammu cut the text short) */
    /* detail only */
    unsigned parts;             /* sections in the file (1 for other formats) */
    char number[INBOX_NUMBER_SIZE]; /* sender, decoded like inbox_sender_decode; "" if none */
    struct inbox_concat concat; /* from the first section's UDH */
    size_t error_offset;        /* on error: byte offset (detail: start of the line) */
};

/* Decodes data[0..len) of a file with extension ext into *out (zeroed first).
 * On INBOX_DECODE_OK the caller frees it with inbox_message_free; on error
 * out->text is NULL and out->error_offset says where. Never blocks. */
enum inbox_decode_error inbox_decode(const struct inbox_decode_opts *opts, enum inbox_ext ext,
                                     const unsigned char *data, size_t len,
                                     struct inbox_message *out);
void inbox_message_free(struct inbox_message *msg);

const char *inbox_decode_error_str(enum inbox_decode_error err);
const char *inbox_format_str(enum inbox_format fmt);
/* "standard" / "unicode" / "detail" (gammu-smsdrc InboxFormat, any case); -1 if unknown. */
int inbox_format_from_string(const char *s, enum inbox_format *fmt);

#endif
