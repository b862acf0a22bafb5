/// One money movement: balanced postings (per currency, debits equal credits) under an idempotency key. Amounts are
/// integer minor units of the posting account's currency; nothing in the ledger is floating point.
public struct Transfer: Hashable, Sendable {
    public enum Kind: String, Sendable, CaseIterable {
        case royalty, tax, payout, tip, subscription, statement, adjustment
    }

    public enum Side: UInt8, Sendable {
        case debit = 0
        case credit = 1
    }

    public struct Posting: Hashable, Sendable {
        public let account: Account
        public let side: Side
        /// Minor units, 1 ... `Currency.maximumMinorUnits`.
        public let amount: Int64

        public init(_ side: Side, _ account: Account, _ amount: Int64) {
            self.account = account
            self.side = side
            self.amount = amount
        }
    }

    public static let maximumPostings = 64
    public static let maximumMemoBytes = 256
    public static let maximumKeyBytes = 128

    public let idempotencyKey: String
    public let kind: Kind
    public let postings: [Posting]
    public let memo: String

    /// Validates everything: the key, the memo, 2...64 postings with positive amounts on distinct accounts, at least
    /// one debit and one credit, and debits equal to credits in every currency.
    public init(idempotencyKey: String, kind: Kind, postings: [Posting], memo: String = "") throws(LedgerError) {
        guard !idempotencyKey.isEmpty, idempotencyKey.utf8.count <= Self.maximumKeyBytes,
              idempotencyKey.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .invalidTransfer("the idempotency key must be 1-\(Self.maximumKeyBytes) printable ASCII characters without spaces")
        }
        guard memo.utf8.count <= Self.maximumMemoBytes, !memo.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .invalidTransfer("the memo must be at most \(Self.maximumMemoBytes) bytes without control characters")
        }
        guard (2...Self.maximumPostings).contains(postings.count) else {
            throw .invalidTransfer("a transfer has 2-\(Self.maximumPostings) postings (got \(postings.count))")
        }
        var seen: Set<Account> = []
        var totals: [Currency: (debits: Int64, credits: Int64)] = [:]
        for posting in postings {
            guard (1...Currency.maximumMinorUnits).contains(posting.amount) else {
                throw .invalidAmount("posting on \(posting.account): \(posting.amount) minor units is outside 1...\(Currency.maximumMinorUnits)")
            }
            guard seen.insert(posting.account).inserted else {
                throw .invalidTransfer("account \(posting.account) appears in more than one posting")
            }
            switch posting.side {
            case .debit: totals[posting.account.currency, default: (0, 0)].debits += posting.amount
            case .credit: totals[posting.account.currency, default: (0, 0)].credits += posting.amount
            }
        }
        for (currency, total) in totals.sorted(by: { $0.key < $1.key }) where total.debits != total.credits {
            throw .unbalanced(currency: currency.code, debits: total.debits, credits: total.credits)
        }
        self.idempotencyKey = idempotencyKey
        self.kind = kind
        self.postings = postings
        self.memo = memo
    }
}

/// A committed transfer: its position in the log and when it was committed.
public struct LedgerEntry: Hashable, Sendable {
    public let index: UInt64
    /// Milliseconds since the Unix epoch.
    public let committedAt: Int64
    public let transfer: Transfer

    public init(index: UInt64, committedAt: Int64, transfer: Transfer) {
        self.index = index
        self.committedAt = committedAt
        self.transfer = transfer
    }

    /// Whether the entry moves money on one of `artist`'s accounts.
    public func concerns(artist: String) -> Bool {
        transfer.postings.contains { $0.account.artist == artist }
    }
}
