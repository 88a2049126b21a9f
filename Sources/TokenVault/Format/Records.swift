/// Sealed records: the encrypted blobs stored in the `entries` table (see docs/FORMAT.md,
/// "Records"). Each plaintext starts with a record version, the row's blind index and the
/// vault-wide revision it was written at; that prefix binds the ciphertext to its row and to its
/// moment, so a copied, swapped or older blob fails verification. Plaintexts are padded to a
/// multiple of 64 bytes before sealing.
enum Records {
    static let version: UInt8 = 1
    static let bindingBytes = 1 + KeyedHash.bytes + 8

    /// Seals `body` (written by `fill` into secure memory) bound to `lookup` and `revision`.
    static func seal(bodyCount: Int, lookup: [UInt8], revision: UInt64, key: SealingKey,
                     fill: (UnsafeMutableRawBufferPointer) -> Void) throws(VaultError) -> [UInt8] {
        precondition(lookup.count == KeyedHash.bytes)
        let length = bindingBytes + bodyCount
        let plaintext = SecureBytes(count: Padding.paddedLength(length)) { buffer in
            var header = ByteWriter()
            header.u8(version)
            header.raw(lookup)
            header.u64(revision)
            buffer.copyBytes(from: header.bytes)
            fill(UnsafeMutableRawBufferPointer(rebasing: buffer[bindingBytes..<length]))
            Padding.pad(buffer, length: length)
        }
        return try plaintext.withUnsafeBytes { bytes throws(VaultError) in try key.seal(bytes) }
    }

    /// Opens a sealed record (a token into guarded memory) and checks that it belongs to `lookup` at `revision`. Returns the
    /// plaintext and the range of its body.
    static func open(_ box: [UInt8], lookup: [UInt8], revision: UInt64, key: SealingKey,
                     what: String) throws(VaultError) -> (plaintext: SecureBytes, body: Range<Int>) {
        let plaintext = try key.open(box, what: what)
        return (plaintext, try body(of: plaintext, lookup: lookup, revision: revision, what: what))
    }

    /// The body of an opened record that belongs to `lookup` at `revision`.
    static func body(of plaintext: SecureBytes, lookup: [UInt8], revision: UInt64, what: String) throws(VaultError) -> Range<Int> {
        let body: Range<Int>? = plaintext.withUnsafeBytes { bytes in
            guard let length = Padding.unpaddedLength(bytes), length >= bindingBytes else { return nil }
            var reader = ByteReader(UnsafeRawBufferPointer(rebasing: bytes[0..<length]))
            guard reader.u8() == version,
                  let boundLookup = reader.take(KeyedHash.bytes),
                  lookup.withUnsafeBytes({ Sodium.constantTimeEqual($0, boundLookup) }),
                  reader.u64() == revision else { return nil }
            return bindingBytes..<length
        }
        // A record that opens under our key but belongs to another row or an older write.
        guard let body else { throw .tampered(what) }
        return body
    }

    // MARK: Entry metadata

    enum Tag: UInt8 {
        case name = 1, url = 2, username = 3, kind = 4, scope = 5, expires = 6, notes = 7
        case created = 8, updated = 9
        // 10 was the last-used time, which lives in the usage table: never reuse the number.
        case gitDefault = 11, rejected = 12, rotateEvery = 13, tokenSince = 14, deleted = 15
        case revoked = 16, rotationStarted = 17
        case authType = 18, storedByGit = 19
        case gitlabLink = 20, gitlabToken = 21
    }

