/* config_internal: what the three parts of the config module share: the key
 * table (config_keys.c), the loader (config.c) and the printer and doctor
 * (config_print.c). Not for other modules. */
#ifndef SMS_SENTINEL_CONFIG_INTERNAL_H
#define SMS_SENTINEL_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "sms-sentinel/config.h"
#include "sms-sentinel/strbuf.h"

#define CONFIG_MAX_FILE (1024 * 1024)
#define CONFIG_MAX_ERRORS 100
#define NODE_ID_MAX 64

#define OFF(field) offsetof(struct config, field)

enum key_type { KEY_STRING, KEY_INT, KEY_BOOL, KEY_LIST, KEY_ARGV, KEY_ENUM };

#define KEY_NONEMPTY 1u

/* Returns NULL when the value (or list item) is fine, else why not, worded to
 * follow "key: 'value' ". Only called on non-empty values. */
typedef const char *(*key_check)(const char *value);

struct key_def {
    const char *section;
    const char *name;
    enum key_type type;
    const char *def; /* as written in a file; NULL: derived after parsing */
    int min, max;    /* KEY_INT */
    const char *const *choices; /* KEY_ENUM, NULL-terminated */
    key_check check;
    unsigned flags;
    size_t offset; /* of the field in struct config */
    const char *help;
};

/* The table of every key, in file order (at most CONFIG_KEY_MAX rows). */
#define CONFIG_KEY_MAX 128
extern const struct key_def config_keys[];
extern const size_t config_key_count;

void *config_key_field(const struct key_def *k, const struct config *cfg);
/* Index of section.name in the table, or -1. */
int config_key_index(const char *section, const char *name);
/* The section named by s[0..n), or NULL when there is none. */
const char *config_section_find(const char *s, size_t n);
void config_append_quoted(struct strbuf *sb, const char *s, size_t n);
/* Parses value into the key's field; -1 with a message. */
int config_key_set(const struct key_def *k, struct config *cfg, const char *value, char *msg, size_t size);
void config_key_free(const struct key_def *k, struct config *cfg);

bool config_is_set(const char *s);

/* The [smsd] paths gammu-smsd also knows (read from gammu-smsdrc). */
struct smsd_path {
    const char *key; /* in [smsd] */
    size_t field, origin; /* in struct config */
    size_t rc_field;      /* in struct gammu_smsdrc */
    int fallback;         /* gammu's default: this other row's value; -1 none */
    bool needed;          /* without gammu-smsdrc, this must be set here */
};

extern const struct smsd_path config_smsd_paths[];
extern const int config_smsd_path_count;
char **config_path_slot(const struct config *cfg, const struct smsd_path *sp);
enum config_origin *config_origin_slot(const struct config *cfg, const struct smsd_path *sp);
bool config_path_is_relative(const struct smsd_path *sp, const char *v);

#endif
