import Control
import Foundation
import GRDB
import Ledger
@testable import LedgerStore
import Testing
import TestSupport

/// `edgenode royalty payout-run` against a real origin, killed with SIGKILL in the middle of a run of 60,000 artists:
/// after each restart the run resumes, and in the end every eligible artist was paid exactly once.
@Suite(.serialized) struct PayoutRunProcessTests {
    static let artists = 60_000

    /// `artists` artists with a royalty each and payout settings (every 10th has none; every 7th is paid manually).
    static func seed(_ database: String) throws -> (eligible: Int, net: Int64) {
        let store = try LedgerStore(path: database, verifier: nil)
        let eur = try Currency("EUR")
        var transfers: [Transfer] = []
        for index in 0..<artists {
            transfers.append(try Transfer(idempotencyKey: "seed-\(index)", kind: .royalty, postings: [
                .init(.debit, try Account(.external("dsp"), eur), 1_000 + Int64(index)),
                .init(.credit, try Account(.artist("a\(index)"), eur), 1_000 + Int64(index)),
            ]))
        }
        _ = try store.commit(transfers, at: 0)
        var eligible = 0
        var net: Int64 = 0
        try store.pool.write { db in
            for index in 0..<artists where index % 10 != 0 {
                let manual = index % 7 == 0
                try db.execute(sql: """
                    INSERT INTO payout_settings (artist, method, account_name, destination, bic, minimum, currency, tax_country, updated_at)
                    VALUES (?, ?, ?, ?, NULL, 1000, 'EUR', 'US', 0)
                    """, arguments: ["a\(index)", manual ? "csv" : "sepa", "Artist \(index)", manual ? "wallet \(index)" : "DE89370400440532013000"])
                eligible += 1
                let gross = 1_000 + Int64(index)
                let withheld = (gross * 30 + 50) / 100
                net += gross - withheld
            }
        }
        return (eligible, net)
    }

    static func count(_ database: String, prefix: String) throws -> Int {
        let queue = try DatabaseQueue(path: database)
        return try queue.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM entries WHERE idempotency_key >= ? AND idempotency_key < ?",
                             arguments: [prefix, prefix + "\u{FFFF}"]) ?? 0
        }
    }

    /// Sends SIGKILL to `pid` once `reached` holds (checked every 2 ms for at most 30 s) and `delay` seconds more have
    /// passed, from a thread of its own.
    static func kill(_ pid: Int32, after delay: Double, when reached: @escaping @Sendable () -> Bool) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread {
                let deadline = Date().addingTimeInterval(30)
                while Date() < deadline && !reached() { usleep(2_000) }
                if delay > 0 { usleep(UInt32(delay * 1_000_000)) }
                Glibc.kill(pid, SIGKILL)
                continuation.resume()
            }
        }
    }

    /// Whether the run's plan is stored.
    static func planned(_ database: String) throws -> Bool {
        try DatabaseQueue(path: database).read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM documents WHERE kind = 'payout-run' AND id = '2026-11-EUR'") ?? 0
        } > 0
    }

    @Test func killNineMidRunThenRerunPaysEveryArtistOnce() async throws {
        // On threads of its own: it waits on processes and sockets while other suites keep the cooperative pool busy.
        try await withTaskExecutorPreference(ThreadPerJobExecutor.shared) {
            let origin = try ControlProcessTests.Origin(extra: ControlProcessTests.Origin.payoutSettings)
            defer { origin.scratch.remove() }
            let database = origin.scratch.path + "/ledger/ledger.sqlite"
            try FileManager.default.createDirectory(atPath: origin.scratch.path + "/ledger", withIntermediateDirectories: true)
            let (eligible, net) = try Self.seed(database)
            let out = origin.scratch.path + "/payouts"
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let command = ["royalty", "payout-run", "--config", origin.config, "--token-file", origin.tokenFile, "--period", "2026-11", "--out", out]
            // Killed once the plan is stored (before or as the first payouts commit), once payouts are committing, and
            // once a while later.
            var paidWhenKilled: [Int] = []
            for moment in ["planned", "paying", "later"] {
                let server = try await origin.start(lowPriority: true)
                let cli = try ProcessRunner.start(EdgeNodeBinary.path, command)
                let paidBefore = try Self.count(database, prefix: "payout:2026-11:EUR:")
                // Watched from a thread of its own: the test process's cooperative threads are shared with other suites.
                await Self.kill(server.pid, after: moment == "later" ? 0.4 : 0) {
                    switch moment {
                    case "planned": (try? Self.planned(database)) ?? false
                    case "paying": ((try? Self.count(database, prefix: "payout:2026-11:EUR:")) ?? 0) > paidBefore
                    default: true
                    }
                }
                _ = server.stop(signal: SIGKILL)
                let result = cli.wait(timeout: 60)
                let paid = try Self.count(database, prefix: "payout:2026-11:EUR:")
                paidWhenKilled.append(paid)
                #expect(paid == eligible || result.status != 0, "a run cut short does not report success")
            }
            let server = try await origin.start()
            let final = try EdgeNodeBinary.run(command)
            #expect(final.status == 0, "\(final.stdout) \(final.stderr)")
            #expect(final.stdout.contains("run 2026-11-EUR: \(eligible) payouts"), "\(final.stdout)")
            let again = try EdgeNodeBinary.run(command)
            #expect(again.status == 0 && again.stdout.contains("\(eligible) payouts"), "a second run answers the first")
            #expect(server.stop() == 0)
            #expect(try Self.count(database, prefix: "payout:2026-11:EUR:") == eligible, "every eligible artist paid exactly once")
            let store = try LedgerStore(path: database, verifier: nil)
            #expect(try store.verifyIntegrity().isIntact)
            #expect(try store.balance(try Account(parsing: "payouts/in-flight/EUR")) == net)
            #expect(try store.artistBalances(currency: try Currency("EUR")).count == Self.artists - eligible, "only artists without settings keep money")
            let sepa = try String(contentsOfFile: out + "/payouts-2026-11-EUR.xml", encoding: .utf8)
            let verdict = try PainSchema.validate(sepa)
            #expect(verdict.status == 0, "\(verdict.output.prefix(500))")
            let csv = try String(contentsOfFile: out + "/payouts-2026-11-EUR.csv", encoding: .utf8)
            let manual = (0..<Self.artists).filter { $0 % 10 != 0 && $0 % 7 == 0 }.count
            #expect(csv.split(separator: "\r\n").count == manual + 1)
            #expect(sepa.components(separatedBy: "<CdtTrfTxInf>").count - 1 == eligible - manual)
            print("payout run kill -9: \(eligible) eligible; payouts committed when killed: \(paidWhenKilled)")
            #expect(paidWhenKilled.contains { $0 > 0 && $0 < eligible }, "a kill landed in the middle of the run: \(paidWhenKilled)")
        }
    }
}
