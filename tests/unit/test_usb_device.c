/* usb_device: the usb_device value table, and resolution against fake sysfs
 * trees with the kernel's layout (tty -> interface -> device, bus/usb/devices
 * links, usb-serial and cdc-acm tty placement). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>

#include "../fixtures/usb/fake_sysfs.h"
#include "sms-sentinel/usb_device.h"

#define MODEM FAKE_PCI "/usb1/1-1/1-1.2"
#define BY_ID "serial/by-id/usb-ZTE_Incorporated_ZTE_WCDMA_Technologies_MSM_MF112-A-if02-port0"

struct spec_row {
    const char *text;
    int rc;
    enum usb_spec_kind kind;
    unsigned vid, pid;
    const char *serial_or_port;
};

static const struct spec_row spec_rows[] = {
    {"auto", 0, USB_SPEC_AUTO, 0, 0, ""},
    {"19d2:0031", 0, USB_SPEC_ID, 0x19d2, 0x0031, ""},
    {"12D1:1001", 0, USB_SPEC_ID, 0x12d1, 0x1001, ""},
    {"19d2:0031:MF112-A", 0, USB_SPEC_ID, 0x19d2, 0x0031, "MF112-A"},
    {"19d2:0031:a:b", 0, USB_SPEC_ID, 0x19d2, 0x0031, "a:b"},
    {"1-1.2", 0, USB_SPEC_PORT, 0, 0, "1-1.2"},
    {"1-1", 0, USB_SPEC_PORT, 0, 0, "1-1"},
    {"12-3.4.1.2", 0, USB_SPEC_PORT, 0, 0, "12-3.4.1.2"},
    {"19d2:31", -1, 0, 0, 0, NULL},
    {"19d2:00311", -1, 0, 0, 0, NULL},
    {"19d2:0031:", -1, 0, 0, 0, NULL},
    {"19d2:0031:a b", -1, 0, 0, 0, NULL},
    {"19d2:0031:\x1b[31m", -1, 0, 0, 0, NULL},
    {"zz:zz", -1, 0, 0, 0, NULL},
    {"zzzz:zzzz", -1, 0, 0, 0, NULL},
    {"1-", -1, 0, 0, 0, NULL},
    {"1-1..2", -1, 0, 0, 0, NULL},
    {"1-1.2.", -1, 0, 0, 0, NULL},
    {"1-1-2", -1, 0, 0, 0, NULL},
    {"1234-1", -1, 0, 0, 0, NULL},
    {"1-1234", -1, 0, 0, 0, NULL},
    {"../x", -1, 0, 0, 0, NULL},
    {"1-1.2; rm", -1, 0, 0, 0, NULL},
    {"1-1.2/../..", -1, 0, 0, 0, NULL},
    {"usb1", -1, 0, 0, 0, NULL},
    {"AUTO", -1, 0, 0, 0, NULL},
    {"", -1, 0, 0, 0, NULL},
    {"1-1.1.1.1.1.1.1.1.1.1.1.1.1.1.1.1", -1, 0, 0, 0, NULL},
};

static void test_spec_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(spec_rows) / sizeof(spec_rows[0]); i++) {
        const struct spec_row *r = &spec_rows[i];
        struct usb_spec s;
        char err[160] = "";
        print_message("spec \"%s\"\n", r->text);
        assert_int_equal(usb_spec_parse(r->text, &s, err, sizeof(err)), r->rc);
        if (r->rc < 0) {
            assert_true(err[0] != '\0');
            continue;
        }
        assert_int_equal(s.kind, r->kind);
        assert_int_equal(s.vid, r->vid);
        assert_int_equal(s.pid, r->pid);
        assert_string_equal(r->kind == USB_SPEC_PORT ? s.port : s.serial, r->serial_or_port);
    }
}

static int setup(void **state)
{
    struct fake_sysfs *f = malloc(sizeof(*f));
    assert_non_null(f);
    fake_sysfs_init(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fake_sysfs_free(*state);
    free(*state);
    return 0;
}

static int resolve(struct fake_sysfs *f, const char *spec_text, const char *tty, struct usb_device_ref *out,
                   char *err, size_t errsize)
{
    struct usb_spec spec;
    assert_int_equal(usb_spec_parse(spec_text, &spec, err, errsize), 0);
    return usb_resolve(f->sys, &spec, tty, out, err, errsize);
}

static void assert_modem(const struct usb_device_ref *d, const char *tty, const char *iface)
{
    assert_string_equal(d->port, "1-1.2");
    assert_int_equal(d->busnum, 1);
    assert_int_equal(d->devnum, 5);
    assert_int_equal(d->vid, 0x19d2);
    assert_int_equal(d->pid, 0x0031);
    assert_string_equal(d->serial, "MF112-A");
    assert_string_equal(d->tty, tty);
    assert_string_equal(d->iface, iface);
}

/* by-id link -> fake dev/ttyUSB2 -> class/tty/ttyUSB2/device -> usb-serial port
 * -> interface 1-1.2:1.2 -> device 1-1.2. */
