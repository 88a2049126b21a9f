import CSodium

/// Parameters of the passphrase KDF, stored in the vault header beside the salt, so that a vault
/// always opens with the cost it was made with, whatever the defaults become.
public struct KDFParameters: Sendable, Equatable, Hashable {
    /// libsodium's algorithm id (`crypto_pwhash_ALG_ARGON2ID13` is 2).
    public var algorithm: Int32
    /// Argon2id's number of passes over memory.
    public var opsLimit: UInt64
    /// Argon2id's memory, in bytes.
    public var memLimit: UInt64

    /// Parameters from their parts; the algorithm is Argon2id unless given.
    public init(algorithm: Int32 = KDFParameters.argon2id13, opsLimit: UInt64, memLimit: UInt64) {
        self.algorithm = algorithm
        self.opsLimit = opsLimit
        self.memLimit = memLimit
    }

    /// libsodium's id for Argon2id version 1.3, the only algorithm TokenVault writes.
    public static let argon2id13 = crypto_pwhash_alg_argon2id13()

    /// libsodium's `OPSLIMIT_INTERACTIVE` / `MEMLIMIT_INTERACTIVE` (2 passes, 64 MiB).
    public static let interactive = KDFParameters(
        opsLimit: UInt64(crypto_pwhash_opslimit_interactive()), memLimit: UInt64(crypto_pwhash_memlimit_interactive()))
    /// libsodium's `OPSLIMIT_MODERATE` / `MEMLIMIT_MODERATE` (3 passes, 256 MiB). The default.
    public static let moderate = KDFParameters(
        opsLimit: UInt64(crypto_pwhash_opslimit_moderate()), memLimit: UInt64(crypto_pwhash_memlimit_moderate()))
    /// libsodium's `OPSLIMIT_SENSITIVE` / `MEMLIMIT_SENSITIVE` (4 passes, 1 GiB).
    public static let sensitive = KDFParameters(
        opsLimit: UInt64(crypto_pwhash_opslimit_sensitive()), memLimit: UInt64(crypto_pwhash_memlimit_sensitive()))
    /// libsodium's minimum cost (1 pass, 8 KiB). For tests only: it protects nothing.
    public static let minimum = KDFParameters(
        opsLimit: UInt64(crypto_pwhash_opslimit_min()), memLimit: UInt64(crypto_pwhash_memlimit_min()))

    /// What `Vault.create` uses unless told otherwise: ``moderate``.
    public static let `default` = moderate

    /// The name of the preset these parameters equal, if any.
    public var presetName: String? {
        switch self {
        case .interactive: "interactive"
        case .moderate: "moderate"
        case .sensitive: "sensitive"
        case .minimum: "minimum"
        default: nil
        }
    }

    /// The preset named `interactive`, `moderate`, `sensitive` or `minimum`, or nil.
    public static func preset(named name: String) -> KDFParameters? {
        switch name {
        case "interactive": .interactive
        case "moderate": .moderate
        case "sensitive": .sensitive
        case "minimum": .minimum
        default: nil
        }
    }

    /// The largest cost a vault may ask for: four times `sensitive` in passes and in memory. A
    /// header that asks for more (someone with write access to the file, making unlock hang or
    /// exhaust memory) is refused before any work is done.
    public static let maximumOpsLimit: UInt64 = 4 * UInt64(crypto_pwhash_opslimit_sensitive())
    /// Four times `sensitive`'s memory: the most a header may ask for (see ``maximumOpsLimit``).
    public static let maximumMemLimit: UInt64 = 4 * UInt64(crypto_pwhash_memlimit_sensitive())

    /// True when these parameters ask for more passes or more memory than `sensitive`, the
    /// costliest that TokenVault writes (`vault init --kdf sensitive`: 4 passes, 1 GiB). Such a
    /// header is refused before any work unless the caller allows it (`Vault.unlock(passphrase:allowingCostlyKDF:)`):
    /// someone who can write the file could otherwise make each unlock take a minute and gigabytes.
    public var isCostlierThanSensitive: Bool {
        opsLimit > Self.sensitive.opsLimit || memLimit > Self.sensitive.memLimit
    }

    /// Throws `.costlyKeyDerivation` for parameters costlier than `sensitive`, unless allowed.
    func checkCost(allowingCostly: Bool) throws(VaultError) {
        guard allowingCostly || !isCostlierThanSensitive else {
            throw .costlyKeyDerivation(opsLimit: opsLimit, memLimit: memLimit)
        }
    }

