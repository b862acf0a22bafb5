import Manifest

/// The ledger as a pure value: balances, the committed entries in order, their Merkle log, and the idempotency
/// record. The SQLite store keeps the same rules durably; this model is what the simulation checks it against.
public struct LedgerBook: Sendable {
    /// What a commit did.
    public enum Outcome: Equatable, Sendable {
        case committed(LedgerEntry)
        /// The key was seen before with the same transfer: its original entry, nothing changed.
        case duplicate(LedgerEntry)
    }

    public private(set) var balances: [Account: Int64] = [:]
    public private(set) var entries: [LedgerEntry] = []
    public private(set) var log = MerkleTree()
    private var byKey: [String: Int] = [:]

    public init() {}

    /// Commits `transfer` at `time` (ms), exactly once per idempotency key. Refuses a key reused with another
    /// transfer, and any posting that would take a protected account below zero (nothing changes then).
    public mutating func commit(_ transfer: Transfer, at time: Int64) throws(LedgerError) -> Outcome {
        if let existing = byKey[transfer.idempotencyKey] {
            guard entries[existing].transfer == transfer else { throw .idempotencyConflict(transfer.idempotencyKey) }
            return .duplicate(entries[existing])
        }
        var changed: [Account: Int64] = [:]
        for posting in transfer.postings {
            changed[posting.account] = try BalanceRule.apply(posting, to: changed[posting.account] ?? balances[posting.account] ?? 0)
        }
        let entry = LedgerEntry(index: UInt64(entries.count), committedAt: time, transfer: transfer)
        balances.merge(changed) { $1 }
        byKey[transfer.idempotencyKey] = entries.count
        entries.append(entry)
        log.append(leafHash: EntryEncoding.leafHash(entry))
        return .committed(entry)
    }

    /// The ledger's invariants, as violations found (empty when all hold): debits equal credits per currency over
    /// every entry, balances equal the sum of postings, no protected account below zero, the log's root equals a
    /// rebuild from the entries.
    public func violations() -> [String] {
        var problems: [String] = []
        var totals: [Currency: Int64] = [:]
        var rebuilt: [Account: Int64] = [:]
        var tree = MerkleTree()
        for entry in entries {
            for posting in entry.transfer.postings {
                guard let total = BalanceRule.move(totals[posting.account.currency, default: 0], by: posting),
                      let sum = BalanceRule.move(rebuilt[posting.account, default: 0], by: posting) else {
                    problems.append("entry \(entry.index): sums of \(posting.account) leave the 64-bit range")
                    continue
                }
                totals[posting.account.currency] = total
                rebuilt[posting.account] = sum
            }
            tree.append(leafHash: EntryEncoding.leafHash(entry))
        }
        for (currency, total) in totals where total != 0 { problems.append("\(currency): credits − debits = \(total)") }
        for (account, balance) in balances where rebuilt[account, default: 0] != balance {
            problems.append("\(account): balance \(balance), postings sum to \(rebuilt[account, default: 0])")
        }
        for (account, balance) in balances where account.forbidsNegativeBalance && balance < 0 {
            problems.append("\(account) is negative: \(balance)")
        }
        if tree.root() != log.root() { problems.append("log root differs from the rebuild") }
        return problems
    }
}
