/* sms_length: GSM 03.38 / UCS-2 cost of a text and its number of parts. */
#include "sms-sentinel/sms_length.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "sms-sentinel/text.h"

/* ASCII characters of the GSM basic table ('@', '$' and '_' sit elsewhere in
 * the table but are still one septet). Absent: '`' (not in GSM at all) and the
 * extension characters below. */
static const char gsm_basic_ascii[] = "\n\r !\"#$%&'()*+,-./0123456789:;<=>?@"
                                      "ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";

/* Non-ASCII characters of the GSM basic table. */
static const uint16_t gsm_basic_other[] = {
    0x00A1, 0x00A3, 0x00A4, 0x00A5, 0x00A7, 0x00BF, 0x00C4, 0x00C5, 0x00C6, 0x00C7, 0x00C9,
    0x00D1, 0x00D6, 0x00D8, 0x00DC, 0x00DF, 0x00E0, 0x00E4, 0x00E5, 0x00E6, 0x00E8, 0x00E9,
    0x00EC, 0x00F1, 0x00F2, 0x00F6, 0x00F8, 0x00F9, 0x00FC, 0x0393, 0x0394, 0x0398, 0x039B,
    0x039E, 0x03A0, 0x03A3, 0x03A6, 0x03A8, 0x03A9,
};

/* The extension table: escape + one septet. Form feed is in it too. */
static const char gsm_ext_ascii[] = "\f^{}\\[~]|";
#define GSM_EXT_EURO 0x20AC

const char *sms_encoding_str(enum sms_encoding e)
{
    switch (e) {
    case SMS_ENCODING_GSM7:
        return "gsm7";
    case SMS_ENCODING_UCS2:
        return "ucs2";
    }
    return "?";
}

/* Septets for cp in the GSM alphabet, 0 when it is not in it. */
static unsigned gsm7_cost(uint32_t cp)
{
    if (cp == 0)
        return 0;
    if (cp < 0x80)
        return strchr(gsm_basic_ascii, (int)cp) ? 1 : strchr(gsm_ext_ascii, (int)cp) ? 2 : 0;
    if (cp == GSM_EXT_EURO)
        return 2;
    for (size_t i = 0; i < sizeof(gsm_basic_other) / sizeof(gsm_basic_other[0]); i++)
        if (gsm_basic_other[i] == cp)
            return 1;
    return 0;
}

static unsigned ucs2_cost(uint32_t cp) { return cp > 0xFFFF ? 2 : 1; }

size_t sms_utf8_next(const char *s, size_t len, uint32_t *cp)
{
    static const unsigned char lead_mask[] = {0, 0x7F, 0x1F, 0x0F, 0x07};
    const unsigned char *u = (const unsigned char *)s;
    size_t n = utf8_sequence_length(u, len);
    if (n == 0)
        return 0;
    uint32_t c = u[0] & lead_mask[n];
    for (size_t i = 1; i < n; i++)
        c = (c << 6) | (u[i] & 0x3F);
    *cp = c;
    return n;
}

/* Running count of one pass: units, and the parts a greedy split gives. */
struct tally {
    size_t chars, units, parts, fill;
    bool all_gsm;
};

static void tally_add(struct tally *t, unsigned cost, size_t concat)
{
    if (t->fill + cost > concat) {
        t->parts++;
        t->fill = 0;
    }
    t->fill += cost;
    t->units += cost;
}

/* One pass with the given encoding; also learns whether all of it is GSM.
 * -1 on invalid UTF-8. */
static int tally_text(const char *text, size_t len, enum sms_encoding enc, struct tally *t)
{
    size_t concat = enc == SMS_ENCODING_GSM7 ? SMS_GSM7_CONCAT : SMS_UCS2_CONCAT;
    *t = (struct tally){.parts = 1, .all_gsm = true};
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = sms_utf8_next(text + i, len - i, &cp);
        if (n == 0)
            return -1;
        unsigned g = gsm7_cost(cp);
        if (g == 0)
            t->all_gsm = false;
        tally_add(t, enc == SMS_ENCODING_GSM7 ? (g ? g : 1) : ucs2_cost(cp), concat);
        t->chars++;
        i += n;
    }
    return 0;
}

int sms_length_count(const char *text, size_t len, struct sms_length *out)
{
    struct tally t;
    enum sms_encoding enc = SMS_ENCODING_GSM7;
    if (tally_text(text, len, enc, &t) < 0)
        return -1;
    if (!t.all_gsm) {
        enc = SMS_ENCODING_UCS2;
        tally_text(text, len, enc, &t);
    }
    size_t single = enc == SMS_ENCODING_GSM7 ? SMS_GSM7_SINGLE : SMS_UCS2_SINGLE;
    *out = (struct sms_length){
        .encoding = enc,
        .chars = t.chars,
        .units = t.units,
        .parts = t.units <= single ? 1 : t.parts,
    };
    return 0;
}
