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
                the agent: after '\(ProgramName.current) unlock' they are offered; while the vault is locked \
                none are, and nothing is asked. 'make install' installs a script for each \
                name it installs (vault, tokenvault); --name writes one for the other name.

                Examples:
                  \(ProgramName.current) completions bash \\
                      > ~/.local/share/bash-completion/completions/\(ProgramName.current)
                  \(ProgramName.current) completions zsh > "${fpath[1]}/_\(ProgramName.current)"
                  \(ProgramName.current) completions fish > ~/.config/fish/completions/\(ProgramName.current).fish
                """)

        @Argument(help: "bash, zsh or fish.")
        var shell: CompletionShell

        @Option(help: ArgumentHelp(
            "The command the script completes, and no other (default: the name this program was run as, vault or tokenvault).",
            valueName: "name"))
        var name: String?

        func validate() throws {
            if let name, !Self.isCommandName(name) {
                throw ValidationError("'\(TerminalText.escape(name))' is not a command's name: use letters, digits and . _ + -")
            }
        }

        func run() throws {
            let name = name ?? ProgramName.current
            NamedCommand.name.withLock { $0 = name }
            let script = NamedCommand.completionScript(for: shell)
            try Output.out(script.hasSuffix("\n") ? script : script + "\n")
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
