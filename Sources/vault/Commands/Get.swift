import ArgumentParser
import TokenVault

extension VaultCommand {
    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a token (and one newline) on standard output.",
            discussion: """
                Nothing else is printed on stdout, so the command fits in $( ). An expired token is \
                not printed (exit code 4) unless --allow-expired; a token that expires within 7 \
                days is printed with a warning on stderr.

                Examples:
                  TOKEN=$(vault get gitlab-ci)
                  curl -H "PRIVATE-TOKEN: $(vault get gitlab-ci)" https://gitlab.com/api/v4/user
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The entry's name.")
        var name: String

        @Flag(help: "Print the token even if it has expired.")
        var allowExpired = false

        func run() throws {
            let vault = try global.unlockedVault()
            let (entry, secret) = try withSuggestion(vault) { try vault.get(name) }
            try ExpiryPolicy.check(entry, allowExpired: allowExpired)
            try Output.out(secret: secret)
        }
    }
}

/// What `get` (and later the git helper) does with expiring and expired tokens.
enum ExpiryPolicy {
    static let warningDays = 7

    static func check(_ entry: Entry, allowExpired: Bool, now: Timestamp = .now()) throws {
        guard let expires = entry.expires else { return }
        if expires <= now {
            if !allowExpired { throw CLIError.expired(name: entry.name, on: expires) }
            Output.warning("the token '\(Redaction.displayName(entry.name))' expired on \(expires.dateString)")
        } else if expires <= now.adding(days: warningDays) {
            Output.warning("the token '\(Redaction.displayName(entry.name))' expires \(RelativeTime.describe(expires, now: now)) (\(expires.dateString))")
        }
    }
}

enum RelativeTime {
    /// "in 12 days", "expired 3 days ago", "today", "in 5 hours".
    static func describe(_ date: Timestamp, now: Timestamp = .now()) -> String {
        let seconds = date.secondsSince1970 - now.secondsSince1970
        let magnitude = abs(seconds)
        let text: String
        if magnitude < 3600 {
            text = "\(max(1, magnitude / 60)) minute" + (magnitude / 60 == 1 ? "" : "s")
        } else if magnitude < 86_400 {
            text = "\(magnitude / 3600) hour" + (magnitude / 3600 == 1 ? "" : "s")
        } else {
            text = "\(magnitude / 86_400) day" + (magnitude / 86_400 == 1 ? "" : "s")
        }
        return seconds >= 0 ? "in \(text)" : "\(text) ago"
    }
}
