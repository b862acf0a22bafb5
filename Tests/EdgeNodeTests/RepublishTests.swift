import Foundation
import Testing
import TestSupport

/// `edgenode segment --force` republishes new bytes under the same URLs. Nothing is `immutable`, so a viewer behind
/// an edge and a third-party shared cache (nginx `proxy_cache`, honouring Cache-Control) gets the new version within
/// the playlists' max-age, and errors are never kept.
@Suite struct RepublishTests {
    @Test func aRepublishReachesViewersThroughAnEdgeAndASharedCache() async throws {
        let directory = try TemporaryDirectory("republish")
        defer { directory.remove() }
        let input = try await MediaFixtures.shared.path(.h264AAC)
        #expect(try EdgeNodeBinary.run(["keygen", "--out", directory.path + "/origin"]).status == 0)
        try FileManager.default.createDirectory(atPath: directory.path + "/root", withIntermediateDirectories: true)
        func publish(_ segmentSeconds: Int) throws {
            let result = try EdgeNodeBinary.run(["segment", input, "--out", directory.path + "/root/clip", "--key", directory.path + "/origin.key",
                                                 "--hls-time", String(segmentSeconds), "--force", "--no-fsync"])
            #expect(result.status == 0, "\(result.stderr)")
        }
        try publish(2)
        let fleet = try EdgeFleet(PublishedContent.Fixture(root: directory.path + "/root", pubkey: directory.path + "/origin.pub"))
        fleet.addCache("edge-1", parents: ["origin-1"], extra: ["prefetch": "0", "manifest_ttl": "1"])
        try fleet.startOrigin()
        let edge = try fleet.start("edge-1")
        let proxyHost = LoopbackAddress.next()
        let proxy = try NginxProcess.startCachingProxy(upstream: "\(edge.host):\(edge.port)", host: proxyHost, port: 18_330)
        func viaProxy(_ path: String) throws -> RawResponse { try RawHTTPConnection.get(proxy.host, proxy.port, "/" + path) }
        func origin(_ path: String) throws -> [UInt8] { try fleet.originBytes(path) }
        let paths = ["clip/master.m3u8", "clip/360p/index.m3u8", "clip/360p/seg_00001.ts"]
        for path in paths {
            #expect(try viaProxy(path).body == origin(path), "\(path) before")
            let again = try viaProxy(path), expected = try origin(path)
            #expect(again.body == expected && again.header("X-Proxy-Cache") == "HIT", "\(path): the shared cache keeps it meanwhile")
            #expect(again.header("Cache-Control")?.contains("immutable") == false)
        }
        let before = try paths.map(origin)
        try publish(4)
        #expect(try paths.map(origin) != before, "the republish changed the bytes")
        // Within the max-age (10 s) plus the edge's manifest TTL — twice, as the shared cache may revalidate against the edge
        // just before the edge itself learns of the republish — every path shows the new version.
        let updated = try EdgeFleet.eventually(30) { try paths.allSatisfy { try viaProxy($0).body == origin($0) } }
        let states = try paths.map { try viaProxy($0).header("X-Proxy-Cache") ?? "-" }
        #expect(updated, "the shared cache still serves the old version: \(states)")
        // Errors are not kept: a 404 and a 416 say no-store.
        let missing = try viaProxy("clip/360p/seg_99999.ts")
        #expect(missing.status == 404 && missing.header("Cache-Control") == "no-store")
        let unsatisfiable = try RawHTTPConnection.get(edge.host, edge.port, "/clip/360p/seg_00001.ts", headers: ["Range: bytes=99999999-"])
        #expect(unsatisfiable.status == 416 && unsatisfiable.header("Cache-Control") == "no-store")
        // The edge says who answered and lets players read it.
        let hit = try RawHTTPConnection.get(edge.host, edge.port, "/clip/360p/seg_00001.ts")
        #expect(hit.header("Via") == "1.1 edge-1" && hit.header("Timing-Allow-Origin") == "*")
        #expect(hit.header("Access-Control-Expose-Headers")?.contains("X-Cache") == true)
        #expect(Int(hit.header("Age") ?? "") ?? 99 < 30, "Age counts time in this cache: \(hit.header("Age") ?? "-")")
    }

    /// RFC 9111 §5.1: a cache's `Age` is its own time plus the age the bytes had at its parent.
    @Test func ageAddsTheParentsAge() async throws {
        let fleet = try EdgeFleet(try await PublishedContent.shared.fixture())
        fleet.addCache("edge-1", parents: ["origin-1"], extra: ["prefetch": "0"])
        fleet.addCache("edge-2", parents: ["edge-1"], extra: ["prefetch": "0"])
        try fleet.startOrigin()
        let upper = try fleet.start("edge-1")
        let lower = try fleet.start("edge-2")
        let segment = try fleet.segments("ts")[2]
        #expect(try RawHTTPConnection.get(upper.host, upper.port, "/" + segment).status == 200)
        #expect(EdgeFleet.eventually { fleet.cachedObjects("edge-1")[segment] != nil })
        sleep(3)
        #expect(try RawHTTPConnection.get(lower.host, lower.port, "/" + segment).status == 200)
        #expect(EdgeFleet.eventually { fleet.cachedObjects("edge-2")[segment] != nil })
        let hit = try RawHTTPConnection.get(lower.host, lower.port, "/" + segment)
        let age = Int(hit.header("Age") ?? "") ?? -1
        #expect(hit.header("X-Cache") == "HIT" && age >= 3 && age < 30, "edge-2's Age \(age) should include edge-1's 3 s")
        let own = Int(try RawHTTPConnection.get(upper.host, upper.port, "/" + segment).header("Age") ?? "") ?? -1
        #expect(own >= 3 && age >= own - 1, "edge-1: \(own), edge-2: \(age)")
    }
}
