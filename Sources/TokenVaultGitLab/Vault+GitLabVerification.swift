import TokenVault

/// What `Vault.verifyAtGitLab` found, and what it changed in the entry.
public struct GitLabVerification: Sendable {
    /// The token's state at GitLab.
    public enum State: Sendable, Equatable {
        /// GitLab accepts the token.
        case active
        /// GitLab revoked it (or refuses it, 401, before its expiry): the entry is marked revoked.
        case revoked
        /// It expired.
        case expired
    }

    /// What became of an unfinished rotation (the entry's mark), now cleared.
    public enum SettledRotation: Sendable, Equatable {
        /// GitLab no longer accepts the old token: the rotation happened, and its new token was
        /// lost (create a new token at GitLab).
        case happened(startedOn: Timestamp)
        /// GitLab still accepts the old token: the rotation did not happen.
        case didNotHappen(startedOn: Timestamp)
        /// The token expired, so whether the rotation happened no longer matters.
        case moot(startedOn: Timestamp)
    }

    /// The entry as it was before the verification.
    public var entry: Entry
    /// The token's state at GitLab.
    public var state: State
    /// What GitLab says of the token; nil when GitLab refused it (401).
    public var info: GitLab.TokenInfo?
    /// What changed in the entry, as recorded in the activity log ("scopes were read_api",
    /// "expiry was 2098-12-31", the unfinished rotation's fate); empty when GitLab answered and
    /// nothing differed.
    public var changes: [String]
    /// The unfinished rotation this verification settled, if the entry had one.
    public var settledRotation: SettledRotation?
    /// When GitLab was asked (just before the request was sent): GitLab counts the request
    /// as a use of the token (``GitLabActivity``).
    public var asked: Timestamp = .now()
    /// The admin entry whose token read the record (`GET /personal_access_tokens/:id`); nil:
    /// the token itself asked (`/self`), and GitLab counted that as its use.
    public var readBy: String?
}

/// Whose token reads a token's record at GitLab (`Vault.verifyAtGitLab`).
public enum GitLabRecordReader: Sendable, Equatable {
    /// The token itself (`GET /personal_access_tokens/self`): GitLab counts the request as a use.
    case tokenItself
    /// The admin token set for the entry's host (`VaultSettings.gitlabAdmin`), when one is set;
    /// else the token itself.
    case configured
    /// This entry's token (a GitLab token of the same host).
    case admin(String)
}

/// Why `Vault.verifyAtGitLab` could not find out. The entry is unchanged.
public enum GitLabVerificationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Reading or writing the vault failed.
    case vault(VaultError)
    /// The entry's token does not go to GitLab.
    case access(GitLabAccessError)
    /// GitLab could not be asked, or gave no usable answer.
    case gitlab(GitLabError)
    /// The admin token named to read the record cannot be used (another host, in the trash,
    /// revoked, expired, not a GitLab token): nothing was sent.
    case adminUnusable(name: String, reason: String)
    /// GitLab did not show the token's record to the admin token (401, 403 or 404: the admin
    /// token is refused, lacks a scope, or is neither the token owner's nor an instance
    /// administrator's). Nothing is known of the token, and nothing was marked.
    case recordNotShown(admin: String, GitLabError)

    /// One line for a person, without a token.
    public var description: String {
        switch self {
        case .vault(let error): error.description
        case .access(let error): error.description
        case .gitlab(let error): error.description
        case .adminUnusable(let name, let reason): "the admin token '\(Redaction.redact(name))' cannot read the record: \(reason)"
        case .recordNotShown(let admin, let error):
            "GitLab did not show the record to the admin token '\(Redaction.redact(admin))' (\(Self.status(error))); nothing was marked"
        }
    }

    private static func status(_ error: GitLabError) -> String {
        switch error {
        case .unauthorized: "401: GitLab refused the admin token, which is invalid, expired or revoked"
        case .forbidden(let message, _): "403" + (message.map { ": \($0)" } ?? "") + ": the admin token needs the api or read_api scope"
        case .notAvailable(let status, _): "\(status): no such token, or the admin token is neither its owner's nor an instance administrator's"
        default: error.description
        }
    }
}

