import ArgumentParser
import TokenVault
import TokenVaultOpenBao
import VaultCLICommon

extension VaultCommand {
    struct Restore: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bring back an entry from the trash, or one that git reported as failing.",
            discussion: """
                `\(ProgramName.current) rm` moves an entry to the trash; after a 401, git asks its helpers to \
                erase the credential, and the vault marks it rejected instead. Either way the \
                token is kept; restore gives it back to git and scripts.

                Examples:
                  \(ProgramName.current) restore gitlab.com
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The entry's name.", completion: NameCompletion.names(.restorable))
        var name: String

        func run() throws {
            let vault = try global.unlockedVault()
            if let remote = try RemoteAccess.resolve(name, in: vault) {
                try remote.entries.restore(remote.entry)
                Output.note("restored '\(name)'")
                return
            }
            let entry = try withSuggestion(vault) { try vault.entry(named: name) }
            guard entry.rejected != nil || entry.deleted != nil else {
                Output.note("'\(name)' is neither in the trash nor rejected: nothing to restore")
                return
            }
            try vault.update(name) {
                $0.rejected = nil
                $0.deleted = nil
            }
            Output.note("restored '\(name)'")
        }
    }
}
