import Control
import Foundation
import Ledger
import LedgerStore
import Manifest
import Testing

/// The read side over real HTTP: every answer is checked against the signed checkpoint, not against itself.
@Suite struct ReadAPITests {
    static func decode<T: Decodable>(_ type: T.Type, _ response: ControlClient.Response) throws -> T {
        try Views.decoder().decode(type, from: response.body)
    }

    /// Commits `count` royalties alternating between luna and sol, in EUR and JPY.
    static func seed(_ harness: ControlHarness, count: Int, from start: Int = 0) async throws {
        let admin = harness.client(harness.admin)
        for index in start..<(start + count) {
            let body = ControlHarness.royalty(key: "r\(index)", artist: index % 2 == 0 ? "luna" : "sol", amount: Int64(100 + index),
                                              currency: index % 3 == 0 ? "JPY" : "EUR")
            let response = try await admin.post("/v1/transfers", json: body)
            #expect(response.status == 201)
        }
    }

    @Test func proofsVerifyAgainstSignedCheckpoints() async throws {
        let harness = try await ControlHarness(witness: true)
        let admin = harness.client(harness.admin)
        #expect(try await admin.get("/v1/checkpoint").status == 404)
        try await Self.seed(harness, count: 13)
        let issued = try await admin.post("/v1/checkpoints", json: nil)
        #expect(issued.status == 201)
        #expect(try await admin.post("/v1/checkpoints", json: nil).status == 200)
        let old = try LogAudit.checkpoint(try Self.decode(Views.CheckpointView.self, issued).checkpoint, verifier: harness.signer.verifier,
                                          log: LedgerModule.defaultLogOrigin)
        #expect(old.size == 13)
        try await Self.seed(harness, count: 8, from: 13)
        _ = try await admin.post("/v1/checkpoints", json: nil)
        let latest = try await harness.client(harness.artist).get("/v1/checkpoint")
        let new = try LogAudit.checkpoint(try Self.decode(Views.CheckpointView.self, latest).checkpoint, verifier: harness.signer.verifier,
                                          log: LedgerModule.defaultLogOrigin)
        #expect(new.size == 21)
        #expect(try FileWitness(path: harness.scratch.path + "/witness.jsonl").checkpoints().count == 2)
        // Inclusion by index and by leaf hash, for every entry, against the signed root.
        let entries = try Self.decode(EntriesPage.self,
                                      try await admin.get("/v1/entries?start=0&end=21"))
        #expect(entries.entries.count == 21)
        for entry in entries.entries {
            for query in ["index=\(entry.index)", "leaf_hash=\(entry.leafHash)"] {
                let proof = try Self.decode(Views.InclusionProof.self, try await harness.client(harness.artist).get("/v1/proofs/inclusion?\(query)&tree_size=21"))
                try MerkleProof.verifyInclusion(index: proof.index, treeSize: 21, leafHash: MerkleHash(hex: entry.leafHash)!,
                                                proof: proof.proof.map { MerkleHash(hex: $0)! }, root: new.root)
                #expect(proof.index == Int(entry.index))
            }
        }
        // Consistency from the earlier checkpoint.
        let consistency = try Self.decode(Views.ConsistencyProof.self, try await admin.get("/v1/proofs/consistency?first=13&second=21"))
        try LogAudit.consistency(from: old, to: new, proof: consistency.proof)
        #expect(throws: LogAudit.Failure.self) { try LogAudit.consistency(from: old, to: new, proof: Array(consistency.proof.dropLast())) }
        // Bad queries are precise 400s; positions the log has not reached are 404 (well-formed, nothing there yet).
        let cases: [(String, Int, String)] = [
            ("/v1/proofs/inclusion?index=21&tree_size=21", 404, "index 21 is beyond the tree of size 21"),
            ("/v1/proofs/inclusion?index=0&tree_size=22", 404, "tree_size 22 is beyond the log, which has 21 entries"),
            ("/v1/proofs/inclusion?index=1&leaf_hash=\(entries.entries[1].leafHash)", 400, "exactly one of index or leaf_hash"),
            ("/v1/proofs/inclusion?leaf_hash=zz", 400, "64 hex digits"),
            ("/v1/proofs/inclusion?leaf_hash=\(String(repeating: "ab", count: 32))", 404, "no entry has leaf hash"),
            ("/v1/proofs/consistency?first=22&second=21", 404, "first 22 is beyond the log, which has 21 entries"),
            ("/v1/proofs/consistency?first=5&second=3", 400, "first (5) must not be after second (3)"),
            ("/v1/entries?start=0&end=5000", 404, "end 5000 is beyond the log, which has 21 entries"),
            ("/v1/entries?start=7&end=3", 400, "end (3) must not be before start (7)"),
            ("/v1/accounts/platform/nothing/EUR", 404, "no such account"),
            ("/v1/entries?start=x", 400, "must be a decimal integer"),
            ("/v1/entries?start=1&start=2", 400, "more than once"),
        ]
        for (path, status, message) in cases {
            let response = try await admin.get(path)
            #expect(response.status == status && ControlHarness.errorMessage(response).contains(message),
                    "\(path): \(response.status) \(ControlHarness.errorMessage(response))")
        }
        await harness.stop()
    }

    struct EntriesPage: Decodable {
        var start: Int
        var end: Int
        var treeSize: Int
        var entries: [Views.Entry]
    }

    /// What `seed(count: 30)` credits luna in EUR: entries with an even index not divisible by 3.
    static let lunaEUR: Int64 = {
        let indexes: [Int] = (0..<30).filter { $0 % 2 == 0 && $0 % 3 != 0 }
        return indexes.reduce(Int64(0)) { total, index in total + Int64(100 + index) }
    }()

    @Test func balancesAndHistoryPaginate() async throws {
        let harness = try await ControlHarness()
        try await Self.seed(harness, count: 30)
        let admin = harness.client(harness.admin)
        var seen: [String] = []
        var after: String?
        repeat {
            let page = ControlHarness.json(try await admin.get("/v1/balances?limit=2" + (after.map { "&after=\($0)" } ?? "")))
            let rows = page["balances"] as? [[String: Any]] ?? []
            seen += rows.compactMap { $0["account"] as? String }
            after = page["next"] as? String
            #expect(rows.count <= 2)
        } while after != nil
        #expect(seen == ["artist/luna/EUR", "artist/luna/JPY", "artist/sol/EUR", "artist/sol/JPY", "external/spotify/EUR", "external/spotify/JPY"])
        // luna's EUR history: entries 2, 4, 8, 10, … in pages of 3, summing to the balance.
        var total: Int64 = 0
        var entries: [Int] = []
        var cursor: Int?
        repeat {
            let page = ControlHarness.json(try await harness.client(harness.artist).get(
                "/v1/accounts/artist/luna/EUR?limit=3" + (cursor.map { "&after=\($0)" } ?? "")))
            for item in page["history"] as? [[String: Any]] ?? [] {
                entries.append(item["entry"] as? Int ?? -1)
                total += Int64(item["amount"] as? Int ?? 0)
            }
            #expect(page["balance"] as? Int64 == Self.lunaEUR)
            cursor = page["next"] as? Int
        } while cursor != nil
        let lunaEURIndexes: [Int] = (0..<30).filter { $0 % 2 == 0 && $0 % 3 != 0 }
        #expect(entries == lunaEURIndexes)
        #expect(total == Self.lunaEUR)
        let artistList = ControlHarness.json(try await harness.client(harness.artist).get("/v1/balances"))
        #expect((artistList["balances"] as? [[String: Any]])?.compactMap { $0["account"] as? String } == ["artist/luna/EUR", "artist/luna/JPY"])
        await harness.stop()
    }

    @Test func exportsRebuildTheSignedRootAndReceiptsVerify() async throws {
        let harness = try await ControlHarness()
        try await Self.seed(harness, count: 1_100)
        let admin = harness.client(harness.admin)
        let checkpoint = try Self.decode(Views.CheckpointView.self, try await admin.post("/v1/checkpoints", json: nil))
        let signed = try LogAudit.checkpoint(checkpoint.checkpoint, verifier: harness.signer.verifier, log: LedgerModule.defaultLogOrigin)
        let json = try LedgerExport(json: try await admin.get("/v1/export").body)
        #expect(json.checkpoint == checkpoint.checkpoint && json.entries.count == 1_100)
        let report = try LogAudit.audit(json, checkpoint: signed, earlier: nil)
        let indexes: [Int] = (0..<1_100).filter { $0 % 3 != 0 }
        let expected: Int64 = indexes.reduce(Int64(0)) { total, index in total + Int64(100 + index) }
        #expect(report.volume["EUR"] == expected)
        let csvResponse = try await admin.get("/v1/export?format=csv")
        #expect(csvResponse.headers["content-type"]?.hasPrefix("text/csv") == true)
        let csv = try LedgerExport(csv: String(decoding: csvResponse.body, as: UTF8.self))
        #expect(csv.entries == json.entries)
        _ = try LogAudit.audit(csv, checkpoint: signed, earlier: nil)
        // A range export carries no checkpoint unless one was signed at its end.
        let range = try LedgerExport(json: try await admin.get("/v1/export?start=100&end=200").body)
        #expect(range.entries.count == 100 && range.entries.first?.index == 100 && range.checkpoint == nil)
        // The artist's receipt, from the API, verifies offline.
        let response = try await harness.client(harness.artist).get("/v1/artists/luna/receipt")
        let receipt = try JSONDecoder().decode(Receipt.self, from: response.body)
        let verified = try ReceiptVerifier.verify(receipt, verifier: harness.signer.verifier, logOrigin: LedgerModule.defaultLogOrigin)
        #expect(verified.count == 550)
        let integrity = ControlHarness.json(try await admin.get("/v1/integrity"))
        #expect(integrity["intact"] as? Bool == true && integrity["entries"] as? Int == 1_100)
        await harness.stop()
    }
}
