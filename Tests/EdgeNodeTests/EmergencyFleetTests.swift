import Foundation
import Manifest
import Testing
import TestSupport
@testable import EdgeNode

#if canImport(Glibc)
import Glibc
#endif

/// Emergency broadcast mode with real processes: an origin, two edges, two mesh nodes and a satellite, each an
/// `edgenode serve` on its own loopback address, flipped by `edgenode emergency` with an operator key.
@Suite(.serialized) struct EmergencyFleetTests {
    static let port = 18_700
    static let gossipPort = 17_700

    final class Fleet: @unchecked Sendable {
        struct Node {
            let name: String
            let role: String
            let latitude: Double
            let longitude: Double
            let parents: [String]
            let host = LoopbackAddress.next()
        }

        let directory: TemporaryDirectory
        let nodes: [Node]
        /// A viewer in Paris (ffmpeg, from 127.0.0.1, is one too).
        let viewer = LoopbackAddress.next()
        let operatorKey: String
        var servers: [String: ServerProcess] = [:]

        init(fixture: PublishedContent.Fixture, label: String) throws {
            directory = try TemporaryDirectory(label)
            nodes = [
                Node(name: "origin-1", role: "origin", latitude: 48.85, longitude: 2.35, parents: []),
                Node(name: "edge-paris", role: "edge", latitude: 48.86, longitude: 2.34, parents: ["origin-1"]),
                Node(name: "edge-berlin", role: "edge", latitude: 52.52, longitude: 13.40, parents: ["origin-1"]),
                Node(name: "mesh-lyon", role: "mesh", latitude: 45.76, longitude: 4.83, parents: ["mesh-turin", "origin-1"]),
                Node(name: "mesh-turin", role: "mesh", latitude: 45.07, longitude: 7.68, parents: ["mesh-lyon", "origin-1"]),
                Node(name: "sat-atlantic", role: "satellite", latitude: 0, longitude: -30, parents: ["origin-1"]),
            ]
            let keyring = directory.path + "/gossip.keyring"
            operatorKey = directory.path + "/operator"
            for arguments in [["gossip-key", "generate", "--keyring", keyring], ["operator", "keygen", "--out", operatorKey, "--name", "alice"]] {
                let made = try EdgeNodeBinary.run(arguments)
                guard made.status == 0 else { throw FixtureError(message: made.stderr) }
            }
            var text = """
                [fleet]
                name = "emergency-fleet"
                gossip_keyring = "\(keyring)"
                gossip_seeds = ["origin-1", "edge-paris"]
                operator_keys = ["\(operatorKey).pub"]

                [routing]
                recovery_seconds = 0

                [[zone]]
                name = "paris"
                networks = ["\(viewer)/32", "127.0.0.1/32"]
                latitude = 48.85
                longitude = 2.35

                """
            for node in nodes {
                text += """

                    [[node]]
                    name = "\(node.name)"
                    role = "\(node.role)"
                    region = "eu"
                    latitude = \(node.latitude)
                    longitude = \(node.longitude)
                    http = "\(node.host):\(EmergencyFleetTests.port)"
                    gossip = "\(node.host):\(EmergencyFleetTests.gossipPort)"
                    threads = 1

                    """
                if node.role == "origin" {
                    text += "content = \"\(fixture.root)\"\n"
                } else {
                    let parents = node.parents.map { "\"\($0)\"" }.joined(separator: ", ")
                    text += "content = \"\(directory.path)/\(node.name)\"\nparents = [\(parents)]\norigin_key = \"\(fixture.pubkey)\"\nprefetch = 0\n"
                }
            }
            try text.write(toFile: config, atomically: true, encoding: .utf8)
        }

        deinit { directory.remove() }

        var config: String { directory.path + "/nodes.conf" }

        func node(_ name: String) -> Node { nodes.first { $0.name == name }! }

        func base(_ name: String) -> String { "http://\(node(name).host):\(EmergencyFleetTests.port)" }

        func start(_ name: String) throws {
            servers[name] = try ServerProcess(EdgeNodeBinary.path, ["serve", "--config", config, "--node", name],
                                              host: node(name).host, port: EmergencyFleetTests.port)
        }

        func get(_ name: String, _ path: String, source: String? = nil, headers: [String] = []) throws -> RawResponse {
            try RawHTTPConnection.get(node(name).host, EmergencyFleetTests.port, path, headers: headers, source: source ?? viewer)
        }

        /// The flag `name` holds (nil when it does not answer).
        func emergency(_ name: String) -> EmergencyStatus? {
            guard let response = try? get(name, "/fleet/emergency"), response.status == 200 else { return nil }
            return try? JSONDecoder().decode(EmergencyStatus.self, from: Data(response.body))
        }

