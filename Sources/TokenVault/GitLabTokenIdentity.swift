/// What the vault knows of an entry's token at GitLab beside the token: GitLab's id of it
/// (learned from `GET /personal_access_tokens/self` at `vault gitlab verify`, or from a
/// rotation's answer), by which an admin token reads its record without the token being sent
/// (`GET /personal_access_tokens/:id`), and when the vault last sent the token itself to
/// GitLab (which GitLab counts as a use). Kept encrypted in the entry's metadata (tag 21); it
/// belongs to the token it was learned with: a write that replaces the token forgets it, unless
/// the same write stores the new token's.
public struct GitLabTokenIdentity: Sendable, Equatable, Codable {
    /// GitLab's id of the token (positive).
    public var id: Int64
    /// When the vault last made a request to GitLab authenticated by the token itself (a
    /// verification): GitLab's record shows it as a use.
    public var askedWithItself: Timestamp?
    /// Sub-fields of a later version, kept as they were.
    var unknownFields: [Entry.UnknownField] = []

    /// The identity of the token GitLab knows as `id`.
    public init(id: Int64, askedWithItself: Timestamp? = nil) {
        self.id = id
        self.askedWithItself = askedWithItself
    }

    private enum Tag: UInt8 { case id = 1, askedWithItself = 2 }

    func encoded() -> [UInt8] {
        var w = ByteWriter()
        w.field(Tag.id.rawValue, int: id)
        if let askedWithItself { w.field(Tag.askedWithItself.rawValue, int: askedWithItself.secondsSince1970) }
        for field in unknownFields { w.field(field.tag, field.value) }
        return w.bytes
    }

    /// The identity in a field; nil for one without a positive id (a damaged field is kept
    /// aside by the caller as an unknown one, never dropped).
    static func decode(_ bytes: UnsafeRawBufferPointer) -> GitLabTokenIdentity? {
        var reader = ByteReader(bytes)
        var id: Int64?
        var identity = GitLabTokenIdentity(id: 0)
        while let (tag, value) = try? reader.field() {
            switch Tag(rawValue: tag) {
            case .id: id = value.int64
            case .askedWithItself: identity.askedWithItself = value.int64.map(Timestamp.init(secondsSince1970:))
            case nil: identity.unknownFields.append(Entry.UnknownField(tag: tag, value: Array(value)))
            }
        }
        guard reader.remaining == 0, let id, id > 0 else { return nil }
        identity.id = id
        return identity
    }
}

extension Entry {
    /// Forgets GitLab's id of the token (a new token has another): the identity read, and any
    /// tag-21 field this version could not read and kept aside, which a later version would
    /// otherwise read back as the new token's.
    mutating func forgetGitLabToken() {
        gitlabToken = nil
        unknownFields.removeAll { $0.tag == Records.Tag.gitlabToken.rawValue }
    }
}
