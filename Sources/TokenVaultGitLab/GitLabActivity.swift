import TokenVault

/// A token's use as GitLab records it (`last_used_at`, `last_used_ips` of
/// `GET /personal_access_tokens/self`, or of `/:id` read with an admin token), beside the
/// vault's own last read, and what `vault check --online` concludes from them.
///
/// GitLab counts every authenticated API request as a use, the vault's own question with the
/// token included: it moves `last_used_at` to the request when the time it holds is more than
/// 10 minutes old (and adds the caller's address to `last_used_ips`). So a last use at GitLab
/// within ``ownRequestMargin`` of the vault's own request with the token (this one, when the
/// token asked about itself; else the last one the vault noted) may be that request, and it
/// does not make the token "used elsewhere". A record read with an admin token is not such a
/// request: it shows every other use as it is.
public struct GitLabActivity: Sendable, Equatable {
    /// When GitLab last saw the token used; nil: never (or GitLab did not say).
    public var lastUsedAtGitLab: Timestamp?
    /// The addresses GitLab last saw it used from, as GitLab listed them (IP addresses only).
    public var addresses: [String]
    /// When the vault last handed the token out (`vault get`, git's helper, `exec`, `inject`):
    /// the entry's last use. Talking to GitLab is not one.
    public var lastReadFromVault: Timestamp?
    /// When GitLab created the token, if it said.
    public var createdAtGitLab: Timestamp?
    /// When the vault asked GitLab (just before its request was sent).
    public var asked: Timestamp
    /// Who read the record: nil, the token itself (and GitLab counted that request); else the
    /// admin entry whose token read it by the token's id.
    public var readBy: String?
    /// When the vault last sent the token itself to GitLab: ``asked`` when the token read its
    /// own record, else what the entry noted (``GitLabTokenIdentity/askedWithItself``).
    public var ownRequest: Timestamp?

    /// A use at GitLab later than this long before the vault's question may be that question
    /// itself (GitLab updates `last_used_at` at most every 10 minutes; 5 more for clocks that
    /// disagree).
    public static let ownRequestMargin: Duration = .seconds(15 * 60)

    /// The activity in a verification's answer; nil when GitLab refused the token (no answer).
    public init?(_ verification: GitLabVerification) {
        guard let info = verification.info else { return nil }
        lastUsedAtGitLab = info.lastUsedAt
        addresses = info.lastUsedIPs
        lastReadFromVault = verification.entry.lastUsed
        createdAtGitLab = info.created
        asked = verification.asked
        readBy = verification.readBy
        ownRequest = verification.readBy == nil ? verification.asked : verification.entry.gitlabToken?.askedWithItself
    }

    /// An activity from its parts.
    public init(lastUsedAtGitLab: Timestamp?, addresses: [String] = [], lastReadFromVault: Timestamp?,
                createdAtGitLab: Timestamp? = nil, asked: Timestamp, readBy: String? = nil, ownRequest: Timestamp? = nil) {
        self.lastUsedAtGitLab = lastUsedAtGitLab
        self.addresses = addresses
        self.lastReadFromVault = lastReadFromVault
        self.createdAtGitLab = createdAtGitLab
        self.asked = asked
        self.readBy = readBy
        self.ownRequest = readBy == nil ? asked : ownRequest
    }

    /// Whether GitLab's last use may be the vault's own request with the token (see
    /// ``ownRequestMargin``): from the margin before it on when the token read its own record;
    /// within the margin of the last one noted when an admin token read it (none noted: no).
    public var mayBeOwnRequest: Bool {
        guard let used = lastUsedAtGitLab?.secondsSince1970, let own = ownRequest?.secondsSince1970 else { return false }
        let margin = Self.ownRequestMargin.components.seconds
        return used >= own - margin && (readBy == nil || used <= own + margin)
    }

    /// Whether the vault knows where the entry's token lives besides itself: links to GitLab
    /// CI/CD variables (`vault gitlab link`).
    public static func hasLinks(_ entry: Entry) -> Bool {
        !entry.gitlabLinks.isEmpty
    }