        /// `edgenode emergency ARGUMENTS --config … --key …`.
        func emergencyCommand(_ arguments: [String]) throws -> ProcessOutput {
            try EdgeNodeBinary.run(["emergency"] + arguments + ["--config", config] + (arguments.first == "status" ? [] : ["--key", operatorKey + ".key"]))
        }

        func metrics(_ name: String) -> String {
            (try? RawHTTPConnection.get(node(name).host, EmergencyFleetTests.port, "/metrics")).map { String(decoding: $0.body, as: UTF8.self) } ?? ""
        }

        /// The value of the metric line starting with `series` on `name` (0 when absent).
        func metric(_ name: String, _ series: String) -> Double {
            metrics(name).split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last!) } ?? 0
        }

        func allAlive(seenBy observers: [String]) -> Bool {
            observers.allSatisfy { observer in
                guard let response = try? get(observer, "/cluster"), response.status == 200,
                      let view = try? JSONDecoder().decode(ClusterSnapshot.self, from: Data(response.body)) else { return false }
                return view.members.count == nodes.count && view.members.allSatisfy { $0.status == "alive" }
            }
        }

        /// A flag signed by the fleet's operator (or `signer`).
        func flag(epoch: UInt64, on: Bool, fleet: String = "emergency-fleet", issuedAt: Int64 = Int64(Date().timeIntervalSince1970),
                  signer: NoteSigner? = nil) throws -> [UInt8] {
            let flag = try EmergencyFlag(fleet: fleet, epoch: epoch, on: on, issuedAt: issuedAt, reason: "test")
            return Array(try flag.signed(by: signer ?? KeyStore.loadSigner(path: operatorKey + ".key")).rendered.utf8)
        }

        func stopAll() {
            for server in servers.values { _ = server.stop(signal: SIGKILL) }
        }
    }

    static func eventually(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(50_000)
        }
        return condition()
    }

    /// ffmpeg copies the stream (no decoding) into an MD5 of every packet: equal digests, equal media bytes. Started
    /// as its own process at once (a task could wait for a thread while the suite's other tests hold them all).
    static func digest(_ url: String, realTime: Bool) throws -> RunningProcess {
        try ProcessRunner.start("ffmpeg", ["-v", "error", "-nostdin"] + (realTime ? ["-re"] : []) +
                                ["-i", url, "-map", "0:v:0", "-map", "0:a:0", "-c", "copy", "-f", "md5", "-"])
    }

    @Test func aFlipMovesViewersToMeshAndBackWhilePlaybackContinues() async throws {
        let fixture = try await PublishedContent.shared.fixture()
        let fleet = try Fleet(fixture: fixture, label: "emergency-flip")
        defer { fleet.stopAll() }
        for node in fleet.nodes { try fleet.start(node.name) }
        let names = fleet.nodes.map(\.name)
        #expect(Self.eventually(20) { fleet.allAlive(seenBy: names) }, "every node sees every other alive")
        #expect(names.allSatisfy { fleet.emergency($0)?.epoch == 0 }, "no flag yet")

        let master = "/content-ts/master.m3u8"
        let normal = try fleet.get("edge-berlin", master)
        #expect(normal.status == 302 && normal.header("Location")?.hasPrefix(fleet.base("edge-paris")) == true, "normal routing: the Paris edge")
        let reference = try Self.digest(fleet.base("origin-1") + master + "?edgenode_routed=1", realTime: false).wait(timeout: 90)
        #expect(reference.status == 0 && reference.stdout.hasPrefix("MD5="), "\(reference.stderr)")

        // A viewer in Paris plays in real time from a routing URL on the origin while the fleet flips on, then off.
        let playerStarted = Date()
        let player = try Self.digest(fleet.base("origin-1") + master, realTime: true)
        usleep(3_000_000)  // Blocking: no suspension point between the player's start and the flip.
        let flippedAt = Date()
        let on = try fleet.emergencyCommand(["on", "--reason", "hosting cut off", "--node", "mesh-lyon"])
        #expect(on.status == 0 && on.stdout.contains("mesh-lyon: took it, on at epoch 1"), "\(on.stdout) \(on.stderr)")
        #expect(Self.eventually(5) { names.allSatisfy { fleet.emergency($0)?.mode == "on" } }, "every node reports the flag")
        let spread = Date().timeIntervalSince(flippedAt)
        #expect(spread < 5, "reported everywhere \(spread) s after the command started")
        #expect(fleet.emergency("edge-berlin")?.signedBy == ["alice"] && fleet.emergency("origin-1")?.epoch == 1)

        // Viewers asking an edge or the origin, for a playlist or a segment, go to the nearest mesh node.
        let segment = try #require(try FileManager.default.contentsOfDirectory(atPath: fixture.root + "/content-ts/360p")
            .filter { $0.hasPrefix("seg_") }.sorted().last)
        for (node, path) in [("edge-berlin", master), ("edge-paris", master), ("edge-paris", "/content-ts/360p/" + segment),
                             ("origin-1", "/content-ts/360p/" + segment)] {
            let response = try fleet.get(node, path)
            #expect(response.status == 302 && response.header("Location") == fleet.base("mesh-lyon") + path + "?edgenode_routed=1",
                    "\(node) \(path): \(response.status) \(response.header("Location") ?? "")")
        }
        #expect(try fleet.get("mesh-lyon", "/content-ts/360p/" + segment).status == 200, "the mesh node serves its viewers")
        // A viewer cannot opt out of the move by writing the loop guard itself (the hostile run after issue 24).
        let optOut = try fleet.get("edge-paris", "/content-ts/360p/" + segment + "?edgenode_routed=1")
        #expect(optOut.status == 302 && optOut.header("Location") == fleet.base("mesh-lyon") + "/content-ts/360p/" + segment + "?edgenode_routed=1",
                "\(optOut.status) \(optOut.header("Location") ?? "")")
        let fillPath = "/content-ts/360p/" + segment
        let auth = FleetRequestAuth(keyring: try KeyringFile.load(fleet.directory.path + "/gossip.keyring"), nodes: Set(fleet.nodes.map(\.name)))
        let proof = auth.proof(node: "mesh-turin", path: fillPath, now: Int64(Date().timeIntervalSince1970))
        let fill = try fleet.get("edge-paris", fillPath, headers: ["Via: 1.1 mesh-turin", "\(FleetRequestAuth.field): \(proof)"])
        #expect(fill.status == 200, "an edge still answers the fleet's fills")
        #expect(try fleet.get("edge-paris", fillPath, headers: ["Via: 1.1 mesh-turin"]).status == 302,
                "a viewer writing a fleet node's Via is still a viewer (issue 24, 8)")
        let steering = try fleet.get("edge-paris", "/steering/content-ts")
        let priority = try #require(try JSONSerialization.jsonObject(with: Data(steering.body)) as? [String: Any])["PATHWAY-PRIORITY"] as? [String]
        #expect(priority?.prefix(3) == ["mesh-lyon", "mesh-turin", "sat-atlantic"], "steering puts mesh and satellite first: \(priority ?? [])")
        let route = try JSONDecoder().decode(RouteAnswer.self, from: Data(try fleet.get("origin-1", "/route/content-ts").body))
        #expect(route.emergency == "on" && Set(route.candidates.map(\.role)) == ["mesh", "satellite"])
        #expect(fleet.metric("edge-paris", "edgenode_emergency_mode") == 1 && fleet.metric("edge-paris", "edgenode_emergency_epoch") == 1)
        #expect(fleet.metric("edge-paris", "edgenode_emergency_signed_by{signer=\"alice\"}") == 1)
        #expect(fleet.metric("edge-paris", "edgenode_emergency_issued_timestamp_seconds") >= flippedAt.timeIntervalSince1970.rounded(.down) - 1)
        let status = try EdgeNodeBinary.run(["status", "--config", fleet.config, "--node", "sat-atlantic"])
        #expect(status.stdout.contains("emergency mode ON (epoch 1, signed by alice"), "\(status.stdout)")
        let listed = try fleet.emergencyCommand(["status"])
        #expect(listed.status == 0 && listed.stdout.split(separator: "\n").filter { $0.contains(" on ") }.count == names.count, "\(listed.stdout)")

        // Mesh nodes fill from each other first: mesh-turin takes a segment mesh-lyon holds from mesh-lyon.
        let before = fleet.metric("mesh-turin", "edgenode_cache_fill_bytes_total{parent=\"mesh-lyon\"}")
        #expect(try fleet.get("mesh-turin", "/content-ts/360p/" + segment + "?edgenode_routed=1").status == 200)
        #expect(fleet.metric("mesh-turin", "edgenode_cache_fill_bytes_total{parent=\"mesh-lyon\"}") > before, "filled from its mesh peer")

        // The player's next segment request (every ~6 s at real time) follows the move before the fleet flips back: to
        // mesh-lyon, or another mesh or satellite node if load has moved the choice (this test fetched only `segment`).
        func playerSegmentsAtMesh() -> [String] {
            ["mesh-lyon", "mesh-turin", "sat-atlantic"].flatMap { node in
                ((try? FileManager.default.contentsOfDirectory(atPath: fleet.directory.path + "/\(node)/content-ts/360p")) ?? [])
                    .filter { $0.hasPrefix("seg_") && $0 != segment }.map { node + "/" + $0 }
            }
        }
        #expect(Self.eventually(20) { !playerSegmentsAtMesh().isEmpty }, """
            the player fetched a segment through a mesh or satellite node; \(Date().timeIntervalSince(playerStarted)) s after it started; \
            caches: \(["edge-paris", "mesh-lyon", "mesh-turin", "sat-atlantic"].map { node in
                "\(node): \(((try? FileManager.default.contentsOfDirectory(atPath: fleet.directory.path + "/\(node)/content-ts/360p")) ?? []).sorted())"
            }); edge-paris routes it: \
            \((try? fleet.get("edge-paris", "/route/content-ts", source: "127.0.0.1")).map { String(decoding: $0.body, as: UTF8.self) } ?? "")
            """)
        let off = try fleet.emergencyCommand(["off", "--reason", "hosting restored"])
        #expect(off.status == 0 && off.stdout.contains("at epoch 2"), "\(off.stdout) \(off.stderr)")
        #expect(Self.eventually(5) { names.allSatisfy { fleet.emergency($0)?.mode == "off" && fleet.emergency($0)?.epoch == 2 } })
        #expect(Self.eventually(5) { (try? fleet.get("edge-paris", "/content-ts/360p/" + segment))?.status == 200 }, "normal routing again")
        #expect(try fleet.get("edge-berlin", master).header("Location")?.hasPrefix(fleet.base("edge-paris")) == true)
        #expect(fleet.metric("edge-berlin", "edgenode_emergency_flips_total") == 2)
        for name in names {
            let log = fleet.servers[name]?.log ?? ""
            #expect(log.contains("emergency broadcast mode ON") && log.contains("emergency broadcast mode OFF"), "\(name) logged both flips")
        }

        let played = player.wait(timeout: 90)
        #expect(played.status == 0 && played.stderr.isEmpty, "playback across both flips: \(played.stderr)")
        #expect(played.stdout == reference.stdout, "the bytes played are the origin's")

        // Bad flags posted to a node: each refused with its own status and reason, counted, and never spread.
        let stranger = try NoteSigner.generate(name: "alice")
        var tampered = String(decoding: try fleet.flag(epoch: 3, on: true), as: UTF8.self)
        tampered = tampered.replacingOccurrences(of: "\ntest\n", with: "\ntesT\n")
        let bad: [(String, [UInt8], Int, String)] = [
            ("bad_signature", Array(tampered.utf8), 403, "does not verify"),
            ("unknown_key", try fleet.flag(epoch: 3, on: true, signer: stranger), 403, "not signed by any operator key"),
            ("not_newer", try #require(fleet.emergency("edge-berlin")?.note).utf8.map { $0 }, 409, "not above the epoch held, 2"),
            ("not_newer", try fleet.flag(epoch: 1, on: true), 409, "flag epoch 1 is not above"),
            ("other_fleet", try fleet.flag(epoch: 3, on: true, fleet: "someone-else"), 403, "for fleet \"someone-else\""),
            ("clock_skew", try fleet.flag(epoch: 3, on: true, issuedAt: Int64(Date().timeIntervalSince1970) - 3_600), 422, "beyond the allowed skew"),
            ("too_large", Array(repeating: UInt8(ascii: "a"), count: 1_000), 413, "larger than 512"),
            ("malformed", Array("on, please".utf8), 400, "malformed flag"),
        ]
        for (_, body, status, says) in bad {
            let response = try RawHTTPConnection.post(fleet.node("edge-berlin").host, Self.port, "/fleet/emergency", body: body)
            let text = String(decoding: response.body, as: UTF8.self)
            #expect(response.status == status && text.contains(says), "\(status) \(says): got \(response.status) \(text)")
        }
        for (label, count) in Dictionary(bad.map { ($0.0, 1) }, uniquingKeysWith: +) {
            #expect(fleet.metric("edge-berlin", "edgenode_emergency_flags_refused_total{reason=\"\(label)\"}") == Double(count), "\(label)")
        }
        try await Task.sleep(for: .seconds(2))
        #expect(names.allSatisfy { fleet.emergency($0)?.epoch == 2 && fleet.emergency($0)?.mode == "off" }, "no refused flag reached gossip")
        #expect(names.allSatisfy { fleet.metric($0, "edgenode_gossip_records_rejected_total") == 0 }, "nor was one ever gossiped")
    }

    /// nft rules that cut one host's gossip (UDP) off from the rest; HTTP still flows. Removed by `heal`.
    struct GossipPartition {
        static let table = "edgenode_test_partition"

        init(isolating host: String, port: Int) throws {
            let script = """
                table inet \(Self.table) {
                    chain input {
                        type filter hook input priority 0; policy accept;
                        ip saddr \(host) udp dport \(port) drop
                        ip daddr \(host) udp dport \(port) drop
                    }
                }
                """
            let result = try ProcessRunner.run("nft", ["-f", "-"], input: Data(script.utf8))
            guard result.status == 0 else { throw FixtureError(message: "nft (root and the nftables package are needed): \(result.stderr)") }
        }

        func heal() {
            _ = try? ProcessRunner.run("nft", ["delete", "table", "inet", Self.table])
        }
    }

    @Test func nodesDownOrPartitionedDuringAFlipComeBackInTheModeInForce() async throws {
        let fixture = try await PublishedContent.shared.fixture()
        let fleet = try Fleet(fixture: fixture, label: "emergency-missed")
        defer { fleet.stopAll() }
        for node in fleet.nodes { try fleet.start(node.name) }
        let names = fleet.nodes.map(\.name)
        #expect(Self.eventually(20) { fleet.allAlive(seenBy: names) }, "every node sees every other alive")

        // edge-berlin is killed and mesh-turin cut off from gossip; the flip is handed to the origin alone.
        _ = fleet.servers["edge-berlin"]?.stop(signal: SIGKILL)
        let partition = try GossipPartition(isolating: fleet.node("mesh-turin").host, port: Self.gossipPort)
        defer { partition.heal() }
        let on = try fleet.emergencyCommand(["on", "--reason", "drill", "--node", "origin-1"])
        #expect(on.status == 0, "\(on.stdout) \(on.stderr)")
        let reachable = ["origin-1", "edge-paris", "mesh-lyon", "sat-atlantic"]
        #expect(Self.eventually(5) { reachable.allSatisfy { fleet.emergency($0)?.mode == "on" } }, "the connected nodes flip")
        try await Task.sleep(for: .seconds(2))
        #expect(fleet.emergency("mesh-turin")?.epoch == 0, "the partitioned node has not heard of it")

        // Restarted while the others hold the flag: in emergency mode from its first answer.
        try fleet.start("edge-berlin")
        #expect(fleet.emergency("edge-berlin")?.mode == "on", "adopted before it served")
        let first = try fleet.get("edge-berlin", "/content-ts/master.m3u8")
        #expect(first.status == 302 && first.header("Location")?.hasPrefix(fleet.base("mesh-lyon")) == true,
                "its first viewer goes to a mesh node: \(first.status) \(first.header("Location") ?? "")")

        // The partition heals: mesh-turin converges (anti-entropy) without anyone posting to it.
        partition.heal()
        #expect(Self.eventually(40) { fleet.emergency("mesh-turin")?.mode == "on" }, "the partitioned node converged")

        // Every mesh and satellite node leaves: an edge serves its viewers rather than black-holing them, and says so.
        for name in ["mesh-lyon", "mesh-turin", "sat-atlantic"] { _ = fleet.servers[name]?.stop(signal: SIGTERM) }
        #expect(Self.eventually(10) { (try? fleet.get("edge-paris", "/content-ts/master.m3u8"))?.status == 200 })
        let degraded = try fleet.get("edge-paris", "/content-ts/master.m3u8")
        #expect(degraded.status == 200 && degraded.header("X-Emergency") == "degraded", "\(degraded.status) \(degraded.header("X-Emergency") ?? "none")")
        let segment = try fleet.get("edge-paris", "/content-ts/360p/" + (try #require(try FileManager.default.contentsOfDirectory(
            atPath: fixture.root + "/content-ts/360p").filter { $0.hasPrefix("seg_") }.min())))
        #expect(segment.status == 200 && segment.header("X-Emergency") == "degraded", "a miss filled from the origin says so too")
        #expect(fleet.metric("edge-paris", "edgenode_emergency_degraded_responses_total") >= 2)
        #expect(fleet.servers["edge-paris"]?.log.contains("no mesh or satellite node is healthy") == true, "and says so in its log")

        // Killed with the rest and restarted alone: back in the mode it kept.
        for name in names { _ = fleet.servers[name]?.stop(signal: SIGKILL) }
        try fleet.start("edge-paris")
        #expect(fleet.emergency("edge-paris")?.mode == "on" && fleet.emergency("edge-paris")?.epoch == 1, "alone, in the mode it kept")
    }
}
