/* usb_reset against umockdev's fake USB bus: libusb really enumerates, opens
 * and resets the 19d2:0031 described in tests/fixtures/usb/zte_mf112.umockdev,
 * and the hub fallback sends the exact hub requests of root_hub_port1.ioctl.
 * Every test skips unless run under umockdev (UMOCKDEV_DIR set): ctest runs it
 * bare, tests/integration/test_umockdev_reset.py runs it under umockdev. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sms-sentinel/usb_device.h"
#include "sms-sentinel/usb_reset.h"

static void need_umockdev(void)
{
    if (!getenv("UMOCKDEV_DIR")) {
        print_message("skipped: not running under umockdev (see tests/integration/test_umockdev_reset.py)\n");
        skip();
    }
}

static void resolve_modem(struct usb_device_ref *d)
{
    struct usb_spec spec;
    char err[256] = "";
    assert_int_equal(usb_spec_parse("19d2:0031", &spec, err, sizeof(err)), 0);
    assert_int_equal(usb_resolve("/sys", &spec, NULL, d, err, sizeof(err)), 0);
}

static void test_resolve_in_umockdev(void **state)
{
    (void)state;
    need_umockdev();
    struct usb_device_ref d;
    resolve_modem(&d);
    assert_string_equal(d.port, "1-1");
    assert_int_equal(d.busnum, 1);
    assert_int_equal(d.devnum, 2);
    assert_string_equal(d.serial, "MF112-A");
    assert_string_equal(d.tty, "ttyUSB2");
    assert_string_equal(d.iface, "1.2");
    assert_true(usb_device_ready("/sys", &d, NULL, 0));
}

/* Auto from a tty path. umockdev 0.17 crashes in realpath() of its emulated
 * /dev/ttyUSB2, so the "device node" is a plain file with that name. */
static void test_auto_in_umockdev(void **state)
{
    (void)state;
    need_umockdev();
    char dir[] = "/tmp/usbnode.XXXXXX", node[PATH_MAX], err[256] = "";
    assert_non_null(mkdtemp(dir));
    assert_true(snprintf(node, sizeof(node), "%s/ttyUSB2", dir) < (int)sizeof(node));
    int fd = open(node, O_WRONLY | O_CREAT, 0600);
    assert_true(fd >= 0);
    close(fd);
    struct usb_spec spec;
    struct usb_device_ref d;
    assert_int_equal(usb_spec_parse("auto", &spec, err, sizeof(err)), 0);
    int rc = usb_resolve("/sys", &spec, node, &d, err, sizeof(err));
    unlink(node);
    rmdir(dir);
    assert_int_equal(rc, 0);
    assert_string_equal(d.port, "1-1");
    assert_string_equal(d.tty, "ttyUSB2");
}

static void test_usbreset(void **state)
{
    (void)state;
    need_umockdev();
    struct usb_device_ref d;
    char err[256] = "";
    int64_t pause = -1;
    resolve_modem(&d);
    assert_int_equal(usb_reset_begin(USB_METHOD_USBRESET, "/sys", &d, &pause, err, sizeof(err)), 0);
    assert_int_equal(pause, 0);
    assert_int_equal(usb_reset_finish(USB_METHOD_USBRESET, "/sys", &d, err, sizeof(err)), 0);
}

/* A ref from before a re-enumeration: same bus/dev numbers, another device. */
static void test_stale_ref_is_not_reset(void **state)
{
    (void)state;
    need_umockdev();
    struct usb_device_ref d;
    char err[256] = "";
    int64_t pause = -1;
    resolve_modem(&d);
    d.pid = 0x2000;
    assert_int_equal(usb_reset_begin(USB_METHOD_USBRESET, "/sys", &d, &pause, err, sizeof(err)), -ESTALE);
    assert_non_null(strstr(err, "/dev/bus/usb/001/002 is now 19d2:0031"));
}

/* umockdev has no <hub>-portN/disable file: port_power falls back to hub
 * class requests, which root_hub_port1.ioctl checks byte for byte. */
static void test_port_power_hub_requests(void **state)
{
    (void)state;
    need_umockdev();
    if (!getenv("SMS_UMOCKDEV_HUB")) {
        print_message("skipped: needs --ioctl /dev/bus/usb/001/001=root_hub_port1.ioctl\n");
        skip();
    }
    struct usb_device_ref d;
    char err[256] = "";
    int64_t pause = -1;
    resolve_modem(&d);
    assert_int_equal(usb_reset_begin(USB_METHOD_PORT_POWER, "/sys", &d, &pause, err, sizeof(err)), 0);
    assert_int_equal(pause, USB_PORT_POWER_PAUSE_MS);
    assert_int_equal(usb_reset_finish(USB_METHOD_PORT_POWER, "/sys", &d, err, sizeof(err)), 0);
    /* A request the tree does not hold (another port) is refused: the tree
     * really checks the setup bytes. */
    assert_int_equal(usb_libusb_port_power(1, 1, 2, false, err, sizeof(err)), -EIO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolve_in_umockdev),
        cmocka_unit_test(test_auto_in_umockdev),
        cmocka_unit_test(test_usbreset),
        cmocka_unit_test(test_stale_ref_is_not_reset),
        cmocka_unit_test(test_port_power_hub_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
