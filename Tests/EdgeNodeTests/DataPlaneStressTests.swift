import Foundation
import Logging
import NIOConcurrencyHelpers
import Testing
import TestSupport
@testable import EdgeNode

#if canImport(Glibc)
import Glibc
#endif

/// Issue 24: a seeded stress run of the fill engine and the data plane, in this process (so that ThreadSanitizer sees
/// every thread of the edge when `make test` runs it sanitized). Many connections pipeline random whole and range
/// requests of cold and warm objects, with prefetch on and a small cache (objects are evicted and filled again),
/// while the parent in front of the origin turns slow, corrupt, short and stalling at random and viewers leave in the
/// middle of responses. Every byte a response delivers must be the origin's, every status one the edge may answer,
/// `/healthz` must answer throughout, and once the parent behaves, everything must be served whole again.
@Suite(.serialized) struct DataPlaneStressTests {
    struct Tally {
        var whole = 0, partial = 0, refused = 0, cut = 0, left = 0
        var wrong: [String] = []
    }

    @Test(arguments: [UInt64(24), 2024]) func randomTrafficThroughFaultsIsAlwaysCorrect(seed: UInt64) async throws {
        let fixture = try await PublishedContent.shared.fixture()
        let directory = try TemporaryDirectory("stress")
        defer { directory.remove() }
        let origin = LoopbackAddress.next(), relay = LoopbackAddress.next(), edge = LoopbackAddress.next()
        let port = 18_900
        let text = """
            [[node]]
            name = "origin-1"
            role = "origin"
            region = "test"
            latitude = 0
            longitude = 0
            http = "\(origin):\(port)"
            content = "\(fixture.root)"
            threads = 1

            [[node]]
            name = "relay-1"
            role = "edge"
            region = "test"
            latitude = 0
            longitude = 0
            http = "\(relay):\(port)"
            content = "\(directory.path)/relay"
            parents = ["origin-1"]
            origin_key = "\(fixture.pubkey)"

            [[node]]
            name = "edge-1"
            role = "edge"
            region = "test"
            latitude = 0
            longitude = 0
            http = "\(edge):\(port)"
            content = "\(directory.path)/edge"
            parents = ["relay-1", "origin-1"]
            origin_key = "\(fixture.pubkey)"
            threads = 2
            prefetch = 2
            upstream_timeout = 1
            cache_size = "1MiB"
            """
        let config = try NodesConfig.parse(text, path: directory.path + "/nodes.conf", baseDirectory: directory.path)
        let logger = Logger(label: "stress")
        let runtimes = try ["origin-1", "edge-1"].map { try NodeRuntime(config: config, node: $0, logger: logger) }
        let proxy = try ParentProxy(listen: relay, port: port, upstreamHost: origin, upstreamPort: port)
        let tasks = runtimes.map { runtime in Task(executorPreference: DispatchTaskExecutor.shared) { try await runtime.run() } }
        defer { for task in tasks { task.cancel() } }
        #expect(await NodeRuntimeTests.eventually(20) { NodeRuntimeTests.listening(origin, port) && NodeRuntimeTests.listening(edge, port) })

        let paths = try ["ts", "fmp4"].flatMap { format in
            let names = try FileManager.default.contentsOfDirectory(atPath: "\(fixture.root)/content-\(format)/360p").sorted()
            return names.filter { $0.hasPrefix("seg_") || $0 == "init.mp4" || $0 == "index.m3u8" }.map { "content-\(format)/360p/\($0)" }
                + ["content-\(format)/master.m3u8"]
        }
        let originals = try Dictionary(uniqueKeysWithValues: paths.map { path in
            (path, [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixture.root + "/" + path))))
        })

        let deadline = Date().addingTimeInterval(60)
        let tally = NIOLockedValueBox(Tally())
        let running = NIOLockedValueBox(true)
        let healthFailures = NIOLockedValueBox<[String]>([])
        let faults: [ParentProxy.Fault.Kind?] = [nil, .delay(milliseconds: 600), .truncate(afterBodyBytes: 70_000), .flipByte(bodyOffset: 100_000),
                                                 .stall(afterBodyBytes: 65_536), nil]
        let clients = 6
        // The workers block on sockets: on threads of their own, never on the cooperative ones other suites' servers need.
        await withTaskExecutorPreference(ThreadPerJobExecutor.shared) {
            DispatchQueue.concurrentPerform(iterations: clients + 2) { worker in
                var generator = SeededGenerator(seed: seed &* 31 &+ UInt64(worker))
                switch worker {
                case clients:
                    // The parent misbehaves, a different way every 300 ms.
                    while running.withLockedValue({ $0 }) {
                        proxy.fault = faults.randomElement(using: &generator)!.map { .init(kind: $0, pathContains: "seg_") }
                        usleep(300_000)
                    }
                    proxy.fault = nil
                case clients + 1:
                    while running.withLockedValue({ $0 }) {
                        let started = Date()
                        let status = try? RawHTTPConnection(host: edge, port: port, timeout: 3).exchange("/healthz")
                        if status != 200 || Date().timeIntervalSince(started) > 2 {
                            healthFailures.withLockedValue { $0.append("\(status.map(String.init) ?? "no answer") after \(Date().timeIntervalSince(started)) s") }
                        }
                        usleep(200_000)
                    }
                default:
                    for _ in 0..<12 where Date() < deadline {
                        Self.pipeline(edge: edge, port: port, originals: originals, paths: paths, generator: &generator, tally: tally)
                    }
                }
                if worker == 0 { running.withLockedValue { $0 = false } }
            }
        }
        running.withLockedValue { $0 = false }
        proxy.fault = nil
        let result = tally.withLockedValue { $0 }
        #expect(result.wrong.isEmpty, "\(result.wrong.prefix(5))")
        #expect(result.whole + result.partial > 50, "mostly served: \(result)")
        #expect(healthFailures.withLockedValue { $0 }.isEmpty, "\(healthFailures.withLockedValue { $0 }.prefix(5))")
        // The parent behaves again: every object is served whole and right.
        for path in paths {
            let response = try RawHTTPConnection.get(edge, port, "/" + path)
            #expect(response.status == 200 && response.body == originals[path], "\(path) after the storm: \(response.status)")
        }
        #expect(try RawHTTPConnection.get(edge, port, "/healthz").status == 200)
    }

    /// One connection: a random batch of whole and range requests sent at once, read back in order; sometimes the
    /// viewer leaves after sending, or after part of a response.
    static func pipeline(edge: String, port: Int, originals: [String: [UInt8]], paths: [String], generator: inout SeededGenerator,
                         tally: NIOLockedValueBox<Tally>) {
        guard let connection = try? RawHTTPConnection(host: edge, port: port, timeout: 15) else {
            tally.withLockedValue { $0.wrong.append("cannot connect") }
            return
        }
        var requests: [(path: String, range: ClosedRange<Int>?)] = []
        for _ in 0..<Int.random(in: 1...6, using: &generator) {
            let path = paths.randomElement(using: &generator)!
            let size = originals[path]!.count
            var range: ClosedRange<Int>?
            if Bool.random(using: &generator) {
                let start = Int.random(in: 0..<size, using: &generator)
                range = start...min(size - 1, start + Int.random(in: 0..<200_000, using: &generator))
            }
            requests.append((path, range))
        }
        let text = requests.map { request in
            "GET /\(request.path) HTTP/1.1\r\nHost: \(edge)\r\n" + (request.range.map { "Range: bytes=\($0.lowerBound)-\($0.upperBound)\r\n" } ?? "") + "\r\n"
        }.joined()
        guard (try? connection.send(text)) != nil else { return }
        let leaving = Int.random(in: 0..<10, using: &generator)
        if leaving == 0 {
            tally.withLockedValue { $0.left += 1 }
            return
        }
        for (index, request) in requests.enumerated() {
            if leaving == 1 && index == requests.count - 1 {
                tally.withLockedValue { $0.left += 1 }
                return
            }
            let expected = originals[request.path]!
            let read: (response: RawResponse, complete: Bool)?
            do {
                read = try connection.readPossiblyTruncatedResponse()
            } catch {
                tally.withLockedValue { $0.cut += 1 }
                return
            }
            guard let (response, complete) = read else {
                tally.withLockedValue { $0.cut += 1 }
                return
            }
            let wanted = request.range.map { Array(expected[$0]) } ?? expected
            let prefixMatches = response.body.count <= wanted.count && response.body[...] == wanted[..<response.body.count]
            switch response.status {
            case 200 where request.range == nil, 206 where request.range != nil:
                if !prefixMatches {
                    tally.withLockedValue { $0.wrong.append("\(request.path) \(String(describing: request.range)): wrong bytes") }
                    return
                }
                if !complete {
                    tally.withLockedValue { $0.cut += 1 }
                    return
                }
                tally.withLockedValue { request.range == nil ? ($0.whole += 1) : ($0.partial += 1) }
            case 200 where request.range != nil && prefixMatches && request.path.hasSuffix(".m3u8"):
                // A playlist is small: some paths answer it whole.
                tally.withLockedValue { $0.whole += 1 }
            case 502, 503, 504:
                tally.withLockedValue { $0.refused += 1 }
            default:
                tally.withLockedValue { $0.wrong.append("\(request.path) \(String(describing: request.range)): status \(response.status)") }
                return
            }
        }
    }
}

extension RawHTTPConnection {
    /// One keep-alive GET on this connection: the status.
    func exchange(_ path: String) throws -> Int? {
        try send("GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n")
        return try readResponse()?.status
    }
}
