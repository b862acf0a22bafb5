import Foundation
import Testing
import TestSupport
@testable import EdgeNode

#if canImport(Glibc)
import Glibc
#endif

/// The access log's lines, and the log on a running edge: a line per response with the cache status and timings,
/// written off the hot path, reopened by a reload after logrotate moved it away.
@Suite struct AccessLogTests {
    static func record(userAgent: String?) -> ResponseRecord {
        var record = ResponseRecord(started: 1_000_000_000, kind: .segment)
        record.answer = .miss
        record.status = 206
        record.bytes = 65_536
        record.firstByte = 1_002_500_000
        record.request = .init(client: "192.0.2.7", method: "GET", uri: "/clip/360p/seg_00001.ts", version: "HTTP/1.1",
                               referer: nil, userAgent: userAgent, time: 1_764_730_271.5)
        return record
    }

    @Test func combinedLinesEscapeWhatAClientSent() {
        let line = AccessLogFormat.combined.line(Self.record(userAgent: "evil\" 200 1 \"x\n192.0.2.9 - - [forged]"), totalSeconds: 0.0123456)
        #expect(line == #"192.0.2.7 - - [03/Dec/2025:02:51:11 +0000] "GET /clip/360p/seg_00001.ts HTTP/1.1" 206 65536 "-" "evil\" 200 1 \"x\x0A192.0.2.9 - - [forged]" ttfb=0.002500 total=0.012346 cache=MISS answer=miss"#)
        #expect(!line.contains("\n"), "a crafted User-Agent cannot start a line of its own")
    }

    @Test func jsonLinesCarryEveryField() throws {
        let line = AccessLogFormat.json.line(Self.record(userAgent: "mpv 0.35"), totalSeconds: 0.5)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["client"] as? String == "192.0.2.7" && object["method"] as? String == "GET" && object["status"] as? Int == 206)
        #expect(object["path"] as? String == "/clip/360p/seg_00001.ts" && object["bytes"] as? Int == 65_536)
        #expect(object["ttfb"] as? Double == 0.0025 && object["total"] as? Double == 0.5 && object["cache"] as? String == "MISS")
        #expect(object["user_agent"] as? String == "mpv 0.35" && object["referer"] is NSNull)
        #expect(object["time"] as? String == "2025-12-03T02:51:11.500Z")
    }

    /// The JSON lines of the log but the readiness probes' (`/healthz`).
    static func lines(_ path: String) -> [[String: Any]] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }.filter { $0["path"] as? String != "/healthz" }
    }

    @Test func anEdgeLogsEachResponseAndReopensTheFileOnReload() async throws {
        // On threads of its own: it waits on processes and sockets while other suites keep the cooperative pool busy.
        try await withTaskExecutorPreference(ThreadPerJobExecutor.shared) {
            let fleet = try EdgeFleet(try await PublishedContent.shared.fixture())
            let log = fleet.directory.path + "/edge.access.log"
            fleet.addCache("edge-1", parents: ["origin-1"], extra: ["prefetch": "0", "access_log": "\"\(log)\"", "access_log_format": "\"json\""])
            try fleet.startOrigin()
            let edge = try fleet.start("edge-1")
            let segment = try fleet.segments("ts")[0]
            for _ in 0..<2 { #expect(try RawHTTPConnection.get(edge.host, edge.port, "/" + segment, headers: ["User-Agent: test-player"]).status == 200) }
            #expect(try RawHTTPConnection.get(edge.host, edge.port, "/content-ts/360p/nope.ts").status == 404)
            #expect(EdgeFleet.eventually(5) { Self.lines(log).count == 3 }, "\(Self.lines(log))")
            let written = Self.lines(log)
            #expect(written.map { $0["cache"] as? String } == ["MISS", "HIT", nil])
            #expect(written.map { $0["status"] as? Int } == [200, 200, 404])
            #expect(written[0]["user_agent"] as? String == "test-player" && written[0]["path"] as? String == "/" + segment)
            #expect(written.allSatisfy { ($0["ttfb"] as? Double ?? -1) >= 0 && ($0["total"] as? Double ?? -1) >= ($0["ttfb"] as? Double ?? 0) })
            var status = stat()
            #expect(stat(log, &status) == 0 && status.st_mode & 0o777 == 0o640)

            // logrotate: the file is moved away, then the node is told to reload.
            try FileManager.default.moveItem(atPath: log, toPath: log + ".1")
            kill(edge.pid, SIGHUP)
            #expect(EdgeFleet.eventually(5) { (try? EdgeFleet.metric(edge, #"edgenode_config_reloads_total{outcome="success"}"#)) == 1 })
            #expect(EdgeFleet.eventually(5) {
                _ = try? RawHTTPConnection.get(edge.host, edge.port, "/" + segment)
                return !Self.lines(log).isEmpty
            }, "new lines go to a new file at the old path")
            #expect(Self.lines(log + ".1").count == 3, "the rotated file keeps what it had")
        }
    }
}
