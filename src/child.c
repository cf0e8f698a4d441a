/* child: posix_spawnp with argv, a non-blocking stdout pipe, a deadline and a
 * SIGKILL when it passes. Nothing here waits for the child to exit. */
#include "sms-sentinel/child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

void child_init(struct child *c)
{
    memset(c, 0, sizeof(*c));
    c->out_fd = -1;
}

static int spawn_with_pipe(struct child *c, char *const argv[], int pipefd[2])
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
    posix_spawn_file_actions_addclose(&fa, pipefd[0]);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    /* The daemon blocks these for its signalfd; the child must not inherit that. */
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    sigset_t dfl;
    sigemptyset(&dfl);
    sigaddset(&dfl, SIGPIPE);
    posix_spawnattr_setsigdefault(&attr, &dfl);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    int rc = posix_spawnp(&c->pid, argv[0], &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    return -rc;
}

int child_start(struct child *c, char *const argv[], int64_t timeout_ms, int64_t now_ms)
{
    child_init(c);
    int pipefd[2];
    if (pipe2(pipefd, O_CLOEXEC) < 0)
        return -errno;
    int rc = spawn_with_pipe(c, argv, pipefd);
    close(pipefd[1]);
    if (rc < 0) {
        close(pipefd[0]);
        c->pid = 0;
        return rc;
    }
    fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
    c->out_fd = pipefd[0];
    c->deadline_ms = now_ms + timeout_ms;
    return 0;
}

void child_read(struct child *c)
{
    while (c->out_fd >= 0) {
        char scratch[1024];
        size_t room = CHILD_MAX_OUTPUT - c->output_len;
        char *dst = room ? c->output + c->output_len : scratch;
        size_t want = room ? room : sizeof(scratch); /* past the bound: drain and drop */
        ssize_t n = read(c->out_fd, dst, want);
        if (n > 0) {
            if (room)
                c->output_len += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        close(c->out_fd);
        c->out_fd = -1;
    }
    c->output[c->output_len] = '\0';
}

bool child_poll(struct child *c, int64_t now_ms)
{
    if (c->pid == 0)
        return true;
    if (now_ms >= c->deadline_ms && !c->timed_out) {
        kill(c->pid, SIGKILL);
        c->timed_out = true;
    }
    int status;
    pid_t r = waitpid(c->pid, &status, c->timed_out ? 0 : WNOHANG);
    if (r == 0)
        return false;
    c->status = r == c->pid ? status : -1;
    c->pid = 0;
    child_read(c);
    if (c->out_fd >= 0) {
        close(c->out_fd);
        c->out_fd = -1;
    }
    return true;
}

void child_abort(struct child *c)
{
    if (c->pid > 0) {
        kill(c->pid, SIGKILL);
        waitpid(c->pid, NULL, 0);
        c->pid = 0;
    }
    if (c->out_fd >= 0) {
        close(c->out_fd);
        c->out_fd = -1;
    }
}

bool child_running(const struct child *c) { return c->pid > 0; }
