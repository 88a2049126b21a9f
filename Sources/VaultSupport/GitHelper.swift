#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TokenVault

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

        package init(vaultPath: String? = nil, eraseDeletes: Bool = false, verbose: Bool = false) {
            self.vaultPath = vaultPath
            self.eraseDeletes = eraseDeletes
            self.verbose = verbose
        }
    }

    /// Parses `[--vault PATH] [--on-erase reject|delete] [--verbose] ACTION` (git appends the
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
        usage: git-credential-vault [--vault PATH] [--on-erase reject|delete] [--verbose] get|store|erase
               (or: vault git-credential ...)

        Git's credential helper on the vault: git runs it, and reads tokens from the vault.

        Examples:
          git config --global credential.helper "$(command -v git-credential-vault)"
          git config --global credential.https://gitlab.example.com.helper "$(command -v git-credential-vault)"
          git config --global credential.helper "$(command -v git-credential-vault) --on-erase delete"
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
        if action == "erase" && request.password?.isEmpty ?? true {
            // Not git (git sends the password that failed): a person or a script.
            Output.hint("git's erase named no password, so no token failed: nothing was marked or removed")
            return 0
        }
        let environment = Environment.current
        let path = options.vaultPath ?? VaultLocation.defaultPath(environment: environment)
        guard VaultLocation.exists(path) else {
            if action == "store" { Output.hint("no vault at \(path): git's credential was not stored (create one with 'vault init')") }
            else { Log.verbose("git: no vault at \(path)") }
            return 0
        }
        do {
            let vault = try Vault.open(at: path, checkingNow: false)
            vault.actor = "git-credential-vault \(action)"
            if let agent = AgentClient.connect(vaultPath: path, environment: environment), (try? vault.unlock(with: agent)) != nil {
                Log.verbose("git \(action): unlocked by the agent")
                try perform(action, request, vault: vault, options: options)
                return 0
            }
            // Never a wait on a costly header (nor a question to a person about it).
            try vault.checkKDFCost()
            let prompt = environment["GIT_TERMINAL_PROMPT"] != "0"
            let source = PassphraseSource(fd: nil, file: nil)
            Log.verbose("git \(action): passphrase from \(source.sourceName)")
            guard let passphrase = try readPassphrase(source, path: path, prompt: prompt) else {
                Output.hint("the vault is locked and there is no passphrase source: git goes on without it (set TOKENVAULT_ASKPASS, or run git from a terminal)")
                return 0
            }
            try vault.unlock(passphrase: passphrase)
            try perform(action, request, vault: vault, options: options)
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

    private static func perform(_ action: String, _ request: GitCredential, vault: Vault, options: Options) throws {
        switch action {
        case "get": try get(request, vault: vault)
        case "store": try store(request, vault: vault)
        default: try erase(request, vault: vault, options: options)
        }
    }

    /// The passphrase, or nil when there is no source (no prompt where git may not prompt).
    private static func readPassphrase(_ source: PassphraseSource, path: String, prompt: Bool) throws(CLIError) -> Secret? {
        do {
            return try source.read(prompt: "Passphrase for \(path) (git credential helper): ", allowPrompt: prompt)
        } catch {
            if case .noPassphrase = error { return nil }
            throw error
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

    static func get(_ request: GitCredential, vault: Vault) throws {
        let (selection, secret) = try vault.gitCredential(for: request)
        let reply = GitReply(request: request, selection: selection, secret: secret)
        for message in reply.messages {
            switch message {
            case .warning(let text): Output.warning(text)
            case .note(let text): Log.verbose(text)
            }
        }
        for part in reply.answer {
            switch part {
            case .text(let text): try Output.out(text)
            case .secret(let secret): try Output.write(secret: secret)
            }
        }
    }

    static func store(_ request: GitCredential, vault: Vault) throws {
        guard let password = request.password, !password.isEmpty else { return }
        // git percent-decodes `url=`, so a user name or host may hold an escape sequence: the
        // vault refuses it (as it refuses it from `vault add`), and git carries on without it.
        do throws(VaultError) {
            if let username = request.username { try Entry.validate(username: username) }
            if let host = request.host { try Entry.validate(host: host) }
        } catch {
            Output.error("git's credential for \(request.protocolName ?? "")://\(request.host ?? "") was not stored: \(error)")
            return
        }
        // Entries in the trash take no part (a new credential may take a trashed one's place).
        let all = try vault.entries()
        let entries = all.filter { $0.deleted == nil }
        // The same token already stored for this host (perhaps under another user name or
        // path, as `get` gave it): nothing to store, but git says it works now.
        for entry in GitMatching.sameHost(as: request, in: entries) where try vault.holds(entry.name, secret: password) {
            if entry.rejected != nil {
                try vault.update(entry.name) { $0.rejected = nil }
                Output.note("git used '\(entry.name)' successfully: no longer marked rejected")
            } else {
                Log.verbose("git store: '\(entry.name)' already holds this token")
            }
            return
        }
        // A changed password for a credential the vault holds: replace it, keeping the old one.
        if let existing = GitMatching.sameIdentity(as: request, in: entries).first {
            try vault.update(existing.name, secret: password) { entry in
                entry.rejected = nil
                // The old token's expiry is not the new one's.
                entry.expires = request.passwordExpiry
            }
            Output.note("git stored a new token for '\(existing.name)'; the previous one is kept ('vault history \(existing.name)')")
            return
        }
        // A new credential, typed at git's prompt.
        let name = GitMatching.generatedName(for: request, taken: Set(all.map(\.name)))
        let url = CredentialURL(scheme: request.protocolName!, host: request.host!, path: request.path)
        let kind = TokenKind.recognise(password) ?? TokenKind.guess(host: url.host)
        try vault.add(Entry(name: name, url: url, username: request.username, kind: kind, expires: request.passwordExpiry),
                      secret: password)
        Output.note("stored git's credential for \(url) as '\(name)' (rename it with 'vault rename')")
    }

    /// Marks rejected (or with `--on-erase delete`, removes) the entries that hold exactly the
    /// token git says failed. Git always sends that password; an erase without one comes from a
    /// person or a script, names no failed token, and changes nothing.
    static func erase(_ request: GitCredential, vault: Vault, options: Options) throws {
        guard let password = request.password, !password.isEmpty else { return }
        let entries = try vault.entries().filter { $0.deleted == nil }
        let path = request.path.flatMap { $0.isEmpty ? nil : $0 }
        var matching = GitMatching.sameHost(as: request, in: entries).filter { entry in
            // An entry without a user name answers for any (git fills one in, from `get`'s
            // default or its own prompt); the password check below still protects the others.
            if let username = request.username, !username.isEmpty, let own = entry.username, own != username {
                return false
            }
            if let path, let entryPath = entry.url?.path, GitMatching.normalise(path: entryPath) != GitMatching.normalise(path: path) {
                return false
            }
            return true
        }
        // Never touch an entry whose token differs from the one git says failed.
        matching = try matching.filter { try vault.holds($0.name, secret: password) }
        for entry in matching {
            if options.eraseDeletes {
                try vault.remove(entry.name)
                Output.note("git reported '\(entry.name)' as failing: removed (--on-erase delete)")
            } else if entry.rejected == nil {
                try vault.update(entry.name) { $0.rejected = .now() }
                Output.note("git reported '\(entry.name)' as failing: kept, but no longer given to git ('vault restore \(entry.name)' brings it back)")
            }
        }
    }
}
