
/// An encrypted vault in one SQLite file.
///
/// ```swift
/// let vault = try Vault.open(at: VaultLocation.defaultPath(environment: env))
/// try vault.unlock(passphrase: passphrase)
/// let token = try vault.secret(named: "gitlab-ci")
/// ```
///
/// A `Vault` is safe to share between threads; several processes may use one file at once
/// (SQLite's locking, with a busy timeout, serialises their writes). Every write is one
/// transaction.
///
/// Its parts, one concern a file: the connection and its caches (`Vault+State.swift`), the
/// header (`Vault+Header.swift`: creating, opening, the header's SQL), locking
/// (`Vault+Locking.swift`), reads (`Vault+Reading.swift`), writes (`Vault+Writing.swift`), the
/// entry rows (`Vault+Entries.swift`: their SQL and sealing), the activity log's record of
/// reads (`Lifecycle/Vault+Recording.swift`), and a vault that cannot be written here
/// (`Vault+ReadOnly.swift`: read-only, or its disk full).
public final class Vault: Sendable {
    /// The file format version written in the header.
    public static let formatVersion: UInt32 = 1

    /// The path of the vault file this `Vault` was opened or created at.
    public let path: String
    let state: Locked<State>

    /// The backend the vault works with (chosen at unlock), and its subkeys as the records
    /// see them.
    struct Keys: Sendable {
        let backend: any VaultBackend

        init(vaultKey: SymmetricKey) { backend = LocalBackend(vaultKey: vaultKey) }
        init(backend: any VaultBackend) { self.backend = backend }

        var manifest: SealingKey { SealingKey(backend: backend, purpose: .manifest) }
        var metadata: SealingKey { SealingKey(backend: backend, purpose: .entryMetadata) }
        var secret: SealingKey { SealingKey(backend: backend, purpose: .entrySecret) }
        var usage: SealingKey { SealingKey(backend: backend, purpose: .usage) }
        var events: SealingKey { SealingKey(backend: backend, purpose: .events) }
        var identity: SealingKey { SealingKey(backend: backend, purpose: .identity) }
        var vaultKey: SymmetricKey? { backend.vaultKey }

        func lookup(_ name: String) throws(VaultError) -> [UInt8] { try backend.lookup(name) }
    }

    /// Who the activity log says asked, when the program does not say: the library and the
    /// process's name.
    static let defaultActor = "library (\(ActivityLog.commandName(ofProcess: "self") ?? "unknown"))"

    /// Who the activity log records as asking for what this `Vault` reads and changes (for
    /// example `vault get`, or `git-credential-vault get`).
    public var actor: String {
        get { state.withLock { $0.origin.actor } }
        set { state.withLock { $0.origin.actor = newValue } }
    }

    init(path: String, db: SQLite) {
        self.path = path
        self.state = Locked(State(connection: db, path: path))
    }
}
