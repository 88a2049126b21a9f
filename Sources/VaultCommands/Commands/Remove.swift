import ArgumentParser
import TokenVault
import TokenVaultOpenBao
import VaultCLICommon

extension VaultCommand {
    struct Remove: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rm",
            abstract: "Move an entry to the trash (kept 30 days), or destroy it with --purge.",
            discussion: """
                An entry in the trash is given to nobody; `\(ProgramName.current) restore NAME` brings it back, and \
                it is destroyed once it has been there longer than `\(ProgramName.current) config trash-days`. \
                --purge destroys it now. Asks for confirmation on a terminal; without a terminal, \
                --yes is required.

                Examples:
                  \(ProgramName.current) rm old-ci-token
                  \(ProgramName.current) rm old-ci-token --yes
                  \(ProgramName.current) rm --purge old-ci-token
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The entry's name.", completion: NameCompletion.names(.removable))
        var name: String

        @Flag(name: [.short, .long], help: "Do not ask for confirmation.")
        var yes = false

        @Flag(help: "Destroy the entry and every version of its token now, instead of moving it to the trash.")
        var purge = false

        func run() throws {
            let vault = try global.unlockedVault()
            if let remote = try RemoteAccess.resolve(name, in: vault) {
                // OpenBao's soft delete: its operators' policy decides what is destroyed for good.
                if purge { throw CLIError.usage("--purge is for local entries: OpenBao's operators destroy versions (bao kv destroy)") }
                try remote.entries.remove(remote.entry)
                vault.forgetRemoteEntry(name)
                Output.note("moved '\(name)' to the trash in OpenBao ('\(ProgramName.current) restore \(name)' brings it back)")
                return
            }
            let entry = try withSuggestion(vault) { try vault.entry(named: name) }
            if entry.deleted != nil && !purge {
                Output.note("'\(name)' is already in the trash")
                Output.hint("\(ProgramName.current) restore \(name), or \(ProgramName.current) rm --purge \(name) to destroy it")
                return
            }
            if !yes {
                let question = purge ? "Destroy '\(name)' and every version of its token, for good?" : "Remove '\(name)' and its token?"
                guard let answer = Terminal.confirm(question) else {
                    throw CLIError.usage("refusing to remove '\(name)' without confirmation", hint: "pass --yes")
                }
                guard answer else {
                    Output.note("nothing removed")
                    throw CLIError.exit(.other)
                }
            }
            if purge {
                try vault.remove(name)
                Output.note("destroyed '\(name)'")
            } else {
                try vault.update(name) { $0.deleted = .now() }
                let days = try vault.settings().trashRetention.wholeDays
                Output.note("moved '\(name)' to the trash for \(days) days ('\(ProgramName.current) restore \(name)' brings it back)")
            }
            for destroyed in try vault.emptyTrash() where destroyed != name {
                Output.note("destroyed '\(destroyed)', in the trash for longer than \(try vault.settings().trashRetention.wholeDays) days")
            }
        }
    }
}