    /// What GitLab's record tells of `entry`'s token at `now`, with `window` as the span both
    /// for unused (no use at GitLab for longer) and for recent (a use at GitLab within it):
    ///
    /// - ``Review/Finding/Kind/unusedAtGitLab``: GitLab saw no use for longer than `window`
    ///   (never used: since GitLab created it, else since the entry was made) — a candidate
    ///   for revocation. `age` is how long.
    /// - ``Review/Finding/Kind/usedElsewhere``: GitLab saw a use within `window`, the vault did
    ///   not hand the token out within it, and the vault knows no other place the token lives
    ///   (``hasLinks(_:)``): it may be used somewhere the vault does not know, or have leaked.
    ///   `date` is GitLab's last use.
    ///
    /// A last use that may be the vault's own request is no use elsewhere (nor a recent one:
    /// unused is concluded only from a last use longer ago than `window`).
    public func findings(for entry: Entry, now: Timestamp, window: Duration) -> [Review.Finding] {
        let seconds = window.components.seconds
        func since(_ t: Timestamp) -> Int64 {
            let (d, overflow) = now.secondsSince1970.subtractingReportingOverflow(t.secondsSince1970)
            return overflow ? (now > t ? Int64.max : Int64.min) : d
        }
        guard let used = lastUsedAtGitLab else {
            let made = createdAtGitLab ?? entry.created
            guard since(made) > seconds else { return [] }
            return [Review.Finding(kind: .unusedAtGitLab, name: entry.name, age: .seconds(since(made)))]
        }
        if since(used) > seconds {
            return [Review.Finding(kind: .unusedAtGitLab, name: entry.name, date: used, age: .seconds(since(used)))]
        }
        let readRecently = lastReadFromVault.map { since($0) <= seconds } ?? false
        if !readRecently && !Self.hasLinks(entry) && !mayBeOwnRequest {
            return [Review.Finding(kind: .usedElsewhere, name: entry.name, date: used, age: .seconds(max(0, since(used))))]
        }
        return []
    }

    // MARK: GitLab's text

    /// An instant as GitLab writes one: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; nil for
    /// anything else.
    static func instant(_ text: String) -> Timestamp? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.count <= 40, bytes[10] == UInt8(ascii: "T"), bytes[13] == UInt8(ascii: ":"),
              bytes[16] == UInt8(ascii: ":"), let day = Timestamp(date: String(decoding: bytes[0..<10], as: UTF8.self)) else { return nil }
        func number(_ range: Range<Int>) -> Int64? {
            guard range.upperBound <= bytes.count, bytes[range].allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
            return Int64(String(decoding: bytes[range], as: UTF8.self))
        }
        guard let h = number(11..<13), let m = number(14..<16), let s = number(17..<19), h < 24, m < 60, s < 61 else { return nil }
        var i = 19
        if bytes[i] == UInt8(ascii: ".") {
            i += 1
            while i < bytes.count, (0x30...0x39).contains(bytes[i]) { i += 1 }
        }
        var offset: Int64 = 0
        if i == bytes.count - 1, bytes[i] == UInt8(ascii: "Z") {
            offset = 0
        } else if i == bytes.count - 6, bytes[i] == UInt8(ascii: "+") || bytes[i] == UInt8(ascii: "-"), bytes[i + 3] == UInt8(ascii: ":"),
                  let oh = number(i + 1..<i + 3), let om = number(i + 4..<i + 6), oh < 24, om < 60 {
            offset = (oh * 3600 + om * 60) * (bytes[i] == UInt8(ascii: "+") ? 1 : -1)
        } else {
            return nil
        }
        return Timestamp(secondsSince1970: day.secondsSince1970 + h * 3600 + m * 60 + s - offset)
    }

    /// Whether GitLab's text is shaped like an IPv4 or IPv6 address (hexadecimal digits, `.`
    /// and `:`, at most 45 characters): anything else from GitLab is dropped, not printed.
    static func isAddress(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (2...45).contains(bytes.count), bytes.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: ":") }) else { return false }
        return bytes.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) || (0x41...0x46).contains($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: ":") }
    }
}
