import ArgumentParser
import TokenVault
import VaultCLICommon

extension VaultCommand {
    struct Passwd: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change the vault's passphrase (and optionally its key-derivation cost).",
            discussion: """
                The current passphrase comes from the usual sources. The new one is asked twice on \
                the terminal, or read from --new-passphrase-fd, --new-passphrase-file or \
                TOKENVAULT_NEW_PASSPHRASE. Only the vault key's wrapping changes, in one \
                transaction; no token is re-encrypted.

                Examples:
                  \(ProgramName.current) passwd
                  \(ProgramName.current) passwd --kdf sensitive
                """)

        @OptionGroup var global: GlobalOptions

        @Option(name: .customLong("new-passphrase-fd"), help: ArgumentHelp("Read the new passphrase from this file descriptor.", valueName: "n"))
        var newFD: Int32?

        @Option(name: .customLong("new-passphrase-file"), help: ArgumentHelp("Read the new passphrase from this private file.", valueName: "path"))
        var newFile: String?

        @Option(help: ArgumentHelp("A new key-derivation cost: interactive, moderate or sensitive (default: keep the current one).",
                                   valueName: "preset"))
        var kdf: String?

        func validate() throws {
            if let kdf, KDFParameters.preset(named: kdf) == nil {
                throw ValidationError("--kdf must be interactive, moderate or sensitive")
            }
        }

        func run() throws {
            // The current passphrase itself: the agent never hands out the key to re-wrap.
            let vault = try global.unlockedVault(useAgent: false)
            let source = CLIPassphrase(fd: newFD, file: newFile, variable: "TOKENVAULT_NEW_PASSPHRASE", askpass: false)
            let passphrase = try source.read(prompt: "New passphrase for \(global.path): ", confirm: true)
            ShortPassphrase.warn(passphrase, typed: source.isTerminalPrompt)
            try vault.changePassphrase(to: passphrase, kdf: kdf.flatMap(KDFParameters.preset(named:)))
            Output.note("passphrase changed")
        }
    }
}
