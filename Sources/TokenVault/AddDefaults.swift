/// What `vault add` fills in or warns about when the command line leaves something out: the
/// rules are the library's, the CLI only prints them.
public enum AddDefaults {
    /// The URL a token is used at when `--url` names none: https://github.com for a token whose
    /// prefix is GitHub's. Nothing for GitLab (self-managed instances are common, so no guess)
    /// nor for any other token.
    public static func url(for secret: Secret) -> CredentialURL? {
        TokenKind.recognise(secret) == .github ? CredentialURL(scheme: "https", host: "github.com") : nil
    }

    /// What a person should hear about a new entry: a GitLab token without a URL, which git
    /// will not use; an expiry date already past, which no reader is given.
    public static func notices(_ entry: Entry, now: Timestamp = .now()) -> [Notice] {
        var notices: [Notice] = []
        if entry.kind == .gitlab && entry.url == nil { notices.append(.gitLabWithoutURL) }
        if let expires = entry.expires, entry.isExpired(at: now) { notices.append(.expiredAlready(expires)) }
        return notices
    }

    /// One thing `notices(_:now:)` found.
    public enum Notice: Sendable, Equatable {
        /// A GitLab token without a URL: git never asks for it.
        case gitLabWithoutURL
        /// The expiry date is past: `get` and git refuse the token.
        case expiredAlready(Timestamp)
    }

    /// The length under which a new passphrase is short enough to warn about.
    public static let shortPassphrase = 12

    /// Whether a new passphrase has fewer than ``shortPassphrase`` characters (counted as UTF-8
    /// code points; the bytes are never decoded into a String).
    public static func isShort(_ passphrase: Secret) -> Bool {
        passphrase.withUnsafeBytes { bytes in bytes.lazy.filter { $0 & 0xC0 != 0x80 }.count } < shortPassphrase
    }
}
