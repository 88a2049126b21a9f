/// Export and import of bundles: entries sealed for another vault's identity, or under an
/// export passphrase, signed by this vault's identity; and their merge into this vault.
extension Vault {
    /// Entries with their tokens (and, `withHistory`, the tokens they replaced), to hand to
    /// another vault or tool; `names` nil means every entry, the trash's included. Recorded in
    /// the activity log as one `export` event, `detail` saying where to (when it can be: see
    /// ``readRecording``).
    public func exportTokens(named names: [String]?, withHistory: Bool, detail: String) throws(VaultError) -> [ExportedToken] {
        let tokens = try read { db, keys, manifest throws(VaultError) -> [ExportedToken] in
            var tokens: [ExportedToken] = []
            if let names {
                var seen = Set<String>()
                // Every token is held until the bundle is sealed: in a few guarded regions, not a mapping each.
                let arena = SecretArena()
                for name in names where seen.insert(name).inserted {
                    let row = try Self.loadRow(db, name: name, keys: keys, manifest: manifest)
                    let record = try Self.openSecret(row, keys: keys, arena: arena)
                    tokens.append(Self.exported(row.entry, record, withHistory: withHistory))
                    try Self.checkTokenCount(tokens)
                }
            } else {
                try Self.forEachChunkOfRows(db, keys: keys, manifest: manifest, secrets: true, chunkSize: 1024) { rows throws(VaultError) in
                    for row in rows {
                        guard let record = row.secret else { throw .tampered("the secret of '\(Redaction.redact(row.entry.name))'") }
                        tokens.append(Self.exported(row.entry, record, withHistory: withHistory))
                    }
                    try Self.checkTokenCount(tokens)
                }
                guard tokens.count == manifest.count else { throw .tampered("the entry list (\(manifest.count - tokens.count) entries are missing)") }
                tokens.sort { $0.entry.name < $1.entry.name }
            }
            return tokens
        }
        // An export that cannot be recorded (a read-only vault, a full disk) goes on: ``readRecording`` says so.
        _ = try recordEvents([PendingEvent(action: "export", entry: tokens.count == 1 ? tokens.first?.entry.name : nil,
                                       detail: "\(tokens.count) \(tokens.count == 1 ? "entry" : "entries") \(detail)")])
        return tokens
    }

/// At most as many tokens as a bundle may hold (``BundlePayload/maximumTokens``), so that
    /// what one vault exports another imports.
    private static func checkTokenCount(_ tokens: [ExportedToken]) throws(VaultError) {
        let count = tokens.reduce(0) { $0 + 1 + $1.history.count }
        guard count <= BundlePayload.maximumTokens else {
            throw .invalidInput("more than \(BundlePayload.maximumTokens) tokens (current and previous) at once: export fewer entries, or without --with-history")
        }
    }

    private static func exported(_ entry: Entry, _ record: SecretRecord, withHistory: Bool) -> ExportedToken {
        var entry = entry
        entry.lastUsed = nil
        return ExportedToken(entry: entry, secret: record.current, history: withHistory ? record.previous : [])
    }

    /// A bundle of the entries `names` sealed for `recipient` (`crypto_box_seal`) and signed by
    /// this vault's identity.
    public func exportBundle(named names: [String], to recipient: VaultIdentity, withHistory: Bool,
                             now: Timestamp = .now()) throws(BundleError) -> [UInt8] {
        do {
            let keys = try identityKeys()
            let tokens = try exportTokens(named: names, withHistory: withHistory, detail: "in a bundle for \(recipient.text)")
            let sealing = BundleEnvelope.Sealing.recipient(recipient)
            let plaintext = BundlePayload.encode(tokens, signer: keys.identity, created: now, sealing: sealing)
            let payload = try plaintext.withUnsafeBytes { bytes throws(VaultError) in try PublicKeyCrypto.seal(bytes, to: recipient.boxKey) }
            return BundleEnvelope.write(created: now, keys: keys, sealing: sealing, payload: payload)
        } catch {
            throw .vault(error)
        }
    }

