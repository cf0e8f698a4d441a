/* Table tests for the health state machine: each scenario is a list of steps
 * (an input at a time) with the state and action expected after it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sms-sentinel/health.h"

enum op { ERR, UNCOUNTED, SECURITY, GOOD, TICK, DONE_OK, DONE_FAIL, MANUAL, END };

struct step {
    enum op op;
    int64_t at_s;
    enum health_state state;
    enum health_action action;
};

struct scenario {
    const char *name;
    bool recovery_enabled;
    struct step steps[20];
};

#define S(op, t, st, act) {op, t, HEALTH_##st, HEALTH_ACTION_##act}

static const struct scenario scenarios[] = {
    {"grace period makes a quiet start ok", true,
     {S(TICK, 10, STARTING, NONE), S(TICK, 120, OK, NONE), {END, 0, 0, 0}}},
    {"a good sign makes start ok at once", true, {S(GOOD, 1, OK, NONE), {END, 0, 0, 0}}},
    {"one error degrades, the window heals", true,
     {S(GOOD, 1, OK, NONE), S(ERR, 10, DEGRADED, NONE), S(TICK, 100, DEGRADED, NONE), S(TICK, 130, OK, NONE),
      {END, 0, 0, 0}}},
    {"threshold within window recovers", true,
     {S(GOOD, 1, OK, NONE), S(ERR, 10, DEGRADED, NONE), S(ERR, 20, DEGRADED, NONE), S(ERR, 30, RECOVERING, RECOVER),
      S(ERR, 31, RECOVERING, NONE), S(DONE_OK, 40, COOLDOWN, NONE), S(TICK, 99, COOLDOWN, NONE),
      S(TICK, 100, OK, NONE), {END, 0, 0, 0}}},
    {"errors spread wider than the window do not recover", true,
     {S(ERR, 0, DEGRADED, NONE), S(ERR, 100, DEGRADED, NONE), S(ERR, 200, DEGRADED, NONE),
      S(ERR, 300, DEGRADED, NONE), {END, 0, 0, 0}}},
    {"uncounted errors degrade but never recover", true,
     {S(UNCOUNTED, 1, DEGRADED, NONE), S(UNCOUNTED, 2, DEGRADED, NONE), S(UNCOUNTED, 3, DEGRADED, NONE),
      S(UNCOUNTED, 4, DEGRADED, NONE), {END, 0, 0, 0}}},
    {"errors during cooldown recover again after it", true,
     {S(ERR, 1, DEGRADED, NONE), S(ERR, 2, DEGRADED, NONE), S(ERR, 3, RECOVERING, RECOVER),
      S(DONE_FAIL, 10, COOLDOWN, NONE), S(ERR, 20, COOLDOWN, NONE), S(ERR, 30, COOLDOWN, NONE),
      S(ERR, 40, COOLDOWN, NONE), S(TICK, 70, RECOVERING, RECOVER), {END, 0, 0, 0}}},
    {"some errors after cooldown leave it degraded", true,
     {S(ERR, 1, DEGRADED, NONE), S(ERR, 2, DEGRADED, NONE), S(ERR, 3, RECOVERING, RECOVER),
      S(DONE_OK, 10, COOLDOWN, NONE), S(ERR, 20, COOLDOWN, NONE), S(TICK, 70, DEGRADED, NONE),
      S(TICK, 140, OK, NONE), {END, 0, 0, 0}}},
    {"recovery disabled: threshold only degrades", false,
     {S(ERR, 1, DEGRADED, NONE), S(ERR, 2, DEGRADED, NONE), S(ERR, 3, DEGRADED, NONE), S(ERR, 4, DEGRADED, NONE),
      {END, 0, 0, 0}}},
    {"SECURITYERROR fails at once and is never retried", true,
     {S(SECURITY, 1, FAILED, ALERT), S(ERR, 2, FAILED, NONE), S(ERR, 3, FAILED, NONE), S(ERR, 4, FAILED, NONE),
      S(TICK, 7200, FAILED, NONE), S(MANUAL, 7300, RECOVERING, RECOVER), {END, 0, 0, 0}}},
    {"manual recovery is refused while one runs", true,
     {S(MANUAL, 1, RECOVERING, RECOVER), S(MANUAL, 2, RECOVERING, NONE), S(DONE_OK, 3, COOLDOWN, NONE),
      S(MANUAL, 4, RECOVERING, RECOVER), {END, 0, 0, 0}}},
};

/* max_per_hour = 2 with errors every few seconds: the third try fails. */
static const struct scenario rate_limit = {
    "max_per_hour ends in failed, a healthy hour heals", true,
    {S(ERR, 0, DEGRADED, NONE), S(ERR, 1, DEGRADED, NONE), S(ERR, 2, RECOVERING, RECOVER),
     S(DONE_FAIL, 5, COOLDOWN, NONE), S(TICK, 66, OK, NONE), S(ERR, 70, DEGRADED, NONE), S(ERR, 71, DEGRADED, NONE),
     S(ERR, 72, RECOVERING, RECOVER), S(DONE_FAIL, 75, COOLDOWN, NONE), S(TICK, 136, OK, NONE), S(ERR, 140, DEGRADED, NONE),
     S(ERR, 141, DEGRADED, NONE), S(ERR, 142, FAILED, ALERT), S(ERR, 150, FAILED, NONE), S(TICK, 3700, FAILED, NONE),
     S(TICK, 3750, OK, NONE), {END, 0, 0, 0}}};

