import TokenVault
import Glibc

/// A rotation at GitLab that finished: the new token is in the vault, the old one in the
/// entry's history (GitLab revoked it).
public struct GitLabRotation: Sendable {
    /// The entry as stored with its new token.
    public var entry: Entry
    /// What GitLab says of the new token (its scopes and expiry are the entry's now).
    public var info: GitLab.TokenInfo

    /// When the new token expires.
    public enum Expiry: Sendable, Equatable {
        /// On this day, which must be in the future.
        case on(Timestamp)
        /// After this long, in whole days: at least one, at most 365.
        case after(Duration)
        /// After the entry's rotation period (else the vault's), at most 365 days.
        case rotationPeriod
    }
}

extension Vault {
    /// Rotates the entry's token at GitLab and stores its successor, safely against every
    /// interruption:
    ///
    /// 1. The entry is marked as rotating (`Entry.rotationStarted`) in the vault before anything
    ///    is sent, in one check-and-set: a second rotation, here or in another process, finds
    ///    the mark and stops.
    /// 2. GitLab is asked about the token first; only a live token with the `api` or
    ///    `self_rotate` scope is rotated (rotating a revoked token revokes its successor).
    /// 3. The rotation is requested once, never retried, with ``StopSignals`` held: the new
    ///    token exists only in memory until it is stored. A stop signal already pending (held
    ///    by the caller since before) cancels it instead (``GitLabRotationError/stopped(name:)``).
    /// 4. The new token is stored the moment it arrives, in one transaction with its expiry and
    ///    scopes, the mark cleared; the old token stays in the entry's history. Its CI/CD
    ///    variable links are marked pending in the same transaction, until
    ///    ``pushToGitLab(_:using:auth:force:)`` writes the new token there.
    ///
    /// When no usable answer came although GitLab may have rotated, the vault keeps the old
    /// token and the mark (``GitLabRotationError/outcomeUnknown(_:)``); a later
    /// ``verifyAtGitLab(_:using:)`` asks GitLab which token it accepts and settles the entry.
    /// A process killed at any instant leaves the same truth: the new token stored, or the
    /// old one marked.
    public func rotateAtGitLab(_ name: String, using access: GitLabAccess,
                               expiry: GitLabRotation.Expiry = .rotationPeriod) throws(GitLabRotationError) -> GitLabRotation {
        let entry: Entry
        do { entry = try self.entry(named: name) } catch { throw .vault(error) }
        if entry.deleted != nil { throw .inTrash(name: name) }
        if let started = entry.rotationStarted { throw .unfinished(name: name, startedOn: started) }
        if entry.revoked != nil { throw .revoked(name: name) }
        let expires = try newExpiry(expiry, entry: entry)
        let gitlab: GitLab
        do { gitlab = try access.gitlab(for: entry) } catch { throw .access(error) }

        // Marked first, in one check-and-set. The token is read after the mark, so it is the
        // newest. From here, a process stopped at any instant leaves the truth in the vault.
        try recordChecked(name, action: "rotate at GitLab: asked", detail: "new expiry \(expires.dateString)", wrap: GitLabRotationError.vault) {
            (e: inout Entry) throws(GitLabRotationError) in
            guard e.rotationStarted == nil, e.revoked == nil else { throw .underWay(name: name) }
            e.rotationStarted = .now()
        }
        let token: Secret
        do { token = try secret(named: name, for: "read for gitlab rotate") } catch {
            try clearMark(name, "not done: \(error.description)")
            throw .vault(error)
        }

        // Only a live token is rotated: rotating a revoked one would revoke its successor
        // (which another machine may hold).
        let info: GitLab.TokenInfo
        do { info = try gitlab.verify(token) } catch {
            if case .unauthorized = error {
                try clearMark(name, "not done: GitLab refuses the token")
                throw .refused(name: name)
            }
            try clearMark(name, "not done: \(error.description)")
            throw .notChecked(error)
        }
        guard info.active && !info.revoked else {
            try clearMark(name, "not done: the token is no longer active")
            throw .inactive(name: name)
        }
        guard info.scopes.contains("api") || info.scopes.contains("self_rotate") else {
            try clearMark(name, "not done: no api or self_rotate scope")
            throw .missingScope(name: name, scopes: info.scopes)
        }

        return try StopSignals.held { () throws(GitLabRotationError) -> GitLabRotation in
            // A stop asked for while GitLab was asked about the token (held by a caller that
            // holds the whole call) cancels the rotation: it is not sent after it.
            if StopSignals.arePending {
                try clearMark(name, "not done: stopped before the request was sent")
                throw .stopped(name: name)
            }
            let rotated: GitLab.Rotated
            do throws(GitLabError) { rotated = try gitlab.rotate(token, expires: expires) } catch { try settle(name, failure: error) }
            return try store(name, rotated)
        }
    }

