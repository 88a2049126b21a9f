import ArgumentParser
import TokenVault
import TokenVaultGitLab
import VaultCLICommon

extension VaultCommand.GitLabCommand {
    struct Push: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a token into every GitLab CI/CD variable it is linked to.",
            discussion: """
                Through GitLab's project and group variables API, at the entry's host: a \
                missing variable is created, one holding an earlier token of the entry is \
                updated, one holding the token already is left alone. A variable holding \
                anything else was changed at GitLab: it is reported and not overwritten, \
                unless --force. One line per variable on stdout.

                The push authenticates with another entry's token (the api scope, the \
                Maintainer role; the same host): --admin-token ENTRY, or the host's default \
                ('\(ProgramName.current) config gitlab-admin.HOST ENTRY'). The pushed token authenticates \
                itself only with --self-auth.

                A variable not updated stays pending ('\(ProgramName.current) check' reports it) until a push \
                succeeds; the stored token never changes. Exit code 0: every variable holds \
                the token; 10: one or more do not.

                Examples:
                  \(ProgramName.current) gitlab push gitlab-ci
                  \(ProgramName.current) gitlab push gitlab-ci --admin-token gitlab-admin
                  \(ProgramName.current) gitlab push gitlab-ci --force
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var gitlab: GitLabOptions
        @OptionGroup var push: GitLabPushOptions

        @Argument(help: "The entry's name.")
        var name: String

        func run() throws {
            let vault = try global.unlockedVault()
            let access = try gitlab.access(vault: vault)
            let result = try withSuggestion(vault) { () throws -> GitLabPush in
                do throws(GitLabPushError) { return try vault.pushToGitLab(name, using: access, auth: push.auth, force: push.force) } catch {
                    throw error.cliError(name)
                }
            }
            let status = try GitLabLinkText.report(result, name: name)
            if status != .success { throw CLIError.exit(status) }
        }
    }
}
