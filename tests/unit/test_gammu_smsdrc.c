/* Unit tests of gammu_smsdrc: reading gammu-smsd's config the way gammu does
 * (Debian's default file, a files-backend file, case, CRLF, first section wins,
 * last key wins) and the doctor's findings, one table row per finding. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sms-sentinel/gammu_smsdrc.h"

#define FIX FIXTURES_DIR "/config/"

static struct gammu_smsdrc *read_fixture(const char *name)
{
    char path[512], err[256] = "";
    snprintf(path, sizeof(path), FIX "%s", name);
    struct gammu_smsdrc *rc = gammu_smsdrc_read(path, err, sizeof(err));
    if (!rc)
        print_message("%s: %s\n", path, err);
    assert_non_null(rc);
    return rc;
}

static struct gammu_smsdrc *parse(const char *text)
{
    struct gammu_smsdrc *rc = gammu_smsdrc_parse_string(text, strlen(text), "t.rc");
    assert_non_null(rc);
    return rc;
}

static void assert_str_or_null(const char *got, const char *want)
{
    if (!want)
        assert_null(got);
    else
        assert_string_equal(got ? got : "(null)", want);
}

static void test_debian_default(void **state)
{
    (void)state;
    struct gammu_smsdrc *rc = read_fixture("gammu-smsdrc.debian");
    assert_string_equal(rc->path, FIX "gammu-smsdrc.debian");
    assert_string_equal(rc->device, "/dev/null"); /* given as "port" */
    assert_string_equal(rc->connection, "at");
    assert_string_equal(rc->service, "files");
    assert_string_equal(rc->logfile, "syslog");
    assert_string_equal(rc->inbox, "/var/spool/gammu/inbox/");
    assert_string_equal(rc->outbox, "/var/spool/gammu/outbox/");
    assert_string_equal(rc->sent, "/var/spool/gammu/sent/");
    assert_string_equal(rc->error, "/var/spool/gammu/error/");
    assert_null(rc->inbox_format);
    assert_null(rc->outbox_format);
    assert_null(rc->transmit_format);
    assert_int_equal(rc->debug_level, 0);
    assert_int_equal(rc->bad_line, 0);
    assert_int_equal(rc->comment_line, 0);
    gammu_smsdrc_free(rc);
}

static void test_files_backend(void **state)
{
    (void)state;
    struct gammu_smsdrc *rc = read_fixture("gammu-smsdrc.files");
    assert_string_equal(rc->device, "/dev/serial/by-id/usb-ZTE_Incorporated_ZTE_WCDMA_Technologies_MSM-if02-port0");
    assert_string_equal(rc->logfile, "/var/log/gammu-smsd.log");
    assert_string_equal(rc->inbox_format, "standard");
    assert_string_equal(rc->outbox_format, "detail");
    assert_string_equal(rc->transmit_format, "auto");
    assert_int_equal(rc->debug_level, 1);
    assert_int_equal(rc->bad_line, 0);
    gammu_smsdrc_free(rc);
}

static void test_mixed_case_crlf(void **state)
{
    (void)state;
    struct gammu_smsdrc *rc = read_fixture("gammu-smsdrc.mixedcase");
    assert_string_equal(rc->device, "/dev/ttyUSB2"); /* device wins over port */
    assert_string_equal(rc->connection, "at115200");
    assert_string_equal(rc->service, "FILES");
    assert_string_equal(rc->logfile, "/var/log/smsd-last.log"); /* last value wins; 2nd [smsd] ignored */
    assert_string_equal(rc->inbox, "/spool/in/");
    assert_null(rc->sent);
    assert_string_equal(rc->inbox_format, "Unicode");
    gammu_smsdrc_free(rc);
}

struct parse_row {
    const char *text;
    const char *device, *logfile, *inbox;
    int bad_line, comment_line;
};

