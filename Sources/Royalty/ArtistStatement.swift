import Ledger

/// An artist's statement for a month: what came in by source (views per content, tips, each DSP, anything else), what
/// was paid out and withheld, and the balances before and after — each line naming the ledger entries it sums, which
/// the artist's receipt for the same month proves. Built from the entries that post to the artist's accounts
/// (committed in the month, and before it for the opening balance) and the settlements of its payouts.
public struct ArtistStatement: Sendable, Equatable {
    /// Where money on the artist's account came from or went.
    public enum Source: Hashable, Sendable, Comparable {
        case views(content: String)
        case tips
        case dsp(String)
        /// Payouts of a run (`YYYY-MM-CUR`): the gross leaving the account.
        case payout(run: String)
        /// A failed payout of a run, given back.
        case payoutReturned(run: String)
        /// Anything else, by transfer kind (adjustments, royalties entered by hand).
        case other(kind: String)

        /// `views`, `tips`, `dsp`, `payout`, `payout_returned` or `other`.
        public var name: String {
            switch self {
            case .views: "views"
            case .tips: "tips"
            case .dsp: "dsp"
            case .payout: "payout"
            case .payoutReturned: "payout_returned"
            case .other: "other"
            }
        }

        /// The content, DSP, run or transfer kind; nil for tips.
        public var detail: String? {
            switch self {
            case .views(let content): content
            case .tips: nil
            case .dsp(let name): name
            case .payout(let run), .payoutReturned(let run): run
            case .other(let kind): kind
            }
        }

        /// Whether it is money earned (not a payout's movement).
        public var isEarning: Bool {
            switch self {
            case .payout, .payoutReturned: false
            default: true
            }
        }

        public static func < (a: Source, b: Source) -> Bool { (a.name, a.detail ?? "") < (b.name, b.detail ?? "") }

        /// What an entry is, from its kind and key.
        init(_ transfer: Transfer) {
            let key = transfer.idempotencyKey
            let parts = key.split(separator: ":", maxSplits: 4, omittingEmptySubsequences: false).map(String.init)
            if key.hasPrefix("royalty:views:"), parts.count == 5 {
                self = .views(content: parts[4])
            } else if key.hasPrefix("statement:"), parts.count >= 2 {
                self = .dsp(parts[1])
            } else if transfer.kind == .payout, parts.count >= 4, parts[0] == "payout" {
                self = .payout(run: "\(parts[1])-\(parts[2])")
            } else if transfer.kind == .payout, parts.count >= 4, parts[0] == "payout-fail" {
                self = .payoutReturned(run: "\(parts[1])-\(parts[2])")
            } else if transfer.kind == .tip {
                self = .tips
            } else {
                self = .other(kind: transfer.kind.rawValue)
            }
        }
    }

    public struct Line: Sendable, Equatable {
        public let source: Source
        public let currency: Currency
        /// Minor units: credits less debits on the artist's account.
        public internal(set) var amount: Int64
        /// The entries it sums, in log order.
        public internal(set) var entries: [UInt64]
    }

    /// One currency's totals (minor units).
    public struct Totals: Sendable, Equatable {
        public let currency: Currency
        /// The balance before the month.
        public internal(set) var opening: Int64 = 0
        /// Earned in the month, net of adjustments.
        public internal(set) var earned: Int64 = 0
        /// Tax withheld from the month's payouts (not from one that failed within the month: its tax came back).
        public internal(set) var withheld: Int64 = 0
        /// Net of the month's payouts confirmed as paid.
        public internal(set) var paid: Int64 = 0
        /// Net of the month's payouts still in flight.
        public internal(set) var pending: Int64 = 0
        /// Gross given back in the month by failures of other months' payouts.
        public internal(set) var returned: Int64 = 0
        /// The balance after the month.
        public internal(set) var closing: Int64 = 0

        /// opening + earned − withheld − paid − pending + returned: the closing balance, on every statement (nil when a
        /// step leaves the 64-bit range).
        public var accountedClosing: Int64? {
            var value = opening
            for (amount, sign) in [(earned, 1), (withheld, -1), (paid, -1), (pending, -1), (returned, 1)] as [(Int64, Int64)] {
                let (next, overflow) = sign > 0 ? value.addingReportingOverflow(amount) : value.subtractingReportingOverflow(amount)
                guard !overflow else { return nil }
                value = next
            }
            return value
        }
    }

    /// A sum left the 64-bit range.
    public struct Overflow: Error, Sendable, CustomStringConvertible {
        public var description: String { "the statement's sums leave the 64-bit range" }
    }

    public let artist: String
    public let period: Month
    /// Ordered by currency, then source.
    public let lines: [Line]
    /// Ordered by currency.
    public let totals: [Totals]

