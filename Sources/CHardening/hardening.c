#include "hardening.h"

#include <sys/resource.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

int tv_disable_core_dumps(void) {
    struct rlimit none = {0, 0};
    if (setrlimit(RLIMIT_CORE, &none) != 0) return -1;
#ifdef __linux__
    // prctl is variadic, so Swift cannot call it directly.
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) return -1;
#endif
    return 0;
}

int tv_is_dumpable(void) {
#ifdef __linux__
    return prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
#else
    return 0;
#endif
}
