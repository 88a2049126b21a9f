#ifndef TOKENVAULT_HARDENING_H
#define TOKENVAULT_HARDENING_H

/// Sets RLIMIT_CORE to 0 and PR_SET_DUMPABLE to 0 (no core dumps, no ptrace by
/// other processes of the same user). Returns 0 on success, -1 with errno set otherwise.
int tv_disable_core_dumps(void);

/// PR_GET_DUMPABLE: 1 when the process may dump core, 0 when it may not, -1 on error.
int tv_is_dumpable(void);


/// The user id of the process at the other end of a connected Unix socket (SO_PEERCRED), or
/// -1 when it cannot be told.
long long tv_peer_uid(int fd);

/// SIGTERM, SIGINT and SIGHUP set a flag instead of ending the process, so that a key holder
/// can wipe its keys first; tv_stop_requested() reads the flag.
void tv_install_stop_handlers(void);
int tv_stop_requested(void);

#endif
