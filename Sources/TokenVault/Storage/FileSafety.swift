import Glibc

/// Where the vault lives and whether its file and folder are private to their owner.
public enum VaultLocation {
    /// `$TOKENVAULT_PATH`, else `$XDG_DATA_HOME/tokenvault/vault.db`, else
    /// `~/.local/share/tokenvault/vault.db`.
    public static func defaultPath(environment: [String: String]) -> String {
        if let path = environment["TOKENVAULT_PATH"], !path.isEmpty { return path }
        if let data = environment["XDG_DATA_HOME"], data.hasPrefix("/") {
            return data + "/tokenvault/vault.db"
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? homeFromPasswd()
        return home + "/.local/share/tokenvault/vault.db"
    }

    private static func homeFromPasswd() -> String {
        guard let entry = getpwuid(getuid()), let dir = entry.pointee.pw_dir else { return "/" }
        return String(cString: dir)
    }

    /// The folder that holds `path`.
    static func folder(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let folder = String(path[..<slash])
        return folder.isEmpty ? "/" : folder
    }

    /// Refuses a file that other users (group or world) can read, write or run, a folder that
    /// they can write to, or either one owned by another user, as ssh does for its keys: a
    /// folder others may only read or enter (a home at 0750, a checkout at 0755) is fine, since
    /// the file itself is closed to them. The C front ends' `vault_is_private` keeps this rule.
    static func checkPrivate(_ path: String, isDirectory: Bool) throws(VaultError) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            if errno == ENOENT { return }
            throw .io("cannot inspect '\(path)': \(String(cString: strerror(errno)))")
        }
        guard info.st_uid == geteuid() else { throw .wrongOwner(path: path) }
        let mode = UInt32(info.st_mode)
        let tooOpen: UInt32 = isDirectory ? 0o022 : 0o077
        if mode & tooOpen != 0 {
            throw .unsafePermissions(path: path, mode: mode, isDirectory: isDirectory)
        }
    }

    /// True when something exists at `path` (`stat` succeeds), whatever it is and whoever owns it.
    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0
    }

    /// Creates `folder` and any missing parents with mode 0700.
    static func makeFolder(_ folder: String) throws(VaultError) {
        if exists(folder) { return }
        let parent = self.folder(of: folder)
        if parent != folder { try makeFolder(parent) }
        if mkdir(folder, 0o700) != 0 && errno != EEXIST {
            throw .io("cannot create the folder '\(folder)': \(String(cString: strerror(errno)))")
        }
    }

    /// Creates an empty file with mode 0600, failing if anything is already there.
    static func createPrivateFile(_ path: String) throws(VaultError) {
        let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            if errno == EEXIST { throw .vaultExists(path: path) }
            throw .io("cannot create '\(path)': \(String(cString: strerror(errno)))")
        }
        fchmod(fd, 0o600)
        close(fd)
    }

    /// Flushes a file or folder to disk.
    static func sync(_ path: String) throws(VaultError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io("cannot open '\(path)': \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .io("cannot flush '\(path)' to disk: \(String(cString: strerror(errno)))") }
    }

    /// Makes `path` a second name of `source`, failing if `path` exists (so two processes that
    /// create a vault at once cannot overwrite each other).
    static func link(_ source: String, to path: String) throws(VaultError) {
        guard Glibc.link(source, path) == 0 else {
            if errno == EEXIST { throw .vaultExists(path: path) }
            throw .io("cannot create '\(path)': \(String(cString: strerror(errno)))")
        }
    }

    /// The vault file's side files (write-ahead log and shared memory), when they exist, get the
    /// vault file's mode (SQLite does this itself; this makes sure of it whatever the umask).
    static func tightenSideFiles(of path: String) {
        for suffix in ["-wal", "-shm", "-journal"] {
            chmod(path + suffix, 0o600)
        }
    }

    /// Writes `bytes` to a new file at `path`, mode 0600, whole or not at all: under a hidden
    /// temporary name beside it (created exclusively, never through a symbolic link), flushed to
    /// disk, then linked to `path`, which fails if anything is there by then (`vaultExists`), or
    /// renamed over it when `replacing`; the folder flushed.
    package static func publishPrivateFile(_ bytes: UnsafeRawBufferPointer, at path: String, replacing: Bool = false) throws(VaultError) {
        let slash = path.lastIndex(of: "/")
        let prefix = slash.map { String(path[...$0]) } ?? ""
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        let temporary = prefix + "." + base + ".tmp-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw .io("cannot create a file in \(prefix.isEmpty ? "." : prefix): \(String(cString: strerror(errno)))") }
        defer { _ = unlink(temporary) }  // Gone already once renamed.
        var failure: Int32 = fchmod(fd, 0o600) == 0 ? 0 : errno
        var offset = 0
        while failure == 0 && offset < bytes.count, let start = bytes.baseAddress {
            let n = Glibc.write(fd, start + offset, bytes.count - offset)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { failure = n < 0 ? errno : EIO } else { offset += n }
        }
        if failure == 0 && fsync(fd) != 0 { failure = errno }
        close(fd)
        guard failure == 0 else { throw .io("cannot write \(path): \(String(cString: strerror(failure)))") }
        if replacing {
            guard rename(temporary, path) == 0 else { throw .io("cannot replace \(path): \(String(cString: strerror(errno)))") }
        } else {
            try link(temporary, to: path)
        }
        try sync(folder(of: path))
    }

    /// `publishPrivateFile` of an array's bytes.
    package static func publishPrivateFile(_ bytes: [UInt8], at path: String) throws(VaultError) {
        // (Array's withUnsafeBytes rethrows untyped.)
        var failure: VaultError?
        bytes.withUnsafeBytes { buffer in
            do throws(VaultError) { try publishPrivateFile(buffer, at: path) } catch { failure = error }
        }
        if let failure { throw failure }
    }
}
