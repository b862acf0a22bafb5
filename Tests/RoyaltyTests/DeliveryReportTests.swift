import Manifest
import Testing
@testable import Royalty

/// Delivery reports: the canonical text both ways, every malformed line refused, signatures bound to the node, period
/// and text; the tally that counts a session served by several nodes once; a counter's snapshot taken back.
@Suite struct DeliveryReportTests {
    static let key = SessionKey(high: 0x0011_2233_4455_6677, low: 0x8899_aabb_ccdd_eeff)

    static func report(node: String = "edge-paris", period: Int64 = 1_796_256_000, sessions: [SessionKey: UInt32]) -> DeliveryReport {
        DeliveryReport(node: node, period: period, periodSeconds: 3_600,
                       contents: ["song-1": .init(bytes: 1_000, untrackedViews: 2, sessions: sessions)])
    }

    @Test func theTextIsCanonicalAndParsedBack() throws {
        let report = Self.report(sessions: [Self.key: 30_000, SessionKey(high: 1, low: 2): 4_000])
        #expect(report.text == """
            edgenode.deliveries v1
            node edge-paris
            period 1796256000 3600
            content song-1 bytes 1000 untracked 2
            s 00000000000000010000000000000002 4000
            s 00112233445566778899aabbccddeeff 30000

            """)
        #expect(try DeliveryReport(text: report.text) == report)
        #expect(try DeliveryReport.Summary(text: report.text) == DeliveryReport.Summary(report) && DeliveryReport.Summary(report).sessions == 2)
        #expect(report.periodLabel == "2026-12-03T00:00:00")
        let refused: [(String, String)] = [
            ("edgenode.deliveries v2\nnode a\nperiod 0 3600\n", "not an edgenode.deliveries v1 report"),
            ("edgenode.deliveries v1\nnode A!\nperiod 0 3600\n", "line 2"),
            ("edgenode.deliveries v1\nnode a\nperiod 5 3600\n", "line 3"),
            ("edgenode.deliveries v1\nnode a\nperiod 0 7\n", "line 3"),
            // A start near the 64-bit bound trapped the node's close (start + length + grace).
            ("edgenode.deliveries v1\nnode a\nperiod \(Int64.max - Int64.max % 3_600) 3600\n", "line 3"),
            ("edgenode.deliveries v1\nnode a\nperiod \(DeliveryReport.latestPeriod + 86_400) 3600\n", "line 3"),
            ("edgenode.deliveries v1\nnode a\nperiod 0 3600\ns 00112233445566778899aabbccddeeff 1\n", "before any content"),
            ("edgenode.deliveries v1\nnode a\nperiod 0 3600\ncontent c bytes 1 untracked 0\ncontent c bytes 1 untracked 0\n", "appears twice"),
            ("edgenode.deliveries v1\nnode a\nperiod 0 3600\ncontent c bytes 1 untracked 0\ns 00112233445566778899AABBCCDDEEFF 1\n", "line 5"),
            ("edgenode.deliveries v1\nnode a\nperiod 0 3600\ncontent c bytes -1 untracked 0\n", "line 4"),
            ("edgenode.deliveries v1\nnode a\nperiod 0 3600\ncontent c bytes 1 untracked 0\ns 00112233445566778899aabbccddeeff 99999999999\n", "line 5"),
            ("edgenode.deliveries v1\nnode a\nperiod 0 3600", "end with a newline"),
            // Sessions in the canonical order: a repeat is never above the previous key, adjacent or not.
            ("edgenode.deliveries v1\nnode a\nperiod 0 3600\ncontent c bytes 1 untracked 0\ns 00000000000000000000000000000002 1\n"
             + "s 00000000000000000000000000000002 1\n", "appears twice"),
            ("edgenode.deliveries v1\nnode a\nperiod 0 3600\ncontent c bytes 1 untracked 0\ns 00000000000000000000000000000002 1\n"
             + "s 00000000000000000000000000000003 1\ns 00000000000000000000000000000002 1\n", "increasing key order"),
            ("", "end with a newline"),
            ("\n", "not an edgenode.deliveries v1 report"),
        ]
        for (text, reason) in refused {
            #expect { try DeliveryReport(text: text) } throws: { "\($0)".contains(reason) }
            #expect { try DeliveryReport.Summary(text: text) } throws: { "\($0)".contains(reason) }
        }
    }

    @Test func aSignatureCoversOneNodesReport() throws {
        let signer = try NoteSigner.generate(name: "edge-paris")
        let other = try NoteSigner.generate(name: "edge-berlin")
        let text = Self.report(sessions: [Self.key: 30_000]).text
        let note = try signer.sign(text: DeliveryReport.signedText(node: "edge-paris", period: 1_796_256_000, reportText: text)).rendered
        #expect(try DeliveryReport.verify(text: text, note: note, node: "edge-paris", verifier: signer.verifier).node == "edge-paris")
        #expect(throws: DeliveryReport.Invalid.self) { try DeliveryReport.verify(text: text, note: note, node: "edge-paris", verifier: other.verifier) }
        #expect(throws: DeliveryReport.Invalid.self) { try DeliveryReport.verify(text: text, note: note, node: "edge-berlin", verifier: signer.verifier) }
        let changed = text.replacingOccurrences(of: "30000", with: "29999")
        #expect { try DeliveryReport.verify(text: changed, note: note, node: "edge-paris", verifier: signer.verifier) } throws: {
            "\($0)".contains("covers another report")
        }
    }

    @Test func aSessionServedByTwoNodesIsOneView() throws {
        let half = SessionKey(high: 9, low: 9)
        let paris = Self.report(sessions: [Self.key: 30_000, half: 20_000])
        let berlin = Self.report(node: "edge-berlin", sessions: [Self.key: 30_000, half: 10_000])
        // The same key an hour later is another session (salts differ per hour in practice; here the period does).
        let later = Self.report(node: "edge-berlin", period: 1_796_259_600, sessions: [half: 5_000])
        let tally = try ViewTally(reports: [paris, berlin, later], thresholdMilliseconds: 30_000)
        // Self.key: one view (not two); half: 20 s + 10 s = a view only together; 2 + 2 untracked from the first hour, 2 from the next.
        #expect(tally.views["song-1"] == 1 + 1 + 6)
        #expect(tally.sharedSessions == 2 && tally.reports == 3 && tally.bytes["song-1"] == 3_000)
    }

    /// Issue 24: 2^64 − 1 and 3 untracked views tallied 2; sums past the range are refused naming the field.
    @Test func sumsPastTheRangeAreRefusedNotWrapped() throws {
        func report(_ node: String, untracked: UInt64, bytes: UInt64 = 1, sessions: [SessionKey: UInt32] = [:]) -> DeliveryReport {
            DeliveryReport(node: node, period: 1_796_256_000, periodSeconds: 3_600,
                           contents: ["song-1": .init(bytes: bytes, untrackedViews: untracked, sessions: sessions)])
        }
        let untracked = ViewTally.Overflow(content: "song-1", field: "untracked")
        #expect(throws: untracked) { try ViewTally(reports: [report("a", untracked: .max), report("b", untracked: 3)], thresholdMilliseconds: 30_000) }
        #expect(throws: untracked) {
            try ViewTally(reports: [report("a", untracked: .max), report("b", untracked: 0, sessions: [Self.key: 30_000])], thresholdMilliseconds: 30_000)
        }
        #expect(throws: ViewTally.Overflow(content: "song-1", field: "bytes")) {
            try ViewTally(reports: [report("a", untracked: 0, bytes: .max), report("b", untracked: 0, bytes: 1)], thresholdMilliseconds: 30_000)
        }
        #expect(try ViewTally(reports: [report("a", untracked: .max - 3), report("b", untracked: 3)], thresholdMilliseconds: 30_000).views["song-1"] == .max)
        // The bounds refuse the report that would take the month there, and add nothing of it.
        var bounds = try ViewTally.Bounds(reports: [.init(report("a", untracked: .max - 1))])
        #expect(throws: untracked) { try bounds.add(.init(report("b", untracked: 1, sessions: [Self.key: 1]))) }
        #expect(bounds.views["song-1"] == .max - 1 && bounds.bytes["song-1"] == 1)
        try bounds.add(.init(report("c", untracked: 1)))
        #expect(bounds.views["song-1"] == .max)
        // A session's media saturates instead of wrapping (2^32 − 1 ms and more is a view).
        let long = try ViewTally(reports: [report("a", untracked: 0, sessions: [Self.key: .max]), report("b", untracked: 0, sessions: [Self.key: 5])],
                                 thresholdMilliseconds: 30_000)
        #expect(long.views["song-1"] == 1 && long.sharedSessions == 1)
    }

    @Test func aSnapshotTakenBackLosesNothingAndCountsNothingTwice() {
        var counter = ViewCounter()
        let start: Int64 = 1_796_256_000
        for segment in 0..<5 {
            counter.delivered(session: Self.key, content: "song-1", segment: UInt64(segment), mediaMilliseconds: 4_000, bytes: 10, now: start + Int64(segment))
        }
        let saved = counter.snapshot()
        #expect(saved.first?.contents["song-1"]?.sessions[Self.key] == 20_000 && counter.liveSessions == 1, "the snapshot leaves the live session")
        var restarted = ViewCounter()
        for report in saved { restarted.restore(report) }
        for segment in 5..<8 {
            restarted.delivered(session: Self.key, content: "song-1", segment: UInt64(segment), mediaMilliseconds: 4_000, bytes: 10, now: start + 100)
        }
        let closed = restarted.closePeriods(now: start + 3_600 + 60)
        #expect(closed.first?.contents["song-1"]?.sessions[Self.key] == 30_000, "20 s before the restart + 12 s after, capped")
        #expect(closed.first?.contents["song-1"]?.views(threshold: 30_000) == 1 && closed.first?.contents["song-1"]?.bytes == 80)
    }
}
