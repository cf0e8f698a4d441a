/* Unit tests of config: the key table's defaults, every kind of bad value, the
 * "FILE:LINE: message" of every problem, file quirks (BOM, CRLF, inline comments,
 * long lines), the merge with gammu-smsdrc, config_print and config_doctor. Most
 * tests are rows of a table: add a case by adding a row. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "sms-sentinel/config.h"
#include "sms-sentinel/gammu_smsdrc.h"
#include "sms-sentinel/log.h"

#define FIX FIXTURES_DIR "/config/"
#define HOST "Pi-Host.local"

/* Appended to rows that do not test [smsd]: no gammu-smsdrc is read. */
static const char paths_block[] = "\n[smsd]\nconfig = /nonexistent/gammu-smsdrc\ndevice = /dev/ttyX\n"
                                  "logfile = syslog\ninbox = /in\noutbox = /out\n";

static struct config *load_text(const char *text, struct config_errors *errs)
{
    return config_load_string(text, strlen(text), "test.conf", HOST, errs);
}

static struct config *load_with_paths(const char *text, struct config_errors *errs)
{
    size_t n = strlen(text) + sizeof(paths_block);
    char *all = malloc(n);
    assert_non_null(all);
    snprintf(all, n, "%s%s", text, paths_block);
    struct config *cfg = load_text(all, errs);
    free(all);
    return cfg;
}

static void dump_errors(const char *what, const struct config_errors *errs)
{
    print_message("for %s\n", what);
    for (int i = 0; i < errs->count; i++)
        print_message("  %s:%d: %s\n", errs->items[i].file, errs->items[i].line, errs->items[i].message);
}

static struct config *load_ok(const char *text)
{
    struct config_errors errs = {0};
    struct config *cfg = load_with_paths(text, &errs);
    if (!cfg || errs.count)
        dump_errors(text, &errs);
    assert_non_null(cfg);
    assert_int_equal(errs.count, 0);
    config_errors_clear(&errs);
    return cfg;
}

/* The value part of "key = value    ; comment" lines of config_print. */
static char *printed_value(const struct config *cfg, const char *section, const char *key)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    config_print(cfg, f);
    fclose(f);
    char header[64], *result = NULL;
    snprintf(header, sizeof(header), "\n[%s]\n", section);
    char *s = strstr(buf, header);
    assert_non_null(s);
    s += strlen(header);
    size_t klen = strlen(key);
    for (char *line = s; *line && *line != '['; line = strchr(line, '\n') + 1) {
        char *end = strchr(line, '\n');
        if (strncmp(line, key, klen) == 0 && strncmp(line + klen, " = ", 3) == 0) {
            char *v = line + klen + 3;
            char *cut = strstr(v, " ;");
            size_t n = (size_t)((cut && cut < end ? cut : end) - v);
            while (n > 0 && v[n - 1] == ' ')
                n--;
            result = strndup(v, n);
            break;
        }
        if (!end)
            break;
    }
    free(buf);
    return result;
}

