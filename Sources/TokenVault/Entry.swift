/// What kind of token an entry holds, recognised from its prefix (or its host) when not given.
public enum TokenKind: String, Sendable, Codable, CaseIterable {
    /// A GitLab personal, project, group or other access token.
    case gitlab
    /// A GitHub personal access token (classic or fine-grained) or another GitHub token.
    case github
    /// Any other token: nothing about it is known to TokenVault.
    case generic

    /// The kind a token's prefix reveals (`glpat-` and GitLab's other prefixes, `ghp_`,
    /// `github_pat_` and GitHub's other prefixes), or nil.
    public static func recognise(_ secret: Secret) -> TokenKind? {
        secret.withUnsafeBytes { bytes -> TokenKind? in
            func starts(with prefix: String) -> Bool {
                let p = Array(prefix.utf8)
                return bytes.count >= p.count && zip(bytes, p).allSatisfy { $0 == $1 }
            }
            for prefix in Redaction.tokenPrefixes where starts(with: prefix) {
                return prefix.hasPrefix("gl") ? .gitlab : .github
            }
            return nil
        }
    }

    /// The kind a host suggests: github.com and its API host, or a host with "gitlab" in its name.
    public static func guess(host: String?) -> TokenKind {
        guard let host else { return .generic }
        if host == "github.com" || host.hasSuffix(".github.com") { return .github }
        if host.contains("gitlab") { return .gitlab }
        return .generic
    }
}

