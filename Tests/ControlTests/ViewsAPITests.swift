import Control
import Foundation
import Ledger
import LedgerStore
import Manifest
import Royalty
import Testing
import TestSupport

/// Delivery reports in and a month's views closed into royalties, over a real ledger: signatures per node, one report
/// per node and period, a session served by two nodes counted once, the close booked once, late reports refused.
@Suite struct ViewsAPITests {
    static let paris = try! NoteSigner.generate(name: "edge-paris")
    static let berlin = try! NoteSigner.generate(name: "edge-berlin")
    static let viewer = SessionKey(high: 1, low: 1)
    static let partial = SessionKey(high: 2, low: 2)
    /// 2026-11-30 14:00 UTC.
    static let period = CalendarDay("2026-11-30")!.startSeconds + 14 * 3_600

    struct Published: RecordingSource {
        func recordings() throws -> [Catalog.Recording] {
            [Catalog.Recording(contentID: "song-1", artistID: "luna", isrc: nil), Catalog.Recording(contentID: "song-2", artistID: "sol", isrc: nil)]
        }
    }

    static func submission(_ signer: NoteSigner, node: String, sessions: [String: [SessionKey: UInt32]], period: Int64 = period,
                           untracked: UInt64 = 0) throws -> Data {
        let report = DeliveryReport(node: node, period: period, periodSeconds: 3_600, contents: sessions.mapValues {
            .init(bytes: 1_000, untrackedViews: untracked, sessions: $0)
        })
        let note = try signer.sign(text: DeliveryReport.signedText(node: node, period: period, reportText: report.text))
        return try JSONSerialization.data(withJSONObject: ["report": report.text, "signature": note.rendered])
    }

    static func harness(_ model: RoyaltySettings.ViewModel = .proRata) async throws -> ControlHarness {
        var settings = RoyaltySettings(recordings: Published())
        settings.reportKeys = ReportKeys(["edge-paris": paris.verifier, "edge-1": berlin.verifier])
        settings.viewModel = model
        return try await ControlHarness(royalty: settings)
    }

