/* Table tests for the gammu-smsd log line classifier, with lines as gammu-smsd
 * 1.42 writes them (file form and journal form). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sms-sentinel/gammu_errors.h"
#include "sms-sentinel/smsd_line.h"

struct line_case {
    const char *line;
    enum smsd_line_kind kind;
    const char *error_name; /* NULL: none */
    int error_code;
    long pid;
    const char *file;
    const char *number;
};

static const struct line_case cases[] = {
    {"Sun 2026/12/06 18:00:01 gammu-smsd[4242]: Starting phone communication...", SMSD_LINE_INIT_START, NULL, -1,
     4242, NULL, NULL},
    {"Sun 2026/12/06 18:01:28 gammu-smsd[4242]: Error at init connection: No response in specified timeout. "
     "Probably phone not connected. (TIMEOUT[14])",
     SMSD_LINE_INIT_ERROR, "TIMEOUT", 14, 4242, NULL, NULL},
    {"Sun 2026/12/06 18:01:28 gammu-smsd[4242]: Terminating communication: No response in specified timeout. "
     "Probably phone not connected. (TIMEOUT[14])",
     SMSD_LINE_TERMINATING, "TIMEOUT", 14, 4242, NULL, NULL},
    {"Sun 2026/12/06 18:01:28 gammu-smsd[4242]: Going to 30 seconds sleep because of too many connection errors",
     SMSD_LINE_SLEEPING, NULL, -1, 4242, NULL, NULL},
    {"Sun 2026/12/06 18:01:28 gammu-smsd[4242]: Already hit 4 errors", SMSD_LINE_OTHER, NULL, -1, 4242, NULL, NULL},
    {"Mon 2026/12/07 09:10:11 gammu-smsd[77]: Can't open device: Error opening device. Unknown, busy or no "
     "permissions. (DEVICEOPENERROR[2])",
     SMSD_LINE_ERROR, "DEVICEOPENERROR", 2, 77, NULL, NULL},
    {"Mon 2026/12/07 09:10:11 gammu-smsd[77]: Failed to run SMSD: Error opening device. Unknown, busy or no "
     "permissions. (DEVICEOPENERROR[2])",
     SMSD_LINE_FAILED_TO_RUN, "DEVICEOPENERROR", 2, 77, NULL, NULL},
    {"Mon 2026/12/07 09:10:11 gammu-smsd[77]: Error getting SMS status: Error writing to the device. "
     "(DEVICEWRITEERROR[11])",
     SMSD_LINE_ERROR, "DEVICEWRITEERROR", 11, 77, NULL, NULL},
    {"Mon 2026/12/07 09:10:11 gammu-smsd[77]: Error getting SMS: Invalid location. Maybe too high? "
     "(INVALIDLOCATION[24])",
     SMSD_LINE_ERROR, "INVALIDLOCATION", 24, 77, NULL, NULL},
    {"Mon 2026/12/07 09:10:11 gammu-smsd[77]: Error getting security status: Can not access SIM card. (NOSIM[49])",
     SMSD_LINE_ERROR, "NOSIM", 49, 77, NULL, NULL},
    {"Mon 2026/12/07 09:10:11 gammu-smsd[77]: Error at init connection: The device does not exist. "
     "(DEVICENOTEXIST[4])",
     SMSD_LINE_INIT_ERROR, "DEVICENOTEXIST", 4, 77, NULL, NULL},
    {"Mon 2026/12/07 09:10:11 gammu-smsd[77]: Error getting security status: Security error. Maybe no PIN? "
     "(SECURITYERROR[23])",
     SMSD_LINE_ERROR, "SECURITYERROR", 23, 77, NULL, NULL},
    {"Tue 2026/12/08 10:00:00 gammu-smsd[9]: Read 1 messages", SMSD_LINE_READ_MESSAGES, NULL, -1, 9, NULL, NULL},
    {"Tue 2026/12/08 10:00:00 gammu-smsd[9]: Received IN20261208_095958_00_+33612345678_00.txt", SMSD_LINE_RECEIVED,
     NULL, -1, 9, "IN20261208_095958_00_+33612345678_00.txt", NULL},
    {"Tue 2026/12/08 10:00:05 gammu-smsd[9]: Transmitted OUTC20261208_100004_00_+33612345678_sms0.txt to "
     "+33612345678, message reference 0x02",
     SMSD_LINE_TRANSMITTED, NULL, -1, 9, "OUTC20261208_100004_00_+33612345678_sms0.txt", "+33612345678"},
    {"Tue 2026/12/08 10:00:05 gammu-smsd[9]: Error sending SMS: No response in specified timeout. Probably phone "
     "not connected. (TIMEOUT[14])",
     SMSD_LINE_SEND_ERROR, "TIMEOUT", 14, 9, NULL, NULL},
    {"Tue 2026/12/08 10:00:05 gammu-smsd[9]: Error getting send status of message: No response in specified "
     "timeout. Probably phone not connected. (TIMEOUT[14])",
     SMSD_LINE_ERROR, "TIMEOUT", 14, 9, NULL, NULL},
    {"Tue 2026/12/08 10:00:05 gammu-smsd[9]: Soft reset return code: No error. (NONE[1])", SMSD_LINE_SOFT_RESET,
     "NONE", 1, 9, NULL, NULL},
    {"Tue 2026/12/08 10:00:09 gammu-smsd[9]: Stopping Gammu smsd: No error. (NONE[1])", SMSD_LINE_STOPPING, "NONE", 1,
     9, NULL, NULL},
    /* Journal form (-o cat): no prefix. */
    {"Error at init connection: No response in specified timeout. (TIMEOUT[14])", SMSD_LINE_INIT_ERROR, "TIMEOUT", 14,
     -1, NULL, NULL},
    {"Received IN20261208_095958_01_Vodafone_00.txt", SMSD_LINE_RECEIVED, NULL, -1, -1,
     "IN20261208_095958_01_Vodafone_00.txt", NULL},
    /* Translated text (German) must not matter. */
    {"Error at init connection: Keine Antwort in der angegebenen Zeit. (TIMEOUT[14])", SMSD_LINE_INIT_ERROR,
     "TIMEOUT", 14, -1, NULL, NULL},
    /* A later gammu's unknown name still counts as an error. */
    {"Error getting SMS: Something new. (SOMETHING_NEW[99])", SMSD_LINE_ERROR, "SOMETHING_NEW", 99, -1, NULL, NULL},
    /* Trailing blanks are fine; text after the closing paren is not an error tag. */
    {"Error getting SMS: x (TIMEOUT[14])   ", SMSD_LINE_ERROR, "TIMEOUT", 14, -1, NULL, NULL},
    {"Error getting SMS: x (TIMEOUT[14]) and more", SMSD_LINE_OTHER, NULL, -1, -1, NULL, NULL},
    /* Malformed tags. */
    {"(TIMEOUT[14])", SMSD_LINE_ERROR, "TIMEOUT", 14, -1, NULL, NULL},
    {"x (timeout[14])", SMSD_LINE_OTHER, NULL, -1, -1, NULL, NULL},
    {"x (TIMEOUT[])", SMSD_LINE_OTHER, NULL, -1, -1, NULL, NULL},
    {"x (TIMEOUT[1234567])", SMSD_LINE_OTHER, NULL, -1, -1, NULL, NULL},
    {"x TIMEOUT[14])", SMSD_LINE_OTHER, NULL, -1, -1, NULL, NULL},
    {"x (AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA[14])", SMSD_LINE_OTHER, NULL, -1, -1, NULL, NULL},
    {"", SMSD_LINE_OTHER, NULL, -1, -1, NULL, NULL},
    {"Read the manual", SMSD_LINE_OTHER, NULL, -1, -1, NULL, NULL},
    /* A broken prefix is treated as a bare message. */
    {"Sun 2026/12/06 18:00:01 gammu-smsd[42x]: Starting phone communication...", SMSD_LINE_OTHER, NULL, -1, -1, NULL,
     NULL},
};

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct line_case *c = &cases[i];
        struct smsd_line l;
        smsd_line_classify(c->line, strlen(c->line), &l);
        print_message("case %zu: %s\n", i, c->line);
        assert_int_equal(l.kind, c->kind);
        assert_int_equal(l.error_code, c->error_code);
        if (c->error_name)
            assert_string_equal(l.error_name, c->error_name);
        assert_int_equal(l.pid, c->pid);
        assert_int_equal(smsd_line_has_error(&l), c->error_code > 1 && c->kind != SMSD_LINE_TERMINATING);
        if (c->file) {
            assert_non_null(l.file.ptr);
            assert_int_equal(l.file.len, strlen(c->file));
            assert_memory_equal(l.file.ptr, c->file, l.file.len);
        } else {
            assert_null(l.file.ptr);
        }
        if (c->number) {
            assert_int_equal(l.number.len, strlen(c->number));
            assert_memory_equal(l.number.ptr, c->number, l.number.len);
        }
    }
}

