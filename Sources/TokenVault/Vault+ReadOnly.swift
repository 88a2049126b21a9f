import Glibc

/// A vault that cannot be written here (a file of mode 0400, a folder the user cannot write, a
/// read-only mount), or whose disk is full: it is read all the same, its reads are handed out
/// without being recorded (``ReadRecording``), and every change is refused with `.readOnly` or
/// `.diskFull`, nothing changed.
extension Vault {
    /// True when the vault file cannot be written here (as found when it was opened, or on first
    /// use: a disk too full to hold SQLite's shared index makes it so too): reads work, and are
    /// not recorded; changes fail with `.readOnly` or `.diskFull`.
    public var isReadOnly: Bool {
        state.withLock { $0.unwritable != nil }
    }

    /// How the reads this `Vault` made were recorded: `.recorded` while every one was (or none
    /// was made); otherwise why one was not. Through the agent too: the agent says, with each
    /// read, whether it recorded it.
    public var readRecording: ReadRecording {
        state.withLock { state in state.unrecorded.map { .notRecorded($0) } ?? .recorded }
    }

    /// Keeps a read's outcome for ``readRecording``, and returns it.
    @discardableResult
    func note(_ recording: ReadRecording) -> ReadRecording {
        if let reason = recording.reason { state.withLock { $0.unrecorded = reason } }
        return recording
    }

    /// Records the events of a read (`vault check`'s review, an export) in one write of their own,
    /// and says whether they landed (see ``ReadRecording/attempt(_:)``).
    func recordEvents(_ events: [PendingEvent], origin: ActivityLog.Origin? = nil) throws(VaultError) -> ReadRecording {
        note(try ReadRecording.attempt { () throws(VaultError) in
            try write(origin: origin, eventsOnly: true) { _, _, _, pending throws(VaultError) in pending += events }
        })
    }

    /// For a vault that cannot be written (``isReadOnly``): what a write checks before it records
    /// anything, checked in a read transaction, so that a read that is not recorded is refused
    /// wherever a recorded one would be: the schema, and that the activity log still holds what
    /// the manifest vouches for (its first event and its head); before a change (`change`: an
    /// export, `check`'s review, any change), also that no change follows the head (the header
    /// and entries put back from an older copy). Then throws `reason`'s error.
    static func refuseWrite(_ state: inout State, because reason: ReadRecording.Reason, keys: Keys, change: Bool) throws(VaultError) -> Never {
        let db = try state.db
        try db.transaction(write: false) { () throws(VaultError) in
            try state.checkSchema()
            let manifest = try state.currentManifest(keys: keys)
            try ActivityLog.checkContinuity(db, manifest: manifest, keys: change ? keys : nil)
        }
        throw reason.writeError(path: state.path)
    }

    /// How to open a vault file that this process cannot write, or nil when it can (the file and
    /// its folder, where SQLite makes its write-ahead log and shared index). Such a file is read
    /// as a file that nothing changes (`immutable`: the main file alone, no lock, no side file),
    /// unless its write-ahead log holds changes: those are read with it, through the log's
    /// shared index, which must then exist (`-shm`); without it the file cannot be read here.
    /// (The user's processes cannot write the file either, so nothing changes it meanwhile;
    /// root's may, as root's may change any file.)
    static func readOnlyMode(_ path: String) throws(VaultError) -> SQLite.Mode? {
        if access(path, W_OK) == 0 && access(VaultLocation.folder(of: path), W_OK) == 0 { return nil }
        guard logHoldsChanges(path) else { return .immutable }
        guard VaultLocation.exists(path + "-shm") else {
            throw .io("'\(path)' has changes in its write-ahead log ('\(path)-wal'), which cannot be read where the file is read-only without its '\(path)-shm': copy the vault with both files to a folder you can write")
        }
        return .readOnlyFile
    }

    /// Whether the file's write-ahead log holds anything (committed changes not yet folded in).
    private static func logHoldsChanges(_ path: String) -> Bool {
        var log = stat()
        return stat(path + "-wal", &log) == 0 && log.st_size > 0
    }

    /// The connection for a vault whose disk is too full for SQLite's shared index of the
    /// write-ahead log (which a reader must make when none exists): the main file alone, read as
    /// a file that nothing changes. Only when the log holds nothing (else its changes would be
    /// missed): then `.diskFull` stands.
    static func connectionOnFullDisk(_ path: String) throws(VaultError) -> SQLite {
        guard !logHoldsChanges(path) else { throw .diskFull(path: path) }
        return try SQLite(path: path, mode: .immutable)
    }
}
