#ifndef TOKENVAULT_TERMINAL_H
#define TOKENVAULT_TERMINAL_H

#include <spawn.h>

/// Turns echo off on the terminal `fd` (keeping line editing), and installs handlers so that
/// SIGINT, SIGTERM, SIGHUP and SIGQUIT restore the terminal before the process dies (a signal
/// the process ignores stays ignored); SIGTSTP is ignored while echo is off. Returns 0 when
/// echo is verified off, -1 otherwise (the terminal is then left as it was).
int tv_echo_off(int fd);

/// Restores the terminal settings and signal dispositions saved by tv_echo_off.
void tv_echo_restore(void);

/// pipe2(O_CLOEXEC): neither end leaks into programs the process starts.
int tv_pipe_cloexec(int fds[2]);


/// Makes a spawned program start with no descriptor above 2 open (glibc 2.34's closefrom action);
/// -1 where the C library lacks it.
int tv_spawn_close_others(posix_spawn_file_actions_t *actions);

/// Starts `path` with `argv` and `envp` in a new session, its standard input, output and error
/// on /dev/null and a clean signal mask: a daemon that outlives the caller. Returns its pid or -1.
int tv_spawn_detached(const char *path, char *const argv[], char *const envp[]);

#endif
