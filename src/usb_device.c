/* usb_device: the usb_device value parser, and the sysfs walk from a tty, an
 * id or a port to one USB device. Only reads sysfs; never writes. */
#include "sms-sentinel/usb_device.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sms-sentinel/fsutil.h"
#include "sms-sentinel/strbuf.h"

#define ATTR_MAX 256 /* sysfs attributes we read are one short line */

/* ---- the usb_device value (pure) ---- */

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Exactly four hex digits at s; the caller checks what follows. */
static bool hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex_digit(s[i]);
        if (d < 0)
            return false;
        v = v * 16 + (unsigned)d;
    }
    *out = v;
    return true;
}

static bool digits(const char **s, size_t max)
{
    size_t n = strspn(*s, "0123456789");
    if (n == 0 || n > max)
        return false;
    *s += n;
    return true;
}

/* "1-1.2": bus, '-', port numbers separated by '.'. Also used to tell device
 * entries of bus/usb/devices from root hubs ("usb1") and interfaces ("1-1:1.0"). */
bool usb_port_path_valid(const char *s)
{
    if (strlen(s) >= sizeof(((struct usb_spec *)0)->port))
        return false;
    if (!digits(&s, 3) || *s++ != '-' || !digits(&s, 3))
        return false;
    while (*s == '.') {
        s++;
        if (!digits(&s, 3))
            return false;
    }
    return *s == '\0';
}

static bool serial_ok(const char *s)
{
    if (*s == '\0' || strlen(s) >= sizeof(((struct usb_spec *)0)->serial))
        return false;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
            return false;
    return true;
}

static int parse_id(const char *text, struct usb_spec *out, char *err, size_t errsize)
{
    if (!hex4(text, &out->vid) || text[4] != ':' || !hex4(text + 5, &out->pid) ||
        (text[9] != '\0' && text[9] != ':')) {
        format_checked(err, errsize, "VID:PID needs exactly 4 hex digits on each side, e.g. 19d2:0031");
        return -1;
    }
    if (text[9] == ':' && !serial_ok(text + 10)) {
        format_checked(err, errsize, "the serial after VID:PID: must be 1-127 printable characters without spaces");
        return -1;
    }
    if (text[9] == ':')
        memcpy(out->serial, text + 10, strlen(text + 10) + 1);
    out->kind = USB_SPEC_ID;
    return 0;
}

int usb_spec_parse(const char *text, struct usb_spec *out, char *err, size_t errsize)
{
    memset(out, 0, sizeof(*out));
    if (strcmp(text, "auto") == 0) {
        out->kind = USB_SPEC_AUTO;
        return 0;
    }
    if (strchr(text, ':'))
        return parse_id(text, out, err, errsize);
    if (usb_port_path_valid(text)) {
        memcpy(out->port, text, strlen(text) + 1);
        out->kind = USB_SPEC_PORT;
        return 0;
    }
    format_checked(err, errsize, "is not auto, VID:PID[:serial] (4 hex digits each) or a USB port path like 1-1.2");
    return -1;
}

/* ---- reading sysfs ---- */

static int join(char *buf, size_t size, const char *dir, const char *name)
{
    return format_checked(buf, size, "%s/%s", dir, name) < 0 ? -ENAMETOOLONG : 0;
}

/* One attribute without its trailing newline; bytes outside printable ASCII
 * become '?' because these values end up in logs and MQTT payloads. */
static int read_attr(const char *dir, const char *name, char *out, size_t size)
{
    char path[PATH_MAX];
    char *data;
    size_t len;
    int rc = join(path, sizeof(path), dir, name);
    if (rc == 0)
        rc = fs_read_file(path, ATTR_MAX, &data, &len);
    if (rc < 0)
        return rc;
    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == ' '))
        len--;
    if (len >= size)
        rc = -EOVERFLOW;
    for (size_t i = 0; rc == 0 && i < len; i++)
        out[i] = (data[i] < ' ' || data[i] >= 0x7f) ? '?' : data[i];
    if (rc == 0)
        out[len] = '\0';
    free(data);
    return rc;
}

static int read_hex4(const char *dir, const char *name, unsigned *out)
{
    char buf[16];
    int rc = read_attr(dir, name, buf, sizeof(buf));
    if (rc < 0)
        return rc;
    return hex4(buf, out) && buf[4] == '\0' ? 0 : -EINVAL;
}