extension Vault {
    /// Asks GitLab which token it accepts and brings the entry up to date: scopes, expiry,
    /// revoked or not, and the outcome of an unfinished rotation (its mark is cleared). The
    /// token is read for this purpose, which is not a use (LAST USED stays as it was).
    ///
    /// With `reader` naming an admin token (or `.configured` and the host has one), and GitLab's
    /// id of the token known (``Entry/gitlabToken``), the record is read by that id with the
    /// admin token (``GitLab/record(id:reader:)``): the token itself is not sent, so GitLab
    /// does not count the question as its use. The admin token's read is recorded as its use.
    /// A 401, 403 or 404 to the admin token is ``GitLabVerificationError/recordNotShown(admin:_:)``
    /// and marks nothing. Otherwise the token asks about itself (`/self`), and the vault notes
    /// GitLab's id of it and the time it asked. A token
    /// GitLab refuses (401) is marked revoked unless it has expired; a 401 without GitLab's
    /// answer (a proxy's, ``GitLabError/proxyUnauthorized(host:)``) marks nothing and is thrown;
    /// nothing is written when nothing differs.
    ///
    /// GitLab's answer is written only while the entry still holds the token it was about: when
    /// another process replaced the token meanwhile (a rotation, an edit), the new one is asked
    /// about instead.
    public func verifyAtGitLab(_ name: String, using access: GitLabAccess,
                               reader: GitLabRecordReader = .tokenItself) throws(GitLabVerificationError) -> GitLabVerification {
        for _ in 0..<4 {
            if let verification = try verifyOnce(name, using: access, reader: reader) { return verification }
        }
        throw .vault(.database("the token of '\(Redaction.redact(name))' kept changing while GitLab was asked about it; try again"))
    }

    /// One verification; nil when the entry's token was replaced before GitLab's answer was written.
    private func verifyOnce(_ name: String, using access: GitLabAccess,
                            reader: GitLabRecordReader) throws(GitLabVerificationError) -> GitLabVerification? {
        let entry: Entry
        do { entry = try self.entry(named: name) } catch { throw .vault(error) }
        let gitlab: GitLab
        do { gitlab = try access.gitlab(for: entry) } catch { throw .access(error) }
        // The host's admin token is wanted only for a token whose id is known: else the token
        // asks itself, whatever becomes of the configured one (one named is checked always).
        let admin = entry.gitlabToken == nil && reader == .configured ? nil : try recordReader(for: entry, reader)
        let token: Secret
        do { token = try secret(named: name, for: "read for gitlab verify") } catch { throw .vault(error) }
        let info: GitLab.TokenInfo
        let asked = Timestamp.now()
        var identity = entry.gitlabToken
        if let admin, let id = entry.gitlabToken?.id {
            let adminToken: Secret
            do { adminToken = try get(admin.name).secret } catch { throw .vault(error) }
            do { info = try gitlab.record(id: id, reader: adminToken) } catch {
                // The admin token's refusal says nothing of the token: nothing is marked.
                switch error {
                case .unauthorized, .forbidden, .notAvailable: throw .recordNotShown(admin: admin.name, error)
                default: throw .gitlab(error)
                }
            }
        } else {
            do { info = try gitlab.verify(token) } catch {
                if case .unauthorized = error { return try refused(entry, token: token, asked: asked) }
                throw .gitlab(error)
            }
            // GitLab's id of the token, and this request, which GitLab counted as a use (it
            // moves its record at most every 10 minutes: a later question is noted again). An
            // id GitLab never gives (0, negative) is not noted: tag 21 could not hold it.
            if let id = info.id, id > 0 {
                if identity?.id != id { identity = GitLabTokenIdentity(id: id) }
                if identity?.askedWithItself.map({ asked.secondsSince1970 - $0.secondsSince1970 > 600 }) ?? true {
                    identity?.askedWithItself = asked
                }
            }
        }

        var changes: [String] = []
        if info.scopes.sorted() != entry.scopes.sorted() {
            changes.append("scopes were \(entry.scopes.isEmpty ? "unknown" : entry.scopes.joined(separator: ","))")
        }
        if info.expires != entry.expires {
            changes.append("expiry was \(entry.expires?.dateString ?? "unknown")")
        }
        let dead = info.revoked || !info.active
        let expiredAtGitLab = !info.revoked && (info.expires.map { $0 <= .now() } ?? false)
        var settled: GitLabVerification.SettledRotation?
        if let started = entry.rotationStarted {
            settled = dead ? .happened(startedOn: started) : .didNotHappen(startedOn: started)
            changes.append(dead ? "the unfinished rotation happened: the token is revoked and its successor was lost"
                                : "the unfinished rotation did not happen: the token still works")
        }
        if dead != (entry.revoked != nil) || !changes.isEmpty || identity != entry.gitlabToken {
            let noted = identity?.id != entry.gitlabToken?.id ? ["GitLab's id of the token noted"] : []
            let detail = changes.isEmpty && noted.isEmpty ? nil : (changes + noted).joined(separator: "; ")
            let written = try recordIfHolding(name, token: token, action: "verify at GitLab", detail: detail,
                                              wrap: GitLabVerificationError.vault) { e in
                e.gitlabToken = identity
                e.scopes = info.scopes
                e.expires = info.expires
                e.rotationStarted = nil
                e.revoked = dead && !expiredAtGitLab ? (e.revoked ?? .now()) : nil
            }
            guard written != nil else { return nil }
        }
        let state: GitLabVerification.State = expiredAtGitLab ? .expired : dead ? .revoked : .active
        return GitLabVerification(entry: entry, state: state, info: info, changes: changes, settledRotation: settled, asked: asked,
                                  readBy: entry.gitlabToken != nil ? admin?.name : nil)
    }

