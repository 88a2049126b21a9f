import ArgumentParser
import TokenVault
import VaultCLICommon

extension VaultCommand {
    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a token (and one newline) on standard output.",
            discussion: """
                Nothing else is printed on stdout, so the command fits in $( ). An expired or \
                revoked token is not printed (exit code 4) unless --allow-expired, nor one in the \
                trash (exit code 2); a refused read is not recorded as a use. A token that expires \
                within 7 days, or that git's server refused (see `vault restore`), is printed with \
                a warning on stderr. So is a token read from a read-only vault or on a full \
                disk: the read is not recorded, and the warning says so.

                Examples:
                  TOKEN=$(vault get gitlab-ci)
                  curl -H "PRIVATE-TOKEN: $(vault get gitlab-ci)" \\
                      https://gitlab.com/api/v4/user
                  vault get gitlab-ci --field username
                  vault get gitlab-ci --json | jq -r .secret
                """)

        enum Field: String, ExpressibleByArgument, CaseIterable {
            case username, url, host, scopes, expires, kind
        }

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The entry's name.", completion: NameCompletion.names(.live))
        var name: String

        @Option(help: "Print this field instead of the token: username, url, host, scopes, expires or kind.")
        var field: Field?

        @Flag(help: "Print the whole entry, token included, as one JSON object.")
        var json = false

        @Flag(help: "Print the token even if it has expired or is revoked.")
        var allowExpired = false

        func validate() throws {
            if field != nil && json { throw ValidationError("--field and --json exclude each other") }
        }

        func run() throws {
            try Self.perform(session: global.session, name: name, field: field, json: json, allowExpired: allowExpired)
        }

        /// The whole command, apart from parsing: `vault get NAME`, the commonest call in scripts,
        /// reaches it without the argument parser (see `VaultCommand.main`).
        static func perform(session: Session, name: String, field: Field? = nil, json: Bool = false,
                            allowExpired: Bool = false) throws {
            let vault = try session.unlockedVault()
            if let field {
                let entry = try withSuggestion(vault) { try vault.entry(named: name) }
                if entry.deleted != nil { throw VaultError.inTrash(name: name) }
                try Output.out(Self.value(of: field, in: entry) + "\n")
                return
            }
            // The library refuses a token in the trash, and a revoked or expired one unless
            // allowed, before it records the read.
            let token = try withSuggestion(vault) { try vault.get(name, allowingExpired: allowExpired) }
            let entry = token.entry, secret = token.secret
            ExpiryPolicy.warn(entry)
            if json {
                try Output.json(EntryJSON.metadata(entry, secret: secret))
            } else {
                try Output.out(secret: secret)
            }
        }

        static func value(of field: Field, in entry: Entry) -> String {
            EntryField(rawValue: field.rawValue)?.value(in: entry) ?? ""
        }
    }
}

/// What `get` says on stderr with a token the library handed out: the library's lines
/// (`Entry.readWarnings`), the same the agent sends to the C front end of `vault`.
enum ExpiryPolicy {
    static let warningDays = Entry.expiryWarningDays

    static func warn(_ entry: Entry, now: Timestamp = .now()) {
        for line in entry.readWarnings(now: now) { Output.warning(rendered: line) }
    }
}
