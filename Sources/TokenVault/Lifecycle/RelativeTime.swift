/// How far a time is from now, in words, for a person: `vault get`'s warnings (rendered here,
/// by the library, for the CLI and the agent alike), `vault list` and `vault show`.
package enum RelativeTime {
    /// "in 12 days", "3 days ago", "in 5 hours", "in 4 months", "2 years ago".
    package static func describe(_ date: Timestamp, now: Timestamp = .now()) -> String {
        // Both within the years a date can be written for (a time from the file or the agent
        // may be anything): the difference then cannot overflow.
        func clamped(_ t: Timestamp) -> Int64 { min(max(t.secondsSince1970, Timestamp.earliest), Timestamp.latest) }
        let seconds = clamped(date) - clamped(now)
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
    package static func expiry(_ date: Timestamp, now: Timestamp = .now()) -> String {
        date <= now ? "expired " + describe(date, now: now) : describe(date, now: now)
    }
}
