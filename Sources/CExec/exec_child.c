#define _GNU_SOURCE
#include "exec_child.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

static const int forwarded[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH, SIGALRM };
enum { forwarded_count = sizeof forwarded / sizeof forwarded[0] };

static volatile sig_atomic_t child_pid = 0;

static void forward(int signal_number, siginfo_t *info, void *context) {
    (void)context;
    // Sent by the kernel for a terminal (^C, ^\, a resize): the child, in the same foreground
    // process group, has it already.
    if (info != NULL && info->si_code == SI_KERNEL) return;
    pid_t pid = (pid_t)child_pid;
    if (pid > 0) kill(pid, signal_number);
}

int tv_exec_check(const char *path) {
    struct stat st;
    if (stat(path, &st) != 0) return errno == EACCES ? 2 : 1;
    if (!S_ISREG(st.st_mode) || access(path, X_OK) != 0) return 2;
    return 0;
}

static struct sigaction saved[forwarded_count];

int tv_exec_spawn(const char *path, char *const argv[], char *const envp[], pid_t *pid) {
    sigset_t blocked, previous, defaults, none;
    sigemptyset(&blocked);
    sigemptyset(&defaults);
    sigemptyset(&none);
    for (int i = 0; i < forwarded_count; i++) sigaddset(&blocked, forwarded[i]);
    // Held back until the child's ID is known, so that none is lost in between.
    pthread_sigmask(SIG_BLOCK, &blocked, &previous);

    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = forward;
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    sigfillset(&action.sa_mask);
    for (int i = 0; i < forwarded_count; i++) {
        sigaction(forwarded[i], NULL, &saved[i]);
        // One ignored when vault started (nohup's HUP) stays ignored, here and in the child.
        if (saved[i].sa_handler == SIG_IGN) continue;
        sigaction(forwarded[i], &action, NULL);
        sigaddset(&defaults, forwarded[i]);
    }
    // CHLD ignored by whoever started vault would have the kernel reap the child, and waitpid
    // lose its status: back to the default, here and in the child.
    struct sigaction reap;
    memset(&reap, 0, sizeof reap);
    reap.sa_handler = SIG_DFL;
    sigaction(SIGCHLD, &reap, NULL);
    sigaddset(&defaults, SIGCHLD);

    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    // The child starts with no signal blocked (whatever vault's own mask was), and the
    // forwarded signals and CHLD at their default action.
    posix_spawnattr_setsigmask(&attributes, &none);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    int error = posix_spawn(pid, path, NULL, &attributes, argv, envp);
    posix_spawnattr_destroy(&attributes);
    if (error != 0) {
        for (int i = 0; i < forwarded_count; i++) sigaction(forwarded[i], &saved[i], NULL);
    } else {
        child_pid = *pid;
    }
    pthread_sigmask(SIG_SETMASK, &previous, NULL);
    return error;
}

int tv_exec_wait(pid_t pid) {
    int status = 0;
    for (;;) {
        pid_t done = waitpid(pid, &status, 0);
        if (done == pid) break;
        if (done < 0 && errno != EINTR) return 1;
    }
    child_pid = 0;
    for (int i = 0; i < forwarded_count; i++) sigaction(forwarded[i], &saved[i], NULL);
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return 1;
}