    /// The admin entry that reads `entry`'s record, checked as a push's (same host, usable);
    /// nil: the token itself asks (so does the admin token about its own record).
    private func recordReader(for entry: Entry, _ reader: GitLabRecordReader) throws(GitLabVerificationError) -> Entry? {
        let auth: GitLabPushAuth
        switch reader {
        case .tokenItself: return nil
        case .configured: auth = .configured
        case .admin(let name): auth = .entry(name)
        }
        do { return try admin(for: entry, auth: auth) } catch {
            switch error {
            case .noAdmin, .adminIsSelf: return nil
            case .adminUnusable(let name, let reason): throw .adminUnusable(name: name, reason: reason)
            case .vault(let error): throw .vault(error)
            case .access(let error): throw .access(error)
            case .noLinks, .unusable: return nil
            }
        }
    }

    /// GitLab refuses the token (401): revoked, expired or never valid. It stays in the vault,
    /// marked revoked (an expired one is only reported).
    private func refused(_ entry: Entry, token: Secret, asked: Timestamp) throws(GitLabVerificationError) -> GitLabVerification? {
        if entry.isExpired() {
            var settled: GitLabVerification.SettledRotation?
            if let started = entry.rotationStarted {
                settled = .moot(startedOn: started)
                guard try recordIfHolding(entry.name, token: token, action: "verify at GitLab", detail: "refused (expired)",
                                          wrap: GitLabVerificationError.vault, { $0.rotationStarted = nil }) != nil else { return nil }
            }
            return GitLabVerification(entry: entry, state: .expired, info: nil, changes: [], settledRotation: settled, asked: asked)
        }
        var changes = ["refused (401): marked revoked"]
        let settled = entry.rotationStarted.map { GitLabVerification.SettledRotation.happened(startedOn: $0) }
        if settled != nil { changes.append("the unfinished rotation happened, and its new token was lost") }
        let written = try recordIfHolding(entry.name, token: token, action: "verify at GitLab", detail: changes.joined(separator: "; "),
                                          wrap: GitLabVerificationError.vault) { e in
            e.revoked = e.revoked ?? .now()
            e.rotationStarted = nil
        }
        guard written != nil else { return nil }
        return GitLabVerification(entry: entry, state: .revoked, info: nil, changes: changes, settledRotation: settled, asked: asked)
    }
}
