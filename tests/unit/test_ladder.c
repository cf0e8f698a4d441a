/* Table tests for the recovery ladder: each scenario feeds inputs and checks
 * the action asked for, the phase, and step/final outcomes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sms-sentinel/ladder.h"

enum input { START, DONE_OK, DONE_FAIL, DONE_PAUSE, DEV_READY, DEV_MISSING, INIT, ERROR, TICK, ABORT, STOP };

struct step {
    enum input in;
    int64_t at_ms;
    enum ladder_do expect;
    enum ladder_phase phase;
    int step_end; /* 0 none, 1 ok, -1 failed */
};

struct scenario {
    const char *name;
    struct step steps[24];
    bool success;
    enum recovery_method final_method;
};

#define T(in, at, what, ph, end) {in, at, LADDER_DO_##what, LADDER_##ph, end}

static const struct scenario scenarios[] = {
    {"restart_smsd verified by the log", {
        T(START, 0, SMSD_RESTART, STARTING, 0),
        T(DONE_OK, 1000, NOTHING, VERIFYING, 0),
        T(INIT, 2000, NOTHING, VERIFYING, 0),
        T(TICK, 60999, NOTHING, VERIFYING, 0),
        T(TICK, 61000, FINISH, DONE, 1),
        {STOP, 0, 0, 0, 0}}, true, METHOD_RESTART_SMSD},
    {"an error during verify climbs to usbreset, which works", {
        T(START, 0, SMSD_RESTART, STARTING, 0),
        T(DONE_OK, 1000, NOTHING, VERIFYING, 0),
        T(INIT, 2000, NOTHING, VERIFYING, 0),
        T(ERROR, 5000, SMSD_STOP, STOPPING, -1),
        T(DONE_OK, 6000, METHOD_BEGIN, ACTING, 0),
        T(DONE_OK, 6100, METHOD_FINISH, FINISHING, 0),
        T(DONE_OK, 6200, CHECK_DEVICE, SETTLING, 0),
        T(DEV_MISSING, 6300, NOTHING, SETTLING, 0),
        T(TICK, 6800, CHECK_DEVICE, SETTLING, 0),
        T(DEV_READY, 6900, SMSD_START, STARTING, 0),
        T(DONE_OK, 7000, NOTHING, VERIFYING, 0),
        T(INIT, 7100, NOTHING, VERIFYING, 0),
        T(TICK, 67000, FINISH, DONE, 1),
        {STOP, 0, 0, 0, 0}}, true, METHOD_USBRESET},
    {"a reset that fails still starts gammu-smsd, then climbs", {
        T(START, 0, SMSD_RESTART, STARTING, 0),
        T(DONE_FAIL, 1000, SMSD_STOP, STOPPING, -1),
        T(DONE_FAIL, 2000, METHOD_BEGIN, ACTING, 0), /* a stop failure does not block the reset */
        T(DONE_FAIL, 2100, SMSD_START, STARTING, 0),
        T(DONE_OK, 3000, SMSD_STOP, STOPPING, -1),   /* usbreset failed; on to rebind */
        T(DONE_OK, 4000, METHOD_BEGIN, ACTING, 0),
        T(DONE_PAUSE, 4100, NOTHING, PAUSING, 0),
        T(TICK, 5000, NOTHING, PAUSING, 0),
        T(TICK, 5100, METHOD_FINISH, FINISHING, 0),
        T(DONE_OK, 5200, CHECK_DEVICE, SETTLING, 0),
        T(DEV_READY, 5300, SMSD_START, STARTING, 0),
        T(DONE_OK, 5400, NOTHING, VERIFYING, 0),
        T(TICK, 65400, SMSD_STOP, STOPPING, -1),     /* no "Starting phone communication": failed */
        {STOP, 0, 0, 0, 0}}, false, METHOD_AUTHORIZED},
    {"the device never returns within settle_timeout", {
        T(START, 0, SMSD_RESTART, STARTING, 0),
        T(DONE_FAIL, 1, SMSD_STOP, STOPPING, -1),
        T(DONE_OK, 2, METHOD_BEGIN, ACTING, 0),
        T(DONE_OK, 3, METHOD_FINISH, FINISHING, 0),
        T(DONE_OK, 4, CHECK_DEVICE, SETTLING, 0),
        T(DEV_MISSING, 29000, NOTHING, SETTLING, 0),
        T(TICK, 29500, CHECK_DEVICE, SETTLING, 0),
        T(DEV_MISSING, 30004, SMSD_START, STARTING, 0),
        T(DONE_OK, 31000, SMSD_STOP, STOPPING, -1),
        {STOP, 0, 0, 0, 0}}, false, METHOD_REBIND},
    {"SIM PIN aborts at once", {
        T(START, 0, SMSD_RESTART, STARTING, 0),
        T(DONE_OK, 1000, NOTHING, VERIFYING, 0),
        T(ABORT, 2000, FINISH, DONE, -1),
        T(TICK, 70000, NOTHING, DONE, 0),
        {STOP, 0, 0, 0, 0}}, false, METHOD_RESTART_SMSD},
};

