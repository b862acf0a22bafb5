import Control
import Foundation
import Ledger
import LedgerStore
import Manifest
import Royalty
import Synchronization
import Testing
import TestSupport

/// Issue 24: no long job stalls the control API. Two large months close at once (each reads, tallies and prices a
/// million sessions) while an admin reads and a node posts reports — one into a month being closed: every one of
/// those answers within 100 ms, and the close that saw a report arrive mid-way still counts it. A timing test: beside
/// every other suite of the test process (which share its two cooperative threads) it measures them, not the API, so
/// `make test` runs it alone, with `EDGENODE_TIMING=1`.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["EDGENODE_TIMING"] == "1",
                             "a timing test: make test runs it alone (EDGENODE_TIMING=1 swift test --filter ControlResponsivenessTests)"))
struct ControlResponsivenessTests {
    static let node = ViewsAPITests.berlin
    static let months = ["2026-09", "2026-10"]

    /// A stored report of `sessions` sessions (written straight to the store, as an accepted one is kept).
    static func seed(_ store: LedgerStore, month: String, hour: Int, sessions: Int) throws {
        let period = CalendarDay("\(month)-15")!.startSeconds + Int64(hour) * 3_600
        var keys: [SessionKey: UInt32] = [:]
        for index in 0..<sessions { keys[SessionKey(high: UInt64(hour + 1), low: UInt64(index))] = 30_000 }
        let report = DeliveryReport(node: "edge-\(hour)", period: period, periodSeconds: 3_600,
                                    contents: ["song-1": .init(bytes: 1_000, untrackedViews: 0, sessions: keys)])
        let body = try JSONSerialization.data(withJSONObject: ["report": report.text, "signature": "seeded"], options: [.sortedKeys])
        _ = try store.putDocument(kind: "deliveries", id: "\(report.periodLabel)/edge-\(hour)", body: body, at: 0)
    }

    @Test func requestsAnswerWithin100msWhileLargeMonthsClose() async throws {
        let harness = try await ViewsAPITests.harness()
        let admin = harness.client(harness.admin)
        let node = harness.client(harness.node)
        for month in Self.months {
            for hour in 0..<20 { try Self.seed(harness.store, month: month, hour: hour, sessions: 25_000) }
        }
        // A running origin holds the sums of the months it takes reports for (read once, at the first report since
        // start): take one October report before the clock starts.
        let warm = try ViewsAPITests.submission(Self.node, node: "edge-1", sessions: ["song-1": [SessionKey(high: 98, low: 0): 30_000]],
                                                period: CalendarDay("2026-10-21")!.startSeconds)
        #expect(try await node.post("/v1/reports/deliveries", json: warm).status == 201)
        let started = Date()
        let done = Done()
        let closes = Self.months.map { month in
            Task {
                defer { done.count.withLock { $0 += 1 } }
                return try await admin.post("/v1/views/\(month)/close", json: Data(#"{"currency":"EUR"}"#.utf8))
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        var latencies: [Double] = []
        var reportAnswers: [Int] = []
        var request = 0
        while done.count.withLock({ $0 }) < closes.count && Date().timeIntervalSince(started) < 120 && request < 8_000 {
            let begun = Date()
            if request % 5 == 4 {
                // A node's report: the first into the month being closed, the others into hours of 2025, each its own.
                let period = request == 4 ? CalendarDay("2026-10-20")!.startSeconds : CalendarDay("2025-01-01")!.startSeconds + Int64(request) * 3_600
                let body = try ViewsAPITests.submission(Self.node, node: "edge-1", sessions: ["song-1": [SessionKey(high: 99, low: UInt64(request)): 30_000]],
                                                        period: period)
                reportAnswers.append(try await node.post("/v1/reports/deliveries", json: body).status)
            } else {
                let read = try await admin.get("/v1/views/2026-11")
                #expect(read.status == 200, "\(read.status) \(ControlHarness.errorMessage(read))")
            }
            latencies.append(Date().timeIntervalSince(begun))
            request += 1
        }
        let closeSeconds = Date().timeIntervalSince(started)
        var answers: [[String: Any]] = []
        for close in closes {
            let response = try await close.value
            #expect(response.status == 201, "\(ControlHarness.errorMessage(response))")
            answers.append(ControlHarness.json(response))
        }
        try #require(latencies.count >= 5, "the closes lasted long enough to be tested against (\(closeSeconds) s, \(latencies.count) requests)")
        let sorted = latencies.sorted()
        #expect(sorted[sorted.count * 9 / 10] < 0.1, "p90 \(sorted[sorted.count * 9 / 10]) s over \(latencies.count) requests during \(closeSeconds) s of closes")
        #expect(sorted.last! < 1, "the slowest answer \(sorted.last!) s")
        #expect(reportAnswers.allSatisfy { $0 == 201 }, "\(Set(reportAnswers))")
        let october = answers[1]["contents"] as? [[String: Any]]
        #expect((october?.first?["views"] as? Int) == 20 * 25_000 + 2, "the reports accepted before and during October's close are in it: \(october ?? [])")
        await harness.stop()
    }

    final class Done: Sendable {
        let count = Mutex(0)
    }
}
