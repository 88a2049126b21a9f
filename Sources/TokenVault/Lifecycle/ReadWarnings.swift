/// The warnings that come with a token `vault get` hands out, rendered once, here: the CLI
/// prints them when it reads the vault itself, and the agent sends them with the token to the C
/// front end of `vault` (Sources/vault/main.c), which prints them as they came. Either way the
/// same bytes reach stderr, but for the program's name: a command a warning quotes is
/// `'vault ...'` from the agent, which the front end invoked as `tokenvault` renames.
extension Entry {
    /// How many days before it expires a token handed out comes with a warning.
    package static let expiryWarningDays = 7

    /// The lines `vault get` prints after `vault: warning: ` when it hands out this entry's token
    /// at `now`: revoked or expired (handed out with `--allow-expired`), expiring within
    /// ``expiryWarningDays``, refused by git's server. Each is one line, escaped for the terminal
    /// (`TerminalText.escape`): no line holds a control or format character. A command a line
    /// quotes is spelled `'PROGRAM ...'` (``ProgramName``).
    package func readWarnings(now: Timestamp = .now(), program: String = ProgramName.current) -> [String] {
        let shown = Redaction.redact(name)
        var lines: [String] = []
        if let revoked {
            lines.append(VaultError.revoked(name: name, on: revoked).description)
        }
        if let expires {
            if expires <= now {
                lines.append(VaultError.expired(name: name, on: expires).description)
            } else if expires <= now.adding(days: Self.expiryWarningDays) {
                lines.append("the token '\(shown)' expires \(RelativeTime.describe(expires, now: now)) (\(expires.dateString))")
            }
        }
        if let rejected {
            // Handed out all the same (a script may know better), but not silently.
            lines.append("git's server refused the token '\(shown)' on \(rejected.iso8601) (\(RelativeTime.describe(rejected, now: now))): git no longer gets it ('\(program) restore \(shown)' gives it back)")
        }
        return lines.map(TerminalText.escape)
    }
}
