/* Table tests for MQTT request validation and the response document. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sms-sentinel/request.h"

struct row {
    enum request_kind kind;
    const char *payload;
    bool ok;
    const char *method;   /* when ok */
    const char *error;    /* substring when not ok */
    bool has_transaction; /* echoed even on errors */
};

static const struct row rows[] = {
    {REQUEST_RESET, "", true, "auto", NULL, false},
    {REQUEST_RESET, "{}", true, "auto", NULL, false},
    {REQUEST_RESET, "{\"method\":\"usbreset\",\"transaction\":42}\n", true, "usbreset", NULL, true},
    {REQUEST_RESET, "{\"method\":\"auto\",\"transaction\":\"abc\"}", true, "auto", NULL, true},
    {REQUEST_RESET, "{\"method\":\"reboot\",\"transaction\":1}", false, NULL, "unknown method 'reboot'", true},
    {REQUEST_RESET, "{\"method\":7}", false, NULL, "'method' must be a string", false},
    {REQUEST_RESET, "{\"metod\":\"auto\",\"transaction\":1}", false, NULL, "unknown field 'metod'", true},
    {REQUEST_RESET, "{\"method\":", false, NULL, "not valid JSON", false},
    {REQUEST_RESET, "[1,2]", false, NULL, "must be a JSON object", false},
    {REQUEST_RESET, "\"auto\"", false, NULL, "must be a JSON object", false},
    {REQUEST_RESET, "{} {}", false, NULL, "trailing data", false},
    {REQUEST_RESET, "{\"method\":\"\xff\"}", false, NULL, "not valid UTF-8", false},
    {REQUEST_RESET, "{\"method\":\"$(reboot)\"}", false, NULL, "unknown method", false},
    {REQUEST_RESTART_SMSD, "{\"transaction\":{\"a\":1}}", true, "auto", NULL, true},
    {REQUEST_RESTART_SMSD, "{\"method\":\"usbreset\"}", false, NULL, "unknown field 'method'", false},
    {REQUEST_HEALTH_CHECK, "", true, "auto", NULL, false},
};

static void test_rows(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const struct row *r = &rows[i];
        struct request req;
        json_object *t = NULL;
        char err[256] = "";
        print_message("row %zu: %s\n", i, r->payload);
        int rc = request_parse(r->kind, r->payload, strlen(r->payload), &req, &t, err, sizeof(err));
        assert_int_equal(rc == 0, r->ok);
        if (r->ok)
            assert_string_equal(req.method, r->method);
        else
            assert_non_null(strstr(err, r->error));
        assert_int_equal(t != NULL, r->has_transaction);
        json_object_put(t);
        request_clear(&req);
    }
}

static void test_oversize(void **state)
{
    (void)state;
    size_t len = 1024 * 1024;
    char *big = malloc(len);
    memset(big, ' ', len);
    big[0] = '{';
    big[len - 1] = '}';
    struct request req;
    json_object *t = NULL;
    char err[256];
    assert_int_equal(request_parse(REQUEST_RESET, big, len, &req, &t, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "larger than"));
    free(big);
}

static void test_kinds_and_response(void **state)
{
    (void)state;
    enum request_kind k;
    assert_int_equal(request_kind_from_name("reset", &k), 0);
    assert_int_equal(k, REQUEST_RESET);
    assert_int_equal(request_kind_from_name("restart_smsd", &k), 0);
    assert_int_equal(request_kind_from_name("reboot", &k), -1);
    json_object *t = json_object_new_int(7);
    json_object *ok = response_build(true, NULL, NULL, t);
    assert_string_equal(json_object_to_json_string_ext(ok, JSON_C_TO_STRING_PLAIN),
                        "{\"status\":\"ok\",\"data\":{},\"transaction\":7}");
    json_object *bad = response_build(false, NULL, "nope", NULL);
    assert_string_equal(json_object_to_json_string_ext(bad, JSON_C_TO_STRING_PLAIN),
                        "{\"status\":\"error\",\"data\":{},\"error\":\"nope\"}");
    json_object_put(ok);
    json_object_put(bad);
    json_object_put(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_oversize),
        cmocka_unit_test(test_kinds_and_response),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
