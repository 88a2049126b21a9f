import TokenVault

extension Vault {
    /// The admin entry `auth` names for the entry `name` (nil: the entry itself, `selfAuth`),
    /// checked as ``pushToGitLab(_:using:auth:force:)`` checks it, without reading any token:
    /// for a caller that must know before it acts (a rotation that will push).
    public func gitLabAdmin(for name: String, auth: GitLabPushAuth) throws(GitLabPushError) -> String? {
        let entry: Entry
        do { entry = try self.entry(named: name) } catch { throw .vault(error) }
        return try admin(for: entry, auth: auth)?.name
    }

    /// Writes the entry's current token into every CI/CD variable it is linked to
    /// (``GitLabVariableLink``), through GitLab's variables API at the entry's host,
    /// authenticated by `auth`'s token (never the pushed one, unless `selfAuth`).
    ///
    /// Each variable is read first: one that does not exist is created (masked, and hidden
    /// when the link asks); one that holds the current token is left alone; one that holds one
    /// of the entry's earlier tokens (its history) is updated; one that holds anything else was
    /// changed at GitLab and is reported, not overwritten, unless `force`. A hidden variable
    /// cannot be read: it is updated only when the vault pushed to it before (or `force`).
    ///
    /// The results are recorded in one transaction: a variable that now holds the token has its
    /// link's pending mark cleared; any other link is marked pending (`vault check` reports
    /// it). The stored token is never changed. Reading the token for this is not a use; the
    /// admin token's read is.
    public func pushToGitLab(_ name: String, using access: GitLabAccess, auth: GitLabPushAuth = .configured,
                             force: Bool = false) throws(GitLabPushError) -> GitLabPush {
        let entry: Entry
        do { entry = try self.entry(named: name) } catch { throw .vault(error) }
        if entry.gitlabLinks.isEmpty { throw .noLinks(name: name) }
        if entry.deleted != nil { throw .unusable(name: name, reason: "it is in the trash") }
        if entry.revoked != nil { throw .unusable(name: name, reason: "it is revoked at GitLab") }
        if entry.rotationStarted != nil {
            throw .unusable(name: name, reason: "a rotation did not finish, so the token may be revoked ('\(ProgramName.current) gitlab verify')")
        }
        if entry.isExpired() { throw .unusable(name: name, reason: "it has expired") }
        let gitlab: GitLab
        do { gitlab = try access.gitlab(for: entry) } catch { throw .access(error) }
        let adminEntry = try admin(for: entry, auth: auth)

        let token: Secret
        var adminToken: Secret
        do throws(VaultError) {
            token = try secret(named: name, for: "read for gitlab push")
            adminToken = token
            if let adminEntry { adminToken = try get(adminEntry.name).secret }
        } catch {
            throw .vault(error)
        }

        // Marked first: a process stopped during the push leaves every link it did not finish
        // pending, for `vault check` to report and the next push to retry.
        try record(name, action: "push to GitLab: started", detail: "\(entry.gitlabLinks.count) variables", wrap: GitLabPushError.vault) {
            $0.markLinksPending(because: "a push started and did not finish")
        }
        var history: [SecretVersion]?
        var results: [GitLabPush.Result] = []
        for link in entry.gitlabLinks {
            let outcome: GitLabPush.Outcome
            do throws(VaultError) {
                outcome = try push(token, to: link, at: gitlab, admin: adminToken, force: force) { () throws(VaultError) in
                    if history == nil { history = try self.history(of: name) }
                    return history ?? []
                }
            } catch {
                throw .vault(error)
            }
            results.append(GitLabPush.Result(link: link, outcome: outcome))
        }
        return try record(name, results, token: token, selfAuth: adminEntry == nil)
    }

