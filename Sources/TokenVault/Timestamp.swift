import Glibc

/// A point in time, in whole seconds since 1970-01-01 UTC. (The library does without Foundation
/// to keep the start-up of the tools that use it short.)
public struct Timestamp: Sendable, Hashable, Comparable, Codable {
    /// Whole seconds since 1970-01-01T00:00:00Z (negative before).
    public var secondsSince1970: Int64

    /// The instant this many seconds after 1970-01-01T00:00:00Z.
    public init(secondsSince1970: Int64) {
        self.secondsSince1970 = secondsSince1970
    }

    /// The current time of the system's real-time clock, in whole seconds.
    public static func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(secondsSince1970: Int64(spec.tv_sec))
    }

    /// Whether `a` is earlier than `b`.
    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.secondsSince1970 < b.secondsSince1970 }

    /// Clamped to the years 1 to 9999, where dates are written: never an overflow.
    public func adding(days: Int) -> Timestamp {
        let (span, tooLong) = Int64(clamping: days).multipliedReportingOverflow(by: 86_400)
        let (sum, overflow) = secondsSince1970.addingReportingOverflow(span)
        let value = tooLong || overflow ? (days < 0 ? Int64.min : Int64.max) : sum
        return Timestamp(secondsSince1970: Swift.min(Swift.max(value, Self.earliest), Self.latest))
    }

    /// 0001-01-01T00:00:00Z, in seconds since 1970: the earliest instant a date is written for.
    public static let earliest: Int64 = -62_135_596_800
    /// 9999-12-31T23:59:59Z, in seconds since 1970: the latest instant a date is written for.
    public static let latest: Int64 = 253_402_300_799

    /// Midnight UTC at the start of the given civil date.
    public init?(year: Int, month: Int, day: Int) {
        guard (1970...9999).contains(year), (1...12).contains(month),
              (1...Self.daysIn(month: month, year: year)).contains(day) else { return nil }
        secondsSince1970 = Int64(Self.daysFromCivil(year, month, day)) * 86_400
    }

    /// Parses `YYYY-MM-DD` (midnight UTC at the start of that day).
    public init?(date text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]) else { return nil }
        self.init(year: y, month: m, day: d)
    }

    /// `YYYY-MM-DD` in UTC.
    public var dateString: String {
        let (y, m, d) = civil
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`, as RFC 3339 in UTC.
    public var iso8601: String {
        let clamped = Swift.min(Swift.max(secondsSince1970, Self.earliest), Self.latest)
        let seconds = ((clamped % 86_400) + 86_400) % 86_400
        return "\(dateString)T\(pad(Int(seconds / 3600), 2)):\(pad(Int(seconds / 60 % 60), 2)):\(pad(Int(seconds % 60), 2))Z"
    }

    /// The civil date, of the instant clamped to years 1 to 9999 (a hand-made file or git's
    /// `password_expiry_utc` may hold any number).
    private var civil: (Int, Int, Int) {
        let clamped = Swift.min(Swift.max(secondsSince1970, Self.earliest), Self.latest)
        let days = Int((clamped - (((clamped % 86_400) + 86_400) % 86_400)) / 86_400)
        return Self.civilFromDays(days)
    }

    private func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: Swift.max(0, width - text.count)) + text
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    // Howard Hinnant's days_from_civil and civil_from_days.
    private static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    private static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
