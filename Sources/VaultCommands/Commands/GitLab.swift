import ArgumentParser
import TokenVault
import TokenVaultGitLab
import VaultCLICommon
import Glibc

extension VaultCommand {
    struct GitLabCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gitlab",
            abstract: "Verify, rotate and revoke GitLab personal access tokens through GitLab's API.",
            discussion: """
                The token talks to GitLab about itself, over HTTPS at its entry's URL, in the \
                PRIVATE-TOKEN header only. Proxies come from https_proxy, all_proxy and no_proxy; \
                a GitLab behind a private certificate authority needs --ca-file.

                Examples:
                  vault gitlab verify gitlab-ci
                  vault gitlab verify --all
                  vault gitlab rotate gitlab-ci --expires-in 90d
                  vault gitlab revoke old-token
                """,
            subcommands: [Verify.self, Rotate.self, Revoke.self])
    }
}

extension VaultCommand.GitLabCommand {
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ask GitLab about a token, and bring its entry up to date (scopes, expiry, revoked).",
            discussion: """
                One line per token. Exit code 0: every token is active; 4: one is revoked or \
                expired; 1: GitLab could not be asked about one.

                Examples:
                  vault gitlab verify gitlab-ci
                  vault gitlab verify --all --ca-file /etc/ssl/private-ca.pem
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var gitlab: GitLabOptions

        @Argument(help: "The entry's name.")
        var name: String?

        @Flag(help: "Every GitLab entry not in the trash.")
        var all = false

        func validate() throws {
            if (name == nil) == !all { throw ValidationError("give an entry's name, or --all") }
        }

        func run() throws {
            let vault = try global.unlockedVault()
            let session = try GitLabSession(vault: vault, options: gitlab)
            let entries: [Entry]
            if let name {
                // Named, an entry in the trash too (a token revoked with 'vault gitlab revoke').
                entries = [try withSuggestion(vault) { try vault.entry(named: name) }]
            } else {
                entries = try session.gitlabEntries()
                if entries.isEmpty { Output.note("no GitLab entries (vault list --kind gitlab)") }
            }
            var worst = ExitStatus.success
            for entry in entries {
                let result = session.verify(entry)
                switch result.state {
                case .active:
                    try Output.out(TerminalText.escape(result.report) + "\n")
                case .revoked, .expired:
                    try Output.out(TerminalText.escape(result.report) + "\n")
                    if worst == .success { worst = .expired }
                case .failed:
                    Output.error(result.report)
                    worst = .other
                }
            }
            if worst != .success { throw CLIError.exit(worst) }
        }
    }

    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rotate a token at GitLab and store its successor, keeping the old one in the entry's history.",
            discussion: """
                GitLab revokes the old token as it creates the new one (GitLab 16.10 or later; the \
                token needs the api or self_rotate scope). The new token is written to the vault \
                the moment GitLab's answer arrives. A rotation is never retried: rotating a token \
                that is already revoked revokes its successor too. If no answer comes after the \
                request was sent, the vault keeps the old token, marks the rotation unfinished, \
                and 'vault gitlab verify NAME' finds out what happened.

                The new token expires after --expires-in or on --expires; by default after the \
                entry's rotation period (vault config rotate-every), at most 365 days.

                Examples:
                  vault gitlab rotate gitlab-ci
                  vault gitlab rotate gitlab-ci --expires-in 30d
                  vault gitlab rotate gitlab-ci --expires 2027-03-01
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var gitlab: GitLabOptions

        @Argument(help: "The entry's name.")
        var name: String

        @Option(name: .customLong("expires-in"), help: ArgumentHelp("The new token's lifetime (e.g. 90d).", valueName: "span"))
        var expiresIn: Span?

        @Option(help: ArgumentHelp("The new token's expiry date.", valueName: "YYYY-MM-DD"))
        var expires: String?

        func validate() throws {
            if expiresIn != nil && expires != nil { throw ValidationError("--expires-in and --expires exclude each other") }
            if let expires, Timestamp(date: expires) == nil { throw ValidationError("--expires takes a date, YYYY-MM-DD") }
            if let expiresIn, expiresIn.seconds < 86_400 { throw ValidationError("--expires-in takes at least a day") }
        }

