import Foundation
import Manifest

/// A posting in its readable form: the account's name, `debit` or `credit`, minor units.
public struct ExportedPosting: Codable, Equatable, Sendable {
    public var account: String
    public var side: String
    public var amount: Int64

    public init(account: String, side: String, amount: Int64) {
        self.account = account
        self.side = side
        self.amount = amount
    }
}

/// An entry as exports and the API show it: its readable form with its canonical bytes (`leaf`, base64) and leaf hash
/// (hex). The leaf rebuilds the log on its own; an audit checks that the readable fields say what the leaf encodes.
public struct ExportedEntry: Codable, Equatable, Sendable {
    public var index: UInt64
    public var committedAt: Int64
    public var idempotencyKey: String
    public var kind: String
    public var memo: String
    public var postings: [ExportedPosting]
    public var leaf: String
    public var leafHash: String

    public init(_ entry: LedgerEntry) {
        let bytes = EntryEncoding.encode(entry)
        index = entry.index
        committedAt = entry.committedAt
        idempotencyKey = entry.transfer.idempotencyKey
        kind = entry.transfer.kind.rawValue
        memo = entry.transfer.memo
        postings = entry.transfer.postings.map {
            ExportedPosting(account: $0.account.description, side: $0.side == .credit ? "credit" : "debit", amount: $0.amount)
        }
        leaf = Data(bytes).base64EncodedString()
        leafHash = RFC9162.leafHash(bytes).hex
    }
}

extension ExportedEntry {
    /// An entry as given field by field (what an export says).
    public init(index: UInt64, committedAt: Int64, idempotencyKey: String, kind: String, memo: String, postings: [ExportedPosting],
                leaf: String, leafHash: String) {
        self.index = index
        self.committedAt = committedAt
        self.idempotencyKey = idempotencyKey
        self.kind = kind
        self.memo = memo
        self.postings = postings
        self.leaf = leaf
        self.leafHash = leafHash
    }
}
