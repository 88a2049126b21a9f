import Glibc

/// Holds back the signals that stop a program (Ctrl-C's SIGINT, `kill`'s SIGTERM, a closed
/// terminal's SIGHUP, SIGQUIT) while a rotation's new token exists only in memory: they take
/// effect once it is stored, when the hold ends. SIGKILL cannot be held back; the vault's mark
/// then says that a rotation was asked for, and `Vault.verifyAtGitLab` settles it.
///
/// `Vault.rotateAtGitLab` holds them itself. A program that also wants to say the outcome
/// before a held signal stops it runs the rotation and its report inside ``held(_:)``: holds
/// nest, and only the outermost one lets the signals through.
///
/// The hold is the calling thread's signal mask (`pthread_sigmask`), which threads started
/// inside it inherit; a program whose other threads take signals blocks them there as well.
public enum StopSignals {
    /// Runs `body` with SIGINT, SIGTERM, SIGHUP and SIGQUIT held back; one that arrived
    /// meanwhile takes effect when `body` returns or throws.
    public static func held<Result, Failure: Error>(_ body: () throws(Failure) -> Result) throws(Failure) -> Result {
        var stops = sigset_t()
        var previous = sigset_t()
        sigemptyset(&stops)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGQUIT] { sigaddset(&stops, signal) }
        pthread_sigmask(SIG_BLOCK, &stops, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        return try body()
    }

    /// Whether one of the stop signals is pending: it arrived during a hold, and stops the
    /// program when the hold ends. An irreversible request is not sent after it.
    static var arePending: Bool {
        var pending = sigset_t()
        guard sigpending(&pending) == 0 else { return false }
        return [SIGINT, SIGTERM, SIGHUP, SIGQUIT].contains { sigismember(&pending, $0) == 1 }
    }
}