    @Test func reportsAreKeptOncePerNodeAndPeriodAndCheckedAgainstTheNodesKey() async throws {
        let harness = try await Self.harness()
        let admin = harness.client(harness.admin)
        let node = harness.client(harness.node)
        let body = try Self.submission(Self.berlin, node: "edge-1", sessions: ["song-1": [Self.viewer: 30_000]])
        let first = try await node.post("/v1/reports/deliveries", json: body)
        #expect(first.status == 201, "\(ControlHarness.errorMessage(first))")
        let receipt = try Views.decoder().decode(Views.DeliveryReceipt.self, from: first.body)
        #expect(receipt.status == "accepted" && receipt.period == "2026-11-30T14:00:00" && receipt.sessions == 1)
        #expect(try await node.post("/v1/reports/deliveries", json: body).status == 200, "the same report again")
        let other = try await node.post("/v1/reports/deliveries", json: try Self.submission(Self.berlin, node: "edge-1", sessions: ["song-1": [Self.viewer: 1]]))
        #expect(other.status == 409 && ControlHarness.errorCode(other) == "report_conflict")
        // A node reports only for itself, signed by its own key.
        let forged = try await node.post("/v1/reports/deliveries", json: try Self.submission(Self.paris, node: "edge-paris", sessions: [:]))
        #expect(forged.status == 400 && ControlHarness.errorMessage(forged).contains("not edge-1"), "\(ControlHarness.errorMessage(forged))")
        let wrongKey = try await node.post("/v1/reports/deliveries",
                                           json: try Self.submission(Self.paris, node: "edge-1", sessions: [:], period: Self.period + 3_600))
        #expect(wrongKey.status == 400 && ControlHarness.errorMessage(wrongKey).contains("signature"), "\(ControlHarness.errorMessage(wrongKey))")
        // An admin may hand in a node's signed report (recovery); a node without a key in nodes.conf cannot report.
        let handed = try await admin.post("/v1/reports/deliveries", json: try Self.submission(Self.paris, node: "edge-paris", sessions: [:]))
        #expect(handed.status == 201, "\(ControlHarness.errorMessage(handed))")
        let unknown = try NoteSigner.generate(name: "edge-x")
        #expect(try await admin.post("/v1/reports/deliveries", json: try Self.submission(unknown, node: "edge-x", sessions: [:])).status == 403)
        let extra = try JSONSerialization.jsonObject(with: body) as! [String: Any]
        let withExtra = try JSONSerialization.data(withJSONObject: extra.merging(["note": "kept verbatim?"]) { $1 })
        for bad in [Data("{}".utf8), Data(#"{"report":"nope","signature":"x"}"#.utf8), withExtra] {
            #expect(try await node.post("/v1/reports/deliveries", json: bad).status == 400)
        }
        #expect(try await harness.client(harness.artist).post("/v1/reports/deliveries", json: body).status == 403)
        // Periods still to come (the hostile run after issue 24): a report of the next hour, or a close or payout run
        // of a month that has not started, is refused rather than taken for good.
        let now = Int64(Date().timeIntervalSince1970)
        let nextHour = now - now % 3_600 + 3_600
        let early = try await node.post("/v1/reports/deliveries", json: try Self.submission(Self.berlin, node: "edge-1", sessions: [:], period: nextHour))
        #expect(early.status == 409 && ControlHarness.errorCode(early) == "period_not_over", "\(early.status) \(ControlHarness.errorMessage(early))")
        let lastHour = try await node.post("/v1/reports/deliveries", json: try Self.submission(Self.berlin, node: "edge-1", sessions: [:],
                                                                                                period: nextHour - 7_200))
        #expect(lastHour.status == 201, "the hour that ended is taken: \(ControlHarness.errorMessage(lastHour))")
        let close = try await admin.post("/v1/views/9999-12/close", json: Data(#"{"currency":"EUR"}"#.utf8))
        #expect(close.status == 409 && ControlHarness.errorCode(close) == "period_not_started")
        let run = try await admin.post("/v1/payout-runs", json: Data(#"{"period":"9999-12","currency":"EUR"}"#.utf8))
        #expect(run.status == 409 && ControlHarness.errorCode(run) == "period_not_started")
        await harness.stop()
    }

    /// Issue 24: two signed reports of 2^64 − 1 and 3 untracked views tallied "views": 2 (a wrapping add).
    @Test func aReportThatWouldWrapTheMonthsSumsIsRefusedNamingTheField() async throws {
        // Issue 24 (3), and the hostile run after it: 2^64 − 1 untracked views from one node once took a month's
        // whole pool and used up the range so that every other node's report was refused. A report's untracked views
        // and bytes are bounded (DeliveryReport.maximumUntrackedViews, .maximumBytes): a larger count is refused at
        // once naming its field, and a month's sums stay far inside 64 bits.
        let harness = try await Self.harness()
        let admin = harness.client(harness.admin)
        let node = harness.client(harness.node)
        for (untracked, status) in [(UInt64.max, 400), (DeliveryReport.maximumUntrackedViews + 1, 400), (DeliveryReport.maximumUntrackedViews, 201)] {
            let body = try Self.submission(Self.paris, node: "edge-paris", sessions: ["song-1": [:]], untracked: untracked)
            let answer = try await admin.post("/v1/reports/deliveries", json: body)
            #expect(answer.status == status, "untracked \(untracked): \(answer.status) \(ControlHarness.errorMessage(answer))")
            if status == 400 { #expect(ControlHarness.errorMessage(answer).contains("untracked"), "\(ControlHarness.errorMessage(answer))") }
        }
        let honest = try Self.submission(Self.berlin, node: "edge-1", sessions: ["song-1": [Self.viewer: 30_000]])
        #expect(try await node.post("/v1/reports/deliveries", json: honest).status == 201, "another node's report still counts")
        let month = try Views.decoder().decode(Views.MonthViews.self, from: try await admin.get("/v1/views/2026-11").body)
        #expect(month.contents.map { "\($0.content) \($0.views)" } == ["song-1 \(DeliveryReport.maximumUntrackedViews + 1)"])
        for bytes in [UInt64.max, DeliveryReport.maximumBytes + 1] {
            let report = DeliveryReport(node: "edge-paris", period: Self.period + 7_200, periodSeconds: 3_600,
                                        contents: ["song-1": .init(bytes: bytes, untrackedViews: 0, sessions: [:])])
            let note = try Self.paris.sign(text: DeliveryReport.signedText(node: "edge-paris", period: report.period, reportText: report.text))
            let refused = try await admin.post("/v1/reports/deliveries",
                                               json: try JSONSerialization.data(withJSONObject: ["report": report.text, "signature": note.rendered]))
            #expect(refused.status == 400 && ControlHarness.errorMessage(refused).contains("bytes"), "\(ControlHarness.errorMessage(refused))")
        }
        // A node's own counts past the bounds are clamped in its report rather than refused whole.
        let clamped = DeliveryReport(node: "edge-1", periodSeconds: 3_600, ViewCounter.Report(period: Self.period, contents: [
            "song-1": .init(bytes: .max, sessions: [:], untrackedViews: .max)]))
        #expect(clamped.contents["song-1"]?.bytes == DeliveryReport.maximumBytes && clamped.contents["song-1"]?.untrackedViews == DeliveryReport.maximumUntrackedViews)
        #expect((try? DeliveryReport(text: clamped.text)) == clamped)
        await harness.stop()
    }

    @Test func aMonthsViewsAreClosedOnceIntoTheSubscriptionPool() async throws {
        let harness = try await Self.harness()
        let admin = harness.client(harness.admin)
        // Paris and edge-1 both served the viewer (one view), each half of another session (one view together), and
        // song-2 and an unknown content one view each.
        let paris = try Self.submission(Self.paris, node: "edge-paris",
                                        sessions: ["song-1": [Self.viewer: 30_000, Self.partial: 15_000], "song-2": [Self.viewer: 30_000]])
        let berlin = try Self.submission(Self.berlin, node: "edge-1",
                                         sessions: ["song-1": [Self.viewer: 30_000, Self.partial: 15_000], "ghost": [Self.viewer: 30_000]])
        #expect(try await admin.post("/v1/reports/deliveries", json: paris).status == 201)
        #expect(try await harness.client(harness.node).post("/v1/reports/deliveries", json: berlin).status == 201)
        let month = try Views.decoder().decode(Views.MonthViews.self, from: try await admin.get("/v1/views/2026-11").body)
        #expect(month.reports == 2 && month.sharedSessions == 2 && month.close == nil)
        #expect(month.contents.map { "\($0.content) \($0.views)" } == ["ghost 1", "song-1 2", "song-2 1"])
        // The month's subscriptions: 1,000 cents, split 2 : 1 : 1 by views.
        let payment = #"{"idempotency_key":"in_1","month":"2026-11","amount":1000,"currency":"EUR","source":"stripe"}"#
        #expect(try await admin.post("/v1/subscriptions/payments", json: Data(payment.utf8)).status == 201)
        let close = try await admin.post("/v1/views/2026-11/close", json: Data(#"{"currency":"EUR"}"#.utf8))
        #expect(close.status == 201, "\(ControlHarness.errorMessage(close))")
        let closed = try Views.decoder().decode(Views.ViewClose.self, from: close.body)
        #expect(closed.model == "pro_rata" && closed.total == 1_000 && closed.refused.isEmpty)
        #expect(closed.contents.map { "\($0.content) \($0.amount ?? -1) \($0.unassigned ?? false)" } == ["ghost 250 true", "song-1 500 false", "song-2 250 false"])
        func balance(_ account: String) throws -> Int64 { try harness.store.balance(try Account(parsing: account)) }
        #expect(try balance("artist/luna/EUR") == 500 && balance("artist/sol/EUR") == 250 && balance("suspense/views/EUR") == 250)
        #expect(try balance("platform/revenue/EUR") == 0)
        // Closing again changes nothing; another currency is refused; a late report is refused.
        let size = harness.store.size
        #expect(try await admin.post("/v1/views/2026-11/close", json: Data(#"{"currency":"EUR"}"#.utf8)).status == 200)
        #expect(harness.store.size == size)
        let otherCurrency = try await admin.post("/v1/views/2026-11/close", json: Data(#"{"currency":"USD"}"#.utf8))
        #expect(otherCurrency.status == 409 && ControlHarness.errorCode(otherCurrency) == "closed_in_other_currency")
        let late = try await admin.post("/v1/reports/deliveries",
                                        json: try Self.submission(Self.paris, node: "edge-paris", sessions: [:], period: Self.period + 3_600))
        #expect(late.status == 409 && ControlHarness.errorCode(late) == "period_closed")
        let after = try Views.decoder().decode(Views.MonthViews.self, from: try await admin.get("/v1/views/2026-11").body)
        #expect(after.close?.total == 1_000)
        #expect(try StatementAPITests.balanced(harness.store))
        await harness.stop()
    }

    @Test func perViewPaysTheRateCardFromPlatformRevenue() async throws {
        let harness = try await Self.harness(.perView(ratesPerThousand: ["EUR": 400]))
        let admin = harness.client(harness.admin)
        let views = Dictionary(uniqueKeysWithValues: (0..<2_500).map { (SessionKey(high: 7, low: UInt64($0)), UInt32(30_000)) })
        #expect(try await admin.post("/v1/reports/deliveries", json: try Self.submission(Self.paris, node: "edge-paris", sessions: ["song-1": views])).status == 201)
        // 2,500 views at 4.00 EUR per 1,000: 10.00 EUR, which the platform's revenue must hold.
        let poor = try await admin.post("/v1/views/2026-11/close", json: Data(#"{"currency":"EUR"}"#.utf8))
        let refused = try Views.decoder().decode(Views.ViewClose.self, from: poor.body)
        #expect(poor.status == 201 && refused.refused["royalty:views:2026-11:EUR:song-1"]?.contains("negative") == true, "\(refused.refused)")
        let tip = #"{"idempotency_key":"pi_1","artist":"sol","amount":20000,"currency":"EUR","source":"stripe"}"#
        #expect(try await admin.post("/v1/tips", json: Data(tip.utf8)).status == 201)
        let retried = try Views.decoder().decode(Views.ViewClose.self, from: try await admin.post("/v1/views/2026-11/close", json: Data(#"{"currency":"EUR"}"#.utf8)).body)
        #expect(retried.refused.isEmpty && retried.total == 1_000)
        #expect(try harness.store.balance(try Account(parsing: "artist/luna/EUR")) == 1_000)
        let noRate = try await admin.post("/v1/views/2026-10/close", json: Data(#"{"currency":"USD"}"#.utf8))
        #expect(noRate.status == 409 && ControlHarness.errorCode(noRate) == "no_rate")
        await harness.stop()
    }
}
