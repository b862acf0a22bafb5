/// Media time in integer microseconds, rendered with exactly six decimals so that sums are exact.
public enum HLSDuration {
    /// "6.006000" for 6_006_000.
    public static func format(_ microseconds: Int64) -> String {
        let whole = microseconds / 1_000_000
        let fraction = microseconds % 1_000_000
        let digits = String(fraction)
        return "\(whole).\(String(repeating: "0", count: 6 - digits.count))\(digits)"
    }

    /// Parses a decimal-floating-point duration into microseconds (rounding half up past six decimals).
    public static func parse(_ text: Substring) -> Int64? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let wholeText = parts.first, !wholeText.isEmpty, wholeText.count <= 9,
              wholeText.allSatisfy(\.isASCII), let whole = Int64(wholeText), whole >= 0 else { return nil }
        var micros = whole * 1_000_000
        if parts.count == 2 {
            let fraction = parts[1]
            guard !fraction.isEmpty, fraction.count <= 18, fraction.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            let padded = String(fraction.prefix(6)) + String(repeating: "0", count: max(0, 6 - fraction.count))
            micros += Int64(padded)!
            if fraction.count > 6, let next = fraction.dropFirst(6).first, next >= "5" { micros += 1 }
        }
        return micros
    }

    /// Whole seconds, rounded up.
    public static func ceilSeconds(_ microseconds: Int64) -> Int {
        Int((microseconds + 999_999) / 1_000_000)
    }

    /// Whole seconds, rounded to nearest (half up), as RFC 8216 §4.3.3.1 compares.
    public static func roundedSeconds(_ microseconds: Int64) -> Int {
        Int((microseconds + 500_000) / 1_000_000)
    }
}
