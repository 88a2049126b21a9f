import CHardening
import Glibc

/// Process-wide protections for a program that holds keys or secrets.
public enum ProcessHardening {
    /// Disables core dumps (`RLIMIT_CORE` 0) and marks the process non-dumpable
    /// (`PR_SET_DUMPABLE` 0), which also stops other processes of the same user from attaching
    /// with ptrace or reading `/proc/PID/mem`. Sets the umask to 077 so that every file the
    /// process creates is private. Returns false if the kernel refused a setting.
    @discardableResult
    public static func apply() -> Bool {
        umask(0o077)
        return tv_disable_core_dumps() == 0
    }

    /// True when the process can dump core (PR_GET_DUMPABLE is not 0).
    public static var isDumpable: Bool {
        tv_is_dumpable() != 0
    }
}
