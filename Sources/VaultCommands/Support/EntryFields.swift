import ArgumentParser
import TokenVault
import VaultCLICommon

/// The metadata options that `add` (and later `edit`) take; parsing is kept apart from I/O.
struct EntryFields: ParsableArguments {
    @Option(help: ArgumentHelp("Where the token is used: https://host[:port][/path].", valueName: "url"))
    var url: String?

    @Option(help: ArgumentHelp("The user name to send with the token (GitLab accepts any, e.g. oauth2).", valueName: "user"))
    var username: String?

    @Option(help: ArgumentHelp("The token's scopes, comma-separated.", valueName: "a,b"))
    var scopes: String?

    @Option(help: ArgumentHelp("The day the token expires (YYYY-MM-DD, UTC).", valueName: "date"))
    var expires: String?

    @Option(help: ArgumentHelp("A free-text note.", valueName: "text"))
    var note: String?

    @Option(help: ArgumentHelp("gitlab, github or generic (default: recognised from the token's prefix or the host).",
                               valueName: "kind"))
    var kind: TokenKind?

    var isEmpty: Bool {
        url == nil && username == nil && scopes == nil && expires == nil && note == nil && kind == nil
    }

    struct Parsed {
        var url: CredentialURL?
        var username: String?
        var scopes: [String]?
        var expires: Timestamp?
        var note: String?
        var kind: TokenKind?

        func apply(to entry: Entry) -> Entry {
            var entry = entry
            if let url { entry.url = url }
            if let username { entry.username = username }
            if let scopes { entry.scopes = scopes }
            if let expires { entry.expires = expires }
            if let note { entry.notes = note }
            if let kind { entry.kind = kind }
            return entry
        }
    }

    /// The options, checked: a value that looks like a token is refused (it would sit in argv
    /// and be shown by `vault show`), and so is a user name or host with a control character.
    func parsed() throws -> Parsed {
        if let note { try Redaction.refuseToken(note, what: "the value of --note") }
        var result = Parsed(note: note, kind: kind)
        if let url {
            let parsed = try CredentialURL.parse(url)
            let parsedURL = parsed.url, user = parsed.username
            try Entry.validate(host: parsedURL.host)
            // Every part of it: a token pasted as a host or into a path sits in argv just the same.
            try Redaction.refuseToken(parsedURL.host, what: "the host in --url")
            for segment in (parsedURL.path ?? "").split(separator: "/") {
                try Redaction.refuseToken(String(segment), what: "the path in --url")
            }
            if let user {
                try Redaction.refuseToken(user, what: "the user name in --url")
                try Entry.validate(username: user)
            }
            result.url = parsedURL
            result.username = user
        }
        if let username {
            try Redaction.refuseToken(username, what: "the value of --username")
            try Entry.validate(username: username)
            result.username = username
        }
        if let scopes {
            result.scopes = scopes.split(separator: ",").map { String($0).trimmingSpaces() }.filter { !$0.isEmpty }
            for scope in result.scopes ?? [] { try Redaction.refuseToken(scope, what: "a scope in --scopes") }
        }
        if let expires {
            guard let date = Timestamp(date: expires) else {
                throw ValidationError("--expires takes a date as YYYY-MM-DD")
            }
            result.expires = date
        }
        return result
    }
}

extension TokenKind: ExpressibleByArgument {}

extension String {
    func trimmingSpaces() -> String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