    /// The keys whose entries settle `artist`'s payouts in `entries` (confirmations and failures), to look up.
    public static func settlementKeys(artist: String, entries: [LedgerEntry]) -> [String] {
        entries.flatMap { entry -> [String] in
            guard case .payout = Source(entry.transfer), let keys = PayoutRun.settlementKeys(ofPayoutKey: entry.transfer.idempotencyKey) else { return [] }
            return [keys.confirmation, keys.failure]
        }
    }

    /// The statement of `period` from `entries` (every entry posting to `artist`'s accounts, committed up to the end
    /// of the period or later) and `settlements` (the entries found under `settlementKeys`, by key).
    ///
    /// The totals follow the artist's account, so that opening + earned − withheld − paid − pending + returned is the
    /// closing balance of every statement (asserted here): a payout of the month counts its tax as withheld and its
    /// net as paid (confirmed, whenever) or pending — unless it failed within the month, when it went and came back in
    /// the same month and counts in no total (its two lines show it); a failure returning a payout of another month
    /// counts its gross as returned. A payout that failed after the month counts as it stood at the month's end
    /// (withheld and pending), since its return is on the account in the month it came back.
    public init(artist: String, period: Month, entries: [LedgerEntry], settlements: [String: LedgerEntry]) throws(Overflow) {
        let from = period.startSeconds * 1000, to = period.endSeconds * 1000
        let payoutTimes = Dictionary(entries.compactMap { entry -> (String, Int64)? in
            guard case .payout = Source(entry.transfer) else { return nil }
            return (entry.transfer.idempotencyKey, entry.committedAt)
        }, uniquingKeysWith: min)
        var lines: [Line] = []
        var lineIndex: [String: Int] = [:]
        var totals: [Currency: Totals] = [:]
        func add(_ amount: Int64, to value: inout Int64) throws(Overflow) {
            let (sum, overflow) = value.addingReportingOverflow(amount)
            guard !overflow else { throw Overflow() }
            value = sum
        }
        for entry in entries where entry.committedAt < to {
            let source = Source(entry.transfer)
            for posting in entry.transfer.postings where posting.account.artist == artist {
                let currency = posting.account.currency
                let signed = posting.side == .credit ? posting.amount : -posting.amount
                var total = totals[currency] ?? Totals(currency: currency)
                if entry.committedAt < from {
                    try add(signed, to: &total.opening)
                } else {
                    let id = "\(currency.code) \(source.name) \(source.detail ?? "")"
                    if let index = lineIndex[id] {
                        try add(signed, to: &lines[index].amount)
                        lines[index].entries.append(entry.index)
                    } else {
                        lineIndex[id] = lines.count
                        lines.append(Line(source: source, currency: currency, amount: signed, entries: [entry.index]))
                    }
                    switch source {
                    case .payout:
                        let keys = PayoutRun.settlementKeys(ofPayoutKey: entry.transfer.idempotencyKey)
                        let confirmed = keys.flatMap { settlements[$0.confirmation] } != nil
                        let failedInMonth = keys.flatMap { settlements[$0.failure] }.map { (from..<to).contains($0.committedAt) } ?? false
                        guard !failedInMonth else { break }
                        let withheld = entry.transfer.postings.filter { if case .taxWithheld = $0.account.kind { true } else { false } }
                            .reduce(Int64(0)) { $0 + $1.amount }
                        let net = entry.transfer.postings.first { $0.account.kind == .payoutsInFlight }?.amount ?? 0
                        try add(withheld, to: &total.withheld)
                        if confirmed { try add(net, to: &total.paid) } else { try add(net, to: &total.pending) }
                    case .payoutReturned:
                        let paidAt = PayoutRun.payoutKey(ofFailureKey: entry.transfer.idempotencyKey).flatMap { payoutTimes[$0] }
                        if let paidAt, (from..<to).contains(paidAt) { break }
                        try add(signed, to: &total.returned)
                    default:
                        try add(signed, to: &total.earned)
                    }
                }
                totals[currency] = total
            }
        }
        for (currency, var total) in totals {
            total.closing = total.opening
            for line in lines where line.currency == currency { try add(line.amount, to: &total.closing) }
            guard let accounted = total.accountedClosing else { throw Overflow() }
            precondition(accounted == total.closing, "\(artist) \(period) \(currency.code): the totals account for \(accounted), the closing is \(total.closing)")
            totals[currency] = total
        }
        self.artist = artist
        self.period = period
        self.lines = lines.sorted { ($0.currency, $0.source) < ($1.currency, $1.source) }
        self.totals = totals.keys.sorted().map { totals[$0]! }
    }
}
