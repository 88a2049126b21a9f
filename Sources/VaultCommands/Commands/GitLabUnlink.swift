import ArgumentParser
import TokenVault
import TokenVaultGitLab
import VaultCLICommon

extension VaultCommand.GitLabCommand {
    struct Unlink: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Forget that a token lives in a GitLab CI/CD variable.",
            discussion: """
                Only the vault's link goes: the variable stays at GitLab as it is. A key \
                linked at several environment scopes needs --environment-scope.

                Examples:
                  \(ProgramName.current) gitlab unlink gitlab-ci --project team/app --variable DEPLOY_TOKEN
                  \(ProgramName.current) gitlab unlink gitlab-ci --group team --variable TOKEN \\
                      --environment-scope production
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The entry's name.")
        var name: String

        @OptionGroup var variable: GitLabVariableOptions

        @Option(name: .customLong("environment-scope"), help: ArgumentHelp(
            "The scope of the link to forget (default: the only one).", valueName: "scope"))
        var environmentScope: String?

        func run() throws {
            let vault = try global.unlockedVault()
            let removed = try withSuggestion(vault) { () throws -> GitLabVariableLink in
                do throws(GitLabLinkError) {
                    return try vault.unlinkGitLabVariable(name, owner: variable.owner, key: variable.variable,
                                                          environmentScope: environmentScope)
                } catch {
                    throw error.cliError
                }
            }
            Output.note("unlinked '\(name)' from \(removed.description); the variable stays at GitLab")
        }
    }
}
