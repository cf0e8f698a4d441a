/* port_holder: which processes hold the modem tty open. Answers the question
 * behind gammu-smsd's (DEVICEOPENERROR[2]): usually ModemManager probing the
 * port. Reads <proc_root>/<pid>/fd and comm only; never blocks on a device. */
#ifndef SMS_SENTINEL_PORT_HOLDER_H
#define SMS_SENTINEL_PORT_HOLDER_H

#define PORT_HOLDER_NAME_MAX 64

struct port_holder {
    long pid;
    char name[PORT_HOLDER_NAME_MAX]; /* comm, control bytes replaced by '?'; "?" if unreadable */
};

/* Scans <proc_root>/<pid>/fd/<n> (proc_root normally "/proc") for links to
 * realpath(device); a char device reached under another name counts too (same
 * st_rdev). Skips exclude_pid (-1: none) and processes whose fds we may not
 * read. Fills out[0..max) in directory order, one entry per process. Returns
 * the count found (at most max) or -errno when device or proc_root cannot be
 * resolved/opened. */
int port_holder_find(const char *proc_root, const char *device, long exclude_pid,
                     struct port_holder *out, int max);

#endif
