import ArgumentParser
import TokenVault
import VaultCLICommon
import VaultGitHelper

extension VaultCommand {
    struct GitCredentialCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "git-credential",
            abstract: "Act as git's credential helper (the same as git-credential-vault).",
            discussion: """
                Git reads tokens from the vault with one line of configuration:
                  git config --global credential.helper "$(command -v git-credential-vault)"
                or, for one host:
                  git config --global credential.https://gitlab.example.com.helper \\
                      "$(command -v git-credential-vault)"
                (`credential.helper vault` works too, but makes git start a second git each time.)

                When git reports a token as failing (a 401), the token is kept but marked \
                rejected: `\(ProgramName.current) restore NAME` brings it back. To delete instead, as git \
                credential-store does, configure the helper as "git-credential-vault --on-erase delete" (with its path).

                Examples:
                  printf 'protocol=https\\nhost=gitlab.com\\n\\n' | \(ProgramName.current) git-credential get
                  git config --global credential.helper '!\(ProgramName.current) git-credential --verbose'
                """)

        @Argument(parsing: .captureForPassthrough, help: "[--on-erase reject|delete] [--verbose] get|store|erase")
        var arguments: [String] = []

        func run() throws {
            let status = GitHelper.main(arguments: arguments)
            if status != 0 { throw CLIError.exit(ExitStatus(rawValue: status) ?? .other) }
        }
    }
}
