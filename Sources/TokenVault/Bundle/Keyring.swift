/// The key ring's records (the `keyring` table, schema 4): the vault's own identity with its
/// secret keys, and the identities it trusts. Each row is one record sealed under the
/// `identity` subkey (purpose 9) with the same binding as an entry's (record version, the row's
/// lookup, the revision the manifest lists for it; docs/FORMAT.md, "Records"), so a row swapped,
/// copied, dropped or rolled back is detected. Lookups are blind indexes of names that no entry
/// can have (they start with a NUL byte).
///
/// Body, tag-length-value: tag 1 kind (1 byte: 1 the vault's identity, 2 a trusted one); the
/// vault's: tag 2 X25519 public key, 3 X25519 secret key, 4 Ed25519 public key, 5 Ed25519
/// secret key; a trusted one's: tag 7 name, tag 8 identity (64 bytes); both: tag 6 created
/// (i64 seconds). An OpenBao remote's (kind 3, `Remote/RemoteRecord.swift`): tag 7 its name,
/// tags 10 and up its settings and credentials.
enum Keyring {
    static let ownName = "\u{0}identity"
    static func trustedName(_ name: String) -> String { "\u{0}trusted\u{0}" + name }

    enum SQL {
        static let row = "SELECT sealed FROM keyring WHERE lookup = ?"
        static let everyRow = "SELECT lookup, sealed FROM keyring"
        static let insert = "INSERT INTO keyring (lookup, sealed) VALUES (?, ?)"
        static let delete = "DELETE FROM keyring WHERE lookup = ?"
    }

    enum Record {
        case own(IdentityKeys, created: Timestamp)
        case trusted(TrustedIdentity)
        case remote(RemoteSettings)
    }

    private enum Tag: UInt8 {
        case kind = 1, boxPublic = 2, boxSecret = 3, signPublic = 4, signSecret = 5, created = 6, name = 7, identity = 8
    }

    private static func write(_ record: Record, into writer: inout SecureWriter) {
        var time = ByteWriter()
        switch record {
        case .own(let keys, let created):
            time.u64(UInt64(bitPattern: created.secondsSince1970))
            writer.field(Tag.kind.rawValue, [1])
            writer.field(Tag.boxPublic.rawValue, keys.identity.boxKey)
            writer.field(Tag.boxSecret.rawValue, keys.boxSecretKey)
            writer.field(Tag.signPublic.rawValue, keys.identity.signingKey)
            writer.field(Tag.signSecret.rawValue, keys.signingSecretKey)
        case .trusted(let trusted):
            time.u64(UInt64(bitPattern: trusted.added.secondsSince1970))
            writer.field(Tag.kind.rawValue, [2])
            writer.field(Tag.name.rawValue, Array(trusted.name.utf8))
            writer.field(Tag.identity.rawValue, trusted.identity.bytes)
        case .remote(let remote):
            time.u64(UInt64(bitPattern: remote.added.secondsSince1970))
            writer.field(Tag.kind.rawValue, [RemoteRecord.kind])
            writer.field(Tag.name.rawValue, Array(remote.name.utf8))
            RemoteRecord.write(remote, into: &writer)
        }
        writer.field(Tag.created.rawValue, time.bytes)
    }

    static func seal(_ record: Record, lookup: [UInt8], revision: UInt64, key: SealingKey) throws(VaultError) -> [UInt8] {
        var measure = SecureWriter(buffer: nil)
        write(record, into: &measure)
        return try Records.seal(bodyCount: measure.offset, lookup: lookup, revision: revision, key: key) { buffer in
            var writer = SecureWriter(buffer: buffer)
            write(record, into: &writer)
        }
    }

    static func open(_ sealed: [UInt8], lookup: [UInt8], revision: UInt64, key: SealingKey) throws(VaultError) -> Record {
        let what = "a record of the key ring"
        let (plaintext, body) = try Records.open(sealed, lookup: lookup, revision: revision, key: key, what: what)
        return try plaintext.withUnsafeBytes { bytes throws(VaultError) -> Record in
            var reader = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[body]))
            var fields: [Tag: UnsafeRawBufferPointer] = [:]
            var all: [UInt8: UnsafeRawBufferPointer] = [:]
            while let (tag, value) = try reader.field() {
                if let tag = Tag(rawValue: tag) { fields[tag] = value }
                all[tag] = value
            }
            guard let kind = fields[.kind], kind.count == 1, let created = fields[.created]?.int64 else { throw .corrupt(what) }
            let time = Timestamp(secondsSince1970: created)
            if kind[0] == RemoteRecord.kind {
                guard let name = fields[.name], let remote = RemoteRecord.read(name: name.utf8String, added: time, all) else { throw .corrupt(what) }
                return .remote(remote)
            }
            if kind[0] == 1 {
                guard let boxPublic = fields[.boxPublic], let boxSecret = fields[.boxSecret], boxSecret.count == PublicKeyCrypto.boxSecretKeyBytes,
                      let signPublic = fields[.signPublic], let signSecret = fields[.signSecret],
                      signSecret.count == PublicKeyCrypto.signSecretKeyBytes,
                      let identity = VaultIdentity(boxKey: boxPublic, signingKey: signPublic) else { throw .corrupt(what) }
                return .own(IdentityKeys(identity: identity, boxSecretKey: SecureBytes(copying: boxSecret),
                                         signingSecretKey: SecureBytes(copying: signSecret)), created: time)
            }
            guard kind[0] == 2, let name = fields[.name], let identity = fields[.identity].flatMap({ VaultIdentity(bytes: $0) }) else {
                throw .corrupt(what)
            }
            return .trusted(TrustedIdentity(name: name.utf8String, identity: identity, added: time))
        }
    }
}
