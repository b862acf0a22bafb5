import EdgeCache
import Foundation
import GRDB
import Ledger
import Manifest
import Testing
import TestSupport
@testable import LedgerStore

@Suite struct LedgerStoreTests {
    static let signer = try! NoteSigner.generate(name: "origin.test")
    static let origin = "edgenode.ledger/test"

    static func account(_ text: String) -> Account { try! Account(parsing: text) }
    static let dsp = account("external/spotify/EUR"), luna = account("artist/luna/EUR"), sol = account("artist/sol/EUR")
    static let inFlight = account("payouts/in-flight/EUR")

    static func royalty(_ key: String, _ amount: Int64, to artist: Account = luna) -> Transfer {
        try! Transfer(idempotencyKey: key, kind: .royalty, postings: [.init(.debit, dsp, amount), .init(.credit, artist, amount)])
    }

    static func signCheckpoint(_ store: LedgerStore, signer: NoteSigner = signer) throws {
        let size = store.size
        let root = store.root(size: size)
        try store.saveCheckpoint(try signer.sign(text: try Checkpoint(origin: origin, size: size, root: root).text), size: size, root: root, at: 1)
    }

    @Test func batchesAreDurableAndKeysExactlyOnceAcrossReopens() throws {
        let directory = try TemporaryDirectory("ledger")
        defer { directory.remove() }
        let path = directory.path + "/ledger.sqlite"
        do {
            let store = try LedgerStore(path: path, verifier: Self.signer.verifier)
            let results = try store.commit([Self.royalty("a", 100), Self.royalty("b", 50, to: Self.sol), Self.royalty("a", 100), Self.royalty("a", 7)], at: 10)
            #expect(results.map { if case .success(.committed) = $0 { "new" } else if case .success(.duplicate) = $0 { "dup" } else { "refused" } }
                    == ["new", "new", "dup", "refused"])
            try Self.signCheckpoint(store)
        }
        let reopened = try LedgerStore(path: path, verifier: Self.signer.verifier)
        #expect(reopened.integrityProblems.isEmpty && reopened.size == 2)
        #expect(try reopened.balance(Self.luna) == 100 && reopened.balance(Self.sol) == 50 && reopened.balance(Self.dsp) == -150)
        let retry = try reopened.commit([Self.royalty("a", 100)], at: 20)
        guard case .success(.duplicate(let original)) = retry[0] else { Issue.record("\(retry)"); return }
        #expect(original.index == 0 && original.committedAt == 10, "the original result, not a new one")
        #expect(throws: Never.self) { try reopened.commit([Self.royalty("c", 1)], at: 30) }
        let payout = try Transfer(idempotencyKey: "p", kind: .payout, postings: [.init(.debit, Self.luna, 102), .init(.credit, Self.inFlight, 102)])
        #expect(try reopened.commit([payout], at: 40) == [.failure(.negativeBalance(account: "artist/luna/EUR", balance: -1))])
        #expect(try reopened.entries(from: 0, to: reopened.size).map(\.transfer.idempotencyKey) == ["a", "b", "c"])
    }

    /// Each kind of tampering with the database is found on open, named, and stops writes.
    @Test(arguments: [
        ("UPDATE balances SET balance = balance + 500 WHERE account = 'artist/luna/EUR'", "balance of artist/luna/EUR"),
        ("DELETE FROM entries WHERE idx = 2", "entries 2..<3 are missing"),
        // Two entries swapped (bytes and hashes moved together, so each row is self-consistent).
        ("""
         CREATE TEMP TABLE swap AS SELECT idx, leaf, leaf_hash FROM entries WHERE idx IN (3, 4);
         UPDATE entries SET leaf = (SELECT leaf FROM swap WHERE swap.idx = 7 - entries.idx),
                            leaf_hash = (SELECT leaf_hash FROM swap WHERE swap.idx = 7 - entries.idx) WHERE idx IN (3, 4)
         """, "its bytes say index"),
        ("UPDATE entries SET leaf = zeroblob(10) WHERE idx = 3", "stored leaf hash does not match"),
        ("DELETE FROM entries WHERE idx = 5", "only 5 entries are stored"),
    ])
    func tamperingIsDetectedAndWritesRefused(statement: String, expected: String) throws {
        let directory = try TemporaryDirectory("ledger")
        defer { directory.remove() }
        let path = directory.path + "/ledger.sqlite"
        do {
            let store = try LedgerStore(path: path, verifier: Self.signer.verifier)
            _ = try store.commit((0..<6).map { Self.royalty("r\($0)", 100 + Int64($0), to: $0 % 2 == 0 ? Self.luna : Self.sol) }, at: 5)
            try Self.signCheckpoint(store)
            try store.pool.write { try $0.execute(sql: statement) }
        }
        let reopened = try LedgerStore(path: path, verifier: Self.signer.verifier)
        #expect(reopened.integrityProblems.contains { $0.contains(expected) }, "\(reopened.integrityProblems)")
        #expect(throws: StoreError.self) { try reopened.commit([Self.royalty("new", 1)], at: 9) }
    }

    @Test func aForgedCheckpointIsDetected() throws {
        let directory = try TemporaryDirectory("ledger")
        defer { directory.remove() }
        let path = directory.path + "/ledger.sqlite"
        do {
            let store = try LedgerStore(path: path, verifier: Self.signer.verifier)
            _ = try store.commit([Self.royalty("a", 1)], at: 1)
            try Self.signCheckpoint(store, signer: try NoteSigner.generate(name: "origin.test"))
        }
        let reopened = try LedgerStore(path: path, verifier: Self.signer.verifier)
        #expect(reopened.integrityProblems == ["checkpoint of size 1: signature does not verify"])
    }

    /// 300 concurrent requests, with retries and reused keys: batched into far fewer transactions, each answered with
    /// its own outcome, and the store ends exactly where the in-memory model does.
    @Test func groupCommitBatchesConcurrentRequests() async throws {
        let directory = try TemporaryDirectory("ledger")
        defer { directory.remove() }
        let store = try LedgerStore(path: directory.path + "/ledger.sqlite", verifier: nil)
        let committer = GroupCommitter(store: store)
        var generator = SplitMix64(seed: 3)
        let requests = (0..<300).map { _ in Self.royalty("k\(Int.random(in: 0..<200, using: &generator))", 10) }
        let outcomes = try await withThrowingTaskGroup(of: LedgerBook.Outcome.self) { group in
            for request in requests { group.addTask { try await committer.submit(request) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let committed = outcomes.filter { if case .committed = $0 { true } else { false } }.count
        #expect(committed == Set(requests.map(\.idempotencyKey)).count, "one effect per key")
        #expect(outcomes.count == 300)
        let transactions = await committer.transactions
        #expect(transactions < 100, "\(transactions) transactions for 300 requests")
        #expect(try store.balance(Self.luna) == Int64(committed) * 10)
        #expect(try store.verifyIntegrity().isIntact)
    }
}
