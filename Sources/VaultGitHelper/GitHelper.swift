import Glibc
import TokenVault
import VaultCLICommon

/// The git credential helper: `git-credential-vault [options] get|store|erase`, and the same as
/// `vault git-credential ...`. It reads git's description on stdin, writes only well-formed
/// `key=value` lines on stdout, and every message on stderr. It never reads the passphrase from
/// stdin (that is git's), never hangs git, and never destroys a token because git says so.
package enum GitHelper {
    package struct Options {
        package var vaultPath: String?
        /// `--on-erase delete`: git credential-store's semantics (delete on erase).
        package var eraseDeletes = false
        package var verbose = false
        /// `--key-file FILE`: the vault's key file, for a vault that needs one (else
        /// `TOKENVAULT_KEY_FILE`, else `vault config key-file`).
        package var keyFile: String?

        package init(vaultPath: String? = nil, eraseDeletes: Bool = false, verbose: Bool = false, keyFile: String? = nil) {
            self.vaultPath = vaultPath
            self.eraseDeletes = eraseDeletes
            self.verbose = verbose
            self.keyFile = keyFile
        }
    }

    /// Parses `[--vault PATH] [--key-file FILE] [--on-erase reject|delete] [--verbose] ACTION` (git appends the
    /// action to whatever `credential.helper` says).
    package static func main(arguments: [String]) -> Int32 {
        var options = Options()
        var action: String?
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            switch argument {
            case "--vault" where index + 1 < arguments.count:
                options.vaultPath = arguments[index + 1]
                index += 1
            case "--key-file" where index + 1 < arguments.count:
                options.keyFile = arguments[index + 1]
                index += 1
            case "--on-erase" where index + 1 < arguments.count:
                switch arguments[index + 1] {
                case "delete": options.eraseDeletes = true
                case "reject": options.eraseDeletes = false
                default:
                    Output.error("--on-erase takes reject or delete")
                    return ExitStatus.usage.rawValue
                }
                index += 1
            case "-v", "--verbose":
                options.verbose = true
            case "-h", "--help":
                do { try Output.out(usage + "\n") } catch { return 1 }
                return 0
            default:
                if argument.hasPrefix("--vault=") { options.vaultPath = String(argument.dropFirst(8)) }
                else if argument.hasPrefix("--key-file=") { options.keyFile = String(argument.dropFirst(11)) }
                else if argument.hasPrefix("-") {
                    Output.error("unknown option '\(Redaction.redact(argument))'")
                    return ExitStatus.usage.rawValue
                } else { action = argument }
            }
            index += 1
        }
        guard let action else {
            Output.err(usage)
            return ExitStatus.usage.rawValue
        }
        return run(action: action, options: options)
    }

    package static let usage = """
        usage: git-credential-vault [--vault PATH] [--key-file FILE]
                                    [--on-erase reject|delete] [--verbose]
                                    get|store|erase
               (or: vault git-credential ...)

        Git's credential helper on the vault: git runs it, and reads tokens from the
        vault.

          get    answers with the entry for the protocol, host, user name and path git
                 asks for (never a rejected, revoked, expired or trashed one)
          store  keeps what you typed at git's prompt: 'vault list' marks it "(new from
                 git)" until you rename or edit it; the same again changes nothing, a
                 new password replaces the old one (kept: 'vault history NAME')
          erase  marks the entry holding the token git says failed as rejected ('vault
                 restore NAME' gives it back), or removes it with --on-erase delete;
                 without a password it marks the matching entries and never removes

        On success it prints nothing (--verbose says what it did on stderr). A
        passphrase typed at a terminal starts the agent, so one git operation asks once
        ('vault config agent-autostart off' turns that off; 'vault unlock' unlocks on
        purpose).

        Options:
          --vault PATH              the vault (default: $TOKENVAULT_PATH, else the
                                    default vault)
          --key-file FILE           the vault's key file, if it needs one (default:
                                    $TOKENVAULT_KEY_FILE, else 'vault config key-file')
          --on-erase reject|delete  what erase does (default: reject)
          --verbose                 say on stderr what it did

        Examples:
          git config --global credential.helper "$(command -v git-credential-vault)"
          git config --global credential.https://gitlab.example.com.helper \\
              "$(command -v git-credential-vault)"
          git config --global credential.helper \\
              "$(command -v git-credential-vault) --on-erase delete"
          printf 'protocol=https\\nhost=gitlab.com\\n\\n' | git-credential-vault get
        """

    package static func run(action: String, options: Options) -> Int32 {
        // An action this helper does not know: silently nothing, as the protocol asks.
        guard ["get", "store", "erase"].contains(action) else { return 0 }
        Log.enabled = options.verbose
        guard let input = readDescription() else {
            Output.error("the credential description is longer than \(4 * GitCredential.maximumLineLength) bytes")
            return 1
        }
        let request: GitCredential
        do {
            request = try input.withUnsafeBytes { bytes throws(GitCredential.ParseError) in try GitCredential.parse(bytes) }
        } catch {
            Output.error(error.description)
            return 1
        }
        guard request.protocolName != nil, request.host != nil else {
            // Nothing to match on (git always sends both): nothing to do.
            return 0
        }
        let environment = Environment.current
        let path = options.vaultPath ?? VaultLocation.defaultPath(environment: environment)
        guard VaultLocation.exists(path) else {
            if action == "store" { Output.hint("no vault at \(path): git's credential was not stored (create one with '\(ProgramName.current) init')") }
            else { Log.verbose("git: no vault at \(path)") }
            return 0
        }
        do {
            let vault = try Vault.open(at: path, checkingNow: false)
            vault.actor = "git-credential-vault \(action)"
            guard let unlocked = try unlock(vault, path: path, action: action, keyFile: options.keyFile,
                                            environment: environment) else { return 0 }
            // Once git's answer is written, whatever it is, so that the next call of this git
            // operation finds the agent. git waits for this process to exit: the agent gets the
            // key just derived, never a second derivation.
            defer { if case .typed = unlocked { startAgent(path: path, vault: vault) } }
            try perform(action, request, description: input, vault: vault, options: options)
            return 0
        } catch let error as CLIError {
            // Unusable output, for instance: say so, but let git carry on.
            _ = Output.report(error)
            return action == "get" ? 0 : 1
        } catch {
            _ = Output.report(error)
            return 0
        }
    }

    private static func perform(_ action: String, _ request: GitCredential, description: Secret, vault: Vault,
                                options: Options) throws {
        switch action {
        case "get": try get(description, vault: vault)
        case "store": try store(request, vault: vault)
        default: try erase(request, vault: vault, options: options)
        }
    }

    /// Reads git's description: up to a blank line (`\n\n` or `\r\n\r\n`) or the end of input,
    /// into secure memory. Nil when it does not fit.
    private static func readDescription() -> Secret? {
        var complete = true
        let secret = Secret.filling(maxCount: 4 * GitCredential.maximumLineLength) { buffer in
            var length = 0
            while true {
                guard length < buffer.count else { complete = false; return length }
                let n = read(0, buffer.baseAddress! + length, buffer.count - length)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return length }
                let start = max(0, length - 3)
                length += n
                let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<length])
                if bytes.first == 0x0A || (bytes.count >= 2 && bytes[0] == 0x0D && bytes[1] == 0x0A) { return length }
                for i in start..<length where bytes[i] == 0x0A {
                    if i >= 1 && bytes[i - 1] == 0x0A { return length }
                    if i >= 3 && bytes[i - 1] == 0x0D && bytes[i - 2] == 0x0A && bytes[i - 3] == 0x0D { return length }
                }
            }
        }
        return complete ? secret : nil
    }

    /// Answers git's `get` (its `description` as git wrote it): through the agent, one request,
    /// rendered by the library as the C front end gets it.
    static func get(_ description: Secret, vault: Vault) throws {
        var reply = try vault.gitReply(toDescription: description)
        if reply.stdout.isEmpty, reply.askRemotes, let remote = remoteReply(description, vault: vault) { reply = remote }
        for message in reply.messages {
            switch message {
            case .warning(let text): Output.warning(text)
            case .note(let text): Log.verbose(text)
            }
        }
        let stdout = reply.stdout
        if !stdout.isEmpty { try Output.write(secret: stdout) }
    }

    /// Stores what git sends (the rules are the library's: `Vault.gitStore`). Quiet: what it did
    /// is said only with `--verbose`; `vault list` marks the entries git made.
    static func store(_ request: GitCredential, vault: Vault) throws {
        // git percent-decodes `url=`, so a user name or host may hold an escape sequence: the
        // vault refuses it (as it refuses it from `vault add`), and git carries on without it.
        do throws(VaultError) {
            if let username = request.username { try Entry.validate(username: username) }
            if let host = request.host { try Entry.validate(host: host) }
        } catch {
            Output.error("git's credential for \(request.protocolName ?? "")://\(request.host ?? "") was not stored: \(error)")
            return
        }
        switch try vault.gitStore(request) {
        case .notStored(let why): Log.verbose("git store: nothing stored (\(why))")
        case .unchanged(let name): Log.verbose("git store: '\(name)' already holds this credential")
        case .confirmed(let name): Log.verbose("git store: '\(name)' worked for git: no longer marked rejected")
        case .updated(let name): Log.verbose("git store: '\(name)' has a new expiry or refresh token")
        case .replaced(let name): Log.verbose("git store: a new token for '\(name)'; the previous one is kept ('\(ProgramName.current) history \(name)')")
        case .added(let name): Log.verbose("git store: stored as '\(name)' (\(ProgramName.current) list marks it until you rename or edit it)")
        }
    }

    /// Marks rejected (or with `--on-erase delete` and the failed password, removes) what git's
    /// `erase` names (the rules are the library's: `Vault.gitErase`). Quiet, as `store`.
    static func erase(_ request: GitCredential, vault: Vault, options: Options) throws {
        for outcome in try vault.gitErase(request, deleting: options.eraseDeletes) {
            switch outcome {
            case .rejected(let name): Log.verbose("git erase: '\(name)' marked rejected ('\(ProgramName.current) restore \(name)' brings it back)")
            case .removed(let name): Log.verbose("git erase: '\(name)' removed (--on-erase delete)")
            }
        }
    }
}
