import Glibc

/// Holds back the signals that stop a program (Ctrl-C, `kill`, a closed terminal) while a
/// rotation's answer is awaited and stored: they take effect once it is stored. (SIGKILL cannot
/// be held back: the vault's mark then says that a rotation was asked for.)
enum Signals {
    static func deferStops() -> sigset_t {
        var stops = sigset_t()
        var previous = sigset_t()
        sigemptyset(&stops)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGQUIT] { sigaddset(&stops, signal) }
        sigprocmask(SIG_BLOCK, &stops, &previous)
        return previous
    }

    static func restore(_ previous: sigset_t) {
        var previous = previous
        sigprocmask(SIG_SETMASK, &previous, nil)
    }
}
