/* sms_length: what a text costs as an SMS. GSM 03.38 default alphabet with its
 * extension table when every character fits (an extension character takes an
 * escape septet too), UCS-2 otherwise; then how many parts it is split into.
 * Pure: no allocation, no I/O. */
#ifndef SMS_SENTINEL_SMS_LENGTH_H
#define SMS_SENTINEL_SMS_LENGTH_H

#include <stddef.h>
#include <stdint.h>

/* Units per part: one SMS, and one part of a concatenated SMS (the 6-byte
 * concatenation header that gammu writes takes the rest). */
#define SMS_GSM7_SINGLE 160
#define SMS_GSM7_CONCAT 153
#define SMS_UCS2_SINGLE 70
#define SMS_UCS2_CONCAT 67

enum sms_encoding {
    SMS_ENCODING_GSM7, /* units are septets */
    SMS_ENCODING_UCS2, /* units are UTF-16 code units (a non-BMP character = 2) */
};

struct sms_length {
    enum sms_encoding encoding;
    size_t chars; /* Unicode code points */
    size_t units; /* septets or UTF-16 code units */
    size_t parts; /* >= 1; an empty text is one (empty) SMS */
};

const char *sms_encoding_str(enum sms_encoding e);

/* Counts text[0..len). Parts are filled greedily and never split an escape
 * pair or a surrogate pair, as gammu and phones do. Returns 0, or -1 when the
 * text is not valid UTF-8 (out is then untouched). */
int sms_length_count(const char *text, size_t len, struct sms_length *out);

/* Decodes the UTF-8 character at s[0..len) into *cp; returns its length in
 * bytes, or 0 when it is not valid UTF-8 (see utf8_sequence_length). */
size_t sms_utf8_next(const char *s, size_t len, uint32_t *cp);

#endif
