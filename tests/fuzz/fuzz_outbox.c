/* libFuzzer target: outbox names and file contents from hostile input.
 * Layout: byte 0 flags (bit 0 flash, bit 1 delivery report), bytes 1-8 the
 * stamp (any int64, also far outside the calendar), byte 9 the serial, byte 10
 * the name buffer size, then "number\nid\ntext". Invariants: a built name fits
 * its buffer, holds no '/', no blank, does not start with '.', is one of the
 * shapes gammu-smsd reads (OUTC<date>_<time>_<serial>_<number>_<id>.txt[d][f])
 * and parses back to the same id; outbox_name_id never accepts what
 * outbox_name could not have built; the text round-trips through UTF-16LE. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sms-sentinel/outbox.h"
#include "sms-sentinel/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEAD 11

/* The next '\n'-separated field as a NUL-terminated copy (NULs inside stay
 * and cut it short, as a C caller would). */
static char *field(const uint8_t **p, const uint8_t *end, size_t *len)
{
    const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
    size_t n = (size_t)((nl ? nl : end) - *p);
    char *s = malloc(n + 1);
    if (!s)
        abort();
    memcpy(s, *p, n);
    s[n] = '\0';
    *p = nl ? nl + 1 : end;
    *len = n;
    return s;
}

static void check_name(const char *name, size_t size, int serial, const char *number, const char *id, bool flash,
                       bool dr)
{
    size_t len = strlen(name);
    if (len >= size || len >= OUTBOX_NAME_SIZE || name[0] == '.' || strncmp(name, "OUTC", 4) != 0)
        abort();
    for (const char *c = name; *c; c++)
        if (*c == '/' || *c <= ' ' || *c >= 0x7f)
            abort();
    /* OUTC + YYYYMMDD_HHMMSS + _SS_ + number + _ + id + .txt + flags */
    char want[OUTBOX_NAME_SIZE + 64];
    snprintf(want, sizeof(want), "_%02d_%s_%s.txt%s%s", serial, number, id, dr ? "d" : "", flash ? "f" : "");
    size_t wl = strlen(want);
    if (len != 4 + 15 + wl || strcmp(name + 4 + 15, want) != 0 || name[4 + 8] != '_')
        abort();
    char back[OUTBOX_ID_SIZE];
    if (outbox_name_id(name, back) != 0 || strcmp(back, id) != 0)
        abort();
}

static void check_name_id(const char *name)
{
    char id[OUTBOX_ID_SIZE];
    if (outbox_name_id(name, id) != 0)
        return;
    if (strlen(id) != OUTBOX_ID_LEN || strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789") != OUTBOX_ID_LEN ||
        strncmp(name, "OUTC", 4) != 0 || !strstr(name, id))
        abort();
}

/* Decodes BOM + UTF-16LE back to UTF-8 and compares. */
static void check_round_trip(const unsigned char *u, size_t n, const char *text, size_t len)
{
    if (n < 2 || n % 2 || u[0] != 0xFF || u[1] != 0xFE)
        abort();
    char *back = malloc(2 * n + 1);
    size_t o = 0;
    if (!back)
        abort();
    for (size_t i = 2; i < n; i += 2) {
        uint32_t cp = u[i] | (uint32_t)u[i + 1] << 8;
        if (cp >= 0xD800 && cp < 0xDC00) {
            if (i + 3 >= n)
                abort();
            uint32_t lo = u[i + 2] | (uint32_t)u[i + 3] << 8;
            if (lo < 0xDC00 || lo > 0xDFFF)
                abort();
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            i += 2;
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            abort();
        }
        if (cp < 0x80) {
            back[o++] = (char)cp;
        } else if (cp < 0x800) {
            back[o++] = (char)(0xC0 | cp >> 6);
            back[o++] = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            back[o++] = (char)(0xE0 | cp >> 12);
            back[o++] = (char)(0x80 | (cp >> 6 & 0x3F));
            back[o++] = (char)(0x80 | (cp & 0x3F));
        } else {
            back[o++] = (char)(0xF0 | cp >> 18);
            back[o++] = (char)(0x80 | (cp >> 12 & 0x3F));
            back[o++] = (char)(0x80 | (cp >> 6 & 0x3F));
            back[o++] = (char)(0x80 | (cp & 0x3F));
        }
    }
    if (o != len || memcmp(back, text, len) != 0)
        abort();
    free(back);
}

static void check_encode(const char *text, size_t len)
{
    unsigned char *u = NULL;
    size_t n = 0;
    int rc = outbox_encode(text, len, &u, &n);
    bool valid = utf8_is_valid(text, len) && !memchr(text, '\0', len);
    if (rc == 0) {
        check_round_trip(u, n, text, len);
        free(u);
    } else if (valid) {
        abort(); /* valid UTF-8 without NUL must encode */
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < HEAD)
        return 0;
    bool flash = data[0] & 1, dr = data[0] & 2;
    int64_t stamp;
    memcpy(&stamp, data + 1, sizeof(stamp));
    int serial = data[9] < 128 ? data[9] : (int)data[9] - 256;
    size_t bufsize = data[10] ? data[10] : 1;
    const uint8_t *p = data + HEAD, *end = data + size;
    size_t nlen, ilen, tlen;
    char *number = field(&p, end, &nlen);
    char *id = field(&p, end, &ilen);
    char *text = malloc((size_t)(end - p) + 1);
    if (!text)
        abort();
    tlen = (size_t)(end - p);
    memcpy(text, p, tlen);
    text[tlen] = '\0';

    char *buf = malloc(bufsize); /* exact size: ASan sees any overflow */
    if (!buf)
        abort();
    if (outbox_name(buf, bufsize, (time_t)stamp, serial, number, id, flash, dr) == 0)
        check_name(buf, bufsize, serial, number, id, flash, dr);
    free(buf);

    check_name_id(number);
    check_name_id(text);
    check_encode(text, tlen);
    free(number);
    free(id);
    free(text);
    return 0;
}
