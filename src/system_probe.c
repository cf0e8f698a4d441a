/* system_probe: pidfile liveness, tty presence, process lookup in /proc,
 * outbox depth. Each answers from one syscall or one directory scan. */
#include "sms-sentinel/system_probe.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sms-sentinel/fsutil.h"
#include "sms-sentinel/strbuf.h"

/* A dead child of a PID 1 that never reaps (some containers) stays a zombie and
 * still answers kill(pid, 0). The state is the field after "(comm)". */
static bool process_is_zombie(long pid)
{
    char path[64];
    if (format_checked(path, sizeof(path), "/proc/%ld/stat", pid) < 0)
        return false;
    char *text = NULL;
    if (fs_read_file(path, 4096, &text, NULL) < 0)
        return false;
    const char *close_paren = strrchr(text, ')');
    bool zombie = close_paren && close_paren[1] == ' ' && close_paren[2] == 'Z';
    free(text);
    return zombie;
}

enum tristate probe_pidfile_alive(const char *pidfile, long *pid_out)
{
    if (pid_out)
        *pid_out = -1;
    if (!pidfile || !*pidfile)
        return TRI_UNKNOWN;
    char *text = NULL;
    if (fs_read_file(pidfile, 64, &text, NULL) < 0)
        return TRI_NO;
    char *end = NULL;
    long pid = strtol(text, &end, 10);
    bool valid = end != text && pid > 0 && (*end == '\0' || isspace((unsigned char)*end));
    free(text);
    if (!valid)
        return TRI_NO;
    if (pid_out)
        *pid_out = pid;
    if (!(kill((pid_t)pid, 0) == 0 || errno == EPERM))
        return TRI_NO;
    return process_is_zombie(pid) ? TRI_NO : TRI_YES;
}

enum tristate probe_device_present(const char *device)
{
    if (!device || !*device)
        return TRI_UNKNOWN;
    struct stat st;
    return stat(device, &st) == 0 ? TRI_YES : TRI_NO;
}

static bool comm_matches(const char *proc_root, const char *pid, const char *name)
{
    char path[512];
    if (format_checked(path, sizeof(path), "%s/%s/comm", proc_root, pid) < 0)
        return false;
    char *comm = NULL;
    if (fs_read_file(path, 256, &comm, NULL) < 0)
        return false;
    comm[strcspn(comm, "\n")] = '\0';
    bool match = strcmp(comm, name) == 0;
    free(comm);
    return match;
}

bool probe_process_running(const char *proc_root, const char *name)
{
    DIR *d = opendir(proc_root);
    if (!d)
        return false;
    bool found = false;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL) {
        if (isdigit((unsigned char)e->d_name[0]))
            found = comm_matches(proc_root, e->d_name, name);
    }
    closedir(d);
    return found;
}

int probe_outbox_depth(const char *outbox)
{
    if (!outbox || !*outbox)
        return -1;
    DIR *d = opendir(outbox);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, "OUT", 3) == 0)
            n++;
    closedir(d);
    return n;
}
