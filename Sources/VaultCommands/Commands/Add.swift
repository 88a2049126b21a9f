import ArgumentParser
import TokenVault
import VaultSupport

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

/// Reads a token: all of stdin when it is not a terminal, else a no-echo prompt on /dev/tty.
enum TokenInput {
    static func read(prompt: String) throws -> Secret {
        let secret: Secret
        if !Terminal.isTerminal(0) {
            secret = try LineReader.readAll(fd: 0, what: "the token on standard input")
        } else if let typed = try Terminal.readSecret(prompt: prompt) {
            secret = typed
        } else {
            throw CLIError.failed("no token: standard input is a terminal but there is no terminal to prompt on")
        }
        guard !secret.isEmpty else {
            throw CLIError.failed("the token is empty", hint: "pipe it on standard input: printf %s \"$TOKEN\" | vault add NAME")
        }
        return secret
    }
}

/// Scopes that GitLab or GitHub does not know get a warning (never a refusal: scopes change).
enum ScopeCheck {
    static func warn(_ entry: Entry) {
        for scope in Review.unknownScopes(entry.scopes, kind: entry.kind) {
            Output.warning("'\(scope)' is not a \(entry.kind == .gitlab ? "GitLab" : "GitHub") scope that TokenVault knows")
        }
    }
}
