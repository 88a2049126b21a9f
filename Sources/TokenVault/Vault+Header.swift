import Glibc

/// The header store: the file made and published whole, opened and checked, and the one row
/// of the `vault` table (format, key derivation, wrapped key, sealed manifest). All of that
/// row's SQL is here.
extension Vault {
    /// The header's plain columns.
    struct Header {
        var format: UInt32
        var binding: Manifest.Binding
        var wrappedKey: [UInt8]
        var manifest: [UInt8]
    }

    // MARK: Creating and opening

    /// Creates a new vault file at `path` (its folder is created with mode 0700 if missing; the
    /// file gets mode 0600) and returns it unlocked.
    ///
    /// The vault is built whole under a temporary name and then linked into place, so a process
    /// killed at any moment leaves either no vault or a complete one at `path`.
    public static func create(at path: String, passphrase: Secret, kdf: KDFParameters = .default) throws(VaultError) -> Vault {
        try create(at: path, passphrase: passphrase, keyFile: nil, kdf: kdf)
    }

    /// Creates a new vault as `create(at:passphrase:kdf:)` does; with a `keyFile`, unlocking
    /// it needs that key file as well as the passphrase (the header says so, nothing more).
    /// A key file that is one of the vault's own files (its settings file, say) is refused.
    public static func create(at path: String, passphrase: Secret, keyFile: KeyFile?, kdf: KDFParameters = .default) throws(VaultError) -> Vault {
        guard kdf.isSupported else { throw .invalidInput("unsupported key-derivation parameters") }
        guard !passphrase.isEmpty else { throw .invalidInput("the passphrase is empty") }
        try keyFile?.checkApart(fromVault: path)
        let folder = VaultLocation.folder(of: path)
        try VaultLocation.makeFolder(folder)
        try VaultLocation.checkPrivate(folder, isDirectory: true)
        guard !VaultLocation.exists(path) else { throw .vaultExists(path: path) }

        // The slow part first, while nothing is on disk.
        let vaultKey = SymmetricKey.random()
        let salt = Sodium.randomBytes(KeyDerivation.saltBytes)
        let kek = try KeyDerivation.keyEncryptionKey(passphrase, keyFile: keyFile, salt: salt, parameters: kdf)
        let keys = Keys(vaultKey: vaultKey)
        let binding = Manifest.Binding(vaultID: Sodium.randomBytes(16), format: formatVersion, kdf: kdf, salt: salt,
                                       keyFile: keyFile != nil)
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
                        INSERT INTO vault (id, format, vault_id, kdf_alg, kdf_ops, kdf_mem, kdf_salt, wrapped_key, manifest, key_file)
                        VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """).run([
                            .integer(Int64(formatVersion)), .blob(binding.vaultID), .integer(Int64(kdf.algorithm)),
                            .integer(Int64(kdf.opsLimit)), .integer(Int64(kdf.memLimit)), .blob(salt),
                            .blob(wrappedKey), .blob(manifest), .integer(keyFile == nil ? 0 : 1),
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
        vault.state.withLock { $0.reset(keys: keys) }
        // The vault's identity, at once (should this fail, it is made on first use).
        _ = try? vault.identity()
        return vault
    }

    private static func unlinkVault(_ path: String) {
        for suffix in ["", "-wal", "-shm", "-journal"] { _ = unlink(path + suffix) }
    }

    /// Opens an existing vault, locked. Refuses a file or folder that other users can read or
    /// write. A file that cannot be written here is opened to be read (``isReadOnly``).
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
        // A file this process cannot write is read all the same (`Vault+ReadOnly.swift`).
        let readOnly = try readOnlyMode(path)
        let vault = Vault(path: path, db: try SQLite(path: path, mode: readOnly ?? .readWrite))
        if readOnly != nil { vault.state.withLock { ($0.readOnly, $0.unwritable) = (true, .readOnly) } }
        if checkingNow { try vault.state.withLock { state throws(VaultError) in _ = try state.db } }
        return vault
    }

    /// That the file is a vault this version can read, migrating an older schema: done on the
    /// connection's first use.
    static func check(_ db: SQLite, path: String, migrating: Bool = true) throws(VaultError) {
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
        if version < Schema.currentVersion && (migrating || version < Schema.readableUnmigrated) {
            guard migrating else {
                throw .invalidInput("'\(path)' has an older schema (version \(version)): open it once with write access to bring it up to date")
            }
            try Schema.migrate(db, from: version)
        }
        // Only the format here (the whole header, manifest included, is read when unlocking).
        let statement: Statement
        do { statement = try db.prepare("SELECT format FROM vault WHERE id = 1") } catch {
            throw VaultError.corrupt("the vault header is missing")
        }
        guard try statement.step() else { throw VaultError.corrupt("the vault header is missing") }
        let format = try statement.integer(0, "the header's format")
        guard format <= Int64(formatVersion) else { throw .unsupportedFormat(Int(clamping: format)) }
    }

    // MARK: The header row

    static func readHeader(_ db: SQLite) throws(VaultError) -> Header {
        let statement: Statement
        do {
            // Schema 4, read without being migrated (a backup, a read-only file), has no key_file
            // column: it needs no key file.
            let keyFile = try Schema.version(db) >= Schema.keyFileVersion ? "key_file" : "0"
            statement = try db.prepare(
                "SELECT format, vault_id, kdf_alg, kdf_ops, kdf_mem, kdf_salt, wrapped_key, manifest, \(keyFile) FROM vault WHERE id = 1")
        } catch {
            throw .corrupt("the vault header is missing")
        }
        guard try statement.step() else { throw .corrupt("the vault header is missing") }
        // Out-of-range numbers are refused, never truncated into something that verifies.
        guard let format = UInt32(exactly: try statement.integer(0, "the header's format")),
              let algorithm = Int32(exactly: try statement.integer(2, "the header's kdf_alg")),
              let ops = UInt64(exactly: try statement.integer(3, "the header's kdf_ops")),
              let mem = UInt64(exactly: try statement.integer(4, "the header's kdf_mem")),
              case let keyFile = try statement.integer(8, "the header's key_file"), keyFile == 0 || keyFile == 1 else {
            throw .tampered("the vault header")
        }
        // A newer version's file is never read (a long-lived agent may see a newer version
        // rewrite the file it has open).
        guard format <= formatVersion else { throw .unsupportedFormat(Int(format)) }
        let kdf = KDFParameters(algorithm: algorithm, opsLimit: ops, memLimit: mem)
        return Header(
            format: format,
            binding: Manifest.Binding(vaultID: try statement.blob(1, "the header's vault_id", count: 16), format: format, kdf: kdf,
                                      salt: try statement.blob(5, "the header's kdf_salt", count: KeyDerivation.saltBytes),
                                      keyFile: keyFile == 1),
            wrappedKey: try statement.blob(6, "the header's wrapped_key", count: SecretBox.overhead + SymmetricKey.byteCount),
            manifest: try statement.blob(7, "the header's manifest"))
    }

    /// Seals `manifest` into the header, inside the caller's write transaction, and checks that
    /// it landed. Returns the sealed bytes.
    static func storeManifest(_ db: SQLite, _ manifest: Manifest, keys: Keys) throws(VaultError) -> [UInt8] {
        let sealed = try manifest.seal(using: keys.manifest)
        try db.prepare("UPDATE vault SET manifest = ? WHERE id = 1").run([.blob(sealed)])
        try Landed.manifest(db, sealed)
        return sealed
    }

    /// Stores a new key derivation (whether it needs a key file included), wrapped key and sealed
    /// manifest in the header, inside the caller's write transaction.
    static func storeKey(_ db: SQLite, binding: Manifest.Binding, wrappedKey: [UInt8],
                         manifest sealed: [UInt8]) throws(VaultError) {
        let parameters = binding.kdf
        try db.prepare("""
            UPDATE vault SET kdf_alg = ?, kdf_ops = ?, kdf_mem = ?, kdf_salt = ?, wrapped_key = ?, manifest = ?, key_file = ?
            WHERE id = 1
            """).run([
                .integer(Int64(parameters.algorithm)), .integer(Int64(parameters.opsLimit)),
                .integer(Int64(parameters.memLimit)), .blob(binding.salt), .blob(wrappedKey), .blob(sealed),
                .integer(binding.keyFile ? 1 : 0),
            ])
    }

    static func openManifest(_ header: Header, keys: Keys) throws(VaultError) -> Manifest {
        let manifest = try Manifest.open(header.manifest, using: keys.manifest)
        guard manifest.binding == header.binding else { throw .tampered("the vault header") }
        return manifest
    }

    /// The vault key unwrapped from `header` with the first of the key-encryption keys that
    /// opens it, and the manifest it opens (whose binding must be the header's: a `key_file`
    /// column changed is found here, when the other configuration's key opens the vault). Throws
    /// `.wrongPassphrase` (`.wrongPassphraseOrKeyFile` when the header asks for a key file) when
    /// none opens it.
    static func unwrap(_ header: Header, keks: [SymmetricKey]) throws(VaultError) -> (Keys, Manifest) {
        for kek in keks {
            guard let vaultKey = try? SecretBox.open(header.wrappedKey, using: kek, what: "the wrapped vault key") else { continue }
            guard vaultKey.count == SymmetricKey.byteCount else { throw .tampered("the wrapped vault key") }
            let keys = Keys(vaultKey: SymmetricKey(storage: vaultKey))
            return (keys, try openManifest(header, keys: keys))
        }
        throw header.binding.keyFile ? .wrongPassphraseOrKeyFile : .wrongPassphrase
    }
}
