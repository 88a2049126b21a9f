/// An entry as it leaves the vault: its metadata, its token, and (when asked for) the tokens it
/// replaced, newest first.
public struct ExportedToken: Sendable {
    /// The entry's metadata (without its last-used time, which stays in its vault).
    public var entry: Entry
    /// The current token.
    public var secret: Secret
    /// The tokens it replaced, newest first (empty unless history was asked for).
    public var history: [SecretVersion]

    /// When its token became current: the time the merge compares.
    var tokenTime: Timestamp { entry.tokenSince ?? entry.updated }
}

/// A bundle's sealed payload (docs/FORMAT.md, "Bundle format (version 1)"). Plaintext layout:
/// magic `TVP1`, the signer's identity (64), created (i64), the sealing's recipient identity
/// (64; zeros under a passphrase), then tag-length-value fields: tag 1 an entry's metadata (as
/// the vault's metadata record body; it starts the next entry), tag 2 that entry's token,
/// tag 3 one of its previous tokens (replaced time i64, then the token). The signer, time and
/// recipient repeat the envelope's, so that a bundle signed again by someone else (who cannot
/// open the payload) is told apart from the sender's.
enum BundlePayload {
    static let magic = Array("TVP1".utf8)
    static let maximumEntries = 100_000
    /// The most tokens (current and previous together) a bundle may hold. They are held in a few
    /// shared guarded regions (``SecretArena``), not a guarded allocation each (of which a
    /// process has only some tens of thousands); the cap bounds the memory and the merge's work
    /// a hostile bundle can ask for: beyond it a bundle is refused, never a trap.
    static let maximumTokens = 100_000
    private static let metadataTag: UInt8 = 1, tokenTag: UInt8 = 2, previousTag: UInt8 = 3

    static func recipientBytes(_ sealing: BundleEnvelope.Sealing) -> [UInt8] {
        if case .recipient(let identity) = sealing { return identity.bytes }
        return [UInt8](repeating: 0, count: VaultIdentity.keyBytes)
    }

    static func encode(_ tokens: [ExportedToken], signer: VaultIdentity, created: Timestamp, sealing: BundleEnvelope.Sealing) -> SecureBytes {
        let metadata = tokens.map { Records.encode($0.entry) }
        return SecureWriter.build { w in
            var head = ByteWriter()
            head.raw(magic)
            head.raw(signer.bytes)
            head.u64(UInt64(bitPattern: created.secondsSince1970))
            head.raw(recipientBytes(sealing))
            w.raw(head.bytes)
            for (token, metadata) in zip(tokens, metadata) {
                w.field(metadataTag, metadata)
                w.field(tokenTag, token.secret)
                for version in token.history {
                    var time = ByteWriter()
                    time.u64(UInt64(bitPattern: version.replaced.secondsSince1970))
                    let value = SecureWriter.build { v in
                        v.raw(time.bytes)
                        version.secret.withUnsafeBytes { v.raw($0) }
                    }
                    w.field(previousTag, value)
                }
            }
        }
    }

    /// The entries of an opened payload, after checking that it repeats the envelope.
    static func decode(_ plaintext: SecureBytes, envelope: BundleEnvelope) throws(BundleError) -> [ExportedToken] {
        try plaintext.withUnsafeBytes { bytes throws(BundleError) -> [ExportedToken] in
            var r = ByteReader(bytes)
            guard let magic = r.array(4), magic == Self.magic, let signer = r.array(VaultIdentity.keyBytes),
                  let created = r.u64(), let recipient = r.array(VaultIdentity.keyBytes) else {
                throw .malformed("its header is missing")
            }
            guard signer == envelope.signer.bytes else { throw .resigned(signer: envelope.signer) }
            guard Int64(bitPattern: created) == envelope.created.secondsSince1970, recipient == recipientBytes(envelope.sealing) else {
                throw .malformed("it does not repeat the envelope's time and recipient")
            }
            var tokens: [ExportedToken] = []
            var pending: (entry: Entry, secret: Secret?, history: [SecretVersion])?
            var secrets = 0
            // Every token is held until the merge commits: in a few guarded regions, not a mapping each.
            let arena = SecretArena()
            func count() throws(BundleError) {
                secrets += 1
                guard secrets <= maximumTokens else { throw .malformed("it holds more than \(maximumTokens) tokens") }
            }
            func finish() throws(BundleError) {
                guard let current = pending else { return }
                guard let secret = current.secret else { throw .malformed("an entry has no token") }
                tokens.append(ExportedToken(entry: current.entry, secret: secret, history: current.history))
                pending = nil
            }
            do {
                while let (tag, value) = try r.field() {
                    switch tag {
                    case metadataTag:
                        try finish()
                        guard tokens.count < maximumEntries else { throw BundleError.malformed("it holds more than \(maximumEntries) entries") }
                        var entry = try Records.decode(value)
                        entry.lastUsed = nil
                        pending = (entry, nil, [])
                    case tokenTag:
                        guard pending != nil, pending?.secret == nil else { throw BundleError.malformed("a token belongs to no entry") }
                        try count()
                        pending?.secret = Secret(copying: value, in: arena)
                    case previousTag:
                        guard pending != nil, value.count >= 8, let replaced = UnsafeRawBufferPointer(rebasing: value[0..<8]).int64 else {
                            throw BundleError.malformed("a previous token belongs to no entry, or is truncated")
                        }
                        try count()
                        pending?.history.append(SecretVersion(replaced: Timestamp(secondsSince1970: replaced),
                                                              secret: Secret(copying: UnsafeRawBufferPointer(rebasing: value[8...]), in: arena)))
                    default:
                        throw BundleError.malformed("a field this version does not know")
                    }
                }
                try finish()
            } catch let error as BundleError {
                throw error
            } catch {
                throw .malformed("a field is truncated")
            }
            var names = Set<String>()
            for token in tokens {
                do { try token.entry.validate() } catch { throw .malformed("an entry's name or fields are not valid") }
                guard names.insert(token.entry.name).inserted else { throw .malformed("it holds two entries of one name") }
            }
            return tokens
        }
    }
}
