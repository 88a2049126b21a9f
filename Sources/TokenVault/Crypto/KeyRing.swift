/// What the vault needs from its keys: blind indexes, and sealing and opening under a subkey.
/// The keys are either here (`LocalKeyRing`, after an unlock with the passphrase) or in the
/// agent (`AgentKeyRing`), which does the same work on the other side of a socket and never
/// hands out a key.
protocol KeyRing: Sendable {
    /// The blind index of an entry's name.
    func lookup(_ name: String) throws(VaultError) -> [UInt8]
    func seal(_ purpose: KeyDerivation.Purpose, _ plaintext: UnsafeRawBufferPointer) throws(VaultError) -> [UInt8]
    func open(_ purpose: KeyDerivation.Purpose, _ box: [UInt8], what: String, guarded: Bool) throws(VaultError) -> SecureBytes
    /// A MAC (keyed BLAKE2b under the event-chain subkey) that links the activity log's events.
    func chainMAC(_ data: UnsafeRawBufferPointer) throws(VaultError) -> [UInt8]
    /// The vault key itself, only where it is held locally (to re-wrap it for a new passphrase).
    var vaultKey: SymmetricKey? { get }
    /// Opens many of the activity log's events at once (the agent: in one request).
    func openEvents(_ boxes: [[UInt8]]) throws(VaultError) -> [SecureBytes]
}

extension KeyRing {
    func openEvents(_ boxes: [[UInt8]]) throws(VaultError) -> [SecureBytes] {
        var opened: [SecureBytes] = []
        for box in boxes { opened.append(try open(.events, box, what: "an event of the activity log", guarded: false)) }
        return opened
    }
}

/// The purposes a vault seals and opens with (the others are reserved).
extension KeyDerivation.Purpose {
    static let sealing: [KeyDerivation.Purpose] = [.manifest, .entryMetadata, .entrySecret, .usage, .events]
}

/// The vault key and its subkeys, in this process's secure memory.
struct LocalKeyRing: KeyRing {
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

    func lookup(_ name: String) throws(VaultError) -> [UInt8] {
        Array(name.utf8).withUnsafeBytes { KeyedHash.hash($0, key: lookupKey) }
    }

    func chainMAC(_ data: UnsafeRawBufferPointer) throws(VaultError) -> [UInt8] {
        KeyedHash.hash(data, key: chainKey)
    }

    private func key(_ purpose: KeyDerivation.Purpose) throws(VaultError) -> SymmetricKey {
        guard let key = subkeys[purpose] else { throw .invalidInput("no key for this purpose") }
        return key
    }

    func seal(_ purpose: KeyDerivation.Purpose, _ plaintext: UnsafeRawBufferPointer) throws(VaultError) -> [UInt8] {
        SecretBox.seal(plaintext, using: try key(purpose))
    }

    func open(_ purpose: KeyDerivation.Purpose, _ box: [UInt8], what: String, guarded: Bool) throws(VaultError) -> SecureBytes {
        try SecretBox.open(box, using: try key(purpose), what: what, guarded: guarded)
    }
}

/// One subkey of a key ring, as the records see it.
struct SealingKey {
    let ring: any KeyRing
    let purpose: KeyDerivation.Purpose

    func seal(_ plaintext: UnsafeRawBufferPointer) throws(VaultError) -> [UInt8] {
        try ring.seal(purpose, plaintext)
    }

    func open(_ box: [UInt8], what: String, guarded: Bool) throws(VaultError) -> SecureBytes {
        try ring.open(purpose, box, what: what, guarded: guarded)
    }
}