static void assert_printed(const struct config *cfg, const char *section, const char *key, const char *want)
{
    char *got = printed_value(cfg, section, key);
    if (!got || strcmp(got, want) != 0)
        print_message("[%s] %s: want '%s', got '%s'\n", section, key, want, got ? got : "(missing)");
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

/* ---- defaults ---- */

static void test_defaults(void **state)
{
    (void)state;
    struct config *cfg = load_ok("");
    assert_string_equal(cfg->source_path, "test.conf");
    assert_string_equal(cfg->node_id, "pi-host_local");
    assert_string_equal(cfg->state_dir, "/var/lib/sms-sentinel");
    assert_string_equal(cfg->log_level, "info");
    assert_string_equal(cfg->smsd_config, "/nonexistent/gammu-smsdrc");
    assert_string_equal(cfg->pidfile, "/run/gammu-smsd.pid");
    assert_int_equal(cfg->start_command.argc, 3);
    assert_string_equal(cfg->start_command.argv[0], "systemctl");
    assert_string_equal(cfg->start_command.argv[1], "start");
    assert_string_equal(cfg->start_command.argv[2], "gammu-smsd");
    assert_null(cfg->start_command.argv[3]);
    assert_string_equal(cfg->stop_command.argv[1], "stop");
    assert_string_equal(cfg->restart_command.argv[1], "restart");
    assert_string_equal(cfg->mqtt_host, "localhost");
    assert_int_equal(cfg->mqtt_port, 1883);
    assert_string_equal(cfg->mqtt_username, "");
    assert_string_equal(cfg->mqtt_password_file, "");
    assert_string_equal(cfg->tls_ca, "");
    assert_string_equal(cfg->tls_cert, "");
    assert_string_equal(cfg->tls_key, "");
    assert_string_equal(cfg->client_id, "sms-sentinel-pi-host_local");
    assert_string_equal(cfg->base_topic, "sms-sentinel/pi-host_local");
    assert_int_equal(cfg->mqtt_qos, 1);
    assert_int_equal(cfg->keepalive, 30);
    assert_string_equal(cfg->pool, "");
    assert_true(cfg->discovery);
    assert_string_equal(cfg->discovery_prefix, "homeassistant");
    assert_true(cfg->recovery_enabled);
    const char *errors[] = {"TIMEOUT", "DEVICEOPENERROR", "DEVICENOTEXIST", "DEVICEWRITEERROR",
                            "DEVICEREADERROR", "INVALIDLOCATION", "NOSIM"};
    assert_int_equal(cfg->recovery_errors.count, 7);
    for (int i = 0; i < 7; i++)
        assert_string_equal(cfg->recovery_errors.items[i], errors[i]);
    assert_int_equal(cfg->threshold, 3);
    assert_int_equal(cfg->window_s, 120);
    const char *methods[] = {"restart_smsd", "usbreset", "rebind", "authorized"};
    assert_int_equal(cfg->methods.count, 4);
    for (int i = 0; i < 4; i++)
        assert_string_equal(cfg->methods.items[i], methods[i]);
    assert_string_equal(cfg->usb_device, "auto");
    assert_string_equal(cfg->sysfs_root, "/sys");
    assert_int_equal(cfg->settle_timeout_s, 30);
    assert_int_equal(cfg->verify_timeout_s, 60);
    assert_int_equal(cfg->cooldown_s, 60);
    assert_int_equal(cfg->max_resets_per_hour, 6);
    assert_int_equal(cfg->recovery_command.argc, 0);
    assert_null(cfg->recovery_command.argv[0]);
    assert_int_equal(cfg->default_recipients.count, 0);
    assert_int_equal(cfg->allowed_recipients.count, 0);
    assert_int_equal(cfg->max_parts, 6);
    assert_int_equal(cfg->max_sms_per_hour, 60);
    assert_string_equal(cfg->forward_mail, "");
    assert_string_equal(cfg->sendmail, "/usr/sbin/sendmail");
    assert_string_equal(cfg->own_number, "");
    assert_int_equal(cfg->probe_interval_s, 21600);
    assert_false(cfg->probe_after_send);
    assert_int_equal(cfg->probe_timeout_s, 180);
    /* No gammu-smsdrc: the overrides only, sent and error unknown. */
    assert_null(cfg->smsdrc);
    assert_string_equal(cfg->device, "/dev/ttyX");
    assert_int_equal(cfg->device_origin, CONFIG_ORIGIN_OVERRIDE);
    assert_string_equal(cfg->sent, "");
    assert_int_equal(cfg->sent_origin, CONFIG_ORIGIN_NONE);
    assert_string_equal(cfg->error, "");
    config_free(cfg);
}

static void test_node_id_from_hostname(void **state)
{
    (void)state;
    static const struct {
        const char *host, *node_id;
    } rows[] = {
        {"raspberrypi", "raspberrypi"}, {"Pi.Local", "pi_local"}, {"a b!c", "a_b_c"},
        {"", "node"},                   {NULL, "node"},           {"UPPER-case_9", "upper-case_9"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char text[256];
        snprintf(text, sizeof(text), "%s", paths_block);
        struct config_errors errs = {0};
        struct config *cfg = config_load_string(text, strlen(text), "t.conf", rows[i].host, &errs);
        assert_non_null(cfg);
        assert_string_equal(cfg->node_id, rows[i].node_id);
        config_free(cfg);
        config_errors_clear(&errs);
    }
}

static void test_sanitize_id(void **state)
{
    (void)state;
    char out[8];
    config_sanitize_id("ABCDEFGHIJK", out, sizeof(out));
    assert_string_equal(out, "abcdefg");
    config_sanitize_id("é", out, sizeof(out));
    assert_string_equal(out, "__");
    config_sanitize_id("x", out, 1);
    assert_string_equal(out, "");
}

/* The smallest useful file, with the system's gammu-smsdrc when there is one. */
static void test_minimal_file(void **state)
{
    (void)state;
    struct config_errors errs = {0};
    struct config *cfg = config_load(FIX "minimal.conf", HOST, &errs);
    if (access("/etc/gammu-smsdrc", R_OK) == 0) {
        assert_non_null(cfg);
        assert_string_equal(cfg->mqtt_host, "broker.lan");
        assert_non_null(cfg->smsdrc);
        config_free(cfg);
    } else {
        assert_null(cfg);
        assert_int_equal(errs.count, 1);
        assert_int_equal(errs.items[0].line, 0);
        assert_non_null(strstr(errs.items[0].message, "cannot read gammu-smsdrc '/etc/gammu-smsdrc'"));
    }
    config_errors_clear(&errs);
}

static void test_paths_file(void **state)
{
    (void)state;
    struct config_errors errs = {0};
    struct config *cfg = config_load(FIX "paths.conf", HOST, &errs);
    assert_non_null(cfg);
    assert_int_equal(errs.count, 0);
    assert_null(cfg->smsdrc);
    assert_string_equal(cfg->device, "/dev/serial/by-id/usb-modem");
    assert_string_equal(cfg->logfile, "/var/log/gammu-smsd.log");
    assert_int_equal(cfg->inbox_origin, CONFIG_ORIGIN_OVERRIDE);
    config_free(cfg);
}

/* ---- good values ---- */

struct good_row {
    const char *text;
    const char *section, *key, *value; /* as config_print shows it */
};

static const struct good_row good_rows[] = {
    {"[mqtt]\nport = 1\n", "mqtt", "port", "1"},
    {"[mqtt]\nport = 65535\n", "mqtt", "port", "65535"},
    {"[mqtt]\ntls_ca = /etc/ssl/ca.pem\n", "mqtt", "port", "8883"},
    {"[mqtt]\ntls_ca = /etc/ssl/ca.pem\nport = 1883\n", "mqtt", "port", "1883"},
    {"[mqtt]\nport = 8883\n", "mqtt", "port", "8883"},
    {"[mqtt]\nqos = 0\n", "mqtt", "qos", "0"},
    {"[mqtt]\nqos = 2\n", "mqtt", "qos", "2"},
    {"[mqtt]\nkeepalive = 5\n", "mqtt", "keepalive", "5"},
    {"[mqtt]\nkeepalive = 3600\n", "mqtt", "keepalive", "3600"},
    {"[mqtt]\nhost = 192.168.1.10\n", "mqtt", "host", "192.168.1.10"},
    {"[mqtt]\nusername = sms\npassword_file = /etc/sms-sentinel.pw\n", "mqtt", "password_file",
     "/etc/sms-sentinel.pw"},
    {"[mqtt]\ntls_ca = /ca\ntls_cert = /c\ntls_key = /k\n", "mqtt", "tls_key", "/k"},
    {"[mqtt]\nclient_id = me\n", "mqtt", "client_id", "me"},
    {"[mqtt]\nbase_topic = home/sms\n", "mqtt", "base_topic", "home/sms"},
    {"[mqtt]\npool = house_1\n", "mqtt", "pool", "house_1"},
    {"[agent]\nnode_id = pi-3_b\n", "mqtt", "client_id", "sms-sentinel-pi-3_b"},
    {"[agent]\nnode_id = pi-3_b\n", "mqtt", "base_topic", "sms-sentinel/pi-3_b"},
    {"[agent]\nlog_level = DEBUG\n", "agent", "log_level", "debug"},
    {"[agent]\nlog_level = error\n", "agent", "log_level", "error"},
    {"[agent]\nlog_level = warn\n", "agent", "log_level", "warn"},
    {"[homeassistant]\ndiscovery = no\n", "homeassistant", "discovery", "no"},
    {"[homeassistant]\ndiscovery = false\n", "homeassistant", "discovery", "no"},
    {"[homeassistant]\ndiscovery = off\n", "homeassistant", "discovery", "no"},
    {"[homeassistant]\ndiscovery = 0\n", "homeassistant", "discovery", "no"},
    {"[homeassistant]\ndiscovery = YES\n", "homeassistant", "discovery", "yes"},
    {"[homeassistant]\ndiscovery = True\n", "homeassistant", "discovery", "yes"},
    {"[homeassistant]\ndiscovery = on\n", "homeassistant", "discovery", "yes"},
    {"[homeassistant]\ndiscovery = 1\n", "homeassistant", "discovery", "yes"},
    {"[homeassistant]\ndiscovery_prefix = ha/disc\n", "homeassistant", "discovery_prefix", "ha/disc"},
    {"[probe]\nafter_send = yes\n", "probe", "after_send", "yes"},
    {"[probe]\nown_number = +33612345678\n", "probe", "own_number", "+33612345678"},
    {"[probe]\nown_number = 0612345678\n", "probe", "own_number", "0612345678"},
    {"[probe]\ninterval = 1\n", "probe", "interval", "1"},
    {"[recovery]\nusb_device = 19d2:0031\n", "recovery", "usb_device", "19d2:0031"},
    {"[recovery]\nusb_device = 12D1:1506:ABC-123\n", "recovery", "usb_device", "12D1:1506:ABC-123"},
    {"[recovery]\nusb_device = 1-1\n", "recovery", "usb_device", "1-1"},
    {"[recovery]\nusb_device = 1-1.2.3\n", "recovery", "usb_device", "1-1.2.3"},
    {"[recovery]\nusb_device = 2-3.4\n", "recovery", "usb_device", "2-3.4"},
    {"[recovery]\nerrors =   TIMEOUT\tNOSIM  \n", "recovery", "errors", "TIMEOUT NOSIM"},
    {"[recovery]\nerrors =\n", "recovery", "errors", ""},
    {"[recovery]\nmethods = port_power\n", "recovery", "methods", "port_power"},
    {"[recovery]\nmethods = restart_smsd command\ncommand = /usr/local/bin/fix-modem --hard\n", "recovery",
     "command", "/usr/local/bin/fix-modem --hard"},
    {"[recovery]\nenabled = no\nmethods =\n", "recovery", "methods", ""},
    {"[recovery]\nthreshold = 1000\n", "recovery", "threshold", "1000"},
    {"[recovery]\nmax_per_hour = 60\n", "recovery", "max_per_hour", "60"},
    {"[sms]\nallowed_recipients = +336* +337????????\ndefault_recipients = +33612345678\n", "sms",
     "allowed_recipients", "+336* +337????????"},
    {"[sms]\ndefault_recipients = +33612345678 +33798765432\n", "sms", "default_recipients",
     "+33612345678 +33798765432"},
    {"[sms]\nforward_mail = admin@example.org\n", "sms", "forward_mail", "admin@example.org"},
    {"[sms]\nmax_parts = 255\n", "sms", "max_parts", "255"},
    {"[MQTT]\nHost = upper.lan\n", "mqtt", "host", "upper.lan"},
    {"[ mqtt ]\nhost = spaced.lan\n", "mqtt", "host", "spaced.lan"},
    {"   [mqtt]\n\t host  =   indented.lan   \n", "mqtt", "host", "indented.lan"},
    {"# hash comment\n; semicolon comment\n[mqtt]\nhost = c.lan\n", "mqtt", "host", "c.lan"},
    {"[mqtt]\nhost = broker.lan ; the broker\n", "mqtt", "host", "broker.lan"},
    {"[mqtt]\nusername = a;b\n", "mqtt", "username", "a;b"},
    {"[mqtt]\nhost = a.lan\n[agent]\nstate_dir = /s\n[mqtt]\nport = 1\n", "mqtt", "port", "1"},
    {"[smsd]\nsent = /s/\n", "smsd", "sent", "/s/"},
};

static void test_good_values(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(good_rows) / sizeof(good_rows[0]); i++) {
        const struct good_row *r = &good_rows[i];
        struct config *cfg = load_ok(r->text);
        assert_printed(cfg, r->section, r->key, r->value);
        config_free(cfg);
    }
}

/* ---- bad values: one row each, with the line and message expected ---- */

struct bad_row {
    const char *text;
    int line;
    const char *message; /* of the first error */
    int count;           /* errors in all */
};

#define METHODS_HELP "(restart_smsd usbreset rebind authorized port_power command)"
#define PHONE_HELP "is not a phone number (an optional '+' and 2 to 20 digits)"
#define USB_HELP "is not auto, VID:PID[:serial] (4 hex digits each) or a USB port path like 1-1.2"
#define TOPIC_HELP "is not a usable MQTT topic prefix (no '+', '#', blanks or empty levels)"

static const struct bad_row bad_rows[] = {
    {"[mqtt]\nport = 99999\n", 2, "port: '99999' is out of range 1..65535", 1},
    {"[mqtt]\nport = 0\n", 2, "port: '0' is out of range 1..65535", 1},
    {"[mqtt]\nport = -1\n", 2, "port: '-1' is out of range 1..65535", 1},
    {"[mqtt]\nport = 99999999999999999999\n", 2, "port: '99999999999999999999' is out of range 1..65535", 1},
    {"[mqtt]\nport = 12x\n", 2, "port: '12x' is not a number", 1},
    {"[mqtt]\nport = 0x50\n", 2, "port: '0x50' is not a number", 1},
    {"[mqtt]\nport =\n", 2, "port: '' is not a number", 1},
    {"[mqtt]\nqos = 3\n", 2, "qos: '3' is out of range 0..2", 1},
    {"[mqtt]\nkeepalive = 4\n", 2, "keepalive: '4' is out of range 5..3600", 1},
    {"[mqtt]\nkeepalive = 3601\n", 2, "keepalive: '3601' is out of range 5..3600", 1},
    {"[mqtt]\nhost =\n", 2, "host: must not be empty", 1},
    {"[mqtt]\nhost = a b\n", 2, "host: 'a b' is not a host name or address", 1},
    {"[mqtt]\nhost = x\x01y\n", 2, "host: 'x?y' contains a control character", 1},
    {"[mqtt]\nbase_topic = a/+/b\n", 2, "base_topic: 'a/+/b' " TOPIC_HELP, 1},
    {"[mqtt]\nbase_topic = a/\n", 2, "base_topic: 'a/' " TOPIC_HELP, 1},
    {"[mqtt]\nbase_topic = a//b\n", 2, "base_topic: 'a//b' " TOPIC_HELP, 1},
    {"[mqtt]\nbase_topic = a/#\n", 2, "base_topic: 'a/#' " TOPIC_HELP, 1},
    {"[mqtt]\nbase_topic =\n", 2, "base_topic: must not be empty", 1},
    {"[mqtt]\nclient_id =\n", 2, "client_id: must not be empty", 1},
    {"[mqtt]\npool = a/b\n", 2, "pool: 'a/b' may only hold letters, digits, '_' and '-' (at most 64)", 1},
    {"[mqtt]\ntls_cert = /c\n", 2, "tls_cert: tls_cert and tls_key go together", 2},
    {"[mqtt]\ntls_ca = /ca\ntls_key = /k\n", 3, "tls_key: tls_cert and tls_key go together", 1},
    {"[mqtt]\npassword_file = /p\n", 2, "password_file: needs username as well", 1},
    {"[agent]\nnode_id = pool\n", 2, "node_id: 'pool' makes base_topic sms-sentinel/pool, the pool's topics", 1},
    {"[mqtt]\nbase_topic = sms-sentinel/pool/x\n", 2, "base_topic: 'sms-sentinel/pool/x' is inside the pool's topics",
     1},
    {"[agent]\nlog_level = loud\n", 2, "log_level: 'loud' is not one of error|warn|info|debug", 1},
    {"[agent]\nlog_level =\n", 2, "log_level: '' is not one of error|warn|info|debug", 1},
    {"[agent]\nnode_id = My Pi\n", 2, "node_id: 'My Pi' may only hold a-z, 0-9, '_' and '-' (at most 64)", 1},
    {"[agent]\nnode_id = pi/1\n", 2, "node_id: 'pi/1' may only hold a-z, 0-9, '_' and '-' (at most 64)", 1},
    {"[agent]\nstate_dir =\n", 2, "state_dir: must not be empty", 1},
    {"[agent]\nnode_id =\n", 2, "node_id: must not be empty", 1},
    {"[homeassistant]\ndiscovery = maybe\n", 2,
     "discovery: 'maybe' is not yes or no (nor true/false, on/off, 1/0)", 1},
    {"[homeassistant]\ndiscovery =\n", 2, "discovery: '' is not yes or no (nor true/false, on/off, 1/0)", 1},
    {"[homeassistant]\ndiscovery_prefix = +\n", 2, "discovery_prefix: '+' " TOPIC_HELP, 1},
    {"[recovery]\nmethods = usbreset reboot\n", 2, "methods: 'reboot' is not a recovery method " METHODS_HELP, 1},
    {"[recovery]\nmethods = usbreset command\n", 2, "methods: 'command' needs [recovery] command", 1},
    {"[recovery]\nmethods = usbreset usbreset\n", 2, "methods: 'usbreset' is listed twice", 1},
    {"[recovery]\nmethods =\n", 2, "methods: empty while recovery is enabled (set enabled = no instead)", 1},
    {"[recovery]\nerrors = TIMEOUT BOGUS\n", 2,
     "errors: 'BOGUS' is not a gammu error name (like TIMEOUT or DEVICEOPENERROR)", 1},
    {"[recovery]\nerrors = timeout\n", 2,
     "errors: 'timeout' is not a gammu error name (like TIMEOUT or DEVICEOPENERROR)", 1},
    {"[recovery]\nerrors = NONE\n", 2, "errors: 'NONE' is not an error", 1},
    {"[recovery]\nerrors = TIMEOUT SECURITYERROR\n", 2,
     "errors: 'SECURITYERROR' is never recovered automatically (retried PINs lock the SIM)", 1},
    {"[recovery]\nerrors = A B C D E F G H I J K L M N O P Q\n", 2,
     "errors: 'A B C D E F G H I J K L M N O P Q' has more than 16 items", 1},
    {"[recovery]\nusb_device = 12d1\n", 2, "usb_device: '12d1' " USB_HELP, 1},
    {"[recovery]\nusb_device = 12d1:15g6\n", 2, "usb_device: '12d1:15g6' " USB_HELP, 1},
    {"[recovery]\nusb_device = 12d1:15066\n", 2, "usb_device: '12d1:15066' " USB_HELP, 1},
    {"[recovery]\nusb_device = 12d1:1506:\n", 2, "usb_device: '12d1:1506:' " USB_HELP, 1},
    {"[recovery]\nusb_device = 1-\n", 2, "usb_device: '1-' " USB_HELP, 1},
    {"[recovery]\nusb_device = 1-1..2\n", 2, "usb_device: '1-1..2' " USB_HELP, 1},
    {"[recovery]\nusb_device = 1-1-2\n", 2, "usb_device: '1-1-2' " USB_HELP, 1},
    {"[recovery]\nusb_device = /dev/ttyUSB0\n", 2, "usb_device: '/dev/ttyUSB0' " USB_HELP, 1},
    {"[recovery]\nusb_device =\n", 2, "usb_device: must not be empty", 1},
    {"[recovery]\nthreshold = 0\n", 2, "threshold: '0' is out of range 1..1000", 1},
    {"[recovery]\nwindow = 0\n", 2, "window: '0' is out of range 1..86400", 1},
    {"[recovery]\nsettle_timeout = 0\n", 2, "settle_timeout: '0' is out of range 1..3600", 1},
    {"[recovery]\nverify_timeout = -5\n", 2, "verify_timeout: '-5' is out of range 1..86400", 1},
    {"[recovery]\ncooldown = 0\n", 2, "cooldown: '0' is out of range 1..86400", 1},
    {"[recovery]\nmax_per_hour = 61\n", 2, "max_per_hour: '61' is out of range 1..60", 1},
    {"[recovery]\nenabled = 2\n", 2, "enabled: '2' is not yes or no (nor true/false, on/off, 1/0)", 1},
    {"[smsd]\nstart_command =\n", 2, "start_command: must not be empty", 1},
    {"[smsd]\nrestart_command = a b c d e f g h i j k l m n o p q\n", 2,
     "restart_command: 'a b c d e f g h i j k l m n o p q' has more than 16 words", 1},
    {"[smsd]\npidfile =\n", 2, "pidfile: must not be empty", 1},
    {"[sms]\ndefault_recipients = +33612 12ab\n", 2, "default_recipients: '12ab' " PHONE_HELP, 1},
    {"[sms]\ndefault_recipients = +\n", 2, "default_recipients: '+' " PHONE_HELP, 1},
    {"[sms]\ndefault_recipients = ++3361\n", 2, "default_recipients: '++3361' " PHONE_HELP, 1},
    {"[sms]\nallowed_recipients = +33[6]*\n", 2,
     "allowed_recipients: '+33[6]*' is not a number pattern (only + 0-9 * ? allowed)", 1},
    {"[sms]\nallowed_recipients = +337*\ndefault_recipients = +33612345678\n", 3,
     "default_recipients: '+33612345678' is not allowed by allowed_recipients", 1},
    {"[sms]\nforward_mail = root\n", 2, "forward_mail: 'root' is not a mail address", 1},
    {"[sms]\nforward_mail = -froot@x\n", 2, "forward_mail: '-froot@x' is not a mail address", 1},
    {"[sms]\nforward_mail = a@b,c@d\n", 2, "forward_mail: 'a@b,c@d' is not a mail address", 1},
    {"[sms]\nmax_parts = 256\n", 2, "max_parts: '256' is out of range 1..255", 1},
    {"[sms]\nmax_per_hour = 0\n", 2, "max_per_hour: '0' is out of range 1..3600", 1},
    {"[sms]\nsendmail =\n", 2, "sendmail: must not be empty", 1},
    {"[probe]\nown_number = 06-12\n", 2, "own_number: '06-12' " PHONE_HELP, 1},
    {"[probe]\ninterval = 0\n", 2, "interval: '0' is out of range 1..2592000", 1},
    {"[probe]\ntimeout = 0\n", 2, "timeout: '0' is out of range 1..86400", 1},
    {"[probe]\nafter_send = sometimes\n", 2,
     "after_send: 'sometimes' is not yes or no (nor true/false, on/off, 1/0)", 1},
    /* structure */
    {"host = x\n", 1, "key 'host' is outside any section", 1},
    {"[mqtt]\nbogus = 1\n", 2, "unknown key 'bogus' in [mqtt]", 1},
    {"[mqtt]\npassword = secret\n", 2, "unknown key 'password' in [mqtt]", 1},
    {"[bogus]\nx = 1\ny = 2\n", 1, "unknown section [bogus]", 1},
    {"[]\nx = 1\n", 1, "unknown section []", 1},
    {"[mqtt]\nhost = a\nhost = b\n", 3, "duplicate key 'host' in [mqtt] (first set on line 2)", 1},
    {"[mqtt]\nHOST = a\n[mqtt]\nhost = b\n", 4, "duplicate key 'host' in [mqtt] (first set on line 2)", 1},
    {"[mqtt]\nport = x\nport = 2\n", 2, "port: 'x' is not a number", 2},
    {"[mqtt\nhost = a\n", 1, "syntax error: '[' without ']'", 1},
    {"[mqtt] x\n", 1, "syntax error: text after ']'", 1},
    {"[mqtt]\n= 1\n", 2, "syntax error: no key name before '='", 1},
    {"[mqtt]\nhost: a\n", 2, "syntax error: expected 'key = value', not 'host: a'", 1},
    {"[mqtt]\nhost\n", 2, "syntax error: expected 'key = value', not 'host'", 1},
    {"[mqtt]\nhost ; = a\n", 2, "syntax error: expected 'key = value', not 'host ; = a'", 1},
};

static void expect_errors(const char *text, const struct config_errors *errs, const struct bad_row *r)
{
    bool ok = errs->count == r->count && errs->count > 0 && errs->items[0].line == r->line &&
              strcmp(errs->items[0].message, r->message) == 0 && strcmp(errs->items[0].file, "test.conf") == 0;
    if (!ok) {
        print_message("want %d error(s), first test.conf:%d: %s\n", r->count, r->line, r->message);
        dump_errors(text, errs);
    }
    assert_true(ok);
}

static void test_bad_values(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
        const struct bad_row *r = &bad_rows[i];
        struct config_errors errs = {0};
        assert_null(load_with_paths(r->text, &errs));
        expect_errors(r->text, &errs, r);
        config_errors_clear(&errs);
    }
}

