import Foundation
import GRDB

/// Control API bearer tokens, stored by SHA-256 digest only (a stolen database yields no usable token).
extension LedgerStore {
    /// A stored token's record (never the token itself).
    public struct TokenRecord: Sendable, Equatable {
        public var digest: [UInt8]
        public var scope: String
        public var label: String
        public var createdAt: Int64
        public var revokedAt: Int64?
    }

    /// Stores a new token's digest with its scope.
    public func addToken(digest: [UInt8], scope: String, label: String, at time: Int64) throws(StoreError) {
        do {
            try pool.write { db in
                try db.execute(sql: "INSERT INTO api_tokens (hash, scope, label, created_at) VALUES (?, ?, ?, ?)",
                               arguments: [Data(digest), scope, label, time])
            }
        } catch {
            throw .database("\(error)")
        }
    }

    /// The scope of the unrevoked token with this digest, if any.
    public func tokenScope(digest: [UInt8]) throws(StoreError) -> String? {
        do {
            return try pool.read { db in
                try String.fetchOne(db, sql: "SELECT scope FROM api_tokens WHERE hash = ? AND revoked_at IS NULL", arguments: [Data(digest)])
            }
        } catch {
            throw .database("\(error)")
        }
    }

    /// Every token record, oldest first.
    public func tokens() throws(StoreError) -> [TokenRecord] {
        do {
            return try pool.read { db in
                try Row.fetchAll(db, sql: "SELECT hash, scope, label, created_at, revoked_at FROM api_tokens ORDER BY created_at, hash")
                    .map { TokenRecord(digest: Array($0["hash"] as Data), scope: $0["scope"], label: $0["label"],
                                       createdAt: $0["created_at"], revokedAt: $0["revoked_at"]) }
            }
        } catch {
            throw .database("\(error)")
        }
    }

    /// Revokes the active token whose digest starts with `prefix`, if exactly one does; returns how many matched (nothing
    /// is revoked when the prefix is ambiguous).
    public func revokeTokens(digestPrefix prefix: [UInt8], at time: Int64) throws(StoreError) -> Int {
        do {
            return try pool.write { db in
                let matching = try Row.fetchAll(db, sql: "SELECT hash FROM api_tokens WHERE revoked_at IS NULL")
                    .map { Array($0["hash"] as Data) }.filter { $0.starts(with: prefix) }
                if matching.count == 1, let digest = matching.first {
                    try db.execute(sql: "UPDATE api_tokens SET revoked_at = ? WHERE hash = ?", arguments: [time, Data(digest)])
                }
                return matching.count
            }
        } catch {
            throw .database("\(error)")
        }
    }
}
