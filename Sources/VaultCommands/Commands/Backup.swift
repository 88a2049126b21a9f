import ArgumentParser
import TokenVault
import VaultCLICommon

extension VaultCommand {
    struct Backup: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy the vault to FILE: consistent while in use, still encrypted, and verified.",
            discussion: """
                The copy is one snapshot, taken while the agent and other commands go on using the \
                vault; it is as encrypted as the vault, opens with the same passphrase \
                (\(ProgramName.current) --vault FILE list), and is verified before it is given its name (so the key \
                is needed: from the agent, or the passphrase). It is written with mode 600 under a \
                temporary name in FILE's folder, which others must not be able to write, flushed to disk and \
                then renamed. An existing FILE is replaced only with --force; the vault's own file \
                never. A log beside FILE (FILE-wal, left by a read from it) is folded into the old \
                file and removed first; while another program has FILE open, it is refused. A copy that does not verify is not kept (exit code 5).

                Examples:
                  \(ProgramName.current) backup ~/backup/vault-$(date +%F).db
                  \(ProgramName.current) backup --force ~/backup/vault.db
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("Where to write the copy.", valueName: "file"), completion: .file())
        var file: String

        @Flag(help: "Replace FILE if it exists.")
        var force = false

        func run() throws {
            let vault = try global.unlockedVault()
            let report: VerificationReport
            do {
                report = try vault.backup(to: file, replacing: force)
            } catch {
                throw Self.explained(error)
            }
            let entries = report.findings.first { $0.part == .entries }?.summary ?? ""
            Output.note("backed up \(global.path) to \(file) and verified the copy (\(entries))")
        }

        /// A refused destination that exists, with the way to replace it.
        private static func explained(_ error: VaultError) -> any Error {
            guard case .invalidInput(let message) = error, message.hasSuffix("already exists") else { return error }
            return CLIError.usage(message, hint: "give --force to replace it, or another name")
        }
    }
}
