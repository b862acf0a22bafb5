import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// An origin and caching nodes as real processes on loopback, with a relay standing in for corrupt or slow parents.
@Suite(.serialized) struct EdgeFillTests {
    static func get(_ server: ServerProcess, _ path: String, headers: [String] = []) throws -> RawResponse {
        try RawHTTPConnection.get(server.host, server.port, "/" + path, headers: headers)
    }

    /// An origin, a relay (`relay-1`, a `ParentProxy`) in front of it, and `edge-1` (no prefetch) with `parents`.
    static func relayed(parents: [String], fault: ParentProxy.Fault? = nil) async throws -> (EdgeFleet, ParentProxy, ServerProcess) {
        let fleet = try EdgeFleet(try await PublishedContent.shared.fixture())
        let relayHost = fleet.addCache("relay-1", parents: ["origin-1"])
        fleet.addCache("edge-1", parents: parents, extra: ["prefetch": "0"])
        try fleet.startOrigin()
        let relay = try ParentProxy(listen: relayHost, port: EdgeFleet.port, upstreamHost: fleet.originHost, upstreamPort: EdgeFleet.port)
        relay.fault = fault
        return (fleet, relay, try fleet.start("edge-1"))
    }

    @Test func anEdgeServesTheOriginsBytesThenHits() async throws {
        let fleet = try EdgeFleet(try await PublishedContent.shared.fixture())
        fleet.addCache("edge-1", parents: ["origin-1"], extra: ["prefetch": "0"])
        try fleet.startOrigin()
        let edge = try fleet.start("edge-1")
        let origin = fleet.origin!
        let segment = try fleet.segments("ts")[1]
        for path in ["content-ts/manifest.json", "content-ts/master.m3u8", "content-ts/360p/index.m3u8", segment,
                     "content-fmp4/360p/init.mp4", try fleet.segments("fmp4")[0]] {
            let expected = try fleet.originBytes(path)
            let first = try Self.get(edge, path)
            #expect(first.status == 200 && first.body == expected, "\(path): first response")
            #expect(first.header("X-Cache") == "MISS" && first.header("Age") == "0", "\(path): \(first.header("X-Cache") ?? "no X-Cache")")
            let fromOrigin = try Self.get(origin, path)
            for field in ["ETag", "Last-Modified", "Content-Type", "Cache-Control", "Content-Length"] {
                #expect(first.header(field) == fromOrigin.header(field), "\(path): \(field) differs from the origin's")
            }
            var second = try Self.get(edge, path)
            // The object is committed just after the response: until then the next request is served from the
            // verified partial object, also a HIT.
            _ = try EdgeFleet.eventually { second = try Self.get(edge, path); return second.header("Age") != "0" || fleet.cachedObjects("edge-1")[path] != nil || path.hasSuffix("manifest.json") }
            #expect(second.status == 200 && second.body == expected && second.header("X-Cache") == "HIT", "\(path): second response")
            #expect(second.header("ETag") == fromOrigin.header("ETag"))
        }
        #expect(try EdgeFleet.metric(edge, "edgenode_cache_responses_total{x_cache=\"HIT\"}") >= 6)
        let objectBytes = try ["content-ts/master.m3u8", "content-ts/360p/index.m3u8", segment, "content-fmp4/360p/init.mp4",
                               try fleet.segments("fmp4")[0]].map { try fleet.originBytes($0).count }.reduce(0, +)
        #expect(try EdgeFleet.metric(edge, "edgenode_cache_fill_bytes_total{parent=\"origin-1\"}") == objectBytes,
                "every filled byte counted once")
        #expect(try EdgeFleet.metric(edge, "edgenode_cache_responses_total{x_cache=\"MISS\"}") == 6)
        #expect(try EdgeFleet.metric(edge, "edgenode_upstream_requests_total{parent=\"origin-1\",kind=\"manifest\"}") == 2,
                "one manifest per content")
        // Unknown files and contents are 404, an unlisted file is never fetched.
        #expect(try Self.get(edge, "content-ts/360p/nope.ts").status == 404)
        #expect(try Self.get(edge, "no-such-content/360p/seg_00000.ts").status == 404)
        #expect(try Self.get(edge, "no-such-content/master.m3u8").status == 404)
        #expect(try EdgeFleet.metric(edge, "edgenode_upstream_requests_total{parent=\"origin-1\",kind=\"manifest\"}") == 3,
                "an unknown content is asked for once, then remembered as absent")
        #expect(try Self.get(edge, "big.bin").status == 404, "not part of any signed content")
    }

    @Test func aColdRangeFetchesItsBlocksAndTheObjectIsCompletedLater() async throws {
        let fleet = try EdgeFleet(try await PublishedContent.shared.fixture())
        fleet.addCache("edge-1", parents: ["origin-1"], extra: ["prefetch": "0"])
        try fleet.startOrigin()
        let edge = try fleet.start("edge-1")
        let path = try fleet.segments("ts")[0]
        let expected = try fleet.originBytes(path)
        let start = expected.count - 100_000
        let ranged = try Self.get(edge, path, headers: ["Range: bytes=\(start)-\(start + 69_999)"])
        #expect(ranged.status == 206 && ranged.header("X-Cache") == "MISS")
        #expect(ranged.header("Content-Range") == "bytes \(start)-\(start + 69_999)/\(expected.count)")
        #expect(ranged.body == Array(expected[start..<(start + 70_000)]))
        #expect(EdgeFleet.eventually { fleet.cachedObjects("edge-1")[path] == expected.count },
                "the background fill completes the object")
        let whole = try Self.get(edge, path)
        #expect(whole.header("X-Cache") == "HIT" && whole.body == expected)
        // A conditional request on a cold object is answered from the manifest.
        let other = try fleet.segments("ts")[1]
        let etag = try Self.get(fleet.origin!, other).header("ETag")!
        #expect(try Self.get(edge, other, headers: ["If-None-Match: \(etag)"]).status == 304)
        #expect(fleet.cachedObjects("edge-1")[other] == nil)
    }

    /// A relay that corrupts what the origin sends is caught chunk by chunk; the viewer still gets the right bytes
    /// through the next parent, and the failure is counted against the relay.
    @Test(arguments: [
        (ParentProxy.Fault.Kind.flipByte(bodyOffset: 70_000), "mismatch"),
        (ParentProxy.Fault.Kind.truncate(afterBodyBytes: 100_000), "truncated"),
    ])
    func aTamperingParentIsDetectedAndTheNextParentDelivers(fault: ParentProxy.Fault.Kind, reason: String) async throws {
        let (fleet, relay, edge) = try await Self.relayed(parents: ["relay-1", "origin-1"], fault: .init(kind: fault, pathContains: "seg_"))
        let path = try fleet.segments("ts")[1]
        let response = try Self.get(edge, path)
        try #expect(response.status == 200 && response.body == (try fleet.originBytes(path)), "correct bytes via the origin")
        #expect(relay.requests(containing: path) == 1 && relay.forwardedBodyBytes > 0, "the relay was tried first")
        #expect(try EdgeFleet.metric(edge, "edgenode_parent_failures_total{parent=\"relay-1\",reason=\"\(reason)\"}") == 1)
        #expect(edge.log.contains("parent failed; marked bad"))
        // Marked bad: the next fill goes to the origin first.
        _ = try Self.get(edge, try fleet.segments("ts")[2])
        #expect(relay.requests(containing: "seg_") == 1)
    }

    /// With no honest parent, a viewer gets a cut-off response: a prefix of the right bytes, never a wrong byte.
    @Test func withOnlyALyingParentTheResponseIsCutOffNeverWrong() async throws {
        let (fleet, relay, edge) = try await Self.relayed(parents: ["relay-1"],
                                                          fault: .init(kind: .flipByte(bodyOffset: 3 * 65_536 + 5), pathContains: "seg_"))
        let path = try fleet.segments("ts")[0]
        let expected = try fleet.originBytes(path)
        let connection = try RawHTTPConnection(host: edge.host, port: edge.port)
        try connection.send("GET /\(path) HTTP/1.1\r\nHost: x\r\n\r\n")
        let (response, complete) = try #require(try connection.readPossiblyTruncatedResponse())
        #expect(response.status == 200 && !complete, "announced the whole length, then cut off")
        #expect(response.body.count == 3 * 65_536, "exactly the verified chunks")
        #expect(response.body == Array(expected[..<response.body.count]), "only correct bytes")
        // Corrupt from the first chunk: a clean 502 with nothing cached.
        relay.fault = .init(kind: .flipByte(bodyOffset: 10), pathContains: "seg_")
        let failed = try Self.get(edge, try fleet.segments("ts")[1])
        #expect(failed.status == 502)
        #expect(fleet.cachedObjects("edge-1").isEmpty)
    }

    /// A relay whose manifest fails the signature is passed over for the next parent.
    @Test func aManifestThatFailsTheSignatureIsRejected() async throws {
        let (fleet, relay, edge) = try await Self.relayed(parents: ["relay-1", "origin-1"],
                                                          fault: .init(kind: .flipByte(bodyOffset: 40), pathContains: "manifest.json"))
        let path = try fleet.segments("ts")[0]
        #expect(try Self.get(edge, path).body == (try fleet.originBytes(path)))
        #expect(try EdgeFleet.metric(edge, "edgenode_parent_failures_total{parent=\"relay-1\",reason=\"signature\"}") == 1)
        #expect(relay.requests(containing: "manifest.json") == 1)
    }

    @Test func twoHundredConcurrentViewersCauseOneUpstreamRequest() async throws {
        let (fleet, relay, edge) = try await Self.relayed(parents: ["relay-1"])
        // The manifest first, so that the storm is about the segment alone; the segment's upstream answer is held
        // back long enough for every viewer to be waiting.
        _ = try Self.get(edge, "content-ts/360p/index.m3u8")
        relay.fault = .init(kind: .delay(milliseconds: 400), pathContains: "seg_")
        let path = try fleet.segments("ts")[1]
        let expected = try fleet.originBytes(path)
        let viewers = try (0..<200).map { _ in try RawHTTPConnection(host: edge.host, port: edge.port, timeout: 20) }
        for viewer in viewers { try viewer.send("GET /\(path) HTTP/1.1\r\nHost: x\r\n\r\n") }
        var outcomes: [String: Int] = [:]
        for viewer in viewers {
            let response = try #require(try viewer.readResponse())
            #expect(response.status == 200 && response.body == expected)
            outcomes[response.header("X-Cache") ?? "none", default: 0] += 1
        }
        #expect(relay.requests(containing: path) == 1, "one upstream request for 200 viewers")
        #expect(outcomes == ["MISS": 1, "COALESCED": 199])
        #expect(try EdgeFleet.metric(edge, "edgenode_cache_responses_total{x_cache=\"COALESCED\"}") == 199)
    }

    @Test func aRestartKeepsTheCacheAndACrashMidFillLeavesNoCompleteLookingObject() async throws {
        var (fleet, relay, edge) = try await Self.relayed(parents: ["relay-1"])
        let kept = try fleet.segments("ts")[0]
        #expect(try Self.get(edge, kept).header("X-Cache") == "MISS")
        #expect(EdgeFleet.eventually { fleet.cachedObjects("edge-1")[kept] != nil })
        #expect(edge.stop() == 0)
        edge = try fleet.start("edge-1")
        let again = try Self.get(edge, kept)
        try #expect(again.header("X-Cache") == "HIT" && again.body == (try fleet.originBytes(kept)))
        #expect(relay.requests(containing: kept) == 1, "served from the cache after the restart")

        // Crash mid-fill: the relay stalls after 150 KB; the edge is killed while the object is partial.
        let crashed = try fleet.segments("ts")[1]
        relay.fault = .init(kind: .stall(afterBodyBytes: 150_000), pathContains: crashed)
        let viewer = try RawHTTPConnection(host: edge.host, port: edge.port, timeout: 20)
        try viewer.send("GET /\(crashed) HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(EdgeFleet.eventually { relay.forwardedBodyBytes >= 150_000 })
        usleep(100_000)
        edge.stop(signal: SIGKILL)
        #expect(fleet.cachedObjects("edge-1")[crashed] == nil, "nothing at the object's path")
        relay.fault = nil
        edge = try fleet.start("edge-1")
        #expect((try FileManager.default.contentsOfDirectory(atPath: fleet.cacheDirectory("edge-1") + "/.partial")).isEmpty,
                "partial files discarded on start")
        let refilled = try Self.get(edge, crashed)
        try #expect(refilled.header("X-Cache") == "MISS" && refilled.body == (try fleet.originBytes(crashed)))
    }

    @Test func evictionHoldsTheSizeLimit() async throws {
        let fleet = try EdgeFleet(try await PublishedContent.shared.fixture())
        fleet.addCache("edge-1", parents: ["origin-1"], extra: ["prefetch": "0", "cache_size": "\"1MiB\""])
        try fleet.startOrigin()
        let edge = try fleet.start("edge-1")
        let paths = try fleet.segments("ts") + fleet.segments("fmp4")
        #expect(try fleet.originBytes(paths[0]).count * 3 > 1 << 20, "the fixture overflows the budget")
        for (index, path) in paths.enumerated() {
            #expect(try Self.get(edge, path).body == (try fleet.originBytes(path)))
            #expect(try EdgeFleet.eventually { try EdgeFleet.metric(edge, "edgenode_cache_objects_committed_total") == index + 1 })
            let held = fleet.cachedObjects("edge-1").values.reduce(0, +)
            #expect(held <= 1 << 20, "\(held) bytes held after \(path)")
        }
        #expect(try EdgeFleet.metric(edge, "edgenode_cache_objects_evicted_total") > 0)
    }

    @Test func staleIfErrorWithTheOriginStopped() async throws {
        let fleet = try EdgeFleet(try await PublishedContent.shared.fixture())
        fleet.addCache("edge-1", parents: ["origin-1"], extra: ["prefetch": "0", "manifest_ttl": "1"])
        try fleet.startOrigin()
        let edge = try fleet.start("edge-1")
        let cached = try fleet.segments("ts")[0]
        let expected = try fleet.originBytes(cached)
        _ = try Self.get(edge, cached)
        #expect(EdgeFleet.eventually { fleet.cachedObjects("edge-1")[cached] != nil })
        fleet.stopOrigin()
        usleep(1_100_000)
        var response = try Self.get(edge, cached)
        #expect(try EdgeFleet.eventually(5) {
            response = try Self.get(edge, cached)
            return response.header("X-Cache") == "STALE"
        }, "revalidation fails: cached objects are served as stale")
        #expect(response.status == 200 && response.body == expected)
        let started = Date()
        let uncached = try Self.get(edge, try fleet.segments("ts")[1])
        #expect(uncached.status == 502 && uncached.body.count < 200, "a short 502")
        #expect(Date().timeIntervalSince(started) < 1, "quickly")
        #expect(try Self.get(edge, "other-content/master.m3u8").status == 502)
    }

    /// A request for segment i fills the next K in the background; nothing beyond them.
    @Test func theNextSegmentsArePrefetched() async throws {
        let fleet = try EdgeFleet(try await PublishedContent.shared.fixture())
        fleet.addCache("edge-1", parents: ["origin-1"], extra: ["prefetch": "2"])
        try fleet.startOrigin()
        let edge = try fleet.start("edge-1")
        let segments = try fleet.segments("ts")
        try #require(segments.count >= 4)
        #expect(try Self.get(edge, segments[0]).header("X-Cache") == "MISS")
        #expect(EdgeFleet.eventually { fleet.cachedObjects("edge-1")[segments[1]] != nil && fleet.cachedObjects("edge-1")[segments[2]] != nil })
        #expect(try EdgeFleet.metric(edge, "edgenode_cache_fills_total{priority=\"background\"}") == 2)
        #expect(fleet.cachedObjects("edge-1")[segments[3]] == nil, "only K = 2 ahead")
        let next = try Self.get(edge, segments[1])
        #expect(try next.header("X-Cache") == "HIT" && next.body == fleet.originBytes(segments[1]))
    }

    /// Issue 24 (1): one connection pipelining one-byte ranges of consecutive cold segments, with prefetch on and slow
    /// parents, makes viewers join queued background fills. The engine once re-entered its own lock there and hung
    /// both event loops; every response must now come back with the right byte and `/healthz` keep answering.
    @Test func pipelinedRangesJoiningQueuedPrefetchesNeverHangTheEdge() async throws {
        let fleet = try EdgeFleet(try await PublishedContent.shared.fixture())
        let relayHost = fleet.addCache("relay-1", parents: ["origin-1"])
        fleet.addCache("edge-1", parents: ["relay-1"])
        try fleet.startOrigin()
        let relay = try ParentProxy(listen: relayHost, port: EdgeFleet.port, upstreamHost: fleet.originHost, upstreamPort: EdgeFleet.port)
        let edge = try fleet.start("edge-1")
        _ = try Self.get(edge, "content-ts/360p/index.m3u8")
        relay.fault = .init(kind: .delay(milliseconds: 700), pathContains: "seg_")
        let segments = Array((try fleet.segments("ts")).prefix(8))
        try #require(segments.count >= 4, "enough segments for a queued prefetch")
        let connection = try RawHTTPConnection(host: edge.host, port: edge.port, timeout: 30)
        try connection.send(segments.map { "GET /\($0) HTTP/1.1\r\nHost: \(edge.host)\r\nRange: bytes=0-0\r\n\r\n" }.joined())
        let health = try RawHTTPConnection(host: edge.host, port: edge.port, timeout: 5)
        for (index, segment) in segments.enumerated() {
            let response = try #require(try connection.readResponse(), "response \(index) of \(segments.count)")
            let expected = Array(try fleet.originBytes(segment).prefix(1))
            #expect(response.status == 206 && response.body == expected, "\(segment): \(response.status)")
            try health.send("GET /healthz HTTP/1.1\r\nHost: \(edge.host)\r\n\r\n")
            #expect(try health.readResponse()?.status == 200, "/healthz answers while \(segment) is served")
        }
        #expect(try EdgeFleet.metric(edge, "edgenode_cache_fills_total{priority=\"background\"}") >= 1, "prefetches were queued and run")
    }

    /// A parent that sends nothing is given up after `upstream_timeout`: with no other parent, a quick 504.
    @Test func aSilentParentTimesOutInto504() async throws {
        let fleet = try EdgeFleet(try await PublishedContent.shared.fixture())
        let relayHost = fleet.addCache("relay-1", parents: ["origin-1"])
        fleet.addCache("edge-1", parents: ["relay-1"], extra: ["prefetch": "0", "upstream_timeout": "1"])
        try fleet.startOrigin()
        let relay = try ParentProxy(listen: relayHost, port: EdgeFleet.port, upstreamHost: fleet.originHost, upstreamPort: EdgeFleet.port)
        let edge = try fleet.start("edge-1")
        _ = try Self.get(edge, "content-ts/360p/index.m3u8")
        relay.fault = .init(kind: .delay(milliseconds: 4_000), pathContains: "seg_")
        let started = Date()
        let response = try Self.get(edge, try fleet.segments("ts")[0])
        let elapsed = Date().timeIntervalSince(started)
        #expect(response.status == 504 && response.body.count < 200)
        #expect(elapsed >= 0.9 && elapsed < 3, "\(elapsed) s")
        #expect(try EdgeFleet.metric(edge, "edgenode_parent_failures_total{parent=\"relay-1\",reason=\"timeout\"}") == 1)
    }

    /// A parent that trickles its manifest a byte at a time never goes silent, but the fetch has a deadline
    /// (four read timeouts): the viewer gets a 504, not an endless wait.
    @Test func aTricklingParentCannotHoldAManifestFetchForever() async throws {
        let fleet = try EdgeFleet(try await PublishedContent.shared.fixture())
        let relayHost = fleet.addCache("relay-1", parents: ["origin-1"])
        fleet.addCache("edge-1", parents: ["relay-1"], extra: ["prefetch": "0", "upstream_timeout": "1"])
        try fleet.startOrigin()
        let relay = try ParentProxy(listen: relayHost, port: EdgeFleet.port, upstreamHost: fleet.originHost, upstreamPort: EdgeFleet.port)
        relay.fault = .init(kind: .trickle(intervalMilliseconds: 200), pathContains: "manifest.json")
        let edge = try fleet.start("edge-1")
        let started = Date()
        let response = try Self.get(edge, "content-ts/master.m3u8")
        let elapsed = Date().timeIntervalSince(started)
        #expect(response.status == 504, "\(response.status)")
        #expect(elapsed >= 3.5 && elapsed < 8, "\(elapsed) s")
        #expect(try EdgeFleet.metric(edge, "edgenode_parent_failures_total{parent=\"relay-1\",reason=\"timeout\"}") == 1)
    }

    @Test func aMeshPeerAnswersOnlyFromItsCache() async throws {
        let fleet = try EdgeFleet(try await PublishedContent.shared.fixture())
        fleet.addCache("mesh-a", role: "mesh", parents: ["mesh-b", "origin-1"], extra: ["prefetch": "0"])
        fleet.addCache("mesh-b", role: "mesh", parents: ["mesh-a", "origin-1"], extra: ["prefetch": "0"])
        try fleet.startOrigin()
        let meshA = try fleet.start("mesh-a")
        let meshB = try fleet.start("mesh-b")
        let path = try fleet.segments("fmp4")[0]
        // Neither holds it: a asks b (only-if-cached → 504, not a failure), then the origin.
        #expect(try Self.get(meshA, path).body == (try fleet.originBytes(path)))
        #expect(EdgeFleet.eventually { fleet.cachedObjects("mesh-a")[path] != nil })
        #expect(try EdgeFleet.metric(meshA, "edgenode_upstream_requests_total{parent=\"origin-1\",kind=\"object\"}") == 1)
        // Now b fills from a, its peer, without touching the origin.
        #expect(try Self.get(meshB, path).body == (try fleet.originBytes(path)))
        #expect(try EdgeFleet.metric(meshB, "edgenode_upstream_requests_total{parent=\"mesh-a\",kind=\"object\"}") == 1)
        #expect(try EdgeFleet.metric(meshB, "edgenode_upstream_requests_total{parent=\"origin-1\",kind=\"object\"}") == 0)
        #expect(try EdgeFleet.metric(meshA, "edgenode_parent_failures_total{parent=\"mesh-b\",reason=\"status\"}") == 0)
    }
}
