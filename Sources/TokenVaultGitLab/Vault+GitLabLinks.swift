import TokenVault

/// Why a link, an unlink or an admin-token setting was refused. Nothing was written.
public enum GitLabLinkError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Reading or writing the vault failed (no such entry among them).
    case vault(VaultError)
    /// The entry is not a GitLab token: its token has no CI/CD variable to go to.
    case notGitLab(name: String, kind: TokenKind)
    /// The entry has no such link (`matching` links have the key at other scopes).
    case notLinked(name: String, variable: String, otherScopes: [String])
    /// The key is linked at several scopes and none was named.
    case ambiguous(name: String, variable: String, scopes: [String])
    /// The admin entry for `vault config gitlab-admin.HOST` is not a GitLab token of that host.
    case adminNotForHost(name: String, host: String)

    /// One line for a person; a name shaped like a token is redacted.
    public var description: String {
        switch self {
        case .vault(let error): error.description
        case .notGitLab(let name, let kind):
            "'\(Redaction.redact(name))' is not a GitLab token (its kind is \(kind.rawValue)): only a GitLab token goes into a CI/CD variable"
        case .notLinked(let name, let variable, let scopes):
            "'\(Redaction.redact(name))' has no link to \(variable)"
                + (scopes.isEmpty ? "" : " (it is linked at scope \(scopes.joined(separator: ", ")))")
        case .ambiguous(let name, let variable, let scopes):
            "'\(Redaction.redact(name))' links \(variable) at several scopes (\(scopes.joined(separator: ", "))): name one"
        case .adminNotForHost(let name, let host):
            "'\(Redaction.redact(name))' is not a GitLab token for \(host): an admin token goes only to its own host"
        }
    }
}

extension Vault {
    /// Records that the entry's token lives in `link`'s CI/CD variable too, so that `vault
    /// gitlab push` and `rotate` write it there. A link to the same variable (same owner, key
    /// and scope) is replaced, keeping what its pushes did; whether it replaced one comes back.
    /// A new link is pending (``GitLabVariableLink/notPushedYet``) until a push writes the token
    /// there, so that `vault check` reports a variable the vault has never written.
    @discardableResult
    public func linkGitLabVariable(_ name: String, _ link: GitLabVariableLink) throws(GitLabLinkError) -> Bool {
        do { try link.validate() } catch { throw .vault(error) }
        var replaced = false
        try recordChecked(name, action: "gitlab link", detail: link.description, wrap: GitLabLinkError.vault) {
            (e: inout Entry) throws(GitLabLinkError) in
            guard e.kind == .gitlab else { throw .notGitLab(name: name, kind: e.kind) }
            replaced = false
            var new = link
            if let at = e.gitlabLinks.firstIndex(where: { $0.isSameVariable(as: link) }) {
                let old = e.gitlabLinks[at]
                (new.pushed, new.pending, new.pendingReason) = (old.pushed, old.pending, old.pendingReason)
                e.gitlabLinks[at] = new
                replaced = true
            } else {
                (new.pushed, new.pending, new.pendingReason) = (nil, .now(), GitLabVariableLink.notPushedYet)
                e.gitlabLinks.append(new)
            }
        }
        return replaced
    }

    /// Forgets the link to `owner`'s variable `key` at `environmentScope` (nil: the only scope
    /// the key is linked at). The variable itself stays at GitLab as it is. The link removed
    /// comes back.
    @discardableResult
    public func unlinkGitLabVariable(_ name: String, owner: GitLabVariableLink.Owner, key: String,
                                     environmentScope: String?) throws(GitLabLinkError) -> GitLabVariableLink {
        var removed: GitLabVariableLink?
        let shown = GitLabVariableLink(owner: owner, key: key).description
        try recordChecked(name, action: "gitlab unlink", detail: shown + (environmentScope.map { " (scope \($0))" } ?? ""),
                          wrap: GitLabLinkError.vault) { (e: inout Entry) throws(GitLabLinkError) in
            let candidates = e.gitlabLinks.indices.filter { e.gitlabLinks[$0].owner == owner && e.gitlabLinks[$0].key == key }
            let scopes = candidates.map { e.gitlabLinks[$0].environmentScope }
            let chosen: Int
            if let environmentScope {
                guard let at = candidates.first(where: { e.gitlabLinks[$0].environmentScope == environmentScope }) else {
                    throw .notLinked(name: name, variable: shown, otherScopes: scopes)
                }
                chosen = at
            } else {
                guard !candidates.isEmpty else { throw .notLinked(name: name, variable: shown, otherScopes: []) }
                guard candidates.count == 1 else { throw .ambiguous(name: name, variable: shown, scopes: scopes) }
                chosen = candidates[0]
            }
            removed = e.gitlabLinks.remove(at: chosen)
        }
        guard let removed else { throw .vault(.database("the link was not removed")) }
        return removed
    }

    /// Makes `entry` the token `vault gitlab push` authenticates with at `host` by default (nil:
    /// no default there). The entry must be a GitLab token whose URL is at that host.
    public func setGitLabAdmin(host: String, entry name: String?) throws(GitLabLinkError) {
        let host = host.lowercased()
        if let name {
            let admin: Entry
            do { admin = try entry(named: name) } catch { throw .vault(error) }
            guard admin.kind == .gitlab, admin.url?.scheme == "https", admin.host == host else {
                throw .adminNotForHost(name: name, host: host)
            }
        }
        do {
            let before = try settings().gitlabAdmin[host]
            try updateSettings(detail: "gitlab-admin.\(host) \(before ?? "none") → \(name ?? "none")") { $0.gitlabAdmin[host] = name }
        } catch {
            throw .vault(error)
        }
    }
}
