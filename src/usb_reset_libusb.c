/* usb_reset_libusb: the reset methods that go through usbfs: USBDEVFS_RESET
 * (libusb_reset_device) and hub port power requests. The only file that
 * includes libusb.h. Each call opens a private libusb context and closes it
 * before returning, so nothing lives between a begin() and a finish(). */
#include "sms-sentinel/usb_reset.h"

#include <errno.h>
#include <string.h>

#include <libusb.h>

#include "sms-sentinel/strbuf.h"

#define HUB_PORT_POWER 8 /* hub class feature selector PORT_POWER (USB 2 and 3) */

static const struct {
    int usb;
    int err;
} errno_map[] = {
    {LIBUSB_ERROR_IO, EIO},          {LIBUSB_ERROR_INVALID_PARAM, EINVAL}, {LIBUSB_ERROR_ACCESS, EACCES},
    {LIBUSB_ERROR_NO_DEVICE, ENODEV}, {LIBUSB_ERROR_NOT_FOUND, ENOENT},     {LIBUSB_ERROR_BUSY, EBUSY},
    {LIBUSB_ERROR_TIMEOUT, ETIMEDOUT}, {LIBUSB_ERROR_OVERFLOW, EOVERFLOW},  {LIBUSB_ERROR_PIPE, EPIPE},
    {LIBUSB_ERROR_INTERRUPTED, EINTR}, {LIBUSB_ERROR_NO_MEM, ENOMEM},       {LIBUSB_ERROR_NOT_SUPPORTED, ENOTSUP},
};

static int errno_of(int usb_rc)
{
    for (size_t i = 0; i < sizeof(errno_map) / sizeof(errno_map[0]); i++)
        if (errno_map[i].usb == usb_rc)
            return -errno_map[i].err;
    return -EIO;
}

static int failed(int usb_rc, const char *what, int busnum, int devnum, char *err, size_t errsize)
{
    if (usb_rc == LIBUSB_ERROR_ACCESS)
        format_checked(err, errsize,
                       "%s /dev/bus/usb/%03d/%03d: %s (needs root or write access to /dev/bus/usb/%03d/%03d)", what,
                       busnum, devnum, libusb_strerror(usb_rc), busnum, devnum);
    else
        format_checked(err, errsize, "%s /dev/bus/usb/%03d/%03d: %s", what, busnum, devnum, libusb_strerror(usb_rc));
    return errno_of(usb_rc);
}

/* What the device at busnum/devnum must still be: device numbers are reused
 * after re-enumeration, so a stale ref must not reset some other device. */
struct usb_want {
    int busnum, devnum;
    unsigned vid, pid;
    bool hub; /* match on device class "hub" instead of vid:pid */
};

struct usb_session {
    libusb_context *ctx;
    libusb_device_handle *handle;
};

static libusb_device *find_device(libusb_device **list, ssize_t n, const struct usb_want *w)
{
    for (ssize_t i = 0; i < n; i++)
        if (libusb_get_bus_number(list[i]) == w->busnum && libusb_get_device_address(list[i]) == w->devnum)
            return list[i];
    return NULL;
}

static int check_identity(libusb_device *dev, const struct usb_want *w, char *err, size_t errsize)
{
    struct libusb_device_descriptor d;
    int rc = libusb_get_device_descriptor(dev, &d);
    if (rc < 0)
        return failed(rc, "cannot read the descriptor of", w->busnum, w->devnum, err, errsize);
    if (w->hub ? d.bDeviceClass == LIBUSB_CLASS_HUB : (d.idVendor == w->vid && d.idProduct == w->pid))
        return 0;
    format_checked(err, errsize, "/dev/bus/usb/%03d/%03d is now %04x:%04x, not the expected %s: re-resolve it",
                   w->busnum, w->devnum, d.idVendor, d.idProduct, w->hub ? "hub" : "device");
    return -ESTALE;
}

static int open_in(struct usb_session *s, const struct usb_want *w, char *err, size_t errsize)
{
    libusb_device **list;
    ssize_t n = libusb_get_device_list(s->ctx, &list);
    if (n < 0)
        return failed((int)n, "cannot list USB devices for", w->busnum, w->devnum, err, errsize);
    libusb_device *dev = find_device(list, n, w);
    int rc = dev ? check_identity(dev, w, err, errsize) : -ENODEV;
    if (!dev)
        format_checked(err, errsize, "no USB device /dev/bus/usb/%03d/%03d (gone or re-enumerated)", w->busnum,
                       w->devnum);
    if (rc == 0) {
        int urc = libusb_open(dev, &s->handle);
        if (urc < 0)
            rc = failed(urc, "cannot open", w->busnum, w->devnum, err, errsize);
    }
    libusb_free_device_list(list, 1); /* an open handle keeps its own reference */
    return rc;
}

static void session_close(struct usb_session *s)
{
    if (s->handle)
        libusb_close(s->handle);
    if (s->ctx)
        libusb_exit(s->ctx);
}

/* A handle on the wanted device in a private context; session_close() it. */
static int session_open(struct usb_session *s, const struct usb_want *w, char *err, size_t errsize)
{
    memset(s, 0, sizeof(*s));
    int rc = libusb_init(&s->ctx);
    if (rc < 0) {
        s->ctx = NULL;
        return failed(rc, "libusb_init for", w->busnum, w->devnum, err, errsize);
    }
    rc = open_in(s, w, err, errsize);
    if (rc < 0)
        session_close(s);
    return rc;
}

int usb_libusb_reset(int busnum, int devnum, unsigned vid, unsigned pid, char *err, size_t errsize)
{
    struct usb_want w = {.busnum = busnum, .devnum = devnum, .vid = vid, .pid = pid};
    struct usb_session s;
    int rc = session_open(&s, &w, err, errsize);
    if (rc < 0)
        return rc;
    int urc = libusb_reset_device(s.handle);
    /* NOT_FOUND: the device came back with new descriptors, i.e. re-enumerated. */
    if (urc < 0 && urc != LIBUSB_ERROR_NOT_FOUND)
        rc = failed(urc, "USBDEVFS_RESET on", busnum, devnum, err, errsize);
    session_close(&s);
    return rc;
}

int usb_libusb_port_power(int busnum, int devnum, int portnum, bool on, char *err, size_t errsize)
{
    struct usb_want w = {.busnum = busnum, .devnum = devnum, .hub = true};
    struct usb_session s;
    if (portnum < 1 || portnum > 255) {
        format_checked(err, errsize, "hub port %d out of range", portnum);
        return -EINVAL;
    }
    int rc = session_open(&s, &w, err, errsize);
    if (rc < 0)
        return rc;
    uint8_t type = LIBUSB_ENDPOINT_OUT | LIBUSB_REQUEST_TYPE_CLASS | LIBUSB_RECIPIENT_OTHER;
    uint8_t req = on ? LIBUSB_REQUEST_SET_FEATURE : LIBUSB_REQUEST_CLEAR_FEATURE;
    int urc = libusb_control_transfer(s.handle, type, req, HUB_PORT_POWER, (uint16_t)portnum, NULL, 0,
                                      USB_HUB_TIMEOUT_MS);
    if (urc < 0)
        rc = failed(urc, on ? "SetPortFeature(PORT_POWER) on hub" : "ClearPortFeature(PORT_POWER) on hub", busnum,
                    devnum, err, errsize);
    session_close(&s);
    return rc;
}
