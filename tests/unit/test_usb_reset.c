/* usb_reset: each sysfs method writes the right value to the right file, in
 * order, across its two phases (read back after begin and after finish); errors
 * name the file and the missing privilege; the libusb paths fail cleanly when
 * the device is not there (the umockdev test covers them succeeding). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <sys/wait.h>

#include "../fixtures/usb/fake_sysfs.h"
#include "sms-sentinel/usb_reset.h"

#define HUB FAKE_PCI "/usb1/1-1"
#define MODEM HUB "/1-1.2"
#define PORT2_DISABLE HUB "/1-1:1.0/1-1-port2/disable"

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

static struct usb_device_ref modem(void)
{
    struct usb_device_ref d = {.port = "1-1.2", .busnum = 1, .devnum = 5, .vid = 0x19d2, .pid = 0x0031};
    return d;
}

static void assert_file(struct fake_sysfs *f, const char *rel, const char *want)
{
    char buf[128];
    assert_string_equal(fake_get(f->sys, rel, buf, sizeof(buf)), want);
}

static void test_method_names(void **state)
{
    (void)state;
    static const char *const names[] = {"usbreset", "rebind", "authorized", "port_power"};
    for (size_t i = 0; i < 4; i++) {
        enum usb_method m;
        assert_int_equal(usb_method_from_str(names[i], &m), 0);
        assert_string_equal(usb_method_str(m), names[i]);
    }
    enum usb_method m = USB_METHOD_REBIND;
    assert_int_equal(usb_method_from_str("restart_smsd", &m), -1);
    assert_int_equal(usb_method_from_str("", &m), -1);
    assert_int_equal(m, USB_METHOD_REBIND);
}

static void test_hub_port_of(void **state)
{
    (void)state;
    static const struct {
        const char *port, *hub;
        int n;
    } rows[] = {
        {"1-1.2", "1-1", 2}, {"1-3", "usb1", 3}, {"2-1.4.3", "2-1.4", 3}, {"12-10", "usb12", 10},
        {"1-", NULL, 0},     {"usb1", NULL, 0},  {"../x", NULL, 0},       {"", NULL, 0},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char hub[32] = "";
        int n = 0;
        print_message("port \"%s\"\n", rows[i].port);
        assert_int_equal(usb_hub_port_of(rows[i].port, hub, sizeof(hub), &n), rows[i].hub ? 0 : -1);
        if (!rows[i].hub)
            continue;
        assert_string_equal(hub, rows[i].hub);
        assert_int_equal(n, rows[i].n);
    }
}

static void test_rebind(void **state)
{
    struct fake_sysfs *f = *state;
    struct usb_device_ref d = modem();
    char err[256] = "";
    int64_t pause = -1;
    assert_int_equal(usb_reset_begin(USB_METHOD_REBIND, f->sys, &d, &pause, err, sizeof(err)), 0);
    assert_int_equal(pause, USB_REBIND_PAUSE_MS);
    assert_file(f, "bus/usb/drivers/usb/unbind", "1-1.2");
    assert_file(f, "bus/usb/drivers/usb/bind", "");
    assert_int_equal(usb_reset_finish(USB_METHOD_REBIND, f->sys, &d, err, sizeof(err)), 0);
    assert_file(f, "bus/usb/drivers/usb/bind", "1-1.2");
}

static void test_authorized(void **state)
{
    struct fake_sysfs *f = *state;
    struct usb_device_ref d = modem();
    char err[256] = "";
    int64_t pause = -1;
    assert_int_equal(usb_reset_begin(USB_METHOD_AUTHORIZED, f->sys, &d, &pause, err, sizeof(err)), 0);
    assert_int_equal(pause, USB_AUTHORIZED_PAUSE_MS);
    assert_file(f, MODEM "/authorized", "0");
    assert_int_equal(usb_reset_finish(USB_METHOD_AUTHORIZED, f->sys, &d, err, sizeof(err)), 0);
    assert_file(f, MODEM "/authorized", "1");
}

static void test_port_power_disable_file(void **state)
{
    struct fake_sysfs *f = *state;
    struct usb_device_ref d = modem();
    char err[256] = "";
    int64_t pause = -1;
    assert_int_equal(usb_reset_begin(USB_METHOD_PORT_POWER, f->sys, &d, &pause, err, sizeof(err)), 0);
    assert_int_equal(pause, USB_PORT_POWER_PAUSE_MS);
    assert_file(f, PORT2_DISABLE, "1");
    assert_file(f, HUB "/1-1:1.0/1-1-port1/disable", "0\n"); /* neighbours untouched */
    assert_file(f, HUB "/1-1:1.0/1-1-port3/disable", "0\n");
    assert_int_equal(usb_reset_finish(USB_METHOD_PORT_POWER, f->sys, &d, err, sizeof(err)), 0);
    assert_file(f, PORT2_DISABLE, "0");
}

static void test_port_power_root_hub(void **state)
{
    struct fake_sysfs *f = *state;
    struct usb_device_ref hub = {.port = "1-1", .busnum = 1, .devnum = 2, .vid = 0x05e3, .pid = 0x0608};
    char err[256] = "";
    int64_t pause = -1;
    assert_int_equal(usb_reset_begin(USB_METHOD_PORT_POWER, f->sys, &hub, &pause, err, sizeof(err)), 0);
    assert_file(f, FAKE_PCI "/usb1/1-0:1.0/usb1-port1/disable", "1");
    assert_int_equal(usb_reset_finish(USB_METHOD_PORT_POWER, f->sys, &hub, err, sizeof(err)), 0);
    assert_file(f, FAKE_PCI "/usb1/1-0:1.0/usb1-port1/disable", "0");
}