static struct health_transition apply(struct health *h, enum op op, int64_t now)
{
    switch (op) {
    case ERR: return health_on_error(h, true, false, now);
    case UNCOUNTED: return health_on_error(h, false, false, now);
    case SECURITY: return health_on_error(h, true, true, now);
    case GOOD: return health_on_good_sign(h, now);
    case TICK: return health_on_tick(h, now);
    case DONE_OK: return health_recovery_finished(h, true, now);
    case DONE_FAIL: return health_recovery_finished(h, false, now);
    case MANUAL: return health_request_recovery(h, now);
    case END: break;
    }
    fail();
    return health_on_tick(h, now);
}

static void run_scenario(const struct scenario *sc, int max_per_hour)
{
    struct health_policy p = {
        .recovery_enabled = sc->recovery_enabled, .threshold = 3, .window_ms = 120000,
        .cooldown_ms = 60000, .max_per_hour = max_per_hour, .startup_grace_ms = 120000,
    };
    struct health h;
    health_init(&h, &p, 0);
    print_message("scenario: %s\n", sc->name);
    for (int i = 0; sc->steps[i].op != END; i++) {
        const struct step *st = &sc->steps[i];
        struct health_transition t = apply(&h, st->op, st->at_s * 1000);
        print_message("  step %d at %llds -> %s\n", i, (long long)st->at_s, health_state_str(h.state));
        assert_int_equal(h.state, st->state);
        assert_int_equal(t.action, st->action);
        assert_int_equal(t.to, h.state);
        if (t.changed)
            assert_non_null(t.reason);
    }
}

static void test_scenarios(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
        run_scenario(&scenarios[i], 6);
}

static void test_rate_limit(void **state)
{
    (void)state;
    run_scenario(&rate_limit, 2);
}

static void test_deadlines(void **state)
{
    (void)state;
    struct health_policy p = {true, 3, 120000, 60000, 6, 30000};
    struct health h;
    health_init(&h, &p, 1000);
    assert_int_equal(health_next_deadline_ms(&h), 31000);
    health_on_good_sign(&h, 2000);
    assert_int_equal(health_next_deadline_ms(&h), INT64_MAX);
    health_on_error(&h, true, false, 5000);
    assert_int_equal(health_next_deadline_ms(&h), 125000);
    assert_int_equal(health_errors_in_window(&h, 6000), 1);
    assert_int_equal(health_errors_in_window(&h, 125000), 0);
    health_request_recovery(&h, 7000);
    assert_int_equal(health_next_deadline_ms(&h), INT64_MAX);
    health_recovery_finished(&h, true, 8000);
    assert_int_equal(health_next_deadline_ms(&h), 68000);
}

static void test_fault(void **state)
{
    (void)state;
    struct health_policy p = {true, 3, 120000, 60000, 1, 30000};
    struct health h;
    health_init(&h, &p, 0);
    struct health_transition t = health_on_fault(&h, "gammu-smsd is not running", 1000);
    assert_int_equal(t.action, HEALTH_ACTION_RECOVER);
    assert_string_equal(t.reason, "gammu-smsd is not running");
    /* A second fault while recovering or cooling down changes nothing. */
    t = health_on_fault(&h, "again", 2000);
    assert_int_equal(t.action, HEALTH_ACTION_NONE);
    health_recovery_finished(&h, false, 3000);
    t = health_on_fault(&h, "again", 4000);
    assert_int_equal(t.action, HEALTH_ACTION_NONE);
    health_on_tick(&h, 63000);
    assert_int_equal(h.state, HEALTH_OK);
    /* max_per_hour = 1 is used up: the next fault ends in failed. */
    t = health_on_fault(&h, "again", 64000);
    assert_int_equal(t.action, HEALTH_ACTION_ALERT);
    assert_int_equal(h.state, HEALTH_FAILED);
}

static void test_names(void **state)
{
    (void)state;
    const char *names[] = {"starting", "ok", "degraded", "recovering", "cooldown", "failed"};
    for (int i = 0; i < HEALTH_STATE_COUNT; i++) {
        enum health_state s;
        assert_string_equal(health_state_str((enum health_state)i), names[i]);
        assert_int_equal(health_state_from_str(names[i], &s), 0);
        assert_int_equal(s, i);
    }
    enum health_state s;
    assert_int_equal(health_state_from_str("fine", &s), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenarios),
        cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_deadlines),
        cmocka_unit_test(test_fault),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
