import Foundation
import GRDB
import Ledger

/// Write-once documents kept beside the log: the control module's records of what it decided or received (a payout
/// run's plan, a node's delivery report, an imported statement), stored as opaque bytes under a kind and an id. The
/// first body stored under a kind and id is kept; storing again answers the one kept, so callers decide what a
/// different body means.
extension LedgerStore {
    /// A stored document.
    public struct Document: Sendable, Equatable {
        public let id: String
        public let body: Data
        /// Milliseconds since 1970.
        public let createdAt: Int64
    }

    /// What storing a document did.
    public enum DocumentOutcome: Sendable, Equatable {
        case created(Document)
        /// A document with that kind and id was there already: it is returned (its body may differ).
        case existing(Document)

        public var document: Document {
            switch self {
            case .created(let document), .existing(let document): document
            }
        }
    }

    /// Stores `body` under `kind` and `id` unless a document is there already.
    public func putDocument(kind: String, id: String, body: Data, at time: Int64) throws(StoreError) -> DocumentOutcome {
        do {
            return try pool.write { db in
                if let row = try Row.fetchOne(db, sql: "SELECT body, created_at FROM documents WHERE kind = ? AND id = ?", arguments: [kind, id]) {
                    return .existing(Document(id: id, body: row["body"], createdAt: row["created_at"]))
                }
                try db.execute(sql: "INSERT INTO documents (kind, id, body, created_at) VALUES (?, ?, ?, ?)", arguments: [kind, id, body, time])
                return .created(Document(id: id, body: body, createdAt: time))
            }
        } catch {
            throw .database("\(error)")
        }
    }

    /// The document stored under `kind` and `id`.
    public func document(kind: String, id: String) throws(StoreError) -> Document? {
        do {
            return try pool.read { db in
                try Row.fetchOne(db, sql: "SELECT body, created_at FROM documents WHERE kind = ? AND id = ?", arguments: [kind, id]).map {
                    Document(id: id, body: $0["body"], createdAt: $0["created_at"])
                }
            }
        } catch {
            throw .database("\(error)")
        }
    }

    /// The documents of `kind` whose ids start with `idPrefix`, ordered by id.
    public func documents(kind: String, idPrefix: String) throws(StoreError) -> [Document] {
        do {
            return try pool.read { db in
                try Row.fetchAll(db, sql: "SELECT id, body, created_at FROM documents WHERE kind = ? AND id >= ? AND id < ? ORDER BY id",
                                 arguments: [kind, idPrefix, idPrefix + "\u{FFFF}"]).map {
                    Document(id: $0["id"], body: $0["body"], createdAt: $0["created_at"])
                }
            }
        } catch {
            throw .database("\(error)")
        }
    }
}

extension LedgerStore {
    /// Every artist account of `currency` with a positive balance: (artist, balance), ordered by artist.
    public func artistBalances(currency: Currency) throws(StoreError) -> [(artist: String, balance: Int64)] {
        let suffix = "/\(currency.code)"
        do {
            let rows = try pool.read { db in
                try Row.fetchAll(db, sql: "SELECT account, balance FROM balances WHERE account >= 'artist/' AND account < 'artist0' AND balance > 0 ORDER BY account")
            }
            return rows.compactMap { row -> (artist: String, balance: Int64)? in
                let account: String = row["account"]
                guard account.hasSuffix(suffix) else { return nil }
                return (String(account.dropFirst("artist/".count).dropLast(suffix.count)), row["balance"])
            }
        } catch {
            throw .database("\(error)")
        }
    }

    /// The entries committed under `keys` (keys without one are absent from the answer).
    public func entries(keys: [String]) throws(StoreError) -> [String: LedgerEntry] {
        do {
            return try pool.read { db in
                let statement = try db.cachedStatement(sql: "SELECT leaf FROM entries WHERE idempotency_key = ?")
                var found: [String: LedgerEntry] = [:]
                for key in keys {
                    guard let leaf = try Data.fetchOne(statement, arguments: [key]) else { continue }
                    found[key] = try EntryEncoding.decode(Array(leaf))
                }
                return found
            }
        } catch {
            throw .database("\(error)")
        }
    }
}
