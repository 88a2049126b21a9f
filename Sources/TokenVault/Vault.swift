
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
public final class Vault: Sendable {
    /// The file format version written in the header.
    public static let formatVersion: UInt32 = 1

    public let path: String
    private let state: Locked<State>

    private struct State {
        let connection: SQLite
        let path: String
        /// Whether the file's schema and format were checked (on first use: a client that the
        /// agent reads for never touches the file).
        var checked = false
        var keys: Keys?
        var origin = ActivityLog.Origin(actor: Vault.defaultActor)
        /// The agent, when it reads for this process: then `get` and `gitCredential(for:)` are
        /// one round trip each, answered from the agent's own open, unlocked vault.
        var reader: AgentClient?
        /// The last manifest opened, with the sealed bytes it came from: the same bytes read again
        /// need not be opened again (with the agent, that is a round trip of the whole manifest).
        var manifestCache: (sealed: [UInt8], manifest: Manifest)?
        /// The connection's data_version at which the cache was known to be the file's manifest:
        /// while no other connection commits, the header need not even be read again (at 10,000
        /// entries the manifest is 240 KB).
        var cacheVersion: Int64?
        /// Every entry's metadata as last read, with the connection's data_version and commit
        /// count then: still the file's while neither changed. (The agent chooses git's entry
        /// among all of them at every request; at 10,000 entries, opening them all takes tens of
        /// milliseconds.)
        var entriesCache: (version: Int64, commits: Int, entries: [Entry])?

        /// The connection, once the file is known to be a vault this version can read.
        var db: SQLite {
            mutating get throws(VaultError) {
                if !checked {
                    try Vault.check(connection, path: path)
                    checked = true
                }
                return connection
            }
        }

        /// Inside a write transaction, whose lock keeps the schema as it is until the transaction
        /// ends: that the schema is TokenVault's own, so that what the write stores is what lands.
        /// Verified afresh each time (a few rows of `sqlite_master`): a cached verdict could be
        /// raced by a trigger planted between the check and the write.
        mutating func checkSchema() throws(VaultError) {
            let db = try self.db
            let version = try Schema.version(db)
            guard version <= Schema.currentVersion else { throw .unsupportedFormat(version) }
            guard version == Schema.currentVersion else { throw .corrupt("its schema version went back to \(version)") }
            try Schema.verify(db, version: version)
        }

        /// The file's manifest, inside the caller's transaction.
        mutating func currentManifest(keys: Keys) throws(VaultError) -> Manifest {
            let version = try db.dataVersion()
            if let cache = manifestCache, cacheVersion == version { return cache.manifest }
            // Another connection committed: perhaps a newer version that migrated the schema.
            if cacheVersion != nil {
                let schema = try Schema.version(db)
                guard schema <= Schema.currentVersion else { throw .unsupportedFormat(schema) }
            }
            let manifest = try manifest(Vault.readHeader(db), keys: keys)
            cacheVersion = version
            return manifest
        }

        /// After this connection wrote `sealed` (which does not change its data_version).
        mutating func wrote(_ sealed: [UInt8], _ manifest: Manifest) {
            manifestCache = (sealed, manifest)
        }

        mutating func manifest(_ header: Header, keys: Keys) throws(VaultError) -> Manifest {
            if let cache = manifestCache, cache.sealed == header.manifest {
                guard cache.manifest.binding == header.binding else { throw .tampered("the vault header") }
                return cache.manifest
            }
            let manifest = try Vault.openManifest(header, keys: keys)
            manifestCache = (header.manifest, manifest)
            return manifest
        }
    }

    /// The key ring the vault works with, and its subkeys as the records see them.
    struct Keys: Sendable {
        let ring: any KeyRing

        init(vaultKey: SymmetricKey) { ring = LocalKeyRing(vaultKey: vaultKey) }
        init(ring: any KeyRing) { self.ring = ring }

        var manifest: SealingKey { SealingKey(ring: ring, purpose: .manifest) }
        var metadata: SealingKey { SealingKey(ring: ring, purpose: .entryMetadata) }
        var secret: SealingKey { SealingKey(ring: ring, purpose: .entrySecret) }
        var usage: SealingKey { SealingKey(ring: ring, purpose: .usage) }
        var vaultKey: SymmetricKey? { ring.vaultKey }

        func lookup(_ name: String) throws(VaultError) -> [UInt8] { try ring.lookup(name) }
    }

    /// The header's plain columns.
    struct Header {
        var format: UInt32
        var binding: Manifest.Binding
        var wrappedKey: [UInt8]
        var manifest: [UInt8]
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

    struct PendingEvent {
        var action: String
        var entry: String?
        var detail: String? = nil
    }

    private init(path: String, db: SQLite) {
        self.path = path
        self.state = Locked(State(connection: db, path: path))
    }

    // MARK: Creating and opening

    /// Creates a new vault file at `path` (its folder is created with mode 0700 if missing; the
    /// file gets mode 0600) and returns it unlocked.
    ///
    /// The vault is built whole under a temporary name and then linked into place, so a process
    /// killed at any moment leaves either no vault or a complete one at `path`.
    public static func create(at path: String, passphrase: Secret, kdf: KDFParameters = .default) throws(VaultError) -> Vault {
        guard kdf.isSupported else { throw .invalidInput("unsupported key-derivation parameters") }
        guard !passphrase.isEmpty else { throw .invalidInput("the passphrase is empty") }
        let folder = VaultLocation.folder(of: path)
        try VaultLocation.makeFolder(folder)
        try VaultLocation.checkPrivate(folder, isDirectory: true)
        guard !VaultLocation.exists(path) else { throw .vaultExists(path: path) }

        // The slow part first, while nothing is on disk.
        let vaultKey = SymmetricKey.random()
        let salt = Sodium.randomBytes(KeyDerivation.saltBytes)
        let kek = try KeyDerivation.passphraseKey(passphrase, salt: salt, parameters: kdf)
        let keys = Keys(vaultKey: vaultKey)
        let binding = Manifest.Binding(vaultID: Sodium.randomBytes(16), format: formatVersion, kdf: kdf, salt: salt)
        let wrappedKey = vaultKey.withUnsafeBytes { SecretBox.seal($0, using: kek) }
        let manifest = try Manifest(binding: binding).seal(using: keys.manifest)

        let temporary = path + ".new-" + Sodium.randomBytes(6).map { String($0, radix: 16) }.joined()
        try VaultLocation.createPrivateFile(temporary)
        do {
            do {
                let db = try SQLite(path: temporary, mode: .readWrite)
                try Schema.configure(db)
                try db.transaction(write: true) { () throws(VaultError) in
                    try Schema.create(db)
                    try db.prepare("""
                        INSERT INTO vault (id, format, vault_id, kdf_alg, kdf_ops, kdf_mem, kdf_salt, wrapped_key, manifest)
                        VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?)
                        """).run([
                            .integer(Int64(formatVersion)), .blob(binding.vaultID), .integer(Int64(kdf.algorithm)),
                            .integer(Int64(kdf.opsLimit)), .integer(Int64(kdf.memLimit)), .blob(salt),
                            .blob(wrappedKey), .blob(manifest),
                        ])
                }
                // Write-ahead logging: readers never wait for a writer, and a killed writer
                // leaves the last committed state. The mode is stored in the file.
                try db.execute("PRAGMA journal_mode = WAL")
            }
            // Closed: the log is folded into the file. Make it durable, then publish it.
            try VaultLocation.sync(temporary)
            try VaultLocation.link(temporary, to: path)
            unlinkVault(temporary)
            try? VaultLocation.sync(folder)
        } catch {
            unlinkVault(temporary)
            throw error
        }
        let vault = try open(at: path)
        vault.state.withLock { $0.keys = keys }
        return vault
    }

