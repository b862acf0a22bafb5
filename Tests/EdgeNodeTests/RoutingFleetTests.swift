import Foundation
import Testing
import Routing
import TestSupport
@testable import EdgeNode

#if canImport(Glibc)
import Glibc
#endif

/// Six real `edgenode serve` processes in three regions (an origin and two edges in Europe, two edges in North
/// America, one in Asia), viewers placed by coverage zone on their own loopback addresses: every node sends each
/// viewer to its nearest edge, ffmpeg plays a routing URL to the end, a killed edge loses its viewers within the
/// detection bound, and gets them back once it has been alive for `recovery_seconds`.
@Suite(.serialized) struct RoutingFleetTests {
    static let port = 18_600
    static let gossipPort = 17_600
    static let recoverySeconds = 5.0

    struct Node {
        let name: String
        let role: String
        let region: String
        let latitude: Double
        let longitude: Double
        let host = LoopbackAddress.next()
    }

    final class Fleet: @unchecked Sendable {
        let directory: TemporaryDirectory
        let nodes: [Node]
        let viewers: [String: String]
        var servers: [String: ServerProcess] = [:]

        init(fixture: PublishedContent.Fixture) throws {
            directory = try TemporaryDirectory("routing-fleet")
            nodes = [
                Node(name: "origin-1", role: "origin", region: "eu", latitude: 48.85, longitude: 2.35),
                Node(name: "edge-paris", role: "edge", region: "eu", latitude: 48.86, longitude: 2.34),
                Node(name: "edge-berlin", role: "edge", region: "eu", latitude: 52.52, longitude: 13.40),
                Node(name: "edge-nyc", role: "edge", region: "us", latitude: 40.71, longitude: -74.01),
                Node(name: "edge-chicago", role: "edge", region: "us", latitude: 41.88, longitude: -87.63),
                Node(name: "edge-tokyo", role: "edge", region: "ap", latitude: 35.68, longitude: 139.69),
            ]
            viewers = ["paris": LoopbackAddress.next(), "berlin": LoopbackAddress.next(), "nyc": LoopbackAddress.next(),
                       "tokyo": LoopbackAddress.next()]
            let keyring = directory.path + "/gossip.keyring"
            let generated = try EdgeNodeBinary.run(["gossip-key", "generate", "--keyring", keyring])
            guard generated.status == 0 else { throw FixtureError(message: generated.stderr) }
            var text = """
                [fleet]
                name = "routing-fleet"
                gossip_keyring = "\(keyring)"
                gossip_seeds = ["origin-1", "edge-paris"]

                [routing]
                recovery_seconds = \(RoutingFleetTests.recoverySeconds)

                """
            let zones: [(String, [String], Double, Double)] = [
                ("paris", [viewers["paris"]!], 48.85, 2.35), ("berlin", [viewers["berlin"]!], 52.52, 13.40),
                // ffmpeg connects from 127.0.0.1: a viewer in New York.
                ("nyc", [viewers["nyc"]!, "127.0.0.1"], 40.71, -74.01), ("tokyo", [viewers["tokyo"]!], 35.68, 139.69),
            ]
            for (name, addresses, latitude, longitude) in zones {
                let networks = addresses.map { "\"\($0)/32\"" }.joined(separator: ", ")
                text += "\n[[zone]]\nname = \"\(name)\"\nnetworks = [\(networks)]\nlatitude = \(latitude)\nlongitude = \(longitude)\n"
            }
            for node in nodes {
                text += """

                    [[node]]
                    name = "\(node.name)"
                    role = "\(node.role)"
                    region = "\(node.region)"
                    latitude = \(node.latitude)
                    longitude = \(node.longitude)
                    http = "\(node.host):\(RoutingFleetTests.port)"
                    gossip = "\(node.host):\(RoutingFleetTests.gossipPort)"
                    threads = 1

                    """
                if node.role == "origin" {
                    text += "content = \"\(fixture.root)\"\n"
                } else {
                    text += "content = \"\(directory.path)/\(node.name)\"\nparents = [\"origin-1\"]\norigin_key = \"\(fixture.pubkey)\"\nprefetch = 0\n"
                }
            }
            try text.write(toFile: config, atomically: true, encoding: .utf8)
        }

        deinit { directory.remove() }

        var config: String { directory.path + "/nodes.conf" }

        func node(_ name: String) -> Node { nodes.first { $0.name == name }! }

        func start(_ name: String) throws {
            servers[name] = try ServerProcess(EdgeNodeBinary.path, ["serve", "--config", config, "--node", name],
                                              host: node(name).host, port: RoutingFleetTests.port)
        }

        /// Where `node` sends `viewer` for the content (nil if it does not answer).
        func route(at node: String, viewer: String) -> RouteAnswer? {
            guard let response = try? RawHTTPConnection.get(self.node(node).host, RoutingFleetTests.port, "/route/content-ts", source: viewer),
                  response.status == 200 else { return nil }
            return try? JSONDecoder().decode(RouteAnswer.self, from: Data(response.body))
        }

        /// How `observer` sees `target` in its gossip view.
        func status(of target: String, seenBy observer: String) -> String? {
            guard let response = try? RawHTTPConnection.get(node(observer).host, RoutingFleetTests.port, "/cluster"), response.status == 200,
                  let view = try? JSONDecoder().decode(ClusterSnapshot.self, from: Data(response.body)) else { return nil }
            return view.members.first { $0.name == target }?.status
        }

