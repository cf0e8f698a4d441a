/* Table tests for UTF-8 validation and cleaning. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sms-sentinel/text.h"

struct clean_case {
    const char *in;
    size_t in_len;
    size_t size;
    const char *out;
    bool valid;
};

#define C(in, size, out, valid) {in, sizeof(in) - 1, size, out, valid}

static const struct clean_case cases[] = {
    C("hello", 64, "hello", true),
    C("Gr\xc3\xbc\xc3\x9f" "e \xf0\x9f\x98\x80 \xe6\x97\xa5", 64, "Gr\xc3\xbc\xc3\x9f" "e \xf0\x9f\x98\x80 \xe6\x97\xa5", true),
    C("a\nb\tc\x1b[0m", 64, "a?b?c?[0m", true),
    C("a\x7f", 64, "a?", true),
    C("\xff\xfe", 64, "??", false),
    C("\xc0\xaf", 64, "??", false),                  /* overlong '/' */
    C("\xed\xa0\x80", 64, "???", false),             /* surrogate */
    C("\xf4\x90\x80\x80", 64, "????", false),        /* above U+10FFFF */
    C("\xe6\x97", 64, "??", false),                  /* cut sequence */
    C("ab\xe6\x97\xa5", 4, "ab", true),              /* never half a character */
    C("abcdef", 4, "abc", true),
    C("", 4, "", true),
};

static void test_clean(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct clean_case *c = &cases[i];
        char out[64];
        print_message("case %zu\n", i);
        size_t n = text_copy_clean(out, c->size, c->in, c->in_len);
        assert_string_equal(out, c->out);
        assert_int_equal(n, strlen(c->out));
        assert_int_equal(utf8_is_valid(c->in, c->in_len), c->valid);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_clean)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
