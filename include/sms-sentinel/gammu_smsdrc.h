/* gammu_smsdrc: reads the parts of gammu-smsd's own config file that the daemon
 * needs (device, log file, spool folders, formats) and reports its pitfalls. */
#ifndef SMS_SENTINEL_GAMMU_SMSDRC_H
#define SMS_SENTINEL_GAMMU_SMSDRC_H

#include <stdbool.h>
#include <stdio.h>

struct gammu_smsdrc {
    char *path;
    char *device;          /* [gammu] device */
    char *connection;      /* [gammu] connection */
    char *service;         /* [smsd] service (files, sql, null...) */
    char *logfile;         /* [smsd] logfile; "syslog" when so */
    char *inbox, *outbox, *sent, *error; /* inboxpath outboxpath sentsmspath errorsmspath */
    char *inbox_format;    /* standard|unicode|detail (default standard) */
    char *outbox_format;   /* detail|standard|unicode (default detail) */
    char *transmit_format; /* auto|7bit|8bit|unicode (default 7bit) */
    int debug_level;
    int bad_line;     /* first line gammu would not understand; 0 = none */
    int comment_line; /* first "key = value ; text" line: gammu keeps "; text" in the value */
};

/* Reads path. Returns a new struct owned by the caller, or NULL with errno set and
 * a message in err (size errsize). Keys and sections match case-insensitively, as
 * gammu does; missing keys stay NULL. */
struct gammu_smsdrc *gammu_smsdrc_read(const char *path, char *err, size_t errsize);
/* The same from text in memory (len bytes); path is only recorded. Returns NULL
 * only when out of memory. */
struct gammu_smsdrc *gammu_smsdrc_parse_string(const char *text, size_t len, const char *path);
void gammu_smsdrc_free(struct gammu_smsdrc *rc);

/* Facts about the running system the doctor checks need; gathered by the caller
 * so the checks stay pure. */
struct doctor_facts {
    bool modemmanager_running;
    bool service_locale_utf8; /* LANG/LC_ALL of this process names UTF-8 */
};

/* Writes one line per finding ("warning: ..." or "ok: ...") to out; returns the
 * number of warnings. rc may be NULL (file unreadable). */
int gammu_smsdrc_doctor(const struct gammu_smsdrc *rc, const struct doctor_facts *facts, FILE *out);

#endif
