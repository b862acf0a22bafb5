import Ledger

/// A viewer's tip to an artist: the whole amount enters from its payment source (`external/SOURCE`) and is split
/// between the artist and the platform by the configured artist share, exactly (largest remainder: the parts sum to
/// the tip). Its ledger key is `tip:` and the payment's own key, so a tip is recorded once however often the payment
/// processor retries.
public enum Tips {
    /// The artist's share unless configured (the platform keeps the rest).
    public static let defaultArtistShareBasisPoints: UInt16 = 9_000

    public static func transfer(key: String, artist: String, amount: Int64, currency: Currency, source: String,
                                artistShareBasisPoints: UInt16, memo: String = "") throws(LedgerError) -> Transfer {
        guard amount > 0 else { throw .invalidAmount("a tip must be at least one minor unit (got \(amount))") }
        let share = UInt64(min(artistShareBasisPoints, 10_000))
        let artistAccount = try Account(.artist(artist), currency)
        let platform = try Account(.platformRevenue, currency)
        // Both weights are within 0...10,000 and sum to 10,000: the allocation cannot be refused.
        let parts = (try? LargestRemainder.allocate(amount, among: [(party: artistAccount, weight: share),
                                                                     (party: platform, weight: 10_000 - share)]).get()) ?? []
        var postings = [Transfer.Posting(.debit, try Account(.external(source), currency), amount)]
        for part in parts where part.amount > 0 {
            postings.append(Transfer.Posting(.credit, part.party, part.amount))
        }
        return try Transfer(idempotencyKey: "tip:" + key, kind: .tip, postings: postings, memo: memo)
    }
}
