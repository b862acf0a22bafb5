#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// RFC 9110 §5.6.7 HTTP dates: IMF-fixdate out; IMF-fixdate, RFC 850 and asctime in. Whole seconds since 1970.
public enum HTTPDate {
    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `Sun, 06 Nov 1994 08:49:37 GMT`.
    public static func format(_ seconds: Int64) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }

    /// Parses any of the three formats; nil when invalid (an invalid date makes its condition be ignored).
    public static func parse(_ value: Substring) -> Int64? {
        let words = value.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
        let day: Int?, month: Int?, year: Int?, clock: String
        switch words.count {
        case 6 where words[5] == "GMT" && days.contains(words[0]):
            // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
            (day, month, year, clock) = (Int(words[1]), months.firstIndex(of: words[2]), Int(words[3]), words[4])
        case 4 where words[3] == "GMT":
            // RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
            let dmy = words[1].split(separator: "-").map(String.init)
            guard dmy.count == 3, dmy[2].count == 2, let yy = Int(dmy[2]) else { return nil }
            (day, month, year, clock) = (Int(dmy[0]), months.firstIndex(of: dmy[1]), yy < 70 ? 2000 + yy : 1900 + yy, words[2])
        case 5 where days.contains(words[0]):
            // asctime: Sun Nov  6 08:49:37 1994
            (day, month, year, clock) = (Int(words[2]), months.firstIndex(of: words[1]), Int(words[4]), words[3])
        default:
            return nil
        }
        let hms = clock.split(separator: ":").compactMap { Int($0) }
        guard let day, let month, let year, hms.count == 3, (1...31).contains(day), (0...23).contains(hms[0]),
              (0...59).contains(hms[1]), (0...60).contains(hms[2]), (1900...9999).contains(year) else { return nil }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hms[0])
        parts.tm_min = Int32(hms[1])
        parts.tm_sec = Int32(hms[2])
        return Int64(timegm(&parts))
    }
}