    private static func unlinkVault(_ path: String) {
        for suffix in ["", "-wal", "-shm", "-journal"] { _ = removeFile(path + suffix) }
    }

    /// Opens an existing vault, locked. Refuses a file or folder that other users can read or
    /// write.
    public static func open(at path: String) throws(VaultError) -> Vault {
        try open(at: path, checkingNow: true)
    }

    /// Opens an existing vault, and checks that it is one on first use rather than now: a
    /// command that the agent reads for then never touches the file (the agent checks that the
    /// file at the path is still the vault it unlocked).
    package static func open(at path: String, checkingNow: Bool) throws(VaultError) -> Vault {
        guard VaultLocation.exists(path) else { throw .noVault(path: path) }
        try VaultLocation.checkPrivate(VaultLocation.folder(of: path), isDirectory: true)
        try VaultLocation.checkPrivate(path, isDirectory: false)
        for suffix in ["-wal", "-shm"] {
            try VaultLocation.checkPrivate(path + suffix, isDirectory: false)
        }
        let vault = Vault(path: path, db: try SQLite(path: path, mode: .readWrite))
        if checkingNow { try vault.state.withLock { state throws(VaultError) in _ = try state.db } }
        return vault
    }

    /// That the file is a vault this version can read, migrating an older schema: done on the
    /// connection's first use.
    private static func check(_ db: SQLite, path: String) throws(VaultError) {
        try Schema.configure(db)
        // The version and the schema from one snapshot (another process may be migrating).
        let version = try db.transaction(write: false) { () throws(VaultError) -> Int in
            let version = try Schema.version(db)
            guard version > 0 else { throw .corrupt("'\(path)' is not a TokenVault file") }
            guard version <= Schema.currentVersion else { throw .unsupportedFormat(version) }
            // Nothing but TokenVault's own tables, before anything is read or migrated.
            try Schema.verify(db, version: version)
            return version
        }
        // Migrations verify the schema inside their own write transaction.
        if version < Schema.currentVersion { try Schema.migrate(db, from: version) }
        // Only the format here (the whole header, manifest included, is read when unlocking).
        let statement: Statement
        do { statement = try db.prepare("SELECT format FROM vault WHERE id = 1") } catch {
            throw VaultError.corrupt("the vault header is missing")
        }
        guard try statement.step() else { throw VaultError.corrupt("the vault header is missing") }
        let format = try statement.integer(0, "the header's format")
        guard format <= Int64(formatVersion) else { throw .unsupportedFormat(Int(clamping: format)) }
    }

    // MARK: Locking

    /// Derives the key-encryption key from `passphrase` (Argon2id, with the cost stored in the
    /// header) and unwraps the vault key. Throws `.wrongPassphrase` when it does not open, and
    /// `.costlyKeyDerivation`, before any work, when the header asks for more than `sensitive`
    /// unless `allowingCostlyKDF`.
    public func unlock(passphrase: Secret, allowingCostlyKDF: Bool = false) throws(VaultError) {
        do {
            let (header, version) = try state.withLock { state throws(VaultError) in
                let db = try state.db
                return try db.transaction(write: false) { () throws(VaultError) in (try Self.readHeader(db), try db.dataVersion()) }
            }
            try header.binding.kdf.checkCost(allowingCostly: allowingCostlyKDF)
            // The slow part runs without holding the lock.
            let kek = try KeyDerivation.passphraseKey(passphrase, salt: header.binding.salt, parameters: header.binding.kdf)
            let (keys, manifest) = try Self.unwrap(header, kek: kek)
            state.withLock {
                $0.keys = keys
                $0.reader = nil
                $0.entriesCache = nil
                // The manifest just verified stays valid until another connection commits.
                $0.manifestCache = (header.manifest, manifest)
                $0.cacheVersion = version
            }
        } catch {
            lock()
            throw error
        }
    }

    /// Forgets the keys. The vault can be unlocked again.
    public func lock() {
        state.withLock {
            $0.keys = nil
            $0.manifestCache = nil
            $0.cacheVersion = nil
            $0.entriesCache = nil
            $0.reader = nil
        }
    }

    /// The keys, when they are held in this process.
    var localKeyRing: LocalKeyRing? {
        state.withLock { $0.keys?.ring as? LocalKeyRing }
    }

    /// Uses an agent's keys: nothing secret is held here; every seal and open goes to the agent.
    /// Fails with `.locked` when the agent holds no key, and with `.tampered` when its key does
    /// not open this vault.
    public func unlock(with agent: AgentClient) throws(VaultError) {
        let keys = Keys(ring: AgentKeyRing(client: agent))
        // An agent that reads for its clients vouches that its key opens this very file (it
        // checks that the file is the one it unlocked): the manifest is then opened here only
        // when something needs it. An agent from an older version does not know `attach`.
        if try agent.attach(path: path) {
            state.withLock { state in
                state.keys = keys
                state.entriesCache = nil
                state.manifestCache = nil
                state.cacheVersion = nil
                state.reader = agent
            }
            return
        }
        try state.withLock { state throws(VaultError) in
            let db = try state.db
            let (header, manifest, version) = try db.transaction(write: false) { () throws(VaultError) in
                let version = try db.dataVersion()
                let header = try Self.readHeader(db)
                return (header, try Self.openManifest(header, keys: keys), version)
            }
            state.keys = keys
            state.reader = nil
            state.entriesCache = nil
            state.manifestCache = (header.manifest, manifest)
            state.cacheVersion = version
        }
    }

    /// Takes the keys of an agent's key ring (the agent, opening its vault again) and checks
    /// that they open this file's manifest.
    func unlock(ring: LocalKeyRing) throws(VaultError) {
        state.withLock { state in
            state.keys = Keys(ring: ring)
            state.reader = nil
            state.entriesCache = nil
            state.manifestCache = nil
            state.cacheVersion = nil
        }
        do {
            try read { _, _, _ throws(VaultError) in }
        } catch {
            lock()
            throw error
        }
    }

