/* usb_reset_sysfs: method names, the two-phase dispatch, and the methods that
 * are writes to sysfs files (rebind, authorized, port_power's disable file).
 * The libusb halves are in usb_reset_libusb.c. */
#include "sms-sentinel/usb_reset.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sms-sentinel/fsutil.h"
#include "sms-sentinel/strbuf.h"

const char *usb_method_str(enum usb_method m)
{
    switch (m) {
    case USB_METHOD_USBRESET:
        return "usbreset";
    case USB_METHOD_REBIND:
        return "rebind";
    case USB_METHOD_AUTHORIZED:
        return "authorized";
    case USB_METHOD_PORT_POWER:
        return "port_power";
    }
    return "?";
}

int usb_method_from_str(const char *name, enum usb_method *out)
{
    static const enum usb_method all[] = {USB_METHOD_USBRESET, USB_METHOD_REBIND, USB_METHOD_AUTHORIZED,
                                          USB_METHOD_PORT_POWER};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (strcmp(name, usb_method_str(all[i])) == 0) {
            *out = all[i];
            return 0;
        }
    }
    return -1;
}

int usb_hub_port_of(const char *port, char *hub, size_t hubsize, int *portnum)
{
    if (!usb_port_path_valid(port))
        return -1;
    const char *dot = strrchr(port, '.');
    const char *dash = strchr(port, '-');
    int rc;
    if (dot)
        rc = format_checked(hub, hubsize, "%.*s", (int)(dot - port), port);
    else
        rc = format_checked(hub, hubsize, "usb%.*s", (int)(dash - port), port);
    *portnum = atoi(dot ? dot + 1 : dash + 1);
    return rc;
}

/* ---- writing one value to one file ---- */

/* sysfs attributes are root-only files: say which privilege is usually missing. */
static const char *hint(int e)
{
    switch (e) {
    case EACCES:
    case EPERM:
        return "needs root or CAP_DAC_OVERRIDE / write access to ";
    case ENOENT:
        return "device gone, or this kernel has no ";
    default:
        return NULL;
    }
}

/* 0, -errno, or 1 for a short write (which sysfs reports for a value it took
 * only in part). */
static int write_value(int fd, const char *value)
{
    size_t len = strlen(value);
    ssize_t n;
    do
        n = write(fd, value, len);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    return (size_t)n == len ? 0 : 1;
}

static void write_failed(const char *path, const char *value, int rc, char *err, size_t errsize)
{
    if (rc == 1)
        format_checked(err, errsize, "short write of \"%s\" to %s", value, path);
    else if (hint(-rc))
        format_checked(err, errsize, "cannot write \"%s\" to %s: %s (%s%s)", value, path, strerror(-rc),
                       hint(-rc), path);
    else
        format_checked(err, errsize, "cannot write \"%s\" to %s: %s", value, path, strerror(-rc));
}

/* open(O_WRONLY)+write, no O_CREAT: a missing attribute is an error, not a new
 * file. O_TRUNC is harmless on sysfs and keeps fake trees readable. */
static int sysfs_write(const char *path, const char *value, char *err, size_t errsize)
{
    int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
    int rc = fd < 0 ? -errno : write_value(fd, value);
    if (fd >= 0 && close(fd) < 0 && rc == 0)
        rc = -errno;
    if (rc != 0)
        write_failed(path, value, rc, err, errsize);
    return rc == 1 ? -EIO : rc;
}

static int write_under(const char *root, const char *rel, const char *value, char *err, size_t errsize)
{
    char path[PATH_MAX];
    if (format_checked(path, sizeof(path), "%s/%s", root, rel) < 0) {
        format_checked(err, errsize, "path too long under %s", root);
        return -ENAMETOOLONG;
    }
    return sysfs_write(path, value, err, errsize);
}

/* ---- the methods ---- */

static int driver_write(const char *root, const char *file, const char *port, char *err, size_t errsize)
{
    char rel[64];
    if (format_checked(rel, sizeof(rel), "bus/usb/drivers/usb/%s", file) < 0)
        return -ENAMETOOLONG;
    return write_under(root, rel, port, err, errsize);
}

static int authorized_write(const char *root, const char *port, const char *value, char *err, size_t errsize)
{
    char rel[96];
    if (format_checked(rel, sizeof(rel), "bus/usb/devices/%s/authorized", port) < 0)
        return -ENAMETOOLONG;
    return write_under(root, rel, value, err, errsize);
}

/* <hub>/<hub interface>/<hub>-port<N>/disable; a root hub "usbB" has the
 * interface "B-0:1.0". */
static int disable_path(const char *root, const char *hub, int portnum, char *path, size_t size)
{
    char iface[48];
    int rc = strncmp(hub, "usb", 3) == 0 ? format_checked(iface, sizeof(iface), "%s-0:1.0", hub + 3)
                                          : format_checked(iface, sizeof(iface), "%s:1.0", hub);
    if (rc == 0)
        rc = format_checked(path, size, "%s/bus/usb/devices/%s/%s/%s-port%d/disable", root, hub, iface, hub, portnum);
    return rc < 0 ? -ENAMETOOLONG : 0;
}

