import Glibc

/// Copies of the vault: a backup made while the vault is in use, and a vault opened only to be
/// read (a backup, or a file on a read-only medium) to verify it.
extension Vault {
    /// Opens a vault file to read only (for ``verify()``), locked: it is never written or
    /// migrated. A file this user can write, in a folder they can write, is read as any reader
    /// does (SQLite's locks and write-ahead log: another process may start writing it at any
    /// moment, also when none has it open now), its side files removed again when it is
    /// closed. Any other (a file of mode 0400, in a read-only folder or on a read-only medium)
    /// is read as ``open(at:)`` reads it: as a file that nothing changes, the main file alone,
    /// without creating a lock or side file beside it (or, when its write-ahead log holds
    /// changes, with the log and its existing shared index).
    /// Refuses a file or folder that other users can read or write, as ``open(at:)`` does.
    public static func openReadOnly(at path: String) throws(VaultError) -> Vault {
        guard VaultLocation.exists(path) else { throw .noVault(path: path) }
        try VaultLocation.checkPrivate(VaultLocation.folder(of: path), isDirectory: true)
        try VaultLocation.checkPrivate(path, isDirectory: false)
        for suffix in ["-wal", "-shm"] { try VaultLocation.checkPrivate(path + suffix, isDirectory: false) }
        let vault = Vault(path: path, db: try SQLite(path: path, mode: try readOnlyMode(path) ?? .readOnly))
        vault.state.withLock { $0.readOnly = true }
        return vault
    }

    /// Unlocks with the keys `other` holds (its passphrase's, or its agent's) when this file is
    /// a copy of the same vault (the header's vault id is `other`'s): a backup verified without
    /// asking for the passphrase again. Whether the keys open this file is then for ``verify()``
    /// to find out and report. Fails with `.locked` when `other` is locked, and when this file
    /// names another vault.
    public func unlock(withKeysOf other: Vault) throws(VaultError) {
        guard let keys = other.state.withLock({ $0.keys }) else { throw .locked }
        func vaultID(_ vault: Vault) throws(VaultError) -> [UInt8] {
            try vault.state.withLock { state throws(VaultError) in
                let db = try state.db
                return try db.transaction(write: false) { () throws(VaultError) in try Self.readHeader(db).binding.vaultID }
            }
        }
        guard try vaultID(self) == vaultID(other) else { throw .locked }
        state.withLock { $0.reset(keys: keys) }
    }

    /// True when a change this `Vault` made is, for now, only in the write-ahead log beside the
    /// file (`vault.db-wal`), not in the file itself: another connection held one snapshot for
    /// longer than the busy timeout (30 s), so that the write could not fold the log into the
    /// file. The change is safe (committed, in the log); a copy of the file alone would miss
    /// it until the next write, or the last connection's close, folds the log.
    public var hasChangesOnlyInLog: Bool {
        state.withLock { $0.connection.logUnfolded }
    }

    /// True when ``hasChangesOnlyInLog`` is so because the disk is full (the file could not grow
    /// to take the log's pages), not because of another connection: the change is just as safe.
    public var hasChangesOnlyInLogForLackOfSpace: Bool {
        state.withLock { $0.connection.logUnfolded && $0.connection.logUnfoldedForLackOfSpace }
    }

