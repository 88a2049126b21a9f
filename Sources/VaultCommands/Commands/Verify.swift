import ArgumentParser
import TokenVault
import VaultCLICommon

extension VaultCommand {
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a vault or a backup, read only: every record, the manifest, the history, the trash and the log.",
            discussion: """
                Opens FILE (default: the vault) read only, never writing or migrating it, and \
                leaving no file beside it (a file you can write is read with SQLite's locks, as \
                other commands may write it meanwhile; a file you cannot write, or in a read-only \
                folder, is read as it is), and checks everything: SQLite's structure, the schema, the header and \
                manifest, that every entry's records open and are bound to their row, the history \
                and trash they hold, the last-used times, the key ring (the vault's identity and the \
                identities it trusts), and the activity log's chain and anchors. \
                Prints one line per part on stdout.

                The key comes from the agent when it holds the vault's key and FILE is a copy of \
                that vault (the same vault id), else from the passphrase. A file whose schema is \
                not TokenVault's (a planted trigger or view) is reported without a key, and \
                nothing else in it is read.

                Exit codes: 0 when everything verifies, 5 when anything is wrong (tampered with \
                or corrupt); 3 when the passphrase does not open it (a changed wrapped key, salt \
                or key-derivation cost reads the same as a wrong passphrase).

                Examples:
                  \(ProgramName.current) verify
                  \(ProgramName.current) verify ~/backup/vault-2026-12-01.db
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: ArgumentHelp("The vault file to check (default: the vault).", valueName: "file"), completion: .file())
        var file: String?

        func run() throws {
            let session = global.session
            Log.enabled = session.verbose
            let vault = try Vault.openReadOnly(at: file ?? session.path)
            // A file whose schema is not TokenVault's is reported before a key is asked for.
            let report = try Self.keyless(vault) ?? {
                try unlock(vault, session: session)
                return try vault.verify()
            }()
            var lines: [String] = []
            for finding in report.findings {
                let verdict = finding.problem == nil ? "ok    " : "FAILED"
                lines.append("\(verdict)  \(finding.part.rawValue): \(TerminalText.escape(finding.problem ?? finding.summary))")
            }
            try Output.out(lines.joined(separator: "\n") + "\n")
            guard report.isIntact else {
                Output.error("\(vault.path) does not verify: \(report.firstProblem ?? "")")
                Output.hint("restore it from a backup that verifies (see '\(ProgramName.current) help backup')")
                throw CLIError.exit(.tampered)
            }
            Output.note("\(vault.path) verifies")
        }

        /// The report on a file whose schema is not TokenVault's (nil when it needs the key).
        private static func keyless(_ vault: Vault) throws -> VerificationReport? {
            do {
                return try vault.verify()
            } catch .locked {
                return nil
            }
        }

        /// With the agent's key when it opens the file (the vault, or a backup of it), else with
        /// the passphrase.
        private func unlock(_ vault: Vault, session: Session) throws {
            if let agent = AgentClient.connect(vaultPath: session.path, environment: Environment.current),
               let live = try? session.openVault(checkingNow: false) {
                do {
                    try live.unlock(with: agent)
                    try vault.unlock(withKeysOf: live)
                    return
                } catch {
                    Log.verbose("the agent's key does not open \(vault.path) (\(error)): using the passphrase")
                }
            }
            try session.unlockHere(vault)
        }
    }
}
