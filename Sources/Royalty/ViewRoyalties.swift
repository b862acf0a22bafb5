import Ledger

/// Views turned into royalties at a period's close, by one of two documented models:
/// - `perView`: a rate card, minor units per 1,000 views in a currency; a content earns ⌊views × rate ÷ 1000⌋ (the
///   fraction of a unit below is not paid: the platform keeps at most one unit per content and period).
/// - `proRata`: a pool (a month's subscription revenue) split by each content's share of the views, by largest
///   remainder: the parts sum to the pool exactly, always (how streaming services pay).
/// Each content's amount is then split between its rights holders (its split rule in force at the period's start, else
/// the artist who published it), also exactly, and becomes one ledger transfer from `platform/revenue` to the artists,
/// keyed `royalty:views:YYYY-MM:CUR:CONTENT` so that closing the same period again is a no-op. A content nobody is
/// known for is paid into `suspense/views/CUR` (listed as unassigned), never guessed: the parts still sum to the pool.
public enum ViewRoyalties {
    public enum Model: Sendable, Equatable {
        case perView(ratePerThousand: Int64)
        case proRata(pool: Int64)

        /// `per_view` or `pro_rata`, as `nodes.conf` names it.
        public var name: String {
            switch self {
            case .perView: "per_view"
            case .proRata: "pro_rata"
            }
        }
    }

    /// Each content's amount for `views` (contents with no views get nothing).
    public static func amounts(_ model: Model, views: [String: UInt64]) -> [String: Int64] {
        let viewed = views.filter { $0.value > 0 }
        switch model {
        case .perView(let rate):
            return viewed.mapValues { count in
                let product = UInt64(max(0, rate)).multipliedFullWidth(by: count)
                guard product.high < 1_000 else { return Int64.max }
                let (quotient, _) = UInt64(1_000).dividingFullWidth(product)
                return Int64(clamping: quotient)
            }
        case .proRata(let pool):
            let weights = viewed.keys.sorted().map { (party: $0, weight: viewed[$0]!) }
            guard let parts = try? LargestRemainder.allocate(max(0, pool), among: weights).get() else { return [:] }
            return Dictionary(uniqueKeysWithValues: parts.map { ($0.party, $0.amount) })
        }
    }

    /// What closing a period produces: the transfers, and the amounts of contents paid into suspense.
    public struct Close: Sendable {
        public var transfers: [Transfer] = []
        public var unassigned: [String: Int64] = [:]
    }

    /// The transfers of `amounts` (per content) for `period` (e.g. `2026-11`) in `currency`, split between the rights
    /// holders at `at` (Unix seconds).
    public static func close(period: String, model: Model, currency: Currency, amounts: [String: Int64], holders: RightsHolders, at: Int64)
        throws(LedgerError) -> Close {
        var result = Close()
        for content in amounts.keys.sorted() {
            let amount = amounts[content]!
            guard amount > 0 else { continue }
            var postings = [Transfer.Posting(.debit, try Account(.platformRevenue, currency), amount)]
            if let parts = holders.split(amount, content: content, at: at) {
                for part in parts where part.amount > 0 {
                    postings.append(Transfer.Posting(.credit, try Account(.artist(part.artist), currency), part.amount))
                }
            } else {
                result.unassigned[content] = amount
                postings.append(Transfer.Posting(.credit, try Account(.suspense("views"), currency), amount))
            }
            result.transfers.append(try Transfer(idempotencyKey: "royalty:views:\(period):\(currency):\(content)", kind: .royalty,
                                                 postings: postings, memo: "views \(period) \(content) (\(model.name))"))
        }
        return result
    }
}
