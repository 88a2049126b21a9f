import ArgumentParser
import TokenVault
import VaultCLICommon

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    /// The global options' names: the declarations below use them, and so does the code that
    /// reads the command line before (or instead of) the parser: ``hoisted(_:)``, the fast path
    /// of `vault get`, `Online.needed` and the activity log's actor (`Session.actor`).
    enum Names {
        static let vault = "vault"
        static let passphraseFD = "passphrase-fd"
        static let passphraseFile = "passphrase-file"
        static let verbose = "verbose"
        static let verboseShort: Character = "v"
        static let allowCostlyKDF = "allow-costly-kdf"
        static let keyFile = "key-file"

        /// The options that take a value (`--vault PATH`), as typed.
        static let withValue: Set<String> = ["--" + vault, "--" + passphraseFD, "--" + passphraseFile, "--" + keyFile]
        /// Commands whose subcommands take the global options (`vault --vault PATH id trust ...`).
        static let nested: [String: Set<String>] = ["id": ["show", "trust", "list", "untrust"], "keyfile": ["new"]]
        /// The flags, as typed.
        static let flags: Set<String> = ["-" + String(verboseShort), "--" + verbose, "--" + allowCostlyKDF]
    }

    @Option(name: .customLong(Names.vault), help: ArgumentHelp(
        "The vault file (default: $TOKENVAULT_PATH, else $XDG_DATA_HOME/tokenvault/vault.db, else ~/.local/share/tokenvault/vault.db).",
        valueName: "path"))
    var vaultPath: String?

    @Option(name: .customLong(Names.passphraseFD), help: ArgumentHelp(
        "Read the passphrase from this open file descriptor: its first line, without the \\n or \\r\\n.", valueName: "n"))
    var passphraseFD: Int32?

    @Option(name: .customLong(Names.passphraseFile), help: ArgumentHelp(
        "Read the passphrase from the first line of this file (without the \\n or \\r\\n), which must be private to you (mode 600).",
        valueName: "path"))
    var passphraseFile: String?

    @Option(name: .customLong(Names.keyFile), help: ArgumentHelp(
        "The vault's key file, for a vault that needs one (default: $TOKENVAULT_KEY_FILE, else the path '\(ProgramName.current) config key-file' remembers); with init, the key file the new vault needs.",
        valueName: "path"))
    var keyFile: String?

    @Flag(name: [.customLong(Names.verbose), .customShort(Names.verboseShort)], help: "Say on stderr what the command does (never a secret).")
    var verbose = false

    @Flag(name: .customLong(Names.allowCostlyKDF), help: ArgumentHelp(
        "Unlock even when the vault asks for a key derivation costlier than 'sensitive' (4 passes, 1 GiB), which '\(ProgramName.current) init' never writes."))
    var allowCostlyKDF = false

    /// Global options may also come before the subcommand (`vault --vault PATH list`): they
    /// are moved to just after it, where the subcommand's parser reads them.
    static func hoisted(_ arguments: [String]) -> [String] {
        let withValue = Names.withValue
        let flags = Names.flags
        var globals: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            let name = String(argument.prefix { $0 != "=" })
            if withValue.contains(name) {
                globals.append(argument)
                if !argument.contains("="), index + 1 < arguments.count {
                    globals.append(arguments[index + 1])
                    index += 1
                }
            } else if flags.contains(argument) {
                globals.append(argument)
            } else {
                break
            }
            index += 1
        }
        guard !globals.isEmpty, index < arguments.count else { return arguments }
        // A command with subcommands of its own (`vault id trust`): after the subcommand.
        if let nested = Names.nested[arguments[index]], index + 1 < arguments.count, nested.contains(arguments[index + 1]) {
            return Array(arguments[index...(index + 1)]) + globals + arguments[(index + 2)...]
        }
        return [arguments[index]] + globals + arguments[(index + 1)...]
    }

    var path: String { session.path }

    var passphrase: CLIPassphrase { session.passphrase }

    var session: Session {
        Session(path: vaultPath ?? VaultLocation.defaultPath(environment: Environment.current),
                passphrase: CLIPassphrase(fd: passphraseFD, file: passphraseFile),
                verbose: verbose, allowCostlyKDF: allowCostlyKDF, keyFileFlag: keyFile)
    }

    /// Opens the vault, locked.
    func openVault() throws -> Vault { try session.openVault() }

    /// Opens the vault and unlocks it: through its agent when one holds the key, else from the
    /// passphrase sources.
    func unlockedVault(useAgent: Bool = true) throws -> Vault { try session.unlockedVault(useAgent: useAgent) }
}
