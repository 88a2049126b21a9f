import ArgumentParser
import TokenVault
import VaultSupport
#if canImport(Glibc)
import Glibc
#endif

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .customLong("vault"), help: ArgumentHelp(
        "The vault file (default: $TOKENVAULT_PATH, else $XDG_DATA_HOME/tokenvault/vault.db, else ~/.local/share/tokenvault/vault.db).",
        valueName: "path"))
    var vaultPath: String?

    @Option(name: .customLong("passphrase-fd"), help: ArgumentHelp(
        "Read the passphrase from this open file descriptor: its first line, without the \\n or \\r\\n.", valueName: "n"))
    var passphraseFD: Int32?

    @Option(name: .customLong("passphrase-file"), help: ArgumentHelp(
        "Read the passphrase from the first line of this file (without the \\n or \\r\\n), which must be private to you (mode 600).",
        valueName: "path"))
    var passphraseFile: String?

    @Flag(name: .shortAndLong, help: "Say on stderr what the command does (never a secret).")
    var verbose = false

    @Flag(name: .customLong("allow-costly-kdf"), help: ArgumentHelp(
        "Unlock even when the vault asks for a key derivation costlier than 'sensitive' (4 passes, 1 GiB), which 'vault init' never writes."))
    var allowCostlyKDF = false

    /// Global options may also come before the subcommand (`vault --vault PATH list`): they
    /// are moved to just after it, where the subcommand's parser reads them.
    static func hoisted(_ arguments: [String]) -> [String] {
        let withValue: Set<String> = ["--vault", "--passphrase-fd", "--passphrase-file"]
        let flags: Set<String> = ["-v", "--verbose", "--allow-costly-kdf"]
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
        return [arguments[index]] + globals + arguments[(index + 1)...]
    }

    var path: String { session.path }

    var passphrase: PassphraseSource { session.passphrase }

    var session: Session {
        Session(path: vaultPath ?? VaultLocation.defaultPath(environment: Environment.current),
                passphrase: PassphraseSource(fd: passphraseFD, file: passphraseFile),
                verbose: verbose, allowCostlyKDF: allowCostlyKDF)
    }

    /// Opens the vault, locked.
    func openVault() throws -> Vault { try session.openVault() }

    /// Opens the vault and unlocks it: through its agent when one holds the key, else from the
    /// passphrase sources.
    func unlockedVault(useAgent: Bool = true) throws -> Vault { try session.unlockedVault(useAgent: useAgent) }
}

/// Where the vault is, where its passphrase comes from, and how talkative to be: what every
/// command needs, apart from how its arguments were parsed.
struct Session {
    var path: String
    var passphrase: PassphraseSource
    var verbose: Bool
    /// `--allow-costly-kdf`: a header costlier than `sensitive` is derived from, not refused.
    var allowCostlyKDF = false

    /// The default vault, the passphrase sources of the environment, quiet.
    static var standard: Session {
        Session(path: VaultLocation.defaultPath(environment: Environment.current),
                passphrase: PassphraseSource(fd: nil, file: nil), verbose: false)
    }

    /// The vault, checked at once, or (`checkingNow: false`) on first use.
    func openVault(checkingNow: Bool = true) throws -> Vault {
        Log.enabled = verbose
        Log.verbose("vault file \(path)")
        let vault = try Vault.open(at: path, checkingNow: checkingNow)
        vault.actor = Self.actor
        return vault
    }

    /// "vault" and its subcommand, as the activity log names who asked.
    static let actor: String = {
        var words = CommandLine.arguments.dropFirst()
        while let first = words.first, first.hasPrefix("-") {
            words = words.dropFirst(["--vault", "--passphrase-fd", "--passphrase-file"].contains(first) ? 2 : 1)
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
            } catch {
                Log.verbose("the agent could not unlock the vault (\(error)): using the passphrase")
            }
        }
        // A costly header is refused before anyone is asked for the passphrase.
        try vault.checkKDFCost(allowingCostly: allowCostlyKDF)
        let source = passphrase
        Log.verbose("passphrase from \(source.sourceName)")
        let secret = try source.read(prompt: "Passphrase for \(path): ")
        let start = Log.clock()
        try vault.unlock(passphrase: secret, allowingCostlyKDF: allowCostlyKDF)
        if verbose, let kdf = try? vault.kdfParameters() {
            Log.verbose("unlocked: Argon2id, \(kdf.opsLimit) passes, \(kdf.memLimit >> 20) MiB, in \(Log.since(start)) ms")
        }
        return vault
    }
}

/// Checks that the words after a command's own arguments are not a token: a token never
/// belongs in argv, where `ps` and shell history see it.
func refuseExtraArguments(_ extra: [String]) throws {
    guard !extra.isEmpty else { return }
    // A ValidationError: the parser reports it with exit code 64, and its hint for a token.
    if extra.contains(where: Redaction.looksLikeToken) {
        throw ValidationError("a token is never accepted on the command line (ps and shell history would show it)")
    }
    let listed = extra.map { "'\($0)'" }.joined(separator: ", ")
    throw ValidationError("unexpected argument\(extra.count > 1 ? "s" : ""): \(listed)")
}

/// Runs input checks for `validate()`: a library error about input becomes a usage error
/// (exit code 64).
func checkingInput(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as VaultError {
        throw ValidationError(error.description)
    }
}

/// Turns `not found` into `not found, did you mean ...?` when a name is close.
func withSuggestion<R>(_ vault: Vault, _ body: () throws -> R) throws -> R {
    do {
        return try body()
    } catch VaultError.notFound(let name, nil) {
        let names = (try? vault.names()) ?? []
        throw VaultError.notFound(name: name, suggestion: Suggestion.closest(to: name, in: names))
    }
}

enum Suggestion {
    /// The name nearest to `name` by edit distance, if it is close enough to be a typo.
    static func closest(to name: String, in names: [String]) -> String? {
        let target = Array(name)
        var best: (String, Int)?
        for candidate in names {
            let d = distance(target, Array(candidate))
            if d <= Swift.max(1, Swift.min(3, target.count / 3)), d < (best?.1 ?? .max) { best = (candidate, d) }
        }
        return best?.0
    }

    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