    /// Writes a copy of the vault to `destination`: consistent (one snapshot, taken when it
    /// starts, while other processes and the agent go on reading and writing), compact (SQLite's
    /// `VACUUM INTO`: no free page, nothing but the live rows), still encrypted (nothing is
    /// decrypted to copy it), and opening with the same passphrase.
    ///
    /// The copy is made under a temporary name in the destination's folder, with mode 0600,
    /// verified (``verify()``, with this vault's keys: the vault must be unlocked), flushed to
    /// disk and only then given its name (the folder flushed too): a copy that is not whole and
    /// good never stands at `destination`. Refuses a destination that exists unless
    /// `replacing`, this vault's own file always, and a folder other users can write (the rule
    /// for a vault's folder: the copy could not be opened from there). Returns the copy's verification.
    @discardableResult
    public func backup(to destination: String, replacing: Bool = false) throws(VaultError) -> VerificationReport {
        guard let keys = state.withLock({ $0.keys }) else { throw .locked }
        // The vault's side files come and go: refused by name too (its folder resolved).
        if let (folder, name) = Self.resolved(destination), let (own, vault) = Self.resolved(path), folder == own,
           ["", "-wal", "-shm", "-journal"].contains(where: { vault + $0 == name }) {
            throw .invalidInput("'\(destination)' is the vault itself, or one of its files: a backup goes to another file")
        }
        var existing = stat(), own = stat()
        if lstat(destination, &existing) == 0 {
            // The vault's own file, or one of its side files, under whatever name.
            for suffix in ["", "-wal", "-shm", "-journal"]
            where stat(path + suffix, &own) == 0 && own.st_dev == existing.st_dev && own.st_ino == existing.st_ino {
                throw .invalidInput("'\(destination)' is the vault itself\(suffix.isEmpty ? "" : " (its \(suffix.dropFirst()) file)"): a backup goes to another file")
            }
            guard existing.st_mode & S_IFMT == S_IFREG else { throw .invalidInput("'\(destination)' exists and is not a file") }
            guard replacing else { throw .invalidInput("'\(destination)' already exists") }
        }
        let folder = VaultLocation.folder(of: destination)
        try VaultLocation.makeFolder(folder)
        try VaultLocation.checkPrivate(folder, isDirectory: true)
        try Self.retireSideFiles(of: destination)

        let temporary = destination + ".new-" + Sodium.randomBytes(6).map { String($0, radix: 16) }.joined()
        try VaultLocation.createPrivateFile(temporary)
        do throws(VaultError) {
            try state.withLock { state throws(VaultError) in
                try state.db.prepare("VACUUM INTO ?").run([.text(temporary)])
            }
            // VACUUM INTO writes a rollback-journal file: make it a vault like any other.
            do {
                let copy = try SQLite(path: temporary, mode: .readWrite)
                try copy.execute("PRAGMA journal_mode = WAL")
            }
            // Closed (the log folded and removed); read as a file that nothing else has open.
            let report: VerificationReport
            do {
                let copy = Vault(path: temporary, db: try SQLite(path: temporary, mode: .immutable))
                copy.state.withLock { $0.readOnly = true; $0.reset(keys: keys) }
                report = try copy.verify()
            }
            guard report.isIntact else {
                throw VaultError.tampered("the copy did not verify (\(report.firstProblem ?? "")); the vault itself may be damaged: run '\(ProgramName.current) verify'")
            }
            try VaultLocation.sync(temporary)
            if replacing {
                guard Glibc.rename(temporary, destination) == 0 else {
                    throw VaultError.io("cannot rename the copy to '\(destination)': \(String(cString: strerror(errno)))")
                }
            } else {
                try VaultLocation.link(temporary, to: destination)
                _ = unlink(temporary)
            }
            try VaultLocation.sync(folder)
            return report
        } catch .vaultExists {
            Self.removeCopy(temporary)
            throw .invalidInput("'\(destination)' already exists")
        } catch {
            Self.removeCopy(temporary)
            throw error
        }
    }

    /// The real path of `path`'s folder, and its last component.
    private static func resolved(_ path: String) -> (folder: String, name: String)? {
        guard let real = realpath(VaultLocation.folder(of: path), nil) else { return nil }
        defer { free(real) }
        return (String(cString: real), String(path.split(separator: "/").last ?? ""))
    }

    /// A write-ahead log or shared-memory file beside `destination` belongs to the file there
    /// now (a read from an older backup leaves its record in the log): SQLite would read it with
    /// the copy given that name, pages of the old file over the new. The old file is closed as
    /// the last program to use it closes it (its log folded into it, both side files removed);
    /// refused when they stay (another program has it open), or belong to no file.
    private static func retireSideFiles(of destination: String) throws(VaultError) {
        let sideFiles = ["-wal", "-shm", "-journal"]
        guard sideFiles.contains(where: { VaultLocation.exists(destination + $0) }) else { return }
        if VaultLocation.exists(destination) {
            for suffix in sideFiles { try VaultLocation.checkPrivate(destination + suffix, isDirectory: false) }
            if let old = try? SQLite(path: destination, mode: .readWrite) {
                _ = try? old.execute("SELECT count(*) FROM sqlite_master")
            }
        }
        if let left = sideFiles.first(where: { VaultLocation.exists(destination + $0) }) {
            throw .invalidInput("'\(destination)\(left)' is beside '\(destination)' (another program has it open, or the file it belonged to is gone): the copy would be read with it; close that program, or remove '\(destination)\(left)' if nothing uses it")
        }
    }

    private static func removeCopy(_ path: String) {
        for suffix in ["", "-wal", "-shm", "-journal"] { _ = unlink(path + suffix) }
    }
}
