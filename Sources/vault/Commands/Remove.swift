import ArgumentParser
import TokenVault
import VaultSupport

extension VaultCommand {
    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm",
            abstract: "Remove an entry and its token.",
            discussion: """
                Asks for confirmation on a terminal; without a terminal, --yes is required.

                Examples:
                  vault rm old-ci-token
                  vault rm old-ci-token --yes
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The entry's name.")
        var name: String

        @Flag(name: [.short, .long], help: "Do not ask for confirmation.")
        var yes = false

        func run() throws {
            let vault = try global.unlockedVault()
            _ = try withSuggestion(vault) { try vault.entry(named: name) }
            if !yes {
                guard let answer = Terminal.confirm("Remove '\(name)' and its token?") else {
                    throw CLIError.usage("refusing to remove '\(name)' without confirmation", hint: "pass --yes")
                }
                guard answer else {
                    Output.note("nothing removed")
                    throw CLIError.exit(.other)
                }
            }
            try vault.remove(name)
            Output.note("removed '\(name)'")
        }
    }
}
