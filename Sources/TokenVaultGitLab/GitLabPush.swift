import TokenVault

/// What `Vault.pushToGitLab` did at each linked CI/CD variable.
public struct GitLabPush: Sendable {
    /// What happened at one variable.
    public enum Outcome: Sendable, Equatable {
        /// The variable did not exist: created, holding the token (`hidden`: GitLab hid it).
        case created(hidden: Bool)
        /// It held one of the entry's earlier tokens (or, hidden, what the vault pushed
        /// before): now the current one.
        case updated
        /// It holds the current token already: nothing sent.
        case alreadyCurrent
        /// It held something that is none of the entry's tokens, and `force` overwrote it.
        case overwritten
        /// It holds something that is none of the entry's tokens (someone changed it at
        /// GitLab): reported, not overwritten (pass `force`). The link is pending.
        case changedAtGitLab
        /// It is hidden and the vault never pushed to it, so what it holds cannot be known:
        /// not overwritten (pass `force`). The link is pending.
        case unreadable
        /// GitLab could not be asked, or refused: the link is pending.
        case failed(GitLabError)

        /// Whether the variable holds the current token now.
        public var succeeded: Bool {
            switch self {
            case .created, .updated, .alreadyCurrent, .overwritten: true
            case .changedAtGitLab, .unreadable, .failed: false
            }
        }

        /// A few words for a person (never a token).
        public var description: String {
            switch self {
            case .created(let hidden): hidden ? "created (masked and hidden)" : "created"
            case .updated: "updated"
            case .alreadyCurrent: "already holds the token"
            case .overwritten: "overwritten (it held a value that is none of this entry's tokens)"
            case .changedAtGitLab:
                "NOT UPDATED: it holds a value that is none of this entry's tokens (changed at GitLab?); --force overwrites it"
            case .unreadable:
                "NOT UPDATED: it is hidden and was not pushed by the vault, so what it holds is unknown; --force overwrites it"
            case .failed(let error): "FAILED: " + Self.explain(error)
            }
        }

        /// GitLab's refusals in the words of a variable's push (the admin token's rights).
        private static func explain(_ error: GitLabError) -> String {
            switch error {
            case .unauthorized:
                "GitLab refused the admin token (401): it is invalid, expired or revoked"
            case .forbidden(let message, _):
                "GitLab refused (403" + (message.map { ": \($0)" } ?? "")
                    + "): the admin token needs the api scope and the Maintainer role (Owner for a group)"
            case .notAvailable(let status, _):
                "GitLab has no such project or group (\(status)), or the admin token cannot see it"
            default:
                error.description
            }
        }
    }

    /// One variable's result.
    public struct Result: Sendable {
        /// The link, as the vault holds it after the push.
        public var link: GitLabVariableLink
        /// What happened there.
        public var outcome: Outcome
    }

    /// The entry as stored after the push, its links marked.
    public var entry: Entry
    /// One result per link, in the entry's order.
    public var results: [Result]
    /// Whether every variable holds the current token now.
    public var allSucceeded: Bool { results.allSatisfy(\.outcome.succeeded) }
}

/// Which token `Vault.pushToGitLab` authenticates with at GitLab.
public enum GitLabPushAuth: Sendable, Equatable {
    /// The default for the entry's host (`VaultSettings.gitlabAdmin`).
    case configured
    /// This entry's token (a GitLab token of the same host, with the `api` scope).
    case entry(String)
    /// The pushed token itself (it needs the `api` scope): only when the user asks.
    case selfAuth
}

/// Why `Vault.pushToGitLab` sent nothing. The entry and its token are unchanged.
public enum GitLabPushError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Reading or writing the vault failed.
    case vault(VaultError)
    /// The entry's token does not go to GitLab.
    case access(GitLabAccessError)
    /// The entry has no links.
    case noLinks(name: String)
    /// The entry cannot be pushed: in the trash, revoked, expired, or an unfinished rotation.
    case unusable(name: String, reason: String)
    /// No admin token named, and none set for the host.
    case noAdmin(host: String)
    /// The admin entry is the pushed entry itself: that takes `selfAuth`.
    case adminIsSelf(name: String)
    /// The admin entry cannot authenticate at this host.
    case adminUnusable(name: String, reason: String)

    /// One line for a person; a name shaped like a token is redacted.
    public var description: String {
        switch self {
        case .vault(let error): error.description
        case .access(let error): error.description
        case .noLinks(let name): "'\(Redaction.redact(name))' is linked to no CI/CD variable"
        case .unusable(let name, let reason): "'\(Redaction.redact(name))' is not pushed: \(reason)"
        case .noAdmin(let host): "no admin token for \(host): name one, or set a default for the host"
        case .adminIsSelf(let name): "'\(Redaction.redact(name))' would authenticate its own push"
        case .adminUnusable(let name, let reason): "the admin token '\(Redaction.redact(name))' cannot be used: \(reason)"
        }
    }
}
