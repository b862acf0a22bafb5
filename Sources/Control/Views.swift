import Foundation
import Ledger
import LedgerStore
import Manifest
import Royalty

/// What the API sends, as Codable views with snake_case keys. Amounts are integer minor units.
public enum Views {
    /// A posting in its readable form (`Ledger.ExportedPosting`).
    public typealias Posting = ExportedPosting
    /// An entry with its leaf and leaf hash (`Ledger.ExportedEntry`).
    public typealias Entry = ExportedEntry

    public struct TransferResult: Codable, Sendable {
        public var status: String
        public var entry: Entry
    }

    /// One version of a content's split between collaborators.
    public struct SplitRule: Codable, Sendable {
        public struct Share: Codable, Sendable {
            public var artist: String
            public var basisPoints: Int
        }

        public var content: String
        /// `YYYY-MM-DD` (UTC).
        public var effectiveFrom: String
        public var shares: [Share]

        init(_ rule: LedgerStore.StoredSplitRule) {
            content = rule.content
            effectiveFrom = CalendarDay.day(ofSeconds: rule.effectiveFrom)
            shares = rule.shares.map { Share(artist: $0.artist, basisPoints: $0.basisPoints) }
        }
    }

    public struct SplitRules: Codable, Sendable {
        public var rules: [SplitRule]
    }

    /// An artist's payout settings.
    public struct PayoutSettings: Codable, Sendable {
        public var artist: String
        /// `sepa` or `csv`.
        public var method: String
        public var accountName: String
        public var iban: String?
        public var bic: String?
        public var reference: String?
        public var minimum: Int64
        public var currency: String
        public var taxCountry: String
        /// Milliseconds since 1970.
        public var updatedAt: Int64

        init(_ stored: LedgerStore.StoredPayoutSettings) {
            artist = stored.artist
            method = stored.method
            accountName = stored.accountName
            iban = stored.method == "sepa" ? stored.destination : nil
            bic = stored.bic
            reference = stored.method == "csv" ? stored.destination : nil
            minimum = stored.minimum
            currency = stored.currency
            taxCountry = stored.taxCountry
            updatedAt = stored.updatedAt
        }
    }

    /// A month's subscription pool in one currency (minor units).
    public struct SubscriptionPool: Codable, Sendable {
        public var month: String
        public var currency: String
        public var pool: Int64
    }

    /// A payout run: what it planned and what the ledger committed (minor units of `currency`).
    public struct PayoutRun: Codable, Sendable {
        public var run: String
        public var period: String
        public var currency: String
        /// Milliseconds since 1970.
        public var plannedAt: Int64
        /// Payouts planned, and artists with a balance not paid (with why, in `GET /v1/payout-runs/{run}`).
        public var payouts: Int
        public var skipped: Int
        public var gross: Int64
        public var withheld: Int64
        public var net: Int64
        /// Planned payouts the ledger refused this time (the balance fell since planning); running the run again retries them.
        public var refused: [Refusal]
        /// The run's instruction files, by method (`sepa`, `csv`): where to fetch them.
        public var files: [String: String]
    }

    public struct Refusal: Codable, Sendable {
        public var artist: String
        public var reason: String
    }

    /// One artist of a payout run: a payout (`pending`, `in_flight`, `confirmed`, `failed`, with the ledger entry of its
    /// latest step) or a skipped artist (`skipped`, with the reason).
    public struct PayoutItem: Codable, Sendable {
        public var artist: String
        public var status: String
        public var gross: Int64?
        public var withheld: Int64?
        public var net: Int64?
        public var taxCountry: String?
        public var method: String?
        public var entry: UInt64?
        public var reason: String?
        public var message: String?
    }

    public struct PayoutRunPage: Codable, Sendable {
        public var summary: PayoutRun
        public var items: [PayoutItem]
        /// Pass as `after` for the next page; absent on the last page.
        public var next: String?
    }

    /// A DSP statement's reconciliation: every line imported so far, booked to artists (matched), to the DSP's suspense
    /// account (unmatched, listed), or not at all (no revenue; not booked yet when an import was cut short).
    public struct StatementReport: Codable, Sendable {
        public var dsp: String
        public var period: String
        /// Imports of this statement that added lines (the same file twice counts once).
        public var imports: Int
        public var lines: Int
        /// Set by an import: lines it booked, and lines booked by an earlier import.
        public var committed: Int?
        public var alreadyImported: Int?
        public var matched = 0
        public var suspense = 0
        public var zeroRevenue = 0
        public var notBooked = 0
        public var totals: [StatementTotal] = []
        /// The first 1,000 unmatched lines, in import order.
        public var unmatched: [UnmatchedLine] = []
    }