static void test_auto_by_id(void **state)
{
    struct fake_sysfs *f = *state;
    struct usb_device_ref d;
    char err[256] = "", tty[PATH_MAX];
    fake_path(tty, sizeof(tty), f->dev, BY_ID);
    assert_int_equal(resolve(f, "auto", tty, &d, err, sizeof(err)), 0);
    assert_modem(&d, "ttyUSB2", "1.2");
}

static void test_auto_acm(void **state)
{
    struct fake_sysfs *f = *state;
    struct usb_device_ref d;
    char err[256] = "", tty[PATH_MAX];
    fake_usb_device(f, FAKE_PCI "/usb1/1-1/1-1.3", 0x1e0e, 0x9001, NULL, 1, 7);
    fake_acm_tty(f, FAKE_PCI "/usb1/1-1/1-1.3", "1.2", "ttyACM0");
    fake_dev_node(f, "ttyACM0", NULL);
    fake_path(tty, sizeof(tty), f->dev, "ttyACM0");
    assert_int_equal(resolve(f, "auto", tty, &d, err, sizeof(err)), 0);
    assert_string_equal(d.port, "1-1.3");
    assert_int_equal(d.devnum, 7);
    assert_string_equal(d.serial, "");
    assert_string_equal(d.tty, "ttyACM0");
    assert_string_equal(d.iface, "1.2");
    /* Also found from the device side. */
    assert_int_equal(resolve(f, "1e0e:9001", NULL, &d, err, sizeof(err)), 0);
    assert_string_equal(d.tty, "ttyACM0");
}

static void test_by_id_and_port(void **state)
{
    struct fake_sysfs *f = *state;
    struct usb_device_ref d;
    char err[256] = "";
    assert_int_equal(resolve(f, "19d2:0031", NULL, &d, err, sizeof(err)), 0);
    assert_modem(&d, "ttyUSB0", "1.0"); /* the lowest interface with a tty */
    assert_int_equal(resolve(f, "19D2:0031:MF112-A", NULL, &d, err, sizeof(err)), 0);
    assert_modem(&d, "ttyUSB0", "1.0");
    assert_int_equal(resolve(f, "1-1.2", NULL, &d, err, sizeof(err)), 0);
    assert_modem(&d, "ttyUSB0", "1.0");
}

static void test_two_identical_sticks(void **state)
{
    struct fake_sysfs *f = *state;
    struct usb_device_ref d;
    char err[256] = "";
    fake_usb_device(f, FAKE_PCI "/usb1/1-1/1-1.4", 0x19d2, 0x0031, "MF112-B", 1, 9);
    fake_usb_serial_tty(f, FAKE_PCI "/usb1/1-1/1-1.4", "1.0", "ttyUSB3");
    assert_int_equal(resolve(f, "19d2:0031", NULL, &d, err, sizeof(err)), -EEXIST);
    assert_non_null(strstr(err, "2 USB devices 19d2:0031"));
    assert_non_null(strstr(err, "serial"));
    assert_int_equal(resolve(f, "19d2:0031:MF112-B", NULL, &d, err, sizeof(err)), 0);
    assert_string_equal(d.port, "1-1.4");
    assert_int_equal(d.devnum, 9);
    assert_string_equal(d.tty, "ttyUSB3");
    assert_int_equal(resolve(f, "19d2:0031:MF112-A", NULL, &d, err, sizeof(err)), 0);
    assert_string_equal(d.port, "1-1.2");
}

static void test_not_found_messages(void **state)
{
    struct fake_sysfs *f = *state;
    struct usb_device_ref d;
    char err[PATH_MAX + 128] = "", want[PATH_MAX + 128];
    assert_int_equal(resolve(f, "12d1:1001", NULL, &d, err, sizeof(err)), -ENOENT);
    fake_fmt(want, sizeof(want), "no USB device 12d1:1001 under %s/bus/usb/devices", f->sys);
    assert_string_equal(err, want);
    assert_int_equal(resolve(f, "19d2:0031:NOPE", NULL, &d, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "with serial NOPE"));
    assert_int_equal(resolve(f, "1-9", NULL, &d, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "no USB device at port 1-9"));
}

