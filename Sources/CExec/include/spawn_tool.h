#ifndef TOKENVAULT_SPAWN_TOOL_H
#define TOKENVAULT_SPAWN_TOOL_H

#include <sys/types.h>

/// Starts `path` with `argv` and `envp` (posix_spawn), with `in`, `out` and `err` as its
/// descriptors 0, 1 and 2 and no other descriptor of this process, no signal blocked, the usual
/// signals (PIPE, HUP, INT, QUIT, TERM, CHLD) at their default action, and, with `new_session`,
/// in a session of its own (setsid: no controlling terminal, so closing the terminal does not
/// end it). SIGCHLD is set back to its default action in this process first (one ignored by
/// the parent would lose the child's exit status). For `vault get --clip`: the clipboard
/// program, and the clearer.
///
/// Returns 0 and the child's ID in `*pid`, or the errno when it could not be started.
int tv_spawn_tool(const char *path, char *const argv[], char *const envp[], int in, int out, int err,
                  int new_session, pid_t *pid);

/// A pipe whose two ends are close-on-exec (pipe2 with O_CLOEXEC): 0, or -1 and errno.
int tv_pipe(int fds[2]);

/// An anonymous file in memory (memfd_create, close-on-exec) for a program's stderr: unlike a
/// pipe, a background process that writes to it later is not killed by SIGPIPE. -1 on failure.
int tv_memory_file(const char *name);

/// Waits for `pid` for at most `milliseconds`: its exit status, 128 + the signal that ended it,
/// or -1 when it has not ended by then (it is then killed and reaped) or cannot be waited for.
int tv_wait_within(pid_t pid, int milliseconds);

/// Sleeps until `seconds` have passed on the boot clock (CLOCK_BOOTTIME, which counts time
/// suspended too: a laptop resumed after the deadline clears at once), through signals.
void tv_sleep_seconds(long long seconds);

#endif
