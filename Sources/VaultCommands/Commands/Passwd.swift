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

                --add-key-file FILE makes unlocking need that key file as well as the passphrase \
                (or replaces the key file the vault needs); --remove-key-file makes the \
                passphrase alone open it again. Both keep the passphrase, and ask for no new one. \
                The current key file, for a vault that needs one, comes from the usual sources.

                Examples:
                  \(ProgramName.current) passwd
                  \(ProgramName.current) passwd --kdf sensitive
                  \(ProgramName.current) keyfile new /media/usb/vault.key
                  \(ProgramName.current) passwd --add-key-file /media/usb/vault.key
                  \(ProgramName.current) passwd --remove-key-file
                """)

        @OptionGroup var global: GlobalOptions

        @Option(name: .customLong("new-passphrase-fd"), help: ArgumentHelp("Read the new passphrase from this file descriptor.", valueName: "n"))
        var newFD: Int32?

        @Option(name: .customLong("new-passphrase-file"), help: ArgumentHelp("Read the new passphrase from this private file.", valueName: "path"))
        var newFile: String?

        @Option(help: ArgumentHelp("A new key-derivation cost: interactive, moderate or sensitive (default: keep the current one).",
                                   valueName: "preset"))
        var kdf: String?

        @Option(name: .customLong("add-key-file"), help: ArgumentHelp(
            "From now on, unlocking needs this key file as well as the passphrase (which stays).", valueName: "path"))
        var addKeyFile: String?

        @Flag(name: .customLong("remove-key-file"), help: "From now on, the passphrase alone unlocks (it stays).")
        var removeKeyFile = false

        func validate() throws {
            if let kdf, KDFParameters.preset(named: kdf) == nil {
                throw ValidationError("--kdf must be interactive, moderate or sensitive")
            }
            if addKeyFile != nil && removeKeyFile { throw ValidationError("--add-key-file and --remove-key-file exclude each other") }
            if (addKeyFile != nil || removeKeyFile) && (newFD != nil || newFile != nil) {
                throw ValidationError("--add-key-file and --remove-key-file keep the passphrase: change it apart")
            }
        }

        func run() throws {
            // The new key file first: a wrong one is said before any passphrase is asked.
            let newKeyFile = try addKeyFile.map { path throws(CLIError) in try CLIKeyFile.read(path, source: "--add-key-file") }
            // The current passphrase itself: the agent never hands out the key to re-wrap.
            let (vault, current, keyFile) = try global.session.unlockedWithFactors()
            let parameters = kdf.flatMap(KDFParameters.preset(named:))
            if let newKeyFile {
                try vault.changePassphrase(to: current, keyFile: newKeyFile, kdf: parameters)
                Output.note("from now on, unlocking needs the key file and the passphrase")
                if let addKeyFile { KeyFileNotes.warnLoss(addKeyFile) }
                return
            }
            if removeKeyFile {
                guard keyFile != nil else { throw CLIError.usage("this vault needs no key file") }
                try vault.changePassphrase(to: current, keyFile: nil, kdf: parameters)
                Output.note("from now on, the passphrase alone unlocks the vault (the key file is no longer needed)")
                return
            }
            let source = CLIPassphrase(fd: newFD, file: newFile, variable: "TOKENVAULT_NEW_PASSPHRASE", askpass: false)
            let passphrase = try source.read(prompt: "New passphrase for \(global.path): ", confirm: true)
            ShortPassphrase.warn(passphrase, typed: source.isTerminalPrompt)
            try vault.changePassphrase(to: passphrase, keyFile: keyFile, kdf: parameters)
            Output.note("passphrase changed")
        }
    }
}
