/* config_print: the effective config printed as a file (check-config), and the
 * doctor's report on the files and paths it names. */
#include "sms-sentinel/ladder.h"
#include "sms-sentinel/usb_device.h"
#include "sms-sentinel/config.h"

#include <errno.h>
#include <fnmatch.h>
#include <ini.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sms-sentinel/fsutil.h"
#include "sms-sentinel/gammu_errors.h"
#include "sms-sentinel/gammu_smsdrc.h"
#include "sms-sentinel/log.h"
#include "sms-sentinel/pool.h"
#include "sms-sentinel/strbuf.h"
#include "config_internal.h"

static void append_words(struct strbuf *sb, char *const *words, int count)
{
    for (int i = 0; i < count; i++)
        strbuf_printf(sb, "%s%s", i ? " " : "", words[i]);
}

static void format_value(const struct key_def *k, const struct config *cfg, struct strbuf *sb)
{
    const void *field = config_key_field(k, cfg);
    switch (k->type) {
    case KEY_STRING:
    case KEY_ENUM: {
        const char *s = *(char *const *)field;
        strbuf_append(sb, s ? s : "");
        break;
    }
    case KEY_INT: strbuf_printf(sb, "%d", *(const int *)field); break;
    case KEY_BOOL: strbuf_append(sb, *(const bool *)field ? "yes" : "no"); break;
    case KEY_LIST: {
        const struct config_list *list = field;
        append_words(sb, list->items, list->count);
        break;
    }
    case KEY_ARGV: {
        const struct config_argv *argv = field;
        append_words(sb, argv->argv, argv->argc);
        break;
    }
    }
}

static const struct smsd_path *smsd_path_of(const struct key_def *k)
{
    if (strcmp(k->section, "smsd") != 0)
        return NULL;
    for (int i = 0; i < config_smsd_path_count; i++)
        if (strcmp(config_smsd_paths[i].key, k->name) == 0)
            return &config_smsd_paths[i];
    return NULL;
}

static void format_comment(const struct key_def *k, const struct config *cfg, struct strbuf *sb)
{
    const struct smsd_path *sp = smsd_path_of(k);
    if (!sp) {
        if (k->help)
            strbuf_append(sb, k->help);
        return;
    }
    switch (*config_origin_slot(cfg, sp)) {
    case CONFIG_ORIGIN_NONE: strbuf_append(sb, "set in neither file"); break;
    case CONFIG_ORIGIN_OVERRIDE: strbuf_append(sb, "set here (overrides gammu-smsdrc)"); break;
    case CONFIG_ORIGIN_SMSDRC: strbuf_printf(sb, "from gammu-smsdrc %s", cfg->smsd_config); break;
    }
}

static void print_key(const struct key_def *k, const struct config *cfg, FILE *out)
{
    char line[1024], comment[512];
    struct strbuf sb, cb;
    strbuf_init(&sb, line, sizeof(line));
    strbuf_init(&cb, comment, sizeof(comment));
    strbuf_printf(&sb, "%s = ", k->name);
    format_value(k, cfg, &sb);
    format_comment(k, cfg, &cb);
    if (cb.len > 0)
        fprintf(out, "%-40s ; %s\n", line, comment);
    else
        fprintf(out, "%s\n", line);
}

void config_print(const struct config *cfg, FILE *out)
{
    fprintf(out, "; effective configuration from %s (defaults included)\n", cfg->source_path);
    const char *section = NULL;
    for (size_t i = 0; i < config_key_count; i++) {
        const struct key_def *k = &config_keys[i];
        if (!section || strcmp(section, k->section) != 0) {
            fprintf(out, "\n[%s]\n", k->section);
            section = k->section;
        }
        print_key(k, cfg, out);
    }
}

/* ---- check-config's report on files named here ---- */

static int doctor_file(const char *key, const char *path, FILE *out)
{
    if (!config_is_set(path))
        return 0;
    if (access(path, R_OK) < 0) {
        fprintf(out, "warning: %s %s: cannot be read by this user: %s\n", key, path, strerror(errno));
        return 1;
    }
    fprintf(out, "ok: %s %s is readable\n", key, path);
    return 0;
}

/* A secret (password_file, tls_key): readable here, not empty, and not readable
 * by every user (group-readable is fine: root:sms-sentinel 0640 is a common setup). */
static int doctor_secret(const char *key, const char *path, FILE *out)
{
    if (!config_is_set(path))
        return 0;
    char *text = NULL;
    size_t len = 0;
    int rc = fs_read_file(path, 65536, &text, &len);
    if (rc < 0) {
        fprintf(out, "warning: %s %s: cannot be read by this user: %s\n", key, path, strerror(-rc));
        return 1;
    }
    size_t first_line = strcspn(text, "\r\n");
    explicit_bzero(text, len);
    free(text);
    if (first_line == 0) {
        fprintf(out, "warning: %s %s: is empty (its first line is the secret)\n", key, path);
        return 1;
    }
    struct stat st;
    if (stat(path, &st) == 0 && (st.st_mode & S_IROTH)) {
        fprintf(out, "warning: %s %s: readable by every user (mode %04o): chmod 600 (or 640 with the daemon's group)\n",
                key, path, (unsigned)(st.st_mode & 07777));
        return 1;
    }
    fprintf(out, "ok: %s %s is readable and private\n", key, path);
    return 0;
}

static int doctor_path(const struct config *cfg, int row, FILE *out)
{
    const struct smsd_path *sp = &config_smsd_paths[row];
    const char *v = *config_path_slot(cfg, sp);
    if (!config_is_set(v)) {
        if (!sp->needed)
            return 0;
        fprintf(out, "warning: [smsd] %s: neither this file nor gammu-smsdrc names it\n", sp->key);
        return 1;
    }
    if (config_path_is_relative(sp, v)) {
        fprintf(out, "warning: [smsd] %s '%s' is relative: gammu-smsd resolves it against its working directory\n",
                sp->key, v);
        return 1;
    }
    return 0;
}

int config_doctor(const struct config *cfg, FILE *out)
{
    int warnings = doctor_secret("password_file", cfg->mqtt_password_file, out);
    warnings += doctor_file("tls_ca", cfg->tls_ca, out);
    warnings += doctor_file("tls_cert", cfg->tls_cert, out);
    warnings += doctor_secret("tls_key", cfg->tls_key, out);
    for (int i = 0; i < config_smsd_path_count; i++)
        warnings += doctor_path(cfg, i, out);
    return warnings;
}
