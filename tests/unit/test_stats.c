/* Tests for counters, their JSON round trip (what survives a restart), the
 * state snapshot fields and the atomic state file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sms-sentinel/fsutil.h"
#include "sms-sentinel/snapshot.h"
#include "sms-sentinel/state_store.h"
#include "sms-sentinel/stats.h"

static void fill(struct stats *s)
{
    stats_init(s);
    const char msg[] = "Error at init connection: x\x1b[31m (TIMEOUT[14])";
    stats_count_error(s, "TIMEOUT", 14, msg, sizeof(msg) - 1, "2026-12-06T18:00:00+00:00");
    stats_count_error(s, "TIMEOUT", 14, msg, sizeof(msg) - 1, "2026-12-06T18:01:00+00:00");
    stats_count_error(s, "NOSIM", 49, "no sim", 6, "2026-12-06T18:02:00+00:00");
    stats_record_reset(s, "usbreset", "2026-12-06T18:03:00+00:00", "recovered", 1234);
    s->sms_received = 7;
    s->sms_sent = 3;
    s->sms_failed = 1;
}

static void test_count(void **state)
{
    (void)state;
    struct stats s;
    fill(&s);
    assert_int_equal(s.errors_total, 3);
    assert_int_equal(stats_error_count(&s, "TIMEOUT"), 2);
    assert_int_equal(stats_error_count(&s, "NOSIM"), 1);
    assert_int_equal(stats_error_count(&s, "EMPTY"), 0);
    assert_string_equal(s.last_error.name, "NOSIM");
    assert_int_equal(s.last_error.code, 49);
    assert_int_equal(s.resets_total, 1);
    assert_string_equal(s.last_reset.method, "usbreset");
    /* Control bytes never reach a message. */
    struct stats t;
    stats_init(&t);
    stats_count_error(&t, "TIMEOUT", 14, "a\x1b\nb", 4, "now");
    assert_string_equal(t.last_error.message, "a??b");
}

static void test_roundtrip(void **state)
{
    (void)state;
    struct stats s, r;
    fill(&s);
    json_object *o = json_object_new_object();
    stats_add_to_json(&s, o);
    json_object *parsed = json_tokener_parse(json_object_to_json_string(o));
    stats_init(&r);
    assert_int_equal(stats_from_json(&r, parsed), 8);
    assert_int_equal(r.errors_total, 3);
    assert_int_equal(stats_error_count(&r, "TIMEOUT"), 2);
    assert_int_equal(r.resets_total, 1);
    assert_int_equal(r.sms_received, 7);
    assert_int_equal(r.sms_sent, 3);
    assert_int_equal(r.sms_failed, 1);
    assert_string_equal(r.last_error.name, "NOSIM");
    assert_string_equal(r.last_error.at, "2026-12-06T18:02:00+00:00");
    assert_string_equal(r.last_reset.result, "recovered");
    assert_int_equal(r.last_reset.duration_ms, 1234);
    json_object_put(o);
    json_object_put(parsed);
}

/* A damaged file restores what it can and nothing else. */
static void test_restore_tolerates_junk(void **state)
{
    (void)state;
    struct stats r;
    stats_init(&r);
    json_object *o = json_tokener_parse(
        "{\"errors_total\":\"x\",\"errors\":{\"TIMEOUT\":-3,\"NOSIM\":2,\"X\":[]},\"sms_sent\":5,"
        "\"last_error\":7,\"last_reset\":{\"method\":1}}");
    assert_non_null(o);
    assert_int_equal(stats_from_json(&r, o), 2);
    assert_int_equal(r.errors_total, 0);
    assert_int_equal(stats_error_count(&r, "NOSIM"), 2);
    assert_int_equal(stats_error_count(&r, "TIMEOUT"), 0);
    assert_int_equal(r.sms_sent, 5);
    assert_false(r.last_error.set);
    assert_false(r.last_reset.set);
    json_object_put(o);
}

static json_object *get(json_object *o, const char *key)
{
    json_object *v = NULL;
    assert_true(json_object_object_get_ex(o, key, &v));
    return v;
}

static void test_snapshot_fields(void **state)
{
    (void)state;
    struct stats s;
    fill(&s);
    struct snapshot_facts f = {
        .health = HEALTH_DEGRADED, .health_reason = "r", .since = "2026-12-06T18:00:00+00:00",
        .started_at = "2026-12-06T17:00:00+00:00", .uptime_s = 3600, .modem_present = TRI_YES,
        .smsd_running = TRI_UNKNOWN, .signal_percent = -1, .network = NULL, .outbox_depth = 2, .pid = 42,
        .node_id = "pi",
    };
    json_object *o = snapshot_build(&f, &s);
    const char *required[] = {"health", "modem_present", "smsd_running", "signal_percent", "network",
                              "errors_total", "errors", "last_error", "resets_total", "last_reset",
                              "sms_received", "sms_sent", "sms_failed", "outbox_depth", "since",
                              "uptime_s", "version"};
    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
        get(o, required[i]);
    assert_string_equal(json_object_get_string(get(o, "health")), "degraded");
    assert_true(json_object_get_boolean(get(o, "modem_present")));
    assert_null(get(o, "smsd_running"));
    assert_null(get(o, "signal_percent"));
    assert_int_equal(json_object_get_int(get(o, "outbox_depth")), 2);
    assert_string_equal(json_object_get_string(get(get(o, "last_error"), "name")), "NOSIM");
    json_object_put(o);
}

static void test_state_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/sms-sentinel-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char sub[256];
    snprintf(sub, sizeof(sub), "%s/a/b", dir);
    int err = 0;
    char msg[256];
    assert_null(state_store_load(sub, &err, msg, sizeof(msg)));
    assert_int_equal(err, ENOENT);
    json_object *o = json_tokener_parse("{\"errors_total\":9}");
    assert_int_equal(state_store_save(sub, o), 0);
    json_object *back = state_store_load(sub, &err, msg, sizeof(msg));
    assert_non_null(back);
    assert_int_equal(json_object_get_int(get(back, "errors_total")), 9);
    /* No temp file is left behind. */
    char tmp[300];
    snprintf(tmp, sizeof(tmp), "%s/.state.json.tmp", sub);
    assert_int_not_equal(access(tmp, F_OK), 0);
    /* Garbage is reported, not crashed on. */
    char path[300];
    snprintf(path, sizeof(path), "%s/state.json", sub);
    FILE *f = fopen(path, "w");
    fputs("{not json", f);
    fclose(f);
    assert_null(state_store_load(sub, &err, msg, sizeof(msg)));
    assert_int_equal(err, EINVAL);
    json_object_put(o);
    json_object_put(back);
    unlink(path);
    rmdir(sub);
    snprintf(sub, sizeof(sub), "%s/a", dir);
    rmdir(sub);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_count),
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_restore_tolerates_junk),
        cmocka_unit_test(test_snapshot_fields),
        cmocka_unit_test(test_state_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