static int read_number(const char *dir, const char *name, int *out)
{
    char path[PATH_MAX], *data, *end;
    size_t len;
    if (format_checked(path, sizeof(path), "%s/%s", dir, name) < 0)
        return -ENAMETOOLONG;
    int rc = fs_read_file(path, 64, &data, &len);
    if (rc < 0)
        return rc;
    long v = strtol(data, &end, 10);
    rc = (end == data || (*end != '\0' && *end != '\n') || v < 0 || v > 65535) ? -EINVAL : 0;
    *out = (int)v;
    free(data);
    return rc;
}

/* Pre-6.0 kernels: hub class requests on the hub found by its sysfs numbers. */
static int hub_request(const char *root, const char *hub, int portnum, bool on, char *err, size_t errsize)
{
    char dir[PATH_MAX];
    int busnum = 0, devnum = 0;
    int rc = format_checked(dir, sizeof(dir), "%s/bus/usb/devices/%s", root, hub) < 0 ? -ENAMETOOLONG : 0;
    if (rc == 0)
        rc = read_number(dir, "busnum", &busnum);
    if (rc == 0)
        rc = read_number(dir, "devnum", &devnum);
    if (rc < 0) {
        format_checked(err, errsize, "no port disable file and cannot read hub %s/busnum,devnum: %s", dir,
                       strerror(-rc));
        return rc;
    }
    return usb_libusb_port_power(busnum, devnum, portnum, on, err, errsize);
}

static int port_power(const char *root, const char *port, bool on, char *err, size_t errsize)
{
    char hub[32], path[PATH_MAX];
    int portnum;
    if (usb_hub_port_of(port, hub, sizeof(hub), &portnum) < 0 ||
        disable_path(root, hub, portnum, path, sizeof(path)) < 0) {
        format_checked(err, errsize, "cannot name the hub port of %s", port);
        return -EINVAL;
    }
    if (access(path, F_OK) == 0)
        return sysfs_write(path, on ? "0" : "1", err, errsize);
    return hub_request(root, hub, portnum, on, err, errsize);
}

/* ---- two-phase dispatch ---- */

static int check_port(const struct usb_device_ref *dev, char *err, size_t errsize)
{
    if (usb_port_path_valid(dev->port))
        return 0;
    format_checked(err, errsize, "not a USB port name: \"%.31s\"", dev->port);
    return -EINVAL;
}

static int begin_method(enum usb_method m, const char *root, const struct usb_device_ref *dev, int64_t *pause_ms,
                        char *err, size_t errsize)
{
    switch (m) {
    case USB_METHOD_USBRESET:
        *pause_ms = 0;
        return usb_libusb_reset(dev->busnum, dev->devnum, dev->vid, dev->pid, err, errsize);
    case USB_METHOD_REBIND:
        *pause_ms = USB_REBIND_PAUSE_MS;
        return driver_write(root, "unbind", dev->port, err, errsize);
    case USB_METHOD_AUTHORIZED:
        *pause_ms = USB_AUTHORIZED_PAUSE_MS;
        return authorized_write(root, dev->port, "0", err, errsize);
    case USB_METHOD_PORT_POWER:
        *pause_ms = USB_PORT_POWER_PAUSE_MS;
        return port_power(root, dev->port, false, err, errsize);
    }
    format_checked(err, errsize, "unknown USB reset method %d", (int)m);
    return -EINVAL;
}

int usb_reset_begin(enum usb_method m, const char *sysfs_root, const struct usb_device_ref *dev, int64_t *pause_ms,
                    char *err, size_t errsize)
{
    *pause_ms = 0;
    int rc = check_port(dev, err, errsize);
    if (rc == 0)
        rc = begin_method(m, sysfs_root, dev, pause_ms, err, errsize);
    if (rc < 0)
        *pause_ms = 0;
    return rc;
}

int usb_reset_finish(enum usb_method m, const char *sysfs_root, const struct usb_device_ref *dev, char *err,
                     size_t errsize)
{
    int rc = check_port(dev, err, errsize);
    if (rc < 0)
        return rc;
    switch (m) {
    case USB_METHOD_USBRESET:
        return 0;
    case USB_METHOD_REBIND:
        return driver_write(sysfs_root, "bind", dev->port, err, errsize);
    case USB_METHOD_AUTHORIZED:
        return authorized_write(sysfs_root, dev->port, "1", err, errsize);
    case USB_METHOD_PORT_POWER:
        return port_power(sysfs_root, dev->port, true, err, errsize);
    }
    format_checked(err, errsize, "unknown USB reset method %d", (int)m);
    return -EINVAL;
}
