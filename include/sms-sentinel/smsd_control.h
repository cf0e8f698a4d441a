/* smsd_control: stops, starts, restarts, suspends and resumes gammu-smsd for
 * recovery, without ever blocking the poll loop. One operation at a time: begin
 * it, watch smsd_control_fd() and wake at smsd_control_next_deadline_ms(), call
 * smsd_control_poll() until it returns the result.
 *
 * A hung gammu-smsd ignores SIGTERM for minutes, so a stop escalates: the stop
 * command (if any), SIGTERM, stop_grace_ms of liveness checks, SIGKILL. The
 * process is identified by the pidfile plus <proc_root>/<pid>/stat (comm and
 * start time), so a reused pid is never signalled and a zombie counts as gone.
 *
 *   STOP     not running: ok, "not running". ok once the process is gone.
 *   START    already running: ok without running start_command. ok when the
 *            command exits 0 and the pidfile names a live gammu-smsd within
 *            command_timeout_ms.
 *   RESTART  restart_command, then a pidfile naming a different process; or
 *            STOP then START (no START after a failed STOP).
 *   SUSPEND  SIGUSR1 (gammu-smsd closes the port); RESUME SIGUSR2. ok when
 *            the signal was delivered; not running is a failure.
 * A pidfile left behind by a gone process is removed after STOP and before
 * START: gammu-smsd refuses to start while its pid answers kill(pid, 0). */
#ifndef SMS_SENTINEL_SMSD_CONTROL_H
#define SMS_SENTINEL_SMSD_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sms-sentinel/config.h"

enum smsd_op { SMSD_OP_STOP, SMSD_OP_START, SMSD_OP_RESTART, SMSD_OP_SUSPEND, SMSD_OP_RESUME };

struct smsd_control_options {
    /* argv commands, never a shell; NULL or argc == 0 means none. */
    const struct config_argv *start_command, *stop_command, *restart_command;
    const char *pidfile;        /* required: how gammu-smsd is found */
    int64_t stop_grace_ms;      /* SIGTERM -> SIGKILL, e.g. 10000 */
    int64_t command_timeout_ms; /* per command, and for the pidfile after a start, e.g. 30000 */
    const char *proc_root;      /* NULL: "/proc" */
    const char *process_name;   /* comm the pidfile's process must have; NULL: "gammu-smsd" */
};

struct smsd_op_result {
    enum smsd_op op;
    bool ok;
    bool killed;      /* gammu-smsd needed SIGKILL */
    int exit_status;  /* of the last command run: exit code, 128+signal, -1 none/timeout */
    char message[256];
    int64_t duration_ms;
};

/* Copies what it needs from o (strings included). NULL on bad options or ENOMEM. */
struct smsd_control *smsd_control_new(const struct smsd_control_options *o);
void smsd_control_free(struct smsd_control *c); /* kills a running command */

/* Starts op. Returns 0 (then exactly one result follows from poll), -EBUSY
 * while an op runs, -EINVAL without a pidfile ("no pidfile") or when op needs
 * a command that is not configured ("no start_command"); err says why. Failures after that (a command that
 * cannot be run, gammu-smsd not running for SUSPEND) come as the result.
 * Never blocks. */
int smsd_control_begin(struct smsd_control *c, enum smsd_op op, int64_t now_ms, char *err,
                       size_t errsize);

/* stdout pipe of the running command, -1 when none. It may change or close
 * after on_readable/poll: compare it with what the loop watches each time. */
int smsd_control_fd(const struct smsd_control *c);
void smsd_control_on_readable(struct smsd_control *c);

/* When poll next has work: INT64_MAX idle, 0 when a result is ready. */
int64_t smsd_control_next_deadline_ms(const struct smsd_control *c);

/* Advances the op; true once it ended, with *out filled (then idle again).
 * Never blocks (waitpid only after SIGKILL of our own command). */
bool smsd_control_poll(struct smsd_control *c, int64_t now_ms, struct smsd_op_result *out);

bool smsd_control_busy(const struct smsd_control *c);
/* SIGTERM -> SIGKILL grace for the ops begun from now on (>= 0). */
void smsd_control_set_stop_grace(struct smsd_control *c, int64_t stop_grace_ms);
const char *smsd_op_str(enum smsd_op op);

#endif