    /// Hands the key this vault holds (after an unlock with the passphrase) to its agent, over
    /// the agent's socket, which only the user's own processes reach: the agent then need not
    /// derive it again. Fails with `.locked` when the key is not held here, and with
    /// `.wrongPassphrase` when it does not open the agent's vault.
    public func lendKey(to agent: AgentClient, idleTimeout: Int64, maximumLifetime: Int64) throws(VaultError) {
        guard let key = localKeyRing?.vaultKey else { throw .locked }
        try agent.unlock(vaultKey: key, idleTimeout: idleTimeout, maximumLifetime: maximumLifetime)
    }

    /// Waits at most this long for another process's write (the agent, whose clients give up
    /// after a second; 30 s unless set).
    func setBusyTimeout(milliseconds: Int32) {
        state.withLock { $0.connection.setBusyTimeout(milliseconds: milliseconds) }
    }

    public var isUnlocked: Bool {
        state.withLock { $0.keys != nil }
    }

    /// The key-derivation parameters stored in the header.
    public func kdfParameters() throws(VaultError) -> KDFParameters {
        try state.withLock { state throws(VaultError) in try Self.readHeader(try state.db).binding.kdf }
    }

    /// Throws `.costlyKeyDerivation` when the header asks for more than `sensitive` and that is
    /// not allowed: for callers that check before they ask for a passphrase.
    public func checkKDFCost(allowingCostly: Bool = false) throws(VaultError) {
        try kdfParameters().checkCost(allowingCostly: allowingCostly)
    }

    private static func unwrap(_ header: Header, kek: SymmetricKey) throws(VaultError) -> (Keys, Manifest) {
        let vaultKey: SecureBytes
        do {
            vaultKey = try SecretBox.open(header.wrappedKey, using: kek, what: "the wrapped vault key")
        } catch {
            throw .wrongPassphrase
        }
        guard vaultKey.count == SymmetricKey.byteCount else { throw .tampered("the wrapped vault key") }
        let keys = Keys(vaultKey: SymmetricKey(storage: vaultKey))
        return (keys, try openManifest(header, keys: keys))
    }

    // MARK: Reading

    /// The metadata of one entry (its secret stays sealed).
    public func entry(named name: String) throws(VaultError) -> Entry {
        try read { db, keys, manifest throws(VaultError) in
            try Self.loadRow(db, name: name, keys: keys, manifest: manifest).entry
        }
    }

    /// The secret of one entry, under the rules of ``get(_:allowingExpired:)``.
    public func secret(named name: String) throws(VaultError) -> Secret {
        try get(name).secret
    }

    /// An entry with its secret.
    /// Every read of a token is recorded in the activity log, with the last-used time. A token
    /// in the trash is refused (`.inTrash`), and so are a revoked and an expired one (`.revoked`,
    /// `.expired`) unless `allowingExpired`: checked in the transaction that reads the token, so
    /// a refused read is neither recorded nor a use.
    public func get(_ name: String, allowingExpired: Bool = false) throws(VaultError) -> (entry: Entry, secret: Secret) {
        let (reader, origin) = state.withLock { ($0.reader, $0.origin) }
        if let reader, let answer = try reader.read(name, allowingExpired: allowingExpired, origin: origin, path: path) { return answer }
        return try get(name, allowingExpired: allowingExpired, for: origin)
    }

    /// `get`, recorded as asked for by `origin` (the agent, for a client).
    func get(_ name: String, allowingExpired: Bool, for origin: ActivityLog.Origin) throws(VaultError) -> (entry: Entry, secret: Secret) {
        let (entry, secret, lookup) = try read { db, keys, manifest throws(VaultError) in
            let row = try Self.loadRow(db, name: name, keys: keys, manifest: manifest)
            if let refusal = row.entry.readRefusal(allowingExpired: allowingExpired) { throw refusal }
            return (row.entry, try Self.openSecret(row, keys: keys).current, row.lookup)
        }
        try recordRead(name, lookup: lookup, action: "read", origin: origin)
        return (entry, secret)
    }

    /// The entry that answers git's `get` for `request`, with its token (read as by `get`),
    /// and the expired entries that would have answered.
    public func gitCredential(for request: GitCredential, now: Timestamp = .now()) throws(VaultError) -> (GitMatching.Selection, GitSecrets?) {
        let (reader, origin) = state.withLock { ($0.reader, $0.origin) }
        if let reader, let answer = try reader.gitCredential(request, now: now, origin: origin, path: path) { return answer }
        return try gitCredential(for: request, now: now, origin: origin)
    }

    /// `gitCredential(for:now:)`, recorded as asked for by `origin`. The entry is chosen and its
    /// token read in one transaction: what git gets is the entry that matched.
    func gitCredential(for request: GitCredential, now: Timestamp, origin: ActivityLog.Origin) throws(VaultError) -> (GitMatching.Selection, GitSecrets?) {
        let (selection, secret, lookup) = try readEntries { db, keys, manifest, entries throws(VaultError) -> (GitMatching.Selection, GitSecrets?, [UInt8]?) in
            let selection = GitMatching.select(for: request, in: entries, now: now)
            guard let chosen = selection.chosen else {
                // Nothing valid: an expired OAuth token's refresh token (never the token), for
                // git to hand to the helper that renews it.
                guard let expired = selection.expired.first(where: { $0.authType == nil }) else { return (selection, nil, nil) }
                let row = try Self.loadRow(db, name: expired.name, keys: keys, manifest: manifest)
                guard let refresh = try Self.openSecret(row, keys: keys).refreshToken else { return (selection, nil, nil) }
                return (selection, GitSecrets(token: Secret(""), refreshToken: refresh), row.lookup)
            }
            let row = try Self.loadRow(db, name: chosen.name, keys: keys, manifest: manifest)
            // The row as read now must still be the entry chosen (from the cache): never a
            // token from the trash, a rejected or revoked one, or one for another URL.
            let fresh = row.entry
            guard fresh.deleted == nil, fresh.rejected == nil, fresh.revoked == nil, fresh.url == chosen.url,
                  fresh.username == chosen.username, !fresh.isExpired(at: now) else {
                throw VaultError.corrupt("the entry chosen for git changed while it was read: try again")
            }
            let record = try Self.openSecret(row, keys: keys)
            return (selection, GitSecrets(token: record.current, refreshToken: record.refreshToken), row.lookup)
        }
        if let lookup, let chosen = selection.chosen {
            try recordRead(chosen.name, lookup: lookup, action: "read", origin: origin)
        } else if let lookup, let expired = selection.expired.first(where: { $0.authType == nil }) {
            try recordRead(expired.name, lookup: lookup, action: "read refresh token", origin: origin)
        }
        return (selection, secret)
    }

