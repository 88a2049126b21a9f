import ArgumentParser
import TokenVault
import TokenVaultOpenBao
import TokenVaultGitLab
import VaultCLICommon

extension VaultCommand.GitLabCommand {
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ask GitLab about a token, and bring its entry up to date (scopes, expiry, revoked).",
            discussion: """
                One line per token, then GitLab's record of its use (last_used_at, and \
                last_used_ips where GitLab gives them) beside the vault's own last read. A \
                token asking about itself is a use GitLab counts; with an admin token for the \
                host (--admin-token, or '\(ProgramName.current) config gitlab-admin.HOST ENTRY') the \
                record is read by the token's GitLab id (noted at the first verify, and at \
                rotate) and the token itself is not sent. Exit code 0: every token is active; \
                4: one is revoked or expired; 1: GitLab could not be asked about one (also a \
                401 without GitLab's answer, from a proxy, or GitLab not showing the record to \
                the admin token: nothing is marked).

                For a GitLab installed under a path, the entry's URL names it \
                (https://host/gitlab), or --api-url or '\(ProgramName.current) config gitlab-api-url.HOST' does.

                Examples:
                  \(ProgramName.current) gitlab verify gitlab-ci
                  \(ProgramName.current) gitlab verify --all --ca-file /etc/ssl/private-ca.pem
                  \(ProgramName.current) gitlab verify ci --admin-token gitlab-admin
                  \(ProgramName.current) gitlab verify ci --api-url https://git.example.com/gitlab/api/v4
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var gitlab: GitLabOptions
        @OptionGroup var record: GitLabRecordOptions

        @Argument(help: "The entry's name.", completion: NameCompletion.names(.live))
        var name: String?

        @Flag(help: "Every GitLab entry not in the trash.")
        var all = false

        func validate() throws {
            if (name == nil) == !all { throw ValidationError("give an entry's name, or --all") }
        }

        func run() throws {
            let vault = try global.unlockedVault()
            let access = try gitlab.access(vault: vault)
            if let name, let remote = try RemoteAccess.resolve(name, in: vault) {
                try RemoteGitLab.verify(remote.entries, remote.entry, name: name, access: access)
                return
            }
            let names: [String]
            if let name {
                // Named, an entry in the trash too (a token revoked with 'vault gitlab revoke').
                let entry = try withSuggestion(vault) { try vault.entry(named: name) }
                // --api-url on another host is a mistake on the command line, as for rotate.
                do { _ = try access.gitlab(for: entry) } catch {
                    if case .apiURLOnOtherHost = error { throw error.cliError }
                }
                names = [entry.name]
            } else {
                names = try vault.gitLabEntries().map(\.name)
                if names.isEmpty { Output.note("no GitLab entries (\(ProgramName.current) list --kind gitlab)") }
            }
            let readers = try record.readers(vault, named: name != nil)
            var worst = ExitStatus.success
            for name in names {
                let reader = (try? vault.entry(named: name)).map(readers) ?? .configured
                let result = Verification(vault, name, access: access, reader: reader)
                switch result.state {
                case .active, .revoked, .expired:
                    try Output.out(TerminalText.escape(result.report) + "\n")
                    if let line = result.activityLine { try Output.out(TerminalText.escape(line) + "\n") }
                    if result.state != .active && worst == .success { worst = .expired }
                case .failed:
                    Output.error(result.report)
                    if let hint = result.hint { Output.hint(hint) }
                    worst = .other
                }
            }
            if worst != .success { throw CLIError.exit(worst) }
        }
    }
}
