import ArgumentParser
import TokenVault
import VaultCLICommon

extension VaultCommand {
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a new, empty vault.",
            discussion: """
                The passphrase is asked twice on the terminal, or read from --passphrase-fd, \
                --passphrase-file, TOKENVAULT_PASSPHRASE or TOKENVAULT_ASKPASS. It is bytes, \
                never decoded: the first line from a descriptor, a file, the askpass program or \
                the terminal, without its line ending (\\n or \\r\\n); TOKENVAULT_PASSPHRASE \
                exactly as it is, nothing removed.

                With --key-file FILE, unlocking the vault needs that key file as well as the \
                passphrase (make one with '\(ProgramName.current) keyfile new FILE', and keep it apart from \
                the vault): without the file the vault cannot be opened, even with the passphrase.

                Examples:
                  \(ProgramName.current) init
                  \(ProgramName.current) init --kdf sensitive --vault ~/secure/work.db
                  \(ProgramName.current) init --key-file /media/usb/vault.key
                """)

        @OptionGroup var global: GlobalOptions

        @Option(help: ArgumentHelp(
            "The cost of deriving the key from the passphrase: interactive (64 MiB), moderate (256 MiB, the default) or sensitive (1 GiB).",
            valueName: "preset"))
        var kdf: String = "moderate"

        func validate() throws {
            guard KDFParameters.preset(named: kdf) != nil else {
                throw ValidationError("--kdf must be interactive, moderate or sensitive")
            }
        }

        func run() throws {
            let parameters = KDFParameters.preset(named: kdf)!
            if parameters == .minimum {
                Output.warning("--kdf minimum makes the passphrase trivial to guess; it exists for tests only")
            }
            let path = global.path
            if VaultLocation.exists(path) { throw VaultError.vaultExists(path: path) }
            // Only --key-file: a TOKENVAULT_KEY_FILE set for another vault never makes this one need it.
            let keyFile = try global.keyFile.map { path throws(CLIError) in try CLIKeyFile.read(path, source: "--key-file") }
            let passphrase = try global.passphrase.read(prompt: "New passphrase for \(path): ", confirm: true)
            ShortPassphrase.warn(passphrase, typed: global.passphrase.isTerminalPrompt)
            _ = try Vault.create(at: path, passphrase: passphrase, keyFile: keyFile, kdf: parameters)
            Output.note("created \(path) (Argon2id, \(kdf)\(keyFile == nil ? "" : ", and a key file"))")
            if let file = global.keyFile { KeyFileNotes.warnLoss(file) }
        }
    }
}