    /// The token, read for `purpose` (for example "read for gitlab verify"): recorded in the
    /// activity log under that name, but not as a use (the last-used time, which `vault check`
    /// reads to find unused tokens, stays as it was).
    public func secret(named name: String, for purpose: String) throws(VaultError) -> Secret {
        let (secret, lookup) = try read { db, keys, manifest throws(VaultError) in
            let row = try Self.loadRow(db, name: name, keys: keys, manifest: manifest)
            return (try Self.openSecret(row, keys: keys).current, row.lookup)
        }
        // Recorded as a read whatever the purpose says (only reads may follow the log's head).
        let action = ActivityLog.isRead(purpose) ? purpose : "read for \(purpose)"
        try recordRead(name, lookup: lookup, action: action, origin: state.withLock { $0.origin }, isUse: false)
        return secret
    }

    /// The tokens an entry held before its current one, newest first, with when each was
    /// replaced.
    public func history(of name: String) throws(VaultError) -> [SecretVersion] {
        let (versions, lookup) = try read { db, keys, manifest throws(VaultError) in
            let row = try Self.loadRow(db, name: name, keys: keys, manifest: manifest)
            return (try Self.openSecret(row, keys: keys).previous, row.lookup)
        }
        try recordRead(name, lookup: lookup, action: "read history", origin: state.withLock { $0.origin })
        return versions
    }

    /// Whether the entry holds exactly `secret` (compared in constant time). The token does not
    /// leave the library, so this is not a read: no event, no last-used time.
    public func holds(_ name: String, secret: Secret) throws(VaultError) -> Bool {
        try read { db, keys, manifest throws(VaultError) in
            try Self.openSecret(Self.loadRow(db, name: name, keys: keys, manifest: manifest), keys: keys).current.isEqual(to: secret)
        }
    }

    /// Whether the entry holds exactly `secret`, and `refreshToken` when one is given (a nil one
    /// counts as held). Compared in constant time; not a read.
    func holding(_ name: String, secret: Secret, refreshToken: Secret?) throws(VaultError) -> (token: Bool, refreshToken: Bool) {
        try read { db, keys, manifest throws(VaultError) in
            let record = try Self.openSecret(Self.loadRow(db, name: name, keys: keys, manifest: manifest), keys: keys)
            let refreshHeld = refreshToken.map { wanted in record.refreshToken.map { $0.isEqual(to: wanted) } ?? false } ?? true
            return (record.current.isEqual(to: secret), refreshHeld)
        }
    }

    /// What `vault check` needs to know of the tokens themselves, without handing any out: which
    /// entries hold the same token as another, and which hold a GitHub classic token. Recorded
    /// as one `review` event.
    public func reviewTokens() throws(VaultError) -> (duplicates: [String: String], classicGitHub: Set<String>) {
        let result = try read { db, keys, manifest throws(VaultError) -> ([String: String], Set<String>) in
            var duplicates: [String: String] = [:]
            var classic: Set<String> = []
            var seen: [(String, Secret)] = []
            let statement = try db.prepare("SELECT lookup, metadata FROM entries")
            var names: [String] = []
            while try statement.step() {
                let lookup = try statement.blob(0, "an entry's lookup", count: KeyedHash.bytes)
                guard let revision = manifest.revision(of: lookup) else { throw .tampered("an entry that the header does not list") }
                let entry = try Self.openMetadata(statement.blob(1, "an entry's metadata"), lookup: lookup, revision: revision, keys: keys)
                if entry.deleted == nil { names.append(entry.name) }
            }
            for name in names.sorted() {
                let secret = try Self.openSecret(Self.loadRow(db, name: name, keys: keys, manifest: manifest), keys: keys).current
                if let first = seen.first(where: { $0.1.isEqual(to: secret) }) {
                    duplicates[name] = first.0
                    if duplicates[first.0] == nil { duplicates[first.0] = name }
                }
                seen.append((name, secret))
                if secret.withUnsafeBytes({ $0.starts(with: Array("ghp_".utf8)) }) { classic.insert(name) }
            }
            return (duplicates, classic)
        }
        try write { _, _, _, events throws(VaultError) in events.append(PendingEvent(action: "review", entry: nil)) }
        return result
    }

    /// The activity log, verified: every event, and whether the chain holds.
    public func activityLog() throws(VaultError) -> LogReport {
        try read { db, keys, manifest throws(VaultError) in try ActivityLog.verify(db, keys: keys, manifest: manifest) }
    }

    /// Records a read in the activity log, with the entry's last-used time, in one small write
    /// that waits neither for the disk nor, at exit, for a checkpoint.
    private func recordRead(_ name: String, lookup: [UInt8], action: String, origin: ActivityLog.Origin,
                            isUse: Bool = true) throws(VaultError) {
        try state.withLock { state throws(VaultError) in
            guard let keys = state.keys else { throw VaultError.locked }
            let db = try state.db
            try db.execute("PRAGMA synchronous = NORMAL")
            defer { try? db.execute("PRAGMA synchronous = FULL") }
            var written: ([UInt8], Manifest)?
            var used: Timestamp?
            // Whether the cached entries are the file's as this write begins: then only the
            // entry's last-used time changes, and the cache is kept with it.
            var cacheIsCurrent = false
            try db.transaction(write: true) { () throws(VaultError) in
                try state.checkSchema()
                var manifest = try state.currentManifest(keys: keys)
                let version = try db.dataVersion()
                cacheIsCurrent = state.entriesCache.map { $0.version == version && $0.commits == db.commits } ?? false
                try ActivityLog.append(db, keys: keys, manifest: manifest, action: action, entry: name, origin: origin)
                // The entry may have been removed since it was read: then no last-used time.
                let exists = try db.prepare("SELECT 1 FROM entries WHERE lookup = ?").bind([.blob(lookup)])
                if isUse, try exists.step() {
                    let now = Timestamp.now()
                    try db.prepare("INSERT OR REPLACE INTO usage (lookup, sealed) VALUES (?, ?)")
                        .run([.blob(lookup), .blob(try Self.sealUsage(now, lookup: lookup, keys: keys))])
                    used = now
                }
                // Reads keep the log bounded too; the manifest (which keeps the pruning anchor)
                // is rewritten only once in a while, when the log is a tenth over its limit.
                if try ActivityLog.isOverfull(db, manifest: manifest, margin: manifest.settings.logMaxEvents / 10 + 10) {
                    try ActivityLog.prune(db, keys: keys, manifest: &manifest)
                    let sealed = try manifest.seal(using: keys.manifest)
                    try db.prepare("UPDATE vault SET manifest = ? WHERE id = 1").run([.blob(sealed)])
                    try Landed.manifest(db, sealed)
                    written = (sealed, manifest)
                }
            }
            db.leaveLogOnClose(whileShorterThan: Self.readLogFrames)
            if let (sealed, manifest) = written { state.wrote(sealed, manifest) }
            if cacheIsCurrent, var cache = state.entriesCache {
                state.entriesCache = nil  // The array's only reference: changed in place.
                if let used, let index = cache.entries.firstIndex(where: { $0.name == name }) { cache.entries[index].lastUsed = used }
                cache.commits = db.commits
                state.entriesCache = cache
            }
        }
    }