static void test_auto_errors(void **state)
{
    struct fake_sysfs *f = *state;
    struct usb_device_ref d;
    char err[512] = "", tty[PATH_MAX];

    assert_int_equal(resolve(f, "auto", NULL, &d, err, sizeof(err)), -EINVAL);

    fake_path(tty, sizeof(tty), f->dev, "ttyUSB9"); /* no such node */
    assert_int_equal(resolve(f, "auto", tty, &d, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "cannot resolve modem device"));

    fake_dev_node(f, "ttyUSB7", NULL); /* a node, but no such tty in sysfs */
    fake_path(tty, sizeof(tty), f->dev, "ttyUSB7");
    assert_int_equal(resolve(f, "auto", tty, &d, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "no tty ttyUSB7 under"));

    /* A platform UART: no idVendor anywhere up the chain. */
    fake_mkdir(f->sys, "devices/platform/serial8250/tty/ttyS0");
    fake_link(f->sys, "devices/platform/serial8250/tty/ttyS0/device", "../../../serial8250");
    fake_link(f->sys, "class/tty/ttyS0", "../../devices/platform/serial8250/tty/ttyS0");
    fake_dev_node(f, "ttyS0", NULL);
    fake_path(tty, sizeof(tty), f->dev, "ttyS0");
    assert_int_equal(resolve(f, "auto", tty, &d, err, sizeof(err)), -ENODEV);
    assert_non_null(strstr(err, "tty ttyS0 is not on a USB device (no idVendor above"));

    /* A virtual tty without a device link. */
    fake_mkdir(f->sys, "devices/virtual/tty/tty5");
    fake_link(f->sys, "class/tty/tty5", "../../devices/virtual/tty/tty5");
    fake_dev_node(f, "tty5", NULL);
    fake_path(tty, sizeof(tty), f->dev, "tty5");
    assert_int_equal(resolve(f, "auto", tty, &d, err, sizeof(err)), -ENODEV);
    assert_non_null(strstr(err, "has no device"));
}

static void test_serial_is_sanitized(void **state)
{
    struct fake_sysfs *f = *state;
    struct usb_device_ref d;
    char err[256] = "";
    fake_put(f->sys, MODEM "/serial", "MF\x1b[2J\n");
    assert_int_equal(resolve(f, "1-1.2", NULL, &d, err, sizeof(err)), 0);
    assert_string_equal(d.serial, "MF?[2J");
}

static void test_missing_attribute(void **state)
{
    struct fake_sysfs *f = *state;
    struct usb_device_ref d;
    char err[512] = "";
    fake_remove(f->sys, MODEM "/devnum");
    assert_int_equal(resolve(f, "1-1.2", NULL, &d, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "1-1.2/devnum"));
}

/* What a reset looks like from sysfs: the ttys go, the stick may come back
 * in CD-ROM mode, then with its ttys renumbered one interface at a time. */
static void test_ready(void **state)
{
    struct fake_sysfs *f = *state;
    struct usb_device_ref d;
    char err[256] = "", tty[PATH_MAX], now[64] = "";
    fake_path(tty, sizeof(tty), f->dev, BY_ID);
    assert_int_equal(resolve(f, "auto", tty, &d, err, sizeof(err)), 0);
    assert_true(usb_device_ready(f->sys, &d, now, sizeof(now)));
    assert_string_equal(now, "ttyUSB2");

    char rm[PATH_MAX];
    fake_path(rm, sizeof(rm), f->sys, MODEM "/1-1.2:1.2/ttyUSB2");
    assert_int_equal(fake_sysfs_rm_tree(rm), 0);
    assert_false(usb_device_ready(f->sys, &d, now, sizeof(now))); /* ttyUSB0, 1 left, not on 1.2 */

    fake_put(f->sys, MODEM "/idProduct", "2000\n"); /* usb_modeswitch has not run yet */
    fake_mkdir(f->sys, MODEM "/1-1.2:1.2/ttyUSB5");
    assert_false(usb_device_ready(f->sys, &d, now, sizeof(now)));

    fake_put(f->sys, MODEM "/idProduct", "0031\n");
    assert_true(usb_device_ready(f->sys, &d, now, sizeof(now)));
    assert_string_equal(now, "ttyUSB5");
    assert_true(usb_device_ready(f->sys, &d, NULL, 0));

    fake_remove(f->sys, "bus/usb/devices/1-1.2");
    assert_false(usb_device_ready(f->sys, &d, now, sizeof(now)));
}

static void test_ready_any_interface(void **state)
{
    struct fake_sysfs *f = *state;
    struct usb_device_ref d;
    char err[256] = "", now[64] = "";
    assert_int_equal(resolve(f, "1-1.2", NULL, &d, err, sizeof(err)), 0);
    d.iface[0] = '\0';
    assert_true(usb_device_ready(f->sys, &d, now, sizeof(now)));
    assert_string_equal(now, "ttyUSB0");
    char small[4];
    assert_false(usb_device_ready(f->sys, &d, small, sizeof(small)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_table),
        cmocka_unit_test_setup_teardown(test_auto_by_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auto_acm, setup, teardown),
        cmocka_unit_test_setup_teardown(test_by_id_and_port, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_identical_sticks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_found_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_auto_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_serial_is_sanitized, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_attribute, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ready, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ready_any_interface, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