        func run() throws {
            let vault = try global.unlockedVault()
            let session = try GitLabSession(vault: vault, options: gitlab)
            let entry = try withSuggestion(vault) { try vault.entry(named: name) }
            if entry.deleted != nil { throw CLIError.inTrash(name) }
            if let started = entry.rotationStarted {
                throw CLIError.failed("a rotation of '\(name)' started on \(started.iso8601) did not finish: the old token may be revoked already",
                                      hint: "vault gitlab verify \(name) finds out; rotating again now could revoke its successor")
            }
            if entry.revoked != nil {
                throw CLIError.failed("'\(name)' is revoked at GitLab: a revoked token cannot be rotated",
                                      hint: "create a new token in GitLab, and store it with: vault edit \(name) --secret")
            }
            let newExpiry = try self.newExpiry(entry, vault: vault)
            let api = try session.gitlab(for: entry)

            // Marked first, in one check-and-set (a concurrent rotation of the same entry finds
            // the mark and stops: the second request would carry a revoked token, and GitLab
            // would revoke the first one's new token too). The token is read after the mark,
            // so it is the newest. A process stopped at any instant from here leaves the truth
            // in the vault: a rotation asked for, outcome unknown until verified.
            var underWay = false
            do {
                try vault.update(name, action: "rotate at GitLab: asked", detail: "new expiry \(newExpiry.dateString)") { e throws(VaultError) in
                    guard e.rotationStarted == nil, e.revoked == nil else { underWay = true; throw .invalidInput("under way") }
                    e.rotationStarted = .now()
                }
            } catch {
                guard underWay else { throw error }
                throw CLIError.failed("another rotation of '\(name)' is under way or did not finish",
                                      hint: "vault gitlab verify \(name) finds out")
            }
            let token = try vault.secret(named: name, for: "read for gitlab rotate")

            // What GitLab says of the token: rotating a revoked token would revoke its successor
            // (which another machine may hold), so only a live one is rotated.
            let info: GitLab.TokenInfo
            switch Result(catching: { () throws(GitLabError) in try api.verify(token) }) {
            case .success(let answer):
                info = answer
            case .failure(.unauthorized):
                try clearMark(vault, "not done: GitLab refuses the token")
                throw CLIError.failed("GitLab refuses the token (401: revoked, expired or invalid): not rotating it",
                                      hint: "vault gitlab verify \(name) marks it; then create a new token in GitLab")
            case .failure(let error):
                try clearMark(vault, "not done: \(error.description)")
                throw CLIError.failed("\(error.description): nothing was rotated, the old token is unchanged")
            }
            guard info.active && !info.revoked else {
                try clearMark(vault, "not done: the token is no longer active")
                throw CLIError.failed("GitLab says the token is no longer active: not rotating it", hint: "vault gitlab verify \(name)")
            }
            if !info.scopes.contains("api") && !info.scopes.contains("self_rotate") {
                try clearMark(vault, "not done: no api or self_rotate scope")
                throw CLIError.failed("the token has neither the api nor the self_rotate scope, which GitLab requires to rotate a token by itself (it has: \(info.scopes.joined(separator: ",")))",
                                      hint: "create a new token in GitLab instead, and store it with: vault edit \(name) --secret")
            }

            // Ctrl-C, kill and a closed terminal wait until the outcome is stored and said.
            let stops = Signals.deferStops()
            let status: ExitStatus
            do {
                let rotated: (info: GitLab.TokenInfo, token: Secret)
                switch Result(catching: { () throws(GitLabError) in try api.rotate(token, expires: newExpiry) }) {
                case .success(let answer): rotated = answer
                case .failure(let error): try settleFailure(error, vault: vault)
                }
                try store(rotated, vault: vault)
                Output.note("rotated '\(name)' at GitLab: the new token expires on \(rotated.info.expires?.dateString ?? "?"); the old one is revoked, and kept in 'vault history \(name)'")
                status = .success
            } catch {
                status = Output.report(error)
            }
            Signals.restore(stops)
            if status != .success { throw CLIError.exit(status) }
        }

        private func clearMark(_ vault: Vault, _ detail: String) throws {
            try vault.update(name, action: "rotate at GitLab: not done", detail: detail) { $0.rotationStarted = nil }
        }

        /// The new token's expiry: what was asked, else the rotation period, at most 365 days.
        func newExpiry(_ entry: Entry, vault: Vault) throws -> Timestamp {
            if let expires, let date = Timestamp(date: expires) {
                guard date > .now() else { throw CLIError.usage("--expires is in the past") }
                return date
            }
            let period = try expiresIn?.seconds ?? (entry.rotateEvery ?? vault.settings().rotateEvery).wholeSeconds
            let days = Int(min(max(period / 86_400, 1), 365))
            return Timestamp(date: Timestamp.now().adding(days: days).dateString) ?? .now().adding(days: days)
        }

