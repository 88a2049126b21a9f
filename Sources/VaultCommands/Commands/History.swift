import ArgumentParser
import TokenVault
import TokenVaultOpenBao
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
            if let remote = try RemoteAccess.resolve(name, in: vault) {
                try remoteHistory(remote.entries, remote.entry)
                return
            }
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

        /// OpenBao's KV versions of a remote entry, oldest first (the current one included).
        private func remoteHistory(_ entries: RemoteEntries, _ entry: String) throws {
            if restore != nil { throw CLIError.usage("--restore is for local entries: edit the remote entry with --secret") }
            let versions = try entries.history(entry)
            var items: [JSON.Value] = []
            var text = ""
            for version in versions {
                let state = version.destroyed ? "destroyed" : version.deleted.map { "deleted \($0.iso8601)" } ?? "live"
                var fields: [(String, JSON.Value)] = [("version", .number(Int64(version.number))),
                                                      ("created", .string(version.created?.iso8601 ?? "")), ("state", .string(state))]
                var line = "\(version.number)  written \(version.created?.iso8601 ?? "?")  \(state)"
                if reveal, !version.destroyed, version.deleted == nil {
                    let secret = try entries.client.read(entry, version: version.number).secret.revealString()
                    fields.append(("secret", .string(secret)))
                    line += "  " + secret
                }
                items.append(.object(fields))
                text += TerminalText.escape(line) + "\n"
            }
            if json { try Output.json(.array(items)) } else { try Output.out(text) }
        }
    }
}
