/* ladder: the recovery ladder as a pure state machine. It climbs the configured
 * methods from least to most invasive; for each it asks its executor for one
 * action at a time (stop gammu-smsd, reset, wait, check the device, start
 * gammu-smsd) and judges the step by what the log says within verify_timeout.
 * No I/O: the executor (recovery_ladder.c) performs the actions and reports. */
#ifndef SMS_SENTINEL_LADDER_H
#define SMS_SENTINEL_LADDER_H

#include <stdbool.h>
#include <stdint.h>

#define LADDER_MAX_STEPS 8
#define LADDER_DEVICE_CHECK_MS 500

enum recovery_method {
    METHOD_RESTART_SMSD,
    METHOD_USBRESET,
    METHOD_REBIND,
    METHOD_AUTHORIZED,
    METHOD_PORT_POWER,
    METHOD_COMMAND,
};
#define RECOVERY_METHOD_COUNT (METHOD_COMMAND + 1)

const char *recovery_method_str(enum recovery_method m);
int recovery_method_from_str(const char *name, enum recovery_method *out);

enum ladder_phase {
    LADDER_IDLE,
    LADDER_STOPPING,  /* gammu-smsd being stopped so it lets go of the port */
    LADDER_ACTING,    /* the method's first half runs */
    LADDER_PAUSING,   /* between the halves (power off -> on) */
    LADDER_FINISHING, /* the method's second half runs */
    LADDER_SETTLING,  /* waiting for the USB device and its tty */
    LADDER_STARTING,  /* gammu-smsd being started (or restarted) */
    LADDER_VERIFYING, /* watching the log for verify_timeout */
    LADDER_DONE,
};

enum ladder_do {
    LADDER_DO_NOTHING,
    LADDER_DO_SMSD_STOP,
    LADDER_DO_SMSD_START,
    LADDER_DO_SMSD_RESTART,
    LADDER_DO_METHOD_BEGIN,  /* usb reset first half, or the user's command */
    LADDER_DO_METHOD_FINISH, /* second half */
    LADDER_DO_CHECK_DEVICE,  /* answer with ladder_on_device() */
    LADDER_DO_FINISH,        /* the recovery ended: see ladder.success */
};

struct ladder_action {
    enum ladder_do what;
    enum recovery_method method;
    /* Set when a step just ended (before the action of the next one). */
    bool step_ended;
    bool step_ok;
    enum recovery_method step_method;
    const char *step_reason; /* static text */
};

struct ladder_policy {
    enum recovery_method methods[LADDER_MAX_STEPS];
    int count;
    int64_t settle_ms;
    int64_t verify_ms;
};

struct ladder {
    struct ladder_policy policy;
    enum ladder_phase phase;
    int step;
    bool single; /* one named method, no climbing */
    bool step_failed;
    const char *step_reason;
    bool saw_init;
    int64_t started_ms;
    int64_t deadline_ms; /* of the current phase; INT64_MAX none */
    int64_t settle_until_ms;
    /* The outcome, once phase == LADDER_DONE. */
    bool success;
    enum recovery_method final_method;
    const char *final_reason;
};

/* Starts climbing policy (only = NULL), or runs only *only. */
struct ladder_action ladder_start(struct ladder *l, const struct ladder_policy *policy, const enum recovery_method *only,
                                  int64_t now_ms);
/* The last requested action ended; pause_ms is the wait a METHOD_BEGIN asks for. */
struct ladder_action ladder_on_done(struct ladder *l, bool ok, const char *why, int64_t pause_ms, int64_t now_ms);
/* Answer to LADDER_DO_CHECK_DEVICE. */
struct ladder_action ladder_on_device(struct ladder *l, bool ready, int64_t now_ms);
/* gammu-smsd logged "Starting phone communication...". */
void ladder_on_init_start(struct ladder *l);
/* A counted error was logged; during verification it fails the step. */
struct ladder_action ladder_on_counted_error(struct ladder *l, int64_t now_ms);
/* The SIM wants a PIN: stop at once, never retry. */
struct ladder_action ladder_abort(struct ladder *l, const char *reason, int64_t now_ms);
struct ladder_action ladder_on_tick(struct ladder *l, int64_t now_ms);
int64_t ladder_next_deadline_ms(const struct ladder *l);
bool ladder_running(const struct ladder *l);
const char *ladder_phase_str(enum ladder_phase p);

#define LADDER_STOP_GRACE_MS 10000 /* SIGTERM -> SIGKILL for a gammu-smsd that may be busy */
#define LADDER_HUNG_GRACE_MS 1000  /* ... for one known hung in libgammu (it ignores SIGTERM) */
/* The SIGTERM grace of the stop step: short when the recovery was triggered
 * by counted TIMEOUT errors, since that gammu-smsd only exits by SIGKILL. */
int64_t ladder_stop_grace_ms(bool smsd_hung);

#endif
