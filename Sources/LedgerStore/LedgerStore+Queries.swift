import Foundation
import GRDB
import Ledger
import Manifest

/// Read-side queries of the control API: leaf lookup, balances and account history, with keyset pagination.
extension LedgerStore {
    /// One posting of an account's history.
    public struct HistoryItem: Sendable, Equatable {
        public var entry: Int64
        public var committedAt: Int64
        public var kind: String
        public var side: Transfer.Side
        public var amount: Int64
    }

    /// The index of the entry whose leaf hash is `leafHash`, if it is in the log.
    public func index(ofLeafHash leafHash: MerkleHash) throws(StoreError) -> Int? {
        do {
            return try pool.read { db in
                try Int.fetchOne(db, sql: "SELECT idx FROM entries WHERE leaf_hash = ? ORDER BY idx LIMIT 1",
                                 arguments: [Data(leafHash.bytes)])
            }
        } catch {
            throw .database("\(error)")
        }
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
        do {
            return try pool.read { db in
                try Row.fetchAll(db, sql: """
                    SELECT p.entry, p.side, p.amount, e.committed_at, e.leaf FROM postings p JOIN entries e ON e.idx = p.entry
                    WHERE p.account = ? AND p.entry > ? ORDER BY p.entry LIMIT ?
                    """, arguments: [account.description, after ?? -1, limit])
                    .map { row in
                        let kind = (try? EntryEncoding.decode(Array(row["leaf"] as Data)))?.transfer.kind.rawValue ?? "unknown"
                        return HistoryItem(entry: row["entry"], committedAt: row["committed_at"], kind: kind,
                                           side: Transfer.Side(rawValue: UInt8(row["side"] as Int)) ?? .debit, amount: row["amount"])
                    }
            }
        } catch {
            throw .database("\(error)")
        }
    }
}
