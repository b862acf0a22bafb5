// bench/ledger.sh, in-process part. Usage:
//   ledger-bench commit DIR TRANSFERS CONCURRENCY   durable transfers/s through group commit, then raw batched inserts
//                                                   of rows of the same size on the same disk (batches as large as
//                                                   group commit's average), alternating, 3 rounds
//   ledger-bench fill DB COUNT                      a ledger of COUNT entries (for the proof latency runs)
//   ledger-bench proofs DB SAMPLES                  inclusion and consistency proof latency (generate and verify)
import Foundation
import GRDB
import Ledger
import LedgerStore
import Manifest

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

func transfer(_ index: Int, tag: String) -> Transfer {
    let amount = Int64(100 + index % 997)
    return try! Transfer(idempotencyKey: "\(tag)-\(index)", kind: .royalty, postings: [
        .init(.debit, try! Account(parsing: "external/dsp-\(index % 4)/EUR"), amount),
        .init(.credit, try! Account(parsing: "artist/a\(index % 1000)/EUR"), amount)])
}

func percentile(_ sorted: [Double], _ p: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }

/// Durable transfers/s through GroupCommitter with `concurrency` submitters; returns (rate, mean batch).
func groupCommit(path: String, count: Int, concurrency: Int, tag: String) async throws -> (Double, Double) {
    let store = try LedgerStore(path: path, verifier: nil)
    let committer = GroupCommitter(store: store)
    // Built (parsed and validated) before the clock starts: the raw inserts get ready-made rows too.
    let transfers = (0..<count).map { transfer($0, tag: tag) }
    let start = now()
    await withTaskGroup(of: Void.self) { group in
        for worker in 0..<concurrency {
            group.addTask {
                var index = worker
                while index < count {
                    _ = try? await committer.submit(transfers[index])
                    index += concurrency
                }
            }
        }
    }
    let elapsed = now() - start
    let transactions = await committer.transactions
    guard store.size >= count else { fatalError("only \(store.size) of \(count) committed") }
    return (Double(count) / elapsed, Double(count) / Double(transactions))
}

/// Raw batched inserts of rows as large as a ledger entry (leaf, leaf hash, key, digest), WAL + synchronous=FULL.
func rawInserts(path: String, count: Int, batch: Int, tag: String) throws -> Double {
    var configuration = Configuration()
    configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
    let pool = try DatabasePool(path: path, configuration: configuration)
    try pool.write { db in
        try db.execute(sql: "CREATE TABLE IF NOT EXISTS rows (idx INTEGER PRIMARY KEY, k TEXT NOT NULL UNIQUE, digest BLOB NOT NULL, leaf BLOB NOT NULL, leaf_hash BLOB NOT NULL)")
    }
    let sample = EntryEncoding.encode(LedgerEntry(index: 0, committedAt: 0, transfer: transfer(0, tag: tag)))
    let start = now()
    var next = 0
    while next < count {
        let end = min(count, next + batch)
        try pool.write { db in
            let statement = try db.cachedStatement(sql: "INSERT INTO rows (k, digest, leaf, leaf_hash) VALUES (?, ?, ?, ?)")
            for index in next..<end {
                try statement.execute(arguments: ["\(tag)-\(index)", Data(count: 32), Data(sample), Data(count: 32)])
            }
        }
        next = end
    }
    return Double(count) / (now() - start)
}

let arguments = CommandLine.arguments
switch arguments.count > 1 ? arguments[1] : "" {
case "commit":
    let directory = arguments[2], count = Int(arguments[3])!, concurrency = Int(arguments[4])!
    print("round  group-commit/s  mean-batch  raw-inserts/s  ratio")
    var ratios: [Double] = []
    for round in 1...3 {
        let (rate, batch) = try await groupCommit(path: "\(directory)/ledger-\(round).sqlite", count: count, concurrency: concurrency, tag: "r\(round)")
        let raw = try rawInserts(path: "\(directory)/raw-\(round).sqlite", count: count, batch: max(1, Int(batch.rounded())), tag: "r\(round)")
        ratios.append(rate / raw)
        print(String(format: "%5d  %14.0f  %10.1f  %13.0f  %5.2f", round, rate, batch, raw, rate / raw))
    }
    print(String(format: "median ratio %.2f", ratios.sorted()[1]))
case "fill":
    let store = try LedgerStore(path: arguments[2], verifier: nil)
    let count = Int(arguments[3])!
    let start = now()
    var next = store.size
    while next < count {
        let end = min(count, next + 10_000)
        let batch = (next..<end).map { transfer($0, tag: "fill") }
        _ = try store.commit(batch, at: 1_800_000_000_000)
        next = end
    }
    print(String(format: "%d entries in %.1f s", store.size, now() - start))
case "proofs":
    let open = now()
    let store = try LedgerStore(path: arguments[2], verifier: nil)
    let samples = Int(arguments[3])!
    let size = store.size
    print(String(format: "opened %d entries (integrity check, log rebuilt) in %.1f s", size, now() - open))
    let root = store.root(size: size)
    var generator = SystemRandomNumberGenerator()
    var inclusion: [Double] = [], consistency: [Double] = [], verifyInclusion: [Double] = [], verifyConsistency: [Double] = []
    for _ in 0..<samples {
        let index = Int.random(in: 0..<size, using: &generator)
        var start = now()
        let proof = try store.inclusionProof(index: index, size: size)
        inclusion.append(now() - start)
        let leaf = try store.entries(from: index, to: index + 1)[0]
        start = now()
        try MerkleProof.verifyInclusion(index: index, treeSize: size, leafHash: EntryEncoding.leafHash(leaf), proof: proof, root: root)
        verifyInclusion.append(now() - start)
        let old = Int.random(in: 1..<size, using: &generator)
        start = now()
        let path = try store.consistencyProof(from: old, to: size)
        consistency.append(now() - start)
        let oldRoot = store.root(size: old)
        start = now()
        try MerkleProof.verifyConsistency(oldSize: old, newSize: size, oldRoot: oldRoot, newRoot: root, proof: path)
        verifyConsistency.append(now() - start)
    }
    for (name, values) in [("inclusion proof", inclusion), ("  verify", verifyInclusion), ("consistency proof", consistency), ("  verify", verifyConsistency)] {
        let sorted = values.sorted()
        print(String(format: "%-18@ p50 %7.1f µs  p99 %7.1f µs  max %7.1f µs", name as NSString, percentile(sorted, 0.5) * 1e6,
                     percentile(sorted, 0.99) * 1e6, sorted.last! * 1e6))
    }
default:
    print("usage: ledger-bench commit DIR TRANSFERS CONCURRENCY | fill DB COUNT | proofs DB SAMPLES")
    exit(2)
}
