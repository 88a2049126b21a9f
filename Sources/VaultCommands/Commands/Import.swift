import ArgumentParser
import TokenVault
import VaultCLICommon
import Glibc

extension VaultCommand {
    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move credentials from a plain-text file, or entries from a bundle, into the vault.",
            discussion: """
                git-credentials reads ~/.git-credentials and $XDG_CONFIG_HOME/git/credentials (as \
                git credential-store writes them); netrc reads ~/.netrc. Each credential becomes an \
                entry; one the vault already holds is reported, not doubled. With --remove, the \
                file is overwritten and removed once the import has committed (and only if every \
                line was understood). Malformed lines are reported by number, never shown.

                bundle reads a bundle made by '\(ProgramName.current) export' (sealed to this vault's identity, or \
                under an export passphrase: asked on the terminal, or read from \
                --export-passphrase-fd, --export-passphrase-file or TOKENVAULT_EXPORT_PASSPHRASE), \
                says who signed it, and merges it in one transaction: a new name is added; the same \
                token changes nothing; a different token becomes current only if the bundle's is \
                newer, and the other one is kept in the history. A bundle sealed to this vault's \
                identity and signed by an identity it does not trust ('\(ProgramName.current) id trust') is imported \
                only when you say yes on the terminal; without a terminal it is refused. A bundle \
                that is tampered with, truncated, signed again or for another vault is refused \
                (exit code 9), and nothing changes.

                Examples:
                  \(ProgramName.current) import git-credentials --dry-run
                  \(ProgramName.current) import git-credentials --remove
                  \(ProgramName.current) import netrc ~/old/.netrc
                  \(ProgramName.current) import bundle gitlab-ci.tvb --dry-run
                """)

        enum Format: String, ExpressibleByArgument, CaseIterable {
            case gitCredentials = "git-credentials"
            case netrc
            case bundle
        }

        @OptionGroup var global: GlobalOptions

        @Argument(help: "git-credentials, netrc or bundle.")
        var format: Format

        @Argument(help: "The file (default: the usual places for the format).", completion: .file())
        var file: String?

        @Flag(help: "List what would happen; change nothing.")
        var dryRun = false

        @Flag(help: "Overwrite and remove the plain-text file after a complete import.")
        var remove = false

        @Option(name: .customLong("export-passphrase-fd"), help: ArgumentHelp("bundle: read the export passphrase from this file descriptor.", valueName: "n"))
        var exportFD: Int32?

        @Option(name: .customLong("export-passphrase-file"), help: ArgumentHelp("bundle: read the export passphrase from this private file.", valueName: "path"))
        var exportFile: String?

        func validate() throws {
            if dryRun && remove { throw ValidationError("--dry-run and --remove exclude each other") }
            if format == .bundle {
                if remove { throw ValidationError("--remove is for plain-text files: a bundle holds its tokens sealed") }
                if file == nil { throw ValidationError("name the bundle: \(ProgramName.current) import bundle FILE") }
            }
        }

        func run() throws {
            if format == .bundle, let file { return try importBundle(file) }
            let files = file.map { [$0] } ?? defaultFiles()
            guard !files.isEmpty else {
                throw CLIError.failed("no \(format.rawValue) file found", hint: "name the file: \(ProgramName.current) import \(format.rawValue) PATH")
            }
            let vault = try global.unlockedVault()
            for path in files { try importFile(path, into: vault) }
        }

        private func defaultFiles() -> [String] {
            let env = Environment.current
            let home = env["HOME"] ?? ""
            let candidates: [String] = switch format {
            case .gitCredentials:
                [home + "/.git-credentials", (env["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.config") + "/git/credentials"]
            case .netrc:
                [home + "/.netrc"]
            case .bundle:
                []
            }
            return candidates.filter(VaultLocation.exists)
        }

        private func importFile(_ path: String, into vault: Vault) throws {
            let contents = try readPrivately(path)
            let parsed = contents.withUnsafeBytes { bytes in
                format == .gitCredentials ? PlainTextCredentials.parseGitCredentials(bytes) : PlainTextCredentials.parseNetrc(bytes)
            }
            let report: (String) throws -> Void = { line in
                if dryRun { try Output.out(TerminalText.escape(line) + "\n") } else { Output.note(line) }
            }
            try report("\(path): \(parsed.credentials.count) credential\(parsed.credentials.count == 1 ? "" : "s")")
            for problem in parsed.problems {
                try report("\(path):\(problem.line): skipped: \(problem.reason)")
            }
            // An entry in the trash is no home for a credential: it would be destroyed with the
            // trash, after the plain-text file is gone. Such credentials are imported anew.
            let all = try vault.entries()
            // Filed by host, and the batch's tokens by a keyed digest: each line costs the
            // entries of its host, not all of them (10,000 lines compared pairwise took minutes).
            let existing = GitMatching.HostIndex(all.filter { $0.deleted == nil })
            var batch: [Token] = []
            var batchTokens = SecretIndex<Entry>()
            var taken = Set(all.map(\.name))
            var suffixes: [String: Int] = [:]
            let requests = parsed.credentials.map { credential in
                var request = GitCredential()
                request.protocolName = credential.url.scheme
                request.host = credential.url.host
                request.path = credential.url.path
                request.username = credential.username
                return request
            }
            // The vault's entries that hold one of the file's tokens, among those of the same
            // hosts: each of their tokens opened once, in one read.
            var hosts: [String: GitCredential] = [:]
            for request in requests { hosts["\(request.protocolName ?? "") \(request.host ?? "")"] = request }
            let holders = try vault.holders(of: parsed.credentials.map(\.secret),
                                            among: Set(hosts.values.flatMap { existing.sameHost(as: $0).map(\.name) }))
            let byName = Dictionary(all.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            for (credential, (request, holding)) in zip(parsed.credentials, zip(requests, holders)) {
                let where_ = "\(path):\(credential.line): \(Redaction.redact(credential.url.description))"
                    + (credential.username.map { " (\(Redaction.redact($0)))" } ?? "")
                if let duplicate = GitMatching.sameHost(as: request, in: holding.sorted().compactMap { byName[$0] }).first {
                    try report("\(where_): already in the vault as '\(duplicate.name)'")
                    continue
                }
                if let twin = GitMatching.sameHost(as: request, in: batchTokens.values(holding: credential.secret)).first {
                    try report("\(where_): the same as '\(twin.name)' above")
                    continue
                }
                let name = GitMatching.generatedName(for: request, taken: taken, suffixes: &suffixes)
                taken.insert(name)
                let kind = TokenKind.recognise(credential.secret) ?? TokenKind.guess(host: credential.url.host)
                let entry = Entry(name: name, url: credential.url, username: credential.username, kind: kind,
                                  notes: "imported from \(path)")
                batch.append(Token(entry: entry, secret: credential.secret))
                batchTokens.insert(entry, holding: credential.secret)
                try report("\(where_): \(dryRun ? "would become" : "becomes") '\(name)'")
            }
            if dryRun { return }
            try vault.add(batch)
            Output.note("\(path): imported \(batch.count), in one transaction")
            guard remove else {
                Output.hint("check '\(ProgramName.current) list', then remove the plain-text file: \(ProgramName.current) import \(format.rawValue) \(path) --remove")
                return
            }
            guard parsed.problems.isEmpty else {
                throw CLIError.failed("\(path) was not removed: \(parsed.problems.count) line(s) were not imported",
                                      hint: "move those credentials by hand, then remove the file yourself")
            }
            try shred(path)
            Output.note("\(path) overwritten and removed")
            if format == .gitCredentials {
                Output.hint("make git use the vault: git config --global --unset-all credential.helper; git config --global credential.helper \"$(command -v git-credential-vault)\"")
            } else {
                Output.hint("programs that read ~/.netrc (curl -n, ftp) no longer find these credentials; give them $(\(ProgramName.current) get NAME)")
            }
        }

        /// Reads a file into secure memory.
        private func readPrivately(_ path: String) throws -> Secret {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw CLIError.failed("cannot read '\(path)': \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            var info = stat()
            let limit = 4 << 20
            guard fstat(fd, &info) == 0, info.st_size < limit else {
                throw CLIError.failed("'\(path)' is larger than \(limit >> 20) MiB: not a credentials file?")
            }
            return Secret.filling(maxCount: limit) { buffer in
                var length = 0
                while length < buffer.count {
                    let n = read(fd, buffer.baseAddress! + length, buffer.count - length)
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }
                    length += n
                }
                return length
            }
        }

        /// Overwrites the file with zeros, flushes it, then removes it.
        private func shred(_ path: String) throws {
            let fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)
            guard fd >= 0 else { throw CLIError.failed("cannot overwrite '\(path)': \(String(cString: strerror(errno)))") }
            var info = stat()
            fstat(fd, &info)
            let zeros = [UInt8](repeating: 0, count: 4096)
            var left = Int(info.st_size)
            while left > 0 {
                let n = write(fd, zeros, min(left, zeros.count))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    close(fd)
                    throw CLIError.failed("cannot overwrite '\(path)': \(String(cString: strerror(errno))); it was not removed")
                }
                left -= n
            }
            guard fsync(fd) == 0 else {
                close(fd)
                throw CLIError.failed("cannot flush '\(path)' to disk; it was not removed")
            }
            close(fd)
            guard unlink(path) == 0 else { throw CLIError.failed("cannot remove '\(path)': \(String(cString: strerror(errno)))") }
        }
    }
}
