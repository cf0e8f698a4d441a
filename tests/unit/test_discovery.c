/* Table tests for the Home Assistant discovery builder: the exact entity list,
 * the rules HA enforces on every payload (taken from Home Assistant's MQTT
 * platform code and sensor/__init__.py, see ha-discovery/README.md), the notify
 * entity following default_recipients, discovery = no, and the device facts
 * read from a fake sysfs tree. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../fixtures/usb/fake_sysfs.h"
#include "sms-sentinel/config.h"
#include "sms-sentinel/device_facts.h"
#include "sms-sentinel/discovery.h"
#include "sms-sentinel/health.h"

#define BASE_CONF                                                                                                      \
    "[agent]\nnode_id = pi-1\nstate_dir = /tmp/sms-sentinel-test-discovery\n"                                          \
    "[smsd]\nconfig = /nonexistent/gammu-smsdrc\nlogfile = /tmp/x.log\ndevice = /dev/ttyUSB0\n"                        \
    "inbox = /tmp/in\noutbox = /tmp/out\nsent = /tmp/sent\nerror = /tmp/err\n"                                         \
    "[mqtt]\nhost = localhost\nbase_topic = house/sms\n"

static struct config *load(const char *extra)
{
    char text[PATH_MAX + 2048];
    int n = snprintf(text, sizeof(text), "%s%s", BASE_CONF, extra);
    assert_true(n > 0 && (size_t)n < sizeof(text));
    struct config_errors errs = {0};
    struct config *cfg = config_load_string(text, strlen(text), "t.conf", "host", &errs);
    if (!cfg)
        config_errors_print(&errs, stderr);
    config_errors_clear(&errs);
    assert_non_null(cfg);
    return cfg;
}

static const char *get_str(json_object *o, const char *key)
{
    json_object *v;
    if (!json_object_object_get_ex(o, key, &v))
        return NULL;
    assert_true(json_object_is_type(v, json_type_string));
    return json_object_get_string(v);
}

static json_object *get(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static bool in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

/* ---- the entity list, exactly ---- */

struct expected {
    const char *topic;
    const char *device_class, *state_class, *unit, *entity_category;
};

static const struct expected expected[] = {
    {"homeassistant/sensor/pi-1/health/config", "enum", NULL, NULL, NULL},
    {"homeassistant/sensor/pi-1/signal/config", NULL, "measurement", "%", NULL},
    {"homeassistant/sensor/pi-1/network/config", NULL, NULL, NULL, "diagnostic"},
    {"homeassistant/sensor/pi-1/errors_total/config", NULL, "total_increasing", NULL, "diagnostic"},
    {"homeassistant/sensor/pi-1/last_error/config", NULL, NULL, NULL, "diagnostic"},
    {"homeassistant/sensor/pi-1/resets_total/config", NULL, "total_increasing", NULL, "diagnostic"},
    {"homeassistant/sensor/pi-1/last_reset/config", "timestamp", NULL, NULL, "diagnostic"},
    {"homeassistant/sensor/pi-1/sms_received/config", NULL, "total_increasing", NULL, NULL},
    {"homeassistant/sensor/pi-1/sms_sent/config", NULL, "total_increasing", NULL, NULL},
    {"homeassistant/sensor/pi-1/sms_failed/config", NULL, "total_increasing", NULL, NULL},
    {"homeassistant/binary_sensor/pi-1/modem_connected/config", "connectivity", NULL, NULL, NULL},
    {"homeassistant/binary_sensor/pi-1/smsd_running/config", "running", NULL, NULL, "diagnostic"},
    {"homeassistant/binary_sensor/pi-1/problem/config", "problem", NULL, NULL, NULL},
    {"homeassistant/button/pi-1/reset_modem/config", "restart", NULL, NULL, NULL},
    {"homeassistant/button/pi-1/restart_smsd/config", "restart", NULL, NULL, "config"},
    {"homeassistant/event/pi-1/incoming_sms/config", NULL, NULL, NULL, NULL},
    {"homeassistant/notify/pi-1/send_sms/config", NULL, NULL, NULL, NULL},
};
#define N_EXPECTED (sizeof(expected) / sizeof(expected[0]))

static void assert_str_or_null(const char *got, const char *want, const char *what)
{
    if (!want) {
        if (got)
            fail_msg("%s: unexpected '%s'", what, got);
        return;
    }
    if (!got || strcmp(got, want) != 0)
        fail_msg("%s: got '%s', want '%s'", what, got ? got : "(none)", want);
}