    /// How long the write-ahead log may grow from reads' small writes before a close
    /// checkpoints it (a read adds three or four frames).
    static let readLogFrames: Int32 = 32

    /// How the activity log names a change to an entry.
    static func describeChange(from old: Entry, to new: Entry, replacedToken: Bool, restoredVersion: Int?) -> String {
        if let restoredVersion { return "restore version \(restoredVersion + 1)" }
        if replacedToken { return "replace token" }
        if old.deleted == nil && new.deleted != nil { return "trash" }
        if old.deleted != nil && new.deleted == nil { return "restore" }
        if old.rejected == nil && new.rejected != nil { return "rejected by git" }
        if old.rejected != nil && new.rejected == nil { return "restore" }
        return "edit"
    }

    /// Makes the previous version at `index` (0 is the newest, as ``history(of:)`` lists them)
    /// current again; the token it replaces joins the history, and the restored one leaves it.
    public func restoreVersion(_ name: String, index: Int) throws {
        try update(name, restoringVersion: index)
    }

    /// Records that the entry was just used (by git or `vault get`). One small write outside the
    /// manifest, flushed without waiting for the disk: losing it in a power cut loses a time,
    /// never a token.
    public func markUsed(_ name: String, at time: Timestamp = .now()) throws(VaultError) {
        try state.withLock { state throws(VaultError) in
            guard let keys = state.keys else { throw VaultError.locked }
            let db = try state.db
            let lookup = try keys.lookup(name)
            // Without waiting for the disk, now or when the process exits.
            try db.execute("PRAGMA synchronous = NORMAL")
            defer { try? db.execute("PRAGMA synchronous = FULL") }
            try db.transaction(write: true) { () throws(VaultError) in
                try state.checkSchema()
                let exists = try db.prepare("SELECT 1 FROM entries WHERE lookup = ?").bind([.blob(lookup)])
                guard try exists.step() else { throw VaultError.notFound(name: name, suggestion: nil) }
                try db.prepare("INSERT OR REPLACE INTO usage (lookup, sealed) VALUES (?, ?)")
                    .run([.blob(lookup), .blob(try Self.sealUsage(time, lookup: lookup, keys: keys))])
            }
            db.leaveLogOnClose(whileShorterThan: Self.readLogFrames)
        }
    }

    /// Every entry's metadata, sorted by name. Verifies every row against the manifest, so a
    /// deleted, added or rolled-back row is reported.
    public func entries() throws(VaultError) -> [Entry] {
        try readEntries { _, _, _, entries throws(VaultError) in entries }
    }

    /// `read`, with every entry's metadata (from the cache while the file has not changed).
    private func readEntries<R>(_ body: (SQLite, Keys, Manifest, [Entry]) throws(VaultError) -> R) throws(VaultError) -> R {
        try state.withLock { state throws(VaultError) -> R in
            guard let keys = state.keys else { throw VaultError.locked }
            let db = try state.db
            return try db.transaction(write: false) { () throws(VaultError) -> R in
                let manifest = try state.currentManifest(keys: keys)
                let version = try db.dataVersion()
                if let cache = state.entriesCache, cache.version == version, cache.commits == db.commits {
                    return try body(db, keys, manifest, cache.entries)
                }
                let entries = try Self.loadEntries(db, keys: keys, manifest: manifest)
                state.entriesCache = (version, db.commits, entries)
                return try body(db, keys, manifest, entries)
            }
        }
    }

    private static func loadEntries(_ db: SQLite, keys: Keys, manifest: Manifest) throws(VaultError) -> [Entry] {
        var usage: [[UInt8]: [UInt8]] = [:]
        let uses = try db.prepare("SELECT lookup, sealed FROM usage")
        while try uses.step() {
            usage[try uses.blob(0, "a last-used time's lookup", count: KeyedHash.bytes)] = try uses.blob(1, "a last-used time")
        }
        let statement = try db.prepare("SELECT lookup, metadata FROM entries")
        var entries: [Entry] = []
        var seen = Set<[UInt8]>()
        entries.reserveCapacity(manifest.count)
        while try statement.step() {
            let lookup = try statement.blob(0, "an entry's lookup", count: KeyedHash.bytes)
            guard seen.insert(lookup).inserted else { throw .tampered("the entry list (a duplicated entry)") }
            guard let revision = manifest.revision(of: lookup) else {
                throw .tampered("an entry that the header does not list")
            }
            var entry = try Self.openMetadata(statement.blob(1, "an entry's metadata"), lookup: lookup, revision: revision, keys: keys)
            entry.lastUsed = try usage[lookup].map { sealed throws(VaultError) in
                try Self.openUsage(sealed, lookup: lookup, keys: keys)
            }
            guard try keys.lookup(entry.name) == lookup else {
                throw .tampered("the metadata of '\(Redaction.redact(entry.name))'")
            }
            entries.append(entry)
        }
        guard entries.count == manifest.count else {
            throw .tampered("the entry list (\(manifest.count - entries.count) entries are missing)")
        }
        return entries.sorted { $0.name < $1.name }
    }

    /// The vault-wide settings.
    public func settings() throws(VaultError) -> VaultSettings {
        try read { _, _, manifest throws(VaultError) in manifest.settings }
    }

    /// Changes the vault-wide settings, in one transaction.
    /// `detail` says what changed, for the activity log (for example `trash-days 30 → 7`).
    public func updateSettings(detail: String? = nil, _ change: (inout VaultSettings) -> Void) throws(VaultError) {
        try write { _, _, manifest, events throws(VaultError) in
            change(&manifest.settings)
            _ = manifest.nextRevision()
            events.append(PendingEvent(action: "config", entry: nil, detail: detail))
        }
    }

    /// Destroys the entries that have been in the trash for longer than the vault keeps them.
    /// Returns their names.
    @discardableResult
    public func emptyTrash(now: Timestamp = .now()) throws -> [String] {
        let days = try settings().trashDays
        let (span, overflow) = days.multipliedReportingOverflow(by: 86_400)
        guard !overflow else { return [] }
        let cutoff = now.secondsSince1970 - span
        let candidates = try entries().filter { ($0.deleted?.secondsSince1970 ?? .max) < cutoff }
        var destroyed: [String] = []
        for entry in candidates {
            // Checked again inside the write: an entry restored meanwhile is left alone.
            if try remove(entry.name, onlyIfTrashedBefore: cutoff) { destroyed.append(entry.name) }
        }
        return destroyed
    }

    /// The names of all entries, sorted.
    public func names() throws(VaultError) -> [String] {
        try entries().map(\.name)
    }

    // MARK: Writing

    /// Adds an entry. Fails with `.alreadyExists` if the name is taken.
    public func add(_ entry: Entry, secret: Secret) throws(VaultError) {
        try add([(entry, secret)])
    }

