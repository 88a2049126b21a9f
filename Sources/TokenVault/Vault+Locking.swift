/// Unlocking and locking: where the keys come from (a passphrase, an agent, the agent's own
/// key ring) and how long they are held.
extension Vault {
    /// Derives the key-encryption key from `passphrase` (Argon2id, with the cost stored in the
    /// header) and unwraps the vault key. Throws `.wrongPassphrase` when it does not open, and
    /// `.costlyKeyDerivation`, before any work, when the header asks for more than `sensitive`
    /// unless `allowingCostlyKDF`.
    public func unlock(passphrase: Secret, allowingCostlyKDF: Bool = false) throws(VaultError) {
        try unlock(passphrase: passphrase, keyFile: nil, allowingCostlyKDF: allowingCostlyKDF)
    }

    /// Unlocks with the passphrase and, for a vault that needs one (``needsKeyFile()``), its key
    /// file. Throws `.keyFileRequired`, before any work, when the vault needs a key file and
    /// none is given; `.wrongPassphraseOrKeyFile` when the two do not open a vault that needs a
    /// key file. A key file given for a vault that needs none is not needed, and opens nothing
    /// on its own; should it open the vault where the passphrase alone does not, the header's
    /// `key_file` was changed: `.tampered`.
    public func unlock(passphrase: Secret, keyFile: KeyFile?, allowingCostlyKDF: Bool = false) throws(VaultError) {
        do throws(VaultError) {
            let (header, version) = try state.withLock { state throws(VaultError) in
                let db = try state.db
                return try db.transaction(write: false) { () throws(VaultError) in (try Self.readHeader(db), try db.dataVersion()) }
            }
            if header.binding.keyFile && keyFile == nil { throw VaultError.keyFileRequired }
            try header.binding.kdf.checkCost(allowingCostly: allowingCostlyKDF)
            // The slow part runs without holding the lock, once: the other configuration's key
            // costs one hash, and finds a `key_file` column changed (the manifest binds it).
            let argon2 = try KeyDerivation.passphraseKey(passphrase, salt: header.binding.salt, parameters: header.binding.kdf)
            let withFile = keyFile.map { $0.keyEncryptionKey(passphraseKey: argon2) }
            let keks = header.binding.keyFile ? [withFile, argon2].compactMap { $0 } : [argon2, withFile].compactMap { $0 }
            let (keys, manifest) = try Self.unwrap(header, keks: keks)
            // The manifest just verified stays valid until another connection commits.
            state.withLock { $0.reset(keys: keys, verified: (header.manifest, manifest, version)) }
        } catch {
            lock()
            throw error
        }
    }

    /// Forgets the keys. The vault can be unlocked again.
    public func lock() {
        state.withLock { $0.reset(keys: nil) }
    }

    /// The keys, when they are held in this process.
    var localBackend: LocalBackend? {
        state.withLock { $0.keys?.backend as? LocalBackend }
    }

    /// Uses an agent's keys: nothing secret is held here; every seal and open goes to the agent,
    /// and a read of a token is the agent's. Fails with `.locked` when the agent holds no key
    /// or not this file's, and with `.otherAgentVersion` when the agent is of another version.
    public func unlock(with agent: AgentClient) throws(VaultError) {
        // The agent vouches that its key opens this very file (it checks that the file is the
        // one it unlocked): the manifest is then opened, through it, when something needs it.
        try agent.attach(path: path)
        state.withLock { $0.reset(keys: Keys(backend: AgentBackend(client: agent, path: path))) }
    }

    /// Unlocks through the user's agent when one holds this vault's key (after `vault unlock`),
    /// as the `vault` command does before it looks for a passphrase: then no key is derived, and
    /// reads are the agent's. `environment` places the agent's socket (`XDG_RUNTIME_DIR`, else a
    /// folder beside the default vault). Returns false, with this vault as it was, when no agent
    /// holds the key: none runs, it is locked, it holds another vault's key, or it is of another
    /// version.
    @discardableResult
    public func unlockThroughAgent(environment: [String: String]) -> Bool {
        guard let agent = AgentClient.connect(vaultPath: path, environment: environment) else { return false }
        do {
            try unlock(with: agent)
            return true
        } catch {
            return false
        }
    }

    /// Takes the agent's own keys (the agent, opening its vault again) and checks that they open
    /// this file's manifest.
    func unlock(backend: LocalBackend) throws(VaultError) {
        state.withLock { $0.reset(keys: Keys(backend: backend)) }
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
    /// `.wrongPassphrase` when it does not open the agent's vault. `remoteCacheTTL`: how long the
    /// agent keeps a remote (OpenBao) entry a client read (0: none).
    public func lendKey(to agent: AgentClient, idleTimeout: Duration, maximumLifetime: Duration,
                        remoteCacheTTL: Duration = Vault.remoteCacheTTL) throws(VaultError) {
        guard let key = localBackend?.vaultKey else { throw .locked }
        try agent.unlock(vaultKey: key, idleTimeout: idleTimeout, maximumLifetime: maximumLifetime, remoteCacheTTL: remoteCacheTTL)
    }

    /// Waits at most this long for another process's write (the agent, whose clients give up
    /// after a second; 30 s unless set).
    func setBusyTimeout(milliseconds: Int32) {
        state.withLock { $0.connection.setBusyTimeout(milliseconds: milliseconds) }
    }

    /// True when this `Vault` holds keys (a local key ring or the agent's), so that it can read and
    /// write tokens.
    public var isUnlocked: Bool {
        state.withLock { $0.keys != nil }
    }

    /// Whether unlocking this vault needs a key file with the passphrase (the header says so).
    public func needsKeyFile() throws(VaultError) -> Bool {
        try state.withLock { state throws(VaultError) in try Self.readHeader(try state.db).binding.keyFile }
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
}