static int read_uint(const char *dir, const char *name, int *out)
{
    char buf[16], *end;
    int rc = read_attr(dir, name, buf, sizeof(buf));
    if (rc < 0)
        return rc;
    long v = strtol(buf, &end, 10);
    if (end == buf || *end != '\0' || v < 0 || v > 65535)
        return -EINVAL;
    *out = (int)v;
    return 0;
}

/* Everything but the tty, from the device directory devdir. */
static int load_ids(const char *devdir, const char *port, struct usb_device_ref *ref, char *err, size_t errsize)
{
    memset(ref, 0, sizeof(*ref));
    const char *what = "idVendor";
    int rc = format_checked(ref->port, sizeof(ref->port), "%s", port) < 0 ? -ENAMETOOLONG : 0;
    if (rc == 0)
        rc = read_hex4(devdir, what, &ref->vid);
    if (rc == 0)
        rc = read_hex4(devdir, what = "idProduct", &ref->pid);
    if (rc == 0)
        rc = read_uint(devdir, what = "busnum", &ref->busnum);
    if (rc == 0)
        rc = read_uint(devdir, what = "devnum", &ref->devnum);
    if (rc < 0) {
        format_checked(err, errsize, "cannot read %s/%s: %s", devdir, what, strerror(-rc));
        return rc;
    }
    if (read_attr(devdir, "serial", ref->serial, sizeof(ref->serial)) < 0)
        ref->serial[0] = '\0';
    return 0;
}

/* ---- finding the tty under a device ---- */

struct tty_hit {
    char tty[64];
    char iface[16];
};

static bool is_tty_name(const char *s)
{
    if (strncmp(s, "tty", 3) != 0 || s[3] == '\0')
        return false;
    for (s += 3; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
            return false;
    return true;
}

/* Interface directories are "<port>:<config>.<interface>", e.g. "1-1.2:1.2". */
static const char *iface_of(const char *name, const char *port)
{
    size_t n = strlen(port);
    if (strncmp(name, port, n) != 0 || name[n] != ':' || name[n + 1] == '\0')
        return NULL;
    return name + n + 1;
}

/* The lowest tty name in dir (version order, so ttyUSB2 < ttyUSB10). */
static int dir_min_tty(const char *dir, char *out, size_t size)
{
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    char best[64] = "";
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (is_tty_name(e->d_name) && strlen(e->d_name) < sizeof(best) &&
            (best[0] == '\0' || strverscmp(e->d_name, best) < 0))
            memcpy(best, e->d_name, strlen(e->d_name) + 1);
    }
    closedir(d);
    if (best[0] == '\0')
        return -ENOENT;
    return format_checked(out, size, "%s", best) < 0 ? -ENAMETOOLONG : 0;
}

/* usb-serial puts ttyUSBn right below the interface, cdc-acm in its tty/. */
static int iface_tty(const char *ifdir, char *out, size_t size)
{
    char sub[PATH_MAX];
    if (dir_min_tty(ifdir, out, size) == 0)
        return 0;
    if (join(sub, sizeof(sub), ifdir, "tty") < 0)
        return -ENAMETOOLONG;
    return dir_min_tty(sub, out, size);
}

static void consider_iface(const char *devdir, const char *port, const char *want, const char *name,
                           struct tty_hit *hit)
{
    const char *iface = iface_of(name, port);
    if (!iface || strlen(iface) >= sizeof(hit->iface))
        return;
    if (want[0] ? strcmp(iface, want) != 0 : (hit->iface[0] && strverscmp(iface, hit->iface) >= 0))
        return;
    char ifdir[PATH_MAX], tty[sizeof(hit->tty)];
    if (join(ifdir, sizeof(ifdir), devdir, name) < 0 || iface_tty(ifdir, tty, sizeof(tty)) < 0)
        return;
    memcpy(hit->tty, tty, sizeof(tty));
    memcpy(hit->iface, iface, strlen(iface) + 1);
}

/* The tty on interface want (any interface, the lowest, when want is ""). */
static int find_tty(const char *devdir, const char *port, const char *want, struct tty_hit *hit)
{
    DIR *d = opendir(devdir);
    if (!d)
        return -errno;
    memset(hit, 0, sizeof(*hit));
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        consider_iface(devdir, port, want, e->d_name, hit);
    closedir(d);
    return hit->tty[0] ? 0 : -ENOENT;
}