static void test_nul_byte(void **state)
{
    (void)state;
    static const char text[] = "[mqtt]\nhost = a\0b\n[smsd]\nconfig = /x\ndevice = /d\nlogfile = syslog\n"
                               "inbox = /i\noutbox = /o\n";
    struct config_errors errs = {0};
    struct config *cfg = config_load_string(text, sizeof(text) - 1, "nul.conf", HOST, &errs);
    assert_null(cfg);
    assert_int_equal(errs.count, 1);
    assert_int_equal(errs.items[0].line, 2);
    assert_string_equal(errs.items[0].message, "NUL byte in line");
    config_errors_clear(&errs);
}

/* Found by fuzz_config: "key =;x" printed back as "key = ;x" reads as a comment. */
static void test_value_starting_with_comment_char(void **state)
{
    (void)state;
    static const char text[] = "[agent]\nstate_dir =;x\n[mqtt]\nclient_id =#y\n";
    struct config_errors errs = {0};
    assert_null(config_load_string(text, sizeof(text) - 1, "c.conf", HOST, &errs));
    assert_true(errs.count >= 2);
    assert_int_equal(errs.items[0].line, 2);
    assert_non_null(strstr(errs.items[0].message, "starts with a comment character"));
    assert_int_equal(errs.items[1].line, 4);
    config_errors_clear(&errs);
}