static const struct parse_row parse_rows[] = {
    {"", NULL, NULL, NULL, 0, 0},
    {"device = /d\n", NULL, NULL, NULL, 0, 0}, /* outside any section */
    {"[gammu]\nport = /p\ndevice = /d\n", "/d", NULL, NULL, 0, 0},
    {"[gammu]\ndevice = /d\nport = /p\n", "/d", NULL, NULL, 0, 0},
    {"[gammu]\ndevice = /a\ndevice = /b\n", "/b", NULL, NULL, 0, 0},
    {"[gammu]\ndevice =\n", NULL, NULL, NULL, 0, 0}, /* gammu drops empty values */
    {"[gammu]\ndevice = /a\n[gammu]\ndevice = /b\n", "/a", NULL, NULL, 0, 0},
    {"[gammu1]\ndevice = /a\n", NULL, NULL, NULL, 0, 0},
    {"[smsd]\nlogfile = /l # kept\n", NULL, "/l # kept", NULL, 0, 0},
    {"[smsd]\nlogfile = /l ; note\n", NULL, "/l", NULL, 0, 2},
    {"[smsd]\nlogfile: /l\ninboxpath = /i\n", NULL, NULL, "/i", 2, 0},
    {"[smsd]\njust words\n", NULL, NULL, NULL, 2, 0},
    {"[smsd\nlogfile = /l\n", NULL, NULL, NULL, 1, 0},
    {"[smsd]\n= /x\n", NULL, NULL, NULL, 2, 0},
    {"\xEF\xBB\xBF[smsd]\nlogfile = /bom\n", NULL, "/bom", NULL, 0, 0},
    {"  [smsd]\n\tlogfile = /indented\n", NULL, "/indented", NULL, 0, 0},
    {"[smsd]\r\nLOGFILE = /crlf\r\n", NULL, "/crlf", NULL, 0, 0},
    {"[include_numbers]\nnumber1 = +33\nwords here\n[smsd]\ninboxpath = /i\n", NULL, NULL, "/i", 0, 0},
    {"[gammu]\n# device = /commented\n; device = /also\n", NULL, NULL, NULL, 0, 0},
};

static void test_parse_rows(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(parse_rows) / sizeof(parse_rows[0]); i++) {
        const struct parse_row *r = &parse_rows[i];
        struct gammu_smsdrc *rc = parse(r->text);
        assert_str_or_null(rc->device, r->device);
        assert_str_or_null(rc->logfile, r->logfile);
        assert_str_or_null(rc->inbox, r->inbox);
        assert_int_equal(rc->bad_line, r->bad_line);
        assert_int_equal(rc->comment_line, r->comment_line);
        gammu_smsdrc_free(rc);
    }
}

static void test_long_line(void **state)
{
    (void)state;
    char text[1024];
    char value[400];
    memset(value, 'x', sizeof(value) - 1);
    value[sizeof(value) - 1] = '\0';
    snprintf(text, sizeof(text), "[smsd]\ninboxpath = /%s\noutboxpath = /o\n", value);
    struct gammu_smsdrc *rc = parse(text);
    assert_null(rc->inbox);
    assert_string_equal(rc->outbox, "/o");
    assert_int_equal(rc->bad_line, 2);
    gammu_smsdrc_free(rc);
}

static void test_debuglevel(void **state)
{
    (void)state;
    struct gammu_smsdrc *rc = parse("[smsd]\ndebuglevel = 255\n");
    assert_int_equal(rc->debug_level, 255);
    gammu_smsdrc_free(rc);
    rc = parse("[smsd]\ndebuglevel = 99999999999999999999\n");
    assert_int_equal(rc->debug_level, 1000);
    gammu_smsdrc_free(rc);
    rc = parse("[smsd]\ndebuglevel = -3\n");
    assert_int_equal(rc->debug_level, 0);
    gammu_smsdrc_free(rc);
}

