import ArgumentParser
import TokenVault
import TokenVaultGitLab
import VaultCLICommon

extension VaultCommand.GitLabCommand {
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ask GitLab about a token, and bring its entry up to date (scopes, expiry, revoked).",
            discussion: """
                One line per token. Exit code 0: every token is active; 4: one is revoked or \
                expired; 1: GitLab could not be asked about one.

                Examples:
                  vault gitlab verify gitlab-ci
                  vault gitlab verify --all --ca-file /etc/ssl/private-ca.pem
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var gitlab: GitLabOptions

        @Argument(help: "The entry's name.", completion: NameCompletion.names(.live))
        var name: String?

        @Flag(help: "Every GitLab entry not in the trash.")
        var all = false

        func validate() throws {
            if (name == nil) == !all { throw ValidationError("give an entry's name, or --all") }
        }

        func run() throws {
            let vault = try global.unlockedVault()
            let access = try gitlab.access()
            let names: [String]
            if let name {
                // Named, an entry in the trash too (a token revoked with 'vault gitlab revoke').
                names = [try withSuggestion(vault) { try vault.entry(named: name) }.name]
            } else {
                names = try vault.gitLabEntries().map(\.name)
                if names.isEmpty { Output.note("no GitLab entries (vault list --kind gitlab)") }
            }
            var worst = ExitStatus.success
            for name in names {
                let result = Verification(vault, name, access: access)
                switch result.state {
                case .active:
                    try Output.out(TerminalText.escape(result.report) + "\n")
                case .revoked, .expired:
                    try Output.out(TerminalText.escape(result.report) + "\n")
                    if worst == .success { worst = .expired }
                case .failed:
                    Output.error(result.report)
                    worst = .other
                }
            }
            if worst != .success { throw CLIError.exit(worst) }
        }
    }
}
