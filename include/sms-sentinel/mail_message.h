/* mail_message: the RFC 5322 message that forwards one received SMS by mail
 * ([sms] forward_mail). Pure: no I/O, the time comes in as a parameter.
 *
 * Everything from outside (sender, text, id, time label) lands either in a
 * header built only from safe bytes (the sender RFC 2047-encoded or checked
 * printable ASCII, the id reduced to [A-Za-z0-9._-]) or in the base64 body, so
 * no SMS can add a header line ("\r\nBcc: x") or end the message (a "." line).
 *
 * Lines end with LF, not CRLF: the message is for `sendmail -t -i`, which reads
 * local (LF) lines and converts them for SMTP. The body's text is put in its
 * canonical CRLF form before base64 (RFC 2046), so readers see line breaks. */
#ifndef SMS_SENTINEL_MAIL_MESSAGE_H
#define SMS_SENTINEL_MAIL_MESSAGE_H

#include <stddef.h>
#include <time.h>

/* Longest SMS text accepted (a 255-part concatenated SMS is ~40 KB of UTF-8). */
#define MAIL_MESSAGE_MAX_TEXT 65536
/* The sender is cut (at a character boundary) to this many bytes. */
#define MAIL_MESSAGE_MAX_SENDER 128
/* No header line, folded or not, is longer than this (RFC 5322 2.1.1). */
#define MAIL_MESSAGE_LINE_MAX 78

struct mail_input {
    const char *from;        /* "sms-sentinel@host": printable ASCII, checked */
    const char *to;          /* one address, validated by config; checked again */
    const char *sender;      /* bytes as received: any content, sender_len long */
    size_t sender_len;
    const char *received_at; /* ISO 8601 label for the footer (cleaned) */
    const char *text;        /* SMS text, text_len bytes; invalid UTF-8 becomes '?' */
    size_t text_len;
    const char *sms_id;      /* the SMS id (inbox name); reduced to [A-Za-z0-9._-] */
    time_t now;              /* for the Date header, in local time with numeric zone */
};

/* Builds the whole message: Date, From, To, Subject, Message-ID
 * (<id@domain of from>), MIME-Version, Content-Type, Content-Transfer-Encoding,
 * a blank line, the base64 body (text plus a footer with number and time),
 * wrapped at 76 columns. On success *out is a NUL-terminated malloc'd string
 * owned by the caller (free()), *out_len its length, and 0 is returned. On
 * error returns -1, *out is NULL and err says why. Never blocks. */
int mail_message_build(const struct mail_input *in, char **out, size_t *out_len, char *err,
                       size_t errsize);

#endif
