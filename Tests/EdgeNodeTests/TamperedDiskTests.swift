import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// The disk is not trusted: bytes changed after a fill (or on the origin's own disk) are never served as the origin's,
/// before or after a restart; planted files are not served by caching nodes; a deleted object is filled again.
@Suite(.serialized) struct TamperedDiskTests {
    static func get(_ server: ServerProcess, _ path: String) throws -> RawResponse {
        try RawHTTPConnection.get(server.host, server.port, "/" + path)
    }

    /// Fills `paths` through `edge` and waits until each is committed to the cache.
    static func fill(_ fleet: EdgeFleet, _ edge: ServerProcess, _ paths: [String]) throws {
        for path in paths {
            #expect(try get(edge, path).body == fleet.originBytes(path))
            #expect(EdgeFleet.eventually { fleet.cachedObjects("edge-1")[path] != nil }, "\(path) committed")
        }
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    @Test func tamperedCacheFilesAreRefilledNeverServed() async throws {
        let fleet = try EdgeFleet(try await PublishedContent.shared.fixture())
        fleet.addCache("edge-1", parents: ["origin-1"], extra: ["prefetch": "0"])
        try fleet.startOrigin()
        var edge = try fleet.start("edge-1")
        let segments = try fleet.segments("ts")
        let segment = segments[1], playlist = "content-ts/360p/index.m3u8"
        try Self.fill(fleet, edge, [segment, playlist])
        let expected = try fleet.originBytes(segment)
        let file = fleet.cacheDirectory("edge-1") + "/" + segment
        let tampers: [(String, () throws -> Void)] = [
            ("one byte flipped in place", {
                let handle = FileHandle(forUpdatingAtPath: file)!
                try handle.seek(toOffset: 100_000)
                let byte = try handle.read(upToCount: 1)!
                try handle.seek(toOffset: 100_000)
                try handle.write(contentsOf: Data([byte[0] ^ 0x01]))
                try handle.close()
            }),
            ("truncated to half", { try Self.write(Array(expected.prefix(expected.count / 2)), to: file) }),
            ("truncated to zero", { try Self.write([], to: file) }),
            ("truncated to ten bytes", { try Self.write(Array(expected.prefix(10)), to: file) }),
            ("bytes appended", { try Self.write(expected + [1, 2, 3], to: file) }),
            ("replaced by another segment", {
                let other = try fleet.originBytes(segments[2])
                try Data(other.prefix(expected.count) + Array(repeating: 0, count: max(0, expected.count - other.count)))
                    .write(to: URL(fileURLWithPath: file), options: .atomic)
            }),
            ("deleted", { try FileManager.default.removeItem(atPath: file) }),
        ]
        var failures = 0
        for (name, tamper) in tampers {
            try tamper()
            // The open-file cache trusts an entry for a second, then notices the change.
            usleep(1_100_000)
            let response = try Self.get(edge, segment)
            #expect(response.status == 200 && response.body == expected, "\(name): \(response.status), \(response.body.count) bytes")
            #expect(response.header("X-Cache") != "HIT", "\(name): answered \(response.header("X-Cache") ?? "-")")
            #expect(EdgeFleet.eventually { fleet.cachedObjects("edge-1")[segment] == expected.count }, "\(name): refilled")
            if name != "deleted" { failures += 1 }
            #expect(try EdgeFleet.metric(edge, "edgenode_content_verification_failures_total") == failures, "\(name): counted")
            let again = try Self.get(edge, segment)
            #expect(again.header("X-Cache") == "HIT" && again.body == expected, "\(name): a hit once refilled")
        }
        // A small file (served from memory) too.
        let playlistFile = fleet.cacheDirectory("edge-1") + "/" + playlist
        var text = try fleet.originBytes(playlist)
        text[text.count - 2] ^= 0x01
        try Self.write(text, to: playlistFile)
        usleep(1_100_000)
        #expect(try Self.get(edge, playlist).body == fleet.originBytes(playlist))
        // A file no manifest lists is not served, even inside a content.
        try Self.write(expected, to: fleet.cacheDirectory("edge-1") + "/content-ts/360p/planted.ts")
        #expect(try Self.get(edge, "content-ts/360p/planted.ts").status == 404)
        // Tampered while the node was down: verified on the first open after the restart.
        #expect(edge.stop() == 0)
        try Self.write(Array(expected.prefix(expected.count - 1)) + [expected.last! ^ 0xFF], to: file)
        edge = try fleet.start("edge-1")
        let restarted = try Self.get(edge, segment)
        #expect(restarted.body == expected && restarted.header("X-Cache") != "HIT", "after a restart: \(restarted.header("X-Cache") ?? "-")")
        #expect(try EdgeFleet.metric(edge, "edgenode_content_verification_failures_total") == 1)
        #expect(edge.log.contains("stored bytes do not match the signed manifest"))
    }

    @Test func anOriginRefusesARottedMaster() async throws {
        let fixture = try await PublishedContent.shared.fixture()
        let directory = try TemporaryDirectory("rotted")
        defer { directory.remove() }
        try FileManager.default.copyItem(atPath: fixture.root + "/content-ts", toPath: directory.path + "/content-ts")
        let host = LoopbackAddress.next()
        let origin = try ServerProcess(EdgeNodeBinary.path, ["serve", "--root", directory.path, "--listen", "\(host):18320",
                                                             "--pubkey", fixture.pubkey, "--threads", "1"], host: host, port: 18_320)
        let path = "content-ts/360p/seg_00001.ts"
        let good = try [UInt8](Data(contentsOf: URL(fileURLWithPath: directory.path + "/" + path)))
        #expect(try Self.get(origin, path).body == good)
        var rotted = good
        rotted[5_000] ^= 0x80
        try Self.write(rotted, to: directory.path + "/" + path)
        usleep(1_100_000)
        let refused = try Self.get(origin, path)
        #expect(refused.status == 500 && !refused.body.elementsEqual(rotted), "\(refused.status)")
        try Self.write(good, to: directory.path + "/" + path)
        usleep(1_100_000)
        #expect(try Self.get(origin, path).body == good, "restored, verified again, served")
    }
}

/// A full disk on an edge is the edge's problem: it evicts to make room and keeps filling, and never blames (or
/// refetches from) a parent for it.
@Suite(.serialized) struct FullDiskTests {
    /// An origin and an edge whose cache directory is a 2 MiB tmpfs (unmount `cache` when done), with a byte budget
    /// far above what that file system holds.
    static func edgeOnTinyDisk() async throws -> (fleet: EdgeFleet, edge: ServerProcess, cache: String) {
        let fleet = try EdgeFleet(try await PublishedContent.shared.fixture())
        fleet.addCache("edge-1", parents: ["origin-1"], extra: ["prefetch": "0", "cache_size": "\"1GiB\""])
        let cache = fleet.cacheDirectory("edge-1")
        try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
        let mounted = try ProcessRunner.run("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", cache])
        try #require(mounted.status == 0, "cannot mount a tmpfs (needs root): \(mounted.stderr)")
        do {
            try fleet.startOrigin()
            return (fleet, try fleet.start("edge-1"), cache)
        } catch {
            _ = try? ProcessRunner.run("umount", ["-l", cache])
            throw error
        }
    }

