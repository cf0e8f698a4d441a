/* device_facts: the modem's USB manufacturer/product strings and VID:PID from
 * sysfs, cleaned before they reach a JSON payload. */
#include "sms-sentinel/device_facts.h"

#include <stdlib.h>
#include <string.h>

#include "sms-sentinel/fsutil.h"
#include "sms-sentinel/strbuf.h"
#include "sms-sentinel/text.h"
#include "sms-sentinel/usb_device.h"

#define ATTR_MAX 256

/* One line of <sysfs>/bus/usb/devices/<port>/<name>, without the newline. */
static void read_attr(const char *sysfs_root, const char *port, const char *name, char *out, size_t size)
{
    char path[512];
    char *data = NULL;
    size_t len = 0;
    out[0] = '\0';
    if (format_checked(path, sizeof(path), "%s/bus/usb/devices/%s/%s", sysfs_root, port, name) < 0 ||
        fs_read_file(path, ATTR_MAX, &data, &len) < 0)
        return;
    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == ' '))
        len--;
    text_copy_clean(out, size, data, len);
    free(data);
}

int device_facts_read(const struct config *cfg, struct discovery_device *out)
{
    memset(out, 0, sizeof(*out));
    struct usb_spec spec;
    struct usb_device_ref dev;
    char err[256];
    const char *root = cfg->sysfs_root ? cfg->sysfs_root : "/sys";
    if (!cfg->usb_device || usb_spec_parse(cfg->usb_device, &spec, err, sizeof(err)) < 0 ||
        (spec.kind == USB_SPEC_AUTO && !cfg->device) ||
        usb_resolve(root, &spec, cfg->device, &dev, err, sizeof(err)) < 0)
        return -1;
    read_attr(root, dev.port, "manufacturer", out->manufacturer, sizeof(out->manufacturer));
    read_attr(root, dev.port, "product", out->model, sizeof(out->model));
    if (format_checked(out->model_id, sizeof(out->model_id), "%04x:%04x", dev.vid, dev.pid) < 0)
        out->model_id[0] = '\0';
    return 0;
}
