import Foundation
import GRDB
import Ledger
import Manifest

/// The stored log must rebuild the last signed state.
extension LedgerStore {
    /// What an integrity check found.
    public struct IntegrityReport: Sendable, Equatable {
        public var entries: Int
        public var problems: [String]
        public var isIntact: Bool { problems.isEmpty }
    }

    /// Reads every entry in order and checks: indexes run 0, 1, 2… without gaps; each stored leaf decodes, names its
    /// own index, and hashes to its stored leaf hash; balances equal the sums of the leaves' postings; the latest
    /// checkpoint's signature verifies (with the origin's key) and the rebuilt log has its root at its size. Rebuilds
    /// the in-memory log and per-account entry index; while problems remain, writes are refused.
    @discardableResult
    public func verifyIntegrity() throws(StoreError) -> IntegrityReport {
        try writer.withLock { _ throws(StoreError) in try verifyIntegrityHoldingWriter() }
    }

    private func verifyIntegrityHoldingWriter() throws(StoreError) -> IntegrityReport {
        var problems: [String] = []
        var tree = MerkleTree()
        var entriesByAccount: [String: [Int]] = [:]
        do {
            try pool.read { db in
                var sums: [String: Int64] = [:]

                let rows = try Row.fetchCursor(db, sql: "SELECT idx, leaf, leaf_hash FROM entries ORDER BY idx")
                var expected: Int64 = 0
                while let row = try rows.next() {
                    let index: Int64 = row["idx"]
                    let leaf = Array(row["leaf"] as Data)
                    let storedHash = Array(row["leaf_hash"] as Data)
                    if index != expected {
                        problems.append(index > expected ? "entries \(expected)..<\(index) are missing" : "entry \(index) is out of order")
                        expected = index
                    }
                    expected += 1
                    let hash = RFC9162.leafHash(leaf)
                    if hash.bytes != storedHash { problems.append("entry \(index): stored leaf hash does not match its bytes") }
                    guard let entry = try? EntryEncoding.decode(leaf) else {
                        problems.append("entry \(index): stored bytes do not decode")
                        tree.append(leafHash: hash)
                        continue
                    }
                    if entry.index != UInt64(index) { problems.append("entry \(index): its bytes say index \(entry.index)") }
                    for posting in entry.transfer.postings {
                        let account = posting.account.description
                        if let sum = BalanceRule.move(sums[account, default: 0], by: posting) {
                            sums[account] = sum
                        } else {
                            problems.append("entry \(index): the postings of \(account) sum beyond the 64-bit range")
                        }
                        entriesByAccount[account, default: []].append(Int(index))
                    }
                    tree.append(leafHash: hash)
                }
                let balances = try Row.fetchAll(db, sql: "SELECT account, balance FROM balances")
                var seen: Set<String> = []
                for row in balances {
                    let account: String = row["account"]
                    let balance: Int64 = row["balance"]
                    seen.insert(account)
                    if sums[account, default: 0] != balance {
                        problems.append("balance of \(account) is \(balance), its postings sum to \(sums[account, default: 0])")
                    }
                }
                for (account, sum) in sums where !seen.contains(account) && sum != 0 {
                    problems.append("balance of \(account) is missing (postings sum to \(sum))")
                }
            }
        } catch {
            throw .database("\(error)")
        }
        if let (size, note) = try latestCheckpoint() {
            if let verifier {
                do {
                    try note.verify(with: verifier)
                } catch {
                    problems.append("checkpoint of size \(size): signature does not verify")
                }
            }
            if let checkpoint = try? Checkpoint(text: note.text) {
                if checkpoint.size > tree.size {
                    problems.append("checkpoint of size \(checkpoint.size) is signed but only \(tree.size) entries are stored")
                } else if tree.root(size: checkpoint.size) != checkpoint.root {
                    problems.append("the stored entries do not rebuild the root signed at size \(checkpoint.size)")
                }
            } else {
                problems.append("checkpoint of size \(size) does not parse")
            }
        }
        let rebuilt = tree
        let found = problems
        stateReplace(tree: rebuilt, problems: found, entriesByAccount: entriesByAccount)
        return IntegrityReport(entries: rebuilt.size, problems: found)
    }
}