    static func encode(_ entry: Entry) -> [UInt8] {
        var w = ByteWriter()
        w.field(Tag.name.rawValue, entry.name)
        if let url = entry.url { w.field(Tag.url.rawValue, url.description) }
        if let username = entry.username { w.field(Tag.username.rawValue, username) }
        w.field(Tag.kind.rawValue, entry.kind.rawValue)
        for scope in entry.scopes { w.field(Tag.scope.rawValue, scope) }
        if let expires = entry.expires { w.field(Tag.expires.rawValue, int: expires.secondsSince1970) }
        if let notes = entry.notes { w.field(Tag.notes.rawValue, notes) }
        w.field(Tag.created.rawValue, int: entry.created.secondsSince1970)
        w.field(Tag.updated.rawValue, int: entry.updated.secondsSince1970)
        if entry.isGitDefault { w.field(Tag.gitDefault.rawValue, [1]) }
        if let rejected = entry.rejected { w.field(Tag.rejected.rawValue, int: rejected.secondsSince1970) }
        if let rotateEvery = entry.rotateEvery?.whole() { w.field(Tag.rotateEvery.rawValue, int: rotateEvery) }
        if let tokenSince = entry.tokenSince { w.field(Tag.tokenSince.rawValue, int: tokenSince.secondsSince1970) }
        if let deleted = entry.deleted { w.field(Tag.deleted.rawValue, int: deleted.secondsSince1970) }
        if let revoked = entry.revoked { w.field(Tag.revoked.rawValue, int: revoked.secondsSince1970) }
        if let started = entry.rotationStarted { w.field(Tag.rotationStarted.rawValue, int: started.secondsSince1970) }
        if let authType = entry.authType { w.field(Tag.authType.rawValue, authType) }
        if entry.storedByGit { w.field(Tag.storedByGit.rawValue, [1]) }
        for link in entry.gitlabLinks { w.field(Tag.gitlabLink.rawValue, link.encoded()) }
        if let token = entry.gitlabToken { w.field(Tag.gitlabToken.rawValue, token.encoded()) }
        for field in entry.unknownFields { w.field(field.tag, field.value) }
        return w.bytes
    }

    /// Decodes metadata. Unknown tags are kept aside and written back as they were, so later
    /// versions can add fields without a format break, and an edit here never drops them.
    /// Without `url` the URL is left nil, not parsed (a pass that wants only names, such as the
    /// review of every token: a URL that does not parse is nil anyway, never an error).
    static func decode(_ body: UnsafeRawBufferPointer, url: Bool = true) throws(VaultError) -> Entry {
        var reader = ByteReader(body)
        var entry = Entry(name: "")
        var sawName = false
        while let (tag, value) = try reader.field() {
            switch Tag(rawValue: tag) {
            case .name: entry.name = value.utf8String; sawName = true
            case .url: if url { entry.url = try? CredentialURL.parse(value.utf8String).url }
            case .username: entry.username = value.utf8String
            case .kind: entry.kind = TokenKind(rawValue: value.utf8String) ?? .generic
            case .scope: entry.scopes.append(value.utf8String)
            case .expires: entry.expires = value.int64.map(Timestamp.init(secondsSince1970:))
            case .notes: entry.notes = value.utf8String
            case .created: if let v = value.int64 { entry.created = Timestamp(secondsSince1970: v) }
            case .updated: if let v = value.int64 { entry.updated = Timestamp(secondsSince1970: v) }
            case .gitDefault: entry.isGitDefault = value.first == 1
            case .rejected: entry.rejected = value.int64.map(Timestamp.init(secondsSince1970:))
            case .rotateEvery: entry.rotateEvery = value.int64.map { .seconds($0) }
            case .tokenSince: entry.tokenSince = value.int64.map(Timestamp.init(secondsSince1970:))
            case .deleted: entry.deleted = value.int64.map(Timestamp.init(secondsSince1970:))
            case .revoked: entry.revoked = value.int64.map(Timestamp.init(secondsSince1970:))
            case .rotationStarted: entry.rotationStarted = value.int64.map(Timestamp.init(secondsSince1970:))
            case .authType: entry.authType = value.utf8String
            case .storedByGit: entry.storedByGit = value.first == 1
            case .gitlabLink:
                // A link this version cannot read is kept as it was, never dropped.
                if let link = GitLabVariableLink.decode(value) { entry.gitlabLinks.append(link) }
                else { entry.unknownFields.append(Entry.UnknownField(tag: tag, value: Array(value))) }
            case .gitlabToken:
                // As a link: one this version cannot read is kept as it was.
                if entry.gitlabToken == nil, let token = GitLabTokenIdentity.decode(value) { entry.gitlabToken = token }
                else { entry.unknownFields.append(Entry.UnknownField(tag: tag, value: Array(value))) }
            case nil: entry.unknownFields.append(Entry.UnknownField(tag: tag, value: Array(value)))
            }
        }
        guard sawName else { throw .corrupt("an entry has no name") }
        return entry
    }
}