/// Where a token is used: protocol, host (with port) and an optional path, as git describes a
/// credential's context.
public struct CredentialURL: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The protocol in lower case (`https`, `http`, ...).
    public var scheme: String
    /// The host name in lower case, with `:port` when the URL names one.
    public var host: String
    /// The path without its leading slash, or nil.
    public var path: String?

    /// A URL from its parts: the scheme and host are lower-cased, and an empty path means none.
    public init(scheme: String, host: String, path: String? = nil) {
        self.scheme = scheme.lowercased()
        self.host = host.lowercased()
        self.path = (path?.isEmpty ?? true) ? nil : path
    }

    /// Parses `https://host[:port][/path]`; a bare `host[/path]` means https. A user name in
    /// the URL (`https://alice@host`) is returned apart; a password in a URL is refused, since a
    /// token never belongs on a command line.
    public static func parse(_ text: String) throws(VaultError) -> Parsed {
        if let parsed = parseASCII(text) { return parsed }
        return try parseAnyText(text)
    }

    /// ``parse(_:)`` of a URL in ASCII that parses, over its bytes (in ASCII a byte is a
    /// character for every test made here: `vault list` and `vault check` parse every entry's
    /// URL, and `parseAnyText` spent a quarter of their time). Nil for anything else, which
    /// `parseAnyText` then parses or refuses as it always did.
    static func parseASCII(_ text: String) -> Parsed? {
        var text = text
        return text.withUTF8 { b -> Parsed? in
            guard b.allSatisfy({ $0 < 0x80 }) else { return nil }
            func string(_ range: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: b[range]), as: UTF8.self) }
            func first(in range: Range<Int>, _ match: (UInt8) -> Bool) -> Int? { range.first { match(b[$0]) } }
            func last(in range: Range<Int>, _ byte: Character) -> Int? { range.last { b[$0] == byte.asciiValue } }
            var start = 0
            var scheme = "https"
            if let marker = (0..<Swift.max(b.count - 2, 0)).first(where: {
                b[$0] == UInt8(ascii: ":") && b[$0 + 1] == UInt8(ascii: "/") && b[$0 + 2] == UInt8(ascii: "/")
            }) {
                let schemeBytes = UnsafeBufferPointer(rebasing: b[0..<marker])
                guard !schemeBytes.isEmpty, schemeBytes.allSatisfy({ byte in
                    let c = Character(Unicode.Scalar(byte))
                    return c.isLetter || c.isNumber || "+-.".contains(c)
                }) else { return nil }
                scheme = string(0..<marker)
                start = marker + 3
            }
            let authorityEnd = first(in: start..<b.count) { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? b.count
            var pathStart = authorityEnd
            var pathEnd = first(in: authorityEnd..<b.count) { $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? b.count
            while pathStart < pathEnd, b[pathStart] == UInt8(ascii: "/") { pathStart += 1 }
            while pathEnd > pathStart, b[pathEnd - 1] == UInt8(ascii: "/") { pathEnd -= 1 }
            var hostStart = start
            var username: String?
            if let at = last(in: start..<authorityEnd, "@") {
                guard last(in: start..<at, ":") == nil else { return nil }
                username = string(start..<at).removingPercentEncoding()
                hostStart = at + 1
            }
            guard hostStart < authorityEnd,
                  first(in: hostStart..<authorityEnd, { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) == nil else { return nil }
            if let colon = last(in: hostStart..<authorityEnd, ":"), b[authorityEnd - 1] != UInt8(ascii: "]") {
                guard let number = Int(string(colon + 1..<authorityEnd)), (1...65_535).contains(number) else { return nil }
            }
            return Parsed(url: CredentialURL(scheme: scheme, host: string(hostStart..<authorityEnd),
                                             path: pathStart < pathEnd ? string(pathStart..<pathEnd) : nil),
                          username: username)
        }
    }

    /// ``parse(_:)`` of any text, character by character.
    static func parseAnyText(_ text: String) throws(VaultError) -> Parsed {
        var rest = Substring(text)
        var scheme = "https"
        if let range = rest.firstRange(of: "://") {
            scheme = String(rest[..<range.lowerBound])
            rest = rest[range.upperBound...]
            guard !scheme.isEmpty, scheme.allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) }) else {
                throw .invalidInput("'\(Redaction.redact(text))' is not a URL")
            }
        }
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        var path = rest[authorityEnd...]
        if let query = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = path[..<query] }
        while path.hasPrefix("/") { path = path.dropFirst() }
        while path.hasSuffix("/") { path = path.dropLast() }
        var username: String?
        if let at = authority.lastIndex(of: "@") {
            let userinfo = authority[..<at]
            authority = authority[authority.index(after: at)...]
            if userinfo.contains(":") {
                throw .invalidInput("the URL contains a password; give the URL without it and pipe the token on standard input")
            }
            username = String(userinfo).removingPercentEncoding()
        }
        guard !authority.isEmpty, !authority.contains(where: { $0 == " " || $0 == "\t" }) else {
            throw .invalidInput("'\(Redaction.redact(text))' has no host")
        }
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            let port = authority[authority.index(after: colon)...]
            guard let number = Int(port), (1...65_535).contains(number) else {
                throw .invalidInput("'\(Redaction.redact(text))' has an invalid port")
            }
        }
        return Parsed(url: CredentialURL(scheme: scheme, host: String(authority), path: path.isEmpty ? nil : String(path)),
                      username: username)
    }

    /// What ``parse(_:)`` finds in a URL: the URL without its user name, and the user name.
    public struct Parsed: Sendable, Hashable {
        /// The URL, without a user name.
        public var url: CredentialURL
        /// The user name the URL held (`alice` of `https://alice@host`), percent-decoded.
        public var username: String?
    }

    /// `scheme://host[/path]`.
    public var description: String {
        "\(scheme)://\(host)" + (path.map { "/\($0)" } ?? "")
    }
}

extension StringProtocol {
    /// Decodes `%XX` escapes; invalid escapes are kept as they are.
    func removingPercentEncoding() -> String {
        String(decoding: Array(utf8).percentDecoded(), as: UTF8.self)
    }
}

extension Array where Element == UInt8 {
    /// Decodes `%XX` escapes (two hexadecimal digits, nothing else) into bytes.
    func percentDecoded() -> [UInt8] {
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(count)
        var i = 0
        while i < count {
            if self[i] == UInt8(ascii: "%"), i + 2 < count,
               let high = hex(self[i + 1]), let low = hex(self[i + 2]) {
                out.append(high << 4 | low)
                i += 3
            } else {
                out.append(self[i])
                i += 1
            }
        }
        return out
    }
}

