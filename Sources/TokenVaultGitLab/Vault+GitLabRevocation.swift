import TokenVault

/// Why `Vault.revokeAtGitLab` did not revoke the token.
public enum GitLabRevocationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Reading or writing the vault failed.
    case vault(VaultError)
    /// The entry's token does not go to GitLab: nothing was sent.
    case access(GitLabAccessError)
    /// GitLab refuses the token (401): it is already revoked, expired or invalid. Nothing changed.
    case refused
    /// GitLab did not answer that it revoked the token. When ``GitLabError/mayHaveActed`` it
    /// may have (the entry's log says the outcome is unknown); otherwise it did not.
    case failed(GitLabError)
    /// GitLab revoked the token, but another process had replaced the entry's token meanwhile
    /// (a rotation, an edit): the entry, holding the new token, was neither marked revoked nor
    /// trashed. The revoked token is in the entry's history.
    case replaced(name: String)

    /// One line for a person, without a token.
    public var description: String {
        switch self {
        case .vault(let error): error.description
        case .access(let error): error.description
        case .refused: "GitLab refuses the token (401): it is already revoked, expired or invalid; nothing changed"
        case .failed(let error):
            "\(error.description): " + (error.mayHaveActed ? "the token may be revoked already" : "the token was not revoked")
        case .replaced(let name):
            "GitLab revoked the token, but the token of '\(Redaction.redact(name))' was replaced meanwhile: the new one was not revoked, and the entry stays"
        }
    }
}

extension Vault {
    /// Revokes the entry's token at GitLab: it stops working everywhere at once. The entry is
    /// then marked revoked and moved to the trash (one transaction), and returned as stored.
    /// The token is read for this purpose, which is not a use. When another process replaced
    /// the entry's token while GitLab revoked the old one, the entry is left as it is (with an
    /// event in its log) and ``GitLabRevocationError/replaced(name:)`` is thrown.
    @discardableResult
    public func revokeAtGitLab(_ name: String, using access: GitLabAccess) throws(GitLabRevocationError) -> Entry {
        let entry: Entry
        do { entry = try self.entry(named: name) } catch { throw .vault(error) }
        let gitlab: GitLab
        do { gitlab = try access.gitlab(for: entry) } catch { throw .access(error) }
        let token: Secret
        do { token = try secret(named: name, for: "read for gitlab revoke") } catch { throw .vault(error) }
        do { try gitlab.revoke(token) } catch {
            if case .unauthorized = error { throw .refused }
            if error.mayHaveActed {
                try record(name, action: "revoke at GitLab: outcome unknown", detail: error.description, wrap: GitLabRevocationError.vault)
            }
            throw .failed(error)
        }
        let now = Timestamp.now()
        let stored = try recordIfHolding(name, token: token, action: "revoke at GitLab", detail: nil,
                                         wrap: GitLabRevocationError.vault) { e in
            e.revoked = now
            e.deleted = e.deleted ?? now
        }
        guard let stored else {
            try record(name, action: "revoke at GitLab", detail: "the token revoked had been replaced meanwhile; the current one was not revoked",
                       wrap: GitLabRevocationError.vault)
            throw .replaced(name: name)
        }
        return stored
    }
}