static struct ladder_action feed(struct ladder *l, const struct ladder_policy *p, const struct step *s)
{
    switch (s->in) {
    case START: return ladder_start(l, p, NULL, s->at_ms);
    case DONE_OK: return ladder_on_done(l, true, NULL, 0, s->at_ms);
    case DONE_FAIL: return ladder_on_done(l, false, "failed", 0, s->at_ms);
    case DONE_PAUSE: return ladder_on_done(l, true, NULL, 1000, s->at_ms);
    case DEV_READY: return ladder_on_device(l, true, s->at_ms);
    case DEV_MISSING: return ladder_on_device(l, false, s->at_ms);
    case INIT: ladder_on_init_start(l); return ladder_on_tick(l, s->at_ms);
    case ERROR: return ladder_on_counted_error(l, s->at_ms);
    case TICK: return ladder_on_tick(l, s->at_ms);
    case ABORT: return ladder_abort(l, "SIM needs PIN", s->at_ms);
    case STOP: break;
    }
    fail();
    return ladder_on_tick(l, 0);
}

static void test_scenarios(void **state)
{
    (void)state;
    struct ladder_policy p = {
        {METHOD_RESTART_SMSD, METHOD_USBRESET, METHOD_REBIND, METHOD_AUTHORIZED}, 4, 30000, 60000};
    for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
        const struct scenario *sc = &scenarios[i];
        struct ladder l;
        print_message("scenario: %s\n", sc->name);
        for (int k = 0; sc->steps[k].in != STOP; k++) {
            const struct step *s = &sc->steps[k];
            struct ladder_action a = feed(&l, &p, s);
            print_message("  %d: do %d phase %s\n", k, a.what, ladder_phase_str(l.phase));
            assert_int_equal(a.what, s->expect);
            assert_int_equal(l.phase, s->phase);
            assert_int_equal(a.step_ended ? (a.step_ok ? 1 : -1) : 0, s->step_end);
        }
        if (l.phase == LADDER_DONE) {
            assert_int_equal(l.success, sc->success);
            assert_int_equal(l.final_method, sc->final_method);
        } else {
            assert_false(sc->success);
            assert_int_equal(l.policy.methods[l.step], sc->final_method);
        }
    }
}

static void test_single_method_and_exhaustion(void **state)
{
    (void)state;
    struct ladder_policy p = {{METHOD_RESTART_SMSD, METHOD_USBRESET}, 2, 1000, 1000};
    struct ladder l;
    enum recovery_method only = METHOD_USBRESET;
    struct ladder_action a = ladder_start(&l, &p, &only, 0);
    assert_int_equal(a.what, LADDER_DO_SMSD_STOP);
    assert_int_equal(a.method, METHOD_USBRESET);
    ladder_on_done(&l, true, NULL, 0, 1);
    a = ladder_on_done(&l, false, "EACCES", 0, 2);
    assert_int_equal(a.what, LADDER_DO_SMSD_START);
    a = ladder_on_done(&l, true, NULL, 0, 3);
    assert_int_equal(a.what, LADDER_DO_FINISH);
    assert_false(l.success);
    assert_string_equal(l.final_reason, "EACCES");

    /* Climbing past the last method ends in failure. */
    struct ladder_policy one = {{METHOD_RESTART_SMSD}, 1, 1000, 1000};
    ladder_start(&l, &one, NULL, 0);
    a = ladder_on_done(&l, false, "no restart_command", 0, 1);
    assert_int_equal(a.what, LADDER_DO_FINISH);
    assert_string_equal(l.final_reason, "every method failed");

    struct ladder_policy none = {{METHOD_RESTART_SMSD}, 0, 1000, 1000};
    a = ladder_start(&l, &none, NULL, 0);
    assert_int_equal(a.what, LADDER_DO_FINISH);
    assert_false(ladder_running(&l));
}

static void test_names(void **state)
{
    (void)state;
    for (int i = 0; i < RECOVERY_METHOD_COUNT; i++) {
        enum recovery_method m;
        assert_int_equal(recovery_method_from_str(recovery_method_str((enum recovery_method)i), &m), 0);
        assert_int_equal(m, i);
    }
    enum recovery_method m;
    assert_int_equal(recovery_method_from_str("reboot", &m), -1);
}

/* A gammu-smsd hung in a TIMEOUT gets SIGKILL after a short grace, not 10 s. */
static void test_stop_grace(void **state)
{
    (void)state;
    static const struct {
        bool hung;
        int64_t grace_ms;
    } rows[] = {
        {false, LADDER_STOP_GRACE_MS},
        {true, LADDER_HUNG_GRACE_MS},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        assert_int_equal(ladder_stop_grace_ms(rows[i].hung), rows[i].grace_ms);
    assert_true(LADDER_HUNG_GRACE_MS <= 2000);
    assert_true(LADDER_HUNG_GRACE_MS < LADDER_STOP_GRACE_MS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scenarios),
        cmocka_unit_test(test_single_method_and_exhaustion),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_stop_grace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