    /// Adds several entries in one transaction: all of them, or none if any name is taken or
    /// invalid.
    public func add(_ batch: [(entry: Entry, secret: Secret)]) throws(VaultError) {
        try add(batch.map { ($0.entry, SecretRecord(current: $0.secret, previous: [])) }, allowingEmpty: false)
    }

    /// Adds one entry with its whole secret record; an empty token only where `allowingEmpty`
    /// (git's empty credential for `http.emptyAuth` and single sign-on).
    func add(_ entry: Entry, record: SecretRecord, allowingEmpty: Bool) throws(VaultError) {
        try add([(entry, record)], allowingEmpty: allowingEmpty)
    }

    private func add(_ batch: [(entry: Entry, record: SecretRecord)], allowingEmpty: Bool) throws(VaultError) {
        for (entry, record) in batch {
            try entry.validate()
            guard allowingEmpty || !record.current.isEmpty else {
                throw .invalidInput("the token for '\(Redaction.redact(entry.name))' is empty")
            }
        }
        try write { db, keys, manifest, events throws(VaultError) in
            let existing = try db.prepare("SELECT 1 FROM entries WHERE lookup = ?")
            let insert = try db.prepare("INSERT INTO entries (lookup, metadata, secret) VALUES (?, ?, ?)")
            let now = Timestamp.now()
            for (entry, record) in batch {
                let lookup = try keys.lookup(entry.name)
                guard manifest.revision(of: lookup) == nil else { throw .alreadyExists(name: entry.name) }
                // A row that the manifest does not list was put there from outside TokenVault.
                try existing.bind([.blob(lookup)])
                guard try !existing.step() else { throw .tampered("an entry that the header does not list") }
                var entry = entry
                entry.created = now
                entry.updated = now
                entry.tokenSince = now
                let revision = manifest.nextRevision()
                let row = try Self.seal(entry, record: record, lookup: lookup, revision: revision, keys: keys)
                try insert.run([.blob(lookup), .blob(row.metadata), .blob(row.secret)])
                try Landed.entry(db, lookup: lookup, row)
                manifest.set(lookup, revision: revision)
                events.append(PendingEvent(action: "add", entry: entry.name))
            }
        }
    }

    /// Changes an entry's metadata with `change`, and its secret when `secret` is given. The
    /// name cannot change here: use ``rename(_:to:)``.
    ///
    /// `change` runs outside the vault's lock and transaction (it may take its time, or call
    /// the vault); the write then happens only if the entry was not changed meanwhile, and is
    /// retried from a fresh read otherwise.
    ///
    /// `action` names the change in the activity log (by default, what changed: "edit",
    /// "replace token", "trash", ...), with `detail` beside it.
    @discardableResult
    public func update(_ name: String, secret newSecret: Secret? = nil, action: String? = nil, detail: String? = nil,
                       _ change: (inout Entry) throws -> Void = { _ in }) throws -> Entry {
        try update(name, secret: newSecret, restoringVersion: nil, action: action, detail: detail, change)
    }

    /// What an update does to the refresh token git stored with the token.
    enum RefreshTokenChange {
        case keep
        case set(Secret?)
    }

    @discardableResult
    func update(_ name: String, secret newSecret: Secret? = nil, restoringVersion version: Int? = nil,
                refreshToken: RefreshTokenChange = .keep, allowingEmpty: Bool = false,
                action: String? = nil, detail: String? = nil,
                _ change: (inout Entry) throws -> Void = { _ in }) throws -> Entry {
        if let newSecret, newSecret.isEmpty, !allowingEmpty { throw VaultError.invalidInput("the token is empty") }
        if let action, ActivityLog.isRead(action) {
            throw VaultError.invalidInput("'\(action)' names a read in the activity log: a change needs another name")
        }
        for _ in 0..<16 {
            let (current, revision) = try read { db, keys, manifest throws(VaultError) in
                let row = try Self.loadRow(db, name: name, keys: keys, manifest: manifest)
                return (row.entry, row.revision)
            }
            var entry = current
            try change(&entry)
            guard entry.name == current.name else {
                throw VaultError.invalidInput("update cannot rename an entry; use rename")
            }
            try Entry.validate(changedFrom: current, to: entry)
            entry.created = current.created
            entry.updated = Timestamp.now()
            let changed = entry
            let written = try write { db, keys, manifest, events throws(VaultError) -> Entry? in
                let row = try Self.loadRow(db, name: name, keys: keys, manifest: manifest)
                guard row.revision == revision else { return nil }
                var record = try Self.openSecret(row, keys: keys)
                let before = record.current
                if let newSecret { record.replace(with: newSecret, at: changed.updated) }
                if case .set(let refresh) = refreshToken { record.refreshToken = refresh }
                if let version {
                    guard record.previous.indices.contains(version) else {
                        throw VaultError.invalidInput("'\(Redaction.redact(name))' has no version \(version + 1) in its history")
                    }
                    let restored = record.previous.remove(at: version)
                    record.replace(with: restored.secret, at: changed.updated)
                }
                var final = changed
                // A new token starts its rotation period afresh.
                let replaced = !record.current.isEqual(to: before)
                if replaced { final.tokenSince = changed.updated }
                events.append(PendingEvent(action: action ?? Self.describeChange(from: row.entry, to: final, replacedToken: replaced,
                                                                                 restoredVersion: version),
                                           entry: name, detail: detail))
                let next = manifest.nextRevision()
                let sealed = try Self.seal(final, record: record, lookup: row.lookup, revision: next, keys: keys)
                try db.prepare("UPDATE entries SET metadata = ?, secret = ? WHERE lookup = ?")
                    .run([.blob(sealed.metadata), .blob(sealed.secret), .blob(row.lookup)])
                try Landed.entry(db, lookup: row.lookup, sealed)
                manifest.set(row.lookup, revision: next)
                return final
            }
            if let written { return written }
        }
        throw VaultError.database("'\(name)' kept changing under concurrent writes; try again")
    }

    /// Renames an entry. Fails if `newName` is taken.
    public func rename(_ oldName: String, to newName: String) throws(VaultError) {
        try Entry.validate(name: newName)
        try write { db, keys, manifest, events throws(VaultError) in
            let row = try Self.loadRow(db, name: oldName, keys: keys, manifest: manifest)
            let newLookup = try keys.lookup(newName)
            guard manifest.revision(of: newLookup) == nil else { throw .alreadyExists(name: newName) }
            var entry = row.entry
            entry.name = newName
            entry.storedByGit = false  // Named by its owner: reviewed.
            entry.updated = Timestamp.now()
            let record = try Self.openSecret(row, keys: keys)
            let revision = manifest.nextRevision()
            let sealed = try Self.seal(entry, record: record, lookup: newLookup, revision: revision, keys: keys)
            try db.prepare("UPDATE entries SET lookup = ?, metadata = ?, secret = ? WHERE lookup = ?")
                .run([.blob(newLookup), .blob(sealed.metadata), .blob(sealed.secret), .blob(row.lookup)])
            try Landed.entry(db, lookup: newLookup, sealed)
            try Landed.noEntry(db, lookup: row.lookup)
            try db.prepare("DELETE FROM usage WHERE lookup = ?").run([.blob(row.lookup)])
            if let used = row.entry.lastUsed {
                try db.prepare("INSERT INTO usage (lookup, sealed) VALUES (?, ?)")
                    .run([.blob(newLookup), .blob(try Self.sealUsage(used, lookup: newLookup, keys: keys))])
            }
            manifest.remove(row.lookup)
            manifest.set(newLookup, revision: revision)
            events.append(PendingEvent(action: "rename", entry: newName, detail: "from '\(oldName)'"))
        }
    }

