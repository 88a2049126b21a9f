import ArgumentParser
import TokenVault
import TokenVaultOpenBao
import TokenVaultGitLab
import VaultCLICommon

extension VaultCommand.GitLabCommand {
    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a token at GitLab; its entry is marked revoked and moved to the trash.",
            discussion: """
                The token stops working everywhere at once. Asks for confirmation on a terminal; \
                without a terminal, --yes is required. The entry stays in the trash for the \
                vault's trash period ('\(ProgramName.current) rm --purge NAME' destroys it now).

                Examples:
                  \(ProgramName.current) gitlab revoke old-token
                  \(ProgramName.current) gitlab revoke old-token --yes
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var gitlab: GitLabOptions

        @Argument(help: "The entry's name.", completion: NameCompletion.names(.live))
        var name: String

        @Flag(name: [.short, .long], help: "Do not ask for confirmation.")
        var yes = false

        func run() throws {
            let vault = try global.unlockedVault()
            let access = try gitlab.access(vault: vault)
            if let remote = try RemoteAccess.resolve(name, in: vault) {
                if !yes { throw CLIError.usage("revoking a team's token: pass --yes") }
                try RemoteGitLab.revoke(remote.entries, remote.entry, name: name, access: access, vault: vault)
                return
            }
            let entry = try withSuggestion(vault) { try vault.entry(named: name) }
            let api: GitLab
            do { api = try access.gitlab(for: entry) } catch { throw error.cliError }
            if !yes {
                guard let answer = Terminal.confirm("Revoke '\(name)' at \(api.base)? It stops working everywhere.") else {
                    throw CLIError.usage("refusing to revoke '\(name)' without confirmation", hint: "pass --yes")
                }
                guard answer else {
                    Output.note("nothing revoked")
                    throw CLIError.exit(.other)
                }
            }
            do {
                try vault.revokeAtGitLab(name, using: access)
            } catch {
                switch error {
                case .vault(let error): throw error
                case .access(let error): throw error.cliError
                case .refused: throw CLIError.failed(error.description, hint: "\(ProgramName.current) gitlab verify \(name) marks it; \(ProgramName.current) rm \(name) moves it to the trash")
                case .failed(let cause): throw CLIError.failed(error.description, hint: cause.hint ?? "\(ProgramName.current) gitlab verify \(name)")
                case .replaced: throw CLIError.failed(error.description, hint: "\(ProgramName.current) gitlab revoke \(name) revokes the new token")
                }
            }
            let days = (try? vault.settings().trashRetention.wholeDays) ?? 30
            Output.note("revoked '\(name)' at GitLab; the entry is in the trash for \(days) days")
        }
    }
}
