import TokenVault

/// Where the vault's key file comes from, the same for every command, the agent's `vault unlock`
/// and the git helper, tried in this order: `--key-file FILE`, `$TOKENVAULT_KEY_FILE`, and the
/// path remembered in the vault's settings file beside it (`vault config key-file FILE`,
/// ``LocalSettings``). The file is read only for a vault that needs it (or, when one is named, to
/// notice a header that says otherwise); its bytes go straight into guarded memory (``KeyFile``).
package struct CLIKeyFile {
    /// The environment variable that names the key file.
    package static let variable = "TOKENVAULT_KEY_FILE"

    /// `--key-file FILE`, when given.
    package var flag: String?
    /// The vault whose settings file may remember the key file.
    package var vaultPath: String

    package init(flag: String?, vaultPath: String) {
        self.flag = flag
        self.vaultPath = vaultPath
    }

    /// The key file's path and the source that named it; nil when none does.
    package func located() throws -> (path: String, source: String)? {
        if let flag, !flag.isEmpty { return (flag, "--key-file") }
        if let path = Environment[Self.variable], !path.isEmpty { return (path, Self.variable) }
        if let path = try LocalSettings.read(forVault: vaultPath).keyFile {
            return (path, "'\(ProgramName.current) config key-file' (\(LocalSettings.path(forVault: vaultPath)))")
        }
        return nil
    }

    /// For a vault that needs a key file (`required`): the key file, or why there is none
    /// (`VaultError.keyFileRequired` when no source names one). For a vault that needs none: the
    /// key file when a source names one that reads, else nil; never a failure.
    package func load(required: Bool) throws -> KeyFile? {
        guard required else {
            guard let located = try? located() else { return nil }
            let keyFile = try? KeyFile(readingAt: located.path)
            Log.verbose(keyFile == nil ? "the key file from \(located.source) does not read: not needed for this vault"
                                       : "this vault needs no key file: the one from \(located.source) is not needed")
            return keyFile
        }
        guard let located = try located() else { throw VaultError.keyFileRequired }
        Log.verbose("key file from \(located.source)")
        return try Self.read(located.path, source: located.source)
    }

    /// The key file at `path`, with the CLI's words and exit status for a failure: 3 (locked)
    /// when it is missing or not a key file, as for a missing passphrase; 1 with a hint when it
    /// is open to other users, as for a passphrase file.
    package static func read(_ path: String, source: String? = nil) throws(CLIError) -> KeyFile {
        do {
            return try KeyFile(readingAt: path)
        } catch {
            throw CLIError(error, source: source)
        }
    }
}

extension CLIError {
    /// The CLI's words and exit status for a key file's failure (`source`: what named the file).
    package init(_ error: KeyFileError, source: String? = nil) {
        if error.isMissingFactor {
            self = .locked(error.description, hint: source.map { "the key file's path came from \($0)" })
        } else {
            self = .failed(error.description, hint: error.hint)
        }
    }
}
