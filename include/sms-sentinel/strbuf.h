/* strbuf: a bounded string in a caller-provided buffer with a sticky overflow
 * flag, so a chain of appends is checked once at the end. */
#ifndef SMS_SENTINEL_STRBUF_H
#define SMS_SENTINEL_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
    char *data;
    size_t size; /* capacity including the NUL */
    size_t len;
    bool overflow;
};

void strbuf_init(struct strbuf *sb, char *data, size_t size);
void strbuf_append(struct strbuf *sb, const char *s);
void strbuf_append_n(struct strbuf *sb, const char *s, size_t n);
/* Appends s[0..n) with control bytes and DEL replaced by '?': for text from
 * outside (log lines, SMS numbers) on its way into a log line. */
void strbuf_append_printable(struct strbuf *sb, const char *s, size_t n);
void strbuf_printf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Returns 0, or -1 when anything appended did not fit (the text is then cut). */
int strbuf_status(const struct strbuf *sb);

/* snprintf into buf; returns 0, or -1 on error or truncation. */
int format_checked(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
