/* strbuf: bounded string building with a sticky overflow flag. */
#include "sms-sentinel/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void strbuf_init(struct strbuf *sb, char *data, size_t size)
{
    sb->data = data;
    sb->size = size;
    sb->len = 0;
    sb->overflow = size == 0;
    if (size > 0)
        data[0] = '\0';
}

void strbuf_append_n(struct strbuf *sb, const char *s, size_t n)
{
    if (sb->size == 0)
        return;
    size_t room = sb->size - 1 - sb->len;
    if (n > room) {
        n = room;
        sb->overflow = true;
    }
    memcpy(sb->data + sb->len, s, n);
    sb->len += n;
    sb->data[sb->len] = '\0';
}

void strbuf_append_printable(struct strbuf *sb, const char *s, size_t n)
{
    for (size_t i = 0; i < n && !sb->overflow; i++) {
        unsigned char c = (unsigned char)s[i];
        char out = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
        strbuf_append_n(sb, &out, 1);
    }
}

void strbuf_append(struct strbuf *sb, const char *s) { strbuf_append_n(sb, s, strlen(s)); }

void strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
    if (sb->size == 0)
        return;
    size_t room = sb->size - sb->len;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(sb->data + sb->len, room, fmt, ap);
    va_end(ap);
    if (n < 0) {
        sb->overflow = true;
        sb->data[sb->len] = '\0';
        return;
    }
    if ((size_t)n >= room) {
        sb->overflow = true;
        sb->len = sb->size - 1;
        return;
    }
    sb->len += (size_t)n;
}

int strbuf_status(const struct strbuf *sb) { return sb->overflow ? -1 : 0; }

int format_checked(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return (n < 0 || (size_t)n >= size) ? -1 : 0;
}
