/* libFuzzer target: usb_spec_parse must accept any bytes, fill only what it
 * reports, keep every string terminated, and agree with itself: a parsed
 * value printed back parses to the same spec. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sms-sentinel/usb_device.h"

static void check_terminated(const char *s, size_t size)
{
    if (!memchr(s, '\0', size))
        abort();
}

/* The canonical text of a parsed spec. */
static int print_spec(const struct usb_spec *s, char *buf, size_t size)
{
    int n = 0;
    switch (s->kind) {
    case USB_SPEC_AUTO:
        n = snprintf(buf, size, "auto");
        break;
    case USB_SPEC_ID:
        n = snprintf(buf, size, "%04x:%04x%s%s", s->vid, s->pid, s->serial[0] ? ":" : "", s->serial);
        break;
    case USB_SPEC_PORT:
        n = snprintf(buf, size, "%s", s->port);
        break;
    }
    return (n < 0 || (size_t)n >= size) ? -1 : 0;
}

static void check_round_trip(const struct usb_spec *s)
{
    char text[256], err[160];
    struct usb_spec again;
    if (print_spec(s, text, sizeof(text)) < 0 || usb_spec_parse(text, &again, err, sizeof(err)) != 0)
        abort();
    if (again.kind != s->kind || again.vid != s->vid || again.pid != s->pid ||
        strcmp(again.serial, s->serial) != 0 || strcmp(again.port, s->port) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy: ASan catches any read past the terminator. */
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    struct usb_spec s;
    char err[160];
    err[0] = '\0';
    int rc = usb_spec_parse(text, &s, err, sizeof(err));
    if (rc != 0 && rc != -1)
        abort();
    if (rc == -1 && err[0] == '\0')
        abort();
    if (rc == 0) {
        check_terminated(s.serial, sizeof(s.serial));
        check_terminated(s.port, sizeof(s.port));
        if (s.kind == USB_SPEC_PORT && !usb_port_path_valid(s.port))
            abort();
        check_round_trip(&s);
    }
    check_terminated(err, sizeof(err));
    free(text);
    return 0;
}
