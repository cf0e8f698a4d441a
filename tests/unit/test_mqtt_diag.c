/* Table tests for mqtt_diag: each kind of failed broker connection gets a
 * sentence naming the cause and the key to fix; libmosquitto's error lines are
 * shortened to OpenSSL's reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "sms-sentinel/mqtt_diag.h"

struct row {
    struct mqtt_failure f;
    const char *want; /* a substring of the sentence */
    const char *not_want;
};

#define BASE .host = "127.0.0.1", .port = 8883 /* error defaults to "The connection was lost." */
#define USER .username = "sentinel", .password_file = "/etc/sms-sentinel/mqtt.pw"
#define TLS .tls_ca = "/etc/ssl/ca.crt"

static const struct row rows[] = {
    {{BASE, USER, .reason = 135, .reason_text = "Not authorized"},
     "broker 127.0.0.1:8883 refused the login of user 'sentinel': Not authorized (MQTT reason 135); "
     "check the password in /etc/sms-sentinel/mqtt.pw", NULL},
    {{BASE, USER, .reason = 134, .reason_text = "Bad user name or password"},
     "refused the login of user 'sentinel': Bad user name or password (MQTT reason 134)", NULL},
    {{BASE, .username = "u", .reason = 135, .reason_text = "Not authorized"}, "password_file (none set)", NULL},
    {{BASE, .reason = 135, .reason_text = "Not authorized"},
     "refused an anonymous login: Not authorized (MQTT reason 135); set username and password_file", NULL},
    {{BASE, USER, .reason = 133, .reason_text = "Client identifier not valid"},
     "refused the connection: Client identifier not valid (MQTT reason 133)", "password"},
    {{BASE, TLS, .tls_error = "certificate verify failed"},
     "TLS with 127.0.0.1:8883 failed: certificate verify failed; the broker's certificate is not signed by "
     "tls_ca /etc/ssl/ca.crt or does not name host 127.0.0.1", NULL},
    {{BASE, TLS, .tls_error = "tlsv13 alert certificate required"},
     "tlsv13 alert certificate required; the broker wants a client certificate: set tls_cert and tls_key", NULL},
    {{BASE, TLS, .tls_error = "sslv3 alert handshake failure"}, "set tls_cert and tls_key", NULL},
    {{BASE, TLS, .tls_cert = "/c.crt", .tls_error = "tlsv1 alert unknown ca"},
     "the broker rejected the client certificate /c.crt", "set tls_cert"},
    {{BASE, TLS, .tls_error = "wrong version number"}, "is that port a TLS listener?", NULL},
    {{BASE, TLS, .tls_error = "unexpected eof while reading"}, "is that port a TLS listener?", NULL},
    {{BASE, TLS, .tls_error = "Unable to load client key file \"/k\": key values mismatch"},
     "failed: Unable to load client key file \"/k\": key values mismatch", "hint"},
    {{BASE, TLS, .error = "Connection refused"}, "cannot connect to 127.0.0.1:8883 over TLS: Connection refused",
     "tls_cert"},
    {{BASE, TLS, .error = "Protocol error"},
     "over TLS: Protocol error before the broker answered; if its listener has require_certificate, set tls_cert "
     "and tls_key", NULL},
    {{BASE, TLS, .tls_cert = "/c.crt", .error = "Protocol error"}, "over TLS: Protocol error", "set tls_cert"},
    {{BASE, .error = "Connection refused"}, "cannot connect to 127.0.0.1:8883: Connection refused", "TLS"},
    /* a refusal wins over TLS text from the same attempt */
    {{BASE, TLS, USER, .reason = 135, .reason_text = "Not authorized", .tls_error = "x"}, "refused the login",
     "TLS with"},
};

static void test_describe_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char buf[512];
        struct mqtt_failure f = rows[i].f;
        if (!f.error)
            f.error = "The connection was lost.";
        assert_int_equal(mqtt_failure_describe(&f, buf, sizeof(buf)), 0);
        if (!strstr(buf, rows[i].want) || (rows[i].not_want && strstr(buf, rows[i].not_want)))
            fail_msg("row %zu: got \"%s\", want \"%s\"", i, buf, rows[i].want);
    }
}

static void test_describe_cut(void **state)
{
    (void)state;
    char buf[20];
    assert_int_equal(mqtt_failure_describe(&rows[0].f, buf, sizeof(buf)), -1);
    assert_int_equal(strlen(buf), sizeof(buf) - 1);
}

struct line_row {
    const char *lines[3];
    const char *want;
};

static const struct line_row line_rows[] = {
    {{"OpenSSL Error[0]: error:0A000086:SSL routines::certificate verify failed"}, "certificate verify failed"},
    {{"Error: Unable to load client key file \"/k\".",
      "OpenSSL Error[0]: error:05800074:x509 certificate routines::key values mismatch"},
     "Unable to load client key file \"/k\": key values mismatch"},
    {{"OpenSSL Error[0]: error:0A00045C:SSL routines::tlsv13 alert certificate required\n"},
     "tlsv13 alert certificate required"},
    {{"bell\a here"}, "bell? here"},
    {{"OpenSSL Error[0]:", "."}, "OpenSSL Error[0]:"}, /* nothing after the colon: kept whole */
};

static void test_lib_lines(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(line_rows) / sizeof(line_rows[0]); i++) {
        char buf[256] = "";
        for (int j = 0; j < 3 && line_rows[i].lines[j]; j++)
            mqtt_diag_add_lib_line(buf, sizeof(buf), line_rows[i].lines[j]);
        if (strcmp(buf, line_rows[i].want) != 0)
            fail_msg("row %zu: got \"%s\", want \"%s\"", i, buf, line_rows[i].want);
    }
}

static void test_lib_lines_full(void **state)
{
    (void)state;
    char buf[16] = "";
    for (int i = 0; i < 10; i++)
        mqtt_diag_add_lib_line(buf, sizeof(buf), "Error: a long line of text.");
    assert_int_equal(strlen(buf), sizeof(buf) - 1);
    assert_string_equal(buf, "a long line of ");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_describe_table),
        cmocka_unit_test(test_describe_cut),
        cmocka_unit_test(test_lib_lines),
        cmocka_unit_test(test_lib_lines_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
