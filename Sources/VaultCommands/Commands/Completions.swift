import ArgumentParser
import VaultCLICommon

extension VaultCommand {
    struct Completions: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a shell completion script.",
            discussion: """
                Examples:
                  vault completions bash > ~/.local/share/bash-completion/completions/vault
                  vault completions zsh > "${fpath[1]}/_vault"
                  vault completions fish > ~/.config/fish/completions/vault.fish
                """)

        @Argument(help: "bash, zsh or fish.")
        var shell: CompletionShell

        func run() throws {
            try Output.out(VaultCommand.completionScript(for: shell))
        }
    }
}

extension CompletionShell: @retroactive ExpressibleByArgument {}
