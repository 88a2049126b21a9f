/// Where a vault's keys are, chosen once at unlock: here (`LocalBackend`, after an unlock with
/// the passphrase), or in the agent (`AgentBackend`), which does the same work on the other side
/// of a socket and never hands out a key. `Vault` holds one and never asks which.
///
/// Everything that opens or hashes comes in batches (`open`, `lookup`, `chainMACs` take many at
/// once): a whole-vault command makes a constant number of round trips to the agent, however
/// many entries. `get` and `gitReply` are a read of a token as a whole: the agent does it on its
/// own open vault in one round trip, the local backend has the vault do it.
protocol VaultBackend: Sendable {
    /// The blind indexes of entries' names, in order.
    func lookup(_ names: [String]) throws(VaultError) -> [[UInt8]]
    func seal(_ purpose: KeyDerivation.Purpose, _ plaintext: UnsafeRawBufferPointer) throws(VaultError) -> [UInt8]
    /// Each box's plaintext, in order; nil for one that does not authenticate.
    func open(_ boxes: [SealedBox]) throws(VaultError) -> [SecureBytes?]
    /// MACs (keyed BLAKE2b under the event-chain subkey) that link the activity log's events.
    func chainMACs(_ data: [[UInt8]]) throws(VaultError) -> [[UInt8]]
    /// The vault key itself, only where it is held locally (to re-wrap it for a new passphrase).
    var vaultKey: SymmetricKey? { get }
    /// `Vault.get` of `vault`, recorded as asked for by `origin` (or not, as it says).
    func get(_ name: String, allowingExpired: Bool, origin: ActivityLog.Origin,
             in vault: Vault) throws(VaultError) -> Vault.TokenRead
    /// `Vault.gitReply` of `vault`: git's `get` answered from `description`, as git wrote it.
    func gitReply(toDescription description: Secret, now: Timestamp, origin: ActivityLog.Origin,
                  in vault: Vault) throws(VaultError) -> GitReply
    /// `Vault.entries` of `vault` (the agent: from the entries it keeps opened, one request).
    func entries(in vault: Vault) throws(VaultError) -> [Entry]
    /// `Vault.history(of:)` of `vault`, recorded as asked for by `origin` (the agent: one
    /// request, against the manifest it keeps opened).
    func history(of name: String, origin: ActivityLog.Origin, in vault: Vault) throws(VaultError) -> ([SecretVersion], ReadRecording)
    /// `Vault.reviewTokens` of `vault`, recorded as asked for by `origin` (the agent: no token
    /// leaves it).
    func reviewTokens(origin: ActivityLog.Origin, in vault: Vault) throws(VaultError) -> (Review.Tokens, ReadRecording)
    /// `Vault.activityLog` of `vault` (the agent: verified on its side, one request).
    func activityLog(in vault: Vault) throws(VaultError) -> LogReport
}

extension VaultBackend {
    /// The blind index of one name.
    func lookup(_ name: String) throws(VaultError) -> [UInt8] {
        guard let lookup = try lookup([name]).first else { throw .tampered("a blind index") }
        return lookup
    }

    /// One box opened; `.tampered(what)` when it does not authenticate.
    func open(_ purpose: KeyDerivation.Purpose, _ box: [UInt8], what: String) throws(VaultError) -> SecureBytes {
        guard let opened = try open([SealedBox(purpose: purpose, bytes: box)]).first, let opened else { throw .tampered(what) }
        return opened
    }

    func chainMAC(_ data: [UInt8]) throws(VaultError) -> [UInt8] {
        guard let mac = try chainMACs([data]).first else { throw .tampered("a MAC") }
        return mac
    }
}

/// The purposes a vault seals and opens with (the others are reserved).
extension KeyDerivation.Purpose {
    static let sealing: [KeyDerivation.Purpose] = [.manifest, .entryMetadata, .entrySecret, .usage, .events, .identity]
}

/// The vault key and its subkeys, in this process's secure memory.
struct LocalBackend: VaultBackend {
    let vaultKey: SymmetricKey?
    private let lookupKey: SymmetricKey
    private let chainKey: SymmetricKey
    private let subkeys: [KeyDerivation.Purpose: SymmetricKey]