static void test_entity_table(void **state)
{
    (void)state;
    struct config *cfg = load("[sms]\ndefault_recipients = +33612345678\n");
    struct discovery_set set;
    char err[256];
    assert_int_equal(discovery_build(cfg, NULL, &set, err, sizeof(err)), 0);
    assert_int_equal(set.count, (int)N_EXPECTED);
    for (size_t i = 0; i < N_EXPECTED; i++) {
        print_message("%s\n", expected[i].topic);
        assert_string_equal(set.items[i].topic, expected[i].topic);
        json_object *p = set.items[i].payload;
        assert_str_or_null(get_str(p, "device_class"), expected[i].device_class, "device_class");
        assert_str_or_null(get_str(p, "state_class"), expected[i].state_class, "state_class");
        assert_str_or_null(get_str(p, "unit_of_measurement"), expected[i].unit, "unit");
        assert_str_or_null(get_str(p, "entity_category"), expected[i].entity_category, "entity_category");
    }
    discovery_set_clear(&set);
    config_free(cfg);
}

/* ---- HA's rules on every payload ---- */

/* Sensor device classes HA ties to units (SensorDeviceClass docs and
 * DEVICE_CLASS_UNITS), for the few that could ever apply to us. */
struct unit_rule {
    const char *device_class;
    const char *const *units; /* NULL: must have no unit */
};
static const char *const signal_units[] = {"dB", "dBm", NULL};
static const char *const battery_units[] = {"%", NULL};
static const char *const duration_units[] = {"d", "h", "min", "s", "ms", NULL};
static const struct unit_rule unit_rules[] = {
    {"signal_strength", signal_units}, {"battery", battery_units}, {"duration", duration_units},
    {"timestamp", NULL},               {"enum", NULL},             {"date", NULL},
};

static const char *const components[] = {"sensor", "binary_sensor", "button", "event", "notify", NULL};
static const char *const state_classes[] = {"measurement", "total", "total_increasing", NULL};
static const char *const categories[] = {"config", "diagnostic", NULL};
static const char *const binary_classes[] = {"connectivity", "problem", "running", NULL};
static const char *const button_classes[] = {"identify", "restart", "update", NULL};

static void check_unit_rule(json_object *p)
{
    const char *dc = get_str(p, "device_class");
    const char *unit = get_str(p, "unit_of_measurement");
    if (!dc)
        return;
    for (size_t i = 0; i < sizeof(unit_rules) / sizeof(unit_rules[0]); i++) {
        if (strcmp(dc, unit_rules[i].device_class) != 0)
            continue;
        if (!unit_rules[i].units)
            assert_null(unit);
        else
            assert_true(unit && in_list(unit, unit_rules[i].units));
        return;
    }
}

static void check_sensor(json_object *p)
{
    const char *dc = get_str(p, "device_class");
    const char *sc = get_str(p, "state_class");
    const char *cat = get_str(p, "entity_category");
    assert_non_null(get_str(p, "state_topic"));
    assert_non_null(get_str(p, "value_template"));
    if (sc)
        assert_true(in_list(sc, state_classes));
    /* HA refuses a sensor with entity_category config. */
    assert_false(cat && strcmp(cat, "config") == 0);
    if (dc && (strcmp(dc, "timestamp") == 0 || strcmp(dc, "enum") == 0 || strcmp(dc, "date") == 0)) {
        assert_null(sc);
        assert_null(get_str(p, "unit_of_measurement"));
    }
    json_object *options = get(p, "options");
    if (dc && strcmp(dc, "enum") == 0)
        assert_true(options && json_object_array_length(options) > 0);
    else
        assert_null(options); /* HA: options only with device_class enum */
    check_unit_rule(p);
}

static void check_component(const char *component, json_object *p)
{
    const char *dc = get_str(p, "device_class");
    if (strcmp(component, "sensor") == 0) {
        check_sensor(p);
    } else if (strcmp(component, "binary_sensor") == 0) {
        assert_non_null(get_str(p, "state_topic"));
        assert_true(!dc || in_list(dc, binary_classes));
    } else if (strcmp(component, "button") == 0) {
        assert_non_null(get_str(p, "command_topic"));
        assert_non_null(get_str(p, "payload_press"));
        assert_true(!dc || in_list(dc, button_classes));
    } else if (strcmp(component, "event") == 0) {
        json_object *types = get(p, "event_types");
        assert_non_null(get_str(p, "state_topic"));
        assert_true(types && json_object_array_length(types) > 0);
        assert_non_null(strstr(get_str(p, "value_template"), "'event_type'"));
    } else if (strcmp(component, "notify") == 0) {
        assert_non_null(get_str(p, "command_topic"));
        /* The message is JSON-escaped by HA's to_json filter, never pasted in. */
        assert_non_null(strstr(get_str(p, "command_template"), "| to_json"));
    }
}

