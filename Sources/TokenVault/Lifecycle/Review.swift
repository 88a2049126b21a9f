/// What `vault check` finds wrong with the tokens a vault holds, following GitLab's advice: an
/// expiry date on every token, the narrowest scopes, rotation about every 90 days, revocation of
/// what is no longer used. Pure: the caller supplies the entries, the time and the secrets'
/// duplicates.
public enum Review {
    /// The rotation period when neither the entry nor the vault names one: 90 days.
    public static let defaultRotation: Duration = .seconds(90 * 86_400)
    /// A token not used for longer than this (90 days) is reported as unused.
    public static let unusedAfter: Duration = .seconds(90 * 86_400)

    /// One thing wrong with one entry.
    public struct Finding: Sendable, Equatable {
        /// What is wrong; the raw value is the name `vault check --json` prints.
        public enum Kind: String, Sendable, CaseIterable {
            /// GitLab said the token is revoked.
            case revoked
            /// The token's expiry date has passed.
            case expired
            /// A rotation was started and its outcome never learnt: the old token may be revoked.
            case rotationInterrupted = "rotation-interrupted"
            /// A GitLab CI/CD variable linked to the entry does not hold its current token: a
            /// push failed or found the variable changed (`vault gitlab push` retries).
            case pushPending = "push-pending"
            /// git reported the token as failing (its `erase`).
            case rejected
            /// The token expires within the days the caller gives (14 unless given).
            case expiresSoon = "expires-soon"
            /// The token is older than its rotation period.
            case rotationDue = "rotation-due"
            /// The token has broad scopes where narrower ones would do (or is a GitHub classic token).
            case broadScopes = "broad-scopes"
            /// Another entry holds the same token.
            case duplicate = "duplicate-token"
            /// GitLab saw the token used recently, although the vault did not hand it out in that
            /// time and knows no other place it lives (`vault check --online`).
            case usedElsewhere = "used-elsewhere"
            /// The entry has no expiry date.
            case noExpiry = "no-expiry"
            /// The token was last used longer ago than ``Review/unusedAfter``.
            case unused
            /// GitLab saw no use of the token for longer than `vault check --online --unused`
            /// (90 days unless given): a candidate for revocation.
            case unusedAtGitLab = "unused-at-gitlab"
            /// `vault check --online` could not ask GitLab.
            case unverified
            /// git's `store` made the entry and nobody has looked at it since.
            case storedByGit = "stored-by-git"
        }
        /// How much a finding matters.
        public enum Severity: String, Sendable {
            /// The token no longer works (expired, revoked).
            case error
            /// The token should be looked at soon.
            case warning
            /// Good practice not followed (no expiry, unused, stored by git and not reviewed).
            case notice
        }

        /// What is wrong.
        public var kind: Kind
        /// The entry's name.
        public var name: String
        /// The date the finding is about: when GitLab was found to have revoked the token
        /// (`revoked`), when the interrupted rotation started (`rotationInterrupted`), the
        /// expiry date (`expired`, `expiresSoon`), when git rejected the token (`rejected`), or
        /// when git stored it (`storedByGit`), GitLab's last use (`usedElsewhere`,
        /// `unusedAtGitLab`), since when a variable waits for the token (`pushPending`).
        public var date: Timestamp?
        /// How long: since the expiry date (`expired`), until it (`expiresSoon`), the token's age
        /// (`rotationDue`), or since its last use (`unused`, `unusedAtGitLab`, `usedElsewhere`).
        public var age: Duration?
        /// The rotation period the token is older than (`rotationDue`).
        public var period: Duration?
        /// The broad scopes of a GitLab token (`broadScopes`); empty for a GitHub classic token,
        /// whose scopes cannot be narrowed.
        public var scopes: [String] = []
        /// The other entry that holds the same token (`duplicate`).
        public var otherEntry: String?
        /// Why the token could not be verified (`unverified`), as the caller reports it; the
        /// variable and why its push did not succeed (`pushPending`).
        public var detail: String?

        /// A finding from its parts; the facts that go with its kind are set afterwards.
        public init(kind: Kind, name: String, date: Timestamp? = nil, age: Duration? = nil, period: Duration? = nil,
                    scopes: [String] = [], otherEntry: String? = nil, detail: String? = nil) {
            self.kind = kind
            self.name = name
            self.date = date
            self.age = age
            self.period = period
            self.scopes = scopes
            self.otherEntry = otherEntry
            self.detail = detail
        }

        /// `error` for expired and revoked tokens; `notice` for no expiry, unused (here or at
        /// GitLab) and stored by git;
        /// `warning` for the rest.
        public var severity: Severity {
            switch kind {
            case .expired, .revoked: .error
            case .noExpiry, .unused, .unusedAtGitLab, .storedByGit: .notice
            default: .warning
            }
        }
    }

    /// What the tokens themselves tell, found by ``Vault/reviewTokens()`` without handing any out.
    public struct Tokens: Sendable, Equatable {
        /// For each entry whose token another entry holds too, the name of that other entry.
        public var duplicates: [String: String]
        /// The entries that hold a GitHub classic token (`ghp_`).
        public var classicGitHub: Set<String>

        /// Facts from their parts.
        public init(duplicates: [String: String] = [:], classicGitHub: Set<String> = []) {
            self.duplicates = duplicates
            self.classicGitHub = classicGitHub
        }
    }

