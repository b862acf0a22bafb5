/// An International Bank Account Number (ISO 13616): country code, two check digits, the national account number;
/// valid when its length is the country's and the ISO 7064 mod 97-10 check gives 1.
public struct IBAN: Hashable, Sendable, CustomStringConvertible {
    /// Upper case, without spaces.
    public let value: String

    /// Why a text is not an IBAN.
    public struct Invalid: Error, Equatable, Sendable, CustomStringConvertible {
        public let reason: String
        public var description: String { "not a valid IBAN: \(reason)" }
    }

    /// Lengths of the SEPA countries' IBANs (and a few more), by country code.
    static let lengths: [String: Int] = [
        "AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20, "ES": 24, "FI": 18,
        "FR": 27, "GB": 22, "GI": 23, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IS": 26, "IT": 27, "LI": 21, "LT": 20, "LU": 20,
        "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27,
        "VA": 22, "AL": 28, "BA": 20, "ME": 22, "MK": 19, "RS": 22, "TR": 26, "UA": 29, "MD": 24, "GE": 22, "IL": 23, "AE": 23,
        "SA": 24, "BR": 29,
    ]

    /// Parses an IBAN as written (groups of four separated by spaces, any case).
    public init(_ text: String) throws(Invalid) {
        let compact = String(text.uppercased().filter { $0 != " " })
        guard compact.unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) || ("0"..."9").contains($0) }) else {
            throw Invalid(reason: "only letters and digits may appear")
        }
        guard compact.count >= 5 else { throw Invalid(reason: "too short") }
        let country = String(compact.prefix(2))
        guard let length = Self.lengths[country] else { throw Invalid(reason: "unknown country code \"\(country.prefix(2))\"") }
        guard compact.count == length else { throw Invalid(reason: "a \(country) IBAN has \(length) characters, not \(compact.count)") }
        guard compact.dropFirst(2).prefix(2).allSatisfy(\.isNumber) else { throw Invalid(reason: "the check digits must be digits") }
        guard Self.remainder(compact) == 1 else { throw Invalid(reason: "the check digits do not match (mod 97)") }
        value = compact
    }

    /// ISO 7064 mod 97-10 of the IBAN rearranged (first four characters moved to the end, letters as 10...35),
    /// computed digit by digit: the number has more than 64 bits.
    static func remainder(_ iban: String) -> Int {
        let rearranged = iban.dropFirst(4) + iban.prefix(4)
        var remainder = 0
        for scalar in rearranged.unicodeScalars {
            let value = scalar.value >= 65 ? Int(scalar.value) - 55 : Int(scalar.value) - 48
            remainder = (value >= 10 ? remainder * 100 : remainder * 10) + value
            remainder %= 97
        }
        return remainder
    }

    /// Groups of four, as printed.
    public var description: String {
        stride(from: 0, to: value.count, by: 4).map { start in
            String(value.dropFirst(start).prefix(4))
        }.joined(separator: " ")
    }
}