static void check_common(const struct discovery_message *m, json_object *first_device)
{
    json_object *p = m->payload;
    char component[32], node[32], object_id[64];
    assert_int_equal(sscanf(m->topic, "homeassistant/%31[^/]/%31[^/]/%63[^/]/config", component, node, object_id), 3);
    assert_true(in_list(component, components));
    assert_string_equal(node, "pi-1");
    char want_uid[160];
    snprintf(want_uid, sizeof(want_uid), "sms-sentinel_pi-1_%s", object_id);
    assert_string_equal(get_str(p, "unique_id"), want_uid);
    assert_non_null(get_str(p, "name"));
    const char *eid = get_str(p, "default_entity_id");
    assert_non_null(eid);
    assert_int_equal(strncmp(eid, component, strlen(component)), 0);
    assert_int_equal(strspn(eid + strlen(component) + 1, "abcdefghijklmnopqrstuvwxyz0123456789_"),
                     strlen(eid) - strlen(component) - 1);
    assert_string_equal(get_str(p, "availability_topic"), "house/sms/availability");
    assert_string_equal(get_str(p, "payload_available"), "online");
    assert_string_equal(get_str(p, "payload_not_available"), "offline");
    const char *cat = get_str(p, "entity_category");
    assert_true(!cat || in_list(cat, categories));
    json_object *origin = get(p, "origin");
    assert_non_null(origin);
    assert_string_equal(get_str(origin, "name"), "sms-sentinel");
    assert_string_equal(get_str(origin, "sw_version"), SMS_VERSION);
    json_object *device = get(p, "device");
    assert_non_null(device);
    json_object *ids = get(device, "identifiers");
    assert_true(ids && json_object_array_length(ids) == 1);
    assert_string_equal(json_object_get_string(json_object_array_get_idx(ids, 0)), "sms-sentinel_pi-1");
    assert_string_equal(get_str(device, "sw_version"), SMS_VERSION);
    assert_true(json_object_equal(device, first_device));
    /* Nothing retained may ever be sent to a request topic. */
    assert_null(get(p, "retain"));
    check_component(component, p);
}

static void test_rules(void **state)
{
    (void)state;
    struct config *cfg = load("[sms]\ndefault_recipients = +33612345678 +33687654321\n");
    struct discovery_device dev = {"ZTE,Incorporated", "ZTE WCDMA Technologies MSM", "19d2:0031"};
    struct discovery_set set;
    char err[256];
    assert_int_equal(discovery_build(cfg, &dev, &set, err, sizeof(err)), 0);
    assert_true(set.count > 0);
    json_object *first_device = get(set.items[0].payload, "device");
    for (int i = 0; i < set.count; i++) {
        print_message("rules: %s\n", set.items[i].topic);
        check_common(&set.items[i], first_device);
        for (int j = 0; j < i; j++) {
            assert_string_not_equal(set.items[i].topic, set.items[j].topic);
            assert_string_not_equal(get_str(set.items[i].payload, "unique_id"),
                                    get_str(set.items[j].payload, "unique_id"));
        }
        size_t len = 0;
        const char *text = discovery_payload_text(&set.items[i], &len);
        assert_int_equal(strlen(text), len);
        assert_null(strstr(text, "\\/")); /* topics stay readable */
    }
    discovery_set_clear(&set);
    config_free(cfg);
}

static void test_health_options(void **state)
{
    (void)state;
    struct config *cfg = load("");
    struct discovery_set set;
    char err[256];
    assert_int_equal(discovery_build(cfg, NULL, &set, err, sizeof(err)), 0);
    json_object *options = get(set.items[0].payload, "options");
    assert_int_equal(json_object_array_length(options), HEALTH_STATE_COUNT);
    static const char *const six[] = {"starting", "ok", "degraded", "recovering", "cooldown", "failed"};
    assert_int_equal(HEALTH_STATE_COUNT, 6);
    for (int s = 0; s < HEALTH_STATE_COUNT; s++)
        assert_string_equal(json_object_get_string(json_object_array_get_idx(options, (size_t)s)), six[s]);
    discovery_set_clear(&set);
    config_free(cfg);
}

/* ---- what depends on the config ---- */

struct config_row {
    const char *extra;
    int count;
    bool notify;
};

static const struct config_row config_rows[] = {
    {"", (int)N_EXPECTED - 1, false},
    {"[sms]\ndefault_recipients = +33612345678\n", (int)N_EXPECTED, true},
    {"[homeassistant]\ndiscovery = no\n[sms]\ndefault_recipients = +33612345678\n", 0, false},
    {"[homeassistant]\ndiscovery_prefix = ha/test\n", (int)N_EXPECTED - 1, false},
};

