/* usb_device: which USB device is the modem. Parses the [recovery] usb_device
 * value (pure) and finds the device in a sysfs tree (reads only; sysfs_root is
 * "/sys" in production and a fake tree in tests). Nothing here blocks for long:
 * a few small reads of sysfs attributes and directory scans. */
#ifndef SMS_SENTINEL_USB_DEVICE_H
#define SMS_SENTINEL_USB_DEVICE_H

#include <stdbool.h>
#include <stddef.h>

enum usb_spec_kind {
    USB_SPEC_AUTO, /* from the modem's tty (gammu-smsd's device) */
    USB_SPEC_ID,   /* VID:PID, optionally :serial */
    USB_SPEC_PORT, /* a port path like "1-1.2" */
};

struct usb_spec {
    enum usb_spec_kind kind;
    unsigned vid, pid;  /* USB_SPEC_ID */
    char serial[128];   /* USB_SPEC_ID; "" matches any serial */
    char port[32];      /* USB_SPEC_PORT */
};

struct usb_device_ref {
    char port[32];      /* sysfs name of the USB device, e.g. "1-1.2" */
    int busnum, devnum; /* from sysfs busnum/devnum; devnum changes on re-enumeration */
    unsigned vid, pid;  /* idVendor/idProduct */
    char serial[128];   /* may be ""; bytes outside printable ASCII read as '?' */
    char tty[64];       /* tty name under it now, e.g. "ttyUSB2", "" if none */
    char iface[16];     /* interface holding that tty, e.g. "1.2" (the part after
                         * "<port>:"); "" if none. usb_device_ready() waits for a
                         * tty on this interface, since a stick brings its ttys
                         * back one by one and may renumber them. */
};

/* Parses "auto", "VID:PID" or "VID:PID:serial" (exactly 4 hex digits each,
 * serial printable ASCII without spaces, < 128 bytes), or a port path ("1-1.2":
 * 1-3 bus digits, '-', then 1-3 digit port numbers separated by '.').
 * Returns 0, or -1 with a message in err. Pure. */
int usb_spec_parse(const char *text, struct usb_spec *out, char *err, size_t errsize);

/* True for a port path as above (also what usb_spec_parse accepts as one). Pure. */
bool usb_port_path_valid(const char *s);

/* Finds the device under sysfs_root and fills *out:
 * - auto: realpath(tty_device) (so /dev/serial/by-id links are followed; only
 *   the basename is used), then <sysfs_root>/class/tty/<name>/device, its
 *   realpath, and up to the first directory holding idVendor whose name has no
 *   ':' (interface directories have one). out->tty is that name.
 * - VID:PID[:serial]: scans <sysfs_root>/bus/usb/devices/; more than one match
 *   is an error (-EEXIST) rather than a guess: name the serial or the port.
 * - port: <sysfs_root>/bus/usb/devices/<port> must exist and hold idVendor.
 * tty_device is only used (and may be NULL) for auto. Without auto, out->tty is
 * the tty on the lowest-numbered interface that has one. Returns 0, or -ENOENT,
 * -ENODEV, -EEXIST, -EINVAL... with a message naming what is missing, e.g.
 * "no USB device 19d2:0031 under /sys/bus/usb/devices". */
int usb_resolve(const char *sysfs_root, const struct usb_spec *spec, const char *tty_device,
                struct usb_device_ref *out, char *err, size_t errsize);

/* True when <sysfs_root>/bus/usb/devices/<dev->port> exists again with the same
 * vid:pid and a tty (on dev->iface when that is set); used to wait for
 * re-enumeration after a reset. The tty name found goes to tty_out (may be NULL).
 * Re-run usb_resolve() afterwards for the new devnum. */
bool usb_device_ready(const char *sysfs_root, const struct usb_device_ref *dev, char *tty_out, size_t tty_size);

#endif
