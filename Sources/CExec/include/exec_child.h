#ifndef TOKENVAULT_EXEC_CHILD_H
#define TOKENVAULT_EXEC_CHILD_H

#include <sys/types.h>

/// Starts `path` with `argv` and the environment `envp` (posix_spawn: safe in a process with
/// threads) and from then on forwards the signals a supervisor should (HUP INT QUIT TERM USR1
/// USR2 WINCH ALRM) when another process sent them (a terminal sends its own to the whole
/// foreground group, the child included, so those are not sent twice). One of those ignored
/// when this process started (nohup's HUP) stays ignored and is not forwarded; CHLD is set to its
/// default (else the kernel would reap the child); the child starts with no signal blocked.
///
/// Returns 0 and the child's ID in `*pid`, or the errno when it could not be started (then
/// nothing is forwarded).
int tv_exec_spawn(const char *path, char *const argv[], char *const envp[], pid_t *pid);

/// Waits for the child `tv_exec_spawn` started and returns the status to exit with: its exit
/// status, or 128 + the signal that ended it.
int tv_exec_wait(pid_t pid);

/// Whether `path` names a regular file this process may execute (`access(X_OK)` and `stat`):
/// 0 yes, 1 not found, 2 found but not executable.
int tv_exec_check(const char *path);

#endif
