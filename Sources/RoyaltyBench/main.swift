import Control
import Foundation
import GRDB
import Ledger
import LedgerStore
import Manifest
import Royalty

/// bench/royalty.sh, in-process parts.
///
///   royalty-bench seed DB ARTISTS MONTH          a ledger with ARTISTS artists: each a content with a split rule (one
///                                                artist), payout settings (US, manual, EUR) and the month's pool
///   royalty-bench run URL TOKEN KEYS NODES VIEWS MONTH
///                                                posts NODES signed delivery reports holding VIEWS views in all
///                                                (a tenth of them served by two nodes), closes the month's views,
///                                                runs the month's payouts; prints each phase's time
///   royalty-bench report URL TOKEN KEY NODE SESSIONS
///                                                posts one signed delivery report of NODE holding SESSIONS sessions
///                                                (bench/report-memory.sh: the origin's peak memory as it ingests it)
@main
struct RoyaltyBench {
    static func main() async throws {
        let arguments = CommandLine.arguments
        switch arguments.dropFirst().first {
        case "seed" where arguments.count == 5:
            try seed(database: arguments[2], artists: Int(arguments[3])!, month: Month(arguments[4])!)
        case "report" where arguments.count == 7:
            try await report(url: arguments[2], token: arguments[3], key: arguments[4], node: arguments[5], sessions: Int(arguments[6])!)
        case "run" where arguments.count == 8:
            try await run(url: arguments[2], token: arguments[3], keys: arguments[4], nodes: Int(arguments[5])!, views: Int(arguments[6])!,
                          month: Month(arguments[7])!)
        default:
            FileHandle.standardError.write(Data("usage: royalty-bench seed DB ARTISTS MONTH | run URL TOKEN KEYS NODES VIEWS MONTH | report URL TOKEN KEY NODE SESSIONS\n".utf8))
            exit(2)
        }
    }

    static func artist(_ index: Int) -> String { "a\(index)" }
    static func content(_ index: Int) -> String { "c\(index)" }

    static func seed(database: String, artists: Int, month: Month) throws {
        let store = try LedgerStore(path: database, verifier: nil)
        try DatabaseQueue(path: database).write { db in
            for index in 0..<artists {
                try db.execute(sql: "INSERT INTO split_rules (content, effective_from, shares, created_at) VALUES (?, 0, ?, 0)",
                               arguments: [content(index), "\(artist(index))=10000"])
                try db.execute(sql: """
                    INSERT INTO payout_settings (artist, method, account_name, destination, bic, minimum, currency, tax_country, updated_at)
                    VALUES (?, 'csv', ?, ?, NULL, 1, 'EUR', 'US', 0)
                    """, arguments: [artist(index), "Artist \(index)", "wallet \(index)"])
            }
        }
        let eur = try Currency("EUR")
        let pool = try Subscriptions.transfer(key: "bench", month: month, amount: Int64(artists) * 1_000, currency: eur, source: "stripe")
        _ = try store.commit([pool], at: Int64(Date().timeIntervalSince1970 * 1000))
        print("seeded \(artists) artists, contents and split rules, payout settings, a pool of \(artists * 1_000) cents")
    }

