import CSQLite
import Glibc

/// A small SQLite connection. Not `Sendable`: one owner (the `Vault`'s lock) uses it at a time.
/// Bound values never appear in an error: SQLite's messages name the failing statement's
/// problem, and statements carry only parameters.
final class SQLite {
    private let handle: OpaquePointer
    /// The write-ahead log's length in frames after this connection's last commit (kept by a
    /// WAL hook that also does SQLite's automatic checkpoints: `PRAGMA wal_autocheckpoint`
    /// would replace it, so it is never used).
    private let walFrames: UnsafeMutablePointer<Int32>
    /// How long a statement waits for another connection's write lock.
    private var busyMilliseconds: Int32 = 30_000
    /// Write transactions this connection committed. With `dataVersion()` (which other
    /// connections' commits change), it says whether the file may have changed since.
    private(set) var commits = 0

    /// How the file is opened, never created (a vault is created by publishing a complete file,
    /// see `Vault.create`): read and write; read only (`vault verify` of a file this user can
    /// write), taking SQLite's locks and reading the write-ahead log as any reader does, so that
    /// a process that writes meanwhile is waited for, never read half-way (opened read and
    /// write with `query_only`, so that its close, the last, removes the side files as any
    /// vault command's does); or read only as a file that nothing changes while it is open
    /// (SQLite's `immutable=1`: no lock, no side file, the main file alone), for a file that no
    /// process can write (mode 0400, or in a read-only folder); or (`readOnlyFile`) read only
    /// as SQLite reads a file it cannot write, with its write-ahead log and shared index, which
    /// must then exist already (a read-only file whose log holds changes).
    enum Mode { case readWrite, readOnly, immutable, readOnlyFile }

    /// The file's path, as errors name it.
    let path: String
    /// For a file read as one that nothing changes (`immutable`): what `stat` said of it before
    /// it was opened. SQLite then neither locks it nor notices a change (it keeps pages across
    /// transactions), yet a process that can write it (root's, or one that reaches it through
    /// another mount) may: a transaction that ends with the file changed since is refused, never
    /// answered from old and new pages mixed (which would read as a damaged vault).
    private let immutableStamp: AgentServer.FileState?

    init(path: String, mode: Mode) throws(VaultError) {
        var db: OpaquePointer?
        var flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_NOFOLLOW
        var name = path
        self.path = path
        immutableStamp = mode == .immutable ? AgentServer.FileState(path) : nil
        switch mode {
        case .readWrite: flags |= SQLITE_OPEN_READWRITE
        case .readOnly: flags |= SQLITE_OPEN_READWRITE
        case .readOnlyFile: flags |= SQLITE_OPEN_READONLY
        case .immutable:
            flags |= SQLITE_OPEN_READONLY | SQLITE_OPEN_URI
            name = "file:" + Self.uriEscaped(path) + "?immutable=1"
        }
        let rc = sqlite3_open_v2(name, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close_v2(db)
            throw .database("cannot open the database: \(message)")
        }
        if mode == .readOnly && sqlite3_exec(db, "PRAGMA query_only = ON", nil, nil, nil) != SQLITE_OK {
            sqlite3_close_v2(db)
            throw .database("cannot open the database to read only")
        }
        handle = db
        // Concurrent processes wait for each other rather than fail with "database is locked".
        sqlite3_busy_timeout(db, busyMilliseconds)
        sqlite3_extended_result_codes(db, 1)
        walFrames = .allocate(capacity: 1)
        walFrames.initialize(to: 0)
        csqlite_track_wal(db, walFrames)
    }

    deinit {
        sqlite3_close_v2(handle)
        walFrames.deallocate()
    }

