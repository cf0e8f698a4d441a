/* mqtt_diag: turns the facts of one failed broker connection (CONNACK reason,
 * client library error, OpenSSL's error line, what the config names) into one
 * log sentence that says what went wrong and which key to look at. Pure. */
#ifndef SMS_SENTINEL_MQTT_DIAG_H
#define SMS_SENTINEL_MQTT_DIAG_H

#include <stdbool.h>
#include <stddef.h>

struct mqtt_failure {
    int reason;              /* MQTT v5 CONNACK reason code; 0 = no CONNACK refusal */
    const char *reason_text; /* its name, e.g. "Not authorized" */
    const char *error;       /* the client library's (or errno's) text for the failure */
    const char *tls_error;   /* libmosquitto's TLS error lines of this attempt (mqtt_diag_add_lib_line), or NULL */
    const char *host;
    int port;
    const char *username; /* NULL or "" = anonymous */
    const char *password_file;
    const char *tls_ca; /* NULL or "" = no TLS */
    const char *tls_cert;
};

/* Appends one of libmosquitto's error log lines to buf (NUL-terminated, size
 * bytes) in short form: OpenSSL's reason only ("certificate verify failed"),
 * "Error: " and a final '.' dropped, ": " between lines; cut when full. */
void mqtt_diag_add_lib_line(char *buf, size_t size, const char *line);

/* Writes the sentence into buf (cut if needed). Returns 0, or -1 if cut. */
int mqtt_failure_describe(const struct mqtt_failure *f, char *buf, size_t size);

#endif
