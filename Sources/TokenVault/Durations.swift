/// Durations at the edge of the file format, which stores whole seconds (an entry's and the
/// vault's rotation period) or whole days (the trash's and the log's retention) as Int64.
extension Duration {
    /// The duration of `count` units of `unit` seconds, saturated at the range of Int64 seconds
    /// (a value read from the file may be anything).
    static func saturating(_ count: Int64, unit: Int64 = 1) -> Duration {
        let (seconds, overflow) = count.multipliedReportingOverflow(by: unit)
        guard !overflow else { return .seconds(count < 0 ? Int64.min : Int64.max) }
        return .seconds(seconds)
    }

    /// `count` days, saturated at the most whole days Int64 seconds hold (not at Int64 seconds,
    /// which are no whole number of days): `days()` gives the count back, so that a manifest
    /// read and written again keeps its settings, whatever the file said.
    static func wholeDays(_ count: Int64) -> Duration {
        .seconds(min(max(count, Int64.min / day), Int64.max / day) * day)
    }

    /// The number of whole `unit`-second units this duration is, or nil when it is not a whole
    /// number of them (or does not fit Int64 seconds).
    func whole(unit: Int64 = 1) -> Int64? {
        guard self >= .seconds(Int64.min), self <= .seconds(Int64.max) else { return nil }
        let (seconds, attoseconds) = components
        guard attoseconds == 0, seconds % unit == 0 else { return nil }
        return seconds / unit
    }

    /// Whole days, rounded down: for a duration read from the file (saturated at its range).
    func days() -> Int64 {
        guard self < .seconds(Int64.max) else { return Int64.max / 86_400 }
        guard self > .seconds(Int64.min) else { return Int64.min / 86_400 }
        return components.seconds / 86_400
    }

    static let day: Int64 = 86_400
}
