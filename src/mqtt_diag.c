/* mqtt_diag: one clear sentence for a failed broker connection: a refused
 * login names the user and the password file, a TLS failure says whether the
 * CA, the host name or a missing client certificate is the likely cause. */
#include "sms-sentinel/mqtt_diag.h"

#include <string.h>

#include "sms-sentinel/strbuf.h"

static bool is_set(const char *s) { return s && *s; }

static bool has(const char *haystack, const char *needle) { return haystack && strstr(haystack, needle); }

void mqtt_diag_add_lib_line(char *buf, size_t size, const char *line)
{
    /* OpenSSL lines look like "OpenSSL Error[0]: error:0A000086:SSL routines::certificate
     * verify failed": the part after the last colon is the reason. */
    const char *text = line;
    if (strncmp(line, "OpenSSL Error", 13) == 0) {
        const char *colon = strrchr(line, ':');
        if (colon && colon[1])
            text = colon + 1 + strspn(colon + 1, " ");
    } else if (strncmp(line, "Error: ", 7) == 0) {
        text = line + 7;
    }
    size_t tlen = strcspn(text, "\r\n");
    while (tlen > 0 && text[tlen - 1] == '.')
        tlen--;
    if (tlen == 0 || size == 0)
        return;
    struct strbuf sb;
    size_t used = strnlen(buf, size - 1);
    strbuf_init(&sb, buf + used, size - used);
    if (used > 0)
        strbuf_append(&sb, ": ");
    strbuf_append_printable(&sb, text, tlen);
}

static void describe_refusal(const struct mqtt_failure *f, struct strbuf *sb)
{
    bool login = f->reason == 0x86 || f->reason == 0x87; /* bad user name or password / not authorized */
    if (login && is_set(f->username))
        strbuf_printf(sb, "broker %s:%d refused the login of user '%s': %s (MQTT reason %d); check the password in %s",
                      f->host, f->port, f->username, f->reason_text, f->reason,
                      is_set(f->password_file) ? f->password_file : "password_file (none set)");
    else if (login)
        strbuf_printf(sb, "broker %s:%d refused an anonymous login: %s (MQTT reason %d); "
                      "set username and password_file", f->host, f->port, f->reason_text, f->reason);
    else
        strbuf_printf(sb, "broker %s:%d refused the connection: %s (MQTT reason %d)", f->host, f->port,
                      f->reason_text, f->reason);
}

static void describe_tls(const struct mqtt_failure *f, struct strbuf *sb)
{
    const char *why = f->tls_error;
    strbuf_printf(sb, "TLS with %s:%d failed: %s", f->host, f->port, why);
    if (has(why, "certificate verify failed"))
        strbuf_printf(sb, "; the broker's certificate is not signed by tls_ca %s or does not name host %s",
                      f->tls_ca, f->host);
    else if (!is_set(f->tls_cert) &&
             (has(why, "certificate required") || has(why, "handshake failure") || has(why, "bad certificate")))
        strbuf_append(sb, "; the broker wants a client certificate: set tls_cert and tls_key");
    else if (is_set(f->tls_cert) &&
             (has(why, "unknown ca") || has(why, "bad certificate") || has(why, "certificate unknown") ||
              has(why, "certificate expired")))
        strbuf_printf(sb, "; the broker rejected the client certificate %s", f->tls_cert);
    else if (has(why, "wrong version number") || has(why, "packet length too long") || has(why, "unexpected eof"))
        strbuf_append(sb, "; is that port a TLS listener? (a plain MQTT port answers like this)");
}

int mqtt_failure_describe(const struct mqtt_failure *f, char *buf, size_t size)
{
    struct strbuf sb;
    strbuf_init(&sb, buf, size);
    if (f->reason != 0)
        describe_refusal(f, &sb);
    else if (is_set(f->tls_error))
        describe_tls(f, &sb);
    else if (is_set(f->tls_ca)) {
        strbuf_printf(&sb, "cannot connect to %s:%d over TLS: %s", f->host, f->port, f->error);
        /* With TLS 1.3 the broker's "certificate required" alert can be lost in a
         * reset connection: the client only sees the connection end before CONNACK. */
        if (!is_set(f->tls_cert) && (has(f->error, "Protocol error") || has(f->error, "connection was lost") ||
                                     has(f->error, "reset by peer") || has(f->error, "Broken pipe")))
            strbuf_append(&sb, " before the broker answered; if its listener has require_certificate, "
                               "set tls_cert and tls_key");
    }
    else
        strbuf_printf(&sb, "cannot connect to %s:%d: %s", f->host, f->port, f->error);
    return strbuf_status(&sb);
}
