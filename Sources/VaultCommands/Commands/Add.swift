import ArgumentParser
import TokenVault
import VaultCLICommon

extension VaultCommand {
    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a token.",
            discussion: """
                The token is read from standard input when that is not a terminal, otherwise from \
                a prompt that does not echo. It is never accepted as an argument.

                Examples:
                  printf %s "$TOKEN" | vault add gitlab-ci --url https://gitlab.com --username oauth2 \\
                      --scopes read_api,read_repository --expires 2027-03-01
                  vault add github-cli --url https://github.com      # asks for the token
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
            // Fail before asking for the token if the name is taken.
            if (try? vault.entry(named: name)) != nil { throw VaultError.alreadyExists(name: name) }
            let secret = try TokenInput.read(prompt: "Token for \(name): ")
            var entry = try fields.parsed().apply(to: Entry(name: name))
            if fields.kind == nil {
                entry.kind = TokenKind.recognise(secret) ?? TokenKind.guess(host: entry.host)
            }
            try vault.add(entry, secret: secret)
            Output.note("added '\(name)'")
            ScopeCheck.warn(entry)
        }
    }
}
