import Foundation
import Ledger
import LedgerStore
import Manifest
import Testing
import TestSupport

/// `edgenode ledger`: checkpoint, receipt and offline verification as real processes, on a real database.
@Suite struct LedgerCLITests {
    static func account(_ text: String) -> Account { try! Account(parsing: text) }

    @Test func aReceiptVerifiesOfflineAndTamperingIsCaught() throws {
        let scratch = try TemporaryDirectory("ledger-cli")
        defer { scratch.remove() }
        let db = scratch.path + "/ledger.sqlite"
        #expect(try EdgeNodeBinary.run(["keygen", "--out", scratch.path + "/origin"]).status == 0)
        do {
            let store = try LedgerStore(path: db, verifier: nil)
            let day: Int64 = 86_400_000, november = Int64(1_793_491_200_000) // 2026-11-01T00:00:00Z
            for index in 0..<30 {
                let artist = index % 2 == 0 ? "luna" : "sol"
                let transfer = try Transfer(idempotencyKey: "r\(index)", kind: .royalty, postings: [
                    .init(.debit, Self.account("external/spotify/EUR"), 1_000), .init(.credit, Self.account("artist/\(artist)/EUR"), 1_000)])
                _ = try store.commit([transfer], at: november + Int64(index) * day / 2)
            }
        }
        let checkpoint = try EdgeNodeBinary.run(["ledger", "checkpoint", "--db", db, "--key", scratch.path + "/origin.key",
                                                 "--witness", scratch.path + "/witness"])
        #expect(checkpoint.status == 0 && checkpoint.stdout.hasPrefix("edgenode.ledger\n30\n"), "\(checkpoint.stderr)")
        #expect(try FileWitness(path: scratch.path + "/witness").checkpoints().count == 1)
        #expect(try EdgeNodeBinary.run(["ledger", "checkpoint", "--db", db, "--key", scratch.path + "/origin.key"]).stdout
                .contains("no new entries"))
        let made = try EdgeNodeBinary.run(["ledger", "receipt", "--db", db, "--artist", "luna", "--from", "2026-11-01", "--to", "2026-11-08",
                                           "--out", scratch.path + "/receipt.json"])
        #expect(made.status == 0 && made.stdout.contains("7 entries"), "\(made.stdout) \(made.stderr)")
        let verified = try EdgeNodeBinary.run(["ledger", "verify-receipt", scratch.path + "/receipt.json", "--pubkey", scratch.path + "/origin.pub"])
        #expect(verified.status == 0 && verified.stdout.contains("ok: 7 entries for luna, net 70.00 EUR"), "\(verified.stdout) \(verified.stderr)")
        // Another key, and an edited receipt, are refused.
        #expect(try EdgeNodeBinary.run(["keygen", "--out", scratch.path + "/other"]).status == 0)
        let wrongKey = try EdgeNodeBinary.run(["ledger", "verify-receipt", scratch.path + "/receipt.json", "--pubkey", scratch.path + "/other.pub"])
        #expect(wrongKey.status == 1 && wrongKey.stderr.contains("checkpoint"))
        var receipt = try JSONDecoder().decode(Receipt.self, from: Data(contentsOf: URL(fileURLWithPath: scratch.path + "/receipt.json")))
        receipt.entries.remove(at: 2)
        receipt.entries[2].index += 1
        try JSONEncoder().encode(receipt).write(to: URL(fileURLWithPath: scratch.path + "/edited.json"))
        let edited = try EdgeNodeBinary.run(["ledger", "verify-receipt", scratch.path + "/edited.json", "--pubkey", scratch.path + "/origin.pub"])
        #expect(edited.status == 1 && edited.stderr.contains("the leaf says index"), "\(edited.stderr)")
        let badDate = try EdgeNodeBinary.run(["ledger", "receipt", "--db", db, "--artist", "luna", "--from", "November", "--to", "1"])
        #expect(badDate.status == 2 && badDate.stderr.contains("YYYY-MM-DD"))
    }
}
