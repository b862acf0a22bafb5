import Foundation
import Gossip
import Logging
import Testing
import TestSupport
@testable import EdgeNode

/// Nodes assembled by `NodeRuntime` inside the test process: an origin and an edge, gossiping, the edge filling from
/// the origin; the typed state shows the cluster; a parent gossip reports dead is skipped without waiting for a
/// timeout; each runtime stops on cancellation.
@Suite(.serialized) struct NodeRuntimeTests {
    static func fleet(directory: TemporaryDirectory, fixture: PublishedContent.Fixture, origin: String, edge: String,
                      parents: [String] = ["origin-1"], extra: String = "") throws -> NodesConfig {
        let keyring = directory.path + "/gossip.keyring"
        try KeyringFile.save(Keyring(primary: KeyringFile.generateKey()), to: keyring, replace: false)
        let text = """
            [fleet]
            name = "runtime"
            gossip_keyring = "\(keyring)"

            [[node]]
            name = "origin-1"
            role = "origin"
            region = "eu"
            latitude = 48.85
            longitude = 2.35
            http = "\(origin):18400"
            gossip = "\(origin):17400"
            content = "\(fixture.root)"
            threads = 1

            [[node]]
            name = "edge-1"
            role = "edge"
            region = "eu"
            latitude = 48.86
            longitude = 2.34
            http = "\(edge):18400"
            gossip = "\(edge):17400"
            content = "\(directory.path)/cache"
            parents = [\(parents.map { "\"\($0)\"" }.joined(separator: ", "))]
            origin_key = "\(fixture.pubkey)"
            threads = 1
            prefetch = 0
            upstream_timeout = 30

            \(extra)
            """
        return try NodesConfig.parse(text, path: directory.path + "/nodes.conf", baseDirectory: directory.path)
    }

    @Test func twoNodesInOneProcess() async throws {
        let fixture = try await PublishedContent.shared.fixture()
        let directory = try TemporaryDirectory("runtime")
        defer { directory.remove() }
        let originHost = LoopbackAddress.next(), edgeHost = LoopbackAddress.next()
        let config = try Self.fleet(directory: directory, fixture: fixture, origin: originHost, edge: edgeHost)
        let logger = Logger(label: "runtime-test")
        let origin = try NodeRuntime(config: config, node: "origin-1", logger: logger)
        let edge = try NodeRuntime(config: config, node: "edge-1", logger: logger)
        #expect(edge.state.role == .edge && edge.state.gossips)
        let originTask = Task(executorPreference: DispatchTaskExecutor.shared) { try await origin.run() }
        let edgeTask = Task(executorPreference: DispatchTaskExecutor.shared) { try await edge.run() }
        defer {
            originTask.cancel()
            edgeTask.cancel()
        }
        let together = await Self.eventually(20) {
            edge.state.cluster?.members.filter { $0.status == .alive }.map(\.name) == ["edge-1", "origin-1"]
        }
        #expect(together, "the edge sees both nodes alive: \(String(describing: edge.state.cluster?.members.map { ($0.name, $0.status) }))")
        // A gossiping node listens once it has merged a seed's state (at most 2 s after it starts).
        let listening = await Self.eventually(10) { Self.listening(originHost, 18400) && Self.listening(edgeHost, 18400) }
        #expect(listening, "both listen once the edge has merged the origin's state")
        #expect(edge.state.cluster?.members.first { $0.name == "origin-1" }?.role == .origin)

        let segment = try FileManager.default.contentsOfDirectory(atPath: fixture.root + "/content-ts/360p").filter { $0.hasPrefix("seg_") }.sorted()[0]
        let path = "/content-ts/360p/" + segment
        let expected = [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixture.root + path)))
        let response = try RawHTTPConnection.get(edgeHost, 18400, path)
        #expect(response.status == 200 && response.body == expected && response.header("X-Cache") == "MISS")
        #expect(edge.state.traffic.bodyBytes >= UInt64(expected.count), "the edge's running totals count what it sent")
        #expect(origin.state.traffic.bodyBytes >= UInt64(expected.count))
        let cluster = try RawHTTPConnection.get(edgeHost, 18400, "/cluster")
        let snapshot = try JSONDecoder().decode(ClusterSnapshot.self, from: Data(cluster.body))
        #expect(snapshot.node == "edge-1" && snapshot.members.count == 2)

        edgeTask.cancel()
        let ended = await edgeTask.result
        if case .failure(let error) = ended { #expect(error is CancellationError, "\(error)") }
    }

    /// The edge's first parent accepts connections and never answers (a hung host), and gossip reports it dead: fills
    /// go to the next parent at once instead of waiting out the 30 s upstream timeout.
    @Test func aParentGossipReportsDeadIsSkipped() async throws {
        let fixture = try await PublishedContent.shared.fixture()
        let directory = try TemporaryDirectory("runtime-dead-parent")
        defer { directory.remove() }
        let originHost = LoopbackAddress.next(), edgeHost = LoopbackAddress.next(), hungHost = LoopbackAddress.next()
        let hung = """
            [[node]]
            name = "hung-1"
            role = "edge"
            region = "eu"
            latitude = 48.87
            longitude = 2.33
            http = "\(hungHost):18400"
            gossip = "\(hungHost):17400"
            content = "\(directory.path)/hung"
            parents = ["origin-1"]
            origin_key = "\(fixture.pubkey)"
            """
        let config = try Self.fleet(directory: directory, fixture: fixture, origin: originHost, edge: edgeHost, parents: ["hung-1", "origin-1"],
                                    extra: hung)
        let proxy = try ParentProxy(listen: hungHost, port: 18400, upstreamHost: originHost, upstreamPort: 18400)
        proxy.fault = .init(kind: .delay(milliseconds: 120_000), pathContains: "/")
        let logger = Logger(label: "runtime-test")
        let origin = try NodeRuntime(config: config, node: "origin-1", logger: logger)
        let edge = try NodeRuntime(config: config, node: "edge-1", logger: logger)
        let originTask = Task(executorPreference: DispatchTaskExecutor.shared) { try await origin.run() }
        let edgeTask = Task(executorPreference: DispatchTaskExecutor.shared) { try await edge.run() }
        defer {
            originTask.cancel()
            edgeTask.cancel()
        }
        #expect(await Self.eventually(20) { edge.state.isDown("hung-1") }, "gossip declares the silent member dead")
        let segment = try FileManager.default.contentsOfDirectory(atPath: fixture.root + "/content-ts/360p").filter { $0.hasPrefix("seg_") }.sorted()[2]
        let path = "/content-ts/360p/" + segment
        let started = Date()
        let response = try RawHTTPConnection.get(edgeHost, 18400, path)
        let expected = [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixture.root + path)))
        #expect(response.status == 200 && response.body == expected)
        #expect(Date().timeIntervalSince(started) < 5, "filled from the origin without waiting on the hung parent")
        #expect(proxy.requests(containing: segment) == 0, "the dead parent was not asked first")
    }

    /// Whether a node's data plane answers `/healthz` at `host:port`.
    static func listening(_ host: String, _ port: Int) -> Bool {
        (try? RawHTTPConnection.get(host, port, "/healthz"))?.status == 200
    }

    static func eventually(_ seconds: Double, _ condition: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return condition()
    }
}
