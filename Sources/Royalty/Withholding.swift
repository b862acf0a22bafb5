/// A withholding rate in thousandths of a percent (20.42 % is 20,420): exact, no floating point.
public struct TaxRate: Hashable, Sendable, CustomStringConvertible {
    public let milliPercent: Int

    public init?(milliPercent: Int) {
        guard (0...100_000).contains(milliPercent) else { return nil }
        self.milliPercent = milliPercent
    }

    /// Parses a percentage with at most three decimals (`30`, `20.42`, `15.825`).
    public init?(percent text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let whole = Int(parts[0]), parts[0].allSatisfy(\.isNumber), !parts[0].isEmpty else { return nil }
        var thousandths = 0
        if parts.count == 2 {
            let fraction = parts[1]
            guard (1...3).contains(fraction.count), fraction.allSatisfy(\.isNumber), let digits = Int(fraction) else { return nil }
            thousandths = digits * [100, 10, 1][fraction.count - 1]
        }
        self.init(milliPercent: whole * 1_000 + thousandths)
    }

    public var description: String {
        let fraction = milliPercent % 1_000
        guard fraction > 0 else { return "\(milliPercent / 1_000) %" }
        var digits = String(fraction)
        digits = String(repeating: "0", count: 3 - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(milliPercent / 1_000).\(digits) %"
    }
}

/// Tax withheld from a payout: `gross × rate`, rounded to the minor unit half up (exact halves round up, as EU
/// Regulation 1103/97 art. 5 rounds converted amounts), computed exactly in 128 bits. The artist is paid the rest.
public enum Withholding {
    public static func split(gross: Int64, rate: TaxRate) -> (net: Int64, withheld: Int64) {
        guard gross > 0 else { return (gross, 0) }
        let product = UInt64(gross).multipliedFullWidth(by: UInt64(rate.milliPercent))
        let (quotient, remainder) = UInt64(100_000).dividingFullWidth(product)
        let withheld = Int64(quotient) + (remainder * 2 >= 100_000 ? 1 : 0)
        return (gross - withheld, withheld)
    }
}

/// The withholding rates by tax country, read from a CSV file (`royalty/tax-rates.csv`: `country,rate_percent,source`,
/// `#` comments): a country listed with an empty rate is known but not configured, and is not paid out.
public struct TaxRates: Sendable {
    public struct Invalid: Error, Equatable, Sendable, CustomStringConvertible {
        public let line: Int
        public let reason: String
        public var description: String { "line \(line): \(reason)" }
    }

    /// Configured rates; a known country without a rate maps to nil.
    public let rates: [String: TaxRate?]

    public init(csv text: String) throws(Invalid) {
        var rates: [String: TaxRate?] = [:]
        var sawHeader = false
        for (index, line) in CSV.lines(text).enumerated() {
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            let fields = CSV.fields(line)
            guard sawHeader else {
                guard fields.prefix(2) == ["country", "rate_percent"] else {
                    throw Invalid(line: index + 1, reason: "the header must start with country,rate_percent")
                }
                sawHeader = true
                continue
            }
            guard fields.count >= 2 else { throw Invalid(line: index + 1, reason: "expected country,rate_percent[,source]") }
            let country = fields[0]
            guard country.count == 2, country.unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) }) else {
                throw Invalid(line: index + 1, reason: "\"\(country.prefix(10))\" is not an ISO 3166 alpha-2 code")
            }
            guard rates[country] == nil else { throw Invalid(line: index + 1, reason: "\(country) is listed twice") }
            if fields[1].isEmpty {
                rates[country] = .some(nil)
            } else if let rate = TaxRate(percent: fields[1]) {
                rates[country] = rate
            } else {
                throw Invalid(line: index + 1, reason: "rate \"\(fields[1].prefix(12))\" must be a percentage 0...100 with at most 3 decimals")
            }
        }
        guard sawHeader else { throw Invalid(line: 1, reason: "no header line (country,rate_percent,source)") }
        self.rates = rates
    }

    /// The rate for `country`, nil when it is unknown or not configured (such artists are not paid out).
    public func rate(for country: String) -> TaxRate? { rates[country] ?? nil }
}
