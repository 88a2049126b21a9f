import ArgumentParser
import TokenVault
import TokenVaultOpenBao
import VaultCLICommon

extension VaultCommand {
    struct Edit: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change an entry's metadata, or its token with --secret.",
            discussion: """
                Only the fields given change. With --secret the new token is read like `\(ProgramName.current) add` \
                reads one: from standard input when that is not a terminal, else from a prompt \
                that does not echo.

                Examples:
                  \(ProgramName.current) edit gitlab-ci --scopes read_api --expires 2027-06-30
                  \(ProgramName.current) edit gitlab-ci --no-expiry
                  \(ProgramName.current) edit work-gitlab --git-default
                  \(ProgramName.current) edit gitlab-ci --rotate-every 30d
                  printf %s "$NEW_TOKEN" | \(ProgramName.current) edit gitlab-ci --secret
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var fields: EntryFields

        @Argument(help: "The entry's name.", completion: NameCompletion.names(.live))
        var name: String

        @Flag(help: "The token does not expire.")
        var noExpiry = false

        @Flag(help: "Replace the token (read from standard input or a prompt); the old one is kept in its history.")
        var secret = false

        @Flag(inversion: .prefixedNo, help: "Whether git's helper prefers this entry among several for its host.")
        var gitDefault: Bool?

        @Option(help: ArgumentHelp("How often the token should be replaced (e.g. 90d); \(ProgramName.current) check reports it when due.",
                                   valueName: "span"))
        var rotateEvery: Span?

        @Flag(help: "Mark an entry that git's helper stored as reviewed (any other change does too).")
        var reviewed = false

        @Argument(parsing: .allUnrecognized, help: .hidden)
        var extra: [String] = []

        func validate() throws {
            try refuseExtraArguments(extra)
            try checkingInput { _ = try fields.parsed() }
            if noExpiry && fields.expires != nil { throw ValidationError("--expires and --no-expiry exclude each other") }
            if let rotateEvery, rotateEvery.seconds < 86_400 { throw ValidationError("--rotate-every takes at least 1d") }
            if !secret && !noExpiry && !reviewed && gitDefault == nil && rotateEvery == nil && fields.isEmpty {
                throw ValidationError("nothing to change: give --url, --username, --scopes, --expires, --no-expiry, --note, --kind, --secret or --reviewed")
            }
        }

        func run() throws {
            let vault = try global.unlockedVault()
            if let remote = try RemoteAccess.resolve(name, in: vault) {
                try editRemote(remote.entries, remote.entry, vault: vault)
                return
            }
            _ = try withSuggestion(vault) { try vault.entry(named: name) }
            let newSecret = secret ? try TokenInput.read(prompt: "New token for \(name): ") : nil
            let parsed = try fields.parsed()
            try vault.update(name, secret: newSecret) { entry in
                entry = parsed.apply(to: entry)
                if noExpiry { entry.expires = nil }
                if parsed.kind == nil, let newSecret, let kind = TokenKind.recognise(newSecret) { entry.kind = kind }
                if let gitDefault { entry.isGitDefault = gitDefault }
                if let rotateEvery { entry.rotateEvery = .seconds(rotateEvery.seconds) }
                entry.storedByGit = false  // Looked at by its owner.
            }
            if fields.scopes != nil { ScopeCheck.warn(try vault.entry(named: name)) }
            if gitDefault == true, let host = try vault.entry(named: name).host {
                // One default per host: the others give way.
                for other in try vault.entries() where other.name != name && other.host == host && other.isGitDefault {
                    try vault.update(other.name) { $0.isGitDefault = false }
                }
            }
            Output.note("updated '\(name)'")
        }

        /// A remote entry: one new KV version (check-and-set on the version read); a git default
        /// is a local matter, refused.
        private func editRemote(_ entries: RemoteEntries, _ entry: String, vault: Vault) throws {
            if gitDefault != nil { throw CLIError.usage("--git-default is for local entries") }
            _ = try entries.entry(entry)
            let newSecret = secret ? try TokenInput.read(prompt: "New token for \(name): ") : nil
            let parsed = try fields.parsed()
            let version = try entries.update(entry, secret: newSecret) { entry in
                entry = parsed.apply(to: entry)
                if noExpiry { entry.expires = nil }
                if parsed.kind == nil, let newSecret, let kind = TokenKind.recognise(newSecret) { entry.kind = kind }
                if let rotateEvery { entry.rotateEvery = .seconds(rotateEvery.seconds) }
            }
            if fields.scopes != nil { ScopeCheck.warn(try entries.entry(entry).entry) }
            vault.forgetRemoteEntry(name)
            Output.note("updated '\(name)' (version \(version) in OpenBao)")
        }
    }
}
