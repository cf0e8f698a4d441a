/* config: the daemon's settings (SPEC section 3), parsed from an INI file with
 * libinih, checked against one table of keys, merged with the paths read from
 * gammu-smsdrc. Pure apart from reading the named files. */
#ifndef SMS_SENTINEL_CONFIG_H
#define SMS_SENTINEL_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#define CONFIG_DEFAULT_PATH "/etc/sms-sentinel.conf"
#define CONFIG_MAX_ARGV 16
#define CONFIG_MAX_LIST 16

/* A command given as one string, split on blanks into argv (never a shell). */
struct config_argv {
    int argc;
    char *argv[CONFIG_MAX_ARGV + 1]; /* NULL-terminated */
};

struct config_list {
    int count;
    char *items[CONFIG_MAX_LIST];
};

/* Where an effective [smsd] path came from (config_print says so). */
enum config_origin {
    CONFIG_ORIGIN_NONE,     /* neither file names it: "" */
    CONFIG_ORIGIN_OVERRIDE, /* set in sms-sentinel.conf */
    CONFIG_ORIGIN_SMSDRC,   /* read from gammu-smsdrc */
};

struct config {
    char *source_path; /* the file this came from */

    /* [agent] */
    char *node_id;
    char *state_dir;
    char *log_level; /* error|warn|info|debug */

    /* [smsd]: the effective values; *_origin says where each path came from */
    char *smsd_config;
    char *logfile; /* "syslog" = follow the journal; "" = none known */
    char *device;
    char *inbox, *outbox, *sent, *error;
    char *pidfile;
    struct config_argv start_command, stop_command, restart_command;
    enum config_origin logfile_origin, device_origin;
    enum config_origin inbox_origin, outbox_origin, sent_origin, error_origin;

    /* [mqtt] */
    char *mqtt_host;
    int mqtt_port;
    char *mqtt_username;
    char *mqtt_password_file;
    char *tls_ca, *tls_cert, *tls_key;
    char *client_id;
    char *base_topic;
    int mqtt_qos;
    int keepalive;
    char *pool;

    /* [homeassistant] */
    bool discovery;
    char *discovery_prefix;

    /* [recovery] */
    bool recovery_enabled;
    struct config_list recovery_errors; /* gammu error names */
    int threshold;
    int window_s;
    struct config_list methods;
    char *usb_device;
    char *sysfs_root;
    int settle_timeout_s;
    int verify_timeout_s;
    int cooldown_s;
    int max_resets_per_hour;
    struct config_argv recovery_command;

    /* [sms] */
    struct config_list default_recipients;
    struct config_list allowed_recipients;
    int max_parts;
    int max_sms_per_hour;
    char *forward_mail;
    int send_timeout_s;    /* outbox -> failed after this long */
    char *inbox_archive;   /* where published inbox files go; "" = <state_dir>/archive */
    bool delete_received;  /* delete them instead */
    char *sendmail;

    /* [probe] */
    char *own_number;
    int probe_interval_s;
    bool probe_after_send;
    int probe_timeout_s;

    /* What gammu-smsdrc said, kept for check-config's doctor report. */
    struct gammu_smsdrc *smsdrc; /* NULL when it could not be read */
};

/* One problem found while loading: "FILE:LINE: message". */
struct config_error {
    char *file;
    int line; /* 0 when not tied to a line */
    char *message;
};

struct config_errors {
    int count;
    struct config_error *items;
};

/* Loads path (CONFIG_DEFAULT_PATH when NULL) and the gammu-smsdrc it names.
 * Returns a new config owned by the caller, or NULL with every problem in errs
 * (which the caller frees with config_errors_clear). A missing sms-sentinel config
 * file is an error; a missing gammu-smsdrc is a warning only when every path it
 * would have given is set here. hostname is used for the node_id default. */
struct config *config_load(const char *path, const char *hostname, struct config_errors *errs);
/* The same from text in memory (len bytes, NUL not needed); name is the file
 * name used in messages. Reads the gammu-smsdrc the text names. */
struct config *config_load_string(const char *text, size_t len, const char *name, const char *hostname,
                                  struct config_errors *errs);
void config_free(struct config *cfg);
void config_errors_clear(struct config_errors *errs);
/* Writes "FILE:LINE: message" lines. */
void config_errors_print(const struct config_errors *errs, FILE *out);

/* Prints the effective config as INI (password never printed), every key, with
 * each [smsd] path's origin as a comment. The output loads as a config again. */
void config_print(const struct config *cfg, FILE *out);

/* check-config's report on the files the config names but the loader does not
 * open (password_file, TLS files) and on relative spool paths: "warning: ..." or
 * "ok: ..." lines; returns the number of warnings. May block on the filesystem. */
int config_doctor(const struct config *cfg, FILE *out);

/* Lowercases name and maps anything outside [a-z0-9_-] to '_'; writes at most
 * size-1 bytes. Used for node_id defaults and topic parts. */
void config_sanitize_id(const char *name, char *out, size_t size);

#endif
