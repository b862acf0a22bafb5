import Foundation
import GRDB
import Ledger
import Manifest

/// Read-side queries of the control API: balances and account history, with keyset pagination.
extension LedgerStore {
    /// One posting of an account's history.
    public struct HistoryItem: Sendable, Equatable {
        public var entry: Int64
        public var committedAt: Int64
        public var kind: String
        public var side: Transfer.Side
        public var amount: Int64
    }

    /// Up to `limit` accounts with their balances, in account order, after the account named `after`; only accounts
    /// whose name starts with `prefix`.
    public func balances(prefix: String, after: String?, limit: Int) throws(StoreError) -> [(account: String, balance: Int64)] {
        do {
            return try pool.read { db in
                // Accounts are ASCII, so every name starting with `prefix` sorts within [prefix, prefix + U+FFFF).
                try Row.fetchAll(db, sql: """
                    SELECT account, balance FROM balances
                    WHERE account >= ? AND account < ? AND account > ? ORDER BY account LIMIT ?
                    """, arguments: [prefix, prefix + "\u{FFFF}", after ?? "", limit])
                    .map { ($0["account"], $0["balance"]) }
            }
        } catch {
            throw .database("\(error)")
        }
    }

    /// Up to `limit` postings of `account` in commit order, starting after entry `after`.
    public func history(of account: Account, after: Int64?, limit: Int) throws(StoreError) -> [HistoryItem] {
        let name = account.description
        let indexes = entryIndexes(of: name, after: Int(clamping: after ?? -1), limit: limit)
        do {
            return try pool.read { db in
                let read = try db.cachedStatement(sql: "SELECT leaf FROM entries WHERE idx = ?")
                return try indexes.compactMap { index -> HistoryItem? in
                    guard let leaf = try Data.fetchOne(read, arguments: [index]),
                          let entry = try? EntryEncoding.decode(Array(leaf)),
                          let posting = entry.transfer.postings.first(where: { $0.account == account }) else { return nil }
                    return HistoryItem(entry: Int64(index), committedAt: entry.committedAt, kind: entry.transfer.kind.rawValue,
                                       side: posting.side, amount: posting.amount)
                }
            }
        } catch {
            throw .database("\(error)")
        }
    }
}

extension LedgerStore {
    /// What was credited to `account` by the entries whose idempotency key starts with `keyPrefix` (a month's
    /// subscription pool: `subscription:2026-11:`), read from their leaves; nil when the sum leaves 64 bits.
    public func credited(to account: Account, keyPrefix: String) throws(StoreError) -> Int64? {
        let leaves: [Data]
        do {
            leaves = try pool.read { db in
                // Keys are printable ASCII, so every key starting with `keyPrefix` sorts within [prefix, prefix + U+FFFF)
                // (a range of the keys' unique index).
                try Data.fetchAll(db, sql: "SELECT leaf FROM entries WHERE idempotency_key >= ? AND idempotency_key < ?",
                                  arguments: [keyPrefix, keyPrefix + "\u{FFFF}"])
            }
        } catch {
            throw .database("\(error)")
        }
        var total: Int64 = 0
        for leaf in leaves {
            guard let entry = try? EntryEncoding.decode(Array(leaf)) else { throw .database("an entry's stored bytes do not decode") }
            for posting in entry.transfer.postings where posting.account == account && posting.side == .credit {
                guard let next = BalanceRule.move(total, by: posting) else { return nil }
                total = next
            }
        }
        return total
    }
}

extension LedgerStore {
    /// Every entry that posts to one of `artist`'s accounts, in log order.
    public func artistEntries(_ artist: String) throws(StoreError) -> [LedgerEntry] {
        let indexes = entryIndexes(accountPrefix: "artist/\(artist)/", below: size)
        do {
            return try pool.read { db in
                let read = try db.cachedStatement(sql: "SELECT leaf FROM entries WHERE idx = ?")
                return try indexes.map { index in
                    guard let leaf = try Data.fetchOne(read, arguments: [index]) else { throw StoreError.database("entry \(index) is missing") }
                    return try EntryEncoding.decode(Array(leaf))
                }
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw .database("\(error)")
        }
    }
}