        /// Cached segment files of the node, by variant directory.
        func cachedSegments(_ name: String) -> Set<String> {
            let root = directory.path + "/" + name + "/content-ts"
            guard let variants = try? FileManager.default.contentsOfDirectory(atPath: root) else { return [] }
            var found: Set<String> = []
            for variant in variants {
                for file in (try? FileManager.default.contentsOfDirectory(atPath: root + "/" + variant)) ?? [] where file.hasPrefix("seg_") {
                    found.insert(variant + "/" + file)
                }
            }
            return found
        }
    }

    static func eventually(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(100_000)
        }
        return condition()
    }

    static func play(_ url: String) throws -> ProcessOutput {
        try ProcessRunner.run("ffmpeg", ["-v", "error", "-nostdin", "-i", url, "-map", "0:v:0", "-map", "0:a:0", "-f", "null", "-"])
    }

    @Test func viewersFollowTheNearestHealthyEdgeAcrossAKillAndARestart() async throws {
        let fixture = try await PublishedContent.shared.fixture()
        let fleet = try Fleet(fixture: fixture)
        for node in fleet.nodes { try fleet.start(node.name) }
        let expected = ["paris": "edge-paris", "berlin": "edge-berlin", "nyc": "edge-nyc", "tokyo": "edge-tokyo"]
        // Once every node has been alive for recovery_seconds (until then all rank as recovering, nearest first).
        #expect(Self.eventually(30) {
            fleet.nodes.allSatisfy { observer in
                expected.allSatisfy { zone, node in
                    let first = fleet.route(at: observer.name, viewer: fleet.viewers[zone]!)?.candidates.first
                    return first?.name == node && first?.reason != RoutingPolicy.Reason.recovering.rawValue
                }
            }
        }, "every node routes every zone's viewers to the zone's edge")

        // A playlist asked of any node is redirected once, to the viewer's edge.
        let master = "/content-ts/master.m3u8"
        for node in fleet.nodes {
            for (zone, target) in expected {
                let response = try RawHTTPConnection.get(node.host, Self.port, master, source: fleet.viewers[zone]!)
                if node.name == target {
                    #expect(response.status == 200, "\(node.name) serves its own viewers from \(zone)")
                } else {
                    #expect(response.status == 302 && response.header("Location") == "http://\(fleet.node(target).host):\(Self.port)\(master)?edgenode_routed=1",
                            "\(node.name) sends \(zone) to \(target): \(response.status) \(response.header("Location") ?? "")")
                }
            }
        }

        // ffmpeg (a viewer in New York) follows the redirect from the origin and plays the stream to the end from
        // the New York edge.
        let routingURL = "http://\(fleet.node("origin-1").host):\(Self.port)\(master)"
        let played = try Self.play(routingURL)
        #expect(played.status == 0 && played.stderr.isEmpty, "\(played.stderr)")
        let variant = try #require(fleet.cachedSegments("edge-nyc").first?.split(separator: "/").first.map(String.init))
        let allSegments = try FileManager.default.contentsOfDirectory(atPath: fixture.root + "/content-ts/" + variant).filter { $0.hasPrefix("seg_") }
        #expect(Set(allSegments.map { variant + "/" + $0 }).isSubset(of: fleet.cachedSegments("edge-nyc")),
                "every segment of the played variant went through edge-nyc")
        #expect(fleet.cachedSegments("edge-chicago").isEmpty && fleet.cachedSegments("edge-paris").isEmpty)

        // kill -9 the New York edge: every node routes its viewers to Chicago within the detection bound.
        let killedAt = Date()
        fleet.servers["edge-nyc"]?.stop(signal: SIGKILL)
        let survivors = fleet.nodes.map(\.name).filter { $0 != "edge-nyc" }
        #expect(Self.eventually(15) {
            survivors.allSatisfy { fleet.route(at: $0, viewer: fleet.viewers["nyc"]!)?.candidates.first?.name == "edge-chicago" }
        }, "every node routes New York to Chicago")
        let failover = Date().timeIntervalSince(killedAt)
        #expect(failover < 15, "failover took \(failover) s")
        let replayed = try Self.play(routingURL)
        #expect(replayed.status == 0 && replayed.stderr.isEmpty, "a new session plays from the next edge: \(replayed.stderr)")
        #expect(fleet.cachedSegments("edge-chicago").contains { $0.hasPrefix(variant + "/") }, "served by edge-chicago")

        // Restarted, it is routed to again only once it has been alive for recovery_seconds: no node may name it
        // sooner after the restart (gossip cannot see it alive before its process starts), and every node does after.
        let restartedAt = Date()
        try fleet.start("edge-nyc")
        var firstNamed: Date?
        let regainedAll = Self.eventually(Self.recoverySeconds + 15) {
            let choices = survivors.map { fleet.route(at: $0, viewer: fleet.viewers["nyc"]!)?.candidates.first?.name }
            if firstNamed == nil, choices.contains("edge-nyc") { firstNamed = Date() }
            return choices.allSatisfy { $0 == "edge-nyc" }
        }
        #expect(regainedAll, "once recovered, New York's viewers go back to edge-nyc")
        let soonest = firstNamed.map { $0.timeIntervalSince(restartedAt) } ?? 0
        #expect(soonest >= Self.recoverySeconds, "first routed to \(soonest) s after the restart")
        let back = try RawHTTPConnection.get(fleet.node("origin-1").host, Self.port, master, source: fleet.viewers["nyc"]!)
        #expect(back.header("Location")?.hasPrefix("http://\(fleet.node("edge-nyc").host):\(Self.port)/") == true)
    }
}
