#ifndef TOKENVAULT_EXEC_CHILD_H
#define TOKENVAULT_EXEC_CHILD_H

/// Starts `path` with `argv` and the environment `envp` (posix_spawn: safe in a process with
/// threads), forwards the signals a supervisor should (HUP INT QUIT TERM USR1 USR2 WINCH ALRM)
/// when another process sent them (a terminal sends its own to the whole foreground group, the
/// child included, so those are not sent twice), and waits for it.
///
/// Returns the status to exit with: the child's exit status, or 128 + the signal that ended it.
/// When the child could not be started, returns -1 and sets `*spawn_error` to the errno.
int tv_exec_child(const char *path, char *const argv[], char *const envp[], int *spawn_error);

/// Whether `path` names a regular file this process may execute (`access(X_OK)` and `stat`):
/// 0 yes, 1 not found, 2 found but not executable.
int tv_exec_check(const char *path);

#endif
