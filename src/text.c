/* text: UTF-8 validation (RFC 3629) and cleaning of outside text. */
#include "sms-sentinel/text.h"

#include <string.h>

size_t utf8_sequence_length(const unsigned char *s, size_t len)
{
    if (len == 0)
        return 0;
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned cp, min;
    if ((c & 0xe0) == 0xc0) {
        n = 2, cp = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3, cp = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

bool utf8_is_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        size_t n = utf8_sequence_length(p + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

size_t text_copy_clean(char *dst, size_t size, const char *src, size_t len)
{
    const unsigned char *p = (const unsigned char *)src;
    size_t out = 0, i = 0;
    while (i < len) {
        size_t n = utf8_sequence_length(p + i, len - i);
        bool printable = n > 1 || (n == 1 && p[i] >= 0x20 && p[i] != 0x7f);
        size_t take = printable ? n : 1;
        size_t emit = printable ? n : 1;
        if (out + emit > size - 1)
            break;
        if (printable)
            memcpy(dst + out, p + i, n);
        else
            dst[out] = '?';
        out += emit;
        i += take;
    }
    dst[out] = '\0';
    return out;
}