    /// GitLab's broad scopes, with the narrower ones to suggest.
    package static let broadGitLabScopes: [String: String] = [
        "api": "read_api (or self_rotate, for a token that only rotates itself)",
        "sudo": "no sudo (act as yourself)",
        "admin_mode": "no admin_mode",
        "write_repository": "read_repository",
        "write_registry": "read_registry",
    ]

    /// The scopes GitLab and GitHub define for their tokens: ``unknownScopes(_:kind:)`` reports any
    /// other.
    public static let knownScopes: [TokenKind: Set<String>] = [
        .gitlab: ["api", "read_api", "read_user", "create_runner", "manage_runner", "k8s_proxy", "read_repository",
                  "write_repository", "read_registry", "write_registry", "read_virtual_registry", "write_virtual_registry",
                  "sudo", "admin_mode", "read_service_ping", "self_rotate", "ai_features"],
        .github: ["repo", "repo:status", "repo_deployment", "public_repo", "repo:invite", "security_events",
                  "admin:repo_hook", "write:repo_hook", "read:repo_hook", "admin:org", "write:org", "read:org",
                  "admin:public_key", "write:public_key", "read:public_key", "admin:org_hook", "gist", "notifications",
                  "user", "read:user", "user:email", "user:follow", "project", "read:project", "delete_repo",
                  "write:packages", "read:packages", "delete:packages", "admin:gpg_key", "write:gpg_key",
                  "read:gpg_key", "codespace", "workflow", "admin:enterprise", "manage_runners:enterprise",
                  "manage_billing:enterprise", "read:enterprise", "audit_log", "read:audit_log",
                  "admin:ssh_signing_key", "write:ssh_signing_key", "read:ssh_signing_key", "copilot",
                  "write:discussion", "read:discussion"],
    ]

    /// Scopes that GitLab or GitHub does not know for this kind of token (a warning, not a refusal).
    public static func unknownScopes(_ scopes: [String], kind: TokenKind) -> [String] {
        guard let known = knownScopes[kind] else { return [] }
        return scopes.filter { !known.contains($0) }
    }

    /// The findings for `entries` at `now`, worst first: tokens expiring within `withinDays`,
    /// older than their entry's rotation period (or `rotateEvery`), and what `tokens` (from
    /// ``Vault/reviewTokens()``) tells of the tokens themselves.
    public static func findings(_ entries: [Entry], now: Timestamp, withinDays: Int = 14, rotateEvery: Duration = defaultRotation,
                                tokens: Tokens = Tokens()) -> [Finding] {
        let duplicates = tokens.duplicates, classicGitHub = tokens.classicGitHub
        var findings: [Finding] = []
        for entry in entries where entry.deleted == nil {
            func add(_ finding: Finding) { findings.append(finding) }
            // From `b` to `a`, saturated at Int64 seconds: a date may be anything the library
            // was given, and the difference of two must neither trap nor leave that range.
            func span(from b: Timestamp, to a: Timestamp) -> Duration {
                let (difference, overflow) = a.secondsSince1970.subtractingReportingOverflow(b.secondsSince1970)
                return .seconds(overflow ? (a > b ? Int64.max : Int64.min) : difference)
            }
            let name = entry.name
            if let revoked = entry.revoked {
                add(Finding(kind: .revoked, name: name, date: revoked))
                continue
            }
            if let started = entry.rotationStarted {
                add(Finding(kind: .rotationInterrupted, name: name, date: started))
            }
            for link in entry.gitlabLinks {
                guard let pending = link.pending else { continue }
                add(Finding(kind: .pushPending, name: name, date: pending,
                            detail: link.description + (link.pendingReason.map { ": \($0)" } ?? "")))
            }
            if let expires = entry.expires {
                if expires <= now {
                    add(Finding(kind: .expired, name: name, date: expires, age: span(from: expires, to: now)))
                } else if span(from: now, to: expires) <= .saturating(Int64(clamping: withinDays), unit: Duration.day) {
                    add(Finding(kind: .expiresSoon, name: name, date: expires, age: span(from: now, to: expires)))
                }
            } else {
                add(Finding(kind: .noExpiry, name: name))
            }
            if let rejected = entry.rejected {
                add(Finding(kind: .rejected, name: name, date: rejected))
            }
            let period = entry.rotateEvery ?? rotateEvery
            let since = entry.tokenSince ?? entry.created
            let age = span(from: since, to: now)
            if age > period {
                add(Finding(kind: .rotationDue, name: name, age: age, period: period))
            }
            if entry.kind == .gitlab {
                let broad = entry.scopes.filter { broadGitLabScopes[$0] != nil }
                if !broad.isEmpty {
                    add(Finding(kind: .broadScopes, name: name, scopes: broad))
                }
            }
            if classicGitHub.contains(entry.name) {
                add(Finding(kind: .broadScopes, name: name))
            }
            if let other = duplicates[entry.name] {
                add(Finding(kind: .duplicate, name: name, otherEntry: other))
            }
            if entry.storedByGit {
                add(Finding(kind: .storedByGit, name: name, date: entry.created))
            }
            let used = entry.lastUsed ?? entry.created
            if span(from: used, to: now) > unusedAfter {
                add(Finding(kind: .unused, name: name, age: span(from: used, to: now)))
            }
        }
        let order = Finding.Kind.allCases
        return findings.sorted { a, b in
            let ka = order.firstIndex(of: a.kind)!, kb = order.firstIndex(of: b.kind)!
            return ka != kb ? ka < kb : a.name < b.name
        }
    }
}