    /// Removes an entry and its secret from the file (SQLite's secure_delete overwrites the
    /// freed pages).
    public func remove(_ name: String) throws(VaultError) {
        _ = try remove(name, onlyIfTrashedBefore: nil)
    }

    /// With a cutoff, removes the entry only if it is (still) in the trash since before it.
    private func remove(_ name: String, onlyIfTrashedBefore cutoff: Int64?) throws(VaultError) -> Bool {
        let removed = try write { db, keys, manifest, events throws(VaultError) -> Bool in
            let row = try Self.loadRow(db, name: name, keys: keys, manifest: manifest)
            if let cutoff, (row.entry.deleted?.secondsSince1970 ?? .max) >= cutoff { return false }
            try db.prepare("DELETE FROM entries WHERE lookup = ?").run([.blob(row.lookup)])
            try db.prepare("DELETE FROM usage WHERE lookup = ?").run([.blob(row.lookup)])
            try Landed.noEntry(db, lookup: row.lookup)
            manifest.remove(row.lookup)
            _ = manifest.nextRevision()
            events.append(PendingEvent(action: cutoff == nil ? "purge" : "purge (trash expired)", entry: name))
            return true
        }
        if removed { checkpoint() }
        return removed
    }

    /// Folds the write-ahead log into the file and truncates it, so that old pages (a removed
    /// entry's ciphertexts, a key wrapped under an old passphrase) do not linger in the log.
    private func checkpoint() {
        state.withLock { state in try? state.db.execute("PRAGMA wal_checkpoint(TRUNCATE)") }
    }

    /// Re-wraps the vault key under a key derived from `newPassphrase` with a new salt (and
    /// `kdf`, or the current parameters), in one transaction. Entries are not re-encrypted.
    /// The vault must be unlocked.
    public func changePassphrase(to newPassphrase: Secret, kdf: KDFParameters? = nil) throws(VaultError) {
        guard !newPassphrase.isEmpty else { throw .invalidInput("the passphrase is empty") }
        // Without new parameters, keep the ones the (verified) manifest holds.
        let parameters: KDFParameters
        if let kdf { parameters = kdf } else { parameters = try read { _, _, manifest throws(VaultError) in manifest.binding.kdf } }
        guard parameters.isSupported else { throw .invalidInput("unsupported key-derivation parameters") }
        let salt = Sodium.randomBytes(KeyDerivation.saltBytes)
        let kek = try KeyDerivation.passphraseKey(newPassphrase, salt: salt, parameters: parameters)
        try state.withLock { state throws(VaultError) in
            guard let keys = state.keys else { throw VaultError.locked }
            let db = try state.db
            try db.transaction(write: true) { () throws(VaultError) in
                try state.checkSchema()
                let header = try Self.readHeader(db)
                var manifest = try Self.openManifest(header, keys: keys)
                manifest.binding.kdf = parameters
                manifest.binding.salt = salt
                manifest.log.head = try ActivityLog.append(db, keys: keys, manifest: manifest, action: "passphrase change",
                                                            entry: nil, origin: state.origin)
                guard let vaultKey = keys.vaultKey else {
                    throw VaultError.invalidInput("the vault was unlocked through the agent: unlock it with the passphrase to change it")
                }
                let wrapped = vaultKey.withUnsafeBytes { SecretBox.seal($0, using: kek) }
                let sealed = try manifest.seal(using: keys.manifest)
                try db.prepare("""
                    UPDATE vault SET kdf_alg = ?, kdf_ops = ?, kdf_mem = ?, kdf_salt = ?, wrapped_key = ?, manifest = ?
                    WHERE id = 1
                    """).run([
                        .integer(Int64(parameters.algorithm)), .integer(Int64(parameters.opsLimit)),
                        .integer(Int64(parameters.memLimit)), .blob(salt), .blob(wrapped), .blob(sealed),
                    ])
                // Read back: the new passphrase must be the one that opens the file.
                let stored = try Self.readHeader(db)
                guard stored.manifest == sealed, stored.wrappedKey == wrapped, stored.binding == manifest.binding else {
                    throw VaultError.corrupt("the new passphrase did not land in the file (the database changed the header as it was written)")
                }
            }
            // The header changed under the cache: read it afresh next time.
            state.manifestCache = nil
            state.cacheVersion = nil
        }
        checkpoint()
    }

    // MARK: Internals

    struct Row {
        let lookup: [UInt8]
        let revision: UInt64
        let entry: Entry
        let sealedSecret: [UInt8]
    }

    private static func readHeader(_ db: SQLite) throws(VaultError) -> Header {
        let statement: Statement
        do {
            statement = try db.prepare(
                "SELECT format, vault_id, kdf_alg, kdf_ops, kdf_mem, kdf_salt, wrapped_key, manifest FROM vault WHERE id = 1")
        } catch {
            throw .corrupt("the vault header is missing")
        }
        guard try statement.step() else { throw .corrupt("the vault header is missing") }
        // Out-of-range numbers are refused, never truncated into something that verifies.
        guard let format = UInt32(exactly: try statement.integer(0, "the header's format")),
              let algorithm = Int32(exactly: try statement.integer(2, "the header's kdf_alg")),
              let ops = UInt64(exactly: try statement.integer(3, "the header's kdf_ops")),
              let mem = UInt64(exactly: try statement.integer(4, "the header's kdf_mem")) else {
            throw .tampered("the vault header")
        }
        // A newer version's file is never read (a long-lived agent may see a newer version
        // rewrite the file it has open).
        guard format <= formatVersion else { throw .unsupportedFormat(Int(format)) }
        let kdf = KDFParameters(algorithm: algorithm, opsLimit: ops, memLimit: mem)
        return Header(
            format: format,
            binding: Manifest.Binding(vaultID: try statement.blob(1, "the header's vault_id", count: 16), format: format, kdf: kdf,
                                      salt: try statement.blob(5, "the header's kdf_salt", count: KeyDerivation.saltBytes)),
            wrappedKey: try statement.blob(6, "the header's wrapped_key", count: SecretBox.overhead + SymmetricKey.byteCount),
            manifest: try statement.blob(7, "the header's manifest"))
    }

