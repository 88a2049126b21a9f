import TokenVault
import TokenVaultGitLab
import TokenVaultOpenBao
import VaultCLICommon

/// `vault gitlab verify|rotate|revoke REMOTE/ENTRY`: GitLab's API on a token kept in OpenBao.
enum RemoteGitLab {
    static func verify(_ entries: RemoteEntries, _ entry: String, name: String, access: GitLabAccess) throws {
        let (read, info) = try gitLab(name) { try entries.verifyAtGitLab(entry, using: access) }
        let expiry = info.expires.map { "expires \($0.dateString)" } ?? "no expiry"
        let state = info.revoked ? "revoked" : info.active ? "active" : "inactive"
        try Output.out(TerminalText.escape("\(read.name): \(state) at GitLab, \(expiry), scopes \(info.scopes.joined(separator: ","))") + "\n")
        if !info.active { throw CLIError.exit(.expired) }
    }

    /// Rotates; a new token OpenBao did not take is kept in the local vault (never printed), so
    /// that GitLab's revocation of the old one loses nothing.
    static func rotate(_ entries: RemoteEntries, _ entry: String, name: String, access: GitLabAccess, expires: Timestamp?,
                       vault: Vault) throws {
        do {
            let info = try gitLab(name) { try entries.rotateAtGitLab(entry, using: access, expires: expires) }
            vault.forgetRemoteEntry(name)
            Output.note("rotated '\(name)' at GitLab: the new token expires on \(info.expires?.dateString ?? "?"); OpenBao keeps the old one as the previous version ('\(ProgramName.current) history \(name)')")
        } catch let unstored as RemoteEntries.UnstoredRotation {
            let rescue = "rotated-" + entry.replacingSlashes()
            var saved = Entry(name: rescue, kind: .gitlab, expires: unstored.info.expires)
            saved.notes = "the rotated token of \(name), which OpenBao did not take"
            try vault.add(saved, secret: unstored.token)
            Output.error("rotated '\(name)' at GitLab, but OpenBao did not take the new token: \(unstored.cause)")
            Output.hint("it is kept in this vault as '\(rescue)': \(ProgramName.current) get \(rescue) | \(ProgramName.current) edit \(name) --secret")
            throw CLIError.exit(RemoteAccess.status(for: unstored.cause))
        }
    }

    static func revoke(_ entries: RemoteEntries, _ entry: String, name: String, access: GitLabAccess, vault: Vault) throws {
        try gitLab(name) { try entries.revokeAtGitLab(entry, using: access) }
        vault.forgetRemoteEntry(name)
        Output.note("revoked '\(name)' at GitLab; OpenBao marks it revoked")
    }

    /// GitLab's failures as the CLI reports them.
    private static func gitLab<R>(_ name: String, _ body: () throws -> R) throws -> R {
        do {
            return try body()
        } catch let error as GitLabAccessError {
            throw error.cliError
        } catch let error as GitLabError {
            throw CLIError.failed("\(name): \(error)")
        }
    }
}

private extension String {
    func replacingSlashes() -> String { String(map { $0 == "/" ? "-" : $0 }) }
}