/* No disable file (Linux < 6.0): falls back to a hub request through libusb
 * on the hub's bus/dev numbers, which fails here: no such device node. */
static void test_port_power_fallback(void **state)
{
    struct fake_sysfs *f = *state;
    struct usb_device_ref d = modem();
    char err[512] = "";
    int64_t pause = -1;
    fake_remove(f->sys, PORT2_DISABLE);
    fake_put(f->sys, HUB "/busnum", "250\n");
    fake_put(f->sys, HUB "/devnum", "251\n");
    assert_true(usb_reset_begin(USB_METHOD_PORT_POWER, f->sys, &d, &pause, err, sizeof(err)) < 0);
    assert_int_equal(pause, 0);
    assert_non_null(strstr(err, "/dev/bus/usb/250/251"));

    fake_remove(f->sys, HUB "/devnum");
    assert_int_equal(usb_reset_begin(USB_METHOD_PORT_POWER, f->sys, &d, &pause, err, sizeof(err)), -ENOENT);
    assert_non_null(strstr(err, "no port disable file and cannot read hub"));
}

static void test_usbreset_without_device(void **state)
{
    (void)state;
    struct usb_device_ref d = {.port = "250-1", .busnum = 250, .devnum = 250, .vid = 0, .pid = 0};
    char err[256] = "";
    int64_t pause = -1;
    assert_true(usb_reset_begin(USB_METHOD_USBRESET, "/nonexistent", &d, &pause, err, sizeof(err)) < 0);
    assert_int_equal(pause, 0);
    assert_non_null(strstr(err, "/dev/bus/usb/250/250"));
    assert_int_equal(usb_reset_finish(USB_METHOD_USBRESET, "/nonexistent", &d, err, sizeof(err)), 0);
}

static void test_missing_file(void **state)
{
    struct fake_sysfs *f = *state;
    struct usb_device_ref d = modem();
    char err[PATH_MAX + 256] = "", want[PATH_MAX + 64];
    int64_t pause = -1;
    fake_remove(f->sys, "bus/usb/drivers/usb/unbind");
    assert_int_equal(usb_reset_begin(USB_METHOD_REBIND, f->sys, &d, &pause, err, sizeof(err)), -ENOENT);
    fake_fmt(want, sizeof(want), "cannot write \"1-1.2\" to %s/bus/usb/drivers/usb/unbind", f->sys);
    assert_non_null(strstr(err, want));
    assert_int_equal(pause, 0);
    assert_file(f, "bus/usb/drivers/usb/unbind", "<missing>"); /* not created */
}

static void test_directory_in_the_way(void **state)
{
    struct fake_sysfs *f = *state;
    struct usb_device_ref d = modem();
    char err[PATH_MAX + 256] = "";
    fake_remove(f->sys, MODEM "/authorized");
    fake_mkdir(f->sys, MODEM "/authorized");
    assert_int_equal(usb_reset_finish(USB_METHOD_AUTHORIZED, f->sys, &d, err, sizeof(err)), -EISDIR);
    assert_non_null(strstr(err, "1-1.2/authorized: Is a directory"));
}

/* As root (CI containers) file modes do not stop us: drop to nobody in a child,
 * which then cannot even enter the 0700 mkdtemp dir. */
static int eacces_child(struct fake_sysfs *f)
{
    struct usb_device_ref d = modem();
    char err[PATH_MAX + 256] = "", path[PATH_MAX];
    int64_t pause;
    if (geteuid() == 0 && (setgid(65534) < 0 || setuid(65534) < 0))
        return 77;
    int rc = usb_reset_begin(USB_METHOD_AUTHORIZED, f->sys, &d, &pause, err, sizeof(err));
    fake_path(path, sizeof(path), f->sys, "bus/usb/devices/1-1.2/authorized");
    if (rc != -EACCES || !strstr(err, "needs root") || !strstr(err, path)) {
        fprintf(stderr, "rc %d: %s\n", rc, err);
        return 1;
    }
    return 0;
}

static void test_eacces_message(void **state)
{
    struct fake_sysfs *f = *state;
    char path[PATH_MAX];
    fake_path(path, sizeof(path), f->sys, MODEM "/authorized");
    assert_int_equal(chmod(path, 0444), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        _exit(eacces_child(f));
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77)
        skip();
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_file(f, MODEM "/authorized", "1\n");
}

static void test_bad_port_writes_nothing(void **state)
{
    struct fake_sysfs *f = *state;
    static const char *const bad[] = {"../x", "1-1.2\n", "", "1-1.2/../../x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct usb_device_ref d = modem();
        char err[256] = "";
        int64_t pause = -1;
        fake_fmt(d.port, sizeof(d.port), "%s", bad[i]);
        assert_int_equal(usb_reset_begin(USB_METHOD_REBIND, f->sys, &d, &pause, err, sizeof(err)), -EINVAL);
        assert_int_equal(usb_reset_finish(USB_METHOD_REBIND, f->sys, &d, err, sizeof(err)), -EINVAL);
        assert_int_equal(pause, 0);
    }
    assert_file(f, "bus/usb/drivers/usb/unbind", "");
    assert_file(f, "bus/usb/drivers/usb/bind", "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_method_names),
        cmocka_unit_test(test_hub_port_of),
        cmocka_unit_test_setup_teardown(test_rebind, setup, teardown),
        cmocka_unit_test_setup_teardown(test_authorized, setup, teardown),
        cmocka_unit_test_setup_teardown(test_port_power_disable_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_port_power_root_hub, setup, teardown),
        cmocka_unit_test_setup_teardown(test_port_power_fallback, setup, teardown),
        cmocka_unit_test(test_usbreset_without_device),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_directory_in_the_way, setup, teardown),
        cmocka_unit_test_setup_teardown(test_eacces_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_port_writes_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
