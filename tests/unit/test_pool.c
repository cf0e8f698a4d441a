/* Tests for pool mode's rules: when an agent belongs to the send pool (a table
 * over health, connection, outbox, modem and gammu-smsd) and the shared
 * subscription filter it joins with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sms-sentinel/pool.h"

struct membership_case {
    struct pool_facts facts;
    bool member;
    const char *why;
};

#define UP .configured = true, .connected = true, .outbox_known = true

static const struct membership_case membership_cases[] = {
    /* health decides, with everything else fine */
    {{UP, HEALTH_OK, TRI_YES, TRI_YES}, true, "healthy"},
    {{UP, HEALTH_DEGRADED, TRI_YES, TRI_YES}, true, "healthy"},
    {{UP, HEALTH_STARTING, TRI_YES, TRI_YES}, false, "health is not ok or degraded"},
    {{UP, HEALTH_RECOVERING, TRI_YES, TRI_YES}, false, "health is not ok or degraded"},
    {{UP, HEALTH_COOLDOWN, TRI_YES, TRI_YES}, false, "health is not ok or degraded"},
    {{UP, HEALTH_FAILED, TRI_YES, TRI_YES}, false, "health is not ok or degraded"},
    /* a missing modem or gammu-smsd keeps it out even while health still says ok
     * (recovery disabled, or before the probe turned it into a fault) */
    {{UP, HEALTH_OK, TRI_NO, TRI_YES}, false, "the modem is missing"},
    {{UP, HEALTH_OK, TRI_YES, TRI_NO}, false, "gammu-smsd is not running"},
    {{UP, HEALTH_DEGRADED, TRI_NO, TRI_NO}, false, "the modem is missing"},
    /* unknown is not missing (no pidfile or device configured) */
    {{UP, HEALTH_OK, TRI_UNKNOWN, TRI_UNKNOWN}, true, "healthy"},
    /* no pool, no broker, nowhere to queue */
    {{.configured = false, .connected = true, .outbox_known = true, HEALTH_OK, TRI_YES, TRI_YES}, false,
     "no pool configured"},
    {{.configured = true, .connected = false, .outbox_known = true, HEALTH_OK, TRI_YES, TRI_YES}, false,
     "not connected to the broker"},
    {{.configured = true, .connected = true, .outbox_known = false, HEALTH_OK, TRI_YES, TRI_YES}, false,
     "no outbox folder is known"},
    {{.configured = false, .connected = false, .outbox_known = false, HEALTH_FAILED, TRI_NO, TRI_NO}, false,
     "no pool configured"},
};

static void test_membership(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(membership_cases) / sizeof(membership_cases[0]); i++) {
        const struct membership_case *c = &membership_cases[i];
        const char *why = NULL;
        bool member = pool_member_wanted(&c->facts, &why);
        if (member != c->member || !why || strcmp(why, c->why) != 0)
            fail_msg("case %zu: got %d (%s), want %d (%s)", i, member, why ? why : "(null)", c->member, c->why);
        assert_int_equal(pool_member_wanted(&c->facts, NULL), c->member);
    }
}

/* Every health state is covered by the table, so a new state must be placed. */
static void test_every_state_decided(void **state)
{
    (void)state;
    for (int s = 0; s < HEALTH_STATE_COUNT; s++) {
        bool seen = false;
        for (size_t i = 0; i < sizeof(membership_cases) / sizeof(membership_cases[0]); i++)
            seen |= membership_cases[i].facts.health == (enum health_state)s && membership_cases[i].facts.configured &&
                    membership_cases[i].facts.modem_present == TRI_YES;
        if (!seen)
            fail_msg("health %s is not in the table", health_state_str((enum health_state)s));
    }
}

struct filter_case {
    const char *name;
    size_t size;
    int rc;
    const char *filter;
};

static const struct filter_case filter_cases[] = {
    {"fleet", 256, 0, "$share/fleet/sms-sentinel/pool/request/send_sms"},
    {"a_b-9", 256, 0, "$share/a_b-9/sms-sentinel/pool/request/send_sms"},
    {"", 256, -1, NULL},
    {NULL, 256, -1, NULL},
    {"a/b", 256, -1, NULL},
    {"+", 256, -1, NULL},
    {"#", 256, -1, NULL},
    {"fleet", 20, -1, NULL}, /* does not fit */
    {"fleet", sizeof("$share/fleet/" POOL_REQUEST_TOPIC), 0, "$share/fleet/sms-sentinel/pool/request/send_sms"},
    {"fleet", sizeof("$share/fleet/" POOL_REQUEST_TOPIC) - 1, -1, NULL},
};

static void test_share_filter(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(filter_cases) / sizeof(filter_cases[0]); i++) {
        const struct filter_case *c = &filter_cases[i];
        char buf[256];
        memset(buf, 'x', sizeof(buf));
        int rc = pool_share_filter(c->name, buf, c->size);
        if (rc != c->rc)
            fail_msg("case %zu (%s): rc %d, want %d", i, c->name ? c->name : "(null)", rc, c->rc);
        if (c->filter)
            assert_string_equal(buf, c->filter);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_membership),
        cmocka_unit_test(test_every_state_decided),
        cmocka_unit_test(test_share_filter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
