import ArgumentParser
import TokenVault
import VaultCLICommon

extension VaultCommand {
    struct Rename: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rename an entry.",
            discussion: """
                Examples:
                  \(ProgramName.current) rename gitlab.com gitlab-personal
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The entry's current name.", completion: NameCompletion.names(.live))
        var old: String

        @Argument(help: "The new name.")
        var new: String

        func validate() throws {
            try checkingInput { try Entry.validate(name: new) }
        }

        func run() throws {
            let vault = try global.unlockedVault()
            try withSuggestion(vault) { try vault.rename(old, to: new) }
            Output.note("renamed '\(old)' to '\(new)'")
        }
    }
}
