#define _GNU_SOURCE
#include "test_support.h"

#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <unistd.h>

int tv_open_pty(char *name, size_t length) {
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0) return -1;
    if (grantpt(master) != 0 || unlockpt(master) != 0 || ptsname_r(master, name, length) != 0) {
        close(master);
        return -1;
    }
    return master;
}

short tv_spawn_setsid_flag(void) { return POSIX_SPAWN_SETSID; }

int tv_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }
