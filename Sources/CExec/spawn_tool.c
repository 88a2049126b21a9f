#define _GNU_SOURCE
#include "spawn_tool.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

// A descriptor that is one of 0, 1, 2 would be overwritten by an earlier dup2: moved above them.
static int above_standard(int fd, int *moved) {
    *moved = -1;
    if (fd < 0 || fd > 2) return fd;
    *moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    return *moved;
}

int tv_spawn_tool(const char *path, char *const argv[], char *const envp[], int in, int out, int err,
                  int new_session, pid_t *pid) {
    int moved[3];
    int fds[3] = {above_standard(in, &moved[0]), above_standard(out, &moved[1]), above_standard(err, &moved[2])};
    int error = 0;
    for (int i = 0; i < 3; i++) if (fds[i] < 0) error = EBADF;

    // CHLD ignored by whoever started vault (inherited through exec) would have the kernel reap
    // the child and waitpid fail: a copy that worked would look failed. Back to the default.
    struct sigaction reap;
    memset(&reap, 0, sizeof reap);
    reap.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &reap, NULL);

    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attributes);
    if (error == 0) {
        for (int i = 0; i < 3; i++) posix_spawn_file_actions_adddup2(&actions, fds[i], i);
        // Nothing else of this process: not the vault file, not the agent's socket, not a pipe
        // another thread opened.
        posix_spawn_file_actions_addclosefrom_np(&actions, 3);
        sigset_t none, defaults;
        sigemptyset(&none);
        sigemptyset(&defaults);
        const int reset[] = {SIGPIPE, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGCHLD};
        for (size_t i = 0; i < sizeof reset / sizeof reset[0]; i++) sigaddset(&defaults, reset[i]);
        posix_spawnattr_setsigmask(&attributes, &none);
        posix_spawnattr_setsigdefault(&attributes, &defaults);
        short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
        if (new_session) flags |= POSIX_SPAWN_SETSID;
        posix_spawnattr_setflags(&attributes, flags);
        error = posix_spawn(pid, path, &actions, &attributes, argv, envp);
    }
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
    for (int i = 0; i < 3; i++) if (moved[i] >= 0) close(moved[i]);
    return error;
}

int tv_pipe(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int tv_memory_file(const char *name) { return memfd_create(name, MFD_CLOEXEC); }

int tv_wait_within(pid_t pid, int milliseconds) {
    int status = 0;
    for (int waited = 0;; waited += 10) {
        pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid) break;
        if (done < 0 && errno != EINTR) return -1;
        if (waited >= milliseconds) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
            return -1;
        }
        struct timespec step = {0, 10 * 1000 * 1000};
        nanosleep(&step, NULL);
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

void tv_sleep_seconds(long long seconds) {
    const clockid_t clocks[] = {CLOCK_BOOTTIME, CLOCK_MONOTONIC};
    for (size_t i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
        struct timespec deadline;
        if (clock_gettime(clocks[i], &deadline) != 0) continue;
        deadline.tv_sec += (time_t)seconds;
        int result;
        while ((result = clock_nanosleep(clocks[i], TIMER_ABSTIME, &deadline, NULL)) == EINTR) {}
        if (result == 0) return;  // Else this clock cannot be slept on: the next one.
    }
    struct timespec left = {(time_t)seconds, 0};
    while (nanosleep(&left, &left) != 0 && errno == EINTR) {}
}
