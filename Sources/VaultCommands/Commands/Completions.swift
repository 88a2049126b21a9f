import ArgumentParser
import Synchronization
import TokenVault
import VaultCLICommon

extension VaultCommand {
    struct Completions: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a shell completion script.",
            discussion: """
                The script completes subcommands, options and entry names. Names come from \
                the agent: after 'vault unlock' they are offered; while the vault is locked \
                none are, and nothing is asked. 'make install' installs a script for each \
                name it installs (vault, tokenvault).

                Examples:
                  vault completions bash > ~/.local/share/bash-completion/completions/vault
                  vault completions zsh > "${fpath[1]}/_vault"
                  vault completions fish > ~/.config/fish/completions/vault.fish
                  tokenvault completions bash \\
                      > ~/.local/share/bash-completion/completions/tokenvault
                """)

        @Argument(help: "bash, zsh or fish.")
        var shell: CompletionShell

        @Option(help: ArgumentHelp(
            "The command the script completes, and no other (default: the name this program was run as).",
            valueName: "name"))
        var name: String?

        func validate() throws {
            if let name, !Self.isCommandName(name) {
                throw ValidationError("'\(TerminalText.escape(name))' is not a command's name: use letters, digits and . _ + -")
            }
        }

        func run() throws {
            let name = name ?? Self.invokedName
            NamedCommand.name.withLock { $0 = name }
            let script = NamedCommand.completionScript(for: shell)
            try Output.out(script.hasSuffix("\n") ? script : script + "\n")
        }

        /// The last part of the path this program was run as (`vault`, `tokenvault`), if it can
        /// name a command in a script; else `vault`.
        static var invokedName: String {
            let last = CommandLine.arguments.first?.split(separator: "/").last.map(String.init) ?? ""
            return isCommandName(last) ? last : VaultCommand.configuration.commandName ?? "vault"
        }

        /// A name the scripts can hold unquoted (in function names and `complete` commands).
        static func isCommandName(_ name: String) -> Bool {
            !name.isEmpty && !name.hasPrefix("-") && name.utf8.count <= 64 && name.unicodeScalars.allSatisfy { s in
                switch s {
                case "a"..."z", "A"..."Z", "0"..."9", ".", "_", "+", "-": true
                default: false
                }
            }
        }
    }

    /// The command line under the name a completion script is written for: the scripts register
    /// that name alone, and their functions carry it (`_tokenvault`), so that scripts for two
    /// names live side by side.
    private struct NamedCommand: ParsableCommand {
        static let name = Mutex("vault")

        static var configuration: CommandConfiguration {
            var configuration = VaultCommand.configuration
            configuration.commandName = name.withLock { $0 }
            return configuration
        }
    }
}

extension CompletionShell: @retroactive ExpressibleByArgument {}