static void test_utf16(void **state)
{
    (void)state;
    static const char text[] = "\xFF\xFE[\0m\0q\0t\0t\0]\0\n\0";
    struct config_errors errs = {0};
    assert_null(config_load_string(text, sizeof(text) - 1, "u.conf", HOST, &errs));
    /* A machine without /etc/gammu-smsdrc adds "cannot read gammu-smsdrc" after it. */
    assert_true(errs.count >= 1);
    assert_string_equal(errs.items[0].message, "the file is UTF-16; save it as UTF-8");
    config_errors_clear(&errs);
}

/* ---- whole files ---- */

static void test_errors_file(void **state)
{
    (void)state;
    static const struct {
        int line;
        const char *message;
    } want[] = {
        {3, "log_level: 'chatty' is not one of error|warn|info|debug"},
        {4, "node_id: 'Kitchen Pi' may only hold a-z, 0-9, '_' and '-' (at most 64)"},
        {8, "port: '99999' is out of range 1..65535"},
        {10, "duplicate key 'qos' in [mqtt] (first set on line 9)"},
        {11, "unknown key 'colour' in [mqtt]"},
        {13, "unknown section [weather]"},
        {17, "methods: 'reboot' is not a recovery method " METHODS_HELP},
        {18, "syntax error: expected 'key = value', not 'this line has no equals sign'"},
        {19, "threshold: '-1' is out of range 1..1000"},
        {22, "default_recipients: '0800-SMS' " PHONE_HELP},
    };
    size_t n = sizeof(want) / sizeof(want[0]);
    struct config_errors errs = {0};
    assert_null(config_load(FIX "errors.conf", HOST, &errs));
    /* The file names /etc/gammu-smsdrc; on a machine without it one more error. */
    if ((size_t)errs.count != n && (size_t)errs.count != n + 1)
        dump_errors("errors.conf", &errs);
    assert_true((size_t)errs.count == n || (size_t)errs.count == n + 1);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(errs.items[i].file, FIX "errors.conf");
        assert_int_equal(errs.items[i].line, want[i].line);
        assert_string_equal(errs.items[i].message, want[i].message);
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    config_errors_print(&errs, f);
    fclose(f);
    assert_non_null(strstr(buf, FIX "errors.conf:8: port: '99999' is out of range 1..65535\n"));
    free(buf);
    config_errors_clear(&errs);
}

