import ArgumentParser
import TokenVault
import VaultSupport

extension VaultCommand {
    struct Get: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a token (and one newline) on standard output.",
            discussion: """
                Nothing else is printed on stdout, so the command fits in $( ). An expired or \
                revoked token is not printed (exit code 4) unless --allow-expired, nor one in the \
                trash (exit code 2); a refused read is not recorded as a use. A token that expires \
                within 7 days, or that git's server refused (see `vault restore`), is printed with \
                a warning on stderr.

                Examples:
                  TOKEN=$(vault get gitlab-ci)
                  curl -H "PRIVATE-TOKEN: $(vault get gitlab-ci)" https://gitlab.com/api/v4/user
                  vault get gitlab-ci --field username
                  vault get gitlab-ci --json | jq -r .secret
                """)

        enum Field: String, ExpressibleByArgument, CaseIterable {
            case username, url, host, scopes, expires, kind
        }

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The entry's name.")
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
            let (entry, secret) = try withSuggestion(vault) { try vault.get(name, allowingExpired: allowExpired) }
            ExpiryPolicy.warn(entry)
            if json {
                try Output.out(JSON.encode(EntryJSON.metadata(entry, secret: secret)) + "\n")
            } else {
                try Output.out(secret: secret)
            }
        }

        static func value(of field: Field, in entry: Entry) -> String {
            switch field {
            case .username: entry.username ?? ""
            case .url: entry.url?.description ?? ""
            case .host: entry.host ?? ""
            case .scopes: entry.scopes.joined(separator: ",")
            case .expires: entry.expires?.dateString ?? ""
            case .kind: entry.kind.rawValue
            }
        }
    }
}

/// The warnings `get` prints on stderr with a token the library handed out: it expires soon,
/// or it expired, is revoked or was refused by git's server and is printed all the same.
enum ExpiryPolicy {
    static let warningDays = 7

    static func warn(_ entry: Entry, now: Timestamp = .now()) {
        let name = Redaction.displayName(entry.name)
        if let revoked = entry.revoked {
            Output.warning(VaultError.revoked(name: entry.name, on: revoked).description)
        }
        if let expires = entry.expires {
            if expires <= now {
                Output.warning(VaultError.expired(name: entry.name, on: expires).description)
            } else if expires <= now.adding(days: warningDays) {
                Output.warning("the token '\(name)' expires \(RelativeTime.describe(expires, now: now)) (\(expires.dateString))")
            }
        }
        if let rejected = entry.rejected {
            // Printed all the same (a script may know better), but not silently.
            Output.warning("git's server refused the token '\(name)' on \(rejected.iso8601) (\(RelativeTime.describe(rejected))): git no longer gets it ('vault restore \(name)' gives it back)")
        }
    }
}

enum RelativeTime {
    /// "in 12 days", "3 days ago", "in 5 hours", "in 4 months", "2 years ago".
    static func describe(_ date: Timestamp, now: Timestamp = .now()) -> String {
        let seconds = date.secondsSince1970 - now.secondsSince1970
        let magnitude = abs(seconds)
        if magnitude < 60 { return "just now" }
        let (count, unit): (Int64, String) = switch magnitude {
        case ..<3600: (max(1, magnitude / 60), "minute")
        case ..<86_400: (magnitude / 3600, "hour")
        case ..<(86_400 * 100): (magnitude / 86_400, "day")
        case ..<(86_400 * 730): (magnitude / (86_400 * 30), "month")
        default: (magnitude / (86_400 * 365), "year")
        }
        let text = "\(count) \(unit)" + (count == 1 ? "" : "s")
        return seconds >= 0 ? "in \(text)" : "\(text) ago"
    }

    /// "in 12 days" or "expired 3 days ago".
    static func expiry(_ date: Timestamp, now: Timestamp = .now()) -> String {
        date <= now ? "expired " + describe(date, now: now) : describe(date, now: now)
    }
}

/// `30d`, `12h`, `2w`, `90m` (minutes), `1y`: a span of time for filters and timeouts.
struct Span: ExpressibleByArgument, Sendable {
    var seconds: Int64

    init(seconds: Int64) { self.seconds = seconds }

    /// As it is typed: `15m`, `12h` (the largest unit that divides it).
    var defaultValueDescription: String {
        let units: [(Int64, String)] = [(86_400, "d"), (3600, "h"), (60, "m")]
        let (factor, unit) = units.first { seconds > 0 && seconds % $0.0 == 0 } ?? (1, "s")
        return "\(seconds / factor)\(unit)"
    }

    init?(argument: String) {
        guard let unit = argument.last, let number = Int64(argument.dropLast()), number >= 0 else { return nil }
        let factor: Int64 = switch unit {
        case "s": 1
        case "m": 60
        case "h": 3600
        case "d": 86_400
        case "w": 7 * 86_400
        case "y": 365 * 86_400
        default: 0
        }
        guard factor > 0 else { return nil }
        let (product, overflow) = number.multipliedReportingOverflow(by: factor)
        // At most a century: nothing here needs more, and arithmetic on it stays far from overflow.
        guard !overflow, product <= 36_500 * 86_400 else { return nil }
        seconds = product
    }
}
