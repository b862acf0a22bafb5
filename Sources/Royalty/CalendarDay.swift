/// A UTC calendar day, `YYYY-MM-DD` (years 2000...9999): when split rules take effect, payout execution dates.
public struct CalendarDay: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Unix seconds of 00:00 UTC.
    public let startSeconds: Int64

    /// Parses `YYYY-MM-DD` exactly (a real date: no 2026-02-30).
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              parts.allSatisfy({ $0.unicodeScalars.allSatisfy { ("0"..."9").contains($0) } }),
              let year = Int64(parts[0]), let month = Int64(parts[1]), let day = Int64(parts[2]),
              (2000...9999).contains(year), (1...12).contains(month), day >= 1 else { return nil }
        let seconds = CivilTime.seconds(year: year, month: month, day: day)
        guard CivilTime.components(seconds).day == day else { return nil }
        startSeconds = seconds
    }

    public var description: String { CivilTime.date(startSeconds) }

    /// `YYYY-MM-DD` of the UTC day holding `seconds`.
    public static func day(ofSeconds seconds: Int64) -> String { CivilTime.date(seconds) }

    public static func < (a: CalendarDay, b: CalendarDay) -> Bool { a.startSeconds < b.startSeconds }
}

/// UTC calendar dates from Unix seconds, without Foundation (the civil-from-days algorithm).
enum CivilTime {
    static func components(_ seconds: Int64) -> (year: Int64, month: Int64, day: Int64, second: Int64) {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let second = seconds - days * 86_400
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day, second)
    }

    /// Unix seconds of 00:00 UTC on a day (the days-from-civil algorithm).
    static func seconds(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return (era * 146_097 + dayOfEra - 719_468) * 86_400
    }

    private static func two(_ value: Int64) -> String { (value < 10 ? "0" : "") + "\(value)" }

    /// `YYYY-MM-DD`.
    static func date(_ seconds: Int64) -> String {
        let c = components(seconds)
        return "\(c.year)-\(two(c.month))-\(two(c.day))"
    }

    /// `YYYY-MM-DDThh:mm:ss` (UTC).
    static func dateTime(_ seconds: Int64) -> String {
        let c = components(seconds)
        return date(seconds) + "T\(two(c.second / 3_600)):\(two(c.second % 3_600 / 60)):\(two(c.second % 60))"
    }
}
