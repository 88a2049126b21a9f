import ArgumentParser
import TokenVault
import VaultCLICommon

extension VaultCommand {
    struct IdCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "id",
            abstract: "This vault's identity, and the teammates' identities it trusts.",
            discussion: """
                '\(ProgramName.current) id' prints this vault's public identity, one line (tvid1-...): give it to a \
                teammate, who exports bundles to it with '\(ProgramName.current) export NAME --to tvid1-...'. Save a \
                teammate's identity under a name with '\(ProgramName.current) id trust NAME IDENTITY': bundles they \
                sign are then shown with that name, and --to takes the name.

                Examples:
                  \(ProgramName.current) id
                  \(ProgramName.current) id trust alice tvid1-...
                  \(ProgramName.current) id list
                  \(ProgramName.current) id untrust alice
                """,
            subcommands: [Show.self, Trust.self, List.self, Untrust.self],
            defaultSubcommand: Show.self)

        struct Show: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Print this vault's identity (made on first use).")

            @OptionGroup var global: GlobalOptions

            func run() throws {
                try Output.out(try global.unlockedVault().identity().text + "\n")
            }
        }

        struct Trust: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Save a teammate's identity under a name (stored encrypted).")

            @OptionGroup var global: GlobalOptions

            @Argument(help: "The name to save it under.")
            var name: String

            @Argument(help: "The identity, as '\(ProgramName.current) id' prints it in their vault (tvid1-...).")
            var identity: String

            func run() throws {
                let parsed = try VaultIdentity(text: identity)
                let vault = try global.unlockedVault()
                if parsed == (try vault.identity()) { Output.warning("that is this vault's own identity") }
                try vault.trust(parsed, as: name)
                Output.note("trusted '\(name)'")
            }
        }

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List the trusted identities.")

            @OptionGroup var global: GlobalOptions

            @Flag(help: "As JSON: [{\"name\", \"identity\", \"added\"}].")
            var json = false

            func run() throws {
                let trusted = try global.unlockedVault().trustedIdentities()
                if json {
                    try Output.json(.array(trusted.map {
                        .object([("name", .string($0.name)), ("identity", .string($0.identity.text)), ("added", .string($0.added.iso8601))])
                    }))
                    return
                }
                if trusted.isEmpty {
                    Output.note("no trusted identities")
                    Output.hint("\(ProgramName.current) id trust NAME tvid1-...")
                    return
                }
                for entry in trusted {
                    try Output.out(TerminalText.escape(entry.name) + "  " + entry.identity.text + "  " + entry.added.dateString + "\n")
                }
            }
        }

        struct Untrust: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Forget a trusted identity.")

            @OptionGroup var global: GlobalOptions

            @Argument(help: "The name it was saved under.")
            var name: String

            func run() throws {
                do {
                    try global.unlockedVault().untrust(name)
                } catch VaultError.notFound(_, _) {
                    throw CLIError.failed("no trusted identity named '\(name)'", hint: "\(ProgramName.current) id list")
                }
                Output.note("'\(name)' is no longer trusted")
            }
        }
    }
}
