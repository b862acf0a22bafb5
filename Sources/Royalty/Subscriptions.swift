import Ledger

/// A subscription payment: revenue for the platform's pool of its month (`pro_rata` splits that pool by views). The
/// whole amount moves from the payment source (`external/SOURCE`) to `platform/revenue`; the ledger key
/// `subscription:YYYY-MM:` + the payment's key records it once and files it under its month, so the month's pool is
/// what was credited under that prefix.
public enum Subscriptions {
    /// The ledger key prefix of a month's payments.
    public static func keyPrefix(month: Month) -> String { "subscription:\(month):" }

    public static func transfer(key: String, month: Month, amount: Int64, currency: Currency, source: String, memo: String = "")
        throws(LedgerError) -> Transfer {
        guard amount > 0 else { throw .invalidAmount("a payment must be at least one minor unit (got \(amount))") }
        return try Transfer(idempotencyKey: keyPrefix(month: month) + key, kind: .subscription, postings: [
            Transfer.Posting(.debit, try Account(.external(source), currency), amount),
            Transfer.Posting(.credit, try Account(.platformRevenue, currency), amount),
        ], memo: memo)
    }
}

/// A calendar month, `YYYY-MM` (years 2000...9999): royalty periods, subscription pools, payout runs.
public struct Month: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let year: Int
    public let month: Int

    /// Parses `YYYY-MM` exactly.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 2, parts.allSatisfy({ $0.allSatisfy(\.isASCII) }),
              let year = Int(parts[0]), let month = Int(parts[1]), (2000...9999).contains(year), (1...12).contains(month) else { return nil }
        self.year = year
        self.month = month
    }

    /// The month holding `seconds` (Unix, UTC); nil outside 2000...9999.
    public init?(containing seconds: Int64) {
        self.init(String(CivilTime.date(seconds).prefix(7)))
    }

    public var description: String { "\(year)-" + (month < 10 ? "0" : "") + "\(month)" }

    /// Unix seconds of its first day, 00:00 UTC.
    public var startSeconds: Int64 { CivilTime.seconds(year: Int64(year), month: Int64(month), day: 1) }

    /// The month after it (December 9999 has none: the end of time here).
    public var next: Month? { month == 12 ? Month("\(year + 1)-01") : Month("\(year)-" + (month < 9 ? "0" : "") + "\(month + 1)") }

    /// Unix seconds of the first instant after it.
    public var endSeconds: Int64 { next?.startSeconds ?? CivilTime.seconds(year: 10_000, month: 1, day: 1) }

    public static func < (a: Month, b: Month) -> Bool { (a.year, a.month) < (b.year, b.month) }
}