    /// A bundle of every entry with its history, sealed under a key derived from `passphrase`
    /// (Argon2id with `kdf` and a new salt, both stored in the bundle; `crypto_secretbox_easy`)
    /// and signed by this vault's identity.
    public func exportBundle(passphrase: Secret, kdf: KDFParameters, now: Timestamp = .now()) throws(BundleError) -> [UInt8] {
        do throws(VaultError) {
            guard kdf.isSupported else { throw VaultError.invalidInput("unsupported key-derivation parameters") }
            guard !passphrase.isEmpty else { throw VaultError.invalidInput("the export passphrase is empty") }
            let keys = try identityKeys()
            let salt = Sodium.randomBytes(KeyDerivation.saltBytes)
            let key = try KeyDerivation.passphraseKey(passphrase, salt: salt, parameters: kdf)
            let tokens = try exportTokens(named: nil, withHistory: true, detail: "in a bundle under an export passphrase")
            let sealing = BundleEnvelope.Sealing.passphrase(kdf, salt: salt)
            let plaintext = BundlePayload.encode(tokens, signer: keys.identity, created: now, sealing: sealing)
            let payload = plaintext.withUnsafeBytes { SecretBox.seal($0, using: key) }
            return BundleEnvelope.write(created: now, keys: keys, sealing: sealing, payload: payload)
        } catch {
            throw .vault(error)
        }
    }

    /// Opens a parsed (signature-checked) bundle: sealed to this vault's identity, or under
    /// `passphrase`. Refuses one for another vault, one that does not open, and one whose payload
    /// names another signer than the envelope (signed again by someone else).
    public func openBundle(_ envelope: BundleEnvelope, passphrase: Secret? = nil) throws(BundleError) -> OpenedBundle {
        let plaintext: SecureBytes
        switch envelope.sealing {
        case .recipient(let recipient):
            let keys: IdentityKeys
            do { keys = try identityKeys() } catch { throw .vault(error) }
            guard recipient == keys.identity else { throw .notForThisVault(recipient: recipient) }
            let opened = envelope.payload.withUnsafeBytes {
                PublicKeyCrypto.open($0, publicKey: keys.identity.boxKey, secretKey: keys.boxSecretKey)
            }
            // Signed, addressed here, and yet it does not open: changed before it was signed.
            guard let opened else { throw .malformed("the sealed payload does not open with this vault's key") }
            plaintext = opened
        case .passphrase(let kdf, let salt):
            guard let passphrase else { throw .needsPassphrase }
            guard kdf.isSupported, !kdf.isCostlierThanSensitive else {
                throw .malformed("its key derivation is not one TokenVault writes")
            }
            let key: SymmetricKey
            do { key = try KeyDerivation.passphraseKey(passphrase, salt: salt, parameters: kdf) } catch { throw .vault(error) }
            do { plaintext = try SecretBox.open(envelope.payload, using: key, what: "the bundle") } catch { throw .wrongPassphrase }
        }
        let tokens = try BundlePayload.decode(plaintext, envelope: envelope)
        let trusted: [TrustedIdentity]
        do { trusted = try trustedIdentities() } catch { throw .vault(error) }
        return OpenedBundle(envelope: envelope, tokens: tokens,
                            signerName: trusted.first { $0.identity == envelope.signer }?.name,
                            signedByThisVault: (try? identity()) == envelope.signer)
    }
}

/// A bundle opened: who signed it, and its entries.
public struct OpenedBundle: Sendable {
    /// The envelope: signer, time, sealing.
    public let envelope: BundleEnvelope
    /// The entries it holds.
    public let tokens: [ExportedToken]
    /// The name the signer is trusted under here, if it is.
    public let signerName: String?
    /// Whether this vault's own identity signed it (a bundle exported from here).
    public let signedByThisVault: Bool

    /// Whether merging it needs the user's consent to its signer: it is sealed to this vault's
    /// identity (anyone who knows that identity can make such a bundle: the seal is anonymous, and
    /// the signature is the only sign of who made it) and signed by an identity that this vault
    /// neither trusts nor is. A bundle under an export passphrase is authenticated by the
    /// passphrase, so its signer, known or not, needs no consent.
    public var needsSignerConsent: Bool {
        guard case .recipient = envelope.sealing else { return false }
        return signerName == nil && !signedByThisVault
    }
}
