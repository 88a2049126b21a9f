#define _GNU_SOURCE
#include "terminal.h"

#include <fcntl.h>
#include <spawn.h>
#include <signal.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

static struct termios saved_settings;
static volatile sig_atomic_t saved_fd = -1;
static const int restored_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define RESTORED_COUNT (sizeof(restored_signals) / sizeof(restored_signals[0]))
static struct sigaction previous_actions[RESTORED_COUNT];
static struct sigaction previous_tstp;

// Async-signal-safe: tcsetattr, sigaction and raise only.
static void restore_and_reraise(int signal_number) {
    if (saved_fd >= 0) tcsetattr(saved_fd, TCSANOW, &saved_settings);
    struct sigaction fallback;
    memset(&fallback, 0, sizeof fallback);
    fallback.sa_handler = SIG_DFL;
    sigaction(signal_number, &fallback, NULL);
    raise(signal_number);
}

int tv_echo_off(int fd) {
    struct termios quiet;
    if (tcgetattr(fd, &saved_settings) != 0) return -1;
    quiet = saved_settings;
    quiet.c_lflag &= ~(ECHO | ECHONL);
    quiet.c_lflag |= ICANON;
    saved_fd = fd;

    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = restore_and_reraise;
    sigemptyset(&action.sa_mask);
    for (unsigned i = 0; i < RESTORED_COUNT; i++) {
        sigaction(restored_signals[i], NULL, &previous_actions[i]);
        if (previous_actions[i].sa_handler != SIG_IGN) sigaction(restored_signals[i], &action, NULL);
    }
    struct sigaction ignore;
    memset(&ignore, 0, sizeof ignore);
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGTSTP, &ignore, &previous_tstp);

    struct termios check;
    if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0 || tcgetattr(fd, &check) != 0 || (check.c_lflag & ECHO) != 0) {
        tv_echo_restore();
        return -1;
    }
    return 0;
}

void tv_echo_restore(void) {
    if (saved_fd < 0) return;
    tcsetattr(saved_fd, TCSAFLUSH, &saved_settings);
    saved_fd = -1;
    for (unsigned i = 0; i < RESTORED_COUNT; i++) sigaction(restored_signals[i], &previous_actions[i], NULL);
    sigaction(SIGTSTP, &previous_tstp, NULL);
}

int tv_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int tv_spawn_close_others(posix_spawn_file_actions_t *actions) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    return posix_spawn_file_actions_addclosefrom_np(actions, 3);
#else
    (void)actions;
    return -1;
#endif
}

int tv_spawn_detached(const char *path, char *const argv[], char *const envp[]) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    // Nothing else the caller holds open (a passphrase descriptor, a pipe) outlives it.
    tv_spawn_close_others(&actions);
    posix_spawnattr_init(&attributes);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigfillset(&defaults);
    posix_spawnattr_setsigmask(&attributes, &none);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid = -1;
    int result = posix_spawn(&pid, path, &actions, &attributes, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    return result == 0 ? pid : -1;
}
