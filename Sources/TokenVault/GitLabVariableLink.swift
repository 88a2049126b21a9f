/// Where an entry's token lives besides the vault: a GitLab project's or group's CI/CD variable
/// (`vault gitlab link`). Kept, encrypted, in the entry's metadata (tag 20, once per link), with
/// what the last push to it did: `vault gitlab push` writes the token there, and a link whose
/// push failed stays pending until one succeeds.
public struct GitLabVariableLink: Sendable, Equatable, Codable, CustomStringConvertible {
    /// Whose variable it is.
    public enum Owner: Sendable, Equatable, Hashable, Codable {
        /// A project, by its numeric id or its full path (`team/app`).
        case project(String)
        /// A group, by its numeric id or its full path (`team`).
        case group(String)

        /// `project` or `group`.
        public var kind: String {
            switch self {
            case .project: "project"
            case .group: "group"
            }
        }

        /// The id or path.
        public var path: String {
            switch self {
            case .project(let path), .group(let path): path
            }
        }
    }

    /// How GitLab shows the variable.
    public enum Visibility: UInt8, Sendable, Equatable, Hashable, Codable {
        /// Masked in job logs (the default).
        case masked = 1
        /// Masked and hidden: its value cannot be read back in GitLab's UI or API (GitLab 17.4
        /// and later; GitLab hides a variable only when it creates it).
        case hidden = 2
    }

    /// The project or group.
    public var owner: Owner
    /// The variable's key (`A-Z`, `a-z`, `0-9`, `_`).
    public var key: String
    /// The environments the variable applies to (GitLab's `environment_scope`; `*`: all).
    public var environmentScope: String
    /// Exported only to protected branches and tags.
    public var protected: Bool
    /// Masked, or masked and hidden.
    public var visibility: Visibility
    /// When a push last wrote the token there (or found it there already).
    public var pushed: Timestamp?
    /// Since when the variable has been waiting for the current token: linked and not pushed
    /// yet, a push failed, or found the variable changed at GitLab. Cleared by a push that
    /// succeeds.
    public var pending: Timestamp?
    /// Why the last push did not succeed, for `vault check` and `vault show` (never a token).
    public var pendingReason: String?
    /// The reason a new link is pending: the vault has not written the token there yet.
    public static let notPushedYet = "not pushed yet"
    /// Fields of a later version, kept and written back as they were.
    var unknownFields: [Entry.UnknownField] = []

    /// A link with nothing pushed yet.
    public init(owner: Owner, key: String, environmentScope: String = "*", protected: Bool = false,
                visibility: Visibility = .masked) {
        self.owner = owner
        self.key = key
        self.environmentScope = environmentScope
        self.protected = protected
        self.visibility = visibility
    }

    /// Whether `other` names the same variable: same owner, key and environment scope.
    public func isSameVariable(as other: GitLabVariableLink) -> Bool {
        owner == other.owner && key == other.key && environmentScope == other.environmentScope
    }

    /// `project team/app variable DEPLOY_TOKEN` (and `scope production` when not `*`).
    public var description: String {
        "\(owner.kind) \(owner.path) variable \(key)" + (environmentScope == "*" ? "" : " (scope \(environmentScope))")
    }

    /// Checks what `vault gitlab link` is given: a project or group as GitLab names it (a
    /// number, or a path of letters, digits, `.`, `-`, `_` and `/`), a key as GitLab allows
    /// (at most 255 of `A-Z a-z 0-9 _`), a scope of printable characters.
    public func validate() throws(VaultError) {
        let path = owner.path
        let pathOK = !path.isEmpty && path.utf8.count <= 1024 && !path.hasPrefix("/") && !path.hasSuffix("/")
            && !path.contains("//") && !path.split(separator: "/").contains { $0 == "." || $0 == ".." }
            && path.utf8.allSatisfy { Self.isAlphanumeric($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-")
                || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "/") }
        guard pathOK else {
            throw .invalidInput("'\(Redaction.redact(path))' is not a GitLab \(owner.kind): give its id or its full path (team/app)")
        }
        guard !key.isEmpty, key.utf8.count <= 255, key.utf8.allSatisfy({ Self.isAlphanumeric($0) || $0 == UInt8(ascii: "_") }) else {
            throw .invalidInput("'\(Redaction.redact(key))' is not a CI/CD variable key: A-Z, a-z, 0-9 and _ only, at most 255")
        }
        guard !environmentScope.isEmpty, environmentScope.utf8.count <= 255,
              environmentScope.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw .invalidInput("'\(Redaction.redact(environmentScope))' is not an environment scope: printable characters, no spaces")
        }
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }

    // MARK: The metadata field

    /// Tags inside the link's value: tag-length-value too, so a later version can add some.
    private enum Tag: UInt8 {
        case project = 1, group = 2, key = 3, scope = 4, protected = 5, visibility = 6
        case pushed = 7, pending = 8, pendingReason = 9
    }

    func encoded() -> [UInt8] {
        var w = ByteWriter()
        switch owner {
        case .project(let path): w.field(Tag.project.rawValue, path)
        case .group(let path): w.field(Tag.group.rawValue, path)
        }
        w.field(Tag.key.rawValue, key)
        w.field(Tag.scope.rawValue, environmentScope)
        if protected { w.field(Tag.protected.rawValue, [1]) }
        w.field(Tag.visibility.rawValue, [visibility.rawValue])
        if let pushed { w.field(Tag.pushed.rawValue, int: pushed.secondsSince1970) }
        if let pending { w.field(Tag.pending.rawValue, int: pending.secondsSince1970) }
        if let pendingReason { w.field(Tag.pendingReason.rawValue, pendingReason) }
        for field in unknownFields { w.field(field.tag, field.value) }
        return w.bytes
    }

    /// A link from its field; nil for one without an owner or a key (a damaged field is kept
    /// aside by the caller as an unknown one, never dropped).
    static func decode(_ bytes: UnsafeRawBufferPointer) -> GitLabVariableLink? {
        var reader = ByteReader(bytes)
        var owner: Owner?
        var key: String?
        var link = GitLabVariableLink(owner: .project(""), key: "")
        while let (tag, value) = try? reader.field() {
            switch Tag(rawValue: tag) {
            case .project: owner = .project(value.utf8String)
            case .group: owner = .group(value.utf8String)
            case .key: key = value.utf8String
            case .scope: link.environmentScope = value.utf8String
            case .protected: link.protected = value.first == 1
            case .visibility: link.visibility = value.first.flatMap(Visibility.init(rawValue:)) ?? .masked
            case .pushed: link.pushed = value.int64.map(Timestamp.init(secondsSince1970:))
            case .pending: link.pending = value.int64.map(Timestamp.init(secondsSince1970:))
            case .pendingReason: link.pendingReason = value.utf8String
            case nil: link.unknownFields.append(Entry.UnknownField(tag: tag, value: Array(value)))
            }
        }
        guard reader.remaining == 0, let owner, let key else { return nil }
        link.owner = owner
        link.key = key
        return link
    }
}
