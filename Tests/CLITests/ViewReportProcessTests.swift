import Control
import Foundation
import Ledger
import Manifest
import Royalty
import Testing
import TestSupport

/// Views counted by a real edge process and reported to a real origin: the edge killed with SIGKILL in the middle of
/// a viewer's session and restarted loses nothing it saved; a report the origin could not take (origin stopped) waits
/// on disk and is delivered when it is back; the month is closed into royalties for the publishing artist.
@Suite(.serialized) struct ViewReportProcessTests {
    @Test func aViewSurvivesAKillAndAnOriginOutageAndBecomesARoyalty() async throws {
        // On threads of its own: it waits on processes and sockets while other suites keep the cooperative pool busy.
        try await withTaskExecutorPreference(ThreadPerJobExecutor.shared) {
            let origin = try ControlProcessTests.Origin(extra: """
                [royalty]
                view_period = 60
                view_threshold = 6
                view_report_interval = 1
                """)
            defer { origin.scratch.remove() }
            let scratch = origin.scratch.path
            let edgeHost = LoopbackAddress.next()
            try origin.addReportingEdge(host: edgeHost)
            let input = try await MediaFixtures.shared.path(.h264AAC)
            let segment = try EdgeNodeBinary.run(["segment", input, "--out", scratch + "/content/song-1", "--key", scratch + "/origin.key",
                                                  "--artist", "luna", "--hls-time", "2"])
            try #require(segment.status == 0, "\(segment.stderr)")
            let manifest = try ContentManifest.parse(try Data(contentsOf: URL(fileURLWithPath: scratch + "/content/song-1/manifest.json")))
            let segments = manifest.renditions[0].segments.map(\.path)
            try #require(segments.count >= 6)
            var originServer = try await origin.start()
            let edgeArguments = ["serve", "--config", origin.config, "--node", "edge-1", "--threads", "1"]
            var edge = try ServerProcess(EdgeNodeBinary.path, edgeArguments, host: edgeHost, port: 8080)
            let viewer = ControlClient(host: edgeHost, port: 8080, token: nil)
            let spool = scratch + "/cache/.views"
            func files(_ prefix: String) -> [String] {
                ((try? FileManager.default.contentsOfDirectory(atPath: spool)) ?? []).filter { $0.hasPrefix(prefix) }
            }
            // Keys are salted per period, so the viewer's session must stay in one 60 s period: each attempt starts early
            // in a period, and one that a loaded machine stretched over a boundary is done again as another viewer (its
            // halves stay short of a view).
            var attempt = 0
            while true {
                attempt += 1
                let left = 60 - Date().timeIntervalSince1970.truncatingRemainder(dividingBy: 60)
                if left < 45 { try await Task.sleep(for: .milliseconds(Int(left * 1000) + 100)) }
                let began = Int64(Date().timeIntervalSince1970) / 60
                let agent = [("User-Agent", "player attempt \(attempt)")]
                // 4 s of media (two segments; a retry of the first counts no more), then the edge is killed once it saved them.
                for path in [segments[0], segments[0], segments[1]] {
                    #expect(try await viewer.send(method: .GET, path: "/song-1/\(path)", body: nil, headers: agent).status == 200)
                }
                var saved = false
                for _ in 0..<60 where !saved {
                    try await Task.sleep(for: .milliseconds(100))
                    saved = !files("open-").isEmpty
                }
                #expect(saved, "the open period was saved")
                for name in files("open-") {
                    let text = try String(contentsOfFile: spool + "/" + name, encoding: .utf8)
                    #expect(text.contains("content song-1") && !text.contains("127."), "salted keys only, no address: \(text)")
                }
                try await Task.sleep(for: .milliseconds(1_200))
                kill(edge.pid, SIGKILL)
                _ = edge.stop(signal: SIGKILL)
                edge = try ServerProcess(EdgeNodeBinary.path, edgeArguments, host: edgeHost, port: 8080)
                // 4 s more after the restart: 8 s, a view at the 6 s threshold only if nothing was lost.
                for path in [segments[2], segments[3]] {
                    #expect(try await viewer.send(method: .GET, path: "/song-1/\(path)", body: nil, headers: agent).status == 200)
                }
                if Int64(Date().timeIntervalSince1970) / 60 == began { break }
                try #require(attempt < 3, "three attempts crossed a period boundary")
            }
            // The origin goes away before the period ends: the report waits on disk.
            #expect(originServer.stop() == 0)
            var waiting = false
            for _ in 0..<1_200 where !waiting {
                try await Task.sleep(for: .milliseconds(100))
                waiting = !files("report-").isEmpty
            }
            #expect(waiting, "the closed period's report is kept while the origin is down")
            originServer = try await origin.start()
            let admin = ControlClient(host: origin.host, port: 9090, token: try origin.token())
            let current = Month(containing: Int64(Date().timeIntervalSince1970))
            let month = try #require(current)
            var tally: Views.MonthViews?
            // Every period of the viewing has ended and is delivered: one view, whatever attempts it took.
            for _ in 0..<1_200 {
                // The spool first: a report leaves it only after the origin took it, so a tally read after the spool
                // was seen empty includes it (read before, it could miss a delivery made in between).
                let delivered = files("report-").isEmpty && files("open-").isEmpty
                tally = try? Views.decoder().decode(Views.MonthViews.self, from: try await admin.get("/v1/views/\(month)").body)
                if tally != nil, delivered { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect((tally?.reports ?? 0) >= attempt && tally?.contents.map(\.content) == ["song-1"] && tally?.contents.first?.views == 1,
                    "\(String(describing: tally)) edge log: \(edge.log.suffix(2_000))")
            #expect(files("report-").isEmpty, "delivered, then removed")
            #expect(edge.log.contains("delivery report delivered"))
            // The month's pool goes to the only content viewed, and so to its artist.
            let payment = #"{"idempotency_key":"in_1","month":"\#(month)","amount":999,"currency":"EUR","source":"stripe"}"#
            #expect(try await admin.post("/v1/subscriptions/payments", json: Data(payment.utf8)).status == 201)
            let close = try EdgeNodeBinary.run(["royalty", "close", "--period", month.description, "--config", origin.config, "--token-file", origin.tokenFile])
            #expect(close.status == 0 && close.stdout.contains("song-1: 1 views, 9.99"), "\(close.stdout) \(close.stderr)")
            let luna = try Views.decoder().decode(Views.ArtistStatement.self, from: try await admin.get("/v1/artists/luna/statement?period=\(month)").body)
            #expect(luna.lines.map { "\($0.source) \($0.detail ?? "") \($0.amount)" } == ["views song-1 999"])
            #expect(edge.stop() == 0)
            #expect(originServer.stop() == 0)
        }
    }
}