static void test_bom_file(void **state)
{
    (void)state;
    struct config_errors errs = {0};
    struct config *cfg = config_load(FIX "bom.conf", HOST, &errs);
    assert_non_null(cfg);
    assert_string_equal(cfg->mqtt_host, "bom.lan");
    config_free(cfg);
    config_errors_clear(&errs);
}

static void test_crlf_file(void **state)
{
    (void)state;
    struct config_errors errs = {0};
    struct config *cfg = config_load(FIX "crlf.conf", HOST, &errs);
    assert_non_null(cfg);
    assert_string_equal(cfg->mqtt_host, "crlf.lan");
    assert_int_equal(cfg->mqtt_port, 1884);
    assert_int_equal(cfg->methods.count, 2);
    assert_string_equal(cfg->methods.items[1], "usbreset");
    assert_string_equal(cfg->outbox, "/out");
    config_free(cfg);
    config_errors_clear(&errs);
}

static void test_inline_file(void **state)
{
    (void)state;
    struct config_errors errs = {0};
    struct config *cfg = config_load(FIX "inline.conf", HOST, &errs);
    if (!cfg)
        dump_errors("inline.conf", &errs);
    assert_non_null(cfg);
    assert_string_equal(cfg->mqtt_host, "broker.lan");
    assert_string_equal(cfg->mqtt_username, "a;b");
    assert_string_equal(cfg->client_id, "me#1");
    assert_int_equal(cfg->keepalive, 60);
    assert_string_equal(cfg->device, "/dev/x");
    config_free(cfg);
    config_errors_clear(&errs);
}