static void test_read_errors(void **state)
{
    (void)state;
    char err[128];
    errno = 0;
    assert_null(gammu_smsdrc_read("/nonexistent/gammu-smsdrc", err, sizeof(err)));
    assert_int_equal(errno, ENOENT);
    assert_string_equal(err, "No such file or directory");
    assert_null(gammu_smsdrc_read(FIXTURES_DIR, err, sizeof(err)));
    assert_string_equal(err, "not a regular file");
    char tiny[4];
    assert_null(gammu_smsdrc_read("/nonexistent", tiny, sizeof(tiny)));
    assert_string_equal(tiny, "No ");
    assert_null(gammu_smsdrc_read("/nonexistent", NULL, 0));
    gammu_smsdrc_free(NULL);
}

/* ---- the doctor ---- */

static char *doctor(const struct gammu_smsdrc *rc, const struct doctor_facts *facts, int *warnings)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    *warnings = gammu_smsdrc_doctor(rc, facts, f);
    fclose(f);
    return buf;
}

static int count_lines(const char *out, const char *prefix)
{
    int n = 0;
    size_t len = strlen(prefix);
    for (const char *s = out; s && *s; s = strchr(s, '\n'), s = s ? s + 1 : NULL)
        if (strncmp(s, prefix, len) == 0)
            n++;
    return n;
}

struct doctor_row {
    const char *text;
    bool modemmanager, utf8;
    const char *finding; /* a line of the report starts with this */
};

#define GOOD_RC                                                                                  \
    "[gammu]\ndevice = /dev/serial/by-id/usb-x\n[smsd]\nservice = files\nlogfile = syslog\n"     \
    "transmitformat = auto\n"

static const struct doctor_row doctor_rows[] = {
    {GOOD_RC, false, true, "ok: service = files"},
    {GOOD_RC, false, true, "ok: logfile = syslog: followed through the journal"},
    {GOOD_RC, false, true, "ok: device = /dev/serial/by-id/usb-x"},
    {GOOD_RC, false, true, "ok: transmitformat = auto"},
    {GOOD_RC, false, true, "ok: inboxformat = standard with a UTF-8 locale"},
    {GOOD_RC, false, true, "ok: ModemManager is not running"},
    {GOOD_RC, true, true, "warning: ModemManager is running: it probes and locks the modem port (DEVICEOPENERROR)"},
    {GOOD_RC, false, false, "warning: inboxformat = standard (not set) writes text in gammu-smsd's locale"},
    {GOOD_RC "inboxformat = standard\n", false, false, "warning: inboxformat = standard writes text"},
    {GOOD_RC "inboxformat = unicode\n", false, true, "warning: inboxformat = unicode is broken in gammu 1.42"},
    {GOOD_RC "inboxformat = detail\n", false, false, "ok: inboxformat = detail"},
    {"[smsd]\ntransmitformat = 7bit\n", false, true, "warning: transmitformat = 7bit: 7bit mangles text"},
    {"[smsd]\n", false, true, "warning: transmitformat = 7bit (not set): 7bit mangles text"},
    {"[smsd]\ntransmitformat = 8bit\n", false, true, "warning: transmitformat = 8bit: 7bit mangles"},
    {"[smsd]\ntransmitformat = unicode\n", false, true, "ok: transmitformat = unicode"},
    {"[gammu]\ndevice = /dev/ttyUSB0\n", false, true, "warning: device = /dev/ttyUSB0: tty numbers change"},
    {"[gammu]\ndevice = /dev/ttyACM3\n", false, true, "warning: device = /dev/ttyACM3: tty numbers change"},
    {"[gammu]\ndevice = /dev/ttyS0\n", false, true, "ok: device = /dev/ttyS0"},
    {"[gammu]\nport = /dev/null\n", false, true, "warning: device = /dev/null: the modem is not configured yet"},
    {"[gammu]\n", false, true, "warning: [gammu] device is not set"},
    {"[smsd]\n", false, true, "warning: [smsd] logfile is not set: gammu-smsd then logs to stderr only"},
    {"[smsd]\nlogfile = /var/log/g.log\n", false, true, "ok: logfile = /var/log/g.log: followed as a file"},
    {"[smsd]\nlogfile = SysLog\n", false, true, "ok: logfile = SysLog: followed as a file"}, /* as gammu reads it */
    {"[smsd]\nlogfile = stderr\n", false, true, "warning: logfile = stderr: sms-sentinel cannot follow it"},
    {"[smsd]\n", false, true, "warning: [smsd] service is not set"},
    {"[smsd]\nservice = sql\n", false, true, "warning: service = sql: the inbox/outbox spool"},
    {"[smsd]\nservice = Files\n", false, true, "ok: service = files"},
    {"[smsd]\nlogfile: x\n", false, true, "warning: t.rc:2: gammu-smsd does not understand this line"},
    {"[smsd]\nlogfile = x ; y\n", false, true, "warning: t.rc:2: gammu-smsd keeps \"; ...\" after a value"},
};