    @Test func aFullCacheDiskEvictsToMakeRoomWithoutBlamingTheParent() async throws {
        let (fleet, edge, cache) = try await Self.edgeOnTinyDisk()
        defer { _ = try? ProcessRunner.run("umount", ["-l", cache]) }
        let segments = try fleet.segments("ts")
        try #require(segments.count >= 4)
        for path in segments.prefix(4) {
            let response = try RawHTTPConnection.get(edge.host, edge.port, "/" + path), expected = try fleet.originBytes(path)
            #expect(response.status == 200 && response.body == expected, "\(path): \(response.status)")
            _ = EdgeFleet.eventually(5) { fleet.cachedObjects("edge-1")[path] != nil }
        }
        #expect(try EdgeFleet.metric(edge, "edgenode_cache_disk_full_evictions_total") >= 1, "the disk filled up and room was made")
        let metrics = String(decoding: try RawHTTPConnection.get(edge.host, edge.port, "/metrics").body, as: UTF8.self)
        let blamed = metrics.split(separator: "\n").filter { $0.hasPrefix("edgenode_parent_failures_total") && !$0.hasSuffix(" 0") }
        #expect(blamed.isEmpty, "a parent was blamed for the full disk: \(blamed)")
        let fetched = try EdgeFleet.metric(edge, "edgenode_cache_fill_bytes_total{parent=\"origin-1\"}")
        let needed = try segments.prefix(4).map { try fleet.originBytes($0).count }.reduce(0, +)
        #expect(fetched == needed, "every byte fetched once: \(fetched) of \(needed)")
    }