static void test_long_line(void **state)
{
    (void)state;
    struct config_errors errs = {0};
    assert_null(config_load(FIX "long-line.conf", HOST, &errs));
    assert_true(errs.count >= 2);
    assert_int_equal(errs.items[0].line, 3);
    assert_string_equal(errs.items[0].message, "line too long (more than 198 characters)");
    /* The rest of the file is still read, with the right line numbers. */
    assert_int_equal(errs.items[1].line, 4);
    assert_string_equal(errs.items[1].message, "port: '70000' is out of range 1..65535");
    config_errors_clear(&errs);
}

static void test_missing_file(void **state)
{
    (void)state;
    struct config_errors errs = {0};
    assert_null(config_load(FIX "does-not-exist.conf", HOST, &errs));
    assert_int_equal(errs.count, 1);
    assert_int_equal(errs.items[0].line, 0);
    assert_string_equal(errs.items[0].message, "cannot read: No such file or directory");
    config_errors_clear(&errs);
    assert_null(config_load(FIXTURES_DIR, HOST, &errs));
    assert_string_equal(errs.items[0].message, "cannot read: not a regular file");
    config_errors_clear(&errs);
    assert_null(config_load(FIX "does-not-exist.conf", HOST, NULL));
}

static void test_many_errors_capped(void **state)
{
    (void)state;
    size_t size = 300 * 12 + 16;
    char *text = malloc(size);
    assert_non_null(text);
    size_t len = 0;
    len += (size_t)snprintf(text + len, size - len, "[mqtt]\n");
    for (int i = 0; i < 300; i++)
        len += (size_t)snprintf(text + len, size - len, "junk%03d\n", i);
    struct config_errors errs = {0};
    assert_null(config_load_string(text, len, "many.conf", HOST, &errs));
    assert_int_equal(errs.count, 100);
    assert_string_equal(errs.items[99].message, "too many errors; giving up");
    config_errors_clear(&errs);
    free(text);
}

static void test_argv_and_lists(void **state)
{
    (void)state;
    struct config *cfg = load_ok("[smsd]\nstart_command = /bin/systemctl   start\tgammu-smsd\n"
                                 "[recovery]\nmethods = restart_smsd command\n"
                                 "command = /usr/local/bin/reset  --port 1-1.2\n"
                                 "[sms]\nallowed_recipients = +336*  +337* \n");
    assert_int_equal(cfg->start_command.argc, 3);
    assert_string_equal(cfg->start_command.argv[0], "/bin/systemctl");
    assert_string_equal(cfg->start_command.argv[1], "start");
    assert_string_equal(cfg->start_command.argv[2], "gammu-smsd");
    assert_null(cfg->start_command.argv[3]);
    assert_int_equal(cfg->recovery_command.argc, 3);
    assert_string_equal(cfg->recovery_command.argv[2], "1-1.2");
    assert_null(cfg->recovery_command.argv[3]);
    assert_int_equal(cfg->allowed_recipients.count, 2);
    assert_string_equal(cfg->allowed_recipients.items[1], "+337*");
    config_free(cfg);

    /* Sixteen words is the most. */
    cfg = load_ok("[recovery]\nmethods = command\ncommand = a b c d e f g h i j k l m n o p\n");
    assert_int_equal(cfg->recovery_command.argc, CONFIG_MAX_ARGV);
    assert_null(cfg->recovery_command.argv[CONFIG_MAX_ARGV]);
    config_free(cfg);
}