static void test_doctor_rows(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(doctor_rows) / sizeof(doctor_rows[0]); i++) {
        const struct doctor_row *r = &doctor_rows[i];
        struct gammu_smsdrc *rc = parse(r->text);
        struct doctor_facts facts = {.modemmanager_running = r->modemmanager, .service_locale_utf8 = r->utf8};
        int warnings;
        char *out = doctor(rc, &facts, &warnings);
        char needle[256];
        snprintf(needle, sizeof(needle), "\n%s", r->finding);
        bool found = strncmp(out, r->finding, strlen(r->finding)) == 0 || strstr(out, needle);
        if (!found)
            print_message("row %zu: want '%s' in:\n%s", i, r->finding, out);
        assert_true(found);
        assert_int_equal(warnings, count_lines(out, "warning: "));
        free(out);
        gammu_smsdrc_free(rc);
    }
}

static void test_doctor_counts(void **state)
{
    (void)state;
    struct doctor_facts facts = {.service_locale_utf8 = true};
    int warnings;
    struct gammu_smsdrc *rc = read_fixture("gammu-smsdrc.files");
    char *out = doctor(rc, &facts, &warnings);
    assert_int_equal(warnings, 0);
    assert_int_equal(count_lines(out, "ok: "), 6);
    free(out);
    gammu_smsdrc_free(rc);

    /* Debian's default: /dev/null, no transmitformat; the C locale of a unit. */
    facts.service_locale_utf8 = false;
    rc = read_fixture("gammu-smsdrc.debian");
    out = doctor(rc, &facts, &warnings);
    assert_int_equal(warnings, 3);
    free(out);
    gammu_smsdrc_free(rc);

    /* Everything wrong at once. */
    facts.modemmanager_running = true;
    rc = read_fixture("gammu-smsdrc.pitfalls");
    out = doctor(rc, &facts, &warnings);
    /* ModemManager, service sql, no logfile (the "logfile:" line is not gammu's),
     * ttyACM0, 8bit, unicode inbox, the bad line and the comment line. */
    assert_int_equal(warnings, 8);
    assert_non_null(strstr(out, "gammu-smsdrc.pitfalls:10: gammu-smsd does not understand"));
    assert_non_null(strstr(out, "gammu-smsdrc.pitfalls:2: gammu-smsd keeps"));
    free(out);
    gammu_smsdrc_free(rc);
}

static void test_doctor_without_rc(void **state)
{
    (void)state;
    int warnings;
    char *out = doctor(NULL, NULL, &warnings);
    assert_int_equal(warnings, 1);
    assert_non_null(strstr(out, "warning: gammu-smsdrc could not be read"));
    free(out);
    struct doctor_facts facts = {.modemmanager_running = true};
    out = doctor(NULL, &facts, &warnings);
    assert_int_equal(warnings, 2);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_debian_default),  cmocka_unit_test(test_files_backend),
        cmocka_unit_test(test_mixed_case_crlf), cmocka_unit_test(test_parse_rows),
        cmocka_unit_test(test_long_line),       cmocka_unit_test(test_debuglevel),
        cmocka_unit_test(test_read_errors),     cmocka_unit_test(test_doctor_rows),
        cmocka_unit_test(test_doctor_counts),   cmocka_unit_test(test_doctor_without_rc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