    static func seconds(_ start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    static func report(url: String, token: String, key: String, node: String, sessions: Int) async throws {
        var client = try ControlClient(url: url, token: token)
        client.timeout = .seconds(1_800)
        let period = Month(containing: Int64(Date().timeIntervalSince1970))!.startSeconds
        var keys: [SessionKey: UInt32] = [:]
        keys.reserveCapacity(sessions)
        for index in 0..<sessions { keys[SessionKey(high: UInt64(index), low: ~UInt64(index))] = 30_000 }
        let report = DeliveryReport(node: node, period: period, periodSeconds: 3_600,
                                    contents: ["c0": .init(bytes: 2_000_000, untrackedViews: 0, sessions: keys)])
        let signer = try NoteSigner(encoded: String(contentsOfFile: key, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
        let text = report.text
        let note = try signer.sign(text: DeliveryReport.signedText(node: node, period: period, reportText: text))
        let body = try JSONSerialization.data(withJSONObject: ["report": text, "signature": note.rendered])
        print("report: \(sessions) sessions, \(body.count / 1_000_000) MB of JSON")
        let start = ContinuousClock.now
        let response = try await client.post("/v1/reports/deliveries", json: body)
        print(String(format: "ingestion: HTTP %d in %.2f s", response.status, seconds(start)))
        guard response.status == 201 else { throw BenchError("report: HTTP \(response.status) \(String(decoding: response.body.prefix(300), as: UTF8.self))") }
    }

    static func run(url: String, token: String, keys: String, nodes: Int, views: Int, month: Month) async throws {
        var client = try ControlClient(url: url, token: token)
        client.timeout = .seconds(1_800)
        let artists = try Int(String(contentsOfFile: keys + "/artists", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))!
        // Views spread over the contents; a tenth of the sessions are served by two nodes, half each.
        let shared = views / 10
        let perNode = (views - shared) / nodes
        var reports: [(node: String, body: Data, sessions: Int)] = []
        let period = month.startSeconds + 3_600
        var bytes = 0
        for node in 0..<nodes {
            let name = "edge-\(node)"
            var contents: [String: DeliveryReport.Content] = [:]
            var sessions = 0
            func add(_ key: SessionKey, _ index: Int, _ media: UInt32) {
                contents[content(index % artists), default: .init(bytes: 0, untrackedViews: 0, sessions: [:])].sessions[key] = media
                contents[content(index % artists)]!.bytes += 2_000_000
                sessions += 1
            }
            for index in 0..<perNode { add(SessionKey(high: UInt64(node + 1), low: UInt64(index)), index, 30_000) }
            for index in stride(from: node, to: shared, by: nodes) { add(SessionKey(high: 0, low: UInt64(index)), index, 15_000) }
            for index in stride(from: (node + 1) % nodes, to: shared, by: nodes) where nodes > 1 { add(SessionKey(high: 0, low: UInt64(index)), index, 15_000) }
            let report = DeliveryReport(node: name, period: period, periodSeconds: 3_600, contents: contents)
            let signer = try NoteSigner(encoded: String(contentsOfFile: "\(keys)/\(name).key", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
            let text = report.text
            let note = try signer.sign(text: DeliveryReport.signedText(node: name, period: period, reportText: text))
            let body = try JSONSerialization.data(withJSONObject: ["report": text, "signature": note.rendered])
            bytes += body.count
            reports.append((name, body, sessions))
        }
        print("reports: \(nodes) nodes, \(reports.reduce(0) { $0 + $1.sessions }) session lines, \(bytes / 1_000_000) MB of JSON")
        var start = ContinuousClock.now
        for report in reports {
            let response = try await client.post("/v1/reports/deliveries", json: report.body)
            guard response.status == 201 else { throw BenchError("report of \(report.node): HTTP \(response.status) \(String(decoding: response.body.prefix(300), as: UTF8.self))") }
        }
        var elapsed = seconds(start)
        let sessionLines = reports.reduce(0) { $0 + $1.sessions }
        print(String(format: "ingestion: %.2f s, %.0f sessions/s, %.1f MB/s, %.2f reports/s", elapsed, Double(sessionLines) / elapsed,
                     Double(bytes) / 1e6 / elapsed, Double(nodes) / elapsed))
        start = ContinuousClock.now
        let close = try await client.post("/v1/views/\(month)/close", json: Data(#"{"currency":"EUR"}"#.utf8))
        elapsed = seconds(start)
        guard close.status == 201 else { throw BenchError("close: HTTP \(close.status) \(String(decoding: close.body.prefix(300), as: UTF8.self))") }
        let closed = try Views.decoder().decode(Views.ViewClose.self, from: close.body)
        let counted = closed.contents.reduce(UInt64(0)) { $0 + $1.views }
        print(String(format: "close: %.2f s, %@ views of %d contents counted (a session served by two nodes once), %d transfers refused",
                     elapsed, "\(counted)", closed.contents.count, closed.refused.count))
        let expected = UInt64(perNode * nodes + (nodes > 1 ? shared : 0))
        guard counted == expected else { throw BenchError("\(counted) views counted, \(expected) expected") }
        start = ContinuousClock.now
        let run = try await client.post("/v1/payout-runs", json: Data(#"{"period":"\#(month)","currency":"EUR"}"#.utf8))
        elapsed = seconds(start)
        guard run.status == 201 else { throw BenchError("payout run: HTTP \(run.status) \(String(decoding: run.body.prefix(300), as: UTF8.self))") }
        let paid = try Views.decoder().decode(Views.PayoutRun.self, from: run.body)
        print(String(format: "payout run: %.2f s for %d payouts (%.0f payouts/s), %d refused", elapsed, paid.payouts, Double(paid.payouts) / elapsed,
                     paid.refused.count))
        start = ContinuousClock.now
        let again = try await client.post("/v1/payout-runs", json: Data(#"{"period":"\#(month)","currency":"EUR"}"#.utf8))
        print(String(format: "payout run again (a no-op answering the first): %.2f s, HTTP %d", seconds(start), again.status))
    }

    struct BenchError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