        /// Writes the new token at once; the vault retries a busy write, then, as a last
        /// resort, the token is shown rather than lost.
        func store(_ rotated: (info: GitLab.TokenInfo, token: Secret), vault: Vault) throws {
            var lastError: Error?
            for attempt in 0..<5 {
                do {
                    try vault.update(name, secret: rotated.token, action: "rotate at GitLab",
                                     detail: "new token expires \(rotated.info.expires?.dateString ?? "?")") { e in
                        e.expires = rotated.info.expires
                        e.scopes = rotated.info.scopes
                        e.rotationStarted = nil
                        e.revoked = nil
                    }
                    return
                } catch {
                    lastError = error
                    usleep(useconds_t(200_000 * (attempt + 1)))
                }
            }
            Output.error("GitLab rotated '\(name)', but the vault could not store the new token (\(lastError.map { "\($0)" } ?? "")): it is printed on stdout, so it is not lost")
            Output.hint("store it with: vault edit \(name) --secret (the old token is revoked)")
            try Output.out(secret: rotated.token)
            throw CLIError.exit(.other)
        }

        /// Reports a rotation that failed, and records what is known: nothing happened (the
        /// mark is cleared), or GitLab may have acted (the mark stays, for verify).
        func settleFailure(_ error: GitLabError, vault: Vault) throws -> Never {
            if case .unauthorized = error {
                // The token was refused: revoked (or expired) since it was checked a moment ago.
                // If it had been rotated before, GitLab has now revoked its successor as well.
                try vault.update(name, action: "rotate at GitLab: refused", detail: error.description) { e in
                    e.rotationStarted = nil
                    e.revoked = e.revoked ?? .now()
                }
                throw CLIError.failed(
                    "\(error.description) when asked to rotate it: the token is revoked (marked so), and if it had been rotated elsewhere before, GitLab has now revoked that successor too",
                    hint: "create a new token in GitLab and store it with 'vault edit \(name) --secret'")
            }
            if error.mayHaveActed {
                try vault.update(name, action: "rotate at GitLab: outcome unknown", detail: error.description) { _ in }
                throw CLIError.failed(
                    "\(error.description). GitLab may have rotated the token: the old one may already be revoked, and the new one never reached the vault. The vault keeps the old token and does not retry (rotating a revoked token revokes its successor too).",
                    hint: "vault gitlab verify \(name): if GitLab refuses the old token, create a new one in GitLab and store it with 'vault edit \(name) --secret'")
            }
            try vault.update(name, action: "rotate at GitLab: not done", detail: error.description) { $0.rotationStarted = nil }
            throw CLIError.failed("\(error.description): the token was not rotated, and the old one still works")
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a token at GitLab; its entry is marked revoked and moved to the trash.",
            discussion: """
                The token stops working everywhere at once. Asks for confirmation on a terminal; \
                without a terminal, --yes is required. The entry stays in the trash for the \
                vault's trash period ('vault rm --purge NAME' destroys it now).

                Examples:
                  vault gitlab revoke old-token
                  vault gitlab revoke old-token --yes
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var gitlab: GitLabOptions

        @Argument(help: "The entry's name.")
        var name: String

        @Flag(name: [.short, .long], help: "Do not ask for confirmation.")
        var yes = false

        func run() throws {
            let vault = try global.unlockedVault()
            let session = try GitLabSession(vault: vault, options: gitlab)
            let entry = try withSuggestion(vault) { try vault.entry(named: name) }
            let api = try session.gitlab(for: entry)
            if !yes {
                guard let answer = Terminal.confirm("Revoke '\(name)' at \(api.base)? It stops working everywhere.") else {
                    throw CLIError.usage("refusing to revoke '\(name)' without confirmation", hint: "pass --yes")
                }
                guard answer else {
                    Output.note("nothing revoked")
                    throw CLIError.exit(.other)
                }
            }
            let token = try vault.secret(named: name, for: "read for gitlab revoke")
            switch Result(catching: { () throws(GitLabError) in try api.revoke(token) }) {
            case .success:
                break
            case .failure(.unauthorized):
                throw CLIError.failed("GitLab refuses the token (401): it is already revoked, expired or invalid; nothing changed",
                                      hint: "vault gitlab verify \(name) marks it; vault rm \(name) moves it to the trash")
            case .failure(let error):
                if error.mayHaveActed {
                    try vault.update(name, action: "revoke at GitLab: outcome unknown", detail: error.description) { _ in }
                }
                let state = error.mayHaveActed ? "the token may be revoked already" : "the token was not revoked"
                throw CLIError.failed("\(error.description): \(state)", hint: "vault gitlab verify \(name)")
            }
            let now = Timestamp.now()
            try vault.update(name, action: "revoke at GitLab") { e in
                e.revoked = now
                e.deleted = e.deleted ?? now
            }
            let days = (try? vault.settings().trashRetention.wholeDays) ?? 30
            Output.note("revoked '\(name)' at GitLab; the entry is in the trash for \(days) days")
        }
    }
}
