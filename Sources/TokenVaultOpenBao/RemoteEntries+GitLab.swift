import TokenVault
import TokenVaultGitLab

/// GitLab's API on a remote entry's token: verify, rotate (the new token written to OpenBao as
/// a new KV version the moment it arrives, the old one staying as the previous version) and
/// revoke (the entry marked revoked, a new version).
extension RemoteEntries {
    /// The new token of a rotation that could not be written to OpenBao: the caller must keep
    /// it (GitLab has revoked the old one). `cause` says why.
    public struct UnstoredRotation: Error, Sendable {
        /// The new token.
        public var token: Secret
        /// What GitLab says of it.
        public var info: GitLab.TokenInfo
        /// Why OpenBao did not take it.
        public var cause: OpenBaoError
    }

    /// What GitLab says of `entry`'s token (an expired or revoked one is asked about too).
    public func verifyAtGitLab(_ entry: String, using access: GitLabAccess) throws -> (entry: Entry, info: GitLab.TokenInfo) {
        let (read, secret) = try get(entry, allowingExpired: true)
        return (read, try access.gitlab(for: read).verify(secret))
    }

    /// Rotates `entry`'s token at GitLab (`expires`: the new one's expiry, nil for GitLab's
    /// default) and writes the new token at once, over the version read. A teammate's write in
    /// between (a check-and-set that wrote nothing) is merged: the new token goes over the
    /// latest version. Any other failure to write throws ``UnstoredRotation`` with the token.
    public func rotateAtGitLab(_ entry: String, using access: GitLabAccess, expires: Timestamp?) throws -> GitLab.TokenInfo {
        try RemoteSettings.validate(entry: entry)
        try ready()
        let read = try client.read(entry)
        if let refusal = read.entry.readRefusal(allowingExpired: false) { throw refusal }
        let rotated = try access.gitlab(for: read.entry).rotate(read.secret, expires: expires)
        func renewed(_ entry: Entry) -> Entry {
            var entry = entry
            entry.setRemoteTimes(created: entry.created, updated: .now(), tokenSince: .now())
            entry.expires = rotated.info.expires ?? entry.expires
            entry.revoked = nil
            return entry
        }
        do {
            try client.write(entry, entry: renewed(read.entry), secret: rotated.token, cas: read.version)
        } catch .changedMeanwhile {
            // Nothing was written (check-and-set): once more over the latest version.
            do {
                let latest = try client.read(entry)
                try client.write(entry, entry: renewed(latest.entry), secret: rotated.token, cas: latest.version)
            } catch {
                throw UnstoredRotation(token: rotated.token, info: rotated.info, cause: error)
            }
        } catch {
            throw UnstoredRotation(token: rotated.token, info: rotated.info, cause: error)
        }
        return rotated.info
    }

    /// Revokes `entry`'s token at GitLab, then marks the entry revoked (a new version).
    public func revokeAtGitLab(_ entry: String, using access: GitLabAccess) throws {
        let (read, secret) = try get(entry, allowingExpired: true)
        try access.gitlab(for: read).revoke(secret)
        try update(entry) { $0.revoked = .now() }
    }
}
