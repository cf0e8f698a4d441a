/* usb_reset: the USB reset methods, least to most invasive. Each runs in two
 * phases so the daemon never sleeps: begin() does the first half and says how
 * long to wait before finish(); the caller arms a timer on its poll loop.
 * After any method the device re-enumerates (new devnum, maybe another tty
 * name, maybe as a CD-ROM first): wait with usb_device_ready(), re-resolve.
 *
 * usbreset   USBDEVFS_RESET through libusb_reset_device() on /dev/bus/usb/BBB/DDD
 *            (the device matched by busnum/devnum and checked to still be
 *            vid:pid); pause 0, finish does nothing.
 * rebind     port name to <sysfs_root>/bus/usb/drivers/usb/unbind, pause, then
 *            to .../bind.
 * authorized "0", pause, then "1" to <sysfs_root>/bus/usb/devices/<port>/authorized.
 * port_power power-cycles the hub port the device sits on. Linux >= 6.0: "1",
 *            pause, then "0" to <hub interface>/<hub>-port<N>/disable; without
 *            that file, hub class requests ClearPortFeature/SetPortFeature
 *            (PORT_POWER) through libusb. Raspberry Pi hubs gang port power:
 *            one port off drops every USB device (disks, Zigbee sticks, the
 *            Ethernet adapter on older boards), so this method is opt-in and last.
 *
 * The sysfs methods write with open(O_WRONLY)+write, never a shell. libusb is
 * used with a private context per call (no process-wide state); its calls
 * block at most for one control transfer (USB_HUB_TIMEOUT_MS) or one reset. */
#ifndef SMS_SENTINEL_USB_RESET_H
#define SMS_SENTINEL_USB_RESET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sms-sentinel/usb_device.h"

enum usb_method {
    USB_METHOD_USBRESET,
    USB_METHOD_REBIND,
    USB_METHOD_AUTHORIZED,
    USB_METHOD_PORT_POWER,
};

/* Pauses between the two halves: enough for the kernel to tear down the
 * interfaces (rebind, authorized) and for the stick's supply to drain. */
#define USB_REBIND_PAUSE_MS 1000
#define USB_AUTHORIZED_PAUSE_MS 1000
#define USB_PORT_POWER_PAUSE_MS 2000
#define USB_HUB_TIMEOUT_MS 1000

/* "usbreset", "rebind", "authorized", "port_power" (the config's names); a
 * static string. */
const char *usb_method_str(enum usb_method m);
/* 0, or -1 when name is not one of the above. */
int usb_method_from_str(const char *name, enum usb_method *out);

/* First half of method m on dev. Returns 0 with *pause_ms (wait that long, then
 * call usb_reset_finish()), or -errno with a message naming the file or call
 * that failed and, for EACCES/EPERM, the privilege usually missing. */
int usb_reset_begin(enum usb_method m, const char *sysfs_root, const struct usb_device_ref *dev, int64_t *pause_ms,
                    char *err, size_t errsize);
/* Second half; 0 or -errno with a message. Call it even if the wait was cut
 * short, or the device stays unbound, deauthorized or unpowered. */
int usb_reset_finish(enum usb_method m, const char *sysfs_root, const struct usb_device_ref *dev, char *err,
                     size_t errsize);

/* The hub port a device hangs off: "1-1.2" -> hub "1-1" port 2, "1-3" -> root
 * hub "usb1" port 3. Pure; 0 or -1 for a malformed port. */
int usb_hub_port_of(const char *port, char *hub, size_t hubsize, int *portnum);

/* libusb backends (usb_reset_libusb.c, the only file that includes libusb.h);
 * public so that tests can run them under umockdev. */
/* USBDEVFS_RESET on the device at busnum/devnum if it still is vid:pid.
 * LIBUSB_ERROR_NOT_FOUND after the reset (the device re-enumerated) counts as
 * success. 0 or -errno with a message. */
int usb_libusb_reset(int busnum, int devnum, unsigned vid, unsigned pid, char *err, size_t errsize);
/* SetPortFeature (on) or ClearPortFeature (off) PORT_POWER for port portnum of
 * the hub at busnum/devnum. 0 or -errno with a message. */
int usb_libusb_port_power(int busnum, int devnum, int portnum, bool on, char *err, size_t errsize);

#endif
