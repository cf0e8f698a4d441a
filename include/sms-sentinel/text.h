/* text: cleaning text from outside (log lines, files, requests) before it goes
 * into JSON, a topic or a log: valid UTF-8 only, no control bytes. Pure. */
#ifndef SMS_SENTINEL_TEXT_H
#define SMS_SENTINEL_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Length of the valid UTF-8 sequence at s[0..len), or 0 when invalid
 * (overlong forms, surrogates and code points above U+10FFFF are invalid). */
size_t utf8_sequence_length(const unsigned char *s, size_t len);
bool utf8_is_valid(const char *s, size_t len);

/* Copies src[0..len) into dst (size > 0), replacing control bytes, DEL and
 * invalid UTF-8 bytes with '?', never cutting a character in half; always
 * NUL-terminates. Returns the number of bytes written (without the NUL). */
size_t text_copy_clean(char *dst, size_t size, const char *src, size_t len);

#endif
