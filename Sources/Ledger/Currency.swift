/// An ISO 4217 currency and its exponent (the number of minor-unit digits: 2 for EUR, 0 for JPY, 3 for KWD).
/// Money is always an integer count of minor units; this type is what gives those units meaning.
public struct Currency: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let code: String
    public let exponent: Int

    /// ISO 4217 codes the platform settles in, with their exponents.
    public static let exponents: [String: Int] = [
        "AUD": 2, "BHD": 3, "BRL": 2, "CAD": 2, "CHF": 2, "CLP": 0, "CNY": 2, "CZK": 2, "DKK": 2, "EUR": 2, "GBP": 2,
        "HKD": 2, "HUF": 2, "IDR": 2, "INR": 2, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3, "MXN": 2, "NOK": 2,
        "NZD": 2, "OMR": 3, "PLN": 2, "SEK": 2, "SGD": 2, "TND": 3, "TRY": 2, "USD": 2, "VND": 0, "ZAR": 2,
    ]

    public init(_ code: String) throws(LedgerError) {
        guard let exponent = Self.exponents[code] else { throw .unknownCurrency(code) }
        self.code = code
        self.exponent = exponent
    }

    public static func < (lhs: Currency, rhs: Currency) -> Bool { lhs.code < rhs.code }

    public var description: String { code }

    /// The largest amount accepted in one posting: 10^15 minor units (10^13 EUR), far below Int64 overflow even when
    /// summed over many postings.
    public static let maximumMinorUnits: Int64 = 1_000_000_000_000_000

    /// Parses a decimal amount ("12.34", "0.5", "1000") into minor units, exactly: more fraction digits than the
    /// exponent allows, signs, exponents and anything that is not plain digits are refused.
    public func minorUnits(_ text: String) throws(LedgerError) -> Int64 {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, let whole = parts.first, !whole.isEmpty, whole.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw .invalidAmount("\"\(text)\" is not a plain decimal number")
        }
        let fraction = parts.count == 2 ? parts[1] : ""
        guard fraction.allSatisfy({ $0.isASCII && $0.isNumber }), parts.count == 1 || !fraction.isEmpty else {
            throw .invalidAmount("\"\(text)\" is not a plain decimal number")
        }
        guard fraction.count <= exponent else {
            throw .invalidAmount("\(code) has \(exponent) decimal places, \"\(text)\" has \(fraction.count)")
        }
        let digits = whole + fraction + String(repeating: "0", count: exponent - fraction.count)
        guard digits.count <= 18, let value = Int64(digits), value <= Self.maximumMinorUnits else {
            throw .invalidAmount("\"\(text)\" \(code) is larger than the limit")
        }
        return value
    }

    /// Formats minor units as a decimal string ("12.34").
    public func format(_ minorUnits: Int64) -> String {
        guard exponent > 0 else { return String(minorUnits) }
        let sign = minorUnits < 0 ? "-" : ""
        let magnitude = minorUnits.magnitude
        var scale: UInt64 = 1
        for _ in 0..<exponent { scale *= 10 }
        let fraction = String(magnitude % scale)
        return "\(sign)\(magnitude / scale).\(String(repeating: "0", count: exponent - fraction.count))\(fraction)"
    }
}
