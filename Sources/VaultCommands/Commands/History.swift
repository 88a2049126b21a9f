import ArgumentParser
import TokenVault
import VaultCLICommon

extension VaultCommand {
    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the tokens an entry held before, or make one current again.",
            discussion: """
                Replacing a token (\(ProgramName.current) edit --secret, git storing a changed password) keeps the \
                previous one, encrypted. Versions are numbered from 1, the most recently replaced.

                Examples:
                  \(ProgramName.current) history gitlab-ci
                  \(ProgramName.current) history gitlab-ci --reveal
                  \(ProgramName.current) history gitlab-ci --restore 1
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The entry's name.", completion: NameCompletion.names(.all))
        var name: String

        @Flag(help: "Show the tokens.")
        var reveal = false

        @Option(help: ArgumentHelp("Make version N current again (the current token joins the history).", valueName: "n"))
        var restore: Int?

        @Flag(help: "Print a JSON array.")
        var json = false

        func validate() throws {
            if let restore, restore < 1 { throw ValidationError("--restore takes a version number from 1") }
        }

        func run() throws {
            let vault = try global.unlockedVault()
            let versions = try withSuggestion(vault) { try vault.history(of: name) }
            if let restore {
                try vault.restoreVersion(name, index: restore - 1)
                Output.note("version \(restore) of '\(name)' is current again")
                return
            }
            if json {
                let items: [JSON.Value] = versions.enumerated().map { index, version in
                    var fields: [(String, JSON.Value)] = [("version", .number(Int64(index + 1))),
                                                          ("replaced", .string(version.replaced.iso8601))]
                    if reveal { fields.append(("secret", .string(version.secret.revealString()))) }
                    return .object(fields)
                }
                try Output.json(.array(items))
                return
            }
            guard !versions.isEmpty else {
                Output.note("'\(name)' has no previous tokens")
                return
            }
            for (index, version) in versions.enumerated() {
                try Output.out("\(index + 1)  replaced \(version.replaced.iso8601)")
                if reveal {
                    try Output.out("  ")
                    try Output.out(secret: version.secret)
                } else {
                    try Output.out("\n")
                }
            }
        }
    }
}