    /// True when libsodium accepts these parameters for Argon2id and they are within the maximum.
    var isSupported: Bool {
        algorithm == Self.argon2id13
            && opsLimit >= UInt64(crypto_pwhash_opslimit_min()) && opsLimit <= Self.maximumOpsLimit
            && memLimit >= UInt64(crypto_pwhash_memlimit_min()) && memLimit <= Self.maximumMemLimit
    }
}

enum KeyDerivation {
    static let saltBytes = Int(crypto_pwhash_saltbytes())

    /// The key-encryption key: Argon2id (`crypto_pwhash`) of the passphrase with the vault's salt.
    static func passphraseKey(_ passphrase: Secret, salt: [UInt8], parameters: KDFParameters) throws(VaultError) -> SymmetricKey {
        Sodium.initialize()
        guard salt.count == saltBytes, parameters.isSupported else {
            throw .corrupt("the key-derivation parameters in the vault header are not valid")
        }
        var status: Int32 = 0
        let key = SecureBytes(count: SymmetricKey.byteCount) { out in
            status = passphrase.withUnsafeBytes { pass in
                salt.withUnsafeBytes { s in
                    crypto_pwhash(
                        out.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(out.count),
                        pass.baseAddress!.assumingMemoryBound(to: CChar.self),
                        UInt64(pass.count),
                        s.baseAddress!.assumingMemoryBound(to: UInt8.self),
                        parameters.opsLimit, Int(parameters.memLimit), parameters.algorithm)
                }
            }
        }
        guard status == 0 else { throw .outOfMemory }
        return SymmetricKey(storage: key)
    }

    /// The key-encryption key of a vault: the Argon2id output itself, or with a key file, that
    /// output hashed under the key file's digest (``KeyFile``; docs/FORMAT.md, "Key file (schema 5)").
    static func keyEncryptionKey(_ passphrase: Secret, keyFile: KeyFile?, salt: [UInt8], parameters: KDFParameters) throws(VaultError) -> SymmetricKey {
        let argon2 = try passphraseKey(passphrase, salt: salt, parameters: parameters)
        return keyFile.map { $0.keyEncryptionKey(passphraseKey: argon2) } ?? argon2
    }

    /// The vault key's purpose-bound subkeys, through `crypto_kdf_derive_from_key` with the
    /// context `"TokVault"`. The ids are part of the file format: never renumber them.
    enum Purpose: UInt64 {
        case manifest = 1
        case lookup = 2
        case entryMetadata = 3
        case entrySecret = 4
        case history = 5
        case events = 6
        case eventChain = 7
        case usage = 8
        /// The key ring: the vault's identity (its secret keys) and the trusted identities.
        case identity = 9
    }

    static let context: [CChar] = Array("TokVault".utf8CString.dropLast())

    static func subkey(_ purpose: Purpose, of key: SymmetricKey) -> SymmetricKey {
        let storage = SecureBytes(count: SymmetricKey.byteCount) { out in
            let result = key.withUnsafeBytes { k in
                context.withUnsafeBufferPointer { ctx in
                    crypto_kdf_derive_from_key(
                        out.baseAddress!.assumingMemoryBound(to: UInt8.self), out.count, purpose.rawValue,
                        ctx.baseAddress!, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
            precondition(result == 0, "crypto_kdf_derive_from_key failed")
        }
        return SymmetricKey(storage: storage)
    }
}

/// A keyed BLAKE2b hash (`crypto_generichash` with a key): the blind index of an entry's name.
enum KeyedHash {
    static let bytes = 32

    /// Plain BLAKE2b (no key), for names that are not secrets (the agent's socket name).
    static func unkeyed(_ message: UnsafeRawBufferPointer, bytes count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        let result = out.withUnsafeMutableBytes { o in
            crypto_generichash(o.baseAddress!.assumingMemoryBound(to: UInt8.self), count,
                               message.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(message.count), nil, 0)
        }
        precondition(result == 0, "crypto_generichash failed")
        return out
    }

    static func hash(_ message: UnsafeRawBufferPointer, key: SymmetricKey) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: bytes)
        let result = out.withUnsafeMutableBytes { o in
            key.withUnsafeBytes { k in
                crypto_generichash(
                    o.baseAddress!.assumingMemoryBound(to: UInt8.self), bytes,
                    message.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(message.count),
                    k.baseAddress!.assumingMemoryBound(to: UInt8.self), k.count)
            }
        }
        precondition(result == 0, "crypto_generichash failed")
        return out
    }
}