static void set_tty(const char *devdir, struct usb_device_ref *ref)
{
    struct tty_hit hit;
    if (find_tty(devdir, ref->port, "", &hit) < 0)
        return;
    memcpy(ref->tty, hit.tty, sizeof(ref->tty));
    memcpy(ref->iface, hit.iface, sizeof(ref->iface));
}

/* ---- auto: from the tty up to its USB device ---- */

static int tty_name_of(const char *tty_device, char *name, size_t size, char *err, size_t errsize)
{
    char real[PATH_MAX];
    if (!tty_device || !*tty_device) {
        format_checked(err, errsize, "usb_device = auto needs the modem's device path");
        return -EINVAL;
    }
    if (!realpath(tty_device, real)) {
        int e = errno;
        format_checked(err, errsize, "cannot resolve modem device %s: %s", tty_device, strerror(e));
        return -e;
    }
    const char *base = strrchr(real, '/') + 1;
    if (*base == '\0' || format_checked(name, size, "%s", base) < 0) {
        format_checked(err, errsize, "modem device %s is not a tty", tty_device);
        return -EINVAL;
    }
    return 0;
}

static bool is_usb_device_dir(const char *path)
{
    char attr[PATH_MAX];
    const char *base = strrchr(path, '/');
    return base && !strchr(base, ':') && join(attr, sizeof(attr), path, "idVendor") == 0 &&
           access(attr, F_OK) == 0;
}

/* Cuts path back to the USB device directory above it, not past top; the
 * component just below it names the interface. */
static int walk_up(char *path, const char *top, char *iface, size_t ifsize)
{
    size_t toplen = strlen(top);
    char child[NAME_MAX + 1] = "";
    if (strncmp(path, top, toplen) != 0)
        return -ENODEV;
    while (strlen(path) > toplen && !is_usb_device_dir(path)) {
        char *slash = strrchr(path, '/');
        if (format_checked(child, sizeof(child), "%s", slash + 1) < 0)
            return -ENAMETOOLONG;
        *slash = '\0';
    }
    if (strlen(path) <= toplen)
        return -ENODEV;
    const char *i = iface_of(child, strrchr(path, '/') + 1);
    if (i && format_checked(iface, ifsize, "%s", i) < 0)
        iface[0] = '\0';
    return 0;
}

static int tty_device_dir(const char *root, const char *name, char *dev, char *err, size_t errsize)
{
    char path[PATH_MAX], link[PATH_MAX];
    struct stat st;
    if (format_checked(path, sizeof(path), "%s/class/tty/%s", root, name) < 0)
        return -ENAMETOOLONG;
    if (stat(path, &st) < 0) {
        int e = errno;
        format_checked(err, errsize, "no tty %s under %s/class/tty: %s", name, root, strerror(e));
        return -e;
    }
    if (join(link, sizeof(link), path, "device") < 0)
        return -ENAMETOOLONG;
    if (!realpath(link, dev)) {
        format_checked(err, errsize, "tty %s has no device (%s): not a USB serial port", name, link);
        return -ENODEV;
    }
    return 0;
}

static int resolve_auto(const char *root, const char *tty_device, struct usb_device_ref *out, char *err,
                        size_t errsize)
{
    char name[sizeof(out->tty)], dev[PATH_MAX], top[PATH_MAX], iface[sizeof(out->iface)] = "";
    int rc = tty_name_of(tty_device, name, sizeof(name), err, errsize);
    if (rc == 0)
        rc = tty_device_dir(root, name, dev, err, errsize);
    if (rc < 0)
        return rc;
    if (!realpath(root, top)) {
        int e = errno;
        format_checked(err, errsize, "cannot resolve sysfs_root %s: %s", root, strerror(e));
        return -e;
    }
    if (walk_up(dev, top, iface, sizeof(iface)) < 0) {
        format_checked(err, errsize, "tty %s is not on a USB device (no idVendor above %s)", name, dev);
        return -ENODEV;
    }
    const char *port = strrchr(dev, '/') + 1;
    if (!usb_port_path_valid(port)) {
        format_checked(err, errsize, "tty %s hangs off %s, which is not a USB port device", name, dev);
        return -ENODEV;
    }
    rc = load_ids(dev, port, out, err, errsize);
    if (rc < 0)
        return rc;
    memcpy(out->tty, name, sizeof(name));
    memcpy(out->iface, iface, sizeof(iface));
    return 0;
}