    /// The new token's expiry: what was asked, else the rotation period, at most 365 days.
    private func newExpiry(_ expiry: GitLabRotation.Expiry, entry: Entry) throws(GitLabRotationError) -> Timestamp {
        let period: Int64
        switch expiry {
        case .on(let date):
            guard date > .now() else { throw .expiryInPast(date) }
            return date
        case .after(let duration):
            period = duration.components.seconds
        case .rotationPeriod:
            if let own = entry.rotateEvery {
                period = own.components.seconds
            } else {
                do { period = try settings().rotateEvery.components.seconds } catch { throw .vault(error) }
            }
        }
        let days = Int(min(max(period / 86_400, 1), 365))
        return Timestamp(date: Timestamp.now().adding(days: days).dateString) ?? .now().adding(days: days)
    }

    private func clearMark(_ name: String, _ detail: String) throws(GitLabRotationError) {
        try record(name, action: "rotate at GitLab: not done", detail: detail, wrap: GitLabRotationError.vault) { $0.rotationStarted = nil }
    }

    /// Stores the new token at once. A busy vault is waited for (five tries); as a last
    /// resort the token comes back in the error, for the caller to show rather than lose.
    private func store(_ name: String, _ rotated: GitLab.Rotated) throws(GitLabRotationError) -> GitLabRotation {
        var lastError = VaultError.database("not stored")
        for attempt in 0..<5 {
            do throws(VaultError) {
                let entry = try record(name, secret: rotated.token, action: "rotate at GitLab",
                                       detail: "new token expires \(rotated.info.expires?.dateString ?? "?")", wrap: { $0 }) { e in
                    e.expires = rotated.info.expires
                    // GitLab's answer without scopes (a token always has some): they stay.
                    if !rotated.info.scopes.isEmpty { e.scopes = rotated.info.scopes }
                    e.rotationStarted = nil
                    e.revoked = nil
                    // GitLab's id of the new token: its record is read by it (an admin token's
                    // question), and the vault never sent the new token to GitLab.
                    e.gitlabToken = rotated.info.id.flatMap { $0 > 0 ? GitLabTokenIdentity(id: $0) : nil }
                    e.markLinksPending(because: "the token was rotated")
                }
                return GitLabRotation(entry: entry, info: rotated.info)
            } catch {
                lastError = error
                usleep(useconds_t(200_000 * (attempt + 1)))
            }
        }
        throw .notStored(name: name, newToken: rotated.token, info: rotated.info, cause: lastError)
    }

    /// Records what a failed rotation request tells: GitLab refused the token (marked
    /// revoked), may have acted (the mark stays, for verify), or did nothing (the mark goes).
    private func settle(_ name: String, failure error: GitLabError) throws(GitLabRotationError) -> Never {
        if case .unauthorized = error {
            // Revoked (or expired) since it was checked a moment ago. If it had been rotated
            // before, GitLab has now revoked its successor as well.
            try record(name, action: "rotate at GitLab: refused", detail: error.description, wrap: GitLabRotationError.vault) { e in
                e.rotationStarted = nil
                e.revoked = e.revoked ?? .now()
            }
            throw .refusedRotation(error)
        }
        if error.mayHaveActed {
            try record(name, action: "rotate at GitLab: outcome unknown", detail: error.description, wrap: GitLabRotationError.vault)
            throw .outcomeUnknown(error)
        }
        try clearMark(name, error.description)
        throw .notRotated(error)
    }
}