    init(vaultKey: SymmetricKey) {
        self.vaultKey = vaultKey
        lookupKey = KeyDerivation.subkey(.lookup, of: vaultKey)
        chainKey = KeyDerivation.subkey(.eventChain, of: vaultKey)
        var subkeys: [KeyDerivation.Purpose: SymmetricKey] = [:]
        for purpose in KeyDerivation.Purpose.sealing { subkeys[purpose] = KeyDerivation.subkey(purpose, of: vaultKey) }
        self.subkeys = subkeys
    }

    func lookup(_ names: [String]) throws(VaultError) -> [[UInt8]] {
        names.map { name in Array(name.utf8).withUnsafeBytes { KeyedHash.hash($0, key: lookupKey) } }
    }

    func chainMACs(_ data: [[UInt8]]) throws(VaultError) -> [[UInt8]] {
        data.map { bytes in bytes.withUnsafeBytes { KeyedHash.hash($0, key: chainKey) } }
    }

    private func key(_ purpose: KeyDerivation.Purpose) throws(VaultError) -> SymmetricKey {
        guard let key = subkeys[purpose] else { throw .invalidInput("no key for this purpose") }
        return key
    }

    func seal(_ purpose: KeyDerivation.Purpose, _ plaintext: UnsafeRawBufferPointer) throws(VaultError) -> [UInt8] {
        SecretBox.seal(plaintext, using: try key(purpose))
    }

    func open(_ boxes: [SealedBox]) throws(VaultError) -> [SecureBytes?] {
        try open(boxes, guarding: true)
    }

    /// `open`, tokens into guarded memory only when `guarding` (the agent does without: what it
    /// opens for a client is copied into the answer's wiped buffer at once, and a guarded
    /// allocation costs several system calls a token). The tokens of a batch share the guarded
    /// regions of one ``SecretArena``; a lone box gets its own allocation.
    func open(_ boxes: [SealedBox], guarding: Bool) throws(VaultError) -> [SecureBytes?] {
        var opened: [SecureBytes?] = []
        opened.reserveCapacity(boxes.count)
        let arena = boxes.count > 1 ? SecretArena() : nil
        for box in boxes {
            opened.append(try? SecretBox.open(box.bytes, using: try key(box.purpose), what: "",
                                              guarded: guarding && box.guarded, arena: arena))
        }
        return opened
    }

    func get(_ name: String, allowingExpired: Bool, origin: ActivityLog.Origin,
             in vault: Vault) throws(VaultError) -> Vault.TokenRead {
        try vault.readToken(name, allowingExpired: allowingExpired, for: origin)
    }

    func gitReply(toDescription description: Secret, now: Timestamp, origin: ActivityLog.Origin,
                  in vault: Vault) throws(VaultError) -> GitReply {
        try vault.composeGitReply(toDescription: description, now: now, origin: origin)
    }

    func entries(in vault: Vault) throws(VaultError) -> [Entry] {
        try vault.entriesHere()
    }

    func history(of name: String, origin: ActivityLog.Origin, in vault: Vault) throws(VaultError) -> ([SecretVersion], ReadRecording) {
        try vault.historyHere(of: name, for: origin)
    }

    func reviewTokens(origin: ActivityLog.Origin, in vault: Vault) throws(VaultError) -> (Review.Tokens, ReadRecording) {
        try vault.reviewTokensHere(origin: origin)
    }

    func activityLog(in vault: Vault) throws(VaultError) -> LogReport {
        try vault.activityLogHere()
    }
}

/// One subkey of a backend, as the records see it.
struct SealingKey {
    let backend: any VaultBackend
    let purpose: KeyDerivation.Purpose

    func seal(_ plaintext: UnsafeRawBufferPointer) throws(VaultError) -> [UInt8] {
        try backend.seal(purpose, plaintext)
    }

    /// Opens `box` (a token into guarded memory); `.tampered(what)` when it does not authenticate.
    func open(_ box: [UInt8], what: String) throws(VaultError) -> SecureBytes {
        guard let opened = try backend.open([SealedBox(purpose: purpose, bytes: box)]).first, let opened else { throw .tampered(what) }
        return opened
    }
}
