import Foundation
import Testing
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// `edgenode serve` as a real process on its own loopback address, driven by a raw-socket client.
@Suite(.serialized) struct ServeTests {
    static let port = 18_080

    static func start(_ fixture: PublishedContent.Fixture, _ extra: [String] = []) throws -> ServerProcess {
        let host = LoopbackAddress.next()
        return try ServerProcess(EdgeNodeBinary.path, ["serve", "--root", fixture.root, "--listen", "\(host):\(port)",
                                                       "--pubkey", fixture.pubkey, "--threads", "1"] + extra,
                                 host: host, port: port)
    }

    /// Several event loops send the same open file at once: each uses its own descriptor (NIO refuses concurrent use
    /// of one handle, which used to cut such responses off).
    @Test func concurrentViewersOnSeveralThreadsAllGetWholeFiles() async throws {
        let fixture = try await PublishedContent.shared.fixture()
        let host = LoopbackAddress.next()
        let server = try ServerProcess(EdgeNodeBinary.path, ["serve", "--root", fixture.root, "--listen", "\(host):\(Self.port)",
                                                             "--threads", "4"], host: host, port: Self.port)
        let path = "content-ts/360p/seg_00001.ts"
        let expected = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture.root + "/" + path)))
        #expect(expected.count > 64 * 1024, "large enough to be sent with sendfile")
        for _ in 0..<3 {
            let viewers = try (0..<64).map { _ in try RawHTTPConnection(host: server.host, port: server.port) }
            for viewer in viewers { try viewer.send("GET /\(path) HTTP/1.1\r\nHost: x\r\n\r\n") }
            for viewer in viewers { #expect(try viewer.readResponse()?.body == expected) }
        }
    }

    @Test func servesPublishedBytesWithTheRightHeaders() async throws {
        let fixture = try await PublishedContent.shared.fixture()
        let server = try Self.start(fixture)
        // Nothing is `immutable`: a republish may put new bytes under these URLs, so caches revalidate.
        for (path, type, caching) in [("content-ts/master.m3u8", "application/vnd.apple.mpegurl", "public, max-age=10"),
                                      ("content-ts/360p/index.m3u8", "application/vnd.apple.mpegurl", "public, max-age=10"),
                                      ("content-ts/360p/seg_00001.ts", "video/mp2t", "public, max-age=10"),
                                      ("content-fmp4/360p/seg_00000.m4s", "video/iso.segment", "public, max-age=10"),
                                      ("content-fmp4/360p/init.mp4", "video/mp4", "public, max-age=10"),
                                      ("content-ts/manifest.json", "application/json", "public, max-age=10")] {
            let response = try RawHTTPConnection.get(server.host, server.port, "/" + path)
            let expected = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture.root + "/" + path)))
            #expect(response.status == 200, "\(path)")
            #expect(response.body == expected, "\(path): bytes differ")
            #expect(response.header("Content-Type") == type, "\(path)")
            #expect(response.header("Content-Length") == String(expected.count))
            #expect(response.header("Accept-Ranges") == "bytes")
            #expect(response.header("Access-Control-Allow-Origin") == "*")
            #expect(response.header("Access-Control-Expose-Headers")?.contains("Content-Range") == true)
            #expect(response.header("Date") != nil && response.header("Last-Modified") != nil)
            #expect(response.header("Cache-Control") == caching, "\(path)")
            #expect(response.header("Access-Control-Expose-Headers")?.contains("X-Cache, Age") == true && response.header("Timing-Allow-Origin") == "*")
        }
    }

    /// ETags come from the signed manifest's chunk roots: the same bytes get the same ETag on every node.
    @Test func etagsAreTheManifestContentHashes() async throws {
        let fixture = try await PublishedContent.shared.fixture()
        let server = try Self.start(fixture)
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: fixture.root + "/content-ts/manifest.json"))) as! [String: Any]
        let files = manifest["files"] as! [[String: Any]]
        for file in files.prefix(4) {
            let path = file["path"] as! String
            let response = try RawHTTPConnection.get(server.host, server.port, "/content-ts/" + path, method: "HEAD")
            #expect(response.header("ETag") == "\"\(String((file["chunkRoot"] as! String).prefix(32)))\"", "\(path)")
        }
    }

    @Test func pathsThatEscapeTheRootAre404() async throws {
        let fixture = try await PublishedContent.shared.fixture()
        let outside = NSTemporaryDirectory() + "edgenode-outside-\(getpid())"
        try? FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
        try Data("secret".utf8).write(to: URL(fileURLWithPath: outside + "/secret.txt"))
        try? FileManager.default.removeItem(atPath: fixture.root + "/escape")
        try FileManager.default.createSymbolicLink(atPath: fixture.root + "/escape", withDestinationPath: outside)
        defer { try? FileManager.default.removeItem(atPath: fixture.root + "/escape") }
        let server = try Self.start(fixture)
        for path in ["/../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/content-ts/%2e%2e/%2e%2e/etc/passwd", "/content-ts%2f..%2f..%2fetc%2fpasswd",
                     "/escape/secret.txt", "/content-ts/360p/seg_00001.ts%00.txt", "/.hidden", "/content-ts", "/", "/nonexistent",
                     "//etc/passwd", "/content-ts/360p/..%5c..%5cmanifest.json"] {
            let connection = try RawHTTPConnection(host: server.host, port: server.port)
            try connection.send("GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let response = try #require(try connection.readResponse(), "\(path)")
            #expect(response.status == 404, "\(path) → \(response.status)")
            #expect(!String(decoding: response.body, as: UTF8.self).contains("secret") && !String(decoding: response.body, as: UTF8.self).contains("root:"))
        }
    }

    @Test func oversizedHeadIs431() async throws {
        let fixture = try await PublishedContent.shared.fixture()
        let server = try Self.start(fixture)
        let connection = try RawHTTPConnection(host: server.host, port: server.port)
        try connection.send("GET /content-ts/master.m3u8 HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "a", count: 17_000) + "\r\n\r\n")
        #expect(try connection.readResponse()?.status == 431)
        #expect(connection.waitForClose())
        // A head just under the limit is fine.
        let ok = try RawHTTPConnection.get(server.host, server.port, "/content-ts/master.m3u8", headers: ["X-Big: " + String(repeating: "a", count: 15_000)])
        #expect(ok.status == 200)
    }

    @Test func slowHeadIs408() async throws {
        let fixture = try await PublishedContent.shared.fixture()
        let server = try Self.start(fixture, ["--head-timeout", "1"])
        let connection = try RawHTTPConnection(host: server.host, port: server.port, timeout: 5)
        let started = Date()
        try connection.send("GET /content-ts/master.m3u8 HTTP/1.1\r\nHost: x\r\n")
        #expect(try connection.readResponse()?.status == 408)
        #expect(connection.waitForClose())
        #expect(Date().timeIntervalSince(started) < 3)
    }

    @Test func idleKeepAliveConnectionsAreClosed() async throws {
        let fixture = try await PublishedContent.shared.fixture()
        let server = try Self.start(fixture, ["--idle-timeout", "1"])
        let connection = try RawHTTPConnection(host: server.host, port: server.port, timeout: 5)
        try connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try connection.readResponse()?.status == 200)
        #expect(connection.waitForClose())
    }

    @Test func connectionLimitIsEnforced() async throws {
        let fixture = try await PublishedContent.shared.fixture()
        let server = try Self.start(fixture, ["--max-connections", "2"])
        let first = try RawHTTPConnection(host: server.host, port: server.port)
        let second = try RawHTTPConnection(host: server.host, port: server.port)
        try first.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        try second.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(try first.readResponse()?.status == 200)
        #expect(try second.readResponse()?.status == 200)
        let third = try RawHTTPConnection(host: server.host, port: server.port, timeout: 5)
        try? third.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect((try? third.readResponse()) == nil, "a connection over the limit is closed without an answer")
        _ = (first, second)
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        let fixture = try await PublishedContent.shared.fixture()
        let server = try Self.start(fixture)
        let connection = try RawHTTPConnection(host: server.host, port: server.port)
        let paths = ["/content-ts/master.m3u8", "/nonexistent", "/content-ts/360p/index.m3u8", "/content-ts/360p/seg_00000.ts"]
        try connection.send(paths.map { "GET \($0) HTTP/1.1\r\nHost: x\r\n\r\n" }.joined() + "HEAD /content-ts/master.m3u8 HTTP/1.1\r\nHost: x\r\n\r\n")
        var statuses: [Int] = []
        for path in paths {
            let response = try #require(try connection.readResponse())
            statuses.append(response.status)
            if response.status == 200 {
                #expect(response.body == (try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture.root + path)))))
            }
        }
        let head = try #require(try connection.readResponse(bodyExpected: false))
        #expect(statuses == [200, 404, 200, 200])
        #expect(head.status == 200 && head.header("Content-Length") != nil)
    }

    /// A client that pipelines thousands of requests and never reads: the server stops answering and reading
    /// (back-pressure), then drops the connection, instead of buffering responses; memory stays bounded and other
    /// clients are still served. Small playlists are used because their responses are buffers, not file regions.
    @Test func aClientThatNeverReadsCannotGrowMemory() async throws {
        let fixture = try await PublishedContent.shared.fixture()
        let server = try Self.start(fixture)
        func residentKiB() throws -> Int {
            let status = try String(contentsOfFile: "/proc/\(server.pid)/status", encoding: .utf8)
            let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }!
            return Int(line.split(separator: " ").dropFirst().first!)!
        }
        _ = try RawHTTPConnection.get(server.host, server.port, "/content-ts/360p/index.m3u8")
        let before = try residentKiB()
        let greedy = try RawHTTPConnection(host: server.host, port: server.port, timeout: 2)
        let request = "GET /content-ts/360p/index.m3u8 HTTP/1.1\r\nHost: x\r\n\r\n"
        // 100 000 requests for a 265-byte playlist: about 70 MB of responses if the server buffered them all.
        let batch = String(repeating: request, count: 2000)
        for _ in 0..<50 { try? greedy.send(batch) }
        usleep(500_000)
        let after = try residentKiB()
        #expect(after - before < 16 * 1024, "RSS grew from \(before) KiB to \(after) KiB")
        #expect(try RawHTTPConnection.get(server.host, server.port, "/healthz").status == 200, "others are still served")
    }

    @Test func http10ClosesUnlessAskedToKeepAlive() async throws {
        let fixture = try await PublishedContent.shared.fixture()
        let server = try Self.start(fixture)
        let plain = try RawHTTPConnection(host: server.host, port: server.port)
        try plain.send("GET /content-ts/master.m3u8 HTTP/1.0\r\n\r\n")
        let response = try #require(try plain.readResponse())
        #expect(response.status == 200)
        #expect(plain.waitForClose())
        let kept = try RawHTTPConnection(host: server.host, port: server.port, timeout: 2)
        try kept.send("GET /content-ts/master.m3u8 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        #expect(try kept.readResponse()?.header("Connection")?.lowercased() == "keep-alive")
        try kept.send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        #expect(try kept.readResponse()?.status == 200)
    }

    @Test func methodsOtherThanGetAndHead() async throws {
        let fixture = try await PublishedContent.shared.fixture()
        let server = try Self.start(fixture)
        for method in ["POST", "PUT", "DELETE", "PATCH", "PROPFIND"] {
            let response = try RawHTTPConnection.get(server.host, server.port, "/content-ts/master.m3u8", method: method)
            #expect(response.status == 405, "\(method)")
            #expect(response.header("Allow") == "GET, HEAD, OPTIONS")
        }
        // A method token the HTTP parser does not know never reaches the handler: the parser answers 400.
        #expect(try RawHTTPConnection.get(server.host, server.port, "/content-ts/master.m3u8", method: "BREW").status == 400)
        let preflight = try RawHTTPConnection.get(server.host, server.port, "/content-ts/master.m3u8", method: "OPTIONS",
                                                  headers: ["Origin: https://player.example", "Access-Control-Request-Method: GET",
                                                            "Access-Control-Request-Headers: range"])
        #expect(preflight.status == 204)
        #expect(preflight.header("Access-Control-Allow-Origin") == "*")
        #expect(preflight.header("Access-Control-Allow-Headers")?.contains("Range") == true)
        // A body on a request that takes none: answered, then the connection is not reused.
        let connection = try RawHTTPConnection(host: server.host, port: server.port)
        try connection.send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
        #expect(try connection.readResponse()?.status == 405)
        #expect(connection.waitForClose())
        // A huge body is refused without reading it all.
        let huge = try RawHTTPConnection(host: server.host, port: server.port)
        try huge.send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n" + String(repeating: "z", count: 100_000))
        #expect(try huge.readResponse()?.status == 413)
    }

    @Test func malformedRequestsGet400() async throws {
        let fixture = try await PublishedContent.shared.fixture()
        let server = try Self.start(fixture)
        for raw in ["GARBAGE\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "GET /x HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", "\u{1}\u{2}\u{3}\r\n\r\n"] {
            let connection = try RawHTTPConnection(host: server.host, port: server.port)
            try connection.send(raw)
            let response = try connection.readResponse()
            #expect(response == nil || response!.status == 400, "\(raw.debugDescription) → \(response?.status ?? 0)")
            #expect(connection.waitForClose())
        }
        #expect(try RawHTTPConnection.get(server.host, server.port, "/healthz").status == 200, "still serving")
    }

    /// SIGTERM: stop accepting, let the in-flight response finish, exit 0.
    @Test func gracefulShutdownFinishesInFlightResponses() async throws {
        let fixture = try await PublishedContent.shared.fixture()
        let server = try Self.start(fixture)
        let expected = try [UInt8](Data(contentsOf: URL(fileURLWithPath: fixture.root + "/big.bin")))
        let connection = try RawHTTPConnection(host: server.host, port: server.port, timeout: 20)
        try connection.send("GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        usleep(100_000)
        kill(server.pid, SIGTERM)
        usleep(300_000)
        #expect((try? RawHTTPConnection(host: server.host, port: server.port, timeout: 2)) == nil, "no new connections after SIGTERM")
        let response = try #require(try connection.readResponse())
        #expect(response.status == 200)
        #expect(response.body.count == expected.count)
        #expect(response.body == expected)
        #expect(connection.waitForClose())
        #expect(server.stop(signal: 0, timeout: 15) == 0, "exit status 0 after draining: \(server.log)")
    }

    /// ffmpeg's HLS demuxer plays both formats over HTTP from the node with no error.
    @Test(arguments: ["content-ts", "content-fmp4"])
    func playbackThroughTheServer(content: String) async throws {
        let fixture = try await PublishedContent.shared.fixture()
        let server = try Self.start(fixture)
        let url = "http://\(server.host):\(server.port)/\(content)/master.m3u8"
        let played = try ProcessRunner.run("ffmpeg", ["-v", "error", "-nostdin", "-i", url, "-f", "null", "-"])
        #expect(played.status == 0 && played.stderr.isEmpty, "\(played.stderr)")
        let probe = try ProcessRunner.run("ffprobe", ["-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", url])
        let duration = try #require(Double(probe.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(abs(duration - 20) < 0.2, "\(duration)")
    }
}

/// The open-file cache trusts what it validated for one second, then notices replaced or rewritten files.
@Suite(.serialized) struct ContentChangeTests {
    @Test(arguments: [100, 200_000])
    func changedFilesAreServedAfterTheValidityWindow(size: Int) async throws {
        let root = try TemporaryDirectory("changes")
        defer { root.remove() }
        let path = root.path + "/file.bin"
        try Data(repeating: 0x61, count: size).write(to: URL(fileURLWithPath: path))
        let host = LoopbackAddress.next()
        let server = try ServerProcess(EdgeNodeBinary.path, ["serve", "--root", root.path, "--listen", "\(host):18083"], host: host, port: 18_083)
        let first = try RawHTTPConnection.get(server.host, server.port, "/file.bin")
        #expect(first.body == [UInt8](repeating: 0x61, count: size))
        // Replaced by rename (a new inode), as a re-publish does.
        try Data(repeating: 0x62, count: size + 1).write(to: URL(fileURLWithPath: path), options: .atomic)
        let during = try RawHTTPConnection.get(server.host, server.port, "/file.bin")
        #expect(during.body == [UInt8](repeating: 0x61, count: size) || during.body == [UInt8](repeating: 0x62, count: size + 1),
                "within the window: the old or the new file, never a mix")
        usleep(1_100_000)
        let after = try RawHTTPConnection.get(server.host, server.port, "/file.bin")
        #expect(after.body == [UInt8](repeating: 0x62, count: size + 1))
        #expect(after.header("ETag") != first.header("ETag"))
        // Deleted: 404 once the window has passed.
        try FileManager.default.removeItem(atPath: path)
        usleep(1_100_000)
        #expect(try RawHTTPConnection.get(server.host, server.port, "/file.bin").status == 404)
    }
}