    /// One variable: read, then created, updated or left alone.
    private func push(_ token: Secret, to link: GitLabVariableLink, at gitlab: GitLab, admin: Secret, force: Bool,
                      history: () throws(VaultError) -> [SecretVersion]) throws(VaultError) -> GitLabPush.Outcome {
        let found: GitLab.Variable?
        do { found = try gitlab.variable(link, admin: admin) } catch { return .failed(error) }
        guard let current = found else {
            do { return .created(hidden: try gitlab.createVariable(link, value: token, admin: admin)) } catch { return .failed(error) }
        }
        let ours: Bool
        switch current.content {
        case .value(let value):
            if value.isEqual(to: token) { return .alreadyCurrent }
            ours = try history().contains { $0.secret.isEqual(to: value) }
            if !ours && !force { return .changedAtGitLab }
        case .foreign:
            ours = false
            if !force { return .changedAtGitLab }
        case .hidden:
            // Hidden: GitLab never shows the value again. The vault's own earlier push is the
            // only sign that the variable is the vault's to write.
            ours = link.pushed != nil
            if !ours && !force { return .unreadable }
        }
        do { try gitlab.updateVariable(link, value: token, admin: admin, hidden: current.hidden) } catch { return .failed(error) }
        return ours ? .updated : .overwritten
    }

    /// Writes what the push did into the links, while the entry still holds the pushed token;
    /// if another process replaced it meanwhile, every link waits for the new one.
    private func record(_ name: String, _ results: [GitLabPush.Result], token: Secret, selfAuth: Bool) throws(GitLabPushError) -> GitLabPush {
        let now = Timestamp.now()
        func apply(_ e: inout Entry, replaced: Bool) {
            // The token authenticated its own push: GitLab counted a use (GitLabActivity).
            if selfAuth && !replaced { e.gitlabToken?.askedWithItself = now }
            for i in e.gitlabLinks.indices {
                guard let result = results.first(where: { $0.link.isSameVariable(as: e.gitlabLinks[i]) }) else { continue }
                if result.outcome.succeeded && !replaced {
                    (e.gitlabLinks[i].pushed, e.gitlabLinks[i].pending, e.gitlabLinks[i].pendingReason) = (now, nil, nil)
                } else {
                    e.gitlabLinks[i].pending = e.gitlabLinks[i].pending ?? now
                    e.gitlabLinks[i].pendingReason = replaced ? "the token changed while it was pushed" : String(result.outcome.description.prefix(300))
                }
            }
        }
        let done = results.filter(\.outcome.succeeded).count
        let detail = "\(done) of \(results.count) variables hold the token"
        let entry: Entry
        if let held = try recordIfHolding(name, token: token, action: "push to GitLab", detail: detail, wrap: GitLabPushError.vault,
                                          { apply(&$0, replaced: false) }) {
            entry = held
        } else {
            entry = try record(name, action: "push to GitLab", detail: "the token changed while it was pushed", wrap: GitLabPushError.vault) {
                apply(&$0, replaced: true)
            }
        }
        let links = entry.gitlabLinks
        let stored = results.map { result in
            GitLabPush.Result(link: links.first { $0.isSameVariable(as: result.link) } ?? result.link, outcome: result.outcome)
        }
        return GitLabPush(entry: entry, results: stored)
    }

    /// The admin entry `auth` names for `entry` (nil for `selfAuth`), checked: a GitLab token,
    /// at the entry's host over HTTPS, neither in the trash, revoked nor expired, and not the
    /// entry itself.
    func admin(for entry: Entry, auth: GitLabPushAuth) throws(GitLabPushError) -> Entry? {
        let host = entry.host ?? "?"
        let name: String
        switch auth {
        case .selfAuth: return nil
        case .entry(let given): name = given
        case .configured:
            let configured: String?
            do { configured = try settings().gitlabAdmin[host] } catch { throw .vault(error) }
            guard let configured else { throw .noAdmin(host: host) }
            name = configured
        }
        guard name != entry.name else { throw .adminIsSelf(name: name) }
        let admin: Entry
        do { admin = try self.entry(named: name) } catch { throw .vault(error) }
        let reason: String? =
            if admin.kind != .gitlab { "it is not a GitLab token" }
            else if admin.url?.scheme != "https" || admin.host != entry.host { "its URL is not at \(host) (an admin token goes only to its own host)" }
            else if admin.deleted != nil { "it is in the trash" }
            else if admin.revoked != nil { "it is revoked at GitLab" }
            else if admin.isExpired() { "it has expired" }
            else { nil }
        if let reason { throw .adminUnusable(name: name, reason: reason) }
        return admin
    }
}

extension Entry {
    /// Marks every link not pending yet as waiting for the current token since now.
    mutating func markLinksPending(because reason: String) {
        let now = Timestamp.now()
        for i in gitlabLinks.indices where gitlabLinks[i].pending == nil {
            (gitlabLinks[i].pending, gitlabLinks[i].pendingReason) = (now, reason)
        }
    }
}
