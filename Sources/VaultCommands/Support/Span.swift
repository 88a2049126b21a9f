import ArgumentParser

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

/// A span that also takes a bare number of days (`check --within 30`, as it always has), or a
/// span as `list --expiring` takes it (`30d`, `2w`); counted in whole days, rounded up.
struct DaySpan: ExpressibleByArgument, Sendable {
    var days: Int

    init(days: Int) { self.days = days }

    var defaultValueDescription: String { "\(days)d" }

    init?(argument: String) {
        guard let span = Int64(argument) != nil ? Span(argument: argument + "d") : Span(argument: argument) else { return nil }
        days = Int((span.seconds + 86_399) / 86_400)
    }
}

/// The library's durations as the CLI shows them: whole days, or whole seconds for `Span`.
extension Duration {
    /// Whole seconds, rounded down (the vault keeps whole seconds or whole days).
    var wholeSeconds: Int64 { components.seconds }
    /// Whole days, rounded down.
    var wholeDays: Int64 { components.seconds / 86_400 }
}