/* ---- gammu-smsdrc merge ---- */

static struct config *load_with_rc(const char *rc, const char *extra, struct config_errors *errs)
{
    char text[1024];
    snprintf(text, sizeof(text), "[mqtt]\nhost = h\n[smsd]\nconfig = %s\n%s", rc, extra);
    return load_text(text, errs);
}

static void test_merge_debian(void **state)
{
    (void)state;
    struct config_errors errs = {0};
    struct config *cfg = load_with_rc(FIX "gammu-smsdrc.debian", "", &errs);
    assert_non_null(cfg);
    assert_non_null(cfg->smsdrc);
    assert_string_equal(cfg->logfile, "syslog");
    assert_string_equal(cfg->device, "/dev/null");
    assert_string_equal(cfg->inbox, "/var/spool/gammu/inbox/");
    assert_string_equal(cfg->outbox, "/var/spool/gammu/outbox/");
    assert_string_equal(cfg->sent, "/var/spool/gammu/sent/");
    assert_string_equal(cfg->error, "/var/spool/gammu/error/");
    assert_int_equal(cfg->logfile_origin, CONFIG_ORIGIN_SMSDRC);
    assert_int_equal(cfg->error_origin, CONFIG_ORIGIN_SMSDRC);
    config_free(cfg);
}

static void test_merge_override(void **state)
{
    (void)state;
    struct config_errors errs = {0};
    struct config *cfg = load_with_rc(FIX "gammu-smsdrc.debian", "device = /dev/serial/by-id/x\nlogfile = /l\n", &errs);
    assert_non_null(cfg);
    assert_string_equal(cfg->device, "/dev/serial/by-id/x");
    assert_int_equal(cfg->device_origin, CONFIG_ORIGIN_OVERRIDE);
    assert_string_equal(cfg->logfile, "/l");
    assert_int_equal(cfg->logfile_origin, CONFIG_ORIGIN_OVERRIDE);
    assert_int_equal(cfg->inbox_origin, CONFIG_ORIGIN_SMSDRC);
    /* The rc's own view is kept unchanged for the doctor. */
    assert_string_equal(cfg->smsdrc->device, "/dev/null");
    assert_printed(cfg, "smsd", "device", "/dev/serial/by-id/x");
    config_free(cfg);
}

/* gammu-smsd moves sent messages to outboxpath and failed ones to sentsmspath
 * when those are not set. */
static void test_merge_gammu_fallbacks(void **state)
{
    (void)state;
    struct config_errors errs = {0};
    struct config *cfg = load_with_rc(FIX "gammu-smsdrc.mixedcase", "", &errs);
    assert_non_null(cfg);
    assert_string_equal(cfg->outbox, "/spool/out/");
    assert_string_equal(cfg->sent, "/spool/out/");
    assert_string_equal(cfg->error, "/spool/out/");
    assert_int_equal(cfg->sent_origin, CONFIG_ORIGIN_SMSDRC);
    config_free(cfg);
    cfg = load_with_rc(FIX "gammu-smsdrc.mixedcase", "sent = /mine/\n", &errs);
    assert_non_null(cfg);
    assert_string_equal(cfg->sent, "/mine/");
    assert_string_equal(cfg->error, "/spool/out/"); /* gammu's view, not ours */
    config_free(cfg);
}

static void test_merge_relative(void **state)
{
    (void)state;
    struct config_errors errs = {0};
    struct config *cfg = load_with_rc(FIX "gammu-smsdrc.relative", "", &errs);
    assert_non_null(cfg); /* relative paths are warned about, used as they are */
    assert_string_equal(cfg->inbox, "inbox/");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int warnings = config_doctor(cfg, f);
    fclose(f);
    assert_int_equal(warnings, 4); /* sent and error default to the outbox */
    assert_non_null(strstr(buf, "warning: [smsd] inbox 'inbox/' is relative"));
    assert_non_null(strstr(buf, "warning: [smsd] outbox 'outbox/' is relative"));
    free(buf);
    config_free(cfg);
}

static void test_merge_missing_rc(void **state)
{
    (void)state;
    struct config_errors errs = {0};
    assert_null(load_with_rc("/nonexistent/rc", "device = /d\n", &errs));
    assert_int_equal(errs.count, 1);
    assert_int_equal(errs.items[0].line, 4);
    assert_string_equal(errs.items[0].message,
                        "cannot read gammu-smsdrc '/nonexistent/rc': No such file or directory");
    config_errors_clear(&errs);

    assert_null(load_with_rc(FIXTURES_DIR, "", &errs));
    assert_int_equal(errs.count, 1);
    assert_non_null(strstr(errs.items[0].message, ": not a regular file"));
    config_errors_clear(&errs);

    /* A bad [smsd] config value is reported once, not followed by a read error. */
    assert_null(load_text("[smsd]\nconfig =\n", &errs));
    assert_int_equal(errs.count, 1);
    assert_string_equal(errs.items[0].message, "config: must not be empty");
    config_errors_clear(&errs);
}

/* ---- printing and the doctor ---- */

static char *print_to_string(const struct config *cfg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    config_print(cfg, f);
    fclose(f);
    return buf;
}

static void test_print_every_key(void **state)
{
    (void)state;
    struct config_errors errs = {0};
    struct config *cfg = load_with_rc(FIX "gammu-smsdrc.debian", "device = /dev/serial/by-id/m\n", &errs);
    assert_non_null(cfg);
    char *out = print_to_string(cfg);
    static const char *const keys[] = {
        "node_id",  "state_dir",     "log_level",     "config",     "logfile",       "device",
        "inbox",    "outbox",        "sent",          "error",      "pidfile",       "start_command",
        "stop_command", "restart_command", "host",    "port",       "username",      "password_file",
        "tls_ca",   "tls_cert",      "tls_key",       "client_id",  "base_topic",    "qos",
        "keepalive", "pool",         "discovery",     "discovery_prefix", "enabled", "errors",
        "threshold", "window",       "methods",       "usb_device", "sysfs_root",    "settle_timeout",
        "verify_timeout", "cooldown", "max_per_hour", "command",    "default_recipients", "allowed_recipients",
        "max_parts", "sendmail",     "forward_mail",  "own_number", "interval",      "after_send",
        "timeout",
    };
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char needle[64];
        snprintf(needle, sizeof(needle), "\n%s = ", keys[i]);
        if (!strstr(out, needle))
            print_message("missing key %s\n", keys[i]);
        assert_non_null(strstr(out, needle));
    }
    assert_non_null(strstr(out, "; from gammu-smsdrc " FIX "gammu-smsdrc.debian"));
    assert_non_null(strstr(out, "; set here (overrides gammu-smsdrc)"));
    assert_non_null(strstr(out, "\n[homeassistant]\n"));

    /* What it prints loads again, to the same effective values. */
    struct config *again = load_text(out, &errs);
    if (!again)
        dump_errors("printed config", &errs);
    assert_non_null(again);
    char *out2 = print_to_string(again);
    assert_non_null(strstr(out2, "\ndevice = /dev/serial/by-id/m "));
    assert_non_null(strstr(out2, "\ninbox = /var/spool/gammu/inbox/ "));
    free(out2);
    config_free(again);
    free(out);
    config_free(cfg);
}

