import ArgumentParser
import TokenVault
import TokenVaultOpenBao
import VaultCLICommon

extension VaultCommand {
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a token.",
            discussion: """
                The token is read from standard input when that is not a terminal, otherwise from \
                a prompt that does not echo. It is never accepted as an argument.

                Examples:
                  printf %s "$TOKEN" | \(ProgramName.current) add gitlab-ci --url https://gitlab.com \\
                      --username oauth2 --scopes read_api,read_repository --expires 2027-03-01
                  \(ProgramName.current) add github-cli      # asks; a GitHub token gets https://github.com
                """)

        @OptionGroup var global: GlobalOptions
        @OptionGroup var fields: EntryFields

        @Argument(help: "The entry's name: letters, digits and . _ - @ : + /")
        var name: String

        @Argument(parsing: .allUnrecognized, help: .hidden)
        var extra: [String] = []

        func validate() throws {
            try refuseExtraArguments(extra)
            try checkingInput {
                try Entry.validate(name: name)
                _ = try fields.parsed()
            }
        }

        func run() throws {
            let vault = try global.unlockedVault()
            let remote = try RemoteAccess.resolve(name, in: vault)
            // Fail before asking for the token if the name is taken.
            if remote == nil, (try? vault.entry(named: name)) != nil { throw VaultError.alreadyExists(name: name) }
            let secret = try TokenInput.read(prompt: "Token for \(name): ")
            var entry = try fields.parsed().apply(to: Entry(name: name))
            if fields.kind == nil {
                entry.kind = TokenKind.recognise(secret) ?? TokenKind.guess(host: entry.host)
            }
            let defaultURL = entry.url == nil && entry.kind == .github ? AddDefaults.url(for: secret) : nil
            if let defaultURL { entry.url = defaultURL }
            // A remote entry: a new KV secret in OpenBao, never one that exists (check-and-set 0).
            if let remote { try remote.entries.add(entry, secret: secret) } else { try vault.add(entry, secret: secret) }
            Output.note("added '\(name)'" + (defaultURL.map { " for \($0) (a GitHub token; --url to say otherwise)" } ?? ""))
            ScopeCheck.warn(entry)
            for notice in AddDefaults.notices(entry) {
                switch notice {
                case .gitLabWithoutURL:
                    Output.hint("git will not use '\(name)' until it has a URL: \(ProgramName.current) edit \(name) --url https://gitlab.example.com")
                case .expiredAlready(let date):
                    Output.warning("'\(name)' expired on \(date.dateString): it is never handed out (\(ProgramName.current) edit \(name) --expires DATE)")
                }
            }
        }
    }
}
