/// A vault's public identity: its X25519 key (bundles are sealed to it) and its Ed25519 key
/// (it signs the bundles it exports). Both public: an identity is meant to be handed around.
///
/// Its text form is one line, `tvid1-` and 109 characters of lower-case base32 (RFC 4648, no
/// padding) over the X25519 key (32 bytes), the Ed25519 key (32 bytes) and a checksum (the first
/// 4 bytes of an unkeyed BLAKE2b-128 over `tvid1` and the 64 key bytes), so that a character
/// lost or changed in a copy is caught. The `1` is the form's version.
public struct VaultIdentity: Sendable, Hashable, CustomStringConvertible {
    /// The X25519 public key (`crypto_box`).
    public let boxKey: [UInt8]
    /// The Ed25519 public key (`crypto_sign`).
    public let signingKey: [UInt8]

    static let prefix = "tvid1-"
    static let keyBytes = 64
    private static let checksumBytes = 4

    init?(boxKey: some Collection<UInt8>, signingKey: some Collection<UInt8>) {
        guard boxKey.count == PublicKeyCrypto.boxPublicKeyBytes, signingKey.count == PublicKeyCrypto.signPublicKeyBytes else { return nil }
        self.boxKey = Array(boxKey)
        self.signingKey = Array(signingKey)
    }

    /// Both keys, box key first: how an identity is written in a bundle and in the key ring.
    var bytes: [UInt8] { boxKey + signingKey }

    /// An identity from its 64 bytes (box key, signing key), or nil.
    init?(bytes: some Collection<UInt8>) {
        guard bytes.count == Self.keyBytes else { return nil }
        let all = Array(bytes)
        self.init(boxKey: all[0..<32], signingKey: all[32..<64])
    }

    private static func checksum(_ keys: [UInt8]) -> [UInt8] {
        Array((Array("tvid1".utf8) + keys).withUnsafeBytes { KeyedHash.unkeyed($0, bytes: 16) }.prefix(checksumBytes))
    }

    /// The one-line text form, `tvid1-...`.
    public var text: String { Self.prefix + Base32.encode(bytes + Self.checksum(bytes)) }

    /// The text form.
    public var description: String { text }

    /// Parses the text form (`tvid1-...`; letters in either case, spaces around it ignored).
    /// Throws `.invalidInput` for anything else, naming what is wrong, never echoing the input.
    public init(text: String) throws(VaultError) {
        let trimmed = text.trimmingSpaces().lowercased()
        guard trimmed.hasPrefix(Self.prefix) else {
            throw .invalidInput("not a TokenVault identity: an identity starts with '\(Self.prefix)' (see '\(ProgramName.current) id')")
        }
        guard let decoded = Base32.decode(trimmed.dropFirst(Self.prefix.count)), decoded.count == Self.keyBytes + Self.checksumBytes else {
            throw .invalidInput("not a TokenVault identity: it is cut short, too long, or holds a character base32 does not use")
        }
        let keys = Array(decoded.prefix(Self.keyBytes))
        guard Array(decoded.suffix(Self.checksumBytes)) == Self.checksum(keys), let identity = VaultIdentity(bytes: keys) else {
            throw .invalidInput("the identity's checksum does not match: a character was changed or lost in the copy")
        }
        self = identity
    }
}

/// A teammate's identity saved under a name (`vault id trust NAME IDENTITY`).
public struct TrustedIdentity: Sendable, Hashable {
    /// The name it was saved under.
    public let name: String
    /// The identity.
    public let identity: VaultIdentity
    /// When it was saved.
    public let added: Timestamp
}

/// The vault's own key pairs, the secret halves in guarded memory.
struct IdentityKeys: Sendable {
    let identity: VaultIdentity
    let boxSecretKey: SecureBytes
    let signingSecretKey: SecureBytes

    static func generate() -> IdentityKeys {
        let box = PublicKeyCrypto.boxKeyPair()
        let sign = PublicKeyCrypto.signKeyPair()
        // The key lengths are libsodium's own.
        guard let identity = VaultIdentity(boxKey: box.publicKey, signingKey: sign.publicKey) else {
            fatalError("libsodium made keys of unexpected lengths")
        }
        return IdentityKeys(identity: identity, boxSecretKey: box.secretKey, signingSecretKey: sign.secretKey)
    }
}

/// RFC 4648 base32, lower case, without padding.
enum Base32 {
    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var buffer = 0, bits = 0
        for byte in bytes {
            buffer = (buffer << 8) | Int(byte)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[(buffer >> (bits - 5)) & 31])
                bits -= 5
            }
            buffer &= (1 << bits) - 1
        }
        if bits > 0 { out.append(alphabet[(buffer << (5 - bits)) & 31]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes, or nil for a character outside the alphabet or leftover bits that are not zero.
    static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var out: [UInt8] = []
        var buffer = 0, bits = 0
        for scalar in text.utf8 {
            guard let value = alphabet.firstIndex(of: scalar) else { return nil }
            buffer = (buffer << 5) | value
            bits += 5
            if bits >= 8 {
                out.append(UInt8((buffer >> (bits - 8)) & 0xFF))
                bits -= 8
            }
            buffer &= (1 << bits) - 1
        }
        guard bits < 5, buffer == 0 else { return nil }
        return out
    }
}

extension String {
    /// Without leading and trailing spaces, tabs and line breaks.
    func trimmingSpaces() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        return String(drop(while: isSpace).reversed().drop(while: isSpace).reversed())
    }
}