static void test_print_no_secret(void **state)
{
    (void)state;
    char path[] = "/tmp/test_config_pw_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "hunter2\n", 8), 8);
    close(fd);
    char text[512];
    snprintf(text, sizeof(text), "[mqtt]\nusername = sms\npassword_file = %s\n", path);
    struct config *cfg = load_ok(text);
    char *out = print_to_string(cfg);
    assert_null(strstr(out, "hunter2"));
    assert_non_null(strstr(out, path));
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(config_doctor(cfg, f), 0);
    fclose(f);
    assert_non_null(strstr(buf, "ok: password_file"));
    assert_null(strstr(buf, "hunter2"));
    free(buf);
    free(out);
    config_free(cfg);
    unlink(path);
}

static void test_doctor_unreadable(void **state)
{
    (void)state;
    struct config *cfg = load_ok("[mqtt]\nusername = u\npassword_file = /nonexistent/pw\ntls_ca = /nonexistent/ca\n");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(config_doctor(cfg, f), 2);
    fclose(f);
    assert_non_null(strstr(buf, "warning: password_file /nonexistent/pw: cannot be read by this user: "
                                "No such file or directory"));
    assert_non_null(strstr(buf, "warning: tls_ca /nonexistent/ca"));
    free(buf);
    config_free(cfg);
}

/* password_file and tls_key: a directory, an empty file and a world-readable file are
 * warned about; a private one is ok. The secret never reaches the report. */
static void test_doctor_secrets(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_config_secret_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char pw[300], key[300];
    snprintf(pw, sizeof(pw), "%s/pw", dir);
    snprintf(key, sizeof(key), "%s/key", dir);
    struct {
        const char *content; /* NULL: make a directory */
        unsigned mode;
        const char *want;
        int warnings;
    } rows[] = {
        {"hunter2\n", 0600, "ok: password_file", 0},
        {"hunter2\n", 0640, "ok: password_file", 0},
        {"hunter2\n", 0644, "readable by every user (mode 0644)", 1},
        {"", 0600, "is empty", 1},
        {"\nhunter2", 0600, "is empty", 1},
        {NULL, 0700, "cannot be read by this user: Is a directory", 1},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        unlink(pw);
        rmdir(pw);
        if (rows[i].content) {
            FILE *w = fopen(pw, "w");
            assert_non_null(w);
            fputs(rows[i].content, w);
            fclose(w);
            assert_int_equal(chmod(pw, rows[i].mode), 0);
        } else {
            assert_int_equal(mkdir(pw, rows[i].mode), 0);
        }
        char text[1024];
        snprintf(text, sizeof(text), "[mqtt]\nusername = u\npassword_file = %s\n", pw);
        struct config *cfg = load_ok(text);
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        int warnings = config_doctor(cfg, f);
        fclose(f);
        if (warnings != rows[i].warnings || !strstr(buf, rows[i].want) || strstr(buf, "hunter2"))
            fail_msg("row %zu: %d warning(s): %s", i, warnings, buf);
        free(buf);
        config_free(cfg);
    }
    unlink(pw);
    rmdir(pw);
    FILE *w = fopen(key, "w");
    assert_non_null(w);
    fputs("-----BEGIN PRIVATE KEY-----\n", w);
    fclose(w);
    assert_int_equal(chmod(key, 0604), 0);
    char text[1024];
    snprintf(text, sizeof(text), "[mqtt]\ntls_ca = %s\ntls_cert = %s\ntls_key = %s\n", key, key, key);
    struct config *cfg = load_ok(text);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_int_equal(config_doctor(cfg, f), 1);
    fclose(f);
    assert_non_null(strstr(buf, "warning: tls_key"));
    assert_non_null(strstr(buf, "ok: tls_ca"));
    free(buf);
    config_free(cfg);
    unlink(key);
    rmdir(dir);
}

static void test_errors_clear_empty(void **state)
{
    (void)state;
    struct config_errors errs = {0};
    config_errors_clear(&errs);
    config_errors_clear(NULL);
    config_errors_print(&errs, stdout);
    config_free(NULL);
    assert_int_equal(errs.count, 0);
}

int main(void)
{
    log_set_level(LOG_LEVEL_ERROR); /* relative-path warnings are tested through config_doctor */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_node_id_from_hostname),
        cmocka_unit_test(test_sanitize_id),
        cmocka_unit_test(test_minimal_file),
        cmocka_unit_test(test_paths_file),
        cmocka_unit_test(test_good_values),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_nul_byte),
        cmocka_unit_test(test_utf16),
        cmocka_unit_test(test_value_starting_with_comment_char),
        cmocka_unit_test(test_errors_file),
        cmocka_unit_test(test_bom_file),
        cmocka_unit_test(test_crlf_file),
        cmocka_unit_test(test_inline_file),
        cmocka_unit_test(test_long_line),
        cmocka_unit_test(test_missing_file),
        cmocka_unit_test(test_many_errors_capped),
        cmocka_unit_test(test_argv_and_lists),
        cmocka_unit_test(test_merge_debian),
        cmocka_unit_test(test_merge_override),
        cmocka_unit_test(test_merge_gammu_fallbacks),
        cmocka_unit_test(test_merge_relative),
        cmocka_unit_test(test_merge_missing_rc),
        cmocka_unit_test(test_print_every_key),
        cmocka_unit_test(test_print_no_secret),
        cmocka_unit_test(test_doctor_unreadable),
        cmocka_unit_test(test_doctor_secrets),
        cmocka_unit_test(test_errors_clear_empty),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
