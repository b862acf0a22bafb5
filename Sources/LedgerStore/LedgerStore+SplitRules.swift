import Foundation
import GRDB

/// Collaborator split rules as stored: per content, versioned by the time they take effect. The store keeps them as
/// given; the control module validates them (`Royalty.SplitRule`) first.
extension LedgerStore {
    /// One version of a content's split.
    public struct StoredSplitRule: Sendable, Equatable {
        public struct Share: Sendable, Equatable {
            public let artist: String
            public let basisPoints: Int

            public init(artist: String, basisPoints: Int) {
                self.artist = artist
                self.basisPoints = basisPoints
            }
        }

        public let content: String
        /// Unix seconds.
        public let effectiveFrom: Int64
        public let shares: [Share]

        public init(content: String, effectiveFrom: Int64, shares: [Share]) {
            self.content = content
            self.effectiveFrom = effectiveFrom
            self.shares = shares
        }

        /// `artist=basisPoints` pairs separated by `,` (artist ids never contain either).
        var encodedShares: String { shares.map { "\($0.artist)=\($0.basisPoints)" }.joined(separator: ",") }

        static func decodeShares(_ text: String) -> [Share]? {
            var shares: [Share] = []
            for pair in text.split(separator: ",") {
                let parts = pair.split(separator: "=")
                guard parts.count == 2, let points = Int(parts[1]) else { return nil }
                shares.append(Share(artist: String(parts[0]), basisPoints: points))
            }
            return shares
        }
    }

    /// What adding a rule did.
    public enum SplitRuleOutcome: Sendable, Equatable {
        case created
        /// The same rule was stored already: nothing changed.
        case existing
        /// Another rule of the content takes effect at the same time: nothing changed.
        case conflict(StoredSplitRule)
    }

    public func addSplitRule(_ rule: StoredSplitRule, at time: Int64) throws(StoreError) -> SplitRuleOutcome {
        do {
            return try pool.write { db in
                if let row = try Row.fetchOne(db, sql: "SELECT shares FROM split_rules WHERE content = ? AND effective_from = ?",
                                              arguments: [rule.content, rule.effectiveFrom]) {
                    let shares: String = row["shares"]
                    guard shares == rule.encodedShares else {
                        return .conflict(StoredSplitRule(content: rule.content, effectiveFrom: rule.effectiveFrom,
                                                         shares: StoredSplitRule.decodeShares(shares) ?? []))
                    }
                    return .existing
                }
                try db.execute(sql: "INSERT INTO split_rules (content, effective_from, shares, created_at) VALUES (?, ?, ?, ?)",
                               arguments: [rule.content, rule.effectiveFrom, rule.encodedShares, time])
                return .created
            }
        } catch {
            throw .database("\(error)")
        }
    }

    /// Every version of `content`'s split, oldest first (all contents' when nil).
    public func splitRules(content: String?) throws(StoreError) -> [StoredSplitRule] {
        do {
            let rows = try pool.read { db in
                if let content {
                    return try Row.fetchAll(db, sql: "SELECT content, effective_from, shares FROM split_rules WHERE content = ? ORDER BY effective_from",
                                            arguments: [content])
                }
                return try Row.fetchAll(db, sql: "SELECT content, effective_from, shares FROM split_rules ORDER BY content, effective_from")
            }
            return try rows.map { row throws(StoreError) in
                let text: String = row["shares"]
                guard let shares = StoredSplitRule.decodeShares(text) else { throw .database("a stored split rule does not decode: \(text.prefix(80))") }
                return StoredSplitRule(content: row["content"], effectiveFrom: row["effective_from"], shares: shares)
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw .database("\(error)")
        }
    }
}