/* ---- by id or by port, through bus/usb/devices ---- */

static bool id_matches(const struct usb_spec *spec, const struct usb_device_ref *d)
{
    return d->vid == spec->vid && d->pid == spec->pid && (!spec->serial[0] || strcmp(d->serial, spec->serial) == 0);
}

/* Counts the devices matching spec in dir; the first one goes to *out. */
static int scan_ids(const char *dir, DIR *d, const struct usb_spec *spec, struct usb_device_ref *out)
{
    int found = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char devdir[PATH_MAX], ignored[8];
        struct usb_device_ref cand;
        if (!usb_port_path_valid(e->d_name) || join(devdir, sizeof(devdir), dir, e->d_name) < 0 ||
            load_ids(devdir, e->d_name, &cand, ignored, sizeof(ignored)) < 0 || !id_matches(spec, &cand))
            continue;
        if (found++ == 0)
            *out = cand;
    }
    return found;
}

static int resolve_id(const char *root, const struct usb_spec *spec, struct usb_device_ref *out, char *err,
                      size_t errsize)
{
    char dir[PATH_MAX], devdir[PATH_MAX];
    if (join(dir, sizeof(dir), root, "bus/usb/devices") < 0)
        return -ENAMETOOLONG;
    DIR *d = opendir(dir);
    if (!d) {
        int e = errno;
        format_checked(err, errsize, "cannot list %s: %s", dir, strerror(e));
        return -e;
    }
    int found = scan_ids(dir, d, spec, out);
    closedir(d);
    if (found == 0) {
        format_checked(err, errsize, "no USB device %04x:%04x%s%s under %s", spec->vid, spec->pid,
                       spec->serial[0] ? " with serial " : "", spec->serial, dir);
        return -ENOENT;
    }
    if (found > 1) {
        format_checked(err, errsize, "%d USB devices %04x:%04x under %s: add :serial or give the port path",
                       found, spec->vid, spec->pid, dir);
        return -EEXIST;
    }
    if (join(devdir, sizeof(devdir), dir, out->port) == 0)
        set_tty(devdir, out);
    return 0;
}

static int resolve_port(const char *root, const char *port, struct usb_device_ref *out, char *err, size_t errsize)
{
    char devdir[PATH_MAX];
    struct stat st;
    if (format_checked(devdir, sizeof(devdir), "%s/bus/usb/devices/%s", root, port) < 0)
        return -ENAMETOOLONG;
    if (stat(devdir, &st) < 0) {
        int e = errno;
        format_checked(err, errsize, "no USB device at port %s (%s: %s)", port, devdir, strerror(e));
        return -e;
    }
    int rc = load_ids(devdir, port, out, err, errsize);
    if (rc == 0)
        set_tty(devdir, out);
    return rc;
}

int usb_resolve(const char *sysfs_root, const struct usb_spec *spec, const char *tty_device,
                struct usb_device_ref *out, char *err, size_t errsize)
{
    memset(out, 0, sizeof(*out));
    switch (spec->kind) {
    case USB_SPEC_AUTO:
        return resolve_auto(sysfs_root, tty_device, out, err, errsize);
    case USB_SPEC_ID:
        return resolve_id(sysfs_root, spec, out, err, errsize);
    case USB_SPEC_PORT:
        if (!usb_port_path_valid(spec->port)) {
            format_checked(err, errsize, "bad USB port path");
            return -EINVAL;
        }
        return resolve_port(sysfs_root, spec->port, out, err, errsize);
    }
    format_checked(err, errsize, "bad usb_spec kind");
    return -EINVAL;
}

bool usb_device_ready(const char *sysfs_root, const struct usb_device_ref *dev, char *tty_out, size_t tty_size)
{
    char devdir[PATH_MAX], ignored[8];
    struct usb_device_ref now;
    struct tty_hit hit;
    if (!usb_port_path_valid(dev->port) ||
        format_checked(devdir, sizeof(devdir), "%s/bus/usb/devices/%s", sysfs_root, dev->port) < 0)
        return false;
    if (load_ids(devdir, dev->port, &now, ignored, sizeof(ignored)) < 0 || now.vid != dev->vid ||
        now.pid != dev->pid)
        return false;
    if (find_tty(devdir, dev->port, dev->iface, &hit) < 0)
        return false;
    return !tty_out || format_checked(tty_out, tty_size, "%s", hit.tty) == 0;
}