    /// A path as the path of a `file:` URI: every byte but the unreserved ones and `/`
    /// percent-encoded (a `?` or `#` in a name is then part of the name).
    private static func uriEscaped(_ path: String) -> String {
        var escaped = ""
        for byte in path.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "/"):
                escaped.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                escaped.unicodeScalars.append("%")
                escaped.unicodeScalars.append(hex[Int(byte >> 4)])
                escaped.unicodeScalars.append(hex[Int(byte & 0x0f)])
            }
        }
        return escaped
    }

    func execute(_ sql: String) throws(VaultError) {
        let rc = sqlite3_exec(handle, sql, nil, nil, nil)
        guard rc == SQLITE_OK else { throw error(rc) }
    }

    func prepare(_ sql: String) throws(VaultError) -> Statement {
        var statement: OpaquePointer?
        let rc = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard rc == SQLITE_OK, let statement else { throw error(rc) }
        return Statement(statement, connection: self)
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    /// Writes use `BEGIN IMMEDIATE` so that the write lock is taken (waiting on the busy timeout)
    /// before anything is read, and no reader can be upgraded into a deadlock.
    ///
    /// Every write goes through here, and a committed write is then folded into the main file
    /// (``foldLog(truncating:)``): at rest, the vault is that one file, which a plain copy
    /// takes whole. Only the small writes that record reads (`foldingLog: false`) stay in the
    /// write-ahead log until the next fold.
    func transaction<R>(write: Bool, foldingLog: Bool = true, _ body: () throws(VaultError) -> R) throws(VaultError) -> R {
        try execute(write ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED")
        let result: R
        do {
            result = try body()
            if write { commits += 1 }  // Counted even if COMMIT fails: a cache then misses once.
            try execute("COMMIT")
        } catch {
            _ = sqlite3_exec(handle, "ROLLBACK", nil, nil, nil)
            try checkUnchanged()  // A changed file's error, not what mixed pages made of it.
            throw error
        }
        try checkUnchanged()
        if write && foldingLog { foldLog() }
        return result
    }

    /// Throws when a file read as one that nothing changes changed after it was opened.
    private func checkUnchanged() throws(VaultError) {
        guard let immutableStamp, AgentServer.FileState(path) != immutableStamp else { return }
        throw .io("'\(path)' changed while it was read as a file that nothing changes (it cannot be written here, but another program wrote it): try again")
    }

    /// Whether a change this connection committed may still be only in the write-ahead log: the
    /// last fold could not finish within the busy timeout (another connection held one snapshot
    /// all that time). The next write's fold, or the last connection's close, folds it.
    private(set) var logUnfolded = false
    /// Whether that last fold failed for lack of space (the main file could not grow to take
    /// the log's pages): the change is safe in the log all the same.
    private(set) var logUnfoldedForLackOfSpace = false

    /// Copies every frame of the write-ahead log into the main file, which is then the whole
    /// vault (`cp vault.db` copies every committed change), and, when `truncating`, empties the
    /// log (so that no old page, such as a removed entry's ciphertexts, lingers in it).
    ///
    /// A FULL checkpoint, not a PASSIVE one: a passive checkpoint stops at the oldest snapshot
    /// that another connection is reading (the agent, another `vault` command) and returns,
    /// leaving the newest commit in the log only. A FULL one waits (through the busy handler)
    /// until every reader reads the newest snapshot, which TokenVault's own readers reach within
    /// milliseconds, and copies everything. (TRUNCATE waits further, until no reader uses the log
    /// at all: more waiting, for nothing a copy needs, except where old pages must go.)
    /// Another connection's checkpoint in progress (SQLite answers SQLITE_BUSY at once) is
    /// waited for by trying again every 10 ms. Bounded by the busy timeout: after it,
    /// `logUnfolded` says so and the change stays safe in the log.
    @discardableResult
    func foldLog(truncating: Bool = false) -> Bool {
        let mode = truncating ? SQLITE_CHECKPOINT_TRUNCATE : SQLITE_CHECKPOINT_FULL
        let deadline = ContinuousClock.now + .milliseconds(busyMilliseconds)
        while true {
            var logFrames: Int32 = -1, copied: Int32 = -1
            let rc = sqlite3_wal_checkpoint_v2(handle, nil, mode, &logFrames, &copied)
            // Not in WAL mode (a file being made): nothing to fold.
            if rc == SQLITE_OK && logFrames == -1 { logUnfolded = false; return true }
            // Every frame copied: even when SQLite answers SQLITE_BUSY because a reader kept a
            // TRUNCATE from emptying the log.
            if (rc == SQLITE_OK || rc & 0xff == SQLITE_BUSY) && logFrames >= 0 && logFrames == copied {
                logUnfolded = false
                return true
            }
            guard rc & 0xff == SQLITE_BUSY || rc == SQLITE_OK, ContinuousClock.now < deadline else {
                logUnfolded = true
                if case .diskFull = error(rc) { logUnfoldedForLackOfSpace = true } else { logUnfoldedForLackOfSpace = false }
                return false
            }
            usleep(10_000)
        }
    }

    /// `PRAGMA data_version`: changes between two calls on this connection exactly when another
    /// connection committed in between. Called inside a transaction, it speaks of its snapshot.
    /// The schema cookie (`PRAGMA schema_version`), which SQLite changes with every change to
    /// the schema.
    func schemaCookie() throws(VaultError) -> Int64 {
        let statement = try prepare("PRAGMA schema_version")
        guard try statement.step() else { throw .database("no schema_version") }
        return statement.int(0)
    }

    func dataVersion() throws(VaultError) -> Int64 {
        let statement = try prepare("PRAGMA data_version")
        guard try statement.step() else { throw .database("no data_version") }
        return statement.int(0)
    }

    /// Whether to checkpoint the write-ahead log when this connection closes, as the last one
    /// open (SQLite's default), for small writes whose cost should stay small.
    ///
    /// Left in place, the log is read back whole by the next process to open the vault (SQLite's
    /// recovery, which also forgets what was already checkpointed, so the log is never restarted
    /// and only grows). So the log is left only while it is short: past `maximumFrames`, the
    /// close checkpoints it and removes it. (Left to grow, 1,000 frames made a `vault get` 7.2 ms
    /// instead of 5.2.)
    func leaveLogOnClose(whileShorterThan maximumFrames: Int32) {
        if walFrames.pointee < maximumFrames {
            _ = csqlite_skip_checkpoint_on_close(handle)
        } else {
            _ = csqlite_checkpoint_on_close(handle)
        }
    }

    /// Waits at most this long for another connection's write lock (30 s unless set).
    func setBusyTimeout(milliseconds: Int32) {
        busyMilliseconds = milliseconds
        sqlite3_busy_timeout(handle, milliseconds)
    }

    func error(_ rc: Int32) -> VaultError {
        let message = String(cString: sqlite3_errmsg(handle))
        switch rc & 0xff {
        case SQLITE_CORRUPT, SQLITE_NOTADB:
            return .corrupt("the database file is damaged (\(message))")
        case SQLITE_BUSY, SQLITE_LOCKED:
            return .busy(seconds: Int(max(1, (busyMilliseconds + 999) / 1000)))
        case SQLITE_READONLY:
            return .readOnly(path: path)
        case SQLITE_FULL:
            return .diskFull(path: path)
        case SQLITE_IOERR, SQLITE_CANTOPEN:
            // No room for the write-ahead log or its shared index: the disk is full.
            let number = sqlite3_system_errno(handle)
            return number == ENOSPC || number == EDQUOT ? .diskFull(path: path) : .database(message)
        default:
            return .database(message)
        }
    }
}

final class Statement {
    private let handle: OpaquePointer
    private let connection: SQLite

    fileprivate init(_ handle: OpaquePointer, connection: SQLite) {
        self.handle = handle
        self.connection = connection
    }

    deinit {
        sqlite3_finalize(handle)
    }

    enum Value {
        case integer(Int64)
        case blob([UInt8])
        case text(String)
        case null
    }

    @discardableResult
    func bind(_ values: [Value]) throws(VaultError) -> Statement {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        for (index, value) in values.enumerated() {
            let position = Int32(index + 1)
            let rc: Int32
            switch value {
            case .integer(let number):
                rc = sqlite3_bind_int64(handle, position, number)
            case .blob(let bytes):
                rc = bytes.withUnsafeBytes {
                    sqlite3_bind_blob(handle, position, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1), Int32($0.count), csqlite_transient())
                }
            case .text(let string):
                rc = sqlite3_bind_text(handle, position, string, -1, csqlite_transient())
            case .null:
                rc = sqlite3_bind_null(handle, position)
            }
            guard rc == SQLITE_OK else { throw connection.error(rc) }
        }
        return self
    }

    /// Steps once: true when a row is available.
    func step() throws(VaultError) -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw connection.error(rc)
        }
    }

    /// Runs a statement that returns no rows.
    func run(_ values: [Value] = []) throws(VaultError) {
        try bind(values)
        while try step() {}
        sqlite3_reset(handle)
    }

    /// An integer that SQLite computed (a pragma, an aggregate): not a value read from a column.
    func int(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(handle, column) == SQLITE_NULL }

    /// An integer column of the file, which must hold an integer: SQLite would quietly turn a
    /// text, a blob or a NULL that someone stored there into a number.
    func integer(_ column: Int32, _ what: @autoclosure () -> String) throws(VaultError) -> Int64 {
        guard sqlite3_column_type(handle, column) == SQLITE_INTEGER else {
            throw .corrupt("\(what()) is not an integer")
        }
        return sqlite3_column_int64(handle, column)
    }

    /// A blob column of the file, which must hold a blob (of exactly `count` bytes when given):
    /// SQLite would quietly turn a text, a number or a NULL stored there into bytes.
    func blob(_ column: Int32, _ what: @autoclosure () -> String, count expected: Int? = nil) throws(VaultError) -> [UInt8] {
        guard sqlite3_column_type(handle, column) == SQLITE_BLOB else { throw .corrupt("\(what()) is not a blob") }
        let count = Int(sqlite3_column_bytes(handle, column))
        if let expected, count != expected {
            throw .corrupt("\(what()) has \(count) bytes instead of \(expected)")
        }
        guard count > 0, let pointer = sqlite3_column_blob(handle, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// A text column, which must hold text.
    func text(_ column: Int32, _ what: @autoclosure () -> String) throws(VaultError) -> String {
        guard sqlite3_column_type(handle, column) == SQLITE_TEXT, let pointer = sqlite3_column_text(handle, column) else {
            throw .corrupt("\(what()) is not text")
        }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeRawBufferPointer(start: pointer, count: count), as: UTF8.self)
    }
}
