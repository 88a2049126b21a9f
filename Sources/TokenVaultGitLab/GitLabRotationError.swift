import TokenVault

/// Why `Vault.rotateAtGitLab` did not store a new token, and what the vault holds since. Only
/// ``outcomeUnknown(_:)`` and ``notStored(name:newToken:info:cause:)`` follow a request that
/// may have rotated the token.
public enum GitLabRotationError: Error, Sendable, CustomStringConvertible {
    /// Reading or writing the vault failed. Before the rotation request, nothing was sent;
    /// after it, the entry keeps its mark for `verifyAtGitLab`.
    case vault(VaultError)
    /// The entry's token does not go to GitLab (not a GitLab token, no URL, not https).
    case access(GitLabAccessError)
    /// The entry is in the trash.
    case inTrash(name: String)
    /// An earlier rotation did not finish: the old token may be revoked already, and rotating
    /// it again could revoke its successor. `verifyAtGitLab` settles it.
    case unfinished(name: String, startedOn: Timestamp)
    /// The entry is marked revoked: a revoked token cannot be rotated.
    case revoked(name: String)
    /// The expiry asked for is not in the future.
    case expiryInPast(Timestamp)
    /// Another rotation of the entry marked it first (now, or without finishing).
    case underWay(name: String)
    /// GitLab refused the token when asked about it (401): nothing was rotated.
    case refused(name: String)
    /// GitLab could not be asked about the token: nothing was rotated.
    case notChecked(GitLabError)
    /// GitLab says the token is no longer active: nothing was rotated.
    case inactive(name: String)
    /// The token has neither the `api` nor the `self_rotate` scope (it has `scopes`): nothing
    /// was sent to rotate it.
    case missingScope(name: String, scopes: [String])
    /// A stop signal (SIGINT, SIGTERM, SIGHUP, SIGQUIT) arrived before the rotation request was
    /// sent, held by the caller: nothing was sent, and the mark is cleared.
    case stopped(name: String)
    /// GitLab refused the rotation (401): the token is revoked, and the entry marked so.
    case refusedRotation(GitLabError)
    /// No usable answer came, and GitLab may have rotated: the old token may be revoked and
    /// the new one never arrived. The vault keeps the old token and the mark; nothing retries.
    case outcomeUnknown(GitLabError)
    /// GitLab did not rotate: the old token still works, and the mark is cleared.
    case notRotated(GitLabError)
    /// GitLab rotated, but the vault could not store the new token: it is in `newToken` (the
    /// old one is revoked), for the caller to show rather than lose.
    case notStored(name: String, newToken: Secret, info: GitLab.TokenInfo, cause: VaultError)

    /// One line for a person, without a token; a name shaped like a token is redacted.
    public var description: String {
        switch self {
        case .vault(let error): error.description
        case .access(let error): error.description
        case .inTrash(let name): VaultError.inTrash(name: name).description
        case .unfinished(let name, let started):
            "a rotation of '\(Redaction.redact(name))' started on \(started.iso8601) did not finish: the old token may be revoked already"
        case .revoked(let name): "'\(Redaction.redact(name))' is revoked at GitLab: a revoked token cannot be rotated"
        case .expiryInPast(let date): "the new token's expiry (\(date.dateString)) is in the past"
        case .underWay(let name): "another rotation of '\(Redaction.redact(name))' is under way or did not finish"
        case .refused: "GitLab refuses the token (401: revoked, expired or invalid): not rotating it"
        case .notChecked(let error): "\(error.description): nothing was rotated, the old token is unchanged"
        case .inactive: "GitLab says the token is no longer active: not rotating it"
        case .missingScope(_, let scopes):
            "the token has neither the api nor the self_rotate scope, which GitLab requires to rotate a token by itself (it has: \(scopes.joined(separator: ",")))"
        case .stopped(let name): "stopped before '\(Redaction.redact(name))' was rotated: nothing was sent, the old token is unchanged"
        case .refusedRotation(let error): "\(error.description) when asked to rotate it: the token is revoked"
        case .outcomeUnknown(let error):
            "\(error.description). GitLab may have rotated the token: the old one may already be revoked, and the new one never reached the vault"
        case .notRotated(let error): "\(error.description): the token was not rotated, and the old one still works"
        case .notStored(let name, _, _, let cause):
            "GitLab rotated '\(Redaction.redact(name))', but the vault could not store the new token (\(cause.description))"
        }
    }
}
