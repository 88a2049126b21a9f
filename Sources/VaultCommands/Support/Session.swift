import Synchronization
import TokenVault
import VaultCLICommon

/// Where the vault is, where its passphrase comes from, and how talkative to be: what every
/// command needs, apart from how its arguments were parsed.
struct Session {
    var path: String
    var passphrase: CLIPassphrase
    var verbose: Bool
    /// `--allow-costly-kdf`: a header costlier than `sensitive` is derived from, not refused.
    var allowCostlyKDF = false
    /// `--key-file FILE`, when given.
    var keyFileFlag: String?

    /// Where the vault's key file comes from (`--key-file`, `TOKENVAULT_KEY_FILE`, `vault config key-file`).
    var keyFiles: CLIKeyFile { CLIKeyFile(flag: keyFileFlag, vaultPath: path) }

    /// The default vault, the passphrase sources of the environment, quiet.
    static var standard: Session {
        Session(path: VaultLocation.defaultPath(environment: Environment.current),
                passphrase: CLIPassphrase(fd: nil, file: nil), verbose: false)
    }

    /// The vault, checked at once, or (`checkingNow: false`) on first use.
    func openVault(checkingNow: Bool = true) throws -> Vault {
        Log.enabled = verbose
        Log.verbose("vault file \(path)")
        let vault = try Vault.open(at: path, checkingNow: checkingNow)
        vault.actor = Self.actor
        Self.opened.withLock { $0.append(vault) }
        return vault
    }

    /// The vaults this process opened, kept until it exits (``closeVaults()``).
    private static let opened = Mutex<[Vault]>([])

    /// Closes the vaults this process opened (SQLite then folds and removes a write-ahead log
    /// that no other process uses), saying on stderr first, once, when a read was not recorded
    /// (``Vault/readRecording``), and when a change made here is not yet
    /// in the vault file itself (a reader held the file past the busy timeout): a copy of
    /// `vault.db` alone would miss it.
    static func closeVaults() {
        let vaults = opened.withLock { vaults in
            defer { vaults = [] }
            return vaults
        }
        // A read that could not be recorded (a read-only vault, a full disk): said once a command.
        if let reason = vaults.lazy.compactMap(\.readRecording.reason).first { Output.warning(reason.warning) }
        for vault in vaults where vault.hasChangesOnlyInLog {
            let why = vault.hasChangesOnlyInLogForLackOfSpace
                ? "the disk is full, so it could not be folded into the file"
                : "another program held the vault open for reading too long to fold it into the file"
            Output.warning("the change is saved, but only in \(vault.path)-wal for now: \(why)")
            Output.hint("a copy of the vault file alone would miss it: make copies with '\(ProgramName.current) backup FILE'; the next change or the last program to close the vault folds it in")
        }
    }

    /// "vault" and its subcommand, as the activity log names who asked.
    static let actor: String = {
        var words = CommandLine.arguments.dropFirst()
        while let first = words.first, first.hasPrefix("-") {
            words = words.dropFirst(GlobalOptions.Names.withValue.contains(first) ? 2 : 1)
        }
        return "vault" + (words.first.map { " " + $0 } ?? "")
    }()

    func unlockedVault(useAgent: Bool = true) throws -> Vault {
        let vault = try openVault(checkingNow: false)
        if useAgent, let agent = AgentClient.connect(vaultPath: path, environment: Environment.current) {
            do {
                try vault.unlock(with: agent)
                Log.verbose("unlocked by the agent")
                return vault
            } catch .otherAgentVersion {
                // Not used: the passphrase does the work here, and the user learns what to do.
                Output.warning(VaultError.otherAgentVersion.description + ": using the passphrase")
                Output.hint(VaultError.otherAgentVersion.hint ?? "")
            } catch {
                Log.verbose("the agent could not unlock the vault (\(error)): using the passphrase")
            }
        }
        try unlockHere(vault)
        return vault
    }

    /// Opens the vault and unlocks it with the passphrase (never through the agent), for a
    /// command that re-wraps its key: the vault, the passphrase, and the key file when the vault
    /// needs one.
    func unlockedWithFactors() throws -> (vault: Vault, passphrase: Secret, keyFile: KeyFile?) {
        let vault = try openVault(checkingNow: false)
        let (passphrase, keyFile) = try unlockHere(vault)
        return (vault, passphrase, keyFile)
    }

    /// Unlocks `vault` in this process with the passphrase and, when it needs one, its key file
    /// (asked for before the passphrase, so a missing one is said first); returns them.
    @discardableResult
    func unlockHere(_ vault: Vault) throws -> (passphrase: Secret, keyFile: KeyFile?) {
        // A costly header is refused before anyone is asked for the passphrase.
        try vault.checkKDFCost(allowingCostly: allowCostlyKDF)
        let needed = try vault.needsKeyFile()
        let keyFile = try keyFiles.load(required: needed)
        let source = passphrase
        Log.verbose("passphrase from \(source.sourceName)")
        let secret = try source.read(prompt: "Passphrase for \(vault.path): ")
        let start = Log.clock()
        try vault.unlock(passphrase: secret, keyFile: keyFile, allowingCostlyKDF: allowCostlyKDF)
        if verbose, let kdf = try? vault.kdfParameters() {
            Log.verbose("unlocked: Argon2id, \(kdf.opsLimit) passes, \(kdf.memLimit >> 20) MiB\(needed ? " and the key file" : ""), in \(Log.since(start)) ms")
        }
        return (secret, needed ? keyFile : nil)
    }
}