    /// A statement's money in one currency (minor units): what the DSP paid, what went to artists, what waits in suspense.
    public struct StatementTotal: Codable, Sendable {
        public var currency: String
        public var revenue: Int64 = 0
        public var toArtists: Int64 = 0
        public var toSuspense: Int64 = 0
    }

    public struct UnmatchedLine: Codable, Sendable {
        public var line: Int
        public var transaction: String
        public var isrc: String?
        public var content: String?
        public var artist: String?
        public var amount: Int64
        public var currency: String
        /// The ledger entry that put it in suspense.
        public var entry: UInt64
    }

    /// An artist's statement for a month (minor units); `receipt` is where the proofs of its entries are.
    public struct ArtistStatement: Codable, Sendable {
        public var artist: String
        public var period: String
        /// The month, milliseconds since 1970: from inclusive, to exclusive.
        public var from: Int64
        public var to: Int64
        /// Where to fetch the receipt of the month: it proves every entry below `provenThrough` (or more, against a
        /// later checkpoint).
        public var receipt: String
        /// The tree size of the latest signed checkpoint when the statement was made (0: none yet): the entries below
        /// it are proven by `receipt`; the lines list the ones at or above it as `unproven` — committed after the
        /// checkpoint, they are proven by the receipt of a later one (the origin signs every `checkpoint_interval`).
        public var provenThrough: UInt64
        public var totals: [StatementTotals]
        public var lines: [ArtistStatementLine]
    }

    public struct StatementTotals: Codable, Sendable {
        public var currency: String
        public var opening: Int64
        public var earned: Int64
        public var withheld: Int64
        public var paid: Int64
        public var pending: Int64
        public var returned: Int64
        public var closing: Int64
    }

    public struct ArtistStatementLine: Codable, Sendable {
        /// views, tips, dsp, payout, payout_returned or other.
        public var source: String
        /// The content (views), DSP (dsp), run (payout) or transfer kind (other).
        public var detail: String?
        public var currency: String
        public var amount: Int64
        /// The ledger entries it sums.
        public var entries: [UInt64]
        /// Those of `entries` the statement's receipt cannot prove yet (at or above `provenThrough`); nil when none.
        public var unproven: [UInt64]?
    }

    /// A delivery report as the origin took it.
    public struct DeliveryReceipt: Codable, Sendable {
        public var node: String
        /// `YYYY-MM-DDThh` (UTC).
        public var period: String
        /// `accepted` (new) or `duplicate` (the same report was accepted before).
        public var status: String
        public var contents: Int
        public var sessions: Int
    }

    /// A month's views: what the reports so far tally to, and its close once made.
    public struct MonthViews: Codable, Sendable {
        public var period: String
        public var reports: Int
        /// Sessions seen at more than one node (counted once).
        public var sharedSessions: UInt64
        public var contents: [ContentViews]
        public var close: ViewClose?
    }

    public struct ContentViews: Codable, Sendable {
        public var content: String
        public var views: UInt64
        public var bytes: UInt64?
        /// Set by a close: the royalty (minor units of its currency) and whether it waits in suspense.
        public var amount: Int64?
        public var unassigned: Bool?
    }

    /// A month's close: the model, the currency, the views and royalties, refusals of the ledger (retried by closing again).
    public struct ViewClose: Codable, Sendable {
        public var period: String
        public var currency: String
        public var model: String
        public var reports: Int
        public var total: Int64
        public var contents: [ContentViews]
        public var refused: [String: String]
    }

    public struct CheckpointView: Codable {
        public var size: Int
        public var rootHash: String
        /// The signed C2SP checkpoint note.
        public var checkpoint: String
    }

    struct Entries: Codable {
        var start: Int
        var end: Int
        var treeSize: Int
        var entries: [Entry]
    }

    public struct InclusionProof: Codable {
        public var index: Int
        public var treeSize: Int
        public var leafHash: String
        public var proof: [String]
    }

    public struct ConsistencyProof: Codable {
        public var first: Int
        public var second: Int
        public var proof: [String]
    }

    struct Balance: Codable {
        var account: String
        var balance: Int64
        var currency: String
        var exponent: Int
    }

    struct Balances: Codable {
        var balances: [Balance]
        /// Pass as `after` for the next page; absent on the last page.
        var next: String?
    }

    struct HistoryItem: Codable {
        var entry: Int64
        var committedAt: Int64
        var kind: String
        var side: String
        var amount: Int64
    }

    struct AccountView: Codable {
        var account: String
        var balance: Int64
        var currency: String
        var exponent: Int
        var history: [HistoryItem]
        var next: Int64?
    }

    struct Integrity: Codable {
        var entries: Int
        var intact: Bool
        var problems: [String]
    }

    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }
}
