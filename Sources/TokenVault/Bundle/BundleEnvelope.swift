/// A bundle's outer layer (docs/FORMAT.md, "Bundle format (version 1)"): who signed it, when, for
/// whom or under which key derivation, the sealed payload, and an Ed25519 signature over all of
/// it. Parsing checks the signature before anything else is believed.
///
/// Layout (little-endian): magic `TVBUNDLE` (8), version (u8, 1), sealing (u8: 1 to an identity,
/// 2 under a passphrase), created (i64 seconds), signer identity (64); sealing 1: recipient
/// identity (64); sealing 2: KDF algorithm (u32), opslimit (u64), memlimit (u64), salt (16);
/// then the payload's length (u32), the payload (sealing 1: `crypto_box_seal` to the recipient's
/// X25519 key; sealing 2: `crypto_secretbox_easy`, nonce first), and the signature (64):
/// `crypto_sign_detached` with the signer's Ed25519 key over `TokenVault bundle v1` and a NUL
/// byte followed by every byte before the signature.
public struct BundleEnvelope: Sendable {
    /// How the payload is sealed.
    public enum Sealing: Sendable, Equatable {
        /// To this identity's X25519 key (`vault export --to`).
        case recipient(VaultIdentity)
        /// Under a key derived from an export passphrase with these parameters (`vault export --passphrase`).
        case passphrase(KDFParameters, salt: [UInt8])
    }

    /// The format version this TokenVault writes and reads.
    public static let version: UInt8 = 1
    /// The most a bundle may weigh: larger input is refused before it is read whole.
    public static let maximumBytes = 64 << 20
    static let magic = Array("TVBUNDLE".utf8)
    static let signatureContext = Array("TokenVault bundle v1".utf8) + [0]

    /// When the sender made it (the sender's clock).
    public let created: Timestamp
    /// The identity whose key signed it.
    public let signer: VaultIdentity
    /// How the payload is sealed.
    public let sealing: Sealing
    let payload: [UInt8]

    /// Whether opening needs the export passphrase.
    public var needsPassphrase: Bool {
        if case .passphrase = sealing { return true }
        return false
    }

    /// The bytes before the signature.
    private static func signedPart(created: Timestamp, signer: VaultIdentity, sealing: Sealing, payload: [UInt8]) -> [UInt8] {
        var w = ByteWriter()
        w.raw(magic)
        w.u8(version)
        switch sealing {
        case .recipient: w.u8(1)
        case .passphrase: w.u8(2)
        }
        w.u64(UInt64(bitPattern: created.secondsSince1970))
        w.raw(signer.bytes)
        switch sealing {
        case .recipient(let recipient):
            w.raw(recipient.bytes)
        case .passphrase(let kdf, let salt):
            w.u32(UInt32(bitPattern: kdf.algorithm))
            w.u64(kdf.opsLimit)
            w.u64(kdf.memLimit)
            w.raw(salt)
        }
        w.u32(UInt32(payload.count))
        w.raw(payload)
        return w.bytes
    }

    /// The whole bundle, signed with `keys`.
    static func write(created: Timestamp, keys: IdentityKeys, sealing: Sealing, payload: [UInt8]) -> [UInt8] {
        let signed = signedPart(created: created, signer: keys.identity, sealing: sealing, payload: payload)
        let signature = (signatureContext + signed).withUnsafeBytes { PublicKeyCrypto.sign($0, secretKey: keys.signingSecretKey) }
        return signed + signature
    }

    /// Parses a bundle and verifies its signature. Every byte is input: a short, long, unknown
    /// or changed bundle is a typed error.
    public static func parse(_ bytes: [UInt8]) throws(BundleError) -> BundleEnvelope {
        guard bytes.count <= maximumBytes else { throw .tooLarge(limit: maximumBytes) }
        let parsed = bytes.withUnsafeBytes { all in Result { () throws(BundleError) -> BundleEnvelope in try parse(all) } }
        return try parsed.get()
    }

    private static func parse(_ all: UnsafeRawBufferPointer) throws(BundleError) -> BundleEnvelope {
            var r = ByteReader(all)
            guard let magic = r.array(Self.magic.count) else { throw .notABundle }
            guard magic == Self.magic else { throw .notABundle }
            guard let version = r.u8() else { throw .truncated }
            guard version == Self.version else { throw .unsupportedVersion(Int(version)) }
            guard let mode = r.u8(), let created = r.u64(), let signerBytes = r.array(VaultIdentity.keyBytes) else { throw .truncated }
            guard let signer = VaultIdentity(bytes: signerBytes) else { throw .truncated }
            let sealing: Sealing
            switch mode {
            case 1:
                guard let recipient = r.array(VaultIdentity.keyBytes).flatMap({ VaultIdentity(bytes: $0) }) else { throw .truncated }
                sealing = .recipient(recipient)
            case 2:
                guard let algorithm = r.u32(), let ops = r.u64(), let mem = r.u64(), let salt = r.array(KeyDerivation.saltBytes) else {
                    throw .truncated
                }
                sealing = .passphrase(KDFParameters(algorithm: Int32(bitPattern: algorithm), opsLimit: ops, memLimit: mem), salt: salt)
            default:
                // Not a sealing this version writes: the signature says whether it is one at all.
                throw .badSignature
            }
            guard let length = r.u32(), let payload = r.array(Int(length)) else { throw .truncated }
            let signedCount = r.offset
            guard let signature = r.take(PublicKeyCrypto.signatureBytes), r.remaining == 0 else { throw .truncated }
            let message = Self.signatureContext + Array(all[0..<signedCount])
            let valid = message.withUnsafeBytes { PublicKeyCrypto.verify(signature, of: $0, publicKey: signer.signingKey) }
            guard valid else { throw .badSignature }
            return BundleEnvelope(created: Timestamp(secondsSince1970: Int64(bitPattern: created)), signer: signer,
                                  sealing: sealing, payload: payload)
    }
}
