import TokenVault
import TokenVaultGitLab
import TokenVaultOpenBao
import VaultCLICommon

/// git's `get` answered from OpenBao: when no local entry matches, the entries of each remote
/// are matched by the same rules (their URL and user name, expiry, revocation), and the chosen
/// one's token is read. Nothing from OpenBao is written anywhere; an unreachable, sealed or
/// refusing OpenBao answers nothing (git moves on), within ``remoteDeadline`` seconds.
extension GitHelper {
    /// What reaches OpenBao, set by the program's main when it links an HTTP stack; nil: remote
    /// entries are not served.
    nonisolated(unsafe) package static var openBao: (any HTTPTransport)?

    /// Seconds for one exchange with OpenBao while git waits.
    static let remoteTimeout = 3
    /// Seconds for all of the remotes' exchanges while git waits: however many entries they
    /// hold and however slowly they answer, git hears nothing after this and moves on.
    static let remoteDeadline = 6

    /// The reply from the remotes' entries for git's `description`, or nil.
    static func remoteReply(_ description: Secret, vault: Vault, now: Timestamp = .now()) -> GitReply? {
        guard let transport = openBao, let remotes = try? vault.remotes(), !remotes.isEmpty,
              let request = try? description.withUnsafeBytes({ bytes throws(GitCredential.ParseError) in try GitCredential.parse(bytes) }),
              request.protocolName != nil, request.host != nil else { return nil }
        let deadline = ContinuousClock.now + .seconds(remoteDeadline)
        for remote in remotes {
            let entries = RemoteEntries(remote: remote, transport: transport, timeout: remoteTimeout)
            entries.client.deadline = deadline
            do {
                let listed = try entries.list("", limit: 500).entries.filter { $0.deleted == nil && $0.revoked == nil }
                let selection = GitMatching.select(for: request, in: listed, now: now)
                guard let chosen = selection.chosen, let (_, name) = RemoteSettings.split(chosen.name) else { continue }
                let (_, secret) = try entries.get(name)
                return GitReply(request: request, selection: selection, secret: GitSecrets(token: secret), now: now)
            } catch {
                Log.verbose("remote '\(remote.name)': \(error)")
            }
        }
        return nil
    }
}
