/* The classifier over real gammu-smsd 1.42 logs (tests/fixtures/gammu-logs,
 * recorded on the emulator): per scenario, the errors counted by name and the
 * lines that matter (init, received, transmitted), at both debug levels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sms-sentinel/smsd_line.h"

#define MAX_NAMES 4

struct expect {
    const char *scenario;
    struct {
        const char *name;
        int count;
    } errors[MAX_NAMES]; /* every counted error, exactly */
    int init, received, transmitted;
};

static const struct expect expects[] = {
    {"start-stop", {{NULL, 0}}, 1, 0, 0},
    {"sms-received", {{NULL, 0}}, 1, 7, 0},
    {"sms-sent", {{NULL, 0}}, 1, 0, 3},
    {"hang-idle", {{"TIMEOUT", 4}}, 3, 1, 0},
    {"hang-poll", {{"TIMEOUT", 3}}, 2, 1, 0},
    {"hang-after-send", {{"TIMEOUT", 5}}, 3, 0, 1},
    {"hang-during-send", {{"TIMEOUT", 1}}, 1, 0, 1},
    {"unplug-replug", {{"DEVICEWRITEERROR", 3}, {"DEVICENOTEXIST", 2}}, 4, 1, 0},
    {"nosim-running", {{"NOSIM", 4}}, 3, 1, 0},
    {"nosim-at-start", {{"NOSIM", 4}}, 4, 0, 0},
    {"device-missing", {{"DEVICENOTEXIST", 6}}, 6, 0, 0},
    {"device-busy", {{"DEVICEOPENERROR", 1}}, 1, 0, 0},
    {"device-not-tty", {{"DEVICEOPENERROR", 1}}, 1, 0, 0},
};

struct tally {
    char names[16][32];
    int counts[16];
    int n;
    int kinds[SMSD_LINE_KIND_COUNT];
};

static void count_line(struct tally *t, const char *line, size_t len)
{
    struct smsd_line l;
    smsd_line_classify(line, len, &l);
    t->kinds[l.kind]++;
    assert_true(l.pid > 0); /* every file line has the prefix */
    if (!smsd_line_has_error(&l))
        return;
    for (int i = 0; i < t->n; i++) {
        if (strcmp(t->names[i], l.error_name) == 0) {
            t->counts[i]++;
            return;
        }
    }
    assert_true(t->n < 16);
    strcpy(t->names[t->n], l.error_name);
    t->counts[t->n++] = 1;
}

static void tally_file(const char *path, struct tally *t)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    memset(t, 0, sizeof(*t));
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            line[--n] = '\0';
        if (n > 0)
            count_line(t, line, (size_t)n);
    }
    free(line);
    fclose(f);
}

static void check(const struct expect *e, const struct tally *t)
{
    int expected_names = 0;
    for (int i = 0; i < MAX_NAMES && e->errors[i].name; i++) {
        expected_names++;
        bool found = false;
        for (int k = 0; k < t->n; k++) {
            if (strcmp(t->names[k], e->errors[i].name) == 0) {
                assert_int_equal(t->counts[k], e->errors[i].count);
                found = true;
            }
        }
        assert_true(found);
    }
    assert_int_equal(t->n, expected_names);
    assert_int_equal(t->kinds[SMSD_LINE_INIT_START], e->init);
    assert_int_equal(t->kinds[SMSD_LINE_RECEIVED], e->received);
    assert_int_equal(t->kinds[SMSD_LINE_TRANSMITTED], e->transmitted);
}

static void test_fixtures(void **state)
{
    (void)state;
    const char *levels[] = {"dl0", "dl1"};
    for (size_t i = 0; i < sizeof(expects) / sizeof(expects[0]); i++) {
        for (size_t k = 0; k < 2; k++) {
            char path[512];
            snprintf(path, sizeof(path), "%s/gammu-logs/%s.%s.log", FIXTURES_DIR, expects[i].scenario, levels[k]);
            print_message("%s\n", path);
            struct tally t;
            tally_file(path, &t);
            check(&expects[i], &t);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_fixtures)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
