#ifndef TOKENVAULT_TEST_SUPPORT_H
#define TOKENVAULT_TEST_SUPPORT_H

#include <stddef.h>

/// posix_openpt + grantpt + unlockpt; writes the slave's path into `name`. Returns the master
/// fd, or -1.
int tv_open_pty(char *name, size_t length);




/// pipe2 with O_CLOEXEC, so that concurrent spawns do not inherit each other's pipe ends.
int tvt_pipe_cloexec(int fds[2]);

#include <spawn.h>

/// Initialises spawn attributes for a clean child: an empty signal mask and default actions for
/// the usual signals (the test runner's threads may block or ignore some), and a new session
/// when `new_session` is non-zero.
int tv_spawnattr_init_clean(posix_spawnattr_t *attributes, int new_session);
#endif