static void test_config_rows(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(config_rows) / sizeof(config_rows[0]); i++) {
        print_message("row %zu\n", i);
        struct config *cfg = load(config_rows[i].extra);
        struct discovery_set set;
        char err[256];
        assert_int_equal(discovery_build(cfg, NULL, &set, err, sizeof(err)), 0);
        assert_int_equal(set.count, config_rows[i].count);
        char notify[DISCOVERY_TOPIC_SIZE];
        snprintf(notify, sizeof(notify), "%s/notify/pi-1/send_sms/config", cfg->discovery_prefix);
        assert_int_equal(discovery_set_has(&set, notify), config_rows[i].notify);
        for (int j = 0; j < set.count; j++)
            assert_int_equal(strncmp(set.items[j].topic, cfg->discovery_prefix, strlen(cfg->discovery_prefix)), 0);
        char status[DISCOVERY_TOPIC_SIZE];
        assert_int_equal(discovery_status_topic(cfg, status, sizeof(status)), 0);
        assert_int_equal(strncmp(status, cfg->discovery_prefix, strlen(cfg->discovery_prefix)), 0);
        assert_string_equal(status + strlen(cfg->discovery_prefix), "/status");
        discovery_set_clear(&set);
        config_free(cfg);
    }
}

static void test_bad_levels(void **state)
{
    (void)state;
    static const char *const bad_nodes[] = {"a/b", "a+b", "", "x#"};
    for (size_t i = 0; i < sizeof(bad_nodes) / sizeof(bad_nodes[0]); i++) {
        struct config *cfg = load("");
        free(cfg->node_id);
        cfg->node_id = strdup(bad_nodes[i]);
        struct discovery_set set;
        char err[256] = "";
        assert_int_equal(discovery_build(cfg, NULL, &set, err, sizeof(err)), -1);
        assert_int_equal(set.count, 0);
        assert_true(strlen(err) > 0);
        config_free(cfg);
    }
}

static void test_device_facts_in_payload(void **state)
{
    (void)state;
    struct config *cfg = load("");
    struct discovery_device unknown = {"", "", ""};
    struct discovery_device known = {"ZTE,Incorporated", "ZTE WCDMA Technologies MSM", "19d2:0031"};
    struct discovery_set set;
    char err[256];
    assert_int_equal(discovery_build(cfg, &unknown, &set, err, sizeof(err)), 0);
    json_object *d = get(set.items[0].payload, "device");
    assert_null(get(d, "manufacturer"));
    assert_null(get(d, "model"));
    assert_null(get(d, "model_id"));
    discovery_set_clear(&set);
    assert_int_equal(discovery_build(cfg, &known, &set, err, sizeof(err)), 0);
    d = get(set.items[3].payload, "device");
    assert_string_equal(get_str(d, "manufacturer"), "ZTE,Incorporated");
    assert_string_equal(get_str(d, "model"), "ZTE WCDMA Technologies MSM");
    assert_string_equal(get_str(d, "model_id"), "19d2:0031");
    assert_string_equal(get_str(d, "name"), "SMS sentinel pi-1");
    discovery_set_clear(&set);
    config_free(cfg);
}

/* device_facts_read against a fake sysfs tree (real files). */
static void test_device_facts_read(void **state)
{
    (void)state;
    struct fake_sysfs f;
    fake_sysfs_init(&f);
    fake_put(f.sys, FAKE_PCI "/usb1/1-1/1-1.2/manufacturer", "ZTE,Incorporated\n");
    fake_put(f.sys, FAKE_PCI "/usb1/1-1/1-1.2/product", "ZTE WCDMA \x1b[31mTechnologies MSM\n");
    char extra[PATH_MAX + 128];
    fake_fmt(extra, sizeof(extra), "[recovery]\nusb_device = 19d2:0031\nsysfs_root = %s\n", f.sys);
    struct config *cfg = load(extra);
    struct discovery_device dev;
    assert_int_equal(device_facts_read(cfg, &dev), 0);
    assert_string_equal(dev.manufacturer, "ZTE,Incorporated");
    assert_string_equal(dev.model, "ZTE WCDMA ?[31mTechnologies MSM"); /* control bytes cleaned */
    assert_string_equal(dev.model_id, "19d2:0031");
    config_free(cfg);

    fake_fmt(extra, sizeof(extra), "[recovery]\nusb_device = 12d1:1001\nsysfs_root = %s\n", f.sys);
    cfg = load(extra);
    assert_int_equal(device_facts_read(cfg, &dev), -1);
    assert_string_equal(dev.model_id, "");
    assert_string_equal(dev.manufacturer, "");
    config_free(cfg);
    fake_sysfs_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entity_table),    cmocka_unit_test(test_rules),
        cmocka_unit_test(test_health_options),  cmocka_unit_test(test_config_rows),
        cmocka_unit_test(test_bad_levels),      cmocka_unit_test(test_device_facts_in_payload),
        cmocka_unit_test(test_device_facts_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