/* Every name in gammu's table is recognised with its own number. */
static void test_every_gammu_error(void **state)
{
    (void)state;
    for (int i = 0; i < gammu_error_count(); i++) {
        const char *name = gammu_error_name_at(i);
        int code = gammu_error_code(name);
        char line[160];
        int n = snprintf(line, sizeof(line), "Error getting SMS: text. (%s[%d])", name, code);
        assert_true(n > 0 && (size_t)n < sizeof(line));
        struct smsd_line l;
        smsd_line_classify(line, (size_t)n, &l);
        assert_string_equal(l.error_name, name);
        assert_int_equal(l.error_code, code);
        assert_int_equal(smsd_line_has_error(&l), code > 1);
        assert_string_equal(gammu_error_name(code), name);
    }
    assert_int_equal(gammu_error_code("TIMEOUT"), 14);
    assert_int_equal(gammu_error_code("NOSIM"), 49);
    assert_int_equal(gammu_error_code("MEMORY_NOT_AVAILABLE"), 81);
    assert_int_equal(gammu_error_code("NOPE"), -1);
}

/* Lines that are not NUL-terminated at len must not be read past len. */
static void test_length_bound(void **state)
{
    (void)state;
    const char text[] = "Error at init connection: x (TIMEOUT[14])XXXX";
    struct smsd_line l;
    smsd_line_classify(text, strlen(text) - 4, &l);
    assert_int_equal(l.kind, SMSD_LINE_INIT_ERROR);
    assert_int_equal(l.error_code, 14);
    smsd_line_classify(text, 10, &l);
    assert_int_equal(l.error_code, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_every_gammu_error),
        cmocka_unit_test(test_length_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