    /// Something other than the cache fills its file system: nothing can be evicted to make room, so viewers get the
    /// verified bytes straight from the parent (whole objects and ranges), nothing is cached, no parent is blamed;
    /// once there is room again, objects are cached as usual.
    @Test func aDiskThatStaysFullServesThroughWithoutCaching() async throws {
        let (fleet, edge, cache) = try await Self.edgeOnTinyDisk()
        defer { _ = try? ProcessRunner.run("umount", ["-l", cache]) }
        // Ballast: fill the file system to the last block.
        let ballast = cache + "/ballast"
        _ = try ProcessRunner.run("dd", ["if=/dev/zero", "of=\(ballast)", "bs=64k"])
        let segments = try fleet.segments("ts")
        let whole = segments[0], ranged = segments[1]
        let expected = try fleet.originBytes(whole)
        for attempt in 1...2 {
            let response = try RawHTTPConnection.get(edge.host, edge.port, "/" + whole)
            #expect(response.status == 200 && response.body == expected, "attempt \(attempt): \(response.status), \(response.body.count) bytes")
            #expect(response.header("X-Cache") == "MISS")
        }
        let rangedBytes = try fleet.originBytes(ranged)
        let range = 70_000..<min(rangedBytes.count, 200_000)
        let partial = try RawHTTPConnection.get(edge.host, edge.port, "/" + ranged, headers: ["Range: bytes=\(range.lowerBound)-\(range.upperBound - 1)"])
        #expect(partial.status == 206 && partial.body == Array(rangedBytes[range]), "range: \(partial.status)")
        #expect(try EdgeFleet.metric(edge, "edgenode_cache_uncached_responses_total") >= 3)
        #expect(fleet.cachedObjects("edge-1")[whole] == nil, "nothing could be cached")
        let metrics = String(decoding: try RawHTTPConnection.get(edge.host, edge.port, "/metrics").body, as: UTF8.self)
        let blamed = metrics.split(separator: "\n").filter { $0.hasPrefix("edgenode_parent_failures_total") && !$0.hasSuffix(" 0") }
        #expect(blamed.isEmpty, "a parent was blamed for the full disk: \(blamed)")

        try FileManager.default.removeItem(atPath: ballast)
        let cached = try RawHTTPConnection.get(edge.host, edge.port, "/" + whole)
        #expect(cached.status == 200 && cached.body == expected)
        #expect(EdgeFleet.eventually(5) { fleet.cachedObjects("edge-1")[whole] != nil }, "cached once there is room")
        let hit = try RawHTTPConnection.get(edge.host, edge.port, "/" + whole)
        #expect(hit.status == 200 && hit.header("X-Cache") == "HIT", "\(hit.status) \(hit.header("X-Cache") ?? "-")")
    }
}
