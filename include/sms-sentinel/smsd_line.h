/* smsd_line: classifies one line of gammu-smsd's log (file form
 * "Www YYYY/MM/DD HH:MM:SS gammu-smsd[PID]: message" or a bare journal message).
 * Pure: no I/O, no allocation; the result points into the caller's line. */
#ifndef SMS_SENTINEL_SMSD_LINE_H
#define SMS_SENTINEL_SMSD_LINE_H

#include <stdbool.h>
#include <stddef.h>

enum smsd_line_kind {
    SMSD_LINE_OTHER,        /* anything not listed below */
    SMSD_LINE_ERROR,        /* "...: text (NAME[n])" with NAME other than NONE */
    SMSD_LINE_INIT_START,   /* "Starting phone communication..." */
    SMSD_LINE_INIT_ERROR,   /* "Error at init connection: ... (NAME[n])" */
    SMSD_LINE_TERMINATING,  /* "Terminating communication: ... (NAME[n])": repeats an earlier error */
    SMSD_LINE_SLEEPING,     /* "Going to 30 seconds sleep because of too many connection errors" */
    SMSD_LINE_READ_MESSAGES,/* "Read N messages": a successful poll */
    SMSD_LINE_RECEIVED,     /* "Received IN..." */
    SMSD_LINE_TRANSMITTED,  /* "Transmitted OUT... to NUMBER, message reference 0x.." */
    SMSD_LINE_SEND_ERROR,   /* "Error sending SMS..." */
    SMSD_LINE_SOFT_RESET,   /* "Soft reset return code: ..." */
    SMSD_LINE_STOPPING,     /* "Stopping Gammu smsd..." */
    SMSD_LINE_FAILED_TO_RUN,/* "Failed to run SMSD..." (exit follows) */
};
#define SMSD_LINE_KIND_COUNT (SMSD_LINE_FAILED_TO_RUN + 1)

struct smsd_text {
    const char *ptr; /* into the classified line; NULL when absent */
    size_t len;
};

struct smsd_line {
    enum smsd_line_kind kind;
    long pid;              /* from the file prefix; -1 when absent */
    struct smsd_text stamp;   /* "YYYY/MM/DD HH:MM:SS" from the prefix */
    struct smsd_text message; /* after the prefix */
    /* The trailing "(NAME[n])", on any kind of line; code -1 when absent. */
    char error_name[32];
    int error_code;
    /* RECEIVED: the inbox file name; TRANSMITTED: the outbox file name. */
    struct smsd_text file;
    /* TRANSMITTED: the recipient number. */
    struct smsd_text number;
};

/* Classifies line[0..len). Never fails: unknown lines are SMSD_LINE_OTHER. */
void smsd_line_classify(const char *line, size_t len, struct smsd_line *out);

const char *smsd_line_kind_str(enum smsd_line_kind kind);

/* True when the line reports a new gammu error: a tag other than NONE, on any
 * line but "Terminating communication", whose code is a stale repeat. */
bool smsd_line_has_error(const struct smsd_line *l);

#endif