/// An entry's metadata: everything about a token but the token. Every field is stored encrypted.
public struct Entry: Sendable, Equatable, Codable {
    /// The entry's name, unique in the vault (`vault get NAME`).
    public var name: String
    /// Where the token is used: the git helper gives it for this URL.
    public var url: CredentialURL?
    /// The user name given with the token, if any (git's `username`).
    public var username: String?
    /// Whose token this is: GitLab's, GitHub's or another.
    public var kind: TokenKind
    /// The scopes the token was created with, as the user or GitLab gave them.
    public var scopes: [String]
    /// The token stops working at this instant (GitLab: midnight UTC at the start of the date).
    public var expires: Timestamp?
    /// Free text kept with the entry.
    public var notes: String?
    /// When the entry was added.
    public internal(set) var created: Timestamp
    /// When the entry or its token last changed.
    public internal(set) var updated: Timestamp
    /// When git last had this token from the helper, or `vault get` printed it.
    public internal(set) var lastUsed: Timestamp?
    /// The entry the git helper prefers among several for the same host.
    public var isGitDefault: Bool = false
    /// Set when git reported the token as failing (the helper's `erase`): the helper no longer
    /// gives it to git until `vault restore` clears it.
    public var rejected: Timestamp?
    /// How often the token should be replaced (nil: the vault's default, 90 days unless set). The
    /// vault keeps it in whole seconds: a write with a fraction of a second is refused.
    public var rotateEvery: Duration?
    /// When the current token was stored (added, or replaced): the start of its rotation period.
    public internal(set) var tokenSince: Timestamp?
    /// When `vault rm` moved the entry to the trash: it is kept, but given to nobody, until
    /// restored or destroyed.
    public var deleted: Timestamp?
    /// When GitLab said the token is revoked (or `vault gitlab revoke` revoked it): it is kept,
    /// but given to nobody.
    public var revoked: Timestamp?
    /// When `vault gitlab rotate` asked GitLab for a new token without learning the outcome (the
    /// process stopped, or the answer never came): the old token may be revoked already, until
    /// `vault gitlab verify` finds out.
    public var rotationStarted: Timestamp?
    /// For a credential git stored with `capability[]=authtype`: its scheme (`Bearer`). The token
    /// is then the whole credential for the `Authorization` header, given only to a git that
    /// announces the capability.
    public var authType: String?
    /// Set when git's `store` created the entry and nobody has reviewed it since (`vault edit`
    /// or `vault rename` clears it): `vault list` marks it, `vault check` mentions it.
    public var storedByGit: Bool = false
    /// The GitLab CI/CD variables that hold this token too (`vault gitlab link`), and what the
    /// last push to each did.
    public var gitlabLinks: [GitLabVariableLink] = []
    /// GitLab's id of the token, and when the vault last sent the token itself to GitLab
    /// (``GitLabTokenIdentity``); nil until the vault learns it. A write that replaces the token
    /// clears it unless it sets the new token's.
    public var gitlabToken: GitLabTokenIdentity?
    /// Metadata fields of a later version, kept as they were and written back, so that this
    /// version's edit never drops what a later one stored (a restriction such as tag 18 among
    /// them).
    var unknownFields: [UnknownField] = []

    struct UnknownField: Sendable, Equatable, Codable {
        var tag: UInt8
        var value: [UInt8]
    }

    /// New metadata for `Vault.add`, created and updated now, never used.
    public init(name: String, url: CredentialURL? = nil, username: String? = nil, kind: TokenKind = .generic,
                scopes: [String] = [], expires: Timestamp? = nil, notes: String? = nil) {
        self.name = name
        self.url = url
        self.username = username
        self.kind = kind
        self.scopes = scopes
        self.expires = expires
        self.notes = notes
        let now = Timestamp.now()
        self.created = now
        self.updated = now
        self.lastUsed = nil
    }

    /// The host with its port, from the URL.
    public var host: String? { url?.host }

    /// True when the token expires within `days` (and has not expired yet): programs that hand
    /// out a token warn then, as `vault get` and the git helper do at 7 days.
    public func expiresSoon(withinDays days: Int = 7, at now: Timestamp = .now()) -> Bool {
        guard let expires, expires > now else { return false }
        return expires <= now.adding(days: days)
    }

    /// True when the entry has an expiry date and it is not later than `now`.
    public func isExpired(at now: Timestamp = .now()) -> Bool {
        guard let expires else { return false }
        return expires <= now
    }
}