    fileprivate static func openManifest(_ header: Header, keys: Keys) throws(VaultError) -> Manifest {
        let manifest = try Manifest.open(header.manifest, using: keys.manifest)
        guard manifest.binding == header.binding else { throw .tampered("the vault header") }
        return manifest
    }

    /// Runs `body` in a read transaction with the keys and the verified manifest.
    private func read<R>(_ body: (SQLite, Keys, Manifest) throws(VaultError) -> R) throws(VaultError) -> R {
        try state.withLock { state throws(VaultError) -> R in
            guard let keys = state.keys else { throw VaultError.locked }
            let db = try state.db
            return try db.transaction(write: false) { () throws(VaultError) -> R in
                let manifest = try state.currentManifest(keys: keys)
                return try body(db, keys, manifest)
            }
        }
    }

    /// Runs `body` in one write transaction; the manifest it changes is sealed and stored
    /// before the commit.
    /// Every change it makes is recorded in the activity log, in the same transaction; the
    /// manifest then keeps the log's head.
    private func write<R>(_ body: (SQLite, Keys, inout Manifest, inout [PendingEvent]) throws(VaultError) -> R) throws(VaultError) -> R {
        try state.withLock { state throws(VaultError) -> R in
            guard let keys = state.keys else { throw VaultError.locked }
            let db = try state.db
            let origin = state.origin
            var written: ([UInt8], Manifest)?
            let result = try db.transaction(write: true) { () throws(VaultError) -> R in
                try state.checkSchema()
                var manifest = try state.currentManifest(keys: keys)
                var events: [PendingEvent] = []
                let result = try body(db, keys, &manifest, &events)
                for event in events {
                    manifest.log.head = try ActivityLog.append(db, keys: keys, manifest: manifest, action: event.action,
                                                                entry: event.entry, origin: origin, detail: event.detail)
                }
                if !events.isEmpty { try ActivityLog.prune(db, keys: keys, manifest: &manifest) }
                let sealed = try manifest.seal(using: keys.manifest)
                try db.prepare("UPDATE vault SET manifest = ? WHERE id = 1").run([.blob(sealed)])
                try Landed.manifest(db, sealed)
                written = (sealed, manifest)
                return result
            }
            // Committed: the cache follows this connection's own write.
            if let (sealed, manifest) = written { state.wrote(sealed, manifest) }
            VaultLocation.tightenSideFiles(of: path)
            return result
        }
    }

    private static func loadRow(_ db: SQLite, name: String, keys: Keys, manifest: Manifest) throws(VaultError) -> Row {
        let lookup = try keys.lookup(name)
        let statement = try db.prepare("SELECT metadata, secret FROM entries WHERE lookup = ?").bind([.blob(lookup)])
        let found = try statement.step()
        guard let revision = manifest.revision(of: lookup) else {
            if found { throw .tampered("an entry that the header does not list") }
            throw .notFound(name: name, suggestion: nil)
        }
        guard found else { throw .tampered("entry '\(Redaction.redact(name))', which is missing") }
        let what = "entry '\(Redaction.redact(name))'"
        let entry = try openMetadata(statement.blob(0, "the metadata of \(what)"), lookup: lookup, revision: revision, keys: keys, what: what)
        let sealedSecret = try statement.blob(1, "the secret of \(what)")
        guard entry.name == name else { throw .tampered(what) }
        var withUse = entry
        let usage = try db.prepare("SELECT sealed FROM usage WHERE lookup = ?").bind([.blob(lookup)])
        if try usage.step() { withUse.lastUsed = try openUsage(usage.blob(0, "the last-used time of \(what)"), lookup: lookup, keys: keys) }
        return Row(lookup: lookup, revision: revision, entry: withUse, sealedSecret: sealedSecret)
    }

    private static func openMetadata(_ box: [UInt8], lookup: [UInt8], revision: UInt64, keys: Keys,
                                     what: String = "an entry's metadata") throws(VaultError) -> Entry {
        let (plaintext, body) = try Records.open(box, lookup: lookup, revision: revision, key: keys.metadata,
                                                 what: what, guarded: false)
        return try plaintext.withUnsafeBytes { bytes throws(VaultError) in
            try Records.decode(UnsafeRawBufferPointer(rebasing: bytes[body]))
        }
    }

    private static func openSecret(_ row: Row, keys: Keys) throws(VaultError) -> SecretRecord {
        let what = "the secret of '\(Redaction.redact(row.entry.name))'"
        let (plaintext, body) = try Records.open(row.sealedSecret, lookup: row.lookup, revision: row.revision,
                                                 key: keys.secret, what: what, guarded: true)
        return try plaintext.withUnsafeBytes { bytes throws(VaultError) in
            try SecretRecord.decode(UnsafeRawBufferPointer(rebasing: bytes[body]))
        }
    }

    private static func seal(_ entry: Entry, record: SecretRecord, lookup: [UInt8], revision: UInt64,
                             keys: Keys) throws(VaultError) -> (metadata: [UInt8], secret: [UInt8]) {
        var metadata = Records.encode(entry)
        defer { Sodium.wipe(&metadata) }
        let sealedMetadata = try Records.seal(bodyCount: metadata.count, lookup: lookup, revision: revision, key: keys.metadata) {
            $0.copyBytes(from: metadata)
        }
        let sealedSecret = try Records.seal(bodyCount: record.bodyCount, lookup: lookup, revision: revision,
                                        key: keys.secret, fill: record.fill)
        return (sealedMetadata, sealedSecret)
    }

    /// A last-used time, bound to its entry's lookup (revision 0: usage is outside the manifest;
    /// an older time put back is harmless, a time moved to another entry is detected).
    private static func sealUsage(_ time: Timestamp, lookup: [UInt8], keys: Keys) throws(VaultError) -> [UInt8] {
        var w = ByteWriter()
        w.u64(UInt64(bitPattern: time.secondsSince1970))
        return try Records.seal(bodyCount: 8, lookup: lookup, revision: 0, key: keys.usage) { $0.copyBytes(from: w.bytes) }
    }

    private static func openUsage(_ box: [UInt8], lookup: [UInt8], keys: Keys) throws(VaultError) -> Timestamp {
        let (plaintext, body) = try Records.open(box, lookup: lookup, revision: 0, key: keys.usage,
                                                 what: "a last-used time", guarded: false)
        guard let seconds = plaintext.withUnsafeBytes({ UnsafeRawBufferPointer(rebasing: $0[body]).int64 }) else {
            throw .tampered("a last-used time")
        }
        return Timestamp(secondsSince1970: seconds)
    }
}

#if canImport(Glibc)
import Glibc
private func removeFile(_ path: String) -> Int32 { unlink(path) }
#elseif canImport(Darwin)
import Darwin
private func removeFile(_ path: String) -> Int32 { unlink(path) }
#endif
